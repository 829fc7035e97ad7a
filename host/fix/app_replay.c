/* app_replay.c: a restart's replay of the order journal: the snapshot it
 * starts with (open orders rested again in queue priority, risk state,
 * forgotten ClOrdIDs), then every committed record in order; the uncommitted
 * tail is cut (docs/fix-gateway.md, "Persistence and restart"). */
#include "fix/app.h"
#include "fix/archive.h"
#include "fix/app_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "fix/wal.h"

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
        brs__fix_advise_huge(p, g->cap_orders * sizeof *p);
    }
    if (g->map_used == 0 && !g->map_old) {
        uint64_t cap = 4096;
        while ((orders + 1) * 2 > cap)
            cap *= 2;
        if (cap > g->map_cap) {
            brs__fix_clmap_entry *m = brs__fix_map_alloc(cap, 1);
            if (!m)
                return BRS_E_NOMEM;
            free(g->map);
            g->map = m;
            g->map_cap = cap;
        }
    }
    int rc = brs__fix_clset_reserve(&g->closed, closed);
    if (rc == BRS_OK && g->closed.cap) /* filled at random before listening: huge pages */
        brs__fix_advise_huge(g->closed.slot, g->closed.cap * sizeof *g->closed.slot);
    return rc;
}

/* Replay of the snapshot's records. */
static int snap_order_restore(brs__fix_gateway *g, const char *r, brs_error *err)
{
    uint64_t id = brs__get_u64(r);
    uint32_t session = brs__get_u32(r + 8), instr = brs__get_u32(r + 12);
    brs__fix_order *o;
    if (id == 0 || id > g->last_order_id) /* duplicates: found once sorted, at the end */
        return brs__err(err, BRS_E_CORRUPT, "OrderID %llu out of place", (unsigned long long)id);
    if (instr >= g->n_instr)
        return brs__err(err, BRS_E_CORRUPT, "order %llu: instrument %u not configured",
                        (unsigned long long)id, instr);
    if (memchr(r + 16, 0, BRS__FIX_CLORDID_MAX) == NULL)
        return brs__err(err, BRS_E_CORRUPT, "order %llu: ClOrdID not terminated",
                        (unsigned long long)id);
    int rc = brs__fix_add_slot(g, id, &o);
    if (rc != BRS_OK)
        return brs__err(err, rc, "order %llu: %s", (unsigned long long)id, brs_err_name(rc));
    o->session = session;
    o->instrument = instr;
    memcpy(o->clordid, r + 16, BRS__FIX_CLORDID_MAX);
    o->side = (uint8_t)r[64];
    o->ord_type = (uint8_t)r[65];
    o->tif = (uint8_t)r[66];
    o->status = r[67];
    brs__fix_set_open(g, o, 1);
    o->price = (int64_t)brs__get_u64(r + 72);
    o->qty = (int64_t)brs__get_u64(r + 80);
    o->leaves = (int64_t)brs__get_u64(r + 88);
    o->cum = (int64_t)brs__get_u64(r + 96);
    o->notional = (__int128)(((unsigned __int128)brs__get_u64(r + 112) << 64) | brs__get_u64(r + 104));
    o->prio = ++g->prio_seq; /* records come in queue priority */
    o->cum0 = o->cum;
    brs__fix_eod_note(g, o);
    if (session >= g->n_sessions) { /* its session is no longer configured: nothing may trade it */
        BRS_LOG(BRS_LOG_WARN, "fix", "recovery: open order of a session no longer configured closed",
                BRS_KV_U("order_id", id), BRS_KV_U("session", session));
        brs__fix_set_open(g, o, 0);
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
    rc = brs__rt_submit(g->rt, brs__fix_client_of(g, session), &ord);
    if (rc == BRS_OK)
        brs__fix_pump(g, brs__rt_now(g->rt));
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
        if (pos != 0 || len != SNAP_HEADER_LEN || brs__get_u32(p) != SNAP_VERSION)
            return brs__err(err, BRS_E_CORRUPT, "snapshot header misplaced or of another version");
        g->last_order_id = brs__get_u64(p + 8);
        g->next_exec_id = brs__get_u64(p + 16);
        g->day_boundary = (int64_t)brs__get_u64(p + 24);
        g->snap_want = brs__get_u64(p + 32);
        g->snap_read = 0;
        g->in_snapshot = 1;
        /* sized once for what the snapshot announces: no growth while read */
        if (snap_reserve(g, g->snap_want, brs__get_u32(p + 4)) != BRS_OK)
            return brs__err(err, BRS_E_NOMEM, "snapshot of %llu orders: out of memory",
                            (unsigned long long)g->snap_want);
        return BRS_OK;
    }
    if (!g->in_snapshot)
        return brs__err(err, BRS_E_CORRUPT, "snapshot record outside a snapshot");
    if (type == JOURNAL_SNAP_FEED) {
        if (len != 16 || g->snap_read)
            return brs__err(err, BRS_E_CORRUPT, "snapshot feed record misplaced or of %u bytes", len);
        uint64_t ev = brs__get_u64(p + 8);
        g->jclock_t = (int64_t)brs__get_u64(p);
        if (ev && !g->replay_feed)
            return brs__err(err, BRS_E_CORRUPT, "snapshot: market data was replayed but market_data is not configured");
        if (g->replay_feed && g->replay_feed(g->replay_user, g->jclock_t, ev) != BRS_OK)
            return brs__err(err, BRS_E_CORRUPT, "snapshot: the market data file ends before %llu events",
                            (unsigned long long)ev);
        g->feed_events = ev;
        if (!g->replay_feed)
            brs__rt_advance(g->rt, g->jclock_t);
        return BRS_OK;
    }
    if (type == JOURNAL_SNAP_ORDER) {
        if (len != SNAP_ORDER_LEN)
            return brs__err(err, BRS_E_CORRUPT, "snapshot order record of %u bytes", len);
        g->snap_read++;
        return snap_order_restore(g, p, err);
    }
    if (type == JOURNAL_SNAP_RISK) {
        if (len < 8 || len != 8 + (uint64_t)brs__get_u32(p + 4) * 32)
            return brs__err(err, BRS_E_CORRUPT, "snapshot risk record of %u bytes", len);
        uint32_t si = brs__get_u32(p), ni = brs__get_u32(p + 4);
        if (si >= g->n_sessions)
            return BRS_OK; /* the session is gone: nothing to restore */
        brs_risk *rk = &g->risk[si];
        for (uint32_t in = 0; in < ni && in < BRS_RISK_MAX_INSTRUMENTS; in++) {
            const char *q = p + 8 + (size_t)in * 32;
            rk->position[in] = (int64_t)brs__get_u64(q);
            rk->open_qty[in][BRS_BUY] = (int64_t)brs__get_u64(q + 8);
            rk->open_qty[in][BRS_SELL] = (int64_t)brs__get_u64(q + 16);
            rk->ref_price[in] = (int64_t)brs__get_u64(q + 24);
        }
        return BRS_OK;
    }
    if (type == JOURNAL_SNAP_CLOSED) {
        if (len % 8)
            return brs__err(err, BRS_E_CORRUPT, "snapshot ClOrdID record of %u bytes", len);
        for (uint32_t k = 0; k < len / 8; k++) {
            if (k + 16 < len / 8 && g->closed.cap) /* its random slot, asked for ahead */
                __builtin_prefetch(&g->closed.slot[brs__get_u64(p + (size_t)(k + 16) * 8) & (g->closed.cap - 1)], 1);
            if (brs__fix_clset_add(&g->closed, brs__get_u64(p + (size_t)k * 8)) != BRS_OK)
                return brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
        }
        return BRS_OK;
    }
    /* JOURNAL_SNAP_END: the table in OrderID order, as it was live */
    g->snap_bytes = pos + 8;
    if (g->snap_read != g->snap_want)
        return brs__err(err, BRS_E_CORRUPT, "snapshot announces %llu orders and holds %llu",
                        (unsigned long long)g->snap_want, (unsigned long long)g->snap_read);
    g->in_snapshot = 0;
    if (brs__fix_table_sort_by_id(g) != BRS_OK)
        qsort(g->orders, g->n_orders, sizeof *g->orders, cmp_order_id); /* no room for the radix sort */
    for (uint64_t k = 1; k < g->n_orders; k++)
        if (g->orders[k].id == g->orders[k - 1].id)
            return brs__err(err, BRS_E_CORRUPT, "OrderID %llu twice in the snapshot",
                            (unsigned long long)g->orders[k].id);
    brs__fix_table_sorted(g);
    int rc = brs__fix_map_put_all(g, 1); /* the map was sized by the header */
    if (rc == BRS_E_STATE) { /* (it was not: one by one) */
        rc = BRS_OK;
        for (uint64_t k = 0; k < g->n_orders && rc == BRS_OK; k++)
            rc = brs__fix_map_put(g, g->orders[k].session, g->orders[k].clordid, (uint32_t)(k + 1));
    }
    if (rc != BRS_OK)
        return brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
    return BRS_OK;
}

