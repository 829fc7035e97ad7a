/* test_book_prop.c: property test of the matching engine. Random operations on
 * a fixed list of seeds drive the engine and a slow, obviously correct reference
 * (one sorted array per side); after every step the two must agree on the
 * return code, every fill, cancel and reject, the whole depth of both books, a
 * random order's state and queue position, and the invariants hold: never
 * crossed after matching, no fill worse than the taker's limit, quantity
 * conserved (fills + leaves + cancelled = order quantity), level and top events
 * consistent with the book. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/rng.h"
#include "book/book.h"
#include "recorder.h"

#ifdef BOURSE_SANITIZE
#define OPS_PER_SEED 100000
#else
#define OPS_PER_SEED 300000
#endif

#define NINS 2
#define MAXR 2048
#define PMAX_ (INT64_C(1) << 62)

/* ---- the reference book ------------------------------------------------ */

typedef struct rord {
    uint64_t id;
    int64_t price, leaves, qty, cum;
    uint32_t account, flags;
    uint8_t side, tif, stp;
} rord;

typedef struct xev { /* an expected event */
    int kind;
    uint64_t id, id2;
    int64_t price, qty, a, b;
    int reason;
} xev;

typedef struct ref {
    rord s[NINS][2][MAXR];
    int n[NINS][2];
    xev ev[REC_MAX];
    int nev;
    int64_t accepted_price;
} ref;

static void xpush(ref *r, xev e)
{
    assert_true(r->nev < REC_MAX);
    r->ev[r->nev++] = e;
}

static int r_better(int side, int64_t a, int64_t b)
{
    return side == BRS_BUY ? a > b : a < b;
}

static int r_crosses(int side, int64_t opp, int64_t limit)
{
    return side == BRS_BUY ? opp <= limit : opp >= limit;
}

static void r_insert(ref *r, uint32_t ins, const rord *o)
{
    rord *a = r->s[ins][o->side];
    int n = r->n[ins][o->side], i = 0;
    assert_true(n < MAXR);
    while (i < n && !r_better(o->side, o->price, a[i].price))
        i++;
    memmove(a + i + 1, a + i, (size_t)(n - i) * sizeof *a);
    a[i] = *o;
    r->n[ins][o->side]++;
}

static void r_remove(ref *r, uint32_t ins, int side, int i)
{
    rord *a = r->s[ins][side];
    memmove(a + i, a + i + 1, (size_t)(r->n[ins][side] - i - 1) * sizeof *a);
    r->n[ins][side]--;
}

static rord *r_find(ref *r, uint64_t id, uint32_t *ins, int *side, int *idx)
{
    for (uint32_t k = 0; k < NINS; k++)
        for (int sd = 0; sd < 2; sd++)
            for (int i = 0; i < r->n[k][sd]; i++)
                if (r->s[k][sd][i].id == id) {
                    *ins = k, *side = sd, *idx = i;
                    return &r->s[k][sd][i];
                }
    return NULL;
}

typedef struct rtaker {
    uint64_t id;
    int64_t limit, leaves, cum;
    uint32_t account;
    int side, stp, stopped;
} rtaker;

static void r_match(ref *r, uint32_t ins, rtaker *t)
{
    int os = !t->side;
    rord *a = r->s[ins][os];
    while (t->leaves > 0 && r->n[ins][os] > 0 && r_crosses(t->side, a[0].price, t->limit)) {
        rord *m = &a[0];
        if (t->stp != BRS_STP_NONE && m->account == t->account) {
            if (t->stp == BRS_STP_CANCEL_NEWEST) {
                t->stopped = 1;
                break;
            }
            xpush(r, (xev){.kind = EV_CANCELLED, .id = m->id, .qty = m->leaves, .reason = BRS_E_SELFTRADE});
            r_remove(r, ins, os, 0);
            if (t->stp == BRS_STP_CANCEL_BOTH) {
                t->stopped = 1;
                break;
            }
            continue;
        }
        int64_t q = t->leaves < m->leaves ? t->leaves : m->leaves;
        m->leaves -= q, m->cum += q, t->leaves -= q, t->cum += q;
        xpush(r, (xev){.kind = EV_FILL, .id = m->id, .id2 = t->id, .price = m->price, .qty = q,
                       .a = m->leaves, .b = t->leaves});
        if (!m->leaves)
            r_remove(r, ins, os, 0);
    }
}

