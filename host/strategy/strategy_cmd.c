/* strategy_cmd.c: `bourse strategy check FILE.lua|FILE.so`: load a strategy (a
 * Lua script in the sandbox, or a C plugin), print its declared parameters,
 * open and start it, feed it a short synthetic bar series, stop it, and say
 * what it did. A strategy of bars only (or none: vectorized) runs in the signal
 * engine, so targets (xSetTarget, ctx:target, xSetTargets) work as in a signal
 * backtest; others run against a dummy context with the simple fill model.
 * Any failure exits 1 with the error. */
#include <stdlib.h>
#include <string.h>

#include "backtest/backtest.h"
#include "cli/cli.h"
#include "core/config.h"
#include "source.h"

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: bourse strategy check FILE.lua|FILE.so [--param NAME=VALUE ...]\n"
            "                             [--mem-limit BYTES] [--instr-limit N] [--bars N]\n\n"
            "Load a strategy (Lua scripts run in the sandbox), print its declared\n"
            "parameters, then open and start it on a dummy instrument, run it on N\n"
            "synthetic bars (default 200), stop it, and say what it did (orders, fills,\n"
            "position). A strategy that takes bars only (or is vectorized) runs in the\n"
            "signal engine: targets work as in `backtest --mode signal` (next-open\n"
            "execution, all of 100000 of equity for target 1); others get a quote and a\n"
            "trade per bar with the simple fill model.\n"
            "Exits 1 with the error when any step fails.\n\n"
            "  --param NAME=VALUE  set a parameter (the value is read as JSON, else as a string)\n"
            "  --mem-limit BYTES   Lua memory cap (default %u)\n"
            "  --instr-limit N     Lua VM instructions per callback (default %u)\n",
            (unsigned)BRS__LUA_DEFAULT_MEM, (unsigned)BRS__LUA_DEFAULT_INSTR);
}

static void format_bound(char *buf, size_t cap, const brs_param_def *d, double v)
{
    if (d->min > d->max || v <= -1e308 || v >= 1e308)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%g", v);
}

