/* cmd_live.c: `bourse live CONFIG.json --strategy FILE`: a strategy (Lua script
 * or C plugin) runs on a live Binance USD-M style feed and paper-trades. By
 * default its orders go to the simulated exchange fed with the live book
 * (host/record/paper.c: depth walking, partial fills, fees, queue position);
 * "paper": {"fill": "touch"} keeps the simple fill model (host/strategy/
 * simfill.c: everything at the live touch). Same feed configuration as
 * `bourse record`, plus "strategy": {"file": ..., "params": {...}} and
 * "paper": {"fill": ..., "plugin": ..., "params": {...}}. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/core.h"
#include "feeds/binance_live.h"
#include "ops/run_metrics.h"
#include "record/feed_config.h"
#include "record/paper.h"
#include "strategy/reload_watch.h"
#include "strategy/runtime.h"
#include "strategy/source.h"

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct live_run {
    brs__sctx sc;
    brs__paper *paper; /* NULL: the touch model */
    brs__bn_live *live;
    uint64_t events;
    int quiet;
    brs__run_metrics *metrics; /* metrics.listen; NULL off */
} live_run;

/* Each feed event goes to the strategy; after the last event of a depth
 * message (or a snapshot) the strategy's view of the book is refreshed first,
 * so xOnDepth and ctx:depth() see the whole message applied. */
static int sink(void *ud, const brs_market_event *ev)
{
    live_run *r = ud;
    r->events++;
    brs__run_metrics_feed(r->metrics, ev);
    if (r->sc.failed)
        return 0;
    brs__sctx_advance(&r->sc, brs__realtime_ns());
    if (r->paper) /* orders due before this event reach the venue first */
        brs__paper_poll(r->paper, r->sc.now);
    if ((ev->flags & BRS_MEVF_LAST) &&
        (ev->kind == BRS_MEV_LEVEL_SET || ev->kind == BRS_MEV_LEVEL_DELETE ||
         ev->kind == BRS_MEV_SNAPSHOT_END)) {
        brs__bn_symbol *y = brs__bn_get(&r->live->feed, ev->instrument);
        if (y) {
            brs_level lv[BRS__SCTX_DEPTH];
            for (uint8_t s = 0; s < 2; s++) {
                uint32_t n = brs__l2_depth(&y->book, s, lv, BRS__SCTX_DEPTH);
                brs__sctx_set_depth(&r->sc, ev->instrument, s, lv, n);
            }
        }
    }
    brs__sctx_on_market(&r->sc, ev);
    return 0;
}

static void log_line(void *ud, int level, const char *msg)
{
    live_run *r = ud;
    brs__feed_log("live", r->quiet, level, msg);
}

static void log_retry(void *ud, uint64_t attempt, int64_t delay_ns, const char *why)
{
    (void)ud;
    brs__feed_log_retry("live", attempt, delay_ns, why);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse live CONFIG.json [--strategy FILE.lua|FILE.so] [--param name=value]...\n"
            "                   [--set key=value]... [--duration S] [--metrics ADDR] [--json] [--quiet]\n"
            "\n"
            "Runs a strategy on a live Binance USD-M style feed, paper trading. Orders go to\n"
            "the simulated exchange fed with the live book: a taker walks the depth (partial\n"
            "fills, fees), a resting order waits its turn in the queue (docs/router.md, the\n"
            "sim venue). CONFIG has the keys of `bourse record --help` plus\n"
            "  strategy  {\"file\": \"strategies-lua/ma_cross.lua\", \"params\": {...}}\n"
            "  paper     {\"fill\": \"book\" (default) | \"touch\" (everything fills at the\n"
            "            touch, no fees or queue), \"plugin\": venue plugin (default \"sim\"),\n"
            "            \"params\": the venue's parameters, e.g. {\"taker_fee_bps\": 4},\n"
            "            \"latency\": {\"order_entry_ns\", \"cancel_ns\" (default: order_entry_ns),\n"
            "            \"response_ns\"}: simulated delays to and from the venue, default 0}\n"
            "  metrics   {\"listen\": \"127.0.0.1:9464\"}: Prometheus metrics at /metrics\n"
            "            (--metrics ADDR sets it; port 0 picks a free one, logged)\n"
            "A Lua strategy is reloaded in place when its file changes (positions and open\n"
            "orders stay; a script that does not load leaves the running one):\n"
            "  strategy.hot_reload (default true), strategy.reload_check_ms (default 200),\n"
            "  strategy.reload_max_bytes (default 4194304); docs/lua-api.md, \"Hot reload\".\n"
            "Stops on Ctrl-C, duration_s, max_events or (stop_on_server_close) a normal\n"
            "close by the server, then prints per instrument: position, PnL; fills and fees\n"
            "(--json: one JSON object on stdout).\n");
}

