/* levels.c: price-level storage of a book side outside the inline fast path:
 * allocating the windows, moving a window, far levels (farlevels.c), the next
 * worse price, and taking orders out of their levels. */
#include <stdlib.h>
#include <string.h>

#include "book/book_impl.h"
#include "book/idhash.h"

brs__far *brs__far_tree(bside *s)
{
    if (!s->far)
        s->far = calloc(1, sizeof *s->far);
    return s->far;
}

int64_t brs__next_worse(const bside *s, uint32_t W, int side, int64_t p)
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
    brs__far *t = brs__far_tree(s);
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

level *brs__level_make_outside(bside *s, uint32_t W, int64_t p)
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
    brs__far *t = brs__far_tree(s);
    uint32_t i = t ? brs__far_insert(t, p) : 0;
    if (!i)
        return NULL;
    if (t->count > s->ov_limit)
        s->ov_limit = t->count;
    return brs__far_level(t, i);
}

/* Quantity at the best price of a non-empty side outside the window. */
int64_t brs__best_qty_slow(const bside *s, uint32_t W)
{
    return level_find(s, W, s->best)->qty;
}

/* One block holds both sides' windows and bitmaps. */
int brs__book_ready(brs_engine *e, book *b, int64_t center)
{
    if (b->ready)
        return BRS_OK;
    if (brs__bsides_init(b->s, (size_t)e->W, center) != BRS_OK)
        return BRS_E_NOMEM;
    b->ready = 1;
    return BRS_OK;
}
void brs__unlink_order(brs_engine *e, book *b, uint32_t oi)
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

void brs__remove_order(brs_engine *e, uint32_t oi)
{
    ord *o = &e->pool[oi];
    brs__unlink_order(e, &e->books[o->instrument], oi);
    id_remove(e, o->id, oi);
    pool_free(e, oi);
}
