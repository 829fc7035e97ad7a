/* test_sor_manager.c: the parent-order manager against real matching engines,
 * one per venue, with venue events delivered later through a queue (as latency
 * would). Failover: a venue goes down mid-order and the parent completes on the
 * others; every fill reaches the strategy exactly once; the parent never
 * over-fills; a lost order times out and is re-routed; the kill switch leaves no
 * open order. A randomized run checks the same invariants under faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book/book.h"
#include "sor/sor.h"

#define NV 3
#define OURS 1u
#define THEIRS 2u
#define QCAP 4096

typedef struct qev {
    uint32_t venue;
    brs_order_event ev;
} qev;

struct harness;
typedef struct venue {
    struct harness *h;
    uint32_t idx;
    brs_engine *e;
    int down;
    int going_down;      /* cancels now carry BRS_E_HALTED (cancel-on-disconnect) */
    int lose_next;       /* drop the next submission entirely (lost order) */
    int dup_fills;       /* report every fill twice */
    int reject_all;      /* reject submissions */
    int32_t taker_fee, maker_fee;
    int64_t lot;
    uint64_t sent[256];  /* our order ids sent here */
    int64_t cum[256];
    uint32_t n_sent;
} venue;

typedef struct harness {
    venue v[NV];
    brs_sor_mgr *m;
    brs_risk risk;
    qev q[QCAP];
    uint32_t qh, qt;
    /* what the strategy saw */
    int64_t fill_sum, last_cum;
    int fills, accepted, cancelled, rejected;
    int64_t cancelled_qty;
    int last_reason;
    brs_level lv[NV][2][10];
    uint64_t next_liq;
    struct { uint64_t id; int64_t cum; } pcum[32]; /* per parent: fills seen */
    int n_pcum;
} harness;

static void push(harness *h, uint32_t v, const brs_order_event *ev)
{
    assert_true(h->qt - h->qh < QCAP);
    h->q[h->qt++ % QCAP] = (qev){v, *ev};
}

static int64_t *cum_of(venue *v, uint64_t id)
{
    for (uint32_t i = 0; i < v->n_sent; i++)
        if (v->sent[i] == id)
            return &v->cum[i];
    return NULL;
}

static void l_accepted(void *u, const brs_order *o, int64_t price)
{
    venue *v = u;
    if (o->account != OURS)
        return;
    brs_order_event ev = {.kind = BRS_OEV_ACCEPTED, .side = o->side, .venue = v->idx,
                          .order_id = o->id, .price = price, .qty = o->qty, .leaves = o->qty};
    push(v->h, v->idx, &ev);
}

static void l_rejected(void *u, uint32_t inst, uint64_t id, int reason)
{
    (void)inst;
    venue *v = u;
    if (!cum_of(v, id))
        return;
    brs_order_event ev = {.kind = BRS_OEV_REJECTED, .venue = v->idx, .order_id = id, .reason = reason};
    push(v->h, v->idx, &ev);
}

static void l_fill(void *u, const brs_book_fill *f)
{
    venue *v = u;
    for (int k = 0; k < 2; k++) {
        uint64_t id = k ? f->taker_id : f->maker_id;
        uint32_t acct = k ? f->taker_account : f->maker_account;
        if (acct != OURS)
            continue;
        int64_t *c = cum_of(v, id);
        assert_non_null(c);
        *c += f->qty;
        int32_t fee = k ? v->taker_fee : v->maker_fee;
        brs_order_event ev = {.kind = BRS_OEV_FILL, .liquidity = k ? BRS_LIQ_TAKER : BRS_LIQ_MAKER,
                              .venue = v->idx, .order_id = id, .price = f->price, .qty = f->qty,
                              .leaves = k ? f->taker_leaves : f->maker_leaves, .cum_qty = *c,
                              .fee = f->price * f->qty * fee / 1000000};
        push(v->h, v->idx, &ev);
        if (v->dup_fills)
            push(v->h, v->idx, &ev);
    }
}

static void l_cancelled(void *u, uint32_t inst, uint64_t id, int64_t qty, int reason)
{
    (void)inst;
    venue *v = u;
    if (!cum_of(v, id))
        return;
    brs_order_event ev = {.kind = BRS_OEV_CANCELLED, .venue = v->idx, .order_id = id, .qty = qty,
                          .reason = v->going_down ? BRS_E_HALTED : reason};
    push(v->h, v->idx, &ev);
}

