/* lua_internal.h: what the Lua strategy files share (sandbox, binding,
 * indicators). Not part of any API. */
#ifndef BRS_LUA_INTERNAL_H
#define BRS_LUA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include <bourse/host.h>
#include <bourse/strategy.h>
#include <bourse/types.h>

#include "lua_strategy.h"

/* Script callbacks, in the order of the names table in lua_strategy.c. */
enum {
    BRS__LCB_START, BRS__LCB_STOP, BRS__LCB_BAR, BRS__LCB_TOP, BRS__LCB_TRADE, BRS__LCB_DEPTH,
    BRS__LCB_ORDER, BRS__LCB_FILL, BRS__LCB_TIMER, BRS__LCB_RELOAD, BRS__LCB_COUNT
};

struct brs__lua_strategy {
    brs_strategy_vtable vt;
    brs_param_def *params;  /* malloc'd, names and strings too */
    uint32_t n_params;
    char name[64];
    char script[256];       /* as given, for messages */

    lua_State *L;
    size_t mem_used, mem_peak, mem_limit;
    uint64_t instr_limit, instr_used;
    int hook_step;
    int killed;             /* the budget ran out: every instruction now raises */
    int mem_hit;            /* the allocator refused a block */
    int host_writing;       /* the host writes event fields outside any protected call:
                             * the allocator must not refuse (lua_strategy.c, refresh_hot) */
    int host_over;          /* ... and it let a block past the memory cap meanwhile */
    const char *cb_name;    /* the callback running, for messages */

    int cb_ref[BRS__LCB_COUNT]; /* registry refs, LUA_NOREF when absent */
    int ctx_ref;
    int table_ref;          /* the table the script returned (handed to on_reload) */
    int running;            /* inside a call into the script */
    int stack_base;         /* stack height between calls: 1 (handler) before open, then the fixed slots (SLOT_* below: callbacks, field names) */
    int ev_ref[4];          /* reused event objects (tables): bar, trade, top, order */
    brs_market_event *ud_bar, *ud_trade; /* &ev_bar, &ev_trade: the event behind each table */
    brs_top *ud_top;                     /* &ev_top */
    brs_order_event *ud_order;           /* &ev_order */
    uint32_t hot[4];        /* bar, top, trade, order: fields the script has read, refilled per call */
    brs_market_event ev_bar;
    brs_top ev_top;
    brs_market_event ev_trade;
    brs_order_event ev_order;

    const brs_host *host;
    brs_ctx *ctx;
    const void *ctx_table;   /* the script's ctx (ctx_ref), by identity: ctx:method's self check */
    uint32_t cur_instrument; /* of the last market event: the default for orders */
    /* cold, and last so the hot fields above keep their layout */
    int alloc_killed;       /* the budget ran out in the allocator (lua_sandbox.c) */
    uintptr_t cstack_base;  /* C stack frame at the callback's entry (lua_safelib.c's depth guard) */
    uint64_t cpu_limit_ns;  /* CPU time per callback, a backstop (0: none) */
    uint64_t cpu_t0;        /* thread CPU clock at the callback's first hook call */
    uint32_t hook_calls;    /* count-hook calls in this callback */
    uint32_t cpu_check_every; /* read the CPU clock every this many hook calls */
    uint32_t tostring_ids;  /* the last id tostring() handed out (lua_safelib.c) */
    uint64_t seed;          /* the run's seed: math.randomseed() without arguments */
    int hook_mode;          /* BRS__LUA_HOOK_*: what the main thread's hook is now */
    int entry_pending;      /* call-hook mode: the next call is the callback itself */
    int loopcheck_ok;       /* brs__lua_loop_free recognised its probes: 1; and the
                             * call hook's fast C/Lua test agreed with lua_getinfo: 2 */
    uint32_t probe[3];      /* classify_probe: C calls, Lua calls, disagreements */
    const void *fast_fn[BRS__LCB_COUNT]; /* the callback function last checked */
    int8_t fast_cb[BRS__LCB_COUNT];      /* fast_fn is loop-free: 1, no: 0, not checked: -1 */
};

/* The three files of the binding: lua_strategy.c (calling into the script,
 * event objects, the vtable), lua_load.c (loading, hot reload, freeing),
 * lua_ctx.c (the ctx methods). */
extern const char *const brs__lua_cb_names[BRS__LCB_COUNT]; /* "on_start", ... */
#define BRS__LUA_CTX_MT "bourse.ctx"

/* Once open, the main stack holds the objects every call needs at fixed slots,
 * so a callback pushes them with lua_pushvalue instead of registry lookups. */
enum { SLOT_MSGH = 1, SLOT_CTX = 2, SLOT_EV0 = 3, SLOT_CB0 = 7 };
/* then the field names of bar (8), top (7), trade (7) and order events (13),
 * for refresh_hot (lua_strategy.c) */
#define SLOT_KEY0 (SLOT_CB0 + BRS__LCB_COUNT)

static inline const char *brs__lua_side_name(int side) { return side == BRS_BUY ? "buy" : "sell"; }

