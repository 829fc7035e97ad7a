/* book_mode.c: the book-mode driver. One simulated clock advances to the next
 * of: a replayed market event (k-way merge of the tick files, by exchange
 * time), an item of the latency queue (an order reaching a venue, an answer or
 * market data reaching the strategy), or a strategy timer. The queue is a
 * preallocated binary heap ordered by (time, sequence): nothing is allocated
 * per event and equal times keep their causal order, so runs are deterministic.
 * Venues are plugins (brs_venue_vtable) given a host-services table of their
 * own; the strategy's orders reach them through the runtime's brs__exec. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "book_mode.h"
#include "exec_stats.h"
#include "core/core.h"
#include "ops/metrics.h"
#include "core/interrupt.h"
#include "plugin/json_params.h"
#include "plugin/loader.h"
#include "plugin/venue_host.h"
#include "risk/risk.h"
#include "sor/sor.h"
#include "ticks/tickfile.h"

enum { Q_SUBMIT = 1, Q_CANCEL, Q_REPLACE, Q_RESPONSE, Q_MARKET };

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

typedef struct bk_venue {
    brs__venue_ctx vc;        /* first: a brs_ctx * is a bk_venue * (plugin/venue_host.h) */
    struct brs__book_run *run;
    uint32_t index;
    char name[64];
    brs_plugin plugin;
    brs_plugin_instance inst;
    const brs_venue_vtable *vt;
    char params_where[96];
    int emits_market;         /* it has re-emitted replayed market data */
    /* for the router: what the routing decision needs to know of this venue */
    int32_t taker_ppm, maker_ppm;
    int64_t lot, min_qty;
    brs_engine *view;         /* its book as last seen (router runs only) */
    brs_level bids[BRS__SCTX_DEPTH], asks[BRS__SCTX_DEPTH];
    int file;                 /* book.venues[].data: the one data file it replays (-1: all) */
    /* book.venues[].latency: this venue's delays (default: book.latency's) */
    int64_t order_ns, cancel_ns, response_ns, md_ns;
} bk_venue;

/* A strategy order through the router: one working parent at a time. A replace
 * cancels the working parent and sends the rest as a new one when the old one
 * has ended (a price change loses queue priority on real venues too). */
typedef struct pmap_entry {
    uint64_t parent, order;     /* parent 0: between a replace's two parents */
    brs_order o;                /* the strategy's order, as last replaced */
    int64_t cum;                /* filled over every parent of this order */
    int64_t new_price, new_qty; /* a replace waiting for the old parent to end */
    uint8_t replacing, resubmit, cancel_req;
    double arrival_mid;         /* the strategy's mid when it was sent (exec_stats) */
} pmap_entry;

struct brs__book_run {
    brs_config *cfg;
    /* data */
    brs_tick_reader *rd;
    uint32_t n_files;
    brs_tick_merge merge;
    brs_tick_reader **src;
    int merging;
    uint32_t n_map;
    uint32_t **map;           /* [file][file instrument] -> run instrument */
    brs_instrument *instr;
    uint32_t n_instr;
    uint64_t total_events;
    /* venues */
    bk_venue *v;
    uint32_t n_v;
    uint32_t route;           /* venue index strategy orders go to */
    /* latency */
    int md_from_file;
    int64_t md_ns, order_ns, cancel_ns, response_ns, jitter_ns;
    uint64_t rng;
    /* the queue */
    q_item *heap;
    uint32_t heap_n, heap_cap;
    uint64_t seq;
    /* the strategy's view of L3 books, at its arrival time */
    brs_engine *view;
    brs_top *last_top;
    int want_l3, want_depth;
    /* run state */
    brs__sctx *sc;
    brs_an_recorder *rec;
    int64_t now;
    int64_t last_rec_ts;
    double cash;
    int64_t *pos;
    double *mark;             /* per instrument, currency */
    int64_t sample_every, next_sample;
    int flatten;
    int failed;
    int interrupted; /* stopped by SIGINT/SIGTERM at a safe point */
    brs_error err;
    uint64_t fills, orders, events;
    /* the smart order router (book.router.enabled): parents are the strategy's
     * orders, children go to the venues */
    brs_sor_mgr *sor;
    brs_risk *risk;
    int sor_post;
    int64_t last_tick;
    pmap_entry *pmap;         /* router parent id <-> the strategy's order id */
    uint32_t n_pmap, cap_pmap;
    uint64_t submitting;      /* the strategy's id while brs__sor_submit runs */
    const brs_order *submitting_o;
    uint32_t n_resubmit;      /* replaces whose new parent is still to be sent */
    uint32_t replay_src;      /* data file of the pending replayed event */
    int only;                 /* book.router.only_venue: the one venue routed to (-1: all) */
    brs__xstats xs;           /* inventory and execution figures (router runs) */
};

/* ---- the heap ----------------------------------------------------------- */

static inline int q_less(const q_item *a, const q_item *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int q_push(brs__book_run *b, const q_item *it)
{
    if (BRS__UNLIKELY(b->heap_n == b->heap_cap)) {
        if (!b->failed)
            b->failed = brs__err(&b->err, BRS_E_LIMIT,
                                 "latency queue full (%u items in flight): raise book.queue_capacity",
                                 b->heap_cap);
        return BRS_E_LIMIT;
    }
    q_item x = *it;
    x.seq = b->seq++; /* equal times leave in the order they were queued */
    uint32_t i = b->heap_n++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!q_less(&x, &b->heap[p]))
            break;
        b->heap[i] = b->heap[p];
        i = p;
    }
    b->heap[i] = x;
    return BRS_OK;
}

static void q_pop(brs__book_run *b, q_item *out)
{
    *out = b->heap[0];
    q_item last = b->heap[--b->heap_n];
    uint32_t i = 0, n = b->heap_n;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && q_less(&b->heap[c + 1], &b->heap[c]))
            c++;
        if (!q_less(&b->heap[c], &last))
            break;
        b->heap[i] = b->heap[c];
        i = c;
    }
    if (n)
        b->heap[i] = last;
}

static int64_t jitter(brs__book_run *b)
{
    if (b->jitter_ns <= 0)
        return 0;
    b->rng ^= b->rng << 13; /* xorshift64: seeded, so runs stay reproducible */
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return (int64_t)(b->rng % (uint64_t)(b->jitter_ns + 1));
}

static int q_at(brs__book_run *b, int64_t delay, q_item *it)
{
    it->t = b->now + delay + jitter(b);
    return q_push(b, it);
}

/* ---- services for venue instances ------------------------------------------ */

#define VN(ctx) ((bk_venue *)(void *)(ctx))

static int64_t v_now(brs_ctx *ctx) { return VN(ctx)->run->now; }

static void v_log(brs_ctx *ctx, int level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < BRS_LOG_INFO)
        return;
    fprintf(stderr, "[venue %s] %s: %s\n", VN(ctx)->name, names[level & 3], msg ? msg : "");
}

/* What a venue reports reaches the strategy after the response latency. */
static int v_emit_order(brs_ctx *ctx, const brs_order_event *ev)
{
    bk_venue *v = VN(ctx);
    brs__book_run *b = v->run;
    if (!ev)
        return BRS_E_INVAL;
    q_item it = {.kind = Q_RESPONSE, .venue = v->index};
    it.u.oe = *ev;
    it.u.oe.venue = v->index;
    if (!it.u.oe.ts)
        it.u.oe.ts = b->now;
    return q_at(b, v->response_ns, &it);
}

