/* an_internal.h: the recorder's insides, shared by the analytics sources only
 * (recorder, metrics, run directory writer, report renderer, loader). */
#ifndef BRS_AN_INTERNAL_H
#define BRS_AN_INTERNAL_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "analytics.h"
#include "core/core.h"

/* Series a strategy declared for the report: points of (ts, name index, value). */
typedef struct brs_an_plots {
    char names[BRS_AN_MAX_PLOTS][32];
    uint32_t n_names;
    struct brs_an_plot_pt { int64_t ts; uint32_t name; double v; } *pts;
    size_t n, cap;
    int64_t last_bucket[BRS_AN_MAX_PLOTS];
    size_t last_idx[BRS_AN_MAX_PLOTS];
} brs_an_plots;

/* The equity curve: n samples, k instruments; pos and price are n x k, row-major. */
typedef struct brs_an_series {
    size_t n, cap;
    uint32_t k;
    int64_t *ts;
    double *equity, *cash;
    double *pos;   /* double so the loader and the charts share one type */
    double *price;
    double *bench; /* the benchmark scaled to the starting equity; NaN while unknown */
    int has_bench; /* a benchmark was configured (equity.csv has its column) */
    double *qspread;  /* book mode: our quoted spread (bp of the mid) at the sample; NaN
                       * when not quoting both sides */
    int has_qspread;  /* equity.csv has the quoted_spread_bps column */
} brs_an_series;

/* One round trip: an open lot (or part of one) matched FIFO against a closing fill. */
typedef struct brs_an_trade {
    uint32_t instrument;
    int dir;              /* +1 long, -1 short */
    int64_t qty;
    int64_t entry_ts, exit_ts;
    double entry_price, exit_price;
    double entry_fee, exit_fee; /* the lots' and the closing fill's fees, pro rata to qty */
    double gross, net;
    uint64_t entry_order, exit_order;
} brs_an_trade;

typedef struct brs_an_order_rec {
    uint64_t id;
    int64_t ts, last_ts;
    uint32_t instrument;
    uint8_t side, type, tif, status;
    int32_t reason;
    double price;
    int64_t qty, filled;
    double fill_notional, fees;
    int64_t n_fills, n_replaces;
    uint32_t quote;        /* its slot in its instrument's quotes + 1; 0: not resting */
} brs_an_order_rec;

typedef struct brs_an_lot {
    int64_t qty;           /* open, > 0; the direction is the instrument's position sign */
    int64_t ts;
    double price, fee_per_unit;
    uint64_t order_id;
} brs_an_lot;

typedef struct brs_an_inst_state {
    brs_an_instrument spec;
    brs_an_lot *lots;
    size_t head, len, cap; /* lots[head .. head+len) */
    int64_t pos;
    int64_t max_abs;
    int64_t last_t;        /* time the |pos| integral was advanced to */
    double abs_integral;   /* sum of |pos| x dt (ns) */
    double fees;
    int64_t n_trades;
    double net_pnl;
    /* our resting orders (book mode), for the time-weighted quoting figures:
     * live state only, an entry leaves when its order stops resting */
    struct brs_an_quote { uint64_t id; double price; uint8_t side; } *quotes;
    uint32_t n_quotes, cap_quotes;
    double best_bid, best_ask; /* among quotes (0: none), valid while best_ok */
    int best_ok;
    int64_t q_last_t;      /* the quoting integrals were advanced to here */
    int64_t q_first_t;     /* first order of ours resting (0: never) */
    int64_t two_sided_ns;  /* time with a bid and an ask of ours resting */
    double spread_bps_ns;  /* integral of (ask - bid) / mid x 1e4 over that time */
    brs_bar_columns bars; /* brs__an_set_bars: the arrays are not owned */
    uint64_t n_bars;
} brs_an_inst_state;

struct brs_an_recorder {
    brs_an_options opt;
    char title[256];
    uint32_t k;
    brs_an_inst_state *inst;
    brs_an_series series;

    brs_an_fill *fills;
    size_t n_fills, cap_fills;
    brs_an_order_rec *orders;
    size_t n_orders, cap_orders;
    int hashed;            /* 0 while ids are consecutive: no table needed */
    uint64_t *map_keys;    /* open addressing: order id + 1 (0 = empty) */
    uint32_t *map_vals;
    size_t map_cap;
    brs_an_trade *trades;
    size_t n_trades, cap_trades;

