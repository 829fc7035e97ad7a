/* server.c: the epoll loop of `bourse serve`. One thread; every socket is
 * non-blocking. Each loop turn: read what is ready and run it through the
 * sessions, then flush stores and journal (write-ahead), then write queued
 * output. A connection whose queue passes max_output is dropped: one slow
 * client can never hold the others back. */
#include "fix/server.h"
#include "fix/fix_live.h"
#include "fix/fix_metrics.h"
#include "fix/archive.h"
#include "runtime/rt_hosted.h"
#include "wsgate/wsgate.h"

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
    int64_t accept_paused_until; /* EMFILE: the listener rests until then */
    uint32_t n_freed;            /* connections freed since the last malloc_trim */
    int64_t checkpoint_retry_at; /* a checkpoint failed: not before then */
    struct {
        int64_t at;      /* last line (realtime ns) */
        uint64_t quiet;  /* times it bit since, not logged */
    } limit_log[3];      /* per enum limit_kind */
    int in_feed;                 /* the feed is replaying: its advances are its FEED record */
    int feed_replayed;           /* the journal's FEED records replayed the max feed */
    struct sess_seen *seen;      /* per session: what the log has said so far */
    uint64_t seen_rejects;       /* order rejects the log has said */
    brs__fix_metrics *metrics;   /* metrics.listen; NULL when off */
    uint64_t n_slow, n_accepted; /* for the metrics */
    void *tls_ctx;               /* SSL_CTX*, NULL: plain TCP */
    brs__fix_authlimit auth;     /* failed Logons per address */
    volatile sig_atomic_t *hup;  /* SIGHUP: reopen the log file */
    brs__fix_slog *slog;         /* log_dir: per-session log files; NULL when off */
};

/* Limits that bite without a message to the peer (TCP pushes back, or the
 * connection closes): a WARN line at most once a second per limit, with how
 * many times it bit since the last line, so a client cannot flood the log. */
enum limit_kind { LIMIT_RATE, LIMIT_OUTPUT, LIMIT_LOGON_TIMEOUT };

static void limit_bit(brs__fix_server *srv, enum limit_kind k, const char *peer,
                      const brs__fix_session *s)
{
    static const char *const key[] = {"max_msgs_per_sec", "max_output_bytes", "logon_timeout_ms"};
    static const char *const what[] = {"limit reached: reading paused until the next second",
                                       "limit reached: reading paused until the output drains",
                                       "limit reached: no Logon in time, connection closed"};
    int64_t now = brs__realtime_ns();
    if (now - srv->limit_log[k].at < 1000000000LL) {
        srv->limit_log[k].quiet++;
        return;
    }
    BRS_LOG(BRS_LOG_WARN, "fix", what[k], BRS_KV_S("key", key[k]), BRS_KV_S("peer", peer),
            BRS_KV_S("session", s ? s->cfg.target : ""),
            BRS_KV_U("not_logged_since", srv->limit_log[k].quiet));
    srv->limit_log[k].at = now;
    srv->limit_log[k].quiet = 0;
}

/* ---- configuration ------------------------------------------------------------ */

/* The latest end of day at or before now (ns since the epoch). */
static int64_t day_boundary(int32_t day_end_s, int64_t now)
{
    const int64_t day = 86400LL * 1000000000LL;
    int64_t b = now - now % day + (int64_t)day_end_s * 1000000000LL;
    return b > now ? b - day : b;
}


/* ---- connections --------------------------------------------------------------- */

static void mark_dirty(brs__fix_server *srv, conn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        c->next_dirty = srv->dirty;
        srv->dirty = c;
    }
}

static int conn_send(void *ctx, const char *p, size_t n);
static void conn_disconnect(void *ctx);

/* Room for n more bytes in the output queue. */
static int out_reserve(conn *c, size_t n)
{
    size_t pending = c->outlen - c->outoff;
    if (c->outlen + n <= c->outcap)
        return BRS_OK;
    if (c->outoff > 0) {
        memmove(c->out, c->out + c->outoff, pending);
        c->durable -= c->outoff;
        c->outlen = pending;
        c->outoff = 0;
    }
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 65536;
        while (cap < c->outlen + n)
            cap *= 2;
        char *q = realloc(c->out, cap);
        if (!q)
            return BRS_E_NOMEM;
        c->out = q;
        c->outcap = cap;
    }
    return BRS_OK;
}

/* Flow control: above the high-water mark (max_output_bytes) of unsent output
 * the connection stops being read, and new stored messages stay in the store
 * (c->backlog) until the queue drains below the low-water mark; then they are
 * queued from the store, in order, as the socket takes them. Resent messages
 * are produced at that pace too (fill). Memory stays bounded whatever the
 * client asks for or the others trade. */
