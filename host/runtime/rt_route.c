/* rt_route.c: the order path. A client's order goes to its route: straight to
 * one venue (queued at the venue's order-entry latency, its venue order id
 * carrying the client), or to the smart order router (host/sor: risk checks,
 * then child orders across venues), and every event comes back to the client
 * that sent it under the client's own order id. With the router, a client order
 * is a parent; the parent map (pmap) ties router parents to client orders and
 * turns a replace into cancel-and-resend of the rest. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ops/metrics.h"
#include "rt_internal.h"

/* ---- clients ------------------------------------------------------------------ */

int brs__rt_client_add(brs__rt *rt, const brs__rt_client_ops *ops, brs__rt_route route,
                       uint32_t *id, brs_error *err)
{
    if (!ops || !ops->xOnOrder)
        return brs__err(err, BRS_E_INVAL, "runtime client: xOnOrder is required");
    if (route.kind == BRS__RT_ROUTE_SOR && !rt->sor)
        return brs__err(err, BRS_E_INVAL, "route sor: the router is not enabled (router.enabled)");
    if (route.kind == BRS__RT_ROUTE_VENUE && route.venue >= rt->n_v && rt->n_v)
        return brs__err(err, BRS_E_INVAL, "route: venue %u does not exist", route.venue);
    if (rt->n_clients >= RT_MAX_CLIENTS)
        return brs__err(err, BRS_E_LIMIT, "runtime: at most %d clients", RT_MAX_CLIENTS);
    if (rt->n_clients == rt->cap_clients) {
        uint32_t nc = rt->cap_clients ? rt->cap_clients * 2 : 8;
        rt_client *g = realloc(rt->clients, nc * sizeof *g);
        if (!g)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        rt->clients = g;
        rt->cap_clients = nc;
    }
    rt->clients[rt->n_clients] = (rt_client){.ops = *ops, .route = route};
    *id = rt->n_clients++;
    return BRS_OK;
}

int brs__rt_route_parse(const brs__rt *rt, const char *text, brs__rt_route *out, brs_error *err)
{
    if (!strcmp(text, "sor")) {
        if (!rt->sor)
            return brs__err(err, BRS_E_INVAL, "route 'sor' needs router.enabled");
        *out = (brs__rt_route){.kind = BRS__RT_ROUTE_SOR};
        return BRS_OK;
    }
    if (!strncmp(text, "venue:", 6)) {
        int i = brs__rt_venue_find(rt, text + 6);
        if (i < 0)
            return brs__err(err, BRS_E_NOTFOUND, "route '%s' names no venue", text);
        *out = (brs__rt_route){.kind = BRS__RT_ROUTE_VENUE, .venue = (uint32_t)i};
        return BRS_OK;
    }
    return brs__err(err, BRS_E_INVAL, "route is '%s': expected \"sor\" or \"venue:<name>\"", text);
}

brs__rt_route brs__rt_default_route(const brs__rt *rt)
{
    if (rt->sor)
        return (brs__rt_route){.kind = BRS__RT_ROUTE_SOR};
    return (brs__rt_route){.kind = BRS__RT_ROUTE_VENUE, .venue = rt->route};
}

static double client_mid(brs__rt *rt, uint32_t client, uint32_t instrument)
{
    const rt_client *c = client < rt->n_clients ? &rt->clients[client] : NULL;
    return c && c->ops.xMid && instrument < rt->n_instr ? c->ops.xMid(c->ops.user, instrument) : NAN;
}

void brs__rt_deliver(brs__rt *rt, uint32_t client, brs_order_event *ev)
{
    if (client < rt->n_clients)
        rt->clients[client].ops.xOnOrder(rt->clients[client].ops.user, ev);
}

static uint64_t venue_id(const brs__rt *rt, uint32_t client, uint64_t id)
{
    return (rt->sor ? RT_DIRECT_TAG : 0) | ((uint64_t)client << RT_ID_BITS) | (id & RT_ID_MASK);
}

/* ---- the parent map ----------------------------------------------------------- */

/* Two hash indexes over the entries, by router parent id and by (client,
 * client's order id), so that every event finds its entry in constant time
 * however many parents rest (a linear scan made a session with thousands of
 * resting routed orders quadratic). Open addressing, linear probing, at most
 * half full; each slot holds its key (the parent id, or the hash of client and
 * order id) and entry index + 1 (0: empty), so a probe touches an entry only
 * when the key matches; deletion shifts the probe run back (no tombstones). */
static uint64_t ix_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static uint64_t ix_key_order(uint32_t client, uint64_t order)
{
    return ix_mix(order ^ ((uint64_t)client << 48) ^ UINT64_C(0x9e3779b97f4a7c15));
}

