/* rundir.c: writes a run directory: config.json, equity.csv, fills.csv,
 * orders.csv, trades.csv, report.html, and summary.json last. Every file goes
 * through brs__atomic_open/commit; numbers print the same way every time, so
 * two identical runs give byte-identical directories. */
#include "an_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"

/* Fast path for the common case (prices, cash, fees): v is the double nearest
 * to m / 10^k for an integer m and k <= 8 decimals. IEEE division is correctly
 * rounded, so when (double)m / 10^k == v, the text "m / 10^k" reads back as v;
 * the smallest such k gives the shortest text. Returns 0 when it does not apply. */
static int fmt_decimal(char *buf, size_t len, double v)
{
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double a = fabs(v);
    for (int k = 0; k <= 8; k++) {
        if (a * p10[k] >= 9e15)
            return 0;
        double m = nearbyint(a * p10[k]);
        if (m / p10[k] != a)
            continue;
        long long im = (long long)m, ip = (long long)p10[k];
        if (k == 0)
            snprintf(buf, len, "%s%lld", v < 0 ? "-" : "", im);
        else
            snprintf(buf, len, "%s%lld.%0*lld", v < 0 ? "-" : "", im / ip, k, im % ip);
        return 1;
    }
    return 0;
}

void brs__an_fmt_double(char *buf, size_t len, double v, int json_null)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "%s", json_null ? "null" : "");
        return;
    }
    if (v == 0) {
        snprintf(buf, len, "0"); /* also for -0 */
        return;
    }
    if (fmt_decimal(buf, len, v))
        return;
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, len, "%.17g", v);
}

void brs__an_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

/* CSV fields we write are numbers, times, symbols and fixed words; a symbol with a
 * comma or quote is quoted. */
static void csv_string(FILE *fp, const char *s)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', fp);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', fp);
            fputc(*s, fp);
        }
        fputc('"', fp);
    } else {
        fputs(s, fp);
    }
}

static void put_d(FILE *fp, double v)
{
    char b[40];
    brs__an_fmt_double(b, sizeof b, v, 0);
    fputs(b, fp);
}

static void put_time(FILE *fp, int64_t ts)
{
    char b[48];
    fprintf(fp, "%lld,", (long long)ts);
    brs__format_time(ts, b, sizeof b);
    fputs(b, fp);
}

static const char *side_name(int side)
{
    return side == BRS_BUY ? "buy" : "sell";
}

static const char *status_name(int st)
{
    static const char *const n[] = {"open", "filled", "cancelled", "rejected"};
    return st >= 0 && st < 4 ? n[st] : "unknown";
}

static const char *liq_name(int l)
{
    return l == BRS_LIQ_MAKER ? "maker" : l == BRS_LIQ_TAKER ? "taker" : "";
}

static const char *type_name(int t)
{
    return t == BRS_MARKET ? "market" : "limit";
}

static const char *tif_name(int t)
{
    static const char *const n[] = {"gtc", "day", "ioc", "fok"};
    return t >= 0 && t < 4 ? n[t] : "";
}

/* ---- the files ------------------------------------------------------------ */

/* Every k-th of n rows, and the last, when a CSV would exceed csv_max_rows
 * (so at most that many); 1: every row. */
static size_t csv_stride(const brs_an_recorder *r, size_t n)
{
    uint64_t m = r->opt.csv_max_rows;
    if (!m || n <= m)
        return 1;
    return m < 2 ? n : (n + (size_t)m - 2) / (size_t)(m - 1);
}

static inline int csv_keep(size_t i, size_t n, size_t k) { return k == 1 || i % k == 0 || i + 1 == n; }

static inline void csv_progress(brs_progress *pr, size_t i)
{
    if (pr && (i & 65535) == 0)
        brs__progress_update(pr, i);
}

