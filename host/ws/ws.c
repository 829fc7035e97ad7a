/* ws.c: the WebSocket client state machine around libwslay. wslay does the
 * framing rules (masking, fragmentation, control frames, close echo, protocol
 * errors -> 1002, too big -> 1009); this file owns the sockets, the upgrade
 * handshake, UTF-8 checks (-> 1007), keepalive, timeouts and reconnection. */
#include "ws.h"
#include "upgrade.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#define UPGRADE_MAX 16384

/* ---- UTF-8 -------------------------------------------------------------- */

int brs__utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F; /* > U+10FFFF */
        } else
            return 0;
        if (i + len > n)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += len;
    }
    return 1;
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rnd(brs__ws *ws)
{
    /* xorshift for jitter only; keys and masks come from RAND_bytes */
    uint64_t x = ws->rng ? ws->rng : 0x9E3779B97F4A7C15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ws->rng = x;
    return x;
}

static void set_error(brs__ws *ws, const char *fmt, const char *a)
{
    snprintf(ws->last_error, sizeof ws->last_error, fmt, a ? a : "");
}

static void schedule_retry(brs__ws *ws, int64_t now)
{
    if (ws->o.no_reconnect || ws->stop_requested) {
        ws->state = BRS__WS_CLOSED;
        return;
    }
    int64_t b = ws->backoff;
    int64_t jitter = (int64_t)(rnd(ws) % 1001) - 500; /* +-25% */
    int64_t delay = b + b / 2000 * jitter;
    ws->t_retry = now + delay;
    ws->backoff = b * 2 > ws->o.backoff_max_ns ? ws->o.backoff_max_ns : b * 2;
    ws->state = BRS__WS_BACKOFF;
    ws->n_retries++;
    if (ws->cb.on_retry)
        ws->cb.on_retry(ws->ud, ws, delay, ws->n_retries,
                        ws->last_error[0] ? ws->last_error : "connection ended");
}

static void teardown(brs__ws *ws, int64_t now, int code, const char *reason)
{
    if (ws->wslay) {
        wslay_event_context_free(ws->wslay);
        ws->wslay = NULL;
    }
    int was_open = ws->state == BRS__WS_OPEN || ws->state == BRS__WS_CLOSING;
    brs__conn_close(&ws->conn);
    ws->plen = ws->poff = 0;
    ws->hlen = ws->hoff = 0;
    if (was_open) {
        ws->n_disconnects++;
        if (ws->cb.on_close)
            ws->cb.on_close(ws->ud, ws, code, reason);
    }
    schedule_retry(ws, now);
}

/* ---- wslay callbacks ---------------------------------------------------- */

