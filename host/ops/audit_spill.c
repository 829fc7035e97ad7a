/* audit_spill.c: `bourse audit` in bounded memory (--mem-limit). Past about
 * half the limit, the rows read so far and then every chunk the readers fill
 * are handed on here and go through external sorts: each sorter holds records
 * (a row or a fact about one, with its own strings) up to its share of the
 * limit, then sorts them and writes them as a run to an unlinked temporary
 * file; reading them back merges the runs k ways. The steps are brs__aud_build's,
 * as sort-merge joins:
 *
 *   W  WebSocket requests, by reading order: renamed once every report has
 *      been read (brs__aud_ws_names), then handed to A.
 *   A  rows by (session, ClOrdID), after the facts of that key: the first
 *      row (reading order) with an OrderID whose ClOrdID or OrigClOrdID is the
 *      key (link_orders), the first timed answer with that ClOrdID
 *      (time_requests). A row without an OrderID takes the first; a request
 *      takes the second's time. Rows still without an OrderID go to B by
 *      their OrigClOrdID, the rest to C; each key's first link fact to B.
 *   B  the same by OrigClOrdID (link_orders' second pass).
 *   C  rows in output order (brs__aud_cmp_rows), printed an order at a time
 *      (brs__aud_print_order).
 *
 * Every comparison ends with the reading order, so the output is the
 * in-memory path's byte for byte. Runs hold rows as they are in memory (the
 * event and file names are pointers that live as long as the process): they
 * are this process's scratch, never read by anything else. docs/operations.md,
 * "Audit". */
#include "ops/audit_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"

enum { F_LINK = 0, F_TIME = 1, F_ROW = 2 }; /* facts sort before the rows of their key */

#define FAN_IN 64             /* runs merged at once; more are merged in passes */
#define RUN_BUF (64u << 10)   /* a run's read buffer while it is merged (a record is < 5 KB) */
#define WR_BUF (1u << 20)     /* the one write buffer */
#define N_STR 18              /* astr fields of an aev */

/* A record: a row or a fact, its strings after it (text[0] is ""; astr are
 * offsets into text). len is the whole record, a multiple of 8. */
typedef struct rec {
    uint32_t len;
    uint32_t tag; /* F_ROW */
    aev e;
    char text[];
} rec;

/* A fact (F_LINK, F_TIME): what a row says about its key, in a third of a
 * row's record. Same first two fields; sorters hold both as rec *. */
typedef struct frec {
    uint32_t len;
    uint32_t tag;
    uint64_t n;
    int64_t t;
    uint64_t anchor;
    astr session, key, order_id, pad;
    char text[];
} frec;

#define FACT(r) ((const frec *)(const void *)(r))

static const size_t str_off[N_STR] = {
    offsetof(aev, session), offsetof(aev, order_id), offsetof(aev, clordid), offsetof(aev, orig),
    offsetof(aev, side),    offsetof(aev, symbol),   offsetof(aev, qty),     offsetof(aev, price),
    offsetof(aev, last_qty), offsetof(aev, last_px), offsetof(aev, cum),     offsetof(aev, leaves),
    offsetof(aev, status),  offsetof(aev, exec_id),  offsetof(aev, venue),   offsetof(aev, parent),
    offsetof(aev, child),   offsetof(aev, reason)};

static astr *fld(aev *e, int i) { return (astr *)((char *)e + str_off[i]); }
static astr fget(const aev *e, int i)
{
    astr v;
    memcpy(&v, (const char *)e + str_off[i], sizeof v);
    return v;
}

typedef int (*rec_cmp)(const rec *, const rec *);

typedef struct run {
    int fd; /* unlinked: only this descriptor names it */
    uint64_t recs, bytes;
} run;

typedef struct xsort {
    const char *name;
    rec_cmp cmp;
    char *buf; /* records, back to back */
    size_t used, cap;
    rec **ptr;
    size_t n, pcap;
    run *runs;
    size_t nruns, capruns;
    uint64_t recs;
    /* reading back */
    struct cursor *cur;
    size_t ncur, *heap, nheap;
} xsort;

typedef struct cursor {
    int fd;
    uint64_t off, end; /* read so far, the run's size */
    char *buf;         /* RUN_BUF bytes: records from pos to len */
    size_t pos, len;
    rec *r; /* the current record, in buf */
} cursor;

