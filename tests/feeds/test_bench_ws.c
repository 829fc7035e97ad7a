/* test_bench_ws.c: `bourse bench ws` runs on generated and (when present) the
 * recorded messages, prints one JSON object with --json, refuses unknown options.
 * No timing thresholds: the numbers are reported, not asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "support/subprocess.h"

static void check_json(const char *out, const char *source)
{
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "source")->valuestring, source);
    assert_true(cJSON_GetObjectItemCaseSensitive(j, "msgs_per_sec")->valuedouble > 0);
    assert_true(cJSON_GetObjectItemCaseSensitive(j, "messages_per_pass")->valuedouble > 0);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(j, "gaps")->valuedouble, 0);
    cJSON_Delete(j);
}

static void test_generated(void **st)
{
    (void)st;
    const char *a[] = {"bench", "ws", "--generated", "--seconds", "0.05", "--json", NULL};
    run_result r = run(a);
    assert_int_equal(r.status, 0);
    check_json(r.out, "generated");
    run_free(&r);
}

static void test_recorded(void **st)
{
    (void)st;
    if (access(BOURSE_SHARED_DIR "/data/binance/cryptofeed_BINANCE_FUTURES.ws.1.0", R_OK) != 0) {
        printf("SKIP: %s/data/binance absent\n", BOURSE_SHARED_DIR);
        skip();
    }
    const char *a[] = {"bench", "ws", "--data", BOURSE_SHARED_DIR "/data/binance", "--seconds", "0.05",
                       "--json", NULL};
    run_result r = run(a);
    assert_int_equal(r.status, 0);
    check_json(r.out, "recorded");
    run_free(&r);
}

static void test_usage(void **st)
{
    (void)st;
    const char *a[] = {"bench", "ws", "--bogus", NULL};
    run_result r = run(a);
    assert_int_equal(r.status, 2);
    run_free(&r);
    const char *h[] = {"bench", "ws", "--help", NULL};
    r = run(h);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: bourse bench ws"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_recorded),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
