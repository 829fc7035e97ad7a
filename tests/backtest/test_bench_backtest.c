/* test_bench_backtest.c: `bourse bench backtest --json` on tiny inputs runs
 * every mode and prints one JSON object with the four rates the issue names,
 * their references (decode only, zstd -dc) and the ratios, and each figure's
 * min and max (values are timings: only their presence, sign and order are
 * checked); --metrics-ab's paired ratios. */
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

/* --metrics-ab N: the four backtests off and on, N pairs; every figure's
 * ratio with its quartiles and interval, the ratio being on / off of the
 * medians' own runs (timings: only their consistency is checked). */
static void test_bench_metrics_ab(void **state)
{
    (void)state;
    const char *args[] = {"bench", "backtest", "--events", "5000", "--bars", "5000", "--metrics-ab", "3",
                          "--json", NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    if (!j)
        fail_msg("not JSON: %s", r.out);
    assert_int_equal((int)cJSON_GetObjectItem(j, "pairs")->valuedouble, 3);
    cJSON *ab = cJSON_GetObjectItem(j, "metrics_ab");
    const char *keys[] = {"c_events_per_sec", "c_events_per_cpu_sec", "lua_events_per_sec", "lua_events_per_cpu_sec",
                          "signal_bars_per_sec", "signal_bars_per_cpu_sec", "lua_bars_per_sec",
                          "lua_bars_per_cpu_sec"};
    assert_int_equal(cJSON_GetArraySize(ab), 8);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        cJSON *f = cJSON_GetObjectItem(ab, keys[i]);
        if (!f)
            fail_msg("%s missing in %s", keys[i], r.out);
        double v[7];
        const char *k[] = {"ratio", "ratio_q1", "ratio_q3", "ratio_lo95", "ratio_hi95", "off", "on"};
        for (int m = 0; m < 7; m++) {
            cJSON *x = cJSON_GetObjectItem(f, k[m]);
            if (!cJSON_IsNumber(x) || !(x->valuedouble > 0))
                fail_msg("%s.%s missing or not positive in %s", keys[i], k[m], r.out);
            v[m] = x->valuedouble;
        }
        assert_int_equal((int)cJSON_GetObjectItem(f, "pairs")->valuedouble, 3);
        assert_true(v[1] <= v[0] && v[0] <= v[2] && v[3] <= v[0] && v[0] <= v[4]);
    }
    cJSON_Delete(j);
    run_free(&r);
    const char *bad[] = {"bench", "backtest", "--metrics-ab", "0", NULL};
    r = run(bad);
    assert_int_equal(r.status, 2);
    run_free(&r);
    const char *both[] = {"bench", "backtest", "--metrics", "--metrics-ab", "2", NULL};
    r = run(both);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bench_json), cmocka_unit_test(test_bench_metrics_ab)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
