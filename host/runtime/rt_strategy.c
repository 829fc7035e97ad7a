/* rt_strategy.c: strategies hosted on the runtime (rt_strategy.h): each a
 * runtime client with its brs__exec onto brs__rt_submit/cancel/replace, its
 * order events turned into cash, positions and recorder rows before the
 * strategy runtime sees them, the market data reaching the host fanned out to
 * every strategy as its view, and book mode's simulated-clock step. Book mode
 * and `bourse serve` both host their strategies through this file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "book/view_impl.h" /* the view's per-event path inline in the run of events */
#include "core/core.h"
#include "feeds/l2book.h"
#include "rt_internal.h"
#include "rt_strategy.h"

#define NOW(s) (*(s)->now)

static double scale_of(const brs_instrument *in)
{
    return in->price_scale > 0 ? (double)in->price_scale : 1;
}

/* ---- the strategy's orders (brs__exec) ------------------------------------ */

/* An order as sent: counted, and in orders.csv (prices in currency). */
static void record_new_order(brs__rt_strat *st, const brs_order *o)
{
    st->orders++;
    if (st->rec) {
        double scale = scale_of(&st->set->instr[o->instrument]);
        brs_an_order ao = {.id = o->id, .ts = NOW(st->set), .instrument = o->instrument,
                           .side = o->side, .type = o->type, .tif = o->tif,
                           .price = o->type == BRS_MARKET ? NAN : (double)o->price / scale,
                           .qty = o->qty};
        brs__an_order_new(st->rec, &ao);
    }
}

int brs__rt_strat_submit(brs__rt_strat *st, const brs_order *o)
{
    brs__rt *rt = st->set->rt;
    if (!brs__rt_venues(rt))
        return BRS_E_UNSUPPORTED; /* no venue configured: the runtime rejects it */
    if (st->allowed && (o->instrument >= st->set->n_instr || !st->allowed[o->instrument]))
        return BRS_E_NOTFOUND; /* not one of its instruments */
    record_new_order(st, o);
    return brs__rt_submit(rt, st->client, o);
}

static int x_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    (void)sc;
    return brs__rt_strat_submit(self, o);
}

static int x_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    (void)sc;
    brs__rt_strat *st = self;
    return brs__rt_cancel(st->set->rt, st->client, id);
}

/* With a replace hook (only while a FIX end of day's slices run): the replace
 * as its order at the new price, for the hook (brs__rt_replace_known). */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int replace_hooked(brs__rt_strat *st, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    for (uint32_t i = 0; i < sc->n_orders; i++) {
        const brs_order_info *oi = &sc->orders[i];
        if (oi->id != id)
            continue;
        brs_order o = {.id = id, .instrument = oi->instrument, .side = oi->side, .type = oi->type,
                       .tif = oi->tif, .price = price, .qty = qty};
        return brs__rt_replace_known(st->set->rt, st->client, &o);
    }
    return brs__rt_replace(st->set->rt, st->client, id, price, qty);
}

static int x_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    brs__rt_strat *st = self;
    if (BRS__UNLIKELY(st->set->rt->replace_fn != NULL))
        return replace_hooked(st, sc, id, price, qty);
    return brs__rt_replace(st->set->rt, st->client, id, price, qty);
}

brs__exec brs__rt_strat_exec(brs__rt_strat *st)
{
    return (brs__exec){.self = st, .xSubmit = x_submit, .xCancel = x_cancel, .xReplace = x_replace};
}

/* The strategy's mid (its own view, L2 or L3), for the router's execution figures. */
static double strategy_mid(void *user, uint32_t instrument)
{
    brs__rt_strat *st = user;
    const brs_top *t = st->sc ? &st->sc->instr[instrument].top : NULL;
    return t && t->bid_qty && t->ask_qty ? 0.5 * (double)(t->bid_price + t->ask_price) : NAN;
}

