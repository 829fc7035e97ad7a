/* server.c: the epoll loop of `bourse serve`. One thread; every socket is
 * non-blocking. Each loop turn: read what is ready and run it through the
 * sessions, then flush stores and journal (write-ahead), then write queued
 * output. A connection whose queue passes max_output is dropped: one slow
 * client can never hold the others back. */
#include "fix/server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"

/* ---- configuration ------------------------------------------------------------ */

/* The latest end of day at or before now (ns since the epoch). */
static int64_t day_boundary(int32_t day_end_s, int64_t now)
{
    const int64_t day = 86400LL * 1000000000LL;
    int64_t b = now - now % day + (int64_t)day_end_s * 1000000000LL;
    return b > now ? b - day : b;
}


int brs__fix_server_open(brs__fix_server **out, const brs__fix_server_cfg *sc, int *port,
                         brs_error *err)
{
    brs__fix_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    srv->cfg = *sc;
    srv->lfd = srv->efd = -1;
    *out = srv;
    int rc;
    char path[1024];
    int persist = sc->state_dir[0] != 0;
    int ws_port = 0;
    if (persist && (rc = brs__mkdirs(sc->state_dir, err)) != BRS_OK)
        return rc;
    if (persist) {
        snprintf(path, sizeof path, "%s/orders.journal", sc->state_dir);
        brs__fix_archive_prune(sc->state_dir, sc->archive_retention_days, brs__realtime_ns());
    }
    if (brs__fix_rt_instruments(sc->instr, sc->n_instr, &srv->rt_instr) != BRS_OK)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    brs_config *rcfg = sc->rt_cfg;
    brs__rt_opts ro = sc->rt;
    if (!rcfg) { /* made by hand (bourse bench fix): the default sim venue */
        if ((rc = brs__fix_default_runtime(&srv->own_cfg, &ro, sc->max_orders, err)))
            return rc;
        srv->has_own_cfg = 1;
        rcfg = &srv->own_cfg;
    }
    if ((rc = brs__rt_create(&srv->rt, rcfg, rcfg->root, "", &ro, srv->rt_instr, sc->n_instr, NULL,
                             0, err)))
        return rc;
    rc = brs__fix_gateway_open_rt(&srv->gw, sc->instr, sc->n_instr, srv->rt, sc->named_venues,
                                  persist ? path : NULL, sc->fsync_policy, err);
    if (rc)
        return rc;
    if (sc->risk_on)
        brs__fix_gateway_set_risk(&srv->gw, &sc->risk);
    srv->gw.mc_per_turn = sc->max_cancels_per_turn ? sc->max_cancels_per_turn : 1024;
    srv->gw.erq_per_turn = sc->max_reports_per_turn ? sc->max_reports_per_turn : 1024;
    srv->gw.evq_per_turn = sc->max_events_per_turn ? sc->max_events_per_turn : 1024;
    srv->gw.fg_per_turn = sc->max_forget_per_turn ? sc->max_forget_per_turn : 16384;
    srv->gw.async_compact = 1; /* the end of day's snapshot: checkpoint() starts it off the loop */
    srv->gw.max_md_subs = sc->max_md_subs;
    srv->gw.max_md_subs_per_session = sc->max_md_subs_per_session;
    srv->gw.max_md_symbols = sc->max_md_symbols;
    srv->sessions = calloc(sc->n_sessions, sizeof *srv->sessions);
    srv->seen = calloc(sc->n_sessions, sizeof *srv->seen);
    if (!srv->sessions || !srv->seen)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < sc->n_sessions; i++) {
        brs__fix_session_cfg cfg = {0};
        snprintf(cfg.sender, sizeof cfg.sender, "%s", sc->sender);
        snprintf(cfg.target, sizeof cfg.target, "%s", sc->sessions[i].target);
        snprintf(cfg.username, sizeof cfg.username, "%s", sc->sessions[i].username);
        snprintf(cfg.password, sizeof cfg.password, "%s", sc->sessions[i].password);
        cfg.max_msg = sc->max_msg;
        cfg.opts = sc->sessions[i].opts;
        srv->sessions[i] = malloc(sizeof(brs__fix_session));
        if (!srv->sessions[i])
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        if (persist)
            snprintf(path, sizeof path, "%s/%s-%s.store", sc->state_dir, sc->sender,
                     sc->sessions[i].target);
        /* with the journal's replay settling a record failing its check (store.h) */
        rc = brs__fix_session_open(srv->sessions[i], &cfg, persist ? path : NULL,
                                   sc->fsync_policy | (persist ? BRS__FIX_STORE_JOURNALED : 0), err);
        if (rc)
            return rc;
        if (sc->sessions[i].route[0]) {
            brs__rt_route r;
            if ((rc = brs__rt_route_parse(srv->rt, sc->sessions[i].route, &r, err)))
                return brs__err_prefix(err, "%s: sessions[%u]", rcfg->source, i);
            brs__fix_gateway_next_route(&srv->gw, &r);
        }
        if ((rc = brs__fix_gateway_add_session(&srv->gw, srv->sessions[i])))
            return brs__err(err, rc, "sessions[%u]: cannot attach the session", i);
        /* a ResendRequest starts with this many messages; the rest streams
         * from the store as the socket drains (brs__srv_fill) */
        srv->sessions[i]->resend_batch = 64;
    }
    if (sc->ws_on) { /* WebSocket order entry: its accounts are runtime clients after the sessions */
        if ((rc = brs__wsgate_open(&srv->ws, srv->rt, sc->rt_cfg, srv->rt_instr, sc->n_instr, &ws_port,
                                   err)) != BRS_OK)
            return rc;
        if (persist) { /* its requests in the same journal, replayed with it */
            brs__wsgate_set_journal(srv->ws, brs__srv_on_ws_request, srv);
            brs__wsgate_set_report_journal(srv->ws, brs__srv_on_ws_report);
            srv->gw.replay_ws = brs__srv_replay_ws;
            srv->gw.replay_user = srv;
        }
    }
    /* market data: its steps are journaled (FEED records), so the replay
     * rebuilds the books at the same points of the order flow; with max the
     * whole file is one step before any client, replayed from the journal
     * at a restart (docs/fix-gateway.md, "Runtime time in the journal") */
    /* strategies: runtime clients after the sessions and WebSocket accounts */
    if (sc->n_strategies && sc->rt_cfg && (rc = brs__rt_hosted_open(&srv->strats, srv->rt, sc->rt_cfg, err)))
        return rc;
    /* market data: its steps are journaled (FEED records), so the replay
     * rebuilds the books at the same points of the order flow; with max the
     * whole file is one step before any client, replayed from the journal
     * at a restart (docs/fix-gateway.md, "Runtime time in the journal") */
    if (sc->md.file && (rc = brs__rt_feed_open(&srv->feed, &sc->md, srv->rt_instr, sc->n_instr, err)))
        return rc;
    int md_max = srv->feed && !brs__rt_feed_paced(srv->feed);
    if (srv->strats && (md_max || !persist)) { /* they start at the data's first instant (max), else now */
        int64_t t0 = md_max ? brs__rt_feed_first_time(srv->feed) : brs__realtime_ns();
        if (t0 != INT64_MIN)
            brs__rt_advance(srv->rt, t0);
        if ((rc = brs__rt_hosted_start(srv->strats, err)))
            return rc;
    }
    if (persist && srv->strats) { /* their start, timers and reloads in the journal */
        brs__rt_hosted_set_journal(srv->strats, brs__srv_on_strat, srv);
        srv->gw.replay_strat = brs__srv_replay_strat;
    }
    srv->gw.replay_feed = brs__srv_replay_feed;
    srv->gw.replay_begin = brs__srv_replay_begin;
    if (srv->strats)
        srv->gw.books_hook = brs__srv_strategy_books;
    srv->gw.replay_user = srv;
    if (persist) /* the runtime's own steps (venue answers after their latency, timeouts) */
        brs__rt_set_clock_hook(srv->rt, brs__srv_on_clock, srv);
    if (persist) /* routed children into the journal, for the audit trail */
        brs__rt_set_child_hook(srv->rt, brs__srv_on_child, srv);
    /* the live dashboard follows positions from the replayed fills on */
    if (sc->metrics_listen[0] && !(srv->gw.live = brs__fix_live_new(&srv->gw)))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    if ((rc = brs__fix_gateway_replay(&srv->gw, err)) != BRS_OK)
        return rc;
    brs__fix_evq_journal_budget(&srv->gw, 0); /* before anything live can defer (app_events.c) */
    if (srv->ws) /* the same key bounds a WebSocket account's events a turn, live only */
        brs__wsgate_set_events_per_turn(srv->ws, srv->gw.evq_per_turn);
    if (srv->strats && !brs__rt_hosted_started(srv->strats)) { /* the first start (a START record) */
        brs__rt_advance(srv->rt, brs__realtime_ns());
        if ((rc = brs__rt_hosted_start(srv->strats, err)))
            return rc;
    }
    if (persist)
        brs__rt_hosted_sync_files(srv->strats); /* a script edited while the server was down */
    if (srv->feed && !brs__rt_feed_paced(srv->feed) && !srv->feed_replayed) /* first start: max */
        brs__srv_feed_step(srv, brs__realtime_ns(), UINT64_MAX, 0);
    brs__rt_feed_repace(srv->feed); /* a paced feed goes on from its next event, from now */
    if (sc->slog.dir[0] &&
        (rc = brs__fix_slog_open(&srv->slog, &sc->slog, srv->sessions, sc->n_sessions, err)) != BRS_OK)
        return rc;
    if (sc->metrics_listen[0] &&
        (rc = brs__fix_metrics_start(&srv->metrics, sc->metrics_listen, sc->max_dash, &srv->gw, srv->sessions,
                                     sc->n_sessions, err)) != BRS_OK)
        return rc;
    if ((rc = brs__rt_hosted_metrics(srv->strats, brs__fix_metrics_registry(srv->metrics), err)))
        return rc;
    if ((rc = brs__wsgate_metrics(srv->ws, brs__fix_metrics_registry(srv->metrics), err)))
        return rc;
    /* first start with an end of day: the orders found may be from today, so
     * the current day starts now and nothing expires until its end */
    if (sc->day_end_s >= 0 && srv->gw.day_boundary == 0)
        brs__fix_gateway_end_of_day(&srv->gw, day_boundary(sc->day_end_s, brs__realtime_ns()), 1,
                                    err);
    srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->lfd < 0)
        return brs__err(err, BRS_E_IO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)sc->port);
    if (inet_pton(AF_INET, sc->host, &a.sin_addr) != 1)
        return brs__err(err, BRS_E_INVAL, "listen.host: '%s' is not an IPv4 address", sc->host);
    if (bind(srv->lfd, (struct sockaddr *)&a, sizeof a) != 0)
        return brs__err(err, BRS_E_IO, "bind %s:%d: %s", sc->host, sc->port, strerror(errno));
    if (listen(srv->lfd, 128) != 0)
        return brs__err(err, BRS_E_IO, "listen: %s", strerror(errno));
    socklen_t al = sizeof a;
    getsockname(srv->lfd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    if (sc->tls.cert[0] && !(srv->tls_ctx = brs__tls_ctx_new(&sc->tls, "tls", err)))
        return BRS_E_IO;
    if (!brs__tls_addr_loopback(sc->host))
        for (uint32_t i = 0; i < sc->n_sessions; i++)
            if (!srv->tls_ctx && !sc->sessions[i].password[0])
                BRS_LOG(BRS_LOG_WARN, "fix", "session open to the network without TLS or password",
                        BRS_KV_S("session", sc->sessions[i].target), BRS_KV_S("host", sc->host),
                        BRS_KV_U("allowed_hosts", sc->sessions[i].access.n_allowed));
    srv->efd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->efd < 0)
        return brs__err(err, BRS_E_IO, "epoll: %s", strerror(errno));
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->lfd, &ev);
    if (srv->ws) {
        (void)ws_port;
        ev.data.ptr = &srv->ws; /* tells the gateway's epoll fd from connections */
        if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, brs__wsgate_fd(srv->ws), &ev) != 0)
            return brs__err(err, BRS_E_IO, "epoll: %s", strerror(errno));
    }
    return BRS_OK;
}