/* where a key's probe run starts: parent ids are mixed, order keys are hashes */
static uint64_t ix_home(const brs__rt *rt, const rt_ixslot *tab, uint64_t k)
{
    return (tab == rt->ix_parent ? ix_mix(k) : k) & rt->ix_mask;
}

static void ix_put(brs__rt *rt, rt_ixslot *tab, uint64_t k, uint32_t e)
{
    uint64_t i = ix_home(rt, tab, k);
    while (tab[i].e1)
        i = (i + 1) & rt->ix_mask;
    tab[i].k = k;
    tab[i].e1 = e + 1;
}

/* The slot holding entry e under key k (it is there). */
static uint64_t ix_slot(const brs__rt *rt, const rt_ixslot *tab, uint64_t k, uint32_t e)
{
    uint64_t i = ix_home(rt, tab, k);
    while (tab[i].e1 != e + 1)
        i = (i + 1) & rt->ix_mask;
    return i;
}

static void ix_del(brs__rt *rt, rt_ixslot *tab, uint64_t k, uint32_t e)
{
    uint64_t i = ix_slot(rt, tab, k, e), j = i;
    for (;;) {
        j = (j + 1) & rt->ix_mask;
        if (!tab[j].e1)
            break;
        uint64_t h = ix_home(rt, tab, tab[j].k);
        if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
            continue; /* its probe run does not pass the hole */
        tab[i] = tab[j];
        i = j;
    }
    tab[i].e1 = 0;
}

/* Sized for cap entries; every entry indexed again (nothing changes on failure). */
static int ix_rebuild(brs__rt *rt, uint32_t cap)
{
    uint64_t n = 16;
    while (n < 2 * (uint64_t)cap)
        n *= 2;
    rt_ixslot *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return BRS_E_NOMEM;
    }
    free(rt->ix_parent);
    free(rt->ix_order);
    rt->ix_parent = a;
    rt->ix_order = b;
    rt->ix_mask = n - 1;
    for (uint32_t e = 0; e < rt->n_pmap; e++) {
        if (rt->pmap[e].parent)
            ix_put(rt, a, rt->pmap[e].parent, e);
        ix_put(rt, b, ix_key_order(rt->pmap[e].client, rt->pmap[e].order), e);
    }
    return BRS_OK;
}

void brs__rt_pmap_free(brs__rt *rt)
{
    free(rt->pmap);
    free(rt->ix_parent);
    free(rt->ix_order);
    rt->pmap = NULL;
    rt->ix_parent = rt->ix_order = NULL;
    rt->n_pmap = rt->cap_pmap = 0;
}

static int pmap_add(brs__rt *rt, uint64_t parent, uint32_t client, uint64_t order)
{
    if (rt->n_pmap == rt->cap_pmap) {
        uint32_t nc = rt->cap_pmap ? rt->cap_pmap * 2 : 256;
        if (ix_rebuild(rt, nc) != BRS_OK)
            return BRS_E_NOMEM;
        pmap_entry *g = realloc(rt->pmap, nc * sizeof *g);
        if (!g)
            return BRS_E_NOMEM;
        rt->pmap = g;
        rt->cap_pmap = nc;
    }
    uint32_t e = rt->n_pmap++;
    pmap_entry *pe = &rt->pmap[e];
    memset(pe, 0, sizeof *pe);
    pe->parent = parent;
    pe->order = order;
    pe->client = client;
    if (rt->submitting_o)
        pe->o = *rt->submitting_o;
    pe->arrival_mid = client_mid(rt, client, pe->o.instrument);
    if (parent)
        ix_put(rt, rt->ix_parent, parent, e);
    ix_put(rt, rt->ix_order, ix_key_order(client, order), e);
    return BRS_OK;
}

static pmap_entry *pmap_parent(brs__rt *rt, uint64_t parent)
{
    if (!rt->n_pmap || !parent)
        return NULL;
    for (uint64_t i = ix_home(rt, rt->ix_parent, parent); rt->ix_parent[i].e1; i = (i + 1) & rt->ix_mask)
        if (rt->ix_parent[i].k == parent)
            return &rt->pmap[rt->ix_parent[i].e1 - 1];
    return NULL;
}

static pmap_entry *pmap_order(brs__rt *rt, uint32_t client, uint64_t order)
{
    if (!rt->n_pmap)
        return NULL;
    uint64_t k = ix_key_order(client, order);
    for (uint64_t i = k & rt->ix_mask; rt->ix_order[i].e1; i = (i + 1) & rt->ix_mask) {
        if (rt->ix_order[i].k != k)
            continue;
        pmap_entry *pe = &rt->pmap[rt->ix_order[i].e1 - 1];
        if (pe->order == order && pe->client == client)
            return pe;
    }
    return NULL;
}

