/* signal.c: the signal-mode engine. Bars go to the strategy one by one; what it
 * asks for (a target in [-1, 1] through xSetTarget, a precomputed targets array
 * through xSetTargets, or plain orders) is executed at the next bar's open by
 * default, so a signal computed from bar t's close never trades at that close
 * (no look-ahead). Costs: commission, slippage and square-root market impact
 * (docs/backtesting.md). Cash and equity are doubles in currency: this is
 * analytics territory; the bars themselves stay integer ticks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "core/core.h"
#include "core/interrupt.h"
#include "signal_internal.h"


double brs__bt_commission(const brs__bt_signal_opts *o, double units, double notional)
{
    if (units == 0)
        return 0.0;
    double c = o->commission_per_share * fabs(units) + o->commission_bps * 1e-4 * fabs(notional);
    return c < o->commission_min ? o->commission_min : c;
}

int64_t brs__bt_steps(double units, double step)
{
    double q = units / step;
    double r = nearbyint(q);
    if (fabs(q - r) <= 1e-9 * fmax(1.0, fabs(q)))
        return (int64_t)r;
    return (int64_t)q; /* toward zero */
}

double brs__bt_signal_equity(const brs__bt_signal *s)
{
    double e = s->cash;
    for (uint32_t i = 0; i < s->n_in; i++)
        if (s->in[i].pos && !isnan(s->in[i].mark))
            e += (double)s->in[i].pos * s->in[i].step * s->in[i].mark;
    return e;
}

static void rec_check(brs__bt_signal *s, int rc)
{
    if (rc && !s->rec_failed) {
        s->rec_failed = rc;
        snprintf(s->rec_error, sizeof s->rec_error, "recorder: %s", brs__an_last_error(s->rec));
    }
}

/* Adverse price move, as a fraction, of trading qty now: slippage plus
 * k * sigma * sqrt(qty / ADV) over the window before this bar. */
static double cost_frac(const brs__bt_signal *s, const sig_instr *in, int64_t qty)
{
    double f = 0.0;
    if (s->o.slippage == BRS__BT_SLIP_BPS)
        f += s->o.slippage_bps * 1e-4;
    else if (s->o.slippage == BRS__BT_SLIP_HALF_SPREAD)
        f += 0.5 * s->o.spread_bps * 1e-4;
    if (s->o.impact_k > 0 && in->ring_n >= 2 && in->sum_v > 0) {
        double n = in->ring_n;
        double var = (in->sum_r2 - in->sum_r * in->sum_r / n) / (n - 1);
        double adv = in->sum_v / n;
        if (var > 0)
            f += s->o.impact_k * sqrt(var) * sqrt((double)llabs(qty) * in->step / adv);
    }
    return f;
}

/* One execution: cash, position, the recorder and the strategy's view.
 * price is currency per unit after costs; fee currency. */
static void fill(brs__bt_signal *s, brs__sctx *sc, uint32_t ii, uint64_t order_id, uint8_t side,
                 int64_t qty, double price, double fee, int64_t order_qty, int64_t cum,
                 int64_t ts)
{
    sig_instr *in = &s->in[ii];
    int64_t signed_qty = side == BRS_BUY ? qty : -qty;
    s->cash -= (double)signed_qty * in->step * price + fee;
    in->pos += signed_qty;
    s->n_fills++;
    if (s->rec) {
        brs_an_fill f = {.ts = ts, .order_id = order_id, .instrument = ii, .side = side,
                         .liquidity = BRS_LIQ_NONE, .qty = qty, .price = price, .fee = fee};
        rec_check(s, brs__an_fill(s->rec, &f));
    }
    brs_order_event ev = {.kind = BRS_OEV_FILL, .side = side, .liquidity = BRS_LIQ_TAKER,
                          .instrument = ii, .order_id = order_id, .ts = ts,
                          .price = llround(price * in->scale), .qty = qty,
                          .leaves = order_qty - cum, .cum_qty = cum,
                          .fee = llround(fee * in->scale)};
    brs__sctx_order_event(sc, &ev);
}

static int64_t lots(int64_t q, int64_t lot) { return lot > 1 ? q / lot * lot : q; }


