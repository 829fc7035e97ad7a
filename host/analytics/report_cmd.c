/* report_cmd.c: `bourse report RUN_DIR`: re-renders report.html from a run
 * directory's files (summary.json, config.json, equity.csv, fills.csv), e.g.
 * after a user edited them. Errors name the file and line. */
#include "an_internal.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"

/* ---- a small CSV table reader on libcsv -------------------------------------- */

struct table;
typedef int (*row_fn)(struct table *t);

typedef struct table {
    const char *path;
    long line;           /* 1-based line of the current record (records hold no newlines) */
    char *buf;           /* the current record's fields, NUL-separated */
    size_t len, cap;
    size_t *off;         /* field offsets into buf */
    size_t nf, cap_f;
    row_fn on_row;
    void *user;
    int rc;              /* first error */
    brs_error *err;
} table;

static const char *field(const table *t, size_t i)
{
    return t->buf + t->off[i];
}

static void on_field(void *s, size_t len, void *data)
{
    table *t = data;
    if (t->rc)
        return;
    if (t->nf == t->cap_f) {
        size_t nc = t->cap_f ? t->cap_f * 2 : 16;
        size_t *p = realloc(t->off, nc * sizeof *p);
        if (!p) {
            t->rc = brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            return;
        }
        t->off = p;
        t->cap_f = nc;
    }
    if (t->len + len + 1 > t->cap) {
        size_t nc = t->cap ? t->cap : 256;
        while (nc < t->len + len + 1)
            nc *= 2;
        char *p = realloc(t->buf, nc);
        if (!p) {
            t->rc = brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            return;
        }
        t->buf = p;
        t->cap = nc;
    }
    t->off[t->nf++] = t->len;
    if (len)
        memcpy(t->buf + t->len, s, len);
    t->len += len;
    t->buf[t->len++] = '\0';
}

static void on_record(int c, void *data)
{
    (void)c;
    table *t = data;
    t->line++;
    if (!t->rc)
        t->rc = t->on_row(t);
    t->len = t->nf = 0;
}

static int read_table(table *t)
{
    char *data;
    size_t n;
    int rc = brs__read_file(t->path, &data, &n, t->err);
    if (rc)
        return rc;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(data);
        return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
    }
    if (csv_parse(&p, data, n, on_field, on_record, t) != n && !t->rc)
        t->rc = brs__err(t->err, BRS_E_PARSE, "%s:%ld: %s", t->path, t->line + 1,
                         csv_strerror(csv_error(&p)));
    if (!t->rc && csv_fini(&p, on_field, on_record, t) != 0 && !t->rc)
        t->rc = brs__err(t->err, BRS_E_PARSE, "%s:%ld: %s", t->path, t->line + 1,
                         csv_strerror(csv_error(&p)));
    csv_free(&p);
    free(data);
    free(t->buf);
    free(t->off);
    if (!t->rc && t->line == 0)
        t->rc = brs__err(t->err, BRS_E_PARSE, "%s: empty file (a header line is needed)", t->path);
    return t->rc;
}

static int column(const table *t, const char *name)
{
    for (size_t i = 0; i < t->nf; i++)
        if (strcmp(field(t, i), name) == 0)
            return (int)i;
    return -1;
}

static int need_column(table *t, const char *name, int *out)
{
    *out = column(t, name);
    if (*out < 0)
        return brs__err(t->err, BRS_E_PARSE, "%s:1: missing column '%s'", t->path, name);
    return BRS_OK;
}

static int num(table *t, int col, const char *name, int allow_empty, double *out)
{
    const char *s = field(t, (size_t)col);
    if (!*s && allow_empty) {
        *out = NAN;
        return BRS_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v))
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: column '%s': '%s' is not a number", t->path,
                        t->line, name, s);
    *out = v;
    return BRS_OK;
}

static int int64_field(table *t, int col, const char *name, int64_t *out)
{
    const char *s = field(t, (size_t)col);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: column '%s': '%s' is not an integer time in ns",
                        t->path, t->line, name, s);
    *out = v;
    return BRS_OK;
}

/* ---- equity.csv --------------------------------------------------------------- */

typedef struct equity_ctx {
    brs_an_series s;
    size_t header_nf;
    int c_ts, c_eq, c_cash;
    int *c_pos, *c_price;
    char **symbols;
    double *pos_row, *price_row;
} equity_ctx;

