/* app_masscancel.c: OrderMassCancelRequest (q). Under `bourse serve` a mass
 * cancel streams: the request is answered at once (OrderMassCancelReport) and
 * its orders are cancelled a bounded slice per loop turn (max_cancels_per_turn),
 * each slice when the requester's socket has drained, its later messages held
 * behind it; each slice is journaled, so a crash in the middle replays to the
 * same state and the rest goes on after the restart (issue 15, point 3). */
#include "fix/app.h"
#include "fix/app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

typedef struct mc_pick_ctx {
    uint32_t session;
    int32_t instr;
    char side;
} mc_pick_ctx;

static int mc_matches(const brs__fix_order *o, const void *ctx)
{
    const mc_pick_ctx *c = ctx;
    return o->open && o->session == c->session && (c->instr < 0 || o->instrument == (uint32_t)c->instr) &&
           (!c->side || o->side == (c->side == '1' ? BRS_BUY : BRS_SELL));
}

int brs__fix_cancel_one(brs__fix_gateway *g, brs__fix_order *o)
{
    uint8_t was = o->expiry;
    o->expiry |= g->expiring != 0; /* its Canceled is its expiry, whenever it comes */
    if (brs__rt_cancel(g->rt, brs__fix_client_of(g, o->session), o->id) != BRS_OK) {
        o->expiry = was;
        return 0;
    }
    if (!g->eod_nopump) /* (a hosted strategy's order in a runtime step: that step takes them) */
        brs__fix_pump(g, brs__rt_now(g->rt));
    return 1;
}

uint64_t brs__fix_cancel_slice(brs__fix_gateway *g, uint64_t after, uint64_t end, uint64_t last, uint32_t per,
                               int stop_busy, brs__fix_pick pick, const void *ctx, uint32_t *n)
{
    uint64_t scan_max = (uint64_t)per * 64, scanned = 0, reached = after, i;
    uint32_t k = 0;
    for (i = brs__fix_slot_after(g, after);
         i < g->n_orders && g->orders[i].id <= end && g->orders[i].id <= last && k < per && scanned < scan_max &&
         !(stop_busy && brs__rt_busy(g->rt));
         i = brs__fix_slot_next(g, i), scanned++) {
        brs__fix_order *o = &g->orders[i];
        reached = o->id;
        if (pick(o, ctx))
            k += brs__fix_cancel_one(g, o);
    }
    *n = k;
    return i >= g->n_orders || g->orders[i].id > last ? UINT64_MAX : reached;
}

static brs__fix_mc *mc_of(brs__fix_gateway *g, uint32_t session)
{
    if (session >= g->n_sessions)
        return NULL;
    if (session >= g->n_mc) {
        brs__fix_mc *p = brs__fix_per_session_grow(g->mc, &g->n_mc, g->n_sessions, sizeof *p);
        if (!p)
            return NULL;
        g->mc = p;
    }
    return &g->mc[session];
}

int brs__fix_gateway_mc_active(const brs__fix_gateway *g, uint32_t session)
{
    return session < g->n_mc && g->mc[session].active;
}

static void mc_done(brs__fix_gateway *g, brs__fix_mc *mc)
{
    if (mc->active) {
        mc->active = 0;
        g->n_mc_active--;
    }
}

/* Cancels the session's matching open orders with OrderIDs in (after, end]. */
static void cancel_range(brs__fix_gateway *g, uint32_t session, brs__fix_mc *mc, uint64_t end)
{
    mc_pick_ctx c = {session, mc->instr, mc->side};
    uint32_t n;
    brs__fix_cancel_slice(g, mc->after, end, UINT64_MAX, UINT32_MAX, 0, mc_matches, &c, &n);
    mc->after = end;
    if (end == UINT64_MAX)
        mc_done(g, mc);
}

