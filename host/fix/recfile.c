/* recfile.c: the durable files' record formats and checksums (recfile.h). */
#include "fix/recfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/crc32c.h"

#define JOURNAL_COMMIT_TYPE 0x7ffffffdu /* app_internal.h's JOURNAL_COMMIT */

uint32_t brs__fix_jrec_crc(const char *rec, uint32_t len)
{
    return brs__crc32c(0, rec, 8 + (size_t)len);
}

uint32_t brs__fix_srec_crc(const char *rec, uint32_t n)
{
    return brs__crc32c(0, rec, 9 + (size_t)n);
}

void brs__fix_jfmt_header(char out[BRS__JFMT_HDR])
{
    uint32_t t = BRS__JFMT_TYPE, l = 8, v = BRS__FMT_VERSION;
    memcpy(out, &t, 4);
    memcpy(out + 4, &l, 4);
    memcpy(out + 8, BRS__JFMT_MAGIC, 4);
    memcpy(out + 12, &v, 4);
    uint32_t c = brs__fix_jrec_crc(out, 8);
    memcpy(out + 16, &c, 4);
}

void brs__fix_sfmt_header(char out[BRS__SFMT_HDR])
{
    uint32_t v = BRS__FMT_VERSION, n = 4;
    out[0] = 'V';
    memcpy(out + 1, &v, 4);
    memcpy(out + 5, &n, 4);
    memcpy(out + 9, BRS__SFMT_MAGIC, 4);
    uint32_t c = brs__fix_srec_crc(out, 4);
    memcpy(out + 13, &c, 4);
}

/* A header is told by its first field or by its magic (one flipped bit in
 * either still names the file version 2, and the header is then refused as
 * damaged rather than the file read as version 1). */
static int detect(const char *p, uint64_t size, const char *hdr, size_t hl, int is_hdr_start,
                  int magic_at)
{
    if (size == 0 || (size < hl && !memcmp(p, hdr, (size_t)size)))
        return BRS__FMT_EMPTY; /* nothing, or a torn first write */
    if (size >= hl && !memcmp(p, hdr, hl))
        return BRS__FMT_V2;
    int magic = size >= (uint64_t)magic_at + 4 && !memcmp(p + magic_at, hdr + magic_at, 4);
    return is_hdr_start || magic ? BRS__FMT_BAD : BRS__FMT_V1;
}

int brs__fix_jfmt_detect(const char *p, uint64_t size)
{
    char h[BRS__JFMT_HDR];
    brs__fix_jfmt_header(h);
    return detect(p, size, h, sizeof h, size >= 4 && !memcmp(p, h, 4), 8);
}

int brs__fix_sfmt_detect(const char *p, uint64_t size)
{
    char h[BRS__SFMT_HDR];
    brs__fix_sfmt_header(h);
    return detect(p, size, h, sizeof h, size >= 1 && p[0] == 'V', 9);
}

void brs__fix_scan_commits(const char *p, size_t n, uint64_t base, brs__fix_commit_scan *s)
{
    static const uint32_t head[2] = {JOURNAL_COMMIT_TYPE, 8};
    if (n < 20)
        return;
    for (size_t q = 0; q + 20 <= n; q++) {
        const char *r = memchr(p + q, (char)0xfd, n - 19 - q); /* the type's first byte */
        if (!r)
            break;
        q = (size_t)(r - p);
        if (memcmp(r, head, 8) || brs__fix_rec_stored(r + 16) != brs__fix_jrec_crc(r, 8))
            continue;
        uint64_t b;
        memcpy(&b, r + 8, 8);
        if (!s->count) {
            s->first_batch = b;
            s->first_at = base + q;
        }
        s->count++;
        s->last_batch = b;
        s->last_end = base + q + 20;
    }
}

int brs__fix_journal_bad_rule(const brs__fix_commit_scan *after, int has_prev, uint64_t prev,
                              uint64_t fend, int tear)
{
    if (!tear)
        return BRS__JBAD_DAMAGE;
    if (!after->count)
        return BRS__JBAD_TORN;
    if (after->count == 1 && after->last_end == fend && has_prev && after->first_batch == prev + 1)
        return BRS__JBAD_FINAL;
    return BRS__JBAD_DAMAGE;
}

void brs__fix_tear_window(uint64_t at, uint64_t rec_end, uint64_t fend, uint64_t *from, uint64_t *to)
{
    *from = at / BRS__SECTOR * BRS__SECTOR;
    uint64_t e = rec_end > at ? rec_end : at + 1;
    e = (e + BRS__SECTOR - 1) / BRS__SECTOR * BRS__SECTOR;
    if (e > fend)
        e = fend;
    if (e - *from > ((uint64_t)1 << 20)) /* a long record: its first MB */
        e = *from + ((uint64_t)1 << 20);
    *to = e;
}

int brs__fix_tear_like(const char *w, uint64_t at, uint64_t rec_end, uint64_t fend)
{
    if (rec_end > fend)
        return 1;
    uint64_t from, to;
    brs__fix_tear_window(at, rec_end, fend, &from, &to);
    for (uint64_t s = from; s + BRS__SECTOR <= to; s += BRS__SECTOR) {
        const char *q = w + (s - from);
        size_t k = 0;
        while (k < BRS__SECTOR && !q[k])
            k++;
        if (k == BRS__SECTOR)
            return 1;
    }
    if (to == fend) { /* zeros from the record to the end */
        uint64_t k = at;
        while (k < fend && !w[k - from])
            k++;
        if (k == fend)
            return 1;
    }
    return 0;
}

int brs__fix_damage_err(brs_error *err, const char *path, uint64_t at, const char *what)
{
    return brs__err(err, BRS_E_CORRUPT,
                    "%s: damaged at byte %llu: %s; the file is left as it is (restore it from a copy: "
                    "every record before that byte checks)",
                    path, (unsigned long long)at, what);
}

int brs__fix_crc_damage_err(brs_error *err, const char *path, uint64_t at, uint32_t stored,
                            uint32_t computed)
{
    char what[96];
    snprintf(what, sizeof what, "record checksum mismatch (stored 0x%08x, computed 0x%08x)", stored,
             computed);
    return brs__fix_damage_err(err, path, at, what);
}

int brs__fix_buf_reserve(char **buf, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return BRS_OK;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    char *p = realloc(*buf, c);
    if (!p)
        return BRS_E_NOMEM;
    *buf = p;
    *cap = c;
    return BRS_OK;
}
