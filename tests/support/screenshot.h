/* screenshot.h: render an HTML report in headless Chromium and check the PNG
 * it makes: the right size, and far larger than a blank page compresses to.
 * Skips the calling test (with the reason) when Chromium is not installed.
 * Header-only; include after <cmocka.h>. */
#ifndef BRS_TEST_SCREENSHOT_H
#define BRS_TEST_SCREENSHOT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BRS_TEST_CHROMIUM "/usr/bin/chromium"

static inline uint32_t shot_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A report page works offline: no external reference of any kind. The only
 * "http" allowed is the URL in uPlot's license comment (report.html inlines it). */
static inline void assert_page_offline(const char *page)
{
    static const char *const banned[] = {"src=", "url(", "<link", "fetch(", "XMLHttpRequest",
                                         "WebSocket", "import(", "@import", NULL};
    for (int i = 0; banned[i]; i++)
        if (strstr(page, banned[i]))
            fail_msg("report page holds '%s'", banned[i]);
    static const char lic[] = "https://github.com/leeoniya/uPlot";
    for (const char *p = strstr(page, "http"); p; p = strstr(p + 4, "http"))
        if (strncmp(p, lic, sizeof lic - 1) != 0)
            fail_msg("report page references '%.40s'", p);
}

/* Screenshot html (an absolute path) into png at 1200x1600 and check it. */
static inline void assert_page_renders(const char *html, const char *png)
{
    if (access(BRS_TEST_CHROMIUM, X_OK) != 0) {
        printf("SKIP: %s not installed (scripts/bootstrap.sh report)\n", BRS_TEST_CHROMIUM);
        skip();
    }
    char cmd[4096];
    unlink(png);
    snprintf(cmd, sizeof cmd,
             "profile=$(mktemp -d) && timeout 90 " BRS_TEST_CHROMIUM
             " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
             " --disable-background-networking --disable-component-update --disable-sync"
             " --user-data-dir=\"$profile\" --screenshot='%s' --window-size=1200,1600"
             " 'file://%s' >/dev/null 2>&1; rc=$?; rm -rf \"$profile\"; exit $rc",
             png, html);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("chromium exited with %d", WEXITSTATUS(st));
    FILE *fp = fopen(png, "rb");
    if (!fp)
        fail_msg("no screenshot at %s", png);
    static unsigned char img[64];
    size_t got = fread(img, 1, sizeof img, fp);
    fseek(fp, 0, SEEK_END);
    long plen = ftell(fp);
    fclose(fp);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(got > 33);
    assert_memory_equal(img, sig, 8);
    assert_memory_equal(img + 12, "IHDR", 4);
    assert_int_equal(shot_be32(img + 16), 1200);
    assert_int_equal(shot_be32(img + 20), 1600);
    /* a blank page compresses to a few kB; charts and tables make far more */
    if (plen < 40 * 1024)
        fail_msg("screenshot is only %ld bytes: page looks empty", plen);
    printf("report %s rendered: screenshot %s (%ld bytes)\n", html, png, plen);
}

#endif
