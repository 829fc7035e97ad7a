/* book.c: the matching engine behind book.h: order pool, id hash, price levels
 * (a direct-indexed window with bitmaps plus an AVL tree of far levels,
 * farlevels.c) and the
 * price-time matching loop. Layout and costs are explained in docs/performance.md. */
#include "book/book.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "book/farlevels.h"
#include "core/core.h"

/* Prices and quantities are kept well inside int64 so that sentinels and
 * one-tick reprices never overflow. */
#define PMAX (INT64_C(1) << 62)
#define BID_EMPTY INT64_MIN
#define ASK_EMPTY INT64_MAX

/* One order record: exactly one cache line. Slot 0 of the pool is never used,
 * so index 0 means "none" in links and in the hash. */
typedef struct ord {
    uint64_t id;
    int64_t price;
    int64_t leaves; /* open quantity; 0 marks a free slot */
    int64_t qty;    /* total order quantity (FIX OrderQty) */
    int64_t cum;    /* filled so far */
    uint32_t next, prev;
    uint32_t instrument;
    uint32_t account;
    uint8_t side, type, tif, stp;
    uint32_t flags;
} ord;
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
} bside;

_Static_assert(sizeof(bside) <= 64, "a book side fits one cache line");

typedef struct book {
    bside s[2];
    brs_top top; /* last reported top of book */
    int ready;   /* window allocated */
} book;

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
    hslot *ht;
    book *books;
    uint32_t nbooks;
    uint32_t W;    /* window_ticks */
    size_t live;
    int64_t now;
    brs_book_listener L;
};

/* ---- listener defaults: a NULL member drops its event ---------------- */

static void nop_accepted(void *u, const brs_order *o, int64_t p) { (void)u, (void)o, (void)p; }
static void nop_rejected(void *u, uint32_t i, uint64_t id, int r) { (void)u, (void)i, (void)id, (void)r; }
static void nop_fill(void *u, const brs_book_fill *f) { (void)u, (void)f; }
static void nop_cancelled(void *u, uint32_t i, uint64_t id, int64_t q, int r)
{
    (void)u, (void)i, (void)id, (void)q, (void)r;
}
static void nop_replaced(void *u, uint32_t i, uint64_t id, int64_t p, int64_t q, int64_t l)
{
    (void)u, (void)i, (void)id, (void)p, (void)q, (void)l;
}
static void nop_level(void *u, uint32_t i, int s, int64_t p, int64_t q, uint32_t n)
{
    (void)u, (void)i, (void)s, (void)p, (void)q, (void)n;
}
static void nop_top(void *u, const brs_top *t) { (void)u, (void)t; }

/* ---- id hash: Robin Hood linear probing over pool indices -------------- */

/* Ids in blocks of 16 share 16 adjacent slots (callers assign ids
 * sequentially, so live ids sit at their home slots, two cache lines per
 * block), while the blocks themselves are scattered by a Fibonacci multiply so
 * strided ids do not pile up. */
static inline uint32_t ht_home(const brs_engine *e, uint64_t id)
{
    uint64_t blk = ((id >> 4) * UINT64_C(0x9E3779B97F4A7C15)) >> e->ht_shift;
    return (uint32_t)((blk << 4) | (id & 15));
}

/* Distance of slot i's entry from its home. */
static inline uint32_t ht_disp(const brs_engine *e, uint32_t i)
{
    return (i - e->ht[i].home) & e->ht_mask;
}

/* The slot holding id, or UINT32_MAX. Robin Hood order lets a miss stop at the
 * first entry closer to its home than we are to ours. */
static inline uint32_t ht_slot_at(const brs_engine *e, uint64_t id, uint32_t h)
{
    uint32_t i = h;
    for (uint32_t d = 0;; d++, i = (i + 1) & e->ht_mask) {
        const hslot *x = &e->ht[i];
        if ((x->idx == 0) | (ht_disp(e, i) < d))
            return UINT32_MAX;
        if (x->home == h && e->pool[x->idx].id == id)
            return i;
    }
}

static inline uint32_t ht_slot(const brs_engine *e, uint64_t id)
{
    return ht_slot_at(e, id, ht_home(e, id));
}

/* The pool index of id (home slot h), or 0. */
static inline uint32_t ht_find_at(const brs_engine *e, uint64_t id, uint32_t h)
{
    uint32_t i = ht_slot_at(e, id, h);
    return i == UINT32_MAX ? 0 : e->ht[i].idx;
}

static inline uint32_t ht_find(const brs_engine *e, uint64_t id)
{
    return ht_find_at(e, id, ht_home(e, id));
}

/* Adds pool[idx] (its id, whose home slot is h, not present). */
static inline void ht_insert_home(brs_engine *e, uint32_t idx, uint32_t h)
{
    hslot cur = {idx, h};
    uint32_t i = cur.home;
    for (uint32_t d = 0;; d++, i = (i + 1) & e->ht_mask) {
        hslot *x = &e->ht[i];
        if (!x->idx) {
            *x = cur;
            return;
        }
        uint32_t xd = ht_disp(e, i);
        if (xd < d) { /* take from the rich: the resident moves on */
            hslot t = *x;
            *x = cur;
            cur = t;
            d = xd;
        }
    }
}

static inline void ht_insert(brs_engine *e, uint32_t idx, uint64_t id)
{
    ht_insert_home(e, idx, ht_home(e, id));
}

