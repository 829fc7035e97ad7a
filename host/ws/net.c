/* net.c: non-blocking TCP/TLS connections and a non-blocking HTTP GET.
 * OpenSSL does TLS (certificate and host name verified by default); every call
 * returns at once, so one thread can drive many connections from a poll loop. */
#include "net.h"

#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

int brs__url_parse(const char *url, brs__url *out, brs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *p;
    const char *def;
    if (strncmp(url, "wss://", 6) == 0)
        out->tls = 1, out->ws = 1, p = url + 6, def = "443";
    else if (strncmp(url, "ws://", 5) == 0)
        out->ws = 1, p = url + 5, def = "80";
    else if (strncmp(url, "https://", 8) == 0)
        out->tls = 1, p = url + 8, def = "443";
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7, def = "80";
    else
        return brs__err(err, BRS_E_INVAL, "url '%s': scheme must be ws, wss, http or https", url);
    const char *hs = p, *he;
    if (*p == '[') { /* [v6]:port */
        he = strchr(p, ']');
        if (!he)
            return brs__err(err, BRS_E_INVAL, "url '%s': unterminated [address]", url);
        hs = p + 1;
        p = he + 1;
    } else {
        while (*p && *p != ':' && *p != '/' && *p != '?')
            p++;
        he = p;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= sizeof out->host)
        return brs__err(err, BRS_E_INVAL, "url '%s': bad host", url);
    memcpy(out->host, hs, hl);
    if (*p == ':') {
        p++;
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n == 0 || n > 5 || atoi(p) > 65535 || atoi(p) == 0)
            return brs__err(err, BRS_E_INVAL, "url '%s': bad port", url);
        memcpy(out->port, p, n);
        p += n;
    } else
        snprintf(out->port, sizeof out->port, "%s", def);
    if (*p != '\0' && *p != '/' && *p != '?')
        return brs__err(err, BRS_E_INVAL, "url '%s': junk after host", url);
    if (strlen(p) + 2 > sizeof out->path)
        return brs__err(err, BRS_E_INVAL, "url '%s': path too long", url);
    snprintf(out->path, sizeof out->path, "%s%s", *p == '/' ? "" : "/", p);
    for (const char *q = out->path; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return brs__err(err, BRS_E_INVAL, "url '%s': spaces or control characters in the path", url);
    return BRS_OK;
}

void brs__conn_init(brs__conn *c)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

void brs__conn_close(brs__conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->ssl_ctx) {
        SSL_CTX_free(c->ssl_ctx);
        c->ssl_ctx = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    if (c->ai)
        freeaddrinfo(c->ai);
    c->ai = c->ai_next = NULL;
    c->fd = -1;
    c->state = BRS__CONN_IDLE;
    c->want_write = 0;
}

static void ssl_errstr(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "%s", "no OpenSSL detail");
    ERR_clear_error();
}

/* Start a non-blocking connect to the next address of c->ai; 0 or an errno.
 * Several addresses (IPv6 and IPv4, several A records) are tried in turn. */
static int connect_next(brs__conn *c, int *out)
{
    int e = EHOSTUNREACH;
    while (c->ai_next) {
        struct addrinfo *a = c->ai_next;
        c->ai_next = a->ai_next;
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
            *out = fd;
            return 0;
        }
        e = errno;
        close(fd);
    }
    return e;
}

