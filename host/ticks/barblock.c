/* barblock.c: the compact encoding of a block made only of BAR events (tick
 * format version 2, block magic TBAR; docs/tick-format.md). Nine columns of
 * fixed-width little-endian integers: each value is a delta against the bar
 * before it (or against another field of the same bar), minus the column's
 * smallest value in the block, stored in as few bytes as the block's largest
 * such value needs. One-minute bars come to 5-7 bytes a bar before zstd (64
 * as records), and decoding is branch-free: load 8 bytes, mask, add. */
#include "tickfile.h"

#include <string.h>

#include "le.h"

enum { C_TS, C_LOCAL, C_OPEN, C_CLOSE, C_HIGH, C_LOW, C_VOLUME, C_INSTR, C_META };

static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline uint64_t u(int64_t v) { return (uint64_t)v; }

/* Column c's value for bar i, before the block minimum is taken off. All
 * arithmetic wraps (uint64), so any int64 input round-trips exactly. */
static uint64_t column_value(const brs_market_event *ev, uint32_t i, int c, int64_t ts_prev,
                             int64_t close_prev)
{
    const brs_market_event *e = &ev[i];
    int64_t hi_ref = max64(e->bar.open, e->bar.close), lo_ref = min64(e->bar.open, e->bar.close);
    switch (c) {
    case C_TS: return u(e->ts_exchange) - u(i ? ev[i - 1].ts_exchange : ts_prev);
    case C_LOCAL: return u(e->ts_local) - u(e->ts_exchange);
    case C_OPEN: return u(e->bar.open) - u(i ? ev[i - 1].bar.close : close_prev);
    case C_CLOSE: return u(e->bar.close) - u(e->bar.open);
    case C_HIGH: return u(e->bar.high) - u(hi_ref);
    case C_LOW: return u(lo_ref) - u(e->bar.low);
    case C_VOLUME: return u(e->bar.volume);
    case C_INSTR: return e->instrument;
    default: return (uint64_t)e->side | (uint64_t)e->flags << 8;
    }
}

static unsigned width_of(uint64_t v)
{
    unsigned w = 0;
    while (v) {
        w++;
        v >>= 8;
    }
    return w;
}

int brs__barblock_eligible(const brs_market_event *ev, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (ev[i].kind != BRS_MEV_BAR)
            return 0;
    return n > 0;
}

size_t brs__barblock_encode(const brs_market_event *ev, uint32_t n, unsigned char *out)
{
    int64_t ts_prev = n >= 2 ? (int64_t)(u(ev[0].ts_exchange) - (u(ev[1].ts_exchange) - u(ev[0].ts_exchange)))
                             : ev[0].ts_exchange;
    int64_t close_prev = ev[0].bar.open;
    int64_t base[BRS_BARBLOCK_COLUMNS];
    unsigned width[BRS_BARBLOCK_COLUMNS];
    for (int c = 0; c < BRS_BARBLOCK_COLUMNS; c++) {
        int64_t lo = INT64_MAX;
        for (uint32_t i = 0; i < n; i++)
            lo = min64(lo, (int64_t)column_value(ev, i, c, ts_prev, close_prev));
        uint64_t span = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t v = column_value(ev, i, c, ts_prev, close_prev) - u(lo);
            span = v > span ? v : span;
        }
        base[c] = lo;
        width[c] = width_of(span);
    }
    memset(out, 0, BRS_BARBLOCK_HDR_SIZE);
    brs__put64(out, u(ts_prev));
    brs__put64(out + 8, u(close_prev));
    for (int c = 0; c < BRS_BARBLOCK_COLUMNS; c++) {
        brs__put64(out + 16 + 8 * c, u(base[c]));
        out[88 + c] = (unsigned char)width[c];
    }
    unsigned char *p = out + BRS_BARBLOCK_HDR_SIZE;
    for (int c = 0; c < BRS_BARBLOCK_COLUMNS; c++)
        for (uint32_t i = 0; i < n; i++) {
            uint64_t v = column_value(ev, i, c, ts_prev, close_prev) - u(base[c]);
            for (unsigned k = 0; k < width[c]; k++)
                *p++ = (unsigned char)(v >> (8 * k));
        }
    return (size_t)(p - out);
}

