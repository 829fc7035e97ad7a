/* fuzz_lua.c: libFuzzer target for the Lua sandbox (issue 16). The input is
 * Lua source, taken through the steps `bourse strategy check` takes: load in
 * the sandbox, open and start against a dummy instrument with the simple fill
 * model, a few synthetic bars (each with a quote and a trade), stop, close.
 * Small budgets keep each input short; any crash, sanitizer report or
 * timeout (`make fuzz-lua` passes -timeout) is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strategy/lua_strategy.h"
#include "strategy/runtime.h"

#define FUZZ_BARS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    brs__lua_opts lo = {.mem_limit = 16u << 20, .instr_limit = 20000, .cpu_limit_ms = 500, .seed = 7};
    brs__lua_strategy *s = NULL;
    brs_error err = {0};
    if (brs__lua_strategy_load_buffer(&s, (const char *)data, size, "fuzz.lua", &lo, &err))
        return 0;
    brs__simfill fm;
    brs__simfill_init(&fm, 64);
    brs__exec ex = brs__simfill_exec(&fm);
    brs_instrument instr = {.symbol = "TEST", .price_scale = 10000, .tick_size = 1, .lot_size = 1};
    brs__sctx_opts o = {.name = brs__lua_strategy_name(s), .instruments = &instr,
                        .n_instruments = 1, .exec = &ex, .log = sink, .log_level = BRS_LOG_DEBUG,
                        .max_callbacks_per_event = 50, .max_orders_per_run = 5000,
                        .max_log_bytes = 1u << 20};
    brs__sctx sc;
    memset(&sc, 0, sizeof sc);
    if (!brs__sctx_init(&sc, brs__lua_strategy_vtable(s), &o, &err) &&
        !brs__sctx_open(&sc, s, &err) && !brs__sctx_start(&sc, &err)) {
        brs_market_event bars[FUZZ_BARS];
        brs__bars_random_walk(bars, FUZZ_BARS, 42, 0, 100000, 1700000000LL * 1000000000LL);
        for (int i = 0; i < FUZZ_BARS && !sc.failed; i++) {
            brs__sctx_advance(&sc, bars[i].ts_local);
            brs__sctx_on_market(&sc, &bars[i]);
            brs_market_event q = {.ts_exchange = bars[i].ts_exchange, .ts_local = bars[i].ts_local,
                                  .kind = BRS_MEV_QUOTE};
            q.quote.bid_price = bars[i].bar.close - 1;
            q.quote.ask_price = bars[i].bar.close + 1;
            q.quote.bid_qty = q.quote.ask_qty = 10;
            brs__sctx_on_market(&sc, &q);
            brs_market_event t = {.ts_exchange = bars[i].ts_exchange, .ts_local = bars[i].ts_local,
                                  .kind = BRS_MEV_TRADE, .side = (uint8_t)(i & 1), .price = bars[i].bar.close,
                                  .qty = 1, .order_id = (uint64_t)i + 1};
            brs__sctx_on_market(&sc, &t);
        }
        brs__sctx_stop(&sc, &err);
    }
    brs__sctx_free(&sc);
    brs__lua_strategy_free(s);
    brs__simfill_free(&fm);
    return 0;
}
