/* http.c: the operators' HTTP server (see http.h): one thread, poll(2), bounded
 * requests with deadlines, GET/HEAD/POST, Connection: close. Routes are prefix
 * matched; /metrics renders the registry when one is given. A route may turn
 * its response into an event stream (server-sent events, bounded in number):
 * the connection stays open and the route's pull function feeds it. */
#include "ops/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"

#define MAX_ROUTES 32
#define TICK_STREAMS_MS 100 /* the tick while an event stream is open */
#define TICK_IDLE_MS 1000   /* and while none is */

typedef struct conn {
    int fd;
    int64_t deadline_ms;
    size_t in, cap;
    char *req;            /* BRS__HTTP_HEAD_MAX, grown to hold a POST body */
    brs__http_msg msg;    /* the request parsed from req (msg.need: its size once the head is in) */
    char *out; /* response, once built */
    size_t out_len, out_off;
    char peer[64];
    brs__http_pull pull; /* an event stream: fed by pull once out is sent */
    void *pull_ctx;
    uint64_t cursor;
    bool continued; /* "100 Continue" sent (Expect: 100-continue) */
} conn;

typedef struct route {
    char *prefix;
    brs__http_handler fn;
    void *ctx;
} route;

struct brs__http {
    int lfd, wake[2], port, max_conns, timeout_ms;
    int max_streams, n_streams;
    char streams_key[64];
    int64_t last_stream_log_ms, last_tick_ms;
    _Atomic int stopping; /* a byte on wake[] with this set: stop; without: look again (a new tick) */
    void (*tick)(void *ctx);
    void *tick_ctx;
    size_t max_body;
    brs__mreg *metrics;
    pthread_t thread;
    pthread_mutex_t mu; /* routes */
    route routes[MAX_ROUTES];
    int n_routes;
    conn **conns;
    int n_conns;
    int64_t last_full_log_ms;
    char listen[128];
};

static int64_t now_ms(void) { return brs__monotime_ns() / 1000000; }

static void conn_close(brs__http *h, int i)
{
    conn *c = h->conns[i];
    if (c->pull)
        h->n_streams--;
    close(c->fd);
    free(c->out);
    free(c->req);
    free(c);
    h->conns[i] = h->conns[--h->n_conns];
}

/* allow: the methods a 405 names (RFC 9110 15.5.6: a 405 must carry Allow), else NULL. */
static void respond_allow(conn *c, int status, const char *ctype, const char *body, size_t len, bool head,
                          const char *allow)
{
    char hdr[512];
    int hl = snprintf(hdr, sizeof hdr,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s%s"
                      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
                      status, brs__http_status_text(status), ctype, len, allow ? "Allow: " : "",
                      allow ? allow : "", allow ? "\r\n" : "");
    size_t total = (size_t)hl + (head ? 0 : len);
    c->out = malloc(total ? total : 1);
    if (!c->out) {
        c->out_len = 0;
        return;
    }
    memcpy(c->out, hdr, (size_t)hl);
    if (!head && len)
        memcpy(c->out + hl, body, len);
    c->out_len = total;
    c->out_off = 0;
}

static void respond(conn *c, int status, const char *ctype, const char *body, size_t len, bool head)
{
    respond_allow(c, status, ctype, body, len, head, NULL);
}

/* The response becomes an event stream, within the limit of open streams. */
static void start_stream(brs__http *h, conn *c, const brs__http_resp *resp)
{
    if (h->n_streams >= h->max_streams) {
        int64_t t = now_ms();
        if (t - h->last_stream_log_ms > 10000) {
            h->last_stream_log_ms = t;
            BRS_LOG(BRS_LOG_WARN, "http", "event stream refused: limit reached", BRS_KV_S("listen", h->listen),
                    BRS_KV_S("peer", c->peer), BRS_KV_S("key", h->streams_key),
                    BRS_KV_I("max_streams", h->max_streams));
        }
        static const char msg[] = "too many live dashboards open\n";
        respond(c, 503, "text/plain; charset=utf-8", msg, sizeof msg - 1, false);
        return;
    }
    static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                              "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
    c->out = malloc(sizeof hdr);
    if (!c->out)
        return;
    memcpy(c->out, hdr, sizeof hdr - 1);
    c->out_len = sizeof hdr - 1;
    c->out_off = 0;
    c->pull = resp->pull;
    c->pull_ctx = resp->pull_ctx;
    c->cursor = 0;
    h->n_streams++;
    BRS_LOG(BRS_LOG_DEBUG, "http", "event stream opened", BRS_KV_S("peer", c->peer), BRS_KV_I("streams", h->n_streams));
}

