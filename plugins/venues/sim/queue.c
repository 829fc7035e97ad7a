/* queue.c: how the simulated venue splits an L2 cancel between the exchange
 * quantity ahead of and behind our resting orders (queue.h). Integers come
 * out; the power model's fractions are carried per order, not dropped. */
#include "queue.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {"risk_averse", "prob", "optimistic"};

int simq_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *simq_name(int model)
{
    return model >= 0 && model < (int)(sizeof names / sizeof names[0]) ? names[model] : "?";
}

double simq_p_ahead(int64_t ahead, int64_t behind, double n)
{
    if (ahead <= 0)
        return 0;
    if (behind <= 0)
        return 1;
    /* A^n / (A^n + B^n) written as 1 / (1 + (B/A)^n): no overflow for big
     * levels or big n (pow saturates to inf or 0, never NaN here) */
    return 1.0 / (1.0 + pow((double)behind / (double)ahead, n));
}

void simq_split(int model, double n, int64_t d, int64_t total, const int64_t *ahead, size_t k,
                double *carry, int64_t *x)
{
    int64_t prev_x = 0, prev_a = 0;
    for (size_t j = 0; j < k; j++) {
        int64_t behind = total - ahead[j];
        int64_t lo = d - behind > prev_x ? d - behind : prev_x;
        int64_t hi = prev_x + (ahead[j] - prev_a);
        if (hi > d)
            hi = d;
        if (hi < lo) /* only with inconsistent input; stay inside what exists */
            hi = lo;
        int64_t v;
        if (model == SIMQ_RISK_AVERSE) {
            v = lo;
        } else if (model == SIMQ_OPTIMISTIC) {
            v = hi;
        } else {
            double want = (double)d * simq_p_ahead(ahead[j], behind, n) + carry[j];
            v = (int64_t)llround(want);
            if (v < lo)
                v = lo;
            if (v > hi)
                v = hi;
            double rest = want - (double)v; /* owed to (or by) the next cancel */
            carry[j] = rest > 0.5 ? 0.5 : rest < -0.5 ? -0.5 : rest;
        }
        x[j] = v;
        prev_x = v;
        prev_a = ahead[j];
    }
}
