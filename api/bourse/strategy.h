/* strategy.h: the strategy vtable. C plugins fill it in; Lua scripts are wrapped
 * in the same vtable by the host, so the engine cannot tell the two apart.
 * Every callback returns BRS_OK or a negative code; a negative code stops the
 * strategy cleanly (its orders are cancelled and the run is marked failed). */
#ifndef BOURSE_STRATEGY_H
#define BOURSE_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "host.h"
#include "types.h"

/* What market data a strategy wants (bit set). */
enum brs_subscription {
    BRS_SUB_TOP = 1u << 0,    /* xOnTop when the best bid or offer changes */
    BRS_SUB_TRADES = 1u << 1, /* xOnTrade for every trade */
    BRS_SUB_DEPTH = 1u << 2,  /* xOnDepth when any level changes */
    BRS_SUB_BARS = 1u << 3,   /* xOnBar */
    BRS_SUB_L3 = 1u << 4      /* xOnMarket for every raw event */
};

enum brs_param_type { BRS_PARAM_INT = 0, BRS_PARAM_DOUBLE = 1, BRS_PARAM_BOOL = 2, BRS_PARAM_STRING = 3 };

/* A declared parameter: name, type, default and bounds, shown by
 * `bourse strategy check` and read at run time through brs_host.xParam*. */
typedef struct brs_param_def {
    const char *name;
    uint32_t type; /* enum brs_param_type */
    uint32_t reserved;
    double def;    /* default for INT, DOUBLE, BOOL */
    double min, max; /* bounds; min > max means unbounded */
    const char *def_string; /* default for STRING */
    const char *help;
} brs_param_def;

typedef struct brs_strategy_vtable {
    uint32_t size;          /* sizeof(brs_strategy_vtable) as the plugin compiled it */
    uint32_t subscriptions; /* enum brs_subscription */
    const brs_param_def *params;
    uint32_t n_params;
    uint32_t reserved;

    /* ---- ABI 1.0, required ---------------------------------------------- */
    /* self is instance_size zeroed bytes owned by the host. host and ctx live
     * until xClose. xClose runs exactly once after every xOpen, even a failed one. */
    int (*xOpen)(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err);
    void (*xClose)(void *self);
    int (*xStart)(void *self);
    int (*xStop)(void *self);
    /* Event pointers are valid only during the call. NULL means not interested. */
    int (*xOnTop)(void *self, const brs_top *top);
    int (*xOnTrade)(void *self, const brs_market_event *trade);
    int (*xOnDepth)(void *self, uint32_t instrument); /* query levels with xDepth */
    int (*xOnBar)(void *self, const brs_market_event *bar);
    int (*xOnMarket)(void *self, const brs_market_event *ev);
    int (*xOnOrder)(void *self, const brs_order_event *ev);
    int (*xOnTimer)(void *self, uint64_t timer_id, int64_t now);

    /* ---- ABI 1.0, optional ---------------------------------------------- */
    /* Parameters changed at run time: re-read them. */
    int (*xReload)(void *self);
} brs_strategy_vtable;

/* The host refuses a strategy vtable smaller than this. */
#define BRS_STRATEGY_VTABLE_MIN (offsetof(brs_strategy_vtable, xOnTimer) + sizeof(void (*)(void)))

/* True when vt is large enough to hold `member` and it is set. */
#define BRS_VT_HAS(vt, type, member)                                                        \
    ((vt)->size >= offsetof(type, member) + sizeof((vt)->member) && (vt)->member)

#endif
