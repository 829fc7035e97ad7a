/* test_cli_errors.c: messages a user meets when something is wrong (issue 19):
 * where a bad value came from (--set, --param, the file), range checks on
 * rates and fractions, "did you mean" for commands, options and keys, JSON
 * errors quoting the line, CSV order errors naming file lines, `gen` saying
 * what it wrote, and the one output style of figures. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core.h"
#include "support/subprocess.h"

static char dir[1024];

static const char *path(const char *name)
{
    static char buf[8][1200];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, 1200, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char cfg[1200];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/test-output/cli/errors", BOURSE_BINARY_DIR);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(cfg, sizeof cfg, "%s/data/configs/demo-signal.json", BOURSE_SOURCE_DIR);
    /* the shipped configs name their files relative to the source tree */
    return chdir(BOURSE_SOURCE_DIR) == 0 ? 0 : -1;
}

static void expect(const char *const *args, int status, const char *const *needles,
                   const char *const *absent)
{
    run_result r = run(args);
    if (r.status != status)
        fail_msg("%s %s: exit %d, expected %d; stderr: %s", args[0], args[1] ? args[1] : "",
                 r.status, status, r.err);
    for (; needles && *needles; needles++)
        if (!strstr(r.err, *needles))
            fail_msg("stderr lacks \"%s\": %s", *needles, r.err);
    for (; absent && *absent; absent++)
        if (strstr(r.err, *absent))
            fail_msg("stderr has \"%s\": %s", *absent, r.err);
    run_free(&r);
}

static void test_set_errors_name_the_option(void **state)
{
    (void)state;
    const char *out = path("x");
    /* a --set value of the wrong type is the --set's error, not the file's */
    expect((const char *[]){"backtest", cfg, "--set", "initial_cash=abc", "--out", out, NULL}, 1,
           (const char *[]){"--set 'initial_cash=abc'", "must be a number", "got the text \"abc\"", NULL},
           (const char *[]){"demo-signal.json", NULL});
    expect((const char *[]){"backtest", cfg, "--param", "fast=abc", "--out", out, NULL}, 1,
           (const char *[]){"--param 'fast=abc'", NULL}, (const char *[]){"demo-signal.json", NULL});
    /* rates and fractions are range-checked */
    expect((const char *[]){"backtest", cfg, "--set", "risk_free_rate=2", "--out", out, NULL}, 1,
           (const char *[]){"--set 'risk_free_rate=2'", "risk_free_rate", "(-0.5, 1)", NULL}, NULL);
    expect((const char *[]){"backtest", cfg, "--set", "signal.sizing.fraction=50", "--out", out, NULL}, 1,
           (const char *[]){"signal.sizing.fraction is 50", NULL}, NULL);
    expect((const char *[]){"backtest", cfg, "--set", "signal.slippage.bps=20000", "--out", out, NULL}, 1,
           (const char *[]){"signal.slippage.bps is 20000", NULL}, NULL);
    /* a value in the file is the file's */
    write_text(path("rf.json"), "{\"mode\": \"signal\", \"data\": \"x.csv\", \"risk_free_rate\": 5,\n"
                                " \"strategy\": {\"file\": \"y.lua\"}}\n");
    expect((const char *[]){"backtest", path("rf.json"), "--out", out, NULL}, 1,
           (const char *[]){"rf.json: risk_free_rate", NULL}, NULL);
}

static void test_did_you_mean(void **state)
{
    (void)state;
    expect((const char *[]){"backtst", NULL}, 2, (const char *[]){"did you mean 'backtest'?", NULL}, NULL);
    expect((const char *[]){"--verison", NULL}, 2, (const char *[]){"did you mean '--version'?", NULL}, NULL);
    expect((const char *[]){"backtest", cfg, "--qiuet", NULL}, 2,
           (const char *[]){"did you mean '--quiet'?", NULL}, NULL);
    expect((const char *[]){"gen", "--event", "5", "-o", path("g.ticks.zst"), NULL}, 2,
           (const char *[]){"did you mean '--events'?", NULL}, NULL);
    expect((const char *[]){"strategy", "check", "--parm", "x", NULL}, 2,
           (const char *[]){"did you mean '--param'?", NULL}, NULL);
    expect((const char *[]){"backtest", cfg, "--set", "signal.sizing.fractoin=1", "--out", path("x"), NULL}, 1,
           (const char *[]){"unknown key 'signal.sizing.fractoin'", "did you mean 'fraction'?", NULL}, NULL);
    expect((const char *[]){"backtest", cfg, "--set", "signal.execution=next_opn", "--out", path("x"), NULL}, 1,
           (const char *[]){"did you mean 'next_open'?", NULL}, NULL);
    /* nothing close: no suggestion */
    expect((const char *[]){"zzzzzz", NULL}, 2, NULL, (const char *[]){"did you mean", NULL});
}

