/* ui.c: `bourse ui [DIR]`, the research dashboard (the original design's
 * Streamlit role): a page the binary serves on 127.0.0.1 listing the run
 * directories and sweeps under DIR with their key metrics, comparing runs on one
 * chart, opening reports and sweep heatmaps, and launching a backtest or sweep
 * from a config under DIR with edited parameters, its progress polled live.
 * Launches run `bourse backtest|sweep` as child processes confined to DIR: the
 * config and any script it names must resolve inside DIR, parameters are plain
 * values, outputs go to DIR/ui-runs/. Requests that could come from another
 * site (a foreign Origin or Host) are refused. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
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

extern char **environ;
extern const char brs__ui_html[];
extern const char brs__ui_js[];

#define MAX_JOBS 64
#define MAX_SCAN 2000 /* run directories listed at most */

typedef struct job {
    int id;
    pid_t pid;
    char kind[16];
    char out[PATH_MAX]; /* relative to root */
    char log[PATH_MAX]; /* absolute */
    char label[256];
    int state; /* 0 running, 1 done, 2 failed, 3 interrupted */
    int exit_code;
    int64_t started_ns;
} job;

typedef struct ui {
    char root[PATH_MAX]; /* realpath of DIR */
    char self[PATH_MAX]; /* this binary */
    int max_running;
    pthread_mutex_t mu; /* jobs */
    job jobs[MAX_JOBS];
    int n_jobs, next_id;
} ui;

/* ---- paths confined to the root ------------------------------------------ */

/* rel (from a client) as an absolute path inside root that exists; 0 on success. */
static int inside(const ui *u, const char *rel, char *abs, size_t cap)
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

static const char *rel_of(const ui *u, const char *abs)
{
    size_t rl = strlen(u->root);
    return strncmp(abs, u->root, rl) == 0 && abs[rl] == '/' ? abs + rl + 1 : abs;
}

/* ---- responses ---------------------------------------------------------- */

static int send_json(brs__http_resp *r, cJSON *j, int status)
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

static int send_error(brs__http_resp *r, int status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    return send_json(r, j, status);
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

static cJSON *read_json(const char *path)
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
    cJSON *sum = read_json(p);
    if (!sum)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", rel_of(s->u, dir));
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
    cJSON *cfg = read_json(p);
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
    cJSON_AddStringToObject(o, "path", rel_of(s->u, dir));
    cJSON_AddNumberToObject(o, "combinations", (double)(rows < 0 ? 0 : rows));
    snprintf(p, sizeof p, "%s/results.html", dir);
    cJSON_AddBoolToObject(o, "html", access(p, R_OK) == 0);
    cJSON_AddItemToArray(s->sweeps, o);
}

