/* route_mixed.c: the routing decision's mixed-lot path (docs/router.md, "Lots
 * and minimum sizes"): the LP relaxation solved by a greedy that takes one lot
 * in part, then the exact search in the window around it that the proximity
 * theorem guarantees holds the optimum, on 64-bit regrets: a branch and bound,
 * with one pass of a programme over the window behind it. Pure, no allocation. */
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

/* Nodes the branch and bound may visit before the window programme decides
 * instead (a test builds the router with a tiny budget to check that path). */
#ifndef BRS_SOR_BNB_BUDGET
#define BRS_SOR_BNB_BUDGET 1024
#endif

#define WIN_MAX_D 10                              /* D above this: the full programme */
#define WIN_MAX_W (WIN_MAX_D * (2 * WIN_MAX_D + 1)) /* 210 units either side */

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

static int64_t gcd_small(int64_t a, int64_t b) /* lots in gcd units: a few subtractions */
{
    while (b) {
        while (a >= b)
            a -= b;
        int64_t t = a;
        a = b;
        b = t;
    }
    return a;
}

/* Divisions by a lot in gcd units (1..WIN_MAX_D) of the window's small
 * numbers without a divide instruction: n x ceil(2^32 / v) >> 32 is n / v
 * exactly for 0 <= n < 2^28 (the rounding error n x (v - 1) / 2^32 stays
 * below 1 / v). Window totals, changes and bit positions are far below that. */
#define INV32(v) (((UINT64_C(1) << 32) + (v) - 1) / (v))
static const uint64_t inv32[WIN_MAX_D + 1] = {0, INV32(1), INV32(2), INV32(3), INV32(4), INV32(5),
                                              INV32(6), INV32(7), INV32(8), INV32(9), INV32(10)};

static inline int64_t udiv_small(int64_t n, int64_t v) /* 0 <= n < 2^28, 1 <= v <= WIN_MAX_D */
{
    return (int64_t)(((uint64_t)n * inv32[v]) >> 32);
}

/* floor(a / v), |a| < 2^20 */
static inline int64_t floordiv(int64_t a, int64_t v)
{
    enum { OFF = 1 << 20 };
    return udiv_small(a + (int64_t)OFF * v, v) - OFF;
}

/* 1 / v for lots in gcd units, 0 for none (v = 0) */
static const double recip[WIN_MAX_D + 1] = {0,       1,       1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 5,
                                            1.0 / 6, 1.0 / 7, 1.0 / 8, 1.0 / 9, 1.0 / 10};

