/* source.h: a strategy from a file, whatever its kind: a Lua script (.lua) run
 * in the sandbox, or a C plugin (.so) through the plugin loader. Either way the
 * result is a vtable and an instance pointer for the runtime (runtime.h). */
#ifndef BRS_STRATEGY_SOURCE_H
#define BRS_STRATEGY_SOURCE_H

#include <bourse/errors.h>
#include <bourse/strategy.h>

#include "lua_strategy.h"
#include "runtime.h"

typedef struct brs__strategy_src {
    int is_lua;
    brs__lua_strategy *lua;
    void *plugin;       /* brs_plugin * when a C plugin */
    void *instance;     /* instance_size zeroed bytes for a C plugin */
    const brs_strategy_vtable *vt;
    void *self;
    char name[64];
    char kind[16];      /* "lua" or "c plugin" */
} brs__strategy_src;

/* Load from a path ending in .lua (script) or anything else (shared object). */
int brs__strategy_src_load(brs__strategy_src *src, const char *path, const brs__lua_opts *lua_opts,
                           brs_error *err);
/* Open it in sc (after brs__sctx_init with src->vt). */
/* A Lua strategy from its text (`name`, the file name, for messages): what
 * brs__strategy_src_load does for a .lua path, from a version in memory
 * (bourse serve's journal keeps the scripts its strategies ran). */
int brs__strategy_src_load_text(brs__strategy_src *src, const char *text, size_t len, const char *name,
                                const brs__lua_opts *lua_opts, brs_error *err);
int brs__strategy_src_open(brs__strategy_src *src, brs__sctx *sc, brs_error *err);
/* Free it; call after brs__sctx_free (which runs xClose). */
void brs__strategy_src_free(brs__strategy_src *src);

#endif
