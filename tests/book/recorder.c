/* recorder.c: the recording listener used by the book tests. */
#include "recorder.h"

static rec_event *push(recorder *r, int kind)
{
    if (r->n >= REC_MAX) {
        r->overflow = 1;
        r->n = 0;
    }
    rec_event *e = &r->ev[r->n++];
    *e = (rec_event){.kind = kind};
    return e;
}

static void on_accepted(void *u, const brs_order *o, int64_t price)
{
    rec_event *e = push(u, EV_ACCEPTED);
    e->instrument = o->instrument, e->id = o->id, e->price = price, e->qty = o->qty, e->side = o->side;
}

static void on_rejected(void *u, uint32_t ins, uint64_t id, int reason)
{
    rec_event *e = push(u, EV_REJECTED);
    e->instrument = ins, e->id = id, e->reason = reason;
}

static void on_fill(void *u, const brs_book_fill *f)
{
    rec_event *e = push(u, EV_FILL);
    e->instrument = f->instrument, e->id = f->maker_id, e->id2 = f->taker_id, e->price = f->price;
    e->qty = f->qty, e->a = f->maker_leaves, e->b = f->taker_leaves, e->side = f->taker_side;
}

static void on_cancelled(void *u, uint32_t ins, uint64_t id, int64_t qty, int reason)
{
    rec_event *e = push(u, EV_CANCELLED);
    e->instrument = ins, e->id = id, e->qty = qty, e->reason = reason;
}

static void on_replaced(void *u, uint32_t ins, uint64_t id, int64_t price, int64_t qty, int64_t leaves)
{
    rec_event *e = push(u, EV_REPLACED);
    e->instrument = ins, e->id = id, e->price = price, e->qty = qty, e->a = leaves;
}

static void on_level(void *u, uint32_t ins, int side, int64_t price, int64_t qty, uint32_t orders)
{
    rec_event *e = push(u, EV_LEVEL);
    e->instrument = ins, e->side = side, e->price = price, e->qty = qty, e->a = orders;
}

static void on_top(void *u, const brs_top *t)
{
    rec_event *e = push(u, EV_TOP);
    e->instrument = t->instrument, e->price = t->bid_price, e->qty = t->bid_qty;
    e->a = t->ask_price, e->b = t->ask_qty;
}

brs_book_listener rec_listener(recorder *r)
{
    return (brs_book_listener){.user = r, .xAccepted = on_accepted, .xRejected = on_rejected,
                               .xFill = on_fill, .xCancelled = on_cancelled,
                               .xReplaced = on_replaced, .xLevel = on_level, .xTop = on_top};
}

void rec_clear(recorder *r)
{
    r->n = 0;
    r->overflow = 0;
}

int rec_find(const recorder *r, int kind, int nth)
{
    for (int i = 0; i < r->n; i++)
        if (r->ev[i].kind == kind && nth-- == 0)
            return i;
    return -1;
}

int rec_count(const recorder *r, int kind)
{
    int c = 0;
    for (int i = 0; i < r->n; i++)
        c += r->ev[i].kind == kind;
    return c;
}