static void test_json_error_quotes_line(void **state)
{
    (void)state;
    write_text(path("bad.json"), "{\n  \"mode\": \"signal\",\n  \"data\": \"x.csv\"\n  \"strategy\": {}\n}\n");
    expect((const char *[]){"backtest", path("bad.json"), NULL}, 1,
           (const char *[]){"bad.json:4:3: invalid JSON", "\n    \"strategy\": {}\n    ^", NULL}, NULL);
}

static void test_csv_order_names_lines(void **state)
{
    (void)state;
    write_text(path("ord.csv"), "Date,Open,High,Low,Close,Adj Close,Volume\n"
                                "2024-01-02,10,11,9,10,10,100\n"
                                "2024-01-03,null,null,null,null,null,null\n"
                                "2024-01-05,10,11,9,10,10,100\n"
                                "2024-01-04,10,11,9,10,10,100\n");
    char lua[1200];
    snprintf(lua, sizeof lua, "%s/strategies-lua/sma_target.lua", BOURSE_SOURCE_DIR);
    expect((const char *[]){"backtest", "--mode", "signal", "--data", path("ord.csv"), "--strategy",
                            lua, "--out", path("x"), NULL},
           1, (const char *[]){"ord.csv:5: date 2024-01-04 is before the date 2024-01-05 on line 4", NULL},
           (const char *[]){"bar 3", NULL});
}

static void test_gen_says_what_it_wrote(void **state)
{
    (void)state;
    expect((const char *[]){"gen", "--events", "1000", "-o", path("g.ticks.zst"), NULL}, 0,
           (const char *[]){"wrote ", "g.ticks.zst: 1000 events, 1 instrument", NULL}, NULL);
    /* an output that cannot be created is refused before generating */
    expect((const char *[]){"gen", "--events", "1000", "-o", path("no/such/dir/g.ticks.zst"), NULL}, 1,
           (const char *[]){"cannot create", NULL}, NULL);
    /* ticks import too: a bad file in the input is not even read (the output is checked first) */
    write_text(path("bad.csv"), "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,x,y,z,w,v,u\n");
    expect((const char *[]){"ticks", "import", "--format", "yahoo", path("bad.csv"), "-o",
                            path("no/such/dir/y.ticks.zst"), NULL},
           1, (const char *[]){"cannot create", NULL}, (const char *[]){"bad.csv", NULL});
}

static void test_one_output_style(void **state)
{
    (void)state;
    char b[32];
    brs__fmt_metric(b, sizeof b, "total_return", 0.1234);
    assert_string_equal(b, "12.34%");
    brs__fmt_metric(b, sizeof b, "max_drawdown", -0.0);
    assert_string_equal(b, "0.00%");
    brs__fmt_metric(b, sizeof b, "sharpe", NAN);
    assert_string_equal(b, BRS_FMT_MISSING);
    brs__fmt_metric(b, sizeof b, "sharpe", 1.23456);
    assert_string_equal(b, "1.2346");
    brs__fmt_metric(b, sizeof b, "net_pnl", 12.345);
    assert_string_equal(b, "12.35");
    brs__fmt_metric(b, sizeof b, "n_trades", 12);
    assert_string_equal(b, "12");
    /* `bourse sweep` prints its table through the same function (sweep.c print_table) */
    /* backtest prints through it: a flat run has no Sharpe, shown as the placeholder */
    const char *args[] = {"backtest", cfg, "--out", path("style"), "--set", "strategy.params.fast=39", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "  total_return       "));
    assert_non_null(strstr(r.out, "%\n"));
    assert_null(strstr(r.out, "nan"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_errors_name_the_option),
        cmocka_unit_test(test_did_you_mean),
        cmocka_unit_test(test_json_error_quotes_line),
        cmocka_unit_test(test_csv_order_names_lines),
        cmocka_unit_test(test_gen_says_what_it_wrote),
        cmocka_unit_test(test_one_output_style),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
