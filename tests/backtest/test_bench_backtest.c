/* test_bench_backtest.c: `bourse bench backtest --json` on tiny inputs runs
 * every mode and prints one JSON object with the four rates the issue names,
 * their references (decode only, zstd -dc) and the ratios, and each figure's
 * min and max (values are timings: only their presence, sign and order are
 * checked). */
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
                          "lua_bars_per_sec", "decode_events_per_sec", "zstd_dc_events_per_sec",
                          "bars_decode_per_sec", "bars_zstd_dc_file_per_sec", "c_vs_decode",
                          "c_vs_zstd_dc", "lua_vs_decode", "decode_vs_zstd_dc",
                          "signal_vs_bars_decode", "signal_vs_bars_zstd_dc_file",
                          "decode_events_per_cpu_sec", "c_vs_decode_cpu", "signal_vs_bars_decode_cpu"};
    cJSON *mm = cJSON_GetObjectItem(j, "min_max");
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        cJSON *v = cJSON_GetObjectItem(j, keys[i]);
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
            fail_msg("%s missing or not positive in %s", keys[i], r.out);
        cJSON *a = cJSON_GetObjectItem(mm, keys[i]);
        if (cJSON_GetArraySize(a) != 2 ||
            !(cJSON_GetArrayItem(a, 0)->valuedouble <= v->valuedouble &&
              v->valuedouble <= cJSON_GetArrayItem(a, 1)->valuedouble))
            fail_msg("min_max of %s is not around it in %s", keys[i], r.out);
    }
    /* one run: the ratio is the two figures' own */
    double c = cJSON_GetObjectItem(j, "c_events_per_sec")->valuedouble;
    double d = cJSON_GetObjectItem(j, "decode_events_per_sec")->valuedouble;
    double q = cJSON_GetObjectItem(j, "c_vs_decode")->valuedouble;
    assert_true(q > 0.999 * c / d && q < 1.001 * c / d);
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
