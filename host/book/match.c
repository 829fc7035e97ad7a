/* match.c: order entry with matching: submit (every order type, post-only,
 * self-trade prevention, FOK), cancel and replace, around the inlined
 * price-time matching loop. Costs: docs/performance.md, "Matching engine". */
#include "book/book_impl.h"
#include "book/idhash.h"

/* ---- matching ---------------------------------------------------------------- */

typedef struct taker {
    uint64_t id;
    int64_t limit;
    int64_t leaves; /* what it fills is what this went down by (no cum kept in the loop) */
    uint32_t instrument, account;
    uint8_t side, stp;
    int stopped; /* self-trade prevention ended matching */
} taker;

static inline int crosses(int side, int64_t opp_best, int64_t limit)
{
    return side == BRS_BUY ? opp_best <= limit : opp_best >= limit;
}

/* Trades the taker against the opposite side while it crosses. Inlined so the
 * taker lives in registers. price_per_level: the fill's price is stored once
 * per level rather than once per fill (the listener takes the fill as const):
 * 3 instructions less per QuantCup submit, but inlined into replace it made
 * GCC's register allocation worse there (+26 per replace in the mixed
 * workload), so only submit asks for it. sweep (the caller made sure that
 * the opposite side has no far levels): every level is a window level, and
 * a level emptied looks the next one up in line (best_gone_win) rather than
 * through brs__next_worse; for the plain IOC copies, whose sweeps over
 * several levels are the mixed workload's tail; in the resting plain copies the
 * inlined lookup cost QuantCup more than the call it saved (+31M
 * instructions in submit against 17.7M in brs__next_worse, GCC's allocation
 * moved), so they keep the call. */
static inline __attribute__((always_inline)) void match(brs_engine *e, book *b, taker *t,
                                                        int price_per_level, int sweep)
{
    int oside = !t->side;
    bside *opp = &b->s[oside];
    int64_t p = opp->best;
    if (!crosses(t->side, p, t->limit))
        return; /* about half the orders of a feed: nothing more to set up */
    ord *pool = e->pool;
    brs_book_fill f;
    f.instrument = t->instrument;
    f.taker_side = t->side;
    f.reserved[0] = f.reserved[1] = f.reserved[2] = 0;
    f.taker_id = t->id;
    f.taker_account = t->account;
    for (;;) {
        /* sweep: the opposite side has no far levels, so p is in the window */
        level *l = sweep ? &opp->win[p - opp->base] : level_find(opp, e->W, p);
        uint32_t oi = l->head;
        if (price_per_level)
            f.price = p;
        while (oi) {
            ord *m = &pool[oi];
            if (BRS__UNLIKELY(t->stp != BRS_STP_NONE && m->account == t->account)) {
                if (t->stp == BRS_STP_CANCEL_NEWEST) {
                    t->stopped = 1;
                    break;
                }
                uint32_t nx = m->next;
                l->qty -= m->leaves;
                l->count--;
                e->L.xCancelled(e->L.user, t->instrument, m->id, m->leaves, BRS_E_SELFTRADE);
                id_remove(e, m->id, oi);
                pool_free(e, oi);
                oi = nx;
                if (t->stp == BRS_STP_CANCEL_BOTH) {
                    t->stopped = 1;
                    break;
                }
                continue;
            }
            int64_t q = t->leaves < m->leaves ? t->leaves : m->leaves;
            m->leaves -= q;
            m->cum += q;
            t->leaves -= q;
            l->qty -= q;
            f.maker_id = m->id;
            if (!price_per_level)
                f.price = p;
            f.qty = q;
            f.maker_leaves = m->leaves;
            f.taker_leaves = t->leaves;
            f.maker_account = m->account;
            e->L.xFill(e->L.user, &f);
            if (m->leaves)
                break; /* the taker is done */
            uint32_t nx = m->next;
            l->count--;
            id_remove(e, m->id, oi);
            pool_free_filled(e, m, oi);
            oi = nx;
            if (!t->leaves)
                break;
        }
        l->head = oi;
        if (oi)
            pool[oi].prev = 0;
        else
            l->tail = 0;
        emit_level(e, t->instrument, oside, p, l);
        /* written so that with sweep 0 GCC compiles the resting plain copies
         * exactly as before sweep existed (other forms of the same statements
         * moved their register allocation and block layout: QuantCup +1%) */
        if (sweep) {
            if (!l->count)
                p = best_gone_win(opp, oside, p); /* p was the best: the next level, in line */
        } else if (!l->count) {
            level_gone(opp, e->W, oside, p);
        }
        if (t->stopped || t->leaves == 0)
            break;
        if (!sweep)
            p = opp->best;
        if (!crosses(t->side, p, t->limit))
            break;
    }
}

