/* recorder.c: records a run as it happens: equity samples, orders, fills, and
 * round-trip trades matched FIFO from fills. Arrays grow geometrically, so the
 * per-event cost is a few stores and no allocation in the steady state. */
#include "an_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define NS_PER_DAY INT64_C(86400000000000)

int brs__an_fail(brs_an_recorder *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

const char *brs__an_last_error(const brs_an_recorder *r)
{
    return r->errmsg;
}

/* Grow *arr (of elem bytes) so it holds at least need elements. */
int brs__an_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return BRS_OK;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return BRS_E_NOMEM;
    *arr = p;
    *cap = nc;
    return BRS_OK;
}

int64_t brs__an_day(int64_t ts)
{
    int64_t d = ts / NS_PER_DAY;
    if (ts % NS_PER_DAY < 0)
        d--; /* floor for times before 1970 */
    return d;
}

static int series_reserve(brs_an_series *s, size_t need)
{
    if (need <= s->cap)
        return BRS_OK;
    size_t nc = s->cap ? s->cap : 256;
    while (nc < need)
        nc *= 2;
    size_t k = s->k ? s->k : 1;
    int64_t *ts = realloc(s->ts, nc * sizeof *ts);
    if (ts)
        s->ts = ts;
    double *eq = realloc(s->equity, nc * sizeof *eq);
    if (eq)
        s->equity = eq;
    double *cash = realloc(s->cash, nc * sizeof *cash);
    if (cash)
        s->cash = cash;
    double *pos = realloc(s->pos, nc * k * sizeof *pos);
    if (pos)
        s->pos = pos;
    double *price = realloc(s->price, nc * k * sizeof *price);
    if (price)
        s->price = price;
    double *bench = realloc(s->bench, nc * sizeof *bench);
    if (bench)
        s->bench = bench;
    double *qs = realloc(s->qspread, nc * sizeof *qs);
    if (qs)
        s->qspread = qs;
    if (!ts || !eq || !cash || !pos || !price || !bench || !qs)
        return BRS_E_NOMEM;
    s->cap = nc;
    return BRS_OK;
}

int brs__an_series_push(brs_an_series *s, int64_t ts, double equity, double cash,
                        const double *pos, const double *price, double bench, double qspread)
{
    if (series_reserve(s, s->n + 1))
        return BRS_E_NOMEM;
    size_t i = s->n++;
    s->ts[i] = ts;
    s->bench[i] = bench;
    s->qspread[i] = qspread;
    s->equity[i] = equity;
    s->cash[i] = cash;
    for (uint32_t j = 0; j < s->k; j++) {
        s->pos[i * s->k + j] = pos ? pos[j] : 0.0;
        s->price[i * s->k + j] = price ? price[j] : NAN;
    }
    return BRS_OK;
}

void brs__an_series_free(brs_an_series *s)
{
    free(s->ts);
    free(s->equity);
    free(s->cash);
    free(s->pos);
    free(s->price);
    free(s->bench);
    free(s->qspread);
    memset(s, 0, sizeof *s);
}

int brs__an_create(brs_an_recorder **out, const brs_an_options *opt,
                   const brs_an_instrument *instruments, uint32_t n_instruments, brs_error *err)
{
    *out = NULL;
    if (n_instruments == 0 || !instruments)
        return brs__err(err, BRS_E_INVAL, "analytics: a run needs at least one instrument");
    if (opt && opt->periods_per_year < 0)
        return brs__err(err, BRS_E_INVAL, "analytics: periods_per_year must be > 0");
    brs_an_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return brs__err(err, BRS_E_NOMEM, "analytics: out of memory");
    if (opt)
        r->opt = *opt;
    if (r->opt.periods_per_year == 0)
        r->opt.periods_per_year = 252;
    if (!(r->opt.trading_seconds_per_day > 0 && r->opt.trading_seconds_per_day <= 86400))
        r->opt.trading_seconds_per_day = 23400;
    if (r->opt.title)
        snprintf(r->title, sizeof r->title, "%s", r->opt.title);
    r->opt.title = r->title;
    r->k = n_instruments;
    r->series.k = n_instruments;
    r->inst = calloc(n_instruments, sizeof *r->inst);
    if (!r->inst) {
        free(r);
        return brs__err(err, BRS_E_NOMEM, "analytics: out of memory");
    }
    for (uint32_t i = 0; i < n_instruments; i++) {
        r->inst[i].spec = instruments[i];
        r->inst[i].spec.symbol[BRS_SYMBOL_MAX - 1] = '\0';
        if (!(r->inst[i].spec.multiplier > 0))
            r->inst[i].spec.multiplier = 1.0;
        if (r->inst[i].spec.price_scale <= 0)
            r->inst[i].spec.price_scale = 1;
    }
    int rc = brs__an_bench_setup(r, r->opt.benchmark, err);
    r->opt.benchmark = NULL; /* not kept: the caller's string */
    if (rc) {
        brs__an_destroy(r);
        return rc;
    }
    *out = r;
    return BRS_OK;
}