enum { XW, XA, XB, XC, NX };

struct brs__aud_spill {
    audit *a;
    size_t limit, budget; /* budget: what the sorters together hold before one spills */
    size_t chunk;         /* the readers' rows, once spilling */
    char dir[4096];
    int on; /* the rows outgrew the in-memory path */
    xsort x[NX];
    size_t held;
    uint64_t runs, bytes;
    uint64_t disk, disk_peak; /* bytes in runs now, at most */
    brs_error err;
    char *wbuf; /* WR_BUF bytes */
    size_t wlen;
    /* WebSocket accounts (brs__aud_ws_names): the first report's session */
    uint32_t ws_top;
    char **ws_name;
    size_t ws_cap;
};

static int merge_front(brs__aud_spill *sp, xsort *x);

/* ---- sorters ---------------------------------------------------------------- */

static rec_cmp g_cmp; /* qsort has no context argument */

static int cmp_ptr(const void *pa, const void *pb) { return g_cmp(*(rec *const *)pa, *(rec *const *)pb); }

static int fail(brs__aud_spill *sp, const char *what, int e)
{
    if (!sp->err.msg[0])
        brs__err(&sp->err, BRS_E_IO, "audit spill in %s: %s: %s", sp->dir, what, strerror(e));
    return -1;
}

static void free_buf(brs__aud_spill *sp, xsort *x)
{
    sp->held -= x->cap + x->pcap * sizeof *x->ptr;
    free(x->buf);
    free(x->ptr);
    x->buf = NULL;
    x->ptr = NULL;
    x->used = x->cap = x->n = x->pcap = 0;
}

static void on_disk(brs__aud_spill *sp, int64_t d)
{
    sp->disk += (uint64_t)d;
    if (sp->disk > sp->disk_peak)
        sp->disk_peak = sp->disk;
}

