/* format.c: pieces of the tick format shared by writer and reader: the names
 * of event kinds used on the command line and in CSV/JSON. (The CRC-32C that
 * guards headers, index and footer is core/crc32c.c's; zstd's own checksum
 * guards the frames.) */
#include "tickfile.h"

#include <string.h>

static const char *const kind_names[BRS_MEV_KIND_COUNT_] = {
    "none", "add", "cancel", "modify", "execute", "level_set", "level_delete",
    "trade", "quote", "bar", "status", "snapshot_begin", "snapshot_end",
};

const char *brs__mev_kind_name(int kind)
{
    if (kind < 0 || kind >= BRS_MEV_KIND_COUNT_)
        return "unknown";
    return kind_names[kind];
}

int brs__mev_kind_parse(const char *name)
{
    for (int k = 1; k < BRS_MEV_KIND_COUNT_; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}
