/* app_journal.c: the FIX application's order journal: records and commits
 * written before any reply reaches the wire, and the end of day (DAY orders
 * expire, the closed orders leave memory) (docs/fix-gateway.md, "Persistence
 * and restart"). Compaction: app_snapshot.c, app_checkpoint.c; replay:
 * app_replay.c. */
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


/* Appends one record [type][len][bytes] to a growing buffer. */
int brs__fix_buf_record(char **buf, size_t *len, size_t *cap, uint32_t type, const void *m, uint32_t n)
{
    if (brs__fix_buf_reserve(buf, cap, *len + 8 + n, 65536) != BRS_OK)
        return BRS_E_NOMEM;
    memcpy(*buf + *len, &type, 4);
    memcpy(*buf + *len + 4, &n, 4);
    if (n)
        memcpy(*buf + *len + 8, m, n);
    *len += 8 + n;
    return BRS_OK;
}

/* Appends the checksum of the record at buf[at, *len) (version 2 files). */
int brs__fix_buf_seal(char **buf, size_t *len, size_t *cap, size_t at)
{
    uint32_t c = brs__fix_jrec_crc(*buf + at, (uint32_t)(*len - at - 8));
    return brs__fix_buf_record_raw(buf, len, cap, &c, 4);
}

/* Appends bytes as they are. */
int brs__fix_buf_record_raw(char **buf, size_t *len, size_t *cap, const void *m, size_t n)
{
    if (brs__fix_buf_reserve(buf, cap, *len + n, 65536) != BRS_OK)
        return BRS_E_NOMEM;
    memcpy(*buf + *len, m, n);
    *len += n;
    return BRS_OK;
}

/* A record of the journal's batch, in its file's version (fix/recfile.h):
 * with its checksum in a version 2 file, computed here into the buffer (the
 * batch is still one write). */
int brs__fix_jrec(brs__fix_gateway *g, uint32_t type, const void *m, uint32_t n)
{
    size_t at = g->jlen;
    int rc = brs__fix_buf_record(&g->jbuf, &g->jlen, &g->jcap, type, m, n);
    if (rc == BRS_OK && g->jcrc && (rc = brs__fix_buf_seal(&g->jbuf, &g->jlen, &g->jcap, at)) != BRS_OK)
        g->jlen = at;
    return rc;
}

int brs__fix_journal_append(brs__fix_gateway *g, uint32_t session, const char *m, uint32_t len)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    return brs__fix_jrec(g, session, m, len);
}


void brs__fix_gateway_oom(brs__fix_gateway *g, const char *what, uint32_t session)
{
    if (g->fail_msg[0])
        return;
    brs__fix_session *s = brs__fix_session_of(g, session);
    snprintf(g->fail_msg, sizeof g->fail_msg, "out of memory queueing %s for session %s", what,
             s ? s->cfg.target : "?");
    BRS_LOG(BRS_LOG_ERROR, "fix", "out of memory where a queue must keep order: this turn is not committed",
            BRS_KV_S("queue", what), BRS_KV_S("session", s ? s->cfg.target : "?"));
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
int brs__fix_flush_stores(brs__fix_gateway *g, int *any)
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
    if (g->fail_msg[0])
        return BRS_E_IO; /* a file failed before, or memory ran out in a queue: nothing more is committed */
    brs__fix_evq_flush_budget(g); /* app_events.c: ahead of the batch's records, if due */
    int any = g->jlen > 0;
    int rc = brs__fix_flush_stores(g, &any);
    if (rc != BRS_OK || g->jfd < 0 || !any)
        return rc;
    if (g->fail_msg[0])
        return BRS_E_IO; /* a file failed before: nothing more is committed */
    if (brs__fix_jrec(g, JOURNAL_COMMIT, &g->batch, 8) != BRS_OK)
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

/* The end of day as recorded (mode EOD_*); replay calls it for its records. */
void brs__fix_end_of_day_apply(brs__fix_gateway *g, int64_t boundary, int mode)
{
    int wire = mode == EOD_FORGET_WIRE || mode == EOD_EXPIRE_WIRE;
    if (wire) /* what is on the wire expires where it arrives (app_eod.c) */
        brs__fix_eod_wire(g, g->last_order_id);
    if (mode != EOD_MARK) {
        g->expiring = 1;
        brs__rt_admit_all(g->rt, 1); /* every DAY order expires, however full the queue */
        for (uint64_t i = 0; i < g->n_orders; i++) {
            const brs__fix_order *o = &g->orders[i];
            if (o->open && o->tif == BRS_DAY && !(wire && o->expiry) &&
                brs__rt_cancel(g->rt, brs__fix_client_of(g, o->session), o->id) == BRS_OK)
                brs__fix_pump(g, brs__rt_now(g->rt));
        }
        g->expiring = 0;
        brs__rt_admit_all(g->rt, g->replaying);
    }
    g->day_boundary = boundary;
    if (mode == EOD_FORGET || mode == EOD_FORGET_KEEP || mode == EOD_FORGET_WIRE)
        brs__fix_forget_closed(g, mode != EOD_FORGET);
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
        brs__fix_end_of_day_apply(g, boundary, mark_only ? EOD_MARK : EOD_EXPIRE);
        journal_eod(g, boundary, mark_only ? EOD_MARK : EOD_EXPIRE);
    } else if (g->mc_per_turn && g->fg_per_turn) { /* (with or without a journal) */
        /* in bounded journaled steps over the next loop turns (app_eod.c) */
        brs__fix_eod_begin(g, boundary, g->last_order_id, EOD_STEPS_V3); /* (EOD_STEPS_V2 before 2026-12-07 17:00) */
        if (!g->async_compact)
            brs__fix_eod_run_all(g); /* no loop to run them */
    } else {
        brs__fix_end_of_day_apply(g, boundary, EOD_EXPIRE_WIRE);
        if ((rc = brs__fix_forget_closed(g, 1)) != BRS_OK) {
            brs__err(err, rc, "end of day: out of memory compacting the order table");
            journal_eod(g, boundary, EOD_EXPIRE_WIRE);
        } else {
            /* the journal says so (a replay forgets the same orders) until the
             * compaction replaces it with a snapshot of the open state, as a
             * checkpoint does (app_checkpoint.c: written by a child process) */
            journal_eod(g, boundary, EOD_FORGET_WIRE); /* (EOD_FORGET before 2026-12-07, then EOD_FORGET_KEEP) */
            brs__fix_md_publish(g);
            return brs__fix_compact_after_day(g, err);
        }
    }
    brs__fix_md_publish(g);
    return rc;
}
