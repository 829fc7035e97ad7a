/* engine_book.c: the FIX gateway's engine interface (engine.h) over the host's
 * matching engine (host/book). Book callbacks become brs_order_events, a fill
 * becomes one event for the maker and one for the taker, maker first. Refusals
 * come back as return codes, so the book's reject callback is not forwarded
 * (the application would otherwise answer twice). */
#include <stdlib.h>

#include "book/book.h"
#include "core/core.h"
#include "fix/engine.h"

typedef struct book_adapter {
    brs_engine *eng;
    brs_queue_entry *qbuf; /* for queue(): grown as needed, end of day only */
    size_t qcap;
    brs__fix_event_fn on_event;
    void *ctx;
} book_adapter;

static void emit(book_adapter *a, uint8_t kind, uint8_t side, uint32_t instr, uint64_t id,
                 int64_t price, int64_t qty, int64_t leaves, int32_t reason)
{
    brs_order_event ev = {0};
    ev.kind = kind;
    ev.side = side;
    ev.instrument = instr;
    ev.order_id = id;
    ev.price = price;
    ev.qty = qty;
    ev.leaves = leaves;
    ev.reason = reason;
    a->on_event(a->ctx, &ev);
}

static void on_accepted(void *user, const brs_order *o, int64_t price)
{
    emit(user, BRS_OEV_ACCEPTED, o->side, o->instrument, o->id, price, o->qty, o->qty, 0);
}

static void on_fill(void *user, const brs_book_fill *f)
{
    book_adapter *a = user;
    brs_order_event ev = {0};
    ev.kind = BRS_OEV_FILL;
    ev.instrument = f->instrument;
    ev.price = f->price;
    ev.qty = f->qty;
    ev.side = (uint8_t)(f->taker_side ^ 1);
    ev.liquidity = BRS_LIQ_MAKER;
    ev.order_id = f->maker_id;
    ev.contra_id = f->taker_id;
    ev.leaves = f->maker_leaves;
    a->on_event(a->ctx, &ev);
    ev.side = f->taker_side;
    ev.liquidity = BRS_LIQ_TAKER;
    ev.order_id = f->taker_id;
    ev.contra_id = f->maker_id;
    ev.leaves = f->taker_leaves;
    a->on_event(a->ctx, &ev);
}

static void on_cancelled(void *user, uint32_t instr, uint64_t id, int64_t qty, int reason)
{
    emit(user, BRS_OEV_CANCELLED, 0, instr, id, 0, qty, 0, reason);
}

static void on_replaced(void *user, uint32_t instr, uint64_t id, int64_t price, int64_t qty,
                        int64_t leaves)
{
    emit(user, BRS_OEV_REPLACED, 0, instr, id, price, qty, leaves, 0);
}

static int b_submit(void *self, const brs_order *o)
{
    return brs__engine_submit(((book_adapter *)self)->eng, o);
}

static int b_cancel(void *self, uint32_t instr, uint64_t id)
{
    (void)instr;
    return brs__engine_cancel(((book_adapter *)self)->eng, id);
}

static int b_replace(void *self, uint32_t instr, uint64_t id, int64_t price, int64_t qty)
{
    (void)instr;
    return brs__engine_replace(((book_adapter *)self)->eng, id, price, qty);
}

static int b_depth(void *self, uint32_t instr, uint8_t side, brs_level *out, uint32_t cap,
                   uint32_t *n)
{
    *n = (uint32_t)brs__engine_depth(((book_adapter *)self)->eng, instr, side, out, cap);
    return BRS_OK;
}

static uint32_t b_queue(void *self, uint32_t instr, uint8_t side, int64_t price, uint64_t *ids,
                        uint32_t cap)
{
    book_adapter *a = self;
    if (cap > a->qcap) {
        brs_queue_entry *p = realloc(a->qbuf, cap * sizeof *p);
        if (!p)
            return 0;
        a->qbuf = p;
        a->qcap = cap;
    }
    size_t n = brs__engine_level_queue(a->eng, instr, side, price, a->qbuf, cap);
    for (size_t i = 0; i < n && i < cap; i++)
        ids[i] = a->qbuf[i].id;
    return (uint32_t)n;
}

static int b_restore(void *self, const brs_order *o, int64_t leaves, int64_t cum)
{
    return brs__engine_restore(((book_adapter *)self)->eng, o, leaves, cum);
}

static void b_close(void *self)
{
    book_adapter *a = self;
    if (!a)
        return;
    free(a->qbuf);
    brs__engine_destroy(a->eng);
    free(a);
}

int brs__fix_engine_open(brs__fix_engine *eng, uint32_t n_instruments, uint32_t max_orders,
                         brs__fix_event_fn on_event, void *ctx, brs_error *err)
{
    book_adapter *a = calloc(1, sizeof *a);
    if (!a)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    a->on_event = on_event;
    a->ctx = ctx;
    brs_engine_config cfg = {0};
    cfg.max_instruments = n_instruments ? n_instruments : 1;
    cfg.max_orders = max_orders; /* 0: the engine's default */
    brs_book_listener l = {0};
    l.user = a;
    l.xAccepted = on_accepted;
    l.xFill = on_fill;
    l.xCancelled = on_cancelled;
    l.xReplaced = on_replaced;
    int rc = brs__engine_create(&a->eng, &cfg, &l, err);
    if (rc != BRS_OK) {
        free(a);
        return rc;
    }
    eng->self = a;
    eng->submit = b_submit;
    eng->cancel = b_cancel;
    eng->replace = b_replace;
    eng->depth = b_depth;
    eng->close = b_close;
    eng->queue = b_queue;
    eng->restore = b_restore;
    return BRS_OK;
}
