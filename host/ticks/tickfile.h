/* tickfile.h: the .ticks.zst tick file (docs/tick-format.md): writer, streaming
 * reader that hands out records straight from the decompressed block, seek by
 * time through the block index, and a k-way merge of several files.
 * Records are brs_market_event (api/bourse/types.h), 64 bytes little-endian. */
#ifndef BRS_TICKFILE_H
#define BRS_TICKFILE_H

#include <stdint.h>
#include <stdio.h>

#include <bourse/errors.h>
#include <bourse/types.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tick files are little-endian and records are used in place: port with byte swaps first"
#endif

/* ---- on-disk constants (docs/tick-format.md) ------------------------- */
#define BRS_TICK_MAGIC "BRSTICKS"     /* 8 bytes at offset 0 */
#define BRS_TICK_VERSION 3u          /* newest version written and read */
#define BRS_TICK_VERSION_RECORDS 1u  /* every block is 64-byte records (TBLK) */
#define BRS_TICK_VERSION_BARS 2u     /* adds compact bar blocks (TBAR) */
#define BRS_TICK_VERSION_EVENTS 3u   /* adds compact event blocks (TCOL) */
#define BRS_TICK_RECORD_SIZE 64u
#define BRS_TICK_FILE_HDR_SIZE 32u    /* fixed part; then instruments, then a CRC */
#define BRS_TICK_INSTR_SIZE 72u
#define BRS_TICK_BLOCK_MAGIC 0x4b4c4254u /* "TBLK": zstd frame of 64-byte records */
#define BRS_TICK_BARBLOCK_MAGIC 0x52414254u /* "TBAR": zstd frame of compact bars (version 2) */
#define BRS_BARBLOCK_COLUMNS 9
#define BRS_BARBLOCK_HDR_SIZE 104u   /* compact bar payload header, see barblock.c */
#define BRS_BARBLOCK_MAX_WIDTH 72u   /* 9 columns x at most 8 bytes a bar */
#define BRS_TICK_EVBLOCK_MAGIC 0x4c4f4354u /* "TCOL": zstd frame of compact events (version 3) */
#define BRS_EVBLOCK_COLUMNS 9
#define BRS_EVBLOCK_HDR_SIZE 136u    /* compact event payload header, see evblock.c */
#define BRS_EVBLOCK_MAX_META 256u    /* distinct (kind, side, flags) in one block */
#define BRS_EVBLOCK_MAX_WIDTH 61u    /* 8 + 8 + 4 + 1 + 5 x 8 bytes an event */
#define BRS_TICK_BLOCK_HDR_SIZE 40u
#define BRS_TICK_INDEX_MAGIC 0x58444954u /* "TIDX" */
#define BRS_TICK_INDEX_ENTRY_SIZE 32u
#define BRS_TICK_FOOTER_SIZE 32u
#define BRS_TICK_END_MAGIC "BRSTEND1"
#define BRS_TICK_MAX_INSTRUMENTS 65536u
#define BRS_TICK_MAX_BLOCK_RECORDS (1u << 20) /* 64 MiB decompressed, a sanity bound */

uint32_t brs__crc32c(uint32_t crc, const void *data, size_t len);

/* The compact bar block (barblock.c). eligible: n > 0 records, all BAR.
 * encode writes at most BRS_BARBLOCK_HDR_SIZE + n * BRS_BARBLOCK_MAX_WIDTH
 * bytes and returns the size. decode expands len payload bytes (8 more must be
 * readable after them) into n records bit-identical to the ones encoded; a
 * malformed payload gives BRS_E_CORRUPT and *why says what is wrong. */
int brs__barblock_eligible(const brs_market_event *ev, uint32_t n);
size_t brs__barblock_encode(const brs_market_event *ev, uint32_t n, unsigned char *out);
/* What decoding saw, so a consumer need not read the records again. */
typedef struct brs_barblock_stats {
    uint32_t max_instrument;
    int ordered;    /* ts_exchange never decreases inside the block */
    int local_late; /* some ts_local is after its ts_exchange */
    int has_local;  /* columns: some ts_local differs from ts (ts_local was written) */
    int plain;      /* columns: every bar's instrument, side and flags are 0 */
} brs_barblock_stats;
int brs__barblock_decode(const unsigned char *in, size_t len, uint32_t n, brs_market_event *dst,
                         brs_barblock_stats *st, const char **why);
