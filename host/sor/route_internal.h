/* route_internal.h: what the two halves of the routing decision share:
 * route.c (validation, the uniform greedy, the programme over every total,
 * children and posting), route_lp.c (mixed lots: the LP relaxation) and
 * route_mixed.c (mixed lots: the window search around the LP's answer).
 * Internal to host/sor. */
#ifndef BRS_SOR_ROUTE_INTERNAL_H
#define BRS_SOR_ROUTE_INTERNAL_H

#include <stdint.h>

#include "sor/sor.h"

typedef __int128 i128;

/* Bounds that keep every 128-bit product and sum far from overflow. */
#define PRICE_MAX (INT64_MAX / (2 * BRS_SOR_FEE_SCALE))
#define QTY_MAX (INT64_C(1) << 50)
#define LOT_MAX (INT64_C(1) << 31)

/* Per-venue working state. */
typedef struct vstate {
    const brs_level *lv;
    uint32_t n;        /* usable levels (within the limit) */
    int64_t lot, min;  /* min rounded up to whole lots */
    int64_t avail;     /* usable quantity, whole lots */
    int64_t m;         /* avail / lot */
    int64_t fee;       /* taker fee ppm */
    uint32_t idx;      /* greedy: current level */
    int64_t left;      /* greedy: quantity left in it */
    int64_t x;         /* taken */
    int64_t key0;      /* key of the best level (child order, tie-breaks) */
    int64_t last_px;   /* greedy: the worst level touched so far */
    i128 cost;         /* greedy: net cost of x */
} vstate;

/* n / lot for n >= 0: lots 1 to 4 (the common ones) without a divide
 * instruction, which costs more than the rest of a step */
static inline int64_t div_lot(int64_t n, int64_t lot)
{
    switch (lot) {
    case 1: return n;
    case 2: return n >> 1;
    case 3: return n / 3; /* by a constant: a multiply */
    case 4: return n >> 2;
    default: return n / lot;
    }
}

/* Cost of one unit at a level, x BRS_SOR_FEE_SCALE; lower is better for both
 * sides (a sell's key is its negated net proceeds). */
static inline int64_t level_key(int side, int64_t price, int64_t fee)
{
    return side == BRS_BUY ? price * (BRS_SOR_FEE_SCALE + fee) : -price * (BRS_SOR_FEE_SCALE - fee);
}

/* Cost of the next c units of venue s from its greedy position. */
static inline i128 chunk_cost(const vstate *s, int side, int64_t c)
{
    if (s->left >= c)
        return (i128)c * level_key(side, s->lv[s->idx].price, s->fee);
    i128 cost = (i128)s->left * level_key(side, s->lv[s->idx].price, s->fee);
    int64_t need = c - s->left;
    for (uint32_t i = s->idx + 1; i < s->n && need > 0; i++) {
        int64_t q = s->lv[i].qty < need ? s->lv[i].qty : need;
        cost += (i128)q * level_key(side, s->lv[i].price, s->fee);
        need -= q;
    }
    return cost;
}

static inline void advance(vstate *s, int64_t c)
{
    s->x += c;
    while (c > 0) {
        s->last_px = s->lv[s->idx].price;
        if (s->left > c) {
            s->left -= c;
            return;
        }
        c -= s->left;
        s->idx++;
        s->left = s->idx < s->n ? s->lv[s->idx].qty : 0;
    }
    while (s->left == 0 && s->idx < s->n) { /* skip to a non-empty level */
        s->idx++;
        s->left = s->idx < s->n ? s->lv[s->idx].qty : 0;
    }
}

/* The margin of the LP: the lot it takes in part, cost mc (x FEE_SCALE) for
 * ml units, so the marginal per-unit cost is mc / ml. */
typedef struct margin {
    i128 mc;
    int64_t ml;
} margin;

/* The LP relaxation of a mixed-lot decision (route_lp.c): takes whole lots
 * into st[ids[j]].x and leaves in *mg the lot it would take in part. Returns
 * 1 if it takes part of a lot (the window search is needed), 0 if its optimum
 * is whole lots already. */
int brs__sor_lp(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t qty, margin *mg);

/* Mixed lots, no minimum above a lot: the exact allocation into st[ids[j]].x
 * (g: the lots' gcd). Returns 1, or 0 when the window search does not apply
 * (lots too far apart, prices too large for 64-bit regrets): st is then
 * partly changed and the caller restores it and runs the full programme. */
int brs__sor_route_mixed(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t qty,
                         int64_t g);

#endif
