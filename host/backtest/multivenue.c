/* multivenue.c: book mode over several venues through the router. Each
 * strategy order becomes one parent order of the parent-order manager
 * (host/sor), behind the pre-trade risk checks (host/risk); children reach the
 * venues through the driver's latency queue and their events come back here.
 * The router sees each venue's book as the host last saw it: a passive book
 * per venue rebuilt from that venue's own market data after the market-data
 * latency (never our own orders). A replace is a cancel of the working parent
 * followed by a new parent for the rest (price changes lose queue priority on
 * every real venue anyway). Also keeps the run's inventory and execution
 * figures for summary.json (docs/backtesting.md, "Several venues"). */
#include "multivenue.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "core/core.h"
#include "risk/risk.h"
#include "sor/sor.h"

#define MV_DEPTH 10

/* One strategy order: at any time at most one working parent. */
typedef struct sorder {
    uint64_t sid, pid;     /* strategy's id; the working parent (0: none yet) */
    brs_order o;           /* as the strategy sent it (price and qty as last replaced) */
    int64_t cum;           /* filled, over every parent of this order */
    int64_t new_price, new_qty;
    uint8_t used, replacing, resubmit, cancel_req, post, repl_parent;
    double arrival_mid;    /* price units; NaN: no mid when it was sent */
} sorder;

typedef struct mv_venue {
    brs_engine *mirror;    /* the venue's book as the host saw it */
    int32_t maker_ppm, taker_ppm;
    int64_t lot, min_qty;
    int file;              /* the data file it replays, -1: every file */
    brs_level lv[2][MV_DEPTH];
} mv_venue;

struct brs__mv {
    brs__book_run *b;
    uint32_t n_v, n_instr;
    const brs_instrument *instr;
    mv_venue v[BRS_SOR_MAX_VENUES];
    int only;              /* book.sor.only_venue index, -1: route over all */
    brs_risk risk;
    brs_sor_mgr *mgr;
    sorder *ord;
    uint32_t cap;
    sorder *pending;       /* the order being submitted (its parent id is not known yet) */
    uint32_t n_resubmit;
    /* figures for the summary */
    int64_t *pos;
    int64_t max_abs;
    double inventory_limit;
    double spread_captured;      /* currency */
    double cost_num, cost_den;   /* price units x qty */
    double fees;
    int64_t venue_qty[BRS_SOR_MAX_VENUES];
    uint64_t parents, rejected;
};

/* ---- configuration --------------------------------------------------------------- */

int brs__mv_read_config(brs_config *cfg, cJSON *bk, brs_error *err)
{
    const char *routing;
    int rc = brs__config_string(cfg, bk, "book", "routing", "direct", &routing, err);
    if (rc)
        return rc;
    int sor = !strcmp(routing, "sor");
    if (!sor && strcmp(routing, "direct"))
        return brs__err(err, BRS_E_INVAL,
                        "%s: book.routing is '%s': expected \"direct\" (every order to book.route) "
                        "or \"sor\" (risk checks + smart order router)",
                        cfg->source, routing);
    if (!cJSON_GetObjectItemCaseSensitive(bk, "routing"))
        cJSON_AddStringToObject(bk, "routing", "direct");
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(bk, "venues");
    int i = 0;
    cJSON *v;
    cJSON_ArrayForEach(v, vs) {
        cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "data");
        if (d && !cJSON_IsString(d))
            return brs__err(err, BRS_E_INVAL, "%s: book.venues[%d].data must be a file name",
                            cfg->source, i);
        if (d && !sor)
            return brs__err(err, BRS_E_INVAL,
                            "%s: book.venues[%d].data needs book.routing \"sor\"", cfg->source, i);
        i++;
    }
    if (sor && (i < 1 || i > BRS_SOR_MAX_VENUES))
        return brs__err(err, BRS_E_INVAL, "%s: book.routing \"sor\" needs 1..%d book.venues",
                        cfg->source, BRS_SOR_MAX_VENUES);
    cJSON *s = cJSON_GetObjectItemCaseSensitive(bk, "sor");
    cJSON *risk = cJSON_GetObjectItemCaseSensitive(bk, "risk");
    if (!sor) {
        if (s || risk)
            return brs__err(err, BRS_E_INVAL, "%s: book.%s needs book.routing \"sor\"", cfg->source,
                            s ? "sor" : "risk");
        return BRS_OK;
    }
    if (risk && !cJSON_IsObject(risk))
        return brs__err(err, BRS_E_INVAL, "%s: book.risk must be an object", cfg->source);
    if (!s)
        s = cJSON_AddObjectToObject(bk, "sor");
    if (!cJSON_IsObject(s))
        return brs__err(err, BRS_E_INVAL, "%s: book.sor must be an object", cfg->source);
    static const char *const keys[] = {"only_venue", "ack_timeout_ns", "max_parents",
                                       "max_children", "max_reroutes", NULL};
    if ((rc = brs__config_check_keys(cfg, s, "book.sor", keys, err)))
        return rc;
    static const struct { const char *k; int64_t def, lo, hi; } ints[] = {
        {"ack_timeout_ns", 0, 0, INT64_C(1) << 50},
        {"max_parents", 1024, 1, 1 << 19},
        {"max_children", 4096, 1, 1 << 19},
        {"max_reroutes", 32, 1, 1 << 20},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        int64_t x;
        int had = cJSON_GetObjectItemCaseSensitive(s, ints[k].k) != NULL;
        if ((rc = brs__config_int(cfg, s, "book.sor", ints[k].k, ints[k].def, &x, err)))
            return rc;
        if (x < ints[k].lo || x > ints[k].hi)
            return brs__err(err, BRS_E_RANGE, "%s: book.sor.%s must be in %lld..%lld", cfg->source,
                            ints[k].k, (long long)ints[k].lo, (long long)ints[k].hi);
        if (!had)
            cJSON_AddNumberToObject(s, ints[k].k, (double)x);
    }
    const char *only;
    return brs__config_string(cfg, s, "book.sor", "only_venue", NULL, &only, err);
}

