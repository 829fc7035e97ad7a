/* test_record.c: `bourse record` against the loopback replay server: the
 * connection drops mid-stream, the recording carries on through the reconnect
 * and resync, `bourse ticks verify` accepts the file, and replaying the file's
 * L2 events (our own replay, and `bourse ticks book`) rebuilds exactly the
 * book the server (and the live client) held at the end. A recorder killed with SIGKILL leaves a readable file (complete
 * blocks), and bad configs fail with the key named. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "support/files.h"
#include "feeds/binance.h"
#include "replay_server.h"
#include "support/subprocess.h"
#include "ticks/tickfile.h"

static const struct {
    const char *sym;
    int pd;
} syms[] = {{"SUSHIUSDT", 4}, {"AKROUSDT", 5}, {"KEEPUSDT", 4}, {"CTKUSDT", 5}};

static void write_config(const char *path, int port, int stop_on_close, int block_records)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"ws_url\": \"ws://127.0.0.1:%d/stream\",\n"
            " \"rest_url\": \"http://127.0.0.1:%d/fapi/v1/depth?symbol={SYMBOL}&limit=1000\",\n"
            " \"backoff_min_ms\": 50, \"block_records\": %d, \"duration_s\": 60,\n"
            " \"stop_on_server_close\": %s, \"kline_interval\": \"1m\",\n \"symbols\": [",
            port, port, block_records, stop_on_close ? "true" : "false");
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s{\"symbol\": \"%s\", \"price_decimals\": %d, \"qty_decimals\": 0}", i ? ", " : "",
                syms[i].sym, syms[i].pd);
    fprintf(f, "]}\n");
    fclose(f);
}

/* Rebuild the books from the file; returns SNAPSHOT_BEGIN count. */
static int rebuild(const char *path, brs__l2_book *books, uint64_t *events, int *cut)
{
    brs_tick_reader r;
    brs_error e = {0};
    if (brs__tick_open(&r, path, &e) != BRS_OK)
        fail_msg("open %s: %s", path, e.msg);
    assert_int_equal(r.n_instr, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(r.instr[i].symbol, syms[i].sym);
        brs__l2_init(&books[i], 0);
    }
    int snaps = 0;
    *events = 0;
    const brs_market_event *ev;
    int64_t last_local = 0;
    while ((ev = brs__tick_next(&r)) != NULL) {
        (*events)++;
        assert_true(ev->instrument < 4);
        assert_true(ev->ts_exchange > 1600000000000000000LL);
        assert_true(ev->ts_local >= last_local); /* recorded in receive order */
        last_local = ev->ts_local;
        switch (ev->kind) {
        case BRS_MEV_SNAPSHOT_BEGIN:
            brs__l2_clear(&books[ev->instrument]);
            snaps++;
            break;
        case BRS_MEV_LEVEL_SET: brs__l2_set(&books[ev->instrument], ev->side, ev->price, ev->qty); break;
        case BRS_MEV_LEVEL_DELETE: brs__l2_set(&books[ev->instrument], ev->side, ev->price, 0); break;
        default: break;
        }
    }
    assert_int_equal(r.iter_err.code, BRS_OK);
    *cut = r.cut;
    brs__tick_close(&r);
    return snaps;
}

static void compare_final(brs__l2_book *books, cJSON *final)
{
    static brs_level lv[4096];
    for (int i = 0; i < 4; i++) {
        cJSON *b = cJSON_GetObjectItemCaseSensitive(final, syms[i].sym);
        const char *keys[2] = {"bids", "asks"};
        for (int s = 0; s < 2; s++) {
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(b, keys[s]);
            uint32_t n = brs__l2_depth(&books[i], s, lv, 4096);
            if (n != (uint32_t)cJSON_GetArraySize(arr))
                fail_msg("%s %s: %u levels in the recording, %d at the server", syms[i].sym, keys[s], n,
                         cJSON_GetArraySize(arr));
            uint32_t k = 0;
            cJSON *it;
            cJSON_ArrayForEach(it, arr)
            {
                int pd = syms[i].pd, qd = 0;
                int64_t p, q;
                const char *ps = cJSON_GetArrayItem(it, 0)->valuestring;
                const char *qs = cJSON_GetArrayItem(it, 1)->valuestring;
                assert_int_equal(brs__dec_parse(ps, strlen(ps), &pd, &p), BRS_OK);
                assert_int_equal(brs__dec_parse(qs, strlen(qs), &qd, &q), BRS_OK);
                assert_int_equal(lv[k].price, p);
                assert_int_equal(lv[k].qty, q);
                k++;
            }
        }
    }
}