/* Buffered writes of one run at a time. */
static int wr_flush(brs__aud_spill *sp, int fd)
{
    for (size_t k = 0; k < sp->wlen;) {
        ssize_t w = write(fd, sp->wbuf + k, sp->wlen - k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return fail(sp, "write failed", w < 0 ? errno : ENOSPC);
        k += (size_t)w;
    }
    sp->wlen = 0;
    return 0;
}

static int wr(brs__aud_spill *sp, int fd, const rec *r)
{
    if (sp->wlen + r->len > WR_BUF && wr_flush(sp, fd))
        return -1;
    memcpy(sp->wbuf + sp->wlen, r, r->len);
    sp->wlen += r->len;
    return 0;
}

/* A new run of x, its descriptor (-1: sp->err says why). */
static int run_new(brs__aud_spill *sp, xsort *x)
{
    if (x->nruns == x->capruns) {
        size_t c = x->capruns ? 2 * x->capruns : 16;
        run *r = realloc(x->runs, c * sizeof *r);
        if (!r)
            return fail(sp, "keeping a run", ENOMEM);
        x->runs = r;
        x->capruns = c;
    }
    if (!sp->wbuf && !(sp->wbuf = malloc(WR_BUF)))
        return fail(sp, "a write buffer", ENOMEM);
    int fd = brs__temp_fd(sp->dir, "bourse-audit");
    if (fd < 0)
        return fail(sp, "cannot create a temporary file", errno);
    sp->wlen = 0;
    return fd;
}

/* Sort what x holds and write it as a run. */
static int spill_run(brs__aud_spill *sp, xsort *x)
{
    if (!x->n)
        return 0;
    g_cmp = x->cmp;
    qsort(x->ptr, x->n, sizeof *x->ptr, cmp_ptr);
    int fd = run_new(sp, x);
    if (fd < 0)
        return -1;
    x->runs[x->nruns++] = (run){fd, x->n, x->used};
    for (size_t i = 0; i < x->n; i++)
        if (wr(sp, fd, x->ptr[i]))
            return -1;
    if (wr_flush(sp, fd))
        return -1;
    sp->runs++;
    sp->bytes += x->used;
    on_disk(sp, (int64_t)x->used);
    BRS_LOG(BRS_LOG_INFO, "audit", "spilled a sorted run", BRS_KV_S("sorter", x->name), BRS_KV_U("rows", x->n),
            BRS_KV_U("bytes", x->used), BRS_KV_U("runs", sp->runs), BRS_KV_U("spilled_bytes", sp->bytes),
            BRS_KV_S("dir", sp->dir));
    free_buf(sp, x);
    return x->nruns >= 2 * FAN_IN ? merge_front(sp, x) : 0;
}

/* Room for a record of len bytes in x: the largest sorter spills while the
 * sorters hold more than the budget. */
static int room(brs__aud_spill *sp, xsort *x, size_t len)
{
    while (sp->held + len + 2 * sizeof(rec *) > sp->budget) {
        xsort *big = NULL;
        for (int i = 0; i < NX; i++)
            if (sp->x[i].n && (!big || sp->x[i].used > big->used))
                big = &sp->x[i];
        if (!big)
            break; /* one record larger than the budget: held anyway */
        if (spill_run(sp, big))
            return -1;
    }
    if (x->used + len > x->cap) {
        size_t c = x->cap ? x->cap : sp->budget / 16 < (1u << 16) ? sp->budget / 16 : 1u << 16;
        if (c < 64)
            c = 64;
        while (c < x->used + len)
            c *= 2;
        if (c > sp->budget / 2 && x->used + len <= sp->budget / 2)
            c = sp->budget / 2;
        /* records are found again through ptr: rebase them after the move */
        char *b = realloc(x->buf, c);
        if (!b)
            return fail(sp, "keeping rows", ENOMEM);
        for (size_t i = 0; i < x->n; i++)
            x->ptr[i] = (rec *)(b + ((char *)x->ptr[i] - x->buf));
        sp->held += c - x->cap;
        x->buf = b;
        x->cap = c;
    }
    if (x->n == x->pcap) {
        size_t c = x->pcap ? 2 * x->pcap : 64;
        rec **p = realloc(x->ptr, c * sizeof *p);
        if (!p)
            return fail(sp, "keeping rows", ENOMEM);
        sp->held += (c - x->pcap) * sizeof *p;
        x->ptr = p;
        x->pcap = c;
    }
    return 0;
}

/* Row e's strings, from text. */
static void strs_of(const aev *e, const char *text, const char *out[N_STR])
{
    for (int i = 0; i < N_STR; i++)
        out[i] = text + fget(e, i);
}

/* Append row e with the strings str (its astr are not read) to x as a
 * record. A string several fields share (the same pointer) is kept once. */
static int put(brs__aud_spill *sp, xsort *x, uint32_t tag, const aev *e, const char *const str[N_STR])
{
    size_t len = sizeof(rec) + 1;
    int same[N_STR]; /* the first field with this string, or i */
    for (int i = 0; i < N_STR; i++) {
        same[i] = i;
        for (int j = 0; j < i && same[i] == i; j++)
            if (str[j] == str[i])
                same[i] = j;
        if (str[i][0] && same[i] == i)
            len += strlen(str[i]) + 1;
    }
    len = (len + 7) & ~(size_t)7;
    if (room(sp, x, len))
        return -1;
    rec *r = (rec *)(x->buf + x->used);
    memset(r, 0, len);
    r->len = (uint32_t)len;
    r->tag = tag;
    r->e = *e;
    size_t k = 1;
    for (int i = 0; i < N_STR; i++) {
        astr out = 0;
        if (!str[i][0])
            out = 0;
        else if (same[i] != i)
            out = fget(&r->e, same[i]);
        else {
            size_t l = strlen(str[i]) + 1;
            memcpy(r->text + k, str[i], l);
            out = (astr)k;
            k += l;
        }
        memcpy(fld(&r->e, i), &out, sizeof out);
    }
    x->used += len;
    x->ptr[x->n++] = r;
    x->recs++;
    return 0;
}

/* The same with the strings of a record, order_id (when not NULL) replacing its OrderID. */
static int put_rec(brs__aud_spill *sp, xsort *x, const rec *r, const aev *e, const char *order_id)
{
    const char *str[N_STR];
    strs_of(&r->e, r->text, str);
    if (order_id)
        str[1] = order_id;
    return put(sp, x, r->tag, e, str);
}

static void merge_close(xsort *x)
{
    for (size_t i = 0; i < x->ncur; i++)
        free(x->cur[i].buf);
    free(x->cur);
    free(x->heap);
    x->cur = NULL;
    x->heap = NULL;
    x->ncur = x->nheap = 0;
}

/* At least need bytes from c->pos on, if the run has them: 1, 0 if not, -1 on an error. */
static int cur_fill(brs__aud_spill *sp, cursor *c, size_t need)
{
    if (c->len - c->pos >= need)
        return 1;
    memmove(c->buf, c->buf + c->pos, c->len - c->pos); /* records stay 8-aligned: their lengths are */
    c->len -= c->pos;
    c->pos = 0;
    while (c->len < need && c->off < c->end) {
        size_t want = RUN_BUF - c->len;
        if (want > c->end - c->off)
            want = (size_t)(c->end - c->off);
        ssize_t r = pread(c->fd, c->buf + c->len, want, (off_t)c->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return fail(sp, "read failed", r < 0 ? errno : EIO);
        c->len += (size_t)r;
        c->off += (uint64_t)r;
    }
    return c->len >= need;
}

/* The next record of cursor c: 1, 0 at its end, -1 on an error. */
static int cur_read(brs__aud_spill *sp, cursor *c)
{
    int r = cur_fill(sp, c, sizeof(uint32_t));
    if (r <= 0)
        return r < 0 || c->len == 0 ? r : fail(sp, "a run is damaged", EIO);
    uint32_t len;
    memcpy(&len, c->buf + c->pos, sizeof len);
    if (len < sizeof(frec) + 1 || len > RUN_BUF || len % 8)
        return fail(sp, "a run is damaged", EIO);
    if ((r = cur_fill(sp, c, len)) <= 0)
        return r < 0 ? r : fail(sp, "a run is damaged", EIO);
    c->r = (rec *)(c->buf + c->pos);
    c->pos += len;
    return 1;
}

static int heap_less(const xsort *x, size_t a, size_t b)
{
    int c = x->cmp(x->cur[a].r, x->cur[b].r);
    return c < 0 || (c == 0 && a < b); /* equal: the earlier run first */
}

static void heap_down(xsort *x, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < x->nheap && heap_less(x, x->heap[l], x->heap[m]))
            m = l;
        if (l + 1 < x->nheap && heap_less(x, x->heap[l + 1], x->heap[m]))
            m = l + 1;
        if (m == i)
            return;
        size_t t = x->heap[i];
        x->heap[i] = x->heap[m];
        x->heap[m] = t;
        i = m;
    }
}

