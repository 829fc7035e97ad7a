/* app_eod.c: the end of day in bounded journaled steps over loop turns
 * (bourse serve). In one loop turn, the expiry of every DAY order and the
 * forgetting of every closed order held every session for seconds with
 * millions of orders. Here:
 *
 * 1. An END_OF_DAY record (mode EOD_STEPS, with the old day's last OrderID)
 *    starts the new day: the day's forgotten ClOrdID hashes are dropped.
 * 2. The old day's open DAY orders expire a slice per loop turn in OrderID
 *    order (max_cancels_per_turn expiries, up to the old day's last OrderID),
 *    each slice journaled with the OrderID it reached (EOD_SLICE), so a replay
 *    expires exactly the same orders at the same points.
 * 3. The old day's closed orders leave memory through app_forget.c's steps in
 *    the new day's mode (no hashes kept); their end is journaled (END_OF_DAY,
 *    mode EOD_FORGOTTEN), where a replay forgets them all at once; then the
 *    journal is compacted as before (app_checkpoint.c).
 *
 * While the steps run, lookups see the new day already: an entry of the
 * ClOrdID map is passed over when it is an earlier link of an old day's
 * replace chain, or the current ClOrdID of an old day's order closed before
 * the boundary or by its expiry (brs__fix_eod_gone), so whether a forget step
 * has visited it or not changes no answer, and a replay that forgets at once
 * answers as the live steps did. An old day's DAY order a slice has not
 * reached yet never trades in the new day: a client's order or replace that
 * could meet one (its price reaches the old day's bound, brs__fix_day_px)
 * first expires the old day's DAY orders it could meet, at its message, so a
 * replay does the same. An old day's order that anything but its
 * expiry changed after the boundary (a fill, a cancel, a replace) carries the
 * end of day's tag and is kept: the new day has reported on it. ClOrdIDs made
 * earlier links during the steps become hashes at once (as during a
 * checkpoint's forgetting), live and replayed alike.
 *
 * Under the rules of END_OF_DAY mode EOD_STEPS_V2 (g->eod_v 2; a journal of
 * mode EOD_STEPS replays without them, as it ran): an old day's DAY order
 * still on its way to its venue expires too (its cancel reaches the venue
 * after it: brs__rt_after_sent), the order that caused crossing expiries
 * reaches the venue after them, and a hosted strategy's order expires what
 * it would meet first (the runtime's submit hook).
 *
 * Under EOD_STEPS_V3 (g->eod_v 3) also: an old day's DAY order, or a replace
 * of one, still on the wire to its venue when the end of day begins expires
 * at the venue on arrival without ever matching (brs__rt_day_over: New then
 * the expiry, whichever comes first of its arrival and its slice); a hosted
 * strategy's replace expires what it would meet first, as its new orders do;
 * and what could meet an old order (the market data replay, the strategies'
 * timers, WebSocket requests) waits until the last expiry has reached its
 * venue, not only until the last slice. */
#include "fix/app.h"
#include "fix/app_internal.h"

#include <string.h>

