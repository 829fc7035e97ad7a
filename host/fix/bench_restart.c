/* bench_restart.c: `bourse bench restart`: how long `bourse serve` takes from
 * exec to listening, and its memory, on a state directory holding N open
 * orders, or N orders all cancelled, in a checkpointed journal (issue 15:
 * 2M open orders listening in under 3 s; 2M cancelled, none open, under 1 s
 * and 100 MB). The state is made once per case: a gateway in this process
 * enters the orders (and their cancels) as a live one would and checkpoints.
 * Then this binary's `serve` starts on it R times, each killed (SIGKILL, so
 * the state stays as it is) once its port file is written: per start the wall
 * time, CPU time and page faults up to listening and the peak RSS; each
 * start's log must say it restored the N open orders (or none). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/core.h"
#include "core/log.h"
#include "fix/app.h"

static int null_send(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return BRS_OK;
}

static void null_close(void *ctx)
{
    (void)ctx;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path) == 0 ? 0 : -1;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* One message through the gateway, as a session's order entry would. */
static int enter(brs__fix_gateway *g, brs__fix_session *s, brs__fix_msg *m, brs__fix_enc *e)
{
    size_t n = 0;
    const char *msg = brs__fix_enc_end(e, "FIX.4.4", &n);
    if (!msg || brs__fix_parse(m, msg, n) != BRS_OK)
        return BRS_E_STATE;
    brs__fix_gateway_on_app(g, s, m);
    return BRS_OK;
}

/* The state: N GTC buys of 1 on 500 levels (ClOrdID oK), each cancelled
 * (ClOrdID cK) when cancel, then a checkpoint. The session store is not kept
 * (the restart is about the order state). */
static int make_state(const char *journal, uint64_t n, int cancel, uint32_t max_orders, brs_error *err)
{
    brs__fix_gateway g;
    brs__fix_session *s = calloc(1, sizeof *s);
    brs__fix_msg *m = malloc(sizeof *m);
    if (!s || !m) {
        free(s);
        free(m);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    brs__fix_instr in = {"AAPL", 2, 1, 1};
    int rc = brs__fix_gateway_open(&g, &in, 1, max_orders, journal, BRS__FIX_FSYNC_NEVER, err);
    brs__fix_session_cfg cfg = {0};
    snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
    snprintf(cfg.target, sizeof cfg.target, "CLIENT1");
    int s_open = 0;
    if (rc == BRS_OK && (rc = brs__fix_session_open(s, &cfg, "/dev/null", 0, err)) == BRS_OK) {
        s_open = 1;
        rc = brs__fix_gateway_add_session(&g, s);
    }
    if (rc == BRS_OK) {
        brs__fix_msg_init(m);
        brs__fix_session_io io = {NULL, null_send, null_close};
        brs__fix_session_attach(s, &io, brs__realtime_ns());
        int64_t seq = 2;
        for (uint64_t k = 0; k < n && rc == BRS_OK; k++) {
            char buf[512], id[32], orig[32];
            brs__fix_enc e;
            brs__fix_enc_begin(&e, buf, sizeof buf, "D");
            brs__fix_enc_int(&e, 34, seq++);
            brs__fix_enc_str(&e, 49, "CLIENT1");
            brs__fix_enc_str(&e, 56, "EXEC");
            snprintf(id, sizeof id, "o%llu", (unsigned long long)k);
            brs__fix_enc_str(&e, 11, id);
            brs__fix_enc_int(&e, 38, 1);
            brs__fix_enc_char(&e, 40, '2');
            brs__fix_enc_decimal(&e, 44, 10000 - (int64_t)(k % 500), 2);
            brs__fix_enc_char(&e, 54, '1');
            brs__fix_enc_str(&e, 55, "AAPL");
            brs__fix_enc_char(&e, 59, '1');
            rc = enter(&g, s, m, &e);
            if (rc == BRS_OK && cancel) {
                brs__fix_enc_begin(&e, buf, sizeof buf, "F");
                brs__fix_enc_int(&e, 34, seq++);
                brs__fix_enc_str(&e, 49, "CLIENT1");
                brs__fix_enc_str(&e, 56, "EXEC");
                snprintf(orig, sizeof orig, "c%llu", (unsigned long long)k);
                brs__fix_enc_str(&e, 11, orig);
                brs__fix_enc_str(&e, 41, id);
                brs__fix_enc_char(&e, 54, '1');
                brs__fix_enc_str(&e, 55, "AAPL");
                rc = enter(&g, s, m, &e);
            }
            if ((k & 1023) == 1023) { /* a loop turn's commit */
                brs__fix_gateway_flush(&g);
                brs__fix_store_flush(&s->store);
            }
        }
        if (rc != BRS_OK)
            brs__err(err, rc, "cannot build an order message");
        uint64_t open = 0;
        if (rc == BRS_OK)
            rc = brs__fix_gateway_checkpoint(&g, err);
        for (uint64_t k = 0; rc == BRS_OK && k < g.n_orders; k++)
            open += g.orders[k].open;
        if (rc == BRS_OK && open != (cancel ? 0 : n))
            rc = brs__err(err, BRS_E_STATE, "the state holds %llu open orders, not %llu",
                          (unsigned long long)open, (unsigned long long)(cancel ? 0 : n));
    }
    brs__fix_gateway_close(&g);
    if (s_open)
        brs__fix_session_close(s);
    free(s);
    free(m);
    return rc;
}

typedef struct start_result {
    double wall_s, cpu_s, minflt, peak_rss_mb, rss_mb;
} start_result;

/* "KEY value" from /proc/PID/status, in kB; -1 if absent. */
static long status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            v = strtol(line + kl + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* utime + stime (s) and minor faults of PID so far; -1 on error. */
static int proc_stat(pid_t pid, double *cpu_s, double *minflt)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* after the command name, fields from 3 (state) on */
    if (!p)
        return -1;
    unsigned long long f[16] = {0};
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    char st;
    if (sscanf(p + 2, "%c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &st, &f[0], &f[1],
               &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11]) != 13)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *minflt = (double)f[6];
    *cpu_s = (double)(f[10] + f[11]) / hz;
    return 0;
}

