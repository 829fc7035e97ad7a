/* view.c: the passive L3 book of market data (view.h; its structures and
 * per-event path in view_impl.h): an order map (Robin
 * Hood linear probing over 32-byte entries, consecutive ids in adjacent
 * slots) and the engine's book sides
 * for the levels, without the order pool and the levels' FIFOs. The top is
 * read from the sides when asked for; its change count moves on every event
 * at the best price of a side (or better, for an insert): exactly the events
 * that move it (each changes that side's best price or its quantity).
 *
 * The sides are indexed by key, not price: key = price / tick, the
 * instrument's tick size given at creation, while every price seen is on the
 * tick; the window's levels are then a tick apart. The first price off the
 * tick turns the instrument to tick 1 for good (its levels and orders
 * rekeyed once: to_units), so such prices work as they did before keys. A
 * key maps back to its price by one multiply; the order of keys is the
 * order of prices, so the best, the depth and every answer are the same. */
#include <stdlib.h>
#include <string.h>

#include "book/view_impl.h"

/* ---- the order map ----------------------------------------------------------- */

/* The live count at which an insert leaves the fast path: max_live (refused),
 * or an eighth of the slots while the table may still double (8 x (live + 1)
 * past the slots: it grows first). */
static void set_live_slow(brs__view *v)
{
    uint32_t g = v->mask < v->max_mask ? (v->mask + 1) / 8 : UINT32_MAX;
    v->live_slow = g < v->max_live ? g : v->max_live;
}

