/* test_backtest_spy.c: the command line on real data:
 *   bourse backtest --mode signal --data ../shared/data/yahoo/SPY.csv
 *     --strategy strategies-lua/ma_cross.lua --param fast=20 --param slow=50
 * exits 0, prints the report's path, and the report renders in headless
 * Chromium (same screenshot check as tests/analytics). Skips when the shared
 * data or /usr/bin/chromium is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define BT_SUBDIR "spy"
#include "bt_util.h"
#include "support/subprocess.h"

#define CHROMIUM "/usr/bin/chromium"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_spy_report(void **state)
{
    (void)state;
    const char *spy = BOURSE_SHARED_DIR "/data/yahoo/SPY.csv";
    if (access(spy, R_OK) != 0) {
        printf("SKIP: %s not present\n", spy);
        skip();
    }
    const char *out = bt_path("spy_ma_cross");
    const char *args[] = {"backtest", "--mode", "signal", "--data", spy, "--strategy",
                          BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua", "--param", "fast=20",
                          "--param", "slow=50", "--out", out, NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "report.html"));
    assert_non_null(strstr(r.out, "sharpe"));
    run_free(&r);
    char html[1200], png[1200], sum[1200], cmd[4096];
    snprintf(html, sizeof html, "%s/report.html", out);
    snprintf(sum, sizeof sum, "%s/summary.json", out);
    char *s = bt_slurp(sum, NULL);
    assert_non_null(s);
    assert_non_null(strstr(s, "\"n_trades\""));
    assert_null(strstr(s, "\"n_trades\": 0,")); /* ma_cross 20/50 trades on 21 years of SPY */
    free(s);
    size_t len;
    char *page = bt_slurp(html, &len);
    assert_non_null(page);
    assert_null(strstr(page, "http"));
    assert_null(strstr(page, "<script"));
    free(page);

    if (access(CHROMIUM, X_OK) != 0) {
        printf("SKIP: %s not installed (scripts/bootstrap.sh report)\n", CHROMIUM);
        skip();
    }
    snprintf(png, sizeof png, "%s/report.png", out);
    unlink(png);
    snprintf(cmd, sizeof cmd,
             "profile=$(mktemp -d) && timeout 90 " CHROMIUM
             " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
             " --disable-background-networking --disable-component-update --disable-sync"
             " --user-data-dir=\"$profile\" --screenshot='%s' --window-size=1200,1600"
             " 'file://%s' >/dev/null 2>&1; rc=$?; rm -rf \"$profile\"; exit $rc",
             png, html);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("chromium exited with %d", WEXITSTATUS(st));
    size_t plen;
    unsigned char *img = (unsigned char *)bt_slurp(png, &plen);
    if (!img)
        fail_msg("no screenshot at %s", png);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(plen > 33);
    assert_memory_equal(img, sig, 8);
    assert_int_equal(be32(img + 16), 1200);
    assert_int_equal(be32(img + 20), 1600);
    if (plen < 40 * 1024)
        fail_msg("screenshot is only %zu bytes: page looks empty", plen);
    printf("report: %s, screenshot %s (%zu bytes)\n", html, png, plen);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_spy_report)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
