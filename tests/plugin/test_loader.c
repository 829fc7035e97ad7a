/* test_loader.c: the plugin loader through its C API: every fixture refused
 * with its exact code and a message naming the file and the problem; good
 * plugins load, open and close; xClose runs exactly once even after a failed
 * xOpen; names resolve on the search path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cases.h"
#include "core/core.h"
#include "plugin/loader.h"

static void fixture(char *buf, size_t cap, const char *file)
{
    snprintf(buf, cap, "%s/%s", BOURSE_TEST_PLUGIN_DIR, file);
}

static void assert_zeroed(const brs_plugin *p)
{
    assert_null(p->handle);
    assert_null(p->path);
    assert_null(p->desc);
}

static void test_bad_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
        char path[1024];
        fixture(path, sizeof path, load_cases[i].file);
        brs_plugin p;
        brs_error err = {0};
        int rc = brs__plugin_load(&p, path, &err);
        if (rc != load_cases[i].code || !strstr(err.msg, load_cases[i].says) ||
            strncmp(err.msg, path, strlen(path)) != 0 || strchr(err.msg, '\n'))
            fail_msg("%s: got %s \"%s\", want %s containing \"%s\"", load_cases[i].file,
                     brs_err_name(rc), err.msg, brs_err_name(load_cases[i].code),
                     load_cases[i].says);
        assert_int_equal(err.code, rc);
        assert_zeroed(&p);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    brs_plugin p;
    brs_error err = {0};
    assert_int_equal(brs__plugin_load(&p, BOURSE_TEST_PLUGIN_DIR "/nope.so", &err),
                     BRS_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "nope.so: no such file"));
    assert_int_equal(brs__plugin_load(&p, BOURSE_TEST_PLUGIN_DIR, &err), BRS_E_NOTPLUGIN);
}

static void test_system_libz(void **state)
{
    (void)state;
    const char *z = system_libz();
    if (!z) {
        printf("skipped: no system libz.so.1 found\n");
        skip();
    }
    brs_plugin p;
    brs_error err = {0};
    assert_int_equal(brs__plugin_load(&p, z, &err), BRS_E_NOTPLUGIN);
    assert_non_null(strstr(err.msg, z));
    assert_non_null(strstr(err.msg, "no brs_plugin_entry symbol"));
    assert_zeroed(&p);
}

static char marker[256];

static int count_lines(const char *needle)
{
    FILE *f = fopen(marker, "r");
    if (!f)
        return 0;
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

static int setup_marker(void **state)
{
    (void)state;
    snprintf(marker, sizeof marker, "%s/tests/plugin/close_marker.%ld", BOURSE_BINARY_DIR,
             (long)getpid());
    unlink(marker);
    setenv("BRS_FIXTURE_CLOSE_MARKER", marker, 1);
    return 0;
}

static int teardown_marker(void **state)
{
    (void)state;
    unlink(marker);
    unsetenv("BRS_FIXTURE_CLOSE_MARKER");
    return 0;
}

static void test_good_strategy(void **state)
{
    (void)state;
    char path[1024];
    fixture(path, sizeof path, "fx_good_strategy.so");
    brs_plugin p;
    brs_error err = {0};
    assert_int_equal(brs__plugin_load(&p, path, &err), BRS_OK);
    assert_string_equal(p.desc->name, "fx_good_strategy");
    assert_string_equal(p.desc->version, "2.3.4");
    assert_int_equal(p.desc->kind, BRS_KIND_STRATEGY);
    assert_string_equal(p.path, path);
    assert_non_null(brs__plugin_strategy(&p));
    assert_null(brs__plugin_venue(&p));
    assert_int_equal(brs__plugin_strategy(&p)->subscriptions, BRS_SUB_TOP | BRS_SUB_TRADES);

    brs_plugin_instance inst;
    assert_int_equal(
        brs__plugin_instance_open(&inst, &p, brs__plugin_inspect_host(), NULL, &err), BRS_OK);
    assert_non_null(inst.self);
    assert_int_equal(inst.opened, 1);
    assert_int_equal(count_lines("fx_good_strategy closed"), 0);
    brs_top top = {0};
    assert_int_equal(brs__plugin_strategy(&p)->xOnTop(inst.self, &top), BRS_OK);
    brs__plugin_instance_close(&inst);
    assert_int_equal(count_lines("fx_good_strategy closed"), 1);
    brs__plugin_instance_close(&inst); /* a second close is a no-op */
    assert_int_equal(count_lines("fx_good_strategy closed"), 1);
    brs__plugin_unload(&p);
    assert_zeroed(&p);
    brs__plugin_unload(&p);
}

static void test_good_venue(void **state)
{
    (void)state;
    char path[1024];
    fixture(path, sizeof path, "fx_good_venue.so");
    brs_plugin p;
    brs_error err = {0};
    assert_int_equal(brs__plugin_load(&p, path, &err), BRS_OK);
    assert_int_equal(p.desc->kind, BRS_KIND_VENUE);
    const brs_venue_vtable *vt = brs__plugin_venue(&p);
    assert_non_null(vt);
    brs_plugin_instance inst;
    assert_int_equal(
        brs__plugin_instance_open(&inst, &p, brs__plugin_inspect_host(), NULL, &err), BRS_OK);
    /* The inspect host refuses trading services; the venue passes that on. */
    brs_order o = {.id = 7, .qty = 1, .price = 100};
    assert_int_equal(vt->xSubmit(inst.self, &o), BRS_E_STATE);
    brs__plugin_instance_close(&inst);
    assert_int_equal(count_lines("fx_good_venue closed"), 1);
    brs__plugin_unload(&p);
}

