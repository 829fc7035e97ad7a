/* test_rundir.c: the run directory: every file present, two writes of one run
 * byte-identical, summary.json keys in the documented order with null (never
 * NaN) for undefined values, an interrupted write leaves no summary, and
 * `bourse report` re-renders the same page from the files and names bad lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_fixture.h"
#include "support/screenshot.h"

static const char *const FILES[] = {"config.json", "equity.csv", "fills.csv",  "orders.csv",
                                    "trades.csv",  "report.html", "summary.json"};

static void tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/brs_an_test_XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static void rmrf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static char *file_in(const char *dir, const char *name, size_t *len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return test_read_file(p, len);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int run(const char *args, const char *errfile)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>%s", BOURSE_BIN, args, errfile);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_fixture(const char *dir, brs_an_recorder *r)
{
    brs_config cfg;
    brs_error err = {0};
    assert_int_equal(brs__config_parse(&cfg,
                                       "{\"mode\": \"signal\", \"data\": \"SPY.csv\", "
                                       "\"strategy\": {\"file\": \"flip.lua\", \"params\": "
                                       "{\"period\": 997}}}",
                                       "fixture.json", &err),
                     0);
    int rc = brs__an_write_run(r, dir, &cfg, &err);
    if (rc)
        fail_msg("%s", err.msg);
    brs__config_free(&cfg);
}

static void test_identical_and_complete(void **state)
{
    (void)state;
    brs_an_recorder *r = fixture_run(20000, BRS_AN_SIGNAL);
    assert_non_null(r);
    char a[64], b[64];
    tmpdir(a, sizeof a);
    tmpdir(b, sizeof b);
    write_fixture(a, r);
    write_fixture(b, r);
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        size_t la, lb;
        char *x = file_in(a, FILES[i], &la), *y = file_in(b, FILES[i], &lb);
        if (!x || !y)
            fail_msg("%s missing", FILES[i]);
        assert_true(la > 2);
        if (la != lb || memcmp(x, y, la) != 0)
            fail_msg("%s differs between two writes of one run", FILES[i]);
        free(x);
        free(y);
    }
    /* nothing but the files: no temporaries left behind */
    DIR *d = opendir(a);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            assert_null(strstr(e->d_name, ".tmp"));
            n++;
        }
    closedir(d);
    assert_int_equal(n, (int)(sizeof FILES / sizeof FILES[0]));

    brs_an_metrics m;
    brs_error err = {0};
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    assert_true(m.n_trades > 5);
    char *eq = file_in(a, "equity.csv", NULL), *tr = file_in(a, "trades.csv", NULL);
    assert_int_equal(count_lines(eq), 20000 + 1);
    assert_int_equal(count_lines(tr), (size_t)m.n_trades + 1);
    assert_true(strncmp(eq, "ts,time,equity,cash,drawdown,position_SPY,price_SPY\n", 52) == 0);
    free(eq);
    free(tr);

    /* the keys, in this order, numbers or null */
    char *sum = file_in(a, "summary.json", NULL);
    static const char *const keys[] = {
        "total_return", "cagr",     "ann_volatility", "sharpe",        "sortino",
        "max_drawdown", "max_drawdown_days", "calmar", "win_rate",     "profit_factor",
        "expectancy",   "n_trades", "turnover",       "exposure",      "periods_per_year",
        "risk_free_rate"};
    const char *prev = sum;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char q[64];
        snprintf(q, sizeof q, "\"%s\": ", keys[i]);
        const char *at = strstr(sum, q);
        if (!at || at < prev)
            fail_msg("summary.json: key %s missing or out of order", keys[i]);
        prev = at;
    }
    assert_null(strstr(sum, "nan"));
    assert_null(strstr(sum, "inf"));
    cJSON *j = cJSON_Parse(sum);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "n_trades")->valueint, (int)m.n_trades);
    assert_true(cJSON_GetObjectItem(j, "periods_per_year")->valuedouble == 252);
    assert_true(cJSON_GetObjectItem(j, "risk_free_rate")->valuedouble == 0.02);
    /* the value written reads back exactly */
    assert_true(cJSON_GetObjectItem(j, "sharpe")->valuedouble == m.sharpe);
    /* every metric of the table is in the file (book-only ones aside) */
    for (size_t i = 0; i < brs__an_n_metric_descs; i++)
        if (!brs__an_metric_descs[i].book_only &&
            !cJSON_GetObjectItemCaseSensitive(j, brs__an_metric_descs[i].name))
            fail_msg("summary.json lacks %s", brs__an_metric_descs[i].name);
    /* signal mode has no maker/taker split */
    assert_null(cJSON_GetObjectItem(j, "maker_share"));
    cJSON_Delete(j);
    free(sum);

    /* bourse report re-renders byte for byte the page the run wrote */
    size_t l0, l1;
    char *before = file_in(a, "report.html", &l0);
    char p[256], errf[256];
    snprintf(p, sizeof p, "%s/report.html", a);
    unlink(p);
    snprintf(errf, sizeof errf, "%s.err", a);
    char args[512];
    snprintf(args, sizeof args, "report %s", a);
    assert_int_equal(run(args, errf), 0);
    char *after = file_in(a, "report.html", &l1);
    assert_non_null(after);
    assert_int_equal(l0, l1);
    assert_memory_equal(before, after, l0);
    free(before);
    free(after);
    unlink(errf);

    rmrf(a);
    rmrf(b);
    brs__an_destroy(r);
}

