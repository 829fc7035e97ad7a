/* app_snapshot.c: journal compaction: the snapshot of the open state a
 * compacted journal starts with (layout in docs/fix-gateway.md, "Persistence
 * and restart"), written by the checkpoint's child process (app_checkpoint.c)
 * without a call to malloc (after fork() in a process with other threads only
 * async-signal-safe calls are safe: its scratch memory is allocated before
 * the fork), and the swap of the new journal for the old one (archived first). */
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
#include "fix/recfile.h"
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


int brs__fix_snap_scratch_alloc(const brs__fix_gateway *g, brs__fix_snap_scratch *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->cap = (size_t)1 << 20;
    sc->n = g->n_orders ? g->n_orders : 1;
    sc->buf = malloc(sc->cap);
    sc->pairs = malloc(sc->n * 4 * sizeof *sc->pairs); /* two arrays of (prio, slot) */
    sc->count = malloc(65536 * sizeof *sc->count); /* radix counts */
    if (!sc->buf || !sc->pairs || !sc->count) {
        brs__fix_snap_scratch_free(sc);
        return BRS_E_NOMEM;
    }
    return BRS_OK;
}

void brs__fix_snap_scratch_free(brs__fix_snap_scratch *sc)
{
    free(sc->buf);
    free(sc->pairs);
    free(sc->count);
    memset(sc, 0, sizeof *sc);
}

/* Records go through the scratch buffer to the file (no allocation). */
typedef struct snapw {
    int fd, failed;
    char *buf;
    size_t len, cap;
} snapw;

static void w_flush(snapw *w)
{
    if (!w->failed && w->len && brs__fix_wal_write(w->fd, w->buf, w->len) != 0)
        w->failed = 1;
    w->len = 0;
}

/* A record with its checksum: a new journal is of version 2 (fix/recfile.h). */
static void w_record(snapw *w, uint32_t type, const void *p, uint32_t n)
{
    size_t rl = 8 + (size_t)n + BRS__REC_CRC;
    if (w->len + rl > w->cap)
        w_flush(w);
    if (w->failed || rl > w->cap) {
        w->failed = 1;
        return;
    }
    char *r = w->buf + w->len;
    memcpy(r, &type, 4);
    memcpy(r + 4, &n, 4);
    if (n)
        memcpy(r + 8, p, n);
    uint32_t c = brs__fix_jrec_crc(r, n);
    memcpy(r + 8 + n, &c, 4);
    w->len += rl;
}

/* The forgotten ClOrdIDs' hashes: those of earlier checkpoints, then the map's
 * closed orders and earlier links of replace chains (the map, and of an old
 * table being moved only the part not moved yet). emit 0: counted only. */
static uint64_t closed_pass(const brs__fix_gateway *g, snapw *w, int emit)
{
    uint64_t chunk[SNAP_CLOSED_PER_RECORD];
    uint32_t nc = 0;
    uint64_t n = 0;
    for (int part = 0; part < 3; part++) {
        uint64_t from = part == 2 ? g->map_old_next : 0;
        uint64_t cap = part == 0 ? g->closed.cap : part == 1 ? g->map_cap : g->map_old ? g->map_old_cap : 0;
        for (uint64_t k = from; k < cap; k++) {
            uint64_t h = 0;
            if (part == 0) {
                h = g->closed.slot[k];
            } else {
                const brs__fix_clmap_entry *e = part == 1 ? &g->map[k] : &g->map_old[k];
                if (e->order && e->order != BRS__FIX_MAP_TOMB &&
                    (!g->orders[e->order - 1].open || !brs__fix_map_key_current(g, e)))
                    h = e->hash;
            }
            if (!h)
                continue;
            n++;
            if (!emit)
                continue;
            chunk[nc++] = h;
            if (nc == SNAP_CLOSED_PER_RECORD) {
                w_record(w, JOURNAL_SNAP_CLOSED, chunk, nc * 8);
                nc = 0;
            }
        }
    }
    if (emit && nc)
        w_record(w, JOURNAL_SNAP_CLOSED, chunk, nc * 8);
    return n;
}

/* The open orders' slots in queue priority (the order they took their places
 * in their levels): (prio, slot) pairs radix-sorted in the scratch arrays. */
