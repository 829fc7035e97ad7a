/* tls.h: TLS on the FIX listener (OpenSSL), for `bourse serve`'s `tls` key:
 * a server context from a certificate and key, optionally a CA whose client
 * certificates are required, and non-blocking read/write over an accepted
 * socket that look like recv/send to the server loop. */
#ifndef BRS_FIX_TLS_H
#define BRS_FIX_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include <bourse/errors.h>

typedef struct brs__fix_tls_cfg {
    char cert[512];     /* PEM certificate chain; "" = TLS off */
    char key[512];      /* PEM private key */
    char ca[512];       /* PEM CA bundle for client certificates ("" none) */
    int require_client_cert;
} brs__fix_tls_cfg;

/* An SSL_CTX* (opaque here). */
void *brs__fix_tls_ctx_new(const brs__fix_tls_cfg *cfg, brs_error *err);
void brs__fix_tls_ctx_free(void *ctx);
/* An SSL* in server mode on fd. NULL on failure. */
void *brs__fix_tls_new(void *ctx, int fd);
void brs__fix_tls_free(void *ssl);
/* Like recv/send: > 0 bytes; 0 the peer closed; -1 with errno EAGAIN (try
 * later; *want_write set when the TLS layer needs the socket writable) or
 * another errno (EPROTO: TLS failure, reason in brs__fix_tls_error). */
ssize_t brs__fix_tls_read(void *ssl, void *buf, size_t n, int *want_write);
ssize_t brs__fix_tls_write(void *ssl, const void *buf, size_t n, int *want_read);
/* Decrypted bytes OpenSSL holds beyond what was read (epoll cannot see them). */
int brs__fix_tls_pending(void *ssl);
/* The last TLS error of this thread as text (handshake failures, bad certs). */
const char *brs__fix_tls_error(char *buf, size_t cap);

#endif
