/* binance_scan.c: the hand-written JSON scanner behind binance.c: numbers
 * parsed in place, one message's fields as spans, and the [["p","q"],...]
 * level arrays. A real JSON scanner: any key order, unknown keys skipped,
 * escapes and nesting handled when skipping, anything malformed rejected with
 * the field named (docs/websocket.md). */
#include "binance_scan.h"

#include "core/core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers ------------------------------------------------------------ */

static const int64_t pow10_tab[19] = {1LL,
                                      10LL,
                                      100LL,
                                      1000LL,
                                      10000LL,
                                      100000LL,
                                      1000000LL,
                                      10000000LL,
                                      100000000LL,
                                      1000000000LL,
                                      10000000000LL,
                                      100000000000LL,
                                      1000000000000LL,
                                      10000000000000LL,
                                      100000000000000LL,
                                      1000000000000000LL,
                                      10000000000000000LL,
                                      100000000000000000LL,
                                      1000000000000000000LL};

int64_t brs__pow10(int d) { return d >= 0 && d <= 18 ? pow10_tab[d] : 0; }

int brs__dec_parse(const char *s, size_t len, int *dec, int64_t *out)
{
    size_t i = 0;
    uint64_t ip = 0;
    int nd = 0;
    if (len == 0)
        return BRS_E_PARSE;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (++nd > 18)
            return BRS_E_RANGE;
        ip = ip * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    if (nd == 0)
        return BRS_E_PARSE;
    const char *frac = NULL;
    size_t nf = 0;
    if (i < len && s[i] == '.') {
        frac = s + i + 1;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            nf++;
        }
        if (nf == 0)
            return BRS_E_PARSE;
    }
    if (i != len)
        return BRS_E_PARSE;
    int d = *dec;
    if (d < 0) {
        if (frac == NULL) { /* no '.', nothing learnt: value at 0 decimals */
            *out = (int64_t)ip;
            return BRS_OK;
        }
        if (nf > 18)
            return BRS_E_RANGE;
        d = (int)nf;
        *dec = d;
    }
    /* digits beyond the scale must be zeros */
    for (size_t k = (size_t)d; k < nf; k++)
        if (frac[k] != '0')
            return BRS_E_RANGE;
    uint64_t fp = 0;
    for (int k = 0; k < d; k++)
        fp = fp * 10 + ((size_t)k < nf ? (uint64_t)(frac[k] - '0') : 0);
    if (ip > (uint64_t)INT64_MAX / (uint64_t)pow10_tab[d])
        return BRS_E_RANGE;
    uint64_t v = ip * (uint64_t)pow10_tab[d];
    if (v > (uint64_t)INT64_MAX - fp)
        return BRS_E_RANGE;
    *out = (int64_t)(v + fp);
    return BRS_OK;
}

int brs__parse_epoch_s(const char *s, size_t len, int64_t *ns)
{
    int dec = 9;
    int64_t v;
    /* the recorder prints up to 7 decimals; more than 9 would need rounding */
    size_t dot = 0;
    while (dot < len && s[dot] != '.')
        dot++;
    if (dot < len && len - dot - 1 > 9)
        len = dot + 10; /* sub-nanosecond digits: truncated */
    int rc = brs__dec_parse(s, len, &dec, &v);
    if (rc)
        return rc;
    *ns = v;
    return BRS_OK;
}

/* ---- the scanner -------------------------------------------------------- */

typedef struct scan {
    const char *p, *end;
} scan;

static inline void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static inline int peek(scan *s)
{
    ws(s);
    return s->p < s->end ? (unsigned char)*s->p : -1;
}

static inline int eat(scan *s, char c)
{
    if (peek(s) != c)
        return 0;
    s->p++;
    return 1;
}

