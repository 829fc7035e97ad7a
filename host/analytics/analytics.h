/* analytics.h: what a backtest records while it runs (equity samples, orders,
 * fills, round-trip trades built FIFO from fills) and what it reports at the end
 * (metrics, the run directory, report.html). Both drivers (signal and book mode)
 * feed one brs_an_recorder; see docs/analytics.md for every definition.
 * Floating point is fine here: analytics never feeds back into matching or accounting.
 * Not thread-safe: one recorder per run, used from the run's thread. */
#ifndef BRS_ANALYTICS_H
#define BRS_ANALYTICS_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

#include "core/config.h"

/* ---- setup --------------------------------------------------------------- */

/* One instrument of the run, in the order of the run's instrument table
 * (fills and samples refer to it by index). */
typedef struct brs_an_instrument {
    char symbol[BRS_SYMBOL_MAX];
    /* Currency per (1 price unit x 1 qty unit); 1 for shares and spot. A fill's
     * notional is price x qty x multiplier. 0 is taken as 1. */
    double multiplier;
    /* Price ticks per currency unit, used only by brs__an_order_event to turn the
     * ABI's integer prices and fees into currency. 0 is taken as 1. */
    int64_t price_scale;
} brs_an_instrument;

enum brs_an_mode { BRS_AN_SIGNAL = 0, BRS_AN_BOOK = 1 };

typedef struct brs_an_options {
    int mode;                /* enum brs_an_mode: BOOK adds the book-mode statistics */
    double periods_per_year; /* annualisation of daily returns: 252 or 365 (0 -> 252) */
    double risk_free_rate;   /* annual, simple (0.02 = 2 %); per period: rate / periods_per_year */
    /* A run with fewer than 2 daily returns (shorter than about two days) takes
     * its return statistics over intraday periods instead, annualised with
     * periods_per_year x trading_seconds_per_day / period (docs/analytics.md);
     * 0 -> 23400 (6.5 h, a US equity session). */
    double trading_seconds_per_day;
    /* Keep the run's first equity sample, then at most one per bucket of this many
     * ns (the last one of the bucket wins); 0 keeps every sample. Lets book mode
     * sample per event without storing every event. */
    int64_t sample_every_ns;
    const char *title;       /* shown in report.html and summary.json; may be NULL */
    /* Rows per CSV file of the run directory (equity, fills, orders, trades):
     * beyond it an even sample is written (every k-th row, the last always),
     * logged; 0 writes every row. Metrics and report.html use every row. */
    uint64_t csv_max_rows;
    /* What the run is compared with (config `report.benchmark`): NULL, "" or "none":
     * nothing; "buy_and_hold": the first instrument's price; a symbol of the run:
     * that instrument's price; anything else: a CSV file (Date or ts, then Adj Close,
     * Close or value). Scaled to the starting equity; docs/analytics.md. */
    const char *benchmark;
    /* Bars written to bars.csv at most (config report.max_bars); 0: 1,000,000;
     * negative: none. */
    int64_t max_bars;
} brs_an_options;

typedef struct brs_an_recorder brs_an_recorder;

/* The recorder copies opt (title included) and the instrument table. */
int brs__an_create(brs_an_recorder **out, const brs_an_options *opt,
                   const brs_an_instrument *instruments, uint32_t n_instruments, brs_error *err);
void brs__an_destroy(brs_an_recorder *r);
/* Optional: size the arrays up front so a run of known length never grows them. */
int brs__an_reserve(brs_an_recorder *r, size_t samples, size_t orders, size_t fills);

/* ---- recording (the run's hot path: no allocation beyond amortised array growth)
 * Each returns BRS_OK, BRS_E_INVAL (bad argument: unknown instrument, qty <= 0,
 * time going backwards) or BRS_E_NOMEM; brs__an_last_error() says which and why. */

/* One point of the equity curve. equity and cash are in currency; prices holds
 * one price per instrument (currency per unit; NaN when unknown, e.g. no mid) or
 * is NULL. Positions are taken from the recorded fills. Times must not decrease.
 * Sample at the start of the run (before any fill) and at its end. */
/* The sample_every_ns the recorder was created with (0: every sample kept). */
int64_t brs__an_sample_every(const brs_an_recorder *r);
int brs__an_sample(brs_an_recorder *r, int64_t ts, double equity, double cash,
                   const double *prices);

