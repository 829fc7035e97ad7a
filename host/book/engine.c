/* engine.c: the matching engine's lifetime (create, reset, destroy), end of
 * day, the passive L3 calls that rest orders without matching, and the
 * queries. Order entry with matching is in match.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "book/book_impl.h"
#include "book/idhash.h"

/* ---- listener defaults: a NULL member drops its event ---------------- */

static void nop_accepted(void *u, const brs_order *o, int64_t p) { (void)u, (void)o, (void)p; }
static void nop_rejected(void *u, uint32_t i, uint64_t id, int r) { (void)u, (void)i, (void)id, (void)r; }
static void nop_fill(void *u, const brs_book_fill *f) { (void)u, (void)f; }
static void nop_cancelled(void *u, uint32_t i, uint64_t id, int64_t q, int r)
{
    (void)u, (void)i, (void)id, (void)q, (void)r;
}
static void nop_replaced(void *u, uint32_t i, uint64_t id, int64_t p, int64_t q, int64_t l)
{
    (void)u, (void)i, (void)id, (void)p, (void)q, (void)l;
}
static void nop_level(void *u, uint32_t i, int s, int64_t p, int64_t q, uint32_t n)
{
    (void)u, (void)i, (void)s, (void)p, (void)q, (void)n;
}
static void nop_top(void *u, const brs_top *t) { (void)u, (void)t; }

/* ---- the id index's overflow hash (the rare path of idhash.h) ------------ */

void brs__idx_over_insert(brs_engine *e, uint32_t idx, uint64_t id)
{
    ht_insert_home(e, idx, ht_home(e, id));
    e->over++;
}

void brs__idx_over_remove(brs_engine *e, uint64_t id, uint32_t idx)
{
    ht_remove(e, id, idx);
    e->over--;
}

uint32_t brs__idx_over_find(const brs_engine *e, uint64_t id)
{
    return ht_find(e, id);
}

uint32_t brs__id_find_dir_slow(const brs_engine *e, uint64_t id, const uint32_t *slot)
{
    uint32_t i = *slot;
    if (i != 0 && e->pool[i].id == id)
        return i;
    return e->over ? brs__idx_over_find(e, id) : 0;
}

/* ---- engine lifetime ------------------------------------------------------ */

static void *align64(void *p)
{
    return p ? (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63) : NULL;
}

