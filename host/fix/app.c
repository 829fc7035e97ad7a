/* app.c: the FIX application, a translator onto the runtime (host/runtime):
 * order entry, execution reports (their encoding: app_er.c; streaming:
 * app_reports.c), cancel rejects (the order table:
 * app_table.c; the journal: app_journal.c; start and stop: app_setup.c;
 * market data: app_md.c). Business problems (unknown symbol, bad tick,
 * duplicate ClOrdID) are answered with ExecutionReport Rejected or
 * OrderCancelReject; malformed enumerations with a session Reject (373=5). */
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

/* ---- outbound messages ------------------------------------------------------ */

/* The Text (58) of a reject or cancel for an engine reason: words a desk can
 * read, not the internal code name. */
static const char *reason_text(int rc)
{
    switch (rc) {
    case BRS_E_RANGE: return "the price level's total quantity would pass its limit";
    case BRS_E_NOLIQUIDITY: return "no liquidity for the rest of the order";
    case BRS_E_LIMIT: return "the venue's order capacity is full";
    case BRS_E_EXISTS: return "duplicate order id";
    case BRS_E_INVAL: return "invalid order";
    case BRS_E_AGAIN: return "the venue is busy (runtime queue full): try again";
    default: return brs_strerror(rc);
    }
}

void brs__fix_enc_price(brs__fix_gateway *g, brs__fix_enc *e, uint32_t tag, uint32_t instr, int64_t px)
{
    brs__fix_enc_decimal(e, tag, px, g->instr[instr].decimals);
}

/* An execution on order o: numbered now (a replay numbers the same), then
 * reported to its session, or queued behind what its queue holds or past the
 * message's budget (app_reports.c; a replay rebuilds the queue). */
static void send_er(brs__fix_gateway *g, brs__fix_order *o, char exec_type, const char *clordid,
                    const char *orig, int64_t last_px, int64_t last_qty, const char *text)
{
    uint64_t exec_id = ++g->next_exec_id;
    brs__fix_session *s = brs__fix_session_of(g, o->session);
    if (!s)
        return;
    int queue = brs__fix_erq_wants(g, o->session);
    if (g->replaying && !queue)
        return;
    brs__fix_er r;
    brs__fix_er_of(g, s, o, &r, exec_id, exec_type, clordid, orig, last_px, last_qty, text);
    if (queue)
        brs__fix_erq_push(g, o->session, &r);
    else
        brs__fix_er_deliver(g, s, &r);
}

void brs__fix_gateway_observe_latency(brs__fix_gateway *g)
{
    if (!g->lat_ack.n && !g->lat_fill.n)
        return;
    int64_t now = brs__realtime_ns();
    brs__latq_observe(&g->lat_ack, g->h_ack, now);
    brs__latq_observe(&g->lat_fill, g->h_fill, now);
}

/* An ExecutionReport about an order that does not exist (OrderID NONE, nothing
 * open or done): the request's ClOrdID and `echo` tags as the client sent them,
 * OrdStatus 8 with OrdRejReason `reason`; OrdStatusReqID (790) echoed if any. */
static void er_no_order(brs__fix_session *s, const brs__fix_msg *m, uint64_t exec_id,
                        char exec_type, const uint32_t *echo, size_t n_echo, int reason,
                        const char *text)
{
    /* ascending tag order, as in encode_er; echo[]: ascending tags, all below 58 */
    brs__fix_enc *e = brs__fix_session_begin(s, "8");
    const brs__fix_field *f;
    brs__fix_enc_int(e, 6, 0);
    if ((f = brs__fix_get(m, 11)))
        brs__fix_enc_mem(e, 11, brs__fix_val(m, f), f->len);
    brs__fix_enc_int(e, 14, 0);
    brs__fix_enc_int(e, 17, (int64_t)exec_id);
    brs__fix_enc_str(e, 37, "NONE");
    size_t k = 0;
    for (; k < n_echo && echo[k] < 39; k++)
        if ((f = brs__fix_get(m, echo[k])))
            brs__fix_enc_mem(e, echo[k], brs__fix_val(m, f), f->len);
    brs__fix_enc_char(e, 39, '8');
    for (; k < n_echo; k++) /* all below 58 */
        if ((f = brs__fix_get(m, echo[k])))
            brs__fix_enc_mem(e, echo[k], brs__fix_val(m, f), f->len);
    brs__fix_enc_str(e, 58, text);
    brs__fix_enc_time(e, 60, s->now);
    brs__fix_enc_int(e, 103, reason);
    brs__fix_enc_char(e, 150, exec_type);
    brs__fix_enc_int(e, 151, 0);
    if ((f = brs__fix_get(m, 790)))
        brs__fix_enc_mem(e, 790, brs__fix_val(m, f), f->len);
    brs__fix_session_send(s);
}

