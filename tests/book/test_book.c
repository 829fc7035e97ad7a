/* test_book.c: unit tests of the matching engine, one per order type, self-trade
 * prevention mode, post-only mode and replace rule, with the expected events
 * worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book/book.h"
#include "recorder.h"

typedef struct fx {
    brs_engine *e;
    recorder r;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    brs_book_listener L = rec_listener(&f->r);
    brs_engine_config cfg = {.max_orders = 64, .max_instruments = 4, .window_ticks = 64};
    brs_error err;
    if (brs__engine_create(&f->e, &cfg, &L, &err))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    brs__engine_destroy(f->e);
    free(f);
    return 0;
}

static brs_order lim(uint64_t id, int side, int64_t price, int64_t qty)
{
    return (brs_order){.id = id, .side = (uint8_t)side, .price = price, .qty = qty,
                       .type = BRS_LIMIT, .tif = BRS_GTC};
}

static int submit(fx *f, brs_order o)
{
    rec_clear(&f->r);
    return brs__engine_submit(f->e, &o);
}

static const rec_event *ev(fx *f, int kind, int nth)
{
    int i = rec_find(&f->r, kind, nth);
    assert_true(i >= 0);
    return &f->r.ev[i];
}

static void expect_fill(fx *f, int nth, uint64_t maker, uint64_t taker, int64_t price, int64_t qty,
                        int64_t mleaves, int64_t tleaves)
{
    const rec_event *e = ev(f, EV_FILL, nth);
    assert_int_equal(e->id, maker);
    assert_int_equal(e->id2, taker);
    assert_int_equal(e->price, price);
    assert_int_equal(e->qty, qty);
    assert_int_equal(e->a, mleaves);
    assert_int_equal(e->b, tleaves);
}

static int64_t leaves_of(fx *f, uint64_t id)
{
    brs_order_info oi;
    if (brs__engine_order(f->e, id, &oi))
        return -1;
    return oi.leaves;
}

static void test_limit_match_fifo(void **state)
{
    fx *f = *state;
    assert_int_equal(submit(f, lim(1, BRS_SELL, 100, 10)), BRS_OK);
    assert_int_equal(submit(f, lim(2, BRS_SELL, 100, 5)), BRS_OK);
    assert_int_equal(submit(f, lim(3, BRS_SELL, 101, 7)), BRS_OK);
    assert_int_equal(submit(f, lim(4, BRS_BUY, 100, 12)), BRS_OK);
    assert_int_equal(rec_count(&f->r, EV_ACCEPTED), 1);
    assert_int_equal(rec_count(&f->r, EV_FILL), 2);
    expect_fill(f, 0, 1, 4, 100, 10, 0, 2);
    expect_fill(f, 1, 2, 4, 100, 2, 3, 0);
    assert_int_equal(leaves_of(f, 4), -1); /* fully filled, not resting */
    assert_int_equal(leaves_of(f, 1), -1);
    assert_int_equal(leaves_of(f, 2), 3);
    brs_level lv[4];
    assert_int_equal(brs__engine_depth(f->e, 0, BRS_SELL, lv, 4), 2);
    assert_int_equal(lv[0].price, 100);
    assert_int_equal(lv[0].qty, 3);
    assert_int_equal(lv[0].orders, 1);
    assert_int_equal(lv[1].price, 101);
    assert_int_equal(lv[1].qty, 7);
    brs_top t;
    assert_int_equal(brs__engine_top(f->e, 0, &t), BRS_OK);
    assert_int_equal(t.ask_price, 100);
    assert_int_equal(t.ask_qty, 3);
    assert_int_equal(t.bid_qty, 0);
    /* The top changed (ask qty 15 -> 3), so exactly one top event came. */
    assert_int_equal(rec_count(&f->r, EV_TOP), 1);
    /* A buy above the touch trades at the resting prices, never worse. */
    assert_int_equal(submit(f, lim(5, BRS_BUY, 105, 20)), BRS_OK);
    expect_fill(f, 0, 2, 5, 100, 3, 0, 17);
    expect_fill(f, 1, 3, 5, 101, 7, 0, 10);
    assert_int_equal(leaves_of(f, 5), 10);
    assert_int_equal(brs__engine_top(f->e, 0, &t), BRS_OK);
    assert_int_equal(t.bid_price, 105);
    assert_int_equal(t.bid_qty, 10);
    assert_int_equal(t.ask_qty, 0);
}

/* A level's total never overflows: orders are each below 2^62, and the one
 * that could take a level past INT64_MAX is rejected (BRS_E_RANGE) before it
 * is accepted, so a client sees a reject, never New then Canceled (issue 15);
 * the level and what rests there are untouched. */
static void test_level_total_overflow(void **state)
{
    fx *f = *state;
    const int64_t big = (INT64_C(1) << 62) - 1;
    assert_int_equal(submit(f, lim(1, BRS_BUY, 99, big)), BRS_OK);
    assert_int_equal(submit(f, lim(2, BRS_BUY, 99, big)), BRS_OK);
    rec_clear(&f->r);
    assert_int_equal(submit(f, lim(3, BRS_BUY, 99, big)), BRS_E_RANGE);
    const rec_event *c = ev(f, EV_REJECTED, 0);
    assert_int_equal(c->id, 3);
    assert_int_equal(c->reason, BRS_E_RANGE);
    assert_true(rec_find(&f->r, EV_ACCEPTED, 0) < 0);
    assert_true(rec_find(&f->r, EV_CANCELLED, 0) < 0);
    assert_int_equal(leaves_of(f, 3), -1);
    brs_level lv[2];
    assert_int_equal(brs__engine_depth(f->e, 0, BRS_BUY, lv, 2), 1);
    assert_int_equal(lv[0].qty, 2 * big);
    assert_int_equal(brs__engine_live_orders(f->e), 2);
    /* a smaller one still fits, and the level trades normally */
    assert_int_equal(submit(f, lim(4, BRS_BUY, 99, 1)), BRS_OK);
    assert_int_equal(leaves_of(f, 4), 1);
    assert_int_equal(submit(f, lim(5, BRS_SELL, 99, 10)), BRS_OK);
    expect_fill(f, 0, 1, 5, 99, 10, big - 10, 0);
    /* growing an order by replace past the limit is refused; it stays as it was */
    brs_order_info oi;
    assert_int_equal(brs__engine_order(f->e, 2, &oi), BRS_OK);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 4, 98, big), BRS_OK);
    assert_int_equal(leaves_of(f, 4), big);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 4, 99, big), BRS_E_RANGE);
    assert_int_equal(ev(f, EV_REJECTED, 0)->reason, BRS_E_RANGE);
    assert_true(rec_find(&f->r, EV_CANCELLED, 0) < 0);
    assert_int_equal(leaves_of(f, 4), big);
    assert_int_equal(brs__engine_order(f->e, 4, &oi), BRS_OK);
    assert_int_equal(oi.price, 98);
    assert_int_equal(leaves_of(f, 1), big - 10);
    assert_int_equal(leaves_of(f, 2), big);
}

