/* cmd_record.c: `bourse record CONFIG.json -o FILE.ticks.zst`: connect to a live
 * Binance USD-M style feed and record the normalized events (exchange and local
 * timestamps) into a tick file. Recording carries on across reconnects and
 * resyncs; every complete block is written whole and fdatasync'ed, so a crash
 * loses at most the block in progress (docs/websocket.md, docs/tick-format.md). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/core.h"
#include "feeds/binance_live.h"
#include "record/feed_config.h"
#include "ticks/tickfile.h"

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse record CONFIG.json -o FILE.ticks.zst [--set key=value]... [--duration S] [--quiet]\n"
            "\n"
            "Records a live Binance USD-M style feed (depth updates, book ticker, aggregate\n"
            "trades; books synced from REST snapshots) into a tick file until interrupted\n"
            "(Ctrl-C), duration_s or max_events. Survives disconnects: it reconnects,\n"
            "resyncs every book (a SNAPSHOT_BEGIN..END in the file) and carries on.\n"
            "\n"
            "CONFIG keys:\n"
            "  ws_url        \"wss://fstream.binance.com/stream\" (required)\n"
            "  rest_url      \"https://fapi.binance.com/fapi/v1/depth?symbol={SYMBOL}&limit=1000\"\n"
            "  symbols       [{\"symbol\": \"BTCUSDT\", \"price_decimals\": 1, \"qty_decimals\": 3}, ...]\n"
            "                (required; prices are stored x10^price_decimals, quantities x10^qty_decimals)\n"
            "  depth_stream  \"@depth@100ms\"      subscribe  true\n"
            "  kline_interval \"1m\" (also closed klines, as BAR events; default none)\n"
            "  ping_ms, idle_timeout_ms, backoff_min_ms, backoff_max_ms, max_message\n"
            "  tls_verify    true                ca_file    \"extra-ca.pem\"\n"
            "  duration_s    0 (until interrupted)   max_events  0 (no limit)\n"
            "  block_records 4096 (events per block: what a crash can lose at most)\n"
            "  stop_on_server_close  false (stop when the server closes normally: replays)\n");
}

typedef struct rec {
    brs_tick_writer *w;
    brs_error err;
    int failed;
    uint64_t n;
    int quiet;
} rec;

static int sink(void *ud, const brs_market_event *ev)
{
    rec *r = ud;
    if (r->failed)
        return BRS_E_IO;
    if (brs__tick_writer_add(r->w, ev, &r->err) != BRS_OK) {
        r->failed = 1;
        stop_flag = 1;
        return BRS_E_IO;
    }
    r->n++;
    return 0;
}

static void log_line(void *ud, int level, const char *msg)
{
    rec *r = ud;
    brs__feed_log("record", r->quiet, level, msg);
}

static void log_retry(void *ud, uint64_t attempt, int64_t delay_ns, const char *why)
{
    (void)ud;
    brs__feed_log_retry("record", attempt, delay_ns, why);
}

int brs__cmd_record(int argc, char **argv)
{
    const char *cfg_path = NULL, *out = NULL;
    const char *sets[64];
    int nsets = 0, quiet = 0;
    double duration = -1;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            usage(stdout);
            return BRS_EXIT_OK;
        } else if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (++i >= argc)
                return brs__usage_error("record", "%s needs a file", argv[i - 1]);
            out = argv[i];
        } else if (strcmp(argv[i], "--set") == 0) {
            if (++i >= argc)
                return brs__usage_error("record", "--set needs key=value");
            if (nsets == 64)
                return brs__usage_error("record", "too many --set");
            sets[nsets++] = argv[i];
        } else if (strcmp(argv[i], "--duration") == 0) {
            char *end;
            if (++i >= argc)
                return brs__usage_error("record", "--duration needs seconds");
            duration = strtod(argv[i], &end);
            if (*end || !(duration >= 0))
                return brs__usage_error("record", "--duration: '%s' is not a number of seconds", argv[i]);
        } else if (strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return brs__usage_error("record", "unknown option '%s'", argv[i]);
        else if (!cfg_path)
            cfg_path = argv[i];
        else
            return brs__usage_error("record", "unexpected argument '%s'", argv[i]);
    }
    if (!cfg_path)
        return brs__usage_error("record", "missing CONFIG.json");
    if (!out)
        return brs__usage_error("record", "missing -o FILE.ticks.zst");

    brs_config cfg;
    brs_error e = {0};
    if (brs__config_load(&cfg, cfg_path, &e))
        return brs__fail("record", "%s", e.msg);
    int code = BRS_EXIT_FAIL;
    for (int i = 0; i < nsets; i++)
        if (brs__config_set(&cfg, sets[i], &e)) {
            brs__config_free(&cfg);
            return brs__fail("record", "%s", e.msg);
        }
    brs__feed_cfg fc;
    brs__bn_live *live = NULL;
    rec r = {.quiet = quiet};
    if (brs__feed_cfg_parse(&fc, &cfg, 0, &e)) {
        brs__fail("record", "%s", e.msg);
        goto done;
    }
    if (duration >= 0)
        fc.duration_s = duration;
    live = calloc(1, sizeof *live);
    if (!live) {
        brs__fail("record", "out of memory");
        goto done;
    }
    brs_tick_writer_opts wo = {.block_records = (uint32_t)fc.block_records, .sync = 1};
    if (brs__tick_writer_open(&r.w, out, fc.instr, fc.n, &wo, &e)) {
        brs__fail("record", "%s", e.msg);
        goto done;
    }
    brs__bn_live_opts lo = fc.live;
    lo.sink = sink;
    lo.ud = &r;
    lo.log = log_line;
    lo.on_retry = log_retry;
    if (brs__bn_live_init(live, &lo, &e)) {
        brs__bn_live_free(live);
        brs__tick_writer_abort(r.w);
        remove(out); /* nothing was recorded */
        brs__fail("record", "%s", e.msg);
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    stop_flag = 0;
    int64_t t0 = brs__monotime_ns();
    int64_t t_end = fc.duration_s > 0 ? t0 + (int64_t)(fc.duration_s * 1e9) : INT64_MAX;
    while (!stop_flag) {
        int rc = brs__bn_live_wait(live, 100);
        if (rc == BRS_E_CLOSED)
            break;
        if (fc.stop_on_close && live->ws.last_close_received == 1000)
            break;
        if (fc.max_events > 0 && r.n >= (uint64_t)fc.max_events)
            break;
        if (brs__monotime_ns() >= t_end)
            break;
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (!quiet)
        fprintf(stderr,
                "bourse record: %llu events to %s (%llu connections, %llu snapshots, %llu gaps, "
                "%llu rejected messages)\n",
                (unsigned long long)r.n, out, (unsigned long long)live->ws.n_connects,
                (unsigned long long)live->n_snapshots, (unsigned long long)live->n_gaps,
                (unsigned long long)live->n_bad_messages);
    brs__bn_live_free(live);
    if (r.failed) {
        brs__tick_writer_abort(r.w); /* complete blocks already on disk stay readable */
        brs__fail("record", "%s", r.err.msg);
        goto done;
    }
    if (brs__tick_writer_close(r.w, &e)) {
        brs__fail("record", "%s", e.msg);
        goto done;
    }
    code = BRS_EXIT_OK;
done:
    brs__feed_cfg_free(&fc);
    free(live);
    brs__config_free(&cfg);
    return code;
}
