/* test_sweep.c: `bourse sweep`: the results table matches each run's own
 * summary.json; the same bytes for --jobs 1, --jobs 2, three shards merged,
 * the flag form and a config file; ranges, --where, --samples, --list;
 * --keep-runs; failed combinations; the --where evaluator against C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ftw.h>

#include <cmocka.h>

#define BT_SUBDIR "sweep"
#include "backtest/sweep.h"
#include "bt_util.h"
#include "support/subprocess.h"

static void make_data(void)
{
    static int done;
    if (done)
        return;
    done = 1;
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
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"ma_cross\"}}",
             bt_path("sweep.csv"));
    bt_write(bt_path("sweep_c.json"), json);
}

/* bt_csv_field, aware of quoted fields (run names and errors hold commas) */
static void qfield(const char *path, int row, int col, char *out, size_t cap)
{
    char *t = test_read_file(path, NULL);
    assert_non_null(t);
    char *p = t;
    for (int r = 0; r < row; r++) {
        int q = 0;
        while (*p && (q || *p != '\n'))
            q ^= *p++ == '"';
        assert_true(*p == '\n');
        p++;
    }
    for (int c = 0;; c++) {
        size_t n = 0;
        int q = 0;
        while (*p && (q || (*p != ',' && *p != '\n'))) {
            if (*p == '"') {
                if (q && p[1] == '"') {
                    if (c == col && n + 1 < cap)
                        out[n++] = '"';
                    p += 2;
                    continue;
                }
                q ^= 1;
                p++;
                continue;
            }
            if (c == col && n + 1 < cap)
                out[n++] = *p;
            p++;
        }
        if (c == col) {
            out[n] = 0;
            break;
        }
        assert_true(*p == ',');
        p++;
    }
    free(t);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)f;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void expect_ok(const char *const *args)
{
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    run_free(&r);
}

static int count_entries(const char *dir, const char *suffix, int dirs_only)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        if (dirs_only && S_ISDIR(st.st_mode))
            n++;
        size_t l = strlen(e->d_name), sl = suffix ? strlen(suffix) : 0;
        if (!dirs_only && suffix && l >= sl && !strcmp(e->d_name + l - sl, suffix))
            n++;
    }
    closedir(d);
    return n;
}

static void same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = test_read_file(a, &la), *y = test_read_file(b, &lb);
    assert_non_null(x);
    assert_non_null(y);
    if (la != lb || memcmp(x, y, la))
        fail_msg("%s and %s differ", a, b);
    free(x);
    free(y);
}

