/* signal_bars.c: how a signal-mode strategy reads the run's bars: xBars'
 * 64-byte records and xBarColumns' columns (ABI 1.2). The engine holds each
 * instrument's bars one way (columns from a compact bar file, records from
 * everything else) and makes the other once, on the first call that wants it. */
#include <stdlib.h>
#include <string.h>

#include "signal_internal.h"

/* xBars: the records; bars held as columns get them made once, on the first
 * call (64 bytes a bar, what a plugin asking for records costs). */
int brs__bt_sig_bars(void *self, brs__sctx *sc, uint32_t instrument, const brs_market_event **bars,
                     uint64_t *n)
{
    (void)sc;
    brs__bt_signal *s = self;
    sig_instr *in = &s->in[instrument];
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
    if (!in->cols.ts) {
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
    if (!in->cols.ts && make_columns(in))
        return NULL;
    return &in->cols;
}

