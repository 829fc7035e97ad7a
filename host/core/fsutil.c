/* fsutil.c: reading whole files and writing files atomically (temporary file,
 * fsync, rename), so an interrupted run never leaves a half-written result. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int brs__read_file(const char *path, char **data, size_t *len, brs_error *err)
{
    return brs__read_file_max(path, SIZE_MAX / 2, data, len, err);
}

int brs__read_file_max(const char *path, size_t max, char **data, size_t *len, brs_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return brs__err(err, errno == ENOENT ? BRS_E_NOTFOUND : BRS_E_IO, "%s: %s", path,
                        strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(fp);
                return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t want = cap - n - 1;
        if (want > max + 1 - n)
            want = max + 1 - n; /* one byte past the limit is enough to know */
        size_t got = fread(buf + n, 1, want, fp);
        n += got;
        if (got == 0)
            break;
        if (n > max) { /* a device (/dev/zero), a pipe or a file far too large: stop */
            free(buf);
            fclose(fp);
            return brs__err(err, BRS_E_RANGE, "%s: larger than %zu bytes, the limit for this file", path, max);
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return brs__err(err, BRS_E_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return BRS_OK;
}

int brs__atomic_open(brs_atomic_file *af, const char *path, brs_error *err)
{
    memset(af, 0, sizeof *af);
    struct stat st;
    int exists = stat(path, &st) == 0;
    /* A device, FIFO or socket: write to it directly (see core.h). */
    if (exists && !S_ISREG(st.st_mode)) {
        af->path = strdup(path);
        if (!af->path)
            return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
        af->fp = fopen(path, "wb");
        if (!af->fp) {
            int e = errno;
            brs__atomic_abort(af);
            return brs__err(err, BRS_E_IO, "%s: cannot open: %s", path, strerror(e));
        }
        return BRS_OK;
    }
    /* A symlink to a regular file: replace the file it points to. */
    struct stat lst;
    char *real = NULL;
    if (exists && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
        real = realpath(path, NULL);
    af->path = real ? real : strdup(path);
    size_t n = strlen(af->path) + 32;
    af->tmp = malloc(n);
    if (!af->path || !af->tmp) {
        brs__atomic_abort(af);
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", path);
    }
    snprintf(af->tmp, n, "%s.tmp.%ld", af->path, (long)getpid());
    af->slot = brs__tmp_register(af->tmp) + 1; /* before it exists: a signal now leaves nothing */
    af->fp = fopen(af->tmp, "wb");
    if (!af->fp) {
        int e = errno;
        brs__atomic_abort(af);
        return brs__err(err, BRS_E_IO, "%s: cannot create: %s", path, strerror(e));
    }
    return BRS_OK;
}

int brs__atomic_commit(brs_atomic_file *af, brs_error *err)
{
    int rc = BRS_OK;
    /* Writing straight through (no temporary): flush, no fsync, no rename. */
    int direct = af->tmp == NULL;
    if (fflush(af->fp) != 0 || ferror(af->fp) || (!direct && fsync(fileno(af->fp)) != 0))
        rc = brs__err(err, BRS_E_IO, "%s: write failed: %s", af->path, strerror(errno));
    if (fclose(af->fp) != 0 && rc == BRS_OK)
        rc = brs__err(err, BRS_E_IO, "%s: close failed: %s", af->path, strerror(errno));
    af->fp = NULL;
    if (rc == BRS_OK && !direct && rename(af->tmp, af->path) != 0)
        rc = brs__err(err, BRS_E_IO, "%s: rename failed: %s", af->path, strerror(errno));
    if (rc != BRS_OK && !direct)
        unlink(af->tmp);
    brs__tmp_unregister(af->slot - 1);
    af->slot = 0;
    free(af->path);
    free(af->tmp);
    af->path = af->tmp = NULL;
    return rc;
}

void brs__atomic_abort(brs_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp)
        unlink(af->tmp);
    brs__tmp_unregister(af->slot - 1);
    af->slot = 0;
    free(af->path);
    free(af->tmp);
    af->path = af->tmp = NULL;
}

int brs__atomic_write(const char *path, const void *data, size_t len, brs_error *err)
{
    brs_atomic_file af;
    int rc = brs__atomic_open(&af, path, err);
    if (rc)
        return rc;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        brs__atomic_abort(&af);
        return brs__err(err, BRS_E_IO, "%s: write failed", path);
    }
    return brs__atomic_commit(&af, err);
}

