/* runtime.h: the one runtime every mode is a configuration of (DESIGN.md "One
 * order path"): the clock, the time-ordered event queue with its latency model,
 * the venue plugin instances and the order path (risk, the smart order router or
 * a direct venue route, venue dispatch, parent/child state). Whoever sends orders
 * (a strategy, a FIX session, a WebSocket session) is a *client* with an id;
 * every event of an order goes back to the client that sent it.
 *
 * Threading: a runtime is used by one thread only (the loop's); nothing here
 * locks. Backtests drive it on a simulated clock (brs__rt_set_now to the next
 * replayed event), gateways on the real clock (brs__rt_advance(now) after each
 * inbound message and on each loop turn). */
#ifndef BRS_RUNTIME_RUNTIME_H
#define BRS_RUNTIME_RUNTIME_H

#include <stdint.h>

#include <bourse/bourse.h>

#include "core/config.h"

typedef struct brs__rt brs__rt;

/* ---- configuration --------------------------------------------------------
 * The keys a book-mode run reads under "book" and `bourse serve` at the top
 * level, with one schema (docs/backtesting.md, docs/fix-gateway.md):
 *   latency {market_data, order_entry_ns, cancel_ns, response_ns, jitter_ns, seed}
 *   queue_capacity, venues [{name, plugin, params, data, latency}], route,
 *   router {enabled, post, ack_timeout_ns, max_reroutes, only_venue, max_parents,
 *           max_children}
 * and the top-level "risk" object (host/risk) when the router is on. */
typedef struct brs__rt_opts {
    int md_from_file;         /* market data reaches clients at ts_local */
    int64_t md_ns;            /* else at ts_exchange + md_ns */
    int64_t order_ns;         /* submit and replace: client -> venue */
    int64_t cancel_ns;        /* cancel: client -> venue */
    int64_t response_ns;      /* order events: venue -> client */
    int64_t jitter_ns;        /* each delay gets + uniform [0, jitter_ns] (seeded) */
    uint64_t seed;
    uint32_t queue_capacity;  /* client actions are refused at this many queue items in flight */
    int router;               /* a smart order router over the venues (host/sor) */
    int router_post;          /* limit parents may post what they cannot take */
    int64_t ack_timeout_ns;   /* router: a child unacknowledged this long is cancelled */
    int64_t max_reroutes;
    int64_t max_parents;      /* router: parent orders open at once (4096) */
    int64_t max_children;     /* router: child orders open at once (16384) */
    int n_venues;             /* entries of the venues array */
    /* Not a config key: the router reads each venue's own book (xDepth/xTop)
     * instead of the market data it has seen, so it sees every client's resting
     * orders (serve, where the venues are shared by many clients). Book mode
     * keeps its latency-delayed views. */
    int books_from_venues;
    /* Not a config key: keep the clients' market view and the router's views
     * of the venues even with books_from_venues (serve hosting strategies: they
     * see market data as a book-mode strategy does, and brs__rt_set_books_
     * from_venues can switch the router to those views). */
    int market_view;
    /* Not a config key: the clock is the real one (bourse live's feed):
     * replayed events happen at the clock's time, their exchange time does
     * not move it (it may be ahead of the local clock). */
    int real_clock;
} brs__rt_opts;

/* Read and check the runtime's keys of `obj` (cfg->root for serve, the "book"
 * object for book mode); `where` prefixes key names in messages ("book" gives
 * "book.latency.cancel_ns", "" gives "latency.cancel_ns"). Defaults are written
 * back into obj (the effective config). Unknown keys of obj itself are the
 * caller's to check (it owns the key list); nested objects are checked here. */
int brs__rt_read_config(brs_config *cfg, cJSON *obj, const char *where, brs__rt_opts *o,
                        brs_error *err);

/* Open the venues of obj.venues (plugins found and checked, instances opened)
 * for these instruments; data_files names the run's tick files in order (a
 * venue's "data" key picks one; NULL/0 when there are none). The router and
 * risk are set up when o->router. instr must outlive the runtime. */
int brs__rt_create(brs__rt **out, brs_config *cfg, cJSON *obj, const char *where,
                   const brs__rt_opts *o, const brs_instrument *instr, uint32_t n_instr,
                   const char *const *data_files, uint32_t n_files, brs_error *err);
void brs__rt_destroy(brs__rt *rt);

