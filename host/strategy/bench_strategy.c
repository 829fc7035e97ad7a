/* bench_strategy.c: `bourse bench strategy`: ns per market-event callback for
 * the C plugin and the Lua script of the MA crossover on the same bar stream,
 * driven through brs__sctx_on_market exactly as the engine drives a strategy
 * (runtime dispatch, simple fill model and order events included). A no-op
 * strategy gives the dispatch cost alone. Also checks both made the same trades. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bourse/indicators.h>
#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "plugin/loader.h"
#include "source.h"

#ifndef BRS__LUA_STRATEGY_DIR
#define BRS__LUA_STRATEGY_DIR "strategies-lua"
#endif

/* CPU time of this thread: on a machine shared with other jobs, time spent
 * descheduled is left out (wall-clock figures are reported next to it). */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

typedef struct trade_hash {
    uint64_t h;
    uint64_t n;
} trade_hash;

static void hash_fill(void *user, const brs_order_event *f)
{
    trade_hash *t = user;
    int64_t v[4] = {f->ts, f->side, f->price, f->qty};
    for (int i = 0; i < 4; i++) {
        t->h ^= (uint64_t)v[i];
        t->h *= 0x100000001B3ULL; /* FNV-1a style */
    }
    t->n++;
}

static int noop_open(void *self, const brs_host *h, brs_ctx *c, brs_error *e)
{
    (void)self, (void)h, (void)c, (void)e;
    return BRS_OK;
}
static void noop_close(void *self) { (void)self; }
static int noop_bar(void *self, const brs_market_event *ev)
{
    (void)self;
    BRS__KEEP(ev);
    return BRS_OK;
}
static const brs_strategy_vtable noop_vt = {.size = sizeof(brs_strategy_vtable),
                                            .subscriptions = BRS_SUB_BARS, .xOpen = noop_open,
                                            .xClose = noop_close, .xOnBar = noop_bar};

typedef struct result {
    double ns_per_call;  /* median over runs: the bar callback alone */
    double ns_per_event; /* median over runs: the whole market-event path */
    double min_per_call; /* fastest run: the least disturbed by other load */
    double wall_per_call; /* median, wall clock */
    double allocs_per_call;
    trade_hash trades;   /* from the first run */
    int ok;
} result;

