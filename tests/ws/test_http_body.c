/* test_http_body.c: HTTP/1.x response bodies (host/ws/http_body.c) and the
 * client GET over them (net.c). Each framing and each refusal by name; random
 * chunked bodies (sizes, extensions, trailers, CRLF or bare LF) decoded
 * against the bytes they encode, fed whole, a byte at a time and split at
 * random points; then brs__http_get against a loopback server that writes
 * its answer in pieces: a chunked body whose chunks straddle reads (the
 * decoder before this one re-parsed its own output and refused it), an
 * interim 100, a head that never ends (refused at the head limit, not read
 * to the body limit), a close in the middle of a body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/rng.h"
#include "ws/http_body.h"
#include "ws/http_head.h"
#include "ws/net.h"

/* Parse the head, frame and decode the body, feeding `split` bytes per step
 * (0: all at once). Returns the step's final code; the body in out. */
static int decode(const char *resp, size_t n, size_t split, size_t max_body, char **out, size_t *out_len,
                  const char **why)
{
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    size_t len = 0, head = 0, have = 0, blen = 0;
    brs__http_body b;
    int rc = 0;
    *why = "";
    size_t pos = 0;
    for (;;) {
        size_t k = split ? split : n;
        if (k > n - pos)
            k = n - pos;
        memcpy(buf + len, resp + pos, k);
        len += k;
        pos += k;
        int eof = pos == n;
        if (!head) {
            brs__http_head h;
            int hr = brs__http_head_response(buf, len, 65536, &h);
            if (hr < 0) {
                rc = -3;
                break;
            }
            if (hr == 0) {
                if (eof) {
                    rc = -4;
                    break;
                }
                continue;
            }
            int ir = brs__http_body_init(&b, &h, buf, max_body, why);
            if (ir) {
                rc = ir;
                break;
            }
            head = h.len;
        }
        have = len - head;
        rc = brs__http_body_step(&b, buf + head, &have, eof, &blen, why);
        len = head + have;
        if (rc != 0 || eof)
            break;
    }
    *out = NULL;
    *out_len = blen;
    if (rc == 1) { /* a copy of its own, so the caller frees it */
        *out = malloc(blen + 1);
        assert_non_null(*out);
        memcpy(*out, buf + head, blen);
    }
    free(buf);
    return rc;
}

static void expect_body(const char *resp, const char *body)
{
    size_t n = strlen(resp);
    for (size_t split = 0; split <= n; split += split < 8 ? 1 : 7) {
        char *out;
        size_t ol;
        const char *why;
        int rc = decode(resp, n, split, 1 << 20, &out, &ol, &why);
        if (rc != 1)
            fail_msg("split %zu: rc %d (%s) for %s", split, rc, why, resp);
        assert_int_equal(ol, strlen(body));
        assert_memory_equal(out, body, ol);
        free(out);
    }
}

static void expect_refused(const char *resp, size_t max_body, int want, const char *why_part)
{
    char *out;
    size_t ol;
    const char *why;
    int rc = decode(resp, strlen(resp), 0, max_body, &out, &ol, &why);
    if (rc != want || !strstr(why, why_part))
        fail_msg("rc %d (%s), wanted %d (%s) for %s", rc, why, want, why_part, resp);
    /* and split a byte at a time: the same answer */
    rc = decode(resp, strlen(resp), 1, max_body, &out, &ol, &why);
    if (rc != want || !strstr(why, why_part))
        fail_msg("byte at a time: rc %d (%s), wanted %d (%s) for %s", rc, why, want, why_part, resp);
}

