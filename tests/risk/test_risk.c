/* test_risk.c: each pre-trade check refuses exactly what it should: the value at
 * the limit passes, one unit past it is refused with BRS_E_RISK naming the
 * check; config keys are strict. The kill switch with open orders is tested
 * with the order manager in tests/sor/test_sor_manager.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "risk/risk.h"

static brs_order ord(int side, int64_t price, int64_t qty)
{
    brs_order o = {0};
    o.side = (uint8_t)side;
    o.price = price;
    o.qty = qty;
    o.type = BRS_LIMIT;
    return o;
}

#define REFUSED(r, o, now, name)                                                    \
    do {                                                                            \
        brs_error e_ = {0};                                                         \
        assert_int_equal(brs__risk_check((r), (o), (now), &e_), BRS_E_RISK);       \
        assert_non_null(strstr(e_.msg, name));                                      \
    } while (0)
#define PASSES(r, o, now) assert_int_equal(brs__risk_check((r), (o), (now), NULL), BRS_OK)

static void test_max_order_qty(void **s)
{
    (void)s;
    brs_risk_config c = {0};
    c.def.max_order_qty = 100;
    c.inst[1].max_order_qty = 5;
    brs_risk r;
    brs__risk_init(&r, &c);
    brs_order o = ord(BRS_BUY, 10, 100);
    PASSES(&r, &o, 0);
    o.qty = 101;
    REFUSED(&r, &o, 0, "max_order_qty");
    o.side = BRS_SELL;
    REFUSED(&r, &o, 0, "max_order_qty");
    o.instrument = 1; /* override */
    o.qty = 5;
    PASSES(&r, &o, 0);
    o.qty = 6;
    REFUSED(&r, &o, 0, "max_order_qty");
}

static void test_max_notional(void **s)
{
    (void)s;
    brs_risk_config c = {0};
    c.def.max_order_notional = 1000;
    brs_risk r;
    brs__risk_init(&r, &c);
    brs_order o = ord(BRS_BUY, 100, 10);
    PASSES(&r, &o, 0);
    o.price = 101;
    REFUSED(&r, &o, 0, "max_order_notional");
    /* market order: valued at the reference, refused without one */
    brs_order m = ord(BRS_SELL, 0, 10);
    m.type = BRS_MARKET;
    REFUSED(&r, &m, 0, "no reference price");
    brs__risk_set_ref(&r, 0, 100);
    PASSES(&r, &m, 0);
    m.qty = 11;
    REFUSED(&r, &m, 0, "max_order_notional");
}

static void test_price_band(void **s)
{
    (void)s;
    brs_risk_config c = {0};
    c.def.price_band_bps = 50; /* 0.5% of 10000 = 50 ticks */
    brs_risk r;
    brs__risk_init(&r, &c);
    brs_order o = ord(BRS_BUY, 10050, 1);
    REFUSED(&r, &o, 0, "price_band: no reference");
    brs__risk_set_ref(&r, 0, 10000);
    PASSES(&r, &o, 0);
    o.price = 10051;
    REFUSED(&r, &o, 0, "price_band");
    o.price = 9950;
    o.side = BRS_SELL;
    PASSES(&r, &o, 0);
    o.price = 9949;
    REFUSED(&r, &o, 0, "price_band");
    brs_order m = ord(BRS_BUY, 1, 1);
    m.type = BRS_MARKET; /* no price: the band does not apply */
    PASSES(&r, &m, 0);
}

