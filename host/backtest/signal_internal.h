/* signal_internal.h: the signal engine's state, shared by signal.c (the
 * loop, execution, targets) and signal_bars.c (how a strategy reads the
 * bars: xBars' records and xBarColumns' columns). */
#ifndef BRS_BT_SIGNAL_INTERNAL_H
#define BRS_BT_SIGNAL_INTERNAL_H

#include "backtest.h"

typedef struct sig_order {
    brs_order o;
    int64_t armed; /* index of the last bar the strategy had seen when it sent it */
} sig_order;

/* One instrument's bars as the loop reads them: field f of bar t is f[t * k],
 * k = 1 over columns (brs_bar_columns, the loader's), k = 8 over 64-byte
 * records (bars that came as records are read in place, never copied). */
typedef struct bar_view {
    const int64_t *ts, *tl, *open, *high, *low, *close, *vol;
    size_t k;
} bar_view;

#define AT(v, f, t) ((v)->f[(size_t)(t) * (v)->k])

typedef struct sig_instr {
    bar_view v;
    const brs_market_event *rec; /* the records, when the bars came as records */
    brs_bar_columns cols;        /* the columns, when they came as columns or xBarColumns made them */
    int own_cols;                /* cols' arrays are this engine's (made from records) */
    brs_market_event *made;      /* records xBars made from columns (owned) */
    uint64_t n;
    int64_t cur;          /* index of the last bar delivered, -1 before the first */
    double scale;         /* price units per currency unit */
    double step;          /* asset units per quantity unit (signal.lot) */
    int64_t lot;
    int64_t pos;
    double mark;          /* last close, currency; NaN before the first bar */
    /* the pending target: what the strategy wants, armed at bar `t_armed` */
    double target;
    int64_t t_armed;
    int has_target;
    /* vectorized targets, one per bar: as codes into tval when the array holds
     * at most 255 distinct values (an eighth of the memory to fill and scan;
     * TG_NONE = none), else the values themselves (NaN = none) */
    uint8_t *tcode;
    double tval[255];
    uint32_t n_tval;
    double *targets;
    /* quiet[c]: code c needs no execution while `quiet_for` is the target held */
    uint8_t quiet[256];
    double quiet_for;
    int quiet_ok;
    double done_target;   /* the last target executed; NaN before the first */
    /* impact statistics over the last `window` bars: log returns and volumes */
    double *ret, *vol;
    uint32_t ring_n, ring_i;
    double sum_r, sum_r2, sum_v;
    double prev_close;
} sig_instr;

struct brs__bt_signal {
    brs__bt_signal_opts o;
    const brs__bt_bars *bars;
    brs_an_recorder *rec;
    sig_instr *in;
    uint32_t n_in;
    sig_order *orders;
    uint32_t n_orders, cap_orders;
    double cash;
    double *prices;       /* per instrument, for equity samples */
    uint64_t n_fills, n_submitted;
    brs__sctx *sc;
    int rec_failed;
    char rec_error[BRS_ERROR_MSG_MAX];
};

/* Bar t of instrument ii as a BAR record: the loaded one, or one made from
 * the columns in *tmp (bars held as columns have side and flags 0). */
static inline const brs_market_event *bar_rec(const sig_instr *in, uint32_t ii, uint64_t t,
                                              brs_market_event *tmp)
{
    if (in->rec)
        return &in->rec[t];
    const bar_view *v = &in->v;
    *tmp = (brs_market_event){.ts_exchange = v->ts[t], .ts_local = v->tl[t], .kind = BRS_MEV_BAR,
                              .instrument = ii,
                              .bar = {.open = v->open[t], .high = v->high[t], .low = v->low[t],
                                      .close = v->close[t], .volume = v->vol[t]}};
    return tmp;
}

/* brs_host.xBars and xBarColumns for the engine (signal_bars.c). */
int brs__bt_sig_bars(void *self, brs__sctx *sc, uint32_t instrument, const brs_market_event **bars,
                     uint64_t *n);
int brs__bt_sig_bar_columns(void *self, brs__sctx *sc, uint32_t instrument, brs_bar_columns *out);

#endif
