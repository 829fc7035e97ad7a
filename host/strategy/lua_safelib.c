/* lua_safelib.c: the sandbox's replacements for standard library functions
 * that stock Lua runs in C without counting their work (table.move of 2^62
 * elements, table.concat of millions of strings, utf8.len over 30 MB...), or
 * that could run script code with hooks off (an xpcall handler or a __close
 * of a killed script) or nest C calls Lua 5.4.4 does not count (coroutine
 * closing), or that leak the machine into a backtest (tostring addresses,
 * math.randomseed from the clock). Each charges its work to the instruction
 * budget before doing it (docs/lua-api.md, "The sandbox"). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lua_internal.h"

/* Work per byte scanned in C: one instruction per this many bytes. */
#define SCAN_BYTES_PER_STEP 4

static uint64_t span(lua_Integer lo, lua_Integer hi)
{
    return hi < lo ? 0 : (uint64_t)hi - (uint64_t)lo + 1;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Call the stock function (upvalue 1) with the arguments on the stack. */
static int call_stock_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    return lua_gettop(L);
}

static int call_stock(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, call_stock_k);
    return lua_gettop(L);
}

/* ---- table ------------------------------------------------------------ */

/* Argument 1 must be a table, or a value with a metatable (a proxy): the
 * usual "bad argument #1 ... (table expected, got nil)" otherwise. */
static void check_tab(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE)
        return;
    if (lua_getmetatable(L, 1))
        lua_pop(L, 1);
    else
        luaL_checktype(L, 1, LUA_TTABLE);
}

/* table.move(a1, f, e, t [,a2]): e - f + 1 element copies. */
static int safe_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    luaL_checkinteger(L, 4);
    if (e >= f && (f > 0 || e < LUA_MAXINTEGER + f)) /* else stock Lua refuses it */
        brs__lua_charge(L, brs__lua_self(L), span(f, e));
    return call_stock(L);
}

/* table.concat(t [, sep [, i [, j]]]): the length is read once (its __len
 * runs under the budget) and handed to stock concat, which then never reads
 * it again; charged one per element and per 16 bytes of separator. */
static int safe_concat(lua_State *L)
{
    check_tab(L);
    size_t lsep = 0;
    luaL_optlstring(L, 2, "", &lsep);
    lua_Integer i = luaL_optinteger(L, 3, 1);
    lua_Integer j = lua_isnoneornil(L, 4) ? luaL_len(L, 1) : luaL_checkinteger(L, 4);
    brs__lua_charge(L, brs__lua_self(L), mul_sat(span(i, j), 1 + lsep / 16));
    lua_settop(L, 2);
    if (lua_isnil(L, 2)) {
        lua_pushliteral(L, "");
        lua_replace(L, 2);
    }
    lua_pushinteger(L, i);
    lua_pushinteger(L, j);
    return call_stock(L);
}

/* table.unpack(t [, i [, j]]): one per value, length read once as above. */
static int safe_unpack(lua_State *L)
{
    check_tab(L);
    lua_Integer i = luaL_optinteger(L, 2, 1);
    lua_Integer j = lua_isnoneornil(L, 3) ? luaL_len(L, 1) : luaL_checkinteger(L, 3);
    brs__lua_charge(L, brs__lua_self(L), span(i, j));
    lua_settop(L, 1);
    lua_pushinteger(L, i);
    lua_pushinteger(L, j);
    return call_stock(L);
}

/* table.insert(t, [pos,] v), as the manual describes it, charged one per
 * element shifted; the length is read once. */
