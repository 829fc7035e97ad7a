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

#include "book/book.h"
#include "queue.h"
#include "scale.h"

/* Engine id spaces: ours as the host gave them (< 2^62), the exchange's L3 ids
 * with bit 63, and synthetic orders holding L2 quantity (bits 63 and 62, then a
 * counter below 2^60): one per stretch of a level between our orders. */
#define OURS_MAX (1ull << 62)
#define L3_BIT (1ull << 63)
#define L2_BITS (3ull << 62)
/* The one id replayed aggressors use: IOC, so it never rests. */
#define AGG_ID (L2_BITS | (3ull << 60) | 1)
#define IS_L2(id) (((id) & L2_BITS) == L2_BITS && (id) != AGG_ID)
/* Engine accounts: the exchange's liquidity, and ours offset past it so the
 * host's accounts stay apart (self-trade prevention is per account: two host
 * clients' orders may trade with each other, one client's may not). */
#define ACCT_EXCH 2u
#define ACCT_OURS_BASE 3u
#define IS_OURS(a) ((a) >= ACCT_OURS_BASE)

typedef struct ord { /* one of our live orders */
    uint64_t id;     /* 0: empty slot */
    int64_t cum;
    int64_t price;
    uint8_t side;
    uint8_t acked;
    double carry; /* L2 prob model: rounding remainder of the cancels ahead of it */
} ord;

/* The last shrink of an L2 level that no print explained (yet): a print that
 * arrives after it but is not later than it was already in it (sim_on_market,
 * contained_print). Direct-mapped by level; a collision forgets the older one. */
typedef struct pend {
    int64_t price;
    int64_t d;        /* lots of the shrink not yet matched with prints */
    int64_t ts, aux;  /* the update's exchange time and aux (transaction time, or 0) */
    int64_t front;    /* exchange lots in front of our first order before the shrink */
    int64_t behind;   /* and after it */
    int64_t x;        /* lots of the shrink the model took from in front of it */
    uint64_t first;   /* that order (0: none of ours at the level) */
    uint32_t inst;
    uint8_t side, used;
} pend;
#define NPEND 1024

typedef struct sim {
    const brs_host *host;
    brs_ctx *ctx;
    brs_engine *e;
    uint32_t venue;
    int64_t maker_ppm, taker_ppm;
    int64_t tick, lot, min_qty;
    int64_t rate_per_sec, rate_burst, tokens_e9, last_refill;
    double reject_rate, lost_ack_rate;
    uint64_t rng;
    int64_t down_at, down_for;
    int down;
    int saw_l3;          /* L3 data: EXECUTE events carry the trades, prints are not replayed */
    int64_t price_offset;
    double liq_scale;
    simx xs; /* liq_scale != 1: the unscaled size left of each live L3 order (scale.h) */
    ord *orders; /* open addressing, power-of-2 capacity */
    uint64_t max_ours; /* max_orders: the most live orders of ours */
    uint32_t cap;
    uint32_t n_ours;
    /* our highest buy and lowest sell price, recomputed (one scan of orders)
     * only after our orders changed, not on every L2 update that asks */
    int ext_dirty;
    int64_t ext_buy, ext_sell; /* INT64_MIN / INT64_MAX: none */
    /* during an L3 execution replayed as an aggressor: what the named order got */
    uint64_t exec_id;
    int64_t exec_got;
    int64_t agg_got; /* what the replayed aggressor traded */
    int going_down;
    /* L2 queue model (queue.h) */
    int queue_model;
    double queue_power;
    uint64_t next_l2;        /* next synthetic order number */
    brs_queue_entry *qbuf;   /* one level's queue, read from the engine */
    int64_t *qahead, *qx;    /* per order of ours there: lots ahead, cancel ahead */
    double *qcarry;
    uint32_t qcap;
    pend *pend; /* NPEND slots */
    /* an L2 snapshot under way (a feed's resync): the levels it named so far */
    int snap_open;
    uint32_t snap_inst;
    struct snap_lv { int64_t price; uint8_t side; } *snap_seen;
    uint32_t snap_n, snap_cap;
    brs_level *dbuf; /* one side's depth, read at the snapshot's end */
    size_t dcap;
} sim;

