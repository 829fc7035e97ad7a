/* test_fix_cli.c: `bourse serve`, `bourse bench fix` and `bourse bench
 * restart` as commands: --help, unknown options (exit 2), configuration
 * errors naming file and key (exit 1), and the benchmarks' JSON (keys
 * present, no allocation in the parse loop; --metrics-ab's paired ratios;
 * the restarts' figures for both cases). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

static int run(const char *args, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", BOURSE_BIN, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_serve_usage(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run("serve --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: bourse serve"));
    assert_int_equal(run("serve --bogus", out, sizeof out), 2);
    assert_non_null(strstr(out, "--bogus"));
    assert_int_equal(run("serve", out, sizeof out), 2);
    assert_int_equal(run("serve /nonexistent/x.json", out, sizeof out), 1);
}

static void test_serve_config_errors(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run("serve " BOURSE_SOURCE_DIR "/data/configs/serve.json --set listen.prot=1",
                         out, sizeof out),
                     1);
    /* the bad key came from --set, not from the file: the error says so (issue 19) */
    assert_non_null(strstr(out, "--set 'listen.prot=1'"));
    assert_non_null(strstr(out, "did you mean 'port'"));
    assert_int_equal(run("serve " BOURSE_SOURCE_DIR "/data/configs/serve.json --set fsync=sometimes",
                         out, sizeof out),
                     1);
    assert_non_null(strstr(out, "fsync"));
    assert_int_equal(run("serve " BOURSE_SOURCE_DIR
                         "/data/configs/serve.json --set instruments[0].decimals=12",
                         out, sizeof out),
                     1);
    assert_int_equal(run("serve " BOURSE_SOURCE_DIR "/data/configs/serve.json --set sessions=[]",
                         out, sizeof out),
                     1);
    assert_non_null(strstr(out, "sessions"));
    static const char *const bad_eod[] = {"25:00:00", "12:00", "12:00:00Z", "noon"};
    for (size_t i = 0; i < sizeof bad_eod / sizeof bad_eod[0]; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "serve %s/data/configs/serve.json --set day_end=%s",
                 BOURSE_SOURCE_DIR, bad_eod[i]);
        assert_int_equal(run(cmd, out, sizeof out), 1);
        assert_non_null(strstr(out, "day_end"));
    }
    /* a timeout out of range is refused, not overflowed into the past (found by make fuzz-config) */
    static const char *const bad_logon[] = {"9000000000000000", "0", "-5"};
    for (size_t i = 0; i < sizeof bad_logon / sizeof bad_logon[0]; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "serve %s/data/configs/serve.json --set logon_timeout_ms=%s",
                 BOURSE_SOURCE_DIR, bad_logon[i]);
        assert_int_equal(run(cmd, out, sizeof out), 1);
        assert_non_null(strstr(out, "logon_timeout_ms must be 1..3600000"));
    }
    /* a password_file that never ends (a device) is refused at start, not read for ever */
    assert_int_equal(run("serve " BOURSE_SOURCE_DIR "/data/configs/serve.json --set listen.port=0 "
                         "--set 'sessions[0].password_file=/dev/zero'",
                         out, sizeof out),
                     1);
    assert_non_null(strstr(out, "sessions[0].password_file: /dev/zero: larger than 4096 bytes"));
    /* BOURSE_FIX_PORT must be a port */
    setenv("BOURSE_FIX_PORT", "notaport", 1);
    assert_int_equal(run("serve " BOURSE_SOURCE_DIR "/data/configs/serve.json", out, sizeof out), 1);
    assert_non_null(strstr(out, "BOURSE_FIX_PORT"));
    unsetenv("BOURSE_FIX_PORT");
}

static void test_bench_fix_json(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run("bench fix --bogus", out, sizeof out), 2);
    assert_int_equal(run("bench fix --json --codec 20000 --orders 3000 --inflight 50 "
                         "--eod-closed 2000 --eod-open 100",
                         out, sizeof out),
                     0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const char *keys[] = {"parse_per_sec", "encode_per_sec", "orders_per_sec", "rtt_p50_us",
                          "rtt_p99_us", "parse_allocs"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *v = cJSON_GetObjectItem(j, keys[i]);
        assert_non_null(v);
        assert_true(cJSON_IsNumber(v));
    }
    assert_true(cJSON_GetObjectItem(j, "parse_per_sec")->valuedouble > 0);
    assert_int_equal((int)cJSON_GetObjectItem(j, "orders")->valuedouble, 3000);
    double allocs = cJSON_GetObjectItem(j, "parse_allocs")->valuedouble;
    assert_true(allocs == 0 || allocs == -1); /* -1: counting unavailable (sanitizers) */
    /* the end of day kept the 100 open orders only, and shrank the journal */
    assert_int_equal((int)cJSON_GetObjectItem(j, "eod_orders_held_before")->valuedouble, 2100);
    assert_int_equal((int)cJSON_GetObjectItem(j, "eod_orders_held_after")->valuedouble, 100);
    assert_true(cJSON_GetObjectItem(j, "eod_journal_bytes_after")->valuedouble <
                cJSON_GetObjectItem(j, "eod_journal_bytes_before")->valuedouble);
    cJSON_Delete(j);
}

