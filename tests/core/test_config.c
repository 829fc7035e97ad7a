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
    /* only a value that is JSON as a whole is parsed: a time or "10abc" stays text */
    assert_int_equal(brs__config_set(&cfg, "t=16:05:30", &err), 0);
    assert_int_equal(brs__config_string(&cfg, cfg.root, "", "t", NULL, &s, &err), 0);
    assert_string_equal(s, "16:05:30");
    assert_int_equal(brs__config_set(&cfg, "u=10abc", &err), 0);
    assert_int_equal(brs__config_string(&cfg, cfg.root, "", "u", NULL, &s, &err), 0);
    assert_string_equal(s, "10abc");
    assert_int_equal(brs__config_set(&cfg, "noequals", &err), BRS_E_INVAL);
    assert_int_equal(brs__config_set(&cfg, "name.x=1", &err), BRS_E_INVAL);
    brs__config_free(&cfg);
}

/* --set reaches into arrays: items are replaced (objects inside them created
 * as usual), never appended; a bad index or a non-array is refused by name. */
static void test_set_array_items(void **state)
{
    (void)state;
    brs_config cfg;
    brs_error err = {0};
    assert_int_equal(brs__config_parse(&cfg,
                                       "{\"book\": {\"venues\": [{\"name\": \"lit\", \"params\": {\"fee\": 1}},"
                                       " {\"name\": \"alt\"}]}, \"grid\": [[1, 2], [3, 4]]}",
                                       "mm.json", &err),
                     0);
    assert_int_equal(brs__config_set(&cfg, "book.venues[1].params.fee=2.5", &err), 0);
    assert_int_equal(brs__config_set(&cfg, "book.venues[0].name=primary", &err), 0);
    assert_int_equal(brs__config_set(&cfg, "grid[1][0]=9", &err), 0);
    const cJSON *venues = cJSON_GetObjectItem(cJSON_GetObjectItem(cfg.root, "book"), "venues");
    assert_int_equal(cJSON_GetArraySize(venues), 2);
    const cJSON *v1 = cJSON_GetArrayItem(venues, 1);
    double fee;
    assert_int_equal(brs__config_double(&cfg, cJSON_GetObjectItem(v1, "params"), "p", "fee", 0, &fee, &err), 0);
    assert_true(fee == 2.5);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(venues, 0), "name")->valuestring, "primary");
    assert_string_equal(cJSON_GetObjectItem(v1, "name")->valuestring, "alt"); /* untouched */
    const cJSON *grid = cJSON_GetObjectItem(cfg.root, "grid");
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(grid, 1), 0)->valueint, 9);
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(grid, 1), 1)->valueint, 4);

    assert_int_equal(brs__config_set(&cfg, "book.venues[2].name=x", &err), BRS_E_RANGE);
    assert_non_null(strstr(err.msg, "index 2 is past the end of 'venues' (2 items)"));
    assert_int_equal(brs__config_set(&cfg, "book[0]=1", &err), BRS_E_INVAL);
    assert_non_null(strstr(err.msg, "'book' is not an array"));
    assert_int_equal(brs__config_set(&cfg, "book.venues[x]=1", &err), BRS_E_INVAL);
    assert_non_null(strstr(err.msg, "bad key part"));
    assert_int_equal(brs__config_set(&cfg, "grid[0].a=1", &err), BRS_E_INVAL);
    assert_int_equal(cJSON_GetArraySize(venues), 2); /* nothing was appended */
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
    assert_string_equal(err.msg, "bt.json: 'n' must be an integer (got 1.5)");
    assert_int_equal(brs__config_int(&cfg, cfg.root, "", "absent", 7, &v, &err), 0);
    assert_int_equal(v, 7);
    int b;
    assert_int_equal(brs__config_bool(&cfg, cfg.root, "", "mode", 0, &b, &err), BRS_E_INVAL);
    /* a value from --set is named as such, the rest stays the file's */
    assert_int_equal(brs__config_set(&cfg, "a.b=xyz", &err), 0);
    assert_int_equal(brs__config_set_from(&cfg, "c=1", "environment BOURSE_C", &err), 0);
    static const char *const allowed2[] = {"mode", "n", "a", "c", NULL};
    static const char *const allowed_a[] = {"bee", NULL};
    assert_int_equal(brs__config_check_keys(&cfg, cJSON_GetObjectItem(cfg.root, "a"), "a", allowed_a, &err),
                     BRS_E_INVAL);
    assert_string_equal(err.msg, "--set 'a.b=xyz': unknown key 'a.b'");
    assert_string_equal(brs__config_origin(&cfg, "c"), "environment BOURSE_C");
    assert_string_equal(brs__config_origin(&cfg, "n"), "bt.json");
    assert_string_equal(brs__config_origin(&cfg, "ab"), "bt.json"); /* not a key under a */
    (void)allowed2;
    static const char *const allowed3[] = {"mode", "n", "speed", NULL};
    assert_int_equal(brs__config_check_keys(&cfg, cfg.root, "", allowed3, &err), BRS_E_INVAL);
    assert_string_equal(err.msg, "bt.json: unknown key 'spead' (did you mean 'speed'?)");
    brs__config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_error_names_line),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_set_array_items),
        cmocka_unit_test(test_unknown_key_and_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
