/* bars.c: the bars of a signal backtest, from a tick file (its BAR events) or
 * a Yahoo-style daily CSV read by the ticks importer's Yahoo parser. */
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "core/core.h"
#include "ticks/import.h"
#include "ticks/tickfile.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

void brs__bt_bars_free(brs__bt_bars *b)
{
    if (b->bars)
        for (uint32_t i = 0; i < b->n_instr; i++)
            free(b->bars[i]);
    free(b->bars);
    free(b->n);
    free(b->instr);
    memset(b, 0, sizeof *b);
}

static int alloc_instr(brs__bt_bars *b, uint32_t n, brs_error *err)
{
    b->n_instr = n;
    b->instr = calloc(n ? n : 1, sizeof *b->instr);
    b->bars = calloc(n ? n : 1, sizeof *b->bars);
    b->n = calloc(n ? n : 1, sizeof *b->n);
    if (!b->instr || !b->bars || !b->n)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    return BRS_OK;
}

/* The Yahoo layout through the ticks importer (`bourse ticks import --format
 * yahoo`): same parser, same price scale, bars stamped at the end of their day. */
static int load_yahoo(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err)
{
    brs_import_sink sink;
    memset(&sink, 0, sizeof sink);
    brs_import_opts io = {.symbol = symbol};
    int rc = brs__import_yahoo(&sink, path, &io, err);
    if (rc)
        goto out;
    if (sink.n == 0 || sink.n_instr != 1) {
        rc = brs__err(err, BRS_E_PARSE, "%s: no bars", path);
        goto out;
    }
    if ((rc = alloc_instr(b, 1, err)))
        goto out;
    b->instr[0] = sink.instr[0];
    for (size_t i = 1; i < sink.n; i++)
        if (sink.ev[i].ts_exchange <= sink.ev[i - 1].ts_exchange) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bar %zu is not after the one before it (rows must be in date order)",
                          path, i + 1);
            goto out;
        }
    b->bars[0] = sink.ev; /* taken over */
    sink.ev = NULL;
    b->n[0] = b->total = sink.n;
out:
    free(sink.ev);
    free(sink.instr);
    if (rc)
        brs__bt_bars_free(b);
    return rc;
}

static int load_ticks(brs__bt_bars *b, const char *path, brs_error *err)
{
    brs_tick_reader r;
    int rc = brs__tick_open(&r, path, err);
    if (rc)
        return rc;
    size_t *cap = NULL;
    if ((rc = alloc_instr(b, r.n_instr, err)))
        goto out;
    memcpy(b->instr, r.instr, r.n_instr * sizeof *b->instr);
    cap = calloc(r.n_instr ? r.n_instr : 1, sizeof *cap);
    if (!cap) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    const brs_market_event *e;
    while ((e = brs__tick_next(&r))) {
        if (e->kind != BRS_MEV_BAR)
            continue;
        uint32_t i = e->instrument;
        if (i >= b->n_instr) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bar for instrument %u, the file has %u", path, i,
                          b->n_instr);
            goto out;
        }
        if (b->n[i] && e->ts_exchange < b->bars[i][b->n[i] - 1].ts_exchange) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bars of %s go back in time", path,
                          b->instr[i].symbol);
            goto out;
        }
        if (b->n[i] == cap[i]) {
            size_t nc = cap[i] ? cap[i] * 2 : 1024;
            brs_market_event *g = realloc(b->bars[i], nc * sizeof *g);
            if (!g) {
                rc = brs__err(err, BRS_E_NOMEM, "out of memory");
                goto out;
            }
            b->bars[i] = g;
            cap[i] = nc;
        }
        b->bars[i][b->n[i]++] = *e;
        b->total++;
    }
    if (r.iter_err.code) {
        rc = brs__err(err, r.iter_err.code, "%s", r.iter_err.msg);
        goto out;
    }
    if (!b->total)
        rc = brs__err(err, BRS_E_PARSE,
                      "%s: no BAR events (signal mode needs bars; book mode replays order flow)",
                      path);
out:
    free(cap);
    brs__tick_close(&r);
    if (rc)
        brs__bt_bars_free(b);
    return rc;
}

int brs__bt_bars_load(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err)
{
    memset(b, 0, sizeof *b);
    if (ends_with(path, ".csv") || ends_with(path, ".CSV"))
        return load_yahoo(b, path, symbol, err);
    return load_ticks(b, path, err);
}