uint32_t brs__fix_gateway_mc_step(brs__fix_gateway *g, uint32_t session)
{
    brs__fix_mc *mc = session < g->n_mc ? &g->mc[session] : NULL;
    if (!mc || !mc->active)
        return 0;
    uint32_t per = g->mc_per_turn ? g->mc_per_turn : UINT32_MAX;
    /* while a checkpoint's child writes its snapshot, every page the loop
     * writes first is copied (copy-on-write): a slice costs several times its
     * usual time then, so it is an eighth (the slices are journaled with
     * where they ended: a replay is exact whatever their size) */
    if (g->ckpt_pid > 0 && per != UINT32_MAX)
        per = per >= 8 ? per / 8 : 1;
    /* the slice's end: after `per` cancels (and per x 64 other sessions'
     * orders passed over), or when the runtime's queue is full
     * (queue_capacity; the rest waits for it to drain) */
    mc_pick_ctx c = {session, mc->instr, mc->side};
    uint32_t n;
    uint64_t end = brs__fix_cancel_slice(g, mc->after, UINT64_MAX, UINT64_MAX, per, 1, mc_matches, &c, &n);
    if (end == mc->after)
        return 0; /* the queue is full: nothing done, nothing journaled */
    mc->after = end;
    if (end == UINT64_MAX)
        mc_done(g, mc);
    /* journaled with the OrderID it reached, so a replay cancels exactly these */
    char rec[8];
    memcpy(rec, &end, 8);
    brs__fix_journal_append(g, session | JOURNAL_MC_SLICE, rec, sizeof rec);
    brs__fix_md_publish(g);
    brs__fix_evq_step_end(g); /* as its replay does */
    return n;
}

void brs__fix_mc_replay_slice(brs__fix_gateway *g, uint32_t session, uint64_t end)
{
    brs__fix_mc *mc = session < g->n_mc ? &g->mc[session] : NULL;
    if (mc && mc->active)
        cancel_range(g, session, mc, end);
    brs__fix_md_publish(g); /* as the live slice did: the hosted strategies see the books */
    brs__fix_evq_step_end(g); /* as the live slice did */
}

/* OrderMassCancelRequest (q): MassCancelRequestType 1 (one security, by
 * Symbol) or 7 (all orders), optionally one Side, over the requesting
 * session's open orders. The OrderMassCancelReport (r) comes first, with
 * TotalAffectedOrders, then an ExecutionReport Canceled per order under its
 * own ClOrdID (streamed over loop turns when g->mc_per_turn is set). Other
 * request types are refused (MassCancelResponse 0, MassCancelRejectReason 0:
 * not supported; 1: unknown security). */
void brs__fix_on_mass_cancel(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
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
    mc_pick_ctx pc = {s->index, instr, side};
    if (reject < 0)
        for (uint64_t i = 0; i < g->n_orders; i++)
            affected += mc_matches(&g->orders[i], &pc);
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
    if (reject >= 0 || !affected)
        return;
    brs__fix_mc *mc = mc_of(g, s->index);
    if (!mc)
        return; /* out of memory: the report said how many; nothing cancelled */
    if (!mc->active)
        g->n_mc_active++;
    mc->active = 1;
    mc->after = 0;
    mc->instr = instr;
    mc->side = side;
    /* streamed: the slices follow as journal records of their own; a journal
     * of before slicing (no flag) or a gateway without a loop runs it whole */
    int sliced = g->replaying ? (g->replay_flags & JOURNAL_MC_SLICED) != 0 : g->mc_per_turn != 0;
    if (sliced) {
        g->jflags |= JOURNAL_MC_SLICED;
        if (!g->replaying && affected > g->mc_per_turn)
            BRS_LOG(BRS_LOG_INFO, "fix", "mass cancel streams over loop turns (max_cancels_per_turn)",
                    BRS_KV_S("session", s->cfg.target), BRS_KV_U("orders", affected),
                    BRS_KV_U("per_turn", g->mc_per_turn));
        return;
    }
    cancel_range(g, s->index, mc, UINT64_MAX);
}