/* The same block into columns (what brs_bar_columns points at): bar i's
 * fields at index i of each array. ts_local is written only when the block
 * stores a local time other than ts (st->has_local); instrument, side and
 * flags are not kept, st->plain says whether they were all 0. */
typedef struct brs_barblock_cols {
    int64_t *ts, *ts_local, *open, *high, *low, *close, *volume;
} brs_barblock_cols;
int brs__barblock_decode_columns(const unsigned char *in, size_t len, uint32_t n,
                                 const brs_barblock_cols *dst, brs_barblock_stats *st,
                                 const char **why);
/* Some columns at a time, for bars kept as payloads and decoded on demand
 * (the signal backtest's lazy bars): view checks a payload as decode does and
 * lays out its columns (it points into in, which must stay, with 8 readable
 * bytes past len); scan gives the stats alone (ordered, local_late,
 * has_local, plain; the first and last bar's ts) without writing a bar; fill writes only the non-NULL
 * arrays of dst (ts_local only when the block stores a local time:
 * has_local), each column one streaming pass; row_rest gives bar i's
 * ts_local, high, low and volume from its ts, open and close. Values are the
 * same bits decode and decode_columns give. */
typedef struct brs_barblock_view {
    const unsigned char *col[BRS_BARBLOCK_COLUMNS];
    uint64_t m[BRS_BARBLOCK_COLUMNS], base[BRS_BARBLOCK_COLUMNS];
    size_t w[BRS_BARBLOCK_COLUMNS];
    uint64_t ts0, close0; /* what the first bar's ts and open are deltas against */
    uint32_t n;
    int has_local;
} brs_barblock_view;
int brs__barblock_view(const unsigned char *in, size_t len, uint32_t n, brs_barblock_view *v,
                       const char **why);
void brs__barblock_scan(const brs_barblock_view *v, brs_barblock_stats *st, int64_t *first,
                        int64_t *last);
void brs__barblock_fill(const brs_barblock_view *v, const brs_barblock_cols *dst);
/* Bar i's open from the close before it (v->close0 for i = 0): no chain is
 * walked. ts_regular: 1 when every ts delta of the block is the same (a
 * column of width 0), bar i's ts then first + i x step (wrapping, the bits
 * the decoder gives). */
int64_t brs__barblock_row_open(const brs_barblock_view *v, uint32_t i, int64_t prev_close);
int brs__barblock_ts_regular(const brs_barblock_view *v, uint64_t *first, uint64_t *step);
void brs__barblock_row_rest(const brs_barblock_view *v, uint32_t i, int64_t ts, int64_t open,
                            int64_t close, int64_t *ts_local, int64_t *high, int64_t *low,
                            int64_t *volume);

/* The compact event block (evblock.c), for n > 0 records with at most 256
 * distinct (kind, side, flags). encode writes at most
 * BRS_EVBLOCK_HDR_SIZE + 4 x 256 + n x BRS_EVBLOCK_MAX_WIDTH bytes and returns
 * the size (0: more kinds than that, or out of memory: write 64-byte
 * records). decode
 * expands len payload bytes (8 more readable after them) into n records
 * bit-identical to the ones encoded; a malformed payload gives BRS_E_CORRUPT
 * and *why says what is wrong. */
size_t brs__evblock_encode(const brs_market_event *ev, uint32_t n, unsigned char *out);
int brs__evblock_decode(const unsigned char *in, size_t len, uint32_t n, brs_market_event *dst,
                        const char **why);

/* Names of event kinds ("add", "cancel", ...) and back; -1 when unknown. */
const char *brs__mev_kind_name(int kind);
int brs__mev_kind_parse(const char *name);

/* ---- writer ----------------------------------------------------------- */

typedef struct brs_tick_writer_opts {
    uint32_t block_records; /* records per block; 0 = 16384 (1 MiB) */
    int level;              /* zstd level; 0 = 3 */
    int atomic;             /* write to a temporary and rename on close (imports) */
    int sync;               /* fdatasync after each block (live recording) */
    int plain_bars;         /* write bar blocks as 64-byte records too (a version 1 file) */
    int plain_events;       /* write other blocks as 64-byte records too (no version 3) */
} brs_tick_writer_opts;

