/* runtime.c: the strategy context: the brs_host services one strategy instance
 * sees (parameters, orders, positions, market as last seen, clock, timers,
 * log) and the dispatch of events into its vtable. A failing callback stops the
 * strategy cleanly: its orders are cancelled and nothing calls it again. */
#include "runtime.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bourse/version.h>

#include "core/core.h"
#include "ops/metrics.h"

#define SC(ctx) ((brs__sctx *)(void *)(ctx))

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

static int params_init(brs__sctx *sc, const brs_strategy_vtable *vt, const cJSON *given,
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

/* ---- order events ---------------------------------------------------- */

static int order_index(const brs__sctx *sc, uint64_t id)
{
    for (uint32_t i = sc->n_orders; i-- > 0;)
        if (sc->orders[i].id == id)
            return (int)i;
    return -1;
}

static void order_remove(brs__sctx *sc, int i)
{
    memmove(&sc->orders[i], &sc->orders[i + 1], (sc->n_orders - (uint32_t)i - 1) * sizeof *sc->orders);
    sc->n_orders--;
}

/* Integer position accounting: cost is the signed sum of qty * price of the
 * open part; closing removes cost pro rata (truncated), so a full round trip
 * realizes exactly sum(sell value) - sum(buy value). */
static int64_t sat64(__int128 v)
{
    return v > INT64_MAX ? INT64_MAX : v < -INT64_MAX ? -INT64_MAX : (int64_t)v;
}

/* In 128 bits, stored saturated: orders are bounded (BRS__SCTX_MAX_QTY and
 * _PRICE), but fill prices come from the data and many open orders may fill
 * into one position, so nothing here may overflow. */
static void apply_fill(brs__sctx_instr *in, int64_t dq, int64_t p, int64_t fee)
{
    in->fees = sat64((__int128)in->fees + fee);
    int64_t q = in->pos_qty;
    if (q == 0 || (q > 0) == (dq > 0)) {
        in->pos_cost = sat64((__int128)in->pos_cost + (__int128)dq * p);
        in->pos_qty = sat64((__int128)in->pos_qty + dq);
        return;
    }
    int64_t absq = q > 0 ? q : -q, absd = dq > 0 ? dq : -dq;
    int64_t closed = absd < absq ? absd : absq;
    int64_t removed = (int64_t)((__int128)in->pos_cost * closed / absq);
    int64_t sgn = q > 0 ? 1 : -1;
    in->realized = sat64((__int128)in->realized + (__int128)sgn * closed * p - removed);
    in->pos_cost -= removed;
    in->pos_qty -= sgn * closed;
    int64_t rest = absd - closed;
    if (rest) {
        int64_t r = dq > 0 ? rest : -rest;
        in->pos_cost = sat64((__int128)in->pos_cost + (__int128)r * p);
        in->pos_qty += r;
    }
}

static void apply_event(brs__sctx *sc, const brs_order_event *ev)
{
    int i = order_index(sc, ev->order_id);
    if (BRS__UNLIKELY(sc->meter != NULL)) {
        brs__sctx_meter *m = sc->meter;
        m->accepted += ev->kind == BRS_OEV_ACCEPTED;
        m->fills += ev->kind == BRS_OEV_FILL;
        m->cancels += ev->kind == BRS_OEV_CANCELLED;
        m->rejects += ev->kind == BRS_OEV_REJECTED;
    }
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
        if (i >= 0)
            sc->orders[i].price = ev->price;
        break;
    case BRS_OEV_REJECTED:
    case BRS_OEV_CANCELLED:
        if (i >= 0)
            order_remove(sc, i);
        break;
    case BRS_OEV_FILL:
        if (ev->instrument < sc->n_instr)
            apply_fill(&sc->instr[ev->instrument], ev->side == BRS_BUY ? ev->qty : -ev->qty,
                       ev->price, ev->fee);
        if (i >= 0) {
            sc->orders[i].leaves = ev->leaves;
            sc->orders[i].cum_qty = ev->cum_qty;
            if (ev->leaves <= 0)
                order_remove(sc, i);
        }
        break;
    case BRS_OEV_REPLACED:
        if (i >= 0) {
            sc->orders[i].price = ev->price;
            sc->orders[i].qty = ev->qty;
            sc->orders[i].leaves = ev->leaves;
            if (ev->leaves <= 0)
                order_remove(sc, i);
        }
        break;
    default: break;
    }
}

static void drain(brs__sctx *sc);

/* Metrics (sc->meter): one callback in `every` is timed. The countdown lives
 * in the context and runs whether metrics are on or off, so they cost no
 * instruction per callback beyond what off costs; nothing is counted per
 * callback (callbacks run = `every` per finished countdown plus where the
 * running one is: brs__sctx_meter_callbacks). Off, the countdown reaches 0
 * once in 2^32 callbacks and starts again. */
