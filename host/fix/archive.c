/* archive.c: moves compacted-away history of the gateway's state directory
 * (session stores at a sequence reset, the order journal at the end of day)
 * into STATE_DIR/archive/ with a time stamp, and prunes it by retention. */
#include "fix/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "fix/wal.h"

/* dir part of path into out ("." when none). */
static void dir_of(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == out)
        out[1] = 0;
    else
        *slash = 0;
}

int brs__fix_archive_name(const char *path, int64_t now_ns, char *out, size_t cap)
{
    char dir[1024];
    dir_of(path, dir, sizeof dir);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    time_t t = (time_t)(now_ns / 1000000000LL);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(out, cap, "%s/archive/%s.%04d%02d%02d-%02d%02d%02d.%09lld", dir, base,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (long long)(now_ns % 1000000000LL));
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int brs__fix_archive_mkdir(const char *path)
{
    char dir[1100];
    dir_of(path, dir, sizeof dir);
    strncat(dir, "/archive", sizeof dir - strlen(dir) - 1);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int brs__fix_archive_link(const char *path, int64_t now_ns, char *out, size_t cap)
{
    if (brs__fix_archive_mkdir(path) != 0 || brs__fix_archive_name(path, now_ns, out, cap) != 0)
        return -1;
    return link(path, out);
}

int brs__fix_archive_move(const char *path, int64_t now_ns, char *out, size_t cap)
{
    if (brs__fix_archive_mkdir(path) != 0 || brs__fix_archive_name(path, now_ns, out, cap) != 0)
        return -1;
    return rename(path, out);
}

int brs__fix_sync_dir_of(const char *path)
{
    char dir[1024];
    dir_of(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = brs__fix_wal_sync(dfd, 1);
    close(dfd);
    return rc;
}

int brs__fix_archive_prune(const char *state_dir, uint32_t days, int64_t now_ns)
{
    if (days == 0 || !state_dir || !*state_dir)
        return 0;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/archive", state_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int64_t limit = now_ns / 1000000000LL - (int64_t)days * 86400;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[1400];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (int64_t)sb.st_mtime < limit &&
            unlink(p) == 0)
            removed++;
    }
    closedir(d);
    if (removed)
        BRS_LOG(BRS_LOG_INFO, "fix", "archive pruned (archive_retention_days)",
                BRS_KV_S("dir", dir), BRS_KV_U("files", (uint64_t)removed),
                BRS_KV_U("archive_retention_days", days));
    return removed;
}
