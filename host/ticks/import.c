/* import.c: `bourse ticks import`: runs one importer per input file into a
 * sink (sink.c: bounded memory, spills next to the output), then writes the
 * tick file atomically (nothing half-written is left behind on error). Also the Yahoo daily-bar and the generic CSV
 * importers; LOBSTER lives in lobster.c. */
#include "ticks/import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "ticks/csvread.h"
#include "ticks/tickfile.h"
#include "ticks/ticks_cli.h"

/* ---- Yahoo daily bars ------------------------------------------------- */

typedef struct yahoo_state {
    brs_import_sink *s;
    uint32_t instr;
    int64_t scale;
    int adjust;           /* --adjust: back-adjust OHLC by Adj Close / Close */
    int64_t last_day;     /* the previous row's date */
    char last_date[11];   /* and as written */
    uint64_t last_line;
    uint64_t adj_differs; /* rows whose Adj Close is not their Close */
} yahoo_state;

static const char *const yahoo_cols[] = {"Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"};

/* A decimal number (Adj Close may carry more decimals than the price scale). */
static int yahoo_num(const brs_csv_row *row, size_t i, double *out, brs_error *err)
{
    char *end;
    const char *v = row->f[i];
    *out = strtod(v, &end);
    if (!*v || *end || !isfinite(*out))
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s): '%s' is not a number", row->file,
                        (unsigned long long)row->line, i + 1, yahoo_cols[i], v);
    return BRS_OK;
}

static int yahoo_row(void *ud, const brs_csv_row *row, brs_error *err)
{
    yahoo_state *y = ud;
    if (row->line == 1) {
        for (size_t i = 0; i < 7; i++)
            if (i >= row->n || strcmp(row->f[i], yahoo_cols[i]) != 0)
                return brs__err(err, BRS_E_PARSE, "%s:1: field %zu of the header is '%s', expected '%s' (Yahoo layout %s)",
                                row->file, i + 1, i < row->n ? row->f[i] : "", yahoo_cols[i],
                                "Date,Open,High,Low,Close,Adj Close,Volume");
        return BRS_OK;
    }
    if (row->n != 7)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: %zu fields, expected 7", row->file,
                        (unsigned long long)row->line, row->n);
    for (size_t i = 1; i < 7; i++)
        if (strcmp(row->f[i], "null") == 0) {
            y->s->skipped++;
            return BRS_OK;
        }
    const char *file = row->file;
    unsigned long long ln = (unsigned long long)row->line;
    int64_t day;
    if (brs__parse_time(row->f[0], &day) != BRS_OK || strlen(row->f[0]) != 10)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 1 (Date): '%s' is not a YYYY-MM-DD date",
                        file, ln, row->f[0]);
    if (y->last_line && day <= y->last_day) /* the same words as the backtest's bar loader */
        return brs__err(err, BRS_E_PARSE, "%s:%llu: date %s is %s the date %s on line %llu (rows must be in "
                        "date order, oldest first)", file, ln, row->f[0],
                        day == y->last_day ? "the same as" : "before", y->last_date, (unsigned long long)y->last_line);
    brs_market_event e;
    memset(&e, 0, sizeof e);
    /* A daily bar is stamped at the end of its day (UTC), so it is never seen
     * before it is complete. */
    e.ts_exchange = e.ts_local = day + 86400ll * 1000000000ll;
    e.kind = BRS_MEV_BAR;
    e.flags = BRS_MEVF_LAST;
    e.instrument = y->instr;
    int rc;
    double adj, close;
    if ((rc = brs__csv_dec(row, 1, "Open", y->scale, &e.bar.open, err)) ||
        (rc = brs__csv_dec(row, 2, "High", y->scale, &e.bar.high, err)) ||
        (rc = brs__csv_dec(row, 3, "Low", y->scale, &e.bar.low, err)) ||
        (rc = brs__csv_dec(row, 4, "Close", y->scale, &e.bar.close, err)) ||
        (rc = yahoo_num(row, 5, &adj, err)) || (rc = yahoo_num(row, 4, &close, err)) ||
        (rc = brs__csv_int(row, 6, "Volume", &e.bar.volume, err)))
        return rc;
    /* values that cannot be right */
    const int64_t px[4] = {e.bar.open, e.bar.high, e.bar.low, e.bar.close};
    for (size_t i = 0; i < 4; i++)
        if (px[i] <= 0)
            return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s): %s; a price must be > 0", file, ln,
                            i + 2, yahoo_cols[i + 1], row->f[i + 1]);
    if (!(adj > 0))
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 6 (Adj Close): %s; a price must be > 0", file, ln, row->f[5]);
    if (e.bar.volume < 0)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 7 (Volume): %s is negative", file, ln, row->f[6]);
    if (e.bar.high < e.bar.low)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 3 (High): %s is below field 4 (Low) %s", file, ln,
                        row->f[2], row->f[3]);
    for (size_t i = 0; i < 4; i += 3) /* open and close lie within low..high */
        if (px[i] < e.bar.low || px[i] > e.bar.high)
            return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s): %s is outside Low..High (%s..%s)", file, ln,
                            i + 2, yahoo_cols[i + 1], row->f[i + 1], row->f[3], row->f[2]);
    if (adj != close)
        y->adj_differs++;
    if (y->adjust && adj != close) {
        /* back-adjust: scale O/H/L/C by Adj Close / Close, the factor that
         * folds later splits and dividends into this day's prices (volume as
         * traded). Rounded to the price scale; order is kept (factor > 0). */
        double f = adj / close;
        int64_t *v[4] = {&e.bar.open, &e.bar.high, &e.bar.low, &e.bar.close};
        for (size_t i = 0; i < 4; i++) {
            double a = (double)*v[i] * f;
            if (!(a >= 1 && a < 9e18))
                return brs__err(err, BRS_E_RANGE, "%s:%llu: --adjust: %s x %s / %s is out of range", file, ln,
                                row->f[i + 1], row->f[5], row->f[4]);
            *v[i] = llround(a);
        }
    }
    y->last_day = day;
    snprintf(y->last_date, sizeof y->last_date, "%s", row->f[0]);
    y->last_line = row->line;
    return brs__sink_add(y->s, &e, err);
}

