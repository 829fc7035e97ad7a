/* fuzz_ws.c: libFuzzer target for the WebSocket opening handshake on both
 * ends and the server connection behind it. The same bytes are read three
 * ways: as a client's upgrade request (host/ws/upgrade.c: accepted with the
 * accept key the RFC computes, or refused with a documented status; every
 * proper prefix of an accepted request asks for more), as a server's 101
 * answer to a fixed key, and as what a client sends a server connection
 * (host/ws/ws_server.c over a socketpair: the upgrade, then frames through
 * the frame guard, wslay and the UTF-8 check; it must end open or done, never
 * crash). Built with clang by `make fuzz-ws`; tests/fuzz/CMakeLists.txt runs
 * tests/fuzz/corpus-ws through it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws/http_head.h"
#include "ws/upgrade.h"
#include "ws/ws_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEAD 8192
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static void need(int ok)
{
    if (!ok)
        abort();
}

static void server_side(const char *buf, size_t size)
{
    brs__ws_upgrade u;
    int st = brs__ws_upgrade_request(buf, size, MAX_HEAD, &u);
    need(st >= -1 && st <= 1);
    if (st < 0) {
        need(u.status[0] >= '4' && u.status[0] <= '5' && u.why[0] && u.extra != NULL);
        return;
    }
    if (st == 0)
        return;
    need(u.head_len <= size && u.path[0] == '/' && strlen(u.accept) == 28);
    brs__http_head h;
    need(brs__http_head_request(buf, size, MAX_HEAD, BRS__WS_PATH_MAX, &h) == 1 && h.len == u.head_len);
    const char *k;
    size_t kl;
    need(brs__http_head_field(&h, buf, "Sec-WebSocket-Key", &k, &kl) == 1 && kl == 24);
    char key[25], want[32];
    memcpy(key, k, 24);
    key[24] = 0;
    brs__ws_accept_key(key, want);
    need(!strcmp(want, u.accept));
    need(brs__http_head_has_token(&h, buf, "Upgrade", "websocket") &&
         brs__http_head_has_token(&h, buf, "Connection", "upgrade"));
    size_t cuts[] = {u.head_len - 1, u.head_len / 2, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        brs__ws_upgrade u2;
        need(brs__ws_upgrade_request(buf, cuts[i], MAX_HEAD, &u2) == 0);
    }
}

static void client_side(const char *buf, size_t size)
{
    size_t head = 0;
    int status = -5;
    const char *why = NULL;
    int st = brs__ws_upgrade_response(buf, size, 16384, KEY, &head, &status, &why);
    need(st >= -1 && st <= 1);
    if (st < 0)
        need(why && why[0] && (status == 0 || (status >= 100 && status <= 999)));
    if (st == 1) {
        need(status == 101 && head <= size);
        need(brs__ws_upgrade_response(buf, head - 1, 16384, KEY, &head, &status, &why) == 0);
    }
}

static void on_text(void *ud, brs__wss *c, const char *d, size_t n)
{
    (void)ud;
    (void)d;
    if (n == 4) /* echo now and then, so the write side runs too */
        brs__wss_send_text(c, d, n);
}

static void connection(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        return;
    brs__wss c;
    brs__wss_limits lim = {.max_frame = 1024, .max_message = 2048, .max_handshake = 4096};
    brs__wss_cb cb = {.on_text = on_text};
    if (brs__wss_init(&c, sv[0], &lim, &cb, NULL, 0) != 0) {
        close(sv[1]);
        return;
    }
    size_t off = 0;
    for (int step = 1; off < size && step < 8; step++) { /* in a few pieces, as a network would */
        size_t n = (size - off) / 2 + 1;
        ssize_t w = write(sv[1], data + off, n);
        if (w <= 0)
            break;
        off += (size_t)w;
        brs__wss_on_readable(&c, step);
        brs__wss_flush(&c, step);
        char junk[4096];
        while (read(sv[1], junk, sizeof junk) > 0) {
        }
    }
    need(c.state == BRS__WSS_HANDSHAKE || c.state == BRS__WSS_OPEN || c.state == BRS__WSS_DONE);
    brs__wss_close(&c, 1000, "bye");
    brs__wss_flush(&c, 100);
    brs__wss_free(&c);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    server_side(buf, size);
    client_side(buf, size);
    free(buf);
    connection(data, size);
    return 0;
}