/* ExecutionReport Rejected for an order that never existed. */
static void reject_new(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m,
                       int reason, const char *text)
{
    uint64_t exec_id = ++g->next_exec_id;
    static const uint32_t echo[] = {38, 40, 54, 55};
    if (!g->replaying) {
        g->st.rejects++;
        g->rej_session = s->index;
        brs__fix_str(m, 11, g->rej_clordid, sizeof g->rej_clordid);
        snprintf(g->rej_text, sizeof g->rej_text, "%s", text ? text : "");
        er_no_order(s, m, exec_id, '8', echo, BRS__ARRAY_LEN(echo), reason, text);
    }
}

static void cancel_reject(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m,
                          const brs__fix_order *o, char response_to, int reason, const char *text)
{
    if (g->replaying)
        return;
    brs__fix_enc *e = brs__fix_session_begin(s, "9");
    const brs__fix_field *f;
    if ((f = brs__fix_get(m, 11)))
        brs__fix_enc_mem(e, 11, brs__fix_val(m, f), f->len);
    if (o)
        brs__fix_enc_int(e, 37, (int64_t)o->id);
    else
        brs__fix_enc_str(e, 37, "NONE");
    brs__fix_enc_char(e, 39, o ? o->status : '8');
    if ((f = brs__fix_get(m, 41)))
        brs__fix_enc_mem(e, 41, brs__fix_val(m, f), f->len);
    brs__fix_enc_str(e, 58, text);
    brs__fix_enc_int(e, 102, reason);
    brs__fix_enc_char(e, 434, response_to);
    brs__fix_session_send(s);
}

/* ---- engine events ---------------------------------------------------------- */

static char status_of(const brs__fix_order *o)
{
    if (o->leaves == 0 && o->cum >= o->qty)
        return '2';
    return o->cum > 0 ? '1' : '0';
}

static void event_apply(brs__fix_gateway *g, brs__fix_order *o, const brs_order_event *ev);

/* The runtime's report of one of a session's orders (every session client's
 * xOnOrder; order_id is the OrderID): taken into the order state now, or
 * queued when the session took its share of the step (app_events.c). */
void brs__fix_on_event(void *ctx, const brs_order_event *ev)
{
    brs__fix_gateway *g = ctx;
    g->stat_events++;
    brs__fix_order *o = brs__fix_order_by_id(g, ev->order_id);
    if (!o)
        return;
    if (g->restoring) { /* a snapshot's order resting again: not news to anyone */
        if (!g->restore_kind)
            g->restore_kind = ev->kind;
        return;
    }
    if ((g->evq_per_turn | g->evq_replay_budget | g->n_evq_active) && brs__fix_evq_defer(g, o->session, ev))
        return;
    event_apply(g, o, ev);
}

void brs__fix_event_apply(brs__fix_gateway *g, const brs_order_event *ev)
{
    brs__fix_order *o = brs__fix_order_by_id(g, ev->order_id);
    if (o)
        event_apply(g, o, ev);
}

