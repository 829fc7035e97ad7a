/* report.c: report.html, one self-contained page (inline CSS and SVG, no script,
 * no network): equity, drawdown, position and price-with-fills charts, the
 * metrics table and the configuration. Long series are reduced to the first,
 * min, max and last point of each pixel column, so a million samples still make
 * a page of a few hundred kilobytes; output is deterministic. */
#include "an_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVG_W 1100
#define SVG_H 250
#define PAD_L 86
#define PAD_R 20
#define PAD_T 30
#define PAD_B 34
#define PLOT_W (SVG_W - PAD_L - PAD_R)
#define PLOT_H (SVG_H - PAD_T - PAD_B)
#define MAX_INSTRUMENT_CHARTS 8

static void html(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '&': fputs("&amp;", fp); break;
        case '"': fputs("&quot;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

/* An ISO time without its trailing zero fraction: "...T09:30:00.000000000Z" -> "...T09:30:00Z". */
static void html_time(FILE *fp, const char *iso)
{
    char b[64];
    snprintf(b, sizeof b, "%s", iso);
    char *dot = strchr(b, '.');
    if (dot && strspn(dot + 1, "0") == strlen(dot + 1) - 1 && b[strlen(b) - 1] == 'Z')
        strcpy(dot, "Z");
    html(fp, b);
}

/* ---- axes ------------------------------------------------------------------ */

typedef struct chart {
    FILE *fp;
    int64_t t0, t1;
    double lo, hi;
    int pct; /* y values are fractions shown as percent */
} chart;

static double xpos(const chart *c, int64_t t)
{
    double span = (double)(c->t1 - c->t0);
    double f = span > 0 ? (double)(t - c->t0) / span : 0.5;
    return PAD_L + f * (PLOT_W - 1);
}

static double ypos(const chart *c, double v)
{
    return PAD_T + (c->hi - v) / (c->hi - c->lo) * PLOT_H;
}

static double nice_step(double range, int target)
{
    double raw = range / target;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

static void fmt_tick(char *b, size_t n, double v, double step, int pct)
{
    if (pct) {
        v *= 100;
        step *= 100;
    }
    const char *suffix = pct ? "%" : "";
    if (!pct && step >= 1e6) {
        v /= 1e6;
        step /= 1e6;
        suffix = "M";
    } else if (!pct && step >= 1e3) {
        v /= 1e3;
        step /= 1e3;
        suffix = "k";
    }
    int dec = (int)ceil(-log10(step) - 1e-9);
    if (dec < 0)
        dec = 0;
    if (dec > 8)
        dec = 8;
    if (fabs(v) < step * 1e-6)
        v = 0;
    snprintf(b, n, "%.*f%s", dec, v, suffix);
}

/* Choose the y range (with a margin) and draw the frame, grid and labels. */
static void chart_begin(chart *c, const char *title, double lo, double hi, int pct,
                        const char *ylabel)
{
    FILE *fp = c->fp;
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo <= fabs(hi) * 1e-12 || hi == lo) {
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.01 : 1;
        lo -= pad;
        hi += pad;
    }
    double step = nice_step(hi - lo, 5);
    c->lo = floor(lo / step) * step;
    c->hi = ceil(hi / step) * step;
    c->pct = pct;
    fprintf(fp, "<figure><figcaption>");
    html(fp, title);
    fprintf(fp, "</figcaption>\n<svg viewBox=\"0 0 %d %d\" role=\"img\">\n", SVG_W, SVG_H);
    fprintf(fp, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", PAD_L,
            PAD_T, PLOT_W, PLOT_H);
    char b[64];
    /* by index: adding a step to a huge value may not change it */
    long nticks = lround((c->hi - c->lo) / step);
    if (nticks < 0 || nticks > 50)
        nticks = 0;
    for (long i = 0; i <= nticks; i++) {
        double v = c->lo + (double)i * step;
        double y = ypos(c, v);
        fprintf(fp, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", PAD_L,
                PAD_L + PLOT_W, y, y);
        fmt_tick(b, sizeof b, v, step, pct);
        fprintf(fp, "<text class=\"yl\" x=\"%d\" y=\"%.1f\">%s</text>\n", PAD_L - 6, y + 4, b);
    }
    fprintf(fp, "<text class=\"yl\" x=\"%d\" y=\"%d\">UTC</text>\n", SVG_W - PAD_R,
            PAD_T + PLOT_H + 30);
    fprintf(fp, "<text class=\"axis\" transform=\"translate(14 %d) rotate(-90)\">", PAD_T + PLOT_H / 2);
    html(fp, ylabel);
    fputs("</text>\n", fp);

    /* time axis: calendar months/years for long runs, fixed steps below that */
    static const int64_t steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                                    7200, 10800, 21600, 43200, 86400, 172800, 604800,
                                    1209600};
    static const int months[] = {1, 2, 3, 6, 12, 24, 60, 120, 240};
    double span_s = (double)(c->t1 - c->t0) / 1e9;
    int64_t step_s = 0;
    int step_m = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span_s / (double)steps[i] <= 8) {
            step_s = steps[i];
            break;
        }
    if (!step_s) {
        for (size_t i = 0; i < sizeof months / sizeof months[0]; i++)
            if (span_s / (months[i] * 30.44 * 86400) <= 8) {
                step_m = months[i];
                break;
            }
        if (!step_m)
            step_m = 1200;
    }
    const char *tf = step_m >= 12               ? "%Y"
                     : step_m                   ? "%Y-%m"
                     : step_s >= 86400          ? "%Y-%m-%d"
                     : span_s > 86400           ? "%m-%d %H:%M"
                     : step_s >= 60             ? "%H:%M"
                                                : "%H:%M:%S";
    int64_t t0s = c->t0 / 1000000000 - (c->t0 % 1000000000 < 0);
    int64_t t1s = c->t1 / 1000000000;
    int ticks = 0;
    for (int64_t k = 0; ticks < 20; k++) {
        int64_t ts;
        if (step_m) {
            time_t tt = (time_t)t0s;
            struct tm tm;
            gmtime_r(&tt, &tm);
            int mon = tm.tm_year * 12 + tm.tm_mon;
            mon = (mon / step_m + 1 + (int)k) * step_m;
            struct tm m = {0};
            m.tm_year = mon / 12;
            m.tm_mon = mon % 12;
            m.tm_mday = 1;
            ts = (int64_t)timegm(&m);
        } else {
            int64_t first = t0s / step_s * step_s;
            if (first < t0s)
                first += step_s;
            ts = first + k * step_s;
        }
        if (ts > t1s)
            break;
        if (ts < t0s)
            continue;
        double x = xpos(c, ts * 1000000000);
        time_t tt = (time_t)ts;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(b, sizeof b, tf, &tm);
        fprintf(fp, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", x, x,
                PAD_T, PAD_T + PLOT_H);
        fprintf(fp, "<text class=\"xl\" x=\"%.1f\" y=\"%d\">%s</text>\n", x, PAD_T + PLOT_H + 16,
                b);
        ticks++;
    }
}

