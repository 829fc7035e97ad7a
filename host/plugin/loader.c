/* loader.c: dlopen a C plugin and check its descriptor field by field before
 * anything in it runs (beyond its entry function), then open instances of it.
 * Each refusal gets its own BRS_E_ code and a one-line message naming the file
 * and the values, so a plugin author sees exactly what differs. */
#include "plugin/loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

/* The ABI 1.0 descriptor ends with the vtable pointer; anything smaller cannot
 * be read safely. */
#define BRS__DESC_MIN (offsetof(brs_plugin_desc, vtable) + sizeof(const void *))
/* Instances are small structs; anything past this is a corrupt descriptor. */
#define BRS__INSTANCE_MAX ((size_t)1 << 30)

const char *brs__plugin_kind_name(unsigned kind)
{
    switch (kind) {
    case BRS_KIND_VENUE: return "venue";
    case BRS_KIND_STRATEGY: return "strategy";
    default: return "unknown";
    }
}

/* dlerror() usually starts with the path; drop it, the message names it already. */
static const char *strip_path(const char *msg, const char *path)
{
    size_t n = strlen(path);
    if (msg && strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg ? msg : "unknown dlopen error";
}

static int name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* Kind-specific vtable checks: present, big enough, required methods set. */
static int check_vtable(const char *path, const brs_plugin_desc *d, brs_error *err)
{
    const char *kn = brs__plugin_kind_name(d->kind);
    if (!d->vtable)
        return brs__err(err, BRS_E_SHORTVTABLE, "%s: plugin %s vtable is NULL", path, kn);
    uint32_t size = *(const uint32_t *)d->vtable; /* every vtable starts with its size */
    size_t min = d->kind == BRS_KIND_VENUE ? BRS_VENUE_VTABLE_MIN : BRS_STRATEGY_VTABLE_MIN;
    if (size < min)
        return brs__err(err, BRS_E_SHORTVTABLE,
                        "%s: plugin %s vtable is too small: host needs at least %zu bytes, "
                        "plugin has %u",
                        path, kn, min, (unsigned)size);
    const char *missing = NULL;
    if (d->kind == BRS_KIND_VENUE) {
        const brs_venue_vtable *vt = d->vtable;
        missing = !vt->xOpen ? "xOpen" : !vt->xClose ? "xClose" : !vt->xSubmit ? "xSubmit"
                : !vt->xCancel ? "xCancel" : !vt->xReplace ? "xReplace" : NULL;
    } else {
        const brs_strategy_vtable *vt = d->vtable;
        missing = !vt->xOpen ? "xOpen" : !vt->xClose ? "xClose" : NULL;
    }
    if (missing)
        return brs__err(err, BRS_E_BADDESC, "%s: plugin %s vtable: required method %s is NULL",
                        path, kn, missing);
    return BRS_OK;
}

/* The checks, in the order a reader would want them: each later field is only
 * trusted once the earlier ones say the layout is what we think it is. */
static int check_desc(const char *path, const brs_plugin_desc *d, brs_error *err)
{
    if (!d)
        return brs__err(err, BRS_E_BADDESC, "%s: %s() returned NULL", path,
                        BRS_PLUGIN_ENTRY_SYMBOL);
    if (d->magic != BRS_PLUGIN_MAGIC)
        return brs__err(err, BRS_E_BADMAGIC,
                        "%s: plugin descriptor has a bad magic number: host expects 0x%08x, "
                        "plugin has 0x%08x",
                        path, (unsigned)BRS_PLUGIN_MAGIC, (unsigned)d->magic);
    if (d->size < BRS__DESC_MIN)
        return brs__err(err, BRS_E_BADDESC,
                        "%s: plugin descriptor is too small: host needs at least %zu bytes, "
                        "plugin has %u",
                        path, BRS__DESC_MIN, (unsigned)d->size);
    if (d->abi_major != BRS_ABI_MAJOR)
        return brs__err(err, BRS_E_ABIMAJOR,
                        "%s: plugin ABI major differs: host has %d, plugin has %u", path,
                        BRS_ABI_MAJOR, (unsigned)d->abi_major);
    if (d->abi_minor > BRS_ABI_MINOR)
        return brs__err(err, BRS_E_ABIMINOR,
                        "%s: plugin ABI minor is newer than the host's: host has %d.%d, "
                        "plugin has %u.%u",
                        path, BRS_ABI_MAJOR, BRS_ABI_MINOR, (unsigned)d->abi_major,
                        (unsigned)d->abi_minor);
    if (d->kind != BRS_KIND_VENUE && d->kind != BRS_KIND_STRATEGY)
        return brs__err(err, BRS_E_BADKIND,
                        "%s: unknown plugin kind %u (host knows %d = venue, %d = strategy)",
                        path, (unsigned)d->kind, BRS_KIND_VENUE, BRS_KIND_STRATEGY);
    if (d->instance_size > BRS__INSTANCE_MAX)
        return brs__err(err, BRS_E_BADDESC,
                        "%s: plugin instance size %zu is implausible (host limit %zu bytes)", path,
                        d->instance_size, (size_t)BRS__INSTANCE_MAX);
    if (!name_ok(d->name))
        return brs__err(err, BRS_E_BADDESC,
                        "%s: plugin name must be 1-64 characters of [A-Za-z0-9_.-]", path);
    return check_vtable(path, d, err);
}

int brs__plugin_load(brs_plugin *p, const char *path, brs_error *err)
{
    memset(p, 0, sizeof *p);
    struct stat st;
    if (!path || !*path)
        return brs__err(err, BRS_E_INVAL, "no plugin file given");
    if (stat(path, &st) != 0)
        return brs__err(err, BRS_E_NOTFOUND, "%s: no such file", path);
    if (!S_ISREG(st.st_mode))
        return brs__err(err, BRS_E_NOTPLUGIN, "%s: not a shared object: not a regular file",
                        path);
    if (access(path, R_OK) != 0)
        return brs__err(err, BRS_E_IO, "%s: cannot read: %s", path, strerror(errno));

    /* Without a '/', dlopen would search the system library path instead. */
    char *full = malloc(strlen(path) + 3);
    if (!full)
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
    strcpy(full, strchr(path, '/') ? "" : "./");
    strcat(full, path);

    dlerror();
    void *h = dlopen(full, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        int rc = brs__err(err, BRS_E_NOTPLUGIN, "%s: not a shared object: %s", path,
                          strip_path(dlerror(), full));
        free(full);
        return rc;
    }
    free(full);
    /* POSIX allows converting dlsym's void * to a function pointer. */
    brs_plugin_entry_fn entry;
    void *sym = dlsym(h, BRS_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    if (!entry) {
        dlclose(h);
        return brs__err(err, BRS_E_NOTPLUGIN,
                        "%s: not a Bourse plugin: no %s symbol (an ordinary shared library?)",
                        path, BRS_PLUGIN_ENTRY_SYMBOL);
    }
    const brs_plugin_desc *d = entry();
    int rc = check_desc(path, d, err);
    if (rc != BRS_OK) {
        dlclose(h);
        return rc;
    }
    p->path = strdup(path);
    if (!p->path) {
        dlclose(h);
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
    }
    p->handle = h;
    p->desc = d;
    return BRS_OK;
}

int brs__plugin_builtin(brs_plugin *p, brs_plugin_entry_fn entry, const char *label, brs_error *err)
{
    memset(p, 0, sizeof *p);
    const brs_plugin_desc *d = entry();
    int rc = check_desc(label, d, err);
    if (rc != BRS_OK)
        return rc;
    if (!(p->path = strdup(label)))
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", label);
    p->desc = d;
    return BRS_OK;
}

void brs__plugin_unload(brs_plugin *p)
{
    if (!p)
        return;
    if (p->handle)
        dlclose(p->handle);
    free(p->path);
    memset(p, 0, sizeof *p);
}

const brs_venue_vtable *brs__plugin_venue(const brs_plugin *p)
{
    return p && p->desc && p->desc->kind == BRS_KIND_VENUE ? p->desc->vtable : NULL;
}

const brs_strategy_vtable *brs__plugin_strategy(const brs_plugin *p)
{
    return p && p->desc && p->desc->kind == BRS_KIND_STRATEGY ? p->desc->vtable : NULL;
}

typedef int (*brs__open_fn)(void *, const brs_host *, brs_ctx *, brs_error *);
typedef void (*brs__close_fn)(void *);

static void kind_methods(const brs_plugin *p, brs__open_fn *o, brs__close_fn *c)
{
    const brs_venue_vtable *v = brs__plugin_venue(p);
    const brs_strategy_vtable *s = brs__plugin_strategy(p);
    *o = v ? v->xOpen : s ? s->xOpen : NULL;
    *c = v ? v->xClose : s ? s->xClose : NULL;
}

int brs__plugin_instance_open(brs_plugin_instance *inst, const brs_plugin *p,
                              const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    memset(inst, 0, sizeof *inst);
    if (!p || !p->desc)
        return brs__err(err, BRS_E_INVAL, "plugin is not loaded");
    brs__open_fn xopen;
    brs__close_fn xclose;
    kind_methods(p, &xopen, &xclose);
    if (!xopen || !xclose)
        return brs__err(err, BRS_E_BADDESC, "%s: plugin has no xOpen/xClose", p->path);
    size_t n = p->desc->instance_size ? p->desc->instance_size : 1;
    void *self = calloc(1, n);
    if (!self)
        return brs__err(err, BRS_E_NOMEM, "%s: cannot allocate %zu bytes for an instance",
                        p->path, n);
    inst->plugin = p;
    inst->self = self;
    inst->opened = 1;

    brs_error perr = {0};
    int rc = xopen(self, host, ctx, &perr);
    perr.msg[sizeof perr.msg - 1] = '\0'; /* never trust the plugin to terminate it */
    if (rc == BRS_OK)
        return BRS_OK;
    const char *why = perr.msg[0] ? perr.msg : brs_strerror(rc);
    brs__err(err, BRS_E_PLUGINOPEN, "%s: plugin '%s' failed to open: %s (%s)", p->path,
             p->desc->name, why, brs_err_name(rc));
    brs__plugin_instance_close(inst); /* xClose is owed even after a failed xOpen */
    return BRS_E_PLUGINOPEN;
}

void brs__plugin_instance_close(brs_plugin_instance *inst)
{
    if (!inst || !inst->plugin)
        return;
    brs__open_fn xopen;
    brs__close_fn xclose;
    kind_methods(inst->plugin, &xopen, &xclose);
    if (inst->opened && xclose)
        xclose(inst->self);
    free(inst->self);
    memset(inst, 0, sizeof *inst);
}