/* ---- cash, positions, the recorder ------------------------------------------- */

static double equity(const brs__rt_strat *st)
{
    double e = st->cash;
    for (uint32_t i = 0; i < st->set->n_instr; i++)
        if (st->pos[i] && !isnan(st->mark[i]))
            e += (double)st->pos[i] * st->mark[i];
    return e;
}

void brs__rt_strat_sample(brs__rt_strat *st)
{
    if (!st->rec)
        return;
    int64_t now = NOW(st->set);
    int64_t ts = now > st->last_rec_ts ? now : st->last_rec_ts;
    if (brs__an_sample(st->rec, ts, equity(st), st->cash, st->mark) && !st->failed)
        st->failed = brs__err(&st->err, BRS_E_INVAL, "recorder: %s", brs__an_last_error(st->rec));
    st->last_rec_ts = ts;
}

/* An order event reaches the strategy (its runtime client callback): position,
 * cash, the recorder, then the strategy runtime (xOnOrder). */
static void on_order(void *user, const brs_order_event *ev)
{
    brs__rt_strat *st = user;
    if (ev->kind == BRS_OEV_FILL) {
        double scale = scale_of(&st->set->instr[ev->instrument]);
        int64_t sq = ev->side == BRS_BUY ? ev->qty : -ev->qty;
        st->pos[ev->instrument] += sq;
        st->cash -= (double)sq * (double)ev->price / scale + (double)ev->fee / scale;
        st->fills++;
        st->fees += ev->fee;
        st->fees_by[ev->instrument] += ev->fee;
        if (ev->venue < 8)
            st->venue_qty[ev->venue] += ev->qty;
    }
    if (st->rec) {
        brs_order_event rev = *ev;
        if (rev.ts < st->last_rec_ts)
            rev.ts = st->last_rec_ts;
        st->last_rec_ts = rev.ts;
        if (ev->kind != BRS_OEV_ACCEPTED && brs__an_order_event(st->rec, &rev) && !st->failed)
            st->failed = brs__err(&st->err, BRS_E_INVAL, "recorder: %s", brs__an_last_error(st->rec));
    }
    if (!st->sc)
        return;
    if (NOW(st->set) > st->sc->now)
        brs__sctx_advance(st->sc, NOW(st->set));
    brs__sctx_order_event(st->sc, ev);
    if (ev->kind == BRS_OEV_FILL)
        brs__rt_strat_sample(st);
}

/* ---- market data: the runtime's sink, fanned out --------------------------- */

/* An L2 event into the host's book of that instrument (brs__rt_strats_l2_depth);
 * 1 when it ends an update (the strategies' depth is set from the book then). */
static int l2_apply(struct brs__l2_book *b, const brs_market_event *ev)
{
    switch (ev->kind) {
    case BRS_MEV_SNAPSHOT_BEGIN: brs__l2_clear(b); return 0;
    case BRS_MEV_LEVEL_SET: brs__l2_set(b, ev->side, ev->price, ev->qty); break;
    case BRS_MEV_LEVEL_DELETE: brs__l2_set(b, ev->side, ev->price, 0); break;
    case BRS_MEV_SNAPSHOT_END: break;
    default: return 0;
    }
    return (ev->flags & BRS_MEVF_LAST) != 0;
}

/* An L3 event (already applied to the runtime's market view) to the
 * strategies: a QUOTE for xOnTop when the view's top changed, depth at the end
 * of a message, the raw event to those that asked for L3. Returns nonzero when
 * code of a strategy may have run (a callback, or its timers on the clock's
 * move): book mode's run of events (brs__rt_strats_replay_run) then checks
 * what it may have changed. lean (run_state): an unchanged top reaches nobody.
 * Inline: once per replayed event. */
