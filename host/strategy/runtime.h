/* runtime.h: the strategy context: one strategy instance (C plugin or Lua
 * script, both behind brs_strategy_vtable) and the brs_host services it sees:
 * typed parameters, orders with host-assigned ids, positions and integer PnL,
 * the market as last seen, clock, timers and logging.
 * Orders leave through an execution interface (brs__exec) that the simulated
 * venue / router plugs into; what happens to them comes back through
 * brs__sctx_order_event. Single-threaded, like the event loop that drives it. */
#ifndef BRS_STRATEGY_RUNTIME_H
#define BRS_STRATEGY_RUNTIME_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include <bourse/errors.h>
#include <bourse/host.h>
#include <bourse/strategy.h>
#include <bourse/types.h>

typedef struct brs__sctx brs__sctx;

/* Metrics of a running strategy (host/ops/run_metrics.c), when they are on:
 * the runtime counts order events here and times one callback in `every`
 * (two clock reads), then calls tick, which publishes at most every 100 ms.
 * Plain fields of the loop thread: no lock, no allocation. Attach it with
 * brs__sctx_set_meter (the countdown to the next timed callback is the
 * context's). */
typedef struct brs__sctx_meter {
    uint32_t every;
    int64_t t0;
    struct brs__histogram *h_cb;
    struct brs__histogram *h_route; /* the router's decision time, timed by its caller */
    void (*tick)(void *ud, int64_t now_mono);
    void *ud;
    uint64_t done; /* callbacks of the finished countdowns */
    uint64_t accepted, fills, cancels, rejects;
} brs__sctx_meter;



/* Where orders go. Every member may be called from inside a strategy callback;
 * order events produced meanwhile are queued and delivered after the callback
 * returns, so a strategy is never re-entered. The order passed to xSubmit
 * already carries its host-assigned id. xCancel/xReplace answer with events. */
typedef struct brs__exec {
    void *self;
    int (*xSubmit)(void *self, brs__sctx *sc, const brs_order *order);
    int (*xCancel)(void *self, brs__sctx *sc, uint64_t id);
    int (*xReplace)(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty);
    /* Optional: sees every market event before the strategy does. */
    void (*xOnMarket)(void *self, brs__sctx *sc, const brs_market_event *ev);
    /* Optional, signal backtests (host/backtest): brs_host.xSetTarget,
     * xSetTargets and xBars land here; NULL answers BRS_E_UNSUPPORTED. */
    int (*xSetTarget)(void *self, brs__sctx *sc, uint32_t instrument, double target);
    int (*xSetTargets)(void *self, brs__sctx *sc, uint32_t instrument, const double *targets,
                       uint64_t n);
    int (*xBars)(void *self, brs__sctx *sc, uint32_t instrument, const brs_market_event **bars,
                 uint64_t *n);
    /* brs_host.xBarColumns (ABI 1.2); out->size already checked */
    int (*xBarColumns)(void *self, brs__sctx *sc, uint32_t instrument, brs_bar_columns *out);
    /* brs_host.xSetTargetsAt (ABI 1.3) */
    int (*xSetTargetsAt)(void *self, brs__sctx *sc, uint32_t instrument, uint64_t first,
                         const double *targets, uint64_t n);
} brs__exec;

/* The book as last seen, per instrument. */
#define BRS__SCTX_DEPTH 10

typedef struct brs__sctx_instr {
    brs_instrument def;
    brs_top top;                       /* ts 0: never seen */
    brs_level bids[BRS__SCTX_DEPTH], asks[BRS__SCTX_DEPTH];
    uint32_t n_bids, n_asks;
    /* position: signed qty and signed cost (sum of qty * price of the open part) */
    int64_t pos_qty;
    int64_t pos_cost;
    int64_t realized;
    int64_t fees;
} brs__sctx_instr;

typedef struct brs__sctx_param {
    const brs_param_def *def;
    int set;            /* given in the config */
    int64_t i;          /* INT and BOOL */
    double d;           /* DOUBLE (and INT as double) */
    const char *s;      /* STRING: points into the cJSON or the declaration */
} brs__sctx_param;

typedef struct brs__sctx_timer {
    uint64_t id;
    int64_t at;
    int64_t interval;
    int active;
} brs__sctx_timer;

