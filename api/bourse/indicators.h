/* indicators.h: incremental technical indicators, header-only, for C plugins
 * and the Lua binding alike (plugins use them without linking the host).
 * Every update is O(1). Structs are caller-owned; indicators with a window take
 * a caller-owned buffer of `period` doubles (or 2*period for VWAP) at init, so
 * nothing here allocates. Values are NAN until the indicator is ready.
 * Running sums are recomputed from the window when it wraps (the SMA: about
 * every 1024 updates; amortized O(1)), so floating-point drift cannot build up
 * over long runs. The structs' members are this header's own state, not ABI
 * (nothing here crosses between host and plugin): use the functions; members
 * may change between releases (brs_sma's `pos` became `cur`/`end` in 0.1). */
#ifndef BOURSE_INDICATORS_H
#define BOURSE_INDICATORS_H

#include <math.h>
#include <stdint.h>

#include "errors.h"

/* A window is full on every update but its first `period`: laid out as the
 * straight path (GCC and clang; a plain test elsewhere). */
#if defined(__GNUC__)
#define BRS__IND_FULL(c) __builtin_expect(!!(c), 1)
#else
#define BRS__IND_FULL(c) (c)
#endif

/* ---- SMA: simple moving average of the last `period` values ------------ */
typedef struct brs_sma {
    double *buf;     /* period values, caller-owned (zeroed by brs_sma_init) */
    double *cur;     /* next slot to write, in buf */
    double *end;     /* buf + period */
    double sum;
    uint32_t period;
    uint32_t n;      /* period once `period` values were seen (the window is full), else 0 */
    uint32_t wraps;  /* period * window wraps since the running sum was last resynced */
} brs_sma;

static inline int brs_sma_init(brs_sma *s, double *buf, uint32_t period)
{
    if (!s || !buf || period == 0)
        return BRS_E_INVAL;
    s->buf = s->cur = buf;
    s->end = buf + period;
    s->period = period;
    s->n = s->wraps = 0;
    s->sum = 0.0;
    /* brs_sma_update subtracts the slot it overwrites on every update, also
     * while the window fills: +0.0 there, which leaves any sum as it was */
    for (uint32_t i = 0; i < period; i++)
        buf[i] = 0.0;
    return BRS_OK;
}

static inline int brs_sma_ready(const brs_sma *s) { return s->n == s->period; }
static inline double brs_sma_value(const brs_sma *s)
{
    return s->n == s->period ? s->sum / (double)s->period : NAN;
}

/* Add x; returns the new value (NAN until `period` values were seen). */
static inline double brs_sma_update(brs_sma *s, double x)
{
    /* The sum and the slot in locals: the store into the window may alias *s
     * as far as the compiler knows, which made it store and reload them
     * around it (a longer dependent chain per update). The slot's old value
     * is subtracted on every update: while the window fills it is the +0.0
     * brs_sma_init wrote, and sum - (+0.0) is sum to the last bit (-0.0,
     * infinities and NaN included), so the sums are those of subtracting only
     * once full; n, counted only while filling, is then set on the rare wrap
     * path (it reaches period with the first wrap). A pointer to the slot
     * rather than an index: fewer instructions per update, the same
     * operations on the same values. */
    double *cur = s->cur;
    double sum = s->sum - *cur;
    *cur = x;
    s->sum = sum + x;
    if (BRS__IND_FULL(++cur != s->end)) {
        s->cur = cur;
    } else {
        s->cur = s->buf;
        s->n = s->period;
        /* resync the running sum about every 1024 updates (every wrap for long
         * windows): drift stays far below 1e-9 relative, and short windows do
         * not pay a loop every few updates. After k wraps, k >= 1024 / period
         * (integer division) exactly when (k + 1) * period > 1024: wraps
         * counts k * period, so no division runs here. */
        s->wraps += s->period;
        if ((uint64_t)s->wraps + s->period > 1024) {
            double t = 0.0;
            for (uint32_t i = 0; i < s->n; i++)
                t += s->buf[i];
            s->sum = t;
            s->wraps = 0;
        }
    }
    return brs_sma_value(s);
}

/* ---- EMA: exponential moving average, alpha = 2 / (period + 1) ---------- */
/* Seeded with the SMA of the first `period` values (the usual convention). */
typedef struct brs_ema {
    double alpha;
    double value;
    double seed_sum;
    uint32_t period;
    uint32_t n;
} brs_ema;

static inline int brs_ema_init(brs_ema *e, uint32_t period)
{
    if (!e || period == 0)
        return BRS_E_INVAL;
    e->alpha = 2.0 / ((double)period + 1.0);
    e->value = NAN;
    e->seed_sum = 0.0;
    e->period = period;
    e->n = 0;
    return BRS_OK;
}

static inline int brs_ema_ready(const brs_ema *e) { return e->n >= e->period; }
static inline double brs_ema_value(const brs_ema *e) { return e->value; }

static inline double brs_ema_update(brs_ema *e, double x)
{
    if (e->n < e->period) {
        e->seed_sum += x;
        if (++e->n == e->period)
            e->value = e->seed_sum / (double)e->period;
    } else {
        e->value += e->alpha * (x - e->value);
    }
    return e->value;
}

