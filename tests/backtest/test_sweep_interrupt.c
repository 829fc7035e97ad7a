/* test_sweep_interrupt.c: a sweep interrupted at random moments (SIGINT or
 * SIGTERM, to the sweep alone or to its whole process group as Ctrl-C does,
 * 20 trials) never leaves a .tmp file or a run folder without summary.json;
 * what finished is in results.csv, marked incomplete in sweep.json; and
 * `--resume` completes it to exactly the table of an uninterrupted sweep. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ftw.h>
#include <time.h>

#include <cmocka.h>

#define BT_SUBDIR "sweep_interrupt"
#include "bt_util.h"
#include "support/subprocess.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Start bourse with args in its own process group; stdout/stderr to a file. */
static pid_t start(const char *const *args, const char *log)
{
    const char *argv[40];
    int n = 0;
    argv[n++] = BOURSE_BIN;
    for (; *args; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        FILE *f = fopen(log, "w");
        if (f) {
            dup2(fileno(f), 1);
            dup2(fileno(f), 2);
        }
        execv(BOURSE_BIN, (char *const *)argv);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

/* Every file and folder under dir: no *.tmp*, every folder has summary.json. */
static void check_tree(const char *dir, int top, int *n_runs)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (strstr(e->d_name, ".tmp"))
            fail_msg("left behind: %s", p);
        if (strstr(e->d_name, ".log"))
            fail_msg("a log file: %s", p);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            char s[2100];
            snprintf(s, sizeof s, "%s/summary.json", p);
            if (top && access(s, R_OK) != 0)
                fail_msg("run folder without summary.json: %s", p);
            (*n_runs)++;
            check_tree(p, 0, n_runs);
        }
    }
    closedir(d);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)f;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = test_read_file(a, &la), *y = test_read_file(b, &lb);
    assert_non_null(x);
    assert_non_null(y);
    if (la != lb || memcmp(x, y, la))
        fail_msg("%s and %s differ", a, b);
    free(x);
    free(y);
}

static void test_interrupt_20(void **state)
{
    (void)state;
    bt_bar b[600];
    uint64_t seed = 5;
    double p = 100;
    for (int i = 0; i < 600; i++) {
        seed = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        double u = (double)(seed >> 11) / 9007199254740992.0;
        double o = p;
        p = round(p * (1 + (u - 0.49) * 0.04) * 100) / 100;
        b[i] = (bt_bar){.open = o, .close = p};
    }
    bt_write_csv(bt_path("bars.csv"), b, 600);
    char json[1024];
    snprintf(json, sizeof json,
             "{\"mode\": \"signal\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"}}",
             bt_path("bars.csv"), BOURSE_SOURCE_DIR "/strategies-lua/ma_cross.lua");
    bt_write(bt_path("cfg.json"), json);
    char ref[1100];
    snprintf(ref, sizeof ref, "%s", bt_path("reference"));
    nftw(ref, rm_one, 16, FTW_DEPTH | FTW_PHYS);
#ifdef BOURSE_SANITIZE /* every run is 10-30x slower: a smaller grid, the same trials */
#define FAST "fast=2:20:3"
#define SLOW "slow=10:60:10"
#else
#define FAST "fast=2:40:2"
#define SLOW "slow=10:120:5"
#endif
#define SWEEP_ARGS(out)                                                                        \
    "sweep", bt_path("cfg.json"), "--grid", FAST, "--grid", SLOW, "--where", "fast < slow",     \
        "--jobs", "2", "--out", (out), "--quiet"
    const char *a_ref[] = {SWEEP_ARGS(ref), NULL};
    double t0 = now_s();
    run_result r = run(a_ref);
    double span = now_s() - t0;
    if (r.status)
        fail_msg("reference sweep: exit %d: %s", r.status, r.err);
    run_free(&r);
    char ref_csv[1200], ref_json[1200];
    snprintf(ref_csv, sizeof ref_csv, "%s/results.csv", ref);
    snprintf(ref_json, sizeof ref_json, "%s/results.json", ref);

    uint64_t rng = 20261206;
    int interrupted = 0, resumed_dir = 0;
    for (int t = 0; t < 20; t++) {
        char out[1100], log[1100];
        snprintf(out, sizeof out, "%s-%02d", bt_path("trial"), t);
        snprintf(log, sizeof log, "%s-%02d.log.txt", bt_path("trial"), t);
        nftw(out, rm_one, 16, FTW_DEPTH | FTW_PHYS); /* an earlier run's folder */
        const char *a[] = {SWEEP_ARGS(out), NULL};
        rng = rng * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        double u = (double)(rng >> 11) / 9007199254740992.0;
        double delay = u * span * 1.1; /* anywhere in the run, including its very start and end */
        int sig = t % 4 == 3 ? SIGTERM : SIGINT;
        int group = t % 2; /* Ctrl-C reaches every process of the group */
        pid_t pid = start(a, log);
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(group ? -pid : pid, sig);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        /* finished (0), stopped and reported (130/143), or killed before it set up its
         * handlers (by the signal itself, having written nothing) */
        if (code != 0 && code != 128 + sig)
            fail_msg("trial %d: exit %d after %.3f s", t, code, delay);
        int n_runs = 0;
        check_tree(out, 1, &n_runs);
        char mf[1200];
        snprintf(mf, sizeof mf, "%s/sweep.json", out);
        char *m = test_read_file(mf, NULL);
        if (WIFSIGNALED(st) && m && !strstr(m, "\"complete\""))
            fail_msg("trial %d: killed by the signal with an incomplete sweep on disk", t);
        if (m && strstr(m, "\"incomplete\"")) {
            interrupted++;
            /* the rows written are the runs that finished */
            cJSON *j = cJSON_Parse(m);
            int done = (int)cJSON_GetObjectItem(j, "done")->valuedouble;
            cJSON_Delete(j);
            char csv[1200];
            snprintf(csv, sizeof csv, "%s/results.csv", out);
            if (access(csv, R_OK) == 0)
                assert_int_equal(bt_csv_rows(csv), done);
        }
        free(m);
        /* finish it: `--resume DIR` when the manifest is there, else the command again */
        run_result rr;
        if (access(mf, R_OK) == 0) {
            const char *res[] = {"sweep", "--resume", out, "--jobs", "2", "--quiet", NULL};
            rr = run(res);
            resumed_dir++;
        } else {
            const char *res[] = {SWEEP_ARGS(out), "--resume", NULL};
            rr = run(res);
        }
        if (rr.status)
            fail_msg("trial %d: resume: exit %d: %s", t, rr.status, rr.err);
        run_free(&rr);
        char csv[1200], js[1200];
        snprintf(csv, sizeof csv, "%s/results.csv", out);
        snprintf(js, sizeof js, "%s/results.json", out);
        same_file(ref_csv, csv);
        same_file(ref_json, js);
        m = test_read_file(mf, NULL);
        assert_non_null(m);
        assert_non_null(strstr(m, "\"complete\""));
        free(m);
        n_runs = 0;
        check_tree(out, 1, &n_runs);
        assert_int_equal(n_runs, 10); /* the default: the best 10 get a run folder */
    }
    /* the random moments did hit runs in progress */
    print_message("%d of 20 trials interrupted mid-sweep, %d resumed from the folder\n", interrupted,
                  resumed_dir);
    assert_true(interrupted >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_interrupt_20)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