/* The top of book after a plain order, where the caller knows which sides
 * moved: the opposite one (it traded) and/or its own (it rests at or better
 * than the best); the other side's half of the last reported top still holds. */
static inline __attribute__((always_inline)) void top_side(const brs_engine *e, const bside *s, int side,
                                                          brs_top *t)
{
    int64_t p = s->best, q = 0;
    if (p == (side == BRS_BUY ? BID_EMPTY : ASK_EMPTY))
        p = 0;
    else
        q = best_qty(s, e->W);
    if (side == BRS_BUY)
        t->bid_price = p, t->bid_qty = q;
    else
        t->ask_price = p, t->ask_qty = q;
}

/* own_level: the level the order joined when it rests at or better than its
 * side's best (own_moved), which is then that side's best: price and qty are
 * known without looking the best up again. */
static inline __attribute__((always_inline)) void emit_top_sides(brs_engine *e, book *b, int sd, int opp_moved,
                                                                 const level *own_level, int64_t price)
{
    brs_top *t = &b->top; /* t->instrument is set at creation and reset */
    if (opp_moved)
        top_side(e, &b->s[!sd], !sd, t);
    if (own_level) {
        if (sd == BRS_BUY)
            t->bid_price = price, t->bid_qty = own_level->qty;
        else
            t->ask_price = price, t->ask_qty = own_level->qty;
    }
    t->ts = e->now;
    e->L.xTop(e->L.user, t);
}

/* Could the taker fill completely now? Walks the levels it would trade with,
 * honouring self-trade prevention the way match() will. */
static int fok_fillable(const brs_engine *e, const book *b, const taker *t)
{
    int oside = !t->side;
    const bside *opp = &b->s[oside];
    int64_t need = t->leaves;
    for (int64_t p = opp->best; crosses(t->side, p, t->limit); p = brs__next_worse(opp, e->W, oside, p)) {
        const level *l = level_find(opp, e->W, p);
        for (uint32_t oi = l->head; oi; oi = e->pool[oi].next) {
            const ord *m = &e->pool[oi];
            if (t->stp != BRS_STP_NONE && m->account == t->account) {
                if (t->stp == BRS_STP_CANCEL_OLDEST)
                    continue;
                return 0;
            }
            need -= m->leaves;
            if (need <= 0)
                return 1;
        }
    }
    return 0;
}
/* Allowed bits of the bytes side, type, tif, stp read as one little-endian word. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BRS__ENUM_BITS_OK 0x03030101u
#define BRS__ENUM_PLAIN_OK 0x00010001u /* side 0..1, type 0, tif 0..1, stp 0 */
#define BRS__ENUM_TIF_IOC 0x00020000u  /* type LIMIT, tif IOC, stp NONE (the side masked off) */
#define BRS__ENUM_SIDE 0x00000001u
#else
#define BRS__ENUM_BITS_OK 0x01010303u
#define BRS__ENUM_PLAIN_OK 0x01000100u
#define BRS__ENUM_TIF_IOC 0x00000200u
#define BRS__ENUM_SIDE 0x01000000u
#endif

static int reject(brs_engine *e, uint32_t instrument, uint64_t id, int reason)
{
    e->L.xRejected(e->L.user, instrument, id, reason);
    return reason;
}

static __attribute__((noinline)) int submit_other(brs_engine *e, const brs_order *o);

/* The body of submit. With plain set (a GTC/DAY limit order, no post-only,
 * no self-trade prevention: most orders) the compiler drops every branch for
 * the other kinds; plain with ioc set is the same for an IOC limit order
 * (it never rests). */
