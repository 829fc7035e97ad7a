/* bt_util.h: helpers for the backtest tests: synthetic daily-bar CSVs, small
 * Lua strategies written to the build tree, in-process runs of a JSON config,
 * and reading the run directory back. Header-only; include after <cmocka.h>. */
#ifndef BRS_TEST_BT_UTIL_H
#define BRS_TEST_BT_UTIL_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backtest/backtest.h"
#include "core/core.h"
#include "support/files.h"

#ifndef BT_SUBDIR
#error "define BT_SUBDIR (this test's output folder) before including bt_util.h"
#endif

#define T0_DAY INT64_C(19723) /* 2024-01-01 in days since the epoch */

typedef struct bt_bar {
    double open, high, low, close;
    long long volume;
} bt_bar;

static inline char * bt_path(const char *name)
{
    static char buf[64][1024]; /* a ring: results stay valid for 63 more calls */
    static int k;
    char *p = buf[k++ & 63];
    /* one folder per test program: ctest runs them in parallel */
    snprintf(p, 1024, "%s/test-output/backtest/%s/%s", BOURSE_BINARY_DIR, BT_SUBDIR, name);
    return p;
}

static inline void bt_write(const char *path, const char *text)
{
    brs_error err = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        assert_int_equal(brs__mkdirs(dir, &err), 0);
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Bars on consecutive days from 2024-01-01; high/low default to the body +-1. */
static inline void bt_write_csv(const char *path, const bt_bar *b, size_t n)
{
    size_t cap = 128 + n * 128;
    char *t = malloc(cap), *p = t;
    p += sprintf(p, "Date,Open,High,Low,Close,Adj Close,Volume\n");
    for (size_t i = 0; i < n; i++) {
        time_t secs = (time_t)((T0_DAY + (int64_t)i) * 86400);
        struct tm tm;
        gmtime_r(&secs, &tm);
        double hi = b[i].high ? b[i].high : fmax(b[i].open, b[i].close) + 1;
        double lo = b[i].low ? b[i].low : fmin(b[i].open, b[i].close) - 1;
        p += sprintf(p, "%04d-%02d-%02d,%.6f,%.6f,%.6f,%.6f,%.6f,%lld\n", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, b[i].open, hi, lo, b[i].close, b[i].close,
                     b[i].volume ? b[i].volume : 1000000);
    }
    bt_write(path, t);
    free(t);
}

/* Daily bars are stamped at the end of their UTC day (the ticks importer). */
static inline int64_t bt_day_ts(int i) { return (T0_DAY + i + 1) * INT64_C(86400000000000); }

/* Run a JSON config in-process into out; returns the brs code, fills res/m. */
static inline int bt_run(const char *json, const char *out, brs__bt_result *res, brs_an_metrics *m,
                  brs_error *err)
{
    brs_config cfg;
    int rc = brs__config_parse(&cfg, json, "test.json", err);
    if (rc)
        return rc;
    rc = brs__bt_run_config(&cfg, out, 0, res, m, NULL, 0, err);
    brs__config_free(&cfg);
    return rc;
}

/* Line `row` (0 = header) of a CSV file, field `col` (0-based), as a string. */
static inline void bt_csv_field(const char *path, int row, int col, char *out, size_t cap)
{
    char *t = test_read_file(path, NULL);
    assert_non_null(t);
    char *line = t;
    for (int r = 0; r < row && line; r++) {
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    assert_non_null(line);
    char *f = line;
    for (int c = 0; c < col && f; c++) {
        f = strpbrk(f, ",\n");
        assert_true(f && *f == ',');
        f++;
    }
    size_t n = strcspn(f, ",\n");
    assert_true(n < cap);
    memcpy(out, f, n);
    out[n] = 0;
    free(t);
}

static inline double bt_csv_num(const char *path, int row, int col)
{
    char buf[128];
    bt_csv_field(path, row, col, buf, sizeof buf);
    return strtod(buf, NULL);
}

/* Integers (ns timestamps) exactly: a double holds only 53 bits. */
static inline int64_t bt_csv_i64(const char *path, int row, int col)
{
    char buf[128];
    bt_csv_field(path, row, col, buf, sizeof buf);
    return strtoll(buf, NULL, 10);
}

static inline int bt_csv_rows(const char *path)
{
    char *t = test_read_file(path, NULL);
    assert_non_null(t);
    int n = 0;
    for (char *p = t; *p; p++)
        n += *p == '\n';
    free(t);
    return n - 1;
}

#endif