/* Start merging runs [first, first + n) of x. */
static int merge_open(brs__aud_spill *sp, xsort *x, size_t first, size_t n)
{
    x->cur = calloc(n, sizeof *x->cur);
    x->heap = calloc(n, sizeof *x->heap);
    if (!x->cur || !x->heap)
        return fail(sp, "merging runs", ENOMEM);
    x->ncur = n;
    for (size_t i = 0; i < n; i++) {
        cursor *c = &x->cur[i];
        c->fd = x->runs[first + i].fd;
        c->end = x->runs[first + i].bytes;
        if (!(c->buf = malloc(RUN_BUF)))
            return fail(sp, "merging runs", ENOMEM);
        int r = cur_read(sp, c);
        if (r < 0)
            return -1;
        if (r)
            x->heap[x->nheap++] = i;
    }
    for (size_t i = x->nheap / 2; i-- > 0;)
        heap_down(x, i);
    return 0;
}

/* The smallest record left (valid until the next call), NULL at the end or
 * on an error (sp->err set). pending: the cursor whose record was handed out
 * last, to be advanced now. */
static const rec *merge_next(brs__aud_spill *sp, xsort *x, int *pending)
{
    if (*pending) {
        *pending = 0;
        cursor *c = &x->cur[x->heap[0]];
        int r = cur_read(sp, c);
        if (r < 0)
            return NULL;
        if (!r)
            x->heap[0] = x->heap[--x->nheap];
        heap_down(x, 0);
    }
    if (!x->nheap)
        return NULL;
    *pending = 1;
    return x->cur[x->heap[0]].r;
}

/* Merge the first FAN_IN runs of x into one, put last (ties go to the
 * earlier run, which never matters: every order ends with the reading order).
 * Bounds the files open and the merge's width. */
