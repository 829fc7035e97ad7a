/* app_checkpoint.c: journal checkpoints and the end of day's compaction,
 * written off the loop. The snapshot of 2M open orders is hundreds of MB: written by the loop
 * it held every session for seconds. A child process (fork: a consistent
 * copy-on-write image of the state at one instant between two commits) writes
 * and syncs it to an unnamed file (O_TMPFILE) in the journal's directory; the
 * loop goes on appending to the old journal, which stays complete. When the
 * child is done, the loop copies the records appended since the fork after
 * the snapshot, syncs, names the file (the temporary's name), archives the old
 * journal and renames the new one over it, as the in-loop checkpoint did. */
#include "fix/app.h"
#include "fix/app_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "fix/recfile.h"
#include "fix/wal.h"

int brs__fix_gateway_checkpoint_start(brs__fix_gateway *g, brs_error *err)
{
    if (g->jfd < 0 || g->replaying || g->ckpt_pid > 0 || g->fg_phase || g->eod_phase)
        return BRS_OK; /* (the last one's closed orders still leaving memory: next turns) */
    if (g->jlen)
        return brs__err(err, BRS_E_STATE, "checkpoint: records not committed (call after a commit)");
    int64_t t0 = brs__monotime_ns();
    /* an unnamed file in the journal's directory (O_TMPFILE): if the child or
     * the gateway dies before it is complete, nothing is left behind; it gets
     * its name only when complete and synced */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", g->jpath);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int fd = open(dir, O_TMPFILE | O_RDWR | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return brs__err(err, BRS_E_IO, "checkpoint: an unnamed file in %s (O_TMPFILE): %s", dir,
                        strerror(errno));
    }
    /* the child's memory comes from here: after fork() only async-signal-safe
     * calls are safe (another thread, the metrics server, may have held
     * malloc's lock at the fork), so the child never calls malloc */
    if (brs__fix_snap_scratch_alloc(g, &g->ckpt_scratch) != BRS_OK) {
        close(fd);
        return brs__err(err, BRS_E_NOMEM, "checkpoint: out of memory");
    }
    uint64_t batch = g->batch;
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid == 0) {
        /* the child: the state as it was at the fork; dies with the gateway */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(2);
        brs__fix_wal_forked(); /* fault injection: in the child only when asked */
        _exit(brs__fix_snapshot_write(g, &g->ckpt_scratch, batch, fd) == 0 ? 0 : 1);
    }
    if (pid < 0) {
        close(fd);
        brs__fix_snap_scratch_free(&g->ckpt_scratch);
        return brs__err(err, BRS_E_IO, "checkpoint: fork: %s", strerror(errno));
    }
    g->ckpt_fd = fd;
    g->batch++; /* `batch` is the snapshot's: it commits nothing else */
    g->ckpt_pid = pid;
    g->ckpt_off = g->jsize;
    g->ckpt_t0 = t0;
    g->ckpt_fork_ns = brs__monotime_ns() - t0;
    return BRS_OK;
}

/* Copies the journal's records [from, to) (committed since the fork) to the
 * end of fd, in version 2 (fix/recfile.h): each one's checksum checked (a
 * version 2 journal) or computed (version 1). BRS_OK, or the error in err. */
static int copy_tail(brs__fix_gateway *g, int fd, uint64_t from, uint64_t to, uint64_t *written,
                     brs_error *err)
{
    brs__fix_jreader r = {.fd = g->jfd, .fend = (size_t)to};
    size_t ov = g->jcrc ? BRS__REC_CRC : 0, olen = 0, ocap = 0;
    char *out = NULL;
    int rc = BRS_OK;
    while (rc == BRS_OK && from < to) {
        const char *rec = from + 8 <= to ? brs__fix_jr_at(&r, (size_t)from, 8) : NULL;
        uint32_t len = 0;
        if (rec) {
            memcpy(&len, rec + 4, 4);
            rec = from + 8 + len + ov <= to ? brs__fix_jr_at(&r, (size_t)from, 8 + (size_t)len + ov) : NULL;
        }
        if (!rec) {
            rc = from + 8 + len + ov > to
                     ? brs__fix_damage_err(err, g->jpath, from, "a record past the committed end")
                     : brs__err(err, BRS_E_IO, "%s: cannot read: %s", g->jpath, strerror(errno));
            break;
        }
        uint32_t c = brs__fix_jrec_crc(rec, len);
        if (ov && c != brs__fix_rec_stored(rec + 8 + len)) {
            rc = brs__fix_crc_damage_err(err, g->jpath, from, brs__fix_rec_stored(rec + 8 + len), c);
            break;
        }
        if (brs__fix_buf_record_raw(&out, &olen, &ocap, rec, 8 + (size_t)len) != BRS_OK ||
            brs__fix_buf_record_raw(&out, &olen, &ocap, &c, 4) != BRS_OK) {
            rc = brs__err(err, BRS_E_NOMEM, "checkpoint: out of memory");
            break;
        }
        from += 8 + len + ov;
        if (olen >= ((size_t)1 << 20) || from >= to) {
            if (brs__fix_wal_write(fd, out, olen) != 0)
                rc = brs__err(err, BRS_E_IO, "snapshot: %s", strerror(errno));
            *written += olen;
            olen = 0;
        }
    }
    free(out);
    free(r.buf);
    return rc;
}