static int op_send(void *u, uint32_t vi, const brs_order *o)
{
    harness *h = u;
    venue *v = &h->v[vi];
    assert_true(v->n_sent < 256);
    v->sent[v->n_sent] = o->id;
    v->cum[v->n_sent++] = 0;
    assert_int_equal(o->qty % v->lot, 0);
    if (v->down || v->reject_all) {
        brs_order_event ev = {.kind = BRS_OEV_REJECTED, .venue = vi, .order_id = o->id,
                              .reason = v->down ? BRS_E_HALTED : BRS_E_REJECTED};
        push(h, vi, &ev);
        return BRS_OK;
    }
    if (v->lose_next) {
        v->lose_next = 0;
        return BRS_OK;
    }
    brs_order x = *o;
    x.account = OURS;
    brs__engine_submit(v->e, &x);
    return BRS_OK;
}

static int op_cancel(void *u, uint32_t vi, uint64_t id)
{
    harness *h = u;
    venue *v = &h->v[vi];
    if (v->down) {
        brs_order_event ev = {.kind = BRS_OEV_REJECTED, .venue = vi, .order_id = id,
                              .reason = BRS_E_HALTED};
        push(h, vi, &ev);
        return BRS_OK;
    }
    brs__engine_cancel(v->e, id); /* unknown ids come back as BRS_E_UNKNOWNORDER rejects */
    return BRS_OK;
}

static int op_books(void *u, uint32_t inst, int side, brs_sor_venue *out, uint32_t n)
{
    (void)side;
    harness *h = u;
    for (uint32_t i = 0; i < n; i++) {
        venue *v = &h->v[i];
        size_t nb = brs__engine_depth(v->e, inst, BRS_BUY, h->lv[i][0], 10);
        size_t na = brs__engine_depth(v->e, inst, BRS_SELL, h->lv[i][1], 10);
        out[i] = (brs_sor_venue){.bids = h->lv[i][0], .asks = h->lv[i][1], .n_bids = (uint32_t)nb,
                                 .n_asks = (uint32_t)na, .taker_fee_ppm = v->taker_fee,
                                 .maker_fee_ppm = v->maker_fee, .latency_ns = 0,
                                 .lot_size = v->lot, .up = 1};
    }
    return BRS_OK;
}

static void on_parent(void *u, const brs_order_event *ev)
{
    harness *h = u;
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED: h->accepted++; break;
    case BRS_OEV_FILL: {
        h->fills++;
        h->fill_sum += ev->qty;
        int k = 0;
        while (k < h->n_pcum && h->pcum[k].id != ev->order_id)
            k++;
        if (k == h->n_pcum) {
            assert_true(k < 32);
            h->pcum[h->n_pcum++].id = ev->order_id;
        }
        h->pcum[k].cum += ev->qty;
        assert_int_equal(ev->cum_qty, h->pcum[k].cum); /* one consistent stream per parent */
        h->last_cum = ev->cum_qty;
        break;
    }
    case BRS_OEV_CANCELLED:
        h->cancelled++;
        h->cancelled_qty += ev->qty;
        h->last_reason = ev->reason;
        break;
    case BRS_OEV_REJECTED:
        h->rejected++;
        h->last_reason = ev->reason;
        break;
    }
}

static harness *setup_h(int64_t timeout, int with_risk)
{
    harness *h = calloc(1, sizeof *h);
    h->next_liq = 1ull << 60;
    for (uint32_t i = 0; i < NV; i++) {
        venue *v = &h->v[i];
        v->h = h;
        v->idx = i;
        v->lot = 1;
        brs_book_listener l = {.user = v, .xAccepted = l_accepted, .xRejected = l_rejected,
                               .xFill = l_fill, .xCancelled = l_cancelled};
        brs_engine_config ec = {.max_orders = 4096, .max_instruments = 1, .window_ticks = 256};
        assert_int_equal(brs__engine_create(&v->e, &ec, &l, NULL), 0);
    }
    brs_sor_ops ops = {.user = h, .xSend = op_send, .xCancel = op_cancel, .xBooks = op_books,
                       .xParentEvent = on_parent};
    brs_sor_mgr_config mc = {.n_venues = NV, .max_parents = 16, .max_children = 64,
                             .ack_timeout_ns = timeout};
    brs__risk_init(&h->risk, NULL);
    assert_int_equal(brs__sor_mgr_create(&h->m, &mc, &ops, with_risk ? &h->risk : NULL, NULL), 0);
    return h;
}