static inline __attribute__((always_inline)) int submit_impl(brs_engine *e, const brs_order *o, int plain,
                                                            int plain_side, int ioc)
{
    /* plain orders come in one copy per side, so the side is a constant */
    const int sd = plain ? plain_side : o->side;
    uint32_t ins = o->instrument;
    if (BRS__UNLIKELY(ins >= e->nbooks))
        return reject(e, ins, o->id, BRS_E_RANGE);
    int market = plain ? 0 : o->type == BRS_MARKET;
    uint32_t post = plain ? 0 : o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE);
    /* side, type, tif, stp are four adjacent bytes: side and type must be 0..1,
     * tif and stp 0..3, checked with one mask. */
    uint32_t enums;
    memcpy(&enums, &o->side, sizeof enums);
    _Static_assert(offsetof(brs_order, stp) == offsetof(brs_order, side) + 3, "brs_order enum bytes");
    /* plain: price and quantity are valid (brs__engine_submit checked them) */
    if ((!plain && BRS__UNLIKELY(enums & ~BRS__ENUM_BITS_OK)) ||
        (!plain && BRS__UNLIKELY((uint64_t)o->qty - 1 >= (uint64_t)PMAX - 1)) ||
        (!plain && BRS__UNLIKELY(!market && !price_ok(o->price))) ||
        BRS__UNLIKELY(post && (market || o->tif >= BRS_IOC)))
        return reject(e, ins, o->id, BRS_E_INVAL);
    uint32_t *dslot = id_dir_slot(e, o->id); /* kept for the insert */
    if (BRS__UNLIKELY(id_live_dir(e, o->id, dslot)))
        return reject(e, ins, o->id, BRS_E_EXISTS);
    book *b = &e->books[ins];
    if (BRS__UNLIKELY(!b->ready) && brs__book_ready(e, b, market ? 0 : o->price))
        return reject(e, ins, o->id, BRS_E_NOMEM);
    /* the plain IOC copies sweep a side without far levels (match's sweep);
     * otherwise the general path, before anything is reported */
    if (plain && ioc && BRS__UNLIKELY(far_count(&b->s[!sd]) != 0))
        return submit_other(e, o);
    int rests = plain ? !ioc : !market && o->tif <= BRS_DAY;
    if (BRS__UNLIKELY(rests && !pool_has_room(e)))
        return reject(e, ins, o->id, BRS_E_LIMIT);
    int64_t price = market ? (sd == BRS_BUY ? PMAX : -PMAX) : o->price;
    if (BRS__UNLIKELY(post)) {
        int64_t ob = b->s[!sd].best;
        if (crosses(sd, ob, price)) {
            if (post & BRS_OF_POST_ONLY)
                return reject(e, ins, o->id, BRS_E_WOULDTAKE);
            price = sd == BRS_BUY ? ob - 1 : ob + 1;
        }
    }
    if (BRS__LIKELY(rests)) {
        /* Refuse up front an order whose rest could push its level's total past
         * INT64_MAX, so the client sees a reject, never New then Canceled
         * (issue 15). Our side's level is not changed by matching. */
        if (!plain && BRS__UNLIKELY((e->qty_or | (uint64_t)o->qty) >> 32)) {
            /* below 2^32 the or needs no store: it would not change the test */
            e->qty_or |= (uint64_t)o->qty;
            const level *own = level_find(&b->s[sd], e->W, price);
            if (BRS__UNLIKELY(own && own->qty > INT64_MAX - o->qty))
                return reject(e, ins, o->id, BRS_E_RANGE);
        }
    }
    const int64_t qty = o->qty; /* read before the listener runs */
#if defined(__GNUC__)
    if (plain && qty <= 0)
        __builtin_unreachable(); /* brs__engine_submit checked it: an unfilled rest has leaves */