/* Trade instrument ii to its pending target at raw price p (currency). */
static void exec_target(brs__bt_signal *s, brs__sctx *sc, uint32_t ii, double p, int64_t ts)
{
    sig_instr *in = &s->in[ii];
    in->has_target = 0;
    /* A target is a wanted position: sent again unchanged it does not resize
     * the position to the new equity (no drift trading on every bar). */
    if (in->target == in->done_target)
        return;
    in->done_target = in->target;
    double want;
    if (s->o.sizing == BRS__BT_SIZE_FIXED) {
        want = in->target * s->o.fixed_qty;
    } else {
        double mark = in->mark;
        in->mark = p; /* equity marked at the execution price */
        double eq = brs__bt_signal_equity(s);
        in->mark = mark;
        want = eq > 0 ? in->target * s->o.fraction * eq / p : 0.0;
    }
    if (!isfinite(want) || fabs(want / in->step) > 9e15)
        return;
    int64_t q = lots(brs__bt_steps(want, in->step), in->lot);
    int64_t delta = q - in->pos;
    if (delta == 0)
        return;
    uint8_t side = delta > 0 ? BRS_BUY : BRS_SELL;
    int64_t qty = llabs(delta);
    double f = cost_frac(s, in, qty);
    double px = side == BRS_BUY ? p * (1 + f) : p * (1 - f);
    double units = (double)qty * in->step;
    double fee = brs__bt_commission(&s->o, units, px * units);
    uint64_t id = sc->next_order_id++; /* one id sequence with the strategy's own orders */
    s->n_submitted++;
    if (s->rec) {
        brs_an_order ao = {.id = id, .ts = ts, .instrument = ii, .side = side, .type = BRS_MARKET,
                           .tif = BRS_IOC, .price = NAN, .qty = qty};
        rec_check(s, brs__an_order_new(s->rec, &ao));
    }
    fill(s, sc, ii, id, side, qty, px, fee, qty, qty, ts);
}

static void order_drop(brs__bt_signal *s, uint32_t k)
{
    memmove(&s->orders[k], &s->orders[k + 1], (s->n_orders - k - 1) * sizeof *s->orders);
    s->n_orders--;
}

static void order_event(brs__bt_signal *s, brs__sctx *sc, const brs_order *o, uint8_t kind,
                        int32_t reason, int64_t ts)
{
    if (s->rec && (kind == BRS_OEV_CANCELLED || kind == BRS_OEV_REJECTED))
        rec_check(s, brs__an_order_done(s->rec, ts, o->id,
                                        kind == BRS_OEV_CANCELLED ? BRS_AN_CANCELLED : BRS_AN_REJECTED,
                                        reason));
    brs_order_event ev = {.kind = kind, .side = o->side, .reason = reason,
                          .instrument = o->instrument, .order_id = o->id, .ts = ts,
                          .price = o->price, .qty = o->qty,
                          .leaves = kind == BRS_OEV_ACCEPTED ? o->qty : 0};
    brs__sctx_order_event(sc, &ev);
}

/* The strategy's orders on instrument ii that may execute now. At the open of
 * bar t (`at_open`) that is every order sent before bar t was seen: market
 * orders fill at the open, limits at the open when it is through them, else at
 * their limit when the bar's range trades through it, IOC/FOK are cancelled
 * when not filled at the open. At the close (same-close mode) the orders sent
 * during bar t: market and marketable limits fill at the close. */