typedef struct brs_tick_block_info {
    uint64_t offset;  /* of the block header */
    int64_t first_ts; /* smallest ts_exchange in the block */
    int64_t last_ts;  /* largest ts_exchange in the block */
    uint32_t count;
    uint32_t csize;   /* compressed frame size */
} brs_tick_block_info;

/* Scratch for decoding blocks: one per thread that decodes. */
typedef struct brs_tick_decoder {
    void *dctx;
    unsigned char *cbuf; /* block header + frame as read */
    size_t cbuf_cap;
    unsigned char *ubuf; /* a compact block's payload (+ 8 bytes of slack) */
    size_t ubuf_cap;
    int compact;         /* the last block decoded was a compact bar block: */
    brs_barblock_stats stats; /* what its decoding saw */
} brs_tick_decoder;

typedef struct brs_tick_writer brs_tick_writer;

/* Create path and write the header with the instrument table. Each finished
 * block is written whole and flushed, so a crash loses at most the block in
 * progress; close writes the last block, the index and the footer. */
int brs__tick_writer_open(brs_tick_writer **w, const char *path, const brs_instrument *instr,
                          uint32_t n_instr, const brs_tick_writer_opts *opts, brs_error *err);
int brs__tick_writer_add(brs_tick_writer *w, const brs_market_event *ev, brs_error *err);
/* Write the block in progress now (even if short). */
int brs__tick_writer_flush(brs_tick_writer *w, brs_error *err);
int brs__tick_writer_close(brs_tick_writer *w, brs_error *err);
/* Discard: removes the temporary when atomic; frees w. */
void brs__tick_writer_abort(brs_tick_writer *w);
uint64_t brs__tick_writer_count(const brs_tick_writer *w);

/* ---- reader ----------------------------------------------------------- */

typedef struct brs_tick_reader {
    /* public, read-only */
    const char *path;
    uint32_t version;
    uint32_t n_instr;
    brs_instrument *instr;
    uint32_t n_blocks;
    brs_tick_block_info *blocks;
    uint64_t n_events;    /* sum over the blocks that are readable */
    uint64_t file_size;
    uint64_t data_end;    /* offset just past the last complete block */
    int cut;              /* no valid footer: file was cut off; blocks found by scanning */
    char cut_msg[256];    /* what the scan found at data_end */
    /* iteration state */
    const brs_market_event *cur, *end;
    uint32_t next_block;
    /* private */
    int fd;
    brs_tick_decoder dec;
    brs_market_event *dbuf;
    size_t dbuf_cap;
    brs_error iter_err;
    struct brs_tick_ahead *ahead; /* read-ahead thread, when started */
} brs_tick_reader;

/* Open and validate header and footer/index. A file without a valid footer is
 * scanned forward: r->cut is set and the readable blocks are those before the
 * first incomplete or damaged one. */
int brs__tick_open(brs_tick_reader *r, const char *path, brs_error *err);
void brs__tick_close(brs_tick_reader *r);
/* The smallest exchange time of the file (its block index), INT64_MIN when it
 * has no readable block: where a run of it starts its strategies' clock. */
int64_t brs__tick_first_ts(const brs_tick_reader *r);
/* Decode the following blocks on a second thread while the caller reads the
 * current one (replay speed on a multi-core machine). Sequential reading only:
 * seek and load_block stop it. The reader itself stays single-consumer. */
int brs__tick_readahead(brs_tick_reader *r, brs_error *err);
/* Which side of the read-ahead waited for the other (BOURSE_BT_TIMING): the
 * consumer for a block not decoded yet (the run is bound by decoding), the
 * decoder for a free slot (bound by the consumer); the clocks are read only
 * around a wait, never per event. decoder_cpu_ns: the thread's CPU time,
 * taken once when it decoded its last block (0 before). 0 when no
 * read-ahead runs (*out zeroed), else 1. */
typedef struct brs_tick_ahead_stats {
    uint64_t blocks;       /* handed to the consumer */
    uint64_t loop_waits;   /* the consumer found its next block not ready */
    int64_t loop_wait_ns;
    uint64_t decoder_waits; /* the decoder found no free slot */
    int64_t decoder_wait_ns;
    int64_t decoder_cpu_ns;
} brs_tick_ahead_stats;
int brs__tick_ahead_stats(brs_tick_reader *r, brs_tick_ahead_stats *out);

