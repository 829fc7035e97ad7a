/* rng.h: the tests' one pseudo-random source, xorshift64 (Marsaglia 2003):
 * deterministic from its seed, so a failing case fails again the same way.
 * Each test file keeps its own state: `static uint64_t rng = SEED;` and
 * `brs_test_rand(&rng)`. */
#ifndef BRS_TEST_RNG_H
#define BRS_TEST_RNG_H

#include <stdint.h>

static inline uint64_t brs_test_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif
