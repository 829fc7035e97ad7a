/* ma_cross.c: moving-average crossover, the C twin of strategies-lua/ma_cross.lua.
 * Long `qty` while SMA(fast) of bar closes is above SMA(slow), flat otherwise
 * (short `qty` with allow_short). Built against api/ alone; the indicators are
 * the header-only ones the Lua binding uses, so both compute the same numbers
 * and make the same trades. Like the script, it follows its position from its
 * own fills rather than asking the host on every bar. In a signal backtest it
 * states a target instead (1 long, 0 flat, -1 short: the whole sized position),
 * so the signal engine does the sizing and the next-open execution. */
#include <stdio.h>

#include <bourse/bourse.h>
#include <bourse/indicators.h>

#define MA_MAX_PERIOD 4096

struct ma_cross {
    const brs_host *host;
    brs_ctx *ctx;
    int64_t fast, slow, qty, allow_short;
    /* The order that takes the position to its target, target - position,
     * when fast > slow (aim[1]: qty) and when not (aim[0]: -qty with
     * allow_short, else 0); both 0 while an order is out, both 1 in the
     * rare cases (below), which the order's path then takes. Kept as they
     * change (ma_aim), so a bar that trades nothing reads one and tests it. */
    int64_t aim[2];
    union {
        struct {
            int warming;  /* the slow SMA is not ready yet: no signal */
            int signal;   /* a signal backtest: state targets, place no orders */
        };
        uint64_t rare;
    };
    int working;      /* an order is out: wait for it before trading again */
    int64_t position; /* signed, followed from fills */
    double fast_d, slow_d; /* the periods as doubles, exactly */
    brs_sma sma_fast, sma_slow;
    double buf_fast[MA_MAX_PERIOD];
    double buf_slow[MA_MAX_PERIOD];
};

static const brs_param_def ma_params[] = {
    {.name = "allow_short", .type = BRS_PARAM_BOOL, .def = 0, .min = 1, .max = 0,
     .help = "go short instead of flat when fast < slow"},
    {.name = "fast", .type = BRS_PARAM_INT, .def = 10, .min = 1, .max = MA_MAX_PERIOD,
     .help = "fast SMA period, in bars"},
    {.name = "qty", .type = BRS_PARAM_INT, .def = 1, .min = 1, .max = 1e12,
     .help = "position size, in lots"},
    {.name = "slow", .type = BRS_PARAM_INT, .def = 30, .min = 2, .max = MA_MAX_PERIOD,
     .help = "slow SMA period, in bars"},
};

/* aim[] from the rare cases, the position, the parameters and whether an
 * order is out. */
static void ma_aim(struct ma_cross *m)
{
    if (m->rare) {
        m->aim[0] = m->aim[1] = 1; /* not an order: to ma_act, which sees rare */
        return;
    }
    m->aim[1] = m->working ? 0 : m->qty - m->position;
    m->aim[0] = m->working ? 0 : (m->allow_short ? -m->qty : 0) - m->position;
}

static int ma_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    struct ma_cross *m = self;
    m->host = host;
    m->ctx = ctx;
    if (host->xParamInt(ctx, "fast", &m->fast) || host->xParamInt(ctx, "slow", &m->slow) ||
        host->xParamInt(ctx, "qty", &m->qty) || host->xParamInt(ctx, "allow_short", &m->allow_short)) {
        err->code = BRS_E_INVAL;
        snprintf(err->msg, sizeof err->msg, "ma_cross: cannot read its parameters");
        return BRS_E_INVAL;
    }
    if (m->fast >= m->slow) {
        err->code = BRS_E_INVAL;
        snprintf(err->msg, sizeof err->msg, "ma_cross: fast (%lld) must be below slow (%lld)",
                 (long long)m->fast, (long long)m->slow);
        return BRS_E_INVAL;
    }
    brs_sma_init(&m->sma_fast, m->buf_fast, (uint32_t)m->fast);
    brs_sma_init(&m->sma_slow, m->buf_slow, (uint32_t)m->slow);
    m->fast_d = (double)m->fast;
    m->slow_d = (double)m->slow;
    m->warming = 1;
    ma_aim(m);
    return BRS_OK;
}

