/* test_ops_metrics.c: the metrics registry and the operators' HTTP server:
 * exposition text checked line by line and by Debian's `promtool check metrics`,
 * histogram buckets against a reference count, label/name validation, an
 * HTTP server that keeps answering while a silent client holds a connection,
 * and its tick running as soon as it is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "ops/http.h"
#include "ops/metrics.h"

__attribute__((noinline)) static char *render(brs__mreg *r)
{
    char *out = NULL;
    size_t len = 0;
    brs_error err = {0};
    assert_int_equal(brs__mreg_render(r, &out, &len, &err), 0);
    assert_int_equal(strlen(out), len);
    return out;
}

static void test_exposition(void **state)
{
    (void)state;
    brs__mreg *r = brs__mreg_new();
    brs__counter *orders = brs__mreg_counter(r, "bourse_orders_total", "Orders received.", "protocol=fix");
    brs__counter *rej_risk = brs__mreg_counter(r, "bourse_rejects_total", "Orders rejected.", "reason=risk");
    brs__counter *rej_px = brs__mreg_counter(r, "bourse_rejects_total", "Orders rejected.", "reason=price");
    brs__gauge *open = brs__mreg_gauge(r, "bourse_open_orders", "Orders resting.", NULL);
    double bounds[] = {0.001, 0.01, 0.1};
    brs__histogram *lat = brs__mreg_histogram(r, "bourse_ack_latency_seconds", "Order to ack.", NULL, bounds, 3);
    assert_non_null(orders);
    assert_non_null(rej_risk);
    assert_non_null(rej_px);
    assert_non_null(open);
    assert_non_null(lat);
    /* the same series twice is the same pointer; another type under the name is refused */
    assert_ptr_equal(brs__mreg_counter(r, "bourse_orders_total", "Orders received.", "protocol=fix"), orders);
    assert_null(brs__mreg_gauge(r, "bourse_orders_total", "x", NULL));
    assert_null(brs__mreg_counter(r, "bad-name", "x", NULL));
    assert_null(brs__mreg_counter(r, "bourse_x_total", "x", "9bad=1"));
    assert_null(brs__mreg_counter(r, "bourse_x_total", "x", "k=has\"quote"));
    assert_int_equal(brs__mreg_add_process(r), 0);

    for (int i = 0; i < 5; i++)
        brs__counter_inc(orders);
    brs__counter_add(rej_px, 2);
    brs__gauge_set(open, 3);
    brs__gauge_add(open, -0.5);
    /* 1 ms falls in le=0.001 (upper bounds are inclusive), 5 ms in 0.01, 2 s in +Inf */
    int64_t obs[] = {1000000, 5000000, 5000000, 2000000000, -7};
    for (size_t i = 0; i < BRS__ARRAY_LEN(obs); i++)
        brs__hist_observe_ns(lat, obs[i]);

    char *t = render(r);
    assert_non_null(strstr(t, "# HELP bourse_orders_total Orders received.\n# TYPE bourse_orders_total counter\n"
                              "bourse_orders_total{protocol=\"fix\"} 5\n"));
    assert_non_null(strstr(t, "bourse_rejects_total{reason=\"risk\"} 0\nbourse_rejects_total{reason=\"price\"} 2\n"));
    assert_non_null(strstr(t, "# TYPE bourse_open_orders gauge\nbourse_open_orders 2.5\n"));
    assert_non_null(strstr(t, "bourse_ack_latency_seconds_bucket{le=\"0.001\"} 2\n" /* 1 ms and the clamped -7 */
                              "bourse_ack_latency_seconds_bucket{le=\"0.01\"} 4\n"
                              "bourse_ack_latency_seconds_bucket{le=\"0.1\"} 4\n"
                              "bourse_ack_latency_seconds_bucket{le=\"+Inf\"} 5\n"
                              "bourse_ack_latency_seconds_sum 2.011\n"
                              "bourse_ack_latency_seconds_count 5\n"));
    assert_non_null(strstr(t, "# TYPE process_cpu_seconds_total counter\n"));
    assert_non_null(strstr(t, "bourse_build_info{version=\""));
    /* resident memory is a real figure from /proc */
    const char *rss = strstr(t, "\nprocess_resident_memory_bytes ");
    assert_non_null(rss);
    assert_true(strtod(rss + 31, NULL) > 1e5);

    /* Prometheus's own linter: write the exposition and run promtool on it */
    char path[64];
    snprintf(path, sizeof path, "/tmp/brs-metrics-%d.txt", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(t, fp);
    fclose(fp);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIP promtool part: Debian's prometheus (promtool) is not installed\n");
    } else {
        FILE *p = popen(cmd, "r");
        char out[4096] = "";
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        int st = pclose(p);
        if (st != 0)
            fprintf(stderr, "promtool says:\n%s\n", out);
        assert_int_equal(st, 0);
    }
    unlink(path);
    free(t);
    brs__mreg_free(r);
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

__attribute__((noinline)) static char *get(int port, const char *req)
{
    int fd = connect_port(port);
    assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (ssize_t r; (r = read(fd, buf + n, cap - 1 - n)) > 0;)
        n += (size_t)r;
    buf[n] = 0;
    close(fd);
    return buf;
}

