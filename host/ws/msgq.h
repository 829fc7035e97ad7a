/* msgq.h: WebSocket messages waiting in order, each a 4-byte length and its
 * bytes in one buffer that grows by doubling and is compacted before it
 * grows (what was taken leaves first). The server's backlog behind
 * max_queued bytes (ws_server.c) and the order-entry gateway's messages kept
 * behind an account's waiting order events (host/wsgate/wsgate.c). Part of
 * bourse_feeds: no host symbols. */
#ifndef BRS_WS_MSGQ_H
#define BRS_WS_MSGQ_H

#include <stddef.h>

typedef struct brs__ws_msgq {
    char *buf;
    size_t off, len, cap; /* [off, len) waits */
} brs__ws_msgq;

/* Bytes waiting (4 per message besides the messages'). */
static inline size_t brs__ws_msgq_bytes(const brs__ws_msgq *q) { return q->len - q->off; }
/* Append a copy (at most 4 GiB - 1). BRS_E_NOMEM (nothing appended) when the
 * buffer cannot grow, BRS_E_RANGE past 4 GiB. */
int brs__ws_msgq_push(brs__ws_msgq *q, const char *data, size_t len);
/* The oldest message (it stays until brs__ws_msgq_pop); NULL when none. */
const char *brs__ws_msgq_front(const brs__ws_msgq *q, size_t *len);
/* Drop the oldest message. */
void brs__ws_msgq_pop(brs__ws_msgq *q);
/* Drop every message (the memory stays for the next). */
void brs__ws_msgq_clear(brs__ws_msgq *q);
void brs__ws_msgq_free(brs__ws_msgq *q);

#endif