#endif
    e->L.xAccepted(e->L.user, o, price);
    taker t = {.id = o->id, .limit = price, .leaves = qty, .instrument = ins,
               .account = o->account, .side = sd, .stp = plain ? BRS_STP_NONE : o->stp};
    if (!plain && BRS__UNLIKELY(o->tif == BRS_FOK) && !fok_fillable(e, b, &t)) {
        e->L.xCancelled(e->L.user, ins, o->id, o->qty, BRS_E_NOLIQUIDITY);
        return BRS_OK;
    }
    /* The top can only change if we traded (or STP cancelled a resting order)
     * or rest at or better than our best; for plain orders, a trade or such a
     * rest always changes it. */
    int top = plain ? 0 : crosses(sd, b->s[!sd].best, price);
    match(e, b, &t, 1, plain && ioc);
    const level *own_top = NULL; /* plain: our side's best moves to this level (top: the opposite side's) */
    if (plain)
        top = t.leaves != qty;
    if (t.leaves > 0) {
        if (rests && !t.stopped) {
            int at_best = sd == BRS_BUY ? price >= b->s[BRS_BUY].best : price <= b->s[BRS_SELL].best;
            if (!plain)
                top |= at_best;
            uint32_t oi = pool_alloc(e);
            ord *pool = e->pool;
            ord *r = &pool[oi];
            memcpy(r, o, BRS__ORD_AS_ORDER);
            if (!plain)
                r->price = price; /* a market order's or a repriced post-only's */
            r->leaves = t.leaves;
            r->cum = qty - t.leaves;
            level *joined;
            int rrc = rest_side(e, pool, b, ins, oi, sd, 1, &joined);
            if (BRS__UNLIKELY(rrc)) {
                r->leaves = 0;
                r->next = e->free_head;
                e->free_head = oi;
                e->L.xCancelled(e->L.user, ins, o->id, t.leaves, rrc);
            } else {
                id_insert_dir(e, oi, o->id, dslot);
                e->live++;
                if (plain && at_best)
                    own_top = joined;
            }
        } else {
            e->L.xCancelled(e->L.user, ins, o->id, t.leaves,
                            t.stopped ? BRS_E_SELFTRADE : BRS_E_NOLIQUIDITY);
        }
    }
    if (plain) {
        if (top || own_top)
            emit_top_sides(e, b, sd, top, own_top, price);
    } else if (top) {
        emit_top(e, b, ins);
    }
    return BRS_OK;
}

/* A plain IOC limit order (the bounds as for the plain copies below): one
 * copy per side, out of line so that the copies for resting orders stay as
 * they are (taking IOC into those cost them 11 instructions per submit). */
static __attribute__((noinline)) int submit_ioc_buy(brs_engine *e, const brs_order *o)
{
    return submit_impl(e, o, 1, BRS_BUY, 1);
}

static __attribute__((noinline)) int submit_ioc_sell(brs_engine *e, const brs_order *o)
{
    return submit_impl(e, o, 1, BRS_SELL, 1);
}

/* Every other order: market, FOK, post-only, STP, the bounds past plain, a
 * plain IOC against a side with far levels. */
static __attribute__((noinline)) int submit_other(brs_engine *e, const brs_order *o)
{
    return submit_impl(e, o, 0, 0, 0);
}

/* Frameless: the plain IOC copies are reached by a tail call, without the
 * register saves of the general path (GCC set its frame up before the IOC
 * test while that path was inlined here: ~20 instructions per IOC). */
static __attribute__((noinline)) int submit_general(brs_engine *e, const brs_order *o)
{
    /* computed again rather than passed: passing them cost the plain copies
     * in brs__engine_submit 1.7 instructions per submit */
    uint32_t enums;
    memcpy(&enums, &o->side, sizeof enums);
    uint64_t big = ((uint64_t)o->qty - 1) | e->qty_or | (((uint64_t)o->price + (UINT64_C(1) << 61)) >> 30);
    if ((enums & ~BRS__ENUM_SIDE) == BRS__ENUM_TIF_IOC && !(o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE)) &&
        (big >> 32) == 0)
        return o->side == BRS_BUY ? submit_ioc_buy(e, o) : submit_ioc_sell(e, o);
    return submit_other(e, o);
}