/* An order as submitted. price is currency per unit (NaN for a market order). */
typedef struct brs_an_order {
    uint64_t id;         /* unique per run */
    int64_t ts;
    uint32_t instrument;
    uint8_t side;        /* enum brs_side */
    uint8_t type;        /* enum brs_order_type */
    uint8_t tif;         /* enum brs_tif */
    uint8_t reserved;
    double price;
    int64_t qty;         /* > 0 */
} brs_an_order;

/* One execution of one of our orders. */
typedef struct brs_an_fill {
    int64_t ts;
    uint64_t order_id;   /* may be an id never passed to brs__an_order_new (then no order row) */
    uint32_t instrument;
    uint8_t side;        /* enum brs_side */
    uint8_t liquidity;   /* enum brs_liquidity; BRS_LIQ_NONE in signal mode */
    uint16_t reserved;
    int64_t qty;         /* > 0 */
    double price;        /* currency per unit */
    double fee;          /* currency; negative is a rebate */
} brs_an_fill;

enum brs_an_order_status {
    BRS_AN_OPEN = 0,      /* submitted or working, not finished */
    BRS_AN_FILLED = 1,
    BRS_AN_CANCELLED = 2, /* includes the unfilled rest of IOC orders and expiry */
    BRS_AN_REJECTED = 3
};

int brs__an_order_new(brs_an_recorder *r, const brs_an_order *o);
/* Records the fill, updates its order, position, FIFO lots and trades. */
int brs__an_fill(brs_an_recorder *r, const brs_an_fill *f);
/* The order is cancelled or rejected (status), reason a BRS_E_ code or 0. */
int brs__an_order_done(brs_an_recorder *r, int64_t ts, uint64_t order_id, int status,
                       int reason);
/* The order now has this price and total quantity (a replace). */
int brs__an_order_replace(brs_an_recorder *r, int64_t ts, uint64_t order_id, double price,
                          int64_t qty);
/* Adapter for the ABI order as submitted (integer price converted with the
 * instrument's price_scale; a market order's price is NaN). */
int brs__an_order_submitted(brs_an_recorder *r, const brs_order *o);
/* Adapter for the venue ABI: ACCEPTED, REJECTED, FILL, CANCELLED, REPLACED events with
 * integer prices/fees, converted with the instrument's price_scale. */
int brs__an_order_event(brs_an_recorder *r, const brs_order_event *ev);

const char *brs__an_last_error(const brs_an_recorder *r);

/* A figure a driver computes itself (the multi-venue book mode: inventory,
 * spread captured, execution cost), written into summary.json after the book
 * metrics and shown in the report's table. Setting a name again replaces its
 * value; at most BRS_AN_MAX_EXTRA names (later ones are dropped). NaN: null. */
#define BRS_AN_MAX_EXTRA 32
void brs__an_set_extra(brs_an_recorder *r, const char *name, double v);

/* A value of a series the strategy declared for the report (an indicator, a
 * signal): `ctx:plot(name, v)` in Lua, brs_host.xPlot in C. At most
 * BRS_AN_MAX_PLOTS names of up to 31 bytes; thinned like equity samples
 * (sample_every_ns: the last value of each bucket per name). BRS_E_INVAL for a
 * bad name, non-finite value or too many names. */
#define BRS_AN_MAX_PLOTS 16
/* The bars an instrument traded on (signal mode), for candlesticks in the report
 * and bars.csv: n bars as columns (ts, open, high, low, close are read), prices
 * in the instrument's ticks (price_scale); NULL when they will not be written. The arrays are not copied:
 * they must stay valid until brs__an_write_run. At most max_rows bars in
 * all are written (brs_an_options.max_bars, default 1,000,000; beyond it bars.csv
 * is not written, a log line says so, and the report draws the price as a line). */
void brs__an_set_bars(brs_an_recorder *r, uint32_t instrument, const brs_bar_columns *bars,
                      uint64_t n);
/* How many bars in all the run directory writes at most (report.max_bars):
 * more, and set_bars may pass NULL with the count alone. */
uint64_t brs__an_max_bars(const brs_an_recorder *r);
int brs__an_plot(brs_an_recorder *r, int64_t ts, const char *name, double v);

/* ---- results --------------------------------------------------------------- */