int brs__import_yahoo(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err)
{
    yahoo_state y = {.s = s, .scale = o->price_scale ? o->price_scale : 1000000, .adjust = o->adjust};
    char sym[BRS_SYMBOL_MAX];
    if (o->symbol) {
        snprintf(sym, sizeof sym, "%s", o->symbol);
    } else { /* SPY.csv -> SPY */
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t n = strcspn(b, ".");
        snprintf(sym, sizeof sym, "%.*s", (int)(n < sizeof sym ? n : sizeof sym - 1), b);
    }
    int rc = brs__sink_instrument(s, sym, y.scale, o->tick_size, o->lot_size, &y.instr, err);
    if (rc)
        return rc;
    rc = brs__csv_each(path, yahoo_row, &y, s->progress, &s->bytes_done, err);
    if (!rc && !y.adjust && y.adj_differs && !s->adj_note) {
        s->adj_note = 1; /* once per import */
        BRS_LOG(BRS_LOG_INFO, "import", "Adj Close is ignored: bars are as traded; --adjust back-adjusts OHLC for splits and dividends",
                BRS_KV_S("file", path), BRS_KV_U("rows_where_it_differs", y.adj_differs));
    }
    return rc;
}

/* ---- generic trades / quotes CSV with a JSON column mapping ----------- */

enum { COL_TIME, COL_LOCAL, COL_SYMBOL, COL_PRICE, COL_QTY, COL_SIDE, COL_ID, COL_BIDP, COL_BIDQ,
       COL_ASKP, COL_ASKQ, COL_N };
static const char *const col_keys[COL_N] = {"time", "local_time", "symbol", "price", "qty", "side",
                                            "id", "bid_price", "bid_qty", "ask_price", "ask_qty"};

typedef struct csvmap {
    brs_config cfg;
    int quote;                   /* kind: trade or quote */
    const char *col_name[COL_N]; /* header names, NULL if absent */
    int col[COL_N];              /* field index once the header is read */
    const char *time_unit;
    const char *symbol;          /* fixed symbol when no symbol column */
    int64_t price_scale, qty_scale, tick_size, lot_size;
    brs_import_sink *s;
    uint64_t next_id;
    int have_header;             /* the first row the reader delivers is the header */
    int64_t last_ts, last_local; /* the previous row's times */
    uint64_t last_line;          /* its line, 0 before the first row */
} csvmap;