static void event_apply(brs__fix_gateway *g, brs__fix_order *o, const brs_order_event *ev)
{
    if (ev->kind == BRS_OEV_REJECTED && !o->open && o->status == '8')
        return; /* the venue's refusal and the runtime's report of it, as journals before
                 * 2026-12-07 hold them (the runtime now passes one): one reject */
    int expiry = ev->kind == BRS_OEV_CANCELLED && (g->expiring || o->expiry);
    if (g->eod_phase && !expiry) /* an old day's order changed in the new day: kept (app_eod.c) */
        brs__fix_eod_touch(g, o);
    /* positions are followed with or without limits, so a snapshot always
     * holds them and limits turned on after a restart start from the truth */
    brs_risk *rk = o->session < g->n_sessions ? &g->risk[o->session] : NULL;
    if (rk) {
        switch (ev->kind) {
        case BRS_OEV_ACCEPTED: brs__risk_on_open(rk, o->instrument, o->side, ev->qty); break;
        case BRS_OEV_FILL:
            brs__risk_on_fill(rk, o->instrument, o->side, ev->qty);
            brs__risk_set_ref(rk, o->instrument, ev->price);
            break;
        case BRS_OEV_CANCELLED: brs__risk_on_close(rk, o->instrument, o->side, ev->qty); break;
        case BRS_OEV_REPLACED:
            brs__risk_on_close(rk, o->instrument, o->side, o->leaves);
            brs__risk_on_open(rk, o->instrument, o->side, ev->leaves);
            break;
        default: break;
        }
    }
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
        o->leaves = ev->leaves;
        o->status = '0';
        o->prio = ++g->prio_seq;
        brs__fix_set_open(g, o, 1);
        if (o->tif == BRS_DAY && g->eod_phase == BRS__FIX_EOD_EXPIRE) /* an old day's, in flight: */
            brs__fix_eod_note(g, o); /* the old day's bounds again (else it was noted when sent) */
        send_er(g, o, '0', NULL, NULL, 0, 0, NULL);
        break;
    case BRS_OEV_FILL:
        if (ev->liquidity == BRS_LIQ_MAKER && g->n_trade_subs && !g->replaying)
            brs__fix_md_keep_trade(g, o->instrument, ev->venue, ev->price, ev->qty); /* once per trade: the maker's side */
        o->cum += ev->qty; /* the engine reports open quantity; cumulative is ours */
        o->leaves = ev->leaves;
        o->notional += (__int128)ev->price * ev->qty;
        o->status = status_of(o);
        if (g->live)
            brs__live_fill(g->live, o->session, o->instrument, o->side, ev->price, ev->qty, o->id, o->clordid,
                           ev->venue, g->replaying ? 0 : brs__rt_now(g->rt), g->replaying);
        if (o->leaves == 0)
            brs__fix_set_open(g, o, 0);
        g->fill_venue = g->last_mkt ? brs__rt_venue_name(g->rt, ev->venue) : NULL;
        send_er(g, o, 'F', NULL, NULL, ev->price, ev->qty, NULL);
        g->fill_venue = NULL;
        break;
    case BRS_OEV_CANCELLED: {
        o->leaves = 0;
        brs__fix_set_open(g, o, 0);
        o->status = '4';
        if (expiry) { /* FIX 4.4: ExecType and OrdStatus C (Expired), also after a cancel latency */
            o->status = 'C';
            send_er(g, o, 'C', NULL, NULL, 0, 0, "DAY order expired at the end of the day");
        } else if (g->req_order == o->id && g->req_clordid) {
            const char *orig = g->req_orig;
            char prev[BRS__FIX_CLORDID_MAX], was[BRS__FIX_CLORDID_MAX];
            snprintf(prev, sizeof prev, "%s", orig ? orig : o->clordid);
            snprintf(was, sizeof was, "%s", o->clordid);
            snprintf(o->clordid, sizeof o->clordid, "%s", g->req_clordid);
            brs__fix_map_put(g, o->session, o->clordid, brs__fix_slot_ref(g, o));
            brs__fix_forget_link(g, o, was);
            send_er(g, o, '4', NULL, prev, 0, 0, NULL);
        } else {
            send_er(g, o, '4', NULL, NULL, 0, 0, ev->reason ? reason_text(ev->reason) : NULL);
        }
        break;
    }
    case BRS_OEV_REPLACED: {
        char prev[BRS__FIX_CLORDID_MAX];
        snprintf(prev, sizeof prev, "%s", o->clordid);
        if (ev->price != o->price || ev->leaves > o->leaves)
            o->prio = ++g->prio_seq; /* it lost its place in the queue */
        o->price = ev->price;
        if (o->tif == BRS_DAY)
            brs__fix_eod_note(g, o);
        o->qty = ev->qty + o->cum0; /* the venue counts from the snapshot's cum */
        o->leaves = ev->leaves;
        o->status = status_of(o);
        if (g->req_order == o->id && g->req_clordid) {
            snprintf(o->clordid, sizeof o->clordid, "%s", g->req_clordid);
            brs__fix_map_put(g, o->session, o->clordid, brs__fix_slot_ref(g, o));
            brs__fix_forget_link(g, o, prev);
        }
        send_er(g, o, '5', NULL, prev, 0, 0, NULL);
        break;
    }
    case BRS_OEV_REJECTED:
        brs__fix_set_open(g, o, 0);
        o->status = '8';
        o->leaves = 0;
        send_er(g, o, '8', NULL, NULL, 0, 0, reason_text(ev->reason));
        break;
    default: break;
    }
}