/* One start of `serve` on cfg: exec to the port file written, then SIGKILL.
 * The log's recovery line must show want_open open orders. */
static int one_start(const char *exe, const char *dir, const char *cfg, uint64_t want_open, start_result *r,
                     brs_error *err)
{
    char pf[1200], logp[1200];
    snprintf(pf, sizeof pf, "%s/port", dir);
    snprintf(logp, sizeof logp, "%s/serve.log", dir);
    unlink(pf);
    int64_t t0 = brs__monotime_ns();
    pid_t pid = fork();
    if (pid < 0)
        return brs__err(err, BRS_E_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(exe, exe, "serve", cfg, "--set", "listen.port=0", "--port-file", pf, (char *)NULL);
        _exit(127);
    }
    struct timespec nap = {0, 500000};
    int status = 0, died = 0;
    while (file_size(pf) == 0) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            died = 1;
            break;
        }
        nanosleep(&nap, NULL);
    }
    r->wall_s = (double)(brs__monotime_ns() - t0) / 1e9;
    int rc = BRS_OK;
    if (died) {
        rc = brs__err(err, BRS_E_STATE, "bourse serve exited before listening (status %d): see %s", status, logp);
    } else {
        if (proc_stat(pid, &r->cpu_s, &r->minflt) != 0)
            rc = brs__err(err, BRS_E_IO, "cannot read /proc/%d/stat", (int)pid);
        r->peak_rss_mb = (double)status_kb(pid, "VmHWM") / 1024.0;
        r->rss_mb = (double)status_kb(pid, "VmRSS") / 1024.0;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (rc != BRS_OK)
        return rc;
    char *log = NULL;
    size_t len = 0;
    if (brs__read_file(logp, &log, &len, err) != BRS_OK)
        return BRS_E_IO;
    char want[64];
    snprintf(want, sizeof want, "orders_open=%llu ", (unsigned long long)want_open);
    if (!strstr(log, want))
        rc = brs__err(err, BRS_E_STATE, "the restart did not restore %llu open orders (no '%s' in %s)",
                      (unsigned long long)want_open, want, logp);
    free(log);
    return rc;
}

