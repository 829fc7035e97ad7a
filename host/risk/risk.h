/* risk.h: pre-trade risk checks in front of the smart order router: order size
 * and notional, worst-case position per instrument, a price band around a
 * reference price, an order rate limit (token bucket on the run's clock) and a
 * kill switch. A refused order gets BRS_E_RISK and a message naming the check.
 * Integer arithmetic only; no allocation after init. Not thread-safe. */
#ifndef BRS_RISK_H
#define BRS_RISK_H

#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

#include "core/config.h"

#define BRS_RISK_MAX_INSTRUMENTS 64

/* One instrument's limits; 0 means "no limit" for every field. */
typedef struct brs_risk_limits {
    int64_t max_order_qty;      /* qty of one order */
    int64_t max_order_notional; /* price (ticks) x qty of one order; market orders use the reference */
    int64_t max_position;       /* |position + open orders of the side + this order| */
    int64_t price_band_bps;     /* limit price within reference x (1 +- band/10^4) */
} brs_risk_limits;

typedef struct brs_risk_config {
    brs_risk_limits def;                                /* every instrument */
    brs_risk_limits inst[BRS_RISK_MAX_INSTRUMENTS];     /* per instrument overrides, 0 = def */
    int64_t rate_per_sec; /* orders per second refilled into the bucket (0: no rate limit) */
    int64_t rate_burst;   /* bucket capacity (0: rate_per_sec) */
} brs_risk_config;

typedef struct brs_risk {
    brs_risk_config cfg;
    int64_t position[BRS_RISK_MAX_INSTRUMENTS];
    int64_t open_qty[BRS_RISK_MAX_INSTRUMENTS][2]; /* by side */
    int64_t ref_price[BRS_RISK_MAX_INSTRUMENTS];   /* 0: unknown (band and market notional refuse) */
    int64_t tokens_e9;  /* tokens x 10^9 */
    int64_t last_ns;    /* clock of the last refill; INT64_MIN before the first */
    int killed;
    char kill_reason[96];
} brs_risk;

void brs__risk_init(brs_risk *r, const brs_risk_config *cfg);

/* Reads the "risk" object of a config (NULL: no limits). Keys: max_order_qty,
 * max_order_notional, max_position, price_band_bps, rate_per_sec, rate_burst,
 * and "instruments": {"SYMBOL": {max_order_qty, max_order_notional,
 * max_position, price_band_bps}} resolved against the run's instrument table.
 * Unknown keys, symbols and negative values are errors naming file and key. */
int brs__risk_config_read(const brs_config *cfg, const cJSON *risk, const brs_instrument *insts,
                          uint32_t n_insts, brs_risk_config *out, brs_error *err);

/* The check. BRS_OK, or BRS_E_RISK with the check's name first in err->msg
 * ("max_order_qty: ..."). A passing order consumes one rate token. */
int brs__risk_check(brs_risk *r, const brs_order *o, int64_t now, brs_error *err);

/* The same checks for a replace (cancel/replace of an open order): o carries
 * the new price and the new total quantity; old_leaves is the replaced order's
 * open quantity (no longer counted among the side's open orders) and cum what
 * it has filled (already in the position, so only qty - cum may still add to it).
 * Size, notional and band apply to the new order as a whole; a replace consumes
 * a rate token like a new order. */
int brs__risk_check_replace(brs_risk *r, const brs_order *o, int64_t old_leaves, int64_t cum,
                            int64_t now, brs_error *err);
/* Bookkeeping the checks depend on. */
void brs__risk_set_ref(brs_risk *r, uint32_t instrument, int64_t price);
void brs__risk_on_open(brs_risk *r, uint32_t instrument, int side, int64_t qty);
void brs__risk_on_fill(brs_risk *r, uint32_t instrument, int side, int64_t qty);
void brs__risk_on_close(brs_risk *r, uint32_t instrument, int side, int64_t leaves);

/* Kill switch: every later check refuses ("kill_switch: <reason>"). Cancelling
 * what is open is the order manager's part (brs__sor_kill). */
void brs__risk_kill(brs_risk *r, const char *reason);
void brs__risk_rearm(brs_risk *r);

#endif
