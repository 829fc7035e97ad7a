/* test_sandbox.c: hostile scripts through `bourse strategy check`, as a user
 * would run them: each must end with exit status 1 and a clear message naming
 * the script (and the line where there is one), never a crash or a hang. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../support/subprocess.h"

#define SCRIPTS BOURSE_SOURCE_DIR "/tests/strategy/scripts/"

/* Run `bourse strategy check` on a script; expect failure with every needle in stderr. */
static void expect_refused(const char *script, const char *const *needles)
{
    const char *args[] = {"strategy", "check", script, NULL};
    run_result r = run(args);
    if (r.status != 1 || !strstr(r.err, "bourse strategy check:"))
        fail_msg("%s: status %d, stderr:\n%s", script, r.status, r.err);
    for (; *needles; needles++)
        if (!strstr(r.err, *needles))
            fail_msg("%s: '%s' missing from stderr:\n%s", script, *needles, r.err);
    run_free(&r);
}

static void test_os_execute(void **state)
{
    (void)state;
    unlink("/tmp/bourse_sandbox_escaped");
    expect_refused(SCRIPTS "os_execute.lua",
                   (const char *[]){"os_execute.lua:4:", "on_start", "'os' is not available", NULL});
    assert_int_not_equal(access("/tmp/bourse_sandbox_escaped", F_OK), 0);
}

static void test_io_open(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "io_open.lua",
                   (const char *[]){"io_open.lua:4:", "on_start", "'io' is not available", NULL});
}

static void test_load_bytecode(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "load_bytecode.lua",
                   (const char *[]){"load_bytecode.lua", "binary chunk", NULL});
    expect_refused(SCRIPTS "string_dump.lua",
                   (const char *[]){"string_dump.lua:2:", "dump", NULL});
    /* a script file that is itself bytecode is refused before anything runs */
    char path[] = "/tmp/brs_bytecode_XXXXXX.lua";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    static const char chunk[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08\x78\x56\0\0\0\0\0\0\0\0";
    assert_int_equal(write(fd, chunk, sizeof chunk - 1), (ssize_t)(sizeof chunk - 1));
    close(fd);
    expect_refused(path, (const char *[]){"brs_bytecode_", "binary chunk", NULL});
    unlink(path);
}

static void test_memory_bomb(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "memory_bomb.lua",
                   (const char *[]){"memory_bomb.lua", "on_start", "not enough memory", NULL});
}

static void test_endless_loop(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "endless_loop.lua",
                   (const char *[]){"endless_loop.lua:6:", "on_start", "instruction budget exceeded", NULL});
}

/* Pattern matching runs in C: the sandbox's matcher charges the budget, and a
 * kill inside it is final: pattern_find.lua catches it with pcall on line 7,
 * and the very next instruction (line 8) raises it again. */
static void test_pattern_budget(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "pattern_find.lua",
                   (const char *[]){"pattern_find.lua:8:", "on_start", "instruction budget exceeded", NULL});
    expect_refused(SCRIPTS "pattern_gsub.lua",
                   (const char *[]){"pattern_gsub.lua:5:", "on_start", "instruction budget exceeded", NULL});
    expect_refused(SCRIPTS "pattern_gmatch.lua",
                   (const char *[]){"pattern_gmatch.lua", "on_start", "instruction budget exceeded", NULL});
}

/* Copies in C are charged by the bytes they allocate (copy_loop.lua): the
 * loop of 4 MB upper() calls is stopped by the budget, and catching the
 * first stop with pcall does not let the second loop run. */
static void test_copy_budget(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "copy_loop.lua",
                   (const char *[]){"copy_loop.lua", "on_start", "instruction budget exceeded",
                                    "bytes allocated count as one", NULL});
}

/* table.sort is charged n log n (sort_loop.lua): 300 sorts of 200,000
 * numbers ran for seconds within the budget; now the budget stops them. */
static void test_sort_budget(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "sort_loop.lua",
                   (const char *[]){"sort_loop.lua:8:", "on_start", "instruction budget exceeded", NULL});
}

static void test_recursion(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "recursion.lua", (const char *[]){"recursion.lua:2:", "on_start", NULL});
}

static void test_syntax_error(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "syntax_error.lua",
                   (const char *[]){"syntax_error.lua:4:", "unexpected symbol", NULL});
}

static void test_gc_finalizer_refused(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "gc_loop.lua", (const char *[]){"gc_loop.lua:3:", "__gc", NULL});
}

static void test_error_in_on_bar(void **state)
{
    (void)state;
    expect_refused(SCRIPTS "bad_bar.lua",
                   (const char *[]){"bad_bar.lua:8:", "on_bar", "attempt to index a nil value", NULL});
}

