/* test_clock.c: ISO-8601 parsing and formatting against values worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void test_parse(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(brs__parse_time("1970-01-01", &ns), 0);
    assert_int_equal(ns, 0);
    /* 2012-06-21 is day 15512 since the epoch; 09:30 adds 34200 s. */
    assert_int_equal(brs__parse_time("2012-06-21T09:30:00.5Z", &ns), 0);
    assert_int_equal(ns, (15512LL * 86400 + 34200) * 1000000000LL + 500000000LL);
    assert_int_equal(brs__parse_time("2000-03-01", &ns), 0);
    assert_int_equal(ns, 11017LL * 86400 * 1000000000LL);
    assert_int_equal(brs__parse_time("123456789", &ns), 0);
    assert_int_equal(ns, 123456789);
    assert_int_equal(brs__parse_time("2012-13-01", &ns), BRS_E_PARSE);
    assert_int_equal(brs__parse_time("2012-06-21Tnoon", &ns), BRS_E_PARSE);
    assert_int_equal(brs__parse_time("", &ns), BRS_E_PARSE);
    /* int64 ns hold 1677-09-21 .. 2262-04-11; beyond is refused, not wrapped
     * (the import fuzz target found the overflow) */
    assert_int_equal(brs__parse_time("2262-04-11", &ns), 0);
    assert_int_equal(brs__parse_time("2262-04-12", &ns), BRS_E_RANGE);
    assert_int_equal(brs__parse_time("1000-01-01", &ns), BRS_E_RANGE);
    assert_int_equal(brs__parse_time("1677-09-22", &ns), 0);
    assert_true(ns < 0);
    assert_int_equal(brs__parse_time("99999999999999999999", &ns), BRS_E_RANGE);
}

static void test_format_roundtrip(void **state)
{
    (void)state;
    char buf[40];
    int64_t ns = (15512LL * 86400 + 34200) * 1000000000LL + 123456789LL;
    brs__format_time(ns, buf, sizeof buf);
    assert_string_equal(buf, "2012-06-21T09:30:00.123456789Z");
    int64_t back;
    assert_int_equal(brs__parse_time(buf, &back), 0);
    assert_int_equal(back, ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
