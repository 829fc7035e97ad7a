/* test_runtime.c: the strategy context: typed parameters with errors naming
 * the parameter, integer position and PnL accounting, host-assigned order ids,
 * the simple fill model, timers, a failing strategy being stopped cleanly,
 * and the metrics meter's counts (callbacks run, one in `every` timed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ops/metrics.h"
#include "strategy/runtime.h"

/* ---- a small test strategy ------------------------------------------- */

typedef struct tstrat {
    const brs_host *host;
    brs_ctx *ctx;
    int bars, orders, timers, fail_on_bar;
    int64_t timer_at[16];
    uint64_t resting_id;
    brs_order_event last;
} tstrat;

static const brs_param_def tparams[] = {
    {.name = "fast", .type = BRS_PARAM_INT, .def = 10, .min = 1, .max = 100},
    {.name = "ratio", .type = BRS_PARAM_DOUBLE, .def = 0.5, .min = 0, .max = 1},
    {.name = "short", .type = BRS_PARAM_BOOL, .def = 0, .min = 1, .max = 0},
    {.name = "tag", .type = BRS_PARAM_STRING, .def_string = "x", .min = 1, .max = 0},
};

static int t_open(void *self, const brs_host *h, brs_ctx *c, brs_error *e)
{
    (void)e;
    tstrat *t = self;
    t->host = h;
    t->ctx = c;
    return BRS_OK;
}
static void t_close(void *self) { (void)self; }
static int t_bar(void *self, const brs_market_event *ev)
{
    tstrat *t = self;
    t->bars++;
    if (t->fail_on_bar && t->bars == t->fail_on_bar) {
        /* leave a resting order behind, then fail: the runtime must cancel it */
        brs_order o = {.instrument = ev->instrument, .side = BRS_BUY, .type = BRS_LIMIT,
                       .price = ev->bar.low - 100, .qty = 3};
        assert_int_equal(t->host->xSubmit(t->ctx, &o, &t->resting_id), BRS_OK);
        t->host->xLog(t->ctx, BRS_LOG_ERROR, "test strategy gives up");
        return BRS_E_STATE;
    }
    return BRS_OK;
}
static int t_order(void *self, const brs_order_event *ev)
{
    tstrat *t = self;
    t->orders++;
    t->last = *ev;
    return BRS_OK;
}
static int t_timer(void *self, uint64_t id, int64_t now)
{
    (void)id;
    tstrat *t = self;
    if (t->timers < 16)
        t->timer_at[t->timers] = now;
    t->timers++;
    return BRS_OK;
}

static const brs_strategy_vtable tvt = {
    .size = sizeof(brs_strategy_vtable), .subscriptions = BRS_SUB_BARS, .params = tparams,
    .n_params = 4, .xOpen = t_open, .xClose = t_close, .xOnBar = t_bar, .xOnOrder = t_order,
    .xOnTimer = t_timer};

static const brs_instrument instr = {.symbol = "ABC", .price_scale = 100, .tick_size = 1, .lot_size = 1};

static int init_with(brs__sctx *sc, const char *json, brs_error *err)
{
    cJSON *p = json ? cJSON_Parse(json) : NULL;
    brs__sctx_opts o = {.name = "t", .instruments = &instr, .n_instruments = 1, .params = p,
                        .params_where = "strategy.params", .quiet = 1};
    int rc = brs__sctx_init(sc, &tvt, &o, err);
    cJSON_Delete(p);
    return rc;
}

