/* sim_market.c: the sim venue's replayed market data (sim.c has the rest):
 * the exchange's own book kept beside our orders from L3 events, or from L2
 * levels and prints through the queue model (queue.c), liquidity scaling
 * (scale.c), and L2 snapshots (a feed's resync). docs/router.md, "The
 * simulated venue"; docs/backtesting.md, "Queue position". */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

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

int sim__grow_queue(sim *s, size_t n)
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
        if (sim__grow_queue(s, n)) {
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
            ord *o = sim__find(s, id);
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
            ord *o = sim__find(s, id);
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
 * print is replayed as an aggressor (sim__on_market), so it eats the front of
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

int sim__on_market(void *self, const brs_market_event *in)
{
    sim *s = self;
    sim__check_down(s, in->ts_exchange);
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
