/* test_paper.c: `bourse live`'s paper venue (host/record/paper.c) around the
 * real sim plugin and strategy runtime, on a hand-made L2 book: a taker walks
 * the depth; with latencies, an order reaches the venue order_entry_ns later
 * and its reports come back response_ns after that; a cancel sent right after
 * a slower new order does not overtake it (one connection delivers in order),
 * so the order is accepted and then cancelled, never left resting; at the
 * stop, what is on its way is carried out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record/paper.h"
#include "strategy/runtime.h"

typedef struct tstrat {
    const brs_host *host;
    brs_ctx *ctx;
    brs_order_event ev[32];
    int n;
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

static const brs_strategy_vtable tvt = {.size = sizeof(brs_strategy_vtable),
                                        .xOpen = t_open, .xClose = t_close, .xOnOrder = t_order};
static const brs_instrument instr = {.symbol = "X", .price_scale = 100, .tick_size = 1, .lot_size = 1};

typedef struct fx {
    brs__paper p;
    brs__sctx sc;
    tstrat t;
} fx;

static fx *setup(int64_t order_ns, int64_t cancel_ns, int64_t response_ns)
{
    setenv("BOURSE_PLUGIN_PATH", BOURSE_PLUGIN_BUILD_DIR, 1);
    fx *f = calloc(1, sizeof *f);
    brs_error err = {0};
    if (brs__paper_open(&f->p, "sim", NULL, &instr, 1, 1, "paper", &err))
        fail_msg("%s", err.msg);
    assert_int_equal(brs__paper_set_latency(&f->p, order_ns, cancel_ns, response_ns), BRS_OK);
    brs__exec ex = brs__paper_exec(&f->p);
    brs__sctx_opts o = {.name = "t", .instruments = &instr, .n_instruments = 1, .exec = &ex,
                        .quiet = 1};
    assert_int_equal(brs__sctx_init(&f->sc, &tvt, &o, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(&f->sc, &f->t, &err), BRS_OK);
    brs__paper_attach(&f->p, &f->sc);
    brs__sctx_advance(&f->sc, 1000);
    assert_int_equal(brs__sctx_start(&f->sc, &err), BRS_OK);
    return f;
}

static void teardown(fx *f)
{
    brs__sctx_free(&f->sc);
    brs__paper_close(&f->p);
    free(f);
}

static void level(fx *f, uint8_t side, int64_t price, int64_t qty)
{
    brs_market_event ev = {.kind = BRS_MEV_LEVEL_SET, .side = side, .price = price, .qty = qty,
                           .ts_exchange = f->sc.now, .ts_local = f->sc.now};
    brs__paper_poll(&f->p, f->sc.now);
    assert_int_equal(brs__sctx_on_market(&f->sc, &ev), BRS_OK);
}

static void at(fx *f, int64_t now)
{
    brs__sctx_advance(&f->sc, now);
    brs__paper_poll(&f->p, now);
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
    assert_int_equal(f->p.n_fills, 2);
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
    assert_int_equal(brs__paper_next_due(&f->p), INT64_MAX);
    teardown(f);
}

/* At the stop, what is still on its way is carried out in order (what
 * `bourse live` does after brs__sctx_stop): a market buy sent just before the
 * stop fills, the stop's cancel finds nothing left, and the position says so. */
static void test_stop_drains(void **st)
{
    (void)st;
    fx *f = setup(100, 100, 5);
    level(f, BRS_SELL, 101, 5);
    send(f, BRS_BUY, BRS_MARKET, 0, 2);
    brs_error err = {0};
    assert_int_equal(brs__sctx_stop(&f->sc, &err), BRS_OK);
    assert_true(brs__paper_next_due(&f->p) != INT64_MAX);
    brs__paper_poll(&f->p, INT64_MAX);
    assert_int_equal(brs__paper_next_due(&f->p), INT64_MAX);
    brs_position pos;
    brs__sctx_position(&f->sc, 0, &pos);
    assert_int_equal(pos.qty, 2);
    assert_int_equal(f->p.n_fills, 1);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_walks_the_book),
                                       cmocka_unit_test(test_latency_and_order),
                                       cmocka_unit_test(test_stop_drains)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
