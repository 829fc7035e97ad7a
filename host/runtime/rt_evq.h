/* rt_evq.h: a FIFO of a runtime client's order events (brs_order_event as
 * the runtime handed them over), for an order-entry gateway that takes a deep
 * sweep's events over loop turns instead of all in the turn that made them
 * (host/wsgate: max_events_per_turn, docs/ws-order-entry.md "Streaming").
 * Events are copied into 1 MB chunks, allocated as the queue grows and freed
 * as it drains: no allocation per event. Not thread-safe. */
#ifndef BRS_RT_EVQ_H
#define BRS_RT_EVQ_H

#include <stdint.h>

#include <bourse/bourse.h>

typedef struct brs__rt_evq_chunk brs__rt_evq_chunk;

typedef struct brs__rt_evq {
    brs__rt_evq_chunk *head, *tail;
    uint64_t n; /* events waiting */
} brs__rt_evq;

/* Append a copy of ev. BRS_E_NOMEM (nothing appended) when a chunk cannot be
 * allocated. */
int brs__rt_evq_push(brs__rt_evq *q, const brs_order_event *ev);
/* The oldest event into *ev and removed: 1; 0 when empty. */
int brs__rt_evq_pop(brs__rt_evq *q, brs_order_event *ev);
/* Drop every waiting event and free the memory. */
void brs__rt_evq_clear(brs__rt_evq *q);

#endif