static int poll_child(brs__fix_gateway *g, int *done, int block, brs_error *err)
{
    *done = 0;
    if (g->ckpt_pid <= 0 || g->jlen)
        return BRS_OK; /* none running, or not between commits */
    int st = 0;
    pid_t r;
    while ((r = waitpid(g->ckpt_pid, &st, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return BRS_OK;
    g->ckpt_pid = 0;
    *done = 1;
    brs__fix_snap_scratch_free(&g->ckpt_scratch);
    int fd = g->ckpt_fd;
    g->ckpt_fd = -1;
    char tmp[4096];
    brs__fix_journal_temp_path(g, tmp, sizeof tmp);
    if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        close(fd); /* unnamed: gone */
        if (r > 0 && WIFSIGNALED(st))
            return brs__err(err, BRS_E_IO, "the snapshot writer died of signal %d", WTERMSIG(st));
        return brs__err(err, BRS_E_IO, "the snapshot writer failed (%s)",
                        r < 0 ? strerror(errno) : "cannot write or sync the temporary journal");
    }
    int64_t t1 = brs__monotime_ns();
    struct stat sb;
    int rc = BRS_OK;
    uint64_t tail = 0; /* bytes appended since the fork, as copied (in version 2) */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    unlink(tmp); /* a stray one of an earlier crash */
    if (fstat(fd, &sb) != 0)
        rc = brs__err(err, BRS_E_IO, "snapshot: %s", strerror(errno));
    /* what was committed since the fork follows the snapshot */
    else if ((rc = copy_tail(g, fd, g->ckpt_off, g->jsize, &tail, err)) != BRS_OK)
        ; /* (err says why) */
    else if (brs__fix_wal_sync(fd, 1) != 0)
        rc = brs__err(err, BRS_E_IO, "snapshot: %s", strerror(errno));
    /* complete and synced: it gets the temporary's name, then the journal's */
    else if (linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0)
        rc = brs__err(err, BRS_E_IO, "%s: %s", tmp, strerror(errno));
    if (rc == BRS_OK) {
        uint64_t snap = (uint64_t)sb.st_size;
        rc = brs__fix_journal_swap(g, fd, tmp, snap, snap + tail, err);
        if (rc != BRS_OK && g->jfd == fd) /* renamed: the new journal is in place */
            return rc;
    }
    if (rc != BRS_OK) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    /* the closed orders leave memory, those closed since the fork too (their
     * ClOrdIDs join the set; a restart holds them again from the tail, as
     * orders closed after a checkpoint are), a bounded step per loop turn
     * (app_forget.c). Nothing closed and no replace chain: nothing to do */
    uint64_t held = g->n_orders;
    int none = g->st.open >= 0 && held == (uint64_t)g->st.open && g->map_used == held && !g->map_old;
    if (!none)
        brs__fix_forget_start(g);
    BRS_LOG(BRS_LOG_INFO, "fix", "journal checkpoint: the journal is a snapshot of the open orders",
            BRS_KV_S("journal", g->jpath), BRS_KV_U("orders_held", held),
            BRS_KV_U("orders_open", (uint64_t)g->st.open), BRS_KV_U("journal_bytes", g->jsize),
            BRS_KV_U("tail_bytes_copied", tail),
            BRS_KV_F("ms", (double)(brs__monotime_ns() - g->ckpt_t0) / 1e6),
            BRS_KV_F("loop_ms", (double)(g->ckpt_fork_ns + brs__monotime_ns() - t1) / 1e6),
            BRS_KV_F("fork_ms", (double)g->ckpt_fork_ns / 1e6),
            BRS_KV_F("swap_ms", (double)(brs__monotime_ns() - t1) / 1e6));
    return BRS_OK;
}

int brs__fix_gateway_checkpoint_poll(brs__fix_gateway *g, int *done, brs_error *err)
{
    return poll_child(g, done, 0, err);
}

void brs__fix_gateway_checkpoint_abort(brs__fix_gateway *g)
{
    if (g->ckpt_pid <= 0)
        return;
    kill(g->ckpt_pid, SIGKILL);
    waitpid(g->ckpt_pid, NULL, 0);
    g->ckpt_pid = 0;
    close(g->ckpt_fd); /* unnamed: nothing is left */
    g->ckpt_fd = -1;
    brs__fix_snap_scratch_free(&g->ckpt_scratch);
}

/* The same checkpoint without a loop (tests, bench, an end of day outside
 * serve): what is pending is committed, the child writes the snapshot while
 * this waits, then the closed orders leave memory all at once. */
int brs__fix_gateway_checkpoint(brs__fix_gateway *g, brs_error *err)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    while (brs__fix_gateway_forget_step(g)) /* an earlier one's, if any */
        ;
    if (brs__fix_gateway_flush(g) != BRS_OK)
        return brs__err(err, BRS_E_IO, "checkpoint: %s", g->fail_msg);
    int rc = brs__fix_gateway_checkpoint_start(g, err), done = 0;
    if (rc == BRS_OK)
        rc = poll_child(g, &done, 1, err);
    while (brs__fix_gateway_forget_step(g))
        ;
    return rc;
}

/* The end of day's compaction (app_journal.c): at once without a loop; under
 * serve, the loop starts it as a checkpoint once nothing is in flight. */
int brs__fix_compact_after_day(brs__fix_gateway *g, brs_error *err)
{
    if (g->jfd < 0)
        return BRS_OK;
    if (g->async_compact) {
        g->compact_due = 1;
        return BRS_OK;
    }
    return brs__fix_gateway_checkpoint(g, err);
}
