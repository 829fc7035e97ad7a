/* sim.c: the simulated exchange as a venue plugin. It wraps the matching engine
 * (bourse_book) and keeps the exchange's own book from replayed market data next
 * to our orders, so our resting orders queue behind what was there first and
 * advance only as that quantity trades or cancels: exactly with L3 data, through
 * the queue model of queue.c with L2 data (docs/router.md, "The simulated
 * venue"; docs/backtesting.md, "Queue position"). Per instance, through host parameters: fees, tick, lot and
 * minimum sizes, a rate limit, fault injection (reject rate, down at T for D,
 * lost acknowledgements) and a price offset / liquidity scale so several venues
 * can replay one file. Latencies are the host event loop's job, not this file's. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bourse/bourse.h>

#include "sim_internal.h"

/* ---- our orders: a small open-addressing map ---------------------------- */

/* The host numbers orders in sequence: runs of 8 consecutive ids share a
 * hashed place and lie side by side in it (320 bytes), so orders entered one
 * after the other touch the table's memory in sequence, not at 8 random
 * places (a restart resting 2M orders spent a fifth of its time on this
 * table's random first touches), while runs still spread over the table. */
static uint32_t hslot(const sim *s, uint64_t id)
{
    uint64_t h = ((id >> 3) * 0x9e3779b97f4a7c15ull) >> 32;
    return (uint32_t)(((h << 3) | (id & 7)) & (s->cap - 1));
}

ord *sim__find(sim *s, uint64_t id)
{
    for (uint32_t i = hslot(s, id);; i = (i + 1) & (s->cap - 1)) {
        if (s->orders[i].id == id)
            return &s->orders[i];
        if (!s->orders[i].id)
            return NULL;
    }
}

/* Twice the table, every live order moved over (rare: the table doubles).
 * A big table goes in transparent huge pages where the system allows
 * (madvise mode): its slots are reached at random, so 4 KB pages cost a
 * fault each on first touch and a TLB miss on most lookups (a restart
 * resting 2M orders spent a third of its time here). */
static int grow_orders(sim *s)
{
    uint32_t oc = s->cap;
    size_t bytes = (size_t)oc * 2 * sizeof(ord);
    ord *old = s->orders, *t = calloc((size_t)oc * 2, sizeof *t);
    if (!t)
        return -1;
    uintptr_t a = ((uintptr_t)t + 4095) & ~(uintptr_t)4095, z = ((uintptr_t)t + bytes) & ~(uintptr_t)4095;
    if (bytes >= ((size_t)4 << 20) && z > a)
        madvise((void *)a, z - a, MADV_HUGEPAGE);
    s->orders = t;
    s->cap = oc * 2;
    for (uint32_t k = 0; k < oc; k++)
        if (old[k].id) {
            uint32_t i = hslot(s, old[k].id);
            while (t[i].id)
                i = (i + 1) & (s->cap - 1);
            t[i] = old[k];
        }
    free(old);
    return 0;
}

ord *sim__add(sim *s, uint64_t id)
{
    /* our live orders: up to max_orders (the engine's capacity), the table
     * kept at most half full */
    if (s->n_ours + 1 > s->cap / 2 &&
        ((uint64_t)s->n_ours + 1 > s->max_ours || s->cap >= (1u << 30) || grow_orders(s)))
        return NULL;
    uint32_t i = hslot(s, id);
    while (s->orders[i].id)
        i = (i + 1) & (s->cap - 1);
    s->n_ours++;
    s->ext_dirty = 1;
    memset(&s->orders[i], 0, sizeof s->orders[i]);
    s->orders[i].id = id;
    return &s->orders[i];
}

void sim__del(sim *s, ord *o)
{
    /* backward-shift deletion keeps probe chains intact without tombstones */
    uint32_t i = (uint32_t)(o - s->orders), j = i;
    s->orders[i].id = 0;
    s->n_ours--;
    s->ext_dirty = 1;
    for (;;) {
        j = (j + 1) & (s->cap - 1);
        if (!s->orders[j].id)
            return;
        uint32_t k = hslot(s, s->orders[j].id);
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            s->orders[i] = s->orders[j];
            s->orders[j].id = 0;
            i = j;
        }
    }
}

/* ---- helpers -------------------------------------------------------------- */


