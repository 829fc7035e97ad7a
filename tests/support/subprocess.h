/* subprocess.h: run the bourse binary as a subprocess and capture its exit
 * status, stdout and stderr, for tests of CLI behaviour. Header-only (static
 * functions) so each test executable takes just what it uses; include after
 * <cmocka.h>. */
#ifndef BRS_TEST_SUBPROCESS_H
#define BRS_TEST_SUBPROCESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct run_result {
    int status; /* exit code, or 128 + signal */
    char *out;
    char *err;
} run_result;

static inline char *slurp(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (n + 1024 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(fd);
    return buf;
}

static inline int temp_fd(void)
{
    char tmpl[] = "/tmp/brs_cli_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    unlink(tmpl);
    return fd;
}

/* Run bourse with the given arguments (NULL-terminated), capturing both streams. */
static inline run_result run(const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = BOURSE_BIN;
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    int fo = temp_fd(), fe = temp_fd();
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fo, 1);
        dup2(fe, 2);
        execv(BOURSE_BIN, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    run_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(fo);
    r.err = slurp(fe);
    return r;
}

static inline void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static inline int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

#endif