static int merge_front(brs__aud_spill *sp, xsort *x)
{
    if (merge_open(sp, x, 0, FAN_IN))
        return -1;
    int fd = run_new(sp, x);
    if (fd < 0)
        return -1;
    uint64_t n = 0, bytes = 0;
    int pend = 0;
    const rec *r;
    while ((r = merge_next(sp, x, &pend))) {
        if (wr(sp, fd, r)) {
            close(fd);
            return -1;
        }
        n++;
        bytes += r->len;
    }
    if (sp->err.msg[0] || wr_flush(sp, fd)) {
        close(fd);
        return -1;
    }
    merge_close(x);
    on_disk(sp, (int64_t)bytes);
    for (size_t i = 0; i < FAN_IN; i++) {
        on_disk(sp, -(int64_t)x->runs[i].bytes);
        close(x->runs[i].fd);
    }
    memmove(x->runs, x->runs + FAN_IN, (x->nruns - FAN_IN) * sizeof *x->runs);
    x->nruns -= FAN_IN;
    x->runs[x->nruns++] = (run){fd, n, bytes};
    sp->runs++;
    sp->bytes += bytes;
    BRS_LOG(BRS_LOG_INFO, "audit", "merged runs into one", BRS_KV_S("sorter", x->name),
            BRS_KV_U("runs_merged", FAN_IN), BRS_KV_U("rows", n), BRS_KV_U("bytes", bytes),
            BRS_KV_S("dir", sp->dir));
    return 0;
}

/* Reading x back in order: what it holds written as a run too (so its memory
 * is free for the sorters it feeds), the runs merged FAN_IN at a time until
 * one merge takes them all. */
typedef struct reader {
    xsort *x;
    int pending;
} reader;

static int read_open(brs__aud_spill *sp, xsort *x, reader *rd)
{
    rd->x = x;
    rd->pending = 0;
    if (spill_run(sp, x))
        return -1;
    while (x->nruns > FAN_IN)
        if (merge_front(sp, x))
            return -1;
    return merge_open(sp, x, 0, x->nruns);
}

/* The next record, NULL at the end or on an error (sp->err set). */
static const rec *read_next(brs__aud_spill *sp, reader *rd)
{
    return merge_next(sp, rd->x, &rd->pending);
}

/* Done with x: its memory and runs. */
static void read_close(brs__aud_spill *sp, xsort *x)
{
    merge_close(x);
    for (size_t i = 0; i < x->nruns; i++) {
        on_disk(sp, -(int64_t)x->runs[i].bytes);
        close(x->runs[i].fd);
    }
    free(x->runs);
    x->runs = NULL;
    x->nruns = x->capruns = 0;
    free_buf(sp, x);
}

/* ---- the orders of the sorters ------------------------------------------------ */

#define T(r, x) ((r)->text + (x))

static uint64_t rec_n(const rec *r) { return r->tag == F_ROW ? r->e.n : FACT(r)->n; }
static const char *rec_session(const rec *r)
{
    return r->tag == F_ROW ? T(r, r->e.session) : FACT(r)->text + FACT(r)->session;
}
/* A row's key is its ClOrdID in A, its OrigClOrdID in B (by_orig). */
static const char *rec_key(const rec *r, int by_orig)
{
    if (r->tag != F_ROW)
        return FACT(r)->text + FACT(r)->key;
    return T(r, by_orig ? r->e.orig : r->e.clordid);
}

static int cmp_n(const rec *a, const rec *b)
{
    uint64_t na = rec_n(a), nb = rec_n(b);
    if (na != nb)
        return na < nb ? -1 : 1;
    return a->tag < b->tag ? -1 : a->tag > b->tag;
}

/* (session, key, facts first, reading order). */
static int cmp_key(const rec *a, const rec *b, int by_orig)
{
    int c = strcmp(rec_session(a), rec_session(b));
    if (c)
        return c;
    if ((c = strcmp(rec_key(a, by_orig), rec_key(b, by_orig))))
        return c;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return cmp_n(a, b);
}

static int cmp_a(const rec *a, const rec *b) { return cmp_key(a, b, 0); }
static int cmp_b(const rec *a, const rec *b) { return cmp_key(a, b, 1); }
static int cmp_c(const rec *a, const rec *b) { return brs__aud_cmp_rows(&a->e, a->text, &b->e, b->text); }

/* ---- the steps ---------------------------------------------------------------- */

/* A record of len bytes copied into x as it is. */
static int put_raw(brs__aud_spill *sp, xsort *x, const rec *r)
{
    if (room(sp, x, r->len))
        return -1;
    rec *d = (rec *)(x->buf + x->used);
    memcpy(d, r, r->len);
    x->used += r->len;
    x->ptr[x->n++] = d;
    x->recs++;
    return 0;
}