static int load_mapping(csvmap *m, const char *path, brs_error *err)
{
    int rc = brs__config_load(&m->cfg, path, err);
    if (rc)
        return rc;
    static const char *const top[] = {"kind", "columns", "time_unit", "symbol", "price_scale",
                                      "qty_scale", "tick_size", "lot_size", NULL};
    const cJSON *root = m->cfg.root;
    const char *kind;
    if ((rc = brs__config_check_keys(&m->cfg, root, "", top, err)) ||
        (rc = brs__config_string(&m->cfg, root, "", "kind", "trade", &kind, err)) ||
        (rc = brs__config_string(&m->cfg, root, "", "time_unit", "ns", &m->time_unit, err)) ||
        (rc = brs__config_string(&m->cfg, root, "", "symbol", NULL, &m->symbol, err)) ||
        (rc = brs__config_int(&m->cfg, root, "", "price_scale", 100000000, &m->price_scale, err)) ||
        (rc = brs__config_int(&m->cfg, root, "", "qty_scale", 1, &m->qty_scale, err)) ||
        (rc = brs__config_int(&m->cfg, root, "", "tick_size", 1, &m->tick_size, err)) ||
        (rc = brs__config_int(&m->cfg, root, "", "lot_size", 1, &m->lot_size, err)))
        return rc;
    if (strcmp(kind, "trade") && strcmp(kind, "quote"))
        return brs__err(err, BRS_E_INVAL, "%s: key 'kind' must be \"trade\" or \"quote\", not \"%s\"", path, kind);
    m->quote = strcmp(kind, "quote") == 0;
    if (strcmp(m->time_unit, "s") && strcmp(m->time_unit, "ms") && strcmp(m->time_unit, "us") &&
        strcmp(m->time_unit, "ns") && strcmp(m->time_unit, "iso"))
        return brs__err(err, BRS_E_INVAL, "%s: key 'time_unit' must be s, ms, us, ns or iso, not \"%s\"",
                        path, m->time_unit);
    for (int64_t sc = m->price_scale; sc > 1; sc /= 10)
        if (sc % 10)
            return brs__err(err, BRS_E_INVAL, "%s: key 'price_scale' must be a power of ten", path);
    for (int64_t sc = m->qty_scale; sc > 1; sc /= 10)
        if (sc % 10)
            return brs__err(err, BRS_E_INVAL, "%s: key 'qty_scale' must be a power of ten", path);
    if (m->price_scale < 1 || m->qty_scale < 1)
        return brs__err(err, BRS_E_INVAL, "%s: 'price_scale' and 'qty_scale' must be >= 1", path);
    const cJSON *cols = cJSON_GetObjectItem(root, "columns");
    if (!cJSON_IsObject(cols))
        return brs__err(err, BRS_E_INVAL, "%s: key 'columns' (an object naming the CSV header of each field) is required", path);
    static const char *const ck[] = {"time", "local_time", "symbol", "price", "qty", "side", "id",
                                     "bid_price", "bid_qty", "ask_price", "ask_qty", NULL};
    if ((rc = brs__config_check_keys(&m->cfg, cols, "columns", ck, err)))
        return rc;
    for (int i = 0; i < COL_N; i++) {
        if ((rc = brs__config_string(&m->cfg, cols, "columns", col_keys[i], NULL, &m->col_name[i], err)))
            return rc;
        m->col[i] = -1;
    }
    static const int need_trade[] = {COL_TIME, COL_PRICE, COL_QTY}, need_quote[] = {COL_TIME, COL_BIDP, COL_BIDQ, COL_ASKP, COL_ASKQ};
    const int *need = m->quote ? need_quote : need_trade;
    size_t nn = m->quote ? 5 : 3;
    for (size_t i = 0; i < nn; i++)
        if (!m->col_name[need[i]])
            return brs__err(err, BRS_E_INVAL, "%s: key 'columns.%s' is required for kind %s", path,
                            col_keys[need[i]], kind);
    if (!m->symbol && !m->col_name[COL_SYMBOL])
        return BRS_OK; /* --symbol must then be given; checked by the caller */
    return BRS_OK;
}

