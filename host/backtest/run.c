/* run.c: one backtest from its configuration: every key read strictly (unknown
 * keys and wrong types name the key and the file; defaults are written back so
 * config.json in the run directory is the effective configuration), then data,
 * strategy, engine, recorder, and the run directory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "backtest.h"
#include "book_mode.h"
#include "core/core.h"
#include "ops/run_metrics.h"
#include "plugin/loader.h"
#include "runtime/rt_hosted.h"
#include "strategy/source.h"

/* ---- reading with defaults written back --------------------------------- */

static cJSON *obj_get(cJSON *parent, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!o)
        o = cJSON_AddObjectToObject(parent, key);
    return o;
}

static int get_d(const brs_config *cfg, cJSON *obj, const char *where, const char *key, double def,
                 double *out, brs_error *err)
{
    int had = cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
    int rc = brs__config_double(cfg, obj, where, key, def, out, err);
    if (!rc && !had)
        cJSON_AddNumberToObject(obj, key, def);
    return rc;
}

static int get_i(const brs_config *cfg, cJSON *obj, const char *where, const char *key, int64_t def,
                 int64_t *out, brs_error *err)
{
    int had = cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
    int rc = brs__config_int(cfg, obj, where, key, def, out, err);
    if (!rc && !had)
        cJSON_AddNumberToObject(obj, key, (double)def);
    return rc;
}

static int get_s(const brs_config *cfg, cJSON *obj, const char *where, const char *key,
                 const char *def, const char **out, brs_error *err)
{
    int had = cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
    int rc = brs__config_string(cfg, obj, where, key, def, out, err);
    if (!rc && !had && def) {
        cJSON_AddStringToObject(obj, key, def);
        *out = cJSON_GetObjectItemCaseSensitive(obj, key)->valuestring;
    }
    return rc;
}

static int check_nonneg(const brs_config *cfg, const char *where, const char *key, double v,
                        brs_error *err)
{
    if (v < 0 || !isfinite(v))
    {
        char k[256];
        snprintf(k, sizeof k, "%s.%s", where, key);
        return brs__err(err, BRS_E_RANGE, "%s: %s must be >= 0 (got %g)", brs__config_origin(cfg, k), k, v);
    }
    return BRS_OK;
}

static int check_range(const brs_config *cfg, const char *where, const char *key, double v,
                       double lo, double hi, const char *what, brs_error *err)
{
    if (v >= lo && v <= hi && isfinite(v))
        return BRS_OK;
    char k[256];
    snprintf(k, sizeof k, "%s.%s", where, key);
    return brs__err(err, BRS_E_RANGE, "%s: %s is %g, must be in [%g, %g]: %s",
                    brs__config_origin(cfg, k), k, v, lo, hi, what);
}