static int hello(void *ctx, const brs__http_req *rq, brs__http_resp *resp)
{
    (void)ctx;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s path=%s query=%s body=%s", rq->method, rq->path, rq->query, rq->body);
    resp->body = strdup(tmp);
    resp->len = strlen(tmp);
    resp->content_type = "text/html; charset=utf-8";
    return 0;
}

/* The bucket an observation lands in, against the plain definition (the
 * first bound >= the value, else +Inf) on random bounds (dense, sparse, with
 * a 0 bound, the default ones) and values at, around and between them; n
 * observations at once (brs__hist_observe_n_ns) add n there and n times the
 * value to the sum. */
static void test_hist_buckets(void **state)
{
    (void)state;
    srand(18);
    for (int trial = 0; trial < 300; trial++) {
        brs__mreg *r = brs__mreg_new();
        assert_non_null(r);
        double b[BRS__HIST_MAX_BUCKETS];
        int n = trial == 0 ? 0 : 1 + rand() % BRS__HIST_MAX_BUCKETS;
        double x = trial % 3 == 0 ? 0 : 1e-9 * (1 + rand() % 1000);
        for (int i = 0; i < n; i++) {
            b[i] = x;
            x += x * (0.05 + 4.0 * rand() / (double)RAND_MAX) + 1e-9;
        }
        char name[64];
        snprintf(name, sizeof name, "bourse_t%d_seconds", trial);
        brs__histogram *h = brs__mreg_histogram(r, name, "t", NULL, n ? b : NULL, n);
        assert_non_null(h);
        int nb = h->n;
        for (int k = 0; k < 400; k++) {
            int64_t v;
            int j = rand() % (nb ? nb : 1);
            switch (k % 5) {
            case 0: v = nb ? h->bound_ns[j] : 0; break;
            case 1: v = nb ? h->bound_ns[j] + 1 : 1; break;
            case 2: v = nb ? h->bound_ns[j] - 1 : -1; break;
            case 3: v = (int64_t)((uint64_t)rand() << (rand() % 40)); break;
            default: v = k == 4 ? INT64_MAX : rand() % 3; break;
            }
            int want = 0;
            int64_t c = v < 0 ? 0 : v;
            while (want < nb && c > h->bound_ns[want])
                want++;
            uint64_t before[BRS__HIST_MAX_BUCKETS + 1], sum0 = h->sum_ns;
            for (int i = 0; i <= nb; i++)
                before[i] = h->bucket[i];
            /* one observation, or n at once (a FIX loop turn's orders) */
            uint64_t times = k % 2 ? 1 : (uint64_t)(rand() % 5);
            if (k % 2)
                brs__hist_observe_ns(h, v);
            else
                brs__hist_observe_n_ns(h, v, times);
            for (int i = 0; i <= nb; i++)
                if (h->bucket[i] != before[i] + (i == want ? times : 0))
                    fail_msg("trial %d: %lld x%llu went to the wrong bucket (want %d of %d)", trial, (long long)v,
                             (unsigned long long)times, want, nb);
            if (h->sum_ns != sum0 + (uint64_t)c * times)
                fail_msg("trial %d: %lld x%llu: sum %llu, want %llu", trial, (long long)v, (unsigned long long)times,
                         (unsigned long long)h->sum_ns, (unsigned long long)(sum0 + (uint64_t)c * times));
        }
        brs__mreg_free(r);
    }
}

