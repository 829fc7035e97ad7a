/* test_metrics.c: metrics on fixed equity series and fixed fill lists, each
 * expected value worked out by hand in the comments (docs/analytics.md has the
 * definitions), plus the undefined cases (no trades, zero volatility, one day). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "analytics/an_internal.h"
#include <stdlib.h>

#define DAY INT64_C(86400000000000)
#define HOUR INT64_C(3600000000000)
#define T0 (INT64_C(1704067200) * INT64_C(1000000000)) /* 2024-01-01T00:00:00Z */

static void near(double got, double want)
{
    double tol = 1e-9 * fmax(1.0, fabs(want));
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g", got, want);
}

static brs_an_recorder *make(int mode, double ppy, double rf)
{
    brs_an_instrument inst = {.symbol = "ABC", .multiplier = 1, .price_scale = 100};
    brs_an_options opt = {.mode = mode, .periods_per_year = ppy, .risk_free_rate = rf,
                          .title = "test"};
    brs_an_recorder *r;
    brs_error err = {0};
    assert_int_equal(brs__an_create(&r, &opt, &inst, 1, &err), 0);
    return r;
}

/* Five daily closes, one sample per day at 16:00 UTC:
 *   E = 100, 110, 99, 108.9, 103.455
 *   r = +0.10, -0.10, +0.10, -0.05   (n = 4; day 0 is only the start)
 *   mean = 0.05 / 4 = 0.0125
 *   deviations 0.0875, -0.1125, 0.0875, -0.0625
 *   squares 0.00765625 + 0.01265625 + 0.00765625 + 0.00390625 = 0.031875
 *   sample variance = 0.031875 / 3 = 0.010625
 * with periods_per_year 252 and risk_free_rate 0.0252 (0.0001 per day):
 *   ann_volatility = sqrt(0.010625) * sqrt(252) = sqrt(2.6775)
 *   sharpe = (0.0125 - 0.0001) / sqrt(0.010625) * sqrt(252)
 *   shortfalls below 0.0001: -0.1001 and -0.0501 (the others count 0)
 *   downside variance = (0.01002001 + 0.00251001) / 4 = 0.003132505
 *   sortino = 0.0124 / sqrt(0.003132505) * sqrt(252)
 *   total_return = 103.455 / 100 - 1 = 0.03455
 *   years = 4 days / 365.25: under 30 days, so cagr and calmar are null
 *   peak 110 on day 1, 99 on day 2: max_drawdown = 11 / 110 = 0.1; never back
 *   to 110, so the drawdown runs from day 1 to the last sample: 3 days */
/* CAGR over more than 30 days, by hand:
 *   100 at day 0, 90 at day 100, 121 at day 730.5 (two years of 365.25 days)
 *   cagr = (121 / 100)^(1 / 2) - 1 = 1.1 - 1 = 0.1
 *   max_drawdown = 10 / 100 = 0.1, so calmar = 0.1 / 0.1 = 1 */
static void test_cagr_two_years(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_SIGNAL, 252, 0);
    assert_int_equal(brs__an_sample(r, T0, 100, 100, NULL), 0);
    assert_int_equal(brs__an_sample(r, T0 + 100 * DAY, 90, 90, NULL), 0);
    assert_int_equal(brs__an_sample(r, T0 + 730 * DAY + 12 * HOUR, 121, 121, NULL), 0);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    near(m.years, 2);
    near(m.cagr, 0.1);
    near(m.max_drawdown, 0.1);
    near(m.calmar, 1);
    brs__an_destroy(r);
}

static void test_daily_series(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_SIGNAL, 252, 0.0252);
    const double eq[] = {100, 110, 99, 108.9, 103.455};
    for (int d = 0; d < 5; d++)
        assert_int_equal(brs__an_sample(r, T0 + d * DAY + 16 * HOUR, eq[d], eq[d], NULL), 0);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_int_equal(m.n_daily_returns, 4);
    near(m.total_return, 0.03455);
    near(m.ann_volatility, sqrt(2.6775));
    near(m.sharpe, 0.0124 / sqrt(0.010625) * sqrt(252));
    near(m.sortino, 0.0124 / sqrt(0.003132505) * sqrt(252));
    near(m.years, 4 / 365.25);
    assert_true(isnan(m.cagr) && isnan(m.calmar));
    near(m.max_drawdown, 0.1);
    near(m.max_drawdown_days, 3);
    near(m.periods_per_year, 252);
    near(m.risk_free_rate, 0.0252);
    assert_int_equal(m.n_trades, 0);
    assert_true(isnan(m.win_rate) && isnan(m.profit_factor) && isnan(m.expectancy));
    brs__an_destroy(r);
}

