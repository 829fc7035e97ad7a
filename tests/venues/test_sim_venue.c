/* test_sim_venue.c: the simulated exchange plugin (plugins/venues/sim), loaded
 * through the plugin loader with a test host-services table: fills and exact
 * fees, queue position with L3 and L2 data (our order waits behind what was at
 * its level and advances only as that trades or cancels), lot/tick/min checks,
 * rate limit, seeded rejects, down at T for D with cancel-on-disconnect, lost
 * acknowledgements, price offset and liquidity scale; the L2 queue models
 * (risk_averse, prob, optimistic) by hand and as ordered bounds on random data. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../support/kv_params.h"

#include "plugin/loader.h"

#define MAXEV 256

struct brs_ctx {
    int64_t now;
    const kv *params;
    brs_order_event oev[MAXEV];
    int n_oev;
    brs_market_event mev[MAXEV];
    int n_mev;
};

static int64_t h_now(brs_ctx *c) { return c->now; }
static void h_log(brs_ctx *c, int l, const char *m) { (void)c; (void)l; (void)m; }
/* The venues here hold a few orders: a 16k-order engine instead of the
 * default 1M keeps each open cheap (under ASan every open and close maps and
 * poisons the whole pool: 24 cases took 100-120 s, near the CTest limit). */
static int h_int(brs_ctx *c, const char *n, int64_t *o)
{
    int rc = kv_int(c->params, n, o);
    if (rc == BRS_E_NOTFOUND && !strcmp(n, "max_orders")) {
        *o = 16384;
        return BRS_OK;
    }
    return rc;
}
static int h_dbl(brs_ctx *c, const char *n, double *o) { return kv_double(c->params, n, o); }
static int h_str(brs_ctx *c, const char *n, const char **o) { return kv_string(c->params, n, o); }
static uint32_t h_count(brs_ctx *c) { (void)c; return 2; }
static int h_inst(brs_ctx *c, uint32_t id, brs_instrument *o)
{
    (void)c;
    if (id)
        return BRS_E_NOTFOUND;
    memset(o, 0, sizeof *o);
    snprintf(o->symbol, sizeof o->symbol, "TEST");
    o->price_scale = 100;
    o->tick_size = 1;
    o->lot_size = 1;
    return BRS_OK;
}
static int h_find(brs_ctx *c, const char *s, uint32_t *id) { (void)c; (void)s; *id = 0; return BRS_OK; }
static int h_emit_order(brs_ctx *c, const brs_order_event *e)
{
    assert_true(c->n_oev < MAXEV);
    c->oev[c->n_oev++] = *e;
    return BRS_OK;
}
static int h_emit_market(brs_ctx *c, const brs_market_event *e)
{
    assert_true(c->n_mev < MAXEV);
    c->mev[c->n_mev++] = *e;
    return BRS_OK;
}

static const brs_host test_host = {
    .size = sizeof(brs_host), .abi_major = BRS_ABI_MAJOR, .abi_minor = BRS_ABI_MINOR,
    .xNow = h_now, .xLog = h_log, .xParamInt = h_int, .xParamDouble = h_dbl,
    .xParamString = h_str, .xInstrumentCount = h_count, .xInstrument = h_inst,
    .xInstrumentFind = h_find, .xEmitOrderEvent = h_emit_order, .xEmitMarketEvent = h_emit_market,
};

typedef struct fx {
    brs_plugin p;
    brs_plugin_instance inst;
    const brs_venue_vtable *vt;
    brs_ctx ctx;
} fx;

