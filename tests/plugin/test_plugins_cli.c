/* test_plugins_cli.c: `bourse plugins inspect` and `bourse plugins list` run
 * as a subprocess: every bad fixture (and the system's libz) is refused with
 * exactly one line naming the problem and exit 1, never a crash; good plugins
 * print their descriptor; usage errors exit 2. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cases.h"
#include "support/subprocess.h"
#include "core/core.h"

static void test_inspect_refuses_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", BOURSE_TEST_PLUGIN_DIR, load_cases[i].file);
        const char *args[] = {"plugins", "inspect", path, NULL};
        run_result r = run(args);
        char want[1200];
        snprintf(want, sizeof want, "bourse plugins: %s: ", path);
        if (r.status != 1 || count_char(r.err, '\n') != 1 || strncmp(r.err, want, strlen(want)) ||
            !strstr(r.err, load_cases[i].says) || r.out[0])
            fail_msg("%s: exit %d, stderr \"%s\", stdout \"%s\"", load_cases[i].file, r.status,
                     r.err, r.out);
        run_free(&r);
    }
}

static void test_inspect_refuses_libz(void **state)
{
    (void)state;
    const char *z = system_libz();
    if (!z) {
        printf("skipped: no system libz.so.1 found\n");
        skip();
    }
    const char *args[] = {"plugins", "inspect", z, NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    assert_int_equal(count_char(r.err, '\n'), 1);
    assert_non_null(strstr(r.err, z));
    assert_non_null(strstr(r.err, "not a Bourse plugin: no brs_plugin_entry symbol"));
    run_free(&r);
}

static void test_inspect_good(void **state)
{
    (void)state;
    const char *args[] = {"plugins", "inspect", BOURSE_TEST_PLUGIN_DIR "/fx_good_strategy.so",
                          BOURSE_TEST_PLUGIN_DIR "/fx_good_venue.so", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "  name:        fx_good_strategy\n"));
    assert_non_null(strstr(r.out, "  kind:        strategy\n"));
    assert_non_null(strstr(r.out, "  version:     2.3.4\n"));
    assert_non_null(strstr(r.out, "  ABI:         " STR(BRS_ABI_MAJOR) "." STR(BRS_ABI_MINOR)));
    assert_non_null(strstr(r.out, "  methods:     xOpen xClose xOnTop\n"));
    assert_non_null(strstr(r.out, "  subscribes:  top trades\n"));
    assert_non_null(strstr(r.out, "    fast: fast window\n"));
    assert_non_null(strstr(r.out, "  name:        fx_good_venue\n"));
    assert_non_null(strstr(r.out, "  kind:        venue\n"));
    assert_non_null(strstr(r.out, "  methods:     xOpen xClose xSubmit xCancel xReplace\n"));
    /* Both instances were opened and closed. */
    const char *ok = strstr(r.out, "  open/close:  ok\n");
    assert_non_null(ok);
    assert_non_null(strstr(ok + 1, "  open/close:  ok\n"));
    run_free(&r);
}

static void test_inspect_failing_open(void **state)
{
    (void)state;
    const char *args[] = {"plugins", "inspect", BOURSE_TEST_PLUGIN_DIR "/fx_fail_open.so", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    assert_int_equal(count_char(r.err, '\n'), 1);
    assert_non_null(strstr(r.err, "plugin 'fx_fail_open' failed to open: cannot reach the "
                                  "exchange: connection refused (fixture) (BRS_E_IO)"));
    assert_non_null(strstr(r.out, "  name:        fx_fail_open\n"));
    assert_null(strstr(r.out, "open/close:  ok"));
    run_free(&r);
}

/* Several files: every one is reported, and one refusal makes the exit non-zero. */
static void test_inspect_mixed(void **state)
{
    (void)state;
    const char *args[] = {"plugins", "inspect", BOURSE_TEST_PLUGIN_DIR "/fx_major.so",
                          BOURSE_TEST_PLUGIN_DIR "/fx_good_venue.so",
                          BOURSE_TEST_PLUGIN_DIR "/fx_not_elf.so", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 1);
    assert_int_equal(count_char(r.err, '\n'), 2);
    assert_non_null(strstr(r.err, "plugin ABI major differs"));
    assert_non_null(strstr(r.err, "not a shared object"));
    assert_non_null(strstr(r.out, "  name:        fx_good_venue\n"));
    run_free(&r);
}

static void test_inspect_by_name(void **state)
{
    (void)state;
    const char *args[] = {"plugins", "inspect", "--path", BOURSE_TEST_PLUGIN_DIR,
                          "fx_good_venue", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, BOURSE_TEST_PLUGIN_DIR "/fx_good_venue.so\n"));
    run_free(&r);
    const char *args2[] = {"plugins", "inspect", "no_such_plugin_xyz", NULL};
    r = run(args2);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "plugin 'no_such_plugin_xyz' not found on the search path"));
    run_free(&r);
}

