/* ws_server.c: one server-side WebSocket connection (ws_server.h): the HTTP
 * upgrade read by hand (bounded; checked by upgrade.c) and answered, framing
 * by a wslay server context, every received byte checked by the shared frame
 * guard first. Every socket read and write goes through io_recv/io_send:
 * plain TCP, or TLS (host/net/tls.c) with OpenSSL's WANT_READ/WANT_WRITE as
 * EAGAIN. */
#include "ws/ws_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "net/tls.h"
#include "ws/upgrade.h"
#include "ws/ws.h"

#define CTX(c) ((wslay_event_context_ptr)(c)->ctx)

static void finish(brs__wss *c, int code, const char *reason)
{
    if (c->state == BRS__WSS_DONE)
        return;
    c->state = BRS__WSS_DONE;
    if (!c->close_code)
        c->close_code = code;
    if (reason && !c->reason[0] && reason != c->reason)
        snprintf(c->reason, sizeof c->reason, "%s", reason);
    if (c->cb.on_close)
        c->cb.on_close(c->ud, c, c->close_code, c->reason);
}

/* Fail the connection with a close code (a limit or a protocol error). */
static void fail(brs__wss *c, int code, const char *why)
{
    if (!c->close_code) {
        c->close_code = code;
        snprintf(c->reason, sizeof c->reason, "%s", why);
    }
    if (c->ctx && !wslay_event_get_close_sent(CTX(c)))
        wslay_event_queue_close(CTX(c), (uint16_t)code, (const uint8_t *)why, strlen(why) > 123 ? 123 : strlen(why));
    if (c->ctx)
        wslay_event_shutdown_read(CTX(c));
}

/* A TLS failure (EPROTO): the connection ends with 1015 (RFC 6455: a TLS
 * handshake failure; never sent in a close frame) and OpenSSL's reason. The
 * peer's TCP close without a close_notify (also in the middle of a record)
 * is a lost connection as over plain TCP (1006), not a TLS failure. */
static void tls_failed(brs__wss *c)
{
    char e[200];
    int eof = brs__tls_error_is_eof();
    brs__tls_error(e, sizeof e);
    if (eof) {
        if (!c->reason[0])
            snprintf(c->reason, sizeof c->reason, "peer closed the TCP connection (no TLS close_notify)");
        return;
    }
    if (!c->close_code) {
        c->close_code = 1015;
        snprintf(c->reason, sizeof c->reason, "TLS failure: %s", e);
    }
}

/* recv/send over plain TCP or TLS: -1 with errno EAGAIN to wait. */
static ssize_t io_recv(brs__wss *c, void *buf, size_t len)
{
    if (!c->tls)
        return recv(c->fd, buf, len, 0);
    ssize_t r = brs__tls_read(c->tls, buf, len, &c->tls_rd_ww);
    if (r < 0 && errno == EPROTO)
        tls_failed(c);
    return r;
}

static ssize_t io_send(brs__wss *c, const void *buf, size_t len)
{
    if (!c->tls)
        return send(c->fd, buf, len, MSG_NOSIGNAL);
    int want_read = 0; /* (a TLS write waiting on a read: the loop reads this connection anyway) */
    ssize_t w = brs__tls_write(c->tls, buf, len, &want_read);
    if (w < 0 && errno == EPROTO)
        tls_failed(c);
    return w;
}

static ssize_t cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    brs__wss *c = ud;
    ssize_t r;
    if (c->hoff < c->hlen) { /* bytes that came with the upgrade request */
        size_t n = c->hlen - c->hoff < len ? c->hlen - c->hoff : len;
        memcpy(buf, c->hbuf + c->hoff, n);
        c->hoff += n;
        r = (ssize_t)n;
    } else {
        r = io_recv(c, buf, len);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
            return -1;
        }
        if (r <= 0) {
            c->io_failed = 1;
            if (!c->reason[0])
                snprintf(c->reason, sizeof c->reason, "%s",
                         r == 0 ? "peer closed the TCP connection" : "read error");
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
    }
    c->bytes_in += (uint64_t)r;
    const char *why = NULL;
    int code = brs__ws_fguard_check(&c->fg, buf, (size_t)r, &why);
    if (code) {
        fail(c, code, why);
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return r;
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    brs__wss *c = ud;
    ssize_t w = io_send(c, data, len);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        else {
            c->io_failed = 1;
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        }
        return -1;
    }
    c->bytes_out += (uint64_t)w;
    return w;
}

