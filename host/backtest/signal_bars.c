/* signal_bars.c: how a signal-mode strategy reads the run's bars: xBars'
 * 64-byte records and xBarColumns' columns (ABI 1.2). The engine holds each
 * instrument's bars one way (columns from a compact bar file, records from
 * everything else) and makes the other once, on the first call that wants it. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "signal_internal.h"

lazy_win *brs__bt_sig_window(sig_lazy *z, uint64_t t)
{
    const brs__bt_lazy *lz = z->lz;
    uint32_t lo = 0, hi = lz->nb; /* the block k with off[k] <= t < off[k + 1] */
    if (z->blk < lz->nb && lz->off[z->blk] <= t) {
        lo = z->blk;
        if (z->blk + 1 < lz->nb && t >= lz->off[z->blk + 1]) /* moving on: usually the next */
            lo = z->blk + 1;
    }
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lz->off[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    int k = z->w[0].lo <= t && t < z->w[0].hi ? 0 : z->w[1].lo <= t && t < z->w[1].hi ? 1 : -1;
    if (k < 0) { /* the window farther from t: the loop moves forward, and a
                  * search looks at most one block ahead, so the other one is
                  * the block still being stepped (evicting the one not used
                  * last decoded every block ~3.5 times) */
        uint64_t d0 = t > z->w[0].lo ? t - z->w[0].lo : z->w[0].lo - t;
        uint64_t d1 = t > z->w[1].lo ? t - z->w[1].lo : z->w[1].lo - t;
        k = z->w[0].lo == z->w[0].hi ? 0 : z->w[1].lo == z->w[1].hi ? 1 : d0 >= d1 ? 0 : 1;
        lazy_win *w = &z->w[k];
        const int64_t *ts, *open, *close;
        brs__bt_lazy_block(lz, z->cols, lo, w->buf, &ts, &w->ts_first, &w->ts_step, &open, &close,
                           &w->bv);
        w->lo = lz->off[lo];
        w->hi = lz->off[lo + 1];
        w->v = (bar_view){.ts = ts, .open = open, .close = close, .k = 1, .base = w->lo};
        z->blk = lo;
    }
    z->last = k;
    return &z->w[k];
}

/* Lazy bars with every column decoded: read as columns from here on. */
static void lazy_done(brs__bt_signal *s, uint32_t instrument)
{
    sig_instr *in = &s->in[instrument];
    const brs__bt_lazy *lz = s->bars->lazy;
    if (!in->lzs || (lz->have & BRS_BARCOL_ALL) != BRS_BARCOL_ALL)
        return;
    in->cols = s->bars->cols[instrument];
    const brs_bar_columns *c = &in->cols;
    in->v = (bar_view){c->ts, c->ts_local, c->open, c->high, c->low, c->close, c->volume, 1, 0};
    free(in->lzs->w[0].buf);
    free(in->lzs->w[1].buf);
    free(in->lzs);
    in->lzs = NULL;
}

/* Lazy bars: the columns of want decoded into the bars (the engine's bars
 * are the run's own: run.c loads them lazily for it). */
static int lazy_columns(brs__bt_signal *s, uint32_t instrument, unsigned want)
{
    sig_instr *in = &s->in[instrument];
    if (!in->lzs)
        return BRS_OK;
    brs_error err;
    int rc = brs__bt_bars_columns((brs__bt_bars *)s->bars, instrument, want, &err);
    if (rc)
        return rc;
    in->cols = s->bars->cols[instrument];
    lazy_done(s, instrument);
    return BRS_OK;
}

/* xBars: the records; bars held as columns get them made once, on the first
 * call (64 bytes a bar, what a plugin asking for records costs). */
int brs__bt_sig_bars(void *self, brs__sctx *sc, uint32_t instrument, const brs_market_event **bars,
                     uint64_t *n)
{
    (void)sc;
    brs__bt_signal *s = self;
    sig_instr *in = &s->in[instrument];
    int rc = lazy_columns(s, instrument, BRS_BARCOL_ALL);
    if (rc)
        return rc;
    if (!in->rec && !in->made) {
        if (!(in->made = malloc((in->n ? in->n : 1) * sizeof *in->made)))
            return BRS_E_NOMEM;
        for (uint64_t t = 0; t < in->n; t++)
            bar_rec(in, instrument, t, &in->made[t]);
    }
    *bars = in->rec ? in->rec : in->made;
    *n = in->n;
    return BRS_OK;
}

/* Columns of bars that came as records, made once (owned). */
static int make_columns(sig_instr *in)
{
    int64_t *a[7] = {0};
    int ok = 1;
    for (int f = 0; f < 7; f++)
        ok &= (a[f] = malloc((in->n ? in->n : 1) * sizeof *a[f])) != NULL;
    if (!ok) {
        for (int f = 0; f < 7; f++)
            free(a[f]);
        return BRS_E_NOMEM;
    }
    const bar_view *v = &in->v;
    for (uint64_t t = 0; t < in->n; t++) {
        a[0][t] = AT(v, ts, t);
        a[1][t] = AT(v, tl, t);
        a[2][t] = AT(v, open, t);
        a[3][t] = AT(v, high, t);
        a[4][t] = AT(v, low, t);
        a[5][t] = AT(v, close, t);
        a[6][t] = AT(v, vol, t);
    }
    in->cols = (brs_bar_columns){.size = sizeof(brs_bar_columns), .n = in->n, .ts = a[0],
                                 .ts_local = a[1], .open = a[2], .high = a[3], .low = a[4],
                                 .close = a[5], .volume = a[6]};
    in->own_cols = 1;
    return BRS_OK;
}

/* xBarColumns (ABI 1.2): the loader's columns, or columns made once from records. */
int brs__bt_sig_bar_columns(void *self, brs__sctx *sc, uint32_t instrument, brs_bar_columns *out)
{
    (void)sc;
    brs__bt_signal *s = self;
    sig_instr *in = &s->in[instrument];
    /* the columns the caller reads, when its struct holds the mask */
    unsigned want = out->size >= offsetof(brs_bar_columns, want) + sizeof out->want && out->want
                        ? out->want & BRS_BARCOL_ALL
                        : BRS_BARCOL_ALL;
    if (in->lzs) {
        int rc = lazy_columns(s, instrument, want ? want : BRS_BARCOL_ALL);
        if (rc)
            return rc;
    } else if (!in->cols.ts) {
        int rc = make_columns(in);
        if (rc)
            return rc;
    }
    out->n = in->n;
    out->ts = in->cols.ts;
    out->ts_local = in->cols.ts_local;
    out->open = in->cols.open;
    out->high = in->cols.high;
    out->low = in->cols.low;
    out->close = in->cols.close;
    out->volume = in->cols.volume;
    return BRS_OK;
}

const brs_bar_columns *brs__bt_signal_columns(brs__bt_signal *s, uint32_t instrument)
{
    sig_instr *in = &s->in[instrument];
    if (in->lzs && lazy_columns(s, instrument, BRS_BARCOL_ALL))
        return NULL;
    if (!in->cols.ts && make_columns(in))
        return NULL;
    return &in->cols;
}