/* A string; *v, *n is its raw content (escapes left in place; flagged by *esc). */
static int str(scan *s, const char **v, size_t *n, int *esc)
{
    if (!eat(s, '"'))
        return BRS_E_PARSE;
    const char *b = s->p;
    int e = 0;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *v = b;
            *n = (size_t)(s->p - b);
            if (esc)
                *esc = e;
            s->p++;
            return BRS_OK;
        }
        if (c < 0x20)
            return BRS_E_PARSE;
        if (c == '\\') {
            e = 1;
            if (++s->p >= s->end)
                return BRS_E_PARSE;
        }
        s->p++;
    }
    return BRS_E_PARSE;
}

/* A JSON number as a signed integer (no fraction or exponent: ids and times). */
static int integer(scan *s, int64_t *out)
{
    ws(s);
    int neg = 0;
    if (s->p < s->end && *s->p == '-') {
        neg = 1;
        s->p++;
    }
    uint64_t v = 0;
    int nd = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (++nd > 18)
            return BRS_E_RANGE;
        v = v * 10 + (uint64_t)(*s->p - '0');
        s->p++;
    }
    if (nd == 0)
        return BRS_E_PARSE;
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return BRS_E_PARSE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return BRS_OK;
}

static int lit(scan *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return BRS_E_PARSE;
    s->p += n;
    return BRS_OK;
}

/* Skip any JSON value (depth-limited). */
static int skip(scan *s, int depth)
{
    if (depth > 32)
        return BRS_E_LIMIT;
    int c = peek(s);
    const char *v;
    size_t n;
    switch (c) {
    case '"': return str(s, &v, &n, NULL);
    case '{':
    case '[': {
        char close = c == '{' ? '}' : ']';
        s->p++;
        if (eat(s, close))
            return BRS_OK;
        for (;;) {
            if (c == '{') {
                if (str(s, &v, &n, NULL) || !eat(s, ':'))
                    return BRS_E_PARSE;
            }
            int rc = skip(s, depth + 1);
            if (rc)
                return rc;
            if (eat(s, ','))
                continue;
            return eat(s, close) ? BRS_OK : BRS_E_PARSE;
        }
    }
    case 't': return lit(s, "true");
    case 'f': return lit(s, "false");
    case 'n': return lit(s, "null");
    default: {
        if (c != '-' && !(c >= '0' && c <= '9'))
            return BRS_E_PARSE;
        s->p++;
        while (s->p < s->end && (isdigit((unsigned char)*s->p) || *s->p == '.' || *s->p == 'e' ||
                                 *s->p == 'E' || *s->p == '+' || *s->p == '-'))
            s->p++;
        return BRS_OK;
    }
    }
}

/* ---- one message's fields ----------------------------------------------- */

int brs__bn_bad(brs_error *err, int rc, const char *what, const char *field)
{
    return brs__err(err, rc, "binance: %s%s%s", what, field ? " " : "", field ? field : "");
}

/* The "k" object of a kline: close time, OHLCV strings, closed flag. */
static int scan_kline(scan *s, fields *f, brs_error *err)
{
    if (!eat(s, '{'))
        return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: expected an object", "\"k\"");
    f->k.seen = 1;
    if (eat(s, '}'))
        return BRS_OK;
    for (;;) {
        span k;
        int esc, rc = BRS_OK;
        if (str(s, &k.p, &k.n, &esc) || !eat(s, ':'))
            return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: bad key in", "\"k\"");
        int c = peek(s);
        span *dst = KEY(k, "o") ? &f->k.o : KEY(k, "h") ? &f->k.h : KEY(k, "l") ? &f->k.l
                  : KEY(k, "c") ? &f->k.c : KEY(k, "v") ? &f->k.v : NULL;
        if (dst && c == '"') {
            if (str(s, &dst->p, &dst->n, &esc))
                rc = BRS_E_PARSE;
        } else if (KEY(k, "T") && (c == '-' || (c >= '0' && c <= '9'))) {
            rc = integer(s, &f->k.T);
            if (rc == BRS_OK && (f->k.T < 0 || f->k.T >= MAX_MS))
                return brs__bn_bad(err, BRS_E_RANGE, "time out of range (ms since 1970) in", "\"k\".\"T\"");
            f->k.have_T = rc == BRS_OK;
        } else if (KEY(k, "x") && (c == 't' || c == 'f')) {
            f->k.closed = c == 't';
            rc = lit(s, c == 't' ? "true" : "false");
        } else
            rc = skip(s, 0);
        if (rc)
            return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON in the kline object", "\"k\"");
        if (eat(s, ','))
            continue;
        if (eat(s, '}'))
            return BRS_OK;
        return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: expected ',' or '}' in", "\"k\"");
    }
}

