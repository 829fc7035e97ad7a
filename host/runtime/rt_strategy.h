/* rt_strategy.h: strategies hosted on the runtime, the one copy of strategy
 * hosting every mode uses (a book-mode backtest hosts one, `bourse serve` any
 * number beside its FIX and WebSocket clients). Each strategy is a runtime
 * client: its orders take the order path (its route: the router or a venue),
 * its events come back to it; the market data reaching the host becomes its
 * view (tops from the runtime's market view, depth, raw L3 when it asked);
 * its cash, positions and marks are kept here, and an analytics recorder when
 * one is attached (the run directory). The set is the runtime's market sink. */
#ifndef BRS_RUNTIME_RT_STRATEGY_H
#define BRS_RUNTIME_RT_STRATEGY_H

#include <stdint.h>

#include "analytics/analytics.h"
#include "runtime.h"
#include "strategy/runtime.h"

typedef struct brs__rt_strats brs__rt_strats;

/* One hosted strategy. Read its fields; change them only through the calls below. */
typedef struct brs__rt_strat {
    brs__rt_strats *set;
    uint32_t index;           /* in the set, 0.. */
    uint32_t client;          /* its runtime client id */
    brs__sctx *sc;            /* attached: NULL until brs__rt_strat_attach */
    brs_an_recorder *rec;     /* NULL: nothing recorded */
    const uint8_t *allowed;   /* per instrument: nonzero where it may trade and
                               * gets market data; NULL: every instrument */
    int want_l3, want_depth;
    double cash;
    int64_t *pos;             /* per instrument, lots */
    double *mark;             /* per instrument, currency (NaN: none yet) */
    int64_t last_rec_ts, sample_every, next_sample;
    uint64_t fills, orders;
    int64_t fees;             /* fees paid, price units x lots (negative: rebates) */
    int64_t *fees_by;         /* the same, per instrument */
    int64_t venue_qty[8];     /* quantity filled per venue (the first 8) */
    int failed;               /* a BRS_E_ code: its recorder failed */
    brs_error err;
} brs__rt_strat;

/* A set over rt; it becomes rt's market sink. */
int brs__rt_strats_create(brs__rt_strats **out, brs__rt *rt, brs_error *err);
void brs__rt_strats_destroy(brs__rt_strats *s);
uint32_t brs__rt_strats_count(const brs__rt_strats *s);
brs__rt_strat *brs__rt_strats_get(brs__rt_strats *s, uint32_t i);

/* The strategies' depth (ctx:depth(), xOnDepth) from the whole L2 book the
 * market data reaching the host builds (SNAPSHOT_BEGIN clears it), set after
 * the last event of each update; off: each strategy context keeps its top
 * levels from the L2 events alone (book mode). bourse live turns it on. */
int brs__rt_strats_l2_depth(brs__rt_strats *s, brs_error *err);

/* Add a strategy: a runtime client routed by `route` (client ids are given in
 * order of addition, so add them in config order). initial_cash and
 * sample_every_ns (0: 1 s) are for its equity samples. */
int brs__rt_strats_add(brs__rt_strats *s, brs__rt_route route, double initial_cash,
                       int64_t sample_every_ns, brs__rt_strat **out, brs_error *err);
/* Its execution interface for brs__sctx_init (orders to the runtime). */
brs__exec brs__rt_strat_exec(brs__rt_strat *st);
/* The strategy context (after brs__sctx_init) and an optional recorder; events
 * before this are dropped. */
void brs__rt_strat_attach(brs__rt_strat *st, brs__sctx *sc, brs_an_recorder *rec);
/* Submit for the strategy outside its callbacks (book mode's flattening):
 * counted and recorded as its own orders are. */
int brs__rt_strat_submit(brs__rt_strat *st, const brs_order *o);
/* Record an equity sample now (the recorder's clock never goes back). */
void brs__rt_strat_sample(brs__rt_strat *st);

/* The set's state: read by the inline step below (the simulated loop's hot
 * path, inlined into its driver); change it only through the calls above. */
