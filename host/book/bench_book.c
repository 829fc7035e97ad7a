/* bench_book.c: `bourse bench book`: the matching engine on four workloads
 * (the QuantCup contest feed, an add-heavy deep book, an exchange-like mix, and
 * far: a million distinct levels outside the direct-indexed window).
 * The listener lives here, in another translation unit from the engine, so
 * every execution report pays for a real indirect call, as it would in a venue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "bench/ticks.h"
#include "book/book.h"
#include "cli/cli.h"

#define QC_ROWS 35750
#define QC_REPLAYS 200

/* ---- the benchmark's listener: counts what it is told ------------------- */

typedef struct sink {
    uint64_t accepted, rejected, fills, cancelled, replaced, levels, tops;
    int64_t filled_qty, level_qty;
} sink;

static void s_accepted(void *u, const brs_order *o, int64_t price)
{
    (void)o, (void)price;
    ((sink *)u)->accepted++;
}
static void s_rejected(void *u, uint32_t ins, uint64_t id, int reason)
{
    (void)ins, (void)id, (void)reason;
    ((sink *)u)->rejected++;
}
static void s_fill(void *u, const brs_book_fill *f)
{
    sink *s = u;
    s->fills++;
    s->filled_qty += f->qty;
}
static void s_cancelled(void *u, uint32_t ins, uint64_t id, int64_t qty, int reason)
{
    (void)ins, (void)id, (void)qty, (void)reason;
    ((sink *)u)->cancelled++;
}
static void s_replaced(void *u, uint32_t ins, uint64_t id, int64_t p, int64_t q, int64_t l)
{
    (void)ins, (void)id, (void)p, (void)q, (void)l;
    ((sink *)u)->replaced++;
}
static void s_level(void *u, uint32_t ins, int side, int64_t p, int64_t q, uint32_t n)
{
    (void)ins, (void)side, (void)p, (void)n;
    sink *s = u;
    s->levels++;
    s->level_qty += q;
}
static void s_top(void *u, const brs_top *t)
{
    (void)t;
    ((sink *)u)->tops++;
}

static brs_book_listener sink_listener(sink *s)
{
    return (brs_book_listener){.user = s, .xAccepted = s_accepted, .xRejected = s_rejected,
                               .xFill = s_fill, .xCancelled = s_cancelled,
                               .xReplaced = s_replaced, .xLevel = s_level, .xTop = s_top};
}

/* ---- workloads: pre-built operation lists -------------------------------- */

enum { OP_SUBMIT, OP_CANCEL, OP_REPLACE };

/* One operation of a workload. Submits carry the order ready to send, as a
 * gateway hands over a decoded message (and as the contest harness passed its
 * order structs); cancels and replaces use id, price and qty. */
typedef struct op {
    brs_order ord;
    uint8_t kind;
} op;

typedef struct workload {
    const char *name;
    op *ops;
    size_t n;          /* operations per replay */
    size_t prefix;     /* leading operations run untimed (building the book) */
    int replays;       /* replays per run, the book reset before each */
    uint32_t max_orders;
    int64_t center;
} workload;

static inline void run_op(brs_engine *e, const op *o)
{
    switch (o->kind) {
    case OP_SUBMIT:
        brs__engine_submit(e, &o->ord);
        break;
    case OP_CANCEL:
        brs__engine_cancel(e, o->ord.id);
        break;
    default:
        brs__engine_replace(e, o->ord.id, o->ord.price, o->ord.qty);
        break;
    }
}

/* The timed loop, in a function of its own so that the engine and the cursor
 * stay in registers across the calls (inlined into run_workload, GCC kept the
 * engine pointer on the stack and reloaded it for every message). */
static __attribute__((noinline)) void run_ops(brs_engine *e, const op *o, const op *end)
{
    for (; o < end; o++)
        run_op(e, o);
}

