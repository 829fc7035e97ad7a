/* source.c: load a strategy from a .lua script or a C plugin, so commands and
 * benchmarks treat both alike. C plugins go through host/plugin (the one
 * loader); until that lands, .so files are refused with a clear message. */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#if __has_include("plugin/loader.h")
#include "plugin/loader.h"
#define BRS__HAVE_LOADER 1
#endif

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The rest of a Lua source once src->lua is loaded. */
static int lua_src(brs__strategy_src *src)
{
    src->is_lua = 1;
    src->vt = brs__lua_strategy_vtable(src->lua);
    src->self = src->lua;
    snprintf(src->name, sizeof src->name, "%s", brs__lua_strategy_name(src->lua));
    snprintf(src->kind, sizeof src->kind, "lua");
    return BRS_OK;
}

int brs__strategy_src_load_text(brs__strategy_src *src, const char *text, size_t len, const char *name,
                                const brs__lua_opts *lua_opts, brs_error *err)
{
    memset(src, 0, sizeof *src);
    int rc = brs__lua_strategy_load_buffer(&src->lua, text, len, name, lua_opts, err);
    return rc ? rc : lua_src(src);
}

int brs__strategy_src_load(brs__strategy_src *src, const char *path, const brs__lua_opts *lua_opts,
                           brs_error *err)
{
    memset(src, 0, sizeof *src);
    if (ends_with(path, ".lua")) {
        int rc = brs__lua_strategy_load(&src->lua, path, lua_opts, err);
        return rc ? rc : lua_src(src);
    }
#ifdef BRS__HAVE_LOADER
    brs_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    char found[4096];
    int rc = brs__plugin_find(path, NULL, found, sizeof found, err);
    if (rc == BRS_OK)
        rc = brs__plugin_load(p, found, err);
    if (rc) {
        free(p);
        return rc;
    }
    src->plugin = p;
    if (p->desc->kind != BRS_KIND_STRATEGY) {
        brs__strategy_src_free(src);
        return brs__err(err, BRS_E_BADKIND, "%s: plugin '%s' is a %s, not a strategy", path,
                        p->desc->name, brs__plugin_kind_name(p->desc->kind));
    }
    src->vt = brs__plugin_strategy(p);
    src->instance = calloc(1, p->desc->instance_size ? p->desc->instance_size : 1);
    if (!src->instance) {
        brs__strategy_src_free(src);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    src->self = src->instance;
    snprintf(src->name, sizeof src->name, "%s", p->desc->name);
    snprintf(src->kind, sizeof src->kind, "c plugin");
    return BRS_OK;
#else
    return brs__err(err, BRS_E_UNSUPPORTED,
                    "%s: C strategy plugins need the plugin loader (host/plugin), not built in", path);
#endif
}

int brs__strategy_src_open(brs__strategy_src *src, brs__sctx *sc, brs_error *err)
{
    return brs__sctx_open(sc, src->self, err);
}

void brs__strategy_src_free(brs__strategy_src *src)
{
    if (src->lua)
        brs__lua_strategy_free(src->lua);
#ifdef BRS__HAVE_LOADER
    if (src->plugin) {
        brs__plugin_unload(src->plugin);
        free(src->plugin);
    }
#endif
    free(src->instance);
    memset(src, 0, sizeof *src);
}
