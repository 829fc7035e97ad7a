/* app.c: the FIX application, a translator onto the runtime (host/runtime):
 * order entry, execution reports, cancel rejects, the order journal and its
 * compaction (market data: app_md.c). Business problems (unknown symbol,
 * bad tick, duplicate ClOrdID) are answered with ExecutionReport Rejected or
 * OrderCancelReject; malformed enumerations with a session Reject (373=5). */
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
static brs__fix_clmap_entry *map_find(brs__fix_gateway *g, uint32_t session, const char *s,
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
static int map_put(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t order)
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

static void map_free(brs__fix_gateway *g)
{
    free(g->map);
    free(g->map_old);
    g->map = g->map_old = NULL;
    g->map_cap = g->map_used = g->map_old_cap = g->map_old_next = 0;
}

/* ---- order table ------------------------------------------------------------ */

/* Slots in OrderID order: the dense run by subtraction, the sparse prefix by
 * binary search. No per-order index to keep, no random access for new orders. */
static brs__fix_order *order_by_id(brs__fix_gateway *g, uint64_t id)
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
static void table_sorted(brs__fix_gateway *g)
{
    g->dense_start = g->n_orders;
    g->dense_first = 0;
}

/* A new slot at the end for OrderID id (zeroed but for the id). Ids arrive in
 * increasing order, except while a snapshot is read (sorted at its end). */
static int add_slot(brs__fix_gateway *g, uint64_t id, brs__fix_order **out)
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

static uint32_t slot_ref(const brs__fix_gateway *g, const brs__fix_order *o)
{
    return (uint32_t)(o - g->orders + 1);
}

uint64_t brs__fix_gateway_orders_held(const brs__fix_gateway *g)
{
    return g->n_orders;
}

/* A new trading day: closed orders leave the table, and the ClOrdID map keeps
 * the open orders' current ClOrdIDs only (FIX asks ClOrdIDs to be unique
 * within a day, so yesterday's may come back). Tables shrink to the open
 * state. Nothing changes if memory runs out. */
static int forget_closed(brs__fix_gateway *g)
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
    table_sorted(g);
    map_free(g);
    g->map = m;
    g->map_cap = mcap;
    for (uint64_t k = 0; k < j; k++)
        map_put(g, g->orders[k].session, g->orders[k].clordid, (uint32_t)(k + 1));
    brs__fix_clset_free(&g->closed); /* a checkpoint's forgotten ClOrdIDs too */
    return BRS_OK;
}

/* A ClOrdID of an order a checkpoint forgot today? */
static int closed_dup(const brs__fix_gateway *g, uint32_t session, const char *s, size_t n)
{
    return g->closed.used && brs__fix_clset_has(&g->closed, hash_key(session, s, n));
}

/* ---- journal --------------------------------------------------------------- */

/* Journal record: session index (bit 31: refused by the risk checks, so replay
 * refuses it again without re-running time-dependent checks), length, bytes. */
#define JOURNAL_RISK_REFUSED 0x80000000u
/* Journal record that is not a message: an end of day (8-byte boundary in ns,
 * 1 byte mark_only). */
#define JOURNAL_END_OF_DAY 0x7ffffffeu
/* Journal record: commit of batch n (8 bytes): the records before it, and
 * every store record tagged with a batch up to n, are one applied whole. */
#define JOURNAL_COMMIT 0x7ffffffdu

/* End-of-day record modes (its 9th byte). */
#define EOD_EXPIRE 0 /* DAY orders expired (journals written before compaction) */
#define EOD_MARK 1   /* boundary recorded only */
#define EOD_FORGET 2 /* expired, then the closed orders left memory (no snapshot) */
/* Snapshot records (docs/fix-gateway.md, "Persistence and restart"): a
 * compacted journal starts with them. */
#define JOURNAL_SNAPSHOT 0x7ffffff0u
#define JOURNAL_SNAP_ORDER 0x7ffffff1u
#define JOURNAL_SNAP_RISK 0x7ffffff2u
#define JOURNAL_SNAP_END 0x7ffffff3u
#define JOURNAL_SNAP_CLOSED 0x7ffffff4u /* u64 hashes of ClOrdIDs forgotten today */
#define SNAP_CLOSED_PER_RECORD 4096u
#define SNAP_VERSION 1u
#define SNAP_HEADER_LEN 40u
#define SNAP_ORDER_LEN 120u

/* Appends one record [type][len][bytes] to a growing buffer. */
static int buf_record(char **buf, size_t *len, size_t *cap, uint32_t type, const void *m,
                      uint32_t n)
{
    size_t need = *len + 8 + n;
    if (need > *cap) {
        size_t c = *cap ? *cap : 65536;
        while (c < need)
            c *= 2;
        char *p = realloc(*buf, c);
        if (!p)
            return BRS_E_NOMEM;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, &type, 4);
    memcpy(*buf + *len + 4, &n, 4);
    if (n)
        memcpy(*buf + *len + 8, m, n);
    *len += 8 + n;
    return BRS_OK;
}

static int journal_append(brs__fix_gateway *g, uint32_t session, const char *m, uint32_t len)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    return buf_record(&g->jbuf, &g->jlen, &g->jcap, session, m, len);
}

/* Appends a COMMIT record for g->batch to buf. */
static int commit_record(char **buf, size_t *len, size_t *cap, uint64_t batch)
{
    return buf_record(buf, len, cap, JOURNAL_COMMIT, &batch, 8);
}

static int flush_fail(brs__fix_gateway *g, const char *what, int e)
{
    if (!g->fail_msg[0])
        snprintf(g->fail_msg, sizeof g->fail_msg, "%s: %s", what, strerror(e ? e : EIO));
    return BRS_E_IO;
}

/* Stores first (each tagged with the batch), then the journal with the batch's
 * COMMIT: a crash before the COMMIT is in the file leaves a batch the next
 * start cuts off everywhere; after it, a batch every file holds. */
static int flush_stores(brs__fix_gateway *g, int *any)
{
    int rc = BRS_OK;
    for (uint32_t i = 0; i < g->n_sessions; i++) {
        brs__fix_store *st = &g->sessions[i]->store;
        if (st->fd >= 0 && st->t_batch == g->batch)
            *any = 1;
        if (brs__fix_store_flush(st) != BRS_OK && rc == BRS_OK)
            rc = flush_fail(g, st->path ? st->path : "store", st->err);
    }
    return rc;
}

int brs__fix_gateway_flush(brs__fix_gateway *g)
{
    int any = g->jlen > 0;
    int rc = flush_stores(g, &any);
    if (rc != BRS_OK || g->jfd < 0 || !any)
        return rc;
    if (g->fail_msg[0])
        return BRS_E_IO; /* a file failed before: nothing more is committed */
    if (commit_record(&g->jbuf, &g->jlen, &g->jcap, g->batch) != BRS_OK)
        return flush_fail(g, "journal", ENOMEM);
    if (brs__fix_wal_write(g->jfd, g->jbuf, g->jlen) != 0)
        return flush_fail(g, g->jpath, errno);
    g->jsize += g->jlen;
    g->jlen = 0;
    if (g->fsync_policy == BRS__FIX_FSYNC_BATCH && brs__fix_wal_sync(g->jfd, 0) != 0)
        return flush_fail(g, g->jpath, errno);
    g->batch++;
    for (uint32_t i = 0; i < g->n_sessions; i++)
        g->sessions[i]->store.c_next_out = g->sessions[i]->store.next_out;
    return BRS_OK;
}

/* ---- outbound messages ------------------------------------------------------ */

/* The Text (58) of a reject or cancel for an engine reason: words a desk can
 * read, not the internal code name. */
static const char *reason_text(int rc)
{
    switch (rc) {
    case BRS_E_RANGE: return "the price level's total quantity would pass its limit";
    case BRS_E_NOLIQUIDITY: return "no liquidity for the rest of the order";
    case BRS_E_LIMIT: return "the venue's order capacity is full";
    case BRS_E_EXISTS: return "duplicate order id";
    case BRS_E_INVAL: return "invalid order";
    default: return brs_strerror(rc);
    }
}

void brs__fix_enc_price(brs__fix_gateway *g, brs__fix_enc *e, uint32_t tag, uint32_t instr, int64_t px)
{
    brs__fix_enc_decimal(e, tag, px, g->instr[instr].decimals);
}

/* AvgPx = notional / cum, with 4 more decimals than the instrument's price,
 * rounded half away from zero. Divided before it is scaled, in 128 bits, so no
 * intermediate can overflow whatever the price and quantity (issue 15: a trade
 * of 99999999999999999 @ 999999999999999.99 reported 6=-435559803729.38); when
 * the scaled value would not fit the 64-bit decimal encoder, fewer extra
 * decimals are sent rather than a wrong number. */
static void enc_avgpx(brs__fix_gateway *g, brs__fix_enc *e, const brs__fix_order *o)
{
    if (o->cum <= 0) {
        brs__fix_enc_int(e, 6, 0);
        return;
    }
    int neg = o->notional < 0;
    unsigned __int128 n = neg ? -(unsigned __int128)o->notional : (unsigned __int128)o->notional;
    unsigned __int128 c = (unsigned __int128)o->cum;
    unsigned __int128 q = n / c, r = n % c;
    int extra = 4;
    unsigned __int128 scale = 10000;
    for (;;) {
        /* r < c < 2^63 and scale <= 10^4, so r * scale * 2 < 2^79: no overflow */
        unsigned __int128 v = q * scale + (r * scale * 2 + c) / (c * 2);
        if (v <= (unsigned __int128)INT64_MAX || extra == 0) {
            if (v > (unsigned __int128)INT64_MAX)
                v = (unsigned __int128)INT64_MAX; /* |AvgPx| >= 2^63 ticks cannot happen under price limits */
            int64_t sv = neg ? -(int64_t)v : (int64_t)v;
            brs__fix_enc_decimal(e, 6, sv, g->instr[o->instrument].decimals + extra);
            return;
        }
        extra--;
        scale /= 10;
    }
}

