/* ui_jobs.c: the launching half of `bourse ui`: a backtest or sweep from a
 * config under the dashboard's folder, with edited parameters, run as a child
 * `bourse` process confined to that folder (outputs in DIR/ui-runs/), its
 * progress read from its log, and its cancel. */
#include <ctype.h>
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

#include "core/core.h"
#include "core/log.h"
#include "ops/ui_internal.h"

extern char **environ;

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
    cJSON *c = brs__ui_read_json(cfg_abs);
    cJSON *f = c ? cJSON_GetObjectItem(cJSON_GetObjectItem(c, "strategy"), "file") : NULL;
    int ok = 1;
    if (cJSON_IsString(f) && (strchr(f->valuestring, '/') || brs__ui_ends_with(f->valuestring, ".lua") ||
                              brs__ui_ends_with(f->valuestring, ".so"))) {
        char abs[PATH_MAX];
        if (brs__ui_inside(u, f->valuestring, abs, sizeof abs)) {
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

int brs__ui_api_launch(ui *u, const brs__http_req *rq, brs__http_resp *r)
{
    if (!strstr(rq->content_type, "application/json"))
        return brs__ui_send_error(r, 415, "launch takes application/json");
    cJSON *b = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        return brs__ui_send_error(r, 400, "launch body must be a JSON object");
    }
    const cJSON *kind = cJSON_GetObjectItem(b, "kind"), *cfg = cJSON_GetObjectItem(b, "config");
    const cJSON *params = cJSON_GetObjectItem(b, "params"), *grid = cJSON_GetObjectItem(b, "grid");
    char why[512] = "", cfg_abs[PATH_MAX];
    int is_sweep = cJSON_IsString(kind) && !strcmp(kind->valuestring, "sweep");
    if (!cJSON_IsString(kind) || (!is_sweep && strcmp(kind->valuestring, "backtest") != 0))
        snprintf(why, sizeof why, "kind must be \"backtest\" or \"sweep\"");
    else if (!cJSON_IsString(cfg) || !brs__ui_ends_with(cfg->valuestring, ".json") ||
             brs__ui_inside(u, cfg->valuestring, cfg_abs, sizeof cfg_abs))
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
        return brs__ui_send_error(r, 400, why);
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
            return brs__ui_send_error(r, 503, "too many jobs");
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
        return brs__ui_send_error(r, 500, strerror(rc));
    }
    j->started_ns = brs__realtime_ns();
    u->n_jobs++;
    BRS_LOG(BRS_LOG_INFO, "ui", "job started", BRS_KV_I("job", j->id), BRS_KV_S("kind", j->kind),
            BRS_KV_S("config", brs__ui_rel_of(u, cfg_abs)), BRS_KV_S("out", j->out), BRS_KV_I("pid", j->pid),
            BRS_KV_S("peer", rq->peer));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", j->id);
    cJSON_AddStringToObject(o, "out", j->out);
    pthread_mutex_unlock(&u->mu);
    return brs__ui_send_json(r, o, 200);
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

int brs__ui_api_jobs(ui *u, brs__http_resp *r)
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
        cJSON_AddStringToObject(o, "log", brs__ui_rel_of(u, j->log));
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
    return brs__ui_send_json(r, j, 200);
}

int brs__ui_api_cancel(ui *u, const brs__http_req *rq, brs__http_resp *r)
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
    return brs__ui_send_json(r, o, found ? 200 : 404);
}
