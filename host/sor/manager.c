/* manager.c: the parent-order manager of sor.h. Parents and children live in
 * pre-sized pools (no allocation after create). A parent's quantity is split
 * into filled, reserved (open children, including ones whose fate is unknown)
 * and free; only free quantity is ever routed, which is why a parent cannot
 * over-fill even when a timed-out child fills later. Child events may arrive
 * re-entrantly from xSend; routing work is queued and drained by one loop. */
#include "sor/sor.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

enum { P_FREE = 0, P_WORKING, P_CANCELING };
enum { C_FREE = 0, C_SENT, C_LIVE };
enum { WHY_NONE = 0, WHY_USER, WHY_KILL };

typedef struct child {
    uint64_t id;
    uint32_t parent;
    uint32_t venue;
    int64_t qty, cum, price;
    int64_t sent_at;
    uint8_t state, kind, cancel_sent, timed_out;
    uint32_t next_free;
    uint32_t sib; /* the parent's next open child (UINT32_MAX: none) */
} child;

typedef struct parent {
    uint64_t id;
    brs_order o;
    int64_t cum, reserved;
    uint32_t open_children;
    uint32_t routes;
    uint32_t bad_mask;     /* venues that rejected or timed out: never again for this parent */
    uint32_t no_take_mask; /* venues whose IOC came back short: do not take there again */
    uint8_t state, post, why, queued;
    uint32_t next_free;
    uint32_t kids; /* its open children, a list through child.sib (UINT32_MAX: none) */
} parent;

struct brs_sor_mgr {
    brs_sor_mgr_config cfg;
    brs_sor_ops ops;
    brs_risk *risk;
    parent *parents;
    child *children;
    uint32_t free_parent, free_child;
    uint32_t open_children;
    uint64_t seq;
    uint8_t venue_up[BRS_SOR_MAX_VENUES];
    int killed;
    int busy;
    int64_t next_deadline; /* earliest ack deadline of a SENT child (INT64_MAX: none) */
    int64_t now;           /* the latest time the host gave us (for calls without one) */
    uint32_t *queue; /* parents to settle */
    uint32_t nq;
    uint64_t full_parents, full_children; /* times a pool was full (logged) */
};

int brs__sor_mgr_create(brs_sor_mgr **out, const brs_sor_mgr_config *cfg, const brs_sor_ops *ops,
                        brs_risk *risk, brs_error *err)
{
    *out = NULL;
    if (!cfg || !ops || !ops->xSend || !ops->xCancel || !ops->xBooks || !ops->xParentEvent)
        return brs__err(err, BRS_E_INVAL, "sor: every ops member is required");
    if (cfg->n_venues < 1 || cfg->n_venues > BRS_SOR_MAX_VENUES)
        return brs__err(err, BRS_E_INVAL, "sor: n_venues %u not in 1..%d", cfg->n_venues,
                        BRS_SOR_MAX_VENUES);
    if (cfg->max_parents < 1 || cfg->max_parents > SLOT_MASK || cfg->max_children < 1 ||
        cfg->max_children > SLOT_MASK || cfg->ack_timeout_ns < 0)
        return brs__err(err, BRS_E_INVAL, "sor: max_parents/max_children must be in 1..%u",
                        SLOT_MASK);
    brs_sor_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return brs__err(err, BRS_E_NOMEM, "sor: out of memory");
    m->cfg = *cfg;
    if (!m->cfg.max_reroutes)
        m->cfg.max_reroutes = 32;
    m->ops = *ops;
    m->risk = risk;
    m->parents = calloc(cfg->max_parents, sizeof *m->parents);
    m->children = calloc(cfg->max_children, sizeof *m->children);
    m->queue = calloc(cfg->max_parents, sizeof *m->queue);
    if (!m->parents || !m->children || !m->queue) {
        brs__sor_mgr_destroy(m);
        return brs__err(err, BRS_E_NOMEM, "sor: out of memory for %u parents, %u children",
                        cfg->max_parents, cfg->max_children);
    }
    for (uint32_t i = 0; i < cfg->max_parents; i++)
        m->parents[i].next_free = i + 1 < cfg->max_parents ? i + 1 : UINT32_MAX;
    for (uint32_t i = 0; i < cfg->max_children; i++)
        m->children[i].next_free = i + 1 < cfg->max_children ? i + 1 : UINT32_MAX;
    m->free_parent = 0;
    m->free_child = 0;
    memset(m->venue_up, 1, sizeof m->venue_up);
    m->next_deadline = INT64_MAX;
    *out = m;
    return BRS_OK;
}

