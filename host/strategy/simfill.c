/* simfill.c: the simple fill model, a deterministic execution backend for the
 * strategy runtime's tests, benchmarks and `strategy check`. It is not a book
 * simulation (no queue position, partial fills, fees or latency): the matching
 * engine and the simulated venue do that. Rules are in runtime.h. */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static void emit(brs__simfill *fm, brs__sctx *sc, const brs_order *o, uint8_t kind, int64_t price,
                 int64_t qty, int64_t leaves, int64_t cum, int32_t reason)
{
    brs_order_event ev = {.kind = kind, .side = o->side, .reason = reason,
                          .instrument = o->instrument, .order_id = o->id, .ts = sc->now,
                          .price = price, .qty = qty, .leaves = leaves, .cum_qty = cum,
                          .liquidity = kind == BRS_OEV_FILL ? BRS_LIQ_TAKER : BRS_LIQ_NONE};
    if (kind == BRS_OEV_FILL) {
        fm->n_fills++;
        if (fm->on_fill)
            fm->on_fill(fm->user, &ev);
    }
    brs__sctx_order_event(sc, &ev);
}

/* The price a taker gets now, or 0 when nothing was seen yet. */
static int64_t take_price(const brs__sctx *sc, uint32_t instrument, uint8_t side)
{
    const brs__sctx_instr *in = &sc->instr[instrument];
    if (side == BRS_BUY && in->top.ask_qty > 0)
        return in->top.ask_price;
    if (side == BRS_SELL && in->top.bid_qty > 0)
        return in->top.bid_price;
    return sc->last_price[instrument];
}

static int marketable(const brs_order *o, int64_t ref)
{
    if (ref <= 0)
        return 0;
    return o->type == BRS_MARKET || (o->side == BRS_BUY ? o->price >= ref : o->price <= ref);
}

static int fm_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    brs__simfill *fm = self;
    int64_t ref = take_price(sc, o->instrument, o->side);
    if (marketable(o, ref)) {
        if (o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE)) {
            emit(fm, sc, o, BRS_OEV_REJECTED, o->price, o->qty, 0, 0, BRS_E_WOULDTAKE);
            return BRS_OK;
        }
        emit(fm, sc, o, BRS_OEV_FILL, ref, o->qty, 0, o->qty, 0);
        return BRS_OK;
    }
    if (o->type == BRS_MARKET) {
        emit(fm, sc, o, BRS_OEV_REJECTED, 0, o->qty, 0, 0, BRS_E_NOLIQUIDITY);
        return BRS_OK;
    }
    if (o->tif == BRS_IOC || o->tif == BRS_FOK) {
        emit(fm, sc, o, BRS_OEV_CANCELLED, o->price, o->qty, 0, 0, BRS_E_NOLIQUIDITY);
        return BRS_OK;
    }
    if (fm->n == fm->cap) {
        emit(fm, sc, o, BRS_OEV_REJECTED, o->price, o->qty, 0, 0, BRS_E_LIMIT);
        return BRS_OK;
    }
    fm->resting[fm->n++] = (brs__simfill_order){.o = *o, .live = 1};
    emit(fm, sc, o, BRS_OEV_ACCEPTED, o->price, o->qty, o->qty, 0, 0);
    return BRS_OK;
}

static int find(const brs__simfill *fm, uint64_t id)
{
    for (uint32_t i = 0; i < fm->n; i++)
        if (fm->resting[i].o.id == id)
            return (int)i;
    return -1;
}

static void drop(brs__simfill *fm, int i)
{
    memmove(&fm->resting[i], &fm->resting[i + 1], (fm->n - (uint32_t)i - 1) * sizeof *fm->resting);
    fm->n--;
}

static int fm_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    brs__simfill *fm = self;
    int i = find(fm, id);
    if (i < 0)
        return BRS_E_UNKNOWNORDER;
    brs_order o = fm->resting[i].o;
    drop(fm, i);
    emit(fm, sc, &o, BRS_OEV_CANCELLED, o.price, o.qty, 0, 0, 0);
    return BRS_OK;
}

static int fm_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    brs__simfill *fm = self;
    int i = find(fm, id);
    if (i < 0)
        return BRS_E_UNKNOWNORDER;
    brs_order *o = &fm->resting[i].o;
    o->price = price;
    o->qty = qty;
    emit(fm, sc, o, BRS_OEV_REPLACED, price, qty, qty, 0, 0);
    int64_t ref = take_price(sc, o->instrument, o->side);
    if (marketable(o, ref)) {
        brs_order done = *o;
        drop(fm, i);
        emit(fm, sc, &done, BRS_OEV_FILL, ref, done.qty, 0, done.qty, 0);
    }
    return BRS_OK;
}

static void fm_on_market(void *self, brs__sctx *sc, const brs_market_event *ev)
{
    brs__simfill *fm = self;
    for (uint32_t i = 0; i < fm->n;) {
        brs_order o = fm->resting[i].o;
        int hit = 0;
        if (o.instrument == ev->instrument) {
            int buy = o.side == BRS_BUY;
            switch (ev->kind) {
            case BRS_MEV_BAR: hit = buy ? ev->bar.low < o.price : ev->bar.high > o.price; break;
            case BRS_MEV_TRADE: hit = buy ? ev->price < o.price : ev->price > o.price; break;
            case BRS_MEV_QUOTE:
                hit = buy ? ev->quote.ask_qty > 0 && ev->quote.ask_price <= o.price
                          : ev->quote.bid_qty > 0 && ev->quote.bid_price >= o.price;
                break;
            default: break;
            }
        }
        if (!hit) {
            i++;
            continue;
        }
        drop(fm, (int)i);
        emit(fm, sc, &o, BRS_OEV_FILL, o.price, o.qty, 0, o.qty, 0);
    }
}

int brs__simfill_init(brs__simfill *fm, uint32_t cap)
{
    memset(fm, 0, sizeof *fm);
    fm->cap = cap ? cap : 1024;
    fm->resting = calloc(fm->cap, sizeof *fm->resting);
    return fm->resting ? BRS_OK : BRS_E_NOMEM;
}

void brs__simfill_free(brs__simfill *fm)
{
    free(fm->resting);
    fm->resting = NULL;
    fm->n = 0;
}

brs__exec brs__simfill_exec(brs__simfill *fm)
{
    return (brs__exec){.self = fm, .xSubmit = fm_submit, .xCancel = fm_cancel,
                       .xReplace = fm_replace, .xOnMarket = fm_on_market};
}