void brs__an_destroy(brs_an_recorder *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->k; i++) {
        free(r->inst[i].lots);
        free(r->inst[i].quotes);
    }
    free(r->inst);
    brs__an_series_free(&r->series);
    free(r->fills);
    free(r->orders);
    free(r->map_keys);
    free(r->map_vals);
    free(r->trades);
    free(r->bench_ts);
    free(r->bench_v);
    brs__an_plots_free(&r->plots);
    free(r);
}


/* ---- order id map -------------------------------------------------------------
 * Drivers usually number orders 1, 2, 3...: while every new id is the previous
 * one + 1 ("dense"), an id's row is orders[id - orders[0].id], found with no
 * hashing and with the recent orders in cache. The first id out of sequence
 * builds an open-addressing table over all orders and the map stays hashed. */

static size_t map_slot(uint64_t key, size_t cap)
{
    /* Fibonacci hashing: the top bits of the product are the well-mixed ones */
    uint64_t h = key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> (64 - __builtin_ctzll((unsigned long long)cap)));
}

static void map_put(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t id, uint32_t idx)
{
    size_t s = map_slot(id + 1, cap);
    while (keys[s])
        s = (s + 1) & (cap - 1);
    keys[s] = id + 1; /* 0 marks an empty slot */
    vals[s] = idx;
}

/* (Re)build the table with room for ncap slots from the orders array. */
static int map_rehash(brs_an_recorder *r, size_t ncap)
{
    uint64_t *keys = calloc(ncap, sizeof *keys);
    uint32_t *vals = malloc(ncap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return BRS_E_NOMEM;
    }
    for (size_t i = 0; i < r->n_orders; i++)
        map_put(keys, vals, ncap, r->orders[i].id, (uint32_t)i);
    free(r->map_keys);
    free(r->map_vals);
    r->map_keys = keys;
    r->map_vals = vals;
    r->map_cap = ncap;
    return BRS_OK;
}

static brs_an_order_rec *find_order(const brs_an_recorder *r, uint64_t id)
{
    if (!r->n_orders)
        return NULL;
    if (!r->hashed) {
        uint64_t i = id - r->orders[0].id;
        return id >= r->orders[0].id && i < r->n_orders ? &r->orders[i] : NULL;
    }
    uint64_t key = id + 1;
    for (size_t s = map_slot(key, r->map_cap);; s = (s + 1) & (r->map_cap - 1)) {
        if (r->map_keys[s] == key)
            return &r->orders[r->map_vals[s]];
        if (!r->map_keys[s])
            return NULL;
    }
}

int brs__an_reserve(brs_an_recorder *r, size_t samples, size_t orders, size_t fills)
{
    if (series_reserve(&r->series, samples) ||
        brs__an_grow((void **)&r->orders, &r->cap_orders, orders, sizeof *r->orders) ||
        brs__an_grow((void **)&r->fills, &r->cap_fills, fills, sizeof *r->fills) ||
        brs__an_grow((void **)&r->trades, &r->cap_trades, fills, sizeof *r->trades))
        return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
    for (uint32_t i = 0; i < r->k; i++) /* room for a few open lots per instrument */
        if (r->inst[i].cap < 64 &&
            brs__an_grow((void **)&r->inst[i].lots, &r->inst[i].cap, 64, sizeof *r->inst[i].lots))
            return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
    size_t mc = r->map_cap ? r->map_cap : 64;
    while (mc < orders * 2)
        mc *= 2;
    if (r->hashed && mc > r->map_cap && map_rehash(r, mc))
        return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
    return BRS_OK;
}