static int csv_time(const csvmap *m, const brs_csv_row *row, int c, const char *name, int64_t *out,
                    brs_error *err)
{
    const char *v = row->f[m->col[c]];
    int rc;
    if (strcmp(m->time_unit, "iso") == 0) {
        rc = brs__parse_time(v, out);
        if (rc)
            return brs__err(err, BRS_E_PARSE, "%s:%llu: field %d (%s): '%s' is not an ISO-8601 time",
                            row->file, (unsigned long long)row->line, m->col[c] + 1, name, v);
        return BRS_OK;
    }
    int64_t scale = m->time_unit[0] == 's' ? 1000000000 : m->time_unit[0] == 'm' ? 1000000
                    : m->time_unit[0] == 'u' ? 1000 : 1;
    return brs__csv_dec(row, (size_t)m->col[c], name, scale, out, err);
}

static int csvmap_row(void *ud, const brs_csv_row *row, brs_error *err)
{
    csvmap *m = ud;
    if (!m->have_header) { /* header (the first row, whatever line it is on) */
        m->have_header = 1;
        for (int i = 0; i < COL_N; i++) {
            if (!m->col_name[i])
                continue;
            for (size_t k = 0; k < row->n; k++)
                if (strcmp(row->f[k], m->col_name[i]) == 0)
                    m->col[i] = (int)k;
            if (m->col[i] < 0)
                return brs__err(err, BRS_E_PARSE, "%s:%llu: the header has no column '%s' (mapped as columns.%s)",
                                row->file, (unsigned long long)row->line, m->col_name[i], col_keys[i]);
        }
        return BRS_OK;
    }
    for (int i = 0; i < COL_N; i++)
        if (m->col[i] >= 0 && (size_t)m->col[i] >= row->n)
            return brs__err(err, BRS_E_PARSE, "%s:%llu: field %d (%s) is missing (row has %zu fields)",
                            row->file, (unsigned long long)row->line, m->col[i] + 1, m->col_name[i], row->n);
    brs_market_event e;
    memset(&e, 0, sizeof e);
    e.flags = BRS_MEVF_LAST;
    int rc = csv_time(m, row, COL_TIME, m->col_name[COL_TIME], &e.ts_exchange, err);
    if (rc)
        return rc;
    e.ts_local = e.ts_exchange;
    if (m->col[COL_LOCAL] >= 0 && (rc = csv_time(m, row, COL_LOCAL, m->col_name[COL_LOCAL], &e.ts_local, err)))
        return rc;
    if (m->last_line && (e.ts_exchange < m->last_ts || e.ts_local < m->last_local)) {
        int loc = e.ts_exchange >= m->last_ts;
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field %d (%s): %s is before the time on line %llu: times go backwards",
                        row->file, (unsigned long long)row->line, m->col[loc ? COL_LOCAL : COL_TIME] + 1,
                        m->col_name[loc ? COL_LOCAL : COL_TIME], row->f[m->col[loc ? COL_LOCAL : COL_TIME]],
                        (unsigned long long)m->last_line);
    }
    m->last_ts = e.ts_exchange;
    m->last_local = e.ts_local;
    m->last_line = row->line;
    const char *sym = m->col[COL_SYMBOL] >= 0 ? row->f[m->col[COL_SYMBOL]] : m->symbol;
    if ((rc = brs__sink_instrument(m->s, sym, m->price_scale, m->tick_size, m->lot_size, &e.instrument, err)))
        return brs__err_prefix(err, "%s:%llu", row->file, (unsigned long long)row->line);
    if (m->quote) {
        e.kind = BRS_MEV_QUOTE;
        if ((rc = brs__csv_dec(row, (size_t)m->col[COL_BIDP], m->col_name[COL_BIDP], m->price_scale, &e.quote.bid_price, err)) ||
            (rc = brs__csv_dec(row, (size_t)m->col[COL_BIDQ], m->col_name[COL_BIDQ], m->qty_scale, &e.quote.bid_qty, err)) ||
            (rc = brs__csv_dec(row, (size_t)m->col[COL_ASKP], m->col_name[COL_ASKP], m->price_scale, &e.quote.ask_price, err)) ||
            (rc = brs__csv_dec(row, (size_t)m->col[COL_ASKQ], m->col_name[COL_ASKQ], m->qty_scale, &e.quote.ask_qty, err)))
            return rc;
        /* an empty side is price 0 size 0; otherwise both > 0 and not crossed */
        const int cols[4] = {COL_BIDP, COL_BIDQ, COL_ASKP, COL_ASKQ};
        const int64_t v[4] = {e.quote.bid_price, e.quote.bid_qty, e.quote.ask_price, e.quote.ask_qty};
        for (int k = 0; k < 4; k++)
            if (v[k] < 0 || (v[k] == 0 && v[k ^ 1] != 0 && (k & 1) == 0))
                return brs__err(err, BRS_E_PARSE, "%s:%llu: field %d (%s): %s %s", row->file,
                                (unsigned long long)row->line, m->col[cols[k]] + 1, m->col_name[cols[k]],
                                row->f[m->col[cols[k]]], v[k] < 0 ? "is negative" : "is not a price for a side with a size");
        if (e.quote.bid_qty > 0 && e.quote.ask_qty > 0 && e.quote.bid_price > e.quote.ask_price)
            return brs__err(err, BRS_E_PARSE, "%s:%llu: crossed quote: bid %s (field %d) above ask %s (field %d)",
                            row->file, (unsigned long long)row->line, row->f[m->col[COL_BIDP]],
                            m->col[COL_BIDP] + 1, row->f[m->col[COL_ASKP]], m->col[COL_ASKP] + 1);
    } else {
        e.kind = BRS_MEV_TRADE;
        if ((rc = brs__csv_dec(row, (size_t)m->col[COL_PRICE], m->col_name[COL_PRICE], m->price_scale, &e.price, err)) ||
            (rc = brs__csv_dec(row, (size_t)m->col[COL_QTY], m->col_name[COL_QTY], m->qty_scale, &e.qty, err)))
            return rc;
        if (e.price <= 0 || e.qty <= 0) {
            int c = e.price <= 0 ? COL_PRICE : COL_QTY;
            return brs__err(err, BRS_E_PARSE, "%s:%llu: field %d (%s): %s; a trade's %s must be > 0", row->file,
                            (unsigned long long)row->line, m->col[c] + 1, m->col_name[c], row->f[m->col[c]],
                            c == COL_PRICE ? "price" : "quantity");
        }
        if (m->col[COL_SIDE] >= 0) {
            const char *v = row->f[m->col[COL_SIDE]];
            if (!strcasecmp(v, "buy") || !strcasecmp(v, "b") || !strcmp(v, "1"))
                e.side = BRS_BUY;
            else if (!strcasecmp(v, "sell") || !strcasecmp(v, "s") || !strcmp(v, "-1"))
                e.side = BRS_SELL;
            else
                return brs__err(err, BRS_E_PARSE, "%s:%llu: field %d (%s): '%s' is not a side (buy/b/1 or sell/s/-1)",
                                row->file, (unsigned long long)row->line, m->col[COL_SIDE] + 1,
                                m->col_name[COL_SIDE], v);
        }
        if (m->col[COL_ID] >= 0) {
            int64_t id;
            if ((rc = brs__csv_int(row, (size_t)m->col[COL_ID], m->col_name[COL_ID], &id, err)))
                return rc;
            e.order_id = (uint64_t)id;
        } else {
            e.order_id = ++m->next_id;
        }
    }
    return brs__sink_add(m->s, &e, err);
}

