/* test_ws.c: the WebSocket client and the live Binance session against a real
 * server on loopback (tests/ws/binance_replay.py on python3-websockets): the
 * recorded session replayed and the book compared with the server's own; a
 * dropped connection, reconnect and resync; protocol violations closed with
 * 1002/1007/1009; fragmentation, ping/pong. Bounded in time. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "feeds/binance_live.h"
#include "ws/ws.h"

#include "replay_server.h"

/* ---- unit pieces --------------------------------------------------------- */

static void test_utf8(void **st)
{
    (void)st;
    assert_true(brs__utf8_valid("", 0));
    assert_true(brs__utf8_valid("plain ascii text, long enough for the fast path", 47));
    assert_true(brs__utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    assert_false(brs__utf8_valid("\xc3\x28", 2));
    assert_false(brs__utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(brs__utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(brs__utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(brs__utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(brs__utf8_valid("\xe2\x82", 2));         /* cut short */
    assert_false(brs__utf8_valid("abcdefgh\xff", 9));
}

static void test_url(void **st)
{
    (void)st;
    brs__url u;
    brs_error e;
    assert_int_equal(brs__url_parse("wss://fstream.binance.com/stream?streams=a/b", &u, &e), BRS_OK);
    assert_true(u.tls && u.ws);
    assert_string_equal(u.host, "fstream.binance.com");
    assert_string_equal(u.port, "443");
    assert_string_equal(u.path, "/stream?streams=a/b");
    assert_int_equal(brs__url_parse("ws://127.0.0.1:9000", &u, &e), BRS_OK);
    assert_string_equal(u.port, "9000");
    assert_string_equal(u.path, "/");
    assert_int_equal(brs__url_parse("http://[::1]:80/x", &u, &e), BRS_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(brs__url_parse("ftp://x", &u, &e), BRS_E_INVAL);
    assert_int_equal(brs__url_parse("ws://:80/", &u, &e), BRS_E_INVAL);
    assert_int_equal(brs__url_parse("ws://h:99999/", &u, &e), BRS_E_INVAL);
    assert_int_equal(brs__url_parse("ws://h/a b", &u, &e), BRS_E_INVAL);
}

static void test_refused(void **st)
{
    (void)st;
    /* nothing listens: the client backs off and keeps trying, without blocking */
    brs__ws ws;
    brs__ws_opts o = {.url = "ws://127.0.0.1:1/", .backoff_min_ns = 1000000, .backoff_max_ns = 4000000};
    brs_error e;
    assert_int_equal(brs__ws_init(&ws, &o, NULL, NULL, &e), BRS_OK);
    int64_t end = brs__monotime_ns() + 300000000LL;
    while (brs__monotime_ns() < end) {
        assert_int_equal(brs__ws_step(&ws, brs__monotime_ns()), BRS_OK);
        usleep(1000);
    }
    assert_int_equal(ws.n_connects, 0);
    assert_true(ws.last_error[0] != '\0');
    assert_true(ws.state == BRS__WS_BACKOFF || ws.state == BRS__WS_CONNECTING);
    brs__ws_free(&ws);
}

/* ---- protocol violations --------------------------------------------------- */

typedef struct wsrec {
    int messages, binary, closes, last_code;
    char text[256];
} wsrec;

static void on_msg(void *ud, brs__ws *ws, int binary, const char *data, size_t len, int64_t t)
{
    (void)ws, (void)t;
    wsrec *r = ud;
    r->messages++;
    if (binary)
        r->binary++;
    else
        snprintf(r->text, sizeof r->text, "%.*s", (int)len, data);
}

static void on_close(void *ud, brs__ws *ws, int code, const char *reason)
{
    (void)ws, (void)reason;
    wsrec *r = ud;
    r->closes++;
    r->last_code = code;
}

static void run_until_closed(brs__ws *ws, double seconds)
{
    int64_t end = brs__monotime_ns() + (int64_t)(seconds * 1e9);
    while (ws->state != BRS__WS_CLOSED && brs__monotime_ns() < end) {
        brs__ws_step(ws, brs__monotime_ns());
        usleep(500);
    }
}

static void bad_case(int port, const char *kind, int want)
{
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/bad/%s", port, kind);
    brs__ws ws;
    wsrec r = {0};
    brs__ws_opts o = {.url = url, .max_message = 65536, .no_reconnect = 1};
    brs__ws_callbacks cb = {NULL, on_msg, on_close, NULL};
    brs_error e;
    assert_int_equal(brs__ws_init(&ws, &o, &cb, &r, &e), BRS_OK);
    run_until_closed(&ws, 10);
    assert_int_equal(ws.state, BRS__WS_CLOSED);
    assert_int_equal(ws.n_connects, 1);
    assert_int_equal(r.messages, 0); /* nothing bad reached the application */
    assert_int_equal(r.closes, 1);
    if (ws.last_close_sent != want)
        fail_msg("/bad/%s: client sent close %d, want %d (%s)", kind, ws.last_close_sent, want,
                 ws.last_error);
    assert_int_equal(r.last_code, want);
    brs__ws_free(&ws);
}

static void test_bad_frames(void **st)
{
    (void)st;
    if (!have_python_websockets()) {
        printf("SKIP: python3-websockets not installed\n");
        skip();
    }
    server s = {0};
    assert_int_equal(server_start(&s, 0, NULL, NULL), 0);
    bad_case(s.port, "rsv", 1002);
    bad_case(s.port, "masked", 1002);
    bad_case(s.port, "ctrlfrag", 1002);
    bad_case(s.port, "badopcode", 1002);
    bad_case(s.port, "utf8", 1007);
    bad_case(s.port, "utf8frag", 1007);
    bad_case(s.port, "toobig", 1009);
    /* and the server saw a proper close frame with that code (it records it
     * when its side of the close finishes: poll a little) */
    const char *kinds[] = {"rsv", "masked", "ctrlfrag", "badopcode", "utf8", "utf8frag", "toobig"};
    const int want[] = {1002, 1002, 1002, 1002, 1007, 1007, 1009};
    cJSON *c = NULL;
    int bad_i = -1;
    for (int tries = 0; tries < 100; tries++) {
        cJSON_Delete(c);
        c = get_json(s.port, "/closes");
        bad_i = -1;
        for (int i = 0; i < 7 && bad_i < 0; i++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(c, kinds[i]);
            if (!cJSON_IsNumber(v) || (int)v->valuedouble != want[i])
                bad_i = i;
        }
        if (bad_i < 0)
            break;
        usleep(100000);
    }
    if (bad_i >= 0) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(c, kinds[bad_i]);
        fail_msg("server saw close %d on /bad/%s, want %d", cJSON_IsNumber(v) ? (int)v->valuedouble : -1,
                 kinds[bad_i], want[bad_i]);
    }
    cJSON_Delete(c);
    server_stop(&s);
}

static void test_fragments_ping(void **st)
{
    (void)st;
    if (!have_python_websockets()) {
        printf("SKIP: python3-websockets not installed\n");
        skip();
    }
    server s = {0};
    assert_int_equal(server_start(&s, 0, NULL, NULL), 0);
    char url[128];
    /* "localhost" may resolve to ::1 first while the server listens on 127.0.0.1
     * only: the client then tries the next address */
    snprintf(url, sizeof url, "ws://localhost:%d/frag", s.port);
    brs__ws ws;
    wsrec r = {0};
    brs__ws_opts o = {.url = url, .no_reconnect = 1, .ping_interval_ns = 20000000};
    brs__ws_callbacks cb = {NULL, on_msg, on_close, NULL};
    brs_error e;
    assert_int_equal(brs__ws_init(&ws, &o, &cb, &r, &e), BRS_OK);
    run_until_closed(&ws, 10);
    assert_int_equal(r.messages, 2);
    assert_int_equal(r.binary, 1);
    assert_string_equal(r.text, "{\"part\":\"one\",\"two\":\"\xc3\xa9\xe2\x82\xac\"}");
    assert_int_equal(ws.last_close_received, 1000);
    assert_int_equal(r.last_code, 1000);
    assert_true(ws.n_pings >= 1);
    assert_true(ws.n_pongs >= 1);
    brs__ws_free(&ws);
    server_stop(&s);
}

/* ---- wss:// ------------------------------------------------------------------ */

/* A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
static int make_cert(char *cert, char *key, size_t n)
{
    snprintf(cert, n, "/tmp/brs_ws_cert.%d.pem", (int)getpid());
    snprintf(key, n, "/tmp/brs_ws_key.%d.pem", (int)getpid());
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bourse-test "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_wss(void **st)
{
    (void)st;
    SKIP_WITHOUT_SERVER(0);
    char cert[128], key[128];
    if (make_cert(cert, key, sizeof cert) != 0) {
        printf("SKIP: the openssl command is not available\n");
        skip();
    }
    server s = {0};
    assert_int_equal(server_start_tls(&s, 0, NULL, NULL, 0, cert, key), 0);
    char url[128];
    snprintf(url, sizeof url, "wss://127.0.0.1:%d/frag", s.port);
    brs_error e;
    /* 1: verification on, our CA given: the fragmented message arrives over TLS */
    {
        brs__ws ws;
        wsrec r = {0};
        brs__ws_opts o = {.url = url, .no_reconnect = 1, .tls = {.verify = 1, .ca_file = cert}};
        brs__ws_callbacks cb = {NULL, on_msg, on_close, NULL};
        assert_int_equal(brs__ws_init(&ws, &o, &cb, &r, &e), BRS_OK);
        run_until_closed(&ws, 10);
        if (r.messages != 2)
            fail_msg("wss: %d messages (%s)", r.messages, ws.last_error);
        assert_string_equal(r.text, "{\"part\":\"one\",\"two\":\"\xc3\xa9\xe2\x82\xac\"}");
        assert_int_equal(ws.last_close_received, 1000);
        brs__ws_free(&ws);
    }
    /* 2: verification on, no CA for it: refused, with the certificate problem named */
    {
        brs__ws ws;
        wsrec r = {0};
        brs__ws_opts o = {.url = url, .no_reconnect = 1, .tls = {.verify = 1}};
        brs__ws_callbacks cb = {NULL, on_msg, on_close, NULL};
        assert_int_equal(brs__ws_init(&ws, &o, &cb, &r, &e), BRS_OK);
        run_until_closed(&ws, 10);
        assert_int_equal(ws.n_connects, 0);
        assert_int_equal(r.messages, 0);
        if (!strstr(ws.last_error, "certificate"))
            fail_msg("wss without CA: '%s'", ws.last_error);
        brs__ws_free(&ws);
    }
    /* 3: HTTPS GET through the same TLS code (the REST snapshot path) */
    {
        snprintf(url, sizeof url, "https://127.0.0.1:%d/closes", s.port);
        brs__http_get h;
        brs__tls_opts t = {.verify = 1, .ca_file = cert};
        int rc = brs__http_get_start(&h, url, &t, 0, brs__monotime_ns() + 10000000000LL, &e);
        while (rc == BRS_OK || rc == BRS_E_AGAIN) {
            rc = brs__http_get_step(&h, brs__monotime_ns(), &e);
            if (rc == BRS_E_AGAIN)
                usleep(1000);
            else
                break;
        }
        if (rc != BRS_OK)
            fail_msg("https GET: %s", e.msg);
        assert_int_equal(h.status, 200);
        assert_true(h.body_len >= 2 && h.body[0] == '{');
        brs__http_get_free(&h);
    }
    server_stop(&s);
    unlink(cert);
    unlink(key);
}

/* ---- the recorded session ---------------------------------------------------- */

static const char *const syms[] = {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"};

typedef struct evcount {
    uint64_t n, snapshots;
} evcount;

static int count(void *ud, const brs_market_event *ev)
{
    evcount *c = ud;
    c->n++;
    if (ev->kind == BRS_MEV_SNAPSHOT_BEGIN)
        c->snapshots++;
    return 0;
}

static void compare_books(brs__bn_live *l, cJSON *final)
{
    for (uint32_t i = 0; i < 4; i++) {
        brs__bn_symbol *y = brs__bn_find(&l->feed, syms[i]);
        assert_non_null(y);
        cJSON *b = cJSON_GetObjectItemCaseSensitive(final, syms[i]);
        assert_non_null(b);
        if (y->state != BRS__BN_LIVE)
            fail_msg("%s not live at the end (state %d)", syms[i], y->state);
        assert_int_equal(y->last_u,
                         (uint64_t)cJSON_GetObjectItemCaseSensitive(b, "lastUpdateId")->valuedouble);
        const char *keys[2] = {"bids", "asks"};
        for (int s = 0; s < 2; s++) {
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(b, keys[s]);
            uint32_t n = (uint32_t)cJSON_GetArraySize(arr);
            assert_int_equal(brs__l2_levels(&y->book, s), n);
            brs_level lv[2048];
            assert_true(n <= 2048);
            assert_int_equal(brs__l2_depth(&y->book, s, lv, n), n);
            uint32_t k = 0;
            cJSON *it;
            cJSON_ArrayForEach(it, arr)
            {
                int pd = y->price_dec, qd = y->qty_dec;
                int64_t p, q;
                const char *ps = cJSON_GetArrayItem(it, 0)->valuestring;
                const char *qs = cJSON_GetArrayItem(it, 1)->valuestring;
                assert_int_equal(brs__dec_parse(ps, strlen(ps), &pd, &p), BRS_OK);
                assert_int_equal(brs__dec_parse(qs, strlen(qs), &qd, &q), BRS_OK);
                assert_int_equal(lv[k].price, p); /* same order: best first */
                assert_int_equal(lv[k].qty, q);
                k++;
            }
        }
    }
}

static void replay(const char *drop_after, const char *lose)
{
    if (!have_recording()) {
        printf("SKIP: %s not found (../shared absent)\n", WSREC);
        skip();
    }
    if (!have_python_websockets()) {
        printf("SKIP: python3-websockets not installed\n");
        skip();
    }
    server s = {0};
    assert_int_equal(server_start(&s, 1, drop_after, lose), 0);
    char wsurl[128], resturl[160];
    snprintf(wsurl, sizeof wsurl, "ws://127.0.0.1:%d/stream", s.port);
    snprintf(resturl, sizeof resturl, "http://127.0.0.1:%d/fapi/v1/depth?symbol={SYMBOL}&limit=1000",
             s.port);
    evcount c = {0};
    brs__bn_live_opts o = {.ws_url = wsurl,
                           .rest_url = resturl,
                           .symbols = syms,
                           .nsymbols = 4,
                           .subscribe = 1,
                           .sink = count,
                           .ud = &c,
                           .snapshot_retry_ns = 50000000};
    o.ws.backoff_min_ns = 50000000;
    o.ws.step_bytes = 3000; /* small read budget per step: messages span steps */
    static brs__bn_live l;
    brs_error e;
    assert_int_equal(brs__bn_live_init(&l, &o, &e), BRS_OK);
    int64_t end = brs__monotime_ns() + 60 * 1000000000LL;
    while (brs__monotime_ns() < end) {
        int rc = brs__bn_live_wait(&l, 20);
        assert_true(rc >= 0);
        if (l.ws.last_close_received == 1000) /* "replay done" */
            break;
    }
    assert_int_equal(l.ws.last_close_received, 1000);
    cJSON *final = get_json(s.port, "/final");
    compare_books(&l, final);
    cJSON_Delete(final);
    assert_int_equal(l.n_bad_messages, 0);
    printf("connections %llu, snapshots %llu, gaps %llu, events %llu\n",
           (unsigned long long)l.ws.n_connects, (unsigned long long)l.n_snapshots,
           (unsigned long long)l.n_gaps, (unsigned long long)c.n);
    if (drop_after) {
        assert_true(l.ws.n_connects >= 2);
        assert_true(l.n_snapshots >= 8); /* every book resynced after the reconnect */
        assert_true(c.snapshots >= 8);
    } else {
        assert_int_equal(l.ws.n_connects, 1);
        assert_int_equal(l.n_gaps, 0);
    }
    brs__bn_live_free(&l);
    server_stop(&s);
}

static void test_replay(void **st)
{
    (void)st;
    replay(NULL, NULL);
}

static void test_drop_reconnect(void **st)
{
    (void)st;
    replay("400", "37");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),           cmocka_unit_test(test_url),
        cmocka_unit_test(test_refused),        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_fragments_ping), cmocka_unit_test(test_wss),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_drop_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