static uint64_t *open_by_prio(const brs__fix_gateway *g, brs__fix_snap_scratch *sc, uint64_t *nopen)
{
    uint64_t *a = sc->pairs, *b = sc->pairs + sc->n * 2, n = 0, maxp = 0;
    for (uint64_t k = 0; k < g->n_orders && n < sc->n; k++)
        if (g->orders[k].open) {
            a[2 * n] = g->orders[k].prio;
            a[2 * n + 1] = k;
            if (g->orders[k].prio > maxp)
                maxp = g->orders[k].prio;
            n++;
        }
    for (int shift = 0; shift < 64 && (maxp >> shift); shift += 16) {
        memset(sc->count, 0, 65536 * sizeof *sc->count);
        for (uint64_t k = 0; k < n; k++)
            sc->count[(a[2 * k] >> shift) & 0xffff]++;
        uint64_t at = 0;
        for (uint32_t d = 0; d < 65536; d++) {
            uint64_t c = sc->count[d];
            sc->count[d] = at;
            at += c;
        }
        for (uint64_t k = 0; k < n; k++) {
            uint64_t to = sc->count[(a[2 * k] >> shift) & 0xffff]++;
            b[2 * to] = a[2 * k];
            b[2 * to + 1] = a[2 * k + 1];
        }
        uint64_t *t = a;
        a = b;
        b = t;
    }
    *nopen = n;
    return a;
}

/* The whole snapshot: header, open orders in queue priority (so resting them
 * again in this order gives every level back its queue), the risk state per
 * session, the forgotten ClOrdIDs, end, and a COMMIT of `batch`; written to
 * fd and synced. 0, or -1 (errno). No allocation: it runs in the child. */
int brs__fix_snapshot_write(brs__fix_gateway *g, brs__fix_snap_scratch *sc, uint64_t batch, int fd)
{
    snapw w = {.fd = fd, .buf = sc->buf, .cap = sc->cap};
    uint64_t nopen = 0;
    const uint64_t *open = open_by_prio(g, sc, &nopen);
    uint64_t nclosed = closed_pass(g, &w, 0);
    char fh[BRS__JFMT_HDR];
    brs__fix_jfmt_header(fh);
    w_record(&w, BRS__JFMT_TYPE, fh + 8, 8); /* the file's version first */
    char h[SNAP_HEADER_LEN] = {0};
    brs__put_u32(h, SNAP_VERSION);
    brs__put_u32(h + 4, nclosed > UINT32_MAX ? 0 : (uint32_t)nclosed);
    brs__put_u64(h + 8, g->last_order_id);
    brs__put_u64(h + 16, g->next_exec_id);
    brs__put_u64(h + 24, (uint64_t)g->day_boundary);
    brs__put_u64(h + 32, nopen);
    w_record(&w, JOURNAL_SNAPSHOT, h, sizeof h);
    if (g->feed_events) {
        /* the runtime's clock and the market data replayed so far: a restart
         * replays them first, so the open orders rest again on those books */
        char f[16];
        brs__put_u64(f, (uint64_t)brs__rt_now(g->rt));
        brs__put_u64(f + 8, g->feed_events);
        w_record(&w, JOURNAL_SNAP_FEED, f, sizeof f);
    }
    for (uint64_t k = 0; k < nopen; k++) {
        char r[SNAP_ORDER_LEN];
        snap_order_encode(&g->orders[open[2 * k + 1]], r);
        w_record(&w, JOURNAL_SNAP_ORDER, r, sizeof r);
    }
    uint32_t ni = g->n_instr < BRS_RISK_MAX_INSTRUMENTS ? g->n_instr : BRS_RISK_MAX_INSTRUMENTS;
    char r[8 + BRS_RISK_MAX_INSTRUMENTS * 32];
    for (uint32_t si = 0; si < g->n_sessions; si++) {
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
        w_record(&w, JOURNAL_SNAP_RISK, r, 8 + ni * 32);
    }
    closed_pass(g, &w, 1);
    w_record(&w, JOURNAL_SNAP_END, NULL, 0);
    w_record(&w, JOURNAL_COMMIT, &batch, 8);
    w_flush(&w);
    if (w.failed || brs__fix_wal_sync(fd, 1) != 0)
        return -1;
    return 0;
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
    g->jclock_t = 0; /* the new journal's next message gets its CLOCK again */
    g->jcrc = 1;     /* written in version 2, its appends too */
    g->jsize = len;
    g->snap_bytes = snap_len;
    return sync_journal_dir(g, err);
}
