/* sweep_report.c: results.html beside a sweep's results.csv: a sortable table of
 * every run, a heatmap over any two parameters with the metric chosen in the
 * page, and links to each run's report. Built from results.csv alone, so
 * `bourse report --sweep DIR` can rebuild it; self-contained like report.html. */
#include "an_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

typedef struct sweep_csv {
    FILE *fp;       /* the JSON rows go here */
    size_t nf;
    int dir_last; /* the header ends with run_dir */
    int c_run;    /* the run's directory column (run_dir or run), -1: none */
    const char *base; /* results.csv's folder, where the run directories are */
    int counting;     /* first pass: only count the runs whose report exists */
    long n_reports;
    int unknown;      /* none exists (yet: the page was written before them): "?" */
    long rows;
    char **subdirs;   /* base's subfolders, sorted: only these can hold a report */
    size_t n_subdirs;
    int scanned;      /* 0: base could not be listed, so ask for every row */
} sweep_csv;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List base's subfolders once, so a table of thousands of runs of which a few
 * kept their directory costs a search per row, not a file-system lookup. */
static void scan_subdirs(sweep_csv *c)
{
    DIR *d = opendir(c->base);
    if (!d)
        return;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN &&
                                    e->d_type != DT_LNK))
            continue;
        if (c->n_subdirs == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **v = realloc(c->subdirs, nc * sizeof *v);
            if (!v)
                goto fail;
            c->subdirs = v;
            cap = nc;
        }
        if (!(c->subdirs[c->n_subdirs] = strdup(e->d_name)))
            goto fail;
        c->n_subdirs++;
    }
    closedir(d);
    if (c->n_subdirs) /* qsort and bsearch take no NULL array, even empty */
        qsort(c->subdirs, c->n_subdirs, sizeof *c->subdirs, cmp_str);
    c->scanned = 1;
    return;
fail:
    closedir(d); /* not scanned: every row is looked up */
}

static void free_subdirs(sweep_csv *c)
{
    for (size_t i = 0; i < c->n_subdirs; i++)
        free(c->subdirs[i]);
    free(c->subdirs);
    c->subdirs = NULL;
    c->n_subdirs = 0;
}

/* Whether this record's run kept its directory: DIR/<run's name>/report.html. */
static int has_report(const sweep_csv *c, brs_an_table *t)
{
    if (c->c_run < 0 || (size_t)c->c_run >= t->nf)
        return 0;
    char joined[2048];
    const char *run = brs__an_table_field(t, (size_t)c->c_run);
    if (t->nf > c->nf && c->dir_last) { /* the unquoted run_dir, put back together */
        joined[0] = '\0';
        for (size_t j = (size_t)c->c_run; j < t->nf; j++) {
            size_t l = strlen(joined);
            snprintf(joined + l, sizeof joined - l, "%s%s", j > (size_t)c->c_run ? "," : "",
                     brs__an_table_field(t, j));
        }
        run = joined;
    }
    const char *name = strrchr(run, '/');
    name = name ? name + 1 : run;
    if (c->scanned && (!c->n_subdirs ||
                       !bsearch(&name, c->subdirs, c->n_subdirs, sizeof *c->subdirs, cmp_str)))
        return 0;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s/report.html", c->base, name);
    return *name && access(p, F_OK) == 0;
}

