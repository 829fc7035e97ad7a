/* http.h: a small HTTP/1.1 server for operators: /metrics (Prometheus text) and
 * whatever pages a command routes to it (dashboards). It runs on its own thread
 * with poll(2) over at most max_conns connections, each with a deadline and a
 * bounded request, so a slow or hostile client never stalls the event loop or
 * the other scrapers. GET, HEAD, and POST to routes (a bounded body, for the
 * research dashboard's launch form); every response closes the connection.
 * Internal (brs__ prefix). */
#ifndef BRS_OPS_HTTP_H
#define BRS_OPS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

#include "ops/metrics.h"

typedef struct brs__http brs__http;

/* An event stream's source (server-sent events), called on the server's thread
 * whenever the stream's previous output is all sent, at most every 100 ms.
 * cursor is the stream's own (0 at its start): return 1 with a malloc'd chunk
 * in *out (the server frees it) and cursor advanced, 0 when there is nothing
 * new, -1 to end the stream. */
typedef int (*brs__http_pull)(void *ctx, uint64_t *cursor, char **out, size_t *len);

typedef struct brs__http_resp {
    int status;               /* 200 by default */
    const char *content_type; /* static string; "text/plain; charset=utf-8" by default */
    const char *allow;        /* static string: the Allow field a 405 must carry ("GET, HEAD") */
    char *body;               /* malloc'd by the handler; the server frees it */
    size_t len;
    /* set by a handler to turn the response into an event stream
     * (text/event-stream, no length, kept open): body, if any, is sent first,
     * then what pull gives. Beyond opts.max_streams open streams the request
     * gets a 503 and a log line. */
    brs__http_pull pull;
    void *pull_ctx;
} brs__http_resp;

/* One request. path has no query; query is "" when absent; headers not sent
 * are "". body is NUL-terminated (body_len bytes before the NUL). */
typedef struct brs__http_req {
    const char *method; /* "GET", "HEAD" or "POST" */
    const char *path, *query;
    const char *host, *origin, *content_type;
    const char *body;
    size_t body_len;
    const char *peer; /* "ip:port" */
} brs__http_req;

/* One request parsed from the bytes received so far (brs__http_parse): the
 * request handed to a route points into this struct and into the buffer (the
 * body), so neither may move while it is used. */
#define BRS__HTTP_HEAD_MAX 8192   /* request line and headers */
#define BRS__HTTP_TARGET_MAX 2048 /* path and query */
typedef struct brs__http_msg {
    brs__http_req req;
    size_t head_len; /* request line and headers, blank line included */
    size_t need;     /* the whole request (head and body) once the head is in, else 0 */
    const char *why; /* a refusal's reason (static text), for the log and the answer */
    int expect_continue; /* "Expect: 100-continue" with a body to come: answer 100 before reading it */
    char method[8], target[BRS__HTTP_TARGET_MAX + 1];
    char host[256], origin[256], content_type[128];
} brs__http_msg;

/* Parse the request at the start of buf[0..len) (RFC 9112, origin-form,
 * HTTP/1.0 or 1.1, Connection: close: bytes after the body are ignored).
 * Returns 0 when more bytes are needed (m->need says how many in all once the
 * head is in, so the reader can size its buffer), 200 when the request is
 * complete (m->req filled; its body points into buf, which the caller keeps
 * NUL-terminated at m->need), or the status that refuses it:
 *   400 malformed request line or header line, no Host in HTTP/1.1, two Host,
 *       Origin or Content-Type fields, a bad or contradictory Content-Length
 *   405 a method other than GET, HEAD, POST (the answer says Allow: GET, HEAD, POST)
 *   411 a POST without Content-Length
 *   413 a body over max_body
 *   417 an Expect field other than 100-continue
 *   414 a target over BRS__HTTP_TARGET_MAX bytes
 *   431 a head over BRS__HTTP_HEAD_MAX bytes, over 64 fields, or a Host,
 *       Origin or Content-Type value longer than its field above
 *   501 Transfer-Encoding (chunked bodies are not taken)
 *   505 not HTTP/1.x
 * with m->why naming the reason.
 * Pure: no I/O, no allocation, no logging (fuzzed by tests/fuzz/fuzz_http.c). */
int brs__http_parse(const char *buf, size_t len, size_t max_body, brs__http_msg *m);
/* The reason phrase of a status ("Bad Request"). */
const char *brs__http_status_text(int status);

/* Runs on the server's thread: read only thread-safe state. Return BRS_OK with
 * resp filled. */
typedef int (*brs__http_handler)(void *ctx, const brs__http_req *req, brs__http_resp *resp);

typedef struct brs__http_opts {
    const char *listen;  /* "host:port" ("127.0.0.1:9464"; port 0 picks a free one) */
    brs__mreg *metrics;  /* served at /metrics when not NULL */
    int max_conns;       /* 0: 64 */
    int timeout_ms;      /* per request; 0: 10000 */
    size_t max_body;     /* POST body limit; 0: 65536 */
    int max_streams;     /* event streams open at once; 0: 8 (they count among max_conns) */
    const char *streams_key; /* the config key that sets max_streams, named when it bites */
} brs__http_opts;

int brs__http_start(brs__http **out, const brs__http_opts *opts, brs_error *err);
/* Add a route before or after start: requests whose path starts with prefix go to
 * fn (the longest prefix wins). */
int brs__http_route(brs__http *h, const char *prefix, brs__http_handler fn, void *ctx);
/* The bound port (useful with port 0) and the address as "host:port". */
int brs__http_port(const brs__http *h);
/* fn(ctx) runs on the server's thread from the moment it is set (the thread is
 * woken for it), then about every 100 ms while an event stream is open and
 * about every second otherwise (a dashboard samples its history there; with
 * nobody watching, the thread wakes once a second, not ten times). One tick
 * per server. */
void brs__http_set_tick(brs__http *h, void (*fn)(void *ctx), void *ctx);
void brs__http_stop(brs__http *h);

/* "%xx" and "+" decoded in place; returns the length. */
size_t brs__http_urldecode(char *s);
/* The value of key in a query string ("a=1&b=2"), decoded, into out; 1 when found. */
int brs__http_query_get(const char *query, const char *key, char *out, size_t cap);
/* The dashboards' guard (bourse ui, the live dashboard): Host names this
 * machine (127.0.0.1, localhost or [::1]) and Origin, when a browser sends one,
 * is this very page, so another web site cannot read or drive them, nor can DNS
 * rebinding. */
int brs__http_same_origin(const brs__http_req *rq);

/* Parse "host:port" ("[::1]:9464" too) into host and port. */
int brs__parse_hostport(const char *s, char *host, size_t hostlen, int *port, brs_error *err);

#endif
