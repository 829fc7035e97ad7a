/* server_conn.c: the sockets of `bourse serve`: accepting, reading and
 * running input through the sessions, queueing and writing output with flow
 * control, and the limits that bite on a connection (rate, output, Logon
 * timeout). Called from the loop in server.c. */
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

void brs__srv_limit_bit(brs__fix_server *srv, enum limit_kind k, const char *peer,
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

/* ---- connections --------------------------------------------------------------- */

void brs__srv_mark_dirty(brs__fix_server *srv, conn *c)
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
 * are produced at that pace too (brs__srv_fill). Memory stays bounded whatever the
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
            brs__srv_limit_bit(srv, LIMIT_OUTPUT, c->peer, c->sess);
            brs__srv_mark_dirty(srv, c);
            return BRS_OK;
        }
    }
    if (out_reserve(c, n) != BRS_OK)
        return BRS_E_NOMEM;
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
    if (pending + n > srv->cfg.max_output)
        c->blocked = 1;
    brs__srv_mark_dirty(srv, c);
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
    brs__srv_mark_dirty(c->srv, c);
}

void brs__srv_conn_free(brs__fix_server *srv, conn *c)
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
    brs__tls_free(c->ssl);
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
    return brs__tls_read(c->ssl, buf, n, &c->tls_rd_wants_write);
}

ssize_t brs__srv_conn_write(conn *c, const char *p, size_t n)
{
    if (!c->ssl)
        return send(c->fd, p, n, MSG_NOSIGNAL);
    int wants_read = 0;
    return brs__tls_write(c->ssl, p, n, &wants_read);
}

/* A Logon from this connection's address failed: the next ones wait. */
void brs__srv_auth_failed(brs__fix_server *srv, uint32_t ip, const char *peer, int64_t now)
{
    uint32_t fails = 0;
    int64_t d = brs__auth_failed(&srv->auth, ip, now, &fails);
    if (d)
        BRS_LOG(BRS_LOG_WARN, "fix", "repeated Logon failures: the address's next Logon waits",
                BRS_KV_S("peer", peer), BRS_KV_U("failures", fails), BRS_KV_I("delay_ms", d / 1000000));
}

/* The connection's session has a mass cancel, reports or runtime events
 * (app_events.c) streaming: what it
 * sent after the request waits (and is not read) until the last slice. A
 * Logon is not brs__srv_held (a client reconnecting meanwhile is answered
 * first). */
int brs__srv_held(brs__fix_server *srv, const conn *c)
{
    return c->sess && (srv->gw.n_mc_active || srv->gw.n_erq_active || srv->gw.n_evq_active) &&
           c->sess->state != BRS__FIX_AWAIT_LOGON &&
           (brs__fix_gateway_mc_active(&srv->gw, c->sess->index) ||
            brs__fix_gateway_erq_active(&srv->gw, c->sess->index) ||
            brs__fix_gateway_evq_active(&srv->gw, c->sess->index));
}

