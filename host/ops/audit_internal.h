/* audit_internal.h: what the two halves of `bourse audit` share: the rows
 * (one per order event) read from the journal, the session stores and the
 * archive (audit_read.c), then linked, sorted, filtered and printed
 * (audit.c). Internal to host/ops. */
#ifndef BRS_OPS_AUDIT_INTERNAL_H
#define BRS_OPS_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"
#include "fix/codec.h"

/* The journal's record types (docs/fix-gateway.md, "Journal records"). */
#define J_COMMIT 0x7ffffffdu
#define J_FIRST_SPECIAL 0x7fffffe0u /* records that are not a session's message */
#define J_CHILD 0x7fffffe2u
#define J_WS 0x7fffffe3u        /* u32 account, i64 clock, the request's JSON */
#define J_WS_REPORT 0x7fffffe5u /* u32 account, i64 time, u8 name length, name, the report's JSON */
#define CHILD_HDR 56u
#define J_RISK_REFUSED 0x80000000u
#define STORE_HDR 9

/* A string of a row: an offset into audit.text, where it ends with a NUL; 0
 * is "". Rows hold offsets, not arrays, so a row costs ~130 bytes plus its
 * text (short values such as sessions, symbols, sides, statuses, prices and
 * quantities are stored once): a day of millions of events fits in memory. */
typedef uint32_t astr;

typedef struct aev {
    int64_t t;      /* ns since the epoch, the gateway's clock */
    int64_t client_t; /* requests: the client's SendingTime */
    uint64_t n;     /* reading order, the last tie-break */
    uint64_t anchor; /* reports: n; requests: their answer's n (so a request sorts just before it) */
    const char *event;
    const char *source; /* "journal" or the store's file name */
    int32_t rank;       /* same time: requests before their answers */
    uint32_t ws_acct;   /* WebSocket rows: the account's index + 1, else 0 */
    uint32_t msg_seq;
    astr session;
    astr order_id; /* "" until linked */
    astr clordid, orig;
    astr side, symbol, qty, price, last_qty, last_px, cum, leaves;
    astr status, exec_id, venue, parent, child;
    astr reason;
} aev;

typedef struct audit {
    aev *ev;
    size_t n, cap;
    char *text; /* every row's strings (astr); text[0] is the empty string */
    size_t text_len, text_cap;
    uint32_t *intern; /* open addressing over short strings' offsets (0: free) */
    size_t intern_cap, intern_n;
    int oom; /* a string could not be kept: out of memory, or text past 4 GB; 2: a spill failed */
    brs__fix_msg *msg;
    uint64_t committed; /* last committed batch; UINT64_MAX: the journal has no COMMIT (all counts) */
    uint64_t cut_journal, cut_store; /* bytes past the commit, left out */
    /* the journal being read (fix/recfile.h): where its records start, and
     * the bytes after each (its checksum in a version 2 file) */
    size_t j_start, j_ov;
    char damage[512]; /* a store's refusal (brs__aud_read_store_bytes), "" none */
    char **names; /* the files events came from (their source column) */
    size_t n_names, cap_names;
    uint64_t n0; /* rows handed on already (audit_spill.c): the next row's n is n0 + n */
    /* Bounded memory (audit_spill.c): once the rows held take more than
     * spill_at bytes (brs__aud_held), the readers call spill between records;
     * it hands the rows on and empties them. Non-zero: it failed (spill_msg
     * says why) and the readers stop. NULL: everything stays in memory. */
    int (*spill)(struct audit *a);
    size_t spill_at;
    const char *spill_msg;
    void *spill_ctx;
} audit;

/* What the rows take in memory (their arrays as filled). */
static inline size_t brs__aud_held(const audit *a)
{
    return a->n * sizeof *a->ev + a->text_len + a->intern_cap * sizeof *a->intern;
}
/* Between records: hand the rows on when they take too much. 0, or -1 when
 * the spill failed (a->spill_msg). */
static inline int brs__aud_room(audit *a)
{
    if (!a->spill || brs__aud_held(a) <= a->spill_at)
        return 0;
    return a->spill(a) ? -1 : 0;
}

