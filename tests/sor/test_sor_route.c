/* test_sor_route.c: the pure routing decision against a brute-force reference
 * on small random books: it takes as much as the best allocation (whole lots,
 * minimum sizes, within the limit), never at a higher net cost, never more than
 * asked, and respects lots and venue status; plus hand-checked cases for fees,
 * tie-breaks and posting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sor/sor.h"

typedef __int128 i128;

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Independent cost of taking q at one venue (x 10^6), or -1 in *ok if the book
 * within limit holds less than q. */
static i128 ref_cost(const brs_sor_venue *v, int side, int market, int64_t limit, int64_t q, int *ok)
{
    const brs_level *lv = side == BRS_BUY ? v->asks : v->bids;
    uint32_t n = side == BRS_BUY ? v->n_asks : v->n_bids;
    i128 c = 0;
    for (uint32_t i = 0; i < n && q > 0; i++) {
        if (!market && (side == BRS_BUY ? lv[i].price > limit : lv[i].price < limit))
            break;
        int64_t t = lv[i].qty < q ? lv[i].qty : q;
        int64_t f = side == BRS_BUY ? 1000000 + v->taker_fee_ppm : -(1000000 - v->taker_fee_ppm);
        c += (i128)t * lv[i].price * f;
        q -= t;
    }
    *ok = q == 0;
    return c;
}

typedef struct best {
    int64_t qty;
    i128 cost;
} best;

static void brute(const brs_sor_venue *v, uint32_t nv, uint32_t i, int side, int market,
                  int64_t limit, int64_t rem, int64_t taken, i128 cost, best *b)
{
    if (i == nv) {
        if (taken > b->qty || (taken == b->qty && cost < b->cost))
            b->qty = taken, b->cost = cost;
        return;
    }
    brute(v, nv, i + 1, side, market, limit, rem, taken, cost, b);
    if (!v[i].up || v[i].no_take)
        return;
    int64_t mn = v[i].min_qty > v[i].lot_size ? v[i].min_qty : v[i].lot_size;
    for (int64_t x = v[i].lot_size; x <= rem; x += v[i].lot_size) {
        if (x < mn)
            continue;
        int ok;
        i128 c = ref_cost(&v[i], side, market, limit, x, &ok);
        if (!ok)
            break;
        brute(v, nv, i + 1, side, market, limit, rem - x, taken + x, cost + c, b);
    }
}

typedef struct world {
    brs_level asks[BRS_SOR_MAX_VENUES][6], bids[BRS_SOR_MAX_VENUES][6];
    brs_sor_venue v[BRS_SOR_MAX_VENUES];
    uint32_t nv;
} world;

static void random_world(world *w, uint64_t *s, int uniform)
{
    w->nv = 1 + (uint32_t)(rng(s) % 4);
    int64_t lot = 1 + (int64_t)(rng(s) % 3);
    for (uint32_t i = 0; i < w->nv; i++) {
        brs_sor_venue *v = &w->v[i];
        memset(v, 0, sizeof *v);
        uint32_t na = (uint32_t)(rng(s) % 5), nb = (uint32_t)(rng(s) % 5);
        int64_t p = 100 + (int64_t)(rng(s) % 3);
        for (uint32_t j = 0; j < na; j++) {
            w->asks[i][j] = (brs_level){.price = p, .qty = (int64_t)(rng(s) % 8)};
            p += 1 + (int64_t)(rng(s) % 2);
        }
        p = 99 - (int64_t)(rng(s) % 3);
        for (uint32_t j = 0; j < nb; j++) {
            w->bids[i][j] = (brs_level){.price = p, .qty = (int64_t)(rng(s) % 8)};
            p -= 1 + (int64_t)(rng(s) % 2);
        }
        v->asks = w->asks[i];
        v->bids = w->bids[i];
        v->n_asks = na;
        v->n_bids = nb;
        /* fees: a few bps apart so that net-of-fee order differs from raw price order */
        v->taker_fee_ppm = (int32_t)(rng(s) % 4) * 5000 - 2000;
        v->maker_fee_ppm = (int32_t)(rng(s) % 3) * 100 - 100;
        v->latency_ns = (int64_t)(rng(s) % 3);
        v->lot_size = uniform ? lot : 1 + (int64_t)(rng(s) % 3);
        v->min_qty = uniform ? 0 : (int64_t)(rng(s) % 6);
        v->up = rng(s) % 6 != 0;
        v->no_take = rng(s) % 10 == 0;
    }
}