static void write_equity(FILE *fp, const brs_an_recorder *r, brs_progress *pr)
{
    const brs_an_series *s = &r->series;
    fputs("ts,time,equity,cash,drawdown", fp);
    for (uint32_t j = 0; j < r->k; j++) {
        char h[64];
        snprintf(h, sizeof h, "position_%s", r->inst[j].spec.symbol);
        fputc(',', fp);
        csv_string(fp, h);
        snprintf(h, sizeof h, "price_%s", r->inst[j].spec.symbol);
        fputc(',', fp);
        csv_string(fp, h);
    }
    if (s->has_bench)
        fputs(",benchmark", fp);
    if (s->has_qspread)
        fputs(",quoted_spread_bps", fp);
    fputc('\n', fp);
    double peak = -INFINITY;
    size_t k = csv_stride(r, s->n);
    for (size_t i = 0; i < s->n; i++) {
        double e = s->equity[i];
        if (e > peak)
            peak = e;
        csv_progress(pr, i);
        if (!csv_keep(i, s->n, k))
            continue;
        put_time(fp, s->ts[i]);
        fputc(',', fp);
        put_d(fp, e);
        fputc(',', fp);
        put_d(fp, s->cash[i]);
        fputc(',', fp);
        put_d(fp, peak > 0 ? (peak - e) / peak : NAN);
        for (uint32_t j = 0; j < r->k; j++) {
            fputc(',', fp);
            put_d(fp, s->pos[i * s->k + j]);
            fputc(',', fp);
            put_d(fp, s->price[i * s->k + j]);
        }
        if (s->has_bench) {
            fputc(',', fp);
            put_d(fp, s->bench[i]);
        }
        if (s->has_qspread) {
            fputc(',', fp);
            put_d(fp, s->qspread[i]);
        }
        fputc('\n', fp);
    }
}

/* bars.csv: the bars each instrument traded on, in currency. */
static void write_bars(FILE *fp, const brs_an_recorder *r, brs_progress *pr)
{
    (void)pr; /* at most report.max_bars rows: written whole, quickly */
    fputs("ts,time,symbol,open,high,low,close\n", fp);
    for (uint32_t j = 0; j < r->k; j++) {
        const brs_an_inst_state *in = &r->inst[j];
        double sc = (double)in->spec.price_scale;
        const brs_bar_columns *b = &in->bars;
        for (uint64_t i = 0; i < in->n_bars; i++) {
            put_time(fp, b->ts[i]);
            fputc(',', fp);
            csv_string(fp, in->spec.symbol);
            const int64_t v[4] = {b->open[i], b->high[i], b->low[i], b->close[i]};
            for (int f = 0; f < 4; f++) {
                fputc(',', fp);
                put_d(fp, (double)v[f] / sc);
            }
            fputc('\n', fp);
        }
    }
}

uint64_t brs__an_max_bars(const brs_an_recorder *r)
{
    return r->opt.max_bars > 0 ? (uint64_t)r->opt.max_bars : r->opt.max_bars < 0 ? 0 : 1000000;
}

/* Bars are written (and drawn) when there are some and not more than max_bars. */
static int bars_wanted(const brs_an_recorder *r)
{
    uint64_t total = 0;
    for (uint32_t j = 0; j < r->k; j++)
        total += r->inst[j].n_bars;
    int64_t max = (int64_t)brs__an_max_bars(r);
    if (total > (uint64_t)max) {
        BRS_LOG(BRS_LOG_WARN, "analytics",
                "bars.csv not written: more bars than report.max_bars; the report draws the price "
                "as a line",
                BRS_KV_U("bars", total), BRS_KV_I("max_bars", max));
        return 0;
    }
    return total > 0;
}

/* plots.csv: the series the strategy declared, one row per point. */
static void write_plots(FILE *fp, const brs_an_recorder *r, brs_progress *pr)
{
    (void)pr;
    fputs("ts,time,name,value\n", fp);
    for (size_t i = 0; i < r->plots.n; i++) {
        const struct brs_an_plot_pt *p = &r->plots.pts[i];
        put_time(fp, p->ts);
        fputc(',', fp);
        csv_string(fp, r->plots.names[p->name]);
        fputc(',', fp);
        put_d(fp, p->v);
        fputc('\n', fp);
    }
}

static void write_fills(FILE *fp, const brs_an_recorder *r, brs_progress *pr)
{
    fputs("ts,time,order_id,symbol,side,qty,price,fee,liquidity\n", fp);
    size_t k = csv_stride(r, r->n_fills);
    for (size_t i = 0; i < r->n_fills; i++) {
        csv_progress(pr, i);
        if (!csv_keep(i, r->n_fills, k))
            continue;
        const brs_an_fill *f = &r->fills[i];
        put_time(fp, f->ts);
        fprintf(fp, ",%llu,", (unsigned long long)f->order_id);
        csv_string(fp, r->inst[f->instrument].spec.symbol);
        fprintf(fp, ",%s,%lld,", side_name(f->side), (long long)f->qty);
        put_d(fp, f->price);
        fputc(',', fp);
        put_d(fp, f->fee);
        fprintf(fp, ",%s\n", liq_name(f->liquidity));
    }
}