brs__fix_session *brs__fix_session_of(brs__fix_gateway *g, uint32_t idx)
{
    return idx < g->n_sessions ? g->sessions[idx] : NULL;
}

/* An ExecutionReport on order o to its session; status_req: the
 * OrderStatusRequest answered (ExecType I: ExecID 0, OrdStatusReqID echoed). */
static void encode_er(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_order *o,
                      uint64_t exec_id, char exec_type, const char *clordid, const char *orig,
                      int64_t last_px, int64_t last_qty, const char *text,
                      const brs__fix_msg *status_req)
{
    /* body fields in ascending tag order (see brs__fix_session_begin) */
    brs__fix_enc *e = brs__fix_session_begin(s, "8");
    enc_avgpx(g, e, o);
    brs__fix_enc_str(e, 11, clordid ? clordid : o->clordid);
    brs__fix_enc_int(e, 14, o->cum);
    brs__fix_enc_int(e, 17, (int64_t)exec_id);
    if (exec_type == 'F' && g->fill_venue)
        brs__fix_enc_str(e, 30, g->fill_venue); /* LastMkt: the venue it filled on */
    if (exec_type == 'F') {
        brs__fix_enc_price(g, e, 31, o->instrument, last_px);
        brs__fix_enc_int(e, 32, last_qty);
    }
    brs__fix_enc_int(e, 37, (int64_t)o->id);
    brs__fix_enc_int(e, 38, o->qty);
    brs__fix_enc_char(e, 39, o->status);
    brs__fix_enc_char(e, 40, o->ord_type == BRS_MARKET ? '1' : '2');
    if (orig)
        brs__fix_enc_str(e, 41, orig);
    if (o->ord_type != BRS_MARKET)
        brs__fix_enc_price(g, e, 44, o->instrument, o->price);
    brs__fix_enc_char(e, 54, o->side == BRS_BUY ? '1' : '2');
    brs__fix_enc_str(e, 55, g->instr[o->instrument].symbol);
    if (text)
        brs__fix_enc_str(e, 58, text);
    brs__fix_enc_time(e, 60, s->now);
    brs__fix_enc_char(e, 150, exec_type);
    brs__fix_enc_int(e, 151, o->leaves);
    const brs__fix_field *f;
    if (status_req && (f = brs__fix_get(status_req, 790)))
        brs__fix_enc_mem(e, 790, brs__fix_val(status_req, f), f->len);
    brs__fix_session_send(s);
}

/* Every change of an order's open flag goes through here, so the count of open
 * orders (a metrics gauge) is always exact, replay included. */
static inline void set_open(brs__fix_gateway *g, brs__fix_order *o, uint8_t open)
{
    g->st.open += (int64_t)(open != 0) - (int64_t)(o->open != 0);
    o->open = open;
}

static void send_er(brs__fix_gateway *g, brs__fix_order *o, char exec_type, const char *clordid,
                    const char *orig, int64_t last_px, int64_t last_qty, const char *text)
{
    uint64_t exec_id = ++g->next_exec_id;
    brs__fix_session *s = brs__fix_session_of(g, o->session);
    if (g->replaying || !s)
        return;
    switch (exec_type) {
    case '0':
        g->st.acks++;
        if (g->h_ack && o->entered_ns)
            brs__hist_observe_ns(g->h_ack, brs__realtime_ns() - o->entered_ns);
        break;
    case 'F':
        g->st.fills++;
        if (g->h_fill && o->entered_ns)
            brs__hist_observe_ns(g->h_fill, brs__realtime_ns() - o->entered_ns);
        break;
    case '4': g->st.cancels++; break;
    case 'C': g->st.expiries++; break;
    case '5': g->st.replaces++; break;
    case '8':
        g->st.rejects++;
        g->rej_session = o->session;
        snprintf(g->rej_clordid, sizeof g->rej_clordid, "%s", o->clordid);
        snprintf(g->rej_text, sizeof g->rej_text, "%s", text ? text : "");
        break;
    default: break;
    }
    encode_er(g, s, o, exec_id, exec_type, clordid, orig, last_px, last_qty, text, NULL);
}

/* An ExecutionReport about an order that does not exist (OrderID NONE, nothing
 * open or done): the request's ClOrdID and `echo` tags as the client sent them,
 * OrdStatus 8 with OrdRejReason `reason`; OrdStatusReqID (790) echoed if any. */
static void er_no_order(brs__fix_session *s, const brs__fix_msg *m, uint64_t exec_id,
                        char exec_type, const uint32_t *echo, size_t n_echo, int reason,
                        const char *text)
{
    /* ascending tag order, as in encode_er; echo[]: ascending tags, all below 58 */
    brs__fix_enc *e = brs__fix_session_begin(s, "8");
    const brs__fix_field *f;
    brs__fix_enc_int(e, 6, 0);
    if ((f = brs__fix_get(m, 11)))
        brs__fix_enc_mem(e, 11, brs__fix_val(m, f), f->len);
    brs__fix_enc_int(e, 14, 0);
    brs__fix_enc_int(e, 17, (int64_t)exec_id);
    brs__fix_enc_str(e, 37, "NONE");
    size_t k = 0;
    for (; k < n_echo && echo[k] < 39; k++)
        if ((f = brs__fix_get(m, echo[k])))
            brs__fix_enc_mem(e, echo[k], brs__fix_val(m, f), f->len);
    brs__fix_enc_char(e, 39, '8');
    for (; k < n_echo; k++) /* all below 58 */
        if ((f = brs__fix_get(m, echo[k])))
            brs__fix_enc_mem(e, echo[k], brs__fix_val(m, f), f->len);
    brs__fix_enc_str(e, 58, text);
    brs__fix_enc_time(e, 60, s->now);
    brs__fix_enc_int(e, 103, reason);
    brs__fix_enc_char(e, 150, exec_type);
    brs__fix_enc_int(e, 151, 0);
    if ((f = brs__fix_get(m, 790)))
        brs__fix_enc_mem(e, 790, brs__fix_val(m, f), f->len);
    brs__fix_session_send(s);
}

/* ExecutionReport Rejected for an order that never existed. */
static void reject_new(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m,
                       int reason, const char *text)
{
    uint64_t exec_id = ++g->next_exec_id;
    static const uint32_t echo[] = {38, 40, 54, 55};
    if (!g->replaying) {
        g->st.rejects++;
        g->rej_session = s->index;
        brs__fix_str(m, 11, g->rej_clordid, sizeof g->rej_clordid);
        snprintf(g->rej_text, sizeof g->rej_text, "%s", text ? text : "");
        er_no_order(s, m, exec_id, '8', echo, BRS__ARRAY_LEN(echo), reason, text);
    }
}

static void cancel_reject(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m,
                          const brs__fix_order *o, char response_to, int reason, const char *text)
{
    if (g->replaying)
        return;
    brs__fix_enc *e = brs__fix_session_begin(s, "9");
    const brs__fix_field *f;
    if ((f = brs__fix_get(m, 11)))
        brs__fix_enc_mem(e, 11, brs__fix_val(m, f), f->len);
    if (o)
        brs__fix_enc_int(e, 37, (int64_t)o->id);
    else
        brs__fix_enc_str(e, 37, "NONE");
    brs__fix_enc_char(e, 39, o ? o->status : '8');
    if ((f = brs__fix_get(m, 41)))
        brs__fix_enc_mem(e, 41, brs__fix_val(m, f), f->len);
    brs__fix_enc_str(e, 58, text);
    brs__fix_enc_int(e, 102, reason);
    brs__fix_enc_char(e, 434, response_to);
    brs__fix_session_send(s);
}

/* ---- engine events ---------------------------------------------------------- */

static char status_of(const brs__fix_order *o)
{
    if (o->leaves == 0 && o->cum >= o->qty)
        return '2';
    return o->cum > 0 ? '1' : '0';
}

/* The runtime's report of one of a session's orders (every session client's
 * xOnOrder; order_id is the OrderID). */