/* The payload's header and column table; BRS_E_CORRUPT with *why. */
static int block_columns(const unsigned char *in, size_t len, uint32_t n, const unsigned char **col,
                         uint64_t *m, uint64_t *base, size_t *w, const char **why)
{
    if (len < BRS_BARBLOCK_HDR_SIZE) {
        *why = "payload shorter than its header";
        return BRS_E_CORRUPT;
    }
    for (int k = 88 + BRS_BARBLOCK_COLUMNS; k < (int)BRS_BARBLOCK_HDR_SIZE; k++)
        if (in[k]) {
            *why = "reserved header bytes are not zero";
            return BRS_E_CORRUPT;
        }
    size_t off = BRS_BARBLOCK_HDR_SIZE;
    if (brs__le_columns(in, 88, 16, BRS_BARBLOCK_COLUMNS, n, &off, w, m, base, col, why) != BRS_OK)
        return BRS_E_CORRUPT;
    if (off != len) {
        *why = "payload size does not match its column widths";
        return BRS_E_CORRUPT;
    }
    return BRS_OK;
}

/* One bar's columns, for both decoders (records and columns): ts and close
 * carry from the bar before; the high and low are stored against the larger
 * and smaller of open and close. The local-time column is read by the caller. */
typedef struct bar_row {
    uint64_t instr, meta;
    int64_t open, high, low, close, volume;
} bar_row;

#define COL(c) (brs__le_rd(col[c] + i * w[c], m[c]) + base[c])

static inline void next_row(const unsigned char *const *col, const uint64_t *m, const uint64_t *base,
                            const size_t *w, uint32_t i, uint64_t *ts, uint64_t *close, bar_row *r)
{
    *ts += COL(C_TS);
    uint64_t open = *close + COL(C_OPEN);
    *close = open + COL(C_CLOSE);
    int64_t so = (int64_t)open, sc = (int64_t)*close;
    r->open = so;
    r->close = sc;
    r->high = (int64_t)(u(max64(so, sc)) + COL(C_HIGH));
    r->low = (int64_t)(u(min64(so, sc)) - COL(C_LOW));
    r->instr = COL(C_INSTR);
    r->meta = COL(C_META);
    r->volume = (int64_t)COL(C_VOLUME);
}

int brs__barblock_decode(const unsigned char *in, size_t len, uint32_t n, brs_market_event *dst,
                         brs_barblock_stats *st, const char **why)
{
    const unsigned char *col[BRS_BARBLOCK_COLUMNS];
    uint64_t m[BRS_BARBLOCK_COLUMNS], base[BRS_BARBLOCK_COLUMNS];
    size_t w[BRS_BARBLOCK_COLUMNS];
    if (block_columns(in, len, n, col, m, base, w, why))
        return BRS_E_CORRUPT;
    uint64_t ts = brs__get64(in), close = brs__get64(in + 8), junk = 0, imax = 0;
    int backwards = 0, late = 0;
    for (uint32_t i = 0; i < n; i++) {
        brs_market_event *e = &dst[i];
        uint64_t prev = ts;
        bar_row r;
        next_row(col, m, base, w, i, &ts, &close, &r);
        backwards |= i && (int64_t)ts < (int64_t)prev;
        junk |= (r.instr >> 32) | (r.meta >> 24);
        imax = r.instr > imax ? r.instr : imax;
        e->ts_exchange = (int64_t)ts;
        e->ts_local = (int64_t)(ts + COL(C_LOCAL));
        late |= e->ts_local > e->ts_exchange;
        e->kind = BRS_MEV_BAR;
        e->side = (uint8_t)r.meta;
        e->flags = (uint16_t)(r.meta >> 8);
        e->instrument = (uint32_t)r.instr;
        e->bar.open = r.open;
        e->bar.high = r.high;
        e->bar.low = r.low;
        e->bar.close = r.close;
        e->bar.volume = r.volume;
    }
    if (junk) {
        *why = "instrument or side/flags value out of range";
        return BRS_E_CORRUPT;
    }
    st->max_instrument = (uint32_t)imax;
    st->ordered = !backwards;
    st->local_late = late;
    return BRS_OK;
}

