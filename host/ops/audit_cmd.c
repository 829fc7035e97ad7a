/* audit_cmd.c: `bourse audit STATE_DIR [filters]`: reads the archive, the
 * live journal and the session stores of a state directory (audit_read.c),
 * then links, orders, filters and prints the rows (audit.c). Read only: the
 * gateway may be running. docs/operations.md, "Audit". */
#include "ops/audit_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "fix/codec.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse audit STATE_DIR [--order ID] [--client-order ID] [--session NAME]\n"
            "                    [--since T] [--until T] [--format csv|json]\n"
            "                    [--mem-limit SIZE] [--spill-dir DIR]\n\n"
            "What happened to each order `bourse serve` handled, from its state directory\n"
            "(the order journal and the session stores; read only, never changed): received,\n"
            "risk refusals, venue acknowledgement, fills, cancels, replaces, rejects, expiries,\n"
            "with times, session, venue and reason. Only what was committed counts (the cut\n"
            "a restart makes), so it is consistent after a crash.\n\n"
            "  --order ID          one order, by OrderID (37)\n"
            "  --client-order ID   the order any of whose ClOrdIDs (11, 41) is ID\n"
            "  --session NAME      the client's CompID\n"
            "  --since/--until T   events in [since, until]: 2026-12-06T14:00:00Z,\n"
            "                      20261206-14:00:00 or ns since the epoch\n"
            "  --format csv|json   csv (default): one row per event; json: one object per\n"
            "                      order with its events\n"
            "  --mem-limit SIZE    memory for the rows (default 256M; K, M, G or bytes, at\n"
            "                      least 64K): past about half of it, rows are sorted\n"
            "                      through temporary files (same output)\n"
            "  --spill-dir DIR     where those go (default $TMPDIR, else /tmp): unlinked\n"
            "                      files, up to about 500 bytes a row, gone at exit\n");
}

static int parse_when(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end) {
        *out = v;
        return 0;
    }
    /* 2026-12-06T14:00:00[.sss][Z] -> 20261206-14:00:00[.sss] */
    char b[40];
    size_t k = 0;
    for (const char *p = s; *p && k < sizeof b - 1; p++) {
        if (*p == '-' && (p - s == 4 || p - s == 7))
            continue;
        if (*p == 'T' || *p == ' ')
            b[k++] = '-';
        else if (*p != 'Z')
            b[k++] = *p;
    }
    b[k] = 0;
    int64_t ns;
    if (brs__fix_parse_time(b, k, &ns) != 0)
        return -1;
    *out = ns;
    return 0;
}

/* 256M, 64K, 1G or bytes. */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || *s == '-')
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)v << shift;
    return 0;
}

#define AUDIT_MEM_DEFAULT ((size_t)256 << 20)
#define AUDIT_MEM_MIN ((size_t)64 << 10)

