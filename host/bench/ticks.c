/* ticks.c: calibrating the benches' cycle counter (ticks.h). */
#include "bench/ticks.h"

double brs__bench_tick_ns(void)
{
#ifdef BRS__BENCH_HAVE_TSC
    int64_t t0 = brs__monotime_ns();
    uint64_t c0 = brs__bench_ticks();
    while (brs__monotime_ns() - t0 < 20000000)
        ;
    int64_t t1 = brs__monotime_ns();
    uint64_t c1 = brs__bench_ticks();
    return (double)(t1 - t0) / (double)(c1 - c0);
#else
    return 1.0;
#endif
}
