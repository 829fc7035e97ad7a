/* fuzz_http.c: libFuzzer target for the host's HTTP/1.x parsers. Every input
 * is read as a response by the client's GET parsers (http_head.c's response
 * head, http_body.c's framing and chunked decoder): whole, a byte at a time
 * and split at a point the input picks, each must give the same code and the
 * same body, never longer than its limit. Then as a request by the
 * operators' HTTP server's parser (host/ops/http_req.c over
 * host/ws/http_head.c): any bytes in, either
 * "more" with a consistent size, a refusal with one of the documented
 * statuses, or a request whose fields hold what the routes rely on; every
 * proper prefix of an accepted request must ask for more (the server parses
 * prefixes as bytes arrive). The query, percent-decoding and same-origin
 * helpers run over what was parsed. Built with clang by `make fuzz-http`;
 * tests/fuzz/CMakeLists.txt runs tests/fuzz/corpus-http through it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/http.h"
#include "ws/http_body.h"
#include "ws/http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY 1024

static void need(int ok)
{
    if (!ok)
        abort();
}

/* NUL-terminated inside its array, no control bytes but HTAB */
static void field_ok(const char *s, size_t cap)
{
    need(memchr(s, 0, cap) != NULL);
    for (; *s; s++)
        need(*s == '\t' || ((unsigned char)*s >= 0x20 && *s != 0x7f));
}

#define RESP_MAX_BODY 4096

/* The response in data fed `split` bytes at a time (0: at once), the server
 * closing after the last; returns the final code, the body in out. */
static int response(const uint8_t *data, size_t size, size_t split, char *out, size_t *out_len)
{
    char *buf = malloc(size + 1);
    size_t len = 0, head = 0, pos = 0;
    brs__http_body b;
    const char *why = NULL;
    int rc = 0;
    *out_len = 0;
    for (;;) {
        size_t k = split && split < size - pos ? split : size - pos;
        memcpy(buf + len, data + pos, k);
        len += k;
        pos += k;
        int eof = pos == size;
        if (!head) {
            brs__http_head h;
            int hr = brs__http_head_response(buf, len, 8192, &h);
            if (hr < 0 || (hr == 0 && eof)) {
                rc = hr < 0 ? -3 : -4;
                break;
            }
            if (hr == 0)
                continue;
            need(h.len <= len && h.len <= 8192 && h.status >= 100 && h.status <= 999);
            rc = brs__http_body_init(&b, &h, buf, RESP_MAX_BODY, &why);
            if (rc) {
                need(why && why[0] && (rc == -1 || rc == -2));
                break;
            }
            head = h.len;
        }
        size_t have = len - head, blen = 0;
        rc = brs__http_body_step(&b, buf + head, &have, eof, &blen, &why);
        need(have <= len - head);
        len = head + have;
        if (rc) {
            need(rc == 1 || ((rc == -1 || rc == -2) && why && why[0]));
            if (rc == 1) {
                need(blen <= RESP_MAX_BODY && blen <= have);
                memcpy(out, buf + head, blen);
                *out_len = blen;
            }
            break;
        }
        if (eof)
            break;
    }
    free(buf);
    return rc;
}

