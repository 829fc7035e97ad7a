/* route_mixed.c: the routing decision's mixed-lot path (docs/router.md, "Lots
 * and minimum sizes"): the LP relaxation solved by a greedy that takes one lot
 * in part, then the exact search in the window around it that the proximity
 * theorem guarantees holds the optimum, on 64-bit regrets. Pure, no allocation. */
#include <string.h>

#include "sor/route_internal.h"

/* Mixed lots without minimum sizes: the LP optimum, then a window.
 * Take every lot of every venue as an item of weight lot/g (g: the lots' gcd)
 * that may be taken in part. The LP relaxation of "most quantity, then least
 * cost" is solved by the greedy below (lots cheapest per unit first; one lot
 * taken in part where the parent runs out). By the proximity theorem for
 * integer programmes with one constraint (Eisenbrand and Weismantel, 2018:
 * some optimal integer solution lies within l1 distance m(2m D + 1)^m of an
 * optimal LP vertex, m = 1 row, D = largest coefficient = largest lot / g),
 * the best whole-lot allocation differs from the LP's in at most 2D + 1 lots
 * in all, so every partial sum of the change, venue by venue, lies within
 * D (2D + 1) units. A dynamic programme over that window of units, venue by
 * venue, finds it. Ties: the LP prefers the lower venue index among equal
 * per-unit costs and the programme the smaller quantity on later venues;
 * that is a lexicographic perturbation of the costs, so the window holds the
 * same allocation the full programme over quantity would choose (docs/router.md). */

#define WIN_MAX_D 10                              /* D above this: the full programme */
#define WIN_MAX_W (WIN_MAX_D * (2 * WIN_MAX_D + 1)) /* 210 units either side */

/* A cursor over one side of a book, best level first, that sums regrets:
 * each unit at a level costs key x ml - mc against the LP's margin (margin
 * below); the window checks first that these fit 64 bits. */
typedef struct walk {
    const brs_level *lv;
    uint32_t n, li;
    int64_t left, rk; /* quantity left at level li, its regret per unit */
    int64_t fee, ml;
    i128 mc;
    int side;
} walk;

static void walk_level(walk *w)
{
    while (w->left == 0 && w->li < w->n && ++w->li < w->n)
        w->left = w->lv[w->li].qty;
    if (w->li < w->n)
        w->rk = (int64_t)((i128)level_key(w->side, w->lv[w->li].price, w->fee) * w->ml - w->mc);
}

static void walk_init(walk *w, const vstate *s, int side, int64_t ml, i128 mc)
{
    *w = (walk){.lv = s->lv, .n = s->n, .left = s->n ? s->lv[0].qty : 0, .fee = s->fee,
                .ml = ml, .mc = mc, .side = side};
    walk_level(w);
}

/* Take q units; returns their regret (0 when only skipping: sum = 0). */
static int64_t walk_take(walk *w, int64_t q, int sum)
{
    int64_t c = 0;
    while (q > 0 && w->li < w->n) {
        int64_t t = w->left < q ? w->left : q;
        if (sum)
            c += t * w->rk;
        q -= t;
        w->left -= t;
        if (w->left == 0)
            walk_level(w);
    }
    return c;
}

/* The margin of the LP: the lot it takes in part, cost mc (x FEE_SCALE) for
 * ml units, so the marginal per-unit cost is mc / ml. */
typedef struct margin {
    i128 mc;
    int64_t ml;
} margin;

/* The LP: whole lots cheapest per unit first (ties: lower venue index) while
 * they fit. Leaves st->x at the whole lots taken and *mg at the lot that did
 * not fit. Returns 1 if the LP takes part of that lot (the integer search is
 * needed), 0 if its optimum is whole lots already (then it is the answer).
 * A lot inside one level costs its level's key per unit: those compare as
 * int64 keys; a lot across levels is compared exactly by cross products. */
static int lp_floor(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t qty, margin *mg)
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
    int64_t rem = qty;
    for (;;) {
        int bj = -1;
        for (uint32_t j = 0; j < k; j++) {
            vstate *s = &st[ids[j]];
            if (s->x + s->lot > s->avail)
                continue;
            if (bj < 0) {
                bj = (int)j;
                continue;
            }
            const vstate *b = &st[ids[bj]];
            int lt;
            if (pure[j] && pure[bj])
                lt = key[j] < key[bj];
            else
                lt = cc[j] * b->lot < cc[bj] * s->lot;
            if (lt) /* equal: the earlier (lower index) stays */
                bj = (int)j;
        }
        if (bj < 0)
            return 0; /* every visible lot taken */
        vstate *s = &st[ids[bj]];
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
            if (s->lot != 1)
                n /= s->lot;
        }
        advance(s, n * s->lot);
        rem -= n * s->lot;
        if (s->x + s->lot <= s->avail) {
            pure[bj] = s->left >= s->lot;
            key[bj] = level_key(side, s->lv[s->idx].price, s->fee);
            cc[bj] = pure[bj] ? (i128)key[bj] * s->lot : chunk_cost(s, side, s->lot);
        }
    }
}

