/* le.h: little-endian field access for the tick file's headers, index and
 * footer (records themselves are used in place, see tickfile.h). */
#ifndef BRS_TICKS_LE_H
#define BRS_TICKS_LE_H

#include <stdint.h>
#include <string.h>

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

#endif
