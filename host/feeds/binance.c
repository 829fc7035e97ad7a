/* binance.c: Binance USD-M message parsing and the snapshot/update sync.
 * JSON is scanned by hand: these messages are small flat objects of known shape,
 * and a scanner that records spans and parses numbers in place runs several times
 * faster than building a cJSON tree per frame (docs/websocket.md). It is still a
 * real JSON scanner: any key order, unknown keys skipped, escapes and nesting
 * handled when skipping, and anything malformed rejected with the field named. */
#include "binance.h"

#include "core/core.h"

#include <ctype.h>
#include <stdarg.h>
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

static int bad(brs_error *err, int rc, const char *what, const char *field)
{
    return brs__err(err, rc, "binance: %s%s%s", what, field ? " " : "", field ? field : "");
}

/* Times are ms since 1970 and become ns: beyond this they would overflow int64. */
#define MAX_MS (INT64_MAX / 1000000 - 1)

/* The "k" object of a kline: close time, OHLCV strings, closed flag. */
static int scan_kline(scan *s, fields *f, brs_error *err)
{
    if (!eat(s, '{'))
        return bad(err, BRS_E_PARSE, "malformed JSON: expected an object", "\"k\"");
    f->k.seen = 1;
    if (eat(s, '}'))
        return BRS_OK;
    for (;;) {
        span k;
        int esc, rc = BRS_OK;
        if (str(s, &k.p, &k.n, &esc) || !eat(s, ':'))
            return bad(err, BRS_E_PARSE, "malformed JSON: bad key in", "\"k\"");
        int c = peek(s);
        span *dst = KEY(k, "o") ? &f->k.o : KEY(k, "h") ? &f->k.h : KEY(k, "l") ? &f->k.l
                  : KEY(k, "c") ? &f->k.c : KEY(k, "v") ? &f->k.v : NULL;
        if (dst && c == '"') {
            if (str(s, &dst->p, &dst->n, &esc))
                rc = BRS_E_PARSE;
        } else if (KEY(k, "T") && (c == '-' || (c >= '0' && c <= '9'))) {
            rc = integer(s, &f->k.T);
            if (rc == BRS_OK && (f->k.T < 0 || f->k.T >= MAX_MS))
                return bad(err, BRS_E_RANGE, "time out of range (ms since 1970) in", "\"k\".\"T\"");
            f->k.have_T = rc == BRS_OK;
        } else if (KEY(k, "x") && (c == 't' || c == 'f')) {
            f->k.closed = c == 't';
            rc = lit(s, c == 't' ? "true" : "false");
        } else
            rc = skip(s, 0);
        if (rc)
            return bad(err, BRS_E_PARSE, "malformed JSON in the kline object", "\"k\"");
        if (eat(s, ','))
            continue;
        if (eat(s, '}'))
            return BRS_OK;
        return bad(err, BRS_E_PARSE, "malformed JSON: expected ',' or '}' in", "\"k\"");
    }
}

/* Scan one object into f. Level arrays are only located (validated later). */
static int scan_object(scan *s, fields *f, int depth, brs_error *err)
{
    if (!eat(s, '{'))
        return bad(err, BRS_E_PARSE, "malformed JSON: expected an object", NULL);
    if (eat(s, '}'))
        return BRS_OK;
    for (;;) {
        span k;
        int esc;
        if (str(s, &k.p, &k.n, &esc) || !eat(s, ':'))
            return bad(err, BRS_E_PARSE, "malformed JSON: bad key", NULL);
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
                return bad(err, BRS_E_PARSE, "malformed JSON: bad string value of", kname);
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
                    return bad(err, BRS_E_PARSE, "bad integer in field", kname);
                if ((bit == F_E || bit == F_T) && (v < 0 || v > MAX_MS))
                    return bad(err, BRS_E_RANGE, "time out of range (ms since 1970) in", kname);
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
            return bad(err, rc == BRS_E_LIMIT ? BRS_E_LIMIT : BRS_E_PARSE,
                       "malformed JSON in the value of", kname);
        if (eat(s, ','))
            continue;
        if (eat(s, '}'))
            return BRS_OK;
        return bad(err, BRS_E_PARSE, "malformed JSON: expected ',' or '}' after", kname);
    }
}