static void chart_end(chart *c)
{
    fputs("</svg></figure>\n", c->fp);
}

/* ---- series, reduced per pixel column ------------------------------------- */

typedef struct column {
    size_t first, last, imin, imax;
    int used;
} column;

/* Draw vals[i * stride] against ts[i] as a polyline (or a filled area down to
 * `base` when area is set), keeping first, min, max and last of each column. */
static void draw_series(chart *c, const int64_t *ts, const double *vals, size_t stride, size_t n,
                        const char *cls, int area, double base)
{
    column *col = calloc(PLOT_W, sizeof *col);
    if (!col)
        return;
    for (size_t i = 0; i < n; i++) {
        double v = vals[i * stride];
        if (!isfinite(v))
            continue;
        int x = (int)(xpos(c, ts[i]) - PAD_L);
        if (x < 0)
            x = 0;
        if (x >= PLOT_W)
            x = PLOT_W - 1;
        column *k = &col[x];
        if (!k->used) {
            k->used = 1;
            k->first = k->imin = k->imax = i;
        }
        k->last = i;
        if (v < vals[k->imin * stride])
            k->imin = i;
        if (v > vals[k->imax * stride])
            k->imax = i;
    }
    FILE *fp = c->fp;
    fprintf(fp, "<path class=\"%s\" d=\"", cls);
    int started = 0;
    double first_x = 0, last_x = 0;
    for (int x = 0; x < PLOT_W; x++) {
        column *k = &col[x];
        if (!k->used)
            continue;
        size_t pts[4] = {k->first, k->imin < k->imax ? k->imin : k->imax,
                         k->imin < k->imax ? k->imax : k->imin, k->last};
        size_t prev = (size_t)-1;
        for (int j = 0; j < 4; j++) {
            if (pts[j] == prev)
                continue;
            prev = pts[j];
            double px = xpos(c, ts[pts[j]]), py = ypos(c, vals[pts[j] * stride]);
            if (!started) {
                first_x = px;
                if (area)
                    fprintf(fp, "M%.1f %.1fL%.1f %.1f", px, ypos(c, base), px, py);
                else
                    fprintf(fp, "M%.1f %.1f", px, py);
                started = 1;
            } else {
                fprintf(fp, "L%.1f %.1f", px, py);
            }
            last_x = px;
        }
    }
    if (started && area)
        fprintf(fp, "L%.1f %.1fL%.1f %.1fZ", last_x, ypos(c, base), first_x, ypos(c, base));
    fputs("\"/>\n", fp);
    free(col);
}

