/* test_binance.c: the Binance feed parser, the L2 book and the snapshot/update
 * sync, on hand-made messages (gaps, stale updates, malformed JSON) and on the
 * real recorded session in ../shared/data/binance (skipped when absent), where
 * the final books are checked against an independent cJSON-based rebuild. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "feeds/binance.h"
#include "support/files.h"

#define MAXEV 8192
typedef struct rec {
    brs_market_event ev[MAXEV];
    size_t n;
    int gaps;
} rec;

static int sink(void *ud, const brs_market_event *ev)
{
    rec *r = ud;
    if (r->n < MAXEV)
        r->ev[r->n] = *ev;
    r->n++;
    return 0;
}

static void on_gap(void *ud, uint32_t instrument, const char *symbol, uint64_t last_u, uint64_t U,
                   uint64_t u, int64_t pu)
{
    (void)instrument, (void)symbol, (void)last_u, (void)U, (void)u, (void)pu;
    ((rec *)ud)->gaps++;
}

static int msg(brs__bn_feed *f, const char *s, int64_t recv)
{
    brs_error e = {0};
    int rc = brs__bn_feed_message(f, s, strlen(s), recv, &e);
    if (rc)
        assert_true(e.msg[0] != '\0');
    return rc;
}

static void test_decimal(void **st)
{
    (void)st;
    int d = 4;
    int64_t v;
    assert_int_equal(brs__dec_parse("7.6110", 6, &d, &v), BRS_OK);
    assert_int_equal(v, 76110);
    assert_int_equal(brs__dec_parse("7.611", 5, &d, &v), BRS_OK);
    assert_int_equal(v, 76110);
    assert_int_equal(brs__dec_parse("7", 1, &d, &v), BRS_OK);
    assert_int_equal(v, 70000);
    assert_int_equal(brs__dec_parse("7.611000", 8, &d, &v), BRS_OK);
    assert_int_equal(v, 76110);
    assert_int_equal(brs__dec_parse("7.61101", 7, &d, &v), BRS_E_RANGE);
    assert_int_equal(brs__dec_parse("7.", 2, &d, &v), BRS_E_PARSE);
    assert_int_equal(brs__dec_parse("-1", 2, &d, &v), BRS_E_PARSE);
    assert_int_equal(brs__dec_parse("1e5", 3, &d, &v), BRS_E_PARSE);
    assert_int_equal(brs__dec_parse("", 0, &d, &v), BRS_E_PARSE);
    assert_int_equal(brs__dec_parse("99999999999999999999", 20, &d, &v), BRS_E_RANGE);
    d = -1;
    assert_int_equal(brs__dec_parse("0", 1, &d, &v), BRS_OK);
    assert_int_equal(d, -1); /* "0" teaches nothing */
    assert_int_equal(brs__dec_parse("0.00100", 7, &d, &v), BRS_OK);
    assert_int_equal(d, 5);
    assert_int_equal(v, 100);
    int64_t ns;
    assert_int_equal(brs__parse_epoch_s("1626992741.06217", 16, &ns), BRS_OK);
    assert_int_equal(ns, 1626992741062170000LL);
}