/* is a a multiple of v?  |a| < 2^28 */
static inline int multiple_of(int64_t a, int64_t v)
{
    int64_t n = a < 0 ? -a : a;
    return n == udiv_small(n, v) * v;
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

/* One venue's regrets, computed lazily outward from the LP's whole lots:
 * up[i] = dc(i), the regret of i more lots, and dn[i] = dc(-i), of i lots
 * fewer; two cursors walk the book from the LP's position forward and back. */
typedef struct lazy {
    const brs_level *lv;
    uint32_t n, fl, bl;    /* forward cursor's level; backward cursor's level */
    int64_t fleft, btaken; /* units left in level fl; units taken in level bl */
    int64_t frk, brk;      /* their regrets per unit (brk: of giving a unit back) */
    int64_t lot, fee, ml;
    i128 mc;
    int side, nu, nd;
    int64_t up[2 * WIN_MAX_D + 2], dn[2 * WIN_MAX_D + 2];
} lazy;

static inline int64_t unit_regret(const lazy *L, uint32_t li)
{
    return (int64_t)((i128)level_key(L->side, L->lv[li].price, L->fee) * L->ml - L->mc);
}

static void lazy_init(lazy *L, const vstate *s, int side, const margin *mg)
{
    L->lv = s->lv;
    L->n = s->n;
    L->lot = s->lot;
    L->fee = s->fee;
    L->ml = mg->ml;
    L->mc = mg->mc;
    L->side = side;
    L->nu = L->nd = 1;
    L->up[0] = L->dn[0] = 0;
    /* forward: where the LP's greedy stopped (advance() skips empty levels) */
    L->fl = s->idx;
    L->fleft = s->left;
    if (L->fl < L->n)
        L->frk = unit_regret(L, L->fl);
    /* backward: the level of the last unit taken, and how much of it */
    uint32_t b = s->idx < s->n ? s->idx : s->n - 1;
    int64_t tk = s->idx < s->n ? s->lv[b].qty - s->left : s->lv[b].qty;
    while (tk == 0 && b > 0)
        tk = s->lv[--b].qty;
    L->bl = b;
    L->btaken = tk;
    if (tk)
        L->brk = -unit_regret(L, b);
}

/* dc(d) beyond what is known: walk the cursor on. */
static int64_t lazy_more(lazy *L, int64_t d)
{
    if (d >= 0) {
        while (L->nu <= d) {
            int64_t q = L->lot, c = 0;
            while (q > 0) {
                int64_t t = L->fleft < q ? L->fleft : q;
                c += t * L->frk;
                q -= t;
                if ((L->fleft -= t) == 0) {
                    while (++L->fl < L->n && L->lv[L->fl].qty == 0)
                        ;
                    if (L->fl >= L->n)
                        break;
                    L->fleft = L->lv[L->fl].qty;
                    L->frk = unit_regret(L, L->fl);
                }
            }
            L->up[L->nu] = L->up[L->nu - 1] + c;
            L->nu++;
        }
        return L->up[d];
    }
    while (L->nd <= -d) {
        int64_t q = L->lot, c = 0;
        while (q > 0) {
            int64_t t = L->btaken < q ? L->btaken : q;
            c += t * L->brk;
            q -= t;
            if ((L->btaken -= t) == 0) {
                while (L->bl > 0 && L->lv[--L->bl].qty == 0)
                    ;
                L->btaken = L->lv[L->bl].qty;
                if (L->btaken == 0)
                    break;
                L->brk = -unit_regret(L, L->bl);
            }
        }
        L->dn[L->nd] = L->dn[L->nd - 1] + c;
        L->nd++;
    }
    return L->dn[-d];
}

/* dc(d), d in [dlo, dhi] of the venue (the caller keeps d in range). */
static inline int64_t lazy_dc(lazy *L, int64_t d)
{
    if (d >= 0 ? d < L->nu : -d < L->nd)
        return d >= 0 ? L->up[d] : L->dn[-d];
    return lazy_more(L, d);
}

/* Branch and bound over the venues in input order: venue j changes by d lots
 * (outward from 0, where its regret is least), partial sums of regret plus a
 * lower bound on what the later venues must add are cut when above the best
 * so far; equal ones are kept, so every allocation of least regret is seen
 * and the tie-break (the smaller change on the later venue, then the one
 * before, ...) is decided exactly. The bound: the later venues must move
 * need units; every lot a venue adds costs at least its first one and every
 * lot it gives back at least its last one (convexity), so need x the least
 * such regret per unit among them. Stops after `budget` nodes (the caller
 * then runs the window programme). */
typedef struct bnb {
    uint32_t k;
    int64_t estar, W;
    /* by search position: the venue (index into the window's arrays), its lot
     * in gcd units, change range, and the sums of the ranges from there on */
    uint32_t in[BRS_SOR_MAX_VENUES];
    int64_t lus[BRS_SOR_MAX_VENUES], dlo[BRS_SOR_MAX_VENUES], dhi[BRS_SOR_MAX_VENUES];
    int64_t suflo[BRS_SOR_MAX_VENUES + 1], sufhi[BRS_SOR_MAX_VENUES + 1];
    lazy *L[BRS_SOR_MAX_VENUES];
    const u128 *back; /* NULL, or per venue the totals from which e* is reachable */
    int64_t an[BRS_SOR_MAX_VENUES + 1], ad[BRS_SOR_MAX_VENUES + 1]; /* add: least regret/unit */
    int64_t rn[BRS_SOR_MAX_VENUES + 1], rd[BRS_SOR_MAX_VENUES + 1]; /* give back */
    double af[BRS_SOR_MAX_VENUES + 1], rf[BRS_SOR_MAX_VENUES + 1]; /* an / ad, rn / rd (orders only) */
    /* venues j.. on: gz = gcd of the lots of those with a free first change
     * (0: none); a total off a multiple of gz needs a change elsewhere, at
     * least mz (gz > 0), or an add at least ma, a give-back at least mr (gz = 0) */
    int64_t gz[BRS_SOR_MAX_VENUES + 1], mz[BRS_SOR_MAX_VENUES + 1];
    int64_t ma[BRS_SOR_MAX_VENUES + 1], mr[BRS_SOR_MAX_VENUES + 1];
    int64_t d[BRS_SOR_MAX_VENUES], bd[BRS_SOR_MAX_VENUES]; /* by venue (input order) */
    int64_t best;
    int found;
    int budget;
} bnb;

static void bnb_leaf(bnb *B, int64_t c)
{
    int take = !B->found || c < B->best;
    if (!take && c == B->best)
        for (uint32_t i = B->k; i-- > 0;)
            if (B->d[i] != B->bd[i]) {
                take = B->d[i] < B->bd[i];
                break;
            }
    if (take) {
        B->found = 1;
        B->best = c;
        memcpy(B->bd, B->d, B->k * sizeof B->d[0]);
    }
}

/* Does regret c (venues before j) plus the least the venues from j on must
 * add to move need units pass the best so far? 1: cut; 2: cut, and so is
 * every change further out in direction dir (the per-unit part of the bound,
 * convex in the change, has turned); 0: keep. The bound is the larger of two:
 * per unit, every lot a venue adds costs at least its first one and every lot
 * it gives back at least its last (convexity), so need x the least such
 * regret per unit among them; and a move off the multiples of gz needs one
 * change on a venue without a free one. */
static inline int bnb_cut(const bnb *B, uint32_t j, int64_t need, int64_t c, int dir)
{
    i128 room = (i128)B->best - c;
    if (need > 0 && B->ad[j] && room * B->ad[j] < (i128)need * B->an[j])
        return dir > 0 ? 1 : 2;
    if (need < 0 && B->rd[j] && room * B->rd[j] < -(i128)need * B->rn[j])
        return dir > 0 ? 2 : 1;
    if (!need)
        return 0;
    int64_t g = B->gz[j];
    int64_t least = g ? (multiple_of(need, g) ? 0 : B->mz[j]) : need > 0 ? B->ma[j] : B->mr[j];
    return least > room;
}

/* The order in which changes are tried: regret plus the bound (as a double:
 * only an order; every cut is exact). */
static inline double bnb_key(const bnb *B, uint32_t j, int64_t need, int64_t c2)
{
    double lb = need > 0 ? (double)need * B->af[j] : need < 0 ? -(double)need * B->rf[j] : 0;
    int64_t g = B->gz[j];
    double lz = !need ? 0 : g ? (multiple_of(need, g) ? 0 : (double)B->mz[j])
                              : (double)(need > 0 ? B->ma[j] : B->mr[j]);
    return (double)c2 + (lb > lz ? lb : lz);
}

static inline int ctz128(u128 x)
{
    uint64_t lo = (uint64_t)x;
    return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(x >> 64));
}

