/* lua_strategy.c: wraps a sandboxed Lua script in brs_strategy_vtable. The
 * script returns a table of callbacks (on_start, on_bar, ...) and `params`
 * declarations; the ctx object handed to every callback is a table whose
 * methods call the brs_host services (ctx:buy{...}, ctx:position(), ...).
 * Hot path: events are copied into one reused object per kind (bar and top:
 * a table holding the fields the script reads, refreshed per call; trade and
 * order events: userdata read through __index), so a callback allocates
 * nothing of its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "lua_internal.h"

static const char *const cb_names[BRS__LCB_COUNT] = {"on_start", "on_stop",  "on_bar",   "on_top",
                                                     "on_trade", "on_depth", "on_order", "on_fill",
                                                     "on_timer", "on_reload"};

#define CTX_MT "bourse.ctx"
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

/* Once open, the main stack holds the objects every call needs at fixed slots,
 * so a callback pushes them with lua_pushvalue instead of registry lookups. */
enum { SLOT_MSGH = 1, SLOT_CTX = 2, SLOT_EV0 = 3, SLOT_CB0 = 7 };
/* then the field names of bar (8) and top (7), for refresh_hot */
#define SLOT_KEY0 (SLOT_CB0 + BRS__LCB_COUNT)

static int cb_fast_check(brs__lua_strategy *s, int cb);

/* Stack: [1] message handler, then the function and its nargs arguments. */
static inline int call(brs__lua_strategy *s, int nargs, int cb)
{
    s->cb_name = cb_names[cb];
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
static void cb_fast_forget(brs__lua_strategy *s)
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

static const char *side_name(int side) { return side == BRS_BUY ? "buy" : "sell"; }

/* bar and top are tables that learn which fields the script reads: the first
 * read of a field goes through __index (a C call), which copies the value into
 * the table and marks the field hot; before each later call the host writes
 * the hot fields into the table, so `bar.close` is a plain table read (a C
 * call cost ~20 ns; the write per hot field a fraction). Fields never read cost
 * nothing. Writing a field that is not in the table raises an error, as it did
 * when events were userdata. */
enum { HOT_BAR, HOT_TOP };
static const char *const bar_fields[] = {"close", "open", "high", "low", "volume", "ts", "ts_local",
                                         "instrument", NULL};
static const char *const top_fields[] = {"bid", "ask", "bid_qty", "ask_qty", "mid", "ts",
                                         "instrument", NULL};
static const char *const *const hot_fields[2] = {bar_fields, top_fields};

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

static inline void push_hot_field(lua_State *L, brs__lua_strategy *s, int kind, int i)
{
    if (kind == HOT_BAR)
        push_bar_field(L, s->ud_bar, i);
    else
        push_top_field(L, s->ud_top, i);
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

static int event_newindex(lua_State *L)
{
    return luaL_error(L, "event objects are read-only: copy the fields you need into locals");
}

/* Before a call: the hot fields of the table at stack slot idx from the event. */
static inline void refresh_hot(brs__lua_strategy *s, int kind, int idx)
{
    lua_State *L = s->L;
    for (uint32_t m = s->hot[kind]; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        lua_pushvalue(L, SLOT_KEY0 + (kind == HOT_TOP ? 8 : 0) + i); /* the key, interned */
        push_hot_field(L, s, kind, i);
        lua_rawset(L, idx);
    }
}

static int trade_index(lua_State *L)
{
    const brs_market_event *e = lua_touserdata(L, 1);
    const char *k = lua_tostring(L, 2);
    if (!k)
        return 0;
    if (!strcmp(k, "price")) lua_pushinteger(L, e->price);
    else if (!strcmp(k, "qty")) lua_pushinteger(L, e->qty);
    else if (!strcmp(k, "side")) lua_pushstring(L, side_name(e->side));
    else if (!strcmp(k, "id")) lua_pushinteger(L, (lua_Integer)e->order_id);
    else if (!strcmp(k, "ts")) lua_pushinteger(L, e->ts_exchange);
    else if (!strcmp(k, "ts_local")) lua_pushinteger(L, e->ts_local);
    else if (!strcmp(k, "instrument")) lua_pushinteger(L, e->instrument);
    else return 0;
    return 1;
}

static const char *oev_kind_name(int k)
{
    static const char *n[] = {"accepted", "rejected", "fill", "cancelled", "replaced"};
    return k >= 0 && k <= BRS_OEV_REPLACED ? n[k] : "unknown";
}

static int order_index_mm(lua_State *L)
{
    const brs_order_event *e = lua_touserdata(L, 1);
    const char *k = lua_tostring(L, 2);
    if (!k)
        return 0;
    if (!strcmp(k, "kind")) lua_pushstring(L, oev_kind_name(e->kind));
    else if (!strcmp(k, "id")) lua_pushinteger(L, (lua_Integer)e->order_id);
    else if (!strcmp(k, "side")) lua_pushstring(L, side_name(e->side));
    else if (!strcmp(k, "price")) lua_pushinteger(L, e->price);
    else if (!strcmp(k, "qty")) lua_pushinteger(L, e->qty);
    else if (!strcmp(k, "leaves")) lua_pushinteger(L, e->leaves);
    else if (!strcmp(k, "cum_qty")) lua_pushinteger(L, e->cum_qty);
    else if (!strcmp(k, "fee")) lua_pushinteger(L, e->fee);
    else if (!strcmp(k, "ts")) lua_pushinteger(L, e->ts);
    else if (!strcmp(k, "instrument")) lua_pushinteger(L, e->instrument);
    else if (!strcmp(k, "liquidity"))
        lua_pushstring(L, e->liquidity == BRS_LIQ_MAKER ? "maker" : e->liquidity == BRS_LIQ_TAKER ? "taker" : "none");
    else if (!strcmp(k, "reason")) {
        if (e->reason)
            lua_pushstring(L, brs_strerror(e->reason));
        else
            lua_pushnil(L);
    } else if (!strcmp(k, "code")) {
        if (e->reason)
            lua_pushstring(L, brs_err_name(e->reason));
        else
            lua_pushnil(L);
    } else
        return 0;
    return 1;
}

/* ---- ctx methods ------------------------------------------------------ */

static brs__lua_strategy *ctx_self(lua_State *L, const char *method)
{
    brs__lua_strategy *s = brs__lua_self(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->ctx_ref);
    int ok = lua_rawequal(L, 1, -1);
    lua_pop(L, 1);
    if (!ok)
        luaL_error(L, "call it as ctx:%s(...), with a colon", method);
    return s;
}

static uint32_t instrument_arg(lua_State *L, brs__lua_strategy *s, int idx)
{
    if (lua_isnoneornil(L, idx))
        return s->cur_instrument;
    if (lua_type(L, idx) == LUA_TSTRING) {
        uint32_t id;
        if (s->host->xInstrumentFind(s->ctx, lua_tostring(L, idx), &id) != BRS_OK)
            luaL_error(L, "unknown instrument '%s'", lua_tostring(L, idx));
        return id;
    }
    lua_Integer i = luaL_checkinteger(L, idx);
    if (i < 0 || (uint64_t)i >= s->host->xInstrumentCount(s->ctx))
        luaL_error(L, "unknown instrument %I", i);
    return (uint32_t)i;
}

static int64_t int_field(lua_State *L, int t, const char *key, int required, int64_t def)
{
    int ty = lua_getfield(L, t, key);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        if (required)
            luaL_error(L, "order needs '%s'", key);
        return def;
    }
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint)
        luaL_error(L, "order field '%s' must be an integer (prices are in ticks, quantities in lots)", key);
    lua_pop(L, 1);
    return v;
}

