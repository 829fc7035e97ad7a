/* gen.h: the deterministic synthetic market behind `bourse gen`: L3 order flow
 * for K symbols from a self-contained PRNG, integer-only, so the same seed gives
 * a byte-identical file on every machine. */
#ifndef BRS_TICKS_GEN_H
#define BRS_TICKS_GEN_H

#include <stdint.h>

#include <bourse/errors.h>

#include "tickfile.h"

typedef struct brs_gen_opts {
    uint64_t seed;
    uint64_t events;  /* exactly this many records */
    uint32_t symbols; /* 1..1000 */
    uint64_t rate;    /* messages per second over the market; 0 = 1000 */
    /* Volatility of the mid (--vol): standard deviation of its moves in
     * thousandths of a basis point per sqrt(minute); 0 keeps the historic
     * quiet walk (and its bytes). With regime_ns > 0 the market alternates
     * calm stretches (calm_vol, 0 = vol / 4) and volatile ones (vol), each
     * of exponential length with mean regime_ns, starting calm. */
    uint64_t vol, calm_vol;
    uint64_t regime_ns;
    brs_tick_writer_opts writer;
} brs_gen_opts;

int brs__gen_file(const char *path, const brs_gen_opts *o, brs_error *err);

/* `bourse gen --bars`: o->events one-minute OHLCV bars, a random walk per
 * symbol (brs__bars_random_walk; seed o->seed for the first symbol, spread
 * apart by the golden-ratio constant for the others; lows kept at 1000
 * and above) at price_scale 10000, all symbols stamped at the same minutes from
 * 2020-09-13T12:26:40Z. The signal-mode benchmark's data (seed 7, 1 symbol). */
int brs__gen_bars_file(const char *path, const brs_gen_opts *o, brs_error *err);

#endif