static void response_checks(const uint8_t *data, size_t size)
{
    static char a[RESP_MAX_BODY], b[RESP_MAX_BODY];
    size_t al, bl;
    int ra = response(data, size, 0, a, &al);
    size_t splits[] = {1, size ? 1 + data[size - 1] % 97 : 1};
    for (size_t i = 0; i < sizeof splits / sizeof *splits; i++) {
        if (splits[i] == 1 && size > 20000)
            continue;
        int rb = response(data, size, splits[i], b, &bl);
        need(rb == ra && bl == al && !memcmp(a, b, al));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BRS__HTTP_HEAD_MAX + MAX_BODY + 64)
        return 0;
    response_checks(data, size);
    char *buf = malloc(size + 1); /* the server keeps its buffer NUL-terminated */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    brs__http_msg *m = malloc(sizeof *m);
    int st = brs__http_parse(buf, size, MAX_BODY, m);
    switch (st) {
    case 0: need(m->need == 0 || m->need > size); break;
    case 200: case 400: case 405: case 411: case 413: case 414: case 417: case 431: case 501: case 505: break;
    default: abort();
    }
    if (st != 200) {
        free(m);
        free(buf);
        return 0;
    }
    const brs__http_req *r = &m->req;
    need(!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD") || !strcmp(r->method, "POST"));
    need(r->path == m->target && r->path[0] == '/' && !strchr(r->path, '?'));
    need(strlen(r->path) <= BRS__HTTP_TARGET_MAX);
    for (const char *p = r->path; *p; p++)
        need((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
    field_ok(m->host, sizeof m->host);
    field_ok(m->origin, sizeof m->origin);
    field_ok(m->content_type, sizeof m->content_type);
    need(!strchr(m->host, ' ') && !strchr(m->host, '/') && !strchr(m->host, '@'));
    need(r->body_len <= MAX_BODY && r->body == buf + m->head_len);
    need(m->need == m->head_len + r->body_len && m->need <= size && m->head_len <= BRS__HTTP_HEAD_MAX);
    brs__http_head hd; /* the head as the shared parser sees it */
    need(brs__http_head_request(buf, size, BRS__HTTP_HEAD_MAX, BRS__HTTP_TARGET_MAX, &hd) == 1 &&
         hd.len == m->head_len);
    need(strcmp(r->method, "POST") || brs__http_head_field(&hd, buf, "Content-Length", NULL, NULL) >= 1);
    need(brs__http_head_field(&hd, buf, "Host", NULL, NULL) <= 1 && !brs__http_head_field(&hd, buf, "Transfer-Encoding", NULL, NULL));

    /* the server parses prefixes as they arrive: each must ask for more */
    size_t cuts[] = {m->need - 1, m->head_len - 1, m->head_len / 2, m->head_len, m->need / 2};
    size_t total = m->need, head = m->head_len;
    char path[BRS__HTTP_TARGET_MAX + 1], query[BRS__HTTP_TARGET_MAX + 1];
    strcpy(path, r->path);
    strcpy(query, r->query);
    brs__http_msg *m2 = malloc(sizeof *m2);
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        if (cuts[i] >= total)
            continue;
        char *pre = malloc(cuts[i] + 1);
        memcpy(pre, buf, cuts[i]);
        pre[cuts[i]] = 0;
        need(brs__http_parse(pre, cuts[i], MAX_BODY, m2) == 0);
        need(m2->need == (cuts[i] >= head ? total : 0));
        free(pre);
    }
    /* and the exact request alone parses to the same thing */
    char *exact = malloc(total + 1);
    memcpy(exact, buf, total);
    exact[total] = 0;
    need(brs__http_parse(exact, total, MAX_BODY, m2) == 200);
    need(!strcmp(m2->req.path, path) && !strcmp(m2->req.query, query) && m2->req.body_len == r->body_len &&
         !strcmp(m2->host, m->host) && !strcmp(m2->origin, m->origin));
    free(exact);
    free(m2);

    /* the helpers the routes call on what was parsed */
    char v[64];
    const char *keys[] = {"run", "a", "", "id"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (brs__http_query_get(query, keys[i], v, sizeof v))
            need(strlen(v) < sizeof v);
    size_t n = brs__http_urldecode(path);
    need(n <= strlen(r->path));
    int same = brs__http_same_origin(r);
    need(!same || !strncmp(m->host, "127.0.0.1", 9) || !strncmp(m->host, "localhost", 9) ||
         !strncmp(m->host, "[::1]", 5));
    need(!same || !m->origin[0] || !strncmp(m->origin, "http://", 7));
    char host[96];
    int port;
    brs_error err = {0};
    if (brs__parse_hostport(m->host, host, sizeof host, &port, &err) == 0)
        need(port >= 0 && port <= 65535 && memchr(host, 0, sizeof host));
    else
        need(err.msg[0] != 0);
    free(m);
    free(buf);
    return 0;
}
