/* test_view.c: the market view (host/book/view.h) against the matching
 * engine's passive calls, its reference: the same random L3 flow (inserts,
 * full and partial cancels, executions, modifies, refused input: bad sides,
 * prices and quantities, live and unknown ids, a full book) goes to both, and
 * every return code, the top, both sides' depth (price, quantity, order
 * count) and the live count must match after each event; the view's change
 * count must move exactly when the top changed. Prices wander past the
 * level window and jump far away, so window moves and far levels are hit;
 * ids collide in the low bits the view hashes first. The view keys its
 * levels by tick: flows run with ticks of 1, 3, 100, 64, 25, 10^6, 2^20 and
 * past it (keyed by unit) and negative prices, on the tick, and with prices off it from the start or
 * only after levels are live (the view then rekeys the instrument). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book/book.h"
#include "book/view.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

#define NI 3       /* instruments */
#define MAXO 700   /* orders at once: inserts past it are refused (BRS_E_LIMIT) */
#define DEPTH 40

typedef struct pair {
    brs_engine *e;
    brs__view *v;
    brs_top top[NI]; /* the top after the last event */
    uint64_t gen[NI];
} pair;

/* exact_count: one call was made, so the change count moves exactly when the
 * top did (a modify, two calls, may move it for a change undone). */
static void same_state(pair *p, uint64_t step, int exact_count)
{
    const uint64_t *gen = brs__view_gen(p->v);
    assert_int_equal(brs__engine_live_orders(p->e), brs__view_live(p->v));
    for (uint32_t in = 0; in < NI; in++) {
        brs_top a, b;
        assert_int_equal(brs__engine_top(p->e, in, &a), BRS_OK);
        assert_int_equal(brs__view_top(p->v, in, &b), BRS_OK);
        if (a.bid_price != b.bid_price || a.bid_qty != b.bid_qty || a.ask_price != b.ask_price ||
            a.ask_qty != b.ask_qty || b.instrument != in)
            fail_msg("step %llu, instrument %u: top %lld x %lld / %lld x %lld (engine) vs %lld x %lld / "
                     "%lld x %lld (view)",
                     (unsigned long long)step, in, (long long)a.bid_qty, (long long)a.bid_price,
                     (long long)a.ask_price, (long long)a.ask_qty, (long long)b.bid_qty,
                     (long long)b.bid_price, (long long)b.ask_price, (long long)b.ask_qty);
        const brs_top *t = &p->top[in];
        int moved = t->bid_price != b.bid_price || t->bid_qty != b.bid_qty ||
                    t->ask_price != b.ask_price || t->ask_qty != b.ask_qty;
        /* brs__view_top_update: the same top into a copy of the last, and
         * whether it differed */
        brs_top u = *t;
        assert_int_equal(brs__view_top_update(p->v, in, &u), moved);
        if (u.bid_price != b.bid_price || u.bid_qty != b.bid_qty || u.ask_price != b.ask_price ||
            u.ask_qty != b.ask_qty || u.instrument != t->instrument || u.ts != t->ts)
            fail_msg("step %llu, instrument %u: brs__view_top_update gave another top", (unsigned long long)step, in);
        if (moved ? gen[in] == p->gen[in] : exact_count && gen[in] != p->gen[in])
            fail_msg("step %llu, instrument %u: top %s but the change count %s", (unsigned long long)step,
                     in, moved ? "moved" : "stayed", gen[in] != p->gen[in] ? "moved" : "stayed");
        p->top[in] = b;
        p->gen[in] = gen[in];
        for (int sd = 0; sd < 2; sd++) {
            brs_level la[DEPTH], lb[DEPTH];
            size_t na = brs__engine_depth(p->e, in, sd, la, DEPTH);
            size_t nb = brs__view_depth(p->v, in, sd, lb, DEPTH);
            assert_int_equal(na, nb);
            for (size_t k = 0; k < na; k++)
                if (la[k].price != lb[k].price || la[k].qty != lb[k].qty || la[k].orders != lb[k].orders)
                    fail_msg("step %llu, instrument %u side %d level %zu: %lld x %lld (%u orders) vs %lld x "
                             "%lld (%u)",
                             (unsigned long long)step, in, sd, k, (long long)la[k].price, (long long)la[k].qty,
                             la[k].orders, (long long)lb[k].price, (long long)lb[k].qty, lb[k].orders);
        }
    }
}

/* An id: dense ones, and ones sharing the low bits the view's hash blocks use. */
static uint64_t some_id(void)
{
    uint64_t k = rnd() % 1200;
    return rnd() % 4 ? k : (k << 32) | (k & 15);
}