static inline __attribute__((always_inline)) int deliver_l3(brs__rt_strats *s, const brs_market_event *ev,
                                                           int lean)
{
    uint32_t in = ev->instrument;
    int64_t now = NOW(s);
    brs_top top; /* a copy: a callback may bring market data that moves
                  * last_top[in] before the next strategy is given this one */
    int changed = 0;
    const uint64_t *gen = s->view_gen;
    if (in < s->n_instr && s->top_seen[in] != gen[in]) {
        /* the view's top of in moved since it was last compared (when it did
         * not, it is still last_top[in]) */
        s->top_seen[in] = gen[in];
        changed = brs__view_top_update(s->view, in, &s->last_top[in]) == 1;
        top = s->last_top[in];
    }
    if (lean && !changed)
        return 0; /* nothing for them: their clocks catch up later (run_state) */
    int ran = changed;
    if (changed && top.bid_qty && top.ask_qty && s->rt->risk) /* the price band's reference: the mid the host sees */
        brs__rt_risk_ref(s->rt, in, (top.bid_price + top.ask_price) / 2);
    for (uint32_t k = 0; k < s->n; k++) {
        brs__rt_strat *st = s->st[k];
        brs__sctx *sc = st->sc;
        if (!sc || (st->allowed && !st->allowed[in]))
            continue;
        if (now > sc->now) {
            ran |= sc->n_timers | sc->d_len; /* timers may fire */
            brs__sctx_advance(sc, now);
        }
        if (changed) {
            if (top.bid_qty && top.ask_qty)
                st->mark[in] = (double)(top.bid_price + top.ask_price) * 0.5 / scale_of(&s->instr[in]);
            /* a QUOTE of the top (brs__sctx_on_market), not built */
            brs__sctx_call_top(sc, in, ev->ts_exchange, ev->ts_local, ev->flags, &top);
        }
        if (st->want_depth && (ev->flags & BRS_MEVF_LAST)) {
            brs_level lv[BRS__SCTX_DEPTH];
            size_t nb = brs__view_depth(s->view, in, BRS_BUY, lv, BRS__SCTX_DEPTH);
            brs__sctx_set_depth(sc, in, BRS_BUY, lv, (uint32_t)nb);
            nb = brs__view_depth(s->view, in, BRS_SELL, lv, BRS__SCTX_DEPTH);
            brs__sctx_set_depth(sc, in, BRS_SELL, lv, (uint32_t)nb);
            ran = 1;
        }
        if (st->want_l3) {
            brs__sctx_on_market(sc, ev);
            ran = 1;
        }
    }
    return ran;
}

/* deliver_l3 for one lean strategy (run_state: it wants tops alone, of
 * every instrument, with no timer and no refusal waiting): the same
 * effects, without the loop over strategies and the tests lean answers, and
 * the top compared without a branch per field. 1 when the strategy was
 * called. */
static inline __attribute__((always_inline)) int deliver_one(brs__rt_strats *s, brs__rt_strat *st,
                                                            const brs_market_event *ev)
{
    uint32_t in = ev->instrument;
    const uint64_t *gen = s->view_gen;
    if (in >= s->n_instr || s->top_seen[in] == gen[in])
        return 0;
    s->top_seen[in] = gen[in];
    brs_top *lt = &s->last_top[in]; /* the top as given out, now the view's */
    if (brs__view_top_update(s->view, in, lt) != 1)
        return 0;
    if (lt->bid_qty && lt->ask_qty) {
        if (s->rt->risk) /* the price band's reference: the mid the host sees */
            brs__rt_risk_ref(s->rt, in, (lt->bid_price + lt->ask_price) / 2);
        st->mark[in] = (double)(lt->bid_price + lt->ask_price) * 0.5 / scale_of(&s->instr[in]);
    }
    brs__sctx *sc = st->sc;
    int64_t now = NOW(s);
    if (now > sc->now) /* as deliver_l3 (the per-event chain count restarts only then) */
        brs__sctx_advance(sc, now); /* no timers (lean): the clock alone */
    /* a QUOTE of the top (brs__sctx_on_market), not built */
    brs__sctx_call_top(sc, in, ev->ts_exchange, ev->ts_local, ev->flags, lt);
    return 1;
}

