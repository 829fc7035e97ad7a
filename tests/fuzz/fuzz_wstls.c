/* fuzz_wstls.c: libFuzzer target for the WebSocket server connection over
 * TLS (host/ws/ws_server.c over host/net/tls.c, as `ws.tls` runs it): the
 * server side of a TLS connection on a socketpair, its SSL* from
 * brs__tls_new on the context brs__tls_ctx_new makes (the listener's options:
 * TLS 1.2 at least, renegotiation refused, partial writes), a fixed test
 * certificate (EC P-256, below). The input is a script of what the client
 * does, each step an op byte, a length byte and that many bytes:
 *
 *   0 raw       the bytes on the wire as they are: before the handshake (a
 *               ClientHello or garbage), in it, or after (records, garbage)
 *   1 handshake a real client's handshake (OpenSSL, TLS 1.3, or 1.2 when the
 *               input's first byte is odd), pumped until done or failed
 *   2 app       the bytes as application data through the client (the
 *               handshake first if not done): an upgrade, frames, anything
 *   3 upgrade   a valid upgrade request through the client
 *   4 frame     one masked frame through the client: the first byte is the
 *               frame's first byte (FIN, RSV, opcode), the rest its payload
 *   5 reneg     TLS 1.2: the client renegotiates (refused by the server);
 *               TLS 1.3: a key update (the first byte asks for one back)
 *   6 close     close_notify, the TCP stream's end without one, or both
 *   7 tick      the clock moves on (timeouts, pings)
 *
 * (an op byte with its high bit set takes 16 times its length byte). After
 * each step the server reads and writes as its loop would, and the client
 * takes what came. The connection must end open, in its handshake or done,
 * never crash; its text messages are echoed (the write side over TLS); and
 * a client that only spoke proper TLS (no raw bytes, no TLS 1.2
 * renegotiation) never gets the connection ended as a TLS failure (1015):
 * a close without close_notify is a lost connection (1006), not a failure.
 * Built with clang by `make fuzz-wstls`; tests/fuzz/CMakeLists.txt runs
 * tests/fuzz/corpus-wstls through it. WSTLS_DEBUG=1 prints how each input
 * ended (state, close code, reason, bytes echoed). */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/tls.h"