static fx *open_sim(const kv *params)
{
    fx *f = calloc(1, sizeof *f);
    brs_error err = {0};
    int rc = brs__plugin_load(&f->p, BOURSE_PLUGIN_BUILD_DIR "/sim.so", &err);
    if (rc)
        fail_msg("load: %s", err.msg);
    f->vt = brs__plugin_venue(&f->p);
    assert_non_null(f->vt);
    f->ctx.params = params;
    f->ctx.now = 1000;
    rc = brs__plugin_instance_open(&f->inst, &f->p, &test_host, &f->ctx, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    return f;
}

static void close_sim(fx *f)
{
    brs__plugin_instance_close(&f->inst);
    brs__plugin_unload(&f->p);
    free(f);
}

static void market(fx *f, int kind, int side, int64_t price, int64_t qty, uint64_t oid, uint16_t flags)
{
    brs_market_event ev = {0};
    ev.ts_exchange = ev.ts_local = f->ctx.now;
    ev.kind = (uint8_t)kind;
    ev.side = (uint8_t)side;
    ev.flags = flags;
    ev.price = price;
    ev.qty = qty;
    ev.order_id = oid;
    assert_int_equal(f->vt->xOnMarket(f->inst.self, &ev), 0);
}

/* Time moves on: a print after this is not one the last update already held. */
static void later(fx *f)
{
    f->ctx.now += 1000;
}

static int submit(fx *f, uint64_t id, int side, int64_t price, int64_t qty, int tif)
{
    brs_order o = {.id = id, .price = price, .qty = qty, .side = (uint8_t)side,
                   .type = BRS_LIMIT, .tif = (uint8_t)tif};
    return f->vt->xSubmit(f->inst.self, &o);
}

/* Sum of fill qty for an order id among emitted events, and how many fills. */
static int64_t filled(const fx *f, uint64_t id, int *n)
{
    int64_t q = 0;
    int k = 0;
    for (int i = 0; i < f->ctx.n_oev; i++)
        if (f->ctx.oev[i].kind == BRS_OEV_FILL && f->ctx.oev[i].order_id == id)
            q += f->ctx.oev[i].qty, k++;
    if (n)
        *n = k;
    return q;
}

static const brs_order_event *last_of(const fx *f, int kind)
{
    for (int i = f->ctx.n_oev; i-- > 0;)
        if (f->ctx.oev[i].kind == kind)
            return &f->ctx.oev[i];
    return NULL;
}

static void test_take_with_fees(void **st)
{
    (void)st;
    static const kv params[] = {{"maker_fee_bps", 1, 0, -1.0}, {"taker_fee_bps", 1, 0, 5.0}, {0}};
    fx *f = open_sim(params);
    market(f, BRS_MEV_ADD, BRS_SELL, 10000, 3, 1, 0);
    market(f, BRS_MEV_ADD, BRS_SELL, 10002, 5, 2, 0);
    assert_int_equal(submit(f, 7, BRS_BUY, 10002, 6, BRS_IOC), 0);
    int n;
    assert_int_equal(filled(f, 7, &n), 6);
    assert_int_equal(n, 2);
    const brs_order_event *e = last_of(f, BRS_OEV_FILL);
    assert_int_equal(e->price, 10002);
    assert_int_equal(e->qty, 3);
    assert_int_equal(e->cum_qty, 6);
    assert_int_equal(e->liquidity, BRS_LIQ_TAKER);
    assert_int_equal(e->fee, 15); /* 10002 x 3 x 5e-4 = 15.003 -> 15 */
    /* the first fill: 10000 x 3 x 5e-4 = 15 exactly */
    for (int i = 0; i < f->ctx.n_oev; i++)
        if (f->ctx.oev[i].kind == BRS_OEV_FILL) {
            assert_int_equal(f->ctx.oev[i].fee, 15);
            break;
        }
    /* maker: we rest, an exchange aggressor (L3 execution replay) hits us: rebate */
    market(f, BRS_MEV_EXECUTE, BRS_SELL, 10002, 2, 2, 0); /* the ask left at 10002 goes */
    assert_int_equal(submit(f, 8, BRS_SELL, 10010, 100, BRS_GTC), 0);
    market(f, BRS_MEV_ADD, BRS_SELL, 10010, 50, 3, 0); /* behind us */
    market(f, BRS_MEV_EXECUTE, BRS_SELL, 10010, 40, 3, 0);
    assert_int_equal(filled(f, 8, NULL), 40);
    e = last_of(f, BRS_OEV_FILL);
    assert_int_equal(e->liquidity, BRS_LIQ_MAKER);
    assert_int_equal(e->fee, -40); /* 10010 x 40 x -1e-4 = -40.04 -> -40 */
    close_sim(f);
}

static void test_queue_l3(void **st)
{
    (void)st;
    fx *f = open_sim(NULL);
    market(f, BRS_MEV_ADD, BRS_BUY, 100, 5, 1, 0);
    market(f, BRS_MEV_ADD, BRS_BUY, 100, 4, 2, 0);
    assert_int_equal(submit(f, 9, BRS_BUY, 100, 3, BRS_GTC), 0); /* behind 9 */
    market(f, BRS_MEV_ADD, BRS_BUY, 100, 6, 3, 0);              /* behind us */
    market(f, BRS_MEV_EXECUTE, BRS_BUY, 100, 5, 1, 0);          /* order 1 trades */
    assert_int_equal(filled(f, 9, NULL), 0);
    market(f, BRS_MEV_CANCEL, BRS_BUY, 100, 3, 2, 0); /* part of order 2 leaves */
    assert_int_equal(filled(f, 9, NULL), 0);
    market(f, BRS_MEV_EXECUTE, BRS_BUY, 100, 1, 2, 0); /* the last lot ahead of us */
    assert_int_equal(filled(f, 9, NULL), 0);
    /* the data says order 3 (behind us) trades 2: the aggressor meets us first */
    market(f, BRS_MEV_EXECUTE, BRS_BUY, 100, 2, 3, 0);
    assert_int_equal(filled(f, 9, NULL), 2);
    market(f, BRS_MEV_EXECUTE, BRS_BUY, 100, 4, 3, 0);
    assert_int_equal(filled(f, 9, NULL), 3);
    brs_level lv[4];
    uint32_t n;
    assert_int_equal(f->vt->xDepth(f->inst.self, 0, BRS_BUY, lv, 4, &n), 0);
    /* order 3 lost what the data says it traded even when we traded instead */
    assert_int_equal(n, 0);
    close_sim(f);
}

/* The risk_averse model: the old rule, kept for users who want the worst case:
 * cancels come off the back of the queue. */
static void test_queue_l2(void **st)
{
    (void)st;
    static const kv ra[] = {{"queue_model=risk_averse", KV_STRING, 0, 0}, {0}};
    fx *f = open_sim(ra);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 10, 0, 0);
    assert_int_equal(submit(f, 5, BRS_BUY, 100, 2, BRS_GTC), 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 14, 0, 0); /* growth joins behind us */
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 11, 0, 0); /* shrink: cancels at the back */
    later(f);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 10, 77, 0);  /* a print eats the 10 in front */
    assert_int_equal(filled(f, 5, NULL), 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 1, 0, 0);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 1, 78, 0); /* next print: ours */
    assert_int_equal(filled(f, 5, NULL), 1);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 3, 79, 0);
    assert_int_equal(filled(f, 5, NULL), 2);
    close_sim(f);
}

/* A small deterministic generator for the random L2 data below. */
static uint64_t xs(uint64_t *r)
{
    *r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
    return *r;
}

static const kv prob2[] = {{"queue_model=prob", KV_STRING, 0, 0}, {"queue_power", 1, 0, 2.0}, {0}};
static const kv opt[] = {{"queue_model=optimistic", KV_STRING, 0, 0}, {0}};

/* Power model, n = 2, by hand. 100 lots at the bid, we join with 10, then 50
 * are cancelled. Nothing behind us: P(ahead) = 100^2 / (100^2 + 0) = 1, all
 * 50 were ahead, 50 remain in front. With 100 behind: P = 100^2 / (100^2 +
 * 100^2) = 1/2, 25 ahead, 75 remain in front. A trade of exactly that leaves
 * us unfilled, the next lots are ours. */
static void test_queue_prob_power(void **st)
{
    (void)st;
    for (int behind = 0; behind <= 100; behind += 100) {
        fx *f = open_sim(prob2);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100, 0, 0);
        assert_int_equal(submit(f, 5, BRS_BUY, 100, 10, BRS_GTC), 0);
        if (behind)
            market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 200, 0, 0);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 50 + behind, 0, 0); /* 50 cancelled */
        later(f);
        int64_t ahead = behind ? 75 : 50;
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, ahead, 1, 0);
        assert_int_equal(filled(f, 5, NULL), 0);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, 4, 2, 0);
        assert_int_equal(filled(f, 5, NULL), 4);
        close_sim(f);
    }
    /* n = 1 (proportional): 100 ahead, 300 behind, 40 cancelled: 40 x 1/4 = 10 ahead */
    static const kv prop[] = {{"queue_model=prob", KV_STRING, 0, 0}, {"queue_power", 1, 0, 1.0}, {0}};
    fx *f = open_sim(prop);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100, 0, 0);
    assert_int_equal(submit(f, 5, BRS_BUY, 100, 10, BRS_GTC), 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 400, 0, 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 360, 0, 0);
    later(f);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 89, 1, 0);
    assert_int_equal(filled(f, 5, NULL), 0);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 3, 2, 0);
    assert_int_equal(filled(f, 5, NULL), 2);
    close_sim(f);
}

/* Fractions are carried, not dropped: ten cancels of one lot with 30 ahead and
 * 70 behind (n = 1, P about 0.3 each) move us up 3 lots (worked through in
 * docs/backtesting.md: 0, 1, 0, 0, 1, 0, 0, 0, 1, 0); rounding each alone
 * would never move us. */