/* Backward-shift delete: stops at an empty slot or an entry at its home. */
static inline void ht_delete(brs_engine *e, uint64_t id)
{
    uint32_t i = ht_slot(e, id);
    if (i == UINT32_MAX)
        return;
    for (;;) {
        uint32_t j = (i + 1) & e->ht_mask;
        if ((e->ht[j].idx == 0) | (ht_disp(e, j) == 0))
            break;
        e->ht[i] = e->ht[j];
        i = j;
    }
    e->ht[i] = (hslot){0, 0};
}

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
static brs__far *far_tree(bside *s)
{
    if (!s->far)
        s->far = calloc(1, sizeof *s->far);
    return s->far;
}

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
static int64_t next_worse(const bside *s, uint32_t W, int side, int64_t p)
{
    int64_t off = p - s->base, w;
    if (side == BRS_BUY) {
        w = off >= (int64_t)W ? bm_prev(s, (int64_t)W - 1) : bm_prev(s, off - 1);
        uint32_t i = s->far ? brs__far_below(s->far, p) : 0;
        int64_t best = w >= 0 ? s->base + w : BID_EMPTY;
        if (i && brs__far_price(s->far, i) > best)
            best = brs__far_price(s->far, i);
        return best;
    }
    w = off < 0 ? bm_next(s, W, 0) : bm_next(s, W, off + 1);
    uint32_t i = s->far ? brs__far_ceil(s->far, p + 1) : 0;
    int64_t best = w >= 0 ? s->base + w : ASK_EMPTY;
    if (i && brs__far_price(s->far, i) < best)
        best = brs__far_price(s->far, i);
    return best;
}

/* Moves the window so it starts at center - W/2: window levels go to the
 * far-level tree, far levels that now fall inside come into the window. */
static int recenter(bside *s, uint32_t W, int64_t center)
{
    uint32_t count = 0;
    for (uint32_t w = 0; w < W / 64; w++)
        count += (uint32_t)__builtin_popcountll(s->bits[w]);
    brs__far *t = far_tree(s);
    if (!t)
        return BRS_E_NOMEM;
    int rc = brs__far_reserve(t, count);
    if (rc)
        return rc;
    for (int64_t off = bm_next(s, W, 0); off >= 0; off = bm_next(s, W, off + 1)) {
        uint32_t i = brs__far_insert(t, s->base + off); /* reserved: cannot fail */
        *brs__far_level(t, i) = s->win[off];
        memset(&s->win[off], 0, sizeof(level));
    }
    memset(s->bits, 0, W / 64 * sizeof *s->bits);
    s->summary = 0;
    int64_t nb = center - (int64_t)(W / 2);
    for (uint32_t i; (i = brs__far_ceil(t, nb)) && brs__far_price(t, i) < nb + (int64_t)W;) {
        int64_t p = brs__far_price(t, i);
        uint32_t off = (uint32_t)(p - nb);
        s->win[off] = *brs__far_level(t, i);
        bm_set(s, off);
        brs__far_erase(t, p);
    }
    s->base = nb;
    s->ov_limit = t->count * 2 > 16 ? t->count * 2 : 16;
    return BRS_OK;
}

static level *level_make_outside(bside *s, uint32_t W, int64_t p);

/* The level at p, created (empty) if missing; NULL only when out of memory. */
static inline level *level_make(bside *s, uint32_t W, int64_t p)
{
    uint64_t off = (uint64_t)(p - s->base);
    if (BRS__LIKELY(off < W))
        return &s->win[off];
    return level_make_outside(s, W, p);
}

static __attribute__((noinline)) level *level_make_outside(bside *s, uint32_t W, int64_t p)
{
    /* Outside the window: move the window when the touch has left it, so the
     * busy prices stay direct-indexed; far, sparse prices stay in the overflow. */
    int recentre = s->summary == 0;
    int64_t c = p;
    if (!recentre && !in_window(s, W, s->best)) {
        /* summary != 0, so best is a real price, not a sentinel */
        int64_t dist = p > s->best ? p - s->best : s->best - p;
        recentre = dist < (int64_t)W / 2 || far_count(s) >= s->ov_limit;
        c = s->best;
    }
    if (recentre && recenter(s, W, c) == BRS_OK && in_window(s, W, p))
        return &s->win[p - s->base];
    brs__far *t = far_tree(s);
    uint32_t i = t ? brs__far_insert(t, p) : 0;
    if (!i)
        return NULL;
    if (t->count > s->ov_limit)
        s->ov_limit = t->count;
    return brs__far_level(t, i);
}

/* A level just became empty: drop it and move the best price if needed. */
static void level_gone(bside *s, uint32_t W, int side, int64_t p)
{
    uint64_t off = (uint64_t)(p - s->base);
    if (off < W) {
        bm_clear(s, (uint32_t)off);
    } else {
        brs__far_erase(s->far, p); /* the level existed, so the tree does */
    }
    if (p == s->best)
        s->best = next_worse(s, W, side, p);
}

/* ---- events --------------------------------------------------------------- */

/* Quantity at the best price of a non-empty side (rarely outside the window). */
static __attribute__((noinline)) int64_t best_qty_slow(const bside *s, uint32_t W)
{
    return level_find(s, W, s->best)->qty;
}