static void test_http(void **state)
{
    (void)state;
    brs__mreg *r = brs__mreg_new();
    brs__counter *c = brs__mreg_counter(r, "bourse_fills_total", "Fills.", NULL);
    brs__counter_add(c, 7);
    brs__http *h = NULL;
    brs_error err = {0};
    brs__http_opts o = {.listen = "127.0.0.1:0", .metrics = r, .timeout_ms = 5000};
    assert_int_equal(brs__http_start(&h, &o, &err), 0);
    int port = brs__http_port(h);
    assert_true(port > 0);
    assert_int_equal(brs__http_route(h, "/dash", hello, NULL), 0);

    /* a client that connects and says nothing does not hold up the others */
    int idle = connect_port(port);
    char *m = get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(m, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(m, "\r\n\r\n# HELP bourse_fills_total Fills.\n"));
    assert_non_null(strstr(m, "bourse_fills_total 7\n"));
    free(m);
    m = get(port, "GET /dash/x?a=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(m, "\r\n\r\nGET path=/dash/x query=a=1 body="));
    free(m);
    m = get(port, "POST /dash/y HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\n{\"a\":1}");
    assert_non_null(strstr(m, "\r\n\r\nPOST path=/dash/y query= body={\"a\":1}"));
    free(m);
    m = get(port, "POST /dash/y HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 411 "));
    free(m);
    m = get(port, "POST /dash/y HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 413 "));
    free(m);
    char q[64];
    assert_true(brs__http_query_get("a=1&run=x%2Fy+z&b=", "run", q, sizeof q));
    assert_string_equal(q, "x/y z");
    assert_false(brs__http_query_get("a=1", "run", q, sizeof q));
    m = get(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 404 "));
    free(m);
    m = get(port, "PUT /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 405 "));
    assert_non_null(strstr(m, "\r\nAllow: GET, HEAD, POST\r\n")); /* a 405 names what is allowed */
    free(m);
    m = get(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx");
    assert_non_null(strstr(m, "HTTP/1.1 405 "));
    assert_non_null(strstr(m, "\r\nAllow: GET, HEAD\r\n"));
    free(m);
    m = get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_null(strstr(m, "Allow:"));
    free(m);
    /* Expect: 100-continue (curl's for bodies over 1 KB): the interim answer
     * comes after the head and before the body is sent, then the response */
    {
        int fd = connect_port(port);
        const char *head = "POST /dash/c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
        assert_true(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
        char cont[64] = {0};
        size_t got = 0;
        while (got < 25) {
            ssize_t k = read(fd, cont + got, sizeof cont - 1 - got);
            assert_true(k > 0);
            got += (size_t)k;
        }
        assert_string_equal(cont, "HTTP/1.1 100 Continue\r\n\r\n");
        assert_true(write(fd, "hello", 5) == 5);
        char buf[4096];
        size_t n = 0;
        for (ssize_t k; (k = read(fd, buf + n, sizeof buf - 1 - n)) > 0;)
            n += (size_t)k;
        buf[n] = 0;
        close(fd);
        assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
        assert_non_null(strstr(buf, "\r\n\r\nPOST path=/dash/c query= body=hello"));
    }
    m = get(port, "POST /dash/c HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 200-ok\r\n\r\nx");
    assert_non_null(strstr(m, "HTTP/1.1 417 Expectation Failed\r\n"));
    free(m);
    m = get(port, "garbage\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 400 "));
    free(m);
    m = get(port, "GET /metrics HTTP/1.1\r\n\r\n"); /* HTTP/1.1 without Host */
    assert_non_null(strstr(m, "HTTP/1.1 400 Bad Request\r\n"));
    free(m);
    m = get(port, "GET /metrics HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 200 "));
    free(m);
    /* a body over the buffer's first 8 KiB: the buffer grows to the announced length */
    size_t blen = 20000;
    char *big_post = malloc(blen + 200);
    int hl = snprintf(big_post, 200, "POST /dash/z HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", blen);
    memset(big_post + hl, 'b', blen);
    big_post[hl + blen] = 0;
    m = get(port, big_post);
    assert_non_null(strstr(m, "\r\n\r\nPOST path=/dash/z query= body=bbbb"));
    free(m);
    free(big_post);
    m = get(port, "POST /dash/y HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 501 Not Implemented\r\n"));
    free(m);
    m = get(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(m, "HTTP/1.1 200 "));
    assert_null(strstr(m, "bourse_fills_total 7"));
    free(m);
    /* an endless header is cut at the request limit, not buffered for ever */
    char big[10000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
    m = get(port, big);
    assert_non_null(strstr(m, "HTTP/1.1 431 "));
    free(m);
    close(idle);
    brs__http_stop(h);
    brs__mreg_free(r);

    char host[64];
    int p2;
    assert_int_equal(brs__parse_hostport("[::1]:9464", host, sizeof host, &p2, &err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(p2, 9464);
    assert_int_not_equal(brs__parse_hostport("localhost", host, sizeof host, &p2, &err), 0);
    assert_int_not_equal(brs__parse_hostport("1.2.3.4:99999", host, sizeof host, &p2, &err), 0);
}

static void count_tick(void *ctx) { atomic_fetch_add((_Atomic int *)ctx, 1); }

/* A tick set after the server started runs when set: the thread was in a
 * poll of up to a second when nothing else was due, and the tick waited for
 * its end. (A bound in ms of a wake-up, not a speed: 600 ms against the old
 * ~900.) Then it keeps running, about once a second with no stream open. */
static void test_http_tick(void **state)
{
    (void)state;
    brs__http *h = NULL;
    brs_error err = {0};
    brs__http_opts o = {.listen = "127.0.0.1:0"};
    assert_int_equal(brs__http_start(&h, &o, &err), 0);
    usleep(100000); /* the server's thread is in its idle poll */
    static _Atomic int ticks;
    int64_t t0 = brs__monotime_ns();
    brs__http_set_tick(h, count_tick, (void *)&ticks);
    while (atomic_load(&ticks) == 0 && brs__monotime_ns() - t0 < 3000000000LL)
        usleep(1000);
    int64_t first_ms = (brs__monotime_ns() - t0) / 1000000;
    if (atomic_load(&ticks) == 0 || first_ms >= 600)
        fail_msg("the tick first ran %lld ms after it was set (ticks %d)", (long long)first_ms, atomic_load(&ticks));
    while (atomic_load(&ticks) < 2 && brs__monotime_ns() - t0 < 5000000000LL)
        usleep(10000);
    assert_true(atomic_load(&ticks) >= 2);
    brs__http_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exposition),
        cmocka_unit_test(test_hist_buckets),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_http_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