/* ---- RSI, Wilder's smoothing -------------------------------------------- */
/* The first average gain/loss is the plain mean of the first `period` changes,
 * then avg = (avg * (period - 1) + change) / period. Ready after period + 1
 * prices. No losses gives 100; no gains and no losses gives 50. */
typedef struct brs_rsi {
    double prev;
    double avg_gain, avg_loss;
    double value;
    uint32_t period;
    uint32_t n; /* prices seen, saturates at period + 1 */
} brs_rsi;

static inline int brs_rsi_init(brs_rsi *r, uint32_t period)
{
    if (!r || period == 0)
        return BRS_E_INVAL;
    r->prev = r->avg_gain = r->avg_loss = 0.0;
    r->value = NAN;
    r->period = period;
    r->n = 0;
    return BRS_OK;
}

static inline int brs_rsi_ready(const brs_rsi *r) { return r->n > r->period; }
static inline double brs_rsi_value(const brs_rsi *r) { return r->value; }

static inline double brs_rsi_update(brs_rsi *r, double price)
{
    if (r->n == 0) {
        r->prev = price;
        r->n = 1;
        return r->value;
    }
    double ch = price - r->prev;
    double gain = ch > 0 ? ch : 0.0, loss = ch < 0 ? -ch : 0.0;
    r->prev = price;
    double p = (double)r->period;
    if (r->n <= r->period) { /* still collecting the first `period` changes */
        r->avg_gain += gain;
        r->avg_loss += loss;
        if (++r->n <= r->period)
            return r->value;
        r->avg_gain /= p;
        r->avg_loss /= p;
    } else {
        r->avg_gain = (r->avg_gain * (p - 1.0) + gain) / p;
        r->avg_loss = (r->avg_loss * (p - 1.0) + loss) / p;
    }
    if (r->avg_loss == 0.0)
        r->value = r->avg_gain == 0.0 ? 50.0 : 100.0;
    else
        r->value = 100.0 - 100.0 / (1.0 + r->avg_gain / r->avg_loss);
    return r->value;
}

/* ---- ATR: average true range, Wilder's smoothing ------------------------ */
/* TR = max(high - low, |high - prev close|, |low - prev close|); the first bar
 * has no previous close, so its TR is high - low. The first ATR is the mean of
 * the first `period` TRs, then ATR = (ATR * (period - 1) + TR) / period. */
typedef struct brs_atr {
    double prev_close;
    double value;
    double seed_sum;
    uint32_t period;
    uint32_t n;
} brs_atr;

static inline int brs_atr_init(brs_atr *a, uint32_t period)
{
    if (!a || period == 0)
        return BRS_E_INVAL;
    a->prev_close = 0.0;
    a->value = NAN;
    a->seed_sum = 0.0;
    a->period = period;
    a->n = 0;
    return BRS_OK;
}

static inline int brs_atr_ready(const brs_atr *a) { return a->n >= a->period; }
static inline double brs_atr_value(const brs_atr *a) { return a->value; }

static inline double brs_atr_update(brs_atr *a, double high, double low, double close)
{
    double tr = high - low;
    if (a->n > 0) {
        double h = fabs(high - a->prev_close), l = fabs(low - a->prev_close);
        if (h > tr)
            tr = h;
        if (l > tr)
            tr = l;
    }
    a->prev_close = close;
    double p = (double)a->period;
    if (a->n < a->period) {
        a->seed_sum += tr;
        if (++a->n == a->period)
            a->value = a->seed_sum / p;
    } else {
        a->value = (a->value * (p - 1.0) + tr) / p;
    }
    return a->value;
}

/* ---- Rolling mean and standard deviation (population) ------------------ */
/* Welford's update adapted to a sliding window: replacing x_old by x_new moves
 * the mean by (x_new - x_old) / n and the sum of squared deviations m2 by
 * (x_new - x_old) * (x_new - mean_new + x_old - mean_old). */
typedef struct brs_stddev {
    double *buf; /* period values, caller-owned */
    uint32_t period;
    uint32_t n;
    uint32_t pos;
    uint32_t reserved;
    double mean;
    double m2;
} brs_stddev;

static inline int brs_stddev_init(brs_stddev *s, double *buf, uint32_t period)
{
    if (!s || !buf || period == 0)
        return BRS_E_INVAL;
    s->buf = buf;
    s->period = period;
    s->n = s->pos = s->reserved = 0;
    s->mean = s->m2 = 0.0;
    return BRS_OK;
}

static inline int brs_stddev_ready(const brs_stddev *s) { return s->n == s->period; }
static inline double brs_stddev_mean(const brs_stddev *s)
{
    return s->n == s->period ? s->mean : NAN;
}
static inline double brs_stddev_value(const brs_stddev *s)
{
    if (s->n != s->period)
        return NAN;
    double v = s->m2 / (double)s->period;
    return v > 0.0 ? sqrt(v) : 0.0;
}