/* A config under root: a JSON object with "mode" and "strategy". */
static void add_config(scan *s, const char *path)
{
    cJSON *c = read_json(path);
    if (!c)
        return;
    cJSON *mode = cJSON_GetObjectItem(c, "mode");
    cJSON *strat = cJSON_GetObjectItem(c, "strategy");
    if (cJSON_IsString(mode) && cJSON_IsObject(strat)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", rel_of(s->u, path));
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

static int ends_with(const char *s, const char *suf)
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
            if (ends_with(e->d_name, ".json") && strcmp(e->d_name, "results.json") != 0)
                add_config(s, p);
            else if (ends_with(e->d_name, ".lua"))
                cJSON_AddItemToArray(s->scripts, cJSON_CreateString(rel_of(s->u, p)));
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
    return send_json(r, j, 200);
}

/* equity.csv of a run as {t: [s], ret: [fraction since start]}, at most ~1,500
 * points, keeping each stride's extremes so no drawdown disappears. */
static int api_equity(ui *u, const brs__http_req *rq, brs__http_resp *r)
{
    char rel[1100], dir[PATH_MAX], p[PATH_MAX + 16];
    if (!brs__http_query_get(rq->query, "run", rel, sizeof rel) || inside(u, rel, dir, sizeof dir))
        return send_error(r, 404, "no such run under the dashboard's folder");
    snprintf(p, sizeof p, "%s/equity.csv", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return send_error(r, 404, "the run has no equity.csv");
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
    return send_json(r, j, 200);
}

/* ---- files under the root ------------------------------------------------ */

static int serve_file(ui *u, const brs__http_req *rq, brs__http_resp *r)
{
    char rel[1100], abs[PATH_MAX];
    snprintf(rel, sizeof rel, "%s", rq->path + strlen("/files/"));
    brs__http_urldecode(rel);
    const char *ct = ends_with(rel, ".html") ? "text/html; charset=utf-8"
                     : ends_with(rel, ".json") ? "application/json"
                     : ends_with(rel, ".csv") || ends_with(rel, ".log") || ends_with(rel, ".lua")
                         ? "text/plain; charset=utf-8"
                         : NULL;
    struct stat st;
    if (!ct || inside(u, rel, abs, sizeof abs) || stat(abs, &st) != 0 || !S_ISREG(st.st_mode))
        return send_error(r, 404, "no such file under the dashboard's folder (html, json, csv, log, lua)");
    if (st.st_size > (256 << 20))
        return send_error(r, 413, "file too large to serve");
    char *data = NULL;
    size_t len = 0;
    brs_error err = {0};
    if (brs__read_file(abs, &data, &len, &err) != BRS_OK)
        return send_error(r, 500, err.msg);
    r->body = data;
    r->len = len;
    r->content_type = ct;
    return BRS_OK;
}

/* ---- launching ------------------------------------------------------------ */

static int plain_key(const char *k)
{
    if (!*k || strlen(k) > 64)
        return 0;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '_')
            return 0;
    return 1;
}

/* A grid value list as the sweep takes it: numbers, ranges, words. */
static int plain_spec(const char *v)
{
    if (!*v || strlen(v) > 512)
        return 0;
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && !strchr(".,:-_", *v))
            return 0;
    return 1;
}

/* The strategy a config names must be a plugin name or a script inside root. */
static int strategy_allowed(ui *u, const char *cfg_abs, char *why, size_t cap)
{
    cJSON *c = read_json(cfg_abs);
    cJSON *f = c ? cJSON_GetObjectItem(cJSON_GetObjectItem(c, "strategy"), "file") : NULL;
    int ok = 1;
    if (cJSON_IsString(f) && (strchr(f->valuestring, '/') || ends_with(f->valuestring, ".lua") ||
                              ends_with(f->valuestring, ".so"))) {
        char abs[PATH_MAX];
        if (inside(u, f->valuestring, abs, sizeof abs)) {
            snprintf(why, cap, "the config's strategy %s is not inside the dashboard's folder", f->valuestring);
            ok = 0;
        }
    }
    cJSON_Delete(c);
    return ok;
}

static void job_refresh(job *j)
{
    if (j->state != 0)
        return;
    int st;
    pid_t w = waitpid(j->pid, &st, WNOHANG);
    if (w != j->pid)
        return;
    if (WIFEXITED(st)) {
        j->exit_code = WEXITSTATUS(st);
        j->state = j->exit_code == 0 ? 1 : j->exit_code == 130 || j->exit_code == 143 ? 3 : 2;
    } else {
        j->exit_code = 128 + WTERMSIG(st);
        j->state = 2;
    }
    BRS_LOG(BRS_LOG_INFO, "ui", "job finished", BRS_KV_I("job", j->id), BRS_KV_S("kind", j->kind),
            BRS_KV_I("exit", j->exit_code), BRS_KV_S("out", j->out));
}