void brs__sor_mgr_destroy(brs_sor_mgr *m)
{
    if (!m)
        return;
    free(m->parents);
    free(m->children);
    free(m->queue);
    free(m);
}

static parent *find_parent(const brs_sor_mgr *m, uint64_t id)
{
    uint32_t s = (uint32_t)(id & SLOT_MASK);
    if (s >= m->cfg.max_parents || m->parents[s].state == P_FREE || m->parents[s].id != id)
        return NULL;
    return &m->parents[s];
}

static child *find_child(const brs_sor_mgr *m, uint64_t id)
{
    uint32_t s = (uint32_t)(id & SLOT_MASK);
    if (s >= m->cfg.max_children || m->children[s].state == C_FREE || m->children[s].id != id)
        return NULL;
    return &m->children[s];
}

static void emit(brs_sor_mgr *m, const parent *p, int kind, int reason, uint32_t venue,
                 int64_t price, int64_t qty, int64_t fee, int liq, int64_t ts)
{
    brs_order_event ev = {0};
    ev.kind = (uint8_t)kind;
    ev.side = p->o.side;
    ev.liquidity = (uint8_t)liq;
    ev.reason = reason;
    ev.instrument = p->o.instrument;
    ev.venue = venue;
    ev.order_id = p->id;
    ev.ts = ts;
    ev.price = price;
    ev.qty = qty;
    ev.cum_qty = p->cum;
    ev.leaves = kind == BRS_OEV_CANCELLED || kind == BRS_OEV_REJECTED ? 0 : p->o.qty - p->cum;
    ev.fee = fee;
    m->ops.xParentEvent(m->ops.user, &ev);
}

static void enqueue(brs_sor_mgr *m, parent *p)
{
    if (!p->queued) {
        p->queued = 1;
        m->queue[m->nq++] = (uint32_t)(p - m->parents);
    }
}

static void release_child(brs_sor_mgr *m, child *c)
{
    parent *p = &m->parents[c->parent];
    uint32_t cs = (uint32_t)(c - m->children);
    for (uint32_t *at = &p->kids; *at != UINT32_MAX; at = &m->children[*at].sib)
        if (*at == cs) {
            *at = c->sib;
            break;
        }
    p->reserved -= c->qty - c->cum;
    p->open_children--;
    m->open_children--;
    c->state = C_FREE;
    c->id = 0;
    c->next_free = m->free_child;
    m->free_child = (uint32_t)(c - m->children);
    enqueue(m, p);
}

static void send_cancel(brs_sor_mgr *m, child *c)
{
    if (c->cancel_sent)
        return;
    c->cancel_sent = 1;
    m->ops.xCancel(m->ops.user, c->venue, c->id);
}