static void test_sweep_grid(void **state)
{
    (void)state;
    make_data();
    const char *out = bt_path("grid_out");
    nftw(out, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    const char *args[] = {"sweep", bt_path("sweep.json"), "--grid", "fast=3,5,8", "--grid",
                          "slow=20,40", "--jobs", "2", "--sort", "total_return", "--out", out,
                          NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    /* printed like `bourse backtest`: percent for returns and drawdowns, no 'nan' */
    assert_non_null(strchr(r.out, '%'));
    assert_null(strstr(r.out, "nan"));
    run_free(&r);
    char csv[1200], js[1200];
    snprintf(csv, sizeof csv, "%s/results.csv", out);
    snprintf(js, sizeof js, "%s/results.json", out);
    assert_int_equal(bt_csv_rows(csv), 6);
    /* header: rank,fast,slow,status,total_return,...,run,id,error; sorted descending */
    char col[64];
    bt_csv_field(csv, 0, 4, col, sizeof col);
    assert_string_equal(col, "total_return");
    bt_csv_field(csv, 0, 19, col, sizeof col);
    assert_string_equal(col, "run");
    double prev = INFINITY;
    for (int row = 1; row <= 6; row++) {
        bt_csv_field(csv, row, 3, col, sizeof col);
        assert_string_equal(col, "ok");
        double v = bt_csv_num(csv, row, 4);
        assert_true(v <= prev);
        prev = v;
        /* the row matches its run's own summary.json (kept: top 10 by default) */
        char fast[16], slow[16], sum[1300];
        bt_csv_field(csv, row, 1, fast, sizeof fast);
        bt_csv_field(csv, row, 2, slow, sizeof slow);
        snprintf(sum, sizeof sum, "%s/fast=%s,slow=%s/summary.json", out, fast, slow);
        char *t = test_read_file(sum, NULL);
        assert_non_null(t);
        cJSON *j = cJSON_Parse(t);
        assert_non_null(j);
        assert_true(cJSON_GetObjectItem(j, "total_return")->valuedouble == v);
        cJSON_Delete(j);
        free(t);
    }
    char *t = test_read_file(js, NULL);
    cJSON *j = cJSON_Parse(t);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 6);
    cJSON_Delete(j);
    free(t);
    /* no per-run log files */
    assert_int_equal(count_entries(out, ".log", 0), 0);
    /* the page beside the table (analytics/sweep_report.c) */
    char html[1200];
    snprintf(html, sizeof html, "%s/results.html", out);
    t = test_read_file(html, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "fast=3,slow=20"));
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

/* One table, whatever runs it: --jobs 1, --jobs 2, shards merged, flag form. */
static void test_sweep_same_bytes(void **state)
{
    (void)state;
    make_data();
    const char *cfgs[] = {bt_path("sweep.json"), bt_path("sweep_c.json")};
    for (int c = 0; c < 2; c++) {
        char o1[1100], o2[1100], s[3][1100], m[1100];
        snprintf(o1, sizeof o1, "%s", bt_path(c ? "same_c_j1" : "same_l_j1"));
        snprintf(o2, sizeof o2, "%s", bt_path(c ? "same_c_j2" : "same_l_j2"));
        snprintf(m, sizeof m, "%s", bt_path(c ? "same_c_merged" : "same_l_merged"));
        const char *a1[] = {"sweep", cfgs[c], "--grid", "fast=2:30:2", "--grid", "slow=10:60:5",
                            "--where", "fast < slow", "--jobs", "1", "--keep-runs", "none",
                            "--quiet", "--out", o1, NULL};
        expect_ok(a1);
        const char *a2[] = {"sweep", cfgs[c], "--grid", "fast=2:30:2", "--grid", "slow=10:60:5",
                            "--where", "fast < slow", "--jobs", "2", "--keep-runs", "none",
                            "--quiet", "--out", o2, NULL};
        expect_ok(a2);
        for (int i = 0; i < 3; i++) {
            char sh[16];
            snprintf(sh, sizeof sh, "%d/3", i + 1);
            snprintf(s[i], sizeof s[i], "%s-%d", m, i + 1);
            const char *a3[] = {"sweep", cfgs[c], "--grid", "fast=2:30:2", "--grid", "slow=10:60:5",
                                "--where", "fast < slow", "--shard", sh, "--quiet", "--out", s[i],
                                NULL};
            expect_ok(a3);
        }
        const char *mg[] = {"sweep", "merge", s[2], s[0], s[1], "--keep-runs", "none", "--quiet",
                            "--out", m, NULL};
        expect_ok(mg);
        char p1[1200], p2[1200];
        const char *files[] = {"results.csv", "results.json"};
        for (int f = 0; f < 2; f++) {
            snprintf(p1, sizeof p1, "%s/%s", o1, files[f]);
            snprintf(p2, sizeof p2, "%s/%s", o2, files[f]);
            same_file(p1, p2);
            snprintf(p2, sizeof p2, "%s/%s", m, files[f]);
            same_file(p1, p2);
        }
        snprintf(p1, sizeof p1, "%s/results.csv", o1);
        /* fast 2..30 step 2 (15 values) x slow 10..60 step 5 (11 values), fast < slow */
        int want = 0;
        for (int f = 2; f <= 30; f += 2)
            for (int sl = 10; sl <= 60; sl += 5)
                want += f < sl;
        assert_int_equal(bt_csv_rows(p1), want);
        /* merging an incomplete set of shards is refused */
        const char *mg2[] = {"sweep", "merge", s[0], s[1], "--out", bt_path("bad_merge"), NULL};
        run_result r = run(mg2);
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "shard 3/3 is missing"));
        run_free(&r);
    }
    /* the flag form gives the table the config file gives */
    const char *fl[] = {"sweep", "--mode", "signal", "--data", bt_path("sweep.csv"), "--strategy",
                        "ma_cross", "--grid", "fast=2:30:2", "--grid", "slow=10:60:5", "--where",
                        "fast < slow", "--keep-runs", "none", "--quiet", "--out",
                        bt_path("same_flags"), NULL};
    expect_ok(fl);
    char p1[1200], p2[1200];
    snprintf(p1, sizeof p1, "%s/results.csv", bt_path("same_c_j1"));
    snprintf(p2, sizeof p2, "%s/results.csv", bt_path("same_flags"));
    same_file(p1, p2);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_sweep_grammar(void **state)
{
    (void)state;
    make_data();
    const char *cfg = bt_path("sweep_c.json");
    /* the acceptance grid: windows 2..100, fast < slow: 4,851 combinations */
    const char *l1[] = {"sweep", cfg, "--grid", "fast=2:100:1", "--grid", "slow=2:100", "--where",
                        "fast < slow", "--list", NULL};
    run_result r = run(l1);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 4851);
    assert_int_equal(strncmp(r.out, "1 fast=2,slow=3\n", 16), 0);
    run_free(&r);
    /* arithmetic, and/or/not, decimals in ranges, lists mixed with ranges */
    const char *l2[] = {"sweep", cfg, "--grid", "fast=2:10:2,50", "--grid", "slow=0.1:0.3:0.1",
                        "--where", "not (fast == 4) and (fast * slow < 1 or fast % 50 == 0)",
                        "--list", NULL};
    r = run(l2);
    assert_int_equal(r.status, 0);
    /* fast in {2,6,8,10,50} x slow {0.1,0.2,0.3}: fast*slow<1 -> 2:3, 6:1 (0.6), 8:1 (0.8), 10:0; 50: 3 */
    assert_int_equal(count_lines(r.out), 3 + 1 + 1 + 0 + 3);
    assert_non_null(strstr(r.out, "slow=0.3\n"));
    assert_null(strstr(r.out, "0.30000000000000004"));
    run_free(&r);
    /* random search: N of them, the same for the same seed, another for another seed */
    const char *s1[] = {"sweep", cfg, "--grid", "fast=2:100", "--grid", "slow=2:100", "--where",
                        "fast < slow", "--samples", "50", "--seed", "7", "--list", NULL};
    r = run(s1);
    run_result r2 = run(s1);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 50);
    assert_string_equal(r.out, r2.out);
    run_free(&r2);
    const char *s2[] = {"sweep", cfg, "--grid", "fast=2:100", "--grid", "slow=2:100", "--where",
                        "fast < slow", "--samples", "50", "--seed", "8", "--list", NULL};
    r2 = run(s2);
    assert_int_equal(count_lines(r2.out), 50);
    assert_string_not_equal(r.out, r2.out);
    /* every sampled combination satisfies the constraint */
    for (char *p = r.out; *p;) {
        int f, sl;
        unsigned long long id;
        assert_int_equal(sscanf(p, "%llu fast=%d,slow=%d", &id, &f, &sl), 3);
        assert_true(f < sl);
        assert_int_equal(id, (unsigned long long)((f - 2) * 99 + (sl - 2)));
        p = strchr(p, '\n') + 1;
    }
    run_free(&r);
    run_free(&r2);
    /* usage errors name what is wrong */
    const char *bad[][12] = {
        {"sweep", cfg, "--grid", "fast=2:100", "--where", "fast < slwo", NULL},
        {"sweep", cfg, "--grid", "fast=10:2", NULL},
        {"sweep", cfg, "--grid", "fast=2:10:0", NULL},
        {"sweep", cfg, "--grid", "fast=2:10", "--where", "fast <", NULL},
        {"sweep", cfg, "--grid", "fast=2:10", "--where", "system(1)", NULL},
        {"sweep", cfg, "--grid", "fast=2:10", "--shard", "4/3", NULL},
        {"sweep", cfg, "--grid", "fast=2:10", "--keep-runs", "best", NULL},
        {"sweep", cfg, "--grid", "fast=a,b", "--where", "fast > 1", NULL},
    };
    const char *msg[] = {"'slwo' is not a --grid name", "START <= STOP", "STEP > 0", "unexpected end",
                         "'system' is not a --grid name", "--shard '4/3'", "--keep-runs 'best'",
                         "not a number"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = run(bad[i]);
        if (r.status != 2 || !strstr(r.err, msg[i]))
            fail_msg("case %zu: exit %d, stderr: %s", i, r.status, r.err);
        run_free(&r);
    }
}