static inline int64_t best_qty(const bside *s, uint32_t W)
{
    uint64_t off = (uint64_t)(s->best - s->base);
    return BRS__LIKELY(off < W) ? s->win[off].qty : best_qty_slow(s, W);
}

/* Reports the top of book if its prices or quantities changed (always, when
 * the caller knows it did). */
static inline __attribute__((always_inline)) void emit_top_impl(brs_engine *e, book *b, uint32_t instrument,
                                                               int known)
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
    if (!known && ((bp ^ t->bid_price) | (bq ^ t->bid_qty) | (ap ^ t->ask_price) | (aq ^ t->ask_qty)) == 0)
        return;
    t->instrument = instrument;
    t->ts = e->now;
    t->bid_price = bp, t->bid_qty = bq, t->ask_price = ap, t->ask_qty = aq;
    e->L.xTop(e->L.user, t);
}

static inline void emit_top(brs_engine *e, book *b, uint32_t instrument)
{
    emit_top_impl(e, b, instrument, 0);
}

static inline void emit_level(brs_engine *e, uint32_t instrument, int side, int64_t p, const level *l)
{
    e->L.xLevel(e->L.user, instrument, side, p, l->qty, l->count);
}

/* ---- engine lifetime ------------------------------------------------------ */

static void *align64(void *p)
{
    return p ? (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63) : NULL;
}

int brs__engine_create(brs_engine **out, const brs_engine_config *cfg,
                       const brs_book_listener *listener, brs_error *err)
{
    *out = NULL;
    uint32_t max_orders = cfg && cfg->max_orders ? cfg->max_orders : 1u << 20;
    uint32_t nb = cfg && cfg->max_instruments ? cfg->max_instruments : 64;
    uint32_t W = cfg && cfg->window_ticks ? cfg->window_ticks : 1024;
    if (W < 64 || W > 4096 || (W & (W - 1)))
        return brs__err(err, BRS_E_INVAL, "window_ticks must be a power of 2 in 64..4096, not %u", W);
    if (max_orders > (1u << 30))
        return brs__err(err, BRS_E_INVAL, "max_orders %u exceeds 2^30", max_orders);
    brs_engine *e = calloc(1, sizeof *e);
    if (!e)
        return brs__err(err, BRS_E_NOMEM, "out of memory for the matching engine");
    e->cap = max_orders + 1;
    uint32_t hsize = 32; /* at least two blocks: keeps ht_shift below 64 */
    while (hsize < 2 * max_orders)
        hsize *= 2;
    e->ht_mask = hsize - 1;
    e->ht_shift = 64u - (uint32_t)__builtin_ctz(hsize / 16);
    e->hw = 1;
    e->W = W;
    e->nbooks = nb;
    /* calloc'd pages are mapped lazily, so a generous capacity costs little
     * until it is used; the extra line lets the arrays start on
     * a cache-line boundary, so a record is exactly one line and a block of 16
     * hash slots exactly two. */
    e->pool_mem = calloc((size_t)e->cap + 1, sizeof(ord));
    e->ht_mem = calloc(hsize + 8, sizeof(hslot));
    e->pool = (ord *)align64(e->pool_mem);
    e->ht = (hslot *)align64(e->ht_mem);
    /* the order pool fills from its start: huge pages where the system allows
     * (a fault per 2 MB, not per 4 KB; a restart of millions of orders was
     * mostly page faults) */
    if (e->pool_mem && ((size_t)e->cap + 1) * sizeof(ord) >= ((size_t)8 << 20)) {
        uintptr_t a = ((uintptr_t)e->pool_mem + 4095) & ~(uintptr_t)4095;
        uintptr_t z = ((uintptr_t)e->pool_mem + ((size_t)e->cap + 1) * sizeof(ord)) & ~(uintptr_t)4095;
        madvise((void *)a, z - a, MADV_HUGEPAGE);
    }
    e->books = calloc(nb, sizeof *e->books);
    if (!e->pool_mem || !e->ht_mem || !e->books) {
        brs__engine_destroy(e);
        return brs__err(err, BRS_E_NOMEM, "out of memory for %u orders", max_orders);
    }
    for (uint32_t i = 0; i < nb; i++) {
        e->books[i].s[BRS_BUY].best = BID_EMPTY;
        e->books[i].s[BRS_SELL].best = ASK_EMPTY;
        e->books[i].top.instrument = i;
    }
    brs_book_listener L = listener ? *listener : (brs_book_listener){0};
    e->L.user = L.user;
    e->L.xAccepted = L.xAccepted ? L.xAccepted : nop_accepted;
    e->L.xRejected = L.xRejected ? L.xRejected : nop_rejected;
    e->L.xFill = L.xFill ? L.xFill : nop_fill;
    e->L.xCancelled = L.xCancelled ? L.xCancelled : nop_cancelled;
    e->L.xReplaced = L.xReplaced ? L.xReplaced : nop_replaced;
    e->L.xLevel = L.xLevel ? L.xLevel : nop_level;
    e->L.xTop = L.xTop ? L.xTop : nop_top;
    *out = e;
    return BRS_OK;
}

void brs__engine_destroy(brs_engine *e)
{
    if (!e)
        return;
    if (e->books) {
        for (uint32_t i = 0; i < e->nbooks; i++) {
            free(e->books[i].s[0].win);
            for (int sd = 0; sd < 2; sd++)
                if (e->books[i].s[sd].far) {
                    brs__far_free(e->books[i].s[sd].far);
                    free(e->books[i].s[sd].far);
                }
        }
    }
    free(e->books);
    free(e->ht_mem);
    free(e->pool_mem);
    free(e);
}