/* reset_at_day_end: the FIX sessions end with the trading day, as under a
 * daily session schedule. Each logged-on session gets a Logout and is
 * disconnected, and every session's sequence numbers go back to 1 with its
 * stored messages dropped, so tomorrow's Logon starts at MsgSeqNum 1 without
 * ResetSeqNumFlag. It runs before the day's DAY orders expire: their
 * ExecutionReports are the first messages of the new session, kept in the
 * store for the client's next Logon (it sees our MsgSeqNum ahead of 1 and asks
 * for them), so a client away at the end of day still gets them. */
static void end_sessions(brs__fix_server *srv)
{
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++) {
        brs__fix_session *s = srv->sessions[i];
        if (s->state != BRS__FIX_DISCONNECTED)
            brs__fix_session_logout(s, "end of session (day_end): sequence numbers reset to 1");
        /* written at once: the day's end is journaled next, and a restart after
         * that must find the sequences reset too */
        if (brs__fix_store_reset(&s->store) != BRS_OK || brs__fix_store_flush(&s->store) != BRS_OK)
            BRS_LOG(BRS_LOG_ERROR, "fix", "end of day: the session store could not be reset",
                    BRS_KV_S("session", s->cfg.target));
    }
}

/* The session log: logon, logout (who, why), refused logons, Rejects and
 * garbled input, found by comparing each session with what was last said. */