static void deliver_market(brs__book_run *b, const brs_market_event *ev, uint32_t venue);

/* Market data as a venue shows it (the replay after its price offset and
 * liquidity scale, nothing while it is down) reaches the strategy after the
 * market-data latency. Only the routing venue's view is the strategy's, so one
 * feed shared by several venues is not seen several times. Venue-wide status
 * events (instrument BRS_ALL_INSTRUMENTS) are not passed on. */
static int v_emit_market(brs_ctx *ctx, const brs_market_event *ev)
{
    bk_venue *v = VN(ctx);
    brs__book_run *b = v->run;
    if (!ev)
        return BRS_E_INVAL;
    if (ev->instrument >= b->n_instr) {
        if (ev->kind == BRS_MEV_STATUS && b->sor) /* a venue going down or coming back */
            brs__sor_venue_status(b->sor, v->index, ev->aux != BRS_STATUS_HALT, b->now);
        return ev->kind == BRS_MEV_STATUS ? BRS_OK : BRS_E_INVAL;
    }
    if (v->index != b->route && !b->sor)
        return BRS_OK; /* without the router only the routing venue's view matters */
    v->emits_market = 1;
    int64_t arrive = b->md_from_file ? (ev->ts_local > b->now ? ev->ts_local : b->now) : b->now + v->md_ns;
    if (arrive == b->now && !b->heap_n) {
        deliver_market(b, ev, v->index); /* no latency and nothing queued before it */
        return BRS_OK;
    }
    q_item it = {.kind = Q_MARKET, .venue = v->index, .t = arrive};
    it.u.me = *ev;
    return q_push(b, &it);
}

/* ---- the strategy's orders (brs__exec) ------------------------------------- */

static int pmap_add(brs__book_run *b, uint64_t parent, uint64_t order)
{
    if (b->n_pmap == b->cap_pmap) {
        uint32_t nc = b->cap_pmap ? b->cap_pmap * 2 : 256;
        pmap_entry *g = realloc(b->pmap, nc * sizeof *g);
        if (!g)
            return BRS_E_NOMEM;
        b->pmap = g;
        b->cap_pmap = nc;
    }
    pmap_entry *pe = &b->pmap[b->n_pmap++];
    memset(pe, 0, sizeof *pe);
    pe->parent = parent;
    pe->order = order;
    if (b->submitting_o)
        pe->o = *b->submitting_o;
    pe->arrival_mid = NAN;
    const brs_top *t = b->sc && pe->o.instrument < b->n_instr ? &b->sc->instr[pe->o.instrument].top : NULL;
    if (t && t->bid_qty && t->ask_qty)
        pe->arrival_mid = 0.5 * (double)(t->bid_price + t->ask_price);
    return BRS_OK;
}

static pmap_entry *pmap_find(brs__book_run *b, uint64_t id, int by_parent)
{
    for (uint32_t i = 0; i < b->n_pmap; i++)
        if ((by_parent ? b->pmap[i].parent : b->pmap[i].order) == id)
            return &b->pmap[i];
    return NULL;
}

static void record_event(brs__book_run *b, brs_order_event *ev);

/* A post-only order that would take on a venue the router may use (as the host
 * saw it) is refused here: the router itself would take with it. */
static int would_take(brs__book_run *b, const brs_order *o)
{
    if (!(o->flags & BRS_OF_POST_ONLY) || o->type != BRS_LIMIT)
        return 0;
    for (uint32_t i = 0; i < b->n_v; i++) {
        brs_top t;
        if ((b->only >= 0 && (uint32_t)b->only != i) || !b->v[i].view ||
            brs__engine_top(b->v[i].view, o->instrument, &t) != BRS_OK)
            continue;
        if (o->side == BRS_BUY ? t.ask_qty && o->price >= t.ask_price
                               : t.bid_qty && o->price <= t.bid_price)
            return 1;
    }
    return 0;
}

/* Send o (the strategy's order `order`, or the rest of it) as a parent. */
static void router_send(brs__book_run *b, const brs_order *o, uint64_t order)
{
    uint64_t pid = 0;
    brs_error e = {0};
    b->xs.parents++;
    if (would_take(b, o)) {
        pmap_entry *pe = pmap_find(b, order, 0);
        brs_order_event ev = {.kind = BRS_OEV_REJECTED, .side = o->side, .reason = BRS_E_WOULDTAKE,
                              .instrument = o->instrument, .order_id = order, .ts = b->now,
                              .price = o->price, .qty = o->qty, .cum_qty = pe ? pe->cum : 0};
        if (pe)
            *pe = b->pmap[--b->n_pmap];
        b->xs.rejected++;
        record_event(b, &ev);
        return;
    }
    uint64_t outer = b->submitting; /* a strategy may send orders from inside an event */
    const brs_order *outer_o = b->submitting_o;
    b->submitting = order;
    b->submitting_o = o;
    brs__sctx_meter *mt = b->sc ? b->sc->meter : NULL; /* metrics: the router's time per order */
    int64_t t0 = mt ? brs__monotime_ns() : 0;
    int rc = brs__sor_submit(b->sor, o, b->sor_post && o->type == BRS_LIMIT && o->tif != BRS_IOC &&
                                         o->tif != BRS_FOK, b->now, &pid, &e);
    if (mt)
        brs__hist_observe_ns(mt->h_route, brs__monotime_ns() - t0);
    b->submitting = outer;
    b->submitting_o = outer_o;
    if (rc >= 0 && pid && !pmap_find(b, pid, 1) && !pmap_find(b, order, 0))
        pmap_add(b, pid, order);
}

/* Replaces whose old parent ended: send the rest at the new price. */
static void flush_resubmits(brs__book_run *b)
{
    while (b->n_resubmit) {
        uint32_t i;
        for (i = 0; i < b->n_pmap && !b->pmap[i].resubmit; i++)
            ;
        if (i == b->n_pmap) {
            b->n_resubmit = 0;
            break;
        }
        pmap_entry *pe = &b->pmap[i];
        pe->resubmit = 0;
        b->n_resubmit--;
        brs_order o = pe->o;
        o.price = pe->new_price;
        o.qty = pe->new_qty - pe->cum;
        router_send(b, &o, pe->order); /* pe may move: not used after this */
    }
}

/* A strategy order as sent: counted, and in orders.csv (prices in currency). */
static void record_new_order(brs__book_run *b, const brs_order *o)
{
    b->orders++;
    if (b->rec) {
        double scale = b->instr[o->instrument].price_scale > 0 ? (double)b->instr[o->instrument].price_scale : 1;
        brs_an_order ao = {.id = o->id, .ts = b->now, .instrument = o->instrument, .side = o->side,
                           .type = o->type, .tif = o->tif,
                           .price = o->type == BRS_MARKET ? NAN : (double)o->price / scale,
                           .qty = o->qty};
        brs__an_order_new(b->rec, &ao);
    }
}

static int x_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    (void)sc;
    brs__book_run *b = self;
    if (!b->n_v)
        return BRS_E_UNSUPPORTED; /* no venue configured: the runtime rejects it */
    record_new_order(b, o);
    if (b->sor) {
        router_send(b, o, o->id);
        flush_resubmits(b);
        return BRS_OK; /* a refused parent already produced its REJECTED event */
    }
    q_item it = {.kind = Q_SUBMIT, .venue = b->route};
    it.u.o = *o;
    if (!it.u.o.stp)
        it.u.o.stp = BRS_STP_CANCEL_NEWEST; /* our own orders never trade with each other */
    return q_at(b, b->v[b->route].order_ns, &it);
}

