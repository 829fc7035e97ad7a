/* evblock.c: the compact encoding of a block of any market events (tick
 * format version 3, block magic TCOL; docs/tick-format.md). Nine columns of
 * fixed-width little-endian integers, as the bar block (barblock.c) has: time
 * deltas, the local clock against the exchange clock, the instrument, an
 * index into the block's table of (kind, side, flags) and the five payload
 * words, each raw or a delta against the record before, minus the column's
 * smallest value in the block. Generated L3 flow comes to ~16 bytes an event
 * before zstd (64 as records), so zstd has a quarter of the bytes to produce,
 * and expanding is a load, mask and add per field with no branch. */
#include "tickfile.h"

#include <stdlib.h>
#include <string.h>

#include "le.h"

enum { C_TS, C_LOCAL, C_INSTR, C_META, C_W0 };
#define N_WORDS 5

static inline uint64_t u(int64_t v) { return (uint64_t)v; }

static inline uint64_t word(const brs_market_event *e, int k)
{
    uint64_t v;
    memcpy(&v, (const unsigned char *)e + 24 + 8 * k, 8);
    return v;
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

static inline uint32_t meta_of(const brs_market_event *e)
{
    return (uint32_t)e->kind | (uint32_t)e->side << 8 | (uint32_t)e->flags << 16;
}

/* The index of e's (kind, side, flags) in the table, adding it; -1 when the
 * table is full. Linear search: blocks hold a handful of distinct values. */
static int meta_index(uint32_t *tab, unsigned *n, uint32_t m)
{
    for (unsigned k = 0; k < *n; k++)
        if (tab[k] == m)
            return (int)k;
    if (*n == BRS_EVBLOCK_MAX_META)
        return -1;
    tab[*n] = m;
    return (int)(*n)++;
}

/* Column c's value for record i before the block minimum is taken off (mode:
 * 1 = delta against the record before, for the payload words). Wraps. */
static uint64_t column_value(const brs_market_event *ev, uint32_t i, int c, int mode,
                             int64_t ts_prev, const uint64_t *prev, const unsigned char *idx)
{
    const brs_market_event *e = &ev[i];
    switch (c) {
    case C_TS: return u(e->ts_exchange) - u(i ? ev[i - 1].ts_exchange : ts_prev);
    case C_LOCAL: return u(e->ts_local) - u(e->ts_exchange);
    case C_INSTR: return e->instrument;
    case C_META: return idx[i];
    default: {
        int k = c - C_W0;
        uint64_t v = word(e, k);
        return mode ? v - (i ? word(&ev[i - 1], k) : prev[k]) : v;
    }
    }
}

/* Smallest value, width of the span over it, and how often a value repeats
 * the one before (what zstd likes), for column c in the given mode. */
static void column_stats(const brs_market_event *ev, uint32_t n, int c, int mode, int64_t ts_prev,
                         const uint64_t *prev, const unsigned char *idx, uint64_t *base,
                         unsigned *width, uint32_t *repeats)
{
    int64_t lo = INT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        int64_t v = (int64_t)column_value(ev, i, c, mode, ts_prev, prev, idx);
        lo = v < lo ? v : lo;
    }
    uint64_t span = 0, last = 0;
    uint32_t rep = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = column_value(ev, i, c, mode, ts_prev, prev, idx) - u(lo);
        span = v > span ? v : span;
        rep += i && v == last;
        last = v;
    }
    *base = u(lo);
    *width = width_of(span);
    *repeats = rep;
}

size_t brs__evblock_encode(const brs_market_event *ev, uint32_t n, unsigned char *out)
{
    uint32_t tab[BRS_EVBLOCK_MAX_META];
    unsigned n_tab = 0;
    unsigned char *idx = malloc(n ? n : 1);
    if (!idx)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        int k = meta_index(tab, &n_tab, meta_of(&ev[i]));
        if (k < 0) {
            free(idx);
            return 0;
        }
        idx[i] = (unsigned char)k;
    }
    int64_t ts_prev = ev[0].ts_exchange;
    uint64_t prev[N_WORDS], base[BRS_EVBLOCK_COLUMNS];
    unsigned width[BRS_EVBLOCK_COLUMNS], mode[BRS_EVBLOCK_COLUMNS] = {0};
    for (int k = 0; k < N_WORDS; k++)
        prev[k] = word(&ev[0], k);
    for (int c = 0; c < BRS_EVBLOCK_COLUMNS; c++) {
        uint32_t rep;
        column_stats(ev, n, c, 0, ts_prev, prev, idx, &base[c], &width[c], &rep);
        if (c >= C_W0) { /* a word: raw or delta, whichever is narrower (or repeats more) */
            uint64_t b1;
            unsigned w1;
            uint32_t rep1;
            column_stats(ev, n, c, 1, ts_prev, prev, idx, &b1, &w1, &rep1);
            if (w1 < width[c] || (w1 == width[c] && rep1 > rep)) {
                base[c] = b1;
                width[c] = w1;
                mode[c] = 1;
            }
        }
    }
    size_t hdr = BRS_EVBLOCK_HDR_SIZE + 4 * (size_t)n_tab;
    memset(out, 0, hdr);
    brs__put64(out, u(ts_prev));
    for (int k = 0; k < N_WORDS; k++)
        brs__put64(out + 8 + 8 * k, prev[k]);
    for (int c = 0; c < BRS_EVBLOCK_COLUMNS; c++) {
        brs__put64(out + 48 + 8 * c, base[c]);
        out[120 + c] = (unsigned char)width[c];
    }
    for (int k = 0; k < N_WORDS; k++)
        out[129 + k] = (unsigned char)mode[C_W0 + k];
    out[134] = (unsigned char)(n_tab - 1);
    for (unsigned k = 0; k < n_tab; k++)
        brs__put32(out + BRS_EVBLOCK_HDR_SIZE + 4 * k, tab[k]);
    unsigned char *p = out + hdr;
    for (int c = 0; c < BRS_EVBLOCK_COLUMNS; c++)
        for (uint32_t i = 0; i < n; i++) {
            uint64_t v = column_value(ev, i, c, (int)mode[c], ts_prev, prev, idx) - base[c];
            for (unsigned k = 0; k < width[c]; k++)
                *p++ = (unsigned char)(v >> (8 * k));
        }
    free(idx);
    return (size_t)(p - out);
}