/* Intraday samples, resampled to the last of each UTC day:
 *   day 0 09:00 100 (start), day 0 16:00 102, day 1 12:00 99, day 1 20:00 101.796
 *   daily values: 102 (day 0), 101.796 (day 1); day 0's return is from the start:
 *   r = 102/100 - 1 = 0.02, 101.796/102 - 1 = -0.002; mean 0.009
 *   deviations +-0.011, sample variance = 2 * 0.000121 / 1 = 0.000242
 *   ann_volatility (365 per year) = sqrt(0.000242 * 365)
 *   max_drawdown sees the intraday dip: (102 - 99) / 102 = 3/102, lasting from
 *   day 0 16:00 to the end (never recovered): 28 h = 28/24 days */
static void test_intraday_resampling(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_SIGNAL, 365, 0);
    assert_int_equal(brs__an_sample(r, T0 + 9 * HOUR, 100, 100, NULL), 0);
    assert_int_equal(brs__an_sample(r, T0 + 16 * HOUR, 102, 102, NULL), 0);
    assert_int_equal(brs__an_sample(r, T0 + DAY + 12 * HOUR, 99, 99, NULL), 0);
    assert_int_equal(brs__an_sample(r, T0 + DAY + 20 * HOUR, 101.796, 101.796, NULL), 0);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_int_equal(m.n_daily_returns, 2);
    near(m.ann_volatility, sqrt(0.000242 * 365));
    near(m.sharpe, 0.009 / sqrt(0.000242) * sqrt(365));
    /* downside: only -0.002 is below 0: variance 0.000004 / 2 (n = 2) */
    near(m.sortino, 0.009 / sqrt(0.000004 / 2) * sqrt(365));
    near(m.max_drawdown, 3.0 / 102);
    near(m.max_drawdown_days, 28.0 / 24);
    /* a time going backwards, or an equity that is not a number, is refused */
    assert_int_equal(brs__an_sample(r, T0 + 2 * DAY, NAN, 1, NULL), BRS_E_INVAL);
    assert_int_equal(brs__an_sample(r, T0, 1, 1, NULL), BRS_E_INVAL);
    assert_non_null(strstr(brs__an_last_error(r), "before"));
    brs__an_destroy(r);
}

/* A drawdown that recovers: 100, 90 (day 1), 100 (day 3: recovered), 95 (day 4),
 * 120 (day 5). Periods: day 0 -> day 3 (3 days, depth 10 %), day 3 -> day 5
 * (2 days, depth 5 %): max_drawdown 0.1, max_drawdown_days 3. */
static void test_drawdown_recovery(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_SIGNAL, 252, 0);
    const int days[] = {0, 1, 3, 4, 5};
    const double eq[] = {100, 90, 100, 95, 120};
    for (int i = 0; i < 5; i++)
        assert_int_equal(brs__an_sample(r, T0 + days[i] * DAY, eq[i], eq[i], NULL), 0);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    near(m.max_drawdown, 0.1);
    near(m.max_drawdown_days, 3);
    near(m.total_return, 0.2);
    brs__an_destroy(r);
}

/* Undefined cases: nothing recorded; one sample; a flat curve; a constant
 * growth curve (its rounding noise is not volatility). */