/* ---- time accounting --------------------------------------------------------- */

static void note_time(brs_an_recorder *r, int64_t ts)
{
    if (!r->have_time) {
        r->have_time = 1;
        r->t_first = r->t_last = r->exp_last_t = ts;
        for (uint32_t i = 0; i < r->k; i++)
            r->inst[i].last_t = ts;
    }
    if (ts > r->t_last)
        r->t_last = ts;
    if (ts < r->t_first)
        r->t_first = ts; /* an order event stamped before the first sample */
}

/* Bring the exposure clock and one instrument's |pos| integral up to ts. */
static void advance(brs_an_recorder *r, brs_an_inst_state *in, int64_t ts)
{
    if (ts > r->exp_last_t) {
        if (r->n_nonzero)
            r->exposed_ns += ts - r->exp_last_t;
        r->exp_last_t = ts;
    }
    if (ts > in->last_t) {
        in->abs_integral += (double)llabs(in->pos) * (double)(ts - in->last_t);
        in->last_t = ts;
    }
}

int64_t brs__an_sample_every(const brs_an_recorder *r)
{
    return r->opt.sample_every_ns;
}

static double quoted_spread_now(const brs_an_recorder *r);

int brs__an_sample(brs_an_recorder *r, int64_t ts, double equity, double cash,
                   const double *prices)
{
    brs_an_series *s = &r->series;
    if (s->n && ts < s->ts[s->n - 1])
        return brs__an_fail(r, BRS_E_INVAL, "analytics: equity sample at %lld is before the previous one",
                    (long long)ts);
    if (!isfinite(equity))
        return brs__an_fail(r, BRS_E_INVAL, "analytics: equity sample at %lld is not a finite number",
                    (long long)ts);
    note_time(r, ts);
    size_t i;
    int64_t every = r->opt.sample_every_ns;
    if (s->n >= 2 && every > 0 && ts / every == s->ts[s->n - 1] / every) {
        i = s->n - 1; /* same bucket: the last sample of a bucket wins (the run's first
                       * sample is always kept: it holds the starting equity) */
    } else {
        if (series_reserve(s, s->n + 1))
            return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
        i = s->n++;
    }
    s->ts[i] = ts;
    s->equity[i] = equity;
    s->cash[i] = cash;
    s->bench[i] = NAN;
    if (s->has_bench) {
        double lv = brs__an_bench_level(r, ts, prices);
        if (isfinite(lv) && lv > 0 && !isfinite(r->bench_first))
            r->bench_first = lv;
        if (isfinite(lv) && lv > 0)
            s->bench[i] = s->equity[0] * (lv / r->bench_first);
    }
    s->qspread[i] = NAN;
    if (r->opt.mode == BRS_AN_BOOK) {
        s->has_qspread = 1;
        s->qspread[i] = quoted_spread_now(r);
    }
    double *pos = s->pos + i * s->k, *price = s->price + i * s->k;
    for (uint32_t j = 0; j < s->k; j++) {
        pos[j] = (double)r->inst[j].pos;
        price[j] = prices ? prices[j] : NAN;
    }
    return BRS_OK;
}

/* ---- orders ---------------------------------------------------------------- */