/* Reads the QuantCup CSV (symbol,trader,side,price,size) with plain C. */
static int load_quantcup(const char *path, workload *w)
{
    char *data;
    size_t len;
    brs_error err;
    if (brs__read_file(path, &data, &len, &err))
        return brs__fail("bench book", "%s", err.msg);
    w->ops = calloc(QC_ROWS, sizeof *w->ops);
    if (!w->ops) {
        free(data);
        return brs__fail("bench book", "out of memory");
    }
    size_t n = 0, line = 0;
    uint64_t next_id = 1;
    int rc = BRS_EXIT_OK;
    char *p = data;
    while (*p && n < QC_ROWS && rc == BRS_EXIT_OK) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        line++;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[l - 1] = '\0';
        if (line == 1 && strncmp(p, "symbol,", 7) == 0) {
            p = eol ? eol + 1 : p + l;
            continue;
        }
        if (*p) {
            char *f[5], *end;
            int nf = 0;
            for (char *q = p; nf < 5;) {
                f[nf++] = q;
                q = strchr(q, ',');
                if (!q)
                    break;
                *q++ = '\0';
            }
            long side = nf == 5 ? strtol(f[2], &end, 10) : 0;
            if (nf != 5) {
                rc = brs__fail("bench book", "%s:%zu: expected 5 fields (symbol,trader,side,price,size), got %d",
                               path, line, nf);
                break;
            }
            if (*end || (side != 0 && side != 1)) {
                rc = brs__fail("bench book", "%s:%zu: field 'side' must be 0 or 1, not '%s'", path, line, f[2]);
                break;
            }
            long long price = strtoll(f[3], &end, 10);
            if (*end || price < 0) {
                rc = brs__fail("bench book", "%s:%zu: field 'price' must be a non-negative integer, not '%s'",
                               path, line, f[3]);
                break;
            }
            long long size = strtoll(f[4], &end, 10);
            if (*end || size <= 0) {
                rc = brs__fail("bench book", "%s:%zu: field 'size' must be a positive integer, not '%s'", path,
                               line, f[4]);
                break;
            }
            op *o = &w->ops[n++];
            if (price == 0) {
                o->kind = OP_CANCEL;
                o->ord.id = (uint64_t)size;
            } else {
                o->kind = OP_SUBMIT;
                o->ord.id = next_id++;
                o->ord.price = price;
                o->ord.qty = size;
                o->ord.side = (uint8_t)side;
                o->ord.tif = BRS_GTC;
                if (w->center == 0)
                    w->center = price;
            }
        }
        p = eol ? eol + 1 : p + l;
    }
    free(data);
    if (rc)
        return rc;
    if (n == 0)
        return brs__fail("bench book", "%s: no rows", path);
    w->name = "quantcup";
    w->n = n;
    w->replays = QC_REPLAYS;
    w->max_orders = 1u << 16;
    return BRS_EXIT_OK;
}

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* deep: 2M operations, 96% passive adds on five levels a side, 4% marketable
 * IOCs nibbling at the touch: the book grows to about 1.9M resting orders. */
static int make_deep(workload *w)
{
    size_t n = 2000000;
    w->ops = calloc(n, sizeof *w->ops);
    if (!w->ops)
        return brs__fail("bench book", "out of memory");
    rng = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        op *o = &w->ops[i];
        o->kind = OP_SUBMIT;
        o->ord.id = i + 1;
        o->ord.side = (uint8_t)(rnd() & 1);
        if (rnd() % 100 < 4) {
            o->ord.tif = BRS_IOC;
            o->ord.qty = 50 + (int64_t)(rnd() % 200);
            o->ord.price = o->ord.side == BRS_BUY ? 1001 : 999;
        } else {
            o->ord.tif = BRS_GTC;
            o->ord.qty = 1 + (int64_t)(rnd() % 100);
            int64_t lvl = (int64_t)(rnd() % 5);
            o->ord.price = o->ord.side == BRS_BUY ? 999 - lvl : 1001 + lvl;
        }
    }
    w->name = "deep";
    w->n = n;
    w->replays = 1;
    w->max_orders = 1u << 21;
    w->center = 1000;
    return BRS_EXIT_OK;
}

/* mixed: generated against a real engine so that replaces and cancels name
 * live orders: ~1,000 live orders over ~750 ticks; after 1,000 untimed adds,
 * 82% replace, 6% cancel, 9% GTC add, 3% IOC. */
typedef struct liveset {
    uint64_t *ids;
    uint32_t *pos; /* by id: index in ids + 1, 0 = not live */
    size_t n;
} liveset;

static void live_add(liveset *l, uint64_t id)
{
    if (l->pos[id])
        return;
    l->ids[l->n] = id;
    l->pos[id] = (uint32_t)++l->n;
}

static void live_del(liveset *l, uint64_t id)
{
    uint32_t p = l->pos[id];
    if (!p)
        return;
    uint64_t last = l->ids[--l->n];
    l->ids[p - 1] = last;
    l->pos[last] = p;
    l->pos[id] = 0;
}

