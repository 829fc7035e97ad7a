/* lua_sandbox.c: the sandbox each Lua strategy runs in: a capped allocator, an
 * instruction budget per callback enforced by a count hook, and a linit-like
 * opener that loads only base, table, string, math, utf8 and coroutine, then
 * takes out what could reach the machine or load bytecode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lualib.h>

#include "core/core.h"
#include "lua_internal.h"

/* The capped allocator. Shrinking never fails (Lua relies on that).
 * Growth is also charged to the instruction budget, one instruction per
 * BRS__LUA_ALLOC_BYTES_PER_STEP bytes: C functions that copy (s:upper(), `..`,
 * string.rep, table.concat, string.format...) do work in proportion to what
 * they allocate, which the count hook never sees, so without this a loop of
 * a few VM instructions over a 30 MB string ran for hours within the budget.
 * Once the budget is spent here, growth is refused (Lua raises a memory
 * error at once) and the strategy is marked killed; the count hook then
 * raises the budget error on the next instructions, pcall or not. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    brs__lua_strategy *s = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        s->mem_used -= old;
        return NULL;
    }
    if (nsize > old && (nsize - old > s->mem_limit || s->mem_used + (nsize - old) > s->mem_limit)) {
        /* Refusing raises a memory error. Outside any protected call (the
         * host writing event fields before a callback) that error would abort
         * the process: let the block through, and the caller fails the
         * strategy instead of calling it (lua_strategy.c, refresh_hot). */
        if (!s->host_writing) {
            s->mem_hit = 1;
            return NULL;
        }
        s->host_over = 1;
    }
    /* (a strategy killed elsewhere still allocates: its error message; the
     * host's own writes are not the script's instructions) */
    if (nsize > old && s->instr_limit != UINT64_MAX && (!s->killed || s->alloc_killed) &&
        !s->host_writing) {
        s->instr_used += (nsize - old) / BRS__LUA_ALLOC_BYTES_PER_STEP;
        if (s->alloc_killed || s->instr_used > s->instr_limit) {
            s->killed = 1;
            s->alloc_killed = 1;
            return NULL;
        }
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return nsize <= old ? ptr : NULL;
    s->mem_used = s->mem_used - old + nsize;
    if (s->mem_used > s->mem_peak)
        s->mem_peak = s->mem_used;
    return p;
}

/* " (in on_bar at 2020-03-16T00:00Z)": the callback and the simulated time,
 * the time as short as it can be said (seconds and fractions only when set). */
static void error_where(const brs__lua_strategy *s, char *buf, size_t cap)
{
    int64_t now = s->host && s->ctx && s->host->xNow ? s->host->xNow(s->ctx) : 0;
    if (now <= 0) {
        snprintf(buf, cap, " (in %s)", s->cb_name);
        return;
    }
    char t[48];
    brs__format_time(now, t, sizeof t); /* 2020-03-16T00:00:00.000000000Z */
    size_t n = strlen(t);
    if (n == 30 && !strcmp(t + 19, ".000000000Z")) {
        t[19] = 'Z', t[20] = '\0';
        if (!strcmp(t + 16, ":00Z"))
            t[16] = 'Z', t[17] = '\0';
    }
    snprintf(buf, cap, " (in %s at %s)", s->cb_name, t);
}

