/* test_indicators.c: api/bourse/indicators.h against values worked out by hand
 * (the arithmetic is in the comments), plus a long run checking that the
 * incremental sums do not drift from a direct recomputation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <bourse/indicators.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_sma(void **state)
{
    (void)state;
    double buf[3];
    brs_sma s;
    assert_int_equal(brs_sma_init(&s, buf, 3), BRS_OK);
    assert_int_equal(brs_sma_init(&s, buf, 0), BRS_E_INVAL);
    brs_sma_init(&s, buf, 3);
    assert_true(isnan(brs_sma_update(&s, 2)));
    assert_true(isnan(brs_sma_update(&s, 4)));
    assert_false(brs_sma_ready(&s));
    NEAR(brs_sma_update(&s, 6), 4.0);        /* (2+4+6)/3 */
    NEAR(brs_sma_update(&s, 10), 20.0 / 3);  /* (4+6+10)/3 */
    NEAR(brs_sma_update(&s, 4), 20.0 / 3);   /* (6+10+4)/3 */
    NEAR(brs_sma_update(&s, 1), 5.0);        /* (10+4+1)/3 */
    assert_true(brs_sma_ready(&s));
}

static void test_ema(void **state)
{
    (void)state;
    brs_ema e;
    brs_ema_init(&e, 3); /* alpha = 2/(3+1) = 0.5 */
    assert_true(isnan(brs_ema_update(&e, 2)));
    assert_true(isnan(brs_ema_update(&e, 4)));
    NEAR(brs_ema_update(&e, 6), 4.0);   /* seed: SMA of 2,4,6 */
    NEAR(brs_ema_update(&e, 10), 7.0);  /* 4 + 0.5*(10-4) */
    NEAR(brs_ema_update(&e, 4), 5.5);   /* 7 + 0.5*(4-7) */
}

static void test_rsi(void **state)
{
    (void)state;
    brs_rsi r;
    brs_rsi_init(&r, 3);
    /* prices 10 11 12 11 13 12: changes +1 +1 -1 +2 -1 */
    assert_true(isnan(brs_rsi_update(&r, 10)));
    assert_true(isnan(brs_rsi_update(&r, 11)));
    assert_true(isnan(brs_rsi_update(&r, 12)));
    /* first 3 changes: avg gain 2/3, avg loss 1/3, RS 2, RSI 100 - 100/3 */
    NEAR(brs_rsi_update(&r, 11), 100.0 - 100.0 / 3.0);
    /* +2: gain (2/3*2 + 2)/3 = 10/9, loss (1/3*2)/3 = 2/9, RS 5, RSI 100 - 100/6 */
    NEAR(brs_rsi_update(&r, 13), 100.0 - 100.0 / 6.0);
    /* -1: gain (10/9*2)/3 = 20/27, loss (2/9*2 + 1)/3 = 13/27, RS 20/13, RSI 100 - 1300/33 */
    NEAR(brs_rsi_update(&r, 12), 100.0 - 1300.0 / 33.0);
    brs_rsi up, flat;
    brs_rsi_init(&up, 2);
    brs_rsi_init(&flat, 2);
    for (int i = 0; i < 5; i++) {
        brs_rsi_update(&up, 10 + i);
        brs_rsi_update(&flat, 7);
    }
    NEAR(brs_rsi_value(&up), 100.0); /* no losses */
    NEAR(brs_rsi_value(&flat), 50.0); /* no change at all */
}

static void test_atr(void **state)
{
    (void)state;
    brs_atr a;
    brs_atr_init(&a, 2);
    /* bar 1 (10,8,9): TR = 10-8 = 2 (no previous close) */
    assert_true(isnan(brs_atr_update(&a, 10, 8, 9)));
    /* bar 2 (12,9,11): TR = max(3, |12-9|, |9-9|) = 3; ATR = (2+3)/2 */
    NEAR(brs_atr_update(&a, 12, 9, 11), 2.5);
    /* bar 3 (11,7,8): TR = max(4, |11-11|, |7-11|) = 4; ATR = (2.5*1 + 4)/2 */
    NEAR(brs_atr_update(&a, 11, 7, 8), 3.25);
    /* bar 4 (9,8,9): TR = max(1, |9-8|, |8-8|) = 1; ATR = (3.25 + 1)/2 */
    NEAR(brs_atr_update(&a, 9, 8, 9), 2.125);
}