int brs__barblock_decode_columns(const unsigned char *in, size_t len, uint32_t n,
                                 const brs_barblock_cols *dst, brs_barblock_stats *st,
                                 const char **why)
{
    const unsigned char *col[BRS_BARBLOCK_COLUMNS];
    uint64_t m[BRS_BARBLOCK_COLUMNS], base[BRS_BARBLOCK_COLUMNS];
    size_t w[BRS_BARBLOCK_COLUMNS];
    if (block_columns(in, len, n, col, m, base, w, why))
        return BRS_E_CORRUPT;
    uint64_t ts = brs__get64(in), close = brs__get64(in + 8), other = 0;
    int backwards = 0;
    /* a local-time column of zeros (width 0, base 0): ts_local is ts, not written */
    int has_local = w[C_LOCAL] != 0 || base[C_LOCAL] != 0, late = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t prev = ts;
        bar_row r;
        next_row(col, m, base, w, i, &ts, &close, &r);
        backwards |= i && (int64_t)ts < (int64_t)prev;
        other |= r.instr | r.meta;
        dst->ts[i] = (int64_t)ts;
        if (has_local) {
            int64_t tl = (int64_t)(ts + COL(C_LOCAL));
            dst->ts_local[i] = tl;
            late |= tl > (int64_t)ts;
        }
        dst->open[i] = r.open;
        dst->high[i] = r.high;
        dst->low[i] = r.low;
        dst->close[i] = r.close;
        dst->volume[i] = r.volume;
    }
    st->max_instrument = 0;
    st->ordered = !backwards;
    st->local_late = late;
    st->has_local = has_local;
    st->plain = other == 0;
    return BRS_OK;
}

/* ---- some columns at a time (the lazy bars of a signal backtest) -------- */

int brs__barblock_view(const unsigned char *in, size_t len, uint32_t n, brs_barblock_view *v,
                       const char **why)
{
    if (block_columns(in, len, n, v->col, v->m, v->base, v->w, why))
        return BRS_E_CORRUPT;
    v->ts0 = brs__get64(in);
    v->close0 = brs__get64(in + 8);
    v->n = n;
    v->has_local = v->w[C_LOCAL] != 0 || v->base[C_LOCAL] != 0;
    return BRS_OK;
}

/* Column c read in place: value i at p + i * w (8 bytes loaded, masked), the
 * block's base added. A column of width 0 is its base on every bar. */
typedef struct col_rd {
    const unsigned char *p;
    uint64_t m, base;
    size_t w;
} col_rd;

static inline col_rd rd_of(const brs_barblock_view *v, int c)
{
    return (col_rd){v->col[c], v->m[c], v->base[c], v->w[c]};
}

static inline uint64_t rd_next(col_rd *r)
{
    uint64_t x = brs__le_rd(r->p, r->m) + r->base;
    r->p += r->w;
    return x;
}

void brs__barblock_scan(const brs_barblock_view *v, brs_barblock_stats *st, int64_t *first,
                        int64_t *last)
{
    uint32_t n = v->n;
    col_rd dt = rd_of(v, C_TS);
    uint64_t ts = v->ts0;
    int backwards = 0;
    if (n) {
        ts += rd_next(&dt);
        *first = (int64_t)ts;
    }
    /* regular times (width 0, a step of at least 0) that stay within int64
     * from the first to the last: in order, with nothing to read */
    int64_t span, end;
    uint32_t k = 1;
    if (n && !v->w[C_TS] && (int64_t)v->base[C_TS] >= 0 &&
        !__builtin_mul_overflow((int64_t)(n - 1), (int64_t)v->base[C_TS], &span) &&
        !__builtin_add_overflow(*first, span, &end)) {
        ts = (uint64_t)end;
        k = n;
    }
    for (; k < n; k++) {
        uint64_t prev = ts;
        ts += rd_next(&dt);
        backwards |= (int64_t)ts < (int64_t)prev;
    }
    *last = (int64_t)ts;
    /* instrument, side and flags: plain when 0 on every bar (a column of
     * width 0 is its base throughout) */
    uint64_t other = 0;
    for (int c = C_INSTR; c <= C_META; c++) {
        col_rd r = rd_of(v, c);
        if (!r.w)
            other |= r.base;
        else
            for (uint32_t i = 0; i < n; i++)
                other |= rd_next(&r);
    }
    /* a local time after ts on some bar */
    int late = 0;
    if (v->has_local) {
        col_rd dl = rd_of(v, C_LOCAL);
        dt = rd_of(v, C_TS);
        ts = v->ts0;
        for (uint32_t i = 0; i < n; i++) {
            ts += rd_next(&dt);
            late |= (int64_t)(ts + rd_next(&dl)) > (int64_t)ts;
        }
    }
    st->max_instrument = 0;
    st->ordered = !backwards;
    st->local_late = late;
    st->has_local = v->has_local;
    st->plain = other == 0;
}