#include "core/core.h"
#include "core/log.h"

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void brs__fix_eod_begin(brs__fix_gateway *g, int64_t boundary, uint64_t last_id, int mode)
{
    g->eod_phase = BRS__FIX_EOD_EXPIRE;
    g->eod_gate = 1;
    g->eod_v = mode == EOD_STEPS_V3 ? 3 : mode == EOD_STEPS_V2 ? 2 : 1;
    if (g->eod_v >= 2) /* hosted strategies' orders while the slices run (off the order path otherwise) */
        brs__rt_set_submit_hook(g->rt, brs__fix_eod_submit_hook, g);
    if (g->eod_v >= 3) /* (EOD_STEPS_V3) and their replaces */
        brs__rt_set_replace_hook(g->rt, brs__fix_eod_submit_hook, g);
    g->eod_last_id = last_id;
    g->eod_after = 0;
    g->eod_expired = g->eod_slices = 0;
    g->eod_tag = (uint16_t)(g->eod_tag % 65535u + 1u); /* never 0: an order's tag starts at 0 */
    g->eod_t0 = brs__monotime_ns();
    g->day_boundary = boundary;
    for (uint32_t i = 0; i < g->n_instr; i++) { /* the day's DAY prices are the old day's now */
        brs__fix_day_px *d = &g->day_px[i];
        *d = (brs__fix_day_px){INT64_MIN, INT64_MAX, max64(d->buy_max, d->old_buy_max),
                               min64(d->sell_min, d->old_sell_min)};
    }
    brs__fix_clset_free(&g->closed); /* a new day: the old day's checkpoints' ClOrdIDs are free */
    if (g->eod_v >= 3) /* what is on the wire expires where it arrives */
        g->eod_expired += brs__fix_eod_wire(g, last_id);
    if (!g->replaying) {
        char rec[EOD_STEPS_LEN];
        memcpy(rec, &boundary, 8);
        rec[8] = (char)mode;
        memcpy(rec + 9, &last_id, 8);
        brs__fix_journal_append(g, JOURNAL_END_OF_DAY, rec, sizeof rec);
        BRS_LOG(BRS_LOG_INFO, "fix", "end of day: DAY orders expire and closed orders leave memory over loop turns",
                BRS_KV_U("orders_held", g->n_orders), BRS_KV_U("orders_open", (uint64_t)g->st.open),
                BRS_KV_U("last_order_id", last_id), BRS_KV_U("expiries_per_turn", g->mc_per_turn),
                BRS_KV_U("forget_per_turn", g->fg_per_turn));
    }
    brs__fix_md_publish(g); /* a journaled step, live and replayed alike */
    brs__fix_evq_step_end(g);
}

/* An order of the old day still on its way to its venue (its acknowledgement
 * not in yet) whose expiry was not sent. */
static int in_flight(const brs__fix_order *o)
{
    return !o->open && o->status == '0' && !o->expiry;
}

/* What the expiry takes (ctx: the gateway): the open DAY orders; under the
 * rules of EOD_STEPS_V2 also those on their way to a venue (the cancel reaches
 * the venue after them, brs__rt_after_sent), each once. */
static int open_day(const brs__fix_order *o, const void *ctx)
{
    const brs__fix_gateway *g = ctx;
    if (o->tif != BRS_DAY)
        return 0;
    return g->eod_v >= 2 ? (o->open && !o->expiry) || in_flight(o) : o->open;
}

/* (EOD_STEPS_V3) An expiry of this end of day may still be on the wire: the
 * latest arrival of the orders marked on it and of the expiries' cancels
 * (each sent with brs__rt_after_sent: brs__rt_after_sent_last counts both)
 * is still ahead of the runtime's clock.
 * Whatever could meet an old order then goes after them (the replay decides
 * the same: the runtime's clock and queue are). */
static int wire_pending(const brs__fix_gateway *g)
{
    return g->eod_v >= 3 && brs__rt_after_sent_last(g->rt) > brs__rt_now(g->rt);
}

/* The slices are over and nothing of theirs is on the wire: the order path's
 * test (g->eod_gate) and the runtime's hooks go. */
static void gate_off(brs__fix_gateway *g)
{
    g->eod_gate = 0;
    brs__rt_set_submit_hook(g->rt, NULL, NULL);
    brs__rt_set_replace_hook(g->rt, NULL, NULL);
}

/* brs__rt_day_over's question (user: the gateway): is this order entry or
 * replace on the wire one of an old day's DAY order of a session's? Such an
 * order is flagged: its Canceled, whenever it comes, is its expiry. */
static int over_on_wire(void *user, uint32_t client, uint64_t id, int replace)
{
    brs__fix_gateway *g = user;
    brs__fix_order *o = brs__fix_order_by_id(g, id);
    if (!o || o->tif != BRS_DAY || o->id > g->eod_last_id || brs__fix_client_of(g, o->session) != client)
        return 0;
    (void)replace; /* an order entry, or a replace of an order resting or itself on the wire */
    if (o->open || o->status == '0' || o->status == '1')
        o->expiry = 1;
    return 1;
}