static void ma_close(void *self) { (void)self; }

static int ma_start(void *self)
{
    struct ma_cross *m = self;
    brs_position pos;
    if (m->host->xPosition(m->ctx, 0, &pos) == BRS_OK)
        m->position = pos.qty;
    /* Only a signal backtest takes targets; elsewhere the host says UNSUPPORTED. */
    m->signal = BRS_HOST_HAS(m->host, xSetTarget) && m->host->xSetTarget(m->ctx, 0, 0.0) == BRS_OK;
    ma_aim(m);
    return BRS_OK;
}

/* Send the order that moves the position by delta. */
static int ma_submit(struct ma_cross *m, uint32_t instrument, int64_t delta)
{
    brs_order o = {.instrument = instrument, .type = BRS_MARKET, .tif = BRS_GTC,
                   .side = delta > 0 ? BRS_BUY : BRS_SELL, .qty = delta > 0 ? delta : -delta};
    uint64_t id;
    if (m->host->xSubmit(m->ctx, &o, &id) == BRS_OK) {
        m->working = 1;
        ma_aim(m);
    }
    return BRS_OK;
}

/* A bar whose aim[] entry is not 0 (rare: kept out of the per-bar path,
 * which then needs no stack frame): the order it names, or the rare cases:
 * until the slow SMA is ready (then never again), and every bar of a signal
 * backtest. f and s are the two SMAs' values (meaningless while warming). */
static __attribute__((noinline)) int ma_act(struct ma_cross *m, const brs_market_event *bar,
                                            double f, double s)
{
    if (m->rare) {
        /* fast < slow (ma_open), so once the slow SMA is ready the fast one is too */
        if (!brs_sma_ready(&m->sma_slow))
            return BRS_OK;
        if (m->signal)
            return m->host->xSetTarget(m->ctx, bar->instrument,
                                       f > s ? 1.0 : (m->allow_short ? -1.0 : 0.0));
        m->warming = 0;
        ma_aim(m);
    }
    int64_t delta = m->aim[f > s];
    if (delta != 0)
        return ma_submit(m, bar->instrument, delta);
    return BRS_OK;
}

static int ma_on_bar(void *self, const brs_market_event *bar)
{
    struct ma_cross *m = self;
    double close = (double)bar->bar.close;
    /* brs_sma_value of both once ready: sum / (double)period, with the
     * period's double (exact) kept rather than converted on every bar; the
     * fast one's taken before the slow update, whose store into its window
     * could alias the fast sum as far as the compiler knows (a reload) */
    brs_sma_update(&m->sma_fast, close);
    double f = m->sma_fast.sum / m->fast_d;
    brs_sma_update(&m->sma_slow, close);
    double s = m->sma_slow.sum / m->slow_d;
    if (__builtin_expect(m->aim[f > s] != 0, 0))
        return ma_act(m, bar, f, s);
    return BRS_OK;
}

static int ma_on_order(void *self, const brs_order_event *ev)
{
    struct ma_cross *m = self;
    if (ev->kind == BRS_OEV_FILL)
        m->position += ev->side == BRS_BUY ? ev->qty : -ev->qty;
    if (ev->kind == BRS_OEV_REJECTED || ev->kind == BRS_OEV_CANCELLED ||
        (ev->kind == BRS_OEV_FILL && ev->leaves == 0))
        m->working = 0;
    ma_aim(m);
    return BRS_OK;
}

static const brs_strategy_vtable ma_vtable = {
    .size = sizeof(brs_strategy_vtable),
    .subscriptions = BRS_SUB_BARS,
    .params = ma_params,
    .n_params = sizeof ma_params / sizeof ma_params[0],
    .xOpen = ma_open,
    .xClose = ma_close,
    .xStart = ma_start,
    .xOnBar = ma_on_bar,
    .xOnOrder = ma_on_order,
};

BRS_PLUGIN(.kind = BRS_KIND_STRATEGY, .name = "ma_cross", .version = "1.0.0",
           .description = "moving-average crossover on bar closes",
           .instance_size = sizeof(struct ma_cross), .vtable = &ma_vtable)
