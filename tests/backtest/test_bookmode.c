/* test_book.c: book-mode scenarios on a hand-written L3 tick file, each
 * expected value worked out by hand below, through the real loop (tick file,
 * latency queue, venue plugin loaded by the loader, strategy runtime, Lua):
 *  - a resting buy at the bid fills only after the quantity ahead has traded;
 *  - latency delays the fill by exactly the configured times;
 *  - a marketable order walking three levels gets the expected average price;
 *  - maker rebates and taker fees exact to the price unit; flatten at the end.
 * Each runs on the simulated exchange plugin (plugins/venues/sim) and on the
 * test venue tests/backtest/fx_l3_venue.c: both must give the same numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define BT_SUBDIR "bookmode"
#include "bt_util.h"
#include "support/subprocess.h"
#include "support/files.h"
#include "ticks/tickfile.h"

#define SEC INT64_C(1000000000)
#define MS INT64_C(1000000)
#define T1 (INT64_C(1700000000) * SEC)
#define P(x) ((int64_t)((x) * 10000 + 0.5)) /* price scale 10^4 */
/* Every scenario runs on both venues: the simulated exchange plugin and the
 * test venue; same fees (maker -2 bp, taker 3 bp), same expected numbers. */
static const char *const venues[2] = {
    "{\"name\": \"x\", \"plugin\": \"" BOURSE_BINARY_DIR "/plugins/sim.so\","
    " \"params\": {\"maker_fee_bps\": -2, \"taker_fee_bps\": 3}}",
    "{\"name\": \"x\", \"plugin\": \"" BOURSE_TEST_PLUGIN_DIR "/fx_l3_venue.so\","
    " \"params\": {\"maker_fee_ppm\": -200, \"taker_fee_ppm\": 300}}"};
static const char *const venue_names[2] = {"sim", "fx"};

static brs_market_event mev(int64_t ts, int kind, int side, int64_t price, int64_t qty, uint64_t id,
                            int flags)
{
    brs_market_event e;
    memset(&e, 0, sizeof e);
    e.ts_exchange = e.ts_local = ts;
    e.kind = (uint8_t)kind;
    e.side = (uint8_t)side;
    e.flags = (uint16_t)(flags | BRS_MEVF_LAST);
    e.price = price;
    e.qty = qty;
    e.order_id = id;
    return e;
}

/* t1: bids 100.00 x50 (id 1), x30 (id 2); asks 101, 102, 103, 104 x10 (ids 3-6)
 * t1+1s: execute id 1 x50    t1+2s: execute id 2 x20    t1+3s: cancel id 2 (rest, 10)
 * t1+4s: add id 7 bid 100 x40 (behind anything resting at 100 by then)
 * t1+5s: execute id 7 x15                                  t1+6s: add id 8 ask 105 x1 */