/* Plain limit orders are taken by a path that trusts brs__engine_submit's one
 * test of price (-2^61..2^61-1) and quantity (1..2^32 while no larger one was
 * entered); everything past those bounds takes the general path. Both sides
 * of each bound are accepted or refused exactly as the API says, rest at the
 * right levels and trade in price order. */
static void test_plain_bounds(void **state)
{
    fx *f = *state;
    const int64_t pmax = INT64_C(1) << 62, p61 = INT64_C(1) << 61, q32 = INT64_C(1) << 32;
    assert_int_equal(submit(f, lim(1, BRS_BUY, p61 - 1, q32)), BRS_OK);
    assert_int_equal(submit(f, lim(2, BRS_BUY, p61, 1)), BRS_OK);
    assert_int_equal(submit(f, lim(3, BRS_BUY, pmax - 1, 2)), BRS_OK);
    assert_int_equal(submit(f, lim(4, BRS_BUY, -p61, 3)), BRS_OK);
    assert_int_equal(submit(f, lim(5, BRS_BUY, -p61 - 1, 4)), BRS_OK);
    assert_int_equal(submit(f, lim(6, BRS_BUY, -(pmax - 1), q32 + 1)), BRS_OK);
    assert_int_equal(submit(f, lim(7, BRS_BUY, pmax, 1)), BRS_E_INVAL);
    assert_int_equal(submit(f, lim(7, BRS_BUY, -pmax, 1)), BRS_E_INVAL);
    assert_int_equal(submit(f, lim(7, BRS_BUY, INT64_MIN, 1)), BRS_E_INVAL);
    assert_int_equal(submit(f, lim(7, BRS_BUY, 100, 0)), BRS_E_INVAL);
    assert_int_equal(submit(f, lim(7, BRS_BUY, 100, -1)), BRS_E_INVAL);
    assert_int_equal(submit(f, lim(7, BRS_BUY, 100, pmax)), BRS_E_INVAL);
    brs_order bad = lim(7, BRS_BUY, 100, 0);
    bad.instrument = 99;
    assert_int_equal(submit(f, bad), BRS_E_RANGE); /* the instrument is checked first */
    assert_int_equal(rec_count(&f->r, EV_REJECTED), 1);
    assert_int_equal(brs__engine_live_orders(f->e), 6);
    brs_level lv[8];
    assert_int_equal(brs__engine_depth(f->e, 0, BRS_BUY, lv, 8), 6);
    const int64_t want_p[6] = {pmax - 1, p61, p61 - 1, -p61, -p61 - 1, -(pmax - 1)};
    const int64_t want_q[6] = {2, 1, q32, 3, 4, q32 + 1};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(lv[i].price, want_p[i]);
        assert_int_equal(lv[i].qty, want_q[i]);
    }
    /* a sell down to the lowest bid takes them all, best price first */
    assert_int_equal(submit(f, lim(8, BRS_SELL, -(pmax - 1), 2 * q32 + 11)), BRS_OK);
    const uint64_t want_id[6] = {3, 2, 1, 4, 5, 6};
    int64_t taker_leaves = 2 * q32 + 11;
    for (int i = 0; i < 6; i++) {
        taker_leaves -= want_q[i];
        expect_fill(f, i, want_id[i], 8, want_p[i], want_q[i], 0, taker_leaves);
    }
    assert_int_equal(taker_leaves, 0);
    assert_int_equal(brs__engine_live_orders(f->e), 0);
}

static void test_market(void **state)
{
    fx *f = *state;
    submit(f, lim(1, BRS_BUY, 99, 4));
    submit(f, lim(2, BRS_BUY, 98, 4));
    brs_order m = {.id = 3, .side = BRS_SELL, .type = BRS_MARKET, .qty = 10, .price = 12345};
    assert_int_equal(submit(f, m), BRS_OK);
    expect_fill(f, 0, 1, 3, 99, 4, 0, 6);
    expect_fill(f, 1, 2, 3, 98, 4, 0, 2);
    const rec_event *c = ev(f, EV_CANCELLED, 0);
    assert_int_equal(c->id, 3);
    assert_int_equal(c->qty, 2);
    assert_int_equal(c->reason, BRS_E_NOLIQUIDITY);
    assert_int_equal(brs__engine_live_orders(f->e), 0);
}

static void test_ioc(void **state)
{
    fx *f = *state;
    submit(f, lim(1, BRS_SELL, 100, 5));
    brs_order o = lim(2, BRS_BUY, 100, 8);
    o.tif = BRS_IOC;
    assert_int_equal(submit(f, o), BRS_OK);
    expect_fill(f, 0, 1, 2, 100, 5, 0, 3);
    assert_int_equal(ev(f, EV_CANCELLED, 0)->qty, 3);
    assert_int_equal(leaves_of(f, 2), -1);
    /* An IOC that does not cross cancels all of it. */
    o.id = 3;
    assert_int_equal(submit(f, o), BRS_OK);
    assert_int_equal(rec_count(&f->r, EV_FILL), 0);
    assert_int_equal(ev(f, EV_CANCELLED, 0)->qty, 8);
}

