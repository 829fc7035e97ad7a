/* plots.c: what the report draws beside the equity curve: the series a strategy
 * declares (ctx:plot, brs_host.xPlot) and the bars it traded on (candlesticks).
 * Kept apart from recorder.c, whose hot path they do not touch. */
#include "an_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* ---- bars (candlesticks) ------------------------------------------------------------ */

void brs__an_set_bars(brs_an_recorder *r, uint32_t instrument, const brs_bar_columns *bars,
                      uint64_t n)
{
    if (instrument < r->k) {
        r->inst[instrument].bars = bars ? *bars : (brs_bar_columns){0};
        r->inst[instrument].n_bars = n;
    }
}

int brs__an_ohlc_push(brs_an_ohlc *b, int64_t ts, double o, double h, double l, double c)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        int64_t *t = realloc(b->ts, nc * sizeof *t);
        if (t)
            b->ts = t;
        double *p[4] = {b->o, b->h, b->l, b->c};
        for (int i = 0; i < 4; i++) {
            double *q = realloc(p[i], nc * sizeof *q);
            if (q)
                p[i] = q;
            else
                t = NULL;
        }
        b->o = p[0];
        b->h = p[1];
        b->l = p[2];
        b->c = p[3];
        if (!t)
            return BRS_E_NOMEM;
        b->cap = nc;
    }
    b->ts[b->n] = ts;
    b->o[b->n] = o;
    b->h[b->n] = h;
    b->l[b->n] = l;
    b->c[b->n++] = c;
    return BRS_OK;
}

void brs__an_ohlc_free(brs_an_ohlc *b)
{
    free(b->ts);
    free(b->o);
    free(b->h);
    free(b->l);
    free(b->c);
    memset(b, 0, sizeof *b);
}

/* ---- declared plot series -------------------------------------------------------- */

int brs__an_plots_add(brs_an_plots *p, int64_t every, int64_t ts, const char *name, double v)
{
    uint32_t j = 0;
    while (j < p->n_names && strcmp(p->names[j], name) != 0)
        j++;
    if (j == p->n_names) {
        size_t len = strlen(name);
        if (len == 0 || len >= sizeof p->names[0] || strpbrk(name, ",\"\r\n"))
            return BRS_E_INVAL;
        if (p->n_names == BRS_AN_MAX_PLOTS)
            return BRS_E_INVAL;
        memcpy(p->names[p->n_names++], name, len + 1);
        p->last_bucket[j] = INT64_MIN;
    }
    int64_t bucket = every > 0 ? ts / every : INT64_MIN;
    if (every > 0 && bucket == p->last_bucket[j]) {
        p->pts[p->last_idx[j]].ts = ts;
        p->pts[p->last_idx[j]].v = v;
        return BRS_OK;
    }
    if (brs__an_grow((void **)&p->pts, &p->cap, p->n + 1, sizeof *p->pts))
        return BRS_E_NOMEM;
    p->last_bucket[j] = bucket;
    p->last_idx[j] = p->n;
    p->pts[p->n++] = (struct brs_an_plot_pt){ts, j, v};
    return BRS_OK;
}

void brs__an_plots_free(brs_an_plots *p)
{
    free(p->pts);
    memset(p, 0, sizeof *p);
}

int brs__an_plot(brs_an_recorder *r, int64_t ts, const char *name, double v)
{
    if (!name || !isfinite(v))
        return brs__an_fail(r, BRS_E_INVAL, "analytics: plot '%s': the value must be a finite number",
                    name ? name : "");
    int rc = brs__an_plots_add(&r->plots, r->opt.sample_every_ns, ts, name, v);
    if (rc == BRS_E_INVAL)
        return brs__an_fail(r, rc,
                    "analytics: plot '%s': a name is 1-31 bytes without commas or quotes, at "
                    "most %d names",
                    name, BRS_AN_MAX_PLOTS);
    if (rc)
        return brs__an_fail(r, rc, "analytics: out of memory");
    return BRS_OK;
}
