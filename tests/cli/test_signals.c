/* test_signals.c: signals every command shares (issue 19): SIGUSR1 and SIGUSR2
 * do not end `bourse serve` (they used to kill it); SIGTERM still stops it
 * cleanly; `bourse --help` documents which signals do what. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "support/files.h"
#include "support/subprocess.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void test_usr1_does_not_kill_serve(void **state)
{
    (void)state;
    char dir[1024], portf[1100], store[1100], cfg[1100];
    snprintf(dir, sizeof dir, "%s/test-output/cli/signals", BOURSE_BINARY_DIR);
    char cmd[2300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(portf, sizeof portf, "%s/port", dir);
    snprintf(store, sizeof store, "state_dir=\"%s/state\"", dir);
    snprintf(cfg, sizeof cfg, "%s/data/configs/serve.json", BOURSE_SOURCE_DIR);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1);
        dup2(nul, 2);
        execl(BOURSE_BIN, BOURSE_BIN, "serve", cfg, "--set", "listen.port=0", "--set", store,
              "--port-file", portf, (char *)NULL);
        _exit(127);
    }
    /* wait until it listens */
    int up = 0;
    for (int i = 0; i < 200 && !up; i++) {
        char *p = test_read_file(portf, NULL);
        up = p && atoi(p) > 0;
        free(p);
        if (!up)
            sleep_ms(25);
    }
    assert_true(up);
    kill(pid, SIGUSR1);
    kill(pid, SIGUSR2);
    sleep_ms(300);
    int st = 0;
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid)
        fail_msg("serve ended on SIGUSR1/SIGUSR2 (status %d)", st);
    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_help_documents_signals(void **state)
{
    (void)state;
    const char *top[] = {"--help", NULL};
    run_result r = run(top);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "SIGINT"));
    assert_non_null(strstr(r.out, "SIGUSR1"));
    run_free(&r);
    const char *bt[] = {"backtest", "--help", NULL};
    r = run(bt);
    assert_non_null(strstr(r.out, "SIGTERM"));
    assert_non_null(strstr(r.out, "143"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usr1_does_not_kill_serve),
        cmocka_unit_test(test_help_documents_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