static int x_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    (void)sc;
    brs__book_run *b = self;
    if (b->sor) {
        pmap_entry *pe = pmap_find(b, id, 0);
        if (!pe)
            return BRS_E_UNKNOWNORDER;
        pe->cancel_req = 1;
        pe->replacing = 0;
        pe->new_qty = 0;
        if (!pe->parent) { /* between a replace's two parents: nothing is working */
            brs_order_event ev = {.kind = BRS_OEV_CANCELLED, .side = pe->o.side,
                                  .instrument = pe->o.instrument, .order_id = id, .ts = b->now,
                                  .price = pe->o.price, .qty = pe->o.qty - pe->cum,
                                  .cum_qty = pe->cum};
            if (pe->resubmit)
                b->n_resubmit--;
            *pe = b->pmap[--b->n_pmap];
            record_event(b, &ev);
            return BRS_OK;
        }
        int rc = brs__sor_cancel(b->sor, pe->parent);
        flush_resubmits(b);
        return rc;
    }
    q_item it = {.kind = Q_CANCEL, .venue = b->route};
    it.u.r.id = id;
    return q_at(b, b->v[b->route].cancel_ns, &it);
}

static int x_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    (void)sc;
    brs__book_run *b = self;
    if (b->sor) {
        pmap_entry *pe = pmap_find(b, id, 0);
        if (!pe || pe->cancel_req)
            return BRS_E_UNKNOWNORDER;
        if (qty <= pe->cum)
            return x_cancel(self, sc, id);
        pe->new_price = price;
        pe->new_qty = qty;
        if (!pe->replacing && pe->parent) {
            pe->replacing = 1;
            brs__sor_cancel(b->sor, pe->parent);
        }
        flush_resubmits(b);
        return BRS_OK;
    }
    q_item it = {.kind = Q_REPLACE, .venue = b->route};
    it.u.r.id = id;
    it.u.r.price = price;
    it.u.r.qty = qty;
    return q_at(b, b->v[b->route].order_ns, &it);
}

/* ---- the router's view of the venues (brs_sor_ops) --------------------- */

static int r_send(void *user, uint32_t venue, const brs_order *o)
{
    brs__book_run *b = user;
    q_item it = {.kind = Q_SUBMIT, .venue = venue};
    it.u.o = *o;
    if (!it.u.o.stp)
        it.u.o.stp = BRS_STP_CANCEL_NEWEST;
    return q_at(b, b->v[venue].order_ns, &it);
}

static int r_cancel(void *user, uint32_t venue, uint64_t child)
{
    brs__book_run *b = user;
    q_item it = {.kind = Q_CANCEL, .venue = venue};
    it.u.r.id = child;
    return q_at(b, b->v[venue].cancel_ns, &it);
}

/* Each venue's book as the host last saw it (after market-data latency). */
static int r_books(void *user, uint32_t instrument, int side, brs_sor_venue *out, uint32_t n)
{
    (void)side;
    brs__book_run *b = user;
    for (uint32_t i = 0; i < n && i < b->n_v; i++) {
        bk_venue *v = &b->v[i];
        size_t nb = brs__engine_depth(v->view, instrument, BRS_BUY, v->bids, BRS__SCTX_DEPTH);
        size_t na = brs__engine_depth(v->view, instrument, BRS_SELL, v->asks, BRS__SCTX_DEPTH);
        out[i] = (brs_sor_venue){.bids = v->bids, .asks = v->asks, .n_bids = (uint32_t)nb,
                                 .n_asks = (uint32_t)na, .taker_fee_ppm = v->taker_ppm,
                                 .maker_fee_ppm = v->maker_ppm, .latency_ns = v->order_ns,
                                 .lot_size = v->lot, .min_qty = v->min_qty,
                                 .up = (uint8_t)(b->only < 0 || (uint32_t)b->only == i)};
    }
    return BRS_OK;
}

/* One stream of events per parent, under the strategy's own order id. */
static void r_parent_event(void *user, const brs_order_event *ev)
{
    brs__book_run *b = user;
    /* a refused parent has id 0, like an entry between a replace's two parents */
    pmap_entry *pe = ev->order_id ? pmap_find(b, ev->order_id, 1) : NULL;
    if (!pe && b->submitting) {
        if ((pe = pmap_find(b, b->submitting, 0)) && !pe->parent) {
            pe->parent = ev->order_id; /* the new parent of a replace */
        } else if (pmap_add(b, ev->order_id, b->submitting) == BRS_OK) {
            pe = &b->pmap[b->n_pmap - 1];
        } else {
            pe = NULL;
        }
    }
    if (!pe)
        return;
    brs_order_event e = *ev;
    e.order_id = pe->order;
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
        if (pe->new_qty) { /* a replace's new parent: the strategy hears REPLACED */
            e.kind = BRS_OEV_REPLACED;
            pe->o.price = pe->new_price;
            pe->o.qty = pe->new_qty;
            pe->new_qty = 0;
        }
        e.price = pe->o.price;
        e.qty = pe->o.qty;
        break;
    case BRS_OEV_FILL: {
        pe->cum += ev->qty;
        const brs_top *t = &b->sc->instr[ev->instrument].top; /* the strategy's view, L2 or L3 */
        double scale = b->instr[ev->instrument].price_scale > 0 ? (double)b->instr[ev->instrument].price_scale : 1;
        brs__xstats_fill(&b->xs, ev, pe->arrival_mid,
                         t->bid_qty && t->ask_qty ? 0.5 * (double)(t->bid_price + t->ask_price) : NAN,
                         scale);
        break;
    }
    case BRS_OEV_CANCELLED:
        if (pe->replacing && !pe->cancel_req && pe->new_qty > pe->cum) {
            pe->replacing = 0; /* the old parent is gone: the new one goes out after this call */
            pe->parent = 0;
            pe->resubmit = 1;
            b->n_resubmit++;
            return;
        }
        e.qty = pe->o.qty - pe->cum;
        break;
    case BRS_OEV_REJECTED:
        b->xs.rejected++;
        break;
    default: break;
    }
    e.cum_qty = pe->cum;
    e.leaves = e.kind == BRS_OEV_ACCEPTED || e.kind == BRS_OEV_REPLACED || e.kind == BRS_OEV_FILL
                   ? (pe->o.qty > pe->cum ? pe->o.qty - pe->cum : 0)
                   : 0;
    if (e.kind == BRS_OEV_REJECTED || e.kind == BRS_OEV_CANCELLED ||
        (e.kind == BRS_OEV_FILL && e.leaves <= 0))
        *pe = b->pmap[--b->n_pmap]; /* done: forget it */
    record_event(b, &e);
}

brs__exec brs__book_exec(brs__book_run *b)
{
    return (brs__exec){.self = b, .xSubmit = x_submit, .xCancel = x_cancel, .xReplace = x_replace};
}

const brs_instrument *brs__book_instruments(brs__book_run *b, uint32_t *n)
{
    *n = b->n_instr;
    return b->instr;
}

/* ---- configuration ------------------------------------------------------------ */