/* The last row `bourse ticks book FILE --levels 10 --symbol S` prints must be
 * the top 10 levels of the server's final book (the book the live client held). */
static void check_ticks_book(const char *file, cJSON *final)
{
    for (int i = 0; i < 4; i++) {
        const char *a[] = {"ticks", "book", file, "--levels", "10", "--format", "lobster",
                           "--symbol", syms[i].sym, NULL};
        run_result rr = run(a);
        if (rr.status != 0)
            fail_msg("ticks book %s: exit %d: %s", syms[i].sym, rr.status, rr.err);
        size_t len = strlen(rr.out);
        assert_true(len > 0);
        while (len > 0 && rr.out[len - 1] == '\n')
            rr.out[--len] = '\0';
        const char *last = strrchr(rr.out, '\n');
        last = last ? last + 1 : rr.out;
        long long v[40];
        const char *p = last;
        for (int k = 0; k < 40; k++) {
            char *end;
            v[k] = strtoll(p, &end, 10);
            assert_true(end != p);
            p = *end == ',' ? end + 1 : end;
        }
        cJSON *b = cJSON_GetObjectItemCaseSensitive(final, syms[i].sym);
        cJSON *asks = cJSON_GetObjectItemCaseSensitive(b, "asks");
        cJSON *bids = cJSON_GetObjectItemCaseSensitive(b, "bids");
        for (int k = 0; k < 10; k++) {
            int pd = syms[i].pd, qd = 0;
            int64_t ap, aq, bp, bq;
            cJSON *x = cJSON_GetArrayItem(asks, k), *y = cJSON_GetArrayItem(bids, k);
            assert_non_null(x);
            assert_non_null(y);
            const char *s1 = cJSON_GetArrayItem(x, 0)->valuestring, *s2 = cJSON_GetArrayItem(x, 1)->valuestring;
            const char *s3 = cJSON_GetArrayItem(y, 0)->valuestring, *s4 = cJSON_GetArrayItem(y, 1)->valuestring;
            assert_int_equal(brs__dec_parse(s1, strlen(s1), &pd, &ap), BRS_OK);
            assert_int_equal(brs__dec_parse(s2, strlen(s2), &qd, &aq), BRS_OK);
            assert_int_equal(brs__dec_parse(s3, strlen(s3), &pd, &bp), BRS_OK);
            assert_int_equal(brs__dec_parse(s4, strlen(s4), &qd, &bq), BRS_OK);
            if (v[4 * k] != ap || v[4 * k + 1] != aq || v[4 * k + 2] != bp || v[4 * k + 3] != bq)
                fail_msg("%s level %d: ticks book %lld,%lld,%lld,%lld, server %lld,%lld,%lld,%lld",
                         syms[i].sym, k, v[4 * k], v[4 * k + 1], v[4 * k + 2], v[4 * k + 3],
                         (long long)ap, (long long)aq, (long long)bp, (long long)bq);
        }
        run_free(&rr);
    }
}

