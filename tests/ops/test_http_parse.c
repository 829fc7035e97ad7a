/* test_http_parse.c: the operators' HTTP server's request parser
 * (brs__http_parse over ws/http_head.c) as a pure function: each request kind
 * and each refusal with its exact status, every prefix of a valid request
 * asking for more bytes, and the query, percent-decoding and same-origin
 * helpers. The server itself is driven over sockets in test_ops_metrics.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/http.h"

static int parse(const char *s, size_t max_body, brs__http_msg *m)
{
    return brs__http_parse(s, strlen(s), max_body, m);
}

static void test_valid(void **state)
{
    (void)state;
    brs__http_msg m;
    assert_int_equal(parse("GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: 127.0.0.1:8765\r\n\r\n", 100, &m), 200);
    assert_string_equal(m.req.method, "GET");
    assert_string_equal(m.req.path, "/a/b");
    assert_string_equal(m.req.query, "x=1&y=2");
    assert_string_equal(m.req.host, "127.0.0.1:8765");
    assert_string_equal(m.req.origin, "");
    assert_int_equal(m.req.body_len, 0);

    /* LF-only lines, empty lines before the request line, case-insensitive names, OWS trimmed */
    const char *s = "\r\n\nPOST /api/launch HTTP/1.1\nhOsT:\t localhost:1 \ncontent-type: application/json\n"
                    "ORIGIN: http://localhost:1\nContent-Length: 7\n\n{\"a\":1}trailing junk";
    assert_int_equal(parse(s, 100, &m), 200);
    assert_string_equal(m.req.method, "POST");
    assert_string_equal(m.req.host, "localhost:1");
    assert_string_equal(m.req.origin, "http://localhost:1");
    assert_string_equal(m.req.content_type, "application/json");
    assert_int_equal(m.req.body_len, 7);
    assert_memory_equal(m.req.body, "{\"a\":1}", 7);
    assert_int_equal(m.need, strlen(s) - strlen("trailing junk"));

    /* HTTP/1.0 needs no Host; HEAD; a repeated equal Content-Length; an empty query */
    assert_int_equal(parse("HEAD /metrics? HTTP/1.0\r\n\r\n", 100, &m), 200);
    assert_string_equal(m.req.method, "HEAD");
    assert_string_equal(m.req.query, "");
    assert_string_equal(m.req.host, "");
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nab", 100, &m),
                     200);
    assert_int_equal(m.req.body_len, 2);
    /* a body exactly at the limit */
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 3, &m), 200);
    /* a GET with a body takes it, a POST with length 0 too */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz", 3, &m), 200);
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 3, &m), 200);
    assert_int_equal(m.req.body_len, 0);
}

/* Every proper prefix of a complete request asks for more, never refuses. */
static void test_prefixes(void **state)
{
    (void)state;
    const char *reqs[] = {
        "GET /a?b=c HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\n\r\n",
        "\r\nPOST /p HTTP/1.0\nContent-Length: 5\n\nhello",
        "POST /p HTTP/1.1\r\nHost: [::1]:9\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nxyz",
    };
    for (size_t k = 0; k < sizeof reqs / sizeof *reqs; k++) {
        size_t n = strlen(reqs[k]);
        brs__http_msg m;
        assert_int_equal(brs__http_parse(reqs[k], n, 16, &m), 200);
        size_t need = m.need, head = m.head_len;
        assert_int_equal(need, n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(brs__http_parse(reqs[k], i, 16, &m), 0);
            /* the whole size is known as soon as the head is in */
            assert_int_equal(m.need, i >= head ? need : 0);
        }
    }
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"garbage\r\n\r\n", 400},
        {"GET\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400},        /* trailing space */
        {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},         /* two spaces */
        {"GET / HTTP/1.1\rHost: x\r\n\r\n", 400},            /* a CR alone */
        {"GET /\t HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1x\r\nHost: x\r\n\r\n", 400},
        {"GET / http/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /", 0},                                        /* not complete: more */
        {"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},  /* absolute-form */
        {"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},                     /* no Host in 1.1 */
        {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nOrigin: a\r\nOrigin: b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: evil.com/x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},         /* space before ':' */
        {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\nz", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\nz", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nzz", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nzz", 400},
        {"PUT / HTTP/1.1\r\nHost: x\r\n\r\n", 405},
        {"get / HTTP/1.1\r\nHost: x\r\n\r\n", 405},
        {"POST / HTTP/1.1\r\nHost: x\r\n\r\n", 411},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 200-ok\r\n\r\nz", 417},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\nz", 400},
        {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505},
        {"\x00GET / HTTP/1.1\r\n", 400}, /* a NUL refuses at once, before the head is in */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        brs__http_msg m;
        size_t n = cases[i].req[0] ? strlen(cases[i].req) : 17;
        int st = brs__http_parse(cases[i].req, n, 16, &m);
        if (st != cases[i].status)
            fprintf(stderr, "case %zu: %s -> %d\n", i, cases[i].req, st);
        assert_int_equal(st, cases[i].status);
        /* every refusal carries its reason (logged, and sent in the answer); "more" none */
        if (st)
            assert_non_null(m.why);
        else
            assert_null(m.why);
    }
    brs__http_msg m;
    const char *two = "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n";
    assert_int_equal(brs__http_parse(two, strlen(two), 16, &m), 400);
    assert_string_equal(m.why, "two Host fields");
    /* Expect: 100-continue with the body still to come: "more", flagged so the
     * server answers 100 first; with no body to come, nothing to answer */
    const char *ex = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nexpect: 100-Continue\r\n\r\n";
    assert_int_equal(brs__http_parse(ex, strlen(ex), 16, &m), 0);
    assert_int_equal(m.expect_continue, 1);
    const char *ex0 = "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n";
    assert_int_equal(brs__http_parse(ex0, strlen(ex0), 16, &m), 200);
    assert_int_equal(m.expect_continue, 0);
    const char *te = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_int_equal(brs__http_parse(te, strlen(te), 16, &m), 501);
    assert_string_equal(m.why, "Transfer-Encoding is not taken");
}

