/* app_forget.c: after a checkpoint replaced the journal, the closed orders
 * leave memory a bounded step per loop turn (max_forget_per_turn slots), not
 * in one pass over the order table and the ClOrdID map that held every
 * session for seconds with millions of orders (issue 15, point 3). Their
 * ClOrdIDs join the day's hashes at once, so a duplicate is refused all along. */
#include "fix/app.h"
#include "fix/app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

int brs__fix_gateway_forgetting(const brs__fix_gateway *g)
{
    return g->fg_phase != 0;
}

static void forget_init(brs__fix_gateway *g)
{
    g->fg_phase = BRS__FIX_FG_WAIT_MAP;
    g->fg_pos = g->fg_r = g->fg_w = g->fg_forgotten = g->fg_steps = 0;
    g->fg_touch_part = 0;
    g->fg_touch_ptr = NULL;
    g->fg_rebuilt = 0;
    g->fg_held = g->n_orders;
    g->fg_t0 = brs__monotime_ns();
}

void brs__fix_forget_start(brs__fix_gateway *g)
{
    if (g->fg_phase)
        return;
    forget_init(g);
    g->fg_newday = 0;
    /* room for the hashes about to come: the set does not rehash in a step */
    uint64_t closed = g->st.open >= 0 && (uint64_t)g->st.open <= g->n_orders ? g->n_orders - (uint64_t)g->st.open : 0;
    brs__fix_clset_reserve(&g->closed, closed); /* out of memory: it grows as it goes */
    uint64_t per = g->fg_per_turn ? g->fg_per_turn : UINT64_MAX;
    if (g->n_orders > per)
        BRS_LOG(BRS_LOG_INFO, "fix", "closed orders leave memory over loop turns (max_forget_per_turn)",
                BRS_KV_U("orders_held", g->n_orders), BRS_KV_U("orders_open", (uint64_t)g->st.open),
                BRS_KV_U("per_turn", g->fg_per_turn));
}

void brs__fix_forget_start_newday(brs__fix_gateway *g)
{
    if (g->fg_phase)
        return;
    forget_init(g);
    g->fg_newday = 1;
}

void brs__fix_forget_link(brs__fix_gateway *g, const brs__fix_order *o, const char *prev)
{
    /* (from the rebuild on slots no longer move: the link may stay) */
    /* during a stepwise end of day too, live and replayed alike (the forget
     * steps are not journaled; these links are, with the cancel or replace) */
    if (((g->fg_phase && g->fg_phase < BRS__FIX_FG_REBUILD) || g->eod_phase) && strcmp(prev, o->clordid) != 0 &&
        brs__fix_map_forget(g, o->session, prev, brs__fix_slot_ref(g, o)) != BRS_OK && g->eod_phase)
        /* the link stays in the map, where a replay (with the memory) hashes
         * it: answers would differ after a restart, so the turn is not committed */
        brs__fix_gateway_oom(g, "a ClOrdID's hash", o->session);
}

/* Memory the next phase writes at random is written 4 MB a step beforehand
 * (the same bytes back): the hash set the table step fills and the map the
 * rebuild moves into are fresh zero pages, and the map and the order table
 * were write-protected by the checkpoint's fork (copy-on-write: even once the
 * child is gone the first write to each page is a fault). Faulted at random
 * by one step, those pages cost it hundreds of milliseconds on a busy VM.
 * Returns nonzero once all of it has been written. */
static int prefault(brs__fix_gateway *g, void *p, size_t bytes)
{
    if (p != g->fg_touch_ptr) {
        g->fg_touch_ptr = p;
        g->fg_touched = 0;
    }
    volatile char *c = p;
    size_t until = g->fg_touched + ((size_t)4 << 20);
    for (; g->fg_touched < bytes && g->fg_touched < until; g->fg_touched += 4096)
        c[g->fg_touched] = c[g->fg_touched];
    return g->fg_touched >= bytes;
}

/* The table step's targets in turn: the hash set, the map, the table. */
static int touch_for_table(brs__fix_gateway *g)
{
    switch (g->fg_touch_part) {
    case 0:
        if (!prefault(g, g->closed.slot, g->closed.cap * sizeof *g->closed.slot))
            return 0;
        g->fg_touch_part++;
        /* fall through */
    case 1:
        if (!prefault(g, g->map, g->map_cap * sizeof *g->map))
            return 0;
        g->fg_touch_part++;
        /* fall through */
    case 2:
        if (!prefault(g, g->orders, g->n_orders * sizeof *g->orders))
            return 0;
        g->fg_touch_part++;
        /* fall through */
    default:
        return 1;
    }
}

/* Up to k slots of the table: a closed order's ClOrdID becomes a hash and its
 * slot is dropped; an open one moves down to fg_w, its map entry with it. */
