/* paper.c: see paper.h. `bourse live`'s paper venue is a configuration of the
 * runtime (host/runtime): one venue plugin, the strategy its only client, the
 * clock the live one, order actions delivered in the order sent (fifo). With
 * latencies set, order actions reach the venue and its reports reach the
 * strategy that much later, carried out by brs__paper_poll as the live clock
 * passes their due time; without, at once. */
#include "record/paper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* The venue's reports to the strategy: fills and fees counted on the way. */
static void p_report(void *user, const brs_order_event *e)
{
    brs__paper *p = user;
    if (e->kind == BRS_OEV_FILL) {
        p->n_fills++;
        p->fees += e->fee;
        if (e->instrument < p->n_instr)
            p->fees_by_instr[e->instrument] += e->fee;
    }
    if (p->sc)
        brs__sctx_order_event(p->sc, e);
}

/* What is due by now, unless a report being delivered led here (the loop
 * around it carries on with what the strategy just sent). */
static void pump(brs__paper *p, int64_t now)
{
    if (p->delivering)
        return;
    p->delivering = 1;
    brs__rt_advance(p->rt, now);
    p->delivering = 0;
}

int brs__paper_open(brs__paper *p, const char *plugin, const cJSON *params,
                    const brs_instrument *instr, uint32_t n_instr, int quiet, const char *where,
                    brs_error *err)
{
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->n_instr = n_instr;
    snprintf(p->name, sizeof p->name, "%s", plugin);
    p->fees_by_instr = calloc(n_instr ? n_instr : 1, sizeof *p->fees_by_instr);
    if (!p->fees_by_instr)
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", where);
    /* the runtime's config: the one venue, with the live config's params */
    int rc = brs__config_parse(&p->cfg, "{\"venues\": [{}]}", where, err);
    if (rc) {
        free(p->fees_by_instr);
        p->fees_by_instr = NULL;
        return rc;
    }
    p->has_cfg = 1;
    cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p->cfg.root, "venues"), 0);
    cJSON *pp = params ? cJSON_Duplicate(params, 1) : NULL;
    if (!cJSON_AddStringToObject(v, "name", plugin) || !cJSON_AddStringToObject(v, "plugin", plugin) ||
        (params && (!pp || !cJSON_AddItemToObject(v, "params", pp)))) {
        brs__paper_close(p);
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", where);
    }
    brs__rt_opts o = {0};
    brs__rt_client_ops ops = {.user = p, .xOnOrder = p_report};
    uint32_t client;
    if ((rc = brs__rt_read_config(&p->cfg, p->cfg.root, "", &o, err)) ||
        (rc = brs__rt_create(&p->rt, &p->cfg, p->cfg.root, "", &o, instr, n_instr, NULL, 0, err)) ||
        (rc = brs__rt_client_add(p->rt, &ops, brs__rt_default_route(p->rt), &client, err))) {
        brs__paper_close(p);
        if (strstr(err->msg, "not a venue") || strstr(err->msg, "not found"))
            return brs__err_prefix(err, "%s", where);
        return rc;
    }
    brs__rt_set_fifo(p->rt, 1);
    brs__rt_set_quiet(p->rt, quiet);
    return BRS_OK;
}

void brs__paper_attach(brs__paper *p, brs__sctx *sc) { p->sc = sc; }

static int x_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    brs__paper *p = self;
    pump(p, sc->now); /* the runtime's clock is the strategy's */
    int rc = brs__rt_submit(p->rt, 0, o);
    pump(p, sc->now);
    return rc;
}

static int x_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    brs__paper *p = self;
    pump(p, sc->now);
    int rc = brs__rt_cancel(p->rt, 0, id);
    pump(p, sc->now);
    return rc;
}

static int x_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    brs__paper *p = self;
    pump(p, sc->now);
    int rc = brs__rt_replace(p->rt, 0, id, price, qty);
    pump(p, sc->now);
    return rc;
}

int brs__paper_set_latency(brs__paper *p, int64_t order_ns, int64_t cancel_ns, int64_t response_ns)
{
    brs__rt_set_latency(p->rt, order_ns, cancel_ns, response_ns);
    return BRS_OK;
}

int64_t brs__paper_next_due(const brs__paper *p) { return brs__rt_next_time(p->rt); }

void brs__paper_poll(brs__paper *p, int64_t now)
{
    if (p->sc)
        pump(p, now);
}

/* A live market event reaches the venue before the strategy sees it. */
static void x_market(void *self, brs__sctx *sc, const brs_market_event *ev)
{
    brs__paper *p = self;
    pump(p, sc->now);
    brs__rt_replay(p->rt, ev, 0);
}

brs__exec brs__paper_exec(brs__paper *p)
{
    brs__exec ex = {.self = p, .xSubmit = x_submit, .xCancel = x_cancel, .xReplace = x_replace,
                    .xOnMarket = x_market};
    return ex;
}

void brs__paper_close(brs__paper *p)
{
    p->sc = NULL; /* the strategy may be gone: nothing the venue says now reaches it */
    brs__rt_destroy(p->rt);
    p->rt = NULL;
    if (p->has_cfg)
        brs__config_free(&p->cfg);
    p->has_cfg = 0;
    free(p->fees_by_instr);
    p->fees_by_instr = NULL;
}
