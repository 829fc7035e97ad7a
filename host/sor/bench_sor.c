/* bench_sor.c: `bourse bench sor`: the cost of one routing decision for 5 venues
 * with 10 levels a side, on pre-generated random books (so the branch predictor
 * cannot learn one book), parents sweeping one to several levels. Also times
 * the mixed-lot exact path, in batches and book by book (the slowest book is
 * the "every decision" figure). Reports median and percentiles of ns/decision. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/core.h"
#include "sor/sor.h"

enum { NV = 5, NL = 10, NSCEN = 64 }; /* 64 books (~200 KB) stay in L2, as live books do */

typedef struct scen {
    brs_level asks[NV][NL], bids[NV][NL];
    brs_sor_venue v[NV];
    brs_sor_parent p;
} scen;

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void make(scen *sc, uint64_t *seed, int mixed)
{
    for (int i = 0; i < NV; i++) {
        int64_t off = (int64_t)(rng(seed) % 5);
        int64_t lot = mixed ? (int64_t)(1 + rng(seed) % 4) : 1;
        for (int l = 0; l < NL; l++) {
            sc->asks[i][l] = (brs_level){.price = 100001 + off + l * (1 + (int64_t)(rng(seed) % 2)) + (l ? sc->asks[i][l - 1].price - 100001 - off : 0),
                                         .qty = (int64_t)(1 + rng(seed) % 20) * lot};
            sc->bids[i][l] = (brs_level){.price = 99999 - off - l, .qty = (int64_t)(1 + rng(seed) % 20) * lot};
        }
        sc->v[i] = (brs_sor_venue){.asks = sc->asks[i], .bids = sc->bids[i], .n_asks = NL,
                                   .n_bids = NL, .taker_fee_ppm = (int32_t)(rng(seed) % 600),
                                   .maker_fee_ppm = -(int32_t)(rng(seed) % 200),
                                   .latency_ns = (int64_t)(rng(seed) % 4) * 100000,
                                   .lot_size = lot, .min_qty = 0, .up = 1};
    }
    sc->p = (brs_sor_parent){.side = BRS_BUY, .type = BRS_LIMIT, .post = 1,
                             .qty = (int64_t)(1 + rng(seed) % (mixed ? 300 : 400)),
                             .price = 100001 + (int64_t)(rng(seed) % 30)};
}

static void fix_pointers(scen *sc)
{
    for (int i = 0; i < NV; i++) {
        sc->v[i].asks = sc->asks[i];
        sc->v[i].bids = sc->bids[i];
    }
}

static int measure(scen *sc, int nsamples, int batch, double *samples, brs_stats *st,
                   int64_t *allocs)
{
    brs_sor_plan plan;
    int64_t a0 = brs__alloc_count();
    size_t k = 0;
    for (int s = 0; s < nsamples; s++) {
        int64_t t0 = brs__monotime_ns();
        for (int b = 0; b < batch; b++) {
            scen *x = &sc[k++ & (NSCEN - 1)];
            if (brs__sor_route(&x->p, x->v, NV, &plan) != BRS_OK)
                return -1;
            BRS__KEEP(plan.take_qty);
        }
        samples[s] = (double)(brs__monotime_ns() - t0) / batch;
    }
    int64_t a1 = brs__alloc_count();
    *allocs = a0 < 0 ? -1 : a1 - a0;
    brs__stats_compute(samples, (size_t)nsamples, st);
    return 0;
}

/* Every decision, not only the typical one: each mixed-lot book timed on its
 * own (batches of `reps` decisions of that book, the fastest of `tries`
 * batches, so a preemption on a loaded machine does not count); the slowest
 * book and the 90th percentile over books. */