static void table_step(brs__fix_gateway *g, uint64_t k)
{
    for (; k && g->fg_r < g->n_orders; k--, g->fg_r++) {
        brs__fix_order *o = &g->orders[g->fg_r];
        uint32_t ref = (uint32_t)(g->fg_r + 1);
        if (g->fg_newday && brs__fix_eod_gone(g, o)) {
            /* no hash (a new day); its entry became a tombstone in the links
             * step already: this only guards against one left pointing here */
            brs__fix_map_tomb(g, o->session, o->clordid, ref);
            g->fg_forgotten++;
            continue;
        }
        /* (not open and still '0': on its way to the venue, not closed) */
        if (!g->fg_newday && !o->open && o->status != '0' &&
            brs__fix_map_forget(g, o->session, o->clordid, ref) == BRS_OK) {
            g->fg_forgotten++;
            continue;
        }
        if (g->fg_w != g->fg_r) { /* (out of memory for its hash: it stays, as if open) */
            g->orders[g->fg_w] = *o;
            brs__fix_map_repoint(g, o->session, o->clordid, ref, (uint32_t)(g->fg_w + 1));
            o->open = 0; /* the copy left in the gap: no scan takes it for an order */
        }
        g->fg_w++;
    }
    /* the dense run of new orders starts at fg_r at the earliest */
    if (g->dense_start < g->fg_r && g->dense_start < g->n_orders) {
        g->dense_first += g->fg_r - g->dense_start;
        g->dense_start = g->fg_r;
    }
    if (g->fg_r < g->n_orders)
        return;
    /* done: the table is [0, fg_w), sorted; it shrinks to fit */
    g->n_orders = g->fg_w;
    brs__fix_table_sorted(g);
    uint64_t ocap = 4096;
    while (ocap < g->n_orders)
        ocap *= 2;
    if (g->cap_orders > ocap * 2) {
        brs__fix_order *p = realloc(g->orders, ocap * sizeof *p);
        if (p) {
            g->orders = p;
            g->cap_orders = ocap;
        }
    }
    g->fg_phase = BRS__FIX_FG_REBUILD;
}

int brs__fix_gateway_forget_step(brs__fix_gateway *g)
{
    uint64_t k = g->fg_per_turn ? g->fg_per_turn : UINT64_MAX;
    g->fg_steps += g->fg_phase != 0;
    switch (g->fg_phase) {
    case BRS__FIX_FG_WAIT_MAP: /* the map's entries are read in one table only */
        if (!brs__fix_map_step(g, k)) {
            g->fg_phase = BRS__FIX_FG_LINKS;
            g->fg_pos = 0;
        }
        break;
    case BRS__FIX_FG_LINKS:
        if (g->map_old) { /* it grew meanwhile: entries moved behind the scan */
            g->fg_phase = BRS__FIX_FG_WAIT_MAP;
            break;
        }
        g->fg_pos = g->fg_newday ? brs__fix_map_drop_gone(g, g->fg_pos, k)
                                 : brs__fix_map_retire_links(g, g->fg_pos, k);
        if (g->fg_pos >= g->map_cap && touch_for_table(g)) {
            g->fg_phase = BRS__FIX_FG_TABLE;
            g->fg_r = g->fg_w = 0;
        }
        break;
    case BRS__FIX_FG_TABLE:
        table_step(g, k);
        break;
    case BRS__FIX_FG_REBUILD:
        if (g->map_old) { /* a growth, or the rebuild: moving */
            brs__fix_map_step(g, k);
            break;
        }
        /* once: tombstones made since (a new day's earlier links, hashed at
         * once while its steps run) stay until the next rebuild (lookups
         * skip them), or the rebuild would chase them for as long as clients
         * cancel and replace */
        if (g->map_tombs && !g->fg_rebuilt) {
            if (!g->fg_map) {
                g->fg_map_cap = brs__fix_map_rebuild_cap(g);
                if (!(g->fg_map = brs__fix_map_alloc(g->fg_map_cap, 0))) {
                    g->fg_phase = 0; /* out of memory: the tombstones stay, lookups skip them */
                    if (g->fg_newday) {
                        g->fg_newday = 0;
                        brs__fix_eod_forgotten(g);
                    }
                    break;
                }
            }
            if (!prefault(g, g->fg_map, g->fg_map_cap * sizeof *g->fg_map))
                break;
            if (brs__fix_map_rebuild_to(g, g->fg_map, g->fg_map_cap) != BRS_OK)
                free(g->fg_map); /* too small by now: another one next step */
            else
                g->fg_rebuilt = 1;
            g->fg_map = NULL;
            break;
        }
        if (!brs__fix_map_step(g, k)) {
            g->fg_phase = 0;
            if (g->fg_newday) {
                g->fg_newday = 0;
                brs__fix_eod_forgotten(g);
                break;
            }
            BRS_LOG(BRS_LOG_INFO, "fix", "journal checkpoint: closed orders left memory",
                    BRS_KV_U("orders_open", g->n_orders), BRS_KV_U("orders_forgotten", g->fg_forgotten),
                    BRS_KV_U("clordids_kept_as_hashes", g->closed.used), BRS_KV_U("loop_turns", g->fg_steps),
                    BRS_KV_F("ms", (double)(brs__monotime_ns() - g->fg_t0) / 1e6));
        }
        break;
    default:
        break;
    }
    return g->fg_phase != 0;
}