/* A fact about row e (strings str) into A: its key (str[key]) and OrderID,
 * or its time and anchor. */
static int fact(brs__aud_spill *sp, uint32_t tag, const aev *e, const char *const str[N_STR], int key)
{
    const char *v[3] = {str[0], str[key], tag == F_LINK ? str[1] : ""};
    size_t l[3], len = sizeof(frec) + 1;
    for (int i = 0; i < 3; i++) {
        l[i] = strlen(v[i]);
        len += l[i] ? l[i] + 1 : 0;
    }
    len = (len + 7) & ~(size_t)7;
    xsort *x = &sp->x[XA];
    if (room(sp, x, len))
        return -1;
    frec *f = (frec *)(void *)(x->buf + x->used);
    memset(f, 0, len);
    f->len = (uint32_t)len;
    f->tag = tag;
    f->n = e->n;
    if (tag == F_TIME) {
        f->t = e->t;
        f->anchor = e->anchor;
    }
    astr *dst[3] = {&f->session, &f->key, &f->order_id};
    size_t k = 1;
    for (int i = 0; i < 3; i++) {
        if (!l[i])
            continue;
        memcpy(f->text + k, v[i], l[i] + 1);
        *dst[i] = (astr)k;
        k += l[i] + 1;
    }
    x->used += len;
    x->ptr[x->n++] = (rec *)(void *)f;
    x->recs++;
    return 0;
}

/* Row e (strings str, the session final) and its facts into A. */
static int to_a(brs__aud_spill *sp, const aev *e, const char *const str[N_STR])
{
    int oid = str[1][0] != 0, cl = str[2][0] != 0, orig = str[3][0] != 0;
    if (oid && cl && fact(sp, F_LINK, e, str, 2))
        return -1;
    if (oid && orig && fact(sp, F_LINK, e, str, 3))
        return -1;
    if (e->rank == 2 && e->t && cl && fact(sp, F_TIME, e, str, 2))
        return -1;
    return put(sp, &sp->x[XA], F_ROW, e, str);
}

/* The readers' rows so far, handed on: WebSocket requests wait in W for their
 * account's name, the rest go to A. */
static int drain(audit *a)
{
    brs__aud_spill *sp = a->spill_ctx;
    if (a->oom) {
        brs__err(&sp->err, BRS_E_NOMEM, "out of memory keeping the text of %zu rows", a->n);
        a->spill_msg = sp->err.msg;
        return -1;
    }
    if (!sp->on) {
        sp->on = 1;
        BRS_LOG(BRS_LOG_INFO, "audit", "rows past the memory limit: sorting through temporary files",
                BRS_KV_U("rows", a->n0 + a->n), BRS_KV_U("held_bytes", brs__aud_held(a)),
                BRS_KV_U("mem_limit", sp->limit), BRS_KV_S("dir", sp->dir));
    }
    const char *text = a->text ? a->text : "";
    for (size_t i = 0; i < a->n; i++) {
        const aev *e = &a->ev[i];
        if (e->ws_acct > sp->ws_top)
            sp->ws_top = e->ws_acct;
        if (e->ws_acct && e->rank == 2 && e->ws_acct <= (1u << 24)) {
            if (e->ws_acct >= sp->ws_cap) {
                size_t c = sp->ws_cap ? sp->ws_cap : 16;
                while (c <= e->ws_acct)
                    c *= 2;
                char **q = realloc(sp->ws_name, c * sizeof *q);
                if (!q)
                    goto nomem;
                memset(q + sp->ws_cap, 0, (c - sp->ws_cap) * sizeof *q);
                sp->ws_name = q;
                sp->ws_cap = c;
            }
            if (!sp->ws_name[e->ws_acct] && !(sp->ws_name[e->ws_acct] = strdup(text + e->session)))
                goto nomem;
        }
        const char *str[N_STR];
        strs_of(e, text, str);
        int rc = e->ws_acct && e->rank == 0 ? put(sp, &sp->x[XW], F_ROW, e, str) : to_a(sp, e, str);
        if (rc) {
            a->spill_msg = sp->err.msg;
            return -1;
        }
    }
    a->n0 += a->n;
    /* start again small: the chunk, not the high-water mark, stays allocated */
    free(a->ev);
    free(a->text);
    free(a->intern);
    a->ev = NULL;
    a->text = NULL;
    a->intern = NULL;
    a->n = a->cap = a->text_len = a->text_cap = a->intern_cap = a->intern_n = 0;
    a->spill_at = sp->chunk;
    return 0;
nomem:
    brs__err(&sp->err, BRS_E_NOMEM, "out of memory");
    a->spill_msg = sp->err.msg;
    return -1;
}

