/* book_impl.h: the matching engine's internal structures (order pool, book
 * sides, the engine) and the inline helpers every engine file shares: pool,
 * bitmaps, level access, resting an order, events. Internal to host/book/. */
#ifndef BRS_BOOK_IMPL_H
#define BRS_BOOK_IMPL_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "book/farlevels.h"
#include "core/core.h"

/* Prices and quantities are kept well inside int64 so that sentinels and
 * one-tick reprices never overflow. */
#define PMAX (INT64_C(1) << 62)
#define BID_EMPTY INT64_MIN
#define ASK_EMPTY INT64_MAX

/* One order record: exactly one cache line. Slot 0 of the pool is never used,
 * so index 0 means "none" in links and in the hash. The first 40 bytes are
 * laid out as brs_order's, so a submit copies them in three moves. */
typedef struct ord {
    uint64_t id;
    uint32_t instrument;
    uint32_t account;
    int64_t price;
    int64_t qty;    /* total order quantity (FIX OrderQty) */
    uint8_t side, type, tif, stp;
    uint32_t flags;
    int64_t leaves; /* open quantity; 0 marks a free slot */
    int64_t cum;    /* filled so far */
    uint32_t next, prev;
} ord;
#define BRS__ORD_AS_ORDER 40 /* bytes of ord laid out as brs_order */
_Static_assert(offsetof(ord, id) == offsetof(brs_order, id) &&
                   offsetof(ord, instrument) == offsetof(brs_order, instrument) &&
                   offsetof(ord, account) == offsetof(brs_order, account) &&
                   offsetof(ord, price) == offsetof(brs_order, price) &&
                   offsetof(ord, qty) == offsetof(brs_order, qty) &&
                   offsetof(ord, side) == offsetof(brs_order, side) &&
                   offsetof(ord, stp) == offsetof(brs_order, stp) &&
                   offsetof(ord, flags) == offsetof(brs_order, flags) &&
                   offsetof(ord, leaves) == BRS__ORD_AS_ORDER,
               "ord starts as brs_order");
_Static_assert(sizeof(ord) == 64, "an order record is one cache line");

/* A price level: a FIFO of orders linked through the pool. All-zero = empty.
 * Levels outside the window live in the side's far-level tree (farlevels.h). */
typedef brs__level level;

typedef struct bside {
    level *win;      /* window_ticks levels; win[i] is price base + i */
    uint64_t *bits;  /* bit i: win[i] is non-empty */
    uint64_t summary;/* bit w: bits[w] != 0 */
    int64_t base;
    int64_t best;    /* best price, or BID_EMPTY / ASK_EMPTY */
    brs__far *far;   /* levels outside the window, by price; NULL until needed
                      * (a pointer keeps bside one 64-byte line) */
    uint32_t ov_limit, reserved;
    uint64_t pad; /* 64 bytes: b->s[side] is a shift, not a multiply */
} bside;

_Static_assert(sizeof(bside) == 64, "a book side is one cache line");

/* Both sides' windows of W levels and their bitmaps in one zeroed block,
 * centred on center (the engine's books and the market view's alike; the
 * block is freed through s[0].win). BRS_OK or BRS_E_NOMEM. */
static inline int brs__bsides_init(bside s[2], size_t W, int64_t center)
{
    size_t lv = W * sizeof(level), bm = W / 64 * sizeof(uint64_t);
    char *mem = calloc(1, 2 * (lv + bm));
    if (!mem)
        return BRS_E_NOMEM;
    for (int sd = 0; sd < 2; sd++) {
        s[sd].win = (level *)(mem + (size_t)sd * lv);
        s[sd].bits = (uint64_t *)(mem + 2 * lv + (size_t)sd * bm);
        s[sd].base = center - (int64_t)(W / 2);
        s[sd].ov_limit = 16;
    }
    return BRS_OK;
}

typedef struct book {
    bside s[2];
    brs_top top; /* last reported top of book */
    int ready;   /* window allocated */
    char pad[256 - 2 * sizeof(bside) - sizeof(brs_top) - sizeof(int)]; /* books[i]: a shift */
} book;
_Static_assert(sizeof(book) == 256, "a book is 256 bytes");

/* A hash slot: the order's pool index (0 = empty) and its home slot, so probes
 * and deletes never touch the pool to learn an entry's displacement. */
typedef struct hslot {
    uint32_t idx, home;
} hslot;

