/* lua_strategy.c: a sandboxed Lua script as a brs_strategy_vtable, the hot
 * path: calling into the script (fixed stack slots, the budget's mode per
 * callback) and the event objects handed to it, reused per kind (bar, top,
 * trade, order event: a table holding the fields the script reads, refreshed
 * per call), so a callback allocates nothing of its own. Loading and hot
 * reload are in lua_load.c, the ctx methods in lua_ctx.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "lua_internal.h"

const char *const brs__lua_cb_names[BRS__LCB_COUNT] = {"on_start", "on_stop",  "on_bar",   "on_top",
                                                       "on_trade", "on_depth", "on_order", "on_fill",
                                                       "on_timer", "on_reload"};

#define BAR_MT "bourse.bar"
#define TRADE_MT "bourse.trade"
#define TOP_MT "bourse.top"
#define ORDER_MT "bourse.order_event"

/* ---- calling into the script ------------------------------------------ */

/* Report a failed lua_pcall (message on the stack top) through the host log,
 * which the runtime keeps as the reason the strategy failed. The text is made
 * in lua_sandbox.c (brs__lua_error_text), out of this file's hot path. */
static int script_error(brs__lua_strategy *s, int status)
{
    char msg[BRS_ERROR_MSG_MAX];
    int code = brs__lua_error_text(s, status, msg, sizeof msg);
    lua_settop(s->L, s->stack_base);
    if (s->host && s->host->xLog)
        s->host->xLog(s->ctx, BRS_LOG_ERROR, msg);
    return code;
}

static int cb_fast_check(brs__lua_strategy *s, int cb);

/* Stack: [1] message handler, then the function and its nargs arguments. */
static inline int call(brs__lua_strategy *s, int nargs, int cb)
{
    s->cb_name = brs__lua_cb_names[cb];
    if (BRS__LIKELY(!s->killed &&
                    (s->fast_cb[cb] < 0 || s->fast_fn[cb] != lua_topointer(s->L, SLOT_CB0 + cb)
                         ? cb_fast_check(s, cb)
                         : s->fast_cb[cb] > 0))) {
        /* loop-free callback: the call hook (lua_sandbox.c), no per-instruction check */
        s->instr_used = 0;
        s->hook_calls = 0;
        s->cstack_base = (uintptr_t)__builtin_frame_address(0);
        brs__lua_hook_calls(s);
    } else {
        brs__lua_budget_reset(s);
    }
    s->running = 1;
    int status = lua_pcall(s->L, nargs, 0, 1);
    s->running = 0;
    /* killed yet returned: `return pcall(loop)` ends the callback with the
     * caught kill, in a tail call, before the hook could raise it again */
    if (BRS__LIKELY(status == LUA_OK && !s->killed))
        return BRS_OK;
    return script_error(s, status);
}


/* Is the callback in its stack slot loop-free (brs__lua_loop_free)? Checked
 * once per function. Whatever refills the callback slots (lx_open, reload)
 * must call cb_fast_forget; the address compare is a second guard. */
static int cb_fast_check(brs__lua_strategy *s, int cb)
{
    s->fast_fn[cb] = lua_topointer(s->L, SLOT_CB0 + cb);
    s->fast_cb[cb] = (int8_t)brs__lua_loop_free(s, SLOT_CB0 + cb);
    return s->fast_cb[cb];
}

/* After the callback slots were (re)filled: check every callback now, not at
 * its first call (which may be inside a timed or allocation-counted loop). */
void brs__lua_cb_fast_forget(brs__lua_strategy *s)
{
    for (int i = 0; i < BRS__LCB_COUNT; i++)
        cb_fast_check(s, i);
}

static inline void push_cb(brs__lua_strategy *s, int cb)
{
    lua_pushvalue(s->L, SLOT_CB0 + cb);
    lua_pushvalue(s->L, SLOT_CTX);
}
/* ---- event objects ---------------------------------------------------- */

