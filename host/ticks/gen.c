/* gen.c: `bourse gen`, a deterministic synthetic L3 market. Poisson arrivals,
 * limit orders placed around a random-walk mid, many more cancels than trades,
 * and occasional marketable orders and sweeps that show up as EXECUTE + TRADE.
 * With a volatility (--vol) the mid diffuses at that rate, optionally in calm
 * and volatile regimes, and the book follows it: a mid moving through resting
 * orders takes them (EXECUTE + TRADE), cancels prefer stale orders far away.
 * Everything is integer arithmetic on a xoshiro256** stream seeded through
 * splitmix64, so a seed means the same bytes on every machine and compiler. */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "strategy/runtime.h"

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n) (Lemire's multiply-shift; the tiny bias is irrelevant here). */
static uint32_t below(rng *r, uint32_t n)
{
    return (uint32_t)(((next_u64(r) >> 32) * (uint64_t)n) >> 32);
}

/* -ln(U) in Q16 fixed point for U uniform in (0,1], from an integer log2
 * (bit-by-bit squaring), so no libm result can differ between machines. */
static uint64_t exp_q16(rng *r)
{
    uint64_t u = (next_u64(r) >> 32) + 1; /* 1 .. 2^32 */
    int msb = 63 - __builtin_clzll(u);
    uint64_t x = msb >= 31 ? u >> (msb - 31) : u << (31 - msb); /* Q31 in [1,2) */
    uint64_t frac = 0;
    for (int i = 0; i < 20; i++) {
        x = (x * x) >> 31;
        frac <<= 1;
        if (x >= (2ull << 31)) {
            x >>= 1;
            frac |= 1;
        }
    }
    /* log2(U) = msb + frac/2^20 - 32, so -log2(U) in Q20: */
    uint64_t neg = ((uint64_t)(32 - msb) << 20) - frac;
    return (neg * 45426ull) >> 20; /* x ln 2 (45426 = ln2 in Q16) */
}

typedef struct gorder {
    uint64_t id;
    int64_t price, qty;
    uint8_t side;
} gorder;

typedef struct gsym {
    gorder *o;
    uint32_t n, cap;
    int64_t mid;            /* price units */
    int64_t best_bid, best_ask; /* 0 when that side is empty */
    int64_t mid_ts;         /* --vol: when the mid last diffused */
} gsym;

typedef struct gen {
    rng r;
    brs_tick_writer *w;
    gsym *sym;
    uint32_t nsym;
    int64_t ts;
    uint64_t next_id, next_trade, left;
    uint64_t mean_gap_ns;
    brs_market_event msg[64];
    int nmsg;
    gorder *scratch; /* candidates of a marketable order */
    uint32_t scratch_cap;
    brs_error *err;
    /* --vol: volatility now (milli-bp per sqrt(minute)), the two regime
     * levels, the mean regime length and when the current one ends */
    uint64_t vol, vol_hi, vol_lo, regime_ns;
    int64_t regime_end;
} gen;

enum { TICK = 100, MAX_FILLS = 12, LIVE_TARGET = 400, CHASE_FILLS = 24, MAX_STEP_TICKS = 50 };

static void rescan_best(gsym *s)
{
    s->best_bid = s->best_ask = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const gorder *o = &s->o[i];
        if (o->side == BRS_BUY && o->price > s->best_bid)
            s->best_bid = o->price;
        if (o->side == BRS_SELL && (!s->best_ask || o->price < s->best_ask))
            s->best_ask = o->price;
    }
}

static brs_market_event *push(gen *g, uint32_t sym, uint8_t kind, uint8_t side)
{
    brs_market_event *e = &g->msg[g->nmsg++];
    memset(e, 0, sizeof *e);
    e->ts_exchange = g->ts;
    e->kind = kind;
    e->side = side;
    e->instrument = sym;
    return e;
}

/* Write the message's events; the last carries LAST. Local time is exchange
 * time plus a feed latency of 20 us and an exponential jitter of mean 5 us. */
static int emit(gen *g)
{
    int64_t lat = 20000 + (int64_t)((exp_q16(&g->r) * 5000) >> 16);
    g->msg[g->nmsg - 1].flags |= BRS_MEVF_LAST;
    for (int i = 0; i < g->nmsg; i++) {
        g->msg[i].ts_local = g->msg[i].ts_exchange + lat;
        int rc = brs__tick_writer_add(g->w, &g->msg[i], g->err);
        if (rc)
            return rc;
    }
    g->left -= (uint64_t)g->nmsg;
    g->nmsg = 0;
    return BRS_OK;
}

