/* test_ws_upgrade.c: the RFC 6455 opening handshake on both ends as pure
 * functions (host/ws/upgrade.c over http_head.c): each refusal with its status,
 * the RFC's own key/accept pair, token lists, every prefix of a valid request
 * or answer asking for more; then a server connection (brs__wss) over a
 * socketpair answering a refused and an accepted upgrade on the wire, and
 * its backlog: a burst far past max_queued reaching a reader that reads, in
 * order, and a reader that does not read closed 1008 at max_backlog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <bourse/errors.h>

#include "ws/http_head.h"
#include "ws/upgrade.h"
#include "ws/ws_server.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="          /* RFC 6455 1.3 */
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define GOOD                                                                                                    \
    "GET /ws?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"   \
    "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n"

static void test_request(void **state)
{
    (void)state;
    brs__ws_upgrade u;
    char accept[32];
    brs__ws_accept_key(KEY, accept);
    assert_string_equal(accept, ACCEPT);
    assert_int_equal(brs__ws_upgrade_request(GOOD "\x81\x80", strlen(GOOD) + 2, 8192, &u), 1);
    assert_string_equal(u.path, "/ws?x=1");
    assert_string_equal(u.accept, ACCEPT);
    assert_int_equal(u.head_len, strlen(GOOD));
    for (size_t i = 0; i < strlen(GOOD); i++)
        assert_int_equal(brs__ws_upgrade_request(GOOD, i, 8192, &u), 0);

    static const struct {
        const char *req, *status;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed"},
        {"GET / HTTP/1.0\r\nHost: x\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported"},
        {"GET /\x01 HTTP/1.1\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: " KEY "\r\n\r\n", "400 Bad Request"}, /* no Host */
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\r\n", "426 Upgrade Required"},
        /* tokens, not substrings */
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websockets\r\nConnection: Upgrade\r\n\r\n", "426 Upgrade Required"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: notupgrade\r\n\r\n", "426 Upgrade Required"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
         "Sec-WebSocket-Key: " KEY "\r\n\r\n", "426 Upgrade Required"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n", "426 Upgrade Required"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=!\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNh bXBsZSBub25jZQ=\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Key: " KEY "\r\n\r\n", "400 Bad Request"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int st = brs__ws_upgrade_request(cases[i].req, strlen(cases[i].req), 8192, &u);
        if (st != -1 || strcmp(u.status, cases[i].status))
            fprintf(stderr, "case %zu: %d %s\n", i, st, u.status);
        assert_int_equal(st, -1);
        assert_string_equal(u.status, cases[i].status);
        assert_true(u.why[0]);
    }
    /* a target over the limit, a head over max_head */
    char *b = malloc(BRS__WS_PATH_MAX + 64);
    int n = snprintf(b, 8, "GET /");
    memset(b + n, 'p', BRS__WS_PATH_MAX);
    strcpy(b + n + BRS__WS_PATH_MAX, " HTTP/1.1\r\n\r\n");
    assert_int_equal(brs__ws_upgrade_request(b, strlen(b), 8192, &u), -1);
    assert_string_equal(u.status, "414 URI Too Long");
    assert_int_equal(brs__ws_upgrade_request(GOOD, strlen(GOOD), 64, &u), -1);
    assert_string_equal(u.status, "431 Request Header Fields Too Large");
    free(b);
}

static void test_response(void **state)
{
    (void)state;
    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n";
    size_t head;
    int status;
    const char *why = NULL;
    char buf[512];
    snprintf(buf, sizeof buf, "%s\x81\x02hi", ok);
    assert_int_equal(brs__ws_upgrade_response(buf, strlen(buf), 16384, KEY, &head, &status, &why), 1);
    assert_int_equal(head, strlen(ok));
    assert_int_equal(status, 101);
    for (size_t i = 0; i < strlen(ok); i++)
        assert_int_equal(brs__ws_upgrade_response(ok, i, 16384, KEY, &head, &status, &why), 0);

    static const struct {
        const char *resp;
        int status;
    } bad[] = {
        {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403},
        {"HTTP/1.1 200 OK\r\n\r\n", 200},
        {"HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 101}, /* no accept */
        /* the accept compared exactly: base64 is case-sensitive */
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n\r\n", 101},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x" ACCEPT "\r\n\r\n", 101},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
         "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 101},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgradeish\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n", 101},
        {"HTTP/1.1 1010 x\r\n\r\n", 0},
        {"HTTP/1.1 099 x\r\n\r\n", 0},
        {"HTTP/2 101\r\n\r\n", 0},
        {"ICY 200 OK\r\n\r\n", 0},
        {"HTTP/1.1 101 x\r\nbad header\r\n\r\n", 0}, /* malformed: no status */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        int st = brs__ws_upgrade_response(bad[i].resp, strlen(bad[i].resp), 16384, KEY, &head, &status, &why);
        int want = bad[i].status;
        if (st != -1 || status != want)
            fprintf(stderr, "case %zu: %d status %d\n", i, st, status);
        assert_int_equal(st, -1);
        assert_int_equal(status, want);
        assert_non_null(why);
    }
    /* too long */
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big, "HTTP/1.1 101 x\r\nX: ", 19);
    assert_int_equal(brs__ws_upgrade_response(big, sizeof big, 256, KEY, &head, &status, &why), -1);
    assert_string_equal(why, "upgrade response too long");
}

