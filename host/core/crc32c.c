/* crc32c.c: CRC-32C (crc32c.h). The table walk takes 8 bytes a step through
 * eight 256-entry tables built once (slice-by-8: table k is the CRC of a byte
 * followed by k zero bytes); on x86-64 the SSE4.2 crc32 instruction, chosen
 * once by cpuid, does 8 bytes in one instruction. */
#include "core/crc32c.h"

#include <string.h>

#define POLY 0x82F63B78u

static uint32_t g_tab[8][256];
static int g_init; /* 0: not yet; 1: table; 2: instruction */

static void build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (POLY & (0u - (c & 1)));
        g_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            g_tab[t][i] = (g_tab[t - 1][i] >> 8) ^ g_tab[0][g_tab[t - 1][i] & 0xff];
}

static uint32_t sw(uint32_t c, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ g_tab[0][(c ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c; /* little endian: the CRC meets the first four bytes */
        c = g_tab[7][w & 0xff] ^ g_tab[6][(w >> 8) & 0xff] ^ g_tab[5][(w >> 16) & 0xff] ^
            g_tab[4][(w >> 24) & 0xff] ^ g_tab[3][(w >> 32) & 0xff] ^ g_tab[2][(w >> 40) & 0xff] ^
            g_tab[1][(w >> 48) & 0xff] ^ g_tab[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ g_tab[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define HAVE_HW 1
__attribute__((target("sse4.2"))) static uint32_t hw(uint32_t c, const unsigned char *p, size_t n)
{
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = __builtin_ia32_crc32di(c64, w);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        c = __builtin_ia32_crc32si(c, w);
        p += 4;
        n -= 4;
    }
    while (n--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}

static int cpu_has_sse42(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
}
#else
#define HAVE_HW 0
#endif

static void init(void)
{
    build();
#if HAVE_HW
    if (cpu_has_sse42()) {
        __atomic_store_n(&g_init, 2, __ATOMIC_RELEASE);
        return;
    }
#endif
    __atomic_store_n(&g_init, 1, __ATOMIC_RELEASE);
}

/* (two threads racing here both build the same tables: harmless) */
uint32_t brs__crc32c(uint32_t crc, const void *p, size_t n)
{
    int m = __atomic_load_n(&g_init, __ATOMIC_ACQUIRE);
    if (!m) {
        init();
        m = g_init;
    }
#if HAVE_HW
    if (m == 2)
        return ~hw(~crc, p, n);
#endif
    return ~sw(~crc, p, n);
}

uint32_t brs__crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    if (!__atomic_load_n(&g_init, __ATOMIC_ACQUIRE))
        init();
    return ~sw(~crc, p, n);
}

int brs__crc32c_hw(void)
{
    if (!__atomic_load_n(&g_init, __ATOMIC_ACQUIRE))
        init();
    return g_init == 2;
}
