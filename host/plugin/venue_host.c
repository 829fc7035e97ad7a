/* venue_host.c: see venue_host.h. */
#include "plugin/venue_host.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "plugin/json_params.h"

#define VC(ctx) ((const brs__venue_ctx *)(const void *)(ctx))

/* Remember that the plugin asked for name: the key it names is then used, and
 * the name is a candidate for "did you mean" on a key nobody asked for. */
static void asked(brs_ctx *c, const char *name)
{
    brs__venue_ctx *v = (brs__venue_ctx *)(void *)c;
    if (!name)
        return;
    uint32_t i = 0;
    for (const cJSON *k = v->params ? v->params->child : NULL; k && i < BRS__VENUE_MAX_PARAMS; k = k->next, i++)
        if (k->string && !strcmp(k->string, name))
            v->read |= UINT64_C(1) << i;
    for (uint32_t j = 0; j < v->n_asked; j++)
        if (!strcmp(v->asked[j], name))
            return;
    if (v->n_asked < BRS__VENUE_ASKED && strlen(name) < sizeof v->asked[0])
        snprintf(v->asked[v->n_asked++], sizeof v->asked[0], "%s", name);
}

static int p_int(brs_ctx *c, const char *n, int64_t *o)
{
    asked(c, n);
    return brs__jparam_int(VC(c)->params, n, o);
}

static int p_dbl(brs_ctx *c, const char *n, double *o)
{
    asked(c, n);
    return brs__jparam_double(VC(c)->params, n, o);
}

static int p_str(brs_ctx *c, const char *n, const char **o)
{
    asked(c, n);
    return brs__jparam_string(VC(c)->params, n, o);
}
static uint32_t p_count(brs_ctx *c) { return VC(c)->n_instr; }

static int p_instr(brs_ctx *c, uint32_t id, brs_instrument *out)
{
    const brs__venue_ctx *v = VC(c);
    if (id >= v->n_instr)
        return BRS_E_NOTFOUND;
    *out = v->instr[id];
    return BRS_OK;
}

static int p_find(brs_ctx *c, const char *symbol, uint32_t *id)
{
    const brs__venue_ctx *v = VC(c);
    for (uint32_t i = 0; symbol && i < v->n_instr; i++)
        if (!strcmp(v->instr[i].symbol, symbol)) {
            *id = i;
            return BRS_OK;
        }
    return BRS_E_NOTFOUND;
}

/* A venue does not trade: the strategy services are refused. */
static int x_state(void) { return BRS_E_STATE; }
static int x_submit(brs_ctx *c, const brs_order *o, uint64_t *id) { (void)c, (void)o, (void)id; return x_state(); }
static int x_cancel(brs_ctx *c, uint64_t id) { (void)c, (void)id; return x_state(); }
static int x_replace(brs_ctx *c, uint64_t id, int64_t p, int64_t q) { (void)c, (void)id, (void)p, (void)q; return x_state(); }
static int x_cancel_all(brs_ctx *c, uint32_t i) { (void)c, (void)i; return x_state(); }
static int x_position(brs_ctx *c, uint32_t i, brs_position *o) { (void)c, (void)i, (void)o; return x_state(); }
static int x_open_orders(brs_ctx *c, uint32_t i, brs_order_info *o, uint32_t cap, uint32_t *n) { (void)c, (void)i, (void)o, (void)cap, (void)n; return x_state(); }
static int x_top(brs_ctx *c, uint32_t i, brs_top *o) { (void)c, (void)i, (void)o; return x_state(); }
static int x_depth(brs_ctx *c, uint32_t i, uint8_t s, brs_level *o, uint32_t cap, uint32_t *n) { (void)c, (void)i, (void)s, (void)o, (void)cap, (void)n; return x_state(); }
static int x_timer_set(brs_ctx *c, int64_t a, int64_t iv, uint64_t *id) { (void)c, (void)a, (void)iv, (void)id; return x_state(); }
static int x_timer_cancel(brs_ctx *c, uint64_t id) { (void)c, (void)id; return x_state(); }
static int x_target(brs_ctx *c, uint32_t i, double t) { (void)c, (void)i, (void)t; return x_state(); }
static int x_bars(brs_ctx *c, uint32_t i, const brs_market_event **o, uint64_t *n) { (void)c, (void)i, (void)o, (void)n; return BRS_E_UNSUPPORTED; }
static int x_targets(brs_ctx *c, uint32_t i, const double *t, uint64_t n) { (void)c, (void)i, (void)t, (void)n; return BRS_E_UNSUPPORTED; }
static int x_targets_at(brs_ctx *c, uint32_t i, uint64_t f, const double *t, uint64_t n) { (void)c, (void)i, (void)f, (void)t, (void)n; return BRS_E_UNSUPPORTED; }
static int x_bar_columns(brs_ctx *c, uint32_t i, brs_bar_columns *o) { (void)c, (void)i, (void)o; return BRS_E_UNSUPPORTED; }