static uint64_t next_rand(sim *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(sim *s)
{
    return (double)(next_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int64_t fee_of(int64_t price, int64_t qty, int64_t ppm)
{
    __int128 n = (__int128)price * qty * ppm;
    __int128 q = n / 1000000, r = n % 1000000;
    if (r * 2 >= 1000000)
        q++;
    else if (r * 2 <= -1000000)
        q--;
    return (int64_t)q;
}

static int64_t now_of(sim *s)
{
    return s->host->xNow(s->ctx);
}

static void emit(sim *s, int kind, uint64_t id, int side, int reason, int64_t price, int64_t qty,
                 int64_t leaves, int64_t cum, int64_t fee, int liq, uint32_t inst)
{
    brs_order_event ev = {0};
    ev.kind = (uint8_t)kind;
    ev.side = (uint8_t)side;
    ev.liquidity = (uint8_t)liq;
    ev.reason = reason;
    ev.instrument = inst;
    ev.venue = s->venue;
    ev.order_id = id;
    ev.ts = now_of(s);
    ev.price = price;
    ev.qty = qty;
    ev.leaves = leaves;
    ev.cum_qty = cum;
    ev.fee = fee;
    s->host->xEmitOrderEvent(s->ctx, &ev);
}

/* ---- engine listener: our orders become order events --------------------- */

static void l_accepted(void *u, const brs_order *o, int64_t price)
{
    sim *s = u;
    if (!IS_OURS(o->account))
        return;
    ord *x = sim__find(s, o->id);
    if (x) {
        x->price = price;
        s->ext_dirty = 1;
    }
    if (s->lost_ack_rate > 0 && uniform(s) < s->lost_ack_rate)
        return; /* fault injection: the acknowledgement is lost, the order lives */
    emit(s, BRS_OEV_ACCEPTED, o->id, o->side, 0, price, o->qty, o->qty, 0, 0, BRS_LIQ_NONE,
         o->instrument);
}

static void l_rejected(void *u, uint32_t inst, uint64_t id, int reason)
{
    sim *s = u;
    if (id >= OURS_MAX)
        return;
    ord *x = sim__find(s, id);
    emit(s, BRS_OEV_REJECTED, id, x ? x->side : 0, reason, 0, 0, 0, x ? x->cum : 0, 0,
         BRS_LIQ_NONE, inst == BRS_BOOK_NO_INSTRUMENT ? 0 : inst);
}

static void l_fill(void *u, const brs_book_fill *f)
{
    sim *s = u;
    if (f->maker_id == s->exec_id)
        s->exec_got += f->qty;
    if (f->taker_id == AGG_ID)
        s->agg_got += f->qty;
    for (int taker = 0; taker < 2; taker++) {
        uint64_t id = taker ? f->taker_id : f->maker_id;
        if (!IS_OURS(taker ? f->taker_account : f->maker_account))
            continue;
        ord *x = sim__find(s, id);
        if (!x)
            continue;
        x->cum += f->qty;
        int64_t leaves = taker ? f->taker_leaves : f->maker_leaves;
        int side = taker ? f->taker_side : !f->taker_side;
        emit(s, BRS_OEV_FILL, id, side, 0, f->price, f->qty, leaves, x->cum,
             fee_of(f->price, f->qty, taker ? s->taker_ppm : s->maker_ppm),
             taker ? BRS_LIQ_TAKER : BRS_LIQ_MAKER, f->instrument);
        if (leaves == 0)
            sim__del(s, x);
    }
}

static void l_cancelled(void *u, uint32_t inst, uint64_t id, int64_t qty, int reason)
{
    sim *s = u;
    if (id >= OURS_MAX)
        return;
    ord *x = sim__find(s, id);
    if (!x)
        return;
    emit(s, BRS_OEV_CANCELLED, id, x->side, s->going_down ? BRS_E_HALTED : reason, x->price, qty,
         0, x->cum, 0, BRS_LIQ_NONE, inst);
    sim__del(s, x);
}

static void l_replaced(void *u, uint32_t inst, uint64_t id, int64_t price, int64_t qty,
                       int64_t leaves)
{
    sim *s = u;
    ord *x = id < OURS_MAX ? sim__find(s, id) : NULL;
    if (!x)
        return;
    if (x->price != price)
        x->carry = 0; /* a new level, a new queue */
    x->price = price;
    s->ext_dirty = 1;
    emit(s, BRS_OEV_REPLACED, id, x->side, 0, price, qty, leaves, x->cum, 0, BRS_LIQ_NONE, inst);
}

/* ---- parameters ----------------------------------------------------------- */

static int p_int(sim *s, const char *name, int64_t def, int64_t lo, int64_t hi, int64_t *out,
                 brs_error *err)
{
    int rc = s->host->xParamInt(s->ctx, name, out);
    if (rc == BRS_E_NOTFOUND) {
        *out = def;
        return BRS_OK;
    }
    if (rc != BRS_OK || *out < lo || *out > hi) {
        if (err) {
            err->code = BRS_E_INVAL;
            snprintf(err->msg, sizeof err->msg, "sim: parameter %s must be an integer in %lld..%lld",
                     name, (long long)lo, (long long)hi);
        }
        return BRS_E_INVAL;
    }
    return BRS_OK;
}

static int p_dbl(sim *s, const char *name, double def, double lo, double hi, double *out,
                 brs_error *err)
{
    int rc = s->host->xParamDouble(s->ctx, name, out);
    if (rc == BRS_E_NOTFOUND) {
        *out = def;
        return BRS_OK;
    }
    if (rc != BRS_OK || !(*out >= lo && *out <= hi)) {
        if (err) {
            err->code = BRS_E_INVAL;
            snprintf(err->msg, sizeof err->msg, "sim: parameter %s must be a number in %g..%g",
                     name, lo, hi);
        }
        return BRS_E_INVAL;
    }
    return BRS_OK;
}

static int p_model(sim *s, brs_error *err)
{
    const char *name = NULL;
    int rc = s->host->xParamString ? s->host->xParamString(s->ctx, "queue_model", &name)
                                   : BRS_E_NOTFOUND;
    s->queue_model = rc == BRS_E_NOTFOUND ? SIMQ_PROB : rc == BRS_OK ? simq_parse(name) : -1;
    if (s->queue_model >= 0)
        return BRS_OK;
    if (err) {
        err->code = BRS_E_INVAL;
        snprintf(err->msg, sizeof err->msg,
                 "sim: parameter queue_model must be \"risk_averse\", \"prob\" or \"optimistic\"%s%.60s%s",
                 rc == BRS_OK ? " (got \"" : " (got a non-string)", rc == BRS_OK ? name : "",
                 rc == BRS_OK ? "\")" : "");
    }
    return BRS_E_INVAL;
}

static int sim_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    sim *s = self;
    s->host = host;
    s->ctx = ctx;
    int64_t venue, seed, max_orders;
    double maker, taker;
    int rc;
    if ((rc = p_int(s, "venue_index", 0, 0, 1 << 20, &venue, err)) ||
        (rc = p_dbl(s, "maker_fee_bps", 0, -100, 100, &maker, err)) ||
        (rc = p_dbl(s, "taker_fee_bps", 0, -100, 100, &taker, err)) ||
        (rc = p_int(s, "tick_size", 1, 1, INT64_C(1) << 40, &s->tick, err)) ||
        (rc = p_int(s, "lot_size", 1, 1, INT64_C(1) << 40, &s->lot, err)) ||
        (rc = p_int(s, "min_qty", 0, 0, INT64_C(1) << 40, &s->min_qty, err)) ||
        (rc = p_int(s, "rate_limit_per_sec", 0, 0, 1000000000, &s->rate_per_sec, err)) ||
        (rc = p_int(s, "rate_burst", 0, 0, 1000000000, &s->rate_burst, err)) ||
        (rc = p_dbl(s, "reject_rate", 0, 0, 1, &s->reject_rate, err)) ||
        (rc = p_dbl(s, "lost_ack_rate", 0, 0, 1, &s->lost_ack_rate, err)) ||
        (rc = p_int(s, "seed", 1, INT64_MIN, INT64_MAX, &seed, err)) ||
        (rc = p_int(s, "down_at", 0, 0, INT64_MAX, &s->down_at, err)) ||
        (rc = p_int(s, "down_for", 0, 0, INT64_MAX, &s->down_for, err)) ||
        (rc = p_int(s, "price_offset", 0, -(INT64_C(1) << 40), INT64_C(1) << 40, &s->price_offset, err)) ||
        (rc = p_dbl(s, "liquidity_scale", 1, 1e-6, 1e6, &s->liq_scale, err)) ||
        (rc = p_int(s, "max_orders", 1 << 20, 1024, 1 << 28, &max_orders, err)) ||
        (rc = p_model(s, err)) ||
        (rc = p_dbl(s, "queue_power", 2, 0.01, 100, &s->queue_power, err)))
        return rc;
    s->next_l2 = 1;
    s->venue = (uint32_t)venue;
    s->maker_ppm = llround(maker * 100);
    s->taker_ppm = llround(taker * 100);
    s->rng = (uint64_t)seed;
    if (s->rate_per_sec && !s->rate_burst)
        s->rate_burst = s->rate_per_sec;
    s->tokens_e9 = s->rate_burst * 1000000000LL;
    s->last_refill = INT64_MIN;
    s->cap = 4096;
    s->max_ours = (uint64_t)max_orders;
    s->orders = calloc(s->cap, sizeof *s->orders);
    s->ext_dirty = 1;
    uint32_t ninst = host->xInstrumentCount(ctx);
    brs_engine_config ec = {.max_orders = (uint32_t)max_orders,
                            .max_instruments = ninst ? ninst : 1};
    brs_book_listener l = {.user = s, .xAccepted = l_accepted, .xRejected = l_rejected,
                           .xFill = l_fill, .xCancelled = l_cancelled, .xReplaced = l_replaced};
    s->pend = calloc(NPEND, sizeof *s->pend);
    if (!s->orders || !s->pend || sim__grow_queue(s, 64) ||
        (s->liq_scale != 1.0 && simx_init(&s->xs, s->liq_scale) != 0))
        return err ? (err->code = BRS_E_NOMEM, snprintf(err->msg, sizeof err->msg, "sim: out of memory"), BRS_E_NOMEM) : BRS_E_NOMEM;
    return brs__engine_create(&s->e, &ec, &l, err);
}

static void sim_close(void *self)
{
    sim *s = self;
    brs__engine_destroy(s->e);
    free(s->orders);
    free(s->qbuf);
    free(s->qahead);
    free(s->qx);
    free(s->qcarry);
    free(s->pend);
    simx_free(&s->xs);
    free(s->snap_seen);
    free(s->dbuf);
}

/* Down between down_at and down_at + down_for: on the way down every order of
 * ours is cancelled (cancel-on-disconnect) with BRS_E_HALTED and a STATUS HALT
 * event tells the host; STATUS RESUME when it is back. */
void sim__check_down_at(sim *s, int64_t now)
{
    int want = s->down_for > 0 && now >= s->down_at && now - s->down_at < s->down_for;
    if (want == s->down)
        return;
    if (want) {
        s->going_down = 1;
        for (uint32_t i = 0; i < s->cap; i++)
            if (s->orders[i].id) {
                brs__engine_cancel(s->e, s->orders[i].id); /* may shift the table: rescan */
                i = (uint32_t)-1;
            }
        s->going_down = 0;
    }
    s->down = want;
    brs_market_event ev = {0};
    ev.ts_exchange = ev.ts_local = now;
    ev.kind = BRS_MEV_STATUS;
    ev.instrument = BRS_ALL_INSTRUMENTS;
    ev.aux = want ? BRS_STATUS_HALT : BRS_STATUS_RESUME;
    s->host->xEmitMarketEvent(s->ctx, &ev);
}

static int refuse(sim *s, const brs_order *o, int code)
{
    emit(s, BRS_OEV_REJECTED, o->id, o->side, code, o->price, o->qty, 0, 0, 0, BRS_LIQ_NONE,
         o->instrument);
    return code;
}

static int take_token(sim *s, int64_t now)
{
    if (!s->rate_per_sec)
        return 1;
    int64_t cap = s->rate_burst * 1000000000LL;
    if (s->last_refill != INT64_MIN && now > s->last_refill) {
        __int128 t = (__int128)s->tokens_e9 + (__int128)(now - s->last_refill) * s->rate_per_sec;
        s->tokens_e9 = t > cap ? cap : (int64_t)t;
    }
    s->last_refill = now;
    if (s->tokens_e9 < 1000000000LL)
        return 0;
    s->tokens_e9 -= 1000000000LL;
    return 1;
}

static int sim_submit(void *self, const brs_order *o)
{
    sim *s = self;
    int64_t now = now_of(s);
    sim__check_down(s, now);
    if (s->down)
        return refuse(s, o, BRS_E_HALTED);
    if (o->id == 0 || o->id >= OURS_MAX || sim__find(s, o->id))
        return refuse(s, o, o->id && o->id < OURS_MAX ? BRS_E_EXISTS : BRS_E_INVAL);
    if (o->qty <= 0 || o->qty % s->lot || o->qty < s->min_qty ||
        (o->type == BRS_LIMIT && o->price % s->tick))
        return refuse(s, o, BRS_E_INVAL);
    if (!take_token(s, now))
        return refuse(s, o, BRS_E_LIMIT);
    if (s->reject_rate > 0 && uniform(s) < s->reject_rate)
        return refuse(s, o, BRS_E_REJECTED);
    ord *x = sim__add(s, o->id);
    if (!x)
        return refuse(s, o, BRS_E_LIMIT);
    x->side = o->side;
    x->price = o->price;
    brs_order e = *o;
    e.account = o->account < UINT32_MAX - ACCT_OURS_BASE ? o->account + ACCT_OURS_BASE : UINT32_MAX;
    brs__engine_set_time(s->e, now);
    int rc = brs__engine_submit(s->e, &e);
    if (rc != BRS_OK) {
        ord *y = sim__find(s, o->id); /* the engine reported the reject already */
        if (y)
            sim__del(s, y);
        return rc;
    }
    /* an order that traded or was cancelled in full is gone from the map already */
    return BRS_OK;
}

static int sim_cancel(void *self, uint64_t id)
{
    sim *s = self;
    sim__check_down(s, now_of(s));
    if (s->down || id >= OURS_MAX) {
        emit(s, BRS_OEV_REJECTED, id, 0, s->down ? BRS_E_HALTED : BRS_E_UNKNOWNORDER, 0, 0, 0, 0,
             0, BRS_LIQ_NONE, 0);
        return s->down ? BRS_E_HALTED : BRS_E_UNKNOWNORDER;
    }
    return brs__engine_cancel(s->e, id);
}

static int sim_replace(void *self, uint64_t id, int64_t price, int64_t qty)
{
    sim *s = self;
    int64_t now = now_of(s);
    sim__check_down(s, now);
    ord *x = id < OURS_MAX ? sim__find(s, id) : NULL;
    int code = s->down ? BRS_E_HALTED
               : !x ? BRS_E_UNKNOWNORDER
               : qty <= 0 || qty % s->lot || qty < s->min_qty || price % s->tick ? BRS_E_INVAL
               : !take_token(s, now) ? BRS_E_LIMIT
                                     : BRS_OK;
    if (code) {
        emit(s, BRS_OEV_REJECTED, id, x ? x->side : 0, code, price, qty, 0, x ? x->cum : 0, 0,
             BRS_LIQ_NONE, 0);
        return code;
    }
    brs__engine_set_time(s->e, now);
    return brs__engine_replace(s->e, id, price, qty);
}

static int sim_top(void *self, uint32_t inst, brs_top *out)
{
    sim *s = self;
    return brs__engine_top(s->e, inst, out);
}

static int sim_depth(void *self, uint32_t inst, uint8_t side, brs_level *out, uint32_t cap,
                     uint32_t *n)
{
    sim *s = self;
    *n = (uint32_t)brs__engine_depth(s->e, inst, side, out, cap);
    return BRS_OK;
}

static const brs_venue_vtable sim_vtable = {
    .size = sizeof(brs_venue_vtable),
    .xOpen = sim_open,
    .xClose = sim_close,
    .xSubmit = sim_submit,
    .xCancel = sim_cancel,
    .xReplace = sim_replace,
    .xOnMarket = sim__on_market,
    .xTop = sim_top,
    .xDepth = sim_depth,
};

BRS_PLUGIN(.kind = BRS_KIND_VENUE, .name = "sim", .version = "1.0.0",
           .description = "simulated exchange: matching engine, fees, queue position, faults",
           .instance_size = sizeof(sim), .vtable = &sim_vtable)
