/* cmd_backtest.c: `bourse backtest CONFIG.json [--out DIR] [--set key=value ...]`
 * and the same without a file (`--mode --data --strategy --param`): run one
 * backtest, print the key metrics and where report.html is. Exit 0 when the run
 * succeeded, 1 when it failed (bad input or a strategy error), 2 on usage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse backtest CONFIG.json [--out DIR] [--set KEY=VALUE ...]\n"
            "       bourse backtest --mode signal|book --data FILE --strategy FILE|NAME\n"
            "                       [--param NAME=VALUE ...] [--out DIR] [--set KEY=VALUE ...]\n\n"
            "Run one backtest and write its run directory (summary.json, trades.csv,\n"
            "orders.csv, fills.csv, equity.csv, config.json, report.html).\n"
            "Keys and models: docs/backtesting.md.\n\n"
            "  --mode M          signal (bars: targets or orders, next-open execution) or book\n"
            "  --data FILE       a Yahoo-style CSV of daily bars or a .ticks.zst file\n"
            "  --strategy S      a .lua script, a .so plugin, or a plugin name\n"
            "  --param N=V       a strategy parameter (strategy.params.N)\n"
            "  --set KEY=VALUE   any configuration key, e.g. signal.execution=same_close\n"
            "  --out DIR         run directory (default: the config's out, else\n"
            "                    runs/<strategy>-<mode>)\n"
            "  --full-record     every row in the CSVs (csv_max_rows=0; book runs write at most\n"
            "                    1,000,000 rows per CSV by default, an even sample beyond)\n"
            "  --metrics ADDR    Prometheus metrics at http://ADDR/metrics while it runs\n"
            "                    (metrics.listen; 127.0.0.1:0 picks a free port, logged)\n"
            "  --quiet           print nothing but errors\n\n"
            "Signals: SIGINT (Ctrl-C) and SIGTERM stop the run at the next safe point (between\n"
            "bars or events): it says how far it got, writes no run directory (one being written\n"
            "is completed first) and leaves no temporary file; a second signal ends it at once.\n\n"
            "Exit status: 0 the run succeeded, 1 it failed (bad input, strategy error), 2 usage,\n"
            "130 interrupted by SIGINT, 143 by SIGTERM.\n");
}

/* One metric line in the style every command shares (core/fmt.c). */
static void num(const char *name, double v)
{
    char b[64];
    brs__fmt_metric(b, sizeof b, name, v);
    printf("  %-18s %s\n", name, b);
}

static int set_string(brs_config *cfg, const char *key, const char *value, const char *opt,
                      brs_error *err)
{
    /* build "key=\"value\"" so the value is always taken as a string */
    cJSON *s = cJSON_CreateString(value);
    char *js = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON_Delete(s);
    if (!js)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    size_t n = strlen(key) + strlen(js) + 2;
    char *a = malloc(n);
    if (!a) {
        free(js);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    snprintf(a, n, "%s=%s", key, js);
    char origin[1200];
    snprintf(origin, sizeof origin, "%s '%s'", opt, value);
    int rc = brs__config_set_from(cfg, a, origin, err);
    free(a);
    free(js);
    return rc;
}

/* Router and market-making runs add execution figures to summary.json
 * (host/runtime/exec_stats.c); show them with the rest when present. */
static void print_execution_extras(const char *dir)
{
    static const char *const keys[] = {"max_abs_inventory", "inventory_limit", "spread_captured",
                                       "exec_cost_bps"};
    char path[1200], *text;
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (brs__read_file(path, &text, NULL, NULL))
        return;
    cJSON *sum = cJSON_Parse(text);
    free(text);
    for (size_t i = 0; sum && i < BRS__ARRAY_LEN(keys); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, keys[i]);
        if (cJSON_IsNumber(v))
            num(keys[i], v->valuedouble);
    }
    cJSON_Delete(sum);
}

/* What was interrupted and how far it got, on stderr. */
static void report_interrupt(const brs__bt_result *res, const char *dir)
{
    char when[48] = "";
    if (res->reached_ns)
        brs__format_time(res->reached_ns, when, sizeof when);
    fprintf(stderr, "bourse backtest: interrupted by %s while %s", brs__interrupt_name(),
            res->phase ? res->phase : "starting");
    if (res->total_events)
        fprintf(stderr, ", after %llu of %llu events (%.1f%%)", (unsigned long long)res->events,
                (unsigned long long)res->total_events,
                100.0 * (double)res->events / (double)res->total_events);
    else if (res->events)
        fprintf(stderr, ", after %llu events", (unsigned long long)res->events);
    if (*when)
        fprintf(stderr, ", simulated time %s", when);
    if (res->phase && !strncmp(res->phase, "writing", 7))
        fprintf(stderr, "; run directory %s is complete\n", dir);
    else
        fprintf(stderr, "; no run directory written\n");
}

