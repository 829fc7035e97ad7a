/* bench_sweep.c: `bourse bench sweep [--json]`: the parameter-search workload
 * vectorbt headlines (4,851 moving-average crossover combinations, windows
 * 2..100 with fast < slow, over Bitcoin's daily history, "under 5 seconds"),
 * run by `bourse sweep` end to end (workers, every combination a full signal
 * backtest with costs and metrics, the results table written) with the C
 * ma_cross plugin and with strategies-lua/ma_cross.lua, on a generated
 * 3,000-bar BTC-USD-style daily series. Reports combinations/s, wall time and
 * CPU time (medians of --runs), and the disk use of a sweep with the default
 * --keep-runs. Timings are reported, never asserted. */
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "sweep.h"

#define BARS 3000

/* A BTC-USD-like daily series: geometric random walk, 3.7% daily volatility and
 * a drift that takes 400 to about 50,000 over 3,000 days (seeded; no data file
 * needs shipping). */
static int write_bars(const char *path, brs_error *err)
{
    brs_atomic_file af;
    int rc = brs__atomic_open(&af, path, err);
    if (rc)
        return rc;
    fputs("Date,Open,High,Low,Close,Adj Close,Volume\n", af.fp);
    uint64_t s = 20141001;
    double p = 400, spare = NAN;
    long day = 16344; /* 2014-10-01 in days since the epoch */
    for (int i = 0; i < BARS; i++, day++) {
        double z;
        if (!isnan(spare)) {
            z = spare;
            spare = NAN;
        } else { /* Box-Muller from a 64-bit LCG */
            double u1, u2;
            s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
            u1 = ((double)(s >> 11) + 1) / 9007199254740993.0;
            s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
            u2 = (double)(s >> 11) / 9007199254740992.0;
            z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
            spare = sqrt(-2 * log(u1)) * sin(2 * M_PI * u2);
        }
        double o = p;
        p = p * exp(0.0016 + 0.037 * z);
        double hi = fmax(o, p) * 1.01, lo = fmin(o, p) * 0.99;
        time_t t = (time_t)day * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        fprintf(af.fp, "%04d-%02d-%02d,%.2f,%.2f,%.2f,%.2f,%.2f,%d\n", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, o, hi, lo, p, p, 1000000 + (int)(s >> 44));
    }
    return brs__atomic_commit(&af, err);
}

static int find_lua(char *out, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    const char *cands[] = {"strategies-lua/ma_cross.lua", "%s/../strategies-lua/ma_cross.lua",
                           "%s/../share/bourse/strategies-lua/ma_cross.lua"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        snprintf(out, cap, cands[i], exe);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

static uint64_t du_bytes;
static int du_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)p, (void)flag, (void)f;
    du_bytes += (uint64_t)st->st_blocks * 512;
    return 0;
}

/* CPU time of this process and its reaped children (the workers), user + system */
static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)f;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static double cpu_children(void)
{
    double t = 0;
    int who[2] = {RUSAGE_SELF, RUSAGE_CHILDREN};
    for (int i = 0; i < 2; i++) {
        struct rusage ru;
        getrusage(who[i], &ru);
        t += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    }
    return t;
}

/* One sweep of the grid; wall and CPU (workers) seconds. */
static int sweep_once(const char *cfg, const char *out, const char *keep, const char *jobs,
                      double *wall, double *cpu)
{
    char *argv[] = {(char *)"sweep", (char *)cfg, (char *)"--grid", (char *)"fast=2:100",
                    (char *)"--grid", (char *)"slow=2:100", (char *)"--where", (char *)"fast < slow",
                    (char *)"--keep-runs", (char *)keep, (char *)"--jobs", (char *)jobs,
                    (char *)"--out", (char *)out, NULL};
    double c0 = cpu_children();
    int64_t t0 = brs__monotime_ns();
    int rc = brs__cmd_sweep_argv(14, argv, 1);
    *wall = (double)(brs__monotime_ns() - t0) * 1e-9;
    *cpu = cpu_children() - c0;
    return rc;
}