static int one_of(const brs_config *cfg, const char *where, const char *key, const char *v,
                  const char *const *names, int *out, brs_error *err)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return BRS_OK;
        }
    char list[256] = "";
    for (int i = 0; names[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    char k[256];
    snprintf(k, sizeof k, "%s%s%s", where, *where ? "." : "", key);
    const char *dym = brs__closest(v, names);
    if (dym)
        snprintf(list + strlen(list), sizeof list - strlen(list), " (did you mean '%s'?)", dym);
    return brs__err(err, BRS_E_INVAL, "%s: %s%s%s is '%s', expected one of: %s", brs__config_origin(cfg, k), where,
                    *where ? "." : "", key, v, list);
}

static int read_signal(brs_config *cfg, cJSON *root, brs__bt_signal_opts *o, brs_error *err)
{
    static const char *const keys[] = {"execution", "sizing", "commission", "slippage", "impact", "lot", NULL};
    static const char *const k_sizing[] = {"mode", "fraction", "qty", NULL};
    static const char *const k_comm[] = {"per_share", "bps", "min", NULL};
    static const char *const k_slip[] = {"model", "bps", "spread_bps", NULL};
    static const char *const k_imp[] = {"k", "window", NULL};
    static const char *const execs[] = {"next_open", "same_close", NULL};
    static const char *const sizings[] = {"fraction", "fixed", NULL};
    static const char *const slips[] = {"none", "bps", "half_spread", NULL};
    cJSON *sig = obj_get(root, "signal");
    if (!cJSON_IsObject(sig))
        return brs__err(err, BRS_E_INVAL, "%s: signal must be an object", cfg->source);
    int rc = brs__config_check_keys(cfg, sig, "signal", keys, err);
    const char *s;
    int v = 0;
    if (rc || (rc = get_s(cfg, sig, "signal", "execution", "next_open", &s, err)) ||
        (rc = one_of(cfg, "signal", "execution", s, execs, &v, err)))
        return rc;
    o->same_close = v == 1;
    cJSON *sz = obj_get(sig, "sizing"), *cm = obj_get(sig, "commission"),
          *sl = obj_get(sig, "slippage"), *im = obj_get(sig, "impact");
    if (!cJSON_IsObject(sz) || !cJSON_IsObject(cm) || !cJSON_IsObject(sl) || !cJSON_IsObject(im))
        return brs__err(err, BRS_E_INVAL,
                        "%s: signal.sizing, .commission, .slippage and .impact must be objects",
                        cfg->source);
    if ((rc = brs__config_check_keys(cfg, sz, "signal.sizing", k_sizing, err)) ||
        (rc = brs__config_check_keys(cfg, cm, "signal.commission", k_comm, err)) ||
        (rc = brs__config_check_keys(cfg, sl, "signal.slippage", k_slip, err)) ||
        (rc = brs__config_check_keys(cfg, im, "signal.impact", k_imp, err)))
        return rc;
    if ((rc = get_s(cfg, sz, "signal.sizing", "mode", "fraction", &s, err)) ||
        (rc = one_of(cfg, "signal.sizing", "mode", s, sizings, &o->sizing, err)) ||
        (rc = get_d(cfg, sz, "signal.sizing", "fraction", 1.0, &o->fraction, err)) ||
        (rc = get_d(cfg, sz, "signal.sizing", "qty", 100.0, &o->fixed_qty, err)) ||
        (rc = check_range(cfg, "signal.sizing", "fraction", o->fraction, 0, 10,
                          "a fraction of equity (1 = all of it, above 1 is leverage, at most 10)", err)) ||
        (rc = check_nonneg(cfg, "signal.sizing", "qty", o->fixed_qty, err)))
        return rc;
    if ((rc = get_d(cfg, cm, "signal.commission", "per_share", 0, &o->commission_per_share, err)) ||
        (rc = get_d(cfg, cm, "signal.commission", "bps", 0, &o->commission_bps, err)) ||
        (rc = get_d(cfg, cm, "signal.commission", "min", 0, &o->commission_min, err)) ||
        (rc = check_nonneg(cfg, "signal.commission", "per_share", o->commission_per_share, err)) ||
        (rc = check_range(cfg, "signal.commission", "bps", o->commission_bps, 0, 10000,
                          "basis points of the notional (10000 = 100%)", err)) ||
        (rc = check_nonneg(cfg, "signal.commission", "min", o->commission_min, err)))
        return rc;
    if ((rc = get_s(cfg, sl, "signal.slippage", "model", "none", &s, err)) ||
        (rc = one_of(cfg, "signal.slippage", "model", s, slips, &o->slippage, err)) ||
        (rc = get_d(cfg, sl, "signal.slippage", "bps", 0, &o->slippage_bps, err)) ||
        (rc = get_d(cfg, sl, "signal.slippage", "spread_bps", 0, &o->spread_bps, err)) ||
        (rc = check_range(cfg, "signal.slippage", "bps", o->slippage_bps, 0, 10000,
                          "basis points of the price (10000 = 100%)", err)) ||
        (rc = check_range(cfg, "signal.slippage", "spread_bps", o->spread_bps, 0, 20000,
                          "basis points of the price", err)))
        return rc;
    int64_t w;
    if ((rc = get_d(cfg, im, "signal.impact", "k", 0, &o->impact_k, err)) ||
        (rc = get_i(cfg, im, "signal.impact", "window", 20, &w, err)) ||
        (rc = check_nonneg(cfg, "signal.impact", "k", o->impact_k, err)))
        return rc;
    if (w < 2 || w > 100000)
        return brs__err(err, BRS_E_RANGE, "%s: signal.impact.window must be 2..100000 (got %lld)",
                        brs__config_origin(cfg, "signal.impact.window"), (long long)w);
    o->impact_window = (uint32_t)w;
    return BRS_OK;
}

/* signal.lot: the quantity step, one number for every instrument or an object
 * {SYMBOL: step}; whole units (1) where not given. steps[n_instr] gets them. */
static int read_lot(const brs_config *cfg, const brs_instrument *instr, uint32_t n_instr,
                    double *steps, brs_error *err)
{
    cJSON *sig = cJSON_GetObjectItemCaseSensitive(cfg->root, "signal");
    cJSON *lot = sig ? cJSON_GetObjectItemCaseSensitive(sig, "lot") : NULL;
    const char *src = brs__config_origin(cfg, "signal.lot");
    for (uint32_t i = 0; i < n_instr; i++)
        steps[i] = 1.0;
    if (!lot) {
        cJSON_AddNumberToObject(sig, "lot", 1);
        return BRS_OK;
    }
    if (cJSON_IsNumber(lot)) {
        if (!(lot->valuedouble > 0 && lot->valuedouble <= 1e6))
            return brs__err(err, BRS_E_RANGE, "%s: signal.lot is %g, must be > 0 (e.g. 0.0001 for a coin, 1 for whole shares)",
                            src, lot->valuedouble);
        for (uint32_t i = 0; i < n_instr; i++)
            steps[i] = lot->valuedouble;
        return BRS_OK;
    }
    if (!cJSON_IsObject(lot))
        return brs__err(err, BRS_E_INVAL, "%s: signal.lot must be a number or an object {\"SYMBOL\": step}", src);
    for (const cJSON *it = lot->child; it; it = it->next) {
        uint32_t i = 0;
        while (i < n_instr && strcmp(instr[i].symbol, it->string))
            i++;
        if (i == n_instr) {
            brs_suggest sg;
            brs__suggest_init(&sg, it->string);
            for (uint32_t k = 0; k < n_instr; k++)
                brs__suggest_add(&sg, instr[k].symbol);
            const char *dym = brs__suggest_best(&sg);
            return brs__err(err, BRS_E_INVAL, "%s: signal.lot.%s: no instrument '%s' in the data%s%s%s",
                            src, it->string, it->string, dym ? " (did you mean '" : "", dym ? dym : "",
                            dym ? "'?)" : "");
        }
        if (!cJSON_IsNumber(it) || !(it->valuedouble > 0 && it->valuedouble <= 1e6))
            return brs__err(err, BRS_E_RANGE, "%s: signal.lot.%s must be a number > 0", src, it->string);
        steps[i] = it->valuedouble;
    }
    return BRS_OK;
}

/* ---- the run -------------------------------------------------------------- */

typedef struct run_common {
    const char *mode, *data, *symbol, *strategy, *out, *title, *benchmark;
    char metrics_listen[128]; /* metrics.listen (--metrics): Prometheus /metrics during the run; "" off */
    cJSON *params;
    double ppy, rf, tspd;
    int64_t sample_every, lua_mem, lua_instr, max_bars, csv_max_rows;
    /* the sandbox's runaway bounds (docs/lua-api.md, "The sandbox"); 0: default */
    int64_t lua_cpu_ms, seed, max_orders_run, max_cb_event, max_cb_instant, max_log_cb, max_log;
} run_common;

static int read_common(brs_config *cfg, run_common *c, brs_error *err)
{
    static const char *const keys[] = {"mode", "data", "symbol", "strategy", "out", "title",
                                       "initial_cash", "periods_per_year", "risk_free_rate",
                                       "trading_seconds_per_day",
                                       "sample_every_ns", "signal", "book", "lua", "risk",
                                       "csv_max_rows", "report", "metrics", NULL};
    static const char *const k_metrics[] = {"listen", NULL};
    static const char *const k_report[] = {"benchmark", "rolling_window", "max_bars", NULL};
    static const char *const k_strat[] = {BRS__RT_STRATEGY_KEYS, NULL};
    static const char *const k_lua[] = {"mem_limit", "instr_limit", "cpu_limit_ms", NULL};
    cJSON *root = cfg->root;
    int rc = brs__config_check_keys(cfg, root, "", keys, err);
    if (rc || (rc = brs__config_string(cfg, root, "", "mode", NULL, &c->mode, err)))
        return rc;
    if (!c->mode)
        return brs__err(err, BRS_E_INVAL, "%s: missing key 'mode' (signal or book)", cfg->source);
    if (strcmp(c->mode, "signal") && strcmp(c->mode, "book"))
        return brs__err(err, BRS_E_INVAL, "%s: mode is '%s', expected signal or book", brs__config_origin(cfg, "mode"),
                        c->mode);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (cJSON_IsString(data))
        c->data = data->valuestring;
    else if (!data)
        return brs__err(err, BRS_E_INVAL, "%s: missing key 'data' (a bars CSV or a tick file)",
                        cfg->source);
    else if (!cJSON_IsArray(data))
        return brs__err(err, BRS_E_INVAL, "%s: data must be a file name or an array of them",
                        cfg->source);
    cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "strategy");
    if (!st)
        return brs__err(err, BRS_E_INVAL, "%s: missing key 'strategy' ({\"file\": ...})", cfg->source);
    if (!cJSON_IsObject(st))
        return brs__err(err, BRS_E_INVAL, "%s: strategy must be an object {\"file\": ..., \"params\": {...}}",
                        cfg->source);
    /* the strategy object's schema is the runtime's (serve's "strategies" entries too) */
    brs__rt_strategy_cfg sc;
    if ((rc = brs__config_check_keys(cfg, st, "strategy", k_strat, err)) ||
        (rc = brs__rt_strategy_cfg_read(cfg, st, "strategy", &sc, err)))
        return rc;
    c->strategy = sc.file;
    c->params = sc.params;
    c->seed = sc.seed;
    c->max_orders_run = sc.max_orders_run;
    c->max_cb_event = sc.max_cb_event;
    c->max_cb_instant = sc.max_cb_instant;
    c->max_log_cb = sc.max_log_cb;
    c->max_log = sc.max_log;
    if ((rc = brs__config_string(cfg, root, "", "symbol", NULL, &c->symbol, err)) ||
        (rc = brs__config_string(cfg, root, "", "out", NULL, &c->out, err)) ||
        (rc = brs__config_string(cfg, root, "", "title", NULL, &c->title, err)) ||
        (rc = get_d(cfg, root, "", "periods_per_year", 252, &c->ppy, err)) ||
        (rc = get_d(cfg, root, "", "risk_free_rate", 0, &c->rf, err)) ||
        (rc = get_d(cfg, root, "", "trading_seconds_per_day", 23400, &c->tspd, err)) ||
        (rc = get_i(cfg, root, "", "sample_every_ns", 0, &c->sample_every, err)))
        return rc;
    if (!(c->tspd > 0 && c->tspd <= 86400))
        return brs__err(err, BRS_E_RANGE, "%s: trading_seconds_per_day must be in (0, 86400] (got %g; 23400 for a "
                        "6.5 h equity session, 86400 for a market open all day)",
                        brs__config_origin(cfg, "trading_seconds_per_day"), c->tspd);
    if (!(c->ppy > 0 && c->ppy <= 1e6))
        return brs__err(err, BRS_E_RANGE, "%s: periods_per_year must be in (0, 1e6] (got %g; 252 for daily bars)",
                        brs__config_origin(cfg, "periods_per_year"), c->ppy);
    /* a yearly rate as a fraction: 0.05 is 5%; 2 is a typo for 0.02, not 200% */
    if (!(c->rf > -0.5 && c->rf < 1))
        return brs__err(err, BRS_E_RANGE, "%s: risk_free_rate is a yearly fraction (0.05 = 5%%), must be in (-0.5, 1) (got %g)",
                        brs__config_origin(cfg, "risk_free_rate"), c->rf);
    /* book runs bound their CSVs (a day of L3 replay can make gigabytes of
     * orders and fills); signal runs write every row */
    if ((rc = get_i(cfg, root, "", "csv_max_rows", strcmp(c->mode, "book") ? 0 : 1000000,
                    &c->csv_max_rows, err)))
        return rc;
    if (c->csv_max_rows != 0 && c->csv_max_rows < 100)
        return brs__err(err, BRS_E_RANGE, "%s: csv_max_rows must be 0 (every row) or at least 100 (got %lld)",
                        brs__config_origin(cfg, "csv_max_rows"), (long long)c->csv_max_rows);
    if (c->sample_every < 0)
        return brs__err(err, BRS_E_RANGE, "%s: sample_every_ns must be >= 0", brs__config_origin(cfg, "sample_every_ns"));
    /* report: what the run is compared with, the rolling window of its charts
     * (docs/analytics.md); read by the analytics and the page */
    cJSON *rep = obj_get(root, "report");
    int64_t window = 0;
    if (!cJSON_IsObject(rep))
        return brs__err(err, BRS_E_INVAL, "%s: report must be an object", cfg->source);
    if ((rc = brs__config_check_keys(cfg, rep, "report", k_report, err)) ||
        (rc = get_s(cfg, rep, "report", "benchmark", "buy_and_hold", &c->benchmark, err)) ||
        (rc = get_i(cfg, rep, "report", "rolling_window", 63, &window, err)) ||
        (rc = get_i(cfg, rep, "report", "max_bars", 1000000, &c->max_bars, err)))
        return rc;
    if (c->max_bars < 0)
        return brs__err(err, BRS_E_RANGE, "%s: report.max_bars must be >= 0", cfg->source);
    if (window < 2 || window > 100000)
        return brs__err(err, BRS_E_RANGE, "%s: report.rolling_window must be 2..100000 daily returns",
                        cfg->source);
    /* metrics: where the run is watched from, not what it computes: read, then
     * left out of the effective config (config.json is the same with or without) */
    cJSON *met = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    if (met) {
        const char *ml = NULL;
        if (!cJSON_IsObject(met))
            return brs__err(err, BRS_E_INVAL, "%s: metrics must be an object {\"listen\": \"127.0.0.1:9464\"}",
                            cfg->source);
        if ((rc = brs__config_check_keys(cfg, met, "metrics", k_metrics, err)) ||
            (rc = brs__config_string(cfg, met, "metrics", "listen", "", &ml, err)))
            return rc;
        if (strlen(ml) >= sizeof c->metrics_listen)
            return brs__err(err, BRS_E_INVAL, "%s: metrics.listen is too long", cfg->source);
        snprintf(c->metrics_listen, sizeof c->metrics_listen, "%s", ml);
        cJSON_DeleteItemFromObjectCaseSensitive(root, "metrics");
    }
    cJSON *lua = obj_get(root, "lua");
    if (!cJSON_IsObject(lua))
        return brs__err(err, BRS_E_INVAL, "%s: lua must be an object", cfg->source);
    if ((rc = brs__config_check_keys(cfg, lua, "lua", k_lua, err)) ||
        (rc = get_i(cfg, lua, "lua", "mem_limit", BRS__LUA_DEFAULT_MEM, &c->lua_mem, err)) ||
        (rc = get_i(cfg, lua, "lua", "instr_limit", BRS__LUA_DEFAULT_INSTR, &c->lua_instr, err)) ||
        (rc = brs__config_int(cfg, lua, "lua", "cpu_limit_ms", 0, &c->lua_cpu_ms, err)))
        return rc;
    if (c->lua_cpu_ms < 0)
        return brs__err(err, BRS_E_RANGE, "%s: lua.cpu_limit_ms must be >= 0 (0: the default)",
                        cfg->source);
    if (c->lua_mem <= 0 || c->lua_instr <= 0)
        return brs__err(err, BRS_E_RANGE, "%s: lua.mem_limit and lua.instr_limit must be > 0",
                        cfg->source);
    return BRS_OK;
}

