/* metrics.c: the run's metrics from what the recorder holds. Conventions
 * (daily resampling, sample standard deviation, Sortino's downside deviation,
 * drawdown duration, undefined cases) are written out in docs/analytics.md. */
#include "an_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define NS_PER_DAY 86400e9
#define NS_PER_YEAR (365.25 * 86400e9)
/* CAGR (and so Calmar) needs at least 30 calendar days of samples. */
#define BRS__AN_CAGR_MIN_YEARS (30.0 / 365.25)
/* Intraday return periods (s) for a run too short for 2 daily returns: the
 * longest that still gives INTRADAY_MIN_RETURNS returns, else the shortest. */
static const int64_t intraday_periods_s[] = {3600, 300, 60, 10, 1};
#define INTRADAY_MIN_RETURNS 30
/* A daily-return standard deviation below this is rounding noise (a constant or
 * constantly growing curve), not risk: the ratios that divide by it are null. */
#define ZERO_VOL 1e-12

/* summary.json order; see brs_an_metric_desc */
#define M(name, is_int, book, better) {#name, offsetof(brs_an_metrics, name), is_int, book, better}
const brs_an_metric_desc brs__an_metric_descs[] = {
    M(total_return, 0, 0, 1),
    M(cagr, 0, 0, 1),
    M(ann_volatility, 0, 0, -1),
    M(sharpe, 0, 0, 1),
    M(sortino, 0, 0, 1),
    M(max_drawdown, 0, 0, -1),
    M(max_drawdown_days, 0, 0, -1),
    M(calmar, 0, 0, 1),
    M(win_rate, 0, 0, 1),
    M(profit_factor, 0, 0, 1),
    M(expectancy, 0, 0, 1),
    M(n_trades, 1, 0, 0),
    M(turnover, 0, 0, 0),
    M(exposure, 0, 0, 0),
    M(periods_per_year, 0, 0, 0),
    M(risk_free_rate, 0, 0, 0),
    M(returns_period_s, 0, 0, 0),
    M(return_periods_per_year, 0, 0, 0),
    M(avg_holding_seconds, 0, 0, 0),
    M(start_equity, 0, 0, 0),
    M(end_equity, 0, 0, 1),
    M(net_pnl, 0, 0, 1),
    M(years, 0, 0, 0),
    M(gross_profit, 0, 0, 1),
    M(gross_loss, 0, 0, -1),
    M(avg_win, 0, 0, 1),
    M(avg_loss, 0, 0, 1),
    M(largest_win, 0, 0, 1),
    M(largest_loss, 0, 0, 1),
    M(n_winners, 1, 0, 0),
    M(n_losers, 1, 0, 0),
    M(traded_notional, 0, 0, 0),
    M(fees_paid, 0, 0, -1),
    M(inventory_max_abs, 0, 0, 0),
    M(inventory_mean_abs, 0, 0, 0),
    M(n_orders, 1, 0, 0),
    M(n_fills, 1, 0, 0),
    M(n_samples, 1, 0, 0),
    M(n_daily_returns, 1, 0, 0),
    M(skew, 0, 0, 0),
    M(kurtosis, 0, 0, 0),
    M(var_95, 0, 0, 1),
    M(cvar_95, 0, 0, 1),
    M(tail_ratio, 0, 0, 1),
    M(ulcer_index, 0, 0, -1),
    M(recovery_factor, 0, 0, 1),
    M(payoff_ratio, 0, 0, 1),
    M(best_day, 0, 0, 1),
    M(worst_day, 0, 0, 1),
    M(best_month, 0, 0, 1),
    M(worst_month, 0, 0, 1),
    M(best_year, 0, 0, 1),
    M(worst_year, 0, 0, 1),
    M(prob_sharpe, 0, 0, 1),
    M(benchmark_return, 0, 0, 0),
    M(alpha, 0, 0, 1),
    M(beta, 0, 0, 0),
    M(fill_ratio, 0, 1, 1),
    M(maker_share, 0, 1, 0),
    M(taker_share, 0, 1, 0),
    M(n_maker_fills, 1, 1, 0),
    M(n_taker_fills, 1, 1, 0),
    M(maker_fees, 0, 1, -1),
    M(taker_fees, 0, 1, -1),
    M(quoted_two_sided, 0, 1, 0),
    M(quoted_spread_bps, 0, 1, 0),
};
#undef M
const size_t brs__an_n_metric_descs = sizeof brs__an_metric_descs / sizeof brs__an_metric_descs[0];

