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
#include <bourse/types.h>

#include "analytics/analytics.h"
#include "core/config.h"
#include "strategy/runtime.h"

/* ---- bars ----------------------------------------------------------------- */

/* Every bar of a run, one array per instrument, oldest first. */
typedef struct brs__bt_bars {
    brs_instrument *instr;
    uint32_t n_instr;
    brs_market_event **bars; /* [n_instr] */
    uint64_t *n;             /* [n_instr] */
    uint64_t total;
    int local_late;          /* some bar's ts_local is after its ts_exchange */
} brs__bt_bars;

/* From a Yahoo-style CSV (Date,Open,High,Low,Close,Adj Close,Volume; "null"
 * rows skipped; symbol NULL: the file name without .csv) or a tick file (its
 * BAR events; other kinds are ignored). Prices of CSV bars are in millionths
 * (price_scale 1000000), like `bourse ticks import --format yahoo`. */
int brs__bt_bars_load(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err);
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

/* The same run with parts an embedder (the Python binding) already holds:
 * a loaded strategy (used as is: its vtable and instance, never freed here;
 * the config's strategy.file is then only a label) and, in signal mode, bars
 * already in memory (used instead of the config's data, never freed here).
 * NULL given or NULL members: loaded from the config as usual. */
typedef struct brs__strategy_src brs__strategy_src;
typedef struct brs__bt_given {
    const brs__strategy_src *strategy;
    const brs__bt_bars *bars;
    int no_write; /* compute the metrics, write no run directory (sweeps) */
} brs__bt_given;
int brs__bt_run_given(brs_config *cfg, const brs__bt_given *given, const char *out_dir,
                      int progress, brs__bt_result *res, brs_an_metrics *metrics, char *out_path,
                      size_t out_cap, brs_error *err);

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
void brs__bt_signal_destroy(brs__bt_signal *s);

/* Commission of one fill of qty units at price (currency): per share plus basis
 * points of the notional, at least the minimum (0 for qty 0). */
double brs__bt_commission(const brs__bt_signal_opts *o, int64_t qty, double notional);

/* CLI entry points */
int brs__cmd_backtest(int argc, char **argv);
int brs__cmd_sweep(int argc, char **argv);

#endif