static void observe(brs__fix_server *srv)
{
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++) {
        brs__fix_session *s = srv->sessions[i];
        struct sess_seen *w = &srv->seen[i];
        if (s->garbled != w->garbled)
            BRS_LOG(BRS_LOG_WARN, "fix", "garbled input dropped", BRS_KV_S("session", s->cfg.target),
                    BRS_KV_S("sender", s->cfg.sender), BRS_KV_S("peer", w->peer),
                    BRS_KV_U("messages", s->garbled - w->garbled), BRS_KV_U("total", s->garbled));
        if (s->rejects != w->rejects)
            BRS_LOG(BRS_LOG_WARN, "fix", "Reject sent", BRS_KV_S("session", s->cfg.target),
                    BRS_KV_S("sender", s->cfg.sender), BRS_KV_S("peer", w->peer),
                    BRS_KV_S("reason", s->text), BRS_KV_U("count", s->rejects - w->rejects),
                    BRS_KV_U("seq_in", s->store.next_in));
        if (s->state != w->state) {
            if (s->state == BRS__FIX_ACTIVE && w->state == BRS__FIX_AWAIT_LOGON)
                brs__auth_ok(&srv->auth, w->ip);
            if (w->state == BRS__FIX_AWAIT_LOGON && s->state == BRS__FIX_DISCONNECTED)
                brs__srv_auth_failed(srv, w->ip, w->peer, srv->now);
            if (s->state == BRS__FIX_ACTIVE && w->state != BRS__FIX_LOGOUT_SENT)
                BRS_LOG(BRS_LOG_INFO, "fix", "logon", BRS_KV_S("session", s->cfg.target),
                        BRS_KV_S("sender", s->cfg.sender), BRS_KV_S("peer", w->peer),
                        BRS_KV_I("heartbeat_s", s->hb_ns / 1000000000),
                        BRS_KV_U("next_seq_in", s->store.next_in),
                        BRS_KV_U("next_seq_out", s->store.next_out));
            else if (w->state == BRS__FIX_AWAIT_LOGON && s->state == BRS__FIX_DISCONNECTED)
                BRS_LOG(BRS_LOG_WARN, "fix", "Logon refused", BRS_KV_S("session", s->cfg.target),
                        BRS_KV_S("sender", s->cfg.sender), BRS_KV_S("peer", w->peer),
                        BRS_KV_S("reason", s->text));
            else if (w->state == BRS__FIX_ACTIVE || w->state == BRS__FIX_LOGOUT_SENT) {
                int timeout = strstr(s->text, "timeout") != NULL;
                BRS_LOG(timeout ? BRS_LOG_WARN : BRS_LOG_INFO, "fix",
                        s->state == BRS__FIX_LOGOUT_SENT ? "logout sent" : "logged out",
                        BRS_KV_S("session", s->cfg.target), BRS_KV_S("sender", s->cfg.sender),
                        BRS_KV_S("peer", w->peer),
                        BRS_KV_S("reason", s->text[0] ? s->text : "Logout or connection end"),
                        BRS_KV_U("next_seq_in", s->store.next_in),
                        BRS_KV_U("next_seq_out", s->store.next_out));
            }
        }
        w->state = s->state;
        w->rejects = s->rejects;
        w->garbled = s->garbled;
    }
    /* order rejects: one line per loop turn (a flood of bad orders is one line
     * a turn, naming the last) */
    if (srv->gw.st.rejects != srv->seen_rejects) {
        const brs__fix_gateway *g = &srv->gw;
        BRS_LOG(BRS_LOG_WARN, "fix", "order rejected",
                BRS_KV_S("session", g->rej_session < srv->cfg.n_sessions ? srv->sessions[g->rej_session]->cfg.target
                                                                        : "?"),
                BRS_KV_S("clordid", g->rej_clordid), BRS_KV_S("reason", g->rej_text),
                BRS_KV_U("count", g->st.rejects - srv->seen_rejects), BRS_KV_U("total", g->st.rejects));
        srv->seen_rejects = g->st.rejects;
    }    /* metrics: this turn's latencies with one clock read; the counters
     * published every 100 ms by the turn's own time */
    brs__fix_gateway_observe_latency(&srv->gw);
    brs__wsgate_observe_latency(srv->ws);
    if (brs__fix_metrics_due(srv->metrics, srv->now)) {
        brs__fix_server_counts sc = {.slow_consumers = srv->n_slow, .connections = srv->n_accepted};
        for (uint32_t i = 0; i < srv->n_conns; i++)
            sc.out_queue_bytes += srv->conns[i]->outlen - srv->conns[i]->outoff;
        brs__fix_metrics_sync(srv->metrics, srv->now, &sc);
        brs__wsgate_metrics_sync(srv->ws);
    }
}

