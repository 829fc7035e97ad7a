/* app_table.c: the FIX application's order table (slots in OrderID order)
 * and its ClOrdID map (session + ClOrdID -> slot), with the end-of-day
 * forgetting of closed orders and the duplicate check against them. */
#include "fix/app.h"
#include "fix/archive.h"
#include "fix/app_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "ops/live.h"
#include "ops/metrics.h"
#include "fix/wal.h"

/* ---- ClOrdID map ----------------------------------------------------------- */

static uint64_t hash_key(uint32_t session, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ session;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h | 1;
}

static brs__fix_clmap_entry *probe(brs__fix_clmap_entry *t, uint64_t cap, uint64_t h,
                                   uint32_t session, const char *s, size_t n)
{
    for (uint64_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        brs__fix_clmap_entry *e = &t[i];
        if (!e->order)
            return NULL;
        if (e->hash == h && e->session == session && strncmp(e->clordid, s, n) == 0 &&
            e->clordid[n] == 0)
            return e;
    }
}

/* The entry for (session, ClOrdID), or NULL. During a growth a key not yet
 * moved is still in the old table, whose chains are intact (it is only read). */
brs__fix_clmap_entry *brs__fix_map_find(brs__fix_gateway *g, uint32_t session, const char *s,
                                      size_t n)
{
    if (!g->map_cap || n >= BRS__FIX_CLORDID_MAX)
        return NULL;
    uint64_t h = hash_key(session, s, n);
    brs__fix_clmap_entry *e = probe(g->map, g->map_cap, h, session, s, n);
    if (!e && g->map_old)
        e = probe(g->map_old, g->map_old_cap, h, session, s, n);
    return e;
}

static brs__fix_clmap_entry *free_slot(brs__fix_gateway *g, uint64_t h)
{
    uint64_t i = h & (g->map_cap - 1);
    while (g->map[i].order)
        i = (i + 1) & (g->map_cap - 1);
    return &g->map[i];
}

/* Moves up to `slots` slots of the old table into the new one; frees the old
 * table when all are moved. */
static void map_migrate(brs__fix_gateway *g, uint64_t slots)
{
    for (; slots && g->map_old_next < g->map_old_cap; slots--) {
        const brs__fix_clmap_entry *o = &g->map_old[g->map_old_next++];
        if (o->order)
            *free_slot(g, o->hash) = *o;
    }
    if (g->map_old && g->map_old_next == g->map_old_cap) {
        free(g->map_old);
        g->map_old = NULL;
        g->map_old_cap = g->map_old_next = 0;
    }
}

/* Adds a key the caller has checked is absent. The table doubles when half
 * full; the move of the old slots is spread over the next inserts, 4 slots
 * each, so it ends after old_cap/4 inserts, well before the doubled table is
 * half full again (old_cap/2 inserts): no insert pays for the whole table. */
int brs__fix_map_put(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t order)
{
    if (g->map_old)
        map_migrate(g, 4);
    if ((g->map_used + 1) * 2 > g->map_cap) {
        uint64_t nc = g->map_cap ? g->map_cap * 2 : 4096;
        brs__fix_clmap_entry *nm = calloc(nc, sizeof *nm); /* fresh zero pages, no memset */
        if (!nm)
            return BRS_E_NOMEM;
        map_migrate(g, UINT64_MAX); /* only if inserts outran the move: never by design */
        g->map_old = g->map;
        g->map_old_cap = g->map_cap;
        g->map_old_next = 0;
        g->map = nm;
        g->map_cap = nc;
    }
    size_t n = strlen(s);
    uint64_t h = hash_key(session, s, n);
    brs__fix_clmap_entry *e = free_slot(g, h);
    e->hash = h;
    e->session = session;
    e->order = order;
    memcpy(e->clordid, s, n + 1);
    g->map_used++;
    return BRS_OK;
}

void brs__fix_map_free(brs__fix_gateway *g)
{
    free(g->map);
    free(g->map_old);
    g->map = g->map_old = NULL;
    g->map_cap = g->map_used = g->map_old_cap = g->map_old_next = 0;
}

/* ---- order table ------------------------------------------------------------ */

