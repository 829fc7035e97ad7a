/* test_signal.c: signal mode, checked against numbers worked out by hand:
 * a strategy that peeks at the current bar gets filled at the next open and
 * is not rewarded; an end-to-end equity series gives the hand-computed
 * metrics; commission, slippage and square-root impact to the cent; the
 * vectorized targets array trades exactly like the per-bar callback; strict
 * config keys; a strategy error fails the run without a run directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define BT_SUBDIR "signal"
#include "bt_util.h"
#include "strategy/runtime.h"
#include "support/subprocess.h"
#include "ticks/tickfile.h"

#define EPS 1e-9

static const char *fills(const char *dir)
{
    static char p[1100];
    snprintf(p, sizeof p, "%s/fills.csv", dir);
    return p;
}

/* Bars alternate up (100 -> 110) and down (105 -> 95) with gaps between them.
 * The peeker goes long after an up bar and short after a down bar, using the
 * bar it was just shown. Filled at that bar's open it would earn every move;
 * filled at the next open (the rule) it pays every gap. */
static void test_peek_not_rewarded(void **state)
{
    (void)state;
    bt_bar b[20];
    for (int i = 0; i < 20; i++)
        b[i] = i % 2 == 0 ? (bt_bar){.open = 100, .close = 110} : (bt_bar){.open = 105, .close = 95};
    bt_write_csv(bt_path("alt.csv"), b, 20);
    bt_write(bt_path("peek.lua"),
             "return { name = 'peek', on_bar = function(ctx, bar)\n"
             "  ctx:target(bar.close > bar.open and 1 or -1) end }\n");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"sizing\": {\"mode\": \"fixed\", \"qty\": 10}}}",
             bt_path("alt.csv"), bt_path("peek.lua"));
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    const char *out = bt_path("peek");
    if (bt_run(json, out, &res, &m, &err))
        fail_msg("%s", err.msg);
    assert_false(res.failed);
    /* first signal seen at bar 0 (up): bought at bar 1's open 105, at bar 1's time */
    assert_int_equal(bt_csv_i64(fills(out), 1, 0), bt_day_ts(1));
    assert_float_equal(bt_csv_num(fills(out), 1, 6), 105.0, EPS);
    assert_float_equal(bt_csv_num(fills(out), 1, 5), 10.0, EPS);
    /* then short 10 at bar 2's open 100: the long lost 5 per share */
    assert_float_equal(bt_csv_num(fills(out), 2, 6), 100.0, EPS);
    assert_float_equal(bt_csv_num(fills(out), 2, 5), 20.0, EPS);
    /* 18 flips after the first fill, each losing 10 x 5; the last position
     * (long 10 from 105, marked at bar 19's close 95) loses 100 more. */
    assert_int_equal(res.fills, 19);
    assert_float_equal(m.end_equity, 100000.0 - 18 * 50.0 - 100.0, 1e-6);
    assert_true(m.total_return < 0);

    /* Same-bar close execution, asked for explicitly: fills at the bar's close. */
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"execution\": \"same_close\", \"sizing\": {\"mode\": \"fixed\", \"qty\": 10}}}",
             bt_path("alt.csv"), bt_path("peek.lua"));
    out = bt_path("peek_close");
    if (bt_run(json, out, &res, &m, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(bt_csv_i64(fills(out), 1, 0), bt_day_ts(0));
    assert_float_equal(bt_csv_num(fills(out), 1, 6), 110.0, EPS);
}

/* Equity 1000 -> 1000 (bar 0: signal) -> 1200 -> 900 -> 1100 with 100 shares
 * bought at bar 1's open 10. Daily returns 0.2, -0.25, 2/9. */
static void test_metrics_end_to_end(void **state)
{
    (void)state;
    bt_bar b[4] = {{.open = 10, .close = 10}, {.open = 10, .close = 12}, {.open = 12, .close = 9},
                   {.open = 9, .close = 11}};
    bt_write_csv(bt_path("four.csv"), b, 4);
    bt_write(bt_path("long.lua"),
             "return { name = 'long', on_bar = function(ctx, bar) ctx:target(1) end }\n");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"initial_cash\": 1000}",
             bt_path("four.csv"), bt_path("long.lua"));
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    if (bt_run(json, bt_path("e2e"), &res, &m, &err))
        fail_msg("%s", err.msg);
    double r[3] = {0.2, -0.25, 2.0 / 9.0};
    double mean = (r[0] + r[1] + r[2]) / 3;
    double var = ((r[0] - mean) * (r[0] - mean) + (r[1] - mean) * (r[1] - mean) +
                  (r[2] - mean) * (r[2] - mean)) / 2;
    assert_int_equal(m.n_daily_returns, 3);
    assert_float_equal(m.start_equity, 1000, EPS);
    assert_float_equal(m.end_equity, 1100, EPS);
    assert_float_equal(m.total_return, 0.1, EPS);
    assert_float_equal(m.max_drawdown, 0.25, EPS);
    assert_float_equal(m.ann_volatility, sqrt(var) * sqrt(252), EPS);
    assert_float_equal(m.sharpe, mean / sqrt(var) * sqrt(252), EPS);
    assert_int_equal(res.fills, 1);
}