/* Position before the first record with ts_exchange >= ts (in file order,
 * starting from the first block whose largest time is >= ts). */
int brs__tick_seek(brs_tick_reader *r, int64_t ts, brs_error *err);
/* Load block i (0-based); iteration continues from its first record. */
int brs__tick_load_block(brs_tick_reader *r, uint32_t i, brs_error *err);

int brs__tick_next_block_(brs_tick_reader *r);
/* Stop the read-ahead thread, if any, and free its slots (readahead.c). */
void brs__tick_stop_ahead(brs_tick_reader *r);
/* Make *buf hold count records (64-byte aligned), reallocating when *cap is
 * too small (reader.c). */
int brs__tick_reader_dbuf(brs_market_event **buf, size_t *cap, uint32_t count, brs_error *err);

/* Decode block i into dst (room for blocks[i].count records) with scratch d.
 * Touches nothing else in r (pread only), so threads with their own decoders
 * may decode different blocks of one open reader at once. */
int brs__tick_decode_block(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i,
                           brs_market_event *dst, brs_error *err);
/* Block i into columns when it is a compact bar block: 1 when done (d->stats
 * says what it saw), 0 when the block is not one (nothing written), or an
 * error. dst's arrays are at the block's first bar. */
int brs__tick_decode_block_columns(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i,
                                   const brs_barblock_cols *dst, brs_error *err);
/* Block i's compact bar payload as stored (decompressed, not decoded) into
 * out, which has room for BRS_BARBLOCK_HDR_SIZE + count x
 * BRS_BARBLOCK_MAX_WIDTH + 8 bytes: 1 with *usize (8 zero bytes written
 * after it), 0 when the block is not a compact bar block (nothing written),
 * or an error. */
int brs__tick_inflate_bars(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i,
                           unsigned char *out, size_t *usize, brs_error *err);
void brs__tick_decoder_free(brs_tick_decoder *d);

/* The next record, or NULL at the end (check r->iter_err.code: BRS_OK at a
 * clean end, else the error with the damaged block's offset). The pointer is
 * into the decompressed block and valid until the next call. */
static inline const brs_market_event *brs__tick_next(brs_tick_reader *r)
{
    if (__builtin_expect(r->cur < r->end, 1))
        return r->cur++;
    if (brs__tick_next_block_(r) <= 0)
        return NULL;
    return r->cur++;
}

/* Verify everything: header, every block's header, frame and checksum, the
 * index against the blocks, the footer. Returns BRS_OK for an intact file;
 * err names the first damage and its offset. *blocks_ok gets the number of
 * good blocks before it. */
int brs__tick_verify(const char *path, uint32_t *blocks_ok, uint64_t *events, brs_error *err);
/* The same, and with check_order also the order of time: within an
 * instrument an event before the previous one on both clocks (ts_exchange and
 * ts_local) is damage ("times go backwards"; one clock alone may go back: a
 * recording's streams interleave their exchange times, a generated feed
 * jitters its local times). l3 (optional) counts events naming orders not in
 * the book (l3check.h): not damage (a LOBSTER import without its orderbook
 * file names orders older than the file), but a partial L3 stream. */
struct brs_l3check;
int brs__tick_verify_full(const char *path, uint32_t *blocks_ok, uint64_t *events, int check_order,
                          struct brs_l3check *l3, brs_error *err);

/* ---- merge ------------------------------------------------------------ */

/* Merge of several open readers by ts_exchange; ties go to the lower source
 * index, then file order, so the output is deterministic. */
typedef struct brs_tick_merge {
    brs_tick_reader **src;
    uint32_t n;
    uint32_t *heap;         /* source indexes, min-heap on (ts, source) */
    uint32_t heap_n;
    int pending;            /* the top source still has to advance */
    const brs_market_event **head;
    brs_error err;
} brs_tick_merge;

int brs__tick_merge_init(brs_tick_merge *m, brs_tick_reader **src, uint32_t n, brs_error *err);
/* Next event in time order or NULL at the end (m->err.code says why); *source
 * gets the index of the reader it came from (its instrument table applies). */
const brs_market_event *brs__tick_merge_next(brs_tick_merge *m, uint32_t *source);
void brs__tick_merge_free(brs_tick_merge *m);

#endif