static void test_fok(void **state)
{
    fx *f = *state;
    submit(f, lim(1, BRS_SELL, 100, 5));
    submit(f, lim(2, BRS_SELL, 101, 5));
    brs_order o = lim(3, BRS_BUY, 101, 11);
    o.tif = BRS_FOK;
    assert_int_equal(submit(f, o), BRS_OK);
    assert_int_equal(rec_count(&f->r, EV_FILL), 0);
    assert_int_equal(ev(f, EV_CANCELLED, 0)->reason, BRS_E_NOLIQUIDITY);
    assert_int_equal(leaves_of(f, 1), 5);
    assert_int_equal(leaves_of(f, 2), 5);
    o.id = 4;
    o.qty = 10;
    assert_int_equal(submit(f, o), BRS_OK);
    assert_int_equal(rec_count(&f->r, EV_FILL), 2);
    assert_int_equal(rec_count(&f->r, EV_CANCELLED), 0);
    assert_int_equal(brs__engine_live_orders(f->e), 0);
    /* The limit bounds what FOK may count. */
    submit(f, lim(5, BRS_SELL, 100, 5));
    submit(f, lim(6, BRS_SELL, 102, 5));
    o.id = 7;
    assert_int_equal(submit(f, o), BRS_OK);
    assert_int_equal(rec_count(&f->r, EV_FILL), 0);
}

static void test_day_and_end_of_day(void **state)
{
    fx *f = *state;
    brs_order d = lim(1, BRS_BUY, 90, 5);
    d.tif = BRS_DAY;
    submit(f, d);
    submit(f, lim(2, BRS_BUY, 91, 5));
    d.id = 3;
    d.instrument = 1;
    submit(f, d);
    rec_clear(&f->r);
    brs__engine_end_of_day(f->e, 0);
    assert_int_equal(rec_count(&f->r, EV_CANCELLED), 1);
    assert_int_equal(ev(f, EV_CANCELLED, 0)->id, 1);
    assert_int_equal(leaves_of(f, 2), 5);
    assert_int_equal(leaves_of(f, 3), 5);
    rec_clear(&f->r);
    brs__engine_end_of_day(f->e, BRS_BOOK_NO_INSTRUMENT);
    assert_int_equal(rec_count(&f->r, EV_CANCELLED), 1);
    assert_int_equal(leaves_of(f, 3), -1);
}

static void test_post_only(void **state)
{
    fx *f = *state;
    submit(f, lim(1, BRS_SELL, 100, 5));
    brs_order p = lim(2, BRS_BUY, 100, 3);
    p.flags = BRS_OF_POST_ONLY;
    assert_int_equal(submit(f, p), BRS_E_WOULDTAKE);
    assert_int_equal(ev(f, EV_REJECTED, 0)->reason, BRS_E_WOULDTAKE);
    assert_int_equal(rec_count(&f->r, EV_ACCEPTED), 0);
    assert_int_equal(leaves_of(f, 2), -1);
    p.price = 99; /* does not take: rests */
    assert_int_equal(submit(f, p), BRS_OK);
    assert_int_equal(leaves_of(f, 2), 3);
    p.id = 3;
    p.price = 104;
    p.flags = BRS_OF_POST_REPRICE;
    assert_int_equal(submit(f, p), BRS_OK);
    assert_int_equal(ev(f, EV_ACCEPTED, 0)->price, 99); /* one tick behind the ask */
    assert_int_equal(rec_count(&f->r, EV_FILL), 0);
    int64_t ahead;
    assert_int_equal(brs__engine_queue_position(f->e, 3, &ahead), BRS_OK);
    assert_int_equal(ahead, 3);
    /* post-only with IOC is meaningless */
    p.id = 4;
    p.tif = BRS_IOC;
    assert_int_equal(submit(f, p), BRS_E_INVAL);
}

/* A level's queue in time order, with open quantities; a partial reduce keeps
 * the place, a level with nothing or a book never used answers 0. */
static void test_level_queue(void **state)
{
    fx *f = *state;
    brs_queue_entry q[4];
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_BUY, 100, q, 4), 0);
    submit(f, lim(1, BRS_BUY, 100, 5));
    assert_int_equal(brs__engine_insert(f->e, 0, 2, BRS_BUY, 100, 7), BRS_OK);
    submit(f, lim(3, BRS_BUY, 100, 2));
    assert_int_equal(brs__engine_reduce(f->e, 1, 4), BRS_OK);
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_BUY, 100, q, 4), 3);
    assert_int_equal(q[0].id, 1);
    assert_int_equal(q[0].leaves, 1);
    assert_int_equal(q[1].id, 2);
    assert_int_equal(q[1].leaves, 7);
    assert_int_equal(q[2].id, 3);
    /* fewer slots than orders: the count is still the whole queue */
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_BUY, 100, q, 1), 3);
    assert_int_equal(q[0].id, 1);
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_BUY, 100, NULL, 0), 3);
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_SELL, 100, q, 4), 0);
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_BUY, 99, q, 4), 0);
    assert_int_equal(brs__engine_level_queue(f->e, 1, BRS_BUY, 100, q, 4), 0);
    assert_int_equal(brs__engine_level_queue(f->e, 9999, BRS_BUY, 100, q, 4), 0);
}

static brs_order acct(brs_order o, uint32_t account, int stp)
{
    o.account = account;
    o.stp = (uint8_t)stp;
    return o;
}

static void test_stp_newest(void **state)
{
    fx *f = *state;
    submit(f, acct(lim(1, BRS_SELL, 100, 5), 7, 0));
    submit(f, acct(lim(2, BRS_SELL, 100, 5), 8, 0));
    submit(f, acct(lim(3, BRS_BUY, 100, 8), 7, BRS_STP_CANCEL_NEWEST));
    assert_int_equal(rec_count(&f->r, EV_FILL), 0);
    const rec_event *c = ev(f, EV_CANCELLED, 0);
    assert_int_equal(c->id, 3);
    assert_int_equal(c->reason, BRS_E_SELFTRADE);
    assert_int_equal(leaves_of(f, 1), 5);
    /* Without STP the same account trades with itself. */
    submit(f, acct(lim(4, BRS_BUY, 100, 1), 7, BRS_STP_NONE));
    expect_fill(f, 0, 1, 4, 100, 1, 4, 0);
}

static void test_stp_oldest(void **state)
{
    fx *f = *state;
    submit(f, acct(lim(1, BRS_SELL, 100, 5), 7, 0));
    submit(f, acct(lim(2, BRS_SELL, 100, 5), 8, 0));
    submit(f, acct(lim(3, BRS_BUY, 100, 8), 7, BRS_STP_CANCEL_OLDEST));
    const rec_event *c = ev(f, EV_CANCELLED, 0);
    assert_int_equal(c->id, 1);
    assert_int_equal(c->reason, BRS_E_SELFTRADE);
    expect_fill(f, 0, 2, 3, 100, 5, 0, 3);
    assert_int_equal(leaves_of(f, 3), 3); /* the rest rests */
}

