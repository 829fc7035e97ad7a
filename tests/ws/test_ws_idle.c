/* test_ws_idle.c: the WebSocket client sleeps when it has nothing to do (issue
 * 19). `bourse record` and `bourse live` against a closed port use almost no
 * CPU and log every reconnect attempt with its (growing) delay; against a
 * healthy but quiet server (connected, book synced, no messages) they use
 * under 1% of a core. CPU is utime + stime from /proc/PID/stat, read while the
 * process runs. Also: a close frame with a 1-byte body is answered with 1002. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "replay_server.h"
#include "ws/ws.h"

/* Sanitizer builds (make check) spend about 0.1 s of CPU starting up and run
 * everything several times slower: there the behaviour is checked (retries
 * logged, no reconnect on a quiet link) and the CPU printed, not compared. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CPU_LIMITS 0
#else
#define CPU_LIMITS 1
#endif

/* utime + stime of a running process, in seconds. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    assert_non_null(p);
    p += 2; /* field 3 (state) */
    unsigned long long ut = 0, st = 0;
    for (int field = 3; field < 14; field++) {
        p = strchr(p, ' ');
        assert_non_null(p);
        p++;
    }
    assert_int_equal(sscanf(p, "%llu %llu", &ut, &st), 2); /* fields 14 and 15 */
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A loopback port nobody listens on (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void write_cfg(const char *path, int port)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"ws_url\": \"ws://127.0.0.1:%d/stream\",\n"
            " \"rest_url\": \"http://127.0.0.1:%d/fapi/v1/depth?symbol={SYMBOL}&limit=1000\",\n"
            " \"symbols\": [{\"symbol\": \"SUSHIUSDT\", \"price_decimals\": 4, \"qty_decimals\": 0}]}\n",
            port, port);
    fclose(f);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run `bourse CMD cfg ...` for `seconds`; return the CPU it used by then
 * (read from /proc before it is stopped) and its stderr in *err. */
static double run_for(const char *cmd, const char *cfg, double seconds, char **err)
{
    char out[128], errf[128];
    snprintf(out, sizeof out, "/tmp/brs_idle_%d.ticks.zst", (int)getpid());
    snprintf(errf, sizeof errf, "/tmp/brs_idle_%d.err", (int)getpid());
    double t0 = now_s();
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600), dn = open("/dev/null", O_WRONLY);
        dup2(fe, 2);
        dup2(dn, 1);
        if (strcmp(cmd, "record") == 0)
            execl(BOURSE_BIN, BOURSE_BIN, "record", cfg, "-o", out, "--duration", "60", (char *)NULL);
        else
            execl(BOURSE_BIN, BOURSE_BIN, "live", cfg, "--strategy",
                  BOURSE_SOURCE_DIR "/tests/ws/scripts/live_taker.lua", "--duration", "60", (char *)NULL);
        _exit(127);
    }
    while (now_s() - t0 < seconds)
        usleep(50000);
    double cpu = cpu_seconds(pid);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st)); /* Ctrl-C ends it cleanly */
    FILE *f = fopen(errf, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    *err = strdup(buf);
    unlink(errf);
    unlink(out);
    return cpu;
}

/* Every reconnect attempt is logged with its delay: attempts 1, 2, 3...
 * and delays that grow (doubling, +-25% jitter) from about 100 ms. */
static void check_retries(const char *err, int min_attempts)
{
    int n = 0;
    long prev = 0;
    for (const char *p = err; (p = strstr(p, "reconnecting")) != NULL; p++) {
        const char *a = strstr(p, "attempt="), *d = strstr(p, "delay_ms=");
        assert_non_null(a);
        assert_non_null(d);
        long attempt = atol(a + 8), delay = atol(d + 9);
        n++;
        if (attempt != n)
            fail_msg("retry line %d says attempt %ld:\n%s", n, attempt, err);
        if (n == 1 && (delay < 75 || delay > 125))
            fail_msg("first delay %ld ms, want about 100", delay);
        if (n > 1 && delay <= prev)
            fail_msg("delay %ld ms after %ld ms: no backoff\n%s", delay, prev, err);
        prev = delay;
    }
    if (n < min_attempts)
        fail_msg("%d reconnect lines, want at least %d:\n%s", n, min_attempts, err);
}

static void closed_port_case(const char *cmd)
{
    char cfg[128], *err;
    snprintf(cfg, sizeof cfg, "/tmp/brs_idle_%d.json", (int)getpid());
    write_cfg(cfg, closed_port());
    double cpu = run_for(cmd, cfg, 10.0, &err);
    printf("bourse %s, closed port, 10 s: %.3f s of CPU\n", cmd, cpu);
    if (CPU_LIMITS && cpu >= 0.1)
        fail_msg("bourse %s used %.3f s of CPU in 10 s against a closed port", cmd, cpu);
    check_retries(err, 5); /* 0.1 + 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s: 6 or 7 attempts in 10 s */
    assert_non_null(strstr(err, "refused"));
    free(err);
    unlink(cfg);
}

