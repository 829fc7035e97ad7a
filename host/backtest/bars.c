/* bars.c: the bars of a signal backtest, from a tick file (its BAR events) or
 * a Yahoo-style daily CSV. The CSV reader is the Yahoo layout of `bourse ticks
 * import --format yahoo` (same columns, same millionths price scale); switch to
 * the importer's parser once it is exported (host/ticks/import.h). */
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "core/core.h"
#include "ticks/tickfile.h"

#define YAHOO_SCALE 1000000

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

void brs__bt_bars_free(brs__bt_bars *b)
{
    if (b->bars)
        for (uint32_t i = 0; i < b->n_instr; i++)
            free(b->bars[i]);
    free(b->bars);
    free(b->n);
    free(b->instr);
    memset(b, 0, sizeof *b);
}

static int alloc_instr(brs__bt_bars *b, uint32_t n, brs_error *err)
{
    b->n_instr = n;
    b->instr = calloc(n ? n : 1, sizeof *b->instr);
    b->bars = calloc(n ? n : 1, sizeof *b->bars);
    b->n = calloc(n ? n : 1, sizeof *b->n);
    if (!b->instr || !b->bars || !b->n)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    return BRS_OK;
}

/* "123.456" as an exact integer of millionths; more than 6 decimals must be zeros. */
static int parse_price(const char *s, const char *e, int64_t *out)
{
    int64_t ip = 0, fp = 0;
    int digits = 0, frac = 0, any = 0;
    const char *p = s;
    for (; p < e && *p >= '0' && *p <= '9'; p++, any = 1) {
        if (ip > (INT64_MAX / 10 - 10) / YAHOO_SCALE)
            return -1;
        ip = ip * 10 + (*p - '0');
    }
    if (p < e && *p == '.') {
        for (p++; p < e && *p >= '0' && *p <= '9'; p++, any = 1, frac++) {
            if (digits < 6) {
                fp = fp * 10 + (*p - '0');
                digits++;
            } else if (*p != '0') {
                return -1;
            }
        }
    }
    if (p != e || !any)
        return -1;
    for (; digits < 6; digits++)
        fp *= 10;
    *out = ip * YAHOO_SCALE + fp;
    return 0;
}

static int parse_int(const char *s, const char *e, int64_t *out)
{
    int64_t v = 0;
    const char *p = s;
    for (; p < e && *p >= '0' && *p <= '9'; p++) {
        if (v > INT64_MAX / 10 - 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    /* some exports write volume as "123.0" */
    if (p < e && *p == '.')
        for (p++; p < e && *p == '0'; p++)
            ;
    if (p != e || p == s)
        return -1;
    *out = v;
    return 0;
}

static const char *const yahoo_cols[] = {"Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"};

static int load_yahoo(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err)
{
    char *text;
    size_t len;
    int rc = brs__read_file(path, &text, &len, err);
    if (rc)
        return rc;
    if ((rc = alloc_instr(b, 1, err)))
        goto out;
    brs_instrument *in = &b->instr[0];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(in->symbol, sizeof in->symbol, "%s", symbol ? symbol : base);
    if (!symbol) {
        char *dot = strstr(in->symbol, ".csv");
        if (dot)
            *dot = 0;
    }
    in->price_scale = YAHOO_SCALE;
    in->tick_size = 1;
    in->lot_size = 1;
    size_t cap = 1024, n = 0;
    brs_market_event *ev = malloc(cap * sizeof *ev);
    if (!ev) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    b->bars[0] = ev;
    char *line = text;
    for (uint64_t lineno = 1; line && *line; lineno++) {
        char *nl = strchr(line, '\n');
        char *end = nl ? nl : line + strlen(line);
        char *next = nl ? nl + 1 : NULL;
        if (end > line && end[-1] == '\r')
            end--;
        const char *f[8], *fe[8];
        int nf = 0;
        const char *p = line;
        while (nf < 8) {
            const char *c = memchr(p, ',', (size_t)(end - p));
            f[nf] = p;
            fe[nf] = c ? c : end;
            nf++;
            if (!c)
                break;
            p = c + 1;
        }
        if (end == line) { /* blank line */
            line = next;
            continue;
        }
        if (lineno == 1) {
            for (int i = 0; i < 7; i++)
                if (i >= nf || (size_t)(fe[i] - f[i]) != strlen(yahoo_cols[i]) ||
                    memcmp(f[i], yahoo_cols[i], strlen(yahoo_cols[i]))) {
                    rc = brs__err(err, BRS_E_PARSE,
                                  "%s:1: not a Yahoo daily CSV: column %d should be '%s'", path,
                                  i + 1, yahoo_cols[i]);
                    goto out;
                }
            line = next;
            continue;
        }
        if (nf != 7) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: %d fields, expected 7", path,
                          (unsigned long long)lineno, nf);
            goto out;
        }
        if (fe[1] - f[1] == 4 && !memcmp(f[1], "null", 4)) { /* Yahoo's holiday rows */
            line = next;
            continue;
        }
        char date[32];
        size_t dl = (size_t)(fe[0] - f[0]);
        int64_t ts, v[4], vol;
        if (dl == 0 || dl >= sizeof date) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: bad Date", path, (unsigned long long)lineno);
            goto out;
        }
        memcpy(date, f[0], dl);
        date[dl] = 0;
        if (brs__parse_time(date, &ts)) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: Date '%s' is not YYYY-MM-DD", path,
                          (unsigned long long)lineno, date);
            goto out;
        }
        for (int i = 0; i < 4; i++)
            if (parse_price(f[1 + i], fe[1 + i], &v[i]) || v[i] <= 0) {
                rc = brs__err(err, BRS_E_PARSE, "%s:%llu: field %s '%.*s' is not a positive price",
                              path, (unsigned long long)lineno, yahoo_cols[1 + i],
                              (int)(fe[1 + i] - f[1 + i]), f[1 + i]);
                goto out;
            }
        if (parse_int(f[6], fe[6], &vol)) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: Volume '%.*s' is not an integer", path,
                          (unsigned long long)lineno, (int)(fe[6] - f[6]), f[6]);
            goto out;
        }
        if (v[1] < v[2] || v[1] < v[0] || v[1] < v[3] || v[2] > v[0] || v[2] > v[3]) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: High/Low do not bracket Open and Close",
                          path, (unsigned long long)lineno);
            goto out;
        }
        if (n && ts <= ev[n - 1].ts_exchange) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: Date %s is not after the previous row", path,
                          (unsigned long long)lineno, date);
            goto out;
        }
        if (n == cap) {
            brs_market_event *g = realloc(ev, cap * 2 * sizeof *ev);
            if (!g) {
                rc = brs__err(err, BRS_E_NOMEM, "out of memory");
                goto out;
            }
            ev = b->bars[0] = g;
            cap *= 2;
        }
        brs_market_event *e = &ev[n++];
        memset(e, 0, sizeof *e);
        e->ts_exchange = e->ts_local = ts;
        e->kind = BRS_MEV_BAR;
        e->bar.open = v[0];
        e->bar.high = v[1];
        e->bar.low = v[2];
        e->bar.close = v[3];
        e->bar.volume = vol;
        line = next;
    }
    if (n == 0) {
        rc = brs__err(err, BRS_E_PARSE, "%s: no bars", path);
        goto out;
    }
    b->n[0] = b->total = n;
