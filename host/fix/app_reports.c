/* app_reports.c: ExecutionReports streaming over loop turns (issue 15, point
 * 3: one order sweeping 40,000 resting orders made its 80,000 reports in the
 * loop turn of the order, holding every session for it). A session's reports
 * past max_reports_per_turn in one message, and the reports of the runtime
 * events it took late (app_events.c), wait in its queue, as their values, and
 * go out a slice per loop turn as its socket drains, each slice journaled, so
 * a replay rebuilds the queue and a crash in the middle sends the rest after
 * the restart, once (docs/fix-gateway.md, "Flow control"). */
#include "fix/app.h"
#include "fix/app_internal.h"
#include "fix/wal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

/* Queued reports are records packed in the runtime's 2 MB chunks
 * (brs__qchunk_new, runtime/rt_evq.h). A record: the report's values, then its ClOrdID and OrigClOrdID (the order may change
 * or leave memory before it goes out), padded to 16 bytes. */
typedef brs__qchunk erq_chunk;

typedef struct {
    brs__fix_er r;
    uint8_t cl_len, orig_len, has_orig;
} erq_rec;

#define ERQ_DATA BRS__QCHUNK_DATA

static size_t rec_size(size_t cl, size_t orig)
{
    return (sizeof(erq_rec) + cl + orig + 15) & ~(size_t)15;
}


static brs__fix_erq *erq_of(brs__fix_gateway *g, uint32_t session)
{
    if (session >= g->n_sessions)
        return NULL;
    if (session >= g->n_erq) {
        brs__fix_erq *p = brs__fix_per_session_grow(g->erq, &g->n_erq, g->n_sessions, sizeof *p);
        if (!p)
            return NULL;
        g->erq = p;
    }
    return &g->erq[session];
}

int brs__fix_gateway_erq_active(const brs__fix_gateway *g, uint32_t session)
{
    return session < g->n_erq && g->erq[session].n > 0;
}

void brs__fix_erq_window(brs__fix_gateway *g, int open)
{
    if (open) {
        g->erq_epoch++;
        g->erq_budget = g->replaying ? g->erq_replay_budget : g->erq_per_turn;
        g->erq_queued = 0;
        g->erq_bit = 0;
    } else {
        if (g->erq_bit && !g->replaying) /* (not for reports queued behind others) */
            BRS_LOG(BRS_LOG_INFO, "fix", "execution reports stream over loop turns (max_reports_per_turn)",
                    BRS_KV_U("queued", g->erq_queued), BRS_KV_U("per_turn", g->erq_per_turn));
        g->erq_budget = 0;
        g->erq_replay_budget = 0;
        g->erq_queued = 0;
        g->erq_bit = 0;
    }
}

int brs__fix_erq_wants(brs__fix_gateway *g, uint32_t session)
{
    if (g->evq_draining)
        return 1; /* a waiting event's report: it streams too (app_events.c) */
    if (!g->n_erq_active && !g->erq_budget)
        return 0; /* the usual case: nothing queued, no budget */
    brs__fix_erq *q = erq_of(g, session);
    if (!q)
        return 0;
    if (q->n)
        return 1; /* behind what waits: a session's reports stay in order */
    if (!g->erq_budget)
        return 0;
    if (q->epoch != g->erq_epoch) {
        q->epoch = g->erq_epoch;
        q->count = 0;
    }
    if (q->count >= g->erq_budget) {
        g->erq_bit = 1;
        return 1;
    }
    q->count++;
    return 0;
}

static size_t clen(const char *s)
{
    size_t n = strlen(s);
    return n < BRS__FIX_CLORDID_MAX ? n : BRS__FIX_CLORDID_MAX - 1;
}

