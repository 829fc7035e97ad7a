/* test_lua.c: Lua strategies behind the vtable: the C plugin and the Lua
 * script of the MA crossover make identical trades on the same bars; the ctx
 * API (orders, positions, timers, params, indicators); errors name the script,
 * the line and the callback; memory cap and instruction budget are configurable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strategy/source.h"

enum { NBARS = 5000, MAXF = 4096 };

typedef struct fills {
    brs_order_event f[MAXF];
    size_t n;
} fills;

static void on_fill(void *user, const brs_order_event *ev)
{
    fills *fl = user;
    if (fl->n < MAXF)
        fl->f[fl->n++] = *ev;
}

static const brs_instrument instr = {.symbol = "XYZ", .price_scale = 10000, .tick_size = 1, .lot_size = 1};

/* Run a strategy file over the bars through the runtime and the simple fill model. */
static void run_file(const char *path, const char *params_json, const brs_market_event *bars,
                     size_t n, fills *out)
{
    brs__strategy_src src;
    brs_error err = {0};
    int rc = brs__strategy_src_load(&src, path, NULL, &err);
    if (rc)
        fail_msg("%s", err.msg);
    brs__simfill fm;
    brs__simfill_init(&fm, 64);
    fm.on_fill = on_fill;
    fm.user = out;
    brs__exec ex = brs__simfill_exec(&fm);
    cJSON *p = cJSON_Parse(params_json);
    brs__sctx_opts o = {.name = src.name, .instruments = &instr, .n_instruments = 1, .params = p,
                        .exec = &ex, .quiet = 1};
    brs__sctx sc;
    assert_int_equal(brs__sctx_init(&sc, src.vt, &o, &err), BRS_OK);
    assert_int_equal(brs__strategy_src_open(&src, &sc, &err), BRS_OK);
    assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(brs__sctx_on_market(&sc, &bars[i]), BRS_OK);
    assert_int_equal(brs__sctx_stop(&sc, &err), BRS_OK);
    brs__sctx_free(&sc);
    brs__strategy_src_free(&src);
    brs__simfill_free(&fm);
    cJSON_Delete(p);
}

