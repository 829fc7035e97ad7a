/* lbook.c: a small L3 book (orders by id in an open-addressing hash, levels
 * per side in a short unsorted array) for the LOBSTER importer's bookkeeping
 * and reconciliation. Not the matching engine: no priority, no matching. */
#include "ticks/lbook.h"

#include <stdlib.h>
#include <string.h>

static size_t brs__lb_hash_id(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (size_t)id;
}

brs_lorder *brs__lb_find(brs_lbook *b, uint64_t id)
{
    if (!b->slot)
        return NULL;
    for (size_t i = brs__lb_hash_id(id) & b->mask;; i = (i + 1) & b->mask) {
        if (b->slot[i].id == id)
            return &b->slot[i];
        if (b->slot[i].id == 0)
            return NULL;
    }
}

static int brs__lb_grow(brs_lbook *b)
{
    size_t ncap = b->slot ? (b->mask + 1) * 2 : 1024;
    brs_lorder *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return BRS_E_NOMEM;
    for (size_t i = 0; b->slot && i <= b->mask; i++)
        if (b->slot[i].id) {
            size_t j = brs__lb_hash_id(b->slot[i].id) & (ncap - 1);
            while (ns[j].id)
                j = (j + 1) & (ncap - 1);
            ns[j] = b->slot[i];
        }
    free(b->slot);
    b->slot = ns;
    b->mask = ncap - 1;
    return BRS_OK;
}

/* Remove by backward-shift so probing never needs tombstones. */
void brs__lb_erase(brs_lbook *b, brs_lorder *o)
{
    size_t i = (size_t)(o - b->slot);
    b->slot[i].id = 0;
    b->used--;
    for (size_t j = (i + 1) & b->mask; b->slot[j].id; j = (j + 1) & b->mask) {
        size_t h = brs__lb_hash_id(b->slot[j].id) & b->mask;
        /* can slot j move to the hole at i? only if i lies cyclically in [h, j) */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            b->slot[i] = b->slot[j];
            b->slot[j].id = 0;
            i = j;
        }
    }
}

int brs__lb_level_add(brs_lbook *b, uint8_t side, int64_t price, int64_t dq)
{
    brs_llevel *v = b->lv[side];
    for (size_t i = 0; i < b->nlv[side]; i++)
        if (v[i].price == price) {
            v[i].qty += dq;
            if (v[i].qty <= 0)
                v[i] = v[--b->nlv[side]];
            return BRS_OK;
        }
    if (dq <= 0)
        return BRS_OK;
    if (b->nlv[side] == b->caplv[side]) {
        size_t nc = b->caplv[side] ? b->caplv[side] * 2 : 64;
        brs_llevel *nv = realloc(v, nc * sizeof *nv);
        if (!nv)
            return BRS_E_NOMEM;
        b->lv[side] = v = nv;
        b->caplv[side] = nc;
    }
    v[b->nlv[side]++] = (brs_llevel){price, dq};
    return BRS_OK;
}

int64_t brs__lb_level_qty(const brs_lbook *b, uint8_t side, int64_t price)
{
    for (size_t i = 0; i < b->nlv[side]; i++)
        if (b->lv[side][i].price == price)
            return b->lv[side][i].qty;
    return 0;
}

int brs__lb_add(brs_lbook *b, uint64_t id, uint8_t side, int64_t price, int64_t qty)
{
    if ((b->used + 1) * 2 > (b->slot ? b->mask + 1 : 0) && brs__lb_grow(b))
        return BRS_E_NOMEM;
    size_t i = brs__lb_hash_id(id) & b->mask;
    while (b->slot[i].id)
        i = (i + 1) & b->mask;
    b->slot[i] = (brs_lorder){id, price, qty, side};
    b->used++;
    return brs__lb_level_add(b, side, price, qty);
}

void brs__lb_reduce(brs_lbook *b, brs_lorder *o, int64_t q)
{
    brs__lb_level_add(b, o->side, o->price, -q);
    o->qty -= q;
    if (o->qty <= 0)
        brs__lb_erase(b, o);
}

void brs__lb_free(brs_lbook *b)
{
    free(b->slot);
    free(b->lv[0]);
    free(b->lv[1]);
}