uint32_t brs__fix_eod_wire(brs__fix_gateway *g, uint64_t last_id)
{
    g->eod_last_id = last_id;
    int64_t last; /* (brs__rt_after_sent_last counts them) */
    return brs__rt_day_over(g->rt, over_on_wire, g, &last);
}

void brs__fix_eod_note(brs__fix_gateway *g, const brs__fix_order *o)
{
    if (o->tif != BRS_DAY || o->ord_type != BRS_LIMIT || o->instrument >= g->n_instr)
        return;
    brs__fix_day_px *d = &g->day_px[o->instrument];
    int old = g->eod_phase == BRS__FIX_EOD_EXPIRE && o->id <= g->eod_last_id;
    int64_t *b = o->side == BRS_BUY ? (old ? &d->old_buy_max : &d->buy_max) : (old ? &d->old_sell_min : &d->sell_min);
    if (o->side == BRS_BUY ? o->price > *b : o->price < *b)
        *b = o->price;
}

/* Expires the old day's open DAY orders pick takes with OrderIDs in
 * (eod_after, end], at most `per` of them and `per` x 64 slots passed over
 * (the mass cancel's slices, brs__fix_cancel_slice): returns the OrderID
 * reached, UINT64_MAX when past the old day's last. how: g->expiring's. */
static uint64_t expire(brs__fix_gateway *g, uint64_t end, uint32_t per, int how, brs__fix_pick pick,
                       const void *ctx)
{
    uint32_t n;
    /* (nested: a hosted strategy's order sent from an event this expiry's
     * pump dispatched scans too, brs__fix_eod_submit_hook; so restored) */
    int was = g->expiring;
    g->expiring = how;
    brs__rt_admit_all(g->rt, 1); /* every DAY order expires, however full the queue */
    /* (EOD_STEPS_V2) each expiry reaches the venue after the order it expires */
    int was_after = brs__rt_after_sent(g->rt, g->eod_v >= 2);
    uint64_t reached = brs__fix_cancel_slice(g, g->eod_after, end, g->eod_last_id, per, 0, pick, ctx, &n);
    brs__rt_after_sent(g->rt, was_after);
    g->expiring = was;
    brs__rt_admit_all(g->rt, was || g->replaying);
    g->eod_expired += n;
    g->eod_crossed = n;
    return reached;
}

int brs__fix_eod_expire_order(brs__fix_gateway *g, brs__fix_order *o)
{
    if (g->eod_v >= 3 && o->expiry && o->tif == BRS_DAY && o->id <= g->eod_last_id)
        return 1; /* its expiry is on the wire already (a replace of the old day's, brs__rt_day_over) */
    if (g->eod_phase != BRS__FIX_EOD_EXPIRE || !open_day(o, g) || o->id <= g->eod_after ||
        o->id > g->eod_last_id)
        return 0;
    int was = g->expiring;
    g->expiring = 2;
    brs__rt_admit_all(g->rt, 1);
    /* (EOD_STEPS_V3) after what was sent before, so the hold knows when it is there */
    int was_after = brs__rt_after_sent(g->rt, 0);
    brs__rt_after_sent(g->rt, was_after || g->eod_v >= 3);
    g->eod_expired += (uint64_t)brs__fix_cancel_one(g, o);
    brs__rt_after_sent(g->rt, was_after);
    g->expiring = was;
    brs__rt_admit_all(g->rt, was || g->replaying);
    return 1;
}

static void slice_done(brs__fix_gateway *g, uint64_t reached)
{
    g->eod_after = reached;
    g->eod_slices++;
    if (reached != UINT64_MAX)
        return;
    g->eod_phase = BRS__FIX_EOD_FORGET;
    if (!wire_pending(g)) /* (EOD_STEPS_V3: else once the last expiry is at its venue) */
        gate_off(g);
    for (uint32_t i = 0; i < g->n_instr; i++) { /* an old day's order still in flight stays open: the day's */
        brs__fix_day_px *d = &g->day_px[i];
        *d = (brs__fix_day_px){max64(d->buy_max, d->old_buy_max), min64(d->sell_min, d->old_sell_min),
                               INT64_MIN, INT64_MAX};
    }
    if (!g->replaying) {
        BRS_LOG(BRS_LOG_INFO, "fix", "end of day: DAY orders expired",
                BRS_KV_U("expired", g->eod_expired), BRS_KV_U("loop_turns", g->eod_slices),
                BRS_KV_F("ms", (double)(brs__monotime_ns() - g->eod_t0) / 1e6));
        brs__fix_forget_start_newday(g);
    }
}