static int conn_send(void *ctx, const char *p, size_t n)
{
    conn *c = ctx;
    if (c->closing && !c->slow)
        return BRS_OK;
    brs__fix_server *srv = c->srv;
    if (srv->slog && c->sess)
        brs__fix_slog_msg(srv->slog, c->sess->index, 1, p, n, srv->now);
    size_t pending = c->outlen - c->outoff;
    uint32_t seq = c->sess ? c->sess->sending_seq : 0;
    if (seq && !c->slow) {
        if (c->backlog)
            return BRS_OK; /* behind others waiting in the store */
        if (pending > 0 && pending + n > srv->cfg.max_output) {
            c->backlog = seq;
            c->blocked = 1;
            limit_bit(srv, LIMIT_OUTPUT, c->peer, c->sess);
            mark_dirty(srv, c);
            return BRS_OK;
        }
    }
    if (out_reserve(c, n) != BRS_OK)
        return BRS_E_NOMEM;
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
    if (pending + n > srv->cfg.max_output)
        c->blocked = 1;
    mark_dirty(srv, c);
    return BRS_OK;
}

static void conn_disconnect(void *ctx)
{
    conn *c = ctx;
    if (!c->closing) {
        c->closing = 1;
        if (!c->linger_until)
            c->linger_until = c->srv->now + 2000000000LL; /* what is queued may still go */
    }
    mark_dirty(c->srv, c);
}

static void conn_free(brs__fix_server *srv, conn *c)
{
    BRS_LOG(BRS_LOG_INFO, "fix", "disconnected", BRS_KV_S("peer", c->peer),
            BRS_KV_S("session", c->sess ? c->sess->cfg.target : ""),
            BRS_KV_S("by", c->eof ? "peer" : "gateway"),
            BRS_KV_U("unsent_bytes", c->outlen - c->outoff));
    /* The session may already belong to a newer connection (it logged off here
     * and on again over another socket in the same loop turn): leave it be. */
    if (c->sess && (c->sess->io.ctx == c || c->sess->io.ctx == NULL)) {
        brs__fix_gateway_session_gone(&srv->gw, c->sess);
        if (c->sess->state != BRS__FIX_DISCONNECTED)
            brs__fix_session_detach(c->sess);
        brs__fix_store_flush(&c->sess->store);
    }
    epoll_ctl(srv->efd, EPOLL_CTL_DEL, c->fd, NULL);
    brs__fix_tls_free(c->ssl);
    close(c->fd);
    for (uint32_t i = 0; i < srv->n_conns; i++)
        if (srv->conns[i] == c) {
            srv->conns[i] = srv->conns[--srv->n_conns];
            break;
        }
    free(c->in);
    free(c->out);
    free(c);
    /* a flood of connections closing: their freed memory goes back to the
     * system (glibc keeps freed heap otherwise) at the next timer tick */
    srv->n_freed++;
}

/* recv/send over plain TCP or TLS. */
static ssize_t conn_recv(conn *c, char *buf, size_t n)
{
    if (!c->ssl)
        return recv(c->fd, buf, n, 0);
    return brs__fix_tls_read(c->ssl, buf, n, &c->tls_rd_wants_write);
}

static ssize_t conn_write(conn *c, const char *p, size_t n)
{
    if (!c->ssl)
        return send(c->fd, p, n, MSG_NOSIGNAL);
    int wants_read = 0;
    return brs__fix_tls_write(c->ssl, p, n, &wants_read);
}

/* A Logon from this connection's address failed: the next ones wait. */
static void auth_failed(brs__fix_server *srv, uint32_t ip, const char *peer, int64_t now)
{
    uint32_t fails = 0;
    int64_t d = brs__fix_auth_failed(&srv->auth, ip, now, &fails);
    if (d)
        BRS_LOG(BRS_LOG_WARN, "fix", "repeated Logon failures: the address's next Logon waits",
                BRS_KV_S("peer", peer), BRS_KV_U("failures", fails), BRS_KV_I("delay_ms", d / 1000000));
}

