/* ui.c: `bourse ui [DIR]`, the research dashboard (the original design's
 * Streamlit role): a page the binary serves on 127.0.0.1 listing the run
 * directories and sweeps under DIR with their key metrics, comparing runs on one
 * chart, opening reports and sweep heatmaps, and launching a backtest or sweep
 * from a config under DIR with edited parameters, its progress polled live.
 * Launches run `bourse backtest|sweep` as child processes confined to DIR: the
 * config and any script it names must resolve inside DIR, parameters are plain
 * values, outputs go to DIR/ui-runs/. Requests that could come from another
 * site (a foreign Origin or Host) are refused. Launching and the jobs live in
 * ui_jobs.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "analytics/an_internal.h"
#include "cli/cli.h"
#include "core/core.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "ops/http.h"
#include "ops/ui_internal.h"

extern const char brs__ui_html[];
extern const char brs__ui_js[];

/* ---- paths confined to the root ------------------------------------------ */

/* rel (from a client) as an absolute path inside root that exists; 0 on success. */
int brs__ui_inside(const ui *u, const char *rel, char *abs, size_t cap)
{
    if (!rel || !*rel || rel[0] == '/' || strstr(rel, "..") || strlen(rel) > 1024)
        return -1;
    for (const char *p = rel; *p; p++)
        if ((unsigned char)*p < 0x20)
            return -1;
    char joined[PATH_MAX * 2];
    snprintf(joined, sizeof joined, "%s/%s", u->root, rel);
    char real[PATH_MAX];
    if (!realpath(joined, real))
        return -1;
    size_t rl = strlen(u->root);
    if (strncmp(real, u->root, rl) != 0 || (real[rl] != '/' && real[rl] != 0))
        return -1; /* a symlink pointing out */
    snprintf(abs, cap, "%s", real);
    return 0;
}

const char *brs__ui_rel_of(const ui *u, const char *abs)
{
    size_t rl = strlen(u->root);
    return strncmp(abs, u->root, rl) == 0 && abs[rl] == '/' ? abs + rl + 1 : abs;
}

/* ---- responses ---------------------------------------------------------- */

int brs__ui_send_json(brs__http_resp *r, cJSON *j, int status)
{
    r->body = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!r->body)
        return BRS_E_NOMEM;
    r->len = strlen(r->body);
    r->status = status;
    r->content_type = "application/json";
    return BRS_OK;
}

int brs__ui_send_error(brs__http_resp *r, int status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    return brs__ui_send_json(r, j, status);
}

static int send_text(brs__http_resp *r, const char *ctype, const char *text)
{
    r->body = strdup(text);
    if (!r->body)
        return BRS_E_NOMEM;
    r->len = strlen(text);
    r->content_type = ctype;
    return BRS_OK;
}

/* ---- listing runs and sweeps -------------------------------------------- */

cJSON *brs__ui_read_json(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    brs_error err = {0};
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size > (64 << 20) || brs__read_file(path, &data, &len, &err) != BRS_OK)
        return NULL;
    cJSON *j = cJSON_Parse(data);
    free(data);
    return j;
}

static const char *const run_keys[] = {"total_return", "cagr", "sharpe", "sortino", "max_drawdown", "n_trades",
                                       "win_rate", "net_pnl", "n_fills", NULL};

typedef struct scan {
    const ui *u;
    cJSON *runs, *sweeps, *configs, *scripts;
    int n;
} scan;