static void test_shipped_strategies_pass(void **state)
{
    (void)state;
    static const char *const files[] = {"ma_cross.lua", "rsi_reversion.lua", "market_maker.lua", "pairs.lua"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/strategies-lua/%s", BOURSE_SOURCE_DIR, files[i]);
        const char *args[] = {"strategy", "check", path, NULL};
        run_result r = run(args);
        if (r.status != 0)
            fail_msg("%s: status %d\n%s", files[i], r.status, r.err);
        assert_non_null(strstr(r.out, "parameters:"));
        assert_non_null(strstr(r.out, "ok: started"));
        run_free(&r);
    }
    const char *so[] = {"strategy", "check", BOURSE_BINARY_DIR "/plugins/ma_cross.so", NULL};
    run_result r = run(so);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "strategy ma_cross (c plugin)"));
    assert_non_null(strstr(r.out, "allow_short"));
    run_free(&r);
}

static void test_params_from_command_line(void **state)
{
    (void)state;
    const char *bad[] = {"strategy", "check", BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua",
                         "--param", "fats=3", NULL};
    run_result r = run(bad);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "fats: unknown parameter"));
    run_free(&r);
    const char *typ[] = {"strategy", "check", BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua",
                         "--param", "fast=quick", NULL};
    r = run(typ);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "fast: expected an integer"));
    run_free(&r);
    const char *ok[] = {"strategy", "check", BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua",
                        "--param", "fast=3", "--param", "allow_short=true", NULL};
    r = run(ok);
    assert_int_equal(r.status, 0);
    run_free(&r);
    const char *usage[] = {"strategy", "check", "--bogus", NULL};
    r = run(usage);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

/* `bench strategy --json`: one JSON object with both figures and the same
 * trades from C and Lua (the timings themselves are not asserted). */
static void test_bench_json(void **state)
{
    (void)state;
    const char *args[] = {"bench", "strategy", "--events", "3000", "--runs", "1", "--json",
                          "--plugin", BOURSE_BINARY_DIR "/plugins/ma_cross.so", NULL};
    run_result r = run(args);
    if (r.status != 0)
        fail_msg("status %d\n%s", r.status, r.err);
    assert_non_null(strstr(r.out, "\"c_ns_per_call\":"));
    assert_non_null(strstr(r.out, "\"lua_ns_per_call\":"));
    assert_non_null(strstr(r.out, "\"same_trades\":true"));
    assert_null(strstr(r.out, "\"c_ns_per_call\":null"));
    /* the references of the same run, and the ratios to them */
    assert_non_null(strstr(r.out, "\"lua_pcall_ns_per_call\":"));
    assert_non_null(strstr(r.out, "\"lua_pcall_table_ns_per_call\":"));
    assert_non_null(strstr(r.out, "\"lua_ratio_to_pcall\":"));
    assert_non_null(strstr(r.out, "\"c_ratio_to_noop\":"));
    assert_null(strstr(r.out, "\"c_ratio_to_noop\":null"));
    assert_non_null(strstr(r.out, "\"c_ignore_ns_per_call\":"));
    assert_non_null(strstr(r.out, "\"c_ignore_fills\":1,")); /* its one buy at warm-up */
    assert_null(strstr(r.out, "\"c_ignore_ns_per_call\":null"));
    /* the Lua script on the same bars, and the plain interpreter's floor for
     * that work: the floor's script takes the same single position at warm-up */
    assert_non_null(strstr(r.out, "\"lua_ignore_ns_per_call\":"));
    assert_non_null(strstr(r.out, "\"lua_ignore_fills\":1,"));
    assert_non_null(strstr(r.out, "\"lua_floor_ns_per_call\":"));
    assert_non_null(strstr(r.out, "\"lua_floor_trades\":1,"));
    assert_non_null(strstr(r.out, "\"lua_ignore_ratio_to_floor\":"));
    run_free(&r);
}

/* `bench lua-pattern --json`: stock and sandbox figures for every case. */
static void test_bench_pattern_json(void **state)
{
    (void)state;
    const char *args[] = {"bench", "lua-pattern", "--runs", "1", "--quick", "--json", NULL};
    run_result r = run(args);
    if (r.status != 0)
        fail_msg("status %d\n%s", r.status, r.err);
    assert_non_null(strstr(r.out, "\"stock_ns\":"));
    assert_non_null(strstr(r.out, "\"sandbox_budget_ns\":"));
    assert_non_null(strstr(r.out, "gsub function"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_os_execute),      cmocka_unit_test(test_io_open),
        cmocka_unit_test(test_load_bytecode),   cmocka_unit_test(test_memory_bomb),
        cmocka_unit_test(test_endless_loop),    cmocka_unit_test(test_pattern_budget),
        cmocka_unit_test(test_copy_budget),
        cmocka_unit_test(test_sort_budget),
        cmocka_unit_test(test_recursion),
        cmocka_unit_test(test_syntax_error),    cmocka_unit_test(test_gc_finalizer_refused),
        cmocka_unit_test(test_error_in_on_bar), cmocka_unit_test(test_shipped_strategies_pass),
        cmocka_unit_test(test_params_from_command_line),
        cmocka_unit_test(test_bench_json),
        cmocka_unit_test(test_bench_pattern_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