/* Run vt/self over ev[0..n) `runs` times, each on a fresh context. */
static int measure(const brs_strategy_vtable *vt, void *self_or_null, brs__strategy_src *src,
                   const char *path, const brs__lua_opts *lo, const brs_market_event *ev, size_t n,
                   int runs, result *out, brs_error *err)
{
    double *samples = calloc(3 * (size_t)runs, sizeof *samples);
    if (!samples)
        return BRS_E_NOMEM;
    double *calls = samples + runs, *walls = samples + 2 * runs;
    int64_t allocs = 0;
    int rc = BRS_OK;
    /* Odd passes time the callback alone (brs__sctx_call_bar), even passes the
     * whole path (brs__sctx_on_market: book as last seen, fill model, dispatch). */
    for (int pass = 0; pass < 2 * runs && rc == BRS_OK; pass++) {
        int r = pass / 2, alone = pass & 1;
        brs__strategy_src s = {0};
        if (src) { /* a fresh load per run: strategies keep state */
            rc = brs__strategy_src_load(&s, path, lo, err);
            if (rc)
                break;
            vt = s.vt;
            self_or_null = s.self;
        }
        brs__simfill fm;
        brs__simfill_init(&fm, 64);
        trade_hash th = {.h = 0xcbf29ce484222325ULL};
        fm.on_fill = hash_fill;
        fm.user = &th;
        brs__exec ex = brs__simfill_exec(&fm);
        brs_instrument in = {.symbol = "BENCH", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
        brs__sctx_opts o = {.name = "bench", .instruments = &in, .n_instruments = 1, .exec = &ex,
                            .quiet = 1};
        brs__sctx sc;
        rc = brs__sctx_init(&sc, vt, &o, err);
        if (!rc)
            rc = brs__sctx_open(&sc, self_or_null, err);
        if (!rc)
            rc = brs__sctx_start(&sc, err);
        if (!rc) {
            int64_t a0 = brs__alloc_count();
            int64_t w0 = brs__monotime_ns();
            int64_t t0 = cpu_ns();
            const brs_market_event *end = ev + n; /* no index beside the pointer */
            if (alone)
                for (const brs_market_event *e = ev; e != end; e++)
                    brs__sctx_call_bar(&sc, e);
            else
                for (const brs_market_event *e = ev; e != end; e++)
                    brs__sctx_on_market(&sc, e);
            int64_t t1 = cpu_ns();
            int64_t w1 = brs__monotime_ns();
            int64_t a1 = brs__alloc_count();
            (alone ? calls : samples)[r] = (double)(t1 - t0) / (double)n;
            if (alone)
                walls[r] = (double)(w1 - w0) / (double)n;
            allocs = a0 < 0 || allocs < 0 ? -1 : allocs + (a1 - a0);
            if (sc.failed)
                rc = brs__err(err, sc.failed, "%s", sc.error);
            if (pass == 0)
                out->trades = th;
            else if (th.n != out->trades.n || th.h != out->trades.h)
                rc = brs__err(err, BRS_E_STATE, "two runs over the same bars made different trades");
        }
        brs__sctx_free(&sc);
        brs__simfill_free(&fm);
        if (src)
            brs__strategy_src_free(&s);
    }
    if (rc == BRS_OK) {
        out->ns_per_event = brs__median(samples, (size_t)runs);
        out->ns_per_call = brs__median(calls, (size_t)runs); /* sorts calls */
        out->min_per_call = calls[0];
        out->wall_per_call = brs__median(walls, (size_t)runs);
        out->allocs_per_call = allocs < 0 ? -1 : (double)allocs / ((double)n * 2 * runs);
        out->ok = 1;
    }
    free(samples);
    return rc;
}

/* The reference for the Lua callback, the interpreter's own call
 * cost: a bare lua_pcall into a plain Lua state (luaL_newstate: no sandbox,
 * no hook, no budget, no runtime), per bar, of a Lua function given two
 * integers (the bar's close and volume: `function(close, volume) end`), and
 * of one given a reused table whose two fields the host rewrites per call
 * (`function(bar) local c, v = bar.close, bar.volume end`, the way the
 * binding hands `bar` over). Median thread CPU ns per call over `runs`. */
static int pcall_reference(const brs_market_event *ev, size_t n, int runs, double out[2])
{
    lua_State *L = luaL_newstate();
    if (!L)
        return BRS_E_NOMEM;
    double *t = calloc(2 * (size_t)runs, sizeof *t);
    int rc = t ? BRS_OK : BRS_E_NOMEM;
    /* slots: 1 the two-integer function, 2 the table function, 3 the table */
    if (rc == BRS_OK && (luaL_dostring(L, "return function(close, volume) end") != LUA_OK ||
                         luaL_dostring(L, "return function(bar) local c, v = bar.close, bar.volume end") != LUA_OK))
        rc = BRS_E_STATE;
    if (rc == BRS_OK) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, 0);
        lua_setfield(L, 3, "close");
        lua_pushinteger(L, 0);
        lua_setfield(L, 3, "volume");
    }
    for (int r = 0; r < runs && rc == BRS_OK; r++) {
        int64_t t0 = cpu_ns();
        for (size_t i = 0; i < n && rc == BRS_OK; i++) {
            lua_pushvalue(L, 1);
            lua_pushinteger(L, ev[i].bar.close);
            lua_pushinteger(L, ev[i].bar.volume);
            if (lua_pcall(L, 2, 0, 0) != LUA_OK)
                rc = BRS_E_STATE;
        }
        int64_t t1 = cpu_ns();
        for (size_t i = 0; i < n && rc == BRS_OK; i++) {
            lua_pushinteger(L, ev[i].bar.close);
            lua_setfield(L, 3, "close");
            lua_pushinteger(L, ev[i].bar.volume);
            lua_setfield(L, 3, "volume");
            lua_pushvalue(L, 2);
            lua_pushvalue(L, 3);
            if (lua_pcall(L, 1, 0, 0) != LUA_OK)
                rc = BRS_E_STATE;
        }
        int64_t t2 = cpu_ns();
        t[r] = (double)(t1 - t0) / (double)n;
        t[runs + r] = (double)(t2 - t1) / (double)n;
    }
    if (rc == BRS_OK) {
        out[0] = brs__median(t, (size_t)runs);
        out[1] = brs__median(t + runs, (size_t)runs);
    }
    free(t);
    lua_close(L);
    return rc;
}

