/* rt_config.c: the runtime's configuration (one schema for a book-mode run's
 * "book" object and `bourse serve`'s top level: latency, queue_capacity,
 * venues, route, router) and its setup and teardown. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "rt_internal.h"

/* "book" + "latency" -> "book.latency"; "" + "latency" -> "latency" */
static const char *key_path(char *buf, size_t cap, const char *where, const char *key)
{
    snprintf(buf, cap, "%s%s%s", where, where[0] ? "." : "", key);
    return buf;
}

static int get_i(brs_config *cfg, cJSON *obj, const char *where, const char *key, int64_t def,
                 int64_t *out, brs_error *err)
{
    int had = cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
    int rc = brs__config_int(cfg, obj, where, key, def, out, err);
    if (!rc && !had)
        cJSON_AddNumberToObject(obj, key, (double)def);
    if (!rc && *out < 0)
        rc = brs__err(err, BRS_E_RANGE, "%s: %s%s%s must be >= 0", cfg->source, where, where[0] ? "." : "",
                      key);
    return rc;
}

static int read_latency(brs_config *cfg, cJSON *obj, const char *where, brs__rt_opts *o, brs_error *err)
{
    static const char *const k_lat[] = {"market_data", "order_entry_ns", "cancel_ns",
                                        "response_ns", "jitter_ns", "seed", NULL};
    char lw[64];
    key_path(lw, sizeof lw, where, "latency");
    cJSON *lat = cJSON_GetObjectItemCaseSensitive(obj, "latency");
    if (!lat)
        lat = cJSON_AddObjectToObject(obj, "latency");
    if (!cJSON_IsObject(lat))
        return brs__err(err, BRS_E_INVAL, "%s: %s must be an object", cfg->source, lw);
    int rc;
    if ((rc = brs__config_check_keys(cfg, lat, lw, k_lat, err)))
        return rc;
    cJSON *md = cJSON_GetObjectItemCaseSensitive(lat, "market_data");
    if (!md) {
        cJSON_AddNumberToObject(lat, "market_data", 0);
    } else if (cJSON_IsString(md)) {
        if (strcmp(md->valuestring, "file"))
            return brs__err(err, BRS_E_INVAL,
                            "%s: %s.market_data is '%s': expected \"file\" (the local timestamps) or ns",
                            cfg->source, lw, md->valuestring);
        o->md_from_file = 1;
    }
    int64_t seed;
    if ((!o->md_from_file && (rc = get_i(cfg, lat, lw, "market_data", 0, &o->md_ns, err))) ||
        (rc = get_i(cfg, lat, lw, "order_entry_ns", 0, &o->order_ns, err)) ||
        (rc = get_i(cfg, lat, lw, "cancel_ns", 0, &o->cancel_ns, err)) ||
        (rc = get_i(cfg, lat, lw, "response_ns", 0, &o->response_ns, err)) ||
        (rc = get_i(cfg, lat, lw, "jitter_ns", 0, &o->jitter_ns, err)) ||
        (rc = get_i(cfg, lat, lw, "seed", 1, &seed, err)))
        return rc;
    o->seed = (uint64_t)seed;
    return BRS_OK;
}