int brs__an_order_new(brs_an_recorder *r, const brs_an_order *o)
{
    if (o->instrument >= r->k)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: order %llu: unknown instrument %u",
                    (unsigned long long)o->id, o->instrument);
    if (o->qty <= 0)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: order %llu: quantity %lld must be > 0",
                    (unsigned long long)o->id, (long long)o->qty);
    if (find_order(r, o->id))
        return brs__an_fail(r, BRS_E_INVAL, "analytics: order id %llu used twice",
                    (unsigned long long)o->id);
    if (r->n_orders >= UINT32_MAX)
        return brs__an_fail(r, BRS_E_LIMIT, "analytics: too many orders");
    if (brs__an_grow((void **)&r->orders, &r->cap_orders, r->n_orders + 1, sizeof *r->orders))
        return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
    int in_sequence = r->n_orders == 0 || o->id == r->orders[r->n_orders - 1].id + 1;
    if (!r->hashed && !in_sequence) {
        size_t mc = 64;
        while (mc < (r->n_orders + 1) * 2 || mc < r->cap_orders * 2)
            mc *= 2;
        if (map_rehash(r, mc))
            return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
        r->hashed = 1;
    } else if (r->hashed && (r->n_orders + 1) * 2 > r->map_cap &&
               map_rehash(r, r->map_cap * 2)) {
        return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
    }
    note_time(r, o->ts);
    brs_an_order_rec *rec = &r->orders[r->n_orders];
    memset(rec, 0, sizeof *rec);
    rec->id = o->id;
    rec->ts = rec->last_ts = o->ts;
    rec->instrument = o->instrument;
    rec->side = o->side;
    rec->type = o->type;
    rec->tif = o->tif;
    rec->status = BRS_AN_OPEN;
    rec->price = o->price;
    rec->qty = o->qty;
    if (r->hashed)
        map_put(r->map_keys, r->map_vals, r->map_cap, o->id, (uint32_t)r->n_orders);
    r->n_orders++;
    return BRS_OK;
}

int brs__an_order_done(brs_an_recorder *r, int64_t ts, uint64_t order_id, int status, int reason)
{
    brs_an_order_rec *o = find_order(r, order_id);
    if (!o)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: unknown order id %llu",
                    (unsigned long long)order_id);
    if (status != BRS_AN_CANCELLED && status != BRS_AN_REJECTED && status != BRS_AN_FILLED)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: order %llu: bad final status %d",
                    (unsigned long long)order_id, status);
    note_time(r, ts);
    o->status = (uint8_t)status;
    o->reason = reason;
    o->last_ts = ts;
    return BRS_OK;
}

int brs__an_order_replace(brs_an_recorder *r, int64_t ts, uint64_t order_id, double price,
                          int64_t qty)
{
    brs_an_order_rec *o = find_order(r, order_id);
    if (!o)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: unknown order id %llu",
                    (unsigned long long)order_id);
    if (qty <= 0)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: order %llu: replace quantity %lld must be > 0",
                    (unsigned long long)order_id, (long long)qty);
    note_time(r, ts);
    o->price = price;
    o->qty = qty;
    o->n_replaces++;
    o->last_ts = ts;
    return BRS_OK;
}

/* ---- fills, positions and FIFO trades ---------------------------------------- */

static int push_lot(brs_an_recorder *r, brs_an_inst_state *in, int64_t qty, int64_t ts,
                    double price, double fee_per_unit, uint64_t order_id)
{
    if (in->head + in->len == in->cap) {
        if (in->head > 0 && in->head >= in->len) {
            /* closed lots at the front use up at least half: slide down instead of growing */
            memmove(in->lots, in->lots + in->head, in->len * sizeof *in->lots);
            in->head = 0;
        } else if (brs__an_grow((void **)&in->lots, &in->cap, in->cap + 1, sizeof *in->lots)) {
            return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
        }
    }
    brs_an_lot *l = &in->lots[in->head + in->len++];
    l->qty = qty;
    l->ts = ts;
    l->price = price;
    l->fee_per_unit = fee_per_unit;
    l->order_id = order_id;
    return BRS_OK;
}