/* ---- venues ---------------------------------------------------------------- */
uint32_t brs__rt_venues(const brs__rt *rt);
/* The venue's configured name ("lit"), what LastMkt (30) carries. */
const char *brs__rt_venue_name(const brs__rt *rt, uint32_t venue);
/* The default venue (config `route`, else the first): direct orders of
 * clients without a route, and the clients' market view. */
uint32_t brs__rt_market_venue(const brs__rt *rt);
/* Index of the venue named `name`, or -1. */
int brs__rt_venue_find(const brs__rt *rt, const char *name);
/* Aggregated levels of the venue's book, best first (its xDepth; BRS_E_UNSUPPORTED
 * when the plugin has none). */
int brs__rt_depth(brs__rt *rt, uint32_t venue, uint32_t instrument, uint8_t side, brs_level *out,
                  uint32_t cap, uint32_t *n);

/* The instruments the runtime was created with. */
const brs_instrument *brs__rt_instruments(const brs__rt *rt, uint32_t *n);
/* The router reads each venue's own book (on) or the views market data has
 * built (off; only when they are kept: !books_from_venues or market_view).
 * serve's `market_data.speed: max` replays with them off, as book mode does. */
void brs__rt_set_books_from_venues(brs__rt *rt, int on);

/* Metrics (host/ops/run_metrics.c): time each order the router places into h
 * (NULL: off). */
struct brs__histogram;
void brs__rt_set_route_hist(brs__rt *rt, struct brs__histogram *h);

/* ---- clients: who sends orders ------------------------------------------- */
enum { BRS__RT_ROUTE_VENUE = 0, BRS__RT_ROUTE_SOR = 1 };

typedef struct brs__rt_route {
    int kind;          /* BRS__RT_ROUTE_VENUE or BRS__RT_ROUTE_SOR */
    uint32_t venue;    /* ROUTE_VENUE: the venue index */
} brs__rt_route;

/* "sor" or "venue:<name>" (a config's per-session `route`). */
int brs__rt_route_parse(const brs__rt *rt, const char *text, brs__rt_route *out, brs_error *err);
/* The route a client gets when its config says nothing: the router when the
 * runtime has one, else the default venue (obj.route, or the first venue). */
brs__rt_route brs__rt_default_route(const brs__rt *rt);

typedef struct brs__rt_client_ops {
    void *user;
    /* Every event of this client's orders, order_id being the client's own id
     * (the one given to brs__rt_submit). ev->venue is the venue it happened on:
     * for a routed parent, each FILL names the child's venue (LastMkt); cum_qty
     * and leaves are the parent's across venues. Kinds: ACCEPTED, FILL,
     * CANCELLED, REJECTED (reason a BRS_E_ code), REPLACED. May be called from
     * inside brs__rt_submit/cancel/replace (a synchronous refusal) or from
     * brs__rt_advance. Required. */
    void (*xOnOrder)(void *user, const brs_order_event *ev);
    /* Optional: the client's mid of instrument in price units (NAN unknown), for
     * the router's execution figures (arrival and post-fill mid). */
    double (*xMid)(void *user, uint32_t instrument);
    /* 0: an order that sets no stp gets BRS_STP_CANCEL_NEWEST (a strategy's
     * orders never trade with each other); nonzero: they keep BRS_STP_NONE and
     * may (a FIX venue's clients, as an exchange allows). */
    int self_trade;
    /* nonzero: xOnOrder never calls back into the runtime (a FIX gateway's
     * sessions), so a venue's event of a direct order with no response latency
     * is handed to it as the venue makes it, when nothing is queued before it
     * (the same order as through the queue, without a queue item per event:
     * a 40,000-order sweep's 80,000 events grew the queue by 12 MB in one
     * loop turn). */
    int passive;
} brs__rt_client_ops;

/* Add a client routed by `route`; *id is its client id (0, 1, ... in order of
 * addition, stable across restarts when added in the same order). */
int brs__rt_client_add(brs__rt *rt, const brs__rt_client_ops *ops, brs__rt_route route,
                       uint32_t *id, brs_error *err);

/* Order entry for a client. o->id is the client's own order id: unique within
 * the client, nonzero, below 2^48. An order with account 0 gets the client id
 * as its account (self-trade prevention is per account, so two clients' orders
 * always may trade with each other). Returns BRS_OK when taken (events follow
 * through xOnOrder) or a negative BRS_E_ code (nothing happened; a refusal by
 * risk or the router comes back as a REJECTED event instead). */
int brs__rt_submit(brs__rt *rt, uint32_t client, const brs_order *o);
int brs__rt_cancel(brs__rt *rt, uint32_t client, uint64_t id);
/* A size decrease keeps queue priority where the venue allows; through the
 * router a replace cancels the parent's children and routes the rest anew. */