static int get_i(brs_config *cfg, cJSON *obj, const char *where, const char *key, int64_t def,
                 int64_t *out, brs_error *err)
{
    int had = cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
    int rc = brs__config_int(cfg, obj, where, key, def, out, err);
    if (!rc && !had)
        cJSON_AddNumberToObject(obj, key, (double)def);
    if (!rc && *out < 0)
        rc = brs__err(err, BRS_E_RANGE, "%s: %s.%s must be >= 0", cfg->source, where, key);
    return rc;
}

int brs__book_read_config(brs_config *cfg, brs__book_opts *o, brs_error *err)
{
    static const char *const keys[] = {"venues", "route", "latency", "flatten_at_end",
                                       "queue_capacity", "router", NULL};
    static const char *const k_router[] = {"enabled", "post", "ack_timeout_ns", "max_reroutes",
                                           "only_venue", NULL};
    static const char *const k_lat[] = {"market_data", "order_entry_ns", "cancel_ns",
                                        "response_ns", "jitter_ns", "seed", NULL};
    static const char *const k_venue[] = {"name", "plugin", "params", "data", "latency", NULL};
    static const char *const k_vlat[] = {"market_data", "order_entry_ns", "cancel_ns", "response_ns",
                                         NULL};
    cJSON *bk = cJSON_GetObjectItemCaseSensitive(cfg->root, "book");
    if (!bk)
        bk = cJSON_AddObjectToObject(cfg->root, "book");
    if (!cJSON_IsObject(bk))
        return brs__err(err, BRS_E_INVAL, "%s: book must be an object", cfg->source);
    int rc = brs__config_check_keys(cfg, bk, "book", keys, err);
    if (rc)
        return rc;
    cJSON *lat = cJSON_GetObjectItemCaseSensitive(bk, "latency");
    if (!lat)
        lat = cJSON_AddObjectToObject(bk, "latency");
    if (!cJSON_IsObject(lat))
        return brs__err(err, BRS_E_INVAL, "%s: book.latency must be an object", cfg->source);
    if ((rc = brs__config_check_keys(cfg, lat, "book.latency", k_lat, err)))
        return rc;
    cJSON *md = cJSON_GetObjectItemCaseSensitive(lat, "market_data");
    if (!md) {
        cJSON_AddNumberToObject(lat, "market_data", 0);
    } else if (cJSON_IsString(md)) {
        if (strcmp(md->valuestring, "file"))
            return brs__err(err, BRS_E_INVAL,
                            "%s: book.latency.market_data is '%s': expected \"file\" (the local timestamps) or ns",
                            cfg->source, md->valuestring);
        o->md_from_file = 1;
    }
    int64_t seed;
    if ((!o->md_from_file && (rc = get_i(cfg, lat, "book.latency", "market_data", 0, &o->md_ns, err))) ||
        (rc = get_i(cfg, lat, "book.latency", "order_entry_ns", 0, &o->order_ns, err)) ||
        (rc = get_i(cfg, lat, "book.latency", "cancel_ns", 0, &o->cancel_ns, err)) ||
        (rc = get_i(cfg, lat, "book.latency", "response_ns", 0, &o->response_ns, err)) ||
        (rc = get_i(cfg, lat, "book.latency", "jitter_ns", 0, &o->jitter_ns, err)) ||
        (rc = get_i(cfg, lat, "book.latency", "seed", 1, &seed, err)))
        return rc;
    o->seed = (uint64_t)seed;
    int flat;
    int had = cJSON_GetObjectItemCaseSensitive(bk, "flatten_at_end") != NULL;
    if ((rc = brs__config_bool(cfg, bk, "book", "flatten_at_end", 0, &flat, err)))
        return rc;
    if (!had)
        cJSON_AddBoolToObject(bk, "flatten_at_end", 0);
    o->flatten = flat;
    int64_t qc;
    if ((rc = get_i(cfg, bk, "book", "queue_capacity", 1 << 20, &qc, err)))
        return rc;
    if (qc < 16 || qc > (1 << 28))
        return brs__err(err, BRS_E_RANGE, "%s: book.queue_capacity must be 16..2^28", cfg->source);
    o->queue_capacity = (uint32_t)qc;
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(bk, "venues");
    if (vs && !cJSON_IsArray(vs))
        return brs__err(err, BRS_E_INVAL, "%s: book.venues must be an array", cfg->source);
    int i = 0;
    cJSON *v;
    cJSON_ArrayForEach(v, vs) {
        char where[64];
        snprintf(where, sizeof where, "book.venues[%d]", i++);
        const char *plugin;
        cJSON *pp;
        if (!cJSON_IsObject(v))
            return brs__err(err, BRS_E_INVAL, "%s: %s must be an object", cfg->source, where);
        if ((rc = brs__config_check_keys(cfg, v, where, k_venue, err)) ||
            (rc = brs__config_string(cfg, v, where, "plugin", NULL, &plugin, err)))
            return rc;
        if (!plugin)
            return brs__err(err, BRS_E_INVAL, "%s: %s.plugin is missing (a venue plugin name or .so)",
                            cfg->source, where);
        if ((pp = cJSON_GetObjectItemCaseSensitive(v, "params")) && !cJSON_IsObject(pp))
            return brs__err(err, BRS_E_INVAL, "%s: %s.params must be an object", cfg->source, where);
        if ((pp = cJSON_GetObjectItemCaseSensitive(v, "data")) && !cJSON_IsString(pp))
            return brs__err(err, BRS_E_INVAL, "%s: %s.data must be one of the run's data files",
                            cfg->source, where);
        if ((pp = cJSON_GetObjectItemCaseSensitive(v, "latency"))) { /* this venue's own delays */
            char lw[96];
            snprintf(lw, sizeof lw, "%s.latency", where);
            if (!cJSON_IsObject(pp))
                return brs__err(err, BRS_E_INVAL, "%s: %s must be an object", cfg->source, lw);
            if ((rc = brs__config_check_keys(cfg, pp, lw, k_vlat, err)))
                return rc;
            for (int k = 0; k_vlat[k]; k++) {
                int64_t x;
                if ((rc = brs__config_int(cfg, pp, lw, k_vlat[k], 0, &x, err)))
                    return rc;
                if (x < 0)
                    return brs__err(err, BRS_E_RANGE, "%s: %s.%s must be >= 0", cfg->source, lw,
                                    k_vlat[k]);
            }
        }
    }
    const char *route;
    if ((rc = brs__config_string(cfg, bk, "book", "route", NULL, &route, err)))
        return rc;
    cJSON *rt = cJSON_GetObjectItemCaseSensitive(bk, "router");
    if (!rt)
        rt = cJSON_AddObjectToObject(bk, "router");
    if (!cJSON_IsObject(rt))
        return brs__err(err, BRS_E_INVAL, "%s: book.router must be an object", cfg->source);
    int en, post;
    int had_en = cJSON_GetObjectItemCaseSensitive(rt, "enabled") != NULL;
    int had_post = cJSON_GetObjectItemCaseSensitive(rt, "post") != NULL;
    if ((rc = brs__config_check_keys(cfg, rt, "book.router", k_router, err)) ||
        (rc = brs__config_bool(cfg, rt, "book.router", "enabled", 0, &en, err)) ||
        (rc = brs__config_bool(cfg, rt, "book.router", "post", 1, &post, err)) ||
        (rc = get_i(cfg, rt, "book.router", "ack_timeout_ns", 0, &o->ack_timeout_ns, err)) ||
        (rc = get_i(cfg, rt, "book.router", "max_reroutes", 32, &o->max_reroutes, err)))
        return rc;
    const char *only; /* checked against the venue names when they are opened */
    if ((rc = brs__config_string(cfg, rt, "book.router", "only_venue", NULL, &only, err)))
        return rc;
    if (only && !en)
        return brs__err(err, BRS_E_INVAL, "%s: book.router.only_venue needs book.router.enabled",
                        cfg->source);
    if (!had_en)
        cJSON_AddBoolToObject(rt, "enabled", 0);
    if (!had_post)
        cJSON_AddBoolToObject(rt, "post", 1);
    o->router = en;
    o->router_post = post;
    if (en && (route || i == 0))
        return brs__err(err, BRS_E_INVAL, "%s: book.router.enabled needs book.venues and no book.route",
                        cfg->source);
    if (en && i > BRS_SOR_MAX_VENUES)
        return brs__err(err, BRS_E_RANGE, "%s: the router takes at most %d venues", cfg->source,
                        BRS_SOR_MAX_VENUES);
    return BRS_OK;
}