/* brs_host.xPlot of a backtest: the point goes to the run's recorder. */
static int plot_to_recorder(void *user, int64_t ts, const char *name, double v)
{
    return brs__an_plot(user, ts, name, v);
}

/* Load the strategy: a .lua script, a .so path, or a plugin name on the search path. */
static int load_strategy(brs__strategy_src *src, const char *file, const run_common *c,
                         brs_error *err)
{
    brs__lua_opts lo = {.mem_limit = (size_t)c->lua_mem, .instr_limit = (uint64_t)c->lua_instr,
                        .cpu_limit_ms = (uint64_t)c->lua_cpu_ms, .seed = (uint64_t)c->seed};
    return brs__strategy_src_load(src, file, &lo, err);
}

/* A .lua script as given; anything else through the plugin search path (a
 * name like "noop", or a path to a .so). */
static int resolve_strategy(const char *name, char *out, size_t cap, brs_error *err)
{
    size_t n = strlen(name);
    if (n >= 4 && !strcmp(name + n - 4, ".lua")) {
        snprintf(out, cap, "%s", name);
        return BRS_OK;
    }
    return brs__plugin_find(name, NULL, out, cap, err);
}

/* Minor page faults of the process so far, for BOURSE_BT_TIMING: on this
 * project's VM first-touch faults are most of a bar run (docs/performance.md). */
