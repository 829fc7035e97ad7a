/* bench_replay.c: `bourse bench replay FILE`: replay throughput (decode and
 * dispatch to a no-op consumer through a function pointer) against plain
 * `zstd -dc` of the same records: the records are written raw to a temporary
 * file, compressed with `zstd -3`, and `zstd -dc` of that is timed in the same
 * run. ratio_vs_zstd = our record bytes/s over zstd's decompressed bytes/s. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "ticks/replay_sink.h"
#include "ticks/tickfile.h"
#include "ticks/ticks_cli.h"

/* Runs argv with stdout to out_path (or /dev/null); returns the exit status or -1. */
static int run(char *const argv[], const char *out_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            _exit(127);
        dup2(fd, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int replay_once(const char *path, int ahead, brs_replay_fn fn, void *user, uint64_t *events,
                       int64_t *ns, int64_t *allocs, brs_error *err)
{
    brs_tick_reader r;
    int rc = brs__tick_open(&r, path, err);
    if (rc)
        return rc;
    int64_t a0 = brs__alloc_count();
    int64_t t0 = brs__monotime_ns();
    if (ahead && (rc = brs__tick_readahead(&r, err)) != BRS_OK) {
        brs__tick_close(&r);
        return rc;
    }
    const brs_market_event *e;
    uint64_t n = 0;
    while ((e = brs__tick_next(&r))) {
        fn(user, e);
        n++;
    }
    *ns = brs__monotime_ns() - t0;
    int64_t a1 = brs__alloc_count();
    *allocs = a0 < 0 ? -1 : a1 - a0;
    *events = n;
    if (r.iter_err.code) {
        *err = r.iter_err;
        rc = r.iter_err.code;
    }
    brs__tick_close(&r);
    return rc;
}

static int dump_raw(const char *path, const char *raw, brs_error *err)
{
    brs_tick_reader r;
    int rc = brs__tick_open(&r, path, err);
    if (rc)
        return rc;
    FILE *f = fopen(raw, "wb");
    if (!f) {
        brs__tick_close(&r);
        return brs__err(err, BRS_E_IO, "%s: %s", raw, strerror(errno));
    }
    for (uint32_t b = 0; b < r.n_blocks && !rc; b++) {
        rc = brs__tick_load_block(&r, b, err);
        if (!rc && fwrite(r.cur, BRS_TICK_RECORD_SIZE, (size_t)(r.end - r.cur), f) != (size_t)(r.end - r.cur))
            rc = brs__err(err, BRS_E_IO, "%s: write failed", raw);
    }
    if (fclose(f) && !rc)
        rc = brs__err(err, BRS_E_IO, "%s: write failed", raw);
    brs__tick_close(&r);
    return rc;
}

int brs__replay_time(const char *path, int ahead, uint64_t *events, int64_t *ns, brs_error *err)
{
    brs_replay_tally tally = {0};
    int64_t allocs;
    int rc = replay_once(path, ahead, brs__replay_noop, &tally, events, ns, &allocs, err);
    BRS__KEEP(tally.checksum);
    return rc;
}

int brs__replay_zstd_prepare(const char *path, const char *zst, brs_error *err)
{
    char raw[4200];
    snprintf(raw, sizeof raw, "%s.raw", zst);
    int rc = dump_raw(path, raw, err);
    char *zargv[] = {"zstd", "-3", "-q", "-f", raw, "-o", (char *)zst, NULL};
    if (!rc && run(zargv, NULL) != 0)
        rc = brs__err(err, BRS_E_IO, "could not run 'zstd -3' (is the zstd program installed?)");
    unlink(raw);
    return rc;
}

int64_t brs__zstd_dc_ns(const char *zst)
{
    char *dargv[] = {"zstd", "-dc", "-q", (char *)zst, NULL};
    int64_t t0 = brs__monotime_ns();
    if (run(dargv, NULL) != 0)
        return -1;
    return brs__monotime_ns() - t0;
}

int brs__bench_replay(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    uint64_t runs = 5;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            printf("usage: bourse bench replay FILE [--runs N] [--json]\n\n"
                   "Events per second for decoding FILE and dispatching every event to a no-op\n"
                   "consumer (function pointer, other translation unit), and in the same run the\n"
                   "time `zstd -dc` takes on the same records compressed with `zstd -3`.\n"
                   "Replay uses the read-ahead thread (a second core decodes the next blocks);\n"
                   "the single-thread figures are reported too. Medians of N runs (default 5).\n"
                   "Needs the zstd program.\n");
            return BRS_EXIT_OK;
        } else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--runs")) {
            if (i + 1 >= argc || brs__parse_u64(argv[i + 1], &runs) || runs < 1 || runs > 100)
                return brs__usage_error("bench replay", "--runs needs a number 1..100");
            i++;
        } else if (argv[i][0] == '-' && argv[i][1])
            return brs__usage_error("bench replay", "unknown option '%s'", argv[i]);
        else if (path)
            return brs__usage_error("bench replay", "one FILE only");
        else
            path = argv[i];
    }
    if (!path)
        return brs__usage_error("bench replay", "missing FILE (make one with: bourse gen --events 10000000 -o FILE)");
    brs_error err = {0};
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char raw[4096], zst[4096];
    snprintf(raw, sizeof raw, "%s/bourse-replay-%ld.raw", tmpdir, (long)getpid());
    snprintf(zst, sizeof zst, "%s/bourse-replay-%ld.raw.zst", tmpdir, (long)getpid());
    int rc = dump_raw(path, raw, &err);
    char *zargv[] = {"zstd", "-3", "-q", "-f", raw, "-o", zst, NULL};
    if (!rc && run(zargv, NULL) != 0)
        rc = brs__err(&err, BRS_E_IO, "could not run 'zstd -3' (is the zstd program installed?)");
    unlink(raw);
    if (rc) {
        unlink(zst);
        return brs__fail("bench replay", "%s", err.msg);
    }
    struct stat st_ours, st_zst;
    stat(path, &st_ours);
    stat(zst, &st_zst);
    double *ours = calloc(runs, sizeof *ours), *single = calloc(runs, sizeof *single),
           *theirs = calloc(runs, sizeof *theirs);
    brs_replay_tally tally = {0};
    uint64_t events = 0;
    int64_t allocs = 0;
    char *dargv[] = {"zstd", "-dc", "-q", zst, NULL};
    /* interleave the two so a noisy neighbour hurts both alike */
    for (uint64_t k = 0; k < runs && !rc; k++) {
        int64_t ns = 0, ns1 = 0, allocs1 = 0;
        rc = replay_once(path, 1, brs__replay_noop, &tally, &events, &ns, &allocs, &err);
        ours[k] = (double)ns;
        if (!rc)
            rc = replay_once(path, 0, brs__replay_noop, &tally, &events, &ns1, &allocs1, &err);
        single[k] = (double)ns1;
        int64_t t0 = brs__monotime_ns();
        if (!rc && run(dargv, NULL) != 0)
            rc = brs__err(&err, BRS_E_IO, "'zstd -dc %s' failed", zst);
        theirs[k] = (double)(brs__monotime_ns() - t0);
    }
    unlink(zst);
    if (rc) {
        free(ours);
        free(single);
        free(theirs);
        return brs__fail("bench replay", "%s", err.msg);
    }
    double our_ns = brs__median(ours, runs), zstd_ns = brs__median(theirs, runs);
    double single_ns = brs__median(single, runs);
    double bytes = (double)events * BRS_TICK_RECORD_SIZE;
    double eps = our_ns > 0 ? (double)events / (our_ns / 1e9) : 0;
    double our_bps = our_ns > 0 ? bytes / (our_ns / 1e9) : 0;
    double zstd_bps = zstd_ns > 0 ? bytes / (zstd_ns / 1e9) : 0;
    double ratio = zstd_bps > 0 ? our_bps / zstd_bps : 0;
    double eps1 = single_ns > 0 ? (double)events / (single_ns / 1e9) : 0;
    double ratio1 = single_ns > 0 && zstd_bps > 0 ? bytes / (single_ns / 1e9) / zstd_bps : 0;
    double size_ratio = st_zst.st_size ? (double)st_ours.st_size / (double)st_zst.st_size : 0;
    free(ours);
    free(single);
    free(theirs);
    BRS__KEEP(tally.checksum);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddNumberToObject(o, "events", (double)events);
        cJSON_AddNumberToObject(o, "runs", (double)runs);
        cJSON_AddNumberToObject(o, "events_per_sec", eps);
        cJSON_AddNumberToObject(o, "record_bytes_per_sec", our_bps);
        cJSON_AddNumberToObject(o, "zstd_bytes_per_sec", zstd_bps);
        cJSON_AddNumberToObject(o, "ratio_vs_zstd", ratio);
        cJSON_AddNumberToObject(o, "single_thread_events_per_sec", eps1);
        cJSON_AddNumberToObject(o, "single_thread_ratio_vs_zstd", ratio1);
        cJSON_AddNumberToObject(o, "file_bytes", (double)st_ours.st_size);
        cJSON_AddNumberToObject(o, "zstd3_bytes", (double)st_zst.st_size);
        cJSON_AddNumberToObject(o, "size_vs_zstd3", size_ratio);
        cJSON_AddNumberToObject(o, "allocs_in_replay", (double)allocs);
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("replay %s: %llu events, median of %llu runs\n", path, (unsigned long long)events,
               (unsigned long long)runs);
        printf("  decode + dispatch: %.3g events/s, %.0f MB/s of records (read-ahead thread)\n", eps,
               our_bps / 1e6);
        printf("  single thread:     %.3g events/s (ratio vs zstd %.2f)\n", eps1, ratio1);
        printf("  zstd -dc:          %.0f MB/s (same records, zstd -3)\n", zstd_bps / 1e6);
        printf("  ratio vs zstd:     %.2f\n", ratio);
        printf("  size:              %lld bytes vs %lld for zstd -3 of the raw records (%.3fx)\n",
               (long long)st_ours.st_size, (long long)st_zst.st_size, size_ratio);
        printf("  allocations during replay: %lld\n", (long long)allocs);
    }
    return BRS_EXIT_OK;
}
