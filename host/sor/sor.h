/* sor.h: the smart order router. Two parts:
 *  - brs__sor_route(): a PURE decision function. Given a parent order and each
 *    venue's book as last seen (top N levels), fees, latency, lot and minimum
 *    sizes and up/down status, it returns child orders. No state, no clock,
 *    no allocation; the same inputs always give the same plan.
 *  - brs_sor_mgr: the parent-order manager. It tracks children, re-routes the
 *    remainder when a child is rejected, times out or its venue goes down, never
 *    over-fills a parent, and reports one stream of fills per parent.
 * The decision rule, tie-breaks and the failover state machine: docs/router.md. */
#ifndef BRS_SOR_H
#define BRS_SOR_H

#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

#include "risk/risk.h"

#define BRS_SOR_MAX_VENUES 8
/* With minimum sizes above a lot, the exact programme over every total runs
 * when the parent is at most this many units of the lots' gcd (mixed lots
 * without minimums use the window search at any size; docs/router.md, "Lots
 * and minimum sizes"). */
#define BRS_SOR_DP_MAX_UNITS 512
/* Fees are in millionths of the notional (1 bp = 100); negative is a rebate. */
#define BRS_SOR_FEE_SCALE 1000000

/* One venue as the router sees it. Books are best first, as last seen by the
 * host (after market-data latency). */
typedef struct brs_sor_venue {
    const brs_level *bids;
    const brs_level *asks;
    uint32_t n_bids, n_asks;
    int32_t taker_fee_ppm;
    int32_t maker_fee_ppm;
    int64_t latency_ns; /* order-entry latency: the tie-break between equal prices */
    int64_t lot_size;   /* >= 1 */
    int64_t min_qty;    /* 0 = lot_size */
    uint8_t up;         /* 0: down, never routed to */
    uint8_t no_take;    /* 1: do not take here (failover exclusion) */
    uint8_t no_post;    /* 1: do not post here */
    uint8_t reserved;
} brs_sor_venue;

typedef struct brs_sor_parent {
    uint8_t side;  /* enum brs_side */
    uint8_t type;  /* BRS_LIMIT or BRS_MARKET */
    uint8_t post;  /* limit only: post what cannot be taken now */
    uint8_t reserved;
    int64_t qty;
    int64_t price; /* limit price, ignored for market */
} brs_sor_parent;

enum brs_sor_child_kind { BRS_SOR_TAKE = 0, BRS_SOR_POST = 1 };

typedef struct brs_sor_child {
    uint32_t venue;
    uint8_t kind;  /* TAKE: IOC limit at price; POST: GTC limit at price */
    uint8_t side;
    uint16_t reserved;
    int64_t price; /* TAKE: worst level taken there; POST: the parent's limit */
    int64_t qty;
} brs_sor_child;

/* GREEDY_EXACT: uniform lots; WINDOW_EXACT: mixed lots, no minimum above a lot
 * (the LP optimum and the proximity window around it); DP_EXACT: minimum sizes,
 * full programme over quantity; GREEDY_APPROX: minimum sizes on a large parent. */
enum brs_sor_method {
    BRS_SOR_GREEDY_EXACT = 0,
    BRS_SOR_DP_EXACT = 1,
    BRS_SOR_GREEDY_APPROX = 2,
    BRS_SOR_WINDOW_EXACT = 3
};

typedef struct brs_sor_plan {
    brs_sor_child child[BRS_SOR_MAX_VENUES + 1];
    uint32_t n;
    uint8_t method;        /* enum brs_sor_method */
    int64_t take_qty;      /* sum of TAKE children */
    int64_t post_qty;
    int64_t unrouted;      /* qty - take_qty - post_qty */
    double net_cost;       /* TAKE children: sum price x qty x (1 + fee), sells negative */
} brs_sor_plan;

/* Route one parent. Returns BRS_OK (a plan, possibly with no children) or
 * BRS_E_INVAL (bad parent or venue description). */