/* ctx:buy{qty=, price=, tif=, post_only=, reduce_only=, instrument=} or
 * ctx:buy(qty[, price]). No price: a market order. Returns the order id, or
 * nil and the reason when the host refuses it. */
static int submit(lua_State *L, uint8_t side, const char *method)
{
    brs__lua_strategy *s = ctx_self(L, method);
    brs_order o = {.side = side, .type = BRS_MARKET, .tif = BRS_GTC};
    if (lua_istable(L, 2)) {
        o.qty = int_field(L, 2, "qty", 1, 0);
        o.price = int_field(L, 2, "price", 0, 0);
        if (lua_getfield(L, 2, "price") != LUA_TNIL)
            o.type = BRS_LIMIT;
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "type") == LUA_TSTRING) {
            const char *t = lua_tostring(L, -1);
            if (!strcmp(t, "market"))
                o.type = BRS_MARKET;
            else if (!strcmp(t, "limit"))
                o.type = BRS_LIMIT;
            else
                luaL_error(L, "order type must be 'limit' or 'market', not '%s'", t);
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "tif") == LUA_TSTRING) {
            static const char *const tifs[] = {"gtc", "day", "ioc", "fok", NULL};
            o.tif = (uint8_t)luaL_checkoption(L, -1, NULL, tifs);
        }
        lua_pop(L, 1);
        lua_getfield(L, 2, "post_only");
        if (lua_toboolean(L, -1))
            o.flags |= BRS_OF_POST_ONLY;
        lua_getfield(L, 2, "reduce_only");
        if (lua_toboolean(L, -1))
            o.flags |= BRS_OF_REDUCE_ONLY;
        lua_getfield(L, 2, "instrument");
        o.instrument = instrument_arg(L, s, lua_gettop(L));
        lua_pop(L, 3);
    } else {
        o.qty = luaL_checkinteger(L, 2);
        if (!lua_isnoneornil(L, 3)) {
            o.price = luaL_checkinteger(L, 3);
            o.type = BRS_LIMIT;
        }
        o.instrument = instrument_arg(L, s, 4);
    }
    if (o.qty <= 0)
        return luaL_error(L, "order qty must be > 0 (got %I)", (lua_Integer)o.qty);
    uint64_t id = 0;
    int rc = s->host->xSubmit(s->ctx, &o, &id);
    if (rc < 0) {
        lua_pushnil(L);
        lua_pushstring(L, brs_strerror(rc));
        lua_pushinteger(L, (lua_Integer)id);
        return 3;
    }
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

static int l_buy(lua_State *L) { return submit(L, BRS_BUY, "buy"); }
static int l_sell(lua_State *L) { return submit(L, BRS_SELL, "sell"); }

static int result(lua_State *L, int rc)
{
    if (rc < 0) {
        lua_pushnil(L);
        lua_pushstring(L, brs_strerror(rc));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_cancel(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "cancel");
    return result(L, s->host->xCancel(s->ctx, (uint64_t)luaL_checkinteger(L, 2)));
}

static int l_replace(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "replace");
    return result(L, s->host->xReplace(s->ctx, (uint64_t)luaL_checkinteger(L, 2),
                                       luaL_checkinteger(L, 3), luaL_checkinteger(L, 4)));
}

static int l_cancel_all(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "cancel_all");
    uint32_t in = lua_isnoneornil(L, 2) ? BRS_ALL_INSTRUMENTS : instrument_arg(L, s, 2);
    return result(L, s->host->xCancelAll(s->ctx, in));
}