void brs__fix_erq_push(brs__fix_gateway *g, uint32_t session, const brs__fix_er *r)
{
    brs__fix_erq *q = erq_of(g, session);
    size_t cl = clen(r->clordid), orig = r->orig ? clen(r->orig) : 0, sz = rec_size(cl, orig);
    if (q && (!q->tail || q->tail->used + sz > ERQ_DATA)) {
        erq_chunk *c = brs__qchunk_new();
        if (c) {
            if (q->tail)
                q->tail->next = c;
            else
                q->head = c;
            q->tail = c;
        }
    }
    if (!q || !q->tail || q->tail->used + sz > ERQ_DATA) {
        /* out of memory: sent now it would pass the reports queued before it,
         * and a replay would queue it: the turn is not committed */
        if (session < g->n_sessions)
            brs__fix_gateway_oom(g, "execution reports", session);
        brs__fix_session *s = brs__fix_session_of(g, session);
        if (!g->replaying && s)
            brs__fix_er_deliver(g, s, r);
        return;
    }
    if (!q->n)
        g->n_erq_active++;
    erq_rec *e = (erq_rec *)(q->tail->data + q->tail->used);
    e->r = *r;
    e->cl_len = (uint8_t)cl;
    e->orig_len = (uint8_t)orig;
    e->has_orig = r->orig != NULL;
    memcpy((char *)(e + 1), r->clordid, cl);
    memcpy((char *)(e + 1) + cl, r->orig ? r->orig : "", orig);
    q->tail->used += (uint32_t)sz;
    q->n++;
    g->erq_queued++;
}

void brs__fix_erq_journal_budget(brs__fix_gateway *g)
{
    if (!g->erq_bit || g->replaying)
        return; /* reports queued only behind others: a replay queues them so too */
    char rec[4];
    brs__put_u32(rec, g->erq_budget);
    brs__fix_journal_append(g, JOURNAL_ERQ_BUDGET, rec, sizeof rec);
}

void brs__fix_erq_replay_budget(brs__fix_gateway *g, uint32_t budget)
{
    g->erq_replay_budget = budget;
}

static void erq_clear(brs__fix_erq *q)
{
    while (q->head) {
        erq_chunk *c = q->head;
        q->head = c->next;
        brs__qchunk_free(c);
    }
    q->tail = NULL;
    q->n = 0;
}

/* The first n records of the session's queue leave it (delivered, live;
 * already in the store, replayed). */
static uint32_t erq_pop(brs__fix_gateway *g, uint32_t session, uint32_t n, int deliver)
{
    brs__fix_erq *q = session < g->n_erq ? &g->erq[session] : NULL;
    if (!q || !q->n)
        return 0;
    if (n > q->n)
        n = (uint32_t)q->n;
    brs__fix_session *s = brs__fix_session_of(g, session);
    char cl[BRS__FIX_CLORDID_MAX], orig[BRS__FIX_CLORDID_MAX];
    for (uint32_t k = 0; k < n; k++) {
        erq_chunk *c = q->head;
        if (c->read == c->used) { /* this chunk is done: the next */
            q->head = c->next;
            brs__qchunk_free(c);
            c = q->head;
        }
        erq_rec *e = (erq_rec *)(c->data + c->read);
        c->read += (uint32_t)rec_size(e->cl_len, e->orig_len);
        if (!deliver || !s)
            continue;
        brs__fix_er r = e->r;
        memcpy(cl, (char *)(e + 1), e->cl_len);
        cl[e->cl_len] = 0;
        memcpy(orig, (char *)(e + 1) + e->cl_len, e->orig_len);
        orig[e->orig_len] = 0;
        r.clordid = cl;
        r.orig = e->has_orig ? orig : NULL;
        brs__fix_er_deliver(g, s, &r);
    }
    q->n -= n;
    if (!q->n) { /* empty: its memory goes back */
        erq_clear(q);
        g->n_erq_active--;
    }
    return n;
}

uint32_t brs__fix_gateway_erq_step(brs__fix_gateway *g, uint32_t session)
{
    uint32_t per = g->erq_per_turn ? g->erq_per_turn : UINT32_MAX;
    /* while a checkpoint's child writes its snapshot every page the loop
     * writes is copied first: an eighth (as a mass cancel's slice) */
    if (g->ckpt_pid > 0 && per != UINT32_MAX)
        per = per >= 8 ? per / 8 : 1;
    uint32_t n = erq_pop(g, session, per, 1);
    if (!n)
        return 0;
    char rec[8];
    brs__put_u32(rec, session);
    brs__put_u32(rec + 4, n);
    brs__fix_journal_append(g, JOURNAL_ERQ_DELIVERED, rec, sizeof rec);
    return n;
}

void brs__fix_erq_replay_delivered(brs__fix_gateway *g, uint32_t session, uint32_t n)
{
    erq_pop(g, session, n, 0);
}

void brs__fix_erq_free(brs__fix_gateway *g)
{
    for (uint32_t i = 0; i < g->n_erq; i++)
        erq_clear(&g->erq[i]);
    free(g->erq);
    g->erq = NULL;
    g->n_erq = g->n_erq_active = 0;
}
