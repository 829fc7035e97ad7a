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
    const char *cb_name;    /* the callback running, for messages */

    int cb_ref[BRS__LCB_COUNT]; /* registry refs, LUA_NOREF when absent */
    int ctx_ref;
    int table_ref;          /* the table the script returned (handed to on_reload) */
    int running;            /* inside a call into the script */
    int stack_base;         /* stack height between calls: 1 (handler) before open, SLOT_CB0 + BRS__LCB_COUNT - 1 after */
    int ev_ref[4];          /* reused event userdata: bar, trade, top, order */
    brs_market_event *ud_bar, *ud_trade;
    brs_top *ud_top;
    brs_order_event *ud_order;

    const brs_host *host;
    brs_ctx *ctx;
    uint32_t cur_instrument; /* of the last market event: the default for orders */
    /* cold, and last so the hot fields above keep their layout */
    int alloc_killed;       /* the budget ran out in the allocator (lua_sandbox.c) */
};

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
/* Allocated bytes that cost one instruction of the budget (lua_sandbox.c). */
#define BRS__LUA_ALLOC_BYTES_PER_STEP 16

/* Reset the per-callback instruction budget. */
static inline void brs__lua_budget_reset(brs__lua_strategy *s) { s->instr_used = 0; }

/* lua_pattern.c: replaces find/match/gmatch/gsub in the table on top of the
 * stack with the budget-charging matcher. */
void brs__lua_pattern_install(lua_State *L);

/* lua_indicators.c: pushes the ctx.indicators table (constructors). */
void brs__lua_push_indicators(lua_State *L);

#endif