/* ctx:position([instrument]) -> qty, average entry price in ticks (nil when flat) */
static int l_position(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "position");
    brs_position p;
    if (s->host->xPosition(s->ctx, instrument_arg(L, s, 2), &p) < 0)
        return luaL_error(L, "no position for that instrument");
    lua_pushinteger(L, p.qty);
    if (p.qty)
        lua_pushnumber(L, (double)p.avg_price_x1e6 / 1e6);
    else
        lua_pushnil(L);
    return 2;
}

/* ctx:pnl([instrument]) -> realized, unrealized, fees (price units x qty) */
static int l_pnl(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "pnl");
    brs_position p;
    if (s->host->xPosition(s->ctx, instrument_arg(L, s, 2), &p) < 0)
        return luaL_error(L, "no position for that instrument");
    lua_pushinteger(L, p.realized_pnl);
    lua_pushinteger(L, p.unrealized_pnl);
    lua_pushinteger(L, p.fees);
    return 3;
}

static int l_orders(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "orders");
    uint32_t in = lua_isnoneornil(L, 2) ? BRS_ALL_INSTRUMENTS : instrument_arg(L, s, 2);
    brs_order_info buf[64];
    uint32_t n = 0;
    s->host->xOpenOrders(s->ctx, in, buf, 64, &n);
    lua_createtable(L, (int)n, 0);
    for (uint32_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 7);
        lua_pushinteger(L, (lua_Integer)buf[i].id);
        lua_setfield(L, -2, "id");
        lua_pushstring(L, side_name(buf[i].side));
        lua_setfield(L, -2, "side");
        lua_pushinteger(L, buf[i].price);
        lua_setfield(L, -2, "price");
        lua_pushinteger(L, buf[i].qty);
        lua_setfield(L, -2, "qty");
        lua_pushinteger(L, buf[i].leaves);
        lua_setfield(L, -2, "leaves");
        lua_pushinteger(L, buf[i].cum_qty);
        lua_setfield(L, -2, "cum_qty");
        lua_pushinteger(L, buf[i].instrument);
        lua_setfield(L, -2, "instrument");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ctx:top([instrument]) -> bid, ask, bid_qty, ask_qty (nil when never seen) */
static int l_top(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "top");
    brs_top t;
    if (s->host->xTop(s->ctx, instrument_arg(L, s, 2), &t) < 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, t.bid_price);
    lua_pushinteger(L, t.ask_price);
    lua_pushinteger(L, t.bid_qty);
    lua_pushinteger(L, t.ask_qty);
    return 4;
}

/* ctx:depth("bid"|"ask", n[, instrument]) -> { {price=, qty=}, ... } best first */
static int l_depth(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "depth");
    static const char *const sides[] = {"bid", "ask", NULL};
    uint8_t side = (uint8_t)luaL_checkoption(L, 2, NULL, sides);
    lua_Integer cap = luaL_optinteger(L, 3, 10);
    brs_level lv[32];
    if (cap < 0 || cap > 32)
        cap = 32;
    uint32_t n = 0;
    s->host->xDepth(s->ctx, instrument_arg(L, s, 4), side, lv, (uint32_t)cap, &n);
    lua_createtable(L, (int)n, 0);
    for (uint32_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, lv[i].price);
        lua_setfield(L, -2, "price");
        lua_pushinteger(L, lv[i].qty);
        lua_setfield(L, -2, "qty");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_now(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "now");
    lua_pushinteger(L, s->host->xNow(s->ctx));
    return 1;
}

static int log_at(lua_State *L, int level, const char *method)
{
    brs__lua_strategy *s = ctx_self(L, method);
    int n = lua_gettop(L); /* before buffinit, which may use a stack slot */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= n; i++) {
        if (i > 2)
            luaL_addchar(&b, ' ');
        brs__lua_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    s->host->xLog(s->ctx, level, lua_tostring(L, -1));
    return 0;
}
static int l_log(lua_State *L) { return log_at(L, BRS_LOG_INFO, "log"); }
static int l_debug(lua_State *L) { return log_at(L, BRS_LOG_DEBUG, "debug"); }
static int l_warn(lua_State *L) { return log_at(L, BRS_LOG_WARN, "warn"); }

/* ctx:timer(delay_ns[, interval_ns]) -> id; fires on_timer(ctx, id, now) */
static int l_timer(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "timer");
    lua_Integer delay = luaL_checkinteger(L, 2);
    lua_Integer every = luaL_optinteger(L, 3, 0);
    if (delay < 0 || every < 0)
        return luaL_error(L, "timer delay and interval must be >= 0");
    uint64_t id;
    int64_t now = s->host->xNow(s->ctx);
    /* now + delay saturates: a timer at INT64_MAX never fires */
    int64_t at = delay > INT64_MAX - now ? INT64_MAX : now + delay;
    int rc = s->host->xTimerSet(s->ctx, at, every, &id);
    if (rc < 0)
        return result(L, rc);
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

static int l_cancel_timer(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "cancel_timer");
    return result(L, s->host->xTimerCancel(s->ctx, (uint64_t)luaL_checkinteger(L, 2)));
}

/* ctx:instrument([symbol or id]) -> { id=, symbol=, tick_size=, lot_size=, price_scale= } */
static int l_instrument(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "instrument");
    brs_instrument in;
    if (s->host->xInstrument(s->ctx, instrument_arg(L, s, 2), &in) < 0)
        return luaL_error(L, "unknown instrument");
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, in.id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, in.symbol);
    lua_setfield(L, -2, "symbol");
    lua_pushinteger(L, in.tick_size);
    lua_setfield(L, -2, "tick_size");
    lua_pushinteger(L, in.lot_size);
    lua_setfield(L, -2, "lot_size");
    lua_pushinteger(L, in.price_scale);
    lua_setfield(L, -2, "price_scale");
    return 1;
}

