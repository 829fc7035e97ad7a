/* cmd_live.c: `bourse live CONFIG.json --strategy FILE`: a strategy (Lua script
 * or C plugin) runs on a live Binance USD-M style feed and paper-trades, as a
 * configuration of the one runtime (host/runtime): the feed's events are
 * replayed on the real clock into the runtime's venue (record/live_rt.c: the
 * simulated exchange fed with the live book by default, with depth walking,
 * partial fills, fees and queue position; "paper": {"fill": "touch"} the touch
 * venue), the strategy is hosted by the runtime as in `bourse serve`
 * (runtime/rt_hosted.c, rt_strategy.c) and its orders take the order path.
 * Same feed configuration as `bourse record`, plus "strategy" (a serve
 * strategies[] entry's keys), "paper" and "metrics". */
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
#include "record/live_rt.h"
#include "runtime/rt_hosted.h"

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct live_run {
    brs__live_rt lr;
    brs__rt_hosted *hs;
    brs__sctx *sc;             /* the hosted strategy's context */
    uint64_t events;
    int quiet;
    brs__run_metrics *metrics; /* metrics.listen; NULL off */
} live_run;

/* Each feed event is replayed into the runtime's venue at the real clock's
 * time; what the venue shows reaches the strategy (rt_strategy.c: its depth
 * from the whole L2 book after the last event of each message). */
