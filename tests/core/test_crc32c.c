/* test_crc32c.c: CRC-32C against its standard check value and known vectors
 * (RFC 3720 B.4: 32 zero bytes 0x8A9136AA, 32 bytes 0xFF 0x62A8AB43, 0..31
 * ascending 0x46DD794E), the table walk and the instruction equal on every
 * length and alignment, and a continued CRC equal to the whole one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/crc32c.h"

static void test_check_values(void **state)
{
    (void)state;
    assert_int_equal(brs__crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(brs__crc32c_sw(0, "123456789", 9), 0xE3069283u);
    unsigned char b[32];
    memset(b, 0, sizeof b);
    assert_int_equal(brs__crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof b);
    assert_int_equal(brs__crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    assert_int_equal(brs__crc32c(0, b, 32), 0x46DD794Eu);
    assert_int_equal(brs__crc32c_sw(0, b, 32), 0x46DD794Eu);
    assert_int_equal(brs__crc32c(0, b, 0), 0);
}

static void test_sw_equals_hw_and_continues(void **state)
{
    (void)state;
    unsigned char buf[600];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += 1 + n / 16) {
            uint32_t whole = brs__crc32c(0, buf + off, n);
            assert_int_equal(whole, brs__crc32c_sw(0, buf + off, n));
            size_t h = n / 3;
            assert_int_equal(whole, brs__crc32c(brs__crc32c(0, buf + off, h), buf + off + h, n - h));
        }
    /* one flipped bit anywhere changes it */
    uint32_t c = brs__crc32c(0, buf, 120);
    for (size_t bit = 0; bit < 120 * 8; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_true(brs__crc32c(0, buf, 120) != c);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_values),
        cmocka_unit_test(test_sw_equals_hw_and_continues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
