/* fuzz_report.c: libFuzzer target for `bourse report`: a run directory's
 * files, as a user may have edited them (summary.json, config.json,
 * equity.csv, fills.csv, trades.csv, plots.csv, bars.csv, orders.csv), read
 * back and rendered into report.html; and a sweep's results.csv rendered into
 * results.html. Any bytes must give a report or an error naming the file and
 * line, never a crash. Input: the files' contents in that order, then the
 * sweep's results.csv, separated by NUL bytes (a file the input does not
 * reach is absent, as optional files may be). Built with clang by
 * `make fuzz-report`; tests/fuzz/CMakeLists.txt runs the seeds
 * (tests/fuzz/corpus-report, cut from the demos' run directories) through it
 * as an ordinary test. The files live in a private directory under /tmp. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analytics/analytics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"summary.json", "config.json", "equity.csv", "fills.csv",
                                    "trades.csv",   "plots.csv",   "bars.csv",   "orders.csv",
                                    "results.csv"};
#define N_FILES (sizeof names / sizeof *names)

static char dir[64];

static void path_of(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static void cleanup(void)
{
    char p[128];
    for (size_t i = 0; i < N_FILES; i++) {
        path_of(p, sizeof p, names[i]);
        unlink(p);
    }
    path_of(p, sizeof p, "report.html");
    unlink(p);
    path_of(p, sizeof p, "results.html");
    unlink(p);
    rmdir(dir);
}

static void need(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/bourse_fuzz_report_%ld", (long)getpid());
        need(mkdir(dir, 0700) == 0 || access(dir, W_OK) == 0);
        atexit(cleanup);
    }
    size_t at = 0;
    for (size_t i = 0; i < N_FILES; i++) {
        char p[128];
        path_of(p, sizeof p, names[i]);
        if (at > size) { /* not reached: absent */
            unlink(p);
            continue;
        }
        const uint8_t *end = memchr(data + at, 0, size - at);
        size_t n = end ? (size_t)(end - (data + at)) : size - at;
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        need(fd >= 0);
        need(n == 0 || write(fd, data + at, n) == (ssize_t)n);
        close(fd);
        at += n + 1;
    }
    char out[128];
    path_of(out, sizeof out, "report.html");
    brs_error err = {0};
    if (brs__an_rerender(dir, out, &err) != BRS_OK)
        need(err.msg[0] != 0); /* a refusal says why */
    char csv[128];
    path_of(csv, sizeof csv, "results.csv");
    path_of(out, sizeof out, "results.html");
    memset(&err, 0, sizeof err);
    if (brs__sweep_report_write(csv, out, &err) != BRS_OK)
        need(err.msg[0] != 0);
    return 0;
}