    /* time accounting for exposure and inventory */
    int have_time;
    int64_t t_first, t_last;     /* first and last event (sample or fill) */
    int64_t exp_last_t;
    int64_t exposed_ns;
    uint32_t n_nonzero;          /* instruments with a non-zero position */
    int64_t gross_abs, gross_max_abs;

    /* book-mode totals */
    int64_t maker_qty, taker_qty, maker_n, taker_n;
    double maker_fees, taker_fees, fees, notional;

    char errmsg[256];

    /* the benchmark (brs_an_options.benchmark) */
    int bench_kind;              /* 0 none, 1 an instrument's price, 2 a CSV series */
    uint32_t bench_inst;
    char bench_name[64];         /* shown in the report: "buy and hold SPY", a file name */
    int64_t *bench_ts;           /* kind 2: the CSV's points, by time */
    double *bench_v;
    size_t bench_n, bench_at;    /* bench_at: the last point at or before the last sample */
    double bench_first;          /* level at the first sample it was known (NaN: not yet) */

    /* declared plot series (brs__an_plot) */
    brs_an_plots plots;

    /* figures a driver adds to summary.json (brs__an_set_extra), in that order */
    struct { char name[64]; double v; } extra[BRS_AN_MAX_EXTRA];
    uint32_t n_extra;
};

/* benchmark.c: resolve brs_an_options.benchmark (BRS_E_INVAL/PARSE naming the
 * file or the spec), and the benchmark's level at a sample (NaN: unknown). */
int brs__an_bench_setup(brs_an_recorder *r, const char *spec, brs_error *err);
double brs__an_bench_level(brs_an_recorder *r, int64_t ts, const double *prices);

/* ---- shared helpers -------------------------------------------------------- */

/* brs__an_fail: the message for brs__an_last_error, returns code. brs__an_grow:
 * *arr (of elem bytes) grown geometrically to hold need elements. */