/* The floor under the Lua figure on bars ma_cross ignores: what the stock
 * interpreter alone costs for the work ma_cross.lua's on_bar does there. A
 * plain Lua state (no sandbox, no budget, no runtime, no order path), the
 * same statements as on_bar on a bar it takes no action on, and its two SMAs
 * as the binding makes them (a table holding an `update` C closure over the
 * indicator block, api/bourse/indicators.h's brs_sma_update, an integer
 * close in and the value or nil out); `bar` a reused table whose `close` the
 * host rewrites per call. The one trade at warm-up is a position change in
 * the script instead of an order. Median thread CPU ns per call. */
typedef struct floor_sma {
    brs_sma sma;
    double buf[32];
} floor_sma;

__attribute__((aligned(64))) static int floor_update(lua_State *L)
{
    floor_sma *x = lua_touserdata(L, lua_upvalueindex(1));
    brs_sma_update(&x->sma, (double)lua_tointeger(L, 2));
    if (brs_sma_ready(&x->sma))
        lua_pushnumber(L, brs_sma_value(&x->sma));
    else
        lua_pushnil(L);
    return 1;
}

__attribute__((noinline, aligned(64))) static int floor_reference(const brs_market_event *ev, size_t n, int runs, double *out, long *trades)
{
    static const char src[] =
        "local fast, slow = ...\n"
        "local qty, short_qty, position, working, signal, trades = 1, 0, 0, false, false, 0\n"
        "return function(ctx, bar)\n"
        "  local close = bar.close\n"
        "  local f, s = fast:update(close), slow:update(close)\n"
        "  if working or not s then return end\n"
        "  if signal then return end\n"
        "  local delta = (f > s and qty or short_qty) - position\n"
        "  if delta > 0 then position, trades = position + delta, trades + 1\n"
        "  elseif delta < 0 then position, trades = position + delta, trades + 1 end\n"
        "end, function() return trades end\n";
    lua_State *L = luaL_newstate();
    if (!L)
        return BRS_E_NOMEM;
    double *t = calloc((size_t)runs, sizeof *t);
    int rc = t ? BRS_OK : BRS_E_NOMEM;
    for (int r = 0; r < runs && rc == BRS_OK; r++) {
        /* a fresh script and fresh SMAs per run, as the runtime's runs get.
         * Slots: 1 the trade counter, 2 on_bar, 3 ctx (an empty table: on_bar
         * does not use it), 4 bar, 5 the key "close" (a raw set with the key at
         * hand: the cheapest refill the API offers) */
        lua_settop(L, 0);
        if (luaL_loadstring(L, src) != LUA_OK) {
            rc = BRS_E_STATE;
            break;
        }
        for (int k = 0; k < 2; k++) { /* fast (10), slow (30): ma_cross's defaults */
            lua_createtable(L, 0, 1);
            floor_sma *x = lua_newuserdatauv(L, sizeof *x, 0);
            memset(x, 0, sizeof *x);
            brs_sma_init(&x->sma, x->buf, k ? 30 : 10);
            lua_pushcclosure(L, floor_update, 1);
            lua_setfield(L, -2, "update");
        }
        if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
            rc = BRS_E_STATE;
            break;
        }
        lua_rotate(L, 1, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushinteger(L, 0);
        lua_setfield(L, 4, "close");
        lua_pushliteral(L, "close");
        int64_t t0 = cpu_ns();
        for (size_t i = 0; i < n && rc == BRS_OK; i++) {
            lua_pushvalue(L, 5);
            lua_pushinteger(L, ev[i].bar.close);
            lua_rawset(L, 4);
            lua_pushvalue(L, 2);
            lua_pushvalue(L, 3);
            lua_pushvalue(L, 4);
            if (lua_pcall(L, 2, 0, 0) != LUA_OK)
                rc = BRS_E_STATE;
        }
        t[r] = (double)(cpu_ns() - t0) / (double)n;
        lua_pushvalue(L, 1);
        if (rc == BRS_OK && lua_pcall(L, 0, 1, 0) != LUA_OK)
            rc = BRS_E_STATE;
        else if (rc == BRS_OK && r == 0)
            *trades = (long)lua_tointeger(L, -1);
    }
    if (rc == BRS_OK)
        *out = brs__median(t, (size_t)runs);
    free(t);
    lua_close(L);
    return rc;
}