static void value_range(const double *v, size_t stride, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = v[i * stride];
        if (!isfinite(x))
            continue;
        if (x < *lo)
            *lo = x;
        if (x > *hi)
            *hi = x;
    }
}

/* Buy and sell markers of one instrument; at most one of each side per column. */
static void draw_markers(chart *c, const brs_an_report_input *in, uint32_t inst)
{
    unsigned char *seen = calloc(PLOT_W, 1);
    if (!seen)
        return;
    FILE *fp = c->fp;
    for (int side = 0; side < 2; side++) {
        fprintf(fp, "<path class=\"%s\" d=\"", side == BRS_BUY ? "buy" : "sell");
        for (size_t i = 0; i < in->n_markers; i++) {
            const brs_an_marker *m = &in->markers[i];
            if (m->instrument != inst || m->side != side || !isfinite(m->price) ||
                m->ts < c->t0 || m->ts > c->t1)
                continue;
            double x = xpos(c, m->ts), y = ypos(c, m->price);
            int col = (int)(x - PAD_L);
            if (col < 0 || col >= PLOT_W || (seen[col] & (1 << side)))
                continue;
            seen[col] |= (unsigned char)(1 << side);
            if (side == BRS_BUY) /* up triangle just under the price */
                fprintf(fp, "M%.1f %.1fl5 9h-10z", x, y + 1);
            else /* down triangle just over it */
                fprintf(fp, "M%.1f %.1fl5 -9h-10z", x, y - 1);
        }
        fputs("\"/>\n", fp);
    }
    free(seen);
}

/* ---- the page ---------------------------------------------------------------- */

static int is_pct_key(const char *k)
{
    static const char *const pct[] = {"total_return", "cagr",        "ann_volatility",
                                      "max_drawdown", "win_rate",    "exposure",
                                      "risk_free_rate", "fill_ratio", "maker_share",
                                      "taker_share", "quoted_two_sided"};
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++)
        if (strcmp(k, pct[i]) == 0)
            return 1;
    return 0;
}