static int64_t sor_int(cJSON *s, const char *k)
{
    cJSON *j = cJSON_GetObjectItemCaseSensitive(s, k);
    return cJSON_IsNumber(j) ? (int64_t)j->valuedouble : 0;
}

static double param_d(const cJSON *p, const char *k, double def)
{
    const cJSON *j = p ? cJSON_GetObjectItemCaseSensitive(p, k) : NULL;
    return cJSON_IsNumber(j) ? j->valuedouble : def;
}

/* ---- manager ops ------------------------------------------------------------------- */

static int op_send(void *user, uint32_t venue, const brs_order *o)
{
    brs__mv *m = user;
    return brs__book_send(m->b, venue, o);
}

static int op_cancel(void *user, uint32_t venue, uint64_t child)
{
    brs__mv *m = user;
    return brs__book_send_cancel(m->b, venue, child);
}

static int op_books(void *user, uint32_t instrument, int side, brs_sor_venue *v, uint32_t n)
{
    (void)side;
    brs__mv *m = user;
    if (instrument >= m->n_instr)
        return BRS_E_INVAL;
    for (uint32_t i = 0; i < n && i < m->n_v; i++) {
        mv_venue *mv = &m->v[i];
        size_t nb = brs__engine_depth(mv->mirror, instrument, BRS_BUY, mv->lv[0], MV_DEPTH);
        size_t na = brs__engine_depth(mv->mirror, instrument, BRS_SELL, mv->lv[1], MV_DEPTH);
        v[i] = (brs_sor_venue){.bids = mv->lv[0], .asks = mv->lv[1], .n_bids = (uint32_t)nb,
                               .n_asks = (uint32_t)na, .taker_fee_ppm = mv->taker_ppm,
                               .maker_fee_ppm = mv->maker_ppm,
                               .latency_ns = brs__book_order_latency(m->b), .lot_size = mv->lot,
                               .min_qty = mv->min_qty,
                               .up = (uint8_t)(m->only < 0 || (uint32_t)m->only == i)};
    }
    return BRS_OK;
}

static sorder *find_pid(brs__mv *m, uint64_t pid)
{
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->ord[i].used && m->ord[i].pid == pid)
            return &m->ord[i];
    return NULL;
}

static sorder *find_sid(brs__mv *m, uint64_t sid)
{
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->ord[i].used && m->ord[i].sid == sid)
            return &m->ord[i];
    return NULL;
}

static double view_mid(brs__mv *m, uint32_t instrument)
{
    const brs__sctx *sc = brs__book_sctx(m->b);
    if (!sc || instrument >= sc->n_instr)
        return NAN;
    const brs_top *t = &sc->instr[instrument].top;
    if (!t->bid_qty || !t->ask_qty)
        return NAN;
    return 0.5 * (double)(t->bid_price + t->ask_price);
}