int brs__an_fill(brs_an_recorder *r, const brs_an_fill *f)
{
    if (f->instrument >= r->k)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: fill of order %llu: unknown instrument %u",
                    (unsigned long long)f->order_id, f->instrument);
    if (f->qty <= 0)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: fill of order %llu: quantity %lld must be > 0",
                    (unsigned long long)f->order_id, (long long)f->qty);
    if (f->side != BRS_BUY && f->side != BRS_SELL)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: fill of order %llu: bad side %u",
                    (unsigned long long)f->order_id, f->side);
    if (!isfinite(f->price) || !isfinite(f->fee))
        return brs__an_fail(r, BRS_E_INVAL, "analytics: fill of order %llu: price or fee not finite",
                    (unsigned long long)f->order_id);
    brs_an_inst_state *in = &r->inst[f->instrument];
    int64_t sq = f->side == BRS_BUY ? f->qty : -f->qty;
    /* worst case: every lot closes into its own trade, plus one new lot */
    if (brs__an_grow((void **)&r->fills, &r->cap_fills, r->n_fills + 1, sizeof *r->fills) ||
        brs__an_grow((void **)&r->trades, &r->cap_trades, r->n_trades + in->len + 1, sizeof *r->trades))
        return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
    note_time(r, f->ts);
    advance(r, in, f->ts);
    r->fills[r->n_fills++] = *f;

    double mult = in->spec.multiplier;
    double notional = fabs(f->price * (double)f->qty * mult);
    r->notional += notional;
    r->fees += f->fee;
    in->fees += f->fee;
    if (f->liquidity == BRS_LIQ_MAKER) {
        r->maker_qty += f->qty;
        r->maker_n++;
        r->maker_fees += f->fee;
    } else if (f->liquidity == BRS_LIQ_TAKER) {
        r->taker_qty += f->qty;
        r->taker_n++;
        r->taker_fees += f->fee;
    }
    brs_an_order_rec *o = find_order(r, f->order_id);
    if (o) {
        o->filled += f->qty;
        o->fill_notional += f->price * (double)f->qty;
        o->fees += f->fee;
        o->n_fills++;
        o->last_ts = f->ts;
        if (o->filled >= o->qty)
            o->status = BRS_AN_FILLED;
    }

    double fee_pu = f->fee / (double)f->qty;
    int64_t remaining = f->qty;
    if (in->pos != 0 && (in->pos > 0) != (sq > 0)) {
        int dir = in->pos > 0 ? 1 : -1;
        while (remaining > 0 && in->len > 0) {
            brs_an_lot *l = &in->lots[in->head];
            int64_t m = l->qty < remaining ? l->qty : remaining;
            brs_an_trade *t = &r->trades[r->n_trades++];
            t->instrument = f->instrument;
            t->dir = dir;
            t->qty = m;
            t->entry_ts = l->ts;
            t->exit_ts = f->ts;
            t->entry_price = l->price;
            t->exit_price = f->price;
            t->entry_fee = l->fee_per_unit * (double)m;
            t->exit_fee = fee_pu * (double)m;
            t->gross = (double)dir * (f->price - l->price) * (double)m * mult;
            t->net = t->gross - t->entry_fee - t->exit_fee;
            t->entry_order = l->order_id;
            t->exit_order = f->order_id;
            in->n_trades++;
            in->net_pnl += t->net;
            l->qty -= m;
            remaining -= m;
            if (l->qty == 0) {
                in->head++;
                in->len--;
            }
        }
        if (in->len == 0)
            in->head = 0;
    }
    if (remaining > 0 &&
        push_lot(r, in, remaining, f->ts, f->price, fee_pu, f->order_id))
        return BRS_E_NOMEM;

    int was_nonzero = in->pos != 0;
    r->gross_abs -= llabs(in->pos);
    in->pos += sq;
    r->gross_abs += llabs(in->pos);
    if (llabs(in->pos) > in->max_abs)
        in->max_abs = llabs(in->pos);
    if (r->gross_abs > r->gross_max_abs)
        r->gross_max_abs = r->gross_abs;
    if (was_nonzero && in->pos == 0)
        r->n_nonzero--;
    else if (!was_nonzero && in->pos != 0)
        r->n_nonzero++;
    return BRS_OK;
}

int brs__an_order_submitted(brs_an_recorder *r, const brs_order *o)
{
    if (o->instrument >= r->k)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: order %llu: unknown instrument %u",
                    (unsigned long long)o->id, o->instrument);
    brs_an_order a = {
        .id = o->id,
        .ts = o->ts,
        .instrument = o->instrument,
        .side = o->side,
        .type = o->type,
        .tif = o->tif,
        .price = o->type == BRS_MARKET
                     ? NAN
                     : (double)o->price / (double)r->inst[o->instrument].spec.price_scale,
        .qty = o->qty,
    };
    return brs__an_order_new(r, &a);
}