/* L3 events (already applied to the runtime's market view) become a QUOTE for
 * xOnTop when the top changed, and go raw to strategies that asked for L3.
 * L2, quotes, trades and bars go to the strategy runtime as they are. */
static void deliver_market(void *user, const brs_market_event *ev)
{
    brs__rt_strats *s = user;
    uint32_t in = ev->instrument;
    int64_t now = NOW(s);
    int l3 = ev->kind >= BRS_MEV_ADD && ev->kind <= BRS_MEV_EXECUTE;
    if (!l3 || !s->view) {
        int depth = s->l2 && in < s->n_instr && l2_apply(&s->l2[in], ev);
        for (uint32_t k = 0; k < s->n; k++) {
            brs__rt_strat *st = s->st[k];
            brs__sctx *sc = st->sc;
            if (!sc || (st->allowed && !st->allowed[in]))
                continue;
            if (now > sc->now)
                brs__sctx_advance(sc, now);
            if (l3 && !st->want_l3)
                continue;
            if (depth) { /* the whole update applied: xOnDepth and ctx:depth() see all of it */
                brs_level lv[BRS__SCTX_DEPTH];
                for (uint8_t side = 0; side < 2; side++)
                    brs__sctx_set_depth(sc, in, side, lv, brs__l2_depth(&s->l2[in], side, lv, BRS__SCTX_DEPTH));
            }
            brs__sctx_on_market(sc, ev);
            const brs_top *t = &sc->instr[in].top;
            if (t->bid_qty && t->ask_qty)
                st->mark[in] = (double)(t->bid_price + t->ask_price) * 0.5 / scale_of(&s->instr[in]);
        }
        return;
    }
    deliver_l3(s, ev, 0);
}

/* ---- the set ------------------------------------------------------------------ */

int brs__rt_strats_create(brs__rt_strats **out, brs__rt *rt, brs_error *err)
{
    brs__rt_strats *s = calloc(1, sizeof *s);
    *out = s;
    if (!s)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    s->rt = rt;
    s->now = brs__rt_clock(rt);
    s->rt_failed = &rt->failed;
    s->view = brs__rt_market_view(rt);
    s->view_gen = s->view ? brs__view_gen(s->view) : NULL;
    s->router = brs__rt_xstats(rt) != NULL;
    s->instr = brs__rt_instruments(rt, &s->n_instr);
    s->last_top = calloc(s->n_instr ? s->n_instr : 1, sizeof *s->last_top);
    s->top_seen = calloc(s->n_instr ? s->n_instr : 1, sizeof *s->top_seen);
    if (!s->last_top || !s->top_seen)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    brs__rt_set_market_sink(rt, deliver_market, s);
    return BRS_OK;
}

int brs__rt_strats_l2_depth(brs__rt_strats *s, brs_error *err)
{
    if (s->l2)
        return BRS_OK;
    if (!(s->l2 = calloc(s->n_instr ? s->n_instr : 1, sizeof *s->l2)))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < s->n_instr; i++)
        if (brs__l2_init(&s->l2[i], 64))
            return brs__err(err, BRS_E_NOMEM, "out of memory");
    return BRS_OK;
}

void brs__rt_strats_destroy(brs__rt_strats *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; s->l2 && i < s->n_instr; i++)
        brs__l2_free(&s->l2[i]);
    free(s->l2);
    for (uint32_t k = 0; k < s->n; k++) {
        free(s->st[k]->fees_by);
        free(s->st[k]->pos);
        free(s->st[k]->mark);
        free(s->st[k]);
    }
    if (brs__rt_market_sink_user(s->rt) == s)
        brs__rt_set_market_sink(s->rt, NULL, NULL);
    free(s->st);
    free(s->last_top);
    free(s->top_seen);
    free(s);
}