static int scan_message(const char *json, size_t len, fields *f, brs_error *err)
{
    memset(f, 0, sizeof *f);
    f->pu = -1;
    scan s = {json, json + len};
    int rc = scan_object(&s, f, 0, err);
    if (rc)
        return rc;
    if (peek(&s) != -1)
        return bad(err, BRS_E_PARSE, "malformed JSON: trailing bytes after the object", NULL);
    return BRS_OK;
}

/* ---- symbols ------------------------------------------------------------ */

void brs__bn_feed_init(brs__bn_feed *f, brs__feed_sink sink, void *ud)
{
    memset(f, 0, sizeof *f);
    f->auto_add = 1;
    f->max_pending = 4096;
    f->book_reserve = 1024;
    f->sink = sink;
    f->ud = ud;
}

void brs__bn_feed_free(brs__bn_feed *f)
{
    for (uint32_t i = 0; i < f->nsym; i++) {
        brs__l2_free(&f->sym[i].book);
        free(f->sym[i].pend);
        free(f->sym[i].plev);
    }
    free(f->sym);
    free(f->scratch);
    memset(f, 0, sizeof *f);
}

brs__bn_symbol *brs__bn_find(brs__bn_feed *f, const char *symbol)
{
    for (uint32_t i = 0; i < f->nsym; i++)
        if (strcmp(f->sym[i].name, symbol) == 0)
            return &f->sym[i];
    return NULL;
}

static brs__bn_symbol *find_span(brs__bn_feed *f, span s)
{
    for (uint32_t i = 0; i < f->nsym; i++)
        if (strncmp(f->sym[i].name, s.p, s.n) == 0 && f->sym[i].name[s.n] == '\0')
            return &f->sym[i];
    return NULL;
}

brs__bn_symbol *brs__bn_get(brs__bn_feed *f, uint32_t instrument)
{
    return instrument < f->nsym ? &f->sym[instrument] : NULL;
}

int brs__bn_add_symbol(brs__bn_feed *f, const char *symbol, int price_dec, int qty_dec,
                       uint32_t *instrument)
{
    size_t n = strlen(symbol);
    if (n == 0 || n >= BRS_SYMBOL_MAX || price_dec > 18 || qty_dec > 18)
        return BRS_E_INVAL;
    brs__bn_symbol *ex = brs__bn_find(f, symbol);
    if (ex) {
        if (instrument)
            *instrument = ex->instrument;
        return BRS_OK;
    }
    if (f->nsym == f->capsym) {
        uint32_t nc = f->capsym ? f->capsym * 2 : 8;
        brs__bn_symbol *nv = realloc(f->sym, (size_t)nc * sizeof *nv);
        if (!nv)
            return BRS_E_NOMEM;
        f->sym = nv;
        f->capsym = nc;
    }
    brs__bn_symbol *y = &f->sym[f->nsym];
    memset(y, 0, sizeof *y);
    memcpy(y->name, symbol, n + 1);
    y->instrument = f->nsym;
    y->price_dec = price_dec < 0 ? -1 : price_dec;
    y->qty_dec = qty_dec < 0 ? -1 : qty_dec;
    y->state = BRS__BN_WAIT_SNAPSHOT;
    if (brs__l2_init(&y->book, f->book_reserve))
        return BRS_E_NOMEM;
    f->nsym++;
    if (instrument)
        *instrument = y->instrument;
    return BRS_OK;
}