/* Slots in OrderID order: the dense run by subtraction, the sparse prefix by
 * binary search. No per-order index to keep, no random access for new orders. */
brs__fix_order *brs__fix_order_by_id(brs__fix_gateway *g, uint64_t id)
{
    if (id == 0 || g->n_orders == 0)
        return NULL;
    if (g->dense_start < g->n_orders && id >= g->dense_first) {
        uint64_t k = g->dense_start + (id - g->dense_first);
        return k < g->n_orders ? &g->orders[k] : NULL;
    }
    uint64_t lo = 0, hi = g->dense_start < g->n_orders ? g->dense_start : g->n_orders;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->orders[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->n_orders && g->orders[lo].id == id ? &g->orders[lo] : NULL;
}

/* After the table was rebuilt in OrderID order (compaction, snapshot): all of
 * it is the sorted prefix; the next new order starts a dense run. */
void brs__fix_table_sorted(brs__fix_gateway *g)
{
    g->dense_start = g->n_orders;
    g->dense_first = 0;
}

/* A new slot at the end for OrderID id (zeroed but for the id). Ids arrive in
 * increasing order, except while a snapshot is read (sorted at its end). */
int brs__fix_add_slot(brs__fix_gateway *g, uint64_t id, brs__fix_order **out)
{
    if (g->n_orders >= UINT32_MAX - 1)
        return BRS_E_LIMIT;
    if (g->n_orders == g->cap_orders) {
        uint64_t c = g->cap_orders ? g->cap_orders * 2 : 4096;
        brs__fix_order *p = realloc(g->orders, c * sizeof *p);
        if (!p)
            return BRS_E_NOMEM;
        g->orders = p;
        g->cap_orders = c;
    }
    uint64_t k = g->n_orders++;
    if (k == g->dense_start)
        g->dense_first = id;
    else if (id != g->dense_first + (k - g->dense_start)) { /* the run breaks: a new one */
        g->dense_start = k;
        g->dense_first = id;
    }
    brs__fix_order *o = &g->orders[k];
    memset(o, 0, sizeof *o);
    o->id = id;
    *out = o;
    return BRS_OK;
}

uint64_t brs__fix_gateway_orders_held(const brs__fix_gateway *g)
{
    return g->n_orders;
}

/* A new trading day: closed orders leave the table, and the ClOrdID map keeps
 * the open orders' current ClOrdIDs only (FIX asks ClOrdIDs to be unique
 * within a day, so yesterday's may come back). Tables shrink to the open
 * state. Nothing changes if memory runs out. */
int brs__fix_forget_closed(brs__fix_gateway *g)
{
    uint64_t n = 0;
    for (uint64_t k = 0; k < g->n_orders; k++)
        n += g->orders[k].open;
    uint64_t mcap = 4096;
    while ((n + 1) * 2 > mcap)
        mcap *= 2;
    brs__fix_clmap_entry *m = calloc(mcap, sizeof *m);
    if (!m)
        return BRS_E_NOMEM;
    uint64_t j = 0;
    for (uint64_t k = 0; k < g->n_orders; k++)
        if (g->orders[k].open)
            g->orders[j++] = g->orders[k];
    g->n_orders = j;
    uint64_t ocap = 4096;
    while (ocap < j)
        ocap *= 2;
    if (g->cap_orders > ocap * 2) { /* shrinking cannot fail for want of memory */
        brs__fix_order *p = realloc(g->orders, ocap * sizeof *p);
        if (p) {
            g->orders = p;
            g->cap_orders = ocap;
        }
    }
    brs__fix_table_sorted(g);
    brs__fix_map_free(g);
    g->map = m;
    g->map_cap = mcap;
    for (uint64_t k = 0; k < j; k++)
        brs__fix_map_put(g, g->orders[k].session, g->orders[k].clordid, (uint32_t)(k + 1));
    brs__fix_clset_free(&g->closed); /* a checkpoint's forgotten ClOrdIDs too */
    return BRS_OK;
}

/* A ClOrdID of an order a checkpoint forgot today? */
int brs__fix_closed_dup(const brs__fix_gateway *g, uint32_t session, const char *s, size_t n)
{
    return g->closed.used && brs__fix_clset_has(&g->closed, hash_key(session, s, n));
}
