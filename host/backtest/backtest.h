/* backtest.h: the backtest drivers behind `bourse backtest` and `bourse sweep`:
 * the signal-mode engine (targets or orders on bars, executed at the next open
 * with sizing, commission, slippage and impact), the run configuration read
 * strictly from JSON, and the run itself (strategy + recorder + run directory).
 * See docs/backtesting.md. Single-threaded and deterministic: the same config
 * and data give byte-identical run directories. */
#ifndef BRS_BACKTEST_H
#define BRS_BACKTEST_H

#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/host.h>
#include <bourse/types.h>

#include "analytics/analytics.h"
#include "core/config.h"
#include "strategy/runtime.h"

/* ---- bars ----------------------------------------------------------------- */

/* Every bar of a run, per instrument, oldest first: as 64-byte records, or as
 * columns (brs_bar_columns, ABI 1.2), or both. A one-instrument tick file of
 * compact bar blocks loads as columns only (bars[i] NULL: a sixth less
 * memory to fault in than records, and what the signal loop reads is dense);
 * everything else loads as records, and the signal engine derives columns. */
typedef struct brs__bt_bars {
    brs_instrument *instr;
    uint32_t n_instr;
    brs_market_event **bars; /* [n_instr]; an entry is NULL when only columns hold them */
    uint64_t *n;             /* [n_instr] */
    uint64_t total;
    int local_late;          /* some bar's ts_local is after its ts_exchange */
    /* NULL, or [n_instr] where an entry with ts NULL has no columns. Columns
     * without records stand for BAR records of that instrument with side and
     * flags 0 (the loader keeps records otherwise); ts_local may be ts. */
    brs_bar_columns *cols;
    /* NULL, or instrument 0's bars kept as the file's compact payloads and
     * decoded into cols[0] a column at a time, on demand
     * (brs__bt_bars_load_lazy): cols[0] then has n set and NULL for every
     * column not decoded yet. Decoding mutates the bars: one thread only. */
    struct brs__bt_lazy *lazy;
} brs__bt_bars;

struct brs_barblock_view; /* ticks/tickfile.h */

/* Lazy bars (bars.c): every block's payload in one arena, checked at load
 * (order, plain bars) and decoded when asked for. */
typedef struct brs__bt_lazy {
    unsigned char *payload; /* block i's payload at poff[i], 8 zero bytes after it */
    uint64_t *poff;         /* [nb] */
    uint32_t *plen;         /* [nb] payload bytes */
    uint64_t *off;          /* [nb + 1] first bar of block i; off[nb] = bars */
    uint8_t *has_local;     /* [nb] block i stores a local time other than ts */
    uint32_t nb, max_count; /* blocks, most bars in one block */
    int any_local;
    unsigned have;          /* BRS_BARCOL_* decoded into cols[0] */
} brs__bt_lazy;

/* ts_exchange of bar k of instrument i, whichever way the bars are held. */
static inline int64_t brs__bt_bar_ts(const brs__bt_bars *b, uint32_t i, uint64_t k)
{
    return b->bars[i] ? b->bars[i][k].ts_exchange : b->cols[i].ts[k];
}

/* From a Yahoo-style CSV (Date,Open,High,Low,Close,Adj Close,Volume; "null"
 * rows skipped; symbol NULL: the file name without .csv) or a tick file (its
 * BAR events; other kinds are ignored). Prices of CSV bars are in millionths
 * (price_scale 1000000), like `bourse ticks import --format yahoo`. */
int brs__bt_bars_load(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err);
/* The same, but a one-instrument file of compact bar blocks keeps its
 * payloads (b->lazy) and decodes none of its columns yet: what a run reads is
 * decoded by brs__bt_bars_columns or block by block (brs__bt_lazy_block);
 * anything else loads as brs__bt_bars_load does. For a run's own bars only
 * (the bars change as columns are decoded). */