/* No trades, no fills, one sample: the undefined metrics are null in the file. */
static void test_empty_run(void **state)
{
    (void)state;
    brs_an_instrument inst = {.symbol = "X"};
    brs_an_options opt = {.mode = BRS_AN_BOOK};
    brs_an_recorder *r;
    brs_error err = {0};
    assert_int_equal(brs__an_create(&r, &opt, &inst, 1, &err), 0);
    assert_int_equal(brs__an_sample(r, FIX_T0, 1000, 1000, NULL), 0);
    char a[64];
    tmpdir(a, sizeof a);
    assert_int_equal(brs__an_write_run(r, a, NULL, &err), 0);
    char *sum = file_in(a, "summary.json", NULL);
    assert_non_null(strstr(sum, "\"sharpe\": null"));
    assert_non_null(strstr(sum, "\"win_rate\": null"));
    assert_non_null(strstr(sum, "\"n_trades\": 0"));
    assert_non_null(strstr(sum, "\"fill_ratio\": null"));
    assert_non_null(strstr(sum, "\"total_return\": 0"));
    cJSON *j = cJSON_Parse(sum);
    assert_non_null(j);
    cJSON_Delete(j);
    free(sum);
    char *cfg = file_in(a, "config.json", NULL);
    assert_string_equal(cfg, "{}\n");
    free(cfg);
    rmrf(a);
    brs__an_destroy(r);
}

/* A write that fails half way leaves no summary.json, not even an older one. */
static void test_interrupted_write(void **state)
{
    (void)state;
    brs_an_recorder *r = fixture_run(3000, BRS_AN_BOOK);
    assert_non_null(r);
    char a[64], p[256];
    tmpdir(a, sizeof a);
    write_fixture(a, r);
    /* orders.csv cannot be replaced once it is a non-empty directory */
    snprintf(p, sizeof p, "%s/orders.csv", a);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/orders.csv/x", a);
    assert_int_equal(mkdir(p, 0755), 0);
    brs_error err = {0};
    assert_int_not_equal(brs__an_write_run(r, a, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "orders.csv"));
    snprintf(p, sizeof p, "%s/summary.json", a);
    assert_int_not_equal(access(p, F_OK), 0);
    rmrf(a);
    brs__an_destroy(r);
}

