/* report_data.c: the data block of report.html, a JSON object the page script
 * draws from. Long series are reduced per display column to the first, last,
 * lowest and highest sample of every series of a chart (so every extreme
 * survives); daily, monthly and yearly figures, drawdown episodes, rolling
 * windows and trade excursions come from stats.c, the same code as the metrics. */
#include "an_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COLUMNS 2000          /* display columns a long series is reduced to */
#define MAX_CHART_INSTR 8     /* instruments charted (the tables show all) */
#define MAX_TRADE_ROWS 20000  /* trade rows in the page (the file has all) */
#define MAX_FILL_MARKS 40000  /* fills kept as markers before thinning per column */
#define NS_PER_DAY 86400e9

/* ---- JSON output -------------------------------------------------------------- */

typedef struct out {
    FILE *fp;
    int first;
} out;

static void num(FILE *fp, double v)
{
    char b[40];
    brs__an_fmt_double(b, sizeof b, v, 1);
    fputs(b, fp);
}

/* Times go to the page as ms since the epoch (the charts' unit), to the ms. */
static void ms(FILE *fp, int64_t ts)
{
    int64_t q = ts / 1000000;
    if (ts % 1000000 < 0)
        q--;
    fprintf(fp, "%lld", (long long)q);
}

static void key(out *o, const char *k)
{
    fputs(o->first ? "" : ",", o->fp);
    o->first = 0;
    brs__an_json_string(o->fp, k);
    fputc(':', o->fp);
}

/* ---- reduction per display column ----------------------------------------------- */

/* Indices of ts[0..n) kept for display: per column the first, last, and the
 * argmin and argmax of each of the nv series vals[v][i * stride[v]]. Sorted,
 * unique. Returns the count (0 and *idx NULL when out of memory). */
static size_t reduce(const int64_t *ts, size_t n, const double *const *vals, const size_t *stride,
                     int nv, size_t **idx)
{
    *idx = NULL;
    if (n == 0)
        return 0;
    size_t *keep = malloc(n * sizeof *keep);
    if (!keep)
        return 0;
    if (n <= (size_t)COLUMNS * 2) {
        for (size_t i = 0; i < n; i++)
            keep[i] = i;
        *idx = keep;
        return n;
    }
    double span = (double)(ts[n - 1] - ts[0]);
    size_t m = 0, i = 0;
    size_t *mn = malloc((size_t)nv * 2 * sizeof *mn), *mx = mn + nv;
    if (!mn) {
        free(keep);
        return 0;
    }
    while (i < n) {
        int col = span > 0 ? (int)((double)(ts[i] - ts[0]) / span * (COLUMNS - 1)) : 0;
        size_t j = i;
        for (int v = 0; v < nv; v++)
            mn[v] = mx[v] = (size_t)-1;
        while (j < n && (span > 0 ? (int)((double)(ts[j] - ts[0]) / span * (COLUMNS - 1)) : 0) == col) {
            for (int v = 0; v < nv; v++) {
                double x = vals[v][j * stride[v]];
                if (!isfinite(x))
                    continue;
                if (mn[v] == (size_t)-1 || x < vals[v][mn[v] * stride[v]])
                    mn[v] = j;
                if (mx[v] == (size_t)-1 || x > vals[v][mx[v] * stride[v]])
                    mx[v] = j;
            }
            j++;
        }
        /* the column is [i, j): gather first, extremes, last in order */
        size_t start = m;
        keep[m++] = i;
        for (int v = 0; v < nv; v++) {
            if (mn[v] != (size_t)-1)
                keep[m++] = mn[v];
            if (mx[v] != (size_t)-1)
                keep[m++] = mx[v];
        }
        keep[m++] = j - 1;
        /* sort the few entries of this column and drop repeats */
        for (size_t a = start + 1; a < m; a++)
            for (size_t b = a; b > start && keep[b - 1] > keep[b]; b--) {
                size_t t = keep[b];
                keep[b] = keep[b - 1];
                keep[b - 1] = t;
            }
        size_t w = start + 1;
        for (size_t a = start + 1; a < m; a++)
            if (keep[a] != keep[w - 1])
                keep[w++] = keep[a];
        m = w;
        i = j;
    }
    free(mn);
    *idx = keep;
    return m;
}

