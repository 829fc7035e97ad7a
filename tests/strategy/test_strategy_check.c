/* test_strategy_check.c: `bourse strategy check` runs signal strategies (C
 * xSetTarget, Lua ctx:target) in the signal engine and says what they did;
 * Lua errors are printed once, as "script.lua:LINE: message (in on_bar at
 * TIME)", by check and by backtest alike, without internal names or a
 * traceback (issue 19). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../support/subprocess.h"

#define SCRIPTS BOURSE_SOURCE_DIR "/tests/strategy/scripts/"

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* "... N fills ..." from the check's summary line */
static long fills_of(const char *out)
{
    const char *sig = strstr(out, "in signal mode");
    assert_non_null(sig);
    const char *p = strstr(sig, " fills");
    assert_non_null(p);
    while (p > out && p[-1] >= '0' && p[-1] <= '9')
        p--;
    return strtol(p, NULL, 10);
}

static void test_check_runs_targets(void **state)
{
    (void)state;
    /* Lua ctx:target: it used to return nil here and the check said ok anyway */
    const char *lua[] = {"strategy", "check", BOURSE_SOURCE_DIR "/strategies-lua/sma_target.lua", NULL};
    run_result r = run(lua);
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "in signal mode"));
    assert_true(fills_of(r.out) > 0);
    run_free(&r);
    /* a C plugin calling xSetTarget: it used to fail with BRS_E_UNSUPPORTED */
    const char *c[] = {"strategy", "check", BOURSE_BINARY_DIR "/plugins/ma_cross.so", NULL};
    r = run(c);
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "in signal mode"));
    assert_true(fills_of(r.out) > 0);
    assert_null(strstr(r.err, "UNSUPPORTED"));
    run_free(&r);
    /* vectorized (xSetTargets, no per-bar callback) */
    const char *v[] = {"strategy", "check", BOURSE_BINARY_DIR "/plugins/sig_momentum.so", NULL};
    r = run(v);
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_true(fills_of(r.out) > 0);
    run_free(&r);
    /* a top-of-book strategy still gets the quote/trade smoke run */
    const char *t[] = {"strategy", "check", BOURSE_SOURCE_DIR "/strategies-lua/market_maker.lua", NULL};
    r = run(t);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "ok: started"));
    assert_null(strstr(r.out, "signal mode"));
    run_free(&r);
}

static void check_error_once(const run_result *r, const char *where, const char *msg)
{
    if (r->status != 1)
        fail_msg("status %d: %s", r->status, r->err);
    if (occurrences(r->err, msg) != 1)
        fail_msg("'%s' should appear once:\n%s", msg, r->err);
    if (!strstr(r->err, where))
        fail_msg("'%s' missing:\n%s", where, r->err);
    static const char *const never[] = {"BRS_E_", "xOnBar", "stack traceback", "[C]: in", NULL};
    for (const char *const *n = never; *n; n++)
        if (strstr(r->err, *n))
            fail_msg("'%s' should not be printed:\n%s", *n, r->err);
}

static void test_lua_error_once(void **state)
{
    (void)state;
    const char *check[] = {"strategy", "check", SCRIPTS "bad_bar.lua", NULL};
    run_result r = run(check);
    check_error_once(&r, "bad_bar.lua:8: attempt to index a nil value (local 't') (in on_bar at 20",
                     "attempt to index a nil value");
    run_free(&r);
    const char *check2[] = {"strategy", "check", SCRIPTS "signal_c_error.lua", NULL};
    r = run(check2);
    check_error_once(&r, "signal_c_error.lua:6: bad thing on bar 3 (in on_bar at 20", "bad thing");
    run_free(&r);
    /* the same in a backtest: daily bars stamped at the end of their day (bar 3,
     * 2019-01-04, is seen at 2019-01-05T00:00Z) */
    char data[1024];
    snprintf(data, sizeof data, "%s/data/bars/DEMO.csv", BOURSE_SOURCE_DIR);
    char out[1024];
    snprintf(out, sizeof out, "%s/test-output/strategy/check-bt", BOURSE_BINARY_DIR);
    const char *bt[] = {"backtest", "--mode", "signal", "--data", data, "--strategy",
                        SCRIPTS "signal_c_error.lua", "--out", out, NULL};
    r = run(bt);
    check_error_once(&r, "signal_c_error.lua:6: bad thing on bar 3 (in on_bar at 2019-01-05T00:00Z)",
                     "bad thing");
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_runs_targets),
        cmocka_unit_test(test_lua_error_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