static void test_book(void **st)
{
    (void)st;
    brs__l2_book b;
    assert_int_equal(brs__l2_init(&b, 2), BRS_OK);
    int64_t p, q;
    assert_int_equal(brs__l2_best(&b, BRS_BUY, &p, &q), 0);
    for (int i = 1; i <= 100; i++) {
        assert_int_equal(brs__l2_set(&b, BRS_BUY, 1000 - i * (i % 2 ? 1 : 3), i), BRS_OK);
        assert_int_equal(brs__l2_set(&b, BRS_SELL, 1000 + i, i), BRS_OK);
    }
    assert_int_equal(brs__l2_best(&b, BRS_BUY, &p, &q), 1);
    assert_int_equal(p, 999);
    assert_int_equal(brs__l2_best(&b, BRS_SELL, &p, &q), 1);
    assert_int_equal(p, 1001);
    brs_level lv[5];
    assert_int_equal(brs__l2_depth(&b, BRS_SELL, lv, 5), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(lv[i].price, 1001 + i);
    assert_int_equal(brs__l2_depth(&b, BRS_BUY, lv, 5), 5);
    for (int i = 1; i < 5; i++)
        assert_true(lv[i].price < lv[i - 1].price);
    assert_int_equal(brs__l2_set(&b, BRS_SELL, 1001, 0), BRS_OK);
    assert_int_equal(brs__l2_set(&b, BRS_SELL, 5, 0), BRS_OK); /* absent: no-op */
    assert_int_equal(brs__l2_best(&b, BRS_SELL, &p, &q), 1);
    assert_int_equal(p, 1002);
    assert_int_equal(brs__l2_qty(&b, BRS_SELL, 1050), 50);
    assert_int_equal(brs__l2_set(&b, BRS_SELL, 1050, 7), BRS_OK);
    assert_int_equal(brs__l2_qty(&b, BRS_SELL, 1050), 7);
    assert_int_equal(brs__l2_levels(&b, BRS_SELL), 99);
    assert_int_equal(brs__l2_set(&b, 2, 1, 1), BRS_E_INVAL);
    assert_int_equal(brs__l2_set(&b, BRS_BUY, 1, -1), BRS_E_INVAL);
    brs__l2_free(&b);
}

#define SNAP "{\"lastUpdateId\":100,\"E\":1000,\"T\":999,\"bids\":[[\"10.00\",\"5\"],[\"9.99\",\"3\"]],\"asks\":[[\"10.01\",\"4\"],[\"10.02\",\"6\"]]}"

static const char *depth(char *buf, long U, long u, long pu, const char *b, const char *a)
{
    sprintf(buf,
            "{\"stream\":\"xusdt@depth\",\"data\":{\"e\":\"depthUpdate\",\"E\":2000,\"T\":1999,"
            "\"s\":\"XUSDT\",\"U\":%ld,\"u\":%ld,\"pu\":%ld,\"b\":[%s],\"a\":[%s]}}",
            U, u, pu, b, a);
    return buf;
}

static void test_sync(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    f.on_gap = on_gap;
    f.gap_ud = &r;
    uint32_t id;
    assert_int_equal(brs__bn_add_symbol(&f, "XUSDT", 2, 0, &id), BRS_OK);
    assert_true(brs__bn_needs_snapshot(&f, id));
    char b[512];
    /* before the snapshot: buffered, nothing emitted */
    assert_int_equal(msg(&f, depth(b, 90, 95, 80, "[\"9.00\",\"1\"]", ""), 10), BRS_OK);
    assert_int_equal(msg(&f, depth(b, 96, 104, 95, "[\"10.00\",\"0\"]", "[\"10.03\",\"2\"]"), 20),
                     BRS_OK);
    assert_int_equal(r.n, 0);
    brs_error e = {0};
    assert_int_equal(brs__bn_feed_snapshot(&f, "XUSDT", SNAP, strlen(SNAP), 30, &e), BRS_OK);
    /* BEGIN, 4 levels, END, then the bridging update's 2 events; 90..95 dropped */
    assert_int_equal(r.n, 8);
    assert_int_equal(r.ev[0].kind, BRS_MEV_SNAPSHOT_BEGIN);
    assert_int_equal(r.ev[0].order_id, 100);
    assert_int_equal(r.ev[1].kind, BRS_MEV_LEVEL_SET);
    assert_int_equal(r.ev[1].price, 1000);
    assert_int_equal(r.ev[1].flags, BRS_MEVF_SNAPSHOT);
    assert_int_equal(r.ev[5].kind, BRS_MEV_SNAPSHOT_END);
    assert_int_equal(r.ev[5].flags, BRS_MEVF_SNAPSHOT | BRS_MEVF_LAST);
    assert_int_equal(r.ev[6].kind, BRS_MEV_LEVEL_DELETE);
    assert_int_equal(r.ev[6].side, BRS_BUY);
    assert_int_equal(r.ev[6].ts_local, 30); /* applied when the snapshot came */
    assert_int_equal(r.ev[6].ts_exchange, 2000000000LL);
    assert_int_equal(r.ev[6].aux, 1999000000LL);
    assert_int_equal(r.ev[6].flags, 0);
    assert_int_equal(r.ev[7].kind, BRS_MEV_LEVEL_SET);
    assert_int_equal(r.ev[7].side, BRS_SELL);
    assert_int_equal(r.ev[7].price, 1003);
    assert_int_equal(r.ev[7].flags, BRS_MEVF_LAST);
    brs__bn_symbol *y = brs__bn_get(&f, id);
    assert_int_equal(y->state, BRS__BN_LIVE);
    assert_int_equal(y->n_dropped, 1);
    int64_t p, q;
    assert_int_equal(brs__l2_best(&y->book, BRS_BUY, &p, &q), 1);
    assert_int_equal(p, 999);
    /* chained update */
    r.n = 0;
    assert_int_equal(msg(&f, depth(b, 105, 110, 104, "[\"10.00\",\"8\"]", ""), 40), BRS_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ev[0].ts_local, 40);
    assert_int_equal(brs__l2_best(&y->book, BRS_BUY, &p, &q), 1);
    assert_int_equal(p, 1000);
    assert_int_equal(q, 8);
    /* a gap: pu 111 does not follow 110 */
    r.n = 0;
    assert_int_equal(msg(&f, depth(b, 115, 120, 111, "[\"10.00\",\"1\"]", ""), 50), BRS_OK);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.gaps, 1);
    assert_true(brs__bn_needs_snapshot(&f, id));
    /* resync: a snapshot older than the buffered update's U -> gap again */
    assert_int_equal(msg(&f, depth(b, 121, 130, 120, "[\"10.00\",\"2\"]", ""), 60), BRS_OK);
    r.n = 0;
    assert_int_equal(brs__bn_feed_snapshot(&f, "XUSDT", SNAP, strlen(SNAP), 70, &e), BRS_OK);
    assert_int_equal(r.gaps, 2);
    assert_true(brs__bn_needs_snapshot(&f, id));
    /* a fresh snapshot bridging the stream */
    const char *snap2 = "{\"lastUpdateId\":135,\"bids\":[[\"10.00\",\"2\"]],\"asks\":[]}";
    assert_int_equal(msg(&f, depth(b, 131, 140, 130, "", "[\"10.05\",\"1\"]"), 80), BRS_OK);
    r.n = 0;
    assert_int_equal(brs__bn_feed_snapshot(&f, "XUSDT", snap2, strlen(snap2), 90, &e), BRS_OK);
    assert_int_equal(y->state, BRS__BN_LIVE);
    assert_int_equal(y->last_u, 140);
    assert_int_equal(brs__l2_best(&y->book, BRS_SELL, &p, &q), 1);
    assert_int_equal(p, 1005);
    assert_int_equal(brs__l2_levels(&y->book, BRS_BUY), 1);
    /* the bridge rule after a snapshot when nothing was buffered */
    const char *snap3 = "{\"lastUpdateId\":200,\"bids\":[],\"asks\":[]}";
    assert_int_equal(brs__bn_feed_snapshot(&f, "XUSDT", snap3, strlen(snap3), 95, &e), BRS_OK);
    assert_int_equal(y->state, BRS__BN_WAIT_BRIDGE);
    assert_int_equal(msg(&f, depth(b, 141, 150, 140, "[\"1.00\",\"1\"]", ""), 96), BRS_OK);
    assert_int_equal(y->state, BRS__BN_WAIT_BRIDGE); /* u < L: dropped */
    assert_int_equal(msg(&f, depth(b, 190, 210, 150, "[\"1.00\",\"2\"]", ""), 97), BRS_OK);
    assert_int_equal(y->state, BRS__BN_LIVE);
    assert_int_equal(brs__l2_qty(&y->book, BRS_BUY, 100), 2);
    assert_int_equal(r.gaps, 2);
    brs__bn_feed_free(&f);
}