/* One block holds both sides' windows and bitmaps. */
static int book_ready(brs_engine *e, book *b, int64_t center)
{
    if (b->ready)
        return BRS_OK;
    size_t lv = (size_t)e->W * sizeof(level), bm = (size_t)e->W / 64 * sizeof(uint64_t);
    char *mem = calloc(1, 2 * (lv + bm));
    if (!mem)
        return BRS_E_NOMEM;
    for (int sd = 0; sd < 2; sd++) {
        bside *s = &b->s[sd];
        s->win = (level *)(mem + (size_t)sd * lv);
        s->bits = (uint64_t *)(mem + 2 * lv + (size_t)sd * bm);
        s->base = center - (int64_t)(e->W / 2);
        s->ov_limit = 16;
    }
    b->ready = 1;
    return BRS_OK;
}

int brs__engine_reserve(brs_engine *e, uint32_t instrument, int64_t center_price)
{
    if (instrument >= e->nbooks)
        return BRS_E_RANGE;
    if (center_price <= -PMAX || center_price >= PMAX)
        return BRS_E_INVAL;
    book *b = &e->books[instrument];
    int rc = book_ready(e, b, center_price);
    if (rc)
        return rc;
    for (int sd = 0; sd < 2; sd++)
        if (!far_tree(&b->s[sd]) || (rc = brs__far_reserve(b->s[sd].far, 16)))
            return rc ? rc : BRS_E_NOMEM;
    return BRS_OK;
}

void brs__engine_set_time(brs_engine *e, int64_t ts)
{
    e->now = ts;
}

void brs__engine_reset(brs_engine *e)
{
    /* Few live orders: delete them one by one; many: wipe the table. */
    int wipe = e->live > (size_t)(e->ht_mask + 1) / 16;
    for (uint32_t i = 1; i < e->hw && e->live; i++) {
        if (!e->pool[i].leaves)
            continue;
        if (!wipe)
            ht_delete(e, e->pool[i].id);
        pool_free(e, i);
    }
    if (wipe)
        memset(e->ht, 0, ((size_t)e->ht_mask + 1) * sizeof *e->ht);
    /* Every slot is free now: hand them out in address order again rather than
     * chasing a free list through cold memory. */
    e->free_head = 0;
    e->hw = 1;
    for (uint32_t i = 0; i < e->nbooks; i++) {
        book *b = &e->books[i];
        for (int sd = 0; sd < 2 && b->ready; sd++) {
            bside *s = &b->s[sd];
            for (int64_t off = bm_next(s, e->W, 0); off >= 0; off = bm_next(s, e->W, off + 1))
                memset(&s->win[off], 0, sizeof(level));
            memset(s->bits, 0, e->W / 64 * sizeof *s->bits);
            s->summary = 0;
            if (s->far)
                brs__far_clear(s->far);
            s->ov_limit = 16;
        }
        b->s[BRS_BUY].best = BID_EMPTY;
        b->s[BRS_SELL].best = ASK_EMPTY;
        b->top = (brs_top){.instrument = i};
    }
}

/* ---- matching ---------------------------------------------------------------- */

typedef struct taker {
    uint64_t id;
    int64_t limit;
    int64_t leaves;
    int64_t cum;
    uint32_t instrument, account;
    uint8_t side, stp;
    int stopped; /* self-trade prevention ended matching */
} taker;

static inline int crosses(int side, int64_t opp_best, int64_t limit)
{
    return side == BRS_BUY ? opp_best <= limit : opp_best >= limit;
}

/* Trades the taker against the opposite side while it crosses. Inlined so the
 * taker lives in registers. */
static inline __attribute__((always_inline)) void match(brs_engine *e, book *b, taker *t)
{
    int oside = !t->side;
    bside *opp = &b->s[oside];
    ord *pool = e->pool;
    brs_book_fill f;
    f.instrument = t->instrument;
    f.taker_side = t->side;
    f.reserved[0] = f.reserved[1] = f.reserved[2] = 0;
    f.taker_id = t->id;
    f.taker_account = t->account;
    while (t->leaves > 0) {
        int64_t p = opp->best;
        if (!crosses(t->side, p, t->limit))
            break;
        level *l = level_find(opp, e->W, p);
        uint32_t oi = l->head;
        while (oi) {
            ord *m = &pool[oi];
            if (BRS__UNLIKELY(t->stp != BRS_STP_NONE && m->account == t->account)) {
                if (t->stp == BRS_STP_CANCEL_NEWEST) {
                    t->stopped = 1;
                    break;
                }
                uint32_t nx = m->next;
                l->qty -= m->leaves;
                l->count--;
                e->L.xCancelled(e->L.user, t->instrument, m->id, m->leaves, BRS_E_SELFTRADE);
                ht_delete(e, m->id);
                pool_free(e, oi);
                oi = nx;
                if (t->stp == BRS_STP_CANCEL_BOTH) {
                    t->stopped = 1;
                    break;
                }
                continue;
            }
            int64_t q = t->leaves < m->leaves ? t->leaves : m->leaves;
            m->leaves -= q;
            m->cum += q;
            t->leaves -= q;
            t->cum += q;
            l->qty -= q;
            f.maker_id = m->id;
            f.price = p;
            f.qty = q;
            f.maker_leaves = m->leaves;
            f.taker_leaves = t->leaves;
            f.maker_account = m->account;
            e->L.xFill(e->L.user, &f);
            if (m->leaves)
                break; /* the taker is done */
            uint32_t nx = m->next;
            l->count--;
            ht_delete(e, m->id);
            pool_free(e, oi);
            oi = nx;
            if (!t->leaves)
                break;
        }
        l->head = oi;
        if (oi)
            pool[oi].prev = 0;
        else
            l->tail = 0;
        emit_level(e, t->instrument, oside, p, l);
        if (!l->count)
            level_gone(opp, e->W, oside, p);
        if (t->stopped)
            break;
    }
}

