/* rt_evq.c: a FIFO of order events in 1 MB chunks (rt_evq.h). */
#include "runtime/rt_evq.h"

#include <stdlib.h>

#define EVQ_PER_CHUNK ((1u << 20) / sizeof(brs_order_event))

struct brs__rt_evq_chunk {
    brs__rt_evq_chunk *next;
    uint32_t used, read;
    brs_order_event ev[EVQ_PER_CHUNK];
};

int brs__rt_evq_push(brs__rt_evq *q, const brs_order_event *ev)
{
    brs__rt_evq_chunk *c = q->tail;
    if (!c || c->used == EVQ_PER_CHUNK) {
        brs__rt_evq_chunk *nc = malloc(sizeof *nc);
        if (!nc)
            return BRS_E_NOMEM;
        nc->next = NULL;
        nc->used = nc->read = 0;
        if (c)
            c->next = nc;
        else
            q->head = nc;
        q->tail = c = nc;
    }
    c->ev[c->used++] = *ev;
    q->n++;
    return BRS_OK;
}

int brs__rt_evq_pop(brs__rt_evq *q, brs_order_event *ev)
{
    brs__rt_evq_chunk *c = q->head;
    if (!q->n || !c)
        return 0;
    *ev = c->ev[c->read++];
    q->n--;
    if (c->read == c->used && (c->used == EVQ_PER_CHUNK || !q->n)) { /* this chunk is done */
        q->head = c->next;
        if (!q->head)
            q->tail = NULL;
        free(c);
    }
    return 1;
}

void brs__rt_evq_clear(brs__rt_evq *q)
{
    while (q->head) {
        brs__rt_evq_chunk *c = q->head;
        q->head = c->next;
        free(c);
    }
    q->tail = NULL;
    q->n = 0;
}