static void test_edge_cases(void **state)
{
    (void)state;
    brs_an_metrics m;
    brs_error err = {0};
    brs_an_recorder *r = make(BRS_AN_BOOK, 252, 0);
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_true(isnan(m.total_return) && isnan(m.cagr) && isnan(m.sharpe) && isnan(m.sortino));
    assert_true(isnan(m.max_drawdown) && isnan(m.exposure) && isnan(m.turnover));
    assert_true(isnan(m.fill_ratio) && isnan(m.maker_share) && isnan(m.win_rate));
    assert_int_equal(m.n_trades, 0);

    /* one sample: a return of 0, no time, no volatility */
    assert_int_equal(brs__an_sample(r, T0, 1000, 1000, NULL), 0);
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    near(m.total_return, 0);
    assert_true(isnan(m.cagr) && isnan(m.ann_volatility) && isnan(m.sharpe) && isnan(m.calmar));
    near(m.max_drawdown, 0);
    near(m.max_drawdown_days, 0);
    assert_true(isnan(m.exposure));
    brs__an_destroy(r);

    /* flat for ten days: volatility 0, Sharpe and Sortino undefined, no drawdown */
    r = make(BRS_AN_SIGNAL, 252, 0);
    for (int d = 0; d < 10; d++)
        assert_int_equal(brs__an_sample(r, T0 + d * DAY, 1000, 1000, NULL), 0);
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    near(m.ann_volatility, 0);
    assert_true(isnan(m.sharpe) && isnan(m.sortino) && isnan(m.calmar));
    assert_true(isnan(m.cagr)); /* 9 days: too short to annualize */
    near(m.exposure, 0);
    brs__an_destroy(r);

    /* +1 % a day, exactly compounding: no volatility, no downside */
    r = make(BRS_AN_SIGNAL, 252, 0);
    double e = 1000;
    for (int d = 0; d < 10; d++, e *= 1.01)
        assert_int_equal(brs__an_sample(r, T0 + d * DAY, e, e, NULL), 0);
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_true(isnan(m.sharpe) && isnan(m.sortino));
    near(m.ann_volatility, 0);
    near(m.max_drawdown, 0);
    assert_true(isnan(m.calmar));
    brs__an_destroy(r);
}

static void fill(brs_an_recorder *r, int64_t ts, uint64_t id, int side, int64_t qty,
                 double price, double fee, int liq)
{
    brs_an_order o = {.id = id, .ts = ts, .instrument = 0, .side = (uint8_t)side,
                      .type = BRS_LIMIT, .price = price, .qty = qty};
    assert_int_equal(brs__an_order_new(r, &o), 0);
    brs_an_fill f = {.ts = ts, .order_id = id, .instrument = 0, .side = (uint8_t)side,
                     .liquidity = (uint8_t)liq, .qty = qty, .price = price, .fee = fee};
    assert_int_equal(brs__an_fill(r, &f), 0);
}

/* FIFO round trips with a partial close and a flip:
 *   day 1 buy 10 @ 100 fee 1.0 (maker)    lots: +10@100
 *   day 2 buy 10 @ 110 fee 1.0 (maker)    lots: +10@100, +10@110
 *   day 3 sell 15 @ 120 fee 1.5 (taker)   closes 10@100: gross 200, fees 1.0 + 1.0 -> 198
 *                                         closes 5@110:  gross 50, fees 0.5 + 0.5 -> 49
 *   day 4 sell 10 @ 105 fee 1.0 (taker)   closes 5@110:  gross -25, fees 0.5 + 0.5 -> -26
 *                                         flips: opens -5@105 carrying fee 0.5
 *   day 6 buy 5 @ 100 fee 0.5 (taker)     closes -5@105: gross +25, fees 0.5 + 0.5 -> 24
 * trades 198, 49, -26, 24: n 4, win_rate 3/4, profit_factor 271/26,
 * expectancy 245/4 = 61.25, holding 2 + 1 + 2 + 2 days -> mean 1.75 days = 151200 s.
 * Samples at day 0 (10000) and day 8 (10245): position non-zero from day 1 to day 6
 * -> exposure 5/8; |pos| 10, 20, 5, 5, 5 over days 1-6 -> mean (10+20+5+10)/8 = 5.625;
 * max 20. Notional 1000 + 1100 + 1800 + 1050 + 500 = 5450; mean equity 10122.5.
 * Orders: the five above (50 lots) plus one of 15 never filled: fill_ratio 50/65;
 * maker 20 of 50 filled lots: maker_share 0.4, taker_share 0.6; fees 5.0. */