typedef unsigned __int128 u128;

/* x shifted by every d x step, d in [lo, hi], OR-ed, by doubling: O(log(hi -
 * lo)) shifts. Left and right shifts are done apart, so that a bit shifted
 * out of the 128 is never needed back (the caller masks to its window). */
static u128 dilate(u128 x, int64_t lo, int64_t hi, int64_t step)
{
    u128 r = 0;
    if (hi >= 0) { /* d in [max(lo, 0), hi]: left */
        int64_t a = lo > 0 ? lo : 0, n = hi - a + 1, len = 1;
        u128 y = x << (a * step);
        while (2 * len <= n) {
            y |= y << (len * step);
            len *= 2;
        }
        if (n > len)
            y |= y << ((n - len) * step);
        r |= y;
    }
    if (lo < 0) { /* d in [lo, min(hi, -1)]: right */
        int64_t b = hi < -1 ? hi : -1, n = b - lo + 1, len = 1;
        u128 y = x >> (-b * step);
        while (2 * len <= n) {
            y |= y >> (len * step);
            len *= 2;
        }
        if (n > len)
            y |= y >> ((n - len) * step);
        r |= y;
    }
    return r;
}

static inline int64_t floordiv(int64_t a, int64_t b) /* b > 0 */
{
    int64_t q = a / b;
    return q * b > a ? q - 1 : q;
}

/* One pass of the programme over the window, sparse: only partial sums whose
 * regret is at most r are kept (r = INT64_MAX: all). Fills pick and returns
 * the cost of reaching total estar (estar < 0: the largest total reached at
 * most emax, written back), INT64_MAX if not reached within r. */
typedef struct wprog {
    uint32_t k;
    int64_t W, emax;
    const int64_t *lus, *dlo, *dhi, *suflo, *sufhi;
    const int64_t (*dcs)[2 * (2 * WIN_MAX_D + 1) + 1];
    int64_t *cost; /* [2W + 1] */
    uint32_t *stamp; /* [2W + 1]: cost[e] is valid at a stage when stamp[e] is its mark */
    uint32_t mark;
    int8_t (*pick)[2 * WIN_MAX_W + 1];
    const u128 *back; /* NULL, or per stage the totals from which e* is reachable */
} wprog;

static int64_t wpass(wprog *P, int64_t r, int64_t *estar)
{
    enum { S = 2 * WIN_MAX_W + 1 };
    const int64_t W = P->W, INF = INT64_MAX;
    int16_t live[2][S];
    int64_t lc[2][S]; /* regret of each live state */
    uint32_t nl = 1, cur = 0;
    live[0][0] = 0;
    lc[0][0] = 0;
    for (uint32_t j = 0; j < P->k; j++) {
        const int64_t lu = P->lus[j], lo = P->dlo[j], hi = P->dhi[j];
        const int64_t *dc = P->dcs[j] - lo; /* dc[d] for d in [lo, hi] */
        int64_t flo = -P->sufhi[j + 1], fhi = P->emax - P->suflo[j + 1];
        if (flo < -W)
            flo = -W;
        if (fhi > W)
            fhi = W;
        uint32_t mark = ++P->mark, nn = 0, nxt = cur ^ 1;
        int8_t *pk = P->pick[j] + W;
        for (uint32_t i = 0; i < nl; i++) {
            int64_t e = live[cur][i], c0 = lc[cur][i];
            int64_t lim = r == INF ? INF : r - c0;
            /* the changes that keep the total in [flo, fhi] */
            int64_t a = lu == 1 ? flo - e : floordiv(flo - e + lu - 1, lu);
            int64_t b = lu == 1 ? fhi - e : floordiv(fhi - e, lu);
            if (a < lo)
                a = lo;
            if (b > hi)
                b = hi;
            /* d outward from the one nearest 0: dc is convex with dc(0) = 0 */
            int64_t d0 = a > 0 ? a : b < 0 ? b : 0;
            for (int dir = 1; dir >= -1; dir -= 2) {
                for (int64_t d = dir > 0 ? d0 : d0 - 1; d >= a && d <= b; d += dir) {
                    if (dc[d] > lim)
                        break;
                    int64_t e2 = e + d * lu;
                    if (P->back && !(P->back[j] >> (e2 + W) & 1))
                        continue;
                    int64_t c = c0 + dc[d];
                    uint32_t *sp = &P->stamp[e2 + W];
                    int64_t *cp = &P->cost[e2 + W];
                    if (*sp != mark) {
                        *sp = mark;
                        *cp = c;
                        pk[e2] = (int8_t)d;
                        live[nxt][nn++] = (int16_t)e2;
                    } else if (c < *cp || (c == *cp && d < pk[e2])) {
                        /* equal cost: the smaller change on this venue (docs/router.md) */
                        *cp = c;
                        pk[e2] = (int8_t)d;
                    }
                }
            }
        }
        for (uint32_t i = 0; i < nn; i++)
            lc[nxt][i] = P->cost[live[nxt][i] + W];
        nl = nn;
        cur = nxt;
    }
    int64_t bestc = INF, be = -1;
    for (uint32_t i = 0; i < nl; i++) {
        int64_t e = live[cur][i];
        if (*estar >= 0 ? e == *estar : (e > be))
            bestc = lc[cur][i], be = e;
    }
    if (*estar < 0)
        *estar = be;
    return bestc;
}