int brs__an_metric_get(const brs_an_metrics *m, const char *name, double *out,
                       const brs_an_metric_desc **desc)
{
    for (size_t i = 0; i < brs__an_n_metric_descs; i++) {
        const brs_an_metric_desc *d = &brs__an_metric_descs[i];
        if (strcmp(d->name, name) != 0)
            continue;
        const char *base = (const char *)m + d->offset;
        if (d->is_int) {
            int64_t v;
            memcpy(&v, base, sizeof v);
            *out = (double)v;
        } else {
            memcpy(out, base, sizeof *out);
        }
        if (desc)
            *desc = d;
        return BRS_OK;
    }
    return BRS_E_NOTFOUND;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void minmax(const double *v, size_t n, double *lo, double *hi)
{
    *lo = *hi = NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        if (!(v[i] >= *lo))
            *lo = v[i];
        if (!(v[i] <= *hi))
            *hi = v[i];
    }
}

/* The figures of the daily return distribution (docs/analytics.md, "Tear-sheet
 * figures"): moments as pandas computes them, historical VaR/CVaR, tail ratio,
 * the probabilistic Sharpe ratio, alpha and beta against the benchmark. */
static int distribution(const brs_an_recorder *r, const brs_an_periods *d, brs_an_metrics *m)
{
    size_t n = d->n ? d->n - 1 : 0;
    double ppy = r->opt.periods_per_year, rf = r->opt.risk_free_rate / ppy;
    const double *x = d->ret;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return BRS_OK; /* a return after an equity of 0: nothing here is defined */
    if (n >= 1)
        minmax(x, n, &m->worst_day, &m->best_day);
    if (n >= 2) {
        double mean = 0;
        for (size_t i = 0; i < n; i++)
            mean += x[i];
        mean /= (double)n;
        double m2 = 0, m3 = 0, m4 = 0;
        for (size_t i = 0; i < n; i++) {
            double e = x[i] - mean;
            m2 += e * e;
            m3 += e * e * e;
            m4 += e * e * e * e;
        }
        double sd = sqrt(m2 / (double)(n - 1));
        double dn = (double)n;
        m2 /= dn;
        m3 /= dn;
        m4 /= dn;
        if (sd >= 1e-12) {
            if (n >= 3)
                m->skew = sqrt(dn * (dn - 1)) / (dn - 2) * m3 / pow(m2, 1.5);
            if (n >= 4)
                /* sum e^4 / (sum e^2)^2 = m4 / (m2^2 n) */
                m->kurtosis = (dn + 1) * dn * (dn - 1) / ((dn - 2) * (dn - 3)) * m4 /
                                  (m2 * m2 * dn) -
                              3 * (dn - 1) * (dn - 1) / ((dn - 2) * (dn - 3));
            /* probabilistic Sharpe against 0: per-period SR, population skew and
             * (non-excess) kurtosis, Bailey and Lopez de Prado (2012) */
            double sr = (mean - rf) / sd, g3 = m3 / pow(m2, 1.5), g4 = m4 / (m2 * m2);
            double den = 1 - g3 * sr + (g4 - 1) / 4 * sr * sr;
            if (den > 0)
                m->prob_sharpe = 0.5 * erfc(-(sr * sqrt(dn - 1) / sqrt(den)) / sqrt(2.0));
        }
        double *sx = malloc(n * sizeof *sx);
        if (!sx)
            return BRS_E_NOMEM;
        memcpy(sx, x, n * sizeof *sx);
        qsort(sx, n, sizeof *sx, cmp_double);
        double q05 = brs__an_quantile(sx, n, 0.05), q95 = brs__an_quantile(sx, n, 0.95);
        m->var_95 = q05;
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < n && sx[i] <= q05; i++, cnt++)
            sum += sx[i];
        m->cvar_95 = cnt ? sum / (double)cnt : NAN;
        if (q05 != 0)
            m->tail_ratio = fabs(q95) / fabs(q05);
        free(sx);
    }
    /* against the benchmark: the days where both returns are known */
    double sb = 0, sr_ = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(d->bret[i])) {
            sb += d->bret[i];
            sr_ += x[i];
            k++;
        }
    if (k >= 2) {
        double mb = sb / (double)k, mr = sr_ / (double)k, cov = 0, var = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(d->bret[i])) {
                cov += (x[i] - mr) * (d->bret[i] - mb);
                var += (d->bret[i] - mb) * (d->bret[i] - mb);
            }
        cov /= (double)(k - 1);
        var /= (double)(k - 1);
        if (sqrt(var) >= 1e-12) {
            m->beta = cov / var;
            m->alpha = (mr - rf - m->beta * (mb - rf)) * ppy;
        }
    }
    return BRS_OK;
}

