/* bench_fix.c: `bourse bench fix`: codec parse and encode rates on one core,
 * and round trip over loopback: the gateway runs in a thread of this process,
 * a C client sends NewOrderSingles byte-for-byte in the layout a QuickFIX 1.15
 * initiator writes (same tags, same order) with a fixed number in flight, and
 * times each order to its acknowledgement (ExecutionReport ExecType New).
 * Then the end of day's compaction: a gateway in memory with many closed
 * orders and some open ones, the time the end of day takes, and a restart's
 * replay of the full journal against the compacted one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/log.h"
#include "fix/app.h"
#include "fix/server.h"

/* The NewOrderSingle a QuickFIX 1.15 initiator sends (captured field order). */
static size_t qf_order(char *buf, size_t cap, uint32_t seq, uint64_t id, int buy, int64_t now)
{
    brs__fix_enc e;
    brs__fix_enc_begin(&e, buf, cap, "D");
    brs__fix_enc_int(&e, 34, seq);
    brs__fix_enc_str(&e, 49, "CLIENT1");
    brs__fix_enc_time(&e, 52, now);
    brs__fix_enc_str(&e, 56, "EXEC");
    brs__fix_enc_int(&e, 11, (int64_t)id);
    brs__fix_enc_int(&e, 38, 1);
    brs__fix_enc_char(&e, 40, '2');
    brs__fix_enc_int(&e, 44, 100);
    brs__fix_enc_char(&e, 54, buy ? '1' : '2');
    brs__fix_enc_str(&e, 55, "AAPL");
    brs__fix_enc_char(&e, 59, '0');
    char t[32];
    brs__fix_format_time(now, t);
    brs__fix_enc_mem(&e, 60, t, 17); /* QuickFIX sends TransactTime in seconds */
    size_t n = 0;
    const char *m = brs__fix_enc_end(&e, "FIX.4.4", &n);
    memmove(buf, m, n);
    return n;
}

