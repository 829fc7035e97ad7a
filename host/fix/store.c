/* store.c: append-only session store. Records are
 *   'O' seq:u32 len:u32 bytes   an outbound message
 *   'I' next_in:u32 0:u32       inbound processed up to next_in-1
 *   'Z' 0 0                     sequence reset (everything before is void)
 *   'T' 0 8 batch:u64           what follows belongs to the gateway's commit
 *                               batch `batch` (app.c commits it in the journal)
 * Loading replays the records; a torn record at the end (crash mid-write) is
 * cut off, since nothing after it was ever sent, and so is every batch the
 * journal did not commit (brs__fix_store_rollback). A file of version 2
 * (fix/recfile.h: every file created since 2026-12-07) starts with a header
 * record ('V') and has a CRC-32C after each record; a record failing it is
 * settled with the journal's committed batch (settle()). */
#include "fix/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "fix/archive.h"
#include "fix/recfile.h"
#include "fix/wal.h"

#define REC_HDR 9

static int reserve(char **buf, size_t *cap, size_t need)
{
    return brs__fix_buf_reserve(buf, cap, need, 4096);
}

static int index_put(brs__fix_store *st, uint32_t seq, uint64_t off, uint32_t len)
{
    if (seq == 0)
        return BRS_OK;
    if (seq > st->idxcap) {
        /* 64-bit: doubling a uint32_t past 2^31 wrapped to 0 and never ended */
        uint64_t c = st->idxcap ? st->idxcap : 1024;
        while (c < seq)
            c *= 2;
        if (c > UINT32_MAX)
            c = UINT32_MAX;
        brs__fix_store_rec *p = realloc(st->idx, (size_t)c * sizeof *p);
        if (!p)
            return BRS_E_NOMEM;
        memset(p + st->idxcap, 0, (size_t)(c - st->idxcap) * sizeof *p);
        st->idx = p;
        st->idxcap = (uint32_t)c;
    }
    st->idx[seq - 1].off = off;
    st->idx[seq - 1].len = len;
    if (seq > st->nidx)
        st->nidx = seq;
    return BRS_OK;
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void clear(brs__fix_store *st)
{
    st->next_out = 1;
    st->next_in = 1;
    /* the index follows the live messages: a big one goes back at a reset */
    if (st->idxcap > 1024) {
        free(st->idx);
        st->idx = NULL;
        st->idxcap = 0;
    } else if (st->idx) {
        memset(st->idx, 0, (size_t)st->idxcap * sizeof *st->idx);
    }
    st->nidx = 0;
}

/* Reads the file in windows of 1 MB (a bigger record gets a window of its
 * size), applying records up to the first batch tag above `limit`; cuts the
 * file there (or at a torn record). Memory: the window and the index only,
 * whatever the file's size. */
static int load(brs__fix_store *st, uint64_t limit, uint64_t *cut, brs_error *err)
{
    const char *path = st->path;
    struct stat sb;
    if (fstat(st->fd, &sb) != 0)
        return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
    uint64_t len = (uint64_t)sb.st_size, pos = 0;
    size_t wcap = 1 << 20;
    char *w = malloc(wcap);
    if (!w)
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
    uint64_t wbase = 0; /* file offset of w[0] */
    size_t wlen = 0;
    st->max_batch = 0;
    st->bad_at = 0;
    int rc = BRS_OK;
    /* the file's version: a new (or torn new) file is written in version 2 */
    char fh[BRS__SFMT_HDR];
    size_t fhn = len < sizeof fh ? (size_t)len : sizeof fh;
    if (fhn && pread(st->fd, fh, fhn, 0) != (ssize_t)fhn) {
        free(w);
        return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
    }
    int ver = brs__fix_sfmt_detect(fh, len);
    if (ver == BRS__FMT_BAD) {
        free(w);
        return brs__fix_damage_err(err, path, 0, "a format header that does not check");
    }
    st->crc = ver != BRS__FMT_V1;
    if (ver == BRS__FMT_V2)
        pos = BRS__SFMT_HDR;
    if (ver == BRS__FMT_EMPTY) { /* new; or the torn first write of a new file: cut */
        free(w);
        if (cut)
            *cut = len;
        if (len && ftruncate(st->fd, 0) != 0)
            return brs__err(err, BRS_E_IO, "%s: cannot cut a torn header: %s", path, strerror(errno));
        st->file_len = 0;
        return BRS_OK;
    }
    const uint64_t ov = st->crc ? BRS__REC_CRC : 0;
    while (pos + REC_HDR <= len) {
        /* the record's header, then its whole body, inside the window */
        uint64_t need = REC_HDR;
        for (int pass = 0; pass < 2; pass++) {
            if (pos < wbase || pos + need > wbase + wlen) {
                if (need > wcap) {
                    char *q = realloc(w, (size_t)need);
                    if (!q) {
                        free(w);
                        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
                    }
                    w = q;
                    wcap = (size_t)need;
                }
                size_t want = (size_t)(len - pos < wcap ? len - pos : wcap);
                ssize_t r = pread(st->fd, w, want, (off_t)pos);
                if (r < 0) {
                    free(w);
                    return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
                }
                wbase = pos;
                wlen = (size_t)r;
            }
            if (pass == 0) {
                uint32_t n = rd32((const unsigned char *)w + (pos - wbase) + 5);
                need = REC_HDR + (uint64_t)n + ov;
                if (pos + need > len)
                    break;
            }
        }
        const unsigned char *h = (const unsigned char *)w + (pos - wbase);
        uint32_t a = rd32(h + 1), n = rd32(h + 5);
        if (pos + REC_HDR + n + ov > len || pos + REC_HDR + n + ov > wbase + wlen) {
            if (st->crc) { /* torn or damaged: settle() says which */
                st->bad_at = pos;
                st->bad_kind = h[0];
                st->bad_batch = st->t_batch;
                st->bad_past_end = 1;
            }
            break;
        }
        if (st->crc) {
            uint32_t c = brs__fix_srec_crc((const char *)h, n), sc = brs__fix_rec_stored((const char *)h + REC_HDR + n);
            if (c != sc) {
                st->bad_at = pos;
                st->bad_kind = h[0];
                st->bad_batch = st->t_batch;
                st->bad_past_end = 0;
                st->bad_stored = sc;
                st->bad_computed = c;
                break;
            }
        }
        /* Damage, as opposed to a torn tail: a whole record that no writer
         * makes. The session stores its messages numbered next_out, 1 on from
         * a reset, so a number past it (a flipped bit; one near 2^32 sized
         * the index to tens of GB) or an unknown kind mid-file is refused,
         * naming the byte, and the file is left as it is: cutting there
         * would throw away every message after it. A zero kind is what a
         * crash can leave past the last write on some file systems: torn. */
        if ((h[0] == 'O' && (a == 0 || a > st->next_out)) ||
            (h[0] != 'O' && h[0] != 'I' && h[0] != 'Z' && !(h[0] == 'T' && n == 8) && (h[0] != 0 || st->crc))) {
            char what[96];
            if (h[0] == 'O')
                snprintf(what, sizeof what, "outbound message %u where %u is next", a, st->next_out);
            else
                snprintf(what, sizeof what, "a record of kind 0x%02x and %u bytes", h[0], n);
            rc = brs__err(err, BRS_E_CORRUPT,
                          "%s: damaged at byte %llu: %s; the store is left as it is (restore it "
                          "from a copy, or move it aside to start the session from sequence 1)",
                          path, (unsigned long long)pos, what);
            break;
        }
        if (h[0] == 'O') {
            if (index_put(st, a, pos + REC_HDR, n) != BRS_OK) {
                rc = brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
                break;
            }
            if (a >= st->next_out)
                st->next_out = a + 1;
        } else if (h[0] == 'I') {
            st->next_in = a;
        } else if (h[0] == 'Z') {
            clear(st);
        } else if (h[0] == 'T' && n == 8) {
            uint64_t b;
            memcpy(&b, h + REC_HDR, 8);
            if (b > limit)
                break;
            if (b > st->max_batch)
                st->max_batch = b;
            st->t_batch = b;
        } else {
            break;
        }
        pos += REC_HDR + n + ov;
    }
    free(w);
    if (rc != BRS_OK)
        return rc;
    if (st->bad_at && st->bad_at == pos) { /* left for settle(): maybe damage */
        st->file_len = len;
        return BRS_OK;
    }
    if (cut)
        *cut = len - pos;
    if (pos < len && ftruncate(st->fd, (off_t)pos) != 0)
        return brs__err(err, BRS_E_IO, "%s: cannot cut a torn record: %s", path, strerror(errno));
    st->file_len = pos;
    if (lseek(st->fd, (off_t)pos, SEEK_SET) < 0)
        return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
    return BRS_OK;
}

/* A new (empty) file: its header goes out with the first records, in the
 * same write (fix/recfile.h). A torn one was cut by load(). */
static int start_file(brs__fix_store *st)
{
    if (lseek(st->fd, 0, SEEK_SET) < 0)
        return BRS_E_IO;
    char h[BRS__SFMT_HDR];
    brs__fix_sfmt_header(h);
    if (reserve(&st->wbuf, &st->wcap, sizeof h) != BRS_OK)
        return BRS_E_NOMEM;
    memcpy(st->wbuf, h, sizeof h);
    st->wlen = sizeof h;
    st->crc = 1;
    st->hdr_pending = 1;
    return BRS_OK;
}

/* A sound record of the store at p (n bytes of the file from there on):
 * its kind, or 0. */
static int sound_at(const unsigned char *p, uint64_t n, uint64_t *batch)
{
    if (n < REC_HDR + BRS__REC_CRC)
        return 0;
    uint32_t rl = rd32(p + 5);
    if ((p[0] != 'O' && p[0] != 'I' && p[0] != 'Z' && p[0] != 'T') || (p[0] == 'T' && rl != 8) ||
        REC_HDR + (uint64_t)rl + BRS__REC_CRC > n ||
        brs__fix_srec_crc((const char *)p, rl) != brs__fix_rec_stored((const char *)p + REC_HDR + rl))
        return 0;
    if (p[0] == 'T')
        memcpy(batch, p + REC_HDR, 8);
    return p[0];
}

/* The record at st->bad_at fails its check (docs/fix-gateway.md, "Record
 * checksums"). A batch's write begins with its tag ('T'), so a tear (a crash
 * in the middle of a write, or a machine crash losing some of its pages,
 * which read back as zeros) is a failing record after a tag past the
 * committed batch, or one holding a zero sector, or a tag cut by the end of
 * the file, with no committed tag after it. Without a journal (committed UINT64_MAX: the file
 * is its own commit) a failing record with nothing sound after it is a tear.
 * A tear is cut; anything else is damage: refused, the file left as it is. */
static int settle(brs__fix_store *st, uint64_t committed, brs_error *err)
{
    uint64_t at = st->bad_at;
    if (!at)
        return BRS_OK;
    int journal = committed != UINT64_MAX, torn;
    if (journal && st->bad_batch > committed) {
        torn = 1; /* (cut below, with the batch) */
    } else {
        uint64_t len = st->file_len, rest = len - at;
        unsigned char *b = rest > 1 ? malloc((size_t)rest) : NULL;
        if (rest > 1 && !b)
            return brs__err(err, BRS_E_NOMEM, "%s: out of memory", st->path);
        if (b && pread(st->fd, b, (size_t)rest, (off_t)at) != (ssize_t)rest) {
            free(b);
            return brs__err(err, BRS_E_IO, "%s: %s", st->path, strerror(errno));
        }
        int any = 0, committed_after = 0;
        for (uint64_t q = 1; q + REC_HDR + BRS__REC_CRC <= rest; q++) {
            uint64_t tb = 0;
            int k = sound_at(b + q, rest - q, &tb);
            any |= k != 0;
            if (k == 'T' && tb <= committed)
                committed_after = 1;
        }
        free(b);
        /* a zero sector in the record (up to its first MB), as a machine
         * crash leaves a write it did not finish; or a tag cut by the end */
        uint32_t rl = 0;
        int zeros = 0;
        if (!st->bad_past_end && at + REC_HDR <= len && pread(st->fd, &rl, 4, (off_t)at + 5) == 4) {
            uint64_t rend = at + REC_HDR + (uint64_t)rl + BRS__REC_CRC, from, to;
            brs__fix_tear_window(at, rend, len, &from, &to);
            char *zb = malloc((size_t)(to - from) + 1);
            zeros = zb && pread(st->fd, zb, (size_t)(to - from), (off_t)from) == (ssize_t)(to - from) &&
                    brs__fix_tear_like(zb, at, rend, len);
            free(zb);
        }
        /* (without a journal every record may begin a write) */
        int cut = st->bad_past_end && (!journal || st->bad_kind == 'T' || st->bad_kind == 0);
        torn = (zeros || cut) && (journal ? !committed_after : !any);
    }
    if (!torn) {
        char what[160];
        if (st->bad_past_end)
            snprintf(what, sizeof what, "a record of kind 0x%02x whose length runs past the end of the file, "
                     "with sound records after it", st->bad_kind);
        else
            snprintf(what, sizeof what, "record checksum mismatch (stored 0x%08x, computed 0x%08x)",
                     st->bad_stored, st->bad_computed);
        return brs__err(err, BRS_E_CORRUPT,
                        "%s: damaged at byte %llu: %s; the store is left as it is (restore it "
                        "from a copy, or move it aside to start the session from sequence 1)",
                        st->path, (unsigned long long)at, what);
    }
    if (journal && st->bad_batch > committed)
        return BRS_OK; /* brs__fix_store_rollback cuts from the batch's tag on */
    BRS_LOG(BRS_LOG_WARN, "fix", "recovery: torn store tail cut (never sent)", BRS_KV_S("store", st->path),
            BRS_KV_U("byte", at), BRS_KV_U("bytes", st->file_len - at));
    if (ftruncate(st->fd, (off_t)at) != 0 || lseek(st->fd, (off_t)at, SEEK_SET) < 0)
        return brs__err(err, BRS_E_IO, "%s: cannot cut a torn record: %s", st->path, strerror(errno));
    st->file_len = at;
    st->bad_at = 0;
    return BRS_OK;
}

static int store_open(brs__fix_store *st, const char *path, int fsync_policy, brs_error *err)
{
    memset(st, 0, sizeof *st);
    st->fd = -1;
    st->fsync_policy = fsync_policy & ~BRS__FIX_STORE_JOURNALED;
    st->journaled = (fsync_policy & BRS__FIX_STORE_JOURNALED) != 0;
    clear(st);
    if (!path)
        return BRS_OK;
    st->path = strdup(path);
    if (!st->path)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    /* a compaction interrupted by a crash: NAME.compact was complete before
     * the old file left (renamed into the archive), so with NAME gone it is
     * the store; with NAME still there it never replaced it */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.compact", path);
    if (access(tmp, F_OK) == 0) {
        if (access(path, F_OK) != 0 && errno == ENOENT) {
            if (rename(tmp, path) != 0)
                return brs__err(err, BRS_E_IO, "%s: %s", tmp, strerror(errno));
            BRS_LOG(BRS_LOG_WARN, "fix", "recovery: store compaction finished",
                    BRS_KV_S("store", path));
        } else {
            unlink(tmp);
        }
    }
    st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (st->fd < 0)
        return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
    int rc = load(st, UINT64_MAX, NULL, err);
    if (rc == BRS_OK && st->bad_at && !st->journaled)
        rc = settle(st, UINT64_MAX, err);
    if (rc == BRS_OK && st->file_len == 0)
        rc = start_file(st);
    return rc;
}

/* On failure nothing stays open or allocated (the store is as closed). */
int brs__fix_store_open(brs__fix_store *st, const char *path, int fsync_policy, brs_error *err)
{
    int rc = store_open(st, path, fsync_policy, err);
    if (rc != BRS_OK)
        brs__fix_store_close(st);
    return rc;
}

int brs__fix_store_rollback(brs__fix_store *st, uint64_t committed, uint64_t *cut,
                            brs_error *err)
{
    *cut = 0;
    if (st->fd < 0)
        return BRS_OK;
    if (st->bad_at) { /* a failing record: torn (cut here) or damage (refused) */
        uint64_t before = st->file_len;
        int rc = settle(st, committed, err);
        if (rc != BRS_OK)
            return rc;
        if (!st->bad_at) { /* cut at the record */
            *cut = before - st->file_len;
            if (st->file_len == 0 && (rc = start_file(st)) != BRS_OK)
                return brs__err(err, rc, "%s: cannot start the file again", st->path);
            if (st->max_batch <= committed)
                return fsync(st->fd) == 0 ? BRS_OK : brs__err(err, BRS_E_IO, "%s: %s", st->path, strerror(errno));
        }
    }
    if (st->max_batch <= committed)
        return BRS_OK;
    clear(st);
    st->t_batch = 0;
    int rc = load(st, committed, cut, err);
    if (rc == BRS_OK && fsync(st->fd) != 0)
        return brs__err(err, BRS_E_IO, "%s: %s", st->path, strerror(errno));
    return rc;
}

void brs__fix_store_close(brs__fix_store *st)
{
    brs__fix_store_flush(st);
    if (st->fd >= 0)
        close(st->fd);
    free(st->wbuf);
    free(st->idx);
    free(st->mem);
    free(st->path);
    memset(st, 0, sizeof *st);
    st->fd = -1;
}

static int put(brs__fix_store *st, char kind, uint32_t a, const char *data, uint32_t n)
{
    if (reserve(&st->wbuf, &st->wcap, st->wlen + REC_HDR + n + BRS__REC_CRC) != BRS_OK)
        return BRS_E_NOMEM;
    char *p = st->wbuf + st->wlen;
    p[0] = kind;
    memcpy(p + 1, &a, 4);
    memcpy(p + 5, &n, 4);
    if (n)
        memcpy(p + REC_HDR, data, n);
    st->wlen += REC_HDR + n;
    if (st->crc) { /* computed into the buffer: the batch is still one write */
        uint32_t c = brs__fix_srec_crc(p, n);
        memcpy(p + REC_HDR + n, &c, 4);
        st->wlen += BRS__REC_CRC;
    }
    return BRS_OK;
}

static int append(brs__fix_store *st, char kind, uint32_t a, const char *data, uint32_t n)
{
    /* the first record of a batch is preceded by the batch's tag */
    if (st->fd >= 0 && st->batch && st->t_batch != *st->batch) {
        uint64_t b = *st->batch;
        if (put(st, 'T', 0, (const char *)&b, 8) != BRS_OK)
            return BRS_E_NOMEM;
        st->t_batch = b;
    }
    return put(st, kind, a, data, n);
}

int brs__fix_store_out(brs__fix_store *st, uint32_t seq, const char *msg, size_t len)
{
    if (len > UINT32_MAX)
        return BRS_E_RANGE;
    int rc = append(st, 'O', seq, msg, (uint32_t)len);
    if (rc == BRS_OK)
        rc = index_put(st, seq, st->file_len + st->wlen - len - (st->crc ? BRS__REC_CRC : 0), (uint32_t)len);
    if (rc == BRS_OK && seq >= st->next_out)
        st->next_out = seq + 1;
    return rc;
}

int brs__fix_store_in(brs__fix_store *st, uint32_t next_in)
{
    st->next_in = next_in;
    return append(st, 'I', next_in, NULL, 0);
}

int brs__fix_store_reset(brs__fix_store *st)
{
    clear(st);
    int rc = append(st, 'Z', 0, NULL, 0);
    if (rc == BRS_OK) {
        st->compact = 1;
        st->compact_from = st->file_len + st->wlen;
    }
    return rc;
}

static void compact_failed(brs__fix_store *st, const char *what, int e)
{
    BRS_LOG(BRS_LOG_WARN, "fix", "store compaction failed: the store keeps its history",
            BRS_KV_S("store", st->path), BRS_KV_S("step", what), BRS_KV_S("reason", strerror(e)));
}

void brs__fix_store_compact(brs__fix_store *st, int64_t now_ns)
{
    if (!st->compact || st->wlen > 0 || st->err)
        return; /* not yet committed (flush first), or a failed file */
    st->compact = 0;
    uint64_t from = st->compact_from;
    if (from > st->file_len)
        return;
    if (st->fd < 0) { /* memory only: drop the bytes before the reset */
        memmove(st->mem, st->mem + from, (size_t)(st->file_len - from));
        st->memlen = (size_t)(st->file_len - from);
    } else {
        /* the records after the reset, as they are (their checksums too: a
         * copy never makes a damaged record sound); a version 2 file keeps
         * its header in front, a version 1 file stays version 1 */
        size_t keep = (size_t)(st->file_len - from), hl = st->crc ? BRS__SFMT_HDR : 0;
        char tmp[1100], arch[1200];
        snprintf(tmp, sizeof tmp, "%s.compact", st->path);
        char *buf = keep + hl ? malloc(keep + hl) : NULL;
        if (keep + hl && (!buf || (keep && pread(st->fd, buf + hl, keep, (off_t)from) != (ssize_t)keep))) {
            compact_failed(st, "read", buf ? errno : ENOMEM);
            free(buf);
            return;
        }
        if (hl)
            brs__fix_sfmt_header(buf);
        keep += hl;
        int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || (keep && brs__fix_wal_write(fd, buf, keep) != 0) ||
            brs__fix_wal_sync(fd, 1) != 0) {
            compact_failed(st, "write", errno);
            free(buf);
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            return;
        }
        free(buf);
        if (brs__fix_archive_move(st->path, now_ns, arch, sizeof arch) != 0) {
            compact_failed(st, "archive", errno);
            close(fd);
            unlink(tmp);
            return;
        }
        /* from here the new file is the store, renamed in place now or at the
         * next open (see brs__fix_store_open) */
        if (rename(tmp, st->path) != 0)
            compact_failed(st, "rename", errno); /* the next open finishes it */
        brs__fix_sync_dir_of(st->path);
        close(st->fd);
        st->fd = fd;
        BRS_LOG(BRS_LOG_INFO, "fix", "store compacted at a sequence reset",
                BRS_KV_S("store", st->path), BRS_KV_S("archived_as", arch),
                BRS_KV_U("bytes_archived", from), BRS_KV_U("bytes_kept", keep));
    }
    uint64_t hl = st->fd >= 0 && st->crc ? BRS__SFMT_HDR : 0; /* (the new file's header) */
    for (uint32_t k = 0; k < st->nidx; k++)
        if (st->idx[k].len)
            st->idx[k].off = st->idx[k].off - from + hl;
    st->file_len = st->file_len - from + hl;
    st->compactions++;
}

