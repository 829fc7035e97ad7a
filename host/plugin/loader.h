/* loader.h: loading C plugins (dlopen + field-by-field descriptor checks),
 * opening instances of them, and finding them on the plugin search path.
 * Internal to the host; every refusal has its own BRS_E_ code and a one-line
 * message naming the file and the values (docs/plugin-abi.md). */
#ifndef BRS_PLUGIN_LOADER_H
#define BRS_PLUGIN_LOADER_H

#include <stddef.h>

#include <bourse/errors.h>
#include <bourse/host.h>
#include <bourse/plugin.h>
#include <bourse/strategy.h>
#include <bourse/venue.h>

/* A loaded, checked plugin. Caller-owned; zero it or let load fill it.
 * Another component may fill one by hand for a plugin that is not a .so (the
 * Lua wrapper: handle NULL, path malloc'd, desc pointing at its own static
 * descriptor) and use the instance functions below; unload then only frees path. */
typedef struct brs_plugin {
    void *handle;               /* dlopen handle */
    char *path;                 /* the file as given (malloc'd) */
    const brs_plugin_desc *desc; /* checked descriptor, lives as long as handle */
} brs_plugin;

/* dlopen(RTLD_NOW | RTLD_LOCAL), find brs_plugin_entry, check the descriptor.
 * Codes: BRS_E_NOTFOUND (no such file), BRS_E_NOTPLUGIN (not a shared object,
 * or no entry symbol), BRS_E_BADMAGIC, BRS_E_BADDESC (descriptor too small,
 * bad name, required method NULL), BRS_E_ABIMAJOR, BRS_E_ABIMINOR,
 * BRS_E_BADKIND, BRS_E_SHORTVTABLE (NULL or too small vtable). On failure p is
 * left zeroed and nothing stays loaded. After success the loader guarantees:
 * venue: xOpen, xClose, xSubmit, xCancel, xReplace non-NULL;
 * strategy: xOpen, xClose non-NULL (other callbacks may be NULL = not interested). */
int brs__plugin_load(brs_plugin *p, const char *path, brs_error *err);
/* A plugin compiled into the host (the sim venue, host/runtime): the same
 * descriptor checks as a .so, no handle; label names it in messages. */
int brs__plugin_builtin(brs_plugin *p, brs_plugin_entry_fn entry, const char *label, brs_error *err);
/* dlclose and free; safe on a zeroed or already unloaded p. */
void brs__plugin_unload(brs_plugin *p);

/* The kind's vtables (NULL when the plugin is of the other kind). */
const brs_venue_vtable *brs__plugin_venue(const brs_plugin *p);
const brs_strategy_vtable *brs__plugin_strategy(const brs_plugin *p);
/* "venue", "strategy" or "unknown". */
const char *brs__plugin_kind_name(unsigned kind);

/* One instance of a plugin: desc->instance_size zeroed bytes owned by the host. */
typedef struct brs_plugin_instance {
    const brs_plugin *plugin;
    void *self;
    int opened; /* xOpen has run, so xClose is still owed */
} brs_plugin_instance;

/* Allocate desc->instance_size zeroed bytes and call the kind's xOpen. On
 * failure returns BRS_E_PLUGINOPEN with the plugin's own error text passed on
 * ("x.so: plugin 'name' failed to open: <its message> (BRS_E_IO)"); xClose has
 * then already run once and the memory is freed, so inst is back to zero and
 * brs__plugin_instance_close on it is a harmless no-op. xClose runs exactly
 * once after every xOpen, even a failed one. host and ctx must outlive inst. */
int brs__plugin_instance_open(brs_plugin_instance *inst, const brs_plugin *p,
                              const brs_host *host, brs_ctx *ctx, brs_error *err);
/* Call xClose (once) and free the instance memory. Safe on a zeroed inst. */
void brs__plugin_instance_close(brs_plugin_instance *inst);

/* Plugin search path, in order: config_path (colon-separated, may be NULL),
 * $BOURSE_PLUGIN_PATH (colon-separated), <dir of the executable>/plugins,
 * <dir of the executable>/../lib/bourse/plugins, <install prefix>/lib/bourse/plugins.
 * Empty entries and duplicates are dropped. */
typedef struct brs_plugin_dirs {
    char **dir;
    size_t n;
} brs_plugin_dirs;
int brs__plugin_dirs_get(brs_plugin_dirs *d, const char *config_path, brs_error *err);
void brs__plugin_dirs_free(brs_plugin_dirs *d);

/* name (searched on the path as name.so, or name if it already ends in .so)
 * or a path (contains '/', or "x.so" naming a file in the current directory)
 * -> resolved file path in out. BRS_E_NOTFOUND names
 * the directories searched; BRS_E_RANGE when out is too small. */
int brs__plugin_find(const char *name_or_path, const char *config_path, char *out, size_t cap,
                     brs_error *err);

/* A minimal host-services table for opening plugins outside a run (inspect):
 * xNow is the real clock, xLog writes to stderr, parameters are BRS_E_NOTFOUND,
 * instruments are none, trading and emit services return BRS_E_STATE. */
const brs_host *brs__plugin_inspect_host(void);

#endif