void brs__venue_ctx_init(brs__venue_ctx *v, const cJSON *params, const brs_instrument *instr,
                         uint32_t n_instr, int64_t (*now)(brs_ctx *),
                         void (*log)(brs_ctx *, int, const char *),
                         int (*emit_order)(brs_ctx *, const brs_order_event *),
                         int (*emit_market)(brs_ctx *, const brs_market_event *))
{
    memset(v, 0, sizeof *v);
    v->params = params;
    v->instr = instr;
    v->n_instr = n_instr;
    v->host = (brs_host){
        .size = sizeof(brs_host), .abi_major = BRS_ABI_MAJOR, .abi_minor = BRS_ABI_MINOR,
        .xNow = now, .xLog = log, .xParamInt = p_int, .xParamDouble = p_dbl,
        .xParamString = p_str, .xInstrumentCount = p_count, .xInstrument = p_instr,
        .xInstrumentFind = p_find, .xSubmit = x_submit, .xCancel = x_cancel,
        .xReplace = x_replace, .xCancelAll = x_cancel_all, .xPosition = x_position,
        .xOpenOrders = x_open_orders, .xTop = x_top, .xDepth = x_depth,
        .xTimerSet = x_timer_set, .xTimerCancel = x_timer_cancel, .xSetTarget = x_target,
        .xEmitOrderEvent = emit_order, .xEmitMarketEvent = emit_market,
        .xBars = x_bars, .xSetTargets = x_targets, .xBarColumns = x_bar_columns,
        .xSetTargetsAt = x_targets_at};
}

int brs__venue_ctx_check_params(const brs__venue_ctx *v, const char *const *host_keys,
                                const char *where, const char *plugin, brs_error *err)
{
    uint32_t i = 0;
    for (const cJSON *k = v->params ? v->params->child : NULL; k; k = k->next, i++) {
        if (i >= BRS__VENUE_MAX_PARAMS)
            return brs__err(err, BRS_E_INVAL, "%s.params: more than %d keys", where, BRS__VENUE_MAX_PARAMS);
        if (v->read >> i & 1)
            continue;
        int host = 0;
        for (const char *const *h = host_keys; h && *h && !host; h++)
            host = k->string && !strcmp(k->string, *h);
        if (host)
            continue;
        brs_suggest sg;
        brs__suggest_init(&sg, k->string ? k->string : "");
        for (uint32_t j = 0; j < v->n_asked; j++)
            brs__suggest_add(&sg, v->asked[j]);
        for (const char *const *h = host_keys; h && *h; h++)
            brs__suggest_add(&sg, *h);
        const char *best = brs__suggest_best(&sg);
        return brs__err(err, BRS_E_INVAL, "%s.params.%.64s: not a parameter of venue plugin '%s'%s%s%s", where,
                        k->string ? k->string : "", plugin, best ? " (did you mean '" : "", best ? best : "",
                        best ? "'?)" : "");
    }
    return BRS_OK;
}