static int read_venues(brs_config *cfg, cJSON *obj, const char *where, int *count, brs_error *err)
{
    static const char *const k_venue[] = {"name", "plugin", "params", "data", "latency", NULL};
    static const char *const k_vlat[] = {"market_data", "order_entry_ns", "cancel_ns", "response_ns",
                                         NULL};
    char vw[64];
    key_path(vw, sizeof vw, where, "venues");
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(obj, "venues");
    if (vs && !cJSON_IsArray(vs))
        return brs__err(err, BRS_E_INVAL, "%s: %s must be an array", cfg->source, vw);
    int i = 0, rc;
    cJSON *v;
    cJSON_ArrayForEach(v, vs) {
        char w[96];
        snprintf(w, sizeof w, "%s[%d]", vw, i++);
        const char *plugin;
        cJSON *pp;
        if (!cJSON_IsObject(v))
            return brs__err(err, BRS_E_INVAL, "%s: %s must be an object", cfg->source, w);
        if ((rc = brs__config_check_keys(cfg, v, w, k_venue, err)) ||
            (rc = brs__config_string(cfg, v, w, "plugin", NULL, &plugin, err)))
            return rc;
        if (!plugin)
            return brs__err(err, BRS_E_INVAL, "%s: %s.plugin is missing (a venue plugin name or .so)",
                            cfg->source, w);
        if ((pp = cJSON_GetObjectItemCaseSensitive(v, "params")) && !cJSON_IsObject(pp))
            return brs__err(err, BRS_E_INVAL, "%s: %s.params must be an object", cfg->source, w);
        if ((pp = cJSON_GetObjectItemCaseSensitive(v, "data")) && !cJSON_IsString(pp))
            return brs__err(err, BRS_E_INVAL, "%s: %s.data must be one of the run's data files",
                            cfg->source, w);
        if ((pp = cJSON_GetObjectItemCaseSensitive(v, "latency"))) { /* this venue's own delays */
            char lw[128];
            snprintf(lw, sizeof lw, "%s.latency", w);
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
        /* a venue named like another would make routes and LastMkt ambiguous */
        const char *nm = NULL;
        if ((rc = brs__config_string(cfg, v, w, "name", NULL, &nm, err)))
            return rc;
        cJSON *o2;
        int k = 0;
        cJSON_ArrayForEach(o2, vs) {
            if (o2 == v)
                break;
            cJSON *n2 = cJSON_GetObjectItemCaseSensitive(o2, "name");
            if (nm && cJSON_IsString(n2) && !strcmp(n2->valuestring, nm))
                return brs__err(err, BRS_E_INVAL, "%s: %s.name '%s' is also %s[%d]'s", cfg->source, w,
                                nm, vw, k);
            k++;
        }
    }
    *count = i;
    return BRS_OK;
}

int brs__rt_read_config(brs_config *cfg, cJSON *obj, const char *where, brs__rt_opts *o,
                        brs_error *err)
{
    static const char *const k_router[] = {"enabled", "post", "ack_timeout_ns", "max_reroutes",
                                           "only_venue", "max_parents", "max_children", NULL};
    int rc;
    char kw[64], rw[64];
    if ((rc = read_latency(cfg, obj, where, o, err)))
        return rc;
    int64_t qc;
    if ((rc = get_i(cfg, obj, where, "queue_capacity", 1 << 20, &qc, err)))
        return rc;
    if (qc < 16 || qc > (1 << 28))
        return brs__err(err, BRS_E_RANGE, "%s: %s must be 16..2^28", cfg->source,
                        key_path(kw, sizeof kw, where, "queue_capacity"));
    o->queue_capacity = (uint32_t)qc;
    int n = 0;
    if ((rc = read_venues(cfg, obj, where, &n, err)))
        return rc;
    o->n_venues = n;
    const char *route;
    if ((rc = brs__config_string(cfg, obj, where, "route", NULL, &route, err)))
        return rc;
    key_path(rw, sizeof rw, where, "router");
    cJSON *rt = cJSON_GetObjectItemCaseSensitive(obj, "router");
    if (!rt)
        rt = cJSON_AddObjectToObject(obj, "router");
    if (!cJSON_IsObject(rt))
        return brs__err(err, BRS_E_INVAL, "%s: %s must be an object", cfg->source, rw);
    int en, post;
    int had_en = cJSON_GetObjectItemCaseSensitive(rt, "enabled") != NULL;
    int had_post = cJSON_GetObjectItemCaseSensitive(rt, "post") != NULL;
    if ((rc = brs__config_check_keys(cfg, rt, rw, k_router, err)) ||
        (rc = brs__config_bool(cfg, rt, rw, "enabled", 0, &en, err)) ||
        (rc = brs__config_bool(cfg, rt, rw, "post", 1, &post, err)) ||
        (rc = get_i(cfg, rt, rw, "ack_timeout_ns", 0, &o->ack_timeout_ns, err)) ||
        (rc = get_i(cfg, rt, rw, "max_reroutes", 32, &o->max_reroutes, err)))
        return rc;
    /* the router's pools (not written back when absent: the effective config
     * of a run stays as it was) */
    if ((rc = brs__config_int(cfg, rt, rw, "max_parents", 4096, &o->max_parents, err)) ||
        (rc = brs__config_int(cfg, rt, rw, "max_children", 16384, &o->max_children, err)))
        return rc;
    if (o->max_parents < 1 || o->max_parents > (1 << 20) - 1 || o->max_children < 1 ||
        o->max_children > (1 << 20) - 1)
        return brs__err(err, BRS_E_RANGE, "%s: %s.max_parents and max_children must be 1..1048575",
                        cfg->source, rw);
    const char *only; /* checked against the venue names when they are opened */
    if ((rc = brs__config_string(cfg, rt, rw, "only_venue", NULL, &only, err)))
        return rc;
    if (only && !en)
        return brs__err(err, BRS_E_INVAL, "%s: %s.only_venue needs %s.enabled", cfg->source, rw, rw);
    if (!had_en)
        cJSON_AddBoolToObject(rt, "enabled", 0);
    if (!had_post)
        cJSON_AddBoolToObject(rt, "post", 1);
    o->router = en;
    o->router_post = post;
    if (en && (route || n == 0))
        return brs__err(err, BRS_E_INVAL, "%s: %s.enabled needs %s and no %s", cfg->source, rw,
                        key_path(kw, sizeof kw, where, "venues"), where[0] ? "book.route" : "route");
    if (en && n > BRS_SOR_MAX_VENUES)
        return brs__err(err, BRS_E_RANGE, "%s: the router takes at most %d venues", cfg->source,
                        BRS_SOR_MAX_VENUES);
    return BRS_OK;
}

int brs__rt_create(brs__rt **out, brs_config *cfg, cJSON *obj, const char *where,
                   const brs__rt_opts *o, const brs_instrument *instr, uint32_t n_instr,
                   const char *const *data_files, uint32_t n_files, brs_error *err)
{
    brs__rt *rt = calloc(1, sizeof *rt);
    *out = rt;
    if (!rt)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    rt->cfg = cfg;
    snprintf(rt->where, sizeof rt->where, "%s", where);
    rt->instr = instr;
    rt->n_instr = n_instr;
    rt->only = -1;
    rt->books_from_venues = o->books_from_venues;
    rt->views = !o->books_from_venues || o->market_view;
    rt->md_from_file = o->md_from_file;
    rt->real_clock = o->real_clock;
    rt->md_ns = o->md_ns;
    rt->order_ns = o->order_ns;
    rt->cancel_ns = o->cancel_ns;
    rt->response_ns = o->response_ns;
    rt->jitter_ns = o->jitter_ns;
    rt->rng = o->seed ? o->seed * 0x9E3779B97F4A7C15ull : 1;
    rt->heap_cap = o->queue_capacity ? o->queue_capacity : 1u << 20;
    rt->heap_alloc = rt->heap_cap < 4096 ? rt->heap_cap : 4096; /* grows as needed */
    rt->heap = malloc((size_t)rt->heap_alloc * sizeof *rt->heap);
    if (!rt->heap)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int rc;
    /* the clients' market view (and the router's of the default venue): not
     * kept when the router reads the venues' own books (serve) */
    if (!o->books_from_venues || o->market_view) {
        if ((rc = brs__view_create(&rt->view, n_instr, instr, 0, err)))
            return rc;
    }
    if ((rc = brs__rt_open_venues(rt, obj, data_files, n_files, err)))
        return rc;
    if (!o->router)
        return BRS_OK;
    if ((rc = brs__rt_router_open(rt, o, err)))
        return rc;
    cJSON *rtj = cJSON_GetObjectItemCaseSensitive(obj, "router");
    cJSON *only = cJSON_GetObjectItemCaseSensitive(rtj, "only_venue");
    for (uint32_t i = 0; cJSON_IsString(only) && i < rt->n_v; i++)
        if (!strcmp(rt->v[i].name, only->valuestring))
            rt->only = (int)i;
    if (cJSON_IsString(only) && rt->only < 0)
        return brs__err(err, BRS_E_NOTFOUND, "%s: %s%srouter.only_venue '%s' names no venue",
                        cfg->source, where, where[0] ? "." : "", only->valuestring);
    /* the strategy's own inventory limit when it declares one, else the risk limit */
    cJSON *lim = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg->root, "strategy"), "params"),
        "inventory_limit");
    int64_t max_pos = rt->risk->cfg.def.max_position;
    if ((rc = brs__xstats_init(&rt->xs, rt->n_instr,
                               cJSON_IsNumber(lim) ? lim->valuedouble
                               : max_pos           ? (double)max_pos
                                                   : NAN)))
        return brs__err(err, rc, "out of memory");
    return BRS_OK;
}

void brs__rt_destroy(brs__rt *rt)
{
    if (!rt)
        return;
    if (rt->sor)
        brs__sor_mgr_destroy(rt->sor);
    free(rt->risk);
    brs__rt_pmap_free(rt);
    free(rt->cmap);
    free(rt->clients);
    brs__xstats_free(&rt->xs);
    for (uint32_t i = 0; rt->v && i < rt->n_v; i++) {
        brs__plugin_instance_close(&rt->v[i].inst);
        brs__plugin_unload(&rt->v[i].plugin);
        if (rt->v[i].view && rt->v[i].view != rt->view)
            brs__view_destroy(rt->v[i].view);
    }
    free(rt->v);
    free(rt->bgen);
    free(rt->tops);
    free(rt->heap);
    free(rt->ring);
    brs__view_destroy(rt->view);
    free(rt);
}