int brs__engine_create(brs_engine **out, const brs_engine_config *cfg,
                       const brs_book_listener *listener, brs_error *err)
{
    *out = NULL;
    uint32_t max_orders = cfg && cfg->max_orders ? cfg->max_orders : 1u << 20;
    uint32_t nb = cfg && cfg->max_instruments ? cfg->max_instruments : 64;
    uint32_t W = cfg && cfg->window_ticks ? cfg->window_ticks : 1024;
    if (W < 64 || W > 4096 || (W & (W - 1)))
        return brs__err(err, BRS_E_INVAL, "window_ticks must be a power of 2 in 64..4096, not %u", W);
    if (max_orders > (1u << 30))
        return brs__err(err, BRS_E_INVAL, "max_orders %u exceeds 2^30", max_orders);
    brs_engine *e = calloc(1, sizeof *e);
    if (!e)
        return brs__err(err, BRS_E_NOMEM, "out of memory for the matching engine");
    e->cap = max_orders + 1;
    uint32_t hsize = 32; /* at least two blocks: keeps ht_shift below 64 */
    while (hsize < 2 * max_orders)
        hsize *= 2;
    e->ht_mask = hsize - 1;
    e->ht_shift = 64u - (uint32_t)__builtin_ctz(hsize / 16);
    e->dir_mask = hsize - 1; /* as many direct slots as hash slots: 2 per order */
    e->hw = 1;
    e->W = W;
    e->nbooks = nb;
    /* calloc'd pages are mapped lazily, so a generous capacity costs little
     * until it is used; the extra line lets the arrays start on
     * a cache-line boundary, so a record is exactly one line and a block of 16
     * hash slots exactly two. */
    e->pool_mem = calloc((size_t)e->cap + 1, sizeof(ord));
    e->ht_mem = calloc(hsize + 8, sizeof(hslot));
    e->pool = (ord *)align64(e->pool_mem);
    e->ht = (hslot *)align64(e->ht_mem);
    e->dir_mem = calloc(hsize + 16, sizeof(uint32_t));
    e->dir = (uint32_t *)align64(e->dir_mem);
    /* the order pool fills from its start: huge pages where the system allows
     * (a fault per 2 MB, not per 4 KB; a restart of millions of orders was
     * mostly page faults) */
    if (e->pool_mem && ((size_t)e->cap + 1) * sizeof(ord) >= ((size_t)8 << 20)) {
        uintptr_t a = ((uintptr_t)e->pool_mem + 4095) & ~(uintptr_t)4095;
        uintptr_t z = ((uintptr_t)e->pool_mem + ((size_t)e->cap + 1) * sizeof(ord)) & ~(uintptr_t)4095;
        madvise((void *)a, z - a, MADV_HUGEPAGE);
    }
    e->books = aligned_alloc(64, (size_t)nb * sizeof *e->books);
    if (e->books)
        memset(e->books, 0, (size_t)nb * sizeof *e->books);
    if (!e->pool_mem || !e->ht_mem || !e->dir_mem || !e->books) {
        brs__engine_destroy(e);
        return brs__err(err, BRS_E_NOMEM, "out of memory for %u orders", max_orders);
    }
    for (uint32_t i = 0; i < nb; i++) {
        e->books[i].s[BRS_BUY].best = BID_EMPTY;
        e->books[i].s[BRS_SELL].best = ASK_EMPTY;
        e->books[i].top.instrument = i;
    }
    brs_book_listener L = listener ? *listener : (brs_book_listener){0};
    e->L.user = L.user;
    e->L.xAccepted = L.xAccepted ? L.xAccepted : nop_accepted;
    e->L.xRejected = L.xRejected ? L.xRejected : nop_rejected;
    e->L.xFill = L.xFill ? L.xFill : nop_fill;
    e->L.xCancelled = L.xCancelled ? L.xCancelled : nop_cancelled;
    e->L.xReplaced = L.xReplaced ? L.xReplaced : nop_replaced;
    e->L.xLevel = L.xLevel ? L.xLevel : nop_level;
    e->L.xTop = L.xTop ? L.xTop : nop_top;
    *out = e;
    return BRS_OK;
}

void brs__engine_destroy(brs_engine *e)
{
    if (!e)
        return;
    if (e->books) {
        for (uint32_t i = 0; i < e->nbooks; i++) {
            free(e->books[i].s[0].win);
            for (int sd = 0; sd < 2; sd++)
                if (e->books[i].s[sd].far) {
                    brs__far_free(e->books[i].s[sd].far);
                    free(e->books[i].s[sd].far);
                }
        }
    }
    free(e->books);
    free(e->ht_mem);
    free(e->dir_mem);
    free(e->pool_mem);
    free(e);
}

int brs__engine_reserve(brs_engine *e, uint32_t instrument, int64_t center_price)
{
    if (instrument >= e->nbooks)
        return BRS_E_RANGE;
    if (center_price <= -PMAX || center_price >= PMAX)
        return BRS_E_INVAL;
    book *b = &e->books[instrument];
    int rc = brs__book_ready(e, b, center_price);
    if (rc)
        return rc;
    for (int sd = 0; sd < 2; sd++)
        if (!brs__far_tree(&b->s[sd]) || (rc = brs__far_reserve(b->s[sd].far, 16)))
            return rc ? rc : BRS_E_NOMEM;
    return BRS_OK;
}

void brs__engine_set_time(brs_engine *e, int64_t ts)
{
    e->now = ts;
}

