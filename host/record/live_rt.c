/* live_rt.c: see live_rt.h. `bourse live`'s "paper" keys translated into the
 * runtime's own config (one venue, its params, latency), the runtime opened on
 * the real clock with fifo delivery, and each live event replayed into it.
 * Nothing here takes orders: the strategy's go through rt_strategy.c. */
#include "record/live_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const char *const paper_keys[] = {"fill", "plugin", "params", "latency", NULL};
static const char *const latency_keys[] = {"order_entry_ns", "cancel_ns", "response_ns", NULL};

/* paper.latency into *ons, *cns, *rns (0 when absent). */
static int read_latency(const brs_config *cfg, const cJSON *paper, int touch, int64_t *ons,
                        int64_t *cns, int64_t *rns, brs_error *err)
{
    *ons = *cns = *rns = 0;
    const cJSON *lat = paper ? cJSON_GetObjectItemCaseSensitive(paper, "latency") : NULL;
    if (!lat)
        return BRS_OK;
    if (!cJSON_IsObject(lat))
        return brs__err(err, BRS_E_INVAL, "%s: paper.latency: expected an object", cfg->source);
    int rc;
    if ((rc = brs__config_check_keys(cfg, lat, "paper.latency", latency_keys, err)) ||
        (rc = brs__config_int(cfg, lat, "paper.latency", "order_entry_ns", 0, ons, err)) ||
        (rc = brs__config_int(cfg, lat, "paper.latency", "cancel_ns", *ons, cns, err)) ||
        (rc = brs__config_int(cfg, lat, "paper.latency", "response_ns", 0, rns, err)))
        return rc;
    const int64_t max = 60000000000LL;
    if (*ons < 0 || *cns < 0 || *rns < 0 || *ons > max || *cns > max || *rns > max)
        return brs__err(err, BRS_E_RANGE, "%s: paper.latency: each value must be 0..60e9 ns", cfg->source);
    if (touch)
        return brs__err(err, BRS_E_INVAL, "%s: paper.latency goes with paper.fill \"book\"", cfg->source);
    return BRS_OK;
}

int brs__live_rt_open(brs__live_rt *l, const brs_config *cfg, const cJSON *paper,
                      const brs_instrument *instr, uint32_t n_instr, int quiet, brs_error *err)
{
    memset(l, 0, sizeof *l);
    const char *fill = "book", *plugin = "sim";
    const cJSON *pp = paper ? cJSON_GetObjectItemCaseSensitive(paper, "params") : NULL;
    int rc;
    if (paper && ((rc = brs__config_check_keys(cfg, paper, "paper", paper_keys, err)) ||
                  (rc = brs__config_string(cfg, paper, "paper", "fill", "book", &fill, err)) ||
                  (rc = brs__config_string(cfg, paper, "paper", "plugin", "sim", &plugin, err))))
        return rc;
    if (strcmp(fill, "book") && strcmp(fill, "touch"))
        return brs__err(err, BRS_E_INVAL, "%s: paper.fill: '%s' is not \"book\" or \"touch\"", cfg->source,
                        fill);
    if (pp && !cJSON_IsObject(pp))
        return brs__err(err, BRS_E_INVAL, "%s: paper.params: expected an object", cfg->source);
    l->touch = !strcmp(fill, "touch");
    if (l->touch) { /* the touch venue (plugins/venues/touch) */
        if (paper && cJSON_GetObjectItemCaseSensitive(paper, "plugin"))
            return brs__err(err, BRS_E_INVAL, "%s: paper.plugin goes with paper.fill \"book\"", cfg->source);
        plugin = "touch";
    }
    int64_t ons, cns, rns;
    if ((rc = read_latency(cfg, paper, l->touch, &ons, &cns, &rns, err)))
        return rc;
    /* the runtime's config: the one venue, with the live config's params */
    char text[256];
    snprintf(text, sizeof text,
             "{\"venues\": [{}], \"queue_capacity\": 65536, \"latency\": {\"order_entry_ns\": %lld, "
             "\"cancel_ns\": %lld, \"response_ns\": %lld}}",
             (long long)ons, (long long)cns, (long long)rns);
    if ((rc = brs__config_parse(&l->cfg, text, "paper", err)))
        return rc;
    l->has_cfg = 1;
    cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(l->cfg.root, "venues"), 0);
    cJSON *ppd = pp ? cJSON_Duplicate(pp, 1) : NULL;
    if (!cJSON_AddStringToObject(v, "name", plugin) || !cJSON_AddStringToObject(v, "plugin", plugin) ||
        (pp && (!ppd || !cJSON_AddItemToObject(v, "params", ppd)))) {
        brs__live_rt_close(l);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    brs__rt_opts o = {0};
    if ((rc = brs__rt_read_config(&l->cfg, l->cfg.root, "", &o, err)))
        goto fail;
    o.books_from_venues = 1; /* no market view: the strategies' view is the L2 data reaching them */
    o.real_clock = 1;
    if ((rc = brs__rt_create(&l->rt, &l->cfg, l->cfg.root, "", &o, instr, n_instr, NULL, 0, err)))
        goto fail;
    brs__rt_set_fifo(l->rt, 1); /* one connection: a quick cancel never overtakes its order */
    brs__rt_set_quiet(l->rt, quiet);
    return BRS_OK;
fail:
    brs__live_rt_close(l);
    return brs__err_prefix(err, "%s", cfg->source);
}

void brs__live_rt_market(brs__live_rt *l, const brs_market_event *ev, int64_t now)
{
    brs__rt_advance(l->rt, now);
    brs__rt_replay(l->rt, ev, 0);
    brs__rt_advance(l->rt, now);
}

void brs__live_rt_drain(brs__live_rt *l)
{
    while (brs__rt_step(l->rt))
        brs__rt_tick(l->rt);
}

void brs__live_rt_close(brs__live_rt *l)
{
    brs__rt_destroy(l->rt);
    l->rt = NULL;
    if (l->has_cfg)
        brs__config_free(&l->cfg);
    l->has_cfg = 0;
}
