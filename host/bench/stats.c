/* stats.c: statistics for benchmarks, and the allocation counter hook. */
#include "bench.h"

#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double rank(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)n);
    if (i >= n)
        i = n - 1;
    return sorted[i];
}

void brs__stats_compute(double *samples, size_t n, brs_stats *out)
{
    *out = (brs_stats){.n = n};
    if (n == 0)
        return;
    qsort(samples, n, sizeof *samples, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    out->min = samples[0];
    out->max = samples[n - 1];
    out->mean = sum / (double)n;
    out->p50 = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    out->p90 = rank(samples, n, 0.90);
    out->p99 = rank(samples, n, 0.99);
    out->p999 = rank(samples, n, 0.999);
}

double brs__median(double *samples, size_t n)
{
    brs_stats s;
    brs__stats_compute(samples, n, &s);
    return s.p50;
}

/* Defined by bench/alloc_count.c in the bourse binary only. */
extern int64_t brs__alloc_counter_read(void) __attribute__((weak));

int64_t brs__alloc_count(void)
{
    return brs__alloc_counter_read ? brs__alloc_counter_read() : -1;
}