static const char *write_ticks(void)
{
    const char *path = bt_path("scenario.ticks.zst");
    brs_instrument in = {.symbol = "TST", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
    brs_market_event ev[] = {
        mev(T1, BRS_MEV_ADD, BRS_BUY, P(100), 50, 1, 0),
        mev(T1, BRS_MEV_ADD, BRS_BUY, P(100), 30, 2, 0),
        mev(T1, BRS_MEV_ADD, BRS_SELL, P(101), 10, 3, 0),
        mev(T1, BRS_MEV_ADD, BRS_SELL, P(102), 10, 4, 0),
        mev(T1, BRS_MEV_ADD, BRS_SELL, P(103), 10, 5, 0),
        mev(T1, BRS_MEV_ADD, BRS_SELL, P(104), 10, 6, 0),
        mev(T1 + 1 * SEC, BRS_MEV_EXECUTE, BRS_BUY, P(100), 50, 1, 0),
        mev(T1 + 2 * SEC, BRS_MEV_EXECUTE, BRS_BUY, P(100), 20, 2, 0),
        mev(T1 + 3 * SEC, BRS_MEV_CANCEL, BRS_BUY, P(100), 10, 2, BRS_MEVF_FULL),
        mev(T1 + 4 * SEC, BRS_MEV_ADD, BRS_BUY, P(100), 40, 7, 0),
        mev(T1 + 5 * SEC, BRS_MEV_EXECUTE, BRS_BUY, P(100), 15, 7, 0),
        mev(T1 + 6 * SEC, BRS_MEV_ADD, BRS_SELL, P(105), 1, 8, 0),
    };
    brs_tick_writer *w;
    brs_error err = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    assert_int_equal(brs__mkdirs(dir, &err), 0);
    if (brs__tick_writer_open(&w, path, &in, 1, NULL, &err))
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        assert_int_equal(brs__tick_writer_add(w, &ev[i], &err), 0);
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
    return path;
}

/* once both sides are visible, send one order (ORDER is a Lua table literal) */
static const char *strategy(const char *name, const char *order)
{
    char text[1024];
    snprintf(text, sizeof text,
             "local sent = false\n"
             "return { name = '%s',\n"
             "  on_top = function(ctx, top)\n"
             "    if not sent and top.bid_qty > 0 and top.ask_qty > 0 then\n"
             "      sent = true; assert(ctx:buy(%s)) end end,\n"
             "  on_fill = function(ctx, ev)\n"
             "    ctx:log(('fill now=%%d qty=%%d price=%%d'):format(ctx:now(), ev.qty, ev.price)) end }\n",
             name, order);
    char file[256];
    snprintf(file, sizeof file, "%s.lua", name);
    bt_write(bt_path(file), text);
    return bt_path(file);
}

static void run_book(int venue, const char *ticks, const char *lua, const char *latency,
                     int flatten, const char *out, brs_an_metrics *m)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"book\": {\"venues\": [%s],"
             " \"latency\": %s, \"flatten_at_end\": %s}}",
             ticks, lua, venues[venue], latency, flatten ? "true" : "false");
    brs__bt_result res;
    brs_error err = {0};
    if (bt_run(json, out, &res, m, &err))
        fail_msg("%s", err.msg);
    if (res.failed)
        fail_msg("run failed: %s", res.error);
}

/* Every file of two run directories byte for byte the same. */
static void same_run_dirs(const char *da, const char *db)
{
    static const char *const files[] = {"summary.json", "fills.csv", "orders.csv", "equity.csv",
                                        "trades.csv", "config.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", da, files[i]);
        snprintf(b, sizeof b, "%s/%s", db, files[i]);
        size_t la = 0, lb = 0;
        char *ta = test_read_file(a, &la), *tb = test_read_file(b, &lb);
        assert_non_null(ta);
        assert_non_null(tb);
        if (la != lb || memcmp(ta, tb, la))
            fail_msg("%s differs", files[i]);
        free(ta);
        free(tb);
    }
}

static const char *fills_of(const char *dir)
{
    static char p[1100];
    snprintf(p, sizeof p, "%s/fills.csv", dir);
    return p;
}

/* Our buy 10 @ 100 joins behind 80 (ids 1 and 2). Executions of 50 and 20 and
 * the cancel of the last 10 only move it to the front; id 7 arrives behind it,
 * so the execution of 15 against id 7 at t1+5s fills our 10 first: one maker
 * fill at t1+5s, 10 @ 100.00, rebate 2 bp = 100.00 x 10 x -0.0002 = -0.2. */
static void test_queue_position(void **state)
{
    (void)state;
    const char *ticks = write_ticks();
    const char *lua = strategy("queue", "{qty = 10, price = top.bid}");
    for (int k = 0; k < 2; k++) {
    char name[64];
    snprintf(name, sizeof name, "book_queue_%s", venue_names[k]);
    const char *out = bt_path(name);
    brs_an_metrics m;
    run_book(k, ticks, lua, "{}", 0, out, &m);
    assert_int_equal(bt_csv_rows(fills_of(out)), 1);
    assert_int_equal(bt_csv_i64(fills_of(out), 1, 0), T1 + 5 * SEC);
    assert_float_equal(bt_csv_num(fills_of(out), 1, 5), 10, 0);
    assert_float_equal(bt_csv_num(fills_of(out), 1, 6), 100.0, 1e-12);
    assert_float_equal(bt_csv_num(fills_of(out), 1, 7), -0.2, 1e-12);
    char liq[32];
    bt_csv_field(fills_of(out), 1, 8, liq, sizeof liq);
    assert_string_equal(liq, "maker");
    }
}

