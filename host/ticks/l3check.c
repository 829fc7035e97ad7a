/* l3check.c: the L3 consistency check behind `ticks verify`: one open
 * addressing table of resting orders keyed by (instrument, id), linear
 * probing with backward-shift deletion, so memory follows the live orders. */
#include "ticks/l3check.h"

#include <stdlib.h>

static size_t hash(uint32_t instr, uint64_t id)
{
    uint64_t x = id ^ ((uint64_t)instr * 0x9E3779B97F4A7C15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static brs_l3slot *find(brs_l3check *c, uint32_t instr, uint64_t id)
{
    if (!c->slot || id == 0)
        return NULL;
    for (size_t i = hash(instr, id) & c->mask;; i = (i + 1) & c->mask) {
        brs_l3slot *s = &c->slot[i];
        if (s->id == 0)
            return NULL;
        if (s->id == id && s->instrument == instr)
            return s;
    }
}

static void erase(brs_l3check *c, brs_l3slot *s)
{
    size_t i = (size_t)(s - c->slot);
    c->slot[i].id = 0;
    c->used--;
    for (size_t j = (i + 1) & c->mask; c->slot[j].id; j = (j + 1) & c->mask) {
        size_t h = hash(c->slot[j].instrument, c->slot[j].id) & c->mask;
        /* move j back to i if its home is not in (i, j] (cyclically) */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            c->slot[i] = c->slot[j];
            c->slot[j].id = 0;
            i = j;
        }
    }
}

static int insert(brs_l3check *c, uint32_t instr, uint64_t id, int64_t qty)
{
    if (!c->slot || (c->used + 1) * 2 > c->mask + 1) {
        size_t cap = c->slot ? (c->mask + 1) * 2 : 1024;
        brs_l3slot *ns = calloc(cap, sizeof *ns), *old = c->slot;
        if (!ns)
            return -1;
        size_t oldcap = c->slot ? c->mask + 1 : 0;
        c->slot = ns;
        c->mask = cap - 1;
        for (size_t k = 0; k < oldcap; k++)
            if (old[k].id) {
                size_t i = hash(old[k].instrument, old[k].id) & c->mask;
                while (ns[i].id)
                    i = (i + 1) & c->mask;
                ns[i] = old[k];
            }
        free(old);
    }
    size_t i = hash(instr, id) & c->mask;
    while (c->slot[i].id)
        i = (i + 1) & c->mask;
    c->slot[i] = (brs_l3slot){.id = id, .instrument = instr, .qty = qty};
    c->used++;
    return 0;
}

static void bad(brs_l3check *c, uint64_t *counter)
{
    (*counter)++;
    if (!c->first_bad)
        c->first_bad = c->seen;
}

void brs__l3check_event(brs_l3check *c, const brs_market_event *e)
{
    c->seen++;
    if (c->nomem)
        return;
    switch (e->kind) {
    case BRS_MEV_SNAPSHOT_BEGIN: /* the instrument's book restarts from empty */
        for (size_t i = 0; c->slot && i <= c->mask;) {
            if (c->slot[i].id && c->slot[i].instrument == e->instrument)
                erase(c, &c->slot[i]); /* may shift a later entry into i: look again */
            else
                i++;
        }
        break;
    case BRS_MEV_ADD:
        if (find(c, e->instrument, e->order_id))
            bad(c, &c->duplicate);
        else if (e->order_id && insert(c, e->instrument, e->order_id, e->qty))
            c->nomem = 1;
        break;
    case BRS_MEV_CANCEL:
    case BRS_MEV_EXECUTE: {
        brs_l3slot *s = find(c, e->instrument, e->order_id);
        if (!s) {
            bad(c, &c->unknown);
            break;
        }
        if (e->qty > s->qty)
            bad(c, &c->overdrawn);
        s->qty -= e->qty;
        if (s->qty <= 0)
            erase(c, s);
        break;
    }
    case BRS_MEV_MODIFY: {
        brs_l3slot *s = find(c, e->instrument, e->order_id);
        if (!s) {
            bad(c, &c->unknown);
            break;
        }
        uint64_t id = e->aux ? (uint64_t)e->aux : e->order_id;
        erase(c, s);
        if (e->qty > 0 && insert(c, e->instrument, id, e->qty))
            c->nomem = 1;
        break;
    }
    default: break;
    }
}

void brs__l3check_free(brs_l3check *c)
{
    free(c->slot);
    c->slot = NULL;
    c->mask = c->used = 0;
}
