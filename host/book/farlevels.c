/* farlevels.c: the AVL tree of far-away price levels (see farlevels.h).
 * Recursive insert and erase: the depth is at most 1.44 log2(n), under 45 for
 * any number of levels the order pool can hold. */
#include "book/farlevels.h"

#include <stdlib.h>
#include <string.h>

#include <bourse/errors.h>

static inline int32_t h(const brs__far *t, uint32_t i) { return i ? t->n[i].height : 0; }

static inline void fix(brs__far *t, uint32_t i)
{
    int32_t a = h(t, t->n[i].left), b = h(t, t->n[i].right);
    t->n[i].height = (a > b ? a : b) + 1;
}

static uint32_t rot_right(brs__far *t, uint32_t i)
{
    uint32_t l = t->n[i].left;
    t->n[i].left = t->n[l].right;
    t->n[l].right = i;
    fix(t, i);
    fix(t, l);
    return l;
}

static uint32_t rot_left(brs__far *t, uint32_t i)
{
    uint32_t r = t->n[i].right;
    t->n[i].right = t->n[r].left;
    t->n[r].left = i;
    fix(t, i);
    fix(t, r);
    return r;
}

static uint32_t balance(brs__far *t, uint32_t i)
{
    fix(t, i);
    int32_t bf = h(t, t->n[i].left) - h(t, t->n[i].right);
    if (bf > 1) {
        uint32_t l = t->n[i].left;
        if (h(t, t->n[l].left) < h(t, t->n[l].right))
            t->n[i].left = rot_left(t, l);
        return rot_right(t, i);
    }
    if (bf < -1) {
        uint32_t r = t->n[i].right;
        if (h(t, t->n[r].right) < h(t, t->n[r].left))
            t->n[i].right = rot_right(t, r);
        return rot_left(t, i);
    }
    return i;
}

int brs__far_reserve(brs__far *t, uint32_t more)
{
    uint32_t free_nodes = t->cap ? t->cap - (t->hw ? t->hw : 1) : 0;
    for (uint32_t f = t->free_head; f && free_nodes < more; f = t->n[f].left)
        free_nodes++;
    if (free_nodes >= more && t->n)
        return BRS_OK;
    uint64_t need = (uint64_t)(t->hw ? t->hw : 1) + more;
    uint64_t cap = t->cap ? t->cap : 16;
    while (cap < need)
        cap *= 2;
    if (cap > UINT32_MAX)
        return BRS_E_NOMEM;
    brs__far_node *n = realloc(t->n, (size_t)cap * sizeof *n);
    if (!n)
        return BRS_E_NOMEM;
    t->n = n;
    t->cap = (uint32_t)cap;
    if (!t->hw)
        t->hw = 1;
    return BRS_OK;
}

void brs__far_free(brs__far *t)
{
    free(t->n);
    memset(t, 0, sizeof *t);
}

void brs__far_clear(brs__far *t)
{
    t->root = t->count = t->free_head = 0;
    t->hw = t->n ? 1 : 0;
}

uint32_t brs__far_find(const brs__far *t, int64_t p)
{
    uint32_t i = t->root;
    while (i && t->n[i].price != p)
        i = p < t->n[i].price ? t->n[i].left : t->n[i].right;
    return i;
}

uint32_t brs__far_ceil(const brs__far *t, int64_t p)
{
    uint32_t i = t->root, best = 0;
    while (i) {
        if (t->n[i].price >= p) {
            best = i;
            i = t->n[i].left;
        } else {
            i = t->n[i].right;
        }
    }
    return best;
}

uint32_t brs__far_below(const brs__far *t, int64_t p)
{
    uint32_t i = t->root, best = 0;
    while (i) {
        if (t->n[i].price < p) {
            best = i;
            i = t->n[i].right;
        } else {
            i = t->n[i].left;
        }
    }
    return best;
}

static uint32_t node_new(brs__far *t, int64_t p)
{
    uint32_t i = t->free_head;
    if (i) {
        t->free_head = t->n[i].left;
    } else {
        if ((!t->n || t->hw >= t->cap) && brs__far_reserve(t, 1) != BRS_OK)
            return 0;
        i = t->hw++;
    }
    memset(&t->n[i], 0, sizeof t->n[i]);
    t->n[i].price = p;
    t->n[i].height = 1;
    t->count++;
    return i;
}

/* Inserts p under i; *out gets the node for p (0 when out of memory). */
static uint32_t ins(brs__far *t, uint32_t i, int64_t p, uint32_t *out)
{
    if (!i) {
        *out = node_new(t, p);
        return *out;
    }
    if (p == t->n[i].price) {
        *out = i;
        return i;
    }
    if (p < t->n[i].price) {
        uint32_t c = ins(t, t->n[i].left, p, out);
        if (!*out)
            return i;
        t->n[i].left = c;
    } else {
        uint32_t c = ins(t, t->n[i].right, p, out);
        if (!*out)
            return i;
        t->n[i].right = c;
    }
    return balance(t, i);
}

uint32_t brs__far_insert(brs__far *t, int64_t p)
{
    uint32_t found = brs__far_find(t, p);
    if (found)
        return found;
    /* allocate first, so the recursion never sees the array move */
    if (!t->free_head && (!t->n || t->hw >= t->cap) && brs__far_reserve(t, 1) != BRS_OK)
        return 0;
    uint32_t out = 0;
    t->root = ins(t, t->root, p, &out);
    return out;
}

/* Detaches the minimum of subtree i into *min; returns the new subtree root. */
static uint32_t take_min(brs__far *t, uint32_t i, uint32_t *min)
{
    if (!t->n[i].left) {
        *min = i;
        return t->n[i].right;
    }
    t->n[i].left = take_min(t, t->n[i].left, min);
    return balance(t, i);
}

static uint32_t del(brs__far *t, uint32_t i, int64_t p, uint32_t *gone)
{
    if (!i)
        return 0;
    if (p < t->n[i].price) {
        t->n[i].left = del(t, t->n[i].left, p, gone);
    } else if (p > t->n[i].price) {
        t->n[i].right = del(t, t->n[i].right, p, gone);
    } else {
        *gone = i;
        uint32_t l = t->n[i].left, r = t->n[i].right;
        if (!r)
            return l;
        uint32_t m = 0;
        uint32_t rr = take_min(t, r, &m);
        t->n[m].left = l;
        t->n[m].right = rr;
        return balance(t, m);
    }
    return balance(t, i);
}

void brs__far_erase(brs__far *t, int64_t p)
{
    uint32_t gone = 0;
    t->root = del(t, t->root, p, &gone);
    if (gone) {
        t->n[gone].left = t->free_head;
        t->free_head = gone;
        t->count--;
    }
}
