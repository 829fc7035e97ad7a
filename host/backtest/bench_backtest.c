/* bench_backtest.c: `bourse bench backtest [--json]`: end-to-end backtest
 * throughput from .ticks.zst files on disk (opening, decompression, loading,
 * strategy start, the loop and stop; not the run-directory write):
 *  - book mode, events/s: a generated L3 file through the C noop strategy and
 *    through a Lua strategy on top-of-book events (no venue: market data only);
 *  - signal mode, bars/s: a file of one-minute bars with the vectorized C
 *    strategy sig_momentum (targets precomputed at start) and with a per-bar
 *    Lua callback setting a target;
 * next to `bourse bench replay` on the same L3 file (decode only, and plain
 * `zstd -dc` of its records), and for the bar file: decode only, `zstd -dc`
 * of its bars as 64-byte records (the layout of format version 1), and `zstd
 * -dc` of the file's own frames (the compact bar blocks as stored). Medians
 * of --runs runs. Timings are reported, never asserted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backtest.h"
#include "bench/bench.h"
#include "cli/cli.h"
#include "ticks/gen.h"
#include "ticks/tickfile.h"

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

static int measure(const char *json, const char *out, uint64_t runs, double *median,
                   double *cpu_median, brs_error *err)
{
    double *s = calloc(2 * runs, sizeof *s);
    if (!s)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int rc = BRS_OK;
    for (uint64_t i = 0; i < runs && !rc; i++)
        rc = run_once(json, out, &s[i], &s[runs + i], err);
    if (!rc) {
        *median = brs__median(s, runs);
        *cpu_median = brs__median(s + runs, runs);
    }
    free(s);
    return rc;
}

/* `bourse bench replay FILE --json` in a child: decode-only and zstd -dc rates. */
static void replay_baseline(const char *file, double *decode_eps, double *zstd_eps)
{
    *decode_eps = *zstd_eps = NAN;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "'%s' bench replay '%s' --runs 3 --json 2>/dev/null", exe, file);
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char buf[4096];
    size_t got = fread(buf, 1, sizeof buf - 1, p);
    buf[got] = 0;
    pclose(p);
    cJSON *j = cJSON_Parse(buf);
    if (!j)
        return;
    cJSON *e = cJSON_GetObjectItem(j, "events_per_sec"), *z = cJSON_GetObjectItem(j, "zstd_bytes_per_sec");
    if (cJSON_IsNumber(e))
        *decode_eps = e->valuedouble;
    if (cJSON_IsNumber(z))
        *zstd_eps = z->valuedouble / BRS_TICK_RECORD_SIZE;
    cJSON_Delete(j);
}

/* `zstd -dc` of the file's own zstd frames (all blocks, concatenated: a valid
 * .zst stream), output thrown away: what plain zstd allows on the very bytes
 * the file stores. Median of runs; events per second, NaN when unavailable. */
static double frames_zstd_dc(const char *path, const char *tmp, uint64_t runs)
{
    brs_tick_reader r;
    brs_error err = {0};
    if (brs__tick_open(&r, path, &err))
        return NAN;
    FILE *f = fopen(tmp, "wb");
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
    uint64_t events = r.n_events;
    brs__tick_close(&r);
    double *t = calloc(runs, sizeof *t), rate = NAN;
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "zstd -dc -q '%s' > /dev/null", tmp);
    for (uint64_t k = 0; ok && t && k < runs; k++) {
        int64_t t0 = brs__monotime_ns();
        int st = system(cmd);
        t[k] = (double)(brs__monotime_ns() - t0) * 1e-9;
        ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    if (ok && t) {
        double med = brs__median(t, runs);
        rate = med > 0 ? (double)events / med : NAN;
    }
    free(t);
    unlink(tmp);
    return rate;
}