static void test_record_closed_port(void **st)
{
    (void)st;
    closed_port_case("record");
}

static void test_live_closed_port(void **st)
{
    (void)st;
    closed_port_case("live");
}

/* A server that accepts, answers the subscription and the REST snapshot, then
 * says nothing (no depth updates): the symbol is synced and waits. */
static void quiet_case(const char *cmd)
{
    if (!have_python_websockets()) {
        printf("SKIP: python3-websockets not installed\n");
        skip();
    }
    char wsf[128], httpf[128], cfg[128], *err;
    snprintf(wsf, sizeof wsf, "/tmp/brs_quiet_%d.ws", (int)getpid());
    snprintf(httpf, sizeof httpf, "/tmp/brs_quiet_%d.http", (int)getpid());
    snprintf(cfg, sizeof cfg, "/tmp/brs_quiet_%d.json", (int)getpid());
    FILE *f = fopen(wsf, "w");
    assert_non_null(f);
    fclose(f); /* no frames at all */
    f = fopen(httpf, "w");
    assert_non_null(f);
    fprintf(f, "https://fapi.binance.com/fapi/v1/depth?symbol=SUSHIUSDT&limit=1000 -> 1626992741.3: "
               "{\"lastUpdateId\":100,\"E\":1626992741264,\"T\":1626992741261,"
               "\"bids\":[[\"7.6110\",\"6\"]],\"asks\":[[\"7.6120\",\"9\"]]}\n");
    fclose(f);
    server s = {0};
    assert_int_equal(server_start_files(&s, wsf, httpf, NULL, NULL, 1, NULL, NULL), 0);
    write_cfg(cfg, s.port);
    double cpu = run_for(cmd, cfg, 10.0, &err);
    server_stop(&s);
    printf("bourse %s, quiet connection, first 10 s: %.3f s of CPU (%.2f%% of a core)\n", cmd, cpu,
           cpu * 10);
    if (!strstr(err, "snapshot applied") && !strstr(err, "connected"))
        fail_msg("never connected:\n%s", err);
    if (strstr(err, "reconnecting"))
        fail_msg("the quiet connection was dropped:\n%s", err);
    if (CPU_LIMITS && cpu >= 0.1) /* 1% of a core over 10 s, start-up included */
        fail_msg("bourse %s used %.3f s of CPU in 10 s on a quiet connection:\n%s", cmd, cpu, err);
    free(err);
    unlink(wsf);
    unlink(httpf);
    unlink(cfg);
}

static void test_record_quiet(void **st)
{
    (void)st;
    quiet_case("record");
}

static void test_live_quiet(void **st)
{
    (void)st;
    quiet_case("live");
}

/* RFC 6455 5.5.1: a close body is empty or a 2-byte code first; 1 byte is a
 * protocol error, answered with 1002 (wslay would answer an empty close). */
static void on_close(void *ud, brs__ws *ws, int code, const char *reason)
{
    (void)ws, (void)reason;
    *(int *)ud = code;
}

static void test_close_one_byte(void **st)
{
    (void)st;
    if (!have_python_websockets()) {
        printf("SKIP: python3-websockets not installed\n");
        skip();
    }
    server s = {0};
    assert_int_equal(server_start(&s, 0, NULL, NULL), 0);
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/bad/close1", s.port);
    brs__ws ws;
    int code = 0;
    brs__ws_opts o = {.url = url, .no_reconnect = 1};
    brs__ws_callbacks cb = {NULL, NULL, on_close, NULL};
    brs_error e;
    assert_int_equal(brs__ws_init(&ws, &o, &cb, &code, &e), BRS_OK);
    int64_t end = brs__monotime_ns() + 10000000000LL;
    while (ws.state != BRS__WS_CLOSED && brs__monotime_ns() < end) {
        brs__ws_step(&ws, brs__monotime_ns());
        usleep(500);
    }
    assert_int_equal(ws.state, BRS__WS_CLOSED);
    if (ws.last_close_sent != 1002)
        fail_msg("client sent close %d, want 1002 (%s)", ws.last_close_sent, ws.last_error);
    assert_int_equal(code, 1002);
    /* what the server received (recorded when its side of the close ends: poll) */
    int got = -1;
    for (int tries = 0; tries < 100 && got != 1002; tries++) {
        cJSON *c = get_json(s.port, "/closes");
        cJSON *x = cJSON_GetObjectItemCaseSensitive(c, "close1");
        got = cJSON_IsNumber(x) ? x->valueint : -1;
        cJSON_Delete(c);
        if (got != 1002)
            usleep(100000);
    }
    if (got != 1002)
        fail_msg("the server saw close %d, want 1002", got);
    brs__ws_free(&ws);
    server_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_one_byte),    cmocka_unit_test(test_record_closed_port),
        cmocka_unit_test(test_live_closed_port),  cmocka_unit_test(test_record_quiet),
        cmocka_unit_test(test_live_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