static void add_run(scan *s, const char *dir)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    cJSON *sum = brs__ui_read_json(p);
    if (!sum)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", brs__ui_rel_of(s->u, dir));
    cJSON *t = cJSON_GetObjectItem(sum, "title");
    cJSON *m = cJSON_GetObjectItem(sum, "mode");
    cJSON_AddStringToObject(o, "title", cJSON_IsString(t) ? t->valuestring : "");
    cJSON_AddStringToObject(o, "mode", cJSON_IsString(m) ? m->valuestring : "");
    cJSON *metrics = cJSON_AddObjectToObject(o, "metrics");
    for (int i = 0; run_keys[i]; i++) {
        cJSON *v = cJSON_GetObjectItem(sum, run_keys[i]);
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            cJSON_AddNumberToObject(metrics, run_keys[i], v->valuedouble);
        else
            cJSON_AddNullToObject(metrics, run_keys[i]);
    }
    cJSON_Delete(sum);
    snprintf(p, sizeof p, "%s/config.json", dir);
    cJSON *cfg = brs__ui_read_json(p);
    cJSON *strat = cfg ? cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "strategy"), "file") : NULL;
    cJSON_AddStringToObject(o, "strategy", cJSON_IsString(strat) ? strat->valuestring : "");
    cJSON_Delete(cfg);
    struct stat st;
    snprintf(p, sizeof p, "%s/summary.json", dir);
    if (stat(p, &st) == 0)
        cJSON_AddNumberToObject(o, "mtime", (double)st.st_mtime);
    snprintf(p, sizeof p, "%s/report.html", dir);
    cJSON_AddBoolToObject(o, "report", access(p, R_OK) == 0);
    cJSON_AddItemToArray(s->runs, o);
    s->n++;
}

static void add_sweep(scan *s, const char *dir)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/results.csv", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    long rows = -1;
    char line[8192];
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", brs__ui_rel_of(s->u, dir));
    cJSON_AddNumberToObject(o, "combinations", (double)(rows < 0 ? 0 : rows));
    snprintf(p, sizeof p, "%s/results.html", dir);
    cJSON_AddBoolToObject(o, "html", access(p, R_OK) == 0);
    cJSON_AddItemToArray(s->sweeps, o);
}

/* A config under root: a JSON object with "mode" and "strategy". */
static void add_config(scan *s, const char *path)
{
    cJSON *c = brs__ui_read_json(path);
    if (!c)
        return;
    cJSON *mode = cJSON_GetObjectItem(c, "mode");
    cJSON *strat = cJSON_GetObjectItem(c, "strategy");
    if (cJSON_IsString(mode) && cJSON_IsObject(strat)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", brs__ui_rel_of(s->u, path));
        cJSON_AddStringToObject(o, "mode", mode->valuestring);
        cJSON *file = cJSON_GetObjectItem(strat, "file");
        cJSON_AddStringToObject(o, "strategy", cJSON_IsString(file) ? file->valuestring : "");
        cJSON *params = cJSON_GetObjectItem(strat, "params");
        cJSON_AddItemToObject(o, "params", params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject());
        cJSON *t = cJSON_GetObjectItem(c, "title");
        if (cJSON_IsString(t))
            cJSON_AddStringToObject(o, "title", t->valuestring);
        cJSON_AddItemToArray(s->configs, o);
    }
    cJSON_Delete(c);
}

int brs__ui_ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void walk(scan *s, const char *dir, int depth)
{
    if (depth > 4 || s->n >= MAX_SCAN)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    int is_run = access(p, R_OK) == 0;
    if (is_run)
        add_run(s, dir);
    snprintf(p, sizeof p, "%s/results.csv", dir);
    if (access(p, R_OK) == 0)
        add_sweep(s, dir);
    for (struct dirent *e; (e = readdir(d)) && s->n < MAX_SCAN;) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "build") || !strncmp(e->d_name, "build-", 6) ||
            !strcmp(e->d_name, "node_modules"))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0 || S_ISLNK(st.st_mode))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (!is_run || depth < 3) /* a sweep keeps its best runs below it */
                walk(s, p, depth + 1);
        } else if (S_ISREG(st.st_mode) && !is_run && st.st_size < (1 << 20)) {
            if (brs__ui_ends_with(e->d_name, ".json") && strcmp(e->d_name, "results.json") != 0)
                add_config(s, p);
            else if (brs__ui_ends_with(e->d_name, ".lua"))
                cJSON_AddItemToArray(s->scripts, cJSON_CreateString(brs__ui_rel_of(s->u, p)));
        }
    }
    closedir(d);
}