static void test_stp_both(void **state)
{
    fx *f = *state;
    submit(f, acct(lim(1, BRS_SELL, 100, 5), 8, 0));
    submit(f, acct(lim(2, BRS_SELL, 100, 5), 7, 0));
    submit(f, acct(lim(3, BRS_SELL, 100, 5), 8, 0));
    submit(f, acct(lim(4, BRS_BUY, 100, 8), 7, BRS_STP_CANCEL_BOTH));
    expect_fill(f, 0, 1, 4, 100, 5, 0, 3);
    assert_int_equal(ev(f, EV_CANCELLED, 0)->id, 2);
    assert_int_equal(ev(f, EV_CANCELLED, 1)->id, 4);
    assert_int_equal(ev(f, EV_CANCELLED, 1)->qty, 3);
    assert_int_equal(leaves_of(f, 3), 5);
    assert_int_equal(brs__engine_live_orders(f->e), 1);
}

static void test_replace_priority(void **state)
{
    fx *f = *state;
    submit(f, lim(1, BRS_BUY, 100, 10));
    submit(f, lim(2, BRS_BUY, 100, 10));
    submit(f, lim(3, BRS_BUY, 100, 10));
    int64_t ahead;
    brs__engine_queue_position(f->e, 2, &ahead);
    assert_int_equal(ahead, 10);
    /* Decrease at the same price: keeps its place. */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 1, 100, 4), BRS_OK);
    const rec_event *r = ev(f, EV_REPLACED, 0);
    assert_int_equal(r->qty, 4);
    assert_int_equal(r->a, 4);
    brs__engine_queue_position(f->e, 1, &ahead);
    assert_int_equal(ahead, 0);
    brs__engine_queue_position(f->e, 2, &ahead);
    assert_int_equal(ahead, 4);
    /* Increase: goes to the back. */
    assert_int_equal(brs__engine_replace(f->e, 1, 100, 6), BRS_OK);
    brs__engine_queue_position(f->e, 1, &ahead);
    assert_int_equal(ahead, 20);
    brs__engine_queue_position(f->e, 2, &ahead);
    assert_int_equal(ahead, 0);
    /* Price change and back: loses its place too. */
    assert_int_equal(brs__engine_replace(f->e, 2, 99, 10), BRS_OK);
    assert_int_equal(brs__engine_replace(f->e, 2, 100, 10), BRS_OK);
    brs__engine_queue_position(f->e, 2, &ahead);
    assert_int_equal(ahead, 16);
    /* A replace that crosses trades as the aggressor at the resting price. */
    submit(f, lim(4, BRS_SELL, 102, 5));
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 3, 103, 10), BRS_OK);
    expect_fill(f, 0, 4, 3, 102, 5, 0, 5);
    assert_int_equal(leaves_of(f, 3), 5);
    brs_order_info oi;
    brs__engine_order(f->e, 3, &oi);
    assert_int_equal(oi.cum_qty, 5);
    assert_int_equal(oi.price, 103);
    /* New total must exceed what already filled. */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 3, 103, 5), BRS_E_INVAL);
    assert_int_equal(leaves_of(f, 3), 5);
    assert_int_equal(brs__engine_replace(f->e, 3, 103, 7), BRS_OK);
    assert_int_equal(leaves_of(f, 3), 2);
}

/* The events of a replace that moves without crossing, in order: the old
 * level, replaced, the new level, then the top only if it changed. Moves in
 * the window with small quantities take the engine's short path; a far price
 * and a quantity above 2^32 take the general one: the same events. */
static void expect_ev(fx *f, int i, int kind, int side, int64_t price, int64_t qty, int64_t a, int64_t b)
{
    assert_true(i < f->r.n);
    const rec_event *e = &f->r.ev[i];
    assert_int_equal(e->kind, kind);
    if (kind == EV_LEVEL)
        assert_int_equal(e->side, side);
    assert_int_equal(e->price, price);
    assert_int_equal(e->qty, qty);
    assert_int_equal(e->a, a);
    if (kind == EV_TOP)
        assert_int_equal(e->b, b);
}

