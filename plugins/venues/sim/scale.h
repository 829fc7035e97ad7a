/* scale.h: liquidity scaling of replayed L3 orders for the simulated venue.
 * A venue with liquidity_scale k shows each exchange order at k times its size.
 * Scaling each event on its own would round every partial execution and cancel
 * separately, so an order's scaled parts would not add up to its scaled whole
 * (x1.4: 10 lots show as 14, but executions of 3, 3, 3 and a cancel of 1 take
 * 4 + 4 + 4 + 1 = 13, leaving a lot that never goes away). Instead each live
 * order keeps its unscaled size left, u, and is shown at round(k * u) (at least
 * 1 while u > 0); an event that takes x lots takes the difference
 * round(k * u) - round(k * (u - x)), so an order gone in the data is gone in
 * the venue, to the lot. Open addressing keyed by the engine id, backward-shift
 * deletion; memory follows the live orders. */
#ifndef SIM_SCALE_H
#define SIM_SCALE_H

#include <stdint.h>

typedef struct simx_order {
    uint64_t id; /* 0: empty */
    int64_t u;   /* unscaled lots left */
    int64_t q;   /* scaled lots shown: round(k * u), at least 1 while u > 0 */
} simx_order;

typedef struct simx {
    double k;
    simx_order *t;
    uint32_t cap, n;
} simx;

/* k > 0. Returns 0, or -1 when out of memory. */
int simx_init(simx *x, double k);
void simx_free(simx *x);

/* round(k * u), at least 1 for u > 0; 0 for u <= 0. */
int64_t simx_scale(const simx *x, int64_t u);

/* An order of u lots appears (a new order, or a modify's new size): returns
 * its scaled size. Replaces any entry under id. -1: out of memory (the caller
 * then shows simx_scale(u) without tracking it). */
int64_t simx_add(simx *x, uint64_t id, int64_t u);

/* dx lots of order id go (execution or partial cancel): returns the scaled
 * lots that go with them; the entry is dropped when nothing is left. An id not
 * tracked (the data began after its add) is scaled on its own. */
int64_t simx_take(simx *x, uint64_t id, int64_t dx);

/* Order id leaves entirely (full cancel, or replaced): returns the scaled lots
 * it showed (simx_scale(dx) if not tracked; dx may be 0). */
int64_t simx_remove(simx *x, uint64_t id, int64_t dx);

#endif