static void g_fill(void *u, const brs_book_fill *f)
{
    if (!f->maker_leaves)
        live_del(u, f->maker_id);
    if (!f->taker_leaves)
        live_del(u, f->taker_id);
}

static void g_cancelled(void *u, uint32_t ins, uint64_t id, int64_t qty, int reason)
{
    (void)ins, (void)qty, (void)reason;
    live_del(u, id);
}

static int make_mixed(workload *w)
{
    size_t n = 1000000, prefix = 1000;
    w->ops = calloc(n, sizeof *w->ops);
    liveset l = {calloc(n + 1, sizeof(uint64_t)), calloc(n + 2, sizeof(uint32_t)), 0};
    brs_book_listener L = {.user = &l, .xFill = g_fill, .xCancelled = g_cancelled};
    brs_engine *e = NULL;
    brs_engine_config cfg = {.max_orders = 1u << 16, .max_instruments = 1};
    brs_error err;
    if (!w->ops || !l.ids || !l.pos || brs__engine_create(&e, &cfg, &L, &err)) {
        free(l.ids), free(l.pos);
        return brs__fail("bench book", "out of memory");
    }
    rng = 0x2545F4914F6CDD1Dull;
    const int64_t mid = 100000, band = 375;
    uint64_t next_id = 1;
    for (size_t i = 0; i < n; i++) {
        op *o = &w->ops[i];
        int r = (int)(rnd() % 100);
        if (i < prefix)
            r = 90; /* build the book */
        else if (r >= 82 && r < 88 && l.n < 900)
            r = 90; /* keep about 1,000 live: add instead of cancel */
        else if (r >= 88 && r < 97 && l.n > 1100)
            r = 85;
        if (r < 82 && l.n) {
            uint64_t id = l.ids[rnd() % l.n];
            brs_order_info oi;
            brs__engine_order(e, id, &oi);
            o->kind = OP_REPLACE;
            o->ord.id = id;
            int how = (int)(rnd() % 10);
            if (how < 3) { /* smaller at the same price: keeps priority */
                o->ord.price = oi.price;
                o->ord.qty = oi.cum_qty + (oi.leaves > 1 ? oi.leaves - 1 : 1);
            } else { /* move within the passive band */
                int64_t d = 1 + (int64_t)(rnd() % band);
                o->ord.price = oi.side == BRS_BUY ? mid - d : mid + d;
                o->ord.qty = oi.cum_qty + 1 + (int64_t)(rnd() % 100);
            }
        } else if (r < 88 && l.n) {
            o->kind = OP_CANCEL;
            o->ord.id = l.ids[rnd() % l.n];
        } else if (r < 97 || !l.n) {
            o->kind = OP_SUBMIT;
            o->ord.id = next_id++;
            o->ord.side = (uint8_t)(rnd() & 1);
            int64_t d = 1 + (int64_t)(rnd() % band);
            o->ord.price = o->ord.side == BRS_BUY ? mid - d : mid + d;
            o->ord.qty = 1 + (int64_t)(rnd() % 100);
            o->ord.tif = BRS_GTC;
        } else {
            o->kind = OP_SUBMIT;
            o->ord.id = next_id++;
            o->ord.side = (uint8_t)(rnd() & 1);
            o->ord.price = o->ord.side == BRS_BUY ? mid + band : mid - band;
            o->ord.qty = 1 + (int64_t)(rnd() % 150);
            o->ord.tif = BRS_IOC;
        }
        run_op(e, o);
        if (o->kind == OP_SUBMIT && o->ord.tif == BRS_GTC) {
            brs_order_info oi;
            if (brs__engine_order(e, o->ord.id, &oi) == BRS_OK)
                live_add(&l, o->ord.id);
        }
    }
    brs__engine_destroy(e);
    free(l.ids);
    free(l.pos);
    w->name = "mixed";
    w->n = n;
    w->prefix = prefix;
    w->replays = 1;
    w->max_orders = 1u << 16;
    w->center = mid;
    return BRS_EXIT_OK;
}

/* ---- timing ------------------------------------------------------------------ */


/* CPU time of this thread: on a machine shared with other busy processes it
 * leaves out the time we sat descheduled, which wall time would charge to us. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


/* --kinds: the latency samples by what the operation was and what it
 * reported, so the tail can be read (which operations pass 150 ns). */
