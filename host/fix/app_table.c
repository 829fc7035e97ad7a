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

/* The map's slots are 16 bytes (hash, order, where the key is); the keys
 * themselves, [session u32][length u8][bytes], are appended to one arena.
 * A lookup of a new ClOrdID (every NewOrderSingle) reads only slots, and
 * four slots share a cache line where whole keys in the slots took one each:
 * the table a gateway walks at random is a quarter of the size, in memory,
 * in cache misses and in page faults (issue 14). */
#define KEY_HEAD 5u

static uint64_t hash_key(uint32_t session, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ session;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h | 1;
}

static int key_is(const brs__fix_gateway *g, uint32_t key, uint32_t session, const char *s,
                  size_t n)
{
    const unsigned char *k = (const unsigned char *)g->keys + key;
    uint32_t ks;
    memcpy(&ks, k, 4);
    return ks == session && k[4] == n && memcmp(k + KEY_HEAD, s, n) == 0;
}

/* Is entry e gone for lookups while a stepwise end of day runs (app_eod.c)?
 * An earlier link of an old day's order (the ones made since the boundary
 * became hashes at once), or the current ClOrdID of an old day's order gone
 * (closed before the boundary or by its expiry, nothing since). */
static int entry_gone(const brs__fix_gateway *g, const brs__fix_clmap_entry *e)
{
    const brs__fix_order *o = &g->orders[e->order - 1];
    return o->id <= g->eod_last_id && (brs__fix_eod_gone(g, o) || !brs__fix_map_key_current(g, e));
}

/* The entry of (session, ClOrdID): ref 0, the live one (during a stepwise end
 * of day an entry gone for lookups is passed over: the key may be in the map
 * twice, gone and reused); else the one pointing at slot ref. */
static brs__fix_clmap_entry *probe(const brs__fix_gateway *g, brs__fix_clmap_entry *t, uint64_t cap,
                                   uint64_t h, uint32_t session, const char *s, size_t n, uint32_t ref)
{
    for (uint64_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        brs__fix_clmap_entry *e = &t[i];
        if (!e->order)
            return NULL;
        if (e->order != BRS__FIX_MAP_TOMB && e->hash == h && (ref ? e->order == ref : 1) &&
            key_is(g, e->key, session, s, n) && (ref || !g->eod_phase || !entry_gone(g, e)))
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
    brs__fix_clmap_entry *e = probe(g, g->map, g->map_cap, h, session, s, n, 0);
    if (!e && g->map_old)
        e = probe(g, g->map_old, g->map_old_cap, h, session, s, n, 0);
    return e;
}

/* Is this entry's key the ClOrdID its order has now (not an earlier link of a
 * cancel/replace chain)? */
int brs__fix_map_key_current(const brs__fix_gateway *g, const brs__fix_clmap_entry *e)
{
    const brs__fix_order *o = &g->orders[e->order - 1];
    return key_is(g, e->key, o->session, o->clordid, strlen(o->clordid));
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
        if (o->order && o->order != BRS__FIX_MAP_TOMB) /* tombstones stay behind */
            *free_slot(g, o->hash) = *o;
    }
    if (g->map_old && g->map_old_next == g->map_old_cap) {
        free(g->map_old);
        g->map_old = NULL;
        g->map_old_cap = g->map_old_next = 0;
    }
}

/* A zeroed table of cap slots (fresh pages from calloc). huge: in huge pages
 * where the system allows (a fault per 2 MB, not per 4 KB) - only for tables
 * filled before the gateway listens (a restart): with the kernel's THP
 * defrag in madvise mode a huge-page fault may compact memory first, a pause
 * the live order path should not take. */
brs__fix_clmap_entry *brs__fix_map_alloc(uint64_t cap, int huge)
{
    brs__fix_clmap_entry *m = calloc(cap, sizeof *m);
    if (m && huge)
        brs__fix_advise_huge(m, cap * sizeof *m);
    return m;
}

/* Room for n more bytes of keys. */
static int keys_reserve(brs__fix_gateway *g, uint64_t n)
{
    if (g->keys_len + n <= g->keys_cap)
        return BRS_OK;
    if (g->keys_len + n > UINT32_MAX)
        return BRS_E_LIMIT; /* 4 GB of ClOrdIDs: over any day's max_orders */
    uint64_t c = g->keys_cap ? g->keys_cap : 65536;
    while (c < g->keys_len + n)
        c *= 2;
    if (c > UINT32_MAX)
        c = UINT32_MAX;
    char *p = realloc(g->keys, c);
    if (!p)
        return BRS_E_NOMEM;
    g->keys = p;
    g->keys_cap = c;
    return BRS_OK;
}