/* Route the parent's free quantity once. */
static void route(brs_sor_mgr *m, parent *p, int64_t now)
{
    int64_t free_qty = p->o.qty - p->cum - p->reserved;
    if (free_qty <= 0 || p->routes > m->cfg.max_reroutes)
        return;
    brs_sor_venue v[BRS_SOR_MAX_VENUES];
    uint32_t nv = m->cfg.n_venues;
    memset(v, 0, nv * sizeof v[0]); /* the n venues xBooks fills; the rest unused */
    if (m->ops.xBooks(m->ops.user, p->o.instrument, p->o.side, v, nv) != BRS_OK)
        return;
    for (uint32_t i = 0; i < nv; i++) {
        if (!m->venue_up[i] || (p->bad_mask >> i & 1u))
            v[i].up = 0;
        if (p->no_take_mask >> i & 1u)
            v[i].no_take = 1;
    }
    brs_sor_parent sp = {.side = p->o.side, .type = p->o.type, .post = p->post,
                         .qty = free_qty, .price = p->o.price};
    brs_sor_plan plan;
    if (brs__sor_route(&sp, v, nv, &plan) != BRS_OK || plan.n == 0)
        return;
    p->routes++;
    for (uint32_t k = 0; k < plan.n; k++) {
        const brs_sor_child *pc = &plan.child[k];
        if (m->free_child == UINT32_MAX) {
            /* pool full: the rest stays free and is tried on the next event */
            if ((m->full_children++ & 1023) == 0)
                BRS_LOG(BRS_LOG_WARN, "sor", "child pool full: routing waits for a child to end",
                        BRS_KV_U("max_children", m->cfg.max_children),
                        BRS_KV_U("times", m->full_children));
            break;
        }
        uint32_t s = m->free_child;
        child *c = &m->children[s];
        m->free_child = c->next_free;
        memset(c, 0, sizeof *c);
        c->id = (++m->seq << SLOT_BITS) | s;
        c->parent = (uint32_t)(p - m->parents);
        c->venue = pc->venue;
        c->qty = pc->qty;
        c->price = pc->price;
        c->kind = pc->kind;
        c->state = C_SENT;
        c->sent_at = now;
        c->sib = p->kids;
        p->kids = s;
        if (m->cfg.ack_timeout_ns && now + m->cfg.ack_timeout_ns < m->next_deadline)
            m->next_deadline = now + m->cfg.ack_timeout_ns;
        p->reserved += c->qty;
        p->open_children++;
        m->open_children++;
        brs_order o = {0};
        o.id = c->id;
        o.instrument = p->o.instrument;
        o.account = p->o.account;
        o.price = pc->price;
        o.qty = pc->qty;
        o.side = pc->side;
        o.type = BRS_LIMIT;
        o.tif = pc->kind == BRS_SOR_TAKE ? BRS_IOC : BRS_GTC;
        o.stp = p->o.stp;
        o.ts = now;
        uint64_t cid = c->id;
        int rc = m->ops.xSend(m->ops.user, pc->venue, &o);
        child *again = find_child(m, cid); /* events may have come back inside xSend */
        if (rc < 0 && again) {
            p->bad_mask |= 1u << pc->venue;
            release_child(m, again);
        }
    }
}

static void finish(brs_sor_mgr *m, parent *p, int64_t now)
{
    int64_t leaves = p->o.qty - p->cum;
    if (leaves > 0) {
        int reason = p->why == WHY_USER ? BRS_OK
                     : p->why == WHY_KILL || m->killed ? BRS_E_RISK
                                                       : BRS_E_NOLIQUIDITY;
        emit(m, p, BRS_OEV_CANCELLED, reason, 0, p->o.price, leaves, 0, BRS_LIQ_NONE, now);
        if (m->risk)
            brs__risk_on_close(m->risk, p->o.instrument, p->o.side, leaves);
    }
    p->state = P_FREE;
    p->id = 0;
    p->next_free = m->free_parent;
    m->free_parent = (uint32_t)(p - m->parents);
}

static void settle_one(brs_sor_mgr *m, parent *p, int64_t now)
{
    if (p->state == P_WORKING && !m->killed)
        route(m, p, now);
    if (p->state != P_FREE && p->open_children == 0) {
        int64_t free_qty = p->o.qty - p->cum - p->reserved;
        /* No child open and none sent: filled, cancelled, or nothing routable
         * (unless a re-entrant event queued it again, then the drain loop retries). */
        if (free_qty <= 0 || p->state == P_CANCELING || m->killed || !p->queued)
            finish(m, p, now);
    }
}

/* Drain the queue of parents whose children changed. */
static void drain(brs_sor_mgr *m, int64_t now)
{
    if (now > m->now)
        m->now = now;
    now = m->now;
    if (m->busy)
        return;
    m->busy = 1;
    while (m->nq) {
        parent *p = &m->parents[m->queue[--m->nq]];
        p->queued = 0;
        settle_one(m, p, now);
    }
    m->busy = 0;
}

