/* touch.c: the touch fill model as a venue plugin, for `bourse live`'s
 * paper.fill "touch": a marketable order fills whole at the touch (the best
 * opposite price of the replayed book, or the last trade before there is one),
 * a resting limit order fills whole at its price once a quote, trade or bar
 * crosses it. No partial fills, fees or queue position: the sim venue models
 * those. Orders take the runtime's order path like any venue's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bourse/bourse.h>

#include "feeds/l2book.h"

typedef struct touch_instr {
    brs__l2_book book; /* the replayed L2 levels */
    brs_top top;       /* the touch: the book's best levels, or the last quote */
    int64_t last;      /* last trade (or bar close) price, 0: none yet */
} touch_instr;

typedef struct touch {
    const brs_host *host;
    brs_ctx *ctx;
    touch_instr *in;
    uint32_t n_instr;
    brs_order *rest;   /* resting orders, in arrival order */
    uint32_t n, cap;   /* cap: max_orders */
} touch;

static void emit(touch *t, const brs_order *o, uint8_t kind, int64_t price, int64_t qty, int64_t leaves,
                 int64_t cum, int32_t reason, uint8_t liq)
{
    brs_order_event ev = {.kind = kind, .side = o->side, .reason = reason, .instrument = o->instrument,
                          .order_id = o->id, .ts = t->host->xNow(t->ctx), .price = price, .qty = qty,
                          .leaves = leaves, .cum_qty = cum, .liquidity = liq};
    t->host->xEmitOrderEvent(t->ctx, &ev);
}

static void fill(touch *t, const brs_order *o, int64_t price, uint8_t liq)
{
    emit(t, o, BRS_OEV_FILL, price, o->qty, 0, o->qty, 0, liq);
}

/* The price a taker gets now, 0 when nothing was seen yet. */
static int64_t take_price(const touch *t, const brs_order *o)
{
    const touch_instr *in = &t->in[o->instrument];
    if (o->side == BRS_BUY && in->top.ask_qty > 0)
        return in->top.ask_price;
    if (o->side == BRS_SELL && in->top.bid_qty > 0)
        return in->top.bid_price;
    return in->last;
}

static int marketable(const brs_order *o, int64_t ref)
{
    return ref > 0 && (o->type == BRS_MARKET || (o->side == BRS_BUY ? o->price >= ref : o->price <= ref));
}

static int find(const touch *t, uint64_t id)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->rest[i].id == id)
            return (int)i;
    return -1;
}

static void drop(touch *t, uint32_t i)
{
    memmove(&t->rest[i], &t->rest[i + 1], (t->n - i - 1) * sizeof *t->rest);
    t->n--;
}

static int touch_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    touch *t = self;
    t->host = host;
    t->ctx = ctx;
    int64_t max = 1024;
    int rc = host->xParamInt(ctx, "max_orders", &max);
    if ((rc != BRS_OK && rc != BRS_E_NOTFOUND) || max < 1 || max > (1 << 24)) {
        if (err) {
            err->code = BRS_E_INVAL;
            snprintf(err->msg, sizeof err->msg, "touch: max_orders must be an integer 1..16777216");
        }
        return BRS_E_INVAL;
    }
    t->n_instr = host->xInstrumentCount(ctx);
    t->cap = (uint32_t)max;
    t->in = calloc(t->n_instr ? t->n_instr : 1, sizeof *t->in);
    t->rest = calloc(t->cap, sizeof *t->rest);
    if (!t->in || !t->rest) {
        if (err) {
            err->code = BRS_E_NOMEM;
            snprintf(err->msg, sizeof err->msg, "touch: out of memory");
        }
        return BRS_E_NOMEM;
    }
    return BRS_OK;
}

static void touch_close(void *self)
{
    touch *t = self;
    for (uint32_t i = 0; t->in && i < t->n_instr; i++)
        brs__l2_free(&t->in[i].book);
    free(t->in);
    free(t->rest);
}

static int touch_submit(void *self, const brs_order *o)
{
    touch *t = self;
    if (o->instrument >= t->n_instr || o->qty <= 0)
        return BRS_E_INVAL;
    int64_t ref = take_price(t, o);
    if (marketable(o, ref)) {
        if (o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE))
            emit(t, o, BRS_OEV_REJECTED, o->price, o->qty, 0, 0, BRS_E_WOULDTAKE, BRS_LIQ_NONE);
        else
            fill(t, o, ref, BRS_LIQ_TAKER);
        return BRS_OK;
    }
    if (o->type == BRS_MARKET)
        emit(t, o, BRS_OEV_REJECTED, 0, o->qty, 0, 0, BRS_E_NOLIQUIDITY, BRS_LIQ_NONE);
    else if (o->tif == BRS_IOC || o->tif == BRS_FOK)
        emit(t, o, BRS_OEV_CANCELLED, o->price, o->qty, 0, 0, BRS_E_NOLIQUIDITY, BRS_LIQ_NONE);
    else if (t->n == t->cap)
        emit(t, o, BRS_OEV_REJECTED, o->price, o->qty, 0, 0, BRS_E_LIMIT, BRS_LIQ_NONE);
    else {
        t->rest[t->n++] = *o;
        emit(t, o, BRS_OEV_ACCEPTED, o->price, o->qty, o->qty, 0, 0, BRS_LIQ_NONE);
    }
    return BRS_OK;
}

