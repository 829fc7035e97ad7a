/* lua_indicators.c: api/bourse/indicators.h as Lua userdata, so scripts and C
 * plugins compute exactly the same numbers. `ctx.indicators.sma(20)` returns an
 * object with :update(...), :value(), :ready(); the window buffer lives inside
 * one userdata block (Lua never moves it), so an update allocates nothing. */
#include <string.h>

#include <bourse/indicators.h>

#include "lua_internal.h"

#define IND_MAX_PERIOD 1000000

enum { K_SMA, K_EMA, K_RSI, K_ATR, K_BOLL, K_STDDEV, K_VWAP, K_ZSCORE };

typedef struct lind {
    int kind;
    union {
        brs_sma sma;
        brs_ema ema;
        brs_rsi rsi;
        brs_atr atr;
        brs_bollinger boll;
        brs_stddev sd;
        brs_vwap vwap;
        brs_zscore z;
    } u;
    double buf[]; /* the window */
} lind;

/* An indicator is a table of C closures sharing one userdata as upvalue: a
 * method call is then a plain table lookup plus a C call, with no type check
 * to make (each closure only ever sees its own indicator). */
static inline lind *self_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

static int push_value(lua_State *L, const lind *x)
{
    switch (x->kind) {
    case K_SMA: if (!brs_sma_ready(&x->u.sma)) break; lua_pushnumber(L, brs_sma_value(&x->u.sma)); return 1;
    case K_EMA: if (!brs_ema_ready(&x->u.ema)) break; lua_pushnumber(L, brs_ema_value(&x->u.ema)); return 1;
    case K_RSI: if (!brs_rsi_ready(&x->u.rsi)) break; lua_pushnumber(L, brs_rsi_value(&x->u.rsi)); return 1;
    case K_ATR: if (!brs_atr_ready(&x->u.atr)) break; lua_pushnumber(L, brs_atr_value(&x->u.atr)); return 1;
    case K_STDDEV: if (!brs_stddev_ready(&x->u.sd)) break; lua_pushnumber(L, brs_stddev_value(&x->u.sd)); return 1;
    case K_VWAP: if (!brs_vwap_ready(&x->u.vwap)) break; lua_pushnumber(L, brs_vwap_value(&x->u.vwap)); return 1;
    case K_ZSCORE: if (!brs_zscore_ready(&x->u.z)) break; lua_pushnumber(L, brs_zscore_value(&x->u.z)); return 1;
    case K_BOLL:
        if (!brs_bollinger_ready(&x->u.boll))
            break;
        lua_pushnumber(L, x->u.boll.mid);
        lua_pushnumber(L, x->u.boll.upper);
        lua_pushnumber(L, x->u.boll.lower);
        return 3;
    }
    lua_pushnil(L);
    return 1;
}

/* update(x) / update(high, low, close) for ATR / update(price, volume) for
 * VWAP: returns the new value (Bollinger: mid, upper, lower), nil until ready. */
static int m_update(lua_State *L)
{
    lind *x = self_of(L);
    switch (x->kind) {
    case K_SMA: brs_sma_update(&x->u.sma, luaL_checknumber(L, 2)); break;
    case K_EMA: brs_ema_update(&x->u.ema, luaL_checknumber(L, 2)); break;
    case K_RSI: brs_rsi_update(&x->u.rsi, luaL_checknumber(L, 2)); break;
    case K_STDDEV: brs_stddev_update(&x->u.sd, luaL_checknumber(L, 2)); break;
    case K_ZSCORE: brs_zscore_update(&x->u.z, luaL_checknumber(L, 2)); break;
    case K_BOLL: brs_bollinger_update(&x->u.boll, luaL_checknumber(L, 2)); break;
    case K_ATR:
        brs_atr_update(&x->u.atr, luaL_checknumber(L, 2), luaL_checknumber(L, 3), luaL_checknumber(L, 4));
        break;
    case K_VWAP: brs_vwap_update(&x->u.vwap, luaL_checknumber(L, 2), luaL_checknumber(L, 3)); break;
    }
    return push_value(L, x);
}

/* update(x) of an SMA, the most used indicator: no dispatch on the kind, and
 * an integer argument (a price in ticks) converted directly. Same numbers as
 * m_update. */
static int m_update_sma(lua_State *L)
{
    lind *x = self_of(L);
    /* one API call for the common integer: lua_tointegerx also accepts a float
     * or string with an integral value, which converts to the same double as
     * luaL_checknumber would give */
    int isint;
    lua_Integer iv = lua_tointegerx(L, 2, &isint);
    double v = isint ? (double)iv : luaL_checknumber(L, 2);
    brs_sma_update(&x->u.sma, v);
    if (brs_sma_ready(&x->u.sma))
        lua_pushnumber(L, brs_sma_value(&x->u.sma));
    else
        lua_pushnil(L);
    return 1;
}