/* ---- setup ---------------------------------------------------------------------- */

static int open_data(brs__book_run *b, brs_error *err)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(b->cfg->root, "data");
    uint32_t n = cJSON_IsArray(data) ? (uint32_t)cJSON_GetArraySize(data) : 1;
    if (n == 0 || n > 1024)
        return brs__err(err, BRS_E_INVAL, "%s: data: 1..1024 tick files", b->cfg->source);
    b->rd = calloc(n, sizeof *b->rd);
    b->map = calloc(n, sizeof *b->map);
    b->instr = calloc(1, sizeof *b->instr);
    if (!b->rd || !b->map || !b->instr)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    b->n_map = n;
    for (uint32_t f = 0; f < n; f++) {
        cJSON *item = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, (int)f) : data;
        if (!cJSON_IsString(item))
            return brs__err(err, BRS_E_INVAL, "%s: data[%u] must be a file name", b->cfg->source, f);
        int rc = brs__tick_open(&b->rd[f], item->valuestring, err);
        if (rc)
            return rc;
        b->n_files++;
        /* decompression on another core, ahead of the loop */
        if ((rc = brs__tick_readahead(&b->rd[f], err)))
            return rc;
        brs_tick_reader *r = &b->rd[f];
        b->total_events += r->n_events;
        b->map[f] = calloc(r->n_instr ? r->n_instr : 1, sizeof **b->map);
        if (!b->map[f])
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        /* one run instrument per symbol: the same symbol in two files is one instrument */
        for (uint32_t i = 0; i < r->n_instr; i++) {
            uint32_t k;
            for (k = 0; k < b->n_instr; k++)
                if (!strcmp(b->instr[k].symbol, r->instr[i].symbol))
                    break;
            if (k == b->n_instr) {
                brs_instrument *g = realloc(b->instr, (b->n_instr + 1) * sizeof *g);
                if (!g)
                    return brs__err(err, BRS_E_NOMEM, "out of memory");
                b->instr = g;
                b->instr[k] = r->instr[i];
                b->instr[k].id = k;
                b->n_instr++;
            }
            b->map[f][i] = k;
        }
    }
    if (n > 1) {
        b->src = malloc(n * sizeof *b->src);
        if (!b->src)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        for (uint32_t f = 0; f < n; f++)
            b->src[f] = &b->rd[f];
        int rc = brs__tick_merge_init(&b->merge, b->src, n, err);
        if (rc)
            return rc;
        b->merging = 1;
    }
    return BRS_OK;
}

static int open_venues(brs__book_run *b, brs_error *err)
{
    cJSON *bk = cJSON_GetObjectItemCaseSensitive(b->cfg->root, "book");
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(bk, "venues");
    uint32_t n = cJSON_IsArray(vs) ? (uint32_t)cJSON_GetArraySize(vs) : 0;
    b->v = calloc(n ? n : 1, sizeof *b->v);
    if (!b->v)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    const char *route = NULL;
    cJSON *r = cJSON_GetObjectItemCaseSensitive(bk, "route");
    if (cJSON_IsString(r))
        route = r->valuestring;
    for (uint32_t i = 0; i < n; i++) {
        cJSON *vj = cJSON_GetArrayItem(vs, (int)i);
        bk_venue *v = &b->v[i];
        brs__venue_ctx_init(&v->vc, NULL, b->instr, b->n_instr, v_now, v_log, v_emit_order,
                            v_emit_market);
        v->run = b;
        v->index = i;
        const char *plugin = cJSON_GetObjectItemCaseSensitive(vj, "plugin")->valuestring;
        cJSON *nm = cJSON_GetObjectItemCaseSensitive(vj, "name");
        snprintf(v->name, sizeof v->name, "%s", cJSON_IsString(nm) ? nm->valuestring : plugin);
        v->vc.params = cJSON_GetObjectItemCaseSensitive(vj, "params");
        char path[4096];
        int rc = brs__plugin_find(plugin, NULL, path, sizeof path, err);
        if (!rc)
            rc = brs__plugin_load(&v->plugin, path, err);
        if (rc)
            return brs__err_prefix(err, "%s: book.venues[%u]", b->cfg->source, i);
        if (!(v->vt = brs__plugin_venue(&v->plugin)))
            return brs__err(err, BRS_E_BADKIND, "%s: book.venues[%u]: %s is a %s plugin, not a venue",
                            b->cfg->source, i, path,
                            brs__plugin_kind_name(v->plugin.desc->kind));
        b->n_v++;
        if ((rc = brs__plugin_instance_open(&v->inst, &v->plugin, &v->vc.host, (brs_ctx *)(void *)v, err)))
            return rc;
        if (route && !strcmp(route, v->name))
            b->route = i;
        v->order_ns = b->order_ns;
        v->cancel_ns = b->cancel_ns;
        v->response_ns = b->response_ns;
        v->md_ns = b->md_ns;
        cJSON *vl = cJSON_GetObjectItemCaseSensitive(vj, "latency");
        static const struct { const char *k; size_t off; } lk[] = {
            {"order_entry_ns", offsetof(bk_venue, order_ns)}, {"cancel_ns", offsetof(bk_venue, cancel_ns)},
            {"response_ns", offsetof(bk_venue, response_ns)}, {"market_data", offsetof(bk_venue, md_ns)}};
        for (size_t k = 0; k < sizeof lk / sizeof lk[0]; k++) {
            cJSON *x = cJSON_GetObjectItemCaseSensitive(vl, lk[k].k);
            if (cJSON_IsNumber(x))
                *(int64_t *)(void *)((char *)v + lk[k].off) = (int64_t)x->valuedouble;
        }
        v->file = -1;
        cJSON *vd = cJSON_GetObjectItemCaseSensitive(vj, "data");
        if (cJSON_IsString(vd)) { /* its own tick file: one of the run's data files */
            cJSON *data = cJSON_GetObjectItemCaseSensitive(b->cfg->root, "data");
            for (uint32_t f = 0; f < b->n_files && v->file < 0; f++) {
                cJSON *it = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, (int)f) : data;
                if (cJSON_IsString(it) && !strcmp(it->valuestring, vd->valuestring))
                    v->file = (int)f;
            }
            if (v->file < 0)
                return brs__err(err, BRS_E_NOTFOUND,
                                "%s: book.venues[%u].data '%s' is not one of the run's data files",
                                b->cfg->source, i, vd->valuestring);
        }
        /* what the router needs to know: fees (bps or ppm params), lot, minimum */
        int64_t iv;
        cJSON *pj;
        v->lot = 1;
        if ((pj = cJSON_GetObjectItemCaseSensitive(v->vc.params, "taker_fee_bps")) && cJSON_IsNumber(pj))
            v->taker_ppm = (int32_t)llround(pj->valuedouble * 100);
        if ((pj = cJSON_GetObjectItemCaseSensitive(v->vc.params, "maker_fee_bps")) && cJSON_IsNumber(pj))
            v->maker_ppm = (int32_t)llround(pj->valuedouble * 100);
        if (brs__jparam_int(v->vc.params, "taker_fee_ppm", &iv) == BRS_OK)
            v->taker_ppm = (int32_t)iv;
        if (brs__jparam_int(v->vc.params, "maker_fee_ppm", &iv) == BRS_OK)
            v->maker_ppm = (int32_t)iv;
        if (brs__jparam_int(v->vc.params, "lot_size", &iv) == BRS_OK && iv > 0)
            v->lot = iv;
        if (brs__jparam_int(v->vc.params, "min_qty", &iv) == BRS_OK && iv >= 0)
            v->min_qty = iv;
    }
    if (route && (!n || strcmp(b->v[b->route].name, route)))
        return brs__err(err, BRS_E_NOTFOUND, "%s: book.route '%s' names no venue", b->cfg->source, route);
    return BRS_OK;
}

