/* runtime.c: the strategy context's core: lifecycle, the guard around every
 * callback (queued order events delivered after it, failures, the metrics
 * countdown) and the dispatch of events into the vtable. A failing callback
 * stops the strategy cleanly: its orders are cancelled and nothing calls it
 * again. Orders are in runtime_orders.c, the other services in runtime_host.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bourse/version.h>

#include "ops/metrics.h"
#include "runtime_internal.h"

/* Metrics (sc->meter): one callback in `every` is timed, the one that
 * brings sc->tick (which every callback adds 1 to, on or off) to 0, so they
 * cost no instruction per callback beyond what off costs; nothing else is
 * counted per callback (callbacks run = `every` per finished countdown plus
 * where the running one is: brs__sctx_meter_callbacks). Each countdown moves
 * the origin of tick (meter_due) on, so meter_due + tick is the count since
 * the start. Off, the next one is 2^62 callbacks ahead: not reached. */
static void meter_rebase(brs__sctx *sc, uint64_t ahead)
{
    uint64_t now = brs__sctx_ticks(sc);
    sc->meter_due = now + ahead;
    sc->tick = -(int64_t)ahead;
}

void brs__sctx_meter_start(brs__sctx *sc)
{
    if (!sc->meter) {
        meter_rebase(sc, BRS__SCTX_METER_OFF);
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
    meter_rebase(sc, m->every);
    m->tick(m->ud, t);
}

void brs__sctx_set_meter(brs__sctx *sc, brs__sctx_meter *m)
{
    sc->meter = m;
    sc->meter_timing = 0;
    meter_rebase(sc, m ? m->every : BRS__SCTX_METER_OFF);
}

uint64_t brs__sctx_meter_callbacks(const brs__sctx *sc)
{
    const brs__sctx_meter *m = sc->meter;
    return m ? m->done + m->every + (uint64_t)sc->tick : 0; /* -tick: callbacks to the timed one */
}

/* After a callback: its failure names the error it logged (once); an error it
 * logged and carried on from is printed now. */
void brs__sctx_after_callback(brs__sctx *sc, int rc, const char *cb)
{
    if (BRS__UNLIKELY(sc->meter_timing))
        meter_timed(sc);
    sc->in_callback = 0;
    int pending = sc->error_pending;
    sc->error_pending = 0;
    brs__sctx_log_fresh(sc); /* nothing logged in this callback: no error line */
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
int brs__sctx_chain_ok(brs__sctx *sc)
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

static const char *const cb_names[] = {"xOpen",    "xStart",   "xStop",  "xOnTop",
                                       "xOnTrade", "xOnDepth", "xOnBar", "xOnMarket",
                                       "xOnOrder", "xOnTimer", "xReload"};
enum { CB_OPEN, CB_START, CB_STOP, CB_TOP, CB_TRADE, CB_DEPTH, CB_BAR, CB_MARKET, CB_ORDER, CB_TIMER, CB_RELOAD };

static int leave(brs__sctx *sc, int rc, int which)
{
    if (BRS__UNLIKELY(rc < 0 || sc->error_pending))
        brs__sctx_after_callback(sc, rc, cb_names[which]);
    else {
        if (BRS__UNLIKELY(sc->meter_timing))
            meter_timed(sc);
        sc->in_callback = 0;
    }
    if (sc->q_len)
        brs__sctx_drain(sc);
    return sc->failed;
}

void brs__sctx_fail(brs__sctx *sc, int code, const char *fmt, ...)
{
    if (sc->failed)
        return;
    sc->failed = code < 0 ? code : BRS_E_SCRIPT;
    brs__sctx_regate(sc); /* the inline dispatch stops */
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

/* ---- lifecycle ------------------------------------------------------- */

int brs__sctx_init(brs__sctx *sc, const brs_strategy_vtable *vt, const brs__sctx_opts *opts,
                   brs_error *err)
{
    memset(sc, 0, sizeof *sc);
    meter_rebase(sc, BRS__SCTX_METER_OFF); /* metrics off */
    brs__sctx_regate(sc);                   /* not started: no inline dispatch */
    snprintf(sc->name, sizeof sc->name, "%s", opts && opts->name ? opts->name : "strategy");
    sc->log = opts && opts->log ? opts->log : stderr;
    if (!vt || vt->size < BRS_STRATEGY_VTABLE_MIN)
        return brs__err(err, BRS_E_SHORTVTABLE, "strategy '%s': vtable is %u bytes, the minimum is %zu",
                        sc->name, vt ? vt->size : 0, (size_t)BRS_STRATEGY_VTABLE_MIN);
    if (!vt->xOpen || !vt->xClose)
        return brs__err(err, BRS_E_BADDESC, "strategy '%s': xOpen and xClose are required", sc->name);
    sc->vt = vt;
    sc->on_bar = vt->xOnBar;
    sc->host = (brs_host){.size = sizeof(brs_host), .abi_major = BRS_ABI_MAJOR,
                          .abi_minor = BRS_ABI_MINOR};
    brs__sctx_host_services(&sc->host);
    brs__sctx_host_orders(&sc->host);
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
    sc->last_price = calloc(o.n_instruments ? o.n_instruments : 1, sizeof *sc->last_price);
    sc->orders = calloc(sc->max_orders, sizeof *sc->orders);
    sc->timers = calloc(sc->max_timers, sizeof *sc->timers);
    /* rings: every slot is written before it is read, so no zeroing (a sweep
     * creates them per combination, and zeroing 65536 slots cost more than the run) */
    sc->queue = malloc((size_t)sc->q_cap * sizeof *sc->queue);
    sc->deferred = malloc((size_t)sc->q_cap * sizeof *sc->deferred);
    if (!sc->instr || !sc->last_price || !sc->orders || !sc->timers || !sc->queue || !sc->deferred)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < o.n_instruments; i++) {
        sc->instr[i].def = o.instruments[i];
        sc->instr[i].def.id = i;
        sc->instr[i].top.instrument = i;
    }
    int rc = brs__sctx_params_init(sc, vt, o.params, o.params_where, err);
    if (rc)
        return rc;
    return BRS_OK;
}

int brs__sctx_open(brs__sctx *sc, void *self, brs_error *err)
{
    sc->self = self;
    sc->opened = 1; /* xClose runs even after a failed xOpen */
    brs_error e = {0};
    brs__sctx_enter(sc);
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
    brs__sctx_regate(sc);
    brs__sctx_new_event(sc);
    if (BRS_VT_HAS(sc->vt, brs_strategy_vtable, xStart)) {
        brs__sctx_enter(sc);
        int rc = sc->vt->xStart(sc->self);
        if (leave(sc, rc, CB_START))
            return brs__err(err, sc->failed, "%s", sc->error);
    }
    return BRS_OK;
}

int brs__sctx_stop(brs__sctx *sc, brs_error *err)
{
    brs__sctx_new_event(sc);
    if (!sc->failed && sc->started && BRS_VT_HAS(sc->vt, brs_strategy_vtable, xStop)) {
        brs__sctx_enter(sc);
        int rc = sc->vt->xStop(sc->self);
        leave(sc, rc, CB_STOP);
    }
    sc->started = 0; /* the cancels below update its books but call it no more */
    brs__sctx_regate(sc);
    if (sc->has_exec)
        brs__sctx_cancel_all(sc, BRS_ALL_INSTRUMENTS);
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
    free(sc->last_price);
    free(sc->orders);
    free(sc->timers);
    free(sc->queue);
    free(sc->deferred);
    free(sc->params);
    sc->instr = NULL;
    sc->last_price = NULL;
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
    brs__sctx_new_event(sc);
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
        if (sc->started && BRS_VT_HAS(sc->vt, brs_strategy_vtable, xOnTimer) && brs__sctx_chain_ok(sc)) {
            brs__sctx_enter(sc);
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

/* brs__sctx_call_bar (runtime.h) when its inline path does not apply. */
int brs__sctx_call_bar_slow(brs__sctx *sc, const brs_market_event *bar)
{
    if (BRS__UNLIKELY(bar->instrument >= sc->n_instr))
        return BRS_E_INVAL;
    brs__sctx_new_event(sc);
    if (bar->ts_local > sc->now)
        sc->now = bar->ts_local;
    sc->last_price[bar->instrument] = bar->bar.close;
    if (BRS__UNLIKELY(sc->failed || !sc->started || !sc->on_bar))
        return sc->failed;
    brs__sctx_enter_market(sc);
    int rc = sc->vt->xOnBar(sc->self, bar);
    return leave(sc, rc, CB_BAR);
}

/* The inline brs__sctx_call_bar's callback failed, logged an error or queued
 * order events: the guard's way out. The bar is a new event, so the per-event
 * callback bound starts again here (the inline path left chain as it was:
 * nothing counted it since). */
int brs__sctx_call_bar_after(brs__sctx *sc, int rc)
{
    sc->chain = 0;
    return leave(sc, rc, CB_BAR);
}

int brs__sctx_on_market(brs__sctx *sc, const brs_market_event *ev)
{
    if (BRS__UNLIKELY(ev->instrument >= sc->n_instr))
        return BRS_E_INVAL;
    brs__sctx_new_event(sc);
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
    case BRS_MEV_TRADE: sc->last_price[ev->instrument] = ev->price; break;
    case BRS_MEV_BAR: sc->last_price[ev->instrument] = ev->bar.close; break;
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
        brs__sctx_enter(sc); /* fills the backend finds queue up, delivered before the market callback */
        sc->exec.xOnMarket(sc->exec.self, sc, ev);
        leave(sc, 0, CB_MARKET);
    }
    if (BRS__UNLIKELY(sc->failed || !sc->started))
        return sc->failed;
    int rc;
    switch (ev->kind) {
    case BRS_MEV_BAR:
        if (WANTS(sc, BRS_SUB_BARS, xOnBar)) {
            brs__sctx_enter_market(sc);
            rc = sc->vt->xOnBar(sc->self, ev);
            if (leave(sc, rc, CB_BAR))
                return sc->failed;
        }
        break;
    case BRS_MEV_TRADE:
        if (WANTS(sc, BRS_SUB_TRADES, xOnTrade)) {
            brs__sctx_enter_market(sc);
            rc = sc->vt->xOnTrade(sc->self, ev);
            if (leave(sc, rc, CB_TRADE))
                return sc->failed;
        }
        break;
    default: break;
    }
    if (top_changed && WANTS(sc, BRS_SUB_TOP, xOnTop)) {
        brs__sctx_enter_market(sc);
        rc = sc->vt->xOnTop(sc->self, &in->top);
        if (leave(sc, rc, CB_TOP))
            return sc->failed;
    }
    if ((ev->kind == BRS_MEV_LEVEL_SET || ev->kind == BRS_MEV_LEVEL_DELETE) &&
        (ev->flags & BRS_MEVF_LAST) && WANTS(sc, BRS_SUB_DEPTH, xOnDepth)) {
        brs__sctx_enter_market(sc);
        rc = sc->vt->xOnDepth(sc->self, ev->instrument);
        if (leave(sc, rc, CB_DEPTH))
            return sc->failed;
    }
    if (WANTS(sc, BRS_SUB_L3, xOnMarket)) {
        brs__sctx_enter_market(sc);
        rc = sc->vt->xOnMarket(sc->self, ev);
        if (leave(sc, rc, CB_MARKET))
            return sc->failed;
    }
    return BRS_OK;
}

/* brs__sctx_call_top (runtime.h) when its inline path does not apply. */
int brs__sctx_call_top_slow(brs__sctx *sc, uint32_t instrument, int64_t ts_exchange, int64_t ts_local,
                            uint16_t flags, const brs_top *top)
{
    brs_market_event q = {.ts_exchange = ts_exchange, .ts_local = ts_local, .kind = BRS_MEV_QUOTE,
                          .instrument = instrument, .flags = flags};
    q.quote.bid_price = top->bid_price;
    q.quote.bid_qty = top->bid_qty;
    q.quote.ask_price = top->ask_price;
    q.quote.ask_qty = top->ask_qty;
    return brs__sctx_on_market(sc, &q);
}

/* The inline brs__sctx_call_top's callback failed, logged an error or queued
 * order events: the guard's way out. */
int brs__sctx_call_top_after(brs__sctx *sc, int rc) { return leave(sc, rc, CB_TOP); }

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
    sc->last_price[instrument] = last_price;
}

int brs__sctx_reload(brs__sctx *sc)
{
    if (sc->failed || !BRS_VT_HAS(sc->vt, brs_strategy_vtable, xReload))
        return sc->failed;
    brs__sctx_new_event(sc);
    brs__sctx_enter(sc);
    int rc = sc->vt->xReload(sc->self);
    return leave(sc, rc, CB_RELOAD);
}
