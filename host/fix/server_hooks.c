/* server_hooks.c: how `bourse serve` joins the runtime and the journal:
 * market data replay steps (FEED records), runtime time (CLOCK), WebSocket
 * requests, routed children for the audit trail, and the hosted strategies'
 * own steps (STRAT) and stop. The runtime and the journal call these; server.c installs them. */
#include "fix/server_internal.h"
#include "runtime/rt_books.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

/* ---- lifecycle -------------------------------------------------------------------- */

/* WebSocket order requests: into the same journal as the FIX messages, and
 * back out of it at a restart. */
void brs__srv_on_ws_request(void *user, uint32_t account, int64_t t, const char *text, size_t len)
{
    brs__fix_server *srv = user;
    if (brs__fix_journal_ws(&srv->gw, account, t, text, len) != BRS_OK && !srv->gw.fail_msg[0])
        snprintf(srv->gw.fail_msg, sizeof srv->gw.fail_msg, "journal: out of memory for a WebSocket request");
}

/* WebSocket order reports into the journal, for the audit trail. */
void brs__srv_on_ws_report(void *user, uint32_t account, const char *name, int64_t t, const char *text,
                           size_t len)
{
    brs__fix_server *srv = user;
    if (brs__fix_journal_ws_report(&srv->gw, account, name, t, text, len) != BRS_OK && !srv->gw.fail_msg[0])
        snprintf(srv->gw.fail_msg, sizeof srv->gw.fail_msg, "journal: out of memory for a WebSocket report");
}

/* Runtime time into the journal: an advance that did something outside the
 * market data feed (the feed's own are its FEED record). */
void brs__srv_on_clock(void *user, int64_t now)
{
    brs__fix_server *srv = user;
    if (srv->loop_advance) /* what it did belongs to no other record: a replay must advance here */
        brs__fix_journal_clock_step(&srv->gw, now);
    else if (!srv->in_feed)
        brs__fix_journal_clock(&srv->gw, now);
}

/* Market data in the journal: n events replayed at loop time t. As live, the
 * runtime advances to t first, then each event is followed by an advance. */
uint64_t brs__srv_feed_step(brs__fix_server *srv, int64_t t, uint64_t max, int exact)
{
    if (srv->strats && !brs__rt_feed_paced(srv->feed)) {
        /* with strategies, a max replay is a book-mode run of the file: the
         * data's clock, the latencies, the router reading what market data
         * showed (no client can be connected yet); deterministic, so a
         * restart replays it whole from its FEED record; then the real clock */
        int64_t t0 = brs__monotime_ns();
        srv->in_feed = 1;
        brs__rt_set_books_from_venues(srv->rt, 0);
        uint64_t n = brs__rt_feed_run_sim(srv->feed, srv->rt, brs__rt_hosted_set(srv->strats));
        brs__rt_set_books_from_venues(srv->rt, 1);
        srv->in_feed = 0;
        srv->replayed_sim = 1;
        BRS_LOG(BRS_LOG_INFO, "runtime", "market data replayed on the data's clock with the strategies",
                BRS_KV_U("events", n), BRS_KV_U("strategies", brs__rt_hosted_count(srv->strats)),
                BRS_KV_F("seconds", (double)(brs__monotime_ns() - t0) * 1e-9));
        if (n && !exact)
            brs__fix_journal_feed(&srv->gw, t, n);
        if (n) /* a step's end, live and replayed alike (app_events.c) */
            brs__fix_evq_step_end(&srv->gw);
        (void)max;
        return n;
    }
    brs__rt_advance(srv->rt, t);
    srv->in_feed = 1;
    uint64_t n = exact ? brs__rt_feed_run_exact(srv->feed, srv->rt, t, max)
                       : brs__rt_feed_run(srv->feed, srv->rt, t, max);
    srv->in_feed = 0;
    if (n && !exact)
        brs__fix_journal_feed(&srv->gw, t, n);
    if (n) /* a step's end, live and replayed alike (app_events.c) */
        brs__fix_evq_step_end(&srv->gw);
    return n;
}

/* The gateway's books hook: once no replay feeds the hosted strategies, they
 * get the venues' books after each journaled step (runtime/rt_books.h). */
void brs__srv_strategy_books(void *user)
{
    brs__fix_server *srv = user;
    if (srv->strats && !srv->in_feed && brs__rt_feed_done(srv->feed) && !brs__fix_gateway_eod_holds(&srv->gw))
        brs__rt_strats_book_tops(brs__rt_hosted_set(srv->strats));
}

int brs__srv_replay_feed(void *user, int64_t t, uint64_t n)
{
    brs__fix_server *srv = user;
    if (!srv->feed)
        return BRS_E_STATE;
    srv->feed_replayed = 1;
    return brs__srv_feed_step(srv, t, n, 1) == n ? BRS_OK : BRS_E_CORRUPT;
}

/* Before the journal replays: market data replayed at start (max) goes first
 * for a journal from before runtime time was recorded, as it always did. */