/* Best and worst calendar month and year; Ulcer index over the daily points. */
static int calendar(const brs_an_series *s, const brs_an_periods *d, brs_an_metrics *m)
{
    brs_an_periods p;
    for (int kind = BRS_AN_MONTH; kind <= BRS_AN_YEAR; kind++) {
        if (brs__an_periods(s, kind, &p))
            return BRS_E_NOMEM;
        if (p.n >= 2) {
            if (kind == BRS_AN_MONTH)
                minmax(p.ret, p.n - 1, &m->worst_month, &m->best_month);
            else
                minmax(p.ret, p.n - 1, &m->worst_year, &m->best_year);
        }
        brs__an_periods_free(&p);
    }
    if (d->n >= 1) {
        double peak = -INFINITY, ss = 0;
        int ok = 1;
        for (size_t i = 0; i < d->n; i++) {
            if (d->eq[i] > peak)
                peak = d->eq[i];
            ok &= peak > 0;
            double dd = peak > 0 ? d->eq[i] / peak - 1 : 0;
            ss += dd * dd;
        }
        if (ok)
            m->ulcer_index = sqrt(ss / (double)d->n);
    }
    return BRS_OK;
}

int brs__an_compute(const brs_an_recorder *r, brs_an_metrics *m, brs_error *err)
{
    return brs__an_compute_ex(r, m, 0, err);
}

