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
 * delivered once it returns. A market-event callback (bar, trade, top,
 * depth, raw event) enters with brs__sctx_enter_market, any other (open,
 * start, stop, timer, order, reload, the backend's market pass) with
 * brs__sctx_enter, which also counts it in n_other. */
static inline void brs__sctx_enter_market(brs__sctx *sc)
{
    if (BRS__UNLIKELY(++sc->tick == 0))
        brs__sctx_meter_start(sc);
    sc->in_callback = 1;
}
static inline void brs__sctx_enter(brs__sctx *sc)
{
    sc->n_other++;
    brs__sctx_enter_market(sc);
}

/* The per-callback log state (last_error_log: what a failure of the callback
 * quotes; log_cb) belongs to the callback whose epoch (brs__sctx_ticks) it
 * was taken at. Every callback adds 1 to it, so the first log line of a callback, or
 * its guard, finds the state stale and clears it: nothing is cleared on the
 * callbacks that log nothing. */
static inline void brs__sctx_log_fresh(brs__sctx *sc)
{
    uint64_t epoch = brs__sctx_ticks(sc);
    if (sc->log_seq != epoch) {
        sc->log_seq = epoch;
        sc->last_error_log[0] = '\0';
        sc->log_cb = 0;
    }
}

/* After any change to started, failed or d_len: whether
 * brs__sctx_call_bar's inline path applies, as one bound on tick. */
static inline void brs__sctx_regate(brs__sctx *sc)
{
    sc->bar_gate = sc->started && !sc->hold && sc->on_bar ? 0 : INT64_MIN;
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