int brs__bt_bars_load_lazy(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err);
/* Make sure cols[i] holds the columns of `want` (BRS_BARCOL_*): decoded now
 * for lazy bars (on every core), a no-op otherwise. */
int brs__bt_bars_columns(brs__bt_bars *b, uint32_t i, unsigned want, brs_error *err);
/* Lazy bars: block k's ts, open and close, and its view for the rest of a
 * row (brs__barblock_row_rest). A column already decoded in full (lz->have,
 * in cols, the bars' cols[0]) is pointed into; the others are decoded into
 * buf (room for 3 x max_count), except that *ts is NULL when the block's
 * times are regular (bar i at *ts_first + i x *ts_step) and *open NULL when
 * the closes are decoded (an open is then its close before plus a delta:
 * brs__barblock_row_open). *ts, *open, *close: the block's first bar. */
void brs__bt_lazy_block(const brs__bt_lazy *lz, const brs_bar_columns *cols, uint32_t k,
                        int64_t *buf, const int64_t **ts, uint64_t *ts_first, uint64_t *ts_step,
                        const int64_t **open, const int64_t **close, struct brs_barblock_view *v);
void brs__bt_bars_free(brs__bt_bars *b);

/* ---- signal mode ------------------------------------------------------------ */

enum brs__bt_sizing { BRS__BT_SIZE_FRACTION = 0, BRS__BT_SIZE_FIXED = 1 };
enum brs__bt_slippage { BRS__BT_SLIP_NONE = 0, BRS__BT_SLIP_BPS = 1, BRS__BT_SLIP_HALF_SPREAD = 2 };

typedef struct brs__bt_signal_opts {
    int same_close;          /* execute at the signal bar's close (look-ahead risk: opt-in) */
    int sizing;              /* enum brs__bt_sizing */
    double fraction;         /* FRACTION: |target| 1 = this fraction of equity */
    double fixed_qty;        /* FIXED: |target| 1 = this many units */
    double initial_cash;
    double commission_per_share, commission_bps, commission_min;
    int slippage;            /* enum brs__bt_slippage */
    double slippage_bps;     /* BPS: paid on every fill */
    double spread_bps;       /* HALF_SPREAD: the assumed quoted spread; half is paid */
    double impact_k;         /* square-root impact: k * sigma * sqrt(qty / ADV) */
    uint32_t impact_window;  /* bars for sigma and ADV (before the execution bar) */
    /* Per instrument: units of the asset in one quantity unit (config signal.lot,
     * e.g. 0.0001 BTC); NULL or 0: 1, whole units. Positions, orders and fills
     * are integers of these steps; cash, costs and equity use qty x step. */
    const double *qty_step;
} brs__bt_signal_opts;

/* What one run produced. */
typedef struct brs__bt_result {
    int failed;               /* the strategy failed: the run is not valid */
    char error[BRS_ERROR_MSG_MAX];
    uint64_t events;          /* bars (signal) or market events (book) processed */
    uint64_t fills, orders;
    double seconds;           /* wall time of the event loop */
    double total_seconds;     /* data and strategy loading, start, loop and stop */
    double total_cpu_seconds; /* the same span in CPU time of the process (all threads) */
    char strategy[64];
    /* Stopped by SIGINT/SIGTERM (brs__interrupted()): the signal, where the run
     * was ("loading", "the event loop", "writing"), how far it got. A run
     * interrupted before its directory was written writes none. */
    int interrupted;
    const char *phase;
    uint64_t total_events;    /* bars or market events in the data, 0 if unknown */
    int64_t reached_ns;       /* simulated time reached, 0 if none */
} brs__bt_result;

/* ---- a run from a configuration ---------------------------------------------- */

/* Run the configuration: read and check every key (unknown keys are errors
 * naming key and file; defaults are written back so cfg becomes the effective
 * configuration), load data and strategy, run, and write the run directory to
 * out_dir (NULL: cfg's "out", else runs/<strategy>-<mode>). out_path gets the
 * directory used. BRS_OK with res->failed set when the strategy failed (no run
 * directory is written then); a negative code for bad input. */
