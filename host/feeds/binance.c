/* binance.c: Binance USD-M messages into feed events, and the snapshot/update
 * sync per symbol. JSON is scanned by hand (binance_scan.c): these messages are
 * small flat objects of known shape, and a scanner that records spans and
 * parses numbers in place runs several times faster than building a cJSON tree
 * per frame (docs/websocket.md). */
#include "binance.h"
#include "binance_scan.h"

#include "core/core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        *rc = brs__bn_bad(err, BRS_E_PARSE, "missing field", "\"s\" (symbol)");
        return NULL;
    }
    brs__bn_symbol *y = find_span(f, s);
    if (y || !f->auto_add)
        return y;
    if (s.n >= BRS_SYMBOL_MAX) {
        *rc = brs__bn_bad(err, BRS_E_RANGE, "symbol too long in field", "\"s\"");
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
    if (brs__bn_grow((void **)&y->pend, &y->cappend, y->npend + 1, sizeof *y->pend) ||
        brs__bn_grow((void **)&y->plev, &y->capplev, y->nplev + n, sizeof *y->plev))
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
    int rc = brs__bn_scan_message(json, len, &fl, err);
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
        return brs__bn_bad(err, BRS_E_PARSE, "missing field", "\"e\" (event type)");
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
        return brs__bn_bad(err, BRS_E_PARSE, "missing field", "\"E\" (event time)");
    }
    brs_market_event ev;
    memset(&ev, 0, sizeof ev);
    ev.ts_exchange = E;
    ev.ts_local = recv_ns;
    ev.instrument = y->instrument;
    ev.flags = BRS_MEVF_LAST;
    if (is_bt) {
        ev.kind = BRS_MEV_QUOTE;
        if ((rc = brs__bn_num_field(y, fl.b_str, 1, &ev.quote.bid_price, "\"b\"", err)) ||
            (rc = brs__bn_num_field(y, fl.B, 0, &ev.quote.bid_qty, "\"B\"", err)) ||
            (rc = brs__bn_num_field(y, fl.a_str, 1, &ev.quote.ask_price, "\"a\"", err)) ||
            (rc = brs__bn_num_field(y, fl.A, 0, &ev.quote.ask_qty, "\"A\"", err))) {
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
            return brs__bn_bad(err, BRS_E_PARSE, "missing field", !fl.k.seen ? "\"k\"" : "\"k\".\"T\"");
        }
        ev.kind = BRS_MEV_BAR;
        ev.ts_exchange = ms_to_ns(fl.k.T + 1);
        if ((rc = brs__bn_num_field(y, fl.k.o, 1, &ev.bar.open, "\"k\".\"o\"", err)) ||
            (rc = brs__bn_num_field(y, fl.k.h, 1, &ev.bar.high, "\"k\".\"h\"", err)) ||
            (rc = brs__bn_num_field(y, fl.k.l, 1, &ev.bar.low, "\"k\".\"l\"", err)) ||
            (rc = brs__bn_num_field(y, fl.k.c, 1, &ev.bar.close, "\"k\".\"c\"", err)) ||
            (rc = brs__bn_num_field(y, fl.k.v, 0, &ev.bar.volume, "\"k\".\"v\"", err))) {
            f->n_errors++;
            return rc;
        }
        if (ev.bar.low > ev.bar.high || ev.bar.open < ev.bar.low || ev.bar.open > ev.bar.high ||
            ev.bar.close < ev.bar.low || ev.bar.close > ev.bar.high) {
            f->n_errors++;
            return brs__bn_bad(err, BRS_E_PARSE, "kline prices out of order (low <= open, close <= high)",
                       "\"k\"");
        }
        y->n_bars++;
        return f->sink ? f->sink(f->ud, &ev) : BRS_OK;
    }
    if (is_tr) {
        ev.kind = BRS_MEV_TRADE;
        if (!fl.has_agg_id) {
            f->n_errors++;
            return brs__bn_bad(err, BRS_E_PARSE, "missing field", "\"a\" (aggregate trade id)");
        }
        if ((rc = brs__bn_num_field(y, fl.p, 1, &ev.price, "\"p\"", err)) ||
            (rc = brs__bn_num_field(y, fl.q, 0, &ev.qty, "\"q\"", err))) {
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
        return brs__bn_bad(err, BRS_E_PARSE, "missing or inconsistent update ids", "\"U\"/\"u\"");
    }
    if (!fl.b_arr || !fl.a_arr) {
        f->n_errors++;
        return brs__bn_bad(err, BRS_E_PARSE, "missing field", !fl.b_arr ? "\"b\"" : "\"a\"");
    }
    uint32_t n = 0;
    if ((rc = brs__bn_parse_levels(f, y, fl.b_arr, json + len, BRS_BUY, &n, "\"b\"", err)) ||
        (rc = brs__bn_parse_levels(f, y, fl.a_arr, json + len, BRS_SELL, &n, "\"a\"", err))) {
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
    int rc = brs__bn_scan_message(json, len, &fl, err);
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
    if ((rc = brs__bn_parse_levels(f, y, fl.b_arr, json + len, BRS_BUY, &n, "\"bids\"", err)) ||
        (rc = brs__bn_parse_levels(f, y, fl.a_arr, json + len, BRS_SELL, &n, "\"asks\"", err)))
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