static void on_fill(brs__mv *m, const sorder *s, const brs_order_event *ev)
{
    uint32_t in = ev->instrument;
    double sign = ev->side == BRS_BUY ? 1 : -1;
    double q = (double)ev->qty;
    m->pos[in] += ev->side == BRS_BUY ? ev->qty : -ev->qty;
    int64_t a = m->pos[in] < 0 ? -m->pos[in] : m->pos[in];
    if (a > m->max_abs)
        m->max_abs = a;
    double scale = m->instr[in].price_scale > 0 ? (double)m->instr[in].price_scale : 1;
    double mid = view_mid(m, in);
    if (!isnan(mid))
        m->spread_captured += sign * (mid - (double)ev->price) * q / scale;
    if (!isnan(s->arrival_mid)) {
        m->cost_num += sign * ((double)ev->price - s->arrival_mid) * q + (double)ev->fee;
        m->cost_den += s->arrival_mid * q;
    }
    m->fees += (double)ev->fee / scale;
    if (ev->venue < BRS_SOR_MAX_VENUES)
        m->venue_qty[ev->venue] += ev->qty;
}

static void release(brs__mv *m, sorder *s)
{
    if (s->resubmit)
        m->n_resubmit--;
    memset(s, 0, sizeof *s);
    (void)m;
}

/* One event about a parent, in the strategy's terms. */
static void op_parent_event(void *user, const brs_order_event *pev)
{
    brs__mv *m = user;
    sorder *s = m->pending;
    if (s && !s->pid && pev->order_id)
        s->pid = pev->order_id;
    if (!s || s->pid != pev->order_id)
        s = find_pid(m, pev->order_id);
    if (!s)
        return;
    brs_order_event ev = *pev;
    ev.order_id = s->sid;
    switch (pev->kind) {
    case BRS_OEV_ACCEPTED:
        if (s->repl_parent) { /* the parent of a replace: the strategy hears REPLACED */
            ev.kind = BRS_OEV_REPLACED;
            s->o.price = s->new_price;
            s->o.qty = s->new_qty;
            s->new_qty = 0;
            s->repl_parent = 0;
        }
        ev.price = s->o.price;
        ev.qty = s->o.qty;
        ev.cum_qty = s->cum;
        ev.leaves = s->o.qty - s->cum;
        brs__book_deliver(m->b, &ev);
        return;
    case BRS_OEV_FILL:
        s->cum += pev->qty;
        ev.cum_qty = s->cum;
        ev.leaves = s->o.qty - s->cum;
        if (ev.leaves < 0)
            ev.leaves = 0;
        on_fill(m, s, &ev);
        brs__book_deliver(m->b, &ev);
        if (ev.leaves == 0)
            release(m, s);
        return;
    case BRS_OEV_CANCELLED:
        if (s->replacing && !s->cancel_req && s->new_qty > s->cum) {
            /* the old parent is gone: the new one is sent once the manager is done */
            s->replacing = 0;
            s->pid = 0;
            s->resubmit = 1;
            m->n_resubmit++;
            return;
        }
        ev.qty = s->o.qty - s->cum;
        ev.cum_qty = s->cum;
        ev.leaves = 0;
        brs__book_deliver(m->b, &ev);
        release(m, s);
        return;
    case BRS_OEV_REJECTED:
        m->rejected++;
        ev.cum_qty = s->cum;
        ev.leaves = 0;
        brs__book_deliver(m->b, &ev);
        release(m, s);
        return;
    default:
        return;
    }
}

/* ---- setup ------------------------------------------------------------------------- */