static int api_runs(ui *u, brs__http_resp *r)
{
    scan s = {.u = u};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "root", u->root);
    s.runs = cJSON_AddArrayToObject(j, "runs");
    s.sweeps = cJSON_AddArrayToObject(j, "sweeps");
    s.configs = cJSON_AddArrayToObject(j, "configs");
    s.scripts = cJSON_AddArrayToObject(j, "scripts");
    walk(&s, u->root, 0);
    return brs__ui_send_json(r, j, 200);
}

/* equity.csv of a run as {t: [s], ret: [fraction since start]}, at most ~1,500
 * points, keeping each stride's extremes so no drawdown disappears. */
static int api_equity(ui *u, const brs__http_req *rq, brs__http_resp *r)
{
    char rel[1100], dir[PATH_MAX], p[PATH_MAX + 16];
    if (!brs__http_query_get(rq->query, "run", rel, sizeof rel) || brs__ui_inside(u, rel, dir, sizeof dir))
        return brs__ui_send_error(r, 404, "no such run under the dashboard's folder");
    snprintf(p, sizeof p, "%s/equity.csv", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return brs__ui_send_error(r, 404, "the run has no equity.csv");
    size_t n = 0, cap = 4096;
    double *t = malloc(cap * sizeof *t), *e = malloc(cap * sizeof *e);
    char line[4096];
    int col_eq = -1;
    if (fgets(line, sizeof line, f)) {
        int c = 0;
        for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), c++)
            if (!strcmp(tok, "equity"))
                col_eq = c;
    }
    while (t && e && col_eq >= 0 && fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            double *nt = realloc(t, cap * sizeof *t), *ne = realloc(e, cap * sizeof *e);
            if (nt)
                t = nt;
            if (ne)
                e = ne;
            if (!nt || !ne)
                break;
        }
        char *save = NULL;
        int c = 0;
        double ts = NAN, eq = NAN;
        for (char *tok = strtok_r(line, ",\r\n", &save); tok; tok = strtok_r(NULL, ",\r\n", &save), c++) {
            if (c == 0)
                ts = strtod(tok, NULL) / 1e9;
            else if (c == col_eq)
                eq = strtod(tok, NULL);
        }
        if (isfinite(ts) && isfinite(eq))
            t[n] = ts, e[n] = eq, n++;
    }
    fclose(f);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "run", rel);
    cJSON *jt = cJSON_AddArrayToObject(j, "t"), *jr = cJSON_AddArrayToObject(j, "ret");
    if (n && t && e && e[0] != 0) {
        size_t stride = n > 1500 ? (n + 749) / 750 : 1;
        for (size_t i = 0; i < n; i += stride) {
            size_t end = i + stride < n ? i + stride : n, lo = i, hi = i;
            for (size_t k = i; k < end; k++) {
                if (e[k] < e[lo])
                    lo = k;
                if (e[k] > e[hi])
                    hi = k;
            }
            size_t a = lo < hi ? lo : hi, b = lo < hi ? hi : lo;
            cJSON_AddItemToArray(jt, cJSON_CreateNumber(t[a]));
            cJSON_AddItemToArray(jr, cJSON_CreateNumber(e[a] / e[0] - 1));
            if (b != a) {
                cJSON_AddItemToArray(jt, cJSON_CreateNumber(t[b]));
                cJSON_AddItemToArray(jr, cJSON_CreateNumber(e[b] / e[0] - 1));
            }
        }
    }
    free(t);
    free(e);
    return brs__ui_send_json(r, j, 200);
}

/* ---- files under the root ------------------------------------------------ */