static void compare_ma_cross(const char *params)
{
    brs_market_event *bars = calloc(NBARS, sizeof *bars);
    fills *c = calloc(1, sizeof *c), *l = calloc(1, sizeof *l);
    brs__bars_random_walk(bars, NBARS, 2024, 0, 50000, 1600000000LL * 1000000000LL);
    run_file(BOURSE_BINARY_DIR "/plugins/ma_cross.so", params, bars, NBARS, c);
    run_file(BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua", params, bars, NBARS, l);
    print_message("ma_cross %s: C %zu fills, Lua %zu fills\n", params, c->n, l->n);
    assert_true(c->n > 20); /* the comparison means something only if it trades */
    assert_int_equal(c->n, l->n);
    for (size_t i = 0; i < c->n; i++) {
        assert_int_equal(c->f[i].ts, l->f[i].ts);
        assert_int_equal(c->f[i].order_id, l->f[i].order_id);
        assert_int_equal(c->f[i].side, l->f[i].side);
        assert_int_equal(c->f[i].price, l->f[i].price);
        assert_int_equal(c->f[i].qty, l->f[i].qty);
    }
    free(bars);
    free(c);
    free(l);
}

static void test_ma_cross_same_trades_long_flat(void **state)
{
    (void)state;
    compare_ma_cross("{\"fast\": 5, \"slow\": 20, \"qty\": 3}");
}

static void test_ma_cross_same_trades_short(void **state)
{
    (void)state;
    compare_ma_cross("{\"fast\": 8, \"slow\": 50, \"qty\": 2, \"allow_short\": true}");
}

/* ---- in-memory scripts ----------------------------------------------- */

typedef struct lrun {
    brs__lua_strategy *ls;
    brs__sctx sc;
    brs__simfill fm;
    brs_error err;
    int load_rc, open_rc;
} lrun;

static void lopen(lrun *r, const char *script, const char *params, const brs__lua_opts *lo)
{
    memset(r, 0, sizeof *r);
    r->load_rc = brs__lua_strategy_load_buffer(&r->ls, script, strlen(script), "t.lua", lo, &r->err);
    if (r->load_rc)
        return;
    brs__simfill_init(&r->fm, 64);
    brs__exec ex = brs__simfill_exec(&r->fm);
    cJSON *p = params ? cJSON_Parse(params) : NULL;
    brs__sctx_opts o = {.name = "t", .instruments = &instr, .n_instruments = 1, .params = p,
                        .params_where = "strategy.params", .exec = &ex, .quiet = 1};
    r->open_rc = brs__sctx_init(&r->sc, brs__lua_strategy_vtable(r->ls), &o, &r->err);
    cJSON_Delete(p);
    if (!r->open_rc)
        r->open_rc = brs__sctx_open(&r->sc, r->ls, &r->err);
    if (!r->open_rc)
        r->open_rc = brs__sctx_start(&r->sc, &r->err);
}

static void lclose(lrun *r)
{
    if (r->ls) {
        brs__sctx_free(&r->sc);
        brs__lua_strategy_free(r->ls);
        brs__simfill_free(&r->fm);
    }
}

static brs_market_event mkbar(int64_t ts, int64_t close)
{
    brs_market_event e = {.ts_exchange = ts, .ts_local = ts, .kind = BRS_MEV_BAR};
    e.bar.open = e.bar.high = e.bar.low = e.bar.close = close;
    e.bar.high += 2;
    e.bar.low -= 2;
    e.bar.volume = 10;
    return e;
}

static void test_api(void **state)
{
    (void)state;
    const char *script =
        "local sma, seen, fills, tfired = nil, 0, 0, 0\n"
        "return {\n"
        "  params = { n = {type='int', default=3, min=1}, k = {type='number', default=1.5},\n"
        "             on = {type='bool', default=true}, s = {type='string', default='hi'} },\n"
        "  on_start = function(ctx)\n"
        "    assert(ctx.params.n == 4 and ctx.params.k == 1.5 and ctx.params.on == true and ctx.params.s == 'hi')\n"
        "    sma = ctx.indicators.sma(ctx.params.n)\n"
        "    ctx:timer(1000, 1000)\n"
        "  end,\n"
        "  on_bar = function(ctx, bar)\n"
        "    seen = seen + 1\n"
        "    local v = sma:update(bar.close)\n"
        "    if seen == 4 then\n"
        "      assert(v == (100 + 101 + 102 + 103) / 4, 'sma ' .. tostring(v))\n"
        "      local id = ctx:buy{qty = 5}\n"
        "      assert(id == 1, 'first id')\n"
        "      local lid = ctx:sell{qty = 2, price = 200}\n"
        "      assert(lid == 2)\n"
        "      local bad, why = ctx:buy{qty = 1, price = -3}\n"
        "      assert(bad == nil and why == 'invalid argument', tostring(why))\n"
        "    elseif seen == 5 then\n"
        "      local q, avg = ctx:position()\n"
        "      assert(q == 5 and avg == 103, 'position ' .. q)\n"
        "      local o = ctx:orders()\n"
        "      assert(#o == 1 and o[1].id == 2 and o[1].side == 'sell' and o[1].leaves == 2)\n"
        "      assert(ctx:replace(2, 210, 3))\n"
        "      assert(ctx:cancel(2))\n"
        "      local r, u = ctx:pnl()\n"
        "      assert(r == 0 and u == 5 * (bar.close - 103), 'pnl ' .. u)\n"
        "      assert(ctx:now() == bar.ts)\n"
        "      ctx:log('api ok', seen)\n"
        "    end\n"
        "  end,\n"
        "  on_fill = function(ctx, ev) fills = fills + 1; assert(ev.kind == 'fill') end,\n"
        "  on_timer = function(ctx, id, now) tfired = tfired + 1 end,\n"
        "  on_stop = function(ctx) assert(fills == 1, 'fills ' .. fills); assert(tfired >= 4, 'timers ' .. tfired) end,\n"
        "}\n";
    lrun r;
    lopen(&r, script, "{\"n\": 4}", NULL);
    if (r.load_rc || r.open_rc)
        fail_msg("%s", r.err.msg);
    const brs_strategy_vtable *vt = brs__lua_strategy_vtable(r.ls);
    assert_int_equal(vt->n_params, 4);
    assert_string_equal(vt->params[0].name, "k"); /* sorted by name */
    assert_int_equal(vt->subscriptions, BRS_SUB_BARS);
    for (int i = 0; i < 6; i++) {
        brs_market_event b = mkbar(1000 * (i + 1), 100 + i);
        brs__sctx_advance(&r.sc, b.ts_local);
        if (brs__sctx_on_market(&r.sc, &b))
            fail_msg("%s", r.sc.error);
    }
    if (brs__sctx_stop(&r.sc, &r.err))
        fail_msg("%s", r.err.msg);
    lclose(&r);
}

/* A ctx method checks its self is the script's ctx (by identity: a copy of
 * its fields, nil, another type or a missing self is refused). */
static void test_ctx_methods_check_self(void **state)
{
    (void)state;
    const char *script =
        "local function refused(f, ...)\n"
        "  local ok, e = pcall(f, ...)\n"
        "  assert(not ok and tostring(e):find('with a colon', 1, true), tostring(e))\n"
        "end\n"
        "return { on_bar = function(ctx, bar)\n"
        "  local copy = {}\n"
        "  for k, v in pairs(ctx) do copy[k] = v end\n"
        "  refused(ctx.position)\n"
        "  refused(ctx.position, nil)\n"
        "  refused(ctx.position, copy)\n"
        "  refused(ctx.now, {})\n"
        "  refused(ctx.target, 'ctx', 1)\n"
        "  refused(ctx.buy, bar, 1)\n"
        "  refused(ctx.position, refused)\n"
        "  refused(ctx.position, 1.5)\n"
        "  assert(ctx.now(ctx) == bar.ts and ctx:position() == 0)\n"
        "  ctx:log('self ok')\n"
        "end }\n";
    lrun r;
    lopen(&r, script, NULL, NULL);
    if (r.load_rc || r.open_rc)
        fail_msg("%s", r.err.msg);
    for (int i = 0; i < 3; i++) {
        brs_market_event b = mkbar(1000 * (i + 1), 100 + i);
        brs__sctx_advance(&r.sc, b.ts_local);
        if (brs__sctx_on_market(&r.sc, &b))
            fail_msg("%s", r.sc.error);
    }
    lclose(&r);
}

static void test_errors_name_script_line_callback(void **state)
{
    (void)state;
    lrun r;
    lopen(&r, "return {\n on_bar = function(ctx, bar)\n  ctx:buy{qty=1, price=bar.close - 50}\n"
              "  local x = nil\n  return x.y\n end }\n", NULL, NULL);
    assert_int_equal(r.open_rc, BRS_OK);
    brs_market_event b = mkbar(1, 100);
    assert_int_equal(brs__sctx_on_market(&r.sc, &b), BRS_E_SCRIPT);
    assert_non_null(strstr(r.sc.error, "t.lua"));
    assert_non_null(strstr(r.sc.error, "on_bar"));
    assert_non_null(strstr(r.sc.error, "t.lua:5:"));
    assert_non_null(strstr(r.sc.error, "attempt to index a nil value"));
    /* the resting buy it placed was cancelled */
    assert_int_equal(r.fm.n, 0);
    assert_int_equal(r.sc.n_orders, 0);
    lclose(&r);

    lopen(&r, "return { on_barr = function() end }", NULL, NULL);
    assert_int_equal(r.load_rc, BRS_E_SCRIPT);
    assert_non_null(strstr(r.err.msg, "unknown callback 'on_barr'"));
    lclose(&r);
    lopen(&r, "return { params = { fast = {type='int', default=1.5} } }", NULL, NULL);
    assert_int_equal(r.load_rc, BRS_E_SCRIPT);
    assert_non_null(strstr(r.err.msg, "params.fast: default must be an integer"));
    lclose(&r);
    lopen(&r, "return 42", NULL, NULL);
    assert_int_equal(r.load_rc, BRS_E_SCRIPT);
    assert_non_null(strstr(r.err.msg, "must return a table"));
    lclose(&r);
    lopen(&r, "return { params = { fast = {type='int', default=3, max=10} } }", "{\"fast\": \"x\"}", NULL);
    assert_int_equal(r.open_rc, BRS_E_INVAL);
    assert_non_null(strstr(r.err.msg, "strategy.params.fast: expected an integer"));
    lclose(&r);
    lopen(&r, "return { params = { fast = {type='int', default=3, max=10} } }", "{\"fast\": 11}", NULL);
    assert_int_equal(r.open_rc, BRS_E_RANGE);
    assert_non_null(strstr(r.err.msg, "fast"));
    lclose(&r);
}

static void test_limits_configurable(void **state)
{
    (void)state;
    const char *spin = "return { on_start = function() local x = 0 for i = 1, 200000 do x = x + i end end }";
    brs__lua_opts small = {.instr_limit = 10000}, big = {.instr_limit = 100000000};
    lrun r;
    lopen(&r, spin, NULL, &small);
    assert_int_equal(r.open_rc, BRS_E_SANDBOX);
    assert_non_null(strstr(r.err.msg, "instruction budget exceeded"));
    assert_non_null(strstr(r.err.msg, "on_start"));
    lclose(&r);
    lopen(&r, spin, NULL, &big);
    assert_int_equal(r.open_rc, BRS_OK);
    lclose(&r);

    /* the budget is per callback: many short callbacks add up to more than it */
    lopen(&r, "return { on_bar = function() local x = 0 for i = 1, 500 do x = x + i end end }", NULL, &small);
    assert_int_equal(r.open_rc, BRS_OK);
    for (int i = 0; i < 100; i++) {
        brs_market_event b = mkbar(i + 1, 100);
        assert_int_equal(brs__sctx_on_market(&r.sc, &b), BRS_OK);
    }
    lclose(&r);

    const char *hog = "return { on_start = function() local t = {} for i = 1, 100000 do t[i] = {i} end end }";
    brs__lua_opts tight = {.mem_limit = 512 * 1024}, roomy = {.mem_limit = 64u << 20};
    lopen(&r, hog, NULL, &tight);
    assert_int_equal(r.open_rc, BRS_E_SANDBOX);
    assert_non_null(strstr(r.err.msg, "not enough memory"));
    assert_non_null(strstr(r.err.msg, "t.lua"));
    lclose(&r);
    lopen(&r, hog, NULL, &roomy);
    assert_int_equal(r.open_rc, BRS_OK);
    size_t peak = 0;
    brs__lua_strategy_mem(r.ls, &peak);
    assert_true(peak > 512 * 1024);
    lclose(&r);
}

static void test_no_allocation_per_bar(void **state)
{
    (void)state;
    /* the event object and the indicators are reused: a bar costs no Lua memory */
    lrun r;
    lopen(&r, "local s\nreturn { on_start = function(ctx) s = ctx.indicators.sma(5) end,\n"
              " on_bar = function(ctx, bar) local v = s:update(bar.close) end }", NULL, NULL);
    assert_int_equal(r.open_rc, BRS_OK);
    brs_market_event b = mkbar(1, 100);
    brs__sctx_on_market(&r.sc, &b);
    size_t before = brs__lua_strategy_mem(r.ls, NULL);
    for (int i = 0; i < 10000; i++) {
        b = mkbar(i + 2, 100 + i % 7);
        brs__sctx_on_market(&r.sc, &b);
    }
    assert_int_equal(brs__lua_strategy_mem(r.ls, NULL), before);
    lclose(&r);
}

/* bar and top are tables that learn the fields a script reads (lua_strategy.c):
 * a field first read on a later bar, a field read on some bars only, and every
 * field of every bar must still be that bar's value; writing a field that is
 * not there is an error, as on the userdata events before. */
static void test_event_fields_current(void **state)
{
    (void)state;
    lrun r;
    lopen(&r, "local n = 0\n"
              "return { on_bar = function(ctx, bar)\n"
              "  n = n + 1\n"
              "  assert(bar.close == 100 + n, 'close ' .. tostring(bar.close) .. ' at ' .. n)\n"
              "  if n >= 3 then assert(bar.volume == 10 * n, 'volume ' .. tostring(bar.volume)) end\n"
              "  if n % 2 == 0 then assert(bar.high == 102 + n and bar.low == 98 + n and bar.ts == n) end\n"
              "  assert(bar.nosuch == nil)\n"
              "  if n == 6 then bar.nosuch = 1 end\n"
              "end }", NULL, NULL);
    assert_int_equal(r.open_rc, BRS_OK);
    for (int i = 1; i <= 5; i++) {
        brs_market_event b = mkbar(i, 100 + i);
        b.bar.volume = 10 * i;
        assert_int_equal(brs__sctx_on_market(&r.sc, &b), BRS_OK);
    }
    assert_null(r.sc.error[0] ? r.sc.error : NULL);
    brs_market_event b = mkbar(6, 106);
    b.bar.volume = 60;
    assert_int_not_equal(brs__sctx_on_market(&r.sc, &b), BRS_OK);
    assert_non_null(strstr(r.sc.error, "read-only"));
    lclose(&r);
}

/* A script may remove fields from the reused bar table (assigning nil,
 * rawset): the host puts the hot ones back before the next call (through
 * __newindex when the key is gone, which must not raise there), with that
 * bar's values; also once the GC has dropped the removed keys and the hash
 * part is full of the script's own keys. */
static void test_event_fields_removed(void **state)
{
    (void)state;
    lrun r;
    lopen(&r, "local n = 0\n"
              "return { on_bar = function(ctx, bar)\n"
              "  n = n + 1\n"
              "  assert(bar.close == 100 + n, 'close ' .. tostring(bar.close) .. ' at ' .. n)\n"
              "  assert(bar.volume == 10 * n, 'volume ' .. tostring(bar.volume) .. ' at ' .. n)\n"
              "  bar.close = nil\n"
              "  rawset(bar, 'volume', nil)\n"
              "  assert(bar.close == 100 + n) -- read again: __index, this bar's value\n"
              "  rawset(bar, 'close', nil)\n"
              "  for i = 1, 64 do rawset(bar, 'k' .. n .. '_' .. i, i) end\n"
              "  for i = 1, 64 do rawset(bar, 'k' .. (n - 1) .. '_' .. i, nil) end\n"
              "  for i = 1, 3000 do local t = {i} end -- garbage: GC cycles drop the removed keys\n"
              "end }", NULL, NULL);
    assert_int_equal(r.open_rc, BRS_OK);
    for (int i = 1; i <= 200; i++) {
        brs_market_event b = mkbar(i, 100 + i);
        b.bar.volume = 10 * i;
        assert_int_equal(brs__sctx_call_bar(&r.sc, &b), BRS_OK);
    }
    assert_null(r.sc.error[0] ? r.sc.error : NULL);
    lclose(&r);
}

/* A callback whose own code has no loop runs under a call hook instead of the
 * per-instruction count hook (lua_sandbox.c); every way it can reach a loop
 * must still be stopped by the instruction budget: a Lua call, a tail call,
 * pcall, a coroutine, a metamethod, a C function calling back (gsub, sort). */
static void test_loop_free_callbacks_still_budgeted(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "spin()",
        "return spin()",
        "pcall(spin) return 1",
        "coroutine.wrap(spin)()",
        "local t = setmetatable({}, {__index = function() spin() end}) local x = t.x",
        "string.gsub('aaa', 'a', spin)",
        "table.sort({3, 2, 1}, function(a, b) spin() return a < b end)",
        "local a = setmetatable({}, {__add = spin}) local x = a + 1",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        char script[512];
        snprintf(script, sizeof script,
                 "local function spin() while true do end end\n"
                 "local n = 0\n"
                 "return { on_bar = function(ctx, bar)\n"
                 "  n = n + 1\n"
                 "  if n < 3 then return end\n"
                 "  %s\n"
                 "end }", bodies[i]);
        lrun r;
        lopen(&r, script, NULL, NULL);
        assert_int_equal(r.open_rc, BRS_OK);
        int rc = BRS_OK;
        for (int k = 1; k <= 3 && rc == BRS_OK; k++) {
            brs_market_event b = mkbar(k, 100);
            rc = brs__sctx_on_market(&r.sc, &b);
        }
        if (rc == BRS_OK || !strstr(r.sc.error, "instruction budget exceeded"))
            fail_msg("case %zu (%s): rc %d, error '%s'", i, bodies[i], rc, r.sc.error);
        lclose(&r);
    }
}