/* ---- our orders: a small open-addressing map ---------------------------- */

static uint32_t hslot(const sim *s, uint64_t id)
{
    uint64_t h = id * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & (s->cap - 1);
}

static ord *find(sim *s, uint64_t id)
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

static ord *add(sim *s, uint64_t id)
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

static void del(sim *s, ord *o)
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

static int grow_queue(sim *s, size_t n);

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
    ord *x = find(s, o->id);
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
    ord *x = find(s, id);
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
        ord *x = find(s, id);
        if (!x)
            continue;
        x->cum += f->qty;
        int64_t leaves = taker ? f->taker_leaves : f->maker_leaves;
        int side = taker ? f->taker_side : !f->taker_side;
        emit(s, BRS_OEV_FILL, id, side, 0, f->price, f->qty, leaves, x->cum,
             fee_of(f->price, f->qty, taker ? s->taker_ppm : s->maker_ppm),
             taker ? BRS_LIQ_TAKER : BRS_LIQ_MAKER, f->instrument);
        if (leaves == 0)
            del(s, x);
    }
}

static void l_cancelled(void *u, uint32_t inst, uint64_t id, int64_t qty, int reason)
{
    sim *s = u;
    if (id >= OURS_MAX)
        return;
    ord *x = find(s, id);
    if (!x)
        return;
    emit(s, BRS_OEV_CANCELLED, id, x->side, s->going_down ? BRS_E_HALTED : reason, x->price, qty,
         0, x->cum, 0, BRS_LIQ_NONE, inst);
    del(s, x);
}