int brs__lua_error_text(brs__lua_strategy *s, int status, char *msg, size_t cap)
{
    /* one line a user can act on: "script.lua:LINE: message (in on_bar at TIME)";
     * no traceback (its "[C]: in ?" lines are noise for a strategy author) */
    char where[96];
    error_where(s, where, sizeof where);
    if (s->alloc_killed) { /* the memory error was the budget, refused in the allocator */
        snprintf(msg, cap,
                 "%s: instruction budget exceeded (%llu VM instructions per callback; "
                 "every %d bytes allocated count as one)%s",
                 s->script, (unsigned long long)s->instr_limit, BRS__LUA_ALLOC_BYTES_PER_STEP, where);
        return BRS_E_SANDBOX;
    }
    if (status == LUA_ERRMEM) {
        snprintf(msg, cap, "%s: not enough memory (the script may use %zu bytes)%s", s->script,
                 s->mem_limit, where);
        return BRS_E_SANDBOX;
    }
    if (status == LUA_OK) { /* killed, but the callback returned: the kill was its last act */
        snprintf(msg, cap, "%s: instruction budget exceeded (%llu VM instructions per "
                 "callback; the callback returned what caught the kill)%s", s->script,
                 (unsigned long long)s->instr_limit, where);
        return BRS_E_SANDBOX;
    }
    const char *m = lua_tostring(s->L, -1);
    if (!m)
        m = "(no message)";
    size_t ml = strcspn(m, "\n");
    const char *tb = strstr(m, "\nstack traceback:");
    if (tb)
        ml = (size_t)(tb - m);
    else
        ml = strlen(m);
    while (ml && (m[ml - 1] == '\n' || m[ml - 1] == ' '))
        ml--;
    /* a message without a position (error("x", 0), an error object) gets the script's name */
    size_t sl = strlen(s->script);
    const char *base = strrchr(s->script, '/');
    base = base ? base + 1 : s->script;
    int named = (ml > sl && !strncmp(m, s->script, sl)) ||
                (ml > strlen(base) && !strncmp(m, base, strlen(base)));
    snprintf(msg, cap, "%s%s%.*s%s", named ? "" : s->script, named ? "" : ": ", (int)ml, m, where);
    return s->killed ? BRS_E_SANDBOX : BRS_E_SCRIPT;
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* A killed strategy raises on every instruction: of the running thread and of
 * the main one, so a kill inside a coroutine is not caught by its resumer. */
static void arm_kill(lua_State *L)
{
    brs__lua_self(L)->hook_mode = BRS__LUA_HOOK_NONE; /* the kill hook, left alone */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    lua_State *main = lua_tothread(L, -1);
    lua_pop(L, 1);
    if (main && main != L)
        lua_sethook(main, budget_hook, LUA_MASKCOUNT, 1);
}

/* Count hook: every hook_step instructions, charge the callback's budget. Once
 * it is spent the strategy is killed: the hook then fires on every instruction
 * of whatever thread runs, so a script cannot catch the error with pcall and
 * carry on. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    brs__lua_strategy *s = brs__lua_self(L);
    s->instr_used += (uint64_t)s->hook_step;
    if (!s->killed && s->instr_used <= s->instr_limit) {
        /* The CPU-time backstop, for C work no count can see (an __index
         * chain 2,000 tables deep is one instruction): the clock starts at
         * the callback's second hook call, so a callback shorter than one
         * hook step (every shipped strategy's) never reads it. */
        if (!s->cpu_limit_ns)
            return;
        uint32_t k = s->hook_calls++;
        if (k == 0) /* the count runs across callbacks: this one may have just begun */
            return;
        if (k == 1) {
            s->cpu_t0 = thread_cpu_ns();
            return;
        }
        /* the clock is a system call: at most once per ~10,000 instructions */
        if (k % s->cpu_check_every || thread_cpu_ns() - s->cpu_t0 <= s->cpu_limit_ns)
            return;
        s->killed = 1;
        arm_kill(L);
        luaL_error(L, "CPU time limit exceeded (%I ms per callback)",
                   (lua_Integer)(s->cpu_limit_ns / 1000000));
    }
    s->killed = 1;
    arm_kill(L);
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        luaL_error(L, "%s:%d: instruction budget exceeded (%I VM instructions per callback)",
                   ar->short_src, ar->currentline, (lua_Integer)s->instr_limit);
    luaL_error(L, "instruction budget exceeded (%I VM instructions per callback)",
               (lua_Integer)s->instr_limit);
}

/* ---- the call-hook mode: no per-instruction hook on loop-free callbacks ----
 * Once a count hook is set, Lua 5.4 runs its hook check on every VM
 * instruction (~40 ns of a short callback). A callback whose own code has no
 * backward jump runs each of its instructions at most once, so it cannot
 * spend the budget by itself; it can only through what it calls. For such a
 * callback the main thread gets a call hook instead: C functions are let
 * through (the host's are bounded and charge their own work; those that call
 * back into Lua, pcall, sort, gsub, metamethods, do it through a Lua function
 * call, which this hook sees), and the first Lua function called switches the
 * thread to the count hook for the rest of the callback. Coroutines inherit
 * the hook and switch the same way. The callback's own instructions before
 * the switch are not counted: fewer than one charge step, the granularity the
 * count hook has anyway. Deterministic: nothing depends on time. */

/* Is the function a call hook reports a Lua function? The public way,
 * lua_getinfo "f", costs about as much as the rest of the hook; Lua 5.4's
 * CallInfo starts with the function's stack slot, whose type tag follows the
 * 8-byte value (LUA_VLCL = 6 for a Lua closure). That private layout is used
 * only once loopcheck_probe has seen it agree with lua_getinfo. */