static void test_tokens(void **state)
{
    (void)state;
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive ,\tUpgrade , \r\nConnection: close\r\n"
                      "Empty:\r\nX: a,,b\r\n\r\n";
    brs__http_head h;
    assert_int_equal(brs__http_head_request(req, strlen(req), 8192, 2048, &h), 1);
    assert_true(brs__http_head_has_token(&h, req, "connection", "UPGRADE"));
    assert_true(brs__http_head_has_token(&h, req, "Connection", "close"));
    assert_true(brs__http_head_has_token(&h, req, "Connection", "keep-alive"));
    assert_false(brs__http_head_has_token(&h, req, "Connection", "keep"));
    assert_true(brs__http_head_has_token(&h, req, "X", "b"));
    assert_false(brs__http_head_has_token(&h, req, "Host", "Connection"));
    const char *v;
    size_t vl;
    assert_int_equal(brs__http_head_field(&h, req, "Connection", &v, &vl), 2);
    assert_int_equal(vl, strlen("keep-alive ,\tUpgrade ,"));
    assert_int_equal(brs__http_head_field(&h, req, "empty", &v, &vl), 1);
    assert_int_equal(vl, 0);
    char out[5];
    assert_int_equal(brs__http_head_copy(&h, req, "Host", out, sizeof out), 1);
    assert_string_equal(out, "x");
    assert_int_equal(brs__http_head_copy(&h, req, "X", out, sizeof out), 1);
    assert_int_equal(brs__http_head_copy(&h, req, "Connection", out, sizeof out), -1);
    assert_int_equal(brs__http_head_copy(&h, req, "Nope", out, sizeof out), 0);
}

/* ---- a server connection on the wire ---------------------------------- */

static char opened[64];
static void on_open(void *ud, brs__wss *c, const char *path)
{
    (void)ud;
    (void)c;
    snprintf(opened, sizeof opened, "%s", path);
}

static char *exchange(const char *req, int *state_out)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    brs__wss c;
    brs__wss_cb cb = {.on_open = on_open};
    opened[0] = 0;
    assert_int_equal(brs__wss_init(&c, sv[0], NULL, &cb, NULL, 0), 0);
    assert_true(write(sv[1], req, strlen(req)) == (ssize_t)strlen(req));
    brs__wss_on_readable(&c, 1);
    brs__wss_flush(&c, 2);
    static char out[1024];
    ssize_t n = read(sv[1], out, sizeof out - 1);
    out[n > 0 ? n : 0] = 0;
    *state_out = c.state;
    brs__wss_free(&c);
    close(sv[1]);
    return out;
}

static void test_server_wire(void **state)
{
    (void)state;
    int st;
    char *out = exchange(GOOD, &st);
    assert_int_equal(st, BRS__WSS_OPEN);
    assert_string_equal(opened, "/ws?x=1");
    assert_non_null(strstr(out, "HTTP/1.1 101 Switching Protocols\r\n"));
    assert_non_null(strstr(out, "Sec-WebSocket-Accept: " ACCEPT "\r\n"));
    out = exchange("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Version: 7\r\n\r\n", &st);
    assert_int_equal(st, BRS__WSS_DONE);
    assert_string_equal(opened, "");
    assert_non_null(strstr(out, "HTTP/1.1 426 Upgrade Required\r\n"));
    assert_non_null(strstr(out, "Sec-WebSocket-Version: 13\r\n"));
    out = exchange("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", &st);
    assert_non_null(strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(out, "Allow: GET\r\n"));
}

static int closed_code;
static char closed_reason[128];
static void on_close(void *ud, brs__wss *c, int code, const char *reason)
{
    (void)ud;
    (void)c;
    closed_code = code;
    snprintf(closed_reason, sizeof closed_reason, "%s", reason);
}

/* An open server connection over a socketpair (the 101 read off). */
static void open_pair(brs__wss *c, int sv[2], const brs__wss_limits *lim)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    brs__wss_cb cb = {.on_open = on_open, .on_close = on_close};
    closed_code = 0;
    closed_reason[0] = 0;
    assert_int_equal(brs__wss_init(c, sv[0], lim, &cb, NULL, 0), 0);
    assert_true(write(sv[1], GOOD, strlen(GOOD)) == (ssize_t)strlen(GOOD));
    brs__wss_on_readable(c, 1);
    brs__wss_flush(c, 2);
    char head[512];
    ssize_t n = read(sv[1], head, sizeof head - 1);
    assert_true(n > 0);
    head[n] = 0;
    assert_non_null(strstr(head, "101 Switching Protocols"));
    assert_int_equal(c->state, BRS__WSS_OPEN);
}

/* Server frames off the wire (unmasked text, 7- or 16-bit lengths): each
 * message's first 8 bytes as a number. Returns how many were complete. */