static void l_replaced(void *u, uint32_t inst, uint64_t id, int64_t price, int64_t qty,
                       int64_t leaves)
{
    sim *s = u;
    ord *x = id < OURS_MAX ? find(s, id) : NULL;
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
    if (!s->orders || !s->pend || grow_queue(s, 64) ||
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
static void check_down(sim *s, int64_t now)
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
    check_down(s, now);
    if (s->down)
        return refuse(s, o, BRS_E_HALTED);
    if (o->id == 0 || o->id >= OURS_MAX || find(s, o->id))
        return refuse(s, o, o->id && o->id < OURS_MAX ? BRS_E_EXISTS : BRS_E_INVAL);
    if (o->qty <= 0 || o->qty % s->lot || o->qty < s->min_qty ||
        (o->type == BRS_LIMIT && o->price % s->tick))
        return refuse(s, o, BRS_E_INVAL);
    if (!take_token(s, now))
        return refuse(s, o, BRS_E_LIMIT);
    if (s->reject_rate > 0 && uniform(s) < s->reject_rate)
        return refuse(s, o, BRS_E_REJECTED);
    ord *x = add(s, o->id);
    if (!x)
        return refuse(s, o, BRS_E_LIMIT);
    x->side = o->side;
    x->price = o->price;
    brs_order e = *o;
    e.account = o->account < UINT32_MAX - ACCT_OURS_BASE ? o->account + ACCT_OURS_BASE : UINT32_MAX;
    brs__engine_set_time(s->e, now);
    int rc = brs__engine_submit(s->e, &e);
    if (rc != BRS_OK) {
        ord *y = find(s, o->id); /* the engine reported the reject already */
        if (y)
            del(s, y);
        return rc;
    }
    /* an order that traded or was cancelled in full is gone from the map already */
    return BRS_OK;
}

static int sim_cancel(void *self, uint64_t id)
{
    sim *s = self;
    check_down(s, now_of(s));
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
    check_down(s, now);
    ord *x = id < OURS_MAX ? find(s, id) : NULL;
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

/* ---- replayed market data ------------------------------------------------ */

static int64_t scale_qty(const sim *s, int64_t q)
{
    if (s->liq_scale == 1.0 || q <= 0)
        return q;
    int64_t r = llround((double)q * s->liq_scale);
    return r < 1 ? 1 : r;
}

/* An exchange execution against resting order id at price: replayed as an
 * aggressor of qty, so any order of ours ahead of it in time priority (or at a
 * better price) trades first; the named order then loses the rest of qty too,
 * since the data says it traded (our presence does not remove liquidity). */
static void replay_execution(sim *s, uint32_t inst, uint64_t id, int resting_side, int64_t price,
                             int64_t qty)
{
    brs_order agg = {0};
    agg.id = AGG_ID;
    agg.instrument = inst;
    agg.account = ACCT_EXCH;
    agg.price = price;
    agg.qty = qty;
    agg.side = (uint8_t)!resting_side;
    agg.type = BRS_LIMIT;
    agg.tif = BRS_IOC;
    agg.stp = BRS_STP_NONE;
    s->exec_id = id;
    s->exec_got = 0;
    brs__engine_submit(s->e, &agg);
    if (id && s->exec_got < qty)
        brs__engine_reduce(s->e, id, qty - s->exec_got);
    s->exec_id = 0;
}

/* A fresh synthetic order id for L2 quantity (the counter never reaches the
 * aggressor's bits 60..61). */
static uint64_t new_l2(sim *s)
{
    return L2_BITS | (s->next_l2++ & ((1ull << 60) - 1));
}

static int grow_queue(sim *s, size_t n)
{
    size_t cap = s->qcap ? s->qcap : 64;
    while (cap < n)
        cap *= 2;
    brs_queue_entry *q = realloc(s->qbuf, cap * sizeof *q);
    if (q)
        s->qbuf = q;
    int64_t *a = realloc(s->qahead, cap * sizeof *a);
    if (a)
        s->qahead = a;
    int64_t *x = realloc(s->qx, cap * sizeof *x);
    if (x)
        s->qx = x;
    double *c = realloc(s->qcarry, cap * sizeof *c);
    if (c)
        s->qcarry = c;
    if (!q || !a || !x || !c)
        return BRS_E_NOMEM;
    s->qcap = (uint32_t)cap;
    return BRS_OK;
}

/* The queue at side/price into s->qbuf, front first; its length, or -1 when the
 * scratch cannot grow (the event is then not modelled; logged). */
static long read_queue(sim *s, uint32_t inst, int side, int64_t price)
{
    size_t n = brs__engine_level_queue(s->e, inst, side, price, s->qbuf, s->qcap);
    if (n > s->qcap) {
        if (grow_queue(s, n)) {
            s->host->xLog(s->ctx, BRS_LOG_ERROR, "sim: out of memory reading a level's queue");
            return -1;
        }
        n = brs__engine_level_queue(s->e, inst, side, price, s->qbuf, s->qcap);
    }
    return (long)n;
}

/* Does an order of ours on the other side cross price (a new quantity at
 * price on `side` would have traded with it)? */
static int ours_cross(sim *s, int side, int64_t price)
{
    if (s->ext_dirty) {
        s->ext_buy = INT64_MIN;
        s->ext_sell = INT64_MAX;
        for (uint32_t i = 0; i < s->cap; i++) {
            const ord *o = &s->orders[i];
            if (!o->id)
                continue;
            if (o->side == BRS_BUY && o->price > s->ext_buy)
                s->ext_buy = o->price;
            if (o->side == BRS_SELL && o->price < s->ext_sell)
                s->ext_sell = o->price;
        }
        s->ext_dirty = 0;
    }
    return side == BRS_SELL ? s->ext_buy >= price : s->ext_sell <= price;
}

/* A cancel of d lots at a level where k orders of ours rest among the exchange
 * quantity (queue in s->qbuf, n entries, `have` exchange lots): the queue model
 * says how much was in front of each of ours; each stretch of exchange quantity
 * between two of ours then loses its share. */
static void cancel_among_ours(sim *s, long n, int64_t have, int64_t d, pend *pd)
{
    size_t k = 0;
    int64_t a = 0;
    for (long i = 0; i < n; i++) {
        uint64_t id = s->qbuf[i].id;
        if (IS_L2(id)) {
            a += s->qbuf[i].leaves;
        } else if (id < OURS_MAX) {
            ord *o = find(s, id);
            s->qahead[k] = a;
            s->qcarry[k++] = o ? o->carry : 0;
        }
    }
    simq_split(s->queue_model, s->queue_power, d, have, s->qahead, k, s->qcarry, s->qx);
    if (pd && k) {
        for (long i = 0; i < n; i++)
            if (s->qbuf[i].id < OURS_MAX) {
                pd->first = s->qbuf[i].id;
                break;
            }
        pd->front = s->qahead[0];
        pd->behind = have - s->qahead[0];
        pd->x = s->qx[0];
    }
    /* from the back: stretch j lies in front of our j-th order (j = k: behind the last) */
    size_t j = k;
    int64_t want = d - (k ? s->qx[k - 1] : 0);
    for (long i = n - 1; i >= 0; i--) {
        uint64_t id = s->qbuf[i].id;
        if (IS_L2(id)) {
            int64_t take = want < s->qbuf[i].leaves ? want : s->qbuf[i].leaves;
            if (take > 0)
                brs__engine_reduce(s->e, id, take);
            want -= take;
        } else if (id < OURS_MAX) {
            ord *o = find(s, id);
            if (o)
                o->carry = s->qcarry[j - 1];
            j--;
            want = s->qx[j] - (j ? s->qx[j - 1] : 0);
        }
    }
}

static pend *pend_slot(sim *s, uint32_t inst, int side, int64_t price)
{
    uint64_t h = ((uint64_t)price * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)inst << 1 | (uint64_t)side);
    h *= 0xbf58476d1ce4e5b9ull;
    return &s->pend[(h >> 40) & (NPEND - 1)];
}

/* Exchange lots in front of the first order of ours in s->qbuf (n entries), and
 * that order's index there (-1: none of ours). */
static int64_t front_of(const sim *s, long n, long *first)
{
    int64_t a = 0;
    for (long i = 0; i < n; i++) {
        if (s->qbuf[i].id < OURS_MAX) {
            *first = i;
            return a;
        }
        if (IS_L2(s->qbuf[i].id))
            a += s->qbuf[i].leaves;
    }
    *first = -1;
    return a;
}

static int64_t l2_total(const sim *s, long n)
{
    int64_t a = 0;
    for (long i = 0; i < n; i++)
        if (IS_L2(s->qbuf[i].id))
            a += s->qbuf[i].leaves;
    return a;
}

/* g more lots join the back of the level (behind everything, ours included). */
static void grow_back(sim *s, uint32_t inst, int side, int64_t price, int64_t g)
{
    if (g <= 0)
        return;
    long n = read_queue(s, inst, side, price);
    if (n > 0 && IS_L2(s->qbuf[n - 1].id)) {
        uint64_t id = s->qbuf[n - 1].id;
        int64_t cur = s->qbuf[n - 1].leaves;
        brs__engine_delete(s->e, id);
        brs__engine_insert(s->e, inst, id, side, price, cur + g);
    } else if (n >= 0) {
        brs__engine_insert(s->e, inst, new_l2(s), side, price, g);
    }
}

/* L2: the exchange's quantity at a level is held by synthetic orders around
 * ours: growth joins behind everything (it arrived later); a shrink the data
 * gives no trade for is a cancel, split between the quantity in front of and
 * behind our orders by the queue model (queue.h, docs/backtesting.md). A trade
 * print is replayed as an aggressor (sim_on_market), so it eats the front of
 * the queue and what it ate is not seen again as a shrink; a print arriving
 * after the shrink that already held it is contained_print's job. */
static void level_set(sim *s, const brs_market_event *ev, int64_t q)
{
    uint32_t inst = ev->instrument;
    int side = ev->side;
    int64_t price = ev->price;
    pend *pd = pend_slot(s, inst, side, price);
    if (pd->used && pd->inst == inst && pd->side == side && pd->price == price)
        pd->used = 0; /* a newer update: the older shrink is history */
    long n = read_queue(s, inst, side, price);
    if (n < 0)
        return;
    int64_t have = 0;
    long nsyn = 0, nours = 0;
    uint64_t first = 0;
    for (long i = 0; i < n; i++) {
        uint64_t id = s->qbuf[i].id;
        if (IS_L2(id)) {
            have += s->qbuf[i].leaves;
            if (!nsyn++)
                first = id;
        } else if (id < OURS_MAX) {
            nours++;
        }
    }
    if (q == have)
        return;
    if (q < have)
        *pd = (pend){.price = price, .d = have - q, .ts = ev->ts_exchange, .aux = ev->aux,
                     .inst = inst, .side = (uint8_t)side, .used = 1};
    if (q > have && s->n_ours && ours_cross(s, side, price)) {
        /* New quantity at a price that crosses our order: it trades with us
         * first (replayed as an aggressor), the rest joins the level. (Our
         * orders on the other side: this level's queue is untouched.) */
        brs_order agg = {.id = AGG_ID, .instrument = inst, .account = ACCT_EXCH,
                         .price = price, .qty = q - have, .side = (uint8_t)side,
                         .type = BRS_LIMIT, .tif = BRS_IOC};
        s->agg_got = 0;
        brs__engine_submit(s->e, &agg);
        q -= s->agg_got;
        if (q <= have)
            return;
    }
    if (!nours) {
        /* nobody of ours here: one synthetic order holds it all (stretches left
         * by our orders that have gone are merged) */
        if (nsyn == 1 && q < have) {
            brs__engine_reduce(s->e, first, have - q);
            return;
        }
        for (long i = 0; i < n; i++)
            if (IS_L2(s->qbuf[i].id))
                brs__engine_delete(s->e, s->qbuf[i].id);
        if (q > 0)
            brs__engine_insert(s->e, inst, first ? first : new_l2(s), side, price, q);
        return;
    }
    if (q > have) {
        const brs_queue_entry *last = &s->qbuf[n - 1];
        if (IS_L2(last->id)) { /* regrow at the back: nobody of ours is behind it */
            uint64_t id = last->id;
            int64_t cur = last->leaves;
            brs__engine_delete(s->e, id);
            brs__engine_insert(s->e, inst, id, side, price, cur + q - have);
        } else {
            brs__engine_insert(s->e, inst, new_l2(s), side, price, q - have);
        }
        return;
    }
    cancel_among_ours(s, n, have, have - q, pd);
}

/* A print at a level whose last update shrank it and is not older than the
 * print (by transaction time in aux when both carry one, as Binance files do,
 * else by exchange time) was already in that shrink, which the queue model
 * took for a cancel. Up to the shrink, re-read it as the trade it was, as if
 * the print had come first: it comes off the front (and fills ours if it
 * reaches them), the cancels left (shrink - print) are split again by the
 * model from the queue the trade left, and the level keeps the total the data
 * gave it. Only the front of our first order can be put right (quantity can
 * move from in front of us to the back, never forward): when the first split
 * already took more from the front, that stands. Returns the lots of the
 * print so handled; the rest is replayed as a new trade. */
static int64_t contained_print(sim *s, const brs_market_event *ev, int resting)
{
    pend *pd = pend_slot(s, ev->instrument, resting, ev->price);
    if (!pd->used || pd->inst != ev->instrument || pd->side != resting ||
        pd->price != ev->price || pd->d <= 0)
        return 0;
    int later = pd->aux && ev->aux ? ev->aux > pd->aux : ev->ts_exchange > pd->ts;
    if (later) { /* a new trade: the shrink before it is history */
        pd->used = 0;
        return 0;
    }
    int64_t c = ev->qty < pd->d ? ev->qty : pd->d;
    if (!s->n_ours) { /* nothing of ours can be hit: the book already holds the result */
        pd->d -= c;
        return c;
    }
    long n = read_queue(s, ev->instrument, resting, ev->price), fi;
    if (n < 0)
        return 0;
    front_of(s, n, &fi);
    int same = pd->first && fi >= 0 && s->qbuf[fi].id == pd->first;
    int64_t x = same ? pd->x : 0, have = l2_total(s, n);
    /* the part of the print the model did not already take from in front of us */
    int64_t a = c - (c < x ? c : x);
    if (a > 0)
        replay_execution(s, ev->instrument, 0, resting, ev->price, a);
    n = read_queue(s, ev->instrument, resting, ev->price);
    if (n < 0)
        return c;
    int64_t eaten = have - l2_total(s, n);
    int64_t cur = front_of(s, n, &fi);
    if (same && (fi < 0 || s->qbuf[fi].id != pd->first))
        same = 0; /* the print went through our first order: nothing is in front of it now */
    if (same) {
        /* the trade took c from the front; the cancels left, split anew */
        int64_t front = pd->front > c ? pd->front - c : 0, left = pd->d - c, x2 = 0;
        double carry = 0;
        if (left > 0)
            simq_split(s->queue_model, s->queue_power, left, front + pd->behind, &front, 1,
                       &carry, &x2);
        int64_t move = cur - (front - x2);
        for (long i = 0; move > 0 && i < fi; i++)
            if (IS_L2(s->qbuf[i].id)) {
                int64_t take = move < s->qbuf[i].leaves ? move : s->qbuf[i].leaves;
                brs__engine_reduce(s->e, s->qbuf[i].id, take);
                move -= take;
                eaten += take; /* moved, not gone: it joins the back below */
            }
        pd->front = front;
        pd->x = x2;
    } else {
        pd->first = 0;
    }
    grow_back(s, ev->instrument, resting, ev->price, eaten); /* the data's total stands */
    pd->d -= c;
    return c;
}

/* ---- L2 snapshots ----------------------------------------------------------
 * A feed that resynchronises (Binance: SNAPSHOT_BEGIN, every level as a
 * LEVEL_SET, SNAPSHOT_END) names only the levels that exist now; a level it
 * does not name is gone. They are removed at the end rather than the book
 * cleared at the start, so a level that persists keeps our place in its queue
 * (its LEVEL_SET shrinks or grows it as any update does), and each removal is
 * emitted as a LEVEL_DELETE before the SNAPSHOT_END, so every view built from
 * this venue's events (the router's, the strategy's) drops it too. */

static int cmp_snap(const void *a, const void *b)
{
    const struct snap_lv *x = a, *y = b;
    if (x->side != y->side)
        return x->side < y->side ? -1 : 1;
    return x->price < y->price ? -1 : x->price > y->price;
}

static void snap_note(sim *s, const brs_market_event *ev)
{
    if (s->snap_n == s->snap_cap) {
        uint32_t nc = s->snap_cap ? s->snap_cap * 2 : 256;
        struct snap_lv *n = realloc(s->snap_seen, nc * sizeof *n);
        if (!n) { /* without the list no level can be called stale: keep them all */
            s->host->xLog(s->ctx, BRS_LOG_ERROR, "sim: out of memory during a snapshot");
            s->snap_open = 0;
            return;
        }
        s->snap_seen = n;
        s->snap_cap = nc;
    }
    s->snap_seen[s->snap_n++] = (struct snap_lv){ev->price, ev->side};
}

static void snap_end(sim *s, const brs_market_event *end)
{
    s->snap_open = 0;
    uint32_t inst = s->snap_inst;
    if (s->snap_n)
        qsort(s->snap_seen, s->snap_n, sizeof *s->snap_seen, cmp_snap);
    for (uint8_t side = 0; side < 2; side++) {
        size_t n;
        for (;;) {
            if (s->dbuf && (n = brs__engine_depth(s->e, inst, side, s->dbuf, s->dcap)) < s->dcap)
                break;
            size_t nc = s->dcap ? s->dcap * 2 : 256;
            brs_level *d = realloc(s->dbuf, nc * sizeof *d);
            if (!d) {
                s->host->xLog(s->ctx, BRS_LOG_ERROR, "sim: out of memory during a snapshot");
                return;
            }
            s->dbuf = d;
            s->dcap = nc;
        }
        for (size_t i = 0; i < n; i++) {
            struct snap_lv key = {s->dbuf[i].price, side};
            if (s->snap_n && bsearch(&key, s->snap_seen, s->snap_n, sizeof key, cmp_snap))
                continue;
            long nq = read_queue(s, inst, side, key.price);
            int64_t have = 0;
            for (long k = 0; k < nq; k++)
                if (IS_L2(s->qbuf[k].id))
                    have += s->qbuf[k].leaves;
            if (!have)
                continue; /* only orders of ours there */
            brs_market_event del = *end;
            del.instrument = inst;
            del.kind = BRS_MEV_LEVEL_DELETE;
            del.side = side;
            del.price = key.price;
            del.qty = 0;
            del.flags = BRS_MEVF_SNAPSHOT;
            level_set(s, &del, 0);
            if (!s->down)
                s->host->xEmitMarketEvent(s->ctx, &del);
        }
    }
}

static int sim_on_market(void *self, const brs_market_event *in)
{
    sim *s = self;
    check_down(s, in->ts_exchange);
    brs_market_event ev = *in;
    uint64_t xid = ev.order_id | L3_BIT;
    switch (ev.kind) {
    case BRS_MEV_ADD: case BRS_MEV_CANCEL: case BRS_MEV_MODIFY: case BRS_MEV_EXECUTE:
        ev.price += s->price_offset;
        if (s->liq_scale == 1.0)
            break;
        /* L3: scaled per order, not per event (scale.h), so an order's parts
         * add up to its whole; the emitted event carries the scaled lots too,
         * so the host's view of this venue's book is the venue's own */
        if (ev.kind == BRS_MEV_ADD)
            ev.qty = simx_add(&s->xs, xid, ev.qty);
        else if (ev.kind == BRS_MEV_MODIFY) {
            uint64_t nid = ev.aux ? ((uint64_t)ev.aux | L3_BIT) : xid;
            if (nid != xid)
                simx_remove(&s->xs, xid, 0);
            ev.qty = simx_add(&s->xs, nid, ev.qty);
        } else if (ev.kind == BRS_MEV_CANCEL && (ev.flags & BRS_MEVF_FULL))
            ev.qty = simx_remove(&s->xs, xid, ev.qty);
        else if ((ev.qty = simx_take(&s->xs, xid, ev.qty)) == 0)
            return BRS_OK; /* below one scaled lot (scale < 1): nothing happens here */
        break;
    case BRS_MEV_LEVEL_SET: case BRS_MEV_LEVEL_DELETE: case BRS_MEV_TRADE:
        ev.price += s->price_offset;
        ev.qty = scale_qty(s, ev.qty);
        break;
    case BRS_MEV_QUOTE:
        ev.quote.bid_price += s->price_offset;
        ev.quote.ask_price += s->price_offset;
        ev.quote.bid_qty = scale_qty(s, ev.quote.bid_qty);
        ev.quote.ask_qty = scale_qty(s, ev.quote.ask_qty);
        break;
    default:
        break;
    }
    brs__engine_set_time(s->e, ev.ts_exchange);
    uint32_t inst = ev.instrument;
    switch (ev.kind) {
    case BRS_MEV_ADD: {
        s->saw_l3 = 1;
        brs_top t;
        int crosses = brs__engine_top(s->e, inst, &t) == BRS_OK &&
                      (ev.side == BRS_BUY ? t.ask_qty && ev.price >= t.ask_price
                                          : t.bid_qty && ev.price <= t.bid_price);
        if (crosses) { /* it would have traded with our order resting there */
            brs_order o = {.id = xid, .instrument = inst, .account = ACCT_EXCH, .price = ev.price,
                           .qty = ev.qty, .side = ev.side, .type = BRS_LIMIT, .tif = BRS_GTC};
            brs__engine_submit(s->e, &o);
        } else
            brs__engine_insert(s->e, inst, xid, ev.side, ev.price, ev.qty);
        break;
    }
    case BRS_MEV_CANCEL:
        if (ev.flags & BRS_MEVF_FULL)
            brs__engine_delete(s->e, xid);
        else
            brs__engine_reduce(s->e, xid, ev.qty);
        break;
    case BRS_MEV_MODIFY: {
        brs_order_info oi;
        uint64_t nid = ev.aux ? ((uint64_t)ev.aux | L3_BIT) : xid;
        if (brs__engine_order(s->e, xid, &oi) == BRS_OK && nid == xid && oi.price == ev.price &&
            ev.qty <= oi.leaves) {
            brs__engine_reduce(s->e, xid, oi.leaves - ev.qty); /* keeps its place */
        } else {
            brs__engine_delete(s->e, xid);
            brs__engine_insert(s->e, inst, nid, ev.side, ev.price, ev.qty);
        }
        break;
    }
    case BRS_MEV_EXECUTE:
        replay_execution(s, inst, xid, ev.side, ev.price, ev.qty);
        break;
    case BRS_MEV_TRADE: {
        /* L2 data: a print; the aggressor was ev.side, the resting side the other.
         * (With L3 data the EXECUTE events carry the trades; prints are ignored.) */
        int resting = !ev.side;
        if (s->saw_l3) /* the EXECUTE before it already traded: do not trade twice */
            break;
        int64_t rest = ev.qty - contained_print(s, &ev, resting);
        /* replayed where quantity rests at the print's price, and also where
         * nothing does but an order of ours rests at a better price: the
         * aggressor that paid ev.price would have met ours first (the L2
         * update that emptied the level may have come before the print) */
        if (rest > 0 && (brs__engine_level_queue(s->e, inst, resting, ev.price, NULL, 0) ||
                         (s->n_ours && ours_cross(s, ev.side, ev.price))))
            replay_execution(s, inst, 0, resting, ev.price, rest);
        break;
    }
    case BRS_MEV_LEVEL_SET:
    case BRS_MEV_LEVEL_DELETE:
        if (s->snap_open && inst == s->snap_inst)
            snap_note(s, &ev);
        level_set(s, &ev, ev.kind == BRS_MEV_LEVEL_SET ? ev.qty : 0);
        break;
    case BRS_MEV_SNAPSHOT_BEGIN:
        if (s->snap_open) /* the previous one never ended: end it now */
            snap_end(s, &ev);
        s->snap_open = 1;
        s->snap_inst = inst;
        s->snap_n = 0;
        break;
    case BRS_MEV_SNAPSHOT_END:
        if (s->snap_open && inst == s->snap_inst)
            snap_end(s, &ev);
        break;
    default:
        break;
    }
    if (!s->down)
        s->host->xEmitMarketEvent(s->ctx, &ev);
    return BRS_OK;
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
    .xOnMarket = sim_on_market,
    .xTop = sim_top,
    .xDepth = sim_depth,
};

BRS_PLUGIN(.kind = BRS_KIND_VENUE, .name = "sim", .version = "1.0.0",
           .description = "simulated exchange: matching engine, fees, queue position, faults",
           .instance_size = sizeof(sim), .vtable = &sim_vtable)