out:
    free(text);
    if (rc)
        brs__bt_bars_free(b);
    return rc;
}

static int load_ticks(brs__bt_bars *b, const char *path, brs_error *err)
{
    brs_tick_reader r;
    int rc = brs__tick_open(&r, path, err);
    if (rc)
        return rc;
    size_t *cap = NULL;
    if ((rc = alloc_instr(b, r.n_instr, err)))
        goto out;
    memcpy(b->instr, r.instr, r.n_instr * sizeof *b->instr);
    cap = calloc(r.n_instr ? r.n_instr : 1, sizeof *cap);
    if (!cap) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    const brs_market_event *e;
    while ((e = brs__tick_next(&r))) {
        if (e->kind != BRS_MEV_BAR)
            continue;
        uint32_t i = e->instrument;
        if (i >= b->n_instr) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bar for instrument %u, the file has %u", path, i,
                          b->n_instr);
            goto out;
        }
        if (b->n[i] && e->ts_exchange < b->bars[i][b->n[i] - 1].ts_exchange) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bars of %s go back in time", path,
                          b->instr[i].symbol);
            goto out;
        }
        if (b->n[i] == cap[i]) {
            size_t nc = cap[i] ? cap[i] * 2 : 1024;
            brs_market_event *g = realloc(b->bars[i], nc * sizeof *g);
            if (!g) {
                rc = brs__err(err, BRS_E_NOMEM, "out of memory");
                goto out;
            }
            b->bars[i] = g;
            cap[i] = nc;
        }
        b->bars[i][b->n[i]++] = *e;
        b->total++;
    }
    if (r.iter_err.code) {
        rc = brs__err(err, r.iter_err.code, "%s", r.iter_err.msg);
        goto out;
    }
    if (!b->total)
        rc = brs__err(err, BRS_E_PARSE,
                      "%s: no BAR events (signal mode needs bars; book mode replays order flow)",
                      path);
out:
    free(cap);
    brs__tick_close(&r);
    if (rc)
        brs__bt_bars_free(b);
    return rc;
}

int brs__bt_bars_load(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err)
{
    memset(b, 0, sizeof *b);
    if (ends_with(path, ".csv") || ends_with(path, ".CSV"))
        return load_yahoo(b, path, symbol, err);
    return load_ticks(b, path, err);
}