struct brs_engine {
    ord *pool;     /* cache-line aligned view of pool_mem */
    void *pool_mem, *ht_mem;
    uint32_t cap;  /* pool slots including slot 0 */
    uint32_t hw;   /* slots ever handed out (next fresh one) */
    uint32_t free_head;
    uint32_t ht_mask;
    uint32_t ht_shift; /* 64 - log2(slots / 16): the top bits of the block hash */
    hslot *ht;     /* the overflow hash (idhash.h): ids whose direct slot was taken */
    uint32_t *dir; /* direct id slots: dir[id & dir_mask] is a pool index or 0 */
    void *dir_mem;
    uint32_t dir_mask;
    uint32_t over; /* entries in the overflow hash */
    uint64_t id_max; /* no id above it was entered since the reset */
    /* Order quantities entered since the reset, or'ed (those up to 2^32 may
     * be left out): while it is below 2^32 every quantity was at most 2^32,
     * so no level total can pass INT64_MAX (at most 2^30 orders) and the
     * exact check is skipped. */
    uint64_t qty_or;
    book *books;
    uint32_t nbooks;
    uint32_t W;    /* window_ticks */
    size_t live;
    int64_t now;
    brs_book_listener L;
};

/* ---- pool ------------------------------------------------------------- */

static inline uint32_t pool_alloc(brs_engine *e)
{
    uint32_t i = e->free_head;
    if (i) {
        e->free_head = e->pool[i].next;
        return i;
    }
    if (e->hw < e->cap)
        return e->hw++;
    return 0;
}

static inline int pool_has_room(const brs_engine *e)
{
    return e->free_head != 0 || e->hw < e->cap;
}

static inline void pool_free(brs_engine *e, uint32_t i)
{
    e->pool[i].leaves = 0;
    e->pool[i].next = e->free_head;
    e->free_head = i;
    e->live--;
}

/* pool_free of a record m == &pool[i] whose leaves already went to 0 (a
 * filled maker): no second store of the free mark, no second address. */
static inline void pool_free_filled(brs_engine *e, ord *m, uint32_t i)
{
    m->next = e->free_head;
    e->free_head = i;
    e->live--;
}

/* ---- bitmaps ------------------------------------------------------------ */

/* Lowest non-empty window index >= from, or -1. */
static inline int64_t bm_next(const bside *s, uint32_t W, int64_t from)
{
    if (from >= (int64_t)W)
        return -1;
    uint32_t w = (uint32_t)from >> 6;
    uint64_t m = s->bits[w] & (~UINT64_C(0) << (from & 63));
    if (m)
        return ((int64_t)w << 6) + __builtin_ctzll(m);
    uint64_t sm = w + 1 < 64 ? s->summary & (~UINT64_C(0) << (w + 1)) : 0;
    if (!sm)
        return -1;
    w = (uint32_t)__builtin_ctzll(sm);
    return ((int64_t)w << 6) + __builtin_ctzll(s->bits[w]);
}

/* Highest non-empty window index <= from, or -1. */
static inline int64_t bm_prev(const bside *s, int64_t from)
{
    if (from < 0)
        return -1;
    uint32_t w = (uint32_t)from >> 6;
    uint64_t m = s->bits[w] & (~UINT64_C(0) >> (63 - (from & 63)));
    if (m)
        return ((int64_t)w << 6) + 63 - __builtin_clzll(m);
    uint64_t sm = s->summary & ((UINT64_C(1) << w) - 1);
    if (!sm)
        return -1;
    w = 63u - (uint32_t)__builtin_clzll(sm);
    return ((int64_t)w << 6) + 63 - __builtin_clzll(s->bits[w]);
}

static inline void bm_set(bside *s, uint32_t off)
{
    s->bits[off >> 6] |= UINT64_C(1) << (off & 63);
    s->summary |= UINT64_C(1) << (off >> 6);
}

static inline void bm_clear(bside *s, uint32_t off)
{
    uint64_t w = s->bits[off >> 6] &= ~(UINT64_C(1) << (off & 63));
    if (!w)
        s->summary &= ~(UINT64_C(1) << (off >> 6));
}

/* ---- levels ------------------------------------------------------------- */

static inline uint32_t far_count(const bside *s) { return s->far ? s->far->count : 0; }

/* The side's far-level tree, created on first use; NULL when out of memory. */
brs__far *brs__far_tree(bside *s);