static void test_record_replay(void **st)
{
    (void)st;
    SKIP_WITHOUT_SERVER(1);
    server s = {0};
    assert_int_equal(server_start(&s, 1, "500", "23"), 0);
    char cfg[128], out[128];
    snprintf(cfg, sizeof cfg, "/tmp/brs_rec_%d.json", (int)getpid());
    snprintf(out, sizeof out, "/tmp/brs_rec_%d.ticks.zst", (int)getpid());
    write_config(cfg, s.port, 1, 512);
    const char *args[] = {"record", cfg, "-o", out, NULL};
    run_result rr = run(args);
    if (rr.status != 0)
        fail_msg("bourse record exit %d: %s", rr.status, rr.err);
    assert_non_null(strstr(rr.err, "2 connections")); /* the drop and the reconnect */
    run_free(&rr);
    /* it subscribed to every stream, the closed one-minute klines included */
    char subp[160], *sub = NULL;
    snprintf(subp, sizeof subp, "%s.sub", s.pf);
    sub = test_read_file(subp, NULL);
    assert_non_null(sub);
    for (int i = 0; i < 4; i++) {
        char want[64], low[32];
        size_t k = 0;
        for (; syms[i].sym[k]; k++)
            low[k] = (char)tolower((unsigned char)syms[i].sym[k]);
        low[k] = 0;
        snprintf(want, sizeof want, "\"%s@kline_1m\"", low);
        if (!strstr(sub, want))
            fail_msg("subscription lacks %s: %s", want, sub);
    }
    free(sub);
    unlink(subp);
    const char *vargs[] = {"ticks", "verify", out, NULL};
    rr = run(vargs);
    if (rr.status != 0)
        fail_msg("ticks verify exit %d: %s%s", rr.status, rr.out, rr.err);
    run_free(&rr);
    brs__l2_book books[4];
    uint64_t n;
    int cut;
    int snaps = rebuild(out, books, &n, &cut);
    assert_false(cut);
    assert_true(snaps >= 8); /* 4 at the start, 4 after the reconnect */
    cJSON *final = get_json(s.port, "/final");
    compare_final(books, final);
    check_ticks_book(out, final);
    cJSON_Delete(final);
    for (int i = 0; i < 4; i++)
        brs__l2_free(&books[i]);
    printf("recorded %llu events, %d snapshots\n", (unsigned long long)n, snaps);
    unlink(cfg);
    unlink(out);
    server_stop(&s);
}

static void test_record_killed(void **st)
{
    (void)st;
    SKIP_WITHOUT_SERVER(1);
    server s = {0};
    assert_int_equal(server_start_ex(&s, 1, NULL, NULL, 1), 0); /* stays connected */
    char cfg[128], out[128];
    snprintf(cfg, sizeof cfg, "/tmp/brs_reck_%d.json", (int)getpid());
    snprintf(out, sizeof out, "/tmp/brs_reck_%d.ticks.zst", (int)getpid());
    write_config(cfg, s.port, 0, 256);
    pid_t pid = fork();
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 2);
        execl(BOURSE_BIN, BOURSE_BIN, "record", cfg, "-o", out, "--quiet", (char *)NULL);
        _exit(127);
    }
    /* wait until a few blocks are on disk, then kill it mid-flight */
    for (int i = 0; i < 200; i++) {
        struct stat sb;
        if (stat(out, &sb) == 0 && sb.st_size > 60000)
            break;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    int wst;
    waitpid(pid, &wst, 0);
    brs__l2_book books[4];
    uint64_t n;
    int cut;
    rebuild(out, books, &n, &cut);
    assert_true(cut);    /* no footer: the tools say it was cut */
    assert_true(n >= 256); /* but every complete block is there */
    for (int i = 0; i < 4; i++)
        brs__l2_free(&books[i]);
    const char *vargs[] = {"ticks", "verify", out, NULL};
    run_result rr = run(vargs);
    assert_int_not_equal(rr.status, 0); /* verify says: cut */
    run_free(&rr);
    unlink(cfg);
    unlink(out);
    server_stop(&s);
}

static void test_record_bad_config(void **st)
{
    (void)st;
    char cfg[128];
    snprintf(cfg, sizeof cfg, "/tmp/brs_recb_%d.json", (int)getpid());
    FILE *f = fopen(cfg, "w");
    fprintf(f, "{\"ws_url\": \"ws://127.0.0.1:1/\", \"symbolz\": []}");
    fclose(f);
    const char *a1[] = {"record", cfg, "-o", "/tmp/brs_never.ticks.zst", NULL};
    run_result rr = run(a1);
    assert_int_equal(rr.status, 1);
    assert_non_null(strstr(rr.err, "symbolz"));
    run_free(&rr);
    f = fopen(cfg, "w");
    fprintf(f, "{\"ws_url\": \"ws://127.0.0.1:1/\", \"symbols\": [{\"symbol\": \"X\"}]}");
    fclose(f);
    rr = run(a1);
    assert_int_equal(rr.status, 1);
    assert_non_null(strstr(rr.err, "price_decimals"));
    run_free(&rr);
    f = fopen(cfg, "w");
    fprintf(f, "{\"ws_url\": \"ws://127.0.0.1:1/\", \"kline_interval\": \"2m\", \"symbols\": "
               "[{\"symbol\": \"X\", \"price_decimals\": 2}]}");
    fclose(f);
    rr = run(a1);
    assert_int_equal(rr.status, 1);
    assert_non_null(strstr(rr.err, "kline_interval"));
    run_free(&rr);
    const char *a2[] = {"record", cfg, NULL};
    rr = run(a2);
    assert_int_equal(rr.status, 2);
    run_free(&rr);
    const char *a3[] = {"record", cfg, "-o", "x", "--bogus", NULL};
    rr = run(a3);
    assert_int_equal(rr.status, 2);
    run_free(&rr);
    const char *a4[] = {"record", "--help", NULL};
    rr = run(a4);
    assert_int_equal(rr.status, 0);
    assert_non_null(strstr(rr.out, "usage: bourse record"));
    run_free(&rr);
    unlink(cfg);
    assert_int_not_equal(access("/tmp/brs_never.ticks.zst", F_OK), 0);
}

