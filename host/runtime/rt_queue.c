/* rt_queue.c: the runtime's clock and its time-ordered queue: a binary heap
 * ordered by (time, sequence), grown by doubling (never per event) so equal
 * times keep their causal order (runs stay deterministic). Delays get a seeded
 * jitter. Items are orders reaching a venue, venue answers reaching a client,
 * market data reaching the host. An item queued not before the last one in
 * the ring (market data at a constant latency; what is due the instant it is
 * queued, such as a 40,000-order sweep's 80,000 fills, which paid a 17-level
 * sift of a 150-byte item each, a third of its loop turn) goes to a FIFO ring
 * instead of the heap: the same order, (time, sequence), without the heap's
 * moves; the next item is the earlier of the ring's head and the heap's top.
 * queue_capacity bounds what clients may have
 * in flight: a client action over it is refused (BRS_E_AGAIN, logged) and the
 * next one is taken once the queue drains; what already-admitted actions cause
 * (venue answers, fills, market data) always finds room. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core/core.h"
#include "core/log.h"
#include "rt_internal.h"

static inline int q_less(const q_item *a, const q_item *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* Room for one more item: the heap doubles. Only out of memory fails (the run
 * stops: an answer would be lost otherwise). */
static int q_grow(brs__rt *rt)
{
    uint32_t n = rt->heap_alloc ? rt->heap_alloc * 2 : 1024;
    q_item *h = n > rt->heap_alloc ? realloc(rt->heap, (size_t)n * sizeof *h) : NULL;
    if (!h) {
        if (!rt->failed)
            rt->failed = brs__err(&rt->err, BRS_E_NOMEM,
                                  "latency queue: out of memory at %u items in flight", rt->n_queued);
        return BRS_E_NOMEM;
    }
    rt->heap = h;
    rt->heap_alloc = n;
    return BRS_OK;
}

/* Room for one more item in the ring: it doubles, in order. */
static int ring_grow(brs__rt *rt)
{
    uint32_t n = rt->ring_cap ? rt->ring_cap * 2 : 1024;
    q_item *r = n > rt->ring_cap ? malloc((size_t)n * sizeof *r) : NULL;
    if (!r) {
        if (!rt->failed)
            rt->failed = brs__err(&rt->err, BRS_E_NOMEM,
                                  "latency queue: out of memory at %u items in flight", rt->n_queued);
        return BRS_E_NOMEM;
    }
    size_t bytes = (size_t)n * sizeof *r;
    if (bytes >= ((size_t)4 << 20)) { /* huge pages where allowed: a fault per 2 MB, not per 4 KB */
        uintptr_t a = ((uintptr_t)r + 4095) & ~(uintptr_t)4095, z = ((uintptr_t)r + bytes) & ~(uintptr_t)4095;
        madvise((void *)a, z - a, MADV_HUGEPAGE);
    }
    for (uint32_t k = 0; k < rt->ring_n; k++)
        r[k] = rt->ring[(rt->ring_head + k) & (rt->ring_cap - 1)];
    free(rt->ring);
    rt->ring = r;
    rt->ring_cap = n;
    rt->ring_head = 0;
    return BRS_OK;
}

/* Does an item at time t keep the ring in (time, sequence) order? (Its
 * sequence is the newest.) */
static inline int ring_takes(const brs__rt *rt, int64_t t) { return !rt->ring_n || t >= rt->ring_last; }

int brs__rtq_admit(brs__rt *rt)
{
    if (BRS__LIKELY(rt->n_queued < rt->heap_cap || rt->admit_all))
        return BRS_OK;
    rt->refused++;
    int64_t t = brs__monotime_ns();
    if (rt->refused_logged && t - rt->refused_logged < 1000000000LL) {
        rt->refused_quiet++;
    } else {
        char key[64];
        snprintf(key, sizeof key, "%s%squeue_capacity", rt->where, rt->where[0] ? "." : "");
        BRS_LOG(BRS_LOG_WARN, "runtime", "limit reached: queue full, client action refused (try again)",
                BRS_KV_S("key", key), BRS_KV_U("in_flight", rt->n_queued),
                BRS_KV_U("refused_total", rt->refused), BRS_KV_U("not_logged_since", rt->refused_quiet));
        rt->refused_logged = t;
        rt->refused_quiet = 0;
    }
    return BRS_E_AGAIN;
}