static void test_queue_prob_carry(void **st)
{
    (void)st;
    static const kv prop[] = {{"queue_model=prob", KV_STRING, 0, 0}, {"queue_power", 1, 0, 1.0}, {0}};
    fx *f = open_sim(prop);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 30, 0, 0);
    assert_int_equal(submit(f, 5, BRS_BUY, 100, 10, BRS_GTC), 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100, 0, 0);
    for (int i = 1; i <= 10; i++)
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100 - i, 0, 0);
    later(f);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 27, 1, 0);
    assert_int_equal(filled(f, 5, NULL), 0);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 1, 2, 0);
    assert_int_equal(filled(f, 5, NULL), 1);
    close_sim(f);
}

/* A print and then the level update that already contains it (same time): the
 * traded lots are not counted again as a cancel, under any model. 100 ahead, a
 * print of 30 eats 30 of them, the update says 70: still 70 ahead. */
static void test_trade_then_level(void **st)
{
    (void)st;
    const kv *models[] = {prob2, opt};
    for (int m = 0; m < 2; m++) {
        fx *f = open_sim(models[m]);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100, 0, 0);
        assert_int_equal(submit(f, 5, BRS_BUY, 100, 10, BRS_GTC), 0);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, 30, 1, 0);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 70, 0, 0);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, 70, 2, 0);
        assert_int_equal(filled(f, 5, NULL), 0);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, 5, 3, 0);
        assert_int_equal(filled(f, 5, NULL), 5);
        close_sim(f);
    }
}

/* Lots in front of order 5 (any model): one-lot prints, later in time, until
 * it fills; the number that did not fill it. */
static int64_t probe_front(fx *f)
{
    int64_t before = filled(f, 5, NULL);
    for (int64_t i = 0; i < 2000; i++) {
        later(f);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, 1, 900000 + (uint64_t)i, 0);
        f->ctx.n_mev = 0;
        if (filled(f, 5, NULL) > before)
            return i;
    }
    fail_msg("order 5 never filled");
    return -1;
}

/* F lots at the bid, our 10 behind them, B more behind us; then a print of t
 * and an update that shrinks the level by d (d >= the print's part in it), in
 * the order given, at one time: print first, or the update first (the print
 * then arrives after the update that already holds it). Returns the lots in
 * front of us after both, and what we got filled. */
static int64_t story_front(const kv *model, int64_t F, int64_t B, int64_t d, int64_t t,
                           int update_first, int64_t *got)
{
    fx *f = open_sim(model);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, F, 0, 0);
    assert_int_equal(submit(f, 5, BRS_BUY, 100, 10, BRS_GTC), 0);
    later(f);
    if (B)
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, F + B, 0, 0);
    later(f);
    if (!update_first)
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, t, 1, 0);
    market(f, F + B - d ? BRS_MEV_LEVEL_SET : BRS_MEV_LEVEL_DELETE, BRS_BUY, 100, F + B - d, 0, 0);
    if (update_first)
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, t, 1, 0);
    *got = filled(f, 5, NULL);
    int64_t front = *got < 10 ? probe_front(f) : -1;
    close_sim(f);
    return front;
}

/* A print that arrives after the level update that already holds it (Binance
 * futures: the depth stream often runs ahead of aggTrade) is not counted
 * twice: the queue comes out as if the print had come first. By hand, n = 2,
 * 100 in front, 100 behind, update 200 -> 170 then its print of 30: the update
 * alone was a cancel, 15 in front (P = 1/2); the print re-read as the trade it
 * was leaves 70 in front, as print-then-update does (not 55). Print 20 in a
 * shrink of 30: trade 20 (80 in front), cancel 10 split from 80 / 100: P =
 * 6400 / 16400, 3.9 -> 4: 76 in front. For risk_averse and optimistic the two
 * orders agree exactly on any data (checked on random ones). */
static void test_print_after_its_update(void **st)
{
    (void)st;
    static const kv ra[] = {{"queue_model=risk_averse", KV_STRING, 0, 0}, {0}};
    int64_t g1, g2;
    assert_int_equal(story_front(prob2, 100, 100, 30, 30, 1, &g1), 70);
    assert_int_equal(story_front(prob2, 100, 100, 30, 30, 0, &g2), 70);
    assert_int_equal(story_front(prob2, 100, 100, 30, 20, 1, &g1), 76);
    assert_int_equal(story_front(prob2, 100, 100, 30, 20, 0, &g2), 76);
    /* a print bigger than the shrink: 10 of it were in the update, 15 are new */
    assert_int_equal(story_front(prob2, 100, 100, 10, 25, 1, &g1), 75);
    assert_int_equal(story_front(prob2, 100, 100, 10, 25, 0, &g2), 75);
    /* a print that reaches us: 20 in front, 50 behind, print 25: 5 are ours */
    assert_int_equal(story_front(prob2, 20, 50, 25, 25, 1, &g1), 0);
    assert_int_equal(g1, 5);
    assert_int_equal(story_front(prob2, 20, 50, 25, 25, 0, &g2), 0);
    assert_int_equal(g2, 5);
    uint64_t r = 99;
    for (int i = 0; i < 200; i++) {
        int64_t F = 1 + (int64_t)(xs(&r) % 60), B = (int64_t)(xs(&r) % 60);
        int64_t t = 1 + (int64_t)(xs(&r) % (uint64_t)(F + B)), d = t + (int64_t)(xs(&r) % (uint64_t)(F + B - t + 1));
        const kv *m = i & 1 ? ra : opt;
        int64_t fa = story_front(m, F, B, d, t, 1, &g1), fb = story_front(m, F, B, d, t, 0, &g2);
        if (fa != fb || g1 != g2)
            fail_msg("%s F %lld B %lld shrink %lld print %lld: update first %lld in front (%lld "
                     "filled), print first %lld (%lld)", m[0].name, (long long)F, (long long)B,
                     (long long)d, (long long)t, (long long)fa, (long long)g1, (long long)fb,
                     (long long)g2);
    }
}

/* Two orders of ours at one level, exchange lots between them. Queue: 100,
 * order 1 (10), 50, order 2 (10), 50; then 100 are cancelled, n = 2.
 * Order 1: 100 ahead, 100 behind: P = 1/2, 50 ahead of it.
 * Order 2: 150 ahead, 50 behind: P = 150^2 / (150^2 + 50^2) = 0.9, 90 ahead of it.
 * So 50 go from the front stretch, 40 from the middle one, 10 from the back:
 * 50, order 1, 10, order 2, 40. risk_averse: 100, order 1, 0, order 2, 0. */