static void write_orders(FILE *fp, const brs_an_recorder *r, brs_progress *pr)
{
    fputs("order_id,ts,time,symbol,side,type,tif,price,qty,filled_qty,avg_fill_price,fees,"
          "n_fills,n_replaces,status,reason,last_ts\n",
          fp);
    size_t k = csv_stride(r, r->n_orders);
    for (size_t i = 0; i < r->n_orders; i++) {
        csv_progress(pr, i);
        if (!csv_keep(i, r->n_orders, k))
            continue;
        const brs_an_order_rec *o = &r->orders[i];
        fprintf(fp, "%llu,", (unsigned long long)o->id);
        put_time(fp, o->ts);
        fputc(',', fp);
        csv_string(fp, r->inst[o->instrument].spec.symbol);
        fprintf(fp, ",%s,%s,%s,", side_name(o->side), type_name(o->type), tif_name(o->tif));
        put_d(fp, o->type == BRS_MARKET ? NAN : o->price);
        fprintf(fp, ",%lld,%lld,", (long long)o->qty, (long long)o->filled);
        put_d(fp, o->filled ? o->fill_notional / (double)o->filled : NAN);
        fputc(',', fp);
        put_d(fp, o->fees);
        fprintf(fp, ",%lld,%lld,%s,%s,%lld\n", (long long)o->n_fills, (long long)o->n_replaces,
                status_name(o->status), o->reason ? brs_err_name(o->reason) : "",
                (long long)o->last_ts);
    }
}

static void write_trades(FILE *fp, const brs_an_recorder *r, brs_progress *pr)
{
    fputs("trade_id,symbol,side,qty,entry_ts,entry_time,entry_price,exit_ts,exit_time,"
          "exit_price,gross_pnl,fees,net_pnl,return,holding_seconds,entry_order_id,"
          "exit_order_id\n",
          fp);
    size_t k = csv_stride(r, r->n_trades);
    for (size_t i = 0; i < r->n_trades; i++) {
        csv_progress(pr, i);
        if (!csv_keep(i, r->n_trades, k))
            continue;
        const brs_an_trade *t = &r->trades[i];
        double mult = r->inst[t->instrument].spec.multiplier;
        double cost = fabs(t->entry_price * (double)t->qty * mult);
        fprintf(fp, "%zu,", i + 1);
        csv_string(fp, r->inst[t->instrument].spec.symbol);
        fprintf(fp, ",%s,%lld,", t->dir > 0 ? "long" : "short", (long long)t->qty);
        put_time(fp, t->entry_ts);
        fputc(',', fp);
        put_d(fp, t->entry_price);
        fputc(',', fp);
        put_time(fp, t->exit_ts);
        fputc(',', fp);
        put_d(fp, t->exit_price);
        fputc(',', fp);
        put_d(fp, t->gross);
        fputc(',', fp);
        put_d(fp, t->entry_fee + t->exit_fee);
        fputc(',', fp);
        put_d(fp, t->net);
        fputc(',', fp);
        put_d(fp, cost > 0 ? t->net / cost : NAN);
        fputc(',', fp);
        put_d(fp, (double)(t->exit_ts - t->entry_ts) / 1e9);
        fprintf(fp, ",%llu,%llu\n", (unsigned long long)t->entry_order,
                (unsigned long long)t->exit_order);
    }
}

/* summary.json: a fixed key order, one key per line. */
typedef struct jw {
    FILE *fp;
    int first;
    const char *indent;
} jw;

static void jkey(jw *w, const char *k)
{
    fprintf(w->fp, "%s\n%s", w->first ? "" : ",", w->indent);
    w->first = 0;
    brs__an_json_string(w->fp, k);
    fputs(": ", w->fp);
}

static void jd(jw *w, const char *k, double v)
{
    char b[40];
    brs__an_fmt_double(b, sizeof b, v, 1);
    jkey(w, k);
    fputs(b, w->fp);
}

static void ji(jw *w, const char *k, int64_t v)
{
    jkey(w, k);
    fprintf(w->fp, "%lld", (long long)v);
}

static void js(jw *w, const char *k, const char *v)
{
    jkey(w, k);
    brs__an_json_string(w->fp, v);
}