/* Could the taker fill completely now? Walks the levels it would trade with,
 * honouring self-trade prevention the way match() will. */
static int fok_fillable(const brs_engine *e, const book *b, const taker *t)
{
    int oside = !t->side;
    const bside *opp = &b->s[oside];
    int64_t need = t->leaves;
    for (int64_t p = opp->best; crosses(t->side, p, t->limit); p = next_worse(opp, e->W, oside, p)) {
        const level *l = level_find(opp, e->W, p);
        for (uint32_t oi = l->head; oi; oi = e->pool[oi].next) {
            const ord *m = &e->pool[oi];
            if (t->stp != BRS_STP_NONE && m->account == t->account) {
                if (t->stp == BRS_STP_CANCEL_OLDEST)
                    continue;
                return 0;
            }
            need -= m->leaves;
            if (need <= 0)
                return 1;
        }
    }
    return 0;
}

/* Appends pool[oi] (price, side, leaves set) to the tail of its level.
 * BRS_E_NOMEM: no room for a new level; BRS_E_RANGE: the level's total would
 * pass INT64_MAX (orders are each < 2^62, so three huge ones could). */
static inline __attribute__((always_inline)) int rest(brs_engine *e, book *b, uint32_t instrument,
                                                      uint32_t oi)
{
    ord *o = &e->pool[oi];
    int sd = o->side;
    bside *s = &b->s[sd];
    level *l = level_make(s, e->W, o->price);
    if (BRS__UNLIKELY(!l))
        return BRS_E_NOMEM;
    if (BRS__UNLIKELY(o->leaves > INT64_MAX - l->qty))
        return BRS_E_RANGE; /* the level exists already (qty > 0): nothing to undo */
    o->next = 0;
    o->prev = l->tail;
    if (l->tail)
        e->pool[l->tail].next = oi;
    else
        l->head = oi;
    l->tail = oi;
    l->qty += o->leaves;
    if (l->count++ == 0) {
        uint64_t off = (uint64_t)(o->price - s->base);
        if (off < e->W)
            bm_set(s, (uint32_t)off);
        if (sd == BRS_BUY ? o->price > s->best : o->price < s->best)
            s->best = o->price;
    }
    emit_level(e, instrument, sd, o->price, l);
    return BRS_OK;
}

/* Takes pool[oi] out of its level (it stays in the hash and the pool). */
static void unlink_order(brs_engine *e, book *b, uint32_t oi)
{
    ord *o = &e->pool[oi];
    bside *s = &b->s[o->side];
    level *l = level_find(s, e->W, o->price);
    if (o->prev)
        e->pool[o->prev].next = o->next;
    else
        l->head = o->next;
    if (o->next)
        e->pool[o->next].prev = o->prev;
    else
        l->tail = o->prev;
    l->qty -= o->leaves;
    l->count--;
    emit_level(e, o->instrument, o->side, o->price, l);
    if (!l->count)
        level_gone(s, e->W, o->side, o->price);
}

static inline int price_ok(int64_t p)
{
    return (uint64_t)p + (uint64_t)(PMAX - 1) < 2 * (uint64_t)PMAX - 1;
}

/* Allowed bits of the bytes side, type, tif, stp read as one little-endian word. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BRS__ENUM_BITS_OK 0x03030101u
#define BRS__ENUM_PLAIN_OK 0x00010001u /* side 0..1, type 0, tif 0..1, stp 0 */
#else
#define BRS__ENUM_BITS_OK 0x01010303u
#define BRS__ENUM_PLAIN_OK 0x01000100u
#endif

static int reject(brs_engine *e, uint32_t instrument, uint64_t id, int reason)
{
    e->L.xRejected(e->L.user, instrument, id, reason);
    return reason;
}

/* The body of submit. With plain set (a GTC/DAY limit order, no post-only,
 * no self-trade prevention: most orders) the compiler drops every branch for
 * the other kinds. */
