/* venue.h: the venue (exchange adapter) vtable.
 * A venue takes orders from the host and reports back through
 * brs_host.xEmitOrderEvent / xEmitMarketEvent. Simulated venues receive replayed
 * market data through xOnMarket; live venues do their I/O in xPoll. */
#ifndef BOURSE_VENUE_H
#define BOURSE_VENUE_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "host.h"
#include "types.h"

typedef struct brs_venue_vtable {
    uint32_t size; /* sizeof(brs_venue_vtable) as the plugin compiled it */
    uint32_t reserved;

    /* ---- ABI 1.0, required ---------------------------------------------- */
    /* self is instance_size zeroed bytes owned by the host. xClose runs exactly
     * once after every xOpen, even a failed one. */
    int (*xOpen)(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err);
    void (*xClose)(void *self);
    /* Order entry. Returns BRS_OK when taken (events follow) or a negative code
     * (refused: the host reports BRS_OEV_REJECTED with it, unless the venue
     * emitted a REJECTED for this order during the call: one either way). */
    int (*xSubmit)(void *self, const brs_order *order);
    int (*xCancel)(void *self, uint64_t order_id);
    int (*xReplace)(void *self, uint64_t order_id, int64_t price, int64_t qty);

    /* ---- ABI 1.0, optional ---------------------------------------------- */
    /* Simulated venues: one replayed market event (valid only during the call). */
    int (*xOnMarket)(void *self, const brs_market_event *ev);
    /* Live venues: do pending I/O without blocking; returns events handled or < 0. */
    int (*xPoll)(void *self, int64_t now);
    int (*xTop)(void *self, uint32_t instrument, brs_top *out);
    int (*xDepth)(void *self, uint32_t instrument, uint8_t side, brs_level *out, uint32_t cap,
                  uint32_t *n);
} brs_venue_vtable;

/* The host refuses a venue vtable smaller than this. */
#define BRS_VENUE_VTABLE_MIN (offsetof(brs_venue_vtable, xReplace) + sizeof(void (*)(void)))

#endif
