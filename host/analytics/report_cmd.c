/* report_cmd.c: `bourse report RUN_DIR`: re-renders report.html from a run
 * directory's files (summary.json, config.json, equity.csv, fills.csv), e.g.
 * after a user edited them. Errors name the file and line. */
#include "an_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"

static int need_column(brs_an_table *t, const char *name, int *out)
{
    *out = brs__an_table_column(t, name);
    if (*out < 0)
        return brs__err(t->err, BRS_E_PARSE, "%s:1: missing column '%s'", t->path, name);
    return BRS_OK;
}

/* ---- equity.csv --------------------------------------------------------------- */

typedef struct equity_ctx {
    brs_an_series s;
    size_t header_nf;
    int c_ts, c_eq, c_cash, c_bench, c_qs;
    int *c_pos, *c_price;
    char **symbols;
    double *pos_row, *price_row;
} equity_ctx;

static int equity_row(brs_an_table *t)
{
    equity_ctx *e = t->user;
    if (t->line == 1) {
        int rc;
        if ((rc = need_column(t, "ts", &e->c_ts)) || (rc = need_column(t, "equity", &e->c_eq)))
            return rc;
        e->c_cash = brs__an_table_column(t, "cash");
        e->c_bench = brs__an_table_column(t, "benchmark");
        e->s.has_bench = e->c_bench >= 0;
        e->c_qs = brs__an_table_column(t, "quoted_spread_bps");
        e->s.has_qspread = e->c_qs >= 0;
        e->header_nf = t->nf;
        uint32_t k = 0;
        for (size_t i = 0; i < t->nf; i++)
            k += strncmp(brs__an_table_field(t, i), "position_", 9) == 0;
        e->s.k = k;
        size_t kk = k ? k : 1;
        e->c_pos = calloc(kk, sizeof *e->c_pos);
        e->c_price = calloc(kk, sizeof *e->c_price);
        e->symbols = calloc(kk, sizeof *e->symbols);
        e->pos_row = calloc(kk, sizeof *e->pos_row);
        e->price_row = calloc(kk, sizeof *e->price_row);
        if (!e->c_pos || !e->c_price || !e->symbols || !e->pos_row || !e->price_row)
            return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
        uint32_t j = 0;
        for (size_t i = 0; i < t->nf; i++) {
            if (strncmp(brs__an_table_field(t, i), "position_", 9) != 0)
                continue;
            e->symbols[j] = strdup(brs__an_table_field(t, i) + 9);
            if (!e->symbols[j])
                return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            e->c_pos[j] = (int)i;
            char name[128];
            snprintf(name, sizeof name, "price_%s", e->symbols[j]);
            e->c_price[j] = brs__an_table_column(t, name);
            j++;
        }
        return BRS_OK;
    }
    if (t->nf != e->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, e->header_nf);
    int64_t ts = 0;
    double eq = NAN, cash = NAN;
    int rc;
    if ((rc = brs__an_table_i64(t, e->c_ts, "ts", &ts)) || (rc = brs__an_table_num(t, e->c_eq, "equity", 0, &eq)) ||
        (e->c_cash >= 0 && (rc = brs__an_table_num(t, e->c_cash, "cash", 1, &cash))))
        return rc;
    if (e->s.n && ts < e->s.ts[e->s.n - 1])
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: ts %lld is before the previous line's",
                        t->path, t->line, (long long)ts);
    for (uint32_t j = 0; j < e->s.k; j++) {
        char name[128];
        snprintf(name, sizeof name, "position_%s", e->symbols[j]);
        if ((rc = brs__an_table_num(t, e->c_pos[j], name, 1, &e->pos_row[j])))
            return rc;
        e->price_row[j] = NAN;
        snprintf(name, sizeof name, "price_%s", e->symbols[j]);
        if (e->c_price[j] >= 0 && (rc = brs__an_table_num(t, e->c_price[j], name, 1, &e->price_row[j])))
            return rc;
    }
    double bench = NAN, qs = NAN;
    if ((e->c_bench >= 0 && (rc = brs__an_table_num(t, e->c_bench, "benchmark", 1, &bench))) ||
        (e->c_qs >= 0 && (rc = brs__an_table_num(t, e->c_qs, "quoted_spread_bps", 1, &qs))))
        return rc;
    if (brs__an_series_push(&e->s, ts, eq, cash, e->pos_row, e->price_row, bench, qs))
        return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
    return BRS_OK;
}