static void check_plan(const world *w, const brs_sor_parent *p, const brs_sor_plan *pl, int seed)
{
    int market = p->type == BRS_MARKET;
    best b = {0, 0};
    brute(w->v, w->nv, 0, p->side, market, p->price, p->qty, 0, 0, &b);
    int64_t take = 0;
    i128 cost = 0;
    uint32_t seen = 0;
    for (uint32_t k = 0; k < pl->n; k++) {
        const brs_sor_child *c = &pl->child[k];
        const brs_sor_venue *v = &w->v[c->venue];
        if (c->venue >= w->nv || !v->up)
            fail_msg("seed %d: child on a bad or down venue %u", seed, c->venue);
        if (c->qty <= 0 || c->qty % v->lot_size)
            fail_msg("seed %d: child qty %lld not whole lots of %lld", seed, (long long)c->qty,
                     (long long)v->lot_size);
        if (c->qty < v->min_qty)
            fail_msg("seed %d: child below min size", seed);
        if (!market && (p->side == BRS_BUY ? c->price > p->price : c->price < p->price))
            fail_msg("seed %d: child price beyond the parent's limit", seed);
        assert_int_equal(c->side, p->side);
        if (c->kind == BRS_SOR_TAKE) {
            if (v->no_take || (seen >> c->venue & 1u))
                fail_msg("seed %d: take on a no-take venue or twice on one venue", seed);
            seen |= 1u << c->venue;
            /* the child's own limit must let it take its quantity */
            int ok;
            i128 cc = ref_cost(v, p->side, 0, c->price, c->qty, &ok);
            if (!ok)
                fail_msg("seed %d: venue %u cannot fill %lld up to %lld", seed, c->venue,
                         (long long)c->qty, (long long)c->price);
            cost += cc;
            take += c->qty;
        } else {
            assert_int_equal(p->type, BRS_LIMIT);
            assert_true(p->post);
            assert_int_equal(c->price, p->price);
        }
    }
    assert_int_equal(take, pl->take_qty);
    if (pl->take_qty + pl->post_qty > p->qty)
        fail_msg("seed %d: over-routed %lld + %lld > %lld", seed, (long long)pl->take_qty,
                 (long long)pl->post_qty, (long long)p->qty);
    assert_int_equal(pl->take_qty + pl->post_qty + pl->unrouted, p->qty);
    if (take != b.qty)
        fail_msg("seed %d (method %d): took %lld, brute force %lld", seed, pl->method,
                 (long long)take, (long long)b.qty);
    if (cost > b.cost)
        fail_msg("seed %d (method %d): cost %.0f > brute force %.0f", seed, pl->method,
                 (double)cost, (double)b.cost);
}

static void run_random(int uniform, int n)
{
    int counts[4] = {0};
    for (int seed = 1; seed <= n; seed++) {
        uint64_t s = 0x12345678ull * (uint64_t)seed + (uint64_t)uniform;
        world w;
        random_world(&w, &s, uniform);
        brs_sor_parent p = {.side = (uint8_t)(rng(&s) % 2), .type = rng(&s) % 5 ? BRS_LIMIT : BRS_MARKET,
                            .post = rng(&s) % 2, .qty = 1 + (int64_t)(rng(&s) % 30)};
        p.price = p.side == BRS_BUY ? 100 + (int64_t)(rng(&s) % 8) : 99 - (int64_t)(rng(&s) % 8);
        brs_sor_plan pl;
        assert_int_equal(brs__sor_route(&p, w.v, w.nv, &pl), BRS_OK);
        counts[pl.method]++;
        check_plan(&w, &p, &pl, seed);
        /* pure: the same inputs give the same plan */
        brs_sor_plan again;
        brs__sor_route(&p, w.v, w.nv, &again);
        assert_int_equal(again.n, pl.n);
        assert_memory_equal(again.child, pl.child, pl.n * sizeof pl.child[0]);
    }
    /* the exact methods were exercised */
    if (uniform) {
        assert_true(counts[BRS_SOR_GREEDY_EXACT] > n / 2);
    } else {
        assert_true(counts[BRS_SOR_DP_EXACT] > n / 8);
        assert_true(counts[BRS_SOR_WINDOW_EXACT] > n / 50);
    }
}

static void test_random_uniform_lots(void **st)
{
    (void)st;
    run_random(1, 3000);
}

