/* book.h: the matching engine: price-time order books for many instruments,
 * behind one id space of caller-assigned uint64 order ids. Used by the tick
 * replayer (passive L3 books), the simulated venue, the FIX gateway and the
 * backtester. Not thread-safe: one engine belongs to one thread.
 *
 * Design (docs/performance.md, "Matching engine"): orders live in a pre-sized
 * pool of 64-byte records reused through a free list and found by id through a
 * direct-mapped id table (an open-addressing hash for colliding ids); each book
 * side keeps a direct-indexed window of price levels around the touch with a two-level bitmap of non-empty levels, and an
 * AVL tree (farlevels.h) for prices outside the window, so a far-away order costs
 * one level record and O(log n), never memory in proportion to its distance.
 * Nothing is allocated in steady state (the tree grows only past its high mark). */
#ifndef BRS_BOOK_H
#define BRS_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

/* The instrument reported with a reject of an id the engine does not know. */
#define BRS_BOOK_NO_INSTRUMENT UINT32_MAX

/* One execution: the maker (resting) order traded qty with the taker at the
 * maker's price. Leaves are the open quantities of both after this fill. */
typedef struct brs_book_fill {
    uint32_t instrument;
    uint8_t taker_side; /* enum brs_side of the taker */
    uint8_t reserved[3];
    uint64_t maker_id;
    uint64_t taker_id;
    int64_t price;
    int64_t qty;
    int64_t maker_leaves;
    int64_t taker_leaves;
    uint32_t maker_account;
    uint32_t taker_account;
} brs_book_fill;

/* Where the engine reports what happened. Every member may be NULL (the event is
 * then dropped). Within one call: accepted (or, for a replace, the level change
 * of the old place and then replaced) comes first; fills, STP cancels and level
 * changes follow in matching order (one level change per level visited, after
 * its fills); then the cancel of an unfilled IOC/FOK/market rest or the level
 * change where the order rests; at most one top-of-book change comes last.
 * Callbacks must not call back into the engine.
 * Cancel reasons: BRS_OK (asked for, or end of day), BRS_E_NOLIQUIDITY (the rest
 * of an IOC or market order, a killed FOK), BRS_E_SELFTRADE (self-trade
 * prevention). */
typedef struct brs_book_listener {
    void *user;
    /* An order entered the book; price is its working price (post-only reprice). */
    void (*xAccepted)(void *user, const brs_order *order, int64_t price);
    /* A submit, cancel or replace was refused; reason is a BRS_E_ code. The
     * order, if any, is unchanged. */
    void (*xRejected)(void *user, uint32_t instrument, uint64_t id, int reason);
    void (*xFill)(void *user, const brs_book_fill *fill);
    /* qty open quantity was removed; the order is gone. */
    void (*xCancelled)(void *user, uint32_t instrument, uint64_t id, int64_t qty, int reason);
    /* A replace took effect: the new price, total quantity and open quantity. */
    void (*xReplaced)(void *user, uint32_t instrument, uint64_t id, int64_t price, int64_t qty,
                      int64_t leaves);
    /* The level side/price now holds qty in orders resting orders (0 0: gone). */
    void (*xLevel)(void *user, uint32_t instrument, int side, int64_t price, int64_t qty,
                   uint32_t orders);
    /* Best bid or offer (price or quantity) changed. */
    void (*xTop)(void *user, const brs_top *top);
} brs_book_listener;

typedef struct brs_engine_config {
    uint32_t max_orders;      /* resting orders at once, all instruments (default 1<<20) */
    uint32_t max_instruments; /* instrument ids 0..max-1 (default 64) */
    uint32_t window_ticks;    /* direct-indexed levels per side, power of 2, 64..4096 (default 1024) */
} brs_engine_config;

typedef struct brs_engine brs_engine;

/* Creates an engine; listener is copied (NULL: no events). */
int brs__engine_create(brs_engine **out, const brs_engine_config *cfg,
                       const brs_book_listener *listener, brs_error *err);
void brs__engine_destroy(brs_engine *e);
/* Empties every book (no events), keeping all memory for reuse. */
void brs__engine_reset(brs_engine *e);
/* Allocates the level window of an instrument centred on price now, so the
 * first order does not allocate. Optional. */
int brs__engine_reserve(brs_engine *e, uint32_t instrument, int64_t center_price);
/* The timestamp put on top-of-book events (ns). */
void brs__engine_set_time(brs_engine *e, int64_t ts);

