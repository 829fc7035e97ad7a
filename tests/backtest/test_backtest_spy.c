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

#include "support/screenshot.h"

#define BT_SUBDIR "spy"
#include "bt_util.h"
#include "support/subprocess.h"

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
    char html[1200], png[1200], sum[1200];
    snprintf(html, sizeof html, "%s/report.html", out);
    snprintf(sum, sizeof sum, "%s/summary.json", out);
    char *s = test_read_file(sum, NULL);
    assert_non_null(s);
    assert_non_null(strstr(s, "\"n_trades\""));
    assert_null(strstr(s, "\"n_trades\": 0,")); /* ma_cross 20/50 trades on 21 years of SPY */
    free(s);
    size_t len;
    char *page = test_read_file(html, &len);
    assert_non_null(page);
    assert_page_offline(page);
    free(page);

    snprintf(png, sizeof png, "%s/report.png", out);
    assert_page_renders(html, png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_spy_report)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