static int safe_insert(lua_State *L)
{
    check_tab(L);
    lua_Integer e = luaL_len(L, 1) + 1; /* first empty slot */
    lua_Integer pos;
    switch (lua_gettop(L)) {
    case 2: pos = e; break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
        brs__lua_charge(L, brs__lua_self(L), span(pos, e - 1));
        for (lua_Integer k = e; k > pos; k--) {
            lua_geti(L, 1, k - 1);
            lua_seti(L, 1, k);
        }
        break;
    default: return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

/* table.remove(t [, pos]), the same way. */
static int safe_remove(lua_State *L)
{
    check_tab(L);
    lua_Integer size = luaL_len(L, 1);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size)
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
    brs__lua_charge(L, brs__lua_self(L), span(pos, size));
    lua_geti(L, 1, pos);
    for (; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

static uint64_t nlogn(uint64_t n)
{
    uint64_t lg = 1;
    while ((UINT64_C(1) << lg) < n && lg < 63)
        lg++;
    return mul_sat(n, lg);
}

/* table.sort compares in C n log2 n times: charged before it sorts (a Lua
 * comparison function is counted by the hook as well). A table whose length
 * comes from a __len metamethod (a proxy) is copied once into a plain table
 * (length read once, under the budget), sorted there and copied back, so the
 * length charged is the length sorted. */
static int safe_sort(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    int plain = lua_type(L, 1) == LUA_TTABLE;
    if (plain && lua_getmetatable(L, 1)) {
        lua_pushliteral(L, "__len");
        plain = lua_rawget(L, -2) == LUA_TNIL;
        lua_pop(L, 2);
    }
    check_tab(L);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    if (plain) {
        brs__lua_charge(L, s, nlogn((uint64_t)lua_rawlen(L, 1)));
        return call_stock(L);
    }
    lua_Integer n = luaL_len(L, 1);
    if (n < 2)
        return 0;
    luaL_argcheck(L, n < INT_MAX, 1, "array too big");
    brs__lua_charge(L, s, 2 * (uint64_t)n + nlogn((uint64_t)n));
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        lua_rawseti(L, 3, i);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, i);
        lua_seti(L, 1, i);
    }
    return 0;
}

/* ---- strings ---------------------------------------------------------- */

/* utf8.len/codepoint/offset, string.byte: scan (or push) up to #s: charged
 * one per SCAN_BYTES_PER_STEP bytes of the string. */
static int safe_scan(lua_State *L)
{
    size_t l = 0;
    if (lua_type(L, 1) == LUA_TSTRING)
        lua_tolstring(L, 1, &l);
    brs__lua_charge(L, brs__lua_self(L), l / SCAN_BYTES_PER_STEP);
    return call_stock(L);
}

/* string.rep(s, n [, sep]): stock Lua loops n times even when s and sep are
 * empty (string.rep("", 2^62) never returned): charged one per 8 turns then.
 * Otherwise the allocation (within the memory cap, charged) bounds the loop. */
static int safe_rep(lua_State *L)
{
    size_t l, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n > 0 && l + lsep == 0)
        brs__lua_charge(L, brs__lua_self(L), (uint64_t)n / 8);
    return call_stock(L);
}

/* string.format: '%p' would print an address, and '%s' of a table a
 * default tostring with one: '%s' goes through the sandbox's tostring,
 * '%p' is refused. */
static int safe_format(lua_State *L)
{
    size_t len;
    const char *f = luaL_checklstring(L, 1, &len), *end = f + len;
    int arg = 1;
    for (const char *p = f; p < end; p++) {
        if (*p != '%')
            continue;
        if (++p < end && *p == '%')
            continue;
        while (p < end && strchr("-+ #0123456789.", *p))
            p++;
        if (p >= end)
            break;
        arg++;
        if (*p == 'p')
            return luaL_error(L, "string.format: '%%p' is not available in the strategy sandbox");
        if (*p == 's' && arg <= lua_gettop(L) && lua_type(L, arg) != LUA_TSTRING &&
            lua_type(L, arg) != LUA_TNUMBER) {
            brs__lua_tolstring(L, arg, NULL);
            lua_replace(L, arg);
        }
    }
    return call_stock(L);
}

/* tostring without addresses: a table, function, thread or userdata with no
 * __tostring shows its type (or __name) and an id handed out in the order
 * values are first shown, the same on every run. */
