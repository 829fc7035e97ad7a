/* paper.c: see paper.h. The venue's host services: the strategy's clock, its
 * parameters from the config, the run's instruments; what it reports goes to
 * the strategy at once (live time passes by itself: no simulated latency). */
#include "record/paper.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "plugin/json_params.h"

#define PP(ctx) ((brs__paper *)(void *)(ctx))

static int64_t p_now(brs_ctx *ctx)
{
    brs__paper *p = PP(ctx);
    return p->sc ? p->sc->now : 0;
}

static void p_log(brs_ctx *ctx, int level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    brs__paper *p = PP(ctx);
    if (level < BRS_LOG_INFO || (p->quiet && level < BRS_LOG_WARN))
        return;
    fprintf(stderr, "bourse live: [paper %s] %s: %s\n", p->name, names[level & 3], msg ? msg : "");
}

static int p_int(brs_ctx *c, const char *n, int64_t *o) { return brs__jparam_int(PP(c)->params, n, o); }
static int p_dbl(brs_ctx *c, const char *n, double *o) { return brs__jparam_double(PP(c)->params, n, o); }
static int p_str(brs_ctx *c, const char *n, const char **o) { return brs__jparam_string(PP(c)->params, n, o); }
static uint32_t p_count(brs_ctx *c) { return PP(c)->n_instr; }

static int p_instr(brs_ctx *c, uint32_t id, brs_instrument *out)
{
    brs__paper *p = PP(c);
    if (id >= p->n_instr)
        return BRS_E_NOTFOUND;
    *out = p->instr[id];
    return BRS_OK;
}

static int p_find(brs_ctx *c, const char *symbol, uint32_t *id)
{
    brs__paper *p = PP(c);
    for (uint32_t i = 0; symbol && i < p->n_instr; i++)
        if (!strcmp(p->instr[i].symbol, symbol)) {
            *id = i;
            return BRS_OK;
        }
    return BRS_E_NOTFOUND;
}

/* A fill, cancel or reject of ours: straight to the strategy. */
static int p_emit_order(brs_ctx *c, const brs_order_event *ev)
{
    brs__paper *p = PP(c);
    if (!ev)
        return BRS_E_INVAL;
    if (!p->sc)
        return BRS_E_STATE;
    brs_order_event e = *ev;
    if (!e.ts)
        e.ts = p->sc->now;
    if (e.kind == BRS_OEV_FILL) {
        p->n_fills++;
        p->fees += e.fee;
    }
    return brs__sctx_order_event(p->sc, &e);
}

/* The venue's own view of the market: the strategy already has the feed's. */
static int p_emit_market(brs_ctx *c, const brs_market_event *ev)
{
    (void)c;
    return ev ? BRS_OK : BRS_E_INVAL;
}

static int p_state(void) { return BRS_E_STATE; }
static int p_submit_x(brs_ctx *c, const brs_order *o, uint64_t *id) { (void)c, (void)o, (void)id; return p_state(); }
static int p_cancel_x(brs_ctx *c, uint64_t id) { (void)c, (void)id; return p_state(); }
static int p_replace_x(brs_ctx *c, uint64_t id, int64_t pr, int64_t q) { (void)c, (void)id, (void)pr, (void)q; return p_state(); }

static const brs_host paper_host = {
    .size = sizeof(brs_host), .abi_major = BRS_ABI_MAJOR, .abi_minor = BRS_ABI_MINOR,
    .xNow = p_now, .xLog = p_log, .xParamInt = p_int, .xParamDouble = p_dbl,
    .xParamString = p_str, .xInstrumentCount = p_count, .xInstrument = p_instr,
    .xInstrumentFind = p_find, .xSubmit = p_submit_x, .xCancel = p_cancel_x,
    .xReplace = p_replace_x, .xEmitOrderEvent = p_emit_order, .xEmitMarketEvent = p_emit_market};

int brs__paper_open(brs__paper *p, const char *plugin, const cJSON *params,
                    const brs_instrument *instr, uint32_t n_instr, int quiet, const char *where,
                    brs_error *err)
{
    memset(p, 0, sizeof *p);
    p->host = paper_host;
    p->params = params;
    p->instr = instr;
    p->n_instr = n_instr;
    p->quiet = quiet;
    snprintf(p->name, sizeof p->name, "%s", plugin);
    char path[4096];
    int rc = brs__plugin_find(plugin, NULL, path, sizeof path, err);
    if (!rc)
        rc = brs__plugin_load(&p->plugin, path, err);
    if (rc)
        return brs__err_prefix(err, "%s", where);
    if (!(p->vt = brs__plugin_venue(&p->plugin))) {
        rc = brs__err(err, BRS_E_BADKIND, "%s: %s is a %s plugin, not a venue", where, path,
                      brs__plugin_kind_name(p->plugin.desc->kind));
        brs__plugin_unload(&p->plugin);
        return rc;
    }
    if ((rc = brs__plugin_instance_open(&p->inst, &p->plugin, &p->host, (brs_ctx *)(void *)p, err))) {
        brs__plugin_unload(&p->plugin);
        return brs__err_prefix(err, "%s", where);
    }
    return BRS_OK;
}

void brs__paper_attach(brs__paper *p, brs__sctx *sc) { p->sc = sc; }

static int x_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    (void)sc;
    brs__paper *p = self;
    brs_order c = *o;
    if (!c.stp)
        c.stp = BRS_STP_CANCEL_NEWEST; /* our own orders never trade with each other */
    return p->vt->xSubmit(p->inst.self, &c);
}

static int x_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    (void)sc;
    brs__paper *p = self;
    return p->vt->xCancel(p->inst.self, id);
}

static int x_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    (void)sc;
    brs__paper *p = self;
    return p->vt->xReplace(p->inst.self, id, price, qty);
}

static void x_market(void *self, brs__sctx *sc, const brs_market_event *ev)
{
    (void)sc;
    brs__paper *p = self;
    if (p->vt->xOnMarket)
        p->vt->xOnMarket(p->inst.self, ev);
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
    brs__plugin_instance_close(&p->inst);
    brs__plugin_unload(&p->plugin);
    p->vt = NULL;
    p->sc = NULL;
}
