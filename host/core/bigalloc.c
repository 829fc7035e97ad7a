/* bigalloc.c: memory for large arrays written once and read many times (every
 * bar of a signal backtest, its targets). Aligned to 2 MiB and marked for
 * transparent huge pages, so filling 320 MB costs 160 page faults instead of
 * 80000 (the kernel's THP mode is usually "madvise"). Released with free(). */
#include <stdlib.h>
#include <sys/mman.h>

#include "core.h"

void *brs__alloc_big(size_t size)
{
    const size_t huge = (size_t)2 << 20;
    if (size < huge)
        return malloc(size ? size : 1);
    size_t n = (size + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, n);
#ifdef MADV_HUGEPAGE
    if (p && !getenv("BRS_NOTHP"))
        (void)madvise(p, n, MADV_HUGEPAGE); /* advice only: plain pages when refused */
#endif
    return p;
}
