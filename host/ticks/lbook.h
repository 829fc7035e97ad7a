/* lbook.h: the LOBSTER importer's own L3 book: which orders rest where, and
 * the total per price level, so the importer can map messages on orders older
 * than the file and reconcile with the orderbook file. */
#ifndef BRS_TICKS_LBOOK_H
#define BRS_TICKS_LBOOK_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

typedef struct brs_lorder {
    uint64_t id; /* 0 = empty slot */
    int64_t price, qty;
    uint8_t side;
} brs_lorder;

typedef struct brs_llevel {
    int64_t price, qty;
} brs_llevel;

typedef struct brs_lbook {
    brs_lorder *slot;
    size_t mask, used;
    brs_llevel *lv[2];
    size_t nlv[2], caplv[2];
} brs_lbook;

brs_lorder *brs__lb_find(brs_lbook *b, uint64_t id);
void brs__lb_erase(brs_lbook *b, brs_lorder *o);
/* Adds dq (may be negative) to the level; a level at or below 0 disappears. */
int brs__lb_level_add(brs_lbook *b, uint8_t side, int64_t price, int64_t dq);
int64_t brs__lb_level_qty(const brs_lbook *b, uint8_t side, int64_t price);
int brs__lb_add(brs_lbook *b, uint64_t id, uint8_t side, int64_t price, int64_t qty);
/* Takes q from the order and its level; the order goes when nothing is left. */
void brs__lb_reduce(brs_lbook *b, brs_lorder *o, int64_t q);
void brs__lb_free(brs_lbook *b);

#endif