static void test_report_cli_errors(void **state)
{
    (void)state;
    brs_an_recorder *r = fixture_run(500, BRS_AN_SIGNAL);
    assert_non_null(r);
    char a[64], errf[128], args[512], p[256];
    tmpdir(a, sizeof a);
    write_fixture(a, r);
    snprintf(errf, sizeof errf, "%s.err", a);

    /* a bad number on line 3 of equity.csv */
    char *eq = file_in(a, "equity.csv", NULL);
    char *l3 = strchr(strchr(eq, '\n') + 1, '\n') + 1;
    char *c = l3;
    for (int k = 0; k < 2; k++) /* past ts and time */
        c = strchr(c, ',') + 1;
    c[0] = 'x';
    snprintf(p, sizeof p, "%s/equity.csv", a);
    FILE *fp = fopen(p, "wb");
    fputs(eq, fp);
    fclose(fp);
    free(eq);
    size_t l0, l1;
    char *before = file_in(a, "report.html", &l0);
    snprintf(args, sizeof args, "report %s", a);
    assert_int_equal(run(args, errf), 1);
    char *msg = test_read_file(errf, NULL);
    if (!strstr(msg, "equity.csv:3:") || !strstr(msg, "'equity'"))
        fail_msg("message does not name file, line and column: %s", msg);
    free(msg);
    char *after = file_in(a, "report.html", &l1);
    assert_int_equal(l0, l1); /* the old page is untouched */
    assert_memory_equal(before, after, l0);
    free(before);
    free(after);

    assert_int_equal(run("report --bogus", errf), 2);
    assert_int_equal(run("report", errf), 2);
    assert_int_equal(run("report /nonexistent/run", errf), 1);
    msg = test_read_file(errf, NULL);
    assert_non_null(strstr(msg, "/nonexistent/run/summary.json"));
    free(msg);
    assert_int_equal(run("report --help", errf), 0);
    /* the recorder benchmark runs end to end (timings are not checked) */
    assert_int_equal(run("bench analytics --events 2000 --reps 1 --json", errf), 0);
    assert_int_equal(run("bench analytics --frobnicate", errf), 2);
    unlink(errf);
    rmrf(a);
    brs__an_destroy(r);
}

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Each broken input gives exit 1 and a message naming the file and line. */
static void test_report_cli_bad_files(void **state)
{
    (void)state;
    char a[64], errf[128], args[512];
    tmpdir(a, sizeof a);
    snprintf(errf, sizeof errf, "%s.err", a);
    snprintf(args, sizeof args, "report %s", a);
    static const char *const eq_ok = "ts,equity,\"position_X,Y\",\"price_X,Y\"\n"
                                     "1704067200000000000,100,0,10\n"
                                     "1704153600000000000,101,1,10.5\n";
    const struct {
        const char *summary, *equity, *fills, *want;
    } cases[] = {
        {"{\"a\": 1,\n \"b\": }", eq_ok, NULL, "summary.json:2: malformed JSON"},
        {"[1]", eq_ok, NULL, "summary.json:1: must be a JSON object"},
        {"{}", "time,equity\n1,2\n", NULL, "equity.csv:1: missing column 'ts'"},
        {"{}", "ts,equity\n1,2\n3\n", NULL, "equity.csv:3: 1 fields, the header has 2"},
        {"{}", "ts,equity\n1,2\nx,3\n", NULL, "equity.csv:3: column 'ts'"},
        {"{}", "ts,equity\n5,2\n3,3\n", NULL, "equity.csv:3: ts 3 is before"},
        {"{}", "", NULL, "equity.csv: empty file"},
        {"{}", eq_ok, "ts,symbol,side,price\n1704153600000000000,Z,buy,1\n",
         "fills.csv:2: column 'symbol': 'Z'"},
        {"{}", eq_ok, "ts,symbol,side,price\n1704153600000000000,\"X,Y\",hold,1\n",
         "fills.csv:2: column 'side': 'hold'"},
        {"{}", eq_ok, "ts,symbol,side\n", "fills.csv:1: missing column 'price'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/fills.csv", a);
        unlink(p);
        put(a, "summary.json", cases[i].summary);
        put(a, "equity.csv", cases[i].equity);
        if (cases[i].fills)
            put(a, "fills.csv", cases[i].fills);
        assert_int_equal(run(args, errf), 1);
        char *msg = test_read_file(errf, NULL);
        if (!msg || !strstr(msg, cases[i].want))
            fail_msg("case %zu: want '%s' in: %s", i, cases[i].want, msg ? msg : "(none)");
        free(msg);
    }
    /* and the good files render, the quoted symbol with its comma included */
    put(a, "summary.json", "{\"title\": \"<x>\"}");
    put(a, "equity.csv", eq_ok);
    put(a, "fills.csv", "ts,symbol,side,price\n1704153600000000000,\"X,Y\",buy,10.5\n");
    assert_int_equal(run(args, errf), 0);
    char *page = file_in(a, "report.html", NULL);
    assert_non_null(strstr(page, "\"sym\":\"X,Y\""));
    assert_non_null(strstr(page, "&lt;x&gt;"));
    free(page);
    unlink(errf);
    rmrf(a);
}


/* Declared series, a benchmark from a CSV file, and the sweep page: what the
 * recorder keeps, what the files say, and that `bourse report` rebuilds both pages. */