static int add_order(gen *g, uint32_t si, uint16_t flags)
{
    gsym *s = &g->sym[si];
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 256;
        gorder *no = realloc(s->o, nc * sizeof *no);
        if (!no)
            return brs__err(g->err, BRS_E_NOMEM, "out of memory");
        s->o = no;
        s->cap = nc;
    }
    uint8_t side = (uint8_t)below(&g->r, 2);
    /* Distance from the mid: mostly near the touch, with a geometric tail. */
    int64_t d = 0;
    while (d < 50 && below(&g->r, 100) < 70)
        d++;
    int64_t price;
    if (side == BRS_BUY) {
        price = s->mid - TICK * d;
        if (s->best_ask && price >= s->best_ask)
            price = s->best_ask - TICK;
    } else {
        price = s->mid + TICK * d;
        if (s->best_bid && price <= s->best_bid)
            price = s->best_bid + TICK;
    }
    if (price < TICK)
        price = TICK;
    int64_t qty = 1 + below(&g->r, 10);
    if (below(&g->r, 4) == 0)
        qty *= 10; /* round lots: a few large orders */
    gorder *o = &s->o[s->n++];
    o->id = g->next_id++;
    o->price = price;
    o->qty = qty;
    o->side = side;
    if (side == BRS_BUY && price > s->best_bid)
        s->best_bid = price;
    if (side == BRS_SELL && (!s->best_ask || price < s->best_ask))
        s->best_ask = price;
    brs_market_event *e = push(g, si, BRS_MEV_ADD, side);
    e->flags = flags;
    e->price = price;
    e->qty = qty;
    e->order_id = o->id;
    return BRS_OK;
}

static void remove_order(gsym *s, uint32_t i)
{
    int64_t p = s->o[i].price;
    s->o[i] = s->o[--s->n];
    if (p == s->best_bid || p == s->best_ask)
        rescan_best(s);
}

