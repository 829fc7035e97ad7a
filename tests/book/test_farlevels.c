/* test_farlevels.c: the far-level AVL tree against a sorted array (the simple
 * model it replaced): random inserts, erases and neighbour queries agree, the
 * tree stays balanced (height within the AVL bound), node indices of other
 * levels survive erases, and an adversarial price order (ascending, descending,
 * zig-zag) keeps the height logarithmic. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book/farlevels.h"

static int64_t ref[20000];
static size_t nref;

static size_t ref_lower(int64_t p)
{
    size_t lo = 0, hi = nref;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ref[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Checks order, heights and balance; returns the subtree height. */
static int check(const brs__far *t, uint32_t i, int64_t lo, int64_t hi, size_t *count)
{
    if (!i)
        return 0;
    assert_true(t->n[i].price > lo && t->n[i].price < hi);
    int a = check(t, t->n[i].left, lo, t->n[i].price, count);
    int b = check(t, t->n[i].right, t->n[i].price, hi, count);
    assert_true(abs(a - b) <= 1);
    int h = (a > b ? a : b) + 1;
    assert_int_equal(t->n[i].height, h);
    (*count)++;
    return h;
}

static void check_all(const brs__far *t)
{
    size_t count = 0;
    int h = check(t, t->root, INT64_MIN, INT64_MAX, &count);
    assert_int_equal(count, t->count);
    if (count)
        assert_true(h <= (int)(1.4405 * log2((double)count + 2) - 0.3277) + 1);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void test_against_sorted_array(void **state)
{
    (void)state;
    brs__far t = {0};
    nref = 0;
    for (int step = 0; step < 200000; step++) {
        int64_t p = (int64_t)(rnd() % 30000) - 15000;
        int what = (int)(rnd() % 10);
        if (what < 5 && nref < 20000) {
            uint32_t i = brs__far_insert(&t, p);
            assert_true(i != 0);
            assert_int_equal(brs__far_price(&t, i), p);
            size_t k = ref_lower(p);
            if (k == nref || ref[k] != p) {
                assert_int_equal(brs__far_level(&t, i)->qty, 0); /* new levels are empty */
                memmove(ref + k + 1, ref + k, (nref - k) * sizeof *ref);
                ref[k] = p;
                nref++;
            }
            brs__far_level(&t, i)->qty = p * 3; /* a payload that must follow the level */
        } else if (what < 8) {
            /* erase keeps other levels' node indices and payloads */
            uint32_t keep = nref ? brs__far_find(&t, ref[nref / 2]) : 0;
            int64_t keep_p = keep ? brs__far_price(&t, keep) : 0;
            brs__far_erase(&t, p);
            size_t k = ref_lower(p);
            if (k < nref && ref[k] == p) {
                memmove(ref + k, ref + k + 1, (nref - k - 1) * sizeof *ref);
                nref--;
            }
            if (keep && keep_p != p) {
                assert_int_equal(brs__far_price(&t, keep), keep_p);
                assert_int_equal(brs__far_level(&t, keep)->qty, keep_p * 3);
            }
        }
        /* queries */
        size_t k = ref_lower(p);
        uint32_t f = brs__far_find(&t, p);
        assert_int_equal(f != 0, k < nref && ref[k] == p);
        uint32_t c = brs__far_ceil(&t, p);
        if (k < nref)
            assert_int_equal(brs__far_price(&t, c), ref[k]);
        else
            assert_int_equal(c, 0);
        uint32_t b = brs__far_below(&t, p);
        if (k > 0)
            assert_int_equal(brs__far_price(&t, b), ref[k - 1]);
        else
            assert_int_equal(b, 0);
        if (f)
            assert_int_equal(brs__far_level(&t, f)->qty, p * 3);
        assert_int_equal(t.count, nref);
        if (step % 5000 == 0)
            check_all(&t);
    }
    check_all(&t);
    brs__far_clear(&t);
    assert_int_equal(t.count, 0);
    assert_int_equal(brs__far_find(&t, ref[0]), 0);
    brs__far_free(&t);
}

static void test_adversarial_orders(void **state)
{
    (void)state;
    for (int pattern = 0; pattern < 3; pattern++) {
        brs__far t = {0};
        for (int64_t i = 0; i < 100000; i++) {
            int64_t p = pattern == 0 ? i : pattern == 1 ? -i : (i % 2 ? i : -i);
            assert_true(brs__far_insert(&t, p) != 0);
        }
        check_all(&t); /* 100k levels: height <= 24 */
        for (int64_t i = 0; i < 100000; i += 2)
            brs__far_erase(&t, pattern == 1 ? -i : i);
        check_all(&t);
        brs__far_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_sorted_array),
        cmocka_unit_test(test_adversarial_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