int brs__book_create(brs__book_run **out, brs_config *cfg, const brs__book_opts *o, brs_error *err)
{
    brs__book_run *b = calloc(1, sizeof *b);
    *out = b;
    if (!b)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    b->cfg = cfg;
    b->only = -1;
    b->md_from_file = o->md_from_file;
    b->md_ns = o->md_ns;
    b->order_ns = o->order_ns;
    b->cancel_ns = o->cancel_ns;
    b->response_ns = o->response_ns;
    b->jitter_ns = o->jitter_ns;
    b->rng = o->seed ? o->seed * 0x9E3779B97F4A7C15ull : 1;
    b->flatten = o->flatten;
    b->cash = o->initial_cash;
    b->heap_cap = o->queue_capacity ? o->queue_capacity : 1u << 20;
    b->sample_every = o->sample_every_ns > 0 ? o->sample_every_ns : 1000000000LL;
    b->heap = malloc((size_t)b->heap_cap * sizeof *b->heap);
    if (!b->heap)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int rc = open_data(b, err);
    if (rc)
        return rc;
    b->pos = calloc(b->n_instr ? b->n_instr : 1, sizeof *b->pos);
    b->mark = calloc(b->n_instr ? b->n_instr : 1, sizeof *b->mark);
    b->last_top = calloc(b->n_instr ? b->n_instr : 1, sizeof *b->last_top);
    if (!b->pos || !b->mark || !b->last_top)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < b->n_instr; i++)
        b->mark[i] = NAN;
    brs_engine_config ec = {.max_instruments = b->n_instr ? b->n_instr : 1};
    if ((rc = brs__engine_create(&b->view, &ec, NULL, err)))
        return rc;
    if ((rc = open_venues(b, err)))
        return rc;
    if (!o->router)
        return BRS_OK;
    /* the router: a view of every venue's book, risk checks, the parent manager */
    for (uint32_t i = 0; i < b->n_v; i++)
        if (i == b->route)
            b->v[i].view = b->view;
        else if ((rc = brs__engine_create(&b->v[i].view, &ec, NULL, err)))
            return rc;
    brs_risk_config rcfg;
    if (!(b->risk = calloc(1, sizeof *b->risk)))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    if ((rc = brs__risk_config_read(cfg, cJSON_GetObjectItemCaseSensitive(cfg->root, "risk"), b->instr,
                                    b->n_instr, &rcfg, err)))
        return rc;
    brs__risk_init(b->risk, &rcfg);
    brs_sor_mgr_config mc = {.n_venues = b->n_v, .max_parents = 4096, .max_children = 16384,
                             .ack_timeout_ns = o->ack_timeout_ns,
                             .max_reroutes = (uint32_t)o->max_reroutes};
    brs_sor_ops ops = {.user = b, .xSend = r_send, .xCancel = r_cancel, .xBooks = r_books,
                       .xParentEvent = r_parent_event};
    b->sor_post = o->router_post;
    cJSON *rt = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg->root, "book"), "router");
    cJSON *only = cJSON_GetObjectItemCaseSensitive(rt, "only_venue");
    for (uint32_t i = 0; cJSON_IsString(only) && i < b->n_v; i++)
        if (!strcmp(b->v[i].name, only->valuestring))
            b->only = (int)i;
    if (cJSON_IsString(only) && b->only < 0)
        return brs__err(err, BRS_E_NOTFOUND, "%s: book.router.only_venue '%s' names no venue",
                        cfg->source, only->valuestring);
    /* the strategy's own inventory limit when it declares one, else the risk limit */
    cJSON *lim = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg->root, "strategy"), "params"),
        "inventory_limit");
    if ((rc = brs__xstats_init(&b->xs, b->n_instr,
                               cJSON_IsNumber(lim)     ? lim->valuedouble
                               : rcfg.def.max_position ? (double)rcfg.def.max_position
                                                       : NAN)))
        return brs__err(err, rc, "out of memory");
    return brs__sor_mgr_create(&b->sor, &mc, &ops, b->risk, err);
}

void brs__book_destroy(brs__book_run *b)
{
    if (!b)
        return;
    if (b->sor)
        brs__sor_mgr_destroy(b->sor);
    free(b->risk);
    free(b->pmap);
    brs__xstats_free(&b->xs);
    for (uint32_t i = 0; b->v && i < b->n_v; i++) {
        brs__plugin_instance_close(&b->v[i].inst);
        brs__plugin_unload(&b->v[i].plugin);
        if (b->v[i].view && b->v[i].view != b->view)
            brs__engine_destroy(b->v[i].view);
    }
    free(b->v);
    if (b->merging)
        brs__tick_merge_free(&b->merge);
    for (uint32_t f = 0; f < b->n_files; f++)
        brs__tick_close(&b->rd[f]);
    for (uint32_t f = 0; b->map && f < b->n_map; f++)
        free(b->map[f]);
    free(b->src);
    free(b->map);
    free(b->rd);
    free(b->instr);
    free(b->heap);
    free(b->pos);
    free(b->mark);
    free(b->last_top);
    if (b->view)
        brs__engine_destroy(b->view);
    free(b);
}

/* ---- the loop ---------------------------------------------------------------------- */

static double equity(const brs__book_run *b)
{
    double e = b->cash;
    for (uint32_t i = 0; i < b->n_instr; i++)
        if (b->pos[i] && !isnan(b->mark[i]))
            e += (double)b->pos[i] * b->mark[i];
    return e;
}

static void sample(brs__book_run *b)
{
    if (!b->rec)
        return;
    int64_t ts = b->now > b->last_rec_ts ? b->now : b->last_rec_ts;
    if (brs__an_sample(b->rec, ts, equity(b), b->cash, b->mark) && !b->failed)
        b->failed = brs__err(&b->err, BRS_E_INVAL, "recorder: %s", brs__an_last_error(b->rec));
    b->last_rec_ts = ts;
}

