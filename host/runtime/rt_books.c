/* rt_books.c: the venues' own books as serve's clients see them (rt_books.h):
 * change counters bumped where the runtime hands a venue something that can
 * move its book (rt_venues.c), the consolidated book merged from every
 * venue's depth, and hosted strategies' tops from those books once no replay
 * feeds them, without their own orders as a backtest's view is. */
#include <stdlib.h>
#include <string.h>

#include "rt_books.h"
#include "rt_internal.h"
#include "rt_strategy.h"

/* Levels read from one venue at a time (callers ask for 20 at most). */
#define BOOK_CAP 64

int brs__rt_track_books(brs__rt *rt)
{
    if (rt->bgen)
        return BRS_OK;
    rt->bgen = calloc((size_t)(rt->n_v ? rt->n_v : 1) * (rt->n_instr ? rt->n_instr : 1), sizeof *rt->bgen);
    return rt->bgen ? BRS_OK : BRS_E_NOMEM;
}

uint32_t brs__rt_book_gen(const brs__rt *rt, uint32_t venue, uint32_t instrument)
{
    if (!rt->bgen || instrument >= rt->n_instr)
        return 0;
    if (venue != BRS__RT_ALL_VENUES)
        return venue < rt->n_v ? rt->bgen[(size_t)venue * rt->n_instr + instrument] : 0;
    uint32_t g = 0; /* every bump moves the sum: unchanged sum, no change */
    for (uint32_t v = 0; v < rt->n_v; v++)
        g += rt->bgen[(size_t)v * rt->n_instr + instrument];
    return g;
}

int brs__rt_book_depth(brs__rt *rt, uint32_t venue, uint32_t instrument, uint8_t side, brs_level *out,
                       uint32_t cap, uint32_t *n)
{
    if (venue != BRS__RT_ALL_VENUES)
        return brs__rt_depth(rt, venue, instrument, side, out, cap, n);
    *n = 0;
    if (cap > BOOK_CAP)
        cap = BOOK_CAP;
    brs_level lv[BOOK_CAP], merged[BOOK_CAP];
    for (uint32_t v = 0; v < rt->n_v; v++) {
        uint32_t m = 0;
        if (brs__rt_depth(rt, v, instrument, side, lv, cap, &m) != BRS_OK)
            continue; /* a venue without a book shows nothing */
        /* merge two best-first runs, equal prices summed, at most cap */
        uint32_t i = 0, j = 0, k = 0;
        while (k < cap && (i < *n || j < m)) {
            int take_out;
            if (i == *n)
                take_out = 0;
            else if (j == m)
                take_out = 1;
            else if (out[i].price == lv[j].price) {
                merged[k] = out[i++];
                merged[k].qty += lv[j].qty;
                merged[k++].orders += lv[j++].orders;
                continue;
            } else
                take_out = side == BRS_BUY ? out[i].price > lv[j].price : out[i].price < lv[j].price;
            merged[k++] = take_out ? out[i++] : lv[j++];
        }
        memcpy(out, merged, k * sizeof *out);
        *n = k;
    }
    return BRS_OK;
}

/* ---- hosted strategies' tops from the venues' books -------------------------- */

struct rt_top_seen {
    uint32_t gen;  /* the book's counter when last looked at */
    uint64_t sig;  /* the strategy's own open orders in it then */
    brs_top top;   /* the top last given (without its own orders) */
    uint8_t seen;  /* given once (the first look always gives the top) */
};

/* What the strategy's open orders in instrument are, as one number: any
 * fill, cancel, replace or new order changes it. */
static uint64_t own_sig(const brs__sctx *sc, uint32_t in)
{
    uint64_t h = 1469598103934665603ull;
    for (uint32_t k = 0; k < sc->n_orders; k++) {
        const brs_order_info *o = &sc->orders[k];
        if (o->instrument != in)
            continue;
        uint64_t x[3] = {o->id, (uint64_t)o->price, (uint64_t)o->leaves};
        for (int q = 0; q < 3; q++)
            h = (h ^ x[q]) * 1099511628211ull;
    }
    return h;
}