enum { K_REST, K_IOC, K_CANCEL, K_REPLACE, K_KINDS };
static const char *const kind_names[K_KINDS] = {"submit", "ioc", "cancel", "replace"};

/* The class of one operation: kind, fills and level events (3 = 3 or more),
 * whether the top was reported. */
static uint8_t op_class(const op *o, const sink *before, const sink *after)
{
    int k = o->kind == OP_SUBMIT ? (o->ord.type == BRS_MARKET || o->ord.tif >= BRS_IOC ? K_IOC : K_REST)
            : o->kind == OP_CANCEL ? K_CANCEL : K_REPLACE;
    uint64_t f = after->fills - before->fills, l = after->levels - before->levels;
    return (uint8_t)(k | (f > 3 ? 3 : f) << 2 | (l > 3 ? 3 : l) << 4 | (after->tops != before->tops) << 6);
}

typedef struct kind_stats {
    uint8_t cls;
    size_t n, above_150;
    double p50, p90, p99;
} kind_stats;

typedef struct result {
    double ns_per_msg, min_ns_per_msg, wall_ns_per_msg, msgs_per_sec, p50, p99, p999, timer_ns;
    size_t bytes_per_order;
    int64_t allocs;
    uint64_t fills;
    size_t peak_live;
    kind_stats *kinds; /* --kinds: one per class seen */
    size_t nkinds, nsamples;
} result;

/* Percentiles of the samples of each class (cls[i] is sample i's). */
static int kinds_compute(const double *samples, const uint8_t *cls, size_t ns, result *res)
{
    double *tmp = malloc((ns ? ns : 1) * sizeof *tmp);
    res->kinds = calloc(256, sizeof *res->kinds);
    if (!tmp || !res->kinds) {
        free(tmp);
        return brs__fail("bench book", "out of memory");
    }
    for (int c = 0; c < 256; c++) {
        size_t m = 0, above = 0;
        for (size_t i = 0; i < ns; i++)
            if (cls[i] == c) {
                tmp[m++] = samples[i];
                above += samples[i] > 150;
            }
        if (!m)
            continue;
        brs_stats st;
        brs__stats_compute(tmp, m, &st);
        res->kinds[res->nkinds++] = (kind_stats){.cls = (uint8_t)c, .n = m, .above_150 = above,
                                                 .p50 = st.p50, .p90 = st.p90, .p99 = st.p99};
    }
    res->nsamples = ns;
    free(tmp);
    return BRS_EXIT_OK;
}