/* A complete request (c->msg, parsed by brs__http_parse) to /metrics or its route. */
static void handle(brs__http *h, conn *c)
{
    brs__http_req rq = c->msg.req;
    rq.peer = c->peer;
    const char *method = rq.method, *target = rq.path;
    bool head = strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
    if (h->metrics && strcmp(target, "/metrics") == 0 && post) {
        static const char msg[] = "Method Not Allowed: /metrics is read with GET\n";
        respond_allow(c, 405, "text/plain; charset=utf-8", msg, sizeof msg - 1, false, "GET, HEAD");
        return;
    }
    if (h->metrics && strcmp(target, "/metrics") == 0) {
        char *body = NULL;
        size_t len = 0;
        brs_error err = {0};
        if (brs__mreg_render(h->metrics, &body, &len, &err) != BRS_OK) {
            respond(c, 503, "text/plain; charset=utf-8", err.msg, strlen(err.msg), head);
            return;
        }
        respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, head);
        free(body);
        return;
    }
    pthread_mutex_lock(&h->mu);
    route *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < h->n_routes; i++) {
        size_t pl = strlen(h->routes[i].prefix);
        if (strncmp(target, h->routes[i].prefix, pl) == 0 && pl >= best_len) {
            best = &h->routes[i];
            best_len = pl;
        }
    }
    route r = best ? *best : (route){0};
    pthread_mutex_unlock(&h->mu);
    if (!best) {
        respond(c, 404, "text/plain; charset=utf-8", "not found\n", 10, head);
        return;
    }
    brs__http_resp resp = {.status = 200, .content_type = "text/plain; charset=utf-8"};
    if (r.fn(r.ctx, &rq, &resp) != BRS_OK && resp.status == 200)
        resp.status = 500;
    if (resp.pull && resp.status == 200 && !head) {
        free(resp.body);
        start_stream(h, c, &resp);
        return;
    }
    respond_allow(c, resp.status, resp.content_type, resp.body ? resp.body : "", resp.body ? resp.len : 0, head,
                  resp.status == 405 ? (resp.allow ? resp.allow : "GET, HEAD") : NULL);
    free(resp.body);
}

static void accept_all(brs__http *h)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                int64_t t = now_ms();
                if (t - h->last_full_log_ms > 10000) {
                    h->last_full_log_ms = t;
                    BRS_LOG(BRS_LOG_WARN, "http", "cannot accept: out of file descriptors",
                            BRS_KV_S("listen", h->listen));
                }
            }
            return;
        }
        if (h->n_conns >= h->max_conns) {
            int64_t t = now_ms();
            if (t - h->last_full_log_ms > 10000) {
                h->last_full_log_ms = t;
                BRS_LOG(BRS_LOG_WARN, "http", "connection refused: limit reached", BRS_KV_S("listen", h->listen),
                        BRS_KV_I("max_connections", h->max_conns));
            }
            close(fd);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        if (c && !(c->req = malloc(BRS__HTTP_HEAD_MAX + 1))) {
            free(c);
            c = NULL;
        }
        if (!c) {
            close(fd);
            continue;
        }
        c->cap = BRS__HTTP_HEAD_MAX;
        c->fd = fd;
        c->deadline_ms = now_ms() + h->timeout_ms;
        char ip[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            port = ntohs(a->sin6_port);
        }
        snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
        h->conns[h->n_conns++] = c;
    }
}

/* An event stream's input is only its end (or junk, dropped). */
static bool stream_in(conn *c, short revents)
{
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return true;
    char junk[512];
    ssize_t r = recv(c->fd, junk, sizeof junk, 0);
    return !(r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR));
}