static void print_row(const char *name, const result *r)
{
    printf("  %-22s %9.1f %9.1f %9.1f %9.1f %12.3f %6llu\n", name, r->ns_per_call, r->min_per_call,
           r->wall_per_call, r->ns_per_event, r->allocs_per_call, (unsigned long long)r->trades.n);
}

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

int brs__bench_strategy(int argc, char **argv)
{
    int json = 0, runs = 7;
    long events = 200000;
    const char *script = NULL, *plugin = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench strategy [--events N] [--runs R] [--script FILE.lua]\n"
                   "                             [--plugin FILE.so] [--json]\n\n"
                   "ns per bar callback of the MA crossover, C plugin and Lua script, on the\n"
                   "same deterministic random-walk bars (default 200000 events, median of 7\n"
                   "runs), through the strategy runtime as the engine calls it; beside them\n"
                   "the no-op C strategy (the dispatch alone), a bare lua_pcall in a plain\n"
                   "Lua state (the interpreter's own call cost), both strategies on bars they\n"
                   "ignore, and the plain interpreter's floor for the Lua script's work on\n"
                   "them (its statements and two C SMAs, no sandbox or budget), with each\n"
                   "figure's ratio.\n");
            return BRS_EXIT_OK;
        } else if (!strcmp(argv[i], "--events") && i + 1 < argc) {
            events = strtol(argv[++i], NULL, 10);
            if (events < 1 || events > 100000000)
                return brs__usage_error("bench strategy", "--events must be 1..100000000");
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = (int)strtol(argv[++i], NULL, 10);
            if (runs < 1 || runs > 1000)
                return brs__usage_error("bench strategy", "--runs must be 1..1000");
        } else if (!strcmp(argv[i], "--script") && i + 1 < argc)
            script = argv[++i];
        else if (!strcmp(argv[i], "--plugin") && i + 1 < argc)
            plugin = argv[++i];
        else
            return brs__usage_error("bench strategy", "unknown option '%s'", argv[i]);
    }
    char script_buf[4096], plugin_buf[4096];
    if (!script) {
        /* the source tree's copy, else the installed one next to the binary */
        snprintf(script_buf, sizeof script_buf, "%s/ma_cross.lua", BRS__LUA_STRATEGY_DIR);
        script = script_buf;
        char exe[2048];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (!file_exists(script) && len > 0) {
            exe[len] = 0;
            char *slash = strrchr(exe, '/');
            if (slash)
                *slash = 0;
            snprintf(script_buf, sizeof script_buf, "%s/../share/bourse/strategies-lua/ma_cross.lua", exe);
        }
    }
    if (!file_exists(script))
        return brs__fail("bench strategy", "%s: not found (use --script)", script);
    brs_error err = {0};
#if __has_include("plugin/loader.h")
    if (!plugin && brs__plugin_find("ma_cross", NULL, plugin_buf, sizeof plugin_buf, &err) == BRS_OK)
        plugin = plugin_buf;
#else
    (void)plugin_buf;
