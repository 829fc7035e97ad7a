/* writer.c: writes .ticks.zst files. Records collect in a block buffer; a full
 * block becomes one zstd frame (with content checksum) behind a small header,
 * written and flushed whole, so a crash loses at most the block in progress and
 * readers can always scan the complete blocks. Close appends index and footer.
 * A block of nothing but bars is written in the compact bar encoding (TBAR,
 * barblock.c), any other in the compact event encoding (TCOL, evblock.c); the
 * file header says version 2 or 3 (rewritten in place before the first block
 * that needs it), so a file of 64-byte records only stays a version 1 file. */
#include "tickfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "core/core.h"
#include "le.h"

struct brs_tick_writer {
    FILE *fp;
    brs_atomic_file af;
    int atomic, sync, plain_bars, plain_events;
    char *path;
    unsigned char *hdr; /* the file header as written, for the version rewrite */
    size_t hdr_size;
    uint32_t version;    /* what the header says now */
    unsigned char *ubuf; /* a compact bar or event payload */
    ZSTD_CCtx *cctx;
    brs_market_event *buf;
    uint32_t cap, n;
    int64_t min_ts, max_ts;
    unsigned char *cbuf;
    size_t cbuf_cap;
    uint64_t offset; /* where the next block goes */
    uint64_t events;
    brs_tick_block_info *blocks;
    uint32_t n_blocks, blocks_cap;
    int failed;
};

static int write_all(brs_tick_writer *w, const void *p, size_t n, brs_error *err)
{
    if (n && fwrite(p, 1, n, w->fp) != n) {
        w->failed = 1;
        return brs__err(err, BRS_E_IO, "%s: write failed: %s", w->path, strerror(errno));
    }
    w->offset += n;
    return BRS_OK;
}

static int flush_out(brs_tick_writer *w, brs_error *err)
{
    if (fflush(w->fp) != 0 || (w->sync && fdatasync(fileno(w->fp)) != 0)) {
        w->failed = 1;
        return brs__err(err, BRS_E_IO, "%s: flush failed: %s", w->path, strerror(errno));
    }
    return BRS_OK;
}

