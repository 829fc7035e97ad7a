/* test_bench_ab.c: the benchmarks' paired comparison (host/bench/ab.c,
 * `bench backtest|fix --metrics-ab`): per-pair ratios, their median and
 * quartiles against a hand-worked case and a sort-based reference on random
 * pairs, pairs with a bad figure left out, and the bootstrap interval around
 * the median, inside the ratios' range and the same on every call. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bench/bench.h"

static void test_hand_worked(void **state)
{
    (void)state;
    /* ratios 1.1, 1.0, 0.9, 1.1: sorted 0.9 1.0 1.1 1.1 */
    double off[] = {1, 2, 4, 5}, on[] = {1.1, 2, 3.6, 5.5};
    brs_ab s;
    brs__ab_compute(off, on, 4, &s);
    assert_int_equal(s.n, 4);
    assert_true(fabs(s.median - 1.05) < 1e-12);
    assert_true(fabs(s.q1 - 0.975) < 1e-12); /* rank 0.75: 0.9 + 0.75 * 0.1 */
    assert_true(fabs(s.q3 - 1.1) < 1e-12);   /* rank 2.25: between 1.1 and 1.1 */
    assert_true(fabs(s.off - 3.0) < 1e-12);  /* medians of each side */
    assert_true(fabs(s.on - 2.8) < 1e-12);
    assert_true(s.lo95 >= 0.9 && s.lo95 <= s.median && s.hi95 >= s.median && s.hi95 <= 1.1);
}

static void test_bad_pairs_left_out(void **state)
{
    (void)state;
    double off[] = {1, NAN, 0, 2, 4}, on[] = {2, 1, 1, INFINITY, 4};
    brs_ab s;
    brs__ab_compute(off, on, 5, &s);
    assert_int_equal(s.n, 2); /* (1, 2) and (4, 4) */
    assert_true(fabs(s.median - 1.5) < 1e-12);
    brs__ab_compute(off, on, 0, &s);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.median) && isnan(s.lo95));
    /* all ratios equal: everything is that ratio */
    double a[] = {1, 2, 3}, b[] = {1.02, 2.04, 3.06};
    brs__ab_compute(a, b, 3, &s);
    assert_true(fabs(s.median - 1.02) < 1e-12 && fabs(s.lo95 - 1.02) < 1e-12 && fabs(s.hi95 - 1.02) < 1e-12);
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    srand(18);
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 1 + (size_t)(rand() % 41);
        double off[41], on[41], r[41];
        for (size_t i = 0; i < n; i++) {
            off[i] = 0.5 + rand() / (double)RAND_MAX;
            on[i] = off[i] * (0.9 + 0.2 * rand() / (double)RAND_MAX);
            r[i] = on[i] / off[i];
        }
        qsort(r, n, sizeof *r, cmp);
        double med = n % 2 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
        brs_ab s, t;
        brs__ab_compute(off, on, n, &s);
        brs__ab_compute(off, on, n, &t);
        assert_int_equal(s.n, n);
        assert_true(fabs(s.median - med) < 1e-12);
        assert_true(r[0] <= s.q1 && s.q1 <= s.median && s.median <= s.q3 && s.q3 <= r[n - 1]);
        assert_true(r[0] <= s.lo95 && s.lo95 <= s.median && s.median <= s.hi95 && s.hi95 <= r[n - 1]);
        assert_true(s.lo95 == t.lo95 && s.hi95 == t.hi95); /* a fixed generator */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_worked),
        cmocka_unit_test(test_bad_pairs_left_out),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