/* Column by column, each a streaming pass over its input: ts (and ts_local
 * from it), the open/close chain (and high, low from it), volume. */
void brs__barblock_fill(const brs_barblock_view *v, const brs_barblock_cols *dst)
{
    uint32_t n = v->n;
    int64_t *const ts_o = dst->ts, *const tl_o = v->has_local ? dst->ts_local : NULL;
    int64_t *const op_o = dst->open, *const cl_o = dst->close, *const hi_o = dst->high,
                   *const lo_o = dst->low;
    if (ts_o || tl_o) {
        col_rd dt = rd_of(v, C_TS), dl = rd_of(v, C_LOCAL);
        uint64_t ts = v->ts0;
        if (!tl_o)
            for (uint32_t i = 0; i < n; i++)
                ts_o[i] = (int64_t)(ts += rd_next(&dt));
        else
            for (uint32_t i = 0; i < n; i++) {
                ts += rd_next(&dt);
                if (ts_o)
                    ts_o[i] = (int64_t)ts;
                tl_o[i] = (int64_t)(ts + rd_next(&dl));
            }
    }
    if (op_o || cl_o || hi_o || lo_o) {
        col_rd dop = rd_of(v, C_OPEN), dcl = rd_of(v, C_CLOSE);
        uint64_t close = v->close0;
        if (!hi_o && !lo_o) { /* the common case: open and/or close */
            if (op_o && cl_o)
                for (uint32_t i = 0; i < n; i++) {
                    uint64_t open = close + rd_next(&dop);
                    close = open + rd_next(&dcl);
                    op_o[i] = (int64_t)open;
                    cl_o[i] = (int64_t)close;
                }
            else if (cl_o)
                for (uint32_t i = 0; i < n; i++) {
                    close += rd_next(&dop);
                    close += rd_next(&dcl);
                    cl_o[i] = (int64_t)close;
                }
            else
                for (uint32_t i = 0; i < n; i++) {
                    uint64_t open = close + rd_next(&dop);
                    close = open + rd_next(&dcl);
                    op_o[i] = (int64_t)open;
                }
        } else {
            col_rd dhi = rd_of(v, C_HIGH), dlo = rd_of(v, C_LOW);
            for (uint32_t i = 0; i < n; i++) {
                uint64_t open = close + rd_next(&dop);
                close = open + rd_next(&dcl);
                int64_t so = (int64_t)open, sc = (int64_t)close;
                uint64_t h = rd_next(&dhi), l = rd_next(&dlo);
                if (op_o)
                    op_o[i] = so;
                if (cl_o)
                    cl_o[i] = sc;
                if (hi_o)
                    hi_o[i] = (int64_t)(u(max64(so, sc)) + h);
                if (lo_o)
                    lo_o[i] = (int64_t)(u(min64(so, sc)) - l);
            }
        }
    }
    if (dst->volume) {
        col_rd dv = rd_of(v, C_VOLUME);
        int64_t *vo = dst->volume;
        for (uint32_t i = 0; i < n; i++)
            vo[i] = (int64_t)rd_next(&dv);
    }
}

int64_t brs__barblock_row_open(const brs_barblock_view *v, uint32_t i, int64_t prev_close)
{
    const unsigned char *const *col = v->col;
    const uint64_t *m = v->m, *base = v->base;
    const size_t *w = v->w;
    return (int64_t)(u(prev_close) + COL(C_OPEN));
}

int brs__barblock_ts_regular(const brs_barblock_view *v, uint64_t *first, uint64_t *step)
{
    if (v->w[C_TS])
        return 0;
    *step = v->base[C_TS];
    *first = v->ts0 + *step;
    return 1;
}

void brs__barblock_row_rest(const brs_barblock_view *v, uint32_t i, int64_t ts, int64_t open,
                            int64_t close, int64_t *ts_local, int64_t *high, int64_t *low,
                            int64_t *volume)
{
    const unsigned char *const *col = v->col;
    const uint64_t *m = v->m, *base = v->base;
    const size_t *w = v->w;
    *ts_local = v->has_local ? (int64_t)(u(ts) + COL(C_LOCAL)) : ts;
    *high = (int64_t)(u(max64(open, close)) + COL(C_HIGH));
    *low = (int64_t)(u(min64(open, close)) - COL(C_LOW));
    *volume = (int64_t)COL(C_VOLUME);
}