int brs__bench_sweep(int argc, char **argv)
{
    int json = 0;
    long runs = 3, jobs = sysconf(_SC_NPROCESSORS_ONLN);
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (brs__is_help(a)) {
            printf("usage: bourse bench sweep [--runs N] [--jobs N] [--dir DIR] [--json]\n\n"
                   "The MA-crossover grid (windows 2..100, fast < slow: 4,851 combinations) over a\n"
                   "generated 3,000-bar BTC-USD-style daily series, with the C ma_cross plugin\n"
                   "and strategies-lua/ma_cross.lua, through `bourse sweep` (--jobs workers,\n"
                   "default the number of CPUs). Medians of --runs (default 3); the disk use of\n"
                   "one sweep with the default --keep-runs top:10. vectorbt's published figure\n"
                   "for the same grid is 4,851 combinations in under 5 s.\n");
            return BRS_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if ((!strcmp(a, "--runs") || !strcmp(a, "--jobs")) && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 256)
                return brs__usage_error("bench sweep", "%s '%s': expected 1..256", a, argv[i]);
            *(!strcmp(a, "--runs") ? &runs : &jobs) = v;
        } else if (!strcmp(a, "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            return brs__usage_error("bench sweep", "unknown option or missing value '%s'", a);
        }
    }
    char tmpl[] = "/tmp/bourse-bench-sweep-XXXXXX";
    int own_dir = !dir;
    if (!dir && !(dir = mkdtemp(tmpl)))
        return brs__fail("bench sweep", "cannot make a temp dir");
    brs_error err = {0};
    char bars[1200], cfg_c[1200], cfg_l[1200], lua[4096], out[1200], js[8192];
    snprintf(bars, sizeof bars, "%s/btc-usd-daily.csv", dir);
    snprintf(cfg_c, sizeof cfg_c, "%s/ma_cross_c.json", dir);
    snprintf(cfg_l, sizeof cfg_l, "%s/ma_cross_lua.json", dir);
    if (brs__mkdirs(dir, &err) || write_bars(bars, &err))
        return brs__fail("bench sweep", "%s", err.msg);
    if (find_lua(lua, sizeof lua))
        return brs__fail("bench sweep", "strategies-lua/ma_cross.lua not found (run from the source tree)");
    const char *cfgs[2] = {cfg_c, cfg_l}, *strat[2] = {"ma_cross", lua};
    for (int k = 0; k < 2; k++) {
        snprintf(js, sizeof js, "{\"mode\": \"signal\", \"data\": \"%s\", \"symbol\": \"BTC-USD\", "
                                "\"periods_per_year\": 365, \"strategy\": {\"file\": \"%s\"}}",
                 bars, strat[k]);
        if (brs__atomic_write(cfgs[k], js, strlen(js), &err))
            return brs__fail("bench sweep", "%s", err.msg);
    }
    char jobs_s[16];
    snprintf(jobs_s, sizeof jobs_s, "%ld", jobs);
    double wall[2], cpu[2];
    for (int k = 0; k < 2; k++) {
        double *w = calloc((size_t)runs, sizeof *w), *c = calloc((size_t)runs, sizeof *c);
        if (!w || !c)
            return brs__fail("bench sweep", "out of memory");
        snprintf(out, sizeof out, "%s/sweep-%s", dir, k ? "lua" : "c");
        for (long r = 0; r < runs; r++)
            if (sweep_once(cfgs[k], out, "none", jobs_s, &w[r], &c[r]))
                return brs__fail("bench sweep", "the %s sweep failed", k ? "Lua" : "C");
        wall[k] = brs__median(w, (size_t)runs);
        cpu[k] = brs__median(c, (size_t)runs);
        free(w);
        free(c);
    }
    /* disk use with the defaults (the best 10 runs get their run directory) */
    snprintf(out, sizeof out, "%s/sweep-defaults", dir);
    double dw, dc;
    if (sweep_once(cfg_l, out, "top:10", jobs_s, &dw, &dc))
        return brs__fail("bench sweep", "the sweep with defaults failed");
    du_bytes = 0;
    nftw(out, du_one, 16, FTW_PHYS);
    if (own_dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    const double n = 4851;
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "combinations", n);
        cJSON_AddNumberToObject(o, "bars", BARS);
        cJSON_AddNumberToObject(o, "jobs", (double)jobs);
        cJSON_AddNumberToObject(o, "runs", (double)runs);
        cJSON_AddNumberToObject(o, "c_wall_s", wall[0]);
        cJSON_AddNumberToObject(o, "c_cpu_s", cpu[0]);
        cJSON_AddNumberToObject(o, "c_combinations_per_s", n / wall[0]);
        cJSON_AddNumberToObject(o, "lua_wall_s", wall[1]);
        cJSON_AddNumberToObject(o, "lua_cpu_s", cpu[1]);
        cJSON_AddNumberToObject(o, "lua_combinations_per_s", n / wall[1]);
        cJSON_AddNumberToObject(o, "disk_bytes_default", (double)du_bytes);
        cJSON_AddNumberToObject(o, "vectorbt_published_s", 5);
        if (brs__bench_json(o, json))
            return BRS_EXIT_FAIL;
    }
    if (!json) {
        printf("sweep: MA crossover, windows 2..100, fast < slow: %.0f combinations x %d bars, %ld workers\n",
               n, BARS, jobs);
        printf("  %-22s %10s %12s %14s\n", "strategy", "wall s", "cpu s", "combinations/s");
        printf("  %-22s %10.3f %12.3f %14.0f\n", "C (ma_cross.so)", wall[0], cpu[0], n / wall[0]);
        printf("  %-22s %10.3f %12.3f %14.0f\n", "Lua (ma_cross.lua)", wall[1], cpu[1], n / wall[1]);
        printf("  %-22s %10s %12s %14.0f\n", "vectorbt (published)", "< 5", "", n / 5);
        printf("  disk, defaults (--keep-runs top:10): %.1f MB\n", (double)du_bytes / 1e6);
        printf("(medians of %ld runs, wall time end to end; cpu = user+system time of the sweep and its workers;\n"
               " the machine may be shared)\n", runs);
    }
    return BRS_EXIT_OK;
}