/* Every event object (bar, top, trade, order event) is a table that learns
 * which fields the script reads: the first read of a field goes through
 * __index (a C call), which copies the value into the table and marks the
 * field hot; before each later call the host writes the hot fields into the
 * table, so `bar.close` or `ev.qty` is a plain table read (a C call cost ~20
 * ns, more under the budget's call hook; the write per hot field a fraction).
 * Fields never read cost nothing. Writing a field that is not in the table
 * raises an error, as it did when events were userdata. */
enum { HOT_BAR, HOT_TOP, HOT_TRADE, HOT_ORDER, HOT_KINDS };
static const char *const bar_fields[] = {"close", "open", "high", "low", "volume", "ts", "ts_local",
                                         "instrument", NULL};
static const char *const top_fields[] = {"bid", "ask", "bid_qty", "ask_qty", "mid", "ts",
                                         "instrument", NULL};
static const char *const trade_fields[] = {"price", "qty", "side", "id", "ts", "ts_local",
                                           "instrument", NULL};
static const char *const order_fields[] = {"kind", "id", "side", "price", "qty", "leaves", "cum_qty",
                                           "fee", "ts", "instrument", "liquidity", "reason", "code",
                                           NULL};
static const char *const *const hot_fields[HOT_KINDS] = {bar_fields, top_fields, trade_fields,
                                                         order_fields};
/* Stack slot of each kind's first field name (SLOT_KEY0 on: bar 8, top 7, trade 7, order 13). */
static const int hot_key0[HOT_KINDS] = {SLOT_KEY0, SLOT_KEY0 + 8, SLOT_KEY0 + 15, SLOT_KEY0 + 22};
#define HOT_NKEYS 35
/* Stack slot of each kind's event table (SLOT_EV0 + the ev_ref index). */
static const int hot_slot[HOT_KINDS] = {SLOT_EV0 + 0, SLOT_EV0 + 2, SLOT_EV0 + 1, SLOT_EV0 + 3};

static void push_bar_field(lua_State *L, const brs_market_event *e, int i)
{
    switch (i) {
    case 0: lua_pushinteger(L, e->bar.close); break;
    case 1: lua_pushinteger(L, e->bar.open); break;
    case 2: lua_pushinteger(L, e->bar.high); break;
    case 3: lua_pushinteger(L, e->bar.low); break;
    case 4: lua_pushinteger(L, e->bar.volume); break;
    case 5: lua_pushinteger(L, e->ts_exchange); break;
    case 6: lua_pushinteger(L, e->ts_local); break;
    default: lua_pushinteger(L, e->instrument); break;
    }
}

static void push_top_field(lua_State *L, const brs_top *t, int i)
{
    switch (i) {
    case 0: lua_pushinteger(L, t->bid_price); break;
    case 1: lua_pushinteger(L, t->ask_price); break;
    case 2: lua_pushinteger(L, t->bid_qty); break;
    case 3: lua_pushinteger(L, t->ask_qty); break;
    case 4:
        if (t->bid_qty > 0 && t->ask_qty > 0)
            lua_pushnumber(L, ((double)t->bid_price + (double)t->ask_price) / 2.0);
        else
            lua_pushnil(L);
        break;
    case 5: lua_pushinteger(L, t->ts); break;
    default: lua_pushinteger(L, t->instrument); break;
    }
}

static const char *oev_kind_name(int k)
{
    static const char *n[] = {"accepted", "rejected", "fill", "cancelled", "replaced"};
    return k >= 0 && k <= BRS_OEV_REPLACED ? n[k] : "unknown";
}