/* Adds a key the caller has checked is absent. The table doubles when half
 * full; the move of the old slots is spread over the next inserts, 4 slots
 * each, so it ends after old_cap/4 inserts, well before the doubled table is
 * half full again (old_cap/2 inserts): no insert pays for the whole table. */
int brs__fix_map_put(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t order)
{
    size_t n = strlen(s);
    if (n >= BRS__FIX_CLORDID_MAX)
        return BRS_E_INVAL;
    int rc = keys_reserve(g, KEY_HEAD + n);
    if (rc != BRS_OK)
        return rc;
    if (g->map_old)
        map_migrate(g, 4);
    if ((g->map_used + 1) * 2 > g->map_cap) {
        uint64_t nc = g->map_cap ? g->map_cap * 2 : 4096;
        brs__fix_clmap_entry *nm = brs__fix_map_alloc(nc, 0);
        if (!nm)
            return BRS_E_NOMEM;
        map_migrate(g, UINT64_MAX); /* only if inserts outran the move: never by design */
        g->map_old = g->map;
        g->map_old_cap = g->map_cap;
        g->map_old_next = 0;
        g->map = nm;
        g->map_cap = nc;
    }
    uint64_t h = hash_key(session, s, n);
    brs__fix_clmap_entry *e = free_slot(g, h);
    e->hash = h;
    e->order = order;
    e->key = (uint32_t)g->keys_len;
    unsigned char *k = (unsigned char *)g->keys + g->keys_len;
    memcpy(k, &session, 4);
    k[4] = (unsigned char)n;
    memcpy(k + KEY_HEAD, s, n);
    g->keys_len += KEY_HEAD + n;
    g->map_used++;
    return BRS_OK;
}

/* Every order of the table, slots 1..n_orders, enters the map under its
 * current ClOrdID (a restart's snapshot, the end of day's rebuild): the map
 * holds nothing yet and has room for them all. The keys' arena is reserved
 * once, and the slot each key lands in is prefetched PUT_AHEAD orders ahead
 * (the hashes, a ring of them, computed that far ahead): with millions of
 * orders each insert is otherwise a cache miss on a random slot (77% of the
 * inserts' time in a 2M-order restart). */
#define PUT_AHEAD 16u
int brs__fix_map_put_all(brs__fix_gateway *g, int huge)
{
    uint64_t n = g->n_orders, kb = 0;
    for (uint64_t k = 0; k < n; k++) {
        size_t l = strnlen(g->orders[k].clordid, BRS__FIX_CLORDID_MAX);
        if (l >= BRS__FIX_CLORDID_MAX)
            return BRS_E_INVAL;
        kb += KEY_HEAD + l;
    }
    if (g->map_used || g->map_old || (n + 1) * 2 > g->map_cap)
        return BRS_E_STATE;
    int rc = keys_reserve(g, kb);
    if (rc != BRS_OK)
        return rc;
    if (huge) /* before the gateway listens only (see brs__fix_map_alloc) */
        brs__fix_advise_huge(g->keys, g->keys_cap);
    uint64_t ring[PUT_AHEAD];
    uint32_t len[PUT_AHEAD];
    for (uint64_t k = 0; k < n + PUT_AHEAD; k++) {
        if (k >= PUT_AHEAD) { /* order j = k - PUT_AHEAD goes in (its ring entry becomes k's) */
            uint64_t j = k - PUT_AHEAD, h = ring[j % PUT_AHEAD];
            const brs__fix_order *o = &g->orders[j];
            uint32_t l = len[j % PUT_AHEAD];
            brs__fix_clmap_entry *e = free_slot(g, h);
            e->hash = h;
            e->order = (uint32_t)(j + 1);
            e->key = (uint32_t)g->keys_len;
            unsigned char *kp = (unsigned char *)g->keys + g->keys_len;
            memcpy(kp, &o->session, 4);
            kp[4] = (unsigned char)l;
            memcpy(kp + KEY_HEAD, o->clordid, l);
            g->keys_len += KEY_HEAD + l;
            g->map_used++;
        }
        if (k < n) { /* the hash of order k, its slot prefetched */
            const brs__fix_order *o = &g->orders[k];
            size_t l = strnlen(o->clordid, BRS__FIX_CLORDID_MAX);
            ring[k % PUT_AHEAD] = hash_key(o->session, o->clordid, l);
            len[k % PUT_AHEAD] = (uint32_t)l;
            __builtin_prefetch(&g->map[ring[k % PUT_AHEAD] & (g->map_cap - 1)], 1);
        }
    }
    return BRS_OK;
}