/* A market buy of 25 walks 101 x10, 102 x10, 103 x5: average 101.80; taker
 * fee 3 bp per fill: 1010.00 x 0.0003 = 0.303, 1020.00 -> 0.306, 515.00 ->
 * 0.1545; 0.7635 in all. Flattened at the end: sell 25 into the only bid
 * left, id 7's 25 @ 100.00 (fee 2500 x 0.0003 = 0.75), position 0. */
static void test_walk_levels_fees_flatten(void **state)
{
    (void)state;
    const char *ticks = write_ticks();
    const char *lua = strategy("walk", "{qty = 25, type = 'market'}");
    for (int k = 0; k < 2; k++) {
    char name[64];
    snprintf(name, sizeof name, "book_walk_%s", venue_names[k]);
    const char *out = bt_path(name);
    brs_an_metrics m;
    run_book(k, ticks, lua, "{}", 1, out, &m);
    const char *f = fills_of(out);
    assert_int_equal(bt_csv_rows(f), 4);
    double px[3] = {101, 102, 103}, q[3] = {10, 10, 5}, fee[3] = {0.303, 0.306, 0.1545};
    double notional = 0, qty = 0;
    for (int i = 0; i < 3; i++) {
        assert_float_equal(bt_csv_num(f, i + 1, 6), px[i], 1e-12);
        assert_float_equal(bt_csv_num(f, i + 1, 5), q[i], 0);
        assert_float_equal(bt_csv_num(f, i + 1, 7), fee[i], 1e-12);
        notional += bt_csv_num(f, i + 1, 6) * bt_csv_num(f, i + 1, 5);
        qty += bt_csv_num(f, i + 1, 5);
    }
    assert_float_equal(notional / qty, 101.8, 1e-12);
    char path[1200];
    snprintf(path, sizeof path, "%s/orders.csv", out);
    assert_float_equal(bt_csv_num(path, 1, 10), 101.8, 1e-9); /* avg_fill_price */
    /* the flattening sell */
    char side[16];
    bt_csv_field(f, 4, 4, side, sizeof side);
    assert_string_equal(side, "sell");
    assert_float_equal(bt_csv_num(f, 4, 5), 25, 0);
    assert_float_equal(bt_csv_num(f, 4, 6), 100.0, 1e-12);
    assert_float_equal(bt_csv_num(f, 4, 7), 0.75, 1e-12);
    assert_float_equal(m.fees_paid, 0.7635 + 0.75, 1e-9);
    /* bought 2545.00, sold 2500.00, fees 1.5135 */
    assert_float_equal(m.end_equity, 100000 - 45 - 1.5135, 1e-6);
    }
}

/* Market data 3 ms late, order entry 5 ms, responses 2 ms: the strategy sees
 * the first two-sided top at t1+3ms, its order reaches the venue at t1+8ms
 * and fills there (fills.csv has venue time), and the strategy hears of the
 * fill at t1+10ms. Without latency all three happen at t1. */