int brs__mkdirs(const char *path, brs_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return brs__err(err, BRS_E_INVAL, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return brs__err(err, BRS_E_IO, "%s: cannot create directory: %s", buf,
                                strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return brs__err(err, BRS_E_IO, "%s: not a directory", path);
    return BRS_OK;
}

/* The deepest existing ancestor of path (path itself when it exists) into buf. */
static int existing_ancestor(const char *path, char *buf, size_t cap, struct stat *st)
{
    size_t n = strlen(path);
    if (n == 0 || n >= cap)
        return -1;
    memcpy(buf, path, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    for (;;) {
        if (stat(buf, st) == 0)
            return 0;
        if (errno != ENOENT && errno != ENOTDIR)
            return -1;
        char *slash = strrchr(buf, '/');
        if (!slash) {
            snprintf(buf, cap, ".");
            return stat(buf, st);
        }
        if (slash == buf)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

int brs__check_out_dir(const char *path, brs_error *err)
{
    char buf[4096];
    struct stat st;
    if (existing_ancestor(path, buf, sizeof buf, &st) != 0)
        return brs__err(err, BRS_E_IO, "%s: cannot write here: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return brs__err(err, BRS_E_IO, "%s: cannot write here: %s is not a directory", path, buf);
    if (access(buf, W_OK | X_OK) != 0)
        return brs__err(err, BRS_E_IO, "%s: cannot write here: %s: %s", path, buf, strerror(errno));
    return BRS_OK;
}

int brs__check_out_file(const char *path, brs_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return brs__err(err, BRS_E_IO, "%s: is a directory", path);
        if (!S_ISREG(st.st_mode)) /* a device or FIFO: written straight through */
            return access(path, W_OK) == 0
                       ? BRS_OK
                       : brs__err(err, BRS_E_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    /* a regular file is replaced through a temporary next to it: its folder counts */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0)
        return brs__err(err, BRS_E_IO, "%s: cannot create: %s: %s", path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return brs__err(err, BRS_E_IO, "%s: cannot create: %s is not a directory", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return brs__err(err, BRS_E_IO, "%s: cannot create: %s: %s", path, dir, strerror(errno));
    return BRS_OK;
}

void brs__file_safe_name(char *out, size_t cap, const char *name)
{
    size_t n = 0;
    if (!cap)
        return;
    for (const char *p = name ? name : ""; *p && n + 1 < cap && n < 128; p++) {
        unsigned char c = (unsigned char)*p;
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        int ok = alnum || c == '-' || c == '_' || (c == '.' && n > 0 && out[n - 1] != '.' &&
                                                   out[n - 1] != '_');
        out[n++] = ok ? (char)c : '_';
    }
    out[n] = 0;
    if (!n)
        snprintf(out, cap, "unnamed");
}

int brs__temp_fd(const char *dir, const char *prefix)
{
#ifdef O_TMPFILE
    int tfd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (tfd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return tfd; /* never named; or dir is missing, not a directory, not writable */
#endif
    size_t len = strlen(dir) + strlen(prefix) + sizeof "/.-XXXXXX";
    char *t = malloc(len);
    if (!t) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(t, len, "%s/.%s-XXXXXX", dir, prefix);
    int fd = mkstemp(t); /* O_EXCL, 0600 */
    if (fd >= 0)
        unlink(t);
    int e = errno;
    free(t);
    errno = e;
    return fd;
}