static void write_summary(FILE *fp, const brs_an_recorder *r, const brs_an_metrics *m)
{
    jw w = {fp, 1, "  "};
    char t[48];
    fputc('{', fp);
    js(&w, "title", r->title);
    js(&w, "mode", r->opt.mode == BRS_AN_BOOK ? "book" : "signal");
    if (r->bench_kind)
        js(&w, "benchmark", r->bench_name);
    for (int book = 0; book < 2; book++) {
        if (book && r->opt.mode != BRS_AN_BOOK)
            break;
        for (size_t i = 0; i < brs__an_n_metric_descs; i++) {
            const brs_an_metric_desc *d = &brs__an_metric_descs[i];
            double v;
            if (d->book_only != book)
                continue;
            brs__an_metric_get(m, d->name, &v, NULL);
            if (d->is_int)
                ji(&w, d->name, (int64_t)v);
            else
                jd(&w, d->name, v);
        }
        if (book) {
            for (uint32_t i = 0; i < r->n_extra; i++)
                jd(&w, r->extra[i].name, r->extra[i].v);
            break;
        }
        if (r->have_time) {
            brs__format_time(m->start_ts, t, sizeof t);
            js(&w, "start", t);
            brs__format_time(m->end_ts, t, sizeof t);
            js(&w, "end", t);
        } else {
            jd(&w, "start", NAN);
            jd(&w, "end", NAN);
        }
    }
    jkey(&w, "instruments");
    fputs("[", fp);
    for (uint32_t i = 0; i < r->k; i++) {
        const brs_an_inst_state *in = &r->inst[i];
        double span = r->have_time ? (double)(r->t_last - r->t_first) : 0;
        double integral = in->abs_integral;
        if (r->have_time && r->t_last > in->last_t)
            integral += (double)llabs(in->pos) * (double)(r->t_last - in->last_t);
        jw iw = {fp, 1, "      "};
        fprintf(fp, "%s\n    {", i ? "," : "");
        js(&iw, "symbol", in->spec.symbol);
        jd(&iw, "multiplier", in->spec.multiplier);
        ji(&iw, "final_position", in->pos);
        ji(&iw, "n_trades", in->n_trades);
        jd(&iw, "trades_net_pnl", in->net_pnl);
        jd(&iw, "fees_paid", in->fees);
        ji(&iw, "inventory_max_abs", in->max_abs);
        jd(&iw, "inventory_mean_abs", span > 0 ? integral / span : NAN);
        fputs("\n    }", fp);
    }
    fputs(r->k ? "\n  ]" : "]", fp);
    fputs("\n}\n", fp);
}

typedef void (*writer_fn)(FILE *fp, const brs_an_recorder *r, brs_progress *pr);

/* One CSV (rows: how many the recorder holds), with a progress line on a
 * terminal when it is large, and a log line when it is sampled. */
static int write_one(const char *dir, const char *name, writer_fn fn, const brs_an_recorder *r,
                     size_t rows, brs_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    brs_atomic_file af;
    int rc = brs__atomic_open(&af, path, err);
    if (rc)
        return rc;
    size_t k = csv_stride(r, rows);
    if (k > 1)
        BRS_LOG(BRS_LOG_WARN, "analytics", "CSV sampled: every k-th row written (csv_max_rows; --full-record writes all)",
                BRS_KV_S("file", path), BRS_KV_U("rows", rows), BRS_KV_U("k", k),
                BRS_KV_U("csv_max_rows", r->opt.csv_max_rows));
    brs_progress pr;
    char label[128];
    snprintf(label, sizeof label, "writing %s", name);
    brs__progress_start(&pr, label, rows);
    int big = rows >= 262144;
    fn(af.fp, r, big ? &pr : NULL);
    if (big)
        brs__progress_finish(&pr);
    return brs__atomic_commit(&af, err);
}

