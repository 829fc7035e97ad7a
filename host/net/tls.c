/* tls.c: OpenSSL server side of the host's listeners (FIX, WebSocket order
 * entry; tls.h). TLS 1.2 at least; renegotiation refused; partial
 * writes and a moving write buffer are allowed (the connection's output queue
 * is compacted and grown between calls). Reads and writes map OpenSSL's
 * WANT_READ/WANT_WRITE onto EAGAIN, so the epoll loop treats a TLS
 * connection like a plain one. */
#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/core.h"

const char *brs__tls_error(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(buf, cap, "TLS error");
        return buf;
    }
    ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

int brs__tls_error_is_eof(void)
{
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    unsigned long e = ERR_peek_error();
    return e && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
    return 0; /* (OpenSSL 1.1.1: SSL_ERROR_SYSCALL with errno 0, a read of 0) */
#endif
}

void *brs__tls_ctx_new(const brs__tls_cfg *cfg, const char *where, brs_error *err)
{
    char e[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        brs__err(err, BRS_E_IO, "%s: %s", where, brs__tls_error(e, sizeof e));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* a client's renegotiation (TLS 1.2) is answered with a no_renegotiation
     * alert; OpenSSL 3 refuses it by default already, 1.1.1 did not */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
        brs__err(err, BRS_E_IO, "%s.cert: %s: %s", where, cfg->cert, brs__tls_error(e, sizeof e));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        brs__err(err, BRS_E_IO, "%s.key: %s: %s", where, cfg->key, brs__tls_error(e, sizeof e));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->ca[0]) {
        if (SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) != 1) {
            brs__err(err, BRS_E_IO, "%s.ca: %s: %s", where, cfg->ca, brs__tls_error(e, sizeof e));
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(cfg->ca));
    }
    if (cfg->require_client_cert)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
}

void brs__tls_ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

void *brs__tls_new(void *ctx, int fd)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

void brs__tls_shutdown(void *ssl)
{
    /* close_notify, best effort (non-blocking); only once the handshake is
     * over (OpenSSL refuses it before) */
    if (ssl && SSL_is_init_finished(ssl) && !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN)) {
        SSL_shutdown(ssl);
        ERR_clear_error();
    }
}

void brs__tls_free(void *ssl)
{
    if (ssl) {
        brs__tls_shutdown(ssl);
        SSL_free(ssl);
    }
}

static ssize_t result(SSL *ssl, int r, int *want_other, int other)
{
    if (r > 0)
        return r;
    int e = SSL_get_error(ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        *want_other = (e == other);
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0)
            return 0; /* EOF without close_notify */
        SSL_set_quiet_shutdown(ssl, 1); /* fatal: no close_notify after it */
        return -1;
    default:
        SSL_set_quiet_shutdown(ssl, 1);
        errno = EPROTO;
        return -1;
    }
}

/* SSL_get_error needs this thread's error queue empty before the call.
 * ERR_clear_error walks every slot of it (about 2,000 instructions, twice a
 * request); a look at the queue is enough when it is empty, as it almost
 * always is. */
static void clear_errors(void)
{
    if (ERR_peek_error())
        ERR_clear_error();
}

ssize_t brs__tls_read(void *ssl, void *buf, size_t n, int *want_write)
{
    clear_errors();
    errno = 0;
    *want_write = 0;
    int r = SSL_read(ssl, buf, n > 1 << 30 ? 1 << 30 : (int)n);
    return result(ssl, r, want_write, SSL_ERROR_WANT_WRITE);
}

ssize_t brs__tls_write(void *ssl, const void *buf, size_t n, int *want_read)
{
    clear_errors();
    errno = 0;
    *want_read = 0;
    int r = SSL_write(ssl, buf, n > 1 << 30 ? 1 << 30 : (int)n);
    return result(ssl, r, want_read, SSL_ERROR_WANT_READ);
}

int brs__tls_pending(const void *ssl)
{
    return SSL_pending(ssl);
}

int brs__tls_established(const void *ssl)
{
    return SSL_is_init_finished(ssl);
}
