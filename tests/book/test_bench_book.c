/* test_bench_book.c: `bourse bench book` as a user runs it: help, usage errors,
 * a damaged feed named by file and line, and the --json shape on a small feed
 * written by the test (the real QuantCup feed is exercised when present). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

/* Runs cmd through the shell; returns the exit code, output in buf. */
static int run(const char *cmd, char *buf, size_t len)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(buf, 1, len - 1, p);
    buf[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/brs_bench_book_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_help_and_usage(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run(BOURSE_BIN " bench book --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "quantcup"));
    assert_int_equal(run(BOURSE_BIN " bench book --bogus 2>&1", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown option"));
    assert_int_equal(run(BOURSE_BIN " bench book --runs 0 2>&1", out, sizeof out), 2);
    assert_int_equal(run(BOURSE_BIN " bench book --workload nope 2>&1", out, sizeof out), 2);
}

static void test_bad_feed(void **state)
{
    (void)state;
    char path[128], cmd[512], out[8192];
    write_file("bad.csv", "symbol,trader,side,price,size\nSYM,T1,0,100,5\nSYM,T2,7,100,5\n", path, sizeof path);
    snprintf(cmd, sizeof cmd, BOURSE_BIN " bench book --workload quantcup --feed %s 2>&1", path);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "bad.csv:3"));
    assert_non_null(strstr(out, "side"));
    snprintf(cmd, sizeof cmd, BOURSE_BIN " bench book --workload quantcup --feed %s/missing.csv 2>&1", dir);
    assert_int_equal(run(cmd, out, sizeof out), 1);
}

static void test_json_small_feed(void **state)
{
    (void)state;
    /* Two sells, a buy that takes both and rests, cancels of a live and an unknown id. */
    char path[128], cmd[512], out[8192];
    write_file("small.csv",
               "symbol,trader,side,price,size\nSYM,A,1,101,5\nSYM,B,1,102,5\nSYM,C,0,103,12\n"
               "SYM,C,0,0,3\nSYM,C,0,0,99\nSYM,D,0,100,4\n",
               path, sizeof path);
    snprintf(cmd, sizeof cmd, BOURSE_BIN " bench book --workload quantcup --feed %s --runs 1 --json", path);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    cJSON *root = cJSON_Parse(out);
    assert_non_null(root);
    cJSON *arr = cJSON_GetObjectItem(root, "workloads");
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), 1);
    cJSON *w = cJSON_GetArrayItem(arr, 0);
    assert_string_equal(cJSON_GetObjectItem(w, "workload")->valuestring, "quantcup");
    const char *keys[] = {"ns_per_msg", "msgs_per_sec", "p50_ns", "p99_ns", "p999_ns", "bytes_per_order", "allocs"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(w, keys[i])));
    assert_true(cJSON_GetObjectItem(w, "ns_per_msg")->valuedouble > 0);
    assert_true(cJSON_GetObjectItem(w, "bytes_per_order")->valuedouble >= 64);
#ifdef BOURSE_SANITIZE
    assert_true(cJSON_GetObjectItem(w, "allocs")->valuedouble <= 0); /* -1: not countable */
#else
    assert_true(cJSON_GetObjectItem(w, "allocs")->valuedouble == 0);
#endif
    assert_null(cJSON_GetObjectItem(w, "kinds"));
    cJSON_Delete(root);

    /* --kinds: every operation of each replay timed (200 replays), by what it
     * was and what it reported: the six rows are five classes (the first sell
     * and the last buy both rest at the top). */
    snprintf(cmd, sizeof cmd, BOURSE_BIN " bench book --workload quantcup --feed %s --runs 1 --kinds --json", path);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    root = cJSON_Parse(out);
    assert_non_null(root);
    cJSON *kinds = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "workloads"), 0), "kinds");
    assert_true(cJSON_IsArray(kinds));
    assert_int_equal(cJSON_GetArraySize(kinds), 5);
    int taker = 0, unknown = 0, n = 0;
    for (int i = 0; i < 5; i++) {
        cJSON *k = cJSON_GetArrayItem(kinds, i);
        n += (int)cJSON_GetObjectItem(k, "n")->valuedouble;
        const char *kind = cJSON_GetObjectItem(k, "kind")->valuestring;
        int fills = (int)cJSON_GetObjectItem(k, "fills")->valuedouble;
        int levels = (int)cJSON_GetObjectItem(k, "levels")->valuedouble;
        int top = cJSON_IsTrue(cJSON_GetObjectItem(k, "top"));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(k, "p99_ns")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(k, "above_150ns")));
        /* the buy that takes both sells (two levels emptied) and rests: three level events */
        taker += strcmp(kind, "submit") == 0 && fills == 2 && levels == 3 && top;
        /* the cancel of id 99: a reject, nothing else */
        unknown += strcmp(kind, "cancel") == 0 && fills == 0 && levels == 0 && !top;
    }
    assert_int_equal(taker, 1);
    assert_int_equal(unknown, 1);
    assert_int_equal(n, 6 * 200);
    cJSON_Delete(root);
}

static void test_real_feed(void **state)
{
    (void)state;
    const char *feed = BOURSE_SHARED_DIR "/bench/quantcup_feed.csv";
    if (access(feed, R_OK) != 0) {
        printf("skipped: %s not found\n", feed);
        skip();
    }
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd, BOURSE_BIN " bench book --workload quantcup --feed %s --runs 1", feed);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    /* The feed's replay is deterministic: 16,881 fills per replay. */
    assert_non_null(strstr(out, "16881 fills/replay"));
}

/* far: a million levels outside the window, inserted and cancelled; the JSON
 * carries the first/last 100k figures, and nothing allocates once the tree has
 * grown (the timings themselves are for people, not asserted). */
static void test_far_workload(void **state)
{
    (void)state;
    static char out[8192];
    assert_int_equal(run(BOURSE_BIN " bench book --workload far --runs 1 --json", out, sizeof out), 0);
    cJSON *root = cJSON_Parse(out);
    assert_non_null(root);
    cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "workloads"), 0);
    assert_non_null(w);
    assert_string_equal(cJSON_GetObjectItem(w, "workload")->valuestring, "far");
    assert_true(cJSON_GetObjectItem(w, "levels")->valuedouble >= 1000000);
    const char *keys[] = {"insert_ns_first_100k", "insert_ns_last_100k", "insert_last_over_first",
                          "cancel_ns_first_100k", "cancel_ns_last_100k", "cancel_last_over_first"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(cJSON_GetObjectItem(w, keys[i])->valuedouble > 0);
#ifndef BOURSE_SANITIZE
    assert_true(cJSON_GetObjectItem(w, "allocs")->valuedouble == 0);
#endif
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_bad_feed),
        cmocka_unit_test(test_json_small_feed),
        cmocka_unit_test(test_real_feed),
        cmocka_unit_test(test_far_workload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