typedef struct case_result {
    uint64_t orders;
    int cancelled;
    uint64_t journal_bytes;
    double build_s;
    uint32_t runs;
    brs_stats wall, cpu, minflt, peak, rss;
} case_result;

static int run_case(const char *exe, uint64_t n, int cancel, uint32_t runs, case_result *cr, brs_error *err)
{
    char dir[] = "/tmp/bourse_bench_restart_XXXXXX";
    if (!mkdtemp(dir))
        return brs__err(err, BRS_E_IO, "mkdtemp: %s", strerror(errno));
    char state[128], journal[160], cfg[160];
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(journal, sizeof journal, "%s/orders.journal", state);
    snprintf(cfg, sizeof cfg, "%s/serve.json", dir);
    uint32_t max_orders = 1024;
    while (max_orders < 2 * n && max_orders < (1u << 30))
        max_orders *= 2;
    int rc = mkdir(state, 0755) == 0 ? BRS_OK : brs__err(err, BRS_E_IO, "mkdir %s: %s", state, strerror(errno));
    int64_t t0 = brs__monotime_ns();
    if (rc == BRS_OK)
        rc = make_state(journal, n, cancel, max_orders, err);
    cr->build_s = (double)(brs__monotime_ns() - t0) / 1e9;
    cr->orders = n;
    cr->cancelled = cancel;
    cr->runs = runs;
    cr->journal_bytes = file_size(journal);
    if (rc == BRS_OK) {
        char text[1024];
        int k = snprintf(text, sizeof text,
                         "{\"listen\": {\"host\": \"127.0.0.1\", \"port\": 0}, \"state_dir\": \"%s\",\n"
                         " \"fsync\": \"never\", \"sender_comp_id\": \"EXEC\", \"max_orders\": %u,\n"
                         " \"sessions\": [{\"target_comp_id\": \"CLIENT1\"}],\n"
                         " \"instruments\": [{\"symbol\": \"AAPL\", \"decimals\": 2, \"tick_size\": 1, "
                         "\"lot_size\": 1}]}\n",
                         state, max_orders);
        rc = brs__atomic_write(cfg, text, (size_t)k, err);
    }
    double *v = calloc((size_t)runs * 5, sizeof *v);
    if (rc == BRS_OK && !v)
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; rc == BRS_OK && i < runs; i++) {
        start_result r = {0};
        rc = one_start(exe, dir, cfg, cancel ? 0 : n, &r, err);
        v[i] = r.wall_s;
        v[runs + i] = r.cpu_s;
        v[2 * runs + i] = r.minflt;
        v[3 * runs + i] = r.peak_rss_mb;
        v[4 * runs + i] = r.rss_mb;
    }
    if (rc == BRS_OK) {
        brs__stats_compute(v, runs, &cr->wall);
        brs__stats_compute(v + runs, runs, &cr->cpu);
        brs__stats_compute(v + 2 * runs, runs, &cr->minflt);
        brs__stats_compute(v + 3 * runs, runs, &cr->peak);
        brs__stats_compute(v + 4 * runs, runs, &cr->rss);
    }
    free(v);
    /* the state directory and what the starts left in it */
    if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bourse bench restart: could not remove %s\n", dir);
    return rc;
}

static cJSON *stats_json(const brs_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "median", s->p50);
    cJSON_AddNumberToObject(o, "p90", s->p90);
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "max", s->max);
    return o;
}