static long minor_faults(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_minflt;
}

int brs__bt_run_config(brs_config *cfg, const char *out_dir, int progress, brs__bt_result *res,
                       brs_an_metrics *metrics, char *out_path, size_t out_cap, brs_error *err)
{
    return brs__bt_run_config_ex(cfg, out_dir, progress, NULL, res, metrics, out_path, out_cap, err);
}

int brs__bt_run_config_ex(brs_config *cfg, const char *out_dir, int progress,
                          const brs__bt_run_opts *ro, brs__bt_result *res, brs_an_metrics *metrics,
                          char *out_path, size_t out_cap, brs_error *err)
{
    memset(res, 0, sizeof *res);
    run_common c = {0};
    brs__run_metrics *met = NULL;
    brs__bt_signal_opts so = {0};
    brs__book_opts bo = {0};
    int rc = read_common(cfg, &c, err);
    double cash = 0;
    if (!rc)
        rc = get_d(cfg, cfg->root, "", "initial_cash", 100000, &cash, err);
    if (!rc && !(cash > 0 && isfinite(cash)))
        rc = brs__err(err, BRS_E_RANGE, "%s: initial_cash must be > 0 (got %g)", brs__config_origin(cfg, "initial_cash"), cash);
    int book = !rc && !strcmp(c.mode, "book");
    if (!rc && !book) {
        if (cJSON_GetObjectItemCaseSensitive(cfg->root, "book") ||
            cJSON_GetObjectItemCaseSensitive(cfg->root, "risk"))
            rc = brs__err(err, BRS_E_INVAL, "%s: key '%s' is for mode book, this run is mode signal",
                          cfg->source, cJSON_GetObjectItemCaseSensitive(cfg->root, "book") ? "book" : "risk");
        else if (!c.data)
            rc = brs__err(err, BRS_E_INVAL, "%s: data: signal mode takes one file", cfg->source);
        else
            rc = read_signal(cfg, cfg->root, &so, err);
        so.initial_cash = cash;
    }
    if (!rc && book) {
        if (cJSON_GetObjectItemCaseSensitive(cfg->root, "signal"))
            rc = brs__err(err, BRS_E_INVAL, "%s: key 'signal' is for mode signal, this run is mode book",
                          cfg->source);
        else
            rc = brs__book_read_config(cfg, &bo, err);
        if (!rc && !bo.rt.router && cJSON_GetObjectItemCaseSensitive(cfg->root, "risk"))
            rc = brs__err(err, BRS_E_INVAL, "%s: key 'risk' needs book.router.enabled (the checks sit in front of the router)",
                          cfg->source);
        bo.initial_cash = cash;
        bo.sample_every_ns = c.sample_every;
    }
    if (rc)
        return rc;

    int64_t t_start = brs__monotime_ns();
    struct timespec cpu0, cpu1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    char strat_path[4096];
    const brs__strategy_src *given_src = ro ? ro->strategy : NULL;
    const brs__bt_bars *given_bars = ro && !book ? ro->bars : NULL;
    brs__bt_resolved *cache = ro ? ro->resolved : NULL;
    if (!given_src && cache && cache->path[0] && !strcmp(cache->name, c.strategy)) {
        snprintf(strat_path, sizeof strat_path, "%s", cache->path);
    } else if (!given_src) {
        if ((rc = resolve_strategy(c.strategy, strat_path, sizeof strat_path, err)))
            return rc;
        if (cache && strlen(c.strategy) < sizeof cache->name && strlen(strat_path) < sizeof cache->path) {
            snprintf(cache->name, sizeof cache->name, "%s", c.strategy);
            snprintf(cache->path, sizeof cache->path, "%s", strat_path);
        }
    }
    brs__strategy_src src;
    memset(&src, 0, sizeof src);
    brs__sctx sc;
    memset(&sc, 0, sizeof sc);
    brs__bt_bars bars = {0};
    const brs__bt_bars *bp = given_bars ? given_bars : &bars; /* preloaded: the caller's, not freed here */
    brs_an_recorder *rec = NULL;
    brs__bt_signal *sig = NULL;
    brs__book_run *br = NULL;
    brs_an_instrument *ai = NULL;
    double *steps = NULL;
    const brs_instrument *instr = NULL;
    uint32_t n_instr = 0;

    if (given_src)
        src = *given_src; /* the caller's: not freed here */
    else if ((rc = load_strategy(&src, strat_path, &c, err)))
        goto out;
    snprintf(res->strategy, sizeof res->strategy, "%s", src.name);
    /* where the results go, checked before anything is computed */
    char dflt[512];
    const char *dir = out_dir ? out_dir : c.out;
    if (!dir) {
        char safe[160]; /* the script chooses its name: never let it be a path */
        brs__file_safe_name(safe, sizeof safe, src.name);
        snprintf(dflt, sizeof dflt, "runs/%s-%s", safe, c.mode);
        dir = dflt;
    }
    if (out_path)
        snprintf(out_path, out_cap, "%s", dir);
    if (!(ro && ro->no_write) && (rc = brs__check_out_dir(dir, err))) {
        brs__err_prefix(err, "run directory");
        goto out;
    }
    if (!book) {
        if (bp == &bars && (rc = brs__bt_bars_load_lazy(&bars, c.data, c.symbol, err)))
            goto out;
        if (getenv("BOURSE_BT_TIMING"))
            fprintf(stderr, "timing: bars loaded after %.3f s, %ld page faults\n",
                    (double)(brs__monotime_ns() - t_start) * 1e-9, minor_faults());
        instr = bp->instr;
        n_instr = bp->n_instr;
    } else {
        if ((rc = brs__book_create(&br, cfg, &bo, err)))
            goto out;
        instr = brs__book_instruments(br, &n_instr);
    }
    if (brs__interrupted()) {
        res->interrupted = brs__interrupted();
        res->phase = "loading the data";
        goto out;
    }
    ai = calloc(n_instr ? n_instr : 1, sizeof *ai);
    steps = calloc(n_instr ? n_instr : 1, sizeof *steps);
    if (!ai || !steps) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    if (!book && (rc = read_lot(cfg, instr, n_instr, steps, err)))
        goto out;
    so.qty_step = steps;
    for (uint32_t i = 0; i < n_instr; i++) {
        snprintf(ai[i].symbol, sizeof ai[i].symbol, "%s", instr[i].symbol);
        ai[i].multiplier = book ? 1 : steps[i]; /* qty x step is the asset amount */
        ai[i].price_scale = instr[i].price_scale;
    }
    char title[256];
    if (c.title)
        snprintf(title, sizeof title, "%s", c.title);
    else
        snprintf(title, sizeof title, "%s (%s mode) on %s", src.name, c.mode,
                 n_instr == 1 ? instr[0].symbol : "several instruments");
    brs_an_options ao = {.mode = book ? BRS_AN_BOOK : BRS_AN_SIGNAL, .periods_per_year = c.ppy,
                         .risk_free_rate = c.rf, .trading_seconds_per_day = c.tspd, .sample_every_ns = c.sample_every, .title = title,
                         .csv_max_rows = (uint64_t)c.csv_max_rows, .benchmark = c.benchmark,
                         .max_bars = c.max_bars ? c.max_bars : -1};
    if ((rc = brs__an_create(&rec, &ao, ai, n_instr, err)))
        goto out;

    brs__exec ex;
    if (!book) {
        if ((rc = brs__bt_signal_create(&sig, bp, &so, rec, err)))
            goto out;
        ex = brs__bt_signal_exec(sig);
    } else {
        ex = brs__book_exec(br);
    }
    brs__sctx_opts sopt = {.name = src.name, .instruments = instr, .n_instruments = n_instr,
                           .params = c.params, .params_where = "strategy.params", .exec = &ex,
                           .log_level = BRS_LOG_INFO, .max_orders = 4096, .event_queue = 65536,
                           .max_orders_per_run = (uint64_t)c.max_orders_run,
                           .max_callbacks_per_event = (uint32_t)c.max_cb_event,
                           .max_callbacks_per_instant = (uint32_t)c.max_cb_instant,
                           .max_log_bytes_per_callback = (uint64_t)c.max_log_cb,
                           .max_log_bytes = (uint64_t)c.max_log,
                           .plot = plot_to_recorder, .plot_user = rec,
                           .silent_failure = 1 /* the command prints the failure */};
    if ((rc = brs__sctx_init(&sc, src.vt, &sopt, err))) {
        /* "strategy.params.fast: expected an integer": where that value came from */
        char k[256];
        snprintf(k, sizeof k, "%.*s", (int)strcspn(err->msg, ": "), err->msg);
        brs__err_prefix(err, "%s", brs__config_origin(cfg, k));
        goto out;
    }
    /* metrics.listen: the run's series at /metrics while it runs (host/ops/run_metrics.c);
     * one strategy callback in 1024 is timed: in place, two clock reads cost
     * ~400 ns on this project's VM, 3% of a Lua per-bar run at one in 64
     * (docs/performance.md, "Metrics on and off") */
    if (c.metrics_listen[0]) {
        brs__run_metrics_opts mo = {.listen = c.metrics_listen, .mode = "backtest", .every = 1024};
        if ((rc = brs__run_metrics_start(&met, &mo, &sc, err)))
            goto out;
    }
    /* from here on a failure is the strategy's: the run is failed, not the input bad */
    if (book) /* the strategy starts at the data's first instant */
        brs__sctx_advance(&sc, brs__book_start(br));
    if (brs__strategy_src_open(&src, &sc, err) || brs__sctx_start(&sc, err)) {
        res->failed = 1;
        snprintf(res->error, sizeof res->error, "%s", err->msg);
        goto out;
    }
    if (getenv("BOURSE_BT_TIMING"))
        fprintf(stderr, "timing: started after %.3f s, %ld page faults\n",
                (double)(brs__monotime_ns() - t_start) * 1e-9, minor_faults());
    if (!book)
        rc = brs__bt_signal_run(sig, &sc, progress, res, err);
    else
        rc = brs__book_run_loop(br, &sc, rec, progress, res, err);
    brs__run_metrics_sync(met, brs__monotime_ns(), 1); /* the final values */
    if (rc)
        goto out;
    if (res->interrupted) {
        res->phase = "running the event loop";
        goto out;
    }
    brs_error serr = {0};
    if (!sc.failed && brs__sctx_stop(&sc, &serr) && !sc.failed) {
        res->failed = 1;
        snprintf(res->error, sizeof res->error, "%s", serr.msg);
    }
    if (book && !sc.failed && !res->failed) {
        rc = brs__book_finish(br, &sc, rec, err);
        res->fills = brs__book_fills(br, &res->orders);
    }
    if (rc)
        goto out;
    if (sc.failed) {
        res->failed = 1;
        snprintf(res->error, sizeof res->error, "%s", sc.error);
    }
    if (res->failed)
        goto out;
    res->total_seconds = (double)(brs__monotime_ns() - t_start) * 1e-9;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    res->total_cpu_seconds = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) * 1e-9;
    if (getenv("BOURSE_BT_TIMING"))
        fprintf(stderr, "timing: loop %.3f s, total %.3f s, %ld page faults\n", res->seconds,
                res->total_seconds, minor_faults());

    if ((rc = brs__an_compute_ex(rec, metrics, ro && ro->headline_only, err)))
        goto out;
    if (ro && ro->no_write)
        goto out;
    if (brs__interrupted()) { /* nothing written yet: stop here */
        res->interrupted = brs__interrupted();
        res->phase = "computing the metrics";
        goto out;
    }
    if (!book) /* candlesticks in the report, bars.csv (as columns: made only if written) */
        for (uint32_t i = 0; i < bp->n_instr; i++)
            brs__an_set_bars(rec, i, bp->total <= brs__an_max_bars(rec) ? brs__bt_signal_columns(sig, i) : NULL,
                             bp->n[i]);
    /* A signal from here on is honoured once the directory is complete: a run
     * directory is whole or absent, never half (summary.json is written last). */
    rc = brs__an_write_run(rec, dir, cfg, err);
    if (!rc && brs__interrupted()) {
        res->interrupted = brs__interrupted();
        res->phase = "writing the run directory (it was completed)";
    }
out:
    brs__run_metrics_stop(met);
    brs__sctx_free(&sc);
    if (!given_src)
        brs__strategy_src_free(&src);
    brs__bt_signal_destroy(sig);
    brs__book_destroy(br);
    brs__an_destroy(rec);
    if (bp == &bars)
        brs__bt_bars_free(&bars);
    free(ai);
    free(steps);
    return rc;
}