static void push_trade_field(lua_State *L, const brs_market_event *e, int i)
{
    switch (i) {
    case 0: lua_pushinteger(L, e->price); break;
    case 1: lua_pushinteger(L, e->qty); break;
    case 2: lua_pushstring(L, brs__lua_side_name(e->side)); break;
    case 3: lua_pushinteger(L, (lua_Integer)e->order_id); break;
    case 4: lua_pushinteger(L, e->ts_exchange); break;
    case 5: lua_pushinteger(L, e->ts_local); break;
    default: lua_pushinteger(L, e->instrument); break;
    }
}

/* reason and code are nil unless the event has a reason (rejects, cancels) */
static void push_order_field(lua_State *L, const brs_order_event *e, int i)
{
    switch (i) {
    case 0: lua_pushstring(L, oev_kind_name(e->kind)); break;
    case 1: lua_pushinteger(L, (lua_Integer)e->order_id); break;
    case 2: lua_pushstring(L, brs__lua_side_name(e->side)); break;
    case 3: lua_pushinteger(L, e->price); break;
    case 4: lua_pushinteger(L, e->qty); break;
    case 5: lua_pushinteger(L, e->leaves); break;
    case 6: lua_pushinteger(L, e->cum_qty); break;
    case 7: lua_pushinteger(L, e->fee); break;
    case 8: lua_pushinteger(L, e->ts); break;
    case 9: lua_pushinteger(L, e->instrument); break;
    case 10:
        lua_pushstring(L, e->liquidity == BRS_LIQ_MAKER ? "maker" : e->liquidity == BRS_LIQ_TAKER ? "taker" : "none");
        break;
    case 11:
        if (e->reason)
            lua_pushstring(L, brs_strerror(e->reason));
        else
            lua_pushnil(L);
        break;
    default:
        if (e->reason)
            lua_pushstring(L, brs_err_name(e->reason));
        else
            lua_pushnil(L);
        break;
    }
}

static inline void push_hot_field(lua_State *L, brs__lua_strategy *s, int kind, int i)
{
    switch (kind) {
    case HOT_BAR: push_bar_field(L, s->ud_bar, i); break;
    case HOT_TOP: push_top_field(L, s->ud_top, i); break;
    case HOT_TRADE: push_trade_field(L, s->ud_trade, i); break;
    default: push_order_field(L, s->ud_order, i); break;
    }
}

/* __index(t, k): an event field not yet in the table. */
static int hot_index(lua_State *L, int kind)
{
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    const char *k = lua_tostring(L, 2);
    const char *const *names = hot_fields[kind];
    for (int i = 0; names[i]; i++) {
        if (strcmp(k, names[i]) != 0)
            continue;
        brs__lua_strategy *s = brs__lua_self(L);
        push_hot_field(L, s, kind, i);
        s->hot[kind] |= 1u << i;
        lua_pushvalue(L, 2);
        lua_pushvalue(L, -2);
        lua_rawset(L, 1);
        return 1;
    }
    return 0;
}

static int bar_index(lua_State *L) { return hot_index(L, HOT_BAR); }
static int top_index(lua_State *L) { return hot_index(L, HOT_TOP); }
static int trade_index(lua_State *L) { return hot_index(L, HOT_TRADE); }
static int order_index(lua_State *L) { return hot_index(L, HOT_ORDER); }

static int event_newindex(lua_State *L)
{
    return luaL_error(L, "event objects are read-only: copy the fields you need into locals");
}

/* The host's writes took the script past its memory cap (refresh_hot): the
 * memory error the allocator could not raise there, as the callback's. */
static int __attribute__((noinline, cold)) host_over_cap(brs__lua_strategy *s, int cb)
{
    char msg[BRS_ERROR_MSG_MAX];
    s->cb_name = brs__lua_cb_names[cb];
    s->mem_hit = 1;
    int code = brs__lua_error_text(s, LUA_ERRMEM, msg, sizeof msg);
    if (s->host && s->host->xLog)
        s->host->xLog(s->ctx, BRS_LOG_ERROR, msg);
    return code;
}