static int serve_file(ui *u, const brs__http_req *rq, brs__http_resp *r)
{
    char rel[1100], abs[PATH_MAX];
    snprintf(rel, sizeof rel, "%s", rq->path + strlen("/files/"));
    brs__http_urldecode(rel);
    const char *ct = brs__ui_ends_with(rel, ".html") ? "text/html; charset=utf-8"
                     : brs__ui_ends_with(rel, ".json") ? "application/json"
                     : brs__ui_ends_with(rel, ".csv") || brs__ui_ends_with(rel, ".log") || brs__ui_ends_with(rel, ".lua")
                         ? "text/plain; charset=utf-8"
                         : NULL;
    struct stat st;
    if (!ct || brs__ui_inside(u, rel, abs, sizeof abs) || stat(abs, &st) != 0 || !S_ISREG(st.st_mode))
        return brs__ui_send_error(r, 404, "no such file under the dashboard's folder (html, json, csv, log, lua)");
    if (st.st_size > (256 << 20))
        return brs__ui_send_error(r, 413, "file too large to serve");
    char *data = NULL;
    size_t len = 0;
    brs_error err = {0};
    if (brs__read_file(abs, &data, &len, &err) != BRS_OK)
        return brs__ui_send_error(r, 500, err.msg);
    r->body = data;
    r->len = len;
    r->content_type = ct;
    return BRS_OK;
}

/* ---- routing ---------------------------------------------------------------- */

static int route(void *ctx, const brs__http_req *rq, brs__http_resp *r)
{
    ui *u = ctx;
    int post = !strcmp(rq->method, "POST");
    if (!brs__http_same_origin(rq)) {
        BRS_LOG(BRS_LOG_WARN, "ui", "request from another origin refused", BRS_KV_S("peer", rq->peer),
                BRS_KV_S("host", rq->host), BRS_KV_S("origin", rq->origin));
        return brs__ui_send_error(r, 403, "requests must come from the dashboard's own page");
    }
    if (post) {
        if (!strcmp(rq->path, "/api/launch"))
            return brs__ui_api_launch(u, rq, r);
        if (!strncmp(rq->path, "/api/cancel/", 12))
            return brs__ui_api_cancel(u, rq, r);
        r->allow = "GET, HEAD";
        return brs__ui_send_error(r, 405, "POST only to /api/launch and /api/cancel/ID");
    }
    if (!strcmp(rq->path, "/") || !strcmp(rq->path, "/index.html"))
        return send_text(r, "text/html; charset=utf-8", brs__ui_html);
    if (!strcmp(rq->path, "/ui.js"))
        return send_text(r, "text/javascript; charset=utf-8", brs__ui_js);
    if (!strcmp(rq->path, "/uplot.js"))
        return send_text(r, "text/javascript; charset=utf-8", brs__an_uplot_js);
    if (!strcmp(rq->path, "/uplot.css"))
        return send_text(r, "text/css; charset=utf-8", brs__an_uplot_css);
    if (!strcmp(rq->path, "/favicon.ico")) {
        r->status = 204; /* no icon: say so rather than 404 */
        return BRS_OK;
    }
    if (!strcmp(rq->path, "/api/runs"))
        return api_runs(u, r);
    if (!strcmp(rq->path, "/api/equity"))
        return api_equity(u, rq, r);
    if (!strcmp(rq->path, "/api/jobs"))
        return brs__ui_api_jobs(u, r);
    if (!strncmp(rq->path, "/files/", 7))
        return serve_file(u, rq, r);
    return brs__ui_send_error(r, 404, "not found");
}

/* ---- the command ------------------------------------------------------------ */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse ui [DIR] [--listen HOST:PORT] [--max-jobs N]\n\n"
            "The research dashboard: serves the run directories and sweeps under DIR (default .)\n"
            "on --listen (default 127.0.0.1:8765; port 0 picks a free one): a table of runs with\n"
            "their key metrics, reports, several runs compared on one chart, sweep result\n"
            "tables and heatmaps, and a form that launches a backtest or sweep from a config\n"
            "under DIR with edited parameters (at most --max-jobs at once, default 2; output in\n"
            "DIR/ui-runs/) and follows its progress. Only configs and scripts inside DIR can be\n"
            "launched; requests from other sites are refused.\n\n"
            "Signals: SIGINT/SIGTERM stop the server (running jobs are interrupted cleanly).\n");
}