uint32_t brs__rt_strats_count(const brs__rt_strats *s) { return s ? s->n : 0; }

brs__rt_strat *brs__rt_strats_get(brs__rt_strats *s, uint32_t i)
{
    return s && i < s->n ? s->st[i] : NULL;
}

int brs__rt_strats_add(brs__rt_strats *s, brs__rt_route route, double initial_cash,
                       int64_t sample_every_ns, brs__rt_strat **out, brs_error *err)
{
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 4;
        brs__rt_strat **g = realloc(s->st, nc * sizeof *g);
        if (!g)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        s->st = g;
        s->cap = nc;
    }
    brs__rt_strat *st = calloc(1, sizeof *st);
    if (!st)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    st->pos = calloc(s->n_instr ? s->n_instr : 1, sizeof *st->pos);
    st->mark = calloc(s->n_instr ? s->n_instr : 1, sizeof *st->mark);
    st->fees_by = calloc(s->n_instr ? s->n_instr : 1, sizeof *st->fees_by);
    if (!st->pos || !st->mark || !st->fees_by) {
        free(st->pos);
        free(st->mark);
        free(st->fees_by);
        free(st);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < s->n_instr; i++)
        st->mark[i] = NAN;
    st->set = s;
    st->index = s->n;
    st->cash = initial_cash;
    st->sample_every = sample_every_ns > 0 ? sample_every_ns : 1000000000LL;
    st->next_sample = INT64_MIN;
    brs__rt_client_ops ops = {.user = st, .xOnOrder = on_order, .xMid = strategy_mid};
    int rc = brs__rt_client_add(s->rt, &ops, route, &st->client, err);
    if (rc) {
        free(st->pos);
        free(st->mark);
        free(st->fees_by);
        free(st);
        return rc;
    }
    s->st[s->n++] = st;
    *out = st;
    return BRS_OK;
}

void brs__rt_strat_attach(brs__rt_strat *st, brs__sctx *sc, brs_an_recorder *rec)
{
    st->sc = sc;
    st->rec = rec;
    uint32_t sub = sc ? sc->vt->subscriptions : 0;
    st->want_l3 = (sub & BRS_SUB_L3) != 0;
    st->want_depth = (sub & BRS_SUB_DEPTH) != 0;
}

/* ---- the clock ------------------------------------------------------------------ */

void brs__rt_strats_advance(brs__rt_strats *s, int64_t t)
{
    for (uint32_t k = 0; k < s->n; k++)
        if (s->st[k]->sc)
            brs__sctx_advance(s->st[k]->sc, t);
}

/* ---- book mode's run of replayed events ------------------------------------ */

/* The state a run of events depends on, after anything of the strategies
 * ran: 1 when the run must stop before the next event (the queue holds an
 * item, a strategy or its recorder failed, the runtime failed); else *tt gets
 * the earliest strategy timer (brs__rt_strats_next_timer) and *lean whether
 * an event that leaves the top unchanged reaches none of them: each wants
 * only tops (no raw L3, no depth) of every instrument and has no timer and no
 * refusal waiting, so that event runs none of its code, and moving its clock
 * then (what brs__sctx_advance does without timers) can wait until it gets
 * an event or the run ends. Only their callbacks change any of this. */
static inline __attribute__((always_inline)) int run_state(const brs__rt_strats *s, int64_t *tt,
                                                          int *lean)
{
    const brs__rt *rt = s->rt;
    if (rt->n_queued || rt->failed)
        return 1;
    int64_t t = INT64_MAX;
    int ln = 1;
    for (uint32_t k = 0; k < s->n; k++) {
        const brs__rt_strat *st = s->st[k];
        const brs__sctx *sc = st->sc;
        if (st->failed || (sc && sc->failed))
            return 1;
        if (!sc) {
            ln = 0;
            continue;
        }
        if (sc->n_timers) {
            int64_t x = brs__sctx_next_timer(sc);
            if (x < t)
                t = x;
            ln = 0;
        }
        if (st->allowed || st->want_l3 || st->want_depth || sc->d_len)
            ln = 0;
    }
    *tt = t;
    *lean = ln;
    return 0;
}

