/* ab.c: paired comparisons for benchmarks (bench.h): a figure measured with a
 * feature off and on, alternately, as pairs taken in the same seconds; each
 * pair's ratio on / off, summarised by the median, the quartiles and a
 * bootstrap 95% interval of the median. Load that drifts hits both runs of a
 * pair alike, so the ratios resolve what single runs on a shared machine do not. */
#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "bench.h"

#define BOOT 4000

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of n sorted values, linear between the closest ranks. */
static double quantile(const double *s, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double h = q * (double)(n - 1);
    size_t i = (size_t)h;
    return i + 1 < n ? s[i] + (h - (double)i) * (s[i + 1] - s[i]) : s[n - 1];
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return quantile(v, n, 0.5);
}

void brs__ab_compute(const double *off, const double *on, size_t n, brs_ab *out)
{
    *out = (brs_ab){.median = NAN, .q1 = NAN, .q3 = NAN, .lo95 = NAN, .hi95 = NAN, .off = NAN, .on = NAN};
    double *r = malloc((n ? n : 1) * 3 * sizeof *r);
    if (!r)
        return;
    double *a = r + n, *b = r + 2 * n;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(off[i]) && isfinite(on[i]) && off[i] > 0) {
            a[k] = off[i];
            b[k] = on[i];
            r[k++] = on[i] / off[i];
        }
    out->n = k;
    if (k) {
        out->off = median_of(a, k);
        out->on = median_of(b, k);
        qsort(r, k, sizeof *r, cmp_double);
        out->median = quantile(r, k, 0.5);
        out->q1 = quantile(r, k, 0.25);
        out->q3 = quantile(r, k, 0.75);
        /* bootstrap of the median: resample the pairs with replacement (a
         * fixed generator: the same samples give the same interval) */
        double *boot = malloc(BOOT * sizeof *boot), *t = malloc(k * sizeof *t);
        uint64_t x = 0x9e3779b97f4a7c15ull;
        for (int j = 0; boot && t && j < BOOT; j++) {
            for (size_t i = 0; i < k; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                t[i] = r[x % k];
            }
            boot[j] = median_of(t, k);
        }
        if (boot && t) {
            qsort(boot, BOOT, sizeof *boot, cmp_double);
            out->lo95 = quantile(boot, BOOT, 0.025);
            out->hi95 = quantile(boot, BOOT, 0.975);
        }
        free(boot);
        free(t);
    }
    free(r);
}

static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

struct cJSON *brs__ab_json(const brs_ab *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "pairs", (double)s->n);
    add_num(o, "off", s->off);
    add_num(o, "on", s->on);
    add_num(o, "ratio", s->median);
    add_num(o, "ratio_q1", s->q1);
    add_num(o, "ratio_q3", s->q3);
    add_num(o, "ratio_lo95", s->lo95);
    add_num(o, "ratio_hi95", s->hi95);
    return o;
}