/* ---- order entry --------------------------------------------------------------- */

/* What the runtime has due by now reaches the sessions: with zero latencies
 * every event an order entry causes comes back inside the request. */
void brs__fix_pump(brs__fix_gateway *g, int64_t now)
{
    brs__rt_advance(g->rt, now);
}

uint32_t brs__fix_client_of(const brs__fix_gateway *g, uint32_t session)
{
    return session < g->n_sessions ? g->client[session] : UINT32_MAX; /* no such client */
}

static int new_order(brs__fix_gateway *g, brs__fix_order **out)
{
    int rc = brs__fix_add_slot(g, g->last_order_id + 1, out);
    if (rc == BRS_OK)
        g->last_order_id++;
    return rc;
}

/* Side, OrdType, TimeInForce as enums, or a session Reject (returns -1). */
static int read_enums(brs__fix_session *s, const brs__fix_msg *m, uint8_t *side, uint8_t *type,
                      uint8_t *tif, int need_type)
{
    char c = brs__fix_char(m, 54);
    if (c != '1' && c != '2') {
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 54, "Side must be 1 or 2");
        return -1;
    }
    *side = c == '1' ? BRS_BUY : BRS_SELL;
    if (need_type) {
        c = brs__fix_char(m, 40);
        if (c != '1' && c != '2') {
            brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 40, "OrdType must be 1 or 2");
            return -1;
        }
        *type = c == '1' ? BRS_MARKET : BRS_LIMIT;
        c = brs__fix_get(m, 59) ? brs__fix_char(m, 59) : '0';
        switch (c) {
        case '0': *tif = BRS_DAY; break;
        case '1': *tif = BRS_GTC; break;
        case '3': *tif = BRS_IOC; break;
        case '4': *tif = BRS_FOK; break;
        default:
            brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 59, "TimeInForce must be 0, 1, 3 or 4");
            return -1;
        }
    }
    return 0;
}

/* Price (when a limit) and quantity, checked against the instrument. */
static const char *read_px_qty(brs__fix_gateway *g, const brs__fix_msg *m, uint32_t instr,
                               uint8_t type, int64_t *px, int64_t *qty)
{
    const brs__fix_instr *in = &g->instr[instr];
    if (brs__fix_decimal(m, 38, 0, qty) != 1 || *qty <= 0)
        return "OrderQty must be a positive whole number";
    if (*qty % in->lot_size)
        return "OrderQty is not a multiple of the lot size";
    *px = 0;
    if (type == BRS_LIMIT) {
        int r = brs__fix_decimal(m, 44, in->decimals, px);
        if (r == 0)
            return "Price required for a limit order";
        if (r < 0 || *px <= 0)
            return "Price malformed or finer than the instrument's price scale";
        if (*px % in->tick_size)
            return "Price is not a multiple of the tick size";
    }
    return NULL;
}

