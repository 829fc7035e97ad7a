/* sweep.c: `bourse sweep CONFIG.json --grid fast=5,10,20 --grid slow=50,100
 * [--jobs N] [--sort METRIC] [--out DIR] [--set KEY=VALUE ...]`: every
 * combination of the grid as its own `bourse backtest` worker process (fork +
 * exec, --set per value, one run directory each), then a results table sorted
 * by the chosen metric, written as results.csv and results.json. Separate
 * processes keep runs isolated (a crashing strategy takes down one run) and
 * use every core without threads in the engine. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backtest.h"
#include "cli/cli.h"

#define MAX_GRID 16
#define MAX_VALUES 256
#define MAX_RUNS 100000

typedef struct grid_axis {
    char key[256];     /* full config key */
    char name[128];    /* as given, for names and columns */
    char *values[MAX_VALUES];
    int n;
} grid_axis;

typedef struct sweep_run {
    int idx[MAX_GRID];
    char dir[1024];
    char log[1100];
    pid_t pid;
    int status;        /* exit code, -1 not run yet */
    double metric[16];
} sweep_run;

static const char *const metrics[] = {"total_return", "cagr", "ann_volatility", "sharpe", "sortino",
                                      "max_drawdown", "calmar", "win_rate", "profit_factor",
                                      "expectancy", "n_trades", "turnover", "exposure",
                                      "fees_paid", "end_equity", NULL};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse sweep CONFIG.json --grid NAME=V1,V2,... [--grid ...] [--jobs N]\n"
            "                    [--sort METRIC] [--out DIR] [--set KEY=VALUE ...]\n\n"
            "Run `bourse backtest CONFIG.json` once per combination of the grid values,\n"
            "N worker processes at a time, each into DIR/<name=value,...>/, then write\n"
            "DIR/results.csv and DIR/results.json sorted by METRIC (best first).\n\n"
            "  --grid NAME=VALUES  a strategy parameter (strategy.params.NAME), or any\n"
            "                      config key when NAME contains a dot\n"
            "  --jobs N            parallel workers (default: the number of CPUs)\n"
            "  --sort METRIC       default sharpe; max_drawdown and ann_volatility sort\n"
            "                      ascending, the rest descending\n"
            "  --out DIR           default runs/sweep-<config name>\n"
            "  --set KEY=VALUE     passed to every run\n\n"
            "Exit status: 0 when every run succeeded, 1 when any failed, 2 usage.\n");
}

static int metric_index(const char *name)
{
    for (int i = 0; metrics[i]; i++)
        if (!strcmp(metrics[i], name))
            return i;
    return -1;
}

static const char *self_exe(void)
{
    static char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return "bourse";
    buf[n] = 0;
    return buf;
}

static pid_t spawn(const char *cfg, const grid_axis *g, int ng, const sweep_run *r,
                   char **sets, int nsets)
{
    char **argv = calloc((size_t)(8 + 2 * ng + 2 * nsets), sizeof *argv);
    char (*kv)[1024] = calloc((size_t)ng + 1, sizeof *kv);
    if (!argv || !kv) {
        free(argv);
        free(kv);
        return -1;
    }
    int a = 0;
    argv[a++] = (char *)"bourse";
    argv[a++] = (char *)"backtest";
    argv[a++] = (char *)cfg;
    for (int s = 0; s < nsets; s++) {
        argv[a++] = (char *)"--set";
        argv[a++] = sets[s];
    }
    for (int i = 0; i < ng; i++) {
        snprintf(kv[i], sizeof kv[i], "%s=%s", g[i].key, g[i].values[r->idx[i]]);
        argv[a++] = (char *)"--set";
        argv[a++] = kv[i];
    }
    argv[a++] = (char *)"--out";
    argv[a++] = (char *)r->dir;
    argv[a++] = (char *)"--quiet";
    argv[a] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("BOURSE_PROGRESS", "0", 1);
        execv(self_exe(), argv);
        _exit(127);
    }
    free(argv);
    free(kv);
    return pid;
}

static void read_summary(sweep_run *r)
{
    for (int m = 0; metrics[m]; m++)
        r->metric[m] = NAN;
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.json", r->dir);
    char *text;
    size_t len;
    brs_error err = {0};
    if (brs__read_file(path, &text, &len, &err))
        return;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j)
        return;
    for (int m = 0; metrics[m]; m++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, metrics[m]);
        if (cJSON_IsNumber(v))
            r->metric[m] = v->valuedouble;
    }
    cJSON_Delete(j);
}

static int g_sort, g_asc;

static int cmp_runs(const void *a, const void *b)
{
    const sweep_run *x = a, *y = b;
    double u = x->status == 0 ? x->metric[g_sort] : NAN, v = y->status == 0 ? y->metric[g_sort] : NAN;
    if (isnan(u) || isnan(v)) {
        if (isnan(u) != isnan(v))
            return isnan(u) ? 1 : -1; /* no value sorts last */
    } else if (u != v) {
        return (g_asc ? u < v : u > v) ? -1 : 1;
    }
    return strcmp(x->dir, y->dir); /* stable, deterministic */
}