static void teardown_h(harness *h)
{
    brs__sor_mgr_destroy(h->m);
    for (int i = 0; i < NV; i++)
        brs__engine_destroy(h->v[i].e);
    free(h);
}

/* Resting liquidity of another account. */
static void liq(harness *h, uint32_t vi, int side, int64_t price, int64_t qty)
{
    brs_order o = {.id = h->next_liq++, .price = price, .qty = qty, .side = (uint8_t)side,
                   .type = BRS_LIMIT, .tif = BRS_GTC, .account = THEIRS};
    assert_int_equal(brs__engine_submit(h->v[vi].e, &o), 0);
}

/* Deliver queued venue events (n < 0: all). */
static void deliver(harness *h, int n, int64_t now)
{
    while (h->qh != h->qt && n-- != 0) {
        qev e = h->q[h->qh++ % QCAP];
        brs__sor_on_child_event(h->m, &e.ev, now);
    }
}

static size_t our_open(harness *h)
{
    size_t n = 0;
    for (int i = 0; i < NV; i++)
        for (uint32_t k = 0; k < h->v[i].n_sent; k++) {
            brs_order_info oi;
            if (brs__engine_order(h->v[i].e, h->v[i].sent[k], &oi) == 0)
                n++;
        }
    return n;
}

static uint64_t buy(harness *h, int64_t qty, int64_t price, int type, int post)
{
    brs_order o = {.side = BRS_BUY, .type = (uint8_t)type, .qty = qty, .price = price};
    uint64_t id;
    assert_int_equal(brs__sor_submit(h->m, &o, post, 0, &id, NULL), 0);
    return id;
}

static void test_split_and_duplicates(void **st)
{
    (void)st;
    harness *h = setup_h(0, 0);
    liq(h, 0, BRS_SELL, 100, 30);
    liq(h, 1, BRS_SELL, 100, 30);
    liq(h, 2, BRS_SELL, 101, 50);
    h->v[0].dup_fills = 1; /* a venue that repeats its fill reports */
    buy(h, 80, 101, BRS_LIMIT, 0);
    deliver(h, -1, 1);
    assert_int_equal(h->fill_sum, 80);
    assert_int_equal(h->last_cum, 80);
    assert_int_equal(h->fills, 3);
    assert_int_equal(h->cancelled, 0);
    assert_int_equal(brs__sor_open_children(h->m), 0);
    teardown_h(h);
}

/* The cheapest venue is down by the time the children arrive: its child is
 * rejected, and the rest is re-routed to the others. */
static void test_failover_reject_on_down(void **st)
{
    (void)st;
    harness *h = setup_h(0, 0);
    liq(h, 0, BRS_SELL, 99, 40);
    liq(h, 1, BRS_SELL, 100, 25);
    liq(h, 2, BRS_SELL, 100, 25);
    h->v[0].down = 1; /* the host has not noticed yet */
    uint64_t id = buy(h, 50, 100, BRS_LIMIT, 0);
    brs_sor_parent_info pi;
    assert_int_equal(brs__sor_parent_info(h->m, id, &pi), 0);
    assert_int_equal(pi.open_children, 2); /* 40 at 99 on venue 0, 10 at 100 on venue 1 */
    deliver(h, -1, 1);
    assert_int_equal(h->fill_sum, 50);
    assert_int_equal(h->cancelled, 0);
    assert_int_equal(brs__sor_parent_info(h->m, id, &pi), BRS_E_UNKNOWNORDER); /* done */
    teardown_h(h);
}

/* A posted parent rests on venue 0; venue 0 goes down and cancels our orders
 * (cancel-on-disconnect); the rest moves to venue 1, where it fills later. */
