/* test_util.h: helpers for the tick tests: run the bourse binary and capture
 * its output and exit code, temporary paths, byte-level file surgery. */
#ifndef BRS_TEST_TICKS_UTIL_H
#define BRS_TEST_TICKS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `sh -c cmd` with stderr merged into stdout; returns the exit code and
 * the output (malloc'd, NUL-terminated) in *out when out is not NULL. */
static inline int run_cmd(const char *cmd, char **out)
{
    char full[8192];
    snprintf(full, sizeof full, "{ %s ; } 2>&1", cmd);
    if (out)
        *out = NULL;
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[n] = 0;
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline void tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/ticks-test-%ld-%s", BOURSE_BINARY_DIR, (long)getpid(), name);
}

static inline long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static inline void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, a)) > 0)
        fwrite(buf, 1, k, b);
    fclose(a);
    fclose(b);
}

static inline void flip_byte(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

/* cmd must fail with exit 1 and say `want` (include cmocka.h first). */
static inline void expect_error(const char *cmd, const char *want)
{
    char *txt;
    int rc = run_cmd(cmd, &txt);
    if (rc != 1 || !strstr(txt, want))
        fail_msg("'%s' gave %d: %s (wanted '%s')", cmd, rc, txt, want);
    free(txt);
}

/* `bourse ticks WHAT PATH` must fail with exit 1 and say want1 (and want2
 * unless NULL). */
static inline void expect_fail(const char *path, const char *what, const char *want1,
                               const char *want2)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s ticks %s %s", BOURSE_BIN, what, path);
    int rc = run_cmd(cmd, &out);
    if (rc != 1 || !strstr(out, want1) || (want2 && !strstr(out, want2)))
        fail_msg("'%s' gave %d: %s (wanted '%s' and '%s')", cmd, rc, out, want1, want2 ? want2 : "");
    free(out);
}

#endif