/* Scan one object into f. Level arrays are only located (validated later). */
static int scan_object(scan *s, fields *f, int depth, brs_error *err)
{
    if (!eat(s, '{'))
        return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: expected an object", NULL);
    if (eat(s, '}'))
        return BRS_OK;
    for (;;) {
        span k;
        int esc;
        if (str(s, &k.p, &k.n, &esc) || !eat(s, ':'))
            return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: bad key", NULL);
        int c = peek(s);
        int rc = BRS_OK;
        char kname[24];
        snprintf(kname, sizeof kname, "\"%.*s\"", (int)(k.n < 16 ? k.n : 16), k.p);
        if (KEY(k, "data") && c == '{' && depth == 0) {
            rc = scan_object(s, f, 1, err);
            if (rc)
                return rc;
        } else if (c == '"') {
            span v;
            if (str(s, &v.p, &v.n, &esc))
                return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: bad string value of", kname);
            if (KEY(k, "e"))
                f->e = v;
            else if (KEY(k, "s"))
                f->s = v;
            else if (KEY(k, "b"))
                f->b_str = v;
            else if (KEY(k, "a"))
                f->a_str = v;
            else if (KEY(k, "B"))
                f->B = v;
            else if (KEY(k, "A"))
                f->A = v;
            else if (KEY(k, "p"))
                f->p = v;
            else if (KEY(k, "q"))
                f->q = v;
        } else if (c == '{' && KEY(k, "k")) {
            rc = scan_kline(s, f, err);
            if (rc)
                return rc;
        } else if (c == '[' && (KEY(k, "b") || KEY(k, "bids") || KEY(k, "a") || KEY(k, "asks"))) {
            if (k.p[0] == 'b')
                f->b_arr = s->p;
            else
                f->a_arr = s->p;
            rc = skip(s, 0);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            int64_t v = 0;
            int64_t *dst = NULL;
            unsigned bit = 0;
            if (KEY(k, "E"))
                dst = &f->E, bit = F_E;
            else if (KEY(k, "T"))
                dst = &f->T, bit = F_T;
            else if (KEY(k, "U"))
                dst = &f->U, bit = F_U;
            else if (KEY(k, "u"))
                dst = &f->u, bit = F_u;
            else if (KEY(k, "pu"))
                dst = &f->pu, bit = F_pu;
            else if (KEY(k, "lastUpdateId"))
                dst = &f->lid, bit = F_LID;
            else if (KEY(k, "a"))
                dst = &f->agg_id, f->has_agg_id = 1;
            else if (KEY(k, "id") && depth == 0)
                f->is_reply = 1; /* {"result":null,"id":1}: a reply to SUBSCRIBE */
            if (dst) {
                rc = integer(s, &v);
                if (rc)
                    return brs__bn_bad(err, BRS_E_PARSE, "bad integer in field", kname);
                if ((bit == F_E || bit == F_T) && (v < 0 || v > MAX_MS))
                    return brs__bn_bad(err, BRS_E_RANGE, "time out of range (ms since 1970) in", kname);
                *dst = v;
                f->have |= bit;
            } else
                rc = skip(s, 0);
        } else if ((c == 't' || c == 'f') && KEY(k, "m")) {
            f->m = c == 't';
            rc = lit(s, c == 't' ? "true" : "false");
        } else
            rc = skip(s, 0);
        if (rc)
            return brs__bn_bad(err, rc == BRS_E_LIMIT ? BRS_E_LIMIT : BRS_E_PARSE,
                       "malformed JSON in the value of", kname);
        if (eat(s, ','))
            continue;
        if (eat(s, '}'))
            return BRS_OK;
        return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: expected ',' or '}' after", kname);
    }
}