typedef struct brs__sctx_opts {
    const char *name;                  /* for messages and log lines */
    const brs_instrument *instruments; /* copied; id must equal the index */
    uint32_t n_instruments;
    const cJSON *params;               /* object of name: value, or NULL */
    const char *params_where;          /* its key path for messages, e.g. "strategy.params" */
    const brs__exec *exec;             /* NULL: every order is rejected */
    uint32_t max_orders;               /* open orders at once, default 1024 */
    uint32_t max_timers;               /* default 64 */
    uint32_t event_queue;              /* queued order events, default 4096 */
    uint64_t first_order_id;           /* default 1 */
    /* Bounds against a runaway strategy (config keys strategy.*, docs/lua-api.md):
     * each fails the strategy with a message naming its key when it bites. */
    uint32_t max_callbacks_per_event;  /* timer and order callbacks per event, default 10000 */
    uint32_t max_callbacks_per_instant; /* the same at one simulated nanosecond, default 100000 */
    uint64_t max_orders_per_run;       /* orders submitted, default 1000000 */
    uint64_t max_log_bytes_per_callback; /* log text per callback, default 65536 (then truncated) */
    uint64_t max_log_bytes;            /* log text per run, default 64 MiB (then dropped) */
    uint32_t account;
    FILE *log;                         /* NULL: stderr */
    int log_level;                     /* enum brs_log_level; messages below are dropped */
    int quiet;                         /* drop every log line (benchmarks) */
    int silent_failure;                /* the caller prints sc->error itself: no
                                        * "strategy stopped" line, so the reason is
                                        * printed once */
    /* brs_host.xPlot lands here (a backtest's recorder); NULL: BRS_E_UNSUPPORTED */
    int (*plot)(void *user, int64_t ts, const char *name, double v);
    void *plot_user;
} brs__sctx_opts;

struct brs__sctx {
    brs_host host;                     /* the services table handed to the strategy */
    char name[64];
    const brs_strategy_vtable *vt;
    void *self;
    int opened;                        /* xOpen ran: xClose is owed */
    int started;
    /* failed and d_len, error_pending and q_len side by side, each pair also
     * one 8-byte word, so the inline dispatch tests a pair at once (union
     * type punning, defined in C) */
    union {
        struct {
            int failed;                /* a BRS_E_ code once the strategy failed */
            uint32_t d_len;            /* refusals waiting in `deferred` (below) */
        };
        uint64_t hold;                 /* nonzero: the inline dispatch does not apply */
    };
    union {
        struct {
            int error_pending;         /* an error logged in the running callback, printed
                                        * when it returns unless it failed (then the
                                        * failure names it) */
            uint32_t q_len;            /* order events in `queue` (below) */
        };
        uint64_t pending;              /* nonzero: the callback left work for its guard */
    };
    char error[BRS_ERROR_MSG_MAX];     /* why it failed */
    /* The running callback's last error-level log line and log bytes: valid
     * while log_seq == brs__sctx_ticks(sc), which every callback changes
     * (brs__sctx_log_fresh, runtime_internal.h): they are cleared by the
     * callback's first log line or its guard, not on every call */
    char last_error_log[BRS_ERROR_MSG_MAX];
    uint64_t log_seq;
    /* One counter per callback, whatever its kind and path: every callback
     * entered (the inline dispatches, brs__sctx_enter*) adds 1 to tick and
     * nothing else. It counts from the next timed callback of the metrics
     * (meter_due callbacks since the start: tick is -1 before it, 0 at it),
     * so the countdown is its sign; the callback count (brs__sctx_ticks,
     * brs__sctx_callbacks) and the log epoch are read from it. */
    int64_t tick;
    uint64_t meter_due;                /* metrics off: BRS__SCTX_METER_OFF callbacks ahead */
    uint64_t n_other;                  /* callbacks entered that are not market-event callbacks */
    /* brs__sctx_call_bar's inline path applies while tick + 1 < bar_gate:
     * 0 while the strategy runs with nothing held (failed, refusals
     * waiting) and has xOnBar, else INT64_MIN (brs__sctx_regate keeps it) */
    int64_t bar_gate;
    int (*on_bar)(void *self, const brs_market_event *bar); /* vt->xOnBar */
    int64_t now;