int brs__tick_writer_open(brs_tick_writer **out, const char *path, const brs_instrument *instr,
                          uint32_t n_instr, const brs_tick_writer_opts *opts, brs_error *err)
{
    *out = NULL;
    brs_tick_writer_opts o = opts ? *opts : (brs_tick_writer_opts){0};
    if (!o.block_records)
        o.block_records = 16384;
    if (!o.level)
        o.level = 3;
    if (o.block_records > BRS_TICK_MAX_BLOCK_RECORDS)
        return brs__err(err, BRS_E_RANGE, "block size %u records exceeds the maximum %u",
                        o.block_records, BRS_TICK_MAX_BLOCK_RECORDS);
    if (n_instr > BRS_TICK_MAX_INSTRUMENTS)
        return brs__err(err, BRS_E_RANGE, "%u instruments exceed the maximum %u", n_instr,
                        BRS_TICK_MAX_INSTRUMENTS);
    brs_tick_writer *w = calloc(1, sizeof *w);
    if (!w)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    w->atomic = o.atomic;
    w->sync = o.sync;
    w->plain_bars = o.plain_bars;
    w->plain_events = o.plain_events;
    w->version = BRS_TICK_VERSION_RECORDS;
    w->cap = o.block_records;
    w->path = strdup(path);
    w->buf = malloc((size_t)w->cap * sizeof *w->buf);
    size_t ucap = BRS_BARBLOCK_HDR_SIZE + (size_t)w->cap * BRS_BARBLOCK_MAX_WIDTH;
    size_t ecap = BRS_EVBLOCK_HDR_SIZE + 4 * BRS_EVBLOCK_MAX_META + (size_t)w->cap * BRS_EVBLOCK_MAX_WIDTH;
    ucap = ecap > ucap ? ecap : ucap;
    int compact = !w->plain_bars || !w->plain_events;
    w->ubuf = compact ? malloc(ucap) : NULL;
    w->cbuf_cap = ZSTD_compressBound(ucap);
    w->cbuf = malloc(w->cbuf_cap);
    w->cctx = ZSTD_createCCtx();
    if (!w->path || !w->buf || !w->cbuf || !w->cctx || (compact && !w->ubuf)) {
        brs__tick_writer_abort(w);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, o.level);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
    if (w->atomic) {
        int rc = brs__atomic_open(&w->af, path, err);
        if (rc) {
            free(w->af.path);
            w->af.path = NULL;
            w->atomic = 0;
            brs__tick_writer_abort(w);
            return rc;
        }
        w->fp = w->af.fp;
    } else {
        w->fp = fopen(path, "wb");
        if (!w->fp) {
            int rc = brs__err(err, BRS_E_IO, "%s: cannot create: %s", path, strerror(errno));
            brs__tick_writer_abort(w);
            return rc;
        }
    }
    size_t hsz = BRS_TICK_FILE_HDR_SIZE + (size_t)n_instr * BRS_TICK_INSTR_SIZE + 8;
    unsigned char *h = calloc(1, hsz);
    if (!h) {
        brs__tick_writer_abort(w);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    memcpy(h, BRS_TICK_MAGIC, 8);
    brs__put32(h + 8, BRS_TICK_VERSION_RECORDS);
    brs__put32(h + 12, (uint32_t)hsz);
    brs__put32(h + 16, BRS_TICK_RECORD_SIZE);
    brs__put32(h + 20, n_instr);
    brs__put32(h + 24, w->cap);
    for (uint32_t i = 0; i < n_instr; i++) {
        unsigned char *p = h + BRS_TICK_FILE_HDR_SIZE + (size_t)i * BRS_TICK_INSTR_SIZE;
        brs__put32(p, i);
        size_t sl = strnlen(instr[i].symbol, BRS_SYMBOL_MAX - 1);
        memcpy(p + 8, instr[i].symbol, sl);
        brs__put64(p + 40, (uint64_t)instr[i].price_scale);
        brs__put64(p + 48, (uint64_t)instr[i].tick_size);
        brs__put64(p + 56, (uint64_t)instr[i].lot_size);
        brs__put64(p + 64, (uint64_t)instr[i].min_qty);
    }
    brs__put32(h + hsz - 8, brs__crc32c(0, h, hsz - 8));
    int rc = write_all(w, h, hsz, err);
    w->hdr = h;
    w->hdr_size = hsz;
    if (!rc)
        rc = flush_out(w, err);
    if (rc) {
        brs__tick_writer_abort(w);
        return rc;
    }
    *out = w;
    return BRS_OK;
}

/* Before the first compact block of a kind the header's version does not
 * cover: the header says version 2 (compact bars) or 3 (compact events) from
 * now on (an older reader then refuses the file up front instead of tripping
 * over an unknown block magic in the middle). Returns 1 when the header now
 * says `version`, 0 when it cannot (a pipe: write 64-byte records). */
static int upgrade_header(brs_tick_writer *w, uint32_t version, brs_error *err)
{
    if (version <= w->version)
        return 1;
    if (lseek(fileno(w->fp), 0, SEEK_CUR) < 0 && errno == ESPIPE) {
        /* a pipe cannot take the rewrite: the file keeps its version, its
         * blocks stay 64-byte records (bigger, readable everywhere) */
        w->plain_bars = w->plain_events = 1;
        return 0;
    }
    brs__put32(w->hdr + 8, version);
    brs__put32(w->hdr + w->hdr_size - 8, brs__crc32c(0, w->hdr, w->hdr_size - 8));
    int rc = flush_out(w, err);
    if (rc)
        return rc;
    if (pwrite(fileno(w->fp), w->hdr, w->hdr_size, 0) != (ssize_t)w->hdr_size) {
        w->failed = 1;
        return brs__err(err, BRS_E_IO, "%s: header rewrite failed: %s", w->path, strerror(errno));
    }
    w->version = version;
    return 1;
}

int brs__tick_writer_flush(brs_tick_writer *w, brs_error *err)
{
    if (w->failed)
        return brs__err(err, BRS_E_STATE, "%s: writer failed earlier", w->path);
    if (w->n == 0)
        return BRS_OK;
    const void *src = w->buf;
    size_t usize = (size_t)w->n * BRS_TICK_RECORD_SIZE;
    uint32_t magic = BRS_TICK_BLOCK_MAGIC, version = 0;
    size_t csz = 0;
    if (!w->plain_bars && brs__barblock_eligible(w->buf, w->n)) {
        csz = brs__barblock_encode(w->buf, w->n, w->ubuf);
        magic = BRS_TICK_BARBLOCK_MAGIC;
        version = BRS_TICK_VERSION_BARS;
    } else if (!w->plain_events && (csz = brs__evblock_encode(w->buf, w->n, w->ubuf)) > 0) {
        magic = BRS_TICK_EVBLOCK_MAGIC;
        version = BRS_TICK_VERSION_EVENTS;
    }
    if (csz) {
        int rc = upgrade_header(w, version, err);
        if (rc < 0)
            return rc;
        if (rc) {
            usize = csz;
            src = w->ubuf;
        } else {
            magic = BRS_TICK_BLOCK_MAGIC;
        }
    }
    size_t csize = ZSTD_compress2(w->cctx, w->cbuf, w->cbuf_cap, src, usize);
    if (ZSTD_isError(csize)) {
        w->failed = 1;
        return brs__err(err, BRS_E_IO, "%s: zstd: %s", w->path, ZSTD_getErrorName(csize));
    }
    if (w->n_blocks == w->blocks_cap) {
        uint32_t nc = w->blocks_cap ? w->blocks_cap * 2 : 64;
        brs_tick_block_info *nb = realloc(w->blocks, nc * sizeof *nb);
        if (!nb)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        w->blocks = nb;
        w->blocks_cap = nc;
    }
    unsigned char h[BRS_TICK_BLOCK_HDR_SIZE] = {0};
    brs__put32(h, magic);
    brs__put32(h + 4, w->n);
    brs__put32(h + 8, (uint32_t)csize);
    brs__put32(h + 12, (uint32_t)usize);
    brs__put64(h + 16, (uint64_t)w->min_ts);
    brs__put64(h + 24, (uint64_t)w->max_ts);
    brs__put32(h + 32, brs__crc32c(0, h, 32));
    brs__put32(h + 36, brs__crc32c(0, w->cbuf, csize)); /* for verify, see docs */
    brs_tick_block_info *bi = &w->blocks[w->n_blocks];
    bi->offset = w->offset;
    bi->first_ts = w->min_ts;
    bi->last_ts = w->max_ts;
    bi->count = w->n;
    bi->csize = (uint32_t)csize;
    int rc = write_all(w, h, sizeof h, err);
    if (!rc)
        rc = write_all(w, w->cbuf, csize, err);
    if (!rc)
        rc = flush_out(w, err);
    if (rc)
        return rc;
    w->n_blocks++;
    w->events += w->n;
    w->n = 0;
    return BRS_OK;
}

int brs__tick_writer_add(brs_tick_writer *w, const brs_market_event *ev, brs_error *err)
{
    if (w->n == 0)
        w->min_ts = w->max_ts = ev->ts_exchange;
    else if (ev->ts_exchange < w->min_ts)
        w->min_ts = ev->ts_exchange;
    else if (ev->ts_exchange > w->max_ts)
        w->max_ts = ev->ts_exchange;
    w->buf[w->n++] = *ev;
    if (w->n == w->cap)
        return brs__tick_writer_flush(w, err);
    return BRS_OK;
}

uint64_t brs__tick_writer_count(const brs_tick_writer *w)
{
    return w->events + w->n;
}

static void writer_free(brs_tick_writer *w)
{
    ZSTD_freeCCtx(w->cctx);
    free(w->buf);
    free(w->ubuf);
    free(w->hdr);
    free(w->cbuf);
    free(w->blocks);
    free(w->path);
    free(w);
}

int brs__tick_writer_close(brs_tick_writer *w, brs_error *err)
{
    int rc = brs__tick_writer_flush(w, err);
    if (rc) {
        brs__tick_writer_abort(w);
        return rc;
    }
    uint64_t index_off = w->offset;
    size_t isz = 8 + (size_t)w->n_blocks * BRS_TICK_INDEX_ENTRY_SIZE + 8;
    unsigned char *ix = calloc(1, isz);
    if (!ix) {
        brs__tick_writer_abort(w);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    brs__put32(ix, BRS_TICK_INDEX_MAGIC);
    brs__put32(ix + 4, w->n_blocks);
    for (uint32_t i = 0; i < w->n_blocks; i++) {
        unsigned char *p = ix + 8 + (size_t)i * BRS_TICK_INDEX_ENTRY_SIZE;
        brs__put64(p, w->blocks[i].offset);
        brs__put64(p + 8, (uint64_t)w->blocks[i].first_ts);
        brs__put64(p + 16, (uint64_t)w->blocks[i].last_ts);
        brs__put32(p + 24, w->blocks[i].count);
        brs__put32(p + 28, w->blocks[i].csize);
    }
    brs__put32(ix + isz - 8, brs__crc32c(0, ix, isz - 8));
    unsigned char f[BRS_TICK_FOOTER_SIZE] = {0};
    brs__put64(f, index_off);
    brs__put64(f + 8, w->events);
    brs__put32(f + 16, w->n_blocks);
    brs__put32(f + 20, brs__crc32c(0, f, 20));
    memcpy(f + 24, BRS_TICK_END_MAGIC, 8);
    rc = write_all(w, ix, isz, err);
    free(ix);
    if (!rc)
        rc = write_all(w, f, sizeof f, err);
    if (!rc)
        rc = flush_out(w, err);
    if (rc) {
        brs__tick_writer_abort(w);
        return rc;
    }
    if (w->atomic) {
        rc = brs__atomic_commit(&w->af, err);
    } else if (fclose(w->fp) != 0) {
        rc = brs__err(err, BRS_E_IO, "%s: close failed: %s", w->path, strerror(errno));
    }
    w->fp = NULL;
    writer_free(w);
    return rc;
}

void brs__tick_writer_abort(brs_tick_writer *w)
{
    if (!w)
        return;
    if (w->atomic)
        brs__atomic_abort(&w->af);
    else if (w->fp)
        fclose(w->fp);
    writer_free(w);
}