static ssize_t cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    brs__ws *ws = ud;
    ssize_t r;
    if (ws->close_code) { /* failing the connection: read nothing more */
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (ws->poff < ws->plen) {
        size_t n = ws->plen - ws->poff < len ? ws->plen - ws->poff : len;
        memcpy(buf, ws->pending + ws->poff, n);
        ws->poff += n;
        r = (ssize_t)n;
    } else {
        if (ws->rx_budget == 0) { /* enough for this step: the rest waits for the next */
            wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
            return -1;
        }
        r = brs__conn_read(&ws->conn, buf, len < ws->rx_budget ? len : ws->rx_budget);
        if (r > 0)
            ws->rx_budget -= (size_t)r;
    }
    if (r > 0) {
        ws->rx_total += (size_t)r;
        const char *why = NULL;
        int code = brs__ws_fguard_check(&ws->fg, buf, (size_t)r, &why);
        if (code) {
            ws->close_code = code;
            snprintf(ws->close_reason, sizeof ws->close_reason, "%s", why);
            set_error(ws, "%s", why);
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
        return r;
    }
    if (r == BRS_E_AGAIN)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else {
        set_error(ws, "%s", r == BRS_E_CLOSED ? "peer closed the TCP connection" : "read error");
        ws->io_failed = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    brs__ws *ws = ud;
    ssize_t r = brs__conn_write(&ws->conn, data, len);
    if (r >= 0)
        return r;
    if (r == BRS_E_AGAIN)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else {
        set_error(ws, "%s", "write error");
        ws->io_failed = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
}

static int cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ud;
    if (RAND_bytes(buf, (int)len) != 1) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

static void fail_conn(brs__ws *ws, wslay_event_context_ptr ctx, int code, const char *why)
{
    if (!ws->close_code) {
        ws->close_code = code;
        snprintf(ws->close_reason, sizeof ws->close_reason, "%s", why);
        set_error(ws, "%s", why);
    }
    wslay_event_queue_close(ctx, (uint16_t)code, (const uint8_t *)why, strlen(why));
    wslay_event_shutdown_read(ctx);
}

static void cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *ud)
{
    brs__ws *ws = ud;
    if (ws->close_code)
        return; /* failing: ignore the rest */
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
    case WSLAY_BINARY_FRAME:
        if (arg->opcode == WSLAY_TEXT_FRAME &&
            !brs__utf8_valid((const char *)arg->msg, arg->msg_length)) {
            fail_conn(ws, ctx, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8 in a text message");
            return;
        }
        ws->n_messages++;
        ws->n_bytes += arg->msg_length;
        if (ws->cb.on_message)
            ws->cb.on_message(ws->ud, ws, arg->opcode == WSLAY_BINARY_FRAME,
                              (const char *)arg->msg, arg->msg_length, brs__realtime_ns());
        if (ws->backoff != ws->o.backoff_min_ns || ws->n_retries) {
            ws->backoff = ws->o.backoff_min_ns; /* data flowed: the link is healthy */
            ws->n_retries = 0;
        }
        break;
    case WSLAY_PONG: ws->n_pongs++; break;
    case WSLAY_CONNECTION_CLOSE:
        ws->last_close_received = arg->status_code;
        if (ws->state == BRS__WS_OPEN)
            ws->state = BRS__WS_CLOSING;
        break;
    default: break;
    }
}

/* ---- the upgrade -------------------------------------------------------- */

static int start_upgrade(brs__ws *ws)
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return BRS_E_IO;
    EVP_EncodeBlock((unsigned char *)ws->key, raw, sizeof raw);
    int is_default = (ws->url.tls && strcmp(ws->url.port, "443") == 0) ||
                     (!ws->url.tls && strcmp(ws->url.port, "80") == 0);
    size_t need = strlen(ws->url.path) + strlen(ws->url.host) + 256;
    if (need > ws->hcap) {
        char *nb = realloc(ws->hbuf, need > UPGRADE_MAX + 1 ? need : UPGRADE_MAX + 1);
        if (!nb)
            return BRS_E_NOMEM;
        ws->hbuf = nb;
        ws->hcap = need > UPGRADE_MAX + 1 ? need : UPGRADE_MAX + 1;
    }
    int n = snprintf(ws->hbuf, ws->hcap,
                     "GET %s HTTP/1.1\r\nHost: %s%s%s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nUser-Agent: bourse\r\n\r\n",
                     ws->url.path, ws->url.host, is_default ? "" : ":",
                     is_default ? "" : ws->url.port, ws->key);
    ws->hlen = (size_t)n;
    ws->hoff = 0;
    ws->up_recv = 0;
    return BRS_OK;
}

/* 1 done, 0 need more, < 0 failed (last_error says why). */
static int finish_upgrade(brs__ws *ws)
{
    while (!ws->up_recv) { /* the request */
        ssize_t w = brs__conn_write(&ws->conn, ws->hbuf + ws->hoff, ws->hlen - ws->hoff);
        if (w == BRS_E_AGAIN)
            return 0;
        if (w < 0) {
            set_error(ws, "%s", "write error during the upgrade");
            return -1;
        }
        ws->hoff += (size_t)w;
        if (ws->hoff == ws->hlen) {
            ws->up_recv = 1; /* request sent: hbuf now collects the response */
            ws->hlen = ws->hoff = 0;
        }
    }
    for (;;) {
        if (ws->hlen >= UPGRADE_MAX) {
            set_error(ws, "%s", "upgrade response too long");
            return -1;
        }
        ssize_t r = brs__conn_read(&ws->conn, ws->hbuf + ws->hlen, UPGRADE_MAX - ws->hlen);
        if (r == BRS_E_AGAIN)
            return 0;
        if (r < 0) {
            set_error(ws, "%s", "connection closed during the upgrade");
            return -1;
        }
        ws->hlen += (size_t)r;
        ws->hbuf[ws->hlen] = '\0';
        size_t head = 0;
        int status = 0;
        const char *why = NULL;
        int st = brs__ws_upgrade_response(ws->hbuf, ws->hlen, UPGRADE_MAX, ws->key, &head, &status, &why);
        if (st == 0)
            continue;
        if (st < 0) {
            if (status && status != 101) {
                char line[160];
                snprintf(line, sizeof line, "%s: %.*s", why, (int)strcspn(ws->hbuf, "\r\n"), ws->hbuf);
                set_error(ws, "%s", line);
            } else
                set_error(ws, "%s", why);
            return -1;
        }
        size_t extra = ws->hlen - head;
        if (extra) {
            char *p = realloc(ws->pending, extra);
            if (!p)
                return -1;
            ws->pending = p;
            memcpy(p, ws->hbuf + head, extra);
        }
        ws->plen = extra;
        ws->poff = 0;
        ws->hlen = ws->hoff = 0;
        return 1;
    }
}

/* A masked close frame written straight to the socket (best effort: the
 * connection is being failed and dropped right after). */
static void send_raw_close(brs__ws *ws, int code, const char *reason)
{
    uint8_t f[2 + 4 + 125];
    size_t rl = strlen(reason);
    if (rl > 123)
        rl = 123;
    uint8_t payload[125];
    payload[0] = (uint8_t)(code >> 8);
    payload[1] = (uint8_t)code;
    memcpy(payload + 2, reason, rl);
    size_t pl = 2 + rl;
    f[0] = 0x88;
    f[1] = (uint8_t)(0x80 | pl);
    if (RAND_bytes(f + 2, 4) != 1)
        memset(f + 2, 0x5a, 4);
    for (size_t i = 0; i < pl; i++)
        f[6 + i] = payload[i] ^ f[2 + (i & 3)];
    size_t off = 0, n = 6 + pl;
    for (int tries = 0; off < n && tries < 100; tries++) {
        ssize_t w = brs__conn_write(&ws->conn, f + off, n - off);
        if (w > 0)
            off += (size_t)w;
        else if (w != BRS_E_AGAIN)
            break;
    }
    if (off == n)
        ws->last_close_sent = code;
}

static int open_wslay(brs__ws *ws)
{
    struct wslay_event_callbacks cbs = {cb_recv, cb_send, cb_genmask, NULL, NULL, NULL, cb_msg};
    wslay_event_context_ptr ctx;
    if (wslay_event_context_client_init(&ctx, &cbs, ws) != 0)
        return BRS_E_NOMEM;
    wslay_event_config_set_max_recv_msg_length(ctx, ws->o.max_message);
    ws->wslay = ctx;
    return BRS_OK;
}

/* ---- public ------------------------------------------------------------- */

int brs__ws_init(brs__ws *ws, const brs__ws_opts *opts, const brs__ws_callbacks *cb, void *ud,
                 brs_error *err)
{
    memset(ws, 0, sizeof *ws);
    brs__conn_init(&ws->conn);
    ws->o = *opts;
    if (!opts->url) {
        if (err) {
            err->code = BRS_E_INVAL;
            snprintf(err->msg, sizeof err->msg, "websocket: no url");
        }
        return BRS_E_INVAL;
    }
    int rc = brs__url_parse(opts->url, &ws->url, err);
    if (rc)
        return rc;
    if (!ws->url.ws) {
        if (err) {
            err->code = BRS_E_INVAL;
            snprintf(err->msg, sizeof err->msg, "url '%s': want ws:// or wss://", opts->url);
        }
        return BRS_E_INVAL;
    }
    ws->url_copy = strdup(opts->url);
    ws->o.url = ws->url_copy;
    if (!ws->o.max_message)
        ws->o.max_message = 16u << 20;
    if (!ws->o.max_frame)
        ws->o.max_frame = ws->o.max_message;
    if (!ws->o.step_bytes)
        ws->o.step_bytes = 1u << 20;
    if (ws->o.ping_interval_ns == 0)
        ws->o.ping_interval_ns = 15 * 1000000000LL;
    if (!ws->o.idle_timeout_ns)
        ws->o.idle_timeout_ns = 60 * 1000000000LL;
    if (!ws->o.connect_timeout_ns)
        ws->o.connect_timeout_ns = 10 * 1000000000LL;
    if (!ws->o.close_timeout_ns)
        ws->o.close_timeout_ns = 2 * 1000000000LL;
    if (!ws->o.backoff_min_ns)
        ws->o.backoff_min_ns = 100 * 1000000LL;
    if (!ws->o.backoff_max_ns)
        ws->o.backoff_max_ns = 30 * 1000000000LL;
    if (ws->o.backoff_max_ns < ws->o.backoff_min_ns)
        ws->o.backoff_max_ns = ws->o.backoff_min_ns;
    ws->backoff = ws->o.backoff_min_ns;
    if (cb)
        ws->cb = *cb;
    ws->ud = ud;
    RAND_bytes((unsigned char *)&ws->rng, sizeof ws->rng);
    ws->state = BRS__WS_IDLE;
    return BRS_OK;
}

void brs__ws_free(brs__ws *ws)
{
    if (ws->wslay)
        wslay_event_context_free(ws->wslay);
    brs__conn_close(&ws->conn);
    free(ws->hbuf);
    free(ws->pending);
    free(ws->url_copy);
    memset(ws, 0, sizeof *ws);
    ws->conn.fd = -1;
}

int brs__ws_send_text(brs__ws *ws, const char *data, size_t len)
{
    if (ws->state != BRS__WS_OPEN || !ws->wslay)
        return BRS_E_STATE;
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)data, len};
    return wslay_event_queue_msg(ws->wslay, &m) == 0 ? BRS_OK : BRS_E_STATE;
}

