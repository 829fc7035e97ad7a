/* rt_venues.c: the runtime's venue instances: venue plugins opened from the
 * config's "venues" array with a host-services table of their own (the clock,
 * the log, and their reports queued back through the latency model), replayed
 * market data into them, and market data on its way to the host's clients
 * (the default venue's book as it arrives, the router's view of the others). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"
#include "plugin/json_params.h"
#include "rt_internal.h"

/* plugins/venues/sim and touch built into the host (host/runtime/CMakeLists.txt) */
const brs_plugin_desc *brs__sim_builtin_entry(void);
const brs_plugin_desc *brs__touch_builtin_entry(void);

#define VN(ctx) ((rt_venue *)(void *)(ctx))

static int64_t v_now(brs_ctx *ctx) { return VN(ctx)->rt->now; }

static void v_log(brs_ctx *ctx, int level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < BRS_LOG_INFO || (VN(ctx)->rt->quiet && level < BRS_LOG_WARN))
        return;
    fprintf(stderr, "[venue %s] %s: %s\n", VN(ctx)->name, names[level & 3], msg ? msg : "");
}

/* What a venue reports reaches its client after the response latency. */
static int v_emit_order(brs_ctx *ctx, const brs_order_event *ev)
{
    rt_venue *v = VN(ctx);
    brs__rt *rt = v->rt;
    if (!ev)
        return BRS_E_INVAL;
    brs__rt_book_touch(rt, v->index, ev->instrument); /* its book moved with the order */
    if (rt->xsubmit_active && ev->kind == BRS_OEV_REJECTED && ev->order_id == rt->xsubmit_id)
        rt->xsubmit_rejected = 1; /* its refusal, from the venue itself: the one reported */
    if (!rt->n_queued && v->response_ns <= 0 && rt->jitter_ns <= 0 && ev->instrument < rt->n_instr &&
        (!rt->sor || (ev->order_id & RT_DIRECT_TAG))) {
        /* due now with nothing before it: a passive client takes it at once */
        uint64_t vid = ev->order_id & ~RT_DIRECT_TAG;
        uint32_t client = (uint32_t)(vid >> RT_ID_BITS);
        if (client < rt->n_clients && rt->clients[client].ops.passive) {
            brs_order_event e = *ev;
            e.venue = v->index;
            e.order_id = vid & RT_ID_MASK;
            if (!e.ts)
                e.ts = rt->now;
            brs__rt_deliver(rt, client, &e);
            return BRS_OK;
        }
    }
    q_item it = {.kind = Q_RESPONSE, .venue = v->index};
    it.u.oe = *ev;
    it.u.oe.venue = v->index;
    if (!it.u.oe.ts)
        it.u.oe.ts = rt->now;
    return brs__rtq_at(rt, v->response_ns, &it);
}

/* Market data as a venue shows it (the replay after its price offset and
 * liquidity scale, nothing while it is down) reaches the host after the
 * market-data latency. Only the default venue's view is the clients', so one
 * feed shared by several venues is not seen several times. Venue-wide status
 * events (instrument BRS_ALL_INSTRUMENTS) are not passed on. */
static int v_emit_market(brs_ctx *ctx, const brs_market_event *ev)
{
    rt_venue *v = VN(ctx);
    brs__rt *rt = v->rt;
    if (!ev)
        return BRS_E_INVAL;
    if (ev->instrument >= rt->n_instr) {
        for (uint32_t in = 0; rt->bgen && in < rt->n_instr; in++)
            brs__rt_book_touch(rt, v->index, in); /* venue-wide: any of its books */
        if (ev->kind == BRS_MEV_STATUS && rt->sor) /* a venue going down or coming back */
            brs__sor_venue_status(rt->sor, v->index, ev->aux != BRS_STATUS_HALT, rt->now);
        return ev->kind == BRS_MEV_STATUS ? BRS_OK : BRS_E_INVAL;
    }
    brs__rt_book_touch(rt, v->index, ev->instrument);
    if (v->index != rt->route && !rt->sor)
        return BRS_OK; /* without the router only the default venue's view matters */
    v->emits_market = 1;
    int64_t arrive = rt->md_from_file ? (ev->ts_local > rt->now ? ev->ts_local : rt->now) : rt->now + v->md_ns;
    if (arrive == rt->now && !rt->n_queued) {
        brs__rt_market_arrive(rt, ev, v->index); /* no latency and nothing queued before it */
        return BRS_OK;
    }
    return brs__rtq_push_market(rt, arrive, v->index, ev);
}

