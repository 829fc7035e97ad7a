/* sweep_wf.c: walk-forward analysis (`bourse sweep --walk-forward
 * train=3y,test=1y,step=1y`). Each window's grid runs on a view of the bars
 * that ends before its test window starts (the bars after it are not in the
 * view, so they cannot reach the optimization); the best combination by the
 * sort metric then runs on the test window alone. Written: walk_forward.csv
 * and .json (in-sample and out-of-sample metrics per window), each test run's
 * directory under walk_forward/, and oos_equity.csv, the test windows' equity
 * chained into one curve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sweep.h"

#define NS_DAY INT64_C(86400000000000)

/* A period: n units of d (days), w (weeks), m (months) or y (years); packed
 * as months * 2 + 1 for calendar units, days * 2 for the others. */
static int parse_period(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    if (len < 2 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char unit = buf[len - 1];
    buf[len - 1] = 0;
    char *end;
    long n = strtol(buf, &end, 10);
    if (*end || n <= 0 || n > 100000)
        return -1;
    switch (unit) {
    case 'd': *out = (int64_t)n * 2; return 0;
    case 'w': *out = (int64_t)n * 14; return 0;
    case 'm': *out = (int64_t)n * 2 + 1; return 0;
    case 'y': *out = (int64_t)n * 24 + 1; return 0;
    default: return -1;
    }
}

static int64_t add_period(int64_t ts, int64_t p)
{
    if (!(p & 1))
        return ts + (p / 2) * NS_DAY;
    int64_t months = p / 2;
    time_t sec = (time_t)(ts / 1000000000);
    int64_t ns = ts % 1000000000;
    struct tm tm;
    gmtime_r(&sec, &tm);
    int64_t mon = (int64_t)tm.tm_mon + months;
    tm.tm_year += (int)(mon / 12);
    tm.tm_mon = (int)(mon % 12);
    int mday = tm.tm_mday; /* Jan 31 + 1 month: the last day of February */
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = tm.tm_year + 1900;
    int last = dim[tm.tm_mon] + (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    tm.tm_mday = mday > last ? last : mday;
    return (int64_t)timegm(&tm) * 1000000000 + ns;
}

int brs__sweep_wf_parse(brs__sweep_wf *wf, const char *spec, brs_error *err)
{
    memset(wf, 0, sizeof *wf);
    const char *p = spec;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        int64_t v;
        if (!eq || parse_period(eq + 1, (size_t)(p + n - eq - 1), &v))
            return brs__err(err, BRS_E_INVAL,
                            "--walk-forward '%s': expected train=N[dwmy],test=N[dwmy][,step=N[dwmy]]", spec);
        size_t k = (size_t)(eq - p);
        if (k == 5 && !strncmp(p, "train", 5))
            wf->train_ns = v;
        else if (k == 4 && !strncmp(p, "test", 4))
            wf->test_ns = v;
        else if (k == 4 && !strncmp(p, "step", 4))
            wf->step_ns = v;
        else
            return brs__err(err, BRS_E_INVAL, "--walk-forward '%s': unknown part '%.*s' (train, test, step)",
                            spec, (int)k, p);
        p += n + (p[n] == ',');
    }
    if (!wf->train_ns || !wf->test_ns)
        return brs__err(err, BRS_E_INVAL, "--walk-forward '%s': needs train= and test=", spec);
    if (!wf->step_ns)
        wf->step_ns = wf->test_ns;
    return BRS_OK;
}

/* The bars with lo <= ts < hi, as a view into b (no copy). */
static int view(const brs__bt_bars *b, int64_t lo, int64_t hi, brs__bt_bars *v, brs_error *err)
{
    *v = *b;
    v->bars = calloc(b->n_instr, sizeof *v->bars);
    v->n = calloc(b->n_instr, sizeof *v->n);
    v->cols = b->cols ? calloc(b->n_instr, sizeof *v->cols) : NULL;
    if (!v->bars || !v->n || (b->cols && !v->cols)) {
        free(v->bars);
        free(v->n);
        free(v->cols);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    v->total = 0;
    for (uint32_t i = 0; i < b->n_instr; i++) {
        uint64_t a = 0, z = 0;
        while (a < b->n[i] && brs__bt_bar_ts(b, i, a) < lo)
            a++;
        z = a;
        while (z < b->n[i] && brs__bt_bar_ts(b, i, z) < hi)
            z++;
        v->bars[i] = b->bars[i] ? b->bars[i] + a : NULL;
        if (b->cols && b->cols[i].ts) {
            const brs_bar_columns *c = &b->cols[i];
            v->cols[i] = (brs_bar_columns){.size = c->size, .n = z - a, .ts = c->ts + a,
                                           .ts_local = c->ts_local + a, .open = c->open + a,
                                           .high = c->high + a, .low = c->low + a,
                                           .close = c->close + a, .volume = c->volume + a};
        }
        v->n[i] = z - a;
        v->total += z - a;
    }
    return BRS_OK;
}

static void view_free(brs__bt_bars *v)
{
    free(v->bars);
    free(v->n);
    free(v->cols);
}

static void iso(int64_t ts, char *out, size_t cap)
{
    time_t s = (time_t)(ts / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void put_num(FILE *f, double v)
{
    if (isnan(v))
        fputc(',', f);
    else
        fprintf(f, ",%.17g", v);
}

/* Append the test run's equity (ts, time, equity) to the chained curve. */
static int stitch(FILE *out, const char *run_dir, int w, double *level, brs_error *err)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/equity.csv", run_dir);
    char *text;
    int rc = brs__read_file(path, &text, NULL, err);
    if (rc)
        return rc;
    char *line = strchr(text, '\n');
    double e0 = NAN, last = NAN;
    while (line && *++line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (c2) {
            double e = strtod(c2 + 1, NULL);
            if (isnan(e0))
                e0 = e;
            last = e;
            fprintf(out, "%.*s,%d,%.17g\n", (int)(c2 - line), line, w, *level * e / e0);
        }
        line = nl;
    }
    if (!isnan(e0) && e0 != 0)
        *level *= last / e0;
    free(text);
    return BRS_OK;
}

int brs__sweep_walk_forward(const brs__sweep_job *job, const brs__sweep_wf *wf, const uint64_t *ids,
                            uint64_t n, int m, const char *dir, brs_error *err)
{
    const brs__bt_bars *b = job->bars;
    if (!b || !b->total)
        return brs__err(err, BRS_E_INVAL, "walk-forward needs signal mode with its bars in one data file");
    int64_t t0 = INT64_MAX, tn = INT64_MIN;
    for (uint32_t i = 0; i < b->n_instr; i++)
        if (b->n[i]) {
            int64_t first = brs__bt_bar_ts(b, i, 0), last = brs__bt_bar_ts(b, i, b->n[i] - 1);
            t0 = first < t0 ? first : t0;
            tn = last > tn ? last : tn;
        }
    char wdir[4200], path[4300];
    snprintf(wdir, sizeof wdir, "%s/walk_forward", dir);
    int rc = brs__mkdirs(wdir, err);
    if (rc)
        return rc;
    brs__sweep_result *r = calloc(n, sizeof *r);
    cJSON *arr = cJSON_CreateArray();
    brs_atomic_file csv, eq;
    int csv_open = 0, eq_open = 0;
    if (!r || !arr) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    snprintf(path, sizeof path, "%s/walk_forward.csv", dir);
    if ((rc = brs__atomic_open(&csv, path, err)))
        goto out;
    csv_open = 1;
    snprintf(path, sizeof path, "%s/oos_equity.csv", dir);
    if ((rc = brs__atomic_open(&eq, path, err)))
        goto out;
    eq_open = 1;
    fputs("window,train_start,train_end,test_start,test_end,train_bars,test_bars,best", csv.fp);
    for (int k = 0; brs__sweep_metrics[k]; k++)
        fprintf(csv.fp, ",is_%s", brs__sweep_metrics[k]);
    for (int k = 0; brs__sweep_metrics[k]; k++)
        fprintf(csv.fp, ",oos_%s", brs__sweep_metrics[k]);
    fputc('\n', csv.fp);
    fputs("ts,time,window,equity\n", eq.fp);
    double level = NAN;
    int w = 0;
    for (int64_t start = t0;; start = add_period(start, wf->step_ns), w++) {
        int64_t tr_end = add_period(start, wf->train_ns), te_end = add_period(tr_end, wf->test_ns);
        if (tr_end > tn)
            break;
        brs__bt_bars tv, sv;
        if ((rc = view(b, start, tr_end, &tv, err)))
            goto out;
        if ((rc = view(b, tr_end, te_end, &sv, err))) {
            view_free(&tv);
            goto out;
        }
        if (!sv.total) {
            view_free(&tv);
            view_free(&sv);
            break;
        }
        for (uint64_t k = 0; k < n; k++) {
            memset(&r[k], 0, sizeof r[k]);
            r[k].id = ids[k];
        }
        brs__sweep_job j = *job;
        j.bars = &tv;
        j.keep_dir = NULL;
        rc = brs__sweep_exec(&j, r, n, err);
        if (rc) {
            view_free(&tv);
            view_free(&sv);
            goto out;
        }
        brs__sweep_sort(r, n, m);
        char best[2048] = "", test_dir[4300];
        brs__sweep_result oos = {0};
        for (int k = 0; k < BRS__SWEEP_N_METRICS; k++)
            oos.metric[k] = NAN;
        if (r[0].state == BRS__SWEEP_OK) {
            brs__sweep_name(job->g, r[0].id, best, sizeof best);
            char sub[64];
            snprintf(sub, sizeof sub, "%s/walk_forward/%d", dir, w + 1);
            j.bars = &sv;
            j.keep_dir = sub;
            char d[4200];
            snprintf(d, sizeof d, "%s", sub);
            if ((rc = brs__mkdirs(d, err)) == BRS_OK)
                brs__sweep_run_one(&j, r[0].id, &oos);
            snprintf(test_dir, sizeof test_dir, "%s/%s", sub, best);
            if (oos.state == BRS__SWEEP_OK) {
                if (isnan(level))
                    level = oos.metric[brs__sweep_metric_index("end_equity")] /
                            (1 + oos.metric[brs__sweep_metric_index("total_return")]);
                if ((rc = stitch(eq.fp, test_dir, w + 1, &level, err))) {
                    view_free(&tv);
                    view_free(&sv);
                    goto out;
                }
            }
        }
        char a[32], bq[32], c[32], d2[32];
        iso(start, a, sizeof a);
        iso(tr_end, bq, sizeof bq);
        iso(tr_end, c, sizeof c);
        iso(te_end, d2, sizeof d2);
        fprintf(csv.fp, "%d,%s,%s,%s,%s,%llu,%llu,", w + 1, a, bq, c, d2, (unsigned long long)tv.total,
                (unsigned long long)sv.total);
        brs__sweep_csv_field(csv.fp, best);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "window", w + 1);
        cJSON_AddStringToObject(o, "train_start", a);
        cJSON_AddStringToObject(o, "train_end", bq);
        cJSON_AddStringToObject(o, "test_start", c);
        cJSON_AddStringToObject(o, "test_end", d2);
        cJSON_AddNumberToObject(o, "train_bars", (double)tv.total);
        cJSON_AddNumberToObject(o, "test_bars", (double)sv.total);
        cJSON_AddStringToObject(o, "best", best);
        cJSON *is = cJSON_AddObjectToObject(o, "in_sample"), *os = cJSON_AddObjectToObject(o, "out_of_sample");
        for (int k = 0; brs__sweep_metrics[k]; k++) {
            double v = r[0].state == BRS__SWEEP_OK ? r[0].metric[k] : NAN;
            put_num(csv.fp, v);
            if (isnan(v))
                cJSON_AddNullToObject(is, brs__sweep_metrics[k]);
            else
                cJSON_AddNumberToObject(is, brs__sweep_metrics[k], v);
        }
        for (int k = 0; brs__sweep_metrics[k]; k++) {
            double v = oos.state == BRS__SWEEP_OK ? oos.metric[k] : NAN;
            put_num(csv.fp, v);
            if (isnan(v))
                cJSON_AddNullToObject(os, brs__sweep_metrics[k]);
            else
                cJSON_AddNumberToObject(os, brs__sweep_metrics[k], v);
        }
        if (oos.state == BRS__SWEEP_FAILED)
            cJSON_AddStringToObject(o, "error", oos.error);
        fputc('\n', csv.fp);
        cJSON_AddItemToArray(arr, o);
        view_free(&tv);
        view_free(&sv);
        if (brs__sweep_interrupted) {
            rc = BRS__SWEEP_E_INTR;
            goto out;
        }
    }
    if (w == 0) {
        rc = brs__err(err, BRS_E_INVAL, "the data is shorter than one training window plus a test window");
        goto out;
    }
    rc = brs__atomic_commit(&csv, err);
    csv_open = 0;
    if (!rc)
        rc = brs__atomic_commit(&eq, err);
    eq_open = 0;
    if (!rc) {
        char *js = cJSON_Print(arr);
        snprintf(path, sizeof path, "%s/walk_forward.json", dir);
        rc = js ? brs__atomic_write(path, js, strlen(js), err) : brs__err(err, BRS_E_NOMEM, "out of memory");
        free(js);
    }
out:
    if (csv_open)
        brs__atomic_abort(&csv);
    if (eq_open)
        brs__atomic_abort(&eq);
    cJSON_Delete(arr);
    free(r);
    return rc;
}