static int r_fok(ref *r, uint32_t ins, const rtaker *t)
{
    int os = !t->side;
    int64_t need = t->leaves;
    for (int i = 0; i < r->n[ins][os] && r_crosses(t->side, r->s[ins][os][i].price, t->limit); i++) {
        const rord *m = &r->s[ins][os][i];
        if (t->stp != BRS_STP_NONE && m->account == t->account) {
            if (t->stp == BRS_STP_CANCEL_OLDEST)
                continue;
            return 0;
        }
        need -= m->leaves;
        if (need <= 0)
            return 1;
    }
    return 0;
}

static int64_t r_best(ref *r, uint32_t ins, int side)
{
    if (!r->n[ins][side])
        return side == BRS_BUY ? INT64_MIN : INT64_MAX;
    return r->s[ins][side][0].price;
}

static int r_reject(ref *r, uint64_t id, int reason)
{
    xpush(r, (xev){.kind = EV_REJECTED, .id = id, .reason = reason});
    return reason;
}

static int r_submit(ref *r, const brs_order *o)
{
    uint32_t ins = o->instrument;
    int market = o->type == BRS_MARKET;
    uint32_t post = o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE);
    if (o->qty <= 0 || (post && (market || o->tif >= BRS_IOC)))
        return r_reject(r, o->id, BRS_E_INVAL);
    uint32_t k;
    int sd, ix;
    if (r_find(r, o->id, &k, &sd, &ix))
        return r_reject(r, o->id, BRS_E_EXISTS);
    int64_t price = market ? (o->side == BRS_BUY ? PMAX_ : -PMAX_) : o->price;
    if (post) {
        int64_t ob = r_best(r, ins, !o->side);
        if (r_crosses(o->side, ob, price)) {
            if (post & BRS_OF_POST_ONLY)
                return r_reject(r, o->id, BRS_E_WOULDTAKE);
            price = o->side == BRS_BUY ? ob - 1 : ob + 1;
        }
    }
    r->accepted_price = price;
    rtaker t = {.id = o->id, .limit = price, .leaves = o->qty, .account = o->account,
                .side = o->side, .stp = o->stp};
    if (o->tif == BRS_FOK && !r_fok(r, ins, &t)) {
        xpush(r, (xev){.kind = EV_CANCELLED, .id = o->id, .qty = o->qty, .reason = BRS_E_NOLIQUIDITY});
        return BRS_OK;
    }
    r_match(r, ins, &t);
    if (t.leaves > 0) {
        if (!market && o->tif <= BRS_DAY && !t.stopped) {
            rord n = {.id = o->id, .price = price, .leaves = t.leaves, .qty = o->qty, .cum = t.cum,
                      .account = o->account, .flags = o->flags, .side = o->side, .tif = o->tif,
                      .stp = o->stp};
            r_insert(r, ins, &n);
        } else {
            xpush(r, (xev){.kind = EV_CANCELLED, .id = o->id, .qty = t.leaves,
                           .reason = t.stopped ? BRS_E_SELFTRADE : BRS_E_NOLIQUIDITY});
        }
    }
    return BRS_OK;
}

static int r_cancel(ref *r, uint64_t id)
{
    uint32_t ins;
    int sd, ix;
    rord *o = r_find(r, id, &ins, &sd, &ix);
    if (!o)
        return r_reject(r, id, BRS_E_UNKNOWNORDER);
    xpush(r, (xev){.kind = EV_CANCELLED, .id = id, .qty = o->leaves, .reason = BRS_OK});
    r_remove(r, ins, sd, ix);
    return BRS_OK;
}

