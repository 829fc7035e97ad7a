/* runtime_orders.c: a strategy's orders: what happens to them (order events,
 * queued while a callback runs, the open orders and the integer position
 * accounting) and the order services of brs_host (submit with its checks and
 * bounds, cancel, replace, positions, open orders). */
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"

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

static void deliver_cb(brs__sctx *sc, const brs_order_event *ev)
{
    if (sc->failed || !sc->started || !BRS_VT_HAS(sc->vt, brs_strategy_vtable, xOnOrder) ||
        !brs__sctx_chain_ok(sc))
        return;
    brs__sctx_enter(sc);
    int rc = sc->vt->xOnOrder(sc->self, ev);
    brs__sctx_after_callback(sc, rc, "xOnOrder");
}

static void deliver(brs__sctx *sc, const brs_order_event *ev)
{
    apply_event(sc, ev);
    deliver_cb(sc, ev);
}

/* Refusals deferred during the previous event (only those: what these
 * callbacks refuse waits for the next event in turn). */
void brs__sctx_flush_deferred(brs__sctx *sc)
{
    for (uint32_t n = sc->d_len; n-- > 0 && sc->d_len;) {
        brs_order_event ev = sc->deferred[sc->d_head];
        sc->d_head = (sc->d_head + 1) % sc->q_cap;
        sc->d_len--;
        deliver_cb(sc, &ev);
        if (sc->q_len)
            brs__sctx_drain(sc);
    }
    brs__sctx_regate(sc);
}

void brs__sctx_drain(brs__sctx *sc)
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
        brs__sctx_new_event(sc);
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
        brs__sctx_drain(sc);
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
    brs__sctx_regate(sc);
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
        else if (sc->last_price[instrument])
            mark2 = 2 * (__int128)sc->last_price[instrument];
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

int brs__sctx_cancel_all(brs__sctx *sc, uint32_t instrument)
{
    return h_cancel_all(brs__sctx_ctx(sc), instrument);
}

void brs__sctx_host_orders(brs_host *h)
{
    h->xSubmit = h_submit;
    h->xCancel = h_cancel;
    h->xReplace = h_replace;
    h->xCancelAll = h_cancel_all;
    h->xPosition = h_position;
    h->xOpenOrders = h_open_orders;
}