#endif
    size_t n = (size_t)events;
    brs_market_event *ev = malloc(n * sizeof *ev);
    if (!ev)
        return brs__fail("bench strategy", "out of memory");
    brs__bars_random_walk(ev, n, 7, 0, 100000, 1700000000LL * 1000000000LL);
    brs__lua_opts lo = {0};
    result rn = {0}, rc_ = {0}, rci = {0}, rl = {0}, rlf = {0}, rli = {0}, rlif = {0};
    brs_market_event *q = NULL;
    brs__lua_opts free_run = {.instr_limit = UINT64_MAX}; /* no count hook: what the budget costs */
    int code = BRS_EXIT_OK;
    char c_note[BRS_ERROR_MSG_MAX] = "";
    if (measure(&noop_vt, NULL, NULL, NULL, NULL, ev, n, runs, &rn, &err)) {
        code = brs__fail("bench strategy", "no-op strategy: %s", err.msg);
        goto out;
    }
    /* The C figure: the dispatch plus the strategy's own work on an
     * event it ignores. The same bars with a rising close: the fast SMA stays
     * above the slow one, so ma_cross buys once when both are ready and then
     * only updates its two SMAs and tests the crossover on every bar (no
     * order, fill or on_order), where the random walk trades on ~4% of bars.
     * The Lua script is measured on them too, beside the interpreter's floor
     * for that work (floor_reference). */
    q = malloc(n * sizeof *q);
    if (!q) {
        code = brs__fail("bench strategy", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        q[i] = ev[i];
        q[i].bar.open = q[i].bar.high = q[i].bar.low = q[i].bar.close = 100000 + (int64_t)i;
    }
    brs__strategy_src probe;
    int have_c = plugin && brs__strategy_src_load(&probe, plugin, NULL, &err) == BRS_OK;
    if (have_c)
        brs__strategy_src_free(&probe);
    else
        snprintf(c_note, sizeof c_note, "%s", plugin ? err.msg : "ma_cross.so not found (use --plugin)");
    /* each strategy on the random walk, then on the rising bars it ignores */
    const struct {
        const char *what, *path;
        const brs__lua_opts *lua;
        const brs_market_event *bars;
        result *out;
    } runs_of[] = {
        {"C ma_cross", have_c ? plugin : NULL, NULL, ev, &rc_},
        {"C ma_cross on a rising series", have_c ? plugin : NULL, NULL, q, &rci},
        {"Lua ma_cross", script, &lo, ev, &rl},
        {"Lua ma_cross without budget", script, &free_run, ev, &rlf},
        {"Lua ma_cross on a rising series", script, &lo, q, &rli},
        {"Lua ma_cross on a rising series without budget", script, &free_run, q, &rlif},
    };
    for (size_t k = 0; k < sizeof runs_of / sizeof *runs_of; k++) {
        if (runs_of[k].path &&
            measure(NULL, NULL, &probe, runs_of[k].path, runs_of[k].lua, runs_of[k].bars, n, runs,
                    runs_of[k].out, &err)) {
            code = brs__fail("bench strategy", "%s: %s", runs_of[k].what, err.msg);
            goto out;
        }
    }
    double floor_ns;
    long floor_trades = 0;
    if (floor_reference(q, n, runs, &floor_ns, &floor_trades)) {
        code = brs__fail("bench strategy", "the plain-interpreter floor reference failed");
        goto out;
    }
    double pref[2];
    if (pcall_reference(ev, n, runs, pref)) {
        code = brs__fail("bench strategy", "the bare lua_pcall reference failed");
        goto out;
    }
    int same = rc_.ok && rc_.trades.n == rl.trades.n && rc_.trades.h == rl.trades.h;
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "events", (double)n);
        cJSON_AddNumberToObject(o, "runs", runs);
        if (rc_.ok)
            cJSON_AddNumberToObject(o, "c_ns_per_call", rc_.ns_per_call);
        else
            cJSON_AddNullToObject(o, "c_ns_per_call");
        cJSON_AddNumberToObject(o, "lua_ns_per_call", rl.ns_per_call);
        cJSON_AddNumberToObject(o, "lua_no_budget_ns_per_call", rlf.ns_per_call);
        cJSON_AddNumberToObject(o, "noop_ns_per_call", rn.ns_per_call);
        /* the references in the same run, and each figure's ratio to its own */
        cJSON_AddNumberToObject(o, "lua_pcall_ns_per_call", pref[0]);
        cJSON_AddNumberToObject(o, "lua_pcall_table_ns_per_call", pref[1]);
        cJSON_AddNumberToObject(o, "lua_ratio_to_pcall", rl.ns_per_call / pref[0]);
        cJSON_AddNumberToObject(o, "lua_no_budget_ratio_to_pcall", rlf.ns_per_call / pref[0]);
        if (rc_.ok)
            cJSON_AddNumberToObject(o, "c_ratio_to_noop", rc_.ns_per_call / rn.ns_per_call);
        else
            cJSON_AddNullToObject(o, "c_ratio_to_noop");
        if (rci.ok) { /* ma_cross on bars it takes no action on (see above) */
            cJSON_AddNumberToObject(o, "c_ignore_ns_per_call", rci.ns_per_call);
            cJSON_AddNumberToObject(o, "c_ignore_ns_per_call_min", rci.min_per_call);
            cJSON_AddNumberToObject(o, "c_ignore_ratio_to_noop", rci.ns_per_call / rn.ns_per_call);
            cJSON_AddNumberToObject(o, "c_ignore_fills", (double)rci.trades.n);
        } else {
            cJSON_AddNullToObject(o, "c_ignore_ns_per_call");
        }
        /* ma_cross.lua on the same rising bars, and the floor for that work */
        cJSON_AddNumberToObject(o, "lua_ignore_ns_per_call", rli.ns_per_call);
        cJSON_AddNumberToObject(o, "lua_ignore_ns_per_call_min", rli.min_per_call);
        cJSON_AddNumberToObject(o, "lua_ignore_no_budget_ns_per_call", rlif.ns_per_call);
        cJSON_AddNumberToObject(o, "lua_ignore_fills", (double)rli.trades.n);
        cJSON_AddNumberToObject(o, "lua_floor_ns_per_call", floor_ns);
        cJSON_AddNumberToObject(o, "lua_floor_trades", (double)floor_trades); /* its one buy at warm-up */
        cJSON_AddNumberToObject(o, "lua_ignore_ratio_to_floor", rli.ns_per_call / floor_ns);
        cJSON_AddNumberToObject(o, "lua_ignore_no_budget_ratio_to_floor", rlif.ns_per_call / floor_ns);
        if (rc_.ok)
            cJSON_AddNumberToObject(o, "c_ns_per_call_min", rc_.min_per_call);
        cJSON_AddNumberToObject(o, "lua_ns_per_call_min", rl.min_per_call);
        if (rc_.ok)
            cJSON_AddNumberToObject(o, "c_ns_per_call_wall", rc_.wall_per_call);
        cJSON_AddNumberToObject(o, "lua_ns_per_call_wall", rl.wall_per_call);
        cJSON_AddStringToObject(o, "clock", "thread cpu time (wall clock in *_wall)");
        if (rc_.ok)
            cJSON_AddNumberToObject(o, "c_ns_per_event", rc_.ns_per_event);
        else
            cJSON_AddNullToObject(o, "c_ns_per_event");
        cJSON_AddNumberToObject(o, "lua_ns_per_event", rl.ns_per_event);
        cJSON_AddNumberToObject(o, "noop_ns_per_event", rn.ns_per_event);
        cJSON_AddNumberToObject(o, "lua_allocs_per_call", rl.allocs_per_call);
        cJSON_AddNumberToObject(o, "c_allocs_per_call", rc_.ok ? rc_.allocs_per_call : -1);
        cJSON_AddNumberToObject(o, "c_fills", rc_.ok ? (double)rc_.trades.n : -1);
        cJSON_AddNumberToObject(o, "lua_fills", (double)rl.trades.n);
        cJSON_AddBoolToObject(o, "same_trades", same);
        if (c_note[0])
            cJSON_AddStringToObject(o, "c_note", c_note);
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("MA crossover, %zu bar events, median of %d runs, thread CPU time (a shared machine is noisy)\n", n, runs);
        printf("  ns per bar: 'callback' = xOnBar through the vtable with the runtime's guard and\n"
               "  order-event delivery; 'event' = the whole market-event path (fill model too)\n");
        printf("  %-22s %9s %9s %9s %9s %12s %6s\n", "", "callback", "fastest", "wall", "event",
               "allocs/call", "fills");
        printf("  %-22s %9.1f %9.1f %9.1f %9.1f %12s %6s\n", "no-op C strategy", rn.ns_per_call,
               rn.min_per_call, rn.wall_per_call, rn.ns_per_event, "-", "-");
        if (rc_.ok)
            print_row("C plugin ma_cross.so", &rc_);
        else
            printf("  C plugin: not measured: %s\n", c_note);
        if (rci.ok)
            print_row("  (bars it ignores)", &rci);
        print_row("Lua ma_cross.lua", &rl);
        print_row("  (no instr. budget)", &rlf);
        print_row("  (bars it ignores)", &rli);
        print_row("  (ignores, no budget)", &rlif);
        printf("  %-22s %9.1f   (reference: bare lua_pcall, plain state, two integers; Lua / this: %.2fx)\n",
               "lua_pcall", pref[0], rl.ns_per_call / pref[0]);
        printf("  %-22s %9.1f   (the same with a reused two-field table refilled per call)\n",
               "lua_pcall + table", pref[1]);
        printf("  %-22s %9.1f   (floor: on_bar's statements and two C SMAs in a plain Lua state on the\n"
               "  %-22s %9s    bars it ignores, no sandbox, budget or runtime; ignores / this: %.2fx)\n",
               "Lua floor", floor_ns, "", "", rli.ns_per_call / floor_ns);
        if (rc_.ok)
            printf("  same trades: %s\n", same ? "yes" : "NO");
    }
    if (rc_.ok && !same)
        code = brs__fail("bench strategy", "the C and Lua MA crossovers made different trades");
out:
    free(q);
    free(ev);
    return code;
}
