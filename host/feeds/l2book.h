/* l2book.h: an L2 order book (price -> total quantity per side) for feeds that
 * publish levels, not orders. Each side is a sorted array with the best price at
 * the END, so the frequent updates near the touch move few bytes.
 * Pure code, no I/O; part of the bourse_feeds static library (host and plugins). */
#ifndef BRS_FEEDS_L2BOOK_H
#define BRS_FEEDS_L2BOOK_H

#include <stdint.h>

#include <bourse/types.h>

typedef struct brs__l2_entry {
    int64_t key; /* bids: price, asks: -price, so "best" is always the largest key */
    int64_t qty;
} brs__l2_entry;

typedef struct brs__l2_side {
    brs__l2_entry *v; /* ascending by key; v[n-1] is the best level */
    uint32_t n, cap;
} brs__l2_side;

typedef struct brs__l2_book {
    brs__l2_side side[2]; /* indexed by enum brs_side: BRS_BUY bids, BRS_SELL asks */
} brs__l2_book;

/* reserve: levels per side allocated up front (growth later is amortized). */
int brs__l2_init(brs__l2_book *b, uint32_t reserve);
void brs__l2_free(brs__l2_book *b);
void brs__l2_clear(brs__l2_book *b);
/* Set side/price to qty; qty 0 deletes the level (deleting an absent level is a
 * no-op, as L2 feeds send deletes for levels outside the window we hold).
 * Returns BRS_OK, BRS_E_INVAL (side, negative qty) or BRS_E_NOMEM. */
int brs__l2_set(brs__l2_book *b, int side, int64_t price, int64_t qty);
/* Up to cap levels of one side, best first; returns how many were written. */
uint32_t brs__l2_depth(const brs__l2_book *b, int side, brs_level *out, uint32_t cap);
/* Best level of a side: 1 and *price, *qty when present, else 0. */
int brs__l2_best(const brs__l2_book *b, int side, int64_t *price, int64_t *qty);
/* Quantity at side/price, 0 when absent. */
int64_t brs__l2_qty(const brs__l2_book *b, int side, int64_t price);
static inline uint32_t brs__l2_levels(const brs__l2_book *b, int side) { return b->side[side & 1].n; }

#endif