    brs__sctx_instr *instr;
    int64_t *last_price;               /* per instrument: last trade or bar close, 0 if none */
    uint32_t n_instr;
    brs__sctx_param *params;
    uint32_t n_params;

    brs__exec exec;
    int has_exec;
    int (*plot)(void *user, int64_t ts, const char *name, double v);
    void *plot_user;
    uint64_t next_order_id;
    uint32_t account;
    brs_order_info *orders;            /* open orders, in submission order */
    uint32_t n_orders, max_orders;

    brs__sctx_timer *timers;
    uint32_t n_timers, max_timers;
    uint64_t next_timer_id;

    brs_order_event *queue;            /* order events waiting for the callback to return */
    uint32_t q_head, q_cap;
    int in_callback;

    FILE *log;
    int log_level;
    int quiet;
    int silent_failure;
    brs__sctx_meter *meter;            /* metrics; NULL: off (brs__sctx_set_meter) */
    int meter_timing;                  /* this callback is timed */

    /* runaway bounds (brs__sctx_opts) */
    brs_order_event *deferred;         /* refusals made inside a callback: delivered with the next event */
    uint32_t d_head;
    uint32_t chain, max_chain;         /* timer/order callbacks in this event */
    uint32_t chain_instant, max_chain_instant;
    int64_t chain_now;
    uint64_t n_submitted, max_orders_run;
    uint64_t log_cb, log_run, max_log_cb, max_log_run;
    int log_cut;                       /* bit 0: per-callback cut said, bit 1: per-run */
};

/* Metrics off, the next "timed" callback is this far ahead: never reached
 * (brs__sctx_meter_start starts the count again if it were). */
#define BRS__SCTX_METER_OFF (UINT64_C(1) << 62)

/* Order quantities and prices the runtime accepts: their product, and a
 * position's cost, fit in 63 bits (docs/lua-api.md, "The sandbox"). */
#define BRS__SCTX_MAX_QTY INT64_C(1000000000)
#define BRS__SCTX_MAX_PRICE INT64_C(4000000000)

/* Set up the context for a strategy declaring vt->params: checks the vtable
 * size, then every given parameter (unknown names, wrong types and values out
 * of bounds are errors naming the parameter). Does not call the strategy. */
int brs__sctx_init(brs__sctx *sc, const brs_strategy_vtable *vt, const brs__sctx_opts *opts,
                   brs_error *err);
/* Call xOpen(self, host, ctx); afterwards xClose is owed (brs__sctx_free calls it). */
int brs__sctx_open(brs__sctx *sc, void *self, brs_error *err);
/* Take an instance someone else opened against brs__sctx_host/brs__sctx_ctx
 * (the plugin loader); its xClose stays with that owner. */
void brs__sctx_attach(brs__sctx *sc, void *self);
int brs__sctx_start(brs__sctx *sc, brs_error *err);
/* Calls xStop (unless the strategy failed), then cancels its open orders. */
int brs__sctx_stop(brs__sctx *sc, brs_error *err);
/* xClose if owed, then free everything. Safe on a zeroed context. */
void brs__sctx_free(brs__sctx *sc);

static inline const brs_host *brs__sctx_host(brs__sctx *sc) { return &sc->host; }
static inline brs_ctx *brs__sctx_ctx(brs__sctx *sc) { return (brs_ctx *)(void *)sc; }

/* Callbacks entered since brs__sctx_init (every kind, the backend's market
 * pass included), and of them the market-event callbacks delivered (bars,
 * trades, tops, depth, raw events). */
static inline uint64_t brs__sctx_ticks(const brs__sctx *sc) { return sc->meter_due + (uint64_t)sc->tick; }
static inline uint64_t brs__sctx_callbacks(const brs__sctx *sc) { return brs__sctx_ticks(sc) - sc->n_other; }

/* Metrics on (m) or off (NULL), between callbacks. */
void brs__sctx_set_meter(brs__sctx *sc, brs__sctx_meter *m);
/* Callbacks entered since metrics were attached (loop thread). */
uint64_t brs__sctx_meter_callbacks(const brs__sctx *sc);

