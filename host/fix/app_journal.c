/* app_journal.c: the FIX application's order journal: records and commits
 * written before any reply reaches the wire, compaction into a snapshot at
 * checkpoints and ends of day, and replay on restart (docs/fix-gateway.md,
 * "Persistence and restart"). */
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

/* ---- journal --------------------------------------------------------------- */

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
int brs__fix_buf_record(char **buf, size_t *len, size_t *cap, uint32_t type, const void *m, uint32_t n)
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

int brs__fix_journal_append(brs__fix_gateway *g, uint32_t session, const char *m, uint32_t len)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    return brs__fix_buf_record(&g->jbuf, &g->jlen, &g->jcap, session, m, len);
}

/* Appends a COMMIT record for g->batch to buf. */
static int commit_record(char **buf, size_t *len, size_t *cap, uint64_t batch)
{
    return brs__fix_buf_record(buf, len, cap, JOURNAL_COMMIT, &batch, 8);
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
    int rc = brs__fix_buf_record(buf, len, &cap, JOURNAL_SNAPSHOT, h, sizeof h);
    if (rc == BRS_OK && g->feed_events) {
        /* the runtime's clock and the market data replayed so far: a restart
         * replays them first, so the open orders rest again on those books */
        char f[16];
        put_u64(f, (uint64_t)brs__rt_now(g->rt));
        put_u64(f + 8, g->feed_events);
        rc = brs__fix_buf_record(buf, len, &cap, JOURNAL_SNAP_FEED, f, sizeof f);
    }
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
        rc = brs__fix_buf_record(buf, len, &cap, JOURNAL_SNAP_ORDER, r, sizeof r);
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
        rc = brs__fix_buf_record(buf, len, &cap, JOURNAL_SNAP_RISK, r, 8 + ni * 32);
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
            rc = brs__fix_buf_record(buf, len, &cap, JOURNAL_SNAP_CLOSED, chunk, nc * 8);
            nc = 0;
        }
    }
    if (rc == BRS_OK)
        rc = brs__fix_buf_record(buf, len, &cap, JOURNAL_SNAP_END, NULL, 0);
    if (rc == BRS_E_NOMEM)
        brs__err(err, rc, "snapshot: out of memory");
    return rc;
}

void brs__fix_journal_temp_path(const brs__fix_gateway *g, char *out, size_t cap)
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

/* Syncs the directory holding the journal, so a rename into it is durable. */
static int sync_journal_dir(const brs__fix_gateway *g, brs_error *err)
{
    size_t plen = strlen(g->jpath) + 4;
    char *dir = malloc(plen);
    if (!dir)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    snprintf(dir, plen, "%s", g->jpath);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, plen, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int rc = BRS_OK;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || brs__fix_wal_sync(dfd, 1) != 0)
        rc = brs__err(err, BRS_E_IO, "%s: cannot sync the directory: %s", dir, strerror(errno));
    if (dfd >= 0)
        close(dfd);
    free(dir);
    return rc;
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
    char *tmp = malloc(plen);
    if (!tmp) {
        free(buf);
        return brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
    }
    brs__fix_journal_temp_path(g, tmp, plen);
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
        return rc;
    }
    /* the new journal is in place: append to it from now on (its first
     * message gets its CLOCK again) */
    g->jclock_t = 0;
    close(g->jfd);
    g->jfd = fd;
    g->jlen = 0;
    g->jsize = g->snap_bytes = len;
    g->batch++;
    for (uint32_t i = 0; i < g->n_sessions; i++)
        g->sessions[i]->store.c_next_out = g->sessions[i]->store.next_out;
    rc = sync_journal_dir(g, err);
    free(tmp);
    return rc;
}

/* The end of day as recorded (mode EOD_*); replay calls it for its records. */
static void end_of_day(brs__fix_gateway *g, int64_t boundary, int mode)
{
    if (mode != EOD_MARK) {
        g->expiring = 1;
        brs__rt_admit_all(g->rt, 1); /* every DAY order expires, however full the queue */
        for (uint64_t i = 0; i < g->n_orders; i++) {
            const brs__fix_order *o = &g->orders[i];
            if (o->open && o->tif == BRS_DAY &&
                brs__rt_cancel(g->rt, brs__fix_client_of(g, o->session), o->id) == BRS_OK)
                brs__fix_pump(g, brs__rt_now(g->rt));
        }
        g->expiring = 0;
        brs__rt_admit_all(g->rt, g->replaying);
    }
    g->day_boundary = boundary;
    if (mode == EOD_FORGET)
        brs__fix_forget_closed(g);
}