static void test_spot_rules(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    brs_error e;
    const char *snap = "{\"lastUpdateId\":100,\"bids\":[[\"1.0\",\"1\"]],\"asks\":[[\"2.0\",\"1\"]]}";
    assert_int_equal(brs__bn_feed_snapshot(&f, "BTCUSDT", snap, strlen(snap), 1, &e), BRS_OK);
    const char *u1 = "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":101,\"u\":105,\"b\":[[\"1.0\",\"3\"]],\"a\":[]}";
    const char *u2 = "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":106,\"u\":107,\"b\":[],\"a\":[[\"2.0\",\"0\"]]}";
    const char *u3 = "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":109,\"u\":110,\"b\":[],\"a\":[]}";
    assert_int_equal(msg(&f, u1, 2), BRS_OK);
    assert_int_equal(msg(&f, u2, 3), BRS_OK);
    brs__bn_symbol *y = brs__bn_find(&f, "BTCUSDT");
    assert_non_null(y);
    assert_int_equal(y->state, BRS__BN_LIVE);
    assert_int_equal(brs__l2_levels(&y->book, BRS_SELL), 0);
    assert_int_equal(msg(&f, u3, 4), BRS_OK);
    assert_int_equal(y->n_gaps, 1);
    brs__bn_feed_free(&f);
}

