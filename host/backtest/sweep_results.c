/* sweep_results.c: a sweep's results table (results.csv, results.json), its
 * manifest (sweep.json: how it was asked for, whether it is complete) and
 * `bourse sweep merge`. The table holds nothing that depends on where or how
 * the sweep ran (no paths, no timings, no worker counts), and every number is
 * written with 17 significant digits, so reading it back and writing it again
 * gives the same bytes: shards merged equal one run, and a resumed sweep equals
 * an uninterrupted one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "analytics/analytics.h"
#include "core/core.h"
#include "sweep.h"

const char *const brs__sweep_metrics[] = {"total_return", "cagr", "ann_volatility", "sharpe",
                                          "sortino", "max_drawdown", "calmar", "win_rate",
                                          "profit_factor", "expectancy", "n_trades", "turnover",
                                          "exposure", "fees_paid", "end_equity", NULL};

int brs__sweep_metric_index(const char *name)
{
    for (int i = 0; brs__sweep_metrics[i]; i++)
        if (!strcmp(brs__sweep_metrics[i], name))
            return i;
    return -1;
}

int brs__sweep_metric_ascending(int m)
{
    return !strcmp(brs__sweep_metrics[m], "max_drawdown") ||
           !strcmp(brs__sweep_metrics[m], "ann_volatility");
}

static int g_sort_m, g_sort_asc;

static int cmp_res(const void *a, const void *b)
{
    const brs__sweep_result *x = a, *y = b;
    double u = x->state == BRS__SWEEP_OK ? x->metric[g_sort_m] : NAN;
    double v = y->state == BRS__SWEEP_OK ? y->metric[g_sort_m] : NAN;
    if (isnan(u) != isnan(v))
        return isnan(u) ? 1 : -1; /* no value sorts last */
    if (!isnan(u) && u != v)
        return (g_sort_asc ? u < v : u > v) ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void brs__sweep_sort(brs__sweep_result *r, uint64_t n, int m)
{
    g_sort_m = m;
    g_sort_asc = brs__sweep_metric_ascending(m);
    qsort(r, n, sizeof *r, cmp_res);
}

/* A CSV field, quoted when it holds a comma, a quote or a line break. */
void brs__sweep_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s == '\r' || *s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