static int called_lua_public(lua_State *L, lua_Debug *ar)
{
    if (!lua_getinfo(L, "f", ar))
        return 1; /* unsure: count */
    int c = lua_iscfunction(L, -1);
    lua_pop(L, 1);
    return !c;
}

static int called_lua_fast(const lua_Debug *ar)
{
    const unsigned char *func = *(const unsigned char *const *)(const void *)ar->i_ci;
    return (func[8] & 0x3f) == 6;
}

static void call_hook(lua_State *L, lua_Debug *ar)
{
    brs__lua_strategy *s = brs__lua_self(L);
    if (s->entry_pending) { /* the callback itself, checked loop-free */
        s->entry_pending = 0;
        return;
    }
    if (!(s->loopcheck_ok > 1 ? called_lua_fast(ar) : called_lua_public(L, ar)))
        return;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, s->hook_step);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    if (lua_tothread(L, -1) == L)
        s->hook_mode = BRS__LUA_HOOK_COUNT;
    lua_pop(L, 1);
}

void brs__lua_hook_count(brs__lua_strategy *s)
{
    if (s->instr_limit == UINT64_MAX || s->killed)
        return; /* no budget; or killed, where arm_kill's hook stays */
    lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, s->hook_step);
    s->hook_mode = BRS__LUA_HOOK_COUNT;
}

void brs__lua_hook_calls(brs__lua_strategy *s)
{
    if (s->hook_mode != BRS__LUA_HOOK_CALLS) {
        lua_sethook(s->L, call_hook, LUA_MASKCALL, 0);
        s->hook_mode = BRS__LUA_HOOK_CALLS;
    }
    s->entry_pending = 1;
}

/* Lua 5.4's binary chunk (ldump.c): header, the upvalue count, then the
 * function: source (stripped: one byte), two varint line numbers, three bytes,
 * the code size (varint) and the instructions. */
typedef struct dumpbuf {
    unsigned char *p;
    size_t n, cap;
    int heap; /* p was malloc'd */
} dumpbuf;

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    dumpbuf *b = ud;
    if (b->n + sz > b->cap) { /* past the caller's stack buffer: the heap */
        size_t cap = b->cap * 2;
        while (cap < b->n + sz)
            cap *= 2;
        unsigned char *q = b->heap ? realloc(b->p, cap) : malloc(cap);
        if (!q)
            return 1;
        if (!b->heap)
            memcpy(q, b->p, b->n);
        b->p = q, b->cap = cap, b->heap = 1;
    }
    memcpy(b->p + b->n, p, sz);
    b->n += sz;
    return 0;
}

static int read_varint(const dumpbuf *b, size_t *at, size_t *out)
{
    size_t x = 0;
    for (int k = 0; k < 10 && *at < b->n; k++) {
        unsigned char c = b->p[(*at)++];
        x = (x << 7) | (c & 0x7f);
        if (c & 0x80) {
            *out = x;
            return 1;
        }
    }
    return 0;
}

/* 1: no backward jump and fewer than max instructions; 0: a loop, too long,
 * or a chunk this parser does not recognise. */
static int code_loop_free(lua_State *L, int idx, size_t max)
{
    if (lua_type(L, idx) != LUA_TFUNCTION || lua_iscfunction(L, idx))
        return 0;
    unsigned char stackbuf[4096]; /* a callback's dump fits: no allocation */
    dumpbuf b = {stackbuf, 0, sizeof stackbuf, 0};
    lua_pushvalue(L, idx);
    int rc = lua_dump(L, dump_writer, &b, 1);
    lua_pop(L, 1);
    static const unsigned char head[] = {0x1b, 'L', 'u', 'a', 0x54, 0, 0x19, 0x93, '\r', '\n', 0x1a, '\n',
                                         4, 8, 8};
    int ok = 0;
    size_t at = sizeof head + 8 + 8 + 1, v, ncode;
    if (rc == 0 && b.n > at && !memcmp(b.p, head, sizeof head) && b.p[at] == 0x80 && ++at &&
        read_varint(&b, &at, &v) && read_varint(&b, &at, &v) && (at += 3) <= b.n &&
        read_varint(&b, &at, &ncode) && ncode < max && at + ncode * 4 <= b.n) {
        ok = 1;
        for (size_t i = 0; i < ncode && ok; i++) {
            uint32_t ins;
            memcpy(&ins, b.p + at + 4 * i, 4);
            unsigned op = ins & 0x7f;
            if (op == 56) { /* OP_JMP: sJ = bits 7..31 minus the offset */
                int32_t sj = (int32_t)(ins >> 7) - 0xffffff;
                if (sj < 0)
                    ok = 0;
            } else if (op >= 73 && op <= 77) { /* FORLOOP FORPREP TFORPREP TFORCALL TFORLOOP */
                ok = 0;
            }
        }
    }
    if (b.heap)
        free(b.p);
    return ok;
}