int brs__rt_replace(brs__rt *rt, uint32_t client, uint64_t id, int64_t price, int64_t qty);

/* ---- child orders: the audit trail's view ------------------------------------
 * What the router does with a client's parent, one note per step, for whoever
 * keeps the audit trail (bourse serve journals them: docs/fix-gateway.md,
 * "Journal records"). Off (no cost) until a hook is set. */
enum {
    BRS__RT_CHILD_ROUTED = 1,   /* sent to a venue: o is the child order */
    BRS__RT_CHILD_CANCEL = 2,   /* the router asked the venue to cancel it */
    BRS__RT_CHILD_EVENT = 3     /* the venue's event about it: ev (ACCEPTED, FILL, CANCELLED, REJECTED, REPLACED) */
};
typedef struct brs__rt_child_note {
    int what;                   /* BRS__RT_CHILD_* */
    uint32_t client;            /* the parent's client (UINT32_MAX: not known) */
    uint64_t order;             /* the parent: the client's own order id (0: not known) */
    uint64_t child;             /* the child's id at the venue */
    uint32_t venue;
    int64_t now;                /* the runtime's clock */
    int64_t cum;                /* the child's filled quantity after this note */
    const brs_order *o;         /* ROUTED */
    const brs_order_event *ev;  /* EVENT */
} brs__rt_child_note;
void brs__rt_set_child_hook(brs__rt *rt, void (*fn)(void *user, const brs__rt_child_note *n), void *user);

/* ---- the clock and the queue ----------------------------------------------- */
int64_t brs__rt_now(const brs__rt *rt);
/* The clock itself, for a driver that reads it per event (book mode). */
const int64_t *brs__rt_clock(const brs__rt *rt);
/* Set the clock (a simulated clock's driver: the next timer's time). */
void brs__rt_set_now(brs__rt *rt, int64_t t);
/* Nonzero while anything is queued. */
int brs__rt_queued(const brs__rt *rt);
/* Time of the earliest queued item, INT64_MAX when the queue is empty. */
int64_t brs__rt_next_time(const brs__rt *rt);
/* Pop and dispatch the earliest item (the clock moves to its time). 0 when empty. */
int brs__rt_step(brs__rt *rt);
/* The router's ack timeouts at the current time (does nothing when the clock
 * has not moved since the last call, or without a router). */
void brs__rt_tick(brs__rt *rt);
/* Real clock: every item due by now is dispatched in time order, the clock at
 * each item's time (and the router's timeouts run), then the clock moves to
 * now. Returns items dispatched. */
uint32_t brs__rt_advance(brs__rt *rt, int64_t now);
/* Called at the end of a brs__rt_advance(now) that dispatched or queued
 * anything (NULL: off). A journal that records these times and replays the
 * same advances at them, between the same client calls, gets the very same
 * runtime back (bourse serve: docs/fix-gateway.md, "Runtime time in the
 * journal"). */
void brs__rt_set_clock_hook(brs__rt *rt, void (*fn)(void *user, int64_t now), void *user);
/* Latencies changed after create (bourse live's paper.latency): every venue's. */
void brs__rt_set_latency(brs__rt *rt, int64_t order_ns, int64_t cancel_ns, int64_t response_ns);
/* Order actions reach each venue in the order they were sent (one connection
 * delivers in order: a quick cancel cannot overtake the slower new order it
 * cancels). Off by default (book mode: each action after its own latency). */
void brs__rt_set_fifo(brs__rt *rt, int on);
/* While on: an order action sent reaches its venue no earlier than every
 * action sent to that venue before it (with fifo off, a cancel latency shorter
 * than the order-entry one would let it overtake an order still on its way):
 * at now + the venue's longer of its order-entry and cancel latencies + the
 * jitter's bound, later than any of them (no tracking on the order path).
 * Actions sent while on, at the same time, keep their order.
 * The FIX gateway's end of day turns it on around its expiries and the order
 * that made them, so each expiry reaches the venue after the order it expires
 * and before that order (docs/fix-gateway.md, "The end of day in steps").
 * Returns the setting before. */
int brs__rt_after_sent(brs__rt *rt, int on);
/* Called first by every brs__rt_submit (NULL: none): nonzero sends that
 * order with brs__rt_after_sent on. The FIX gateway's end of day expires the
 * old day's DAY orders a hosted strategy's order would meet there, as it does
 * before a client's (app_eod.c). */