static inline int clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
}

/* Bits at every multiple of lu from bit 0 up (comb) and from bit 127 down
 * (rcomb), lu = 1..5: the positions one venue's changes reach in a bit set. */
#define U128(hi, lo) (((u128)(hi) << 64) | (lo))
static const u128 comb[6] = {0, U128(~0ull, ~0ull),
                             U128(0x5555555555555555ull, 0x5555555555555555ull),
                             U128(0x4924924924924924ull, 0x9249249249249249ull),
                             U128(0x1111111111111111ull, 0x1111111111111111ull),
                             U128(0x2108421084210842ull, 0x1084210842108421ull)};
static const u128 rcomb[6] = {0, U128(~0ull, ~0ull),
                              U128(0xaaaaaaaaaaaaaaaaull, 0xaaaaaaaaaaaaaaaaull),
                              U128(0x9249249249249249ull, 0x2492492492492492ull),
                              U128(0x8888888888888888ull, 0x8888888888888888ull),
                              U128(0x8421084210842108ull, 0x4210842108421084ull)};

static void bnb_go(bnb *B, uint32_t j, int64_t t, int64_t c)
{
    if (--B->budget < 0)
        return;
    const int64_t lu = B->lus[j];
    /* the changes that leave the later venues able to make up e* */
    int64_t lo_t = B->estar - B->sufhi[j + 1], hi_t = B->estar - B->suflo[j + 1];
    int64_t a = lu == 1 ? lo_t - t : floordiv(lo_t - t + lu - 1, lu);
    int64_t b = lu == 1 ? hi_t - t : floordiv(hi_t - t, lu);
    if (a < B->dlo[j])
        a = B->dlo[j];
    if (b > B->dhi[j])
        b = B->dhi[j];
    if (a > b)
        return;
    if (j + 1 == B->k) { /* the last venue makes up e* exactly: a == b */
        int64_t c2 = c + lazy_dc(B->L[j], a);
        if (c2 <= B->best) {
            B->d[B->in[j]] = a;
            bnb_leaf(B, c2);
        }
        return;
    }
    int64_t d0 = a > 0 ? a : b < 0 ? b : 0;
    if (j + 2 == B->k) {
        /* the venue before the last: each change fixes the last one's, so
         * the leaves are taken here, outward from d0 while the regret does
         * not pass the best (no bound, order or recursion needed) */
        const int64_t lu2 = B->lus[j + 1];
        for (int dir = 1; dir >= -1; dir -= 2)
            for (int64_t d = dir > 0 ? d0 : d0 - 1; d >= a && d <= b; d += dir) {
                int64_t c2 = c + lazy_dc(B->L[j], d);
                if (c2 > B->best)
                    break; /* dc grows outward from 0 */
                if (--B->budget < 0)
                    return;
                int64_t need = B->estar - t - d * lu;
                if (!multiple_of(need, lu2))
                    continue;
                int64_t e = need >= 0 ? udiv_small(need, lu2) : -udiv_small(-need, lu2);
                if (e < B->dlo[j + 1] || e > B->dhi[j + 1])
                    continue;
                int64_t c3 = c2 + lazy_dc(B->L[j + 1], e);
                if (c3 <= B->best) {
                    B->d[B->in[j]] = d;
                    B->d[B->in[j + 1]] = e;
                    bnb_leaf(B, c3);
                }
            }
        return;
    }
    const u128 M = B->back ? B->back[j] : 0;
    const int64_t base = t + B->W; /* bit of change d in M: base + d lu, in 0..2W <= 127 */
    /* the changes not cut, most promising first (regret plus bound: only an
     * order, so floating point is fine; every cut below is exact) */
    int64_t cd[2 * (2 * WIN_MAX_D + 1) + 1], cc[2 * (2 * WIN_MAX_D + 1) + 1];
    double ck[2 * (2 * WIN_MAX_D + 1) + 1];
    int nc = 0;
    for (int dir = 1; dir >= -1; dir -= 2) {
        int64_t ds = dir > 0 ? d0 : d0 - 1;
        u128 X = 0;
        if (B->back) { /* only the changes whose total can still reach e*: set bits of M */
            if (dir > 0 && base + ds * lu < 0)
                ds = floordiv(-base + lu - 1, lu);
            if (dir < 0 && base + ds * lu > 127)
                ds = floordiv(127 - base, lu);
            if (ds < a || ds > b || base + ds * lu < 0 || base + ds * lu > 127)
                continue;
            X = dir > 0 ? (M >> (base + ds * lu)) & comb[lu]
                        : (M << (127 - (base + ds * lu))) & rcomb[lu];
        }
        for (int64_t d = ds;; d += dir) {
            if (B->back) {
                if (!X)
                    break;
                int z = dir > 0 ? ctz128(X) : clz128(X);
                X ^= dir > 0 ? (u128)1 << z : (u128)1 << (127 - z);
                d = ds + dir * (lu == 1 ? z : udiv_small(z, lu));
            }
            if (d < a || d > b)
                break;
            int64_t c2 = c + lazy_dc(B->L[j], d);
            if (c2 > B->best)
                break; /* dc grows outward from 0 */
            int64_t need = B->estar - t - d * lu;
            int cut = bnb_cut(B, j + 1, need, c2, dir);
            if (cut == 2)
                break;
            if (cut)
                continue;
            double key = bnb_key(B, j + 1, need, c2);
            int at = nc++;
            while (at > 0 && ck[at - 1] > key) {
                cd[at] = cd[at - 1], cc[at] = cc[at - 1], ck[at] = ck[at - 1];
                at--;
            }
            cd[at] = d, cc[at] = c2, ck[at] = key;
        }
    }
    for (int i = 0; i < nc; i++) {
        int64_t d = cd[i];
        /* the first was checked against the same best just now; later ones
         * again, since the search below may have lowered it */
        if (i && (cc[i] > B->best || bnb_cut(B, j + 1, B->estar - t - d * lu, cc[i], 0)))
            continue;
        B->d[B->in[j]] = d;
        bnb_go(B, j + 1, t + d * lu, cc[i]);
        if (B->budget < 0)
            return;
    }
}