/* The best level of one side with the strategy's own resting quantity taken
 * out (a level that is all its own is skipped). */
static void side_top(brs__rt *rt, uint32_t venue, const brs__sctx *sc, uint32_t in, uint8_t side,
                     int64_t *price, int64_t *qty)
{
    brs_level lv[20];
    uint32_t n = 0;
    *price = 0;
    *qty = 0;
    if (brs__rt_book_depth(rt, venue, in, side, lv, 20, &n) != BRS_OK)
        return;
    for (uint32_t l = 0; l < n; l++) {
        int64_t q = lv[l].qty;
        for (uint32_t k = 0; k < sc->n_orders && q > 0; k++) {
            const brs_order_info *o = &sc->orders[k];
            if (o->instrument == in && o->side == side && o->price == lv[l].price && o->type != BRS_MARKET)
                q -= o->leaves; /* in flight to the venue: it may not be there yet */
        }
        if (q > 0) {
            *price = lv[l].price;
            *qty = q;
            return;
        }
    }
}

uint32_t brs__rt_strats_book_tops(struct brs__rt_strats *s)
{
    if (!s || !s->n)
        return 0;
    brs__rt *rt = s->rt;
    if (!rt->bgen && brs__rt_track_books(rt) != BRS_OK)
        return 0;
    if (rt->n_tops < s->n) { /* strategies are added before the run: sized once */
        struct rt_top_seen *t = calloc((size_t)s->n * (rt->n_instr ? rt->n_instr : 1), sizeof *t);
        if (!t)
            return 0;
        free(rt->tops);
        rt->tops = t;
        rt->n_tops = s->n;
    }
    uint32_t delivered = 0;
    int64_t now = rt->now;
    for (uint32_t k = 0; k < s->n; k++) {
        brs__rt_strat *st = s->st[k];
        brs__sctx *sc = st->sc;
        if (!sc || st->client >= rt->n_clients)
            continue;
        const brs__rt_route *r = &rt->clients[st->client].route;
        uint32_t venue = r->kind == BRS__RT_ROUTE_VENUE ? r->venue : BRS__RT_ALL_VENUES;
        for (uint32_t in = 0; in < rt->n_instr; in++) {
            if (st->allowed && !st->allowed[in])
                continue;
            struct rt_top_seen *ts = &rt->tops[(size_t)k * rt->n_instr + in];
            uint32_t g = brs__rt_book_gen(rt, venue, in);
            uint64_t sig = own_sig(sc, in);
            if (ts->seen && g == ts->gen && sig == ts->sig)
                continue;
            brs_top top = {0};
            side_top(rt, venue, sc, in, BRS_BUY, &top.bid_price, &top.bid_qty);
            side_top(rt, venue, sc, in, BRS_SELL, &top.ask_price, &top.ask_qty);
            int changed = top.bid_price != ts->top.bid_price || top.bid_qty != ts->top.bid_qty ||
                          top.ask_price != ts->top.ask_price || top.ask_qty != ts->top.ask_qty;
            int deliver = !ts->seen || changed || sig != ts->sig;
            ts->gen = g;
            ts->sig = sig;
            ts->top = top;
            ts->seen = 1;
            if (!deliver)
                continue;
            brs_market_event q = {.ts_exchange = now, .ts_local = now, .kind = BRS_MEV_QUOTE,
                                  .instrument = in, .flags = BRS_MEVF_LAST};
            q.quote.bid_price = top.bid_price;
            q.quote.bid_qty = top.bid_qty;
            q.quote.ask_price = top.ask_price;
            q.quote.ask_qty = top.ask_qty;
            if (now > sc->now)
                brs__sctx_advance(sc, now);
            brs__sctx_on_market(sc, &q);
            if (top.bid_qty && top.ask_qty) {
                double scale = s->instr[in].price_scale > 0 ? (double)s->instr[in].price_scale : 1;
                st->mark[in] = (double)(top.bid_price + top.ask_price) * 0.5 / scale;
            }
            delivered++;
        }
    }
    return delivered;
}
