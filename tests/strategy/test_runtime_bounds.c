/* test_runtime_bounds.c: the strategy runtime's bounds against a runaway
 * strategy (issue 16), for C and Lua strategies alike: callbacks per event and
 * per simulated instant, refusals delivered with the next event, orders per
 * run, order quantity/price bounds, log caps per callback and per run, timer
 * arithmetic at the end of time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strategy/runtime.h"

typedef struct bstrat {
    const brs_host *host;
    brs_ctx *ctx;
    int timers, orders, bars, rearm_timer, refuse_in_bar, log_in_bar;
    int error_on_bar, fail_on_bar; /* that bar (1-based) logs an error / returns one */
    brs_order_event last;
} bstrat;

static int b_open(void *self, const brs_host *h, brs_ctx *c, brs_error *e)
{
    (void)e;
    bstrat *b = self;
    b->host = h;
    b->ctx = c;
    return BRS_OK;
}
static void b_close(void *self) { (void)self; }
static int b_timer(void *self, uint64_t id, int64_t now)
{
    (void)id;
    bstrat *b = self;
    b->timers++;
    if (b->rearm_timer)
        b->host->xTimerSet(b->ctx, now + (b->rearm_timer > 1 ? 1 : 0), 0, NULL);
    return BRS_OK;
}
static int b_order(void *self, const brs_order_event *ev)
{
    bstrat *b = self;
    b->orders++;
    b->last = *ev;
    return BRS_OK;
}
static int b_bar(void *self, const brs_market_event *ev)
{
    (void)ev;
    bstrat *b = self;
    b->bars++;
    if (b->refuse_in_bar) {
        brs_order o = {.side = BRS_BUY, .type = BRS_LIMIT, .price = 0, .qty = 1};
        assert_int_equal(b->host->xSubmit(b->ctx, &o, NULL), BRS_E_INVAL);
        assert_int_equal(b->orders, 0); /* not re-entered from inside */
    }
    for (int i = 0; i < b->log_in_bar && b->bars != b->fail_on_bar; i++) /* fails in silence */
        b->host->xLog(b->ctx, BRS_LOG_INFO, "0123456789ABCDEF");
    if (b->bars == b->error_on_bar)
        b->host->xLog(b->ctx, BRS_LOG_ERROR, "an error it carries on from");
    return b->bars == b->fail_on_bar ? BRS_E_STATE : BRS_OK;
}

/* The same as a top callback (brs__sctx_call_top's inline path). */
static int b_top(void *self, const brs_top *top)
{
    (void)top;
    return b_bar(self, NULL);
}

static const brs_strategy_vtable bvt_top = {
    .size = sizeof(brs_strategy_vtable), .subscriptions = BRS_SUB_TOP, .xOpen = b_open,
    .xClose = b_close, .xOnTop = b_top, .xOnOrder = b_order, .xOnTimer = b_timer};

static const brs_strategy_vtable bvt = {
    .size = sizeof(brs_strategy_vtable), .subscriptions = BRS_SUB_BARS, .xOpen = b_open,
    .xClose = b_close, .xOnBar = b_bar, .xOnOrder = b_order, .xOnTimer = b_timer};

static const brs_instrument instr = {.symbol = "ABC", .price_scale = 100, .tick_size = 1, .lot_size = 1};

