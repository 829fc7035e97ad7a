/* test_sweep.c: `bourse sweep` runs every grid combination as its own worker
 * process into its own run directory, and writes results.csv/results.json
 * sorted by the chosen metric, each row matching that run's summary.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define BT_SUBDIR "sweep"
#include "bt_util.h"
#include "support/subprocess.h"

static void test_sweep_grid(void **state)
{
    (void)state;
    bt_bar b[400];
    uint64_t seed = 11;
    double p = 100;
    for (int i = 0; i < 400; i++) {
        seed = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        double u = (double)(seed >> 11) / 9007199254740992.0;
        double o = p;
        p = round(p * (1 + (u - 0.49) * 0.04) * 100) / 100;
        b[i] = (bt_bar){.open = o, .close = p};
    }
    bt_write_csv(bt_path("sweep.csv"), b, 400);
    char json[1024];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\","
             " \"params\": {\"qty\": 100}}}",
             bt_path("sweep.csv"), BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua");
    bt_write(bt_path("sweep.json"), json);
    const char *out = bt_path("sweep_out");
    const char *args[] = {"sweep", bt_path("sweep.json"), "--grid", "fast=3,5,8", "--grid",
                          "slow=20,40", "--jobs", "2", "--sort", "total_return", "--out", out,
                          NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    run_free(&r);
    char csv[1200], js[1200];
    snprintf(csv, sizeof csv, "%s/results.csv", out);
    snprintf(js, sizeof js, "%s/results.json", out);
    assert_int_equal(bt_csv_rows(csv), 6);
    /* header: rank,fast,slow,status,total_return,... ; sorted descending */
    char col[64];
    bt_csv_field(csv, 0, 4, col, sizeof col);
    assert_string_equal(col, "total_return");
    double prev = INFINITY;
    for (int row = 1; row <= 6; row++) {
        bt_csv_field(csv, row, 3, col, sizeof col);
        assert_string_equal(col, "ok");
        double v = bt_csv_num(csv, row, 4);
        assert_true(v <= prev);
        prev = v;
        /* the row matches its run's own summary.json */
        char fast[16], slow[16], sum[1300];
        bt_csv_field(csv, row, 1, fast, sizeof fast);
        bt_csv_field(csv, row, 2, slow, sizeof slow);
        snprintf(sum, sizeof sum, "%s/fast=%s,slow=%s/summary.json", out, fast, slow);
        char *t = test_read_file(sum, NULL);
        assert_non_null(t);
        cJSON *j = cJSON_Parse(t);
        assert_non_null(j);
        assert_float_equal(cJSON_GetObjectItem(j, "total_return")->valuedouble, v, 1e-12);
        cJSON_Delete(j);
        free(t);
    }
    char *t = test_read_file(js, NULL);
    cJSON *j = cJSON_Parse(t);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 6);
    cJSON_Delete(j);
    free(t);

    const char *bad[] = {"sweep", bt_path("sweep.json"), NULL};
    r = run(bad);
    assert_int_equal(r.status, 2);
    run_free(&r);
    const char *bad2[] = {"sweep", bt_path("sweep.json"), "--grid", "fast=3", "--sort", "luck", NULL};
    r = run(bad2);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sweep_grid)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
