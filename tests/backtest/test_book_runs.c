/* test_book_runs.c: book mode's runs of replayed events (the rest of a decoded
 * block handed to the runtime at once, brs__rt_strats_replay_run) against
 * stepping every event through brs__rt_strats_step: for strategies that set
 * and cancel timers, plot, read depth and trades, sample equity often, and one
 * that fails mid-run, both paths must leave the same run directory byte for
 * byte and the same result (events, failure text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define BT_SUBDIR "book_runs"
#include "bt_util.h"
#include "runtime/rt_strategy.h"
#include "ticks/gen.h"

static const char *ticks_path(void)
{
    static char path[1024];
    if (!path[0]) {
        snprintf(path, sizeof path, "%s", bt_path("runs.ticks.zst"));
        bt_write(bt_path("dummy"), "");
        /* two instruments, several blocks of 16384 records */
        brs_gen_opts go = {.seed = 3, .events = 120000, .symbols = 2};
        brs_error err = {0};
        if (brs__gen_file(path, &go, &err))
            fail_msg("%s", err.msg);
    }
    return path;
}

/* Every file of two run directories byte for byte the same (absent in both is the same). */
static void same_dirs(const char *da, const char *db)
{
    static const char *const files[] = {"summary.json", "fills.csv", "orders.csv", "equity.csv",
                                        "trades.csv", "plots.csv", "config.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", da, files[i]);
        snprintf(b, sizeof b, "%s/%s", db, files[i]);
        size_t la = 0, lb = 0;
        char *ta = test_read_file(a, &la), *tb = test_read_file(b, &lb);
        if (!ta || !tb) {
            if (ta || tb)
                fail_msg("%s: in one run directory only", files[i]);
            continue;
        }
        if (la != lb || memcmp(ta, tb, la))
            fail_msg("%s differs between %s and %s", files[i], da, db);
        free(ta);
        free(tb);
    }
}

/* One config run with the runs on and off: same directory, same result. */
static void both_ways(const char *name, const char *strategy, const char *extra, int want_fail)
{
    char json[4096], da[1100], db[1100];
    snprintf(json, sizeof json,
             "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},"
             " \"sample_every_ns\": 1000000%s}", ticks_path(), strategy, extra);
    snprintf(da, sizeof da, "%s_runs", bt_path(name));
    snprintf(db, sizeof db, "%s_steps", bt_path(name));
    brs__bt_result ra, rb;
    brs_an_metrics m;
    brs_error ea = {0}, eb = {0};
    brs__rt_replay_run_off = 0;
    int rca = bt_run(json, da, &ra, &m, &ea);
    brs__rt_replay_run_off = 1;
    int rcb = bt_run(json, db, &rb, &m, &eb);
    brs__rt_replay_run_off = 0;
    assert_int_equal(rca, rcb);
    if (rca)
        fail_msg("%s: %s", name, ea.msg);
    assert_int_equal(ra.failed, want_fail);
    assert_int_equal(rb.failed, want_fail);
    if (want_fail)
        assert_string_equal(ra.error, rb.error);
    assert_int_equal(ra.events, rb.events);
    assert_true(ra.events > 0);
    if (!want_fail)
        same_dirs(da, db);
}

/* Tops plotted, a repeating timer set, cancelled and set again (the runs stop
 * before each firing), trades plotted: callbacks at every kind of point. */
static void test_timers_plots(void **state)
{
    (void)state;
    bt_write(bt_path("busy.lua"),
             "local n, tid = 0, nil\n"
             "return { name = 'busy',\n"
             "  on_top = function(ctx, top)\n"
             "    n = n + 1\n"
             "    if n % 97 == 0 and top.mid then ctx:plot('mid', top.mid) end\n"
             "    if n == 50 then tid = ctx:timer(3000000, 7000000) end\n"
             "    if n == 20000 then ctx:cancel_timer(tid) end\n"
             "    if n == 30000 then ctx:timer(1) end\n"
             "  end,\n"
             "  on_timer = function(ctx, id, now) ctx:plot('timer', now % 1000000007) end,\n"
             "  on_trade = function(ctx, t) if t.qty % 7 == 0 then ctx:plot('trade', t.price) end end }\n");
    both_ways("busy", bt_path("busy.lua"), "", 0);
}

/* Depth at the end of each message (no lean runs), and the C noop strategy
 * (lean: only tops reach it). */
static void test_depth_and_noop(void **state)
{
    (void)state;
    bt_write(bt_path("depth.lua"),
             "local n = 0\n"
             "return { name = 'depth',\n"
             "  on_depth = function(ctx, i)\n"
             "    n = n + 1\n"
             "    if n % 113 == 0 then local d = ctx:depth('bid', 3, i); if d[1] then ctx:plot('bid', d[1][1]) end end\n"
             "  end }\n");
    both_ways("depth", bt_path("depth.lua"), "", 0);
    both_ways("noop", BOURSE_BINARY_DIR "/plugins/noop.so", "", 0);
}

/* A strategy that fails in the middle of a run: the same failure, at the same point. */
static void test_failure(void **state)
{
    (void)state;
    bt_write(bt_path("fail.lua"),
             "local n = 0\n"
             "return { name = 'fail',\n"
             "  on_top = function(ctx, top)\n"
             "    n = n + 1\n"
             "    if n == 12345 then error('stop at ' .. ctx:now()) end\n"
             "  end }\n");
    both_ways("fail", bt_path("fail.lua"), "", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_plots),
        cmocka_unit_test(test_depth_and_noop),
        cmocka_unit_test(test_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