static void on_event(void *ctx, const brs_order_event *ev)
{
    brs__fix_gateway *g = ctx;
    g->stat_events++;
    brs__fix_order *o = order_by_id(g, ev->order_id);
    if (!o)
        return;
    if (g->restoring) { /* a snapshot's order resting again: not news to anyone */
        if (!g->restore_kind)
            g->restore_kind = ev->kind;
        return;
    }
    if (ev->kind == BRS_OEV_REJECTED && !o->open && o->status == '8')
        return; /* the venue's refusal and the runtime's report of it: one reject */
    if (ev->instrument < 32)
        g->touched |= 1u << ev->instrument;
    /* positions are followed with or without limits, so a snapshot always
     * holds them and limits turned on after a restart start from the truth */
    brs_risk *rk = o->session < g->n_sessions ? &g->risk[o->session] : NULL;
    if (rk) {
        switch (ev->kind) {
        case BRS_OEV_ACCEPTED: brs__risk_on_open(rk, o->instrument, o->side, ev->qty); break;
        case BRS_OEV_FILL:
            brs__risk_on_fill(rk, o->instrument, o->side, ev->qty);
            brs__risk_set_ref(rk, o->instrument, ev->price);
            break;
        case BRS_OEV_CANCELLED: brs__risk_on_close(rk, o->instrument, o->side, ev->qty); break;
        case BRS_OEV_REPLACED:
            brs__risk_on_close(rk, o->instrument, o->side, o->leaves);
            brs__risk_on_open(rk, o->instrument, o->side, ev->leaves);
            break;
        default: break;
        }
    }
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
        o->leaves = ev->leaves;
        o->status = '0';
        o->prio = ++g->prio_seq;
        set_open(g, o, 1);
        send_er(g, o, '0', NULL, NULL, 0, 0, NULL);
        break;
    case BRS_OEV_FILL:
        if (ev->liquidity == BRS_LIQ_MAKER && g->n_trade_subs && !g->replaying)
            brs__fix_md_keep_trade(g, o->instrument, ev->price, ev->qty); /* once per trade: the maker's side */
        o->cum += ev->qty; /* the engine reports open quantity; cumulative is ours */
        o->leaves = ev->leaves;
        o->notional += (__int128)ev->price * ev->qty;
        o->status = status_of(o);
        if (g->live)
            brs__live_fill(g->live, o->session, o->instrument, o->side, ev->price, ev->qty, o->id, o->clordid,
                           brs__rt_venue_name(g->rt, ev->venue), g->replaying ? 0 : brs__realtime_ns(),
                           g->replaying);
        if (o->leaves == 0)
            set_open(g, o, 0);
        g->fill_venue = g->last_mkt ? brs__rt_venue_name(g->rt, ev->venue) : NULL;
        send_er(g, o, 'F', NULL, NULL, ev->price, ev->qty, NULL);
        g->fill_venue = NULL;
        break;
    case BRS_OEV_CANCELLED: {
        o->leaves = 0;
        set_open(g, o, 0);
        o->status = '4';
        if (g->expiring) {
            o->status = 'C';
            send_er(g, o, 'C', NULL, NULL, 0, 0, "DAY order expired at the end of the day");
        } else if (g->req_order == o->id && g->req_clordid) {
            const char *orig = g->req_orig;
            char prev[BRS__FIX_CLORDID_MAX];
            snprintf(prev, sizeof prev, "%s", orig ? orig : o->clordid);
            snprintf(o->clordid, sizeof o->clordid, "%s", g->req_clordid);
            map_put(g, o->session, o->clordid, slot_ref(g, o));
            send_er(g, o, '4', NULL, prev, 0, 0, NULL);
        } else {
            send_er(g, o, '4', NULL, NULL, 0, 0, ev->reason ? reason_text(ev->reason) : NULL);
        }
        break;
    }
    case BRS_OEV_REPLACED: {
        char prev[BRS__FIX_CLORDID_MAX];
        snprintf(prev, sizeof prev, "%s", o->clordid);
        if (ev->price != o->price || ev->leaves > o->leaves)
            o->prio = ++g->prio_seq; /* it lost its place in the queue */
        o->price = ev->price;
        o->qty = ev->qty + o->cum0; /* the venue counts from the snapshot's cum */
        o->leaves = ev->leaves;
        o->status = status_of(o);
        if (g->req_order == o->id && g->req_clordid) {
            snprintf(o->clordid, sizeof o->clordid, "%s", g->req_clordid);
            map_put(g, o->session, o->clordid, slot_ref(g, o));
        }
        send_er(g, o, '5', NULL, prev, 0, 0, NULL);
        break;
    }
    case BRS_OEV_REJECTED:
        set_open(g, o, 0);
        o->status = '8';
        o->leaves = 0;
        send_er(g, o, '8', NULL, NULL, 0, 0, reason_text(ev->reason));
        break;
    default: break;
    }
}

/* ---- order entry --------------------------------------------------------------- */

/* What the runtime has due by now reaches the sessions: with zero latencies
 * every event an order entry causes comes back inside the request. */
static void pump(brs__fix_gateway *g, int64_t now)
{
    brs__rt_advance(g->rt, now);
}

static uint32_t client_of(const brs__fix_gateway *g, uint32_t session)
{
    return session < g->n_sessions ? g->client[session] : UINT32_MAX; /* no such client */
}

static int new_order(brs__fix_gateway *g, brs__fix_order **out)
{
    int rc = add_slot(g, g->last_order_id + 1, out);
    if (rc == BRS_OK)
        g->last_order_id++;
    return rc;
}

/* Side, OrdType, TimeInForce as enums, or a session Reject (returns -1). */
static int read_enums(brs__fix_session *s, const brs__fix_msg *m, uint8_t *side, uint8_t *type,
                      uint8_t *tif, int need_type)
{
    char c = brs__fix_char(m, 54);
    if (c != '1' && c != '2') {
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 54, "Side must be 1 or 2");
        return -1;
    }
    *side = c == '1' ? BRS_BUY : BRS_SELL;
    if (need_type) {
        c = brs__fix_char(m, 40);
        if (c != '1' && c != '2') {
            brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 40, "OrdType must be 1 or 2");
            return -1;
        }
        *type = c == '1' ? BRS_MARKET : BRS_LIMIT;
        c = brs__fix_get(m, 59) ? brs__fix_char(m, 59) : '0';
        switch (c) {
        case '0': *tif = BRS_DAY; break;
        case '1': *tif = BRS_GTC; break;
        case '3': *tif = BRS_IOC; break;
        case '4': *tif = BRS_FOK; break;
        default:
            brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 59, "TimeInForce must be 0, 1, 3 or 4");
            return -1;
        }
    }
    return 0;
}

/* Price (when a limit) and quantity, checked against the instrument. */
static const char *read_px_qty(brs__fix_gateway *g, const brs__fix_msg *m, uint32_t instr,
                               uint8_t type, int64_t *px, int64_t *qty)
{
    const brs__fix_instr *in = &g->instr[instr];
    if (brs__fix_decimal(m, 38, 0, qty) != 1 || *qty <= 0)
        return "OrderQty must be a positive whole number";
    if (*qty % in->lot_size)
        return "OrderQty is not a multiple of the lot size";
    *px = 0;
    if (type == BRS_LIMIT) {
        int r = brs__fix_decimal(m, 44, in->decimals, px);
        if (r == 0)
            return "Price required for a limit order";
        if (r < 0 || *px <= 0)
            return "Price malformed or finer than the instrument's price scale";
        if (*px % in->tick_size)
            return "Price is not a multiple of the tick size";
    }
    return NULL;
}

/* The pre-trade checks on a new order (replaced NULL) or on the new version of
 * `replaced`. Replaying the journal, the decision taken live stands, whatever
 * the limits and the clock are now. */
static int risk_refused(brs__fix_gateway *g, const brs__fix_session *s, const brs_order *chk,
                        const brs__fix_order *replaced, brs_error *rerr)
{
    if (g->replaying) {
        snprintf(rerr->msg, sizeof rerr->msg, "refused by a pre-trade risk check");
        return (g->replay_flags & JOURNAL_RISK_REFUSED) != 0;
    }
    if (!g->risk_on)
        return 0;
    brs_risk *r = &g->risk[s->index];
    int rc = replaced ? brs__risk_check_replace(r, chk, replaced->leaves, replaced->cum, s->now, rerr)
                      : brs__risk_check(r, chk, s->now, rerr);
    return rc != BRS_OK;
}

static void on_new_order(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    uint8_t side, type, tif;
    if (read_enums(s, m, &side, &type, &tif, 1) < 0)
        return;
    const brs__fix_field *cl = brs__fix_get(m, 11);
    if (cl->len >= BRS__FIX_CLORDID_MAX) {
        reject_new(g, s, m, 99, "ClOrdID too long");
        return;
    }
    brs__fix_clmap_entry *known = map_find(g, s->index, brs__fix_val(m, cl), cl->len);
    if (known) {
        /* a possible duplicate (PossDupFlag or PossResend Y) of an order we
         * have: never applied twice; the client gets the order as it stands */
        if (brs__fix_char(m, 43) == 'Y' || brs__fix_char(m, 97) == 'Y') {
            g->no_journal = 1;
            if (!g->replaying)
                encode_er(g, s, &g->orders[known->order - 1], 0, 'I', NULL, NULL, 0, 0,
                          "possible duplicate of a known order: its current state", NULL);
            return;
        }
        reject_new(g, s, m, 6, "duplicate ClOrdID");
        return;
    }
    if (closed_dup(g, s->index, brs__fix_val(m, cl), cl->len)) {
        reject_new(g, s, m, 6, "duplicate ClOrdID (an order closed earlier today)");
        return;
    }
    const brs__fix_field *sym = brs__fix_get(m, 55);
    int instr = brs__fix_find_instr(g, brs__fix_val(m, sym), sym->len);
    if (instr < 0) {
        reject_new(g, s, m, 1, "unknown symbol");
        return;
    }
    int64_t px, qty;
    const char *why = read_px_qty(g, m, (uint32_t)instr, type, &px, &qty);
    if (why) {
        reject_new(g, s, m, 99, why);
        return;
    }
    brs_error rerr = {0};
    brs_order chk = {.instrument = (uint32_t)instr, .account = s->index, .price = px, .qty = qty,
                     .side = side, .type = type, .tif = tif};
    if (risk_refused(g, s, &chk, NULL, &rerr)) {
        g->jflags |= JOURNAL_RISK_REFUSED;
        if (!g->replaying)
            g->st.risk_refusals++;
        reject_new(g, s, m, 3, rerr.msg); /* 3: order exceeds limit */
        return;
    }
    brs__fix_order *o;
    if (new_order(g, &o) != BRS_OK) {
        reject_new(g, s, m, 99, "out of memory");
        return;
    }
    o->session = s->index;
    o->instrument = (uint32_t)instr;
    memcpy(o->clordid, brs__fix_val(m, cl), cl->len);
    o->clordid[cl->len] = 0;
    o->side = side;
    o->ord_type = type;
    o->tif = tif;
    o->price = px;
    o->qty = qty;
    o->entered_ns = g->replaying ? 0 : s->now;
    o->leaves = qty;
    o->status = '0';
    map_put(g, s->index, o->clordid, slot_ref(g, o));
    g->stat_orders++;
    brs_order ord = {0};
    ord.id = o->id;
    ord.instrument = (uint32_t)instr;
    ord.account = s->index;
    ord.price = px;
    ord.qty = qty;
    ord.side = side;
    ord.type = type;
    ord.tif = tif;
    ord.ts = s->now;
    int rc = brs__rt_submit(g->rt, client_of(g, s->index), &ord);
    if (rc == BRS_OK)
        pump(g, s->now);
    if (rc != BRS_OK) {
        o->status = '8';
        o->leaves = 0;
        set_open(g, o, 0);
        send_er(g, o, '8', NULL, NULL, 0, 0, reason_text(rc));
    }
}

