/* inspect_host.c: a minimal host-services table for opening a plugin outside
 * a run (`bourse plugins inspect`): real clock, log to stderr, no parameters,
 * no instruments, and every trading service refused with BRS_E_STATE. */
#include "plugin/loader.h"

#include <stdio.h>

#include "core/core.h"

static int64_t now(brs_ctx *ctx)
{
    (void)ctx;
    return brs__realtime_ns();
}

static void log_msg(brs_ctx *ctx, int level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    const char *lv = level >= 0 && level <= 3 ? names[level] : "log";
    fprintf(stderr, "plugin %s: %s\n", lv, msg ? msg : "(null)");
}

static int p_int(brs_ctx *c, const char *n, int64_t *o) { (void)c; (void)n; (void)o; return BRS_E_NOTFOUND; }
static int p_dbl(brs_ctx *c, const char *n, double *o) { (void)c; (void)n; (void)o; return BRS_E_NOTFOUND; }
static int p_str(brs_ctx *c, const char *n, const char **o) { (void)c; (void)n; (void)o; return BRS_E_NOTFOUND; }
static uint32_t i_count(brs_ctx *c) { (void)c; return 0; }
static int i_get(brs_ctx *c, uint32_t id, brs_instrument *o) { (void)c; (void)id; (void)o; return BRS_E_NOTFOUND; }
static int i_find(brs_ctx *c, const char *s, uint32_t *id) { (void)c; (void)s; (void)id; return BRS_E_NOTFOUND; }

static int submit(brs_ctx *c, const brs_order *o, uint64_t *id) { (void)c; (void)o; (void)id; return BRS_E_STATE; }
static int cancel(brs_ctx *c, uint64_t id) { (void)c; (void)id; return BRS_E_STATE; }
static int replace(brs_ctx *c, uint64_t id, int64_t p, int64_t q) { (void)c; (void)id; (void)p; (void)q; return BRS_E_STATE; }
static int cancel_all(brs_ctx *c, uint32_t i) { (void)c; (void)i; return BRS_E_STATE; }
static int position(brs_ctx *c, uint32_t i, brs_position *o) { (void)c; (void)i; (void)o; return BRS_E_STATE; }
static int open_orders(brs_ctx *c, uint32_t i, brs_order_info *o, uint32_t cap, uint32_t *n)
{
    (void)c; (void)i; (void)o; (void)cap;
    if (n)
        *n = 0;
    return BRS_E_STATE;
}
static int top(brs_ctx *c, uint32_t i, brs_top *o) { (void)c; (void)i; (void)o; return BRS_E_STATE; }
static int depth(brs_ctx *c, uint32_t i, uint8_t s, brs_level *o, uint32_t cap, uint32_t *n)
{
    (void)c; (void)i; (void)s; (void)o; (void)cap;
    if (n)
        *n = 0;
    return BRS_E_STATE;
}
static int timer_set(brs_ctx *c, int64_t f, int64_t iv, uint64_t *id) { (void)c; (void)f; (void)iv; (void)id; return BRS_E_STATE; }
static int timer_cancel(brs_ctx *c, uint64_t id) { (void)c; (void)id; return BRS_E_STATE; }
static int set_target(brs_ctx *c, uint32_t i, double t) { (void)c; (void)i; (void)t; return BRS_E_STATE; }
static int emit_order(brs_ctx *c, const brs_order_event *e) { (void)c; (void)e; return BRS_E_STATE; }
static int emit_market(brs_ctx *c, const brs_market_event *e) { (void)c; (void)e; return BRS_E_STATE; }

static const brs_host inspect_host = {
    .size = sizeof(brs_host),
    .abi_major = BRS_ABI_MAJOR,
    .abi_minor = BRS_ABI_MINOR,
    .xNow = now,
    .xLog = log_msg,
    .xParamInt = p_int,
    .xParamDouble = p_dbl,
    .xParamString = p_str,
    .xInstrumentCount = i_count,
    .xInstrument = i_get,
    .xInstrumentFind = i_find,
    .xSubmit = submit,
    .xCancel = cancel,
    .xReplace = replace,
    .xCancelAll = cancel_all,
    .xPosition = position,
    .xOpenOrders = open_orders,
    .xTop = top,
    .xDepth = depth,
    .xTimerSet = timer_set,
    .xTimerCancel = timer_cancel,
    .xSetTarget = set_target,
    .xEmitOrderEvent = emit_order,
    .xEmitMarketEvent = emit_market,
};

const brs_host *brs__plugin_inspect_host(void)
{
    return &inspect_host;
}