int brs__rt_open_venues(brs__rt *rt, cJSON *obj, const char *const *data_files, uint32_t n_files,
                        brs_error *err)
{
    const char *src = rt->cfg->source, *w = rt->where, *dot = rt->where[0] ? "." : "";
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(obj, "venues");
    uint32_t n = cJSON_IsArray(vs) ? (uint32_t)cJSON_GetArraySize(vs) : 0;
    rt->v = calloc(n ? n : 1, sizeof *rt->v);
    if (!rt->v)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    const char *route = NULL;
    cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "route");
    if (cJSON_IsString(r))
        route = r->valuestring;
    for (uint32_t i = 0; i < n; i++) {
        cJSON *vj = cJSON_GetArrayItem(vs, (int)i);
        rt_venue *v = &rt->v[i];
        brs__venue_ctx_init(&v->vc, NULL, rt->instr, rt->n_instr, v_now, v_log, v_emit_order,
                            v_emit_market);
        v->rt = rt;
        v->index = i;
        const char *plugin = cJSON_GetObjectItemCaseSensitive(vj, "plugin")->valuestring;
        cJSON *nm = cJSON_GetObjectItemCaseSensitive(vj, "name");
        snprintf(v->name, sizeof v->name, "%s", cJSON_IsString(nm) ? nm->valuestring : plugin);
        v->vc.params = cJSON_GetObjectItemCaseSensitive(vj, "params");
        char path[4096];
        int rc = brs__plugin_find(plugin, NULL, path, sizeof path, err);
        if (!rc)
            rc = brs__plugin_load(&v->plugin, path, err);
        else if (rc == BRS_E_NOTFOUND && !strcmp(plugin, "sim")) /* the copy built into the host */
            rc = brs__plugin_builtin(&v->plugin, brs__sim_builtin_entry, "builtin:sim", err);
        else if (rc == BRS_E_NOTFOUND && !strcmp(plugin, "touch"))
            rc = brs__plugin_builtin(&v->plugin, brs__touch_builtin_entry, "builtin:touch", err);
        if (rc)
            return brs__err_prefix(err, "%s: %s%svenues[%u]", src, w, dot, i);
        if (!(v->vt = brs__plugin_venue(&v->plugin))) {
            /* not counted in n_v yet, so the destroy would not unload it */
            const char *kind = brs__plugin_kind_name(v->plugin.desc->kind);
            rc = brs__err(err, BRS_E_BADKIND, "%s: %s%svenues[%u]: %s is a %s plugin, not a venue",
                          src, w, dot, i, path, kind);
            brs__plugin_unload(&v->plugin);
            return rc;
        }
        rt->n_v++;
        if ((rc = brs__plugin_instance_open(&v->inst, &v->plugin, &v->vc.host, (brs_ctx *)(void *)v, err)))
            return rc;
        /* a key neither the plugin nor the router reads is a typo, not a default */
        static const char *const router_keys[] = {"taker_fee_bps", "maker_fee_bps", "taker_fee_ppm",
                                                  "maker_fee_ppm", "lot_size", "min_qty", NULL};
        char where[160];
        snprintf(where, sizeof where, "%s: %s%svenues[%u]", src, w, dot, i);
        if ((rc = brs__venue_ctx_check_params(&v->vc, router_keys, where, v->plugin.desc->name, err)))
            return rc;
        if (route && !strcmp(route, v->name))
            rt->route = i;
        v->order_ns = rt->order_ns;
        v->cancel_ns = rt->cancel_ns;
        v->response_ns = rt->response_ns;
        v->md_ns = rt->md_ns;
        cJSON *vl = cJSON_GetObjectItemCaseSensitive(vj, "latency");
        static const struct { const char *k; size_t off; } lk[] = {
            {"order_entry_ns", offsetof(rt_venue, order_ns)}, {"cancel_ns", offsetof(rt_venue, cancel_ns)},
            {"response_ns", offsetof(rt_venue, response_ns)}, {"market_data", offsetof(rt_venue, md_ns)}};
        for (size_t k = 0; k < sizeof lk / sizeof lk[0]; k++) {
            cJSON *x = cJSON_GetObjectItemCaseSensitive(vl, lk[k].k);
            if (cJSON_IsNumber(x))
                *(int64_t *)(void *)((char *)v + lk[k].off) = (int64_t)x->valuedouble;
        }
        v->file = -1;
        cJSON *vd = cJSON_GetObjectItemCaseSensitive(vj, "data");
        if (cJSON_IsString(vd)) { /* its own tick file: one of the run's data files */
            for (uint32_t f = 0; f < n_files && v->file < 0; f++)
                if (data_files[f] && !strcmp(data_files[f], vd->valuestring))
                    v->file = (int)f;
            if (v->file < 0)
                return brs__err(err, BRS_E_NOTFOUND,
                                "%s: %s%svenues[%u].data '%s' is not one of the run's data files", src,
                                w, dot, i, vd->valuestring);
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
    if (route && (!n || strcmp(rt->v[rt->route].name, route)))
        return brs__err(err, BRS_E_NOTFOUND, "%s: %s%sroute '%s' names no venue", src, w, dot, route);
    return BRS_OK;
}

uint32_t brs__rt_venues(const brs__rt *rt) { return rt->n_v; }

const char *brs__rt_venue_name(const brs__rt *rt, uint32_t venue)
{
    return venue < rt->n_v ? rt->v[venue].name : "";
}

uint32_t brs__rt_market_venue(const brs__rt *rt) { return rt->route; }

int brs__rt_venue_find(const brs__rt *rt, const char *name)
{
    for (uint32_t i = 0; i < rt->n_v; i++)
        if (!strcmp(rt->v[i].name, name))
            return (int)i;
    return -1;
}

int brs__rt_depth(brs__rt *rt, uint32_t venue, uint32_t instrument, uint8_t side, brs_level *out,
                  uint32_t cap, uint32_t *n)
{
    *n = 0;
    if (venue >= rt->n_v)
        return BRS_E_INVAL;
    rt_venue *v = &rt->v[venue];
    if (!v->vt->xDepth)
        return BRS_E_UNSUPPORTED;
    return v->vt->xDepth(v->inst.self, instrument, side, out, cap, n);
}

/* L2 levels in a router view: one resting order per (side, price). Router
 * runs only: without this the routing decision would see no L2 liquidity. */
static void apply_l2(brs__view *e, const brs_market_event *ev)
{
    if (ev->kind != BRS_MEV_LEVEL_SET && ev->kind != BRS_MEV_LEVEL_DELETE)
        return;
    uint64_t id = (UINT64_C(1) << 63) | ((uint64_t)(ev->side & 1) << 62) |
                  ((uint64_t)(ev->instrument & 0x3ffff) << 44) |
                  ((uint64_t)ev->price & ((UINT64_C(1) << 44) - 1));
    brs__view_delete(e, id);
    if (ev->kind == BRS_MEV_LEVEL_SET && ev->qty > 0)
        brs__view_insert(e, ev->instrument, id, ev->side, ev->price, ev->qty);
}

void brs__rt_market_arrive(brs__rt *rt, const brs_market_event *ev, uint32_t venue)
{
    if (rt->sor && venue < rt->n_v && venue != rt->route) {
        if (rt->v[venue].view && !brs__view_apply(rt->v[venue].view, ev)) /* the router's view of another venue */
            apply_l2(rt->v[venue].view, ev);
        return;
    }
    if (rt->view) { /* NULL: serve, where the router reads the venues' books */
        if (rt->sor)
            apply_l2(rt->view, ev); /* the default venue's view, for the router */
        brs__view_apply(rt->view, ev);
    }
    if (rt->sink)
        rt->sink(rt->sink_user, ev);
}

void brs__rt_set_market_sink(brs__rt *rt, void (*fn)(void *user, const brs_market_event *ev),
                             void *user)
{
    rt->sink = fn;
    rt->sink_user = user;
}

brs__view *brs__rt_market_view(brs__rt *rt) { return rt->view; }

void *brs__rt_market_sink_user(const brs__rt *rt) { return rt->sink ? rt->sink_user : NULL; }

/* One replayed event at its exchange time: the venues see it now, the clients
 * after the market-data latency: as the default venue re-emits it
 * (xEmitMarketEvent), or as replayed when that venue does not re-emit market
 * data (or there is no venue). */
void brs__rt_replay(brs__rt *rt, const brs_market_event *e, uint32_t src)
{
    /* the run's clock never goes back: a record whose exchange time steps back
     * (streams interleaved in a recording) happens now; on the real clock
     * (a live feed) every event happens now */
    if (e->ts_exchange > rt->now && !rt->real_clock)
        rt->now = e->ts_exchange;
    rt->replay_src = src;
    for (uint32_t i = 0; i < rt->n_v; i++)
        if (rt->v[i].vt->xOnMarket && (rt->v[i].file < 0 || (uint32_t)rt->v[i].file == src)) {
            rt->v[i].vt->xOnMarket(rt->v[i].inst.self, e);
            brs__rt_book_touch(rt, i, e->instrument);
        }
    if (rt->n_v && rt->v[rt->route].emits_market)
        return;
    int64_t arrive = rt->md_from_file ? (e->ts_local > rt->now ? e->ts_local : rt->now)
                                      : rt->now + rt->md_ns;
    if (arrive == rt->now && !rt->n_queued) {
        brs__rt_market_arrive(rt, e, rt->route); /* no latency and nothing queued: straight through */
    } else {
        brs__rtq_push_market(rt, arrive, rt->route, e);
    }
}