static void cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    (void)ctx;
    brs__wss *c = ud;
    c->t_ping = 0; /* any message shows the peer is alive */
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        if (!brs__utf8_valid((const char *)arg->msg, arg->msg_length)) {
            fail(c, 1007, "text message is not valid UTF-8");
            return;
        }
        c->n_in++;
        if (c->cb.on_text && !c->close_code) /* nothing more is handled once closing */
            c->cb.on_text(c->ud, c, (const char *)arg->msg, arg->msg_length);
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
        fail(c, 1003, "binary messages are not accepted");
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        if (!c->close_code) {
            c->close_code = arg->status_code ? arg->status_code : 1005;
            snprintf(c->reason, sizeof c->reason, "closed by the client");
        }
    }
}

static int open_wslay(brs__wss *c)
{
    struct wslay_event_callbacks cbs = {.recv_callback = cb_recv, .send_callback = cb_send,
                                        .on_msg_recv_callback = cb_msg};
    wslay_event_context_ptr ctx;
    if (wslay_event_context_server_init(&ctx, &cbs, c))
        return BRS_E_NOMEM;
    wslay_event_config_set_max_recv_msg_length(ctx, c->lim.max_message);
    c->ctx = ctx;
    brs__ws_fguard_reset(&c->fg, c->lim.max_frame, 1);
    return BRS_OK;
}

int brs__wss_init(brs__wss *c, int fd, const brs__wss_limits *lim, const brs__wss_cb *cb, void *ud,
                  int64_t now)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    if (lim)
        c->lim = *lim;
    if (!c->lim.max_frame)
        c->lim.max_frame = 64 << 10;
    if (!c->lim.max_message)
        c->lim.max_message = 64 << 10;
    if (!c->lim.max_handshake)
        c->lim.max_handshake = 8 << 10;
    if (!c->lim.handshake_timeout_ns)
        c->lim.handshake_timeout_ns = 5000000000LL;
    if (!c->lim.pong_timeout_ns)
        c->lim.pong_timeout_ns = 10000000000LL;
    if (!c->lim.max_queued)
        c->lim.max_queued = 4u << 20;
    if (!c->lim.max_backlog)
        c->lim.max_backlog = (size_t)64 << 20;
    if (cb)
        c->cb = *cb;
    c->ud = ud;
    c->t_start = c->t_rx = now;
    c->hbuf = malloc(c->lim.max_handshake + 1);
    return c->hbuf ? BRS_OK : BRS_E_NOMEM;
}

void brs__wss_set_tls(brs__wss *c, void *ssl)
{
    c->tls = ssl;
}

/* An HTTP answer to a bad upgrade, then close. */
static void refuse(brs__wss *c, const char *status, const char *extra, const char *why)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %s\r\nConnection: close\r\nContent-Type: text/plain\r\n%sContent-Length: %zu\r\n\r\n%s\n",
                     status, extra, strlen(why) + 1, why);
    free(c->raw);
    c->raw = strdup(buf);
    c->rawlen = c->raw ? (size_t)n : 0;
    c->rawoff = 0;
    c->raw_then_close = 1;
    c->close_code = 1002;
    snprintf(c->reason, sizeof c->reason, "upgrade refused: %s", why);
}

