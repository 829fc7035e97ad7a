/* bench_backtest.c: `bourse bench backtest [--json]`: end-to-end backtest
 * throughput from .ticks.zst files on disk (opening, decompression, loading,
 * strategy start, the loop and stop; not the run-directory write):
 *  - book mode, events/s: a generated L3 file through the C noop strategy and
 *    through a Lua strategy on top-of-book events (no venue: market data only);
 *  - signal mode, bars/s: a file of one-minute bars with the vectorized C
 *    strategy sig_momentum (targets precomputed at start) and with a per-bar
 *    Lua callback setting a target;
 * each beside its references measured in the same run, alternated run by run
 * with it: for the L3 file the decode-only replay (`bench replay`'s: decode
 * every event to a no-op consumer) and plain `zstd -dc` of its records; for
 * the bar file its decode-only replay, `zstd -dc` of its bars as 64-byte
 * records (the layout of format version 1) and of the file's own frames.
 * Medians of --runs runs; ratios are medians of the runs' own ratios.
 * Timings are reported, never asserted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backtest.h"
#include "bench/bench.h"
#include "cli/cli.h"
#include "ticks/gen.h"
#include "ticks/tickfile.h"
#include "ticks/ticks_cli.h"

static int write_text(const char *path, const char *text, brs_error *err)
{
    return brs__atomic_write(path, text, strlen(text), err);
}

/* One run of a JSON config; *rate = events / end-to-end seconds, *cpu_rate =
 * events / CPU seconds of the process over the same span (all threads): on a
 * shared machine the second says what the code does when it gets the CPU. */
