/* test_live_rt.c: `bourse live` as a configuration of the runtime
 * (host/record/live_rt.c: the "paper" object into the runtime's one venue, the
 * real sim plugin; the strategy hosted by host/runtime/rt_strategy.c, as in
 * serve and book mode), on a hand-made L2 book: a taker walks the depth; with
 * latencies, an order reaches the venue order_entry_ns later and its reports
 * come back response_ns after that; a cancel sent right after a slower new
 * order does not overtake it (one connection delivers in order), so the order
 * is accepted and then cancelled, never left resting; at the stop, what is on
 * its way is carried out. The strategy's depth is the whole L2 book after each
 * update; paper.fill "touch" is the touch venue (whole fills at the touch, a
 * resting order filled by a quote through it); bad paper keys are named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record/live_rt.h"
#include "runtime/rt_strategy.h"
#include "strategy/runtime.h"

typedef struct tstrat {
    const brs_host *host;
    brs_ctx *ctx;
    brs_order_event ev[32];
    int n, depth_calls;
} tstrat;

static int t_open(void *self, const brs_host *h, brs_ctx *c, brs_error *e)
{
    (void)e;
    tstrat *t = self;
    t->host = h;
    t->ctx = c;
    return BRS_OK;
}
static void t_close(void *self) { (void)self; }
static int t_order(void *self, const brs_order_event *ev)
{
    tstrat *t = self;
    if (t->n < 32)
        t->ev[t->n++] = *ev;
    return BRS_OK;
}
static int t_depth(void *self, uint32_t instrument)
{
    (void)instrument;
    ((tstrat *)self)->depth_calls++;
    return BRS_OK;
}

static const brs_strategy_vtable tvt = {.size = sizeof(brs_strategy_vtable), .xOpen = t_open,
                                        .xClose = t_close, .xOnOrder = t_order, .xOnDepth = t_depth};
static const brs_instrument instr = {.symbol = "X", .price_scale = 100, .tick_size = 1, .lot_size = 1};

typedef struct fx {
    brs_config cfg;
    brs__live_rt lr;
    brs__rt_strats *set;
    brs__rt_strat *st;
    brs__sctx sc;
    tstrat t;
} fx;

/* A live config's "paper" object as text; quiet venue. */
static fx *setup_paper(const char *paper)
{
    setenv("BOURSE_PLUGIN_PATH", BOURSE_PLUGIN_BUILD_DIR, 1);
    fx *f = calloc(1, sizeof *f);
    brs_error err = {0};
    char text[512];
    snprintf(text, sizeof text, "{\"paper\": %s}", paper);
    assert_int_equal(brs__config_parse(&f->cfg, text, "live.json", &err), BRS_OK);
    if (brs__live_rt_open(&f->lr, &f->cfg, cJSON_GetObjectItemCaseSensitive(f->cfg.root, "paper"), &instr, 1,
                          1, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(brs__rt_strats_create(&f->set, f->lr.rt, &err), BRS_OK);
    assert_int_equal(brs__rt_strats_l2_depth(f->set, &err), BRS_OK);
    assert_int_equal(brs__rt_strats_add(f->set, brs__rt_default_route(f->lr.rt), 1e5, 0, &f->st, &err), BRS_OK);
    brs__exec ex = brs__rt_strat_exec(f->st);
    brs__sctx_opts o = {.name = "t", .instruments = &instr, .n_instruments = 1, .exec = &ex, .quiet = 1};
    assert_int_equal(brs__sctx_init(&f->sc, &tvt, &o, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(&f->sc, &f->t, &err), BRS_OK);
    brs__rt_strat_attach(f->st, &f->sc, NULL);
    brs__rt_advance(f->lr.rt, 1000);
    brs__sctx_advance(&f->sc, 1000);
    assert_int_equal(brs__sctx_start(&f->sc, &err), BRS_OK);
    return f;
}

static fx *setup(int64_t order_ns, int64_t cancel_ns, int64_t response_ns)
{
    char paper[256];
    snprintf(paper, sizeof paper,
             "{\"latency\": {\"order_entry_ns\": %lld, \"cancel_ns\": %lld, \"response_ns\": %lld}}",
             (long long)order_ns, (long long)cancel_ns, (long long)response_ns);
    return setup_paper(paper);
}

static void teardown(fx *f)
{
    brs__rt_strat_attach(f->st, NULL, NULL);
    brs__sctx_free(&f->sc);
    brs__rt_strats_destroy(f->set);
    brs__live_rt_close(&f->lr);
    brs__config_free(&f->cfg);
    free(f);
}

static int64_t now_of(fx *f) { return brs__rt_now(f->lr.rt); }

/* One level of the live feed, the last of its message (LAST), at the clock's time. */
static void level(fx *f, uint8_t side, int64_t price, int64_t qty)
{
    brs_market_event ev = {.kind = BRS_MEV_LEVEL_SET, .side = side, .price = price, .qty = qty,
                           .ts_exchange = now_of(f), .ts_local = now_of(f), .flags = BRS_MEVF_LAST};
    brs__live_rt_market(&f->lr, &ev, now_of(f));
}

/* The real clock reaches now: what is due is carried out, timers fire. */
static void at(fx *f, int64_t now)
{
    brs__rt_advance(f->lr.rt, now);
    brs__rt_strats_advance(f->set, now);
}

static uint64_t send(fx *f, uint8_t side, uint8_t type, int64_t price, int64_t qty)
{
    brs_order o = {.side = side, .type = type, .price = price, .qty = qty, .tif = BRS_GTC};
    uint64_t id = 0;
    assert_int_equal(f->t.host->xSubmit(f->t.ctx, &o, &id), BRS_OK);
    return id;
}

/* No latency: a buy of 8 against asks 5 @ 101 and 5 @ 102 fills 5 + 3 at once. */
static void test_walks_the_book(void **st)
{
    (void)st;
    fx *f = setup(0, 0, 0);
    level(f, BRS_SELL, 101, 5);
    level(f, BRS_SELL, 102, 5);
    send(f, BRS_BUY, BRS_MARKET, 0, 8);
    at(f, 1000);
    int fills = 0;
    int64_t qty = 0;
    for (int i = 0; i < f->t.n; i++)
        if (f->t.ev[i].kind == BRS_OEV_FILL) {
            fills++;
            qty += f->t.ev[i].qty;
            assert_int_equal(f->t.ev[i].price, fills == 1 ? 101 : 102);
        }
    assert_int_equal(fills, 2);
    assert_int_equal(qty, 8);
    assert_int_equal(f->st->fills, 2);
    assert_int_equal(f->st->pos[0], 8);
    teardown(f);
}

/* 100 ns to the venue, 10 for cancels, 5 back. */
static void test_latency_and_order(void **st)
{
    (void)st;
    fx *f = setup(100, 10, 5);
    level(f, BRS_SELL, 101, 5);
    level(f, BRS_BUY, 99, 5);
    uint64_t id = send(f, BRS_BUY, BRS_LIMIT, 99, 1); /* at t = 1000 */
    assert_int_equal(f->t.host->xCancel(f->t.ctx, id), BRS_OK);
    at(f, 1099);
    assert_int_equal(f->t.n, 0); /* nothing has reached the venue yet */
    at(f, 1100);
    assert_int_equal(f->t.n, 0); /* it has now; its reports are on their way */
    at(f, 1105);
    assert_int_equal(f->t.n, 2);
    assert_int_equal(f->t.ev[0].kind, BRS_OEV_ACCEPTED);
    assert_int_equal(f->t.ev[1].kind, BRS_OEV_CANCELLED);
    assert_int_equal(f->t.ev[1].order_id, id);
    /* a taker meets the book as it is when the order arrives, not when sent */
    send(f, BRS_BUY, BRS_MARKET, 0, 2); /* t = 1105, arrives 1205 */
    at(f, 1150);
    level(f, BRS_SELL, 101, 0);
    level(f, BRS_SELL, 103, 5);
    at(f, 1205); /* the loop wakes when it is due: the order meets 103 */
    assert_int_equal(f->t.n, 2); /* the fill is on its way back */
    at(f, 1210);
    int fills = 0;
    for (int i = 2; i < f->t.n; i++)
        if (f->t.ev[i].kind == BRS_OEV_FILL) {
            fills++;
            assert_int_equal(f->t.ev[i].price, 103);
            assert_int_equal(f->t.ev[i].ts, 1205);
        }
    assert_int_equal(fills, 1);
    assert_int_equal(brs__rt_next_time(f->lr.rt), INT64_MAX);
    teardown(f);
}

/* At the stop, what is still on its way is carried out in order (what
 * `bourse live` does after the strategy's xStop): a market buy sent just
 * before the stop fills, the stop's cancel finds nothing left, and the
 * position says so. */
static void test_stop_drains(void **st)
{
    (void)st;
    fx *f = setup(100, 100, 5);
    level(f, BRS_SELL, 101, 5);
    send(f, BRS_BUY, BRS_MARKET, 0, 2);
    brs_error err = {0};
    assert_int_equal(brs__sctx_stop(&f->sc, &err), BRS_OK);
    assert_true(brs__rt_next_time(f->lr.rt) != INT64_MAX);
    brs__live_rt_drain(&f->lr);
    assert_int_equal(brs__rt_next_time(f->lr.rt), INT64_MAX);
    brs_position pos;
    brs__sctx_position(&f->sc, 0, &pos);
    assert_int_equal(pos.qty, 2);
    assert_int_equal(f->st->fills, 1);
    teardown(f);
}

/* The strategy's depth is the whole L2 book after each update: with 12 ask
 * levels and the best one deleted, it still sees 10 (its view keeps 10), the
 * 11th now among them; a snapshot starts the book again. */
static void test_depth_whole_book(void **st)
{
    (void)st;
    fx *f = setup(0, 0, 0);
    for (int i = 0; i < 12; i++)
        level(f, BRS_SELL, 101 + i, 1 + i);
    level(f, BRS_SELL, 101, 0);
    const brs__sctx_instr *in = &f->sc.instr[0];
    assert_int_equal(in->n_asks, 10);
    assert_int_equal(in->asks[0].price, 102);
    assert_int_equal(in->asks[9].price, 111);
    assert_int_equal(in->asks[9].qty, 11);
    assert_true(f->t.depth_calls >= 13);
    brs_market_event ev = {.kind = BRS_MEV_SNAPSHOT_BEGIN, .ts_exchange = now_of(f), .ts_local = now_of(f)};
    brs__live_rt_market(&f->lr, &ev, now_of(f));
    level(f, BRS_SELL, 200, 3);
    assert_int_equal(in->n_asks, 1);
    assert_int_equal(in->asks[0].price, 200);
    teardown(f);
}

/* paper.fill "touch": a buy larger than the best level fills whole at it, no
 * fee; a resting bid fills at its price when a quote goes through it. */
static void test_touch(void **st)
{
    (void)st;
    fx *f = setup_paper("{\"fill\": \"touch\"}");
    assert_true(f->lr.touch);
    level(f, BRS_SELL, 101, 5);
    level(f, BRS_SELL, 102, 5);
    send(f, BRS_BUY, BRS_MARKET, 0, 1000);
    at(f, 1000);
    assert_int_equal(f->st->fills, 1);
    assert_int_equal(f->t.ev[0].kind, BRS_OEV_FILL);
    assert_int_equal(f->t.ev[0].price, 101);
    assert_int_equal(f->t.ev[0].qty, 1000);
    assert_int_equal(f->st->fees, 0);
    uint64_t id = send(f, BRS_BUY, BRS_LIMIT, 100, 3);
    at(f, 1000);
    assert_int_equal(f->t.ev[1].kind, BRS_OEV_ACCEPTED);
    brs_market_event q = {.kind = BRS_MEV_QUOTE, .ts_exchange = 1000, .ts_local = 1000,
                          .quote = {.bid_price = 98, .bid_qty = 1, .ask_price = 100, .ask_qty = 2}};
    brs__live_rt_market(&f->lr, &q, 1000);
    assert_int_equal(f->t.n, 3);
    assert_int_equal(f->t.ev[2].kind, BRS_OEV_FILL);
    assert_int_equal(f->t.ev[2].order_id, id);
    assert_int_equal(f->t.ev[2].price, 100);
    assert_int_equal(f->st->pos[0], 1003);
    teardown(f);
}

/* Bad paper objects are refused naming the key. */
static void test_bad_paper(void **st)
{
    (void)st;
    setenv("BOURSE_PLUGIN_PATH", BOURSE_PLUGIN_BUILD_DIR, 1);
    static const struct { const char *paper, *says; } bad[] = {
        {"{\"fill\": \"walk\"}", "paper.fill"},
        {"{\"venue\": \"sim\"}", "venue"},
        {"{\"latency\": {\"market_data\": 5}}", "market_data"},
        {"{\"latency\": {\"order_entry_ns\": -1}}", "paper.latency"},
        {"{\"fill\": \"touch\", \"latency\": {\"order_entry_ns\": 5}}", "paper.latency"},
        {"{\"fill\": \"touch\", \"plugin\": \"sim\"}", "paper.plugin"},
        {"{\"plugin\": \"noop\"}", "not a venue"},
        {"{\"params\": {\"taker_fee_bps\": \"x\"}}", "taker_fee_bps"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        brs_config cfg;
        brs_error err = {0};
        char text[256];
        snprintf(text, sizeof text, "{\"paper\": %s}", bad[i].paper);
        assert_int_equal(brs__config_parse(&cfg, text, "live.json", &err), BRS_OK);
        brs__live_rt lr;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(cfg.root, "paper");
        int rc = brs__live_rt_open(&lr, &cfg, p, &instr, 1, 1, &err);
        if (rc == BRS_OK || !strstr(err.msg, bad[i].says) || !strstr(err.msg, "live.json"))
            fail_msg("paper %s: rc %d, '%s'", bad[i].paper, rc, err.msg);
        assert_null(lr.rt);
        brs__config_free(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_walks_the_book),
                                       cmocka_unit_test(test_latency_and_order),
                                       cmocka_unit_test(test_stop_drains),
                                       cmocka_unit_test(test_depth_whole_book),
                                       cmocka_unit_test(test_touch),
                                       cmocka_unit_test(test_bad_paper)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
