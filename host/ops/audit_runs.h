/* audit_runs.h: the external sort under `bourse audit --mem-limit`
 * (audit_runs.c): sorters that hold records up to a shared budget, write them
 * sorted as runs to unnamed temporary files, and read them back merged k ways.
 * The records are audit_spill.c's rows and facts. Internal to host/ops. */
#ifndef BRS_OPS_AUDIT_RUNS_H
#define BRS_OPS_AUDIT_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "ops/audit_internal.h"

enum { F_LINK = 0, F_TIME = 1, F_ROW = 2 }; /* facts sort before the rows of their key */

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

typedef int (*rec_cmp)(const rec *, const rec *);

typedef struct run {
    int fd; /* unnamed: only this descriptor names it */
    uint64_t recs, bytes;
} run;

typedef struct cursor {
    int fd;
    uint64_t off, end; /* read so far, the run's size */
    char *buf;         /* RUN_BUF bytes: records from pos to len */
    size_t pos, len;
    rec *r; /* the current record, in buf */
} cursor;

typedef struct xsort {
    const char *name; /* in the log */
    rec_cmp cmp;      /* ties must not happen: a run's order is qsort's */
    char *buf;        /* records, back to back */
    size_t used, cap;
    rec **ptr;
    size_t n, pcap;
    run *runs;
    size_t nruns, capruns;
    uint64_t recs;
    /* reading back */
    cursor *cur;
    size_t ncur, *heap, nheap;
} xsort;

/* The sorters sharing one budget and one spill directory. */
typedef struct brs__aud_runs {
    xsort *x;
    int nx;
    size_t budget, held; /* what the sorters hold together; past budget the largest spills */
    char dir[4096];
    uint64_t runs, bytes;     /* runs written, bytes written */
    uint64_t disk, disk_peak; /* bytes in runs now, at most */
    brs_error err;            /* the first failure */
    char *wbuf;               /* WR_BUF bytes */
    size_t wlen;
} brs__aud_runs;

/* Reading a sorter back. */
typedef struct reader {
    xsort *x;
    int pending;
} reader;

/* Record the failure (the first one is kept: "audit spill in DIR: what:
 * strerror(e)"); -1. */
int brs__aud_runs_fail(brs__aud_runs *sp, const char *what, int e);
/* len bytes (a multiple of 8) for a new record in x, counted in x: the
 * caller fills them. NULL on a failure (sp->err). */
rec *brs__aud_runs_alloc(brs__aud_runs *sp, xsort *x, size_t len);
/* Read x back in order: 0, or -1 (sp->err). */
int brs__aud_runs_open(brs__aud_runs *sp, xsort *x, reader *rd);
/* The next record (valid until the next call), NULL at the end or on a
 * failure (sp->err.msg set). */
const rec *brs__aud_runs_next(brs__aud_runs *sp, reader *rd);
/* Done with x: its memory and runs. */
void brs__aud_runs_close(brs__aud_runs *sp, xsort *x);
void brs__aud_runs_free(brs__aud_runs *sp);

#endif