static int r_replace(ref *r, uint64_t id, int64_t price, int64_t qty)
{
    uint32_t ins;
    int sd, ix;
    rord *o = r_find(r, id, &ins, &sd, &ix);
    if (!o)
        return r_reject(r, id, BRS_E_UNKNOWNORDER);
    if (qty - o->cum <= 0)
        return r_reject(r, id, BRS_E_INVAL);
    int64_t leaves = qty - o->cum;
    if (price == o->price && leaves <= o->leaves) {
        o->leaves = leaves;
        o->qty = qty;
        return BRS_OK;
    }
    if (o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE)) {
        int64_t ob = r_best(r, ins, !sd);
        if (r_crosses(sd, ob, price)) {
            if (o->flags & BRS_OF_POST_ONLY)
                return r_reject(r, id, BRS_E_WOULDTAKE);
            price = sd == BRS_BUY ? ob - 1 : ob + 1;
        }
    }
    rord n = *o;
    r_remove(r, ins, sd, ix);
    n.price = price, n.qty = qty, n.leaves = leaves;
    rtaker t = {.id = id, .limit = price, .leaves = leaves, .cum = n.cum, .account = n.account,
                .side = sd, .stp = n.stp};
    r_match(r, ins, &t);
    n.leaves = t.leaves, n.cum = t.cum;
    if (t.leaves > 0) {
        if (t.stopped)
            xpush(r, (xev){.kind = EV_CANCELLED, .id = id, .qty = t.leaves, .reason = BRS_E_SELFTRADE});
        else
            r_insert(r, ins, &n);
    }
    return BRS_OK;
}

static void r_end_of_day(ref *r)
{
    for (uint32_t k = 0; k < NINS; k++)
        for (int sd = 0; sd < 2; sd++)
            for (int i = 0; i < r->n[k][sd];) {
                rord *o = &r->s[k][sd][i];
                if (o->tif == BRS_DAY) {
                    xpush(r, (xev){.kind = EV_CANCELLED, .id = o->id, .qty = o->leaves});
                    r_remove(r, k, sd, i);
                } else {
                    i++;
                }
            }
}

static int r_reduce(ref *r, uint64_t id, int64_t q, int64_t *removed)
{
    uint32_t ins;
    int sd, ix;
    rord *o = r_find(r, id, &ins, &sd, &ix);
    if (!o)
        return BRS_E_UNKNOWNORDER;
    if (q >= o->leaves) {
        *removed = o->leaves;
        r_remove(r, ins, sd, ix);
    } else {
        *removed = q;
        o->leaves -= q;
        o->qty -= q;
    }
    return BRS_OK;
}

/* Aggregated level at price, or 0/0. */
static void r_level(ref *r, uint32_t ins, int side, int64_t price, int64_t *qty, int64_t *count)
{
    *qty = *count = 0;
    for (int i = 0; i < r->n[ins][side]; i++)
        if (r->s[ins][side][i].price == price)
            *qty += r->s[ins][side][i].leaves, (*count)++;
}

/* ---- the driver ---------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) { return brs_test_rand(&rng_state); }
static int64_t rr(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int xev_cmp(const void *a, const void *b)
{
    const xev *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

typedef struct ledger { /* per id, from the engine's events */
    int64_t qty, fills, cancelled, removed;
} ledger;

typedef struct world {
    brs_engine *e;
    recorder rec;
    ref r;
    ledger *led;
    uint64_t nids;
    brs_top tops[NINS];
    int64_t mid[NINS];
} world;