static void test_failover_posted_venue_down(void **st)
{
    (void)st;
    harness *h = setup_h(0, 0);
    h->v[0].maker_fee = -200; /* best rebate: posts there */
    liq(h, 0, BRS_SELL, 100, 5);
    uint64_t id = buy(h, 20, 100, BRS_LIMIT, 1);
    deliver(h, -1, 1);
    assert_int_equal(h->fill_sum, 5);
    assert_int_equal(our_open(h), 1);
    /* venue 0 dies */
    brs__sor_venue_status(h->m, 0, 0, 2);
    h->v[0].going_down = 1;
    for (uint32_t k = 0; k < h->v[0].n_sent; k++)
        brs__engine_cancel(h->v[0].e, h->v[0].sent[k]);
    h->v[0].down = 1;
    h->v[0].going_down = 0;
    deliver(h, -1, 3);
    brs_sor_parent_info pi;
    assert_int_equal(brs__sor_parent_info(h->m, id, &pi), 0);
    assert_int_equal(pi.cum_qty, 5);
    assert_true(pi.reroutes >= 1);
    /* the rest now rests on venue 1 or 2, never on 0 */
    size_t open = 0;
    for (int v = 1; v < NV; v++)
        open += brs__engine_live_orders(h->v[v].e);
    assert_int_equal(open, 1);
    /* a seller arrives on venue 1 and on venue 2; only one holds our order */
    brs_order s = {.id = h->next_liq++, .price = 100, .qty = 100, .side = BRS_SELL,
                   .type = BRS_LIMIT, .tif = BRS_IOC, .account = THEIRS};
    brs__engine_submit(h->v[1].e, &s);
    s.id = h->next_liq++;
    brs__engine_submit(h->v[2].e, &s);
    deliver(h, -1, 4);
    assert_int_equal(h->fill_sum, 20);
    assert_int_equal(h->last_cum, 20);
    assert_int_equal(h->cancelled, 0);
    assert_int_equal(brs__sor_parent_info(h->m, id, &pi), BRS_E_UNKNOWNORDER);
    assert_int_equal(our_open(h), 0);
    teardown_h(h);
}

/* An order lost on the way: no ack before the timeout, the cancel finds no
 * such order, and the quantity is re-routed elsewhere. */
static void test_timeout_lost_order(void **st)
{
    (void)st;
    harness *h = setup_h(1000, 0);
    liq(h, 0, BRS_SELL, 100, 10);
    liq(h, 1, BRS_SELL, 101, 10);
    h->v[0].lose_next = 1;
    buy(h, 10, 101, BRS_LIMIT, 0);
    deliver(h, -1, 10);
    assert_int_equal(h->fill_sum, 0);
    brs__sor_tick(h->m, 500);
    deliver(h, -1, 500);
    assert_int_equal(h->fill_sum, 0); /* not yet timed out */
    brs__sor_tick(h->m, 1000);
    deliver(h, -1, 1000);
    assert_int_equal(h->fill_sum, 10);
    assert_int_equal(h->v[1].n_sent, 1);
    assert_int_equal(brs__sor_open_children(h->m), 0);
    teardown_h(h);
}

/* Never over-fill: a posted child whose ack is late stays reserved after its
 * timeout; it fills for 4 before our cancel lands; only the 6 the venue then
 * cancels are re-routed, and the parent ends at exactly 10. */
static void test_late_ack_not_rerouted(void **st)
{
    (void)st;
    harness *h = setup_h(1000, 0);
    h->v[0].maker_fee = -100;
    liq(h, 1, BRS_SELL, 100, 50);
    liq(h, 2, BRS_SELL, 100, 50);
    /* the venues 1 and 2 asks are at 100, so bid at 99 posts on venue 0 */
    uint64_t id = buy(h, 10, 99, BRS_LIMIT, 1);
    assert_int_equal(h->v[0].n_sent, 1);
    brs_order s = {.id = h->next_liq++, .price = 99, .qty = 4, .side = BRS_SELL,
                   .type = BRS_LIMIT, .tif = BRS_IOC, .account = THEIRS};
    brs__engine_submit(h->v[0].e, &s); /* ack and fill are still on their way */
    brs__sor_tick(h->m, 2000);         /* timed out: cancel sent, qty still reserved */
    brs_sor_parent_info pi;
    assert_int_equal(brs__sor_parent_info(h->m, id, &pi), 0);
    assert_int_equal(pi.open_children, 1);
    assert_int_equal(h->v[1].n_sent + h->v[2].n_sent, 0);
    /* now the venue's answers arrive: ack, fill 4, cancelled 6; then the parent
     * re-routes 6 and may take at 100 if its limit allowed: it does not (99) */
    deliver(h, -1, 2001);
    assert_int_equal(h->fill_sum, 4);
    assert_int_equal(brs__sor_parent_info(h->m, id, &pi), 0);
    assert_int_equal(pi.cum_qty, 4);
    assert_int_equal(pi.open_children, 1); /* the 6 rest again, not on venue 0 */
    assert_int_equal(h->v[0].n_sent, 1);
    brs__sor_cancel(h->m, id);
    deliver(h, -1, 2002);
    assert_int_equal(h->fill_sum, 4);
    assert_int_equal(h->cancelled_qty, 6);
    assert_int_equal(h->last_reason, BRS_OK);
    assert_int_equal(our_open(h), 0);
    teardown_h(h);
}