int brs__conn_start(brs__conn *c, const brs__url *u, const brs__tls_opts *tls, brs_error *err)
{
    brs__conn_close(c);
    snprintf(c->host, sizeof c->host, "%s", u->host);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0 || !res)
        return brs__err(err, BRS_E_IO, "resolve %s:%s: %s", u->host, u->port, gai_strerror(g));
    c->ai = res;
    c->ai_next = res;
    int fd = -1, e = 0;
    if ((e = connect_next(c, &fd)) != 0)
        return brs__err(err, BRS_E_IO, "connect %s:%s: %s", u->host, u->port, strerror(e));
    c->fd = fd;
    c->state = BRS__CONN_CONNECTING;
    c->want_write = 1;
    if (u->tls) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
            return brs__err(err, BRS_E_NOMEM, "SSL_CTX_new failed");
        c->ssl_ctx = ctx;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        /* wslay may retry a write from a different buffer after WANT_WRITE */
        SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
        int verify = tls ? tls->verify : 1;
        if (verify) {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
            SSL_CTX_set_default_verify_paths(ctx);
            if (tls && tls->ca_file && SSL_CTX_load_verify_locations(ctx, tls->ca_file, NULL) != 1) {
                char b[200];
                ssl_errstr(b, sizeof b);
                return brs__err(err, BRS_E_IO, "load CA file %s: %s", tls->ca_file, b);
            }
        }
        SSL *ssl = SSL_new(ctx);
        if (!ssl)
            return brs__err(err, BRS_E_NOMEM, "SSL_new failed");
        c->ssl = ssl;
        SSL_set_fd(ssl, fd);
        unsigned char ipbuf[16];
        int is_ip = inet_pton(AF_INET, u->host, ipbuf) == 1 || inet_pton(AF_INET6, u->host, ipbuf) == 1;
        if (!is_ip) /* SNI carries names only (RFC 6066) */
            SSL_set_tlsext_host_name(ssl, u->host);
        if (verify) {
            /* the certificate must name the host: DNS name, or IP address SAN */
            if (is_ip)
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u->host);
            else
                SSL_set1_host(ssl, u->host);
        }
        SSL_set_connect_state(ssl);
    }
    return BRS_OK;
}

int brs__conn_step(brs__conn *c, brs_error *err)
{
    if (c->state == BRS__CONN_OPEN)
        return BRS_OK;
    if (c->state == BRS__CONN_CONNECTING) {
        struct pollfd pfd = {c->fd, POLLOUT, 0};
        int r = poll(&pfd, 1, 0);
        if (r == 0)
            return BRS_E_AGAIN;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
            soerr = errno;
        if (soerr != 0) {
            int fd;
            if (c->ai_next && connect_next(c, &fd) == 0) { /* try the next address */
                close(c->fd);
                c->fd = fd;
                if (c->ssl)
                    SSL_set_fd(c->ssl, fd);
                return BRS_E_AGAIN;
            }
            c->state = BRS__CONN_FAILED;
            return brs__err(err, BRS_E_IO, "connect %s: %s", c->host, strerror(soerr));
        }
        freeaddrinfo(c->ai);
        c->ai = c->ai_next = NULL;
        c->state = c->ssl ? BRS__CONN_TLS : BRS__CONN_OPEN;
        c->want_write = 0;
        if (!c->ssl)
            return BRS_OK;
    }
    if (c->state == BRS__CONN_TLS) {
        int r = SSL_do_handshake(c->ssl);
        if (r == 1) {
            c->state = BRS__CONN_OPEN;
            c->want_write = 0;
            return BRS_OK;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            c->want_write = e == SSL_ERROR_WANT_WRITE;
            return BRS_E_AGAIN;
        }
        char b[200];
        ssl_errstr(b, sizeof b);
        long vr = SSL_get_verify_result(c->ssl);
        c->state = BRS__CONN_FAILED;
        return brs__err(err, BRS_E_IO, "TLS handshake with %s: %s%s%s", c->host, b,
                    vr != X509_V_OK ? "; certificate: " : "",
                    vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
    }
    return brs__err(err, BRS_E_STATE, "connection to %s is not open", c->host);
}

ssize_t brs__conn_read(brs__conn *c, void *buf, size_t len)
{
    if (c->state != BRS__CONN_OPEN)
        return BRS_E_STATE;
    if (c->ssl) {
        int r = SSL_read(c->ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));
        if (r > 0)
            return r;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            c->want_write = e == SSL_ERROR_WANT_WRITE;
            return BRS_E_AGAIN;
        }
        ERR_clear_error();
        return e == SSL_ERROR_ZERO_RETURN ? BRS_E_CLOSED : BRS_E_IO;
    }
    for (;;) {
        ssize_t r = recv(c->fd, buf, len, 0);
        if (r > 0)
            return r;
        if (r == 0)
            return BRS_E_CLOSED;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? BRS_E_AGAIN : BRS_E_IO;
    }
}

