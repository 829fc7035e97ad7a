/* signal_internal.h: the signal engine's state, shared by signal.c (the
 * loop, execution), signal_targets.c (the precomputed targets) and
 * signal_bars.c (how a strategy reads the bars: xBars' records and
 * xBarColumns' columns). */
#ifndef BRS_BT_SIGNAL_INTERNAL_H
#define BRS_BT_SIGNAL_INTERNAL_H

#include <math.h>

#include "backtest.h"
#include "core/core.h"
#include "ticks/tickfile.h"

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
    uint64_t base; /* index of the arrays' first bar (a lazy window's first) */
} bar_view;

#define AT(v, f, t) ((v)->f[((size_t)(t) - (v)->base) * (v)->k])

/* Lazy bars (brs__bt_bars.lazy): the loop reads a window of whole blocks
 * decoded into buffers it reuses (faulted once, cache-sized), two windows so
 * a search across a block boundary does not decode a block twice. A window's
 * view holds ts, open and close (pointing into a column the strategy had
 * decoded in full, e.g. sig_momentum's closes, rather than decoding it again); the rest of a row comes from the payload
 * (brs__barblock_row_rest) when a bar takes the full step. */
typedef struct lazy_win {
    bar_view v;             /* ts, open, close; base = lo. ts NULL: the block's
                             * times are regular (ts_first + i x ts_step); open
                             * NULL: made from the closes bar by bar (lw_open) */
    uint64_t ts_first, ts_step;
    uint64_t lo, hi;        /* bars [lo, hi) held; lo == hi: none */
    brs_barblock_view bv;
    int64_t *buf;           /* 3 x max_count */
} lazy_win;

typedef struct sig_lazy {
    const brs__bt_lazy *lz;
    const brs_bar_columns *cols; /* the bars' cols[0]: the columns decoded in full (lz->have) */
    lazy_win w[2];
    int last;               /* the window used last */
    uint32_t blk;           /* the block decoded last (where a search starts) */
} sig_lazy;

typedef struct sig_instr {
    bar_view v;                  /* the bars, unless held lazily (lzs) */
    sig_lazy *lzs;               /* lazy bars still decoded block by block, else NULL */
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
    uint64_t tg_changes;   /* changes of value in the targets set (an estimate of the executions) */
    /* tval's values by bit pattern (open addressing, slot TG_NONE: empty), so
     * xSetTargetsAt can add a chunk's codes; valid while tg_ready */
    uint64_t tg_key[512];
    uint8_t tg_slot[512];
    int tg_ready;
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

/* The window of lazy bars holding bar t, decoded now if no window does (signal_bars.c). */
lazy_win *brs__bt_sig_window(sig_lazy *z, uint64_t t);

static inline const lazy_win *win_at(const sig_instr *in, uint64_t t)
{
    sig_lazy *z = in->lzs;
    const lazy_win *w = &z->w[z->last];
    if (BRS__LIKELY(t - w->lo < w->hi - w->lo))
        return w;
    return brs__bt_sig_window(z, t);
}

/* Bar t's ts and open in window w (holding t); its close is AT(&w->v, close, t). */
static inline int64_t lw_ts(const lazy_win *w, uint64_t t)
{
    if (w->v.ts)
        return AT(&w->v, ts, t);
    return (int64_t)(w->ts_first + (t - w->lo) * w->ts_step); /* wraps as the decoder's sum */
}

static inline int64_t lw_open(const lazy_win *w, uint64_t t)
{
    if (w->v.open)
        return AT(&w->v, open, t);
    uint32_t i = (uint32_t)(t - w->lo);
    return brs__barblock_row_open(&w->bv, i, i ? AT(&w->v, close, t - 1) : (int64_t)w->bv.close0);
}

/* Bar t's ts and close, whichever way the bars are held. */
static inline int64_t ts_at(const sig_instr *in, uint64_t t)
{
    if (BRS__LIKELY(!in->lzs))
        return AT(&in->v, ts, t);
    return lw_ts(win_at(in, t), t);
}

static inline int64_t close_at(const sig_instr *in, uint64_t t)
{
    if (BRS__LIKELY(!in->lzs))
        return AT(&in->v, close, t);
    return AT(&win_at(in, t)->v, close, t);
}

/* Bar t's local time. */
static inline int64_t tl_at(const sig_instr *in, uint64_t t)
{
    if (!in->lzs)
        return AT(&in->v, tl, t);
    const lazy_win *w = win_at(in, t);
    int64_t tl, hi, lo, vol;
    brs__barblock_row_rest(&w->bv, (uint32_t)(t - w->lo), lw_ts(w, t), lw_open(w, t),
                           AT(&w->v, close, t), &tl, &hi, &lo, &vol);
    return tl;
}

/* Bar t of instrument ii as a BAR record: the loaded one, or one made from
 * the columns in *tmp (bars held as columns have side and flags 0). */
static inline const brs_market_event *bar_rec(const sig_instr *in, uint32_t ii, uint64_t t,
                                              brs_market_event *tmp)
{
    if (in->rec)
        return &in->rec[t];
    if (in->lzs) {
        const lazy_win *w = win_at(in, t);
        int64_t ts = lw_ts(w, t), open = lw_open(w, t), close = AT(&w->v, close, t);
        *tmp = (brs_market_event){.ts_exchange = ts, .kind = BRS_MEV_BAR, .instrument = ii,
                                  .bar = {.open = open, .close = close}};
        brs__barblock_row_rest(&w->bv, (uint32_t)(t - w->lo), ts, open, close, &tmp->ts_local,
                               &tmp->bar.high, &tmp->bar.low, &tmp->bar.volume);
        return tmp;
    }
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

/* Targets' codes: TG_NONE is "no target" in tcode and an empty slot in tg_slot. */
#define TG_NONE 255

/* xSetTargets and xSetTargetsAt of the signal engine's brs__exec (signal_targets.c). */
int brs__bt_sig_set_targets(void *self, brs__sctx *sc, uint32_t instrument, const double *t, uint64_t n);
int brs__bt_sig_set_targets_at(void *self, brs__sctx *sc, uint32_t instrument, uint64_t first,
                               const double *t, uint64_t n);

/* The precomputed target of bar t, NaN for none. */
static inline double brs__bt_sig_target_at(const sig_instr *in, uint64_t t)
{
    if (in->tcode)
        return in->tcode[t] == TG_NONE ? NAN : in->tval[in->tcode[t]];
    return in->targets ? in->targets[t] : NAN;
}

#endif
