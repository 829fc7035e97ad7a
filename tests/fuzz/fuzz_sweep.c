/* fuzz_sweep.c: libFuzzer target for `bourse sweep`'s command-line grammar:
 * the axes ("NAME=V1,V2" or "NAME=START:STOP[:STEP]", mixed) and the --where
 * expression (comparisons, arithmetic, and/or/not, parentheses, axis names),
 * then the selection (--samples, --shard) and the run names. Any text must
 * give a grid or an error saying why, never a crash, a hang or an unbounded
 * allocation. Input: lines; a line starting "where " is the --where text, the
 * others are axes; the first byte picks --samples and --shard. Built with
 * clang by `make fuzz-sweep`; tests/fuzz/CMakeLists.txt runs the seeds
 * (tests/fuzz/corpus-sweep) through it as an ordinary test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    uint8_t pick = data[0];
    char *text = malloc(size);
    need(text != NULL);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    brs__sweep_grid g;
    memset(&g, 0, sizeof g);
    const char *where = NULL;
    int ok = 1;
    brs_error err = {0};
    for (char *line = text, *next; line && ok; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (!strncmp(line, "where ", 6)) {
            where = line + 6;
        } else if (*line) {
            memset(&err, 0, sizeof err);
            if (brs__sweep_axis_add(&g, line, &err) != BRS_OK) {
                need(err.msg[0] != 0); /* a refusal says why */
                ok = 0;
            }
        }
    }
    brs__sweep_expr *e = NULL;
    if (ok && where) {
        memset(&err, 0, sizeof err);
        if (brs__sweep_where_parse(&e, where, &g, &err) != BRS_OK) {
            need(err.msg[0] != 0 && e == NULL);
            ok = 0;
        }
    }
    /* the selection walks the whole grid (up to BRS__SWEEP_MAX_GRID, a
     * documented limit): kept small here so each input stays quick */
    if (ok && g.n_ax > 0 && g.total <= 100000) {
        uint64_t *ids = NULL, n = 0;
        int shard_n = pick & 3, shard_i = shard_n ? 1 + ((pick >> 2) & 3) % shard_n : 0;
        uint64_t samples = (pick >> 4) & 7;
        memset(&err, 0, sizeof err);
        if (brs__sweep_select(&g, e, samples, pick, shard_i, shard_n, &ids, &n, &err) == BRS_OK) {
            char name[4096];
            int idx[BRS__SWEEP_MAX_AXES];
            for (uint64_t k = 0; k < n && k < 64; k++) {
                need(ids[k] < g.total);
                brs__sweep_decode(&g, ids[k], idx);
                for (int a = 0; a < g.n_ax; a++)
                    need(idx[a] >= 0 && idx[a] < g.ax[a].n);
                brs__sweep_name(&g, ids[k], name, sizeof name);
                need(strlen(name) < sizeof name);
            }
        } else {
            need(err.msg[0] != 0);
        }
        free(ids);
    }
    brs__sweep_where_free(e);
    brs__sweep_grid_free(&g);
    free(text);
    return 0;
}
