/* readahead.c: the tick reader's read-ahead (brs__tick_readahead): a second
 * thread decodes the next blocks into a few slots while the caller iterates
 * the current one, and hands them over in order (a wait stays awake briefly
 * before it sleeps); its clocks and waits are brs__tick_ahead_stats. The
 * reader itself (open, index, decode, seek, verify) is reader.c. */
#include "tickfile.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zstd.h>

#include "core/core.h"

/* ---- read-ahead: a second thread decodes the next blocks ------------- */

#define AHEAD_SLOTS 3

typedef struct ahead_slot {
    brs_market_event *buf;
    size_t cap;
    int state; /* 0 free, 1 ready, 2 failed */
    brs_error err;
} ahead_slot;

struct brs_tick_ahead {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ahead_slot slot[AHEAD_SLOTS];
    uint32_t fill, take; /* next block to decode / to hand out */
    int held;            /* slot the consumer is reading, -1 none */
    int stop;
    int stop_seen;       /* stop, for a wait outside mu (spin_until) */
    int64_t spin_ns;     /* how long a wait stays awake (AHEAD_SPIN_NS, or 0) */
    brs_tick_decoder dec;
    const brs_tick_reader *r;
    brs_tick_ahead_stats st; /* under mu; the clocks are read only around a wait */
};

static int64_t thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A hand-over between the two threads waits this long awake before it
 * sleeps on the condition variable (when the process may run on more than
 * one CPU). A book-mode backtest's loop runs at
 * about the decoder's speed, so the block it waits for is usually a few
 * tens of microseconds away; asleep, it must be woken, and the wake is paid
 * on the other thread's path: on this project's VM the decoder's CPU per
 * event rose ~1 ns (3%) with ~250 such wakes in a 5M-event run, enough to
 * move `c_vs_decode` (docs/performance.md, "Issue 23 (loop24)"). Bounded,
 * so a side that really waits (the consumer busy elsewhere, a slow disk)
 * sleeps as before. */
#define AHEAD_SPIN_NS 50000

static inline void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Called with mu held, state (read under mu) not what is wanted: waits
 * awake, mu released, up to a->spin_ns for *state to become (want ==
 * 1: nonzero, want == 0: zero). Returns with mu held; the caller checks
 * *state again under mu and sleeps if it must. The state is written only
 * under mu, with atomic stores, so this read outside it is one too. */
static void spin_until(struct brs_tick_ahead *a, const int *state, int want)
{
    if (!a->spin_ns)
        return;
    pthread_mutex_unlock(&a->mu);
    int64_t t0 = brs__monotime_ns();
    for (unsigned k = 1;; k++) {
        int v = __atomic_load_n(state, __ATOMIC_ACQUIRE);
        if ((v != 0) == want || __atomic_load_n(&a->stop_seen, __ATOMIC_RELAXED))
            break;
        spin_pause();
        if ((k & 63) == 0 && brs__monotime_ns() - t0 > a->spin_ns)
            break;
    }
    pthread_mutex_lock(&a->mu);
}