static void exec_orders(brs__bt_signal *s, brs__sctx *sc, uint32_t ii, const brs_market_event *b,
                        int at_open)
{
    sig_instr *in = &s->in[ii];
    int64_t t = at_open ? in->cur + 1 : in->cur; /* the bar being executed on */
    double ref = (double)(at_open ? b->bar.open : b->bar.close) / in->scale;
    int64_t ts = b->ts_exchange;
    for (uint32_t k = 0; k < s->n_orders;) {
        sig_order *so = &s->orders[k];
        if (so->o.instrument != ii || (at_open ? so->armed >= t : so->armed != t)) {
            k++;
            continue;
        }
        brs_order o = so->o;
        int buy = o.side == BRS_BUY;
        double lim = (double)o.price / in->scale;
        int takes = o.type == BRS_MARKET || (buy ? ref <= lim : ref >= lim);
        if (takes) {
            double f = cost_frac(s, in, o.qty);
            double px = buy ? ref * (1 + f) : ref * (1 - f);
            if (o.type == BRS_LIMIT && (buy ? px > lim : px < lim))
                px = lim; /* a limit never pays worse than its limit */
            order_drop(s, k);
            fill(s, sc, ii, o.id, o.side, o.qty, px, brs__bt_commission(&s->o, (double)o.qty * in->step, px * (double)o.qty * in->step),
                 o.qty, o.qty, ts);
            continue;
        }
        if (o.tif == BRS_IOC || o.tif == BRS_FOK) {
            order_drop(s, k);
            order_event(s, sc, &o, BRS_OEV_CANCELLED, BRS_E_NOLIQUIDITY, ts);
            continue;
        }
        if (at_open && (buy ? b->bar.low < o.price : b->bar.high > o.price)) {
            order_drop(s, k); /* traded through during the bar: filled passively at the limit */
            fill(s, sc, ii, o.id, o.side, o.qty, lim, brs__bt_commission(&s->o, (double)o.qty * in->step, lim * (double)o.qty * in->step),
                 o.qty, o.qty, ts);
            continue;
        }
        k++;
    }
}

static void stats_push(brs__bt_signal *s, sig_instr *in, const brs_market_event *b)
{
    if (s->o.impact_k <= 0)
        return;
    double close = (double)b->bar.close;
    if (in->prev_close > 0) {
        double r = log(close / in->prev_close), v = (double)b->bar.volume;
        uint32_t w = s->o.impact_window;
        if (in->ring_n == w) {
            double r0 = in->ret[in->ring_i], v0 = in->vol[in->ring_i];
            in->sum_r -= r0;
            in->sum_r2 -= r0 * r0;
            in->sum_v -= v0;
        } else {
            in->ring_n++;
        }
        in->ret[in->ring_i] = r;
        in->vol[in->ring_i] = v;
        in->sum_r += r;
        in->sum_r2 += r * r;
        in->sum_v += v;
        in->ring_i = (in->ring_i + 1) % w;
    }
    in->prev_close = close;
}

/* ---- the brs__exec the strategy context calls --------------------------- */

static int x_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    brs__bt_signal *s = self;
    if (s->n_orders == s->cap_orders)
        return BRS_E_LIMIT; /* the runtime turns it into a REJECTED event */
    if (o->flags & (BRS_OF_POST_ONLY | BRS_OF_POST_REPRICE))
        return BRS_E_UNSUPPORTED; /* bars have no book to rest in front of */
    s->orders[s->n_orders++] = (sig_order){.o = *o, .armed = s->in[o->instrument].cur};
    s->n_submitted++;
    if (s->rec) {
        sig_instr *in = &s->in[o->instrument];
        brs_an_order ao = {.id = o->id, .ts = sc->now, .instrument = o->instrument, .side = o->side,
                           .type = o->type, .tif = o->tif,
                           .price = o->type == BRS_MARKET ? NAN : (double)o->price / in->scale,
                           .qty = o->qty};
        rec_check(s, brs__an_order_new(s->rec, &ao));
    }
    order_event(s, sc, o, BRS_OEV_ACCEPTED, 0, sc->now);
    return BRS_OK;
}

static int find_order(const brs__bt_signal *s, uint64_t id)
{
    for (uint32_t k = 0; k < s->n_orders; k++)
        if (s->orders[k].o.id == id)
            return (int)k;
    return -1;
}

static int x_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    brs__bt_signal *s = self;
    int k = find_order(s, id);
    if (k < 0)
        return BRS_E_UNKNOWNORDER;
    brs_order o = s->orders[k].o;
    order_drop(s, (uint32_t)k);
    order_event(s, sc, &o, BRS_OEV_CANCELLED, 0, sc->now);
    return BRS_OK;
}