static void test_latency_exact(void **state)
{
    (void)state;
    const char *ticks = write_ticks();
    const char *lua = strategy("late", "{qty = 5, type = 'market'}");
    const char *lat[2] = {"{}", "{\"market_data\": 3000000, \"order_entry_ns\": 5000000, "
                                "\"response_ns\": 2000000, \"cancel_ns\": 1000000}"};
    int64_t fill_ts[2] = {T1, T1 + 8 * MS}, seen[2] = {T1, T1 + 10 * MS},
            sent[2] = {T1, T1 + 3 * MS};
    for (int kk = 0; kk < 4; kk++) {
        int k = kk & 1, v = kk >> 1;
        char json[4096], cfgname[64], out[64];
        snprintf(json, sizeof json,
                 "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
                 " \"book\": {\"venues\": [%s], \"latency\": %s}}",
                 ticks, lua, venues[v], lat[k]);
        snprintf(cfgname, sizeof cfgname, "latency%d_%s.json", k, venue_names[v]);
        snprintf(out, sizeof out, "book_latency%d_%s", k, venue_names[v]);
        bt_write(bt_path(cfgname), json);
        const char *args[] = {"backtest", bt_path(cfgname), "--out", bt_path(out), NULL};
        run_result r = run(args);
        if (r.status)
            fail_msg("exit %d: %s", r.status, r.err);
        char want[128];
        snprintf(want, sizeof want, "fill now=%lld qty=5 price=%lld", (long long)seen[k],
                 (long long)P(101));
        if (!strstr(r.err, want))
            fail_msg("expected '%s' in:\n%s", want, r.err);
        run_free(&r);
        const char *f = fills_of(bt_path(out));
        assert_int_equal(bt_csv_i64(f, 1, 0), fill_ts[k]);
        char orders[1200];
        snprintf(orders, sizeof orders, "%s/orders.csv", bt_path(out));
        assert_int_equal(bt_csv_i64(orders, 1, 1), sent[k]);
    }
}

/* Two runs of one book-mode config: byte-identical run directories. */
static void test_book_deterministic(void **state)
{
    (void)state;
    const char *ticks = write_ticks();
    const char *lua = strategy("det", "{qty = 12, price = top.bid}");
    brs_an_metrics m;
    run_book(0, ticks, lua, "{\"order_entry_ns\": 1000, \"jitter_ns\": 500, \"seed\": 9}", 1,
             bt_path("book_det_a"), &m);
    run_book(0, ticks, lua, "{\"order_entry_ns\": 1000, \"jitter_ns\": 500, \"seed\": 9}", 1,
             bt_path("book_det_b"), &m);
    same_run_dirs(bt_path("book_det_a"), bt_path("book_det_b"));
}

static void write_one(const char *path, const char *sym, int64_t t0)
{
    brs_instrument in = {.price_scale = 10000, .tick_size = 1, .lot_size = 1};
    snprintf(in.symbol, sizeof in.symbol, "%s", sym);
    brs_tick_writer *w;
    brs_error err = {0};
    if (brs__tick_writer_open(&w, path, &in, 1, NULL, &err))
        fail_msg("%s", err.msg);
    for (int i = 0; i < 3; i++) {
        brs_market_event b = mev(t0 + i * 2 * SEC, BRS_MEV_ADD, BRS_BUY, P(100 + i), 5, 10 + 2 * i, 0);
        brs_market_event a = mev(t0 + i * 2 * SEC, BRS_MEV_ADD, BRS_SELL, P(110 + i), 5, 11 + 2 * i, 0);
        assert_int_equal(brs__tick_writer_add(w, &b, &err), 0);
        assert_int_equal(brs__tick_writer_add(w, &a, &err), 0);
    }
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
}

/* Two files, one instrument each, interleaved in time: one run instrument
 * table (AAA = 0, BBB = 1) and tops in time order across the files. */
static void test_two_files_merged(void **state)
{
    (void)state;
    bt_write(bt_path("dummy"), "");
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s", bt_path("aaa.ticks.zst"));
    snprintf(b, sizeof b, "%s", bt_path("bbb.ticks.zst"));
    write_one(a, "AAA", T1);
    write_one(b, "BBB", T1 + SEC);
    bt_write(bt_path("tops.lua"),
             "return { name = 'tops', on_top = function(ctx, top)\n"
             "  if top.bid_qty > 0 and top.ask_qty > 0 then\n"
             "    ctx:log(('top %d %d %d'):format(top.instrument, ctx:now(), top.bid)) end end }\n");
    char json[4096];
    snprintf(json, sizeof json,
             "{\"mode\": \"book\", \"data\": [\"%s\", \"%s\"], \"strategy\": {\"file\": \"%s\"}}",
             a, b, bt_path("tops.lua"));
    bt_write(bt_path("two.json"), json);
    const char *args[] = {"backtest", bt_path("two.json"), "--out", bt_path("two"), NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "12 events"));
    char want[6][96];
    const char *at = r.err;
    for (int i = 0; i < 6; i++) {
        int inst = i & 1, k = i / 2;
        snprintf(want[i], sizeof want[i], "top %d %lld %lld", inst,
                 (long long)(T1 + (inst ? SEC : 0) + k * 2 * SEC), (long long)P(100 + k));
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("'%s' missing or out of order in:\n%s", want[i], r.err);
        at = hit + 1;
    }
    run_free(&r);
    char eq[1200];
    snprintf(eq, sizeof eq, "%s/equity.csv", bt_path("two"));
    char *t = test_read_file(eq, NULL);
    assert_non_null(t);
    *strchr(t, '\n') = 0;
    assert_non_null(strstr(t, "position_AAA"));
    assert_non_null(strstr(t, "position_BBB"));
    free(t);
}