/* Fixed 100 shares: +1 at bar 0, -1 at bar 1. Commission 0.01/share + 1 bp,
 * at least 2; slippage 10 bp.
 *   bar 1 open 40: buy 100 at 40 x 1.001 = 40.04; fee max(2, 1 + 0.4004) = 2
 *   bar 2 open 60: sell 200 at 60 x 0.999 = 59.94; fee 2 + 1.1988 = 3.1988
 *   cash 100000 - 4004 - 2 + 11988 - 3.1988; position -100 marked at 60. */
static void test_costs_exact(void **state)
{
    (void)state;
    bt_bar b[3] = {{.open = 50, .close = 50}, {.open = 40, .close = 40}, {.open = 60, .close = 60}};
    bt_write_csv(bt_path("costs.csv"), b, 3);
    bt_write(bt_path("flip.lua"),
             "local n = 0\n"
             "return { name = 'flip', on_bar = function(ctx, bar)\n"
             "  n = n + 1; ctx:target(n == 1 and 1 or -1) end }\n");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"sizing\": {\"mode\": \"fixed\", \"qty\": 100},"
             " \"commission\": {\"per_share\": 0.01, \"bps\": 1, \"min\": 2},"
             " \"slippage\": {\"model\": \"bps\", \"bps\": 10}}}",
             bt_path("costs.csv"), bt_path("flip.lua"));
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    const char *out = bt_path("costs");
    if (bt_run(json, out, &res, &m, &err))
        fail_msg("%s", err.msg);
    assert_float_equal(bt_csv_num(fills(out), 1, 6), 40.04, 1e-9);
    assert_float_equal(bt_csv_num(fills(out), 1, 7), 2.0, 1e-9);
    assert_float_equal(bt_csv_num(fills(out), 2, 6), 59.94, 1e-9);
    assert_float_equal(bt_csv_num(fills(out), 2, 7), 3.1988, 1e-9);
    assert_float_equal(m.end_equity, 100000 - 4004 - 2 + 11988 - 3.1988 - 6000, 1e-6);
    assert_float_equal(m.fees_paid, 5.1988, 1e-9);

    /* half the spread: 20 bp spread -> 10 bp paid, same prices as above */
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"sizing\": {\"mode\": \"fixed\", \"qty\": 100},"
             " \"slippage\": {\"model\": \"half_spread\", \"spread_bps\": 20}}}",
             bt_path("costs.csv"), bt_path("flip.lua"));
    out = bt_path("costs_spread");
    if (bt_run(json, out, &res, &m, &err))
        fail_msg("%s", err.msg);
    assert_float_equal(bt_csv_num(fills(out), 1, 6), 40.04, 1e-9);
    assert_float_equal(bt_csv_num(fills(out), 2, 6), 59.94, 1e-9);
}