/* The pre-trade checks on a new order (replaced NULL) or on the new version of
 * `replaced`. Replaying the journal, the decision taken live stands, whatever
 * the limits and the clock are now. */
static int risk_refused(brs__fix_gateway *g, const brs__fix_session *s, const brs_order *chk,
                        const brs__fix_order *replaced, brs_error *rerr)
{
    if (g->replaying) {
        snprintf(rerr->msg, sizeof rerr->msg, "refused by a pre-trade risk check");
        return (g->replay_flags & JOURNAL_RISK_REFUSED) != 0;
    }
    if (!g->risk_on)
        return 0;
    brs_risk *r = &g->risk[s->index];
    int rc = replaced ? brs__risk_check_replace(r, chk, replaced->leaves, replaced->cum, s->now, rerr)
                      : brs__risk_check(r, chk, s->now, rerr);
    return rc != BRS_OK;
}

static void on_new_order(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    uint8_t side, type, tif;
    if (read_enums(s, m, &side, &type, &tif, 1) < 0)
        return;
    const brs__fix_field *cl = brs__fix_get(m, 11);
    if (cl->len >= BRS__FIX_CLORDID_MAX) {
        reject_new(g, s, m, 99, "ClOrdID too long");
        return;
    }
    brs__fix_clmap_entry *known = brs__fix_map_find(g, s->index, brs__fix_val(m, cl), cl->len);
    if (known) {
        /* a possible duplicate (PossDupFlag or PossResend Y) of an order we
         * have: never applied twice; the client gets the order as it stands */
        if (brs__fix_char(m, 43) == 'Y' || brs__fix_char(m, 97) == 'Y') {
            g->no_journal = 1;
            if (!g->replaying)
                brs__fix_encode_er(g, s, &g->orders[known->order - 1], 0, 'I', NULL, NULL, 0, 0,
                          "possible duplicate of a known order: its current state", NULL);
            return;
        }
        reject_new(g, s, m, 6, "duplicate ClOrdID");
        return;
    }
    if (brs__fix_closed_dup(g, s->index, brs__fix_val(m, cl), cl->len)) {
        reject_new(g, s, m, 6, "duplicate ClOrdID (an order closed earlier today)");
        return;
    }
    const brs__fix_field *sym = brs__fix_get(m, 55);
    int instr = brs__fix_find_instr(g, brs__fix_val(m, sym), sym->len);
    if (instr < 0) {
        reject_new(g, s, m, 1, "unknown symbol");
        return;
    }
    int64_t px, qty;
    const char *why = read_px_qty(g, m, (uint32_t)instr, type, &px, &qty);
    if (why) {
        reject_new(g, s, m, 99, why);
        return;
    }
    brs_error rerr = {0};
    brs_order chk = {.instrument = (uint32_t)instr, .account = s->index, .price = px, .qty = qty,
                     .side = side, .type = type, .tif = tif};
    if (risk_refused(g, s, &chk, NULL, &rerr)) {
        g->jflags |= JOURNAL_RISK_REFUSED;
        if (!g->replaying)
            g->st.risk_refusals++;
        reject_new(g, s, m, 3, rerr.msg); /* 3: order exceeds limit */
        return;
    }
    brs__fix_order *o;
    if (new_order(g, &o) != BRS_OK) {
        reject_new(g, s, m, 99, "out of memory");
        return;
    }
    o->session = s->index;
    o->instrument = (uint32_t)instr;
    memcpy(o->clordid, brs__fix_val(m, cl), cl->len);
    o->clordid[cl->len] = 0;
    o->side = side;
    o->ord_type = type;
    o->tif = tif;
    o->price = px;
    o->qty = qty;
    o->entered_ns = g->replaying ? 0 : s->now;
    o->leaves = qty;
    o->status = '0';
    brs__fix_map_put(g, s->index, o->clordid, brs__fix_slot_ref(g, o));
    g->stat_orders++;
    brs_order ord = {0};
    ord.id = o->id;
    ord.instrument = (uint32_t)instr;
    ord.account = s->index;
    ord.price = px;
    ord.qty = qty;
    ord.side = side;
    ord.type = type;
    ord.tif = tif;
    ord.ts = s->now;
    if (tif == BRS_DAY) /* its price bounds the day's DAY orders from now, on its way too (app_eod.c) */
        brs__fix_eod_note(g, o);
    int after = 0; /* the old day's DAY orders it would meet expire first, their cancels ahead of it */
    if (g->eod_gate && (after = brs__fix_eod_expire_crossed(g, (uint32_t)instr, side,
                                                                               type != BRS_LIMIT, px)))
        brs__rt_after_sent(g->rt, 1);
    g->own_submit = 1;
    int rc = brs__rt_submit(g->rt, brs__fix_client_of(g, s->index), &ord);
    g->own_submit = 0;
    if (after)
        brs__rt_after_sent(g->rt, 0);
    if (rc == BRS_OK)
        brs__fix_pump(g, s->now);
    if (rc != BRS_OK) {
        o->status = '8';
        o->leaves = 0;
        brs__fix_set_open(g, o, 0);
        send_er(g, o, '8', NULL, NULL, 0, 0, reason_text(rc));
    }
}

