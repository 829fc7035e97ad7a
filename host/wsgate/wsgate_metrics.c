/* wsgate_metrics.c: the WebSocket gateway's Prometheus series, on the same
 * /metrics registry as the FIX gateway's (host/fix/fix_metrics.c). As there,
 * the order path only bumps plain counters the gateway owns (brs__wsgate_stats
 * in wsgate.h); the loop publishes them into the series with the FIX
 * gateway's sync (at most every 100 ms by the turn's clock), and the HTTP
 * thread renders them when scraped. No lock, allocation, clock read or
 * system call per message or event. */
#include "wsgate/wsgate.h"

#include <stdlib.h>

#include "core/core.h"
#include "ops/metrics.h"
#include "wsgate/wsgate_internal.h"

struct brs__wsgate_series {
    brs__counter *orders, *fills, *connections, *limit_closes, *logins, *login_failures, *requests, *errors,
        *reports, *rate_limited;
    brs__gauge *open, *logged_in, *closed_waiting, *waiting, *kept;
};

int brs__wsgate_metrics(brs__wsgate *g, struct brs__mreg *r, brs_error *err)
{
    if (!g || !r)
        return BRS_OK;
    brs__wsgate_series *m = calloc(1, sizeof *m);
    if (!m)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    /* the families the FIX gateway opens too (their help is the first
     * registration's, fix_metrics.c) */
    m->orders = brs__mreg_counter(r, "bourse_orders_total", "Orders received (FIX NewOrderSingle, WebSocket place).",
                                  "protocol=ws");
    m->fills = brs__mreg_counter(r, "bourse_fills_total", "Fills reported to clients (FIX ExecutionReport F, "
                                 "WebSocket fill events).", "protocol=ws");
    m->connections = brs__mreg_counter(r, "bourse_ws_connections_total", "WebSocket TCP connections accepted.", NULL);
    m->limit_closes = brs__mreg_counter(r, "bourse_ws_limit_closes_total",
                                        "WebSocket connections refused or closed by a limit (ws.max_connections, "
                                        "max_frame_bytes/max_message_bytes, max_backlog_bytes).", NULL);
    m->logins = brs__mreg_counter(r, "bourse_ws_logins_total", "WebSocket logins accepted.", NULL);
    m->login_failures = brs__mreg_counter(r, "bourse_ws_login_failures_total",
                                          "WebSocket logins refused (unknown account or wrong token).", NULL);
    m->requests = brs__mreg_counter(r, "bourse_ws_requests_total",
                                    "WebSocket messages run (rate-limited ones too; kept ones when they run).", NULL);
    m->errors = brs__mreg_counter(r, "bourse_ws_errors_total", "WebSocket requests answered with an error.", NULL);
    m->reports = brs__mreg_counter(r, "bourse_ws_reports_total",
                                   "WebSocket order events reported to the accounts' connections.", NULL);
    m->rate_limited = brs__mreg_counter(r, "bourse_ws_rate_limited_total",
                                        "WebSocket requests refused by ws.max_messages_per_sec.", NULL);
    m->open = brs__mreg_gauge(r, "bourse_ws_connections_open", "WebSocket connections open now.", NULL);
    m->logged_in = brs__mreg_gauge(r, "bourse_ws_connections_logged_in", "WebSocket connections logged in now.",
                                   NULL);
    m->closed_waiting = brs__mreg_gauge(r, "bourse_ws_connections_closed_waiting",
                                        "WebSocket connections closed whose kept messages still wait to run "
                                        "(behind their account's order events).", NULL);
    m->waiting = brs__mreg_gauge(r, "bourse_ws_events_waiting",
                                 "Order events waiting in the accounts' streaming queues (max_events_per_turn).",
                                 NULL);
    m->kept = brs__mreg_gauge(r, "bourse_ws_kept_message_bytes",
                              "Bytes of client messages kept behind their account's waiting order events.", NULL);
    /* the FIX gateway's latency families (its help): place received to the
     * accepted event, and to each fill, ready to go out */
    brs__histogram *ha = brs__mreg_histogram(r, "bourse_order_ack_latency_seconds",
                                             "Order received to its acknowledgement ready to go out.", "protocol=ws",
                                             NULL, 0);
    brs__histogram *hf = brs__mreg_histogram(r, "bourse_order_fill_latency_seconds",
                                             "Order received to each of its fills ready to go out.", "protocol=ws",
                                             NULL, 0);
    if (!m->orders || !m->fills || !m->connections || !m->limit_closes || !m->logins || !m->login_failures ||
        !m->requests || !m->errors || !m->reports || !m->rate_limited || !m->open || !m->logged_in ||
        !m->closed_waiting || !m->waiting || !m->kept || !ha || !hf) {
        free(m);
        return brs__err(err, BRS_E_NOMEM, "metrics: the WebSocket gateway's series: registration failed");
    }
    free(g->metrics);
    g->metrics = m;
    g->h_ack = ha;
    g->h_fill = hf;
    brs__wsgate_metrics_sync(g);
    return BRS_OK;
}

void brs__wsgate_observe_latency(brs__wsgate *g)
{
    if (!g || (!g->lat_ack.n && !g->lat_fill.n))
        return;
    int64_t now = brs__realtime_ns();
    brs__latq_observe(&g->lat_ack, g->h_ack, now);
    brs__latq_observe(&g->lat_fill, g->h_fill, now);
}

void brs__wsgate_metrics_stop(brs__wsgate *g)
{
    if (!g)
        return;
    g->lat_ack.n = g->lat_fill.n = 0;
    g->h_ack = g->h_fill = NULL;
    free(g->metrics);
    g->metrics = NULL;
}

void brs__wsgate_metrics_sync(brs__wsgate *g)
{
    brs__wsgate_series *m = g ? g->metrics : NULL;
    if (!m)
        return;
    brs__wsgate_stats s;
    brs__wsgate_get_stats(g, &s);
    brs__counter_set(m->orders, s.orders);
    brs__counter_set(m->fills, s.fills);
    brs__counter_set(m->connections, s.connections);
    brs__counter_set(m->limit_closes, s.closed_limit);
    brs__counter_set(m->logins, s.logins);
    brs__counter_set(m->login_failures, s.login_failures);
    brs__counter_set(m->requests, s.requests);
    brs__counter_set(m->errors, s.rejected_requests);
    brs__counter_set(m->reports, s.reports);
    brs__counter_set(m->rate_limited, s.rate_limited);
    brs__gauge_set(m->open, s.open_connections);
    brs__gauge_set(m->logged_in, s.logged_in);
    brs__gauge_set(m->closed_waiting, s.closed_waiting);
    brs__gauge_set(m->waiting, (double)s.events_waiting);
    brs__gauge_set(m->kept, (double)s.kept_bytes);
}