static brs__bn_symbol *symbol_for(brs__bn_feed *f, span s, brs_error *err, int *rc)
{
    *rc = BRS_OK;
    if (!s.p || s.n == 0) {
        *rc = bad(err, BRS_E_PARSE, "missing field", "\"s\" (symbol)");
        return NULL;
    }
    brs__bn_symbol *y = find_span(f, s);
    if (y || !f->auto_add)
        return y;
    if (s.n >= BRS_SYMBOL_MAX) {
        *rc = bad(err, BRS_E_RANGE, "symbol too long in field", "\"s\"");
        return NULL;
    }
    char name[BRS_SYMBOL_MAX];
    memcpy(name, s.p, s.n);
    name[s.n] = '\0';
    uint32_t id;
    *rc = brs__bn_add_symbol(f, name, -1, -1, &id);
    if (*rc)
        return NULL;
    return &f->sym[id];
}

int brs__bn_needs_snapshot(const brs__bn_feed *f, uint32_t instrument)
{
    return instrument < f->nsym && f->sym[instrument].state == BRS__BN_WAIT_SNAPSHOT;
}

void brs__bn_resync(brs__bn_feed *f, uint32_t instrument)
{
    if (instrument >= f->nsym)
        return;
    brs__bn_symbol *y = &f->sym[instrument];
    y->state = BRS__BN_WAIT_SNAPSHOT;
    y->npend = 0;
    y->nplev = 0;
}

/* ---- levels ------------------------------------------------------------- */

static int num_field(brs__bn_symbol *y, span v, int is_price, int64_t *out, const char *field,
                     brs_error *err)
{
    int *dec = is_price ? &y->price_dec : &y->qty_dec;
    if (!v.p)
        return bad(err, BRS_E_PARSE, "missing field", field);
    int rc = brs__dec_parse(v.p, v.n, dec, out);
    if (rc == BRS_E_RANGE)
        return brs__err(err, rc, "binance: %s: value \"%.*s\" does not fit %d decimals in field %s",
                    y->name, (int)(v.n > 40 ? 40 : v.n), v.p, *dec, field);
    if (rc)
        return brs__err(err, rc, "binance: %s: bad decimal \"%.*s\" in field %s", y->name,
                    (int)(v.n > 40 ? 40 : v.n), v.p, field);
    return BRS_OK;
}

static int grow(void **v, uint32_t *cap, uint32_t need, size_t elem)
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
static int parse_levels(brs__bn_feed *f, brs__bn_symbol *y, const char *arr, const char *end,
                        uint8_t side, uint32_t *n, const char *field, brs_error *err)
{
    scan s = {arr, end};
    if (!eat(&s, '['))
        return bad(err, BRS_E_PARSE, "expected an array in field", field);
    if (eat(&s, ']'))
        return BRS_OK;
    for (;;) {
        span p, q;
        int esc;
        if (!eat(&s, '[') || str(&s, &p.p, &p.n, &esc) || !eat(&s, ',') ||
            str(&s, &q.p, &q.n, &esc))
            return bad(err, BRS_E_PARSE, "malformed level (want [\"price\",\"qty\"]) in field",
                       field);
        while (eat(&s, ',')) /* tolerate extra members (some feeds add order counts) */
            if (skip(&s, 0))
                return bad(err, BRS_E_PARSE, "malformed level in field", field);
        if (!eat(&s, ']'))
            return bad(err, BRS_E_PARSE, "malformed level in field", field);
        if (*n == f->cap_scratch &&
            grow((void **)&f->scratch, &f->cap_scratch, *n + 1, sizeof *f->scratch))
            return bad(err, BRS_E_NOMEM, "out of memory parsing", field);
        brs__bn_level *l = &f->scratch[*n];
        int rc = num_field(y, p, 1, &l->price, field, err);
        if (!rc)
            rc = num_field(y, q, 0, &l->qty, field, err);
        if (rc)
            return rc;
        l->side = side;
        (*n)++;
        if (eat(&s, ','))
            continue;
        if (eat(&s, ']'))
            return BRS_OK;
        return bad(err, BRS_E_PARSE, "malformed JSON: expected ',' or ']' in field", field);
    }
}

/* ---- emitting ----------------------------------------------------------- */