static void journal_eod(brs__fix_gateway *g, int64_t boundary, int mode)
{
    char rec[9];
    memcpy(rec, &boundary, 8);
    rec[8] = (char)mode;
    brs__fix_journal_append(g, JOURNAL_END_OF_DAY, rec, sizeof rec);
}

int brs__fix_gateway_end_of_day(brs__fix_gateway *g, int64_t boundary, int mark_only,
                                brs_error *err)
{
    int rc = BRS_OK;
    brs__fix_journal_clock(g, brs__rt_now(g->rt)); /* the expiries' cancels leave at this clock */
    if (mark_only || g->replaying) {
        end_of_day(g, boundary, mark_only ? EOD_MARK : EOD_EXPIRE);
        journal_eod(g, boundary, mark_only ? EOD_MARK : EOD_EXPIRE);
    } else {
        end_of_day(g, boundary, EOD_EXPIRE);
        if ((rc = brs__fix_forget_closed(g)) != BRS_OK) {
            brs__err(err, rc, "end of day: out of memory compacting the order table");
            journal_eod(g, boundary, EOD_EXPIRE);
        } else if (g->jfd < 0 || (rc = journal_rewrite(g, err)) != BRS_OK) {
            journal_eod(g, boundary, EOD_FORGET); /* the old journal, still complete */
        }
    }
    brs__fix_md_publish(g);
    return rc;
}

/* The hashes of the day's ClOrdIDs a checkpoint now would forget: those
 * already forgotten, closed orders' and earlier links of open orders' replace
 * chains. */
int brs__fix_closed_hashes(brs__fix_gateway *g, brs__fix_clset *keep)
{
    int rc = BRS_OK;
    for (uint64_t k = 0; rc == BRS_OK && k < g->closed.cap; k++)
        if (g->closed.slot[k])
            rc = brs__fix_clset_add(keep, g->closed.slot[k]);
    for (int t = 0; t < 2; t++) {
        const brs__fix_clmap_entry *tab = t ? g->map_old : g->map;
        uint64_t cap = t ? g->map_old_cap : g->map_cap;
        for (uint64_t k = 0; rc == BRS_OK && tab && k < cap; k++) {
            const brs__fix_clmap_entry *e = &tab[k];
            if (!e->order)
                continue;
            const brs__fix_order *o = &g->orders[e->order - 1];
            /* closed, or an earlier link of an open order's replace chain */
            if (!o->open || !brs__fix_map_key_current(g, e))
                rc = brs__fix_clset_add(keep, e->hash);
        }
    }
    if (rc != BRS_OK)
        brs__fix_clset_free(keep);
    return rc;
}

/* The snapshot of the state now, with `closed` as its forgotten ClOrdIDs, and
 * a COMMIT of `batch`, written to fd and synced (app_checkpoint.c runs it in a
 * child process, on the copy of the state fork() gave it). */
int brs__fix_snapshot_write(brs__fix_gateway *g, const brs__fix_clset *closed, uint64_t batch, int fd,
                            brs_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    g->snap_closed = closed;
    int rc = snapshot_build(g, &buf, &len, err);
    g->snap_closed = NULL;
    size_t cap = len;
    if (rc == BRS_OK && commit_record(&buf, &len, &cap, batch) != BRS_OK)
        rc = brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
    if (rc == BRS_OK && (brs__fix_wal_write(fd, buf, len) != 0 || brs__fix_wal_sync(fd, 1) != 0))
        rc = brs__err(err, BRS_E_IO, "snapshot: %s", strerror(errno));
    free(buf);
    return rc;
}

