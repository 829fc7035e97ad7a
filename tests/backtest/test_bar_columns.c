/* test_bar_columns.c: signal-mode bars held as columns (ABI 1.2,
 * xBarColumns). A one-instrument file of compact bar blocks loads as columns
 * only; the same bars as 64-byte records (format version 1), or with other
 * events mixed in, load as records. Every field must be the same either way,
 * and every run over them byte-identical: per-bar Lua with limit and market
 * orders and impact (records made from columns for each callback), a
 * vectorized Lua strategy (ctx:bars, xBars' records made from columns), the
 * C sig_momentum (xBarColumns) and a plugin built against ABI 1.1 (xBars),
 * which must still load and run, and trade like sig_momentum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define BT_SUBDIR "bar_columns"
#include "bt_util.h"
#include "strategy/runtime.h"
#include "ticks/tickfile.h"

#define NBARS 6000

/* The bars: a random walk of minute bars; in blocks 3 and 7 (of 500) the
 * local time lags the exchange time, so those blocks store it; with `marked`
 * some bars carry flags (which columns cannot hold). */
static brs_market_event *make_bars(int marked)
{
    brs_market_event *ev = malloc(NBARS * sizeof *ev);
    assert_non_null(ev);
    brs__bars_random_walk(ev, NBARS, 11, 0, 1000000, INT64_C(1700000000) * 1000000000);
    for (size_t i = 0; i < NBARS; i++) {
        if (i / 500 == 3 || i / 500 == 7)
            ev[i].ts_local = ev[i].ts_exchange + 1000 + (int64_t)(i % 7) * 250;
        if (marked && i % 1000 == 17)
            ev[i].flags = 1;
    }
    return ev;
}

/* mode 0: compact bar blocks (version 2+); 1: 64-byte records (version 1);
 * 2: compact, with trade prints among the bars (mixed blocks are events). */