/* The earliest equity sample due. */
static int64_t run_next_sample(const brs__rt_strats *s)
{
    int64_t t = INT64_MAX;
    for (uint32_t k = 0; k < s->n; k++)
        if (s->st[k]->next_sample < t)
            t = s->st[k]->next_sample;
    return t;
}

int brs__rt_replay_run_off;

int brs__rt_strats_runs(const brs__rt_strats *s)
{
    const brs__rt *rt = s->rt;
    /* market data straight to the host as replayed: no venue, no latency, no
     * router, the simulated clock, the strategies' set as the sink */
    return !brs__rt_replay_run_off && !rt->n_v && !rt->md_from_file && !rt->md_ns &&
           !rt->real_clock && !rt->sor && !s->router && rt->view && rt->sink == deliver_market &&
           rt->sink_user == s;
}

size_t brs__rt_strats_replay_run(brs__rt_strats *s, const brs_market_event *ev, size_t n,
                                 uint32_t src, uint32_t n_src_instr)
{
    brs__rt *rt = s->rt;
    int64_t tt, ts = run_next_sample(s);
    int lean;
    if (run_state(s, &tt, &lean))
        return 0;
    brs__rt_strat *one = lean && s->n == 1 ? s->st[0] : NULL; /* lean: its sc is set */
    rt->replay_src = src;
    size_t i = 0;
    while (i < n) {
        const brs_market_event *e = &ev[i];
        /* the records were written by the decoding thread on the other
         * core: asked for eight events ahead (a hint, never dereferenced:
         * past the block's end too) */
        __builtin_prefetch((const void *)((uintptr_t)e + 8 * sizeof *e));
        /* the step would run a timer first, or skip the record (one branch) */
        if ((e->ts_exchange > tt) | (e->instrument >= n_src_instr))
            break;
        i++;
        /* brs__rt_replay and brs__rt_market_arrive, for this configuration
         * (the clock never goes back: a move, not a branch) */
        rt->now = e->ts_exchange > rt->now ? e->ts_exchange : rt->now;
        int ran;
        if (brs__view_apply_in(rt->view, e))
            ran = one ? deliver_one(s, one, e) : lean ? deliver_l3(s, e, 1) : deliver_l3(s, e, 0);
        else {
            deliver_market(s, e);
            ran = 1;
        }
        /* the equity samples that are due (brs__rt_strats_step) */
        int64_t now = rt->now;
        if (__builtin_expect(now >= ts, 0)) {
            for (uint32_t k = 0; k < s->n; k++) {
                brs__rt_strat *st = s->st[k];
                if (now >= st->next_sample) {
                    brs__rt_strat_sample(st);
                    st->next_sample = now - now % st->sample_every + st->sample_every;
                }
            }
            ts = run_next_sample(s);
            ran = 1;
        }
        /* its code ran: orders queued, timers set, a failure? (one lean
         * strategy: nothing of that happened when these are all still 0) */
        if (ran && !(one && !(rt->n_queued | rt->failed | one->failed | one->sc->failed |
                              one->sc->n_timers | one->sc->d_len))) {
            if (run_state(s, &tt, &lean))
                break;
            one = lean && s->n == 1 ? s->st[0] : NULL;
        }
    }
    /* the clocks a lean run left behind, as each event would have moved them */
    for (uint32_t k = 0; k < s->n; k++) {
        brs__sctx *sc = s->st[k]->sc;
        if (sc && rt->now > sc->now)
            brs__sctx_advance(sc, rt->now);
    }
    return i;
}