int brs__rt_busy(const brs__rt *rt) { return rt->n_queued >= rt->heap_cap && !rt->admit_all; }

int brs__rt_admit(brs__rt *rt) { return brs__rtq_admit(rt); }

void brs__rt_admit_all(brs__rt *rt, int on) { rt->admit_all = on; }

uint64_t brs__rt_refused(const brs__rt *rt) { return rt->refused; }

int brs__rtq_push(brs__rt *rt, const q_item *it)
{
    if (BRS__LIKELY(ring_takes(rt, it->t))) {
        if (BRS__UNLIKELY(rt->ring_n == rt->ring_cap) && ring_grow(rt) != BRS_OK)
            return BRS_E_NOMEM;
        q_item *x = &rt->ring[(rt->ring_head + rt->ring_n) & (rt->ring_cap - 1)];
        *x = *it;
        x->seq = rt->seq++; /* equal times leave in the order they were queued */
        rt->ring_n++;
        rt->ring_last = it->t;
        rt->n_queued++;
        return BRS_OK;
    }
    if (BRS__UNLIKELY(rt->heap_n == rt->heap_alloc) && q_grow(rt) != BRS_OK)
        return BRS_E_NOMEM;
    q_item x = *it;
    x.seq = rt->seq++; /* equal times leave in the order they were queued */
    rt->n_queued++;
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

int brs__rtq_push_market(brs__rt *rt, int64_t t, uint32_t venue, const brs_market_event *ev)
{
    if (BRS__LIKELY(ring_takes(rt, t))) { /* in time order: the ring */
        if (BRS__UNLIKELY(rt->ring_n == rt->ring_cap) && ring_grow(rt) != BRS_OK)
            return BRS_E_NOMEM;
        q_item *x = &rt->ring[(rt->ring_head + rt->ring_n) & (rt->ring_cap - 1)];
        x->t = t;
        x->seq = rt->seq++;
        x->kind = Q_MARKET;
        x->venue = venue;
        x->u.me = *ev;
        rt->ring_n++;
        rt->ring_last = t;
        rt->n_queued++;
        return BRS_OK;
    }
    if (BRS__UNLIKELY(rt->heap_n == rt->heap_alloc) && q_grow(rt) != BRS_OK)
        return BRS_E_NOMEM;
    rt->n_queued++;
    /* brs__rtq_push's sift with the item's (t, seq) alone, then the item
     * written once in its place: its seq is the newest, so it moves up past
     * later times only */
    uint64_t seq = rt->seq++;
    uint32_t i = rt->heap_n++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (t >= rt->heap[p].t)
            break;
        rt->heap[i] = rt->heap[p];
        i = p;
    }
    q_item *x = &rt->heap[i];
    x->t = t;
    x->seq = seq;
    x->kind = Q_MARKET;
    x->venue = venue;
    x->u.me = *ev;
    return BRS_OK;
}

static void q_pop(brs__rt *rt, q_item *out)
{
    rt->n_queued--;
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
    if (BRS__UNLIKELY(rt->fifo | rt->after_sent) && it->kind != Q_RESPONSE && it->kind != Q_MARKET &&
        it->venue < rt->n_v) {
        rt_venue *v = &rt->v[it->venue];
        if (rt->after_sent) { /* brs__rt_after_sent: nothing sent before reaches the venue later */
            int64_t t = rt->now + (v->order_ns > v->cancel_ns ? v->order_ns : v->cancel_ns) +
                        (rt->jitter_ns > 0 ? rt->jitter_ns : 0);
            if (it->t < t)
                it->t = t;
            if (it->kind == Q_CANCEL && it->t > rt->after_sent_last)
                rt->after_sent_last = it->t; /* (an expiry: brs__rt_after_sent_last) */
        }
        if (rt->fifo) { /* actions reach a venue in the order sent */
            if (it->t < v->last_action)
                it->t = v->last_action;
            v->last_action = it->t;
        }
    }
    return brs__rtq_push(rt, it);
}

int64_t brs__rt_now(const brs__rt *rt) { return rt->now; }

const int64_t *brs__rt_clock(const brs__rt *rt) { return &rt->now; }

void brs__rt_set_now(brs__rt *rt, int64_t t) { rt->now = t; }

/* The ring's head leaves before the heap's top (by time, then sequence). */
static inline int ring_first(const brs__rt *rt)
{
    if (!rt->ring_n)
        return 0;
    if (!rt->heap_n)
        return 1;
    return q_less(&rt->ring[rt->ring_head], &rt->heap[0]);
}