static void test_fifo_trades(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_BOOK, 252, 0);
    assert_int_equal(brs__an_sample(r, T0, 10000, 10000, NULL), 0);
    fill(r, T0 + 1 * DAY, 1, BRS_BUY, 10, 100, 1.0, BRS_LIQ_MAKER);
    fill(r, T0 + 2 * DAY, 2, BRS_BUY, 10, 110, 1.0, BRS_LIQ_MAKER);
    fill(r, T0 + 3 * DAY, 3, BRS_SELL, 15, 120, 1.5, BRS_LIQ_TAKER);
    fill(r, T0 + 4 * DAY, 4, BRS_SELL, 10, 105, 1.0, BRS_LIQ_TAKER);
    brs_an_order o = {.id = 99, .ts = T0 + 5 * DAY, .side = BRS_BUY, .price = 90, .qty = 15};
    assert_int_equal(brs__an_order_new(r, &o), 0);
    assert_int_equal(brs__an_order_done(r, T0 + 5 * DAY, 99, BRS_AN_CANCELLED, 0), 0);
    fill(r, T0 + 6 * DAY, 5, BRS_BUY, 5, 100, 0.5, BRS_LIQ_TAKER);
    assert_int_equal(brs__an_sample(r, T0 + 8 * DAY, 10245, 10245, NULL), 0);

    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_int_equal(m.n_trades, 4);
    assert_int_equal(m.n_winners, 3);
    assert_int_equal(m.n_losers, 1);
    near(m.win_rate, 0.75);
    near(m.gross_profit, 271);
    near(m.gross_loss, 26);
    near(m.profit_factor, 271.0 / 26);
    near(m.expectancy, 61.25);
    near(m.largest_win, 198);
    near(m.largest_loss, -26);
    near(m.avg_holding_seconds, 151200);
    near(m.exposure, 5.0 / 8);
    near(m.inventory_mean_abs, 5.625);
    near(m.inventory_max_abs, 20);
    near(m.traded_notional, 5450);
    near(m.turnover, 5450 / 10122.5);
    near(m.fees_paid, 5.0);
    near(m.fill_ratio, 50.0 / 65);
    near(m.maker_share, 0.4);
    near(m.taker_share, 0.6);
    near(m.maker_fees, 2.0);
    near(m.taker_fees, 3.0);
    assert_int_equal(m.n_orders, 6);
    assert_int_equal(m.n_fills, 5);

    /* by name, as `bourse sweep` will pick its sort key */
    double v;
    const brs_an_metric_desc *d;
    assert_int_equal(brs__an_metric_get(&m, "profit_factor", &v, &d), 0);
    near(v, 271.0 / 26);
    assert_int_equal(d->better, 1);
    assert_int_equal(brs__an_metric_get(&m, "n_trades", &v, &d), 0);
    near(v, 4);
    assert_true(d->is_int);
    assert_int_equal(brs__an_metric_get(&m, "max_drawdown", &v, &d), 0);
    assert_int_equal(d->better, -1);
    assert_int_equal(brs__an_metric_get(&m, "sharpe", &v, NULL), 0);
    assert_true(isnan(v)); /* two samples on different days: one daily return */
    assert_int_equal(brs__an_metric_get(&m, "nonsense", &v, NULL), BRS_E_NOTFOUND);

    /* mistakes are refused with a message, not recorded */
    brs_an_fill bad = {.ts = T0 + 7 * DAY, .instrument = 3, .side = BRS_BUY, .qty = 1, .price = 1};
    assert_int_equal(brs__an_fill(r, &bad), BRS_E_INVAL);
    assert_non_null(strstr(brs__an_last_error(r), "unknown instrument"));
    bad.instrument = 0;
    bad.qty = 0;
    assert_int_equal(brs__an_fill(r, &bad), BRS_E_INVAL);
    assert_int_equal(brs__an_order_done(r, T0, 12345, BRS_AN_CANCELLED, 0), BRS_E_INVAL);
    assert_int_equal(brs__an_order_new(r, &o), BRS_E_INVAL); /* id 99 again */
    brs__an_destroy(r);
}

/* The venue ABI adapter: integer ticks and fees scaled by price_scale 100.
 * Buy 3 @ 10050 ticks (100.50) fee 30 (0.30), then sell 3 @ 10100 (101.00) fee -6
 * (a 0.06 rebate): one long trade, gross 3 x 0.50 = 1.5, net 1.5 - 0.30 + 0.06 = 1.26. */