int brs__bn_scan_message(const char *json, size_t len, fields *f, brs_error *err)
{
    memset(f, 0, sizeof *f);
    f->pu = -1;
    scan s = {json, json + len};
    int rc = scan_object(&s, f, 0, err);
    if (rc)
        return rc;
    if (peek(&s) != -1)
        return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: trailing bytes after the object", NULL);
    return BRS_OK;
}

/* ---- levels ------------------------------------------------------------- */

int brs__bn_num_field(brs__bn_symbol *y, span v, int is_price, int64_t *out, const char *field,
                     brs_error *err)
{
    int *dec = is_price ? &y->price_dec : &y->qty_dec;
    if (!v.p)
        return brs__bn_bad(err, BRS_E_PARSE, "missing field", field);
    int rc = brs__dec_parse(v.p, v.n, dec, out);
    if (rc == BRS_E_RANGE)
        return brs__err(err, rc, "binance: %s: value \"%.*s\" does not fit %d decimals in field %s",
                    y->name, (int)(v.n > 40 ? 40 : v.n), v.p, *dec, field);
    if (rc)
        return brs__err(err, rc, "binance: %s: bad decimal \"%.*s\" in field %s", y->name,
                    (int)(v.n > 40 ? 40 : v.n), v.p, field);
    return BRS_OK;
}

int brs__bn_grow(void **v, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return BRS_OK;
    uint32_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *nv = realloc(*v, (size_t)nc * elem);
    if (!nv)
        return BRS_E_NOMEM;
    *v = nv;
    *cap = nc;
    return BRS_OK;
}

/* Parse [["p","q"],...] starting at arr into f->scratch from index *n on. */
int brs__bn_parse_levels(brs__bn_feed *f, brs__bn_symbol *y, const char *arr, const char *end,
                        uint8_t side, uint32_t *n, const char *field, brs_error *err)
{
    scan s = {arr, end};
    if (!eat(&s, '['))
        return brs__bn_bad(err, BRS_E_PARSE, "expected an array in field", field);
    if (eat(&s, ']'))
        return BRS_OK;
    for (;;) {
        span p, q;
        int esc;
        if (!eat(&s, '[') || str(&s, &p.p, &p.n, &esc) || !eat(&s, ',') ||
            str(&s, &q.p, &q.n, &esc))
            return brs__bn_bad(err, BRS_E_PARSE, "malformed level (want [\"price\",\"qty\"]) in field",
                       field);
        while (eat(&s, ',')) /* tolerate extra members (some feeds add order counts) */
            if (skip(&s, 0))
                return brs__bn_bad(err, BRS_E_PARSE, "malformed level in field", field);
        if (!eat(&s, ']'))
            return brs__bn_bad(err, BRS_E_PARSE, "malformed level in field", field);
        if (*n == f->cap_scratch &&
            brs__bn_grow((void **)&f->scratch, &f->cap_scratch, *n + 1, sizeof *f->scratch))
            return brs__bn_bad(err, BRS_E_NOMEM, "out of memory parsing", field);
        brs__bn_level *l = &f->scratch[*n];
        int rc = brs__bn_num_field(y, p, 1, &l->price, field, err);
        if (!rc)
            rc = brs__bn_num_field(y, q, 0, &l->qty, field, err);
        if (rc)
            return rc;
        l->side = side;
        (*n)++;
        if (eat(&s, ','))
            continue;
        if (eat(&s, ']'))
            return BRS_OK;
        return brs__bn_bad(err, BRS_E_PARSE, "malformed JSON: expected ',' or ']' in field", field);
    }
}