static int run_workload(const workload *w, int runs, int kinds, result *res)
{
    sink s = {0};
    brs_book_listener L = sink_listener(&s);
    brs_engine *e;
    brs_engine_config cfg = {.max_orders = w->max_orders, .max_instruments = 1};
    brs_error err;
    if (brs__engine_create(&e, &cfg, &L, &err))
        return brs__fail("bench book", "%s", err.msg);
    brs__engine_reserve(e, 0, w->center);
    size_t timed = (w->n - w->prefix) * (size_t)w->replays;
    double *per_run = calloc(2 * ((size_t)runs + 1), sizeof *per_run);
    double *per_run_wall = per_run + runs + 1;
    size_t stride = timed / 1000000 + 1;
    size_t nsamp = timed / stride + 1 + 10001; /* + room to time the timer */
    double *samples = calloc(nsamp, sizeof *samples);
    uint8_t *cls = kinds ? calloc(nsamp, 1) : NULL;
    if (!per_run || !samples || (kinds && !cls)) {
        free(per_run), free(samples), free(cls);
        brs__engine_destroy(e);
        return brs__fail("bench book", "out of memory");
    }
    int64_t allocs = 0;
    size_t peak = 0;
    /* Run 0 warms caches and page tables and is not counted. */
    for (int r = 0; r <= runs; r++) {
        int64_t total = 0, wall = 0;
        int64_t a0 = brs__alloc_count(), adiff = 0;
        for (int k = 0; k < w->replays; k++) {
            brs__engine_reset(e);
            for (size_t i = 0; i < w->prefix; i++)
                run_op(e, &w->ops[i]);
            int64_t a1 = brs__alloc_count();
            int64_t w0 = brs__monotime_ns(), t0 = thread_cpu_ns();
            run_ops(e, w->ops + w->prefix, w->ops + w->n);
            int64_t t1 = thread_cpu_ns(), w1 = brs__monotime_ns();
            wall += w1 - w0;
            adiff += brs__alloc_count() - a1;
            total += t1 - t0;
            if (brs__engine_live_orders(e) > peak)
                peak = brs__engine_live_orders(e);
        }
        (void)a0;
        if (r > 0) {
            per_run[r - 1] = (double)total / (double)timed;
            per_run_wall[r - 1] = (double)wall / (double)timed;
            if (adiff > allocs)
                allocs = adiff;
        }
    }
    /* Latency: one more run timing every stride-th operation alone. */
    double tns = brs__bench_tick_ns();
    size_t ns = 0, c = 0;
    int64_t a_lat = 0;
    for (int k = 0; k < w->replays; k++) {
        brs__engine_reset(e);
        for (size_t i = 0; i < w->prefix; i++)
            run_op(e, &w->ops[i]);
        int64_t a1 = brs__alloc_count();
        for (size_t i = w->prefix; i < w->n; i++, c++) {
            if (c % stride == 0 && ns < nsamp - 10001) {
                sink before = s;
                uint64_t t0 = brs__bench_ticks();
                run_op(e, &w->ops[i]);
                uint64_t t1 = brs__bench_ticks();
                if (cls)
                    cls[ns] = op_class(&w->ops[i], &before, &s);
                samples[ns++] = (double)(t1 - t0) * tns;
            } else {
                run_op(e, &w->ops[i]);
            }
        }
        a_lat += brs__alloc_count() - a1;
    }
    if (a_lat > allocs)
        allocs = a_lat;
    /* The timer's own cost (median of empty timings) is taken off each sample. */
    double *empty = samples + ns;
    size_t ne = nsamp - ns < 10001 ? nsamp - ns : 10001;
    for (size_t i = 0; i < ne; i++) {
        uint64_t t0 = brs__bench_ticks();
        uint64_t t1 = brs__bench_ticks();
        empty[i] = (double)(t1 - t0) * tns;
    }
    double overhead = ne ? brs__median(empty, ne) : 0;
    for (size_t i = 0; i < ns; i++)
        samples[i] = samples[i] > overhead ? samples[i] - overhead : 0;
    res->timer_ns = overhead;
    int krc = cls ? kinds_compute(samples, cls, ns, res) : BRS_EXIT_OK;
    free(cls);
    if (krc) {
        free(per_run), free(samples);
        brs__engine_destroy(e);
        return krc;
    }
    brs_stats st;
    brs__stats_compute(samples, ns, &st);
    res->ns_per_msg = brs__median(per_run, (size_t)runs); /* sorts per_run */
    res->min_ns_per_msg = per_run[0];
    res->wall_ns_per_msg = brs__median(per_run_wall, (size_t)runs);
    res->msgs_per_sec = 1e9 / res->ns_per_msg;
    res->p50 = st.p50;
    res->p99 = st.p99;
    res->p999 = st.p999;
    res->bytes_per_order = brs__engine_bytes_per_order(e);
    res->allocs = brs__alloc_count() < 0 ? -1 : allocs;
    res->fills = s.fills / (uint64_t)(runs + 2) / (uint64_t)w->replays; /* per replay */
    res->peak_live = peak;
    BRS__KEEP(s.filled_qty);
    BRS__KEEP(s.level_qty);
    free(per_run);
    free(samples);
    brs__engine_destroy(e);
    return BRS_EXIT_OK;
}

/* far: 1,200,000 buys, each on its own price level far below the window
 * (descending, so every one is a new worst level), then all cancelled in a
 * shuffled order. Timed per block of 100,000 operations so the figure shows
 * whether the cost per operation stays flat as the far levels pile up: it did
 * not with the sorted overflow array this tree replaced (issue 15). */
#define FAR_N 1200000
#define FAR_BLOCK 100000
typedef struct far_result {
    double ins_first, ins_last, del_first, del_last; /* median ns/op over runs */
    double ins_ratio, del_ratio;
    int64_t allocs;
} far_result;