static void test_replace_move_events(void **state)
{
    fx *f = *state;
    submit(f, lim(1, BRS_BUY, 100, 10));
    submit(f, lim(2, BRS_BUY, 99, 5));
    submit(f, lim(3, BRS_SELL, 105, 7));
    submit(f, lim(4, BRS_BUY, 99, 3));
    /* the best bid moves away: its level empties, the next one is the best */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 1, 98, 10), BRS_OK);
    assert_int_equal(f->r.n, 4);
    expect_ev(f, 0, EV_LEVEL, BRS_BUY, 100, 0, 0, 0);
    expect_ev(f, 1, EV_REPLACED, 0, 98, 10, 10, 0);
    expect_ev(f, 2, EV_LEVEL, BRS_BUY, 98, 10, 1, 0);
    expect_ev(f, 3, EV_TOP, 0, 99, 8, 105, 7);
    /* more at the same price: to the back of its own level */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 2, 99, 6), BRS_OK);
    assert_int_equal(f->r.n, 4);
    expect_ev(f, 0, EV_LEVEL, BRS_BUY, 99, 3, 1, 0);
    expect_ev(f, 1, EV_REPLACED, 0, 99, 6, 6, 0);
    expect_ev(f, 2, EV_LEVEL, BRS_BUY, 99, 9, 2, 0);
    expect_ev(f, 3, EV_TOP, 0, 99, 9, 105, 7);
    int64_t ahead;
    brs__engine_queue_position(f->e, 2, &ahead);
    assert_int_equal(ahead, 3);
    /* behind the best: no top */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 1, 97, 4), BRS_OK);
    assert_int_equal(f->r.n, 3);
    expect_ev(f, 0, EV_LEVEL, BRS_BUY, 98, 0, 0, 0);
    expect_ev(f, 1, EV_REPLACED, 0, 97, 4, 4, 0);
    expect_ev(f, 2, EV_LEVEL, BRS_BUY, 97, 4, 1, 0);
    /* the only offer, improved and then worsened: the ask moves both times */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 3, 104, 7), BRS_OK);
    assert_int_equal(f->r.n, 4);
    expect_ev(f, 3, EV_TOP, 0, 99, 9, 104, 7);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 3, 106, 8), BRS_OK);
    assert_int_equal(f->r.n, 4);
    expect_ev(f, 0, EV_LEVEL, BRS_SELL, 104, 0, 0, 0);
    expect_ev(f, 1, EV_REPLACED, 0, 106, 8, 8, 0);
    expect_ev(f, 2, EV_LEVEL, BRS_SELL, 106, 8, 1, 0);
    expect_ev(f, 3, EV_TOP, 0, 99, 9, 106, 8);
    /* a new best bid above the old one */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 1, 101, 4), BRS_OK);
    assert_int_equal(f->r.n, 4);
    expect_ev(f, 3, EV_TOP, 0, 101, 4, 106, 8);
    /* far below the 64-tick window (the general path), and back */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 1, 10, 4), BRS_OK);
    assert_int_equal(f->r.n, 4);
    expect_ev(f, 0, EV_LEVEL, BRS_BUY, 101, 0, 0, 0);
    expect_ev(f, 1, EV_REPLACED, 0, 10, 4, 4, 0);
    expect_ev(f, 2, EV_LEVEL, BRS_BUY, 10, 4, 1, 0);
    expect_ev(f, 3, EV_TOP, 0, 99, 9, 106, 8);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 1, 98, 4), BRS_OK);
    assert_int_equal(f->r.n, 3);
    expect_ev(f, 0, EV_LEVEL, BRS_BUY, 10, 0, 0, 0);
    expect_ev(f, 2, EV_LEVEL, BRS_BUY, 98, 4, 1, 0);
    /* a quantity above 2^32 (the general path, which checks the level total) */
    int64_t big = (INT64_C(1) << 32) + 1;
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 4, 100, big), BRS_OK);
    assert_int_equal(f->r.n, 4);
    expect_ev(f, 0, EV_LEVEL, BRS_BUY, 99, 6, 1, 0);
    expect_ev(f, 1, EV_REPLACED, 0, 100, big, big, 0);
    expect_ev(f, 2, EV_LEVEL, BRS_BUY, 100, big, 1, 0);
    expect_ev(f, 3, EV_TOP, 0, 100, big, 106, 8);
    brs_top t;
    brs__engine_top(f->e, 0, &t);
    assert_int_equal(t.bid_price, 100);
    assert_int_equal(t.ask_price, 106);
}

/* A cancel reports cancelled, the level, then the top only if it changed
 * (in the window the engine compares only the cancelled order's side). */
static void test_cancel_events(void **state)
{
    fx *f = *state;
    submit(f, lim(1, BRS_BUY, 100, 10));
    submit(f, lim(2, BRS_BUY, 99, 5));
    submit(f, lim(3, BRS_SELL, 105, 7));
    submit(f, lim(4, BRS_BUY, 100, 2));
    submit(f, lim(5, BRS_BUY, 10, 1)); /* far below the 64-tick window */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 2), BRS_OK); /* behind the best: no top */
    assert_int_equal(f->r.n, 2);
    assert_int_equal(f->r.ev[0].kind, EV_CANCELLED);
    assert_int_equal(f->r.ev[0].qty, 5);
    expect_ev(f, 1, EV_LEVEL, BRS_BUY, 99, 0, 0, 0);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 1), BRS_OK); /* the best level's quantity */
    assert_int_equal(f->r.n, 3);
    expect_ev(f, 1, EV_LEVEL, BRS_BUY, 100, 2, 1, 0);
    expect_ev(f, 2, EV_TOP, 0, 100, 2, 105, 7);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 4), BRS_OK); /* the best level goes: the far one is next */
    assert_int_equal(f->r.n, 3);
    expect_ev(f, 1, EV_LEVEL, BRS_BUY, 100, 0, 0, 0);
    expect_ev(f, 2, EV_TOP, 0, 10, 1, 105, 7);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 3), BRS_OK); /* the only offer */
    assert_int_equal(f->r.n, 3);
    expect_ev(f, 1, EV_LEVEL, BRS_SELL, 105, 0, 0, 0);
    expect_ev(f, 2, EV_TOP, 0, 10, 1, 0, 0);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 5), BRS_OK); /* far (the general path): the book is empty */
    assert_int_equal(f->r.n, 3);
    expect_ev(f, 1, EV_LEVEL, BRS_BUY, 10, 0, 0, 0);
    expect_ev(f, 2, EV_TOP, 0, 0, 0, 0, 0);
    assert_int_equal(brs__engine_live_orders(f->e), 0);
}

/* The events of a plain IOC sweeping several levels, in order: accepted, per
 * level its fills then the level, the rest cancelled, the top. A 256-tick
 * window, so the next level is found across bitmap words; the last case has
 * a far level on the other side (the engine then takes its general path):
 * the same events. */
