/* test_sweep_wf.c: walk-forward over SPY (../shared/data/yahoo/SPY.csv):
 * the windows are where train=3y,test=1y,step=1y puts them, each has
 * in-sample and out-of-sample metrics, and no test window's data reaches its
 * optimization: with every bar from a window's test start on replaced by
 * other prices, that window's choice and in-sample metrics stay the same to
 * the bit while its out-of-sample result changes. Skips without the data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define BT_SUBDIR "sweep_wf"
#include "bt_util.h"
#include "support/subprocess.h"

#define SPY BOURSE_SHARED_DIR "/data/yahoo/SPY.csv"

static cJSON *load_json(const char *path)
{
    char *t = test_read_file(path, NULL);
    assert_non_null(t);
    cJSON *j = cJSON_Parse(t);
    free(t);
    assert_non_null(j);
    return j;
}

static cJSON *walk(const char *data, const char *out)
{
    const char *a[] = {"sweep", "--mode", "signal", "--data", data, "--strategy", "ma_cross",
                       "--grid", "fast=5:50:15", "--grid", "slow=20:200:30", "--where", "fast < slow",
                       "--walk-forward", "train=3y,test=1y,step=1y", "--jobs", "2", "--quiet",
                       "--out", out, NULL};
    run_result r = run(a);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    run_free(&r);
    char p[1200];
    snprintf(p, sizeof p, "%s/walk_forward.json", out);
    return load_json(p);
}

static int64_t parse_iso(const char *s)
{
    struct tm tm = {0};
    assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
    return (int64_t)timegm(&tm);
}

static void test_walk_forward_spy(void **state)
{
    (void)state;
    if (access(SPY, R_OK) != 0) {
        print_message("skipped: %s is absent (the shared data folder)\n", SPY);
        skip();
    }
    cJSON *w = walk(SPY, bt_path("spy"));
    int n = cJSON_GetArraySize(w);
    /* SPY 2000-01-03 .. 2021-04-27: windows start every year from 2000-01-04
     * (the first bar's stamp) while a test year remains: 19 of them */
    assert_int_equal(n, 19);
    int64_t prev_start = 0;
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_GetArrayItem(w, i);
        int64_t ts = parse_iso(cJSON_GetObjectItem(o, "train_start")->valuestring);
        int64_t te = parse_iso(cJSON_GetObjectItem(o, "train_end")->valuestring);
        int64_t ss = parse_iso(cJSON_GetObjectItem(o, "test_start")->valuestring);
        int64_t se = parse_iso(cJSON_GetObjectItem(o, "test_end")->valuestring);
        struct tm a, b;
        time_t x = (time_t)ts, y = (time_t)te;
        gmtime_r(&x, &a);
        gmtime_r(&y, &b);
        assert_int_equal(b.tm_year - a.tm_year, 3); /* train 3 years */
        assert_int_equal(b.tm_yday, a.tm_yday);
        assert_true(ss == te);                       /* test starts where train ends */
        x = (time_t)se;
        gmtime_r(&x, &b);
        assert_int_equal(b.tm_year - a.tm_year, 4); /* test 1 year */
        if (i) {
            x = (time_t)prev_start;
            gmtime_r(&x, &b);
            assert_int_equal(a.tm_year - b.tm_year, 1); /* step 1 year */
        }
        prev_start = ts;
        /* roughly 252 trading days a year */
        double trb = cJSON_GetObjectItem(o, "train_bars")->valuedouble;
        double teb = cJSON_GetObjectItem(o, "test_bars")->valuedouble;
        assert_true(trb > 700 && trb < 800);
        assert_true(teb > 50 && teb < 270);
        cJSON *is = cJSON_GetObjectItem(o, "in_sample"), *os = cJSON_GetObjectItem(o, "out_of_sample");
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(is, "total_return")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(os, "total_return")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(os, "end_equity")));
        assert_true(strstr(cJSON_GetObjectItem(o, "best")->valuestring, "fast=") != NULL);
    }
    /* the stitched out-of-sample curve: one row per test bar, windows in order */
    char p[1200];
    snprintf(p, sizeof p, "%s/oos_equity.csv", bt_path("spy"));
    int rows = bt_csv_rows(p), bars = 0;
    for (int i = 0; i < n; i++)
        bars += (int)cJSON_GetObjectItem(cJSON_GetArrayItem(w, i), "test_bars")->valuedouble;
    assert_int_equal(rows, bars);

    /* no leak: window 5's optimization must not see its test year. Rewrite every
     * bar from its test start on (prices scaled by a zigzag) and run again. */
    cJSON *w5 = cJSON_GetArrayItem(w, 4);
    int64_t cut = parse_iso(cJSON_GetObjectItem(w5, "test_start")->valuestring);
    char *src = test_read_file(SPY, NULL);
    assert_non_null(src);
    FILE *f = fopen(bt_path("spy_changed.csv"), "w");
    assert_non_null(f);
    int k = 0, changed = 0;
    for (char *line = src; *line; k++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        struct tm tm = {0};
        char *rest = strptime(line, "%Y-%m-%d", &tm);
        /* a daily bar is stamped at the end of its UTC day */
        if (k > 0 && rest && (int64_t)timegm(&tm) + 86400 > cut) {
            double o, h, l, c, ac;
            long long v;
            assert_int_equal(sscanf(rest, ",%lf,%lf,%lf,%lf,%lf,%lld", &o, &h, &l, &c, &ac, &v), 6);
            double s = (k % 7 < 3) ? 1.3 : 0.8;
            fprintf(f, "%.*s,%.6f,%.6f,%.6f,%.6f,%.6f,%lld\n", (int)(rest - line), line, o * s, h * s,
                    l * s, c * s, ac * s, v);
            changed++;
        } else {
            fprintf(f, "%s\n", line);
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    fclose(f);
    free(src);
    assert_true(changed > 1000);
    cJSON *w2 = walk(bt_path("spy_changed.csv"), bt_path("spy_changed"));
    cJSON *a = cJSON_GetArrayItem(w2, 4);
    assert_string_equal(cJSON_GetObjectItem(a, "best")->valuestring,
                        cJSON_GetObjectItem(w5, "best")->valuestring);
    char *i1 = cJSON_PrintUnformatted(cJSON_GetObjectItem(w5, "in_sample"));
    char *i2 = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, "in_sample"));
    assert_string_equal(i1, i2);
    free(i1);
    free(i2);
    /* while the test year's own result did change */
    double r1 = cJSON_GetObjectItem(cJSON_GetObjectItem(w5, "out_of_sample"), "total_return")->valuedouble;
    double r2 = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "out_of_sample"), "total_return")->valuedouble;
    assert_true(r1 != r2);
    /* and so did a later window's in-sample view, whose training holds changed bars */
    char *l1 = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(w, 6), "in_sample"));
    char *l2 = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(w2, 6), "in_sample"));
    assert_string_not_equal(l1, l2);
    free(l1);
    free(l2);
    cJSON_Delete(w2);
    cJSON_Delete(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_walk_forward_spy)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
