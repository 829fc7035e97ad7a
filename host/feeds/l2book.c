/* l2book.c: the sorted-array L2 book. Binary search to find a level, memmove to
 * insert or remove; the best level sits at the end so changes near the touch
 * (nearly all of them in a real feed) move only a few entries. */
#include "l2book.h"

#include <stdlib.h>
#include <string.h>

#include <bourse/errors.h>

int brs__l2_init(brs__l2_book *b, uint32_t reserve)
{
    memset(b, 0, sizeof *b);
    if (reserve == 0)
        return BRS_OK;
    for (int s = 0; s < 2; s++) {
        b->side[s].v = malloc((size_t)reserve * sizeof(brs__l2_entry));
        if (!b->side[s].v) {
            brs__l2_free(b);
            return BRS_E_NOMEM;
        }
        b->side[s].cap = reserve;
    }
    return BRS_OK;
}

void brs__l2_free(brs__l2_book *b)
{
    for (int s = 0; s < 2; s++)
        free(b->side[s].v);
    memset(b, 0, sizeof *b);
}

void brs__l2_clear(brs__l2_book *b)
{
    b->side[0].n = 0;
    b->side[1].n = 0;
}

/* Index of the first entry with key >= k (n when none). */
static uint32_t lower_bound(const brs__l2_side *sd, int64_t k)
{
    uint32_t lo = 0, hi = sd->n;
    /* Most updates land near the best (the end): check the last few first. */
    if (hi > 0 && sd->v[hi - 1].key < k)
        return hi;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sd->v[mid].key < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int brs__l2_set(brs__l2_book *b, int side, int64_t price, int64_t qty)
{
    if ((side != BRS_BUY && side != BRS_SELL) || qty < 0)
        return BRS_E_INVAL;
    brs__l2_side *sd = &b->side[side];
    int64_t k = side == BRS_BUY ? price : -price;
    uint32_t i = lower_bound(sd, k);
    int found = i < sd->n && sd->v[i].key == k;
    if (qty == 0) {
        if (found) {
            memmove(&sd->v[i], &sd->v[i + 1], (size_t)(sd->n - i - 1) * sizeof *sd->v);
            sd->n--;
        }
        return BRS_OK;
    }
    if (found) {
        sd->v[i].qty = qty;
        return BRS_OK;
    }
    if (sd->n == sd->cap) {
        uint32_t nc = sd->cap ? sd->cap * 2 : 64;
        brs__l2_entry *nv = realloc(sd->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return BRS_E_NOMEM;
        sd->v = nv;
        sd->cap = nc;
    }
    memmove(&sd->v[i + 1], &sd->v[i], (size_t)(sd->n - i) * sizeof *sd->v);
    sd->v[i].key = k;
    sd->v[i].qty = qty;
    sd->n++;
    return BRS_OK;
}

uint32_t brs__l2_depth(const brs__l2_book *b, int side, brs_level *out, uint32_t cap)
{
    if (side != BRS_BUY && side != BRS_SELL)
        return 0;
    const brs__l2_side *sd = &b->side[side];
    uint32_t n = sd->n < cap ? sd->n : cap;
    for (uint32_t j = 0; j < n; j++) {
        const brs__l2_entry *e = &sd->v[sd->n - 1 - j];
        out[j].price = side == BRS_BUY ? e->key : -e->key;
        out[j].qty = e->qty;
        out[j].orders = 0;
        out[j].reserved = 0;
    }
    return n;
}

int brs__l2_best(const brs__l2_book *b, int side, int64_t *price, int64_t *qty)
{
    if (side != BRS_BUY && side != BRS_SELL)
        return 0;
    const brs__l2_side *sd = &b->side[side];
    if (sd->n == 0)
        return 0;
    const brs__l2_entry *e = &sd->v[sd->n - 1];
    *price = side == BRS_BUY ? e->key : -e->key;
    *qty = e->qty;
    return 1;
}

int64_t brs__l2_qty(const brs__l2_book *b, int side, int64_t price)
{
    if (side != BRS_BUY && side != BRS_SELL)
        return 0;
    const brs__l2_side *sd = &b->side[side];
    int64_t k = side == BRS_BUY ? price : -price;
    uint32_t i = lower_bound(sd, k);
    return i < sd->n && sd->v[i].key == k ? sd->v[i].qty : 0;
}
