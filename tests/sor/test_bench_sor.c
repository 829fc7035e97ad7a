/* test_bench_sor.c: `bourse bench sor` runs, prints one JSON object with
 * ns_per_decision, counts no allocation in its timed region, and refuses an
 * unknown option with exit 2. --json-out (every benchmark's) writes the JSON of
 * the run whose table it prints. No timing threshold: timings are reported only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "support/subprocess.h"

static void test_json(void **st)
{
    (void)st;
    const char *args[] = {"bench", "sor", "--json", "--quick", NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    cJSON *o = cJSON_Parse(r.out);
    assert_non_null(o);
    const cJSON *ns = cJSON_GetObjectItem(o, "ns_per_decision");
    assert_true(cJSON_IsNumber(ns));
    assert_true(ns->valuedouble > 0);
    assert_int_equal(cJSON_GetObjectItem(o, "venues")->valueint, 5);
    assert_int_equal(cJSON_GetObjectItem(o, "levels")->valueint, 10);
    /* the mixed-lot figures, every decision's included: batches and book by book */
    static const char *const mixed[] = {"ns_per_decision_mixed_lots", "ns_per_decision_mixed_lots_p90",
                                        "ns_per_decision_mixed_lots_p99",
                                        "ns_per_decision_mixed_lots_median_book",
                                        "ns_per_decision_mixed_lots_p90_book",
                                        "ns_per_decision_mixed_lots_p99_book",
                                        "ns_per_decision_mixed_lots_worst_book",
                                        "ns_per_decision_mixed_lots_single_p50",
                                        "ns_per_decision_mixed_lots_single_p99",
                                        "ns_per_decision_mixed_lots_single_max",
                                        "ns_per_decision_mixed_lots_single_p90_book",
                                        "ns_per_decision_mixed_lots_single_worst_book"};
    for (size_t i = 0; i < sizeof mixed / sizeof mixed[0]; i++) {
        const cJSON *x = cJSON_GetObjectItem(o, mixed[i]);
        assert_true(cJSON_IsNumber(x));
        assert_true(x->valuedouble > 0);
    }
    assert_true(cJSON_GetObjectItem(o, "ns_per_decision_mixed_lots_worst_book")->valuedouble >=
                cJSON_GetObjectItem(o, "ns_per_decision_mixed_lots_p90_book")->valuedouble);
    /* decision by decision: the max of all is at least the slowest book's median */
    assert_true(cJSON_GetObjectItem(o, "ns_per_decision_mixed_lots_single_max")->valuedouble >=
                cJSON_GetObjectItem(o, "ns_per_decision_mixed_lots_single_worst_book")->valuedouble);
    /* what a sample is, and the sizes it names */
    assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "samples")));
    assert_int_equal(cJSON_GetObjectItem(o, "books")->valueint, 64);
    assert_int_equal(cJSON_GetObjectItem(o, "mixed_lots_single_decisions")->valueint,
                     64 * 11); /* --quick: 11 rounds over the 64 books */
    assert_true(cJSON_GetObjectItem(o, "batch_decisions")->valueint > 0);
    assert_true(cJSON_GetObjectItem(o, "mixed_lots_batch_decisions")->valueint > 0);
    assert_true(cJSON_GetObjectItem(o, "mixed_lots_book_batch_decisions")->valueint > 0);
    assert_true(cJSON_GetObjectItem(o, "mixed_lots_book_batches")->valueint > 0);
    const cJSON *al = cJSON_GetObjectItem(o, "allocs_in_timed_region");
    assert_true(cJSON_IsNumber(al));
    assert_true(al->valuedouble <= 0); /* 0, or -1 when counting is unavailable */
    cJSON_Delete(o);
    run_free(&r);
}

/* One run, both outputs: the table on stdout and the same median in FILE. */
static void test_json_out(void **st)
{
    (void)st;
    char path[64];
    snprintf(path, sizeof path, "/tmp/brs_bench_sor_%d.json", (int)getpid());
    const char *args[] = {"bench", "sor", "--quick", "--json-out", path, NULL};
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    const char *med = strstr(r.out, "uniform lots (greedy, exact): median ");
    assert_non_null(med);
    long shown = strtol(med + strlen("uniform lots (greedy, exact): median "), NULL, 10);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[4096] = {0};
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    unlink(path);
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    const cJSON *ns = cJSON_GetObjectItem(o, "ns_per_decision");
    assert_true(cJSON_IsNumber(ns));
    char want[32];
    snprintf(want, sizeof want, "%.0f", ns->valuedouble);
    assert_int_equal(shown, strtol(want, NULL, 10)); /* the same run, not another */
    cJSON_Delete(o);
    run_free(&r);
    /* an unwritable FILE fails the command; a missing one is a usage error */
    const char *bad[] = {"bench", "sor", "--quick", "--json-out", "/nonexistent-dir/x.json", NULL};
    r = run(bad);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/nonexistent-dir/x.json"));
    run_free(&r);
    const char *none[] = {"bench", "sor", "--json-out", NULL};
    r = run(none);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

static void test_usage(void **st)
{
    (void)st;
    const char *bad[] = {"bench", "sor", "--nope", NULL};
    run_result r = run(bad);
    assert_int_equal(r.status, 2);
    run_free(&r);
    const char *help[] = {"bench", "sor", "--help", NULL};
    r = run(help);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: bourse bench sor"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_json), cmocka_unit_test(test_json_out),
                                       cmocka_unit_test(test_usage)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