/* CPU time of this thread: on a shared machine, wall time counts the time other
 * processes held the core; CPU time does not. Both are reported. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

typedef struct codec_result {
    double parse_per_sec, encode_per_sec, validate_per_sec;
    double parse_per_cpu_sec, encode_per_cpu_sec, validate_per_cpu_sec;
    int64_t parse_allocs, encode_allocs;
    size_t msg_bytes;
} codec_result;

static void bench_codec(uint64_t n, codec_result *r)
{
    static char buf[512];
    size_t len = qf_order(buf, sizeof buf, 2, 1352157882577ULL, 1, brs__realtime_ns());
    r->msg_bytes = len;
    brs__fix_msg *m = malloc(sizeof *m);
    if (!m)
        return;
    brs__fix_msg_init(m);
    double best = 0, best_cpu = 0;
    int64_t a0 = brs__alloc_count();
    for (int rep = 0; rep < 3; rep++) {
        int64_t t0 = brs__monotime_ns(), c0 = cpu_ns();
        uint64_t sum = 0;
        for (uint64_t i = 0; i < n; i++) {
            size_t ml;
            if (brs__fix_frame(buf, len, 65536, &ml) != BRS__FIX_FRAME_OK ||
                brs__fix_parse(m, buf, ml) != BRS_OK)
                break;
            int64_t px = 0;
            brs__fix_decimal(m, 44, 2, &px);
            sum += (uint64_t)px + m->seq + (uint64_t)brs__fix_char(m, 54);
        }
        BRS__KEEP(sum);
        double rate = (double)n / ((double)(brs__monotime_ns() - t0) / 1e9);
        double crate = (double)n / ((double)(cpu_ns() - c0) / 1e9);
        if (rate > best)
            best = rate;
        if (crate > best_cpu)
            best_cpu = crate;
    }
    int64_t a1 = brs__alloc_count();
    r->parse_allocs = a0 < 0 ? -1 : a1 - a0;
    r->parse_per_sec = best;
    r->parse_per_cpu_sec = best_cpu;

    /* the same with the FIX 4.4 dictionary validation a session runs */
    brs__fix_session_opts so;
    brs__fix_session_opts_default(&so);
    best = best_cpu = 0;
    for (int rep = 0; rep < 3; rep++) {
        int64_t t0 = brs__monotime_ns(), c0 = cpu_ns();
        uint64_t sum = 0;
        for (uint64_t i = 0; i < n; i++) {
            size_t ml;
            uint32_t tag;
            if (brs__fix_frame(buf, len, 65536, &ml) != BRS__FIX_FRAME_OK ||
                brs__fix_parse(m, buf, ml) != BRS_OK ||
                brs__fix_dict_validate(m, &so.valid, &tag) >= 0)
                break;
            int64_t px = 0;
            brs__fix_decimal(m, 44, 2, &px);
            sum += (uint64_t)px + m->seq + (uint64_t)brs__fix_char(m, 54);
        }
        BRS__KEEP(sum);
        double rate = (double)n / ((double)(brs__monotime_ns() - t0) / 1e9);
        double crate = (double)n / ((double)(cpu_ns() - c0) / 1e9);
        if (rate > best)
            best = rate;
        if (crate > best_cpu)
            best_cpu = crate;
    }
    r->validate_per_sec = best;
    r->validate_per_cpu_sec = best_cpu;
    free(m);

    /* encode: a fill ExecutionReport like the gateway's */
    static char out[1024];
    best = 0;
    best_cpu = 0;
    a0 = brs__alloc_count();
    int64_t now = brs__realtime_ns();
    for (int rep = 0; rep < 3; rep++) {
        int64_t t0 = brs__monotime_ns(), c0 = cpu_ns();
        size_t total = 0;
        for (uint64_t i = 0; i < n; i++) {
            brs__fix_enc e;
            brs__fix_enc_begin(&e, out, sizeof out, "8");
            brs__fix_enc_str(&e, 49, "EXEC");
            brs__fix_enc_str(&e, 56, "CLIENT1");
            brs__fix_enc_int(&e, 34, (int64_t)i + 1);
            brs__fix_enc_time(&e, 52, now);
            brs__fix_enc_int(&e, 37, (int64_t)i);
            brs__fix_enc_str(&e, 11, "1352157882577");
            brs__fix_enc_int(&e, 17, (int64_t)i * 2);
            brs__fix_enc_char(&e, 150, 'F');
            brs__fix_enc_char(&e, 39, '1');
            brs__fix_enc_str(&e, 55, "AAPL");
            brs__fix_enc_char(&e, 54, '1');
            brs__fix_enc_int(&e, 38, 100);
            brs__fix_enc_char(&e, 40, '2');
            brs__fix_enc_decimal(&e, 44, 15025, 2);
            brs__fix_enc_int(&e, 32, 40);
            brs__fix_enc_decimal(&e, 31, 15025, 2);
            brs__fix_enc_int(&e, 151, 60);
            brs__fix_enc_int(&e, 14, 40);
            brs__fix_enc_decimal(&e, 6, 1502500, 4);
            brs__fix_enc_time(&e, 60, now);
            size_t ml;
            const char *p = brs__fix_enc_end(&e, "FIX.4.4", &ml);
            total += ml + (size_t)(p - out);
        }
        BRS__KEEP(total);
        double rate = (double)n / ((double)(brs__monotime_ns() - t0) / 1e9);
        double crate = (double)n / ((double)(cpu_ns() - c0) / 1e9);
        if (rate > best)
            best = rate;
        if (crate > best_cpu)
            best_cpu = crate;
    }
    a1 = brs__alloc_count();
    r->encode_allocs = a0 < 0 ? -1 : a1 - a0;
    r->encode_per_sec = best;
    r->encode_per_cpu_sec = best_cpu;
}

/* ---- round trip ------------------------------------------------------------------ */

typedef struct srv_thread {
    brs__fix_server *srv;
    volatile sig_atomic_t stop;
} srv_thread;

static void *serve_main(void *arg)
{
    srv_thread *t = arg;
    brs__fix_server_run(t->srv, &t->stop);
    return NULL;
}