static void test_random_mixed_lots(void **st)
{
    (void)st;
    run_random(0, 3000);
}

/* The reference for mixed lots on full-size books (5 venues x 10 levels,
 * parents of hundreds of units, too many for the brute force above): the
 * plain dynamic programme over every total quantity, venue by venue, keeping
 * the smaller quantity on the later venue among equal costs. It states the
 * objective and the tie-break directly; the router's window search must give
 * exactly its allocation. x[i] = quantity taken at venue i. */
static void reference_dp(const brs_sor_venue *v, uint32_t nv, int side, int market, int64_t limit,
                         int64_t qty, int64_t *x)
{
    enum { UMAX = 1200 };
    static i128 bc[BRS_SOR_MAX_VENUES + 1][UMAX + 1];
    static int64_t pick[BRS_SOR_MAX_VENUES][UMAX + 1];
    const i128 INF = ((i128)1) << 120;
    assert_true(qty <= UMAX);
    for (int64_t t = 0; t <= qty; t++)
        bc[0][t] = t ? INF : 0;
    for (uint32_t i = 0; i < nv; i++) {
        for (int64_t t = 0; t <= qty; t++) {
            bc[i + 1][t] = bc[i][t];
            pick[i][t] = 0;
            if (!v[i].up || v[i].no_take)
                continue;
            for (int64_t q = v[i].lot_size; q <= t; q += v[i].lot_size) {
                int ok;
                i128 c = ref_cost(&v[i], side, market, limit, q, &ok);
                if (!ok)
                    break;
                if (bc[i][t - q] < INF && bc[i][t - q] + c < bc[i + 1][t])
                    bc[i + 1][t] = bc[i][t - q] + c, pick[i][t] = q;
            }
        }
    }
    int64_t t = qty;
    while (t > 0 && bc[nv][t] >= INF)
        t--;
    for (uint32_t i = nv; i-- > 0;) {
        x[i] = pick[i][t];
        t -= x[i];
    }
}

/* flat: every venue the same prices and no fees, so that many allocations
 * cost the same and the tie-break decides (the search must see them all) */
static void run_big_mixed(int n, const int64_t *lots, int nlots, int flat)
{
    int windows = 0;
    for (int seed = 1; seed <= n; seed++) {
        uint64_t s = 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed * 0x100000001b3ull) ^ (uint64_t)nlots ^
                     ((uint64_t)lots[0] << 40) ^ ((uint64_t)flat << 50);
        brs_level asks[5][10], bids[5][10];
        brs_sor_venue v[5];
        for (int i = 0; i < 5; i++) {
            int64_t lot = lots[rng(&s) % (uint64_t)nlots], off = flat ? 0 : (int64_t)(rng(&s) % 4);
            int64_t pa = 10000 + off, pb = 9999 - off;
            for (int l = 0; l < 10; l++) {
                /* level sizes sometimes off the lot, so lots straddle levels */
                int64_t qa = (int64_t)(rng(&s) % 24), qb = (int64_t)(rng(&s) % 24);
                if (rng(&s) % 2)
                    qa = qa / lot * lot, qb = qb / lot * lot;
                asks[i][l] = (brs_level){.price = pa, .qty = qa};
                bids[i][l] = (brs_level){.price = pb, .qty = qb};
                pa += flat ? 1 : 1 + (int64_t)(rng(&s) % 2);
                pb -= flat ? 1 : 1 + (int64_t)(rng(&s) % 2);
            }
            v[i] = (brs_sor_venue){.asks = asks[i], .bids = bids[i], .n_asks = 10, .n_bids = 10,
                                   .taker_fee_ppm = flat ? 0 : (int32_t)(rng(&s) % 4) * 50,
                                   .latency_ns = (int64_t)(rng(&s) % 3), .lot_size = lot,
                                   .up = rng(&s) % 8 != 0};
        }
        brs_sor_parent p = {.side = (uint8_t)(rng(&s) % 2), .type = rng(&s) % 6 ? BRS_LIMIT : BRS_MARKET,
                            .qty = 1 + (int64_t)(rng(&s) % 700)};
        p.price = p.side == BRS_BUY ? 10000 + (int64_t)(rng(&s) % 20) : 9999 - (int64_t)(rng(&s) % 20);
        brs_sor_plan pl;
        assert_int_equal(brs__sor_route(&p, v, 5, &pl), BRS_OK);
        windows += pl.method == BRS_SOR_WINDOW_EXACT;
        int64_t want[5], got[5] = {0};
        reference_dp(v, 5, p.side, p.type == BRS_MARKET, p.price, p.qty, want);
        for (uint32_t c = 0; c < pl.n; c++)
            if (pl.child[c].kind == BRS_SOR_TAKE)
                got[pl.child[c].venue] = pl.child[c].qty;
        /* the window search: the reference's allocation exactly; the uniform
         * greedy (its own tie-break, latency first): the same quantity and cost */
        int64_t gq = 0, wq = 0;
        i128 gc = 0, wc = 0;
        for (int i = 0; i < 5; i++) {
            int ok;
            if (pl.method == BRS_SOR_WINDOW_EXACT && got[i] != want[i])
                fail_msg("seed %d: venue %d takes %lld, the reference %lld", seed, i,
                         (long long)got[i], (long long)want[i]);
            gq += got[i], wq += want[i];
            gc += ref_cost(&v[i], p.side, p.type == BRS_MARKET, p.price, got[i], &ok);
            wc += ref_cost(&v[i], p.side, p.type == BRS_MARKET, p.price, want[i], &ok);
        }
        if (gq != wq || gc != wc)
            fail_msg("seed %d (method %d): took %lld at %.0f, the reference %lld at %.0f", seed,
                     pl.method, (long long)gq, (double)gc, (long long)wq, (double)wc);
    }
    assert_true(windows > n / 2); /* the window search is what was checked */
}