static void set_events(brs__fix_server *srv, conn *c)
{
    /* not reading (rate limit, output above the high-water mark, closing):
     * neither EPOLLIN nor EPOLLRDHUP, or a peer's FIN would fire every turn */
    int reading = !c->paused && !c->blocked && !c->closing && !c->eof;
    uint32_t mask = (reading ? EPOLLIN | EPOLLRDHUP : 0) |
                    (c->outlen > c->outoff || c->tls_rd_wants_write ? EPOLLOUT : 0);
    if (mask == c->ev_mask)
        return; /* a syscall per loop turn saved: the mask rarely changes */
    struct epoll_event ev = {0};
    ev.events = mask;
    ev.data.ptr = c;
    if (epoll_ctl(srv->efd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->ev_mask = mask;
}

#define FILL_PER_TURN (64u << 10) /* bytes a connection's fill may add per loop turn */

/* Queue stored messages left in the store (c->backlog) and the next part of a
 * running resend, up to the high-water mark. Everything taken here is in the
 * store already, so committed. */
static void fill(brs__fix_server *srv, conn *c)
{
    brs__fix_session *s = c->sess;
    size_t budget = c->outlen + FILL_PER_TURN; /* other sessions wait for no one */
    if (!s || (s->io.ctx != c && s->io.ctx != NULL)) {
        c->backlog = 0; /* the session went on with another connection */
        return;
    }
    brs__fix_store *st = &s->store;
    if (s->resend.next && s->io.ctx == c && !c->resending) {
        c->resending = 1;
        BRS_LOG(BRS_LOG_INFO, "fix", "resend", BRS_KV_S("session", s->cfg.target),
                BRS_KV_S("peer", c->peer), BRS_KV_U("from", s->resend.next),
                BRS_KV_U("to", s->resend.end));
    }
    while (c->outlen - c->outoff < srv->cfg.max_output && c->outlen < budget) {
        if (c->backlog) {
            if (c->backlog >= st->next_out || c->slow) {
                c->backlog = 0;
                continue;
            }
            uint32_t len = brs__fix_store_len(st, c->backlog);
            if (len && out_reserve(c, len) != BRS_OK)
                break;
            long n = len ? brs__fix_store_get(st, c->backlog, c->out + c->outlen, len) : 0;
            if (n > 0)
                c->outlen += (size_t)n;
            c->backlog++;
            continue;
        }
        if (s->resend.next && s->io.ctx == c && !c->closing) {
            brs__fix_session_resend_more(s, 64);
            if (!s->resend.next) {
                c->resending = 0;
                BRS_LOG(BRS_LOG_INFO, "fix", "resend done", BRS_KV_S("session", s->cfg.target),
                        BRS_KV_S("peer", c->peer));
            }
            continue;
        }
        break;
    }
}

/* Write what is committed and queued; returns -1 when the connection is to be
 * freed. */
static int flush_out(brs__fix_server *srv, conn *c)
{
    while (c->outoff < c->durable) {
        ssize_t w = conn_write(c, c->out + c->outoff, c->durable - c->outoff);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->outoff += (size_t)w;
        c->sent_total += (size_t)w;
        if (c->sess && c->sess->io.ctx == c && c->blocked)
            c->sess->last_rx = srv->now; /* we are not reading it: taking our bytes shows it alive */
    }
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = c->durable = 0;
    int more = c->outlen > c->outoff || c->backlog;
    if (c->closing) {
        if (!more || srv->now >= c->linger_until)
            return -1;
        set_events(srv, c); /* the rest as the peer takes it, until the linger ends */
        return 0;
    }
    /* reading resumes below the low-water mark, nothing waiting in the store */
    if (c->blocked && c->outlen - c->outoff < srv->cfg.low_water && !c->backlog &&
        !(c->sess && c->sess->resend.next)) {
        c->blocked = 0;
        if (c->inlen) {
            c->rerun = 1;
            srv->rerun = 1;
        }
    }
    set_events(srv, c);
    return 0;
}

static brs__fix_session *find_session(brs__fix_server *srv, const brs__fix_msg *m, const char **why)
{
    const brs__fix_field *f = brs__fix_get(m, 49);
    *why = "unknown SenderCompID";
    if (!f)
        return NULL;
    brs__fix_session *s = NULL;
    for (uint32_t i = 0; i < srv->cfg.n_sessions && !s; i++) {
        const char *t = srv->cfg.sessions[i].target;
        if (strlen(t) == f->len && memcmp(t, brs__fix_val(m, f), f->len) == 0)
            s = srv->sessions[i];
    }
    if (s && !brs__fix_is(m, 56, srv->cfg.sender)) {
        *why = "wrong TargetCompID";
        return NULL;
    }
    return s;
}

/* Before Logon: find the session the first message names. */
static int bind_session(brs__fix_server *srv, conn *c, int64_t now)
{
    size_t ml = 0;
    int rc = brs__fix_frame(c->in, c->inlen, srv->cfg.max_msg, &ml);
    if (rc == BRS__FIX_FRAME_NEED_MORE)
        return c->inlen >= srv->cfg.max_msg ? -1 : 0;
    if (rc != BRS__FIX_FRAME_OK)
        return -1;
    brs__fix_msg *m = &srv->sessions[0]->scratch;
    if (brs__fix_parse(m, c->in, ml) != BRS_OK || strcmp(m->msgtype, "A") != 0)
        return -1;
    const char *why = NULL;
    brs__fix_session *s = find_session(srv, m, &why);
    if (!s) {
        char who[64], to[64];
        brs__fix_str(m, 49, who, sizeof who);
        brs__fix_str(m, 56, to, sizeof to);
        BRS_LOG(BRS_LOG_WARN, "fix", "Logon refused", BRS_KV_S("reason", why),
                BRS_KV_S("peer", c->peer), BRS_KV_S("sender_comp_id", who),
                BRS_KV_S("target_comp_id", to), BRS_KV_S("expected_target", srv->cfg.sender));
        auth_failed(srv, c->ip, c->peer, now);
        return -1;
    }
    if (!brs__fix_access_allows(&srv->cfg.sessions[s->index].access, c->ip)) {
        BRS_LOG(BRS_LOG_WARN, "fix", "Logon refused", BRS_KV_S("reason", "address not allowed"),
                BRS_KV_S("peer", c->peer), BRS_KV_S("session", s->cfg.target),
                BRS_KV_S("sender", s->cfg.sender));
        auth_failed(srv, c->ip, c->peer, now);
        return -1;
    }
    if (s->state != BRS__FIX_DISCONNECTED) {
        BRS_LOG(BRS_LOG_WARN, "fix", "Logon refused", BRS_KV_S("reason", "already connected"),
                BRS_KV_S("peer", c->peer), BRS_KV_S("session", s->cfg.target),
                BRS_KV_S("connected_peer", srv->seen[s->index].peer));
        return -1;
    }
    snprintf(srv->seen[s->index].peer, sizeof srv->seen[s->index].peer, "%s", c->peer);
    srv->seen[s->index].state = BRS__FIX_AWAIT_LOGON; /* so a refused Logon is reported */
    srv->seen[s->index].ip = c->ip;
    brs__fix_gateway_session_gone(&srv->gw, s); /* a new connection starts with no subscriptions */
    brs__fix_session_io io = {c, conn_send, conn_disconnect};
    brs__fix_session_attach(s, &io, now);
    c->sess = s;
    return 1;
}

static void on_readable(brs__fix_server *srv, conn *c, int64_t now)
{
    c->rerun = 0;
    if (c->closing) {
        mark_dirty(srv, c); /* nothing more is read; flush_out ends it */
        return;
    }
    if (c->incap < CONN_IN_LOGGED_ON && c->sess && c->sess->state == BRS__FIX_ACTIVE &&
        c->sess->io.ctx == c) { /* logged on: the full-size buffer */
        char *q = realloc(c->in, CONN_IN_LOGGED_ON);
        if (q) {
            c->in = q;
            c->incap = CONN_IN_LOGGED_ON;
        }
    }
    for (; !c->paused && !c->blocked && !c->eof;) {
        if (c->incap - c->inlen < 4096) {
            /* full of unconsumed bytes: the session will refuse it as too large */
            if (c->incap >= srv->cfg.max_msg + 65536)
                break;
            size_t cap = c->incap * 2;
            char *q = realloc(c->in, cap);
            if (!q) {
                c->closing = 1;
                return;
            }
            c->in = q;
            c->incap = cap;
        }
        ssize_t r = conn_recv(c, c->in + c->inlen, c->incap - c->inlen);
        if (r == 0) {
            c->eof = 1;
            break;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPROTO) { /* TLS: a failed handshake, a plain-TCP client */
                char e[256];
                BRS_LOG(BRS_LOG_WARN, "fix", "TLS failure: connection refused",
                        BRS_KV_S("peer", c->peer), BRS_KV_S("reason", brs__fix_tls_error(e, sizeof e)));
                if (!c->sess)
                    auth_failed(srv, c->ip, c->peer, now);
                c->closing = 1;
                mark_dirty(srv, c);
                return;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->closing = 1;
            break;
        }
        c->inlen += (size_t)r;
        if (c->inlen == c->incap)
            continue; /* maybe more */
        break;
    }
    if (c->ssl && brs__fix_tls_pending(c->ssl) > 0) { /* decrypted, not seen by epoll */
        c->rerun = 1;
        srv->rerun = 1;
    }
    if (!c->sess && c->inlen) {
        int64_t until = brs__fix_auth_delay(&srv->auth, c->ip, now);
        if (until) { /* failed Logons from this address: this one waits */
            c->deferred_until = until;
            return;
        }
        int b = bind_session(srv, c, now);
        if (b < 0) {
            c->closing = 1;
            mark_dirty(srv, c);
            return;
        }
        if (b == 0) {
            if (c->eof) { /* the peer closed in the middle of its Logon */
                c->closing = 1;
                mark_dirty(srv, c);
            }
            return;
        }
    }
    if (!c->sess) { /* input that arrived with the peer's close is still run */
        if (c->eof)
            conn_disconnect(c);
        mark_dirty(srv, c);
        return;
    }
    /* rate limit: a budget of messages per one-second window */
    if (now - c->window_start >= 1000000000LL) {
        c->window_start = now;
        c->window_msgs = 0;
    }
    size_t consumed = 0;
    while (consumed < c->inlen && c->sess && c->sess->state != BRS__FIX_DISCONNECTED) {
        if (c->blocked)
            break; /* output above the high-water mark: the rest waits */
        if (c->window_msgs >= srv->cfg.max_msgs_per_sec) {
            c->paused = 1; /* TCP pushes back on the client until the next window */
            limit_bit(srv, LIMIT_RATE, c->peer, c->sess);
            break;
        }
        /* one message at a time so the budget is exact; garbled bytes are
         * dropped in the same step, so input always moves on */
        int framed = 0;
        if (srv->slog) /* logged before it runs, so before its answers */
            brs__fix_slog_input(srv->slog, c->sess->index, c->in + consumed, c->inlen - consumed,
                                srv->cfg.max_msg, now);
        size_t used = brs__fix_session_step(c->sess, c->in + consumed, c->inlen - consumed, now,
                                            &framed);
        if (framed)
            c->window_msgs++;
        consumed += used;
        if (used == 0)
            break;
    }
    if (consumed) {
        memmove(c->in, c->in + consumed, c->inlen - consumed);
        c->inlen -= consumed;
    }
    /* a buffer grown for one big message goes back once it is empty */
    if (c->inlen == 0 && c->incap > CONN_IN_LOGGED_ON) {
        char *q = realloc(c->in, CONN_IN_LOGGED_ON);
        if (q) {
            c->in = q;
            c->incap = CONN_IN_LOGGED_ON;
        }
    }
    /* the peer's FIN: once what it sent before is run (or cannot be: a part
     * of a message, a session gone), the connection ends */
    if (c->eof && !c->closing &&
        (!c->inlen || !c->sess || c->sess->state == BRS__FIX_DISCONNECTED ||
         (!c->paused && !c->blocked)))
        conn_disconnect(c);
    mark_dirty(srv, c);
}

static void on_accept(brs__fix_server *srv, int64_t now)
{
    for (;;) {
        struct sockaddr_in pa;
        socklen_t pal = sizeof pa;
        int fd = accept4(srv->lfd, (struct sockaddr *)&pa, &pal, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: the listener stays readable, so it rests
                 * for a while instead of waking the loop every turn */
                BRS_LOG(BRS_LOG_WARN, "fix", "cannot accept a connection: listener paused 100 ms",
                        BRS_KV_S("reason", strerror(errno)), BRS_KV_U("connections", srv->n_conns));
                struct epoll_event ev = {0};
                ev.data.ptr = NULL;
                epoll_ctl(srv->efd, EPOLL_CTL_MOD, srv->lfd, &ev);
                srv->accept_paused_until = now + 100000000LL;
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (srv->n_conns == srv->cap_conns) {
            uint32_t cap = srv->cap_conns ? srv->cap_conns * 2 : 64;
            conn **p = realloc(srv->conns, cap * sizeof *p);
            if (!p) { /* out of memory: refuse this one, keep serving the others */
                close(fd);
                continue;
            }
            srv->conns = p;
            srv->cap_conns = cap;
        }
        conn *c = calloc(1, sizeof *c);
        if (c)
            c->in = malloc(CONN_IN_PRE_LOGON);
        if (!c || !c->in) {
            if (c)
                free(c->in);
            free(c);
            close(fd);
            continue;
        }
        c->incap = CONN_IN_PRE_LOGON;
        c->srv = srv;
        c->fd = fd;
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &pa.sin_addr, ip, sizeof ip);
        snprintf(c->peer, sizeof c->peer, "%s:%u", ip, (unsigned)ntohs(pa.sin_port));
        c->ip = ntohl(pa.sin_addr.s_addr);
        if (srv->tls_ctx && !(c->ssl = brs__fix_tls_new(srv->tls_ctx, fd))) {
            BRS_LOG(BRS_LOG_ERROR, "fix", "TLS: cannot start a connection", BRS_KV_S("peer", c->peer));
            free(c->in);
            free(c);
            close(fd);
            continue;
        }
        BRS_LOG(BRS_LOG_INFO, "fix", "connection accepted", BRS_KV_S("peer", c->peer));
        srv->n_accepted++;
        c->accepted_at = now;
        c->last_progress = now;
        c->window_start = now;
        srv->conns[srv->n_conns++] = c;
        struct epoll_event ev = {0};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = c;
        epoll_ctl(srv->efd, EPOLL_CTL_ADD, fd, &ev);
        c->ev_mask = ev.events;
    }
}

/* ---- lifecycle -------------------------------------------------------------------- */

/* WebSocket order requests: into the same journal as the FIX messages, and
 * back out of it at a restart. */
static void on_ws_request(void *user, uint32_t account, int64_t t, const char *text, size_t len)
{
    brs__fix_server *srv = user;
    if (brs__fix_journal_ws(&srv->gw, account, t, text, len) != BRS_OK && !srv->gw.fail_msg[0])
        snprintf(srv->gw.fail_msg, sizeof srv->gw.fail_msg, "journal: out of memory for a WebSocket request");
}

/* Runtime time into the journal: an advance that did something outside the
 * market data feed (the feed's own are its FEED record). */
static void on_clock(void *user, int64_t now)
{
    brs__fix_server *srv = user;
    if (!srv->in_feed)
        brs__fix_journal_clock(&srv->gw, now);
}

/* Market data in the journal: n events replayed at loop time t. As live, the
 * runtime advances to t first, then each event is followed by an advance. */
static uint64_t feed_step(brs__fix_server *srv, int64_t t, uint64_t max, int exact)
{
    brs__rt_advance(srv->rt, t);
    srv->in_feed = 1;
    uint64_t n = exact ? brs__rt_feed_run_exact(srv->feed, srv->rt, t, max)
                       : brs__rt_feed_run(srv->feed, srv->rt, t, max);
    srv->in_feed = 0;
    if (n && !exact)
        brs__fix_journal_feed(&srv->gw, t, n);
    return n;
}

static int replay_feed(void *user, int64_t t, uint64_t n)
{
    brs__fix_server *srv = user;
    if (!srv->feed)
        return BRS_E_STATE;
    srv->feed_replayed = 1;
    return feed_step(srv, t, n, 1) == n ? BRS_OK : BRS_E_CORRUPT;
}

/* Before the journal replays: market data replayed at start (max) goes first
 * for a journal from before runtime time was recorded, as it always did. */
static void replay_begin(void *user, int has_feed, int legacy)
{
    brs__fix_server *srv = user;
    if (srv->feed && !brs__rt_feed_paced(srv->feed) && !has_feed && legacy) {
        brs__rt_feed_run(srv->feed, srv->rt, brs__realtime_ns(), UINT64_MAX);
        srv->feed_replayed = 1;
    }
}

static int replay_ws(void *user, uint32_t account, int64_t t, const char *text, size_t len)
{
    brs__fix_server *srv = user;
    return srv->ws ? brs__wsgate_replay(srv->ws, account, t, text, len) : BRS_E_STATE;
}

/* The runtime's child hook: each step of a routed child into the journal (the
 * audit trail), named by its parent's owner as the audit shows it. */
static void on_child(void *user, const brs__rt_child_note *n)
{
    brs__fix_server *srv = user;
    char owner[80], order[72], acct[64];
    snprintf(owner, sizeof owner, "client %u", n->client);
    snprintf(order, sizeof order, "%llu", (unsigned long long)n->order);
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++)
        if (srv->gw.client[i] == n->client) {
            snprintf(owner, sizeof owner, "%s", srv->sessions[i]->cfg.target);
            break;
        }
    if (srv->ws && brs__wsgate_order_name(srv->ws, n->client, n->order, acct, sizeof acct, order, sizeof order))
        snprintf(owner, sizeof owner, "ws:%s", acct);
    if (n->client == UINT32_MAX)
        owner[0] = order[0] = 0; /* a child whose parent the runtime could not tell */
    brs__fix_journal_child(&srv->gw, n, owner, order);
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
        rc = brs__fix_session_open(srv->sessions[i], &cfg, persist ? path : NULL, sc->fsync_policy,
                                   err);
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
         * from the store as the socket drains (fill) */
        srv->sessions[i]->resend_batch = 64;
    }
    if (sc->ws_on) { /* WebSocket order entry: its accounts are runtime clients after the sessions */
        if ((rc = brs__wsgate_open(&srv->ws, srv->rt, sc->rt_cfg, srv->rt_instr, sc->n_instr, &ws_port,
                                   err)) != BRS_OK)
            return rc;
        if (persist) { /* its requests in the same journal, replayed with it */
            brs__wsgate_set_journal(srv->ws, on_ws_request, srv);
            srv->gw.replay_ws = replay_ws;
            srv->gw.replay_user = srv;
        }
    }
    /* strategies: runtime clients after the sessions, before the market data */
    if (sc->n_strategies && sc->rt_cfg && (rc = brs__rt_hosted_open(&srv->strats, srv->rt, sc->rt_cfg, err)))
        return rc;
    /* market data: its steps are journaled (FEED records), so the replay
     * rebuilds the books at the same points of the order flow; with max the
     * whole file is one step before any client, replayed from the journal
     * at a restart (docs/fix-gateway.md, "Runtime time in the journal") */
    if (sc->md.file && (rc = brs__rt_feed_open(&srv->feed, &sc->md, srv->rt_instr, sc->n_instr, err)))
        return rc;
    if (srv->strats) { /* they start at the data's first instant (max), else now */
        int64_t t0 = srv->feed && !brs__rt_feed_paced(srv->feed) ? brs__rt_feed_first_time(srv->feed)
                                                                  : brs__realtime_ns();
        if (t0 != INT64_MIN)
            brs__rt_advance(srv->rt, t0);
        if ((rc = brs__rt_hosted_start(srv->strats, err)))
            return rc;
    }
    if (srv->feed && !brs__rt_feed_paced(srv->feed) && srv->strats) {
        /* with strategies, a max replay is a book-mode run of the file: the
         * data's clock, the latencies, the router reading what market data
         * showed (no client can be connected yet); then the real clock. It
         * runs the same at every start, before the journal replays, so it is
         * not journaled (the clock hook is set after it). */
        int64_t t0 = brs__monotime_ns();
        brs__rt_set_books_from_venues(srv->rt, 0);
        uint64_t n = brs__rt_feed_run_sim(srv->feed, srv->rt, brs__rt_hosted_set(srv->strats));
        brs__rt_set_books_from_venues(srv->rt, 1);
        srv->replayed_sim = 1;
        BRS_LOG(BRS_LOG_INFO, "runtime", "market data replayed on the data's clock with the strategies",
                BRS_KV_U("events", n), BRS_KV_U("strategies", brs__rt_hosted_count(srv->strats)),
                BRS_KV_F("seconds", (double)(brs__monotime_ns() - t0) * 1e-9));
    }
    srv->gw.replay_feed = replay_feed;
    srv->gw.replay_begin = replay_begin;
    srv->gw.replay_user = srv;
    if (persist) /* the runtime's own steps (venue answers after their latency, timeouts) */
        brs__rt_set_clock_hook(srv->rt, on_clock, srv);
    if (persist) /* routed children into the journal, for the audit trail */
        brs__rt_set_child_hook(srv->rt, on_child, srv);
    /* the live dashboard follows positions from the replayed fills on */
    if (sc->metrics_listen[0] && !(srv->gw.live = brs__fix_live_new(&srv->gw)))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    if ((rc = brs__fix_gateway_replay(&srv->gw, err)) != BRS_OK)
        return rc;
    if (srv->feed && !brs__rt_feed_paced(srv->feed) && !srv->feed_replayed && !srv->replayed_sim) /* first start: max */
        feed_step(srv, brs__realtime_ns(), UINT64_MAX, 0);
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
    if (sc->tls.cert[0] && !(srv->tls_ctx = brs__fix_tls_ctx_new(&sc->tls, err)))
        return BRS_E_IO;
    if (strncmp(sc->host, "127.", 4) != 0)
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
                brs__fix_auth_ok(&srv->auth, w->ip);
            if (w->state == BRS__FIX_AWAIT_LOGON && s->state == BRS__FIX_DISCONNECTED)
                auth_failed(srv, w->ip, w->peer, srv->now);
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
    }    if (srv->metrics) {
        brs__fix_server_counts sc = {.slow_consumers = srv->n_slow, .connections = srv->n_accepted};
        for (uint32_t i = 0; i < srv->n_conns; i++)
            sc.out_queue_bytes += srv->conns[i]->outlen - srv->conns[i]->outoff;
        brs__fix_metrics_sync(srv->metrics, brs__monotime_ns(), &sc);
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

/* Journal checkpoint (journal_checkpoint_bytes): once the journal has grown
 * past the limit, and past the snapshot it starts with (so the cost of
 * rewriting the open orders is amortised), it is rewritten as a snapshot and
 * the closed orders leave memory: restart time and memory follow the open
 * orders and the tail, not the day's history. Between batches only. */
static void checkpoint(brs__fix_server *srv, int64_t now)
{
    brs__fix_gateway *g = &srv->gw;
    uint64_t lim = srv->cfg.checkpoint_bytes;
    if (!lim || g->jfd < 0 || now < srv->checkpoint_retry_at)
        return;
    if (lim < g->snap_bytes)
        lim = g->snap_bytes;
    if (g->jsize < g->snap_bytes || g->jsize - g->snap_bytes < lim)
        return;
    if (brs__rt_queued(srv->rt))
        return; /* orders and answers in flight are not in a snapshot: wait for a quiet turn */
    brs_error e = {0};
    if (brs__fix_gateway_checkpoint(g, &e) != BRS_OK) {
        srv->checkpoint_retry_at = now + 60 * 1000000000LL;
        BRS_LOG(BRS_LOG_ERROR, "fix", "journal checkpoint failed: the journal stays complete, "
                "retried in 60 s", BRS_KV_S("reason", e.msg));
        return;
    }
    brs__fix_archive_prune(srv->cfg.state_dir, srv->cfg.archive_retention_days, now);
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
    if (srv->cfg.day_end_s >= 0 && day_boundary(srv->cfg.day_end_s, now) > srv->gw.day_boundary) {
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
            limit_bit(srv, LIMIT_LOGON_TIMEOUT, c->peer, NULL);
            c->closing = 1;
            mark_dirty(srv, c);
        }
        if (c->sess && c->sess->io.ctx == c && !c->closing && consumer_stalled(srv, c, now))
            slow_consumer(srv, c, now);
        if (c->closing && now >= c->linger_until)
            mark_dirty(srv, c); /* its linger is over */
        if (!c->sess && c->deferred_until && now >= c->deferred_until) {
            c->deferred_until = 0;
            on_readable(srv, c, now); /* its Logon, held back after failures */
        }
        if (c->paused && now - c->window_start >= 1000000000LL) {
            c->paused = 0;
            c->window_start = now;
            c->window_msgs = 0;
            set_events(srv, c);
            if (c->inlen)
                on_readable(srv, c, now); /* bytes already buffered */
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
            ssize_t w = conn_write(c, c->out + c->outoff, c->outlen - c->outoff);
            if (w <= 0)
                break;
            c->outoff += (size_t)w;
        }
    }
    while (srv->n_conns)
        conn_free(srv, srv->conns[0]);
    brs__wsgate_abort(srv->ws); /* its queued answers are not durable either */
}

