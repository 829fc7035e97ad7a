/* sweep_exec.c: runs a sweep's combinations inside worker processes. The
 * parent loads the bars once and forks --jobs workers, which share them
 * (copy-on-write) and claim combinations one at a time from a counter in
 * shared memory; each result lands in its own slot of a shared array, so the
 * results do not depend on which worker ran what (same bytes for any --jobs).
 * A worker that dies (a crashing strategy) fails its one combination and is
 * replaced. SIGINT/SIGTERM: workers finish the combination in hand and stop,
 * the parent reports what finished (sweep.c writes it, marked incomplete). */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "sweep.h"

volatile sig_atomic_t brs__sweep_interrupted;
static struct sigaction old_int, old_term;

static void on_signal(int sig) { brs__sweep_interrupted = sig; }

void brs__sweep_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void brs__sweep_signals_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int brs__sweep_preload(const brs_config *base, brs__bt_bars *b, brs_error *err)
{
    memset(b, 0, sizeof *b);
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(base->root, "mode");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(base->root, "data");
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(base->root, "symbol");
    if (!cJSON_IsString(mode) || strcmp(mode->valuestring, "signal") || !cJSON_IsString(data))
        return BRS_OK; /* book mode, or a config the first run will report on */
    int rc = brs__bt_bars_load(b, data->valuestring, cJSON_IsString(sym) ? sym->valuestring : NULL, err);
    if (rc)
        brs__err_prefix(err, "%s: data", base->source);
    return rc;
}

void brs__sweep_run_one(const brs__sweep_job *job, uint64_t id, brs__sweep_result *r)
{
    r->id = id;
    for (int m = 0; m < BRS__SWEEP_N_METRICS; m++)
        r->metric[m] = NAN;
    r->error[0] = 0;
    brs_error err = {0};
    brs_config cfg = {.root = cJSON_Duplicate(job->base->root, 1), .source = strdup(job->base->source)};
    int rc = (!cfg.root || !cfg.source) ? brs__err(&err, BRS_E_NOMEM, "out of memory") : BRS_OK;
    int idx[BRS__SWEEP_MAX_AXES];
    brs__sweep_decode(job->g, id, idx);
    for (int i = 0; i < job->g->n_ax && !rc; i++) {
        char kv[1024];
        snprintf(kv, sizeof kv, "%s=%s", job->g->ax[i].key, job->g->ax[i].values[idx[i]]);
        rc = brs__config_set(&cfg, kv, &err);
    }
    char dir[4200];
    if (job->keep_dir) {
        char name[2048];
        brs__sweep_name(job->g, id, name, sizeof name);
        snprintf(dir, sizeof dir, "%s/%s", job->keep_dir, name);
    }
    brs__bt_run_opts ro = {.bars = job->bars, .no_write = !job->keep_dir, .headline_only = 1,
                           .resolved = job->resolved};
    brs__bt_result res;
    brs_an_metrics met;
    if (!rc)
        rc = brs__bt_run_config_ex(&cfg, job->keep_dir ? dir : NULL, 0, &ro, &res, &met, NULL, 0, &err);
    brs__config_free(&cfg);
    if (rc) {
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        r->state = BRS__SWEEP_FAILED;
    } else if (res.failed) {
        snprintf(r->error, sizeof r->error, "%s", res.error);
        r->state = BRS__SWEEP_FAILED;
    } else {
        for (int m = 0; m < BRS__SWEEP_N_METRICS; m++)
            brs__an_metric_get(&met, brs__sweep_metrics[m], &r->metric[m], NULL);
        r->state = BRS__SWEEP_OK;
    }
}

/* What the parent and its workers share. */
typedef struct shared {
    uint64_t next;      /* the next combination to claim (atomic) */
    int stop;           /* the parent says: stop after the one in hand (atomic) */
    int64_t cur[256];   /* per worker: the combination in hand, -1 none */
} shared;

