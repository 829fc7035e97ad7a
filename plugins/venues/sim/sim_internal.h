/* sim_internal.h: what the two halves of the sim venue share: its state,
 * its id spaces and the calls one half makes into the other (sim.c: orders,
 * parameters, the venue calls; sim_market.c: replayed market data, the L2
 * queue model's bookkeeping, L2 snapshots). */
#ifndef BRS_SIM_INTERNAL_H
#define BRS_SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/bourse.h>

#include "book/book.h"
#include "queue.h"
#include "scale.h"

/* Engine id spaces: ours as the host gave them (< 2^62), the exchange's L3 ids
 * with bit 63, and synthetic orders holding L2 quantity (bits 63 and 62, then a
 * counter below 2^60): one per stretch of a level between our orders. */
#define OURS_MAX (1ull << 62)
#define L3_BIT (1ull << 63)
#define L2_BITS (3ull << 62)
/* The one id replayed aggressors use: IOC, so it never rests. */
#define AGG_ID (L2_BITS | (3ull << 60) | 1)
#define IS_L2(id) (((id) & L2_BITS) == L2_BITS && (id) != AGG_ID)
/* Engine accounts: the exchange's liquidity, and ours offset past it so the
 * host's accounts stay apart (self-trade prevention is per account: two host
 * clients' orders may trade with each other, one client's may not). */
#define ACCT_EXCH 2u
#define ACCT_OURS_BASE 3u
#define IS_OURS(a) ((a) >= ACCT_OURS_BASE)

typedef struct ord { /* one of our live orders */
    uint64_t id;     /* 0: empty slot */
    int64_t cum;
    int64_t price;
    uint8_t side;
    uint8_t acked;
    double carry; /* L2 prob model: rounding remainder of the cancels ahead of it */
} ord;

/* The last shrink of an L2 level that no print explained (yet): a print that
 * arrives after it but is not later than it was already in it (sim_on_market,
 * contained_print). Direct-mapped by level; a collision forgets the older one. */
typedef struct pend {
    int64_t price;
    int64_t d;        /* lots of the shrink not yet matched with prints */
    int64_t ts, aux;  /* the update's exchange time and aux (transaction time, or 0) */
    int64_t front;    /* exchange lots in front of our first order before the shrink */
    int64_t behind;   /* and after it */
    int64_t x;        /* lots of the shrink the model took from in front of it */
    uint64_t first;   /* that order (0: none of ours at the level) */
    uint32_t inst;
    uint8_t side, used;
} pend;
#define NPEND 1024

typedef struct sim {
    const brs_host *host;
    brs_ctx *ctx;
    brs_engine *e;
    uint32_t venue;
    int64_t maker_ppm, taker_ppm;
    int64_t tick, lot, min_qty;
    int64_t rate_per_sec, rate_burst, tokens_e9, last_refill;
    double reject_rate, lost_ack_rate;
    uint64_t rng;
    int64_t down_at, down_for;
    int down;
    int saw_l3;          /* L3 data: EXECUTE events carry the trades, prints are not replayed */
    int64_t price_offset;
    double liq_scale;
    simx xs; /* liq_scale != 1: the unscaled size left of each live L3 order (scale.h) */
    ord *orders; /* open addressing, power-of-2 capacity */
    uint64_t max_ours; /* max_orders: the most live orders of ours */
    uint32_t cap;
    uint32_t n_ours;
    /* our highest buy and lowest sell price, recomputed (one scan of orders)
     * only after our orders changed, not on every L2 update that asks */
    int ext_dirty;
    int64_t ext_buy, ext_sell; /* INT64_MIN / INT64_MAX: none */
    /* during an L3 execution replayed as an aggressor: what the named order got */
    uint64_t exec_id;
    int64_t exec_got;
    int64_t agg_got; /* what the replayed aggressor traded */
    int going_down;
    /* L2 queue model (queue.h) */
    int queue_model;
    double queue_power;
    uint64_t next_l2;        /* next synthetic order number */
    brs_queue_entry *qbuf;   /* one level's queue, read from the engine */
    int64_t *qahead, *qx;    /* per order of ours there: lots ahead, cancel ahead */
    double *qcarry;
    uint32_t qcap;
    pend *pend; /* NPEND slots */
    /* an L2 snapshot under way (a feed's resync): the levels it named so far */
    int snap_open;
    uint32_t snap_inst;
    struct snap_lv { int64_t price; uint8_t side; } *snap_seen;
    uint32_t snap_n, snap_cap;
    brs_level *dbuf; /* one side's depth, read at the snapshot's end */
    size_t dcap;
} sim;

ord *sim__find(sim *s, uint64_t id);
ord *sim__add(sim *s, uint64_t id);
void sim__del(sim *s, ord *o);
int sim__grow_queue(sim *s, size_t n);
void sim__check_down_at(sim *s, int64_t now);
/* The venue goes down or comes back when its down window (down_at,
 * down_for) starts or ends at now; inline for the venue that is never down
 * (checked on every replayed event). */
static inline void sim__check_down(sim *s, int64_t now)
{
    if (s->down_for > 0 || s->down)
        sim__check_down_at(s, now);
}
int sim__on_market(void *self, const brs_market_event *in);

#endif