static int run_once(const char *json, const char *out, double *rate, double *cpu_rate,
                    brs_error *err)
{
    brs_config cfg;
    int rc = brs__config_parse(&cfg, json, "bench backtest", err);
    if (rc)
        return rc;
    brs__bt_result res;
    brs_an_metrics m;
    rc = brs__bt_run_config(&cfg, out, 0, &res, &m, NULL, 0, err);
    brs__config_free(&cfg);
    if (!rc && res.failed)
        rc = brs__err(err, BRS_E_SCRIPT, "%s", res.error);
    if (!rc) {
        *rate = res.total_seconds > 0 ? (double)res.events / res.total_seconds : 0;
        *cpu_rate = res.total_cpu_seconds > 0 ? (double)res.events / res.total_cpu_seconds : 0;
    }
    return rc;
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Decode-only replay of path (read-ahead thread, as book mode): events per
 * second of wall clock and per CPU second of the process (both threads; as
 * the backtests' own *_per_cpu_sec, which on a loaded machine is the fair
 * comparison: a short replay may run in one time slice, a whole run cannot). */
static int decode_rate(const char *path, double *rate, double *cpu_rate, brs_error *err)
{
    uint64_t n = 0;
    int64_t ns = 0;
    double c0 = cpu_seconds();
    int rc = brs__replay_time(path, 1, &n, &ns, err);
    double cpu = cpu_seconds() - c0;
    *rate = !rc && ns > 0 ? (double)n / ((double)ns * 1e-9) : NAN;
    *cpu_rate = !rc && cpu > 0 ? (double)n / cpu : NAN;
    return rc;
}

/* `zstd -dc` of zst holding `events` records: events/s, NaN when it failed. */
static double zstd_rate(const char *zst, uint64_t events)
{
    int64_t ns = zst[0] ? brs__zstd_dc_ns(zst) : -1;
    return ns > 0 ? (double)events / ((double)ns * 1e-9) : NAN;
}

/* The file's own zstd frames (all blocks, concatenated: a valid .zst stream)
 * into out: what plain zstd does on the very bytes the file stores. */
static int write_frames(const char *path, const char *out, uint64_t *events)
{
    brs_tick_reader r;
    brs_error err = {0};
    if (brs__tick_open(&r, path, &err))
        return -1;
    FILE *f = fopen(out, "wb");
    int ok = f != NULL;
    unsigned char *buf = NULL;
    for (uint32_t i = 0; ok && i < r.n_blocks; i++) {
        const brs_tick_block_info *b = &r.blocks[i];
        unsigned char *nb = realloc(buf, b->csize);
        ok = nb && pread(r.fd, nb, b->csize, (off_t)(b->offset + BRS_TICK_BLOCK_HDR_SIZE)) == (ssize_t)b->csize;
        buf = nb ? nb : buf;
        ok = ok && fwrite(buf, 1, b->csize, f) == b->csize;
    }
    if (f && fclose(f))
        ok = 0;
    free(buf);
    *events = r.n_events;
    brs__tick_close(&r);
    return ok ? 0 : -1;
}

static void remove_dir(const char *dir, const char *keep)
{
    char rm[1200];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (!keep && system(rm) != 0)
        fprintf(stderr, "bench backtest: could not remove %s\n", dir);
}

/* The figures, one sample per run each. */
enum {
    F_C, F_C_CPU, F_LUA, F_LUA_CPU, F_SIG, F_SIG_CPU, F_LBAR, F_LBAR_CPU,
    F_DEC, F_DEC_CPU, F_ZSTD, F_BDEC, F_BDEC_CPU, F_BZREC, F_BZFILE,
    R_C_DEC, R_C_DEC_CPU, R_C_ZSTD, R_LUA_DEC, R_LUA_DEC_CPU, R_DEC_ZSTD, R_SIG_BDEC, R_SIG_BDEC_CPU,
    R_SIG_BZFILE, R_BDEC_BZFILE,
    F_COUNT_
};

static const char *const fig_key[F_COUNT_] = {
    "c_events_per_sec", "c_events_per_cpu_sec", "lua_events_per_sec", "lua_events_per_cpu_sec",
    "signal_bars_per_sec", "signal_bars_per_cpu_sec", "lua_bars_per_sec", "lua_bars_per_cpu_sec",
    "decode_events_per_sec", "decode_events_per_cpu_sec", "zstd_dc_events_per_sec",
    "bars_decode_per_sec", "bars_decode_per_cpu_sec", "bars_zstd_dc_records_per_sec",
    "bars_zstd_dc_file_per_sec",
    "c_vs_decode", "c_vs_decode_cpu", "c_vs_zstd_dc", "lua_vs_decode", "lua_vs_decode_cpu",
    "decode_vs_zstd_dc", "signal_vs_bars_decode", "signal_vs_bars_decode_cpu",
    "signal_vs_bars_zstd_dc_file", "bars_decode_vs_zstd_dc_file",
};

/* Median, min and max of the finite samples; NaN when there are none. */
static void stats(const double *s, uint64_t n, double *med, double *lo, double *hi)
{
    double *t = malloc((n ? n : 1) * sizeof *t);
    uint64_t k = 0;
    for (uint64_t i = 0; t && i < n; i++)
        if (isfinite(s[i]))
            t[k++] = s[i];
    *med = *lo = *hi = NAN;
    if (k) {
        *med = brs__median(t, k);
        *lo = *hi = t[0];
        for (uint64_t i = 1; i < k; i++) {
            *lo = t[i] < *lo ? t[i] : *lo;
            *hi = t[i] > *hi ? t[i] : *hi;
        }
    }
    free(t);
}

/* --metrics-ab N: what metrics cost (issue 18, docs/performance.md). The four
 * backtests, each run with metrics off and on back to back, N rounds, the
 * order within a pair alternating (off-on, on-off, ...) so drift and a warm
 * second run favour neither side; each figure's per-pair ratio on / off.
 * Rounds run in the order of the paths, off before on in the first round of
 * book C and signal C, on before off for the two Lua paths (then swapped each
 * round): scripts/bench_metrics.py relies on this order to tell the runs
 * apart under callgrind. */
enum { AB_C, AB_LUA, AB_SIG, AB_LBAR, AB_N };

static int metrics_ab(char cfg[AB_N][3000], const char *out, uint64_t pairs, int json, brs_error *err)
{
    static const char *const key[AB_N][2] = {
        {"c_events_per_sec", "c_events_per_cpu_sec"}, {"lua_events_per_sec", "lua_events_per_cpu_sec"},
        {"signal_bars_per_sec", "signal_bars_per_cpu_sec"}, {"lua_bars_per_sec", "lua_bars_per_cpu_sec"}};
    static const char *const label[AB_N] = {"book mode, C noop", "book mode, Lua on_top",
                                            "signal mode, C precomputed", "signal mode, Lua per bar"};
    static const char on_key[] = ", \"metrics\": {\"listen\": \"127.0.0.1:0\"}}";
    char on[AB_N][3100];
    for (int p = 0; p < AB_N; p++) /* the same config with metrics.listen before its closing brace */
        snprintf(on[p], sizeof on[p], "%.*s%s", (int)strlen(cfg[p]) - 1, cfg[p], on_key);
    double *v = calloc((size_t)AB_N * 4 * pairs, sizeof *v); /* [path][wall off, wall on, cpu off, cpu on][pair] */
    if (!v)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
#define AB_V(p, w, k) v[(((size_t)(p) * 4 + (w)) * pairs) + (k)]
    int rc = 0;
    /* a first round, not counted: the page cache, the allocator (glibc's mmap
     * threshold rises after the first big free: only the first run of a
     * process gets its engine's zeroed pages for free) and the first thread
     * arenas are then in the state every counted run finds them in */
    double skip;
    for (int p = 0; p < AB_N && !rc; p++)
        for (int m = 0; m < 2 && !rc; m++)
            rc = run_once(m ? on[p] : cfg[p], out, &skip, &skip, err);
    for (uint64_t k = 0; k < pairs && !rc; k++)
        for (int p = 0; p < AB_N && !rc; p++)
            for (int j = 0; j < 2 && !rc; j++) {
                int m = (int)((k + (uint64_t)p + (uint64_t)j) & 1); /* 0 off, 1 on */
                rc = run_once(m ? on[p] : cfg[p], out, &AB_V(p, m, k), &AB_V(p, 2 + m, k), err);
            }
    brs_ab s[AB_N][2];
    for (int p = 0; p < AB_N && !rc; p++)
        for (int c = 0; c < 2; c++)
            brs__ab_compute(&AB_V(p, 2 * c, 0), &AB_V(p, 2 * c + 1, 0), pairs, &s[p][c]);
#undef AB_V
    free(v);
    if (rc)
        return rc;
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "pairs", (double)pairs);
        cJSON *ab = cJSON_AddObjectToObject(o, "metrics_ab");
        for (int p = 0; p < AB_N; p++)
            for (int c = 0; c < 2; c++)
                cJSON_AddItemToObject(ab, key[p][c], brs__ab_json(&s[p][c]));
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("metrics on / off: median of %llu per-pair ratios [quartiles] (bootstrap 95%% interval)\n",
               (unsigned long long)pairs);
        for (int p = 0; p < AB_N; p++)
            printf("%-28s wall %.4f [%.4f-%.4f] (%.4f-%.4f)   per CPU s %.4f [%.4f-%.4f] (%.4f-%.4f)\n",
                   label[p], s[p][0].median, s[p][0].q1, s[p][0].q3, s[p][0].lo95, s[p][0].hi95, s[p][1].median,
                   s[p][1].q1, s[p][1].q3, s[p][1].lo95, s[p][1].hi95);
    }
    return 0;
}