static brs__fix_order *find_orig(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    const brs__fix_field *f = brs__fix_get(m, 41);
    brs__fix_clmap_entry *e = brs__fix_map_find(g, s->index, brs__fix_val(m, f), f->len);
    return e ? &g->orders[e->order - 1] : NULL;
}

/* The order a cancel ('1') or replace ('2') request names, if it may still be
 * changed under the request's new ClOrdID; otherwise the OrderCancelReject
 * (CxlRejReason 1 unknown, 6 duplicate ClOrdID, 0 too late) is sent and NULL
 * returned. */
static brs__fix_order *amend_target(brs__fix_gateway *g, brs__fix_session *s,
                                    const brs__fix_msg *m, char response_to, const char *too_late)
{
    brs__fix_order *o = find_orig(g, s, m);
    const brs__fix_field *cl = brs__fix_get(m, 11);
    if (!o) {
        cancel_reject(g, s, m, NULL, response_to, 1, "unknown order");
        return NULL;
    }
    if (cl->len >= BRS__FIX_CLORDID_MAX || brs__fix_map_find(g, s->index, brs__fix_val(m, cl), cl->len) ||
        brs__fix_closed_dup(g, s->index, brs__fix_val(m, cl), cl->len)) {
        cancel_reject(g, s, m, o, response_to, 6, "duplicate or too long ClOrdID");
        return NULL;
    }
    if (!o->open) {
        cancel_reject(g, s, m, o, response_to, 0, too_late);
        return NULL;
    }
    return o;
}

static void on_cancel(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    brs__fix_order *o = amend_target(g, s, m, '1', "too late to cancel");
    if (!o)
        return;
    char clordid[BRS__FIX_CLORDID_MAX], orig[BRS__FIX_CLORDID_MAX];
    brs__fix_str(m, 11, clordid, sizeof clordid);
    brs__fix_str(m, 41, orig, sizeof orig);
    g->req_clordid = clordid;
    g->req_orig = orig;
    g->req_order = o->id;
    int rc = brs__rt_cancel(g->rt, brs__fix_client_of(g, s->index), o->id);
    if (rc == BRS_OK)
        brs__fix_pump(g, s->now);
    g->req_clordid = g->req_orig = NULL;
    g->req_order = 0;
    if (rc != BRS_OK)
        cancel_reject(g, s, m, o, '1', rc == BRS_E_UNKNOWNORDER ? 0 : 99, reason_text(rc));
}

