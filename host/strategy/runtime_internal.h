/* runtime_internal.h: what the strategy runtime's files share (runtime.c: the
 * callback guard, lifecycle and dispatch; runtime_orders.c: order events and
 * order services; runtime_host.c: the other brs_host services). Not an API. */
#ifndef BRS_STRATEGY_RUNTIME_INTERNAL_H
#define BRS_STRATEGY_RUNTIME_INTERNAL_H

#include "core/core.h"
#include "runtime.h"

#define SC(ctx) ((brs__sctx *)(void *)(ctx))

/* runtime_host.c: fill in the parameter, clock, log, instrument, market-view,
 * timer, signal and plot members of the services table. */
void brs__sctx_host_services(brs_host *h);
/* runtime_host.c: the parameters of vt->params from `given` (errors name them). */
int brs__sctx_params_init(brs__sctx *sc, const brs_strategy_vtable *vt, const cJSON *given,
                          const char *where, brs_error *err);
/* runtime_orders.c: the order members of the services table. */
void brs__sctx_host_orders(brs_host *h);
/* runtime_orders.c: cancel every open order of instrument (or all). */
int brs__sctx_cancel_all(brs__sctx *sc, uint32_t instrument);
/* runtime_orders.c: deliver the order events queued during a callback, and
 * the refusals deferred from the previous event. */
void brs__sctx_drain(brs__sctx *sc);
void brs__sctx_flush_deferred(brs__sctx *sc);

/* runtime.c: the callback guard's slow parts. */
void brs__sctx_meter_start(brs__sctx *sc);
void brs__sctx_after_callback(brs__sctx *sc, int rc, const char *cb);
/* A timer or order callback may run (per-event and per-instant bounds);
 * 0: over a bound, the strategy has failed. */
int brs__sctx_chain_ok(brs__sctx *sc);

/* Every strategy callback goes through enter and then leave (runtime.c) or
 * brs__sctx_after_callback: events produced meanwhile queue up and are
 * delivered once it returns. */
static inline void brs__sctx_enter(brs__sctx *sc)
{
    if (BRS__UNLIKELY(--sc->meter_left == 0))
        brs__sctx_meter_start(sc);
    sc->in_callback = 1;
    sc->n_entered++; /* a new log epoch (brs__sctx_log_fresh) */
}

/* The per-callback log state (last_error_log: what a failure of the callback
 * quotes; log_cb) belongs to the callback whose epoch n_callbacks + n_entered
 * it was taken at. Every callback changes that sum (brs__sctx_enter counts
 * n_entered, the inline dispatches n_callbacks), so the first log line of a
 * callback, or its guard, finds the state stale and clears it: nothing is
 * cleared on the callbacks that log nothing. */
static inline void brs__sctx_log_fresh(brs__sctx *sc)
{
    uint64_t epoch = sc->n_callbacks + sc->n_entered;
    if (sc->log_seq != epoch) {
        sc->log_seq = epoch;
        sc->last_error_log[0] = '\0';
        sc->log_cb = 0;
    }
}

/* A new event from outside: the per-event bound starts again, and refusals
 * the strategy caused during the previous one are delivered first. */
static inline void brs__sctx_new_event(brs__sctx *sc)
{
    sc->chain = 0;
    if (BRS__UNLIKELY(sc->d_len))
        brs__sctx_flush_deferred(sc);
}

#endif