const char *brs__lua_tolstring(lua_State *L, int idx, size_t *len)
{
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t != LUA_TTABLE && t != LUA_TFUNCTION && t != LUA_TTHREAD && t != LUA_TUSERDATA &&
        t != LUA_TLIGHTUSERDATA)
        return luaL_tolstring(L, idx, len);
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        return luaL_tolstring(L, idx, len);
    }
    brs__lua_strategy *s = brs__lua_self(L);
    static const char ids_key = 0;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ids_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &ids_key);
    }
    lua_pushvalue(L, idx);
    lua_Integer id;
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
        id = lua_tointeger(L, -1);
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        id = ++s->tostring_ids;
        lua_pushvalue(L, idx);
        lua_pushinteger(L, id);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    const char *kind = luaL_typename(L, idx);
    int nt = luaL_getmetafield(L, idx, "__name");
    if (nt == LUA_TSTRING)
        kind = lua_tostring(L, -1);
    else if (nt != LUA_TNIL)
        lua_pop(L, 1);
    lua_pushfstring(L, "%s: %I", kind, id);
    if (nt == LUA_TSTRING)
        lua_remove(L, -2);
    return lua_tolstring(L, -1, len);
}

static int safe_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    brs__lua_tolstring(L, 1, NULL);
    return 1;
}

/* ---- load ------------------------------------------------------------- */

/* A load reader: each call charged 16, plus what it returns. */
static int charged_reader(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    brs__lua_charge(L, s, 16);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    if (lua_type(L, -1) == LUA_TSTRING)
        brs__lua_charge(L, s, lua_rawlen(L, -1) / SCAN_BYTES_PER_STEP);
    return 1;
}

/* load(chunk [, name [, mode [, env]]]) of text only: the mode is forced to
 * "t" and the environment defaults to the sandbox's globals, so bytecode never
 * reaches the VM. The parse is charged by the chunk's size. */
static int safe_load(lua_State *L)
{
    if (lua_gettop(L) < 3)
        lua_settop(L, 3);
    brs__lua_strategy *s = brs__lua_self(L);
    if (lua_type(L, 1) == LUA_TSTRING) {
        brs__lua_charge(L, s, lua_rawlen(L, 1) / SCAN_BYTES_PER_STEP);
    } else if (lua_type(L, 1) == LUA_TFUNCTION) {
        lua_pushvalue(L, 1);
        lua_pushcclosure(L, charged_reader, 1);
        lua_replace(L, 1);
    }
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    return call_stock(L);
}

/* ---- errors and coroutines -------------------------------------------- */

/* xpcall's handler runs where the error was raised: for the budget's kill,
 * inside the count hook, where hooks are off, so a handler that loops would
 * never be stopped. A killed strategy's handlers are not run: the error goes
 * through unchanged. */