ssize_t brs__conn_write(brs__conn *c, const void *buf, size_t len)
{
    if (c->state != BRS__CONN_OPEN)
        return BRS_E_STATE;
    if (c->ssl) {
        int r = SSL_write(c->ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));
        if (r > 0) {
            c->want_write = 0;
            return r;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            c->want_write = 1;
            return BRS_E_AGAIN;
        }
        ERR_clear_error();
        return BRS_E_IO;
    }
    for (;;) {
        ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (r >= 0) {
            c->want_write = 0;
            return r;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want_write = 1;
            return BRS_E_AGAIN;
        }
        return BRS_E_IO;
    }
}

int brs__conn_pending(const brs__conn *c)
{
    return c->ssl && c->state == BRS__CONN_OPEN ? SSL_pending(c->ssl) : 0;
}

short brs__conn_events(const brs__conn *c)
{
    if (c->fd < 0)
        return 0;
    if (c->state == BRS__CONN_CONNECTING)
        return POLLOUT;
    return (short)(POLLIN | (c->want_write ? POLLOUT : 0));
}

/* ---- HTTP GET ----------------------------------------------------------- */

int brs__http_get_start(brs__http_get *h, const char *url, const brs__tls_opts *tls,
                        size_t max_body, int64_t deadline_ns, brs_error *err)
{
    memset(h, 0, sizeof *h);
    brs__conn_init(&h->conn);
    brs__url u;
    int rc = brs__url_parse(url, &u, err);
    if (rc)
        return rc;
    if (u.ws)
        return brs__err(err, BRS_E_INVAL, "url '%s': want http:// or https://", url);
    size_t cap = strlen(u.path) + strlen(u.host) + 128;
    h->req = malloc(cap);
    if (!h->req)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    h->req_len = (size_t)snprintf(h->req, cap,
                                  "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bourse\r\n"
                                  "Accept: application/json\r\nConnection: close\r\n\r\n",
                                  u.path, u.host);
    h->max_body = max_body ? max_body : 16u << 20;
    h->deadline = deadline_ns;
    return brs__conn_start(&h->conn, &u, tls, err);
}

void brs__http_get_free(brs__http_get *h)
{
    brs__conn_close(&h->conn);
    free(h->req);
    free(h->buf);
    memset(h, 0, sizeof *h);
    h->conn.fd = -1;
}

/* What has arrived of the response: the head (interim 1xx heads skipped),
 * then the body as its framing says. BRS_OK when complete, BRS_E_AGAIN for
 * more, or an error (phase 4). */