static void test_queue_two_orders(void **st)
{
    (void)st;
    static const kv ra[] = {{"queue_model=risk_averse", KV_STRING, 0, 0}, {0}};
    const kv *models[] = {prob2, ra};
    const int64_t front[] = {50, 100}, middle[] = {10, 0};
    for (int m = 0; m < 2; m++) {
        fx *f = open_sim(models[m]);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100, 0, 0);
        assert_int_equal(submit(f, 1, BRS_BUY, 100, 10, BRS_GTC), 0);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 150, 0, 0);
        assert_int_equal(submit(f, 2, BRS_BUY, 100, 10, BRS_GTC), 0);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 200, 0, 0);
        market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100, 0, 0);
        later(f);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, front[m], 1, 0);
        assert_int_equal(filled(f, 1, NULL), 0);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, 10 + middle[m], 2, 0);
        assert_int_equal(filled(f, 1, NULL), 10);
        assert_int_equal(filled(f, 2, NULL), 0);
        market(f, BRS_MEV_TRADE, BRS_SELL, 100, 3, 3, 0);
        assert_int_equal(filled(f, 2, NULL), 3);
        close_sim(f);
    }
}

/* Our order at a level that empties and fills again: what comes back arrived
 * after us, so it queues behind; the next print is ours. */
static void test_level_gone_and_back(void **st)
{
    (void)st;
    fx *f = open_sim(prob2);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 100, 0, 0);
    assert_int_equal(submit(f, 5, BRS_BUY, 100, 10, BRS_GTC), 0);
    market(f, BRS_MEV_LEVEL_DELETE, BRS_BUY, 100, 0, 0, 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 80, 0, 0);
    brs_top t;
    assert_int_equal(f->vt->xTop(f->inst.self, 0, &t), 0);
    assert_int_equal(t.bid_qty, 90);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 4, 1, 0);
    assert_int_equal(filled(f, 5, NULL), 4);
    close_sim(f);
}

/* L2 levels of two instruments at the same price and side are distinct. */
static void test_l2_two_instruments(void **st)
{
    (void)st;
    fx *f = open_sim(prob2);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 7, 0, 0);
    brs_market_event ev = {.ts_exchange = f->ctx.now, .ts_local = f->ctx.now,
                           .kind = BRS_MEV_LEVEL_SET, .side = BRS_BUY, .instrument = 1,
                           .price = 100, .qty = 9};
    assert_int_equal(f->vt->xOnMarket(f->inst.self, &ev), 0);
    brs_top t;
    assert_int_equal(f->vt->xTop(f->inst.self, 0, &t), 0);
    assert_int_equal(t.bid_qty, 7);
    assert_int_equal(f->vt->xTop(f->inst.self, 1, &t), 0);
    assert_int_equal(t.bid_qty, 9);
    close_sim(f);
}


/* One random L2 story at one bid level with one order of ours, fed to three
 * venues at once; cum[m][i] is model m's filled quantity after event i. */
#define NSTEP 80
static void run_story(uint64_t seed, const kv *const *models, int nm, int64_t cum[][NSTEP + 1])
{
    fx *f[4];
    for (int m = 0; m < nm; m++)
        f[m] = open_sim(models[m]);
    uint64_t r = seed * 2654435761u + 1;
    int64_t lvl = 1 + (int64_t)(xs(&r) % 200), qty = 1 + (int64_t)(xs(&r) % 50);
    for (int m = 0; m < nm; m++) {
        market(f[m], BRS_MEV_LEVEL_SET, BRS_BUY, 100, lvl, 0, 0);
        assert_int_equal(submit(f[m], 5, BRS_BUY, 100, qty, BRS_GTC), 0);
        cum[m][0] = 0;
    }
    for (int i = 1; i <= NSTEP; i++) {
        uint64_t k = xs(&r) % 10;
        int kind = BRS_MEV_LEVEL_SET;
        int64_t q;
        if (k < 4) { /* adds and cancels */
            q = lvl + (int64_t)(xs(&r) % 121) - 60;
            lvl = q < 0 ? 0 : q;
            q = lvl;
            if (!q)
                kind = BRS_MEV_LEVEL_DELETE;
        } else if (k < 7) { /* a print (the update after it comes on some later step) */
            kind = BRS_MEV_TRADE;
            q = 1 + (int64_t)(xs(&r) % 40);
            lvl = lvl > q ? lvl - q : 0;
        } else if (k < 9) { /* a print and, at the same time, the update that contains it */
            q = 1 + (int64_t)(xs(&r) % 40);
            for (int m = 0; m < nm; m++)
                market(f[m], BRS_MEV_TRADE, BRS_SELL, 100, q, (uint64_t)i, 0);
            lvl = lvl > q ? lvl - q : 0;
            q = lvl;
            if (!q)
                kind = BRS_MEV_LEVEL_DELETE;
        } else { /* the update that contains a print (and maybe cancels), then the print */
            kind = BRS_MEV_TRADE;
            q = 1 + (int64_t)(xs(&r) % 40);
            int64_t after = lvl - q - (int64_t)(xs(&r) % 20);
            lvl = after > 0 ? after : 0;
            for (int m = 0; m < nm; m++)
                market(f[m], lvl ? BRS_MEV_LEVEL_SET : BRS_MEV_LEVEL_DELETE, BRS_BUY, 100, lvl, 0, 0);
        }
        for (int m = 0; m < nm; m++) {
            market(f[m], kind, kind == BRS_MEV_TRADE ? BRS_SELL : BRS_BUY, 100, q, (uint64_t)i, 0);
            cum[m][i] = filled(f[m], 5, NULL);
            f[m]->ctx.n_mev = 0;
        }
        f[0]->ctx.now += 1000;
        for (int m = 1; m < nm; m++)
            f[m]->ctx.now = f[0]->ctx.now;
    }
    for (int m = 0; m < nm; m++)
        close_sim(f[m]);
}

/* What holds for one order of ours, whatever the data: the prob model (any
 * power) never fills later or less than risk_averse, nor earlier or more than
 * optimistic (the same print stream meets a queue in front of us that is never
 * longer than under risk_averse and never shorter than under optimistic;
 * docs/backtesting.md gives the argument). Stories: adds and cancels, prints,
 * prints followed by their update, updates followed by the print they already
 * hold, deletes. And each model is deterministic. */