static int x_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    brs__bt_signal *s = self;
    int k = find_order(s, id);
    if (k < 0)
        return BRS_E_UNKNOWNORDER;
    if (qty <= 0)
        return BRS_E_INVAL;
    sig_order *so = &s->orders[k];
    so->o.price = price;
    so->o.qty = qty;
    so->armed = s->in[so->o.instrument].cur; /* a changed order waits for the next bar again */
    if (s->rec)
        rec_check(s, brs__an_order_replace(s->rec, sc->now, id,
                                           (double)price / s->in[so->o.instrument].scale, qty));
    brs_order_event ev = {.kind = BRS_OEV_REPLACED, .side = so->o.side, .instrument = so->o.instrument,
                          .order_id = id, .ts = sc->now, .price = price, .qty = qty, .leaves = qty};
    brs__sctx_order_event(sc, &ev);
    return BRS_OK;
}

static int x_set_target(void *self, brs__sctx *sc, uint32_t instrument, double target)
{
    (void)sc;
    brs__bt_signal *s = self;
    sig_instr *in = &s->in[instrument];
    in->target = target;
    in->t_armed = in->cur;
    in->has_target = 1;
    return BRS_OK;
}

brs__exec brs__bt_signal_exec(brs__bt_signal *s)
{
    return (brs__exec){.self = s, .xSubmit = x_submit, .xCancel = x_cancel, .xReplace = x_replace,
                       .xSetTarget = x_set_target, .xSetTargets = brs__bt_sig_set_targets, .xBars = brs__bt_sig_bars,
                       .xBarColumns = brs__bt_sig_bar_columns,
                       .xSetTargetsAt = brs__bt_sig_set_targets_at};
}

/* ---- lifecycle and the loop --------------------------------------------- */

int brs__bt_signal_create(brs__bt_signal **out, const brs__bt_bars *bars,
                          const brs__bt_signal_opts *opts, brs_an_recorder *rec, brs_error *err)
{
    *out = NULL;
    brs__bt_signal *s = calloc(1, sizeof *s);
    if (!s)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    s->o = *opts;
    if (s->o.impact_window < 2)
        s->o.impact_window = 20;
    s->bars = bars;
    s->rec = rec;
    s->n_in = bars->n_instr;
    s->cash = opts->initial_cash;
    s->cap_orders = 4096;
    s->in = calloc(s->n_in ? s->n_in : 1, sizeof *s->in);
    s->orders = calloc(s->cap_orders, sizeof *s->orders);
    s->prices = calloc(s->n_in ? s->n_in : 1, sizeof *s->prices);
    if (!s->in || !s->orders || !s->prices)
        goto nomem;
    for (uint32_t i = 0; i < s->n_in; i++) {
        sig_instr *in = &s->in[i];
        in->n = bars->n[i];
        const brs_market_event *r = bars->bars[i];
        if (r) {
            in->rec = r;
            in->v = (bar_view){&r->ts_exchange, &r->ts_local, &r->bar.open, &r->bar.high,
                               &r->bar.low, &r->bar.close, &r->bar.volume,
                               sizeof *r / sizeof(int64_t), 0};
        } else if (i == 0 && bars->lazy) { /* decoded block by block as the loop goes */
            size_t mc = bars->lazy->max_count ? bars->lazy->max_count : 1;
            if (!(in->lzs = calloc(1, sizeof *in->lzs)) ||
                !(in->lzs->w[0].buf = malloc(3 * mc * sizeof(int64_t))) ||
                !(in->lzs->w[1].buf = malloc(3 * mc * sizeof(int64_t))))
                goto nomem;
            in->lzs->lz = bars->lazy;
            in->lzs->cols = &bars->cols[i];
            in->cols = bars->cols[i];
        } else if (bars->cols && bars->cols[i].ts) {
            in->cols = bars->cols[i];
            const brs_bar_columns *c = &in->cols;
            in->v = (bar_view){c->ts, c->ts_local, c->open, c->high, c->low, c->close, c->volume, 1, 0};
        } /* else no bar at all for this instrument (n is 0): nothing is read */
        in->cur = -1;
        in->scale = bars->instr[i].price_scale > 0 ? (double)bars->instr[i].price_scale : 1.0;
        in->lot = bars->instr[i].lot_size > 0 ? bars->instr[i].lot_size : 1;
        in->step = opts->qty_step && opts->qty_step[i] > 0 ? opts->qty_step[i] : 1.0;
        in->mark = NAN;
        in->done_target = NAN;
        s->prices[i] = NAN;
        if (s->o.impact_k > 0) {
            in->ret = calloc(s->o.impact_window, sizeof *in->ret);
            in->vol = calloc(s->o.impact_window, sizeof *in->vol);
            if (!in->ret || !in->vol)
                goto nomem;
        }
    }
    *out = s;
    return BRS_OK;
nomem:
    brs__bt_signal_destroy(s);
    return brs__err(err, BRS_E_NOMEM, "out of memory");
}