static void test_max_position(void **s)
{
    (void)s;
    brs_risk_config c = {0};
    c.def.max_position = 10;
    brs_risk r;
    brs__risk_init(&r, &c);
    brs_order b = ord(BRS_BUY, 1, 10);
    PASSES(&r, &b, 0);
    b.qty = 11;
    REFUSED(&r, &b, 0, "max_position");
    /* open orders count as if filled */
    brs__risk_on_open(&r, 0, BRS_BUY, 4);
    b.qty = 6;
    PASSES(&r, &b, 0);
    b.qty = 7;
    REFUSED(&r, &b, 0, "max_position");
    /* fills move open to position; the sum stays */
    brs__risk_on_fill(&r, 0, BRS_BUY, 4);
    assert_int_equal(r.position[0], 4);
    b.qty = 6;
    PASSES(&r, &b, 0);
    b.qty = 7;
    REFUSED(&r, &b, 0, "max_position");
    /* a long position leaves room to sell through zero to -10 */
    brs_order sl = ord(BRS_SELL, 1, 14);
    PASSES(&r, &sl, 0);
    sl.qty = 15;
    REFUSED(&r, &sl, 0, "max_position");
    /* a closed order frees its open quantity */
    brs__risk_on_open(&r, 0, BRS_SELL, 5);
    sl.qty = 9;
    PASSES(&r, &sl, 0);
    sl.qty = 10;
    REFUSED(&r, &sl, 0, "max_position");
    brs__risk_on_close(&r, 0, BRS_SELL, 5);
    sl.qty = 14;
    PASSES(&r, &sl, 0);
}

static void test_rate_limit(void **s)
{
    (void)s;
    brs_risk_config c = {0};
    c.rate_per_sec = 10; /* one token per 100 ms */
    c.rate_burst = 3;
    brs_risk r;
    brs__risk_init(&r, &c);
    brs_order o = ord(BRS_BUY, 1, 1);
    int64_t t = 1000000000LL;
    PASSES(&r, &o, t);
    PASSES(&r, &o, t);
    PASSES(&r, &o, t);
    REFUSED(&r, &o, t, "rate_limit");
    REFUSED(&r, &o, t + 99999999, "rate_limit"); /* 1 ns short of a token */
    PASSES(&r, &o, t + 100000000);
    REFUSED(&r, &o, t + 100000000, "rate_limit");
    /* a long pause refills only up to the burst */
    int64_t t2 = t + 3600LL * 1000000000LL;
    PASSES(&r, &o, t2);
    PASSES(&r, &o, t2);
    PASSES(&r, &o, t2);
    REFUSED(&r, &o, t2, "rate_limit");
    /* a refused order by another check takes no token */
    brs_risk_config c2 = c;
    c2.def.max_order_qty = 1;
    brs__risk_init(&r, &c2);
    brs_order big = ord(BRS_BUY, 1, 2);
    for (int i = 0; i < 10; i++)
        REFUSED(&r, &big, t, "max_order_qty");
    PASSES(&r, &o, t);
}

static void test_kill_switch(void **s)
{
    (void)s;
    brs_risk r;
    brs__risk_init(&r, NULL);
    brs_order o = ord(BRS_BUY, 1, 1);
    PASSES(&r, &o, 0);
    brs__risk_kill(&r, "operator");
    REFUSED(&r, &o, 0, "kill_switch");
    REFUSED(&r, &o, 0, "operator");
    brs__risk_rearm(&r);
    PASSES(&r, &o, 0);
}

