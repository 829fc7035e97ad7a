/* view.h: a passive L3 book of market data, the runtime's view of the market
 * (what a strategy's top and depth come from, the router's view of a venue):
 * orders by id with their side, price and open quantity, levels with their
 * total quantity and order count, the top and a counter of its changes. It
 * never matches and keeps no queue order (nobody reading a view asks for
 * it), so an event costs an id lookup and a level update; the matching
 * engine's passive calls (book.h) rest every order in its level's FIFO.
 * Same answers as those calls: the same refusals (bad side, price or
 * quantity, an id already live, max_orders live, a level total past
 * INT64_MAX), the same top and depth after every event. Levels reuse the
 * engine's book sides (window and far tree, book_impl.h), indexed by tick
 * (price / tick size) while an instrument's prices are on its tick, by
 * price unit from its first price that is not; a window of 4096 levels a
 * side for a view of at most 64 instruments, 1024 above (view.c). One
 * thread. */
#ifndef BRS_BOOK_VIEW_H
#define BRS_BOOK_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

typedef struct brs__view brs__view;

/* A view of instruments 0..n_instr-1 holding at most max_orders orders at
 * once (0: 1<<20, the engine's default). instr: the instruments, for their
 * tick sizes (NULL: a tick of 1 each); any price is accepted whatever the
 * tick, only the speed depends on it. */
int brs__view_create(brs__view **out, uint32_t n_instr, const brs_instrument *instr, uint32_t max_orders,
                     brs_error *err);
void brs__view_destroy(brs__view *v);

/* The engine's passive calls, with the same refusals and return codes. */
int brs__view_insert(brs__view *v, uint32_t instrument, uint64_t id, int side, int64_t price,
                     int64_t qty);
int brs__view_reduce(brs__view *v, uint64_t id, int64_t qty);
int brs__view_delete(brs__view *v, uint64_t id);

/* An L3 event (ADD, CANCEL full or partial, EXECUTE, MODIFY: delete, then
 * insert under aux when set) applied; 0 when ev is not L3 (nothing done). */
int brs__view_apply(brs__view *v, const brs_market_event *ev);

/* Best bid and offer (a side with no orders: price 0, qty 0; ts 0). */
int brs__view_top(const brs__view *v, uint32_t instrument, brs_top *out);
/* *t's prices and quantities become the top's (as brs__view_top gives
 * them; its other fields are left alone); 1 when they differ from what *t
 * held, 0 when not, BRS_E_RANGE (t untouched) for no such instrument. */
int brs__view_top_update(const brs__view *v, uint32_t instrument, brs_top *t);
/* Up to n levels of one side, best first; returns how many were written. */
size_t brs__view_depth(const brs__view *v, uint32_t instrument, int side, brs_level *out, size_t n);
/* Per instrument: how often its top changed (price or quantity of either
 * side) so far; equal counts mean an unchanged top. */
const uint64_t *brs__view_gen(const brs__view *v);
/* Orders live now. */
size_t brs__view_live(const brs__view *v);

#endif