void brs__srv_set_events(brs__fix_server *srv, conn *c)
{
    /* not reading (rate limit, output above the high-water mark, closing):
     * neither EPOLLIN nor EPOLLRDHUP, or a peer's FIN would fire every turn */
    int reading = !c->paused && !c->blocked && !c->closing && !c->eof && !brs__srv_held(srv, c);
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

#define FILL_PER_TURN (64u << 10) /* bytes a connection's brs__srv_fill may add per loop turn */

/* Queue stored messages left in the store (c->backlog) and the next part of a
 * running resend, up to the high-water mark. Everything taken here is in the
 * store already, so committed. */
void brs__srv_fill(brs__fix_server *srv, conn *c)
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
int brs__srv_flush_out(brs__fix_server *srv, conn *c)
{
    while (c->outoff < c->durable) {
        ssize_t w = brs__srv_conn_write(c, c->out + c->outoff, c->durable - c->outoff);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->outoff += (size_t)w;
        c->sent_total += (size_t)w;
        if (c->sess && c->sess->io.ctx == c && (c->blocked || brs__srv_held(srv, c)))
            c->sess->last_rx = srv->now; /* we are not reading it: taking our bytes shows it alive */
    }
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = c->durable = 0;
    int more = c->outlen > c->outoff || c->backlog;
    if (c->closing) {
        if (!more || srv->now >= c->linger_until)
            return -1;
        brs__srv_set_events(srv, c); /* the rest as the peer takes it, until the linger ends */
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
    brs__srv_set_events(srv, c);
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
        brs__srv_auth_failed(srv, c->ip, c->peer, now);
        return -1;
    }
    if (!brs__fix_access_allows(&srv->cfg.sessions[s->index].access, c->ip)) {
        BRS_LOG(BRS_LOG_WARN, "fix", "Logon refused", BRS_KV_S("reason", "address not allowed"),
                BRS_KV_S("peer", c->peer), BRS_KV_S("session", s->cfg.target),
                BRS_KV_S("sender", s->cfg.sender));
        brs__srv_auth_failed(srv, c->ip, c->peer, now);
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

void brs__srv_on_readable(brs__fix_server *srv, conn *c, int64_t now)
{
    c->rerun = 0;
    if (c->closing) {
        brs__srv_mark_dirty(srv, c); /* nothing more is read; brs__srv_flush_out ends it */
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
    for (; !c->paused && !c->blocked && !c->eof && !brs__srv_held(srv, c);) {
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
                if (brs__tls_error_is_eof()) {
                    /* the peer's TCP close without a close_notify (OpenSSL 3:
                     * "unexpected eof while reading"), in the handshake or
                     * after: a disconnect as over plain TCP (a health check
                     * that connects and drops), not a failed Logon */
                    brs__tls_error(e, sizeof e); /* (off the error queue) */
                    c->eof = 1;
                    break;
                }
                BRS_LOG(BRS_LOG_WARN, "fix", "TLS failure: connection refused",
                        BRS_KV_S("peer", c->peer), BRS_KV_S("reason", brs__tls_error(e, sizeof e)));
                if (!c->sess)
                    brs__srv_auth_failed(srv, c->ip, c->peer, now);
                c->closing = 1;
                brs__srv_mark_dirty(srv, c);
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
    if (c->ssl && brs__tls_pending(c->ssl) > 0) { /* decrypted, not seen by epoll */
        c->rerun = 1;
        srv->rerun = 1;
    }
    if (!c->sess && c->inlen) {
        int64_t until = brs__auth_delay(&srv->auth, c->ip, now);
        if (until) { /* failed Logons from this address: this one waits */
            c->deferred_until = until;
            return;
        }
        int b = bind_session(srv, c, now);
        if (b < 0) {
            c->closing = 1;
            brs__srv_mark_dirty(srv, c);
            return;
        }
        if (b == 0) {
            if (c->eof) { /* the peer closed in the middle of its Logon */
                c->closing = 1;
                brs__srv_mark_dirty(srv, c);
            }
            return;
        }
    }
    if (!c->sess) { /* input that arrived with the peer's close is still run */
        if (c->eof)
            conn_disconnect(c);
        brs__srv_mark_dirty(srv, c);
        return;
    }
    /* rate limit: a budget of messages per one-second window */
    if (now - c->window_start >= 1000000000LL) {
        c->window_start = now;
        c->window_msgs = 0;
    }
    size_t consumed = 0;
    while (consumed < c->inlen && c->sess && c->sess->state != BRS__FIX_DISCONNECTED) {
        if (c->blocked || brs__srv_held(srv, c))
            break; /* output above the high-water mark, a mass cancel streaming: the rest waits */
        if (c->window_msgs >= srv->cfg.max_msgs_per_sec) {
            c->paused = 1; /* TCP pushes back on the client until the next window */
            brs__srv_limit_bit(srv, LIMIT_RATE, c->peer, c->sess);
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
         (!c->paused && !c->blocked && !brs__srv_held(srv, c))))
        conn_disconnect(c);
    brs__srv_mark_dirty(srv, c);
}

void brs__srv_on_accept(brs__fix_server *srv, int64_t now)
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
        if (srv->tls_ctx && !(c->ssl = brs__tls_new(srv->tls_ctx, fd))) {
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
