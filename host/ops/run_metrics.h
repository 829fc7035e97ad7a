/* run_metrics.h: Prometheus metrics of a strategy run (`bourse live`, and
 * `bourse backtest --metrics`): callback time, orders and fills, position and
 * PnL per strategy and instrument, and for live runs feed lag and venue up.
 * The strategy runtime counts into a brs__sctx_meter (host/strategy/runtime.h)
 * and the loop publishes into the registry at most every 100 ms; the HTTP
 * thread serves /metrics. Internal. */
#ifndef BRS_OPS_RUN_METRICS_H
#define BRS_OPS_RUN_METRICS_H

#include <stdint.h>

#include <bourse/errors.h>

#include "strategy/runtime.h"

typedef struct brs__run_metrics brs__run_metrics;

typedef struct brs__run_metrics_opts {
    const char *listen; /* "127.0.0.1:9464" (port 0: a free one) */
    const char *mode;   /* "live" or "backtest": the mode label */
    const char *venue;  /* live: the feed's venue name (venue label); NULL: none */
    uint32_t every;     /* time one strategy callback in `every` (1: all) */
    /* Register into this registry (a server's, which serves it: `bourse serve`'s
     * strategies) instead of a new one with its own listener; listen unused. */
    struct brs__mreg *reg;
} brs__run_metrics_opts;

/* Register the series for sc's strategy and instruments, attach the meter to
 * sc, serve /metrics. */
int brs__run_metrics_start(brs__run_metrics **out, const brs__run_metrics_opts *o, brs__sctx *sc, brs_error *err);
/* Publish now if 100 ms passed since the last time (force: now). Loop thread. */
void brs__run_metrics_sync(brs__run_metrics *m, int64_t now_mono, int force);
/* Live feeds: the lag of a market event (local receive minus exchange time)
 * and whether the venue's feed is up. Plain stores, published by sync. */
void brs__run_metrics_feed(brs__run_metrics *m, const brs_market_event *ev);
void brs__run_metrics_venue_up(brs__run_metrics *m, int up);
int brs__run_metrics_port(const brs__run_metrics *m);
/* Detach from sc, stop serving, free. */
void brs__run_metrics_stop(brs__run_metrics *m);

#endif