static void arr_ts(FILE *fp, const int64_t *ts, const size_t *idx, size_t m)
{
    fputc('[', fp);
    for (size_t i = 0; i < m; i++) {
        if (i)
            fputc(',', fp);
        ms(fp, ts[idx[i]]);
    }
    fputc(']', fp);
}

static void arr_v(FILE *fp, const double *v, size_t stride, const size_t *idx, size_t m)
{
    fputc('[', fp);
    for (size_t i = 0; i < m; i++) {
        if (i)
            fputc(',', fp);
        num(fp, v[idx[i] * stride]);
    }
    fputc(']', fp);
}

/* ---- sections of the data ------------------------------------------------------- */

static void curve(out *o, const brs_an_series *s)
{
    double *dd = malloc((s->n ? s->n : 1) * sizeof *dd);
    if (!dd)
        return;
    double peak = -INFINITY;
    for (size_t i = 0; i < s->n; i++) {
        if (s->equity[i] > peak)
            peak = s->equity[i];
        dd[i] = peak > 0 ? s->equity[i] / peak - 1 : NAN;
    }
    /* the series this chart set shows, each keeping its extremes */
    const double *vals[4] = {s->equity, dd};
    size_t stride[4] = {1, 1, 1, 1};
    int nv = 2;
    if (s->has_bench)
        vals[nv++] = s->bench;
    if (s->has_qspread)
        vals[nv++] = s->qspread;
    size_t *idx;
    size_t m = reduce(s->ts, s->n, vals, stride, nv, &idx);
    key(o, "curve");
    fputs("{\"t\":", o->fp);
    arr_ts(o->fp, s->ts, idx, m);
    fputs(",\"eq\":", o->fp);
    arr_v(o->fp, s->equity, 1, idx, m);
    fputs(",\"dd\":", o->fp);
    arr_v(o->fp, dd, 1, idx, m);
    if (s->has_bench) {
        fputs(",\"bench\":", o->fp);
        arr_v(o->fp, s->bench, 1, idx, m);
    }
    if (s->has_qspread) {
        fputs(",\"qspread\":", o->fp);
        arr_v(o->fp, s->qspread, 1, idx, m);
    }
    fputs("}", o->fp);
    free(idx);
    free(dd);
}

/* Candles: every bar when they fit, else one per display column made of its
 * bars (first open, highest high, lowest low, last close: no extreme lost). */
static void candles(FILE *fp, const brs_an_ohlc *b)
{
    size_t n = b->n, cols = n <= (size_t)COLUMNS * 2 ? n : COLUMNS;
    double span = n > 1 ? (double)(b->ts[n - 1] - b->ts[0]) : 0;
    fputs(",\"ohlc\":[", fp);
    size_t i = 0;
    int first = 1;
    while (i < n) {
        size_t j = i + 1;
        double h = b->h[i], l = b->l[i];
        if (cols < n && span > 0) {
            size_t col = (size_t)((double)(b->ts[i] - b->ts[0]) / span * (double)(cols - 1));
            while (j < n && (size_t)((double)(b->ts[j] - b->ts[0]) / span * (double)(cols - 1)) == col) {
                if (b->h[j] > h)
                    h = b->h[j];
                if (b->l[j] < l)
                    l = b->l[j];
                j++;
            }
        }
        fputs(first ? "[" : ",[", fp);
        first = 0;
        ms(fp, b->ts[i]);
        fputc(',', fp);
        num(fp, b->o[i]);
        fputc(',', fp);
        num(fp, h);
        fputc(',', fp);
        num(fp, l);
        fputc(',', fp);
        num(fp, b->c[j - 1]);
        fputc(',', fp);
        ms(fp, b->ts[j - 1]);
        fputc(']', fp);
        i = j;
    }
    fputc(']', fp);
}