int brs__sor_route(const brs_sor_parent *p, const brs_sor_venue *v, uint32_t n_venues,
                   brs_sor_plan *out);

/* Net cost of taking qty from one side of a book up to a limit, in price x qty
 * units x BRS_SOR_FEE_SCALE, exact; used by tests and the brute-force check.
 * Returns the quantity actually available in *got. */
__int128 brs__sor_take_cost(const brs_level *lv, uint32_t n, int side, int64_t limit, int market,
                            int32_t fee_ppm, int64_t qty, int64_t *got);

/* ---- parent-order manager ------------------------------------------------ */

/* What the manager needs from its host (the backtest driver or the live loop). */
typedef struct brs_sor_ops {
    void *user;
    /* Send a child to a venue (o->id is the child id). A negative return is a
     * synchronous reject (handled like a REJECTED event). */
    int (*xSend)(void *user, uint32_t venue, const brs_order *o);
    int (*xCancel)(void *user, uint32_t venue, uint64_t child_id);
    /* Fill v[0..n) with the venues' books for an instrument as last seen, fees,
     * lots, latency. The manager then applies its own up/down and exclusions. */
    int (*xBooks)(void *user, uint32_t instrument, int side, brs_sor_venue *v, uint32_t n);
    /* One event about a parent: ACCEPTED, FILL (each child fill once), CANCELLED
     * (the unfilled rest, once the parent is done), REJECTED. order_id is the
     * parent id; venue is where a fill happened. */
    void (*xParentEvent)(void *user, const brs_order_event *ev);
} brs_sor_ops;

typedef struct brs_sor_mgr_config {
    uint32_t n_venues;
    uint32_t max_parents;   /* open parents at once */
    uint32_t max_children;  /* open children at once */
    int64_t ack_timeout_ns; /* no ack within this: cancel the child (0: never) */
    uint32_t max_reroutes;  /* per parent (default 32) */
} brs_sor_mgr_config;

typedef struct brs_sor_mgr brs_sor_mgr;

/* risk may be NULL (no pre-trade checks); it must outlive the manager. */
int brs__sor_mgr_create(brs_sor_mgr **out, const brs_sor_mgr_config *cfg, const brs_sor_ops *ops,
                        brs_risk *risk, brs_error *err);
void brs__sor_mgr_destroy(brs_sor_mgr *m);

/* A new parent order (o->id ignored; the manager assigns *id). Risk checks run
 * first: a refused parent returns BRS_E_RISK and produces a REJECTED event.
 * post != 0 lets a limit parent post what cannot be taken. */
int brs__sor_submit(brs_sor_mgr *m, const brs_order *o, int post, int64_t now, uint64_t *id,
                    brs_error *err);
/* Cancel a parent: every open child is cancelled; CANCELLED follows when they are done. */
int brs__sor_cancel(brs_sor_mgr *m, uint64_t parent_id);
/* An event from a venue about a child (ev->order_id is the child id). */
void brs__sor_on_child_event(brs_sor_mgr *m, const brs_order_event *ev, int64_t now);
/* Venue status: down stops routing there; children there wait for the venue's
 * own cancels (cancel-on-disconnect) or rejects before their qty is re-routed. */
void brs__sor_venue_status(brs_sor_mgr *m, uint32_t venue, int up, int64_t now);
/* Time passes: children without an ack past ack_timeout_ns are cancelled. */
void brs__sor_tick(brs_sor_mgr *m, int64_t now);
/* Kill switch: risk refuses everything from now on and every open child is cancelled. */
void brs__sor_kill(brs_sor_mgr *m, const char *reason);

/* Introspection for tests and reports. */
typedef struct brs_sor_parent_info {
    uint64_t id;
    int64_t qty, cum_qty, leaves;
    uint32_t open_children;
    uint32_t reroutes;
    uint8_t done;
} brs_sor_parent_info;
int brs__sor_parent_info(const brs_sor_mgr *m, uint64_t parent_id, brs_sor_parent_info *out);
uint32_t brs__sor_open_children(const brs_sor_mgr *m);

#endif