/* One `bourse live` run of live_taker.lua buying `qty` (then selling it back)
 * with one --set, against a fresh replay server (the stream drops after 700
 * messages and the client reconnects); returns the parsed JSON (NULL when the
 * run failed: *rr kept). */
static cJSON *live_run(const char *cfg, const char *qty, const char *set, run_result *rr)
{
    server s = {0};
    assert_int_equal(server_start(&s, 1, "700", "11"), 0);
    write_config(cfg, s.port, 1, 512);
    const char *a[] = {"live", cfg, "--strategy", BOURSE_SOURCE_DIR "/tests/ws/scripts/live_taker.lua",
                       "--param", "after=15", "--param", qty, "--set", set, "--json", NULL};
    *rr = run(a);
    server_stop(&s);
    if (rr->status != 0)
        return NULL;
    cJSON *j = cJSON_Parse(rr->out);
    assert_non_null(j);
    return j;
}

static double num(const cJSON *j, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, k);
    assert_true(cJSON_IsNumber(x));
    return x->valuedouble;
}

static void assert_flat(const cJSON *j)
{
    cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "instruments"))
        assert_int_equal((int)num(x, "position"), 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "error"));
}

/* `bourse live`: the Lua strategy trades on the replayed feed (with a drop and a
 * reconnect) and ends flat. By default its orders go to the simulated exchange
 * on the live book: a buy of 1000 is bigger than the best ask, so it walks the
 * book (several fills each way) and pays the configured taker fee; with
 * paper.fill "touch" the same orders fill whole at the touch, one fill each,
 * no fee. Bad paper settings are refused naming the key. */