/* Price units x quantity units (10^-price_decimals x 10^-qty_decimals) in
 * the quote currency. */
static double net_quote(const brs__feed_cfg *fc, uint32_t i, int64_t v)
{
    return (double)v / pow(10, fc->pdec[i]) / pow(10, fc->qdec[i]);
}

static const char *const strat_keys[] = {"file", "params", BRS__RELOAD_CONFIG_KEYS, NULL};
static const char *const paper_keys[] = {"fill", "plugin", "params", "latency", NULL};
static const char *const latency_keys[] = {"order_entry_ns", "cancel_ns", "response_ns", NULL};
static const char *const metrics_keys[] = {"listen", NULL};

int brs__cmd_live(int argc, char **argv)
{
    const char *cfg_path = NULL, *strat_file = NULL;
    const char *sets[64];
    char metrics_set[160];
    int nsets = 0, quiet = 0, json = 0;
    double duration = -1;
    brs_config cfg;
    brs_error e = {0};
    char buf[600];
    const char *params_arg[64];
    int nparams = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (brs__is_help(a)) {
            usage(stdout);
            return BRS_EXIT_OK;
        } else if (!strcmp(a, "--strategy") || !strcmp(a, "--set") || !strcmp(a, "--param") ||
                   !strcmp(a, "--duration") || !strcmp(a, "--metrics")) {
            if (++i >= argc)
                return brs__usage_error("live", "%s needs a value", a);
            if (!strcmp(a, "--metrics")) {
                if (nsets >= 64)
                    return brs__usage_error("live", "too many --set");
                snprintf(metrics_set, sizeof metrics_set, "metrics.listen=%s", argv[i]);
                sets[nsets++] = metrics_set;
            } else if (!strcmp(a, "--strategy"))
                strat_file = argv[i];
            else if (!strcmp(a, "--duration")) {
                char *end;
                duration = strtod(argv[i], &end);
                if (*end || !(duration >= 0))
                    return brs__usage_error("live", "--duration: '%s' is not seconds", argv[i]);
            } else if (!strcmp(a, "--set")) {
                if (nsets == 64)
                    return brs__usage_error("live", "too many --set");
                sets[nsets++] = argv[i];
            } else {
                if (nparams == 64 || !strchr(argv[i], '='))
                    return brs__usage_error("live", "--param wants name=value");
                params_arg[nparams++] = argv[i];
            }
        } else if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (a[0] == '-' && a[1])
            return brs__usage_error("live", "unknown option '%s'", a);
        else if (!cfg_path)
            cfg_path = a;
        else
            return brs__usage_error("live", "unexpected argument '%s'", a);
    }
    if (!cfg_path)
        return brs__usage_error("live", "missing CONFIG.json");
    if (brs__config_load(&cfg, cfg_path, &e))
        return brs__fail("live", "%s", e.msg);
    for (int i = 0; i < nsets; i++)
        if (brs__config_set(&cfg, sets[i], &e)) {
            brs__config_free(&cfg);
            return brs__fail("live", "%s", e.msg);
        }
    for (int i = 0; i < nparams; i++) {
        snprintf(buf, sizeof buf, "strategy.params.%s", params_arg[i]);
        if (brs__config_set(&cfg, buf, &e)) {
            brs__config_free(&cfg);
            return brs__fail("live", "%s", e.msg);
        }
    }
    int code = BRS_EXIT_FAIL;
    brs__feed_cfg fc;
    brs__strategy_src src;
    memset(&src, 0, sizeof src);
    int src_loaded = 0, watching = 0, reload_on = 1;
    brs__reload_opts ro;
    brs__reload_watch rw;
    memset(&rw, 0, sizeof rw);
    brs__simfill fm;
    brs__simfill_init(&fm, 1024);
    brs__paper paper;
    memset(&paper, 0, sizeof paper);
    int use_book = 1;
    live_run *r = calloc(1, sizeof *r);
    brs__bn_live *live = calloc(1, sizeof *live);
    if (!r || !live) {
        memset(&fc, 0, sizeof fc);
        brs__fail("live", "out of memory");
        goto done;
    }
    r->quiet = quiet;
    r->live = live;
    if (brs__feed_cfg_parse(&fc, &cfg, 1, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    if (duration >= 0)
        fc.duration_s = duration;
    const cJSON *params = NULL;
    if (fc.strategy) {
        const char *f = NULL;
        if (brs__config_check_keys(&cfg, fc.strategy, "strategy", strat_keys, &e) ||
            brs__config_string(&cfg, fc.strategy, "strategy", "file", NULL, &f, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
        if (!strat_file)
            strat_file = f;
        params = cJSON_GetObjectItemCaseSensitive(fc.strategy, "params");
        if (brs__reload_opts_read(&cfg, fc.strategy, "strategy", &reload_on, &ro, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
        if (params && !cJSON_IsObject(params)) {
            brs__fail("live", "%s: strategy.params: expected an object", cfg.source);
            goto done;
        }
    }
    if (!strat_file) {
        brs__fail("live", "no strategy: give --strategy FILE or strategy.file in %s", cfg.source);
        goto done;
    }
    if (fc.paper) {
        const char *fill = NULL, *plugin = NULL;
        const cJSON *pp = cJSON_GetObjectItemCaseSensitive(fc.paper, "params");
        if (brs__config_check_keys(&cfg, fc.paper, "paper", paper_keys, &e) ||
            brs__config_string(&cfg, fc.paper, "paper", "fill", "book", &fill, &e) ||
            brs__config_string(&cfg, fc.paper, "paper", "plugin", "sim", &plugin, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
        if (strcmp(fill, "book") && strcmp(fill, "touch")) {
            brs__fail("live", "%s: paper.fill: '%s' is not \"book\" or \"touch\"", cfg.source, fill);
            goto done;
        }
        if (pp && !cJSON_IsObject(pp)) {
            brs__fail("live", "%s: paper.params: expected an object", cfg.source);
            goto done;
        }
        use_book = !strcmp(fill, "book");
        if (use_book && brs__paper_open(&paper, plugin, pp, fc.instr, fc.n, quiet, "paper", &e)) {
            brs__fail("live", "%s: %s", cfg.source, e.msg);
            goto done;
        }
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(fc.paper, "latency");
        if (lat) {
            int64_t ons, cns, rns;
            if (!cJSON_IsObject(lat)) {
                brs__fail("live", "%s: paper.latency: expected an object", cfg.source);
                goto done;
            }
            if (brs__config_check_keys(&cfg, lat, "paper.latency", latency_keys, &e) ||
                brs__config_int(&cfg, lat, "paper.latency", "order_entry_ns", 0, &ons, &e) ||
                brs__config_int(&cfg, lat, "paper.latency", "cancel_ns", ons, &cns, &e) ||
                brs__config_int(&cfg, lat, "paper.latency", "response_ns", 0, &rns, &e)) {
                brs__fail("live", "%s", e.msg);
                goto done;
            }
            if (ons < 0 || cns < 0 || rns < 0 || ons > 60000000000LL || cns > 60000000000LL ||
                rns > 60000000000LL) {
                brs__fail("live", "%s: paper.latency: each value must be 0..60e9 ns", cfg.source);
                goto done;
            }
            if (!use_book) {
                brs__fail("live", "%s: paper.latency goes with paper.fill \"book\"", cfg.source);
                goto done;
            }
            if (brs__paper_set_latency(&paper, ons, cns, rns)) {
                brs__fail("live", "out of memory");
                goto done;
            }
        }
    } else if (brs__paper_open(&paper, "sim", NULL, fc.instr, fc.n, quiet, "paper", &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    brs__lua_opts lua = {0};
    if (brs__strategy_src_load(&src, strat_file, &lua, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    src_loaded = 1;
    brs__exec ex = use_book ? brs__paper_exec(&paper) : brs__simfill_exec(&fm);
    brs__sctx_opts so = {.name = src.name, .instruments = fc.instr, .n_instruments = fc.n,
                         .params = params, .params_where = "strategy.params", .exec = &ex,
                         .log_level = quiet ? BRS_LOG_WARN : BRS_LOG_INFO};
    if (brs__sctx_init(&r->sc, src.vt, &so, &e) || brs__strategy_src_open(&src, &r->sc, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    brs__paper_attach(&paper, &r->sc);
    r->paper = use_book ? &paper : NULL;
    if (fc.metrics) {
        const char *ml = NULL;
        if (brs__config_check_keys(&cfg, fc.metrics, "metrics", metrics_keys, &e) ||
            brs__config_string(&cfg, fc.metrics, "metrics", "listen", "", &ml, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
        brs__run_metrics_opts mo = {.listen = ml, .mode = "live", .venue = "binance", .every = 1};
        if (ml[0] && brs__run_metrics_start(&r->metrics, &mo, &r->sc, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
    }
    brs__sctx_advance(&r->sc, brs__realtime_ns());
    if (brs__sctx_start(&r->sc, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    if (!fc.strategy)
        brs__reload_opts_read(&cfg, NULL, "strategy", &reload_on, &ro, &e);
    if (src.is_lua && reload_on) {
        if (brs__reload_watch_init(&rw, strat_file, src.name, src.lua, &ro, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
        watching = 1;
    }
    brs__bn_live_opts lo = fc.live;
    lo.sink = sink;
    lo.ud = r;
    lo.log = log_line;
    lo.on_retry = log_retry;
    if (brs__bn_live_init(live, &lo, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    stop_flag = 0;
    int64_t t_end = fc.duration_s > 0 ? brs__monotime_ns() + (int64_t)(fc.duration_s * 1e9) : INT64_MAX;
    while (!stop_flag && !r->sc.failed) {
        /* wake for the strategy's timers too */
        int64_t nt = brs__sctx_next_timer(&r->sc), now = brs__realtime_ns();
        if (r->paper && brs__paper_next_due(r->paper) < nt)
            nt = brs__paper_next_due(r->paper);
        int timeout = 100;
        if (nt != INT64_MAX && nt - now < 100000000LL)
            timeout = nt <= now ? 0 : (int)((nt - now) / 1000000) + 1;
        int rc = brs__bn_live_wait(live, timeout);
        brs__sctx_advance(&r->sc, brs__realtime_ns());
        if (r->metrics) {
            brs__run_metrics_venue_up(r->metrics, live->ws.state == BRS__WS_OPEN);
            brs__run_metrics_sync(r->metrics, brs__monotime_ns(), 0);
        }
        if (r->paper)
            brs__paper_poll(r->paper, r->sc.now);
        if (watching) /* between events: a changed script is loaded in place */
            brs__reload_watch_poll(&rw, brs__monotime_ns());
        if (rc == BRS_E_CLOSED)
            break;
        if (fc.stop_on_close && live->ws.last_close_received == 1000)
            break;
        if (fc.max_events > 0 && r->events >= (uint64_t)fc.max_events)
            break;
        if (brs__monotime_ns() >= t_end)
            break;
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    brs__run_metrics_sync(r->metrics, brs__monotime_ns(), 1);
    if (!r->sc.failed && brs__sctx_stop(&r->sc, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    /* what is still on its way (the stop's cancels, a last order) is carried
     * out now, in order, so the positions below are what the venue did */
    if (r->paper)
        brs__paper_poll(r->paper, INT64_MAX);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "strategy", src.name);
    cJSON_AddNumberToObject(o, "events", (double)r->events);
    cJSON_AddNumberToObject(o, "callbacks", (double)r->sc.n_callbacks);
    uint64_t n_fills = use_book ? paper.n_fills : fm.n_fills;
    cJSON_AddStringToObject(o, "fill_model", use_book ? "book" : "touch");
    cJSON_AddNumberToObject(o, "fills", (double)n_fills);
    cJSON_AddNumberToObject(o, "fees", (double)(use_book ? paper.fees : 0));
    cJSON_AddNumberToObject(o, "connections", (double)live->ws.n_connects);
    cJSON_AddNumberToObject(o, "snapshots", (double)live->n_snapshots);
    cJSON_AddNumberToObject(o, "gaps", (double)live->n_gaps);
    cJSON_AddNumberToObject(o, "reloads", (double)rw.n_reloads);
    cJSON_AddNumberToObject(o, "reloads_refused", (double)rw.n_refused);
    cJSON *arr = cJSON_AddArrayToObject(o, "instruments");
    for (uint32_t i = 0; i < fc.n; i++) {
        brs_position p;
        brs__sctx_position(&r->sc, i, &p);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "symbol", fc.instr[i].symbol);
        cJSON_AddNumberToObject(x, "position", (double)p.qty);
        cJSON_AddNumberToObject(x, "realized_pnl", (double)p.realized_pnl);
        cJSON_AddNumberToObject(x, "unrealized_pnl", (double)p.unrealized_pnl);
        int64_t fee = use_book ? paper.fees_by_instr[i] : 0;
        cJSON_AddNumberToObject(x, "fees", (double)fee);
        cJSON_AddNumberToObject(x, "net_pnl", (double)(p.realized_pnl + p.unrealized_pnl - fee));
        cJSON_AddNumberToObject(x, "net_pnl_quote", net_quote(&fc, i, p.realized_pnl + p.unrealized_pnl - fee));
        cJSON_AddItemToArray(arr, x);
    }
    if (r->sc.failed)
        cJSON_AddStringToObject(o, "error", r->sc.error);
    if (json) {
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s);
        cJSON_free(s);
    } else {
        printf("live: strategy %s, %llu events, %llu callbacks, %llu fills (%s), fees %lld, "
               "%llu connections\n",
               src.name, (unsigned long long)r->events, (unsigned long long)r->sc.n_callbacks,
               (unsigned long long)n_fills, use_book ? "simulated exchange on the live book" : "at the touch",
               (long long)(use_book ? paper.fees : 0), (unsigned long long)live->ws.n_connects);
        for (uint32_t i = 0; i < fc.n; i++) {
            brs_position p;
            brs__sctx_position(&r->sc, i, &p);
            int64_t fee = use_book ? paper.fees_by_instr[i] : 0;
            printf("  %-12s position %lld  realized %lld  unrealized %lld  fees %lld (price units x "
                   "qty); net %.6g in the quote currency\n",
                   fc.instr[i].symbol, (long long)p.qty, (long long)p.realized_pnl,
                   (long long)p.unrealized_pnl, (long long)fee,
                   net_quote(&fc, i, p.realized_pnl + p.unrealized_pnl - fee));
        }
    }
    cJSON_Delete(o);
    if (r->sc.failed)
        brs__fail("live", "strategy failed: %s", r->sc.error);
    else
        code = BRS_EXIT_OK;
done:
    brs__reload_watch_free(&rw);
    if (live)
        brs__bn_live_free(live);
    if (r) {
        brs__run_metrics_stop(r->metrics);
        brs__sctx_free(&r->sc);
    }
    if (src_loaded)
        brs__strategy_src_free(&src);
    brs__simfill_free(&fm);
    brs__paper_close(&paper);
    brs__feed_cfg_free(&fc);
    free(live);
    free(r);
    brs__config_free(&cfg);
    return code;
}