static void test_sweep_keep_runs(void **state)
{
    (void)state;
    make_data();
    const char *cfg = bt_path("sweep_c.json");
    const char *modes[] = {"none", "top:3", "all"};
    const int want[] = {0, 3, 12};
    for (int k = 0; k < 3; k++) {
        char out[1100];
        snprintf(out, sizeof out, "%s-%d", bt_path("keep"), k);
        nftw(out, rm_one, 16, FTW_DEPTH | FTW_PHYS); /* an earlier run's folders */
        const char *a[] = {"sweep", cfg, "--grid", "fast=3,5,8,13", "--grid", "slow=20,30,40",
                           "--keep-runs", modes[k], "--quiet", "--out", out, NULL};
        expect_ok(a);
        assert_int_equal(count_entries(out, NULL, 1), want[k]);
        assert_int_equal(count_entries(out, ".log", 0), 0);
        if (k == 1) {
            /* the kept ones are the best three of the table */
            char csv[1200], dir[1300];
            snprintf(csv, sizeof csv, "%s/results.csv", out);
            for (int row = 1; row <= 3; row++) {
                char name[64];
                qfield(csv, row, 19, name, sizeof name);
                snprintf(dir, sizeof dir, "%s/%s/summary.json", out, name);
                assert_true(access(dir, R_OK) == 0);
            }
        }
    }
}