static inline __attribute__((always_inline)) int submit_impl(brs_engine *e, const brs_order *o, int plain)
{
    uint32_t ins = o->instrument;
    if (BRS__UNLIKELY(ins >= e->nbooks))
        return reject(e, ins, o->id, BRS_E_RANGE);
    int market = plain ? 0 : o->type == BRS_MARKET;
    uint32_t post = plain ? 0 : o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE);
    /* side, type, tif, stp are four adjacent bytes: side and type must be 0..1,
     * tif and stp 0..3, checked with one mask. */
    uint32_t enums;
    memcpy(&enums, &o->side, sizeof enums);
    _Static_assert(offsetof(brs_order, stp) == offsetof(brs_order, side) + 3, "brs_order enum bytes");
    if ((!plain && BRS__UNLIKELY(enums & ~BRS__ENUM_BITS_OK)) ||
        BRS__UNLIKELY((uint64_t)o->qty - 1 >= (uint64_t)PMAX - 1) ||
        BRS__UNLIKELY(!market && !price_ok(o->price)) ||
        BRS__UNLIKELY(post && (market || o->tif >= BRS_IOC)))
        return reject(e, ins, o->id, BRS_E_INVAL);
    uint32_t home = ht_home(e, o->id);
    if (BRS__UNLIKELY(ht_find_at(e, o->id, home)))
        return reject(e, ins, o->id, BRS_E_EXISTS);
    book *b = &e->books[ins];
    if (BRS__UNLIKELY(!b->ready) && book_ready(e, b, market ? 0 : o->price))
        return reject(e, ins, o->id, BRS_E_NOMEM);
    int rests = plain || (!market && o->tif <= BRS_DAY);
    if (BRS__UNLIKELY(rests && !pool_has_room(e)))
        return reject(e, ins, o->id, BRS_E_LIMIT);
    int64_t price = market ? (o->side == BRS_BUY ? PMAX : -PMAX) : o->price;
    if (BRS__UNLIKELY(post)) {
        int64_t ob = b->s[!o->side].best;
        if (crosses(o->side, ob, price)) {
            if (post & BRS_OF_POST_ONLY)
                return reject(e, ins, o->id, BRS_E_WOULDTAKE);
            price = o->side == BRS_BUY ? ob - 1 : ob + 1;
        }
    }
    if (BRS__LIKELY(rests)) {
        /* Refuse up front an order whose rest could push its level's total past
         * INT64_MAX, so the client sees a reject, never New then Canceled
         * (issue 15). Our side's level is not changed by matching. */
        const level *own = level_find(&b->s[o->side], e->W, price);
        if (BRS__UNLIKELY(own && own->qty > INT64_MAX - o->qty))
            return reject(e, ins, o->id, BRS_E_RANGE);
    }
    e->L.xAccepted(e->L.user, o, price);
    taker t = {.id = o->id, .limit = price, .leaves = o->qty, .instrument = ins,
               .account = o->account, .side = o->side, .stp = plain ? BRS_STP_NONE : o->stp};
    if (!plain && BRS__UNLIKELY(o->tif == BRS_FOK) && !fok_fillable(e, b, &t)) {
        e->L.xCancelled(e->L.user, ins, o->id, o->qty, BRS_E_NOLIQUIDITY);
        return BRS_OK;
    }
    /* The top can only change if we traded (or STP cancelled a resting order)
     * or rest at or better than our best; for plain orders, a trade or such a
     * rest always changes it. */
    int top = plain ? 0 : crosses(o->side, b->s[!o->side].best, price);
    match(e, b, &t);
    if (plain)
        top = t.leaves != o->qty;
    if (t.leaves > 0) {
        if (rests && !t.stopped) {
            top |= o->side == BRS_BUY ? price >= b->s[BRS_BUY].best : price <= b->s[BRS_SELL].best;
            uint32_t oi = pool_alloc(e);
            ord *r = &e->pool[oi];
            r->id = o->id;
            r->price = price;
            r->leaves = t.leaves;
            r->qty = o->qty;
            r->cum = t.cum;
            r->instrument = ins;
            r->account = o->account;
            r->side = o->side;
            r->type = o->type;
            r->tif = o->tif;
            r->stp = o->stp;
            r->flags = o->flags;
            int rrc = rest(e, b, ins, oi);
            if (BRS__UNLIKELY(rrc)) {
                r->leaves = 0;
                r->next = e->free_head;
                e->free_head = oi;
                e->L.xCancelled(e->L.user, ins, o->id, t.leaves, rrc);
            } else {
                ht_insert_home(e, oi, home);
                e->live++;
            }
        } else {
            e->L.xCancelled(e->L.user, ins, o->id, t.leaves,
                            t.stopped ? BRS_E_SELFTRADE : BRS_E_NOLIQUIDITY);
        }
    }
    if (top)
        emit_top_impl(e, b, ins, plain);
    return BRS_OK;
}

static __attribute__((noinline)) int submit_general(brs_engine *e, const brs_order *o)
{
    return submit_impl(e, o, 0);
}

int brs__engine_submit(brs_engine *e, const brs_order *o)
{
    /* type LIMIT, tif GTC or DAY, stp NONE, no post-only flag */
    uint32_t enums;
    memcpy(&enums, &o->side, sizeof enums);
    if (BRS__LIKELY((enums & ~BRS__ENUM_PLAIN_OK) == 0 &&
                    !(o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE))))
        return submit_impl(e, o, 1);
    return submit_general(e, o);
}

/* Removes a live order entirely (level, hash, pool). */
static void remove_order(brs_engine *e, uint32_t oi)
{
    ord *o = &e->pool[oi];
    unlink_order(e, &e->books[o->instrument], oi);
    ht_delete(e, o->id);
    pool_free(e, oi);
}

static __attribute__((noinline)) int cancel_found(brs_engine *e, uint64_t id, uint32_t oi);

/* Split so that the common unknown-id miss (feeds cancel long-gone ids) runs
 * without the found path's register saves. */