/* 1: the request is complete and answered (or refused); 0: need more. */
static int handshake(brs__wss *c)
{
    for (;;) {
        if (c->hlen >= c->lim.max_handshake) {
            refuse(c, "431 Request Header Fields Too Large", "", "upgrade request too long (ws.max_handshake_bytes)");
            return 1;
        }
        ssize_t r = io_recv(c, c->hbuf + c->hlen, c->lim.max_handshake - c->hlen);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (r <= 0) {
            c->io_failed = 1;
            finish(c, 1006, "connection closed during the upgrade");
            return 1;
        }
        c->bytes_in += (uint64_t)r;
        c->hlen += (size_t)r;
        c->hbuf[c->hlen] = '\0';
        brs__ws_upgrade u;
        int st = brs__ws_upgrade_request(c->hbuf, c->hlen, c->lim.max_handshake, &u);
        if (st == 0)
            continue;
        if (st < 0) {
            refuse(c, u.status, u.extra, u.why);
            return 1;
        }
        size_t head = u.head_len;
        char buf[256];
        int n = snprintf(buf, sizeof buf,
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: %s\r\n\r\n",
                         u.accept);
        c->raw = strdup(buf);
        c->rawlen = c->raw ? (size_t)n : 0;
        c->rawoff = 0;
        memmove(c->hbuf, c->hbuf + head, c->hlen - head); /* frames sent right behind the request */
        c->hlen -= head;
        c->hoff = 0;
        if (!c->raw || open_wslay(c)) {
            finish(c, 1011, "out of memory");
            return 1;
        }
        c->state = BRS__WSS_OPEN;
        if (c->cb.on_open)
            c->cb.on_open(c->ud, c, u.path);
        return 1;
    }
}

/* Hand waiting messages to wslay while it holds under max_queued bytes (one
 * at least when it holds none, whatever its size). */
static void refill(brs__wss *c)
{
    wslay_event_context_ptr ctx = CTX(c);
    size_t n;
    const char *d;
    while (!c->close_code && (d = brs__ws_msgq_front(&c->bl, &n))) {
        size_t q = wslay_event_get_queued_msg_length(ctx);
        if (q && q + n > c->lim.max_queued)
            break;
        struct wslay_event_msg m = {.opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)d, .msg_length = n};
        if (wslay_event_queue_msg(ctx, &m)) { /* wslay copies it; out of memory: try again next time */
            if (!q)
                fail(c, 1011, "out of memory");
            break;
        }
        brs__ws_msgq_pop(&c->bl);
    }
}

/* Reads (when `write` is not set: brs__wss_on_readable) or writes (when it
 * is: brs__wss_flush) what wslay has, never both: what a read queues waits
 * for brs__wss_flush, so the gateway can make it durable first
 * (docs/ws-order-entry.md, "Restart"); and a message read by the flush would
 * be run after the loop turn's commit and its answer written before its own
 * journal record is committed. */
static void drive(brs__wss *c, int write)
{
    wslay_event_context_ptr ctx = CTX(c);
    if (c->rawoff < c->rawlen)
        return; /* the 101 goes out first */
    if (write)
        refill(c);
    if (c->close_later && wslay_event_get_queued_msg_count(ctx) == 0 && !brs__ws_msgq_bytes(&c->bl)) {
        /* what was queued before the close is out: now the close frame (wslay
         * sends control frames ahead of queued messages) */
        c->close_later = 0;
        if (!wslay_event_get_close_sent(ctx))
            wslay_event_queue_close(ctx, (uint16_t)c->close_code, (const uint8_t *)c->reason,
                                    strlen(c->reason) > 123 ? 123 : strlen(c->reason));
    }
    if (!write && wslay_event_want_read(ctx) && wslay_event_recv(ctx) && !c->close_code && !c->io_failed)
        fail(c, 1002, "protocol error");
    while (write && wslay_event_want_write(ctx)) {
        if (wslay_event_send(ctx)) {
            if (!c->io_failed && !c->close_code)
                c->io_failed = 1;
            break;
        }
        /* the socket took what it could: go on while it took everything and
         * messages still wait (a would-block leaves messages queued) */
        if (!brs__ws_msgq_bytes(&c->bl) || wslay_event_get_queued_msg_count(ctx))
            break;
        refill(c);
    }
    if (c->io_failed || (!wslay_event_want_read(ctx) && !wslay_event_want_write(ctx))) {
        int code = c->close_code;
        const char *why = c->io_failed ? "connection lost" : "closed";
        if (!code && wslay_event_get_close_sent(ctx) && !wslay_event_get_close_received(ctx)) {
            /* wslay refused the input on its own (it checks a text
             * message's UTF-8 before on_msg_recv sees it) and sent its close:
             * its code, not a lost connection's */
            int sent = wslay_event_get_status_code_sent(ctx);
            if (sent == 1007)
                code = 1007, why = "text message is not valid UTF-8";
            else if (sent == 1002 || sent == 1009)
                code = sent, why = sent == 1002 ? "protocol error" : "message too big";
        }
        finish(c, code ? code : 1006, why);
    }
}