static void on_replace(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    uint8_t side, type, tif;
    if (read_enums(s, m, &side, &type, &tif, 1) < 0)
        return;
    brs__fix_order *o = amend_target(g, s, m, '2', "too late to replace");
    if (!o)
        return;
    if (brs__fix_eod_expire_order(g, o)) { /* a DAY order of the old day expires, it does not change */
        cancel_reject(g, s, m, o, '2', 0, "too late to replace: a DAY order of the old day expires");
        return;
    }
    if (side != o->side || type != o->ord_type || type != BRS_LIMIT) {
        cancel_reject(g, s, m, o, '2', 99, "only price and quantity of a limit order can change");
        return;
    }
    int64_t px, qty;
    const char *why = read_px_qty(g, m, o->instrument, type, &px, &qty);
    if (!why && qty <= o->cum)
        why = "new quantity not above the filled quantity";
    if (why) {
        cancel_reject(g, s, m, o, '2', 99, why);
        return;
    }
    brs_error rerr = {0};
    brs_order chk = {.instrument = o->instrument, .account = s->index, .price = px, .qty = qty,
                     .side = side, .type = type, .tif = o->tif};
    if (risk_refused(g, s, &chk, o, &rerr)) { /* the order stays; CxlRejReason 2: exchange option */
        g->jflags |= JOURNAL_RISK_REFUSED;
        if (!g->replaying)
            g->st.risk_refusals++;
        cancel_reject(g, s, m, o, '2', 2, rerr.msg);
        return;
    }
    int after = 0; /* as for a new order: what it would meet expires first */
    if (g->eod_gate && (after = brs__fix_eod_expire_crossed(g, o->instrument, o->side, 0, px)))
        brs__rt_after_sent(g->rt, 1);
    char clordid[BRS__FIX_CLORDID_MAX], orig[BRS__FIX_CLORDID_MAX];
    brs__fix_str(m, 11, clordid, sizeof clordid);
    brs__fix_str(m, 41, orig, sizeof orig);
    g->req_clordid = clordid;
    g->req_orig = orig;
    g->req_order = o->id;
    int rc = brs__rt_replace(g->rt, brs__fix_client_of(g, s->index), o->id, px, qty - o->cum0);
    if (after)
        brs__rt_after_sent(g->rt, 0);
    if (rc == BRS_OK)
        brs__fix_pump(g, s->now);
    g->req_clordid = g->req_orig = NULL;
    g->req_order = 0;
    if (rc != BRS_OK)
        cancel_reject(g, s, m, o, '2', rc == BRS_E_UNKNOWNORDER ? 0 : 99, reason_text(rc));
}

/* OrderStatusRequest (H): the order named by ClOrdID (its latest, or any
 * earlier one of its chain) or by OrderID, as it stands now: an
 * ExecutionReport with ExecType I and ExecID 0 (FIX 4.4: no execution), the
 * OrdStatusReqID echoed. Unknown: OrdStatus 8 with OrdRejReason 5. Read-only:
 * neither journaled nor numbered, so replay is unaffected. */
static void on_status_request(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    const brs__fix_order *o = NULL;
    const brs__fix_field *cl = brs__fix_get(m, 11);
    uint64_t oid;
    if (brs__fix_uint(m, 37, &oid) == 1 && (o = brs__fix_order_by_id(g, oid)) &&
        (o->session != s->index || (g->eod_phase && brs__fix_eod_gone(g, o))))
        o = NULL; /* (an old day's order gone while the end of day's steps run: app_eod.c) */
    if (!o) {
        brs__fix_clmap_entry *e = brs__fix_map_find(g, s->index, brs__fix_val(m, cl), cl->len);
        if (e)
            o = &g->orders[e->order - 1];
    }
    if (o) {
        brs__fix_encode_er(g, s, o, 0, 'I', NULL, NULL, 0, 0, NULL, m);
        return;
    }
    static const uint32_t echo[] = {54, 55};
    er_no_order(s, m, 0, 'I', echo, BRS__ARRAY_LEN(echo), 5, "unknown order"); /* 5: unknown order */
}

