/* lua_strategy.h: a Lua 5.4 script as a strategy. The script returns a table of
 * callbacks and declared parameters; the host wraps it in a brs_strategy_vtable,
 * so the engine drives it exactly like a C plugin (docs/lua-api.md).
 * Each script gets its own lua_State in a sandbox: base, table, string, math,
 * utf8 and coroutine only; text chunks only; a memory cap and an instruction
 * budget per callback. A script error never escapes: the callback returns
 * BRS_E_SCRIPT (or BRS_E_SANDBOX for a broken limit) after logging a message
 * that names the script, the line and the callback, with a traceback. */
#ifndef BRS_LUA_STRATEGY_H
#define BRS_LUA_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/strategy.h>

#define BRS__LUA_DEFAULT_MEM (64u << 20)          /* bytes per script */
#define BRS__LUA_DEFAULT_INSTR 10000000u          /* VM instructions per callback */

typedef struct brs__lua_opts {
    size_t mem_limit;     /* 0: BRS__LUA_DEFAULT_MEM */
    uint64_t instr_limit; /* 0: BRS__LUA_DEFAULT_INSTR; UINT64_MAX: no budget (no hook) */
    uint64_t cpu_limit_ms; /* CPU time per callback, a backstop: 0: 2000; UINT64_MAX: none */
    uint64_t seed;        /* the run's seed: math.random's first seed and randomseed()'s */
} brs__lua_opts;

typedef struct brs__lua_strategy brs__lua_strategy;

/* Load and run the script's main chunk in a fresh sandbox, read its parameter
 * declarations and callbacks. On failure *out is NULL and err names the script. */
int brs__lua_strategy_load(brs__lua_strategy **out, const char *path, const brs__lua_opts *opts,
                           brs_error *err);
/* The same from text in memory; `name` is used in messages ("ma_cross.lua"). */
int brs__lua_strategy_load_buffer(brs__lua_strategy **out, const char *text, size_t len,
                                  const char *name, const brs__lua_opts *opts, brs_error *err);
/* The vtable (params, subscriptions) and the instance pointer to pass as self. */
const brs_strategy_vtable *brs__lua_strategy_vtable(const brs__lua_strategy *s);
/* The script's `name` field, else its file name without ".lua". */
const char *brs__lua_strategy_name(const brs__lua_strategy *s);
/* Bytes the script's Lua state holds now, and the most it ever held. */
size_t brs__lua_strategy_mem(const brs__lua_strategy *s, size_t *peak);
/* Hot reload, between events (never from inside a callback): load new source
 * text into the running strategy's state. The new script must declare the same
 * parameters. Its on_reload(ctx, old) runs with `old` the table the previous
 * version returned (keep state to carry over in it, or behind a function);
 * without on_reload its on_start runs instead. If loading, the parameter check
 * or that callback fails, the previous version keeps running and the error is
 * returned; a reload that exhausts the instruction budget kills the strategy. */
int brs__lua_strategy_reload(brs__lua_strategy *s, const char *text, size_t len, brs_error *err);
/* Free it (after xClose, or instead of opening it at all). */
void brs__lua_strategy_free(brs__lua_strategy *s);

#endif