/* A replace's parents: the old one ended (0), the new one known. */
static void pmap_set_parent(brs__rt *rt, pmap_entry *pe, uint64_t parent)
{
    uint32_t e = (uint32_t)(pe - rt->pmap);
    if (pe->parent)
        ix_del(rt, rt->ix_parent, pe->parent, e);
    pe->parent = parent;
    if (parent)
        ix_put(rt, rt->ix_parent, parent, e);
}

static void pmap_drop(brs__rt *rt, pmap_entry *pe)
{
    uint32_t e = (uint32_t)(pe - rt->pmap), last = rt->n_pmap - 1;
    if (pe->parent)
        ix_del(rt, rt->ix_parent, pe->parent, e);
    ix_del(rt, rt->ix_order, ix_key_order(pe->client, pe->order), e);
    if (e != last) { /* the last entry moves into the hole: its slots follow it */
        pmap_entry *l = &rt->pmap[last];
        if (l->parent)
            rt->ix_parent[ix_slot(rt, rt->ix_parent, l->parent, last)].e1 = e + 1;
        rt->ix_order[ix_slot(rt, rt->ix_order, ix_key_order(l->client, l->order), last)].e1 = e + 1;
        *pe = *l;
    }
    rt->n_pmap--;
}

/* A post-only order that would take on a venue the router may use (as the host
 * saw it) is refused here: the router itself would take with it. */
static int would_take(brs__rt *rt, const brs_order *o)
{
    if (!(o->flags & BRS_OF_POST_ONLY) || o->type != BRS_LIMIT)
        return 0;
    for (uint32_t i = 0; i < rt->n_v; i++) {
        brs_top t;
        rt_venue *v = &rt->v[i];
        if (rt->only >= 0 && (uint32_t)rt->only != i)
            continue;
        if (rt->books_from_venues ? !v->vt->xTop || v->vt->xTop(v->inst.self, o->instrument, &t) != BRS_OK
                                  : !v->view || brs__view_top(v->view, o->instrument, &t) != BRS_OK)
            continue;
        if (o->side == BRS_BUY ? t.ask_qty && o->price >= t.ask_price
                               : t.bid_qty && o->price <= t.bid_price)
            return 1;
    }
    return 0;
}

/* Send o (the client's order `order`, or the rest of it) as a parent. */
static void router_send(brs__rt *rt, uint32_t client, const brs_order *o, uint64_t order)
{
    uint64_t pid = 0;
    brs_error e = {0};
    rt->xs.parents++;
    if (would_take(rt, o)) {
        pmap_entry *pe = pmap_order(rt, client, order);
        brs_order_event ev = {.kind = BRS_OEV_REJECTED, .side = o->side, .reason = BRS_E_WOULDTAKE,
                              .instrument = o->instrument, .order_id = order, .ts = rt->now,
                              .price = o->price, .qty = o->qty, .cum_qty = pe ? pe->cum : 0};
        if (pe)
            pmap_drop(rt, pe);
        rt->xs.rejected++;
        brs__rt_deliver(rt, client, &ev);
        return;
    }
    /* a client may send orders from inside an event */
    uint64_t outer = rt->submitting;
    uint32_t outer_c = rt->submitting_client;
    const brs_order *outer_o = rt->submitting_o;
    rt->submitting = order;
    rt->submitting_client = client;
    rt->submitting_o = o;
    int64_t t0 = rt->h_route ? brs__monotime_ns() : 0;
    int rc = brs__sor_submit(rt->sor, o, rt->sor_post && o->type == BRS_LIMIT && o->tif != BRS_IOC &&
                                          o->tif != BRS_FOK, rt->now, &pid, &e);
    if (rt->h_route)
        brs__hist_observe_ns(rt->h_route, brs__monotime_ns() - t0);
    rt->submitting = outer;
    rt->submitting_client = outer_c;
    rt->submitting_o = outer_o;
    /* the parent's ACCEPTED (or REJECTED) came through r_parent_event inside
     * brs__sor_submit, which made its entry (and dropped it if the parent has
     * already ended: adding it here again left a stale entry behind) */
    (void)rc;
    (void)pid;
}

void brs__rt_set_route_hist(brs__rt *rt, struct brs__histogram *h) { rt->h_route = h; }