/* A price in units; *mid is in ticks. off: one price in 100 is off the tick
 * (when the tick is above 1). */
static int64_t some_price(int64_t *mid, int64_t tick, int off)
{
    uint64_t r = rnd() % 1000;
    if (r < 3) /* the walk jumps: the window follows or far levels hold it */
        *mid += (int64_t)(rnd() % 20001) - 10000;
    else if (r < 40)
        *mid += (int64_t)(rnd() % 41) - 20;
    int64_t k;
    if (r == 999) { /* near PMAX: the last ticks inside it, the first outside */
        int64_t edge = (INT64_C(1) << 62) / tick;
        k = edge + (int64_t)(rnd() % 5) - 3;
        k = rnd() % 2 ? k : -k;
    } else if (r == 998) {
        k = *mid + (int64_t)(rnd() % 2000000) - 1000000; /* far away */
    } else {
        k = *mid + (int64_t)(rnd() % 400) - 200;
    }
    int64_t p = k * tick;
    if (off && tick > 1 && rnd() % 100 == 0)
        p += 1 + (int64_t)(rnd() % (uint64_t)(tick - 1)); /* may pass PMAX: refused */
    return p;
}

static int64_t some_qty(void)
{
    uint64_t r = rnd() % 500;
    if (r == 0)
        return -(int64_t)(rnd() % 3); /* refused: 0 or negative */
    if (r == 1)
        return (INT64_C(1) << 62) - (int64_t)(rnd() % 2); /* at and just under PMAX */
    if (r == 2)
        return INT64_MAX / 3; /* a level of a few of these passes INT64_MAX: BRS_E_RANGE */
    return 1 + (int64_t)(rnd() % 300);
}

/* A flow's instruments: view_instr of them for the view (the flow uses NI):
 * more than 64 gives it the narrow level window (view.c). tick[i]: the tick
 * size the view is told (0: created without instruments, a tick of 1);
 * off_from[i]: the step from which prices off that tick come (-1: never);
 * mid0[i]: where the walk starts, in ticks. */
typedef struct flow {
    uint32_t view_instr;
    int64_t tick[NI];
    int64_t off_from[NI];
    int64_t mid0[NI];
} flow;

static void run(uint64_t seed, uint64_t steps, const flow *f)
{
    rng = seed;
    pair p = {0};
    brs_error err = {0};
    brs_engine_config ec = {.max_orders = MAXO, .max_instruments = NI};
    assert_int_equal(brs__engine_create(&p.e, &ec, NULL, &err), BRS_OK);
    uint32_t view_instr = f->view_instr;
    brs_instrument *instr = calloc(view_instr, sizeof *instr);
    assert_non_null(instr);
    int64_t tick[NI], mid[NI];
    for (uint32_t i = 0; i < view_instr; i++)
        instr[i].tick_size = i < NI && f->tick[i] ? f->tick[i] : 1;
    for (int i = 0; i < NI; i++) {
        tick[i] = f->tick[i] ? f->tick[i] : 1;
        mid[i] = f->mid0[i];
    }
    assert_int_equal(brs__view_create(&p.v, view_instr, f->tick[0] ? instr : NULL, MAXO, &err), BRS_OK);
    for (uint64_t step = 0; step < steps; step++) {
        uint32_t in = (uint32_t)(rnd() % NI);
        uint64_t id = some_id();
        uint64_t op = rnd() % 100;
        int rca = 0, rcb;
        if (op < 45) {
            int side = rnd() % 60 ? (int)(rnd() % 2) : 2 + (int)(rnd() % 3); /* some bad sides */
            uint32_t ins = rnd() % 200 ? in : view_instr + (uint32_t)(rnd() % 2); /* some bad instruments */
            int off = f->off_from[in] >= 0 && (int64_t)step >= f->off_from[in];
            int64_t price = some_price(&mid[in], tick[in], off), qty = some_qty();
            rca = brs__engine_insert(p.e, ins, id, side, price, qty);
            rcb = brs__view_insert(p.v, ins, id, side, price, qty);
        } else if (op < 75) {
            rca = brs__engine_delete(p.e, id);
            rcb = brs__view_delete(p.v, id);
        } else if (op < 95) {
            int64_t q = rnd() % 50 ? 1 + (int64_t)(rnd() % 200) : -(int64_t)(rnd() % 2);
            rca = brs__engine_reduce(p.e, id, q);
            rcb = brs__view_reduce(p.v, id, q);
        } else { /* MODIFY through brs__view_apply, the engine's two calls as the runtime made them */
            brs_market_event ev = {.kind = BRS_MEV_MODIFY, .instrument = in, .side = (uint8_t)(rnd() % 2),
                                   .price = some_price(&mid[in], tick[in],
                                                       f->off_from[in] >= 0 && (int64_t)step >= f->off_from[in]),
                                   .qty = some_qty(), .order_id = id,
                                   .aux = rnd() % 2 ? (int64_t)some_id() : 0};
            brs__engine_delete(p.e, id);
            brs__engine_insert(p.e, in, ev.aux ? (uint64_t)ev.aux : id, ev.side, ev.price, ev.qty);
            rcb = brs__view_apply(p.v, &ev);
            assert_int_equal(rcb, 1);
            same_state(&p, step, 0);
            continue;
        }
        if (rca != rcb)
            fail_msg("step %llu: rc %d (engine) vs %d (view)", (unsigned long long)step, rca, rcb);
        same_state(&p, step, 1);
    }
    brs__engine_destroy(p.e);
    brs__view_destroy(p.v);
    free(instr);
}