static inline int in_window(const bside *s, uint32_t W, int64_t p)
{
    return (uint64_t)(p - s->base) < W;
}

/* The level at price p, or NULL when there is none. */
static inline level *level_find(const bside *s, uint32_t W, int64_t p)
{
    uint64_t off = (uint64_t)(p - s->base);
    if (BRS__LIKELY(off < W))
        return &s->win[off];
    uint32_t i = s->far ? brs__far_find(s->far, p) : 0;
    return i ? brs__far_level(s->far, i) : NULL;
}

/* The next non-empty price worse than p on this side (lower for bids, higher
 * for asks), or the side's empty sentinel. */
int64_t brs__next_worse(const bside *s, uint32_t W, int side, int64_t p);

/* Outside the window: a far level, or the window moved (levels.c). */
level *brs__level_make_outside(bside *s, uint32_t W, int64_t p);

/* The level at p, created (empty) if missing; NULL only when out of memory. */
static inline level *level_make(bside *s, uint32_t W, int64_t p)
{
    uint64_t off = (uint64_t)(p - s->base);
    if (BRS__LIKELY(off < W))
        return &s->win[off];
    return brs__level_make_outside(s, W, p);
}

/* A level just became empty: drop it and move the best price if needed. */
static inline void level_gone(bside *s, uint32_t W, int side, int64_t p)
{
    uint64_t off = (uint64_t)(p - s->base);
    if (off < W) {
        bm_clear(s, (uint32_t)off);
    } else {
        brs__far_erase(s->far, p); /* the level existed, so the tree does */
    }
    if (p == s->best)
        s->best = brs__next_worse(s, W, side, p);
}

/* The best level p of side s, in the window, just became empty and the side
 * has no far levels: drops it and returns the new best, which it also
 * stores. The next worse level is looked up in line, in the bitmap word that
 * was just written, with the side a constant, so a matching loop that
 * empties level after level (an IOC sweep) makes no call per level. */
static inline __attribute__((always_inline)) int64_t best_gone_win(bside *s, const int side, int64_t p)
{
    uint32_t off = (uint32_t)(p - s->base);
    uint32_t w = off >> 6, bit = off & 63;
    uint64_t word = s->bits[w] & ~(UINT64_C(1) << bit);
    s->bits[w] = word;
    uint64_t sm = s->summary;
    /* bit is clear in word now: "at or below" is "below", "at or above" is "above" */
    uint64_t m = side == BRS_BUY ? word & (~UINT64_C(0) >> (63 - bit)) : word & (~UINT64_C(0) << bit);
    int64_t nb;
    if (BRS__LIKELY(m != 0)) {
        nb = s->base + (int64_t)((w << 6) + (side == BRS_BUY ? 63u - (uint32_t)__builtin_clzll(m)
                                                             : (uint32_t)__builtin_ctzll(m)));
    } else {
        if (!word)
            s->summary = sm &= ~(UINT64_C(1) << w);
        /* the other words of the side (two shifts: w may be 63) */
        uint64_t o = side == BRS_BUY ? sm & ((UINT64_C(1) << w) - 1) : sm & (~UINT64_C(0) << w << 1);
        if (!o) {
            nb = side == BRS_BUY ? BID_EMPTY : ASK_EMPTY;
        } else {
            uint32_t v = side == BRS_BUY ? 63u - (uint32_t)__builtin_clzll(o) : (uint32_t)__builtin_ctzll(o);
            uint64_t bv = s->bits[v];
            nb = s->base + (int64_t)((v << 6) + (side == BRS_BUY ? 63u - (uint32_t)__builtin_clzll(bv)
                                                                 : (uint32_t)__builtin_ctzll(bv)));
        }
    }
    s->best = nb;
    return nb;
}

/* The best level p (in the window or not) of side s just became empty: drops
 * it and returns the new best. best_gone_win where it applies (p in the
 * window, no far levels), else level_gone. */
static inline __attribute__((always_inline)) int64_t best_gone(bside *s, uint32_t W, const int side, int64_t p)
{
    if (BRS__LIKELY((uint64_t)(p - s->base) < W) && BRS__LIKELY(far_count(s) == 0))
        return best_gone_win(s, side, p);
    level_gone(s, W, side, p);
    return s->best;
}

/* ---- events --------------------------------------------------------------- */

/* Quantity at the best price of a non-empty side (rarely outside the window). */
int64_t brs__best_qty_slow(const bside *s, uint32_t W);

