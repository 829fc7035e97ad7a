/* format.c: pieces of the tick format shared by writer and reader: the CRC-32C
 * that guards headers, index and footer (zstd's own checksum guards the frames),
 * and the names of event kinds used on the command line and in CSV/JSON. */
#include "tickfile.h"

#include <string.h>

static uint32_t crc_table[8][256];
static int crc_ready;

/* Slicing-by-8 CRC-32C (Castagnoli, reflected 0x82F63B78). Headers are tiny, so
 * speed hardly matters, but verify also runs it over the index. */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
    __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t brs__crc32c(uint32_t crc, const void *data, size_t len)
{
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
        crc_init(); /* idempotent: racing threads compute the same table */
    const unsigned char *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        lo ^= crc;
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^
              crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

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