int brs__import_csv(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err)
{
    if (!o->mapping)
        return brs__err(err, BRS_E_INVAL, "--format csv needs --mapping FILE.json (see docs/tick-format.md)");
    csvmap m;
    memset(&m, 0, sizeof m);
    m.s = s;
    int rc = load_mapping(&m, o->mapping, err);
    if (!rc && o->symbol)
        m.symbol = o->symbol;
    if (!rc && !m.symbol && !m.col_name[COL_SYMBOL])
        rc = brs__err(err, BRS_E_INVAL, "%s: no symbol: map columns.symbol, set key 'symbol' or pass --symbol", o->mapping);
    if (!rc)
        rc = brs__csv_each(path, csvmap_row, &m, s->progress, &s->bytes_done, err);
    brs__config_free(&m.cfg);
    return rc;
}

/* ---- the command ------------------------------------------------------ */

static void import_usage(FILE *out)
{
    fprintf(out,
            "usage: bourse ticks import --format lobster|yahoo|csv|binance IN... -o OUT [OPTIONS]\n\n"
            "Converts market data to a tick file (written atomically; nothing is left on error).\n"
            "Memory stays bounded: past 1M events they spill to an unlinked temporary file in\n"
            "OUT's directory ($TMPDIR if that takes no file), which needs about 64 bytes of\n"
            "free space per event meanwhile.\n\n"
            "  --format F          lobster: LOBSTER message files (TICKER_YYYY-MM-DD_..._message_N.csv)\n"
            "                      yahoo:   daily bars Date,Open,High,Low,Close,Adj Close,Volume\n"
            "                      csv:     trades or quotes with a JSON column mapping (--mapping)\n"
            "                      binance: a recorded Binance USD-M WebSocket session, lines\n"
            "                               '<recv_ts>: <json>' (depthUpdate, bookTicker, aggTrade)\n"
            "  -o, --output FILE   the tick file to write\n"
            "  --symbol S          instrument symbol (default: from the file name, or the mapping)\n"
            "  --orderbook FILE    lobster: the matching orderbook file; seeds the book that existed\n"
            "                      before the first message and reconciles liquidity outside the\n"
            "                      message file's level range (docs/tick-format.md)\n"
            "  --date YYYY-MM-DD   lobster: trading day (default: from the file name)\n"
            "  --utc-offset MIN    lobster: minutes to add to UTC for local time (default: New York, DST-aware)\n"
            "  --mapping FILE      csv: the JSON column mapping\n"
            "  --snapshot FILE     binance: the REST depth snapshots ('<url> -> <recv_ts>: <json>');\n"
            "                      synced with the U/u/pu update chain, gaps are reported\n"
            "  --price-scale N     yahoo: price units per currency unit (default 1000000)\n"
            "  --adjust            yahoo: back-adjust Open/High/Low/Close by Adj Close / Close\n"
            "                      (splits and dividends; volume as traded). Default: as traded,\n"
            "                      Adj Close ignored\n"
            "  --tick-size N, --lot-size N   instrument table values (default 1)\n"
            "  --block-records R, --level L  writer block size and zstd level\n");
}

