/* fix_metrics.h: the FIX gateway's Prometheus metrics (fix_metrics.c):
 * started when serve.json has metrics.listen, synced by the event loop. */
#ifndef BRS_FIX_METRICS_H
#define BRS_FIX_METRICS_H

#include <stdint.h>

#include <bourse/errors.h>

#include "fix/app.h"
#include "fix/session.h"
#include "ops/metrics.h"

typedef struct brs__fix_metrics brs__fix_metrics;

/* What only the server knows, handed to each sync. */
typedef struct brs__fix_server_counts {
    uint64_t slow_consumers, connections, out_queue_bytes;
} brs__fix_server_counts;

/* Register every series, hook the latency histograms into g, serve /metrics on
 * listen ("127.0.0.1:9464"), and the live dashboard (/live) when g->live is
 * set, with at most max_dash event streams open (0: 8). The sessions array
 * must outlive the metrics; stop frees g->live. */
int brs__fix_metrics_start(brs__fix_metrics **out, const char *listen, int max_dash, brs__fix_gateway *g,
                           brs__fix_session **sessions, uint32_t n_sessions, brs_error *err);
/* Publish the loop's counters (at most every 100 ms; a no-op when m is NULL). */
void brs__fix_metrics_sync(brs__fix_metrics *m, int64_t now_mono, const brs__fix_server_counts *c);
int brs__fix_metrics_port(const brs__fix_metrics *m);
/* Its registry (serve's strategies add their series to it); NULL when m is. */
struct brs__mreg *brs__fix_metrics_registry(brs__fix_metrics *m);
void brs__fix_metrics_stop(brs__fix_metrics *m);

#endif
