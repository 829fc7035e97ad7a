/* view_impl.h: the market view's structures (view.c) and its per-event
 * path as inline functions, for view.c and for a loop that applies every
 * replayed event to the view and wants no call per event (book mode's run
 * of events, host/runtime/rt_strategy.c). Everything else of the view stays
 * in view.c; nothing here is a separate implementation. Internal. */
#ifndef BRS_BOOK_VIEW_IMPL_H
#define BRS_BOOK_VIEW_IMPL_H

#include "book/book_impl.h"
#include "book/view.h"

/* Direct-indexed levels per side (v->w): 4096, the most one summary word of
 * the bitmaps covers, for views of at most VIEW_WIDE_MAX instruments, else
 * 1024 (the engine's default). Levels are keyed by tick (view.c), so the
 * window spans +-2048 or +-512 ticks of its centre; an instrument turned to
 * tick 1 by an off-tick price spans that many price units, and orders
 * deeper go to the far-level tree. Both windows are 192 KiB an instrument
 * instead of 48 (mostly untouched pages: levels in use are a tick apart), so
 * a view of many instruments keeps the narrow window. */
#define VIEW_W_WIDE 4096u
#define VIEW_W_NARROW 1024u
#define VIEW_WIDE_MAX 64u
#define NONE UINT32_MAX

/* A live order; leaves 0 marks an empty slot. hs: the home slot, side in bit 31. */
typedef struct vord {
    uint64_t id;
    int64_t key; /* its price's key in its instrument's sides */
    int64_t leaves;
    uint32_t instrument;
    uint32_t hs;
} vord;
_Static_assert(sizeof(vord) == 32, "two order entries per cache line");

/* An instrument's sides, and how its prices map to their keys: a price on
 * the tick is (odd << tz) x key with odd the tick's odd part, so it has
 * its low tz bits clear and (price >> tz) x inv (inv: odd's inverse modulo
 * 2^64) is key, at most lim = INT64_MAX / odd from 0; any other price gives
 * a product farther from 0 (the multiply is a bijection taking the
 * multiples of odd to exactly those). An insert's fast path needs less: the
 * offset of its price from the window's first price ubase, times inv and
 * rotated right by tz, is below the window's width exactly when the price
 * is on the tick and in the window (keys and their prices stay inside int64
 * as ticks are at most VIEW_TICK_MAX). No division per event. */
typedef struct vbook {
    bside s[2];
    uint64_t ubase[2]; /* s[sd].base x tick */
    uint64_t inv;
    int64_t tick;   /* price of one key; 1 from the first off-tick price on */
    uint64_t lim, lim2; /* lim, 2 x lim */
    uint64_t low;   /* (1 << tz) - 1 */
    uint32_t tz;
    int ready;      /* windows allocated */
} vbook;

/* Ticks above it key by price unit (tick 1). */
#define VIEW_TICK_MAX (INT64_C(1) << 20)

struct brs__view {
    vord *t;
    void *t_mem;
    uint32_t mask, shift;
    uint32_t live, max_live;
    uint32_t max_mask; /* the table grows by doubling while live orders fill a quarter of it */
    uint32_t live_slow; /* an insert with this many live takes the slow path: max_live, or time to grow */
    vbook *books;
    uint32_t n;
    uint32_t w; /* levels in each side's window (VIEW_W_WIDE or VIEW_W_NARROW) */
    uint64_t *gen;
};

/* ---- the order map ----------------------------------------------------------- */

/* The home slot: ids in the same 64K-aligned run keep their order (the
 * low 16 bits XOR a constant of the run: sequential ids fill adjacent
 * slots, one cache line after another), while the runs themselves are
 * scattered by a Fibonacci multiply of the high bits, so ids that differ
 * only there (strided, tagged) do not pile up on one slot. */
static inline uint32_t home_of(const brs__view *v, uint64_t id)
{
    uint64_t run = ((id >> 16) * UINT64_C(0x9E3779B97F4A7C15)) >> v->shift;
    return ((uint32_t)id ^ (uint32_t)run) & v->mask;
}

static inline uint32_t disp(const brs__view *v, const vord *x, uint32_t i)
{
    return (i - (x->hs & 0x7fffffffu)) & v->mask;
}

/* The slot of id, or NONE (Robin Hood order: a miss stops at the first entry
 * nearer its home than id would be to its own). */
static inline uint32_t probe(const brs__view *v, uint64_t id, uint32_t *stop, uint32_t *stop_d)
{
    uint32_t i = home_of(v, id);
    for (uint32_t d = 0;; d++, i = (i + 1) & v->mask) {
        const vord *x = &v->t[i];
        if ((x->leaves == 0) | (disp(v, x, i) < d)) { /* one branch, not two */
            *stop = i, *stop_d = d; /* where id would go (put_at) */
            return NONE;
        }
        if (x->id == id)
            return i;
    }
}

static inline uint32_t find(const brs__view *v, uint64_t id)
{
    uint32_t i, d;
    return probe(v, id, &i, &d);
}

/* Adds an order whose id is not in the map, from slot i at displacement d
 * from its home (where its probe stopped; its home and 0 will do). There is
 * room: at most half the slots are in use. */
static inline void put_at(brs__view *v, vord cur, uint32_t i, uint32_t d)
{
    for (;; d++, i = (i + 1) & v->mask) {
        vord *x = &v->t[i];
        if (!x->leaves) {
            *x = cur;
            return;
        }
        uint32_t dx = disp(v, x, i);
        if (dx < d) {
            vord tmp = *x;
            *x = cur;
            cur = tmp;
            d = dx;
        }
    }
}