/* ---- trading: every call reports through the listener ----------------- */

/* Submits an order. Limit orders match, then rest (GTC, DAY) or cancel their
 * rest (IOC); FOK fills completely or is cancelled with no trade; market orders
 * (type BRS_MARKET, price ignored) behave as IOC, or FOK with tif FOK.
 * Post-only (flags): BRS_OF_POST_ONLY rejects an order that would take with
 * BRS_E_WOULDTAKE; BRS_OF_POST_REPRICE moves it one tick behind the opposite
 * touch (a buy to best ask - 1) and rests it there.
 * Self-trade prevention uses the incoming order's stp mode against resting
 * orders of the same account.
 * Returns BRS_OK when accepted (it may then trade or be cancelled), else the
 * reject reason: BRS_E_INVAL (bad field), BRS_E_RANGE (instrument id),
 * BRS_E_EXISTS (id live), BRS_E_LIMIT (order pool full), BRS_E_WOULDTAKE. */
int brs__engine_submit(brs_engine *e, const brs_order *order);
/* Cancels a resting order; BRS_E_UNKNOWNORDER (also reported) if not live. */
int brs__engine_cancel(brs_engine *e, uint64_t id);
/* Replaces a resting order's price and total quantity (FIX OrderQty: the new
 * open quantity is qty minus what already filled, and must be > 0). Same price
 * and a smaller open quantity keep the queue place; anything else loses it, and
 * a price that crosses trades as an aggressor (post-only orders: rejected or
 * repriced as on submit). */
int brs__engine_replace(brs_engine *e, uint64_t id, int64_t price, int64_t qty);
/* Cancels every DAY order (of one instrument, or all with BRS_BOOK_NO_INSTRUMENT). */
void brs__engine_end_of_day(brs_engine *e, uint32_t instrument);

/* ---- passive L3 books: replaying an exchange's own order book ---------- */
/* These never match and report only level and top-of-book changes. */

/* Rests an order as given, even if it crosses. */
int brs__engine_insert(brs_engine *e, uint32_t instrument, uint64_t id, int side, int64_t price,
                       int64_t qty);
/* Rests an open order exactly as a snapshot describes it (total qty, open
 * leaves, cum already filled, account, tif, stp, flags: a later replace or
 * self-trade check behaves as it would have), at the tail of its level, with
 * no matching and no accepted event. Restoring a level's orders front first
 * gives back its queue priority. Limit orders only. */
int brs__engine_restore(brs_engine *e, const brs_order *o, int64_t leaves, int64_t cum);
/* Removes qty from a resting order (partial cancel or execution); removes the
 * order when nothing is left. qty larger than the open quantity removes it all. */
int brs__engine_reduce(brs_engine *e, uint64_t id, int64_t qty);
int brs__engine_delete(brs_engine *e, uint64_t id);

/* ---- queries ---------------------------------------------------------- */

/* Best bid and offer; a side with no orders has qty 0 and price 0. */
int brs__engine_top(const brs_engine *e, uint32_t instrument, brs_top *out);
/* Up to n levels of one side from the best; returns how many were written. */
size_t brs__engine_depth(const brs_engine *e, uint32_t instrument, int side, brs_level *out,
                         size_t n);
/* A live order by id: BRS_OK or BRS_E_UNKNOWNORDER. */
int brs__engine_order(const brs_engine *e, uint64_t id, brs_order_info *out);
/* Quantity resting ahead of the order at its level. */
int brs__engine_queue_position(const brs_engine *e, uint64_t id, int64_t *ahead);
/* One order of a level in queue order (brs__engine_level_queue). */
typedef struct brs_queue_entry {
    uint64_t id;
    int64_t leaves;
} brs_queue_entry;
/* The orders resting at side/price, front of the queue first: writes up to n
 * of them and returns how many rest there in all (0: no such level). The
 * simulated venue reads the interleaving of its L2 quantity with ours here. */
size_t brs__engine_level_queue(const brs_engine *e, uint32_t instrument, int side, int64_t price,
                               brs_queue_entry *out, size_t n);
/* Resting orders now, and memory per resting order (record, direct id slots, hash slots). */
size_t brs__engine_live_orders(const brs_engine *e);
size_t brs__engine_bytes_per_order(const brs_engine *e);

#endif
