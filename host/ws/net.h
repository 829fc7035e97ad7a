/* net.h: non-blocking TCP (+ TLS through OpenSSL) connections, URL parsing and a
 * small non-blocking HTTP/1.1 GET, for the WebSocket client and REST snapshots.
 * Part of the bourse_feeds static library: no host symbols, usable by plugins.
 * Not thread-safe per object; every call returns at once (DNS is the one
 * exception: getaddrinfo blocks, see docs/websocket.md). */
#ifndef BRS_WS_NET_H
#define BRS_WS_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <bourse/errors.h>

#include "ws/http_body.h"
#include "core/core.h" /* brs__err, brs__monotime_ns, brs__realtime_ns (bourse_util) */

typedef struct brs__url {
    int tls;           /* wss:// or https:// */
    int ws;            /* ws:// or wss:// */
    char host[256];
    char port[8];
    char path[2048];   /* path and query, "/" at least */
} brs__url;

/* ws://, wss://, http://, https:// only. */
int brs__url_parse(const char *url, brs__url *out, brs_error *err);

enum brs__conn_state {
    BRS__CONN_IDLE = 0,
    BRS__CONN_CONNECTING = 1, /* TCP connect in progress */
    BRS__CONN_TLS = 2,        /* TLS handshake in progress */
    BRS__CONN_OPEN = 3,
    BRS__CONN_FAILED = 4
};

typedef struct brs__conn {
    int fd;
    int state;
    int want_write; /* the pending operation waits for POLLOUT */
    void *ssl;      /* SSL*, NULL for plain TCP */
    void *ssl_ctx;  /* SSL_CTX*, owned */
    char host[256];
    void *ai, *ai_next; /* struct addrinfo list and the next address to try */
} brs__conn;

typedef struct brs__tls_opts {
    int verify;          /* verify the peer's certificate and name (default 1) */
    const char *ca_file; /* extra CA bundle (tests with a self-signed server), or NULL */
} brs__tls_opts;

void brs__conn_init(brs__conn *c);
/* Start connecting (resolves the name: blocking DNS). */
int brs__conn_start(brs__conn *c, const brs__url *u, const brs__tls_opts *tls, brs_error *err);
/* Advance connect/handshake. BRS_OK when open, BRS_E_AGAIN while in progress,
 * else an error (connection refused, TLS failure...). */
int brs__conn_step(brs__conn *c, brs_error *err);
/* Read/write: bytes moved (> 0), BRS_E_AGAIN, BRS_E_CLOSED (orderly EOF) or BRS_E_IO. */
ssize_t brs__conn_read(brs__conn *c, void *buf, size_t len);
ssize_t brs__conn_write(brs__conn *c, const void *buf, size_t len);
/* poll() events the connection waits for (POLLIN and/or POLLOUT). */
short brs__conn_events(const brs__conn *c);
/* Bytes already decrypted and buffered inside TLS (poll() cannot see them). */
int brs__conn_pending(const brs__conn *c);
void brs__conn_close(brs__conn *c);

/* A non-blocking HTTP GET: start it, step it until it is not BRS_E_AGAIN.
 * The response head is read by the host's one HTTP head parser (http_head.h,
 * at most BRS__HTTP_GET_HEAD_MAX bytes; interim 1xx answers skipped), its body
 * by http_body.h: Content-Length, chunked (decoded in place as it arrives) or
 * read until close; max_body bounds the decoded body. */
#define BRS__HTTP_GET_HEAD_MAX 65536
typedef struct brs__http_get {
    brs__conn conn;
    int phase; /* 0 connect, 1 send, 2 receive, 3 done, 4 failed */
    char *req;
    size_t req_len, req_off;
    char *buf; /* response bytes as received */
    size_t len, cap, max_body;
    int status;
    size_t head_len; /* the final response head's bytes, once it is in */
    brs__http_body framing;
    char *body; /* points into buf (decoded in place when chunked) */
    size_t body_len;
    int64_t deadline; /* monotonic ns; 0 none */
} brs__http_get;

int brs__http_get_start(brs__http_get *h, const char *url, const brs__tls_opts *tls,
                        size_t max_body, int64_t deadline_ns, brs_error *err);
/* BRS_OK when the whole response is in (h->status, h->body), BRS_E_AGAIN, or an error. */
int brs__http_get_step(brs__http_get *h, int64_t now_ns, brs_error *err);
void brs__http_get_free(brs__http_get *h);


#endif