static volatile sig_atomic_t stop_sig;
static void on_stop(int sig) { stop_sig = sig; }

int brs__cmd_ui(int argc, char **argv)
{
    const char *dir = ".", *listen = "127.0.0.1:8765";
    long max_jobs = 2;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            usage(stdout);
            return BRS_EXIT_OK;
        } else if (!strcmp(argv[i], "--listen") || !strcmp(argv[i], "--max-jobs")) {
            if (i + 1 >= argc)
                return brs__usage_error("ui", "%s needs a value", argv[i]);
            if (argv[i][2] == 'l') {
                listen = argv[++i];
            } else {
                char *end;
                max_jobs = strtol(argv[++i], &end, 10);
                if (*end || max_jobs < 1 || max_jobs > 16)
                    return brs__usage_error("ui", "--max-jobs must be 1..16, not '%s'", argv[i]);
            }
        } else if (argv[i][0] == '-') {
            return brs__usage_error("ui", "unknown option '%s'", argv[i]);
        } else {
            dir = argv[i];
        }
    }
    static ui u;
    memset(&u, 0, sizeof u);
    if (!realpath(dir, u.root))
        return brs__fail("ui", "%s: %s", dir, strerror(errno));
    ssize_t n = readlink("/proc/self/exe", u.self, sizeof u.self - 1);
    if (n <= 0)
        return brs__fail("ui", "cannot find the bourse binary (/proc/self/exe)");
    u.self[n] = 0;
    u.max_running = (int)max_jobs;
    pthread_mutex_init(&u.mu, NULL);
    brs__http *h = NULL;
    brs_error err = {0};
    brs__http_opts o = {.listen = listen};
    if (brs__http_start(&h, &o, &err) != BRS_OK)
        return brs__fail("ui", "%s", err.msg);
    brs__http_route(h, "/", route, &u);
    char host[96];
    int port;
    brs__parse_hostport(listen, host, sizeof host, &port, &err);
    if (strcmp(host, "127.0.0.1") && strcmp(host, "::1") && strcmp(host, "localhost"))
        BRS_LOG(BRS_LOG_WARN, "ui", "listening beyond this machine: anyone who reaches it can launch runs",
                BRS_KV_S("listen", listen));
    BRS_LOG(BRS_LOG_INFO, "ui", "research dashboard ready", BRS_KV_S("dir", u.root),
            BRS_KV_I("port", brs__http_port(h)), BRS_KV_I("max_jobs", max_jobs));
    printf("bourse ui: http://%s%s%s:%d/ serving %s\n", strchr(host, ':') ? "[" : "", host,
           strchr(host, ':') ? "]" : "", brs__http_port(h), u.root);
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stop_sig)
        pause();
    BRS_LOG(BRS_LOG_INFO, "ui", "stopping", BRS_KV_S("signal", stop_sig == SIGINT ? "SIGINT" : "SIGTERM"));
    brs__http_stop(h);
    pthread_mutex_lock(&u.mu);
    for (int i = 0; i < u.n_jobs; i++)
        if (u.jobs[i].state == 0) {
            kill(u.jobs[i].pid, SIGINT);
            waitpid(u.jobs[i].pid, NULL, 0);
            BRS_LOG(BRS_LOG_INFO, "ui", "job interrupted at stop", BRS_KV_I("job", u.jobs[i].id),
                    BRS_KV_S("out", u.jobs[i].out));
        }
    pthread_mutex_unlock(&u.mu);
    return BRS_EXIT_OK;
}