void brs__srv_replay_begin(void *user, int has_feed, int legacy)
{
    brs__fix_server *srv = user;
    if (srv->feed && !brs__rt_feed_paced(srv->feed) && !has_feed && legacy) {
        if (srv->strats) /* the book-mode run of the file (brs__srv_feed_step) */
            brs__srv_feed_step(srv, brs__realtime_ns(), UINT64_MAX, 1);
        else
            brs__rt_feed_run(srv->feed, srv->rt, brs__realtime_ns(), UINT64_MAX);
        srv->feed_replayed = 1;
    }
}

/* The hosted strategies' own steps (start, timers, reloads: rt_hosted.c's
 * records) into the journal, and back at a restart. */
int brs__srv_on_strat(void *user, const void *rec, size_t len)
{
    brs__fix_server *srv = user;
    int rc = brs__fix_journal_strat(&srv->gw, rec, len);
    if (rc != BRS_OK && !srv->gw.fail_msg[0])
        snprintf(srv->gw.fail_msg, sizeof srv->gw.fail_msg, "journal: out of memory for a strategies' step");
    return rc;
}

int brs__srv_replay_strat(void *user, const char *rec, size_t len)
{
    brs__fix_server *srv = user;
    brs_error e = {0};
    int rc = brs__rt_hosted_replay(srv->strats, rec, len, &e);
    if (rc)
        BRS_LOG(BRS_LOG_ERROR, "fix", "recovery: a strategies' step does not replay", BRS_KV_S("error", e.msg));
    return rc;
}

int brs__srv_replay_ws(void *user, uint32_t account, int64_t t, const char *text, size_t len)
{
    brs__fix_server *srv = user;
    return srv->ws ? brs__wsgate_replay(srv->ws, account, t, text, len) : BRS_E_STATE;
}

/* The runtime's child hook: each step of a routed child into the journal (the
 * audit trail), named by its parent's owner as the audit shows it. Two notes
 * per routed order at least, so the common case (a FIX session's order) is
 * formatted without snprintf (which cost 4k instructions per order). */
void brs__srv_on_child(void *user, const brs__rt_child_note *n)
{
    brs__fix_server *srv = user;
    char owner[80], order[72], acct[64];
    const char *own = NULL;
    char *d = order + sizeof order - 1; /* the parent's order id, in decimal */
    uint64_t v = n->order;
    *d = 0;
    do
        *--d = (char)('0' + v % 10);
    while ((v /= 10) && d > order);
    memmove(order, d, (size_t)(order + sizeof order - d));
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++)
        if (srv->gw.client[i] == n->client) {
            own = srv->sessions[i]->cfg.target;
            break;
        }
    if (!own) {
        snprintf(owner, sizeof owner, "client %u", n->client);
        own = owner;
    }
    if (srv->ws && brs__wsgate_order_name(srv->ws, n->client, n->order, acct, sizeof acct, order, sizeof order)) {
        snprintf(owner, sizeof owner, "ws:%s", acct);
        own = owner;
    }
    const char *sn = brs__rt_hosted_client_name(srv->strats, n->client);
    if (sn) { /* a hosted strategy's order: its own id space, never a FIX OrderID */
        snprintf(owner, sizeof owner, "strategy:%s", sn);
        snprintf(order, sizeof order, "strategy:%llu", (unsigned long long)n->order);
        own = owner;
    }
    if (n->client == UINT32_MAX)
        own = "", order[0] = 0; /* a child whose parent the runtime could not tell */
    brs__fix_journal_child(&srv->gw, n, own, order);
}


/* The strategies stop (xStop, their open orders cancelled through the order
 * path); what that sends plays out on the runtime's queue, in time order, as at
 * the end of a book-mode run; then their run directories ("out") are written. */
void brs__srv_stop_strategies(brs__fix_server *srv)
{
    if (!srv->strats)
        return;
    brs__rt_hosted_stop(srv->strats);
    brs__rt_strats *set = brs__rt_hosted_set(srv->strats);
    if (srv->replayed_sim && brs__rt_feed_done(srv->feed)) {
        while (brs__rt_strats_step(set, NULL, 0) >= 0 && !brs__rt_failed(srv->rt, NULL))
            ;
    } else {
        brs__rt_advance(srv->rt, brs__realtime_ns());
        while (brs__rt_queued(srv->rt) && !brs__rt_failed(srv->rt, NULL))
            brs__rt_step(srv->rt); /* what the cancels cause, at their own times */
    }
    brs__fix_gateway_publish(&srv->gw);
    brs_error e = {0};
    if (brs__rt_hosted_write(srv->strats, &e))
        BRS_LOG(BRS_LOG_ERROR, "strategy", "run directory not written", BRS_KV_S("error", e.msg));
    uint64_t done, refused;
    brs__rt_hosted_reloads(srv->strats, &done, &refused);
    BRS_LOG(BRS_LOG_INFO, "strategy", "strategies stopped", BRS_KV_U("strategies", brs__rt_hosted_count(srv->strats)),
            BRS_KV_U("reloads", done), BRS_KV_U("reloads_refused", refused));
}
