/* app_events.c: a session's runtime events taken into its order state over
 * loop turns (issue 15, point 3: one order sweeping 40,000 resting orders
 * made 80,000 runtime events, and the order table, positions, report queue
 * and market data trades took them all in the order's loop turn). In each
 * journaled step a session takes at most max_events_per_turn events at once;
 * the rest wait in its queue, as they came, and a slice of them is taken per
 * loop turn, journaled, their reports queued to stream as its socket drains
 * (app_reports.c). Its later events queue behind, so it sees them in order,
 * and its later messages wait (server_conn.c) until the queue is empty.
 * Deterministic for a replay: steps end at the same points live and replayed
 * (brs__fix_evq_step_end), the budget is in the journal (EVQ_BUDGET), each
 * slice is a record (EVQ_DELIVERED). docs/fix-gateway.md, "Flow control". */
#include "fix/app.h"
#include "fix/app_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

static brs__fix_evq *evq_of(brs__fix_gateway *g, uint32_t session)
{
    if (session >= g->n_sessions)
        return NULL;
    if (session >= g->n_evq) {
        brs__fix_evq *p = brs__fix_per_session_grow(g->evq, &g->n_evq, g->n_sessions, sizeof *p);
        if (!p)
            return NULL;
        g->evq = p;
    }
    return &g->evq[session];
}

int brs__fix_gateway_evq_active(const brs__fix_gateway *g, uint32_t session)
{
    return session < g->n_evq && g->evq[session].q.n > 0;
}

void brs__fix_evq_step_end(brs__fix_gateway *g) { g->evq_epoch++; }

static const char *session_name(brs__fix_gateway *g, uint32_t session)
{
    brs__fix_session *s = brs__fix_session_of(g, session);
    return s ? s->cfg.target : "";
}

int brs__fix_evq_defer(brs__fix_gateway *g, uint32_t session, const brs_order_event *ev)
{
    uint32_t budget = g->replaying ? g->evq_replay_budget : g->evq_per_turn;
    if (g->expiring == 1 || (!budget && !g->n_evq_active))
        return 0; /* an end of day slice's expiries go at once (it waits for empty queues) */
    brs__fix_evq *q = evq_of(g, session);
    if (!q) {
        if (session < g->n_sessions)
            brs__fix_gateway_oom(g, "runtime events", session);
        return 0;
    }
    if (!q->q.n) {
        if (!budget)
            return 0;
        if (q->epoch != g->evq_epoch) {
            q->epoch = g->evq_epoch;
            q->count = 0;
        }
        /* the answer to the session's cancel or replace being processed is
         * taken with it (its report names the request's ClOrdIDs), whatever
         * the step's count: the same live and replayed */
        if (q->count < budget || (g->req_order && ev->order_id == g->req_order)) {
            q->count++;
            return 0;
        }
    }
    if (brs__rt_evq_push(&q->q, ev) != BRS_OK) {
        /* taken now would be out of order, and a replay would diverge: the turn is not committed */
        brs__fix_gateway_oom(g, "runtime events", session);
        return 0;
    }
    if (q->q.n == 1) {
        g->n_evq_active++;
        q->deferred = q->turns = 0;
        q->t0 = brs__monotime_ns();
        if (!g->replaying) /* once per queue filling, not per slice */
            BRS_LOG(BRS_LOG_INFO, "fix", "runtime events wait over loop turns (max_events_per_turn)",
                    BRS_KV_S("session", session_name(g, session)), BRS_KV_U("per_turn", budget));
    }
    q->deferred++;
    return 1;
}

static void evq_clear(brs__fix_evq *q) { brs__rt_evq_clear(&q->q); }

/* The n oldest waiting events of the session taken into its order state, in
 * order; their reports queue behind the session's others (live and replayed
 * alike: a replay rebuilds the report queue the same way). */