static int guarded_handler(lua_State *L)
{
    if (brs__lua_self(L)->killed) {
        lua_settop(L, 1);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int safe_xpcall(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    return call_stock(L);
}

/* Closing a coroutine runs its pending __close handlers in a C call Lua
 * 5.4.4 does not count against its C-stack limit: bound the C stack below
 * the callback's entry instead. A killed strategy's coroutines are never
 * closed (a coroutine killed by the hook kept hooks off, so its __close
 * handlers would run unhooked). */
static void closing_guard(lua_State *L, brs__lua_strategy *s)
{
    if (s->killed)
        brs__lua_budget_kill(L);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (s->cstack_base > here && s->cstack_base - here > BRS__LUA_CSTACK_MAX)
        luaL_error(L, "coroutines closed inside __close handlers nested too deep "
                      "(more than %d KiB of C stack)", (int)(BRS__LUA_CSTACK_MAX >> 10));
}

static int safe_close(lua_State *L)
{
    closing_guard(L, brs__lua_self(L));
    return call_stock(L);
}

/* coroutine.wrap, written for the sandbox: stock Lua closes a failed wrapped
 * coroutine itself (running its __close handlers) where neither guard above
 * could see it. */
static int wrap_call(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int narg = lua_gettop(L), st = lua_status(co);
    lua_Debug ar;
    if (co == L || (st == LUA_OK && lua_getstack(co, 0, &ar)))
        return luaL_error(L, "cannot resume non-suspended coroutine");
    if ((st == LUA_OK && lua_gettop(co) == 0) || (st != LUA_OK && st != LUA_YIELD))
        return luaL_error(L, "cannot resume dead coroutine");
    if (!lua_checkstack(co, narg))
        return luaL_error(L, "too many arguments to resume");
    lua_xmove(L, co, narg);
    int nres = 0;
    st = lua_resume(co, L, narg, &nres);
    if (st == LUA_OK || st == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            return luaL_error(L, "too many results to resume");
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    closing_guard(L, s);
    st = lua_resetthread(co); /* its __close handlers, with the error */
    lua_xmove(co, L, 1);
    if (s->killed)
        return brs__lua_budget_kill(L);
    if (st != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int safe_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, wrap_call, 1);
    return 1;
}

/* ---- math ------------------------------------------------------------- */

/* math.randomseed() with no argument seeds from the run's seed, never the
 * clock, and returns it; with arguments it is stock Lua's. */
static int safe_randomseed(lua_State *L)
{
    if (lua_isnone(L, 1))
        lua_pushinteger(L, (lua_Integer)brs__lua_self(L)->seed);
    return call_stock(L);
}

/* ---- pairs: a deterministic order ------------------------------------ */

/* Stock pairs walks a table in its hash order: strings hash with a seed
 * Lua 5.4 draws from the clock and from addresses at every lua_newstate, so
 * a strategy that traded in pairs order traded differently on each run. The
 * sandbox's pairs walks a snapshot of the keys taken at the call, sorted:
 * numbers by value, then strings bytewise, then false, true, then keys of
 * other types (tables, functions) in the table's own order, which no seed
 * moves but allocation addresses can (docs/lua-api.md). Values are read when
 * the walk reaches their key, so assigning to or clearing existing fields
 * during the walk is allowed as with stock pairs (a cleared key is skipped);
 * keys added during the walk are not visited. A __pairs metamethod is
 * honoured as stock Lua does. Charged one per key taken and n log2 n for the
 * sort; the snapshot lives in Lua memory, under the memory cap. */
typedef struct pkey {
    int cls; /* 0 number, 1 string, 2 boolean, 3 anything else */
    int isint;
    lua_Integer i;
    lua_Number n;
    const char *s;
    size_t len;
    lua_Integer slot; /* position in the table's own order */
} pkey;

static int int_vs_float(lua_Integer i, lua_Number f)
{
    if (f >= 0x1p63)
        return -1;
    if (f < -0x1p63)
        return 1;
    lua_Number fl = (lua_Number)(lua_Integer)f; /* toward zero */
    if (fl > f)
        fl -= 1; /* floor */
    lua_Integer fi = (lua_Integer)fl;
    if (i != fi)
        return i < fi ? -1 : 1;
    return f > fl ? -1 : 0;
}

static int pkey_cmp(const void *pa, const void *pb)
{
    const pkey *a = pa, *b = pb;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    int c = 0;
    switch (a->cls) {
    case 0:
        if (a->isint && b->isint)
            c = a->i < b->i ? -1 : a->i > b->i;
        else if (a->isint)
            c = int_vs_float(a->i, b->n);
        else if (b->isint)
            c = -int_vs_float(b->i, a->n);
        else
            c = a->n < b->n ? -1 : a->n > b->n;
        break;
    case 1: {
        size_t m = a->len < b->len ? a->len : b->len;
        c = memcmp(a->s, b->s, m);
        if (!c)
            c = a->len < b->len ? -1 : a->len > b->len;
        break;
    }
    case 2:
        c = a->i < b->i ? -1 : a->i > b->i;
        break;
    }
    if (!c)
        c = a->slot < b->slot ? -1 : a->slot > b->slot;
    return c;
}

/* The iterator: upvalue 1 the sorted keys, 2 the next position, 3 the count. */
static int ordered_next(lua_State *L)
{
    lua_Integer at = lua_tointeger(L, lua_upvalueindex(2));
    lua_Integer n = lua_tointeger(L, lua_upvalueindex(3));
    while (at < n) {
        at++;
        lua_rawgeti(L, lua_upvalueindex(1), at); /* key */
        lua_pushvalue(L, -1);
        if (lua_rawget(L, 1) != LUA_TNIL) {
            lua_pushinteger(L, at);
            lua_replace(L, lua_upvalueindex(2));
            return 2;
        }
        lua_pop(L, 2);
    }
    lua_pushinteger(L, at);
    lua_replace(L, lua_upvalueindex(2));
    lua_pushnil(L);
    return 1;
}

static int safe_pairs(lua_State *L)
{
    luaL_checkany(L, 1);
    if (lua_type(L, 1) != LUA_TTABLE || luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
        lua_settop(L, 1);
        return call_stock(L); /* __pairs, or stock's error for a non-table */
    }
    brs__lua_strategy *s = brs__lua_self(L);
    lua_settop(L, 1);
    lua_Integer n = 0; /* counted first, so the whole walk is charged before anything is allocated */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if ((++n & 1023) == 0)
            brs__lua_charge(L, s, 1024);
    }
    brs__lua_charge(L, s, (uint64_t)(n & 1023) + nlogn((uint64_t)n));
    luaL_argcheck(L, n < INT_MAX, 1, "table too big");
    lua_createtable(L, (int)n, 0); /* 2: the keys in the table's order */
    lua_Integer m = 0;
    lua_pushnil(L);
    while (m < n && lua_next(L, 1)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, 2, ++m);
    }
    lua_settop(L, 2);
    n = m;
    pkey *k = n ? lua_newuserdatauv(L, (size_t)n * sizeof *k, 0) : NULL; /* 3 */
    for (lua_Integer j = 0; j < n; j++) {
        pkey *e = &k[j];
        memset(e, 0, sizeof *e);
        e->slot = j + 1;
        switch (lua_rawgeti(L, 2, j + 1)) {
        case LUA_TNUMBER:
            e->isint = lua_isinteger(L, -1);
            if (e->isint)
                e->i = lua_tointeger(L, -1);
            else
                e->n = lua_tonumber(L, -1);
            break;
        case LUA_TSTRING: /* anchored by table 2 while the sort runs */
            e->cls = 1;
            e->s = lua_tolstring(L, -1, &e->len);
            break;
        case LUA_TBOOLEAN:
            e->cls = 2;
            e->i = lua_toboolean(L, -1);
            break;
        default:
            e->cls = 3;
        }
        lua_pop(L, 1);
    }
    if (n > 1)
        qsort(k, (size_t)n, sizeof *k, pkey_cmp);
    lua_createtable(L, (int)n, 0); /* the sorted keys */
    for (lua_Integer j = 0; j < n; j++) {
        lua_rawgeti(L, 2, k[j].slot);
        lua_rawseti(L, -2, j + 1);
    }
    lua_pushinteger(L, 0);
    lua_pushinteger(L, n);
    lua_pushcclosure(L, ordered_next, 3);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* ---- installing ------------------------------------------------------- */

static void wrap_field(lua_State *L, const char *name, lua_CFunction f)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
}

void brs__lua_safelib_install(lua_State *L)
{
    wrap_field(L, "load", safe_load);
    wrap_field(L, "xpcall", safe_xpcall);
    wrap_field(L, "pairs", safe_pairs);
    lua_pushcfunction(L, safe_tostring);
    lua_setfield(L, -2, "tostring");
    lua_getfield(L, -1, "table");
    wrap_field(L, "move", safe_move);
    wrap_field(L, "concat", safe_concat);
    wrap_field(L, "unpack", safe_unpack);
    wrap_field(L, "sort", safe_sort);
    lua_pushcfunction(L, safe_insert);
    lua_setfield(L, -2, "insert");
    lua_pushcfunction(L, safe_remove);
    lua_setfield(L, -2, "remove");
    lua_pop(L, 1);
    lua_getfield(L, -1, "string");
    wrap_field(L, "rep", safe_rep);
    wrap_field(L, "byte", safe_scan);
    wrap_field(L, "format", safe_format);
    lua_pop(L, 1);
    lua_getfield(L, -1, "utf8");
    wrap_field(L, "len", safe_scan);
    wrap_field(L, "codepoint", safe_scan);
    wrap_field(L, "offset", safe_scan);
    lua_pop(L, 1);
    lua_getfield(L, -1, "coroutine");
    wrap_field(L, "close", safe_close);
    lua_pushcfunction(L, safe_wrap);
    lua_setfield(L, -2, "wrap");
    lua_pop(L, 1);
    lua_getfield(L, -1, "math");
    wrap_field(L, "randomseed", safe_randomseed);
    lua_pop(L, 1);
}
