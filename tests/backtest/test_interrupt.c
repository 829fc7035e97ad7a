/* test_interrupt.c: `bourse backtest` stopped by SIGINT/SIGTERM at random
 * moments (loading, the loop, writing the run directory) never leaves a
 * temporary file or a run directory without summary.json, says what was
 * interrupted, and exits 130/143; an output location that cannot be written is
 * refused before anything is computed (issue 19). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "core/core.h"
#include "support/files.h"
#include "support/subprocess.h"

static char dir[1024], bars[1100], strat[1100];
static int n_bars;

static char *path(const char *fmt, ...)
{
    static char buf[8][1200];
    static int k;
    char *p = buf[k++ & 7];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(p, 1200, "%s/", dir);
    vsnprintf(p + n, (size_t)(1200 - n), fmt, ap);
    va_end(ap);
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Any "*.tmp.*" below d (recursively): its path into found, 1. */
static int find_tmp(const char *d, char *found, size_t cap)
{
    DIR *dh = opendir(d);
    if (!dh)
        return 0;
    struct dirent *e;
    int hit = 0;
    while (!hit && (e = readdir(dh))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        if (strstr(e->d_name, ".tmp.")) {
            snprintf(found, cap, "%s", p);
            hit = 1;
        } else if (e->d_type == DT_DIR) {
            hit = find_tmp(p, found, cap);
        }
    }
    closedir(dh);
    return hit;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Start the backtest into out with stderr to errf; returns the pid. */
static pid_t start_with(const char *out, const char *errf, const char *strategy)
{
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1);
        dup2(fd, 2);
        execl(BOURSE_BIN, BOURSE_BIN, "backtest", "--mode", "signal", "--data", bars, "--strategy",
              strategy, "--set", "sample_every_ns=0", "--out", out, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t start(const char *out, const char *errf) { return start_with(out, errf, strat); }

static int wait_status(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/test-output/backtest/interrupt", BOURSE_BINARY_DIR);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(bars, sizeof bars, "%s/bars.ticks.zst", dir);
    snprintf(strat, sizeof strat, "%s/strategies-lua/sma_target.lua", BOURSE_SOURCE_DIR);
    /* 150,000 one-minute bars: a second or so of loop and a large equity.csv;
     * under the sanitizers (make check sets ASAN_OPTIONS) a run is 20x slower,
     * so 20,000 keep the 20 trials within the timeout */
    n_bars = getenv("ASAN_OPTIONS") ? 20000 : 150000;
    snprintf(cmd, sizeof cmd, "'%s' gen --bars --seed 7 --events %d -o '%s'", BOURSE_BIN, n_bars, bars);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_interrupt_random_moments(void **state)
{
    (void)state;
    /* how long an uninterrupted run takes, to spread the signals over all of
     * it: the fastest of three, since the first (cold caches, and under ASan
     * much slower) would put most signals after the warm runs have ended */
    double full = 0;
    pid_t pid;
    for (int k = 0; k < 3; k++) {
        double t0 = now_s();
        pid = start(path("full%d", k), path("full%d.err", k));
        assert_int_equal(wait_status(pid), 0);
        double d = now_s() - t0;
        if (k == 0 || d < full)
            full = d;
        assert_true(exists(path("full%d/summary.json", k)));
    }
    unsigned seed = (unsigned)time(NULL);
    print_message("fastest full run %.2f s; seed %u\n", full, seed);
    srand(seed);
    int interrupted = 0, finished = 0, early = 0;
    for (int trial = 0; trial < 20; trial++) {
        char out[1200], errf[1200], found[2048];
        snprintf(out, sizeof out, "%s", path("run%d", trial));
        snprintf(errf, sizeof errf, "%s", path("run%d.err", trial));
        int sig = trial % 4 == 3 ? SIGTERM : SIGINT;
        double delay = full * 0.95 * rand() / (double)RAND_MAX; /* mostly inside the run */
        pid = start(out, errf);
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, sig);
        int status = wait_status(pid);
        char *err = test_read_file(errf, NULL);
        if (!err) /* killed before the child opened its stderr file */
            err = strdup("");
        assert_non_null(err);
        if (find_tmp(dir, found, sizeof found))
            fail_msg("trial %d (signal %d after %.3f s): temporary file left: %s", trial, sig,
                     delay, found);
        if (exists(out) && !exists(path("run%d/summary.json", trial)))
            fail_msg("trial %d (signal %d after %.3f s): %s has no summary.json", trial, sig, delay,
                     out);
        if (status == 0) {
            finished++; /* the signal came after the run was over */
        } else if (status == 128 + sig && !*err && !exists(out)) {
            early++; /* before the process set up its handlers (exec, dynamic loading) */
        } else {
            if (status != 128 + sig)
                fail_msg("trial %d: exit %d after signal %d at %.3f s; stderr: %s", trial, status,
                         sig, delay, err);
            interrupted++;
            /* it says what was interrupted, once, on a finished line */
            assert_non_null(strstr(err, sig == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM"));
            assert_null(strstr(strstr(err, "interrupted by") + 1, "interrupted by"));
        }
        free(err);
    }
    print_message("%d interrupted, %d finished before the signal, %d ended before it set up\n",
                  interrupted, finished, early);
    assert_true(interrupted >= 5); /* the machine may be loaded: runs take longer or shorter */
}

/* A signal in the middle of the loop: how far it got, nothing written. */
static void test_interrupt_reports_progress(void **state)
{
    (void)state;
    /* a strategy slow enough per bar that the loop lasts many seconds */
    char lua[1200];
    snprintf(lua, sizeof lua, "%s", path("slow.lua"));
    FILE *f = fopen(lua, "w");
    assert_non_null(f);
    fputs("return { on_bar = function(ctx, bar) local x = 0; for i = 1, 20000 do x = x + i end end }\n", f);
    fclose(f);
    pid_t pid = start_with(path("mid"), path("mid.err"), lua);
    /* wait until the loop runs: the strategy is loaded and the bars read */
    struct timespec ts = {0, 800000000};
    nanosleep(&ts, NULL);
    kill(pid, SIGINT);
    int status = wait_status(pid);
    char *err = test_read_file(path("mid.err"), NULL);
    assert_non_null(err);
    if (status == 130 && strstr(err, "event loop")) {
        char of[64];
        snprintf(of, sizeof of, "of %d events", n_bars);
        assert_non_null(strstr(err, of));
        assert_non_null(strstr(err, "no run directory written"));
        assert_false(exists(path("mid")));
    } else {
        print_message("signal landed outside the loop (exit %d): %s\n", status, err);
        assert_true(status == 130 || status == 0);
    }
    free(err);
}

/* An output location that cannot be created fails at once, before the
 * strategy runs (this one would fail on its first bar). */
static void test_unwritable_out_checked_first(void **state)
{
    (void)state;
    char lua[1200], data[1200], blocker[1200], out[1300];
    snprintf(lua, sizeof lua, "%s", path("fails.lua"));
    FILE *f = fopen(lua, "w");
    assert_non_null(f);
    fputs("return { on_bar = function(ctx, bar) error('should not run') end }\n", f);
    fclose(f);
    snprintf(data, sizeof data, "%s/data/bars/DEMO.csv", BOURSE_SOURCE_DIR);
    snprintf(blocker, sizeof blocker, "%s", path("a-file"));
    f = fopen(blocker, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(out, sizeof out, "%s/sub/run", blocker);
    const char *args[] = {"backtest", "--mode", "signal", "--data", data, "--strategy", lua,
                          "--out", out, NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "run directory"));
    assert_non_null(strstr(r.err, "not a directory"));
    assert_null(strstr(r.err, "should not run"));
    run_free(&r);
}

/* Any command ended by SIGINT/SIGTERM leaves no temporary: `gen` writing a
 * large file (the temporary registered by brs__atomic_open is removed by the
 * handler before the default action ends the process). */
static void test_gen_interrupt_leaves_no_temporary(void **state)
{
    (void)state;
    char out[1200], found[2048];
    snprintf(out, sizeof out, "%s", path("gen/big.ticks.zst"));
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/gen'", dir);
    assert_int_equal(system(cmd), 0);
    for (int trial = 0; trial < 3; trial++) {
        fflush(stdout);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int nul = open("/dev/null", O_WRONLY);
            dup2(nul, 1);
            dup2(nul, 2);
            execl(BOURSE_BIN, BOURSE_BIN, "gen", "--events", "20000000", "-o", out, (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {0, 300000000 + 200000000 * trial};
        nanosleep(&ts, NULL);
        int sig = trial == 1 ? SIGTERM : SIGINT;
        kill(pid, sig);
        int status = wait_status(pid);
        assert_int_equal(status, 128 + sig); /* ended by the signal, as by default */
        if (find_tmp(path("gen"), found, sizeof found))
            fail_msg("gen interrupted (signal %d): temporary left: %s", sig, found);
    }
}

static long lines_of(const char *p, char *first, char *last, size_t cap)
{
    char *t = test_read_file(p, NULL);
    assert_non_null(t);
    long n = 0;
    char *line = t, *prev = NULL;
    for (char *q = t; *q; q++)
        if (*q == '\n') {
            *q = 0;
            if (n == 1)
                snprintf(first, cap, "%s", line);
            prev = line;
            line = q + 1;
            n++;
        }
    snprintf(last, cap, "%s", prev ? prev : "");
    free(t);
    return n;
}

/* Book runs bound their CSVs: csv_max_rows rows at most, an even sample that
 * keeps the first and last rows; --full-record writes every row. */
static void test_book_csv_bounded(void **state)
{
    (void)state;
    char cfg[1100];
    snprintf(cfg, sizeof cfg, "%s/data/configs/demo-book.json", BOURSE_SOURCE_DIR);
    assert_int_equal(chdir(BOURSE_SOURCE_DIR), 0);
    const char *full[] = {"backtest", cfg, "--quiet", "--full-record", "--out", path("book-full"), NULL};
    run_result r = run(full);
    assert_int_equal(r.status, 0);
    run_free(&r);
    const char *capped[] = {"backtest", cfg, "--quiet", "--set", "csv_max_rows=100",
                            "--out", path("book-capped"), NULL};
    r = run(capped);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "CSV sampled"));
    run_free(&r);
    static const char *const files[] = {"fills.csv", "orders.csv", "equity.csv", "trades.csv"};
    int sampled = 0;
    for (int i = 0; i < 4; i++) {
        char f1[512], l1[512], f2[512], l2[512], p1[1300], p2[1300];
        snprintf(p1, sizeof p1, "%s/%s", path("book-full"), files[i]);
        snprintf(p2, sizeof p2, "%s/%s", path("book-capped"), files[i]);
        long n1 = lines_of(p1, f1, l1, sizeof f1) - 1, n2 = lines_of(p2, f2, l2, sizeof f2) - 1;
        assert_true(n2 <= 100);
        assert_true(n2 <= n1);
        sampled += n1 > 100;
        assert_string_equal(f1, f2);
        assert_string_equal(l1, l2);
    }
    assert_true(sampled >= 1); /* the demo has more than 100 equity samples */
    /* the metrics come from every row, not the sample */
    char *s1 = NULL, *s2 = NULL;
    char p1[1300], p2[1300];
    snprintf(p1, sizeof p1, "%s/summary.json", path("book-full"));
    snprintf(p2, sizeof p2, "%s/summary.json", path("book-capped"));
    s1 = test_read_file(p1, NULL);
    s2 = test_read_file(p2, NULL);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unwritable_out_checked_first),
        cmocka_unit_test(test_book_csv_bounded),
        cmocka_unit_test(test_gen_interrupt_leaves_no_temporary),
        cmocka_unit_test(test_interrupt_reports_progress),
        cmocka_unit_test(test_interrupt_random_moments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