static void name_of(const grid_axis *g, int ng, const sweep_run *r, char *out, size_t cap)
{
    out[0] = 0;
    for (int i = 0; i < ng; i++) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s=%s", i ? "," : "", g[i].name, g[i].values[r->idx[i]]);
    }
    for (char *p = out; *p; p++)
        if (*p == '/' || *p == ' ' || *p == '"')
            *p = '_';
}

static int write_results(const char *dir, const grid_axis *g, int ng, const sweep_run *runs,
                         int n, brs_error *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    brs_atomic_file af;
    int rc = brs__atomic_open(&af, path, err);
    if (rc)
        return rc;
    fprintf(af.fp, "rank");
    for (int i = 0; i < ng; i++)
        fprintf(af.fp, ",%s", g[i].name);
    fprintf(af.fp, ",status");
    for (int m = 0; metrics[m]; m++)
        fprintf(af.fp, ",%s", metrics[m]);
    fprintf(af.fp, ",run_dir\n");
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < n; k++) {
        const sweep_run *r = &runs[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rank", k + 1);
        cJSON *params = cJSON_AddObjectToObject(o, "grid");
        fprintf(af.fp, "%d", k + 1);
        for (int i = 0; i < ng; i++) {
            const char *v = g[i].values[r->idx[i]];
            fprintf(af.fp, ",%s", v);
            cJSON *jv = cJSON_Parse(v);
            cJSON_AddItemToObject(params, g[i].name, jv ? jv : cJSON_CreateString(v));
        }
        const char *st = r->status == 0 ? "ok" : "failed";
        fprintf(af.fp, ",%s", st);
        cJSON_AddStringToObject(o, "status", st);
        for (int m = 0; metrics[m]; m++) {
            double v = r->status == 0 ? r->metric[m] : NAN;
            if (isnan(v)) {
                fprintf(af.fp, ",");
                cJSON_AddNullToObject(o, metrics[m]);
            } else {
                fprintf(af.fp, ",%.17g", v);
                cJSON_AddNumberToObject(o, metrics[m], v);
            }
        }
        fprintf(af.fp, ",%s\n", r->dir);
        cJSON_AddStringToObject(o, "run_dir", r->dir);
        cJSON_AddItemToArray(arr, o);
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
    js[l] = '\n';
    rc = brs__atomic_write(path, js, l + 1, err);
    free(js);
    char csv[1200];
    snprintf(csv, sizeof csv, "%s/results.csv", dir);
    snprintf(path, sizeof path, "%s/results.html", dir);
    return rc ? rc : brs__sweep_report_write(csv, path, err); /* analytics/sweep_report.c */
}

static int split_values(grid_axis *a, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= sizeof a->name)
        return -1;
    memcpy(a->name, spec, (size_t)(eq - spec));
    a->name[eq - spec] = 0;
    if (strchr(a->name, '.'))
        snprintf(a->key, sizeof a->key, "%s", a->name);
    else
        snprintf(a->key, sizeof a->key, "strategy.params.%s", a->name);
    const char *p = eq + 1;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0 || a->n == MAX_VALUES)
            return -1;
        a->values[a->n] = strndup(p, n);
        if (!a->values[a->n])
            return -1;
        a->n++;
        p += n + (c ? 1 : 0);
        if (c && !*p)
            return -1;
    }
    return a->n ? 0 : -1;
}

