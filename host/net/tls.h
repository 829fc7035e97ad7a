/* tls.h: the server side of TLS (OpenSSL) for every listener of the host:
 * the FIX gateway (`bourse serve`'s top-level `tls`) and WebSocket order entry
 * (`ws.tls`). A server context from a certificate and key, optionally a CA
 * whose client certificates are required, and non-blocking read/write over an
 * accepted socket that look like recv/send to an epoll loop. Part of
 * bourse_feeds (no host symbols); the config reader (`tls` object, the same
 * keys for both listeners) is tls_config.c, in bourse_core. */
#ifndef BRS_NET_TLS_H
#define BRS_NET_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include <bourse/errors.h>

typedef struct brs__tls_cfg {
    char cert[512];     /* PEM certificate chain; "" = TLS off */
    char key[512];      /* PEM private key */
    char ca[512];       /* PEM CA bundle for client certificates ("" none) */
    int require_client_cert;
} brs__tls_cfg;

/* An SSL_CTX* (opaque here). `where` names the config object in errors
 * ("tls", "ws.tls"): "<where>.cert: FILE: reason". */
void *brs__tls_ctx_new(const brs__tls_cfg *cfg, const char *where, brs_error *err);
void brs__tls_ctx_free(void *ctx);
/* An SSL* in server mode on fd (the handshake runs inside the first reads
 * and writes). NULL on failure. */
void *brs__tls_new(void *ctx, int fd);
/* A close_notify (best effort, non-blocking), then the SSL* freed. */
void brs__tls_free(void *ssl);
/* A close_notify now (best effort, non-blocking); the SSL* stays. */
void brs__tls_shutdown(void *ssl);
/* Like recv/send: > 0 bytes; 0 the peer closed; -1 with errno EAGAIN (try
 * later; *want_write set when the TLS layer needs the socket writable) or
 * another errno (EPROTO: TLS failure, reason in brs__tls_error). */
ssize_t brs__tls_read(void *ssl, void *buf, size_t n, int *want_write);
ssize_t brs__tls_write(void *ssl, const void *buf, size_t n, int *want_read);
/* Decrypted bytes OpenSSL holds beyond what was read (epoll cannot see them). */
int brs__tls_pending(const void *ssl);
/* Has the handshake completed? */
int brs__tls_established(const void *ssl);
/* Is the last TLS error (EPROTO) the peer's TCP close without a close_notify
 * (OpenSSL 3's "unexpected eof while reading"), not a protocol failure? The
 * error stays for brs__tls_error. */
int brs__tls_error_is_eof(void);
/* The last TLS error of this thread as text (handshake failures, bad certs). */
const char *brs__tls_error(char *buf, size_t cap);

#endif