static void business_reject(brs__fix_session *s, const brs__fix_msg *m, int reason, const char *text)
{
    brs__fix_enc *e = brs__fix_session_begin(s, "j");
    brs__fix_enc_int(e, 45, m->seq);
    brs__fix_enc_str(e, 372, m->msgtype);
    brs__fix_enc_int(e, 380, reason);
    brs__fix_enc_str(e, 58, text);
    brs__fix_session_send(s);
}

/* A PossDup NewOrderSingle below the expected MsgSeqNum was processed before:
 * it is not applied again; if it made an order, the client gets its state. */
void brs__fix_on_dup(void *app, brs__fix_session *s, const brs__fix_msg *m)
{
    brs__fix_gateway *g = app;
    const brs__fix_field *cl = brs__fix_get(m, 11);
    if (g->replaying || strcmp(m->msgtype, "D") != 0 || !cl)
        return;
    brs__fix_clmap_entry *e = brs__fix_map_find(g, s->index, brs__fix_val(m, cl), cl->len);
    if (e)
        brs__fix_encode_er(g, s, &g->orders[e->order - 1], 0, 'I', NULL, NULL, 0, 0,
                  "possible duplicate of a known order: its current state", NULL);
}

static int on_app(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m);

void brs__fix_gateway_on_app(void *app, brs__fix_session *s, const brs__fix_msg *m)
{
    brs__fix_gateway *g = app;
    g->jflags = 0;
    g->no_journal = 0;
    brs__fix_pump(g, s->now); /* the runtime's clock is this message's: what was due goes first */
    /* the message's reports past max_reports_per_turn per session queue up
     * (app_reports.c): counted from here, live and replayed alike */
    brs__fix_erq_window(g, 1);
    int journal = on_app(g, s, m);
    if (journal) {
        /* journaled after processing, with its decisions; it still reaches the
         * file before any reply reaches the wire (brs__fix_gateway_flush) */
        brs__fix_journal_clock(g, s->now); /* the time it ran at: a replay runs it then */
        brs__fix_erq_journal_budget(g); /* its reports queued past a budget: the budget, for a replay */
        brs__fix_journal_append(g, s->index | g->jflags, m->buf, m->len);
        brs__fix_md_publish(g);
        brs__fix_evq_step_end(g); /* live and replayed alike */
    }
    brs__fix_erq_window(g, 0);
}

/* The message's work; returns nonzero when it is journaled. */
static int on_app(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    const char *mt = m->msgtype;
    uint64_t rejects = s->rejects;
    /* the runtime's queue holds queue_capacity actions in flight: an order
     * action now is refused whole before it changes anything (never journaled,
     * so a replay, which admits everything, does not see it) */
    if (!g->replaying && brs__rt_busy(g->rt) &&
        (strcmp(mt, "D") == 0 || strcmp(mt, "F") == 0 || strcmp(mt, "G") == 0 || strcmp(mt, "q") == 0) &&
        brs__rt_admit(g->rt) != BRS_OK) { /* counted and logged (key=queue_capacity) */
        g->st.busy_refusals++;
        business_reject(s, m, 4, "venue busy: the runtime queue is full (queue_capacity); try again");
        return 0;
    }
    if (strcmp(mt, "D") == 0)
        on_new_order(g, s, m);
    else if (strcmp(mt, "F") == 0)
        on_cancel(g, s, m);
    else if (strcmp(mt, "G") == 0)
        on_replace(g, s, m);
    else if (strcmp(mt, "q") == 0)
        brs__fix_on_mass_cancel(g, s, m);
    else if (strcmp(mt, "H") == 0) {
        if (!g->replaying)
            on_status_request(g, s, m);
        return 0;
    } else if (strcmp(mt, "V") == 0) {
        if (!g->replaying)
            brs__fix_md_request(g, s, m);
        return 0;
    } else {
        if (!g->replaying)
            business_reject(s, m, 3, "unsupported message type");
        return 0;
    }
    /* refused by a session-level Reject: it changed nothing, and replaying it
     * would send that Reject again */
    return s->rejects == rejects && !g->no_journal;
}