static void test_live_strategy(void **st)
{
    (void)st;
    SKIP_WITHOUT_SERVER(1);
    char cfg[128];
    snprintf(cfg, sizeof cfg, "/tmp/brs_live_%d.json", (int)getpid());
    run_result rr;
    cJSON *j = live_run(cfg, "qty=1000", "paper.params.taker_fee_bps=4", &rr);
    if (!j)
        fail_msg("bourse live exit %d: %s %s", rr.status, rr.out, rr.err);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "fill_model")->valuestring, "book");
    assert_true(num(j, "fills") >= 4); /* more than one fill each way: it walked the book */
    assert_true(num(j, "fees") > 0);
    assert_true(num(j, "callbacks") > 100);
    /* per instrument: the fees are SUSHIUSDT's, net = realized + unrealized -
     * fees, and in USDT divided by 10^(price_decimals 4 + qty_decimals 0) */
    cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "instruments")) {
        int sushi = !strcmp(cJSON_GetObjectItemCaseSensitive(x, "symbol")->valuestring, "SUSHIUSDT");
        double fee = num(x, "fees"), net = num(x, "net_pnl");
        assert_true(sushi ? fee == num(j, "fees") : fee == 0);
        assert_true(net == num(x, "realized_pnl") + num(x, "unrealized_pnl") - fee);
        if (sushi)
            assert_true(fabs(num(x, "net_pnl_quote") - net / 1e4) < 1e-9);
    }
    assert_int_equal((int)num(j, "connections"), 2);
    assert_flat(j);
    cJSON_Delete(j);
    run_free(&rr);

    /* simulated latency: the buy reaches the venue 60 ms later, its fills come
     * back 20 ms after that */
    j = live_run(cfg, "qty=1000",
                 "paper={\"latency\": {\"order_entry_ns\": 60000000, \"response_ns\": 20000000}}",
                 &rr);
    if (!j)
        fail_msg("bourse live exit %d: %s %s", rr.status, rr.out, rr.err);
    assert_true(num(j, "fills") >= 4);
    assert_flat(j);
    const char *ff = strstr(rr.err, "first fill after ms ");
    assert_non_null(ff);
    assert_true(atoi(ff + strlen("first fill after ms ")) >= 80);
    cJSON_Delete(j);
    run_free(&rr);
    /* strategy.out: the hosted strategy's run directory, as serve writes for
     * its strategies (new with live on the runtime): both orders filled, one
     * fills.csv row per fill of the JSON */
    char out[128], path[200];
    snprintf(out, sizeof out, "/tmp/brs_live_out_%d", (int)getpid());
    snprintf(path, sizeof path, "strategy.out=%s", out);
    j = live_run(cfg, "qty=1000", path, &rr);
    if (!j)
        fail_msg("bourse live exit %d: %s %s", rr.status, rr.out, rr.err);
    snprintf(path, sizeof path, "%s/orders.csv", out);
    char *csv = test_read_file(path, NULL);
    assert_non_null(csv);
    int rows = 0, filled = 0;
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n'))
        rows++, filled += strstr(l, ",filled,") && strstr(l, ",filled,") < strchr(l + 1, '\n');
    assert_int_equal(rows, 2);
    assert_int_equal(filled, 2);
    free(csv);
    snprintf(path, sizeof path, "%s/fills.csv", out);
    csv = test_read_file(path, NULL);
    assert_non_null(csv);
    rows = -1;
    for (char *l = csv; (l = strchr(l, '\n')); l++)
        rows++;
    assert_int_equal(rows, (int)num(j, "fills"));
    free(csv);
    snprintf(path, sizeof path, "%s/summary.json", out);
    csv = test_read_file(path, NULL);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "live_taker in bourse live"));
    free(csv);
    static const char *const files[] = {"orders.csv", "fills.csv", "summary.json", "trades.csv", "equity.csv",
                                        "config.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        unlink(path);
    }
    rmdir(out);
    assert_flat(j);
    cJSON_Delete(j);
    run_free(&rr);
    j = live_run(cfg, "qty=1000", "paper.fill=touch", &rr);
    if (!j)
        fail_msg("bourse live exit %d: %s %s", rr.status, rr.out, rr.err);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "fill_model")->valuestring, "touch");
    assert_int_equal((int)num(j, "fills"), 2);
    assert_int_equal((int)num(j, "fees"), 0);
    assert_flat(j);
    cJSON_Delete(j);
    run_free(&rr);

    static const struct { const char *set, *says; } bad[] = {
        {"paper.fill=walk", "paper.fill"}, {"paper.venue=sim", "venue"},
        {"paper={\"latency\": {\"market_data\": 5}}", "market_data"},
        {"paper={\"latency\": {\"order_entry_ns\": -1}}", "paper.latency"},
        {"paper={\"fill\": \"touch\", \"latency\": {\"order_entry_ns\": 5}}", "paper.latency"},
        {"paper.plugin=noop", "not a venue"}, {"paper.params.taker_fee_bps=\"x\"", "taker_fee_bps"},
        {"paper={\"fill\": \"touch\", \"plugin\": \"sim\"}", "paper.plugin"},
        {"strategy.bogus=1", "bogus"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(live_run(cfg, "qty=1", bad[i].set, &rr));
        if (rr.status != 1 || !strstr(rr.err, bad[i].says))
            fail_msg("--set %s: exit %d, stderr %s", bad[i].set, rr.status, rr.err);
        run_free(&rr);
    }
    /* a config for live without any strategy is refused, naming what is missing */
    const char *b[] = {"live", cfg, NULL};
    rr = run(b);
    assert_int_equal(rr.status, 1);
    assert_non_null(strstr(rr.err, "strategy"));
    run_free(&rr);
    unlink(cfg);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_bad_config),
        cmocka_unit_test(test_record_replay),
        cmocka_unit_test(test_record_killed),
        cmocka_unit_test(test_live_strategy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