/* The integer optimum near the LP's whole lots (st->x on entry). Costs in the
 * programme are regrets against the LP's margin: cost x ml - mc x units, so a
 * venue's change of d lots costs dc(d) >= 0 (the LP took every lot cheaper
 * than the margin and none dearer), with dc(0) = 0 and dc convex in d.
 * Candidates for one total differ from their true costs by the same amount,
 * so the choice is unchanged, and the numbers stay in 64 bits.
 * First the most quantity e* and an allocation reaching it, whose regret R
 * bounds the optimum's: one venue alone when it can (the common case), else
 * from which totals are reachable at all (bit sets, when the window fits 128
 * bits) and the cheaper of two allocations built venue by venue along them.
 * Then one pass of the programme keeping only partial sums of regret at most
 * R: regrets are never negative, so nothing it drops can lead to the optimum.
 * Returns 0, or -1 when the window is not worth it (lots too many gcd units
 * apart, or prices so far apart that 64 bits could overflow): the caller then
 * runs the full programme. */
static int window(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t qty, int64_t g,
                  const margin *mg)
{
    int64_t D = 1, base = 0, lus[BRS_SOR_MAX_VENUES], y0s[BRS_SOR_MAX_VENUES];
    for (uint32_t j = 0; j < k; j++) {
        const vstate *s = &st[ids[j]];
        lus[j] = g == 1 ? s->lot : s->lot / g;
        y0s[j] = s->lot == 1 ? s->x : s->x / s->lot;
        if (lus[j] > D)
            D = lus[j];
        base += y0s[j] * lus[j];
    }
    if (D > WIN_MAX_D)
        return -1;
    const int64_t B = 2 * D + 1, W = D * B;
    enum { S = 2 * WIN_MAX_W + 1, C = 2 * (2 * WIN_MAX_D + 1) + 1 };
    /* every regret stays far below 2^63: (|key| ml + |mc|) x B lots x k venues */
    i128 amc = mg->mc < 0 ? -mg->mc : mg->mc;
    for (uint32_t j = 0; j < k; j++) {
        const vstate *s = &st[ids[j]];
        i128 a = s->key0 < 0 ? -(i128)s->key0 : s->key0;
        i128 z = level_key(side, s->lv[s->n - 1].price, s->fee);
        if (z < 0)
            z = -z;
        if (z > a)
            a = z;
        if ((a * mg->ml + amc) * B * s->lot * BRS_SOR_MAX_VENUES >= ((i128)1 << 60))
            return -1;
    }
    const int64_t INF = INT64_MAX;
    int64_t dcs[BRS_SOR_MAX_VENUES][C], dlo[BRS_SOR_MAX_VENUES], dhi[BRS_SOR_MAX_VENUES],
        suflo[BRS_SOR_MAX_VENUES + 1], sufhi[BRS_SOR_MAX_VENUES + 1];
    for (uint32_t j = 0; j < k; j++) {
        const vstate *s = &st[ids[j]];
        int64_t y0 = y0s[j], m = s->m;
        dlo[j] = y0 < B ? -y0 : -B;
        dhi[j] = m - y0 < B ? m - y0 : B;
        walk w;
        walk_init(&w, s, side, mg->ml, mg->mc);
        walk_take(&w, (y0 + dlo[j]) * s->lot, 0);
        int64_t c = 0, *dc = dcs[j] - dlo[j];
        for (int64_t d = dlo[j]; d <= dhi[j]; d++) {
            if (d > dlo[j])
                c += walk_take(&w, s->lot, 1);
            dc[d] = c;
        }
        for (int64_t d = dlo[j]; d <= dhi[j]; d++)
            if (d)
                dc[d] -= dc[0];
        dc[0] = 0;
    }
    suflo[k] = sufhi[k] = 0;
    for (uint32_t j = k; j-- > 0;) {
        suflo[j] = suflo[j + 1] + dlo[j] * lus[j];
        sufhi[j] = sufhi[j + 1] + dhi[j] * lus[j];
    }
    const int64_t emax = (g == 1 ? qty : qty / g) - base; /* the total may not pass the parent */
    int64_t cost[S];
    uint32_t stamp[S];
    int8_t pick[BRS_SOR_MAX_VENUES][S];
    memset(stamp, 0, (size_t)(2 * W + 1) * sizeof stamp[0]);
    wprog P = {.k = k, .W = W, .emax = emax, .lus = lus, .dlo = dlo, .dhi = dhi, .suflo = suflo,
               .sufhi = sufhi, .dcs = (const int64_t(*)[C])dcs, .cost = cost, .stamp = stamp,
               .pick = pick};
    int64_t estar = -1, R = INF;
    u128 back[BRS_SOR_MAX_VENUES]; /* P.back points here for the pass below */
    /* the common case: one venue alone brings the total to the parent's */
    for (uint32_t j = 0; j < k; j++) {
        int64_t d = lus[j] == 1 ? emax : emax / lus[j];
        if (d * lus[j] == emax && d <= dhi[j] && dcs[j][d - dlo[j]] < R)
            R = dcs[j][d - dlo[j]], estar = emax;
    }
    if (estar < 0 && 2 * W + 1 <= 128) {
        u128 reach[BRS_SOR_MAX_VENUES];
        const u128 all = 2 * W + 1 == 128 ? ~(u128)0 : (((u128)1 << (2 * W + 1)) - 1);
        u128 prev = (u128)1 << W;
        for (uint32_t j = 0; j < k; j++) {
            reach[j] = prev = dilate(prev, dlo[j], dhi[j], lus[j]) & all;
        }
        for (int64_t e = emax < W ? emax : W; e >= 0; e--)
            if (prev >> (e + W) & 1) {
                estar = e;
                break;
            }
        /* from which totals after each venue e* can still be reached */
        back[k - 1] = (u128)1 << (estar + W);
        for (uint32_t j = k - 1; j > 0; j--) {
            back[j - 1] = dilate(back[j], -dhi[j], -dlo[j], lus[j]) & all & reach[j - 1];
        }
        P.back = back;
        /* allocations reaching e*, venue by venue the cheapest change that
         * keeps e* reachable, first to last and last to first: the cheaper
         * one's regret bounds the optimum's */
        int64_t t = 0, R2 = 0;
        for (uint32_t j = 0; j < k; j++) {
            int64_t bd = 0, bc = INF;
            for (int64_t d = dlo[j]; d <= dhi[j]; d++) {
                int64_t f = t + d * lus[j];
                if (f < -W || f > W || !(back[j] >> (f + W) & 1))
                    continue;
                if (dcs[j][d - dlo[j]] < bc)
                    bc = dcs[j][d - dlo[j]], bd = d;
            }
            R2 += bc;
            t += bd * lus[j];
        }
        t = estar;
        R = 0;
        for (uint32_t j = k; j-- > 0;) {
            u128 before = j ? reach[j - 1] : (u128)1 << W;
            int64_t bd = 0, bc = INF;
            for (int64_t d = dlo[j]; d <= dhi[j]; d++) {
                int64_t f = t - d * lus[j];
                if (f < -W || f > W || !(before >> (f + W) & 1))
                    continue;
                if (dcs[j][d - dlo[j]] < bc)
                    bc = dcs[j][d - dlo[j]], bd = d;
            }
            R += bc;
            t -= bd * lus[j];
        }
        if (R2 < R)
            R = R2;
    }
    if (wpass(&P, R, &estar) == INF) {
        /* cannot happen (R is the regret of an allocation reaching e*); if it
         * did, the unbounded pass is exact within the window all the same */
        P.back = NULL;
        estar = -1;
        wpass(&P, INF, &estar);
    }
    int64_t e = estar;
    for (uint32_t j = k; j-- > 0;) {
        vstate *s = &st[ids[j]];
        int64_t d = pick[j][e + W];
        s->x += d * s->lot;
        e -= d * lus[j];
    }
    return 0;
}

int brs__sor_route_mixed(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t qty,
                         int64_t g)
{
    margin mg = {0, 1};
    return !lp_floor(st, ids, k, side, qty, &mg) || window(st, ids, k, side, qty, g, &mg) == 0;
}