static void write_raw(brs__wss *c)
{
    while (c->rawoff < c->rawlen) {
        ssize_t w = io_send(c, c->raw + c->rawoff, c->rawlen - c->rawoff);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (w <= 0) {
            c->io_failed = 1;
            finish(c, 1006, "write error during the upgrade");
            return;
        }
        c->bytes_out += (uint64_t)w;
        c->rawoff += (size_t)w;
    }
    if (c->raw_then_close && c->state != BRS__WSS_DONE) {
        brs__tls_shutdown(c->tls); /* (TLS: close_notify first) */
        shutdown(c->fd, SHUT_WR);
        finish(c, c->close_code, NULL);
    }
}

void brs__wss_on_readable(brs__wss *c, int64_t now)
{
    if (c->state == BRS__WSS_DONE)
        return;
    c->t_rx = now;
    if (c->state == BRS__WSS_HANDSHAKE) {
        if (c->raw_then_close || !handshake(c))
            return;
        write_raw(c);
        if (c->state != BRS__WSS_OPEN)
            return;
    }
    drive(c, 0);
}

void brs__wss_flush(brs__wss *c, int64_t now)
{
    if (c->state == BRS__WSS_DONE)
        return;
    if (c->rawoff < c->rawlen)
        write_raw(c);
    if (c->state == BRS__WSS_HANDSHAKE) {
        if (!c->raw_then_close && now - c->t_start > c->lim.handshake_timeout_ns) {
            c->close_code = 1002;
            finish(c, 1002, c->tls && !brs__tls_established(c->tls)
                                ? "no TLS handshake in time (ws.handshake_timeout_ms)"
                                : "no upgrade request in time (ws.handshake_timeout_ms)");
        }
        return;
    }
    if (c->state != BRS__WSS_OPEN)
        return;
    if (c->close_code && !c->t_close)
        c->t_close = now;
    if (c->t_close && now - c->t_close > c->lim.handshake_timeout_ns) {
        /* our close was not answered in time: drop the connection */
        c->io_failed = 1;
        finish(c, c->close_code, NULL);
        return;
    }
    if (c->lim.ping_interval_ns > 0 && !c->close_code) {
        if (c->t_ping && now - c->t_ping > c->lim.pong_timeout_ns) {
            fail(c, 1001, "no pong in time (ws.pong_timeout_ms)");
            c->io_failed = 1; /* a silent peer will not complete the close handshake */
        } else if (!c->t_ping && now - c->t_rx > c->lim.ping_interval_ns) {
            struct wslay_event_msg m = {.opcode = WSLAY_PING, .msg = (const uint8_t *)"", .msg_length = 0};
            wslay_event_queue_msg(CTX(c), &m);
            c->t_ping = now;
            c->t_rx = now;
        }
    }
    drive(c, 1);
}

int brs__wss_input_waits(const brs__wss *c)
{
    return c->state == BRS__WSS_OPEN && c->rawoff >= c->rawlen &&
           (c->hoff < c->hlen ||
            /* TLS: bytes OpenSSL decrypted beyond what a read took (wslay
             * stopped early), which epoll cannot see */
            (c->tls && brs__tls_pending(c->tls) > 0 && wslay_event_want_read(CTX(c))));
}

int brs__wss_tls_wants_write(const brs__wss *c)
{
    return c->tls_rd_ww && c->state != BRS__WSS_DONE;
}

int brs__wss_want_write(const brs__wss *c)
{
    if (c->state == BRS__WSS_DONE)
        return 0;
    if (c->rawoff < c->rawlen || c->tls_rd_ww)
        return 1;
    return c->ctx && (wslay_event_want_write(CTX(c)) || (brs__ws_msgq_bytes(&c->bl) && !c->close_code));
}