/* ---- fills.csv (markers) -------------------------------------------------------- */

typedef struct fills_ctx {
    const equity_ctx *eq;
    int c_ts, c_sym, c_side, c_price, c_qty, c_oid, c_liq;
    size_t header_nf;
    brs_an_marker *m;
    uint64_t *maker_oid;   /* order ids and times of maker fills, for the queue wait */
    int64_t *maker_ts;
    size_t n_maker, cap_maker;
    size_t n, cap;
} fills_ctx;

static int fills_row(brs_an_table *t)
{
    fills_ctx *f = t->user;
    int rc;
    if (t->line == 1) {
        f->header_nf = t->nf;
        if ((rc = need_column(t, "ts", &f->c_ts)) || (rc = need_column(t, "symbol", &f->c_sym)) ||
            (rc = need_column(t, "side", &f->c_side)) ||
            (rc = need_column(t, "price", &f->c_price)))
            return rc;
        f->c_qty = brs__an_table_column(t, "qty");
        f->c_oid = brs__an_table_column(t, "order_id");
        f->c_liq = brs__an_table_column(t, "liquidity");
        return BRS_OK;
    }
    if (t->nf != f->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, f->header_nf);
    brs_an_marker m = {0};
    if ((rc = brs__an_table_i64(t, f->c_ts, "ts", &m.ts)) ||
        (rc = brs__an_table_num(t, f->c_price, "price", 0, &m.price)))
        return rc;
    if (f->c_qty >= 0 && (rc = brs__an_table_i64(t, f->c_qty, "qty", &m.qty)))
        return rc;
    const char *side = brs__an_table_field(t, (size_t)f->c_side), *sym = brs__an_table_field(t, (size_t)f->c_sym);
    if (strcmp(side, "buy") == 0)
        m.side = BRS_BUY;
    else if (strcmp(side, "sell") == 0)
        m.side = BRS_SELL;
    else
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: column 'side': '%s' is not buy or sell",
                        t->path, t->line, side);
    uint32_t j = 0;
    while (j < f->eq->s.k && strcmp(f->eq->symbols[j], sym) != 0)
        j++;
    if (j == f->eq->s.k)
        return brs__err(t->err, BRS_E_PARSE,
                        "%s:%ld: column 'symbol': '%s' has no position_%s column in equity.csv",
                        t->path, t->line, sym, sym);
    m.instrument = j;
    if (f->c_oid >= 0 && f->c_liq >= 0 &&
        strcmp(brs__an_table_field(t, (size_t)f->c_liq), "maker") == 0) {
        int64_t oid;
        if ((rc = brs__an_table_i64(t, f->c_oid, "order_id", &oid)))
            return rc;
        if (f->n_maker == f->cap_maker) {
            size_t nc = f->cap_maker ? f->cap_maker * 2 : 256;
            uint64_t *a = realloc(f->maker_oid, nc * sizeof *a);
            if (a)
                f->maker_oid = a;
            int64_t *b = realloc(f->maker_ts, nc * sizeof *b);
            if (b)
                f->maker_ts = b;
            if (!a || !b)
                return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            f->cap_maker = nc;
        }
        f->maker_oid[f->n_maker] = (uint64_t)oid;
        f->maker_ts[f->n_maker++] = m.ts;
    }
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 256;
        brs_an_marker *p = realloc(f->m, nc * sizeof *p);
        if (!p)
            return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
        f->m = p;
        f->cap = nc;
    }
    f->m[f->n++] = m;
    return BRS_OK;
}

/* ---- trades.csv and plots.csv (optional) ------------------------------------------ */

typedef struct trades_ctx {
    const equity_ctx *eq;
    int c[9]; /* symbol side qty entry_ts entry_price exit_ts exit_price gross_pnl net_pnl */
    size_t header_nf;
    brs_an_trade *t;
    size_t n, cap;
} trades_ctx;