static void test_queue_models_ordered(void **st)
{
    (void)st;
    static const kv ra[] = {{"queue_model=risk_averse", KV_STRING, 0, 0}, {0}};
    static const kv p05[] = {{"queue_model=prob", KV_STRING, 0, 0}, {"queue_power", 1, 0, 0.5}, {0}};
    static const kv p1[] = {{"queue_model=prob", KV_STRING, 0, 0}, {"queue_power", 1, 0, 1.0}, {0}};
    static const kv p3[] = {{"queue_model=prob", KV_STRING, 0, 0}, {"queue_power", 1, 0, 3.0}, {0}};
    const kv *const probs[] = {p05, p1, prob2, p3};
    static int64_t cum[4][NSTEP + 1], again[4][NSTEP + 1];
    int differ_ra = 0, differ_opt = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        const kv *const models[] = {ra, probs[seed % 4], opt};
        run_story(seed, models, 3, cum);
        for (int i = 0; i <= NSTEP; i++) {
            if (cum[0][i] > cum[1][i] || cum[1][i] > cum[2][i])
                fail_msg("seed %llu step %d: filled risk_averse %lld, prob %lld, optimistic %lld",
                         (unsigned long long)seed, i, (long long)cum[0][i], (long long)cum[1][i],
                         (long long)cum[2][i]);
            differ_ra += cum[0][i] != cum[1][i];
            differ_opt += cum[1][i] != cum[2][i];
        }
        if (seed % 50 == 0) { /* same data, same model: the same fills */
            run_story(seed, models, 3, again);
            assert_memory_equal(cum, again, sizeof cum[0] * 3);
        }
    }
    /* the bounds are not trivially equal: the models do differ on this data */
    assert_true(differ_ra > 0);
    assert_true(differ_opt > 0);
}

/* Sum of the qty of emitted events of one kind (all orders). */
static int64_t total_of(const fx *f, int kind)
{
    int64_t q = 0;
    for (int i = 0; i < f->ctx.n_oev; i++)
        if (f->ctx.oev[i].kind == kind)
            q += f->ctx.oev[i].qty;
    return q;
}

/* Random L2 data with several orders of ours joining and leaving one level,
 * prints before and after their updates: after every update, and after a print
 * the last update already held, the venue's level is the data's total plus
 * our open quantity there (nothing lost, nothing invented), for every model. */
static void test_l2_totals_random(void **st)
{
    (void)st;
    static const kv ra[] = {{"queue_model=risk_averse", KV_STRING, 0, 0}, {0}};
    const kv *models[] = {ra, prob2, opt};
    for (int m = 0; m < 3; m++) {
        fx *f = open_sim(models[m]);
        uint64_t r = 7 + (uint64_t)m, next_id = 1;
        uint64_t live[8] = {0};
        int64_t lvl = 0, sent = 0;
        for (int i = 0; i < 3000; i++) {
            later(f);
            uint64_t k = xs(&r) % 12;
            int check = 0;
            if (k < 2) { /* one of ours joins */
                int slot = (int)(xs(&r) % 8);
                if (!live[slot]) {
                    int64_t q = 1 + (int64_t)(xs(&r) % 5);
                    assert_int_equal(submit(f, next_id, BRS_BUY, 100, q, BRS_GTC), 0);
                    live[slot] = next_id++;
                    sent += q;
                }
            } else if (k < 3) { /* one of ours leaves (it may have filled already) */
                int slot = (int)(xs(&r) % 8);
                if (live[slot])
                    f->vt->xCancel(f->inst.self, live[slot]);
                live[slot] = 0;
            } else if (k < 7) {
                lvl += (int64_t)(xs(&r) % 61) - 30;
                lvl = lvl < 0 ? 0 : lvl;
                market(f, lvl ? BRS_MEV_LEVEL_SET : BRS_MEV_LEVEL_DELETE, BRS_BUY, 100, lvl, 0, 0);
                check = 1;
            } else if (k < 9) { /* a print; its update comes later */
                int64_t t = 1 + (int64_t)(xs(&r) % 30);
                market(f, BRS_MEV_TRADE, BRS_SELL, 100, t, (uint64_t)i, 0);
                lvl = lvl > t ? lvl - t : 0;
            } else { /* the update that holds a print, then the print */
                int64_t t = 1 + (int64_t)(xs(&r) % 30), after = lvl - t - (int64_t)(xs(&r) % 10);
                lvl = after > 0 ? after : 0;
                market(f, lvl ? BRS_MEV_LEVEL_SET : BRS_MEV_LEVEL_DELETE, BRS_BUY, 100, lvl, 0, 0);
                market(f, BRS_MEV_TRADE, BRS_SELL, 100, t, (uint64_t)i, 0);
                check = 1;
            }
            f->ctx.n_mev = 0;
            if (f->ctx.n_oev > MAXEV - 16) { /* keep the totals, drop the events */
                int64_t fills = total_of(f, BRS_OEV_FILL), gone = total_of(f, BRS_OEV_CANCELLED);
                f->ctx.n_oev = 0;
                sent -= fills + gone;
            }
            if (check) {
                int64_t open = sent - total_of(f, BRS_OEV_FILL) - total_of(f, BRS_OEV_CANCELLED);
                brs_level lv[2];
                uint32_t n;
                assert_int_equal(f->vt->xDepth(f->inst.self, 0, BRS_BUY, lv, 2, &n), 0);
                int64_t at = n && lv[0].price == 100 ? lv[0].qty : 0;
                if (at != lvl + open)
                    fail_msg("model %d step %d: level holds %lld, data %lld + ours %lld", m, i,
                             (long long)at, (long long)lvl, (long long)open);
            }
        }
        close_sim(f);
    }
}

/* Bad queue parameters fail the open with the key's name. */
static void test_bad_queue_params(void **st)
{
    (void)st;
    static const kv bad_model[] = {{"queue_model=fifo", KV_STRING, 0, 0}, {0}};
    static const kv not_string[] = {{"queue_model", 0, 3, 0}, {0}};
    static const kv bad_power[] = {{"queue_power", 1, 0, -1.0}, {0}};
    const kv *cases[] = {bad_model, not_string, bad_power};
    const char *want[] = {"queue_model", "queue_model", "queue_power"};
    for (int i = 0; i < 3; i++) {
        brs_plugin p = {0};
        brs_plugin_instance inst = {0};
        brs_error err = {0};
        brs_ctx ctx = {.params = cases[i]};
        assert_int_equal(brs__plugin_load(&p, BOURSE_PLUGIN_BUILD_DIR "/sim.so", &err), 0);
        assert_int_equal(brs__plugin_instance_open(&inst, &p, &test_host, &ctx, &err),
                         BRS_E_PLUGINOPEN);
        if (!strstr(err.msg, want[i]))
            fail_msg("case %d: '%s' does not name %s", i, err.msg, want[i]);
        brs__plugin_unload(&p);
    }
}

/* L2: quantity appearing at a price that crosses our resting order trades with
 * it first; only the rest joins the book. */