static inline int64_t best_qty(const bside *s, uint32_t W)
{
    uint64_t off = (uint64_t)(s->best - s->base);
    return BRS__LIKELY(off < W) ? s->win[off].qty : brs__best_qty_slow(s, W);
}

/* Reports the top of book if its prices or quantities changed. */
static inline void emit_top(brs_engine *e, book *b, uint32_t instrument)
{
    const bside *bs = &b->s[BRS_BUY], *as = &b->s[BRS_SELL];
    int64_t bp = bs->best, ap = as->best, bq = 0, aq = 0;
    if (bp != BID_EMPTY)
        bq = best_qty(bs, e->W);
    else
        bp = 0;
    if (ap != ASK_EMPTY)
        aq = best_qty(as, e->W);
    else
        ap = 0;
    brs_top *t = &b->top;
    if (((bp ^ t->bid_price) | (bq ^ t->bid_qty) | (ap ^ t->ask_price) | (aq ^ t->ask_qty)) == 0)
        return;
    t->instrument = instrument;
    t->ts = e->now;
    t->bid_price = bp, t->bid_qty = bq, t->ask_price = ap, t->ask_qty = aq;
    e->L.xTop(e->L.user, t);
}

static inline void emit_level(brs_engine *e, uint32_t instrument, int side, int64_t p, const level *l)
{
    e->L.xLevel(e->L.user, instrument, side, p, l->qty, l->count);
}

/* ---- orders in levels ------------------------------------------------------ */

/* Appends pool[oi] (price, side sd, leaves set) to the tail of its level
 * (pool: e->pool, passed so a caller that just wrote the record through a
 * memcpy need not load it again);
 * total_checked: the caller made sure the level total cannot pass INT64_MAX.
 * BRS_E_NOMEM: no room for a new level; BRS_E_RANGE: the level's total would
 * pass INT64_MAX (orders are each < 2^62, so three huge ones could). On
 * success *lout (if not NULL) is the level it joined. The window case is
 * written out on its own so the compiler knows that its level exists and that
 * the level's bit is in the window's bitmap (no NULL or range test). */
static inline __attribute__((always_inline)) int rest_side(brs_engine *e, ord *pool, book *b,
                                                           uint32_t instrument, uint32_t oi, int sd,
                                                           int total_checked, level **lout)
{
    ord *o = &pool[oi];
    bside *s = &b->s[sd];
    int64_t p = o->price;
    uint64_t off = (uint64_t)(p - s->base);
    level *l;
    if (BRS__LIKELY(off < e->W)) {
        l = &s->win[off];
    } else {
        l = brs__level_make_outside(s, e->W, p);
        if (BRS__UNLIKELY(!l))
            return BRS_E_NOMEM;
        off = (uint64_t)(p - s->base); /* the window may have moved */
    }
    if (!total_checked && BRS__UNLIKELY(o->leaves > INT64_MAX - l->qty))
        return BRS_E_RANGE; /* the level exists already (qty > 0): nothing to undo */
    o->next = 0;
    o->prev = l->tail;
    if (l->tail)
        pool[l->tail].next = oi;
    else
        l->head = oi;
    l->tail = oi;
    l->qty += o->leaves;
    if (l->count++ == 0) {
        if (off < e->W)
            bm_set(s, (uint32_t)off);
        if (sd == BRS_BUY ? p > s->best : p < s->best)
            s->best = p;
    }
    emit_level(e, instrument, sd, p, l);
    if (lout)
        *lout = l;
    return BRS_OK;
}

static inline __attribute__((always_inline)) int rest(brs_engine *e, book *b, uint32_t instrument,
                                                      uint32_t oi)
{
    return rest_side(e, e->pool, b, instrument, oi, e->pool[oi].side, 0, NULL);
}

/* A limit price the engine accepts: well inside int64 (see PMAX). */
static inline int price_ok(int64_t p)
{
    return (uint64_t)p + (uint64_t)(PMAX - 1) < 2 * (uint64_t)PMAX - 1;
}

/* Allocates both windows of a book on first use (levels.c). */
int brs__book_ready(brs_engine *e, book *b, int64_t center);
/* Takes pool[oi] out of its level (it stays in the hash and the pool). */
void brs__unlink_order(brs_engine *e, book *b, uint32_t oi);
/* Removes a live order entirely (level, hash, pool). */
void brs__remove_order(brs_engine *e, uint32_t oi);

#endif