/* A timer set at t1 for 0.5 s, then every 1.5 s, fires at t1 + 0.5, 2, 3.5
 * and 5 s, at exactly those simulated times, and no more: the data ends at
 * t1 + 6 s and timers do not outlive it. */
static void test_timers(void **state)
{
    (void)state;
    const char *ticks = write_ticks();
    bt_write(bt_path("timer.lua"),
             "local set = false\n"
             "return { name = 'timer', on_top = function(ctx, top)\n"
             "    if not set then set = true; ctx:timer(500000000, 1500000000) end end,\n"
             "  on_timer = function(ctx, id, now) ctx:log(('timer %d %d'):format(now, ctx:now())) end }\n");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"book\": {\"venues\": [%s]}}", ticks, bt_path("timer.lua"), venues[0]);
    bt_write(bt_path("timer.json"), json);
    const char *args[] = {"backtest", bt_path("timer.json"), "--out", bt_path("timer"), NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    int64_t at[4] = {T1 + 500 * MS, T1 + 2000 * MS, T1 + 3500 * MS, T1 + 5000 * MS};
    const char *p = r.err;
    for (int i = 0; i < 4; i++) {
        char want[96];
        snprintf(want, sizeof want, "timer %lld %lld", (long long)at[i], (long long)at[i]);
        const char *hit = strstr(p, want);
        if (!hit)
            fail_msg("'%s' missing or out of order in:\n%s", want, r.err);
        p = hit + 1;
    }
    assert_int_equal(count_char(r.err, '\n'), 4);
    run_free(&r);
}

/* A recording whose exchange times step back (streams interleaved, as in
 * Binance files): the run's clock never goes back, so a strategy reacting to
 * the late record still gets exactly the configured order latency. Data: ask
 * 101 until t1+3s, a print stamped t1+2s arriving after the t1+3s update, the
 * ask moving to 102 at t1+4s. The strategy buys on the print at its clock
 * (t1+3s); with 1.5 s order latency it reaches the book at t1+4.5s and pays
 * 102. (With the clock stepping back to t1+2s it arrived at t1+3.5s, 0.5 s
 * after it was sent, and paid 101.) */