static void test_order_event_adapter(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_BOOK, 252, 0);
    brs_order so = {.id = 7, .ts = T0, .side = BRS_BUY, .type = BRS_LIMIT, .price = 10050,
                    .qty = 3};
    assert_int_equal(brs__an_order_submitted(r, &so), 0);
    brs_an_order o = {.id = 7, .ts = T0, .side = BRS_BUY, .price = 100.5, .qty = 3};
    brs_order_event ev = {.kind = BRS_OEV_FILL, .side = BRS_BUY, .liquidity = BRS_LIQ_TAKER,
                          .order_id = 7, .ts = T0 + 1, .price = 10050, .qty = 3, .fee = 30};
    assert_int_equal(brs__an_order_event(r, &ev), 0);
    o.id = 8;
    o.side = BRS_SELL;
    o.ts = T0 + 2;
    assert_int_equal(brs__an_order_new(r, &o), 0);
    brs_order_event ev2 = {.kind = BRS_OEV_FILL, .side = BRS_SELL, .liquidity = BRS_LIQ_MAKER,
                           .order_id = 8, .ts = T0 + 3, .price = 10100, .qty = 3, .fee = -6};
    assert_int_equal(brs__an_order_event(r, &ev2), 0);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_int_equal(m.n_trades, 1);
    near(m.expectancy, 1.26);
    near(m.fees_paid, 0.24);
    near(m.fill_ratio, 1.0);
    brs_order_event cancel = {.kind = BRS_OEV_CANCELLED, .order_id = 404, .ts = T0 + 4};
    assert_int_equal(brs__an_order_event(r, &cancel), BRS_E_INVAL);
    brs__an_destroy(r);
}

/* sample_every_ns keeps the first sample and the last sample of each bucket. */
static void test_sample_thinning(void **state)
{
    (void)state;
    brs_an_instrument inst = {.symbol = "X"};
    brs_an_options opt = {.sample_every_ns = HOUR};
    brs_an_recorder *r;
    brs_error err = {0};
    assert_int_equal(brs__an_create(&r, &opt, &inst, 1, &err), 0);
    for (int i = 0; i < 600; i++) /* every minute for 10 hours */
        assert_int_equal(brs__an_sample(r, T0 + i * (HOUR / 60), 100 + i, 0, NULL), 0);
    brs_an_metrics m;
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    /* the first sample (minute 0), then the last minute of each hour: 59, 119, ... 599 */
    assert_int_equal(m.n_samples, 11);
    near(m.start_equity, 100);
    near(m.end_equity, 699);
    brs__an_destroy(r);
}

/* Order ids: consecutive ids (no table), then ids out of sequence (hash table,
 * grown several times); every fill finds its order, duplicates are refused.
 * 3000 orders of qty 2, each filled once with qty 1 -> fill_ratio 3000/6000. */
static void test_order_ids(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_BOOK, 252, 0);
    for (uint64_t i = 0; i < 3000; i++) {
        uint64_t id = i < 1000 ? 5000 + i : (i * 7919) % 1000003 + 2000000;
        brs_an_order o = {.id = id, .ts = T0 + (int64_t)i, .side = BRS_BUY, .price = 1, .qty = 2};
        assert_int_equal(brs__an_order_new(r, &o), 0);
    }
    for (uint64_t i = 0; i < 3000; i++) {
        uint64_t id = i < 1000 ? 5000 + i : (i * 7919) % 1000003 + 2000000;
        brs_an_fill f = {.ts = T0 + 5000, .order_id = id, .side = i & 1, .qty = 1, .price = 1};
        assert_int_equal(brs__an_fill(r, &f), 0);
    }
    brs_an_order dup = {.id = 5000 + 999, .ts = T0 + 6000, .side = BRS_BUY, .qty = 1};
    assert_int_equal(brs__an_order_new(r, &dup), BRS_E_INVAL);
    dup.id = (2999 * 7919) % 1000003 + 2000000;
    assert_int_equal(brs__an_order_new(r, &dup), BRS_E_INVAL);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_int_equal(m.n_orders, 3000);
    near(m.fill_ratio, 0.5);
    brs__an_destroy(r);
}

/* Two instruments: A long 10 on days [1, 3), B short 4 on days [2, 5), samples on
 * days 0 and 10. Some position is open on days 1-5: exposure 4/10. Gross |pos|:
 * 10 on [1,2), 14 on [2,3), 4 on [3,5): max 14, mean (10 + 14 + 8) / 10 = 3.2.
 * B's multiplier 50: its short trade (sell 4 @ 20, buy 4 @ 19) makes
 * (20 - 19) x 4 x 50 = 200; A's (buy 10 @ 5, sell 10 @ 6) makes 10. */