typedef struct rt_result {
    double orders_per_sec;
    double orders_per_cpu_sec; /* over the process's CPU time (gateway, client, metrics threads) */
    brs_stats lat_us;
    uint64_t orders;
} rt_result;

static int64_t proc_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int read_some(int fd, char *buf, size_t *len, size_t cap)
{
    ssize_t r = recv(fd, buf + *len, cap - *len, 0);
    if (r <= 0)
        return -1;
    *len += (size_t)r;
    return 0;
}

static int round_trip(uint64_t n, uint32_t inflight, int metrics, rt_result *res, char *why, size_t whylen)
{
    brs__fix_instr instr[2] = {{"AAPL", 2, 1, 1}, {"MSFT", 2, 1, 1}};
    brs__fix_session_def def = {0};
    snprintf(def.target, sizeof def.target, "CLIENT1");
    brs__fix_session_opts_default(&def.opts); /* as configured by default: validation on */
    brs__fix_server_cfg sc = {0};
    snprintf(sc.host, sizeof sc.host, "127.0.0.1");
    char dir[] = "/tmp/brs_bench_fix_XXXXXX";
    if (!mkdtemp(dir)) {
        snprintf(why, whylen, "mkdtemp failed");
        return -1;
    }
    snprintf(sc.state_dir, sizeof sc.state_dir, "%s", dir);
    sc.fsync_policy = BRS__FIX_FSYNC_NEVER;
    sc.max_msg = 65536;
    sc.max_output = 64u << 20;
    sc.low_water = sc.max_output / 4;
    sc.slow_timeout_ns = 30000000000LL; /* as serve.json's default: a slow (loaded, traced) run is no slow consumer */
    sc.max_msgs_per_sec = 100000000;
    sc.logon_timeout_ns = 10000000000LL;
    snprintf(sc.sender, sizeof sc.sender, "EXEC");
    if (metrics) /* the gateway's metrics, live dashboard included, as `bourse serve` runs them */
        snprintf(sc.metrics_listen, sizeof sc.metrics_listen, "127.0.0.1:0");
    sc.sessions = &def;
    sc.n_sessions = 1;
    sc.instr = instr;
    sc.n_instr = 2;
    srv_thread st = {0};
    brs_error err = {0};
    int port = 0, rc = -1, fd = -1;
    double *lat = NULL;
    int64_t *sent_at = NULL;
    char *in = NULL;
    pthread_t th;
    int started = 0;
    if (brs__fix_server_open(&st.srv, &sc, &port, &err) != BRS_OK) {
        snprintf(why, whylen, "%s", err.msg);
        goto out;
    }
    if (pthread_create(&th, NULL, serve_main, &st) != 0)
        goto out;
    started = 1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        snprintf(why, whylen, "connect failed");
        goto out;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    lat = malloc(n * sizeof *lat);
    sent_at = malloc(n * sizeof *sent_at);
    size_t incap = 1 << 20, inlen = 0;
    in = malloc(incap);
    brs__fix_msg *m = malloc(sizeof *m);
    if (!lat || !sent_at || !in || !m) {
        free(m);
        goto out;
    }
    brs__fix_msg_init(m);
    /* Logon, ResetSeqNumFlag=Y */
    char buf[256 * 64];
    brs__fix_enc e;
    brs__fix_enc_begin(&e, buf, sizeof buf, "A");
    brs__fix_enc_int(&e, 34, 1);
    brs__fix_enc_str(&e, 49, "CLIENT1");
    brs__fix_enc_time(&e, 52, brs__realtime_ns());
    brs__fix_enc_str(&e, 56, "EXEC");
    brs__fix_enc_int(&e, 98, 0);
    brs__fix_enc_int(&e, 108, 30);
    brs__fix_enc_char(&e, 141, 'Y');
    size_t ln;
    const char *lm = brs__fix_enc_end(&e, "FIX.4.4", &ln);
    if (send(fd, lm, ln, MSG_NOSIGNAL) != (ssize_t)ln)
        goto out_m;
    uint32_t seq = 2;
    uint64_t next = 0, done = 0;
    int logged_on = 0;
    int64_t t0 = 0, c0 = 0;
    while (done < n) {
        if (logged_on) {
            size_t bl = 0;
            int64_t now = brs__realtime_ns();
            while (next < n && next - done < inflight && bl + 256 < sizeof buf) {
                sent_at[next] = brs__monotime_ns();
                bl += qf_order(buf + bl, sizeof buf - bl, seq++, next + 1, (next & 1) == 0, now);
                next++;
            }
            size_t off = 0;
            while (off < bl) {
                ssize_t w = send(fd, buf + off, bl - off, MSG_NOSIGNAL);
                if (w <= 0) {
                    snprintf(why, whylen, "send failed");
                    goto out_m;
                }
                off += (size_t)w;
            }
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0 || read_some(fd, in, &inlen, incap) < 0) {
            snprintf(why, whylen, "no reply from the gateway (done %llu)", (unsigned long long)done);
            goto out_m;
        }
        size_t pos = 0;
        while (pos < inlen) {
            size_t ml;
            int fr = brs__fix_frame(in + pos, inlen - pos, 65536, &ml);
            if (fr == BRS__FIX_FRAME_NEED_MORE)
                break;
            if (fr != BRS__FIX_FRAME_OK || brs__fix_parse(m, in + pos, ml) != BRS_OK) {
                snprintf(why, whylen, "bad message from the gateway");
                goto out_m;
            }
            pos += ml;
            if (m->msgtype[0] == 'A' && !logged_on) {
                logged_on = 1;
                t0 = brs__monotime_ns();
                c0 = proc_cpu_ns();
            } else if (m->msgtype[0] == '8' && brs__fix_char(m, 150) == '0') {
                uint64_t id = 0;
                if (brs__fix_uint(m, 11, &id) == 1 && id >= 1 && id <= n) {
                    lat[done++] = (double)(brs__monotime_ns() - sent_at[id - 1]) / 1000.0;
                }
            } else if (m->msgtype[0] == '5' || m->msgtype[0] == '3') {
                snprintf(why, whylen, "gateway sent MsgType %s", m->msgtype);
                goto out_m;
            }
        }
        memmove(in, in + pos, inlen - pos);
        inlen -= pos;
    }
    res->orders = n;
    res->orders_per_sec = (double)n / ((double)(brs__monotime_ns() - t0) / 1e9);
    res->orders_per_cpu_sec = (double)n / ((double)(proc_cpu_ns() - c0) / 1e9);
    brs__stats_compute(lat, n, &res->lat_us);
    rc = 0;
out_m:
    free(m);
out:
    if (fd >= 0)
        close(fd);
    if (started) {
        st.stop = 1;
        pthread_join(th, NULL);
    }
    brs__fix_server_close(st.srv);
    free(lat);
    free(sent_at);
    free(in);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bourse bench fix: could not remove %s\n", dir);
    return rc;
}