/* A combination that fails is a row with its error; the rest run; exit 1. */
static void test_sweep_failures(void **state)
{
    (void)state;
    make_data();
    const char *out = bt_path("fail_out");
    /* ma_cross refuses fast >= slow */
    const char *a[] = {"sweep", bt_path("sweep.json"), "--grid", "fast=5,30", "--grid", "slow=20",
                       "--quiet", "--out", out, NULL};
    run_result r = run(a);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "1 of 2 runs failed"));
    run_free(&r);
    char csv[1200], col[256];
    snprintf(csv, sizeof csv, "%s/results.csv", out);
    assert_int_equal(bt_csv_rows(csv), 2);
    bt_csv_field(csv, 1, 3, col, sizeof col);
    assert_string_equal(col, "ok");
    bt_csv_field(csv, 2, 3, col, sizeof col);
    assert_string_equal(col, "failed");
    qfield(csv, 2, 21, col, sizeof col);
    assert_non_null(strstr(col, "must be below slow"));
    bt_csv_field(csv, 2, 4, col, sizeof col);
    assert_string_equal(col, "");
}

/* The evaluator against the same expressions written in C, over a grid. */
static void test_where_eval(void **state)
{
    (void)state;
    brs__sweep_grid g;
    memset(&g, 0, sizeof g);
    brs_error err = {0};
    assert_int_equal(brs__sweep_axis_add(&g, "a=-3:3", &err), 0);
    assert_int_equal(brs__sweep_axis_add(&g, "b=0:2:0.5", &err), 0);
    assert_int_equal(brs__sweep_axis_add(&g, "signal.x=1,2", &err), 0);
    assert_int_equal(g.total, 7u * 5u * 2u);
    const char *ex[] = {"a < b", "a*2 + b >= 1 and not b == 0", "a % 2 == 1 or a / b > 1",
                        "-(a - 1) * -b != 3 || signal.x = 2", "!(a <= 0) && (b > 1 or a > 2)",
                        "a / 0 < 1", "1 + 2 * 3 == 7 and (1 + 2) * 3 == 9"};
    for (size_t k = 0; k < sizeof ex / sizeof ex[0]; k++) {
        brs__sweep_expr *e;
        if (brs__sweep_where_parse(&e, ex[k], &g, &err))
            fail_msg("%s: %s", ex[k], err.msg);
        for (uint64_t id = 0; id < g.total; id++) {
            int idx[BRS__SWEEP_MAX_AXES];
            brs__sweep_decode(&g, id, idx);
            double a = g.ax[0].num[idx[0]], b = g.ax[1].num[idx[1]], x = g.ax[2].num[idx[2]];
            int want;
            switch (k) {
            case 0: want = a < b; break;
            case 1: want = a * 2 + b >= 1 && !(b == 0); break;
            case 2: want = fmod(a, 2) == 1 || (b != 0 && a / b > 1); break;
            case 3: want = -(a - 1) * -b != 3 || x == 2; break;
            case 4: want = !(a <= 0) && (b > 1 || a > 2); break;
            case 5: want = 0; break;
            default: want = 1; break;
            }
            if (brs__sweep_where_eval(e, &g, idx) != want)
                fail_msg("%s at a=%g b=%g x=%g: want %d", ex[k], a, b, x, want);
        }
        brs__sweep_where_free(e);
    }
    /* bounded: deep nesting and long input are errors, not crashes */
    char deep[400];
    memset(deep, '(', 300);
    strcpy(deep + 300, "a");
    brs__sweep_expr *e = NULL;
    assert_int_not_equal(brs__sweep_where_parse(&e, deep, &g, &err), 0);
    assert_non_null(strstr(err.msg, "nested too deeply"));
    brs__sweep_grid_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_grid),     cmocka_unit_test(test_sweep_same_bytes),
        cmocka_unit_test(test_sweep_grammar),  cmocka_unit_test(test_sweep_keep_runs),
        cmocka_unit_test(test_sweep_failures), cmocka_unit_test(test_where_eval)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