/* Before a call: the hot fields of the kind's table from the event. These
 * writes run outside any protected call, where a Lua error aborts the
 * process, and they can allocate: a field the script removed (bar.close =
 * nil, rawset) is a new key once the GC has dropped it, which a full hash
 * part must grow for, and a string value may need interning. So the
 * allocator lets their blocks through (host_writing) instead of refusing
 * them at the memory cap; if that took the script over its cap, the
 * callback `cb` is not made and fails with the memory error. */
static inline int refresh_hot(brs__lua_strategy *s, int kind, int cb)
{
    lua_State *L = s->L;
    uint32_t m = s->hot[kind];
    if (!m)
        return BRS_OK;
    s->host_writing = 1;
    for (; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        lua_pushvalue(L, hot_key0[kind] + i); /* the key, interned */
        push_hot_field(L, s, kind, i);
        lua_rawset(L, hot_slot[kind]);
    }
    s->host_writing = 0;
    if (BRS__UNLIKELY(s->host_over))
        return host_over_cap(s, cb);
    return BRS_OK;
}

/* Runs protected: metatables for ctx and events, the reused event userdata. */
int brs__lua_setup_types(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    brs__lua_ctx_type(L);
    /* in ev_ref order: bar, trade, top, order; nfields sizes each table for
     * every field it may learn, so it never grows later */
    static const struct { const char *mt; lua_CFunction index; size_t size; int nfields; } ev[4] = {
        {BAR_MT, bar_index, sizeof(brs_market_event), 8},
        {TRADE_MT, trade_index, sizeof(brs_market_event), 7},
        {TOP_MT, top_index, sizeof(brs_top), 7},
        {ORDER_MT, order_index, sizeof(brs_order_event), 13}};
    void *const u[4] = {&s->ev_bar, &s->ev_trade, &s->ev_top, &s->ev_order};
    for (int k = 0; k < HOT_KINDS; k++)
        s->hot[k] = 0;
    for (int i = 0; i < 4; i++) {
        lua_createtable(L, 0, ev[i].nfields);
        memset(u[i], 0, ev[i].size);
        luaL_newmetatable(L, ev[i].mt);
        lua_pushcfunction(L, ev[i].index);
        lua_setfield(L, -2, "__index");
        lua_pushstring(L, ev[i].mt + 7);
        lua_setfield(L, -2, "__name");
        lua_pushcfunction(L, event_newindex);
        lua_setfield(L, -2, "__newindex");
        lua_pushstring(L, ev[i].mt + 7);
        lua_setfield(L, -2, "__metatable");
        lua_setmetatable(L, -2);
        s->ev_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    s->ud_bar = &s->ev_bar;
    s->ud_trade = &s->ev_trade;
    s->ud_top = &s->ev_top;
    s->ud_order = &s->ev_order;
    return 0;
}
/* ---- the vtable ------------------------------------------------------- */

static int lx_on_bar(void *self, const brs_market_event *bar);
static int lx_on_trade(void *self, const brs_market_event *trade);
static int lx_on_top(void *self, const brs_top *top);
static int lx_on_depth(void *self, uint32_t instrument);
static int lx_on_order(void *self, const brs_order_event *ev);
static int lx_on_timer(void *self, uint64_t timer_id, int64_t now);

/* The vtable shows the callbacks the script has (NULL: not interested), so the
 * engine never calls into Lua for nothing; again after a hot reload. */
void brs__lua_set_callbacks(brs__lua_strategy *s)
{
#define HAS(cb) (s->cb_ref[BRS__LCB_##cb] != LUA_NOREF)
    s->vt.xOnBar = HAS(BAR) ? lx_on_bar : NULL;
    s->vt.xOnTrade = HAS(TRADE) ? lx_on_trade : NULL;
    s->vt.xOnTop = HAS(TOP) ? lx_on_top : NULL;
    s->vt.xOnDepth = HAS(DEPTH) ? lx_on_depth : NULL;
    s->vt.xOnOrder = HAS(ORDER) || HAS(FILL) ? lx_on_order : NULL;
    s->vt.xOnTimer = HAS(TIMER) ? lx_on_timer : NULL;
    s->vt.subscriptions = (HAS(BAR) ? BRS_SUB_BARS : 0) | (HAS(TOP) ? BRS_SUB_TOP : 0) |
                          (HAS(TRADE) ? BRS_SUB_TRADES : 0) | (HAS(DEPTH) ? BRS_SUB_DEPTH : 0);
#undef HAS
}
static int lx_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    brs__lua_strategy *s = self;
    if (!s->L)
        return brs__err(err, BRS_E_STATE, "%s: the script's state is gone", s->script);
    s->host = host;
    s->ctx = ctx;
    int rc = brs__lua_protected(s, brs__lua_make_ctx, 0, "opening", err);
    if (rc)
        return rc;
    lua_State *L = s->L;
    if (!lua_checkstack(L, SLOT_KEY0 + HOT_NKEYS + 8))
        return brs__err(err, BRS_E_SANDBOX, "%s: not enough memory for the Lua stack", s->script);
    lua_settop(L, SLOT_MSGH);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ctx_ref);
    for (int i = 0; i < 4; i++)
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->ev_ref[i]);
    for (int i = 0; i < BRS__LCB_COUNT; i++) {
        if (s->cb_ref[i] == LUA_NOREF)
            lua_pushnil(L);
        else
            lua_rawgeti(L, LUA_REGISTRYINDEX, s->cb_ref[i]);
    }
    for (int k = 0; k < HOT_KINDS; k++)
        for (int i = 0; hot_fields[k][i]; i++)
            lua_pushstring(L, hot_fields[k][i]);
    s->stack_base = lua_gettop(L);
    brs__lua_cb_fast_forget(s);
    return BRS_OK;
}