int brs__engine_cancel(brs_engine *e, uint64_t id)
{
    uint32_t oi = ht_find(e, id);
    if (oi)
        return cancel_found(e, id, oi);
    e->L.xRejected(e->L.user, BRS_BOOK_NO_INSTRUMENT, id, BRS_E_UNKNOWNORDER);
    return BRS_E_UNKNOWNORDER;
}

static int cancel_found(brs_engine *e, uint64_t id, uint32_t oi)
{
    ord *o = &e->pool[oi];
    uint32_t ins = o->instrument;
    e->L.xCancelled(e->L.user, ins, id, o->leaves, BRS_OK);
    remove_order(e, oi);
    emit_top(e, &e->books[ins], ins);
    return BRS_OK;
}

int brs__engine_replace(brs_engine *e, uint64_t id, int64_t price, int64_t qty)
{
    uint32_t oi = ht_find(e, id);
    if (!oi)
        return reject(e, BRS_BOOK_NO_INSTRUMENT, id, BRS_E_UNKNOWNORDER);
    ord *o = &e->pool[oi];
    uint32_t ins = o->instrument;
    book *b = &e->books[ins];
    if (BRS__UNLIKELY(!price_ok(price) || qty >= PMAX || qty - o->cum <= 0))
        return reject(e, ins, id, BRS_E_INVAL);
    int64_t leaves = qty - o->cum;
    if (price == o->price && leaves <= o->leaves) {
        /* Same price, not larger: keeps its place in the queue. */
        int64_t d = o->leaves - leaves;
        o->leaves = leaves;
        o->qty = qty;
        e->L.xReplaced(e->L.user, ins, id, price, qty, leaves);
        if (d) {
            level *l = level_find(&b->s[o->side], e->W, price);
            l->qty -= d;
            emit_level(e, ins, o->side, price, l);
            emit_top(e, b, ins);
        }
        return BRS_OK;
    }
    if (BRS__UNLIKELY(o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE))) {
        int64_t ob = b->s[!o->side].best;
        if (crosses(o->side, ob, price)) {
            if (o->flags & BRS_OF_POST_ONLY)
                return reject(e, ins, id, BRS_E_WOULDTAKE);
            price = o->side == BRS_BUY ? ob - 1 : ob + 1;
        }
    }
    {
        /* as on submit: a level total that could pass INT64_MAX is refused up
         * front, and the order stays as it was */
        const level *tl = level_find(&b->s[o->side], e->W, price);
        int64_t have = tl ? tl->qty - (price == o->price ? o->leaves : 0) : 0;
        if (BRS__UNLIKELY(have > INT64_MAX - leaves))
            return reject(e, ins, id, BRS_E_RANGE);
    }
    unlink_order(e, b, oi);
    o->price = price;
    o->qty = qty;
    o->leaves = leaves;
    e->L.xReplaced(e->L.user, ins, id, price, qty, leaves);
    taker t = {.id = id, .limit = price, .leaves = leaves, .cum = o->cum, .instrument = ins,
               .account = o->account, .side = o->side, .stp = o->stp};
    match(e, b, &t);
    o = &e->pool[oi];
    o->leaves = t.leaves;
    o->cum = t.cum;
    int rrc = 0;
    if (t.leaves == 0) {
        ht_delete(e, id);
        pool_free(e, oi);
    } else if (t.stopped || (rrc = rest(e, b, ins, oi))) {
        e->L.xCancelled(e->L.user, ins, id, t.leaves, t.stopped ? BRS_E_SELFTRADE : rrc);
        ht_delete(e, id);
        pool_free(e, oi);
    }
    emit_top(e, b, ins);
    return BRS_OK;
}

void brs__engine_end_of_day(brs_engine *e, uint32_t instrument)
{
    for (uint32_t i = 1; i < e->hw && e->live; i++) {
        ord *o = &e->pool[i];
        if (!o->leaves || o->tif != BRS_DAY ||
            (instrument != BRS_BOOK_NO_INSTRUMENT && o->instrument != instrument))
            continue;
        e->L.xCancelled(e->L.user, o->instrument, o->id, o->leaves, BRS_OK);
        remove_order(e, i);
    }
    for (uint32_t i = 0; i < e->nbooks; i++)
        if (e->books[i].ready && (instrument == BRS_BOOK_NO_INSTRUMENT || instrument == i))
            emit_top(e, &e->books[i], i);
}

/* ---- passive L3 ------------------------------------------------------------------ */

/* Rests the order record *tmpl as it stands (no matching; level and top
 * events only): the passive insert and the restore of a snapshot. */
static int rest_as_is(brs_engine *e, const ord *tmpl)
{
    if (tmpl->instrument >= e->nbooks)
        return BRS_E_RANGE;
    if ((tmpl->side != BRS_BUY && tmpl->side != BRS_SELL) || !price_ok(tmpl->price) ||
        tmpl->leaves <= 0 || tmpl->leaves >= PMAX || tmpl->qty < tmpl->leaves || tmpl->qty >= PMAX)
        return BRS_E_INVAL;
    if (ht_find(e, tmpl->id))
        return BRS_E_EXISTS;
    book *b = &e->books[tmpl->instrument];
    if (!b->ready && book_ready(e, b, tmpl->price))
        return BRS_E_NOMEM;
    uint32_t oi = pool_alloc(e);
    if (!oi)
        return BRS_E_LIMIT;
    ord *r = &e->pool[oi];
    *r = *tmpl;
    int rrc = rest(e, b, tmpl->instrument, oi);
    if (rrc) {
        r->leaves = 0;
        r->next = e->free_head;
        e->free_head = oi;
        return rrc;
    }
    ht_insert(e, oi, tmpl->id);
    e->live++;
    emit_top(e, b, tmpl->instrument);
    return BRS_OK;
}