static void test_l2_cross_trades_with_us(void **st)
{
    (void)st;
    fx *f = open_sim(NULL);
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 102, 5, 0, 0);
    assert_int_equal(submit(f, 3, BRS_BUY, 101, 4, BRS_GTC), 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 101, 6, 0, 0);
    assert_int_equal(filled(f, 3, NULL), 4);
    assert_int_equal(last_of(f, BRS_OEV_FILL)->liquidity, BRS_LIQ_MAKER);
    brs_top t;
    assert_int_equal(f->vt->xTop(f->inst.self, 0, &t), 0);
    assert_int_equal(t.ask_price, 101);
    assert_int_equal(t.ask_qty, 2);
    assert_int_equal(t.bid_qty, 0);
    close_sim(f);
}

/* A print at a price where nothing rests (the update that emptied the level
 * came first) still fills our order resting at a better price, at our price,
 * up to the print's size; one at a worse price for us does not. */
static void test_l2_trade_through_us(void **st)
{
    (void)st;
    fx *f = open_sim(NULL);
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 101, 5, 0, 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 98, 5, 0, 0);
    assert_int_equal(submit(f, 3, BRS_SELL, 100, 4, BRS_GTC), 0);
    assert_int_equal(submit(f, 4, BRS_BUY, 99, 4, BRS_GTC), 0);
    later(f);
    market(f, BRS_MEV_LEVEL_DELETE, BRS_SELL, 101, 0, 0, 0);
    later(f);
    market(f, BRS_MEV_TRADE, BRS_BUY, 101, 3, 90, 0); /* a buyer paid 101: our 100 was better */
    assert_int_equal(filled(f, 3, NULL), 3);
    assert_int_equal(last_of(f, BRS_OEV_FILL)->price, 100);
    assert_int_equal(last_of(f, BRS_OEV_FILL)->liquidity, BRS_LIQ_MAKER);
    later(f);
    market(f, BRS_MEV_TRADE, BRS_SELL, 97, 2, 91, 0); /* a seller took 97: our 99 buy first */
    assert_int_equal(filled(f, 4, NULL), 2);
    later(f);
    market(f, BRS_MEV_TRADE, BRS_BUY, 99, 5, 92, 0); /* below our sell: not ours */
    assert_int_equal(filled(f, 3, NULL), 3);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 5, 93, 0); /* above our buy: not ours */
    assert_int_equal(filled(f, 4, NULL), 2);
    close_sim(f);
}

/* Replace: a smaller size at the same price keeps the queue place, a price
 * change goes to the back; an unknown id is refused. */
static void test_replace_priority(void **st)
{
    (void)st;
    fx *f = open_sim(NULL);
    market(f, BRS_MEV_ADD, BRS_BUY, 100, 5, 1, 0);
    assert_int_equal(submit(f, 10, BRS_BUY, 100, 4, BRS_GTC), 0);
    market(f, BRS_MEV_ADD, BRS_BUY, 100, 5, 2, 0); /* behind us */
    assert_int_equal(f->vt->xReplace(f->inst.self, 10, 100, 3), 0);
    assert_int_equal(last_of(f, BRS_OEV_REPLACED)->leaves, 3);
    market(f, BRS_MEV_EXECUTE, BRS_BUY, 100, 5, 1, 0);
    market(f, BRS_MEV_EXECUTE, BRS_BUY, 100, 1, 2, 0); /* still ahead of order 2 */
    assert_int_equal(filled(f, 10, NULL), 1);
    /* a new price, then back: now behind order 3 */
    assert_int_equal(f->vt->xReplace(f->inst.self, 10, 99, 3), 0);
    market(f, BRS_MEV_ADD, BRS_BUY, 100, 5, 3, 0);
    assert_int_equal(f->vt->xReplace(f->inst.self, 10, 100, 3), 0);
    market(f, BRS_MEV_EXECUTE, BRS_BUY, 100, 4, 2, 0); /* order 2 ahead of us now */
    assert_int_equal(filled(f, 10, NULL), 1);
    assert_int_equal(f->vt->xReplace(f->inst.self, 99, 100, 3), BRS_E_UNKNOWNORDER);
    close_sim(f);
}

static void test_sizes_and_rate(void **st)
{
    (void)st;
    static const kv params[] = {{"tick_size", 0, 5, 0},      {"lot_size", 0, 10, 0},
                                {"min_qty", 0, 20, 0},       {"rate_limit_per_sec", 0, 2, 0},
                                {"rate_burst", 0, 2, 0},     {0}};
    fx *f = open_sim(params);
    assert_int_equal(submit(f, 1, BRS_BUY, 101, 20, BRS_GTC), BRS_E_INVAL); /* tick */
    assert_int_equal(submit(f, 2, BRS_BUY, 100, 25, BRS_GTC), BRS_E_INVAL); /* lot */
    assert_int_equal(submit(f, 3, BRS_BUY, 100, 10, BRS_GTC), BRS_E_INVAL); /* min */
    assert_int_equal(last_of(f, BRS_OEV_REJECTED)->order_id, 3);
    assert_int_equal(submit(f, 4, BRS_BUY, 100, 20, BRS_GTC), 0);
    assert_int_equal(submit(f, 5, BRS_BUY, 100, 20, BRS_GTC), 0);
    assert_int_equal(submit(f, 6, BRS_BUY, 100, 20, BRS_GTC), BRS_E_LIMIT);
    f->ctx.now += 500000000; /* half a second: one token back */
    assert_int_equal(submit(f, 7, BRS_BUY, 100, 20, BRS_GTC), 0);
    assert_int_equal(submit(f, 8, BRS_BUY, 100, 20, BRS_GTC), BRS_E_LIMIT);
    close_sim(f);
}

static int count_rejects(uint64_t seed, double rate, char *pattern)
{
    kv params[] = {{"reject_rate", 1, 0, rate}, {"seed", 0, (int64_t)seed, 0}, {0}};
    fx *f = open_sim(params);
    int n = 0;
    for (int i = 0; i < 64; i++) {
        int rc = submit(f, (uint64_t)(100 + i), BRS_BUY, 50, 1, BRS_GTC);
        pattern[i] = rc ? 'R' : '.';
        if (rc) {
            assert_int_equal(rc, BRS_E_REJECTED);
            n++;
        }
    }
    pattern[64] = 0;
    close_sim(f);
    return n;
}

static void test_seeded_rejects(void **st)
{
    (void)st;
    char a[65], b[65], c[65];
    assert_int_equal(count_rejects(1, 1.0, a), 64);
    int n = count_rejects(42, 0.5, a);
    assert_true(n > 10 && n < 54);
    count_rejects(42, 0.5, b);
    assert_string_equal(a, b); /* same seed, same faults */
    count_rejects(43, 0.5, c);
    assert_string_not_equal(a, c);
    assert_int_equal(count_rejects(42, 0.0, a), 0);
}