int brs__an_fail(brs_an_recorder *r, int code, const char *fmt, ...) BRS__PRINTF(3, 4);
int brs__an_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* Seconds from submission to fill of every maker fill whose order is known
 * (book mode's queue wait); *out malloc'ed (NULL when none). */
size_t brs__an_maker_waits(const brs_an_recorder *r, double **out);

/* The quoting integrals of in, as they stand at time t (recorder.c). */
void brs__an_quote_advance(const brs_an_inst_state *in, int64_t t, int64_t *two_sided_ns,
                           double *spread_bps_ns);

/* Shortest "%.15g"/"%.17g" text that reads back as v (deterministic); "null" when
 * not finite and null_word is set, else "". */
void brs__an_fmt_double(char *buf, size_t len, double v, int json_null);
void brs__an_json_string(FILE *fp, const char *s);
int64_t brs__an_day(int64_t ts);
int brs__an_series_push(brs_an_series *s, int64_t ts, double equity, double cash,
                        const double *pos, const double *price, double bench, double qspread);
/* Append a point to a plot series by name (creating the name); every_ns as in
 * brs_an_options.sample_every_ns. Returns BRS_OK or a BRS_E_ code. */
int brs__an_plots_add(brs_an_plots *p, int64_t every_ns, int64_t ts, const char *name, double v);
void brs__an_plots_free(brs_an_plots *p);

/* ---- statistics over a curve (stats.c): shared by metrics and the report ---- */

/* Period resampling: the first sample, then the last sample of each period
 * (UTC day, month or year) except the first sample itself, so a period holding
 * only the first sample gives no point. ret[k] = eq[k+1] / eq[k] - 1 (NaN after 0). */
enum { BRS_AN_DAY = 0, BRS_AN_MONTH = 1, BRS_AN_YEAR = 2 };
typedef struct brs_an_periods {
    size_t n;              /* points; n - 1 returns */
    int64_t *ts;           /* the point's sample time */
    double *eq, *bench;    /* bench NaN when unknown */
    double *ret, *bret;    /* n - 1 returns (bret NaN when either end is unknown) */
} brs_an_periods;
int brs__an_periods(const brs_an_series *s, int kind, brs_an_periods *out);
/* The same over fixed periods of period_ns since the epoch (intraday returns). */
int brs__an_periods_every(const brs_an_series *s, int64_t period_ns, brs_an_periods *out);
void brs__an_periods_free(brs_an_periods *p);
/* Civil date of a time: year, month 1-12, day 1-31 (UTC). */
void brs__an_civil(int64_t ts, int *y, int *m, int *d);

/* A drawdown episode: from the sample that set a peak to the first later sample
 * at or above it (recovery_ts = -1: not recovered by the end). */
typedef struct brs_an_dd_episode {
    int64_t peak_ts, trough_ts, recovery_ts, end_ts;
    double peak, trough, depth; /* depth: (peak - trough) / peak */
} brs_an_dd_episode;
/* The `max` deepest episodes, deepest first (ties: earlier first); returns the count. */
size_t brs__an_worst_drawdowns(const brs_an_series *s, brs_an_dd_episode *out, size_t max);
/* Linear-interpolated quantile (numpy's default) of sorted x[0..n). */
double brs__an_quantile(const double *sorted, size_t n, double q);

/* A small CSV reader (csv_table.c, on libcsv): calls on_row for every record,
 * the header included (line 1). Errors name path:line. */
struct brs_an_table;
typedef int (*brs_an_row_fn)(struct brs_an_table *t);
typedef struct brs_an_table {
    const char *path;
    long line;
    char *buf;
    size_t len, cap;
    size_t *off;
    size_t nf, cap_f;
    brs_an_row_fn on_row;
    void *user;
    int rc;
    brs_error *err;
} brs_an_table;
int brs__an_table_read(brs_an_table *t);
const char *brs__an_table_field(const brs_an_table *t, size_t i);
int brs__an_table_column(const brs_an_table *t, const char *name);
/* Field col as a double (allow_empty: "" is NaN), with an error naming the line. */
int brs__an_table_num(brs_an_table *t, int col, const char *name, int allow_empty, double *out);
int brs__an_table_i64(brs_an_table *t, int col, const char *name, int64_t *out);
void brs__an_series_free(brs_an_series *s);

/* What report.html is drawn from: the curve, fill markers, the metrics (summary.json
 * as parsed) and the configuration. Both the run writer and `bourse report` build one. */
typedef struct brs_an_marker {
    int64_t ts;
    uint32_t instrument;
    uint8_t side;
    double price;
    int64_t qty;
    double fee;
} brs_an_marker;

/* Bars of one instrument in currency, for the candlesticks. */
typedef struct brs_an_ohlc {
    size_t n, cap;
    int64_t *ts;
    double *o, *h, *l, *c;
} brs_an_ohlc;
int brs__an_ohlc_push(brs_an_ohlc *b, int64_t ts, double o, double h, double l, double c);
void brs__an_ohlc_free(brs_an_ohlc *b);

typedef struct brs_an_report_input {
    const char *title;
    const brs_an_series *series;
    const char *const *symbols; /* k names */
    const brs_an_marker *markers;
    size_t n_markers;
    const brs_an_trade *trades;
    size_t n_trades;
    const brs_an_plots *plots;  /* may be NULL */
    const brs_an_ohlc *ohlc;    /* k entries (n 0: no bars), or NULL */
    const double *maker_wait;   /* seconds from each maker fill's order submission to it */
    size_t n_maker_wait;
    const char *bench_name;     /* may be NULL */
    const cJSON *summary;       /* object; may be NULL */
    const cJSON *config;        /* may be NULL */
} brs_an_report_input;

int brs__an_render_report(FILE *fp, const brs_an_report_input *in);

/* Parts of the page (report_data.c): the data block the page script draws from. */
void brs__an_report_data(FILE *fp, const brs_an_report_input *in);
/* The page script and the charting library, inlined at build time (report_assets.c). */
extern const char brs__an_uplot_js[], brs__an_uplot_css[], brs__an_report_js[], brs__an_sweep_js[];
/* `<style>` and `<script>` text must not hold "</": split such a sequence. */
void brs__an_put_script(FILE *fp, const char *text);

#endif