int brs__mv_create(brs__mv **out, brs__book_run *b, brs_config *cfg, brs_error *err)
{
    *out = NULL;
    cJSON *bk = cJSON_GetObjectItemCaseSensitive(cfg->root, "book");
    cJSON *r = cJSON_GetObjectItemCaseSensitive(bk, "routing");
    if (!cJSON_IsString(r) || strcmp(r->valuestring, "sor"))
        return BRS_OK;
    brs__mv *m = calloc(1, sizeof *m);
    if (!m)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    *out = m;
    m->b = b;
    m->n_v = brs__book_venue_count(b);
    m->instr = brs__book_instruments(b, &m->n_instr);
    m->only = -1;
    cJSON *s = cJSON_GetObjectItemCaseSensitive(bk, "sor");
    cJSON *only = cJSON_GetObjectItemCaseSensitive(s, "only_venue");
    cJSON *data = cJSON_GetObjectItemCaseSensitive(cfg->root, "data");
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(bk, "venues");
    brs_engine_config ec = {.max_instruments = m->n_instr ? m->n_instr : 1};
    for (uint32_t i = 0; i < m->n_v; i++) {
        cJSON *vj = cJSON_GetArrayItem(vs, (int)i);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(vj, "params");
        mv_venue *v = &m->v[i];
        /* the router's view of the venue's costs, from the sim venue's own params */
        v->maker_ppm = (int32_t)llround(param_d(p, "maker_fee_bps", 0) * 100);
        v->taker_ppm = (int32_t)llround(param_d(p, "taker_fee_bps", 0) * 100);
        v->lot = (int64_t)param_d(p, "lot_size", 1);
        v->min_qty = (int64_t)param_d(p, "min_qty", 0);
        if (v->lot < 1)
            v->lot = 1;
        v->file = -1;
        cJSON *d = cJSON_GetObjectItemCaseSensitive(vj, "data");
        if (cJSON_IsString(d)) {
            int n = cJSON_IsArray(data) ? cJSON_GetArraySize(data) : 1;
            for (int f = 0; f < n && v->file < 0; f++) {
                cJSON *it = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, f) : data;
                if (cJSON_IsString(it) && !strcmp(it->valuestring, d->valuestring))
                    v->file = f;
            }
            if (v->file < 0)
                return brs__err(err, BRS_E_NOTFOUND,
                                "%s: book.venues[%u].data '%s' is not one of the run's data files",
                                cfg->source, i, d->valuestring);
        }
        int rc = brs__engine_create(&v->mirror, &ec, NULL, err);
        if (rc)
            return rc;
        if (cJSON_IsString(only) && !strcmp(only->valuestring, brs__book_venue_name(b, i)))
            m->only = (int)i;
    }
    if (cJSON_IsString(only) && m->only < 0)
        return brs__err(err, BRS_E_NOTFOUND, "%s: book.sor.only_venue '%s' names no venue",
                        cfg->source, only->valuestring);
    brs_risk_config rc_cfg;
    int rc = brs__risk_config_read(cfg, cJSON_GetObjectItemCaseSensitive(bk, "risk"), m->instr,
                                   m->n_instr, &rc_cfg, err);
    if (rc)
        return brs__err_prefix(err, "book.");
    brs__risk_init(&m->risk, &rc_cfg);
    m->cap = (uint32_t)sor_int(s, "max_parents");
    brs_sor_mgr_config mc = {.n_venues = m->n_v, .max_parents = m->cap,
                             .max_children = (uint32_t)sor_int(s, "max_children"),
                             .ack_timeout_ns = sor_int(s, "ack_timeout_ns"),
                             .max_reroutes = (uint32_t)sor_int(s, "max_reroutes")};
    brs_sor_ops ops = {.user = m, .xSend = op_send, .xCancel = op_cancel, .xBooks = op_books,
                       .xParentEvent = op_parent_event};
    if ((rc = brs__sor_mgr_create(&m->mgr, &mc, &ops, &m->risk, err)))
        return rc;
    m->ord = calloc(m->cap, sizeof *m->ord);
    m->pos = calloc(m->n_instr ? m->n_instr : 1, sizeof *m->pos);
    if (!m->ord || !m->pos)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    /* the strategy's own inventory limit, when it declares one, else the risk limit */
    cJSON *st = cJSON_GetObjectItemCaseSensitive(cfg->root, "strategy");
    cJSON *lim = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "params"),
                                                  "inventory_limit");
    m->inventory_limit = cJSON_IsNumber(lim) ? lim->valuedouble
                         : rc_cfg.def.max_position ? (double)rc_cfg.def.max_position
                                                   : NAN;
    return BRS_OK;
}

void brs__mv_destroy(brs__mv *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < BRS_SOR_MAX_VENUES; i++)
        if (m->v[i].mirror)
            brs__engine_destroy(m->v[i].mirror);
    brs__sor_mgr_destroy(m->mgr);
    free(m->ord);
    free(m->pos);
    free(m);
}

int brs__mv_venue_wants(const brs__mv *m, uint32_t venue, uint32_t file)
{
    return venue >= m->n_v || m->v[venue].file < 0 || (uint32_t)m->v[venue].file == file;
}

/* ---- the strategy's orders ------------------------------------------------------------ */