int brs__engine_submit(brs_engine *e, const brs_order *o)
{
    /* type LIMIT, tif GTC or DAY, stp NONE, no post-only flag; a price in
     * -2^61..2^61-1 (valid: see PMAX); a quantity of 1..2^32 while every
     * quantity entered since the reset stayed below 2^32: valid, and no level
     * total can pass INT64_MAX (at most 2^30 orders of at most 2^32 each).
     * The plain copies check none of these again; one test for all three
     * numbers (the price's bits from 62 up are moved to 32 and up). */
    uint32_t enums;
    memcpy(&enums, &o->side, sizeof enums);
    uint64_t big = ((uint64_t)o->qty - 1) | e->qty_or | (((uint64_t)o->price + (UINT64_C(1) << 61)) >> 30);
    if (BRS__LIKELY((enums & ~BRS__ENUM_PLAIN_OK) == 0 &&
                    !(o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE)) && (big >> 32) == 0))
        return o->side == BRS_BUY ? submit_impl(e, o, 1, BRS_BUY, 0) : submit_impl(e, o, 1, BRS_SELL, 0);
    return submit_general(e, o);
}

/* if_set when i != 0, else if_none, without a branch (GCC makes one of the
 * conditional expression): i is a pool index, and slot 0's address is
 * computed but never written through. */
static inline uint32_t *link_sel(uint32_t i, uint32_t *if_set, uint32_t *if_none)
{
#if defined(__x86_64__) && defined(__GNUC__)
    /* a conditional move, said outright (the masks below cost GCC ~10 more
     * instructions a select) */
    __asm__("testl %[i], %[i]\n\tcmovnzq %[set], %[r]" : [r] "+r"(if_none) : [i] "r"(i), [set] "r"(if_set) : "cc");
    return if_none;
#else
    uintptr_t m = (uintptr_t)0 - (uintptr_t)(i != 0);
    return (uint32_t *)(((uintptr_t)if_set & m) | ((uintptr_t)if_none & ~m));
#endif
}

/* Takes o out of its level, which is in the window of side s (sd), and
 * reports the level; drops the level when it empties. */
static inline __attribute__((always_inline)) void unlink_win(brs_engine *e, ord *pool, bside *s, const ord *o,
                                                            uint32_t ins, const int sd)
{
    int64_t op = o->price;
    uint32_t ooff = (uint32_t)(op - s->base);
    level *lo = &s->win[ooff];
    uint32_t nx = o->next, pv = o->prev;
    /* Whether the order is first or last in its level is a coin toss on a
     * busy book (levels of one or two orders): the link to rewrite is chosen
     * by address, with conditional moves, rather than by two branches that
     * were mispredicted about once per replace. */
    uint32_t *to_next = link_sel(pv, &pool[pv].next, &lo->head);
    uint32_t *to_prev = link_sel(nx, &pool[nx].prev, &lo->tail);
    *to_next = nx;
    *to_prev = pv;
    lo->qty -= o->leaves;
    uint32_t cnt = --lo->count;
    e->L.xLevel(e->L.user, ins, sd, op, lo->qty, cnt);
    if (!cnt) {
        if (op == s->best)
            best_gone(s, e->W, sd, op); /* the next best in line, as in the matching loop */
        else
            bm_clear(s, ooff);
    }
}

/* The top after a call that moved only side sd (s): compares that side's
 * half of the last reported top, since the other half still holds (every
 * call reports the top when it changes). known_price/known_qty: a level of
 * that side whose quantity is known (best_qty is not looked up for it). */
static inline __attribute__((always_inline)) void emit_top_own(brs_engine *e, book *b, const bside *s,
                                                              const int sd, int64_t known_price,
                                                              int64_t known_qty)
{
    int64_t bp = s->best, bq = 0;
    if (bp == (sd == BRS_BUY ? BID_EMPTY : ASK_EMPTY))
        bp = 0;
    else
        bq = bp == known_price ? known_qty : best_qty(s, e->W);
    brs_top *t = &b->top;
    int64_t *half = sd == BRS_BUY ? &t->bid_price : &t->ask_price;
    if (((bp ^ half[0]) | (bq ^ half[1])) != 0) {
        half[0] = bp, half[1] = bq;
        t->ts = e->now;
        e->L.xTop(e->L.user, t);
    }
}