static void meter_start(brs__sctx *sc)
{
    if (!sc->meter) {
        sc->meter_left = UINT32_MAX;
        return;
    }
    sc->meter->t0 = brs__monotime_ns();
    sc->meter_timing = 1;
}

static void meter_timed(brs__sctx *sc)
{
    brs__sctx_meter *m = sc->meter;
    sc->meter_timing = 0;
    if (!m)
        return;
    int64_t t = brs__monotime_ns();
    brs__hist_observe_ns(m->h_cb, t - m->t0);
    m->t0 = 0;
    m->done += m->every;
    sc->meter_left = m->every;
    m->tick(m->ud, t);
}

void brs__sctx_set_meter(brs__sctx *sc, brs__sctx_meter *m)
{
    sc->meter = m;
    sc->meter_timing = 0;
    sc->meter_left = m ? m->every : UINT32_MAX;
}

uint64_t brs__sctx_meter_callbacks(const brs__sctx *sc)
{
    const brs__sctx_meter *m = sc->meter;
    return m ? m->done + (m->every - sc->meter_left) : 0;
}

/* Every strategy callback goes through enter/leave: events produced meanwhile
 * queue up and are delivered once it returns. */
static inline void enter(brs__sctx *sc)
{
    if (BRS__UNLIKELY(--sc->meter_left == 0))
        meter_start(sc);
    sc->in_callback = 1;
    sc->last_error_log[0] = '\0'; /* what a failure of this callback quotes */
    sc->log_cb = 0;
}

/* After a callback: its failure names the error it logged (once); an error it
 * logged and carried on from is printed now. */
static void after_callback(brs__sctx *sc, int rc, const char *cb)
{
    if (BRS__UNLIKELY(sc->meter_timing))
        meter_timed(sc);
    sc->in_callback = 0;
    int pending = sc->error_pending;
    sc->error_pending = 0;
    if (rc < 0 && !sc->failed) {
        if (sc->last_error_log[0] && (rc == BRS_E_SCRIPT || rc == BRS_E_SANDBOX))
            brs__sctx_fail(sc, rc, "%s", sc->last_error_log); /* a script error says it all */
        else if (sc->last_error_log[0])
            brs__sctx_fail(sc, rc, "%s (%s returned %s)", sc->last_error_log, cb, brs_err_name(rc));
        else
            brs__sctx_fail(sc, rc, "%s returned %s", cb, brs_err_name(rc));
    } else if (pending && !sc->failed) {
        fprintf(sc->log, "[%s] error: %s\n", sc->name, sc->last_error_log);
    }
}

/* A timer or order callback: bounded per event and per simulated nanosecond,
 * so a chain (on_timer setting timer(0), on_order resubmitting what the venue
 * refuses) cannot hang the run. 0: over the bound, the strategy has failed. */
static int chain_ok(brs__sctx *sc)
{
    if (sc->now != sc->chain_now) {
        sc->chain_now = sc->now;
        sc->chain_instant = 0;
    }
    if (++sc->chain > sc->max_chain) {
        brs__sctx_fail(sc, BRS_E_LIMIT, "more than %u timer and order callbacks for one event "
                       "(strategy.max_callbacks_per_event): an endless chain?", sc->max_chain);
        return 0;
    }
    if (++sc->chain_instant > sc->max_chain_instant) {
        brs__sctx_fail(sc, BRS_E_LIMIT, "more than %u timer and order callbacks at one simulated "
                       "time (strategy.max_callbacks_per_instant): an endless chain?",
                       sc->max_chain_instant);
        return 0;
    }
    return 1;
}

/* A new event from outside: the per-event bound starts again, and refusals
 * the strategy caused during the previous one are delivered first. */
static void flush_deferred(brs__sctx *sc);
static inline void new_event(brs__sctx *sc)
{
    sc->chain = 0;
    if (BRS__UNLIKELY(sc->d_len))
        flush_deferred(sc);
}

static const char *const cb_names[] = {"xOpen",    "xStart",   "xStop",  "xOnTop",
                                       "xOnTrade", "xOnDepth", "xOnBar", "xOnMarket",
                                       "xOnOrder", "xOnTimer", "xReload"};
enum { CB_OPEN, CB_START, CB_STOP, CB_TOP, CB_TRADE, CB_DEPTH, CB_BAR, CB_MARKET, CB_ORDER, CB_TIMER, CB_RELOAD };

static int leave(brs__sctx *sc, int rc, int which)
{
    if (BRS__UNLIKELY(rc < 0 || sc->error_pending))
        after_callback(sc, rc, cb_names[which]);
    else {
        if (BRS__UNLIKELY(sc->meter_timing))
            meter_timed(sc);
        sc->in_callback = 0;
    }
    if (sc->q_len)
        drain(sc);
    return sc->failed;
}

