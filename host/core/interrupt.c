/* interrupt.c: Ctrl-C and SIGTERM for commands that write results. Every
 * temporary file of brs__atomic_open is registered here, so whatever ends the
 * process by a signal, no "*.tmp.<pid>" is left behind. A command that can stop
 * cleanly (a backtest) asks for cooperative mode: the first signal only sets a
 * flag its loop checks at safe points; a second one ends the process at once. */
#include "core.h"
#include "interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Slots of temporaries in progress. state: 0 free, 1 being filled or emptied,
 * 2 ready (the handler may unlink it). Lock-free: the handler only reads. */
#define TMP_SLOTS 16
static struct {
    atomic_int state;
    char path[4096];
} tmp_slots[TMP_SLOTS];

static atomic_int interrupted; /* the signal number, 0 for none; lock-free, so also safe across threads */
static volatile sig_atomic_t cooperative;

int brs__tmp_register(const char *path)
{
    size_t n = strlen(path);
    if (n >= sizeof tmp_slots[0].path)
        return -1;
    for (int i = 0; i < TMP_SLOTS; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&tmp_slots[i].state, &expect, 1)) {
            memcpy(tmp_slots[i].path, path, n + 1);
            atomic_store(&tmp_slots[i].state, 2);
            return i;
        }
    }
    return -1; /* more than TMP_SLOTS at once: that one is not cleaned up on a signal */
}

void brs__tmp_unregister(int slot)
{
    if (slot >= 0 && slot < TMP_SLOTS)
        atomic_store(&tmp_slots[slot].state, 0);
}

static void unlink_temporaries(void)
{
    for (int i = 0; i < TMP_SLOTS; i++)
        if (atomic_load(&tmp_slots[i].state) == 2)
            unlink(tmp_slots[i].path); /* async-signal-safe */
}

static void on_signal(int sig)
{
    if (cooperative && !interrupted) {
        interrupted = sig;
        return;
    }
    unlink_temporaries();
    signal(sig, SIG_DFL);
    raise(sig);
}

void brs__interrupt_install(int cooperate)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* a read in progress goes on; the loop sees the flag */
    sigemptyset(&sa.sa_mask);
    cooperative = cooperate;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int brs__interrupted(void) { return interrupted; }

int brs__interrupt_exit_code(void) { return interrupted ? 128 + interrupted : 0; }

const char *brs__interrupt_name(void)
{
    switch (atomic_load(&interrupted)) { /* clang wants an integer, not an _Atomic lvalue */
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
    }
}

/* The same stop request from an embedder (the Python binding turns Ctrl-C on
 * its own thread into this): loops see it through brs__interrupted() at their
 * next safe point and the run ends without writing anything half-made. */
void brs__interrupt_request(void)
{
    if (!interrupted)
        interrupted = SIGINT;
}

void brs__interrupt_clear(void) { interrupted = 0; }

int brs__interrupt_pending(void) { return interrupted != 0; }