int brs__cmd_audit(int argc, char **argv)
{
    const char *dir = NULL, *format = "csv", *spill_dir = NULL;
    size_t mem_limit = AUDIT_MEM_DEFAULT;
    brs__aud_filter f = {.since = INT64_MIN, .until = INT64_MAX};
    for (int i = 1; i < argc; i++) {
        const char *x = argv[i];
        if (brs__is_help(x)) {
            usage(stdout);
            return BRS_EXIT_OK;
        }
        if (!strcmp(x, "--order") || !strcmp(x, "--client-order") || !strcmp(x, "--session") ||
            !strcmp(x, "--since") || !strcmp(x, "--until") || !strcmp(x, "--format") ||
            !strcmp(x, "--mem-limit") || !strcmp(x, "--spill-dir")) {
            if (i + 1 >= argc)
                return brs__usage_error("audit", "%s needs a value", x);
            const char *v = argv[++i];
            if (!strcmp(x, "--order"))
                f.order = v;
            else if (!strcmp(x, "--client-order"))
                f.clordid = v;
            else if (!strcmp(x, "--session"))
                f.session = v;
            else if (!strcmp(x, "--spill-dir"))
                spill_dir = v;
            else if (!strcmp(x, "--mem-limit")) {
                if (parse_size(v, &mem_limit) != 0 || mem_limit < AUDIT_MEM_MIN)
                    return brs__usage_error("audit", "--mem-limit: '%s', expected a size of at least 64K (256M, 1G)",
                                            v);
            }
            else if (!strcmp(x, "--format")) {
                if (strcmp(v, "csv") && strcmp(v, "json"))
                    return brs__usage_error("audit", "--format: '%s', expected csv or json", v);
                format = v;
            } else if (parse_when(v, !strcmp(x, "--since") ? &f.since : &f.until) != 0)
                return brs__usage_error("audit", "%s: '%s' is not a time (2026-12-06T14:00:00Z or ns)", x, v);
        } else if (x[0] == '-' && x[1]) {
            return brs__unknown_option("audit", x, usage);
        } else if (!dir) {
            dir = x;
        } else {
            return brs__usage_error("audit", "unexpected argument '%s'", x);
        }
    }
    if (!dir)
        return brs__usage_error("audit", "missing STATE_DIR (serve.json's state_dir)");
    audit a = {0};
    brs_error err = {0};
    int code = BRS_EXIT_FAIL;
    char path[4096];
    mapped j = {0};
    DIR *d = NULL;
    if (!spill_dir)
        spill_dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    brs__aud_spill *sp = brs__aud_spill_new(&a, mem_limit, spill_dir);
    a.msg = malloc(sizeof *a.msg);
    if (!a.msg || !sp) {
        brs__fail("audit", "out of memory");
        goto done;
    }
    brs__fix_msg_init(a.msg);
    /* history compacted away from the live files (STATE_DIR/archive/, issue 15:
     * whole old journals, old stores renamed at a sequence reset), oldest first */
    if (brs__aud_read_archive(&a, dir, &err) != BRS_OK) {
        brs__fail("audit", "%s", err.msg);
        goto done;
    }
    snprintf(path, sizeof path, "%s/orders.journal", dir);
    if (brs__aud_map_file(path, &j, &err) != BRS_OK) {
        brs__fail("audit", "%s (is %s a state_dir of bourse serve?)", err.msg, dir);
        goto done;
    }
    size_t jend = 0;
    if (brs__aud_journal_commit(&a, &j, path, &jend, &err) != BRS_OK) {
        brs__fail("audit", "%s", err.msg);
        goto done;
    }
    if (brs__aud_read_journal(&a, &j, jend, &err) != BRS_OK) {
        brs__fail("audit", "%s: %s", path, err.msg);
        goto done;
    }
    brs__aud_unmap_file(&j); /* the rows have their own copies */
    j = (mapped){0};
    if (!(d = opendir(dir))) {
        brs__fail("audit", "%s: %s", dir, strerror(errno));
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!brs__aud_has_suffix(de->d_name, ".store"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (brs__aud_read_store(&a, path, brs__aud_keep_name(&a, de->d_name), 0, &err) != BRS_OK) {
            brs__fail("audit", "%s", err.msg);
            goto done;
        }
    }
    if (a.oom) {
        brs__fail("audit", "out of memory keeping the text of %zu rows (%zu bytes)", a.n, a.text_len);
        goto done;
    }
    if (!brs__aud_spilled(sp) && brs__aud_build(&a) != BRS_OK) {
        brs__fail("audit", "out of memory linking %zu rows", a.n);
        goto done;
    }
    if (a.cut_journal || a.cut_store)
        fprintf(stderr, "audit: left out what was never committed: %llu journal bytes, %llu store bytes\n",
                (unsigned long long)a.cut_journal, (unsigned long long)a.cut_store);
    if (brs__aud_spilled(sp)) {
        /* spill errors come before the first byte of output; a failure while
         * printing says so: the output is not whole */
        if (brs__aud_spill_print(sp, &f, !strcmp(format, "json"), stdout, &err) != 0) {
            brs__fail("audit", "%s", err.msg);
            goto done;
        }
        code = BRS_EXIT_OK;
    } else {
        code = brs__aud_print(&a, &f, !strcmp(format, "json"), stdout) == 0 ? BRS_EXIT_OK : BRS_EXIT_FAIL;
    }
done:
    brs__aud_spill_free(sp);
    if (d)
        closedir(d);
    brs__aud_unmap_file(&j);
    brs__aud_free(&a);
    return code;
}