static brs__fix_order *find_orig(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    const brs__fix_field *f = brs__fix_get(m, 41);
    brs__fix_clmap_entry *e = map_find(g, s->index, brs__fix_val(m, f), f->len);
    return e ? &g->orders[e->order - 1] : NULL;
}

/* The order a cancel ('1') or replace ('2') request names, if it may still be
 * changed under the request's new ClOrdID; otherwise the OrderCancelReject
 * (CxlRejReason 1 unknown, 6 duplicate ClOrdID, 0 too late) is sent and NULL
 * returned. */
static brs__fix_order *amend_target(brs__fix_gateway *g, brs__fix_session *s,
                                    const brs__fix_msg *m, char response_to, const char *too_late)
{
    brs__fix_order *o = find_orig(g, s, m);
    const brs__fix_field *cl = brs__fix_get(m, 11);
    if (!o) {
        cancel_reject(g, s, m, NULL, response_to, 1, "unknown order");
        return NULL;
    }
    if (cl->len >= BRS__FIX_CLORDID_MAX || map_find(g, s->index, brs__fix_val(m, cl), cl->len) ||
        closed_dup(g, s->index, brs__fix_val(m, cl), cl->len)) {
        cancel_reject(g, s, m, o, response_to, 6, "duplicate or too long ClOrdID");
        return NULL;
    }
    if (!o->open) {
        cancel_reject(g, s, m, o, response_to, 0, too_late);
        return NULL;
    }
    return o;
}

static void on_cancel(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    brs__fix_order *o = amend_target(g, s, m, '1', "too late to cancel");
    if (!o)
        return;
    char clordid[BRS__FIX_CLORDID_MAX], orig[BRS__FIX_CLORDID_MAX];
    brs__fix_str(m, 11, clordid, sizeof clordid);
    brs__fix_str(m, 41, orig, sizeof orig);
    g->req_clordid = clordid;
    g->req_orig = orig;
    g->req_order = o->id;
    int rc = brs__rt_cancel(g->rt, client_of(g, s->index), o->id);
    if (rc == BRS_OK)
        pump(g, s->now);
    g->req_clordid = g->req_orig = NULL;
    g->req_order = 0;
    if (rc != BRS_OK)
        cancel_reject(g, s, m, o, '1', rc == BRS_E_UNKNOWNORDER ? 0 : 99, reason_text(rc));
}

static void on_replace(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    uint8_t side, type, tif;
    if (read_enums(s, m, &side, &type, &tif, 1) < 0)
        return;
    brs__fix_order *o = amend_target(g, s, m, '2', "too late to replace");
    if (!o)
        return;
    if (side != o->side || type != o->ord_type || type != BRS_LIMIT) {
        cancel_reject(g, s, m, o, '2', 99, "only price and quantity of a limit order can change");
        return;
    }
    int64_t px, qty;
    const char *why = read_px_qty(g, m, o->instrument, type, &px, &qty);
    if (!why && qty <= o->cum)
        why = "new quantity not above the filled quantity";
    if (why) {
        cancel_reject(g, s, m, o, '2', 99, why);
        return;
    }
    brs_error rerr = {0};
    brs_order chk = {.instrument = o->instrument, .account = s->index, .price = px, .qty = qty,
                     .side = side, .type = type, .tif = o->tif};
    if (risk_refused(g, s, &chk, o, &rerr)) { /* the order stays; CxlRejReason 2: exchange option */
        g->jflags |= JOURNAL_RISK_REFUSED;
        if (!g->replaying)
            g->st.risk_refusals++;
        cancel_reject(g, s, m, o, '2', 2, rerr.msg);
        return;
    }
    char clordid[BRS__FIX_CLORDID_MAX], orig[BRS__FIX_CLORDID_MAX];
    brs__fix_str(m, 11, clordid, sizeof clordid);
    brs__fix_str(m, 41, orig, sizeof orig);
    g->req_clordid = clordid;
    g->req_orig = orig;
    g->req_order = o->id;
    int rc = brs__rt_replace(g->rt, client_of(g, s->index), o->id, px, qty - o->cum0);
    if (rc == BRS_OK)
        pump(g, s->now);
    g->req_clordid = g->req_orig = NULL;
    g->req_order = 0;
    if (rc != BRS_OK)
        cancel_reject(g, s, m, o, '2', rc == BRS_E_UNKNOWNORDER ? 0 : 99, reason_text(rc));
}

/* OrderStatusRequest (H): the order named by ClOrdID (its latest, or any
 * earlier one of its chain) or by OrderID, as it stands now: an
 * ExecutionReport with ExecType I and ExecID 0 (FIX 4.4: no execution), the
 * OrdStatusReqID echoed. Unknown: OrdStatus 8 with OrdRejReason 5. Read-only:
 * neither journaled nor numbered, so replay is unaffected. */
static void on_status_request(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    const brs__fix_order *o = NULL;
    const brs__fix_field *cl = brs__fix_get(m, 11);
    uint64_t oid;
    if (brs__fix_uint(m, 37, &oid) == 1 && (o = order_by_id(g, oid)) && o->session != s->index)
        o = NULL;
    if (!o) {
        brs__fix_clmap_entry *e = map_find(g, s->index, brs__fix_val(m, cl), cl->len);
        if (e)
            o = &g->orders[e->order - 1];
    }
    if (o) {
        encode_er(g, s, o, 0, 'I', NULL, NULL, 0, 0, NULL, m);
        return;
    }
    static const uint32_t echo[] = {54, 55};
    er_no_order(s, m, 0, 'I', echo, BRS__ARRAY_LEN(echo), 5, "unknown order"); /* 5: unknown order */
}

/* OrderMassCancelRequest (q): MassCancelRequestType 1 (one security, by
 * Symbol) or 7 (all orders), optionally one Side, over the requesting
 * session's open orders. The OrderMassCancelReport (r) comes first, with
 * TotalAffectedOrders, then an ExecutionReport Canceled per order under its
 * own ClOrdID. Other request types are refused (MassCancelResponse 0,
 * MassCancelRejectReason 0: not supported; 1: unknown security). */
static void on_mass_cancel(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    uint64_t type = 0;
    int instr = -1, reject = -1;
    char side = brs__fix_char(m, 54);
    const brs__fix_field *f;
    if (brs__fix_uint(m, 530, &type) != 1 || (type != 1 && type != 7))
        reject = 0;
    else if (type == 1) {
        f = brs__fix_get(m, 55);
        instr = f ? brs__fix_find_instr(g, brs__fix_val(m, f), f->len) : -1;
        if (instr < 0)
            reject = 1;
    }
    if (brs__fix_get(m, 54) && side != '1' && side != '2') {
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 54, "Side must be 1 or 2");
        return;
    }
    uint64_t affected = 0;
    if (reject < 0)
        for (uint64_t i = 0; i < g->n_orders; i++) {
            const brs__fix_order *o = &g->orders[i];
            if (o->open && o->session == s->index && (instr < 0 || o->instrument == (uint32_t)instr) &&
                (!side || o->side == (side == '1' ? BRS_BUY : BRS_SELL)))
                affected++;
        }
    uint64_t report_id = ++g->next_exec_id; /* numbered like executions: replay keeps it */
    if (!g->replaying) {
        brs__fix_enc *e = brs__fix_session_begin(s, "r");
        f = brs__fix_get(m, 11);
        brs__fix_enc_mem(e, 11, brs__fix_val(m, f), f->len);
        brs__fix_enc_int(e, 37, (int64_t)report_id);
        const brs__fix_field *t = brs__fix_get(m, 530);
        brs__fix_enc_mem(e, 530, brs__fix_val(m, t), t->len); /* as sent, even if unsupported */
        brs__fix_enc_int(e, 531, reject < 0 ? (int64_t)type : 0);
        if (reject >= 0)
            brs__fix_enc_int(e, 532, reject);
        brs__fix_enc_int(e, 533, (int64_t)affected);
        if (instr >= 0)
            brs__fix_enc_str(e, 55, g->instr[instr].symbol);
        if (side)
            brs__fix_enc_char(e, 54, side);
        brs__fix_enc_time(e, 60, s->now);
        if (reject >= 0)
            brs__fix_enc_str(e, 58, reject ? "unknown security" :
                                             "MassCancelRequestType must be 1 (security) or 7 (all)");
        brs__fix_session_send(s);
    }
    if (reject >= 0)
        return;
    for (uint64_t i = 0; i < g->n_orders; i++) {
        const brs__fix_order *o = &g->orders[i];
        if (o->open && o->session == s->index && (instr < 0 || o->instrument == (uint32_t)instr) &&
            (!side || o->side == (side == '1' ? BRS_BUY : BRS_SELL)) &&
            brs__rt_cancel(g->rt, client_of(g, s->index), o->id) == BRS_OK)
            pump(g, s->now);
    }
}

static void business_reject(brs__fix_session *s, const brs__fix_msg *m, int reason, const char *text)
{
    brs__fix_enc *e = brs__fix_session_begin(s, "j");
    brs__fix_enc_int(e, 45, m->seq);
    brs__fix_enc_str(e, 372, m->msgtype);
    brs__fix_enc_int(e, 380, reason);
    brs__fix_enc_str(e, 58, text);
    brs__fix_session_send(s);
}

/* A PossDup NewOrderSingle below the expected MsgSeqNum was processed before:
 * it is not applied again; if it made an order, the client gets its state. */
