/* test_config.c: JSON configuration: syntax errors name file/line/column,
 * --set overrides, unknown keys and wrong types are refused by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

static void test_syntax_error_names_line(void **state)
{
    (void)state;
    brs_config cfg;
    brs_error err = {0};
    int rc = brs__config_parse(&cfg, "{\n  \"a\": 1,\n  \"b\": ]\n}", "run.json", &err);
    assert_int_equal(rc, BRS_E_PARSE);
    assert_non_null(strstr(err.msg, "run.json:3:"));
}

static void test_not_an_object(void **state)
{
    (void)state;
    brs_config cfg;
    brs_error err = {0};
    assert_int_equal(brs__config_parse(&cfg, "[1,2]", "x.json", &err), BRS_E_PARSE);
    assert_non_null(strstr(err.msg, "must be a JSON object"));
}

static void test_set_overrides(void **state)
{
    (void)state;
    brs_config cfg;
    brs_error err = {0};
    assert_int_equal(brs__config_parse(&cfg, "{\"fees\": {\"maker\": 1}}", "c.json", &err), 0);
    assert_int_equal(brs__config_set(&cfg, "fees.maker=-2", &err), 0);
    assert_int_equal(brs__config_set(&cfg, "strategy.params.fast=20", &err), 0);
    assert_int_equal(brs__config_set(&cfg, "name=hello world", &err), 0);
    const cJSON *fees = cJSON_GetObjectItem(cfg.root, "fees");
    int64_t v;
    assert_int_equal(brs__config_int(&cfg, fees, "fees", "maker", 0, &v, &err), 0);
    assert_int_equal(v, -2);
    const cJSON *params =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cfg.root, "strategy"), "params");
    assert_int_equal(brs__config_int(&cfg, params, "strategy.params", "fast", 0, &v, &err), 0);
    assert_int_equal(v, 20);
    const char *s;
    assert_int_equal(brs__config_string(&cfg, cfg.root, "", "name", NULL, &s, &err), 0);
    assert_string_equal(s, "hello world");
    assert_int_equal(brs__config_set(&cfg, "noequals", &err), BRS_E_INVAL);
    assert_int_equal(brs__config_set(&cfg, "name.x=1", &err), BRS_E_INVAL);
    brs__config_free(&cfg);
}

static void test_unknown_key_and_types(void **state)
{
    (void)state;
    brs_config cfg;
    brs_error err = {0};
    assert_int_equal(
        brs__config_parse(&cfg, "{\"mode\": \"book\", \"spead\": 3, \"n\": 1.5}", "bt.json", &err),
        0);
    static const char *const allowed[] = {"mode", "n", NULL};
    assert_int_equal(brs__config_check_keys(&cfg, cfg.root, "", allowed, &err), BRS_E_INVAL);
    assert_string_equal(err.msg, "bt.json: unknown key 'spead'");
    int64_t v;
    assert_int_equal(brs__config_int(&cfg, cfg.root, "", "n", 0, &v, &err), BRS_E_INVAL);
    assert_string_equal(err.msg, "bt.json: 'n' must be an integer");
    assert_int_equal(brs__config_int(&cfg, cfg.root, "", "absent", 7, &v, &err), 0);
    assert_int_equal(v, 7);
    int b;
    assert_int_equal(brs__config_bool(&cfg, cfg.root, "", "mode", 0, &b, &err), BRS_E_INVAL);
    brs__config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_error_names_line),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_unknown_key_and_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