static void test_params(void **state)
{
    (void)state;
    brs__sctx sc;
    brs_error err = {0};
    assert_int_equal(init_with(&sc, "{\"fats\": 3}", &err), BRS_E_INVAL);
    assert_non_null(strstr(err.msg, "strategy.params.fats: unknown parameter"));
    assert_non_null(strstr(err.msg, "fast"));
    brs__sctx_free(&sc);
    assert_int_equal(init_with(&sc, "{\"fast\": 2.5}", &err), BRS_E_INVAL);
    assert_non_null(strstr(err.msg, "strategy.params.fast: expected an integer"));
    brs__sctx_free(&sc);
    assert_int_equal(init_with(&sc, "{\"fast\": 500}", &err), BRS_E_RANGE);
    assert_non_null(strstr(err.msg, "strategy.params.fast"));
    assert_non_null(strstr(err.msg, "out of bounds"));
    brs__sctx_free(&sc);
    assert_int_equal(init_with(&sc, "{\"short\": 1}", &err), BRS_E_INVAL);
    assert_non_null(strstr(err.msg, "short: expected true or false"));
    brs__sctx_free(&sc);
    assert_int_equal(init_with(&sc, "{\"tag\": 5}", &err), BRS_E_INVAL);
    brs__sctx_free(&sc);

    assert_int_equal(init_with(&sc, "{\"fast\": 20, \"short\": true}", &err), BRS_OK);
    const brs_host *h = brs__sctx_host(&sc);
    brs_ctx *c = brs__sctx_ctx(&sc);
    int64_t i;
    double d;
    const char *s;
    assert_int_equal(h->xParamInt(c, "fast", &i), BRS_OK);
    assert_int_equal(i, 20);
    assert_int_equal(h->xParamInt(c, "short", &i), BRS_OK);
    assert_int_equal(i, 1);
    assert_int_equal(h->xParamDouble(c, "ratio", &d), BRS_OK); /* the declared default */
    assert_true(d == 0.5);
    assert_int_equal(h->xParamString(c, "tag", &s), BRS_OK);
    assert_string_equal(s, "x");
    assert_int_equal(h->xParamInt(c, "ratio", &i), BRS_E_INVAL);
    assert_int_equal(h->xParamInt(c, "nope", &i), BRS_E_NOTFOUND);
    brs__sctx_free(&sc);
}

static void fill(brs__sctx *sc, uint8_t side, int64_t qty, int64_t price)
{
    brs_order_event ev = {.kind = BRS_OEV_FILL, .side = side, .instrument = 0, .order_id = 999,
                          .price = price, .qty = qty};
    assert_int_equal(brs__sctx_order_event(sc, &ev), BRS_OK);
}

static void test_positions(void **state)
{
    (void)state;
    brs__sctx sc;
    brs_error err = {0};
    assert_int_equal(init_with(&sc, NULL, &err), BRS_OK);
    brs_position p;
    fill(&sc, BRS_BUY, 10, 100);
    fill(&sc, BRS_BUY, 10, 110);
    brs__sctx_position(&sc, 0, &p);
    assert_int_equal(p.qty, 20);
    assert_int_equal(p.avg_price_x1e6, 105000000); /* (1000 + 1100) / 20 */
    fill(&sc, BRS_SELL, 15, 120);
    brs__sctx_position(&sc, 0, &p);
    /* closes 15 of cost 2100 * 15/20 = 1575 for 1800: +225 */
    assert_int_equal(p.realized_pnl, 225);
    assert_int_equal(p.qty, 5);
    assert_int_equal(p.avg_price_x1e6, 105000000);
    fill(&sc, BRS_SELL, 10, 100); /* closes 5 (cost 525) for 500: -25; opens 5 short at 100 */
    brs__sctx_position(&sc, 0, &p);
    assert_int_equal(p.realized_pnl, 200);
    assert_int_equal(p.qty, -5);
    assert_int_equal(p.avg_price_x1e6, 100000000);
    /* marked at the mid (bid 94, ask 96 -> 95): short 5 from 100 is +25 */
    brs_market_event q = {.ts_exchange = 1, .kind = BRS_MEV_QUOTE};
    q.quote.bid_price = 94;
    q.quote.ask_price = 96;
    q.quote.bid_qty = q.quote.ask_qty = 1;
    brs__sctx_on_market(&sc, &q);
    brs__sctx_position(&sc, 0, &p);
    assert_int_equal(p.unrealized_pnl, 25);
    fill(&sc, BRS_BUY, 5, 90); /* covers the short: +50 */
    brs__sctx_position(&sc, 0, &p);
    /* bought 1000+1100+450 = 2550, sold 1800+1000 = 2800: 250 in all */
    assert_int_equal(p.realized_pnl, 250);
    assert_int_equal(p.qty, 0);
    assert_int_equal(p.unrealized_pnl, 0);
    brs__sctx_free(&sc);
}

static brs_market_event bar(int64_t ts, int64_t o, int64_t h, int64_t l, int64_t c)
{
    brs_market_event e = {.ts_exchange = ts, .ts_local = ts, .kind = BRS_MEV_BAR};
    e.bar.open = o;
    e.bar.high = h;
    e.bar.low = l;
    e.bar.close = c;
    e.bar.volume = 1;
    return e;
}

