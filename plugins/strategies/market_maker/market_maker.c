/* market_maker.c: the flagship strategy. Quotes one instrument around the mid
 * (or the microprice) with an Avellaneda-Stoikov reservation price and spread:
 *   r = s - q * gamma * sigma^2 * tau
 *   half spread = (gamma * sigma^2 * tau + (2 / gamma) * ln(1 + gamma / k)) / 2
 * (gamma = 0: r = s, half spread 1/k), with sigma^2 an EWMA of squared mid
 * changes per second, in ticks. Inventory: past inventory_limit it quotes only
 * the side that reduces the position; at hard_stop it cancels everything and
 * stops quoting. It requotes only when a desired price moves by at least
 * requote_ticks, so a resting quote keeps its queue place. Built on api/ only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <bourse/bourse.h>

static const brs_param_def mm_params[] = {
    {"gamma", BRS_PARAM_DOUBLE, 0, 0.1, 0, 100, NULL, "risk aversion (0: no inventory control)"},
    {"k", BRS_PARAM_DOUBLE, 0, 1.5, 1e-6, 1e6, NULL, "order-arrival intensity decay, per tick"},
    {"tau", BRS_PARAM_DOUBLE, 0, 1.0, 0, 1e6, NULL, "horizon in seconds for the inventory term"},
    {"sigma_halflife", BRS_PARAM_DOUBLE, 0, 30.0, 1e-3, 1e6, NULL,
     "EWMA half-life of the volatility estimate, seconds"},
    {"sigma_init", BRS_PARAM_DOUBLE, 0, 1.0, 0, 1e9, NULL, "volatility before any data, ticks/sqrt(s)"},
    {"order_qty", BRS_PARAM_INT, 0, 1, 1, 1e12, NULL, "quote size in lots"},
    {"inventory_limit", BRS_PARAM_INT, 0, 10, 1, 1e12, NULL,
     "beyond this |position| only the reducing side is quoted"},
    {"hard_stop", BRS_PARAM_INT, 0, 0, 0, 1e12, NULL,
     "|position| at which everything is cancelled and quoting stops (0: 2 x inventory_limit)"},
    {"requote_ticks", BRS_PARAM_INT, 0, 1, 1, 1e6, NULL, "move a quote only if it changes this much"},
    {"microprice", BRS_PARAM_BOOL, 0, 0, 0, 1, NULL, "quote around the microprice instead of the mid"},
    {"instrument", BRS_PARAM_STRING, 0, 0, 1, 0, "", "symbol to quote (default: instrument 0)"},
};

typedef struct mm {
    const brs_host *host;
    brs_ctx *ctx;
    uint32_t inst;
    int64_t tick;
    double gamma, k, tau, halflife, sigma2;
    int64_t qty, limit, stop, requote;
    int micro;
    int stopped;
    uint64_t bid_id, ask_id;
    int64_t bid_px, ask_px;
    double last_mid;
    int64_t last_ts;
} mm;

static int get_d(mm *s, const char *n, double def, double *out)
{
    int rc = s->host->xParamDouble(s->ctx, n, out);
    if (rc == BRS_E_NOTFOUND) {
        *out = def;
        return BRS_OK;
    }
    return rc;
}

static int get_i(mm *s, const char *n, int64_t def, int64_t *out)
{
    int rc = s->host->xParamInt(s->ctx, n, out);
    if (rc == BRS_E_NOTFOUND) {
        *out = def;
        return BRS_OK;
    }
    if (rc == BRS_E_INVAL) { /* a host may hold booleans and whole numbers as doubles */
        double d;
        if (s->host->xParamDouble(s->ctx, n, &d) == BRS_OK && d == (double)(int64_t)d) {
            *out = (int64_t)d;
            return BRS_OK;
        }
    }
    return rc;
}

static int fail(brs_error *err, const char *what)
{
    if (err) {
        err->code = BRS_E_INVAL;
        snprintf(err->msg, sizeof err->msg, "market_maker: %s", what);
    }
    return BRS_E_INVAL;
}

static int mm_load(mm *s, brs_error *err)
{
    double sigma0;
    int64_t micro;
    if (get_d(s, "gamma", 0.1, &s->gamma) || get_d(s, "k", 1.5, &s->k) ||
        get_d(s, "tau", 1.0, &s->tau) || get_d(s, "sigma_halflife", 30.0, &s->halflife) ||
        get_d(s, "sigma_init", 1.0, &sigma0) || get_i(s, "order_qty", 1, &s->qty) ||
        get_i(s, "inventory_limit", 10, &s->limit) || get_i(s, "hard_stop", 0, &s->stop) ||
        get_i(s, "requote_ticks", 1, &s->requote) || get_i(s, "microprice", 0, &micro))
        return fail(err, "a parameter has the wrong type");
    if (!(s->gamma >= 0) || !(s->k > 0) || !(s->tau >= 0) || !(s->halflife > 0) || !(sigma0 >= 0) ||
        s->qty < 1 || s->limit < 1 || s->stop < 0 || s->requote < 1)
        return fail(err, "a parameter is out of its bounds (see the declared parameters)");
    if (!s->stop)
        s->stop = 2 * s->limit;
    if (s->sigma2 == 0)
        s->sigma2 = sigma0 * sigma0;
    s->micro = micro != 0;
    return BRS_OK;
}

static int mm_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    mm *s = self;
    s->host = host;
    s->ctx = ctx;
    int rc = mm_load(s, err);
    if (rc)
        return rc;
    const char *sym = NULL;
    if (host->xParamString(ctx, "instrument", &sym) == BRS_OK && sym && *sym) {
        if (host->xInstrumentFind(ctx, sym, &s->inst) != BRS_OK)
            return fail(err, "instrument not found");
    }
    brs_instrument in;
    s->tick = host->xInstrument(ctx, s->inst, &in) == BRS_OK && in.tick_size > 0 ? in.tick_size : 1;
    return BRS_OK;
}

