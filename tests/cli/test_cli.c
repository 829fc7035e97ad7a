/* test_cli.c: the `bourse` front end as a subprocess: --version names the ABI,
 * --help lists every command, every command answers --help, and an unknown
 * command or option is a clear error with exit code 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <bourse/version.h>

#include "cli/cli.h"
#include "support/subprocess.h"

static void test_version(void **state)
{
    (void)state;
    const char *args[] = {"--version", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    char want[128];
    snprintf(want, sizeof want, "bourse %s (plugin ABI %d.%d)\n", BRS_VERSION_STRING,
             BRS_ABI_MAJOR, BRS_ABI_MINOR);
    assert_string_equal(r.out, want);
    run_free(&r);
}

static void test_help_lists_every_command(void **state)
{
    (void)state;
    const char *args[] = {"--help", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    for (size_t i = 0; i < brs__n_commands; i++) {
        char line[128];
        snprintf(line, sizeof line, "  %-10s %s\n", brs__commands[i].name,
                 brs__commands[i].summary);
        assert_non_null(strstr(r.out, line));
    }
    run_free(&r);
}

static void test_every_command_has_help(void **state)
{
    (void)state;
    for (size_t i = 0; i < brs__n_commands; i++) {
        const char *args[] = {brs__commands[i].name, "--help", NULL};
        run_result r = run(args);
        if (r.status != 0 || !strstr(r.out, brs__commands[i].name) || r.err[0])
            fail_msg("bourse %s --help: exit %d, stdout \"%s\"", brs__commands[i].name,
                     r.status, r.out);
        run_free(&r);
    }
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    const char *none[] = {NULL};
    run_result r = run(none);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage: bourse"));
    run_free(&r);

    const char *cmd[] = {"frobnicate", NULL};
    r = run(cmd);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "bourse: unknown command 'frobnicate'\nTry 'bourse --help'.\n");
    run_free(&r);

    const char *opt[] = {"--frobnicate", NULL};
    r = run(opt);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "bourse: unknown option '--frobnicate'"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_help_lists_every_command),
        cmocka_unit_test(test_every_command_has_help),
        cmocka_unit_test(test_usage_errors_exit_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