static void worker(const brs__sweep_job *job_in, shared *sh, int w, brs__sweep_result *r, uint64_t n)
{
    static brs__bt_resolved resolved; /* this worker process's */
    brs__sweep_job jw = *job_in;
    jw.resolved = &resolved;
    const brs__sweep_job *job = &jw;
    /* Every combination allocates and frees the same few MB (the strategy
     * context's rings, the recorder's series). glibc would hand the top of the
     * heap back to the kernel after each one (and serve the large blocks with
     * mmap/munmap), so the next combination faulted every page in again: a
     * third of a C combination's time. The worker keeps its heap instead. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    for (;;) {
        if (brs__sweep_interrupted || __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
            break;
        uint64_t k = __atomic_fetch_add(&sh->next, 1, __ATOMIC_ACQ_REL);
        if (k >= n)
            break;
        __atomic_store_n(&sh->cur[w], (int64_t)k, __ATOMIC_RELEASE);
        brs__sweep_result tmp;
        brs__sweep_run_one(job, r[k].id, &tmp);
        /* a run cut short by the interrupt is not a result */
        if (tmp.state == BRS__SWEEP_FAILED &&
            (brs__sweep_interrupted || __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)))
            break;
        int32_t st = tmp.state;
        tmp.state = BRS__SWEEP_NOT_RUN;
        r[k] = tmp;
        __atomic_store_n(&r[k].state, st, __ATOMIC_RELEASE);
        __atomic_store_n(&sh->cur[w], -1, __ATOMIC_RELEASE);
    }
    fflush(NULL);
    _exit(0);
}

static pid_t start_worker(const brs__sweep_job *job, shared *sh, int w, brs__sweep_result *r, uint64_t n)
{
    fflush(NULL);
    sh->cur[w] = -1;
    pid_t pid = fork();
    if (pid == 0)
        worker(job, sh, w, r, n);
    return pid;
}

static uint64_t count_done(const brs__sweep_result *r, uint64_t n)
{
    uint64_t d = 0;
    for (uint64_t k = 0; k < n; k++)
        d += __atomic_load_n(&r[k].state, __ATOMIC_ACQUIRE) != BRS__SWEEP_NOT_RUN;
    return d;
}

int brs__sweep_exec(const brs__sweep_job *job, brs__sweep_result *res, uint64_t n, brs_error *err)
{
    if (n == 0)
        return BRS_OK;
    int jobs = job->jobs < 1 ? 1 : job->jobs > 256 ? 256 : job->jobs;
    if ((uint64_t)jobs > n)
        jobs = (int)n;
    size_t bytes = sizeof(shared) + n * sizeof(brs__sweep_result);
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return brs__err(err, BRS_E_NOMEM, "sweep: cannot map %zu bytes of shared memory: %s", bytes,
                        strerror(errno));
    shared *sh = mem;
    brs__sweep_result *r = (brs__sweep_result *)(sh + 1);
    memcpy(r, res, n * sizeof *r);
    pid_t pids[256];
    int alive = 0, rc = BRS_OK;
    for (int w = 0; w < jobs; w++) {
        pids[w] = start_worker(job, sh, w, r, n);
        if (pids[w] < 0) {
            rc = brs__err(err, BRS_E_IO, "sweep: fork: %s", strerror(errno));
            __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
            break;
        }
        alive++;
    }
    brs_progress pr;
    brs__progress_start(&pr, "sweep", n);
    while (alive > 0) {
        if (brs__sweep_interrupted)
            __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid == 0) {
            if (job->progress)
                brs__progress_update(&pr, count_done(r, n));
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int w = 0;
        while (w < jobs && pids[w] != pid)
            w++;
        if (w == jobs)
            continue;
        pids[w] = -1;
        alive--;
        int64_t k = __atomic_load_n(&sh->cur[w], __ATOMIC_ACQUIRE);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && k >= 0 &&
            __atomic_load_n(&r[k].state, __ATOMIC_ACQUIRE) == BRS__SWEEP_NOT_RUN) {
            /* the worker died inside this combination: it fails, alone */
            if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGINT || WTERMSIG(st) == SIGTERM))
                continue; /* killed from outside: not the combination's fault */
            for (int m = 0; m < BRS__SWEEP_N_METRICS; m++)
                r[k].metric[m] = NAN;
            if (WIFSIGNALED(st))
                snprintf(r[k].error, sizeof r[k].error, "the run's worker process died (signal %d)",
                         WTERMSIG(st));
            else
                snprintf(r[k].error, sizeof r[k].error, "the run's worker process exited with %d",
                         WEXITSTATUS(st));
            __atomic_store_n(&r[k].state, BRS__SWEEP_FAILED, __ATOMIC_RELEASE);
            if (!brs__sweep_interrupted && __atomic_load_n(&sh->next, __ATOMIC_ACQUIRE) < n) {
                pids[w] = start_worker(job, sh, w, r, n);
                if (pids[w] > 0)
                    alive++;
            }
        }
    }
    brs__progress_update(&pr, count_done(r, n));
    brs__progress_finish(&pr);
    memcpy(res, r, n * sizeof *r);
    munmap(mem, bytes);
    if (!rc && count_done(res, n) < n)
        rc = BRS__SWEEP_E_INTR;
    return rc;
}