/* Payload word k of n records from its column: raw (dmask 0) or a running
 * sum of deltas (dmask ~0) starting at acc. */
static void decode_word(brs_market_event *dst, uint32_t n, int k, const unsigned char *p, size_t w,
                        uint64_t m, uint64_t base, uint64_t dmask, uint64_t acc)
{
    unsigned char *out = (unsigned char *)dst + 24 + 8 * k;
    if (w == 0 && !dmask) { /* every value is base */
        for (uint32_t i = 0; i < n; i++, out += sizeof *dst)
            memcpy(out, &base, 8);
        return;
    }
    for (uint32_t i = 0; i < n; i++, out += sizeof *dst, p += w) {
        acc = (acc & dmask) + brs__le_rd(p, m) + base;
        memcpy(out, &acc, 8);
    }
}

int brs__evblock_decode(const unsigned char *in, size_t len, uint32_t n, brs_market_event *dst,
                        const char **why)
{
    if (len < BRS_EVBLOCK_HDR_SIZE) {
        *why = "payload shorter than its header";
        return BRS_E_CORRUPT;
    }
    if (in[135]) {
        *why = "reserved header byte is not zero";
        return BRS_E_CORRUPT;
    }
    size_t n_tab = (size_t)in[134] + 1;
    /* the table padded to 256 entries: an index out of range reads a zero
     * entry, and is refused after the loop (no branch per record) */
    uint32_t tab[BRS_EVBLOCK_MAX_META] = {0};
    size_t off = BRS_EVBLOCK_HDR_SIZE + 4 * n_tab;
    if (len < off) {
        *why = "payload shorter than its kind table";
        return BRS_E_CORRUPT;
    }
    for (size_t k = 0; k < n_tab; k++)
        tab[k] = brs__get32(in + BRS_EVBLOCK_HDR_SIZE + 4 * k);
    const unsigned char *col[BRS_EVBLOCK_COLUMNS];
    uint64_t m[BRS_EVBLOCK_COLUMNS], base[BRS_EVBLOCK_COLUMNS], dmask[N_WORDS], w_prev[N_WORDS];
    size_t w[BRS_EVBLOCK_COLUMNS];
    if (brs__le_columns(in, 120, 48, BRS_EVBLOCK_COLUMNS, n, &off, w, m, base, col, why) != BRS_OK)
        return BRS_E_CORRUPT;
    if (w[C_META] > 1 || w[C_INSTR] > 4) {
        *why = "kind index or instrument column wider than its values";
        return BRS_E_CORRUPT;
    }
    for (int k = 0; k < N_WORDS; k++) {
        if (in[129 + k] > 1) {
            *why = "unknown column mode";
            return BRS_E_CORRUPT;
        }
        dmask[k] = in[129 + k] ? ~0ull : 0;
        w_prev[k] = brs__get64(in + 8 + 8 * k);
    }
    if (off != len) {
        *why = "payload size does not match its column widths";
        return BRS_E_CORRUPT;
    }
    /* column by column (few live values, no spills): the record's head, then
     * each payload word; the records are in L2 as the passes go over them */
    uint64_t ts = brs__get64(in), junk = 0;
    const unsigned char *p_ts = col[C_TS], *p_loc = col[C_LOCAL], *p_in = col[C_INSTR],
                        *p_me = col[C_META];
    for (uint32_t i = 0; i < n; i++) {
        brs_market_event *e = &dst[i];
        ts += brs__le_rd(p_ts, m[C_TS]) + base[C_TS];
        uint64_t instr = brs__le_rd(p_in, m[C_INSTR]) + base[C_INSTR];
        uint64_t mi = brs__le_rd(p_me, m[C_META]) + base[C_META];
        junk |= (instr >> 32) | (mi >= n_tab);
        e->ts_exchange = (int64_t)ts;
        e->ts_local = (int64_t)(ts + brs__le_rd(p_loc, m[C_LOCAL]) + base[C_LOCAL]);
        uint64_t kind_instr = (uint64_t)tab[mi & 255] | instr << 32; /* kind, side, flags; instrument */
        memcpy((unsigned char *)e + 16, &kind_instr, 8);
        p_ts += w[C_TS];
        p_loc += w[C_LOCAL];
        p_in += w[C_INSTR];
        p_me += w[C_META];
    }
    for (int k = 0; k < N_WORDS; k++)
        decode_word(dst, n, k, col[C_W0 + k], w[C_W0 + k], m[C_W0 + k], base[C_W0 + k], dmask[k],
                    w_prev[k]);
    if (junk) {
        *why = "instrument or kind index out of range";
        return BRS_E_CORRUPT;
    }
    return BRS_OK;
}
