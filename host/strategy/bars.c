/* bars.c: a deterministic random-walk bar series, the shared input of
 * `strategy check`'s smoke run, `bench strategy` and the strategy tests. */
#include "runtime.h"

static uint64_t next(uint64_t *s)
{
    /* xorshift64*: small, fast, and the same on every machine */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void brs__bars_random_walk(brs_market_event *out, size_t n, uint64_t seed, uint32_t instrument,
                           int64_t start_price, int64_t start_ts)
{
    uint64_t s = seed ? seed : 0x9E3779B97F4A7C15ULL;
    int64_t prev = start_price;
    const int64_t minute = 60LL * 1000000000LL;
    for (size_t i = 0; i < n; i++) {
        int64_t step = (int64_t)(next(&s) % 41) - 20;
        int64_t close = prev + step;
        if (close < 100)
            close = 100;
        int64_t hi = (prev > close ? prev : close) + (int64_t)(next(&s) % 5);
        int64_t lo = (prev < close ? prev : close) - (int64_t)(next(&s) % 5);
        if (lo < 1)
            lo = 1;
        brs_market_event *e = &out[i];
        *e = (brs_market_event){.ts_exchange = start_ts + (int64_t)(i + 1) * minute,
                                .kind = BRS_MEV_BAR, .instrument = instrument};
        e->ts_local = e->ts_exchange;
        e->bar.open = prev;
        e->bar.high = hi;
        e->bar.low = lo;
        e->bar.close = close;
        e->bar.volume = 100 + (int64_t)(next(&s) % 900);
        /* no bar length: types.h's aux shares its slot with bar.close */
        prev = close;
    }
}