/* Square-root impact, window 3: closes 100, 110, 99, 108.9 (log returns
 * ln 1.1, ln 0.9, ln 1.1) with volumes 1000, 2000, 3000 on bars 1..3 (ADV
 * 2000); target +1 (100 shares) set at bar 3 fills at bar 4's open 100 moved
 * up by k * sigma * sqrt(100 / 2000), sigma the sample stdev of the returns. */
static void test_impact(void **state)
{
    (void)state;
    bt_bar b[5] = {{.open = 100, .close = 100, .volume = 500},
                   {.open = 100, .close = 110, .volume = 1000},
                   {.open = 110, .close = 99, .volume = 2000},
                   {.open = 99, .close = 108.9, .volume = 3000},
                   {.open = 100, .close = 100, .volume = 4000}};
    bt_write_csv(bt_path("impact.csv"), b, 5);
    bt_write(bt_path("late.lua"),
             "local n = 0\n"
             "return { name = 'late', on_bar = function(ctx, bar)\n"
             "  n = n + 1; if n == 4 then ctx:target(1) end end }\n");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"sizing\": {\"mode\": \"fixed\", \"qty\": 100},"
             " \"impact\": {\"k\": 0.5, \"window\": 3}}}",
             bt_path("impact.csv"), bt_path("late.lua"));
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    const char *out = bt_path("impact");
    if (bt_run(json, out, &res, &m, &err))
        fail_msg("%s", err.msg);
    double r[3] = {log(1.1), log(0.9), log(108.9 / 99.0)};
    double mean = (r[0] + r[1] + r[2]) / 3;
    double sd = sqrt(((r[0] - mean) * (r[0] - mean) + (r[1] - mean) * (r[1] - mean) +
                      (r[2] - mean) * (r[2] - mean)) / 2);
    double px = 100 * (1 + 0.5 * sd * sqrt(100.0 / 2000.0));
    assert_int_equal(res.fills, 1);
    assert_int_equal(bt_csv_i64(fills(out), 1, 0), bt_day_ts(4));
    assert_float_equal(bt_csv_num(fills(out), 1, 6), px, 1e-9);
    assert_true(px > 100.5); /* the check can fail: impact is material here */
}

static void random_walk_csv(const char *path, int n)
{
    bt_bar *b = calloc((size_t)n, sizeof *b);
    uint64_t seed = 7;
    double p = 100;
    for (int i = 0; i < n; i++) {
        seed = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        double u = (double)(seed >> 11) / 9007199254740992.0;
        double o = p;
        p = round(p * (1 + (u - 0.5) * 0.04) * 100) / 100;
        b[i] = (bt_bar){.open = o, .close = p, .volume = 100000 + (long long)(u * 50000)};
    }
    bt_write_csv(path, b, (size_t)n);
    free(b);
}

/* The same momentum signal through xSetTargets at start and through a per-bar
 * callback: identical fills and equity. */
static void test_vectorized_matches_callback(void **state)
{
    (void)state;
    random_walk_csv(bt_path("walk.csv"), 300);
    bt_write(bt_path("mom_bar.lua"),
             "local prev\n"
             "return { name = 'mom_bar', on_bar = function(ctx, bar)\n"
             "  if prev then ctx:target(bar.close > prev and 1 or -0.5) end\n"
             "  prev = bar.close end }\n");
    bt_write(bt_path("mom_vec.lua"),
             "return { name = 'mom_vec', on_start = function(ctx)\n"
             "  local b = ctx:bars()\n"
             "  local t = {}\n"
             "  for i = 1, b.n do\n"
             "    if i == 1 then t[i] = 0/0 else t[i] = b.close[i] > b.close[i-1] and 1 or -0.5 end\n"
             "  end\n"
             "  assert(ctx:set_targets(t))\n"
             "end }\n");
    char json[2048], a[1024], v[1024];
    const char *names[2] = {"mom_bar.lua", "mom_vec.lua"};
    const char *outs[2] = {"mom_bar", "mom_vec"};
    for (int k = 0; k < 2; k++) {
        snprintf(json, sizeof json,
                 "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
                 " \"signal\": {\"commission\": {\"bps\": 2}, \"impact\": {\"k\": 0.1}}}",
                 bt_path("walk.csv"), bt_path(names[k]));
        brs__bt_result res;
        brs_an_metrics m;
        brs_error err = {0};
        if (bt_run(json, bt_path(outs[k]), &res, &m, &err))
            fail_msg("%s", err.msg);
        assert_false(res.failed);
        assert_true(res.fills > 50);
    }
    const char *files[] = {"fills.csv", "equity.csv", "trades.csv"};
    for (int f = 0; f < 3; f++) {
        snprintf(a, sizeof a, "%s/%s", bt_path("mom_bar"), files[f]);
        snprintf(v, sizeof v, "%s/%s", bt_path("mom_vec"), files[f]);
        char *ta = test_read_file(a, NULL), *tv = test_read_file(v, NULL);
        assert_non_null(ta);
        assert_non_null(tv);
        assert_string_equal(ta, tv);
        free(ta);
        free(tv);
    }
}