static void on_dup(void *app, brs__fix_session *s, const brs__fix_msg *m)
{
    brs__fix_gateway *g = app;
    const brs__fix_field *cl = brs__fix_get(m, 11);
    if (g->replaying || strcmp(m->msgtype, "D") != 0 || !cl)
        return;
    brs__fix_clmap_entry *e = map_find(g, s->index, brs__fix_val(m, cl), cl->len);
    if (e)
        encode_er(g, s, &g->orders[e->order - 1], 0, 'I', NULL, NULL, 0, 0,
                  "possible duplicate of a known order: its current state", NULL);
}

void brs__fix_gateway_on_app(void *app, brs__fix_session *s, const brs__fix_msg *m)
{
    brs__fix_gateway *g = app;
    const char *mt = m->msgtype;
    g->jflags = 0;
    g->no_journal = 0;
    pump(g, s->now); /* the runtime's clock is this message's: what was due goes first */
    uint64_t rejects = s->rejects;
    if (strcmp(mt, "D") == 0)
        on_new_order(g, s, m);
    else if (strcmp(mt, "F") == 0)
        on_cancel(g, s, m);
    else if (strcmp(mt, "G") == 0)
        on_replace(g, s, m);
    else if (strcmp(mt, "q") == 0)
        on_mass_cancel(g, s, m);
    else if (strcmp(mt, "H") == 0) {
        if (!g->replaying)
            on_status_request(g, s, m);
        return;
    } else if (strcmp(mt, "V") == 0) {
        if (!g->replaying)
            brs__fix_md_request(g, s, m);
        return;
    } else {
        if (!g->replaying)
            business_reject(s, m, 3, "unsupported message type");
        return;
    }
    /* refused by a session-level Reject: it changed nothing, and replaying it
     * would send that Reject again */
    if (s->rejects != rejects || g->no_journal)
        return;
    /* journaled after processing, with its decisions; it still reaches the
     * file before any reply reaches the wire (brs__fix_gateway_flush) */
    journal_append(g, s->index | g->jflags, m->buf, m->len);
    brs__fix_md_publish(g);
}

/* ---- journal compaction ------------------------------------------------------ */

static void put_u32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The snapshot record of one open order (layout in docs/fix-gateway.md). */
static void snap_order_encode(const brs__fix_order *o, char r[SNAP_ORDER_LEN])
{
    memset(r, 0, SNAP_ORDER_LEN);
    put_u64(r, o->id);
    put_u32(r + 8, o->session);
    put_u32(r + 12, o->instrument);
    memcpy(r + 16, o->clordid, strnlen(o->clordid, BRS__FIX_CLORDID_MAX - 1));
    r[64] = (char)o->side;
    r[65] = (char)o->ord_type;
    r[66] = (char)o->tif;
    r[67] = o->status;
    put_u64(r + 72, (uint64_t)o->price);
    put_u64(r + 80, (uint64_t)o->qty);
    put_u64(r + 88, (uint64_t)o->leaves);
    put_u64(r + 96, (uint64_t)o->cum);
    unsigned __int128 n = (unsigned __int128)o->notional;
    put_u64(r + 104, (uint64_t)n);
    put_u64(r + 112, (uint64_t)(n >> 64));
}

static int cmp_prio(const void *a, const void *b)
{
    uint64_t x = (*(const brs__fix_order *const *)a)->prio, y = (*(const brs__fix_order *const *)b)->prio;
    return x < y ? -1 : x > y;
}

/* The whole snapshot: header, open orders in queue priority (the order they
 * took their places in their levels, so resting them again in this order gives
 * every level back its queue), the risk state per session, end. */
static int snapshot_build(brs__fix_gateway *g, char **buf, size_t *len, brs_error *err)
{
    size_t cap = 0;
    uint64_t nopen = 0;
    for (uint64_t k = 0; k < g->n_orders; k++)
        nopen += g->orders[k].open;
    char h[SNAP_HEADER_LEN] = {0};
    put_u32(h, SNAP_VERSION);
    const brs__fix_clset *cs0 = g->snap_closed ? g->snap_closed : &g->closed;
    put_u32(h + 4, cs0->used > UINT32_MAX ? 0 : (uint32_t)cs0->used);
    put_u64(h + 8, g->last_order_id);
    put_u64(h + 16, g->next_exec_id);
    put_u64(h + 24, (uint64_t)g->day_boundary);
    put_u64(h + 32, nopen);
    int rc = buf_record(buf, len, &cap, JOURNAL_SNAPSHOT, h, sizeof h);
    const brs__fix_order **open = malloc((nopen ? nopen : 1) * sizeof *open);
    if (!open)
        rc = BRS_E_NOMEM;
    uint64_t n = 0;
    for (uint64_t k = 0; open && k < g->n_orders; k++)
        if (g->orders[k].open)
            open[n++] = &g->orders[k];
    if (rc == BRS_OK && n > 1)
        qsort(open, n, sizeof *open, cmp_prio);
    for (uint64_t k = 0; rc == BRS_OK && k < n; k++) {
        char r[SNAP_ORDER_LEN];
        snap_order_encode(open[k], r);
        rc = buf_record(buf, len, &cap, JOURNAL_SNAP_ORDER, r, sizeof r);
    }
    free(open);
    uint32_t ni = g->n_instr < BRS_RISK_MAX_INSTRUMENTS ? g->n_instr : BRS_RISK_MAX_INSTRUMENTS;
    char *r = malloc(8 + (size_t)ni * 32);
    if (!r && rc == BRS_OK)
        rc = BRS_E_NOMEM;
    for (uint32_t si = 0; rc == BRS_OK && si < g->n_sessions; si++) {
        const brs_risk *rk = &g->risk[si];
        put_u32(r, si);
        put_u32(r + 4, ni);
        for (uint32_t in = 0; in < ni; in++) {
            char *p = r + 8 + (size_t)in * 32;
            put_u64(p, (uint64_t)rk->position[in]);
            put_u64(p + 8, (uint64_t)rk->open_qty[in][BRS_BUY]);
            put_u64(p + 16, (uint64_t)rk->open_qty[in][BRS_SELL]);
            put_u64(p + 24, (uint64_t)rk->ref_price[in]);
        }
        rc = buf_record(buf, len, &cap, JOURNAL_SNAP_RISK, r, 8 + ni * 32);
    }
    free(r);
    /* the day's ClOrdIDs no longer held (a checkpoint's), for duplicate checks */
    const brs__fix_clset *cs = g->snap_closed ? g->snap_closed : &g->closed;
    uint64_t chunk[SNAP_CLOSED_PER_RECORD];
    uint32_t nc = 0;
    for (uint64_t k = 0; rc == BRS_OK && k <= cs->cap; k++) {
        if (k < cs->cap && cs->slot[k])
            chunk[nc++] = cs->slot[k];
        if (nc && (nc == SNAP_CLOSED_PER_RECORD || k == cs->cap)) {
            rc = buf_record(buf, len, &cap, JOURNAL_SNAP_CLOSED, chunk, nc * 8);
            nc = 0;
        }
    }
    if (rc == BRS_OK)
        rc = buf_record(buf, len, &cap, JOURNAL_SNAP_END, NULL, 0);
    if (rc == BRS_E_NOMEM)
        brs__err(err, rc, "snapshot: out of memory");
    return rc;
}

static void temp_path(const brs__fix_gateway *g, char *out, size_t cap)
{
    snprintf(out, cap, "%s.compact", g->jpath);
}

/* The journal about to be replaced keeps its content in STATE_DIR/archive/
 * (a hard link: no copy), for the audit trail (docs/fix-gateway.md). */
static int journal_archive(brs__fix_gateway *g, brs_error *err)
{
    char arch[1200];
    if (brs__fix_archive_link(g->jpath, brs__realtime_ns(), arch, sizeof arch) != 0)
        return brs__err(err, BRS_E_IO, "cannot archive %s: %s", g->jpath, strerror(errno));
    BRS_LOG(BRS_LOG_INFO, "fix", "journal archived before compaction", BRS_KV_S("journal", g->jpath),
            BRS_KV_S("archived_as", arch));
    return BRS_OK;
}

/* Rewrites the journal as a snapshot of the state now: a temporary file in the
 * same directory, fsync, rename over the journal, fsync of the directory. A
 * crash leaves the old journal or the new one, each complete; a stray
 * temporary is removed at the next open. New records then go to the new file
 * (the pending ones are in the snapshot already). */
static int journal_rewrite(brs__fix_gateway *g, brs_error *err)
{
    /* the batch's store records first: the snapshot commits them */
    int any = 0;
    if (flush_stores(g, &any) != BRS_OK)
        return brs__err(err, BRS_E_IO, "snapshot not written: %s", g->fail_msg);
    char *buf = NULL;
    size_t len = 0;
    int rc = snapshot_build(g, &buf, &len, err);
    size_t cap = len;
    if (rc == BRS_OK && commit_record(&buf, &len, &cap, g->batch) != BRS_OK)
        rc = brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
    if (rc != BRS_OK) {
        free(buf);
        return rc;
    }
    size_t plen = strlen(g->jpath) + 16;
    char *tmp = malloc(plen), *dir = malloc(plen);
    if (!tmp || !dir) {
        free(buf);
        free(tmp);
        free(dir);
        return brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
    }
    temp_path(g, tmp, plen);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        rc = brs__err(err, BRS_E_IO, "%s: %s", tmp, strerror(errno));
    else if (brs__fix_wal_write(fd, buf, len) != 0 || brs__fix_wal_sync(fd, 1) != 0)
        rc = brs__err(err, BRS_E_IO, "%s: %s", tmp, strerror(errno));
    else if (journal_archive(g, err) != BRS_OK)
        rc = BRS_E_IO; /* history is never dropped: the old journal stays */
    else if (rename(tmp, g->jpath) != 0)
        rc = brs__err(err, BRS_E_IO, "rename %s: %s", tmp, strerror(errno));
    free(buf);
    if (rc != BRS_OK) {
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        free(dir);
        return rc;
    }
    /* the new journal is in place: append to it from now on */
    close(g->jfd);
    g->jfd = fd;
    g->jlen = 0;
    g->jsize = g->snap_bytes = len;
    g->batch++;
    for (uint32_t i = 0; i < g->n_sessions; i++)
        g->sessions[i]->store.c_next_out = g->sessions[i]->store.next_out;
    snprintf(dir, plen, "%s", g->jpath);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, plen, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || brs__fix_wal_sync(dfd, 1) != 0)
        rc = brs__err(err, BRS_E_IO, "%s: cannot sync the directory: %s", dir, strerror(errno));
    if (dfd >= 0)
        close(dfd);
    free(tmp);
    free(dir);
    return rc;
}