static inline void put(brs__view *v, vord cur) { put_at(v, cur, cur.hs & 0x7fffffffu, 0); }

/* Removes slot i's entry (backward shift: no tombstones). */
static inline void take(brs__view *v, uint32_t i)
{
    for (;;) {
        uint32_t j = (i + 1) & v->mask;
        const vord *x = &v->t[j];
        if ((x->leaves == 0) | (disp(v, x, j) == 0)) /* one branch: either ends the shift */
            break;
        v->t[i] = *x;
        i = j;
    }
    v->t[i].leaves = 0;
}

/* ---- the passive calls' common path ------------------------------------------------ */

/* An insert's slow path (view.c). */
int brs__view_insert_slow(brs__view *v, vbook *b, uint32_t in, int side, uint64_t id, int64_t price,
                          int64_t *key, uint64_t *off, level **l, uint32_t *at, uint32_t *at_d);
/* A modify (view.c, out of line). */
void brs__view_modify(brs__view *v, const brs_market_event *ev);

static inline __attribute__((always_inline)) int v_insert(brs__view *v, uint32_t in, uint64_t id, int side,
                                                          int64_t price, int64_t qty)
{
    /* the refusals in the engine's order, behind one branch */
    if (BRS__UNLIKELY(((unsigned)side > 1) | (in >= v->n) | !price_ok(price) | (qty <= 0) | (qty >= PMAX)))
        return (unsigned)side > 1 ? BRS_E_INVAL : in >= v->n ? BRS_E_RANGE : BRS_E_INVAL;
    uint32_t at = 0, at_d = 0;
    if (probe(v, id, &at, &at_d) != NONE)
        return BRS_E_EXISTS;
    vbook *b = &v->books[in];
    bside *s = &b->s[side];
    /* the window offset in ticks: below the width only on the tick and in
     * the window (vbook) */
    uint64_t x = ((uint64_t)price - b->ubase[side]) * b->inv, tz = b->tz;
    uint64_t off = (x >> tz) | (x << ((64 - tz) & 63));
    int64_t key;
    level *l;
    if (BRS__LIKELY((off < v->w) & (b->ready != 0) & (v->live < v->live_slow))) {
        key = s->base + (int64_t)off;
        l = &s->win[off];
    } else {
        int rc = brs__view_insert_slow(v, b, in, side, id, price, &key, &off, &l, &at, &at_d);
        if (rc)
            return rc;
    }
    if (BRS__UNLIKELY(qty > INT64_MAX - l->qty))
        return BRS_E_RANGE; /* the level held orders already: nothing to undo */
    /* at or through the best (a bid at or above it, an ask at or below it):
     * computed without a branch on the side, which is random */
    int64_t best = s->best;
    uint64_t at_top = ((uint64_t)(key >= best) & (uint64_t)(side ^ 1)) | ((uint64_t)(key <= best) & (uint64_t)side);
    l->qty += qty;
    if (l->count++ == 0) {
        if (off < v->w)
            bm_set(s, (uint32_t)off);
        if (side == BRS_BUY ? key > best : key < best)
            s->best = key;
    }
    put_at(v, (vord){.id = id, .key = key, .leaves = qty, .instrument = in,
                     .hs = home_of(v, id) | (uint32_t)side << 31},
           at, at_d);
    v->live++;
    v->gen[in] += at_top; /* at or through the best: that side's top moved */
    return BRS_OK;
}

/* Takes qty (all its open quantity: the order goes) from slot i's order. At
 * the best price (a live order is never better) the top's quantity or price
 * moves. */
static inline __attribute__((always_inline)) void remove_qty(brs__view *v, uint32_t i, int64_t qty)
{
    vord *o = &v->t[i];
    uint32_t in = o->instrument;
    int side = (int)(o->hs >> 31);
    int64_t key = o->key;
    bside *s = &v->books[in].s[side];
    v->gen[in] += (uint64_t)(key == s->best);
    level *l = level_find(s, v->w, key);
    l->qty -= qty;
    if (qty < o->leaves) {
        o->leaves -= qty;
    } else {
        if (--l->count == 0)
            level_gone(s, v->w, side, key);
        take(v, i);
        v->live--;
    }
}

/* A reduce (all = 0: qty of it, at most its open quantity) or a delete
 * (all = 1: qty unused) of id, one path for both. */
static inline __attribute__((always_inline)) int v_take(brs__view *v, uint64_t id, int64_t qty, int all)
{
    uint32_t i = find(v, id);
    if (i == NONE)
        return BRS_E_UNKNOWNORDER;
    if (BRS__UNLIKELY(!all & (qty <= 0)))
        return BRS_E_INVAL;
    int64_t leaves = v->t[i].leaves;
    remove_qty(v, i, (all | (qty > leaves)) ? leaves : qty);
    return BRS_OK;
}

/* brs__view_apply, inline. */
static inline __attribute__((always_inline)) int brs__view_apply_in(brs__view *v, const brs_market_event *ev)
{
    unsigned kind = ev->kind;
    if (kind == BRS_MEV_ADD)
        v_insert(v, ev->instrument, ev->order_id, ev->side, ev->price, ev->qty);
    else if (kind == BRS_MEV_CANCEL || kind == BRS_MEV_EXECUTE) /* a full cancel deletes, a partial one and an execution reduce */
        v_take(v, ev->order_id, ev->qty, kind == BRS_MEV_CANCEL && (ev->flags & BRS_MEVF_FULL));
    else if (kind == BRS_MEV_MODIFY)
        brs__view_modify(v, ev);
    else
        return 0;
    return 1;
}

#endif