static void lx_close(void *self)
{
    brs__lua_strategy *s = self;
    brs__lua_close_state(s);
    s->host = NULL;
}

static int simple(brs__lua_strategy *s, int cb)
{
    if (s->cb_ref[cb] == LUA_NOREF || !s->L)
        return BRS_OK;
    push_cb(s, cb);
    return call(s, 1, cb);
}

static int lx_start(void *self) { return simple(self, BRS__LCB_START); }
static int lx_stop(void *self) { return simple(self, BRS__LCB_STOP); }
static int lx_reload(void *self) { return simple(self, BRS__LCB_RELOAD); }

static int lx_on_bar(void *self, const brs_market_event *bar)
{
    brs__lua_strategy *s = self;
    if (BRS__UNLIKELY(s->cb_ref[BRS__LCB_BAR] == LUA_NOREF))
        return BRS_OK; /* subscriptions 0: called for every kind */
    *s->ud_bar = *bar;
    s->cur_instrument = bar->instrument;
    if (BRS__UNLIKELY(refresh_hot(s, HOT_BAR, BRS__LCB_BAR)))
        return BRS_E_SANDBOX;
    push_cb(s, BRS__LCB_BAR);
    lua_pushvalue(s->L, SLOT_EV0 + 0);
    return call(s, 2, BRS__LCB_BAR);
}

static int lx_on_trade(void *self, const brs_market_event *trade)
{
    brs__lua_strategy *s = self;
    if (BRS__UNLIKELY(s->cb_ref[BRS__LCB_TRADE] == LUA_NOREF))
        return BRS_OK; /* subscriptions 0: called for every kind */
    *s->ud_trade = *trade;
    s->cur_instrument = trade->instrument;
    if (BRS__UNLIKELY(refresh_hot(s, HOT_TRADE, BRS__LCB_TRADE)))
        return BRS_E_SANDBOX;
    push_cb(s, BRS__LCB_TRADE);
    lua_pushvalue(s->L, SLOT_EV0 + 1);
    return call(s, 2, BRS__LCB_TRADE);
}

