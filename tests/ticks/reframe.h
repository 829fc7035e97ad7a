/* reframe.h: byte-level surgery on one-block compact tick files for the
 * compact bar and event block tests (test_barblock.c, test_evblock.c): read
 * and write whole files, and change a payload byte behind intact checksums.
 * Include after cmocka.h, zstd.h, test_util.h, core/core.h and
 * ticks/tickfile.h. */
#ifndef BRS_TEST_TICKS_REFRAME_H
#define BRS_TEST_TICKS_REFRAME_H

static inline unsigned char *slurp(const char *path, size_t *len)
{
    long n = file_size(path);
    unsigned char *p = malloc((size_t)n);
    FILE *f = fopen(path, "rb");
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static inline void spill(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* A one-block compact file (its block's magic: magic) whose payload byte `at`
 * is set to value (value < 0: left alone) and then re-framed with every
 * checksum right (zstd's, the block CRCs, index, footer): only the decoder's
 * own checks can see it. */
static inline void reframe_payload(const char *path, const char *out, uint32_t magic, size_t at, int value)
{
    size_t n;
    unsigned char *f = slurp(path, &n);
    uint32_t hsz = brs__get32(f + 12);
    unsigned char *bh = f + hsz;
    assert_int_equal(brs__get32(bh), magic);
    uint32_t csize = brs__get32(bh + 8), usize = brs__get32(bh + 12);
    unsigned char *pay = malloc(usize);
    assert_int_equal(ZSTD_decompress(pay, usize, bh + BRS_TICK_BLOCK_HDR_SIZE, csize), usize);
    if (value >= 0)
        pay[at] = (unsigned char)value;
    size_t cap = ZSTD_compressBound(usize);
    unsigned char *frame = malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    size_t nc = ZSTD_compress2(cc, frame, cap, pay, usize);
    assert_false(ZSTD_isError(nc));
    ZSTD_freeCCtx(cc);
    size_t total = hsz + BRS_TICK_BLOCK_HDR_SIZE + nc + 8 + BRS_TICK_INDEX_ENTRY_SIZE + 8 + BRS_TICK_FOOTER_SIZE;
    unsigned char *o = calloc(1, total), *p = o;
    memcpy(p, f, hsz);
    p += hsz;
    memcpy(p, bh, BRS_TICK_BLOCK_HDR_SIZE);
    brs__put32(p + 8, (uint32_t)nc);
    brs__put32(p + 32, brs__crc32c(0, p, 32));
    brs__put32(p + 36, brs__crc32c(0, frame, nc));
    memcpy(p + BRS_TICK_BLOCK_HDR_SIZE, frame, nc);
    p += BRS_TICK_BLOCK_HDR_SIZE + nc;
    uint64_t ioff = (uint64_t)(p - o);
    const unsigned char *oi = f + brs__get64(f + n - BRS_TICK_FOOTER_SIZE);
    memcpy(p, oi, 8 + BRS_TICK_INDEX_ENTRY_SIZE);
    brs__put32(p + 8 + 28, (uint32_t)nc);
    brs__put32(p + 8 + BRS_TICK_INDEX_ENTRY_SIZE, brs__crc32c(0, p, 8 + BRS_TICK_INDEX_ENTRY_SIZE));
    p += 8 + BRS_TICK_INDEX_ENTRY_SIZE + 8;
    memcpy(p, f + n - BRS_TICK_FOOTER_SIZE, BRS_TICK_FOOTER_SIZE);
    brs__put64(p, ioff);
    brs__put32(p + 20, brs__crc32c(0, p, 20));
    spill(out, o, total);
    free(o);
    free(frame);
    free(pay);
    free(f);
}

#endif
