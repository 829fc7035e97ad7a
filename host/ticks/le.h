/* le.h: little-endian field access for the tick file's headers, index and
 * footer (records themselves are used in place, see tickfile.h). */
#ifndef BRS_TICKS_LE_H
#define BRS_TICKS_LE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <bourse/errors.h> /* BRS_OK, BRS_E_CORRUPT */

static inline void brs__put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void brs__put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t brs__get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static inline uint64_t brs__get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Columns of fixed byte width w (0..8), read in place: value i is the w
 * bytes at p + i*w, loaded as 8 bytes and masked (the caller guarantees 8
 * readable bytes past the payload; a little-endian host). Shared by the
 * compact bar (barblock.c) and event (evblock.c) blocks. */
static inline uint64_t brs__le_width_mask(unsigned w)
{
    return w >= 8 ? ~0ull : (1ull << (8 * w)) - 1;
}
static inline uint64_t brs__le_rd(const unsigned char *p, uint64_t m)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v & m;
}

/* The column table of a compact block: k columns whose widths are the k bytes
 * at wpos and whose bases are the k u64 at bpos, laid out one after another
 * from *off, n values each. Fills w, the masks, bases and column starts and
 * moves *off past them; BRS_E_CORRUPT (with *why) on a width above 8. */
static inline int brs__le_columns(const unsigned char *in, size_t wpos, size_t bpos, int k, uint32_t n,
                                  size_t *off, size_t *w, uint64_t *m, uint64_t *base,
                                  const unsigned char **col, const char **why)
{
    for (int c = 0; c < k; c++) {
        w[c] = in[wpos + (size_t)c];
        if (w[c] > 8) {
            *why = "column width above 8 bytes";
            return BRS_E_CORRUPT;
        }
        m[c] = brs__le_width_mask((unsigned)w[c]);
        base[c] = brs__get64(in + bpos + 8 * (size_t)c);
        col[c] = in + *off;
        *off += w[c] * n;
    }
    return BRS_OK;
}

#endif