static void *ahead_main(void *arg)
{
    struct brs_tick_ahead *a = arg;
    const brs_tick_reader *r = a->r;
    pthread_mutex_lock(&a->mu);
    while (!a->stop && a->fill < r->n_blocks) {
        ahead_slot *s = &a->slot[a->fill % AHEAD_SLOTS];
        if (s->state != 0) {
            int64_t w0 = brs__monotime_ns();
            spin_until(a, &s->state, 0);
            while (s->state != 0 && !a->stop)
                pthread_cond_wait(&a->cv, &a->mu);
            a->st.decoder_waits++;
            a->st.decoder_wait_ns += brs__monotime_ns() - w0;
            continue;
        }
        uint32_t i = a->fill;
        pthread_mutex_unlock(&a->mu);
        int rc = brs__tick_reader_dbuf(&s->buf, &s->cap, r->blocks[i].count, &s->err);
        if (!rc)
            rc = brs__tick_decode_block(r, &a->dec, i, s->buf, &s->err);
        /* the thread's CPU time once, when its work is done (no system call per block) */
        int64_t cpu = rc || i + 1 == r->n_blocks ? thread_cpu_ns() : -1;
        pthread_mutex_lock(&a->mu);
        if (cpu >= 0)
            a->st.decoder_cpu_ns = cpu;
        __atomic_store_n(&s->state, rc ? 2 : 1, __ATOMIC_RELEASE);
        a->fill++;
        pthread_cond_broadcast(&a->cv);
        if (rc)
            break; /* nothing after damage is decoded */
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

void brs__tick_stop_ahead(brs_tick_reader *r)
{
    struct brs_tick_ahead *a = r->ahead;
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    __atomic_store_n(&a->stop_seen, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    for (int i = 0; i < AHEAD_SLOTS; i++)
        free(a->slot[i].buf);
    brs__tick_decoder_free(&a->dec);
    free(a);
    r->ahead = NULL;
    r->cur = r->end = NULL; /* the records were in the slots */
}

int brs__tick_readahead(brs_tick_reader *r, brs_error *err)
{
    brs__tick_stop_ahead(r);
    struct brs_tick_ahead *a = calloc(1, sizeof *a);
    if (!a || !(a->dec.dctx = ZSTD_createDCtx())) {
        free(a);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    a->r = r;
    a->held = -1;
    /* awake only with a core for each side: pinned to one (taskset -c 1)
     * the waiting side would hold the core the other needs */
#ifdef __linux__
    cpu_set_t cs;
    a->spin_ns = sched_getaffinity(0, sizeof cs, &cs) == 0 && CPU_COUNT(&cs) > 1 ? AHEAD_SPIN_NS : 0;
#else
    a->spin_ns = AHEAD_SPIN_NS;
#endif
    /* the block being read now (if any) stays in r->dbuf; start after it */
    a->fill = a->take = r->next_block;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(&a->th, NULL, ahead_main, a) != 0) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
        brs__tick_decoder_free(&a->dec);
        free(a);
        return brs__err(err, BRS_E_IO, "cannot start the read-ahead thread");
    }
    r->ahead = a;
    return BRS_OK;
}

int brs__tick_ahead_stats(brs_tick_reader *r, brs_tick_ahead_stats *out)
{
    struct brs_tick_ahead *a = r->ahead;
    memset(out, 0, sizeof *out);
    if (!a)
        return 0;
    pthread_mutex_lock(&a->mu);
    *out = a->st;
    pthread_mutex_unlock(&a->mu);
    return 1;
}

/* Hand out the next decoded block; the one the caller had goes back. */
static int ahead_next(brs_tick_reader *r)
{
    struct brs_tick_ahead *a = r->ahead;
    pthread_mutex_lock(&a->mu);
    if (a->held >= 0) {
        __atomic_store_n(&a->slot[a->held].state, 0, __ATOMIC_RELEASE);
        a->held = -1;
        pthread_cond_broadcast(&a->cv);
    }
    if (a->take >= r->n_blocks) {
        pthread_mutex_unlock(&a->mu);
        r->cur = r->end = NULL;
        r->next_block = r->n_blocks;
        return 0;
    }
    int k = (int)(a->take % AHEAD_SLOTS);
    if (a->slot[k].state == 0) {
        int64_t w0 = brs__monotime_ns();
        spin_until(a, &a->slot[k].state, 1);
        while (a->slot[k].state == 0)
            pthread_cond_wait(&a->cv, &a->mu);
        a->st.loop_waits++;
        a->st.loop_wait_ns += brs__monotime_ns() - w0;
    }
    a->st.blocks++;
    int rc = 1;
    if (a->slot[k].state == 2) {
        r->iter_err = a->slot[k].err;
        rc = r->iter_err.code ? r->iter_err.code : BRS_E_CORRUPT;
        r->iter_err.code = rc;
        r->cur = r->end = NULL;
        r->next_block = r->n_blocks;
    } else {
        a->held = k;
        r->cur = a->slot[k].buf;
        r->end = a->slot[k].buf + r->blocks[a->take].count;
        r->next_block = ++a->take;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int brs__tick_next_block_(brs_tick_reader *r)
{
    if (r->iter_err.code)
        return r->iter_err.code;
    if (r->ahead)
        return ahead_next(r);
    if (r->next_block >= r->n_blocks)
        return 0;
    int rc = brs__tick_load_block(r, r->next_block, &r->iter_err);
    if (rc) {
        r->iter_err.code = rc;
        r->cur = r->end = NULL;
        r->next_block = r->n_blocks;
        return rc;
    }
    return 1;
}