static void deliver_cb(brs__sctx *sc, const brs_order_event *ev)
{
    if (sc->failed || !sc->started || !BRS_VT_HAS(sc->vt, brs_strategy_vtable, xOnOrder) ||
        !chain_ok(sc))
        return;
    enter(sc);
    int rc = sc->vt->xOnOrder(sc->self, ev);
    after_callback(sc, rc, "xOnOrder");
}

static void deliver(brs__sctx *sc, const brs_order_event *ev)
{
    apply_event(sc, ev);
    deliver_cb(sc, ev);
}

/* Refusals deferred during the previous event (only those: what these
 * callbacks refuse waits for the next event in turn). */
static void flush_deferred(brs__sctx *sc)
{
    for (uint32_t n = sc->d_len; n-- > 0 && sc->d_len;) {
        brs_order_event ev = sc->deferred[sc->d_head];
        sc->d_head = (sc->d_head + 1) % sc->q_cap;
        sc->d_len--;
        deliver_cb(sc, &ev);
        if (sc->q_len)
            drain(sc);
    }
}

static void drain(brs__sctx *sc)
{
    while (sc->q_len) {
        brs_order_event ev = sc->queue[sc->q_head];
        sc->q_head = (sc->q_head + 1) % sc->q_cap;
        sc->q_len--;
        deliver(sc, &ev);
    }
}

int brs__sctx_order_event(brs__sctx *sc, const brs_order_event *ev)
{
    if (!sc->in_callback)
        new_event(sc);
    if (sc->in_callback) {
        if (sc->q_len == sc->q_cap) {
            brs__sctx_fail(sc, BRS_E_LIMIT, "more than %u order events queued in one callback",
                           sc->q_cap);
            apply_event(sc, ev); /* keep the books right even so */
            return BRS_E_LIMIT;
        }
        sc->queue[(sc->q_head + sc->q_len) % sc->q_cap] = *ev;
        sc->q_len++;
        return BRS_OK;
    }
    deliver(sc, ev);
    if (sc->q_len)
        drain(sc);
    return BRS_OK;
}

static void reject(brs__sctx *sc, const brs_order *o, int code)
{
    brs_order_event ev = {.kind = BRS_OEV_REJECTED, .side = o->side, .reason = code,
                          .instrument = o->instrument, .order_id = o->id, .ts = sc->now,
                          .price = o->price, .qty = o->qty};
    if (!sc->in_callback) {
        brs__sctx_order_event(sc, &ev);
        return;
    }
    /* Refused inside a callback (which already got the code back): the books
     * now, the "rejected" event with the next event, so a strategy that
     * resubmits from on_order never re-enters itself in a loop. */
    apply_event(sc, &ev);
    if (sc->d_len == sc->q_cap) {
        brs__sctx_fail(sc, BRS_E_LIMIT, "more than %u refused orders in one event", sc->q_cap);
        return;
    }
    sc->deferred[(sc->d_head + sc->d_len) % sc->q_cap] = ev;
    sc->d_len++;
}