/* --metrics-ab N: round trips with the gateway's metrics off and on, the
 * per-pair ratios of each figure (timings: only their consistency). */
static void test_bench_fix_metrics_ab(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run("bench fix --metrics-ab 0", out, sizeof out), 2);
    assert_int_equal(run("bench fix --metrics --metrics-ab 2", out, sizeof out), 2);
    assert_int_equal(run("bench fix --json --orders 2000 --inflight 50 --metrics-ab 2", out, sizeof out), 0);
    cJSON *j = cJSON_Parse(out);
    if (!j)
        fail_msg("not JSON: %s", out);
    cJSON *ab = cJSON_GetObjectItem(j, "metrics_ab");
    const char *keys[] = {"orders_per_sec", "orders_per_cpu_sec", "rtt_p50_us", "rtt_p99_us", "rtt_p999_us"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *f = cJSON_GetObjectItem(ab, keys[i]);
        if (!f)
            fail_msg("%s missing in %s", keys[i], out);
        assert_int_equal((int)cJSON_GetObjectItem(f, "pairs")->valuedouble, 2);
        double r = cJSON_GetObjectItem(f, "ratio")->valuedouble;
        assert_true(r > 0 && cJSON_GetObjectItem(f, "ratio_q1")->valuedouble <= r &&
                    r <= cJSON_GetObjectItem(f, "ratio_q3")->valuedouble);
    }
    cJSON_Delete(j);
}

/* bench restart: a small state per case, serve started on it twice; the
 * bench itself fails unless every start restored the open orders (or none). */
static void test_bench_restart_json(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run("bench restart --runs 0", out, sizeof out), 2);
    assert_int_equal(run("bench restart --case some", out, sizeof out), 2);
    assert_int_equal(run("bench restart --json --orders 3000 --runs 2", out, sizeof out), 0);
    cJSON *j = cJSON_Parse(out);
    if (!j)
        fail_msg("not JSON: %s", out);
    cJSON *cases = cJSON_GetObjectItem(j, "cases");
    assert_int_equal(cJSON_GetArraySize(cases), 2);
    for (int c = 0; c < 2; c++) {
        cJSON *x = cJSON_GetArrayItem(cases, c);
        assert_int_equal((int)cJSON_GetObjectItem(x, "orders")->valuedouble, 3000);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(x, "cancelled")), c == 1);
        assert_int_equal((int)cJSON_GetObjectItem(x, "runs")->valuedouble, 2);
        assert_true(cJSON_GetObjectItem(x, "journal_bytes")->valuedouble > 0);
        const char *keys[] = {"listen_s", "cpu_s", "page_faults", "peak_rss_mb", "rss_mb"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            cJSON *f = cJSON_GetObjectItem(x, keys[i]);
            if (!f)
                fail_msg("%s missing in %s", keys[i], out);
            double med = cJSON_GetObjectItem(f, "median")->valuedouble;
            assert_true(cJSON_GetObjectItem(f, "min")->valuedouble <= med &&
                        med <= cJSON_GetObjectItem(f, "max")->valuedouble);
        }
        assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(x, "listen_s"), "min")->valuedouble > 0);
        assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(x, "peak_rss_mb"), "min")->valuedouble > 0);
    }
    /* 3000 open orders are a larger snapshot than 3000 cancelled ones */
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(cases, 0), "journal_bytes")->valuedouble >
                cJSON_GetObjectItem(cJSON_GetArrayItem(cases, 1), "journal_bytes")->valuedouble);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_usage),
        cmocka_unit_test(test_serve_config_errors),
        cmocka_unit_test(test_bench_fix_json),
        cmocka_unit_test(test_bench_fix_metrics_ab),
        cmocka_unit_test(test_bench_restart_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