static void test_clock_never_back(void **state)
{
    (void)state;
    const char *path = bt_path("backstep.ticks.zst");
    brs_instrument in = {.symbol = "TST", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
    brs_market_event ev[] = {
        mev(T1, BRS_MEV_LEVEL_SET, BRS_BUY, P(100), 50, 0, 0),
        mev(T1, BRS_MEV_LEVEL_SET, BRS_SELL, P(101), 50, 0, 0),
        mev(T1 + 3 * SEC, BRS_MEV_LEVEL_SET, BRS_BUY, P(100), 40, 0, 0),
        mev(T1 + 2 * SEC, BRS_MEV_TRADE, BRS_SELL, P(100), 10, 9, 0), /* 1 s in the past */
        mev(T1 + 4 * SEC, BRS_MEV_LEVEL_DELETE, BRS_SELL, P(101), 0, 0, 0),
        mev(T1 + 4 * SEC, BRS_MEV_LEVEL_SET, BRS_SELL, P(102), 45, 0, 0),
        mev(T1 + 6 * SEC, BRS_MEV_LEVEL_SET, BRS_BUY, P(100), 30, 0, 0),
    };
    brs_tick_writer *w;
    brs_error err = {0};
    if (brs__tick_writer_open(&w, path, &in, 1, NULL, &err))
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        assert_int_equal(brs__tick_writer_add(w, &ev[i], &err), 0);
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
    bt_write(bt_path("clock.lua"),
             "local sent = false\n"
             "return { name = 'clock', on_trade = function(ctx, t)\n"
             "  if not sent then sent = true; ctx:log('sent ' .. ctx:now()); assert(ctx:buy(1)) end end }\n");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"book\": {\"venues\": [%s], \"latency\": {\"order_entry_ns\": 1500000000}}}",
             path, bt_path("clock.lua"), venues[0]);
    bt_write(bt_path("clock.json"), json);
    const char *args[] = {"backtest", bt_path("clock.json"), "--out", bt_path("clock"), NULL};
    run_result r = run(args);
    if (r.status)
        fail_msg("exit %d: %s", r.status, r.err);
    char want[64];
    snprintf(want, sizeof want, "sent %lld", (long long)(T1 + 3 * SEC));
    if (!strstr(r.err, want))
        fail_msg("'%s' not in %s", want, r.err);
    run_free(&r);
    char *fills = test_read_file(fills_of(bt_path("clock")), NULL);
    assert_non_null(fills);
    snprintf(want, sizeof want, "\n%lld,", (long long)(T1 + 4500 * MS));
    if (!strstr(fills, want) || !strstr(fills, ",buy,1,102,"))
        fail_msg("expected one buy of 1 at 102 at t1+4.5s:\n%s", fills);
    free(fills);
}

/* Book keys are as strict as the rest: an unknown key names itself and the file. */
static void test_book_config_strict(void **state)
{
    (void)state;
    const char *ticks = write_ticks();
    bt_write(bt_path("nop.lua"), "return { name = 'nop' }\n");
    const char *cases[][2] = {
        {"{\"latency\": {\"order_ns\": 5}}", "order_ns"},
        {"{\"venues\": [{\"plugin\": \"sim\", \"parms\": {}}]}", "parms"},
        {"{\"latency\": {\"market_data\": \"fiel\"}}", "fiel"},
        {"{\"route\": \"nowhere\", \"venues\": []}", "nowhere"},
    };
    for (int i = 0; i < 4; i++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
                 " \"book\": %s}", ticks, bt_path("nop.lua"), cases[i][0]);
        brs__bt_result res;
        brs_an_metrics m;
        brs_error err = {0};
        int rc = bt_run(json, bt_path("strict"), &res, &m, &err);
        assert_true(rc < 0);
        if (!strstr(err.msg, cases[i][1]) || !strstr(err.msg, "test.json"))
            fail_msg("case %d: '%s' does not name '%s' and the file", i, err.msg, cases[i][1]);
    }
}

/* L2 data through the real loop and the CLI: the sim venue's queue_model param
 * comes from the config and from --set. Bid 100.00 x100, ask 101.00 x50 at t1;
 * our buy 10 @ 100 joins behind the 100. t1+1s: the bid grows to 200 (100
 * behind us); t1+2s: 150 (50 cancelled); t1+3s: a print of 80 at 100, then
 * the update that contains it (70); t1+4s: a print of 30.
 *  - prob (default, n = 2): P = 100^2 / (100^2 + 100^2) = 1/2, 25 of the
 *    cancel were ahead: 75 ahead, so the print of 80 fills 5 at t1+3s; the
 *    update (75 held behind us, 70 in the data) is a cancel behind us (nothing
 *    is ahead any more), and the print of 30 fills the other 5 at t1+4s.
 *  - risk_averse: the cancel was behind us: 100 ahead, the print of 80 leaves
 *    20, the update to 70 changes nothing (20 + 50), the print of 30 fills all
 *    10 at t1+4s.
 *  - optimistic: the cancel was ahead: 50 ahead, the print of 80 fills 10 at
 *    t1+3s.
 * An unknown model fails the run naming the key; two runs are identical. */