static void start(brs__sctx *sc, bstrat *b, brs__sctx_opts *o, brs__simfill *fm)
{
    brs_error err = {0};
    static brs__exec ex;
    brs__simfill_init(fm, 16);
    ex = brs__simfill_exec(fm);
    o->name = "b";
    o->instruments = &instr;
    o->n_instruments = 1;
    o->exec = &ex;
    assert_int_equal(brs__sctx_init(sc, &bvt, o, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(sc, b, &err), BRS_OK);
    assert_int_equal(brs__sctx_start(sc, &err), BRS_OK);
}

static brs_market_event bar_at(int64_t ts)
{
    brs_market_event e = {.kind = BRS_MEV_BAR, .ts_exchange = ts, .ts_local = ts};
    e.bar.open = e.bar.high = e.bar.low = e.bar.close = 1000;
    e.bar.volume = 1;
    return e;
}

static void test_chain_per_event(void **state)
{
    (void)state;
    brs__sctx sc;
    brs__simfill fm;
    bstrat b = {.rearm_timer = 1}; /* on_timer sets a timer for now: an endless chain */
    brs__sctx_opts o = {.quiet = 1, .max_callbacks_per_event = 50};
    start(&sc, &b, &o, &fm);
    b.host->xTimerSet(b.ctx, 10, 0, NULL);
    brs__sctx_advance(&sc, 100);
    assert_int_equal(b.timers, 50);
    assert_true(sc.failed);
    assert_non_null(strstr(sc.error, "strategy.max_callbacks_per_event"));
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

static void test_chain_per_instant(void **state)
{
    (void)state;
    brs__sctx sc;
    brs__simfill fm;
    bstrat b = {.rearm_timer = 1};
    brs__sctx_opts o = {.quiet = 1, .max_callbacks_per_event = 1000, .max_callbacks_per_instant = 30};
    start(&sc, &b, &o, &fm);
    b.host->xTimerSet(b.ctx, 10, 0, NULL);
    brs__sctx_advance(&sc, 100);
    assert_int_equal(b.timers, 30);
    assert_non_null(strstr(sc.error, "strategy.max_callbacks_per_instant"));
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
    /* a timer one nanosecond later each time: distinct instants, still one event */
    bstrat c = {.rearm_timer = 2};
    brs__sctx_opts o2 = {.quiet = 1, .max_callbacks_per_event = 100, .max_callbacks_per_instant = 30};
    start(&sc, &c, &o2, &fm);
    c.host->xTimerSet(c.ctx, 10, 0, NULL);
    brs__sctx_advance(&sc, 1000000);
    assert_int_equal(c.timers, 100);
    assert_non_null(strstr(sc.error, "strategy.max_callbacks_per_event"));
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

static void test_refusal_with_next_event(void **state)
{
    (void)state;
    brs__sctx sc;
    brs__simfill fm;
    bstrat b = {.refuse_in_bar = 1};
    brs__sctx_opts o = {.quiet = 1};
    start(&sc, &b, &o, &fm);
    brs_market_event e1 = bar_at(100), e2 = bar_at(200);
    brs__sctx_on_market(&sc, &e1);
    assert_int_equal(b.bars, 1);
    assert_int_equal(b.orders, 0); /* waits for the next event */
    b.refuse_in_bar = 0;
    brs__sctx_on_market(&sc, &e2);
    assert_int_equal(b.orders, 1);
    assert_int_equal(b.last.kind, BRS_OEV_REJECTED);
    assert_int_equal(b.last.reason, BRS_E_INVAL);
    assert_false(sc.failed);
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

static void test_order_bounds(void **state)
{
    (void)state;
    brs__sctx sc;
    brs__simfill fm;
    bstrat b = {0};
    brs__sctx_opts o = {.quiet = 1, .max_orders_per_run = 3};
    start(&sc, &b, &o, &fm);
    brs_market_event e1 = bar_at(100);
    brs__sctx_on_market(&sc, &e1);
    uint64_t id;
    brs_order big = {.side = BRS_BUY, .type = BRS_MARKET, .qty = INT64_C(1) << 62};
    assert_int_equal(b.host->xSubmit(b.ctx, &big, &id), BRS_E_RANGE);
    brs_order far = {.side = BRS_BUY, .type = BRS_LIMIT, .qty = 1, .price = BRS__SCTX_MAX_PRICE + 1};
    assert_int_equal(b.host->xSubmit(b.ctx, &far, &id), BRS_E_RANGE);
    /* the largest order fills exactly; one more lot past the position bound is refused */
    brs_order max = {.side = BRS_BUY, .type = BRS_MARKET, .qty = BRS__SCTX_MAX_QTY};
    assert_int_equal(b.host->xSubmit(b.ctx, &max, &id), BRS_OK);
    brs_order one = {.side = BRS_BUY, .type = BRS_MARKET, .qty = 1};
    assert_int_equal(b.host->xSubmit(b.ctx, &one, &id), BRS_E_RANGE);
    brs_position p;
    b.host->xPosition(b.ctx, 0, &p);
    assert_int_equal(p.qty, BRS__SCTX_MAX_QTY);
    assert_int_equal(p.avg_price_x1e6, INT64_C(1000) * 1000000);
    /* orders per run (counted once past the basic checks: max, one, then
     * this sell): the 4th fails the strategy */
    brs_order sell = {.side = BRS_SELL, .type = BRS_MARKET, .qty = 1};
    assert_int_equal(b.host->xSubmit(b.ctx, &sell, &id), BRS_OK);
    assert_false(sc.failed);
    assert_int_equal(b.host->xSubmit(b.ctx, &sell, &id), BRS_E_LIMIT);
    assert_true(sc.failed);
    assert_non_null(strstr(sc.error, "strategy.max_orders_per_run"));
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

static void test_log_caps(void **state)
{
    (void)state;
    brs__sctx sc;
    brs__simfill fm;
    FILE *log = tmpfile();
    assert_non_null(log);
    bstrat b = {.log_in_bar = 3}; /* 48 bytes per bar */
    brs__sctx_opts o = {.log = log, .max_log_bytes_per_callback = 20, .max_log_bytes = 50};
    start(&sc, &b, &o, &fm);
    for (int i = 0; i < 5; i++) {
        brs_market_event e = bar_at(100 * (i + 1));
        brs__sctx_on_market(&sc, &e);
    }
    assert_false(sc.failed);
    fflush(log);
    rewind(log);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, log);
    buf[n] = 0;
    fclose(log);
    /* per callback: 16 + 4 bytes, then cut; per run: 50 bytes in all */
    const char *cb = strstr(buf, "(strategy.max_log_bytes_per_callback)");
    const char *run = strstr(buf, "(strategy.max_log_bytes)");
    assert_non_null(cb);
    assert_non_null(run);
    assert_null(strstr(cb + 1, "(strategy.max_log_bytes_per_callback)"));
    assert_null(strstr(run + 1, "(strategy.max_log_bytes)"));
    assert_non_null(strstr(buf, "[b] info: 0123456789ABCDEF\n[b] info: 0123\n"));
    size_t text = 0;
    for (const char *p = buf; (p = strstr(p, "] info: ")); p += 8)
        text += strcspn(p + 8, "\n");
    assert_int_equal(text, 50);
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

static size_t read_log(FILE *log, char *buf, size_t cap)
{
    fflush(log);
    rewind(log);
    size_t n = fread(buf, 1, cap - 1, log);
    buf[n] = 0;
    fclose(log);
    return n;
}

/* The per-callback log state, cleared by a callback's first log line or its
 * guard rather than on every call (brs__sctx_log_fresh): every callback gets
 * its own 20 bytes, and an error line logged by one callback is not quoted
 * as the reason a later one failed. */
static void log_state_per_callback(int inline_path)
{
    brs__sctx sc;
    brs__simfill fm;
    FILE *log = tmpfile();
    assert_non_null(log);
    bstrat b = {.log_in_bar = 3, .error_on_bar = 4, .fail_on_bar = 5}; /* 48 bytes per bar */
    brs__sctx_opts o = {.log = log, .max_log_bytes_per_callback = 20, .max_log_bytes = 1000};
    int top = inline_path == 2; /* brs__sctx_call_top: no backend, whose market pass it skips */
    if (top) {
        brs_error err = {0};
        brs__simfill_init(&fm, 16);
        o.name = "b";
        o.instruments = &instr;
        o.n_instruments = 1;
        assert_int_equal(brs__sctx_init(&sc, &bvt_top, &o, &err), BRS_OK);
        assert_int_equal(brs__sctx_open(&sc, &b, &err), BRS_OK);
        assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);
    } else {
        start(&sc, &b, &o, &fm);
    }
    int rc = BRS_OK;
    for (int i = 0; i < 5; i++) {
        brs_market_event e = bar_at(100 * (i + 1));
        brs_top t = {.bid_price = 990 - i, .bid_qty = 1, .ask_price = 1010, .ask_qty = 1};
        rc = top ? brs__sctx_call_top(&sc, 0, e.ts_exchange, e.ts_local, 0, &t)
             : inline_path ? brs__sctx_call_bar(&sc, &e) : brs__sctx_on_market(&sc, &e);
        if (i < 4)
            assert_int_equal(rc, BRS_OK);
    }
    assert_int_equal(rc, BRS_E_STATE);
    assert_int_equal(b.bars, 5);
    assert_int_equal(sc.failed, BRS_E_STATE);
    assert_non_null(strstr(sc.error, top ? "xOnTop returned" : "xOnBar returned"));
    assert_null(strstr(sc.error, "carries on"));
    char buf[4096];
    read_log(log, buf, sizeof buf);
    size_t text = 0;
    for (const char *p = buf; (p = strstr(p, "] info: ")); p += 8)
        text += strcspn(p + 8, "\n");
    assert_int_equal(text, 4 * 20); /* 16 + 4 in each of the 4 callbacks that log */
    const char *cb = strstr(buf, "(strategy.max_log_bytes_per_callback)");
    assert_non_null(cb);
    assert_null(strstr(cb + 1, "(strategy.max_log_bytes_per_callback)"));
    assert_non_null(strstr(buf, "[b] error: an error it carries on from\n")); /* printed once it returned */
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

static void test_log_state_per_inline_callback(void **state)
{
    (void)state;
    log_state_per_callback(1);
}

/* The same through brs__sctx_call_top's inline path. */
static void test_log_state_per_inline_top(void **state)
{
    (void)state;
    log_state_per_callback(2);
}

/* The same through brs__sctx_on_market, whose callbacks enter through
 * brs__sctx_enter. */
static void test_log_state_per_callback(void **state)
{
    (void)state;
    log_state_per_callback(0);
}

static void test_timer_end_of_time(void **state)
{
    (void)state;
    brs__sctx sc;
    brs__simfill fm;
    bstrat b = {0};
    brs__sctx_opts o = {.quiet = 1};
    start(&sc, &b, &o, &fm);
    b.host->xTimerSet(b.ctx, INT64_MAX - 5, 10, NULL); /* its next firing would pass INT64_MAX */
    brs__sctx_advance(&sc, INT64_MAX - 1);
    assert_int_equal(b.timers, 1);
    assert_int_equal(brs__sctx_next_timer(&sc), INT64_MAX); /* none left */
    brs__sctx_advance(&sc, INT64_MAX);
    assert_int_equal(b.timers, 1);
    brs__sctx_free(&sc);
    brs__simfill_free(&fm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_per_event),   cmocka_unit_test(test_chain_per_instant),
        cmocka_unit_test(test_refusal_with_next_event), cmocka_unit_test(test_order_bounds),
        cmocka_unit_test(test_log_caps),          cmocka_unit_test(test_timer_end_of_time),
        cmocka_unit_test(test_log_state_per_inline_callback),
        cmocka_unit_test(test_log_state_per_inline_top),
        cmocka_unit_test(test_log_state_per_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