static int l_target(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "target");
    double t = luaL_checknumber(L, 2);
    return result(L, s->host->xSetTarget(s->ctx, instrument_arg(L, s, 3), t));
}

/* ctx:bars([instrument]) -> { n=, ts={...}, open={...}, high=, low=, close=, volume= }:
 * every bar of the run as arrays (1-based), for vectorized signal strategies. */
static int l_bars(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "bars");
    const brs_market_event *b;
    uint64_t n;
    if (!BRS_HOST_HAS(s->host, xBars))
        return result(L, BRS_E_UNSUPPORTED);
    int rc = s->host->xBars(s->ctx, instrument_arg(L, s, 2), &b, &n);
    if (rc < 0)
        return result(L, rc);
    static const char *const names[] = {"ts", "open", "high", "low", "close", "volume"};
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, (lua_Integer)n);
    lua_setfield(L, -2, "n");
    for (int f = 0; f < 6; f++) {
        lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0);
        for (uint64_t i = 0; i < n; i++) {
            int64_t v = f == 0 ? b[i].ts_exchange : f == 1 ? b[i].bar.open : f == 2 ? b[i].bar.high
                      : f == 3 ? b[i].bar.low : f == 4 ? b[i].bar.close : b[i].bar.volume;
            lua_pushinteger(L, (lua_Integer)v);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, names[f]);
    }
    return 1;
}

/* ctx:set_targets(array, [instrument]): array[t] (1-based; nil or NaN keeps
 * the previous target) is the position wanted after bar t's close. */
static int l_set_targets(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "set_targets");
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!BRS_HOST_HAS(s->host, xSetTargets))
        return result(L, BRS_E_UNSUPPORTED);
    uint32_t instrument = instrument_arg(L, s, 3);
    /* the raw length (no __len): the entries are in the table, so within the
     * memory cap, and the copy below is a userdata inside it too */
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    if (n > (lua_Integer)(1 << 27))
        return luaL_error(L, "set_targets: %I entries is too many", n);
    brs__lua_charge(L, s, (uint64_t)n);
    double *t = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *t, 0);
    for (lua_Integer i = 0; i < n; i++) {
        int ty = lua_rawgeti(L, 2, i + 1);
        t[i] = ty == LUA_TNUMBER ? lua_tonumber(L, -1) : (double)NAN;
        lua_pop(L, 1);
    }
    int rc = s->host->xSetTargets(s->ctx, instrument, t, (uint64_t)n);
    return result(L, rc);
}

/* ctx:plot(name, value): a point of a series drawn on the run's report (ABI 1.1
 * host service xPlot). Returns true, or nil and a message (e.g. not a backtest). */
static int l_plot(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "plot");
    const char *name = luaL_checkstring(L, 2);
    double v = luaL_checknumber(L, 3);
    if (!BRS_HOST_HAS(s->host, xPlot))
        return result(L, BRS_E_UNSUPPORTED);
    return result(L, s->host->xPlot(s->ctx, name, v));
}

static const luaL_Reg ctx_methods[] = {
    {"buy", l_buy},         {"sell", l_sell},         {"cancel", l_cancel},
    {"replace", l_replace}, {"cancel_all", l_cancel_all}, {"position", l_position},
    {"pnl", l_pnl},         {"orders", l_orders},     {"top", l_top},
    {"depth", l_depth},     {"now", l_now},           {"log", l_log},
    {"debug", l_debug},     {"warn", l_warn},         {"timer", l_timer},
    {"cancel_timer", l_cancel_timer}, {"instrument", l_instrument}, {"target", l_target},
    {"bars", l_bars}, {"set_targets", l_set_targets}, {"plot", l_plot},
    {NULL, NULL}};

/* ---- loading ---------------------------------------------------------- */

static void free_params(brs__lua_strategy *s)
{
    for (uint32_t i = 0; i < s->n_params; i++) {
        free((char *)s->params[i].name);
        free((char *)s->params[i].def_string);
        free((char *)s->params[i].help);
    }
    free(s->params);
    s->params = NULL;
    s->n_params = 0;
}

static int param_cmp(const void *a, const void *b)
{
    return strcmp(((const brs_param_def *)a)->name, ((const brs_param_def *)b)->name);
}

static char *dupstr(lua_State *L, const char *x)
{
    char *d = strdup(x ? x : "");
    if (!d)
        luaL_error(L, "out of memory");
    return d;
}

/* t[key] without metamethods, pushed; returns its type. */
static int rawfield(lua_State *L, int t, const char *key)
{
    t = lua_absindex(L, t);
    lua_pushstring(L, key);
    return lua_rawget(L, t);
}

/* Read `params = { name = {type=, default=, min=, max=, help=}, ... }` (table at -1).
 * Raw reads only: a definition's __index would run script code in the middle
 * of the walk (which could add parameters after they were counted). */