/* The strategy learns about the market: L3 events update its view of the book
 * (a passive engine), a changed top becomes a QUOTE for xOnTop, and the raw
 * event goes to strategies that asked for L3. L2, quotes, trades and bars go
 * to the runtime as they are. */
/* Apply an L3 event to a passive book; 0 when the event is not L3. */
static int apply_l3(brs_engine *e, const brs_market_event *ev)
{
    uint32_t in = ev->instrument;
    switch (ev->kind) {
    case BRS_MEV_ADD:
        brs__engine_insert(e, in, ev->order_id, ev->side, ev->price, ev->qty);
        return 1;
    case BRS_MEV_CANCEL:
        if (ev->flags & BRS_MEVF_FULL)
            brs__engine_delete(e, ev->order_id);
        else
            brs__engine_reduce(e, ev->order_id, ev->qty);
        return 1;
    case BRS_MEV_EXECUTE:
        brs__engine_reduce(e, ev->order_id, ev->qty);
        return 1;
    case BRS_MEV_MODIFY:
        brs__engine_delete(e, ev->order_id);
        brs__engine_insert(e, in, ev->aux ? (uint64_t)ev->aux : ev->order_id, ev->side, ev->price,
                           ev->qty);
        return 1;
    default: return 0;
    }
}

/* L2 levels in a router view: one resting order per (side, price). Router
 * runs only: without this the routing decision would see no L2 liquidity. */
static void apply_l2(brs_engine *e, const brs_market_event *ev)
{
    if (ev->kind != BRS_MEV_LEVEL_SET && ev->kind != BRS_MEV_LEVEL_DELETE)
        return;
    uint64_t id = (UINT64_C(1) << 63) | ((uint64_t)(ev->side & 1) << 62) |
                  ((uint64_t)(ev->instrument & 0x3ffff) << 44) |
                  ((uint64_t)ev->price & ((UINT64_C(1) << 44) - 1));
    brs__engine_delete(e, id);
    if (ev->kind == BRS_MEV_LEVEL_SET && ev->qty > 0)
        brs__engine_insert(e, ev->instrument, id, ev->side, ev->price, ev->qty);
}

static void deliver_market(brs__book_run *b, const brs_market_event *ev, uint32_t venue)
{
    brs__sctx *sc = b->sc;
    uint32_t in = ev->instrument;
    if (b->sor && venue < b->n_v && venue != b->route) {
        if (!apply_l3(b->v[venue].view, ev)) /* the router's view of another venue */
            apply_l2(b->v[venue].view, ev);
        return;
    }
    if (b->sor)
        apply_l2(b->view, ev); /* the routing venue's view, for the router */
    int l3 = apply_l3(b->view, ev);
    if (b->now > sc->now)
        brs__sctx_advance(sc, b->now);
    if (!l3) {
        brs__sctx_on_market(sc, ev);
        const brs_top *t = &sc->instr[in].top;
        if (t->bid_qty && t->ask_qty)
            b->mark[in] = (double)(t->bid_price + t->ask_price) * 0.5 /
                          (double)(b->instr[in].price_scale > 0 ? b->instr[in].price_scale : 1);
        return;
    }
    brs_top top;
    brs__engine_top(b->view, in, &top);
    brs_top *lt = &b->last_top[in];
    if (top.bid_price != lt->bid_price || top.bid_qty != lt->bid_qty ||
        top.ask_price != lt->ask_price || top.ask_qty != lt->ask_qty) {
        *lt = top;
        if (top.bid_qty && top.ask_qty) {
            b->mark[in] = (double)(top.bid_price + top.ask_price) * 0.5 /
                          (double)(b->instr[in].price_scale > 0 ? b->instr[in].price_scale : 1);
            if (b->risk) /* the price band's reference: the mid the host sees */
                brs__risk_set_ref(b->risk, in, (top.bid_price + top.ask_price) / 2);
        }
        brs_market_event q = {.ts_exchange = ev->ts_exchange, .ts_local = ev->ts_local,
                              .kind = BRS_MEV_QUOTE, .instrument = in, .flags = ev->flags};
        q.quote.bid_price = top.bid_price;
        q.quote.bid_qty = top.bid_qty;
        q.quote.ask_price = top.ask_price;
        q.quote.ask_qty = top.ask_qty;
        brs__sctx_on_market(sc, &q);
    }
    if (b->want_depth && (ev->flags & BRS_MEVF_LAST)) {
        brs_level lv[BRS__SCTX_DEPTH];
        size_t nb = brs__engine_depth(b->view, in, BRS_BUY, lv, BRS__SCTX_DEPTH);
        brs__sctx_set_depth(sc, in, BRS_BUY, lv, (uint32_t)nb);
        nb = brs__engine_depth(b->view, in, BRS_SELL, lv, BRS__SCTX_DEPTH);
        brs__sctx_set_depth(sc, in, BRS_SELL, lv, (uint32_t)nb);
    }
    if (b->want_l3)
        brs__sctx_on_market(sc, ev);
}

static void dispatch(brs__book_run *b, q_item *it)
{
    bk_venue *v = it->venue < b->n_v ? &b->v[it->venue] : NULL;
    int rc;
    switch (it->kind) {
    case Q_SUBMIT:
        rc = v ? v->vt->xSubmit(v->inst.self, &it->u.o) : BRS_E_UNSUPPORTED;
        if (rc < 0) { /* refused outright: the strategy hears it after the response latency */
            q_item r = {.kind = Q_RESPONSE, .venue = it->venue};
            r.u.oe = (brs_order_event){.kind = BRS_OEV_REJECTED, .side = it->u.o.side,
                                       .reason = rc, .instrument = it->u.o.instrument,
                                       .venue = it->venue, .order_id = it->u.o.id, .ts = b->now,
                                       .price = it->u.o.price, .qty = it->u.o.qty};
            q_at(b, v ? v->response_ns : b->response_ns, &r);
        }
        break;
    case Q_CANCEL:
        if (v)
            v->vt->xCancel(v->inst.self, it->u.r.id); /* gone already: its fill is on the way */
        break;
    case Q_REPLACE:
        if (v)
            v->vt->xReplace(v->inst.self, it->u.r.id, it->u.r.price, it->u.r.qty);
        break;
    case Q_RESPONSE:
        if (it->u.oe.instrument >= b->n_instr)
            break;
        if (b->sor) { /* a child's event: the router turns it into parent events */
            brs__sor_on_child_event(b->sor, &it->u.oe, b->now);
            flush_resubmits(b);
        } else
            record_event(b, &it->u.oe);
        break;
    case Q_MARKET:
        deliver_market(b, &it->u.me, it->venue);
        break;
    default: break;
    }
}

/* An order event reaches the strategy: position, cash, the recorder, then the
 * runtime (which calls xOnOrder). */
static void record_event(brs__book_run *b, brs_order_event *ev)
{
    {
        if (ev->kind == BRS_OEV_FILL) {
            double scale = b->instr[ev->instrument].price_scale > 0 ? (double)b->instr[ev->instrument].price_scale : 1;
            int64_t sq = ev->side == BRS_BUY ? ev->qty : -ev->qty;
            b->pos[ev->instrument] += sq;
            b->cash -= (double)sq * (double)ev->price / scale + (double)ev->fee / scale;
            b->fills++;
        }
        if (b->rec) {
            brs_order_event rev = *ev;
            if (rev.ts < b->last_rec_ts)
                rev.ts = b->last_rec_ts;
            b->last_rec_ts = rev.ts;
            if (ev->kind != BRS_OEV_ACCEPTED && brs__an_order_event(b->rec, &rev) && !b->failed)
                b->failed = brs__err(&b->err, BRS_E_INVAL, "recorder: %s", brs__an_last_error(b->rec));
        }
        if (b->now > b->sc->now)
            brs__sctx_advance(b->sc, b->now);
        brs__sctx_order_event(b->sc, ev);
        if (ev->kind == BRS_OEV_FILL)
            sample(b);
    }
}