static void test_failing_open(void **state)
{
    (void)state;
    char path[1024];
    fixture(path, sizeof path, "fx_fail_open.so");
    brs_plugin p;
    brs_error err = {0};
    assert_int_equal(brs__plugin_load(&p, path, &err), BRS_OK);
    brs_plugin_instance inst;
    int rc = brs__plugin_instance_open(&inst, &p, brs__plugin_inspect_host(), NULL, &err);
    assert_int_equal(rc, BRS_E_PLUGINOPEN);
    assert_int_equal(err.code, BRS_E_PLUGINOPEN);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "failed to open"));
    assert_non_null(strstr(err.msg, "cannot reach the exchange: connection refused (fixture)"));
    assert_non_null(strstr(err.msg, "BRS_E_IO"));
    /* xClose ran exactly once, and the instance is back to zero. */
    assert_int_equal(count_lines("fx_fail_open closed"), 1);
    assert_null(inst.self);
    assert_int_equal(inst.opened, 0);
    brs__plugin_instance_close(&inst);
    assert_int_equal(count_lines("fx_fail_open closed"), 1);
    brs__plugin_unload(&p);
}

static void test_find(void **state)
{
    (void)state;
    char out[1024];
    brs_error err = {0};
    unsetenv("BOURSE_PLUGIN_PATH");
    /* By name, from the config path list. */
    assert_int_equal(brs__plugin_find("fx_good_venue", "/nonexistent:" BOURSE_TEST_PLUGIN_DIR,
                                      out, sizeof out, &err),
                     BRS_OK);
    assert_string_equal(out, BOURSE_TEST_PLUGIN_DIR "/fx_good_venue.so");
    assert_int_equal(
        brs__plugin_find("fx_good_venue.so", BOURSE_TEST_PLUGIN_DIR, out, sizeof out, &err),
        BRS_OK);
    /* By name, from BOURSE_PLUGIN_PATH. */
    setenv("BOURSE_PLUGIN_PATH", "/nonexistent::" BOURSE_TEST_PLUGIN_DIR, 1);
    assert_int_equal(brs__plugin_find("fx_good_strategy", NULL, out, sizeof out, &err), BRS_OK);
    assert_string_equal(out, BOURSE_TEST_PLUGIN_DIR "/fx_good_strategy.so");
    /* Not found: the message names the name and the directories searched. */
    assert_int_equal(brs__plugin_find("no_such_plugin", "/some/dir", out, sizeof out, &err),
                     BRS_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "'no_such_plugin'"));
    assert_non_null(strstr(err.msg, "/some/dir"));
    assert_non_null(strstr(err.msg, BOURSE_TEST_PLUGIN_DIR));
    unsetenv("BOURSE_PLUGIN_PATH");
    /* A path is taken as is, if it exists. */
    assert_int_equal(brs__plugin_find(BOURSE_TEST_PLUGIN_DIR "/fx_major.so", NULL, out,
                                      sizeof out, &err),
                     BRS_OK);
    assert_int_equal(brs__plugin_find("./nope/x.so", NULL, out, sizeof out, &err),
                     BRS_E_NOTFOUND);
    assert_int_equal(brs__plugin_find("fx_good_venue", BOURSE_TEST_PLUGIN_DIR, out, 8, &err),
                     BRS_E_RANGE);
    /* The search path has the config dirs first, then the env, no duplicates. */
    setenv("BOURSE_PLUGIN_PATH", "/b:/a", 1);
    brs_plugin_dirs d;
    assert_int_equal(brs__plugin_dirs_get(&d, "/a:/c/", &err), BRS_OK);
    assert_true(d.n >= 4);
    assert_string_equal(d.dir[0], "/a");
    assert_string_equal(d.dir[1], "/c");
    assert_string_equal(d.dir[2], "/b");
    assert_non_null(strstr(d.dir[3], "/plugins"));
    brs__plugin_dirs_free(&d);
    unsetenv("BOURSE_PLUGIN_PATH");
}

static void test_inspect_host(void **state)
{
    (void)state;
    const brs_host *h = brs__plugin_inspect_host();
    assert_int_equal(h->size, sizeof(brs_host));
    assert_int_equal(h->abi_major, BRS_ABI_MAJOR);
    assert_int_equal(h->abi_minor, BRS_ABI_MINOR);
    assert_true(h->xNow(NULL) > 1500000000LL * 1000000000LL);
    int64_t v;
    assert_int_equal(h->xParamInt(NULL, "x", &v), BRS_E_NOTFOUND);
    uint64_t id;
    brs_order o = {0};
    assert_int_equal(h->xSubmit(NULL, &o, &id), BRS_E_STATE);
    assert_true(BRS_HOST_HAS(h, xEmitMarketEvent));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_fixtures),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_system_libz),
        cmocka_unit_test_setup_teardown(test_good_strategy, setup_marker, teardown_marker),
        cmocka_unit_test_setup_teardown(test_good_venue, setup_marker, teardown_marker),
        cmocka_unit_test_setup_teardown(test_failing_open, setup_marker, teardown_marker),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_inspect_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