static int api_launch(ui *u, const brs__http_req *rq, brs__http_resp *r)
{
    if (!strstr(rq->content_type, "application/json"))
        return send_error(r, 415, "launch takes application/json");
    cJSON *b = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        return send_error(r, 400, "launch body must be a JSON object");
    }
    const cJSON *kind = cJSON_GetObjectItem(b, "kind"), *cfg = cJSON_GetObjectItem(b, "config");
    const cJSON *params = cJSON_GetObjectItem(b, "params"), *grid = cJSON_GetObjectItem(b, "grid");
    char why[512] = "", cfg_abs[PATH_MAX];
    int is_sweep = cJSON_IsString(kind) && !strcmp(kind->valuestring, "sweep");
    if (!cJSON_IsString(kind) || (!is_sweep && strcmp(kind->valuestring, "backtest") != 0))
        snprintf(why, sizeof why, "kind must be \"backtest\" or \"sweep\"");
    else if (!cJSON_IsString(cfg) || !ends_with(cfg->valuestring, ".json") ||
             inside(u, cfg->valuestring, cfg_abs, sizeof cfg_abs))
        snprintf(why, sizeof why, "config must be a .json file inside the dashboard's folder");
    else if (params && !cJSON_IsObject(params))
        snprintf(why, sizeof why, "params must be an object");
    else if (grid && (!cJSON_IsObject(grid) || !is_sweep))
        snprintf(why, sizeof why, "grid must be an object, and only for a sweep");
    else
        strategy_allowed(u, cfg_abs, why, sizeof why);
    /* argv: bourse backtest|sweep CFG --out OUT [--set strategy.params.K=V]... [--grid K=SPEC]... */
    char *argv[200];
    int argc = 0;
    static char argbuf[64][600];
    int nb = 0;
    pthread_mutex_lock(&u->mu);
    int running = 0;
    for (int i = 0; i < u->n_jobs; i++) {
        job_refresh(&u->jobs[i]);
        running += u->jobs[i].state == 0;
    }
    if (!why[0] && running >= u->max_running)
        snprintf(why, sizeof why, "%d jobs are running already (ui --max-jobs)", running);
    cJSON *it;
    if (!why[0] && params)
        cJSON_ArrayForEach(it, params)
        {
            if (!plain_key(it->string) || nb >= 60) {
                snprintf(why, sizeof why, "parameter name '%.64s' must be letters, digits and _", it->string);
                break;
            }
            char v[512];
            if (cJSON_IsNumber(it))
                snprintf(v, sizeof v, "%.17g", it->valuedouble);
            else if (cJSON_IsBool(it))
                snprintf(v, sizeof v, "%s", cJSON_IsTrue(it) ? "true" : "false");
            else if (cJSON_IsString(it) && plain_spec(it->valuestring))
                snprintf(v, sizeof v, "%s", it->valuestring);
            else {
                snprintf(why, sizeof why, "parameter %s must be a number, true/false or a plain word", it->string);
                break;
            }
            snprintf(argbuf[nb], sizeof argbuf[nb], "strategy.params.%s=%s", it->string, v);
            nb++;
        }
    int set_end = nb;
    if (!why[0] && grid)
        cJSON_ArrayForEach(it, grid)
        {
            if (!plain_key(it->string) || !cJSON_IsString(it) || !plain_spec(it->valuestring) || nb >= 60) {
                snprintf(why, sizeof why, "grid %.64s: values like 5,10,20 or 2:100:1", it->string);
                break;
            }
            snprintf(argbuf[nb], sizeof argbuf[nb], "%s=%s", it->string, it->valuestring);
            nb++;
        }
    if (why[0]) {
        pthread_mutex_unlock(&u->mu);
        cJSON_Delete(b);
        BRS_LOG(BRS_LOG_WARN, "ui", "launch refused", BRS_KV_S("peer", rq->peer), BRS_KV_S("reason", why));
        return send_error(r, 400, why);
    }
    /* a free slot: the oldest finished job makes room */
    if (u->n_jobs == MAX_JOBS) {
        int k = -1;
        for (int i = 0; i < u->n_jobs && k < 0; i++)
            if (u->jobs[i].state != 0)
                k = i;
        if (k < 0) {
            pthread_mutex_unlock(&u->mu);
            cJSON_Delete(b);
            return send_error(r, 503, "too many jobs");
        }
        memmove(&u->jobs[k], &u->jobs[k + 1], (size_t)(u->n_jobs - k - 1) * sizeof *u->jobs);
        u->n_jobs--;
    }
    job *j = &u->jobs[u->n_jobs];
    memset(j, 0, sizeof *j);
    j->id = ++u->next_id;
    const char *kname = is_sweep ? "sweep" : "backtest";
    snprintf(j->kind, sizeof j->kind, "%s", kname);
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char runs_dir[PATH_MAX + 16];
    snprintf(runs_dir, sizeof runs_dir, "%s/ui-runs", u->root);
    mkdir(runs_dir, 0755);
    int id = j->id;
    snprintf(j->out, sizeof j->out, "ui-runs/%s-%d-%s", kname, id, stamp);
    snprintf(j->log, sizeof j->log, "%s/%s-%d-%s.log", runs_dir, kname, id, stamp);
    snprintf(j->label, sizeof j->label, "%s %s", kname, cfg->valuestring);
    char out_abs[PATH_MAX * 2];
    snprintf(out_abs, sizeof out_abs, "%s/%s", u->root, j->out);
    argv[argc++] = u->self;
    argv[argc++] = (char *)kname;
    argv[argc++] = cfg_abs;
    argv[argc++] = "--out";
    argv[argc++] = out_abs;
    for (int i = 0; i < nb; i++) {
        argv[argc++] = i < set_end ? "--set" : "--grid";
        argv[argc++] = argbuf[i];
    }
    argv[argc] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, j->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, u->root); /* the config's relative paths are from DIR */
    /* the child's progress line is what the page shows */
    static char env_progress[] = "BOURSE_PROGRESS=1";
    char *envp[256];
    int ne = 0;
    for (char **e = environ; *e && ne < 250; e++)
        if (strncmp(*e, "BOURSE_PROGRESS=", 16) != 0)
            envp[ne++] = *e;
    envp[ne++] = env_progress;
    envp[ne] = NULL;
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0); /* Ctrl-C on the dashboard's terminal is ours, not the job's */
    int rc = posix_spawn(&j->pid, u->self, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    cJSON_Delete(b);
    if (rc != 0) {
        pthread_mutex_unlock(&u->mu);
        return send_error(r, 500, strerror(rc));
    }
    j->started_ns = brs__realtime_ns();
    u->n_jobs++;
    BRS_LOG(BRS_LOG_INFO, "ui", "job started", BRS_KV_I("job", j->id), BRS_KV_S("kind", j->kind),
            BRS_KV_S("config", rel_of(u, cfg_abs)), BRS_KV_S("out", j->out), BRS_KV_I("pid", j->pid),
            BRS_KV_S("peer", rq->peer));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", j->id);
    cJSON_AddStringToObject(o, "out", j->out);
    pthread_mutex_unlock(&u->mu);
    return send_json(r, o, 200);
}

