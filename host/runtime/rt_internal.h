/* rt_internal.h: the runtime's state, shared by its files (rt_config.c setup,
 * rt_queue.c the clock and the time-ordered queue, rt_venues.c venue instances
 * and market data, rt_route.c the order path). Not for use outside host/runtime. */
#ifndef BRS_RUNTIME_RT_INTERNAL_H
#define BRS_RUNTIME_RT_INTERNAL_H

#include "book/book.h"
#include "book/view.h"
#include "exec_stats.h"
#include "plugin/loader.h"
#include "plugin/venue_host.h"
#include "risk/risk.h"
#include "runtime.h"
#include "sor/sor.h"
#include "strategy/runtime.h" /* BRS__SCTX_DEPTH: the depth a view keeps */

/* Q_SUBMIT_OVER, Q_REPLACE_OVER: an order entry or replace whose day ended on
 * its way (brs__rt_day_over): it expires at the venue */
enum { Q_SUBMIT = 1, Q_CANCEL, Q_REPLACE, Q_RESPONSE, Q_MARKET, Q_SUBMIT_OVER, Q_REPLACE_OVER };

typedef struct q_item {
    int64_t t;
    uint64_t seq;
    uint32_t kind;
    uint32_t venue;
    union {
        brs_order o;
        struct { uint64_t id; int64_t price, qty; } r;
        brs_order_event oe;
        brs_market_event me;
    } u;
} q_item;

typedef struct rt_venue {
    brs__venue_ctx vc;        /* first: a brs_ctx * is a rt_venue * (plugin/venue_host.h) */
    struct brs__rt *rt;
    uint32_t index;
    char name[64];
    brs_plugin plugin;
    brs_plugin_instance inst;
    const brs_venue_vtable *vt;
    int emits_market;         /* it has re-emitted replayed market data */
    /* for the router: what the routing decision needs to know of this venue */
    int32_t taker_ppm, maker_ppm;
    int64_t lot, min_qty;
    brs__view *view;          /* its book as last seen (router runs only) */
    brs_level bids[BRS__SCTX_DEPTH], asks[BRS__SCTX_DEPTH];
    int file;                 /* venues[].data: the one data file it replays (-1: all) */
    /* venues[].latency: this venue's delays (default: latency's) */
    int64_t order_ns, cancel_ns, response_ns, md_ns;
    int64_t last_action;      /* fifo: when the last action sent reaches it */
} rt_venue;

/* A client's order through the router: one working parent at a time. A replace
 * cancels the working parent and sends the rest as a new one when the old one
 * has ended (a price change loses queue priority on real venues too). */
typedef struct pmap_entry {
    uint64_t parent, order;     /* parent 0: between a replace's two parents */
    uint32_t client;
    brs_order o;                /* the client's order, as last replaced */
    int64_t cum;                /* filled over every parent of this order */
    int64_t new_price, new_qty; /* a replace waiting for the old parent to end */
    uint8_t replacing, resubmit, cancel_req;
    double arrival_mid;         /* the client's mid when it was sent (exec_stats) */
} pmap_entry;

/* A slot of the parent map's hash indexes: key, entry index + 1 (0: empty). */
typedef struct rt_ixslot {
    uint64_t k;
    uint32_t e1;
} rt_ixslot;

/* A child the router sent, for the child hook: whose parent it is. */
typedef struct rt_child {
    uint64_t child;             /* 0: empty slot */
    uint64_t order;
    uint32_t client;
    uint8_t acked;
    int64_t qty, cum;
} rt_child;

typedef struct rt_client {
    brs__rt_client_ops ops;
    brs__rt_route route;
} rt_client;

/* Orders routed straight to a venue carry their client in the venue order id:
 * (client << 48) | the client's id, plus a tag bit when a router shares the
 * venues (its child ids never have it). Client 0 without a router: the client's
 * own ids, unchanged. Venue ids stay below 2^62 (the sim venue's own ids). */
#define RT_ID_BITS 48
#define RT_ID_MASK ((UINT64_C(1) << RT_ID_BITS) - 1)
#define RT_DIRECT_TAG (UINT64_C(1) << 61)
#define RT_MAX_CLIENTS 4096

