/* fmt.c: one output style for the figures every command prints (backtest,
 * sweep, report): returns, volatility, drawdown and rates as percents with two
 * decimals, ratios with four, currency with two, and "-" for a value that does
 * not exist (NaN: a Sharpe ratio of a flat equity curve). Call these rather
 * than printf so the commands cannot drift apart. */
#include "core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Metrics that are fractions of something, shown as percents. */
static const char *const percent_metrics[] = {
    "total_return", "cagr", "ann_volatility", "ann_return", "max_drawdown", "win_rate",
    "exposure", "risk_free_rate", "maker_share", "fill_rate", NULL};
static const char *const currency_metrics[] = {
    "net_pnl", "fees_paid", "start_equity", "end_equity", "gross_pnl", "avg_trade",
    "avg_win", "avg_loss", "spread_captured", NULL};

static const char *const count_metrics[] = {
    "n_trades", "n_fills", "n_orders", "n_daily_returns", "parent_orders", "parents_rejected", NULL};

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(name, *list))
            return 1;
    return 0;
}

int brs__fmt_kind(const char *metric)
{
    if (in_list(metric, percent_metrics))
        return BRS_FMT_PERCENT;
    if (in_list(metric, currency_metrics))
        return BRS_FMT_CURRENCY;
    if (in_list(metric, count_metrics) || !strncmp(metric, "filled_qty_", 11))
        return BRS_FMT_COUNT;
    return BRS_FMT_RATIO;
}

void brs__fmt_value(char *buf, size_t len, double v, int kind)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "%s", BRS_FMT_MISSING);
        return;
    }
    switch (kind) {
    case BRS_FMT_PERCENT: snprintf(buf, len, "%.2f%%", v * 100.0); break;
    case BRS_FMT_CURRENCY: snprintf(buf, len, "%.2f", v); break;
    case BRS_FMT_COUNT: snprintf(buf, len, "%.0f", v); break;
    default: snprintf(buf, len, "%.4f", v); break;
    }
    if (!strcmp(buf, "-0.00%") || !strcmp(buf, "-0.00") || !strcmp(buf, "-0.0000"))
        memmove(buf, buf + 1, strlen(buf)); /* no negative zero */
}

void brs__fmt_metric(char *buf, size_t len, const char *metric, double v)
{
    brs__fmt_value(buf, len, v, brs__fmt_kind(metric));
}