static void test_orders_and_fill_model(void **state)
{
    (void)state;
    brs__simfill fm;
    brs__simfill_init(&fm, 16);
    brs__exec ex = brs__simfill_exec(&fm);
    brs__sctx_opts o = {.name = "t", .instruments = &instr, .n_instruments = 1, .exec = &ex,
                        .first_order_id = 500, .quiet = 1};
    brs__sctx sc;
    brs_error err = {0};
    tstrat t = {0};
    assert_int_equal(brs__sctx_init(&sc, &tvt, &o, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(&sc, &t, &err), BRS_OK);
    assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);
    brs_market_event b1 = bar(100, 1000, 1010, 990, 1005);
    assert_int_equal(brs__sctx_on_market(&sc, &b1), BRS_OK);
    assert_int_equal(t.bars, 1);
    const brs_host *h = brs__sctx_host(&sc);
    brs_ctx *c = brs__sctx_ctx(&sc);
    /* outside a callback events are delivered at once */
    uint64_t id1, id2, id3;
    brs_order mkt = {.side = BRS_BUY, .type = BRS_MARKET, .qty = 2};
    assert_int_equal(h->xSubmit(c, &mkt, &id1), BRS_OK);
    assert_int_equal(id1, 500);
    assert_int_equal(t.last.kind, BRS_OEV_FILL);
    assert_int_equal(t.last.price, 1005); /* the last close: no quote seen yet */
    brs_order lim = {.side = BRS_BUY, .type = BRS_LIMIT, .price = 980, .qty = 4};
    assert_int_equal(h->xSubmit(c, &lim, &id2), BRS_OK);
    assert_int_equal(id2, 501);
    assert_int_equal(t.last.kind, BRS_OEV_ACCEPTED);
    brs_order_info oi[4];
    uint32_t n = 0;
    assert_int_equal(h->xOpenOrders(c, BRS_ALL_INSTRUMENTS, oi, 4, &n), BRS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(oi[0].id, 501);
    /* a bar that does not trade through 980 leaves it resting, one that does fills it */
    brs_market_event b2 = bar(200, 1005, 1006, 980, 990);
    brs__sctx_on_market(&sc, &b2);
    assert_int_equal(fm.n, 1);
    brs_market_event b3 = bar(300, 990, 991, 975, 985);
    brs__sctx_on_market(&sc, &b3);
    assert_int_equal(fm.n, 0);
    assert_int_equal(t.last.kind, BRS_OEV_FILL);
    assert_int_equal(t.last.price, 980);
    assert_int_equal(t.last.order_id, 501);
    brs_position p;
    h->xPosition(c, 0, &p);
    assert_int_equal(p.qty, 6);
    /* bad orders are refused with a code and a REJECTED event */
    brs_order bad = {.side = BRS_SELL, .type = BRS_LIMIT, .price = 0, .qty = 1};
    assert_int_equal(h->xSubmit(c, &bad, &id3), BRS_E_INVAL);
    assert_int_equal(t.last.kind, BRS_OEV_REJECTED);
    assert_int_equal(t.last.order_id, id3);
    /* cancel and replace */
    brs_order lim2 = {.side = BRS_SELL, .type = BRS_LIMIT, .price = 2000, .qty = 1};
    assert_int_equal(h->xSubmit(c, &lim2, &id3), BRS_OK);
    assert_int_equal(h->xReplace(c, id3, 2100, 2), BRS_OK);
    assert_int_equal(t.last.kind, BRS_OEV_REPLACED);
    assert_int_equal(h->xCancel(c, id3), BRS_OK);
    assert_int_equal(t.last.kind, BRS_OEV_CANCELLED);
    assert_int_equal(h->xCancel(c, id3), BRS_E_UNKNOWNORDER);
    h->xOpenOrders(c, BRS_ALL_INSTRUMENTS, oi, 4, &n);
    assert_int_equal(n, 0);
    assert_int_equal(brs__sctx_stop(&sc, &err), BRS_OK);
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

static void test_timers(void **state)
{
    (void)state;
    brs__sctx sc;
    brs_error err = {0};
    tstrat t = {0};
    assert_int_equal(init_with(&sc, NULL, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(&sc, &t, &err), BRS_OK);
    assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);
    const brs_host *h = brs__sctx_host(&sc);
    uint64_t a, b;
    assert_int_equal(h->xTimerSet(brs__sctx_ctx(&sc), 100, 50, &a), BRS_OK);
    assert_int_equal(h->xTimerSet(brs__sctx_ctx(&sc), 120, 0, &b), BRS_OK);
    assert_int_equal(brs__sctx_next_timer(&sc), 100);
    brs__sctx_advance(&sc, 260);
    /* 100, 120 (one-shot), 150, 200, 250 */
    assert_int_equal(t.timers, 5);
    assert_int_equal(t.timer_at[0], 100);
    assert_int_equal(t.timer_at[1], 120);
    assert_int_equal(t.timer_at[4], 250);
    assert_int_equal(h->xNow(brs__sctx_ctx(&sc)), 260);
    assert_int_equal(h->xTimerCancel(brs__sctx_ctx(&sc), a), BRS_OK);
    brs__sctx_advance(&sc, 1000);
    assert_int_equal(t.timers, 5);
    /* A 1 ms timer set while the clock is still near 0 (in on_start, before the
     * first event), then the first event in 2024: it must not fire 54 years of
     * milliseconds. 1000 missed intervals or fewer are delivered one by one;
     * beyond that it fires once at its latest due time and carries on. */
    const int64_t ms = 1000000, y2024 = INT64_C(1704067200000000000);
    uint64_t c;
    assert_int_equal(h->xTimerSet(brs__sctx_ctx(&sc), 2000, ms, &c), BRS_OK);
    brs__sctx_advance(&sc, y2024);
    assert_int_equal(t.timers, 6);
    int64_t last = (y2024 - 2000) / ms * ms + 2000; /* latest due time <= now */
    assert_int_equal(t.timer_at[5], last);
    brs__sctx_advance(&sc, y2024 + 3 * ms); /* back on schedule: each interval fires */
    assert_int_equal(t.timers, 9);
    assert_int_equal(t.timer_at[8], last + 3 * ms);
    brs__sctx_free(&sc);
}

static void test_failure_stops_cleanly(void **state)
{
    (void)state;
    brs__simfill fm;
    brs__simfill_init(&fm, 16);
    brs__exec ex = brs__simfill_exec(&fm);
    brs__sctx_opts o = {.name = "quitter", .instruments = &instr, .n_instruments = 1, .exec = &ex,
                        .quiet = 1};
    brs__sctx sc;
    brs_error err = {0};
    tstrat t = {.fail_on_bar = 2};
    assert_int_equal(brs__sctx_init(&sc, &tvt, &o, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(&sc, &t, &err), BRS_OK);
    assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);
    brs_market_event b = bar(100, 1000, 1010, 990, 1005);
    assert_int_equal(brs__sctx_on_market(&sc, &b), BRS_OK);
    assert_int_equal(brs__sctx_on_market(&sc, &b), BRS_E_STATE);
    assert_int_equal(sc.failed, BRS_E_STATE);
    assert_non_null(strstr(sc.error, "quitter"));
    assert_non_null(strstr(sc.error, "xOnBar"));
    assert_non_null(strstr(sc.error, "test strategy gives up"));
    /* its resting order was cancelled at the fill model and in its book */
    assert_int_equal(fm.n, 0);
    assert_int_equal(sc.n_orders, 0);
    /* and it is never called again */
    assert_int_equal(brs__sctx_on_market(&sc, &b), BRS_E_STATE);
    assert_int_equal(t.bars, 2);
    assert_int_not_equal(brs__sctx_stop(&sc, &err), BRS_OK);
    assert_non_null(strstr(err.msg, "quitter"));
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

/* The same failure through brs__sctx_call_bar, whose common case is inline:
 * a callback that fails (with an order left open and an error logged) takes
 * the out-of-line guard, which fails the strategy, cancels the order and
 * never calls it again. */
static void test_call_bar_failure(void **state)
{
    (void)state;
    brs__simfill fm;
    brs__simfill_init(&fm, 16);
    brs__exec ex = brs__simfill_exec(&fm);
    brs__sctx_opts o = {.name = "quitter", .instruments = &instr, .n_instruments = 1, .exec = &ex,
                        .quiet = 1};
    brs__sctx sc;
    brs_error err = {0};
    tstrat t = {.fail_on_bar = 3};
    assert_int_equal(brs__sctx_init(&sc, &tvt, &o, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(&sc, &t, &err), BRS_OK);
    assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);
    brs_market_event b = bar(100, 1000, 1010, 990, 1005);
    assert_int_equal(brs__sctx_call_bar(&sc, &b), BRS_OK);
    assert_int_equal(brs__sctx_call_bar(&sc, &b), BRS_OK);
    assert_int_equal(brs__sctx_call_bar(&sc, &b), BRS_E_STATE);
    assert_int_equal(sc.failed, BRS_E_STATE);
    assert_non_null(strstr(sc.error, "xOnBar"));
    assert_non_null(strstr(sc.error, "test strategy gives up"));
    assert_int_equal(fm.n, 0);
    assert_int_equal(sc.n_orders, 0);
    assert_int_equal(sc.in_callback, 0);
    assert_int_equal(brs__sctx_call_bar(&sc, &b), BRS_E_STATE);
    assert_int_equal(t.bars, 3);
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

/* Metrics count no callback one by one: the count comes from the countdown
 * to the next timed callback. It must still be exact: every callback entered
 * (xOpen, bars) is counted, one in `every` is timed and published, and
 * detaching the meter stops both. */
static void count_tick(void *ud, int64_t now)
{
    (void)now;
    (*(int *)ud)++;
}

static void test_meter_counts(void **state)
{
    (void)state;
    brs__sctx sc;
    brs_error err = {0};
    tstrat t = {0};
    brs__histogram h;
    memset(&h, 0, sizeof h); /* no finite bound: every observation in the +Inf bucket */
    int ticks = 0;
    brs__sctx_meter m = {.every = 4, .h_cb = &h, .tick = count_tick, .ud = &ticks};
    assert_int_equal(init_with(&sc, NULL, &err), BRS_OK);
    assert_int_equal(brs__sctx_meter_callbacks(&sc), 0);
    brs__sctx_set_meter(&sc, &m);
    assert_int_equal(brs__sctx_open(&sc, &t, &err), BRS_OK); /* xOpen: callback 1 */
    assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);    /* no xStart */
    assert_int_equal(brs__sctx_meter_callbacks(&sc), 1);
    for (int i = 0; i < 10; i++) {
        brs_market_event b = bar(100 + i, 1000, 1010, 990, 1005);
        assert_int_equal(brs__sctx_call_bar(&sc, &b), BRS_OK);
        assert_int_equal(brs__sctx_meter_callbacks(&sc), (uint64_t)i + 2);
    }
    /* 11 callbacks: the 4th and the 8th were timed */
    assert_int_equal(h.bucket[0], 2);
    assert_int_equal(ticks, 2);
    assert_int_equal(m.done, 8);
    /* every = 1 (bourse live): each callback timed, the count equal to it */
    brs__sctx_meter one = {.every = 1, .h_cb = &h, .tick = count_tick, .ud = &ticks};
    brs__sctx_set_meter(&sc, &one);
    for (int i = 0; i < 3; i++) {
        brs_market_event b = bar(200 + i, 1000, 1010, 990, 1005);
        assert_int_equal(brs__sctx_call_bar(&sc, &b), BRS_OK);
    }
    assert_int_equal(brs__sctx_meter_callbacks(&sc), 3);
    assert_int_equal(h.bucket[0], 5);
    assert_int_equal(ticks, 5);
    /* off: nothing timed, nothing published */
    brs__sctx_set_meter(&sc, NULL);
    for (int i = 0; i < 20; i++) {
        brs_market_event b = bar(300 + i, 1000, 1010, 990, 1005);
        assert_int_equal(brs__sctx_call_bar(&sc, &b), BRS_OK);
    }
    assert_int_equal(brs__sctx_meter_callbacks(&sc), 0);
    assert_int_equal(h.bucket[0], 5);
    assert_int_equal(ticks, 5);
    assert_int_equal(t.bars, 33);
    brs__sctx_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_call_bar_failure),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_orders_and_fill_model),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_failure_stops_cleanly),
        cmocka_unit_test(test_meter_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