static int per_book(scen *sc, int tries, int reps, double *worst, double *p90, double *p99,
                    double *median)
{
    double t[NSCEN];
    brs_sor_plan plan;
    for (int i = 0; i < NSCEN; i++) {
        t[i] = 1e18;
        for (int a = 0; a < tries; a++) {
            int64_t t0 = brs__monotime_ns();
            for (int r = 0; r < reps; r++) {
                if (brs__sor_route(&sc[i].p, sc[i].v, NV, &plan) != BRS_OK)
                    return -1;
                BRS__KEEP(plan.take_qty);
            }
            double x = (double)(brs__monotime_ns() - t0) / reps;
            if (x < t[i])
                t[i] = x;
        }
    }
    for (int i = 1; i < NSCEN; i++) /* insertion sort: 64 values */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    *worst = t[NSCEN - 1];
    *p90 = t[(NSCEN * 9) / 10];
    *p99 = t[(NSCEN * 99) / 100];
    *median = t[NSCEN / 2];
    return 0;
}

int brs__bench_sor(int argc, char **argv)
{
    int json = 0, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench sor [--json] [--quick]\n\n"
                   "ns per routing decision, 5 venues x 10 levels, random books:\n"
                   "uniform lots (greedy, exact) and mixed lots (exact: LP + window search),\n"
                   "and each mixed-lot book timed alone (median, 90th and 99th percentiles over\n"
                   "books, and the slowest: every decision's figure).\n"
                   "--quick: few samples (for tests; the numbers are then rough).\n");
            return BRS_EXIT_OK;
        } else
            return brs__usage_error("bench sor", "unknown option '%s'", argv[i]);
    }
    scen *sc = malloc(2 * NSCEN * sizeof *sc);
    int NS = quick ? 21 : 301, BATCH = quick ? 30 : 1000;
    double *samples = malloc((size_t)NS * sizeof *samples);
    if (!sc || !samples) {
        free(sc);
        free(samples);
        return brs__fail("bench sor", "out of memory");
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2 * NSCEN; i++) {
        make(&sc[i], &seed, i >= NSCEN);
        fix_pointers(&sc[i]);
    }
    brs_stats u, mx;
    int64_t ua, ma;
    if (measure(sc, NS, BATCH, samples, &u, &ua) || measure(sc + NSCEN, NS / 3, BATCH / 10 ? BATCH / 10 : 1, samples, &mx, &ma)) {
        free(sc);
        free(samples);
        return brs__fail("bench sor", "a routing decision failed on a generated book");
    }
    double worst = 0, p90 = 0, p99 = 0, bmed = 0;
    if (per_book(sc + NSCEN, quick ? 3 : 15, quick ? 10 : 100, &worst, &p90, &p99, &bmed)) {
        free(sc);
        free(samples);
        return brs__fail("bench sor", "a routing decision failed on a generated book");
    }
    free(sc);
    free(samples);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "venues", NV);
        cJSON_AddNumberToObject(o, "levels", NL);
        cJSON_AddNumberToObject(o, "ns_per_decision", u.p50);
        cJSON_AddNumberToObject(o, "ns_per_decision_p90", u.p90);
        cJSON_AddNumberToObject(o, "ns_per_decision_p99", u.p99);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots", mx.p50);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_p90", mx.p90);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_p99", mx.p99);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_median_book", bmed);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_p90_book", p90);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_p99_book", p99);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_worst_book", worst);
        cJSON_AddNumberToObject(o, "allocs_in_timed_region", (double)(ua < 0 || ma < 0 ? -1 : ua + ma));
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("bench sor: 5 venues x 10 levels, random books, batches of %d decisions\n", BATCH);
        printf("  uniform lots (greedy, exact): median %.0f ns, p90 %.0f, p99 %.0f, min %.0f\n", u.p50,
               u.p90, u.p99, u.min);
        printf("  mixed lots (LP + window search): median %.0f ns, p90 %.0f, p99 %.0f\n", mx.p50,
               mx.p90, mx.p99);
        printf("  mixed lots, each of %d books alone: median %.0f ns, p90 %.0f, p99 %.0f, "
               "slowest book (max) %.0f ns\n", NSCEN, bmed, p90, p99, worst);
        printf("  allocations in timed regions: %lld\n", (long long)(ua < 0 || ma < 0 ? -1 : ua + ma));
    }
    return BRS_EXIT_OK;
}