static const brs_market_event *next_replay(brs__book_run *b, brs_market_event *tmp)
{
    if (!b->merging) {
        const brs_market_event *e = brs__tick_next(&b->rd[0]);
        if (!e && b->rd[0].iter_err.code && !b->failed)
            b->failed = brs__err(&b->err, b->rd[0].iter_err.code, "%s", b->rd[0].iter_err.msg);
        if (e && BRS__UNLIKELY(e->instrument >= b->rd[0].n_instr))
            return next_replay(b, tmp); /* a record for no instrument: skipped */
        return e;
    }
    uint32_t src;
    const brs_market_event *e = brs__tick_merge_next(&b->merge, &src);
    if (!e) {
        if (b->merge.err.code && !b->failed)
            b->failed = brs__err(&b->err, b->merge.err.code, "%s", b->merge.err.msg);
        return NULL;
    }
    if (e->instrument >= b->rd[src].n_instr)
        return next_replay(b, tmp);
    b->replay_src = src;
    *tmp = *e;
    tmp->instrument = b->map[src][e->instrument];
    /* L3 order ids are unique per file only: file k's ids get k in their top
     * bits, so the books of several files never mix up two orders */
    if (src && tmp->kind >= BRS_MEV_ADD && tmp->kind <= BRS_MEV_EXECUTE) {
        tmp->order_id ^= (uint64_t)src << 52;
        if (tmp->kind == BRS_MEV_MODIFY && tmp->aux)
            tmp->aux ^= (int64_t)((uint64_t)src << 52);
    }
    return tmp;
}

/* One replayed event at its exchange time: the venues see it now, the
 * strategy after the market-data latency: as the routing venue re-emits it
 * (xEmitMarketEvent), or as replayed when that venue does not re-emit market
 * data (or there is no venue). */
static void replay(brs__book_run *b, const brs_market_event *e)
{
    /* the run's clock never goes back: a record whose exchange time steps back
     * (streams interleaved in a recording) happens now */
    if (e->ts_exchange > b->now)
        b->now = e->ts_exchange;
    for (uint32_t i = 0; i < b->n_v; i++)
        if (b->v[i].vt->xOnMarket && (b->v[i].file < 0 || (uint32_t)b->v[i].file == b->replay_src))
            b->v[i].vt->xOnMarket(b->v[i].inst.self, e);
    if (b->n_v && b->v[b->route].emits_market)
        return;
    int64_t arrive = b->md_from_file ? (e->ts_local > b->now ? e->ts_local : b->now)
                                     : b->now + b->md_ns;
    if (arrive == b->now && !b->heap_n) {
        deliver_market(b, e, b->route); /* no latency and nothing queued: straight through */
    } else {
        q_item it = {.kind = Q_MARKET, .t = arrive, .venue = b->route};
        it.u.me = *e;
        q_push(b, &it);
    }
}

static void step_until(brs__book_run *b, int with_data, brs_progress *pr, int progress)
{
    brs__sctx *sc = b->sc;
    brs_market_event tmp;
    const brs_market_event *e = with_data ? next_replay(b, &tmp) : NULL;
    for (;;) {
        if (BRS__UNLIKELY(b->failed || sc->failed))
            break;
        int64_t te = e ? e->ts_exchange : INT64_MAX;
        int64_t tq = b->heap_n ? b->heap[0].t : INT64_MAX;
        int64_t tt = sc->n_timers ? brs__sctx_next_timer(sc) : INT64_MAX;
        if (!e && !b->heap_n)
            break; /* timers do not outlive the data */
        if (te <= tq && te <= tt) {
            replay(b, e);
            b->events++;
            e = next_replay(b, &tmp);
            if (BRS__UNLIKELY((b->events & 65535) == 0)) {
                if (with_data && brs__interrupted()) { /* a safe point: between events */
                    b->interrupted = 1;
                    break;
                }
                if (progress)
                    brs__progress_update(pr, b->events);
            }
        } else if (tq <= tt) {
            q_item it;
            q_pop(b, &it);
            if (it.t > b->now)
                b->now = it.t;
            dispatch(b, &it);
        } else {
            b->now = tt;
            brs__sctx_advance(sc, tt);
        }
        if (b->sor && b->now != b->last_tick) { /* ack timeouts */
            b->last_tick = b->now;
            brs__sor_tick(b->sor, b->now);
        }
        if (BRS__UNLIKELY(b->now >= b->next_sample)) {
            sample(b);
            b->next_sample = b->now - b->now % b->sample_every + b->sample_every;
        }
    }
}

int brs__book_run_loop(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, int progress,
                       brs__bt_result *res, brs_error *err)
{
    b->sc = sc;
    b->rec = rec;
    uint32_t sub = sc->vt->subscriptions;
    b->want_l3 = (sub & BRS_SUB_L3) != 0;
    b->want_depth = (sub & BRS_SUB_DEPTH) != 0;
    brs_progress pr;
    if (progress)
        brs__progress_start(&pr, "backtest", b->total_events);
    int64_t t0 = brs__monotime_ns();
    b->next_sample = INT64_MIN;
    step_until(b, 1, &pr, progress);
    res->seconds = (double)(brs__monotime_ns() - t0) * 1e-9;
    if (progress)
        brs__progress_finish(&pr);
    res->events = b->events;
    res->total_events = b->total_events;
    if (b->interrupted) {
        res->interrupted = brs__interrupted();
        res->reached_ns = b->now;
    }
    if (b->failed)
        return brs__err(err, b->failed, "%s", b->err.msg);
    return BRS_OK;
}

int brs__book_finish(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, brs_error *err)
{
    (void)rec;
    /* the strategy stopped and cancelled its orders: let that play out, then flatten */
    step_until(b, 0, NULL, 0);
    if (b->flatten && b->n_v) {
        for (uint32_t i = 0; i < b->n_instr; i++) {
            if (!b->pos[i])
                continue;
            brs_order o = {.id = sc->next_order_id++, .instrument = i, .qty = llabs(b->pos[i]),
                           .side = b->pos[i] > 0 ? BRS_SELL : BRS_BUY, .type = BRS_MARKET,
                           .tif = BRS_IOC, .ts = b->now};
            x_submit(b, sc, &o);
        }
        step_until(b, 0, NULL, 0);
    }
    sample(b);
    if (b->sor && rec) {
        const char *names[BRS__XS_MAX_VENUES];
        for (uint32_t i = 0; i < b->n_v && i < BRS__XS_MAX_VENUES; i++)
            names[i] = b->v[i].name;
        brs__xstats_summary(&b->xs, rec, names, b->n_v);
    }
    if (b->failed)
        return brs__err(err, b->failed, "%s", b->err.msg);
    return BRS_OK;
}

uint64_t brs__book_fills(const brs__book_run *b, uint64_t *orders)
{
    if (orders)
        *orders = b->orders;
    return b->fills;
}