/* Fault injection (tests/wsgate/ws_sweep.py, case nomem): with
 * BRS_FAULT_WS_NOMEM=N the Nth message queued by this process (counting
 * every connection's, from 1) finds no memory, in the backlog or in wslay,
 * whichever it goes to; every other one is queued. Off: one compare. */
static unsigned long g_fault_nomem_at, g_fault_msgs;
static int g_fault_init;

static int fault_nomem(void)
{
    if (!g_fault_init) {
        g_fault_init = 1;
        const char *v = getenv("BRS_FAULT_WS_NOMEM");
        if (v && *v)
            g_fault_nomem_at = strtoul(v, NULL, 10);
    }
    return g_fault_nomem_at && ++g_fault_msgs == g_fault_nomem_at;
}

int brs__wss_send_text(brs__wss *c, const char *data, size_t len)
{
    if (c->state != BRS__WSS_OPEN || c->close_code)
        return BRS_E_STATE;
    int nomem = fault_nomem();
    size_t q = wslay_event_get_queued_msg_length(CTX(c));
    if (brs__ws_msgq_bytes(&c->bl) || (q && q + len > c->lim.max_queued)) { /* behind what waits */
        if (len > UINT32_MAX - 1 || brs__ws_msgq_bytes(&c->bl) + 4 + len > c->lim.max_backlog) {
            fail(c, 1008, "the client reads too slowly (ws.max_backlog_bytes)");
            brs__ws_msgq_clear(&c->bl); /* dropped: the close goes now */
            return BRS_E_LIMIT;
        }
        if (nomem || brs__ws_msgq_push(&c->bl, data, len) != BRS_OK) {
            /* a report dropped in silence would leave the client wrong: closed */
            fail(c, 1011, "out of memory for the connection's backlog");
            brs__ws_msgq_clear(&c->bl);
            return BRS_E_NOMEM;
        }
        c->n_out++;
        return BRS_OK;
    }
    struct wslay_event_msg m = {.opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)data, .msg_length = len};
    int wr = nomem ? WSLAY_ERR_NOMEM : wslay_event_queue_msg(CTX(c), &m);
    if (wr == WSLAY_ERR_NOMEM) {
        fail(c, 1011, "out of memory for the connection's messages");
        return BRS_E_NOMEM;
    }
    if (wr)
        return BRS_E_STATE;
    c->n_out++;
    return BRS_OK;
}

void brs__wss_close(brs__wss *c, int code, const char *reason)
{
    if (c->state == BRS__WSS_OPEN && !c->close_code) {
        /* after what is already queued (an error answer, say) */
        c->close_code = code;
        snprintf(c->reason, sizeof c->reason, "%s", reason ? reason : "");
        c->close_later = 1;
    } else if (c->state == BRS__WSS_OPEN)
        fail(c, code, reason ? reason : "");
    else if (c->state == BRS__WSS_HANDSHAKE)
        finish(c, code, reason);
}

int64_t brs__wss_next_time(const brs__wss *c)
{
    if (c->state == BRS__WSS_HANDSHAKE)
        return c->t_start + c->lim.handshake_timeout_ns;
    if (c->state == BRS__WSS_OPEN && c->close_code)
        return c->t_close ? c->t_close + c->lim.handshake_timeout_ns : 0;
    if (c->state != BRS__WSS_OPEN || c->lim.ping_interval_ns <= 0)
        return INT64_MAX;
    return c->t_ping ? c->t_ping + c->lim.pong_timeout_ns : c->t_rx + c->lim.ping_interval_ns;
}

void brs__wss_free(brs__wss *c)
{
    if (c->ctx)
        wslay_event_context_free(CTX(c));
    c->ctx = NULL;
    brs__ws_msgq_free(&c->bl);
    brs__tls_free(c->tls); /* before its socket closes: a close_notify, best effort */
    c->tls = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->hbuf);
    free(c->raw);
    c->hbuf = c->raw = NULL;
}