int brs__cmd_backtest(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    char metrics_set[160];
    int quiet = 0;
    brs__interrupt_install(1); /* first: a signal from now on is reported */
    /* options are applied in order after the file is loaded */
    const char **opt_key = calloc((size_t)argc + 1, sizeof *opt_key);
    const char **opt_val = calloc((size_t)argc + 1, sizeof *opt_val);
    int n_opt = 0;
    if (!opt_key || !opt_val) {
        free(opt_key);
        free(opt_val);
        return brs__fail("backtest", "out of memory");
    }
    int rc = BRS_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (brs__is_help(a)) {
            usage(stdout);
            goto done;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "--full-record")) {
            opt_key[n_opt] = "--set";
            opt_val[n_opt++] = "csv_max_rows=0";
        } else if (!strcmp(a, "--metrics")) {
            if (i + 1 >= argc) {
                rc = brs__usage_error("backtest", "%s needs a value (host:port)", a);
                goto done;
            }
            snprintf(metrics_set, sizeof metrics_set, "metrics.listen=%s", argv[++i]);
            opt_key[n_opt] = "--set";
            opt_val[n_opt++] = metrics_set;
        } else if ((!strcmp(a, "--out") || !strcmp(a, "--set") || !strcmp(a, "--param") ||
                    !strcmp(a, "--mode") || !strcmp(a, "--data") || !strcmp(a, "--strategy"))) {
            if (i + 1 >= argc) {
                rc = brs__usage_error("backtest", "%s needs a value", a);
                goto done;
            }
            if (!strcmp(a, "--out"))
                out = argv[++i];
            else {
                opt_key[n_opt] = a;
                opt_val[n_opt++] = argv[++i];
            }
        } else if (a[0] == '-') {
            rc = brs__unknown_option("backtest", a, usage);
            goto done;
        } else if (!file) {
            file = a;
        } else {
            rc = brs__usage_error("backtest", "one CONFIG.json only ('%s')", a);
            goto done;
        }
    }
    brs_config cfg;
    brs_error err = {0};
    if (file) {
        if (brs__config_load(&cfg, file, &err)) {
            rc = brs__fail("backtest", "%s", err.msg);
            goto done;
        }
    } else {
        int has_mode = 0, has_data = 0, has_strat = 0;
        for (int k = 0; k < n_opt; k++) {
            has_mode |= !strcmp(opt_key[k], "--mode");
            has_data |= !strcmp(opt_key[k], "--data");
            has_strat |= !strcmp(opt_key[k], "--strategy");
        }
        if (!has_mode || !has_data || !has_strat) {
            rc = brs__usage_error("backtest", "give CONFIG.json, or --mode, --data and --strategy");
            goto done;
        }
        brs__config_empty(&cfg, "command line");
    }
    for (int k = 0; k < n_opt && !rc; k++) {
        const char *key = opt_key[k], *v = opt_val[k];
        int e = 0;
        if (!strcmp(key, "--set")) {
            e = brs__config_set(&cfg, v, &err);
        } else if (!strcmp(key, "--param")) {
            size_t n = strlen(v) + 32;
            char *a = malloc(n);
            if (!a || !strchr(v, '=') || v[0] == '=') {
                free(a);
                rc = brs__usage_error("backtest", "--param '%s': expected NAME=VALUE", v);
                break;
            }
            snprintf(a, n, "strategy.params.%s", v);
            char origin[1200];
            snprintf(origin, sizeof origin, "--param '%s'", v);
            e = brs__config_set_from(&cfg, a, origin, &err);
            free(a);
        } else if (!strcmp(key, "--mode")) {
            e = set_string(&cfg, "mode", v, key, &err);
        } else if (!strcmp(key, "--data")) {
            e = set_string(&cfg, "data", v, key, &err);
        } else if (!strcmp(key, "--strategy")) {
            e = set_string(&cfg, "strategy.file", v, key, &err);
        }
        if (e && !strcmp(key, "--set")) /* the message already names the assignment */
            rc = brs__usage_error("backtest", "%s", err.msg);
        else if (e)
            rc = brs__usage_error("backtest", "%s %s: %s", key, v, err.msg);
    }
    if (rc) {
        brs__config_free(&cfg);
        goto done;
    }

    brs__bt_result res;
    brs_an_metrics m;
    char dir[1024] = "";
    int e = brs__bt_run_config(&cfg, out, !quiet, &res, &m, dir, sizeof dir, &err);
    if (!e && res.interrupted) {
        report_interrupt(&res, dir);
        rc = brs__interrupt_exit_code();
    } else if (e) {
        rc = brs__fail("backtest", "%s", err.msg);
    } else if (res.failed) {
        rc = brs__fail("backtest", "%s%s", strncmp(res.error, "strategy '", 10) ? "run failed: " : "",
                       res.error);
    } else if (!quiet) {
        printf("backtest %s: %llu %s, %llu orders, %llu fills in %.3f s\n", res.strategy,
               (unsigned long long)res.events,
               cJSON_IsString(cJSON_GetObjectItem(cfg.root, "mode")) &&
                       !strcmp(cJSON_GetObjectItem(cfg.root, "mode")->valuestring, "book")
                   ? "events"
                   : "bars",
               (unsigned long long)res.orders, (unsigned long long)res.fills, res.seconds);
        char pnl[64];
        brs__fmt_metric(pnl, sizeof pnl, "net_pnl", m.net_pnl);
        printf("  %-18s %s (%.2f -> %.2f)\n", "net_pnl", pnl, m.start_equity, m.end_equity);
        num("total_return", m.total_return);
        num("cagr", m.cagr);
        num("ann_volatility", m.ann_volatility);
        num("sharpe", m.sharpe);
        num("sortino", m.sortino);
        num("max_drawdown", m.max_drawdown);
        num("calmar", m.calmar);
        num("win_rate", m.win_rate);
        printf("  %-18s %lld\n", "n_trades", (long long)m.n_trades);
        num("exposure", m.exposure);
        num("fees_paid", m.fees_paid);
        print_execution_extras(dir);
        printf("run directory: %s\nreport: %s/report.html\n", dir, dir);
    }
    brs__config_free(&cfg);
done:
    free(opt_key);
    free(opt_val);
    return rc;
}