/* The entries of key (session, s) pointing at slot ref (slot + 1), in the
 * table and, during a growth, the old one: become tombstones (forgotten). */
void brs__fix_map_tomb(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t ref)
{
    size_t n = strlen(s);
    if (!g->map_cap || n >= BRS__FIX_CLORDID_MAX)
        return;
    uint64_t h = hash_key(session, s, n);
    int any = 0;
    brs__fix_clmap_entry *e = probe(g, g->map, g->map_cap, h, session, s, n, ref);
    if (e) {
        e->order = BRS__FIX_MAP_TOMB;
        any = 1;
    }
    e = g->map_old ? probe(g, g->map_old, g->map_old_cap, h, session, s, n, ref) : NULL;
    if (e) {
        e->order = BRS__FIX_MAP_TOMB;
        any = 1;
    }
    g->map_tombs += any;
}

int brs__fix_map_forget(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t ref)
{
    size_t n = strlen(s);
    if (!g->map_cap || n >= BRS__FIX_CLORDID_MAX)
        return BRS_OK;
    uint64_t h = hash_key(session, s, n);
    const brs__fix_clmap_entry *e = probe(g, g->map, g->map_cap, h, session, s, n, ref), *eo = NULL;
    if (g->map_old)
        eo = probe(g, g->map_old, g->map_old_cap, h, session, s, n, ref);
    if (!e && !eo)
        return BRS_OK; /* not in the map (never acknowledged): nothing to refuse later */
    int rc = brs__fix_clset_add(&g->closed, h); /* the hash first: a ClOrdID is never lost */
    if (rc == BRS_OK)
        brs__fix_map_tomb(g, session, s, ref);
    return rc;
}

void brs__fix_map_repoint(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t from,
                          uint32_t to)
{
    size_t n = strlen(s);
    if (!g->map_cap || n >= BRS__FIX_CLORDID_MAX)
        return;
    uint64_t h = hash_key(session, s, n);
    brs__fix_clmap_entry *e = probe(g, g->map, g->map_cap, h, session, s, n, from);
    if (e)
        e->order = to;
    e = g->map_old ? probe(g, g->map_old, g->map_old_cap, h, session, s, n, from) : NULL;
    if (e)
        e->order = to;
}

uint64_t brs__fix_map_retire_links(brs__fix_gateway *g, uint64_t from, uint64_t k)
{
    for (; k && from < g->map_cap; k--, from++) {
        brs__fix_clmap_entry *e = &g->map[from];
        if (!e->order || e->order == BRS__FIX_MAP_TOMB || brs__fix_map_key_current(g, e))
            continue;
        if (brs__fix_clset_add(&g->closed, e->hash) == BRS_OK) {
            e->order = BRS__FIX_MAP_TOMB;
            g->map_tombs++;
        }
    }
    return from;
}

uint64_t brs__fix_map_drop_gone(brs__fix_gateway *g, uint64_t from, uint64_t k)
{
    for (; k && from < g->map_cap; k--, from++) {
        brs__fix_clmap_entry *e = &g->map[from];
        if (e->order && e->order != BRS__FIX_MAP_TOMB && entry_gone(g, e)) {
            e->order = BRS__FIX_MAP_TOMB;
            g->map_tombs++;
        }
    }
    return from;
}

int brs__fix_map_step(brs__fix_gateway *g, uint64_t slots)
{
    if (g->map_old)
        map_migrate(g, slots);
    return g->map_old != NULL;
}

uint64_t brs__fix_map_rebuild_cap(const brs__fix_gateway *g)
{
    uint64_t live = g->map_used - g->map_tombs, cap = 4096;
    live += live / 4; /* room for the inserts until it is switched to */
    while ((live + 1) * 2 > cap)
        cap *= 2;
    return cap;
}

int brs__fix_map_rebuild_to(brs__fix_gateway *g, brs__fix_clmap_entry *m, uint64_t cap)
{
    uint64_t live = g->map_used - g->map_tombs;
    if (g->map_old || (live + 1) * 2 > cap)
        return BRS_E_LIMIT; /* grown meanwhile: the caller makes a bigger one */
    g->map_old = g->map;
    g->map_old_cap = g->map_cap;
    g->map_old_next = 0;
    g->map = m;
    g->map_cap = cap;
    g->map_used = live;
    g->map_tombs = 0;
    return BRS_OK;
}