static void test_ioc_sweep_events(void **state)
{
    fx *f = *state;
    brs_book_listener L = rec_listener(&f->r);
    brs_engine_config cfg = {.max_orders = 64, .max_instruments = 1, .window_ticks = 256};
    brs_engine *e;
    brs_error err;
    assert_int_equal(brs__engine_create(&e, &cfg, &L, &err), BRS_OK);
    /* window 872..1127: 1000, 1001 and 1060 share a bitmap word, 1070 and 1127 the next */
    brs_order rest[] = {lim(1, BRS_SELL, 1000, 5), lim(2, BRS_SELL, 1001, 3), lim(3, BRS_SELL, 1001, 4),
                        lim(4, BRS_SELL, 1060, 2), lim(5, BRS_SELL, 1070, 6), lim(6, BRS_SELL, 1127, 1),
                        lim(7, BRS_BUY, 990, 9)};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        assert_int_equal(brs__engine_submit(e, &rest[i]), BRS_OK);
    rec_clear(&f->r);
    brs_order o = lim(10, BRS_BUY, 1100, 16);
    o.tif = BRS_IOC;
    assert_int_equal(brs__engine_submit(e, &o), BRS_OK);
    static const int kinds[] = {EV_ACCEPTED, EV_FILL, EV_LEVEL, EV_FILL, EV_FILL, EV_LEVEL,
                                EV_FILL, EV_LEVEL, EV_FILL, EV_LEVEL, EV_TOP};
    assert_int_equal(f->r.n, 11);
    for (int i = 0; i < 11; i++)
        assert_int_equal(f->r.ev[i].kind, kinds[i]);
    expect_fill(f, 0, 1, 10, 1000, 5, 0, 11);
    expect_ev(f, 2, EV_LEVEL, BRS_SELL, 1000, 0, 0, 0);
    expect_fill(f, 1, 2, 10, 1001, 3, 0, 8);
    expect_fill(f, 2, 3, 10, 1001, 4, 0, 4);
    expect_ev(f, 5, EV_LEVEL, BRS_SELL, 1001, 0, 0, 0);
    expect_fill(f, 3, 4, 10, 1060, 2, 0, 2);
    expect_ev(f, 7, EV_LEVEL, BRS_SELL, 1060, 0, 0, 0);
    expect_fill(f, 4, 5, 10, 1070, 2, 4, 0);
    expect_ev(f, 9, EV_LEVEL, BRS_SELL, 1070, 4, 1, 0);
    expect_ev(f, 10, EV_TOP, 0, 990, 9, 1070, 4);
    /* the side emptied: the rest is cancelled, the ask half of the top is 0 */
    o = lim(11, BRS_BUY, 1127, 9);
    o.tif = BRS_IOC;
    rec_clear(&f->r);
    assert_int_equal(brs__engine_submit(e, &o), BRS_OK);
    assert_int_equal(f->r.n, 7);
    expect_fill(f, 0, 5, 11, 1070, 4, 0, 5);
    expect_ev(f, 2, EV_LEVEL, BRS_SELL, 1070, 0, 0, 0);
    expect_fill(f, 1, 6, 11, 1127, 1, 0, 4);
    expect_ev(f, 4, EV_LEVEL, BRS_SELL, 1127, 0, 0, 0);
    assert_int_equal(f->r.ev[5].kind, EV_CANCELLED);
    assert_int_equal(f->r.ev[5].qty, 4);
    expect_ev(f, 6, EV_TOP, 0, 990, 9, 0, 0);
    /* a far level behind the window's: swept the same way */
    brs_order more[] = {lim(12, BRS_SELL, 1100, 2), lim(13, BRS_SELL, 5000, 3)};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        assert_int_equal(brs__engine_submit(e, &more[i]), BRS_OK);
    o = lim(14, BRS_BUY, 6000, 10);
    o.tif = BRS_IOC;
    rec_clear(&f->r);
    assert_int_equal(brs__engine_submit(e, &o), BRS_OK);
    assert_int_equal(f->r.n, 7);
    expect_fill(f, 0, 12, 14, 1100, 2, 0, 8);
    expect_ev(f, 2, EV_LEVEL, BRS_SELL, 1100, 0, 0, 0);
    expect_fill(f, 1, 13, 14, 5000, 3, 0, 5);
    expect_ev(f, 4, EV_LEVEL, BRS_SELL, 5000, 0, 0, 0);
    assert_int_equal(f->r.ev[5].kind, EV_CANCELLED);
    assert_int_equal(f->r.ev[5].qty, 5);
    expect_ev(f, 6, EV_TOP, 0, 990, 9, 0, 0);
    assert_int_equal(brs__engine_live_orders(e), 1);
    brs__engine_destroy(e);
}

static void test_unknown_ids(void **state)
{
    fx *f = *state;
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 42), BRS_E_UNKNOWNORDER);
    assert_int_equal(ev(f, EV_REJECTED, 0)->reason, BRS_E_UNKNOWNORDER);
    assert_int_equal(brs__engine_replace(f->e, 42, 100, 5), BRS_E_UNKNOWNORDER);
    submit(f, lim(1, BRS_SELL, 100, 5));
    submit(f, lim(2, BRS_BUY, 100, 5));
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 1), BRS_E_UNKNOWNORDER); /* filled */
    assert_int_equal(rec_count(&f->r, EV_REJECTED), 1);
    assert_int_equal(rec_count(&f->r, EV_LEVEL), 0);
    /* A live id cannot be reused; bad fields are refused. */
    submit(f, lim(3, BRS_SELL, 100, 5));
    assert_int_equal(submit(f, lim(3, BRS_SELL, 100, 5)), BRS_E_EXISTS);
    assert_int_equal(submit(f, lim(9, BRS_SELL, 100, 0)), BRS_E_INVAL);
    brs_order bad = lim(9, BRS_SELL, 100, 1);
    bad.instrument = 99;
    assert_int_equal(submit(f, bad), BRS_E_RANGE);
    assert_int_equal(brs__engine_cancel(f->e, 3), BRS_OK);
    assert_int_equal(brs__engine_cancel(f->e, 3), BRS_E_UNKNOWNORDER);
}

static void test_pool_limit_and_reuse(void **state)
{
    fx *f = *state;
    for (uint64_t i = 1; i <= 64; i++)
        assert_int_equal(submit(f, lim(i, BRS_BUY, 100 - (int64_t)(i % 7), 1)), BRS_OK);
    assert_int_equal(submit(f, lim(65, BRS_BUY, 100, 1)), BRS_E_LIMIT);
    /* An IOC needs no slot. */
    brs_order o = lim(66, BRS_SELL, 100, 1);
    o.tif = BRS_IOC;
    assert_int_equal(submit(f, o), BRS_OK);
    assert_int_equal(submit(f, lim(65, BRS_BUY, 100, 1)), BRS_OK); /* slot reused */
    brs__engine_reset(f->e);
    assert_int_equal(brs__engine_live_orders(f->e), 0);
    brs_top t;
    brs__engine_top(f->e, 0, &t);
    assert_int_equal(t.bid_qty, 0);
    assert_int_equal(leaves_of(f, 65), -1);
    assert_int_equal(submit(f, lim(1, BRS_BUY, 100, 1)), BRS_OK);
}