int brs__engine_insert(brs_engine *e, uint32_t instrument, uint64_t id, int side, int64_t price,
                       int64_t qty)
{
    if (side != BRS_BUY && side != BRS_SELL)
        return BRS_E_INVAL;
    ord r = {.id = id, .price = price, .leaves = qty, .qty = qty, .instrument = instrument,
             .side = (uint8_t)side, .type = BRS_LIMIT, .tif = BRS_GTC};
    return rest_as_is(e, &r);
}

int brs__engine_restore(brs_engine *e, const brs_order *o, int64_t leaves, int64_t cum)
{
    if (o->type != BRS_LIMIT || cum < 0 || leaves <= 0 || cum > o->qty - leaves)
        return BRS_E_INVAL;
    ord r = {.id = o->id, .price = o->price, .leaves = leaves, .qty = o->qty, .cum = cum,
             .instrument = o->instrument, .account = o->account, .side = o->side,
             .type = o->type, .tif = o->tif, .stp = o->stp, .flags = o->flags};
    return rest_as_is(e, &r);
}

int brs__engine_reduce(brs_engine *e, uint64_t id, int64_t qty)
{
    uint32_t oi = ht_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    if (qty <= 0)
        return BRS_E_INVAL;
    ord *o = &e->pool[oi];
    uint32_t ins = o->instrument;
    if (qty >= o->leaves) {
        remove_order(e, oi);
    } else {
        bside *s = &e->books[ins].s[o->side];
        level *l = level_find(s, e->W, o->price);
        o->leaves -= qty;
        o->qty -= qty;
        l->qty -= qty;
        emit_level(e, ins, o->side, o->price, l);
    }
    emit_top(e, &e->books[ins], ins);
    return BRS_OK;
}

int brs__engine_delete(brs_engine *e, uint64_t id)
{
    uint32_t oi = ht_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    uint32_t ins = e->pool[oi].instrument;
    remove_order(e, oi);
    emit_top(e, &e->books[ins], ins);
    return BRS_OK;
}

/* ---- queries ------------------------------------------------------------------ */

int brs__engine_top(const brs_engine *e, uint32_t instrument, brs_top *out)
{
    if (instrument >= e->nbooks)
        return BRS_E_RANGE;
    *out = e->books[instrument].top;
    out->instrument = instrument;
    return BRS_OK;
}

size_t brs__engine_depth(const brs_engine *e, uint32_t instrument, int side, brs_level *out,
                         size_t n)
{
    if (instrument >= e->nbooks || (side != BRS_BUY && side != BRS_SELL))
        return 0;
    const book *b = &e->books[instrument];
    const bside *s = &b->s[side];
    int64_t empty = side == BRS_BUY ? BID_EMPTY : ASK_EMPTY;
    size_t k = 0;
    for (int64_t p = s->best; k < n && p != empty; p = next_worse(s, e->W, side, p)) {
        const level *l = level_find(s, e->W, p);
        out[k++] = (brs_level){.price = p, .qty = l->qty, .orders = l->count};
    }
    return k;
}

int brs__engine_order(const brs_engine *e, uint64_t id, brs_order_info *out)
{
    uint32_t oi = ht_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    const ord *o = &e->pool[oi];
    *out = (brs_order_info){.id = o->id, .instrument = o->instrument, .side = o->side,
                            .type = o->type, .tif = o->tif, .price = o->price, .qty = o->qty,
                            .leaves = o->leaves, .cum_qty = o->cum};
    return BRS_OK;
}

int brs__engine_queue_position(const brs_engine *e, uint64_t id, int64_t *ahead)
{
    uint32_t oi = ht_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    int64_t q = 0;
    for (uint32_t i = e->pool[oi].prev; i; i = e->pool[i].prev)
        q += e->pool[i].leaves;
    *ahead = q;
    return BRS_OK;
}

size_t brs__engine_level_queue(const brs_engine *e, uint32_t instrument, int side, int64_t price,
                               brs_queue_entry *out, size_t n)
{
    if (instrument >= e->nbooks || (side != BRS_BUY && side != BRS_SELL) ||
        !e->books[instrument].ready)
        return 0;
    const level *l = level_find(&e->books[instrument].s[side], e->W, price);
    if (!l)
        return 0;
    size_t k = 0;
    for (uint32_t i = l->head; i; i = e->pool[i].next, k++)
        if (k < n)
            out[k] = (brs_queue_entry){.id = e->pool[i].id, .leaves = e->pool[i].leaves};
    return k;
}

size_t brs__engine_live_orders(const brs_engine *e)
{
    return e->live;
}

size_t brs__engine_bytes_per_order(const brs_engine *e)
{
    size_t hash = ((size_t)e->ht_mask + 1) * sizeof *e->ht, n = e->cap - 1;
    return sizeof(ord) + (hash + n - 1) / n;
}
