/* route_lp.c: the LP relaxation of the mixed-lot routing decision
 * (docs/router.md, "Lots and minimum sizes"): whole lots cheapest per unit
 * first, one lot taken in part where the parent runs out. route_mixed.c
 * searches the window around its answer. Pure, no allocation. */
#include "sor/route_internal.h"

/* The LP: whole lots cheapest per unit first (ties: lower venue index) while
 * they fit. Leaves st->x at the whole lots taken and *mg at the lot that did
 * not fit. Returns 1 if the LP takes part of that lot (the integer search is
 * needed), 0 if its optimum is whole lots already (then it is the answer).
 * A lot inside one level costs its level's key per unit: those compare as
 * int64 keys; a lot across levels is compared exactly by cross products. */
/* Per unit, is venue j's next lot (cc[j] for its lot) cheaper than venue b's? */
static inline int lp_lt(const vstate *st, const uint32_t *ids, const i128 *cc, const int64_t *key,
                        const uint8_t *pure, int j, int b)
{
    if (pure[j] && pure[b])
        return key[j] < key[b];
    return cc[j] * st[ids[b]].lot < cc[b] * st[ids[j]].lot;
}

/* The general LP, from the state st is in (lots may straddle levels). */
static int lp_general(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t rem, margin *mg)
{
    i128 cc[BRS_SOR_MAX_VENUES];
    int64_t key[BRS_SOR_MAX_VENUES]; /* per-unit key if the next lot is inside one level */
    uint8_t pure[BRS_SOR_MAX_VENUES];
    for (uint32_t j = 0; j < k; j++) {
        vstate *s = &st[ids[j]];
        if (s->lot <= s->avail) {
            pure[j] = s->left >= s->lot;
            key[j] = level_key(side, s->lv[s->idx].price, s->fee);
            cc[j] = pure[j] ? (i128)key[j] * s->lot : chunk_cost(s, side, s->lot);
        }
    }
    for (;;) {
        /* the cheapest next lot (equal: the earlier venue) and the runner-up */
        int bj = -1, sj = -1;
        for (uint32_t j = 0; j < k; j++) {
            vstate *s = &st[ids[j]];
            if (s->x + s->lot > s->avail)
                continue;
            if (bj < 0) {
                bj = (int)j;
            } else if (lp_lt(st, ids, cc, key, pure, (int)j, bj)) {
                sj = bj;
                bj = (int)j;
            } else if (sj < 0 || lp_lt(st, ids, cc, key, pure, (int)j, sj)) {
                sj = (int)j;
            }
        }
        if (bj < 0)
            return 0; /* every visible lot taken */
        vstate *s = &st[ids[bj]];
        /* take from bj while it stays ahead of the runner-up (the others do
         * not change meanwhile), then look at every venue again */
        for (;;) {
            if (s->lot > rem) {
                mg->mc = cc[bj];
                mg->ml = s->lot;
                return rem > 0;
            }
            int64_t n = 1;
            if (pure[bj]) { /* whole lots inside one level all cost the same */
                n = s->left < rem ? s->left : rem;
                if (s->avail - s->x < n)
                    n = s->avail - s->x;
                n = div_lot(n, s->lot);
            }
            advance(s, n * s->lot);
            rem -= n * s->lot;
            if (s->x + s->lot > s->avail)
                break;
            pure[bj] = s->left >= s->lot;
            key[bj] = level_key(side, s->lv[s->idx].price, s->fee);
            cc[bj] = pure[bj] ? (i128)key[bj] * s->lot : chunk_cost(s, side, s->lot);
            if (sj >= 0 && (sj < bj ? !lp_lt(st, ids, cc, key, pure, bj, sj)
                                    : lp_lt(st, ids, cc, key, pure, sj, bj)))
                break;
        }
    }
}

/* The LP while every venue's next lot lies inside one level (levels in whole
 * lots, the usual case): a lot then costs its level's key per unit, so the
 * cheapest next lot is the least key (equal: the earlier venue) and a venue
 * takes whole levels while it stays ahead of the runner-up. A lot that
 * straddles two levels hands over to lp_general, from where this stopped. */
int brs__sor_lp(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t qty, margin *mg)
{
    const int64_t NONE = INT64_MAX; /* no lot left (real keys are far below) */
    int64_t key[BRS_SOR_MAX_VENUES];
    int64_t rem = qty;
    for (uint32_t j = 0; j < k; j++) {
        vstate *s = &st[ids[j]];
        if (s->x + s->lot > s->avail)
            key[j] = NONE;
        else if (s->left < s->lot)
            return lp_general(st, ids, k, side, rem, mg);
        else
            key[j] = level_key(side, s->lv[s->idx].price, s->fee);
    }
    for (;;) {
        int bj = 0, sj = -1;
        int64_t bk = key[0], sk = NONE;
        for (uint32_t j = 1; j < k; j++) {
            if (key[j] < bk)
                sk = bk, sj = bj, bk = key[j], bj = (int)j;
            else if (key[j] < sk)
                sk = key[j], sj = (int)j;
        }
        if (bk == NONE)
            return 0; /* every visible lot taken */
        vstate *s = &st[ids[bj]];
        for (;;) {
            if (s->lot > rem) {
                mg->mc = (i128)bk * s->lot;
                mg->ml = s->lot;
                return rem > 0;
            }
            int64_t n = s->left < rem ? s->left : rem;
            if (s->avail - s->x < n)
                n = s->avail - s->x;
            n = div_lot(n, s->lot) * s->lot;
            advance(s, n);
            rem -= n;
            if (s->x + s->lot > s->avail) {
                key[bj] = NONE;
                break;
            }
            if (s->left < s->lot)
                return lp_general(st, ids, k, side, rem, mg);
            key[bj] = bk = level_key(side, s->lv[s->idx].price, s->fee);
            if (bk > sk || (bk == sk && sj < bj))
                break;
        }
    }
}