void brs__engine_reset(brs_engine *e)
{
    /* Few live orders: delete them one by one; many: wipe the table. */
    int wipe = e->live > (size_t)(e->ht_mask + 1) / 16;
    for (uint32_t i = 1; i < e->hw && e->live; i++) {
        if (!e->pool[i].leaves)
            continue;
        if (!wipe)
            id_remove(e, e->pool[i].id, i);
        pool_free(e, i);
    }
    if (wipe) {
        memset(e->ht, 0, ((size_t)e->ht_mask + 1) * sizeof *e->ht);
        memset(e->dir, 0, ((size_t)e->dir_mask + 1) * sizeof *e->dir);
        e->over = 0;
    }
    /* Every slot is free now: hand them out in address order again rather than
     * chasing a free list through cold memory. */
    e->free_head = 0;
    e->hw = 1;
    e->id_max = 0;
    e->qty_or = 0;
    for (uint32_t i = 0; i < e->nbooks; i++) {
        book *b = &e->books[i];
        for (int sd = 0; sd < 2 && b->ready; sd++) {
            bside *s = &b->s[sd];
            for (int64_t off = bm_next(s, e->W, 0); off >= 0; off = bm_next(s, e->W, off + 1))
                memset(&s->win[off], 0, sizeof(level));
            memset(s->bits, 0, e->W / 64 * sizeof *s->bits);
            s->summary = 0;
            if (s->far)
                brs__far_clear(s->far);
            s->ov_limit = 16;
        }
        b->s[BRS_BUY].best = BID_EMPTY;
        b->s[BRS_SELL].best = ASK_EMPTY;
        b->top = (brs_top){.instrument = i};
    }
}

void brs__engine_end_of_day(brs_engine *e, uint32_t instrument)
{
    for (uint32_t i = 1; i < e->hw && e->live; i++) {
        ord *o = &e->pool[i];
        if (!o->leaves || o->tif != BRS_DAY ||
            (instrument != BRS_BOOK_NO_INSTRUMENT && o->instrument != instrument))
            continue;
        e->L.xCancelled(e->L.user, o->instrument, o->id, o->leaves, BRS_OK);
        brs__remove_order(e, i);
    }
    for (uint32_t i = 0; i < e->nbooks; i++)
        if (e->books[i].ready && (instrument == BRS_BOOK_NO_INSTRUMENT || instrument == i))
            emit_top(e, &e->books[i], i);
}

/* ---- passive L3 ------------------------------------------------------------------ */

/* Rests the order record *tmpl as it stands (no matching; level and top
 * events only): the passive insert and the restore of a snapshot. */
static int rest_as_is(brs_engine *e, const ord *tmpl)
{
    if (tmpl->instrument >= e->nbooks)
        return BRS_E_RANGE;
    if ((tmpl->side != BRS_BUY && tmpl->side != BRS_SELL) || !price_ok(tmpl->price) ||
        tmpl->leaves <= 0 || tmpl->leaves >= PMAX || tmpl->qty < tmpl->leaves || tmpl->qty >= PMAX)
        return BRS_E_INVAL;
    if (id_find(e, tmpl->id))
        return BRS_E_EXISTS;
    book *b = &e->books[tmpl->instrument];
    if (!b->ready && brs__book_ready(e, b, tmpl->price))
        return BRS_E_NOMEM;
    uint32_t oi = pool_alloc(e);
    if (!oi)
        return BRS_E_LIMIT;
    ord *r = &e->pool[oi];
    *r = *tmpl;
    e->qty_or |= (uint64_t)tmpl->qty;
    int rrc = rest(e, b, tmpl->instrument, oi);
    if (rrc) {
        r->leaves = 0;
        r->next = e->free_head;
        e->free_head = oi;
        return rrc;
    }
    id_insert(e, oi, tmpl->id);
    e->live++;
    emit_top(e, b, tmpl->instrument);
    return BRS_OK;
}

int brs__engine_insert(brs_engine *e, uint32_t instrument, uint64_t id, int side, int64_t price,
                       int64_t qty)
{
    if (side != BRS_BUY && side != BRS_SELL)
        return BRS_E_INVAL;
    ord r = {.id = id, .price = price, .leaves = qty, .qty = qty, .instrument = instrument,
             .side = (uint8_t)side, .type = BRS_LIMIT, .tif = BRS_GTC};
    return rest_as_is(e, &r);
}

int brs__engine_restore(brs_engine *e, const brs_order *o, int64_t leaves, int64_t cum)
{
    if (o->type != BRS_LIMIT || cum < 0 || leaves <= 0 || cum > o->qty - leaves)
        return BRS_E_INVAL;
    ord r = {.id = o->id, .price = o->price, .leaves = leaves, .qty = o->qty, .cum = cum,
             .instrument = o->instrument, .account = o->account, .side = o->side,
             .type = o->type, .tif = o->tif, .stp = o->stp, .flags = o->flags};
    return rest_as_is(e, &r);
}

