/* merge.c: k-way merge of tick files by exchange time for multi-instrument
 * replay. A binary min-heap of sources keyed on (ts_exchange, source index);
 * each source is read in file order, so ties resolve deterministically. */
#include "tickfile.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static int less(const brs_tick_merge *m, uint32_t a, uint32_t b)
{
    int64_t ta = m->head[a]->ts_exchange, tb = m->head[b]->ts_exchange;
    return ta < tb || (ta == tb && a < b);
}

static void sift_down(brs_tick_merge *m, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, s = i;
        if (l < m->heap_n && less(m, m->heap[l], m->heap[s]))
            s = l;
        if (l + 1 < m->heap_n && less(m, m->heap[l + 1], m->heap[s]))
            s = l + 1;
        if (s == i)
            return;
        uint32_t t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

int brs__tick_merge_init(brs_tick_merge *m, brs_tick_reader **src, uint32_t n, brs_error *err)
{
    memset(m, 0, sizeof *m);
    m->src = src;
    m->n = n;
    m->heap = malloc((n ? n : 1) * sizeof *m->heap);
    m->head = calloc(n ? n : 1, sizeof *m->head);
    if (!m->heap || !m->head) {
        brs__tick_merge_free(m);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        m->head[i] = brs__tick_next(src[i]);
        if (m->head[i])
            m->heap[m->heap_n++] = i;
        else if (src[i]->iter_err.code) {
            *err = src[i]->iter_err;
            brs__tick_merge_free(m);
            return err->code;
        }
    }
    for (uint32_t i = m->heap_n / 2; i-- > 0;)
        sift_down(m, i);
    return BRS_OK;
}

const brs_market_event *brs__tick_merge_next(brs_tick_merge *m, uint32_t *source)
{
    /* The event handed out last time points into its source's block buffer, so
     * that source advances only now, when the caller is done with it. */
    if (m->pending) {
        uint32_t s = m->heap[0];
        m->pending = 0;
        const brs_market_event *nx = brs__tick_next(m->src[s]);
        if (nx) {
            m->head[s] = nx;
        } else {
            if (m->src[s]->iter_err.code) {
                m->err = m->src[s]->iter_err;
                m->heap_n = 0; /* stop: never skip silently past damage */
                return NULL;
            }
            m->heap[0] = m->heap[--m->heap_n];
        }
        if (m->heap_n)
            sift_down(m, 0);
    }
    if (m->heap_n == 0)
        return NULL;
    *source = m->heap[0];
    m->pending = 1;
    return m->head[m->heap[0]];
}

void brs__tick_merge_free(brs_tick_merge *m)
{
    free(m->heap);
    free(m->head);
    m->heap = NULL;
    m->head = NULL;
}
