/* msgq.c: messages waiting in order in one buffer (msgq.h). */
#include "ws/msgq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bourse/bourse.h>

int brs__ws_msgq_push(brs__ws_msgq *q, const char *data, size_t len)
{
    if (len > UINT32_MAX - 1)
        return BRS_E_RANGE;
    if (q->len + 4 + len > q->cap) {
        if (q->off) { /* what was taken leaves first */
            memmove(q->buf, q->buf + q->off, q->len - q->off);
            q->len -= q->off;
            q->off = 0;
        }
        size_t cap = q->cap ? q->cap : 4096;
        while (cap < q->len + 4 + len)
            cap *= 2;
        if (cap != q->cap) {
            char *nb = realloc(q->buf, cap);
            if (!nb)
                return BRS_E_NOMEM;
            q->buf = nb;
            q->cap = cap;
        }
    }
    uint32_t n = (uint32_t)len;
    memcpy(q->buf + q->len, &n, 4);
    memcpy(q->buf + q->len + 4, data, len);
    q->len += 4 + len;
    return BRS_OK;
}

const char *brs__ws_msgq_front(const brs__ws_msgq *q, size_t *len)
{
    if (q->off == q->len)
        return NULL;
    uint32_t n;
    memcpy(&n, q->buf + q->off, 4);
    *len = n;
    return q->buf + q->off + 4;
}

void brs__ws_msgq_pop(brs__ws_msgq *q)
{
    if (q->off == q->len)
        return;
    uint32_t n;
    memcpy(&n, q->buf + q->off, 4);
    q->off += 4 + (size_t)n;
    if (q->off == q->len)
        q->off = q->len = 0;
}

void brs__ws_msgq_clear(brs__ws_msgq *q) { q->off = q->len = 0; }

void brs__ws_msgq_free(brs__ws_msgq *q)
{
    free(q->buf);
    q->buf = NULL;
    q->off = q->len = q->cap = 0;
}