/* The written and synced temporary journal `tmp` (open as fd, snap_len bytes
 * of snapshot at its start, len bytes in all) replaces the journal: the old
 * one is archived, the rename, appends go to the new file, the directory is
 * synced. On error before the rename nothing changed (the caller removes tmp). */
int brs__fix_journal_swap(brs__fix_gateway *g, int fd, const char *tmp, uint64_t snap_len, uint64_t len,
                          brs_error *err)
{
    if (journal_archive(g, err) != BRS_OK)
        return BRS_E_IO; /* history is never dropped: the old journal stays */
    if (rename(tmp, g->jpath) != 0)
        return brs__err(err, BRS_E_IO, "rename %s: %s", tmp, strerror(errno));
    close(g->jfd);
    g->jfd = fd;
    g->jsize = len;
    g->snap_bytes = snap_len;
    return sync_journal_dir(g, err);
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
    int rc = brs__fix_closed_hashes(g, &keep);
    if (rc != BRS_OK)
        return brs__err(err, rc, "checkpoint: out of memory");
    uint64_t held = g->n_orders;
    g->snap_closed = &keep;
    rc = journal_rewrite(g, err);
    g->snap_closed = NULL;
    if (rc != BRS_OK) {
        brs__fix_clset_free(&keep);
        return rc;
    }
    brs__fix_forget_closed(g); /* out of memory: they stay held, the set is right either way */
    g->closed = keep;
    BRS_LOG(BRS_LOG_INFO, "fix", "journal checkpoint: closed orders left memory and journal",
            BRS_KV_S("journal", g->jpath), BRS_KV_U("orders_open", g->n_orders),
            BRS_KV_U("orders_forgotten", held - g->n_orders),
            BRS_KV_U("clordids_kept_as_hashes", keep.used), BRS_KV_U("journal_bytes", g->jsize),
            BRS_KV_F("ms", (double)(brs__monotime_ns() - t0) / 1e6));
    return BRS_OK;
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
    if (type == JOURNAL_SNAP_FEED) {
        if (len != 16 || g->snap_read)
            return brs__err(err, BRS_E_CORRUPT, "snapshot feed record misplaced or of %u bytes", len);
        uint64_t ev = get_u64(p + 8);
        g->jclock_t = (int64_t)get_u64(p);
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
    if (brs__fix_table_sort_by_id(g) != BRS_OK)
        qsort(g->orders, g->n_orders, sizeof *g->orders, cmp_order_id); /* no room for the radix sort */
    for (uint64_t k = 1; k < g->n_orders; k++)
        if (g->orders[k].id == g->orders[k - 1].id)
            return brs__err(err, BRS_E_CORRUPT, "OrderID %llu twice in the snapshot",
                            (unsigned long long)g->orders[k].id);
    brs__fix_table_sorted(g);
    for (uint64_t k = 0; k < g->n_orders; k++)
        if (brs__fix_map_put(g, g->orders[k].session, g->orders[k].clordid, (uint32_t)(k + 1)) != BRS_OK)
            return brs__err(err, BRS_E_NOMEM, "snapshot: out of memory");
    return BRS_OK;
}

static size_t last_commit(const char *data, size_t end, uint64_t *batch, int *has_feed, int *has_time)
{
    size_t pos = 0, at = 0;
    while (pos + 8 <= end) {
        uint32_t type, len;
        memcpy(&type, data + pos, 4);
        memcpy(&len, data + pos + 4, 4);
        if (pos + 8 + len > end)
            break;
        if (type == JOURNAL_FEED || type == JOURNAL_SNAP_FEED)
            *has_feed = *has_time = 1;
        else if (type == JOURNAL_CLOCK || type == JOURNAL_WS || type == JOURNAL_STRAT)
            *has_time = 1;
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
    int has_feed = 0, has_time = 0;
    size_t end = last_commit(data, (size_t)fend, &committed, &has_feed, &has_time);
    /* market data replayed at start (max) goes before a journal from before
     * runtime time was recorded; a journal with FEED records replays it itself */
    if (g->replay_begin)
        g->replay_begin(g->replay_user, has_feed, end > 0 && !has_time);
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
    brs__rt_admit_all(g->rt, 1); /* what was admitted live is admitted again, at replay speed */
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
        if (sess < JOURNAL_SESSION_RECORD_MAX) { /* a session record: its other flags */
            g->replay_flags |= sess & (JOURNAL_MC_SLICED | JOURNAL_MC_SLICE);
            sess &= ~(JOURNAL_MC_SLICED | JOURNAL_MC_SLICE);
        }
        if ((sess >= JOURNAL_SNAPSHOT && sess <= JOURNAL_SNAP_CLOSED) || sess == JOURNAL_SNAP_FEED) {
            int rc = snap_record(g, sess, data + pos + 8, len, pos, err);
            if (rc != BRS_OK) {
                brs__err_prefix(err, "journal: record at byte %zu: ", pos);
                g->replaying = 0;
                brs__rt_admit_all(g->rt, 0);
                free(m);
                journal_unmap(data, (size_t)fend, mapped);
                return rc;
            }
        } else if (sess == JOURNAL_END_OF_DAY && len == 9) {
            int64_t b;
            memcpy(&b, data + pos + 8, 8);
            int mode = data[pos + 16];
            end_of_day(g, b, mode == EOD_MARK || mode == EOD_FORGET ? mode : EOD_EXPIRE);
        } else if (sess == JOURNAL_CLOCK && len == 8) {
            memcpy(&g->jclock_t, data + pos + 8, 8);
            brs__rt_advance(g->rt, g->jclock_t); /* as the live loop did here */
        } else if (sess == JOURNAL_FEED && len == 16) {
            int64_t t = (int64_t)get_u64(data + pos + 8);
            uint64_t k = get_u64(data + pos + 16);
            if (!g->replay_feed || g->replay_feed(g->replay_user, t, k) != BRS_OK) {
                brs__err(err, BRS_E_CORRUPT, "journal: record at byte %zu: %s", pos,
                         g->replay_feed ? "the market data file ends before the events it replayed"
                                        : "market data was replayed but market_data is not configured");
                g->replaying = 0;
                free(m);
                journal_unmap(data, (size_t)fend, mapped);
                return BRS_E_CORRUPT;
            }
            g->jclock_t = t;
            g->feed_events += k;
        } else if (sess == JOURNAL_STRAT) {
            if (!g->replay_strat || g->replay_strat(g->replay_user, data + pos + 8, len) != BRS_OK) {
                brs__err(err, BRS_E_CORRUPT, "journal: record at byte %zu: a strategies' step %s", pos,
                         g->replay_strat ? "that does not match the configured strategies"
                                         : "but no strategies are configured");
                g->replaying = 0;
                brs__rt_admit_all(g->rt, 0);
                free(m);
                journal_unmap(data, (size_t)fend, mapped);
                return BRS_E_CORRUPT;
            }
        } else if (sess == JOURNAL_WS && len >= 12) {
            const char *p = data + pos + 8;
            if (!g->replay_ws || g->replay_ws(g->replay_user, get_u32(p), (int64_t)get_u64(p + 4), p + 12,
                                              len - 12) != BRS_OK) {
                brs__err(err, BRS_E_CORRUPT,
                         "journal: record at byte %zu: a WebSocket order request %s", pos,
                         g->replay_ws ? "that names no configured account or does not parse"
                                      : "but ws_listen is not configured");
                g->replaying = 0;
                free(m);
                journal_unmap(data, (size_t)fend, mapped);
                return BRS_E_CORRUPT;
            }
            n++;
        } else if ((g->replay_flags & JOURNAL_MC_SLICE) && len == 8) {
            uint64_t upto;
            memcpy(&upto, data + pos + 8, 8);
            brs__fix_mc_replay_slice(g, sess, upto);
        } else if (sess < g->n_sessions && brs__fix_parse(m, data + pos + 8, len) == BRS_OK) {
            if (g->jclock_t) /* the runtime time it ran at (its CLOCK record) */
                g->sessions[sess]->now = g->jclock_t;
            brs__fix_gateway_on_app(g, g->sessions[sess], m);
            n++;
        }
        pos += 8 + len;
        drop_behind(data, pos, &dropped, mapped);
    }
    g->replaying = 0;
    brs__rt_admit_all(g->rt, 0);
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