int brs__bt_run_config(brs_config *cfg, const char *out_dir, int progress, brs__bt_result *res,
                       brs_an_metrics *metrics, char *out_path, size_t out_cap, brs_error *err);

/* The same run with parts a caller already holds: a loaded strategy (the
 * Python binding: used as is, its vtable and instance never freed here; the
 * config's strategy.file is then only a label), bars already in memory (signal
 * mode: sweeps and the Python binding; the caller keeps them, and they must be
 * what cfg's data and symbol name), and, with no_write, only the metrics (no
 * run directory: a sweep's combinations). ro NULL: as brs__bt_run_config. */
typedef struct brs__strategy_src brs__strategy_src;
/* The last strategy name resolved to a file (a plugin name through the search
 * path: a readlink, a realpath and a few access calls). A sweep's worker keeps
 * one for all its combinations, which name the same strategy. */
typedef struct brs__bt_resolved {
    char name[1024];
    char path[4096];
} brs__bt_resolved;
typedef struct brs__bt_run_opts {
    const brs__strategy_src *strategy;
    const brs__bt_bars *bars;
    int no_write;
    /* metrics: only the sweep table's (brs__an_compute_ex's headline); a run
     * directory, when written, still has every metric */
    int headline_only;
    brs__bt_resolved *resolved; /* NULL: resolve the strategy on every run */
} brs__bt_run_opts;
int brs__bt_run_config_ex(brs_config *cfg, const char *out_dir, int progress,
                          const brs__bt_run_opts *ro, brs__bt_result *res, brs_an_metrics *metrics,
                          char *out_path, size_t out_cap, brs_error *err);
/* The Python binding's name for the same call. */
typedef brs__bt_run_opts brs__bt_given;
static inline int brs__bt_run_given(brs_config *cfg, const brs__bt_given *given, const char *out_dir,
                                    int progress, brs__bt_result *res, brs_an_metrics *metrics,
                                    char *out_path, size_t out_cap, brs_error *err)
{
    return brs__bt_run_config_ex(cfg, out_dir, progress, given, res, metrics, out_path, out_cap, err);
}

/* The signal engine over loaded bars, for the run and the benchmark: drives
 * sc (already opened and started) through every bar, executes, records into
 * rec (may be NULL). sample_every_ns as in brs_an_options. */
typedef struct brs__bt_signal brs__bt_signal;
int brs__bt_signal_create(brs__bt_signal **out, const brs__bt_bars *bars,
                          const brs__bt_signal_opts *opts, brs_an_recorder *rec, brs_error *err);
/* The execution interface the strategy context must be created with. */
brs__exec brs__bt_signal_exec(brs__bt_signal *s);
int brs__bt_signal_run(brs__bt_signal *s, brs__sctx *sc, int progress, brs__bt_result *res,
                       brs_error *err);
double brs__bt_signal_equity(const brs__bt_signal *s);
/* Instrument i's bars as columns (made once when they came as records; owned
 * by s); NULL when out of memory. */
const brs_bar_columns *brs__bt_signal_columns(brs__bt_signal *s, uint32_t instrument);
void brs__bt_signal_destroy(brs__bt_signal *s);

/* Commission of one fill of units (of the asset, qty x step) at notional
 * (currency): per unit plus basis points of the notional, at least the minimum
 * (0 for no units). */
double brs__bt_commission(const brs__bt_signal_opts *o, double units, double notional);

/* Whole steps of a wanted size in asset units: toward zero, but a quotient
 * within 1e-9 of an integer is that integer (0.37 / 0.0001 is 3700, not 3699). */
int64_t brs__bt_steps(double units, double step);

/* CLI entry points */
int brs__cmd_backtest(int argc, char **argv);
int brs__cmd_sweep(int argc, char **argv);

#endif
