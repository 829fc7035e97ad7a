/* runtime_host.c: the brs_host services a strategy reads or logs through:
 * typed parameters, clock, log (capped per callback and per run), instruments,
 * the market as last seen, timers, signal targets and plots. Orders are in
 * runtime_orders.c, the dispatch and lifecycle in runtime.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"

/* ---- parameters ------------------------------------------------------ */

const char *brs__param_type_name(uint32_t t)
{
    switch (t) {
    case BRS_PARAM_INT: return "int";
    case BRS_PARAM_DOUBLE: return "double";
    case BRS_PARAM_BOOL: return "bool";
    case BRS_PARAM_STRING: return "string";
    default: return "unknown";
    }
}

static int param_check_bounds(const brs_param_def *d, double v, const char *where, brs_error *err)
{
    if (d->min <= d->max && (v < d->min || v > d->max))
        return brs__err(err, BRS_E_RANGE, "%s.%s: %g is out of bounds [%g, %g]", where, d->name, v,
                        d->min, d->max);
    return BRS_OK;
}

int brs__sctx_params_init(brs__sctx *sc, const brs_strategy_vtable *vt, const cJSON *given,
                          const char *where, brs_error *err)
{
    if (!where)
        where = "params";
    if (given && !cJSON_IsObject(given) && !cJSON_IsNull(given))
        return brs__err(err, BRS_E_INVAL, "%s: must be an object of parameter values", where);
    sc->n_params = vt->params ? vt->n_params : 0;
    if (sc->n_params) {
        sc->params = calloc(sc->n_params, sizeof *sc->params);
        if (!sc->params)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < sc->n_params; i++) {
        const brs_param_def *d = &vt->params[i];
        brs__sctx_param *p = &sc->params[i];
        if (!d->name)
            return brs__err(err, BRS_E_INVAL, "strategy declares parameter %u without a name", i);
        p->def = d;
        p->i = (int64_t)d->def;
        p->d = d->def;
        p->s = d->def_string ? d->def_string : "";
    }
    if (!given || !cJSON_IsObject(given))
        return BRS_OK;
    for (const cJSON *it = given->child; it; it = it->next) {
        brs__sctx_param *p = NULL;
        for (uint32_t i = 0; i < sc->n_params; i++)
            if (strcmp(sc->params[i].def->name, it->string) == 0)
                p = &sc->params[i];
        if (!p) {
            char known[256] = "";
            size_t len = 0;
            for (uint32_t i = 0; i < sc->n_params && len + 2 < sizeof known; i++)
                len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                                        sc->params[i].def->name);
            return brs__err(err, BRS_E_INVAL, "%s.%s: unknown parameter (declared: %s)", where,
                            it->string, sc->n_params ? known : "none");
        }
        const brs_param_def *d = p->def;
        switch (d->type) {
        case BRS_PARAM_INT: {
            double v = it->valuedouble;
            if (!cJSON_IsNumber(it) || v != (double)(int64_t)v || v < -9.2e18 || v > 9.2e18)
                return brs__err(err, BRS_E_INVAL, "%s.%s: expected an integer", where, d->name);
            if (param_check_bounds(d, v, where, err))
                return err ? err->code : BRS_E_RANGE;
            p->i = (int64_t)v;
            p->d = v;
            break;
        }
        case BRS_PARAM_DOUBLE:
            if (!cJSON_IsNumber(it))
                return brs__err(err, BRS_E_INVAL, "%s.%s: expected a number", where, d->name);
            if (param_check_bounds(d, it->valuedouble, where, err))
                return err ? err->code : BRS_E_RANGE;
            p->d = it->valuedouble;
            break;
        case BRS_PARAM_BOOL:
            if (!cJSON_IsBool(it))
                return brs__err(err, BRS_E_INVAL, "%s.%s: expected true or false", where, d->name);
            p->i = cJSON_IsTrue(it) ? 1 : 0;
            p->d = (double)p->i;
            break;
        case BRS_PARAM_STRING:
            if (!cJSON_IsString(it))
                return brs__err(err, BRS_E_INVAL, "%s.%s: expected a string", where, d->name);
            p->s = it->valuestring;
            break;
        default:
            return brs__err(err, BRS_E_INVAL, "%s.%s: declared with unknown type %u", where,
                            d->name, d->type);
        }
        p->set = 1;
    }
    return BRS_OK;
}