static void fmt_value(char *b, size_t n, const cJSON *v, const char *key)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (is_pct_key(key))
            snprintf(b, n, "%.2f%%", d * 100);
        else if (d == floor(d) && fabs(d) < 1e15)
            snprintf(b, n, "%.0f", d);
        else
            snprintf(b, n, "%.6g", d);
    } else if (cJSON_IsString(v)) {
        snprintf(b, n, "%s", v->valuestring);
    } else if (cJSON_IsBool(v)) {
        snprintf(b, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        snprintf(b, n, "n/a");
    } else {
        snprintf(b, n, "&#8230;");
    }
}

static void headline(FILE *fp, const cJSON *summary, const char *key, const char *label)
{
    const cJSON *v = summary ? cJSON_GetObjectItemCaseSensitive(summary, key) : NULL;
    char b[128] = "n/a";
    if (v)
        fmt_value(b, sizeof b, v, key);
    fprintf(fp, "<div class=\"card\"><span>%s</span><b>", label);
    html(fp, b);
    fputs("</b></div>", fp);
}

static void metrics_table(FILE *fp, const cJSON *summary)
{
    fputs("<h2>Metrics</h2>\n<table class=\"metrics\">\n", fp);
    const cJSON *it;
    int col = 0;
    cJSON_ArrayForEach(it, summary)
    {
        if (!it->string || cJSON_IsArray(it) || cJSON_IsObject(it) ||
            strcmp(it->string, "title") == 0)
            continue;
        char b[256];
        fmt_value(b, sizeof b, it, it->string);
        if (col == 0)
            fputs("<tr>", fp);
        fputs("<th>", fp);
        html(fp, it->string);
        fputs("</th><td>", fp);
        html(fp, b);
        fputs("</td>", fp);
        if (++col == 3) {
            fputs("</tr>\n", fp);
            col = 0;
        }
    }
    if (col)
        fputs("</tr>\n", fp);
    fputs("</table>\n", fp);
    /* arrays of objects (per-instrument figures) as their own tables */
    cJSON_ArrayForEach(it, summary)
    {
        if (!it->string || !cJSON_IsArray(it) || !cJSON_IsObject(cJSON_GetArrayItem(it, 0)))
            continue;
        fputs("<h3>", fp);
        html(fp, it->string);
        fputs("</h3>\n<table class=\"list\"><tr>", fp);
        const cJSON *row0 = cJSON_GetArrayItem(it, 0), *f;
        cJSON_ArrayForEach(f, row0)
        {
            fputs("<th>", fp);
            html(fp, f->string);
            fputs("</th>", fp);
        }
        fputs("</tr>\n", fp);
        const cJSON *row;
        cJSON_ArrayForEach(row, it)
        {
            fputs("<tr>", fp);
            cJSON_ArrayForEach(f, row)
            {
                char b[256];
                fmt_value(b, sizeof b, f, f->string ? f->string : "");
                fputs("<td>", fp);
                html(fp, b);
                fputs("</td>", fp);
            }
            fputs("</tr>\n", fp);
        }
        fputs("</table>\n", fp);
    }
}