/* A first allocation when there is no bound yet (the bit sets say which
 * changes can still reach e*, so every step has a way on): venue by venue in
 * search order the change of least regret plus bound, among those that can,
 * looked for outward from 0 until the per-unit part of the key (convex in the
 * change) has turned and passes the best key seen. */
static void bnb_dive(bnb *B)
{
    int64_t t = 0, c = 0;
    for (uint32_t j = 0; j < B->k; j++) {
        const int64_t lu = B->lus[j], base = t + B->W; /* t is in the window: 0 <= base <= 2W */
        int64_t bd = 0, bc = 0;
        double bk = 0;
        int have = 0;
        for (int dir = 1; dir >= -1; dir -= 2) {
            u128 X = dir > 0      ? (B->back[j] >> base) & comb[lu]
                     : base >= lu ? (B->back[j] << (127 - (base - lu))) & rcomb[lu]
                                  : 0;
            int64_t ds = dir > 0 ? 0 : -1;
            while (X) {
                int z = dir > 0 ? ctz128(X) : clz128(X);
                X ^= dir > 0 ? (u128)1 << z : (u128)1 << (127 - z);
                int64_t d = ds + dir * (lu == 1 ? z : udiv_small(z, lu));
                if (d < B->dlo[j] || d > B->dhi[j])
                    break;
                int64_t c2 = c + lazy_dc(B->L[j], d), need = B->estar - t - d * lu;
                if (j + 1 == B->k) { /* one change reaches e* */
                    bd = d, bc = c2, have = 1;
                    break;
                }
                double key = bnb_key(B, j + 1, need, c2);
                if (!have || key < bk)
                    bd = d, bc = c2, bk = key, have = 1;
                double rate = need > 0   ? (double)need * B->af[j + 1]
                              : need < 0 ? -(double)need * B->rf[j + 1]
                                         : 0;
                if ((dir > 0 ? need <= 0 : need >= 0) && (double)c2 + rate > bk)
                    break;
            }
        }
        B->d[B->in[j]] = bd; /* have: the bit sets promise one */
        t += bd * lu;
        c = bc;
    }
    B->best = c;
    B->found = 1;
    memcpy(B->bd, B->d, B->k * sizeof B->d[0]);
}

