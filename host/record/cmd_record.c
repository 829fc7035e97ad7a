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
    if (level >= 2 || (!r->quiet && level >= 1))
        fprintf(stderr, "bourse record: %s\n", msg);
}

static const char *const root_keys[] = {"ws_url",        "rest_url",       "symbols",
                                        "depth_stream",  "subscribe",      "ping_ms",
                                        "idle_timeout_ms", "backoff_min_ms", "backoff_max_ms",
                                        "max_message",   "tls_verify",     "ca_file",
                                        "duration_s",    "max_events",     "block_records",
                                        "stop_on_server_close", NULL};
static const char *const sym_keys[] = {"symbol", "price_decimals", "qty_decimals", NULL};

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
    const cJSON *root = cfg.root;
    const char *ws_url, *rest_url, *depth_stream, *ca_file;
    int64_t ping_ms, idle_ms, bmin_ms, bmax_ms, max_msg, max_events, block_records;
    int subscribe, tls_verify, stop_on_close;
    double duration_s;
    char *names_buf = NULL;
    const char **names = NULL;
    int *pdec = NULL, *qdec = NULL;
    brs_instrument *instr = NULL;
    brs__bn_live *live = NULL;
    rec r = {.quiet = quiet};
    if (brs__config_check_keys(&cfg, root, "", root_keys, &e) ||
        brs__config_string(&cfg, root, "", "ws_url", NULL, &ws_url, &e) ||
        brs__config_string(&cfg, root, "", "rest_url",
                           "https://fapi.binance.com/fapi/v1/depth?symbol={SYMBOL}&limit=1000",
                           &rest_url, &e) ||
        brs__config_string(&cfg, root, "", "depth_stream", "@depth@100ms", &depth_stream, &e) ||
        brs__config_string(&cfg, root, "", "ca_file", NULL, &ca_file, &e) ||
        brs__config_int(&cfg, root, "", "ping_ms", 0, &ping_ms, &e) ||
        brs__config_int(&cfg, root, "", "idle_timeout_ms", 0, &idle_ms, &e) ||
        brs__config_int(&cfg, root, "", "backoff_min_ms", 0, &bmin_ms, &e) ||
        brs__config_int(&cfg, root, "", "backoff_max_ms", 0, &bmax_ms, &e) ||
        brs__config_int(&cfg, root, "", "max_message", 0, &max_msg, &e) ||
        brs__config_int(&cfg, root, "", "max_events", 0, &max_events, &e) ||
        brs__config_int(&cfg, root, "", "block_records", 4096, &block_records, &e) ||
        brs__config_bool(&cfg, root, "", "subscribe", 1, &subscribe, &e) ||
        brs__config_bool(&cfg, root, "", "tls_verify", 1, &tls_verify, &e) ||
        brs__config_bool(&cfg, root, "", "stop_on_server_close", 0, &stop_on_close, &e) ||
        brs__config_double(&cfg, root, "", "duration_s", 0, &duration_s, &e)) {
        brs__fail("record", "%s", e.msg);
        goto done;
    }
    if (!ws_url) {
        brs__fail("record", "%s: ws_url is required", cfg.source);
        goto done;
    }
    if (block_records < 1 || block_records > (1 << 20) || max_events < 0 || duration_s < 0 ||
        max_msg < 0) {
        brs__fail("record", "%s: block_records must be 1..1048576, max_events, max_message and "
                            "duration_s >= 0", cfg.source);
        goto done;
    }
    if (duration >= 0)
        duration_s = duration;
    const cJSON *syms = cJSON_GetObjectItemCaseSensitive(root, "symbols");
    int ns = cJSON_IsArray(syms) ? cJSON_GetArraySize(syms) : 0;
    if (ns < 1 || ns > BRS__BN_LIVE_MAX_SYMBOLS) {
        brs__fail("record", "%s: symbols must be an array of 1..%d objects", cfg.source,
                  BRS__BN_LIVE_MAX_SYMBOLS);
        goto done;
    }
    names = calloc((size_t)ns, sizeof *names);
    names_buf = calloc((size_t)ns, BRS_SYMBOL_MAX);
    pdec = calloc((size_t)ns, sizeof *pdec);
    qdec = calloc((size_t)ns, sizeof *qdec);
    instr = calloc((size_t)ns, sizeof *instr);
    live = calloc(1, sizeof *live);
    if (!names || !names_buf || !pdec || !qdec || !instr || !live) {
        brs__fail("record", "out of memory");
        goto done;
    }
    for (int i = 0; i < ns; i++) {
        const cJSON *s = cJSON_GetArrayItem(syms, i);
        char where[32];
        snprintf(where, sizeof where, "symbols[%d]", i);
        const char *name;
        int64_t pd, qd;
        if (!cJSON_IsObject(s)) {
            brs__fail("record", "%s: %s must be an object", cfg.source, where);
            goto done;
        }
        if (brs__config_check_keys(&cfg, s, where, sym_keys, &e) ||
            brs__config_string(&cfg, s, where, "symbol", NULL, &name, &e) ||
            brs__config_int(&cfg, s, where, "price_decimals", -1, &pd, &e) ||
            brs__config_int(&cfg, s, where, "qty_decimals", -1, &qd, &e)) {
            brs__fail("record", "%s", e.msg);
            goto done;
        }
        if (!name || !name[0] || strlen(name) >= BRS_SYMBOL_MAX || pd < 0 || pd > 18 || qd < 0 ||
            qd > 18) {
            brs__fail("record",
                      "%s: %s needs \"symbol\" (< %d chars), \"price_decimals\" and "
                      "\"qty_decimals\" (0..18): the tick file stores scaled integers",
                      cfg.source, where, BRS_SYMBOL_MAX);
            goto done;
        }
        char *nb = names_buf + (size_t)i * BRS_SYMBOL_MAX;
        snprintf(nb, BRS_SYMBOL_MAX, "%s", name);
        names[i] = nb;
        pdec[i] = (int)pd;
        qdec[i] = (int)qd;
        instr[i].id = (uint32_t)i;
        snprintf(instr[i].symbol, sizeof instr[i].symbol, "%s", name);
        instr[i].price_scale = 1;
        for (int k = 0; k < pd; k++)
            instr[i].price_scale *= 10;
        instr[i].tick_size = 1;
        instr[i].lot_size = 1;
    }
    brs_tick_writer_opts wo = {.block_records = (uint32_t)block_records, .sync = 1};
    if (brs__tick_writer_open(&r.w, out, instr, (uint32_t)ns, &wo, &e)) {
        brs__fail("record", "%s", e.msg);
        goto done;
    }
    brs__bn_live_opts lo = {.ws_url = ws_url,
                            .rest_url = rest_url,
                            .symbols = names,
                            .nsymbols = (uint32_t)ns,
                            .price_dec = pdec,
                            .qty_dec = qdec,
                            .subscribe = subscribe,
                            .depth_stream = depth_stream,
                            .sink = sink,
                            .ud = &r,
                            .log = log_line};
    lo.ws.ping_interval_ns = ping_ms * 1000000;
    lo.ws.idle_timeout_ns = idle_ms * 1000000;
    lo.ws.backoff_min_ns = bmin_ms * 1000000;
    lo.ws.backoff_max_ns = bmax_ms * 1000000;
    lo.ws.max_message = (size_t)max_msg;
    lo.ws.tls.verify = tls_verify;
    lo.ws.tls.ca_file = ca_file;
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
    int64_t t_end = duration_s > 0 ? t0 + (int64_t)(duration_s * 1e9) : INT64_MAX;
    while (!stop_flag) {
        int rc = brs__bn_live_wait(live, 100);
        if (rc == BRS_E_CLOSED)
            break;
        if (stop_on_close && live->ws.last_close_received == 1000)
            break;
        if (max_events > 0 && r.n >= (uint64_t)max_events)
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
    free(names);
    free(names_buf);
    free(pdec);
    free(qdec);
    free(instr);
    free(live);
    brs__config_free(&cfg);
    return code;
}
