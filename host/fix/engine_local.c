/* engine_local.c: a STAND-IN for the host's matching engine (host/book, being
 * written on another branch), so the gateway can be built and tested now.
 * Deliberately minimal: price-time priority over sorted arrays, limit and
 * market orders, IOC/FOK, replace keeping priority on a size decrease. It is
 * replaced by an adapter over host/book once that lands (docs/fix-gateway.md). */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "fix/engine.h"

typedef struct rest {
    uint64_t id;
    int64_t price, qty, leaves, cum;
} rest;

typedef struct side_book {
    rest *v;
    uint32_t n, cap;
} side_book;

typedef struct local_engine {
    uint32_t n_instr;
    side_book (*books)[2]; /* [instrument][side] */
    brs__fix_event_fn on_event;
    void *ctx;
} local_engine;

static int better(uint8_t side, int64_t a, int64_t b)
{
    return side == BRS_BUY ? a > b : a < b;
}

static int side_insert(side_book *sb, uint8_t side, const rest *r)
{
    if (sb->n == sb->cap) {
        uint32_t c = sb->cap ? sb->cap * 2 : 64;
        rest *p = realloc(sb->v, (size_t)c * sizeof *p);
        if (!p)
            return BRS_E_NOMEM;
        sb->v = p;
        sb->cap = c;
    }
    uint32_t i = sb->n;
    while (i > 0 && better(side, r->price, sb->v[i - 1].price))
        i--;
    memmove(sb->v + i + 1, sb->v + i, (size_t)(sb->n - i) * sizeof *sb->v);
    sb->v[i] = *r;
    sb->n++;
    return BRS_OK;
}

static void side_remove(side_book *sb, uint32_t i)
{
    memmove(sb->v + i, sb->v + i + 1, (size_t)(sb->n - i - 1) * sizeof *sb->v);
    sb->n--;
}

static int side_find(const side_book *sb, uint64_t id)
{
    for (uint32_t i = 0; i < sb->n; i++)
        if (sb->v[i].id == id)
            return (int)i;
    return -1;
}

static void emit(local_engine *e, uint8_t kind, uint8_t side, uint32_t instr, uint64_t id,
                 int64_t price, int64_t qty, int64_t leaves, int64_t cum, int32_t reason)
{
    brs_order_event ev = {0};
    ev.kind = kind;
    ev.side = side;
    ev.instrument = instr;
    ev.order_id = id;
    ev.price = price;
    ev.qty = qty;
    ev.leaves = leaves;
    ev.cum_qty = cum;
    ev.reason = reason;
    ev.ts = brs__realtime_ns();
    e->on_event(e->ctx, &ev);
}

/* Match an incoming order (side, limit, *leaves) against the other side. */
static void match(local_engine *e, uint32_t instr, uint64_t id, uint8_t side, int market,
                  int64_t price, int64_t qty, int64_t *leaves, int64_t *cum)
{
    side_book *opp = &e->books[instr][side ^ 1];
    while (*leaves > 0 && opp->n > 0) {
        rest *m = &opp->v[0];
        if (!market && better(side, m->price, price))
            break; /* the best contra price is worse than our limit */
        int64_t q = m->leaves < *leaves ? m->leaves : *leaves;
        m->leaves -= q;
        m->cum += q;
        *leaves -= q;
        *cum += q;
        brs_order_event ev = {0};
        ev.kind = BRS_OEV_FILL;
        ev.instrument = instr;
        ev.ts = brs__realtime_ns();
        ev.price = m->price;
        ev.qty = q;
        /* the resting side first, as exchanges report it */
        ev.side = (uint8_t)(side ^ 1);
        ev.liquidity = BRS_LIQ_MAKER;
        ev.order_id = m->id;
        ev.contra_id = id;
        ev.leaves = m->leaves;
        ev.cum_qty = m->cum;
        uint64_t maker = m->id;
        if (m->leaves == 0)
            side_remove(opp, 0);
        e->on_event(e->ctx, &ev);
        ev.side = side;
        ev.liquidity = BRS_LIQ_TAKER;
        ev.order_id = id;
        ev.contra_id = maker;
        ev.leaves = *leaves;
        ev.cum_qty = *cum;
        e->on_event(e->ctx, &ev);
    }
    (void)qty;
}

static int64_t available(local_engine *e, uint32_t instr, uint8_t side, int market, int64_t price)
{
    side_book *opp = &e->books[instr][side ^ 1];
    int64_t a = 0;
    for (uint32_t i = 0; i < opp->n; i++) {
        if (!market && better(side, opp->v[i].price, price))
            break;
        a += opp->v[i].leaves;
    }
    return a;
}