/* Would a post-only order take on any venue the router may use (as seen)? */
static int would_take(brs__mv *m, const brs_order *o)
{
    for (uint32_t i = 0; i < m->n_v; i++) {
        if (m->only >= 0 && (uint32_t)m->only != i)
            continue;
        brs_top t;
        if (brs__engine_top(m->v[i].mirror, o->instrument, &t) != BRS_OK)
            continue;
        if (o->side == BRS_BUY ? t.ask_qty && o->price >= t.ask_price
                               : t.bid_qty && o->price <= t.bid_price)
            return 1;
    }
    return 0;
}

static void refuse(brs__mv *m, const brs_order *o, int reason)
{
    brs_order_event ev = {.kind = BRS_OEV_REJECTED, .side = o->side, .reason = reason,
                          .instrument = o->instrument, .order_id = o->id,
                          .ts = brs__book_now(m->b), .price = o->price, .qty = o->qty};
    m->rejected++;
    brs__book_deliver(m->b, &ev);
}

/* Send the order's open rest as a new parent. */
static void send_parent(brs__mv *m, sorder *s)
{
    brs_order o = s->o;
    if (s->new_qty) {
        o.price = s->new_price;
        o.qty = s->new_qty;
    }
    o.qty -= s->cum;
    const brs__sctx *sc = brs__book_sctx(m->b);
    if (sc && o.instrument < sc->n_instr) {
        const brs_top *t = &sc->instr[o.instrument].top;
        if (t->bid_qty && t->ask_qty) /* the price band's reference: the mid as the host sees it */
            brs__risk_set_ref(&m->risk, o.instrument, (t->bid_price + t->ask_price) / 2);
    }
    if ((o.flags & BRS_OF_POST_ONLY) && o.type == BRS_LIMIT && would_take(m, &o)) {
        brs_order_event ev = {.kind = BRS_OEV_REJECTED, .side = o.side, .reason = BRS_E_WOULDTAKE,
                              .instrument = o.instrument, .order_id = s->sid,
                              .ts = brs__book_now(m->b), .price = o.price, .qty = s->o.qty,
                              .cum_qty = s->cum};
        m->rejected++;
        release(m, s);
        brs__book_deliver(m->b, &ev);
        return;
    }
    brs_error err = {0};
    uint64_t pid = 0;
    sorder *outer = m->pending; /* a strategy may send orders from inside an event */
    s->repl_parent = s->new_qty != 0;
    m->pending = s;
    m->parents++;
    brs__sor_submit(m->mgr, &o, s->post, brs__book_now(m->b), &pid, &err);
    m->pending = outer;
}

/* Replacements whose old parent ended inside a manager call. */
static void flush(brs__mv *m)
{
    while (m->n_resubmit) {
        for (uint32_t i = 0; i < m->cap && m->n_resubmit; i++) {
            sorder *s = &m->ord[i];
            if (s->used && s->resubmit) {
                s->resubmit = 0;
                m->n_resubmit--;
                send_parent(m, s);
            }
        }
    }
}

int brs__mv_submit(brs__mv *m, brs__sctx *sc, const brs_order *o)
{
    (void)sc;
    if (o->instrument >= m->n_instr) {
        refuse(m, o, BRS_E_INVAL);
        return BRS_OK;
    }
    sorder *s = NULL;
    for (uint32_t i = 0; i < m->cap && !s; i++)
        if (!m->ord[i].used)
            s = &m->ord[i];
    if (!s) {
        refuse(m, o, BRS_E_LIMIT);
        return BRS_OK;
    }
    memset(s, 0, sizeof *s);
    s->used = 1;
    s->sid = o->id;
    s->o = *o;
    if (!s->o.stp)
        s->o.stp = BRS_STP_CANCEL_NEWEST; /* our own orders never trade with each other */
    s->o.tif = o->tif == BRS_FOK ? BRS_IOC : o->tif; /* FOK across venues: taken as IOC */
    s->post = o->type == BRS_LIMIT && o->tif != BRS_IOC && o->tif != BRS_FOK;
    s->arrival_mid = view_mid(m, o->instrument);
    send_parent(m, s);
    flush(m);
    return BRS_OK;
}

int brs__mv_cancel(brs__mv *m, uint64_t id)
{
    sorder *s = find_sid(m, id);
    if (!s)
        return BRS_E_UNKNOWNORDER;
    s->cancel_req = 1;
    s->replacing = 0;
    if (!s->pid) { /* between a replace's two parents: nothing is working */
        brs_order_event ev = {.kind = BRS_OEV_CANCELLED, .side = s->o.side,
                              .instrument = s->o.instrument, .order_id = s->sid,
                              .ts = brs__book_now(m->b), .price = s->o.price,
                              .qty = s->o.qty - s->cum, .cum_qty = s->cum};
        release(m, s);
        brs__book_deliver(m->b, &ev);
        return BRS_OK;
    }
    brs__sor_cancel(m->mgr, s->pid);
    flush(m);
    return BRS_OK;
}