void brs__sctx_fail(brs__sctx *sc, int code, const char *fmt, ...)
{
    if (sc->failed)
        return;
    sc->failed = code < 0 ? code : BRS_E_SCRIPT;
    char what[BRS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(sc->error, sizeof sc->error, "strategy '%s' failed: %s", sc->name, what);
    if (!sc->quiet && !sc->silent_failure)
        fprintf(sc->log, "[%s] error: %s; strategy stopped, cancelling its %u open orders\n",
                sc->name, what, sc->n_orders);
    /* Cancel downwards: a cancel answered at once removes only entries already visited. */
    for (uint32_t i = sc->n_orders; i-- > 0;) {
        if (i >= sc->n_orders)
            continue;
        if (sc->has_exec && sc->exec.xCancel)
            sc->exec.xCancel(sc->exec.self, sc, sc->orders[i].id);
    }
    for (uint32_t i = 0; i < sc->n_timers; i++)
        sc->timers[i].active = 0;
}

/* ---- order services -------------------------------------------------- */

static int h_submit(brs_ctx *ctx, const brs_order *order, uint64_t *id)
{
    brs__sctx *sc = SC(ctx);
    if (!order)
        return BRS_E_INVAL;
    brs_order o = *order;
    o.id = sc->next_order_id++;
    o.ts = sc->now;
    o.account = sc->account;
    if (id)
        *id = o.id;
    int code = BRS_OK;
    if (sc->failed)
        code = BRS_E_STATE;
    else if (o.instrument >= sc->n_instr || o.side > BRS_SELL || o.type > BRS_MARKET ||
             o.tif > BRS_FOK || o.qty <= 0)
        code = BRS_E_INVAL;
    else if (o.qty > BRS__SCTX_MAX_QTY || (o.type == BRS_LIMIT && o.price > BRS__SCTX_MAX_PRICE))
        code = BRS_E_RANGE;
    else if (++sc->n_submitted > sc->max_orders_run) {
        brs__sctx_fail(sc, BRS_E_LIMIT, "more than %llu orders in this run "
                       "(strategy.max_orders_per_run)", (unsigned long long)sc->max_orders_run);
        code = BRS_E_LIMIT;
    } else {
        __int128 pos = sc->instr[o.instrument].pos_qty;
        __int128 after = o.side == BRS_BUY ? pos + o.qty : pos - o.qty;
        if (after > BRS__SCTX_MAX_QTY || after < -BRS__SCTX_MAX_QTY)
            code = BRS_E_RANGE;
    }
    if (!code) {
        const brs_instrument *in = &sc->instr[o.instrument].def;
        if (o.type == BRS_LIMIT && (o.price <= 0 || (in->tick_size > 1 && o.price % in->tick_size)))
            code = BRS_E_INVAL;
        else if ((in->lot_size > 1 && o.qty % in->lot_size) || o.qty < in->min_qty)
            code = BRS_E_INVAL;
        else if (o.type == BRS_MARKET && (o.flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE)))
            code = BRS_E_INVAL;
        else if (sc->n_orders == sc->max_orders)
            code = BRS_E_LIMIT;
        else if (!sc->has_exec)
            code = BRS_E_UNSUPPORTED;
    }
    if (code) {
        reject(sc, &o, code);
        return code;
    }
    brs_order_info *oi = &sc->orders[sc->n_orders++];
    *oi = (brs_order_info){.id = o.id, .instrument = o.instrument, .side = o.side, .type = o.type,
                           .tif = o.tif, .price = o.price, .qty = o.qty, .leaves = o.qty};
    int rc = sc->exec.xSubmit(sc->exec.self, sc, &o);
    if (rc < 0) {
        reject(sc, &o, rc);
        return rc;
    }
    return BRS_OK;
}

static int h_cancel(brs_ctx *ctx, uint64_t id)
{
    brs__sctx *sc = SC(ctx);
    if (order_index(sc, id) < 0)
        return BRS_E_UNKNOWNORDER;
    return sc->exec.xCancel(sc->exec.self, sc, id);
}

static int h_replace(brs_ctx *ctx, uint64_t id, int64_t price, int64_t qty)
{
    brs__sctx *sc = SC(ctx);
    int i = order_index(sc, id);
    if (i < 0)
        return BRS_E_UNKNOWNORDER;
    if (qty <= 0 || (sc->orders[i].type == BRS_LIMIT && price <= 0))
        return BRS_E_INVAL;
    if (qty > BRS__SCTX_MAX_QTY || price > BRS__SCTX_MAX_PRICE)
        return BRS_E_RANGE;
    return sc->exec.xReplace(sc->exec.self, sc, id, price, qty);
}

static int h_cancel_all(brs_ctx *ctx, uint32_t instrument)
{
    brs__sctx *sc = SC(ctx);
    int first = BRS_OK;
    for (uint32_t i = sc->n_orders; i-- > 0;) {
        if (i >= sc->n_orders)
            continue;
        if (instrument != BRS_ALL_INSTRUMENTS && sc->orders[i].instrument != instrument)
            continue;
        int rc = sc->exec.xCancel(sc->exec.self, sc, sc->orders[i].id);
        if (rc < 0 && first == BRS_OK)
            first = rc;
    }
    return first;
}

void brs__sctx_position(const brs__sctx *sc, uint32_t instrument, brs_position *out)
{
    const brs__sctx_instr *in = &sc->instr[instrument];
    memset(out, 0, sizeof *out);
    out->instrument = instrument;
    out->qty = in->pos_qty;
    out->realized_pnl = in->realized;
    out->fees = in->fees;
    if (in->pos_qty) {
        /* 128-bit division is slow: only when the product could overflow */
        if (in->pos_cost > -INT64_MAX / 1000000 && in->pos_cost < INT64_MAX / 1000000)
            out->avg_price_x1e6 = in->pos_cost * 1000000 / in->pos_qty;
        else
            out->avg_price_x1e6 = (int64_t)((__int128)in->pos_cost * 1000000 / in->pos_qty);
        __int128 mark2 = 0; /* twice the mark price, so a half-tick mid stays exact */
        if (in->top.bid_qty > 0 && in->top.ask_qty > 0)
            mark2 = (__int128)in->top.bid_price + in->top.ask_price;
        else if (in->last_price)
            mark2 = 2 * (__int128)in->last_price;
        if (mark2)
            out->unrealized_pnl = (int64_t)(((__int128)in->pos_qty * mark2 - 2 * (__int128)in->pos_cost) / 2);
    }
}

