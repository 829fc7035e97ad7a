/* metrics.h: Prometheus metrics for long-running commands. A registry of
 * counters, gauges and histograms, registered at start-up (allocation there
 * only), updated on the hot path with no lock and no allocation, and rendered in
 * the Prometheus text exposition format (version 0.0.4) when scraped.
 *
 * Threading: each series has ONE writer thread (the event loop); the scraper
 * (host/ops/http.c's thread) only reads. Updates are relaxed atomic loads and
 * stores, which compile to plain moves on x86-64: no lock prefix, no fence.
 * Gauges that are cheaper to compute when read register a function instead;
 * such a function runs on the scraper thread and must only read thread-safe
 * sources (/proc, atomics). Internal (brs__ prefix). */
#ifndef BRS_OPS_METRICS_H
#define BRS_OPS_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

typedef struct brs__counter {
    _Atomic uint64_t v;
} brs__counter;

typedef struct brs__gauge {
    _Atomic uint64_t bits; /* a double's bits */
} brs__gauge;

#define BRS__HIST_MAX_BUCKETS 24
typedef struct brs__histogram {
    int n;                                    /* finite upper bounds */
    int64_t bound_ns[BRS__HIST_MAX_BUCKETS];  /* ascending, in ns */
    /* first[k]: the first bucket whose bound is >= 2^k (k > 0; first[0] = 0):
     * where an observation in [2^k, 2^(k+1)) starts looking (a zeroed
     * histogram, n = 0, is valid: everything in +Inf) */
    uint8_t first[64];
    _Atomic uint64_t bucket[BRS__HIST_MAX_BUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
    _Atomic uint64_t sum_ns;
} brs__histogram;

static inline void brs__counter_add(brs__counter *c, uint64_t n)
{
    atomic_store_explicit(&c->v, atomic_load_explicit(&c->v, memory_order_relaxed) + n, memory_order_relaxed);
}
static inline void brs__counter_inc(brs__counter *c) { brs__counter_add(c, 1); }
/* A counter whose owner keeps the running total elsewhere: publish it. */
static inline void brs__counter_set(brs__counter *c, uint64_t v)
{
    atomic_store_explicit(&c->v, v, memory_order_relaxed);
}
static inline uint64_t brs__counter_get(const brs__counter *c)
{
    return atomic_load_explicit(&((brs__counter *)c)->v, memory_order_relaxed);
}

static inline void brs__gauge_set(brs__gauge *g, double v)
{
    union {
        double d;
        uint64_t u;
    } x = {.d = v};
    atomic_store_explicit(&g->bits, x.u, memory_order_relaxed);
}
double brs__gauge_get(const brs__gauge *g);
static inline void brs__gauge_add(brs__gauge *g, double d) { brs__gauge_set(g, brs__gauge_get(g) + d); }

/* Observe a duration in ns n times (a negative one counts as 0): what n
 * calls of brs__hist_observe_ns would do, in one (the FIX gateway observes
 * the orders of one loop turn, which share an arrival time, so). */
static inline void brs__hist_observe_n_ns(brs__histogram *h, int64_t ns, uint64_t n)
{
    if (ns < 0)
        ns = 0;
    /* the first bound >= ns (n: +Inf): from the first bound of ns's power of
     * two on (one or two steps with bounds 2x-2.5x apart, as the default's) */
    int i = h->first[63 - __builtin_clzll((uint64_t)ns | 1)];
    while (i < h->n && ns > h->bound_ns[i])
        i++;
    atomic_store_explicit(&h->bucket[i], atomic_load_explicit(&h->bucket[i], memory_order_relaxed) + n,
                          memory_order_relaxed);
    atomic_store_explicit(&h->sum_ns, atomic_load_explicit(&h->sum_ns, memory_order_relaxed) + (uint64_t)ns * n,
                          memory_order_relaxed);
}

/* Observe a duration in ns (a negative one counts as 0). */
static inline void brs__hist_observe_ns(brs__histogram *h, int64_t ns) { brs__hist_observe_n_ns(h, ns, 1); }

/* Arrival times waiting for one clock read (the order gateways' latency
 * histograms: the FIX gateway's, host/fix/app_er.c, and the WebSocket
 * gateway's, host/wsgate), run-length coded: the orders read in one loop
 * turn share a time, so a burst of them is one entry and, at the turn's end,
 * one observation of n. */
#define BRS__LATQ_BATCH 256
typedef struct brs__latq {
    int64_t t[BRS__LATQ_BATCH];
    uint32_t n_at[BRS__LATQ_BATCH];
    uint32_t n;
} brs__latq;

/* Is there no room for t (the batch is full and t is not its last time)?
 * Then the owner observes what waits first (brs__latq_observe). */
static inline int brs__latq_full(const brs__latq *q, int64_t t)
{
    return q->n == BRS__LATQ_BATCH && q->t[q->n - 1] != t;
}
/* Note an arrival time (there is room: brs__latq_full said no). */
static inline void brs__latq_note(brs__latq *q, int64_t t)
{
    uint32_t n = q->n;
    if (n && q->t[n - 1] == t) {
        q->n_at[n - 1]++;
        return;
    }
    q->t[n] = t;
    q->n_at[n] = 1;
    q->n = n + 1;
}
/* Observe each noted arrival's latency to now into h (NULL: dropped); empty after. */
static inline void brs__latq_observe(brs__latq *q, brs__histogram *h, int64_t now)
{
    for (uint32_t k = 0; h && k < q->n; k++)
        brs__hist_observe_n_ns(h, now - q->t[k], q->n_at[k]);
    q->n = 0;
}

typedef struct brs__mreg brs__mreg;

brs__mreg *brs__mreg_new(void);
void brs__mreg_free(brs__mreg *r);

/* Register a series. name follows Prometheus naming (counters end in _total,
 * base units); labels is NULL or "k1=v1,k2=v2" (values without commas or
 * quotes: they are fixed at registration, never order ids). The same name with
 * other labels adds a series to the family; the help and type must agree.
 * Returns NULL (and logs why) on a bad name, label or a type clash. */
brs__counter *brs__mreg_counter(brs__mreg *r, const char *name, const char *help, const char *labels);
brs__gauge *brs__mreg_gauge(brs__mreg *r, const char *name, const char *help, const char *labels);
/* bounds: ascending upper bounds in seconds (at most BRS__HIST_MAX_BUCKETS);
 * NULL for the default latency buckets, 1 us .. 10 s. */
brs__histogram *brs__mreg_histogram(brs__mreg *r, const char *name, const char *help, const char *labels,
                                    const double *bounds, int n);
/* A gauge computed when scraped (on the scraper's thread). */
int brs__mreg_gauge_fn(brs__mreg *r, const char *name, const char *help, const char *labels,
                       double (*fn)(void *ctx), void *ctx);
/* process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds,
 * process_max_fds, process_start_time_seconds, process_virtual_memory_bytes
 * (read from /proc when scraped), and bourse_build_info{version=...}. */
int brs__mreg_add_process(brs__mreg *r);

/* Render every series as Prometheus text into a malloc'd buffer. */
int brs__mreg_render(brs__mreg *r, char **out, size_t *len, brs_error *err);

#endif