int brs__sweep_write_results(const char *dir, const brs__sweep_grid *g, const brs__sweep_result *r,
                             uint64_t n, brs_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    brs_atomic_file af;
    int rc = brs__atomic_open(&af, path, err);
    if (rc)
        return rc;
    FILE *f = af.fp;
    fputs("rank", f);
    for (int i = 0; i < g->n_ax; i++) {
        fputc(',', f);
        brs__sweep_csv_field(f, g->ax[i].name);
    }
    fputs(",status", f);
    for (int m = 0; brs__sweep_metrics[m]; m++)
        fprintf(f, ",%s", brs__sweep_metrics[m]);
    fputs(",run,id,error\n", f);
    cJSON *arr = cJSON_CreateArray();
    int oom = !arr;
    /* each grid value parsed once (a number or JSON as --set reads it, else a
     * string), copied into the rows */
    cJSON **parsed[BRS__SWEEP_MAX_AXES] = {0};
    for (int i = 0; i < g->n_ax && !oom; i++) {
        parsed[i] = calloc((size_t)g->ax[i].n ? (size_t)g->ax[i].n : 1, sizeof *parsed[i]);
        oom = !parsed[i];
        for (int j = 0; j < g->ax[i].n && !oom; j++) {
            cJSON *jv = cJSON_Parse(g->ax[i].values[j]);
            parsed[i][j] = jv ? jv : cJSON_CreateString(g->ax[i].values[j]);
            oom = !parsed[i][j];
        }
    }
    int idx[BRS__SWEEP_MAX_AXES];
    char name[2048];
    for (uint64_t k = 0; k < n; k++) {
        const brs__sweep_result *x = &r[k];
        brs__sweep_decode(g, x->id, idx);
        brs__sweep_name(g, x->id, name, sizeof name);
        cJSON *o = oom ? NULL : cJSON_CreateObject();
        cJSON *grid = o ? cJSON_AddObjectToObject(o, "grid") : NULL;
        fprintf(f, "%llu", (unsigned long long)(k + 1));
        for (int i = 0; i < g->n_ax; i++) {
            const char *v = g->ax[i].values[idx[i]];
            fputc(',', f);
            brs__sweep_csv_field(f, v);
            if (grid)
                cJSON_AddItemToObject(grid, g->ax[i].name, cJSON_Duplicate(parsed[i][idx[i]], 1));
        }
        const char *st = x->state == BRS__SWEEP_OK ? "ok" : "failed";
        fprintf(f, ",%s", st);
        if (o) {
            cJSON *first = cJSON_CreateNumber((double)(k + 1));
            cJSON_AddItemToObject(o, "rank", first);
            cJSON_AddStringToObject(o, "status", st);
        }
        for (int m = 0; brs__sweep_metrics[m]; m++) {
            double v = x->state == BRS__SWEEP_OK ? x->metric[m] : NAN;
            if (isnan(v)) {
                fputc(',', f);
                if (o)
                    cJSON_AddNullToObject(o, brs__sweep_metrics[m]);
            } else {
                fprintf(f, ",%.17g", v);
                if (o)
                    cJSON_AddNumberToObject(o, brs__sweep_metrics[m], v);
            }
        }
        fputc(',', f);
        brs__sweep_csv_field(f, name);
        fprintf(f, ",%llu,", (unsigned long long)x->id);
        brs__sweep_csv_field(f, x->state == BRS__SWEEP_OK ? "" : x->error);
        fputc('\n', f);
        if (o) {
            cJSON_AddStringToObject(o, "run", name);
            cJSON_AddNumberToObject(o, "id", (double)x->id);
            if (x->state != BRS__SWEEP_OK)
                cJSON_AddStringToObject(o, "error", x->error);
            cJSON_AddItemToArray(arr, o);
        }
    }
    for (int i = 0; i < g->n_ax; i++) {
        for (int j = 0; parsed[i] && j < g->ax[i].n; j++)
            cJSON_Delete(parsed[i][j]);
        free(parsed[i]);
    }
    if (oom) {
        cJSON_Delete(arr);
        brs__atomic_abort(&af);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    if ((rc = brs__atomic_commit(&af, err))) {
        cJSON_Delete(arr);
        return rc;
    }
    char *js = cJSON_Print(arr);
    cJSON_Delete(arr);
    if (!js)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/results.json", dir);
    size_t l = strlen(js);
    char *buf = realloc(js, l + 2);
    if (!buf) {
        free(js);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    buf[l] = '\n';
    rc = brs__atomic_write(path, buf, l + 1, err);
    free(buf);
    if (rc)
        return rc;
    return brs__sweep_write_page(dir, err);
}

int brs__sweep_write_page(const char *dir, brs_error *err)
{
    /* results.html beside the table: sortable, heatmap, links to the runs whose
     * directories exist now (analytics/sweep_report.c) */
    char csv[4200], html[4200];
    snprintf(csv, sizeof csv, "%s/results.csv", dir);
    snprintf(html, sizeof html, "%s/results.html", dir);
    return brs__sweep_report_write(csv, html, err);
}

/* ---- reading the table back -------------------------------------------------- */

/* Split one CSV record at *p into fields (quotes undone in place); advances *p. */
static int csv_record(char **p, char **fields, int max)
{
    int n = 0;
    char *s = *p;
    if (!*s)
        return -1;
    for (;;) {
        char *w = s, *start = s;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s)
                    break;
                if (*s == '"' && s[1] == '"') {
                    *w++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *w++ = *s++;
                }
            }
        } else {
            while (*s && *s != ',' && *s != '\n' && *s != '\r')
                *w++ = *s++;
        }
        char end = *s;
        *w = 0;
        if (n < max)
            fields[n] = start;
        n++;
        if (end == ',') {
            s++;
            continue;
        }
        if (end == '\r')
            s++;
        if (end == '\n' || (end == '\r' && *s == '\n'))
            s++;
        break;
    }
    *p = s;
    return n;
}