static void test_down_window(void **st)
{
    (void)st;
    static const kv params[] = {{"down_at", 0, 5000, 0}, {"down_for", 0, 1000, 0}, {0}};
    fx *f = open_sim(params);
    assert_int_equal(submit(f, 1, BRS_BUY, 100, 5, BRS_GTC), 0);
    f->ctx.now = 5000;
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 110, 5, 0, 0); /* any call notices the time */
    const brs_order_event *e = last_of(f, BRS_OEV_CANCELLED);
    assert_non_null(e);
    assert_int_equal(e->order_id, 1);
    assert_int_equal(e->reason, BRS_E_HALTED);
    int halted = 0;
    for (int i = 0; i < f->ctx.n_mev; i++)
        if (f->ctx.mev[i].kind == BRS_MEV_STATUS && f->ctx.mev[i].aux == BRS_STATUS_HALT)
            halted++;
    assert_int_equal(halted, 1);
    assert_int_equal(submit(f, 2, BRS_BUY, 100, 5, BRS_GTC), BRS_E_HALTED);
    f->ctx.now = 5999;
    assert_int_equal(submit(f, 3, BRS_BUY, 100, 5, BRS_GTC), BRS_E_HALTED);
    f->ctx.now = 6000;
    assert_int_equal(submit(f, 4, BRS_BUY, 100, 5, BRS_GTC), 0);
    assert_int_equal(f->ctx.mev[f->ctx.n_mev - 1].aux, BRS_STATUS_RESUME);
    close_sim(f);
}

static void test_lost_acks(void **st)
{
    (void)st;
    static const kv params[] = {{"lost_ack_rate", 1, 0, 1.0}, {0}};
    fx *f = open_sim(params);
    assert_int_equal(submit(f, 1, BRS_BUY, 100, 5, BRS_GTC), 0);
    assert_null(last_of(f, BRS_OEV_ACCEPTED));
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 5, 1, 0);
    assert_int_equal(filled(f, 1, NULL), 5); /* the order was live all along */
    close_sim(f);
}

static void test_offset_and_scale(void **st)
{
    (void)st;
    static const kv params[] = {{"price_offset", 0, 7, 0}, {"liquidity_scale", 1, 0, 2.5}, {0}};
    fx *f = open_sim(params);
    market(f, BRS_MEV_ADD, BRS_SELL, 100, 4, 1, 0);
    brs_top t;
    assert_int_equal(f->vt->xTop(f->inst.self, 0, &t), 0);
    assert_int_equal(t.ask_price, 107);
    assert_int_equal(t.ask_qty, 10);
    assert_int_equal(f->ctx.mev[f->ctx.n_mev - 1].price, 107);
    assert_int_equal(f->ctx.mev[f->ctx.n_mev - 1].qty, 10);
    close_sim(f);
}

/* liquidity_scale with L3 data: each order is shown at round(k x its unscaled
 * size left), at least 1 lot while anything is left, so executions and partial
 * cancels take exactly what the order showed (x1.4: 10 lots show as 14, and
 * 3 + 3 + 3 executed and 1 cancelled take 4 + 4 + 5 + 1, not 4 + 4 + 4 + 1,
 * which left a lot behind for ever). Random streams of adds, partial and full
 * cancels and front-of-queue executions, four scales: after every event each
 * level equals the reference sum of round(k x u) over its orders, and the
 * emitted event carries exactly the change (the host's view of the venue is
 * the venue's book). At the end the book is empty. */
static int64_t ref_scaled(double k, int64_t u)
{
    if (u <= 0)
        return 0;
    int64_t r = llround((double)u * k);
    return r < 1 ? 1 : r;
}

static void test_scale_l3_parts(void **st)
{
    (void)st;
    enum { NO = 64, NL = 5, STEPS = 4000 };
    static const double scales[] = {1.4, 0.25, 2.5, 0.7};
    for (size_t si = 0; si < sizeof scales / sizeof *scales; si++) {
        kv params[] = {{"liquidity_scale", 1, 0, scales[si]}, {0}};
        fx *f = open_sim(params);
        double k = scales[si];
        struct { uint64_t id; int64_t price, u, seq; } o[NO];
        int n = 0;
        uint64_t next_id = 1, r = 12345 + si;
        int64_t seq = 0;
        for (int step = 0; step < STEPS || n > 0; step++) {
            int64_t before[NL] = {0}, after[NL] = {0};
            brs_level lv[NL];
            uint32_t nl = 0;
            f->vt->xDepth(f->inst.self, 0, BRS_BUY, lv, NL, &nl);
            for (uint32_t i = 0; i < nl; i++)
                before[lv[i].price - 100] = lv[i].qty;
            f->ctx.n_mev = 0;
            uint64_t pick = xs(&r);
            int64_t lvl;
            if (step < STEPS && (n == 0 || (n < NO && pick % 3 == 0))) { /* add */
                o[n].id = next_id++;
                o[n].price = 100 + (int64_t)(xs(&r) % NL);
                o[n].u = 1 + (int64_t)(xs(&r) % 20);
                o[n].seq = seq++;
                market(f, BRS_MEV_ADD, BRS_BUY, o[n].price, o[n].u, o[n].id, 0);
                lvl = o[n].price;
                n++;
            } else {
                int j;
                int exec = pick % 3 == 1;
                if (exec) { /* the front order of the best level trades */
                    j = 0;
                    for (int i = 1; i < n; i++)
                        if (o[i].price > o[j].price || (o[i].price == o[j].price && o[i].seq < o[j].seq))
                            j = i;
                } else {
                    j = (int)(xs(&r) % (uint64_t)n);
                }
                int64_t x = 1 + (int64_t)(xs(&r) % (uint64_t)o[j].u);
                int full = !exec && x == o[j].u && (pick & 8);
                lvl = o[j].price;
                market(f, exec ? BRS_MEV_EXECUTE : BRS_MEV_CANCEL, BRS_BUY, o[j].price, x, o[j].id,
                       full ? BRS_MEVF_FULL : 0);
                o[j].u -= x;
                if (o[j].u == 0)
                    o[j] = o[--n];
            }
            f->vt->xDepth(f->inst.self, 0, BRS_BUY, lv, NL, &nl);
            for (uint32_t i = 0; i < nl; i++)
                after[lv[i].price - 100] = lv[i].qty;
            for (int p = 0; p < NL; p++) {
                int64_t want = 0;
                for (int i = 0; i < n; i++)
                    if (o[i].price == 100 + p)
                        want += ref_scaled(k, o[i].u);
                if (after[p] != want)
                    fail_msg("scale %g step %d: level %d holds %lld, orders show %lld", k, step,
                             100 + p, (long long)after[p], (long long)want);
            }
            int64_t moved = after[lvl - 100] - before[lvl - 100];
            if (moved == 0) { /* less than one scaled lot went: nothing to show */
                assert_int_equal(f->ctx.n_mev, 0);
            } else {
                assert_int_equal(f->ctx.n_mev, 1);
                assert_int_equal(f->ctx.mev[0].qty, moved > 0 ? moved : -moved);
            }
        }
        brs_level lv[NL];
        uint32_t nl = 0;
        f->vt->xDepth(f->inst.self, 0, BRS_BUY, lv, NL, &nl);
        assert_int_equal(nl, 0);
        close_sim(f);
    }
}

