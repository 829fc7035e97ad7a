/* http_req.c: what the operators' HTTP server reads from a client, as pure
 * functions (http.h): one buffered request parsed to a brs__http_req or the
 * status that refuses it, query strings, percent-decoding, the dashboards'
 * same-origin guard and listen addresses. No I/O, so tests/fuzz/fuzz_http.c
 * drives all of it with arbitrary bytes. */
#include "ops/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "ws/http_head.h"

const char *brs__http_status_text(int st)
{
    switch (st) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return st >= 500 ? "Internal Server Error" : "Error";
    }
}

/* A field that must appear at most once, copied: 0, or the refusing status. */
static int single(const brs__http_head *hd, const char *buf, const char *name, char *out, size_t cap)
{
    if (brs__http_head_field(hd, buf, name, NULL, NULL) > 1)
        return 400;
    return brs__http_head_copy(hd, buf, name, out, cap) < 0 ? 431 : 0;
}

#define REFUSE(st_, why_)                                                                           \
    do {                                                                                           \
        m->why = (why_);                                                                           \
        return (st_);                                                                              \
    } while (0)

int brs__http_parse(const char *buf, size_t len, size_t max_body, brs__http_msg *m)
{
    brs__http_head hd;
    m->need = m->head_len = 0;
    m->why = NULL;
    m->expect_continue = 0;
    int st = brs__http_head_request(buf, len, BRS__HTTP_HEAD_MAX, BRS__HTTP_TARGET_MAX, &hd);
    if (st != 1) {
        m->why = st == 0     ? NULL
                 : st == 414 ? "request target too long"
                 : st == 431 ? "request head too large or too many fields"
                 : st == 505 ? "not HTTP/1.x"
                             : "malformed request line or header line";
        return st;
    }
    if (hd.method_len == 3 && !memcmp(buf + hd.method, "GET", 3))
        strcpy(m->method, "GET");
    else if (hd.method_len == 4 && !memcmp(buf + hd.method, "HEAD", 4))
        strcpy(m->method, "HEAD");
    else if (hd.method_len == 4 && !memcmp(buf + hd.method, "POST", 4))
        strcpy(m->method, "POST");
    else
        REFUSE(405, "method not GET, HEAD or POST");
    int nhost = brs__http_head_field(&hd, buf, "Host", NULL, NULL);
    if (nhost > 1 || (nhost == 0 && hd.minor >= 1)) /* RFC 9112 3.2 */
        REFUSE(400, nhost ? "two Host fields" : "no Host field in HTTP/1.1");
    if ((st = single(&hd, buf, "Host", m->host, sizeof m->host)))
        REFUSE(st, "Host field too long");
    if ((st = single(&hd, buf, "Origin", m->origin, sizeof m->origin)))
        REFUSE(st, st == 400 ? "two Origin fields" : "Origin field too long");
    if ((st = single(&hd, buf, "Content-Type", m->content_type, sizeof m->content_type)))
        REFUSE(st, st == 400 ? "two Content-Type fields" : "Content-Type field too long");
    for (const char *p = m->host; *p; p++) /* RFC 3986 reg-name, IP literal, port */
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("/?#@\\\"<>{}|^`", *p))
            REFUSE(400, "Host field is not a host name");
    if (brs__http_head_field(&hd, buf, "Transfer-Encoding", NULL, NULL))
        REFUSE(501, "Transfer-Encoding is not taken");
    uint64_t n;
    int has_len = brs__http_head_content_length(&hd, buf, &n);
    if (has_len < 0)
        REFUSE(400, "bad or contradictory Content-Length");
    if (!has_len && !strcmp(m->method, "POST"))
        REFUSE(411, "POST without Content-Length");
    if (n > max_body)
        REFUSE(413, "body over the limit");
    char expect[32];
    if ((st = single(&hd, buf, "Expect", expect, sizeof expect)))
        REFUSE(st == 400 ? 400 : 417, st == 400 ? "two Expect fields" : "Expect other than 100-continue");
    if (expect[0] && strcasecmp(expect, "100-continue") != 0) /* RFC 9110 10.1.1 */
        REFUSE(417, "Expect other than 100-continue");
    m->expect_continue = expect[0] && n > 0;
    m->head_len = hd.len;
    m->need = hd.len + (size_t)n;
    if (len < m->need)
        return 0;
    memcpy(m->target, buf + hd.target, hd.target_len);
    m->target[hd.target_len] = 0;
    char *q = strchr(m->target, '?');
    if (q)
        *q++ = 0;
    m->req = (brs__http_req){.method = m->method, .path = m->target, .query = q ? q : "", .host = m->host,
                             .origin = m->origin, .content_type = m->content_type, .body = buf + hd.len,
                             .body_len = (size_t)n, .peer = ""};
    return 200;
}

int brs__parse_hostport(const char *s, char *host, size_t hostlen, int *port, brs_error *err)
{
    if (!s || !*s)
        return brs__err(err, BRS_E_INVAL, "listen address is empty (want host:port)");
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return brs__err(err, BRS_E_INVAL, "listen address '%s': want [ipv6]:port", s);
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return brs__err(err, BRS_E_INVAL, "listen address '%s': want host:port", s);
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen)
        return brs__err(err, BRS_E_INVAL, "listen address '%s': bad host", s);
    memcpy(host, h, hl);
    host[hl] = 0;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 0 || p > 65535)
        return brs__err(err, BRS_E_INVAL, "listen address '%s': port must be 0..65535", s);
    *port = (int)p;
    return BRS_OK;
}

static int hexv(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

size_t brs__http_urldecode(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '+') {
            *w++ = ' ';
        } else if (*r == '%' && hexv(r[1]) >= 0 && hexv(r[2]) >= 0) {
            *w++ = (char)(hexv(r[1]) * 16 + hexv(r[2]));
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

int brs__http_query_get(const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = n - kl - 1 < cap - 1 ? n - kl - 1 : cap - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = 0;
            brs__http_urldecode(out);
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    out[0] = 0;
    return 0;
}

int brs__http_same_origin(const brs__http_req *rq)
{
    /* Host: one of this machine's names, then nothing or ':' and a port */
    const char *h = rq->host, *names[] = {"127.0.0.1", "localhost", "[::1]"}, *rest = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !rest; i++)
        if (!strncmp(h, names[i], strlen(names[i])))
            rest = h + strlen(names[i]);
    if (!rest)
        return 0;
    if (*rest) {
        size_t digits = strspn(rest + 1, "0123456789");
        if (*rest != ':' || digits < 1 || digits > 5 || rest[1 + digits])
            return 0;
    }
    if (!rq->origin[0])
        return 1;
    char want[300];
    snprintf(want, sizeof want, "http://%s", h);
    return strcmp(rq->origin, want) == 0;
}