/* The first facts of the (session, key) being read: a link (its OrderID), a time. */
typedef struct best {
    int has_link, has_time;
    char session[256], key[256], order_id[256];
    int64_t t;
    uint64_t anchor;
} best;

/* Is r of the (session, key) being read? If not, it starts the next one. */
static void best_at(best *b, int *any, const rec *r, int by_orig)
{
    const char *session = rec_session(r), *key = rec_key(r, by_orig);
    if (*any && !strcmp(b->session, session) && !strcmp(b->key, key))
        return;
    *any = 1;
    b->has_link = b->has_time = 0;
    snprintf(b->session, sizeof b->session, "%s", session);
    snprintf(b->key, sizeof b->key, "%s", key);
}

/* A: link by ClOrdID, time requests; on to B or C. */
static int step_a(brs__aud_spill *sp)
{
    reader rd;
    xsort *a = &sp->x[XA];
    if (read_open(sp, a, &rd))
        return -1;
    best b = {0};
    int any = 0;
    const rec *r;
    while ((r = read_next(sp, &rd))) {
        best_at(&b, &any, r, 0);
        if (r->tag == F_LINK) {
            if (!b.has_link) {
                b.has_link = 1;
                snprintf(b.order_id, sizeof b.order_id, "%s", FACT(r)->text + FACT(r)->order_id);
                /* the key's first link fact, for B (OrigClOrdID lookups) */
                if (put_raw(sp, &sp->x[XB], r))
                    return -1;
            }
            continue;
        }
        if (r->tag == F_TIME) {
            if (!b.has_time) {
                b.has_time = 1;
                b.t = FACT(r)->t;
                b.anchor = FACT(r)->anchor;
            }
            continue;
        }
        aev e = r->e;
        const char *oid = NULL;
        if (!e.order_id && e.clordid && b.has_link)
            oid = b.order_id;
        if (e.rank <= 1 && e.clordid && !e.ws_acct && b.has_time) {
            e.t = b.t;
            e.anchor = b.anchor;
        }
        int rc = !e.order_id && !oid && e.orig ? put_rec(sp, &sp->x[XB], r, &e, NULL)
                                               : put_rec(sp, &sp->x[XC], r, &e, oid);
        if (rc)
            return -1;
    }
    if (sp->err.msg[0])
        return -1;
    read_close(sp, a);
    return 0;
}

/* B: link by OrigClOrdID; on to C. */
static int step_b(brs__aud_spill *sp)
{
    reader rd;
    xsort *x = &sp->x[XB];
    if (read_open(sp, x, &rd))
        return -1;
    best b = {0};
    int any = 0;
    const rec *r;
    while ((r = read_next(sp, &rd))) {
        best_at(&b, &any, r, 1);
        if (r->tag == F_LINK) {
            if (!b.has_link) {
                b.has_link = 1;
                snprintf(b.order_id, sizeof b.order_id, "%s", FACT(r)->text + FACT(r)->order_id);
            }
            continue;
        }
        if (put_rec(sp, &sp->x[XC], r, &r->e, b.has_link ? b.order_id : NULL))
            return -1;
    }
    if (sp->err.msg[0])
        return -1;
    read_close(sp, x);
    return 0;
}

/* W: WebSocket requests get their account's name (brs__aud_ws_names), then A. */
static int step_w(brs__aud_spill *sp)
{
    reader rd;
    xsort *x = &sp->x[XW];
    if (read_open(sp, x, &rd))
        return -1;
    const rec *r;
    while ((r = read_next(sp, &rd))) {
        const char *name = sp->ws_top && sp->ws_top <= (1u << 24) && r->e.ws_acct < sp->ws_cap
                               ? sp->ws_name[r->e.ws_acct]
                               : NULL;
        const char *str[N_STR];
        strs_of(&r->e, r->text, str);
        if (name)
            str[0] = name;
        if (to_a(sp, &r->e, str))
            return -1;
    }
    if (sp->err.msg[0])
        return -1;
    read_close(sp, x);
    return 0;
}

