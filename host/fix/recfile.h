/* recfile.h: the record formats of the FIX gateway's durable files, the
 * order journal and the session stores, and their checksums
 * (docs/fix-gateway.md, "Record checksums"). Two versions of each:
 *
 *   version 1 (no header; files written before 2026-12-07):
 *     journal record  [type u32][len u32][len bytes]
 *     store record    [kind u8][a u32][n u32][n bytes]
 *   version 2 (a header record first; every record followed by the CRC-32C
 *   of its header and bytes, core/crc32c.h):
 *     journal record  [type u32][len u32][len bytes][crc u32]
 *     store record    [kind u8][a u32][n u32][n bytes][crc u32]
 *     journal header  type BRS__JFMT_TYPE, len 8: "BRSJ", u32 2
 *     store header    kind 'V', a 2, n 4: "BRSS"
 *
 * A file's version is that of its first bytes; a version 1 file goes on in
 * version 1 (appends keep its format) until a checkpoint, an end of day or
 * a sequence reset rewrites it; a new file is version 2. The readers (the
 * replay, the checkpoint's tail copy, the store's load, `bourse audit`) use
 * these helpers and the same rule for a record that fails its check. */
#ifndef BRS_FIX_RECFILE_H
#define BRS_FIX_RECFILE_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

#define BRS__JFMT_TYPE 0x7fffffe0u /* the journal's header record */
#define BRS__JFMT_MAGIC "BRSJ"
#define BRS__SFMT_MAGIC "BRSS"
#define BRS__FMT_VERSION 2u
#define BRS__JFMT_HDR 20u /* the journal header record, with its checksum */
#define BRS__SFMT_HDR 17u /* the store header record, with its checksum */
#define BRS__REC_CRC 4u   /* the checksum after each record (version 2) */

/* What a file's first bytes say (p: its first min(size, header) bytes). */
enum {
    BRS__FMT_V1 = 1,     /* no header: the old format */
    BRS__FMT_V2 = 2,     /* a sound header */
    BRS__FMT_EMPTY = 0,  /* empty, or a torn first write of a header: a new file */
    BRS__FMT_BAD = -1,   /* a header whose bytes do not check: damaged */
};
int brs__fix_jfmt_detect(const char *p, uint64_t size);
int brs__fix_sfmt_detect(const char *p, uint64_t size);
/* The header records (with their checksums). */
void brs__fix_jfmt_header(char out[BRS__JFMT_HDR]);
void brs__fix_sfmt_header(char out[BRS__SFMT_HDR]);

/* Makes *buf (capacity *cap) hold at least need bytes, doubling from
 * `first`; BRS_E_NOMEM leaves it as it was. The journal's and the stores'
 * record buffers both grow through here. */
int brs__fix_buf_reserve(char **buf, size_t *cap, size_t need, size_t first);

/* The checksum of the journal record at rec ([type][len][len bytes]) and of
 * the store record at rec ([kind][a][n][n bytes]); the stored one follows. */
uint32_t brs__fix_jrec_crc(const char *rec, uint32_t len);
uint32_t brs__fix_srec_crc(const char *rec, uint32_t n);
static inline uint32_t brs__fix_rec_stored(const char *at)
{
    uint32_t v;
    __builtin_memcpy(&v, at, 4);
    return v;
}

/* The valid COMMIT records (checksum sound) found at any byte of p[0, n)
 * whose 20 bytes lie inside it; base is p's offset in the file. Called on
 * consecutive windows that overlap by 19 bytes, it sees each once. */
typedef struct brs__fix_commit_scan {
    uint64_t count, first_batch, last_batch;
    uint64_t first_at, last_end; /* file offsets */
} brs__fix_commit_scan;
void brs__fix_scan_commits(const char *p, size_t n, uint64_t base, brs__fix_commit_scan *s);

/* The rule for a journal record that fails its check at byte `bad` (its
 * checksum, or a length past the end of the file), given the last sound
 * COMMIT before it (batch `prev`; has_prev 0: none), the sound COMMITs found
 * after it (brs__fix_scan_commits from bad + 1 to the end, fend) and whether
 * it looks like what a crash leaves (`tear`: its length runs past the end of
 * the file, as a write cut short leaves it, or its bytes hold a whole zero
 * sector, as pages a machine crash did not write read back,
 * brs__fix_zero_sector); a record that fails otherwise (a flipped bit) was
 * damaged after it was written, whatever follows it:
 *   BRS__JBAD_TORN   a tear, no COMMIT after it: the uncommitted tail, cut;
 *   BRS__JBAD_FINAL  a tear, exactly one COMMIT after it, of the batch after
 *                    `prev`, ending the file: the final batch as a machine
 *                    crash during its write and sync leaves it (never
 *                    acknowledged): cut back to the COMMIT before it;
 *   BRS__JBAD_DAMAGE anything else: committed records are damaged. */
enum { BRS__JBAD_TORN = 0, BRS__JBAD_FINAL = 1, BRS__JBAD_DAMAGE = 2 };
int brs__fix_journal_bad_rule(const brs__fix_commit_scan *after, int has_prev, uint64_t prev,
                              uint64_t fend, int tear);
/* Does the record failing its check at byte `at`, whose length says it ends
 * at rec_end, look like what a crash leaves? 1 when it runs past the end of
 * the file (fend), or a whole 512-byte sector it overlaps is zeros, or the
 * file is zeros from it to its end (pages a machine crash did not write read
 * back as zeros). The caller reads the file's bytes [from, to) of
 * brs__fix_tear_window into w. */
#define BRS__SECTOR 512u
void brs__fix_tear_window(uint64_t at, uint64_t rec_end, uint64_t fend, uint64_t *from, uint64_t *to);
int brs__fix_tear_like(const char *w, uint64_t at, uint64_t rec_end, uint64_t fend);

/* The refusal: "PATH: damaged at byte N: WHAT; the file is left as it is
 * (...)" with BRS_E_CORRUPT. A checksum mismatch says both values. */
int brs__fix_damage_err(brs_error *err, const char *path, uint64_t at, const char *what);
int brs__fix_crc_damage_err(brs_error *err, const char *path, uint64_t at, uint32_t stored,
                            uint32_t computed);

#endif
