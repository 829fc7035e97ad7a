/* bench.c: `bourse bench NAME [OPTIONS]`. One line per benchmark in the table;
 * each benchmark lives with its component and prints a human table, or JSON
 * with --json. `selftest` measures the harness itself (an empty loop and one
 * allocation) so the reporting path is exercised by the tests. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"

const brs_bench brs__benches[] = {
    {"selftest", "the harness itself: timer overhead and allocation counting", brs__bench_selftest},
    {"strategy", "ns per market-event callback: C vs Lua MA crossover", brs__bench_strategy},
    {"lua-pattern", "string.find/match/gmatch/gsub: stock Lua vs the sandbox's matcher", brs__bench_lua_pattern},
    {"book", "matching engine: QuantCup feed, deep book, exchange-like mix", brs__bench_book},
    {"replay", "tick file replay: decode + dispatch vs plain zstd -dc", brs__bench_replay},
    {"fix", "FIX codec parse/encode rates and gateway round trip over loopback", brs__bench_fix},
    {"restart", "bourse serve's restart: exec to listening with 2M open or 2M cancelled orders", brs__bench_restart},
    {"analytics", "backtest recorder: cost per sample and per fill, run directory write", brs__bench_analytics},
    {"sor", "smart order router: ns per routing decision, 5 venues x 10 levels", brs__bench_sor},
    {"backtest", "backtest throughput from disk: book events/s, signal bars/s (C and Lua)", brs__bench_backtest},
    {"sweep", "bourse sweep: 4,851 MA-crossover combinations on 3,000 daily bars (C and Lua)", brs__bench_sweep},
    {"ws", "Binance depth updates/s through parse + L2 book (one core)", brs__bench_ws},
};
const size_t brs__n_benches = BRS__ARRAY_LEN(brs__benches);

const char *brs__bench_json_out;
static int json_out_failed; /* the command then exits 1 */

int brs__bench_json(cJSON *o, int to_stdout)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return BRS_E_NOMEM;
    int rc = BRS_OK;
    if (to_stdout)
        printf("%s\n", s);
    if (brs__bench_json_out) {
        FILE *f = fopen(brs__bench_json_out, "w");
        if (!f || fprintf(f, "%s\n", s) < 0 || fclose(f) != 0) {
            fprintf(stderr, "bourse bench: cannot write %s\n", brs__bench_json_out);
            json_out_failed = 1;
            rc = BRS_E_IO;
        }
    }
    cJSON_free(s);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bourse bench NAME [OPTIONS] [--json] [--json-out FILE]\n\n"
                 "--json prints the result as one JSON object instead of the table; --json-out\n"
                 "writes that object to FILE as well, from the same run as the table.\n\n"
                 "benchmarks:\n");
    for (size_t i = 0; i < brs__n_benches; i++)
        fprintf(out, "  %-10s %s\n", brs__benches[i].name, brs__benches[i].summary);
    fprintf(out, "\nRun 'bourse bench NAME --help' for a benchmark's options.\n");
}

int brs__cmd_bench(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BRS_EXIT_USAGE;
    }
    if (brs__is_help(argv[1])) {
        usage(stdout);
        return BRS_EXIT_OK;
    }
    /* --json-out FILE is every benchmark's: taken out before it sees argv */
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json-out")) {
            if (i + 1 >= argc)
                return brs__usage_error("bench", "--json-out needs a file");
            brs__bench_json_out = argv[++i];
            continue;
        }
        argv[1 + n++] = argv[i];
    }
    argc = 1 + n;
    for (size_t i = 0; i < brs__n_benches; i++)
        if (strcmp(argv[1], brs__benches[i].name) == 0) {
            int rc = brs__benches[i].run(argc - 1, argv + 1);
            return rc == BRS_EXIT_OK && json_out_failed ? BRS_EXIT_FAIL : rc;
        }
    return brs__usage_error("bench", "unknown benchmark '%s'", argv[1]);
}

int brs__bench_selftest(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench selftest [--json]\n");
            return BRS_EXIT_OK;
        } else
            return brs__usage_error("bench selftest", "unknown option '%s'", argv[i]);
    }
    enum { N = 10001 };
    double *samples = malloc(N * sizeof *samples);
    if (!samples)
        return brs__fail("bench selftest", "out of memory");
    for (int i = 0; i < N; i++) {
        int64_t t0 = brs__monotime_ns();
        int64_t t1 = brs__monotime_ns();
        samples[i] = (double)(t1 - t0);
    }
    brs_stats st;
    brs__stats_compute(samples, N, &st);
    int64_t a0 = brs__alloc_count();
    void *volatile p = malloc(64);
    free(p);
    int64_t a1 = brs__alloc_count();
    int64_t allocs = a0 < 0 ? -1 : a1 - a0;
    free(samples);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "timer_p50_ns", st.p50);
        cJSON_AddNumberToObject(o, "timer_p99_ns", st.p99);
        cJSON_AddNumberToObject(o, "allocs_for_one_malloc", (double)allocs);
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("timer overhead: p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns\n", st.p50, st.p99, st.p999);
        printf("allocations counted for one malloc: %lld\n", (long long)allocs);
    }
    return BRS_EXIT_OK;
}