/* The opcode numbers above are Lua 5.4's; check them on known functions once,
 * so another Lua build falls back to the count hook instead of missing loops. */
static int loopcheck_probe(lua_State *L)
{
    static const char *const looping[] = {"return function() while true do end end",
                                          "return function(t) for i = 1, 2 do t = i end end",
                                          "return function(t) for k in next, t do end end",
                                          "return function() ::a:: goto a end",
                                          "return function(x) repeat x = x + 1 until x > 3 end"};
    static const char *const straight[] = {"return function(a, b) if a > b then return a else return b end end",
                                           "return function(c, t) local x = t.close if c then c:f(x) end end"};
    int ok = 1;
    for (size_t i = 0; ok && i < sizeof looping / sizeof *looping + sizeof straight / sizeof *straight; i++) {
        int loop = i < sizeof looping / sizeof *looping;
        const char *src = loop ? looping[i] : straight[i - sizeof looping / sizeof *looping];
        if (luaL_loadstring(L, src) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
            ok = 0;
        } else {
            ok = code_loop_free(L, -1, 1000) == !loop;
        }
        lua_settop(L, 0);
    }
    return ok;
}

/* Runs Lua and C calls under a hook comparing the two classifiers. */
static void probe_hook(lua_State *L, lua_Debug *ar)
{
    brs__lua_strategy *s = brs__lua_self(L);
    int pub = called_lua_public(L, ar);
    s->probe[pub]++;
    if (called_lua_fast(ar) != pub)
        s->probe[2]++;
}

static int classify_probe(brs__lua_strategy *s, lua_State *L)
{
    static const char src[] = "local function f(a) return a end\n"
                              "local g = function(...) return select('#', ...) end\n"
                              "return f(type(1)), g(1, 2), string.len('ab'), (function() return 1 end)()";
    s->probe[0] = s->probe[1] = s->probe[2] = 0;
    int ok = luaL_loadstring(L, src) == LUA_OK;
    lua_sethook(L, probe_hook, LUA_MASKCALL, 0);
    ok = ok && lua_pcall(L, 0, 0, 0) == LUA_OK;
    lua_sethook(L, NULL, 0, 0);
    lua_settop(L, 0);
    /* C calls: type, select, len; Lua: the chunk, f, g, the anonymous one */
    return ok && s->probe[0] >= 3 && s->probe[1] >= 4 && s->probe[2] == 0;
}

int brs__lua_loop_free(brs__lua_strategy *s, int idx)
{
    if (!s->loopcheck_ok || s->instr_limit == UINT64_MAX)
        return 0;
    return code_loop_free(s->L, idx, (size_t)s->hook_step);
}

/* The budget ran out inside a C function (the pattern matcher): kill the
 * strategy as the hook does. luaL_error names the script line that called. */
int brs__lua_budget_kill(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    s->killed = 1;
    arm_kill(L);
    return luaL_error(L, "instruction budget exceeded (%I VM instructions per callback)",
                      (lua_Integer)s->instr_limit);
}

/* The message handler of every lua_pcall: the message plus a traceback. */
int brs__lua_msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* print() goes to the strategy log, not to stdout. */
static int sandbox_print(lua_State *L)
{
    brs__lua_strategy *s = brs__lua_self(L);
    int n = lua_gettop(L); /* before buffinit, which may use a stack slot */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        brs__lua_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    if (s->host && s->host->xLog)
        s->host->xLog(s->ctx, BRS_LOG_INFO, lua_tostring(L, -1));
    else /* while the script loads there is no run log yet */
        fprintf(stderr, "[%s] %s\n", s->name, lua_tostring(L, -1));
    return 0;
}

/* collectgarbage("count") only: the rest lets a script stall the host. */
static int sandbox_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage('%s') is not available in the strategy sandbox", opt);
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
}

/* An __index (or __newindex) chain of tables is walked in C, one table per
 * step, up to 2,000 steps per access for one VM instruction. */