struct brs__rt_strats {
    brs__rt *rt;
    const int64_t *now;
    const int *rt_failed;     /* nonzero: the runtime failed (brs__rt_failed says why) */
    const brs_instrument *instr;
    uint32_t n_instr;
    struct brs__view *view;   /* the runtime's market view (NULL: tops from L2 only) */
    brs_top *last_top;        /* per instrument: the view's top as last given out */
    uint64_t *top_seen;       /* per instrument: the view's change count when last compared */
    const uint64_t *view_gen; /* per instrument: the view's change count (brs__view_gen) */
    int router;
    struct brs__l2_book *l2;  /* per instrument (brs__rt_strats_l2_depth), NULL: off */
    brs__rt_strat **st;
    uint32_t n, cap;
};

/* The earliest timer of any strategy, INT64_MAX when none. */
static inline int64_t brs__rt_strats_next_timer(const brs__rt_strats *s)
{
    int64_t t = INT64_MAX;
    for (uint32_t k = 0; k < s->n; k++) {
        const brs__sctx *sc = s->st[k]->sc;
        if (sc && sc->n_timers && !sc->failed) { /* a failed strategy's timers never fire */
            int64_t x = brs__sctx_next_timer(sc);
            if (x < t)
                t = x;
        }
    }
    return t;
}

/* Every strategy's clock to t (timers due fire). */
void brs__rt_strats_advance(brs__rt_strats *s, int64_t t);

/* One step of a simulated clock, book mode's: whichever comes first of the
 * replayed event e (NULL: the data has ended; src its data file), the runtime's
 * queue and the strategies' timers runs, then the router's timeouts and the
 * equity samples that are due. Returns 1 when e was replayed (the caller moves
 * to its next event), 0 when something else ran, -1 when nothing is left (no
 * event and an empty queue: timers do not outlive the data). Inline: it runs
 * once per event and queue item. */
static inline int brs__rt_strats_step(brs__rt_strats *s, const brs_market_event *e, uint32_t src)
{
    brs__rt *rt = s->rt;
    int64_t te = e ? e->ts_exchange : INT64_MAX;
    int64_t tq = brs__rt_next_time(rt);
    if (!e && tq == INT64_MAX)
        return -1; /* timers do not outlive the data */
    int64_t tt = brs__rt_strats_next_timer(s);
    int r = 0;
    if (te <= tq && te <= tt) {
        brs__rt_replay(rt, e, src);
        r = 1;
    } else if (tq <= tt) {
        brs__rt_step(rt);
    } else {
        brs__rt_set_now(rt, tt);
        brs__rt_strats_advance(s, tt);
    }
    if (s->router)
        brs__rt_tick(rt); /* the router's ack timeouts */
    int64_t now = *s->now;
    for (uint32_t k = 0; k < s->n; k++) {
        brs__rt_strat *st = s->st[k];
        if (__builtin_expect(now >= st->next_sample, 0)) {
            brs__rt_strat_sample(st);
            st->next_sample = now - now % st->sample_every + st->sample_every;
        }
    }
    return r;
}

/* 1 when the market data reaches the strategies straight as replayed (no
 * venue, no market-data latency, no router; fixed for a run): then
 * brs__rt_strats_replay_run may take runs of events. */
int brs__rt_strats_runs(const brs__rt_strats *s);
/* Book mode's common case, a run of replayed events at once (the rest of a
 * decoded block, ev[0..n) from data file src with n_src_instr instruments),
 * when brs__rt_strats_runs: each replayed exactly as brs__rt_strats_step
 * would replay it, as long as that is what the step would do. Stops before an
 * event a strategy timer comes before, or a record for no instrument, and
 * after an event that queued anything or made a strategy fail. Returns how
 * many events were replayed (0: take the step). */
size_t brs__rt_strats_replay_run(brs__rt_strats *s, const brs_market_event *ev, size_t n,
                                 uint32_t src, uint32_t n_src_instr);
/* Tests: nonzero turns the runs off (every event through the step), so a test
 * can compare the two paths' run directories byte for byte. */
extern int brs__rt_replay_run_off;

#endif