/* pairs.lua on two instruments: B a random walk, A = B plus a spike every 100
 * bars. The spikes push the spread's z-score past entry; the strategy must
 * open opposite positions in the two legs and close them when it reverts. */
static void test_pairs_two_instruments(void **state)
{
    (void)state;
    enum { N = 1000 };
    brs_instrument two[2] = {{.symbol = "AAA", .price_scale = 100, .tick_size = 1, .lot_size = 1},
                             {.symbol = "BBB", .price_scale = 100, .tick_size = 1, .lot_size = 1}};
    brs_market_event *b = calloc(N, sizeof *b);
    brs__bars_random_walk(b, N, 99, 1, 50000, 0);
    brs__lua_strategy *ls;
    brs_error err = {0};
    assert_int_equal(brs__lua_strategy_load(&ls, BOURSE_SOURCE_DIR "/strategies-lua/pairs.lua", NULL, &err), BRS_OK);
    fills *fl = calloc(1, sizeof *fl);
    brs__simfill fm;
    brs__simfill_init(&fm, 64);
    fm.on_fill = on_fill;
    fm.user = fl;
    brs__exec ex = brs__simfill_exec(&fm);
    cJSON *p = cJSON_Parse("{\"a\": \"AAA\", \"b\": \"BBB\", \"window\": 50, \"qty\": 7}");
    brs__sctx_opts o = {.name = "pairs", .instruments = two, .n_instruments = 2, .params = p,
                        .exec = &ex, .quiet = 1};
    brs__sctx sc;
    assert_int_equal(brs__sctx_init(&sc, brs__lua_strategy_vtable(ls), &o, &err), BRS_OK);
    assert_int_equal(brs__sctx_open(&sc, ls, &err), BRS_OK);
    assert_int_equal(brs__sctx_start(&sc, &err), BRS_OK);
    int64_t max_a = 0;
    for (int i = 0; i < N; i++) {
        brs_market_event a = b[i];
        a.instrument = 0;
        int64_t bump = (i % 100) >= 90 && (i % 100) < 93 ? 400 : 0;
        a.bar.open += bump;
        a.bar.high += bump;
        a.bar.low += bump;
        a.bar.close += bump;
        assert_int_equal(brs__sctx_on_market(&sc, &a), BRS_OK);
        assert_int_equal(brs__sctx_on_market(&sc, &b[i]), BRS_OK);
        brs_position pa, pb;
        brs__sctx_position(&sc, 0, &pa);
        brs__sctx_position(&sc, 1, &pb);
        assert_int_equal(pa.qty, -pb.qty); /* always hedged, leg for leg */
        if (pa.qty < max_a)
            max_a = pa.qty;
    }
    print_message("pairs: %zu fills\n", fl->n);
    assert_int_equal(max_a, -7); /* a spike in A: short A, long B */
    assert_true(fl->n >= 8);     /* opened and closed more than once */
    int legs[2] = {0, 0};
    for (size_t i = 0; i < fl->n; i++)
        legs[fl->f[i].instrument]++;
    assert_int_equal(legs[0], legs[1]);
    brs__sctx_stop(&sc, &err);
    brs__sctx_free(&sc);
    brs__lua_strategy_free(ls);
    brs__simfill_free(&fm);
    cJSON_Delete(p);
    free(fl);
    free(b);
}

