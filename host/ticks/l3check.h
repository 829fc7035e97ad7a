/* l3check.h: is a tick file's L3 stream consistent? Follows every ADD,
 * CANCEL, EXECUTE and MODIFY per instrument and counts the events that name
 * an order the book does not hold (or add one it already holds). Used by
 * `bourse ticks verify`; an importer's output should count zero. */
#ifndef BRS_TICKS_L3CHECK_H
#define BRS_TICKS_L3CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/types.h>

typedef struct brs_l3slot {
    uint64_t id;      /* 0 = empty */
    uint32_t instrument;
    int64_t qty;
} brs_l3slot;

typedef struct brs_l3check {
    brs_l3slot *slot;
    size_t mask, used;
    uint64_t unknown;    /* CANCEL/EXECUTE/MODIFY of an order not in the book */
    uint64_t duplicate;  /* ADD of an order already in the book */
    uint64_t overdrawn;  /* CANCEL/EXECUTE of more than the order holds */
    uint64_t first_bad;  /* 1-based index of the first such event, 0 none */
    uint64_t seen;       /* events looked at */
    int nomem;
} brs_l3check;

/* Start empty (zero the struct). */
void brs__l3check_event(brs_l3check *c, const brs_market_event *e);
void brs__l3check_free(brs_l3check *c);

#endif