int brs__fix_gateway_eod_step(brs__fix_gateway *g)
{
    if (g->eod_phase != BRS__FIX_EOD_EXPIRE)
        return g->eod_phase != 0;
    if (g->n_evq_active)
        return 1; /* the sessions' waiting events first: an expiry meets the orders as they stand */
    uint32_t per = g->mc_per_turn ? g->mc_per_turn : UINT32_MAX;
    brs__fix_journal_clock(g, brs__rt_now(g->rt)); /* the expiries leave at this clock */
    uint64_t reached = expire(g, UINT64_MAX, per, 1, open_day, g);
    char rec[8];
    memcpy(rec, &reached, 8);
    brs__fix_journal_append(g, JOURNAL_EOD_SLICE, rec, sizeof rec);
    slice_done(g, reached);
    brs__fix_md_publish(g);
    brs__fix_evq_step_end(g); /* as its replay does */
    return 1;
}

void brs__fix_eod_replay_slice(brs__fix_gateway *g, uint64_t end)
{
    if (g->eod_phase == BRS__FIX_EOD_EXPIRE) {
        expire(g, end, UINT32_MAX, 1, open_day, g);
        slice_done(g, end); /* where the live slice said it reached */
    }
    brs__fix_md_publish(g); /* as the live slice did (the hosted strategies see the books) */
    brs__fix_evq_step_end(g);
}

/* An order of side at px (market: any price) in instrument c->instr: the
 * old day's open DAY orders it would meet. */
typedef struct crossing {
    const brs__fix_gateway *g;
    uint32_t instr;
    uint8_t side;
    int market;
    int64_t px;
} crossing;

static int crossed_day(const brs__fix_order *o, const void *ctx)
{
    const crossing *c = ctx;
    return open_day(o, c->g) && o->instrument == c->instr && o->side != c->side &&
           (c->market || (c->side == BRS_BUY ? o->price <= c->px : o->price >= c->px));
}

int brs__fix_eod_expire_crossed(brs__fix_gateway *g, uint32_t instr, uint8_t side, int market, int64_t px)
{
    /* (EOD_STEPS_V3) an expiry on the wire: what is sent now reaches the
     * venue after it (else, with a cancel latency longer than the order
     * entry one, it could meet the old order the expiry is on its way to) */
    int wire = wire_pending(g);
    if (g->eod_phase != BRS__FIX_EOD_EXPIRE) {
        if (!wire)
            gate_off(g);
        return wire;
    }
    if (instr >= g->n_instr)
        return wire;
    brs__fix_day_px *d = &g->day_px[instr];
    int64_t *b = side == BRS_BUY ? &d->old_sell_min : &d->old_buy_max;
    if (*b == (side == BRS_BUY ? INT64_MAX : INT64_MIN) ||
        (!market && (side == BRS_BUY ? *b > px : *b < px)))
        return wire; /* the old day has no DAY order it could meet: the common case, no scan */
    crossing c = {g, instr, side, market, px};
    /* every such order of the old day, however many (a match would have
     * met them all too); their events queue as a sweep's (app_events.c) */
    expire(g, UINT64_MAX, UINT32_MAX, 2, crossed_day, &c);
    if (market)
        *b = side == BRS_BUY ? INT64_MAX : INT64_MIN;
    else
        *b = side == BRS_BUY ? px + 1 : px - 1; /* none left at px or better for it */
    /* (EOD_STEPS_V2) the order goes after its expiries: with a cancel latency
     * longer than the order-entry one it reached the venue first and met them */
    return g->eod_v >= 2 && (g->eod_crossed || wire_pending(g));
}