static void test_two_instruments(void **state)
{
    (void)state;
    brs_an_instrument inst[2] = {{.symbol = "A"}, {.symbol = "B", .multiplier = 50}};
    brs_an_options opt = {.mode = BRS_AN_BOOK};
    brs_an_recorder *r;
    brs_error err = {0};
    assert_int_equal(brs__an_create(&r, &opt, inst, 2, &err), 0);
    double px[2] = {5, 20};
    assert_int_equal(brs__an_sample(r, T0, 1000, 1000, px), 0);
    brs_an_fill f[] = {
        {.ts = T0 + 1 * DAY, .order_id = 1, .instrument = 0, .side = BRS_BUY, .qty = 10, .price = 5},
        {.ts = T0 + 2 * DAY, .order_id = 2, .instrument = 1, .side = BRS_SELL, .qty = 4, .price = 20},
        {.ts = T0 + 3 * DAY, .order_id = 3, .instrument = 0, .side = BRS_SELL, .qty = 10, .price = 6},
        {.ts = T0 + 5 * DAY, .order_id = 4, .instrument = 1, .side = BRS_BUY, .qty = 4, .price = 19},
    };
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(brs__an_fill(r, &f[i]), 0);
    assert_int_equal(brs__an_sample(r, T0 + 10 * DAY, 1210, 1210, px), 0);
    brs_an_metrics m;
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    near(m.exposure, 0.4);
    near(m.inventory_max_abs, 14);
    near(m.inventory_mean_abs, 3.2);
    assert_int_equal(m.n_trades, 2);
    near(m.gross_profit, 210);
    near(m.largest_win, 200);
    /* notional: 50 + 60 + (80 + 76) x 50 */
    near(m.traded_notional, 50 + 60 + 156 * 50);
    brs__an_destroy(r);
}

/* Numbers in the files read back exactly, print the same every time, and stay short. */
static void test_number_format(void **state)
{
    (void)state;
    char b[64];
    const struct { double v; const char *want; } cases[] = {
        {0.1, "0.1"}, {100, "100"}, {-2.5, "-2.5"}, {103.455, "103.455"}, {0.0, "0"},
        {-0.0, "0"}, {401.23, "401.23"}, {1e-9, "1e-09"}, {0.1 + 0.2, "0.30000000000000004"},
        {0.01, "0.01"}, {123456789.125, "123456789.125"}, {1e300, "1e+300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        brs__an_fmt_double(b, sizeof b, cases[i].v, 1);
        if (strcmp(b, cases[i].want) != 0)
            fail_msg("%.17g printed as %s, want %s", cases[i].v, b, cases[i].want);
    }
    brs__an_fmt_double(b, sizeof b, NAN, 1);
    assert_string_equal(b, "null");
    brs__an_fmt_double(b, sizeof b, INFINITY, 0);
    assert_string_equal(b, "");
    uint64_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * UINT64_C(6364136223846793005) + 1442695040888963407u;
        double v;
        if (i % 2) {
            uint64_t bits = x;
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        } else { /* prices with a few decimals, the fast path */
            v = (double)(int64_t)(x >> 30) / 100.0 * ((x & 1) ? -1 : 1);
        }
        brs__an_fmt_double(b, sizeof b, v, 1);
        if (strtod(b, NULL) != v)
            fail_msg("%.17g printed as %s does not read back", v, b);
    }
}

static void oev(brs_an_recorder *r, int64_t ts, int kind, uint64_t id, int side, int64_t price,
                int64_t leaves)
{
    brs_order_event ev = {.kind = (uint8_t)kind, .ts = ts, .order_id = id, .side = (uint8_t)side,
                          .price = price, .leaves = leaves, .qty = 1};
    assert_int_equal(brs__an_order_event(r, &ev), 0);
}

/* Quoting figures, by hand (prices in cents, price_scale 100), run from T0 to
 * T0 + 10 h (samples):
 *   bid 99.00 rests 1 h .. 9 h; ask 101.00 rests 2 h .. 5 h, replaced to 100.50
 *   at 5 h, filled (leaves 0) at 7 h; a market order's ACCEPTED (at 100.00,
 *   which would have narrowed the spread) is no quote.
 *   Two-sided 2 h .. 7 h = 5 h of 10: quoted_two_sided 0.5.
 *   Spread 2 h .. 5 h: 2.00 on mid 100.00 = 200 bp; 5 h .. 7 h: 1.50 on mid 99.75
 *   = 150.3759... bp; time-weighted (3 x 200 + 2 x 15000/99.75) / 5. */