/* A client that read nothing for slow_consumer_timeout_ms while output waited:
 * what waits in the store stays there (for its next Logon's resend), the
 * Logout goes after what is queued, and the connection closes once it is
 * written or after another timeout. */
static void slow_consumer(brs__fix_server *srv, conn *c, int64_t now)
{
    srv->n_slow++;
    brs__fix_session *s = c->sess;
    char text[128];
    snprintf(text, sizeof text, "slow consumer: nothing read for %lld ms",
             (long long)(srv->cfg.slow_timeout_ns / 1000000));
    BRS_LOG(BRS_LOG_WARN, "fix", "slow consumer logged out", BRS_KV_S("session", s->cfg.target),
            BRS_KV_S("sender", s->cfg.sender), BRS_KV_S("peer", c->peer),
            BRS_KV_U("queued_bytes", c->outlen - c->outoff),
            BRS_KV_U("unread_bytes", c->sent_total - c->acked_last),
            BRS_KV_U("waiting_from_seq", c->backlog),
            BRS_KV_I("timeout_ms", srv->cfg.slow_timeout_ns / 1000000));
    c->slow = 1;
    c->backlog = 0;
    c->linger_until = now + srv->cfg.slow_timeout_ns;
    brs__fix_session_logout(s, text);
}

/* Does the peer read? Progress is bytes it acknowledged (what we handed the
 * kernel minus what the kernel still holds, SIOCOUTQ): a client that reads
 * nothing acknowledges nothing, whether our bytes wait in the kernel or here.
 * One ioctl per connection per timer tick (10 a second). */
static int consumer_stalled(brs__fix_server *srv, conn *c, int64_t now)
{
    int kq = 0;
    if (ioctl(c->fd, SIOCOUTQ, &kq) != 0)
        kq = 0;
    uint64_t acked = c->sent_total - (uint64_t)(kq > 0 ? kq : 0);
    int behind = kq > 0 || c->outlen > c->outoff || c->backlog;
    if (!behind || acked != c->acked_last) {
        c->acked_last = acked;
        c->last_progress = now;
        return 0;
    }
    return now - c->last_progress > srv->cfg.slow_timeout_ns;
}

