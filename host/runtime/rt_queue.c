/* rt_queue.c: the runtime's clock and its time-ordered queue: a preallocated
 * binary heap ordered by (time, sequence), so nothing is allocated per event
 * and equal times keep their causal order (runs stay deterministic). Delays get
 * a seeded jitter. Items are orders reaching a venue, venue answers reaching a
 * client, market data reaching the host. */
#include <stdint.h>

#include "core/core.h"
#include "rt_internal.h"

static inline int q_less(const q_item *a, const q_item *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

int brs__rtq_push(brs__rt *rt, const q_item *it)
{
    if (BRS__UNLIKELY(rt->heap_n == rt->heap_cap)) {
        if (!rt->failed)
            rt->failed = brs__err(&rt->err, BRS_E_LIMIT,
                                  "latency queue full (%u items in flight): raise %s%squeue_capacity",
                                  rt->heap_cap, rt->where, rt->where[0] ? "." : "");
        return BRS_E_LIMIT;
    }
    q_item x = *it;
    x.seq = rt->seq++; /* equal times leave in the order they were queued */
    uint32_t i = rt->heap_n++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!q_less(&x, &rt->heap[p]))
            break;
        rt->heap[i] = rt->heap[p];
        i = p;
    }
    rt->heap[i] = x;
    return BRS_OK;
}

static void q_pop(brs__rt *rt, q_item *out)
{
    *out = rt->heap[0];
    q_item last = rt->heap[--rt->heap_n];
    uint32_t i = 0, n = rt->heap_n;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && q_less(&rt->heap[c + 1], &rt->heap[c]))
            c++;
        if (!q_less(&rt->heap[c], &last))
            break;
        rt->heap[i] = rt->heap[c];
        i = c;
    }
    if (n)
        rt->heap[i] = last;
}

static int64_t jitter(brs__rt *rt)
{
    if (rt->jitter_ns <= 0)
        return 0;
    rt->rng ^= rt->rng << 13; /* xorshift64: seeded, so runs stay reproducible */
    rt->rng ^= rt->rng >> 7;
    rt->rng ^= rt->rng << 17;
    return (int64_t)(rt->rng % (uint64_t)(rt->jitter_ns + 1));
}

int brs__rtq_at(brs__rt *rt, int64_t delay, q_item *it)
{
    it->t = rt->now + delay + jitter(rt);
    if (rt->fifo && it->kind != Q_RESPONSE && it->kind != Q_MARKET && it->venue < rt->n_v) {
        rt_venue *v = &rt->v[it->venue]; /* actions reach a venue in the order sent */
        if (it->t < v->last_action)
            it->t = v->last_action;
        v->last_action = it->t;
    }
    return brs__rtq_push(rt, it);
}

int64_t brs__rt_now(const brs__rt *rt) { return rt->now; }

const int64_t *brs__rt_clock(const brs__rt *rt) { return &rt->now; }

void brs__rt_set_now(brs__rt *rt, int64_t t) { rt->now = t; }

int64_t brs__rt_next_time(const brs__rt *rt) { return rt->heap_n ? rt->heap[0].t : INT64_MAX; }

int brs__rt_queued(const brs__rt *rt) { return rt->heap_n != 0; }

int brs__rt_step(brs__rt *rt)
{
    if (!rt->heap_n)
        return 0;
    q_item it;
    q_pop(rt, &it);
    if (it.t > rt->now)
        rt->now = it.t;
    if (it.kind == Q_MARKET)
        brs__rt_market_arrive(rt, &it.u.me, it.venue);
    else
        brs__rt_dispatch_order(rt, &it);
    return 1;
}

void brs__rt_set_clock_hook(brs__rt *rt, void (*fn)(void *user, int64_t now), void *user)
{
    rt->clock_fn = fn;
    rt->clock_user = user;
}

uint32_t brs__rt_advance(brs__rt *rt, int64_t now)
{
    uint32_t n = 0;
    uint64_t seq0 = rt->seq;
    while (rt->heap_n && rt->heap[0].t <= now && !rt->failed) {
        brs__rt_step(rt);
        brs__rt_tick(rt);
        n++;
    }
    if (now > rt->now)
        rt->now = now;
    brs__rt_tick(rt);
    if (rt->clock_fn && (n || rt->seq != seq0))
        rt->clock_fn(rt->clock_user, now);
    return n;
}

void brs__rt_set_latency(brs__rt *rt, int64_t order_ns, int64_t cancel_ns, int64_t response_ns)
{
    rt->order_ns = order_ns;
    rt->cancel_ns = cancel_ns;
    rt->response_ns = response_ns;
    for (uint32_t i = 0; i < rt->n_v; i++) {
        rt->v[i].order_ns = order_ns;
        rt->v[i].cancel_ns = cancel_ns;
        rt->v[i].response_ns = response_ns;
    }
}

void brs__rt_set_fifo(brs__rt *rt, int on) { rt->fifo = on; }

void brs__rt_set_quiet(brs__rt *rt, int on) { rt->quiet = on; }

int brs__rt_failed(const brs__rt *rt, brs_error *err)
{
    if (rt->failed && err)
        brs__err(err, rt->failed, "%s", rt->err.msg);
    return rt->failed;
}