void brs__bt_signal_destroy(brs__bt_signal *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; s->in && i < s->n_in; i++) {
        sig_instr *in = &s->in[i];
        if (in->own_cols) {
            const int64_t *own[] = {in->cols.ts, in->cols.ts_local, in->cols.open, in->cols.high,
                                    in->cols.low, in->cols.close, in->cols.volume};
            for (int f = 0; f < 7; f++)
                free((void *)own[f]);
        }
        free(in->made);
        if (in->lzs) {
            free(in->lzs->w[0].buf);
            free(in->lzs->w[1].buf);
            free(in->lzs);
        }
        free(s->in[i].targets);
        free(s->in[i].tcode);
        free(s->in[i].ret);
        free(s->in[i].vol);
    }
    free(s->in);
    free(s->orders);
    free(s->prices);
    free(s);
}

/* The next bar in time order across instruments (ties: lower instrument). */
static int next_bar(const brs__bt_signal *s)
{
    int best = -1;
    int64_t bts = 0;
    for (uint32_t i = 0; i < s->n_in; i++) {
        const sig_instr *in = &s->in[i];
        if ((uint64_t)(in->cur + 1) >= in->n)
            continue;
        int64_t ts = ts_at(in, (uint64_t)(in->cur + 1));
        if (best < 0 || ts < bts) {
            best = (int)i;
            bts = ts;
        }
    }
    return best;
}

/* Where bar t's close is held, if no decoding is needed to read it (NULL:
 * not decoded yet), for a prefetch. (Not a function that prefetches: GCC
 * takes a void function doing only that as pure and drops its calls.) */
static inline const int64_t *close_ptr(const sig_instr *in, uint64_t t)
{
    if (!in->lzs)
        return in->v.close ? &AT(&in->v, close, t) : NULL;
    for (int k = 0; k < 2; k++) {
        const lazy_win *w = &in->lzs->w[k];
        if (t - w->lo < w->hi - w->lo)
            return &AT(&w->v, close, t);
    }
    return NULL;
}

#define PREFETCH_CLOSE(in, t)                          \
    do {                                               \
        const int64_t *pf_ = close_ptr((in), (t));     \
        if (pf_)                                       \
            __builtin_prefetch(pf_);                   \
    } while (0)

/* The last time in the recorder's sampling bucket of ts (buckets are ts /
 * every, truncated, as in brs__an_sample). */
static int64_t bucket_last(int64_t ts, int64_t every)
{
    int64_t q = ts / every, hi;
    if (q < 0)
        return q * every;
    if (__builtin_mul_overflow(q, every, &hi) || __builtin_add_overflow(hi, every - 1, &hi))
        return INT64_MAX;
    return hi;
}

/* The last bar from t on (bars in time order) stamped at or before h. */
static uint64_t last_at_or_before(const sig_instr *in, uint64_t t, uint64_t last, int64_t h)
{
    uint64_t step = 1;
    while (t + step <= last && ts_at(in, t + step) <= h) { /* gallop: buckets are short */
        t += step;
        step *= 2;
    }
    uint64_t hi = t + step <= last ? t + step : last; /* b[hi] > h unless hi == last */
    while (t < hi) {
        uint64_t mid = t + (hi - t + 1) / 2;
        if (ts_at(in, mid) <= h)
            t = mid;
        else
            hi = mid - 1;
    }
    return t;
}