static void test_limits(void **state)
{
    (void)state;
    brs__http_msg m;
    size_t cap = BRS__HTTP_HEAD_MAX + 4096;
    char *b = malloc(cap);
    /* a target one byte over the limit: 414; at the limit: fine */
    for (int over = 0; over <= 1; over++) {
        int n = snprintf(b, cap, "GET /");
        memset(b + n, 'a', BRS__HTTP_TARGET_MAX - 1 + (size_t)over);
        n += BRS__HTTP_TARGET_MAX - 1 + over;
        n += snprintf(b + n, cap - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_int_equal(brs__http_parse(b, (size_t)n, 0, &m), over ? 414 : 200);
        if (!over)
            assert_int_equal(strlen(m.req.path), BRS__HTTP_TARGET_MAX);
    }
    /* a head that never ends: 431 once the limit is reached, more before */
    int n = snprintf(b, cap, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
    memset(b + n, 'a', cap - (size_t)n);
    assert_int_equal(brs__http_parse(b, BRS__HTTP_HEAD_MAX - 1, 0, &m), 0);
    assert_int_equal(brs__http_parse(b, BRS__HTTP_HEAD_MAX, 0, &m), 431);
    assert_int_equal(brs__http_parse(b, cap, 0, &m), 431);
    /* a complete head whose end lies past the limit: 431 too */
    memcpy(b + BRS__HTTP_HEAD_MAX + 10, "\r\n\r\n", 4);
    assert_int_equal(brs__http_parse(b, BRS__HTTP_HEAD_MAX + 14, 0, &m), 431);
    /* 65 fields */
    n = snprintf(b, cap, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 64; i++)
        n += snprintf(b + n, cap - (size_t)n, "X%d: y\r\n", i);
    n += snprintf(b + n, cap - (size_t)n, "\r\n");
    assert_int_equal(brs__http_parse(b, (size_t)n, 0, &m), 431);
    /* a Host, Origin or Content-Type longer than its field */
    const char *names[] = {"Host", "Origin", "Content-Type"};
    size_t caps[] = {sizeof m.host, sizeof m.origin, sizeof m.content_type};
    for (int k = 0; k < 3; k++) {
        for (int over = 0; over <= 1; over++) {
            n = snprintf(b, cap, "GET / HTTP/1.0\r\n%s: ", names[k]);
            memset(b + n, 'h', caps[k] - 1 + (size_t)over);
            n += (int)caps[k] - 1 + over;
            n += snprintf(b + n, cap - (size_t)n, "\r\n\r\n");
            assert_int_equal(brs__http_parse(b, (size_t)n, 0, &m), over ? 431 : 200);
        }
    }
    free(b);
}

static void test_helpers(void **state)
{
    (void)state;
    char q[8], s[32];
    assert_true(brs__http_query_get("a=1&run=x%2Fy+z&b=", "run", s, sizeof s));
    assert_string_equal(s, "x/y z");
    assert_true(brs__http_query_get("a=1&b=", "b", s, sizeof s)); /* present, empty */
    assert_string_equal(s, "");
    assert_true(brs__http_query_get("run=0123456789", "run", q, sizeof q)); /* cut to the buffer */
    assert_string_equal(q, "0123456");
    assert_false(brs__http_query_get("arun=1&run", "run", q, sizeof q));
    strcpy(s, "%41%4a%zz%4+%");
    assert_int_equal(brs__http_urldecode(s), 9);
    assert_string_equal(s, "AJ%zz%4 %");

    brs__http_req rq = {.host = "127.0.0.1:8765", .origin = ""};
    assert_true(brs__http_same_origin(&rq));
    rq.origin = "http://127.0.0.1:8765";
    assert_true(brs__http_same_origin(&rq));
    rq.origin = "http://evil.example";
    assert_false(brs__http_same_origin(&rq));
    rq.origin = "";
    const char *ok[] = {"localhost", "localhost:1", "[::1]:9464", "[::1]", "127.0.0.1"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        rq.host = ok[i];
        assert_true(brs__http_same_origin(&rq));
    }
    const char *bad[] = {"evil.example", "localhost.evil.example", "127.0.0.1.evil", "localhost:",
                         "localhost:80x", "127.0.0.1:99999999", "[::1]x", "", "LOCALHOST:1x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rq.host = bad[i];
        if (brs__http_same_origin(&rq))
            fprintf(stderr, "host %s passed\n", bad[i]);
        assert_false(brs__http_same_origin(&rq));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