int brs__engine_reduce(brs_engine *e, uint64_t id, int64_t qty)
{
    uint32_t oi = id_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    if (qty <= 0)
        return BRS_E_INVAL;
    ord *o = &e->pool[oi];
    uint32_t ins = o->instrument;
    if (qty >= o->leaves) {
        brs__remove_order(e, oi);
    } else {
        bside *s = &e->books[ins].s[o->side];
        level *l = level_find(s, e->W, o->price);
        o->leaves -= qty;
        o->qty -= qty;
        l->qty -= qty;
        emit_level(e, ins, o->side, o->price, l);
    }
    emit_top(e, &e->books[ins], ins);
    return BRS_OK;
}

int brs__engine_delete(brs_engine *e, uint64_t id)
{
    uint32_t oi = id_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    uint32_t ins = e->pool[oi].instrument;
    brs__remove_order(e, oi);
    emit_top(e, &e->books[ins], ins);
    return BRS_OK;
}

/* ---- queries ------------------------------------------------------------------ */

int brs__engine_top(const brs_engine *e, uint32_t instrument, brs_top *out)
{
    if (instrument >= e->nbooks)
        return BRS_E_RANGE;
    *out = e->books[instrument].top;
    out->instrument = instrument;
    return BRS_OK;
}

size_t brs__engine_depth(const brs_engine *e, uint32_t instrument, int side, brs_level *out,
                         size_t n)
{
    if (instrument >= e->nbooks || (side != BRS_BUY && side != BRS_SELL))
        return 0;
    const book *b = &e->books[instrument];
    const bside *s = &b->s[side];
    int64_t empty = side == BRS_BUY ? BID_EMPTY : ASK_EMPTY;
    size_t k = 0;
    for (int64_t p = s->best; k < n && p != empty; p = brs__next_worse(s, e->W, side, p)) {
        const level *l = level_find(s, e->W, p);
        out[k++] = (brs_level){.price = p, .qty = l->qty, .orders = l->count};
    }
    return k;
}

int brs__engine_order(const brs_engine *e, uint64_t id, brs_order_info *out)
{
    uint32_t oi = id_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    const ord *o = &e->pool[oi];
    *out = (brs_order_info){.id = o->id, .instrument = o->instrument, .side = o->side,
                            .type = o->type, .tif = o->tif, .price = o->price, .qty = o->qty,
                            .leaves = o->leaves, .cum_qty = o->cum};
    return BRS_OK;
}

int brs__engine_queue_position(const brs_engine *e, uint64_t id, int64_t *ahead)
{
    uint32_t oi = id_find(e, id);
    if (!oi)
        return BRS_E_UNKNOWNORDER;
    int64_t q = 0;
    for (uint32_t i = e->pool[oi].prev; i; i = e->pool[i].prev)
        q += e->pool[i].leaves;
    *ahead = q;
    return BRS_OK;
}

size_t brs__engine_level_queue(const brs_engine *e, uint32_t instrument, int side, int64_t price,
                               brs_queue_entry *out, size_t n)
{
    if (instrument >= e->nbooks || (side != BRS_BUY && side != BRS_SELL) ||
        !e->books[instrument].ready)
        return 0;
    const level *l = level_find(&e->books[instrument].s[side], e->W, price);
    if (!l)
        return 0;
    size_t k = 0;
    for (uint32_t i = l->head; i; i = e->pool[i].next, k++)
        if (k < n)
            out[k] = (brs_queue_entry){.id = e->pool[i].id, .leaves = e->pool[i].leaves};
    return k;
}

size_t brs__engine_live_orders(const brs_engine *e)
{
    return e->live;
}

size_t brs__engine_bytes_per_order(const brs_engine *e)
{
    size_t hash = ((size_t)e->ht_mask + 1) * sizeof *e->ht + ((size_t)e->dir_mask + 1) * sizeof *e->dir,
           n = e->cap - 1;
    return sizeof(ord) + (hash + n - 1) / n;
}