int brs__an_compute_ex(const brs_an_recorder *r, brs_an_metrics *m, int headline, brs_error *err)
{
    const brs_an_series *s = &r->series;
    memset(m, 0, sizeof *m);
    double nan = NAN;
    m->periods_per_year = r->opt.periods_per_year;
    m->returns_period_s = 86400;
    m->return_periods_per_year = r->opt.periods_per_year;
    m->risk_free_rate = r->opt.risk_free_rate;
    m->total_return = m->cagr = m->ann_volatility = m->sharpe = m->sortino = nan;
    m->max_drawdown = m->max_drawdown_days = m->calmar = nan;
    m->win_rate = m->profit_factor = m->expectancy = m->turnover = m->exposure = nan;
    m->avg_holding_seconds = m->start_equity = m->end_equity = m->net_pnl = m->years = nan;
    m->avg_win = m->avg_loss = m->largest_win = m->largest_loss = nan;
    m->fill_ratio = m->maker_share = m->taker_share = m->inventory_mean_abs = nan;
    m->quoted_two_sided = m->quoted_spread_bps = nan;
    m->skew = m->kurtosis = m->var_95 = m->cvar_95 = m->tail_ratio = m->ulcer_index = nan;
    m->recovery_factor = m->payoff_ratio = m->best_day = m->worst_day = nan;
    m->best_month = m->worst_month = m->best_year = m->worst_year = nan;
    m->prob_sharpe = m->benchmark_return = m->alpha = m->beta = nan;
    m->n_samples = (int64_t)s->n;
    m->n_orders = (int64_t)r->n_orders;
    m->n_fills = (int64_t)r->n_fills;
    m->traded_notional = r->notional;
    m->fees_paid = r->fees;
    m->maker_fees = r->maker_fees;
    m->taker_fees = r->taker_fees;
    m->n_maker_fills = r->maker_n;
    m->n_taker_fills = r->taker_n;
    m->inventory_max_abs = (double)r->gross_max_abs;
    m->start_ts = r->have_time ? r->t_first : 0;
    m->end_ts = r->have_time ? r->t_last : 0;

    /* ---- equity curve ---- */
    if (s->n > 0) {
        double e0 = s->equity[0], e1 = s->equity[s->n - 1];
        m->start_equity = e0;
        m->end_equity = e1;
        m->net_pnl = e1 - e0;
        if (e0 > 0)
            m->total_return = e1 / e0 - 1.0;
        m->years = (double)(s->ts[s->n - 1] - s->ts[0]) / NS_PER_YEAR;
        /* Annualizing less than a month of samples says nothing about a year
         * (18 seconds of book replay would print a CAGR of -99%): null below it. */
        if (e0 > 0 && m->years >= BRS__AN_CAGR_MIN_YEARS)
            m->cagr = e1 > 0 ? pow(e1 / e0, 1.0 / m->years) - 1.0 : -1.0;
        if (!isfinite(m->cagr)) /* a very short run extrapolated past double range */
            m->cagr = nan;

        /* drawdown: depth from the running peak; duration from the time the peak
         * was set to the first sample back at or above it (or the last sample) */
        double peak = e0, mdd = 0;
        int64_t peak_ts = s->ts[0], longest = 0;
        int in_dd = 0;
        for (size_t i = 0; i < s->n; i++) {
            double e = s->equity[i];
            if (e >= peak) {
                if (in_dd && s->ts[i] - peak_ts > longest)
                    longest = s->ts[i] - peak_ts;
                in_dd = 0;
                peak = e;
                peak_ts = s->ts[i];
            } else {
                in_dd = 1;
                if (peak > 0 && (peak - e) / peak > mdd)
                    mdd = (peak - e) / peak;
            }
        }
        if (in_dd && s->ts[s->n - 1] - peak_ts > longest)
            longest = s->ts[s->n - 1] - peak_ts;
        m->max_drawdown = mdd;
        m->max_drawdown_days = (double)longest / NS_PER_DAY;
        if (mdd > 0 && isfinite(m->cagr))
            m->calmar = m->cagr / mdd;

        double mean_eq = 0;
        for (size_t i = 0; i < s->n; i++)
            mean_eq += s->equity[i];
        mean_eq /= (double)s->n;
        if (mean_eq > 0)
            m->turnover = r->notional / mean_eq;

        /* daily returns, Sharpe, Sortino */
        brs_an_periods d;
        if (brs__an_periods(s, BRS_AN_DAY, &d))
            return brs__err(err, BRS_E_NOMEM, "analytics: out of memory");
        const double *ret = d.ret;
        size_t nr = d.n ? d.n - 1 : 0;
        m->n_daily_returns = (int64_t)nr;
        m->returns_period_s = 86400;
        m->return_periods_per_year = r->opt.periods_per_year;
        /* Shorter than two days: the same statistics over intraday periods,
         * annualised by the periods in a year of trading days (docs/analytics.md,
         * "Runs shorter than two days"). Tear-sheet figures stay daily. */
        brs_an_periods q = {0};
        if (nr < 2 && s->n >= 2) {
            int64_t span = s->ts[s->n - 1] - s->ts[0], p = 1;
            for (size_t k = 0; k < sizeof intraday_periods_s / sizeof *intraday_periods_s; k++)
                if (span / (intraday_periods_s[k] * 1000000000LL) >= INTRADAY_MIN_RETURNS) {
                    p = intraday_periods_s[k];
                    break;
                }
            if (brs__an_periods_every(s, p * 1000000000LL, &q)) {
                brs__an_periods_free(&d);
                return brs__err(err, BRS_E_NOMEM, "analytics: out of memory");
            }
            ret = q.ret;
            nr = q.n ? q.n - 1 : 0;
            m->returns_period_s = (double)p;
            m->return_periods_per_year = r->opt.periods_per_year * r->opt.trading_seconds_per_day / (double)p;
        }
        int finite = 1;
        for (size_t i = 0; i < nr; i++)
            finite &= isfinite(ret[i]) != 0;
        if (nr >= 2 && finite) {
            double ppy = m->return_periods_per_year, rf = r->opt.risk_free_rate / ppy;
            double mean = 0, ss = 0, down = 0;
            for (size_t i = 0; i < nr; i++)
                mean += ret[i];
            mean /= (double)nr;
            for (size_t i = 0; i < nr; i++) {
                ss += (ret[i] - mean) * (ret[i] - mean);
                double shortfall = ret[i] - rf;
                if (shortfall < 0)
                    down += shortfall * shortfall;
            }
            double sd = sqrt(ss / (double)(nr - 1));
            double dd = sqrt(down / (double)nr);
            m->ann_volatility = sd * sqrt(ppy);
            if (sd >= ZERO_VOL)
                m->sharpe = (mean - rf) / sd * sqrt(ppy);
            else
                m->ann_volatility = 0;
            if (dd >= ZERO_VOL)
                m->sortino = (mean - rf) / dd * sqrt(ppy);
        }
        brs__an_periods_free(&q);
        /* the tear-sheet figures: a sort of the daily returns and two more
         * resamplings, most of a sweep combination's analytics */
        int rc = headline ? BRS_OK : distribution(r, &d, m);
        if (!rc && !headline)
            rc = calendar(s, &d, m);
        brs__an_periods_free(&d);
        if (rc)
            return brs__err(err, BRS_E_NOMEM, "analytics: out of memory");
        if (mdd > 0 && isfinite(m->total_return))
            m->recovery_factor = m->total_return / mdd;
        if (s->has_bench && !headline) {
            double b0 = NAN, b1 = NAN;
            for (size_t i = 0; i < s->n; i++)
                if (isfinite(s->bench[i])) {
                    if (!isfinite(b0))
                        b0 = s->bench[i];
                    b1 = s->bench[i];
                }
            if (b0 > 0)
                m->benchmark_return = b1 / b0 - 1;
        }
    }

    /* ---- trades ---- */
    m->n_trades = (int64_t)r->n_trades;
    if (r->n_trades > 0) {
        double sum = 0, hold = 0;
        m->largest_win = m->largest_loss = 0;
        for (size_t i = 0; i < r->n_trades; i++) {
            const brs_an_trade *t = &r->trades[i];
            sum += t->net;
            hold += (double)(t->exit_ts - t->entry_ts);
            if (t->net > 0) {
                m->n_winners++;
                m->gross_profit += t->net;
                if (t->net > m->largest_win)
                    m->largest_win = t->net;
            } else if (t->net < 0) {
                m->n_losers++;
                m->gross_loss -= t->net;
                if (t->net < m->largest_loss)
                    m->largest_loss = t->net;
            }
        }
        double n = (double)r->n_trades;
        m->win_rate = (double)m->n_winners / n;
        m->expectancy = sum / n;
        m->avg_holding_seconds = hold / n / 1e9;
        if (m->gross_loss > 0)
            m->profit_factor = m->gross_profit / m->gross_loss;
        if (m->n_winners)
            m->avg_win = m->gross_profit / (double)m->n_winners;
        if (m->n_losers)
            m->avg_loss = -m->gross_loss / (double)m->n_losers;
        if (m->n_winners && m->n_losers)
            m->payoff_ratio = m->avg_win / -m->avg_loss;
    }

    /* ---- time in the market and inventory (exact, from the fills) ---- */
    if (r->have_time && r->t_last > r->t_first) {
        double span = (double)(r->t_last - r->t_first);
        int64_t exposed = r->exposed_ns;
        if (r->n_nonzero && r->t_last > r->exp_last_t)
            exposed += r->t_last - r->exp_last_t;
        m->exposure = (double)exposed / span;
        double integral = 0;
        for (uint32_t i = 0; i < r->k; i++) {
            const brs_an_inst_state *in = &r->inst[i];
            integral += in->abs_integral;
            if (r->t_last > in->last_t)
                integral += (double)llabs(in->pos) * (double)(r->t_last - in->last_t);
        }
        m->inventory_mean_abs = integral / span;
    }

    /* ---- book mode ---- */
    int64_t ordered = 0, filled = 0;
    for (size_t i = 0; i < r->n_orders; i++) {
        ordered += r->orders[i].qty;
        filled += r->orders[i].filled;
    }
    if (ordered > 0)
        m->fill_ratio = (double)filled / (double)ordered;
    int64_t liq = r->maker_qty + r->taker_qty;
    if (liq > 0) {
        m->maker_share = (double)r->maker_qty / (double)liq;
        m->taker_share = (double)r->taker_qty / (double)liq;
    }
    /* quoting: over the instruments where an order of ours ever rested, from
     * the run's first event to its last (docs/analytics.md) */
    int64_t quoted = 0, span = r->have_time ? r->t_last - r->t_first : 0;
    int64_t two = 0;
    double sbps = 0;
    for (uint32_t i = 0; i < r->k; i++) {
        const brs_an_inst_state *in = &r->inst[i];
        if (!in->q_first_t)
            continue;
        int64_t t2;
        double s2;
        brs__an_quote_advance(in, r->t_last, &t2, &s2);
        quoted++;
        two += t2;
        sbps += s2;
    }
    if (quoted > 0 && span > 0)
        m->quoted_two_sided = (double)two / ((double)span * (double)quoted);
    if (two > 0)
        m->quoted_spread_bps = sbps / (double)two;
    return BRS_OK;
}