static int l_submit(void *self, const brs_order *o)
{
    local_engine *e = self;
    if (o->instrument >= e->n_instr || o->qty <= 0 || o->side > 1)
        return BRS_E_INVAL;
    int market = o->type == BRS_MARKET;
    if (!market && o->price <= 0)
        return BRS_E_INVAL;
    if (o->tif == BRS_FOK && available(e, o->instrument, o->side, market, o->price) < o->qty)
        return BRS_E_NOLIQUIDITY;
    int64_t leaves = o->qty, cum = 0;
    emit(e, BRS_OEV_ACCEPTED, o->side, o->instrument, o->id, o->price, o->qty, leaves, 0, 0);
    match(e, o->instrument, o->id, o->side, market, o->price, o->qty, &leaves, &cum);
    if (leaves > 0) {
        if (market || o->tif == BRS_IOC || o->tif == BRS_FOK) {
            emit(e, BRS_OEV_CANCELLED, o->side, o->instrument, o->id, o->price, leaves, 0, cum, 0);
        } else {
            rest r = {o->id, o->price, o->qty, leaves, cum};
            if (side_insert(&e->books[o->instrument][o->side], o->side, &r) != BRS_OK)
                return BRS_E_NOMEM;
        }
    }
    return BRS_OK;
}

static int locate(local_engine *e, uint32_t instr, uint64_t id, uint8_t *side, int *idx)
{
    if (instr >= e->n_instr)
        return BRS_E_UNKNOWNORDER;
    for (uint8_t s = 0; s < 2; s++) {
        int i = side_find(&e->books[instr][s], id);
        if (i >= 0) {
            *side = s;
            *idx = i;
            return BRS_OK;
        }
    }
    return BRS_E_UNKNOWNORDER;
}

static int l_cancel(void *self, uint32_t instr, uint64_t id)
{
    local_engine *e = self;
    uint8_t s;
    int i;
    if (locate(e, instr, id, &s, &i) != BRS_OK)
        return BRS_E_UNKNOWNORDER;
    rest r = e->books[instr][s].v[i];
    side_remove(&e->books[instr][s], (uint32_t)i);
    emit(e, BRS_OEV_CANCELLED, s, instr, id, r.price, r.leaves, 0, r.cum, 0);
    return BRS_OK;
}

static int l_replace(void *self, uint32_t instr, uint64_t id, int64_t price, int64_t qty)
{
    local_engine *e = self;
    uint8_t s;
    int i;
    if (locate(e, instr, id, &s, &i) != BRS_OK)
        return BRS_E_UNKNOWNORDER;
    side_book *sb = &e->books[instr][s];
    rest r = sb->v[i];
    if (qty <= r.cum || price <= 0)
        return BRS_E_INVAL;
    int64_t leaves = qty - r.cum;
    if (price == r.price && qty <= r.qty) { /* size down: keeps its place */
        sb->v[i].qty = qty;
        sb->v[i].leaves = leaves;
        emit(e, BRS_OEV_REPLACED, s, instr, id, price, qty, leaves, r.cum, 0);
        return BRS_OK;
    }
    side_remove(sb, (uint32_t)i);
    emit(e, BRS_OEV_REPLACED, s, instr, id, price, qty, leaves, r.cum, 0);
    int64_t cum = r.cum;
    match(e, instr, id, s, 0, price, qty, &leaves, &cum);
    if (leaves > 0) {
        rest nr = {id, price, qty, leaves, cum};
        return side_insert(sb, s, &nr);
    }
    return BRS_OK;
}

static int l_depth(void *self, uint32_t instr, uint8_t side, brs_level *out, uint32_t cap,
                   uint32_t *n)
{
    local_engine *e = self;
    *n = 0;
    if (instr >= e->n_instr || side > 1)
        return BRS_E_INVAL;
    const side_book *sb = &e->books[instr][side];
    for (uint32_t i = 0; i < sb->n; i++) {
        if (*n > 0 && out[*n - 1].price == sb->v[i].price) {
            out[*n - 1].qty += sb->v[i].leaves;
            out[*n - 1].orders++;
            continue;
        }
        if (*n == cap)
            break;
        out[*n].price = sb->v[i].price;
        out[*n].qty = sb->v[i].leaves;
        out[*n].orders = 1;
        out[*n].reserved = 0;
        (*n)++;
    }
    return BRS_OK;
}

static void l_close(void *self)
{
    local_engine *e = self;
    if (!e)
        return;
    for (uint32_t i = 0; i < e->n_instr; i++) {
        free(e->books[i][0].v);
        free(e->books[i][1].v);
    }
    free(e->books);
    free(e);
}

int brs__fix_engine_open(brs__fix_engine *eng, uint32_t n_instruments, brs__fix_event_fn on_event,
                         void *ctx, brs_error *err)
{
    local_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->books = calloc(n_instruments ? n_instruments : 1, sizeof *e->books))) {
        free(e);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    e->n_instr = n_instruments;
    e->on_event = on_event;
    e->ctx = ctx;
    eng->self = e;
    eng->submit = l_submit;
    eng->cancel = l_cancel;
    eng->replace = l_replace;
    eng->depth = l_depth;
    eng->close = l_close;
    return BRS_OK;
}