/* Returns false when the connection is done. */
static bool conn_io(brs__http *h, conn *c, short revents)
{
    if (c->pull && !c->out)
        return stream_in(c, revents);
    if (!c->out && (revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t r = recv(c->fd, c->req + c->in, c->cap - c->in, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            return false;
        if (r > 0) {
            size_t from = c->in;
            c->in += (size_t)r;
            c->req[c->in] = 0;
            /* parse again only when it can change the answer: a new line in the
             * head, the buffer full, or the whole body in */
            bool again = c->msg.need ? c->in >= c->msg.need
                                     : memchr(c->req + from, '\n', (size_t)r) || c->in >= c->cap;
            int st = again ? brs__http_parse(c->req, c->in, h->max_body, &c->msg) : 0;
            if (st == 0 && c->msg.expect_continue && !c->continued && c->in < c->msg.need) {
                /* the client waits for this before sending its body (curl does
                 * for bodies over 1 KB): one small send, best effort; a client
                 * that gets nothing sends its body after its own timeout */
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                c->continued = true;
                if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(sizeof cont - 1))
                    BRS_LOG(BRS_LOG_DEBUG, "http", "100 Continue not sent whole", BRS_KV_S("peer", c->peer));
            }
            if (st == 0 && c->msg.need > c->cap) {
                char *nr = realloc(c->req, c->msg.need + 1);
                if (!nr)
                    return false;
                c->req = nr;
                c->cap = c->msg.need;
            }
            if (st == 200) {
                c->in = c->msg.need; /* nothing after the body: one request per connection */
                c->req[c->in] = 0;
                handle(h, c);
            } else if (st) {
                char msg[160];
                const char *why = c->msg.why ? c->msg.why : brs__http_status_text(st);
                int n = snprintf(msg, sizeof msg, "%s: %s\n", brs__http_status_text(st), why);
                BRS_LOG(BRS_LOG_DEBUG, "http", "request refused", BRS_KV_S("peer", c->peer), BRS_KV_I("status", st),
                        BRS_KV_S("reason", why));
                respond_allow(c, st, "text/plain; charset=utf-8", msg, (size_t)n, false,
                              st == 405 ? "GET, HEAD, POST" : NULL);
            }
        }
    }
    if (c->out) {
        while (c->out_off < c->out_len) {
            ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
            if (w <= 0)
                return false;
            c->out_off += (size_t)w;
        }
        if (c->pull) { /* an event stream: wait for the next chunk */
            free(c->out);
            c->out = NULL;
            c->out_len = c->out_off = 0;
            return true;
        }
        return false; /* all sent: close */
    }
    return true;
}

/* Streams whose output is all sent get their next chunk; a stream whose output
 * has waited past the request timeout (a reader that stopped reading) ends. */
static bool stream_feed(brs__http *h, conn *c, int64_t t)
{
    if (c->out)
        return t < c->deadline_ms;
    char *chunk = NULL;
    size_t len = 0;
    int rc = c->pull(c->pull_ctx, &c->cursor, &chunk, &len);
    if (rc < 0)
        return false;
    if (rc > 0 && chunk) {
        c->out = chunk;
        c->out_len = len;
        c->out_off = 0;
        c->deadline_ms = t + h->timeout_ms;
    }
    return true;
}

static void *serve(void *arg)
{
    brs__http *h = arg;
    struct pollfd *pf = calloc((size_t)h->max_conns + 2, sizeof *pf);
    if (!pf)
        return NULL;
    for (;;) {
        pf[0] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
        pf[1] = (struct pollfd){.fd = h->lfd, .events = POLLIN};
        pthread_mutex_lock(&h->mu);
        void (*tick)(void *) = h->tick;
        void *tick_ctx = h->tick_ctx;
        pthread_mutex_unlock(&h->mu);
        int tick_ms = h->n_streams ? TICK_STREAMS_MS : TICK_IDLE_MS;
        int64_t t = now_ms(), next = t + TICK_IDLE_MS;
        if (tick) {
            int64_t due = h->last_tick_ms + tick_ms;
            next = due < next ? due : next;
        } else if (h->n_streams) {
            next = t + TICK_STREAMS_MS;
        }
        for (int i = 0; i < h->n_conns; i++) {
            conn *c = h->conns[i];
            pf[2 + i] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
            if (c->deadline_ms < next && !(c->pull && !c->out))
                next = c->deadline_ms;
        }
        int n = h->n_conns;
        int rc = poll(pf, (nfds_t)n + 2, (int)(next > t ? next - t : 0));
        if (rc < 0 && errno != EINTR)
            break;
        if (pf[0].revents) {
            char b[16];
            while (read(h->wake[0], b, sizeof b) > 0) {
            }
            if (atomic_load_explicit(&h->stopping, memory_order_acquire))
                break;
        }
        t = now_ms();
        if (tick && t - h->last_tick_ms >= tick_ms) {
            h->last_tick_ms = t;
            tick(tick_ctx);
        }
        /* connections first (indices stay valid until we close), from the back */
        for (int i = n - 1; i >= 0; i--) {
            conn *c = h->conns[i];
            bool alive = true;
            if (pf[2 + i].revents)
                alive = conn_io(h, c, pf[2 + i].revents);
            if (alive && c->pull) {
                if (!stream_feed(h, c, t))
                    conn_close(h, i);
                continue;
            }
            if (alive && t >= c->deadline_ms) {
                if (!c->out)
                    BRS_LOG(BRS_LOG_DEBUG, "http", "request timed out", BRS_KV_S("peer", c->peer));
                alive = false;
            }
            if (!alive)
                conn_close(h, i);
        }
        if (pf[1].revents & POLLIN)
            accept_all(h);
    }
    while (h->n_conns)
        conn_close(h, h->n_conns - 1);
    free(pf);
    return NULL;
}

int brs__http_start(brs__http **out, const brs__http_opts *o, brs_error *err)
{
    char host[96];
    int port = 0;
    int rc = brs__parse_hostport(o->listen, host, sizeof host, &port, err);
    if (rc)
        return rc;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai)
        return brs__err(err, BRS_E_INVAL, "listen address '%s': host must be a numeric IP address", o->listen);
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return brs__err(err, BRS_E_IO, "cannot listen on %s: %s", o->listen, strerror(e));
    }
    freeaddrinfo(ai);
    brs__http *h = calloc(1, sizeof *h);
    if (!h) {
        close(fd);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    h->lfd = fd;
    h->metrics = o->metrics;
    h->max_conns = o->max_conns > 0 ? o->max_conns : 64;
    h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    h->max_body = o->max_body ? o->max_body : 65536;
    h->max_streams = o->max_streams > 0 ? o->max_streams : 8;
    snprintf(h->streams_key, sizeof h->streams_key, "%s", o->streams_key ? o->streams_key : "max_streams");
    h->conns = calloc((size_t)h->max_conns, sizeof *h->conns);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    snprintf(h->listen, sizeof h->listen, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, h->port);
    pthread_mutex_init(&h->mu, NULL);
    if (!h->conns || pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        close(fd);
        free(h->conns);
        free(h);
        return brs__err(err, BRS_E_IO, "cannot set up the HTTP server: %s", strerror(errno));
    }
    if (pthread_create(&h->thread, NULL, serve, h) != 0) {
        close(fd);
        close(h->wake[0]);
        close(h->wake[1]);
        free(h->conns);
        free(h);
        return brs__err(err, BRS_E_IO, "cannot start the HTTP server thread");
    }
    BRS_LOG(BRS_LOG_INFO, "http", "listening", BRS_KV_S("listen", h->listen),
            BRS_KV_S("metrics", h->metrics ? "/metrics" : "off"));
    *out = h;
    return BRS_OK;
}