/* Mass cancels and queued reports streaming (app_masscancel.c,
 * app_reports.c): each session's next slice, once its socket has drained
 * below the low-water mark (or it has no connection, or reads nothing: then
 * its reports wait in the store), so the reports are made at the pace the
 * client takes them and every other session waits at most a slice. When the
 * last ends, the session's brs__srv_held input runs. Returns nonzero when a
 * slice ran and more remain (the loop does not sleep). */
static int mass_cancels(brs__fix_server *srv)
{
    brs__fix_gateway *g = &srv->gw;
    int more = 0;
    for (uint32_t i = 0; i < srv->cfg.n_sessions && (g->n_mc_active || g->n_erq_active); i++) {
        int mc = brs__fix_gateway_mc_active(g, i), rq = brs__fix_gateway_erq_active(g, i);
        if (!mc && !rq)
            continue;
        if (!rq && brs__fix_gateway_evq_active(g, i))
            continue; /* its waiting events first: a mass cancel sees the orders as they stand */
        brs__fix_session *s = srv->sessions[i];
        conn *c = s->io.ctx;
        if (c && s->state == BRS__FIX_AWAIT_LOGON)
            continue; /* its Logon answer goes first */
        if (c && !c->slow && !c->closing &&
            (c->outlen - c->outoff >= srv->cfg.low_water || c->backlog))
            continue; /* EPOLLOUT wakes the loop when it drains */
        /* its queued reports first: a slice's cancels queue behind them */
        if (rq)
            brs__fix_gateway_erq_step(g, i);
        else
            brs__fix_gateway_mc_step(g, i);
        if (brs__fix_gateway_mc_active(g, i) || brs__fix_gateway_erq_active(g, i) ||
            brs__fix_gateway_evq_active(g, i)) {
            more = 1;
        } else if (c) {
            c->rerun = 1; /* what it sent after the request */
            srv->rerun = 1;
            brs__srv_mark_dirty(srv, c);
        }
    }
    return more;
}

/* A deep sweep's runtime events (app_events.c): each session with events
 * waiting takes the next slice into its order state, whatever its socket
 * (the reports they make queue and stream as it drains, mass_cancels), so
 * the venue's state and the order table meet again within a few turns and
 * every other session waits at most a slice. When its last is taken and no
 * reports or mass cancel stream, the session's held input runs. Returns
 * nonzero while more wait. */
static int event_slices(brs__fix_server *srv)
{
    brs__fix_gateway *g = &srv->gw;
    int more = 0;
    for (uint32_t i = 0; i < srv->cfg.n_sessions && g->n_evq_active; i++) {
        if (!brs__fix_gateway_evq_active(g, i))
            continue;
        brs__fix_gateway_evq_step(g, i);
        if (brs__fix_gateway_evq_active(g, i)) {
            more = 1;
            continue;
        }
        conn *c = srv->sessions[i]->io.ctx;
        if (c && !brs__fix_gateway_erq_active(g, i) && !brs__fix_gateway_mc_active(g, i)) {
            c->rerun = 1; /* what it sent meanwhile */
            srv->rerun = 1;
            brs__srv_mark_dirty(srv, c);
        }
    }
    return more;
}

/* Journal checkpoint (journal_checkpoint_bytes): once the journal has grown
 * past the limit, and past the snapshot it starts with (so the cost of
 * rewriting the open orders is amortised), it is rewritten as a snapshot and
 * the closed orders leave memory: restart time and memory follow the open
 * orders and the tail, not the day's history. Between batches only. */
static void checkpoint(brs__fix_server *srv, int64_t now)
{
    brs__fix_gateway *g = &srv->gw;
    brs_error e = {0};
    int done = 0;
    if (g->ckpt_pid > 0) { /* its snapshot is being written by a child process */
        int rc = brs__fix_gateway_checkpoint_poll(g, &done, &e);
        if (done && rc == BRS_OK)
            brs__fix_archive_prune(srv->cfg.state_dir, srv->cfg.archive_retention_days, now);
        if (done && rc != BRS_OK) {
            srv->checkpoint_retry_at = now + 60 * 1000000000LL;
            BRS_LOG(BRS_LOG_ERROR, "fix", "journal checkpoint failed: the journal stays complete, "
                    "retried in 60 s", BRS_KV_S("reason", e.msg));
        }
        return;
    }
    uint64_t lim = srv->cfg.checkpoint_bytes;
    if ((!lim && !g->compact_due) || g->jfd < 0 || now < srv->checkpoint_retry_at || g->n_mc_active ||
        g->n_erq_active || g->n_evq_active || brs__fix_gateway_forgetting(g) || g->eod_phase)
        return; /* a streaming mass cancel or report queue is in the journal only: not compacted away */
    if (lim < g->snap_bytes)
        lim = g->snap_bytes;
    /* the end of day's compaction (compact_due) is one too, whatever the size */
    if (!g->compact_due && (!lim || g->jsize < g->snap_bytes || g->jsize - g->snap_bytes < lim))
        return;
    if (brs__rt_queued(srv->rt))
        return; /* orders and answers in flight are not in a snapshot: wait for a quiet turn */
    int rc = brs__fix_gateway_checkpoint_start(g, &e);
    if (rc == BRS_OK && g->ckpt_pid > 0) {
        g->compact_due = 0;
        /* the new journal is the snapshot and what follows the fork: the
         * events budget is due there, a step ends (app_events.c) */
        brs__fix_evq_journal_budget(g, 1);
    }
    if (rc != BRS_OK) {
        srv->checkpoint_retry_at = now + 60 * 1000000000LL;
        BRS_LOG(BRS_LOG_ERROR, "fix", "journal checkpoint failed: the journal stays complete, "
                "retried in 60 s", BRS_KV_S("reason", e.msg));
    }
}