/* ---- end of day compaction ------------------------------------------------------ */

typedef struct eod_result {
    uint64_t closed, open;
    uint64_t held_before, held_after;
    uint64_t bytes_before, bytes_after;
    double eod_ms, replay_full_ms, replay_compacted_ms;
} eod_result;

static int eod_send(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return BRS_OK;
}

static void eod_close(void *ctx)
{
    (void)ctx;
}

/* A one-session gateway on journal; its session store is /dev/null (the
 * benchmark is about the order state, not about resend). */
static int eod_open(brs__fix_gateway *g, brs__fix_session *s, const char *journal, brs_error *err)
{
    brs__fix_instr in = {"AAPL", 2, 1, 1};
    int rc = brs__fix_gateway_open(g, &in, 1, 0, journal, BRS__FIX_FSYNC_NEVER, err);
    if (rc != BRS_OK)
        return rc;
    brs__fix_session_cfg cfg = {0};
    snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
    snprintf(cfg.target, sizeof cfg.target, "CLIENT1");
    if ((rc = brs__fix_session_open(s, &cfg, "/dev/null", 0, err)) != BRS_OK)
        return rc;
    return brs__fix_gateway_add_session(g, s);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int copy_file(const char *from, const char *to, brs_error *err)
{
    char *d = NULL;
    size_t n = 0;
    int rc = brs__read_file(from, &d, &n, err);
    if (rc == BRS_OK)
        rc = brs__atomic_write(to, d, n, err);
    free(d);
    return rc;
}

/* Time of a replay of journal into a fresh gateway; held: its orders after. */
static int eod_replay(const char *journal, double *ms, uint64_t *held, brs_error *err)
{
    brs__fix_gateway g;
    brs__fix_session *s = calloc(1, sizeof *s);
    if (!s)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int rc = eod_open(&g, s, journal, err);
    int64_t t0 = brs__monotime_ns();
    if (rc == BRS_OK)
        rc = brs__fix_gateway_replay(&g, err);
    *ms = (double)(brs__monotime_ns() - t0) / 1e6;
    *held = brs__fix_gateway_orders_held(&g);
    brs__fix_gateway_close(&g);
    brs__fix_session_close(s);
    free(s);
    return rc;
}

static int bench_eod(uint64_t closed, uint64_t open_n, eod_result *r, char *why, size_t cap)
{
    char dir[] = "/tmp/bourse_bench_eod_XXXXXX";
    if (!mkdtemp(dir)) {
        snprintf(why, cap, "mkdtemp failed");
        return -1;
    }
    char journal[128], full[128];
    snprintf(journal, sizeof journal, "%s/orders.journal", dir);
    snprintf(full, sizeof full, "%s/full.journal", dir);
    brs_error err = {0};
    brs__fix_gateway g;
    brs__fix_session *s = calloc(1, sizeof *s);
    brs__fix_msg *m = malloc(sizeof *m);
    int rc = !s || !m ? brs__err(&err, BRS_E_NOMEM, "out of memory") : eod_open(&g, s, journal, &err);
    if (rc == BRS_OK) {
        brs__fix_msg_init(m);
        brs__fix_session_io io = {NULL, eod_send, eod_close};
        brs__fix_session_attach(s, &io, brs__realtime_ns());
        r->closed = closed;
        r->open = open_n;
        /* the day's flow: IOCs with nothing to trade with (closed at once),
         * and every (closed/open)-th order a GTC resting on one of 200 levels */
        uint64_t every = open_n ? closed / open_n + 1 : UINT64_MAX, n_open = 0;
        for (uint64_t i = 0; i < closed + open_n && rc == BRS_OK; i++) {
            int rest = n_open < open_n && (i % every == 0 || closed + open_n - i <= open_n - n_open);
            char buf[512], id[32];
            brs__fix_enc e;
            brs__fix_enc_begin(&e, buf, sizeof buf, "D");
            brs__fix_enc_int(&e, 34, (int64_t)i + 2);
            brs__fix_enc_str(&e, 49, "CLIENT1");
            brs__fix_enc_str(&e, 56, "EXEC");
            snprintf(id, sizeof id, "o%llu", (unsigned long long)i);
            brs__fix_enc_str(&e, 11, id);
            brs__fix_enc_int(&e, 38, 1 + (int64_t)(i % 7));
            brs__fix_enc_char(&e, 40, '2');
            int sell = rest && (n_open & 1);
            int64_t px = rest ? (sell ? 10100 + (int64_t)(n_open % 100) : 9900 - (int64_t)(n_open % 100))
                              : 9000;
            brs__fix_enc_decimal(&e, 44, px, 2);
            brs__fix_enc_char(&e, 54, sell ? '2' : '1');
            brs__fix_enc_str(&e, 55, "AAPL");
            brs__fix_enc_char(&e, 59, rest ? '1' : '3');
            size_t n = 0;
            const char *msg = brs__fix_enc_end(&e, "FIX.4.4", &n);
            if (!msg || brs__fix_parse(m, msg, n) != BRS_OK) {
                rc = brs__err(&err, BRS_E_STATE, "cannot build an order");
                break;
            }
            brs__fix_gateway_on_app(&g, s, m);
            n_open += (uint64_t)rest;
            if ((i & 1023) == 0) { /* a loop turn's flushes */
                brs__fix_gateway_flush(&g);
                brs__fix_store_flush(&s->store);
            }
        }
        brs__fix_gateway_flush(&g);
        r->held_before = brs__fix_gateway_orders_held(&g);
        r->bytes_before = file_size(journal);
        if (rc == BRS_OK)
            rc = copy_file(journal, full, &err);
        int64_t t0 = brs__monotime_ns();
        if (rc == BRS_OK)
            rc = brs__fix_gateway_end_of_day(&g, brs__realtime_ns(), 0, &err);
        r->eod_ms = (double)(brs__monotime_ns() - t0) / 1e6;
        r->held_after = brs__fix_gateway_orders_held(&g);
        r->bytes_after = file_size(journal);
        brs__fix_gateway_close(&g);
        brs__fix_session_close(s);
    }
    free(s);
    free(m);
    uint64_t held = 0;
    if (rc == BRS_OK)
        rc = eod_replay(full, &r->replay_full_ms, &held, &err);
    if (rc == BRS_OK)
        rc = eod_replay(journal, &r->replay_compacted_ms, &held, &err);
    if (rc == BRS_OK && held != r->held_after)
        rc = brs__err(&err, BRS_E_STATE, "the compacted journal gave %llu orders, not %llu",
                      (unsigned long long)held, (unsigned long long)r->held_after);
    unlink(journal);
    unlink(full);
    rmdir(dir);
    if (rc != BRS_OK) {
        snprintf(why, cap, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* --metrics-ab N: what metrics cost the round trip (issue 18,
 * docs/performance.md): N pairs of round trips with the gateway's metrics off
 * and on, back to back, alternating which goes first; per figure the median
 * of the per-pair ratios on / off with quartiles and a bootstrap interval. */
static int metrics_ab(uint64_t pairs, uint64_t n_orders, uint32_t inflight, int json)
{
    enum { K = 5 };
    static const char *const key[K] = {"orders_per_sec", "orders_per_cpu_sec", "rtt_p50_us", "rtt_p99_us",
                                       "rtt_p999_us"};
    double *v = calloc((size_t)K * 2 * pairs, sizeof *v); /* [figure][off, on][pair] */
    if (!v)
        return brs__fail("bench fix", "out of memory");
    char why[256] = "";
    /* a first pair, not counted (the allocator's and the threads' first use);
     * then off first in even pairs, on first in odd ones */
    for (uint64_t k = 0; k < pairs + 1; k++)
        for (int j = 0; j < 2; j++) {
            int m = (int)((k + 1 + (uint64_t)j) & 1);
            rt_result r = {0};
            if (round_trip(n_orders, inflight, m, &r, why, sizeof why) != 0) {
                free(v);
                return brs__fail("bench fix", "round trip (metrics %s): %s", m ? "on" : "off", why);
            }
            double f[K] = {r.orders_per_sec, r.orders_per_cpu_sec, r.lat_us.p50, r.lat_us.p99, r.lat_us.p999};
            for (int i = 0; k && i < K; i++)
                v[((size_t)i * 2 + (size_t)m) * pairs + k - 1] = f[i];
        }
    brs_ab s[K];
    for (int i = 0; i < K; i++)
        brs__ab_compute(&v[(size_t)i * 2 * pairs], &v[((size_t)i * 2 + 1) * pairs], pairs, &s[i]);
    free(v);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "orders", (double)n_orders);
        cJSON_AddNumberToObject(o, "inflight", inflight);
        cJSON_AddNumberToObject(o, "pairs", (double)pairs);
        cJSON *ab = cJSON_AddObjectToObject(o, "metrics_ab");
        for (int i = 0; i < K; i++)
            cJSON_AddItemToObject(ab, key[i], brs__ab_json(&s[i]));
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("round trip, %llu orders, %u in flight; metrics on / off: median of %llu per-pair ratios\n"
               "[quartiles] (bootstrap 95%% interval); off and on: medians of each side\n",
               (unsigned long long)n_orders, inflight, (unsigned long long)pairs);
        for (int i = 0; i < K; i++)
            printf("  %-20s %.4f [%.4f-%.4f] (%.4f-%.4f)   off %.1f  on %.1f\n", key[i], s[i].median, s[i].q1,
                   s[i].q3, s[i].lo95, s[i].hi95, s[i].off, s[i].on);
    }
    return BRS_EXIT_OK;
}

int brs__bench_fix(int argc, char **argv)
{
    /* the gateways the bench starts log their recovery and sessions at info:
     * that is for an operator, not for the bench's output */
    if (brs__log_min_level == BRS_LOG_INFO)
        brs__log_min_level = BRS_LOG_WARN;
    int json = 0, metrics = 0;
    uint64_t n_codec = 2000000, n_orders = 200000, ab = 0;
    uint32_t inflight = 100;
    uint64_t eod_closed = 200000, eod_open_n = 20000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--metrics") == 0)
            metrics = 1;
        else if (strcmp(argv[i], "--metrics-ab") == 0 && i + 1 < argc) {
            char *end;
            ab = strtoull(argv[++i], &end, 10);
            if (*end || !ab || argv[i][0] == '-' || ab > 10000)
                return brs__usage_error("bench fix", "--metrics-ab '%s': expected a number of pairs, 1 to 10000",
                                        argv[i]);
        }
        else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench fix [--json] [--codec N] [--orders N] [--inflight K]\n"
                   "                        [--eod-closed N] [--eod-open K] [--metrics | --metrics-ab N]\n\n"
                   "Codec parse/encode rates of a QuickFIX-layout NewOrderSingle and a fill\n"
                   "ExecutionReport, then N orders round trip over loopback to the gateway\n"
                   "(in-process thread) with K in flight; latency is order -> its ack.\n"
                   "Then the end of day on a gateway in memory holding --eod-closed closed\n"
                   "and --eod-open open orders (default 200000 and 20000): its duration,\n"
                   "journal bytes before and after, and a restart's replay time of the full\n"
                   "journal against the compacted one.\n"
                   "--metrics: the round trip's gateway serves its metrics and live dashboard\n"
                   "(metrics.listen on a free port), to measure what they cost.\n"
                   "--metrics-ab N: only the round trip, N pairs with metrics off and on back to\n"
                   "back, alternating which goes first, after a pair not counted; per figure\n"
                   "(orders_per_sec, orders_per_cpu_sec, rtt_p50_us, rtt_p99_us, rtt_p999_us)\n"
                   "the median of the ratios on / off, quartiles and a bootstrap 95%% interval\n"
                   "(JSON: metrics_ab).\n");
            return BRS_EXIT_OK;
        } else if (strcmp(argv[i], "--codec") == 0 && i + 1 < argc)
            n_codec = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--orders") == 0 && i + 1 < argc)
            n_orders = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc)
            inflight = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--eod-closed") == 0 && i + 1 < argc)
            eod_closed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--eod-open") == 0 && i + 1 < argc)
            eod_open_n = strtoull(argv[++i], NULL, 10);
        else
            return brs__usage_error("bench fix", "unknown option '%s'", argv[i]);
    }
    if (n_codec == 0 || n_orders == 0 || inflight == 0)
        return brs__usage_error("bench fix", "counts must be positive");
    if (ab && metrics)
        return brs__usage_error("bench fix", "--metrics-ab runs both sides: drop --metrics");
    if (ab)
        return metrics_ab(ab, n_orders, inflight, json);
    codec_result cr = {0};
    bench_codec(n_codec, &cr);
    rt_result rr = {0};
    char why[256] = "";
    if (round_trip(n_orders, inflight, metrics, &rr, why, sizeof why) != 0)
        return brs__fail("bench fix", "round trip: %s", why);
    eod_result er = {0};
    if (bench_eod(eod_closed, eod_open_n, &er, why, sizeof why) != 0)
        return brs__fail("bench fix", "end of day: %s", why);
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "parse_per_sec", cr.parse_per_sec);
        cJSON_AddNumberToObject(o, "parse_per_cpu_sec", cr.parse_per_cpu_sec);
        cJSON_AddNumberToObject(o, "parse_allocs", (double)cr.parse_allocs);
        cJSON_AddNumberToObject(o, "validate_per_sec", cr.validate_per_sec);
        cJSON_AddNumberToObject(o, "validate_per_cpu_sec", cr.validate_per_cpu_sec);
        cJSON_AddNumberToObject(o, "encode_per_sec", cr.encode_per_sec);
        cJSON_AddNumberToObject(o, "encode_per_cpu_sec", cr.encode_per_cpu_sec);
        cJSON_AddNumberToObject(o, "encode_allocs", (double)cr.encode_allocs);
        cJSON_AddNumberToObject(o, "order_bytes", (double)cr.msg_bytes);
        cJSON_AddStringToObject(o, "client", "C, QuickFIX 1.15 NewOrderSingle layout");
        cJSON_AddNumberToObject(o, "orders", (double)rr.orders);
        cJSON_AddNumberToObject(o, "inflight", inflight);
        cJSON_AddNumberToObject(o, "orders_per_sec", rr.orders_per_sec);
        cJSON_AddNumberToObject(o, "orders_per_cpu_sec", rr.orders_per_cpu_sec);
        cJSON_AddNumberToObject(o, "rtt_p50_us", rr.lat_us.p50);
        cJSON_AddNumberToObject(o, "rtt_p99_us", rr.lat_us.p99);
        cJSON_AddNumberToObject(o, "rtt_p999_us", rr.lat_us.p999);
        cJSON_AddNumberToObject(o, "eod_closed_orders", (double)er.closed);
        cJSON_AddNumberToObject(o, "eod_open_orders", (double)er.open);
        cJSON_AddNumberToObject(o, "eod_orders_held_before", (double)er.held_before);
        cJSON_AddNumberToObject(o, "eod_orders_held_after", (double)er.held_after);
        cJSON_AddNumberToObject(o, "eod_journal_bytes_before", (double)er.bytes_before);
        cJSON_AddNumberToObject(o, "eod_journal_bytes_after", (double)er.bytes_after);
        cJSON_AddNumberToObject(o, "eod_ms", er.eod_ms);
        cJSON_AddNumberToObject(o, "eod_replay_full_ms", er.replay_full_ms);
        cJSON_AddNumberToObject(o, "eod_replay_compacted_ms", er.replay_compacted_ms);
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("codec (one core, %zu-byte QuickFIX-layout NewOrderSingle):\n", cr.msg_bytes);
        printf("  parse   %10.0f msg/s wall, %10.0f msg/s CPU  (allocations in timed loop: %lld)\n",
               cr.parse_per_sec, cr.parse_per_cpu_sec, (long long)cr.parse_allocs);
        printf("  parse+validate %10.0f msg/s wall, %10.0f msg/s CPU  (FIX 4.4 dictionary)\n",
               cr.validate_per_sec, cr.validate_per_cpu_sec);
        printf("  encode  %10.0f msg/s wall, %10.0f msg/s CPU  (fill ExecutionReport; allocations: %lld)\n",
               cr.encode_per_sec, cr.encode_per_cpu_sec, (long long)cr.encode_allocs);
        printf("round trip over loopback, %llu orders, %u in flight (C client, QuickFIX layout):\n",
               (unsigned long long)rr.orders, inflight);
        printf("  %10.0f orders/s   ack latency p50 %.1f us  p99 %.1f us  p99.9 %.1f us\n",
               rr.orders_per_sec, rr.lat_us.p50, rr.lat_us.p99, rr.lat_us.p999);
        printf("end of day, %llu closed + %llu open orders (in memory, journal in /tmp):\n",
               (unsigned long long)er.closed, (unsigned long long)er.open);
        printf("  compaction %.1f ms   orders held %llu -> %llu   journal %llu -> %llu bytes\n",
               er.eod_ms, (unsigned long long)er.held_before, (unsigned long long)er.held_after,
               (unsigned long long)er.bytes_before, (unsigned long long)er.bytes_after);
        printf("  restart replay: full journal %.1f ms, compacted %.1f ms\n", er.replay_full_ms,
               er.replay_compacted_ms);
    }
    return BRS_EXIT_OK;
}
