/* wsgate_internal.h: what wsgate.c (connections, book updates, config) and
 * wsgate_orders.c (requests, the order table, reports) share. Internal to
 * host/wsgate. */
#ifndef BRS_WSGATE_INTERNAL_H
#define BRS_WSGATE_INTERNAL_H

#include "wsgate/wsgate.h"
#include "feeds/binance.h"
#include "net/authlimit.h"
#include "ws/ws_server.h"
#include "wsgate/msg.h"
#include "runtime/rt_evq.h"
#include "ops/metrics.h"

#include <stddef.h>
#include <stdint.h>

enum { ST_PENDING = 0, ST_NEW, ST_PARTIAL, ST_FILLED, ST_CANCELLED, ST_REJECTED };

#define MAX_BOOK_SUBS 8
#define BOOK_MIN_NS 50000000LL /* book updates: looked at (and sent if changed) at most every 50 ms */


typedef struct wsorder {
    char clid[64];
    uint32_t instr;
    uint8_t side, type, status, replace_pending;
    int64_t price, qty, cum, leaves;
    int64_t new_price, new_qty; /* asked by a replace, applied on REPLACED */
    __int128 notional;          /* sum of fill price x qty, for avg_px */
    int64_t t_in;               /* when its place ran (the latency histograms); 0: replayed */
} wsorder;

typedef struct account {
    char name[64];
    char token[256];
    uint32_t client;
    brs__wsgate *g;
    uint32_t index;
    wsorder *orders;
    uint32_t n_orders;
    uint32_t *map; /* open addressing: clid hash -> order index + 1 */
    uint32_t map_cap;
    /* streaming (docs/ws-order-entry.md, "A deep sweep streams"): at most
     * max_events_per_turn events a loop turn are reported; the rest wait
     * here, in order, and the account's later events and messages behind */
    brs__rt_evq q;
    uint64_t epoch;   /* the loop turn `taken` counts in */
    uint32_t taken;   /* events reported in that turn */
    uint32_t turns;   /* loop turns the waiting events took */
    uint64_t deferred;
    int64_t t0;
} account;

typedef struct brs__wsgate_series brs__wsgate_series;

typedef struct bsub {
    uint32_t instr, venue, depth;
    uint64_t last_hash;
    int64_t last_check; /* the book is looked at most once per BOOK_MIN_NS */
} bsub;

typedef struct wconn {
    brs__wss ws;
    brs__wsgate *g;
    int acct; /* -1 until logged in */
    uint32_t subs;
    bsub books[MAX_BOOK_SUBS];
    uint32_t n_books;
    double tokens;
    int64_t t_tokens, t_open, t_limit_log;
    uint64_t num;
    uint32_t ev_mask;
    char peer[64];
    uint32_t ip; /* the peer's IPv4 address, host byte order (failed logins per address) */
    int closed;
    /* messages received while the account's events wait, kept (not run) in
     * order until they are out; the connection is read on meanwhile */
    brs__ws_msgq held;
    int drop_kept; /* the gateway closed it for its kept messages (memory, max_backlog_bytes): not run */
    int parked;    /* over, out of the poll set, kept for its messages to run */
} wconn;

struct brs__wsgate {
    brs__rt *rt;
    const brs_instrument *instr;
    uint32_t n_instr;
    int *dec; /* decimals of each instrument's price_scale */
    int lfd, efd;
    account *acc;
    uint32_t n_acc;
    wconn **conns;
    uint32_t n_conns, cap_conns;
    /* limits (docs/ws-order-entry.md, "Limits") */
    brs__wss_limits wl;
    uint32_t max_connections, max_orders;
    double rate, burst;
    int64_t login_timeout_ns;
    uint64_t next_num;
    brs__wsgate_stats st;
    /* the order journal (brs__wsgate_set_journal): each order request before
     * it is carried out; replaying: requests from it, answered to no one */
    void (*jfn)(void *user, uint32_t acct, int64_t t, const char *text, size_t len);
    void *juser;
    /* the audit trail (brs__wsgate_set_report_journal): each order event as reported */
    void (*rfn)(void *user, uint32_t acct, const char *name, int64_t t, const char *text, size_t len);
    int replaying;
    uint32_t per_turn;   /* max_events_per_turn of the serve config; 0: every event at once */
    uint64_t epoch;      /* loop turns (brs__wsgate_step) */
    uint32_t n_active;   /* accounts with events waiting */
    uint32_t n_held;     /* connections with messages held */
    void *tls_ctx;       /* SSL_CTX* of `ws.tls` (host/net/tls.h); NULL: plain TCP */
    /* failed logins per address, the FIX listener's rule and table
     * (net/authlimit.h): from the second, the address's next login waits */
    brs__authlimit auth;
    struct brs__wsgate_series *metrics; /* wsgate_metrics.c; NULL: none */
    /* place to accepted / to each fill (metrics on): arrival times noted as
     * reported, observed with one clock read at the turn's end */
    brs__histogram *h_ack, *h_fill;
    brs__latq lat_ack, lat_fill;
    int64_t fault_stream_sleep_ns;      /* BRS_FAULT_WS_STREAM_SLEEP_MS (tests) */
    int input_waits;                    /* a connection has input in memory (brs__wss_input_waits) */
    char buf[1 << 16];
};


size_t brs__wsg_jstr(char *out, size_t cap, size_t at, const char *s);
void brs__wsg_fmt_px(const brs__wsgate *g, uint32_t instr, int64_t px, char *out, size_t cap);
void brs__wsg_send_text(wconn *c, const char *s, size_t n);
void brs__wsg_on_order(void *user, const brs_order_event *ev);
/* The event into the account's order table and reported (journal, connections). */
void brs__wsg_report(brs__wsgate *g, account *a, const brs_order_event *ev);
/* Run a message of a connection (the account's events do not wait). */
void brs__wsg_handle(wconn *c, const char *data, size_t len);
void brs__wsg_do_place(brs__wsgate *g, wconn *c, account *a, const brs__wsg_req *r, int64_t now);
void brs__wsg_do_cancel_replace(brs__wsgate *g, wconn *c, account *a, const brs__wsg_req *r);
void brs__wsg_on_text(void *ud, brs__wss *ws, const char *data, size_t len);
void brs__wsg_on_open(void *ud, brs__wss *ws, const char *path);
void brs__wsg_on_close(void *ud, brs__wss *ws, int code, const char *reason);

/* The account's budget of events this loop turn (max_events_per_turn):
 * `taken` counts from 0 again in a new turn. */
static inline void brs__wsg_turn_budget(const brs__wsgate *g, account *a)
{
    if (a->epoch != g->epoch) {
        a->epoch = g->epoch;
        a->taken = 0;
    }
}

/* An order's arrival time for a latency histogram (its report is being
 * made); observed at the turn's end (brs__wsgate_observe_latency). */
static inline void brs__wsg_lat_note(brs__wsgate *g, brs__latq *q, int64_t t)
{
    if (brs__latq_full(q, t))
        brs__wsgate_observe_latency(g);
    brs__latq_note(q, t);
}

#endif
