/* farlevels.h: price levels outside a book side's direct-indexed window, in an
 * AVL tree keyed by price whose nodes live in one growable array (indices, not
 * pointers; index 0 is "none"). Insert, delete, find and neighbour searches are
 * O(log n) in the worst case, whatever prices a client sends: the sorted array
 * this replaces cost O(n) per insert, so a million far-away levels took 0.3 ms
 * each (issue 15). An AVL tree rather than a treap or skip list because a
 * client can choose prices adversarially and no priority may be predictable.
 * Internal to the matching engine (levels.c, book_impl.h). */
#ifndef BRS_BOOK_FARLEVELS_H
#define BRS_BOOK_FARLEVELS_H

#include <stdint.h>

/* A price level: a FIFO of orders linked through the order pool. All-zero = empty. */
typedef struct brs__level {
    int64_t qty;
    uint32_t head, tail, count, reserved;
} brs__level;

typedef struct brs__far_node {
    int64_t price;
    brs__level lv;
    uint32_t left, right; /* node indices, 0 = none; a free node's left links the free list */
    int32_t height;       /* 1 for a leaf */
    uint32_t pad;
} brs__far_node;

typedef struct brs__far {
    brs__far_node *n; /* n[0] unused */
    uint32_t root, count, cap, hw, free_head, reserved;
} brs__far;

/* Makes room for at least `more` further nodes (allocation happens only here and
 * in brs__far_insert when the array is full). BRS_OK or BRS_E_NOMEM. */
int brs__far_reserve(brs__far *t, uint32_t more);
void brs__far_free(brs__far *t);
/* Forgets every level, keeping the memory. */
void brs__far_clear(brs__far *t);

/* The node holding price p, or 0. */
uint32_t brs__far_find(const brs__far *t, int64_t p);
/* The node with the lowest price >= p (ceiling), or 0. */
uint32_t brs__far_ceil(const brs__far *t, int64_t p);
/* The node with the highest price < p (strict predecessor), or 0. */
uint32_t brs__far_below(const brs__far *t, int64_t p);
/* The node for p, created as an empty level if missing; 0 only when out of
 * memory. May move the node array: node pointers taken before are stale. */
uint32_t brs__far_insert(brs__far *t, int64_t p);
/* Removes the level at p if present. Node pointers to other levels stay valid. */
void brs__far_erase(brs__far *t, int64_t p);

static inline brs__level *brs__far_level(const brs__far *t, uint32_t i) { return &t->n[i].lv; }
static inline int64_t brs__far_price(const brs__far *t, uint32_t i) { return t->n[i].price; }

#endif
