/* bench_sor.c: `bourse bench sor`: the cost of one routing decision for 5 venues
 * with 10 levels a side, on pre-generated random books (so the branch predictor
 * cannot learn one book), parents sweeping one to several levels. Also times
 * the mixed-lot exact path in batches, book by book (the slowest book is the
 * "every decision" figure), and decision by decision. Reports median and
 * percentiles of ns/decision; the JSON says what a sample is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "bench/ticks.h"
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

/* ---- each decision timed alone ---------------------------------------------- */



typedef struct single_res {
    brs_stats all;      /* every decision */
    double worst_book;  /* the largest per-book median */
    double p90_book;    /* 90th percentile of the per-book medians */
    double timer_ns;    /* median cost of timing nothing, subtracted */
    size_t n;
} single_res;

/* Every mixed-lot decision timed on its own, rounds over the 64 books in
 * turn (the predictor cannot learn a book): the timer around one call, less
 * the median cost of timing an empty region. Per book the median of its
 * rounds (a decision hit by an interrupt or a preemption does not make its
 * book slow); over all decisions the percentiles as they came (the max is
 * the machine's as much as the router's). t: rounds x NSCEN doubles. */
static int single(scen *sc, int rounds, double *t, single_res *r)
{
    double tn = brs__bench_tick_ns();
    enum { NT = 2001 };
    double ov[NT];
    for (int i = 0; i < NT; i++) {
        uint64_t a = brs__bench_ticks();
        uint64_t b = brs__bench_ticks();
        ov[i] = (double)(b - a);
    }
    double over = brs__median(ov, NT);
    brs_sor_plan plan;
    for (int k = 0; k < rounds; k++)
        for (int i = 0; i < NSCEN; i++) {
            uint64_t a = brs__bench_ticks();
            int rc = brs__sor_route(&sc[i].p, sc[i].v, NV, &plan);
            uint64_t b = brs__bench_ticks();
            if (rc != BRS_OK)
                return -1;
            BRS__KEEP(plan.take_qty);
            double x = ((double)(b - a) - over) * tn;
            t[(size_t)i * (size_t)rounds + (size_t)k] = x > 0 ? x : 0;
        }
    double med[NSCEN];
    for (int i = 0; i < NSCEN; i++) /* sorts each book's run in place */
        med[i] = brs__median(t + (size_t)i * (size_t)rounds, (size_t)rounds);
    brs_stats mb;
    brs__stats_compute(med, NSCEN, &mb);
    r->worst_book = mb.max;
    r->p90_book = mb.p90;
    r->timer_ns = over * tn;
    r->n = (size_t)rounds * NSCEN;
    brs__stats_compute(t, r->n, &r->all);
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
                   "each mixed-lot book timed alone (median, 90th and 99th percentiles over\n"
                   "books, and the slowest: every decision's figure), and each mixed-lot\n"
                   "decision timed on its own (median, p99, max; per book the median).\n"
                   "--quick: few samples (for tests; the numbers are then rough).\n");
            return BRS_EXIT_OK;
        } else
            return brs__usage_error("bench sor", "unknown option '%s'", argv[i]);
    }
    scen *sc = malloc(2 * NSCEN * sizeof *sc);
    int NS = quick ? 21 : 301, BATCH = quick ? 30 : 1000, MBATCH = BATCH / 10 ? BATCH / 10 : 1;
    int TRIES = quick ? 3 : 15, REPS = quick ? 10 : 100, ROUNDS = quick ? 11 : 301;
    double *samples = malloc((size_t)NS * sizeof *samples);
    double *one = malloc((size_t)ROUNDS * NSCEN * sizeof *one);
    if (!sc || !samples || !one) {
        free(sc);
        free(samples);
        free(one);
        return brs__fail("bench sor", "out of memory");
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2 * NSCEN; i++) {
        make(&sc[i], &seed, i >= NSCEN);
        fix_pointers(&sc[i]);
    }
    brs_stats u, mx;
    int64_t ua, ma;
    double worst = 0, p90 = 0, p99 = 0, bmed = 0;
    single_res sr;
    if (measure(sc, NS, BATCH, samples, &u, &ua) ||
        measure(sc + NSCEN, NS / 3, MBATCH, samples, &mx, &ma) ||
        per_book(sc + NSCEN, TRIES, REPS, &worst, &p90, &p99, &bmed) ||
        single(sc + NSCEN, ROUNDS, one, &sr)) {
        free(sc);
        free(samples);
        free(one);
        return brs__fail("bench sor", "a routing decision failed on a generated book");
    }
    free(sc);
    free(samples);
    free(one);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "venues", NV);
        cJSON_AddNumberToObject(o, "levels", NL);
        cJSON_AddNumberToObject(o, "books", NSCEN);
        cJSON_AddNumberToObject(o, "batch_decisions", BATCH);
        cJSON_AddNumberToObject(o, "mixed_lots_batch_decisions", MBATCH);
        cJSON_AddNumberToObject(o, "mixed_lots_book_batch_decisions", REPS);
        cJSON_AddNumberToObject(o, "mixed_lots_book_batches", TRIES);
        cJSON_AddNumberToObject(o, "mixed_lots_single_decisions", (double)sr.n);
        cJSON_AddStringToObject(
            o, "samples",
            "ns_per_decision*: each sample is the mean ns per decision of one batch of "
            "batch_decisions (mixed lots: mixed_lots_batch_decisions) consecutive decisions, "
            "the books taken in turn; median and percentiles are over the batches, so a "
            "preempted batch inflates p99. *_book: each book alone, its figure the fastest "
            "of mixed_lots_book_batches batches of mixed_lots_book_batch_decisions decisions "
            "of that book; median, p90, p99 (nearest rank, so with 64 books the slowest) "
            "and worst over the books. *_single_*: every decision timed on its own, books in "
            "turn, less the timer's own cost (timer_ns): p50, p99 and max over all "
            "decisions; worst_book and p90_book over the books' medians");
        cJSON_AddNumberToObject(o, "timer_ns", sr.timer_ns);
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
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_single_p50", sr.all.p50);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_single_p99", sr.all.p99);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_single_max", sr.all.max);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_single_p90_book", sr.p90_book);
        cJSON_AddNumberToObject(o, "ns_per_decision_mixed_lots_single_worst_book", sr.worst_book);
        cJSON_AddNumberToObject(o, "allocs_in_timed_region", (double)(ua < 0 || ma < 0 ? -1 : ua + ma));
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("bench sor: 5 venues x 10 levels, random books, batches of %d decisions\n", BATCH);
        printf("  uniform lots (greedy, exact): median %.0f ns, p90 %.0f, p99 %.0f, min %.0f\n", u.p50,
               u.p90, u.p99, u.min);
        printf("  mixed lots (LP + window search), batches of %d: median %.0f ns, p90 %.0f, p99 %.0f\n",
               MBATCH, mx.p50, mx.p90, mx.p99);
        printf("  mixed lots, each of %d books alone (fastest of %d batches of %d): median %.0f ns, "
               "p90 %.0f, p99 %.0f, slowest book (max) %.0f ns\n", NSCEN, TRIES, REPS, bmed, p90,
               p99, worst);
        printf("  mixed lots, %zu decisions each timed alone (timer %.0f ns subtracted): median "
               "%.0f ns, p99 %.0f, max %.0f; books' medians: p90 %.0f, slowest %.0f ns\n",
               sr.n, sr.timer_ns, sr.all.p50, sr.all.p99, sr.all.max, sr.p90_book, sr.worst_book);
        printf("  allocations in timed regions: %lld\n", (long long)(ua < 0 || ma < 0 ? -1 : ua + ma));
    }
    return BRS_EXIT_OK;
}
