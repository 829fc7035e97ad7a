/* test_wsgate_msg.c: the WebSocket order-entry message parser (host/wsgate/
 * msg.c): every op parses into what the gateway uses, and each kind of bad
 * input is refused with the offending field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bourse/types.h>

#include "wsgate/msg.h"

static int parse(const char *s, brs__wsg_req *r, char *field)
{
    brs_error e = {0};
    int rc = brs__wsg_parse(s, strlen(s), r, field, 64, &e);
    if (rc)
        assert_true(e.msg[0] != 0);
    return rc;
}

static void test_ops(void **st)
{
    (void)st;
    brs__wsg_req r;
    char f[64];
    assert_int_equal(parse("{\"op\":\"login\",\"id\":7,\"account\":\"alice\",\"token\":\"t0k3n\"}", &r, f), 0);
    assert_int_equal(r.op, BRS__WSG_LOGIN);
    assert_true(r.has_id);
    assert_int_equal(r.id, 7);
    assert_string_equal(r.account, "alice");
    assert_string_equal(r.token, "t0k3n");
    assert_int_equal(parse("{\"op\":\"place\",\"client_order_id\":\"a-1\",\"symbol\":\"XYZ\",\"side\":\"sell\","
                           "\"price\":\"100.25\",\"qty\":10}", &r, f), 0);
    assert_int_equal(r.op, BRS__WSG_PLACE);
    assert_int_equal(r.side, BRS_SELL);
    assert_int_equal(r.type, BRS_LIMIT);
    assert_int_equal(r.tif, BRS_GTC);
    assert_string_equal(r.price, "100.25");
    assert_int_equal(r.qty, 10);
    assert_int_equal(parse("{\"op\":\"place\",\"client_order_id\":\"m\",\"symbol\":\"XYZ\",\"side\":\"buy\","
                           "\"type\":\"market\",\"qty\":3}", &r, f), 0);
    assert_int_equal(r.type, BRS_MARKET);
    assert_int_equal(r.tif, BRS_IOC);
    assert_int_equal(parse("{\"op\":\"place\",\"client_order_id\":\"n\",\"symbol\":\"XYZ\",\"side\":\"buy\","
                           "\"price\":99.5,\"qty\":1,\"post_only\":true}", &r, f), 0);
    assert_string_equal(r.price, "99.5");
    assert_true(r.post_only);
    assert_int_equal(parse("{\"op\":\"replace\",\"client_order_id\":\"a-1\",\"qty\":4}", &r, f), 0);
    assert_int_equal(r.qty, 4);
    assert_string_equal(r.price, "");
    assert_int_equal(parse("{\"op\":\"cancel\",\"client_order_id\":\"a-1\"}", &r, f), 0);
    assert_int_equal(parse("{\"op\":\"query\"}", &r, f), 0);
    assert_false(r.has_id);
    assert_int_equal(parse("{\"op\":\"subscribe\",\"channel\":\"book\",\"symbol\":\"XYZ\",\"depth\":3}", &r, f), 0);
    assert_int_equal(r.channel, BRS__WSG_CH_BOOK);
    assert_int_equal(r.depth, 3);
    assert_int_equal(parse("{\"op\":\"unsubscribe\",\"channel\":\"fills\"}", &r, f), 0);
    assert_int_equal(r.channel, BRS__WSG_CH_FILLS);
}

static void test_field_errors(void **st)
{
    (void)st;
    static const struct {
        const char *msg, *field;
    } bad[] = {
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"qty\":1}", "price"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"up\",\"price\":\"1\",\"qty\":1}", "side"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":\"1\",\"qty\":1.5}", "qty"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":\"1\",\"qty\":0}", "qty"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":\"1.2.3\",\"qty\":1}", "price"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":1e30,\"qty\":1}", "price"},
        {"{\"op\":\"place\",\"client_order_id\":\"a b\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":\"1\",\"qty\":1}", "client_order_id"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"type\":\"market\",\"price\":\"1\",\"qty\":1}", "price"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":\"1\",\"qty\":1,\"tif\":\"ioc\",\"post_only\":true}", "post_only"},
        {"{\"op\":\"place\",\"client_order_id\":\"a\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":\"1\",\"qty\":1,\"colour\":1}", "colour"},
        {"{\"op\":\"login\",\"account\":\"a\"}", "token"},
        {"{\"op\":\"fly\"}", "op"},
        {"{\"id\":-1,\"op\":\"query\"}", "id"},
        {"{\"op\":\"replace\",\"client_order_id\":\"a\"}", ""},
        {"{\"op\":\"subscribe\",\"channel\":\"book\"}", "symbol"},
        {"{\"op\":\"subscribe\",\"channel\":\"fills\",\"depth\":5}", "depth"},
        {"{\"op\":\"subscribe\",\"channel\":\"news\"}", "channel"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        brs__wsg_req r;
        char f[64];
        if (parse(bad[i].msg, &r, f) != BRS_E_INVAL)
            fail_msg("accepted: %s", bad[i].msg);
        if (strcmp(f, bad[i].field))
            fail_msg("%s: field '%s', expected '%s'", bad[i].msg, f, bad[i].field);
    }
    brs__wsg_req r;
    char f[64];
    assert_int_equal(parse("[1]", &r, f), BRS_E_PARSE);
    assert_int_equal(parse("{\"op\":", &r, f), BRS_E_PARSE);
    /* the id is still known when another field is wrong, so the answer can name the request */
    assert_int_equal(parse("{\"id\":42,\"op\":\"cancel\"}", &r, f), BRS_E_INVAL);
    assert_true(r.has_id);
    assert_int_equal(r.id, 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ops), cmocka_unit_test(test_field_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