int brs__cmd_ticks_import(int argc, char **argv)
{
    const char *fmt = NULL, *out = NULL;
    brs_import_opts o = {0};
    brs_tick_writer_opts wo = {.atomic = 1};
    const char **in = calloc((size_t)argc, sizeof *in);
    int n_in = 0;
    if (!in)
        return brs__fail("ticks import", "out of memory");
#define NEED_ARG()                                                                               \
    do {                                                                                         \
        if (i + 1 >= argc) {                                                                     \
            free(in);                                                                            \
            return brs__usage_error("ticks import", "%s needs a value", a);                      \
        }                                                                                        \
    } while (0)
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (brs__is_help(a)) {
            import_usage(stdout);
            free(in);
            return BRS_EXIT_OK;
        } else if (!strcmp(a, "--format")) {
            NEED_ARG();
            fmt = argv[++i];
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            NEED_ARG();
            out = argv[++i];
        } else if (!strcmp(a, "--symbol")) {
            NEED_ARG();
            o.symbol = argv[++i];
        } else if (!strcmp(a, "--orderbook")) {
            NEED_ARG();
            o.orderbook = argv[++i];
        } else if (!strcmp(a, "--date")) {
            NEED_ARG();
            o.date = argv[++i];
        } else if (!strcmp(a, "--mapping")) {
            NEED_ARG();
            o.mapping = argv[++i];
        } else if (!strcmp(a, "--adjust")) {
            o.adjust = 1;
        } else if (!strcmp(a, "--snapshot")) {
            NEED_ARG();
            o.snapshot = argv[++i];
        } else if (!strcmp(a, "--utc-offset")) {
            NEED_ARG();
            if (brs__parse_decimal(argv[++i], 1, &o.utc_offset_min)) {
                free(in);
                return brs__usage_error("ticks import", "--utc-offset needs minutes (e.g. -240)");
            }
            o.utc_offset_set = 1;
        } else if (!strcmp(a, "--price-scale") || !strcmp(a, "--tick-size") || !strcmp(a, "--lot-size") ||
                   !strcmp(a, "--block-records") || !strcmp(a, "--level")) {
            NEED_ARG();
            if (brs__parse_u64(argv[++i], &v) || v < 1 || v > (uint64_t)INT64_MAX) {
                free(in);
                return brs__usage_error("ticks import", "%s needs a positive integer", a);
            }
            if (!strcmp(a, "--price-scale"))
                o.price_scale = (int64_t)v;
            else if (!strcmp(a, "--tick-size"))
                o.tick_size = (int64_t)v;
            else if (!strcmp(a, "--lot-size"))
                o.lot_size = (int64_t)v;
            else if (!strcmp(a, "--block-records"))
                wo.block_records = v > BRS_TICK_MAX_BLOCK_RECORDS ? BRS_TICK_MAX_BLOCK_RECORDS : (uint32_t)v;
            else
                wo.level = v > 22 ? 22 : (int)v;
        } else if (a[0] == '-' && a[1]) {
            free(in);
            return brs__usage_error("ticks import", "unknown option '%s'", a);
        } else {
            in[n_in++] = a;
        }
    }
