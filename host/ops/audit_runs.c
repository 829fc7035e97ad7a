/* audit_runs.c: the external sort under `bourse audit --mem-limit`
 * (audit_runs.h). Sorters hold records (length first, a multiple of 8 bytes)
 * in one buffer each; while they hold more than the budget together, the
 * largest is sorted (qsort of pointers) and written as a run to an unnamed
 * temporary file (brs__temp_fd: O_TMPFILE, or mkstemp unlinked at once), so
 * a run never outlives the process, whatever ends it. Reading a sorter back
 * writes what it still holds as a run too and merges the runs through a heap,
 * FAN_IN at a time (more are merged into one in passes first; a sorter that
 * reaches 2 * FAN_IN runs while filling is merged down then, which bounds the
 * descriptors open). Errors name the directory and stop everything: a run is
 * never cut short silently. */
#include "ops/audit_runs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"

#define FAN_IN 64           /* runs merged at once; more are merged in passes */
#define RUN_BUF (64u << 10) /* a run's read buffer while it is merged (a record is < 5 KB) */
#define WR_BUF (1u << 20)   /* the one write buffer */

static int merge_front(brs__aud_runs *sp, xsort *x);


static rec_cmp g_cmp; /* qsort has no context argument */

static int cmp_ptr(const void *pa, const void *pb) { return g_cmp(*(rec *const *)pa, *(rec *const *)pb); }

int brs__aud_runs_fail(brs__aud_runs *sp, const char *what, int e)
{
    if (!sp->err.msg[0])
        brs__err(&sp->err, BRS_E_IO, "audit spill in %s: %s: %s", sp->dir, what, strerror(e));
    return -1;
}

static void free_buf(brs__aud_runs *sp, xsort *x)
{
    sp->held -= x->cap + x->pcap * sizeof *x->ptr;
    free(x->buf);
    free(x->ptr);
    x->buf = NULL;
    x->ptr = NULL;
    x->used = x->cap = x->n = x->pcap = 0;
}

static void on_disk(brs__aud_runs *sp, int64_t d)
{
    sp->disk += (uint64_t)d;
    if (sp->disk > sp->disk_peak)
        sp->disk_peak = sp->disk;
}

/* Buffered writes of one run at a time. */
static int wr_flush(brs__aud_runs *sp, int fd)
{
    for (size_t k = 0; k < sp->wlen;) {
        ssize_t w = write(fd, sp->wbuf + k, sp->wlen - k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return brs__aud_runs_fail(sp, "write failed", w < 0 ? errno : ENOSPC);
        k += (size_t)w;
    }
    sp->wlen = 0;
    return 0;
}

static int wr(brs__aud_runs *sp, int fd, const rec *r)
{
    if (sp->wlen + r->len > WR_BUF && wr_flush(sp, fd))
        return -1;
    memcpy(sp->wbuf + sp->wlen, r, r->len);
    sp->wlen += r->len;
    return 0;
}

/* A new run of x, its descriptor (-1: sp->err says why). */
static int run_new(brs__aud_runs *sp, xsort *x)
{
    if (x->nruns == x->capruns) {
        size_t c = x->capruns ? 2 * x->capruns : 16;
        run *r = realloc(x->runs, c * sizeof *r);
        if (!r)
            return brs__aud_runs_fail(sp, "keeping a run", ENOMEM);
        x->runs = r;
        x->capruns = c;
    }
    if (!sp->wbuf && !(sp->wbuf = malloc(WR_BUF)))
        return brs__aud_runs_fail(sp, "a write buffer", ENOMEM);
    int fd = brs__temp_fd(sp->dir, "bourse-audit");
    if (fd < 0)
        return brs__aud_runs_fail(sp, "cannot create a temporary file", errno);
    sp->wlen = 0;
    return fd;
}

/* Sort what x holds and write it as a run. */
static int spill_run(brs__aud_runs *sp, xsort *x)
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
static int room(brs__aud_runs *sp, xsort *x, size_t len)
{
    while (sp->held + len + 2 * sizeof(rec *) > sp->budget) {
        xsort *big = NULL;
        for (int i = 0; i < sp->nx; i++)
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
            return brs__aud_runs_fail(sp, "keeping rows", ENOMEM);
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
            return brs__aud_runs_fail(sp, "keeping rows", ENOMEM);
        sp->held += (c - x->pcap) * sizeof *p;
        x->ptr = p;
        x->pcap = c;
    }
    return 0;
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
static int cur_fill(brs__aud_runs *sp, cursor *c, size_t need)
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
            return brs__aud_runs_fail(sp, "read failed", r < 0 ? errno : EIO);
        c->len += (size_t)r;
        c->off += (uint64_t)r;
    }
    return c->len >= need;
}

/* The next record of cursor c: 1, 0 at its end, -1 on an error. */
static int cur_read(brs__aud_runs *sp, cursor *c)
{
    int r = cur_fill(sp, c, sizeof(uint32_t));
    if (r <= 0)
        return r < 0 || c->len == 0 ? r : brs__aud_runs_fail(sp, "a run is damaged", EIO);
    uint32_t len;
    memcpy(&len, c->buf + c->pos, sizeof len);
    if (len < sizeof(frec) + 1 || len > RUN_BUF || len % 8)
        return brs__aud_runs_fail(sp, "a run is damaged", EIO);
    if ((r = cur_fill(sp, c, len)) <= 0)
        return r < 0 ? r : brs__aud_runs_fail(sp, "a run is damaged", EIO);
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
static int merge_open(brs__aud_runs *sp, xsort *x, size_t first, size_t n)
{
    x->cur = calloc(n, sizeof *x->cur);
    x->heap = calloc(n, sizeof *x->heap);
    if (!x->cur || !x->heap)
        return brs__aud_runs_fail(sp, "merging runs", ENOMEM);
    x->ncur = n;
    for (size_t i = 0; i < n; i++) {
        cursor *c = &x->cur[i];
        c->fd = x->runs[first + i].fd;
        c->end = x->runs[first + i].bytes;
        if (!(c->buf = malloc(RUN_BUF)))
            return brs__aud_runs_fail(sp, "merging runs", ENOMEM);
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
static const rec *merge_next(brs__aud_runs *sp, xsort *x, int *pending)
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
static int merge_front(brs__aud_runs *sp, xsort *x)
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
int brs__aud_runs_open(brs__aud_runs *sp, xsort *x, reader *rd)
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
const rec *brs__aud_runs_next(brs__aud_runs *sp, reader *rd)
{
    return merge_next(sp, rd->x, &rd->pending);
}

/* Done with x: its memory and runs. */
void brs__aud_runs_close(brs__aud_runs *sp, xsort *x)
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

rec *brs__aud_runs_alloc(brs__aud_runs *sp, xsort *x, size_t len)
{
    if (room(sp, x, len))
        return NULL;
    rec *r = (rec *)(void *)(x->buf + x->used);
    x->used += len;
    x->ptr[x->n++] = r;
    x->recs++;
    return r;
}

void brs__aud_runs_free(brs__aud_runs *sp)
{
    for (int i = 0; i < sp->nx; i++)
        brs__aud_runs_close(sp, &sp->x[i]);
    free(sp->wbuf);
    sp->wbuf = NULL;
}