/* lua_strategy.c */
extern const brs_strategy_vtable brs__lua_vtable_template;
/* The vtable shows the callbacks the script has; again after a hot reload. */
void brs__lua_set_callbacks(brs__lua_strategy *s);
/* After the callback slots were (re)filled: which callbacks are loop-free. */
void brs__lua_cb_fast_forget(brs__lua_strategy *s);
/* Runs protected: the ctx and event metatables, the reused event objects. */
int brs__lua_setup_types(lua_State *L);

/* lua_load.c */
/* Run the C function f protected (nargs values above the handler), under a
 * fresh budget; a failure is described in err, prefixed with `what`. */
int brs__lua_protected(brs__lua_strategy *s, lua_CFunction f, int nargs, const char *what, brs_error *err);
/* lua_close under a fresh budget (finalizers run); the state is gone after. */
void brs__lua_close_state(brs__lua_strategy *s);

/* lua_ctx.c */
void brs__lua_ctx_type(lua_State *L);
/* Runs protected: builds ctx = setmetatable({params=..., indicators=...}, ctx mt). */
int brs__lua_make_ctx(lua_State *L);

/* The strategy behind a Lua state (kept in its extra space, copied to threads). */
static inline brs__lua_strategy *brs__lua_self(lua_State *L)
{
    return *(brs__lua_strategy **)lua_getextraspace(L);
}

/* lua_sandbox.c */
lua_State *brs__lua_sandbox_new(brs__lua_strategy *s);
int brs__lua_msgh(lua_State *L);
/* The text of a failed call (message on the stack top) and its code:
 * BRS_E_SANDBOX for the sandbox's limits, BRS_E_SCRIPT for the script's own. */
int brs__lua_error_text(brs__lua_strategy *s, int status, char *msg, size_t cap);
/* The budget is spent: mark the strategy killed, re-arm the hook on every
 * instruction and raise "instruction budget exceeded". Never returns. */
int brs__lua_budget_kill(lua_State *L);
/* How the budget watches the main thread (lua_sandbox.c): the count hook, or
 * for a callback whose own code has no loop (brs__lua_loop_free) a call hook
 * that switches to the count hook at the first Lua function it calls. */
enum { BRS__LUA_HOOK_NONE, BRS__LUA_HOOK_COUNT, BRS__LUA_HOOK_CALLS };
void brs__lua_hook_count(brs__lua_strategy *s);
void brs__lua_hook_calls(brs__lua_strategy *s);
/* 1 when the function at idx is Lua code without a backward jump, shorter
 * than one charge step of the budget (so running it unhooked leaves the count
 * within the budget's own granularity); 0 otherwise or when unsure. */
int brs__lua_loop_free(brs__lua_strategy *s, int idx);
/* Allocated bytes that cost one instruction of the budget (lua_sandbox.c). */
#define BRS__LUA_ALLOC_BYTES_PER_STEP 16

/* Reset the per-callback instruction budget, at every entry into the script.
 * Also notes the C stack frame of the entry (inlined: the caller's frame),
 * from which lua_safelib.c bounds the C stack that nested coroutine closing
 * may use. */
static inline void brs__lua_budget_reset(brs__lua_strategy *s)
{
    s->instr_used = 0;
    s->hook_calls = 0;
    s->cstack_base = (uintptr_t)__builtin_frame_address(0);
    if (__builtin_expect(s->hook_mode == BRS__LUA_HOOK_CALLS, 0))
        brs__lua_hook_count(s);
}

/* Charge n instructions of work a C function is about to do; kills the
 * strategy (never returns) when the budget is spent. */
static inline void brs__lua_charge(lua_State *L, brs__lua_strategy *s, uint64_t n)
{
    if (s->instr_limit == UINT64_MAX)
        return;
    s->instr_used = n > UINT64_MAX - s->instr_used ? UINT64_MAX : s->instr_used + n;
    if (s->killed || s->instr_used > s->instr_limit)
        brs__lua_budget_kill(L);
}

/* C stack (bytes) that nested coroutine.close / coroutine.wrap error paths
 * may use below a callback's entry: Lua 5.4.4 does not count the C calls of
 * closing one coroutine from another (each starts its own count), so 15,000
 * nested closes overflowed the C stack. */
#define BRS__LUA_CSTACK_MAX (1u << 20)
/* Default CPU time per callback (a backstop for C work the budget cannot see). */
#define BRS__LUA_DEFAULT_CPU_MS 2000u

/* lua_safelib.c: replaces, in the global table on top of the stack, the
 * library functions whose work is not counted by the hook or that could run
 * script code with hooks off (table.*, utf8.*, string.rep/byte/format, load,
 * xpcall, coroutine.close/wrap, tostring, math.randomseed). */
void brs__lua_safelib_install(lua_State *L);
/* tostring() without addresses: "table: 3" (ids by first use, deterministic). */
const char *brs__lua_tolstring(lua_State *L, int idx, size_t *len);

/* lua_pattern.c: replaces find/match/gmatch/gsub in the table on top of the
 * stack with the budget-charging matcher. */
void brs__lua_pattern_install(lua_State *L);

/* lua_indicators.c: pushes the ctx.indicators table (constructors). */
void brs__lua_push_indicators(lua_State *L);

#endif