/* ---- quoting figures: our best resting bid and ask over time ---------------- */

/* Best bid and ask among our resting orders of one instrument (0 when none):
 * the cached pair, or a scan when a change may have moved it. */
static void quote_best(const brs_an_inst_state *in, double *bid, double *ask)
{
    if (in->best_ok) {
        *bid = in->best_bid;
        *ask = in->best_ask;
        return;
    }
    *bid = *ask = 0;
    for (uint32_t i = 0; i < in->n_quotes; i++) {
        const struct brs_an_quote *q = &in->quotes[i];
        if (q->side == BRS_BUY && (*bid == 0 || q->price > *bid))
            *bid = q->price;
        else if (q->side != BRS_BUY && (*ask == 0 || q->price < *ask))
            *ask = q->price;
    }
}

/* Our quoted spread now, in bp of its mid, on the first instrument where we ever
 * quoted; NaN when we are not on both sides. For the report's chart. */
static double quoted_spread_now(const brs_an_recorder *r)
{
    for (uint32_t j = 0; j < r->k; j++) {
        const brs_an_inst_state *in = &r->inst[j];
        if (!in->q_first_t)
            continue;
        double bid, ask;
        quote_best(in, &bid, &ask);
        return bid > 0 && ask > bid ? (ask - bid) / ((ask + bid) / 2) * 1e4 : NAN;
    }
    return NAN;
}

size_t brs__an_maker_waits(const brs_an_recorder *r, double **out)
{
    *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->n_fills; i++)
        n += r->fills[i].liquidity == BRS_LIQ_MAKER;
    if (!n || !(*out = malloc(n * sizeof **out)))
        return 0;
    n = 0;
    for (size_t i = 0; i < r->n_fills; i++) {
        const brs_an_fill *f = &r->fills[i];
        const brs_an_order_rec *o = f->liquidity == BRS_LIQ_MAKER ? find_order(r, f->order_id) : NULL;
        if (o)
            (*out)[n++] = (double)(f->ts - o->ts) / 1e9;
    }
    return n;
}

/* The quoting state held from q_last_t until t: add it to the integrals. */
void brs__an_quote_advance(const brs_an_inst_state *in, int64_t t, int64_t *two_sided_ns,
                           double *spread_bps_ns)
{
    *two_sided_ns = in->two_sided_ns;
    *spread_bps_ns = in->spread_bps_ns;
    if (!in->q_first_t || t <= in->q_last_t)
        return;
    double bid, ask;
    quote_best(in, &bid, &ask);
    if (bid > 0 && ask > 0 && ask > bid) {
        double dt = (double)(t - in->q_last_t);
        *two_sided_ns += t - in->q_last_t;
        *spread_bps_ns += (ask - bid) / ((ask + bid) / 2) * 1e4 * dt;
    }
}

static void quote_to(brs_an_inst_state *in, int64_t t)
{
    brs__an_quote_advance(in, t, &in->two_sided_ns, &in->spread_bps_ns);
    if (t > in->q_last_t)
        in->q_last_t = t;
    if (!in->best_ok) { /* keep the scan's answer until the best may move again */
        quote_best(in, &in->best_bid, &in->best_ask);
        in->best_ok = 1;
    }
}

/* Order o (of r) rests at price; price <= 0: it no longer rests. Its quote is
 * found through the order record, so a change costs O(1) except when the best
 * price on its side leaves or worsens (one scan of the resting orders). */
