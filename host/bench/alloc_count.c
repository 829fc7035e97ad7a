/* alloc_count.c: counts heap allocations by wrapping glibc's malloc family, so
 * benchmarks can prove a timed region allocates nothing. Linked into the bourse
 * binary only (not under the sanitizers, which replace malloc themselves). */
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

int64_t brs__alloc_counter_read(void);

static int64_t allocs;

int64_t brs__alloc_counter_read(void)
{
    return __atomic_load_n(&allocs, __ATOMIC_RELAXED);
}

#define COUNT() __atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED)

__attribute__((visibility("default"))) void *malloc(size_t n)
{
    COUNT();
    return __libc_malloc(n);
}

__attribute__((visibility("default"))) void *calloc(size_t a, size_t b)
{
    COUNT();
    return __libc_calloc(a, b);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t n)
{
    COUNT();
    return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void free(void *p)
{
    __libc_free(p);
}

__attribute__((visibility("default"))) int posix_memalign(void **out, size_t align, size_t n)
{
    COUNT();
    void *p = __libc_memalign(align, n);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t align, size_t n)
{
    COUNT();
    return __libc_memalign(align, n);
}

__attribute__((visibility("default"))) void *memalign(size_t align, size_t n)
{
    COUNT();
    return __libc_memalign(align, n);
}
