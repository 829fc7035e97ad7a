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
    int oom; /* a string could not be kept: out of memory, or text past 4 GB */
    brs__fix_msg *msg;
    uint64_t committed; /* last committed batch; UINT64_MAX: the journal has no COMMIT (all counts) */
    uint64_t cut_journal, cut_store; /* bytes past the commit, left out */
    char **names; /* the files events came from (their source column) */
    size_t n_names, cap_names;
} audit;

/* A row's string. */
static inline const char *brs__aud_s(const audit *a, astr s) { return a->text ? a->text + s : ""; }
/* Keep s[0, len) as *dst (cut at 255 bytes; a failure sets a->oom and keeps ""). */
void brs__aud_set(audit *a, astr *dst, const char *s, size_t len);
void brs__aud_setf(audit *a, astr *dst, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void brs__aud_free(audit *a);

/* A file mapped read-only (len 0: empty, p NULL). */
typedef struct mapped {
    const unsigned char *p;
    size_t len;
} mapped;

const char *brs__aud_keep_name(audit *a, const char *name);
int brs__aud_map_file(const char *path, mapped *mf, brs_error *err);
void brs__aud_unmap_file(mapped *mf);
size_t brs__aud_journal_commit(audit *a, const mapped *j);
void brs__aud_ws_names(audit *a);
int brs__aud_read_journal(audit *a, const mapped *j, size_t end, brs_error *err);
int brs__aud_read_store(audit *a, const char *path, const char *name, int archived, brs_error *err);
/* The same over a store's bytes (name: the rows' source, kept by the caller). */
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

#endif