static uint32_t evq_take(brs__fix_gateway *g, uint32_t session, uint32_t n)
{
    brs__fix_evq *q = session < g->n_evq ? &g->evq[session] : NULL;
    if (!q || !q->q.n)
        return 0;
    if (n > q->q.n)
        n = (uint32_t)q->q.n;
    brs_order_event ev;
    g->evq_draining = 1;
    for (uint32_t k = 0; k < n && brs__rt_evq_pop(&q->q, &ev); k++)
        brs__fix_event_apply(g, &ev);
    g->evq_draining = 0;
    q->turns++;
    if (!q->q.n) { /* caught up: its memory went back */
        evq_clear(q);
        g->n_evq_active--;
        if (!g->replaying)
            BRS_LOG(BRS_LOG_INFO, "fix", "runtime events caught up (max_events_per_turn)",
                    BRS_KV_S("session", session_name(g, session)), BRS_KV_U("events", q->deferred),
                    BRS_KV_U("loop_turns", q->turns),
                    BRS_KV_F("ms", (double)(brs__monotime_ns() - q->t0) / 1e6));
    }
    return n;
}

uint32_t brs__fix_gateway_evq_step(brs__fix_gateway *g, uint32_t session)
{
    uint32_t per = g->evq_per_turn ? g->evq_per_turn : UINT32_MAX;
    /* while a checkpoint's child writes its snapshot every page the loop
     * writes is copied first: an eighth (as a mass cancel's slice) */
    if (g->ckpt_pid > 0 && per != UINT32_MAX)
        per = per >= 8 ? per / 8 : 1;
    uint32_t n = evq_take(g, session, per);
    if (!n)
        return 0;
    char rec[8];
    brs__put_u32(rec, session);
    brs__put_u32(rec + 4, n);
    brs__fix_journal_append(g, JOURNAL_EVQ_DELIVERED, rec, sizeof rec);
    brs__fix_evq_step_end(g);
    return n;
}

/* The budget a replay needs is due in the journal (at start when the journal
 * does not say it yet, at a checkpoint's fork: the new journal is the
 * snapshot and what follows the fork). It goes at the head of the next batch
 * that writes records (brs__fix_evq_flush_budget), so it is read before any
 * work after this point, and no write is added to a batch that had none; the
 * step ends here live, where the record is read in a replay (nothing between
 * makes runtime events: such work writes records). */
void brs__fix_evq_journal_budget(brs__fix_gateway *g, int force)
{
    if (g->jfd < 0 || g->replaying)
        return;
    if (!force && g->evq_journaled_set && g->evq_journaled == g->evq_per_turn)
        return;
    g->evq_budget_due = 1;
    brs__fix_evq_step_end(g);
}

void brs__fix_evq_flush_budget(brs__fix_gateway *g)
{
    if (!g->evq_budget_due || !g->jlen || g->jfd < 0)
        return;
    char rec[4];
    brs__put_u32(rec, g->evq_per_turn);
    size_t at = g->jlen;
    if (brs__fix_jrec(g, JOURNAL_EVQ_BUDGET, rec, sizeof rec) != BRS_OK)
        return; /* out of memory: the next batch */
    char r[16]; /* 12 bytes, 16 with its checksum */
    size_t rl = g->jlen - at;
    memcpy(r, g->jbuf + at, rl); /* to the front */
    memmove(g->jbuf + rl, g->jbuf, at);
    memcpy(g->jbuf, r, rl);
    g->evq_budget_due = 0;
    g->evq_journaled = g->evq_per_turn;
    g->evq_journaled_set = 1;
}

void brs__fix_evq_replay_budget(brs__fix_gateway *g, uint32_t budget)
{
    g->evq_replay_budget = budget;
    g->evq_journaled = budget; /* the journal says so: live need not again */
    g->evq_journaled_set = 1;
    brs__fix_evq_step_end(g);
}

void brs__fix_evq_replay_delivered(brs__fix_gateway *g, uint32_t session, uint32_t n)
{
    evq_take(g, session, n);
    brs__fix_evq_step_end(g);
}

void brs__fix_evq_free(brs__fix_gateway *g)
{
    for (uint32_t i = 0; i < g->n_evq; i++)
        evq_clear(&g->evq[i]);
    free(g->evq);
    g->evq = NULL;
    g->n_evq = g->n_evq_active = 0;
}
