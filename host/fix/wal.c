/* wal.c: durable writes and syncs with fault injection. BRS_FAULT_AFTER_WRITES=N
 * makes the process die (SIGKILL) right after its Nth write or sync (counting both, from
 * 1): the crash test kills the gateway at every boundary of an order flow.
 * BRS_FAULT_TORN=1 makes that Nth write put only half its bytes before dying (a
 * torn record). BRS_FAULT_FAIL_AT=N makes the Nth step fail with EIO instead (and
 * every later one, as a dead disk would). (BRS_FAULT_QUEUE_NOMEM=1, the queue
 * chunks' allocation failing, is runtime/rt_evq.c's.) Without these variables a
 * step costs one compare. */
#include "fix/wal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned long g_steps;
static unsigned long g_abort_at, g_fail_at; /* 0: off */
static int g_torn, g_in_child;
static int g_init;

static void init(void)
{
    g_init = 1;
    const char *v = getenv("BRS_FAULT_AFTER_WRITES");
    if (v && *v)
        g_abort_at = strtoul(v, NULL, 10);
    v = getenv("BRS_FAULT_FAIL_AT");
    if (v && *v)
        g_fail_at = strtoul(v, NULL, 10);
    v = getenv("BRS_FAULT_TORN");
    g_torn = v && *v == '1';
    v = getenv("BRS_FAULT_IN_CHILD");
    g_in_child = v && *v == '1';
}

void brs__fix_wal_forked(void)
{
    if (!g_init)
        init(); /* getenv and strtoul: no allocation, safe after fork */
    if (!g_in_child)
        g_abort_at = g_fail_at = 0;
}

/* 1: this step must fail (EIO); the abort comes after the step in the callers */
static int step(void)
{
    if (!g_init)
        init();
    g_steps++;
    return g_fail_at && g_steps >= g_fail_at;
}

static int abort_now(void)
{
    return g_abort_at && g_steps == g_abort_at;
}

int brs__fix_wal_write(int fd, const void *p, size_t n)
{
    if (step()) {
        errno = EIO;
        return -1;
    }
    const char *c = p;
    size_t todo = n;
    if (abort_now() && g_torn && n > 1)
        todo = n / 2;
    while (todo) {
        ssize_t w = write(fd, c, todo);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        todo -= (size_t)w;
    }
    if (abort_now())
        raise(SIGKILL); /* as kill -9: no handler, no flush */
    return 0;
}

int brs__fix_wal_sync(int fd, int full)
{
    if (step()) {
        errno = EIO;
        return -1;
    }
    int rc = full ? fsync(fd) : fdatasync(fd);
    if (abort_now())
        raise(SIGKILL); /* as kill -9: no handler, no flush */
    return rc;
}

unsigned long brs__fix_wal_steps(void)
{
    return g_steps;
}