/* A feed's resync (SNAPSHOT_BEGIN, the levels that exist now, SNAPSHOT_END):
 * levels the snapshot does not name are gone from the venue, each announced by
 * a LEVEL_DELETE before the SNAPSHOT_END; levels it names keep our queue place
 * (shrunk like any update); levels holding only our orders stay. Before, the
 * venue ignored the snapshot markers and kept phantom liquidity for ever. */
static void test_l2_snapshot_resync(void **st)
{
    (void)st;
    static const kv ra[] = {{"queue_model=risk_averse", KV_STRING, 0, 0}, {0}};
    fx *f = open_sim(ra);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 5, 0, 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 99, 3, 0, 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 102, 4, 0, 0);
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 103, 6, 0, 0);
    assert_int_equal(submit(f, 5, BRS_BUY, 100, 2, BRS_GTC), 0); /* behind 5 */
    assert_int_equal(submit(f, 6, BRS_BUY, 98, 1, BRS_GTC), 0);  /* alone */
    f->ctx.n_mev = 0;
    market(f, BRS_MEV_SNAPSHOT_BEGIN, 0, 0, 0, 0, BRS_MEVF_SNAPSHOT);
    market(f, BRS_MEV_LEVEL_SET, BRS_BUY, 100, 4, 0, BRS_MEVF_SNAPSHOT);
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 103, 2, 0, BRS_MEVF_SNAPSHOT);
    market(f, BRS_MEV_SNAPSHOT_END, 0, 0, 0, 0, BRS_MEVF_SNAPSHOT | BRS_MEVF_LAST);
    brs_level lv[8];
    uint32_t n;
    assert_int_equal(f->vt->xDepth(f->inst.self, 0, BRS_BUY, lv, 8, &n), 0);
    assert_int_equal(n, 2); /* 100: 4 + our 2; 99 gone; 98: ours */
    assert_int_equal(lv[0].price, 100);
    assert_int_equal(lv[0].qty, 6);
    assert_int_equal(lv[1].price, 98);
    assert_int_equal(lv[1].qty, 1);
    assert_int_equal(f->vt->xDepth(f->inst.self, 0, BRS_SELL, lv, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(lv[0].price, 103);
    assert_int_equal(lv[0].qty, 2);
    /* emitted: BEGIN, the two sets, a delete for bid 99 and for ask 102, END */
    assert_int_equal(f->ctx.n_mev, 6);
    int dels = 0;
    for (int i = 3; i < 5; i++) {
        assert_int_equal(f->ctx.mev[i].kind, BRS_MEV_LEVEL_DELETE);
        dels += (f->ctx.mev[i].side == BRS_BUY && f->ctx.mev[i].price == 99) ||
                (f->ctx.mev[i].side == BRS_SELL && f->ctx.mev[i].price == 102);
    }
    assert_int_equal(dels, 2);
    assert_int_equal(f->ctx.mev[5].kind, BRS_MEV_SNAPSHOT_END);
    /* our order at 100 kept its place: the shrink came off the back (risk
     * averse), so the 4 are still ahead and a print of 4 does not reach us */
    later(f);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 4, 501, 0);
    assert_int_equal(filled(f, 5, NULL), 0);
    later(f);
    market(f, BRS_MEV_TRADE, BRS_SELL, 100, 1, 502, 0);
    assert_int_equal(filled(f, 5, NULL), 1);
    /* a snapshot that never ends is ended by the next one */
    f->ctx.n_mev = 0;
    market(f, BRS_MEV_SNAPSHOT_BEGIN, 0, 0, 0, 0, BRS_MEVF_SNAPSHOT);
    market(f, BRS_MEV_LEVEL_SET, BRS_SELL, 103, 2, 0, BRS_MEVF_SNAPSHOT);
    market(f, BRS_MEV_SNAPSHOT_BEGIN, 0, 0, 0, 0, BRS_MEVF_SNAPSHOT);
    assert_int_equal(f->vt->xDepth(f->inst.self, 0, BRS_BUY, lv, 8, &n), 0);
    assert_int_equal(n, 2); /* 100 and 98 hold only our orders now */
    assert_int_equal(lv[0].qty, 1);
    assert_int_equal(lv[1].qty, 1);
    market(f, BRS_MEV_SNAPSHOT_END, 0, 0, 0, 0, BRS_MEVF_SNAPSHOT | BRS_MEVF_LAST);
    assert_int_equal(f->vt->xDepth(f->inst.self, 0, BRS_SELL, lv, 8, &n), 0);
    assert_int_equal(n, 0); /* the second snapshot named no level */
    close_sim(f);
}

static void test_bad_params(void **st)
{
    (void)st;
    static const kv params[] = {{"reject_rate", 1, 0, 1.5}, {0}};
    brs_plugin p = {0};
    brs_plugin_instance inst = {0};
    brs_error err = {0};
    brs_ctx ctx = {.params = params};
    assert_int_equal(brs__plugin_load(&p, BOURSE_PLUGIN_BUILD_DIR "/sim.so", &err), 0);
    assert_int_equal(brs__plugin_instance_open(&inst, &p, &test_host, &ctx, &err), BRS_E_PLUGINOPEN);
    assert_non_null(strstr(err.msg, "reject_rate"));
    brs__plugin_unload(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_with_fees), cmocka_unit_test(test_queue_l3),
        cmocka_unit_test(test_queue_l2),       cmocka_unit_test(test_l2_cross_trades_with_us),
        cmocka_unit_test(test_l2_trade_through_us),
        cmocka_unit_test(test_replace_priority), cmocka_unit_test(test_sizes_and_rate),
        cmocka_unit_test(test_seeded_rejects), cmocka_unit_test(test_down_window),
        cmocka_unit_test(test_lost_acks),      cmocka_unit_test(test_offset_and_scale),
        cmocka_unit_test(test_scale_l3_parts),
        cmocka_unit_test(test_l2_snapshot_resync),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_queue_prob_power), cmocka_unit_test(test_queue_prob_carry),
        cmocka_unit_test(test_trade_then_level), cmocka_unit_test(test_print_after_its_update),
        cmocka_unit_test(test_queue_two_orders),
        cmocka_unit_test(test_level_gone_and_back), cmocka_unit_test(test_l2_two_instruments),
        cmocka_unit_test(test_queue_models_ordered), cmocka_unit_test(test_l2_totals_random),
        cmocka_unit_test(test_bad_queue_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