/* A row's string. */
static inline const char *brs__aud_s(const audit *a, astr s) { return a->text ? a->text + s : ""; }
/* Keep s[0, len) as *dst (cut at 255 bytes; a failure sets a->oom and keeps ""). */
void brs__aud_set(audit *a, astr *dst, const char *s, size_t len);
void brs__aud_setf(audit *a, astr *dst, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void brs__aud_free(audit *a);

/* A file mapped read-only (len 0: empty, p NULL); mm: by brs__aud_map_file
 * (pages read are dropped as the readers go), else bytes in memory. */
typedef struct mapped {
    const unsigned char *p;
    size_t len;
    int mm;
} mapped;

const char *brs__aud_keep_name(audit *a, const char *name);
int brs__aud_map_file(const char *path, mapped *mf, brs_error *err);
void brs__aud_unmap_file(mapped *mf);
/* The last committed batch and where the committed part of the journal
 * ends (*end), each record checked as a restart does: BRS_E_CORRUPT naming
 * `name` and the byte for damage. */
int brs__aud_journal_commit(audit *a, const mapped *j, const char *name, size_t *end, brs_error *err);
void brs__aud_ws_names(audit *a);
int brs__aud_read_journal(audit *a, const mapped *j, size_t end, brs_error *err);
int brs__aud_read_store(audit *a, const char *path, const char *name, int archived, brs_error *err);
/* The same over a store's bytes (name: the rows' source, kept by the caller).
 * A damaged store stops it with a->damage set. */
void brs__aud_read_store_bytes(audit *a, const mapped *s, const char *name, int archived);
int brs__aud_has_suffix(const char *s, const char *suf);
int brs__aud_read_archive(audit *a, const char *dir, brs_error *err);

/* audit.c: what the rows say, once read. */
typedef struct brs__aud_filter {
    const char *order, *clordid, *session; /* NULL: any */
    int64_t since, until;                  /* INT64_MIN, INT64_MAX: any time */
} brs__aud_filter;
/* Name the WebSocket accounts, link requests to their orders, time them by
 * their answers and sort: BRS_OK or BRS_E_NOMEM. */
int brs__aud_build(audit *a);
/* The orders f selects, as CSV rows or (json) one object per order; -1 when
 * the output could not be written. */
int brs__aud_print(const audit *a, const brs__aud_filter *f, int json, FILE *o);
/* The same in pieces, for rows that arrive sorted one order at a time
 * (audit_spill.c): the head, then each order's rows a->ev[i, k) (first_order
 * starts at 1), then the tail. */
void brs__aud_print_head(int json, FILE *o);
void brs__aud_print_order(const audit *a, size_t i, size_t k, const brs__aud_filter *f, int json, FILE *o,
                          int *first_order);
int brs__aud_print_tail(int json, FILE *o);
/* The output order of rows x and y whose strings are in tx and ty, and
 * whether they are one order's (brs__aud_build sorts and groups by these). */
int brs__aud_cmp_rows(const aev *x, const char *tx, const aev *y, const char *ty);
int brs__aud_same_order(const aev *x, const char *tx, const aev *y, const char *ty);

/* audit_spill.c: the same output in bounded memory. Rows past about
 * limit / 2 bytes are handed on from the readers in chunks, linked and sorted
 * through sorted runs in unlinked temporary files in dir (merged k ways), and
 * printed as they come out of the last merge: byte-identical to
 * brs__aud_build + brs__aud_print. */
typedef struct brs__aud_spill brs__aud_spill;
/* Set a up to spill past limit bytes (NULL: out of memory). */
brs__aud_spill *brs__aud_spill_new(audit *a, size_t limit, const char *dir);
/* Did the rows outgrow the in-memory path? */
int brs__aud_spilled(const brs__aud_spill *sp);
/* Link, sort and print what was read (only when brs__aud_spilled): 0, or -1
 * with err set (nothing printed unless the failure is in the output itself). */
int brs__aud_spill_print(brs__aud_spill *sp, const brs__aud_filter *f, int json, FILE *o, brs_error *err);
void brs__aud_spill_free(brs__aud_spill *sp);

#endif
