/* app_snapshot.c: journal compaction: the snapshot of the open state a
 * compacted journal starts with (layout in docs/fix-gateway.md, "Persistence
 * and restart"), the hashes of the ClOrdIDs it forgets, and the swap of the
 * new journal for the old one (archived first). */
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
#include "fix/wal.h"

/* The snapshot record of one open order (layout in docs/fix-gateway.md). */
static void snap_order_encode(const brs__fix_order *o, char r[SNAP_ORDER_LEN])
{
    memset(r, 0, SNAP_ORDER_LEN);
    brs__put_u64(r, o->id);
    brs__put_u32(r + 8, o->session);
    brs__put_u32(r + 12, o->instrument);
    memcpy(r + 16, o->clordid, strnlen(o->clordid, BRS__FIX_CLORDID_MAX - 1));
    r[64] = (char)o->side;
    r[65] = (char)o->ord_type;
    r[66] = (char)o->tif;
    r[67] = o->status;
    brs__put_u64(r + 72, (uint64_t)o->price);
    brs__put_u64(r + 80, (uint64_t)o->qty);
    brs__put_u64(r + 88, (uint64_t)o->leaves);
    brs__put_u64(r + 96, (uint64_t)o->cum);
    unsigned __int128 n = (unsigned __int128)o->notional;
    brs__put_u64(r + 104, (uint64_t)n);
    brs__put_u64(r + 112, (uint64_t)(n >> 64));
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
    brs__put_u32(h, SNAP_VERSION);
    const brs__fix_clset *cs0 = g->snap_closed ? g->snap_closed : &g->closed;
    brs__put_u32(h + 4, cs0->used > UINT32_MAX ? 0 : (uint32_t)cs0->used);
    brs__put_u64(h + 8, g->last_order_id);
    brs__put_u64(h + 16, g->next_exec_id);
    brs__put_u64(h + 24, (uint64_t)g->day_boundary);
    brs__put_u64(h + 32, nopen);
    int rc = brs__fix_buf_record(buf, len, &cap, JOURNAL_SNAPSHOT, h, sizeof h);
    if (rc == BRS_OK && g->feed_events) {
        /* the runtime's clock and the market data replayed so far: a restart
         * replays them first, so the open orders rest again on those books */
        char f[16];
        brs__put_u64(f, (uint64_t)brs__rt_now(g->rt));
        brs__put_u64(f + 8, g->feed_events);
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
        brs__put_u32(r, si);
        brs__put_u32(r + 4, ni);
        for (uint32_t in = 0; in < ni; in++) {
            char *p = r + 8 + (size_t)in * 32;
            brs__put_u64(p, (uint64_t)rk->position[in]);
            brs__put_u64(p + 8, (uint64_t)rk->open_qty[in][BRS_BUY]);
            brs__put_u64(p + 16, (uint64_t)rk->open_qty[in][BRS_SELL]);
            brs__put_u64(p + 24, (uint64_t)rk->ref_price[in]);
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
int brs__fix_journal_rewrite(brs__fix_gateway *g, brs_error *err)
{
    /* the batch's store records first: the snapshot commits them */
    int any = 0;
    if (brs__fix_flush_stores(g, &any) != BRS_OK)
        return brs__err(err, BRS_E_IO, "snapshot not written: %s", g->fail_msg);
    char *buf = NULL;
    size_t len = 0;
    int rc = snapshot_build(g, &buf, &len, err);
    size_t cap = len;
    if (rc == BRS_OK && brs__fix_commit_record(&buf, &len, &cap, g->batch) != BRS_OK)
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
    if (rc == BRS_OK && brs__fix_commit_record(&buf, &len, &cap, batch) != BRS_OK)
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
    rc = brs__fix_journal_rewrite(g, err);
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