static void test_stddev_bollinger_zscore(void **state)
{
    (void)state;
    static const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    double b1[4], b2[4], b3[4], b8[8];
    brs_stddev sd, all;
    brs_bollinger bb;
    brs_zscore z;
    brs_stddev_init(&sd, b1, 4);
    brs_bollinger_init(&bb, b2, 4, 2.0);
    brs_zscore_init(&z, b3, 4);
    brs_stddev_init(&all, b8, 8);
    double got[8];
    for (int i = 0; i < 8; i++) {
        got[i] = brs_stddev_update(&sd, x[i]);
        brs_bollinger_update(&bb, x[i]);
        brs_zscore_update(&z, x[i]);
        brs_stddev_update(&all, x[i]);
    }
    (void)got;
    /* last window 5 5 7 9: mean 6.5, squared deviations 2.25+2.25+0.25+6.25 = 11,
     * population variance 11/4 = 2.75 */
    NEAR(brs_stddev_value(&sd), sqrt(2.75));
    NEAR(brs_stddev_mean(&sd), 6.5);
    /* all eight: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, variance 4, sd 2 */
    NEAR(brs_stddev_value(&all), 2.0);
    NEAR(bb.mid, 6.5);
    NEAR(bb.upper, 6.5 + 2 * sqrt(2.75));
    NEAR(bb.lower, 6.5 - 2 * sqrt(2.75));
    NEAR(brs_zscore_value(&z), (9 - 6.5) / sqrt(2.75));
    /* windows along the way: 2 4 4 4 -> variance (2.25+0.25*3)/4 = 0.75;
     * 4 4 4 5 -> mean 4.25, (0.0625*3 + 0.5625)/4 = 0.1875 */
    brs_stddev w;
    double bw[4];
    brs_stddev_init(&w, bw, 4);
    for (int i = 0; i < 3; i++)
        assert_true(isnan(brs_stddev_update(&w, x[i])));
    NEAR(brs_stddev_update(&w, x[3]), sqrt(0.75));
    NEAR(brs_stddev_update(&w, x[4]), sqrt(0.1875));
    /* a flat window has z-score 0, not a division by zero */
    brs_zscore zf;
    double bz[3];
    brs_zscore_init(&zf, bz, 3);
    for (int i = 0; i < 4; i++)
        brs_zscore_update(&zf, 5);
    NEAR(brs_zscore_value(&zf), 0.0);
}

static void test_vwap(void **state)
{
    (void)state;
    brs_vwap cum, roll;
    double buf[4];
    assert_int_equal(brs_vwap_init(&roll, NULL, 2), BRS_E_INVAL);
    brs_vwap_init(&cum, NULL, 0);
    brs_vwap_init(&roll, buf, 2);
    assert_true(isnan(brs_vwap_value(&cum)));
    brs_vwap_update(&cum, 10, 100);
    brs_vwap_update(&roll, 10, 100);
    brs_vwap_update(&cum, 11, 200);
    brs_vwap_update(&roll, 11, 200);
    /* cumulative: (10*100 + 11*200 + 12*100) / 400 = 4400/400 */
    NEAR(brs_vwap_update(&cum, 12, 100), 11.0);
    /* last two: (2200 + 1200) / 300 */
    NEAR(brs_vwap_update(&roll, 12, 100), 3400.0 / 300.0);
    /* last two after (13, 300): (1200 + 3900) / 400 */
    NEAR(brs_vwap_update(&roll, 13, 300), 12.75);
    brs_vwap_reset(&cum);
    assert_true(isnan(brs_vwap_value(&cum)));
}

/* One million updates of values around 1e6: the incremental SMA and standard
 * deviation must match a direct computation over the final window. */
static void test_no_drift(void **state)
{
    (void)state;
    enum { P = 97, N = 1000000 };
    static double bs[P], bd[P], last[P];
    brs_sma s;
    brs_stddev d;
    brs_sma_init(&s, bs, P);
    brs_stddev_init(&d, bd, P);
    uint64_t r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        double x = 1e6 + (double)(r >> 40) / 1000.0;
        brs_sma_update(&s, x);
        brs_stddev_update(&d, x);
        last[(i - (N - P)) >= 0 ? i - (N - P) : 0] = x;
    }
    double m = 0, q = 0;
    for (int i = 0; i < P; i++)
        m += last[i];
    m /= P;
    for (int i = 0; i < P; i++)
        q += (last[i] - m) * (last[i] - m);
    assert_true(fabs(brs_sma_value(&s) - m) < 1e-6);
    assert_true(fabs(brs_stddev_value(&d) - sqrt(q / P)) < 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sma),  cmocka_unit_test(test_ema),
        cmocka_unit_test(test_rsi),  cmocka_unit_test(test_atr),
        cmocka_unit_test(test_stddev_bollinger_zscore),
        cmocka_unit_test(test_vwap), cmocka_unit_test(test_no_drift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