static int run_far(int runs, far_result *fr)
{
    sink s = {0};
    brs_book_listener L = sink_listener(&s);
    brs_engine *e;
    brs_engine_config cfg = {.max_orders = FAR_N + 16, .max_instruments = 1};
    brs_error err;
    if (brs__engine_create(&e, &cfg, &L, &err))
        return brs__fail("bench book", "%s", err.msg);
    brs__engine_reserve(e, 0, 1000000);
    uint64_t *order = malloc(FAR_N * sizeof *order);
    double *v = calloc(4 * ((size_t)runs + 1), sizeof *v);
    if (!order || !v) {
        free(order), free(v);
        brs__engine_destroy(e);
        return brs__fail("bench book", "out of memory");
    }
    rng = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < FAR_N; i++)
        order[i] = i + 2;
    for (size_t i = FAR_N - 1; i > 0; i--) { /* Fisher-Yates: the cancel order */
        size_t j = (size_t)(rnd() % (i + 1));
        uint64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int64_t allocs = 0;
    const size_t nblk = FAR_N / FAR_BLOCK;
    for (int r = 0; r <= runs; r++) {
        brs__engine_reset(e);
        brs_order anchor = {.id = 1, .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_GTC, .price = 1000000, .qty = 1};
        brs__engine_submit(e, &anchor);
        int64_t t_first = 0, t_last = 0, c_first = 0, c_last = 0;
        int64_t a0 = brs__alloc_count();
        for (size_t b = 0; b < nblk; b++) {
            int64_t t0 = thread_cpu_ns();
            for (size_t i = b * FAR_BLOCK; i < (b + 1) * FAR_BLOCK; i++) {
                brs_order o = {.id = i + 2, .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_GTC,
                               .price = 1000000 - 10000 - (int64_t)i, .qty = 1};
                brs__engine_submit(e, &o);
            }
            int64_t dt = thread_cpu_ns() - t0;
            if (b == 0)
                t_first = dt;
            if (b == nblk - 1)
                t_last = dt;
        }
        for (size_t b = 0; b < nblk; b++) {
            int64_t t0 = thread_cpu_ns();
            for (size_t i = b * FAR_BLOCK; i < (b + 1) * FAR_BLOCK; i++)
                brs__engine_cancel(e, order[i]);
            int64_t dt = thread_cpu_ns() - t0;
            if (b == 0)
                c_first = dt;
            if (b == nblk - 1)
                c_last = dt;
        }
        /* the tree grows while the first run fills it; later runs reuse it */
        if (r > 0) {
            int64_t a = brs__alloc_count() - a0;
            if (a > allocs)
                allocs = a;
            v[0 * (runs + 1) + r - 1] = (double)t_first / FAR_BLOCK;
            v[1 * (runs + 1) + r - 1] = (double)t_last / FAR_BLOCK;
            v[2 * (runs + 1) + r - 1] = (double)c_first / FAR_BLOCK;
            v[3 * (runs + 1) + r - 1] = (double)c_last / FAR_BLOCK;
        }
    }
    fr->ins_first = brs__median(v, (size_t)runs);
    fr->ins_last = brs__median(v + (runs + 1), (size_t)runs);
    fr->del_first = brs__median(v + 2 * (runs + 1), (size_t)runs);
    fr->del_last = brs__median(v + 3 * (runs + 1), (size_t)runs);
    fr->ins_ratio = fr->ins_last / fr->ins_first;
    fr->del_ratio = fr->del_last / fr->del_first;
    fr->allocs = brs__alloc_count() < 0 ? -1 : allocs;
    BRS__KEEP(s.level_qty);
    free(order);
    free(v);
    brs__engine_destroy(e);
    return BRS_EXIT_OK;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse bench book [--feed FILE] [--runs N] [--workload NAME] [--kinds] [--json]\n\n"
            "Matching-engine benchmark. Workloads:\n"
            "  quantcup  the QuantCup contest feed (--feed FILE, default ../shared/bench/quantcup_feed.csv\n"
            "            when it exists): first 35,750 rows replayed 200 times, book reset before each\n"
            "  deep      2M operations, 96%% passive adds on 5 levels a side, 4%% IOC: ~1.9M resting orders\n"
            "  mixed     ~1,000 live orders over ~750 ticks: 82%% replace, 6%% cancel, 9%% GTC, 3%% IOC\n"
            "  far       1.2M buys each on its own level far outside the window, then all cancelled\n"
            "            (shuffled): ns/op of the first and the last 100k of each, and their ratio\n\n"
            "Reports per workload the median ns per message over --runs runs (default 5; thread CPU\n"
            "time, so time spent descheduled on a shared machine is not charged; the fastest run and\n"
            "the wall-clock median follow in the text output), messages per\n"
            "second, sampled per-operation latency p50/p99/p99.9 (net of the timer's own cost, the\n"
            "median of empty timings, printed at the end of each line),\n"
            "bytes per resting order and allocations in the timed regions. Every execution report goes\n"
            "to a listener in another translation unit.\n\n"
            "--kinds also splits the latency samples by operation (submit that may rest, IOC/FOK/market,\n"
            "cancel, replace), fills and level events it reported (3: 3 or more) and whether the top\n"
            "moved: count, p50/p90/p99 and how many passed 150 ns (JSON: \"kinds\").\n");
}