/* The journal is read forward through one buffer (pread, 4 MB at a time;
 * larger only for a record that does not fit): a restart's memory is the
 * state it rebuilds, not the file, and no page of the file is mapped. (It
 * was mapped, with the pages passed dropped every 16 MB: a fault per 64 KB
 * and a TLB miss per 4 KB page cost a 2M-order restart about 0.3 s, more
 * than copying the 256 MB.) */
typedef struct jreader {
    int fd;
    size_t fend;
    char *buf;
    size_t cap, off, len; /* buf holds the file's bytes [off, off + len) */
} jreader;

#define JR_CHUNK ((size_t)4 << 20)

/* The file's bytes [pos, pos + n) (n > 0, pos + n <= fend), valid until the
 * next call; NULL with errno set on a read error or no memory. */
static const char *jr_at(jreader *r, size_t pos, size_t n)
{
    if (pos >= r->off && pos + n <= r->off + r->len)
        return r->buf + (pos - r->off);
    size_t keep = 0; /* bytes from pos already in the buffer move to its front */
    if (pos >= r->off && pos < r->off + r->len) {
        keep = r->off + r->len - pos;
        memmove(r->buf, r->buf + (pos - r->off), keep);
    }
    if (n > r->cap) {
        size_t c = r->cap ? r->cap : JR_CHUNK;
        while (c < n)
            c *= 2;
        char *b = realloc(r->buf, c);
        if (!b) {
            errno = ENOMEM;
            return NULL;
        }
        r->buf = b;
        r->cap = c;
    }
    r->off = pos;
    r->len = keep;
    size_t want = r->fend - pos < r->cap ? r->fend - pos : r->cap;
    while (r->len < want) {
        ssize_t k = pread(r->fd, r->buf + r->len, want - r->len, (off_t)(pos + r->len));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO; /* the file shrank under us */
            break;
        }
        r->len += (size_t)k;
    }
    return r->len >= n ? r->buf : NULL;
}