void brs__fix_map_free(brs__fix_gateway *g)
{
    free(g->map);
    free(g->map_old);
    free(g->fg_map); /* a forget's rebuild table not switched to yet */
    g->fg_map = NULL;
    free(g->keys);
    g->map = g->map_old = NULL;
    g->keys = NULL;
    g->map_cap = g->map_used = g->map_old_cap = g->map_old_next = g->map_tombs = 0;
    g->keys_len = g->keys_cap = 0;
}

/* Big tables read at a restart in transparent huge pages where the system
 * allows (madvise mode): a fault per 2 MB instead of per 4 KB, and fewer TLB
 * misses on the random accesses of the order table and the ClOrdID map. */
void brs__fix_advise_huge(void *p, size_t n)
{
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, z = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (n >= ((size_t)4 << 20) && z > a)
        madvise((void *)a, z - a, MADV_HUGEPAGE);
}

/* ---- order table ------------------------------------------------------------ */

/* Slots in OrderID order: the dense run by subtraction, the sparse prefix by
 * binary search. No per-order index to keep, no random access for new orders. */
/* The first slot in [lo, hi) whose OrderID is not below id (above id: gt). */
static uint64_t lower_bound(const brs__fix_gateway *g, uint64_t lo, uint64_t hi, uint64_t id, int gt)
{
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->orders[mid].id < id || (gt && g->orders[mid].id == id))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* While closed orders leave memory step by step (app_forget.c), the slots
 * [fg_w, fg_r) are a gap: [0, fg_w) and [fg_r, n_orders) each in OrderID
 * order, the first all below the second. The second starts at `*from`. */
static int in_gap_phase(const brs__fix_gateway *g, uint64_t *from)
{
    *from = g->fg_phase == BRS__FIX_FG_TABLE ? g->fg_r : 0;
    return g->fg_phase == BRS__FIX_FG_TABLE;
}

brs__fix_order *brs__fix_order_by_id(brs__fix_gateway *g, uint64_t id)
{
    if (id == 0 || g->n_orders == 0)
        return NULL;
    uint64_t lo;
    if (in_gap_phase(g, &lo) && (lo >= g->n_orders || id < g->orders[lo].id)) {
        uint64_t k = lower_bound(g, 0, g->fg_w, id, 0);
        return k < g->fg_w && g->orders[k].id == id ? &g->orders[k] : NULL;
    }
    if (g->dense_start < g->n_orders && id >= g->dense_first) {
        uint64_t k = g->dense_start + (id - g->dense_first);
        return k < g->n_orders ? &g->orders[k] : NULL;
    }
    lo = lower_bound(g, lo, g->dense_start < g->n_orders ? g->dense_start : g->n_orders, id, 0);
    return lo < g->n_orders && g->orders[lo].id == id ? &g->orders[lo] : NULL;
}

uint64_t brs__fix_slot_after(const brs__fix_gateway *g, uint64_t id)
{
    uint64_t from;
    if (in_gap_phase(g, &from)) {
        uint64_t k = lower_bound(g, 0, g->fg_w, id, 1);
        if (k < g->fg_w)
            return k;
    }
    return lower_bound(g, from, g->n_orders, id, 1);
}