static void test_config(void **s)
{
    (void)s;
    brs_instrument insts[2] = {{.id = 0, .symbol = "AAA"}, {.id = 1, .symbol = "BBB"}};
    brs_config cfg;
    brs_error err = {0};
    assert_int_equal(brs__config_parse(&cfg,
                                       "{\"risk\": {\"max_order_qty\": 100, \"rate_per_sec\": 5,"
                                       " \"instruments\": {\"BBB\": {\"max_position\": 7}}}}",
                                       "r.json", &err),
                     0);
    brs_risk_config rc;
    assert_int_equal(brs__risk_config_read(&cfg, cJSON_GetObjectItem(cfg.root, "risk"), insts, 2,
                                           &rc, &err),
                     0);
    assert_int_equal(rc.def.max_order_qty, 100);
    assert_int_equal(rc.rate_per_sec, 5);
    assert_int_equal(rc.inst[1].max_position, 7);
    assert_int_equal(rc.inst[0].max_position, 0);
    brs__config_free(&cfg);

    const char *bad[][2] = {
        {"{\"risk\": {\"max_qty\": 1}}", "unknown key 'risk.max_qty'"},
        {"{\"risk\": {\"max_position\": -1}}", "max_position must be >= 0"},
        {"{\"risk\": {\"max_position\": \"x\"}}", "max_position"},
        {"{\"risk\": {\"instruments\": {\"ZZZ\": {}}}}", "ZZZ: unknown instrument"},
        {"{\"risk\": {\"instruments\": {\"AAA\": {\"rate_per_sec\": 1}}}}", "unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(brs__config_parse(&cfg, bad[i][0], "bad.json", &err), 0);
        err.msg[0] = 0;
        assert_int_not_equal(brs__risk_config_read(&cfg, cJSON_GetObjectItem(cfg.root, "risk"),
                                                   insts, 2, &rc, &err),
                             0);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i][1]);
        assert_non_null(strstr(err.msg, "bad.json"));
        brs__config_free(&cfg);
    }
}

/* A replace is checked as its new version: the replaced order's open quantity
 * no longer counts, and what it already filled is in the position already. */
static void test_replace(void **s)
{
    (void)s;
    brs_risk_config c = {0};
    c.def.max_position = 10;
    c.def.max_order_qty = 8;
    brs_risk r;
    brs__risk_init(&r, &c);
    /* an open buy of 6 with 2 filled: position 2, open 4 */
    brs__risk_on_open(&r, 0, BRS_BUY, 6);
    brs__risk_on_fill(&r, 0, BRS_BUY, 2);
    brs_order b = ord(BRS_BUY, 1, 8); /* new total 8: worst 2 + (8 - 2) = 8 */
    assert_int_equal(brs__risk_check_replace(&r, &b, 4, 2, 0, NULL), BRS_OK);
    /* another open buy of 3 of the same side now counts: 2 + 3 + 6 = 11 */
    brs__risk_on_open(&r, 0, BRS_BUY, 3);
    brs_error e = {0};
    assert_int_equal(brs__risk_check_replace(&r, &b, 4, 2, 0, &e), BRS_E_RISK);
    assert_non_null(strstr(e.msg, "max_position"));
    b.qty = 7; /* 2 + 3 + 5 = 10: at the limit */
    assert_int_equal(brs__risk_check_replace(&r, &b, 4, 2, 0, NULL), BRS_OK);
    /* size applies to the new total, not to what is left of it */
    brs__risk_on_close(&r, 0, BRS_BUY, 3);
    b.qty = 9;
    assert_int_equal(brs__risk_check_replace(&r, &b, 4, 2, 0, &e), BRS_E_RISK);
    assert_non_null(strstr(e.msg, "max_order_qty"));
    /* a new quantity not above the filled one is refused, not checked */
    b.qty = 2;
    assert_int_equal(brs__risk_check_replace(&r, &b, 4, 2, 0, &e), BRS_E_RISK);
    /* on the sell side the long position makes room */
    brs_order sl = ord(BRS_SELL, 1, 8);
    brs__risk_on_open(&r, 0, BRS_SELL, 8);
    assert_int_equal(brs__risk_check_replace(&r, &sl, 8, 0, 0, NULL), BRS_OK);
    brs__risk_on_open(&r, 0, BRS_SELL, 5); /* 5 + 8 - 2 = 11 */
    assert_int_equal(brs__risk_check_replace(&r, &sl, 8, 0, 0, &e), BRS_E_RISK);
    assert_non_null(strstr(e.msg, "max_position"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_order_qty), cmocka_unit_test(test_max_notional),
        cmocka_unit_test(test_price_band),    cmocka_unit_test(test_max_position),
        cmocka_unit_test(test_rate_limit),    cmocka_unit_test(test_kill_switch),
        cmocka_unit_test(test_config),        cmocka_unit_test(test_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
