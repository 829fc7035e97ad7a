/* binance_scan.h: what binance.c takes from binance_scan.c: one message's
 * fields as spans into the frame, the level-array parser and decimal fields
 * in a symbol's scale. Internal to host/feeds. */
#ifndef BRS_BINANCE_SCAN_H
#define BRS_BINANCE_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "binance.h"

typedef struct span {
    const char *p;
    size_t n;
} span;

enum { F_E = 1 << 0, F_T = 1 << 1, F_U = 1 << 2, F_u = 1 << 3, F_pu = 1 << 4, F_LID = 1 << 5 };

typedef struct fields {
    unsigned have;
    span e, s;
    int64_t E, T, U, u, pu, lid, agg_id;
    int has_agg_id, m, is_reply;
    span b_str, a_str, B, A, p, q; /* strings (bookTicker, aggTrade) */
    const char *b_arr, *a_arr;     /* start of the level arrays (depth, snapshot) */
    const char *end;
    struct {                       /* the "k" object of a kline */
        int seen, closed, have_T;
        int64_t T;                 /* close time, ms (the bar's last millisecond) */
        span o, h, l, c, v;
    } k;
} fields;

#define KEY(k, lit_) ((k).n == sizeof(lit_) - 1 && memcmp((k).p, lit_, sizeof(lit_) - 1) == 0)

/* Times are ms since 1970 and become ns: beyond this they would overflow int64. */
#define MAX_MS (INT64_MAX / 1000000 - 1)

/* "binance: WHAT FIELD" into err; returns rc */
int brs__bn_bad(brs_error *err, int rc, const char *what, const char *field);
/* Scan one JSON object into f (spans into json). */
int brs__bn_scan_message(const char *json, size_t len, fields *f, brs_error *err);
/* A decimal string field in y's price or quantity scale. */
int brs__bn_num_field(brs__bn_symbol *y, span v, int is_price, int64_t *out, const char *field,
                      brs_error *err);
/* Grow *v (elements of elem bytes) to hold need. */
int brs__bn_grow(void **v, uint32_t *cap, uint32_t need, size_t elem);
/* Parse [["p","q"],...] starting at arr into f->scratch from index *n on. */
int brs__bn_parse_levels(brs__bn_feed *f, brs__bn_symbol *y, const char *arr, const char *end,
                         uint8_t side, uint32_t *n, const char *field, brs_error *err);

#endif