/* Unknown keys are errors naming the key and the file, before anything runs. */
static void test_strict_config(void **state)
{
    (void)state;
    random_walk_csv(bt_path("walk.csv"), 300);
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"comission\": {\"bps\": 2}}}",
             bt_path("walk.csv"), BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua");
    bt_write(bt_path("typo.json"), json);
    const char *args[] = {"backtest", bt_path("typo.json"), "--out", bt_path("typo"), NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "comission"));
    assert_non_null(strstr(r.err, "typo.json"));
    run_free(&r);
    /* an unknown strategy parameter names the parameter */
    const char *args2[] = {"backtest", "--mode", "signal", "--data", bt_path("walk.csv"),
                           "--strategy", BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua",
                           "--param", "fsat=3", "--out", bt_path("typo"), NULL};
    r = run(args2);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "fsat"));
    run_free(&r);
    /* usage errors */
    const char *args3[] = {"backtest", "--bogus", NULL};
    r = run(args3);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

/* A strategy error marks the run failed: exit 1, no summary.json. */
static void test_strategy_error_fails_run(void **state)
{
    (void)state;
    random_walk_csv(bt_path("walk.csv"), 300);
    bt_write(bt_path("boom.lua"),
             "local n = 0\n"
             "return { name = 'boom', on_bar = function(ctx, bar)\n"
             "  n = n + 1; if n == 10 then error('boom at bar ten') end end }\n");
    char sum[1100];
    snprintf(sum, sizeof sum, "%s/summary.json", bt_path("boom"));
    unlink(sum);
    const char *args[] = {"backtest", "--mode", "signal", "--data", bt_path("walk.csv"),
                          "--strategy", bt_path("boom.lua"), "--out", bt_path("boom"), NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "boom at bar ten"));
    assert_int_not_equal(access(sum, F_OK), 0);
    run_free(&r);
}

/* Two runs of one config file give byte-identical run directories. */
static void test_identical_runs(void **state)
{
    (void)state;
    random_walk_csv(bt_path("walk.csv"), 300);
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\","
             " \"params\": {\"fast\": 5, \"slow\": 20, \"qty\": 50, \"allow_short\": true}},"
             " \"signal\": {\"commission\": {\"per_share\": 0.005, \"min\": 1},"
             " \"slippage\": {\"model\": \"bps\", \"bps\": 3}, \"impact\": {\"k\": 0.2}}}",
             bt_path("walk.csv"), BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua");
    bt_write(bt_path("same.json"), json);
    const char *dirs[2] = {bt_path("same_a"), bt_path("same_b")};
    for (int k = 0; k < 2; k++) {
        const char *args[] = {"backtest", bt_path("same.json"), "--out", dirs[k], "--quiet", NULL};
        run_result r = run(args);
        if (r.status)
            fail_msg("exit %d: %s", r.status, r.err);
        run_free(&r);
    }
    DIR *d = opendir(dirs[0]);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", dirs[0], e->d_name);
        snprintf(b, sizeof b, "%s/%s", dirs[1], e->d_name);
        size_t la = 0, lb = 0;
        char *ta = test_read_file(a, &la), *tb = test_read_file(b, &lb);
        if (!tb)
            fail_msg("%s missing in the second run", e->d_name);
        if (la != lb || memcmp(ta, tb, la))
            fail_msg("%s differs between two runs", e->d_name);
        free(ta);
        free(tb);
        n++;
    }
    closedir(d);
    assert_true(n >= 7);
    char fp[1200];
    snprintf(fp, sizeof fp, "%s/fills.csv", dirs[0]);
    assert_true(bt_csv_rows(fp) > 4); /* it traded */
}