/* Compares the step's events (engine vs reference) and checks the invariants. */
static void check_step(world *w, int rc_engine, int rc_ref, const char *what, uint64_t step)
{
    recorder *rec = &w->rec;
    ref *r = &w->r;
    if (rc_engine != rc_ref || rec->overflow)
        fail_msg("step %llu (%s): rc %d, reference %d", (unsigned long long)step, what, rc_engine, rc_ref);
    /* fills: same sequence */
    int fi = 0;
    xev cx[REC_MAX], ce[REC_MAX];
    int ncx = 0, nce = 0, nrx = 0, nre = 0;
    for (int i = 0; i < r->nev; i++) {
        if (r->ev[i].kind == EV_FILL) {
            int j = rec_find(rec, EV_FILL, fi++);
            if (j < 0)
                fail_msg("step %llu (%s): missing fill %d", (unsigned long long)step, what, fi - 1);
            const rec_event *e = &rec->ev[j];
            const xev *x = &r->ev[i];
            if (e->id != x->id || e->id2 != x->id2 || e->price != x->price || e->qty != x->qty ||
                e->a != x->a || e->b != x->b)
                fail_msg("step %llu (%s): fill %d: engine %llu<-%llu %lld@%lld (%lld,%lld), reference "
                         "%llu<-%llu %lld@%lld (%lld,%lld)",
                         (unsigned long long)step, what, fi - 1, (unsigned long long)e->id,
                         (unsigned long long)e->id2, (long long)e->qty, (long long)e->price,
                         (long long)e->a, (long long)e->b, (unsigned long long)x->id,
                         (unsigned long long)x->id2, (long long)x->qty, (long long)x->price,
                         (long long)x->a, (long long)x->b);
        } else if (r->ev[i].kind == EV_CANCELLED) {
            cx[ncx++] = r->ev[i];
        } else if (r->ev[i].kind == EV_REJECTED) {
            nrx++;
            int j = rec_find(rec, EV_REJECTED, nrx - 1);
            assert_true(j >= 0);
            assert_int_equal(rec->ev[j].id, r->ev[i].id);
            assert_int_equal(rec->ev[j].reason, r->ev[i].reason);
        }
    }
    assert_int_equal(rec_count(rec, EV_FILL), fi);
    for (int i = 0; i < rec->n; i++) {
        const rec_event *e = &rec->ev[i];
        if (e->kind == EV_CANCELLED)
            ce[nce++] = (xev){.kind = EV_CANCELLED, .id = e->id, .qty = e->qty, .reason = e->reason};
        nre += e->kind == EV_REJECTED;
    }
    assert_int_equal(nre, nrx);
    if (nce != ncx)
        fail_msg("step %llu (%s): %d cancels, reference %d", (unsigned long long)step, what, nce, ncx);
    qsort(cx, (size_t)ncx, sizeof *cx, xev_cmp);
    qsort(ce, (size_t)nce, sizeof *ce, xev_cmp);
    for (int i = 0; i < ncx; i++) {
        assert_int_equal(ce[i].id, cx[i].id);
        assert_int_equal(ce[i].qty, cx[i].qty);
        assert_int_equal(ce[i].reason, cx[i].reason);
    }
    /* ledger: every event moves quantity somewhere */
    for (int i = 0; i < rec->n; i++) {
        const rec_event *e = &rec->ev[i];
        if (e->kind == EV_FILL) {
            assert_true(e->id < w->nids && e->id2 < w->nids);
            w->led[e->id].fills += e->qty;
            w->led[e->id2].fills += e->qty;
        } else if (e->kind == EV_CANCELLED) {
            w->led[e->id].cancelled += e->qty;
        }
    }
    for (uint32_t k = 0; k < NINS; k++) {
        /* whole depth, both sides */
        brs_level lv[MAXR];
        for (int sd = 0; sd < 2; sd++) {
            size_t n = brs__engine_depth(w->e, k, sd, lv, MAXR);
            size_t m = 0;
            for (int i = 0; i < r->n[k][sd];) {
                int64_t p = r->s[k][sd][i].price, q = 0;
                uint32_t c = 0;
                for (; i < r->n[k][sd] && r->s[k][sd][i].price == p; i++)
                    q += r->s[k][sd][i].leaves, c++;
                if (m >= n || lv[m].price != p || lv[m].qty != q || lv[m].orders != c)
                    fail_msg("step %llu (%s): ins %u side %d level %zu: engine %lld x %lld (%u), "
                             "reference %lld x %lld (%u)",
                             (unsigned long long)step, what, k, sd, m, m < n ? (long long)lv[m].price : 0,
                             m < n ? (long long)lv[m].qty : 0, m < n ? lv[m].orders : 0, (long long)p,
                             (long long)q, c);
                m++;
            }
            assert_int_equal(n, m);
        }
        /* never crossed after matching */
        if (r->n[k][0] && r->n[k][1])
            assert_true(r->s[k][0][0].price < r->s[k][1][0].price);
        /* top: reported iff changed, and equal to the book */
        brs_top t;
        brs__engine_top(w->e, k, &t);
        int64_t bq, bc, aq, ac;
        int64_t bp = r->n[k][0] ? r->s[k][0][0].price : 0, ap = r->n[k][1] ? r->s[k][1][0].price : 0;
        r_level(r, k, 0, bp, &bq, &bc);
        r_level(r, k, 1, ap, &aq, &ac);
        if (!r->n[k][0])
            bq = 0;
        if (!r->n[k][1])
            aq = 0;
        assert_int_equal(t.bid_price, bp);
        assert_int_equal(t.bid_qty, bq);
        assert_int_equal(t.ask_price, ap);
        assert_int_equal(t.ask_qty, aq);
        int changed = bp != w->tops[k].bid_price || bq != w->tops[k].bid_qty ||
                      ap != w->tops[k].ask_price || aq != w->tops[k].ask_qty;
        int reported = 0;
        for (int i = 0; i < rec->n; i++)
            if (rec->ev[i].kind == EV_TOP && rec->ev[i].instrument == k) {
                reported++;
                assert_int_equal(rec->ev[i].price, bp);
                assert_int_equal(rec->ev[i].b, aq);
            }
        assert_int_equal(reported, changed);
        w->tops[k] = t;
    }
    /* level events: the last one per level says what the level holds now */
    for (int i = 0; i < rec->n; i++) {
        const rec_event *e = &rec->ev[i];
        if (e->kind != EV_LEVEL)
            continue;
        int last = 1;
        for (int j = i + 1; j < rec->n; j++)
            if (rec->ev[j].kind == EV_LEVEL && rec->ev[j].instrument == e->instrument &&
                rec->ev[j].side == e->side && rec->ev[j].price == e->price)
                last = 0;
        if (!last)
            continue;
        int64_t q, c;
        r_level(r, e->instrument, e->side, e->price, &q, &c);
        assert_int_equal(e->qty, q);
        assert_int_equal(e->a, c);
    }
}

