/* stats.c: statistics over an equity curve that both the metrics and the report
 * need: resampling to days, months and years, drawdown episodes, quantiles. One
 * implementation, so a figure in summary.json and the chart beside it agree. */
#include "an_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_DAY INT64_C(86400000000000)

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, public domain
 * description: era of 400 years, March-based year). */
void brs__an_civil(int64_t ts, int *y, int *m, int *d)
{
    int64_t z = brs__an_day(ts) + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = mm;
    *d = dd;
}

static int64_t period_key(int64_t ts, int kind)
{
    if (kind == BRS_AN_DAY)
        return brs__an_day(ts);
    int y, m, d;
    brs__an_civil(ts, &y, &m, &d);
    return kind == BRS_AN_MONTH ? (int64_t)y * 12 + (m - 1) : y;
}

void brs__an_periods_free(brs_an_periods *p)
{
    free(p->ts);
    free(p->eq);
    free(p->bench);
    free(p->ret);
    free(p->bret);
    memset(p, 0, sizeof *p);
}

static double ratio(double a, double b)
{
    return isfinite(a) && isfinite(b) && b != 0 ? a / b - 1.0 : NAN;
}

static int periods(const brs_an_series *s, int kind, int64_t period_ns, brs_an_periods *out);

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return a % b < 0 ? q - 1 : q;
}

int brs__an_periods(const brs_an_series *s, int kind, brs_an_periods *out)
{
    return periods(s, kind, 0, out);
}

int brs__an_periods_every(const brs_an_series *s, int64_t period_ns, brs_an_periods *out)
{
    return periods(s, 0, period_ns > 0 ? period_ns : 1, out);
}

static int periods(const brs_an_series *s, int kind, int64_t period_ns, brs_an_periods *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = s->n ? s->n : 1;
    out->ts = malloc(cap * sizeof *out->ts);
    out->eq = malloc(cap * sizeof *out->eq);
    out->bench = malloc(cap * sizeof *out->bench);
    out->ret = malloc(cap * sizeof *out->ret);
    out->bret = malloc(cap * sizeof *out->bret);
    if (!out->ts || !out->eq || !out->bench || !out->ret || !out->bret) {
        brs__an_periods_free(out);
        return BRS_E_NOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        int last = i + 1 == s->n ||
                   (period_ns ? floordiv(s->ts[i + 1], period_ns) != floordiv(s->ts[i], period_ns)
                              : period_key(s->ts[i + 1], kind) != period_key(s->ts[i], kind));
        if (i != 0 && !last)
            continue;
        size_t k = out->n++;
        out->ts[k] = s->ts[i];
        out->eq[k] = s->equity[i];
        out->bench[k] = s->bench ? s->bench[i] : NAN;
        if (k > 0) {
            out->ret[k - 1] = out->eq[k - 1] != 0 ? out->eq[k] / out->eq[k - 1] - 1.0 : NAN;
            out->bret[k - 1] = ratio(out->bench[k], out->bench[k - 1]);
        }
    }
    return BRS_OK;
}

static int by_depth(const void *a, const void *b)
{
    const brs_an_dd_episode *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    return x->peak_ts < y->peak_ts ? -1 : x->peak_ts > y->peak_ts;
}

/* Keep the `max` deepest in out (sorted); an insertion into a short list. */
static void keep(brs_an_dd_episode *out, size_t *n, size_t max, const brs_an_dd_episode *e)
{
    if (*n < max) {
        out[(*n)++] = *e;
    } else if (by_depth(e, &out[max - 1]) < 0) {
        out[max - 1] = *e;
    } else {
        return;
    }
    qsort(out, *n, sizeof *out, by_depth);
}

size_t brs__an_worst_drawdowns(const brs_an_series *s, brs_an_dd_episode *out, size_t max)
{
    size_t n = 0;
    if (s->n == 0 || max == 0)
        return 0;
    brs_an_dd_episode cur = {0};
    int in_dd = 0;
    double peak = s->equity[0];
    int64_t peak_ts = s->ts[0];
    for (size_t i = 0; i < s->n; i++) {
        double e = s->equity[i];
        if (e >= peak) {
            if (in_dd) {
                cur.recovery_ts = cur.end_ts = s->ts[i];
                keep(out, &n, max, &cur);
                in_dd = 0;
            }
            peak = e;
            peak_ts = s->ts[i];
        } else {
            if (!in_dd) {
                in_dd = 1;
                cur = (brs_an_dd_episode){.peak_ts = peak_ts, .peak = peak, .trough = e,
                                          .trough_ts = s->ts[i], .recovery_ts = -1};
            }
            if (e < cur.trough) {
                cur.trough = e;
                cur.trough_ts = s->ts[i];
            }
            cur.depth = peak > 0 ? (peak - cur.trough) / peak : 0;
        }
    }
    if (in_dd) {
        cur.end_ts = s->ts[s->n - 1];
        keep(out, &n, max, &cur);
    }
    return n;
}

double brs__an_quantile(const double *x, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}