/* Minute bars in a tick file, with a few trade prints among them (the loader
 * drops them) and blocks of 500: compact bar blocks, and compact event blocks
 * where a trade is mixed in (a version 3 file); plain: 64-byte records only. */
static void minute_bars_file(const char *path, size_t n, int back_in_time, int plain)
{
    brs_market_event *ev = malloc(n * sizeof *ev);
    brs__bars_random_walk(ev, n, 5, 0, 1000000, INT64_C(1700000000) * 1000000000);
    brs_instrument in = {.symbol = "MIN", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
    brs_tick_writer_opts o = {.block_records = 500, .plain_bars = plain, .plain_events = plain};
    brs_tick_writer *w;
    brs_error err = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", bt_path(""));
    assert_int_equal(brs__mkdirs(dir, &err), 0);
    assert_int_equal(brs__tick_writer_open(&w, path, &in, 1, &o, &err), 0);
    for (size_t i = 0; i < n; i++) {
        if (back_in_time && i == 1000)
            ev[i].ts_exchange = ev[i].ts_local = ev[0].ts_exchange;
        assert_int_equal(brs__tick_writer_add(w, &ev[i], &err), 0);
        if (i % 777 == 5) {
            brs_market_event t = {.ts_exchange = ev[i].ts_exchange, .ts_local = ev[i].ts_exchange,
                                  .kind = BRS_MEV_TRADE, .price = 1, .qty = 1};
            assert_int_equal(brs__tick_writer_add(w, &t, &err), 0);
        }
    }
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
    free(ev);
    brs_tick_reader r;
    assert_int_equal(brs__tick_open(&r, path, &err), 0);
    assert_int_equal(r.version, plain ? 1 : 3);
    brs__tick_close(&r);
}

/* A precomputed targets array with no per-bar code lets the engine pass over
 * bars that change nothing; a per-bar callback setting the same targets makes
 * it step through every bar. Both must give the very same fills, orders,
 * trades and equity curve (hourly samples over minute bars, so most samples
 * are overwritten ones the skip leaves out). */
/* Both runs of one target formula f(i) (Lua, nil = none); with v1, the
 * precomputed run also reads the same bars from a version 1 file (64-byte
 * records), and must give the same again. */
static void quiet_pair(const char *f, int v1)
{
    char src[2048];
    snprintf(src, sizeof src,
             "%sreturn { name = 'q_vec', on_start = function(ctx)\n"
             "  local b = ctx:bars()\n"
             "  local t = {}\n"
             "  for i = 1, b.n do t[i] = f(i) or 0/0 end\n"
             "  assert(ctx:set_targets(t))\n"
             "end }\n", f);
    bt_write(bt_path("q_vec.lua"), src);
    snprintf(src, sizeof src,
             "%slocal i = 0\n"
             "return { name = 'q_bar', on_bar = function(ctx, bar)\n"
             "  i = i + 1\n"
             "  local v = f(i)\n"
             "  if v then ctx:target(v) end\n"
             "end }\n", f);
    bt_write(bt_path("q_bar.lua"), src);
    const char *names[3] = {"q_vec.lua", "q_bar.lua", "q_vec.lua"};
    const char *outs[3] = {"q_vec", "q_bar", "q_v1"};
    const char *data[3] = {"minutes.ticks.zst", "minutes.ticks.zst", "minutes-v1.ticks.zst"};
    for (int k = 0; k < 2 + v1; k++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
                 " \"sample_every_ns\": 3600000000000,"
                 " \"signal\": {\"commission\": {\"bps\": 1}, \"sizing\": {\"fraction\": 0.5}}}",
                 bt_path(data[k]), bt_path(names[k]));
        brs__bt_result res;
        brs_an_metrics m;
        brs_error err = {0};
        if (bt_run(json, bt_path(outs[k]), &res, &m, &err))
            fail_msg("%s", err.msg);
        assert_false(res.failed);
        assert_int_equal(res.events, 6000); /* the trade prints are not bars */
        assert_true(res.fills > 50);
    }
    const char *files[] = {"fills.csv", "equity.csv", "trades.csv", "orders.csv"};
    for (int i = 0; i < 4; i++) {
        char a[1200], v[1200];
        snprintf(a, sizeof a, "%s/%s", bt_path("q_bar"), files[i]);
        snprintf(v, sizeof v, "%s/%s", bt_path("q_vec"), files[i]);
        char *ta = test_read_file(a, NULL), *tv = test_read_file(v, NULL);
        assert_non_null(ta);
        assert_non_null(tv);
        if (strcmp(ta, tv))
            fail_msg("%s differs between the per-bar and the precomputed run of\n%s", files[i], f);
        free(ta);
        if (v1) {
            snprintf(a, sizeof a, "%s/%s", bt_path("q_v1"), files[i]);
            ta = test_read_file(a, NULL);
            assert_non_null(ta);
            if (strcmp(ta, tv))
                fail_msg("%s differs between the compact and the version 1 bar file", files[i]);
            free(ta);
        }
        free(tv);
    }
    snprintf(src, sizeof src, "%s/equity.csv", bt_path("q_vec"));
    assert_true(bt_csv_rows(src) >= 90); /* 100 hours of minute bars: hourly samples */
}

