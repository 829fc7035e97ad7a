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
    if (r.n_instr == 1) { /* the common case: size the array once */
        b->bars[0] = malloc((r.n_events ? r.n_events : 1) * sizeof **b->bars);
        if (!b->bars[0]) {
            rc = brs__err(err, BRS_E_NOMEM, "out of memory");
            goto out;
        }
        cap[0] = r.n_events;
    }
    /* decompression on a second thread while this one copies */
    if ((rc = brs__tick_readahead(&r, err)))
        goto out;
    while (r.cur < r.end || brs__tick_next_block_(&r) > 0) {
        /* a block of nothing but bars in order for one instrument: one memcpy */
        const brs_market_event *p = r.cur, *end = r.end;
        size_t cnt = (size_t)(end - p);
        uint32_t i0 = p->instrument;
        int plain = i0 < b->n_instr && b->n[i0] + cnt <= cap[i0];
        for (const brs_market_event *q = p; plain && q < end; q++)
            plain = q->kind == BRS_MEV_BAR && q->instrument == i0 &&
                    (q == p ? (!b->n[i0] || q->ts_exchange >= b->bars[i0][b->n[i0] - 1].ts_exchange)
                            : q->ts_exchange >= q[-1].ts_exchange);
        if (plain) {
            memcpy(b->bars[i0] + b->n[i0], p, cnt * sizeof *p);
            b->n[i0] += cnt;
            b->total += cnt;
            r.cur = end;
            continue;
        }
        for (; r.cur < r.end; r.cur++) {
            const brs_market_event *e = r.cur;
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