uint64_t brs__fix_slot_next(const brs__fix_gateway *g, uint64_t k)
{
    uint64_t from;
    k++;
    return in_gap_phase(g, &from) && k == g->fg_w ? from : k;
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

_Static_assert(sizeof(brs__fix_order) == 144, "brs__fix_order: keep it free of padding (app.h)");

/* The table in OrderID order after a snapshot put it in queue priority:
 * (id, slot) pairs radix-sorted (16 bits a pass, as many passes as the
 * largest id needs), then the orders moved in place along the cycles of that
 * permutation. No second table (a restart with 2M open orders would zero
 * and fill another 288 MB) and no comparison sort through pointers into it
 * (a cache miss per comparison). Ids are unique (the caller checks). */
int brs__fix_table_sort_by_id(brs__fix_gateway *g)
{
    uint64_t n = g->n_orders, maxid = 0;
    int sorted = 1;
    for (uint64_t k = 0; k < n; k++) {
        if (k && g->orders[k].id < g->orders[k - 1].id)
            sorted = 0;
        if (g->orders[k].id > maxid)
            maxid = g->orders[k].id;
    }
    if (sorted)
        return BRS_OK;
    typedef struct { uint64_t id; uint64_t slot; } pair;
    pair *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint32_t *count = calloc(65536, sizeof *count);
    if (!a || !b || !count) {
        free(a);
        free(b);
        free(count);
        return BRS_E_NOMEM;
    }
    for (uint64_t k = 0; k < n; k++)
        a[k] = (pair){g->orders[k].id, k};
    for (int shift = 0; shift < 64 && (maxid >> shift); shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (uint64_t k = 0; k < n; k++)
            count[(a[k].id >> shift) & 0xffff]++;
        uint64_t at = 0;
        for (uint32_t d = 0; d < 65536; d++) {
            uint32_t c = count[d];
            count[d] = (uint32_t)at;
            at += c;
        }
        for (uint64_t k = 0; k < n; k++)
            b[count[(a[k].id >> shift) & 0xffff]++] = a[k];
        pair *t = a;
        a = b;
        b = t;
    }
    /* a[k].slot: where the k-th smallest id is now. Slot k takes it; a
     * cycle ends back at its start; done entries are marked UINT64_MAX. */
    for (uint64_t i = 0; i < n; i++) {
        if (a[i].slot == UINT64_MAX || a[i].slot == i) {
            a[i].slot = UINT64_MAX;
            continue;
        }
        brs__fix_order tmp = g->orders[i];
        uint64_t j = i;
        while (a[j].slot != i) {
            uint64_t from = a[j].slot;
            g->orders[j] = g->orders[from];
            a[j].slot = UINT64_MAX;
            j = from;
        }
        g->orders[j] = tmp;
        a[j].slot = UINT64_MAX;
    }
    free(a);
    free(b);
    free(count);
    return BRS_OK;
}

uint64_t brs__fix_gateway_orders_held(const brs__fix_gateway *g)
{
    return g->n_orders;
}

/* Kept by brs__fix_forget_closed: open, or (keep_in_flight) on its way to
 * its venue (entered, not yet acknowledged: not open, status New). */
static int kept(const brs__fix_order *o, int keep_in_flight)
{
    return o->open || (keep_in_flight && o->status == '0');
}

/* A new trading day: closed orders leave the table, and the ClOrdID map keeps
 * the kept orders' current ClOrdIDs only (FIX asks ClOrdIDs to be unique
 * within a day, so yesterday's may come back). Tables shrink to the open
 * state. Nothing changes if memory runs out. Without keep_in_flight (END_OF_DAY
 * mode EOD_FORGET, replayed as it ran) an order still on its way to its
 * venue is dropped too: its acknowledgement then finds no order. */
int brs__fix_forget_closed(brs__fix_gateway *g, int keep_in_flight)
{
    uint64_t n = 0, kb = 0; /* a step-by-step forget's gap holds no open order: dropped too */
    for (uint64_t k = 0; k < g->n_orders; k++)
        if (kept(&g->orders[k], keep_in_flight)) {
            n++;
            kb += KEY_HEAD + strlen(g->orders[k].clordid);
        }
    uint64_t mcap = 4096;
    while ((n + 1) * 2 > mcap)
        mcap *= 2;
    brs__fix_clmap_entry *m = brs__fix_map_alloc(mcap, 0);
    char *keys = kb <= UINT32_MAX ? malloc(kb ? kb : 1) : NULL;
    if (!m || !keys) {
        free(m);
        free(keys);
        return BRS_E_NOMEM;
    }
    uint64_t j = 0;
    for (uint64_t k = 0; k < g->n_orders; k++)
        if (kept(&g->orders[k], keep_in_flight))
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
    g->fg_phase = 0;
    brs__fix_table_sorted(g);
    brs__fix_map_free(g);
    g->map = m;
    g->map_cap = mcap;
    g->keys = keys; /* room for every key below: the puts cannot fail */
    g->keys_cap = kb ? kb : 1;
    brs__fix_map_put_all(g, 0); /* sized for them: cannot fail */
    brs__fix_clset_free(&g->closed); /* a checkpoint's forgotten ClOrdIDs too */
    return BRS_OK;
}

/* A ClOrdID of an order a checkpoint forgot today? */
int brs__fix_closed_dup(const brs__fix_gateway *g, uint32_t session, const char *s, size_t n)
{
    return g->closed.used && brs__fix_clset_has(&g->closed, hash_key(session, s, n));
}