static void test_plots_benchmark_sweep(void **state)
{
    (void)state;
    char a[64], p[600], errf[600];
    tmpdir(a, sizeof a);
    snprintf(errf, sizeof errf, "%s/err.txt", a);
    /* a benchmark file: two days, the first value missing (Yahoo's null) */
    put(a, "bench.csv", "Date,Open,Close,Adj Close\n2024-01-01,1,1,null\n2024-01-01,1,1,50\n"
                        "2024-01-02,1,1,55\n");
    snprintf(p, sizeof p, "%s/bench.csv", a);
    brs_an_instrument inst = {.symbol = "SPY", .multiplier = 1, .price_scale = 100};
    brs_an_options opt = {.mode = BRS_AN_SIGNAL, .periods_per_year = 252, .sample_every_ns = 10,
                          .benchmark = p};
    brs_an_recorder *r;
    brs_error err = {0};
    if (brs__an_create(&r, &opt, &inst, 1, &err))
        fail_msg("%s", err.msg);
    const int64_t day = INT64_C(86400000000000), t0 = FIX_T0;
    double px[1] = {400};
    assert_int_equal(brs__an_sample(r, t0 + 1000, 1000, 1000, px), 0);   /* 2024-01-01 */
    assert_int_equal(brs__an_sample(r, t0 + day + 1000, 1100, 1100, px), 0); /* 01-02 */
    assert_int_equal(brs__an_sample(r, t0 + 2 * day, 1210, 1210, px), 0); /* 01-03 */
    /* plots: bad names and values refused; one bucket of 10 ns keeps its last */
    assert_int_equal(brs__an_plot(r, t0, "", 1), BRS_E_INVAL);
    assert_int_equal(brs__an_plot(r, t0, "a,b", 1), BRS_E_INVAL);
    assert_int_equal(brs__an_plot(r, t0, "x", NAN), BRS_E_INVAL);
    assert_int_equal(brs__an_plot(r, t0 + 1, "sig", 1), 0);
    assert_int_equal(brs__an_plot(r, t0 + 5, "sig", 2), 0);  /* same bucket: replaces */
    assert_int_equal(brs__an_plot(r, t0 + 20, "sig", 3), 0);
    char nm[8];
    for (int i = 1; i < BRS_AN_MAX_PLOTS; i++) {
        snprintf(nm, sizeof nm, "s%d", i);
        assert_int_equal(brs__an_plot(r, t0 + 30, nm, i), 0);
    }
    assert_int_equal(brs__an_plot(r, t0 + 30, "one_too_many", 1), BRS_E_INVAL);
    brs_an_metrics m;
    assert_int_equal(brs__an_compute(r, &m, &err), 0);
    /* the benchmark: 2024-01-01's close 50 is known at the end of that day, so the
     * first sample (00:00:00.000001) has none, the second 50 (scaled to the
     * starting equity: 1000), the third 55 (1100): a return of 10 % */
    assert_true(fabs(m.benchmark_return - 0.1) < 1e-12);
    write_fixture(a, r);
    char *eq = file_in(a, "equity.csv", NULL), *pl = file_in(a, "plots.csv", NULL);
    assert_non_null(strstr(eq, ",benchmark\n"));
    assert_non_null(strstr(eq, ",400,\n"));     /* unknown at the first sample */
    assert_non_null(strstr(eq, ",400,1000\n"));
    assert_non_null(strstr(eq, ",400,1100\n"));
    assert_non_null(strstr(pl, "ts,time,name,value\n"));
    assert_non_null(strstr(pl, ",sig,2\n"));
    assert_null(strstr(pl, ",sig,1\n"));
    assert_non_null(strstr(pl, ",sig,3\n"));
    free(eq);
    free(pl);
    char *before = file_in(a, "report.html", NULL), args[700];
    snprintf(args, sizeof args, "report %s", a);
    assert_int_equal(run(args, errf), 0);
    char *after = file_in(a, "report.html", NULL);
    assert_string_equal(before, after); /* plots and benchmark read back the same */
    free(before);
    free(after);
    brs__an_destroy(r);
    /* a benchmark that is neither a symbol nor a file */
    opt.benchmark = "NOPE";
    assert_int_not_equal(brs__an_create(&r, &opt, &inst, 1, &err), 0);
    assert_non_null(strstr(err.msg, "report.benchmark: 'NOPE'"));
    /* the sweep page from a results.csv, run_dir unquoted with a comma in it */
    put(a, "results.csv", "rank,fast,slow,status,sharpe,run_dir\n"
                          "1,5,40,ok,1.5,out/fast=5,slow=40\n2,10,40,failed,,out/fast=10,slow=40\n");
    /* the first run kept its directory, the second did not */
    snprintf(p, sizeof p, "%s/fast=5,slow=40", a);
    assert_int_equal(mkdir(p, 0755), 0);
    put(p, "report.html", "<!DOCTYPE html>");
    snprintf(args, sizeof args, "report %s/results.csv", a);
    assert_int_equal(run(args, errf), 0);
    char *html = file_in(a, "results.html", NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "[\"1\",\"5\",\"40\",\"ok\",\"1.5\",\"out/fast=5,slow=40\",\"1\"]"));
    assert_non_null(strstr(html, "\"out/fast=10,slow=40\",\"\"]"));
    assert_non_null(strstr(html, "id=\"brs-sweep\""));
    assert_page_offline(html);
    free(html);
    put(a, "results.csv", "rank,fast,status,sharpe\n1,5\n");
    assert_int_equal(run(args, errf), 1);
    char *msg = test_read_file(errf, NULL);
    assert_non_null(strstr(msg, "results.csv:2: 2 fields, the header has 4"));
    free(msg);
    rmrf(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_and_complete),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_interrupted_write),
        cmocka_unit_test(test_report_cli_errors),
        cmocka_unit_test(test_report_cli_bad_files),
        cmocka_unit_test(test_plots_benchmark_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