static void print_params(const brs__strategy_src *src)
{
    const brs_strategy_vtable *vt = src->vt;
    printf("strategy %s (%s)\n", src->name, src->kind);
    uint32_t sub = vt->subscriptions;
    printf("subscribes to:%s%s%s%s%s%s\n", sub & BRS_SUB_BARS ? " bars" : "",
           sub & BRS_SUB_TOP ? " top" : "", sub & BRS_SUB_TRADES ? " trades" : "",
           sub & BRS_SUB_DEPTH ? " depth" : "", sub & BRS_SUB_L3 ? " l3" : "", sub ? "" : " nothing");
    if (!vt->params || vt->n_params == 0) {
        printf("parameters: none\n");
        return;
    }
    printf("parameters:\n  %-16s %-7s %-12s %-10s %-10s %s\n", "name", "type", "default", "min",
           "max", "help");
    for (uint32_t i = 0; i < vt->n_params; i++) {
        const brs_param_def *d = &vt->params[i];
        char def[64], lo[32], hi[32];
        switch (d->type) {
        case BRS_PARAM_BOOL: snprintf(def, sizeof def, "%s", d->def != 0 ? "true" : "false"); break;
        case BRS_PARAM_STRING: snprintf(def, sizeof def, "\"%s\"", d->def_string ? d->def_string : ""); break;
        default: snprintf(def, sizeof def, "%g", d->def); break;
        }
        format_bound(lo, sizeof lo, d, d->min);
        format_bound(hi, sizeof hi, d, d->max);
        if (d->type == BRS_PARAM_BOOL || d->type == BRS_PARAM_STRING)
            snprintf(lo, sizeof lo, "-"), snprintf(hi, sizeof hi, "-");
        printf("  %-16s %-7s %-12s %-10s %-10s %s\n", d->name, brs__param_type_name(d->type), def,
               lo, hi, d->help ? d->help : "");
    }
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* A bars-only or vectorized strategy through the signal engine on synthetic
 * daily bars: what a signal backtest would do with it, in brief. */
static int check_signal(brs__strategy_src *src, const brs_instrument *instr, const cJSON *params,
                        uint64_t nbars, int quiet)
{
    int rc = BRS_EXIT_OK;
    brs_error err = {0};
    brs__sctx sc;
    memset(&sc, 0, sizeof sc);
    brs__bt_signal *sig = NULL;
    brs_market_event *bars = calloc(nbars ? nbars : 1, sizeof *bars);
    if (!bars)
        return brs__fail("strategy check", "out of memory");
    brs__bars_random_walk(bars, nbars, 42, 0, 100000, 1700000000LL * 1000000000LL);
    brs_instrument in = *instr;
    uint64_t n = nbars;
    brs__bt_bars bb = {.instr = &in, .n_instr = 1, .bars = &bars, .n = &n, .total = nbars};
    brs__bt_signal_opts so = {.sizing = BRS__BT_SIZE_FRACTION, .fraction = 1.0, .fixed_qty = 100,
                              .initial_cash = 100000, .impact_window = 20};
    brs__bt_result res;
    memset(&res, 0, sizeof res);
    if (brs__bt_signal_create(&sig, &bb, &so, NULL, &err)) {
        rc = brs__fail("strategy check", "%s", err.msg);
        goto out;
    }
    brs__exec ex = brs__bt_signal_exec(sig);
    brs__sctx_opts o = {.name = src->name, .instruments = &in, .n_instruments = 1,
                        .params = params, .params_where = "--param", .exec = &ex,
                        .log_level = BRS_LOG_INFO, .silent_failure = 1, .quiet = quiet};
    if (brs__sctx_init(&sc, src->vt, &o, &err) || brs__strategy_src_open(src, &sc, &err) ||
        brs__sctx_start(&sc, &err) || brs__bt_signal_run(sig, &sc, 0, &res, &err)) {
        rc = brs__fail("strategy check", "%s", err.msg);
        goto out;
    }
    if (sc.failed || brs__sctx_stop(&sc, &err)) {
        rc = brs__fail("strategy check", "%s", sc.failed ? sc.error : err.msg);
        goto out;
    }
    brs_position pos;
    brs__sctx_position(&sc, 0, &pos);
    printf("signal mode: started, ran %llu synthetic bars in signal mode (%llu callbacks, %llu executions "
           "of targets and orders, %llu fills, position %lld, equity %.2f from 100000.00), stopped\n",
           (unsigned long long)nbars, (unsigned long long)brs__sctx_callbacks(&sc),
           (unsigned long long)res.orders, (unsigned long long)res.fills, (long long)pos.qty,
           brs__bt_signal_equity(sig));
    if (res.fills == 0)
        printf("note: it asked for nothing on these bars (no target, no order)\n");
out:
    brs__sctx_free(&sc);
    brs__bt_signal_destroy(sig);
    free(bars);
    return rc;
}

static int cmd_check(int argc, char **argv)
{
    const char *file = NULL;
    brs__lua_opts lo = {0};
    uint64_t nbars = 200;
    brs_config params;
    brs__config_empty(&params, "--param");
    int rc = BRS_EXIT_OK;
    brs_error err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (brs__is_help(a)) {
            check_usage(stdout);
            brs__config_free(&params);
            return BRS_EXIT_OK;
        } else if (!strcmp(a, "--param") && i + 1 < argc) {
            if (brs__config_set(&params, argv[++i], &err)) {
                brs__config_free(&params);
                return brs__usage_error("strategy check", "--param %s: %s", argv[i], err.msg);
            }
        } else if (!strcmp(a, "--mem-limit") && i + 1 < argc && !parse_u64(argv[i + 1], &v) && v) {
            lo.mem_limit = (size_t)v;
            i++;
        } else if (!strcmp(a, "--instr-limit") && i + 1 < argc && !parse_u64(argv[i + 1], &v) && v) {
            lo.instr_limit = v;
            i++;
        } else if (!strcmp(a, "--bars") && i + 1 < argc && !parse_u64(argv[i + 1], &v) && v <= 1000000) {
            nbars = v;
            i++;
        } else if (a[0] == '-') {
            brs__config_free(&params);
            if (!strcmp(a, "--param") || !strcmp(a, "--mem-limit") || !strcmp(a, "--instr-limit") ||
                !strcmp(a, "--bars"))
                return brs__usage_error("strategy check", "%s needs a valid value", a);
            return brs__unknown_option("strategy check", a, check_usage);
        } else if (!file) {
            file = a;
        } else {
            brs__config_free(&params);
            return brs__usage_error("strategy check", "one FILE only ('%s')", a);
        }
    }
    if (!file) {
        brs__config_free(&params);
        return brs__usage_error("strategy check", "missing FILE.lua or FILE.so");
    }

    brs__strategy_src src;
    brs__sctx sc;
    memset(&sc, 0, sizeof sc);
    brs__simfill fm;
    brs__simfill_init(&fm, 256);
    brs_market_event *bars = NULL;
    if (brs__strategy_src_load(&src, file, &lo, &err)) {
        rc = brs__fail("strategy check", "%s", err.msg);
        goto out_fm;
    }
    print_params(&src);
    fflush(stdout);
    brs_instrument instr = {.symbol = "TEST", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
    if (src.vt->subscriptions == 0 && src.vt->xStart && !src.is_lua) {
        /* a C vectorized strategy (xBars/xSetTargets at start): only the signal engine serves it */
        rc = check_signal(&src, &instr, params.root, nbars, 0);
        goto out;
    }
    brs__exec ex = brs__simfill_exec(&fm);
    brs__sctx_opts o = {.name = src.name, .instruments = &instr, .n_instruments = 1,
                        .params = params.root, .params_where = "--param", .exec = &ex,
                        .log_level = BRS_LOG_INFO, .silent_failure = 1 /* printed once, below */};
    if (brs__sctx_init(&sc, src.vt, &o, &err) || brs__strategy_src_open(&src, &sc, &err) ||
        brs__sctx_start(&sc, &err)) {
        rc = brs__fail("strategy check", "%s", err.msg);
        goto out;
    }
    bars = calloc(nbars ? nbars : 1, sizeof *bars);
    if (!bars) {
        rc = brs__fail("strategy check", "out of memory");
        goto out;
    }
    brs__bars_random_walk(bars, nbars, 42, 0, 100000, 1700000000LL * 1000000000LL);
    for (uint64_t i = 0; i < nbars && !sc.failed; i++) {
        brs__sctx_advance(&sc, bars[i].ts_local);
        if (sc.failed)
            break;
        /* a quote and a trade around each bar too, for on_top / on_trade */
        brs_market_event q = {.ts_exchange = bars[i].ts_exchange, .ts_local = bars[i].ts_local,
                              .kind = BRS_MEV_QUOTE};
        q.quote.bid_price = bars[i].bar.close - 1;
        q.quote.ask_price = bars[i].bar.close + 1;
        q.quote.bid_qty = q.quote.ask_qty = 10;
        brs__sctx_on_market(&sc, &bars[i]);
        if (!sc.failed)
            brs__sctx_on_market(&sc, &q);
        brs_market_event t = {.ts_exchange = bars[i].ts_exchange, .ts_local = bars[i].ts_local,
                              .kind = BRS_MEV_TRADE, .side = (uint8_t)(i & 1)};
        t.price = bars[i].bar.close;
        t.qty = 1;
        t.order_id = i + 1;
        if (!sc.failed)
            brs__sctx_on_market(&sc, &t);
    }
    if (brs__sctx_stop(&sc, &err)) {
        rc = brs__fail("strategy check", "%s", err.msg);
        goto out;
    }
    brs_position pos;
    brs__sctx_position(&sc, 0, &pos);
    printf("ok: started, ran %llu synthetic bars (%llu callbacks, %llu fills, position %lld), stopped\n",
           (unsigned long long)nbars, (unsigned long long)brs__sctx_callbacks(&sc),
           (unsigned long long)fm.n_fills, (long long)pos.qty);
    /* a strategy of bars only may speak in targets: run it again, freshly
     * loaded, in the signal engine, where xSetTarget / ctx:target work */
    if ((src.vt->subscriptions & ~(uint32_t)BRS_SUB_BARS) == 0) {
        brs__sctx_free(&sc);
        brs__strategy_src_free(&src);
        memset(&sc, 0, sizeof sc);
        if (brs__strategy_src_load(&src, file, &lo, &err)) {
            rc = brs__fail("strategy check", "%s", err.msg);
            goto out_fm;
        }
        rc = check_signal(&src, &instr, params.root, nbars, 1); /* its log was shown above */
    }
out:
    brs__sctx_free(&sc);
    brs__strategy_src_free(&src);
out_fm:
    free(bars);
    brs__simfill_free(&fm);
    brs__config_free(&params);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bourse strategy COMMAND [ARGS...]\n\n"
                 "commands:\n"
                 "  check      load a strategy (.lua or .so), print its parameters, smoke-run it\n\n"
                 "Run 'bourse strategy check --help' for its options.\n");
}

int brs__cmd_strategy(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BRS_EXIT_USAGE;
    }
    if (brs__is_help(argv[1])) {
        usage(stdout);
        return BRS_EXIT_OK;
    }
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 1, argv + 1);
    return brs__usage_error("strategy", "unknown command '%s'", argv[1]);
}