static void test_wide_sparse_prices(void **state)
{
    fx *f = *state;
    /* Far outside a 64-tick window on both sides of it. */
    int64_t px[] = {1000, 1000000000000LL, 1010, -5000000000LL, 999, 2000, 1500, 3, 1000000};
    for (size_t i = 0; i < sizeof px / sizeof px[0]; i++)
        assert_int_equal(submit(f, lim(i + 1, BRS_BUY, px[i], 1 + (int64_t)i)), BRS_OK);
    brs_level lv[16];
    size_t n = brs__engine_depth(f->e, 0, BRS_BUY, lv, 16);
    assert_int_equal(n, 9);
    for (size_t i = 1; i < n; i++)
        assert_true(lv[i].price < lv[i - 1].price);
    assert_int_equal(lv[0].price, 1000000000000LL);
    assert_int_equal(lv[8].price, -5000000000LL);
    /* A sell sweeps them in price order. */
    brs_order s = lim(100, BRS_SELL, -6000000000LL, 1000);
    s.tif = BRS_IOC;
    submit(f, s);
    assert_int_equal(rec_count(&f->r, EV_FILL), 9);
    int64_t last = INT64_MAX;
    for (int i = 0; i < 9; i++) {
        const rec_event *e = ev(f, EV_FILL, i);
        assert_true(e->price <= last);
        last = e->price;
    }
    assert_int_equal(brs__engine_depth(f->e, 0, BRS_BUY, lv, 16), 0);
}

/* Found by the FIX fuzz target: the first orders of a fresh engine, far apart,
 * moved the window while the overflow array was still unallocated (NULL + 0 in
 * pointer arithmetic: undefined behaviour, caught by UBSan). */
static void test_far_first_orders_default_window(void **state)
{
    (void)state;
    brs_engine *e;
    brs_error err;
    assert_int_equal(brs__engine_create(&e, NULL, NULL, &err), BRS_OK);
    brs_order a = lim(1, BRS_BUY, 15025, 10), b = lim(2, BRS_BUY, 1525, 20);
    assert_int_equal(brs__engine_submit(e, &a), BRS_OK);
    assert_int_equal(brs__engine_submit(e, &b), BRS_OK);
    brs_level lv[4];
    assert_int_equal(brs__engine_depth(e, 0, BRS_BUY, lv, 4), 2);
    assert_int_equal(lv[0].price, 15025);
    assert_int_equal(lv[1].price, 1525);
    brs_order s = lim(3, BRS_SELL, 1000, 30);
    s.tif = BRS_IOC;
    assert_int_equal(brs__engine_submit(e, &s), BRS_OK);
    assert_int_equal(brs__engine_depth(e, 0, BRS_BUY, lv, 4), 0);
    brs__engine_destroy(e);
}

static void test_passive_l3(void **state)
{
    fx *f = *state;
    rec_clear(&f->r);
    assert_int_equal(brs__engine_insert(f->e, 2, 10, BRS_BUY, 101, 5), BRS_OK);
    assert_int_equal(brs__engine_insert(f->e, 2, 11, BRS_SELL, 100, 5), BRS_OK); /* crossed */
    assert_int_equal(brs__engine_insert(f->e, 2, 12, BRS_SELL, 100, 7), BRS_OK);
    assert_int_equal(rec_count(&f->r, EV_FILL), 0);
    assert_int_equal(rec_count(&f->r, EV_ACCEPTED), 0);
    assert_true(rec_count(&f->r, EV_LEVEL) == 3);
    brs_top t;
    brs__engine_top(f->e, 2, &t);
    assert_int_equal(t.bid_price, 101);
    assert_int_equal(t.ask_price, 100);
    assert_int_equal(t.ask_qty, 12);
    int64_t ahead;
    brs__engine_queue_position(f->e, 12, &ahead);
    assert_int_equal(ahead, 5);
    assert_int_equal(brs__engine_reduce(f->e, 11, 2), BRS_OK);
    brs__engine_queue_position(f->e, 12, &ahead);
    assert_int_equal(ahead, 3);
    assert_int_equal(brs__engine_reduce(f->e, 11, 3), BRS_OK); /* all of it: gone */
    assert_int_equal(leaves_of(f, 11), -1);
    assert_int_equal(brs__engine_delete(f->e, 12), BRS_OK);
    assert_int_equal(brs__engine_delete(f->e, 12), BRS_E_UNKNOWNORDER);
    brs__engine_top(f->e, 2, &t);
    assert_int_equal(t.ask_qty, 0);
    assert_int_equal(t.bid_qty, 5);
    assert_int_equal(brs__engine_insert(f->e, 2, 10, BRS_BUY, 101, 5), BRS_E_EXISTS);
}


/* A restored order rests as described (no events but levels, no matching),
 * behind what is there already; a later replace counts its earlier fills, a
 * later end of day sees its DAY tif, and it trades like any resting order. */
static void test_restore(void **state)
{
    fx *f = *state;
    rec_clear(&f->r);
    brs_order a = lim(20, BRS_BUY, 100, 10);
    a.account = 3;
    assert_int_equal(brs__engine_restore(f->e, &a, 4, 6), BRS_OK); /* 6 filled, 4 open */
    brs_order b = lim(21, BRS_BUY, 100, 5);
    b.tif = BRS_DAY;
    assert_int_equal(brs__engine_restore(f->e, &b, 5, 0), BRS_OK);
    assert_int_equal(rec_count(&f->r, EV_ACCEPTED), 0);
    assert_int_equal(rec_count(&f->r, EV_FILL), 0);
    brs_order_info oi;
    assert_int_equal(brs__engine_order(f->e, 20, &oi), BRS_OK);
    assert_int_equal(oi.qty, 10);
    assert_int_equal(oi.leaves, 4);
    assert_int_equal(oi.cum_qty, 6);
    brs_queue_entry q[4];
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_BUY, 100, q, 4), 2);
    assert_int_equal(q[0].id, 20);
    assert_int_equal(q[1].id, 21);
    /* bad descriptions change nothing */
    brs_order m = lim(22, BRS_BUY, 100, 5);
    m.type = BRS_MARKET;
    assert_int_equal(brs__engine_restore(f->e, &m, 5, 0), BRS_E_INVAL);
    m = lim(22, BRS_BUY, 100, 5);
    assert_int_equal(brs__engine_restore(f->e, &m, 4, 2), BRS_E_INVAL); /* 4 + 2 > 5 */
    assert_int_equal(brs__engine_restore(f->e, &m, 0, 0), BRS_E_INVAL);
    assert_int_equal(brs__engine_restore(f->e, &a, 4, 6), BRS_E_EXISTS);
    /* OrderQty 12 with 6 filled: 6 open, smaller total than before plus a
     * larger open quantity loses the place */
    rec_clear(&f->r);
    assert_int_equal(brs__engine_replace(f->e, 20, 100, 12), BRS_OK);
    assert_int_equal(leaves_of(f, 20), 6);
    assert_int_equal(brs__engine_level_queue(f->e, 0, BRS_BUY, 100, q, 4), 2);
    assert_int_equal(q[0].id, 21);
    /* it trades: a sell of 8 takes 21 (5) then 20 (3) */
    assert_int_equal(submit(f, lim(30, BRS_SELL, 100, 8)), BRS_OK);
    expect_fill(f, 0, 21, 30, 100, 5, 0, 3);
    expect_fill(f, 1, 20, 30, 100, 3, 3, 0);
    /* the DAY one is gone already; GTC 20 survives the end of day */
    rec_clear(&f->r);
    brs__engine_end_of_day(f->e, BRS_BOOK_NO_INSTRUMENT);
    assert_int_equal(rec_count(&f->r, EV_CANCELLED), 0);
    assert_int_equal(leaves_of(f, 20), 3);
}