static void test_framings(void **state)
{
    (void)state;
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello");
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhelloEXTRA", "hello");
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "");
    expect_body("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the close", "until the close");
    expect_body("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", "");
    expect_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                "hello world");
    /* extensions, upper-case hex, leading zeros, bare LF, trailers; chunked wins over a Content-Length */
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: Chunked\r\n\r\n"
                "00A ; name=\"v\"\r\n0123456789\nB;x\r\nabcdefghijk\r\n0;last\r\nX-Sum: 1\r\nX-T: 2\n\r\n",
                "0123456789abcdefghijk");
    expect_body("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", "abc");
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", 100, -1, "decimal");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 100, -1, "decimal");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 100, -1, "empty");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 100, -1, "too large");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 100, -1, "disagree");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 100, -2, "limit");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 100, -1, "cut short");
    expect_refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 100, -1, "only chunked");
    expect_refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 100, -1,
                   "only chunked");
    expect_refused("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789", 5, -2, "limit");
    const char *te = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char r[16384];
    snprintf(r, sizeof r, "%sx\r\n", te);
    expect_refused(r, 100, -1, "bad chunk size");
    snprintf(r, sizeof r, "%s5 x\r\nhello\r\n0\r\n\r\n", te);
    expect_refused(r, 100, -1, "bad chunk size");
    snprintf(r, sizeof r, "%s5\rhello\r\n0\r\n\r\n", te);
    expect_refused(r, 100, -1, "CR without LF");
    snprintf(r, sizeof r, "%s5\r\nhelloX\r\n0\r\n\r\n", te);
    expect_refused(r, 100, -1, "not followed by CRLF");
    snprintf(r, sizeof r, "%s65\r\n", te);
    expect_refused(r, 100, -2, "limit");
    snprintf(r, sizeof r, "%s3;a\x01\r\nabc\r\n0\r\n\r\n", te);
    expect_refused(r, 100, -1, "control byte");
    snprintf(r, sizeof r, "%sfffffffffffffffff\r\n", te);
    expect_refused(r, 100, -2, "too large");
    snprintf(r, sizeof r, "%s5\r\nhel", te);
    expect_refused(r, 100, -1, "cut short");
    snprintf(r, sizeof r, "%s0\r\nX: 1\r\n", te); /* trailers not ended */
    expect_refused(r, 100, -1, "cut short");
    size_t n = (size_t)snprintf(r, sizeof r, "%s", te);
    memset(r + n, '0', 5000); /* a size line of 5,000 zeros */
    strcpy(r + n + 5000, "\r\n");
    expect_refused(r, 100, -1, "line too long");
    char *big = malloc(40000);
    n = (size_t)snprintf(big, 40000, "%s0\r\n", te);
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(big + n, 40000 - n, "X-Trailer: %04d\r\n", i);
    strcpy(big + n, "\r\n");
    expect_refused(big, 100, -1, "trailer section too long");
    free(big);
}

static uint64_t rng_s = 0x9e3779b97f4a7c15u;
static uint64_t RND(void) { return brs_test_rand(&rng_s); }

/* Random chunked encodings of random bodies, decoded whole, byte by byte and
 * at random splits, against the body itself. */
static void test_chunked_property(void **state)
{
    (void)state;
    char *enc = malloc(1 << 20), *body = malloc(1 << 18);
    for (int iter = 0; iter < 400; iter++) {
        size_t blen = RND() % 20000;
        for (size_t i = 0; i < blen; i++)
            body[i] = (char)(RND() & 0xff); /* any bytes, CR and LF included */
        int lf = RND() % 4 == 0;
        const char *eol = lf ? "\n" : "\r\n";
        size_t n = (size_t)sprintf(enc, "HTTP/1.1 200 OK%sTransfer-Encoding: chunked%s%s", eol, eol, eol);
        size_t at = 0;
        while (at < blen) {
            size_t cmax = RND() % 3 ? 64 : 5000;
            size_t c = 1 + RND() % cmax;
            if (c > blen - at)
                c = blen - at;
            n += (size_t)sprintf(enc + n, RND() % 2 ? "%zx" : "%zX", c);
            if (RND() % 5 == 0)
                n += (size_t)sprintf(enc + n, " ;ext=%d", (int)(RND() % 100));
            n += (size_t)sprintf(enc + n, "%s", eol);
            memcpy(enc + n, body + at, c);
            n += c;
            at += c;
            n += (size_t)sprintf(enc + n, "%s", eol);
        }
        n += (size_t)sprintf(enc + n, "0%s", eol);
        for (int t = (int)(RND() % 3); t > 0; t--)
            n += (size_t)sprintf(enc + n, "X-T%d: v%s", t, eol);
        n += (size_t)sprintf(enc + n, "%s", eol);
        size_t splits[3] = {0, 1, 1 + RND() % 300};
        for (int k = 0; k < 3; k++) {
            if (splits[k] == 1 && n > 60000)
                continue;
            char *out;
            size_t ol;
            const char *why;
            int rc = decode(enc, n, splits[k], 1 << 18, &out, &ol, &why);
            if (rc != 1)
                fail_msg("iteration %d split %zu: rc %d (%s)", iter, splits[k], rc, why);
            assert_int_equal(ol, blen);
            assert_memory_equal(out, body, blen);
            free(out);
        }
    }
    free(enc);
    free(body);
}