static int touch_cancel(void *self, uint64_t id)
{
    touch *t = self;
    int i = find(t, id);
    if (i < 0)
        return BRS_E_UNKNOWNORDER; /* filled already: its fill is on its way */
    brs_order o = t->rest[i];
    drop(t, (uint32_t)i);
    emit(t, &o, BRS_OEV_CANCELLED, o.price, o.qty, 0, 0, 0, BRS_LIQ_NONE);
    return BRS_OK;
}

static int touch_replace(void *self, uint64_t id, int64_t price, int64_t qty)
{
    touch *t = self;
    int i = find(t, id);
    if (i < 0 || qty <= 0)
        return i < 0 ? BRS_E_UNKNOWNORDER : BRS_E_INVAL;
    brs_order *o = &t->rest[i];
    o->price = price;
    o->qty = qty;
    emit(t, o, BRS_OEV_REPLACED, price, qty, qty, 0, 0, BRS_LIQ_NONE);
    int64_t ref = take_price(t, o);
    if (marketable(o, ref)) {
        brs_order done = *o;
        drop(t, (uint32_t)i);
        fill(t, &done, ref, BRS_LIQ_TAKER);
    }
    return BRS_OK;
}

/* Resting orders a quote, trade or bar went through fill at their price. */
static void cross(touch *t, const brs_market_event *ev)
{
    for (uint32_t i = 0; i < t->n;) {
        const brs_order *o = &t->rest[i];
        int hit = 0, buy = o->side == BRS_BUY;
        if (o->instrument == ev->instrument) {
            switch (ev->kind) {
            case BRS_MEV_BAR: hit = buy ? ev->bar.low < o->price : ev->bar.high > o->price; break;
            case BRS_MEV_TRADE: hit = buy ? ev->price < o->price : ev->price > o->price; break;
            case BRS_MEV_QUOTE:
                hit = buy ? ev->quote.ask_qty > 0 && ev->quote.ask_price <= o->price
                          : ev->quote.bid_qty > 0 && ev->quote.bid_price >= o->price;
                break;
            default: break;
            }
        }
        if (!hit) {
            i++;
            continue;
        }
        brs_order done = *o;
        drop(t, i);
        fill(t, &done, done.price, BRS_LIQ_MAKER);
    }
}

static void top_from_book(touch_instr *in)
{
    int64_t p = 0, q = 0;
    in->top.bid_price = in->top.bid_qty = in->top.ask_price = in->top.ask_qty = 0;
    if (brs__l2_best(&in->book, BRS_BUY, &p, &q)) {
        in->top.bid_price = p;
        in->top.bid_qty = q;
    }
    if (brs__l2_best(&in->book, BRS_SELL, &p, &q)) {
        in->top.ask_price = p;
        in->top.ask_qty = q;
    }
}

static int touch_on_market(void *self, const brs_market_event *ev)
{
    touch *t = self;
    if (ev->instrument < t->n_instr) {
        touch_instr *in = &t->in[ev->instrument];
        switch (ev->kind) {
        case BRS_MEV_SNAPSHOT_BEGIN: brs__l2_clear(&in->book); break;
        case BRS_MEV_LEVEL_SET:
        case BRS_MEV_LEVEL_DELETE:
            if (brs__l2_set(&in->book, ev->side, ev->price, ev->kind == BRS_MEV_LEVEL_SET ? ev->qty : 0))
                break; /* out of memory or a bad side: the level is not kept */
            top_from_book(in);
            break;
        case BRS_MEV_QUOTE:
            in->top.bid_price = ev->quote.bid_price;
            in->top.bid_qty = ev->quote.bid_qty;
            in->top.ask_price = ev->quote.ask_price;
            in->top.ask_qty = ev->quote.ask_qty;
            break;
        case BRS_MEV_TRADE: in->last = ev->price; break;
        case BRS_MEV_BAR: in->last = ev->bar.close; break;
        default: break;
        }
        cross(t, ev);
    }
    t->host->xEmitMarketEvent(t->ctx, ev); /* the host sees the market as it came */
    return BRS_OK;
}

static int touch_top(void *self, uint32_t inst, brs_top *out)
{
    touch *t = self;
    if (inst >= t->n_instr)
        return BRS_E_INVAL;
    *out = t->in[inst].top;
    return BRS_OK;
}

static int touch_depth(void *self, uint32_t inst, uint8_t side, brs_level *out, uint32_t cap, uint32_t *n)
{
    touch *t = self;
    *n = 0;
    if (inst >= t->n_instr || side > 1)
        return BRS_E_INVAL;
    *n = brs__l2_depth(&t->in[inst].book, side, out, cap);
    return BRS_OK;
}

static const brs_venue_vtable touch_vtable = {
    .size = sizeof(brs_venue_vtable),
    .xOpen = touch_open,
    .xClose = touch_close,
    .xSubmit = touch_submit,
    .xCancel = touch_cancel,
    .xReplace = touch_replace,
    .xOnMarket = touch_on_market,
    .xTop = touch_top,
    .xDepth = touch_depth,
};

BRS_PLUGIN(.kind = BRS_KIND_VENUE, .name = "touch", .version = "1.0.0",
           .description = "touch fill model: marketable orders fill whole at the touch, no fees or queue",
           .instance_size = sizeof(touch), .vtable = &touch_vtable)