/* The end of day as recorded (mode EOD_*); replay calls it for its records. */
static void end_of_day(brs__fix_gateway *g, int64_t boundary, int mode)
{
    if (mode != EOD_MARK) {
        g->expiring = 1;
        for (uint64_t i = 0; i < g->n_orders; i++) {
            const brs__fix_order *o = &g->orders[i];
            if (o->open && o->tif == BRS_DAY &&
                brs__rt_cancel(g->rt, client_of(g, o->session), o->id) == BRS_OK)
                pump(g, brs__rt_now(g->rt));
        }
        g->expiring = 0;
    }
    g->day_boundary = boundary;
    if (mode == EOD_FORGET)
        forget_closed(g);
}

static void journal_eod(brs__fix_gateway *g, int64_t boundary, int mode)
{
    char rec[9];
    memcpy(rec, &boundary, 8);
    rec[8] = (char)mode;
    journal_append(g, JOURNAL_END_OF_DAY, rec, sizeof rec);
}

int brs__fix_gateway_end_of_day(brs__fix_gateway *g, int64_t boundary, int mark_only,
                                brs_error *err)
{
    int rc = BRS_OK;
    if (mark_only || g->replaying) {
        end_of_day(g, boundary, mark_only ? EOD_MARK : EOD_EXPIRE);
        journal_eod(g, boundary, mark_only ? EOD_MARK : EOD_EXPIRE);
    } else {
        end_of_day(g, boundary, EOD_EXPIRE);
        if ((rc = forget_closed(g)) != BRS_OK) {
            brs__err(err, rc, "end of day: out of memory compacting the order table");
            journal_eod(g, boundary, EOD_EXPIRE);
        } else if (g->jfd < 0 || (rc = journal_rewrite(g, err)) != BRS_OK) {
            journal_eod(g, boundary, EOD_FORGET); /* the old journal, still complete */
        }
    }
    brs__fix_md_publish(g);
    return rc;
}

/* A checkpoint (app.h): the snapshot is written first (with the ClOrdIDs
 * about to be forgotten), and only once it replaced the journal do the
 * closed orders leave memory, so a failure changes nothing. */
int brs__fix_gateway_checkpoint(brs__fix_gateway *g, brs_error *err)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    int64_t t0 = brs__monotime_ns();
    brs__fix_clset keep = {0};
    int rc = BRS_OK;
    for (uint64_t k = 0; rc == BRS_OK && k < g->closed.cap; k++)
        if (g->closed.slot[k])
            rc = brs__fix_clset_add(&keep, g->closed.slot[k]);
    for (int t = 0; t < 2; t++) {
        const brs__fix_clmap_entry *tab = t ? g->map_old : g->map;
        uint64_t cap = t ? g->map_old_cap : g->map_cap;
        for (uint64_t k = 0; rc == BRS_OK && tab && k < cap; k++) {
            const brs__fix_clmap_entry *e = &tab[k];
            if (!e->order)
                continue;
            const brs__fix_order *o = &g->orders[e->order - 1];
            /* closed, or an earlier link of an open order's replace chain */
            if (!o->open || strcmp(e->clordid, o->clordid) != 0)
                rc = brs__fix_clset_add(&keep, e->hash);
        }
    }
    if (rc != BRS_OK) {
        brs__fix_clset_free(&keep);
        return brs__err(err, rc, "checkpoint: out of memory");
    }
    uint64_t held = g->n_orders;
    g->snap_closed = &keep;
    rc = journal_rewrite(g, err);
    g->snap_closed = NULL;
    if (rc != BRS_OK) {
        brs__fix_clset_free(&keep);
        return rc;
    }
    forget_closed(g); /* out of memory: they stay held, the set is right either way */
    g->closed = keep;
    BRS_LOG(BRS_LOG_INFO, "fix", "journal checkpoint: closed orders left memory and journal",
            BRS_KV_S("journal", g->jpath), BRS_KV_U("orders_open", g->n_orders),
            BRS_KV_U("orders_forgotten", held - g->n_orders),
            BRS_KV_U("clordids_kept_as_hashes", keep.used), BRS_KV_U("journal_bytes", g->jsize),
            BRS_KV_F("ms", (double)(brs__monotime_ns() - t0) / 1e6));
    return BRS_OK;
}

/* Big tables read at a restart in transparent huge pages where the system
 * allows (madvise mode): a fault per 2 MB instead of per 4 KB. */
static void advise_huge(void *p, size_t n)
{
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, z = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (n >= ((size_t)4 << 20) && z > a)
        madvise((void *)a, z - a, MADV_HUGEPAGE);
}

/* Room for `orders` more orders in the table and the ClOrdID map (empty, as
 * at the head of a journal) and for `closed` forgotten ClOrdIDs. */
static int snap_reserve(brs__fix_gateway *g, uint64_t orders, uint32_t closed)
{
    if (orders > UINT32_MAX)
        return BRS_E_NOMEM;
    if (g->n_orders + orders > g->cap_orders) {
        brs__fix_order *p = realloc(g->orders, (g->n_orders + orders) * sizeof *p);
        if (!p)
            return BRS_E_NOMEM;
        g->orders = p;
        g->cap_orders = g->n_orders + orders;
        advise_huge(p, g->cap_orders * sizeof *p);
    }
    if (g->map_used == 0 && !g->map_old) {
        uint64_t cap = 4096;
        while ((orders + 1) * 2 > cap)
            cap *= 2;
        if (cap > g->map_cap) {
            brs__fix_clmap_entry *m = calloc(cap, sizeof *m);
            if (!m)
                return BRS_E_NOMEM;
            free(g->map);
            g->map = m;
            g->map_cap = cap;
            advise_huge(m, cap * sizeof *m);
        }
    }
    return brs__fix_clset_reserve(&g->closed, closed);
}

/* Replay of the snapshot's records. */
static int snap_order_restore(brs__fix_gateway *g, const char *r, brs_error *err)
{
    uint64_t id = get_u64(r);
    uint32_t session = get_u32(r + 8), instr = get_u32(r + 12);
    brs__fix_order *o;
    if (id == 0 || id > g->last_order_id) /* duplicates: found once sorted, at the end */
        return brs__err(err, BRS_E_CORRUPT, "OrderID %llu out of place", (unsigned long long)id);
    if (instr >= g->n_instr)
        return brs__err(err, BRS_E_CORRUPT, "order %llu: instrument %u not configured",
                        (unsigned long long)id, instr);
    if (memchr(r + 16, 0, BRS__FIX_CLORDID_MAX) == NULL)
        return brs__err(err, BRS_E_CORRUPT, "order %llu: ClOrdID not terminated",
                        (unsigned long long)id);
    int rc = add_slot(g, id, &o);
    if (rc != BRS_OK)
        return brs__err(err, rc, "order %llu: %s", (unsigned long long)id, brs_err_name(rc));
    o->session = session;
    o->instrument = instr;
    memcpy(o->clordid, r + 16, BRS__FIX_CLORDID_MAX);
    o->side = (uint8_t)r[64];
    o->ord_type = (uint8_t)r[65];
    o->tif = (uint8_t)r[66];
    o->status = r[67];
    set_open(g, o, 1);
    o->price = (int64_t)get_u64(r + 72);
    o->qty = (int64_t)get_u64(r + 80);
    o->leaves = (int64_t)get_u64(r + 88);
    o->cum = (int64_t)get_u64(r + 96);
    o->notional = (__int128)(((unsigned __int128)get_u64(r + 112) << 64) | get_u64(r + 104));
    o->prio = ++g->prio_seq; /* records come in queue priority */
    o->cum0 = o->cum;
    if (session >= g->n_sessions) { /* its session is no longer configured: nothing may trade it */
        BRS_LOG(BRS_LOG_WARN, "fix", "recovery: open order of a session no longer configured closed",
                BRS_KV_U("order_id", id), BRS_KV_U("session", session));
        set_open(g, o, 0);
        o->status = '4';
        o->leaves = 0;
        return BRS_OK;
    }
    /* rested again through the runtime, front of each level first: the venue
     * counts its quantity from here (cum0), its events are not news */
    brs_order ord = {.id = id, .instrument = instr, .price = o->price, .qty = o->leaves,
                     .side = o->side, .type = o->ord_type, .tif = o->tif};
    g->restoring = 1;
    g->restore_kind = 0;
    rc = brs__rt_submit(g->rt, client_of(g, session), &ord);
    if (rc == BRS_OK)
        pump(g, brs__rt_now(g->rt));
    g->restoring = 0;
    if (rc == BRS_OK && g->restore_kind != BRS_OEV_ACCEPTED)
        rc = BRS_E_STATE;
    if (rc != BRS_OK) {
        g->n_orders--; /* the slot goes; the index is rebuilt at the end */
        return brs__err(err, rc, "order %llu cannot rest in the book: %s", (unsigned long long)id,
                        brs_err_name(rc));
    }
    return BRS_OK;
}

static int cmp_order_id(const void *a, const void *b)
{
    uint64_t x = ((const brs__fix_order *)a)->id, y = ((const brs__fix_order *)b)->id;
    return x < y ? -1 : x > y;
}