/* report.html from the recorder's own data (summary passed as parsed JSON). */
static int write_report(const char *dir, const brs_an_recorder *r, const cJSON *summary,
                        const cJSON *config, int with_bars, brs_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", dir);
    const char **symbols = calloc(r->k, sizeof *symbols);
    brs_an_marker *mk = malloc((r->n_fills ? r->n_fills : 1) * sizeof *mk);
    if (!symbols || !mk) {
        free(symbols);
        free(mk);
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
    }
    for (uint32_t i = 0; i < r->k; i++)
        symbols[i] = r->inst[i].spec.symbol;
    for (size_t i = 0; i < r->n_fills; i++) {
        mk[i].ts = r->fills[i].ts;
        mk[i].instrument = r->fills[i].instrument;
        mk[i].side = r->fills[i].side;
        mk[i].price = r->fills[i].price;
        mk[i].qty = r->fills[i].qty;
        mk[i].fee = r->fills[i].fee;
    }
    brs_an_ohlc *ohlc = NULL;
    if (with_bars) {
        ohlc = calloc(r->k, sizeof *ohlc);
        for (uint32_t j = 0; ohlc && j < r->k; j++) {
            const brs_an_inst_state *s = &r->inst[j];
            double sc = (double)s->spec.price_scale;
            const brs_bar_columns *b = &s->bars;
            for (uint64_t i = 0; i < s->n_bars; i++) {
                if (brs__an_ohlc_push(&ohlc[j], b->ts[i], (double)b->open[i] / sc,
                                      (double)b->high[i] / sc, (double)b->low[i] / sc,
                                      (double)b->close[i] / sc)) {
                    for (uint32_t q = 0; q <= j; q++)
                        brs__an_ohlc_free(&ohlc[q]);
                    free(ohlc);
                    ohlc = NULL;
                    break;
                }
            }
        }
    }
    double *waits;
    size_t n_waits = brs__an_maker_waits(r, &waits);
    brs_an_report_input in = {
        .maker_wait = waits,
        .n_maker_wait = n_waits,
        .ohlc = ohlc,
        .title = r->title,
        .series = &r->series,
        .symbols = symbols,
        .markers = mk,
        .n_markers = r->n_fills,
        .trades = r->trades,
        .n_trades = r->n_trades,
        .plots = &r->plots,
        .bench_name = r->bench_kind ? r->bench_name : NULL,
        .summary = summary,
        .config = config,
    };
    brs_atomic_file af;
    int rc = brs__atomic_open(&af, path, err);
    if (rc == BRS_OK) {
        brs__an_render_report(af.fp, &in);
        rc = brs__atomic_commit(&af, err);
    }
    for (uint32_t j = 0; ohlc && j < r->k; j++)
        brs__an_ohlc_free(&ohlc[j]);
    free(ohlc);
    free(waits);
    free(symbols);
    free(mk);
    return rc;
}

/* Make the renames so far durable before the summary appears, so even after a
 * power cut a directory with summary.json has all its other files. */
static int sync_dir(const char *dir, brs_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return brs__err(err, BRS_E_IO, "%s: cannot open: %s", dir, strerror(errno));
    int rc = fsync(fd) == 0 || errno == EINVAL ? BRS_OK
                                               : brs__err(err, BRS_E_IO, "%s: fsync failed: %s",
                                                          dir, strerror(errno));
    close(fd);
    return rc;
}

int brs__an_write_run(const brs_an_recorder *r, const char *dir, const brs_config *cfg,
                      brs_error *err)
{
    char path[4096];
    int rc = brs__mkdirs(dir, err);
    if (rc)
        return rc;
    /* The summary is the mark of a complete directory: take an old one away first. */
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (unlink(path) != 0 && errno != ENOENT)
        return brs__err(err, BRS_E_IO, "%s: cannot remove: %s", path, strerror(errno));

    brs_an_metrics m;
    if ((rc = brs__an_compute(r, &m, err)))
        return rc;

    snprintf(path, sizeof path, "%s/config.json", dir);
    if (cfg) {
        if ((rc = brs__config_write(cfg, path, err)))
            return rc;
    } else if ((rc = brs__atomic_write(path, "{}\n", 3, err))) {
        return rc;
    }
    if ((rc = write_one(dir, "equity.csv", write_equity, r, r->series.n, err)) ||
        (rc = write_one(dir, "fills.csv", write_fills, r, r->n_fills, err)) ||
        (rc = write_one(dir, "orders.csv", write_orders, r, r->n_orders, err)) ||
        (rc = write_one(dir, "trades.csv", write_trades, r, r->n_trades, err)) ||
        (r->plots.n && (rc = write_one(dir, "plots.csv", write_plots, r, r->plots.n, err))))
        return rc;
    snprintf(path, sizeof path, "%s/plots.csv", dir);
    if (!r->plots.n && unlink(path) != 0 && errno != ENOENT)
        return brs__err(err, BRS_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    int with_bars = bars_wanted(r);
    snprintf(path, sizeof path, "%s/bars.csv", dir);
    if (with_bars ? (rc = write_one(dir, "bars.csv", write_bars, r, 0, err)) != 0
                  : unlink(path) != 0 && errno != ENOENT)
        return rc ? rc : brs__err(err, BRS_E_IO, "%s: cannot remove: %s", path, strerror(errno));

    /* The summary text, made once: parsed for the report, then written last. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", dir);
    write_summary(mem, r, &m);
    if (fclose(mem) != 0 || !text) {
        free(text);
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", dir);
    }
    cJSON *summary = cJSON_Parse(text);
    rc = write_report(dir, r, summary, cfg ? cfg->root : NULL, with_bars, err);
    cJSON_Delete(summary);
    if (rc == BRS_OK)
        rc = sync_dir(dir, err);
    if (rc == BRS_OK) {
        snprintf(path, sizeof path, "%s/summary.json", dir);
        rc = brs__atomic_write(path, text, len, err);
    }
    free(text);
    return rc;
}