static int response(brs__http_get *h, int eof, brs_error *err)
{
    const char *why = "";
    int rc;
    while (!h->head_len) {
        brs__http_head hd;
        rc = brs__http_head_response(h->buf, h->len, BRS__HTTP_GET_HEAD_MAX, &hd);
        if (rc < 0) {
            h->phase = 4;
            return brs__err(err, BRS_E_PROTOCOL, "HTTP response from %s: malformed head or over %d bytes",
                            h->conn.host, BRS__HTTP_GET_HEAD_MAX);
        }
        if (rc == 0) {
            if (!eof)
                return BRS_E_AGAIN;
            h->phase = 4;
            return brs__err(err, BRS_E_TRUNCATED, "HTTP response from %s cut short in its head", h->conn.host);
        }
        if (hd.status >= 100 && hd.status < 200) { /* interim (100 Continue, 103): the answer follows */
            memmove(h->buf, h->buf + hd.len, h->len - hd.len);
            h->len -= hd.len;
            h->buf[h->len] = '\0';
            continue;
        }
        rc = brs__http_body_init(&h->framing, &hd, h->buf, h->max_body, &why);
        if (rc) {
            h->phase = 4;
            return brs__err(err, rc == -2 ? BRS_E_LIMIT : BRS_E_PROTOCOL, "HTTP response from %s: %s (limit %zu)",
                            h->conn.host, why, h->max_body);
        }
        h->status = hd.status;
        h->head_len = hd.len;
    }
    size_t have = h->len - h->head_len, len = 0;
    char *body = h->buf + h->head_len;
    rc = brs__http_body_step(&h->framing, body, &have, eof, &len, &why);
    h->len = h->head_len + have;
    if (rc == 0)
        return BRS_E_AGAIN;
    if (rc < 0) {
        h->phase = 4;
        return brs__err(err, rc == -2 ? BRS_E_LIMIT : eof ? BRS_E_TRUNCATED : BRS_E_PROTOCOL,
                        "HTTP response from %s: %s (limit %zu)", h->conn.host, why, h->max_body);
    }
    h->body = body;
    h->body_len = len;
    body[len] = '\0';
    h->phase = 3;
    return BRS_OK;
}

int brs__http_get_step(brs__http_get *h, int64_t now_ns, brs_error *err)
{
    if (h->phase == 3)
        return BRS_OK;
    if (h->phase == 4)
        return brs__err(err, BRS_E_STATE, "HTTP GET already failed");
    if (h->deadline && now_ns > h->deadline) {
        h->phase = 4;
        return brs__err(err, BRS_E_TIMEOUT, "HTTP GET to %s timed out", h->conn.host);
    }
    if (h->phase == 0) {
        int rc = brs__conn_step(&h->conn, err);
        if (rc == BRS_E_AGAIN)
            return rc;
        if (rc) {
            h->phase = 4;
            return rc;
        }
        h->phase = 1;
    }
    if (h->phase == 1) {
        while (h->req_off < h->req_len) {
            ssize_t w = brs__conn_write(&h->conn, h->req + h->req_off, h->req_len - h->req_off);
            if (w == BRS_E_AGAIN)
                return BRS_E_AGAIN;
            if (w < 0) {
                h->phase = 4;
                return brs__err(err, BRS_E_IO, "HTTP GET to %s: write failed", h->conn.host);
            }
            h->req_off += (size_t)w;
        }
        h->phase = 2;
    }
    for (;;) {
        if (h->cap - h->len < 16384) {
            size_t nc = h->cap ? h->cap * 2 : 65536;
            if (nc > h->max_body + 65536 + 16384)
                nc = h->max_body + 65536 + 16384;
            if (nc <= h->cap) {
                h->phase = 4;
                return brs__err(err, BRS_E_LIMIT, "HTTP response from %s exceeds %zu bytes",
                            h->conn.host, h->max_body);
            }
            char *nb = realloc(h->buf, nc + 1);
            if (!nb) {
                h->phase = 4;
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            }
            h->buf = nb;
            h->cap = nc;
        }
        ssize_t r = brs__conn_read(&h->conn, h->buf + h->len, h->cap - h->len);
        int eof = 0;
        if (r == BRS_E_AGAIN)
            break;
        if (r == BRS_E_CLOSED)
            eof = 1;
        else if (r < 0) {
            h->phase = 4;
            return brs__err(err, BRS_E_IO, "HTTP GET from %s: read failed", h->conn.host);
        } else
            h->len += (size_t)r;
        h->buf[h->len] = '\0';
        int rc = response(h, eof, err);
        if (rc != BRS_E_AGAIN)
            return rc;
    }
    return BRS_E_AGAIN;
}
