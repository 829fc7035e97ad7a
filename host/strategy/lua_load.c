/* lua_load.c: loading a Lua strategy (the script's main chunk in a fresh
 * sandbox, its table of callbacks and `params` declarations), hot reload (the
 * new version replaces the callbacks only once it loaded and started
 * cleanly), and freeing it. The calls it makes into the script all run
 * protected under the sandbox's budget. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "lua_internal.h"

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
            known |= !strcmp(k, brs__lua_cb_names[i]);
        if (!known)
            return luaL_error(L, "unknown callback '%s' (known: on_start, on_stop, on_bar, on_top, "
                                 "on_trade, on_depth, on_order, on_fill, on_timer, on_reload)", k);
    }
    for (int i = 0; i < BRS__LCB_COUNT; i++) {
        int ty = lua_getfield(L, 1, brs__lua_cb_names[i]);
        if (ty == LUA_TFUNCTION)
            s->cb_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
        else if (ty == LUA_TNIL)
            lua_pop(L, 1);
        else
            return luaL_error(L, "%s must be a function, not a %s", brs__lua_cb_names[i], luaL_typename(L, -1));
    }
    lua_pushvalue(L, 1);
    s->table_ref = luaL_ref(L, LUA_REGISTRYINDEX);
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

int brs__lua_protected(brs__lua_strategy *s, lua_CFunction f, int nargs, const char *what, brs_error *err)
{
    return protected_with(s, f, NULL, nargs, what, err);
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
    int rc = brs__lua_protected(s, describe, 1, "reading the script table", err);
    if (rc == BRS_OK) {
        lua_settop(L, 1);
        rc = brs__lua_protected(s, brs__lua_setup_types, 0, "setting up", err);
    }
    if (rc) {
        brs__lua_strategy_free(s);
        return rc;
    }
    s->vt = brs__lua_vtable_template;
    s->vt.params = s->params;
    s->vt.n_params = s->n_params;
    brs__lua_set_callbacks(s);
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
        s->cb_name = brs__lua_cb_names[cb];
        brs__lua_budget_reset(s);
        s->running = 1;
        st = lua_pcall(L, nargs, 0, 1);
        s->running = 0;
        if (st != LUA_OK) {
            rc = st == LUA_ERRMEM || s->killed ? BRS_E_SANDBOX : BRS_E_SCRIPT;
            brs__err(err, rc, "%s: reload refused, the running version stays: in %s: %s", s->script,
                     brs__lua_cb_names[cb], st == LUA_ERRMEM ? "not enough memory" : lua_tostring(L, -1));
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
    brs__lua_cb_fast_forget(s);
    luaL_unref(L, LUA_REGISTRYINDEX, s->table_ref);
    s->table_ref = t->table_ref;
    brs__lua_set_callbacks(s);
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
    int rc = brs__read_file_max(path, BRS__SCRIPT_FILE_MAX, &text, &len, err);
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

void brs__lua_close_state(brs__lua_strategy *s)
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
    brs__lua_close_state(s);
    free_params(s);
    free(s);
}
