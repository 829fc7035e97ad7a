/* no_live.h: for the harnesses that run the FIX gateway (fuzz_fix.c,
 * fuzz_restart.c). The live dashboard is not linked into their fuzz builds
 * (its HTTP pages would come along; tests/fuzz/CMakeLists.txt defines
 * BRS_FUZZ_NO_LIVE for them): the gateway there has none (g->live is NULL),
 * so its one entry point must never be reached. Include once per harness. */
#ifndef BRS_FUZZ_NO_LIVE_H
#define BRS_FUZZ_NO_LIVE_H

#include "ops/live.h"

#ifdef BRS_FUZZ_NO_LIVE
void brs__live_fill(brs__live *l, uint32_t account, uint32_t instr, uint8_t side, int64_t price, int64_t qty,
                    uint64_t order_id, const char clordid[BRS__LIVE_CLORDID], uint32_t venue, int64_t t_ns,
                    int replay)
{
    (void)l, (void)account, (void)instr, (void)side, (void)price, (void)qty, (void)order_id;
    (void)clordid, (void)venue, (void)t_ns, (void)replay;
    __builtin_trap();
}
#endif

#endif