/* Hot reload between events: the new version takes over, on_reload gets the
 * old table to carry state; a broken new version leaves the old one running. */
static void test_hot_reload(void **state)
{
    (void)state;
    const char *v1 = "local M = { count = 0 }\n"
                     "M.params = { k = {type='int', default=1} }\n"
                     "M.on_bar = function(ctx, bar) M.count = M.count + 1 end\n"
                     "return M\n";
    const char *v2 = "local M = { count = 0, version = 2 }\n"
                     "M.params = { k = {type='int', default=1} }\n"
                     "M.on_reload = function(ctx, old) M.count = old.count * 1000 end\n"
                     "M.on_bar = function(ctx, bar) M.count = M.count + 1\n"
                     "  if M.count == 6002 then ctx:buy(1) end end\n"
                     "return M\n";
    lrun r;
    lopen(&r, v1, NULL, NULL);
    assert_int_equal(r.open_rc, BRS_OK);
    for (int i = 0; i < 5; i++) {
        brs_market_event b = mkbar(i + 1, 100);
        assert_int_equal(brs__sctx_on_market(&r.sc, &b), BRS_OK);
    }
    brs_error err = {0};
    /* refused: syntax error, changed parameters, failing on_reload */
    const char *bad = "return {";
    assert_int_equal(brs__lua_strategy_reload(r.ls, bad, strlen(bad), &err), BRS_E_SCRIPT);
    assert_non_null(strstr(err.msg, "reload refused, the running version stays"));
    assert_non_null(strstr(err.msg, "t.lua:1:"));
    const char *params = "return { params = { k = {type='int', default=2} } }";
    assert_int_equal(brs__lua_strategy_reload(r.ls, params, strlen(params), &err), BRS_E_INVAL);
    assert_non_null(strstr(err.msg, "parameter declarations changed"));
    const char *boom = "return { params = { k = {type='int', default=1} },\n"
                       " on_reload = function(ctx, old) error('no thanks') end }";
    assert_int_equal(brs__lua_strategy_reload(r.ls, boom, strlen(boom), &err), BRS_E_SCRIPT);
    assert_non_null(strstr(err.msg, "no thanks"));
    /* the old version still counts */
    brs_market_event b = mkbar(6, 100);
    assert_int_equal(brs__sctx_on_market(&r.sc, &b), BRS_OK);
    /* accepted: count 6 becomes 6000, then the new on_bar counts on from there */
    assert_int_equal(brs__lua_strategy_reload(r.ls, v2, strlen(v2), &err), BRS_OK);
    for (int i = 0; i < 3; i++) {
        b = mkbar(7 + i, 100);
        assert_int_equal(brs__sctx_on_market(&r.sc, &b), BRS_OK);
    }
    /* one buy at count 6002: the new on_bar runs, with the old count carried over */
    assert_int_equal(r.fm.n_fills, 1);
    lclose(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ma_cross_same_trades_long_flat),
        cmocka_unit_test(test_ma_cross_same_trades_short),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_ctx_methods_check_self),
        cmocka_unit_test(test_errors_name_script_line_callback),
        cmocka_unit_test(test_limits_configurable),
        cmocka_unit_test(test_no_allocation_per_bar),
        cmocka_unit_test(test_event_fields_current),
        cmocka_unit_test(test_loop_free_callbacks_still_budgeted),
        cmocka_unit_test(test_pairs_two_instruments),
        cmocka_unit_test(test_hot_reload),
        cmocka_unit_test(test_event_fields_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
