/* lua_ctx.c: the ctx object a Lua strategy's callbacks receive: a table of
 * the run's parameters and indicators whose methods (ctx:buy{...},
 * ctx:position(), ctx:timer(...), ...) call the brs_host services. Arguments
 * are checked here, so a script's mistake is a Lua error naming the method. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "lua_internal.h"

/* ---- ctx methods ------------------------------------------------------ */

static brs__lua_strategy *ctx_self(lua_State *L, const char *method)
{
    brs__lua_strategy *s = brs__lua_self(L);
    /* the same test as lua_rawequal with the ctx from the registry (a table
     * is raw-equal to itself only), without fetching it: ~40 instructions
     * instead of ~145 per ctx method call */
    if (lua_type(L, 1) != LUA_TTABLE || lua_topointer(L, 1) != s->ctx_table)
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
        lua_pushstring(L, brs__lua_side_name(buf[i].side));
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
 * every bar of the run as arrays (1-based), for vectorized signal strategies.
 * Read from the host's columns (xBarColumns), so no 64-byte records are made. */
static int l_bars(lua_State *L)
{
    brs__lua_strategy *s = ctx_self(L, "bars");
    brs_bar_columns c = {.size = sizeof c};
    if (!BRS_HOST_HAS(s->host, xBarColumns))
        return result(L, BRS_E_UNSUPPORTED);
    int rc = s->host->xBarColumns(s->ctx, instrument_arg(L, s, 2), &c);
    if (rc < 0)
        return result(L, rc);
    uint64_t n = c.n;
    static const char *const names[] = {"ts", "open", "high", "low", "close", "volume"};
    const int64_t *const col[] = {c.ts, c.open, c.high, c.low, c.close, c.volume};
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, (lua_Integer)n);
    lua_setfield(L, -2, "n");
    for (int f = 0; f < 6; f++) {
        lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0);
        for (uint64_t i = 0; i < n; i++) {
            int64_t v = col[f][i];
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

/* The ctx metatable (its methods as __index), on no stack slot. */
void brs__lua_ctx_type(lua_State *L)
{
    luaL_newmetatable(L, BRS__LUA_CTX_MT);
    luaL_newlib(L, ctx_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* Runs protected: builds ctx = setmetatable({params=..., indicators=...,
 * the methods}, ctx mt). The methods are in ctx itself as well as in the
 * metatable's __index: `ctx:target(...)` is then one table read instead of a
 * miss, the metatable and a second read (~115 instructions per method call,
 * luaV_finishget); a method the script removed from ctx is still found
 * through __index, as before. */
int brs__lua_make_ctx(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    lua_createtable(L, 0, 2 + (int)(sizeof ctx_methods / sizeof ctx_methods[0]) - 1);
    luaL_setfuncs(L, ctx_methods, 0);
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
    luaL_setmetatable(L, BRS__LUA_CTX_MT);
    s->ctx_table = lua_topointer(L, -1); /* alive while ctx_ref holds it */
    s->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}
