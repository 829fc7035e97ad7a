/* benchmark.c: what a run is compared with (config `report.benchmark`): buy and
 * hold of the first instrument, of a named instrument of the run, or a series
 * read from a CSV file. Resolved when the recorder is created, so a bad file
 * fails the run before it starts; sampled beside every equity sample. */
#include "an_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define NS_PER_DAY INT64_C(86400000000000)

typedef struct bench_csv {
    brs_an_recorder *r;
    int c_time, c_val;
    size_t header_nf;
    size_t cap;
} bench_csv;

/* "YYYY-MM-DD" (stamped at the end of that UTC day, as daily bars are: its close
 * is not known before) or integer ns since the epoch. */
static int parse_time(brs_an_table *t, const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 && m <= 12 && d >= 1 &&
        d <= 31) {
        /* days from civil (the inverse of brs__an_civil) */
        int yy = y - (m <= 2);
        int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
        int64_t yoe = yy - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        int64_t days = era * 146097 + doe - 719468;
        *out = (days + 1) * NS_PER_DAY - 1;
        return BRS_OK;
    }
    (void)t;
    return BRS_E_PARSE;
}

static int bench_row(brs_an_table *t)
{
    bench_csv *b = t->user;
    brs_an_recorder *r = b->r;
    if (t->line == 1) {
        static const char *const tn[] = {"Date", "date", "time", "ts", NULL};
        static const char *const vn[] = {"Adj Close", "adj_close", "Close", "close", "value", NULL};
        b->c_time = b->c_val = -1;
        for (int i = 0; tn[i] && b->c_time < 0; i++)
            b->c_time = brs__an_table_column(t, tn[i]);
        for (int i = 0; vn[i] && b->c_val < 0; i++)
            b->c_val = brs__an_table_column(t, vn[i]);
        if (b->c_time < 0 || b->c_val < 0)
            return brs__err(t->err, BRS_E_PARSE,
                            "%s:1: a benchmark needs a time column (Date, date, time or ts) and a "
                            "value column (Adj Close, Close, close or value)",
                            t->path);
        b->header_nf = t->nf;
        return BRS_OK;
    }
    if (t->nf != b->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, b->header_nf);
    const char *v = brs__an_table_field(t, (size_t)b->c_val);
    if (!*v || strcmp(v, "null") == 0)
        return BRS_OK; /* Yahoo's missing rows */
    int64_t ts;
    const char *ts_s = brs__an_table_field(t, (size_t)b->c_time);
    if (parse_time(t, ts_s, &ts) != BRS_OK) {
        char *end;
        long long x = strtoll(ts_s, &end, 10);
        if (!*ts_s || *end)
            return brs__err(t->err, BRS_E_PARSE,
                            "%s:%ld: '%s' is neither a date (YYYY-MM-DD) nor a time in ns", t->path,
                            t->line, ts_s);
        ts = x;
    }
    double val;
    int rc = brs__an_table_num(t, b->c_val, "value", 0, &val);
    if (rc)
        return rc;
    if (!(val > 0))
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: a benchmark value must be > 0, got %s",
                        t->path, t->line, v);
    if (r->bench_n && ts < r->bench_ts[r->bench_n - 1])
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: times must not go back", t->path, t->line);
    if (r->bench_n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        int64_t *pt = realloc(r->bench_ts, nc * sizeof *pt);
        if (pt)
            r->bench_ts = pt;
        double *pv = realloc(r->bench_v, nc * sizeof *pv);
        if (pv)
            r->bench_v = pv;
        if (!pt || !pv)
            return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
        b->cap = nc;
    }
    r->bench_ts[r->bench_n] = ts;
    r->bench_v[r->bench_n++] = val;
    return BRS_OK;
}

int brs__an_bench_setup(brs_an_recorder *r, const char *spec, brs_error *err)
{
    r->bench_first = NAN;
    if (!spec || !*spec || strcmp(spec, "none") == 0)
        return BRS_OK;
    r->series.has_bench = 1;
    if (strcmp(spec, "buy_and_hold") == 0) {
        r->bench_kind = 1;
        r->bench_inst = 0;
        snprintf(r->bench_name, sizeof r->bench_name, "buy and hold %s", r->inst[0].spec.symbol);
        return BRS_OK;
    }
    for (uint32_t i = 0; i < r->k; i++)
        if (strcmp(spec, r->inst[i].spec.symbol) == 0) {
            r->bench_kind = 1;
            r->bench_inst = i;
            snprintf(r->bench_name, sizeof r->bench_name, "buy and hold %s", spec);
            return BRS_OK;
        }
    bench_csv b = {.r = r};
    brs_an_table t = {.path = spec, .on_row = bench_row, .user = &b, .err = err};
    int rc = brs__an_table_read(&t);
    if (rc == BRS_E_NOTFOUND)
        return brs__err(err, BRS_E_INVAL,
                        "report.benchmark: '%s' is not buy_and_hold, a symbol of the run or a "
                        "readable CSV file",
                        spec);
    if (rc)
        return rc;
    if (r->bench_n == 0)
        return brs__err(err, BRS_E_INVAL, "report.benchmark: %s holds no values", spec);
    const char *base = strrchr(spec, '/');
    snprintf(r->bench_name, sizeof r->bench_name, "%s", base ? base + 1 : spec);
    r->bench_kind = 2;
    return BRS_OK;
}

double brs__an_bench_level(brs_an_recorder *r, int64_t ts, const double *prices)
{
    if (r->bench_kind == 1)
        return prices ? prices[r->bench_inst] : NAN;
    if (r->bench_kind != 2)
        return NAN;
    while (r->bench_at < r->bench_n && r->bench_ts[r->bench_at] <= ts)
        r->bench_at++;
    return r->bench_at ? r->bench_v[r->bench_at - 1] : NAN;
}