int brs__bench_restart(int argc, char **argv)
{
    if (brs__log_min_level == BRS_LOG_INFO) /* the state's gateway: for an operator, not here */
        brs__log_min_level = BRS_LOG_WARN;
    int json = 0, which = 3;
    uint64_t n = 2000000;
    uint32_t runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench restart [--json] [--orders N] [--runs R] [--case open|cancelled|both]\n\n"
                   "Time from exec to listening of `bourse serve` on a checkpointed state holding\n"
                   "N open orders (case open) or N orders all cancelled (case cancelled); default\n"
                   "N 2000000, both cases, 5 starts each. The state is made once per case in this\n"
                   "process; each start is killed once listening. Per case: median, p90, min and\n"
                   "max of the wall time, the CPU time (user + system) and the page faults up to\n"
                   "listening, and the peak RSS (VmHWM) and RSS there.\n");
            return BRS_EXIT_OK;
        } else if (strcmp(argv[i], "--orders") == 0 && i + 1 < argc) {
            char *end;
            n = strtoull(argv[++i], &end, 10);
            if (*end || argv[i][0] == '-' || n == 0 || n > 100000000)
                return brs__usage_error("bench restart", "--orders '%s': expected 1 to 100000000", argv[i]);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            char *end;
            unsigned long r = strtoul(argv[++i], &end, 10);
            if (*end || argv[i][0] == '-' || r == 0 || r > 1000)
                return brs__usage_error("bench restart", "--runs '%s': expected 1 to 1000", argv[i]);
            runs = (uint32_t)r;
        } else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
            i++;
            which = strcmp(argv[i], "open") == 0        ? 1
                    : strcmp(argv[i], "cancelled") == 0 ? 2
                    : strcmp(argv[i], "both") == 0      ? 3
                                                        : 0;
            if (!which)
                return brs__usage_error("bench restart", "--case '%s': expected open, cancelled or both", argv[i]);
        } else {
            return brs__usage_error("bench restart", "unknown option '%s'", argv[i]);
        }
    }
    char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0)
        return brs__fail("bench restart", "cannot find this binary (/proc/self/exe)");
    exe[el] = 0;
    case_result cr[2];
    memset(cr, 0, sizeof cr);
    int nc = 0;
    for (int c = 0; c < 2; c++) {
        if (!(which & (1 << c)))
            continue;
        brs_error err = {0};
        if (run_case(exe, n, c, runs, &cr[nc], &err) != BRS_OK)
            return brs__fail("bench restart", "%s case: %s", c ? "cancelled" : "open", err.msg);
        nc++;
    }
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "cases");
        for (int c = 0; c < nc; c++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "orders", (double)cr[c].orders);
            cJSON_AddBoolToObject(x, "cancelled", cr[c].cancelled);
            cJSON_AddNumberToObject(x, "runs", cr[c].runs);
            cJSON_AddNumberToObject(x, "journal_bytes", (double)cr[c].journal_bytes);
            cJSON_AddNumberToObject(x, "state_build_s", cr[c].build_s);
            cJSON_AddItemToObject(x, "listen_s", stats_json(&cr[c].wall));
            cJSON_AddItemToObject(x, "cpu_s", stats_json(&cr[c].cpu));
            cJSON_AddItemToObject(x, "page_faults", stats_json(&cr[c].minflt));
            cJSON_AddItemToObject(x, "peak_rss_mb", stats_json(&cr[c].peak));
            cJSON_AddItemToObject(x, "rss_mb", stats_json(&cr[c].rss));
            cJSON_AddItemToArray(a, x);
        }
        brs__bench_json(o, json);
    }
    if (!json)
        for (int c = 0; c < nc; c++) {
            const case_result *r = &cr[c];
            printf("restart of bourse serve, %llu orders %s (journal %.1f MB, state made in %.1f s), %u starts:\n",
                   (unsigned long long)r->orders, r->cancelled ? "all cancelled" : "open",
                   (double)r->journal_bytes / 1e6, r->build_s, r->runs);
            printf("  exec to listening  median %.3f s  p90 %.3f  min %.3f  max %.3f\n", r->wall.p50, r->wall.p90,
                   r->wall.min, r->wall.max);
            printf("  CPU to listening   median %.3f s  p90 %.3f  min %.3f  max %.3f\n", r->cpu.p50, r->cpu.p90,
                   r->cpu.min, r->cpu.max);
            printf("  page faults        median %.0f  min %.0f  max %.0f\n", r->minflt.p50, r->minflt.min,
                   r->minflt.max);
            printf("  peak RSS           median %.1f MB  max %.1f MB; RSS at listening %.1f MB\n", r->peak.p50,
                   r->peak.max, r->rss.p50);
        }
    return BRS_EXIT_OK;
}