/* Replaces whose old parent ended: send the rest at the new price. */
static void flush_resubmits(brs__rt *rt)
{
    while (rt->n_resubmit) {
        uint32_t i;
        for (i = 0; i < rt->n_pmap && !rt->pmap[i].resubmit; i++)
            ;
        if (i == rt->n_pmap) {
            rt->n_resubmit = 0;
            break;
        }
        pmap_entry *pe = &rt->pmap[i];
        pe->resubmit = 0;
        rt->n_resubmit--;
        brs_order o = pe->o;
        o.price = pe->new_price;
        o.qty = pe->new_qty - pe->cum;
        router_send(rt, pe->client, &o, pe->order); /* pe may move: not used after this */
    }
}

/* ---- order entry ------------------------------------------------------------------ */

static const rt_client *client_of(const brs__rt *rt, uint32_t client)
{
    return client < rt->n_clients ? &rt->clients[client] : NULL;
}

static int rt_submit(brs__rt *rt, uint32_t client, const brs_order *o);

/* With a submit hook (only while a FIX end of day's slices run): off the
 * order path. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int submit_hooked(brs__rt *rt, uint32_t client, const brs_order *o)
{
    if (!rt->submit_fn(rt->submit_user, client, o))
        return rt_submit(rt, client, o);
    int was = rt->after_sent;
    rt->after_sent = 1; /* after what the hook sent (brs__rt_set_submit_hook) */
    int rc = rt_submit(rt, client, o);
    rt->after_sent = was;
    return rc;
}

int brs__rt_submit(brs__rt *rt, uint32_t client, const brs_order *o)
{
    if (BRS__UNLIKELY(rt->submit_fn != NULL))
        return submit_hooked(rt, client, o);
    return rt_submit(rt, client, o);
}

static inline int rt_submit(brs__rt *rt, uint32_t client, const brs_order *o)
{
    const rt_client *c = client_of(rt, client);
    if (!c)
        return BRS_E_INVAL;
    if (!rt->n_v)
        return BRS_E_UNSUPPORTED; /* no venue configured: the runtime rejects it */
    if (BRS__UNLIKELY(rt->n_queued >= rt->heap_cap) && brs__rtq_admit(rt) != BRS_OK)
        return BRS_E_AGAIN; /* queue_capacity in flight: refused, try again */
    brs_order x = *o;
    if (!x.account)
        x.account = client; /* client 0 (book mode's strategy): unchanged */
    if (!x.stp && !c->ops.self_trade)
        x.stp = BRS_STP_CANCEL_NEWEST; /* a strategy's orders never trade with each other */
    if (c->route.kind == BRS__RT_ROUTE_SOR) {
        router_send(rt, client, &x, o->id);
        flush_resubmits(rt);
        return BRS_OK; /* a refused parent already produced its REJECTED event */
    }
    q_item it = {.kind = Q_SUBMIT, .venue = c->route.venue};
    it.u.o = x;
    it.u.o.id = venue_id(rt, client, o->id);
    return brs__rtq_at(rt, rt->v[c->route.venue].order_ns, &it);
}

int brs__rt_cancel(brs__rt *rt, uint32_t client, uint64_t id)
{
    const rt_client *c = client_of(rt, client);
    if (!c)
        return BRS_E_INVAL;
    if (BRS__UNLIKELY(rt->n_queued >= rt->heap_cap) && brs__rtq_admit(rt) != BRS_OK)
        return BRS_E_AGAIN;
    if (c->route.kind == BRS__RT_ROUTE_SOR) {
        pmap_entry *pe = pmap_order(rt, client, id);
        if (!pe)
            return BRS_E_UNKNOWNORDER;
        pe->cancel_req = 1;
        pe->replacing = 0;
        pe->new_qty = 0;
        if (!pe->parent) { /* between a replace's two parents: nothing is working */
            brs_order_event ev = {.kind = BRS_OEV_CANCELLED, .side = pe->o.side,
                                  .instrument = pe->o.instrument, .order_id = id, .ts = rt->now,
                                  .price = pe->o.price, .qty = pe->o.qty - pe->cum,
                                  .cum_qty = pe->cum};
            if (pe->resubmit)
                rt->n_resubmit--;
            pmap_drop(rt, pe);
            brs__rt_deliver(rt, client, &ev);
            return BRS_OK;
        }
        int rc = brs__sor_cancel(rt->sor, pe->parent);
        flush_resubmits(rt);
        return rc;
    }
    if (!rt->n_v)
        return BRS_E_UNKNOWNORDER;
    q_item it = {.kind = Q_CANCEL, .venue = c->route.venue};
    it.u.r.id = venue_id(rt, client, id);
    return brs__rtq_at(rt, rt->v[c->route.venue].cancel_ns, &it);
}