int64_t brs__rt_next_time(const brs__rt *rt)
{
    int64_t t = rt->heap_n ? rt->heap[0].t : INT64_MAX;
    if (rt->ring_n && rt->ring[rt->ring_head].t < t)
        t = rt->ring[rt->ring_head].t;
    return t;
}

int brs__rt_queued(const brs__rt *rt) { return rt->n_queued != 0; }

int brs__rt_step(brs__rt *rt)
{
    if (!rt->n_queued)
        return 0;
    q_item it;
    if (ring_first(rt)) { /* from the ring: taken out before it is handled */
        const q_item *m = &rt->ring[rt->ring_head];
        if (m->t > rt->now)
            rt->now = m->t;
        if (m->kind == Q_MARKET) { /* the event alone, not the whole item */
            brs_market_event me = m->u.me;
            uint32_t venue = m->venue;
            rt->ring_head = (rt->ring_head + 1) & (rt->ring_cap - 1);
            rt->ring_n--;
            rt->n_queued--;
            brs__rt_market_arrive(rt, &me, venue);
            return 1;
        }
        it = *m;
        rt->ring_head = (rt->ring_head + 1) & (rt->ring_cap - 1);
        rt->ring_n--;
        rt->n_queued--;
        brs__rt_dispatch_order(rt, &it);
        return 1;
    }
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
    while (rt->n_queued && brs__rt_next_time(rt) <= now) {
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

int brs__rt_after_sent(brs__rt *rt, int on)
{
    int was = rt->after_sent;
    rt->after_sent = on;
    return was;
}

int64_t brs__rt_after_sent_last(const brs__rt *rt) { return rt->after_sent_last; }

/* A queued order entry or replace of a client routed straight to its venue:
 * marked when fn says its day is over (brs__rt_day_over). */
static int mark_over(brs__rt *rt, q_item *it, int (*fn)(void *, uint32_t, uint64_t, int), void *user)
{
    if (it->kind != Q_SUBMIT && it->kind != Q_REPLACE)
        return 0;
    uint64_t vid = it->kind == Q_SUBMIT ? it->u.o.id : it->u.r.id;
    if (rt->sor && !(vid & RT_DIRECT_TAG))
        return 0; /* a router's child: the router's parent is not the client's order */
    vid &= ~RT_DIRECT_TAG;
    int replace = it->kind == Q_REPLACE;
    if (!fn(user, (uint32_t)(vid >> RT_ID_BITS), vid & RT_ID_MASK, replace))
        return 0;
    it->kind = replace ? Q_REPLACE_OVER : Q_SUBMIT_OVER;
    return 1;
}

uint32_t brs__rt_day_over(brs__rt *rt, int (*fn)(void *user, uint32_t client, uint64_t id, int replace),
                          void *user, int64_t *last)
{
    uint32_t n = 0;
    *last = INT64_MIN;
    /* the kind alone changes: every item keeps its place (time, sequence) */
    for (uint32_t i = 0; i < rt->heap_n; i++)
        if (mark_over(rt, &rt->heap[i], fn, user)) {
            n++;
            if (rt->heap[i].t > *last)
                *last = rt->heap[i].t;
        }
    for (uint32_t k = 0; k < rt->ring_n; k++) {
        q_item *it = &rt->ring[(rt->ring_head + k) & (rt->ring_cap - 1)];
        if (mark_over(rt, it, fn, user)) {
            n++;
            if (it->t > *last)
                *last = it->t;
        }
    }
    if (*last > rt->after_sent_last) /* an expiry on the wire too */
        rt->after_sent_last = *last;
    return n;
}

void brs__rt_set_replace_hook(brs__rt *rt, int (*fn)(void *user, uint32_t client, const brs_order *o),
                              void *user)
{
    rt->replace_fn = fn;
    rt->replace_user = user;
}

void brs__rt_set_submit_hook(brs__rt *rt, int (*fn)(void *user, uint32_t client, const brs_order *o),
                             void *user)
{
    rt->submit_fn = fn;
    rt->submit_user = user;
}

void brs__rt_set_quiet(brs__rt *rt, int on) { rt->quiet = on; }

int brs__rt_failed(const brs__rt *rt, brs_error *err)
{
    if (rt->failed && err)
        brs__err(err, rt->failed, "%s", rt->err.msg);
    return rt->failed;
}