static void timers(brs__fix_server *srv, int64_t now)
{
    if (srv->accept_paused_until && now >= srv->accept_paused_until) {
        srv->accept_paused_until = 0;
        struct epoll_event ev = {0};
        ev.events = EPOLLIN;
        ev.data.ptr = NULL;
        epoll_ctl(srv->efd, EPOLL_CTL_MOD, srv->lfd, &ev);
    }
    if (srv->cfg.day_end_s >= 0 && day_boundary(srv->cfg.day_end_s, now) > srv->gw.day_boundary &&
        !srv->gw.n_mc_active && !srv->gw.n_erq_active && !srv->gw.n_evq_active && srv->gw.ckpt_pid <= 0 &&
        !brs__fix_gateway_forgetting(&srv->gw) && !srv->gw.eod_phase) {
        /* after the streaming mass cancels (in the journal only) and a
         * checkpoint being written (the end of day rewrites the journal too) */
        brs_error e = {0};
        if (srv->cfg.reset_at_day_end)
            end_sessions(srv);
        if (brs__fix_gateway_end_of_day(&srv->gw, day_boundary(srv->cfg.day_end_s, now), 0, &e))
            BRS_LOG(BRS_LOG_ERROR, "fix", "end of day: journal not compacted; it stays complete "
                    "and grows until the next end of day", BRS_KV_S("reason", e.msg));
        brs__fix_archive_prune(srv->cfg.state_dir, srv->cfg.archive_retention_days, now);
    }
    if (srv->n_freed >= 64) {
        srv->n_freed = 0;
        malloc_trim(0);
    }
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++)
        brs__fix_session_timer(srv->sessions[i], now);
    for (uint32_t i = 0; i < srv->n_conns; i++) {
        conn *c = srv->conns[i];
        if (!c->sess && !c->closing && now - c->accepted_at > srv->cfg.logon_timeout_ns) {
            brs__srv_limit_bit(srv, LIMIT_LOGON_TIMEOUT, c->peer, NULL);
            c->closing = 1;
            brs__srv_mark_dirty(srv, c);
        }
        if (c->sess && c->sess->io.ctx == c && !c->closing && consumer_stalled(srv, c, now))
            slow_consumer(srv, c, now);
        if (c->closing && now >= c->linger_until)
            brs__srv_mark_dirty(srv, c); /* its linger is over */
        if (!c->sess && c->deferred_until && now >= c->deferred_until) {
            c->deferred_until = 0;
            brs__srv_on_readable(srv, c, now); /* its Logon, brs__srv_held back after failures */
        }
        if (c->paused && now - c->window_start >= 1000000000LL) {
            c->paused = 0;
            c->window_start = now;
            c->window_msgs = 0;
            brs__srv_set_events(srv, c);
            if (c->inlen)
                brs__srv_on_readable(srv, c, now); /* bytes already buffered */
        }
    }
}

/* A write or sync of the journal or a store failed: what this turn produced
 * is not durable, so none of it is sent. Every session gets a Logout saying
 * why (its MsgSeqNum is not durable either: the peer sees the number again
 * after a restart), the connections close and the gateway stops. */
static void storage_failed(brs__fix_server *srv)
{
    BRS_LOG(BRS_LOG_ERROR, "fix", "state cannot be made durable: nothing more is acknowledged; "
            "logging every session out and stopping", BRS_KV_S("reason", srv->gw.fail_msg));
    for (uint32_t i = 0; i < srv->n_conns; i++)
        srv->conns[i]->outlen = srv->conns[i]->durable; /* not committed: never sent */
    char text[300];
    snprintf(text, sizeof text, "gateway storage failure (%s); try again later", srv->gw.fail_msg);
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++) {
        brs__fix_session *s = srv->sessions[i];
        /* nothing more is written; the Logout takes the first number not
         * committed, the one a restarted gateway continues from */
        if (s->store.fd >= 0) {
            s->store.err = s->store.err ? s->store.err : EIO;
            s->store.wlen = 0;
            s->store.next_out = s->store.c_next_out;
        }
        if (s->state == BRS__FIX_DISCONNECTED)
            continue;
        BRS_LOG(BRS_LOG_WARN, "fix", "session logged out: storage failure",
                BRS_KV_S("session", s->cfg.target), BRS_KV_S("sender", s->cfg.sender));
        brs__fix_session_logout(s, text);
    }
    for (uint32_t i = 0; i < srv->n_conns; i++) {
        conn *c = srv->conns[i];
        c->durable = c->outlen;
        c->closing = 1;
        while (c->outoff < c->outlen) { /* best effort, non-blocking */
            ssize_t w = brs__srv_conn_write(c, c->out + c->outoff, c->outlen - c->outoff);
            if (w <= 0)
                break;
            c->outoff += (size_t)w;
        }
    }
    while (srv->n_conns)
        brs__srv_conn_free(srv, srv->conns[0]);
    brs__wsgate_abort(srv->ws); /* its queued answers are not durable either */
}


