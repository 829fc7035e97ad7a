/* exec_stats.c: inventory and execution figures of a routed book-mode run
 * (exec_stats.h). Doubles are fine here: this is analytics, not accounting. */
#include "exec_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int brs__xstats_init(brs__xstats *x, uint32_t n_instr, double inventory_limit)
{
    memset(x, 0, sizeof *x);
    x->n_instr = n_instr;
    x->inventory_limit = inventory_limit;
    x->pos = calloc(n_instr ? n_instr : 1, sizeof *x->pos);
    return x->pos ? BRS_OK : BRS_E_NOMEM;
}

void brs__xstats_free(brs__xstats *x)
{
    free(x->pos);
    x->pos = NULL;
}

void brs__xstats_fill(brs__xstats *x, const brs_order_event *ev, double arrival_mid, double mid_now,
                      double price_scale)
{
    if (ev->instrument >= x->n_instr)
        return;
    double sign = ev->side == BRS_BUY ? 1 : -1, q = (double)ev->qty;
    int64_t *p = &x->pos[ev->instrument];
    *p += ev->side == BRS_BUY ? ev->qty : -ev->qty;
    if (llabs(*p) > x->max_abs)
        x->max_abs = llabs(*p);
    /* spread captured: the edge of each fill against the mid when it happened */
    if (!isnan(mid_now))
        x->spread_captured += sign * (mid_now - (double)ev->price) * q / price_scale;
    /* execution cost: price paid against the arrival mid, plus the fee */
    if (!isnan(arrival_mid)) {
        x->cost_num += sign * ((double)ev->price - arrival_mid) * q + (double)ev->fee;
        x->cost_den += arrival_mid * q;
    }
    if (ev->venue < BRS__XS_MAX_VENUES)
        x->venue_qty[ev->venue] += ev->qty;
}

void brs__xstats_summary(const brs__xstats *x, brs_an_recorder *rec, const char *const *venue_names,
                         uint32_t n_venues)
{
    brs__an_set_extra(rec, "max_abs_inventory", (double)x->max_abs);
    brs__an_set_extra(rec, "inventory_limit", x->inventory_limit);
    brs__an_set_extra(rec, "spread_captured", x->spread_captured);
    brs__an_set_extra(rec, "exec_cost_bps", x->cost_den > 0 ? x->cost_num / x->cost_den * 1e4 : NAN);
    brs__an_set_extra(rec, "parent_orders", (double)x->parents);
    brs__an_set_extra(rec, "parents_rejected", (double)x->rejected);
    for (uint32_t i = 0; i < n_venues && i < BRS__XS_MAX_VENUES; i++) {
        char k[96];
        snprintf(k, sizeof k, "filled_qty_%s", venue_names[i]);
        brs__an_set_extra(rec, k, (double)x->venue_qty[i]);
    }
}