static int emit_levels(brs__bn_feed *f, brs__bn_symbol *y, const brs__bn_level *lv, uint32_t n,
                       int64_t E, int64_t T, int64_t recv, uint64_t u, uint16_t extra_flags,
                       int last_flag)
{
    brs_market_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts_exchange = E;
    ev.ts_local = recv;
    ev.instrument = y->instrument;
    ev.order_id = u;
    ev.aux = T;
    for (uint32_t i = 0; i < n; i++) {
        int rc = brs__l2_set(&y->book, lv[i].side, lv[i].price, lv[i].qty);
        if (rc)
            return rc;
        ev.kind = lv[i].qty > 0 ? BRS_MEV_LEVEL_SET : BRS_MEV_LEVEL_DELETE;
        ev.side = lv[i].side;
        ev.price = lv[i].price;
        ev.qty = lv[i].qty;
        ev.flags = extra_flags | (last_flag && i + 1 == n ? BRS_MEVF_LAST : 0);
        if (f->sink && (rc = f->sink(f->ud, &ev)) != 0)
            return rc;
    }
    return BRS_OK;
}

static void gap(brs__bn_feed *f, brs__bn_symbol *y, uint64_t U, uint64_t u, int64_t pu)
{
    y->n_gaps++;
    if (f->on_gap)
        f->on_gap(f->gap_ud, y->instrument, y->name, y->last_u, U, u, pu);
    brs__bn_resync(f, y->instrument);
}

/* Apply one update under the sync rules. Returns BRS_OK also for dropped
 * updates and gaps (they are not errors of the message); *applied says. */
static int apply_update(brs__bn_feed *f, brs__bn_symbol *y, const brs__bn_level *lv, uint32_t n,
                        uint64_t U, uint64_t u, int64_t pu, int64_t E, int64_t T, int64_t recv)
{
    if (y->state == BRS__BN_WAIT_BRIDGE) {
        uint64_t L = y->snapshot_id;
        uint64_t want = pu >= 0 ? L : L + 1; /* futures: U <= L <= u; spot: U <= L+1 <= u */
        if (pu >= 0 && (uint64_t)pu == L) {
            /* follows the snapshot exactly (a snapshot taken between two events) */
        } else if (u < want) {
            y->n_dropped++;
            return BRS_OK;
        } else if (U > want) {
            gap(f, y, U, u, pu);
            return BRS_OK;
        }
    } else {
        int ok = pu >= 0 ? (uint64_t)pu == y->last_u : U == y->last_u + 1;
        if (!ok) {
            gap(f, y, U, u, pu);
            return BRS_OK;
        }
    }
    y->state = BRS__BN_LIVE;
    y->last_u = u;
    y->n_applied++;
    return emit_levels(f, y, lv, n, E, T, recv, u, 0, 1);
}

static int buffer_update(brs__bn_feed *f, brs__bn_symbol *y, const brs__bn_level *lv, uint32_t n,
                         uint64_t U, uint64_t u, int64_t pu, int64_t E, int64_t T, int64_t recv)
{
    if (y->npend >= f->max_pending) { /* a snapshot is long overdue: start over */
        y->npend = 0;
        y->nplev = 0;
    }
    if (grow((void **)&y->pend, &y->cappend, y->npend + 1, sizeof *y->pend) ||
        grow((void **)&y->plev, &y->capplev, y->nplev + n, sizeof *y->plev))
        return BRS_E_NOMEM;
    brs__bn_pending *p = &y->pend[y->npend++];
    p->U = U;
    p->u = u;
    p->pu = pu;
    p->E = E;
    p->T = T;
    p->recv = recv;
    p->first = y->nplev;
    p->count = n;
    if (n) /* an update with no levels: plev may still be NULL (NULL + 0 is UB) */
        memcpy(&y->plev[y->nplev], lv, (size_t)n * sizeof *lv);
    y->nplev += n;
    return BRS_OK;
}

/* ---- entry points ------------------------------------------------------- */

static int64_t ms_to_ns(int64_t ms) { return ms * 1000000; }