int brs__rt_replace(brs__rt *rt, uint32_t client, uint64_t id, int64_t price, int64_t qty)
{
    const rt_client *c = client_of(rt, client);
    if (!c)
        return BRS_E_INVAL;
    if (BRS__UNLIKELY(rt->n_queued >= rt->heap_cap) && brs__rtq_admit(rt) != BRS_OK)
        return BRS_E_AGAIN;
    if (c->route.kind == BRS__RT_ROUTE_SOR) {
        pmap_entry *pe = pmap_order(rt, client, id);
        if (!pe || pe->cancel_req)
            return BRS_E_UNKNOWNORDER;
        if (qty <= pe->cum)
            return brs__rt_cancel(rt, client, id);
        pe->new_price = price;
        pe->new_qty = qty;
        if (!pe->replacing && pe->parent) {
            pe->replacing = 1;
            brs__sor_cancel(rt->sor, pe->parent);
        }
        flush_resubmits(rt);
        return BRS_OK;
    }
    if (!rt->n_v)
        return BRS_E_UNKNOWNORDER;
    q_item it = {.kind = Q_REPLACE, .venue = c->route.venue};
    it.u.r.id = venue_id(rt, client, id);
    it.u.r.price = price;
    it.u.r.qty = qty;
    return brs__rtq_at(rt, rt->v[c->route.venue].order_ns, &it);
}

int brs__rt_replace_known(brs__rt *rt, uint32_t client, const brs_order *o)
{
    if (BRS__LIKELY(rt->replace_fn == NULL))
        return brs__rt_replace(rt, client, o->id, o->price, o->qty);
    /* (only while a FIX end of day's slices run) as a new order at that price */
    int after = rt->replace_fn(rt->replace_user, client, o);
    int was = rt->after_sent;
    rt->after_sent |= after != 0;
    int rc = brs__rt_replace(rt, client, o->id, o->price, o->qty);
    rt->after_sent = was;
    return rc;
}

/* ---- the child hook: open children and their parents ----------------------- */

void brs__rt_set_child_hook(brs__rt *rt, void (*fn)(void *user, const brs__rt_child_note *n), void *user)
{
    rt->child_fn = fn;
    rt->child_user = user;
}

static uint32_t cmap_slot(const brs__rt *rt, uint64_t child)
{
    uint64_t h = child * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & (rt->cmap_cap - 1);
}

static rt_child *cmap_find(brs__rt *rt, uint64_t child)
{
    if (!rt->cmap_cap)
        return NULL;
    for (uint32_t i = cmap_slot(rt, child);; i = (i + 1) & (rt->cmap_cap - 1)) {
        if (!rt->cmap[i].child)
            return NULL;
        if (rt->cmap[i].child == child)
            return &rt->cmap[i];
    }
}

static void cmap_put(brs__rt *rt, const rt_child *c)
{
    if ((rt->cmap_n + 1) * 2 > rt->cmap_cap) { /* at most half full */
        uint32_t nc = rt->cmap_cap ? rt->cmap_cap * 2 : 256;
        rt_child *old = rt->cmap, *m = calloc(nc, sizeof *m);
        if (!m)
            return; /* out of memory: the child's notes name no parent */
        uint32_t oc = rt->cmap_cap;
        rt->cmap = m;
        rt->cmap_cap = nc;
        rt->cmap_n = 0;
        for (uint32_t i = 0; i < oc; i++)
            if (old[i].child)
                cmap_put(rt, &old[i]);
        free(old);
    }
    uint32_t i = cmap_slot(rt, c->child);
    while (rt->cmap[i].child)
        i = (i + 1) & (rt->cmap_cap - 1);
    rt->cmap[i] = *c;
    rt->cmap_n++;
}

