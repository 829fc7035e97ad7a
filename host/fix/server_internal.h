/* server_internal.h: what the parts of `bourse serve`'s loop share: the
 * server and connection structs and the functions one part calls in another
 * (server.c: open, loop, timers; server_conn.c: sockets, input, output;
 * server_hooks.c: the runtime's and the journal's hooks). Internal to host/fix. */
#ifndef BRS_FIX_SERVER_INTERNAL_H
#define BRS_FIX_SERVER_INTERNAL_H

#include "fix/server.h"
#include "fix/fix_live.h"
#include "fix/fix_metrics.h"
#include "fix/archive.h"
#include "runtime/rt_hosted.h"
#include "wsgate/wsgate.h"

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct brs__fix_server brs__fix_server_;
/* What the session log last reported of a session (events are found by
 * comparing: the session layer does no I/O and no logging of its own). */
struct sess_seen {
    int state;
    uint32_t ip;
    uint64_t rejects, garbled;
    char peer[48];
};
typedef struct conn {
    brs__fix_server_ *srv;
    int fd;
    brs__fix_session *sess; /* NULL until a Logon names one */
    char *in;
    size_t inlen, incap;
    char *out;
    size_t outoff, outlen, outcap;
    size_t durable;  /* out[0, durable): committed output (the rest waits for the commit) */
    int closing;     /* close once output is written (or cannot be) */
    int64_t linger_until; /* closing: give up writing at this time */
    uint32_t backlog; /* first stored MsgSeqNum not queued yet (output above the
                         high-water mark: it waits in the store); 0 none */
    int blocked;      /* reading paused: output above the high-water mark */
    int slow;         /* logged out as a slow consumer: only the Logout is queued */
    int rerun;        /* buffered input to run at the next turn */
    int eof;          /* the peer closed its side: what it sent is still run */
    int resending;    /* a resend is streaming (logged when it starts and ends) */
    int64_t last_progress; /* the peer last took bytes (or had nothing pending) */
    uint64_t sent_total;   /* bytes handed to the kernel */
    uint64_t acked_last;   /* sent_total - kernel queue, at the last timer tick */
    char peer[48];    /* "address:port" */
    uint32_t ip;      /* peer IPv4 address, host order */
    void *ssl;        /* TLS (SSL*), NULL for plain TCP */
    int tls_rd_wants_write; /* the TLS layer needs the socket writable to read on */
    int64_t deferred_until; /* Logon failures from this address: its Logon waits */
    int dirty;       /* in the dirty list */
    int paused;      /* reading paused by the rate limit */
    int64_t accepted_at;
    int64_t window_start;
    uint32_t window_msgs;
    uint32_t ev_mask; /* what epoll watches now: changed only when it must be */
    struct conn *next_dirty;
} conn;

/* Input buffer of a connection: small until Logon (a flood of unauthenticated
 * sockets costs 4 KB each), grown as messages need (up to max_message_bytes +
 * 64 KB) and given back down to 64 KB once empty. */
#define CONN_IN_PRE_LOGON 4096
#define CONN_IN_LOGGED_ON 65536

struct brs__fix_server {
    brs__fix_server_cfg cfg;
    int lfd, efd;
    brs__rt *rt;                 /* the runtime: venues, router, the order path */
    brs_instrument *rt_instr;
    brs__rt_feed *feed;          /* market_data replay; NULL none */
    brs__rt_hosted *strats;      /* "strategies": hosted beside the clients; NULL none */
    int replayed_sim;            /* market_data max with strategies: replayed on the data's clock */
    brs__wsgate *ws;             /* ws_listen: WebSocket order entry; NULL when off */
    brs_config own_cfg;          /* a config made without one (the default sim venue) */
    int has_own_cfg;
    brs__fix_gateway gw;
    brs__fix_session **sessions;
    conn **conns;
    uint32_t n_conns, cap_conns;
    conn *dirty;
    int64_t last_timer;
    int64_t now;          /* time of the current loop turn */
    int rerun;            /* some connection has input to run again (reading resumed) */
    int mc_more;          /* a mass cancel slice or a forget step ran and more are to come */
    int64_t accept_paused_until; /* EMFILE: the listener rests until then */
    uint32_t n_freed;            /* connections freed since the last malloc_trim */
    int64_t checkpoint_retry_at; /* a checkpoint failed: not before then */
    struct {
        int64_t at;      /* last line (realtime ns) */
        uint64_t quiet;  /* times it bit since, not logged */
    } limit_log[3];      /* per enum limit_kind */
    int in_feed;                 /* the feed is replaying: its advances are its FEED record */
    int loop_advance;            /* the loop's own advance: a CLOCK record whenever it did something */
    int feed_replayed;           /* the journal's FEED records replayed the max feed */
    struct sess_seen *seen;      /* per session: what the log has said so far */
    uint64_t seen_rejects;       /* order rejects the log has said */
    brs__fix_metrics *metrics;   /* metrics.listen; NULL when off */
    uint64_t n_slow, n_accepted; /* for the metrics */
    void *tls_ctx;               /* SSL_CTX*, NULL: plain TCP */
    brs__authlimit auth;     /* failed Logons per address */
    volatile sig_atomic_t *hup;  /* SIGHUP: reopen the log file */
    brs__fix_slog *slog;         /* log_dir: per-session log files; NULL when off */
};

/* Limits that bite without a message to the peer (TCP pushes back, or the
 * connection closes): a WARN line at most once a second per limit, with how
 * many times it bit since the last line, so a client cannot flood the log. */
enum limit_kind { LIMIT_RATE, LIMIT_OUTPUT, LIMIT_LOGON_TIMEOUT };


/* server_conn.c */
void brs__srv_limit_bit(brs__fix_server *srv, enum limit_kind k, const char *peer,
                      const brs__fix_session *s);
void brs__srv_mark_dirty(brs__fix_server *srv, conn *c);
void brs__srv_conn_free(brs__fix_server *srv, conn *c);
ssize_t brs__srv_conn_write(conn *c, const char *p, size_t n);
void brs__srv_auth_failed(brs__fix_server *srv, uint32_t ip, const char *peer, int64_t now);
int brs__srv_held(brs__fix_server *srv, const conn *c);
void brs__srv_set_events(brs__fix_server *srv, conn *c);
void brs__srv_fill(brs__fix_server *srv, conn *c);
int brs__srv_flush_out(brs__fix_server *srv, conn *c);
void brs__srv_on_readable(brs__fix_server *srv, conn *c, int64_t now);
void brs__srv_on_accept(brs__fix_server *srv, int64_t now);

/* server_hooks.c */
void brs__srv_on_ws_report(void *user, uint32_t account, const char *name, int64_t t, const char *text,
                           size_t len);
void brs__srv_on_ws_request(void *user, uint32_t account, int64_t t, const char *text, size_t len);
void brs__srv_on_clock(void *user, int64_t now);
uint64_t brs__srv_feed_step(brs__fix_server *srv, int64_t t, uint64_t max, int exact);
void brs__srv_strategy_books(void *user);
int brs__srv_replay_feed(void *user, int64_t t, uint64_t n);
void brs__srv_replay_begin(void *user, int has_feed, int legacy);
int brs__srv_replay_ws(void *user, uint32_t account, int64_t t, const char *text, size_t len);
void brs__srv_on_child(void *user, const brs__rt_child_note *n);
int brs__srv_on_strat(void *user, const void *rec, size_t len);
int brs__srv_replay_strat(void *user, const char *rec, size_t len);
void brs__srv_stop_strategies(brs__fix_server *srv);

#endif
