/* rt_evq.h: the queues a runtime client keeps behind a deep sweep: 2 MB
 * chunks of packed records (brs__qchunk), and on them a FIFO of order events
 * (brs__rt_evq) as the runtime handed them over. The FIX gateway takes a
 * session's waiting events from a brs__rt_evq (host/fix/app_events.c) and
 * packs its waiting ExecutionReports into chunks (app_reports.c); the
 * WebSocket gateway takes an account's waiting events from one
 * (host/wsgate/wsgate_orders.c). Both: max_events_per_turn,
 * docs/fix-gateway.md "Flow control", docs/ws-order-entry.md "A deep sweep
 * streams". Chunks are allocated as a queue grows and freed as it drains: no
 * allocation per record. BRS_FAULT_QUEUE_NOMEM=1 makes every chunk
 * allocation fail, as if memory had run out (test_fix_abuse_sweepoom). Not
 * thread-safe. */
#ifndef BRS_RT_EVQ_H
#define BRS_RT_EVQ_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/bourse.h>

/* A queue's 2 MB chunk of packed records: a transparent huge page where the
 * system allows, its memory faulted in at once (a sweep queues tens of
 * megabytes in a few loop turns, and a page fault apiece was most of that). */
#define BRS__QCHUNK (2u << 20)
typedef struct brs__qchunk {
    struct brs__qchunk *next;
    uint32_t used, read; /* bytes of data written, read */
    uint32_t pad[4];
    _Alignas(16) char data[];
} brs__qchunk;
#define BRS__QCHUNK_DATA (BRS__QCHUNK - offsetof(brs__qchunk, data))
/* A new empty chunk; NULL when out of memory (or BRS_FAULT_QUEUE_NOMEM=1). */
brs__qchunk *brs__qchunk_new(void);
void brs__qchunk_free(brs__qchunk *c);

typedef struct brs__rt_evq {
    brs__qchunk *head, *tail;
    uint64_t n; /* events waiting */
} brs__rt_evq;

/* Append a copy of ev. BRS_E_NOMEM (nothing appended) when a chunk cannot be
 * allocated. */
int brs__rt_evq_push(brs__rt_evq *q, const brs_order_event *ev);
/* The oldest event into *ev and removed: 1; 0 when empty. A chunk read to
 * its end is freed. */
int brs__rt_evq_pop(brs__rt_evq *q, brs_order_event *ev);
/* Drop every waiting event and free the memory. */
void brs__rt_evq_clear(brs__rt_evq *q);

#endif