/* SIGTERM/SIGINT: every logged-on session gets a Logout saying why, it is
 * committed, and what is queued gets up to 2 s to reach the peers. */
static int shutdown_sessions(brs__fix_server *srv)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++) {
        brs__fix_session *s = srv->sessions[i];
        if (s->state == BRS__FIX_ACTIVE || s->state == BRS__FIX_AWAIT_LOGON) {
            brs__fix_session_logout(s, "gateway shutting down");
            n++;
        }
    }
    observe(srv);
    if (brs__fix_gateway_flush(&srv->gw) != BRS_OK) {
        storage_failed(srv);
        return BRS_E_IO;
    }
    int64_t until = brs__monotime_ns() + 2000000000LL;
    for (;;) {
        int left = 0;
        for (uint32_t i = 0; i < srv->n_conns; i++) {
            conn *c = srv->conns[i];
            c->durable = c->outlen;
            while (c->outoff < c->outlen) {
                ssize_t w = brs__srv_conn_write(c, c->out + c->outoff, c->outlen - c->outoff);
                if (w <= 0)
                    break;
                c->outoff += (size_t)w;
            }
            if (c->outoff < c->outlen && errno == EAGAIN)
                left = 1;
        }
        if (!left || brs__monotime_ns() > until)
            break;
        usleep(10000);
    }
    BRS_LOG(BRS_LOG_INFO, "fix", "stopping: sessions logged out", BRS_KV_U("sessions", n),
            BRS_KV_U("connections", srv->n_conns));
    while (srv->n_conns)
        brs__srv_conn_free(srv, srv->conns[0]);
    return BRS_OK;
}

