/* fx_l3_venue.c: a test-only venue plugin for the book-mode loop, until the
 * simulated exchange (plugins/venues/sim) is merged. It wraps the matching
 * engine (bourse_book): replayed L3 orders rest in the engine; our orders join
 * the same books, so a resting order queues behind what was there before it
 * and a marketable one walks the levels present when it arrives. A replayed
 * execution of resting order X is played as an aggressor of X's size at X's
 * price: it meets our orders first when they are ahead of X (or better
 * priced); X is then reduced to what the data says, so the replayed book never
 * drifts. Fees: maker_fee_ppm / taker_fee_ppm, millionths of the notional
 * (negative = rebate), rounded half away from zero to the price unit. */
#include <stdlib.h>
#include <string.h>

#include <bourse/bourse.h>

#include "book/book.h"

#define OWN_BIT (UINT64_C(1) << 63)
#define SYN_BIT (UINT64_C(1) << 62)
#define OWN_ACCOUNT 0x4f574eu
#define MAX_OWN 1024

typedef struct own_order {
    uint64_t id;
    uint32_t instrument;
    uint8_t side, live;
    int64_t qty, cum;
} own_order;

typedef struct lv {
    const brs_host *host;
    brs_ctx *ctx;
    brs_engine *eng;
    int64_t maker_ppm, taker_ppm;
    uint64_t syn;
    uint64_t exec_id;       /* the replayed order being executed */
    int64_t exec_consumed;  /* of it, by the synthetic aggressor */
    int rejected;
    own_order own[MAX_OWN];
} lv;

static own_order *own_find(lv *v, uint64_t id)
{
    for (int i = 0; i < MAX_OWN; i++)
        if (v->own[i].live && v->own[i].id == id)
            return &v->own[i];
    return NULL;
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

static void emit(lv *v, const own_order *o, uint8_t kind, int64_t price, int64_t qty,
                 int64_t leaves, int32_t reason, uint8_t liq, int64_t fee)
{
    brs_order_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.side = o->side;
    ev.liquidity = liq;
    ev.reason = reason;
    ev.instrument = o->instrument;
    ev.order_id = o->id;
    ev.ts = v->host->xNow(v->ctx);
    ev.price = price;
    ev.qty = qty;
    ev.leaves = leaves;
    ev.cum_qty = o->cum;
    ev.fee = fee;
    v->host->xEmitOrderEvent(v->ctx, &ev);
}

static void l_accepted(void *user, const brs_order *order, int64_t price)
{
    lv *v = user;
    own_order *o = (order->id & OWN_BIT) ? own_find(v, order->id & ~OWN_BIT) : NULL;
    if (o)
        emit(v, o, BRS_OEV_ACCEPTED, price, order->qty, order->qty - o->cum, 0, 0, 0);
}

static void l_rejected(void *user, uint32_t instrument, uint64_t id, int reason)
{
    (void)instrument;
    lv *v = user;
    own_order *o = (id & OWN_BIT) ? own_find(v, id & ~OWN_BIT) : NULL;
    if (o) {
        v->rejected = 1;
        emit(v, o, BRS_OEV_REJECTED, 0, o->qty, 0, reason, 0, 0);
        if (!o->cum)
            o->live = 0;
    }
}

static void own_fill(lv *v, uint64_t id, int64_t price, int64_t qty, int64_t leaves, int maker)
{
    own_order *o = own_find(v, id & ~OWN_BIT);
    if (!o)
        return;
    o->cum += qty;
    emit(v, o, BRS_OEV_FILL, price, qty, leaves, 0, maker ? BRS_LIQ_MAKER : BRS_LIQ_TAKER,
         fee_of(price, qty, maker ? v->maker_ppm : v->taker_ppm));
    if (leaves == 0)
        o->live = 0;
}

static void l_fill(void *user, const brs_book_fill *f)
{
    lv *v = user;
    if (f->maker_id == v->exec_id)
        v->exec_consumed += f->qty;
    if (f->maker_id & OWN_BIT)
        own_fill(v, f->maker_id, f->price, f->qty, f->maker_leaves, 1);
    if (f->taker_id & OWN_BIT)
        own_fill(v, f->taker_id, f->price, f->qty, f->taker_leaves, 0);
}

static void l_cancelled(void *user, uint32_t instrument, uint64_t id, int64_t qty, int reason)
{
    (void)instrument;
    lv *v = user;
    own_order *o = (id & OWN_BIT) ? own_find(v, id & ~OWN_BIT) : NULL;
    if (o) {
        emit(v, o, BRS_OEV_CANCELLED, 0, qty, 0, reason, 0, 0);
        o->live = 0;
    }
}

static void l_replaced(void *user, uint32_t instrument, uint64_t id, int64_t price, int64_t qty,
                       int64_t leaves)
{
    (void)instrument;
    lv *v = user;
    own_order *o = (id & OWN_BIT) ? own_find(v, id & ~OWN_BIT) : NULL;
    if (o) {
        o->qty = qty;
        emit(v, o, BRS_OEV_REPLACED, price, qty, leaves, 0, 0, 0);
    }
}

static int v_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    lv *v = self;
    v->host = host;
    v->ctx = ctx;
    if (host->xParamInt(ctx, "maker_fee_ppm", &v->maker_ppm) == BRS_E_INVAL ||
        host->xParamInt(ctx, "taker_fee_ppm", &v->taker_ppm) == BRS_E_INVAL) {
        if (err) {
            err->code = BRS_E_INVAL;
            strcpy(err->msg, "maker_fee_ppm and taker_fee_ppm must be integers");
        }
        return BRS_E_INVAL;
    }
    brs_engine_config ec = {.max_instruments = host->xInstrumentCount(ctx) + 1,
                            .max_orders = 1u << 16};
    brs_book_listener li = {.user = v, .xAccepted = l_accepted, .xRejected = l_rejected,
                            .xFill = l_fill, .xCancelled = l_cancelled, .xReplaced = l_replaced};
    return brs__engine_create(&v->eng, &ec, &li, err);
}