void brs__rt_set_submit_hook(brs__rt *rt, int (*fn)(void *user, uint32_t client, const brs_order *o),
                             void *user);
/* A replace by a client that knows its order (a hosted strategy): o carries
 * the order's id, instrument, side and type with the new price and quantity.
 * With a replace hook set, the hook sees it as the submit hook sees a new
 * order (nonzero: sent with brs__rt_after_sent on); otherwise brs__rt_replace.
 * The FIX gateway's end of day (EOD_STEPS_V3) sets it beside its submit hook. */
int brs__rt_replace_known(brs__rt *rt, uint32_t client, const brs_order *o);
void brs__rt_set_replace_hook(brs__rt *rt, int (*fn)(void *user, uint32_t client, const brs_order *o),
                              void *user);
/* The day of orders on their way is over: every order entry (Q_SUBMIT) and
 * replace still queued for a venue, routed straight to it (not a router's
 * child), for which fn(user, client, id, replace) says so expires at the venue
 * when it gets there instead of reaching its book: an order is acknowledged
 * and then cancelled (ACCEPTED, CANCELLED, the venue's response latency
 * after its arrival; it never matches), a replace cancels the order it names
 * there (the venue's CANCELLED; nothing when the order is gone). Returns how
 * many were marked; *last: the latest arrival of those (INT64_MIN: none). A
 * real venue expires (or refuses) a DAY order that reaches it after its
 * session closed. The FIX gateway calls it as its end of day begins
 * (docs/fix-gateway.md, "The end of day in steps"). Nothing else changes: off
 * the order path. */
uint32_t brs__rt_day_over(brs__rt *rt, int (*fn)(void *user, uint32_t client, uint64_t id, int replace),
                          void *user, int64_t *last);
/* The latest arrival at a venue of a cancel sent with brs__rt_after_sent on
 * or of an order entry or replace brs__rt_day_over marked (the FIX end of
 * day's expiries; 0: none since the runtime started). */
int64_t brs__rt_after_sent_last(const brs__rt *rt);
/* Venues' informational log lines off (warnings and errors stay). */
void brs__rt_set_quiet(brs__rt *rt, int on);
/* A failure that stops the run (out of memory for the queue): its code, or 0;
 * msg in *err. A full queue is not one: see brs__rt_busy. */
int brs__rt_failed(const brs__rt *rt, brs_error *err);
/* queue_capacity items are in flight: a client action (submit, cancel,
 * replace) now would be refused with BRS_E_AGAIN (and logged). It clears as
 * the queue drains; what admitted actions cause is never refused. */
int brs__rt_busy(const brs__rt *rt);
/* A client action about to be made outside submit/cancel/replace (a gateway
 * refusing a request whole): BRS_OK, or BRS_E_AGAIN counted and logged as a
 * refusal while the queue is full. */
int brs__rt_admit(brs__rt *rt);
/* While on, client actions are never refused (a journal replay re-applies
 * actions that were admitted live, faster than they came). */
void brs__rt_admit_all(brs__rt *rt, int on);
/* Client actions refused so far for a full queue. */
uint64_t brs__rt_refused(const brs__rt *rt);

/* ---- market data --------------------------------------------------------- */
/* One replayed market event (instrument = run instrument; src = the data file
 * it came from): every venue replaying that file sees it now; clients see it
 * after the market-data latency, through the market sink, as the default
 * venue re-emits it (or as replayed when it does not). */
void brs__rt_replay(brs__rt *rt, const brs_market_event *ev, uint32_t src);
/* Where market data reaching the host goes (book mode: the strategy). The
 * sink is called after the event was applied to brs__rt_market_view. */
void brs__rt_set_market_sink(brs__rt *rt, void (*fn)(void *user, const brs_market_event *ev),
                             void *user);
/* The sink's user pointer (NULL: no sink). */
void *brs__rt_market_sink_user(const brs__rt *rt);
/* The default venue's book as market data reaches the host (L3 events applied;
 * with the router, L2 levels too): the clients' view for tops and depth. NULL
 * with books_from_venues (read the venue itself: brs__rt_depth). */
struct brs__view *brs__rt_market_view(brs__rt *rt);
/* The price band's reference for risk (the mid the host sees); no-op without risk. */
void brs__rt_risk_ref(brs__rt *rt, uint32_t instrument, int64_t price);

/* ---- execution figures ------------------------------------------------------ */
/* The router's inventory and execution figures (runtime/exec_stats.h), NULL
 * without the router. */
struct brs__xstats *brs__rt_xstats(brs__rt *rt);

#endif
