/* sig_momentum.c: a vectorized signal strategy, the C example of the signal
 * backtest's array interface: at start it reads every bar's close (as a
 * column through xBarColumns, ABI 1.2; through xBars' records on an older
 * host), computes the target for each bar from that bar and the ones before
 * it only (long when the close is above the close `lookback` bars earlier,
 * else short or flat), and hands them over a chunk at a time (xSetTargetsAt,
 * ABI 1.3; the whole array through xSetTargets on an older host). The
 * engine executes target[t] at bar t+1's open, so computing from the full
 * array is no look-ahead. */
#include <stdlib.h>

#include <bourse/bourse.h>

typedef struct sig_momentum {
    const brs_host *host;
    brs_ctx *ctx;
} sig_momentum;

static const brs_param_def params[] = {
    {.name = "lookback", .type = BRS_PARAM_INT, .def = 20, .min = 1, .max = 100000,
     .help = "bars between the two closes compared"},
    {.name = "allow_short", .type = BRS_PARAM_BOOL, .def = 1, .min = 1, .max = 0,
     .help = "short (-1) instead of flat when the close is below"},
};

static int sm_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    (void)err;
    sig_momentum *s = self;
    s->host = host;
    s->ctx = ctx;
    return BRS_OK;
}

static void sm_close(void *self) { (void)self; }

static int sm_start(void *self)
{
    sig_momentum *s = self;
    const brs_host *h = s->host;
    if (!BRS_HOST_HAS(h, xBars) || !BRS_HOST_HAS(h, xSetTargets))
        return BRS_E_UNSUPPORTED; /* an older host, or not a signal backtest */
    int64_t lookback = 20, allow_short = 1;
    h->xParamInt(s->ctx, "lookback", &lookback);
    h->xParamInt(s->ctx, "allow_short", &allow_short);
    double down = allow_short ? -1.0 : 0.0;
    for (uint32_t in = 0; in < h->xInstrumentCount(s->ctx); in++) {
        /* the closes: as a column where the host has them (ABI 1.2: no
         * records are made), else out of xBars' records */
        const int64_t *close = NULL;
        const brs_market_event *b = NULL;
        uint64_t n;
        brs_bar_columns cols = {.size = sizeof cols, .want = BRS_BARCOL_CLOSE};
        int rc;
        if (BRS_HOST_HAS(h, xBarColumns) && (rc = h->xBarColumns(s->ctx, in, &cols)) != BRS_E_UNSUPPORTED) {
            if (rc < 0)
                return rc;
            close = cols.close;
            n = cols.n;
        } else if ((rc = h->xBars(s->ctx, in, &b, &n)) < 0) {
            return rc;
        }
        uint64_t lb = (uint64_t)lookback;
        if (close && BRS_HOST_HAS(h, xSetTargetsAt)) {
            /* ABI 1.3: a chunk at a time in one small buffer, reused (the
             * whole array would be 8 bytes a bar of fresh memory) */
            enum { CHUNK = 65536 };
            double *t = malloc(CHUNK * sizeof *t);
            if (!t)
                return BRS_E_NOMEM;
            rc = BRS_OK;
            for (uint64_t at = 0; at < n && rc >= 0; at += CHUNK) {
                uint64_t k = n - at < CHUNK ? n - at : CHUNK;
                uint64_t j = 0; /* bars before lookback: flat */
                for (; j < k && at + j < lb; j++)
                    t[j] = 0.0;
                if (j < k) { /* the rest, with no test against lb: a compare and a select a bar */
                    const int64_t *c = close + at + j, *p = close + at + j - lb;
                    double *o = t + j;
                    for (uint64_t q = 0; q < k - j; q++)
                        o[q] = c[q] > p[q] ? 1.0 : down;
                }
                rc = h->xSetTargetsAt(s->ctx, in, at, t, k);
            }
            free(t);
            if (rc < 0)
                return rc;
            continue;
        }
        double *t = malloc((n ? n : 1) * sizeof *t);
        if (!t)
            return BRS_E_NOMEM;
        if (close)
            for (uint64_t i = 0; i < n; i++)
                t[i] = i < lb ? 0.0 : close[i] > close[i - lb] ? 1.0 : down;
        else
            for (uint64_t i = 0; i < n; i++)
                t[i] = i < lb ? 0.0 : b[i].bar.close > b[i - lb].bar.close ? 1.0 : down;
        rc = h->xSetTargets(s->ctx, in, t, n);
        free(t);
        if (rc < 0)
            return rc;
    }
    return BRS_OK;
}

static int sm_stop(void *self) { (void)self; return BRS_OK; }

static const brs_strategy_vtable vt = {
    .size = sizeof(brs_strategy_vtable),
    .subscriptions = 0, /* no per-bar callback: the array does it all */
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .xOpen = sm_open,
    .xClose = sm_close,
    .xStart = sm_start,
    .xStop = sm_stop,
};

BRS_PLUGIN(.kind = BRS_KIND_STRATEGY, .name = "sig_momentum", .version = "1.0.0",
           .description = "vectorized momentum targets for signal backtests (xBars/xSetTargets)",
           .instance_size = sizeof(sig_momentum), .vtable = &vt)