/* ---- brs__http_get against a loopback server writing in pieces ---------- */

typedef struct {
    int lfd;
    const char *const *pieces; /* NULL-terminated; "" = pause */
} server_arg;

static void *serve(void *p)
{
    server_arg *a = p;
    int fd = accept(a->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char req[4096];
    (void)!read(fd, req, sizeof req);
    for (const char *const *pc = a->pieces; *pc; pc++) {
        if (!**pc) {
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
            continue;
        }
        if (send(fd, *pc, strlen(*pc), MSG_NOSIGNAL) < 0) /* the client may have refused and closed */
            break;
    }
    close(fd);
    return NULL;
}

/* Run a GET against pieces; the final code, the error text, the body. */
static int get(const char *const *pieces, size_t max_body, char *msg, size_t msgcap, char **body, size_t *blen,
               int *status)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 1), 0);
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    server_arg a = {lfd, pieces};
    pthread_t th;
    pthread_create(&th, NULL, serve, &a);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(sa.sin_port));
    brs__http_get g;
    brs_error err = {0};
    int64_t deadline = brs__monotime_ns() + 10 * 1000000000LL;
    int rc = brs__http_get_start(&g, url, NULL, max_body, deadline, &err);
    while (rc == BRS_OK || rc == BRS_E_AGAIN) {
        rc = brs__http_get_step(&g, brs__monotime_ns(), &err);
        if (rc != BRS_E_AGAIN)
            break;
        nanosleep(&(struct timespec){0, 200 * 1000}, NULL);
    }
    snprintf(msg, msgcap, "%s", rc == BRS_OK ? "" : err.msg);
    if (rc == BRS_OK) {
        *body = malloc(g.body_len + 1);
        memcpy(*body, g.body, g.body_len + 1);
        *blen = g.body_len;
        *status = g.status;
    }
    brs__http_get_free(&g);
    pthread_join(th, NULL);
    close(lfd);
    return rc;
}

static void test_get_pieces(void **state)
{
    (void)state;
    char msg[512], *body;
    size_t bl;
    int st;
    /* chunks straddling reads, two chunks in the first read */
    static const char *const chunked[] = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nwor",
                                          "", "ld\r\n", "", "3\r", "", "\n!!!\r\n0\r\n\r\n", NULL};
    assert_int_equal(get(chunked, 1 << 20, msg, sizeof msg, &body, &bl, &st), BRS_OK);
    assert_int_equal(st, 200);
    assert_string_equal(body, "helloworld!!!");
    free(body);
    /* an interim 100 before the answer, the head split mid-field */
    static const char *const interim[] = {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Fo", "",
                                          "und\r\nContent-Len", "", "gth: 4\r\n\r\nnope", NULL};
    assert_int_equal(get(interim, 1 << 20, msg, sizeof msg, &body, &bl, &st), BRS_OK);
    assert_int_equal(st, 404);
    assert_string_equal(body, "nope");
    free(body);
    /* a head that never ends: refused at the head limit, long before the body limit */
    char *junk = malloc(200001);
    memcpy(junk, "HTTP/1.1 200 OK\r\n", 17);
    for (int i = 17; i < 200000; i++)
        junk[i] = i % 60 == 0 ? '\n' : 'a';
    junk[200000] = 0;
    static const char *pieces[3];
    pieces[0] = junk;
    pieces[1] = NULL;
    assert_int_equal(get(pieces, 64u << 20, msg, sizeof msg, &body, &bl, &st), BRS_E_PROTOCOL);
    assert_non_null(strstr(msg, "malformed head or over 65536 bytes"));
    free(junk);
    /* the server closes in the middle of a Content-Length body */
    static const char *const cut[] = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "", NULL};
    assert_int_equal(get(cut, 1 << 20, msg, sizeof msg, &body, &bl, &st), BRS_E_TRUNCATED);
    assert_non_null(strstr(msg, "cut short"));
    /* a chunked body past the limit, refused at the chunk's size line */
    static const char *const over[] = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", NULL};
    assert_int_equal(get(over, 1000, msg, sizeof msg, &body, &bl, &st), BRS_E_LIMIT);
    assert_non_null(strstr(msg, "exceeds the body limit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framings),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_chunked_property),
        cmocka_unit_test(test_get_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