static brs__sctx_param *param_find(brs__sctx *sc, const char *name)
{
    if (!name)
        return NULL;
    for (uint32_t i = 0; i < sc->n_params; i++)
        if (strcmp(sc->params[i].def->name, name) == 0)
            return &sc->params[i];
    return NULL;
}

/* Declared parameters always have a value (given or default), so NOTFOUND
 * only means "not declared". */
static int h_param_int(brs_ctx *ctx, const char *name, int64_t *out)
{
    brs__sctx_param *p = param_find(SC(ctx), name);
    if (!p)
        return BRS_E_NOTFOUND;
    if (p->def->type != BRS_PARAM_INT && p->def->type != BRS_PARAM_BOOL)
        return BRS_E_INVAL;
    *out = p->i;
    return BRS_OK;
}

static int h_param_double(brs_ctx *ctx, const char *name, double *out)
{
    brs__sctx_param *p = param_find(SC(ctx), name);
    if (!p)
        return BRS_E_NOTFOUND;
    if (p->def->type == BRS_PARAM_STRING)
        return BRS_E_INVAL;
    *out = p->def->type == BRS_PARAM_DOUBLE ? p->d : (double)p->i;
    return BRS_OK;
}

static int h_param_string(brs_ctx *ctx, const char *name, const char **out)
{
    brs__sctx_param *p = param_find(SC(ctx), name);
    if (!p)
        return BRS_E_NOTFOUND;
    if (p->def->type != BRS_PARAM_STRING)
        return BRS_E_INVAL;
    *out = p->s;
    return BRS_OK;
}

/* ---- clock, log, instruments ----------------------------------------- */

static int64_t h_now(brs_ctx *ctx) { return SC(ctx)->now; }

static void h_log(brs_ctx *ctx, int level, const char *msg)
{
    brs__sctx *sc = SC(ctx);
    if (!msg)
        msg = "(null)";
    brs__sctx_log_fresh(sc);
    if (level >= BRS_LOG_ERROR)
        snprintf(sc->last_error_log, sizeof sc->last_error_log, "%s", msg);
    if (sc->quiet || level < sc->log_level)
        return;
    if (level >= BRS_LOG_ERROR && sc->in_callback) {
        sc->error_pending = 1; /* printed when the callback returns, unless it failed with it */
        return;
    }
    static const char *names[] = {"debug", "info", "warn", "error"};
    const char *ln = level >= 0 && level <= BRS_LOG_ERROR ? names[level] : "log";
    size_t len = strlen(msg);
    if (level < BRS_LOG_ERROR) { /* the strategy's own lines: capped per callback and per run */
        uint64_t room_cb = sc->max_log_cb > sc->log_cb ? sc->max_log_cb - sc->log_cb : 0;
        uint64_t room_run = sc->max_log_run > sc->log_run ? sc->max_log_run - sc->log_run : 0;
        uint64_t room = room_cb < room_run ? room_cb : room_run;
        if (len > room) {
            int bit = room_cb <= room_run ? 1 : 2;
            if (room)
                fprintf(sc->log, "[%s] %s: %.*s\n", sc->name, ln, (int)room, msg);
            sc->log_cb += room;
            sc->log_run += room;
            if (!(sc->log_cut & bit)) {
                sc->log_cut |= bit;
                if (bit == 1)
                    fprintf(sc->log, "[%s] warn: log truncated: more than %llu bytes in one callback "
                            "(strategy.max_log_bytes_per_callback); the excess of every callback is "
                            "dropped\n", sc->name, (unsigned long long)sc->max_log_cb);
                else
                    fprintf(sc->log, "[%s] warn: log truncated: more than %llu bytes in this run "
                            "(strategy.max_log_bytes); nothing more is logged\n", sc->name,
                            (unsigned long long)sc->max_log_run);
            }
            return;
        }
        sc->log_cb += len;
        sc->log_run += len;
    }
    fprintf(sc->log, "[%s] %s: %s\n", sc->name, ln, msg);
}

