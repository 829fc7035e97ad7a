/* exec_stats.h: the execution and inventory figures of a book-mode run through
 * the router, for summary.json: max_abs_inventory, inventory_limit,
 * spread_captured, exec_cost_bps (against the arrival mid), parents and fills
 * per venue. Definitions: docs/backtesting.md ("Execution figures"). */
#ifndef BRS_RUNTIME_EXEC_STATS_H
#define BRS_RUNTIME_EXEC_STATS_H

#include <stdint.h>

#include <bourse/types.h>

#include "analytics/analytics.h"

#define BRS__XS_MAX_VENUES 8

typedef struct brs__xstats {
    uint32_t n_instr;
    int64_t *pos;              /* [n_instr] */
    int64_t max_abs;
    double inventory_limit;    /* NaN: none configured */
    double spread_captured;    /* currency */
    double cost_num, cost_den; /* price units x qty */
    int64_t venue_qty[BRS__XS_MAX_VENUES];
    uint64_t parents, rejected;
} brs__xstats;

int brs__xstats_init(brs__xstats *x, uint32_t n_instr, double inventory_limit);
void brs__xstats_free(brs__xstats *x);
/* One fill of a parent: arrival_mid is the strategy's mid when the order was
 * sent, mid_now when the fill reached it (price units; NaN: none). */
void brs__xstats_fill(brs__xstats *x, const brs_order_event *ev, double arrival_mid, double mid_now,
                      double price_scale);
void brs__xstats_summary(const brs__xstats *x, brs_an_recorder *rec, const char *const *venue_names,
                         uint32_t n_venues);

#endif