/* Every metric of a run. Doubles that have no defined value are NaN here and
 * null in summary.json (never NaN or inf in a file); docs/analytics.md lists when. */
typedef struct brs_an_metrics {
    /* the keys the issue names */
    double total_return, cagr, ann_volatility, sharpe, sortino;
    double max_drawdown;      /* fraction of the peak, >= 0 */
    double max_drawdown_days; /* longest peak-to-recovery (or to the end), calendar days */
    double calmar, win_rate, profit_factor, expectancy;
    int64_t n_trades;
    double turnover, exposure;
    double periods_per_year, risk_free_rate;
    /* what the volatility and ratios were computed over: 86400 for daily
     * returns, or the intraday period (s) of a run too short for them; and the
     * number of such periods per year that annualises them */
    double returns_period_s, return_periods_per_year;
    /* others */
    double avg_holding_seconds;
    double start_equity, end_equity, net_pnl, years;
    double gross_profit, gross_loss, avg_win, avg_loss, largest_win, largest_loss;
    double traded_notional, fees_paid;
    int64_t n_winners, n_losers, n_orders, n_fills, n_samples, n_daily_returns;
    int64_t start_ts, end_ts;
    /* book mode */
    double fill_ratio, maker_share, taker_share, maker_fees, taker_fees;
    double inventory_max_abs, inventory_mean_abs;
    double quoted_two_sided;  /* time share with a bid and an ask of ours resting */
    double quoted_spread_bps; /* their mean distance over that time, bp of their mid */
    int64_t n_maker_fills, n_taker_fills;
    /* tear-sheet figures (daily returns unless said otherwise) */
    double skew, kurtosis, var_95, cvar_95, tail_ratio, ulcer_index, recovery_factor;
    double payoff_ratio, best_day, worst_day, best_month, worst_month, best_year, worst_year;
    double prob_sharpe, benchmark_return, alpha, beta;
} brs_an_metrics;

/* The metrics by name, in summary.json's order: for `bourse sweep` sorting and for
 * anything that picks a metric from a config. better: +1 higher is better, -1 lower
 * is better, 0 neither (counts, settings). */
typedef struct brs_an_metric_desc {
    const char *name;
    size_t offset;     /* in brs_an_metrics */
    uint8_t is_int;    /* int64_t, else double */
    uint8_t book_only; /* written in book mode only */
    int8_t better;
} brs_an_metric_desc;
extern const brs_an_metric_desc brs__an_metric_descs[];
extern const size_t brs__an_n_metric_descs;
/* The value of a metric by name (NaN when undefined); BRS_E_NOTFOUND for an unknown
 * name. desc (may be NULL) receives its description. */
int brs__an_metric_get(const brs_an_metrics *m, const char *name, double *out,
                       const brs_an_metric_desc **desc);

/* Compute every metric from what was recorded so far (the recorder is unchanged;
 * may be called at any time). */
int brs__an_compute(const brs_an_recorder *r, brs_an_metrics *m, brs_error *err);
/* headline != 0: only what a sweep's results table shows (returns, CAGR,
 * volatility, Sharpe, Sortino, drawdown, Calmar, the trade and cost figures,
 * exposure, turnover: each the same double brs__an_compute gives); the
 * tear-sheet figures of the daily-return distribution, the calendar months
 * and years, the Ulcer index and the benchmark's are left NaN. */
int brs__an_compute_ex(const brs_an_recorder *r, brs_an_metrics *m, int headline, brs_error *err);

/* Write the run directory DIR (created if needed): config.json (cfg, may be NULL:
 * then "{}"), equity.csv, fills.csv, orders.csv, trades.csv, report.html and
 * summary.json last. Every file is written atomically; an old summary.json is
 * removed first, so an interrupted write never leaves a directory that looks whole. */
int brs__an_write_run(const brs_an_recorder *r, const char *dir, const brs_config *cfg,
                      brs_error *err);

/* Re-render DIR/report.html (or out_path) from the run directory's files. */
int brs__an_rerender(const char *dir, const char *out_path, brs_error *err);

/* results.html of a sweep from its results.csv (header: rank, the grid's
 * parameters, status, metrics..., run_dir): sortable table, heatmap over any
 * two parameters, links to DIR/<run>/report.html. Written atomically. */
int brs__sweep_report_write(const char *results_csv, const char *out_html, brs_error *err);

#endif