static void test_l2_queue_model_cli(void **state)
{
    (void)state;
    const char *path = bt_path("l2.ticks.zst");
    brs_instrument in = {.symbol = "L2T", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
    brs_market_event ev[] = {
        mev(T1, BRS_MEV_LEVEL_SET, BRS_BUY, P(100), 100, 0, 0),
        mev(T1, BRS_MEV_LEVEL_SET, BRS_SELL, P(101), 50, 0, 0),
        mev(T1 + 1 * SEC, BRS_MEV_LEVEL_SET, BRS_BUY, P(100), 200, 0, 0),
        mev(T1 + 2 * SEC, BRS_MEV_LEVEL_SET, BRS_BUY, P(100), 150, 0, 0),
        mev(T1 + 3 * SEC, BRS_MEV_TRADE, BRS_SELL, P(100), 80, 1, 0),
        mev(T1 + 3 * SEC, BRS_MEV_LEVEL_SET, BRS_BUY, P(100), 70, 0, 0),
        mev(T1 + 4 * SEC, BRS_MEV_TRADE, BRS_SELL, P(100), 30, 2, 0),
    };
    brs_tick_writer *w;
    brs_error err = {0};
    bt_write(bt_path("dummy"), "");
    if (brs__tick_writer_open(&w, path, &in, 1, NULL, &err))
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        assert_int_equal(brs__tick_writer_add(w, &ev[i], &err), 0);
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
    const char *lua = strategy("l2q", "{qty = 10, price = top.bid}");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"book\": {\"venues\": [{\"name\": \"x\", \"plugin\": \"%s/plugins/sim.so\","
             " \"params\": {\"queue_power\": 2}}]}}",
             path, lua, BOURSE_BINARY_DIR);
    bt_write(bt_path("l2q.json"), json);
    struct {
        const char *set; /* NULL: the default */
        int rows;
        int64_t t[2], q[2];
    } cases[] = {
        {NULL, 2, {T1 + 3 * SEC, T1 + 4 * SEC}, {5, 5}},
        {"book.venues[0].params.queue_model=risk_averse", 1, {T1 + 4 * SEC, 0}, {10, 0}},
        {"book.venues[0].params.queue_model=optimistic", 1, {T1 + 3 * SEC, 0}, {10, 0}},
        {"book.venues[0].params.queue_model=prob", 2, {T1 + 3 * SEC, T1 + 4 * SEC}, {5, 5}},
        {NULL, 2, {T1 + 3 * SEC, T1 + 4 * SEC}, {5, 5}}, /* the first again */
    };
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "l2q_%d", i);
        char out[1100];
        snprintf(out, sizeof out, "%s", bt_path(name));
        const char *args[] = {"backtest", bt_path("l2q.json"), "--out", out, "--quiet",
                              cases[i].set ? "--set" : NULL, cases[i].set, NULL};
        run_result r = run(args);
        if (r.status)
            fail_msg("case %d: exit %d: %s", i, r.status, r.err);
        run_free(&r);
        assert_int_equal(bt_csv_rows(fills_of(out)), cases[i].rows);
        for (int k = 0; k < cases[i].rows; k++) {
            assert_int_equal(bt_csv_i64(fills_of(out), k + 1, 0), cases[i].t[k]);
            assert_float_equal(bt_csv_num(fills_of(out), k + 1, 5), (double)cases[i].q[k], 0);
        }
    }
    /* two runs of one config: byte-identical run directories */
    same_run_dirs(bt_path("l2q_0"), bt_path("l2q_4"));
    const char *bad[] = {"backtest", bt_path("l2q.json"), "--out", bt_path("l2q_bad"), "--quiet",
                         "--set", "book.venues[0].params.queue_model=fifo", NULL};
    run_result r = run(bad);
    assert_int_equal(r.status, 1);
    if (!strstr(r.err, "queue_model"))
        fail_msg("the error does not name queue_model: %s", r.err);
    run_free(&r);
    /* a misspelled venue parameter is refused, not left at its default */
    const char *typo[] = {"backtest", bt_path("l2q.json"), "--out", bt_path("l2q_typo"), "--quiet",
                          "--set", "book.venues[0].params.queue_modle=prob", NULL};
    r = run(typo);
    assert_int_equal(r.status, 1);
    if (!strstr(r.err, "venues[0].params.queue_modle: not a parameter of venue plugin 'sim' "
                       "(did you mean 'queue_model'?)"))
        fail_msg("the error does not name the misspelled key: %s", r.err);
    run_free(&r);
    /* keys the router reads (fees, lots) stay accepted on any venue */
    const char *fee[] = {"backtest", bt_path("l2q.json"), "--out", bt_path("l2q_fee"), "--quiet",
                         "--set", "book.venues[0].params.min_qty=0", NULL};
    r = run(fee);
    if (r.status)
        fail_msg("min_qty refused: %s", r.err);
    run_free(&r);
}

