/* fuzz_http.c: libFuzzer target for the operators' HTTP server's request
 * parser (host/ops/http_req.c over host/ws/http_head.c): any bytes in, either
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BRS__HTTP_HEAD_MAX + MAX_BODY + 64)
        return 0;
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