/* The integer optimum near the LP's whole lots (st->x on entry). Costs in the
 * programme are regrets against the LP's margin: cost x ml - mc x units, so a
 * venue's change of d lots costs dc(d) >= 0 (the LP took every lot cheaper
 * than the margin and none dearer), with dc(0) = 0 and dc convex in d.
 * Candidates for one total differ from their true costs by the same amount,
 * so the choice is unchanged, and the numbers stay in 64 bits.
 * First the most quantity e*: the parent's rest when one venue alone can
 * bring it (the common case), else from which totals are reachable at all
 * (bit sets, when the window fits 128 bits). Then the branch and bound above
 * finds the allocation; if it runs out of nodes, one pass of the programme
 * over the window, keeping only partial sums of regret at most the bound R
 * of an allocation reaching e* (regrets are never negative, so nothing it
 * drops can lead to the optimum), decides instead.
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
        y0s[j] = div_lot(s->x, s->lot);
        if (lus[j] > D)
            D = lus[j];
        base += y0s[j] * lus[j];
    }
    if (D > WIN_MAX_D)
        return -1;
    const int64_t B = 2 * D + 1, W = D * B;
    enum { S = 2 * WIN_MAX_W + 1, C = 2 * (2 * WIN_MAX_D + 1) + 1 };
    /* every regret stays far below 2^63: (|key| ml + |mc|) x B lots x k venues,
     * checked for the largest key and lot at once, venue by venue if that fails */
    i128 amc = mg->mc < 0 ? -mg->mc : mg->mc;
    int64_t akey[BRS_SOR_MAX_VENUES], amax = 0, lmax = 0;
    for (uint32_t j = 0; j < k; j++) {
        const vstate *s = &st[ids[j]];
        int64_t a = s->key0 < 0 ? -s->key0 : s->key0;
        int64_t z = level_key(side, s->lv[s->n - 1].price, s->fee);
        if (z < 0)
            z = -z;
        akey[j] = z > a ? z : a;
        if (akey[j] > amax)
            amax = akey[j];
        if (s->lot > lmax)
            lmax = s->lot;
    }
    if (((i128)amax * mg->ml + amc) * B * lmax * BRS_SOR_MAX_VENUES >= ((i128)1 << 60))
        for (uint32_t j = 0; j < k; j++)
            if (((i128)akey[j] * mg->ml + amc) * B * st[ids[j]].lot * BRS_SOR_MAX_VENUES >=
                ((i128)1 << 60))
                return -1;
    const int64_t INF = INT64_MAX;
    int64_t dlo[BRS_SOR_MAX_VENUES], dhi[BRS_SOR_MAX_VENUES], suflo[BRS_SOR_MAX_VENUES + 1],
        sufhi[BRS_SOR_MAX_VENUES + 1];
    lazy L[BRS_SOR_MAX_VENUES];
    for (uint32_t j = 0; j < k; j++) {
        const vstate *s = &st[ids[j]];
        int64_t y0 = y0s[j], m = s->m;
        dlo[j] = y0 < B ? -y0 : -B;
        dhi[j] = m - y0 < B ? m - y0 : B;
        lazy_init(&L[j], s, side, mg);
    }
    suflo[k] = sufhi[k] = 0;
    for (uint32_t j = k; j-- > 0;) {
        suflo[j] = suflo[j + 1] + dlo[j] * lus[j];
        sufhi[j] = sufhi[j + 1] + dhi[j] * lus[j];
    }
    const int64_t emax = (g == 1 ? qty : qty / g) - base; /* the total may not pass the parent */
    int64_t estar = -1, R = INF;
    u128 back[BRS_SOR_MAX_VENUES], reach[BRS_SOR_MAX_VENUES];
    /* the common case: one venue alone brings the total to the parent's */
    for (uint32_t j = 0; j < k; j++) {
        int64_t d = udiv_small(emax, lus[j]); /* 0 <= emax < the margin's lot */
        if (d * lus[j] == emax && d <= dhi[j] && lazy_dc(&L[j], d) < R)
            R = lazy_dc(&L[j], d), estar = emax;
    }
    /* else two venues: i adds a lots, j gives back b, a x lot_i - b x lot_j
     * the parent's rest; a up to j's lot covers every residue. Only a first
     * bound, and proof that e* is the parent's rest: the search decides */
    for (uint32_t j = 0; j < k && estar < 0; j++) {
        if (dlo[j] == 0)
            continue;
        for (uint32_t i = 0; i < k; i++) {
            if (i == j)
                continue;
            for (int64_t a = 1, r = lus[i] - emax; a <= dhi[i] && a <= lus[j]; a++, r += lus[i]) {
                if (r <= 0)
                    continue;
                int64_t b = udiv_small(r, lus[j]);
                if (b * lus[j] != r)
                    continue;
                if (b <= -dlo[j]) { /* the least a is the pair's cheapest: both regrets grow */
                    int64_t c = lazy_dc(&L[i], a) + lazy_dc(&L[j], -b);
                    if (c < R)
                        R = c;
                }
                break;
            }
        }
    }
    if (estar < 0 && R < INF)
        estar = emax;
    if (estar < 0 && 2 * W + 1 > 128)
        goto programme; /* e* unknown and no bit sets: the pass finds it */
    /* the search order: venues whose cheapest change costs most first (few
     * changes to try), those with cheap or free changes last, where the last
     * one is fixed by what is left; the tie-break does not depend on it */
    bnb Bb; /* not zeroed: every field the search reads is set below */
    Bb.k = k, Bb.W = W, Bb.best = R, Bb.budget = BRS_SOR_BNB_BUDGET, Bb.found = 0, Bb.back = NULL;
    int64_t mv[BRS_SOR_MAX_VENUES], upv[BRS_SOR_MAX_VENUES], dnv[BRS_SOR_MAX_VENUES];
    for (uint32_t j = 0; j < k; j++) {
        /* the regret of one lot more and one lot fewer (INF: out of range) */
        int64_t up = dhi[j] > 0 ? lazy_dc(&L[j], 1) : INF, dn = dlo[j] < 0 ? lazy_dc(&L[j], -1) : INF;
        upv[j] = up, dnv[j] = dn;
        mv[j] = up < dn ? up : dn;
        uint32_t at = j;
        while (at > 0 && mv[Bb.in[at - 1]] < mv[j]) {
            Bb.in[at] = Bb.in[at - 1];
            at--;
        }
        Bb.in[at] = j;
    }
    int64_t up1[BRS_SOR_MAX_VENUES], dn1[BRS_SOR_MAX_VENUES]; /* by search position */
    for (uint32_t p = 0; p < k; p++) {
        uint32_t j = Bb.in[p];
        Bb.lus[p] = lus[j], Bb.dlo[p] = dlo[j], Bb.dhi[p] = dhi[j], Bb.L[p] = &L[j];
        up1[p] = upv[j], dn1[p] = dnv[j];
    }
    Bb.suflo[k] = Bb.sufhi[k] = 0;
    for (uint32_t p = k; p-- > 0;) {
        Bb.suflo[p] = Bb.suflo[p + 1] + Bb.dlo[p] * Bb.lus[p];
        Bb.sufhi[p] = Bb.sufhi[p + 1] + Bb.dhi[p] * Bb.lus[p];
    }
    if (estar < 0) { /* which totals are reachable at all, in search order */
        const u128 all = 2 * W + 1 == 128 ? ~(u128)0 : (((u128)1 << (2 * W + 1)) - 1);
        u128 prev = (u128)1 << W;
        for (uint32_t p = 0; p < k; p++)
            reach[p] = prev = dilate(prev, Bb.dlo[p], Bb.dhi[p], Bb.lus[p]) & all;
        for (int64_t e = emax < W ? emax : W; e >= 0; e--)
            if (prev >> (e + W) & 1) {
                estar = e;
                break;
            }
        /* from which totals after each venue e* can still be reached */
        back[k - 1] = (u128)1 << (estar + W);
        for (uint32_t p = k - 1; p > 0; p--)
            back[p - 1] = dilate(back[p], -Bb.dhi[p], -Bb.dlo[p], Bb.lus[p]) & all & reach[p - 1];
        Bb.back = back;
    }
    Bb.estar = estar;
    /* the least regret per unit of adding (giving back) a lot, positions p.. on */
    Bb.an[k] = Bb.ad[k] = Bb.rn[k] = Bb.rd[k] = 0;
    Bb.af[k] = Bb.rf[k] = 0;
    for (uint32_t p = k; p-- > 0;) {
        int64_t an = Bb.an[p + 1], ad = Bb.ad[p + 1], rn = Bb.rn[p + 1], rd = Bb.rd[p + 1];
        if (up1[p] != INF && (!ad || (i128)up1[p] * ad < (i128)an * Bb.lus[p]))
            an = up1[p], ad = Bb.lus[p];
        if (dn1[p] != INF && (!rd || (i128)dn1[p] * rd < (i128)rn * Bb.lus[p]))
            rn = dn1[p], rd = Bb.lus[p];
        Bb.an[p] = an, Bb.ad[p] = ad, Bb.rn[p] = rn, Bb.rd[p] = rd;
        Bb.af[p] = (double)an * recip[ad]; /* orders only: no division needed */
        Bb.rf[p] = (double)rn * recip[rd];
    }
    /* the bound's second part, positions p.. on: gz the gcd of the lots with
     * a free first change, ma / mr the least add / give-back, mz the least
     * change of a venue whose lot is off the multiples of gz */
    Bb.gz[k] = 0, Bb.mz[k] = Bb.ma[k] = Bb.mr[k] = INF;
    for (uint32_t p = k; p-- > 0;) {
        Bb.gz[p] = up1[p] == 0 || dn1[p] == 0 ? gcd_small(Bb.gz[p + 1], Bb.lus[p]) : Bb.gz[p + 1];
        Bb.ma[p] = up1[p] < Bb.ma[p + 1] ? up1[p] : Bb.ma[p + 1];
        Bb.mr[p] = dn1[p] < Bb.mr[p + 1] ? dn1[p] : Bb.mr[p + 1];
    }
    for (uint32_t p = 0; p < k; p++) { /* k <= 8: k^2 / 2 steps */
        int64_t gz = Bb.gz[p], mz = INF;
        if (gz)
            for (uint32_t i = p; i < k; i++)
                if (!multiple_of(Bb.lus[i], gz)) {
                    if (up1[i] < mz)
                        mz = up1[i];
                    if (dn1[i] < mz)
                        mz = dn1[i];
                }
        Bb.mz[p] = mz;
    }
    if (Bb.best == INF)
        bnb_dive(&Bb);
    bnb_go(&Bb, 0, 0, 0);
    if (Bb.budget >= 0 && Bb.found) {
        for (uint32_t j = 0; j < k; j++)
            st[ids[j]].x += Bb.bd[j] * st[ids[j]].lot;
        return 0;
    }
    if (Bb.found)
        R = Bb.best;
programme:; /* a label before a declaration needs a statement in C11 */
    /* the window programme: every regret of the window, then one pass */
    int64_t dcs[BRS_SOR_MAX_VENUES][C];
    for (uint32_t j = 0; j < k; j++)
        for (int64_t d = dlo[j]; d <= dhi[j]; d++)
            dcs[j][d - dlo[j]] = lazy_dc(&L[j], d);
    int64_t cost[S];
    uint32_t stamp[S];
    int8_t pick[BRS_SOR_MAX_VENUES][S];
    memset(stamp, 0, (size_t)(2 * W + 1) * sizeof stamp[0]);
    wprog P = {.k = k, .W = W, .emax = emax, .lus = lus, .dlo = dlo, .dhi = dhi, .suflo = suflo,
               .sufhi = sufhi, .dcs = (const int64_t(*)[C])dcs, .cost = cost, .stamp = stamp,
               .pick = pick};
    if (estar < 0)
        R = INF; /* e* unknown (the window passes 128 bits): the pass finds it */
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
    return !brs__sor_lp(st, ids, k, side, qty, &mg) || window(st, ids, k, side, qty, g, &mg) == 0;
}
