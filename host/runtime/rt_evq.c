/* rt_evq.c: 2 MB record chunks and the order-event FIFO on them (rt_evq.h). */
#include "runtime/rt_evq.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int g_nomem = -1; /* BRS_FAULT_QUEUE_NOMEM, read once */

brs__qchunk *brs__qchunk_new(void)
{
    if (g_nomem < 0) {
        const char *v = getenv("BRS_FAULT_QUEUE_NOMEM");
        g_nomem = v && *v == '1';
    }
    if (g_nomem)
        return NULL; /* fault injection: memory has run out */
    /* twice the size, then the 2 MB-aligned middle kept: a huge page fits */
    char *p = mmap(NULL, 2 * (size_t)BRS__QCHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *a = (char *)(((uintptr_t)p + BRS__QCHUNK - 1) & ~(uintptr_t)(BRS__QCHUNK - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + BRS__QCHUNK < p + 2 * (size_t)BRS__QCHUNK)
        munmap(a + BRS__QCHUNK, (size_t)(p + 2 * (size_t)BRS__QCHUNK - (a + BRS__QCHUNK)));
    madvise(a, BRS__QCHUNK, MADV_HUGEPAGE);
    madvise(a, BRS__QCHUNK, MADV_POPULATE_WRITE); /* an old kernel: faulted as written */
    brs__qchunk *c = (brs__qchunk *)(void *)a;
    c->next = NULL;
    c->used = c->read = 0;
    return c;
}

void brs__qchunk_free(brs__qchunk *c) { munmap(c, BRS__QCHUNK); }

#define EV_SIZE sizeof(brs_order_event) /* 80 bytes, 8-aligned: records packed */

int brs__rt_evq_push(brs__rt_evq *q, const brs_order_event *ev)
{
    if (!q->tail || q->tail->used + EV_SIZE > BRS__QCHUNK_DATA) {
        brs__qchunk *c = brs__qchunk_new();
        if (!c)
            return BRS_E_NOMEM;
        if (q->tail)
            q->tail->next = c;
        else
            q->head = c;
        q->tail = c;
    }
    memcpy(q->tail->data + q->tail->used, ev, EV_SIZE);
    q->tail->used += (uint32_t)EV_SIZE;
    q->n++;
    return BRS_OK;
}

int brs__rt_evq_pop(brs__rt_evq *q, brs_order_event *ev)
{
    if (!q->n)
        return 0;
    brs__qchunk *c = q->head;
    if (c->read == c->used) { /* this chunk is done: the next */
        q->head = c->next;
        brs__qchunk_free(c);
        c = q->head;
    }
    memcpy(ev, c->data + c->read, EV_SIZE);
    c->read += (uint32_t)EV_SIZE;
    if (!--q->n) { /* empty: its memory goes back */
        brs__qchunk_free(c);
        q->head = q->tail = NULL;
    }
    return 1;
}

void brs__rt_evq_clear(brs__rt_evq *q)
{
    while (q->head) {
        brs__qchunk *c = q->head;
        q->head = c->next;
        brs__qchunk_free(c);
    }
    q->tail = NULL;
    q->n = 0;
}