static int sink(void *ud, const brs_market_event *ev)
{
    live_run *r = ud;
    r->events++;
    brs__run_metrics_feed(r->metrics, ev);
    if (!r->sc->failed)
        brs__live_rt_market(&r->lr, ev, brs__realtime_ns());
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
            "Runs a strategy on a live Binance USD-M style feed, paper trading, on the same\n"
            "runtime as backtests and `bourse serve`. Orders go to the simulated exchange fed\n"
            "with the live book: a taker walks the depth (partial fills, fees), a resting\n"
            "order waits its turn in the queue (docs/router.md, the sim venue). CONFIG has\n"
            "the keys of `bourse record --help` plus\n"
            "  strategy  {\"file\": \"strategies-lua/ma_cross.lua\", \"params\": {...}} and the\n"
            "            other keys of a `bourse serve` strategies[] entry (seed, max_*,\n"
            "            name, out: a run directory, initial_cash, sample_every_ns)\n"
            "  paper     {\"fill\": \"book\" (default) | \"touch\" (the touch venue: everything\n"
            "            fills at the touch, no fees or queue), \"plugin\": venue plugin\n"
            "            (default \"sim\"), \"params\": the venue's parameters, e.g.\n"
            "            {\"taker_fee_bps\": 4}, \"latency\": {\"order_entry_ns\", \"cancel_ns\"\n"
            "            (default: order_entry_ns), \"response_ns\"}: simulated delays to and\n"
            "            from the venue, default 0}\n"
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

static const char *const metrics_keys[] = {"listen", NULL};

/* The "strategy" object of cfg (made when absent), its file set to --strategy. */
static cJSON *strategy_object(brs_config *cfg, const char *strat_file, brs_error *e)
{
    cJSON *so = cJSON_GetObjectItemCaseSensitive(cfg->root, "strategy");
    if (!so && !(so = cJSON_AddObjectToObject(cfg->root, "strategy"))) {
        brs__err(e, BRS_E_NOMEM, "out of memory");
        return NULL;
    }
    if (strat_file) {
        cJSON *f = cJSON_CreateString(strat_file);
        if (!f || (cJSON_GetObjectItemCaseSensitive(so, "file") ? !cJSON_ReplaceItemInObjectCaseSensitive(so, "file", f)
                                                                : !cJSON_AddItemToObject(so, "file", f))) {
            cJSON_Delete(f);
            brs__err(e, BRS_E_NOMEM, "out of memory");
            return NULL;
        }
    } else if (!cJSON_GetObjectItemCaseSensitive(so, "file")) {
        brs__err(e, BRS_E_INVAL, "no strategy: give --strategy FILE or strategy.file in %s", cfg->source);
        return NULL;
    }
    return so;
}

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
    live_run *r = calloc(1, sizeof *r);
    brs__bn_live *live = calloc(1, sizeof *live);
    memset(&fc, 0, sizeof fc);
    if (!r || !live) {
        brs__fail("live", "out of memory");
        goto done;
    }
    r->quiet = quiet;
    if (brs__feed_cfg_parse(&fc, &cfg, 1, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    if (duration >= 0)
        fc.duration_s = duration;
    cJSON *so = strategy_object(&cfg, strat_file, &e);
    if (!so) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    if (brs__live_rt_open(&r->lr, &cfg, fc.paper, fc.instr, fc.n, quiet, &e) ||
        brs__rt_hosted_open_one(&r->hs, r->lr.rt, &cfg, so, "strategy", "live",
                                quiet ? BRS_LOG_WARN : BRS_LOG_INFO, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    r->sc = brs__rt_hosted_sctx(r->hs, 0);
    brs__rt_strat *st = brs__rt_hosted_strat(r->hs, 0);
    /* the strategy's depth: the whole L2 book of the data reaching it */
    if (brs__rt_strats_l2_depth(brs__rt_hosted_set(r->hs), &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    if (fc.metrics) {
        const char *ml = NULL;
        if (brs__config_check_keys(&cfg, fc.metrics, "metrics", metrics_keys, &e) ||
            brs__config_string(&cfg, fc.metrics, "metrics", "listen", "", &ml, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
        brs__run_metrics_opts mo = {.listen = ml, .mode = "live", .venue = "binance", .every = 1};
        if (ml[0] && brs__run_metrics_start(&r->metrics, &mo, r->sc, &e)) {
            brs__fail("live", "%s", e.msg);
            goto done;
        }
    }
    brs__rt_advance(r->lr.rt, brs__realtime_ns());
    if (brs__rt_hosted_start(r->hs, &e)) {
        brs__fail("live", "%s", e.msg);
        goto done;
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
    brs__rt_strats *set = brs__rt_hosted_set(r->hs);
    while (!stop_flag && !r->sc->failed) {
        /* wake for the strategy's timers and what is on its way to or from the venue */
        int64_t nt = brs__rt_strats_next_timer(set), now = brs__realtime_ns();
        if (brs__rt_next_time(r->lr.rt) < nt)
            nt = brs__rt_next_time(r->lr.rt);
        int timeout = 100;
        if (nt != INT64_MAX && nt - now < 100000000LL)
            timeout = nt <= now ? 0 : (int)((nt - now) / 1000000) + 1;
        int rc = brs__bn_live_wait(live, timeout);
        brs__rt_advance(r->lr.rt, brs__realtime_ns());
        /* timers due fire; between events, a changed script is loaded in place */
        brs__rt_hosted_poll(r->hs, brs__monotime_ns());
        if (r->metrics) {
            brs__run_metrics_venue_up(r->metrics, live->ws.state == BRS__WS_OPEN);
            brs__run_metrics_sync(r->metrics, brs__monotime_ns(), 0);
        }
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
    int failed_before = r->sc->failed;
    brs__rt_advance(r->lr.rt, brs__realtime_ns());
    brs__rt_hosted_stop(r->hs); /* xStop: its open orders cancelled through the order path */
    /* what is still on its way (the stop's cancels, a last order) is carried
     * out now, in order, so the positions below are what the venue did */
    brs__live_rt_drain(&r->lr);
    if (!failed_before && r->sc->failed) {
        brs__fail("live", "%s", r->sc->error);
        goto done;
    }
    if (brs__rt_hosted_write(r->hs, &e)) { /* strategy.out: its run directory */
        brs__fail("live", "%s", e.msg);
        goto done;
    }
    uint64_t reloads, refused;
    brs__rt_hosted_reloads(r->hs, &reloads, &refused);
    const char *model = r->lr.touch ? "touch" : "book";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "strategy", r->sc->name);
    cJSON_AddNumberToObject(o, "events", (double)r->events);
    cJSON_AddNumberToObject(o, "callbacks", (double)brs__sctx_callbacks(r->sc));
    cJSON_AddStringToObject(o, "fill_model", model);
    cJSON_AddNumberToObject(o, "fills", (double)st->fills);
    cJSON_AddNumberToObject(o, "fees", (double)st->fees);
    cJSON_AddNumberToObject(o, "connections", (double)live->ws.n_connects);
    cJSON_AddNumberToObject(o, "snapshots", (double)live->n_snapshots);
    cJSON_AddNumberToObject(o, "gaps", (double)live->n_gaps);
    cJSON_AddNumberToObject(o, "reloads", (double)reloads);
    cJSON_AddNumberToObject(o, "reloads_refused", (double)refused);
    cJSON *arr = cJSON_AddArrayToObject(o, "instruments");
    for (uint32_t i = 0; i < fc.n; i++) {
        brs_position p;
        brs__sctx_position(r->sc, i, &p);
        int64_t fee = st->fees_by[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "symbol", fc.instr[i].symbol);
        cJSON_AddNumberToObject(x, "position", (double)p.qty);
        cJSON_AddNumberToObject(x, "realized_pnl", (double)p.realized_pnl);
        cJSON_AddNumberToObject(x, "unrealized_pnl", (double)p.unrealized_pnl);
        cJSON_AddNumberToObject(x, "fees", (double)fee);
        cJSON_AddNumberToObject(x, "net_pnl", (double)(p.realized_pnl + p.unrealized_pnl - fee));
        cJSON_AddNumberToObject(x, "net_pnl_quote", net_quote(&fc, i, p.realized_pnl + p.unrealized_pnl - fee));
        cJSON_AddItemToArray(arr, x);
    }
    if (r->sc->failed)
        cJSON_AddStringToObject(o, "error", r->sc->error);
    if (json) {
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s);
        cJSON_free(s);
    } else {
        printf("live: strategy %s, %llu events, %llu callbacks, %llu fills (%s), fees %lld, "
               "%llu connections\n",
               r->sc->name, (unsigned long long)r->events, (unsigned long long)brs__sctx_callbacks(r->sc),
               (unsigned long long)st->fills, r->lr.touch ? "at the touch" : "simulated exchange on the live book",
               (long long)st->fees, (unsigned long long)live->ws.n_connects);
        for (uint32_t i = 0; i < fc.n; i++) {
            brs_position p;
            brs__sctx_position(r->sc, i, &p);
            int64_t fee = st->fees_by[i];
            printf("  %-12s position %lld  realized %lld  unrealized %lld  fees %lld (price units x "
                   "qty); net %.6g in the quote currency\n",
                   fc.instr[i].symbol, (long long)p.qty, (long long)p.realized_pnl,
                   (long long)p.unrealized_pnl, (long long)fee,
                   net_quote(&fc, i, p.realized_pnl + p.unrealized_pnl - fee));
        }
    }
    cJSON_Delete(o);
    if (r->sc->failed)
        brs__fail("live", "strategy failed: %s", r->sc->error);
    else
        code = BRS_EXIT_OK;
done:
    if (live)
        brs__bn_live_free(live);
    if (r) {
        brs__run_metrics_stop(r->metrics);
        brs__rt_hosted_close(r->hs); /* before the runtime it is a client of */
        brs__live_rt_close(&r->lr);
    }
    brs__feed_cfg_free(&fc);
    free(live);
    free(r);
    brs__config_free(&cfg);
    return code;
}