static const char *default_feed(void)
{
    static const char *cands[] = {"../shared/bench/quantcup_feed.csv",
#ifdef BRS_SOURCE_DIR
                                  BRS_SOURCE_DIR "/../shared/bench/quantcup_feed.csv",
#endif
                                  NULL};
    for (int i = 0; cands[i]; i++)
        if (access(cands[i], R_OK) == 0)
            return cands[i];
    return NULL;
}

int brs__bench_book(int argc, char **argv)
{
    const char *feed = NULL, *only = NULL;
    int runs = 5, json = 0, kinds = 0;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            usage(stdout);
            return BRS_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--kinds") == 0) {
            kinds = 1;
        } else if (strcmp(argv[i], "--feed") == 0 || strcmp(argv[i], "--runs") == 0 ||
                   strcmp(argv[i], "--workload") == 0) {
            if (i + 1 >= argc)
                return brs__usage_error("bench book", "%s needs a value", argv[i]);
            const char *v = argv[++i];
            if (argv[i - 1][2] == 'f') {
                feed = v;
            } else if (argv[i - 1][2] == 'w') {
                if (strcmp(v, "quantcup") && strcmp(v, "deep") && strcmp(v, "mixed") && strcmp(v, "far"))
                    return brs__usage_error("bench book", "unknown workload '%s' (quantcup, deep, mixed, far)", v);
                only = v;
            } else {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 1000)
                    return brs__usage_error("bench book", "--runs must be 1..1000, not '%s'", v);
                runs = (int)n;
            }
        } else {
            return brs__usage_error("bench book", "unknown option '%s'", argv[i]);
        }
    }
    if (!feed && (!only || strcmp(only, "quantcup") == 0)) {
        feed = default_feed();
        if (!feed) {
            if (only)
                return brs__fail("bench book", "quantcup needs --feed FILE (../shared/bench/quantcup_feed.csv not found)");
            fprintf(stderr, "bench book: quantcup skipped: ../shared/bench/quantcup_feed.csv not found (use --feed)\n");
        }
    }
    workload ws[3];
    int nw = 0, rc = BRS_EXIT_OK;
    memset(ws, 0, sizeof ws);
    if (feed && (!only || strcmp(only, "quantcup") == 0)) {
        if ((rc = load_quantcup(feed, &ws[nw])))
            goto out;
        nw++;
    }
    if (!only || strcmp(only, "deep") == 0) {
        if ((rc = make_deep(&ws[nw])))
            goto out;
        nw++;
    }
    if (!only || strcmp(only, "mixed") == 0) {
        if ((rc = make_mixed(&ws[nw])))
            goto out;
        nw++;
    }
    int want = BRS__BENCH_WANTS_JSON(json);
    cJSON *root = want ? cJSON_CreateObject() : NULL;
    cJSON *arr = want ? cJSON_AddArrayToObject(root, "workloads") : NULL;
    if (!json && nw > 0)
        printf("%-9s %8s %8s %8s %12s %8s %8s %8s %8s %7s\n", "workload", "ns/msg", "(min)", "(wall)", "msgs/s",
               "p50 ns", "p99 ns", "p99.9 ns", "B/order", "allocs");
    for (int i = 0; i < nw; i++) {
        result r = {0};
        if ((rc = run_workload(&ws[i], runs, kinds, &r)))
            break;
        if (want) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "workload", ws[i].name);
            cJSON_AddNumberToObject(o, "ns_per_msg", r.ns_per_msg);
            cJSON_AddNumberToObject(o, "msgs_per_sec", r.msgs_per_sec);
            cJSON_AddNumberToObject(o, "p50_ns", r.p50);
            cJSON_AddNumberToObject(o, "p99_ns", r.p99);
            cJSON_AddNumberToObject(o, "p999_ns", r.p999);
            cJSON_AddNumberToObject(o, "bytes_per_order", (double)r.bytes_per_order);
            cJSON_AddNumberToObject(o, "allocs", (double)r.allocs);
            if (kinds) {
                cJSON *ka = cJSON_AddArrayToObject(o, "kinds");
                for (size_t k = 0; k < r.nkinds; k++) {
                    const kind_stats *x = &r.kinds[k];
                    cJSON *ko = cJSON_CreateObject();
                    cJSON_AddStringToObject(ko, "kind", kind_names[x->cls & 3]);
                    cJSON_AddNumberToObject(ko, "fills", (x->cls >> 2) & 3);
                    cJSON_AddNumberToObject(ko, "levels", (x->cls >> 4) & 3);
                    cJSON_AddBoolToObject(ko, "top", x->cls >> 6);
                    cJSON_AddNumberToObject(ko, "n", (double)x->n);
                    cJSON_AddNumberToObject(ko, "p50_ns", x->p50);
                    cJSON_AddNumberToObject(ko, "p90_ns", x->p90);
                    cJSON_AddNumberToObject(ko, "p99_ns", x->p99);
                    cJSON_AddNumberToObject(ko, "above_150ns", (double)x->above_150);
                    cJSON_AddItemToArray(ka, ko);
                }
            }
            cJSON_AddItemToArray(arr, o);
        }
        if (!json) {
            printf("%-9s %8.2f %8.2f %8.2f %12.0f %8.0f %8.0f %8.0f %8zu %7lld   (%zu msgs x %d, %llu fills/replay, peak %zu live, timer %.0f ns)\n",
                   ws[i].name, r.ns_per_msg, r.min_ns_per_msg, r.wall_ns_per_msg, r.msgs_per_sec, r.p50, r.p99, r.p999, r.bytes_per_order,
                   (long long)r.allocs, ws[i].n - ws[i].prefix, ws[i].replays,
                   (unsigned long long)r.fills, r.peak_live, r.timer_ns);
            for (size_t k = 0; k < r.nkinds; k++) {
                const kind_stats *x = &r.kinds[k];
                printf("  %-7s fills %u%s levels %u%s top %u: %8zu ops (%5.2f%%)  p50 %4.0f  p90 %4.0f  p99 %4.0f ns"
                       "  above 150 ns: %zu (%.3f%% of all)\n",
                       kind_names[x->cls & 3], (x->cls >> 2) & 3u, ((x->cls >> 2) & 3) == 3 ? "+" : " ",
                       (x->cls >> 4) & 3u, ((x->cls >> 4) & 3) == 3 ? "+" : " ", (unsigned)(x->cls >> 6), x->n,
                       100.0 * (double)x->n / (double)r.nsamples, x->p50, x->p90, x->p99, x->above_150,
                       100.0 * (double)x->above_150 / (double)r.nsamples);
            }
        }
        free(r.kinds);
    }
    if (!rc && (!only || strcmp(only, "far") == 0)) {
        far_result fr = {0};
        int far_runs = runs < 3 ? runs : 3; /* 2.4M operations a run */
        if ((rc = run_far(far_runs, &fr)) == BRS_EXIT_OK) {
            if (want) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "workload", "far");
                cJSON_AddNumberToObject(o, "levels", FAR_N);
                cJSON_AddNumberToObject(o, "insert_ns_first_100k", fr.ins_first);
                cJSON_AddNumberToObject(o, "insert_ns_last_100k", fr.ins_last);
                cJSON_AddNumberToObject(o, "insert_last_over_first", fr.ins_ratio);
                cJSON_AddNumberToObject(o, "cancel_ns_first_100k", fr.del_first);
                cJSON_AddNumberToObject(o, "cancel_ns_last_100k", fr.del_last);
                cJSON_AddNumberToObject(o, "cancel_last_over_first", fr.del_ratio);
                cJSON_AddNumberToObject(o, "allocs", (double)fr.allocs);
                cJSON_AddItemToArray(arr, o);
            }
            if (!json)
                printf("far       insert %.0f -> %.0f ns/op (x%.2f), cancel %.0f -> %.0f ns/op (x%.2f), first vs last 100k "
                       "of %d levels; %lld allocs after the first run\n",
                       fr.ins_first, fr.ins_last, fr.ins_ratio, fr.del_first, fr.del_last, fr.del_ratio, FAR_N,
                       (long long)fr.allocs);
        }
    }
    if (want) {
        if (!rc)
            brs__bench_json(root, json);
        else
            cJSON_Delete(root);
    }
out:
    for (int i = 0; i < 3; i++)
        free(ws[i].ops);
    return rc;
}
