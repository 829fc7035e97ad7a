/* ui_internal.h: what ui.c (`bourse ui`: listing runs, serving files,
 * routing, the command) and ui_jobs.c (launching backtests and sweeps as
 * child processes, following and cancelling them) share. */
#ifndef BRS_UI_INTERNAL_H
#define BRS_UI_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "ops/http.h"

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

/* rel (from a client) as an absolute path inside root that exists; 0 on success. */
int brs__ui_inside(const ui *u, const char *rel, char *abs, size_t cap);
const char *brs__ui_rel_of(const ui *u, const char *abs);
int brs__ui_send_json(brs__http_resp *r, cJSON *j, int status);
int brs__ui_send_error(brs__http_resp *r, int status, const char *msg);
cJSON *brs__ui_read_json(const char *path);
int brs__ui_ends_with(const char *s, const char *suf);

/* ui_jobs.c: POST /api/launch, GET /api/jobs, POST /api/cancel/ID. */
int brs__ui_api_launch(ui *u, const brs__http_req *rq, brs__http_resp *r);
int brs__ui_api_jobs(ui *u, brs__http_resp *r);
int brs__ui_api_cancel(ui *u, const brs__http_req *rq, brs__http_resp *r);

#endif