static int h_position(brs_ctx *ctx, uint32_t instrument, brs_position *out)
{
    brs__sctx *sc = SC(ctx);
    if (instrument >= sc->n_instr || !out)
        return BRS_E_NOTFOUND;
    brs__sctx_position(sc, instrument, out);
    return BRS_OK;
}

static int h_open_orders(brs_ctx *ctx, uint32_t instrument, brs_order_info *out, uint32_t cap,
                         uint32_t *n)
{
    brs__sctx *sc = SC(ctx);
    uint32_t k = 0, total = 0;
    for (uint32_t i = 0; i < sc->n_orders; i++) {
        if (instrument != BRS_ALL_INSTRUMENTS && sc->orders[i].instrument != instrument)
            continue;
        if (k < cap && out)
            out[k++] = sc->orders[i];
        total++;
    }
    if (n)
        *n = k;
    return total > k ? BRS_E_LIMIT : BRS_OK;
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

static int h_bars(brs_ctx *ctx, uint32_t instrument, const brs_market_event **bars, uint64_t *n)
{
    brs__sctx *sc = SC(ctx);
    if (!sc->has_exec || !sc->exec.xBars)
        return BRS_E_UNSUPPORTED;
    if (instrument >= sc->n_instr || !bars || !n)
        return BRS_E_INVAL;
    return sc->exec.xBars(sc->exec.self, sc, instrument, bars, n);
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

/* ---- lifecycle ------------------------------------------------------- */

int brs__sctx_init(brs__sctx *sc, const brs_strategy_vtable *vt, const brs__sctx_opts *opts,
                   brs_error *err)
{
    memset(sc, 0, sizeof *sc);
    snprintf(sc->name, sizeof sc->name, "%s", opts && opts->name ? opts->name : "strategy");
    sc->log = opts && opts->log ? opts->log : stderr;
    if (!vt || vt->size < BRS_STRATEGY_VTABLE_MIN)
        return brs__err(err, BRS_E_SHORTVTABLE, "strategy '%s': vtable is %u bytes, the minimum is %zu",
                        sc->name, vt ? vt->size : 0, (size_t)BRS_STRATEGY_VTABLE_MIN);
    if (!vt->xOpen || !vt->xClose)
        return brs__err(err, BRS_E_BADDESC, "strategy '%s': xOpen and xClose are required", sc->name);
    sc->vt = vt;
    sc->host = (brs_host){
        .size = sizeof(brs_host), .abi_major = BRS_ABI_MAJOR, .abi_minor = BRS_ABI_MINOR,
        .xNow = h_now, .xLog = h_log, .xParamInt = h_param_int, .xParamDouble = h_param_double,
        .xParamString = h_param_string, .xInstrumentCount = h_instrument_count,
        .xInstrument = h_instrument, .xInstrumentFind = h_instrument_find, .xSubmit = h_submit,
        .xCancel = h_cancel, .xReplace = h_replace, .xCancelAll = h_cancel_all,
        .xPosition = h_position, .xOpenOrders = h_open_orders, .xTop = h_top, .xDepth = h_depth,
        .xTimerSet = h_timer_set, .xTimerCancel = h_timer_cancel, .xSetTarget = h_set_target,
        .xEmitOrderEvent = h_emit_order, .xEmitMarketEvent = h_emit_market,
        .xBars = h_bars, .xSetTargets = h_set_targets, .xPlot = h_plot};
    brs__sctx_opts o = opts ? *opts : (brs__sctx_opts){0};
    sc->log_level = o.log_level;
    sc->quiet = o.quiet;
    sc->silent_failure = o.silent_failure;
    sc->plot = o.plot;
    sc->plot_user = o.plot_user;
    sc->account = o.account;
    sc->next_order_id = o.first_order_id ? o.first_order_id : 1;
    sc->next_timer_id = 1;
    sc->max_orders = o.max_orders ? o.max_orders : 1024;
    sc->max_timers = o.max_timers ? o.max_timers : 64;
    sc->q_cap = o.event_queue ? o.event_queue : 4096;
    sc->max_chain = o.max_callbacks_per_event ? o.max_callbacks_per_event : 10000;
    sc->max_chain_instant = o.max_callbacks_per_instant ? o.max_callbacks_per_instant : 100000;
    sc->max_orders_run = o.max_orders_per_run ? o.max_orders_per_run : 1000000;
    sc->max_log_cb = o.max_log_bytes_per_callback ? o.max_log_bytes_per_callback : 65536;
    sc->max_log_run = o.max_log_bytes ? o.max_log_bytes : (uint64_t)64 << 20;
    sc->chain_now = INT64_MIN;
    if (o.exec && o.exec->xSubmit && o.exec->xCancel && o.exec->xReplace) {
        sc->exec = *o.exec;
        sc->has_exec = 1;
    }
    sc->n_instr = o.n_instruments;
    sc->instr = calloc(o.n_instruments ? o.n_instruments : 1, sizeof *sc->instr);
    sc->orders = calloc(sc->max_orders, sizeof *sc->orders);
    sc->timers = calloc(sc->max_timers, sizeof *sc->timers);
    /* rings: every slot is written before it is read, so no zeroing (a sweep
     * creates them per combination, and zeroing 65536 slots cost more than the run) */
    sc->queue = malloc((size_t)sc->q_cap * sizeof *sc->queue);
    sc->deferred = malloc((size_t)sc->q_cap * sizeof *sc->deferred);
    if (!sc->instr || !sc->orders || !sc->timers || !sc->queue || !sc->deferred)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < o.n_instruments; i++) {
        sc->instr[i].def = o.instruments[i];
        sc->instr[i].def.id = i;
        sc->instr[i].top.instrument = i;
    }
    int rc = params_init(sc, vt, o.params, o.params_where, err);
    if (rc)
        return rc;
    return BRS_OK;
}

int brs__sctx_open(brs__sctx *sc, void *self, brs_error *err)
{
    sc->self = self;
    sc->opened = 1; /* xClose runs even after a failed xOpen */
    brs_error e = {0};
    enter(sc);
    int rc = sc->vt->xOpen(self, &sc->host, brs__sctx_ctx(sc), &e);
    leave(sc, 0, CB_OPEN);
    if (rc < 0)
        return brs__err(err, rc, "strategy '%s' failed to open: %s", sc->name,
                        e.msg[0] ? e.msg : brs_strerror(rc));
    return BRS_OK;
}

void brs__sctx_attach(brs__sctx *sc, void *self)
{
    sc->self = self;
    sc->opened = 0;
}

int brs__sctx_start(brs__sctx *sc, brs_error *err)
{
    if (sc->failed)
        return brs__err(err, sc->failed, "%s", sc->error);
    sc->started = 1;
    new_event(sc);
    if (BRS_VT_HAS(sc->vt, brs_strategy_vtable, xStart)) {
        enter(sc);
        int rc = sc->vt->xStart(sc->self);
        if (leave(sc, rc, CB_START))
            return brs__err(err, sc->failed, "%s", sc->error);
    }
    return BRS_OK;
}

int brs__sctx_stop(brs__sctx *sc, brs_error *err)
{
    new_event(sc);
    if (!sc->failed && sc->started && BRS_VT_HAS(sc->vt, brs_strategy_vtable, xStop)) {
        enter(sc);
        int rc = sc->vt->xStop(sc->self);
        leave(sc, rc, CB_STOP);
    }
    sc->started = 0; /* the cancels below update its books but call it no more */
    if (sc->has_exec)
        h_cancel_all(brs__sctx_ctx(sc), BRS_ALL_INSTRUMENTS);
    if (sc->failed)
        return brs__err(err, sc->failed, "%s", sc->error);
    return BRS_OK;
}

void brs__sctx_free(brs__sctx *sc)
{
    if (sc->opened && sc->vt && sc->vt->xClose)
        sc->vt->xClose(sc->self);
    sc->opened = 0;
    free(sc->instr);
    free(sc->orders);
    free(sc->timers);
    free(sc->queue);
    free(sc->deferred);
    free(sc->params);
    sc->instr = NULL;
    sc->orders = NULL;
    sc->timers = NULL;
    sc->queue = NULL;
    sc->deferred = NULL;
    sc->params = NULL;
}

/* ---- driving --------------------------------------------------------- */

int64_t brs__sctx_next_timer(const brs__sctx *sc)
{
    int64_t best = INT64_MAX;
    for (uint32_t i = 0; i < sc->n_timers; i++)
        if (sc->timers[i].active && sc->timers[i].at < best)
            best = sc->timers[i].at;
    return best;
}

/* Missed firings of a repeating timer delivered one by one before it catches up. */
#define BRS__TIMER_MAX_CATCHUP 1000

int brs__sctx_advance_timers(brs__sctx *sc, int64_t now)
{
    new_event(sc);
    while (!sc->failed && sc->n_timers) {
        brs__sctx_timer *due = NULL;
        for (uint32_t i = 0; i < sc->n_timers; i++) {
            brs__sctx_timer *t = &sc->timers[i];
            if (t->active && t->at <= now && (!due || t->at < due->at || (t->at == due->at && t->id < due->id)))
                due = t;
        }
        if (!due)
            break;
        /* A repeating timer far behind the clock (set before the first event,
         * or across a long gap in the data) would fire once per missed interval,
         * millions of times from a clock at 0. Past BRS__TIMER_MAX_CATCHUP missed
         * intervals it fires once, at its latest due time, and goes on from there. */
        uint64_t behind = (uint64_t)now - (uint64_t)due->at; /* at <= now: no overflow */
        if (due->interval > 0 && behind / (uint64_t)due->interval > BRS__TIMER_MAX_CATCHUP)
            due->at += (int64_t)(behind / (uint64_t)due->interval * (uint64_t)due->interval);
        uint64_t id = due->id;
        int64_t at = due->at;
        if (due->interval > 0 && due->at <= INT64_MAX - due->interval)
            due->at += due->interval;
        else
            due->active = 0; /* one-shot, or the next firing is past the end of time */
        if (at > sc->now)
            sc->now = at;
        if (sc->started && BRS_VT_HAS(sc->vt, brs_strategy_vtable, xOnTimer) && chain_ok(sc)) {
            enter(sc);
            int rc = sc->vt->xOnTimer(sc->self, id, at);
            leave(sc, rc, CB_TIMER);
        }
    }
    if (now > sc->now)
        sc->now = now;
    return sc->failed;
}

/* Keep the best BRS__SCTX_DEPTH levels of one side sorted, best first. */
static void level_update(brs_level *lv, uint32_t *n, int bids, int64_t price, int64_t qty)
{
    uint32_t i = 0;
    while (i < *n && (bids ? lv[i].price > price : lv[i].price < price))
        i++;
    if (i < *n && lv[i].price == price) {
        if (qty > 0) {
            lv[i].qty = qty;
        } else {
            memmove(&lv[i], &lv[i + 1], (*n - i - 1) * sizeof *lv);
            (*n)--;
        }
        return;
    }
    if (qty <= 0 || i >= BRS__SCTX_DEPTH)
        return;
    uint32_t keep = *n < BRS__SCTX_DEPTH ? *n : BRS__SCTX_DEPTH - 1;
    memmove(&lv[i + 1], &lv[i], (keep - i) * sizeof *lv);
    lv[i] = (brs_level){.price = price, .qty = qty};
    *n = keep + 1;
}

static void top_from_depth(brs__sctx_instr *in, int64_t ts)
{
    in->top.ts = ts;
    in->top.bid_price = in->n_bids ? in->bids[0].price : 0;
    in->top.bid_qty = in->n_bids ? in->bids[0].qty : 0;
    in->top.ask_price = in->n_asks ? in->asks[0].price : 0;
    in->top.ask_qty = in->n_asks ? in->asks[0].qty : 0;
}

void brs__sctx_set_depth(brs__sctx *sc, uint32_t instrument, uint8_t side, const brs_level *levels,
                         uint32_t n)
{
    if (instrument >= sc->n_instr)
        return;
    brs__sctx_instr *in = &sc->instr[instrument];
    if (n > BRS__SCTX_DEPTH)
        n = BRS__SCTX_DEPTH;
    if (side == BRS_BUY) {
        memcpy(in->bids, levels, n * sizeof *levels);
        in->n_bids = n;
    } else {
        memcpy(in->asks, levels, n * sizeof *levels);
        in->n_asks = n;
    }
    top_from_depth(in, sc->now);
}

/* A strategy gets a kind of event when it has the callback and either
 * subscribed to it or left subscriptions at 0 ("whatever I have callbacks for"). */
#define WANTS(sc, bit, member)                                                    \
    ((!(sc)->vt->subscriptions || ((sc)->vt->subscriptions & (bit))) &&           \
     BRS_VT_HAS((sc)->vt, brs_strategy_vtable, member))

int brs__sctx_call_bar(brs__sctx *sc, const brs_market_event *bar)
{
    if (BRS__UNLIKELY(bar->instrument >= sc->n_instr))
        return BRS_E_INVAL;
    new_event(sc);
    if (bar->ts_local > sc->now)
        sc->now = bar->ts_local;
    sc->instr[bar->instrument].last_price = bar->bar.close;
    if (BRS__UNLIKELY(sc->failed || !sc->started || !sc->vt->xOnBar))
        return sc->failed;
    sc->n_callbacks++;
    enter(sc);
    int rc = sc->vt->xOnBar(sc->self, bar);
    return leave(sc, rc, CB_BAR);
}

int brs__sctx_on_market(brs__sctx *sc, const brs_market_event *ev)
{
    if (BRS__UNLIKELY(ev->instrument >= sc->n_instr))
        return BRS_E_INVAL;
    new_event(sc);
    int64_t ts = ev->ts_local ? ev->ts_local : ev->ts_exchange;
    if (ts > sc->now)
        sc->now = ts;
    brs__sctx_instr *in = &sc->instr[ev->instrument];
    int top_changed = 0;
    switch (ev->kind) {
    case BRS_MEV_QUOTE:
        in->top.ts = ts;
        in->top.bid_price = ev->quote.bid_price;
        in->top.bid_qty = ev->quote.bid_qty;
        in->top.ask_price = ev->quote.ask_price;
        in->top.ask_qty = ev->quote.ask_qty;
        top_changed = 1;
        break;
    case BRS_MEV_TRADE: in->last_price = ev->price; break;
    case BRS_MEV_BAR: in->last_price = ev->bar.close; break;
    case BRS_MEV_LEVEL_SET:
    case BRS_MEV_LEVEL_DELETE: {
        brs_top before = in->top;
        int64_t q = ev->kind == BRS_MEV_LEVEL_SET ? ev->qty : 0;
        if (ev->side == BRS_BUY)
            level_update(in->bids, &in->n_bids, 1, ev->price, q);
        else
            level_update(in->asks, &in->n_asks, 0, ev->price, q);
        top_from_depth(in, ts);
        top_changed = before.bid_price != in->top.bid_price || before.bid_qty != in->top.bid_qty ||
                      before.ask_price != in->top.ask_price || before.ask_qty != in->top.ask_qty;
        break;
    }
    default: break;
    }
    if (sc->has_exec && sc->exec.xOnMarket) {
        enter(sc); /* fills the backend finds queue up, delivered before the market callback */
        sc->exec.xOnMarket(sc->exec.self, sc, ev);
        leave(sc, 0, CB_MARKET);
    }
    if (BRS__UNLIKELY(sc->failed || !sc->started))
        return sc->failed;
    int rc;
    switch (ev->kind) {
    case BRS_MEV_BAR:
        if (WANTS(sc, BRS_SUB_BARS, xOnBar)) {
            sc->n_callbacks++;
            enter(sc);
            rc = sc->vt->xOnBar(sc->self, ev);
            if (leave(sc, rc, CB_BAR))
                return sc->failed;
        }
        break;
    case BRS_MEV_TRADE:
        if (WANTS(sc, BRS_SUB_TRADES, xOnTrade)) {
            sc->n_callbacks++;
            enter(sc);
            rc = sc->vt->xOnTrade(sc->self, ev);
            if (leave(sc, rc, CB_TRADE))
                return sc->failed;
        }
        break;
    default: break;
    }
    if (top_changed && WANTS(sc, BRS_SUB_TOP, xOnTop)) {
        sc->n_callbacks++;
        enter(sc);
        rc = sc->vt->xOnTop(sc->self, &in->top);
        if (leave(sc, rc, CB_TOP))
            return sc->failed;
    }
    if ((ev->kind == BRS_MEV_LEVEL_SET || ev->kind == BRS_MEV_LEVEL_DELETE) &&
        (ev->flags & BRS_MEVF_LAST) && WANTS(sc, BRS_SUB_DEPTH, xOnDepth)) {
        sc->n_callbacks++;
        enter(sc);
        rc = sc->vt->xOnDepth(sc->self, ev->instrument);
        if (leave(sc, rc, CB_DEPTH))
            return sc->failed;
    }
    if (WANTS(sc, BRS_SUB_L3, xOnMarket)) {
        sc->n_callbacks++;
        enter(sc);
        rc = sc->vt->xOnMarket(sc->self, ev);
        if (leave(sc, rc, CB_MARKET))
            return sc->failed;
    }
    return BRS_OK;
}

int brs__sctx_bars_quiet(const brs__sctx *sc)
{
    if (sc->failed || !sc->started || (sc->has_exec && sc->exec.xOnMarket) ||
        WANTS(sc, BRS_SUB_BARS, xOnBar) || WANTS(sc, BRS_SUB_L3, xOnMarket))
        return 0;
    for (uint32_t i = 0; i < sc->n_timers; i++)
        if (sc->timers[i].active)
            return 0;
    return 1;
}

void brs__sctx_skip_bars(brs__sctx *sc, uint32_t instrument, int64_t now, int64_t last_price)
{
    if (now > sc->now)
        sc->now = now;
    sc->instr[instrument].last_price = last_price;
}

int brs__sctx_reload(brs__sctx *sc)
{
    if (sc->failed || !BRS_VT_HAS(sc->vt, brs_strategy_vtable, xReload))
        return sc->failed;
    new_event(sc);
    enter(sc);
    int rc = sc->vt->xReload(sc->self);
    return leave(sc, rc, CB_RELOAD);
}