/* Price-time priority of the resting side: best price first, then oldest id. */
static int cmp_asks(const void *a, const void *b)
{
    const gorder *x = a, *y = b;
    if (x->price != y->price)
        return x->price < y->price ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_bids(const void *a, const void *b)
{
    const gorder *x = a, *y = b;
    if (x->price != y->price)
        return x->price > y->price ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* An aggressor of side aggr takes resting orders of the other side in
 * price-time priority up to limit, want lots, at most max_fills orders.
 * With --vol every order it reaches trades in full: cancels and executions
 * then always remove whole orders (sizes shrink only through MODIFY, which
 * states the new size), so a venue that scales the data's quantities per
 * event (the sim's liquidity_scale rounds each one) removes exactly what it
 * added and keeps no stale lots for the moving mid to cross. Without --vol
 * the historic flow is kept byte for byte. */
static int hit(gen *g, uint32_t si, uint8_t aggr, int64_t limit, int64_t want, int max_fills)
{
    gsym *s = &g->sym[si];
    uint8_t rest = aggr == BRS_BUY ? BRS_SELL : BRS_BUY;
    if (g->scratch_cap < s->n) {
        gorder *ns = realloc(g->scratch, s->n * sizeof *ns);
        if (!ns)
            return brs__err(g->err, BRS_E_NOMEM, "out of memory");
        g->scratch = ns;
        g->scratch_cap = s->n;
    }
    gorder *cand = g->scratch;
    uint32_t nc = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const gorder *o = &s->o[i];
        if (o->side == rest && (aggr == BRS_BUY ? o->price <= limit : o->price >= limit))
            cand[nc++] = *o;
    }
    qsort(cand, nc, sizeof *cand, rest == BRS_BUY ? cmp_bids : cmp_asks);
    int fills = 0;
    for (uint32_t k = 0; k < nc && want > 0 && fills < max_fills; k++) {
        const gorder *c = &cand[k];
        int64_t q = c->qty < want || g->vol_hi ? c->qty : want;
        want -= q;
        fills++;
        brs_market_event *e = push(g, si, BRS_MEV_EXECUTE, rest);
        e->price = c->price;
        e->qty = q;
        e->order_id = c->id;
        e = push(g, si, BRS_MEV_TRADE, aggr);
        e->price = c->price;
        e->qty = q;
        e->order_id = g->next_trade++;
        for (uint32_t i = 0; i < s->n; i++)
            if (s->o[i].id == c->id) {
                s->o[i].qty -= q;
                if (s->o[i].qty == 0)
                    remove_order(s, i);
                break;
            }
    }
    return BRS_OK;
}

/* A marketable order: takes resting orders of the other side in price-time
 * priority down to its limit (a sweep when the limit is deep). */
static int take(gen *g, uint32_t si)
{
    gsym *s = &g->sym[si];
    uint8_t aggr = (uint8_t)below(&g->r, 2);
    int64_t best = aggr == BRS_BUY ? s->best_ask : s->best_bid;
    if (!best)
        return BRS_OK;
    int sweep = below(&g->r, 100) < 15;
    int64_t depth = sweep ? TICK * (1 + below(&g->r, 5)) : 0;
    int64_t limit = aggr == BRS_BUY ? best + depth : best - depth;
    int64_t want = 1 + below(&g->r, sweep ? 60 : 8);
    return hit(g, si, aggr, limit, want, MAX_FILLS);
}

__extension__ typedef unsigned __int128 u128;

/* Integer square root (floor) of a 64-bit value. */
static uint64_t isqrt64(uint64_t v)
{
    uint64_t r = 0;
    for (uint64_t b = 1ull << 62; b; b >>= 2) {
        if (v >= r + b) {
            v -= r + b;
            r = (r >> 1) + b;
        } else {
            r >>= 1;
        }
    }
    return r;
}

/* --vol regimes: alternate calm and volatile stretches of exponential length. */
static void regime_update(gen *g)
{
    while (g->regime_ns && g->ts >= g->regime_end) {
        g->vol = g->vol == g->vol_lo ? g->vol_hi : g->vol_lo;
        g->regime_end += 1 + (int64_t)((exp_q16(&g->r) * g->regime_ns) >> 16);
    }
}

/* --vol: the mid diffuses with variance vol^2 x elapsed time, as moves of s
 * ticks with probability p (s the smallest step with p <= 1, so s^2 p is the
 * variance). When the new mid is at or through the other side's touch, a
 * marketable order takes the resting orders up to it (EXECUTE + TRADE): the
 * book follows its mid, and a message is emitted (returns 1). */
static int diffuse(gen *g, uint32_t si, int *rc)
{
    gsym *s = &g->sym[si];
    int64_t dt = g->ts - s->mid_ts;
    s->mid_ts = g->ts;
    /* sigma in Q16 ticks per sqrt(minute): vol [1e-3 bp] x mid / 1e7 / TICK */
    u128 sig = (u128)g->vol * (uint64_t)s->mid * 65536u / (10000000u * (uint64_t)TICK);
    u128 v = sig * sig * (uint64_t)dt / 60000000000ull; /* Q32 ticks^2 over dt */
    const u128 one = (u128)1 << 32, cap = (u128)MAX_STEP_TICKS * MAX_STEP_TICKS << 32;
    if (v > cap)
        v = cap;
    uint64_t step = 1, vq = (uint64_t)v;
    if (v > one)
        step = (isqrt64(vq) + 65535) >> 16; /* ceil(sqrt(v)) in ticks */
    uint64_t p = vq / (step * step); /* Q32, <= 2^32 */
    if ((next_u64(&g->r) >> 32) >= p)
        return 0;
    int64_t d = TICK * (int64_t)step;
    int64_t m = below(&g->r, 2) ? s->mid + d : s->mid - d;
    if (m < 100 * TICK) /* reflect off a floor: prices stay positive */
        m = s->mid + d;
    /* room for a chase message, so the file still has exactly --events records */
    if (g->left < 2 * CHASE_FILLS + 2)
        return 0;
    s->mid = m;
    if (s->best_ask && m >= s->best_ask)
        *rc = hit(g, si, BRS_BUY, m, INT64_MAX, CHASE_FILLS);
    else if (s->best_bid && m <= s->best_bid)
        *rc = hit(g, si, BRS_SELL, m, INT64_MAX, CHASE_FILLS);
    /* more orders in the way than one message takes: the mid waits at the touch */
    if (s->best_ask && s->mid > s->best_ask)
        s->mid = s->best_ask;
    if (s->best_bid && s->mid < s->best_bid)
        s->mid = s->best_bid;
    return g->nmsg > 0;
}

/* --vol cancels: the farther from the mid of two random orders, so liquidity
 * the mid left behind is withdrawn first. */
static uint32_t pick_cancel(gen *g, gsym *s)
{
    uint32_t i = below(&g->r, s->n);
    if (!g->vol_hi)
        return i;
    uint32_t j = below(&g->r, s->n);
    int64_t di = s->o[i].price - s->mid, dj = s->o[j].price - s->mid;
    return (dj < 0 ? -dj : dj) > (di < 0 ? -di : di) ? j : i;
}

static int step(gen *g)
{
    /* Poisson arrivals: exponential gaps between messages over the whole market. */
    g->ts += 1 + (int64_t)((exp_q16(&g->r) * g->mean_gap_ns) >> 16);
    uint32_t si = below(&g->r, g->nsym);
    gsym *s = &g->sym[si];
    if (g->vol_hi) {
        int rc = BRS_OK;
        regime_update(g);
        if (diffuse(g, si, &rc) || rc)
            return rc;
    } else if (below(&g->r, 100) < 3) { /* the mid walks one tick, kept inside the spread */
        int64_t m = s->mid + (below(&g->r, 2) ? TICK : -TICK);
        if ((!s->best_bid || m > s->best_bid) && (!s->best_ask || m < s->best_ask))
            s->mid = m;
    }
    uint32_t u = below(&g->r, 1000);
    int simple_only = g->left < 2 * MAX_FILLS + 2;
    if (s->n < 40 || (s->n < LIVE_TARGET && u < 480))
        return add_order(g, si, 0);
    if (u < 480)
        u = 480 + below(&g->r, 520); /* book is full enough: not an add */
    if (u < 930 || simple_only) { /* cancel: one in ten partial */
        uint32_t i = pick_cancel(g, s);
        gorder *o = &s->o[i];
        brs_market_event *e = push(g, si, BRS_MEV_CANCEL, o->side);
        e->price = o->price;
        e->order_id = o->id;
        if (!g->vol_hi && o->qty > 1 && below(&g->r, 10) == 0) { /* --vol: whole orders (hit) */
            e->qty = 1 + below(&g->r, (uint32_t)(o->qty - 1));
            o->qty -= e->qty;
        } else {
            e->qty = o->qty;
            e->flags = BRS_MEVF_FULL;
            remove_order(s, i);
        }
        return BRS_OK;
    }
    if (u < 960) { /* modify: size down, same price, keeps priority */
        uint32_t i = below(&g->r, s->n);
        gorder *o = &s->o[i];
        if (o->qty < 2)
            return add_order(g, si, 0);
        o->qty -= 1 + below(&g->r, (uint32_t)(o->qty - 1));
        brs_market_event *e = push(g, si, BRS_MEV_MODIFY, o->side);
        e->price = o->price;
        e->qty = o->qty;
        e->order_id = o->id;
        return BRS_OK;
    }
    int rc = take(g, si);
    if (rc || g->nmsg)
        return rc;
    if (g->nmsg == 0)
        return add_order(g, si, 0);
    return BRS_OK;
}

int brs__gen_file(const char *path, const brs_gen_opts *o, brs_error *err)
{
    if (o->symbols < 1 || o->symbols > 1000)
        return brs__err(err, BRS_E_RANGE, "--symbols must be 1..1000 (got %u)", o->symbols);
    gen g = {0};
    g.err = err;
    g.nsym = o->symbols;
    g.mean_gap_ns = 1000000000ull / (o->rate ? o->rate : 1000);
    if (g.mean_gap_ns < 1)
        g.mean_gap_ns = 1;
    uint64_t sm = o->seed;
    for (int i = 0; i < 4; i++)
        g.r.s[i] = splitmix64(&sm);
    brs_instrument *ins = calloc(o->symbols, sizeof *ins);
    g.sym = calloc(o->symbols, sizeof *g.sym);
    if (!ins || !g.sym) {
        free(ins);
        free(g.sym);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < o->symbols; i++) {
        ins[i].id = i;
        snprintf(ins[i].symbol, sizeof ins[i].symbol, "GEN%03u", i);
        ins[i].price_scale = 10000;
        ins[i].tick_size = TICK;
        ins[i].lot_size = 1;
        g.sym[i].mid = TICK * (2000 + (int64_t)below(&g.r, 20000)); /* $20 .. $220 */
    }
    int rc = brs__tick_writer_open(&g.w, path, ins, o->symbols, &o->writer, err);
    free(ins);
    g.ts = 1704205800000000000ll; /* 2024-01-02T14:30:00Z */
    g.next_id = 1;
    g.next_trade = 1;
    g.left = o->events;
    g.vol_hi = o->vol;
    g.vol_lo = o->calm_vol ? o->calm_vol : o->vol / 4;
    g.regime_ns = o->vol ? o->regime_ns : 0;
    g.vol = g.regime_ns ? g.vol_lo : g.vol_hi; /* regimes start calm */
    for (uint32_t i = 0; i < g.nsym; i++)
        g.sym[i].mid_ts = g.ts;
    if (g.regime_ns)
        g.regime_end = g.ts + 1 + (int64_t)((exp_q16(&g.r) * g.regime_ns) >> 16);
    /* Each symbol opens with a snapshot of its book, so the file replays alone. */
    for (uint32_t si = 0; !rc && si < g.nsym && g.left >= 24; si++) {
        push(&g, si, BRS_MEV_SNAPSHOT_BEGIN, 0)->flags = BRS_MEVF_SNAPSHOT;
        for (int k = 0; k < 20 && !rc; k++)
            rc = add_order(&g, si, BRS_MEVF_SNAPSHOT);
        push(&g, si, BRS_MEV_SNAPSHOT_END, 0)->flags = BRS_MEVF_SNAPSHOT;
        if (!rc)
            rc = emit(&g);
    }
    brs_progress pr;
    brs__progress_start(&pr, "gen", o->events);
    while (!rc && g.left > 0) {
        rc = step(&g);
        if (!rc && g.nmsg)
            rc = emit(&g);
        if ((g.left & 0xffff) == 0)
            brs__progress_update(&pr, o->events - g.left);
    }
    brs__progress_finish(&pr);
    for (uint32_t i = 0; i < g.nsym; i++)
        free(g.sym[i].o);
    free(g.sym);
    free(g.scratch);
    if (rc) {
        brs__tick_writer_abort(g.w);
        return rc;
    }
    return brs__tick_writer_close(g.w, err);
}

int brs__gen_bars_file(const char *path, const brs_gen_opts *o, brs_error *err)
{
    uint32_t k = o->symbols ? o->symbols : 1;
    uint64_t per = o->events / k + (o->events % k ? 1 : 0);
    brs_instrument *ins = calloc(k, sizeof *ins);
    brs_market_event **walk = calloc(k, sizeof *walk);
    int rc = ins && walk ? BRS_OK : brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t s = 0; !rc && s < k; s++) {
        snprintf(ins[s].symbol, sizeof ins[s].symbol, k == 1 ? "BARS" : "BARS%03u", s);
        ins[s].price_scale = 10000;
        ins[s].tick_size = 1;
        ins[s].lot_size = 1;
        if (!(walk[s] = malloc((per ? per : 1) * sizeof **walk))) {
            rc = brs__err(err, BRS_E_NOMEM, "out of memory");
            break;
        }
        brs__bars_random_walk(walk[s], per, o->seed + s * UINT64_C(0x9E3779B97F4A7C15), s, 1000000, INT64_C(1600000000) * 1000000000);
        for (uint64_t i = 0; i < per; i++) /* keep prices positive over millions of steps */
            if (walk[s][i].bar.low < 1000) {
                int64_t up = 1000 - walk[s][i].bar.low;
                brs_market_event *e = &walk[s][i];
                e->bar.open += up, e->bar.high += up, e->bar.low += up, e->bar.close += up;
            }
    }
    brs_tick_writer *w = NULL;
    if (!rc)
        rc = brs__tick_writer_open(&w, path, ins, k, &o->writer, err);
    /* minute by minute, symbols in order; symbol s has per bars, or one fewer
     * when events does not divide evenly */
    uint64_t written = 0;
    for (uint64_t i = 0; !rc && i < per; i++)
        for (uint32_t s = 0; !rc && s < k && written < o->events; s++) {
            if (i == per - 1 && o->events % k && s >= o->events % k)
                break;
            rc = brs__tick_writer_add(w, &walk[s][i], err);
            written++;
        }
    if (w) {
        if (!rc)
            rc = brs__tick_writer_close(w, err);
        else
            brs__tick_writer_abort(w);
    }
    for (uint32_t s = 0; walk && s < k; s++)
        free(walk[s]);
    free(walk);
    free(ins);
    return rc;
}