#include "ws/ws_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a throwaway self-signed certificate (CN=bourse-fuzz, until 2126), made
 * with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1` */
static const char CERT[] = "-----BEGIN CERTIFICATE-----\n"
                           "MIIBgzCCASmgAwIBAgIUL1lgF09FbkNcYV+I1DmFkH1wra8wCgYIKoZIzj0EAwIw\n"
                           "FjEUMBIGA1UEAwwLYm91cnNlLWZ1enowIBcNMjYxMjA3MTYzNDMwWhgPMjEyNjEx\n"
                           "MTMxNjM0MzBaMBYxFDASBgNVBAMMC2JvdXJzZS1mdXp6MFkwEwYHKoZIzj0CAQYI\n"
                           "KoZIzj0DAQcDQgAETIgZIFJK2Qmh4TZYE5kFFVhs0KitnOAtOxxHjBm9VDc2Eley\n"
                           "oOvi1Wtavy7v0wU7ELnqg/S39eYTD03ROqhiZqNTMFEwHQYDVR0OBBYEFDuE81wd\n"
                           "kwYWwynD69EjI5eC5F+tMB8GA1UdIwQYMBaAFDuE81wdkwYWwynD69EjI5eC5F+t\n"
                           "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgLZFqQexwZgFweEcM\n"
                           "0CeVny26s7sCnB4DD8xAQC/PS6MCIQChHPdAGjuFcIi/jm6izW3AkioiabqrhxYO\n"
                           "4I4K3NlfOw==\n"
                           "-----END CERTIFICATE-----\n";
static const char KEY[] = "-----BEGIN PRIVATE KEY-----\n"
                          "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgULiAmQsKCMCJ09uc\n"
                          "gBzvYBBz+ll61Jmpod2jalaEg3mhRANCAARMiBkgUkrZCaHhNlgTmQUVWGzQqK2c\n"
                          "4C07HEeMGb1UNzYSV7Kg6+LVa1q/Lu/TBTsQueqD9Lf15hMPTdE6qGJm\n"
                          "-----END PRIVATE KEY-----\n";

static void need(int ok)
{
    if (!ok)
        abort();
}

static void *g_srv;       /* SSL_CTX* from brs__tls_ctx_new, as ws.tls makes it */
static SSL_CTX *g_cli[2]; /* the client: up to TLS 1.3; TLS 1.2 only */

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    need(f != NULL);
    need(fputs(text, f) >= 0);
    need(fclose(f) == 0);
}

static void init(void)
{
    if (g_srv)
        return;
    signal(SIGPIPE, SIG_IGN); /* the client's writes after its own SHUT_WR */
    char dir[] = "/tmp/brs_fuzz_wstls.XXXXXX";
    need(mkdtemp(dir) != NULL);
    brs__tls_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.cert, sizeof cfg.cert, "%s/cert.pem", dir);
    snprintf(cfg.key, sizeof cfg.key, "%s/key.pem", dir);
    put_file(cfg.cert, CERT);
    put_file(cfg.key, KEY);
    brs_error err = {0};
    g_srv = brs__tls_ctx_new(&cfg, "ws.tls", &err);
    unlink(cfg.cert);
    unlink(cfg.key);
    rmdir(dir);
    if (!g_srv)
        fprintf(stderr, "fuzz_wstls: %s\n", err.msg);
    need(g_srv != NULL);
    for (int i = 0; i < 2; i++) {
        need((g_cli[i] = SSL_CTX_new(TLS_client_method())) != NULL);
        SSL_CTX_set_verify(g_cli[i], SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_max_proto_version(g_cli[i], i ? TLS1_2_VERSION : TLS1_3_VERSION);
    }
}

typedef struct run {
    int sv[2];
    brs__wss ws;
    SSL *cli;
    int64_t now;
    int started;   /* the client began its handshake (it reads from then on) */
    int cli_dead;  /* the client's TLS is over (failed or closed): raw reads */
    int improper;  /* raw bytes or a TLS 1.2 renegotiation: a TLS failure may be right */
    int shut;      /* the client's end of the stream is shut */
    size_t echoed;
} run;

static void on_text(void *ud, brs__wss *c, const char *d, size_t n)
{
    run *r = ud;
    r->echoed += n;
    brs__wss_send_text(c, d, n); /* over TLS: SSL_write, partial writes, the backlog */
}

/* The server's loop turn: read when the socket has something (a read that
 * waited to write: when it is writable) or input waits in memory, then write
 * what it queued. (Reading when nothing came would count as hearing from the
 * peer: no ping would ever go out.) */
static void serve(run *r)
{
    for (int i = 0; i < 4; i++) { /* what the gateway's epoll would wake it for (wsgate.c) */
        struct pollfd p = {.fd = r->ws.fd, .events = POLLIN | (brs__wss_want_write(&r->ws) ? POLLOUT : 0)};
        int ready = poll(&p, 1, 0) > 0 && ((p.revents & (POLLIN | POLLHUP | POLLERR)) ||
                                           ((p.revents & POLLOUT) && brs__wss_tls_wants_write(&r->ws)));
        if (!ready && !brs__wss_input_waits(&r->ws))
            break;
        brs__wss_on_readable(&r->ws, r->now);
        if (r->ws.state == BRS__WSS_DONE)
            break;
    }
    brs__wss_flush(&r->ws, r->now);
}

/* The client takes what the server sent. */
static void take(run *r)
{
    char junk[4096];
    if (r->started && !r->cli_dead) {
        for (int i = 0; i < 64; i++) {
            int n = SSL_read(r->cli, junk, sizeof junk);
            if (n > 0)
                continue;
            int e = SSL_get_error(r->cli, n);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                r->cli_dead = 1;
            break;
        }
    }
    if (!r->started || r->cli_dead)
        while (recv(r->sv[1], junk, sizeof junk, 0) > 0) {
        }
    ERR_clear_error(); /* the client's errors are not the server's */
}

static void pump(run *r)
{
    serve(r);
    take(r);
}

static void handshake(run *r)
{
    r->started = 1;
    for (int i = 0; i < 16 && !r->cli_dead && !r->shut; i++) {
        int k = SSL_do_handshake(r->cli);
        int e = k == 1 ? SSL_ERROR_NONE : SSL_get_error(r->cli, k);
        ERR_clear_error();
        if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            r->cli_dead = 1;
            break;
        }
        serve(r); /* (TLS 1.3: the server's part ends with the client's Finished) */
        if (e == SSL_ERROR_NONE && (r->ws.state == BRS__WSS_DONE || brs__tls_established(r->ws.tls)))
            break;
    }
    take(r);
}

static void client_write(run *r, const void *p, size_t n)
{
    if (!r->started)
        handshake(r);
    for (int i = 0; n && i < 16 && !r->cli_dead && !r->shut; i++) {
        int w = SSL_write(r->cli, p, (int)n);
        if (w > 0)
            break;
        int e = SSL_get_error(r->cli, w);
        ERR_clear_error();
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            r->cli_dead = 1;
            break;
        }
        pump(r); /* the socket is full, or the handshake goes on */
    }
}

static void frame(run *r, const uint8_t *d, size_t n)
{
    uint8_t f[4096 + 14];
    static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
    if (!n || n - 1 > 4096)
        return;
    size_t len = n - 1, at = 0;
    f[at++] = d[0];
    if (len < 126)
        f[at++] = 0x80 | (uint8_t)len;
    else {
        f[at++] = 0x80 | 126;
        f[at++] = (uint8_t)(len >> 8);
        f[at++] = (uint8_t)len;
    }
    memcpy(f + at, mask, 4);
    at += 4;
    for (size_t i = 0; i < len; i++)
        f[at + i] = d[1 + i] ^ mask[i & 3];
    client_write(r, f, at + len);
}

static void step(run *r, int op, const uint8_t *d, size_t n)
{
    static const char upgrade[] = "GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    uint8_t b0 = n ? d[0] : 0;
    switch (op) {
    case 0:
        if (!r->shut && n) {
            r->improper = 1;
            ssize_t w = send(r->sv[1], d, n, MSG_NOSIGNAL);
            (void)w;
        }
        break;
    case 1: handshake(r); break;
    case 2: client_write(r, d, n); break;
    case 3: client_write(r, upgrade, sizeof upgrade - 1); break;
    case 4: frame(r, d, n); break;
    case 5:
        if (!r->started || r->cli_dead || r->shut || !SSL_is_init_finished(r->cli))
            break;
        if (SSL_version(r->cli) == TLS1_3_VERSION)
            SSL_key_update(r->cli, b0 & 1 ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED);
        else {
            r->improper = 1;
            SSL_renegotiate(r->cli);
        }
        SSL_do_handshake(r->cli);
        ERR_clear_error();
        break;
    case 6:
        if (r->shut)
            break;
        if ((b0 & 3) != 1 && r->started && !r->cli_dead) {
            SSL_shutdown(r->cli); /* close_notify */
            ERR_clear_error();
        }
        if (b0 & 1) { /* the stream's end, without close_notify when it came alone */
            shutdown(r->sv[1], SHUT_WR);
            r->shut = 1;
        }
        break;
    case 7: r->now += (int64_t)(b0 | (n > 1 ? d[1] << 8 : 0)) * 1000000; break;
    }
    pump(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    init();
    run r;
    memset(&r, 0, sizeof r);
    r.now = 1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, r.sv) != 0)
        return 0;
    int small = 8192; /* the server's writes meet a full socket sooner */
    setsockopt(r.sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    brs__wss_limits lim = {.max_frame = 4096, .max_message = 8192, .max_handshake = 4096,
                           .handshake_timeout_ns = 1000000000LL, .ping_interval_ns = 200000000LL,
                           .pong_timeout_ns = 400000000LL, .max_queued = 16384, .max_backlog = 65536};
    brs__wss_cb cb = {.on_text = on_text};
    void *ssl = brs__tls_new(g_srv, r.sv[0]);
    r.cli = SSL_new(g_cli[data[0] & 1]);
    if (!ssl || !r.cli || brs__wss_init(&r.ws, r.sv[0], &lim, &cb, &r, r.now) != 0) {
        brs__tls_free(ssl);
        SSL_free(r.cli);
        close(r.sv[0]);
        close(r.sv[1]);
        return 0;
    }
    brs__wss_set_tls(&r.ws, ssl);
    need(SSL_set_fd(r.cli, r.sv[1]) == 1);
    SSL_set_connect_state(r.cli);
    size_t off = 1;
    for (int steps = 0; off + 2 <= size && steps < 64; steps++) {
        int op = data[off];
        size_t n = (size_t)data[off + 1] * (op & 0x80 ? 16 : 1);
        off += 2;
        if (n > size - off)
            n = size - off;
        step(&r, op & 7, data + off, n);
        off += n;
    }
    need(r.ws.state == BRS__WSS_HANDSHAKE || r.ws.state == BRS__WSS_OPEN || r.ws.state == BRS__WSS_DONE);
    /* proper TLS, its close with or without close_notify: never a TLS failure */
    if (!r.improper && r.ws.close_code == 1015) {
        fprintf(stderr, "fuzz_wstls: a proper TLS client's connection ended as a TLS failure: %s\n", r.ws.reason);
        abort();
    }
    if (getenv("WSTLS_DEBUG"))
        fprintf(stderr, "state %d code %d reason '%s' echoed %zu in %llu out %llu improper %d dead %d\n", r.ws.state,
                r.ws.close_code, r.ws.reason, r.echoed, (unsigned long long)r.ws.n_in, (unsigned long long)r.ws.n_out,
                r.improper, r.cli_dead);
    brs__wss_close(&r.ws, 1000, "bye");
    brs__wss_flush(&r.ws, r.now);
    brs__wss_free(&r.ws); /* closes sv[0], frees the server's SSL* */
    SSL_free(r.cli);
    close(r.sv[1]);
    ERR_clear_error();
    return 0;
}
