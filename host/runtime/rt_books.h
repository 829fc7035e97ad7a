/* rt_books.h: the venues' own books as `bourse serve` shows them: a change
 * counter per venue and instrument (what moved since a reader last looked),
 * the consolidated book (every venue's levels aggregated by price), and the
 * tops hosted strategies get from those books once no replay feeds them
 * (docs/fix-gateway.md, "Market data"; "Strategies beside the clients"). */
#ifndef BRS_RUNTIME_RT_BOOKS_H
#define BRS_RUNTIME_RT_BOOKS_H

#include <stdint.h>

#include "runtime.h"

/* The consolidated book: "venue" BRS__RT_ALL_VENUES in the calls below. */
#define BRS__RT_ALL_VENUES UINT32_MAX

/* Count changes of the venues' books from now on (off by default: book mode
 * pays nothing). BRS_OK or BRS_E_NOMEM. */
int brs__rt_track_books(brs__rt *rt);

/* A counter that moves whenever the venue's book of instrument may have
 * changed: an order event the venue emitted (acceptance, fill, cancel,
 * replace: whoever's order it was), replayed market data given to it, a
 * market event it emitted. BRS__RT_ALL_VENUES: the sum over the venues, which
 * moves when any does. 0 while tracking is off. */
uint32_t brs__rt_book_gen(const brs__rt *rt, uint32_t venue, uint32_t instrument);

/* The venue's levels (brs__rt_depth), or with BRS__RT_ALL_VENUES every
 * venue's levels merged by price (quantities and order counts summed), best
 * first, at most cap. Exact for the first cap levels when each venue gives
 * its first cap. */
int brs__rt_book_depth(brs__rt *rt, uint32_t venue, uint32_t instrument, uint8_t side, brs_level *out,
                       uint32_t cap, uint32_t *n);

/* Hosted strategies' market data from the venues' own books (serve, once no
 * replay feeds the market sink: market_data none, or the file done). For each
 * strategy and each of its instruments whose book (its venue's with a venue
 * route, the consolidated one through the router) or whose own open orders
 * changed since the last call, the top of that book without the strategy's
 * own resting orders (as a backtest's view has none of them) goes to it as a
 * QUOTE (xOnTop) when the top or its own orders changed (at the first call:
 * always). Deterministic: serve calls it after each journaled step, live and
 * in the replay. Call between client actions (never from inside a callback).
 * Returns the QUOTEs delivered. */
struct brs__rt_strats;
uint32_t brs__rt_strats_book_tops(struct brs__rt_strats *s);

#endif
