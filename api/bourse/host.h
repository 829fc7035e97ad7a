/* host.h: the services the host hands to every plugin.
 * Plugins never link against host symbols: they call through this const table,
 * which lives as long as the plugin instance. The table only grows at the end;
 * check `size` (or BRS_HOST_HAS) before calling a service added after ABI 1.0.
 * Threading: the host calls a plugin instance from one thread at a time, and
 * services may only be called from inside a callback on that thread. */
#ifndef BOURSE_HOST_H
#define BOURSE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "types.h"

/* Opaque handle the host uses to know which plugin instance calls it. */
typedef struct brs_ctx brs_ctx;

enum brs_log_level { BRS_LOG_DEBUG = 0, BRS_LOG_INFO = 1, BRS_LOG_WARN = 2, BRS_LOG_ERROR = 3 };

/* Pass as `instrument` to mean every instrument. */
#define BRS_ALL_INSTRUMENTS UINT32_MAX

typedef struct brs_host {
    uint32_t size;      /* sizeof(brs_host) as the host was compiled */
    uint16_t abi_major; /* the host's ABI version */
    uint16_t abi_minor;

    /* ---- ABI 1.0: every plugin ------------------------------------------ */
    int64_t (*xNow)(brs_ctx *ctx); /* simulated or real clock, ns since the epoch */
    void (*xLog)(brs_ctx *ctx, int level, const char *msg);
    /* Typed parameters from the run's config, by name. BRS_E_NOTFOUND when unset
     * (the plugin's declared default then applies), BRS_E_INVAL on a type mismatch.
     * Strings returned live as long as the instance. */
    int (*xParamInt)(brs_ctx *ctx, const char *name, int64_t *out);
    int (*xParamDouble)(brs_ctx *ctx, const char *name, double *out);
    int (*xParamString)(brs_ctx *ctx, const char *name, const char **out);
    uint32_t (*xInstrumentCount)(brs_ctx *ctx);
    int (*xInstrument)(brs_ctx *ctx, uint32_t id, brs_instrument *out);
    int (*xInstrumentFind)(brs_ctx *ctx, const char *symbol, uint32_t *id);

    /* ---- ABI 1.0: strategies -------------------------------------------- */
    /* Submit an order; the host assigns and returns its id (order->id is ignored).
     * A refused order returns a negative code and also produces a REJECTED event. */
    int (*xSubmit)(brs_ctx *ctx, const brs_order *order, uint64_t *id);
    int (*xCancel)(brs_ctx *ctx, uint64_t id);
    /* New price and quantity; a size decrease at the same price keeps priority. */
    int (*xReplace)(brs_ctx *ctx, uint64_t id, int64_t price, int64_t qty);
    int (*xCancelAll)(brs_ctx *ctx, uint32_t instrument);
    int (*xPosition)(brs_ctx *ctx, uint32_t instrument, brs_position *out);
    int (*xOpenOrders)(brs_ctx *ctx, uint32_t instrument, brs_order_info *out, uint32_t cap,
                       uint32_t *n);
    int (*xTop)(brs_ctx *ctx, uint32_t instrument, brs_top *out);
    /* Up to cap levels of one side, best first. */
    int (*xDepth)(brs_ctx *ctx, uint32_t instrument, uint8_t side, brs_level *out, uint32_t cap,
                  uint32_t *n);
    /* A timer first firing at first_at (ns, absolute), then every interval ns if > 0.
     * A repeating timer more than 1000 intervals behind the clock fires once, at
     * its latest due time, instead of once per missed interval. */
    int (*xTimerSet)(brs_ctx *ctx, int64_t first_at, int64_t interval, uint64_t *timer_id);
    int (*xTimerCancel)(brs_ctx *ctx, uint64_t timer_id);
    /* Signal backtests: the wanted position as a fraction in [-1, 1]. */
    int (*xSetTarget)(brs_ctx *ctx, uint32_t instrument, double target);

    /* ---- ABI 1.0: venues ------------------------------------------------ */
    /* A venue reports what happened to an order, and the market data it sees. */
    int (*xEmitOrderEvent)(brs_ctx *ctx, const brs_order_event *ev);
    int (*xEmitMarketEvent)(brs_ctx *ctx, const brs_market_event *ev);

    /* ---- ABI 1.0: vectorized signal backtests ----------------------------
     * Part of 1.0 (added before the ABI was first released); later additions
     * go below with the minor version that adds them. Outside a signal
     * backtest both return BRS_E_UNSUPPORTED (docs/backtesting.md). */
    /* Every bar of one instrument for the whole run, oldest first (BAR events:
     * read the `bar` view), valid until xClose. Seeing the future is allowed
     * here on purpose: targets[t] must be computed from bars[0..t] only, and the
     * engine never executes it before bar t+1's open (unless the run asks for
     * same-bar close execution). */
    int (*xBars)(brs_ctx *ctx, uint32_t instrument, const brs_market_event **bars, uint64_t *n);
    /* targets[t] in [-1, 1] is the position wanted after bar t's close (NaN:
     * keep the previous target); n must equal the bar count. Copied. */
    int (*xSetTargets)(brs_ctx *ctx, uint32_t instrument, const double *targets, uint64_t n);

    /* ---- ABI 1.1 ---------------------------------------------------------
     * Check BRS_HOST_HAS(host, xPlot) before calling: a 1.0 host lacks it. */
    /* A value of a series the strategy declares for the report (an indicator, a
     * signal), at the current time: drawn on the run's report.html and written to
     * plots.csv. name: 1-31 bytes, no comma or quote; at most 16 names; value
     * finite. BRS_E_INVAL otherwise; BRS_E_UNSUPPORTED outside a backtest. */
    int (*xPlot)(brs_ctx *ctx, const char *name, double value);

    /* ---- ABI 1.2 ---------------------------------------------------------
     * Check BRS_HOST_HAS(host, xBarColumns) before calling: older hosts lack it. */
    /* The bars of one instrument as columns (brs_bar_columns above; set
     * out->size first): what xBars gives, without the 64-byte records. In a
     * signal backtest the host keeps its bars this way, so this is the cheap
     * view; xBars stays, and builds its records on first use. Same rules as
     * xBars (the whole run, no look-ahead in what the targets use);
     * BRS_E_UNSUPPORTED outside a signal backtest, BRS_E_INVAL when out->size
     * is smaller than ABI 1.2's struct. */
    int (*xBarColumns)(brs_ctx *ctx, uint32_t instrument, brs_bar_columns *out);

    /* ---- ABI 1.3 ---------------------------------------------------------
     * Check BRS_HOST_HAS(host, xSetTargetsAt) before calling: older hosts lack it. */
    /* targets for bars first .. first + n - 1 only (same values and meaning
     * as xSetTargets; copied), so a strategy can compute them a chunk at a
     * time in a buffer it reuses instead of one array of every bar. Bars no
     * call has given have no target (NaN); a later call replaces what an
     * earlier one gave for the same bars; xSetTargets replaces them all.
     * BRS_E_RANGE when first + n passes the bar count, BRS_E_INVAL for a
     * value outside [-1, 1] (nothing changed then). */
    int (*xSetTargetsAt)(brs_ctx *ctx, uint32_t instrument, uint64_t first, const double *targets,
                         uint64_t n);
} brs_host;

/* True when the host table is large enough to hold `member` and it is set. */
#define BRS_HOST_HAS(host, member)                                                          \
    ((host)->size >= offsetof(brs_host, member) + sizeof((host)->member) && (host)->member)

#endif