int brs__sweep_read_results(const char *dir, const brs__sweep_grid *g, brs__sweep_result **out,
                            uint64_t *n, brs_error *err)
{
    *out = NULL;
    *n = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    char *text;
    int rc = brs__read_file(path, &text, NULL, err);
    if (rc)
        return rc;
    enum { MAXF = BRS__SWEEP_MAX_AXES + BRS__SWEEP_N_METRICS + 8 };
    const int want = 1 + g->n_ax + 1 + BRS__SWEEP_N_METRICS + 3;
    char *fields[MAXF];
    char *p = text;
    int nf = csv_record(&p, fields, MAXF);
    if (nf != want || strcmp(fields[0], "rank") || strcmp(fields[want - 1], "error")) {
        free(text);
        return brs__err(err, BRS_E_INVAL, "%s: line 1: not a results table of this grid (%d columns, expected %d)",
                        path, nf, want);
    }
    for (int i = 0; i < g->n_ax; i++)
        if (strcmp(fields[1 + i], g->ax[i].name)) {
            free(text);
            return brs__err(err, BRS_E_INVAL, "%s: line 1: column %d is '%s', this grid has '%s'",
                            path, 2 + i, fields[1 + i], g->ax[i].name);
        }
    uint64_t cap = 256, cnt = 0;
    brs__sweep_result *r = malloc(cap * sizeof *r);
    if (!r) {
        free(text);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    for (int line = 2; *p; line++) {
        nf = csv_record(&p, fields, MAXF);
        if (nf == 1 && !fields[0][0])
            continue;
        if (nf != want) {
            rc = brs__err(err, BRS_E_INVAL, "%s: line %d: %d fields, expected %d", path, line, nf, want);
            break;
        }
        if (cnt == cap) {
            brs__sweep_result *nr = realloc(r, 2 * cap * sizeof *nr);
            if (!nr) {
                rc = brs__err(err, BRS_E_NOMEM, "out of memory");
                break;
            }
            r = nr;
            cap *= 2;
        }
        brs__sweep_result *x = &r[cnt];
        memset(x, 0, sizeof *x);
        char *end;
        x->id = strtoull(fields[want - 2], &end, 10);
        if (*end || !fields[want - 2][0] || x->id >= g->total) {
            rc = brs__err(err, BRS_E_INVAL, "%s: line %d: id '%s' is not a combination of this grid",
                          path, line, fields[want - 2]);
            break;
        }
        char name[2048];
        brs__sweep_name(g, x->id, name, sizeof name);
        if (strcmp(name, fields[want - 3])) {
            rc = brs__err(err, BRS_E_INVAL, "%s: line %d: id %llu is %s in this grid, the file says %s",
                          path, line, (unsigned long long)x->id, name, fields[want - 3]);
            break;
        }
        const char *st = fields[1 + g->n_ax];
        x->state = !strcmp(st, "ok") ? BRS__SWEEP_OK : BRS__SWEEP_FAILED;
        for (int m = 0; m < BRS__SWEEP_N_METRICS; m++) {
            const char *v = fields[2 + g->n_ax + m];
            x->metric[m] = *v ? strtod(v, &end) : NAN;
            if (*v && *end) {
                rc = brs__err(err, BRS_E_INVAL, "%s: line %d: %s '%s' is not a number", path, line,
                              brs__sweep_metrics[m], v);
                break;
            }
        }
        if (rc)
            break;
        snprintf(x->error, sizeof x->error, "%s", fields[want - 1]);
        cnt++;
    }
    free(text);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    *n = cnt;
    return BRS_OK;
}

/* ---- the manifest ------------------------------------------------------------ */

int brs__sweep_manifest_write(const char *dir, const brs__sweep_manifest *m, brs_error *err)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    cJSON_AddStringToObject(o, "status", m->complete ? "complete" : "incomplete");
    cJSON_AddNumberToObject(o, "combinations", (double)m->combinations);
    cJSON_AddNumberToObject(o, "done", (double)m->done);
    cJSON_AddNumberToObject(o, "failed", (double)m->failed);
    if (m->shard_n) {
        char s[64];
        snprintf(s, sizeof s, "%d/%d", m->shard_i, m->shard_n);
        cJSON_AddStringToObject(o, "shard", s);
    } else {
        cJSON_AddNullToObject(o, "shard");
    }
    cJSON_AddStringToObject(o, "grid_hash", m->grid_hash);
    cJSON_AddStringToObject(o, "sort", m->sort);
    cJSON_AddStringToObject(o, "cwd", m->cwd);
    cJSON *a = cJSON_AddArrayToObject(o, "argv");
    for (int i = 0; i < m->argc; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(m->argv[i]));
    char *js = cJSON_Print(o);
    cJSON_Delete(o);
    if (!js)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    int rc = brs__atomic_write(path, js, strlen(js), err);
    free(js);
    return rc;
}

void brs__sweep_manifest_free(brs__sweep_manifest *m)
{
    for (int i = 0; i < m->argc; i++)
        free(m->argv[i]);
    free(m->argv);
    m->argv = NULL;
    m->argc = 0;
}

int brs__sweep_manifest_read(const char *dir, brs__sweep_manifest *m, brs_error *err)
{
    memset(m, 0, sizeof *m);
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    char *text;
    int rc = brs__read_file(path, &text, NULL, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_Parse(text);
    free(text);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status"),
                *h = cJSON_GetObjectItemCaseSensitive(o, "grid_hash"),
                *so = cJSON_GetObjectItemCaseSensitive(o, "sort"),
                *cwd = cJSON_GetObjectItemCaseSensitive(o, "cwd"),
                *av = cJSON_GetObjectItemCaseSensitive(o, "argv"),
                *sh = cJSON_GetObjectItemCaseSensitive(o, "shard");
    if (!cJSON_IsString(st) || !cJSON_IsString(h) || !cJSON_IsString(so) || !cJSON_IsString(cwd) ||
        !cJSON_IsArray(av)) {
        cJSON_Delete(o);
        return brs__err(err, BRS_E_INVAL, "%s: not a sweep manifest (status, grid_hash, sort, cwd, argv)",
                        path);
    }
    m->complete = !strcmp(st->valuestring, "complete");
    m->combinations = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "combinations"));
    m->done = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "done"));
    m->failed = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "failed"));
    if (cJSON_IsString(sh) && sscanf(sh->valuestring, "%d/%d", &m->shard_i, &m->shard_n) != 2)
        m->shard_i = m->shard_n = 0;
    snprintf(m->grid_hash, sizeof m->grid_hash, "%s", h->valuestring);
    snprintf(m->sort, sizeof m->sort, "%s", so->valuestring);
    snprintf(m->cwd, sizeof m->cwd, "%s", cwd->valuestring);
    int n = cJSON_GetArraySize(av);
    m->argv = calloc((size_t)n + 1, sizeof *m->argv);
    for (int i = 0; m->argv && i < n; i++) {
        const cJSON *s = cJSON_GetArrayItem(av, i);
        m->argv[i] = strdup(cJSON_IsString(s) ? s->valuestring : "");
        m->argc++;
    }
    cJSON_Delete(o);
    if (!m->argv)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    return BRS_OK;
}