int brs__mv_replace(brs__mv *m, uint64_t id, int64_t price, int64_t qty)
{
    sorder *s = find_sid(m, id);
    if (!s || s->cancel_req)
        return BRS_E_UNKNOWNORDER;
    if (qty <= s->cum)
        return brs__mv_cancel(m, id);
    s->new_price = price;
    s->new_qty = qty;
    if (!s->replacing) {
        s->replacing = 1;
        if (s->pid)
            brs__sor_cancel(m->mgr, s->pid);
    }
    flush(m);
    return BRS_OK;
}

/* ---- venue events ----------------------------------------------------------------------- */

void brs__mv_on_child_event(brs__mv *m, const brs_order_event *ev)
{
    int64_t now = brs__book_now(m->b);
    brs__sor_tick(m->mgr, now);
    brs__sor_on_child_event(m->mgr, ev, now);
    flush(m);
}

/* L2 levels live in the mirror as one order per (side, price). */
static uint64_t l2_id(uint32_t instrument, int side, int64_t price)
{
    return (UINT64_C(1) << 63) | ((uint64_t)(side & 1) << 62) | ((uint64_t)instrument << 44) |
           ((uint64_t)price & ((UINT64_C(1) << 44) - 1));
}

void brs__mv_on_venue_market(brs__mv *m, uint32_t venue, const brs_market_event *ev)
{
    int64_t now = brs__book_now(m->b);
    if (venue >= m->n_v || ev->instrument >= m->n_instr)
        return;
    brs_engine *e = m->v[venue].mirror;
    switch (ev->kind) {
    case BRS_MEV_ADD:
        brs__engine_insert(e, ev->instrument, ev->order_id, ev->side, ev->price, ev->qty);
        break;
    case BRS_MEV_CANCEL:
        if (ev->flags & BRS_MEVF_FULL)
            brs__engine_delete(e, ev->order_id);
        else
            brs__engine_reduce(e, ev->order_id, ev->qty);
        break;
    case BRS_MEV_EXECUTE:
        brs__engine_reduce(e, ev->order_id, ev->qty);
        break;
    case BRS_MEV_MODIFY:
        brs__engine_delete(e, ev->order_id);
        brs__engine_insert(e, ev->instrument, ev->aux ? (uint64_t)ev->aux : ev->order_id, ev->side,
                           ev->price, ev->qty);
        break;
    case BRS_MEV_LEVEL_SET:
    case BRS_MEV_LEVEL_DELETE: {
        uint64_t id = l2_id(ev->instrument, ev->side, ev->price);
        brs__engine_delete(e, id);
        if (ev->kind == BRS_MEV_LEVEL_SET && ev->qty > 0)
            brs__engine_insert(e, ev->instrument, id, ev->side, ev->price, ev->qty);
        break;
    }
    case BRS_MEV_STATUS:
        if (ev->aux == BRS_STATUS_HALT || ev->aux == BRS_STATUS_RESUME)
            brs__sor_venue_status(m->mgr, venue, ev->aux == BRS_STATUS_RESUME, now);
        break;
    default:
        break;
    }
    brs__sor_tick(m->mgr, now);
    flush(m);
}

/* ---- summary ------------------------------------------------------------------------------ */

void brs__mv_summary(brs__mv *m, brs_an_recorder *rec)
{
    brs__an_set_extra(rec, "max_abs_inventory", (double)m->max_abs);
    brs__an_set_extra(rec, "inventory_limit", m->inventory_limit);
    brs__an_set_extra(rec, "spread_captured", m->spread_captured);
    brs__an_set_extra(rec, "exec_cost_bps", m->cost_den > 0 ? m->cost_num / m->cost_den * 1e4 : NAN);
    brs__an_set_extra(rec, "parent_orders", (double)m->parents);
    brs__an_set_extra(rec, "parents_rejected", (double)m->rejected);
    for (uint32_t i = 0; i < m->n_v; i++) {
        char k[96];
        snprintf(k, sizeof k, "filled_qty_%s", brs__book_venue_name(m->b, i));
        brs__an_set_extra(rec, k, (double)m->venue_qty[i]);
    }
}
