/* spread_strategy.c: a template strategy. It reads one parameter at open,
 * watches top of book, and buys one lot at the ask the first time the spread
 * is at most max_spread ticks. */
#include <stdio.h>

#include <bourse/bourse.h>

typedef struct spread_strategy {
    const brs_host *host; /* valid until xClose */
    brs_ctx *ctx;
    int64_t max_spread;
    int bought;
} spread_strategy;

static const brs_param_def ss_params[] = {
    {.name = "max_spread", .type = BRS_PARAM_INT, .def = 1, .min = 0, .max = 1e9,
     .help = "buy when the spread is at most this many ticks"},
};

static int ss_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    spread_strategy *s = self;
    s->host = host;
    s->ctx = ctx;
    s->max_spread = (int64_t)ss_params[0].def;
    int rc = host->xParamInt(ctx, "max_spread", &s->max_spread);
    if (rc != BRS_OK && rc != BRS_E_NOTFOUND) { /* NOTFOUND: keep the default */
        snprintf(err->msg, sizeof err->msg, "max_spread: %s", brs_strerror(rc));
        return rc;
    }
    return BRS_OK;
}

static void ss_close(void *self)
{
    (void)self;
}

static int ss_on_top(void *self, const brs_top *top)
{
    spread_strategy *s = self;
    if (s->bought || top->bid_qty <= 0 || top->ask_qty <= 0)
        return BRS_OK;
    if (top->ask_price - top->bid_price > s->max_spread)
        return BRS_OK;
    brs_order o = {.instrument = top->instrument, .price = top->ask_price, .qty = 1,
                   .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_IOC};
    uint64_t id;
    s->bought = 1;
    int rc = s->host->xSubmit(s->ctx, &o, &id);
    if (rc != BRS_OK)
        s->host->xLog(s->ctx, BRS_LOG_WARN, "order refused");
    return BRS_OK; /* a refused order is not a reason to stop */
}

static int ss_on_order(void *self, const brs_order_event *ev)
{
    spread_strategy *s = self;
    if (ev->kind == BRS_OEV_FILL)
        s->host->xLog(s->ctx, BRS_LOG_INFO, "filled");
    return BRS_OK;
}

static const brs_strategy_vtable ss_vtable = {
    .size = sizeof(brs_strategy_vtable),
    .subscriptions = BRS_SUB_TOP,
    .params = ss_params,
    .n_params = 1,
    .xOpen = ss_open,
    .xClose = ss_close,
    .xOnTop = ss_on_top,
    .xOnOrder = ss_on_order,
};

BRS_PLUGIN(.kind = BRS_KIND_STRATEGY, .name = "spread_strategy", .version = "1.0.0",
           .description = "template strategy: buys one lot when the spread is tight",
           .instance_size = sizeof(spread_strategy), .vtable = &ss_vtable)
