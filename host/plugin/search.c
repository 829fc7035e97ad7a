/* search.c: the plugin search path and name -> file resolution, so a run
 * config can say "noop" instead of a path (config dirs, BOURSE_PLUGIN_PATH,
 * next to the executable, then the install prefix). */
#include "plugin/loader.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

#ifndef BOURSE_INSTALL_PLUGIN_DIR
#define BOURSE_INSTALL_PLUGIN_DIR "/usr/local/lib/bourse/plugins"
#endif

static int add_dir(brs_plugin_dirs *d, const char *s, size_t len)
{
    while (len > 1 && s[len - 1] == '/')
        len--;
    if (len == 0)
        return BRS_OK;
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->dir[i]) == len && memcmp(d->dir[i], s, len) == 0)
            return BRS_OK;
    char **grown = realloc(d->dir, (d->n + 1) * sizeof *grown);
    if (!grown)
        return BRS_E_NOMEM;
    d->dir = grown;
    char *copy = malloc(len + 1);
    if (!copy)
        return BRS_E_NOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    d->dir[d->n++] = copy;
    return BRS_OK;
}

static int add_list(brs_plugin_dirs *d, const char *list)
{
    while (list && *list) {
        const char *colon = strchr(list, ':');
        size_t len = colon ? (size_t)(colon - list) : strlen(list);
        int rc = add_dir(d, list, len);
        if (rc != BRS_OK)
            return rc;
        list = colon ? colon + 1 : NULL;
    }
    return BRS_OK;
}

int brs__plugin_dirs_get(brs_plugin_dirs *d, const char *config_path, brs_error *err)
{
    d->dir = NULL;
    d->n = 0;
    int rc = add_list(d, config_path);
    if (rc == BRS_OK)
        rc = add_list(d, getenv("BOURSE_PLUGIN_PATH"));
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (rc == BRS_OK && n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char buf[PATH_MAX + 32];
            snprintf(buf, sizeof buf, "%s/plugins", exe);
            rc = add_dir(d, buf, strlen(buf));
            /* <prefix>/bin/bourse -> <prefix>/lib/bourse/plugins, wherever the tree was copied */
            snprintf(buf, sizeof buf, "%s/../lib/bourse/plugins", exe);
            char real[PATH_MAX];
            if (rc == BRS_OK && realpath(buf, real))
                rc = add_dir(d, real, strlen(real));
        }
    }
    if (rc == BRS_OK)
        rc = add_dir(d, BOURSE_INSTALL_PLUGIN_DIR, strlen(BOURSE_INSTALL_PLUGIN_DIR));
    if (rc != BRS_OK) {
        brs__plugin_dirs_free(d);
        return brs__err(err, rc, "plugin search path: out of memory");
    }
    return BRS_OK;
}

void brs__plugin_dirs_free(brs_plugin_dirs *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->dir[i]);
    free(d->dir);
    d->dir = NULL;
    d->n = 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int copy_out(const char *s, char *out, size_t cap, brs_error *err)
{
    if (strlen(s) >= cap)
        return brs__err(err, BRS_E_RANGE, "%s: plugin path too long", s);
    memcpy(out, s, strlen(s) + 1);
    return BRS_OK;
}

int brs__plugin_find(const char *name_or_path, const char *config_path, char *out, size_t cap,
                     brs_error *err)
{
    if (!name_or_path || !*name_or_path)
        return brs__err(err, BRS_E_INVAL, "no plugin name given");
    if (strchr(name_or_path, '/')) {
        if (!is_file(name_or_path))
            return brs__err(err, BRS_E_NOTFOUND, "%s: no such plugin file", name_or_path);
        return copy_out(name_or_path, out, cap, err);
    }
    size_t len = strlen(name_or_path);
    int has_ext = len > 3 && strcmp(name_or_path + len - 3, ".so") == 0;
    /* "x.so" naming a file in the current directory means that file. */
    if (has_ext && is_file(name_or_path))
        return copy_out(name_or_path, out, cap, err);
    brs_plugin_dirs d;
    int rc = brs__plugin_dirs_get(&d, config_path, err);
    if (rc != BRS_OK)
        return rc;
    char buf[PATH_MAX * 2];
    for (size_t i = 0; i < d.n; i++) {
        snprintf(buf, sizeof buf, "%s/%s%s", d.dir[i], name_or_path, has_ext ? "" : ".so");
        if (is_file(buf)) {
            brs__plugin_dirs_free(&d);
            return copy_out(buf, out, cap, err);
        }
    }
    /* Name every directory searched, so the fix is obvious. */
    char where[BRS_ERROR_MSG_MAX] = "";
    size_t w = 0;
    for (size_t i = 0; i < d.n && w < sizeof where; i++)
        w += (size_t)snprintf(where + w, sizeof where - w, "%s%s", i ? ":" : "", d.dir[i]);
    brs__plugin_dirs_free(&d);
    return brs__err(err, BRS_E_NOTFOUND, "plugin '%s' not found on the search path (%s)",
                    name_or_path, where);
}