static inline double brs_stddev_update(brs_stddev *s, double x)
{
    if (s->n < s->period) {
        s->n++;
        double d = x - s->mean;
        s->mean += d / (double)s->n;
        s->m2 += d * (x - s->mean);
    } else {
        double old = s->buf[s->pos];
        double old_mean = s->mean;
        s->mean += (x - old) / (double)s->period;
        s->m2 += (x - old) * (x - s->mean + old - old_mean);
    }
    s->buf[s->pos] = x;
    if (++s->pos == s->period) {
        s->pos = 0;
        double t = 0.0, q = 0.0; /* resync once per wrap (two-pass, exact enough) */
        for (uint32_t i = 0; i < s->n; i++)
            t += s->buf[i];
        t /= (double)s->n;
        for (uint32_t i = 0; i < s->n; i++)
            q += (s->buf[i] - t) * (s->buf[i] - t);
        s->mean = t;
        s->m2 = q;
    }
    return brs_stddev_value(s);
}

/* ---- Bollinger bands: SMA(period) +/- k population standard deviations -- */
typedef struct brs_bollinger {
    brs_stddev sd;
    double k;
    double mid, upper, lower;
} brs_bollinger;

static inline int brs_bollinger_init(brs_bollinger *b, double *buf, uint32_t period, double k)
{
    if (!b)
        return BRS_E_INVAL;
    b->k = k;
    b->mid = b->upper = b->lower = NAN;
    return brs_stddev_init(&b->sd, buf, period);
}

static inline int brs_bollinger_ready(const brs_bollinger *b) { return brs_stddev_ready(&b->sd); }

/* Returns the middle band; upper and lower are in the struct. */
static inline double brs_bollinger_update(brs_bollinger *b, double x)
{
    double sd = brs_stddev_update(&b->sd, x);
    if (brs_stddev_ready(&b->sd)) {
        b->mid = b->sd.mean;
        b->upper = b->mid + b->k * sd;
        b->lower = b->mid - b->k * sd;
    }
    return b->mid;
}

/* ---- z-score of the latest value against its window -------------------- */
/* z = (x - mean) / sd over the last `period` values, x included; 0 when the
 * window is flat (sd == 0). */
typedef struct brs_zscore {
    brs_stddev sd;
    double value;
} brs_zscore;

static inline int brs_zscore_init(brs_zscore *z, double *buf, uint32_t period)
{
    if (!z)
        return BRS_E_INVAL;
    z->value = NAN;
    return brs_stddev_init(&z->sd, buf, period);
}

static inline int brs_zscore_ready(const brs_zscore *z) { return brs_stddev_ready(&z->sd); }
static inline double brs_zscore_value(const brs_zscore *z) { return z->value; }

static inline double brs_zscore_update(brs_zscore *z, double x)
{
    double sd = brs_stddev_update(&z->sd, x);
    if (brs_stddev_ready(&z->sd))
        z->value = sd > 0.0 ? (x - z->sd.mean) / sd : 0.0;
    return z->value;
}

/* ---- VWAP: volume-weighted average price -------------------------------- */
/* period 0: cumulative since init or the last reset (a session VWAP), no
 * buffer needed. period > 0: over the last `period` updates, with a
 * caller-owned buffer of 2 * period doubles. NAN while no volume was seen. */
typedef struct brs_vwap {
    double *buf; /* 2 * period: price*volume then volume, interleaved */
    uint32_t period;
    uint32_t n;
    uint32_t pos;
    uint32_t reserved;
    double pv, v;
} brs_vwap;

static inline int brs_vwap_init(brs_vwap *w, double *buf, uint32_t period)
{
    if (!w || (period > 0 && !buf))
        return BRS_E_INVAL;
    w->buf = buf;
    w->period = period;
    w->n = w->pos = w->reserved = 0;
    w->pv = w->v = 0.0;
    return BRS_OK;
}

static inline void brs_vwap_reset(brs_vwap *w)
{
    w->n = w->pos = 0;
    w->pv = w->v = 0.0;
}

static inline double brs_vwap_value(const brs_vwap *w) { return w->v > 0.0 ? w->pv / w->v : NAN; }
static inline int brs_vwap_ready(const brs_vwap *w) { return w->v > 0.0; }

static inline double brs_vwap_update(brs_vwap *w, double price, double volume)
{
    double pv = price * volume;
    if (w->period == 0) {
        w->pv += pv;
        w->v += volume;
        return brs_vwap_value(w);
    }
    /* the sums in locals, as in brs_sma_update: the same bits, without a
     * store and reload around the window's store */
    double *slot = w->buf + 2u * w->pos;
    double spv = w->pv, sv = w->v;
    if (BRS__IND_FULL(w->n == w->period)) {
        spv -= slot[0];
        sv -= slot[1];
    } else {
        w->n++;
    }
    slot[0] = pv;
    slot[1] = volume;
    w->pv = spv + pv;
    w->v = sv + volume;
    if (++w->pos == w->period) {
        w->pos = 0;
        double a = 0.0, b = 0.0;
        for (uint32_t i = 0; i < w->n; i++) {
            a += w->buf[2u * i];
            b += w->buf[2u * i + 1];
        }
        w->pv = a;
        w->v = b;
    }
    return brs_vwap_value(w);
}

#endif
