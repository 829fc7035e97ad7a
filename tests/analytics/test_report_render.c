/* test_report_render.c: report.html of a long run (200,000 equity samples)
 * stays small, holds no network reference, and renders in headless Chromium
 * (the interactive checks are tests/browser/report_browser.cjs)
 * to a non-trivial 1200x1600 PNG. Skips when /usr/bin/chromium is absent
 * (scripts/bootstrap.sh report installs it). The run directory and the
 * screenshot are kept in the build tree for a human to look at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support/screenshot.h"

#include <sys/wait.h>
#include <unistd.h>

#include "run_fixture.h"

static void test_report_renders(void **state)
{
    (void)state;
    brs_an_recorder *r = fixture_run(200000, BRS_AN_BOOK);
    assert_non_null(r);
    char dir[512], html[600], png[600];
    snprintf(dir, sizeof dir, "%s/test-output/report_render", BOURSE_BINARY_DIR);
    brs_error err = {0};
    brs_config cfg;
    assert_int_equal(brs__config_parse(&cfg, "{\"mode\": \"book\", \"note\": \"<b>escaped</b>\"}",
                                       "render.json", &err),
                     0);
    if (brs__an_write_run(r, dir, &cfg, &err))
        fail_msg("%s", err.msg);
    brs__config_free(&cfg);
    brs__an_destroy(r);

    snprintf(html, sizeof html, "%s/report.html", dir);
    size_t len;
    char *page = test_read_file(html, &len);
    assert_non_null(page);
    /* self-contained: inline scripts only, no external references of any kind */
    assert_page_offline(page);
    assert_null(strstr(page, "<b>escaped</b>")); /* config text never closes a tag */
    assert_non_null(strstr(page, "\"note\":\"<b>escaped<\\/b>\""));
    assert_non_null(strstr(page, "id=\"brs-data\""));
    /* 200,000 samples reduced per display column: the page stays small */
    if (len > 1200 * 1024)
        fail_msg("report.html is %zu bytes for 200k samples", len);
    free(page);

    snprintf(png, sizeof png, "%s/report.png", dir);
    assert_page_renders(html, png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_renders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