/* Conservation for every id an event touched this step, live or finished. */
static void check_ledger(world *w)
{
    for (int i = 0; i < w->rec.n; i++) {
        const rec_event *e = &w->rec.ev[i];
        uint64_t ids[2] = {e->id, e->kind == EV_FILL ? e->id2 : 0};
        for (int k = 0; k < 2; k++) {
            uint64_t id = ids[k];
            if (!id || id >= w->nids || e->kind == EV_LEVEL || e->kind == EV_TOP || e->kind == EV_REJECTED)
                continue;
            ledger *l = &w->led[id];
            brs_order_info oi;
            int64_t leaves = 0;
            if (brs__engine_order(w->e, id, &oi) == BRS_OK) {
                leaves = oi.leaves;
                assert_int_equal(oi.cum_qty, l->fills);
                assert_int_equal(oi.qty + l->removed, l->qty);
            }
            if (l->fills + l->cancelled + l->removed + leaves != l->qty)
                fail_msg("id %llu: fills %lld + cancelled %lld + removed %lld + leaves %lld != qty %lld",
                         (unsigned long long)id, (long long)l->fills, (long long)l->cancelled,
                         (long long)l->removed, (long long)leaves, (long long)l->qty);
        }
        /* fills never worse than the taker's limit: the taker's working price is
         * known for live takers; for all, the fill is at the maker's price,
         * which the reference comparison already checked. */
    }
}

static uint64_t pick_live(world *w, int *found)
{
    int tot = 0;
    for (int k = 0; k < NINS; k++)
        tot += w->r.n[k][0] + w->r.n[k][1];
    *found = tot > 0;
    if (!tot)
        return 0;
    int x = (int)(rnd() % (uint64_t)tot);
    for (int k = 0; k < NINS; k++)
        for (int sd = 0; sd < 2; sd++) {
            if (x < w->r.n[k][sd])
                return w->r.s[k][sd][x].id;
            x -= w->r.n[k][sd];
        }
    return 0;
}