static __attribute__((noinline)) int cancel_lookup(brs_engine *e, uint64_t id);

/* Split so that the common unknown-id miss (feeds cancel long-gone ids: an
 * empty direct slot and nothing in the overflow hash) runs without a stack
 * frame beyond the report's call; anything else looks the id up again. */
int brs__engine_cancel(brs_engine *e, uint64_t id)
{
    if (BRS__LIKELY((*id_slot_ext(e, id) | e->over) == 0)) {
        e->L.xRejected(e->L.user, BRS_BOOK_NO_INSTRUMENT, id, BRS_E_UNKNOWNORDER);
        return BRS_E_UNKNOWNORDER;
    }
    return cancel_lookup(e, id);
}

static int cancel_lookup(brs_engine *e, uint64_t id)
{
    uint32_t oi = id_find(e, id);
    if (!oi) {
        e->L.xRejected(e->L.user, BRS_BOOK_NO_INSTRUMENT, id, BRS_E_UNKNOWNORDER);
        return BRS_E_UNKNOWNORDER;
    }
    ord *o = &e->pool[oi];
    uint32_t ins = o->instrument;
    e->L.xCancelled(e->L.user, ins, id, o->leaves, BRS_OK);
    book *b = &e->books[ins];
    int sd = o->side;
    bside *s = &b->s[sd];
    if (BRS__LIKELY((uint64_t)(o->price - s->base) < e->W)) {
        /* in the window: unlinked here, and only this side's top compared */
        if (sd == BRS_BUY)
            unlink_win(e, e->pool, s, o, ins, BRS_BUY);
        else
            unlink_win(e, e->pool, s, o, ins, BRS_SELL);
        id_remove(e, id, oi);
        pool_free(e, oi);
        if (sd == BRS_BUY)
            emit_top_own(e, b, s, BRS_BUY, BID_EMPTY, 0);
        else
            emit_top_own(e, b, s, BRS_SELL, ASK_EMPTY, 0);
        return BRS_OK;
    }
    brs__remove_order(e, oi);
    emit_top(e, b, ins);
    return BRS_OK;
}

/* A replace that moves an order without crossing (a new price, or more
 * quantity at the same price) while both prices are in the window and the
 * quantities are plain (as on submit: 1..2^32 and every quantity since the
 * reset below 2^32, so no level total can pass INT64_MAX): most replaces of
 * a venue's flow. Unlinks and relinks with one window lookup each and no
 * matching code around, reports exactly what the general path reports (the
 * old level, replaced, the new level, the top if it changed), and compares
 * only its own side's half of the last reported top: the other side did not
 * move, and its half of b->top is the book's (every call reports the top). */
static inline __attribute__((always_inline)) int replace_move_side(brs_engine *e, book *b, ord *o, uint32_t oi,
                                                                  int64_t price, int64_t qty, int64_t leaves,
                                                                  const int sd)
{
    ord *pool = e->pool;
    bside *s = &b->s[sd];
    const uint32_t ins = o->instrument;
    const uint64_t id = o->id;
    unlink_win(e, pool, s, o, ins, sd);
    o->price = price;
    o->qty = qty;
    o->leaves = leaves;
    e->L.xReplaced(e->L.user, ins, id, price, qty, leaves);
    uint32_t noff = (uint32_t)(price - s->base);
    level *l = &s->win[noff];
    o->next = 0;
    uint32_t tail = l->tail;
    o->prev = tail;
    if (tail)
        pool[tail].next = oi;
    else
        l->head = oi;
    l->tail = oi;
    int64_t lq = l->qty + leaves;
    l->qty = lq;
    uint32_t lc = l->count++;
    if (lc == 0) {
        bm_set(s, noff);
        if (sd == BRS_BUY ? price > s->best : price < s->best)
            s->best = price;
    }
    e->L.xLevel(e->L.user, ins, sd, price, lq, lc + 1);
    emit_top_own(e, b, s, sd, price, lq); /* only this side can have moved */
    return BRS_OK;
}

static __attribute__((noinline)) int replace_general(brs_engine *e, uint32_t oi, int64_t price, int64_t qty,
                                                     int64_t leaves);