int brs__fix_server_run(brs__fix_server *srv, volatile sig_atomic_t *stop)
{
    struct epoll_event evs[64];
    while (!*stop) {
        /* market_data.stop_at_end: before the clock moves on (a max replay with
         * strategies ends on the data's clock, and stops there, as a backtest) */
        if (srv->cfg.md.stop_at_end && brs__rt_feed_done(srv->feed) && !brs__rt_queued(srv->rt) &&
            !srv->gw.n_evq_active) {
            BRS_LOG0(BRS_LOG_INFO, "fix", "stopping: the market data is replayed (market_data.stop_at_end)");
            break;
        }
        int wait_ms = srv->dirty || srv->rerun || srv->mc_more ? 0 : brs__rt_feed_done(srv->feed) ? 50 : 1;
        int64_t due = brs__rt_next_time(srv->rt); /* a venue answer or a routing timeout */
        if (srv->strats) { /* a strategy's timer */
            int64_t tt = brs__rt_strats_next_timer(brs__rt_hosted_set(srv->strats));
            if (tt < due)
                due = tt;
        }
        if (srv->ws && brs__wsgate_next_time(srv->ws) < due)
            due = brs__wsgate_next_time(srv->ws); /* pings, timeouts, book updates */
        if (due != INT64_MAX && wait_ms) {
            int64_t ms = (due - brs__realtime_ns()) / 1000000;
            wait_ms = ms <= 0 ? 0 : ms < wait_ms ? (int)ms : wait_ms;
        }
        int n = epoll_wait(srv->efd, evs, 64, wait_ms);
        int64_t now = brs__realtime_ns();
        /* the end of day's expiry runs and an old day's DAY order may rest:
         * what could trade with one and cannot expire it first waits (app.h) */
        int holds = brs__fix_gateway_eod_holds(&srv->gw);
        srv->now = now;
        if (srv->rerun) { /* reading resumed on input already buffered */
            srv->rerun = 0;
            for (uint32_t i = 0; i < srv->n_conns; i++)
                if (srv->conns[i]->rerun)
                    brs__srv_on_readable(srv, srv->conns[i], now);
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == (void *)&srv->ws) {
                if (!holds) /* (level-triggered: taken once the end of day's expiry is over) */
                    brs__wsgate_poll(srv->ws, now);
                continue;
            }
            conn *c = evs[i].data.ptr;
            if (!c) {
                brs__srv_on_accept(srv, now);
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                brs__srv_on_readable(srv, c, now);
            if (evs[i].events & EPOLLOUT) {
                brs__srv_mark_dirty(srv, c);
                if (c->tls_rd_wants_write)
                    brs__srv_on_readable(srv, c, now);
            }
        }
        if (!holds && brs__wsgate_input_waits(srv->ws)) /* in memory: its fd says nothing */
            brs__wsgate_poll(srv->ws, now);
        if (now - srv->last_timer >= 100000000LL) {
            srv->last_timer = now;
            timers(srv, now);
        }
        if (srv->hup && *srv->hup) {
            *srv->hup = 0;
            brs__log_reopen();
            brs__fix_slog_reopen(srv->slog);
        }
        holds = brs__fix_gateway_eod_holds(&srv->gw); /* (the timers may have begun an end of day) */
        /* what the runtime has due (reports to the sessions), market data replayed */
        if (!brs__rt_feed_done(srv->feed) && !holds)
            brs__srv_feed_step(srv, now, 65536, 0);
        srv->loop_advance = 1;
        brs__rt_advance(srv->rt, now);
        srv->loop_advance = 0;
        if (!holds)
            brs__rt_hosted_poll(srv->strats, brs__monotime_ns()); /* timers, hot reload, metrics */
        srv->mc_more = srv->gw.n_evq_active ? event_slices(srv) : 0;
        brs__fix_gateway_publish(&srv->gw); /* the books that moved, whatever moved them */
        srv->mc_more |= srv->gw.n_mc_active || srv->gw.n_erq_active ? mass_cancels(srv) : 0;
        if (srv->gw.eod_phase == BRS__FIX_EOD_EXPIRE) /* the end of day's expiry, a slice a turn */
            srv->mc_more |= brs__fix_gateway_eod_step(&srv->gw);
        else if (brs__fix_gateway_forgetting(&srv->gw)) /* closed orders, a step a turn */
            srv->mc_more |= brs__fix_gateway_forget_step(&srv->gw);
        if (srv->ws) /* WebSocket accounts' waiting events, a slice each (before the commit) */
            brs__wsgate_step(srv->ws);
        observe(srv);
        /* write-ahead: stores and journal reach the file (one commit) before
         * replies reach the wire, FIX and WebSocket alike */
        if (brs__fix_gateway_flush(&srv->gw) != BRS_OK) {
            storage_failed(srv);
            return BRS_E_IO;
        }
        if (srv->ws)
            brs__wsgate_flush(srv->ws, now);
        /* a sequence reset committed: its store sheds the history before it
         * (into the archive), so stores follow the live session */
        for (uint32_t i = 0; i < srv->cfg.n_sessions; i++)
            if (srv->sessions[i]->store.compact)
                brs__fix_store_compact(&srv->sessions[i]->store, now);
        checkpoint(srv, now);
        conn *d = srv->dirty;
        srv->dirty = NULL;
        while (d) {
            conn *next = d->next_dirty;
            d->dirty = 0;
            brs__srv_fill(srv, d); /* from the store: committed already */
            d->durable = d->outlen;
            if (brs__srv_flush_out(srv, d) < 0)
                brs__srv_conn_free(srv, d);
            else if ((d->backlog || (d->sess && d->sess->io.ctx == d && d->sess->resend.next)) &&
                     d->outoff == d->outlen)
                brs__srv_mark_dirty(srv, d); /* the socket took it all: more next turn */
            d = next;
        }
        brs__fix_slog_flush(srv->slog); /* one write per session log file per turn */
    }
    brs__srv_stop_strategies(srv);
    return shutdown_sessions(srv);
}

brs__rt *brs__fix_server_runtime(brs__fix_server *srv) { return srv->rt; }

void brs__fix_server_set_hup(brs__fix_server *srv, volatile sig_atomic_t *hup)
{
    srv->hup = hup;
}

void brs__fix_server_close(brs__fix_server *srv)
{
    if (!srv)
        return;
    while (srv->n_conns)
        brs__srv_conn_free(srv, srv->conns[0]);
    brs__fix_slog_close(srv->slog);
    brs__rt_hosted_close(srv->strats); /* before the metrics registry and the runtime go */
    srv->strats = NULL;
    brs__wsgate_metrics_stop(srv->ws); /* its series are in the registry freed next */
    brs__fix_metrics_stop(srv->metrics);
    brs__live_free(srv->gw.live); /* when the metrics never started */
    srv->gw.live = NULL;
    brs__fix_gateway_close(&srv->gw);
    brs__wsgate_close(srv->ws);
    brs__rt_feed_close(srv->feed);
    brs__rt_destroy(srv->rt);
    free(srv->rt_instr);
    if (srv->has_own_cfg)
        brs__config_free(&srv->own_cfg);
    if (srv->sessions)
        for (uint32_t i = 0; i < srv->cfg.n_sessions; i++)
            if (srv->sessions[i]) {
                brs__fix_session_close(srv->sessions[i]);
                free(srv->sessions[i]);
            }
    free(srv->sessions);
    free(srv->seen);
    free(srv->conns);
    if (srv->lfd >= 0)
        close(srv->lfd);
    if (srv->efd >= 0)
        close(srv->efd);
    if (srv->tls_ctx)
        brs__tls_ctx_free(srv->tls_ctx);
    free(srv);
}