int brs__ws_close(brs__ws *ws, int code, const char *reason)
{
    ws->stop_requested = 1;
    if (ws->state == BRS__WS_OPEN && ws->wslay) {
        const char *r = reason ? reason : "";
        size_t rl = strlen(r) > 120 ? 120 : strlen(r);
        if (!ws->close_code)
            ws->close_code = code;
        wslay_event_queue_close(ws->wslay, (uint16_t)code, (const uint8_t *)r, rl);
        ws->state = BRS__WS_CLOSING;
        ws->t_state = brs__monotime_ns();
        return BRS_OK;
    }
    if (ws->state != BRS__WS_CLOSING) {
        brs__conn_close(&ws->conn);
        ws->state = BRS__WS_CLOSED;
    }
    return BRS_OK;
}

void brs__ws_drop(brs__ws *ws, const char *why)
{
    set_error(ws, "%s", why);
    if (ws->state == BRS__WS_OPEN || ws->state == BRS__WS_CLOSING || ws->state == BRS__WS_UPGRADE ||
        ws->state == BRS__WS_CONNECTING)
        teardown(ws, brs__monotime_ns(), 1006, why);
}

int brs__ws_pollfd(const brs__ws *ws, short *events, int64_t *wake_ns)
{
    *events = 0;
    *wake_ns = INT64_MAX;
    switch (ws->state) {
    case BRS__WS_IDLE: *wake_ns = 0; return -1;
    case BRS__WS_BACKOFF: *wake_ns = ws->t_retry; return -1;
    case BRS__WS_CLOSED: return -1;
    case BRS__WS_CONNECTING:
    case BRS__WS_UPGRADE:
        *events = brs__conn_events(&ws->conn) | (ws->state == BRS__WS_UPGRADE ? POLLIN : 0);
        *wake_ns = ws->t_state + ws->o.connect_timeout_ns;
        return ws->conn.fd;
    default:
        *events = POLLIN;
        if (ws->conn.want_write || (ws->wslay && wslay_event_want_write(ws->wslay)))
            *events |= POLLOUT;
        int64_t w = ws->t_last_rx + ws->o.idle_timeout_ns;
        if (ws->o.ping_interval_ns > 0) {
            int64_t p = (ws->t_last_rx > ws->t_last_ping ? ws->t_last_rx : ws->t_last_ping) +
                        ws->o.ping_interval_ns;
            if (p < w)
                w = p;
        }
        if (ws->state == BRS__WS_CLOSING && ws->t_state + ws->o.close_timeout_ns < w)
            w = ws->t_state + ws->o.close_timeout_ns;
        if (ws->poff < ws->plen || brs__conn_pending(&ws->conn) > 0)
            w = 0; /* bytes waiting where poll() cannot see them */
        *wake_ns = w;
        return ws->conn.fd;
    }
}