static int trades_row(brs_an_table *t)
{
    static const char *const names[9] = {"symbol", "side", "qty", "entry_ts", "entry_price",
                                         "exit_ts", "exit_price", "gross_pnl", "net_pnl"};
    trades_ctx *x = t->user;
    int rc;
    if (t->line == 1) {
        x->header_nf = t->nf;
        for (int i = 0; i < 9; i++)
            if ((rc = need_column(t, names[i], &x->c[i])))
                return rc;
        return BRS_OK;
    }
    if (t->nf != x->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, x->header_nf);
    brs_an_trade tr = {0};
    const char *sym = brs__an_table_field(t, (size_t)x->c[0]);
    const char *side = brs__an_table_field(t, (size_t)x->c[1]);
    uint32_t j = 0;
    while (j < x->eq->s.k && strcmp(x->eq->symbols[j], sym) != 0)
        j++;
    if (j == x->eq->s.k)
        return brs__err(t->err, BRS_E_PARSE,
                        "%s:%ld: column 'symbol': '%s' has no position_%s column in equity.csv",
                        t->path, t->line, sym, sym);
    tr.instrument = j;
    if (strcmp(side, "long") == 0)
        tr.dir = 1;
    else if (strcmp(side, "short") == 0)
        tr.dir = -1;
    else
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: column 'side': '%s' is not long or short",
                        t->path, t->line, side);
    if ((rc = brs__an_table_i64(t, x->c[2], "qty", &tr.qty)) ||
        (rc = brs__an_table_i64(t, x->c[3], "entry_ts", &tr.entry_ts)) ||
        (rc = brs__an_table_num(t, x->c[4], "entry_price", 0, &tr.entry_price)) ||
        (rc = brs__an_table_i64(t, x->c[5], "exit_ts", &tr.exit_ts)) ||
        (rc = brs__an_table_num(t, x->c[6], "exit_price", 0, &tr.exit_price)) ||
        (rc = brs__an_table_num(t, x->c[7], "gross_pnl", 0, &tr.gross)) ||
        (rc = brs__an_table_num(t, x->c[8], "net_pnl", 0, &tr.net)))
        return rc;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 256;
        brs_an_trade *p = realloc(x->t, nc * sizeof *p);
        if (!p)
            return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
        x->t = p;
        x->cap = nc;
    }
    x->t[x->n++] = tr;
    return BRS_OK;
}

/* orders.csv (optional): submission times, for the maker fills' queue wait. */
typedef struct orders_ctx {
    int c_id, c_ts;
    size_t header_nf;
    uint64_t *id;
    int64_t *ts;
    size_t n, cap;
} orders_ctx;

static int orders_row(brs_an_table *t)
{
    orders_ctx *x = t->user;
    int rc;
    if (t->line == 1) {
        x->header_nf = t->nf;
        if ((rc = need_column(t, "order_id", &x->c_id)) || (rc = need_column(t, "ts", &x->c_ts)))
            return rc;
        return BRS_OK;
    }
    if (t->nf != x->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, x->header_nf);
    int64_t id, ts;
    if ((rc = brs__an_table_i64(t, x->c_id, "order_id", &id)) ||
        (rc = brs__an_table_i64(t, x->c_ts, "ts", &ts)))
        return rc;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 256;
        uint64_t *a = realloc(x->id, nc * sizeof *a);
        if (a)
            x->id = a;
        int64_t *b = realloc(x->ts, nc * sizeof *b);
        if (b)
            x->ts = b;
        if (!a || !b)
            return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
        x->cap = nc;
    }
    x->id[x->n] = (uint64_t)id;
    x->ts[x->n++] = ts;
    return BRS_OK;
}