/* Options after operands; a bare "x.so" in the current directory. */
static void test_inspect_cwd_and_late_option(void **state)
{
    (void)state;
    char old[1024];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(BOURSE_TEST_PLUGIN_DIR), 0);
    const char *args[] = {"plugins", "inspect", "fx_good_venue.so", "fx_good_strategy",
                          "--path", BOURSE_TEST_PLUGIN_DIR, NULL};
    run_result r = run(args);
    assert_int_equal(chdir(old), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "fx_good_venue.so\n  name:        fx_good_venue\n"));
    assert_non_null(strstr(r.out, BOURSE_TEST_PLUGIN_DIR "/fx_good_strategy.so\n"));
    run_free(&r);
}

static void test_list_shadowed(void **state)
{
    (void)state;
    /* The same directory twice collapses to one; BOURSE_PLUGIN_PATH comes after --path. */
    setenv("BOURSE_PLUGIN_PATH", BOURSE_TEST_PLUGIN_DIR, 1);
    const char *args[] = {"plugins", "list", "--path",
                          BOURSE_TEST_PLUGIN_DIR ":" BOURSE_TEST_PLUGIN_DIR "/", NULL};
    run_result r = run(args);
    unsetenv("BOURSE_PLUGIN_PATH");
    assert_int_equal(r.status, 0);
    const char *first = strstr(r.out, "fx_good_venue ");
    assert_non_null(first);
    assert_null(strstr(first + 1, "fx_good_venue "));
    assert_null(strstr(r.out, "shadowed"));
    run_free(&r);

    /* A copy in an earlier directory shadows the fixture: lookup by name takes the first. */
    char dir[1024], copy[1200];
    snprintf(dir, sizeof dir, "%s/tests/plugin/shadow.%ld", BOURSE_BINARY_DIR, (long)getpid());
    snprintf(copy, sizeof copy, "%s/fx_good_venue.so", dir);
    brs_error err = {0};
    assert_int_equal(brs__mkdirs(dir, &err), 0);
    char *data;
    size_t len;
    assert_int_equal(brs__read_file(BOURSE_TEST_PLUGIN_DIR "/fx_good_venue.so", &data, &len, &err), 0);
    assert_int_equal(brs__atomic_write(copy, data, len, &err), 0);
    free(data);
    char paths[2400];
    snprintf(paths, sizeof paths, "%s:%s", dir, BOURSE_TEST_PLUGIN_DIR);
    const char *args2[] = {"plugins", "list", "--path", paths, NULL};
    r = run(args2);
    unlink(copy);
    rmdir(dir);
    assert_int_equal(r.status, 0);
    char want[1400];
    snprintf(want, sizeof want, "%s (shadowed by an earlier directory)\n",
             BOURSE_TEST_PLUGIN_DIR "/fx_good_venue.so");
    assert_non_null(strstr(r.out, copy));
    assert_non_null(strstr(r.out, want));
    run_free(&r);
}

static void test_list(void **state)
{
    (void)state;
    const char *args[] = {"plugins", "list", "--path", BOURSE_TEST_PLUGIN_DIR, NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "fx_good_strategy     strategy  2.3.4"));
    assert_non_null(strstr(r.out, "fx_good_venue        venue     1.0.0"));
    assert_non_null(strstr(r.out, "fx_major.so          refused   BRS_E_ABIMAJOR"));
    assert_non_null(strstr(r.out, "fx_not_elf.so        refused   BRS_E_NOTPLUGIN"));
    /* Every fixture is listed once, one line each (plus whatever else is on the path). */
    assert_true(count_char(r.out, '\n') >= 16);
    run_free(&r);
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *a1[] = {"plugins", NULL};
    const char *a2[] = {"plugins", "frobnicate", NULL};
    const char *a3[] = {"plugins", "inspect", "--bogus", "x.so", NULL};
    const char *a4[] = {"plugins", "inspect", NULL};
    const char *a5[] = {"plugins", "list", "extra", NULL};
    const char *const *bad[] = {a1, a2, a3, a4, a5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_result r = run(bad[i]);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "Try 'bourse plugins --help'."));
        run_free(&r);
    }
    const char *help[] = {"plugins", "--help", NULL};
    run_result r = run(help);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: bourse plugins inspect"));
    run_free(&r);
    const char *help2[] = {"plugins", "inspect", "--help", NULL};
    r = run(help2);
    assert_int_equal(r.status, 0);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inspect_refuses_bad),
        cmocka_unit_test(test_inspect_refuses_libz),
        cmocka_unit_test(test_inspect_good),
        cmocka_unit_test(test_inspect_failing_open),
        cmocka_unit_test(test_inspect_mixed),
        cmocka_unit_test(test_inspect_by_name),
        cmocka_unit_test(test_inspect_cwd_and_late_option),
        cmocka_unit_test(test_list_shadowed),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