static uint32_t h_instrument_count(brs_ctx *ctx) { return SC(ctx)->n_instr; }

static int h_instrument(brs_ctx *ctx, uint32_t id, brs_instrument *out)
{
    brs__sctx *sc = SC(ctx);
    if (id >= sc->n_instr)
        return BRS_E_NOTFOUND;
    *out = sc->instr[id].def;
    return BRS_OK;
}

static int h_instrument_find(brs_ctx *ctx, const char *symbol, uint32_t *id)
{
    brs__sctx *sc = SC(ctx);
    for (uint32_t i = 0; symbol && i < sc->n_instr; i++)
        if (strcmp(sc->instr[i].def.symbol, symbol) == 0) {
            *id = i;
            return BRS_OK;
        }
    return BRS_E_NOTFOUND;
}

static int h_top(brs_ctx *ctx, uint32_t instrument, brs_top *out)
{
    brs__sctx *sc = SC(ctx);
    if (instrument >= sc->n_instr)
        return BRS_E_NOTFOUND;
    *out = sc->instr[instrument].top;
    return sc->instr[instrument].top.ts ? BRS_OK : BRS_E_NOTFOUND;
}

static int h_depth(brs_ctx *ctx, uint32_t instrument, uint8_t side, brs_level *out, uint32_t cap,
                   uint32_t *n)
{
    brs__sctx *sc = SC(ctx);
    if (instrument >= sc->n_instr || side > BRS_SELL)
        return BRS_E_INVAL;
    const brs__sctx_instr *in = &sc->instr[instrument];
    uint32_t have = side == BRS_BUY ? in->n_bids : in->n_asks;
    const brs_level *lv = side == BRS_BUY ? in->bids : in->asks;
    uint32_t k = have < cap ? have : cap;
    if (k)
        memcpy(out, lv, k * sizeof *lv);
    if (n)
        *n = k;
    return BRS_OK;
}

static int h_timer_set(brs_ctx *ctx, int64_t first_at, int64_t interval, uint64_t *timer_id)
{
    brs__sctx *sc = SC(ctx);
    if (interval < 0)
        return BRS_E_INVAL;
    brs__sctx_timer *t = NULL;
    for (uint32_t i = 0; i < sc->n_timers && !t; i++)
        if (!sc->timers[i].active)
            t = &sc->timers[i];
    if (!t) {
        if (sc->n_timers == sc->max_timers)
            return BRS_E_LIMIT;
        t = &sc->timers[sc->n_timers++];
    }
    *t = (brs__sctx_timer){.id = sc->next_timer_id++, .at = first_at, .interval = interval, .active = 1};
    if (timer_id)
        *timer_id = t->id;
    return BRS_OK;
}

static int h_timer_cancel(brs_ctx *ctx, uint64_t timer_id)
{
    brs__sctx *sc = SC(ctx);
    for (uint32_t i = 0; i < sc->n_timers; i++)
        if (sc->timers[i].active && sc->timers[i].id == timer_id) {
            sc->timers[i].active = 0;
            return BRS_OK;
        }
    return BRS_E_NOTFOUND;
}

/* Signal backtests belong to the backtest engine (host/backtest), which plugs
 * these into its brs__exec; any other backend answers BRS_E_UNSUPPORTED. */
static int h_set_target(brs_ctx *ctx, uint32_t instrument, double target)
{
    brs__sctx *sc = SC(ctx);
    if (!sc->has_exec || !sc->exec.xSetTarget)
        return BRS_E_UNSUPPORTED;
    if (instrument >= sc->n_instr || !(target >= -1.0 && target <= 1.0))
        return BRS_E_INVAL;
    return sc->exec.xSetTarget(sc->exec.self, sc, instrument, target);
}