static int snap_record(brs__fix_gateway *g, uint32_t type, const char *p, uint32_t len,
                       size_t pos, brs_error *err)
{
    if (type == JOURNAL_SNAPSHOT) {
        if (pos != 0 || len != SNAP_HEADER_LEN || get_u32(p) != SNAP_VERSION)
            return brs__err(err, BRS_E_CORRUPT, "snapshot header misplaced or of another version");
        g->last_order_id = get_u64(p + 8);
        g->next_exec_id = get_u64(p + 16);
        g->day_boundary = (int64_t)get_u64(p + 24);
        g->snap_want = get_u64(p + 32);
        g->snap_read = 0;
        g->in_snapshot = 1;
        /* sized once for what the snapshot announces: no growth while read */
        if (snap_reserve(g, g->snap_want, get_u32(p + 4)) != BRS_OK)
            return brs__err(err, BRS_E_NOMEM, "snapshot of %llu orders: out of memory",
                            (unsigned long long)g->snap_want);
        return BRS_OK;
    }
    if (!g->in_snapshot)
        return brs__err(err, BRS_E_CORRUPT, "snapshot record outside a snapshot");
    if (type == JOURNAL_SNAP_ORDER) {
        if (len != SNAP_ORDER_LEN)
            return brs__err(err, BRS_E_CORRUPT, "snapshot order record of %u bytes", len);
        g->snap_read++;
        return snap_order_restore(g, p, err);
    }
    if (type == JOURNAL_SNAP_RISK) {
        if (len < 8 || len != 8 + (uint64_t)get_u32(p + 4) * 32)
            return brs__err(err, BRS_E_CORRUPT, "snapshot risk record of %u bytes", len);
        uint32_t si = get_u32(p), ni = get_u32(p + 4);
        if (si >= g->n_sessions)
            return BRS_OK; /* the session is gone: nothing to restore */
        brs_risk *rk = &g->risk[si];
        for (uint32_t in = 0; in < ni && in < BRS_RISK_MAX_INSTRUMENTS; in++) {
            const char *q = p + 8 + (size_t)in * 32;
            rk->position[in] = (int64_t)get_u64(q);
            rk->open_qty[in][BRS_BUY] = (int64_t)get_u64(q + 8);
            rk->open_qty[in][BRS_SELL] = (int64_t)get_u64(q + 16);
            rk->ref_price[in] = (int64_t)get_u64(q + 24);
        }
        return BRS_OK;
    }
    if (type == JOURNAL_SNAP_CLOSED) {
        if (len % 8)
            return brs__err(err, BRS_E_CORRUPT, "snapshot ClOrdID record of %u bytes", len);
        for (uint32_t k = 0; k < len / 8; k++)
            if (brs__fix_clset_add(&g->closed, get_u64(p + (size_t)k * 8)) != BRS_OK)
                return brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
        return BRS_OK;
    }
    /* JOURNAL_SNAP_END: the table in OrderID order, as it was live */
    g->snap_bytes = pos + 8;
    if (g->snap_read != g->snap_want)
        return brs__err(err, BRS_E_CORRUPT, "snapshot announces %llu orders and holds %llu",
                        (unsigned long long)g->snap_want, (unsigned long long)g->snap_read);
    g->in_snapshot = 0;
    if (g->n_orders > 1)
        qsort(g->orders, g->n_orders, sizeof *g->orders, cmp_order_id);
    for (uint64_t k = 1; k < g->n_orders; k++)
        if (g->orders[k].id == g->orders[k - 1].id)
            return brs__err(err, BRS_E_CORRUPT, "OrderID %llu twice in the snapshot",
                            (unsigned long long)g->orders[k].id);
    table_sorted(g);
    for (uint64_t k = 0; k < g->n_orders; k++)
        if (map_put(g, g->orders[k].session, g->orders[k].clordid, (uint32_t)(k + 1)) != BRS_OK)
            return brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
    return BRS_OK;
}

/* ---- lifecycle -------------------------------------------------------------- */

int brs__fix_rt_instruments(const brs__fix_instr *in, uint32_t n, brs_instrument **out)
{
    brs_instrument *ri = calloc(n ? n : 1, sizeof *ri);
    *out = ri;
    if (!ri)
        return BRS_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        ri[i].id = i;
        snprintf(ri[i].symbol, sizeof ri[i].symbol, "%s", in[i].symbol);
        ri[i].price_scale = 1;
        for (int d = 0; d < in[i].decimals; d++)
            ri[i].price_scale *= 10;
        ri[i].tick_size = in[i].tick_size;
        ri[i].lot_size = in[i].lot_size;
    }
    return BRS_OK;
}

int brs__fix_default_runtime(brs_config *cfg, brs__rt_opts *o, uint32_t max_orders, brs_error *err)
{
    char text[256];
    if (max_orders)
        snprintf(text, sizeof text,
                 "{\"venues\": [{\"name\": \"sim\", \"plugin\": \"sim\", \"params\": {\"max_orders\": %u}}]}",
                 max_orders < 1024 ? 1024 : max_orders);
    else
        snprintf(text, sizeof text, "{\"venues\": [{\"name\": \"sim\", \"plugin\": \"sim\"}]}");
    memset(o, 0, sizeof *o);
    int rc = brs__config_parse(cfg, text, "the FIX gateway's default venue", err);
    if (rc == BRS_OK)
        rc = brs__rt_read_config(cfg, cfg->root, "", o, err);
    o->books_from_venues = 1;
    return rc;
}

int brs__fix_gateway_open(brs__fix_gateway *g, const brs__fix_instr *instr, uint32_t n,
                          uint32_t max_orders, const char *journal_path, int fsync_policy,
                          brs_error *err)
{
    /* a runtime of its own: one in-process sim venue, no latency, no router */
    brs__fix_gateway tmp;
    memset(&tmp, 0, sizeof tmp);
    brs__rt_opts ro = {0};
    brs__rt *rt = NULL;
    int rc = brs__fix_default_runtime(&tmp.rt_cfg, &ro, max_orders, err);
    if (rc == BRS_OK && brs__fix_rt_instruments(instr, n, &tmp.rt_instr) != BRS_OK)
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
    if (rc == BRS_OK)
        rc = brs__rt_create(&rt, &tmp.rt_cfg, tmp.rt_cfg.root, "", &ro, tmp.rt_instr, n, NULL, 0, err);
    if (rc == BRS_OK)
        rc = brs__fix_gateway_open_rt(g, instr, n, rt, 0, journal_path, fsync_policy, err);
    else
        memset(g, 0, sizeof *g);
    /* the gateway owns them from here, even when it failed to open (close frees) */
    g->own_rt = 1;
    g->rt = rt;
    g->rt_cfg = tmp.rt_cfg;
    g->rt_instr = tmp.rt_instr;
    return rc;
}

int brs__fix_gateway_open_rt(brs__fix_gateway *g, const brs__fix_instr *instr, uint32_t n,
                             brs__rt *rt, int last_mkt, const char *journal_path,
                             int fsync_policy, brs_error *err)
{
    memset(g, 0, sizeof *g);
    g->rt = rt;
    g->last_mkt = last_mkt;
    g->md_venue = brs__rt_market_venue(rt);
    g->jfd = -1;
    g->batch = 1;
    g->fsync_policy = fsync_policy;
    g->instr = calloc(n ? n : 1, sizeof *instr);
    if (!g->instr)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    memcpy(g->instr, instr, n * sizeof *instr);
    g->n_instr = n;
    g->max_md_subs = BRS__FIX_MD_DEFAULT_SUBS;
    g->max_md_subs_per_session = BRS__FIX_MD_DEFAULT_SUBS_PER_SESSION;
    g->max_md_symbols = BRS__FIX_MD_DEFAULT_SYMBOLS;
    g->md_view = calloc(n ? n : 1, sizeof *g->md_view);
    if (!g->md_view)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    if (journal_path) {
        g->jpath = strdup(journal_path);
        if (!g->jpath)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        g->jfd = open(journal_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (g->jfd < 0)
            return brs__err(err, BRS_E_IO, "%s: %s", journal_path, strerror(errno));
        /* a compaction that crashed before its rename: the journal is the old one */
        char tmp[4096];
        temp_path(g, tmp, sizeof tmp);
        unlink(tmp);
    }
    return BRS_OK;
}

void brs__fix_gateway_close(brs__fix_gateway *g)
{
    brs__fix_gateway_flush(g);
    if (g->jfd >= 0)
        close(g->jfd);
    if (g->own_rt) {
        brs__rt_destroy(g->rt);
        brs__config_free(&g->rt_cfg);
        free(g->rt_instr);
    }
    free(g->client);
    free(g->instr);
    free(g->sessions);
    free(g->orders);
    free(g->jpath);
    map_free(g);
    brs__fix_clset_free(&g->closed);
    free(g->subs);
    free(g->md_view);
    free(g->trades);
    free(g->risk);
    free(g->jbuf);
    memset(g, 0, sizeof *g);
    g->jfd = -1;
}

void brs__fix_gateway_set_risk(brs__fix_gateway *g, const brs_risk_config *cfg)
{
    g->risk_on = 1;
    g->risk_cfg = *cfg;
}

int brs__fix_gateway_add_session(brs__fix_gateway *g, brs__fix_session *s)
{
    /* a risk state per session even without limits: it follows the positions */
    brs_risk *r = realloc(g->risk, (g->n_sessions + 1) * sizeof *r);
    if (!r)
        return BRS_E_NOMEM;
    g->risk = r;
    brs__risk_init(&g->risk[g->n_sessions], g->risk_on ? &g->risk_cfg : NULL);
    uint32_t *cl = realloc(g->client, (g->n_sessions + 1) * sizeof *cl);
    if (!cl)
        return BRS_E_NOMEM;
    g->client = cl;
    /* the session is a client of the runtime, on its route; its reports come
     * back through on_event under their OrderIDs */
    brs__rt_client_ops ops = {.user = g, .xOnOrder = on_event, .self_trade = 1};
    brs_error cerr = {0};
    if (brs__rt_client_add(g->rt, &ops, g->has_route ? g->next_route : brs__rt_default_route(g->rt),
                           &g->client[g->n_sessions], &cerr) != BRS_OK) {
        BRS_LOG(BRS_LOG_ERROR, "fix", "session cannot be a runtime client", BRS_KV_S("error", cerr.msg));
        return BRS_E_LIMIT;
    }
    g->has_route = 0;
    if (g->n_sessions == g->cap_sessions) {
        uint32_t c = g->cap_sessions ? g->cap_sessions * 2 : 8;
        brs__fix_session **p = realloc(g->sessions, c * sizeof *p);
        if (!p)
            return BRS_E_NOMEM;
        g->sessions = p;
        g->cap_sessions = c;
    }
    s->index = g->n_sessions;
    s->store.batch = &g->batch;
    s->on_app = brs__fix_gateway_on_app;
    s->on_dup = on_dup;
    s->app = g;
    g->sessions[g->n_sessions++] = s;
    return BRS_OK;
}

void brs__fix_gateway_next_route(brs__fix_gateway *g, const brs__rt_route *route)
{
    g->next_route = *route;
    g->has_route = 1;
}

/* The end of the last COMMIT record of the journal's first `end` bytes and its
 * batch; 0 when there is none (a journal of before commits: all of it counts). */
static size_t last_commit(const char *data, size_t end, uint64_t *batch)
{
    size_t pos = 0, at = 0;
    while (pos + 8 <= end) {
        uint32_t type, len;
        memcpy(&type, data + pos, 4);
        memcpy(&len, data + pos + 4, 4);
        if (pos + 8 + len > end)
            break;
        if (type == JOURNAL_COMMIT && len == 8) {
            memcpy(batch, data + pos + 8, 8);
            at = pos + 8 + len;
        }
        pos += 8 + len;
    }
    return at;
}

/* The journal to replay: mapped read-only (mapped = 1), or read into memory
 * where mapping fails. NULL with errno on error. */
static const char *journal_map(int fd, size_t len, int *mapped)
{
    *mapped = 0;
    if (len > 0) {
        void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            madvise(p, len, MADV_SEQUENTIAL);
            *mapped = 1;
            return p;
        }
    }
    char *d = malloc(len ? len : 1);
    if (d && pread(fd, d, len, 0) != (ssize_t)len) {
        free(d);
        errno = EIO;
        return NULL;
    }
    return d;
}