static void test_quoting(void **state)
{
    (void)state;
    brs_an_recorder *r = make(BRS_AN_BOOK, 252, 0);
    assert_int_equal(brs__an_sample(r, T0, 10000, 10000, NULL), 0);
    brs_an_order o1 = {.id = 1, .ts = T0 + HOUR, .side = BRS_BUY, .type = BRS_LIMIT, .price = 99, .qty = 5};
    brs_an_order o2 = {.id = 2, .ts = T0 + 2 * HOUR, .side = BRS_SELL, .type = BRS_LIMIT, .price = 101, .qty = 5};
    brs_an_order o3 = {.id = 3, .ts = T0 + 6 * HOUR, .side = BRS_SELL, .type = BRS_MARKET, .price = NAN, .qty = 1};
    assert_int_equal(brs__an_order_new(r, &o1), 0);
    assert_int_equal(brs__an_order_new(r, &o2), 0);
    assert_int_equal(brs__an_order_new(r, &o3), 0);
    oev(r, T0 + 1 * HOUR, BRS_OEV_ACCEPTED, 1, BRS_BUY, 9900, 5);
    oev(r, T0 + 2 * HOUR, BRS_OEV_ACCEPTED, 2, BRS_SELL, 10100, 5);
    oev(r, T0 + 3 * HOUR, BRS_OEV_FILL, 1, BRS_BUY, 9900, 4); /* partly filled: still rests */
    oev(r, T0 + 5 * HOUR, BRS_OEV_REPLACED, 2, BRS_SELL, 10050, 5);
    oev(r, T0 + 6 * HOUR, BRS_OEV_ACCEPTED, 3, BRS_SELL, 10000, 1); /* a market order: no quote */
    oev(r, T0 + 7 * HOUR, BRS_OEV_FILL, 2, BRS_SELL, 10050, 0);
    oev(r, T0 + 9 * HOUR, BRS_OEV_CANCELLED, 1, BRS_BUY, 9900, 0);
    assert_int_equal(brs__an_sample(r, T0 + 10 * HOUR, 10000, 10000, NULL), 0);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    near(m.quoted_two_sided, 0.5);
    near(m.quoted_spread_bps, (3 * 200.0 + 2 * (1.5 / 99.75 * 1e4)) / 5);
    brs__an_destroy(r);
    /* never two-sided: the share is 0 and the spread undefined */
    r = make(BRS_AN_BOOK, 252, 0);
    assert_int_equal(brs__an_sample(r, T0, 10000, 10000, NULL), 0);
    assert_int_equal(brs__an_order_new(r, &o1), 0);
    oev(r, T0 + HOUR, BRS_OEV_ACCEPTED, 1, BRS_BUY, 9900, 5);
    assert_int_equal(brs__an_sample(r, T0 + 2 * HOUR, 10000, 10000, NULL), 0);
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    near(m.quoted_two_sided, 0);
    assert_true(isnan(m.quoted_spread_bps));
    brs__an_destroy(r);
}

/* The recorder keeps the best resting bid and ask cached and rescans only when
 * the best may have left: random accepts, reprices (better and worse), partial
 * and full fills and cancels over 64 orders must give the same integrals as a
 * model that rescans everything at every step. */