/* The quiet stretch: with one instrument, no order, target or timer pending
 * (or only the target already held) and no code of the strategy to run on a
 * bar, a bar whose precomputed target is none or the one already held changes
 * nothing but the marks, and a sample the next bar overwrites (same recorder
 * bucket) is never seen. Such bars are passed over here without being read
 * (the bucket's end is found by a search, the targets scanned alone); the bar
 * that matters (a new target, the last of a sampling bucket, the last bar) goes
 * through the full step, which finds the marks, clock and last price the
 * skipped bars would have left. */
static uint64_t skip_quiet(brs__bt_signal *s, brs__sctx *sc, int64_t every, uint64_t *bucket_end)
{
    sig_instr *in = &s->in[0];
    uint64_t t0 = (uint64_t)(in->cur + 1), n = in->n;
    if (t0 + 1 >= n)
        return 0; /* the last bar always steps */
    uint64_t end = n - 1;
    if (every > 0) { /* the bucket's last bar keeps its sample: it steps */
        if (*bucket_end == UINT64_MAX || t0 > *bucket_end) { /* found once per bucket */
            *bucket_end = last_at_or_before(in, t0, n - 1, bucket_last(ts_at(in, t0), every));
            PREFETCH_CLOSE(in, *bucket_end);
        }
        end = *bucket_end;
    }
    uint64_t t = t0;
    double held = in->done_target;
    if (in->tcode) {
        if (!in->quiet_ok || !(in->quiet_for == held || (isnan(held) && isnan(in->quiet_for)))) {
            memset(in->quiet, 0, sizeof in->quiet);
            in->quiet[TG_NONE] = 1;
            for (uint32_t c = 0; c < in->n_tval; c++)
                in->quiet[c] = in->tval[c] == held;
            in->quiet_for = held;
            in->quiet_ok = 1;
        }
        const uint8_t *tc = in->tcode;
        while (t < end && in->quiet[tc[t]]) { /* a run of one code: 8 bytes at a time */
            uint8_t c = tc[t];
            uint64_t w = 0x0101010101010101ull * c;
            for (uint64_t x; t + 8 <= end; t += 8) {
                memcpy(&x, tc + t, sizeof x);
                if (x != w)
                    break;
            }
            while (t < end && tc[t] == c)
                t++;
        }
        /* the bar after the next change of target is where the next full step
         * will most likely read its close: ask for that cache line now (the
         * closes are a column of 8 bytes a bar read ~50 bars apart, a miss
         * each time otherwise) */
        if (t < n) {
            uint64_t u = t + 1, lim = n - t > 4096 ? t + 4096 : n;
            uint64_t w = 0x0101010101010101ull * tc[t];
            for (uint64_t x; u + 8 <= lim; u += 8) {
                memcpy(&x, tc + u, sizeof x);
                if (x != w)
                    break;
            }
            while (u < lim && tc[u] == tc[t])
                u++;
            PREFETCH_CLOSE(in, u - 1);
        }
    } else if (in->targets) {
        const double *tg = in->targets;
        while (t < end && (isnan(tg[t]) || tg[t] == held))
            t++;
    } else {
        t = end;
    }
    if (t == t0)
        return 0;
    /* the clock: the latest time a skipped bar carried (exchange, or local) */
    int64_t now = ts_at(in, t - 1);
    int64_t close = close_at(in, t - 1);
    if (s->bars->local_late)
        for (uint64_t k = t0; k < t; k++)
            if (tl_at(in, k) > now)
                now = tl_at(in, k);
    in->cur = (int64_t)t - 1;
    in->has_target = 0; /* what was pending was the target held: executing it was a no-op */
    in->mark = (double)close / in->scale;
    brs__sctx_skip_bars(sc, 0, now, close);
    return t - t0;
}

static int sample(brs__bt_signal *s, int64_t ts)
{
    if (!s->rec)
        return BRS_OK;
    for (uint32_t i = 0; i < s->n_in; i++)
        s->prices[i] = s->in[i].mark;
    int rc = brs__an_sample(s->rec, ts, brs__bt_signal_equity(s), s->cash, s->prices);
    rec_check(s, rc);
    return rc;
}