static int h_set_targets(brs_ctx *ctx, uint32_t instrument, const double *targets, uint64_t n)
{
    brs__sctx *sc = SC(ctx);
    if (!sc->has_exec || !sc->exec.xSetTargets)
        return BRS_E_UNSUPPORTED;
    if (instrument >= sc->n_instr || (!targets && n))
        return BRS_E_INVAL;
    return sc->exec.xSetTargets(sc->exec.self, sc, instrument, targets, n);
}

static int h_set_targets_at(brs_ctx *ctx, uint32_t instrument, uint64_t first,
                            const double *targets, uint64_t n)
{
    brs__sctx *sc = SC(ctx);
    if (!sc->has_exec || !sc->exec.xSetTargetsAt)
        return BRS_E_UNSUPPORTED;
    if (instrument >= sc->n_instr || (!targets && n))
        return BRS_E_INVAL;
    return sc->exec.xSetTargetsAt(sc->exec.self, sc, instrument, first, targets, n);
}

static int h_bars(brs_ctx *ctx, uint32_t instrument, const brs_market_event **bars, uint64_t *n)
{
    brs__sctx *sc = SC(ctx);
    if (!sc->has_exec || !sc->exec.xBars)
        return BRS_E_UNSUPPORTED;
    if (instrument >= sc->n_instr || !bars || !n)
        return BRS_E_INVAL;
    return sc->exec.xBars(sc->exec.self, sc, instrument, bars, n);
}

/* ABI 1.2: the caller's struct must hold at least 1.2's members; what a
 * later, larger struct appends is left as the caller set it. */
static int h_bar_columns(brs_ctx *ctx, uint32_t instrument, brs_bar_columns *out)
{
    brs__sctx *sc = SC(ctx);
    if (!sc->has_exec || !sc->exec.xBarColumns)
        return BRS_E_UNSUPPORTED;
    if (instrument >= sc->n_instr || !out ||
        out->size < offsetof(brs_bar_columns, volume) + sizeof out->volume)
        return BRS_E_INVAL;
    return sc->exec.xBarColumns(sc->exec.self, sc, instrument, out);
}

static int h_plot(brs_ctx *ctx, const char *name, double value)
{
    brs__sctx *sc = SC(ctx);
    if (!sc->plot)
        return BRS_E_UNSUPPORTED;
    if (!name)
        return BRS_E_INVAL;
    return sc->plot(sc->plot_user, sc->now, name, value);
}

static int h_emit_order(brs_ctx *ctx, const brs_order_event *ev)
{
    (void)ctx;
    (void)ev;
    return BRS_E_UNSUPPORTED; /* a venue service */
}

static int h_emit_market(brs_ctx *ctx, const brs_market_event *ev)
{
    (void)ctx;
    (void)ev;
    return BRS_E_UNSUPPORTED;
}

void brs__sctx_host_services(brs_host *h)
{
    h->xNow = h_now;
    h->xLog = h_log;
    h->xParamInt = h_param_int;
    h->xParamDouble = h_param_double;
    h->xParamString = h_param_string;
    h->xInstrumentCount = h_instrument_count;
    h->xInstrument = h_instrument;
    h->xInstrumentFind = h_instrument_find;
    h->xTop = h_top;
    h->xDepth = h_depth;
    h->xTimerSet = h_timer_set;
    h->xTimerCancel = h_timer_cancel;
    h->xSetTarget = h_set_target;
    h->xEmitOrderEvent = h_emit_order;
    h->xEmitMarketEvent = h_emit_market;
    h->xBars = h_bars;
    h->xSetTargets = h_set_targets;
    h->xPlot = h_plot;
    h->xBarColumns = h_bar_columns;
    h->xSetTargetsAt = h_set_targets_at;
}