/* The strategies stop (xStop, their open orders cancelled through the order
 * path); what that sends plays out on the runtime's queue, in time order, as at
 * the end of a book-mode run; then their run directories ("out") are written. */
static void stop_strategies(brs__fix_server *srv)
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
    brs__fix_gateway_publish(&srv->gw, 0);
    brs_error e = {0};
    if (brs__rt_hosted_write(srv->strats, &e))
        BRS_LOG(BRS_LOG_ERROR, "strategy", "run directory not written", BRS_KV_S("error", e.msg));
    uint64_t done, refused;
    brs__rt_hosted_reloads(srv->strats, &done, &refused);
    BRS_LOG(BRS_LOG_INFO, "strategy", "strategies stopped", BRS_KV_U("strategies", brs__rt_hosted_count(srv->strats)),
            BRS_KV_U("reloads", done), BRS_KV_U("reloads_refused", refused));
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
                ssize_t w = conn_write(c, c->out + c->outoff, c->outlen - c->outoff);
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
        conn_free(srv, srv->conns[0]);
    return BRS_OK;
}

int brs__fix_server_run(brs__fix_server *srv, volatile sig_atomic_t *stop)
{
    struct epoll_event evs[64];
    while (!*stop) {
        /* market_data.stop_at_end: before the clock moves on (a max replay with
         * strategies ends on the data's clock, and stops there, as a backtest) */
        if (srv->cfg.md.stop_at_end && brs__rt_feed_done(srv->feed) && !brs__rt_queued(srv->rt)) {
            BRS_LOG0(BRS_LOG_INFO, "fix", "stopping: the market data is replayed (market_data.stop_at_end)");
            break;
        }
        int wait_ms = srv->dirty || srv->rerun ? 0 : brs__rt_feed_done(srv->feed) ? 50 : 1;
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
        srv->now = now;
        if (srv->rerun) { /* reading resumed on input already buffered */
            srv->rerun = 0;
            for (uint32_t i = 0; i < srv->n_conns; i++)
                if (srv->conns[i]->rerun)
                    on_readable(srv, srv->conns[i], now);
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == (void *)&srv->ws) {
                brs__wsgate_poll(srv->ws, now);
                continue;
            }
            conn *c = evs[i].data.ptr;
            if (!c) {
                on_accept(srv, now);
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                on_readable(srv, c, now);
            if (evs[i].events & EPOLLOUT) {
                mark_dirty(srv, c);
                if (c->tls_rd_wants_write)
                    on_readable(srv, c, now);
            }
        }
        if (now - srv->last_timer >= 100000000LL) {
            srv->last_timer = now;
            timers(srv, now);
        }
        if (srv->hup && *srv->hup) {
            *srv->hup = 0;
            brs__log_reopen();
            brs__fix_slog_reopen(srv->slog);
        }
        /* what the runtime has due (reports to the sessions), market data replayed */
        uint64_t moved = brs__rt_feed_done(srv->feed) ? 0 : feed_step(srv, now, 65536, 0);
        if (brs__rt_advance(srv->rt, now) || moved)
            brs__fix_gateway_publish(&srv->gw, moved != 0);
        brs__rt_hosted_poll(srv->strats, brs__monotime_ns()); /* timers, hot reload, metrics */
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
            fill(srv, d); /* from the store: committed already */
            d->durable = d->outlen;
            if (flush_out(srv, d) < 0)
                conn_free(srv, d);
            else if ((d->backlog || (d->sess && d->sess->io.ctx == d && d->sess->resend.next)) &&
                     d->outoff == d->outlen)
                mark_dirty(srv, d); /* the socket took it all: more next turn */
            d = next;
        }
        brs__fix_slog_flush(srv->slog); /* one write per session log file per turn */
    }
    stop_strategies(srv);
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
        conn_free(srv, srv->conns[0]);
    brs__fix_slog_close(srv->slog);
    brs__rt_hosted_close(srv->strats); /* before the metrics registry and the runtime go */
    srv->strats = NULL;
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
        brs__fix_tls_ctx_free(srv->tls_ctx);
    free(srv);
}