static void test_quote_trade(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    assert_int_equal(msg(&f,
                         "{\"stream\":\"sushiusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":1,"
                         "\"s\":\"SUSHIUSDT\",\"b\":\"7.6110\",\"B\":\"2\",\"a\":\"7.6120\",\"A\":"
                         "\"297\",\"T\":1626992741012,\"E\":1626992741017}}",
                         5),
                     BRS_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ev[0].kind, BRS_MEV_QUOTE);
    assert_int_equal(r.ev[0].quote.bid_price, 76110);
    assert_int_equal(r.ev[0].quote.ask_price, 76120);
    assert_int_equal(r.ev[0].quote.bid_qty, 2);
    assert_int_equal(r.ev[0].quote.ask_qty, 297);
    assert_int_equal(r.ev[0].ts_exchange, 1626992741017000000LL);
    assert_int_equal(r.ev[0].ts_local, 5);
    assert_int_equal(r.ev[0].flags, BRS_MEVF_LAST);
    assert_int_equal(msg(&f,
                         " {\"e\":\"aggTrade\",\"E\":1626992741575,\"a\":16599292,\"s\":\"SUSHIUSDT\","
                         "\"p\":\"7.6130\",\"q\":\"10\",\"f\":1,\"l\":2,\"T\":1626992741421,\"m\":true} ",
                         6),
                     BRS_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.ev[1].kind, BRS_MEV_TRADE);
    assert_int_equal(r.ev[1].side, BRS_SELL);
    assert_int_equal(r.ev[1].price, 76130);
    assert_int_equal(r.ev[1].qty, 10);
    assert_int_equal(r.ev[1].order_id, 16599292);
    assert_int_equal(r.ev[1].aux, 1626992741421000000LL);
    /* kline: ignored */
    assert_int_equal(msg(&f,
                         "{\"stream\":\"x@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\","
                         "\"k\":{\"t\":1,\"s\":\"SUSHIUSDT\",\"o\":\"1.0\",\"x\":false}}}",
                         7),
                     BRS_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(f.n_ignored, 1);
    brs__bn_feed_free(&f);
}

/* A closed kline is a BAR ending at its close time + 1 ms, prices and volume
 * at the symbol's scales; one still forming is ignored; a malformed one is an
 * error naming the field, and emits nothing. */
static void test_kline_bar(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    const char *closed =
        "{\"stream\":\"sushiusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1626992760244,"
        "\"s\":\"SUSHIUSDT\",\"k\":{\"t\":1626992700000,\"T\":1626992759999,\"s\":\"SUSHIUSDT\","
        "\"i\":\"1m\",\"f\":126902874,\"L\":126902986,\"o\":\"7.6080\",\"c\":\"7.6170\","
        "\"h\":\"7.6180\",\"l\":\"7.6070\",\"v\":\"3005\",\"n\":113,\"x\":true,"
        "\"q\":\"22875.8590\",\"V\":\"1900\",\"Q\":\"14464.6960\",\"B\":\"0\"}}}";
    assert_int_equal(msg(&f, closed, 42), BRS_OK);
    assert_int_equal(r.n, 1);
    const brs_market_event *b = &r.ev[0];
    assert_int_equal(b->kind, BRS_MEV_BAR);
    assert_int_equal(b->ts_exchange, 1626992760000000000LL);
    assert_int_equal(b->ts_local, 42);
    assert_int_equal(b->bar.open, 76080);
    assert_int_equal(b->bar.high, 76180);
    assert_int_equal(b->bar.low, 76070);
    assert_int_equal(b->bar.close, 76170);
    assert_int_equal(b->bar.volume, 3005);
    assert_int_equal(f.sym[0].n_bars, 1);
    /* still forming: ignored */
    assert_int_equal(msg(&f,
                         "{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\",\"k\":{\"T\":5,\"o\":\"7.6\","
                         "\"c\":\"7.6\",\"h\":\"7.6\",\"l\":\"7.6\",\"v\":\"1\",\"x\":false}}",
                         43),
                     BRS_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(f.n_ignored, 1);
    /* malformed closed klines: an error naming the field, nothing emitted */
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\",\"k\":{\"T\":5,\"o\":\"7.6\",\"h\":\"7.6\","
         "\"l\":\"7.6\",\"v\":\"1\",\"x\":true}}", "\"c\""},
        {"{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\",\"k\":{\"o\":\"7.6\",\"c\":\"7.6\","
         "\"h\":\"7.6\",\"l\":\"7.6\",\"v\":\"1\",\"x\":true}}", "\"T\""},
        {"{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\",\"k\":{\"T\":5,\"o\":\"7.6\",\"c\":\"7.6\","
         "\"h\":\"7.5\",\"l\":\"7.6\",\"v\":\"1\",\"x\":true}}", "out of order"},
        {"{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\",\"k\":{\"T\":5,\"o\":\"7.6\",\"c\":\"x\","
         "\"h\":\"7.6\",\"l\":\"7.6\",\"v\":\"1\",\"x\":true}}", "\"c\""},
        {"{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\"}", "\"k\""},
        {"{\"e\":\"kline\",\"E\":1,\"s\":\"SUSHIUSDT\",\"k\":{\"T\":5,\"o\":7,\"c\":\"7.6\","
         "\"h\":\"7.6\",\"l\":\"7.6\",\"v\":\"1\",\"x\":true}}", "\"o\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        brs_error e = {0};
        assert_true(brs__bn_feed_message(&f, bad[i].json, strlen(bad[i].json), 44, &e) < 0);
        if (!strstr(e.msg, bad[i].field))
            fail_msg("case %zu: '%s' does not name %s", i, e.msg, bad[i].field);
    }
    assert_int_equal(r.n, 1);
    brs__bn_feed_free(&f);
}

/* Updates without levels (Binance sends them) buffered before the first
 * snapshot, then replayed through it: found by fuzzing as a NULL + 0 under
 * UBSan when no update had levels yet. */
static void test_empty_updates_buffered(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    assert_int_equal(msg(&f, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":99,\"u\":101,"
                             "\"pu\":98,\"b\":[],\"a\":[]}", 1),
                     BRS_OK);
    assert_int_equal(msg(&f, "{\"e\":\"depthUpdate\",\"E\":2,\"s\":\"XUSDT\",\"U\":102,\"u\":103,"
                             "\"pu\":101,\"b\":[],\"a\":[]}", 2),
                     BRS_OK);
    assert_int_equal(r.n, 0); /* waiting for the snapshot */
    brs_error e = {0};
    const char *snap = "{\"lastUpdateId\":100,\"bids\":[[\"1.0\",\"1\"]],\"asks\":[[\"2.0\",\"1\"]]}";
    assert_int_equal(brs__bn_feed_snapshot(&f, "XUSDT", snap, strlen(snap), 3, &e), BRS_OK);
    assert_false(brs__bn_needs_snapshot(&f, 0)); /* both replayed, in sync */
    assert_int_equal(f.sym[0].last_u, 103);
    brs__bn_feed_free(&f);
}

static void test_malformed(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    brs_error e;
    const char *snap = "{\"lastUpdateId\":100,\"bids\":[[\"1.0\",\"1\"]],\"asks\":[[\"2.0\",\"1\"]]}";
    assert_int_equal(brs__bn_feed_snapshot(&f, "XUSDT", snap, strlen(snap), 1, &e), BRS_OK);
    size_t base = r.n;
    static const char *bad[] = {
        "",
        "{",
        "[]",
        "{\"e\":\"depthUpdate\"",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"b\":[[\"1.0\",\"2\"]],\"a\":[[\"2.0\"]]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"b\":[[\"1.0\",\"2\"],],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"b\":[[\"1.05\",\"2\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"b\":[[\"abc\",\"2\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"u\":101,\"pu\":99,\"b\":[],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1.5,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"b\":[],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"b\":[],\"a\":[]}x",
        "{\"e\":\"bookTicker\",\"E\":1,\"s\":\"XUSDT\",\"b\":\"1.0\",\"a\":\"2.0\",\"A\":\"1\"}",
        "{\"e\":\"aggTrade\",\"E\":1,\"s\":\"XUSDT\",\"p\":\"1.0\",\"q\":\"1\"}",
        "{\"e\":\"aggTrade\",\"E\":1,\"p\":\"1.0\",\"q\":\"1\",\"a\":5}",
        "{\"e\":\"aggTrade\",\"E\":1,\"s\":\"XUSDT\",\"p\":\"1.0\",\"q\":\"1\",\"a\":5,\"m\":tru}",
        "{\"e\":\"x\",\"k\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"e\":\"bookTicker\",\"s\":\"XUSDT\",\"b\":\"1.0\",\"B\":\"1\",\"a\":\"2.0\",\"A\":\"1\"}",
        "{\"e\":\"bookTicker\",\"E\":1,\"s\":\"X\tUSDT\",\"b\":\"1.0\",\"B\":\"1\",\"a\":\"2.0\",\"A\":\"1\"}",
        /* times beyond what int64 nanoseconds hold, or before 1970 (found by fuzzing) */
        "{\"e\":\"aggTrade\",\"E\":16269927412400,\"s\":\"XUSDT\",\"p\":\"1.0\",\"q\":\"1\",\"a\":5}",
        "{\"e\":\"aggTrade\",\"E\":1,\"T\":-1,\"s\":\"XUSDT\",\"p\":\"1.0\",\"q\":\"1\",\"a\":5}",
        "{\"e\":\"kline\",\"E\":1,\"s\":\"XUSDT\",\"k\":{\"T\":9223372036854775,\"o\":\"1.0\",\"c\":\"1.0\","
        "\"h\":\"1.0\",\"l\":\"1.0\",\"v\":\"1\",\"x\":true}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = msg(&f, bad[i], 2);
        if (rc == BRS_OK)
            fail_msg("accepted malformed message %zu: %s", i, bad[i]);
        assert_int_equal(r.n, base); /* nothing emitted for a rejected message */
    }
    assert_int_equal(f.n_errors, sizeof bad / sizeof bad[0]);
    /* the feed still works and the book was not touched by the rejects */
    brs__bn_symbol *y = brs__bn_find(&f, "XUSDT");
    assert_int_equal(brs__l2_qty(&y->book, BRS_BUY, 10), 1);
    assert_int_equal(msg(&f, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"XUSDT\",\"U\":100,\"u\":101,\"pu\":99,\"b\":[[\"1.0\",\"2\"]],\"a\":[]}", 3), BRS_OK);
    assert_int_equal(brs__l2_qty(&y->book, BRS_BUY, 10), 2);
    /* a malformed snapshot names what is missing */
    assert_int_equal(brs__bn_feed_snapshot(&f, "XUSDT", "{\"bids\":[]}", 11, 1, &e), BRS_E_PARSE);
    assert_non_null(strstr(e.msg, "lastUpdateId"));
    brs__bn_feed_free(&f);
}

static void test_split_record(void **st)
{
    (void)st;
    int kind;
    int64_t ns;
    const char *j;
    size_t jl;
    char sym[BRS_SYMBOL_MAX];
    const char *h = "https://fapi.binance.com/fapi/v1/depth?symbol=sushiusdt&limit=1000 -> 1626992741.301402: {\"a\":1}\n";
    assert_int_equal(brs__bn_split_record(h, strlen(h), &kind, &ns, &j, &jl, sym), BRS_OK);
    assert_int_equal(kind, 'H');
    assert_string_equal(sym, "SUSHIUSDT");
    assert_int_equal(ns, 1626992741301402000LL);
    assert_int_equal(jl, 7);
    const char *w = "1626992741.06217: {}";
    assert_int_equal(brs__bn_split_record(w, strlen(w), &kind, &ns, &j, &jl, sym), BRS_OK);
    assert_int_equal(kind, 'W');
    assert_int_equal(jl, 2);
    const char *x = "wss://fstream <-> 1";
    assert_int_equal(brs__bn_split_record(x, strlen(x), &kind, &ns, &j, &jl, sym), BRS_OK);
    assert_int_equal(kind, 0);
    assert_int_equal(brs__bn_split_record("junk", 4, &kind, &ns, &j, &jl, sym), BRS_E_PARSE);
}

/* ---- the real recorded session ------------------------------------------ */

/* The independent book: cJSON + price strings compared as exact decimals via
 * strtold-free integer maths: each price string is normalized by stripping
 * trailing zeros, and levels live in a simple unsorted array per symbol/side. */
typedef struct nlevel {
    char price[32];
    char qty[32];
} nlevel;
typedef struct nbook {
    char sym[32];
    nlevel lv[2][4096];
    int n[2];
    long long last_u;
    int synced, bridged;
} nbook;

static void norm(const char *s, char *out)
{
    snprintf(out, 32, "%s", s);
    if (strchr(out, '.')) {
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '0')
            out[--n] = '\0';
        if (n > 0 && out[n - 1] == '.')
            out[--n] = '\0';
    }
}