static void test_kill_switch_no_open_order(void **st)
{
    (void)st;
    harness *h = setup_h(0, 1);
    h->v[1].maker_fee = -100;
    liq(h, 0, BRS_SELL, 105, 10);
    for (int i = 0; i < 5; i++)
        buy(h, 10, 100 - i, BRS_LIMIT, 1);
    deliver(h, -1, 1);
    assert_int_equal(our_open(h), 5);
    brs__sor_kill(h->m, "test");
    deliver(h, -1, 2);
    assert_int_equal(our_open(h), 0);
    assert_int_equal(brs__sor_open_children(h->m), 0);
    assert_int_equal(h->cancelled, 5);
    assert_int_equal(h->last_reason, BRS_E_RISK);
    brs_order o = {.side = BRS_BUY, .type = BRS_LIMIT, .qty = 1, .price = 100};
    uint64_t id;
    brs_error err = {0};
    assert_int_equal(brs__sor_submit(h->m, &o, 1, 3, &id, &err), BRS_E_RISK);
    assert_non_null(strstr(err.msg, "kill_switch"));
    assert_int_equal(h->rejected, 1);
    assert_int_equal(our_open(h), 0);
    teardown_h(h);
}

static void test_risk_reject_names_check(void **st)
{
    (void)st;
    harness *h = setup_h(0, 1);
    h->risk.cfg.def.max_order_qty = 5;
    brs_order o = {.side = BRS_BUY, .type = BRS_LIMIT, .qty = 6, .price = 100};
    uint64_t id;
    brs_error err = {0};
    assert_int_equal(brs__sor_submit(h->m, &o, 0, 0, &id, &err), BRS_E_RISK);
    assert_non_null(strstr(err.msg, "max_order_qty"));
    assert_int_equal(h->rejected, 1);
    assert_int_equal(h->last_reason, BRS_E_RISK);
    assert_int_equal(h->v[0].n_sent + h->v[1].n_sent + h->v[2].n_sent, 0);
    teardown_h(h);
}

/* Risk sees open parents: the worst-case position counts a resting parent,
 * and its cancel gives the room back. */
