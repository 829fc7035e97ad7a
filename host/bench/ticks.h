/* ticks.h: the cycle counter the timing benches read around short regions
 * (rdtsc fenced on x86, the monotonic clock elsewhere), and its calibration
 * against the monotonic clock. One copy for `bench book` and `bench sor`. */
#ifndef BRS_BENCH_TICKS_H
#define BRS_BENCH_TICKS_H

#include <stdint.h>

#include "core/core.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BRS__BENCH_HAVE_TSC 1
#endif

static inline uint64_t brs__bench_ticks(void)
{
#ifdef BRS__BENCH_HAVE_TSC
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return (uint64_t)brs__monotime_ns();
#endif
}

/* Nanoseconds per tick, against the monotonic clock over 20 ms (1.0 without
 * a cycle counter). */
double brs__bench_tick_ns(void);

#endif