static void test_quiet_skip_exact(void **state)
{
    (void)state;
    minute_bars_file(bt_path("minutes.ticks.zst"), 6000, 0, 0);
    minute_bars_file(bt_path("minutes-v1.ticks.zst"), 6000, 0, 1);
    /* few values, repeated for 50 bars, gaps of none, -0.0 next to 0 */
    quiet_pair("local function f(i)\n"
               "  if i <= 3 or i % 7 == 0 then return nil end\n"
               "  if i % 11 == 0 then return -0.0 end\n"
               "  return (i // 50) % 3 - 1\n"
               "end\n", 1);
    /* more than 255 distinct values: kept as doubles */
    quiet_pair("local function f(i)\n"
               "  if i % 5 == 0 then return nil end\n"
               "  return ((i // 20) * 37 % 1000) / 1000 - 0.5\n"
               "end\n", 0);

    /* bars going back in time across blocks are refused, naming the file */
    minute_bars_file(bt_path("back.ticks.zst"), 3000, 1, 0);
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"}}",
             bt_path("back.ticks.zst"), bt_path("q_vec.lua"));
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    assert_int_not_equal(bt_run(json, bt_path("back"), &res, &m, &err), 0);
    if (!strstr(err.msg, "go back in time") || !strstr(err.msg, "back.ticks.zst"))
        fail_msg("unexpected error: %s", err.msg);
}

/* Fractional quantities (signal.lot): a coin traded in steps of 0.0001. Fixed
 * size 0.37 BTC bought at bar 1's open 27000, cut to target 0.5 (0.185 BTC) at
 * bar 3's open 29000, commission 2 per coin + 10 bp; worked by hand below. */