int brs__engine_replace(brs_engine *e, uint64_t id, int64_t price, int64_t qty)
{
    uint32_t oi = id_find(e, id);
    if (!oi)
        return reject(e, BRS_BOOK_NO_INSTRUMENT, id, BRS_E_UNKNOWNORDER);
    ord *o = &e->pool[oi];
    uint32_t ins = o->instrument;
    book *b = &e->books[ins];
    if (BRS__UNLIKELY(!price_ok(price) || qty >= PMAX || qty - o->cum <= 0))
        return reject(e, ins, id, BRS_E_INVAL);
    int64_t leaves = qty - o->cum;
    if (price == o->price && leaves <= o->leaves) {
        /* Same price, not larger: keeps its place in the queue. */
        int64_t d = o->leaves - leaves;
        o->leaves = leaves;
        o->qty = qty;
        e->L.xReplaced(e->L.user, ins, id, price, qty, leaves);
        if (d) {
            level *l = level_find(&b->s[o->side], e->W, price);
            l->qty -= d;
            emit_level(e, ins, o->side, price, l);
            emit_top(e, b, ins);
        }
        return BRS_OK;
    }
    /* Moves without crossing (post-only and self-trade prevention act only
     * on a crossing price): qty in 1..2^32 with qty_or below 2^32 (qty > 0:
     * qty - cum > 0), both prices in the window. */
    int sd = o->side;
    const bside *s = &b->s[sd];
    if (BRS__LIKELY((((uint64_t)qty - 1) | e->qty_or) >> 32 == 0) &&
        BRS__LIKELY(((uint64_t)(price - s->base) | (uint64_t)(o->price - s->base)) < e->W) &&
        !crosses(sd, b->s[!sd].best, price))
        return sd == BRS_BUY ? replace_move_side(e, b, o, oi, price, qty, leaves, BRS_BUY)
                             : replace_move_side(e, b, o, oi, price, qty, leaves, BRS_SELL);
    return replace_general(e, oi, price, qty, leaves);
}

/* Any other move: post-only, the level-total check, far levels, matching. */
static int replace_general(brs_engine *e, uint32_t oi, int64_t price, int64_t qty, int64_t leaves)
{
    ord *o = &e->pool[oi];
    uint64_t id = o->id;
    uint32_t ins = o->instrument;
    book *b = &e->books[ins];
    if (BRS__UNLIKELY(o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE))) {
        int64_t ob = b->s[!o->side].best;
        if (crosses(o->side, ob, price)) {
            if (o->flags & BRS_OF_POST_ONLY)
                return reject(e, ins, id, BRS_E_WOULDTAKE);
            price = o->side == BRS_BUY ? ob - 1 : ob + 1;
        }
    }
    {
        /* as on submit: a level total that could pass INT64_MAX is refused up
         * front, and the order stays as it was */
        e->qty_or |= (uint64_t)qty;
        const level *tl = level_find(&b->s[o->side], e->W, price);
        int64_t have = tl ? tl->qty - (price == o->price ? o->leaves : 0) : 0;
        if (BRS__UNLIKELY(have > INT64_MAX - leaves))
            return reject(e, ins, id, BRS_E_RANGE);
    }
    brs__unlink_order(e, b, oi);
    o->price = price;
    o->qty = qty;
    o->leaves = leaves;
    e->L.xReplaced(e->L.user, ins, id, price, qty, leaves);
    taker t = {.id = id, .limit = price, .leaves = leaves, .instrument = ins,
               .account = o->account, .side = o->side, .stp = o->stp};
    match(e, b, &t, 0, 0);
    o = &e->pool[oi];
    o->leaves = t.leaves;
    o->cum += leaves - t.leaves;
    int rrc = 0;
    if (t.leaves == 0) {
        id_remove(e, id, oi);
        pool_free(e, oi);
    } else if (t.stopped || (rrc = rest(e, b, ins, oi))) {
        e->L.xCancelled(e->L.user, ins, id, t.leaves, t.stopped ? BRS_E_SELFTRADE : rrc);
        id_remove(e, id, oi);
        pool_free(e, oi);
    }
    emit_top(e, b, ins);
    return BRS_OK;
}