int brs__bench_backtest(int argc, char **argv)
{
    int json = 0;
    const char *keep = NULL;
    const char *met = ""; /* --metrics: every run serves its metrics (to measure their cost) */
    uint64_t events = 5000000, nbars = 5000000, runs = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (brs__is_help(a)) {
            printf("usage: bourse bench backtest [--events N] [--bars N] [--runs N] [--dir DIR] [--metrics] [--json]\n\n"
                   "End-to-end backtest throughput from .ticks.zst files (decompression,\n"
                   "loading, strategy start, loop and stop; not writing the run directory):\n"
                   "  book mode   events/s, generated L3 file (bourse gen, N events, default\n"
                   "              5M) through the C noop strategy and a Lua on_top strategy\n"
                   "  signal mode bars/s, N one-minute bars (default 5M) with the vectorized\n"
                   "              C strategy sig_momentum and a per-bar Lua target callback\n"
                   "              (both: momentum against the close 500 bars earlier)\n"
                   "and `bourse bench replay` of the L3 and bar files (decode only; zstd -dc) for\n"
                   "comparison. Medians of --runs runs (default 3). --json prints one object\n"
                   "with c_events_per_sec, lua_events_per_sec, signal_bars_per_sec,\n"
                   "lua_bars_per_sec, decode_events_per_sec, zstd_dc_events_per_sec,\n"
                   "bars_decode_per_sec, bars_zstd_dc_records_per_sec (the bars as 64-byte\n"
                   "records), bars_zstd_dc_file_per_sec (the bar file's own zstd frames), and\n"
                   "the same four per CPU second of the process (*_per_cpu_sec).\n"
                   "--dir DIR keeps the generated files and the last run directory there.\n"
                   "--metrics: every run serves its Prometheus metrics (metrics.listen on a free\n"
                   "port), to measure what they cost (docs/performance.md).\n");
            return BRS_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--metrics")) {
            met = ", \"metrics\": {\"listen\": \"127.0.0.1:0\"}";
        } else if (!strcmp(a, "--dir") && i + 1 < argc) {
            keep = argv[++i];
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
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[1024], l3[1200], bars[1200], top_lua[1200], bar_lua[1200], out[1200], cfg[6000], frames[1200];
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
    double c_eps = 0, lua_eps = 0, sig_bps = 0, lua_bps = 0;
    double c_cpu = 0, lua_cpu = 0, sig_cpu = 0, lua_bcpu = 0;
    /* equity sampled once a day: the recorder is not what is measured here */
    if (!rc) {
        snprintf(cfg, sizeof cfg,
                 "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"noop\"},"
                 " \"sample_every_ns\": 86400000000000%s}", l3, met);
        rc = measure(cfg, out, runs, &c_eps, &c_cpu, &err);
    }
    if (!rc) {
        snprintf(cfg, sizeof cfg,
                 "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
                 " \"sample_every_ns\": 86400000000000%s}", l3, top_lua, met);
        rc = measure(cfg, out, runs, &lua_eps, &lua_cpu, &err);
    }
    if (!rc) {
        snprintf(cfg, sizeof cfg,
                 "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"sig_momentum\","
                 " \"params\": {\"lookback\": 500}},"
                 " \"sample_every_ns\": 86400000000000%s}", bars, met);
        rc = measure(cfg, out, runs, &sig_bps, &sig_cpu, &err);
    }
    if (!rc) {
        snprintf(cfg, sizeof cfg,
                 "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
                 " \"sample_every_ns\": 86400000000000%s}", bars, bar_lua, met);
        rc = measure(cfg, out, runs, &lua_bps, &lua_bcpu, &err);
    }
    double dec_eps = NAN, zstd_eps = NAN, bar_dec = NAN, bar_zstd_rec = NAN, bar_zstd_file = NAN;
    if (!rc) {
        replay_baseline(l3, &dec_eps, &zstd_eps);
        replay_baseline(bars, &bar_dec, &bar_zstd_rec);
        bar_zstd_file = frames_zstd_dc(bars, frames, runs);
    }
    char rm[1200];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (!keep && system(rm) != 0)
        fprintf(stderr, "bench backtest: could not remove %s\n", dir);
    if (rc)
        return brs__fail("bench backtest", "%s", err.msg);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "events", (double)events);
        cJSON_AddNumberToObject(o, "bars", (double)nbars);
        cJSON_AddNumberToObject(o, "runs", (double)runs);
        cJSON_AddNumberToObject(o, "c_events_per_sec", c_eps);
        cJSON_AddNumberToObject(o, "lua_events_per_sec", lua_eps);
        cJSON_AddNumberToObject(o, "signal_bars_per_sec", sig_bps);
        cJSON_AddNumberToObject(o, "lua_bars_per_sec", lua_bps);
        cJSON_AddNumberToObject(o, "c_events_per_cpu_sec", c_cpu);
        cJSON_AddNumberToObject(o, "lua_events_per_cpu_sec", lua_cpu);
        cJSON_AddNumberToObject(o, "signal_bars_per_cpu_sec", sig_cpu);
        cJSON_AddNumberToObject(o, "lua_bars_per_cpu_sec", lua_bcpu);
        if (!isnan(dec_eps))
            cJSON_AddNumberToObject(o, "decode_events_per_sec", dec_eps);
        if (!isnan(zstd_eps))
            cJSON_AddNumberToObject(o, "zstd_dc_events_per_sec", zstd_eps);
        if (!isnan(bar_dec))
            cJSON_AddNumberToObject(o, "bars_decode_per_sec", bar_dec);
        if (!isnan(bar_zstd_rec))
            cJSON_AddNumberToObject(o, "bars_zstd_dc_records_per_sec", bar_zstd_rec);
        if (!isnan(bar_zstd_file))
            cJSON_AddNumberToObject(o, "bars_zstd_dc_file_per_sec", bar_zstd_file);
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("                                      wall clock       per CPU second\n");
        printf("book mode,   C noop strategy:        %8.2f M events/s %8.2f M\n", c_eps / 1e6, c_cpu / 1e6);
        printf("book mode,   Lua on_top strategy:    %8.2f M events/s %8.2f M\n", lua_eps / 1e6, lua_cpu / 1e6);
        printf("signal mode, precomputed targets (C): %7.2f M bars/s   %8.2f M\n", sig_bps / 1e6, sig_cpu / 1e6);
        printf("signal mode, per-bar Lua callback:   %8.2f M bars/s   %8.2f M\n", lua_bps / 1e6, lua_bcpu / 1e6);
        if (!isnan(dec_eps))
            printf("same L3 file, decode only:           %8.2f M events/s\n", dec_eps / 1e6);
        if (!isnan(zstd_eps))
            printf("same records, zstd -dc:              %8.2f M events/s\n", zstd_eps / 1e6);
        if (!isnan(bar_dec))
            printf("bar file, decode only:               %8.2f M bars/s\n", bar_dec / 1e6);
        if (!isnan(bar_zstd_rec))
            printf("same bars as 64-byte records, zstd -dc: %5.2f M bars/s\n", bar_zstd_rec / 1e6);
        if (!isnan(bar_zstd_file))
            printf("bar file's own frames, zstd -dc:     %8.2f M bars/s\n", bar_zstd_file / 1e6);
        printf("(medians of %llu runs, end to end from disk; the machine may be shared)\n",
               (unsigned long long)runs);
    }
    return BRS_EXIT_OK;
}