static void instruments(out *o, const brs_an_report_input *in)
{
    const brs_an_series *s = in->series;
    uint32_t shown = s->k < MAX_CHART_INSTR ? s->k : MAX_CHART_INSTR;
    if (!s->pos || !s->price) /* no rows (an equity.csv of its header only): nothing to chart */
        shown = 0;
    key(o, "inst");
    fputc('[', o->fp);
    for (uint32_t j = 0; j < shown; j++) {
        const double *vals[2] = {s->pos + j, s->price + j};
        size_t stride[2] = {s->k, s->k};
        size_t *idx;
        size_t m = reduce(s->ts, s->n, vals, stride, 2, &idx);
        fputs(j ? ",{\"sym\":" : "{\"sym\":", o->fp);
        brs__an_json_string(o->fp, in->symbols && in->symbols[j] ? in->symbols[j] : "?");
        fputs(",\"t\":", o->fp);
        arr_ts(o->fp, s->ts, idx, m);
        fputs(",\"pos\":", o->fp);
        arr_v(o->fp, s->pos + j, s->k, idx, m);
        fputs(",\"px\":", o->fp);
        arr_v(o->fp, s->price + j, s->k, idx, m);
        if (in->ohlc && in->ohlc[j].n)
            candles(o->fp, &in->ohlc[j]);
        fputc('}', o->fp);
        free(idx);
    }
    fputc(']', o->fp);
    key(o, "n_inst");
    fprintf(o->fp, "%u", s->k);
}

/* Fill markers: all of them up to MAX_FILL_MARKS, else the first fill of each
 * side per display column and instrument (the page thins again per pixel). */
static void fills(out *o, const brs_an_report_input *in)
{
    const brs_an_series *s = in->series;
    key(o, "fills");
    fputc('[', o->fp);
    int thin = in->n_markers > MAX_FILL_MARKS && s->n > 1;
    double span = s->n > 1 ? (double)(s->ts[s->n - 1] - s->ts[0]) : 0;
    int64_t last_col[MAX_CHART_INSTR][2];
    for (int a = 0; a < MAX_CHART_INSTR; a++)
        last_col[a][0] = last_col[a][1] = -1;
    int first = 1;
    for (size_t i = 0; i < in->n_markers; i++) {
        const brs_an_marker *mk = &in->markers[i];
        if (mk->instrument >= MAX_CHART_INSTR || mk->side > 1 || !isfinite(mk->price))
            continue;
        if (thin && span > 0) {
            int64_t col = (int64_t)((double)(mk->ts - s->ts[0]) / span * (COLUMNS * 2));
            if (col == last_col[mk->instrument][mk->side])
                continue;
            last_col[mk->instrument][mk->side] = col;
        }
        fputs(first ? "[" : ",[", o->fp);
        first = 0;
        ms(o->fp, mk->ts);
        fprintf(o->fp, ",%u,%d,", mk->instrument, mk->side);
        num(o->fp, mk->price);
        fprintf(o->fp, ",%lld]", (long long)mk->qty);
    }
    fputc(']', o->fp);
    key(o, "n_fills");
    fprintf(o->fp, "%zu", in->n_markers);
}

/* Min and max of an instrument's price over samples [a, b), by blocks. */
typedef struct blocks {
    const brs_an_series *s;
    uint32_t j;
    size_t bs, nb;
    double *lo, *hi;
} blocks;

static void span_minmax(const blocks *b, size_t a, size_t e, double *lo, double *hi)
{
    const brs_an_series *s = b->s;
    while (a < e) {
        if (a % b->bs == 0 && a + b->bs <= e && b->lo) {
            size_t k = a / b->bs;
            if (b->lo[k] < *lo)
                *lo = b->lo[k];
            if (b->hi[k] > *hi)
                *hi = b->hi[k];
            a += b->bs;
            continue;
        }
        double p = s->price[a * s->k + b->j];
        if (isfinite(p)) {
            if (p < *lo)
                *lo = p;
            if (p > *hi)
                *hi = p;
        }
        a++;
    }
}

static size_t lower_bound(const int64_t *ts, size_t n, int64_t t)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (ts[m] < t)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* Trade rows: id, instrument, dir, qty, entry ms, entry price, exit ms, exit
 * price, net pnl, return, holding seconds, MAE, MFE (currency, from the entry
 * and exit prices and the sampled prices in between). */
