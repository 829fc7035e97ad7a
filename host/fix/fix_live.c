/* fix_live.c: fills the live dashboard's snapshot from the FIX gateway at the
 * loop's 100 ms metrics tick: sessions and their sequence numbers, each
 * venue's top of book of every instrument (host/runtime), and the newest open orders (the order
 * table is scanned backwards over at most SCAN slots, and no further than it
 * takes to find as many as are open: the cost is bounded however many orders
 * the day holds, and nothing is read when none is open). */
#include "fix/fix_live.h"

#include <stdio.h>
#include <string.h>

#define SCAN 4096

static const char *state_name(int st)
{
    switch (st) {
    case BRS__FIX_ACTIVE: return "logged on";
    case BRS__FIX_AWAIT_LOGON: return "awaiting logon";
    case BRS__FIX_LOGOUT_SENT: return "logging out";
    default: return "disconnected";
    }
}

_Static_assert(BRS__FIX_CLORDID_MAX == BRS__LIVE_CLORDID, "a fill's ClOrdID is copied whole into the tape");

static const char *venue_name(const void *ctx, uint32_t venue)
{
    const brs__fix_gateway *g = ctx;
    return brs__rt_venue_name(g->rt, venue);
}

brs__live *brs__fix_live_new(const brs__fix_gateway *g)
{
    brs__live *l = brs__live_new(g->n_sessions, g->n_instr, "bourse serve", "session");
    brs__live_set_venue_names(l, venue_name, g);
    return l;
}

void brs__fix_live_publish(brs__live *l, brs__fix_gateway *g, int64_t now_real_ns)
{
    brs__live_snap *s = brs__live_begin(l);
    if (!s)
        return;
    s->t_ns = now_real_ns;
    s->n_acc = g->n_sessions < BRS__LIVE_ACCOUNTS ? g->n_sessions : BRS__LIVE_ACCOUNTS;
    for (uint32_t i = 0; i < s->n_acc; i++) {
        const brs__fix_session *x = g->sessions[i];
        brs__live_account *a = &s->acc[i];
        snprintf(a->name, sizeof a->name, "%s", x->cfg.target);
        snprintf(a->state, sizeof a->state, "%s", state_name(x->state));
        a->up = x->state == BRS__FIX_ACTIVE;
        a->seq_in = x->store.next_in;
        a->seq_out = x->store.next_out;
    }
    s->n_instr = g->n_instr < BRS__LIVE_INSTR ? g->n_instr : BRS__LIVE_INSTR;
    uint32_t nv = brs__rt_venues(g->rt), mv = brs__rt_market_venue(g->rt);
    s->n_books = 0;
    for (uint32_t i = 0; i < s->n_instr; i++) {
        brs__live_instr *in = &s->instr[i];
        snprintf(in->symbol, sizeof in->symbol, "%s", g->instr[i].symbol);
        in->decimals = g->instr[i].decimals;
        in->bid = in->bid_qty = in->ask = in->ask_qty = 0;
        for (uint32_t v = 0; v < nv && s->n_books < BRS__LIVE_BOOKS; v++) {
            brs__live_book *bk = &s->books[s->n_books++];
            snprintf(bk->venue, sizeof bk->venue, "%s", brs__rt_venue_name(g->rt, v));
            bk->instr = i;
            bk->bid = bk->bid_qty = bk->ask = bk->ask_qty = 0;
            brs_level lv;
            uint32_t n = 0;
            if (brs__rt_depth(g->rt, v, i, BRS_BUY, &lv, 1, &n) == BRS_OK && n) {
                bk->bid = lv.price;
                bk->bid_qty = lv.qty;
            }
            n = 0;
            if (brs__rt_depth(g->rt, v, i, BRS_SELL, &lv, 1, &n) == BRS_OK && n) {
                bk->ask = lv.price;
                bk->ask_qty = lv.qty;
            }
            if (v == mv) { /* the market's top: the mark before anything traded */
                in->bid = bk->bid;
                in->bid_qty = bk->bid_qty;
                in->ask = bk->ask;
                in->ask_qty = bk->ask_qty;
            }
        }
    }
    s->open_orders = g->st.open > 0 ? (uint64_t)g->st.open : 0;
    /* newest first; done once as many are found as are open at all (with
     * nothing open, nothing is read) */
    uint32_t k = 0, want = s->open_orders < BRS__LIVE_ORDERS ? (uint32_t)s->open_orders : BRS__LIVE_ORDERS;
    uint64_t stop = g->n_orders > SCAN ? g->n_orders - SCAN : 0;
    for (uint64_t j = g->n_orders; j > stop && k < want; j--) {
        const brs__fix_order *o = &g->orders[j - 1];
        if (!o->open)
            continue;
        brs__live_order *d = &s->orders[k++];
        d->id = o->id;
        d->account = o->session;
        d->instr = o->instrument;
        snprintf(d->clordid, sizeof d->clordid, "%s", o->clordid);
        d->side = o->side;
        d->status = o->status;
        d->price = o->price;
        d->qty = o->qty;
        d->leaves = o->leaves;
        d->cum = o->cum;
    }
    s->n_orders = k;
    brs__live_publish(l);
}
