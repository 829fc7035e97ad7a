/* test_log.c: the logging facility: text and JSON lines (cJSON parses every
 * JSON line back), quoting, level filtering, argv handling, file reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "core/core.h"
#include "core/log.h"

static char path[256];

__attribute__((noinline)) static char *slurp(void)
{
    char *data = NULL;
    size_t len = 0;
    brs_error err = {0};
    assert_int_equal(brs__read_file(path, &data, &len, &err), 0);
    return data;
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/brs-test-log-%d.log", (int)getpid());
    unlink(path);
    return 0;
}

static void test_text_line(void **state)
{
    (void)state;
    brs_error err = {0};
    assert_int_equal(brs__log_setup(BRS_LOG_INFO, BRS_LOG_TEXT, path, &err), 0);
    BRS_LOG(BRS_LOG_INFO, "fix", "session logged on", BRS_KV_S("session", "CLIENT1"), BRS_KV_I("seq", -5),
            BRS_KV_S("text", "has space \"q\""), BRS_KV_S("empty", ""), BRS_KV_F("lat", 0.25), BRS_KV_B("tls", 1));
    BRS_LOG(BRS_LOG_DEBUG, "fix", "not shown", BRS_KV_I("n", 1));
    BRS_LOG0(BRS_LOG_WARN, "core", "plain");
    char *s = slurp();
    /* 2026-12-06T11:03:56.123456Z INFO  fix: ... */
    assert_int_equal(s[4], '-');
    assert_int_equal(s[10], 'T');
    assert_int_equal(s[26], 'Z');
    assert_non_null(strstr(s, " INFO  fix: session logged on session=CLIENT1 seq=-5 "
                              "text=\"has space \\\"q\\\"\" empty=\"\" lat=0.25 tls=true\n"));
    assert_null(strstr(s, "not shown"));
    assert_non_null(strstr(s, " WARN  core: plain\n"));
    free(s);
    unlink(path);
}

static void test_json_line(void **state)
{
    (void)state;
    brs_error err = {0};
    assert_int_equal(brs__log_setup(BRS_LOG_DEBUG, BRS_LOG_JSON, path, &err), 0);
    BRS_LOG(BRS_LOG_ERROR, "store", "fsync failed", BRS_KV_S("path", "a\nb\x01"), BRS_KV_U("bytes", 42),
            BRS_KV_F("nan", 0.0 / 0.0));
    char big[9000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    BRS_LOG(BRS_LOG_INFO, "x", "long", BRS_KV_S("v", big));
    char *s = slurp();
    char *nl = strchr(s, '\n');
    assert_non_null(nl);
    *nl = 0;
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "error");
    assert_string_equal(cJSON_GetObjectItem(j, "component")->valuestring, "store");
    assert_string_equal(cJSON_GetObjectItem(j, "path")->valuestring, "a\nb\x01");
    assert_int_equal((int)cJSON_GetObjectItem(j, "bytes")->valuedouble, 42);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "nan")));
    assert_int_equal(strlen(cJSON_GetObjectItem(j, "ts")->valuestring), 27);
    cJSON_Delete(j);
    /* a line longer than the buffer is cut and stays valid JSON */
    char *second = nl + 1;
    nl = strchr(second, '\n');
    assert_non_null(nl);
    *nl = 0;
    assert_true(strlen(second) < 4200);
    j = cJSON_Parse(second);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "cut")));
    cJSON_Delete(j);
    free(s);
    unlink(path);
}

static void test_take_args_and_reopen(void **state)
{
    (void)state;
    char a0[] = "bourse", a1[] = "--log-level", a2[] = "warn", a3[] = "serve", a5[] = "cfg.json", a6[] = "--", a7[] = "--log-level=debug";
    char a4[300];
    snprintf(a4, sizeof a4, "--log-file=%s", path);
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, NULL};
    int argc = 8;
    assert_int_equal(brs__log_take_args(&argc, argv), 0);
    assert_int_equal(argc, 5);
    assert_string_equal(argv[1], "serve");
    assert_string_equal(argv[2], "cfg.json");
    assert_string_equal(argv[3], "--");
    assert_string_equal(argv[4], "--log-level=debug"); /* after --: the command's */
    assert_null(argv[5]);
    assert_false(brs__log_on(BRS_LOG_INFO));
    assert_true(brs__log_on(BRS_LOG_WARN));
    /* logrotate moves the file; SIGHUP's reopen writes to a new one */
    char moved[300];
    snprintf(moved, sizeof moved, "%s.1", path);
    BRS_LOG0(BRS_LOG_WARN, "t", "before");
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(brs__log_reopen(), 0);
    BRS_LOG0(BRS_LOG_WARN, "t", "after");
    char *s = slurp();
    assert_null(strstr(s, "before"));
    assert_non_null(strstr(s, "after"));
    free(s);
    unlink(path);
    unlink(moved);

    char b0[] = "bourse", b1[] = "--log-format", b2[] = "yaml";
    char *bad[] = {b0, b1, b2, NULL};
    argc = 3;
    assert_int_equal(brs__log_take_args(&argc, bad), BRS_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_text_line, setup),
        cmocka_unit_test_setup(test_json_line, setup),
        cmocka_unit_test_setup(test_take_args_and_reopen, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
