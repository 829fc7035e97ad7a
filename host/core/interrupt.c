/* interrupt.c: the process-wide stop request behind interrupt.h: one atomic
 * flag, lock-free, so a signal handler or another thread may set it. */
#include "interrupt.h"

#include <stdatomic.h>

static atomic_int brs__interrupt_flag;

void brs__interrupt_request(void) { atomic_store_explicit(&brs__interrupt_flag, 1, memory_order_relaxed); }

void brs__interrupt_clear(void) { atomic_store_explicit(&brs__interrupt_flag, 0, memory_order_relaxed); }

int brs__interrupt_pending(void)
{
    return atomic_load_explicit(&brs__interrupt_flag, memory_order_relaxed);
}
