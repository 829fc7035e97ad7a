/* clset.c: a set of 64-bit hashes (open addressing, linear probing, at most
 * half full) for the ClOrdIDs of orders forgotten by a checkpoint. */
#include "fix/clset.h"

#include <stdlib.h>

#include <bourse/errors.h>

static void put(uint64_t *t, uint64_t cap, uint64_t h)
{
    uint64_t i = h & (cap - 1);
    while (t[i] && t[i] != h)
        i = (i + 1) & (cap - 1);
    t[i] = h;
}

static int grow(brs__fix_clset *s, uint64_t need)
{
    uint64_t nc = s->cap ? s->cap : 1024;
    while (need * 2 > nc)
        nc *= 2;
    if (nc > s->cap) {
        uint64_t *t = calloc(nc, sizeof *t);
        if (!t)
            return BRS_E_NOMEM;
        for (uint64_t k = 0; k < s->cap; k++)
            if (s->slot[k])
                put(t, nc, s->slot[k]);
        free(s->slot);
        s->slot = t;
        s->cap = nc;
    }
    return BRS_OK;
}

int brs__fix_clset_reserve(brs__fix_clset *s, uint64_t n)
{
    return n ? grow(s, s->used + n) : BRS_OK;
}

int brs__fix_clset_add(brs__fix_clset *s, uint64_t h)
{
    if (!h)
        h = 1;
    if (brs__fix_clset_has(s, h))
        return BRS_OK;
    if ((s->used + 1) * 2 > s->cap && grow(s, s->used + 1) != BRS_OK)
        return BRS_E_NOMEM;
    put(s->slot, s->cap, h);
    s->used++;
    return BRS_OK;
}

int brs__fix_clset_has(const brs__fix_clset *s, uint64_t h)
{
    if (!s->cap)
        return 0;
    if (!h)
        h = 1;
    for (uint64_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == h)
            return 1;
        if (!s->slot[i])
            return 0;
    }
}

void brs__fix_clset_free(brs__fix_clset *s)
{
    free(s->slot);
    s->slot = NULL;
    s->cap = s->used = 0;
}