static void v_close(void *self)
{
    lv *v = self;
    if (v->eng)
        brs__engine_destroy(v->eng);
}

static int v_submit(void *self, const brs_order *order)
{
    lv *v = self;
    own_order *slot = NULL;
    for (int i = 0; i < MAX_OWN && !slot; i++)
        if (!v->own[i].live)
            slot = &v->own[i];
    if (!slot)
        return BRS_E_LIMIT;
    *slot = (own_order){.id = order->id, .instrument = order->instrument, .side = order->side,
                        .live = 1, .qty = order->qty};
    brs_order o = *order;
    o.id |= OWN_BIT;
    o.account = OWN_ACCOUNT;
    v->rejected = 0;
    int rc = brs__engine_submit(v->eng, &o);
    if (rc < 0 && !v->rejected) {
        emit(v, slot, BRS_OEV_REJECTED, 0, order->qty, 0, rc, 0, 0);
        slot->live = 0;
    }
    return BRS_OK;
}

static int v_cancel(void *self, uint64_t id)
{
    lv *v = self;
    if (!own_find(v, id))
        return BRS_E_UNKNOWNORDER;
    return brs__engine_cancel(v->eng, id | OWN_BIT);
}

static int v_replace(void *self, uint64_t id, int64_t price, int64_t qty)
{
    lv *v = self;
    if (!own_find(v, id))
        return BRS_E_UNKNOWNORDER;
    return brs__engine_replace(v->eng, id | OWN_BIT, price, qty);
}

static int v_on_market(void *self, const brs_market_event *ev)
{
    lv *v = self;
    switch (ev->kind) {
    case BRS_MEV_ADD:
        brs__engine_insert(v->eng, ev->instrument, ev->order_id, ev->side, ev->price, ev->qty);
        break;
    case BRS_MEV_CANCEL:
        if (ev->flags & BRS_MEVF_FULL)
            brs__engine_delete(v->eng, ev->order_id);
        else
            brs__engine_reduce(v->eng, ev->order_id, ev->qty);
        break;
    case BRS_MEV_MODIFY:
        brs__engine_delete(v->eng, ev->order_id);
        brs__engine_insert(v->eng, ev->instrument, ev->aux ? (uint64_t)ev->aux : ev->order_id,
                           ev->side, ev->price, ev->qty);
        break;
    case BRS_MEV_EXECUTE: {
        brs_order_info x;
        if (brs__engine_order(v->eng, ev->order_id, &x) != BRS_OK)
            break;
        brs_order a = {.id = SYN_BIT | ++v->syn, .instrument = x.instrument, .price = x.price,
                       .qty = ev->qty, .side = x.side == BRS_BUY ? BRS_SELL : BRS_BUY,
                       .type = BRS_LIMIT, .tif = BRS_IOC, .account = 2};
        v->exec_id = ev->order_id;
        v->exec_consumed = 0;
        brs__engine_submit(v->eng, &a);
        v->exec_id = 0;
        if (ev->qty > v->exec_consumed)
            brs__engine_reduce(v->eng, ev->order_id, ev->qty - v->exec_consumed);
        break;
    }
    default: break;
    }
    return BRS_OK;
}

static const brs_venue_vtable vt = {
    .size = sizeof(brs_venue_vtable),
    .xOpen = v_open,
    .xClose = v_close,
    .xSubmit = v_submit,
    .xCancel = v_cancel,
    .xReplace = v_replace,
    .xOnMarket = v_on_market,
};

BRS_PLUGIN(.kind = BRS_KIND_VENUE, .name = "fx_l3_venue", .version = "0.1.0",
           .description = "test venue: matching engine over replayed L3, fees in ppm",
           .instance_size = sizeof(lv), .vtable = &vt)