static void mm_close(void *self)
{
    (void)self;
}

static int mm_start(void *self)
{
    (void)self;
    return BRS_OK;
}

static int mm_stop(void *self)
{
    mm *s = self;
    s->stopped = 1;
    s->host->xCancelAll(s->ctx, s->inst);
    return BRS_OK;
}

static int mm_reload(void *self)
{
    return mm_load(self, NULL);
}

/* Place or move one side. px 0: that side should not quote. */
static void quote(mm *s, int side, int64_t px)
{
    uint64_t *id = side == BRS_BUY ? &s->bid_id : &s->ask_id;
    int64_t *cur = side == BRS_BUY ? &s->bid_px : &s->ask_px;
    if (!px) {
        if (*id) {
            s->host->xCancel(s->ctx, *id);
            *id = 0;
        }
        return;
    }
    if (*id) {
        int64_t moved = (px > *cur ? px - *cur : *cur - px) / s->tick;
        if (moved < s->requote)
            return; /* keep the queue place */
        if (s->host->xReplace(s->ctx, *id, px, s->qty) == BRS_OK)
            *cur = px;
        return;
    }
    brs_order o = {0};
    o.instrument = s->inst;
    o.price = px;
    o.qty = s->qty;
    o.side = (uint8_t)side;
    o.type = BRS_LIMIT;
    o.tif = BRS_GTC;
    o.flags = BRS_OF_POST_ONLY;
    uint64_t nid = 0;
    if (s->host->xSubmit(s->ctx, &o, &nid) == BRS_OK) {
        *id = nid;
        *cur = px;
    }
}

static int mm_on_top(void *self, const brs_top *t)
{
    mm *s = self;
    if (s->stopped || t->instrument != s->inst || !t->bid_qty || !t->ask_qty ||
        t->bid_price >= t->ask_price)
        return BRS_OK;
    double tick = (double)s->tick;
    double mid = 0.5 * (double)(t->bid_price + t->ask_price) / tick;
    /* volatility: EWMA of squared mid moves per second, in ticks */
    if (s->last_ts && t->ts > s->last_ts) {
        double dt = (double)(t->ts - s->last_ts) * 1e-9;
        double d = mid - s->last_mid;
        double a = 1.0 - exp2(-dt / s->halflife);
        s->sigma2 += a * (d * d / (dt > 1e-3 ? dt : 1e-3) - s->sigma2);
    }
    s->last_mid = mid;
    s->last_ts = t->ts;
    double ref = mid;
    if (s->micro) /* microprice: the touch weighted by the opposite side's size */
        ref = ((double)t->bid_price * (double)t->ask_qty + (double)t->ask_price * (double)t->bid_qty) /
              ((double)(t->bid_qty + t->ask_qty) * tick);
    brs_position pos = {0};
    s->host->xPosition(s->ctx, s->inst, &pos);
    int64_t q = pos.qty / s->qty; /* inventory in quote units */
    if (pos.qty >= s->stop || -pos.qty >= s->stop) {
        s->stopped = 1; /* hard stop */
        s->host->xCancelAll(s->ctx, s->inst);
        s->bid_id = s->ask_id = 0;
        s->host->xLog(s->ctx, BRS_LOG_WARN, "market_maker: hard stop on inventory");
        return BRS_OK;
    }
    double r, half;
    if (s->gamma > 0) {
        r = ref - (double)q * s->gamma * s->sigma2 * s->tau;
        half = 0.5 * (s->gamma * s->sigma2 * s->tau + (2.0 / s->gamma) * log1p(s->gamma / s->k));
    } else {
        r = ref;
        half = 1.0 / s->k;
    }
    if (half < 0.5)
        half = 0.5;
    int64_t bid = (int64_t)floor(r - half) * s->tick, ask = (int64_t)ceil(r + half) * s->tick;
    /* never cross: at most one tick inside the opposite touch */
    if (bid >= t->ask_price)
        bid = t->ask_price - s->tick;
    if (ask <= t->bid_price)
        ask = t->bid_price + s->tick;
    if (bid >= ask)
        ask = bid + s->tick;
    quote(s, BRS_BUY, pos.qty >= s->limit || bid <= 0 ? 0 : bid);
    quote(s, BRS_SELL, -pos.qty >= s->limit ? 0 : ask);
    return BRS_OK;
}

static int mm_on_order(void *self, const brs_order_event *ev)
{
    mm *s = self;
    int done = ev->kind == BRS_OEV_CANCELLED || ev->kind == BRS_OEV_REJECTED ||
               (ev->kind == BRS_OEV_FILL && ev->leaves == 0);
    if (!done)
        return BRS_OK;
    if (ev->order_id == s->bid_id)
        s->bid_id = 0;
    if (ev->order_id == s->ask_id)
        s->ask_id = 0;
    return BRS_OK;
}

static const brs_strategy_vtable mm_vtable = {
    .size = sizeof(brs_strategy_vtable),
    .subscriptions = BRS_SUB_TOP,
    .params = mm_params,
    .n_params = sizeof mm_params / sizeof mm_params[0],
    .xOpen = mm_open,
    .xClose = mm_close,
    .xStart = mm_start,
    .xStop = mm_stop,
    .xOnTop = mm_on_top,
    .xOnOrder = mm_on_order,
    .xReload = mm_reload,
};

BRS_PLUGIN(.kind = BRS_KIND_STRATEGY, .name = "market_maker", .version = "1.0.0",
           .description = "Avellaneda-Stoikov market maker with inventory limit, skew and hard stop",
           .instance_size = sizeof(mm), .vtable = &mm_vtable)