int brs__bn_feed_message(brs__bn_feed *f, const char *json, size_t len, int64_t recv_ns,
                         brs_error *err)
{
    fields fl;
    int rc = scan_message(json, len, &fl, err);
    f->n_messages++;
    if (rc) {
        f->n_errors++;
        return rc;
    }
    if (!fl.e.p && fl.is_reply) {
        f->n_ignored++;
        return BRS_OK;
    }
    if (!fl.e.p) {
        f->n_errors++;
        return bad(err, BRS_E_PARSE, "missing field", "\"e\" (event type)");
    }
    int is_depth = KEY(fl.e, "depthUpdate"), is_bt = KEY(fl.e, "bookTicker"),
        is_tr = KEY(fl.e, "aggTrade"), is_kl = KEY(fl.e, "kline");
    if ((!is_depth && !is_bt && !is_tr && !is_kl) || (is_kl && fl.k.seen && !fl.k.closed)) {
        f->n_ignored++; /* unknown, or a bar still forming (only closed ones are bars) */
        return BRS_OK;
    }
    brs__bn_symbol *y = symbol_for(f, fl.s, err, &rc);
    if (!y) {
        if (rc)
            f->n_errors++;
        else
            f->n_unknown_symbol++;
        return rc;
    }
    int64_t E = (fl.have & F_E) ? ms_to_ns(fl.E) : 0;
    int64_t T = (fl.have & F_T) ? ms_to_ns(fl.T) : E;
    if (!(fl.have & F_E)) {
        f->n_errors++;
        return bad(err, BRS_E_PARSE, "missing field", "\"E\" (event time)");
    }
    brs_market_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts_exchange = E;
    ev.ts_local = recv_ns;
    ev.instrument = y->instrument;
    ev.flags = BRS_MEVF_LAST;
    if (is_bt) {
        ev.kind = BRS_MEV_QUOTE;
        if ((rc = num_field(y, fl.b_str, 1, &ev.quote.bid_price, "\"b\"", err)) ||
            (rc = num_field(y, fl.B, 0, &ev.quote.bid_qty, "\"B\"", err)) ||
            (rc = num_field(y, fl.a_str, 1, &ev.quote.ask_price, "\"a\"", err)) ||
            (rc = num_field(y, fl.A, 0, &ev.quote.ask_qty, "\"A\"", err))) {
            f->n_errors++;
            return rc;
        }
        y->n_quotes++;
        y->last_E = E;
        y->last_recv = recv_ns;
        return f->sink ? f->sink(f->ud, &ev) : BRS_OK;
    }
    if (is_kl) {
        /* a closed kline: a BAR stamped at its end (close time T is its last ms) */
        if (!fl.k.seen || !fl.k.have_T) {
            f->n_errors++;
            return bad(err, BRS_E_PARSE, "missing field", !fl.k.seen ? "\"k\"" : "\"k\".\"T\"");
        }
        ev.kind = BRS_MEV_BAR;
        ev.ts_exchange = ms_to_ns(fl.k.T + 1);
        if ((rc = num_field(y, fl.k.o, 1, &ev.bar.open, "\"k\".\"o\"", err)) ||
            (rc = num_field(y, fl.k.h, 1, &ev.bar.high, "\"k\".\"h\"", err)) ||
            (rc = num_field(y, fl.k.l, 1, &ev.bar.low, "\"k\".\"l\"", err)) ||
            (rc = num_field(y, fl.k.c, 1, &ev.bar.close, "\"k\".\"c\"", err)) ||
            (rc = num_field(y, fl.k.v, 0, &ev.bar.volume, "\"k\".\"v\"", err))) {
            f->n_errors++;
            return rc;
        }
        if (ev.bar.low > ev.bar.high || ev.bar.open < ev.bar.low || ev.bar.open > ev.bar.high ||
            ev.bar.close < ev.bar.low || ev.bar.close > ev.bar.high) {
            f->n_errors++;
            return bad(err, BRS_E_PARSE, "kline prices out of order (low <= open, close <= high)",
                       "\"k\"");
        }
        y->n_bars++;
        return f->sink ? f->sink(f->ud, &ev) : BRS_OK;
    }
    if (is_tr) {
        ev.kind = BRS_MEV_TRADE;
        if (!fl.has_agg_id) {
            f->n_errors++;
            return bad(err, BRS_E_PARSE, "missing field", "\"a\" (aggregate trade id)");
        }
        if ((rc = num_field(y, fl.p, 1, &ev.price, "\"p\"", err)) ||
            (rc = num_field(y, fl.q, 0, &ev.qty, "\"q\"", err))) {
            f->n_errors++;
            return rc;
        }
        ev.side = fl.m ? BRS_SELL : BRS_BUY;
        ev.order_id = (uint64_t)fl.agg_id;
        ev.aux = T;
        y->n_trades++;
        y->last_E = E;
        y->last_recv = recv_ns;
        return f->sink ? f->sink(f->ud, &ev) : BRS_OK;
    }
    /* depthUpdate */
    if (!(fl.have & F_U) || !(fl.have & F_u) || fl.U < 0 || fl.u < fl.U) {
        f->n_errors++;
        return bad(err, BRS_E_PARSE, "missing or inconsistent update ids", "\"U\"/\"u\"");
    }
    if (!fl.b_arr || !fl.a_arr) {
        f->n_errors++;
        return bad(err, BRS_E_PARSE, "missing field", !fl.b_arr ? "\"b\"" : "\"a\"");
    }
    uint32_t n = 0;
    if ((rc = parse_levels(f, y, fl.b_arr, json + len, BRS_BUY, &n, "\"b\"", err)) ||
        (rc = parse_levels(f, y, fl.a_arr, json + len, BRS_SELL, &n, "\"a\"", err))) {
        f->n_errors++;
        return rc;
    }
    y->n_updates++;
    y->last_E = E;
    y->last_recv = recv_ns;
    int64_t pu = (fl.have & F_pu) ? fl.pu : -1;
    if (y->state == BRS__BN_WAIT_SNAPSHOT)
        return buffer_update(f, y, f->scratch, n, (uint64_t)fl.U, (uint64_t)fl.u, pu, E, T, recv_ns);
    return apply_update(f, y, f->scratch, n, (uint64_t)fl.U, (uint64_t)fl.u, pu, E, T, recv_ns);
}