/* C: the rows in output order, an order at a time. */
static int step_c(brs__aud_spill *sp, const brs__aud_filter *f, int json, FILE *o)
{
    reader rd;
    xsort *x = &sp->x[XC];
    if (read_open(sp, x, &rd))
        return -1;
    audit g = {0}; /* the order being gathered */
    int first_order = 1, rc = 0;
    brs__aud_print_head(json, o);
    const rec *r;
    for (;;) {
        r = read_next(sp, &rd);
        const char *gt = g.text ? g.text : "";
        if (g.n && (!r || !brs__aud_same_order(&g.ev[0], gt, &r->e, r->text))) {
            brs__aud_print_order(&g, 0, g.n, f, json, o, &first_order);
            g.n = 0;
            g.text_len = g.text ? 1 : 0;
            if (g.intern)
                memset(g.intern, 0, g.intern_cap * sizeof *g.intern);
            g.intern_n = 0;
        }
        if (!r)
            break;
        if (g.n == g.cap) {
            size_t c = g.cap ? 2 * g.cap : 64;
            aev *p = realloc(g.ev, c * sizeof *p);
            if (!p) {
                rc = fail(sp, "gathering an order's rows", ENOMEM);
                break;
            }
            g.ev = p;
            g.cap = c;
        }
        aev *e = &g.ev[g.n++];
        *e = r->e;
        for (int i = 0; i < N_STR; i++) {
            astr v = fget(&r->e, i);
            brs__aud_set(&g, fld(e, i), T(r, v), strlen(T(r, v)));
        }
        if (g.oom) {
            rc = fail(sp, "gathering an order's rows", ENOMEM);
            break;
        }
    }
    if (sp->err.msg[0])
        rc = -1;
    brs__aud_free(&g);
    read_close(sp, x);
    if (rc)
        return -1;
    if (brs__aud_print_tail(json, o) != 0)
        return 1;
    return 0;
}

/* ---- the interface ------------------------------------------------------------ */

brs__aud_spill *brs__aud_spill_new(audit *a, size_t limit, const char *dir)
{
    brs__aud_spill *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->a = a;
    sp->limit = limit;
    sp->budget = limit / 2;
    sp->chunk = limit / 8;
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    static const char *const names[NX] = {"websocket", "by_clordid", "by_orig_clordid", "output"};
    static const rec_cmp cmps[NX] = {cmp_n, cmp_a, cmp_b, cmp_c};
    for (int i = 0; i < NX; i++) {
        sp->x[i].name = names[i];
        sp->x[i].cmp = cmps[i];
    }
    a->spill = drain;
    a->spill_ctx = sp;
    a->spill_at = limit / 2;
    return sp;
}

int brs__aud_spilled(const brs__aud_spill *sp) { return sp && sp->on; }

int brs__aud_spill_print(brs__aud_spill *sp, const brs__aud_filter *f, int json, FILE *o, brs_error *err)
{
    int64_t t0 = brs__monotime_ns();
    if (sp->a->n && drain(sp->a)) {
        *err = sp->err;
        return -1;
    }
    if (step_w(sp) || step_a(sp) || step_b(sp)) {
        *err = sp->err;
        return -1;
    }
    int rc = step_c(sp, f, json, o);
    if (rc < 0) {
        *err = sp->err;
        return -1;
    }
    BRS_LOG(BRS_LOG_INFO, "audit", "done through temporary files", BRS_KV_U("rows", sp->a->n0),
            BRS_KV_U("runs", sp->runs), BRS_KV_U("spilled_bytes", sp->bytes),
            BRS_KV_U("peak_disk_bytes", sp->disk_peak), BRS_KV_S("dir", sp->dir), BRS_KV_F("seconds", (double)(brs__monotime_ns() - t0) / 1e9));
    if (rc) {
        brs__err(err, BRS_E_IO, "the output could not be written");
        return -1;
    }
    return 0;
}

void brs__aud_spill_free(brs__aud_spill *sp)
{
    if (!sp)
        return;
    for (int i = 0; i < NX; i++)
        read_close(sp, &sp->x[i]);
    for (size_t i = 0; i < sp->ws_cap; i++)
        free(sp->ws_name[i]);
    free(sp->ws_name);
    free(sp->wbuf);
    free(sp);
}