static void nset(nbook *b, int side, const char *p, const char *q)
{
    char np[32], nq[32];
    norm(p, np);
    norm(q, nq);
    for (int i = 0; i < b->n[side]; i++)
        if (strcmp(b->lv[side][i].price, np) == 0) {
            if (strcmp(nq, "0") == 0)
                b->lv[side][i] = b->lv[side][--b->n[side]];
            else
                strcpy(b->lv[side][i].qty, nq);
            return;
        }
    if (strcmp(nq, "0") != 0) {
        assert_true(b->n[side] < 4096);
        strcpy(b->lv[side][b->n[side]].price, np);
        strcpy(b->lv[side][b->n[side]++].qty, nq);
    }
}

static void napply(nbook *b, cJSON *bids, cJSON *asks)
{
    cJSON *l;
    cJSON_ArrayForEach(l, bids) nset(b, 0, cJSON_GetArrayItem(l, 0)->valuestring,
                                     cJSON_GetArrayItem(l, 1)->valuestring);
    cJSON_ArrayForEach(l, asks) nset(b, 1, cJSON_GetArrayItem(l, 0)->valuestring,
                                     cJSON_GetArrayItem(l, 1)->valuestring);
}

static void test_real_session(void **st)
{
    (void)st;
    char *ws = test_read_file(BOURSE_SHARED_DIR "/data/binance/cryptofeed_BINANCE_FUTURES.ws.1.0", NULL);
    char *http = test_read_file(BOURSE_SHARED_DIR "/data/binance/cryptofeed_BINANCE_FUTURES.http.0.0", NULL);
    if (!ws || !http) {
        free(ws);
        free(http);
        printf("SKIP: %s/data/binance not found (../shared absent)\n", BOURSE_SHARED_DIR);
        skip();
    }
    /* the snapshots, in file order (their receive times are increasing) */
    struct {
        char sym[BRS_SYMBOL_MAX];
        int64_t ns;
        const char *j;
        size_t n;
    } snaps[8];
    int nsnap = 0;
    for (char *line = http; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        int kind;
        assert_true(nsnap < 8);
        assert_int_equal(brs__bn_split_record(line, len, &kind, &snaps[nsnap].ns, &snaps[nsnap].j,
                                              &snaps[nsnap].n, snaps[nsnap].sym),
                         BRS_OK);
        if (kind == 'H')
            nsnap++;
        line = nl ? nl + 1 : line + len;
    }
    assert_int_equal(nsnap, 4);

    static rec r;
    memset(&r, 0, sizeof r);
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    f.on_gap = on_gap;
    f.gap_ud = &r;
    static nbook nb[4];
    memset(nb, 0, sizeof nb);
    for (int i = 0; i < 4; i++)
        strcpy(nb[i].sym, snaps[i].sym);
    /* the independent rebuild buffers updates as raw JSON until its snapshot */
    static char *npend[4][512];
    int nnp[4] = {0};

    int si = 0, lines = 0;
    brs_error e = {0};
    for (char *line = ws; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        int kind;
        int64_t ns;
        const char *j;
        size_t jl;
        assert_int_equal(brs__bn_split_record(line, len, &kind, &ns, &j, &jl, NULL), BRS_OK);
        line = nl ? nl + 1 : line + len;
        if (kind != 'W')
            continue;
        while (si < nsnap && snaps[si].ns <= ns) {
            assert_int_equal(brs__bn_feed_snapshot(&f, snaps[si].sym, snaps[si].j, snaps[si].n,
                                                   snaps[si].ns, &e),
                             BRS_OK);
            /* independent: snapshot then buffered updates */
            cJSON *s = cJSON_ParseWithLength(snaps[si].j, snaps[si].n);
            assert_non_null(s);
            nbook *b = &nb[si];
            long long L = (long long)cJSON_GetObjectItemCaseSensitive(s, "lastUpdateId")->valuedouble;
            napply(b, cJSON_GetObjectItemCaseSensitive(s, "bids"), cJSON_GetObjectItemCaseSensitive(s, "asks"));
            b->last_u = L;
            b->synced = 1;
            int first = 1;
            for (int k = 0; k < nnp[si]; k++) {
                cJSON *m = cJSON_Parse(npend[si][k]);
                cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "data");
                long long U = (long long)cJSON_GetObjectItemCaseSensitive(d, "U")->valuedouble;
                long long u = (long long)cJSON_GetObjectItemCaseSensitive(d, "u")->valuedouble;
                if (u >= L) {
                    if (first)
                        assert_true(U <= L);
                    first = 0;
                    b->bridged = 1;
                    napply(b, cJSON_GetObjectItemCaseSensitive(d, "b"), cJSON_GetObjectItemCaseSensitive(d, "a"));
                    b->last_u = u;
                }
                cJSON_Delete(m);
                free(npend[si][k]);
            }
            cJSON_Delete(s);
            si++;
        }
        int rc = brs__bn_feed_message(&f, j, jl, ns, &e);
        if (rc)
            fail_msg("line %d: %s", lines, e.msg);
        lines++;
        cJSON *m = cJSON_ParseWithLength(j, jl);
        assert_non_null(m);
        cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "data");
        const char *et = cJSON_GetObjectItemCaseSensitive(d, "e")->valuestring;
        if (strcmp(et, "depthUpdate") == 0) {
            const char *sym = cJSON_GetObjectItemCaseSensitive(d, "s")->valuestring;
            for (int i = 0; i < 4; i++) {
                if (strcmp(nb[i].sym, sym) != 0)
                    continue;
                if (!nb[i].synced) {
                    assert_true(nnp[i] < 512);
                    npend[i][nnp[i]] = strndup(j, jl);
                    nnp[i]++;
                } else {
                    long long pu = (long long)cJSON_GetObjectItemCaseSensitive(d, "pu")->valuedouble;
                    long long U = (long long)cJSON_GetObjectItemCaseSensitive(d, "U")->valuedouble;
                    long long u = (long long)cJSON_GetObjectItemCaseSensitive(d, "u")->valuedouble;
                    if (!nb[i].bridged) {
                        if (u < nb[i].last_u)
                            continue; /* older than the snapshot */
                        assert_true(U <= nb[i].last_u);
                        nb[i].bridged = 1;
                    } else
                        assert_int_equal(pu, nb[i].last_u); /* this recording has no gap */
                    napply(&nb[i], cJSON_GetObjectItemCaseSensitive(d, "b"), cJSON_GetObjectItemCaseSensitive(d, "a"));
                    nb[i].last_u = u;
                }
            }
        }
        cJSON_Delete(m);
    }
    assert_int_equal(lines, 1535);
    assert_int_equal(r.gaps, 0);
    assert_int_equal(f.n_errors, 0);
    assert_int_equal(f.nsym, 4);
    /* compare every symbol's book, level by level */
    for (int i = 0; i < 4; i++) {
        brs__bn_symbol *y = brs__bn_find(&f, nb[i].sym);
        assert_non_null(y);
        assert_int_equal(y->state, BRS__BN_LIVE);
        assert_true(y->n_applied > 10);
        assert_int_equal((uint64_t)nb[i].last_u, y->last_u);
        for (int s = 0; s < 2; s++) {
            assert_int_equal(brs__l2_levels(&y->book, s), (uint32_t)nb[i].n[s]);
            for (int k = 0; k < nb[i].n[s]; k++) {
                int pd = y->price_dec, qd = y->qty_dec;
                int64_t p, q;
                assert_int_equal(brs__dec_parse(nb[i].lv[s][k].price, strlen(nb[i].lv[s][k].price),
                                                &pd, &p),
                                 BRS_OK);
                assert_int_equal(
                    brs__dec_parse(nb[i].lv[s][k].qty, strlen(nb[i].lv[s][k].qty), &qd, &q),
                    BRS_OK);
                assert_int_equal(brs__l2_qty(&y->book, s, p), q);
            }
        }
        printf("%s: %u bids, %u asks, %llu updates applied, %llu dropped, last_u %llu\n", y->name,
               brs__l2_levels(&y->book, 0), brs__l2_levels(&y->book, 1),
               (unsigned long long)y->n_applied, (unsigned long long)y->n_dropped,
               (unsigned long long)y->last_u);
    }
    /* ts_local never goes backwards in the output */
    for (size_t k = 1; k < r.n && k < MAXEV; k++)
        if (r.ev[k].instrument == r.ev[k - 1].instrument)
            assert_true(r.ev[k].ts_local >= r.ev[k - 1].ts_local);
    /* the session's four closed one-minute klines (one per symbol) are bars */
    for (uint32_t i = 0; i < f.nsym; i++)
        assert_int_equal(f.sym[i].n_bars, 1);
    brs__bn_feed_free(&f);
    free(ws);
    free(http);
}