int brs__sor_submit(brs_sor_mgr *m, const brs_order *o, int post, int64_t now, uint64_t *id,
                    brs_error *err)
{
    if (id)
        *id = 0;
    if (now > m->now)
        m->now = now;
    int rc = BRS_OK;
    if (m->killed && !m->risk)
        rc = brs__err(err, BRS_E_RISK, "kill_switch: trading stopped");
    else if (o->qty <= 0 || o->side > BRS_SELL || (o->type != BRS_LIMIT && o->type != BRS_MARKET) ||
             (o->type == BRS_LIMIT && o->price <= 0))
        rc = brs__err(err, BRS_E_INVAL, "order: qty > 0, side, type and a limit price are required");
    else if (m->risk)
        rc = brs__risk_check(m->risk, o, now, err);
    if (rc == BRS_OK && m->free_parent == UINT32_MAX) {
        rc = brs__err(err, BRS_E_LIMIT, "sor: %u parent orders open already", m->cfg.max_parents);
        if ((m->full_parents++ & 1023) == 0)
            BRS_LOG(BRS_LOG_WARN, "sor", "parent pool full: order refused",
                    BRS_KV_U("max_parents", m->cfg.max_parents), BRS_KV_U("times", m->full_parents));
    }
    if (rc != BRS_OK) {
        parent tmp = {0};
        tmp.o = *o;
        emit(m, &tmp, BRS_OEV_REJECTED, rc, 0, o->price, o->qty, 0, BRS_LIQ_NONE, now);
        return rc;
    }
    uint32_t s = m->free_parent;
    parent *p = &m->parents[s];
    m->free_parent = p->next_free;
    memset(p, 0, sizeof *p);
    p->id = (++m->seq << SLOT_BITS) | s;
    p->o = *o;
    p->o.id = p->id;
    p->post = post && o->type == BRS_LIMIT;
    p->state = P_WORKING;
    p->kids = UINT32_MAX;
    if (id)
        *id = p->id;
    if (m->risk)
        brs__risk_on_open(m->risk, o->instrument, o->side, o->qty);
    emit(m, p, BRS_OEV_ACCEPTED, 0, 0, o->price, o->qty, 0, BRS_LIQ_NONE, now);
    /* First routing: route now; if nothing was sent, the parent ends at once. */
    int was_busy = m->busy;
    m->busy = 1;
    route(m, p, now);
    m->busy = was_busy;
    if (p->state != P_FREE && p->open_children == 0 && !p->queued)
        finish(m, p, now);
    drain(m, now);
    return BRS_OK;
}

int brs__sor_cancel(brs_sor_mgr *m, uint64_t parent_id)
{
    parent *p = find_parent(m, parent_id);
    if (!p)
        return BRS_E_UNKNOWNORDER;
    if (p->state == P_WORKING) {
        p->state = P_CANCELING;
        p->why = WHY_USER;
    }
    int was_busy = m->busy;
    m->busy = 1; /* cancels may be answered inside xCancel */
    /* the parent's open children; an answer inside xCancel may end one and
     * change the list, so each cancel starts the walk again (few children) */
    for (uint32_t i = p->kids; i != UINT32_MAX;) {
        child *c = &m->children[i];
        if (c->cancel_sent) {
            i = c->sib;
            continue;
        }
        send_cancel(m, c);
        i = p->kids;
    }
    enqueue(m, p);
    m->busy = was_busy;
    drain(m, m->now);
    return BRS_OK;
}

