/* fix_metrics.c: the FIX gateway's Prometheus metrics (`metrics.listen` in
 * serve.json). The order path only bumps plain counters it owns (gateway
 * stats, per-session message counts) and, when metrics are on, notes the
 * arrival time of each order acknowledged or filled; the event loop observes
 * those into the two latency histograms once per turn (one clock read for
 * all of them) and publishes the totals into the registry at most every
 * 100 ms by the turn's own time, and the HTTP thread renders them when
 * scraped. So counting costs no lock, no allocation, no system call and no
 * clock read per message (issue 18). */
#include "fix/fix_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "core/log.h"
#include "fix/fix_live.h"
#include "ops/http.h"

#define SYNC_EVERY_NS 100000000LL

typedef struct sess_series {
    brs__gauge *seq_in, *seq_out, *connected;
    brs__counter *logons;
    int was_active;
    uint64_t n_logons;
} sess_series;

struct brs__fix_metrics {
    brs__mreg *reg;
    brs__http *http;
    brs__fix_gateway *g;
    brs__fix_session **sessions;
    uint32_t n_sessions;
    int64_t next_sync;
    brs__counter *orders, *fills, *cancels, *expiries, *replaces, *rejects_order, *rejects_session, *risk;
    brs__counter *in[BRS__FIX_MT_N], *out[BRS__FIX_MT_N];
    brs__counter *garbled, *slow, *connections, *reconnects;
    brs__gauge *connected, *open_orders, *out_queue, *journal_bytes;
    sess_series *ss;
    brs__histogram *h_route;
};