/* Deterministic mutations of real-shaped messages (truncations, flipped and
 * inserted bytes): never a crash or a sanitizer report, every refusal has a
 * message, and a refused message emits nothing. */
static void test_mutations(void **st)
{
    (void)st;
    static const char *seeds[] = {
        "{\"stream\":\"sushiusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1626992741037,"
        "\"T\":1626992741024,\"s\":\"SUSHIUSDT\",\"U\":600859599090,\"u\":600859600917,\"pu\":"
        "600859598061,\"b\":[[\"7.5040\",\"813\"],[\"7.6090\",\"0\"]],\"a\":[[\"7.6150\",\"1563\"]]}}",
        "{\"stream\":\"sushiusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":600859600576,\"s\":"
        "\"SUSHIUSDT\",\"b\":\"7.6110\",\"B\":\"2\",\"a\":\"7.6120\",\"A\":\"297\",\"T\":1,\"E\":2}}",
        "{\"stream\":\"ctkusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1626992741575,\"a\":16599292,"
        "\"s\":\"CTKUSDT\",\"p\":\"1.01100\",\"q\":\"10\",\"f\":1,\"l\":2,\"T\":1,\"m\":false}}",
    };
    static rec r;
    brs__bn_feed f;
    brs__bn_feed_init(&f, sink, &r);
    const char *snap = "{\"lastUpdateId\":600859599000,\"bids\":[[\"7.6000\",\"1\"]],\"asks\":[]}";
    brs_error e;
    assert_int_equal(brs__bn_feed_snapshot(&f, "SUSHIUSDT", snap, strlen(snap), 1, &e), BRS_OK);
    uint64_t x = 12345;
    char buf[1024];
    int refused = 0, accepted = 0;
    for (int it = 0; it < 20000; it++) {
        const char *sd = seeds[it % 3];
        size_t n = strlen(sd);
        memcpy(buf, sd, n);
        int muts = 1 + (int)((x >> 40) % 3);
        for (int m = 0; m < muts && n > 0; m++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pos = (size_t)((x >> 33) % n);
            switch ((x >> 20) % 4) {
            case 0: n = pos; break;                                    /* truncate */
            case 1: buf[pos] = (char)(x >> 8); break;                  /* flip a byte */
            case 2: buf[pos] = "{}[]\",:0-.e\\"[(x >> 12) % 13]; break; /* structural */
            default:                                                   /* insert */
                if (n < sizeof buf - 1) {
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = "\"[{,"[(x >> 12) % 4];
                    n++;
                }
            }
        }
        size_t before = r.n;
        memset(&e, 0, sizeof e);
        /* an exact-size heap copy, not NUL-terminated: ASan sees any overread */
        char *exact = malloc(n ? n : 1);
        assert_non_null(exact);
        memcpy(exact, buf, n);
        int rc = brs__bn_feed_message(&f, exact, n, 3, &e);
        free(exact);
        if (rc) {
            refused++;
            assert_true(e.msg[0] != '\0');
            assert_int_equal(r.n, before);
        } else
            accepted++;
    }
    printf("mutations: %d refused, %d accepted (a mutation can leave valid JSON)\n", refused, accepted);
    assert_true(refused > 1000);
    brs__bn_feed_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal),      cmocka_unit_test(test_book),
        cmocka_unit_test(test_sync),         cmocka_unit_test(test_spot_rules),
        cmocka_unit_test(test_quote_trade),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_split_record), cmocka_unit_test(test_real_session),
        cmocka_unit_test(test_mutations),    cmocka_unit_test(test_kline_bar),
        cmocka_unit_test(test_empty_updates_buffered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