static void trades(out *o, const brs_an_report_input *in)
{
    const brs_an_series *s = in->series;
    key(o, "trades");
    fputc('[', o->fp);
    size_t rows = in->n_trades < MAX_TRADE_ROWS ? in->n_trades : MAX_TRADE_ROWS;
    /* multipliers from summary.json's per-instrument table (1 when absent) */
    double *mult = malloc((s->k ? s->k : 1) * sizeof *mult);
    if (!mult) {
        fputs("]", o->fp);
        return;
    }
    const cJSON *insts = in->summary ? cJSON_GetObjectItemCaseSensitive(in->summary, "instruments") : NULL;
    for (uint32_t j = 0; j < s->k; j++) {
        const cJSON *mj = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(insts, (int)j), "multiplier");
        mult[j] = cJSON_IsNumber(mj) && mj->valuedouble > 0 ? mj->valuedouble : 1.0;
    }
    blocks *bl = calloc(s->k ? s->k : 1, sizeof *bl);
    for (uint32_t j = 0; bl && j < s->k; j++) {
        blocks *b = &bl[j];
        b->s = s;
        b->j = j;
        b->bs = 256;
        b->nb = s->n / b->bs;
        if (b->nb && rows) {
            b->lo = malloc(b->nb * sizeof *b->lo);
            b->hi = malloc(b->nb * sizeof *b->hi);
            if (!b->lo || !b->hi) {
                free(b->lo);
                free(b->hi);
                b->lo = b->hi = NULL;
                continue;
            }
            for (size_t k = 0; k < b->nb; k++) {
                b->lo[k] = INFINITY;
                b->hi[k] = -INFINITY;
                blocks flat = *b;
                flat.lo = NULL;
                span_minmax(&flat, k * b->bs, (k + 1) * b->bs, &b->lo[k], &b->hi[k]);
            }
        }
    }
    for (size_t i = 0; i < rows; i++) {
        const brs_an_trade *t = &in->trades[i];
        double lo = fmin(t->entry_price, t->exit_price), hi = fmax(t->entry_price, t->exit_price);
        if (bl && t->instrument < s->k) {
            size_t a = lower_bound(s->ts, s->n, t->entry_ts);
            size_t e = lower_bound(s->ts, s->n, t->exit_ts + 1);
            span_minmax(&bl[t->instrument], a, e, &lo, &hi);
        }
        double q = (double)t->qty * (t->instrument < s->k ? mult[t->instrument] : 1.0);
        double mae = t->dir > 0 ? (lo - t->entry_price) * q : (t->entry_price - hi) * q;
        double mfe = t->dir > 0 ? (hi - t->entry_price) * q : (t->entry_price - lo) * q;
        double notional = fabs(t->entry_price * q);
        fprintf(o->fp, "%s[%zu,%u,%d,%lld,", i ? "," : "", i + 1, t->instrument, t->dir,
                (long long)t->qty);
        ms(o->fp, t->entry_ts);
        fputc(',', o->fp);
        num(o->fp, t->entry_price);
        fputc(',', o->fp);
        ms(o->fp, t->exit_ts);
        fputc(',', o->fp);
        num(o->fp, t->exit_price);
        fputc(',', o->fp);
        num(o->fp, t->net);
        fputc(',', o->fp);
        num(o->fp, notional > 0 ? t->net / notional : NAN);
        fputc(',', o->fp);
        num(o->fp, (double)(t->exit_ts - t->entry_ts) / 1e9);
        fputc(',', o->fp);
        num(o->fp, fmin(mae, 0));
        fputc(',', o->fp);
        num(o->fp, fmax(mfe, 0));
        fputc(']', o->fp);
    }
    fputc(']', o->fp);
    key(o, "n_trades");
    fprintf(o->fp, "%zu", in->n_trades);
    for (uint32_t j = 0; bl && j < s->k; j++) {
        free(bl[j].lo);
        free(bl[j].hi);
    }
    free(bl);
    free(mult);
}