static int reg_all(brs__fix_metrics *m, brs_error *err)
{
    brs__mreg *r = m->reg;
    m->orders = brs__mreg_counter(r, "bourse_orders_total", "Orders received (FIX NewOrderSingle, WebSocket place).",
                                 "protocol=fix");
    m->fills = brs__mreg_counter(r, "bourse_fills_total", "Fills reported to clients (FIX ExecutionReport F, "
                                 "WebSocket fill events).",
                                 "protocol=fix");
    m->cancels = brs__mreg_counter(r, "bourse_cancels_total", "Orders cancelled (asked, IOC rest, STP).",
                                   "protocol=fix");
    m->expiries = brs__mreg_counter(r, "bourse_expiries_total", "DAY orders expired at the end of the day.",
                                    "protocol=fix");
    m->replaces = brs__mreg_counter(r, "bourse_replaces_total", "Orders replaced.", "protocol=fix");
    m->rejects_order = brs__mreg_counter(r, "bourse_rejects_total", "Refusals by kind.", "protocol=fix,reason=order");
    m->rejects_session = brs__mreg_counter(r, "bourse_rejects_total", "Refusals by kind.",
                                           "protocol=fix,reason=session");
    m->risk = brs__mreg_counter(r, "bourse_risk_refusals_total", "Orders and replaces refused by the risk checks.",
                                "protocol=fix");
    char lab[64];
    for (int i = 0; i < BRS__FIX_MT_N; i++) {
        snprintf(lab, sizeof lab, "msg_type=%s", brs__fix_mt_names[i]);
        m->in[i] = brs__mreg_counter(r, "bourse_fix_messages_received_total", "FIX messages received, by MsgType.",
                                     lab);
        m->out[i] = brs__mreg_counter(r, "bourse_fix_messages_sent_total", "FIX messages sent, by MsgType.", lab);
    }
    m->garbled = brs__mreg_counter(r, "bourse_fix_garbled_total", "Garbled inputs dropped.", NULL);
    m->slow = brs__mreg_counter(r, "bourse_fix_slow_consumer_total", "Sessions logged out as slow consumers.",
                                NULL);
    m->connections = brs__mreg_counter(r, "bourse_fix_connections_total", "TCP connections accepted.", NULL);
    m->reconnects = brs__mreg_counter(r, "bourse_fix_reconnects_total",
                                      "Logons of a session after its first since start.", NULL);
    m->connected = brs__mreg_gauge(r, "bourse_fix_sessions_connected", "Sessions logged on now.", NULL);
    m->open_orders = brs__mreg_gauge(r, "bourse_open_orders", "Orders open now.", "protocol=fix");
    m->out_queue = brs__mreg_gauge(r, "bourse_fix_output_queue_bytes", "Output queued to clients, unsent.", NULL);
    m->journal_bytes = brs__mreg_gauge(r, "bourse_journal_bytes", "Size of the order journal.", NULL);
    m->g->h_ack = brs__mreg_histogram(r, "bourse_order_ack_latency_seconds",
                                      "NewOrderSingle received to its ExecutionReport New ready to go out (end of the loop turn that built it).", "protocol=fix", NULL, 0);
    m->g->h_fill = brs__mreg_histogram(r, "bourse_order_fill_latency_seconds",
                                       "NewOrderSingle received to each of its fills ready to go out (end of the loop turn).", "protocol=fix", NULL, 0);
    m->h_route = brs__mreg_histogram(r, "bourse_router_decision_seconds",
                                     "Time the smart order router takes to place one order.", "protocol=fix", NULL, 0);
    if (!m->h_route)
        return brs__err(err, BRS_E_NOMEM, "metrics: registration failed");
    brs__rt_set_route_hist(m->g->rt, m->h_route);
    m->ss = calloc(m->n_sessions ? m->n_sessions : 1, sizeof *m->ss);
    if (!m->ss)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->n_sessions; i++) {
        const brs__fix_session *s = m->sessions[i];
        char l[128];
        snprintf(l, sizeof l, "session=%s", s->cfg.target);
        m->ss[i].seq_in = brs__mreg_gauge(r, "bourse_fix_next_seq_in", "Next MsgSeqNum expected from the client.", l);
        m->ss[i].seq_out = brs__mreg_gauge(r, "bourse_fix_next_seq_out", "Next MsgSeqNum sent to the client.", l);
        m->ss[i].connected = brs__mreg_gauge(r, "bourse_fix_session_connected", "1 while the session is logged on.", l);
        m->ss[i].logons = brs__mreg_counter(r, "bourse_fix_logons_total", "Logons of the session.", l);
        if (!m->ss[i].seq_in || !m->ss[i].seq_out || !m->ss[i].connected || !m->ss[i].logons)
            return brs__err(err, BRS_E_INVAL, "session %s: its CompID cannot be a metric label", s->cfg.target);
    }
    if (!m->orders || !m->fills || !m->cancels || !m->expiries || !m->replaces || !m->rejects_order ||
        !m->rejects_session || !m->risk || !m->garbled || !m->slow || !m->connections || !m->reconnects ||
        !m->connected || !m->open_orders || !m->out_queue || !m->journal_bytes || !m->g->h_ack || !m->g->h_fill)
        return brs__err(err, BRS_E_NOMEM, "metrics: registration failed");
    for (int i = 0; i < BRS__FIX_MT_N; i++)
        if (!m->in[i] || !m->out[i])
            return brs__err(err, BRS_E_NOMEM, "metrics: registration failed");
    return brs__mreg_add_process(r);
}

int brs__fix_metrics_start(brs__fix_metrics **out, const char *listen, int max_dash, brs__fix_gateway *g,
                           brs__fix_session **sessions, uint32_t n_sessions, brs_error *err)
{
    *out = NULL;
    brs__fix_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->reg = brs__mreg_new())) {
        free(m);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    m->g = g;
    m->sessions = sessions;
    m->n_sessions = n_sessions;
    int rc = reg_all(m, err);
    brs__http_opts o = {.listen = listen, .metrics = m->reg, .max_streams = max_dash,
                        .streams_key = "metrics.max_dashboard_clients"};
    if (!rc)
        rc = brs__http_start(&m->http, &o, err);
    if (!rc && g->live) {
        brs__live_add_latency(g->live, "order to acknowledgement", g->h_ack);
        brs__live_add_latency(g->live, "order to fill", g->h_fill);
        if ((rc = brs__live_serve(g->live, m->http)) != BRS_OK) {
            brs__http_stop(m->http);
            brs__err(err, rc, "live dashboard: cannot add its routes");
        } else {
            BRS_LOG(BRS_LOG_INFO, "live", "live dashboard ready", BRS_KV_S("path", "/live"),
                    BRS_KV_I("port", brs__http_port(m->http)),
                    BRS_KV_I("max_dashboard_clients", max_dash > 0 ? max_dash : 8));
        }
    }
    if (rc) {
        brs__err_prefix(err, "metrics.listen");
        g->h_ack = g->h_fill = NULL;
        brs__rt_set_route_hist(g->rt, NULL);
        brs__live_free(g->live);
        g->live = NULL;
        brs__mreg_free(m->reg);
        free(m->ss);
        free(m);
        return rc;
    }
    *out = m;
    return BRS_OK;
}