/* Each record as a JSON array of strings; the page turns numbers into numbers. */
static int sweep_row(brs_an_table *t)
{
    sweep_csv *c = t->user;
    if (c->counting && t->line == 1) {
        c->nf = t->nf;
        c->dir_last = t->nf > 0 && strcmp(brs__an_table_field(t, t->nf - 1), "run_dir") == 0;
        c->c_run = brs__an_table_column(t, "run_dir");
        if (c->c_run < 0)
            c->c_run = brs__an_table_column(t, "run");
        return BRS_OK;
    }
    if (c->counting) {
        c->n_reports += has_report(c, t);
        return BRS_OK;
    }
    if (t->line == 1) {
        c->nf = t->nf;
        c->dir_last = t->nf > 0 && strcmp(brs__an_table_field(t, t->nf - 1), "run_dir") == 0;
        c->c_run = brs__an_table_column(t, "run_dir");
        if (c->c_run < 0)
            c->c_run = brs__an_table_column(t, "run");
    } else if (t->nf < c->nf || (t->nf > c->nf && !c->dir_last)) {
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, c->nf);
    }
    fputs(t->line == 1 ? "[" : ",[", c->fp);
    size_t shown = t->line == 1 ? t->nf : c->nf;
    for (size_t i = 0; i < shown; i++) {
        if (i)
            fputc(',', c->fp);
        if (i + 1 == shown && t->nf > shown) {
            /* a run directory named after its grid ("fast=5,slow=40") written
             * unquoted: the trailing fields are the one run_dir */
            size_t len = 0;
            for (size_t j = i; j < t->nf; j++)
                len += strlen(brs__an_table_field(t, j)) + 1;
            char *d = malloc(len);
            if (!d)
                return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            d[0] = 0;
            for (size_t j = i; j < t->nf; j++) {
                if (j > i)
                    strcat(d, ",");
                strcat(d, brs__an_table_field(t, j));
            }
            brs__an_json_string(c->fp, d);
            free(d);
            break;
        }
        brs__an_json_string(c->fp, brs__an_table_field(t, i));
    }
    /* a last column the page adds: "1" when the run's report.html exists (a sweep
     * keeps run directories for its best runs only, --keep-runs) */
    if (t->line == 1) {
        fputs(",\"report\"", c->fp);
    } else {
        int has = has_report(c, t);
        fputs(has ? ",\"1\"" : c->unknown ? ",\"?\"" : ",\"\"", c->fp);
    }
    fputc(']', c->fp);
    c->rows++;
    return BRS_OK;
}

int brs__sweep_report_write(const char *results_csv, const char *out_html, brs_error *err)
{
    char *data = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&data, &len);
    if (!mem)
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", out_html);
    char base[4096];
    snprintf(base, sizeof base, "%s", results_csv);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(base, sizeof base, ".");
    /* first pass: do any run directories exist yet? */
    sweep_csv c = {.fp = mem, .base = base, .counting = 1};
    scan_subdirs(&c);
    brs_an_table t0 = {.path = results_csv, .on_row = sweep_row, .user = &c, .err = err};
    int rc = brs__an_table_read(&t0);
    c.counting = 0;
    c.unknown = c.n_reports == 0;
    c.rows = 0;
    fputc('[', mem);
    brs_an_table t = {.path = results_csv, .on_row = sweep_row, .user = &c, .err = err};
    if (!rc)
        rc = brs__an_table_read(&t);
    fputc(']', mem);
    fclose(mem);
    free_subdirs(&c);
    if (rc) {
        free(data);
        return rc;
    }
    brs_atomic_file af;
    if ((rc = brs__atomic_open(&af, out_html, err))) {
        free(data);
        return rc;
    }
    FILE *fp = af.fp;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>Sweep results &#8212; Bourse</title>\n<style>",
          fp);
    fputs("body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
          "margin:24px auto;max-width:1180px;color:#1d2330}h1{font-size:22px}h2{font-size:17px;margin:24px 0 8px}"
          "table{border-collapse:collapse}th,td{border-bottom:1px solid #e3e7ef;padding:3px 8px;text-align:right;"
          "font-variant-numeric:tabular-nums;white-space:nowrap}th{cursor:pointer;user-select:none;color:#3b4354}"
          "th[data-sort=asc]:after{content:' \\25b2'}th[data-sort=desc]:after{content:' \\25bc'}"
          ".heat td{min-width:54px;font-size:12px;border:1px solid #fff}.heat td.cell{cursor:pointer}"
          ".heat th{cursor:default}.controls label{margin-right:16px}.note{color:#5a6375}"
          ".failed{color:#c0392b}#tablebox{overflow:auto;max-height:640px}",
          fp);
    fputs("</style></head>\n<body>\n<h1>Sweep results</h1>\n<p class=\"note\">", fp);
    fprintf(fp, "%ld runs from ", c.rows > 0 ? c.rows - 1 : 0);
    for (const char *p = results_csv; *p; p++) {
        if (*p == '<')
            fputs("&lt;", fp);
        else if (*p == '&')
            fputs("&amp;", fp);
        else
            fputc(*p, fp);
    }
    fputs(". Pick two parameters and a metric for the heatmap; a cell or a row whose run kept its "
          "directory (bourse sweep --keep-runs) opens that run's report.</p>\n<noscript>The table and heatmap are drawn by the JavaScript "
          "inlined in this page.</noscript>\n<main id=\"sweep\"></main>\n"
          "<script type=\"application/json\" id=\"brs-sweep\">",
          fp);
    brs__an_put_script(fp, data);
    free(data);
    fputs("</script>\n<script>", fp);
    brs__an_put_script(fp, brs__an_sweep_js);
    fputs("</script>\n</body></html>\n", fp);
    return brs__atomic_commit(&af, err);
}