int brs__cmd_sweep(int argc, char **argv)
{
    const char *cfg = NULL, *out = NULL, *sort = "sharpe";
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    grid_axis *g = calloc(MAX_GRID, sizeof *g);
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    sweep_run *runs = NULL;
    int ng = 0, nsets = 0, rc = BRS_EXIT_OK;
    if (!g || !sets) {
        rc = brs__fail("sweep", "out of memory");
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (brs__is_help(a)) {
            usage(stdout);
            goto done;
        } else if (!strcmp(a, "--grid") && i + 1 < argc) {
            if (ng == MAX_GRID) {
                rc = brs__usage_error("sweep", "at most %d --grid axes", MAX_GRID);
                goto done;
            }
            if (split_values(&g[ng], argv[++i])) {
                rc = brs__usage_error("sweep", "--grid '%s': expected NAME=V1,V2,...", argv[i]);
                goto done;
            }
            ng++;
        } else if (!strcmp(a, "--jobs") && i + 1 < argc) {
            char *end;
            jobs = strtol(argv[++i], &end, 10);
            if (*end || jobs < 1 || jobs > 256) {
                rc = brs__usage_error("sweep", "--jobs '%s': expected 1..256", argv[i]);
                goto done;
            }
        } else if (!strcmp(a, "--sort") && i + 1 < argc) {
            sort = argv[++i];
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--set") && i + 1 < argc) {
            sets[nsets++] = argv[++i];
        } else if (a[0] == '-') {
            rc = brs__usage_error("sweep", "unknown option or missing value '%s'", a);
            goto done;
        } else if (!cfg) {
            cfg = a;
        } else {
            rc = brs__usage_error("sweep", "one CONFIG.json only ('%s')", a);
            goto done;
        }
    }
    if (!cfg) {
        rc = brs__usage_error("sweep", "missing CONFIG.json");
        goto done;
    }
    if (!ng) {
        rc = brs__usage_error("sweep", "give at least one --grid NAME=V1,V2,...");
        goto done;
    }
    if ((g_sort = metric_index(sort)) < 0) {
        rc = brs__usage_error("sweep", "--sort '%s': not a metric (e.g. sharpe, total_return, max_drawdown)", sort);
        goto done;
    }
    g_asc = !strcmp(sort, "max_drawdown") || !strcmp(sort, "ann_volatility");
    if (access(cfg, R_OK) != 0) {
        rc = brs__fail("sweep", "%s: %s", cfg, strerror(errno));
        goto done;
    }
    long total = 1;
    for (int i = 0; i < ng; i++)
        if ((total *= g[i].n) > MAX_RUNS) {
            rc = brs__usage_error("sweep", "more than %d combinations", MAX_RUNS);
            goto done;
        }
    char dflt[1024];
    if (!out) {
        const char *base = strrchr(cfg, '/');
        base = base ? base + 1 : cfg;
        snprintf(dflt, sizeof dflt, "runs/sweep-%.*s", (int)strcspn(base, "."), base);
        out = dflt;
    }
    brs_error err = {0};
    if (brs__mkdirs(out, &err)) {
        rc = brs__fail("sweep", "%s", err.msg);
        goto done;
    }
    runs = calloc((size_t)total, sizeof *runs);
    if (!runs) {
        rc = brs__fail("sweep", "out of memory");
        goto done;
    }
    for (long k = 0; k < total; k++) { /* the last axis varies fastest */
        long rem = k;
        for (int i = ng - 1; i >= 0; i--) {
            runs[k].idx[i] = (int)(rem % g[i].n);
            rem /= g[i].n;
        }
        char name[900];
        name_of(g, ng, &runs[k], name, sizeof name);
        snprintf(runs[k].dir, sizeof runs[k].dir, "%s/%s", out, name);
        snprintf(runs[k].log, sizeof runs[k].log, "%s/%s.log", out, name);
        runs[k].status = -1;
    }
    brs_progress pr;
    brs__progress_start(&pr, "sweep", (uint64_t)total);
    long next = 0, running = 0, done_n = 0, failed = 0;
    while (done_n < total) {
        while (running < jobs && next < total) {
            runs[next].pid = spawn(cfg, g, ng, &runs[next], sets, nsets);
            if (runs[next].pid < 0) {
                runs[next].status = 127;
                done_n++;
                failed++;
            } else {
                running++;
            }
            next++;
        }
        if (!running)
            continue;
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (long k = 0; k < next; k++)
            if (runs[k].pid == pid && runs[k].status < 0) {
                runs[k].status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                if (runs[k].status == 0)
                    read_summary(&runs[k]);
                else
                    failed++;
                running--;
                done_n++;
                break;
            }
        brs__progress_update(&pr, (uint64_t)done_n);
    }
    brs__progress_finish(&pr);
    qsort(runs, (size_t)total, sizeof *runs, cmp_runs);
    if (write_results(out, g, ng, runs, (int)total, &err)) {
        rc = brs__fail("sweep", "%s", err.msg);
        goto done;
    }
    printf("%-4s %-40s %12s %12s %12s %8s\n", "rank", "run", sort, "total_return", "max_drawdown",
           "trades");
    for (long k = 0; k < total; k++) {
        const sweep_run *r = &runs[k];
        const char *nm = strrchr(r->dir, '/');
        nm = nm ? nm + 1 : r->dir;
        if (r->status)
            printf("%-4ld %-40s failed (exit %d, see %s)\n", k + 1, nm, r->status, r->log);
        else
            printf("%-4ld %-40s %12.4f %12.4f %12.4f %8.0f\n", k + 1, nm, r->metric[g_sort],
                   r->metric[metric_index("total_return")], r->metric[metric_index("max_drawdown")],
                   r->metric[metric_index("n_trades")]);
    }
    printf("results: %s/results.csv, %s/results.json\n", out, out);
    if (failed)
        rc = brs__fail("sweep", "%ld of %ld runs failed", failed, total);
done:
    for (int i = 0; g && i < ng; i++)
        for (int v = 0; v < g[i].n; v++)
            free(g[i].values[v]);
    free(g);
    free(sets);
    free(runs);
    return rc;
}