int brs__fix_metrics_port(const brs__fix_metrics *m) { return m ? brs__http_port(m->http) : 0; }

int brs__fix_metrics_due(const brs__fix_metrics *m, int64_t now)
{
    return m && (now >= m->next_sync || m->next_sync - now > SYNC_EVERY_NS);
}

void brs__fix_metrics_sync(brs__fix_metrics *m, int64_t now, const brs__fix_server_counts *c)
{
    if (!brs__fix_metrics_due(m, now))
        return;
    m->next_sync = now + SYNC_EVERY_NS;
    const brs__fix_gateway *g = m->g;
    brs__counter_set(m->fills, g->st.fills);
    brs__counter_set(m->cancels, g->st.cancels);
    brs__counter_set(m->expiries, g->st.expiries);
    brs__counter_set(m->replaces, g->st.replaces);
    brs__counter_set(m->rejects_order, g->st.rejects);
    brs__counter_set(m->risk, g->st.risk_refusals);
    brs__gauge_set(m->open_orders, (double)g->st.open);
    uint64_t in[BRS__FIX_MT_N] = {0}, outn[BRS__FIX_MT_N] = {0}, garbled = 0, rejects = 0, reconnects = 0;
    int connected = 0;
    for (uint32_t i = 0; i < m->n_sessions; i++) {
        const brs__fix_session *s = m->sessions[i];
        sess_series *x = &m->ss[i];
        for (int k = 0; k < BRS__FIX_MT_N; k++) {
            in[k] += s->n_in[k];
            outn[k] += s->n_out[k];
        }
        garbled += s->garbled;
        rejects += s->rejects;
        int active = s->state == BRS__FIX_ACTIVE;
        if (active && !x->was_active)
            x->n_logons++; /* seen within 100 ms of the Logon; a shorter session may be missed */
        x->was_active = active;
        connected += active;
        reconnects += x->n_logons > 1 ? x->n_logons - 1 : 0;
        brs__counter_set(x->logons, x->n_logons);
        brs__gauge_set(x->seq_in, (double)s->store.next_in);
        brs__gauge_set(x->seq_out, (double)s->store.next_out);
        brs__gauge_set(x->connected, active);
    }
    for (int k = 0; k < BRS__FIX_MT_N; k++) {
        brs__counter_set(m->in[k], in[k]);
        brs__counter_set(m->out[k], outn[k]);
    }
    brs__counter_set(m->orders, in[brs__fix_mt_index("D")]);
    brs__counter_set(m->garbled, garbled);
    brs__counter_set(m->rejects_session, rejects);
    brs__counter_set(m->reconnects, reconnects);
    brs__gauge_set(m->connected, connected);
    if (c) {
        brs__counter_set(m->slow, c->slow_consumers);
        brs__counter_set(m->connections, c->connections);
        brs__gauge_set(m->out_queue, (double)c->out_queue_bytes);
    }
    struct stat st;
    if (g->jfd >= 0 && fstat(g->jfd, &st) == 0)
        brs__gauge_set(m->journal_bytes, (double)st.st_size);
    if (g->live)
        brs__fix_live_publish(g->live, m->g, brs__realtime_ns());
}

struct brs__mreg *brs__fix_metrics_registry(brs__fix_metrics *m) { return m ? m->reg : NULL; }

void brs__fix_metrics_stop(brs__fix_metrics *m)
{
    if (!m)
        return;
    brs__http_stop(m->http);
    m->g->h_ack = m->g->h_fill = NULL;
    brs__rt_set_route_hist(m->g->rt, NULL);
    brs__live_free(m->g->live);
    m->g->live = NULL;
    brs__mreg_free(m->reg);
    free(m->ss);
    free(m);
}