int brs__fix_eod_submit_hook(void *user, uint32_t client, const brs_order *o)
{
    brs__fix_gateway *g = user;
    (void)client;
    if (!g->eod_gate || g->eod_v < 2 || g->own_submit)
        return 0;
    int was = g->eod_nopump;
    g->eod_nopump = 1; /* inside a runtime step (an order event's callback): the step takes the events */
    int after = brs__fix_eod_expire_crossed(g, o->instrument, o->side, o->type != BRS_LIMIT, o->price);
    g->eod_nopump = (uint8_t)was;
    return after;
}

int brs__fix_gateway_eod_holds(const brs__fix_gateway *g)
{
    if (wire_pending(g)) /* (EOD_STEPS_V3) an expiry still on the wire */
        return 1;
    if (g->eod_phase != BRS__FIX_EOD_EXPIRE)
        return 0;
    for (uint32_t i = 0; i < g->n_instr; i++)
        if (g->day_px[i].old_buy_max != INT64_MIN || g->day_px[i].old_sell_min != INT64_MAX)
            return 1;
    return 0;
}

void brs__fix_eod_forgotten(brs__fix_gateway *g)
{
    if (!g->replaying) {
        char rec[9];
        memcpy(rec, &g->day_boundary, 8);
        rec[8] = (char)EOD_FORGOTTEN;
        brs__fix_journal_append(g, JOURNAL_END_OF_DAY, rec, sizeof rec);
        BRS_LOG(BRS_LOG_INFO, "fix", "end of day: closed orders of the old day left memory",
                BRS_KV_U("orders_held", g->n_orders), BRS_KV_U("orders_open", (uint64_t)g->st.open),
                BRS_KV_U("orders_forgotten", g->fg_forgotten), BRS_KV_U("loop_turns", g->fg_steps),
                BRS_KV_F("ms", (double)(brs__monotime_ns() - g->eod_t0) / 1e6));
    }
    g->eod_phase = 0;
    if (!g->replaying) {
        brs_error err = {0};
        if (brs__fix_compact_after_day(g, &err) != BRS_OK) /* under serve: the loop starts it */
            BRS_LOG(BRS_LOG_ERROR, "fix", "end of day: journal not compacted; it stays complete "
                    "and grows until the next end of day", BRS_KV_S("reason", err.msg));
    }
}

/* The forget steps, all in one go (a replay at EOD_FORGOTTEN, a gateway without a loop). */
static void forget_all(brs__fix_gateway *g)
{
    uint32_t per = g->fg_per_turn;
    g->fg_per_turn = 0; /* no bound */
    brs__fix_forget_start_newday(g);
    while (brs__fix_gateway_forget_step(g))
        ;
    g->fg_per_turn = per;
}

void brs__fix_eod_replay_forgotten(brs__fix_gateway *g)
{
    if (g->eod_phase == BRS__FIX_EOD_FORGET && !g->fg_phase)
        forget_all(g); /* ends in brs__fix_eod_forgotten */
    g->eod_phase = 0;
}

void brs__fix_eod_resume(brs__fix_gateway *g)
{
    if (!g->eod_phase)
        return;
    BRS_LOG(BRS_LOG_INFO, "fix", "recovery: an end of day in steps goes on",
            BRS_KV_S("phase", g->eod_phase == BRS__FIX_EOD_EXPIRE ? "expiry" : "forget"),
            BRS_KV_U("expired_up_to_order_id", g->eod_after == UINT64_MAX ? g->eod_last_id : g->eod_after));
    g->eod_t0 = brs__monotime_ns();
    if (g->eod_phase == BRS__FIX_EOD_FORGET)
        brs__fix_forget_start_newday(g);
    /* (a gateway without a loop: whoever drives it steps it, as serve's loop does) */
}

/* Without a loop (tests, bench): every step at once, journaled as under serve. */
void brs__fix_eod_run_all(brs__fix_gateway *g)
{
    while (g->eod_phase == BRS__FIX_EOD_EXPIRE && !g->n_evq_active)
        brs__fix_gateway_eod_step(g);
    while (brs__fix_gateway_forget_step(g))
        ;
}