/* Backward-shift deletion: the probe chains stay whole without tombstones. */
static void cmap_del(brs__rt *rt, rt_child *e)
{
    uint32_t m = rt->cmap_cap - 1, i = (uint32_t)(e - rt->cmap), j = i;
    for (;;) {
        j = (j + 1) & m;
        if (!rt->cmap[j].child)
            break;
        uint32_t k = cmap_slot(rt, rt->cmap[j].child);
        /* move j back to i unless its home k lies cyclically in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        rt->cmap[i] = rt->cmap[j];
        i = j;
    }
    rt->cmap[i].child = 0;
    rt->cmap_n--;
}

/* Whose parent a child being sent belongs to: the order being submitted, else
 * the parent of the child whose event is being handled (a reroute), else the
 * one working parent of that account, instrument and side. */
static void child_parent(brs__rt *rt, const brs_order *o, uint32_t *client, uint64_t *order)
{
    *client = UINT32_MAX;
    *order = 0;
    if (rt->submitting) {
        *client = rt->submitting_client;
        *order = rt->submitting;
        return;
    }
    if (rt->child_ctx) {
        *client = rt->child_ctx->client;
        *order = rt->child_ctx->order;
        return;
    }
    int hits = 0;
    for (uint32_t i = 0; i < rt->n_pmap; i++) {
        const pmap_entry *pe = &rt->pmap[i];
        if (pe->parent && pe->o.account == o->account && pe->o.instrument == o->instrument &&
            pe->o.side == o->side && !hits++) {
            *client = pe->client;
            *order = pe->order;
        }
    }
    if (hits > 1) {
        *client = UINT32_MAX;
        *order = 0;
    }
}

static void child_note(brs__rt *rt, int what, const rt_child *c, uint64_t child, uint32_t venue,
                       const brs_order *o, const brs_order_event *ev)
{
    brs__rt_child_note n = {.what = what, .client = c ? c->client : UINT32_MAX, .order = c ? c->order : 0,
                            .child = child, .venue = venue, .now = rt->now, .cum = c ? c->cum : 0,
                            .o = o, .ev = ev};
    rt->child_fn(rt->child_user, &n);
}

/* ---- the router's view of the venues (brs_sor_ops) --------------------- */

static int r_send(void *user, uint32_t venue, const brs_order *o)
{
    brs__rt *rt = user;
    q_item it = {.kind = Q_SUBMIT, .venue = venue};
    it.u.o = *o; /* stp: the parent's (brs__rt_submit set it for clients that may not self-trade) */
    int rc = brs__rtq_at(rt, rt->v[venue].order_ns, &it);
    if (rt->child_fn && rc >= 0) {
        rt_child c = {.child = o->id, .qty = o->qty};
        child_parent(rt, o, &c.client, &c.order);
        cmap_put(rt, &c);
        child_note(rt, BRS__RT_CHILD_ROUTED, &c, o->id, venue, &it.u.o, NULL);
    }
    return rc;
}

static int r_cancel(void *user, uint32_t venue, uint64_t child)
{
    brs__rt *rt = user;
    q_item it = {.kind = Q_CANCEL, .venue = venue};
    it.u.r.id = child;
    int rc = brs__rtq_at(rt, rt->v[venue].cancel_ns, &it);
    if (rt->child_fn && rc >= 0)
        child_note(rt, BRS__RT_CHILD_CANCEL, cmap_find(rt, child), child, venue, NULL, NULL);
    return rc;
}

/* Each venue's book as the host last saw it (after market-data latency). */
static int r_books(void *user, uint32_t instrument, int side, brs_sor_venue *out, uint32_t n)
{
    (void)side;
    brs__rt *rt = user;
    for (uint32_t i = 0; i < n && i < rt->n_v; i++) {
        rt_venue *v = &rt->v[i];
        size_t nb, na;
        if (rt->books_from_venues) { /* the venue's book as it is now, every client's orders in it */
            uint32_t b = 0, a = 0;
            if (!v->vt->xDepth ||
                v->vt->xDepth(v->inst.self, instrument, BRS_BUY, v->bids, BRS__SCTX_DEPTH, &b) != BRS_OK)
                b = 0;
            if (!v->vt->xDepth ||
                v->vt->xDepth(v->inst.self, instrument, BRS_SELL, v->asks, BRS__SCTX_DEPTH, &a) != BRS_OK)
                a = 0;
            nb = b;
            na = a;
        } else {
            nb = brs__view_depth(v->view, instrument, BRS_BUY, v->bids, BRS__SCTX_DEPTH);
            na = brs__view_depth(v->view, instrument, BRS_SELL, v->asks, BRS__SCTX_DEPTH);
        }
        out[i] = (brs_sor_venue){.bids = v->bids, .asks = v->asks, .n_bids = (uint32_t)nb,
                                 .n_asks = (uint32_t)na, .taker_fee_ppm = v->taker_ppm,
                                 .maker_fee_ppm = v->maker_ppm, .latency_ns = v->order_ns,
                                 .lot_size = v->lot, .min_qty = v->min_qty,
                                 .up = (uint8_t)(rt->only < 0 || (uint32_t)rt->only == i)};
    }
    return BRS_OK;
}

/* One stream of events per parent, under the client's own order id. */
static void r_parent_event(void *user, const brs_order_event *ev)
{
    brs__rt *rt = user;
    /* a refused parent has id 0, like an entry between a replace's two parents */
    pmap_entry *pe = ev->order_id ? pmap_parent(rt, ev->order_id) : NULL;
    if (!pe && rt->submitting) {
        if ((pe = pmap_order(rt, rt->submitting_client, rt->submitting)) && !pe->parent) {
            pmap_set_parent(rt, pe, ev->order_id); /* the new parent of a replace */
        } else if (pmap_add(rt, ev->order_id, rt->submitting_client, rt->submitting) == BRS_OK) {
            pe = &rt->pmap[rt->n_pmap - 1];
        } else {
            pe = NULL;
        }
    }
    if (!pe)
        return;
    brs_order_event e = *ev;
    e.order_id = pe->order;
    uint32_t client = pe->client;
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
        if (pe->new_qty) { /* a replace's new parent: the client hears REPLACED */
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
        double scale = rt->instr[ev->instrument].price_scale > 0 ? (double)rt->instr[ev->instrument].price_scale : 1;
        brs__xstats_fill(&rt->xs, ev, pe->arrival_mid, client_mid(rt, client, ev->instrument), scale);
        break;
    }
    case BRS_OEV_CANCELLED:
        if (pe->replacing && !pe->cancel_req && pe->new_qty > pe->cum) {
            pe->replacing = 0; /* the old parent is gone: the new one goes out after this call */
            pmap_set_parent(rt, pe, 0);
            pe->resubmit = 1;
            rt->n_resubmit++;
            return;
        }
        e.qty = pe->o.qty - pe->cum;
        break;
    case BRS_OEV_REJECTED:
        rt->xs.rejected++;
        break;
    default: break;
    }
    e.cum_qty = pe->cum;
    e.leaves = e.kind == BRS_OEV_ACCEPTED || e.kind == BRS_OEV_REPLACED || e.kind == BRS_OEV_FILL
                   ? (pe->o.qty > pe->cum ? pe->o.qty - pe->cum : 0)
                   : 0;
    if (e.kind == BRS_OEV_REJECTED || e.kind == BRS_OEV_CANCELLED ||
        (e.kind == BRS_OEV_FILL && e.leaves <= 0))
        pmap_drop(rt, pe); /* done: forget it */
    brs__rt_deliver(rt, client, &e);
}

/* ---- queued order items ------------------------------------------------------------ */

/* A venue's event about a child, noted before the router sees it; a child that
 * ended leaves the map (its parent stays in *ctx for the reroute it causes). */
static void child_event(brs__rt *rt, const brs_order_event *ev, rt_child *ctx)
{
    rt_child *c = cmap_find(rt, ev->order_id);
    if (c) {
        int done = 0;
        switch (ev->kind) {
        case BRS_OEV_ACCEPTED:
        case BRS_OEV_REPLACED: c->acked = 1; break;
        case BRS_OEV_FILL:
            c->acked = 1;
            c->cum = ev->cum_qty > 0 ? ev->cum_qty : c->cum + ev->qty;
            done = c->cum >= c->qty;
            break;
        case BRS_OEV_CANCELLED: done = 1; break;
        case BRS_OEV_REJECTED: done = !c->acked || ev->reason == BRS_E_UNKNOWNORDER; break;
        default: break;
        }
        *ctx = *c;
        if (done)
            cmap_del(rt, c);
    }
    child_note(rt, BRS__RT_CHILD_EVENT, c ? ctx : NULL, ev->order_id, ev->venue, NULL, ev);
}

/* An order entry or replace whose day ended on its way (brs__rt_day_over)
 * reaches its venue: the order is taken and expires there at once, never in
 * its book (ACCEPTED then CANCELLED, at one time so they keep their order);
 * the replace cancels the order it names instead (nothing when gone). */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static void day_over_arrives(brs__rt *rt, const q_item *it, rt_venue *v)
{
    if (!v)
        return;
    if (it->kind == Q_REPLACE_OVER) {
        v->vt->xCancel(v->inst.self, it->u.r.id);
        return;
    }
    if (it->kind != Q_SUBMIT_OVER)
        return;
    const brs_order *o = &it->u.o;
    q_item r = {.kind = Q_RESPONSE, .venue = it->venue};
    r.u.oe = (brs_order_event){.kind = BRS_OEV_ACCEPTED, .side = o->side, .instrument = o->instrument,
                               .venue = it->venue, .order_id = o->id, .ts = rt->now, .price = o->price,
                               .qty = o->qty, .leaves = o->qty};
    r.t = rt->now + v->response_ns + (rt->jitter_ns > 0 ? rt->jitter_ns : 0);
    brs__rtq_push(rt, &r);
    r.u.oe.kind = BRS_OEV_CANCELLED;
    r.u.oe.leaves = 0;
    brs__rtq_push(rt, &r);
}

void brs__rt_dispatch_order(brs__rt *rt, q_item *it)
{
    rt_venue *v = it->venue < rt->n_v ? &rt->v[it->venue] : NULL;
    int rc;
    switch (it->kind) {
    case Q_SUBMIT:
        if (v) {
            /* a venue may report its refusal as an event besides returning the
             * code (the sim venue does): the client hears one REJECTED */
            uint64_t sid = rt->xsubmit_id;
            uint8_t sact = rt->xsubmit_active, srej = rt->xsubmit_rejected;
            rt->xsubmit_id = it->u.o.id;
            rt->xsubmit_active = 1;
            rt->xsubmit_rejected = 0;
            rc = v->vt->xSubmit(v->inst.self, &it->u.o);
            if (rt->xsubmit_rejected)
                rc = BRS_OK;
            rt->xsubmit_id = sid;
            rt->xsubmit_active = sact;
            rt->xsubmit_rejected = srej;
        } else {
            rc = BRS_E_UNSUPPORTED;
        }
        if (rc < 0) { /* refused outright: the client hears it after the response latency */
            q_item r = {.kind = Q_RESPONSE, .venue = it->venue};
            r.u.oe = (brs_order_event){.kind = BRS_OEV_REJECTED, .side = it->u.o.side,
                                       .reason = rc, .instrument = it->u.o.instrument,
                                       .venue = it->venue, .order_id = it->u.o.id, .ts = rt->now,
                                       .price = it->u.o.price, .qty = it->u.o.qty};
            brs__rtq_at(rt, v ? v->response_ns : rt->response_ns, &r);
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
        if (it->u.oe.instrument >= rt->n_instr)
            break;
        if (rt->sor && !(it->u.oe.order_id & RT_DIRECT_TAG)) {
            /* a child's event: the router turns it into parent events */
            rt_child ctx = {0};
            if (rt->child_fn)
                child_event(rt, &it->u.oe, &ctx);
            const rt_child *outer = rt->child_ctx;
            rt->child_ctx = ctx.child ? &ctx : outer;
            brs__sor_on_child_event(rt->sor, &it->u.oe, rt->now);
            flush_resubmits(rt);
            rt->child_ctx = outer;
        } else {
            uint64_t vid = it->u.oe.order_id & ~RT_DIRECT_TAG;
            uint32_t client = (uint32_t)(vid >> RT_ID_BITS);
            it->u.oe.order_id = vid & RT_ID_MASK;
            brs__rt_deliver(rt, client, &it->u.oe);
        }
        break;
    default:
        day_over_arrives(rt, it, v); /* (off the switch's common cases) */
        break;
    }
}

void brs__rt_tick(brs__rt *rt)
{
    if (rt->sor && rt->now != rt->last_tick) { /* ack timeouts */
        rt->last_tick = rt->now;
        brs__sor_tick(rt->sor, rt->now);
    }
}

brs__xstats *brs__rt_xstats(brs__rt *rt) { return rt->sor ? &rt->xs : NULL; }

const brs_instrument *brs__rt_instruments(const brs__rt *rt, uint32_t *n)
{
    *n = rt->n_instr;
    return rt->instr;
}

void brs__rt_set_books_from_venues(brs__rt *rt, int on) { rt->books_from_venues = on || !rt->views; }

void brs__rt_risk_ref(brs__rt *rt, uint32_t instrument, int64_t price)
{
    if (rt->risk)
        brs__risk_set_ref(rt->risk, instrument, price);
}

/* The router: a view of every venue's book, risk checks, the parent manager. */
int brs__rt_router_open(brs__rt *rt, const brs__rt_opts *o, brs_error *err)
{
    brs_config *cfg = rt->cfg;
    int rc;
    for (uint32_t i = 0; i < rt->n_v && rt->views; i++)
        if (i == rt->route)
            rt->v[i].view = rt->view;
        else if ((rc = brs__view_create(&rt->v[i].view, rt->n_instr, rt->instr, 0, err)))
            return rc;
    brs_risk_config rcfg;
    if (!(rt->risk = calloc(1, sizeof *rt->risk)))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    if ((rc = brs__risk_config_read(cfg, cJSON_GetObjectItemCaseSensitive(cfg->root, "risk"), rt->instr,
                                    rt->n_instr, &rcfg, err)))
        return rc;
    brs__risk_init(rt->risk, &rcfg);
    brs_sor_mgr_config mc = {.n_venues = rt->n_v,
                             .max_parents = o->max_parents ? (uint32_t)o->max_parents : 4096,
                             .max_children = o->max_children ? (uint32_t)o->max_children : 16384,
                             .ack_timeout_ns = o->ack_timeout_ns,
                             .max_reroutes = (uint32_t)o->max_reroutes};
    brs_sor_ops ops = {.user = rt, .xSend = r_send, .xCancel = r_cancel, .xBooks = r_books,
                       .xParentEvent = r_parent_event};
    rt->sor_post = o->router_post;
    return brs__sor_mgr_create(&rt->sor, &mc, &ops, rt->risk, err);
}
