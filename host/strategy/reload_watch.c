/* reload_watch.c: watch a Lua strategy's file and reload it in place when it
 * changes (reload_watch.h). One stat(2) per check interval, whatever the event
 * rate; the file is read only when it changed and then held still for one
 * interval; the reload itself is brs__lua_strategy_reload (lua_load.c). */
#include "strategy/reload_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/core.h"
#include "core/log.h"

static void sig_of(const struct stat *st, brs__file_sig *s)
{
    s->dev = (uint64_t)st->st_dev;
    s->ino = (uint64_t)st->st_ino;
    s->size = (uint64_t)st->st_size;
    s->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    s->ok = 1;
}

static int sig_eq(const brs__file_sig *a, const brs__file_sig *b)
{
    return a->ok == b->ok && (!a->ok || (a->dev == b->dev && a->ino == b->ino &&
                                         a->size == b->size && a->mtime_ns == b->mtime_ns));
}

/* Read the whole file, at most max bytes; *sig is what was read (fstat of the
 * open file, so a rename after the read is seen as a new version). */
static int read_bounded(const char *path, size_t max, char **out, size_t *len, brs__file_sig *sig,
                        brs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return brs__err(err, BRS_E_IO, "%s: not a regular file", path);
    }
    sig_of(&st, sig);
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return brs__err(err, BRS_E_LIMIT, "%s: %llu bytes, more than strategy.reload_max_bytes (%zu)",
                        path, (unsigned long long)st.st_size, max);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* shrank while read: what was read is tried, the next change reloads again */
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return BRS_OK;
}

int brs__reload_opts_read(const brs_config *cfg, const cJSON *obj, const char *where, int *enabled,
                          brs__reload_opts *o, brs_error *err)
{
    int64_t ms = BRS__RELOAD_CHECK_NS_DEFAULT / 1000000, mb = BRS__RELOAD_MAX_BYTES_DEFAULT;
    memset(o, 0, sizeof *o);
    *enabled = 1;
    if (!obj)
        return BRS_OK;
    int rc = brs__config_bool(cfg, obj, where, "hot_reload", 1, enabled, err);
    if (!rc)
        rc = brs__config_int(cfg, obj, where, "reload_check_ms", ms, &ms, err);
    if (!rc)
        rc = brs__config_int(cfg, obj, where, "reload_max_bytes", mb, &mb, err);
    if (rc)
        return rc;
    if (ms < 10 || ms > 60000)
        return brs__err(err, BRS_E_RANGE, "%s: %s.reload_check_ms: %lld is not in 10..60000",
                        cfg->source, where, (long long)ms);
    if (mb < 1 || mb > (int64_t)1 << 30)
        return brs__err(err, BRS_E_RANGE, "%s: %s.reload_max_bytes: %lld is not in 1..2^30",
                        cfg->source, where, (long long)mb);
    o->check_ns = ms * 1000000;
    o->max_bytes = (size_t)mb;
    return BRS_OK;
}

int brs__reload_watch_init(brs__reload_watch *w, const char *path, const char *name,
                           brs__lua_strategy *lua, const brs__reload_opts *o, brs_error *err)
{
    memset(w, 0, sizeof *w);
    if (o)
        w->o = *o;
    if (w->o.check_ns <= 0)
        w->o.check_ns = BRS__RELOAD_CHECK_NS_DEFAULT;
    if (w->o.check_ns < 10000000LL)
        w->o.check_ns = 10000000LL;
    if (!w->o.max_bytes)
        w->o.max_bytes = BRS__RELOAD_MAX_BYTES_DEFAULT;
    w->path = strdup(path);
    if (!w->path)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    w->name = name;
    w->lua = lua;
    struct stat st;
    if (stat(path, &st) == 0)
        sig_of(&st, &w->loaded);
    BRS_LOG(BRS_LOG_INFO, "reload", "watching the strategy file for changes", BRS_KV_S("strategy", name),
            BRS_KV_S("file", path), BRS_KV_I("check_ms", w->o.check_ns / 1000000));
    return BRS_OK;
}

int brs__reload_watch_poll(brs__reload_watch *w, int64_t now)
{
    if (!w->path || now < w->next_check)
        return 0;
    w->next_check = now + w->o.check_ns;
    w->n_checks++;
    brs__file_sig cur = {0};
    struct stat st;
    if (stat(w->path, &st) == 0)
        sig_of(&st, &cur);
    if (!cur.ok) {
        /* removed or being replaced: keep running; log once per disappearance */
        if (w->loaded.ok || (w->has_pending && w->pending.ok))
            BRS_LOG(BRS_LOG_WARN, "reload", "the strategy file is gone; the running version stays",
                    BRS_KV_S("strategy", w->name), BRS_KV_S("file", w->path),
                    BRS_KV_S("error", strerror(errno)));
        w->loaded.ok = 0;
        w->has_pending = 0;
        return 0;
    }
    if (sig_eq(&cur, &w->loaded)) {
        w->has_pending = 0;
        return 0;
    }
    if (!w->has_pending || !sig_eq(&cur, &w->pending)) {
        w->pending = cur; /* wait one more interval: the save may not be finished */
        w->has_pending = 1;
        return 0;
    }
    w->has_pending = 0;
    char *text = NULL;
    size_t len = 0;
    brs_error e = {0};
    brs__file_sig got = cur;
    int rc = read_bounded(w->path, w->o.max_bytes, &text, &len, &got, &e);
    w->loaded = got; /* tried: not again until the file changes */
    if (rc == BRS_OK)
        rc = brs__lua_strategy_reload(w->lua, text, len, &e);
    if (rc == BRS_OK && w->on_reload)
        w->on_reload(w->on_reload_user, text, len);
    free(text);
    if (rc) {
        w->n_refused++;
        BRS_LOG(BRS_LOG_WARN, "reload", "strategy reload refused; the running version stays",
                BRS_KV_S("strategy", w->name), BRS_KV_S("file", w->path), BRS_KV_S("error", e.msg),
                BRS_KV_U("refused", w->n_refused));
        return rc < 0 ? rc : BRS_E_INVAL;
    }
    w->n_reloads++;
    BRS_LOG(BRS_LOG_INFO, "reload", "strategy reloaded", BRS_KV_S("strategy", w->name),
            BRS_KV_S("file", w->path), BRS_KV_U("bytes", len), BRS_KV_U("reloads", w->n_reloads));
    return 1;
}

void brs__reload_watch_free(brs__reload_watch *w)
{
    free(w->path);
    w->path = NULL;
}