static int prefix_err(brs_error *err, int rc, const char *symbol)
{
    if (err) {
        char tmp[BRS_ERROR_MSG_MAX];
        memcpy(tmp, err->msg, sizeof tmp);
        brs__err(err, rc, "snapshot of %s: %s", symbol, tmp);
    }
    return rc;
}

int brs__bn_feed_snapshot(brs__bn_feed *f, const char *symbol, const char *json, size_t len,
                          int64_t recv_ns, brs_error *err)
{
    fields fl;
    int rc = scan_message(json, len, &fl, err);
    if (rc)
        return prefix_err(err, rc, symbol);
    if (!(fl.have & F_LID) || fl.lid < 0 || !fl.b_arr || !fl.a_arr)
        return brs__err(err, BRS_E_PARSE, "snapshot of %s: missing field %s", symbol,
                    !(fl.have & F_LID) ? "\"lastUpdateId\"" : !fl.b_arr ? "\"bids\"" : "\"asks\"");
    uint32_t id;
    brs__bn_symbol *y = brs__bn_find(f, symbol);
    if (!y) {
        if (!f->auto_add)
            return brs__err(err, BRS_E_NOTFOUND, "snapshot of unknown symbol %s", symbol);
        if ((rc = brs__bn_add_symbol(f, symbol, -1, -1, &id)))
            return brs__err(err, rc, "snapshot of %s: cannot add the symbol", symbol);
        y = &f->sym[id];
    }
    uint32_t n = 0;
    if ((rc = parse_levels(f, y, fl.b_arr, json + len, BRS_BUY, &n, "\"bids\"", err)) ||
        (rc = parse_levels(f, y, fl.a_arr, json + len, BRS_SELL, &n, "\"asks\"", err)))
        return prefix_err(err, rc, symbol);
    int64_t E = (fl.have & F_E) ? ms_to_ns(fl.E) : recv_ns;
    int64_t T = (fl.have & F_T) ? ms_to_ns(fl.T) : E;
    brs__l2_clear(&y->book);
    y->snapshot_id = (uint64_t)fl.lid;
    y->last_u = (uint64_t)fl.lid;
    y->state = BRS__BN_WAIT_BRIDGE;
    y->n_snapshots++;

    brs_market_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts_exchange = E;
    ev.ts_local = recv_ns;
    ev.instrument = y->instrument;
    ev.order_id = (uint64_t)fl.lid;
    ev.aux = T;
    ev.kind = BRS_MEV_SNAPSHOT_BEGIN;
    ev.flags = BRS_MEVF_SNAPSHOT;
    if (f->sink && (rc = f->sink(f->ud, &ev)))
        return rc;
    /* levels with qty 0 in a snapshot would be odd; emit_levels turns them into deletes */
    if ((rc = emit_levels(f, y, f->scratch, n, E, T, recv_ns, (uint64_t)fl.lid, BRS_MEVF_SNAPSHOT, 0)))
        return rc;
    ev.kind = BRS_MEV_SNAPSHOT_END;
    ev.flags = BRS_MEVF_SNAPSHOT | BRS_MEVF_LAST;
    if (f->sink && (rc = f->sink(f->ud, &ev)))
        return rc;

    /* Replay what arrived while we waited. Stamped with the snapshot's receive
     * time: that is when the local book took them. */
    uint32_t np = y->npend;
    y->npend = 0;
    for (uint32_t i = 0; i < np && y->state != BRS__BN_WAIT_SNAPSHOT; i++) {
        const brs__bn_pending *p = &y->pend[i];
        int64_t r = p->recv > recv_ns ? p->recv : recv_ns;
        rc = apply_update(f, y, p->count ? &y->plev[p->first] : NULL, p->count, p->U, p->u, p->pu,
                          p->E, p->T, r);
        if (rc)
            return rc;
    }
    if (y->state != BRS__BN_WAIT_SNAPSHOT)
        y->nplev = 0;
    return BRS_OK;
}