static int quote_set(brs_an_recorder *r, brs_an_order_rec *o, int64_t t, uint8_t side, double price)
{
    if (!o || (!o->quote && price <= 0))
        return BRS_OK;
    brs_an_inst_state *in = &r->inst[o->instrument];
    quote_to(in, t);
    double *best = side == BRS_BUY ? &in->best_bid : &in->best_ask;
    if (o->quote) {
        struct brs_an_quote *q = &in->quotes[o->quote - 1];
        int worse = price <= 0 || (side == BRS_BUY ? price < q->price : price > q->price);
        if (worse && q->price == *best)
            in->best_ok = 0;
        if (price <= 0) { /* the last quote moves into its slot */
            uint32_t k = o->quote - 1;
            o->quote = 0;
            in->quotes[k] = in->quotes[--in->n_quotes];
            if (k < in->n_quotes) {
                brs_an_order_rec *moved = find_order(r, in->quotes[k].id);
                if (moved)
                    moved->quote = k + 1;
            }
            return BRS_OK;
        }
        q->price = price;
    } else {
        if (in->n_quotes == in->cap_quotes) {
            uint32_t nc = in->cap_quotes ? in->cap_quotes * 2 : 8;
            struct brs_an_quote *nq = realloc(in->quotes, nc * sizeof *nq);
            if (!nq)
                return brs__an_fail(r, BRS_E_NOMEM, "analytics: out of memory");
            in->quotes = nq;
            in->cap_quotes = nc;
        }
        in->quotes[in->n_quotes] = (struct brs_an_quote){o->id, price, side};
        o->quote = ++in->n_quotes;
        if (!in->q_first_t)
            in->q_first_t = in->q_last_t = t > 0 ? t : 1;
    }
    if (in->best_ok && (*best == 0 || (side == BRS_BUY ? price > *best : price < *best)))
        *best = price;
    return BRS_OK;
}

int brs__an_order_event(brs_an_recorder *r, const brs_order_event *ev)
{
    if (ev->instrument >= r->k)
        return brs__an_fail(r, BRS_E_INVAL, "analytics: order event for unknown instrument %u",
                    ev->instrument);
    double scale = (double)r->inst[ev->instrument].spec.price_scale;
    /* fees are in price units x qty units, like a notional: scale and multiply alike */
    double fee_mult = r->inst[ev->instrument].spec.multiplier;
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED: {
        brs_an_order_rec *o = find_order(r, ev->order_id);
        if (o) {
            o->price = (double)ev->price / scale; /* post-only may have repriced it */
            o->last_ts = ev->ts;
        }
        if (ev->leaves > 0 && o && o->type != BRS_MARKET && ev->price > 0)
            return quote_set(r, o, ev->ts, ev->side, (double)ev->price / scale);
        return BRS_OK;
    }
    case BRS_OEV_REJECTED:
        quote_set(r, find_order(r, ev->order_id), ev->ts, ev->side, 0);
        return brs__an_order_done(r, ev->ts, ev->order_id, BRS_AN_REJECTED, ev->reason);
    case BRS_OEV_CANCELLED:
        quote_set(r, find_order(r, ev->order_id), ev->ts, ev->side, 0);
        return brs__an_order_done(r, ev->ts, ev->order_id, BRS_AN_CANCELLED, ev->reason);
    case BRS_OEV_REPLACED:
        quote_set(r, find_order(r, ev->order_id), ev->ts, ev->side,
                  ev->leaves > 0 ? (double)ev->price / scale : 0);
        return brs__an_order_replace(r, ev->ts, ev->order_id, (double)ev->price / scale,
                                     ev->cum_qty + ev->leaves);
    case BRS_OEV_FILL: {
        if (ev->leaves == 0)
            quote_set(r, find_order(r, ev->order_id), ev->ts, ev->side, 0);
        brs_an_fill f = {
            .ts = ev->ts,
            .order_id = ev->order_id,
            .instrument = ev->instrument,
            .side = ev->side,
            .liquidity = ev->liquidity,
            .qty = ev->qty,
            .price = (double)ev->price / scale,
            .fee = (double)ev->fee / scale * fee_mult,
        };
        return brs__an_fill(r, &f);
    }
    default:
        return brs__an_fail(r, BRS_E_INVAL, "analytics: unknown order event kind %u", ev->kind);
    }
}

void brs__an_set_extra(brs_an_recorder *r, const char *name, double v)
{
    uint32_t i;
    for (i = 0; i < r->n_extra; i++)
        if (!strcmp(r->extra[i].name, name))
            break;
    if (i == BRS_AN_MAX_EXTRA)
        return;
    if (i == r->n_extra) {
        snprintf(r->extra[i].name, sizeof r->extra[i].name, "%s", name);
        r->n_extra++;
    }
    r->extra[i].v = v;
}