static void journal_unmap(const char *data, size_t len, int mapped)
{
    if (mapped)
        munmap((void *)data, len);
    else
        free((void *)data);
}

/* The mapped pages before `upto` (in 16 MB steps) leave the process: the
 * kernel reads them again from the file should they be touched. */
static void drop_behind(const char *data, size_t upto, size_t *dropped, int mapped)
{
    const size_t step = (size_t)1 << 24;
    size_t a = upto & ~(step - 1);
    if (!mapped || a <= *dropped)
        return;
    madvise((void *)(data + *dropped), a - *dropped, MADV_DONTNEED);
    *dropped = a;
}

/* A journal without a COMMIT (new, or from before commits) gets one for
 * everything now in it, so a crash from here on is cut at a commit. */
static int mark_committed(brs__fix_gateway *g, uint64_t batch, brs_error *err)
{
    char rec[16];
    uint32_t type = JOURNAL_COMMIT, len = 8;
    memcpy(rec, &type, 4);
    memcpy(rec + 4, &len, 4);
    memcpy(rec + 8, &batch, 8);
    if (brs__fix_wal_write(g->jfd, rec, sizeof rec) != 0 || brs__fix_wal_sync(g->jfd, 0) != 0)
        return brs__err(err, BRS_E_IO, "%s: %s", g->jpath, strerror(errno));
    return BRS_OK;
}

int brs__fix_gateway_replay(brs__fix_gateway *g, brs_error *err)
{
    if (g->jfd < 0)
        return BRS_OK;
    off_t fend = lseek(g->jfd, 0, SEEK_END);
    if (fend < 0)
        return brs__err(err, BRS_E_IO, "journal: %s", strerror(errno));
    /* mapped, not read into memory: the pages already passed are dropped as
     * the replay moves on, so a restart's memory is the state it rebuilds */
    int mapped = 0;
    const char *data = journal_map(g->jfd, (size_t)fend, &mapped);
    if (!data)
        return brs__err(err, BRS_E_IO, "journal: cannot read: %s", strerror(errno));
    size_t dropped = 0;
    /* reconcile: the journal counts up to its last COMMIT; store batches after
     * it were written but never committed (nothing of them reached a peer) */
    uint64_t committed = 0;
    size_t end = last_commit(data, (size_t)fend, &committed);
    if (mapped) /* that pass touched every page: they go, the replay reads on */
        madvise((void *)data, (size_t)fend, MADV_DONTNEED);
    int legacy = end == 0;
    if (legacy) {
        end = (size_t)fend;
        for (uint32_t i = 0; i < g->n_sessions; i++)
            if (g->sessions[i]->store.max_batch > committed)
                committed = g->sessions[i]->store.max_batch;
    }
    for (uint32_t i = 0; i < g->n_sessions; i++) {
        brs__fix_store *st = &g->sessions[i]->store;
        uint64_t cut = 0;
        int rc = brs__fix_store_rollback(st, committed, &cut, err);
        if (rc != BRS_OK) {
            journal_unmap(data, (size_t)fend, mapped);
            return rc;
        }
        if (cut)
            BRS_LOG(BRS_LOG_WARN, "fix", "recovery: uncommitted store tail cut (never sent)",
                    BRS_KV_S("session", g->sessions[i]->cfg.target), BRS_KV_U("bytes", cut),
                    BRS_KV_U("committed_batch", committed));
        BRS_LOG(BRS_LOG_INFO, "fix", "recovery: session store restored",
                BRS_KV_S("session", g->sessions[i]->cfg.target),
                BRS_KV_S("sender", g->sessions[i]->cfg.sender),
                BRS_KV_U("next_out", st->next_out), BRS_KV_U("next_in", st->next_in));
    }
    brs__fix_msg *m = malloc(sizeof *m);
    if (!m) {
        journal_unmap(data, (size_t)fend, mapped);
        return brs__err(err, BRS_E_NOMEM, "journal: out of memory");
    }
    brs__fix_msg_init(m);
    /* The journal keeps no receive times: a replayed message runs at the
     * runtime's clock (where the market data replay left it), so what the
     * runtime has due when it arrives is delivered inside the replay, as it
     * was inside the original request; a session's clock stays 0 until it
     * connects, which would leave every venue answer queued for the first
     * live loop turn, to be sent again as new reports. */
    for (uint32_t i = 0; i < g->n_sessions; i++)
        if (g->sessions[i]->now < brs__rt_now(g->rt))
            g->sessions[i]->now = brs__rt_now(g->rt);
    g->replaying = 1;
    size_t pos = 0;
    uint64_t n = 0;
    while (pos + 8 <= end) {
        uint32_t sess, len;
        memcpy(&sess, data + pos, 4);
        memcpy(&len, data + pos + 4, 4);
        if (pos + 8 + len > end)
            break; /* torn tail: it was never answered */
        g->replay_flags = sess & JOURNAL_RISK_REFUSED;
        sess &= ~JOURNAL_RISK_REFUSED;
        if (sess >= JOURNAL_SNAPSHOT && sess <= JOURNAL_SNAP_CLOSED) {
            int rc = snap_record(g, sess, data + pos + 8, len, pos, err);
            if (rc != BRS_OK) {
                brs__err_prefix(err, "journal: record at byte %zu: ", pos);
                g->replaying = 0;
                free(m);
                journal_unmap(data, (size_t)fend, mapped);
                return rc;
            }
        } else if (sess == JOURNAL_END_OF_DAY && len == 9) {
            int64_t b;
            memcpy(&b, data + pos + 8, 8);
            int mode = data[pos + 16];
            end_of_day(g, b, mode == EOD_MARK || mode == EOD_FORGET ? mode : EOD_EXPIRE);
        } else if (sess < g->n_sessions && brs__fix_parse(m, data + pos + 8, len) == BRS_OK) {
            brs__fix_gateway_on_app(g, g->sessions[sess], m);
            n++;
        }
        pos += 8 + len;
        drop_behind(data, pos, &dropped, mapped);
    }
    g->replaying = 0;
    g->touched = 0;
    free(m);
    journal_unmap(data, (size_t)fend, mapped);
    if (g->in_snapshot)
        return brs__err(err, BRS_E_CORRUPT, "journal: the snapshot has no end record");
    if (pos < (size_t)fend) {
        BRS_LOG(BRS_LOG_WARN, "fix", "recovery: uncommitted journal tail cut (never answered)",
                BRS_KV_S("journal", g->jpath), BRS_KV_U("bytes", (uint64_t)fend - pos));
        if (ftruncate(g->jfd, (off_t)pos) != 0 || fsync(g->jfd) != 0)
            return brs__err(err, BRS_E_IO, "journal: cannot cut a torn record");
    }
    g->batch = committed + 1;
    g->jsize = pos < (size_t)fend ? pos : (uint64_t)fend;
    for (uint32_t i = 0; i < g->n_sessions; i++)
        g->sessions[i]->store.c_next_out = g->sessions[i]->store.next_out;
    uint64_t open_orders = 0;
    for (uint64_t k = 0; k < g->n_orders; k++)
        open_orders += g->orders[k].open;
    BRS_LOG(BRS_LOG_INFO, "fix", "recovery: order journal replayed", BRS_KV_S("journal", g->jpath),
            BRS_KV_U("messages", n), BRS_KV_U("orders_open", open_orders),
            BRS_KV_U("orders_held", g->n_orders), BRS_KV_U("last_order_id", g->last_order_id),
            BRS_KV_U("last_exec_id", g->next_exec_id), BRS_KV_U("committed_batch", committed));
    if (legacy)
        return mark_committed(g, committed, err);
    return BRS_OK;
}