/* Full-size books, mixed lots with no minimum: the exact allocation of the
 * reference programme, lot for lot, including its tie-break; with lots close
 * together (bit sets of reachable totals) and far apart (none), and on flat
 * books where ties are everywhere. */
static void test_big_mixed_lots(void **st)
{
    (void)st;
    static const int64_t a[] = {1, 2, 3, 4}, b[] = {2, 4, 6}, c[] = {1, 5}, d[] = {3, 4, 5};
    /* lots 6 or more gcd units apart: the window passes 128 bits (no bit sets) */
    static const int64_t e[] = {1, 7, 10}, f[] = {4, 9}, h[] = {2, 3, 7, 8};
    run_big_mixed(400, a, 4, 0);
    run_big_mixed(200, b, 3, 0);
    run_big_mixed(200, c, 2, 0);
    run_big_mixed(200, d, 3, 0);
    run_big_mixed(200, e, 3, 0);
    run_big_mixed(200, f, 2, 0);
    run_big_mixed(200, h, 4, 0);
    run_big_mixed(200, a, 4, 1);
    run_big_mixed(200, d, 3, 1);
    run_big_mixed(200, h, 4, 1);
}

/* Fees decide: a cheaper raw price with a higher taker fee loses. */
static void test_net_of_fee(void **st)
{
    (void)st;
    brs_level a0[] = {{.price = 10000, .qty = 5}}, a1[] = {{.price = 10001, .qty = 5}};
    brs_sor_venue v[2] = {
        {.asks = a0, .n_asks = 1, .taker_fee_ppm = 500, .lot_size = 1, .up = 1}, /* 5 bps */
        {.asks = a1, .n_asks = 1, .taker_fee_ppm = 0, .lot_size = 1, .up = 1},
    };
    brs_sor_parent p = {.side = BRS_BUY, .type = BRS_LIMIT, .qty = 7, .price = 10001};
    brs_sor_plan pl;
    assert_int_equal(brs__sor_route(&p, v, 2, &pl), 0);
    /* 10000 x 1.0005 = 10005 > 10001: venue 1 first, all 5, then 2 from venue 0 */
    assert_int_equal(pl.n, 2);
    assert_int_equal(pl.child[0].venue, 1);
    assert_int_equal(pl.child[0].qty, 5);
    assert_int_equal(pl.child[1].venue, 0);
    assert_int_equal(pl.child[1].qty, 2);
    assert_int_equal(pl.unrouted, 0);
    /* a sell: the fee lowers proceeds the same way */
    brs_level b0[] = {{.price = 10001, .qty = 5}}, b1[] = {{.price = 10000, .qty = 5}};
    v[0].bids = b0, v[0].n_bids = 1;
    v[1].bids = b1, v[1].n_bids = 1;
    p = (brs_sor_parent){.side = BRS_SELL, .type = BRS_MARKET, .qty = 3};
    assert_int_equal(brs__sor_route(&p, v, 2, &pl), 0);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.child[0].venue, 1); /* 10000 net beats 10001 x 0.9995 */
}