int brs__bench_backtest(int argc, char **argv)
{
    int json = 0;
    const char *keep = NULL;
    const char *met = ""; /* --metrics: every run serves its metrics (to measure their cost) */
    uint64_t events = 5000000, nbars = 5000000, runs = 3, ab = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (brs__is_help(a)) {
            printf("usage: bourse bench backtest [--events N] [--bars N] [--runs N] [--dir DIR] [--metrics | --metrics-ab N] [--json]\n\n"
                   "End-to-end backtest throughput from .ticks.zst files (decompression,\n"
                   "loading, strategy start, loop and stop; not writing the run directory):\n"
                   "  book mode   events/s, generated L3 file (bourse gen, N events, default\n"
                   "              5M) through the C noop strategy and a Lua on_top strategy\n"
                   "  signal mode bars/s, N one-minute bars (default 5M) with the vectorized\n"
                   "              C strategy sig_momentum and a per-bar Lua target callback\n"
                   "              (both: momentum against the close 500 bars earlier)\n"
                   "each beside its references, measured alternately in the same run: the\n"
                   "decode-only replay of the L3 and bar files (as `bourse bench replay`) and\n"
                   "`zstd -dc`. Medians of --runs runs (default 3). --json prints one object\n"
                   "with c_events_per_sec, lua_events_per_sec, signal_bars_per_sec,\n"
                   "lua_bars_per_sec, decode_events_per_sec, zstd_dc_events_per_sec,\n"
                   "bars_decode_per_sec, bars_zstd_dc_records_per_sec (the bars as 64-byte\n"
                   "records), bars_zstd_dc_file_per_sec (the bar file's own zstd frames), the\n"
                   "four strategies per CPU second of the process (*_per_cpu_sec), the ratios\n"
                   "(medians of each run's own): c_vs_decode, c_vs_zstd_dc, lua_vs_decode,\n"
                   "decode_vs_zstd_dc, signal_vs_bars_decode, signal_vs_bars_zstd_dc_file,\n"
                   "bars_decode_vs_zstd_dc_file, the same per CPU second of the process\n"
                   "(decode_events_per_cpu_sec, bars_decode_per_cpu_sec, c_vs_decode_cpu,\n"
                   "lua_vs_decode_cpu, signal_vs_bars_decode_cpu), and min_max: [min, max] of\n"
                   "every figure.\n"
                   "--dir DIR keeps the generated files and the last run directory there.\n"
                   "--metrics: every run serves its Prometheus metrics (metrics.listen on a free\n"
                   "port), to measure what they cost (docs/performance.md).\n"
                   "--metrics-ab N: instead of the figures above, the four backtests with metrics\n"
                   "off and on back to back, N rounds alternating which goes first (after one\n"
                   "round not counted); per figure the median of the N ratios on / off,\n"
                   "quartiles and a bootstrap 95%% interval (JSON: metrics_ab.<figure>.ratio,\n"
                   "ratio_q1, ratio_q3, ratio_lo95, ratio_hi95, and off / on: each side's median).\n");
            return BRS_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--metrics")) {
            met = ", \"metrics\": {\"listen\": \"127.0.0.1:0\"}";
        } else if (!strcmp(a, "--dir") && i + 1 < argc) {
            keep = argv[++i];
        } else if (!strcmp(a, "--metrics-ab") && i + 1 < argc) {
            ab = strtoull(argv[++i], &end, 10);
            if (*end || !ab || argv[i][0] == '-' || ab > 10000)
                return brs__usage_error("bench backtest", "--metrics-ab '%s': expected a number of pairs, 1 to 10000",
                                        argv[i]);
        } else if ((!strcmp(a, "--events") || !strcmp(a, "--bars") || !strcmp(a, "--runs")) &&
                   i + 1 < argc) {
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || !v || argv[i][0] == '-' || (a[2] == 'r' && v > 100))
                return brs__usage_error("bench backtest", "%s '%s': expected a positive number", a, argv[i]);
            if (a[2] == 'e')
                events = v;
            else if (a[2] == 'b')
                nbars = v;
            else
                runs = v;
        } else {
            return brs__usage_error("bench backtest", "unknown option or missing value '%s'", a);
        }
    }
    if (ab && met[0])
        return brs__usage_error("bench backtest", "--metrics-ab runs both sides: drop --metrics");
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[1024], l3[1200], bars[1200], top_lua[1200], bar_lua[1200], out[1200], frames[1200];
    if (keep)
        snprintf(dir, sizeof dir, "%s", keep);
    else
        snprintf(dir, sizeof dir, "%s/bourse-bench-backtest-%ld", tmp, (long)getpid());
    snprintf(l3, sizeof l3, "%s/l3.ticks.zst", dir);
    snprintf(bars, sizeof bars, "%s/bars.ticks.zst", dir);
    snprintf(top_lua, sizeof top_lua, "%s/bench_top.lua", dir);
    snprintf(bar_lua, sizeof bar_lua, "%s/bench_bar.lua", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    snprintf(frames, sizeof frames, "%s/bars.frames.zst", dir);
    brs_error err = {0};
    int rc = brs__mkdirs(dir, &err);
    if (!json && !rc)
        fprintf(stderr, "bench backtest: generating %llu L3 events and %llu bars in %s\n",
                (unsigned long long)events, (unsigned long long)nbars, dir);
    brs_gen_opts go = {.seed = 1, .events = events, .symbols = 1};
    if (!rc)
        rc = brs__gen_file(l3, &go, &err);
    if (!rc)
        rc = brs__gen_bars_file(bars, &(brs_gen_opts){.seed = 7, .events = nbars, .symbols = 1}, &err);
    if (!rc)
        rc = write_text(top_lua,
                        "local n = 0\n"
                        "return { name = 'bench_top',\n"
                        "  on_top = function(ctx, top) n = n + 1 end }\n", &err);
    if (!rc)
        rc = write_text(bar_lua,
                        "-- momentum: long when the close is above the close 500 bars ago\n"
                        "local ring, i, n = {}, 0, 500\n"
                        "return { name = 'bench_bar',\n"
                        "  on_bar = function(ctx, bar)\n"
                        "    local c = bar.close\n"
                        "    i = i % n + 1\n"
                        "    local old = ring[i]\n"
                        "    ring[i] = c\n"
                        "    if old then ctx:target(c > old and 1 or -1) end\n"
                        "  end }\n", &err);
    /* equity sampled once a day: the recorder is not what is measured here */
    char cfgs[AB_N][3000], *cfg_c = cfgs[AB_C], *cfg_lua = cfgs[AB_LUA], *cfg_sig = cfgs[AB_SIG],
        *cfg_lbar = cfgs[AB_LBAR], zst_l3[1300] = "", zst_bars[1300] = "";
    snprintf(cfg_c, sizeof cfgs[0],
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"noop\"},"
             " \"sample_every_ns\": 86400000000000%s}", l3, met);
    snprintf(cfg_lua, sizeof cfgs[0],
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"sample_every_ns\": 86400000000000%s}", l3, top_lua, met);
    snprintf(cfg_sig, sizeof cfgs[0],
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"sig_momentum\","
             " \"params\": {\"lookback\": 500}},"
             " \"sample_every_ns\": 86400000000000%s}", bars, met);
    snprintf(cfg_lbar, sizeof cfgs[0],
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"sample_every_ns\": 86400000000000%s}", bars, bar_lua, met);
    if (ab) { /* the pairs alone: no references */
        if (!rc)
            rc = metrics_ab(cfgs, out, ab, json, &err);
        remove_dir(dir, keep);
        return rc ? brs__fail("bench backtest", "%s", err.msg) : BRS_EXIT_OK;
    }
    /* the references' inputs: raw records through `zstd -3` (a missing zstd
     * program only drops those references) and the bar file's frames */
    uint64_t bar_events = 0;
    brs_error zerr = {0};
    snprintf(zst_l3, sizeof zst_l3, "%s/l3.records.zst", dir);
    if (rc || brs__replay_zstd_prepare(l3, zst_l3, &zerr))
        zst_l3[0] = 0;
    snprintf(zst_bars, sizeof zst_bars, "%s/bars.records.zst", dir);
    if (rc || brs__replay_zstd_prepare(bars, zst_bars, &zerr))
        zst_bars[0] = 0;
    int have_frames = !rc && write_frames(bars, frames, &bar_events) == 0;
    double *fig = calloc((size_t)F_COUNT_ * runs, sizeof *fig);
    if (!fig && !rc)
        rc = brs__err(&err, BRS_E_NOMEM, "out of memory");
    /* one run of everything at a time, each figure next to its references,
     * so a noisy neighbour hurts a figure and its reference alike */
    for (uint64_t k = 0; k < runs && !rc; k++) {
        double *f = fig + (size_t)k * F_COUNT_;
        rc = run_once(cfg_c, out, &f[F_C], &f[F_C_CPU], &err);
        if (!rc)
            rc = decode_rate(l3, &f[F_DEC], &f[F_DEC_CPU], &err);
        f[F_ZSTD] = zstd_rate(zst_l3, events);
        if (!rc)
            rc = run_once(cfg_lua, out, &f[F_LUA], &f[F_LUA_CPU], &err);
        if (!rc)
            rc = run_once(cfg_sig, out, &f[F_SIG], &f[F_SIG_CPU], &err);
        if (!rc)
            rc = decode_rate(bars, &f[F_BDEC], &f[F_BDEC_CPU], &err);
        f[F_BZREC] = zstd_rate(zst_bars, nbars);
        f[F_BZFILE] = have_frames ? zstd_rate(frames, bar_events) : NAN;
        if (!rc)
            rc = run_once(cfg_lbar, out, &f[F_LBAR], &f[F_LBAR_CPU], &err);
        f[R_C_DEC] = f[F_C] / f[F_DEC];
        f[R_C_DEC_CPU] = f[F_C_CPU] / f[F_DEC_CPU];
        f[R_LUA_DEC_CPU] = f[F_LUA_CPU] / f[F_DEC_CPU];
        f[R_SIG_BDEC_CPU] = f[F_SIG_CPU] / f[F_BDEC_CPU];
        f[R_C_ZSTD] = f[F_C] / f[F_ZSTD];
        f[R_LUA_DEC] = f[F_LUA] / f[F_DEC];
        f[R_DEC_ZSTD] = f[F_DEC] / f[F_ZSTD];
        f[R_SIG_BDEC] = f[F_SIG] / f[F_BDEC];
        f[R_SIG_BZFILE] = f[F_SIG] / f[F_BZFILE];
        f[R_BDEC_BZFILE] = f[F_BDEC] / f[F_BZFILE];
    }
    double med[F_COUNT_], lo[F_COUNT_], hi[F_COUNT_];
    for (int i = 0; i < F_COUNT_; i++) {
        double *col = calloc(runs, sizeof *col);
        for (uint64_t k = 0; col && fig && k < runs; k++)
            col[k] = fig[(size_t)k * F_COUNT_ + i];
        stats(col ? col : &(double){NAN}, col ? runs : 1, &med[i], &lo[i], &hi[i]);
        free(col);
    }
    free(fig);
    if (zst_l3[0])
        unlink(zst_l3);
    if (zst_bars[0])
        unlink(zst_bars);
    unlink(frames);
    remove_dir(dir, keep);
    if (rc)
        return brs__fail("bench backtest", "%s", err.msg);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "events", (double)events);
        cJSON_AddNumberToObject(o, "bars", (double)nbars);
        cJSON_AddNumberToObject(o, "runs", (double)runs);
        for (int i = 0; i < F_COUNT_; i++)
            if (isfinite(med[i]))
                cJSON_AddNumberToObject(o, fig_key[i], med[i]);
        /* every figure's spread over the runs: [min, max] */
        cJSON *sp = cJSON_AddObjectToObject(o, "min_max");
        for (int i = 0; i < F_COUNT_; i++)
            if (isfinite(med[i])) {
                cJSON *a = cJSON_CreateArray();
                cJSON_AddItemToArray(a, cJSON_CreateNumber(lo[i]));
                cJSON_AddItemToArray(a, cJSON_CreateNumber(hi[i]));
                cJSON_AddItemToObject(sp, fig_key[i], a);
            }
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("                                      wall clock (min-max)        per CPU second\n");
#define ROW(label, i, unit, cpu)                                                                       \
    do {                                                                                               \
        printf("%-38s %7.2f M %s (%.2f-%.2f)", label, med[i] / 1e6, unit, lo[i] / 1e6, hi[i] / 1e6);   \
        if ((cpu) >= 0)                                                                                \
            printf("  %8.2f M", med[(cpu) >= 0 ? (cpu) : 0] / 1e6);                                    \
        printf("\n");                                                                                  \
    } while (0)
        ROW("book mode,   C noop strategy:", F_C, "events/s", F_C_CPU);
        ROW("book mode,   Lua on_top strategy:", F_LUA, "events/s", F_LUA_CPU);
        ROW("same L3 file, decode only:", F_DEC, "events/s", F_DEC_CPU);
        ROW("same records, zstd -dc:", F_ZSTD, "events/s", -1);
        ROW("signal mode, precomputed targets (C):", F_SIG, "bars/s  ", F_SIG_CPU);
        ROW("signal mode, per-bar Lua callback:", F_LBAR, "bars/s  ", F_LBAR_CPU);
        ROW("bar file, decode only:", F_BDEC, "bars/s  ", F_BDEC_CPU);
        ROW("same bars as 64-byte records, zstd -dc:", F_BZREC, "bars/s  ", -1);
        ROW("bar file's own frames, zstd -dc:", F_BZFILE, "bars/s  ", -1);
#undef ROW
        printf("ratios (medians of each run's): book C / decode only %.2f (per CPU second %.2f),\n"
               "  book C / zstd -dc %.2f, book Lua / decode only %.2f (%.2f), decode only / zstd -dc %.2f,\n"
               "  signal / bar decode only %.2f (%.2f), signal / bar frames zstd -dc %.2f\n",
               med[R_C_DEC], med[R_C_DEC_CPU], med[R_C_ZSTD], med[R_LUA_DEC], med[R_LUA_DEC_CPU],
               med[R_DEC_ZSTD], med[R_SIG_BDEC], med[R_SIG_BDEC_CPU], med[R_SIG_BZFILE]);
        printf("(medians of %llu runs, end to end from disk; the machine may be shared)\n",
               (unsigned long long)runs);
    }
    return BRS_EXIT_OK;
}