static void test_config_and_queries(void **state)
{
    fx *f = *state;
    brs_engine *e2 = NULL;
    brs_error err;
    brs_engine_config bad = {.window_ticks = 100};
    assert_int_equal(brs__engine_create(&e2, &bad, NULL, &err), BRS_E_INVAL);
    assert_null(e2);
    assert_non_null(strstr(err.msg, "window_ticks"));
    /* NULL listener: events are dropped, the engine still works. */
    assert_int_equal(brs__engine_create(&e2, NULL, NULL, &err), BRS_OK);
    brs_order o = lim(1, BRS_BUY, 5, 3);
    assert_int_equal(brs__engine_submit(e2, &o), BRS_OK);
    assert_int_equal(brs__engine_live_orders(e2), 1);
    assert_int_equal(brs__engine_bytes_per_order(e2), 88); /* record 64, hash 16, direct slots 8 */
    brs__engine_destroy(e2);

    assert_int_equal(brs__engine_reserve(f->e, 1, 5000), BRS_OK);
    assert_int_equal(brs__engine_reserve(f->e, 9, 5000), BRS_E_RANGE);
    for (int i = 0; i < 5; i++) {
        brs_order d = lim((uint64_t)(10 + i), BRS_SELL, 5000 + i, 1 + i);
        d.instrument = 1;
        d.tif = BRS_DAY;
        assert_int_equal(submit(f, d), BRS_OK);
    }
    brs_level lv[3];
    assert_int_equal(brs__engine_depth(f->e, 1, BRS_SELL, lv, 3), 3);
    assert_int_equal(lv[2].price, 5002);
    assert_int_equal(lv[2].qty, 3);
    assert_int_equal(brs__engine_depth(f->e, 1, 7, lv, 3), 0);
    brs_order_info oi;
    assert_int_equal(brs__engine_order(f->e, 12, &oi), BRS_OK);
    assert_int_equal(oi.instrument, 1);
    assert_int_equal(oi.side, BRS_SELL);
    assert_int_equal(oi.tif, BRS_DAY);
    assert_int_equal(oi.qty, 3);
    brs__engine_set_time(f->e, 123456789);
    submit(f, lim(20, BRS_BUY, 4000, 1));
    assert_int_equal(ev(f, EV_TOP, 0)->price, 4000);
    brs_top t;
    brs__engine_top(f->e, 0, &t);
    assert_int_equal(t.ts, 123456789);
    assert_int_equal(brs__engine_top(f->e, 99, &t), BRS_E_RANGE);
}

/* Cancels look ids up past the highest id entered since the reset without
 * probing the table (idhash.h): ids entered out of order, by the passive
 * calls, and after a reset must all still be found, and ids above them not. */
static void test_cancel_ids_out_of_order(void **state)
{
    fx *f = *state;
    assert_int_equal(submit(f, lim(1000, BRS_BUY, 100, 5)), BRS_OK);
    assert_int_equal(submit(f, lim(7, BRS_BUY, 99, 5)), BRS_OK);
    assert_int_equal(brs__engine_insert(f->e, 0, 5000, BRS_SELL, 110, 3), BRS_OK);
    rec_clear(&f->r);
    assert_int_equal(brs__engine_cancel(f->e, 5001), BRS_E_UNKNOWNORDER);
    assert_int_equal(ev(f, EV_REJECTED, 0)->id, 5001);
    assert_int_equal(brs__engine_cancel(f->e, UINT64_MAX), BRS_E_UNKNOWNORDER);
    assert_int_equal(brs__engine_cancel(f->e, 7), BRS_OK);
    assert_int_equal(brs__engine_cancel(f->e, 5000), BRS_OK);
    assert_int_equal(brs__engine_cancel(f->e, 1000), BRS_OK);
    assert_int_equal(brs__engine_cancel(f->e, 1000), BRS_E_UNKNOWNORDER);
    assert_int_equal(submit(f, lim(UINT64_MAX, BRS_SELL, 120, 1)), BRS_OK);
    brs__engine_reset(f->e);
    assert_int_equal(brs__engine_cancel(f->e, UINT64_MAX), BRS_E_UNKNOWNORDER);
    assert_int_equal(submit(f, lim(3, BRS_SELL, 120, 1)), BRS_OK);
    assert_int_equal(submit(f, lim(2, BRS_SELL, 121, 1)), BRS_OK);
    assert_int_equal(brs__engine_cancel(f->e, 4), BRS_E_UNKNOWNORDER);
    assert_int_equal(brs__engine_cancel(f->e, 2), BRS_OK);
    assert_int_equal(brs__engine_cancel(f->e, 3), BRS_OK);
    assert_int_equal(brs__engine_live_orders(f->e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_limit_match_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_market, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_total_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_and_end_of_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stp_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stp_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stp_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_move_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioc_sweep_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_limit_and_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_sparse_prices, setup, teardown),
        cmocka_unit_test(test_far_first_orders_default_window),
        cmocka_unit_test_setup_teardown(test_passive_l3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_and_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_ids_out_of_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
