/* queue.h: the L2 queue model of the simulated venue. With L2 data only the
 * total at a level is known, so when it shrinks without a trade (a cancel) the
 * venue must guess how much of the cancel was ahead of each of our orders there.
 * Pure functions, no state: sim.c keeps the carries with its orders.
 * The models and their formula are in docs/backtesting.md, "Queue position". */
#ifndef SIM_QUEUE_H
#define SIM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

enum simq_model {
    SIMQ_RISK_AVERSE, /* every cancel behind our orders (front only when forced) */
    SIMQ_PROB,        /* power model: P(ahead) = A^n / (A^n + B^n), as an expected value */
    SIMQ_OPTIMISTIC,  /* every cancel ahead of our orders (a bound, not a forecast) */
};

/* "risk_averse", "prob", "optimistic" -> the model; -1 for anything else. */
int simq_parse(const char *name);
const char *simq_name(int model);

/* The probability that one lot cancelled at a level is ahead of an order with
 * `ahead` lots in front of it and `behind` lots after it (prob model, power n). */
double simq_p_ahead(int64_t ahead, int64_t behind, double n);

/* A cancel of d lots at a level holding `total` exchange lots and k orders of
 * ours, with ahead[j] exchange lots in front of our j-th order (front first,
 * non-decreasing, <= total; d <= total). Writes x[j], the lots of the cancel
 * taken from in front of order j: integers, non-decreasing, x[j] - x[j-1] <=
 * ahead[j] - ahead[j-1], x[j] >= d - (total - ahead[j]) (what is behind cannot
 * absorb more than it holds) and x[j] <= min(d, ahead[j]). Within those bounds:
 * risk_averse takes the least, optimistic the most, prob rounds
 * d x simq_p_ahead() plus the order's carry (its rounding remainder from
 * earlier cancels, kept in [-0.5, 0.5]) to the nearest integer, so fractions
 * are not lost over many small cancels and runs stay deterministic. */
void simq_split(int model, double n, int64_t d, int64_t total, const int64_t *ahead, size_t k,
                double *carry, int64_t *x);

#endif