int brs__fix_store_flush(brs__fix_store *st)
{
    if (st->wlen == 0 || (st->hdr_pending && st->wlen == BRS__SFMT_HDR))
        return st->err ? BRS_E_IO : BRS_OK; /* (a new file's header waits for its first records) */
    st->hdr_pending = 0;
    if (st->fd < 0) {
        if (reserve(&st->mem, &st->memcap, st->memlen + st->wlen) != BRS_OK)
            return BRS_E_NOMEM;
        memcpy(st->mem + st->memlen, st->wbuf, st->wlen);
        st->memlen += st->wlen;
    } else {
        if (!st->err && st->bad_at)
            st->err = EIO; /* a record failing its check not settled (brs__fix_store_rollback): never written past */
        if (st->err)
            return BRS_E_IO; /* a failed file is not written past its hole */
        if (brs__fix_wal_write(st->fd, st->wbuf, st->wlen) != 0 ||
            (st->fsync_policy == BRS__FIX_FSYNC_BATCH && brs__fix_wal_sync(st->fd, 0) != 0)) {
            st->err = errno ? errno : EIO;
            return BRS_E_IO;
        }
    }
    st->file_len += st->wlen;
    st->wlen = 0;
    return BRS_OK;
}

long brs__fix_store_get(brs__fix_store *st, uint32_t seq, char *buf, size_t cap)
{
    if (seq == 0 || seq > st->nidx || st->idx[seq - 1].len == 0)
        return 0;
    const brs__fix_store_rec *r = &st->idx[seq - 1];
    if (r->len > cap)
        return BRS_E_RANGE;
    if (r->off >= st->file_len) { /* still pending in the write buffer */
        memcpy(buf, st->wbuf + (r->off - st->file_len), r->len);
        return (long)r->len;
    }
    if (st->fd < 0) {
        memcpy(buf, st->mem + r->off, r->len);
        return (long)r->len;
    }
    ssize_t n = pread(st->fd, buf, r->len, (off_t)r->off);
    return n == (ssize_t)r->len ? (long)n : BRS_E_IO;
}

uint32_t brs__fix_store_len(const brs__fix_store *st, uint32_t seq)
{
    return seq == 0 || seq > st->nidx ? 0 : st->idx[seq - 1].len;
}
