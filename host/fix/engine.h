/* engine.h: the small interface the FIX application uses to reach a matching
 * engine. It mirrors the venue vtable (submit, cancel, replace, depth) with
 * events reported synchronously through a callback, so the gateway can sit on
 * the host's matching engine (host/book) without knowing its internals. */
#ifndef BRS_FIX_ENGINE_H
#define BRS_FIX_ENGINE_H

#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

typedef void (*brs__fix_event_fn)(void *ctx, const brs_order_event *ev);

typedef struct brs__fix_engine {
    void *self;
    /* Every event caused by a call is delivered through on_event before the
     * call returns. Returns BRS_OK or a BRS_E_ code (then nothing happened). */
    int (*submit)(void *self, const brs_order *order);
    int (*cancel)(void *self, uint32_t instrument, uint64_t order_id);
    int (*replace)(void *self, uint32_t instrument, uint64_t order_id, int64_t price, int64_t qty);
    /* Aggregated levels, best first. */
    int (*depth)(void *self, uint32_t instrument, uint8_t side, brs_level *out, uint32_t cap,
                 uint32_t *n);
    void (*close)(void *self);
    /* ---- snapshot and restore (journal compaction) ---- */
    /* The ids resting at side/price, front of the queue first: writes up to
     * cap of them, returns how many rest there. */
    uint32_t (*queue)(void *self, uint32_t instrument, uint8_t side, int64_t price, uint64_t *ids,
                      uint32_t cap);
    /* Rests an open limit order as a snapshot describes it, at the tail of its
     * level, without matching and without events. */
    int (*restore)(void *self, const brs_order *order, int64_t leaves, int64_t cum);
} brs__fix_engine;

/* The engine the gateway runs on: host/book (engine_book.c). Fill events carry
 * qty and leaves; cum_qty is not filled in (the application keeps it). */
int brs__fix_engine_open(brs__fix_engine *eng, uint32_t n_instruments, uint32_t max_orders,
                         brs__fix_event_fn on_event, void *ctx, brs_error *err);

#endif