/* Equal net price: lower latency first, then lower index. */
static void test_tie_breaks(void **st)
{
    (void)st;
    brs_level a[] = {{.price = 100, .qty = 4}};
    brs_sor_venue v[3] = {
        {.asks = a, .n_asks = 1, .lot_size = 1, .latency_ns = 5, .up = 1},
        {.asks = a, .n_asks = 1, .lot_size = 1, .latency_ns = 2, .up = 1},
        {.asks = a, .n_asks = 1, .lot_size = 1, .latency_ns = 2, .up = 1},
    };
    brs_sor_parent p = {.side = BRS_BUY, .type = BRS_LIMIT, .qty = 6, .price = 100};
    brs_sor_plan pl;
    assert_int_equal(brs__sor_route(&p, v, 3, &pl), 0);
    assert_int_equal(pl.n, 2);
    assert_int_equal(pl.child[0].venue, 1);
    assert_int_equal(pl.child[0].qty, 4);
    assert_int_equal(pl.child[1].venue, 2);
    assert_int_equal(pl.child[1].qty, 2);
}

/* The rest posts on the lowest maker fee, then the shortest queue at our price. */
static void test_post_remainder(void **st)
{
    (void)st;
    brs_level a[] = {{.price = 101, .qty = 3}};
    brs_level b0[] = {{.price = 100, .qty = 50}}, b1[] = {{.price = 100, .qty = 10}};
    brs_sor_venue v[3] = {
        {.asks = a, .n_asks = 1, .bids = b0, .n_bids = 1, .maker_fee_ppm = -100, .lot_size = 1, .up = 1},
        {.bids = b1, .n_bids = 1, .maker_fee_ppm = -100, .lot_size = 1, .up = 1},
        {.maker_fee_ppm = 0, .lot_size = 1, .up = 1},
    };
    brs_sor_parent p = {.side = BRS_BUY, .type = BRS_LIMIT, .post = 1, .qty = 10, .price = 101};
    brs_sor_plan pl;
    assert_int_equal(brs__sor_route(&p, v, 3, &pl), 0);
    assert_int_equal(pl.n, 2);
    assert_int_equal(pl.child[0].kind, BRS_SOR_TAKE);
    assert_int_equal(pl.child[0].qty, 3);
    assert_int_equal(pl.child[1].kind, BRS_SOR_POST);
    assert_int_equal(pl.child[1].qty, 7);
    /* at 101 neither queue holds anything: equal fee, equal queue, lower index */
    assert_int_equal(pl.child[1].venue, 0);
    p.price = 100; /* now venue 1's queue at 100 is shorter */
    assert_int_equal(brs__sor_route(&p, v, 3, &pl), 0);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.child[0].venue, 1);
    assert_int_equal(pl.child[0].qty, 10);
    /* a market parent never posts */
    p.type = BRS_MARKET;
    assert_int_equal(brs__sor_route(&p, v, 3, &pl), 0);
    assert_int_equal(pl.post_qty, 0);
    assert_int_equal(pl.unrouted, 7);
}

static void test_bad_input(void **st)
{
    (void)st;
    brs_level bad[] = {{.price = 101, .qty = 1}, {.price = 100, .qty = 1}}; /* not best first */
    brs_sor_venue v = {.asks = bad, .n_asks = 2, .lot_size = 1, .up = 1};
    brs_sor_parent p = {.side = BRS_BUY, .type = BRS_LIMIT, .qty = 1, .price = 101};
    brs_sor_plan pl;
    assert_int_equal(brs__sor_route(&p, &v, 1, &pl), BRS_E_INVAL);
    v.n_asks = 1;
    v.lot_size = 0;
    assert_int_equal(brs__sor_route(&p, &v, 1, &pl), BRS_E_INVAL);
    v.lot_size = 1;
    p.qty = 0;
    assert_int_equal(brs__sor_route(&p, &v, 1, &pl), BRS_E_INVAL);
    p.qty = 1;
    assert_int_equal(brs__sor_route(&p, &v, BRS_SOR_MAX_VENUES + 1, &pl), BRS_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_uniform_lots), cmocka_unit_test(test_random_mixed_lots),
        cmocka_unit_test(test_big_mixed_lots),
        cmocka_unit_test(test_net_of_fee),          cmocka_unit_test(test_tie_breaks),
        cmocka_unit_test(test_post_remainder),      cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