static int read_frames(int fd, char *buf, size_t *have, size_t cap, long *next, long n_want)
{
    int got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + *have, cap - *have);
        if (r <= 0)
            break;
        *have += (size_t)r;
    }
    size_t at = 0;
    for (;;) {
        if (*have - at < 2)
            break;
        unsigned char b0 = (unsigned char)buf[at], b1 = (unsigned char)buf[at + 1];
        size_t len = b1 & 0x7f, hl = 2;
        if (len == 126) {
            if (*have - at < 4)
                break;
            len = (size_t)((unsigned char)buf[at + 2] << 8 | (unsigned char)buf[at + 3]);
            hl = 4;
        }
        assert_int_equal(b0, 0x81); /* FIN, text: nothing else comes */
        assert_true(len < 65536);
        if (*have - at < hl + len)
            break;
        long v = strtol(buf + at + hl, NULL, 10);
        assert_int_equal(v, *next); /* in order, none lost */
        (*next)++;
        got++;
        at += hl + len;
        if (*next == n_want)
            break;
    }
    memmove(buf, buf + at, *have - at);
    *have -= at;
    return got;
}

static void test_server_backlog(void **state)
{
    (void)state;
    enum { N = 3000, LEN = 1000 };
    char msg[LEN];
    memset(msg, 'x', sizeof msg);
    /* a reader that reads: 3 MB through a 4 KB hand-over, all in order */
    brs__wss c;
    int sv[2];
    brs__wss_limits lim = {.max_queued = 4096, .max_backlog = 8 << 20};
    open_pair(&c, sv, &lim);
    for (long k = 0; k < N; k++) {
        int n = snprintf(msg, sizeof msg, "%08ld", k);
        msg[n] = 'x';
        assert_int_equal(brs__wss_send_text(&c, msg, sizeof msg), BRS_OK);
    }
    assert_true(brs__ws_msgq_bytes(&c.bl) > (size_t)N * LEN / 2); /* most of it waits in the backlog */
    static char buf[1 << 16];
    size_t have = 0;
    long next = 0;
    for (int round = 0; round < 100000 && next < N; round++) {
        brs__wss_flush(&c, 3);
        read_frames(sv[1], buf, &have, sizeof buf, &next, N);
        assert_int_equal(closed_code, 0);
    }
    assert_int_equal(next, N);
    assert_int_equal(brs__ws_msgq_bytes(&c.bl), 0);
    brs__wss_free(&c);
    close(sv[1]);
    /* a reader that does not read: closed 1008 once the backlog would pass max_backlog */
    brs__wss_limits tight = {.max_queued = 4096, .max_backlog = 64 << 10};
    open_pair(&c, sv, &tight);
    int rc = BRS_OK;
    long sent = 0;
    for (; sent < N && rc == BRS_OK; sent++) {
        rc = brs__wss_send_text(&c, msg, sizeof msg);
        brs__wss_flush(&c, 3);
    }
    assert_int_equal(rc, BRS_E_LIMIT);
    assert_true(sent > 64 && sent < 200); /* about 64 KB waited, plus what the socket and wslay took */
    assert_int_equal(brs__wss_send_text(&c, msg, sizeof msg), BRS_E_STATE);
    for (int round = 0; round < 100 && !closed_code; round++)
        brs__wss_flush(&c, 4 + round * 1000000000LL); /* the close handshake times out */
    assert_int_equal(closed_code, 1008);
    assert_non_null(strstr(closed_reason, "ws.max_backlog_bytes"));
    brs__wss_free(&c);
    close(sv[1]);
}

/* A text message that is not UTF-8: wslay checks it before our callback and
 * sends the close 1007 itself; the owner learns 1007 too (it was told 1006,
 * "closed", a lost connection, until 2026-12-07: found by fuzz_wstls). Whole,
 * and split across two fragments. */
static void test_server_bad_utf8(void **state)
{
    (void)state;
    static const unsigned char whole[] = {0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28};
    static const unsigned char split[] = {0x01, 0x81, 0, 0, 0, 0, 0xc3, 0x80, 0x81, 0, 0, 0, 0, 0xff};
    const unsigned char *in[] = {whole, split};
    size_t len[] = {sizeof whole, sizeof split};
    for (int k = 0; k < 2; k++) {
        brs__wss c;
        int sv[2];
        open_pair(&c, sv, NULL);
        assert_true(write(sv[1], in[k], len[k]) == (ssize_t)len[k]);
        brs__wss_on_readable(&c, 3);
        brs__wss_flush(&c, 4);
        unsigned char out[64];
        ssize_t n = read(sv[1], out, sizeof out);
        assert_true(n >= 4);
        assert_int_equal(out[0], 0x88); /* the close frame, 1007 */
        assert_int_equal(out[2] << 8 | out[3], 1007);
        assert_int_equal(c.state, BRS__WSS_DONE);
        assert_int_equal(closed_code, 1007);
        assert_non_null(strstr(closed_reason, "UTF-8"));
        brs__wss_free(&c);
        close(sv[1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_server_wire),
        cmocka_unit_test(test_server_backlog),
        cmocka_unit_test(test_server_bad_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
