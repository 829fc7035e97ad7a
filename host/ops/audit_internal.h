/* audit_internal.h: what the two halves of `bourse audit` share: the rows
 * (one per order event) read from the journal, the session stores and the
 * archive (audit_read.c), then linked, sorted, filtered and printed
 * (audit.c). Internal to host/ops. */
#ifndef BRS_OPS_AUDIT_INTERNAL_H
#define BRS_OPS_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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

typedef struct aev {
    int64_t t;      /* ns since the epoch, the gateway's clock */
    int64_t client_t; /* requests: the client's SendingTime */
    int rank;       /* same time: requests before their answers */
    uint64_t n;     /* reading order, the last tie-break */
    uint64_t anchor; /* reports: n; requests: their answer's n (so a request sorts just before it) */
    char session[64];
    char order_id[24]; /* "" until linked */
    char clordid[48], orig[48];
    const char *event;
    char side[8], symbol[24], qty[24], price[24], last_qty[24], last_px[24], cum[24], leaves[24];
    char status[24], exec_id[24], venue[24], parent[72], child[24];
    char reason[160];
    const char *source; /* "journal" or the store's file name */
    uint32_t ws_acct;   /* WebSocket rows: the account's index + 1, else 0 */
    uint32_t msg_seq;
} aev;

typedef struct audit {
    aev *ev;
    size_t n, cap;
    brs__fix_msg *msg;
    uint64_t committed; /* last committed batch; UINT64_MAX: the journal has no COMMIT (all counts) */
    uint64_t cut_journal, cut_store; /* bytes past the commit, left out */
    char **names; /* the files events came from (their source column) */
    size_t n_names, cap_names;
} audit;

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
int brs__aud_has_suffix(const char *s, const char *suf);
int brs__aud_read_archive(audit *a, const char *dir, brs_error *err);

#endif
