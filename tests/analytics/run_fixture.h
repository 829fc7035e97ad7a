/* run_fixture.h: a deterministic synthetic run for the run-directory and report
 * tests: a random-walk price sampled every minute, a strategy that flips between
 * long, flat and short, and the resulting equity curve fed to a recorder. */
#ifndef BRS_TEST_RUN_FIXTURE_H
#define BRS_TEST_RUN_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "support/files.h"

#define FIX_T0 (INT64_C(1704067200) * INT64_C(1000000000)) /* 2024-01-01T00:00:00Z */
#define FIX_MIN INT64_C(60000000000)

/* n samples one minute apart; returns the recorder or NULL. */
static brs_an_recorder *fixture_run(size_t n, int mode)
{
    brs_an_instrument inst = {.symbol = "SPY", .multiplier = 1, .price_scale = 100};
    brs_an_options opt = {.mode = mode, .periods_per_year = 252, .risk_free_rate = 0.02,
                          .title = "fixture: random walk, flip every 997 minutes"};
    brs_an_recorder *r;
    brs_error err = {0};
    if (brs__an_create(&r, &opt, &inst, 1, &err))
        return NULL;
    uint64_t seed = 42;
    double price = 400, cash = 100000;
    int64_t pos = 0;
    uint64_t id = 1;
    for (size_t i = 0; i < n; i++) {
        seed = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        double u = (double)(seed >> 11) / 9007199254740992.0; /* [0, 1) */
        price *= 1 + (u - 0.5) * 0.002;
        price = round(price * 100) / 100;
        int64_t ts = FIX_T0 + (int64_t)i * FIX_MIN;
        if (i % 997 == 500) {
            int64_t target = ((i / 997) % 3 == 0) ? 100 : ((i / 997) % 3 == 1) ? 0 : -100;
            int64_t q = target - pos;
            if (q) {
                brs_an_order o = {.id = id, .ts = ts, .side = q > 0 ? BRS_BUY : BRS_SELL,
                                  .type = BRS_MARKET, .price = NAN, .qty = llabs(q)};
                brs_an_fill f = {.ts = ts, .order_id = id, .side = o.side,
                                 .liquidity = BRS_LIQ_TAKER, .qty = llabs(q), .price = price,
                                 .fee = 0.01 * (double)llabs(q)};
                if (brs__an_order_new(r, &o) || brs__an_fill(r, &f))
                    return NULL;
                cash -= (double)q * price + f.fee;
                pos += q;
                id++;
            }
        }
        if (i % 1500 == 7) { /* a limit order that never fills, then is cancelled */
            brs_an_order o = {.id = id, .ts = ts, .side = BRS_BUY, .price = price - 5, .qty = 10};
            if (brs__an_order_new(r, &o) || brs__an_order_done(r, ts, id, BRS_AN_CANCELLED, 0))
                return NULL;
            id++;
        }
        double px[1] = {price};
        if (brs__an_sample(r, ts, cash + (double)pos * price, cash, px))
            return NULL;
    }
    return r;
}

#endif