static const char CSS[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:24px auto;max-width:1140px;color:#1d2330;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
    "h3{font-size:15px;margin:18px 0 6px}.sub{color:#5a6375;margin-bottom:14px}"
    ".cards{display:flex;gap:10px;flex-wrap:wrap;margin:10px 0 8px}"
    ".card{border:1px solid #d9dee8;border-radius:6px;padding:8px 14px;min-width:120px}"
    ".card span{display:block;color:#5a6375;font-size:12px}.card b{font-size:18px}"
    "figure{margin:14px 0}figcaption{font-weight:600;margin-bottom:2px}"
    "svg{width:100%;height:auto;display:block}"
    "svg text{font-size:12px;fill:#3b4354}.yl{text-anchor:end}.xl{text-anchor:middle}"
    ".axis{text-anchor:middle;font-weight:600}"
    ".plot{fill:#fbfcfe;stroke:#aab3c5}.grid{stroke:#e3e7ef;stroke-width:1}"
    ".eq{fill:none;stroke:#1f5fbf;stroke-width:1.5}"
    ".dd{fill:#e8a0a0;fill-opacity:.55;stroke:#c0392b;stroke-width:1}"
    ".pos{fill:none;stroke:#6b3fa0;stroke-width:1.3}.px{fill:none;stroke:#333c4d;stroke-width:1.2}"
    ".zero{stroke:#8a93a6;stroke-dasharray:4 3}"
    ".buy{fill:#1e9e4a}.sell{fill:#d63a2f}.legend{font-size:12px;color:#5a6375}"
    ".legend i{display:inline-block;width:0;height:0;margin:0 4px 0 12px;vertical-align:middle;"
    "border-left:5px solid transparent;border-right:5px solid transparent}"
    ".legend .b{border-bottom:9px solid #1e9e4a}.legend .s{border-top:9px solid #d63a2f}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border-bottom:1px solid #e3e7ef;padding:4px 8px;text-align:left}"
    ".metrics th{color:#5a6375;font-weight:500;width:17%}.metrics td{font-variant-numeric:tabular-nums;width:16%}"
    ".list td{font-variant-numeric:tabular-nums}"
    "pre{background:#f5f7fa;border:1px solid #d9dee8;padding:10px;overflow:auto;font-size:12px}"
    ".note{color:#5a6375}";

int brs__an_render_report(FILE *fp, const brs_an_report_input *in)
{
    const brs_an_series *s = in->series;
    const char *title = in->title && *in->title ? in->title : "Backtest";
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", fp);
    html(fp, title);
    fprintf(fp, " &#8212; Bourse report</title>\n<style>%s</style></head>\n<body>\n<h1>", CSS);
    html(fp, title);
    fputs("</h1>\n<div class=\"sub\">", fp);
    const cJSON *mode = in->summary ? cJSON_GetObjectItemCaseSensitive(in->summary, "mode") : NULL;
    const cJSON *st = in->summary ? cJSON_GetObjectItemCaseSensitive(in->summary, "start") : NULL;
    const cJSON *en = in->summary ? cJSON_GetObjectItemCaseSensitive(in->summary, "end") : NULL;
    if (cJSON_IsString(mode)) {
        html(fp, mode->valuestring);
        fputs(" mode", fp);
    }
    if (cJSON_IsString(st) && cJSON_IsString(en)) {
        fputs(" &#183; ", fp);
        html_time(fp, st->valuestring);
        fputs(" &#8594; ", fp);
        html_time(fp, en->valuestring);
    }
    fprintf(fp, " &#183; %zu equity samples</div>\n<div class=\"cards\">", s->n);
    headline(fp, in->summary, "total_return", "Total return");
    headline(fp, in->summary, "cagr", "CAGR");
    headline(fp, in->summary, "sharpe", "Sharpe");
    headline(fp, in->summary, "sortino", "Sortino");
    headline(fp, in->summary, "max_drawdown", "Max drawdown");
    headline(fp, in->summary, "n_trades", "Trades");
    headline(fp, in->summary, "win_rate", "Win rate");
    /* market making through the router: what it earned, and from the spread */
    if (in->summary && cJSON_GetObjectItemCaseSensitive(in->summary, "spread_captured")) {
        headline(fp, in->summary, "net_pnl", "Net PnL");
        headline(fp, in->summary, "spread_captured", "Spread captured");
        headline(fp, in->summary, "max_abs_inventory", "Max |inventory|");
    }
    fputs("</div>\n", fp);

    if (s->n == 0) {
        fputs("<p class=\"note\">No equity samples were recorded: nothing to chart.</p>\n", fp);
    } else {
        chart c = {.fp = fp, .t0 = s->ts[0], .t1 = s->ts[s->n - 1]};
        double lo, hi;

        value_range(s->equity, 1, s->n, &lo, &hi);
        chart_begin(&c, "Equity", lo, hi, 0, "equity");
        draw_series(&c, s->ts, s->equity, 1, s->n, "eq", 0, 0);
        chart_end(&c);

        double *dd = malloc(s->n * sizeof *dd);
        if (dd) {
            double peak = -INFINITY;
            for (size_t i = 0; i < s->n; i++) {
                if (s->equity[i] > peak)
                    peak = s->equity[i];
                dd[i] = peak > 0 && isfinite(s->equity[i]) ? -(peak - s->equity[i]) / peak : NAN;
            }
            value_range(dd, 1, s->n, &lo, &hi);
            /* at least a 1 % scale, so a tiny or no drawdown does not fill the chart */
            chart_begin(&c, "Drawdown", isfinite(lo) && lo < -0.01 ? lo : -0.01, 0, 1,
                        "from peak");
            draw_series(&c, s->ts, dd, 1, s->n, "dd", 1, 0);
            chart_end(&c);
            free(dd);
        }

        uint32_t shown = s->k < MAX_INSTRUMENT_CHARTS ? s->k : MAX_INSTRUMENT_CHARTS;
        for (uint32_t j = 0; j < shown; j++) {
            char t[128];
            const char *sym = in->symbols && in->symbols[j] ? in->symbols[j] : "?";
            value_range(s->pos + j, s->k, s->n, &lo, &hi);
            if (lo > 0)
                lo = 0;
            if (hi < 0)
                hi = 0;
            snprintf(t, sizeof t, "Position %s", sym);
            chart_begin(&c, t, lo, hi, 0, "quantity");
            fprintf(fp, "<line class=\"zero\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                    PAD_L, PAD_L + PLOT_W, ypos(&c, 0), ypos(&c, 0));
            draw_series(&c, s->ts, s->pos + j, s->k, s->n, "pos", 0, 0);
            chart_end(&c);

            value_range(s->price + j, s->k, s->n, &lo, &hi);
            for (size_t i = 0; i < in->n_markers; i++) {
                const brs_an_marker *m = &in->markers[i];
                if (m->instrument == j && isfinite(m->price) && m->ts >= c.t0 && m->ts <= c.t1) {
                    if (m->price < lo)
                        lo = m->price;
                    if (m->price > hi)
                        hi = m->price;
                }
            }
            /* Markers sit just above (sells) or below (buys) their price: pad the
             * range so fills at the extremes stay inside the plot. */
            if (isfinite(lo) && isfinite(hi) && hi > lo) {
                double pad = (hi - lo) * 0.12;
                lo -= pad;
                hi += pad;
            }
            snprintf(t, sizeof t, "Price %s with fills", sym);
            chart_begin(&c, t, lo, hi, 0, "price");
            draw_series(&c, s->ts, s->price + j, s->k, s->n, "px", 0, 0);
            draw_markers(&c, in, j);
            chart_end(&c);
        }
        fputs("<div class=\"legend\"><i class=\"b\"></i>buy fill<i class=\"s\"></i>sell fill "
              "(at most one marker per side per pixel column)</div>\n",
              fp);
        if (s->k > shown)
            fprintf(fp, "<p class=\"note\">Charts show the first %u of %u instruments.</p>\n",
                    shown, s->k);
    }

    if (in->summary)
        metrics_table(fp, in->summary);
    fputs("<h2>Configuration</h2>\n<pre>", fp);
    char *cfg = in->config ? cJSON_Print(in->config) : NULL;
    html(fp, cfg ? cfg : "(none)");
    free(cfg);
    fputs("</pre>\n<p class=\"note\">Definitions of every metric: docs/analytics.md.</p>\n"
          "</body></html>\n",
          fp);
    return BRS_OK;
}