/* ---- driving it (the event loop, tests, benchmarks) ------------------- */
/* Fire the timers due at or before now (in time order), then set the clock.
 * Inline for the common case of an event loop's every event: no timer set and
 * no refusal waiting (a new event: the per-event callback bound starts again). */
int brs__sctx_advance_timers(brs__sctx *sc, int64_t now);
static inline int brs__sctx_advance(brs__sctx *sc, int64_t now)
{
    if (__builtin_expect(sc->n_timers != 0 || sc->d_len != 0, 0))
        return brs__sctx_advance_timers(sc, now);
    sc->chain = 0;
    if (now > sc->now)
        sc->now = now;
    return sc->failed;
}
/* The earliest pending timer, or INT64_MAX. */
int64_t brs__sctx_next_timer(const brs__sctx *sc);
/* One market event: updates the market as last seen, lets the execution
 * backend see it, and calls the subscribed callback (QUOTE -> xOnTop, TRADE ->
 * xOnTrade, BAR -> xOnBar, L2/L3 -> xOnMarket and, once per message, xOnDepth). */
int brs__sctx_on_market(brs__sctx *sc, const brs_market_event *ev);
/* 1 when BAR events would run no code of the strategy or the backend (no bar
 * or L3 callback wanted, no backend xOnMarket, no timer pending): an engine may
 * then skip them and set the state they would leave with brs__sctx_skip_bars. */
int brs__sctx_bars_quiet(const brs__sctx *sc);
/* The state after skipped BAR events: clock at least now, last price of
 * instrument at last_price (what on_market would have left). */
void brs__sctx_skip_bars(brs__sctx *sc, uint32_t instrument, int64_t now, int64_t last_price);
/* The bar callback alone, as the engine calls it: the clock and last price
 * are updated, xOnBar is called through the vtable (the strategy must want
 * bars), order events it caused are delivered. No execution-backend pass:
 * `bench strategy` uses it to time the callback itself. Inline for the common
 * case (a running strategy with xOnBar, no refusal waiting, no timed callback:
 * one compare with bar_gate; after it nothing queued, refused, logged as an
 * error or failed); everything else goes through the out-of-line guard, with
 * the same effects. The per-event callback bound (chain) restarts in that
 * guard: the inline path runs no timer or order callback that would count. */
int brs__sctx_call_bar_slow(brs__sctx *sc, const brs_market_event *bar);
int brs__sctx_call_bar_after(brs__sctx *sc, int rc);
static inline int brs__sctx_call_bar(brs__sctx *sc, const brs_market_event *bar)
{
    int64_t t = sc->tick + 1;
    if (__builtin_expect(bar->instrument >= sc->n_instr || t >= sc->bar_gate, 0))
        return brs__sctx_call_bar_slow(sc, bar);
    if (bar->ts_local > sc->now)
        sc->now = bar->ts_local;
    sc->last_price[bar->instrument] = bar->bar.close;
    sc->tick = t; /* a callback counted, a new log epoch; < 0: not a timed one */
    sc->in_callback = 1;
    int rc = sc->on_bar(sc->self, bar);
    /* queued events, a logged error, a failure or a refusal made (hold) */
    if (__builtin_expect(rc < 0 || (sc->pending | sc->hold) != 0, 0))
        return brs__sctx_call_bar_after(sc, rc);
    sc->in_callback = 0;
    return BRS_OK;
}
/* A top the host's book gives the strategy: the same as brs__sctx_on_market
 * of a QUOTE event (instrument, the two times, flags, the top's four
 * fields), without building the event in the common case: a running
 * strategy that wants tops and not raw events (xOnMarket), no execution
 * backend watching market data, no refusal waiting, no timed callback; and
 * after the callback nothing queued, logged as an error or failed.
 * Everything else goes through brs__sctx_call_top_slow, with the same effects. */
int brs__sctx_call_top_slow(brs__sctx *sc, uint32_t instrument, int64_t ts_exchange, int64_t ts_local,
                            uint16_t flags, const brs_top *top);