static int table_alloc(brs__view *v, uint32_t slots)
{
    /* the extra line aligns the table so an entry never straddles two lines */
    void *mem = calloc((size_t)slots + 2, sizeof(vord));
    if (!mem)
        return BRS_E_NOMEM;
    v->t_mem = mem;
    v->t = (vord *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    v->mask = slots - 1;
    v->shift = 64u - (uint32_t)__builtin_ctz(slots);
    set_live_slow(v);
    return BRS_OK;
}

/* Twice the slots, every entry moved (at most a quarter of the slots are
 * in use, half when max_orders is near 2^30): the table follows the orders live at once, not max_orders, so it
 * stays in cache and its pages are touched once. */
static int grow(brs__view *v)
{
    vord *old = v->t;
    void *old_mem = v->t_mem;
    uint32_t n = v->mask + 1;
    if (table_alloc(v, 2 * n))
        return BRS_E_NOMEM;
    for (uint32_t i = 0; i < n; i++)
        if (old[i].leaves) {
            vord e = old[i];
            e.hs = home_of(v, e.id) | (e.hs & 0x80000000u);
            put(v, e);
        }
    free(old_mem);
    return BRS_OK;
}

/* ---- levels and the top ---------------------------------------------------------- */

static int book_ready(vbook *b, uint32_t w, int64_t center)
{
    if (brs__bsides_init(b->s, (size_t)w, center) != BRS_OK)
        return BRS_E_NOMEM;
    b->ready = 1;
    return BRS_OK;
}

/* Prices of b map to keys by tick (< 1 or > VIEW_TICK_MAX: 1). */
static void set_tick(vbook *b, int64_t tick)
{
    uint64_t t = tick > 1 && tick <= VIEW_TICK_MAX ? (uint64_t)tick : 1, odd = t >> __builtin_ctzll(t), inv = odd;
    for (int k = 0; k < 5; k++) /* Newton's steps double the bits right: 3, 6, ..., 96 */
        inv *= 2 - odd * inv;
    b->tick = (int64_t)t;
    b->tz = (uint32_t)__builtin_ctzll(t);
    b->low = (UINT64_C(1) << b->tz) - 1;
    b->inv = inv;
    b->lim = (uint64_t)INT64_MAX / odd;
    b->lim2 = 2 * b->lim;
}

/* The key of price (a price price_ok accepts) in b: 1 and *key set when the
 * price is on b's tick, else 0. */
static inline int key_of(const vbook *b, int64_t price, int64_t *key)
{
    uint64_t q = (uint64_t)(price >> b->tz) * b->inv;
    *key = (int64_t)q;
    return (((uint64_t)price & b->low) == 0) & (q + b->lim <= b->lim2);
}

/* The window's first price on each side, after its base moved. */
static inline void sync_base(vbook *b)
{
    for (int sd = 0; sd < 2; sd++)
        b->ubase[sd] = (uint64_t)b->s[sd].base * (uint64_t)b->tick;
}

static void sides_free(bside s[2])
{
    free(s[0].win); /* one block: both windows and bitmaps */
    for (int sd = 0; sd < 2; sd++)
        if (s[sd].far) {
            brs__far_free(s[sd].far);
            free(s[sd].far);
        }
}

/* An off-tick price for instrument in (book b): from now on its keys are
 * its prices. Its levels move to new sides under their prices, its orders'
 * keys become their prices; BRS_E_NOMEM leaves everything as it was. Once
 * an instrument at most, so it may take its time. */
static __attribute__((noinline)) int to_units(brs__view *v, vbook *b, uint32_t in, int64_t price)
{
    int64_t t = b->tick;
    if (b->ready) {
        bside ns[2] = {{0}};
        if (brs__bsides_init(ns, (size_t)v->w, price) != BRS_OK)
            return BRS_E_NOMEM;
        for (int sd = 0; sd < 2; sd++) {
            bside *s = &b->s[sd], *n = &ns[sd];
            int64_t empty = sd == BRS_BUY ? BID_EMPTY : ASK_EMPTY;
            n->best = empty;
            /* best first, so a level outside the window goes to the far
             * levels once the window holds the best (levels.c) */
            for (int64_t k = s->best; k != empty; k = brs__next_worse(s, v->w, sd, k)) {
                int64_t p = k * t;
                level *l = level_make(n, v->w, p);
                if (!l) {
                    sides_free(ns);
                    return BRS_E_NOMEM;
                }
                *l = *level_find(s, v->w, k);
                uint64_t off = (uint64_t)(p - n->base);
                if (off < v->w)
                    bm_set(n, (uint32_t)off);
                if (n->best == empty)
                    n->best = p;
            }
        }
        sides_free(b->s);
        b->s[0] = ns[0], b->s[1] = ns[1];
    }
    for (uint32_t i = 0; i <= v->mask; i++)
        if (v->t[i].leaves && v->t[i].instrument == in)
            v->t[i].key *= t;
    set_tick(b, 1);
    sync_base(b);
    return BRS_OK;
}

/* ---- the passive calls ------------------------------------------------------------- */

/* An insert's slow path: an off-tick price for an instrument keyed by
 * tick, the instrument's first order, the live limit, the table due to
 * grow, a price outside the window (in the order the checks always ran).
 * Sets the price's key, its level (made if missing) and the level's offset
 * in the window (>= the width: a far level). */
int brs__view_insert_slow(brs__view *v, vbook *b, uint32_t in, int side, uint64_t id, int64_t price,
                           int64_t *key, uint64_t *off, level **l, uint32_t *at, uint32_t *at_d)
{
    if (!key_of(b, price, key)) {
        if (to_units(v, b, in, price))
            return BRS_E_NOMEM;
        *key = price;
    }
    if (!b->ready) {
        if (book_ready(b, v->w, *key))
            return BRS_E_NOMEM;
        sync_base(b);
    }
    if (v->live >= v->max_live)
        return BRS_E_LIMIT;
    if (8 * ((uint64_t)v->live + 1) > (uint64_t)v->mask + 1 && v->mask < v->max_mask) {
        if (grow(v))
            return BRS_E_NOMEM;
        probe(v, id, at, at_d);
    }
    bside *s = &b->s[side];
    *off = (uint64_t)(*key - s->base);
    if (*off < v->w) {
        *l = &s->win[*off];
    } else {
        if (!(*l = brs__level_make_outside(s, v->w, *key)))
            return BRS_E_NOMEM;
        *off = (uint64_t)(*key - s->base); /* the window may have moved */
        sync_base(b);
    }
    return BRS_OK;
}

int brs__view_insert(brs__view *v, uint32_t in, uint64_t id, int side, int64_t price, int64_t qty)
{
    return v_insert(v, in, id, side, price, qty);
}

int brs__view_reduce(brs__view *v, uint64_t id, int64_t qty) { return v_take(v, id, qty, 0); }

int brs__view_delete(brs__view *v, uint64_t id) { return v_take(v, id, 0, 1); }

/* A modify (rare): delete, then insert under aux when set. Out of line, so
 * a loop applying events keeps its registers for the common kinds. */
__attribute__((noinline)) void brs__view_modify(brs__view *v, const brs_market_event *ev)
{
    v_take(v, ev->order_id, 0, 1);
    v_insert(v, ev->instrument, ev->aux ? (uint64_t)ev->aux : ev->order_id, ev->side, ev->price, ev->qty);
}

int brs__view_apply(brs__view *v, const brs_market_event *ev) { return brs__view_apply_in(v, ev); }

/* ---- queries ---------------------------------------------------------------------- */

int brs__view_top(const brs__view *v, uint32_t in, brs_top *out)
{
    if (in >= v->n)
        return BRS_E_RANGE;
    const vbook *b = &v->books[in];
    const bside *bs = &b->s[BRS_BUY], *as = &b->s[BRS_SELL];
    *out = (brs_top){.instrument = in};
    if (bs->best != BID_EMPTY) {
        out->bid_price = bs->best * b->tick;
        out->bid_qty = best_qty(bs, v->w);
    }
    if (as->best != ASK_EMPTY) {
        out->ask_price = as->best * b->tick;
        out->ask_qty = best_qty(as, v->w);
    }
    return BRS_OK;
}

/* brs__view_top_update with a side empty or its best outside the window. */
static __attribute__((noinline)) int top_update_slow(const brs__view *v, uint32_t in, brs_top *t)
{
    brs_top x = {0};
    brs__view_top(v, in, &x);
    int changed = ((x.bid_price ^ t->bid_price) | (x.bid_qty ^ t->bid_qty) | (x.ask_price ^ t->ask_price) |
                   (x.ask_qty ^ t->ask_qty)) != 0;
    t->bid_price = x.bid_price;
    t->bid_qty = x.bid_qty;
    t->ask_price = x.ask_price;
    t->ask_qty = x.ask_qty;
    return changed;
}

/* The top in place: the caller's copy compared and written field by field,
 * never built on the stack and copied (a 16-byte load of a struct written by
 * 8-byte stores is not forwarded from the store buffer: it waits for them),
 * and both bests read from the window without a call (anything else, an
 * empty side or a far best, out of line). */
int brs__view_top_update(const brs__view *v, uint32_t in, brs_top *t)
{
    if (in >= v->n)
        return BRS_E_RANGE;
    const vbook *b = &v->books[in];
    const bside *bs = &b->s[BRS_BUY], *as = &b->s[BRS_SELL];
    /* an empty side's best (INT64_MIN or INT64_MAX) is far outside too */
    uint64_t bo = (uint64_t)bs->best - (uint64_t)bs->base, ao = (uint64_t)as->best - (uint64_t)as->base;
    if (BRS__UNLIKELY((bo >= v->w) | (ao >= v->w)))
        return top_update_slow(v, in, t);
    int64_t bp = bs->best * b->tick, bq = bs->win[bo].qty, ap = as->best * b->tick, aq = as->win[ao].qty;
    int changed = ((bp ^ t->bid_price) | (bq ^ t->bid_qty) | (ap ^ t->ask_price) | (aq ^ t->ask_qty)) != 0;
    t->bid_price = bp;
    t->bid_qty = bq;
    t->ask_price = ap;
    t->ask_qty = aq;
    return changed;
}

size_t brs__view_depth(const brs__view *v, uint32_t in, int side, brs_level *out, size_t n)
{
    if (in >= v->n || (side != BRS_BUY && side != BRS_SELL))
        return 0;
    const vbook *b = &v->books[in];
    const bside *s = &b->s[side];
    int64_t empty = side == BRS_BUY ? BID_EMPTY : ASK_EMPTY;
    size_t k = 0;
    for (int64_t key = s->best; k < n && key != empty; key = brs__next_worse(s, v->w, side, key)) {
        const level *l = level_find(s, v->w, key);
        out[k++] = (brs_level){.price = key * b->tick, .qty = l->qty, .orders = l->count};
    }
    return k;
}

const uint64_t *brs__view_gen(const brs__view *v) { return v->gen; }

size_t brs__view_live(const brs__view *v) { return v->live; }

/* ---- lifetime ------------------------------------------------------------------------ */

int brs__view_create(brs__view **out, uint32_t n_instr, const brs_instrument *instr, uint32_t max_orders,
                     brs_error *err)
{
    *out = NULL;
    uint32_t n = n_instr ? n_instr : 1, max = max_orders ? max_orders : 1u << 20;
    if (max > (1u << 30))
        return brs__err(err, BRS_E_INVAL, "max_orders %u exceeds 2^30", max);
    brs__view *v = calloc(1, sizeof *v);
    if (!v)
        return brs__err(err, BRS_E_NOMEM, "out of memory for the market view");
    uint64_t slots = 32; /* a quarter full at max orders (half at 2^30) */
    while (slots < 4 * (uint64_t)max && slots < (UINT64_C(1) << 31))
        slots *= 2;
    v->max_mask = (uint32_t)(slots - 1);
    v->max_live = max;
    v->n = n;
    v->w = n <= VIEW_WIDE_MAX ? VIEW_W_WIDE : VIEW_W_NARROW;
    v->books = calloc(n, sizeof *v->books);
    v->gen = calloc(n, sizeof *v->gen);
    /* 64 slots to start with: grows by doubling, at most to slots */
    if (table_alloc(v, slots < 64 ? (uint32_t)slots : 64) || !v->books || !v->gen) {
        brs__view_destroy(v);
        return brs__err(err, BRS_E_NOMEM, "out of memory for the market view of %u orders", max);
    }
    for (uint32_t i = 0; i < n; i++) {
        v->books[i].s[BRS_BUY].best = BID_EMPTY;
        v->books[i].s[BRS_SELL].best = ASK_EMPTY;
        set_tick(&v->books[i], instr && i < n_instr ? instr[i].tick_size : 1);
    }
    *out = v;
    return BRS_OK;
}

void brs__view_destroy(brs__view *v)
{
    if (!v)
        return;
    for (uint32_t i = 0; v->books && i < v->n; i++)
        sides_free(v->books[i].s);
    free(v->books);
    free(v->gen);
    free(v->t_mem);
    free(v);
}