/* Prices in units around 100000 (a tick of 1, no instruments given). */
static void run_flow(uint64_t seed, uint64_t steps, uint32_t view_instr)
{
    flow f = {.view_instr = view_instr, .off_from = {-1, -1, -1}, .mid0 = {100000, 105000, 110000}};
    run(seed, steps, &f);
}

static void test_view_flows(void **state)
{
    (void)state;
    run_flow(0x2545F4914F6CDD1Dull, 25000, NI);
    run_flow(12345, 25000, NI);
    run_flow(987654321, 25000, NI);
    /* a view of many instruments: the narrow window (1024 levels, not 4096) */
    run_flow(0x2545F4914F6CDD1Dull, 25000, 100);
    run_flow(55555, 25000, 100);
}

/* Levels keyed by tick: ticks with and without odd parts, ticks at and past
 * the largest keyed by tick (view.c),
 * prices on the tick throughout (instrument 1), off it from the start
 * (instrument 2: rekeyed before its first levels) or only from the middle
 * of the flow (instrument 0: rekeyed with levels in the window and far),
 * walks around 0 for negative prices. */
static void test_view_ticks(void **state)
{
    (void)state;
    static const flow flows[] = {
        {NI, {100, 100, 100}, {8000, -1, 0}, {1000, 1050, 1100}},
        {NI, {64, 25, 3}, {12000, -1, 0}, {2000, 0, 4000}},
        {NI, {INT64_C(1) << 40, 7, 1}, {10000, -1, -1}, {100000, 1000, 0}}, /* 2^40: keyed by unit */
        {NI, {100, 12, INT64_C(1) << 20}, {-1, 3000, 20000}, {0, 100, 200}}, /* 2^20: the largest tick keyed */
        {NI, {1000000, 3, (INT64_C(1) << 20) + 1}, {-1, -1, 15000}, {-300, -5, 40}},
        {100, {100, 100, 100}, {6000, -1, 0}, {1000, 1050, 1100}}, /* the narrow window */
    };
    static const uint64_t seeds[] = {0x2545F4914F6CDD1Dull, 777, 31337};
    for (size_t k = 0; k < sizeof flows / sizeof *flows; k++)
        for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++)
            run(seeds[s] + k, 20000, &flows[k]);
}

/* The L3 kinds through brs__view_apply; anything else is not L3 and changes nothing. */
static void test_view_apply(void **state)
{
    (void)state;
    brs__view *v;
    brs_error err = {0};
    assert_int_equal(brs__view_create(&v, 1, NULL, 0, &err), BRS_OK);
    brs_market_event add = {.kind = BRS_MEV_ADD, .side = BRS_BUY, .price = 100, .qty = 10, .order_id = 7};
    assert_int_equal(brs__view_apply(v, &add), 1);
    add.order_id = 8, add.qty = 5;
    assert_int_equal(brs__view_apply(v, &add), 1);
    brs_top t;
    brs__view_top(v, 0, &t);
    assert_int_equal(t.bid_price, 100);
    assert_int_equal(t.bid_qty, 15);
    assert_int_equal(t.ask_qty, 0);
    brs_market_event ex = {.kind = BRS_MEV_EXECUTE, .order_id = 7, .qty = 4};
    assert_int_equal(brs__view_apply(v, &ex), 1);
    brs_market_event cx = {.kind = BRS_MEV_CANCEL, .order_id = 8, .qty = 1};
    assert_int_equal(brs__view_apply(v, &cx), 1);
    brs__view_top(v, 0, &t);
    assert_int_equal(t.bid_qty, 10);
    cx.flags = BRS_MEVF_FULL;
    assert_int_equal(brs__view_apply(v, &cx), 1);
    brs_market_event mod = {.kind = BRS_MEV_MODIFY, .side = BRS_SELL, .price = 101, .qty = 3, .order_id = 7,
                            .aux = 9};
    assert_int_equal(brs__view_apply(v, &mod), 1);
    brs__view_top(v, 0, &t);
    assert_int_equal(t.bid_qty, 0);
    assert_int_equal(t.ask_price, 101);
    /* no such instrument: refused, the copy untouched */
    brs_top u = t;
    assert_int_equal(brs__view_top_update(v, 1, &u), BRS_E_RANGE);
    assert_memory_equal(&u, &t, sizeof t);
    assert_int_equal(brs__view_top_update(v, 0, &u), 0);
    assert_int_equal(t.ask_qty, 3);
    assert_int_equal(brs__view_live(v), 1);
    uint64_t g = brs__view_gen(v)[0];
    brs_market_event tr = {.kind = BRS_MEV_TRADE, .price = 101, .qty = 3};
    assert_int_equal(brs__view_apply(v, &tr), 0);
    assert_int_equal(brs__view_gen(v)[0], g);
    assert_int_equal(brs__view_live(v), 1);
    brs__view_destroy(v);
}