static void run_seed(uint64_t seed, uint32_t window, int64_t spread, int64_t jump)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->nids = OPS_PER_SEED + 2;
    w->led = calloc(w->nids, sizeof *w->led);
    assert_non_null(w->led);
    brs_book_listener L = rec_listener(&w->rec);
    brs_engine_config cfg = {.max_orders = 4096, .max_instruments = NINS, .window_ticks = window};
    brs_error err;
    assert_int_equal(brs__engine_create(&w->e, &cfg, &L, &err), BRS_OK);
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int k = 0; k < NINS; k++)
        w->mid[k] = 10000 + k * 5000;
    uint64_t next_id = 1;
    for (uint64_t step = 0; step < OPS_PER_SEED; step++) {
        rec_clear(&w->rec);
        w->r.nev = 0;
        uint32_t ins = (uint32_t)(rnd() % NINS);
        if (rnd() % 8 == 0)
            w->mid[ins] += rr(-1, 1);
        if (rnd() % 2000 == 0)
            w->mid[ins] += rr(-jump, jump);
        int live = 0;
        for (int k = 0; k < NINS; k++)
            live += w->r.n[k][0] + w->r.n[k][1];
        int op = (int)(rnd() % 1000);
        if (live > 150 && op < 500)
            op = 600; /* more cancels when the book gets deep */
        int rc = 0, rrc = 0;
        const char *what = "";
        if (op < 500) {
            brs_order o = {.id = next_id++, .instrument = ins, .side = (uint8_t)(rnd() & 1),
                           .qty = rr(1, 20), .type = BRS_LIMIT, .tif = BRS_GTC};
            int64_t off = rr(-spread, spread);
            o.price = w->mid[ins] + (o.side == BRS_BUY ? -off : off);
            int kind = (int)(rnd() % 100);
            if (kind < 15)
                o.tif = BRS_DAY;
            else if (kind < 27)
                o.tif = BRS_IOC;
            else if (kind < 33)
                o.tif = BRS_FOK, o.qty = rr(1, 60);
            else if (kind < 37)
                o.type = BRS_MARKET, o.tif = rnd() & 1 ? BRS_IOC : BRS_FOK;
            else if (kind < 45)
                o.flags = rnd() & 1 ? BRS_OF_POST_ONLY : BRS_OF_POST_REPRICE;
            else if (kind < 47)
                o.price = w->mid[ins] + rr(-1000000000, 1000000000); /* far away */
            else if (kind < 48)
                o.qty = 0; /* invalid */
            else if (kind < 49 && live) {
                int f;
                o.id = pick_live(w, &f); /* a live id again */
                next_id--;
            }
            if (rnd() % 4 == 0) {
                o.account = (uint32_t)rr(1, 3);
                o.stp = (uint8_t)rr(0, 3);
            } else {
                o.account = (uint32_t)rr(1, 3);
            }
            if (o.id < w->nids && o.qty > 0 && !w->led[o.id].qty)
                w->led[o.id].qty = o.qty;
            rc = brs__engine_submit(w->e, &o);
            rrc = r_submit(&w->r, &o);
            what = "submit";
            if (rc == BRS_OK) {
                int j = rec_find(&w->rec, EV_ACCEPTED, 0);
                assert_true(j >= 0);
                assert_int_equal(w->rec.ev[j].price, w->r.accepted_price);
                /* no fill worse than the limit */
                for (int i = 0; i < w->rec.n; i++)
                    if (w->rec.ev[i].kind == EV_FILL && w->rec.ev[i].id2 == o.id)
                        assert_true(o.side == BRS_BUY ? w->rec.ev[i].price <= w->r.accepted_price
                                                      : w->rec.ev[i].price >= w->r.accepted_price);
            }
        } else if (op < 700) {
            int f;
            uint64_t id = rnd() % 5 ? pick_live(w, &f) : (uint64_t)rr(1, (int64_t)next_id + 5);
            rc = brs__engine_cancel(w->e, id);
            rrc = r_cancel(&w->r, id);
            what = "cancel";
        } else if (op < 940) {
            int f;
            uint64_t id = rnd() % 5 ? pick_live(w, &f) : (uint64_t)rr(1, (int64_t)next_id + 5);
            uint32_t k;
            int sd, ix;
            rord *ro = r_find(&w->r, id, &k, &sd, &ix);
            int64_t price = ro ? ro->price : w->mid[ins], qty;
            int64_t base_qty = ro ? ro->qty : 10;
            int how = (int)(rnd() % 4);
            if (how == 0)
                qty = base_qty - rr(0, 3); /* decrease (maybe below filled) */
            else if (how == 1)
                qty = base_qty + rr(1, 5);
            else
                price += rr(-4, 4), qty = base_qty + rr(-3, 3);
            if (rnd() % 50 == 0)
                price = w->mid[ins] + (ro && ro->side == BRS_BUY ? 1 : -1) * rr(0, 6); /* cross */
            rc = brs__engine_replace(w->e, id, price, qty);
            rrc = r_replace(&w->r, id, price, qty);
            if (rc == BRS_OK && id < w->nids)
                w->led[id].qty = qty + w->led[id].removed;
            what = "replace";
        } else if (op < 970) {
            int f;
            uint64_t id = pick_live(w, &f);
            int64_t q = rr(1, 12), removed = 0;
            rc = brs__engine_reduce(w->e, id, q);
            rrc = r_reduce(&w->r, id, q, &removed);
            if (rc == BRS_OK)
                w->led[id].removed += removed;
            what = "reduce";
        } else if (op < 998) {
            int f;
            uint64_t id = rnd() % 5 ? pick_live(w, &f) : (uint64_t)rr(1, (int64_t)next_id + 5);
            int64_t removed = 0;
            rc = brs__engine_delete(w->e, id);
            rrc = r_reduce(&w->r, id, INT64_MAX / 4, &removed);
            if (rc == BRS_OK)
                w->led[id].removed += removed;
            what = "delete";
        } else {
            brs__engine_end_of_day(w->e, BRS_BOOK_NO_INSTRUMENT);
            r_end_of_day(&w->r);
            what = "end_of_day";
        }
        check_step(w, rc, rrc, what, step);
        check_ledger(w);
        /* a random live order: state and queue position */
        int f;
        uint64_t id = pick_live(w, &f);
        if (f) {
            uint32_t k;
            int sd, ix;
            rord *ro = r_find(&w->r, id, &k, &sd, &ix);
            brs_order_info oi;
            assert_int_equal(brs__engine_order(w->e, id, &oi), BRS_OK);
            assert_int_equal(oi.leaves, ro->leaves);
            assert_int_equal(oi.price, ro->price);
            assert_int_equal(oi.cum_qty, ro->cum);
            int64_t ahead = 0, got;
            for (int i = 0; i < ix; i++)
                if (w->r.s[k][sd][i].price == ro->price)
                    ahead += w->r.s[k][sd][i].leaves;
            assert_int_equal(brs__engine_queue_position(w->e, id, &got), BRS_OK);
            assert_int_equal(got, ahead);
        }
    }
    /* reset empties everything; the engine is usable again */
    brs__engine_reset(w->e);
    assert_int_equal(brs__engine_live_orders(w->e), 0);
    brs_level lv[4];
    assert_int_equal(brs__engine_depth(w->e, 0, BRS_BUY, lv, 4), 0);
    brs__engine_destroy(w->e);
    free(w->led);
    free(w);
}

static void test_seeds_narrow(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {1, 2, 3};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        run_seed(seeds[i], 1024, 10, 20);
}

static void test_seeds_small_window(void **state)
{
    (void)state;
    /* A 64-tick window with the mid jumping far: recentring and overflow levels. */
    static const uint64_t seeds[] = {11, 12, 13};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        run_seed(seeds[i], 64, 40, 300);
}

static void test_seeds_wide(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {21, 22};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        run_seed(seeds[i], 128, 400, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_narrow),
        cmocka_unit_test(test_seeds_small_window),
        cmocka_unit_test(test_seeds_wide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
