/* wsgate.h: WebSocket order entry (docs/ws-order-entry.md). A translator onto
 * the runtime's order path (host/runtime/runtime.h), like the FIX gateway: each
 * configured account is one runtime client (added in config order, so ids are
 * stable), a connection logs in to an account with its token, and then places,
 * cancels, replaces and queries that account's orders and subscribes to its
 * order events, fills and book updates. Every account's reports go to its own
 * connections only. Server side of RFC 6455 in host/ws/ws_server.c; messages
 * in host/wsgate/msg.c. One thread, the loop's (the runtime's thread). */
#ifndef BRS_WSGATE_H
#define BRS_WSGATE_H

#include <stdint.h>

#include <bourse/bourse.h>

#include "core/config.h"
#include "runtime/runtime.h"

typedef struct brs__wsgate brs__wsgate;

/* Does the config ask for WebSocket order entry (a top-level "ws_listen")? */
int brs__wsgate_configured(const brs_config *cfg);
/* The keys this gateway reads at the top level of a serve config, for the
 * owner's allowed-keys list. */
#define BRS__WSGATE_CONFIG_KEYS "ws_listen", "ws"

/* Read "ws_listen" ("host:port", port 0 = any free one) and "ws" (accounts and
 * limits), listen, and add one runtime client per account. instr[i] is
 * runtime instrument i (symbols; price_scale a power of ten). *port gets the
 * bound port. Errors name the file and key. */
int brs__wsgate_open(brs__wsgate **out, brs__rt *rt, const brs_config *cfg,
                     const brs_instrument *instr, uint32_t n_instr, int *port, brs_error *err);
/* An epoll fd, readable when any of the gateway's sockets is ready: put it in
 * the loop's poll set. */
int brs__wsgate_fd(const brs__wsgate *g);
/* Accept, read and handle requests (calls into the runtime). Non-blocking.
 * The only place connections are read: before the loop turn's commit. */
void brs__wsgate_poll(brs__wsgate *g, int64_t now);
/* Is input already in memory waiting for brs__wsgate_poll (bytes that came
 * with an upgrade request whose 101 was written late)? The loop then calls
 * it although the gateway's fd may not be readable. */
int brs__wsgate_input_waits(const brs__wsgate *g);
/* After the runtime advanced: book updates, pings, timeouts, and write what is
 * queued to each connection. */
void brs__wsgate_flush(brs__wsgate *g, int64_t now);
/* max_events_per_turn (the serve config's key, shared with the FIX
 * gateway): each account reports at most n order events a loop turn; the rest
 * wait in order, with the account's later events and messages behind them,
 * and stream over the next turns (brs__wsgate_step). 0 (the default, and
 * while the journal replays): every event at once. */
void brs__wsgate_set_events_per_turn(brs__wsgate *g, uint32_t n);
/* Each loop turn, before the commit (the reports' journal records join it):
 * each account's next slice of waiting events reported, and the messages
 * that waited behind them run once they are all out. Nonzero while any wait
 * (brs__wsgate_next_time is then 0: the loop does not sleep). */
int brs__wsgate_step(brs__wsgate *g);
/* When brs__wsgate_flush next has timed work (INT64_MAX: none). */
int64_t brs__wsgate_next_time(const brs__wsgate *g);
/* Close every connection (1001, going away) and the listening socket. */
void brs__wsgate_close(brs__wsgate *g);

/* The order journal (bourse serve's state_dir): every place, cancel and
 * replace request of a logged-in account is handed to fn (account index, the
 * runtime clock it runs at, the JSON text as received) before it is carried
 * out, and its answers wait in the connection until brs__wsgate_flush, which
 * the owner calls only once the journal holding it is committed. */
void brs__wsgate_set_journal(brs__wsgate *g, void (*fn)(void *user, uint32_t acct, int64_t t,
                                                         const char *text, size_t len),
                             void *user);
/* The audit trail: every order event the gateway reports for an account (the
 * JSON `order` message as its connections get it, whether or not one is
 * subscribed) is handed to fn with the account's index and name and the
 * event's venue time, in the loop turn that caused it, so it joins the same
 * journal batch. Not called while replaying. */
void brs__wsgate_set_report_journal(brs__wsgate *g,
                                    void (*fn)(void *user, uint32_t acct, const char *name, int64_t t,
                                               const char *text, size_t len));
/* Carry out a journaled request again (restart): the same order table and
 * runtime calls at clock t, nothing sent. BRS_E_CORRUPT if it does not parse
 * or names no account. */
int brs__wsgate_replay(brs__wsgate *g, uint32_t acct, int64_t t, const char *text, size_t len);
/* Drop every connection without writing what is queued (the journal could not
 * be committed: none of it may reach a client). */
void brs__wsgate_abort(brs__wsgate *g);

/* Is runtime client `client` one of the accounts? Then its name and the
 * client_order_id of its order `order` (the runtime id) are copied out. */
int brs__wsgate_order_name(const brs__wsgate *g, uint32_t client, uint64_t order, char *acct_out,
                           size_t acct_cap, char *clid, size_t clid_cap);

/* Counters (also logged at close), plain fields the loop bumps; the
 * Prometheus series publish them (brs__wsgate_metrics_sync). */
typedef struct brs__wsgate_stats {
    uint64_t connections, logins, login_failures, requests, rejected_requests, orders, reports, fills,
        rate_limited, closed_limit;
    /* now (computed by brs__wsgate_get_stats): connections open, logged in
     * (neither counts a connection that is over), connections over whose
     * kept messages still wait to run, order events waiting in the accounts'
     * streaming queues, and the bytes of messages kept behind them */
    uint32_t open_connections, logged_in, closed_waiting;
    uint64_t events_waiting, kept_bytes;
} brs__wsgate_stats;
void brs__wsgate_get_stats(const brs__wsgate *g, brs__wsgate_stats *s);

/* Prometheus (docs/operations.md, "bourse serve metrics"): register the
 * gateway's series in reg (serve's /metrics registry), each `bourse_ws_*` or
 * `protocol="ws"`; a no-op when g or reg is NULL. The series are written only
 * by brs__wsgate_metrics_sync, from the loop (never once reg is freed). */
struct brs__mreg;
int brs__wsgate_metrics(brs__wsgate *g, struct brs__mreg *reg, brs_error *err);
/* Publish the counters into the series (the loop calls it with the FIX
 * gateway's sync, at most every 100 ms): no lock, no system call. */
void brs__wsgate_metrics_sync(brs__wsgate *g);
/* Each loop turn's end (before the commit, as the FIX gateway's): the
 * latencies of the accepted and fill events made this turn into
 * bourse_order_ack_latency_seconds / bourse_order_fill_latency_seconds
 * {protocol="ws"}, with one clock read (none when nothing was noted). */
void brs__wsgate_observe_latency(brs__wsgate *g);
/* Before reg is freed: the series are let go (nothing is observed after). */
void brs__wsgate_metrics_stop(brs__wsgate *g);

#endif