int brs__http_route(brs__http *h, const char *prefix, brs__http_handler fn, void *ctx)
{
    pthread_mutex_lock(&h->mu);
    if (h->n_routes >= MAX_ROUTES) {
        pthread_mutex_unlock(&h->mu);
        return BRS_E_LIMIT;
    }
    char *p = strdup(prefix);
    if (!p) {
        pthread_mutex_unlock(&h->mu);
        return BRS_E_NOMEM;
    }
    h->routes[h->n_routes++] = (route){.prefix = p, .fn = fn, .ctx = ctx};
    pthread_mutex_unlock(&h->mu);
    return BRS_OK;
}

int brs__http_port(const brs__http *h) { return h->port; }

void brs__http_set_tick(brs__http *h, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&h->mu);
    h->tick_ctx = ctx;
    h->tick = fn;
    pthread_mutex_unlock(&h->mu);
    ssize_t w = write(h->wake[1], "t", 1); /* its first run now, not after the poll in progress */
    (void)w;
}

void brs__http_stop(brs__http *h)
{
    if (!h)
        return;
    atomic_store_explicit(&h->stopping, 1, memory_order_release);
    ssize_t w = write(h->wake[1], "x", 1);
    (void)w;
    pthread_join(h->thread, NULL);
    close(h->lfd);
    close(h->wake[0]);
    close(h->wake[1]);
    for (int i = 0; i < h->n_routes; i++)
        free(h->routes[i].prefix);
    pthread_mutex_destroy(&h->mu);
    free(h->conns);
    free(h);
}