static void read_params(lua_State *L, brs__lua_strategy *s)
{
    int t = lua_gettop(L);
    uint32_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        n++;
        lua_pop(L, 1);
    }
    if (n == 0)
        return;
    s->params = calloc(n, sizeof *s->params);
    if (!s->params)
        luaL_error(L, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "params: keys must be parameter names (strings)");
        const char *name = lua_tostring(L, -2);
        if (!lua_istable(L, -1))
            luaL_error(L, "params.%s: must be a table like {type=\"int\", default=10}", name);
        if (s->n_params >= n)
            luaL_error(L, "params: the table changed while it was read");
        brs_param_def *d = &s->params[s->n_params++];
        d->name = dupstr(L, name);
        d->min = 1;
        d->max = 0; /* min > max: unbounded */
        rawfield(L, -1, "type");
        const char *ty = lua_tostring(L, -1);
        if (!ty)
            luaL_error(L, "params.%s: needs a type (int, number, bool or string)", name);
        if (!strcmp(ty, "int") || !strcmp(ty, "integer"))
            d->type = BRS_PARAM_INT;
        else if (!strcmp(ty, "number") || !strcmp(ty, "double") || !strcmp(ty, "float"))
            d->type = BRS_PARAM_DOUBLE;
        else if (!strcmp(ty, "bool") || !strcmp(ty, "boolean"))
            d->type = BRS_PARAM_BOOL;
        else if (!strcmp(ty, "string"))
            d->type = BRS_PARAM_STRING;
        else
            luaL_error(L, "params.%s: unknown type '%s' (int, number, bool or string)", name, ty);
        lua_pop(L, 1);
        int has_min = rawfield(L, -1, "min") != LUA_TNIL;
        int has_max = rawfield(L, -2, "max") != LUA_TNIL;
        if ((has_min && !lua_isnumber(L, -2)) || (has_max && !lua_isnumber(L, -1)))
            luaL_error(L, "params.%s: min and max must be numbers", name);
        if (has_min || has_max) {
            d->min = has_min ? lua_tonumber(L, -2) : -1e308;
            d->max = has_max ? lua_tonumber(L, -1) : 1e308;
            if (d->min > d->max)
                luaL_error(L, "params.%s: min %g is above max %g", name, d->min, d->max);
        }
        lua_pop(L, 2);
        int dt = rawfield(L, -1, "default");
        switch (d->type) {
        case BRS_PARAM_INT:
            if (!lua_isinteger(L, -1) && !(dt == LUA_TNUMBER && lua_tonumber(L, -1) == (double)(int64_t)lua_tonumber(L, -1)))
                luaL_error(L, "params.%s: default must be an integer", name);
            d->def = lua_tonumber(L, -1);
            break;
        case BRS_PARAM_DOUBLE:
            if (dt != LUA_TNUMBER)
                luaL_error(L, "params.%s: default must be a number", name);
            d->def = lua_tonumber(L, -1);
            break;
        case BRS_PARAM_BOOL:
            if (dt != LUA_TBOOLEAN)
                luaL_error(L, "params.%s: default must be true or false", name);
            d->def = lua_toboolean(L, -1);
            break;
        default:
            if (dt != LUA_TSTRING)
                luaL_error(L, "params.%s: default must be a string", name);
            d->def_string = dupstr(L, lua_tostring(L, -1));
            break;
        }
        if (d->min <= d->max && d->type != BRS_PARAM_STRING && (d->def < d->min || d->def > d->max))
            luaL_error(L, "params.%s: default %g is outside [%g, %g]", name, d->def, d->min, d->max);
        lua_pop(L, 1);
        if (rawfield(L, -1, "help") == LUA_TSTRING)
            d->help = dupstr(L, lua_tostring(L, -1));
        lua_pop(L, 2);
    }
    qsort(s->params, s->n_params, sizeof *s->params, param_cmp);
}