/* Where the committed part of the journal ends (after its last COMMIT), its
 * batch, and whether it holds market data steps or runtime time. A
 * snapshot's order records (fixed size, one after the other, as many as its
 * header says) are stepped over at once when the last of them is where it
 * must be: a 2M-order snapshot is 256 MB that this pass need not read (the
 * replay reads and checks each record). (size_t)-1 on a read error. */
static size_t last_commit(jreader *r, size_t end, uint64_t *batch, int *has_feed, int *has_time)
{
    size_t pos = 0, at = 0;
    uint64_t snap_left = 0;
    while (pos + 8 <= end) {
        const char *h = jr_at(r, pos, 8);
        if (!h)
            return (size_t)-1;
        uint32_t type, len;
        memcpy(&type, h, 4);
        memcpy(&len, h + 4, 4);
        if (pos + 8 + len > end)
            break;
        if (type == JOURNAL_SNAP_ORDER && len == SNAP_ORDER_LEN && snap_left > 1 &&
            snap_left <= (end - pos) / (8 + SNAP_ORDER_LEN)) {
            size_t last = pos + (size_t)(snap_left - 1) * (8 + SNAP_ORDER_LEN);
            const char *q = last + 8 + SNAP_ORDER_LEN <= end ? jr_at(r, last, 8) : NULL;
            uint32_t lt = 0, ll = 0;
            if (q) {
                memcpy(&lt, q, 4);
                memcpy(&ll, q + 4, 4);
            }
            snap_left = 0; /* tried once: a record by record walk if it is not there */
            if (lt == JOURNAL_SNAP_ORDER && ll == SNAP_ORDER_LEN) {
                pos = last + 8 + SNAP_ORDER_LEN;
                continue;
            }
        }
        const char *p = len ? jr_at(r, pos + 8, len < 8 ? len : 8) : h;
        if (!p)
            return (size_t)-1;
        if (type == JOURNAL_SNAPSHOT && pos == 0 && len == SNAP_HEADER_LEN) {
            p = jr_at(r, pos + 8, len);
            if (!p)
                return (size_t)-1;
            snap_left = brs__get_u64(p + 32);
        } else if (type == JOURNAL_SNAP_ORDER && snap_left) {
            snap_left--;
        }
        if (type == JOURNAL_FEED || type == JOURNAL_SNAP_FEED)
            *has_feed = *has_time = 1;
        else if (type == JOURNAL_CLOCK || type == JOURNAL_WS || type == JOURNAL_STRAT)
            *has_time = 1;
        if (type == JOURNAL_COMMIT && len == 8) {
            memcpy(batch, p, 8);
            at = pos + 8 + len;
        }
        pos += 8 + len;
    }
    return at;
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

/* The tag a journaled order message lacks of those app.c reads without a
 * check (ClOrdID; the symbol of a new order; OrigClOrdID of a cancel or
 * replace), or 0. */
static uint32_t replay_lacks(const brs__fix_msg *m)
{
    static const struct {
        char mt;
        uint32_t tags[2];
    } need[] = {{'D', {11, 55}}, {'F', {11, 41}}, {'G', {11, 41}}};
    if (!m->msgtype[0] || m->msgtype[1])
        return 0;
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (need[i].mt == m->msgtype[0])
            for (int k = 0; k < 2; k++)
                if (!brs__fix_get(m, need[i].tags[k]))
                    return need[i].tags[k];
    return 0;
}

int brs__fix_gateway_replay(brs__fix_gateway *g, brs_error *err)
{
    if (g->jfd < 0)
        return BRS_OK;
    off_t fend = lseek(g->jfd, 0, SEEK_END);
    if (fend < 0)
        return brs__err(err, BRS_E_IO, "journal: %s", strerror(errno));
    jreader jr = {.fd = g->jfd, .fend = (size_t)fend};
    /* reconcile: the journal counts up to its last COMMIT; store batches after
     * it were written but never committed (nothing of them reached a peer) */
    uint64_t committed = 0;
    int has_feed = 0, has_time = 0;
    size_t end = last_commit(&jr, (size_t)fend, &committed, &has_feed, &has_time);
    if (end == (size_t)-1) {
        free(jr.buf);
        return brs__err(err, BRS_E_IO, "journal: cannot read: %s", strerror(errno));
    }
    /* market data replayed at start (max) goes before a journal from before
     * runtime time was recorded; a journal with FEED records replays it itself */
    if (g->replay_begin)
        g->replay_begin(g->replay_user, has_feed, end > 0 && !has_time);
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
            free(jr.buf);
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
        free(jr.buf);
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
    brs__rt_admit_all(g->rt, 1); /* what was admitted live is admitted again, at replay speed */
    size_t pos = 0;
    uint64_t n = 0;
    while (pos + 8 <= end) {
        uint32_t sess, len;
        const char *rec = jr_at(&jr, pos, 8);
        if (rec) {
            memcpy(&sess, rec, 4);
            memcpy(&len, rec + 4, 4);
            if (pos + 8 + len > end)
                break; /* torn tail: it was never answered */
            rec = jr_at(&jr, pos, 8 + (size_t)len);
        }
        if (!rec) {
            brs__err(err, BRS_E_IO, "journal: cannot read at byte %zu: %s", pos, strerror(errno));
            g->replaying = 0;
            brs__rt_admit_all(g->rt, 0);
            free(m);
            free(jr.buf);
            return BRS_E_IO;
        }
        g->replay_flags = sess & JOURNAL_RISK_REFUSED;
        sess &= ~JOURNAL_RISK_REFUSED;
        if (sess < JOURNAL_SESSION_RECORD_MAX) { /* a session record: its other flags */
            g->replay_flags |= sess & (JOURNAL_MC_SLICED | JOURNAL_MC_SLICE);
            sess &= ~(JOURNAL_MC_SLICED | JOURNAL_MC_SLICE);
        }
        if ((sess >= JOURNAL_SNAPSHOT && sess <= JOURNAL_SNAP_CLOSED) || sess == JOURNAL_SNAP_FEED) {
            int rc = snap_record(g, sess, rec + 8, len, pos, err);
            if (rc != BRS_OK) {
                brs__err_prefix(err, "journal: record at byte %zu: ", pos);
                g->replaying = 0;
                brs__rt_admit_all(g->rt, 0);
                free(m);
                free(jr.buf);
                return rc;
            }
        } else if (sess == JOURNAL_END_OF_DAY && len == EOD_STEPS_LEN &&
                   (rec[16] == EOD_STEPS || rec[16] == EOD_STEPS_V2 || rec[16] == EOD_STEPS_V3)) {
            /* app_eod.c: with its rules */
            brs__fix_eod_begin(g, (int64_t)brs__get_u64(rec + 8), brs__get_u64(rec + 17), rec[16]);
        } else if (sess == JOURNAL_EOD_SLICE && len == 8) {
            brs__fix_eod_replay_slice(g, brs__get_u64(rec + 8));
        } else if (sess == JOURNAL_END_OF_DAY && len == 9 && rec[16] == EOD_FORGOTTEN) {
            brs__fix_eod_replay_forgotten(g);
        } else if (sess == JOURNAL_END_OF_DAY && len == 9) {
            int64_t b;
            memcpy(&b, rec + 8, 8);
            int mode = rec[16];
            brs__fix_end_of_day_apply(g, b, mode == EOD_MARK || mode == EOD_FORGET || mode == EOD_FORGET_KEEP ||
                                                    mode == EOD_FORGET_WIRE || mode == EOD_EXPIRE_WIRE
                                                ? mode : EOD_EXPIRE);
        } else if (sess == JOURNAL_CLOCK && len == 8) {
            memcpy(&g->jclock_t, rec + 8, 8);
            brs__rt_advance(g->rt, g->jclock_t); /* as the live loop did here */
        } else if (sess == JOURNAL_FEED && len == 16) {
            int64_t t = (int64_t)brs__get_u64(rec + 8);
            uint64_t k = brs__get_u64(rec + 16);
            if (!g->replay_feed || g->replay_feed(g->replay_user, t, k) != BRS_OK) {
                brs__err(err, BRS_E_CORRUPT, "journal: record at byte %zu: %s", pos,
                         g->replay_feed ? "the market data file ends before the events it replayed"
                                        : "market data was replayed but market_data is not configured");
                g->replaying = 0;
                free(m);
                free(jr.buf);
                return BRS_E_CORRUPT;
            }
            g->jclock_t = t;
            g->feed_events += k;
        } else if (sess == JOURNAL_STRAT) {
            if (!g->replay_strat || g->replay_strat(g->replay_user, rec + 8, len) != BRS_OK) {
                brs__err(err, BRS_E_CORRUPT, "journal: record at byte %zu: a strategies' step %s", pos,
                         g->replay_strat ? "that does not match the configured strategies"
                                         : "but no strategies are configured");
                g->replaying = 0;
                brs__rt_admit_all(g->rt, 0);
                free(m);
                free(jr.buf);
                return BRS_E_CORRUPT;
            }
        } else if (sess == JOURNAL_WS && len >= 12) {
            const char *p = rec + 8;
            if (!g->replay_ws || g->replay_ws(g->replay_user, brs__get_u32(p), (int64_t)brs__get_u64(p + 4), p + 12,
                                              len - 12) != BRS_OK) {
                brs__err(err, BRS_E_CORRUPT,
                         "journal: record at byte %zu: a WebSocket order request %s", pos,
                         g->replay_ws ? "that names no configured account or does not parse"
                                      : "but ws_listen is not configured");
                g->replaying = 0;
                free(m);
                free(jr.buf);
                return BRS_E_CORRUPT;
            }
            n++;
        } else if (sess == JOURNAL_ERQ_BUDGET && len == 4) {
            brs__fix_erq_replay_budget(g, brs__get_u32(rec + 8));
        } else if (sess == JOURNAL_ERQ_DELIVERED && len == 8) {
            brs__fix_erq_replay_delivered(g, brs__get_u32(rec + 8), brs__get_u32(rec + 12));
        } else if (sess == JOURNAL_EVQ_BUDGET && len == 4) { /* app_events.c */
            brs__fix_evq_replay_budget(g, brs__get_u32(rec + 8));
        } else if (sess == JOURNAL_EVQ_DELIVERED && len == 8) {
            brs__fix_evq_replay_delivered(g, brs__get_u32(rec + 8), brs__get_u32(rec + 12));
        } else if ((g->replay_flags & JOURNAL_MC_SLICE) && len == 8) {
            uint64_t upto;
            memcpy(&upto, rec + 8, 8);
            brs__fix_mc_replay_slice(g, sess, upto);
        } else if (sess < g->n_sessions) {
            /* Only messages the session accepted are journaled. One that does
             * not parse is skipped, as it always was, and now said (a parser
             * of another version may read a byte differently: refusing would
             * stop an upgraded gateway on a journal it wrote). One without a
             * tag the application reads unchecked (a live session rejects
             * those first, in every version) is damage: running it would
             * crash the replay, so it stops here. */
            if (brs__fix_parse(m, rec + 8, len) != BRS_OK) {
                BRS_LOG(BRS_LOG_WARN, "fix", "recovery: a journaled message that does not parse, skipped",
                        BRS_KV_S("journal", g->jpath), BRS_KV_U("byte", (uint64_t)pos),
                        BRS_KV_U("session", sess));
                pos += 8 + len;
                continue;
            }
            uint32_t lacks = replay_lacks(m);
            if (lacks) {
                brs__err(err, BRS_E_CORRUPT, "journal: record at byte %zu: damaged: a %s message of "
                         "session %u without tag %u, which no accepted one lacks", pos, m->msgtype, sess,
                         lacks);
                g->replaying = 0;
                brs__rt_admit_all(g->rt, 0);
                free(m);
                free(jr.buf);
                return BRS_E_CORRUPT;
            }
            if (g->jclock_t) /* the runtime time it ran at (its CLOCK record) */
                g->sessions[sess]->now = g->jclock_t;
            brs__fix_gateway_on_app(g, g->sessions[sess], m);
            n++;
        }
        pos += 8 + len;
    }
    g->replaying = 0;
    brs__rt_admit_all(g->rt, 0);
    free(m);
    free(jr.buf);
    if (g->in_snapshot)
        return brs__err(err, BRS_E_CORRUPT, "journal: the snapshot has no end record");
    if (pos < (size_t)fend) {
        BRS_LOG(BRS_LOG_WARN, "fix", "recovery: uncommitted journal tail cut (never answered)",
                BRS_KV_S("journal", g->jpath), BRS_KV_U("bytes", (uint64_t)fend - pos));
        if (ftruncate(g->jfd, (off_t)pos) != 0 || fsync(g->jfd) != 0)
            return brs__err(err, BRS_E_IO, "journal: cannot cut a torn record");
    }
    g->batch = committed + 1;
    brs__fix_eod_resume(g); /* a stepwise end of day a crash interrupted goes on */
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
