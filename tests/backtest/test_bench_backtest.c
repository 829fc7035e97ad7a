/* test_bench_backtest.c: `bourse bench backtest --json` on tiny inputs runs
 * every mode and prints one JSON object with the four rates the issue names
 * (values are timings: only their presence and sign are checked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "support/subprocess.h"

static void test_bench_json(void **state)
{
    (void)state;
    const char *args[] = {"bench", "backtest", "--events", "20000", "--bars", "20000",
                          "--runs", "1", "--json", NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    if (!j)
        fail_msg("not JSON: %s", r.out);
    const char *keys[] = {"c_events_per_sec", "lua_events_per_sec", "signal_bars_per_sec",
                          "lua_bars_per_sec"};
    for (int i = 0; i < 4; i++) {
        cJSON *v = cJSON_GetObjectItem(j, keys[i]);
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
            fail_msg("%s missing or not positive in %s", keys[i], r.out);
    }
    cJSON_Delete(j);
    run_free(&r);
    const char *bad[] = {"bench", "backtest", "--runs", "0", NULL};
    r = run(bad);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bench_json)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