static void test_risk_position_with_open_parents(void **st)
{
    (void)st;
    harness *h = setup_h(0, 1);
    h->risk.cfg.def.max_position = 10;
    uint64_t a = buy(h, 8, 100, BRS_LIMIT, 1); /* rests: nothing to take */
    deliver(h, -1, 1);
    brs_order o = {.side = BRS_BUY, .type = BRS_LIMIT, .qty = 3, .price = 100};
    uint64_t id;
    brs_error err = {0};
    assert_int_equal(brs__sor_submit(h->m, &o, 1, 2, &id, &err), BRS_E_RISK);
    assert_non_null(strstr(err.msg, "max_position"));
    o.qty = 2;
    assert_int_equal(brs__sor_submit(h->m, &o, 1, 2, &id, &err), 0);
    assert_int_equal(brs__sor_cancel(h->m, a), 0);
    deliver(h, -1, 3);
    o.qty = 8;
    assert_int_equal(brs__sor_submit(h->m, &o, 1, 4, &id, &err), 0);
    /* fills move open quantity into the position: still 10 in total */
    liq(h, 2, BRS_SELL, 200, 1);
    brs_order s = {.id = h->next_liq++, .price = 100, .qty = 10, .side = BRS_SELL,
                   .type = BRS_LIMIT, .tif = BRS_IOC, .account = THEIRS};
    for (int v = 0; v < NV; v++) {
        s.id = h->next_liq++;
        brs__engine_submit(h->v[v].e, &s);
    }
    deliver(h, -1, 5);
    assert_int_equal(h->fill_sum, 10);
    assert_int_equal(h->risk.position[0], 10);
    o.qty = 1;
    assert_int_equal(brs__sor_submit(h->m, &o, 1, 6, &id, &err), BRS_E_RISK);
    brs_order sell = {.side = BRS_SELL, .type = BRS_LIMIT, .qty = 20, .price = 100};
    assert_int_equal(brs__sor_submit(h->m, &sell, 1, 6, &id, &err), 0); /* flat to -10 */
    teardown_h(h);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random books, random venue failures and rejects, events delivered in random
 * bursts: the parent never over-fills, the strategy's fill stream adds up, and
 * when the dust settles nothing of ours is left open. */
static void test_random_failover(void **st)
{
    (void)st;
    for (int seed = 1; seed <= 300; seed++) {
        uint64_t s = 0x9e3779b9ull * (uint64_t)seed;
        harness *h = setup_h(50, 0);
        for (int v = 0; v < NV; v++) {
            h->v[v].lot = 1 + (int64_t)(rng(&s) % 2);
            h->v[v].taker_fee = (int32_t)(rng(&s) % 3) * 100;
            h->v[v].maker_fee = -(int32_t)(rng(&s) % 3) * 50;
            for (int l = 0; l < 4; l++)
                liq(h, (uint32_t)v, BRS_SELL, 100 + (int64_t)(rng(&s) % 5),
                    2 * (1 + (int64_t)(rng(&s) % 6)));
            h->v[v].dup_fills = rng(&s) % 4 == 0;
        }
        h->v[rng(&s) % NV].reject_all = rng(&s) % 3 == 0;
        int64_t qty = 2 * (1 + (int64_t)(rng(&s) % 30));
        int post = (int)(rng(&s) % 2);
        buy(h, qty, 102, BRS_LIMIT, post);
        int64_t now = 0;
        int killed_venue = -1;
        for (int step = 0; step < 60; step++) {
            now += 10;
            deliver(h, (int)(rng(&s) % 4), now);
            if (killed_venue < 0 && rng(&s) % 8 == 0) {
                killed_venue = (int)(rng(&s) % NV);
                venue *v = &h->v[killed_venue];
                brs__sor_venue_status(h->m, (uint32_t)killed_venue, 0, now);
                v->going_down = 1;
                for (uint32_t k = 0; k < v->n_sent; k++)
                    brs__engine_cancel(v->e, v->sent[k]);
                v->going_down = 0;
                v->down = 1;
            }
            if (rng(&s) % 5 == 0) { /* a seller sweeps some venue */
                uint32_t vi = (uint32_t)(rng(&s) % NV);
                if (!h->v[vi].down) {
                    brs_order so = {.id = h->next_liq++, .price = 95, .qty = 1 + (int64_t)(rng(&s) % 10),
                                    .side = BRS_SELL, .type = BRS_LIMIT, .tif = BRS_IOC, .account = THEIRS};
                    brs__engine_submit(h->v[vi].e, &so);
                }
            }
            brs__sor_tick(h->m, now);
            if (h->fill_sum > qty)
                fail_msg("seed %d: over-filled %lld > %lld", seed, (long long)h->fill_sum,
                         (long long)qty);
        }
        deliver(h, -1, now);
        /* cancel what is left and settle */
        for (int k = 0; k < 4 && brs__sor_open_children(h->m); k++) {
            brs__sor_kill(h->m, "end");
            deliver(h, -1, now);
        }
        if (h->fill_sum > qty)
            fail_msg("seed %d: over-filled", seed);
        assert_int_equal(h->fill_sum, h->last_cum);
        /* every parent ended: its fills plus the cancelled rest are its quantity */
        if (h->fill_sum + h->cancelled_qty != qty)
            fail_msg("seed %d: fills %lld + cancelled %lld != %lld", seed, (long long)h->fill_sum,
                     (long long)h->cancelled_qty, (long long)qty);
        /* the venues' own view of our fills equals the strategy's */
        int64_t venue_fills = 0;
        for (int v = 0; v < NV; v++)
            for (uint32_t k = 0; k < h->v[v].n_sent; k++)
                venue_fills += h->v[v].cum[k];
        if (venue_fills != h->fill_sum)
            fail_msg("seed %d: venues filled %lld, strategy saw %lld", seed,
                     (long long)venue_fills, (long long)h->fill_sum);
        assert_int_equal(our_open(h), 0);
        teardown_h(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_and_duplicates),
        cmocka_unit_test(test_failover_reject_on_down),
        cmocka_unit_test(test_failover_posted_venue_down),
        cmocka_unit_test(test_timeout_lost_order),
        cmocka_unit_test(test_late_ack_not_rerouted),
        cmocka_unit_test(test_kill_switch_no_open_order),
        cmocka_unit_test(test_risk_reject_names_check),
        cmocka_unit_test(test_risk_position_with_open_parents),
        cmocka_unit_test(test_random_failover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
