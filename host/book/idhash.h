/* idhash.h: the engine's index from caller-assigned uint64 order ids to pool
 * records: a direct-mapped table (slot id & mask; ids are dense) in front of a
 * Robin Hood hash that holds only the ids whose slot was taken by another live
 * id (docs/performance.md, "Data layout"). Internal to host/book/. */
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

/* ---- the id index: direct slots first, the hash only for collisions ------ */

/* Out of line (engine.c): the overflow hash's insert, remove and lookup. */
void brs__idx_over_insert(brs_engine *e, uint32_t idx, uint64_t id);
void brs__idx_over_remove(brs_engine *e, uint64_t id, uint32_t idx);
uint32_t brs__idx_over_find(const brs_engine *e, uint64_t id);

/* The pool index of a live id, or 0. Ids the host and the gateways assign
 * are dense and increasing, so a live id nearly always owns its direct slot:
 * one load (a miss of a long-gone or not yet issued id reads an empty slot
 * and touches nothing else); the hash is probed only while it holds any id. */
static inline uint32_t *id_dir_slot(const brs_engine *e, uint64_t id)
{
    return &e->dir[id & e->dir_mask];
}

/* Out of line (engine.c): id_find, given id's direct slot. */
uint32_t brs__id_find_dir_slow(const brs_engine *e, uint64_t id, const uint32_t *slot);

/* Is id live? Given its direct slot (id_dir_slot). A new id (a submit's
 * duplicate check) finds its slot empty and the overflow hash empty: one
 * test of both, one branch; anything else is answered out of line. */
static inline int id_live_dir(const brs_engine *e, uint64_t id, const uint32_t *slot)
{
    if (BRS__LIKELY((*slot | e->over) == 0))
        return 0;
    return brs__id_find_dir_slow(e, id, slot) != 0;
}

static inline uint32_t id_find(const brs_engine *e, uint64_t id)
{
    uint32_t i = e->dir[id & e->dir_mask];
    if (BRS__LIKELY(i != 0) && BRS__LIKELY(e->pool[i].id == id))
        return i;
    if (BRS__LIKELY(e->over == 0))
        return 0;
    return brs__idx_over_find(e, id);
}

/* An empty direct slot kept in cache, read in place of the table for an id
 * that cannot be live. */
static const uint32_t id_none;

/* The direct slot to read for an id from outside (a cancel), where an empty
 * slot and an empty overflow hash mean "not live". An id above every id entered
 * since the reset cannot be live (ids are assigned in increasing order by the
 * host and the gateways; half the QuantCup feed's unknown-id cancels name ids
 * not issued yet): it reads an empty slot kept in cache instead of a cold
 * line of the table, chosen without a branch, so that the miss costs no
 * misprediction either (which of the two it is, is a coin toss on a feed). */
static inline const uint32_t *id_slot_ext(const brs_engine *e, uint64_t id)
{
    const uint32_t *d = &e->dir[id & e->dir_mask];
#if defined(__x86_64__) && defined(__GNUC__)
    /* GCC makes a branch of the select below: a conditional move, said outright */
    __asm__("cmpq %[max], %[id]\n\tcmova %[none], %[d]"
            : [d] "+r"(d)
            : [id] "r"(id), [max] "rm"(e->id_max), [none] "r"(&id_none)
            : "cc");
#else
    uintptr_t beyond = -(uintptr_t)(id > e->id_max); /* all ones or 0: a select, not a branch */
    d = (const uint32_t *)(((uintptr_t)d & ~beyond) | ((uintptr_t)&id_none & beyond));
#endif
    return d;
}

/* Adds pool[idx] under id (not present), whose direct slot is d (id_dir_slot:
 * a submit keeps the address from its duplicate check). */
static inline void id_insert_dir(brs_engine *e, uint32_t idx, uint64_t id, uint32_t *d)
{
    if (BRS__LIKELY(*d == 0))
        *d = idx;
    else
        brs__idx_over_insert(e, idx, id);
    e->id_max = id > e->id_max ? id : e->id_max;
}

/* Adds pool[idx] under id (not present). */
static inline void id_insert(brs_engine *e, uint32_t idx, uint64_t id)
{
    uint32_t *d = &e->dir[id & e->dir_mask];
    if (BRS__LIKELY(*d == 0))
        *d = idx;
    else
        brs__idx_over_insert(e, idx, id);
    e->id_max = id > e->id_max ? id : e->id_max;
}

/* Removes the entry of pool[idx] (id, present). While the overflow hash is
 * empty every live id holds its direct slot, so the slot is cleared without
 * being read: a store that may miss the cache instead of a load that must
 * wait for it (a filled maker's or a cancelled order's slot is a random line
 * of the table). */
static inline void id_remove(brs_engine *e, uint64_t id, uint32_t idx)
{
    uint32_t *d = &e->dir[id & e->dir_mask];
    if (BRS__LIKELY(e->over == 0) || *d == idx)
        *d = 0;
    else
        brs__idx_over_remove(e, id, idx);
}

#endif