int brs__bt_signal_run(brs__bt_signal *s, brs__sctx *sc, int progress, brs__bt_result *res,
                       brs_error *err)
{
    brs_progress pr;
    brs__progress_start(&pr, "backtest", s->bars->total);
    int64_t t0 = brs__monotime_ns();
    uint64_t done = 0;
    s->sc = sc;
    int first = 1;
    int single = s->n_in == 1;
    int rc = BRS_OK;
    /* the quiet stretch needs one instrument, next-open execution, no impact
     * statistics, and samples that a later one in the same bucket replaces */
    int64_t every = s->rec ? brs__an_sample_every(s->rec) : 0;
    uint64_t bucket_end = UINT64_MAX;
    int may_skip = single && !s->o.same_close && s->o.impact_k <= 0 && (!s->rec || every > 0);
    if (s->rec) { /* room for an order and a fill per change of the precomputed
                   * targets (an estimate: the arrays still grow past it), so
                   * the recorder does not copy them as they grow in the loop */
        uint64_t est = 0;
        for (uint32_t i = 0; i < s->n_in; i++)
            est += s->in[i].tg_changes < s->in[i].n ? s->in[i].tg_changes : s->in[i].n;
        if (est) /* a hint: out of memory here only leaves the growth to the loop */
            (void)brs__an_reserve(s->rec, 0, (size_t)est + 64, (size_t)est + 64);
    }
    uint64_t next_progress = 4096;
    for (;;) {
        if (may_skip && s->in[0].cur >= 0 && !s->n_orders &&
            (!s->in[0].has_target || s->in[0].target == s->in[0].done_target) &&
            brs__sctx_bars_quiet(sc))
            done += skip_quiet(s, sc, every, &bucket_end);
        int ii = single ? ((uint64_t)(s->in[0].cur + 1) < s->in[0].n ? 0 : -1) : next_bar(s);
        if (ii < 0)
            break;
        sig_instr *in = &s->in[ii];
        brs_market_event tmp;
        const brs_market_event *b = bar_rec(in, (uint32_t)ii, (uint64_t)(in->cur + 1), &tmp);
        int64_t ts = b->ts_exchange;
        if (first) {
            first = 0;
            /* The starting equity. At next-open nothing can trade before bar 0's
             * close, so the sample after bar 0 is it; a separate one at the same
             * time would add a zero daily return. */
            if (s->o.same_close)
                sample(s, ts);
        }
        brs__sctx_advance(sc, ts);
        /* 1. the open: what was asked for before this bar was seen */
        if (s->n_orders)
            exec_orders(s, sc, (uint32_t)ii, b, 1);
        if (in->has_target && in->t_armed < in->cur + 1 && !s->o.same_close)
            exec_target(s, sc, (uint32_t)ii, (double)b->bar.open / in->scale, ts);
        /* 2. the strategy sees the bar (a precomputed target for it first, so a
         *    callback can still override it) */
        in->cur++;
        double tgt = brs__bt_sig_target_at(in, (uint64_t)in->cur);
        if (!isnan(tgt))
            x_set_target(s, sc, (uint32_t)ii, tgt);
        brs__sctx_on_market(sc, b);
        /* 3. same-bar close execution, only when asked for */
        if (s->o.same_close) {
            if (s->n_orders)
                exec_orders(s, sc, (uint32_t)ii, b, 0);
            if (in->has_target)
                exec_target(s, sc, (uint32_t)ii, (double)b->bar.close / in->scale, ts);
        }
        stats_push(s, in, b);
        in->mark = (double)b->bar.close / in->scale;
        sample(s, ts);
        done++;
        if (BRS__UNLIKELY(sc->failed || s->rec_failed))
            break;
        if (done >= next_progress) {
            if (BRS__UNLIKELY(brs__interrupted())) { /* a safe point: between bars */
                res->interrupted = brs__interrupted();
                res->reached_ns = ts;
                break;
            }
            if (progress)
                brs__progress_update(&pr, done);
            next_progress = done + 4096;
        }
    }
    res->total_events = s->bars->total;
    res->seconds = (double)(brs__monotime_ns() - t0) * 1e-9;
    if (progress)
        brs__progress_finish(&pr);
    res->events += done;
    res->fills += s->n_fills;
    res->orders += s->n_submitted;
    if (s->rec_failed)
        rc = brs__err(err, s->rec_failed, "%s", s->rec_error);
    return rc;
}