static int cmp_u64_idx(const void *a, const void *b, void *ids)
{
    uint64_t x = ((const uint64_t *)ids)[*(const size_t *)a], y = ((const uint64_t *)ids)[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

/* Queue waits of the maker fills whose order is in orders.csv (by id). */
static size_t maker_waits(const fills_ctx *f, const orders_ctx *o, double **out)
{
    *out = NULL;
    if (!f->n_maker || !o->n)
        return 0;
    size_t *idx = malloc(o->n * sizeof *idx);
    *out = malloc(f->n_maker * sizeof **out);
    if (!idx || !*out) {
        free(idx);
        free(*out);
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < o->n; i++)
        idx[i] = i;
    qsort_r(idx, o->n, sizeof *idx, cmp_u64_idx, o->id);
    size_t n = 0;
    for (size_t i = 0; i < f->n_maker; i++) {
        size_t a = 0, b = o->n;
        while (a < b) {
            size_t m = a + (b - a) / 2;
            if (o->id[idx[m]] < f->maker_oid[i])
                a = m + 1;
            else
                b = m;
        }
        if (a < o->n && o->id[idx[a]] == f->maker_oid[i])
            (*out)[n++] = (double)(f->maker_ts[i] - o->ts[idx[a]]) / 1e9;
    }
    free(idx);
    return n;
}

typedef struct bars_ctx {
    const equity_ctx *eq;
    brs_an_ohlc *b; /* [k] */
    int c[6];       /* ts symbol open high low close */
    size_t header_nf;
} bars_ctx;

static int bars_row(brs_an_table *t)
{
    static const char *const names[6] = {"ts", "symbol", "open", "high", "low", "close"};
    bars_ctx *x = t->user;
    int rc;
    if (t->line == 1) {
        x->header_nf = t->nf;
        for (int i = 0; i < 6; i++)
            if ((rc = need_column(t, names[i], &x->c[i])))
                return rc;
        return BRS_OK;
    }
    if (t->nf != x->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, x->header_nf);
    const char *sym = brs__an_table_field(t, (size_t)x->c[1]);
    uint32_t j = 0;
    while (j < x->eq->s.k && strcmp(x->eq->symbols[j], sym) != 0)
        j++;
    if (j == x->eq->s.k)
        return brs__err(t->err, BRS_E_PARSE,
                        "%s:%ld: column 'symbol': '%s' has no position_%s column in equity.csv",
                        t->path, t->line, sym, sym);
    int64_t ts;
    double v[4];
    if ((rc = brs__an_table_i64(t, x->c[0], "ts", &ts)))
        return rc;
    for (int f = 0; f < 4; f++)
        if ((rc = brs__an_table_num(t, x->c[2 + f], names[2 + f], 0, &v[f])))
            return rc;
    if (brs__an_ohlc_push(&x->b[j], ts, v[0], v[1], v[2], v[3]))
        return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
    return BRS_OK;
}

typedef struct plots_ctx {
    brs_an_plots p;
    int c_ts, c_name, c_val;
    size_t header_nf;
} plots_ctx;

static int plots_row(brs_an_table *t)
{
    plots_ctx *x = t->user;
    int rc;
    if (t->line == 1) {
        x->header_nf = t->nf;
        if ((rc = need_column(t, "ts", &x->c_ts)) || (rc = need_column(t, "name", &x->c_name)) ||
            (rc = need_column(t, "value", &x->c_val)))
            return rc;
        return BRS_OK;
    }
    if (t->nf != x->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, x->header_nf);
    int64_t ts;
    double v;
    if ((rc = brs__an_table_i64(t, x->c_ts, "ts", &ts)) ||
        (rc = brs__an_table_num(t, x->c_val, "value", 0, &v)))
        return rc;
    const char *name = brs__an_table_field(t, (size_t)x->c_name);
    rc = brs__an_plots_add(&x->p, 0, ts, name, v);
    if (rc == BRS_E_INVAL)
        return brs__err(t->err, BRS_E_PARSE,
                        "%s:%ld: column 'name': '%s' is empty, too long, or one name too many "
                        "(at most %d)",
                        t->path, t->line, name, BRS_AN_MAX_PLOTS);
    if (rc)
        return brs__err(t->err, rc, "%s: out of memory", t->path);
    return BRS_OK;
}

static int load_json(const char *path, int required, cJSON **out, brs_error *err)
{
    *out = NULL;
    char *text;
    int rc = brs__read_file(path, &text, NULL, err);
    if (rc == BRS_E_NOTFOUND && !required)
        return BRS_OK;
    if (rc)
        return rc;
    const char *end = NULL;
    *out = cJSON_ParseWithOpts(text, &end, 1);
    if (!*out) {
        long line = 1;
        for (const char *p = text; end && p < end; p++)
            line += *p == '\n';
        free(text);
        return brs__err(err, BRS_E_PARSE, "%s:%ld: malformed JSON", path, line);
    }
    free(text);
    return BRS_OK;
}

int brs__an_rerender(const char *dir, const char *out_path, brs_error *err)
{
    char p_sum[4096], p_cfg[4096], p_eq[4096], p_fills[4096], p_out[4096], p_tr[4096],
        p_pl[4096], p_bars[4096], p_ord[4096];
    snprintf(p_ord, sizeof p_ord, "%s/orders.csv", dir);
    snprintf(p_bars, sizeof p_bars, "%s/bars.csv", dir);
    snprintf(p_tr, sizeof p_tr, "%s/trades.csv", dir);
    snprintf(p_pl, sizeof p_pl, "%s/plots.csv", dir);
    snprintf(p_sum, sizeof p_sum, "%s/summary.json", dir);
    snprintf(p_cfg, sizeof p_cfg, "%s/config.json", dir);
    snprintf(p_eq, sizeof p_eq, "%s/equity.csv", dir);
    snprintf(p_fills, sizeof p_fills, "%s/fills.csv", dir);
    snprintf(p_out, sizeof p_out, "%s", out_path ? out_path : "");
    if (!out_path)
        snprintf(p_out, sizeof p_out, "%s/report.html", dir);

    cJSON *summary = NULL, *config = NULL;
    equity_ctx e = {0};
    fills_ctx f = {.eq = &e};
    trades_ctx tr = {.eq = &e};
    plots_ctx pl = {0};
    bars_ctx bc = {.eq = &e};
    orders_ctx oc = {0};
    double *waits = NULL;
    size_t n_waits = 0;
    int rc = load_json(p_sum, 1, &summary, err);
    if (!rc && !cJSON_IsObject(summary))
        rc = brs__err(err, BRS_E_PARSE, "%s:1: must be a JSON object", p_sum);
    if (!rc)
        rc = load_json(p_cfg, 0, &config, err);
    if (!rc) {
        brs_an_table t = {.path = p_eq, .on_row = equity_row, .user = &e, .err = err};
        rc = brs__an_table_read(&t);
    }
    if (!rc) {
        brs_an_table t = {.path = p_fills, .on_row = fills_row, .user = &f, .err = err};
        rc = brs__an_table_read(&t);
        if (rc == BRS_E_NOTFOUND)
            rc = BRS_OK; /* fills are optional: no markers then */
    }
    if (!rc) {
        brs_an_table t = {.path = p_tr, .on_row = trades_row, .user = &tr, .err = err};
        rc = brs__an_table_read(&t);
        if (rc == BRS_E_NOTFOUND)
            rc = BRS_OK; /* optional: no trade list then */
    }
    if (!rc) {
        brs_an_table t = {.path = p_pl, .on_row = plots_row, .user = &pl, .err = err};
        rc = brs__an_table_read(&t);
        if (rc == BRS_E_NOTFOUND)
            rc = BRS_OK; /* only runs whose strategy declared series have it */
    }
    if (!rc) {
        bc.b = calloc(e.s.k ? e.s.k : 1, sizeof *bc.b);
        if (!bc.b)
            rc = brs__err(err, BRS_E_NOMEM, "%s: out of memory", p_bars);
    }
    if (!rc) {
        brs_an_table t = {.path = p_bars, .on_row = bars_row, .user = &bc, .err = err};
        rc = brs__an_table_read(&t);
        if (rc == BRS_E_NOTFOUND)
            rc = BRS_OK; /* signal runs only: price as a line without it */
    }
    if (!rc && f.n_maker) {
        brs_an_table t = {.path = p_ord, .on_row = orders_row, .user = &oc, .err = err};
        rc = brs__an_table_read(&t);
        if (rc == BRS_E_NOTFOUND)
            rc = BRS_OK; /* no queue waits then */
        if (!rc)
            n_waits = maker_waits(&f, &oc, &waits);
    }
    if (!rc) {
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(summary, "title");
        const cJSON *bench = cJSON_GetObjectItemCaseSensitive(summary, "benchmark");
        brs_an_report_input in = {
            .title = cJSON_IsString(title) ? title->valuestring : NULL,
            .series = &e.s,
            .symbols = (const char *const *)e.symbols,
            .markers = f.m,
            .n_markers = f.n,
            .trades = tr.t,
            .n_trades = tr.n,
            .plots = &pl.p,
            .ohlc = bc.b,
            .maker_wait = waits,
            .n_maker_wait = n_waits,
            .bench_name = cJSON_IsString(bench) && e.s.has_bench ? bench->valuestring : NULL,
            .summary = summary,
            .config = config,
        };
        brs_atomic_file af;
        rc = brs__atomic_open(&af, p_out, err);
        if (!rc) {
            brs__an_render_report(af.fp, &in);
            rc = brs__atomic_commit(&af, err);
        }
    }
    /* the bars first: they are counted by the series, which its free clears */
    for (uint32_t j = 0; bc.b && j < e.s.k; j++)
        brs__an_ohlc_free(&bc.b[j]);
    free(bc.b);
    for (uint32_t j = 0; e.symbols && j < e.s.k; j++)
        free(e.symbols[j]);
    free(e.symbols);
    free(e.c_pos);
    free(e.c_price);
    free(e.pos_row);
    free(e.price_row);
    brs__an_series_free(&e.s);
    free(f.m);
    free(tr.t);
    brs__an_plots_free(&pl.p);
    free(waits);
    free(oc.id);
    free(oc.ts);
    free(f.maker_oid);
    free(f.maker_ts);
    cJSON_Delete(summary);
    cJSON_Delete(config);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse report RUN_DIR [--out FILE]\n"
            "       bourse report SWEEP_DIR|results.csv [--out FILE]\n\n"
            "Re-render RUN_DIR/report.html from the run directory's summary.json,\n"
            "config.json, equity.csv, fills.csv, trades.csv and plots.csv (the last\n"
            "four optional), for example after editing them. Given a sweep's directory\n"
            "(results.csv, no summary.json) or its results.csv, build results.html\n"
            "beside it instead. Pages are self-contained (no network).\n\n"
            "options:\n"
            "  --out FILE   write the page to FILE instead of the default\n"
            "  -h, --help   show this help\n");
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A sweep's results.csv, or a directory holding one and no summary.json. */
static int sweep_input(const char *path, char *csv, size_t cap)
{
    if (ends_with(path, ".csv")) {
        snprintf(csv, cap, "%s", path);
        return 1;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/summary.json", path);
    if (access(p, F_OK) == 0)
        return 0;
    snprintf(csv, cap, "%s/results.csv", path);
    return access(csv, F_OK) == 0;
}

int brs__cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            usage(stdout);
            return BRS_EXIT_OK;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc)
                return brs__usage_error("report", "--out needs a file name");
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return brs__usage_error("report", "unknown option '%s'", argv[i]);
        } else if (!dir) {
            dir = argv[i];
        } else {
            return brs__usage_error("report", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!dir)
        return brs__usage_error("report", "missing RUN_DIR");
    brs_error err = {0};
    char csv[4096], html_path[4096];
    if (sweep_input(dir, csv, sizeof csv)) {
        if (!out) {
            snprintf(html_path, sizeof html_path, "%s", csv);
            char *slash = strrchr(html_path, '/');
            snprintf(slash ? slash + 1 : html_path,
                     sizeof html_path - (size_t)(slash ? slash + 1 - html_path : 0), "results.html");
            out = html_path;
        }
        if (brs__sweep_report_write(csv, out, &err))
            return brs__fail("report", "%s", err.msg);
        printf("wrote %s\n", out);
        return BRS_EXIT_OK;
    }
    int rc = brs__an_rerender(dir, out, &err);
    if (rc)
        return brs__fail("report", "%s", err.msg);
    if (out)
        printf("wrote %s\n", out);
    else
        printf("wrote %s/report.html\n", dir);
    return BRS_EXIT_OK;
}