static void test_quoting_random(void **state)
{
    (void)state;
    enum { NO = 64, STEPS = 4000 };
    brs_an_recorder *r = make(BRS_AN_BOOK, 252, 0);
    assert_int_equal(brs__an_sample(r, T0, 10000, 10000, NULL), 0);
    int64_t price[NO] = {0}; /* cents; 0: not resting */
    int side[NO];
    uint64_t x = 42;
    double two = 0, sbps = 0;
    int64_t t = T0;
    for (uint64_t i = 0; i < NO; i++) {
        side[i] = i % 2 ? BRS_SELL : BRS_BUY;
        brs_an_order o = {.id = i + 1, .ts = T0, .side = (uint8_t)side[i], .type = BRS_LIMIT,
                          .price = 100, .qty = 1000};
        assert_int_equal(brs__an_order_new(r, &o), 0);
    }
    for (int step = 0; step < STEPS; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t dt = 1 + (int64_t)(x % 1000);
        /* the model: the state held over [t, t + dt) */
        int64_t bid = 0, ask = 0;
        for (int i = 0; i < NO; i++)
            if (price[i] && side[i] == BRS_BUY && price[i] > bid)
                bid = price[i];
            else if (price[i] && side[i] == BRS_SELL && (!ask || price[i] < ask))
                ask = price[i];
        if (bid && ask && ask > bid) {
            two += (double)dt;
            sbps += (double)(ask - bid) / ((double)(ask + bid) / 2) * 1e4 * (double)dt;
        }
        t += dt;
        int i = (int)((x >> 20) % NO);
        int64_t p = side[i] == BRS_BUY ? 9000 + (int64_t)((x >> 30) % 1000) : 10000 + (int64_t)((x >> 30) % 1000);
        int what = (int)((x >> 40) % 5);
        if (!price[i]) { /* rests */
            oev(r, t, BRS_OEV_ACCEPTED, (uint64_t)i + 1, side[i], p, 5);
            price[i] = p;
        } else if (what == 0 || what == 1) { /* reprice */
            oev(r, t, BRS_OEV_REPLACED, (uint64_t)i + 1, side[i], p, 5);
            price[i] = p;
        } else if (what == 2) { /* partial fill: still rests */
            oev(r, t, BRS_OEV_FILL, (uint64_t)i + 1, side[i], price[i], 3);
        } else if (what == 3) { /* filled */
            oev(r, t, BRS_OEV_FILL, (uint64_t)i + 1, side[i], price[i], 0);
            price[i] = 0;
        } else { /* cancelled: the model forgets it, the recorder too */
            oev(r, t, BRS_OEV_CANCELLED, (uint64_t)i + 1, side[i], price[i], 0);
            price[i] = 0;
        }
    }
    assert_int_equal(brs__an_sample(r, t, 10000, 10000, NULL), 0);
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    /* the first order rests at T0 + dt0, the model counts from T0 as well */
    near(m.quoted_two_sided, two / (double)(t - T0));
    near(m.quoted_spread_bps, sbps / two);
    brs__an_destroy(r);
}

/* The headline computation a sweep uses (brs__an_compute_ex, headline) gives
 * the same doubles as the full one for every figure of the results table, on
 * two years of a random walk with round trips, and leaves the tear-sheet
 * figures (distribution, calendar, benchmark) undefined. */
static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void test_headline_same(void **state)
{
    (void)state;
    static const char *const table[] = {"total_return", "cagr", "ann_volatility", "sharpe",
                                        "sortino", "max_drawdown", "calmar", "win_rate",
                                        "profit_factor", "expectancy", "n_trades", "turnover",
                                        "exposure", "fees_paid", "end_equity", NULL};
    brs_an_recorder *r = make(BRS_AN_SIGNAL, 365, 0.01);
    uint64_t s = 7;
    double eq = 10000, px = 100;
    int64_t pos = 0;
    for (int d = 0; d < 730; d++) {
        s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        px *= 1 + ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.06;
        if (d % 17 == 5) {
            int side = pos ? BRS_SELL : BRS_BUY;
            fill(r, T0 + d * DAY + HOUR, (uint64_t)d + 1, side, 10, px, 0.5, BRS_LIQ_TAKER);
            pos = pos ? 0 : 10;
        }
        eq = 10000 + (double)pos * (px - 100);
        double q[1] = {(double)pos};
        assert_int_equal(brs__an_sample(r, T0 + d * DAY + 16 * HOUR, eq, eq - (double)pos * px, q), 0);
    }
    brs_an_metrics full, head;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &full, &err), 0);
    assert_int_equal(brs__an_compute_ex(r, &head, 1, &err), 0);
    for (int i = 0; table[i]; i++) {
        double a, b;
        assert_int_equal(brs__an_metric_get(&full, table[i], &a, NULL), 0);
        assert_int_equal(brs__an_metric_get(&head, table[i], &b, NULL), 0);
        if (!same_double(a, b))
            fail_msg("%s: full %.17g, headline %.17g", table[i], a, b);
    }
    assert_true(isfinite(full.sharpe) && isfinite(full.calmar) && full.n_trades > 10);
    assert_true(isfinite(full.skew) && isfinite(full.best_month) && isfinite(full.var_95));
    assert_true(isnan(head.skew) && isnan(head.best_month) && isnan(head.var_95) &&
                isnan(head.ulcer_index));
    brs__an_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily_series),
        cmocka_unit_test(test_cagr_two_years),
        cmocka_unit_test(test_intraday_resampling),
        cmocka_unit_test(test_drawdown_recovery),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_fifo_trades),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_quoting_random),
        cmocka_unit_test(test_order_event_adapter),
        cmocka_unit_test(test_sample_thinning),
        cmocka_unit_test(test_order_ids),
        cmocka_unit_test(test_number_format),
        cmocka_unit_test(test_two_instruments),
        cmocka_unit_test(test_headline_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
