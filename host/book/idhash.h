/* idhash.h: the engine's index from caller-assigned uint64 order ids to pool
 * records: Robin Hood linear probing, slots holding the pool index and the
 * entry's home slot (docs/performance.md, "Data layout"). Internal to host/book/. */
#ifndef BRS_BOOK_IDHASH_H
#define BRS_BOOK_IDHASH_H

#include "book/book_impl.h"

/* ---- id hash: Robin Hood linear probing over pool indices -------------- */

/* Ids in blocks of 16 share 16 adjacent slots (callers assign ids
 * sequentially, so live ids sit at their home slots, two cache lines per
 * block), while the blocks themselves are scattered by a Fibonacci multiply so
 * strided ids do not pile up. */
static inline uint32_t ht_home(const brs_engine *e, uint64_t id)
{
    uint64_t blk = ((id >> 4) * UINT64_C(0x9E3779B97F4A7C15)) >> e->ht_shift;
    return (uint32_t)((blk << 4) | (id & 15));
}

/* Distance of slot i's entry from its home. */
static inline uint32_t ht_disp(const brs_engine *e, uint32_t i)
{
    return (i - e->ht[i].home) & e->ht_mask;
}

/* The slot holding id, or UINT32_MAX. Robin Hood order lets a miss stop at the
 * first entry closer to its home than we are to ours. */
static inline uint32_t ht_slot_at(const brs_engine *e, uint64_t id, uint32_t h)
{
    uint32_t i = h;
    for (uint32_t d = 0;; d++, i = (i + 1) & e->ht_mask) {
        const hslot *x = &e->ht[i];
        if ((x->idx == 0) | (ht_disp(e, i) < d))
            return UINT32_MAX;
        if (x->home == h && e->pool[x->idx].id == id)
            return i;
    }
}

/* The pool index of id (home slot h), or 0. */
static inline uint32_t ht_find_at(const brs_engine *e, uint64_t id, uint32_t h)
{
    uint32_t i = ht_slot_at(e, id, h);
    return i == UINT32_MAX ? 0 : e->ht[i].idx;
}

static inline uint32_t ht_find(const brs_engine *e, uint64_t id)
{
    return ht_find_at(e, id, ht_home(e, id));
}

/* An empty slot in cache, probed in place of the table for an id that
 * cannot be there. */
static const hslot ht_none;

/* The pool index of an id from outside (a cancel), or 0. An id above every
 * id entered since the reset cannot be live (ids are assigned in increasing
 * order by the host and the gateways; half the QuantCup feed's unknown-id
 * cancels name ids not issued yet): it reads an empty slot kept in cache
 * instead of a random line of the table, chosen without a branch so that
 * the miss costs no misprediction either. */
static inline uint32_t ht_find_ext(const brs_engine *e, uint64_t id)
{
    uint32_t h = ht_home(e, id);
    uintptr_t beyond = -(uintptr_t)(id > e->id_max); /* all ones or 0: a select, not a branch */
    const hslot *x = (const hslot *)(((uintptr_t)&e->ht[h] & ~beyond) | ((uintptr_t)&ht_none & beyond));
    if (x->idx == 0)
        return 0;
    return ht_find_at(e, id, h);
}

/* Adds pool[idx] (its id, whose home slot is h, not present). */
static inline void ht_insert_home(brs_engine *e, uint32_t idx, uint32_t h)
{
    hslot cur = {idx, h};
    uint32_t i = cur.home;
    for (uint32_t d = 0;; d++, i = (i + 1) & e->ht_mask) {
        hslot *x = &e->ht[i];
        if (!x->idx) {
            *x = cur;
            return;
        }
        uint32_t xd = ht_disp(e, i);
        if (xd < d) { /* take from the rich: the resident moves on */
            hslot t = *x;
            *x = cur;
            cur = t;
            d = xd;
        }
    }
}

static inline void ht_insert(brs_engine *e, uint32_t idx, uint64_t id)
{
    ht_insert_home(e, idx, ht_home(e, id));
    e->id_max = id > e->id_max ? id : e->id_max;
}

/* Backward-shift delete from slot i: stops at an empty slot or an entry at
 * its home. One branch per step (the product is 0 when either is), as both
 * outcomes are common and two branches mispredicted on every other delete. */
static inline void ht_delete_slot(brs_engine *e, uint32_t i)
{
    for (;;) {
        uint32_t j = (i + 1) & e->ht_mask;
        hslot n = e->ht[j];
        if ((uint64_t)n.idx * ((j - n.home) & e->ht_mask) == 0)
            break;
        e->ht[i] = n;
        i = j;
    }
    e->ht[i] = (hslot){0, 0};
}

/* Removes the entry of pool[idx], which is present: found by its pool index
 * from the home of its id, without reading the pool. */
static inline void ht_remove(brs_engine *e, uint64_t id, uint32_t idx)
{
    uint32_t i = ht_home(e, id);
    while (e->ht[i].idx != idx)
        i = (i + 1) & e->ht_mask;
    ht_delete_slot(e, i);
}

#endif