#undef NEED_ARG
    int (*imp)(brs_import_sink *, const char *, const brs_import_opts *, brs_error *) = NULL;
    if (!fmt) {
        free(in);
        return brs__usage_error("ticks import", "missing --format (lobster, yahoo, csv or binance)");
    }
    if (!strcmp(fmt, "lobster"))
        imp = brs__import_lobster;
    else if (!strcmp(fmt, "yahoo"))
        imp = brs__import_yahoo;
    else if (!strcmp(fmt, "csv"))
        imp = brs__import_csv;
    else if (!strcmp(fmt, "binance"))
        imp = brs__import_binance;
    else {
        free(in);
        return brs__usage_error("ticks import", "unknown format '%s' (lobster, yahoo, csv or binance)", fmt);
    }
    if (!n_in || !out) {
        free(in);
        return brs__usage_error("ticks import", "%s", !n_in ? "no input files" : "missing -o OUT");
    }
    if (o.adjust && strcmp(fmt, "yahoo")) {
        free(in);
        return brs__usage_error("ticks import", "--adjust goes with --format yahoo");
    }
    if (o.snapshot && strcmp(fmt, "binance")) {
        free(in);
        return brs__usage_error("ticks import", "--snapshot goes with --format binance");
    }
    if (o.orderbook && (strcmp(fmt, "lobster") || n_in != 1)) {
        free(in);
        return brs__usage_error("ticks import", "--orderbook goes with one LOBSTER message file");
    }
    {
        brs_error oe = {0};
        if (brs__check_out_file(out, &oe)) { /* before reading, not after (issue 19) */
            free(in);
            return brs__fail("ticks import", "%s", oe.msg);
        }
    }
    brs_progress pr;
    uint64_t total = 0;
    for (int i = 0; i < n_in; i++) {
        struct stat st;
        if (stat(in[i], &st) == 0)
            total += (uint64_t)st.st_size;
    }
    brs__progress_start(&pr, "import", total);
    /* the spill file goes next to the output: same disk, and no /tmp that may be small */
    char *dir = strdup(out);
    if (!dir) {
        free(in);
        return brs__fail("ticks import", "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0; /* "/x" -> "/" */
    brs_import_sink s = {.progress = &pr, .spill_dir = slash ? dir : "."};
    brs_error err = {0};
    int rc = 0;
    for (int i = 0; i < n_in && !rc; i++)
        rc = imp(&s, in[i], &o, &err);
    brs__progress_finish(&pr);
    if (!rc)
        rc = brs__sink_write(&s, out, &wo, &err);
    free(in);
    free(dir);
    if (rc) {
        brs__sink_free(&s);
        return brs__fail("ticks import", "%s", err.msg);
    }
    fprintf(stderr, "wrote %s: %llu events, %u instrument%s", out, (unsigned long long)s.total, s.n_instr, s.n_instr == 1 ? "" : "s");
    if (s.skipped)
        fprintf(stderr, ", skipped %llu null rows", (unsigned long long)s.skipped);
    if (s.synthetic)
        fprintf(stderr, ", %llu reconciliation events from the orderbook file", (unsigned long long)s.synthetic);
    fputc('\n', stderr);
    brs__sink_free(&s);
    return BRS_EXIT_OK;
}