static void write_bars(const char *path, const brs_market_event *ev, int mode)
{
    brs_instrument in = {.symbol = "COL", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
    brs_tick_writer_opts o = {.block_records = 500, .plain_bars = mode == 1, .plain_events = mode == 1};
    brs_tick_writer *w;
    brs_error err = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", bt_path(""));
    assert_int_equal(brs__mkdirs(dir, &err), 0);
    assert_int_equal(brs__tick_writer_open(&w, path, &in, 1, &o, &err), 0);
    for (size_t i = 0; i < NBARS; i++) {
        assert_int_equal(brs__tick_writer_add(w, &ev[i], &err), 0);
        if (mode == 2 && i % 901 == 3) {
            brs_market_event t = {.ts_exchange = ev[i].ts_exchange, .ts_local = ev[i].ts_exchange,
                                  .kind = BRS_MEV_TRADE, .price = 1, .qty = 1};
            assert_int_equal(brs__tick_writer_add(w, &t, &err), 0);
        }
    }
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
}

/* Bar k of the loaded set, as a record, whichever way it is held. */
static brs_market_event loaded(const brs__bt_bars *b, uint64_t k)
{
    if (b->bars[0])
        return b->bars[0][k];
    const brs_bar_columns *c = &b->cols[0];
    return (brs_market_event){.ts_exchange = c->ts[k], .ts_local = c->ts_local[k],
                              .kind = BRS_MEV_BAR,
                              .bar = {.open = c->open[k], .high = c->high[k], .low = c->low[k],
                                      .close = c->close[k], .volume = c->volume[k]}};
}

static void check_loaded(const char *path, const brs_market_event *ev, int want_columns)
{
    brs__bt_bars b;
    brs_error err = {0};
    if (brs__bt_bars_load(&b, path, NULL, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(b.total, NBARS);
    if (want_columns) {
        assert_non_null(b.cols);
        assert_null(b.bars[0]);
        assert_int_equal(b.cols[0].n, NBARS);
        assert_int_equal(b.cols[0].size, sizeof(brs_bar_columns));
    } else {
        assert_non_null(b.bars[0]);
        assert_true(!b.cols || !b.cols[0].ts);
    }
    assert_true(b.local_late); /* blocks 3 and 7 */
    for (uint64_t k = 0; k < NBARS; k++) {
        brs_market_event e = loaded(&b, k);
        if (memcmp(&e, &ev[k], sizeof e))
            fail_msg("%s: bar %llu differs from what was written", path, (unsigned long long)k);
    }
    brs__bt_bars_free(&b);
}

static void test_loader(void **state)
{
    (void)state;
    brs_market_event *ev = make_bars(0);
    write_bars(bt_path("compact.ticks.zst"), ev, 0);
    write_bars(bt_path("records.ticks.zst"), ev, 1);
    write_bars(bt_path("mixed.ticks.zst"), ev, 2);
    check_loaded(bt_path("compact.ticks.zst"), ev, 1);
    check_loaded(bt_path("records.ticks.zst"), ev, 0);
    check_loaded(bt_path("mixed.ticks.zst"), ev, 0);
    free(ev);
    /* bars with flags: records keep them, so no columns */
    ev = make_bars(1);
    write_bars(bt_path("marked.ticks.zst"), ev, 0);
    check_loaded(bt_path("marked.ticks.zst"), ev, 0);
    free(ev);
}

/* Lazy bars (what a run loads): a compact file keeps its payloads and
 * decodes only the columns asked for, each equal to what was written; any
 * other file loads as brs__bt_bars_load does. */
static void test_lazy_loader(void **state)
{
    (void)state;
    brs_market_event *ev = make_bars(0);
    write_bars(bt_path("lazy.ticks.zst"), ev, 0);
    write_bars(bt_path("lazy_records.ticks.zst"), ev, 1);
    brs__bt_bars b;
    brs_error err = {0};
    if (brs__bt_bars_load_lazy(&b, bt_path("lazy.ticks.zst"), NULL, &err))
        fail_msg("%s", err.msg);
    assert_non_null(b.lazy);
    assert_int_equal(b.total, NBARS);
    assert_true(b.local_late);
    assert_int_equal(b.cols[0].n, NBARS);
    assert_null(b.cols[0].ts);
    assert_null(b.cols[0].close);
    assert_int_equal(brs__bt_bars_columns(&b, 0, BRS_BARCOL_CLOSE, &err), 0);
    assert_non_null(b.cols[0].close);
    assert_null(b.cols[0].ts);
    assert_null(b.cols[0].open);
    assert_null(b.cols[0].volume);
    for (uint64_t k = 0; k < NBARS; k++)
        assert_int_equal(b.cols[0].close[k], ev[k].bar.close);
    /* the local time brings ts with it; blocks without one read ts */
    assert_int_equal(brs__bt_bars_columns(&b, 0, BRS_BARCOL_TS_LOCAL, &err), 0);
    assert_non_null(b.cols[0].ts);
    assert_null(b.cols[0].high);
    for (uint64_t k = 0; k < NBARS; k++) {
        assert_int_equal(b.cols[0].ts[k], ev[k].ts_exchange);
        assert_int_equal(b.cols[0].ts_local[k], ev[k].ts_local);
    }
    /* every column: the same records as written */
    assert_int_equal(brs__bt_bars_columns(&b, 0, 0, &err), 0);
    for (uint64_t k = 0; k < NBARS; k++) {
        brs_market_event e = loaded(&b, k);
        if (memcmp(&e, &ev[k], sizeof e))
            fail_msg("lazy: bar %llu differs from what was written", (unsigned long long)k);
    }
    /* the engine's xBarColumns: what the mask asks for, or every column for a
     * struct that predates the mask */
    brs__bt_bars_free(&b);
    if (brs__bt_bars_load_lazy(&b, bt_path("lazy.ticks.zst"), NULL, &err))
        fail_msg("%s", err.msg);
    brs__bt_signal_opts so = {.initial_cash = 1e6};
    brs__bt_signal *sig;
    assert_int_equal(brs__bt_signal_create(&sig, &b, &so, NULL, &err), 0);
    brs__exec ex = brs__bt_signal_exec(sig);
    brs_bar_columns c = {.size = sizeof c, .want = BRS_BARCOL_CLOSE | BRS_BARCOL_OPEN};
    assert_int_equal(ex.xBarColumns(ex.self, NULL, 0, &c), 0);
    assert_int_equal(c.n, NBARS);
    assert_non_null(c.close);
    assert_non_null(c.open);
    assert_null(c.high);
    assert_null(c.ts);
    assert_int_equal(b.lazy->have, BRS_BARCOL_CLOSE | BRS_BARCOL_OPEN);
    for (uint64_t k = 0; k < NBARS; k++)
        assert_int_equal(c.open[k], ev[k].bar.open);
    brs_bar_columns old = {.size = offsetof(brs_bar_columns, want)};
    assert_int_equal(ex.xBarColumns(ex.self, NULL, 0, &old), 0);
    assert_non_null(old.ts);
    assert_non_null(old.volume);
    assert_int_equal(b.lazy->have, BRS_BARCOL_ALL);
    for (uint64_t k = 0; k < NBARS; k++)
        assert_int_equal(old.volume[k], ev[k].bar.volume);
    brs__bt_signal_destroy(sig);
    brs__bt_bars_free(&b);
    /* records: not lazy */
    if (brs__bt_bars_load_lazy(&b, bt_path("lazy_records.ticks.zst"), NULL, &err))
        fail_msg("%s", err.msg);
    assert_null(b.lazy);
    assert_non_null(b.bars[0]);
    assert_int_equal(b.total, NBARS);
    brs__bt_bars_free(&b);
    free(ev);
}

/* text with every occurrence of what replaced by "DATA" (a new string) */
static char *unpath(const char *text, const char *what)
{
    size_t wl = strlen(what), n = 0;
    char *out = malloc(strlen(text) + 1), *o = out;
    assert_non_null(out);
    for (const char *p = text; *p;) {
        if (!strncmp(p, what, wl)) {
            memcpy(o, "DATA", 4);
            o += 4;
            p += wl;
            n++;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

/* Every file of run directory a equals b's, byte for byte but for the data
 * file's path (config.json, the report's title block); returns the count. */
static int same_dirs(const char *a, const char *a_data, const char *b, const char *b_data)
{
    DIR *d = opendir(a);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char pa[1200], pb[1200];
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        char *ta = test_read_file(pa, NULL), *tb = test_read_file(pb, NULL);
        if (!tb)
            fail_msg("%s missing in %s", e->d_name, b);
        char *ua = unpath(ta, a_data), *ub = unpath(tb, b_data);
        if (strcmp(ua, ub))
            fail_msg("%s differs between %s and %s", e->d_name, a, b);
        free(ta);
        free(tb);
        free(ua);
        free(ub);
        n++;
    }
    closedir(d);
    return n;
}

static void run_ok(const char *data, const char *strategy, const char *extra, const char *out)
{
    char json[3000];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"%s},"
             " \"sample_every_ns\": 3600000000000,"
             " \"signal\": {\"commission\": {\"bps\": 1}, \"sizing\": {\"fraction\": 0.5}%s}}",
             data, strategy, strstr(extra, "lookback") ? ", \"params\": {\"lookback\": 50}" : "",
             strstr(extra, "impact") ? ", \"impact\": {\"k\": 0.1, \"window\": 30}" : "");
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err = {0};
    if (bt_run(json, out, &res, &m, &err))
        fail_msg("%s on %s: %s", strategy, data, err.msg);
    if (res.failed)
        fail_msg("%s on %s failed: %s", strategy, data, res.error);
    assert_int_equal(res.events, NBARS);
    assert_true(res.fills > 20);
}

static void test_runs_identical(void **state)
{
    (void)state;
    /* limit orders both ways (filled at the open or through the bar's range),
     * market orders, impact from the volumes: every bar steps */
    bt_write(bt_path("orders.lua"),
             "local i = 0\n"
             "return { name = 'col_orders', on_bar = function(ctx, bar)\n"
             "  i = i + 1\n"
             "  if i % 10 == 0 then ctx:buy(3, bar.low + (bar.close - bar.low) // 2) end\n"
             "  if i % 13 == 0 then ctx:sell(2, bar.high - 5) end\n"
             "  if i % 17 == 0 then ctx:sell(1) end\n"
             "  if i % 29 == 0 then ctx:buy{qty = 1, price = bar.open, tif = 'ioc'} end\n"
             "end }\n");
    bt_write(bt_path("vec.lua"),
             "return { name = 'col_vec', on_start = function(ctx)\n"
             "  local b = ctx:bars()\n"
             "  local t = {}\n"
             "  for i = 1, b.n do\n"
             "    t[i] = i > 30 and (b.close[i] > b.open[i - 30] and 1 or (b.low[i] < b.low[i - 30] and -1 or 0)) or 0/0\n"
             "  end\n"
             "  assert(ctx:set_targets(t))\n"
             "end }\n");
    const char *files[] = {"compact.ticks.zst", "records.ticks.zst", "mixed.ticks.zst"};
    struct {
        const char *name, *strategy, *extra;
    } runs[] = {
        {"orders", bt_path("orders.lua"), "impact"},
        {"vec", bt_path("vec.lua"), ""},
        {"sig", BOURSE_BINARY_DIR "/plugins/sig_momentum.so", "lookback"},
        {"old", BOURSE_TEST_PLUGIN_DIR "/fx_old_abi_signal.so", "lookback"},
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char first[1100];
        for (int f = 0; f < 3; f++) {
            char out[1100], name[200];
            snprintf(name, sizeof name, "run_%s_%d", runs[r].name, f);
            snprintf(out, sizeof out, "%s", bt_path(name));
            run_ok(bt_path(files[f]), runs[r].strategy, runs[r].extra, out);
            if (f == 0)
                snprintf(first, sizeof first, "%s", out);
            else
                assert_true(same_dirs(first, bt_path(files[0]), out, bt_path(files[f])) >= 8); /* bars.csv too */
        }
    }
    /* the ABI 1.1 plugin (records) trades exactly like sig_momentum (columns) */
    const char *same[] = {"fills.csv", "orders.csv", "trades.csv", "equity.csv"};
    for (int i = 0; i < 4; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", bt_path("run_sig_0"), same[i]);
        snprintf(b, sizeof b, "%s/%s", bt_path("run_old_0"), same[i]);
        char *ta = test_read_file(a, NULL), *tb = test_read_file(b, NULL);
        assert_non_null(ta);
        assert_non_null(tb);
        if (strcmp(ta, tb))
            fail_msg("%s: the ABI 1.1 plugin and sig_momentum differ", same[i]);
        free(ta);
        free(tb);
    }
}

/* xSetTargetsAt (ABI 1.3): targets given in chunks, last chunk first, each
 * overwritten once, with more distinct values than the engine codes (its
 * table overflows to doubles part way), trade exactly like the same array
 * through xSetTargets; the refusals are checked inside the fixture. */
static void test_targets_at(void **state)
{
    (void)state;
    brs_market_event *ev = make_bars(0);
    write_bars(bt_path("ta.ticks.zst"), ev, 0);
    free(ev);
    const int chunks[] = {0, 1000, 777, 1};
    char first[1100] = "";
    for (int k = 0; k < 4; k++) {
        char json[3000], out[1100], name[64];
        snprintf(json, sizeof json,
                 "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\","
                 " \"params\": {\"chunk\": %d}}, \"sample_every_ns\": 3600000000000}",
                 bt_path("ta.ticks.zst"), BOURSE_TEST_PLUGIN_DIR "/fx_targets_at.so", chunks[k]);
        snprintf(name, sizeof name, "ta_%d", chunks[k]);
        snprintf(out, sizeof out, "%s", bt_path(name));
        brs__bt_result res;
        brs_an_metrics m;
        brs_error err = {0};
        if (bt_run(json, out, &res, &m, &err))
            fail_msg("chunk %d: %s", chunks[k], err.msg);
        if (res.failed)
            fail_msg("chunk %d failed: %s", chunks[k], res.error);
        assert_true(res.fills > 100);
        if (!k) {
            snprintf(first, sizeof first, "%s", out);
            continue;
        }
        /* everything but the config (its chunk parameter) and the report showing it */
        const char *same[] = {"fills.csv", "orders.csv", "trades.csv", "equity.csv", "summary.json",
                              "bars.csv"};
        for (int i = 0; i < 6; i++) {
            char a[1200], b[1200];
            snprintf(a, sizeof a, "%s/%s", first, same[i]);
            snprintf(b, sizeof b, "%s/%s", out, same[i]);
            char *ta = test_read_file(a, NULL), *tb = test_read_file(b, NULL);
            assert_non_null(ta);
            assert_non_null(tb);
            if (strcmp(ta, tb))
                fail_msg("%s: chunks of %d differ from one xSetTargets", same[i], chunks[k]);
            free(ta);
            free(tb);
        }
    }
}

/* Two instruments, bars for the first only (records path: several
 * instruments): a strategy asking for the second's bars, as columns or as
 * records, gets none, and both kinds of plugin trade the first alike. */
static void test_instrument_without_bars(void **state)
{
    (void)state;
    brs_market_event *ev = make_bars(0);
    brs_instrument in[2] = {{.symbol = "ONE", .price_scale = 10000, .tick_size = 1, .lot_size = 1},
                            {.symbol = "TWO", .price_scale = 10000, .tick_size = 1, .lot_size = 1}};
    brs_tick_writer_opts o = {.block_records = 500};
    brs_tick_writer *w;
    brs_error err = {0};
    const char *path = bt_path("two.ticks.zst");
    assert_int_equal(brs__tick_writer_open(&w, path, in, 2, &o, &err), 0);
    for (size_t i = 0; i < NBARS; i++)
        assert_int_equal(brs__tick_writer_add(w, &ev[i], &err), 0);
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
    free(ev);
    run_ok(path, BOURSE_BINARY_DIR "/plugins/sig_momentum.so", "lookback", bt_path("two_sig"));
    run_ok(path, BOURSE_TEST_PLUGIN_DIR "/fx_old_abi_signal.so", "lookback", bt_path("two_old"));
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/fills.csv", bt_path("two_sig"));
    snprintf(b, sizeof b, "%s/fills.csv", bt_path("two_old"));
    char *ta = test_read_file(a, NULL), *tb = test_read_file(b, NULL);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader),
        cmocka_unit_test(test_lazy_loader),
        cmocka_unit_test(test_runs_identical),
        cmocka_unit_test(test_instrument_without_bars),
        cmocka_unit_test(test_targets_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