void brs__sor_on_child_event(brs_sor_mgr *m, const brs_order_event *ev, int64_t now)
{
    child *c = find_child(m, ev->order_id);
    if (!c)
        return; /* a late or duplicate event for a finished child */
    parent *p = &m->parents[c->parent];
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
    case BRS_OEV_REPLACED:
        c->state = C_LIVE;
        break;
    case BRS_OEV_FILL: {
        /* cum_qty makes a repeated fill report harmless; qty is the fallback. */
        int64_t q = ev->cum_qty > 0 ? ev->cum_qty - c->cum : ev->qty;
        if (q > c->qty - c->cum)
            q = c->qty - c->cum; /* a venue never gets to over-fill the parent */
        if (q <= 0)
            break;
        c->state = C_LIVE;
        c->cum += q;
        p->cum += q;
        p->reserved -= q;
        if (m->risk)
            brs__risk_on_fill(m->risk, p->o.instrument, p->o.side, q);
        emit(m, p, BRS_OEV_FILL, 0, c->venue, ev->price, q, ev->fee, ev->liquidity, ev->ts);
        if (c->cum == c->qty) {
            c->qty = c->cum;
            release_child(m, c);
        }
        break;
    }
    case BRS_OEV_CANCELLED:
        if (ev->reason == BRS_E_HALTED || c->timed_out)
            p->bad_mask |= 1u << c->venue;
        else if (c->kind == BRS_SOR_TAKE)
            p->no_take_mask |= 1u << c->venue;
        release_child(m, c);
        break;
    case BRS_OEV_REJECTED:
        /* Before an ack a reject refuses the order itself; after it, it refuses
         * our cancel, which only ends the child when the venue no longer knows it. */
        if (c->state == C_SENT || ev->reason == BRS_E_UNKNOWNORDER) {
            if (c->state == C_SENT && ev->reason != BRS_E_UNKNOWNORDER)
                p->bad_mask |= 1u << c->venue;
            release_child(m, c);
        }
        break;
    default:
        break;
    }
    drain(m, now);
}

void brs__sor_venue_status(brs_sor_mgr *m, uint32_t venue, int up, int64_t now)
{
    if (venue >= BRS_SOR_MAX_VENUES)
        return;
    m->venue_up[venue] = up ? 1 : 0;
    if (up) { /* parents still working may have free quantity for the venue back */
        for (uint32_t i = 0; i < m->cfg.max_parents; i++)
            if (m->parents[i].state == P_WORKING && m->parents[i].open_children)
                enqueue(m, &m->parents[i]);
        drain(m, now);
    }
}

void brs__sor_tick(brs_sor_mgr *m, int64_t now)
{
    /* Called as often as the host likes: a no-op until the earliest deadline. */
    if (!m->cfg.ack_timeout_ns || !m->open_children || now < m->next_deadline)
        return;
    int was_busy = m->busy;
    m->busy = 1;
    int64_t next = INT64_MAX;
    for (uint32_t i = 0; i < m->cfg.max_children; i++) {
        child *c = &m->children[i];
        if (c->state != C_SENT || c->cancel_sent)
            continue;
        if (now - c->sent_at >= m->cfg.ack_timeout_ns) {
            c->timed_out = 1;
            m->parents[c->parent].bad_mask |= 1u << c->venue;
            send_cancel(m, c);
        } else if (c->sent_at + m->cfg.ack_timeout_ns < next) {
            next = c->sent_at + m->cfg.ack_timeout_ns;
        }
    }
    m->next_deadline = next; /* exact: nothing is routed while busy */
    m->busy = was_busy;
    drain(m, now);
}

void brs__sor_kill(brs_sor_mgr *m, const char *reason)
{
    m->killed = 1;
    if (m->risk)
        brs__risk_kill(m->risk, reason);
    int was_busy = m->busy;
    m->busy = 1;
    for (uint32_t i = 0; i < m->cfg.max_parents; i++)
        if (m->parents[i].state != P_FREE) {
            m->parents[i].state = P_CANCELING;
            m->parents[i].why = WHY_KILL;
        }
    for (uint32_t i = 0; i < m->cfg.max_children; i++)
        if (m->children[i].state != C_FREE)
            send_cancel(m, &m->children[i]);
    for (uint32_t i = 0; i < m->cfg.max_parents; i++)
        if (m->parents[i].state != P_FREE)
            enqueue(m, &m->parents[i]);
    m->busy = was_busy;
    drain(m, m->now);
}

int brs__sor_parent_info(const brs_sor_mgr *m, uint64_t parent_id, brs_sor_parent_info *out)
{
    const parent *p = find_parent(m, parent_id);
    if (!p)
        return BRS_E_UNKNOWNORDER;
    out->id = p->id;
    out->qty = p->o.qty;
    out->cum_qty = p->cum;
    out->leaves = p->o.qty - p->cum;
    out->open_children = p->open_children;
    out->reroutes = p->routes ? p->routes - 1 : 0;
    out->done = 0;
    return BRS_OK;
}

uint32_t brs__sor_open_children(const brs_sor_mgr *m)
{
    return m->open_children;
}