static int equity_row(table *t)
{
    equity_ctx *e = t->user;
    if (t->line == 1) {
        int rc;
        if ((rc = need_column(t, "ts", &e->c_ts)) || (rc = need_column(t, "equity", &e->c_eq)))
            return rc;
        e->c_cash = column(t, "cash");
        e->header_nf = t->nf;
        uint32_t k = 0;
        for (size_t i = 0; i < t->nf; i++)
            k += strncmp(field(t, i), "position_", 9) == 0;
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
            if (strncmp(field(t, i), "position_", 9) != 0)
                continue;
            e->symbols[j] = strdup(field(t, i) + 9);
            if (!e->symbols[j])
                return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            e->c_pos[j] = (int)i;
            char name[128];
            snprintf(name, sizeof name, "price_%s", e->symbols[j]);
            e->c_price[j] = column(t, name);
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
    if ((rc = int64_field(t, e->c_ts, "ts", &ts)) || (rc = num(t, e->c_eq, "equity", 0, &eq)) ||
        (e->c_cash >= 0 && (rc = num(t, e->c_cash, "cash", 1, &cash))))
        return rc;
    if (e->s.n && ts < e->s.ts[e->s.n - 1])
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: ts %lld is before the previous line's",
                        t->path, t->line, (long long)ts);
    for (uint32_t j = 0; j < e->s.k; j++) {
        char name[128];
        snprintf(name, sizeof name, "position_%s", e->symbols[j]);
        if ((rc = num(t, e->c_pos[j], name, 1, &e->pos_row[j])))
            return rc;
        e->price_row[j] = NAN;
        snprintf(name, sizeof name, "price_%s", e->symbols[j]);
        if (e->c_price[j] >= 0 && (rc = num(t, e->c_price[j], name, 1, &e->price_row[j])))
            return rc;
    }
    if (brs__an_series_push(&e->s, ts, eq, cash, e->pos_row, e->price_row))
        return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
    return BRS_OK;
}

/* ---- fills.csv (markers) -------------------------------------------------------- */

typedef struct fills_ctx {
    const equity_ctx *eq;
    int c_ts, c_sym, c_side, c_price;
    size_t header_nf;
    brs_an_marker *m;
    size_t n, cap;
} fills_ctx;

static int fills_row(table *t)
{
    fills_ctx *f = t->user;
    int rc;
    if (t->line == 1) {
        f->header_nf = t->nf;
        if ((rc = need_column(t, "ts", &f->c_ts)) || (rc = need_column(t, "symbol", &f->c_sym)) ||
            (rc = need_column(t, "side", &f->c_side)) ||
            (rc = need_column(t, "price", &f->c_price)))
            return rc;
        return BRS_OK;
    }
    if (t->nf != f->header_nf)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: %zu fields, the header has %zu", t->path,
                        t->line, t->nf, f->header_nf);
    brs_an_marker m = {0};
    if ((rc = int64_field(t, f->c_ts, "ts", &m.ts)) ||
        (rc = num(t, f->c_price, "price", 0, &m.price)))
        return rc;
    const char *side = field(t, (size_t)f->c_side), *sym = field(t, (size_t)f->c_sym);
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
    char p_sum[4096], p_cfg[4096], p_eq[4096], p_fills[4096], p_out[4096];
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
    int rc = load_json(p_sum, 1, &summary, err);
    if (!rc && !cJSON_IsObject(summary))
        rc = brs__err(err, BRS_E_PARSE, "%s:1: must be a JSON object", p_sum);
    if (!rc)
        rc = load_json(p_cfg, 0, &config, err);
    if (!rc) {
        table t = {.path = p_eq, .on_row = equity_row, .user = &e, .err = err};
        rc = read_table(&t);
    }
    if (!rc) {
        table t = {.path = p_fills, .on_row = fills_row, .user = &f, .err = err};
        rc = read_table(&t);
        if (rc == BRS_E_NOTFOUND)
            rc = BRS_OK; /* fills are optional: no markers then */
    }
    if (!rc) {
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(summary, "title");
        brs_an_report_input in = {
            .title = cJSON_IsString(title) ? title->valuestring : NULL,
            .series = &e.s,
            .symbols = (const char *const *)e.symbols,
            .markers = f.m,
            .n_markers = f.n,
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
    for (uint32_t j = 0; e.symbols && j < e.s.k; j++)
        free(e.symbols[j]);
    free(e.symbols);
    free(e.c_pos);
    free(e.c_price);
    free(e.pos_row);
    free(e.price_row);
    brs__an_series_free(&e.s);
    free(f.m);
    cJSON_Delete(summary);
    cJSON_Delete(config);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse report RUN_DIR [--out FILE]\n\n"
            "Re-render RUN_DIR/report.html from the run directory's summary.json,\n"
            "config.json (optional), equity.csv and fills.csv (optional), for example\n"
            "after editing them. The page is self-contained (no network).\n\n"
            "options:\n"
            "  --out FILE   write the page to FILE instead of RUN_DIR/report.html\n"
            "  -h, --help   show this help\n");
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
    int rc = brs__an_rerender(dir, out, &err);
    if (rc)
        return brs__fail("report", "%s", err.msg);
    if (out)
        printf("wrote %s\n", out);
    else
        printf("wrote %s/report.html\n", dir);
    return BRS_EXIT_OK;
}
