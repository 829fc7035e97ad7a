/* an_internal.h: the recorder's insides, shared by the analytics sources only
 * (recorder, metrics, run directory writer, report renderer, loader). */
#ifndef BRS_AN_INTERNAL_H
#define BRS_AN_INTERNAL_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "analytics.h"

/* The equity curve: n samples, k instruments; pos and price are n x k, row-major. */
typedef struct brs_an_series {
    size_t n, cap;
    uint32_t k;
    int64_t *ts;
    double *equity, *cash;
    double *pos;   /* double so the loader and the charts share one type */
    double *price;
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

    /* figures a driver adds to summary.json (brs__an_set_extra), in that order */
    struct { char name[64]; double v; } extra[BRS_AN_MAX_EXTRA];
    uint32_t n_extra;
};

/* ---- shared helpers -------------------------------------------------------- */

/* The quoting integrals of in, as they stand at time t (recorder.c). */
void brs__an_quote_advance(const brs_an_inst_state *in, int64_t t, int64_t *two_sided_ns,
                           double *spread_bps_ns);

/* Shortest "%.15g"/"%.17g" text that reads back as v (deterministic); "null" when
 * not finite and null_word is set, else "". */
void brs__an_fmt_double(char *buf, size_t len, double v, int json_null);
void brs__an_json_string(FILE *fp, const char *s);
int64_t brs__an_day(int64_t ts);
int brs__an_series_push(brs_an_series *s, int64_t ts, double equity, double cash,
                        const double *pos, const double *price);
void brs__an_series_free(brs_an_series *s);

/* What report.html is drawn from: the curve, fill markers, the metrics (summary.json
 * as parsed) and the configuration. Both the run writer and `bourse report` build one. */
typedef struct brs_an_marker {
    int64_t ts;
    uint32_t instrument;
    uint8_t side;
    double price;
} brs_an_marker;

typedef struct brs_an_report_input {
    const char *title;
    const brs_an_series *series;
    const char *const *symbols; /* k names */
    const brs_an_marker *markers;
    size_t n_markers;
    const cJSON *summary;       /* object; may be NULL */
    const cJSON *config;        /* may be NULL */
} brs_an_report_input;

int brs__an_render_report(FILE *fp, const brs_an_report_input *in);

#endif