static void test_fractional_lot(void **state)
{
    (void)state;
    assert_int_equal(brs__bt_steps(0.37, 0.0001), 3700); /* 3699.9999... in binary */
    assert_int_equal(brs__bt_steps(-0.37, 0.0001), -3700);
    assert_int_equal(brs__bt_steps(0.37009, 0.0001), 3700); /* toward zero */
    assert_int_equal(brs__bt_steps(2.9, 1), 2);
    bt_bar b[4] = {{.open = 27000, .close = 27000}, {.open = 27000, .close = 28000},
                   {.open = 29000, .close = 29000}, {.open = 29000, .close = 30000}};
    bt_write_csv(bt_path("BTC.csv"), b, 4);
    bt_write(bt_path("btc.lua"),
             "local n = 0\n"
             "return { name = 'btc', on_bar = function(ctx, bar)\n"
             "  n = n + 1\n"
             "  if n == 1 then ctx:target(1) elseif n == 3 then ctx:target(0.5) end end }\n");
    char json[2048];
    const char *lots[] = {", \"lot\": 0.0001", ", \"lot\": {\"BTC\": 0.0001}", ""};
    for (int k = 0; k < 3; k++) {
        snprintf(json, sizeof json,
                 "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
                 " \"signal\": {\"sizing\": {\"mode\": \"fixed\", \"qty\": 0.37},"
                 " \"commission\": {\"per_share\": 2, \"bps\": 10}%s}}",
                 bt_path("BTC.csv"), bt_path("btc.lua"), lots[k]);
        brs__bt_result res;
        brs_an_metrics m;
        brs_error err = {0};
        const char *out = bt_path(k == 0 ? "lot" : k == 1 ? "lot_map" : "lot_whole");
        if (bt_run(json, out, &res, &m, &err))
            fail_msg("%s", err.msg);
        if (k == 2) { /* whole units, the default: 0.37 of a unit is no unit at all */
            assert_int_equal(res.fills, 0);
            assert_float_equal(m.end_equity, 100000, 1e-9);
            continue;
        }
        assert_int_equal(res.fills, 2);
        /* fills.csv: qty in steps of the lot, price per coin, fee in currency */
        char qcol[32];
        bt_csv_field(fills(out), 0, 5, qcol, sizeof qcol);
        assert_string_equal(qcol, "qty");
        assert_int_equal((int)bt_csv_num(fills(out), 1, 5), 3700);
        assert_float_equal(bt_csv_num(fills(out), 1, 6), 27000, 1e-9);
        assert_float_equal(bt_csv_num(fills(out), 1, 7), 2 * 0.37 + 0.001 * 9990, 1e-9);
        assert_int_equal((int)bt_csv_num(fills(out), 2, 5), 1850);
        assert_float_equal(bt_csv_num(fills(out), 2, 7), 2 * 0.185 + 0.001 * 5365, 1e-9);
        double cash = 100000 - 9990 - 10.73 + 5365 - 5.735;
        assert_float_equal(m.end_equity, cash + 0.185 * 30000, 1e-6);
        assert_float_equal(m.fees_paid, 10.73 + 5.735, 1e-9);
    }
    /* fraction sizing: all of 100000 at 27000 is 3.7037 BTC (37037 steps) */
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"lot\": 0.0001}}",
             bt_path("BTC.csv"), bt_path("btc.lua"));
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    if (bt_run(json, bt_path("lot_frac"), &res, &m, &err))
        fail_msg("%s", err.msg);
    assert_int_equal((int)bt_csv_num(fills(bt_path("lot_frac")), 1, 5), 37037);
    /* a lot for a symbol that is not in the data is refused, with a suggestion */
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"signal\": {\"lot\": {\"BTX\": 0.0001}}}",
             bt_path("BTC.csv"), bt_path("btc.lua"));
    assert_int_not_equal(bt_run(json, bt_path("lot_bad"), &res, &m, &err), 0);
    assert_non_null(strstr(err.msg, "did you mean 'BTC'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peek_not_rewarded),
        cmocka_unit_test(test_metrics_end_to_end),
        cmocka_unit_test(test_costs_exact),
        cmocka_unit_test(test_impact),
        cmocka_unit_test(test_vectorized_matches_callback),
        cmocka_unit_test(test_strict_config),
        cmocka_unit_test(test_strategy_error_fails_run),
        cmocka_unit_test(test_identical_runs),
        cmocka_unit_test(test_quiet_skip_exact),
        cmocka_unit_test(test_fractional_lot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