int brs__ws_step(brs__ws *ws, int64_t now)
{
    brs_error e;
    for (int guard = 0; guard < 8; guard++) {
        switch (ws->state) {
        case BRS__WS_CLOSED: return BRS_E_CLOSED;
        case BRS__WS_BACKOFF:
            if (now < ws->t_retry)
                return BRS_OK;
            /* fall through */
        case BRS__WS_IDLE:
            ws->close_code = 0;
            ws->close_reason[0] = '\0';
            ws->io_failed = 0;
            ws->draining = 0;
            ws->rx_total = 0;
            brs__ws_fguard_reset(&ws->fg, ws->o.max_frame, 0);
            if (brs__conn_start(&ws->conn, &ws->url, &ws->o.tls, &e)) {
                set_error(ws, "%s", e.msg);
                brs__conn_close(&ws->conn);
                schedule_retry(ws, now);
                return BRS_OK;
            }
            ws->state = BRS__WS_CONNECTING;
            ws->t_state = now;
            continue;
        case BRS__WS_CONNECTING: {
            int rc = brs__conn_step(&ws->conn, &e);
            if (rc == BRS_E_AGAIN) {
                if (now - ws->t_state > ws->o.connect_timeout_ns) {
                    set_error(ws, "%s", "connect timed out");
                    teardown(ws, now, 1006, "connect timed out");
                }
                return BRS_OK;
            }
            if (rc) {
                set_error(ws, "%s", e.msg);
                teardown(ws, now, 1006, ws->last_error);
                return BRS_OK;
            }
            if (start_upgrade(ws)) {
                teardown(ws, now, 1006, "upgrade setup failed");
                return BRS_OK;
            }
            ws->state = BRS__WS_UPGRADE;
            continue;
        }
        case BRS__WS_UPGRADE: {
            int r = finish_upgrade(ws);
            if (r == 0) {
                if (now - ws->t_state > ws->o.connect_timeout_ns)
                    teardown(ws, now, 1006, "upgrade timed out");
                return BRS_OK;
            }
            if (r < 0 || open_wslay(ws)) {
                teardown(ws, now, 1006, ws->last_error);
                return BRS_OK;
            }
            ws->state = BRS__WS_OPEN;
            ws->t_state = now;
            ws->t_last_rx = now;
            ws->t_last_ping = now;
            ws->last_close_sent = ws->last_close_received = 0;
            ws->n_connects++;
            if (ws->cb.on_open)
                ws->cb.on_open(ws->ud, ws);
            continue;
        }
        case BRS__WS_OPEN:
        case BRS__WS_CLOSING: {
            wslay_event_context_ptr ctx = ws->wslay;
            if (ws->draining) {
                /* RFC 6455 7.1.1: let the server close TCP first, so our close
                 * frame is not lost to a reset caused by unread data */
                char junk[4096];
                ssize_t r;
                while ((r = brs__conn_read(&ws->conn, junk, sizeof junk)) > 0)
                    ;
                if (r != BRS_E_AGAIN || now - ws->t_state > ws->o.close_timeout_ns)
                    teardown(ws, now, ws->close_code, ws->close_reason);
                return BRS_OK;
            }
            uint64_t rx_before = ws->rx_total;
            int failed = 0;
            ws->rx_budget = ws->o.step_bytes;
            if (wslay_event_want_read(ctx)) {
                int r = wslay_event_recv(ctx);
                if (r != 0) {
                    failed = 1;
                    if (!ws->io_failed && !wslay_event_get_close_sent(ctx)) {
                        /* A violation found by the tracker (or by wslay without a
                         * close of its own). wslay's context is dead after a failed
                         * recv, so the close frame is written here directly. */
                        if (!ws->close_code) {
                            ws->close_code = WSLAY_CODE_PROTOCOL_ERROR;
                            snprintf(ws->close_reason, sizeof ws->close_reason, "protocol error");
                            set_error(ws, "%s", "protocol error");
                        }
                        send_raw_close(ws, ws->close_code, ws->close_reason);
                        ws->draining = 1;
                        ws->state = BRS__WS_CLOSING;
                        ws->t_state = now;
                        return BRS_OK;
                    }
                }
                if (ws->rx_total != rx_before) /* any byte shows the link is alive */
                    ws->t_last_rx = now;
            }
            if (!failed && ws->close_code && ws->state == BRS__WS_OPEN) {
                ws->state = BRS__WS_CLOSING;
                ws->t_state = now;
            }
            if (ws->state == BRS__WS_CLOSING && ws->t_state == 0)
                ws->t_state = now;
            if (!failed && ws->state == BRS__WS_OPEN && ws->o.ping_interval_ns > 0 &&
                now - ws->t_last_rx >= ws->o.ping_interval_ns &&
                now - ws->t_last_ping >= ws->o.ping_interval_ns) {
                struct wslay_event_msg m = {WSLAY_PING, (const uint8_t *)"bourse", 6};
                wslay_event_queue_msg(ctx, &m);
                ws->t_last_ping = now;
                ws->n_pings++;
            }
            if (!failed && wslay_event_want_write(ctx) && wslay_event_send(ctx) != 0)
                failed = 1;
            if (wslay_event_get_close_sent(ctx))
                ws->last_close_sent = wslay_event_get_status_code_sent(ctx);
            if (failed) {
                int code = ws->close_code            ? ws->close_code
                           : ws->last_close_received ? ws->last_close_received
                           : ws->last_close_sent   ? ws->last_close_sent
                                                   : 1006;
                teardown(ws, now, code, ws->last_error[0] ? ws->last_error : "connection lost");
                return BRS_OK;
            }
            if (!wslay_event_want_read(ctx) && !wslay_event_want_write(ctx)) {
                /* close handshake done (or we failed the connection and told the peer) */
                int code = ws->close_code ? ws->close_code
                           : ws->last_close_received ? ws->last_close_received
                                                     : ws->last_close_sent;
                teardown(ws, now, code, ws->close_reason[0] ? ws->close_reason : "closed");
                return BRS_OK;
            }
            if (ws->state == BRS__WS_CLOSING && now - ws->t_state > ws->o.close_timeout_ns) {
                teardown(ws, now, ws->close_code ? ws->close_code : 1006, "close timed out");
                return BRS_OK;
            }
            if (ws->state == BRS__WS_OPEN && now - ws->t_last_rx > ws->o.idle_timeout_ns) {
                set_error(ws, "%s", "nothing received within the idle timeout");
                teardown(ws, now, 1006, ws->last_error);
                return BRS_OK;
            }
            return BRS_OK;
        }
        default: return BRS_OK;
        }
    }
    return BRS_OK;
}
