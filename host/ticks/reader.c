/* reader.c: opens .ticks.zst files, checks header, footer and index, and
 * iterates records straight out of the decompressed block (one decompression
 * per block, no copy per event). A file without footer (cut off mid-write) is
 * scanned forward and stays readable up to its last complete block. Every
 * error names the byte offset where the damage is. */
#include "tickfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "core/core.h"
#include "le.h"
#include "l3check.h"


static int pread_all(brs_tick_reader *r, void *buf, size_t n, uint64_t off, brs_error *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(r->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return brs__err(err, BRS_E_IO, "%s: read at offset %llu failed: %s", r->path,
                            (unsigned long long)(off + got), strerror(errno));
        }
        if (k == 0)
            return brs__err(err, BRS_E_TRUNCATED, "%s: file ends at offset %llu, needed %zu bytes at offset %llu",
                            r->path, (unsigned long long)(off + got), n, (unsigned long long)off);
        got += (size_t)k;
    }
    return BRS_OK;
}

static int read_header(brs_tick_reader *r, brs_error *err)
{
    unsigned char h[BRS_TICK_FILE_HDR_SIZE];
    if (r->file_size < BRS_TICK_FILE_HDR_SIZE) {
        size_t k = r->file_size < 8 ? (size_t)r->file_size : 8;
        if (k && pread_all(r, h, k, 0, err) == BRS_OK && memcmp(h, BRS_TICK_MAGIC, k) != 0)
            return brs__err(err, BRS_E_CORRUPT, "%s: not a tick file (bad magic at offset 0)", r->path);
        return brs__err(err, BRS_E_TRUNCATED, "%s: file is %llu bytes, too short for the %u-byte header (cut at offset %llu)",
                        r->path, (unsigned long long)r->file_size, BRS_TICK_FILE_HDR_SIZE,
                        (unsigned long long)r->file_size);
    }
    int rc = pread_all(r, h, sizeof h, 0, err);
    if (rc)
        return rc;
    if (memcmp(h, BRS_TICK_MAGIC, 8) != 0)
        return brs__err(err, BRS_E_CORRUPT, "%s: not a tick file (bad magic at offset 0)", r->path);
    r->version = brs__get32(h + 8);
    if (r->version < BRS_TICK_VERSION_RECORDS || r->version > BRS_TICK_VERSION)
        return brs__err(err, BRS_E_UNSUPPORTED,
                        "%s: unknown format version %u at offset 8 (this build reads versions 1 to %u)",
                        r->path, r->version, BRS_TICK_VERSION);
    uint32_t hsz = brs__get32(h + 12), rsz = brs__get32(h + 16), n = brs__get32(h + 20);
    if (rsz != BRS_TICK_RECORD_SIZE)
        return brs__err(err, BRS_E_CORRUPT, "%s: record size %u at offset 16, expected %u", r->path,
                        rsz, BRS_TICK_RECORD_SIZE);
    if (n > BRS_TICK_MAX_INSTRUMENTS ||
        hsz != BRS_TICK_FILE_HDR_SIZE + n * BRS_TICK_INSTR_SIZE + 8)
        return brs__err(err, BRS_E_CORRUPT,
                        "%s: header size %u at offset 12 does not fit %u instruments (offset 20)",
                        r->path, hsz, n);
    if (hsz > r->file_size)
        return brs__err(err, BRS_E_TRUNCATED, "%s: header needs %u bytes, file is cut at offset %llu",
                        r->path, hsz, (unsigned long long)r->file_size);
    unsigned char *full = malloc(hsz);
    r->instr = calloc(n ? n : 1, sizeof *r->instr);
    if (!full || !r->instr) {
        free(full);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    rc = pread_all(r, full, hsz, 0, err);
    if (!rc && (brs__get32(full + hsz - 8) != brs__crc32c(0, full, hsz - 8) || brs__get32(full + hsz - 4) != 0))
        rc = brs__err(err, BRS_E_CORRUPT, "%s: header checksum mismatch (header at offset 0..%u)",
                      r->path, hsz - 1);
    for (uint32_t i = 0; !rc && i < n; i++) {
        const unsigned char *p = full + BRS_TICK_FILE_HDR_SIZE + (size_t)i * BRS_TICK_INSTR_SIZE;
        brs_instrument *in = &r->instr[i];
        in->id = i;
        memcpy(in->symbol, p + 8, BRS_SYMBOL_MAX);
        in->symbol[BRS_SYMBOL_MAX - 1] = 0;
        in->price_scale = (int64_t)brs__get64(p + 40);
        in->tick_size = (int64_t)brs__get64(p + 48);
        in->lot_size = (int64_t)brs__get64(p + 56);
        in->min_qty = (int64_t)brs__get64(p + 64);
    }
    free(full);
    r->n_instr = n;
    r->data_end = hsz;
    return rc;
}

/* The decompressed size a block header may state: count records, a compact
 * bar payload (header plus 0..72 bytes a bar), or a compact event payload
 * (header, a table of 1..256 kinds, 0..61 bytes an event). */
static int usize_ok(uint32_t magic, uint32_t count, uint32_t usize)
{
    if (magic == BRS_TICK_BLOCK_MAGIC)
        return usize == count * BRS_TICK_RECORD_SIZE;
    if (magic == BRS_TICK_EVBLOCK_MAGIC)
        return usize >= BRS_EVBLOCK_HDR_SIZE + 4 &&
               usize <= BRS_EVBLOCK_HDR_SIZE + 4 * BRS_EVBLOCK_MAX_META + (uint64_t)count * BRS_EVBLOCK_MAX_WIDTH;
    uint64_t body = (uint64_t)usize - BRS_BARBLOCK_HDR_SIZE;
    return usize >= BRS_BARBLOCK_HDR_SIZE && body % count == 0 && body / count <= BRS_BARBLOCK_MAX_WIDTH;
}

/* A block magic this file's version may hold: TBAR from version 2 on, TCOL
 * from version 3 on (an older file holding one is damaged). */
static int magic_ok(uint32_t magic, uint32_t version)
{
    return magic == BRS_TICK_BLOCK_MAGIC ||
           (magic == BRS_TICK_BARBLOCK_MAGIC && version >= BRS_TICK_VERSION_BARS) ||
           (magic == BRS_TICK_EVBLOCK_MAGIC && version >= BRS_TICK_VERSION_EVENTS);
}

/* Parse a block header at off; fills bi. Returns BRS_OK, or an error saying
 * what is wrong there (truncation vs damage). */
static int read_block_header(brs_tick_reader *r, uint64_t off, brs_tick_block_info *bi, brs_error *err)
{
    unsigned char h[BRS_TICK_BLOCK_HDR_SIZE];
    if (off + BRS_TICK_BLOCK_HDR_SIZE > r->file_size)
        return brs__err(err, BRS_E_TRUNCATED, "%s: block header at offset %llu is cut off (file ends at %llu)",
                        r->path, (unsigned long long)off, (unsigned long long)r->file_size);
    int rc = pread_all(r, h, sizeof h, off, err);
    if (rc)
        return rc;
    uint32_t magic = brs__get32(h);
    if (!magic_ok(magic, r->version))
        return brs__err(err, BRS_E_CORRUPT, "%s: no block header at offset %llu (bad block magic)",
                        r->path, (unsigned long long)off);
    if (brs__get32(h + 32) != brs__crc32c(0, h, 32))
        return brs__err(err, BRS_E_CORRUPT, "%s: block header checksum mismatch at offset %llu",
                        r->path, (unsigned long long)off);
    bi->offset = off;
    bi->count = brs__get32(h + 4);
    bi->csize = brs__get32(h + 8);
    bi->first_ts = (int64_t)brs__get64(h + 16);
    bi->last_ts = (int64_t)brs__get64(h + 24);
    if (bi->count == 0 || bi->count > BRS_TICK_MAX_BLOCK_RECORDS ||
        !usize_ok(magic, bi->count, brs__get32(h + 12)))
        return brs__err(err, BRS_E_CORRUPT, "%s: block header at offset %llu has impossible sizes",
                        r->path, (unsigned long long)off);
    if (off + BRS_TICK_BLOCK_HDR_SIZE + bi->csize > r->file_size)
        return brs__err(err, BRS_E_TRUNCATED,
                        "%s: block at offset %llu is cut off (needs %u bytes, %llu left)", r->path,
                        (unsigned long long)off, BRS_TICK_BLOCK_HDR_SIZE + bi->csize,
                        (unsigned long long)(r->file_size - off));
    return BRS_OK;
}

static int add_block(brs_tick_reader *r, const brs_tick_block_info *bi, uint32_t *cap)
{
    if (r->n_blocks == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 64;
        brs_tick_block_info *nb = realloc(r->blocks, nc * sizeof *nb);
        if (!nb)
            return BRS_E_NOMEM;
        r->blocks = nb;
        *cap = nc;
    }
    r->blocks[r->n_blocks++] = *bi;
    r->n_events += bi->count;
    return BRS_OK;
}

/* No footer: find the complete blocks by walking the block headers. */
static int scan_blocks(brs_tick_reader *r, brs_error *err)
{
    uint64_t off = r->data_end;
    uint32_t cap = 0;
    while (off < r->file_size) {
        brs_tick_block_info bi;
        brs_error e = {0};
        if (read_block_header(r, off, &bi, &e) != BRS_OK) {
            /* keep the reason without the path the caller prints anyway */
            size_t pl = strlen(r->path);
            const char *m = strncmp(e.msg, r->path, pl) == 0 && e.msg[pl] == ':' ? e.msg + pl + 2 : e.msg;
            snprintf(r->cut_msg, sizeof r->cut_msg, "%s", m);
            break;
        }
        if (add_block(r, &bi, &cap))
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        off += BRS_TICK_BLOCK_HDR_SIZE + bi.csize;
    }
    if (!r->cut_msg[0])
        snprintf(r->cut_msg, sizeof r->cut_msg, "file ends at offset %llu without index and footer",
                 (unsigned long long)off);
    r->data_end = off;
    r->cut = 1;
    return BRS_OK;
}

static int read_index(brs_tick_reader *r, const unsigned char *f, brs_error *err)
{
    uint64_t foot = r->file_size - BRS_TICK_FOOTER_SIZE;
    if (brs__get32(f + 20) != brs__crc32c(0, f, 20))
        return brs__err(err, BRS_E_CORRUPT, "%s: footer checksum mismatch at offset %llu", r->path,
                        (unsigned long long)foot);
    uint64_t ioff = brs__get64(f);
    uint32_t nb = brs__get32(f + 16);
    uint64_t isz = 8 + (uint64_t)nb * BRS_TICK_INDEX_ENTRY_SIZE + 8;
    if (ioff < r->data_end || ioff + isz != foot)
        return brs__err(err, BRS_E_CORRUPT, "%s: footer at offset %llu points to an impossible index (offset %llu, %u blocks)",
                        r->path, (unsigned long long)foot, (unsigned long long)ioff, nb);
    unsigned char *ix = malloc(isz);
    r->blocks = malloc((nb ? nb : 1) * sizeof *r->blocks);
    if (!ix || !r->blocks) {
        free(ix);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    int rc = pread_all(r, ix, isz, ioff, err);
    if (!rc && (brs__get32(ix) != BRS_TICK_INDEX_MAGIC || brs__get32(ix + 4) != nb))
        rc = brs__err(err, BRS_E_CORRUPT, "%s: bad index header at offset %llu", r->path,
                      (unsigned long long)ioff);
    if (!rc && (brs__get32(ix + isz - 8) != brs__crc32c(0, ix, isz - 8) || brs__get32(ix + isz - 4) != 0))
        rc = brs__err(err, BRS_E_CORRUPT, "%s: index checksum mismatch (index at offset %llu..%llu)",
                      r->path, (unsigned long long)ioff, (unsigned long long)(ioff + isz - 1));
    uint64_t expect = r->data_end;
    for (uint32_t i = 0; !rc && i < nb; i++) {
        const unsigned char *p = ix + 8 + (size_t)i * BRS_TICK_INDEX_ENTRY_SIZE;
        brs_tick_block_info *b = &r->blocks[i];
        b->offset = brs__get64(p);
        b->first_ts = (int64_t)brs__get64(p + 8);
        b->last_ts = (int64_t)brs__get64(p + 16);
        b->count = brs__get32(p + 24);
        b->csize = brs__get32(p + 28);
        if (b->offset != expect || b->count == 0 || b->count > BRS_TICK_MAX_BLOCK_RECORDS ||
            b->offset + BRS_TICK_BLOCK_HDR_SIZE + b->csize > ioff)
            rc = brs__err(err, BRS_E_CORRUPT, "%s: index entry %u (at offset %llu) is inconsistent",
                          r->path, i, (unsigned long long)(ioff + 8 + (uint64_t)i * BRS_TICK_INDEX_ENTRY_SIZE));
        expect = b->offset + BRS_TICK_BLOCK_HDR_SIZE + b->csize;
        r->n_events += b->count;
    }
    if (!rc && expect != ioff)
        rc = brs__err(err, BRS_E_CORRUPT, "%s: blocks end at offset %llu but the index starts at %llu",
                      r->path, (unsigned long long)expect, (unsigned long long)ioff);
    if (!rc && r->n_events != brs__get64(f + 8))
        rc = brs__err(err, BRS_E_CORRUPT, "%s: footer at offset %llu counts %llu events, index %llu",
                      r->path, (unsigned long long)foot, (unsigned long long)brs__get64(f + 8),
                      (unsigned long long)r->n_events);
    free(ix);
    if (!rc) {
        r->n_blocks = nb;
        r->data_end = ioff;
    }
    return rc;
}

int brs__tick_open(brs_tick_reader *r, const char *path, brs_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return brs__err(err, errno == ENOENT ? BRS_E_NOTFOUND : BRS_E_IO, "%s: cannot open: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(r->fd, &st) != 0) {
        int rc = brs__err(err, BRS_E_IO, "%s: stat failed: %s", path, strerror(errno));
        brs__tick_close(r);
        return rc;
    }
    r->file_size = (uint64_t)st.st_size;
    int rc = read_header(r, err);
    if (!rc) {
        unsigned char f[BRS_TICK_FOOTER_SIZE];
        if (r->file_size >= r->data_end + BRS_TICK_FOOTER_SIZE &&
            (rc = pread_all(r, f, sizeof f, r->file_size - BRS_TICK_FOOTER_SIZE, err)) == BRS_OK &&
            memcmp(f + 24, BRS_TICK_END_MAGIC, 8) == 0)
            rc = read_index(r, f, err);
        else if (!rc)
            rc = scan_blocks(r, err);
    }
    if (!rc) {
        r->dec.dctx = ZSTD_createDCtx();
        if (!r->dec.dctx)
            rc = brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    if (rc) {
        brs__tick_close(r);
        return rc;
    }
    return BRS_OK;
}

int64_t brs__tick_first_ts(const brs_tick_reader *r)
{
    int64_t t = INT64_MAX;
    for (uint32_t i = 0; i < r->n_blocks; i++)
        if (r->blocks[i].count && r->blocks[i].first_ts < t)
            t = r->blocks[i].first_ts;
    return t == INT64_MAX ? INT64_MIN : t;
}

void brs__tick_close(brs_tick_reader *r)
{
    brs__tick_stop_ahead(r);
    if (r->fd > 0)
        close(r->fd);
    r->fd = -1;
    brs__tick_decoder_free(&r->dec);
    free(r->instr);
    free(r->blocks);
    free(r->dbuf);
    r->instr = NULL;
    r->blocks = NULL;
    r->dbuf = NULL;
    r->cur = r->end = NULL;
}

void brs__tick_decoder_free(brs_tick_decoder *d)
{
    ZSTD_freeDCtx(d->dctx);
    free(d->cbuf);
    free(d->ubuf);
    memset(d, 0, sizeof *d);
}

static int grow(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    void *nb = realloc(*buf, need);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = need;
    return 0;
}

/* Read and check block i's header and frame into d->cbuf; *magic says what
 * it holds. */
static int read_block(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i, uint32_t *magic,
                      size_t *usize, brs_error *err)
{
    const brs_tick_block_info *b = &r->blocks[i];
    size_t need = BRS_TICK_BLOCK_HDR_SIZE + (size_t)b->csize;
    if (!d->dctx && !(d->dctx = ZSTD_createDCtx()))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    if (grow(&d->cbuf, &d->cbuf_cap, need))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int rc = pread_all((brs_tick_reader *)r, d->cbuf, need, b->offset, err);
    if (rc)
        return rc;
    const unsigned char *h = d->cbuf;
    *magic = brs__get32(h);
    *usize = brs__get32(h + 12);
    if (!magic_ok(*magic, r->version) ||
        brs__get32(h + 32) != brs__crc32c(0, h, 32) ||
        brs__get32(h + 4) != b->count || brs__get32(h + 8) != b->csize ||
        !usize_ok(*magic, b->count, (uint32_t)*usize) ||
        (int64_t)brs__get64(h + 16) != b->first_ts || (int64_t)brs__get64(h + 24) != b->last_ts)
        return brs__err(err, BRS_E_CORRUPT, "%s: block %u: header at offset %llu is damaged",
                        r->path, i, (unsigned long long)b->offset);
    const unsigned char *frame = d->cbuf + BRS_TICK_BLOCK_HDR_SIZE;
    /* Frame_Header_Descriptor (RFC 8878 3.1.1.1.1) follows the 4-byte magic;
     * bit 2 says the frame ends with a content checksum, which we require. */
    if (b->csize < 6 || !(frame[4] & 0x04) ||
        ZSTD_getFrameContentSize(frame, b->csize) != (unsigned long long)*usize)
        return brs__err(err, BRS_E_CORRUPT, "%s: block %u at offset %llu: bad zstd frame header",
                        r->path, i, (unsigned long long)b->offset);
    return BRS_OK;
}

/* Decompress the frame read_block read into out (usize bytes). */
static int inflate_block(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i, void *out,
                         size_t usize, brs_error *err)
{
    const brs_tick_block_info *b = &r->blocks[i];
    size_t got = ZSTD_decompressDCtx(d->dctx, out, usize, d->cbuf + BRS_TICK_BLOCK_HDR_SIZE, b->csize);
    if (ZSTD_isError(got) || got != usize)
        return brs__err(err, BRS_E_CORRUPT, "%s: block %u at offset %llu is damaged: %s", r->path, i,
                        (unsigned long long)b->offset,
                        ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong decompressed size");
    return BRS_OK;
}

/* A compact block's payload into d->ubuf, with the 8 zero bytes of slack the
 * column decoders read past it. */
static int inflate_compact(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i, size_t usize,
                           brs_error *err)
{
    if (grow(&d->ubuf, &d->ubuf_cap, usize + 8))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int rc = inflate_block(r, d, i, d->ubuf, usize, err);
    if (!rc)
        memset(d->ubuf + usize, 0, 8);
    return rc;
}

int brs__tick_decode_block(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i,
                           brs_market_event *dst, brs_error *err)
{
    uint32_t magic;
    size_t usize;
    int rc = read_block(r, d, i, &magic, &usize, err);
    if (rc)
        return rc;
    const brs_tick_block_info *b = &r->blocks[i];
    d->compact = 0;
    if (magic == BRS_TICK_BLOCK_MAGIC)
        return inflate_block(r, d, i, dst, usize, err);
    if ((rc = inflate_compact(r, d, i, usize, err)))
        return rc;
    const char *why = "";
    if (magic == BRS_TICK_EVBLOCK_MAGIC) {
        if (brs__evblock_decode(d->ubuf, usize, b->count, dst, &why))
            return brs__err(err, BRS_E_CORRUPT, "%s: block %u at offset %llu: bad compact event block: %s",
                            r->path, i, (unsigned long long)b->offset, why);
    } else {
        if (brs__barblock_decode(d->ubuf, usize, b->count, dst, &d->stats, &why))
            return brs__err(err, BRS_E_CORRUPT, "%s: block %u at offset %llu: bad compact bar block: %s",
                            r->path, i, (unsigned long long)b->offset, why);
        d->compact = 1;
    }
    return BRS_OK;
}

int brs__tick_decode_block_columns(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i,
                                   const brs_barblock_cols *dst, brs_error *err)
{
    uint32_t magic;
    size_t usize;
    int rc = read_block(r, d, i, &magic, &usize, err);
    if (rc)
        return rc;
    if (magic != BRS_TICK_BARBLOCK_MAGIC)
        return 0;
    if ((rc = inflate_compact(r, d, i, usize, err)))
        return rc;
    const char *why = "";
    const brs_tick_block_info *b = &r->blocks[i];
    if (brs__barblock_decode_columns(d->ubuf, usize, b->count, dst, &d->stats, &why))
        return brs__err(err, BRS_E_CORRUPT, "%s: block %u at offset %llu: bad compact bar block: %s",
                        r->path, i, (unsigned long long)b->offset, why);
    return 1;
}

int brs__tick_inflate_bars(const brs_tick_reader *r, brs_tick_decoder *d, uint32_t i,
                           unsigned char *out, size_t *usize, brs_error *err)
{
    uint32_t magic;
    int rc = read_block(r, d, i, &magic, usize, err);
    if (rc)
        return rc;
    if (magic != BRS_TICK_BARBLOCK_MAGIC)
        return 0;
#ifdef MADV_POPULATE_WRITE
    { /* fresh memory: one call maps the pages written below (advice only) */
        uintptr_t a = (uintptr_t)out & ~(uintptr_t)4095, z = (uintptr_t)out + *usize + 8;
        (void)madvise((void *)a, z - a, MADV_POPULATE_WRITE);
    }
#endif
    if ((rc = inflate_block(r, d, i, out, *usize, err)))
        return rc;
    memset(out + *usize, 0, 8);
    return 1;
}

int brs__tick_reader_dbuf(brs_market_event **buf, size_t *cap, uint32_t count, brs_error *err)
{
    size_t usize = (size_t)count * BRS_TICK_RECORD_SIZE;
    if (usize > *cap) {
        free(*buf);
        *buf = aligned_alloc(64, usize);
        *cap = *buf ? usize : 0;
        if (!*buf)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    return BRS_OK;
}

int brs__tick_load_block(brs_tick_reader *r, uint32_t i, brs_error *err)
{
    brs__tick_stop_ahead(r);
    if (i >= r->n_blocks)
        return brs__err(err, BRS_E_RANGE, "%s: no block %u (file has %u)", r->path, i, r->n_blocks);
    int rc = brs__tick_reader_dbuf(&r->dbuf, &r->dbuf_cap, r->blocks[i].count, err);
    if (!rc)
        rc = brs__tick_decode_block(r, &r->dec, i, r->dbuf, err);
    if (rc)
        return rc;
    r->cur = r->dbuf;
    r->end = r->dbuf + r->blocks[i].count;
    r->next_block = i + 1;
    return BRS_OK;
}

int brs__tick_seek(brs_tick_reader *r, int64_t ts, brs_error *err)
{
    brs__tick_stop_ahead(r);
    r->iter_err.code = 0;
    r->iter_err.msg[0] = 0;
    uint32_t i = 0;
    while (i < r->n_blocks && r->blocks[i].last_ts < ts)
        i++;
    r->cur = r->end = NULL;
    r->next_block = i;
    if (i == r->n_blocks)
        return BRS_OK;
    int rc = brs__tick_load_block(r, i, err);
    if (rc)
        return rc;
    while (r->cur < r->end && r->cur->ts_exchange < ts)
        r->cur++;
    return BRS_OK;
}

int brs__tick_verify(const char *path, uint32_t *blocks_ok, uint64_t *events, brs_error *err)
{
    return brs__tick_verify_full(path, blocks_ok, events, 0, NULL, err);
}

int brs__tick_verify_full(const char *path, uint32_t *blocks_ok, uint64_t *events, int check_order,
                          struct brs_l3check *l3, brs_error *err)
{
    brs_tick_reader r;
    *blocks_ok = 0;
    *events = 0;
    int rc = brs__tick_open(&r, path, err);
    if (rc)
        return rc;
    size_t ni = r.n_instr ? r.n_instr : 1;
    int64_t *last = calloc(2 * ni, sizeof *last); /* per instrument: ts_exchange, ts_local */
    uint64_t *last_ev = calloc(ni, sizeof *last_ev);
    if (!last || !last_ev) {
        free(last);
        free(last_ev);
        brs__tick_close(&r);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    uint64_t n_ev = 0;
    for (uint32_t i = 0; i < r.n_blocks; i++) {
        rc = brs__tick_load_block(&r, i, err);
        if (rc)
            break;
        int64_t lo = r.cur->ts_exchange, hi = lo;
        for (const brs_market_event *e = r.cur; e < r.end; e++) {
            if (e->ts_exchange < lo)
                lo = e->ts_exchange;
            if (e->ts_exchange > hi)
                hi = e->ts_exchange;
        }
        /* time order: within each instrument, an event may go back on one
         * clock (a recording is in receive order, ts_local, and its streams'
         * ts_exchange interleave; a generated feed is in exchange order and
         * its ts_local jitters) but not on both: that is out of order under
         * any reading (a LOBSTER file whose times go backwards) */
        for (const brs_market_event *e = r.cur; e < r.end && !rc; e++) {
            n_ev++;
            if (check_order && e->instrument < r.n_instr) {
                int64_t *t = last + 2 * e->instrument;
                uint64_t *le = &last_ev[e->instrument];
                if (*le && e->ts_exchange < t[0] && e->ts_local < t[1])
                    rc = brs__err(err, BRS_E_CORRUPT,
                                  "%s: block %u at offset %llu: event %llu (%s) at ts_exchange %lld ts_local %lld "
                                  "is before event %llu (%lld, %lld) on both clocks: times go backwards",
                                  path, i, (unsigned long long)r.blocks[i].offset, (unsigned long long)n_ev,
                                  r.instr[e->instrument].symbol, (long long)e->ts_exchange, (long long)e->ts_local,
                                  (unsigned long long)*le, (long long)t[0], (long long)t[1]);
                t[0] = e->ts_exchange;
                t[1] = e->ts_local;
                *le = n_ev;
            }
            if (l3)
                brs__l3check_event(l3, e);
        }
        if (rc)
            break;
        if (lo != r.blocks[i].first_ts || hi != r.blocks[i].last_ts) {
            rc = brs__err(err, BRS_E_CORRUPT, "%s: block %u at offset %llu: times differ from its header",
                          path, i, (unsigned long long)r.blocks[i].offset);
            break;
        }
        /* Replay trusts zstd's content checksum (the records are right or it
         * fails); verify also checks the compressed bytes, so that even a flip
         * that happens to decode to the same records is reported. */
        const brs_tick_block_info *b = &r.blocks[i];
        if (brs__get32(r.dec.cbuf + 36) != brs__crc32c(0, r.dec.cbuf + BRS_TICK_BLOCK_HDR_SIZE, b->csize)) {
            rc = brs__err(err, BRS_E_CORRUPT, "%s: block %u at offset %llu: compressed bytes differ from their CRC",
                          path, i, (unsigned long long)b->offset);
            break;
        }
        (*blocks_ok)++;
        *events += r.blocks[i].count;
    }
    if (!rc && r.cut)
        rc = brs__err(err, BRS_E_TRUNCATED, "%s: file was cut: %u complete blocks end at offset %llu; %s",
                      path, r.n_blocks, (unsigned long long)r.data_end, r.cut_msg);
    free(last);
    free(last_ev);
    brs__tick_close(&r);
    return rc;
}
