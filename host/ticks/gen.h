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
    brs_tick_writer_opts writer;
} brs_gen_opts;

int brs__gen_file(const char *path, const brs_gen_opts *o, brs_error *err);

#endif