#define BRS__LUA_MAX_INDEX_CHAIN 100

static int chain_depth(lua_State *L, int mt, const char *field)
{
    int depth = 0;
    lua_pushvalue(L, mt);
    for (;;) {
        lua_pushstring(L, field);
        if (lua_rawget(L, -2) != LUA_TTABLE || depth > BRS__LUA_MAX_INDEX_CHAIN) {
            lua_pop(L, 2);
            return depth;
        }
        depth++;
        lua_remove(L, -2);
        if (!lua_getmetatable(L, -1)) {
            lua_pop(L, 1);
            return depth;
        }
        lua_remove(L, -2);
    }
}

/* setmetatable without __gc: Lua runs finalizers with hooks off, so a
 * finalizer that never returns could not be stopped by the budget. The check
 * reads the metatable raw: a lookup through its own __index would run script
 * code (which could install __gc just in time). Lua itself marks an object
 * for finalization only here, from a raw read, so a __gc added later is
 * never run. */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not available in the strategy sandbox");
        lua_pop(L, 1);
        if (chain_depth(L, 2, "__index") > BRS__LUA_MAX_INDEX_CHAIN ||
            chain_depth(L, 2, "__newindex") > BRS__LUA_MAX_INDEX_CHAIN)
            return luaL_error(L, "an __index or __newindex chain deeper than %d tables is not "
                                 "available in the strategy sandbox", BRS__LUA_MAX_INDEX_CHAIN);
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* Reading a forbidden global says so, rather than "attempt to index a nil value". */
static const char *const forbidden[] = {"os", "io", "debug", "package", "require", "dofile",
                                        "loadfile", "loadstring", NULL};

static int globals_index(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    for (int i = 0; k && forbidden[i]; i++)
        if (strcmp(k, forbidden[i]) == 0)
            return luaL_error(L, "'%s' is not available in the strategy sandbox", k);
    return 0;
}

static int sandbox_open(lua_State *L)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},        {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine},
                                    {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_pushglobaltable(L);
    lua_getfield(L, -1, "setmetatable");
    lua_pushcclosure(L, sandbox_setmetatable, 1);
    lua_setfield(L, -2, "setmetatable");
    lua_pushcfunction(L, sandbox_print);
    lua_setfield(L, -2, "print");
    lua_pushcfunction(L, sandbox_collectgarbage);
    lua_setfield(L, -2, "collectgarbage");
    for (int i = 0; forbidden[i]; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, forbidden[i]);
    }
    lua_getfield(L, -1, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    /* find/match/gmatch/gsub that the instruction budget can stop (also the
     * string methods: this table is the strings' __index) */
    brs__lua_pattern_install(L);
    lua_pop(L, 1);
    /* Deterministic backtests: math.random starts from the run's seed. */
    lua_getfield(L, -1, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, (lua_Integer)brs__lua_self(L)->seed);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    /* charged table/utf8/string functions, guarded xpcall and coroutine
     * closing, tostring without addresses (lua_safelib.c) */
    brs__lua_safelib_install(L);
    lua_newtable(L);
    lua_pushcfunction(L, globals_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    return 0;
}

lua_State *brs__lua_sandbox_new(brs__lua_strategy *s)
{
    lua_State *L = lua_newstate(sandbox_alloc, s);
    if (!L)
        return NULL;
    *(brs__lua_strategy **)lua_getextraspace(L) = s;
    lua_pushcfunction(L, sandbox_open);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    if (s->instr_limit != UINT64_MAX) {
        /* charge the budget in steps of 1/1000 of it (at most 10000): the hook
         * call itself is not free, and a kill comes at most 0.1% late */
        uint64_t step = s->instr_limit / 1000;
        s->hook_step = step < 1 ? 1 : step > 10000 ? 10000 : (int)step;
        s->cpu_check_every = (uint32_t)(10000 / s->hook_step);
        if (s->cpu_check_every < 1)
            s->cpu_check_every = 1;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, s->hook_step);
        s->hook_mode = BRS__LUA_HOOK_COUNT;
        /* the probes run in a thread of their own, unhooked, before any script */
        lua_State *P = lua_newthread(L);
        lua_sethook(P, NULL, 0, 0);
        s->loopcheck_ok = P && loopcheck_probe(P);
        if (s->loopcheck_ok && classify_probe(s, P))
            s->loopcheck_ok = 2; /* called_lua_fast agrees with lua_getinfo */
        lua_pop(L, 1);
    }
    return L;
}