static int m_value(lua_State *L) { return push_value(L, self_of(L)); }

static int m_ready(lua_State *L)
{
    lind *x = self_of(L);
    push_value(L, x);
    lua_pushboolean(L, !lua_isnil(L, -1));
    return 1;
}

static int m_reset(lua_State *L)
{
    lind *x = self_of(L);
    if (x->kind == K_VWAP)
        brs_vwap_reset(&x->u.vwap);
    else
        return luaL_error(L, "reset() exists for vwap only; make a new indicator instead");
    return 0;
}

static lind *make(lua_State *L, int kind, lua_Integer period, size_t doubles)
{
    if (period < 1 || period > IND_MAX_PERIOD)
        luaL_error(L, "indicator period must be between 1 and %d (got %I)", IND_MAX_PERIOD, period);
    static const char *names[] = {"sma", "ema", "rsi", "atr", "bollinger", "stddev", "vwap", "zscore"};
    static const luaL_Reg methods[] = {{"update", m_update}, {"value", m_value}, {"ready", m_ready},
                                       {"reset", m_reset},   {NULL, NULL}};
    lua_createtable(L, 0, 5);
    lind *x = lua_newuserdatauv(L, sizeof(lind) + doubles * sizeof(double), 0);
    memset(x, 0, sizeof *x);
    x->kind = kind;
    luaL_setfuncs(L, methods, 1); /* every method gets the userdata as upvalue 1 */
    if (kind == K_SMA) { /* its own update, over the same userdata */
        lua_getfield(L, -1, "value");
        lua_getupvalue(L, -1, 1);
        lua_pushcclosure(L, m_update_sma, 1);
        lua_setfield(L, -3, "update");
        lua_pop(L, 1);
    }
    lua_pushstring(L, names[kind]);
    lua_setfield(L, -2, "kind");
    return x;
}

static lua_Integer period_arg(lua_State *L, int i) { return luaL_checkinteger(L, i); }

static int c_sma(lua_State *L)
{
    lua_Integer n = period_arg(L, 1);
    lind *x = make(L, K_SMA, n, (size_t)n);
    brs_sma_init(&x->u.sma, x->buf, (uint32_t)n);
    return 1;
}
static int c_ema(lua_State *L)
{
    lua_Integer n = period_arg(L, 1);
    lind *x = make(L, K_EMA, n, 0);
    brs_ema_init(&x->u.ema, (uint32_t)n);
    return 1;
}
static int c_rsi(lua_State *L)
{
    lua_Integer n = luaL_optinteger(L, 1, 14);
    lind *x = make(L, K_RSI, n, 0);
    brs_rsi_init(&x->u.rsi, (uint32_t)n);
    return 1;
}
static int c_atr(lua_State *L)
{
    lua_Integer n = luaL_optinteger(L, 1, 14);
    lind *x = make(L, K_ATR, n, 0);
    brs_atr_init(&x->u.atr, (uint32_t)n);
    return 1;
}
static int c_stddev(lua_State *L)
{
    lua_Integer n = period_arg(L, 1);
    lind *x = make(L, K_STDDEV, n, (size_t)n);
    brs_stddev_init(&x->u.sd, x->buf, (uint32_t)n);
    return 1;
}
static int c_zscore(lua_State *L)
{
    lua_Integer n = period_arg(L, 1);
    lind *x = make(L, K_ZSCORE, n, (size_t)n);
    brs_zscore_init(&x->u.z, x->buf, (uint32_t)n);
    return 1;
}
static int c_bollinger(lua_State *L)
{
    lua_Integer n = luaL_optinteger(L, 1, 20);
    double k = luaL_optnumber(L, 2, 2.0);
    lind *x = make(L, K_BOLL, n, (size_t)n);
    brs_bollinger_init(&x->u.boll, x->buf, (uint32_t)n, k);
    return 1;
}
/* vwap() is cumulative (until reset()); vwap(n) covers the last n updates. */
static int c_vwap(lua_State *L)
{
    lua_Integer n = luaL_optinteger(L, 1, 0);
    if (n < 0 || n > IND_MAX_PERIOD)
        return luaL_error(L, "vwap window must be between 0 and %d", IND_MAX_PERIOD);
    lind *x = make(L, K_VWAP, n ? n : 1, 2 * (size_t)n);
    brs_vwap_init(&x->u.vwap, n ? x->buf : NULL, (uint32_t)n);
    return 1;
}

void brs__lua_push_indicators(lua_State *L)
{
    static const luaL_Reg ctors[] = {{"sma", c_sma},       {"ema", c_ema},         {"rsi", c_rsi},
                                     {"atr", c_atr},       {"stddev", c_stddev},   {"zscore", c_zscore},
                                     {"bollinger", c_bollinger}, {"vwap", c_vwap}, {NULL, NULL}};
    luaL_newlib(L, ctors);
}
