/* bench_analytics.c: `bourse bench analytics`: the recorder's cost per event
 * (equity samples; order + fill with FIFO trade building) and allocations in the
 * timed region after brs__an_reserve (should be 0), then writing the run directory. */
#include "an_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "cli/cli.h"

static int one_rep(size_t n, double *sample_ns, double *fill_ns, int64_t *allocs,
                   brs_an_recorder **keep)
{
    brs_an_instrument inst = {.symbol = "BENCH", .multiplier = 1, .price_scale = 100};
    brs_an_options opt = {.mode = BRS_AN_BOOK, .periods_per_year = 365, .title = "bench"};
    brs_an_recorder *r;
    brs_error err = {0};
    if (brs__an_create(&r, &opt, &inst, 1, &err) || brs__an_reserve(r, n, n, n))
        return BRS_E_NOMEM;
    int64_t t0 = INT64_C(1704067200000000000);
    int64_t a0 = brs__alloc_count();
    int64_t c0 = brs__monotime_ns();
    double price = 100;
    for (size_t i = 0; i < n; i++) {
        price = (double)(10000 + (int64_t)(i & 1)) / 100; /* ticks / price_scale, as drivers do */
        double px[1] = {price};
        if (brs__an_sample(r, t0 + (int64_t)i * 1000000, 1e6 + price, 1e6, px))
            return BRS_E_INVAL;
    }
    int64_t c1 = brs__monotime_ns();
    for (size_t i = 0; i < n; i++) {
        /* buy 2, sell 1, sell 1, ...: partial closes and one trade per sell */
        int side = (i % 3 == 0) ? BRS_BUY : BRS_SELL;
        int64_t q = side == BRS_BUY ? 2 : 1;
        brs_an_order o = {.id = i + 1, .ts = t0 + (int64_t)i * 1000000, .side = (uint8_t)side,
                          .price = price, .qty = q};
        brs_an_fill f = {.ts = o.ts, .order_id = o.id, .side = (uint8_t)side,
                         .liquidity = BRS_LIQ_MAKER, .qty = q, .price = price, .fee = -0.001};
        if (brs__an_order_new(r, &o) || brs__an_fill(r, &f))
            return BRS_E_INVAL;
    }
    int64_t c2 = brs__monotime_ns();
    int64_t a1 = brs__alloc_count();
    *sample_ns = (double)(c1 - c0) / (double)n;
    *fill_ns = (double)(c2 - c1) / (double)n;
    *allocs = a0 < 0 ? -1 : a1 - a0;
    if (keep)
        *keep = r;
    else
        brs__an_destroy(r);
    return BRS_OK;
}

int brs__bench_analytics(int argc, char **argv)
{
    int json = 0;
    long n = 1000000, reps = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atol(argv[++i]);
        else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench analytics [--events N] [--reps R] [--json]\n"
                   "Recorder cost per equity sample and per order+fill (FIFO trades),\n"
                   "allocations in the timed region, and the time to write the run\n"
                   "directory of N samples and N fills.\n");
            return BRS_EXIT_OK;
        } else
            return brs__usage_error("bench analytics", "unknown option '%s'", argv[i]);
    }
    if (n < 10 || reps < 1 || reps > 100)
        return brs__usage_error("bench analytics", "--events must be >= 10, --reps 1..100");
    double *s = calloc((size_t)reps, sizeof *s), *f = calloc((size_t)reps, sizeof *f);
    if (!s || !f)
        return brs__fail("bench analytics", "out of memory");
    int64_t allocs_max = 0;
    brs_an_recorder *last = NULL;
    for (long k = 0; k < reps; k++) {
        int64_t allocs;
        if (one_rep((size_t)n, &s[k], &f[k], &allocs, k == reps - 1 ? &last : NULL))
            return brs__fail("bench analytics", "recording failed");
        if (allocs > allocs_max || allocs < 0)
            allocs_max = allocs;
    }
    char dir[] = "/tmp/brs_bench_analytics_XXXXXX";
    if (!mkdtemp(dir))
        return brs__fail("bench analytics", "cannot make a temporary directory");
    brs_error err = {0};
    int64_t w0 = brs__monotime_ns();
    int rc = brs__an_write_run(last, dir, NULL, &err);
    int64_t w1 = brs__monotime_ns();
    brs__an_destroy(last);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench analytics: could not remove %s\n", dir);
    if (rc)
        return brs__fail("bench analytics", "%s", err.msg);
    double sm = brs__median(s, (size_t)reps), fm = brs__median(f, (size_t)reps);
    double wms = (double)(w1 - w0) / 1e6;
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "events", (double)n);
        cJSON_AddNumberToObject(o, "sample_ns", sm);
        cJSON_AddNumberToObject(o, "order_fill_ns", fm);
        cJSON_AddNumberToObject(o, "samples_per_sec", 1e9 / sm);
        cJSON_AddNumberToObject(o, "fills_per_sec", 1e9 / fm);
        cJSON_AddNumberToObject(o, "allocs_in_timed_region", (double)allocs_max);
        cJSON_AddNumberToObject(o, "write_run_ms", wms);
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("analytics recorder, %ld events, median of %ld runs\n", n, reps);
        printf("  equity sample      %8.1f ns  (%.1f M/s)\n", sm, 1e3 / sm);
        printf("  order + fill       %8.1f ns  (%.1f M/s)\n", fm, 1e3 / fm);
        printf("  allocations in the timed region (after reserve): %lld\n",
               (long long)allocs_max);
        printf("  write run directory (%ld samples, %ld fills): %.0f ms\n", n, n, wms);
    }
    free(s);
    free(f);
    return BRS_EXIT_OK;
}
