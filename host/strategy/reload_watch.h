/* reload_watch.h: hot reload of a Lua strategy's script for long-running
 * commands (`bourse live`, and `bourse serve`'s strategies through the
 * runtime): the command's loop calls brs__reload_watch_poll between events; at
 * most once per interval it stats the file, and when the file changed and has
 * stayed unchanged for one more interval (so a half-written save is not read)
 * it reads it and hands it to brs__lua_strategy_reload. Positions and open
 * orders stay (they live in the strategy context, not in the script); a
 * script that fails to load or to reload leaves the running version in place,
 * and both outcomes are logged (component "reload"). docs/lua-api.md. */
#ifndef BRS_STRATEGY_RELOAD_WATCH_H
#define BRS_STRATEGY_RELOAD_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

#include "lua_strategy.h"

#define BRS__RELOAD_CHECK_NS_DEFAULT 200000000LL /* 200 ms */
#define BRS__RELOAD_MAX_BYTES_DEFAULT (4u << 20)

typedef struct brs__reload_opts {
    int64_t check_ns;  /* 0: BRS__RELOAD_CHECK_NS_DEFAULT; at least 10 ms */
    size_t max_bytes;  /* 0: BRS__RELOAD_MAX_BYTES_DEFAULT; a bigger file is refused */
} brs__reload_opts;

/* What the file looked like: a change of any of these is a new version. */
typedef struct brs__file_sig {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    int ok; /* the stat succeeded */
} brs__file_sig;

typedef struct brs__reload_watch {
    char *path;
    const char *name;          /* the strategy's name, for log lines */
    brs__lua_strategy *lua;
    brs__reload_opts o;
    int64_t next_check;        /* monotonic ns */
    brs__file_sig loaded;      /* the version running (or last tried) */
    brs__file_sig pending;     /* a change seen, waiting one interval to settle */
    int has_pending;
    uint64_t n_checks, n_reloads, n_refused;
    /* Optional: called after each reload that took, with the text now running
     * (bourse serve journals it: runtime/rt_hosted.c). */
    void (*on_reload)(void *user, const char *text, size_t len);
    void *on_reload_user;
} brs__reload_watch;

/* The config keys of a strategy object that drive its hot reload, for
 * brs__config_check_keys lists: "hot_reload" (bool, default true),
 * "reload_check_ms" (10..60000, default 200), "reload_max_bytes" (default
 * 4 MiB). */
#define BRS__RELOAD_CONFIG_KEYS "hot_reload", "reload_check_ms", "reload_max_bytes"
struct brs_config;
struct cJSON;
/* Read them from `obj` (may be NULL: the defaults); `where` names obj in
 * messages ("strategy", "strategies[2]"). */
int brs__reload_opts_read(const struct brs_config *cfg, const struct cJSON *obj, const char *where,
                          int *enabled, brs__reload_opts *o, brs_error *err);

/* Watch `path`, the file `lua` was loaded from (its current contents are the
 * running version). `name` must outlive the watch. */
int brs__reload_watch_init(brs__reload_watch *w, const char *path, const char *name,
                           brs__lua_strategy *lua, const brs__reload_opts *o, brs_error *err);
/* Between events, never from inside a strategy callback. now: monotonic ns.
 * Returns 1 when a new version was loaded, 0 when nothing happened, or the
 * negative BRS_E_ code of a refused reload (already logged; the running
 * version stays). A stat or read failure is logged once and retried. */
int brs__reload_watch_poll(brs__reload_watch *w, int64_t now);
void brs__reload_watch_free(brs__reload_watch *w);

#endif