/* Daily returns (and the benchmark's), rolling Sharpe and volatility, monthly
 * and yearly returns, the worst drawdowns. */
static void periods(out *o, const brs_an_report_input *in, double ppy, double rf_annual,
                    int window)
{
    const brs_an_series *s = in->series;
    brs_an_periods d;
    if (brs__an_periods(s, BRS_AN_DAY, &d))
        return;
    size_t nr = d.n ? d.n - 1 : 0;
    key(o, "daily");
    fputs("{\"t\":[", o->fp);
    for (size_t i = 0; i < nr; i++) {
        if (i)
            fputc(',', o->fp);
        ms(o->fp, d.ts[i + 1]);
    }
    fputs("],\"r\":[", o->fp);
    for (size_t i = 0; i < nr; i++) {
        if (i)
            fputc(',', o->fp);
        num(o->fp, d.ret[i]);
    }
    fputs("]", o->fp);
    if (s->has_bench) {
        fputs(",\"br\":[", o->fp);
        for (size_t i = 0; i < nr; i++) {
            if (i)
                fputc(',', o->fp);
            num(o->fp, d.bret[i]);
        }
        fputs("]", o->fp);
    }
    fputs("}", o->fp);

    /* rolling windows of `window` daily returns, annualised as the metrics are */
    key(o, "rolling");
    fprintf(o->fp, "{\"window\":%d,\"t\":[", window);
    double rf = rf_annual / ppy;
    int first = 1;
    for (size_t i = window > 1 ? (size_t)window - 1 : 0; window > 1 && i < nr; i++) {
        fputs(first ? "" : ",", o->fp);
        first = 0;
        ms(o->fp, d.ts[i + 1]);
    }
    for (int pass = 0; pass < 2; pass++) {
        fputs(pass ? "],\"vol\":[" : "],\"sharpe\":[", o->fp);
        first = 1;
        for (size_t i = window > 1 ? (size_t)window - 1 : 0; window > 1 && i < nr; i++) {
            double mean = 0, ss = 0;
            for (size_t k = i + 1 - (size_t)window; k <= i; k++)
                mean += d.ret[k];
            mean /= window;
            for (size_t k = i + 1 - (size_t)window; k <= i; k++)
                ss += (d.ret[k] - mean) * (d.ret[k] - mean);
            double sd = sqrt(ss / (window - 1));
            double v = pass ? sd * sqrt(ppy) : (sd >= 1e-12 ? (mean - rf) / sd * sqrt(ppy) : NAN);
            fputs(first ? "" : ",", o->fp);
            first = 0;
            num(o->fp, v);
        }
    }
    fputs("]}", o->fp);
    brs__an_periods_free(&d);

    for (int kind = BRS_AN_MONTH; kind <= BRS_AN_YEAR; kind++) {
        brs_an_periods p;
        if (brs__an_periods(s, kind, &p))
            return;
        key(o, kind == BRS_AN_MONTH ? "monthly" : "yearly");
        fputc('[', o->fp);
        for (size_t i = 0; i + 1 < p.n; i++) {
            int y, m, dd;
            brs__an_civil(p.ts[i + 1], &y, &m, &dd);
            fprintf(o->fp, "%s[%d,%d,", i ? "," : "", y, m);
            num(o->fp, p.ret[i]);
            fputc(',', o->fp);
            num(o->fp, p.bret[i]);
            fputc(']', o->fp);
        }
        fputc(']', o->fp);
        brs__an_periods_free(&p);
    }

    brs_an_dd_episode ep[5];
    size_t ne = brs__an_worst_drawdowns(s, ep, 5);
    key(o, "drawdowns");
    fputc('[', o->fp);
    for (size_t i = 0; i < ne; i++) {
        fputs(i ? ",[" : "[", o->fp);
        ms(o->fp, ep[i].peak_ts);
        fputc(',', o->fp);
        ms(o->fp, ep[i].trough_ts);
        fputc(',', o->fp);
        if (ep[i].recovery_ts >= 0)
            ms(o->fp, ep[i].recovery_ts);
        else
            fputs("null", o->fp);
        fputc(',', o->fp);
        num(o->fp, ep[i].depth);
        fputc(',', o->fp);
        num(o->fp, (double)(ep[i].end_ts - ep[i].peak_ts) / NS_PER_DAY);
        fputc(',', o->fp);
        num(o->fp, ep[i].peak - ep[i].trough);
        fputc(']', o->fp);
    }
    fputc(']', o->fp);
}