struct brs__rt {
    brs_config *cfg;
    struct brs__histogram *h_route; /* metrics: the router's time per order (NULL: off) */
    char where[32];           /* config key prefix ("book" or "") */
    const brs_instrument *instr;
    uint32_t n_instr;
    /* venues */
    rt_venue *v;
    uint32_t n_v;
    uint32_t route;           /* the default venue: direct orders and the clients' market view */
    /* latency */
    int md_from_file;
    int64_t md_ns, order_ns, cancel_ns, response_ns, jitter_ns;
    uint64_t rng;
    /* the queue and the clock */
    q_item *heap;
    uint32_t heap_n, heap_alloc; /* items in the heap, items allocated (grows by doubling) */
    uint32_t heap_cap;        /* queue_capacity: client actions are refused at this many in flight */
    uint32_t n_queued;        /* items in flight: the heap's and the ring's */
    /* the ring (rt_queue.c): an item queued not before the ring's last (market
     * data at a constant latency, what is due at once: a sweep's fills) skips
     * the heap; the next item is the earlier of its head and the heap's top */
    q_item *ring;
    uint32_t ring_head, ring_n, ring_cap; /* ring_cap: a power of 2, grows by doubling */
    int64_t ring_last;        /* time of the ring's last item */
    int admit_all;            /* brs__rt_admit_all: a journal replay re-applies what was admitted */
    uint64_t refused;         /* client actions refused for a full queue */
    int64_t refused_logged;   /* monotonic time of the last log line about it */
    uint64_t refused_quiet;   /* refusals since that line */
    uint64_t seq;
    int64_t now;
    uint32_t replay_src;      /* data file of the replayed event being handled */
    int failed;
    int fifo, quiet;          /* brs__rt_set_fifo, brs__rt_set_quiet */
    int after_sent;           /* brs__rt_after_sent */
    int64_t after_sent_last;  /* the latest arrival of an action sent with it on */
    int (*submit_fn)(void *user, uint32_t client, const brs_order *o); /* brs__rt_set_submit_hook */
    void *submit_user;
    int (*replace_fn)(void *user, uint32_t client, const brs_order *o); /* brs__rt_set_replace_hook */
    void *replace_user;
    brs_error err;
    /* market data for the clients: the default venue's book as it arrives (L3
     * applied; with the router, L2 levels as resting orders too) */
    brs__view *view;
    void (*sink)(void *user, const brs_market_event *ev);
    void *sink_user;
    /* clients */
    rt_client *clients;
    uint32_t n_clients, cap_clients;
    /* the smart order router (router.enabled): parents are the clients'
     * orders, children go to the venues */
    brs_sor_mgr *sor;
    brs_risk *risk;
    int sor_post;
    int64_t last_tick;
    pmap_entry *pmap;         /* router parent id <-> the client's order id */
    uint32_t n_pmap, cap_pmap;
    struct rt_ixslot *ix_parent, *ix_order; /* the pmap's hash indexes (rt_route.c) */
    uint64_t ix_mask;
    uint32_t submitting_client;
    uint64_t submitting;      /* the client's id while brs__sor_submit runs */
    const brs_order *submitting_o;
    uint32_t n_resubmit;      /* replaces whose new parent is still to be sent */
    /* the order a venue's xSubmit is being called for, and whether the venue
     * reported its refusal itself during the call (brs__rt_dispatch_order):
     * the runtime then adds no REJECTED of its own for the negative code */
    uint64_t xsubmit_id;
    uint8_t xsubmit_active, xsubmit_rejected;
    int books_from_venues;    /* brs__rt_opts.books_from_venues (brs__rt_set_books_from_venues) */
    int views;                /* the market view and the router's views are kept */
    int real_clock;           /* brs__rt_opts.real_clock: replay does not move the clock */
    int only;                 /* router.only_venue: the one venue routed to (-1: all) */
    brs__xstats xs;           /* inventory and execution figures (router runs) */
    /* the child hook (brs__rt_set_child_hook): open children by id (open
     * addressing, backward-shift deletion) and the parent of the child whose
     * event is being handled (a reroute's new children are its siblings) */
    void (*clock_fn)(void *user, int64_t now); /* brs__rt_set_clock_hook */
    void *clock_user;
    void (*child_fn)(void *user, const brs__rt_child_note *n);
    void *child_user;
    rt_child *cmap;
    uint32_t cmap_cap, cmap_n;
    const rt_child *child_ctx;
    /* the venues' books (rt_books.c): change counters [venue * n_instr +
     * instrument] (NULL: not tracked), and per hosted strategy and instrument
     * what its last top from them was */
    uint32_t *bgen;
    struct rt_top_seen *tops;
    uint32_t n_tops;
};

/* A venue's book of instrument may have changed (rt_books.c counts it). */
static inline void brs__rt_book_touch(brs__rt *rt, uint32_t venue, uint32_t instrument)
{
    if (rt->bgen && venue < rt->n_v && instrument < rt->n_instr)
        rt->bgen[(size_t)venue * rt->n_instr + instrument]++;
}

/* rt_route.c: frees the parent map and its indexes */
void brs__rt_pmap_free(brs__rt *rt);

/* rt_queue.c */
int brs__rtq_push(brs__rt *rt, const q_item *it);
/* A client action may enter the queue: BRS_OK, or BRS_E_AGAIN (logged, at
 * most a line a second) while queue_capacity items are in flight. */
int brs__rtq_admit(brs__rt *rt);
/* A Q_MARKET item for ev at time t from venue: the same as brs__rtq_push of
 * it, without building it first (once per replayed event with latency). */
int brs__rtq_push_market(brs__rt *rt, int64_t t, uint32_t venue, const brs_market_event *ev);
/* it->t = now + delay + jitter, then push. */
int brs__rtq_at(brs__rt *rt, int64_t delay, q_item *it);

/* rt_venues.c */
int brs__rt_open_venues(brs__rt *rt, cJSON *obj, const char *const *data_files, uint32_t n_files,
                        brs_error *err);
/* Market data reaching the host from venue `venue` (after its latency). */
void brs__rt_market_arrive(brs__rt *rt, const brs_market_event *ev, uint32_t venue);

/* rt_route.c */
void brs__rt_dispatch_order(brs__rt *rt, q_item *it);
/* An event of a direct order or a parent, under the client's id, to its client. */
void brs__rt_deliver(brs__rt *rt, uint32_t client, brs_order_event *ev);
int brs__rt_router_open(brs__rt *rt, const brs__rt_opts *o, brs_error *err);

#endif