/* The last progress figure in a job's log ("label:  45.3%  ..."), or -1. */
static double log_progress(const char *path, char *tail, size_t cap)
{
    tail[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[4096];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long off = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
    fseek(f, off, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    double pct = -1;
    for (char *p = buf; (p = strchr(p, '%'));) {
        char *q = p;
        while (q > buf && (isdigit((unsigned char)q[-1]) || q[-1] == '.'))
            q--;
        if (q < p)
            pct = strtod(q, NULL);
        p++;
    }
    /* the tail people read: lines, with the progress carriage returns taken out */
    char *w = buf;
    for (char *p = buf; *p; p++) {
        if (*p == '\x1b' && p[1] == '[') { /* terminal control (the progress line's erase): dropped */
            p += 2;
            while (*p && !isalpha((unsigned char)*p))
                p++;
            if (!*p)
                break;
            continue;
        }
        *w++ = *p == '\r' ? '\n' : *p;
    }
    *w = 0;
    const char *start = n > 1500 ? buf + strlen(buf) - 1500 : buf;
    snprintf(tail, cap, "%s", start);
    return pct;
}

static int api_jobs(ui *u, brs__http_resp *r)
{
    cJSON *arr = cJSON_CreateArray();
    pthread_mutex_lock(&u->mu);
    static const char *const states[] = {"running", "done", "failed", "interrupted"};
    for (int i = 0; i < u->n_jobs; i++) {
        job *j = &u->jobs[i];
        job_refresh(j);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", j->id);
        cJSON_AddStringToObject(o, "kind", j->kind);
        cJSON_AddStringToObject(o, "label", j->label);
        cJSON_AddStringToObject(o, "state", states[j->state]);
        cJSON_AddStringToObject(o, "out", j->out);
        cJSON_AddStringToObject(o, "log", rel_of(u, j->log));
        cJSON_AddNumberToObject(o, "seconds", (double)(brs__realtime_ns() - j->started_ns) / 1e9);
        if (j->state != 0)
            cJSON_AddNumberToObject(o, "exit", j->exit_code);
        char tail[1600];
        double pct = log_progress(j->log, tail, sizeof tail);
        if (j->state == 1)
            pct = 100;
        if (pct >= 0)
            cJSON_AddNumberToObject(o, "progress", pct / 100);
        else
            cJSON_AddNullToObject(o, "progress");
        cJSON_AddStringToObject(o, "tail", tail);
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s/report.html", u->root, j->out);
        if (j->state == 1 && access(p, R_OK) == 0)
            cJSON_AddStringToObject(o, "report", j->out);
        snprintf(p, sizeof p, "%s/%s/results.html", u->root, j->out);
        if (j->state == 1 && access(p, R_OK) == 0)
            cJSON_AddStringToObject(o, "results", j->out);
        cJSON_AddItemToArray(arr, o);
    }
    pthread_mutex_unlock(&u->mu);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "jobs", arr);
    return send_json(r, j, 200);
}

static int api_cancel(ui *u, const brs__http_req *rq, brs__http_resp *r)
{
    int id = atoi(rq->path + strlen("/api/cancel/"));
    pthread_mutex_lock(&u->mu);
    int found = 0;
    for (int i = 0; i < u->n_jobs; i++)
        if (u->jobs[i].id == id && u->jobs[i].state == 0) {
            kill(u->jobs[i].pid, SIGINT); /* a clean stop: the command says how far it got */
            found = 1;
            BRS_LOG(BRS_LOG_INFO, "ui", "job cancelled", BRS_KV_I("job", id), BRS_KV_S("peer", rq->peer));
        }
    pthread_mutex_unlock(&u->mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "cancelled", found);
    return send_json(r, o, found ? 200 : 404);
}

/* ---- routing ---------------------------------------------------------------- */

static int route(void *ctx, const brs__http_req *rq, brs__http_resp *r)
{
    ui *u = ctx;
    int post = !strcmp(rq->method, "POST");
    if (!brs__http_same_origin(rq)) {
        BRS_LOG(BRS_LOG_WARN, "ui", "request from another origin refused", BRS_KV_S("peer", rq->peer),
                BRS_KV_S("host", rq->host), BRS_KV_S("origin", rq->origin));
        return send_error(r, 403, "requests must come from the dashboard's own page");
    }
    if (post) {
        if (!strcmp(rq->path, "/api/launch"))
            return api_launch(u, rq, r);
        if (!strncmp(rq->path, "/api/cancel/", 12))
            return api_cancel(u, rq, r);
        return send_error(r, 405, "POST only to /api/launch and /api/cancel/ID");
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
        return api_jobs(u, r);
    if (!strncmp(rq->path, "/files/", 7))
        return serve_file(u, rq, r);
    return send_error(r, 404, "not found");
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