/* Declared series: each reduced per column like the curve. */
static void plots(out *o, const brs_an_plots *p)
{
    key(o, "plots");
    fputc('[', o->fp);
    for (uint32_t j = 0; p && j < p->n_names; j++) {
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
            n += p->pts[i].name == j;
        int64_t *ts = malloc((n ? n : 1) * sizeof *ts);
        double *v = malloc((n ? n : 1) * sizeof *v);
        if (!ts || !v) {
            free(ts);
            free(v);
            break;
        }
        n = 0;
        for (size_t i = 0; i < p->n; i++)
            if (p->pts[i].name == j) {
                ts[n] = p->pts[i].ts;
                v[n++] = p->pts[i].v;
            }
        const double *vals[1] = {v};
        size_t stride[1] = {1}, *idx;
        size_t m = reduce(ts, n, vals, stride, 1, &idx);
        fputs(j ? ",{\"name\":" : "{\"name\":", o->fp);
        brs__an_json_string(o->fp, p->names[j]);
        fputs(",\"t\":", o->fp);
        arr_ts(o->fp, ts, idx, m);
        fputs(",\"v\":", o->fp);
        arr_v(o->fp, v, 1, idx, m);
        fputc('}', o->fp);
        free(idx);
        free(ts);
        free(v);
    }
    fputc(']', o->fp);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Book mode: how long our maker fills waited from submission, median and p90. */
static void queue_wait(out *o, const double *w, size_t n)
{
    if (!n)
        return;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return;
    memcpy(s, w, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_d);
    key(o, "queue_wait");
    fprintf(o->fp, "{\"n\":%zu,\"p50\":", n);
    num(o->fp, brs__an_quantile(s, n, 0.5));
    fputs(",\"p90\":", o->fp);
    num(o->fp, brs__an_quantile(s, n, 0.9));
    fputs(",\"max\":", o->fp);
    num(o->fp, s[n - 1]);
    fputc('}', o->fp);
    free(s);
}

static double cfg_num(const cJSON *root, const char *a, const char *b, double dflt)
{
    const cJSON *x = root ? cJSON_GetObjectItemCaseSensitive(root, a) : NULL;
    if (b)
        x = x ? cJSON_GetObjectItemCaseSensitive(x, b) : NULL;
    return cJSON_IsNumber(x) ? x->valuedouble : dflt;
}

void brs__an_report_data(FILE *fp, const brs_an_report_input *in)
{
    out o = {fp, 1};
    fputc('{', fp);
    key(&o, "title");
    brs__an_json_string(fp, in->title && *in->title ? in->title : "Backtest");
    key(&o, "bench");
    if (in->bench_name)
        brs__an_json_string(fp, in->bench_name);
    else
        fputs("null", fp);
    double ppy = cfg_num(in->summary, "periods_per_year", NULL, 252);
    double rf = cfg_num(in->summary, "risk_free_rate", NULL, 0);
    int window = (int)cfg_num(in->config, "report", "rolling_window", 63);
    if (window < 2)
        window = 2;
    key(&o, "summary");
    char *txt = in->summary ? cJSON_PrintUnformatted(in->summary) : NULL;
    fputs(txt ? txt : "{}", fp);
    free(txt);
    key(&o, "config");
    txt = in->config ? cJSON_PrintUnformatted(in->config) : NULL;
    fputs(txt ? txt : "{}", fp);
    free(txt);
    curve(&o, in->series);
    instruments(&o, in);
    fills(&o, in);
    trades(&o, in);
    periods(&o, in, ppy > 0 ? ppy : 252, rf, window);
    plots(&o, in->plots);
    queue_wait(&o, in->maker_wait, in->n_maker_wait);
    fputc('}', fp);
}