int brs__sctx_call_top_after(brs__sctx *sc, int rc);
static inline int brs__sctx_call_top(brs__sctx *sc, uint32_t instrument, int64_t ts_exchange,
                                     int64_t ts_local, uint16_t flags, const brs_top *top)
{
    const brs_strategy_vtable *vt = sc->vt;
    uint32_t sub = vt->subscriptions;
    if (__builtin_expect(instrument >= sc->n_instr || sc->d_len != 0 || sc->failed != 0 || !sc->started ||
                             sc->tick + 1 >= 0 || (sc->has_exec && sc->exec.xOnMarket) ||
                             (sub && !(sub & BRS_SUB_TOP)) || !BRS_VT_HAS(vt, brs_strategy_vtable, xOnTop) ||
                             ((!sub || (sub & BRS_SUB_L3)) && BRS_VT_HAS(vt, brs_strategy_vtable, xOnMarket)),
                         0))
        return brs__sctx_call_top_slow(sc, instrument, ts_exchange, ts_local, flags, top);
    sc->chain = 0;
    int64_t ts = ts_local ? ts_local : ts_exchange;
    if (ts > sc->now)
        sc->now = ts;
    brs_top *t = &sc->instr[instrument].top;
    t->ts = ts;
    t->bid_price = top->bid_price;
    t->bid_qty = top->bid_qty;
    t->ask_price = top->ask_price;
    t->ask_qty = top->ask_qty;
    sc->tick++; /* < 0 above: not a timed one; a new log epoch (brs__sctx_log_fresh) */
    sc->in_callback = 1;
    int rc = vt->xOnTop(sc->self, t);
    if (__builtin_expect(rc < 0 || sc->error_pending || sc->q_len != 0 || sc->failed != 0, 0))
        return brs__sctx_call_top_after(sc, rc);
    sc->in_callback = 0;
    return BRS_OK;
}
/* Replace one side of the book as last seen (for L2/L3 feeds whose book is
 * kept by the engine), levels best first. */
void brs__sctx_set_depth(brs__sctx *sc, uint32_t instrument, uint8_t side,
                         const brs_level *levels, uint32_t n);
/* What happened to an order: updates open orders and the position, then calls
 * xOnOrder (queued while a callback runs). */
int brs__sctx_order_event(brs__sctx *sc, const brs_order_event *ev);
/* "int", "double", "bool", "string". */
const char *brs__param_type_name(uint32_t type);
/* Call xReload (parameters changed at run time). */
int brs__sctx_reload(brs__sctx *sc);
/* The strategy failed: record why, cancel its orders, stop calling it. */
void brs__sctx_fail(brs__sctx *sc, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the simple fill model -------------------------------------------- */
/* A deliberately simple deterministic execution backend for tests, benches and
 * `strategy check`; the real book simulation is the matching engine's job.
 * Market orders (and marketable limit orders) fill in full at once: at the
 * touch when a quote was seen, else at the last trade / bar close. Resting
 * limit orders fill in full at their limit price when a later bar trades
 * through it (low < buy price, high > sell price) or the opposite touch
 * reaches it. FOK/IOC that cannot fill at once are cancelled; post-only that
 * would take is rejected. No fees, no latency, no queue position. */
typedef struct brs__simfill_order {
    brs_order o;
    int live;
} brs__simfill_order;

typedef struct brs__simfill {
    brs__simfill_order *resting;
    uint32_t n, cap;
    /* Optional: every fill, as the strategy will see it. */
    void (*on_fill)(void *user, const brs_order_event *fill);
    void *user;
    uint64_t n_fills;
} brs__simfill;

int brs__simfill_init(brs__simfill *fm, uint32_t cap);
void brs__simfill_free(brs__simfill *fm);
/* The brs__exec view of fm. */
brs__exec brs__simfill_exec(brs__simfill *fm);

/* Position view for one instrument (unrealized marked at the mid, else at the
 * last trade or bar close). */
void brs__sctx_position(const brs__sctx *sc, uint32_t instrument, brs_position *out);

/* n one-minute bars of a deterministic random walk (steps of -20..20 ticks)
 * starting at start_price, the first ending at start_ts + 1 min. */
void brs__bars_random_walk(brs_market_event *out, size_t n, uint64_t seed, uint32_t instrument,
                           int64_t start_price, int64_t start_ts);

#endif