/* ---- recordings --------------------------------------------------------- */

int brs__bn_split_record(const char *line, size_t len, int *kind, int64_t *recv_ns,
                         const char **json, size_t *json_len, char *sym)
{
    *kind = 0;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0)
        return BRS_OK;
    const char *end = line + len;
    const char *ts = line;
    int k = 'W';
    if (len >= 4 && (memcmp(line, "ws:/", 4) == 0 || memcmp(line, "wss:", 4) == 0))
        return BRS_OK; /* the session header */
    if (len >= 5 && memcmp(line, "http", 4) == 0) {
        const char *arrow = NULL;
        for (const char *q = line; q + 4 <= end; q++)
            if (memcmp(q, " -> ", 4) == 0) {
                arrow = q;
                break;
            }
        if (!arrow)
            return BRS_E_PARSE;
        if (sym) {
            sym[0] = '\0';
            const char *q = line;
            for (; q + 7 <= arrow; q++)
                if (memcmp(q, "symbol=", 7) == 0)
                    break;
            if (q + 7 <= arrow) {
                q += 7;
                size_t n = 0;
                while (q + n < arrow && q[n] != '&' && n + 1 < BRS_SYMBOL_MAX) {
                    sym[n] = (char)toupper((unsigned char)q[n]);
                    n++;
                }
                sym[n] = '\0';
            }
        }
        ts = arrow + 4;
        k = 'H';
    }
    const char *colon = ts;
    while (colon < end && *colon != ':')
        colon++;
    if (colon >= end || colon + 1 >= end)
        return BRS_E_PARSE;
    if (brs__parse_epoch_s(ts, (size_t)(colon - ts), recv_ns))
        return BRS_E_PARSE;
    const char *j = colon + 1;
    while (j < end && *j == ' ')
        j++;
    *json = j;
    *json_len = (size_t)(end - j);
    *kind = k;
    return BRS_OK;
}