static int lx_on_top(void *self, const brs_top *top)
{
    brs__lua_strategy *s = self;
    if (BRS__UNLIKELY(s->cb_ref[BRS__LCB_TOP] == LUA_NOREF))
        return BRS_OK; /* subscriptions 0: called for every kind */
    *s->ud_top = *top;
    s->cur_instrument = top->instrument;
    if (BRS__UNLIKELY(refresh_hot(s, HOT_TOP, BRS__LCB_TOP)))
        return BRS_E_SANDBOX;
    push_cb(s, BRS__LCB_TOP);
    lua_pushvalue(s->L, SLOT_EV0 + 2);
    return call(s, 2, BRS__LCB_TOP);
}

static int lx_on_depth(void *self, uint32_t instrument)
{
    brs__lua_strategy *s = self;
    if (BRS__UNLIKELY(s->cb_ref[BRS__LCB_DEPTH] == LUA_NOREF))
        return BRS_OK; /* subscriptions 0: called for every kind */
    s->cur_instrument = instrument;
    push_cb(s, BRS__LCB_DEPTH);
    lua_pushinteger(s->L, instrument);
    return call(s, 2, BRS__LCB_DEPTH);
}

/* on_fill(ctx, ev) for fills, then on_order(ctx, ev) for every order event. */
static int lx_on_order(void *self, const brs_order_event *ev)
{
    brs__lua_strategy *s = self;
    *s->ud_order = *ev;
    int fill_cb = ev->kind == BRS_OEV_FILL && s->cb_ref[BRS__LCB_FILL] != LUA_NOREF;
    if (BRS__UNLIKELY(refresh_hot(s, HOT_ORDER, fill_cb ? BRS__LCB_FILL : BRS__LCB_ORDER)))
        return BRS_E_SANDBOX;
    int rc = BRS_OK;
    if (ev->kind == BRS_OEV_FILL && s->cb_ref[BRS__LCB_FILL] != LUA_NOREF) {
        push_cb(s, BRS__LCB_FILL);
        lua_pushvalue(s->L, SLOT_EV0 + 3);
        rc = call(s, 2, BRS__LCB_FILL);
    }
    if (rc == BRS_OK && s->cb_ref[BRS__LCB_ORDER] != LUA_NOREF) {
        if (ev->kind == BRS_OEV_FILL && s->cb_ref[BRS__LCB_FILL] != LUA_NOREF &&
            refresh_hot(s, HOT_ORDER, BRS__LCB_ORDER)) /* as delivered, whatever on_fill did to the table */
            return BRS_E_SANDBOX;
        push_cb(s, BRS__LCB_ORDER);
        lua_pushvalue(s->L, SLOT_EV0 + 3);
        rc = call(s, 2, BRS__LCB_ORDER);
    }
    return rc;
}

static int lx_on_timer(void *self, uint64_t timer_id, int64_t now)
{
    brs__lua_strategy *s = self;
    if (s->cb_ref[BRS__LCB_TIMER] == LUA_NOREF)
        return BRS_OK;
    push_cb(s, BRS__LCB_TIMER);
    lua_pushinteger(s->L, (lua_Integer)timer_id);
    lua_pushinteger(s->L, now);
    return call(s, 3, BRS__LCB_TIMER);
}

const brs_strategy_vtable brs__lua_vtable_template = {
    .size = sizeof(brs_strategy_vtable),
    .xOpen = lx_open,
    .xClose = lx_close,
    .xStart = lx_start,
    .xStop = lx_stop,
    .xOnTop = lx_on_top,
    .xOnTrade = lx_on_trade,
    .xOnDepth = lx_on_depth,
    .xOnBar = lx_on_bar,
    .xOnMarket = NULL,
    .xOnOrder = lx_on_order,
    .xOnTimer = lx_on_timer,
    .xReload = lx_reload,
};
