/* app_er.c: ExecutionReports, their values and their encoding: an order's
 * report as it stands (brs__fix_er_of), encoded and stored to its session
 * (counted, latency noted: brs__fix_er_deliver), also from a report queue
 * (app_reports.c), where the values wait while a deep sweep streams. */
#include "fix/app.h"
#include "fix/app_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* AvgPx = notional / cum, with 4 more decimals than the instrument's price,
 * rounded half away from zero. Divided before it is scaled, in 128 bits, so no
 * intermediate can overflow whatever the price and quantity (issue 15: a trade
 * of 99999999999999999 @ 999999999999999.99 reported 6=-435559803729.38); when
 * the scaled value would not fit the 64-bit decimal encoder, fewer extra
 * decimals are sent rather than a wrong number. */
static void enc_avgpx(brs__fix_gateway *g, brs__fix_enc *e, const brs__fix_er *o)
{
    if (o->cum <= 0) {
        brs__fix_enc_int(e, 6, 0);
        return;
    }
    int neg = o->notional < 0;
    unsigned __int128 n = neg ? -(unsigned __int128)o->notional : (unsigned __int128)o->notional;
    unsigned __int128 c = (unsigned __int128)o->cum;
    unsigned __int128 q = n / c, r = n % c;
    int extra = 4;
    unsigned __int128 scale = 10000;
    for (;;) {
        /* r < c < 2^63 and scale <= 10^4, so r * scale * 2 < 2^79: no overflow */
        unsigned __int128 v = q * scale + (r * scale * 2 + c) / (c * 2);
        if (v <= (unsigned __int128)INT64_MAX || extra == 0) {
            if (v > (unsigned __int128)INT64_MAX)
                v = (unsigned __int128)INT64_MAX; /* |AvgPx| >= 2^63 ticks cannot happen under price limits */
            int64_t sv = neg ? -(int64_t)v : (int64_t)v;
            brs__fix_enc_decimal(e, 6, sv, g->instr[o->instrument].decimals + extra);
            return;
        }
        extra--;
        scale /= 10;
    }
}

brs__fix_session *brs__fix_session_of(brs__fix_gateway *g, uint32_t idx)
{
    return idx < g->n_sessions ? g->sessions[idx] : NULL;
}

/* The values of an ExecutionReport on order o as it stands now. */
void brs__fix_er_of(brs__fix_gateway *g, const brs__fix_session *s, const brs__fix_order *o,
                  brs__fix_er *r, uint64_t exec_id, char exec_type, const char *clordid,
                  const char *orig, int64_t last_px, int64_t last_qty, const char *text)
{
    r->order_id = o->id;
    r->exec_id = exec_id;
    r->cum = o->cum;
    r->leaves = o->leaves;
    r->qty = o->qty;
    r->price = o->price;
    r->last_px = last_px;
    r->last_qty = last_qty;
    r->now = s->now;
    r->entered_ns = o->entered_ns;
    r->notional = o->notional;
    r->clordid = clordid ? clordid : o->clordid;
    r->orig = orig;
    r->text = text;
    r->venue = exec_type == 'F' ? g->fill_venue : NULL;
    r->instrument = o->instrument;
    r->exec_type = exec_type;
    r->status = o->status;
    r->side = o->side;
    r->ord_type = o->ord_type;
}

/* An ExecutionReport from its values to session s; status_req: the
 * OrderStatusRequest answered (ExecType I: ExecID 0, OrdStatusReqID echoed). */
void brs__fix_encode_er_v(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_er *o,
                        const brs__fix_msg *status_req)
{
    /* body fields in ascending tag order (see brs__fix_session_begin) */
    brs__fix_enc *e = brs__fix_session_begin(s, "8");
    enc_avgpx(g, e, o);
    brs__fix_enc_str(e, 11, o->clordid);
    brs__fix_enc_int(e, 14, o->cum);
    brs__fix_enc_int(e, 17, (int64_t)o->exec_id);
    if (o->exec_type == 'F' && o->venue)
        brs__fix_enc_str(e, 30, o->venue); /* LastMkt: the venue it filled on */
    if (o->exec_type == 'F') {
        brs__fix_enc_price(g, e, 31, o->instrument, o->last_px);
        brs__fix_enc_int(e, 32, o->last_qty);
    }
    brs__fix_enc_int(e, 37, (int64_t)o->order_id);
    brs__fix_enc_int(e, 38, o->qty);
    brs__fix_enc_char(e, 39, o->status);
    brs__fix_enc_char(e, 40, o->ord_type == BRS_MARKET ? '1' : '2');
    if (o->orig)
        brs__fix_enc_str(e, 41, o->orig);
    if (o->ord_type != BRS_MARKET)
        brs__fix_enc_price(g, e, 44, o->instrument, o->price);
    brs__fix_enc_char(e, 54, o->side == BRS_BUY ? '1' : '2');
    brs__fix_enc_str(e, 55, g->instr[o->instrument].symbol);
    if (o->text)
        brs__fix_enc_str(e, 58, o->text);
    brs__fix_enc_time(e, 60, o->now);
    brs__fix_enc_char(e, 150, o->exec_type);
    brs__fix_enc_int(e, 151, o->leaves);
    const brs__fix_field *f;
    if (status_req && (f = brs__fix_get(status_req, 790)))
        brs__fix_enc_mem(e, 790, brs__fix_val(status_req, f), f->len);
    brs__fix_session_send(s);
}

void brs__fix_encode_er(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_order *o,
                      uint64_t exec_id, char exec_type, const char *clordid, const char *orig,
                      int64_t last_px, int64_t last_qty, const char *text,
                      const brs__fix_msg *status_req)
{
    brs__fix_er r;
    brs__fix_er_of(g, s, o, &r, exec_id, exec_type, clordid, orig, last_px, last_qty, text);
    brs__fix_encode_er_v(g, s, &r, status_req);
}

/* An order's arrival time, to be observed at the turn's end: the same time as
 * the last one noted (the same turn's) adds to its count. */
static inline void lat_note(brs__fix_gateway *g, brs__latq *q, int64_t t)
{
    if (brs__latq_full(q, t))
        brs__fix_gateway_observe_latency(g);
    brs__latq_note(q, t);
}

/* An execution's report reaches its session now: counted, its latency noted,
 * encoded and stored (from send_er, or from the session's report queue). */
void brs__fix_er_deliver(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_er *o)
{
    switch (o->exec_type) {
    case '0':
        g->st.acks++;
        if (g->h_ack && o->entered_ns)
            lat_note(g, &g->lat_ack, o->entered_ns);
        break;
    case 'F':
        g->st.fills++;
        if (g->h_fill && o->entered_ns)
            lat_note(g, &g->lat_fill, o->entered_ns);
        break;
    case '4': g->st.cancels++; break;
    case 'C': g->st.expiries++; break;
    case '5': g->st.replaces++; break;
    case '8':
        g->st.rejects++;
        g->rej_session = s->index;
        snprintf(g->rej_clordid, sizeof g->rej_clordid, "%s", o->clordid);
        snprintf(g->rej_text, sizeof g->rej_text, "%s", o->text ? o->text : "");
        break;
    default: break;
    }
    brs__fix_encode_er_v(g, s, o, NULL);
}