/* Runs protected: the script table is at 1. Reads name, params, callbacks. */
static int describe(lua_State *L)
{
    /* into the strategy itself, or (reload) into the holder given as upvalue */
    brs__lua_strategy *s = lua_islightuserdata(L, lua_upvalueindex(1))
                               ? lua_touserdata(L, lua_upvalueindex(1))
                               : brs__lua_self(L);
    if (!lua_istable(L, 1))
        return luaL_error(L, "the script must return a table of callbacks (it returned %s)",
                          luaL_typename(L, 1));
    if (lua_getfield(L, 1, "name") == LUA_TSTRING)
        snprintf(s->name, sizeof s->name, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    int pt = lua_getfield(L, 1, "params");
    if (pt == LUA_TTABLE)
        read_params(L, s);
    else if (pt != LUA_TNIL)
        return luaL_error(L, "'params' must be a table");
    lua_pop(L, 1);
    /* A misspelt callback would silently never run: refuse unknown on_* keys. */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        const char *k = lua_tostring(L, -1);
        if (strncmp(k, "on_", 3) != 0)
            continue;
        int known = 0;
        for (int i = 0; i < BRS__LCB_COUNT; i++)
            known |= !strcmp(k, cb_names[i]);
        if (!known)
            return luaL_error(L, "unknown callback '%s' (known: on_start, on_stop, on_bar, on_top, "
                                 "on_trade, on_depth, on_order, on_fill, on_timer, on_reload)", k);
    }
    for (int i = 0; i < BRS__LCB_COUNT; i++) {
        int ty = lua_getfield(L, 1, cb_names[i]);
        if (ty == LUA_TFUNCTION)
            s->cb_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
        else if (ty == LUA_TNIL)
            lua_pop(L, 1);
        else
            return luaL_error(L, "%s must be a function, not a %s", cb_names[i], luaL_typename(L, -1));
    }
    lua_pushvalue(L, 1);
    s->table_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Runs protected: metatables for ctx and events, the reused event userdata. */
static int setup_types(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    luaL_newmetatable(L, CTX_MT);
    luaL_newlib(L, ctx_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    static const struct { const char *mt; lua_CFunction index; size_t size; } ev[4] = {
        {BAR_MT, bar_index, sizeof(brs_market_event)},
        {TRADE_MT, trade_index, sizeof(brs_market_event)},
        {TOP_MT, top_index, sizeof(brs_top)},
        {ORDER_MT, order_index_mm, sizeof(brs_order_event)}};
    s->hot[HOT_BAR] = s->hot[HOT_TOP] = 0;
    for (int i = 0; i < 4; i++) {
        int table = i == 0 || i == 2; /* bar, top: tables of hot fields */
        void *u;
        if (table) {
            lua_createtable(L, 0, 8); /* room for every field: no growth later */
            u = i == 0 ? (void *)&s->ev_bar : (void *)&s->ev_top;
        } else {
            u = lua_newuserdatauv(L, ev[i].size, 0);
        }
        memset(u, 0, ev[i].size);
        luaL_newmetatable(L, ev[i].mt);
        lua_pushcfunction(L, ev[i].index);
        lua_setfield(L, -2, "__index");
        lua_pushstring(L, ev[i].mt + 7);
        lua_setfield(L, -2, "__name");
        if (table) {
            lua_pushcfunction(L, event_newindex);
            lua_setfield(L, -2, "__newindex");
            lua_pushstring(L, ev[i].mt + 7);
            lua_setfield(L, -2, "__metatable");
        }
        lua_setmetatable(L, -2);
        s->ev_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
        switch (i) {
        case 0: s->ud_bar = u; break;
        case 1: s->ud_trade = u; break;
        case 2: s->ud_top = u; break;
        default: s->ud_order = u; break;
        }
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Run a protected C function f with the values on the stack above the handler. */
static int protected_with(brs__lua_strategy *s, lua_CFunction f, void *up, int nargs,
                          const char *what, brs_error *err)
{
    lua_State *L = s->L;
    if (up) {
        lua_pushlightuserdata(L, up);
        lua_pushcclosure(L, f, 1);
    } else {
        lua_pushcfunction(L, f);
    }
    lua_insert(L, -nargs - 1);
    s->cb_name = what;
    brs__lua_budget_reset(s);
    int st = lua_pcall(L, nargs, 0, 1);
    if (st == LUA_OK && !s->killed)
        return BRS_OK;
    if (st == LUA_OK) {
        brs__err(err, BRS_E_SANDBOX, "%s: %s: instruction budget exceeded (%llu VM instructions "
                 "per callback)", s->script, what, (unsigned long long)s->instr_limit);
        lua_settop(L, s->stack_base);
        return BRS_E_SANDBOX;
    }
    int code = st == LUA_ERRMEM || s->killed ? BRS_E_SANDBOX : BRS_E_SCRIPT;
    if (st == LUA_ERRMEM)
        brs__err(err, code, "%s: %s: not enough memory (the script may use %zu bytes)", s->script,
                 what, s->mem_limit);
    else
        brs__err(err, code, "%s: %s: %s", s->script, what, lua_tostring(L, -1));
    lua_settop(L, s->stack_base);
    return code;
}

static int protected(brs__lua_strategy *s, lua_CFunction f, int nargs, const char *what, brs_error *err)
{
    return protected_with(s, f, NULL, nargs, what, err);
}

static const brs_strategy_vtable lua_vtable_template;
static int lx_on_bar(void *self, const brs_market_event *bar);
static int lx_on_trade(void *self, const brs_market_event *trade);
static int lx_on_top(void *self, const brs_top *top);
static int lx_on_depth(void *self, uint32_t instrument);
static int lx_on_order(void *self, const brs_order_event *ev);
static int lx_on_timer(void *self, uint64_t timer_id, int64_t now);

/* The vtable shows the callbacks the script has (NULL: not interested), so the
 * engine never calls into Lua for nothing; again after a hot reload. */
static void set_callbacks(brs__lua_strategy *s)
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

int brs__lua_strategy_load_buffer(brs__lua_strategy **out, const char *text, size_t len,
                                  const char *name, const brs__lua_opts *opts, brs_error *err)
{
    *out = NULL;
    brs__lua_strategy *s = calloc(1, sizeof *s);
    if (!s)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    snprintf(s->script, sizeof s->script, "%s", name);
    snprintf(s->name, sizeof s->name, "%s", base_name(name));
    char *dot = strrchr(s->name, '.');
    if (dot && !strcmp(dot, ".lua"))
        *dot = 0;
    s->mem_limit = opts && opts->mem_limit ? opts->mem_limit : BRS__LUA_DEFAULT_MEM;
    s->instr_limit = opts && opts->instr_limit ? opts->instr_limit : BRS__LUA_DEFAULT_INSTR;
    uint64_t cpu_ms = opts && opts->cpu_limit_ms ? opts->cpu_limit_ms : BRS__LUA_DEFAULT_CPU_MS;
    s->cpu_limit_ns = cpu_ms >= UINT64_MAX / 1000000 ? 0 : cpu_ms * 1000000;
    s->seed = opts ? opts->seed : 0;
    s->ctx_ref = LUA_NOREF;
    s->table_ref = LUA_NOREF;
    s->stack_base = 1;
    for (int i = 0; i < BRS__LCB_COUNT; i++)
        s->cb_ref[i] = LUA_NOREF;
    s->L = brs__lua_sandbox_new(s);
    if (!s->L) {
        free(s);
        return brs__err(err, BRS_E_NOMEM, "%s: cannot create a Lua state within %zu bytes", name,
                        opts && opts->mem_limit ? opts->mem_limit : (size_t)BRS__LUA_DEFAULT_MEM);
    }
    lua_State *L = s->L;
    lua_pushcfunction(L, brs__lua_msgh); /* stays at index 1 for every call */
    char chunk[300];
    snprintf(chunk, sizeof chunk, "@%s", name);
    int st = luaL_loadbufferx(L, text, len, chunk, "t");
    if (st != LUA_OK) {
        int code = st == LUA_ERRMEM ? BRS_E_SANDBOX : BRS_E_SCRIPT;
        brs__err(err, code, "%s: cannot load: %s", name,
                 st == LUA_ERRMEM ? "not enough memory" : lua_tostring(L, -1));
        brs__lua_strategy_free(s);
        return code;
    }
    s->cb_name = "main chunk";
    brs__lua_budget_reset(s);
    st = lua_pcall(L, 0, 1, 1);
    if (st == LUA_OK && s->killed) { /* it caught the kill and returned */
        brs__err(err, BRS_E_SANDBOX, "%s: in main chunk: instruction budget exceeded (%llu VM "
                 "instructions per callback)", name, (unsigned long long)s->instr_limit);
        brs__lua_strategy_free(s);
        return BRS_E_SANDBOX;
    }
    if (st != LUA_OK) {
        int code = st == LUA_ERRMEM || s->killed ? BRS_E_SANDBOX : BRS_E_SCRIPT;
        if (st == LUA_ERRMEM)
            brs__err(err, code, "%s: in main chunk: not enough memory (the script may use %zu bytes)",
                     name, s->mem_limit);
        else
            brs__err(err, code, "%s: in main chunk: %s", name, lua_tostring(L, -1));
        brs__lua_strategy_free(s);
        return code;
    }
    int rc = protected(s, describe, 1, "reading the script table", err);
    if (rc == BRS_OK) {
        lua_settop(L, 1);
        rc = protected(s, setup_types, 0, "setting up", err);
    }
    if (rc) {
        brs__lua_strategy_free(s);
        return rc;
    }
    s->vt = lua_vtable_template;
    s->vt.params = s->params;
    s->vt.n_params = s->n_params;
    set_callbacks(s);
    *out = s;
    return BRS_OK;
}

/* ---- hot reload ------------------------------------------------------- */

static int same_params(const brs__lua_strategy *a, const brs__lua_strategy *b)
{
    if (a->n_params != b->n_params)
        return 0;
    for (uint32_t i = 0; i < a->n_params; i++) {
        const brs_param_def *x = &a->params[i], *y = &b->params[i];
        if (strcmp(x->name, y->name) || x->type != y->type || x->def != y->def ||
            x->min != y->min || x->max != y->max ||
            strcmp(x->def_string ? x->def_string : "", y->def_string ? y->def_string : ""))
            return 0;
    }
    return 1;
}

int brs__lua_strategy_reload(brs__lua_strategy *s, const char *text, size_t len, brs_error *err)
{
    if (!s->L || !s->host || s->ctx_ref == LUA_NOREF || s->killed)
        return brs__err(err, BRS_E_STATE, "%s: only an open, running strategy can be reloaded", s->script);
    if (s->running)
        return brs__err(err, BRS_E_STATE, "%s: reload between events, not from a callback", s->script);
    lua_State *L = s->L;
    brs__lua_strategy *t = calloc(1, sizeof *t); /* holds the new version until it is accepted */
    if (!t)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (int i = 0; i < BRS__LCB_COUNT; i++)
        t->cb_ref[i] = LUA_NOREF;
    t->table_ref = LUA_NOREF;
    int rc = BRS_OK;
    char chunk[300];
    snprintf(chunk, sizeof chunk, "@%s", s->script);
    int st = luaL_loadbufferx(L, text, len, chunk, "t");
    if (st == LUA_OK) {
        s->cb_name = "reload";
        brs__lua_budget_reset(s);
        s->running = 1;
        st = lua_pcall(L, 0, 1, 1);
        s->running = 0;
    }
    if (st != LUA_OK) {
        rc = st == LUA_ERRMEM || s->killed ? BRS_E_SANDBOX : BRS_E_SCRIPT;
        brs__err(err, rc, "%s: reload refused, the running version stays: %s", s->script,
                 st == LUA_ERRMEM ? "not enough memory" : lua_tostring(L, -1));
        goto fail;
    }
    rc = protected_with(s, describe, t, 1, "reload refused, the running version stays", err);
    if (rc)
        goto fail;
    if (!same_params(s, t)) {
        rc = brs__err(err, BRS_E_INVAL, "%s: reload refused, the running version stays: the "
                      "parameter declarations changed (restart the strategy to change them)", s->script);
        goto fail;
    }
    int cb = t->cb_ref[BRS__LCB_RELOAD] != LUA_NOREF ? BRS__LCB_RELOAD : BRS__LCB_START;
    if (t->cb_ref[cb] != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->cb_ref[cb]);
        lua_pushvalue(L, SLOT_CTX);
        int nargs = 1;
        if (cb == BRS__LCB_RELOAD) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, s->table_ref);
            nargs = 2;
        }
        s->cb_name = cb_names[cb];
        brs__lua_budget_reset(s);
        s->running = 1;
        st = lua_pcall(L, nargs, 0, 1);
        s->running = 0;
        if (st != LUA_OK) {
            rc = st == LUA_ERRMEM || s->killed ? BRS_E_SANDBOX : BRS_E_SCRIPT;
            brs__err(err, rc, "%s: reload refused, the running version stays: in %s: %s", s->script,
                     cb_names[cb], st == LUA_ERRMEM ? "not enough memory" : lua_tostring(L, -1));
            goto fail;
        }
    }
    /* accepted: the new callbacks take the stack slots of the old ones */
    for (int i = 0; i < BRS__LCB_COUNT; i++) {
        luaL_unref(L, LUA_REGISTRYINDEX, s->cb_ref[i]);
        s->cb_ref[i] = t->cb_ref[i];
        if (s->cb_ref[i] == LUA_NOREF)
            lua_pushnil(L);
        else
            lua_rawgeti(L, LUA_REGISTRYINDEX, s->cb_ref[i]);
        lua_replace(L, SLOT_CB0 + i);
    }
    cb_fast_forget(s);
    luaL_unref(L, LUA_REGISTRYINDEX, s->table_ref);
    s->table_ref = t->table_ref;
    set_callbacks(s);
    free_params(t);
    free(t);
    lua_settop(L, s->stack_base);
    return BRS_OK;
fail:
    for (int i = 0; i < BRS__LCB_COUNT; i++)
        luaL_unref(L, LUA_REGISTRYINDEX, t->cb_ref[i]);
    luaL_unref(L, LUA_REGISTRYINDEX, t->table_ref);
    free_params(t);
    free(t);
    lua_settop(L, s->stack_base);
    return rc;
}

int brs__lua_strategy_load(brs__lua_strategy **out, const char *path, const brs__lua_opts *opts,
                           brs_error *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = brs__read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = brs__lua_strategy_load_buffer(out, text, len, path, opts, err);
    free(text);
    return rc;
}

const brs_strategy_vtable *brs__lua_strategy_vtable(const brs__lua_strategy *s) { return &s->vt; }
const char *brs__lua_strategy_name(const brs__lua_strategy *s) { return s->name; }
size_t brs__lua_strategy_mem(const brs__lua_strategy *s, size_t *peak)
{
    if (peak)
        *peak = s->mem_peak;
    return s->mem_used;
}

static void close_state(brs__lua_strategy *s)
{
    if (!s->L)
        return;
    /* Finalizers run under a fresh budget; a killed script's run not at all. */
    s->cb_name = "closing";
    brs__lua_budget_reset(s);
    lua_close(s->L);
    s->L = NULL;
}

void brs__lua_strategy_free(brs__lua_strategy *s)
{
    if (!s)
        return;
    close_state(s);
    free_params(s);
    free(s);
}

/* ---- the vtable ------------------------------------------------------- */

/* Runs protected: builds ctx = setmetatable({params=..., indicators=...}, ctx mt). */
static int make_ctx(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    lua_createtable(L, 0, 2);
    lua_createtable(L, 0, (int)s->n_params);
    for (uint32_t i = 0; i < s->n_params; i++) {
        const brs_param_def *d = &s->params[i];
        int64_t iv = 0;
        double dv = 0;
        const char *sv = NULL;
        switch (d->type) {
        case BRS_PARAM_INT:
            if (s->host->xParamInt(s->ctx, d->name, &iv) != BRS_OK)
                iv = (int64_t)d->def;
            lua_pushinteger(L, iv);
            break;
        case BRS_PARAM_BOOL:
            if (s->host->xParamInt(s->ctx, d->name, &iv) != BRS_OK)
                iv = d->def != 0;
            lua_pushboolean(L, iv != 0);
            break;
        case BRS_PARAM_DOUBLE:
            if (s->host->xParamDouble(s->ctx, d->name, &dv) != BRS_OK)
                dv = d->def;
            lua_pushnumber(L, dv);
            break;
        default:
            if (s->host->xParamString(s->ctx, d->name, &sv) != BRS_OK)
                sv = d->def_string;
            lua_pushstring(L, sv ? sv : "");
            break;
        }
        lua_setfield(L, -2, d->name);
    }
    lua_setfield(L, -2, "params");
    brs__lua_push_indicators(L);
    lua_setfield(L, -2, "indicators");
    luaL_setmetatable(L, CTX_MT);
    s->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int lx_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    brs__lua_strategy *s = self;
    if (!s->L)
        return brs__err(err, BRS_E_STATE, "%s: the script's state is gone", s->script);
    s->host = host;
    s->ctx = ctx;
    int rc = protected(s, make_ctx, 0, "opening", err);
    if (rc)
        return rc;
    lua_State *L = s->L;
    if (!lua_checkstack(L, SLOT_KEY0 + 15 + 8))
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
    for (int k = 0; k < 2; k++)
        for (int i = 0; hot_fields[k][i]; i++)
            lua_pushstring(L, hot_fields[k][i]);
    s->stack_base = lua_gettop(L);
    cb_fast_forget(s);
    return BRS_OK;
}

static void lx_close(void *self)
{
    brs__lua_strategy *s = self;
    close_state(s);
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
    refresh_hot(s, HOT_BAR, SLOT_EV0 + 0);
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
    refresh_hot(s, HOT_TOP, SLOT_EV0 + 2);
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
    int rc = BRS_OK;
    if (ev->kind == BRS_OEV_FILL && s->cb_ref[BRS__LCB_FILL] != LUA_NOREF) {
        push_cb(s, BRS__LCB_FILL);
        lua_pushvalue(s->L, SLOT_EV0 + 3);
        rc = call(s, 2, BRS__LCB_FILL);
    }
    if (rc == BRS_OK && s->cb_ref[BRS__LCB_ORDER] != LUA_NOREF) {
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

static const brs_strategy_vtable lua_vtable_template = {
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
