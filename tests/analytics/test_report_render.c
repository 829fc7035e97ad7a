/* test_report_render.c: report.html of a long run (200,000 equity samples)
 * stays small, holds no network reference, and renders in headless Chromium
 * to a non-trivial 1200x1600 PNG. Skips when /usr/bin/chromium is absent
 * (scripts/bootstrap.sh report installs it). The run directory and the
 * screenshot are kept in the build tree for a human to look at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "run_fixture.h"

#define CHROMIUM "/usr/bin/chromium"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_report_renders(void **state)
{
    (void)state;
    brs_an_recorder *r = fixture_run(200000, BRS_AN_BOOK);
    assert_non_null(r);
    char dir[512], html[600], png[600], cmd[4096];
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
    char *page = fixture_slurp(html, &len);
    assert_non_null(page);
    /* self-contained: no scripts, no external references of any kind */
    assert_null(strstr(page, "http"));
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "src="));
    assert_null(strstr(page, "url("));
    assert_null(strstr(page, "<b>escaped</b>")); /* config text is escaped */
    assert_non_null(strstr(page, "&lt;b&gt;escaped"));
    assert_non_null(strstr(page, "Drawdown"));
    assert_non_null(strstr(page, "class=\"buy\""));
    /* 200,000 samples reduced per pixel column: the page stays small */
    if (len > 600 * 1024)
        fail_msg("report.html is %zu bytes for 200k samples", len);
    free(page);

    if (access(CHROMIUM, X_OK) != 0) {
        printf("SKIP: %s not installed (scripts/bootstrap.sh report)\n", CHROMIUM);
        skip();
    }
    snprintf(png, sizeof png, "%s/report.png", dir);
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
    unsigned char *img = (unsigned char *)fixture_slurp(png, &plen);
    if (!img)
        fail_msg("no screenshot at %s", png);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(plen > 33);
    assert_memory_equal(img, sig, 8);
    assert_memory_equal(img + 12, "IHDR", 4);
    assert_int_equal(be32(img + 16), 1200);
    assert_int_equal(be32(img + 20), 1600);
    /* a blank page compresses to a few kB; charts and tables make far more */
    if (plen < 40 * 1024)
        fail_msg("screenshot is only %zu bytes: page looks empty", plen);
    printf("report: %s (%zu bytes), screenshot %s (%zu bytes)\n", html, len, png, plen);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_renders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