/* Through the router over two sim venues replaying the same book: a market
 * buy of 25 sent at t1 + 0.5 s (when both books show all four ask levels)
 * takes 101 x10 on both, then 5 at 102: average 101.20, against
 * 101.80 on one venue (test_walk_levels_fees_flatten). A risk limit of 20
 * per order refuses a second order of 25 with a reject naming the check. */
static void test_router_two_venues(void **state)
{
    (void)state;
    const char *ticks = write_ticks();
    bt_write(bt_path("route.lua"),
             "local set = false\n"
             "return { name = 'route',\n"
             "  on_top = function(ctx, top)\n"
             "    if not set then set = true; ctx:timer(500000000) end end,\n"
             "  on_timer = function(ctx) assert(ctx:buy({qty = 25, type = 'market'})) end,\n"
             "  on_order = function(ctx, ev)\n"
             "    if ev.kind == 'rejected' then ctx:log('rejected ' .. tostring(ev.reason)) end end }\n");
    char json[4096];
    snprintf(json, sizeof json,
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"book\": {\"router\": {\"enabled\": true}, \"venues\": ["
             "{\"name\": \"a\", \"plugin\": \"" BOURSE_BINARY_DIR "/plugins/sim.so\","
             " \"params\": {\"venue_index\": 0, \"taker_fee_bps\": 3}},"
             "{\"name\": \"b\", \"plugin\": \"" BOURSE_BINARY_DIR "/plugins/sim.so\","
             " \"params\": {\"venue_index\": 1, \"taker_fee_bps\": 3}}]}}",
             ticks, bt_path("route.lua"));
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    const char *out = bt_path("router");
    if (bt_run(json, out, &res, &m, &err))
        fail_msg("%s", err.msg);
    if (res.failed)
        fail_msg("%s", res.error);
    const char *f = fills_of(out);
    double notional = 0, qty = 0;
    int rows = bt_csv_rows(f);
    for (int i = 1; i <= rows; i++) {
        notional += bt_csv_num(f, i, 6) * bt_csv_num(f, i, 5);
        qty += bt_csv_num(f, i, 5);
    }
    assert_float_equal(qty, 25, 0);
    assert_float_equal(notional / qty, 101.2, 1e-9);
    /* one parent order, as the strategy sent it */
    char orders[1200];
    snprintf(orders, sizeof orders, "%s/orders.csv", out);
    assert_int_equal(bt_csv_rows(orders), 1);
    assert_float_equal(bt_csv_num(orders, 1, 10), 101.2, 1e-9);

    /* risk in front of the router */
    snprintf(json + strlen(json) - 2, sizeof json - strlen(json) + 2,
             "}, \"risk\": {\"max_order_qty\": 20}}");
    if (bt_run(json, bt_path("router_risk"), &res, &m, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(res.fills, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_position),
        cmocka_unit_test(test_walk_levels_fees_flatten),
        cmocka_unit_test(test_latency_exact),
        cmocka_unit_test(test_book_deterministic),
        cmocka_unit_test(test_two_files_merged),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_clock_never_back),
        cmocka_unit_test(test_book_config_strict),
        cmocka_unit_test(test_l2_queue_model_cli),
        cmocka_unit_test(test_router_two_venues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