/* A view told a tick of 100: its first order off the tick (no levels yet to
 * rekey), and a second instrument rekeyed with levels in and out of its
 * window; tops and depth in price units throughout. */
static void test_view_off_tick(void **state)
{
    (void)state;
    brs__view *v;
    brs_error err = {0};
    brs_instrument in[2] = {{.tick_size = 100}, {.tick_size = 100}};
    assert_int_equal(brs__view_create(&v, 2, in, 0, &err), BRS_OK);
    assert_int_equal(brs__view_insert(v, 0, 1, BRS_BUY, 10050, 5), BRS_OK);
    assert_int_equal(brs__view_insert(v, 0, 2, BRS_BUY, 10100, 7), BRS_OK);
    assert_int_equal(brs__view_insert(v, 0, 3, BRS_SELL, 10101, 2), BRS_OK);
    brs_top t;
    brs__view_top(v, 0, &t);
    assert_true(t.bid_price == 10100 && t.bid_qty == 7 && t.ask_price == 10101 && t.ask_qty == 2);
    /* instrument 1: on the tick, one level 10^6 ticks away (a far level) */
    assert_int_equal(brs__view_insert(v, 1, 10, BRS_SELL, 20000, 1), BRS_OK);
    assert_int_equal(brs__view_insert(v, 1, 11, BRS_SELL, 20100, 2), BRS_OK);
    assert_int_equal(brs__view_insert(v, 1, 12, BRS_SELL, 100020000, 3), BRS_OK);
    assert_int_equal(brs__view_insert(v, 1, 13, BRS_BUY, 19900, 4), BRS_OK);
    uint64_t g = brs__view_gen(v)[1];
    assert_int_equal(brs__view_insert(v, 1, 14, BRS_SELL, 20050, 8), BRS_OK); /* off the tick: rekeyed */
    assert_int_equal(brs__view_gen(v)[1], g);
    assert_int_equal(brs__view_insert(v, 1, 15, BRS_SELL, 19999, 9), BRS_OK);
    assert_int_equal(brs__view_gen(v)[1], g + 1);
    brs_level lv[8];
    assert_int_equal(brs__view_depth(v, 1, BRS_SELL, lv, 8), 5);
    static const int64_t px[5] = {19999, 20000, 20050, 20100, 100020000}, qy[5] = {9, 1, 8, 2, 3};
    for (int k = 0; k < 5; k++)
        assert_true(lv[k].price == px[k] && lv[k].qty == qy[k] && lv[k].orders == 1);
    assert_int_equal(brs__view_delete(v, 12), BRS_OK); /* the far level, by its order */
    assert_int_equal(brs__view_reduce(v, 15, 4), BRS_OK);
    assert_int_equal(brs__view_depth(v, 1, BRS_SELL, lv, 8), 4);
    assert_true(lv[0].price == 19999 && lv[0].qty == 5 && lv[3].price == 20100);
    brs__view_top(v, 1, &t);
    assert_true(t.bid_price == 19900 && t.bid_qty == 4 && t.ask_price == 19999 && t.ask_qty == 5);
    assert_int_equal(brs__view_live(v), 8);
    brs__view_destroy(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_apply),
        cmocka_unit_test(test_view_flows),
        cmocka_unit_test(test_view_ticks),
        cmocka_unit_test(test_view_off_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
