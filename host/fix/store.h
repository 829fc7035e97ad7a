/* store.h: the persistent message store of one FIX session: every outbound
 * message (for ResendRequest) and the inbound sequence number, in an
 * append-only file, so a restarted gateway resumes both sequences exactly.
 * Writes are batched in memory and flushed (optionally fsync'd) before the
 * gateway puts bytes on the wire: the store is always ahead of the peer. Each
 * flush is tagged with the gateway's commit batch; the order journal's commit
 * record makes a batch count, and a batch the journal never committed is cut
 * off at start (brs__fix_store_rollback), so an inbound message is applied to
 * journal and stores together or not at all. */
#ifndef BRS_FIX_STORE_H
#define BRS_FIX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

enum brs__fix_fsync { BRS__FIX_FSYNC_NEVER = 0, BRS__FIX_FSYNC_BATCH = 1 };
/* Or'd into brs__fix_store_open's fsync_policy: the store belongs to a
 * gateway with an order journal, whose replay settles a record failing its
 * check with the committed batch (brs__fix_store_rollback); without it,
 * brs__fix_store_open settles it alone (the store is its own commit). */
#define BRS__FIX_STORE_JOURNALED 0x100

typedef struct brs__fix_store_rec {
    uint64_t off; /* of the message bytes in the file */
    uint32_t len;
} brs__fix_store_rec;

typedef struct brs__fix_store {
    int fd; /* -1: memory only (tests, benchmarks) */
    int fsync_policy;
    uint32_t next_out;  /* next outbound MsgSeqNum */
    uint32_t next_in;   /* next expected inbound MsgSeqNum */
    uint64_t file_len;  /* bytes in the file (flushed) */
    char *wbuf;         /* pending records */
    size_t wlen, wcap;
    brs__fix_store_rec *idx; /* idx[seq-1]: outbound message seq */
    uint32_t nidx, idxcap;
    char *mem;          /* memory-only mode: the "file" */
    size_t memlen, memcap;
    char *path;
    const uint64_t *batch; /* the gateway's batch now being built (NULL: untagged) */
    uint64_t t_batch;      /* the batch whose tag the file/buffer holds last */
    uint64_t max_batch;    /* highest batch tag found when loading */
    uint32_t c_next_out;   /* next_out as of the last commit */
    int err;               /* errno of the first failed write or sync (sticky), 0 none */
    int compact;           /* a reset ('Z') waits for its batch's commit to be compacted */
    uint64_t compact_from; /* file offset just after that 'Z' record */
    uint64_t compactions;  /* resets compacted (the old file archived) */
    int crc;               /* 1: a version 2 file (fix/recfile.h): a checksum after each record */
    int journaled;         /* BRS__FIX_STORE_JOURNALED */
    int hdr_pending;       /* a new file's header in wbuf, written with its first records */
    /* the first record failing its check, found by the load and not yet
     * settled (bad_at 0: none): where, its kind, the batch tag before it */
    uint64_t bad_at, bad_batch;
    unsigned char bad_kind;
    int bad_past_end;
    uint32_t bad_stored, bad_computed;
} brs__fix_store;

/* Open (creating) dir/name.store; path NULL for a memory-only store. On an
 * error (err says why: a damaged record, BRS_E_CORRUPT, names its byte)
 * nothing stays open or allocated. */
int brs__fix_store_open(brs__fix_store *st, const char *path, int fsync_policy, brs_error *err);
void brs__fix_store_close(brs__fix_store *st);
/* Append an outbound message with sequence number seq (== next_out). */
int brs__fix_store_out(brs__fix_store *st, uint32_t seq, const char *msg, size_t len);
/* Record that inbound messages up to next_in-1 are processed. */
int brs__fix_store_in(brs__fix_store *st, uint32_t next_in);
/* Both sequences back to 1, all stored messages dropped (ResetSeqNumFlag). */
int brs__fix_store_reset(brs__fix_store *st);
/* After the commit of the batch holding a reset: the file's records before
 * the reset move to STATE_DIR/archive/ (the whole old file, renamed) and the
 * live file keeps only what follows the reset, written to NAME.compact,
 * synced and renamed in place. A crash anywhere leaves the old file (the
 * reset replays from it) or the new one; brs__fix_store_open finishes or
 * drops a NAME.compact left behind. A memory-only store drops the bytes.
 * Does nothing without a pending reset. Failure keeps the old file (logged). */
void brs__fix_store_compact(brs__fix_store *st, int64_t now_ns);
/* Write pending records (and fdatasync under the batch policy). A failure is
 * also kept in st->err. */
int brs__fix_store_flush(brs__fix_store *st);
/* Cut off every batch after `committed` (written, never committed by the
 * journal: nothing of it reached the peer) and reload. *cut: bytes removed. */
int brs__fix_store_rollback(brs__fix_store *st, uint64_t committed, uint64_t *cut,
                            brs_error *err);
/* Copy stored outbound message seq into buf; returns its length, 0 when the
 * store does not hold it, < 0 on error. */
long brs__fix_store_get(brs__fix_store *st, uint32_t seq, char *buf, size_t cap);
/* Length of stored outbound message seq (0: not held). */
uint32_t brs__fix_store_len(const brs__fix_store *st, uint32_t seq);

#endif
