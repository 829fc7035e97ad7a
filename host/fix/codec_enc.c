/* codec_enc.c: FIX tag=value encoding into a caller's buffer: fields
 * appended in place (integers and decimals without printf), then the header's
 * BeginString and BodyLength put in front and the CheckSum after
 * (brs__fix_enc_end). No allocation; a message past the buffer sets
 * `overflow` and is never sent (codec.h). */
#include "fix/codec.h"

#include <string.h>

/* ---- encoder ------------------------------------------------------------- */

static inline void put(brs__fix_enc *e, const char *s, size_t n)
{
    if (e->pos + n > e->cap) {
        e->overflow = 1;
        return;
    }
    memcpy(e->buf + e->pos, s, n);
    e->pos += n;
}

/* Decimal digits, two at a time from a table, written in place from the
 * end: no per-digit division and no reversed copy (every field of every
 * outgoing message has a tag and most an integer). */
static const char dig2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";

static inline size_t ndigits(uint64_t v)
{
    size_t n = 1;
    for (; v >= 100; v /= 100)
        n += 2;
    return n + (v >= 10);
}

static inline size_t utoa(char *out, uint64_t v)
{
    size_t n = ndigits(v);
    char *q = out + n;
    while (v >= 100) {
        q -= 2;
        memcpy(q, dig2 + (v % 100) * 2, 2);
        v /= 100;
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, dig2 + v * 2, 2);
    } else {
        *--q = (char)('0' + v);
    }
    return n;
}

/* tag=value<SOH> at p (room checked by the caller); returns the end. */
static inline char *put_field(char *p, uint32_t tag, const char *s, size_t n)
{
    p += utoa(p, tag);
    *p++ = '=';
    if (n <= 16) {
        for (size_t k = 0; k < n; k++)
            p[k] = s[k];
    } else {
        memcpy(p, s, n);
    }
    p += n;
    *p++ = BRS__FIX_SOH;
    return p;
}

static inline void put_tag(brs__fix_enc *e, uint32_t tag)
{
    char t[16];
    size_t n = utoa(t, tag);
    t[n++] = '=';
    put(e, t, n);
}

static inline void put_soh(brs__fix_enc *e)
{
    if (e->pos + 1 > e->cap) {
        e->overflow = 1;
        return;
    }
    e->buf[e->pos++] = BRS__FIX_SOH;
}

void brs__fix_enc_begin(brs__fix_enc *e, char *buf, size_t cap, const char *msgtype)
{
    e->buf = buf;
    e->cap = cap;
    e->pos = BRS__FIX_HEAD_RESERVE;
    e->overflow = cap < BRS__FIX_HEAD_RESERVE + 8;
    if (!e->overflow)
        brs__fix_enc_str(e, 35, msgtype);
}

void brs__fix_enc_mem(brs__fix_enc *e, uint32_t tag, const char *s, size_t n)
{
    /* one bounds check per field, then straight writes */
    if (e->overflow || e->pos + n + 12 > e->cap) {
        e->overflow = 1;
        return;
    }
    e->pos = (size_t)(put_field(e->buf + e->pos, tag, s, n) - e->buf);
}

void brs__fix_enc_str(brs__fix_enc *e, uint32_t tag, const char *s)
{
    brs__fix_enc_mem(e, tag, s, strlen(s));
}

void brs__fix_enc_int(brs__fix_enc *e, uint32_t tag, int64_t v)
{
    /* written in place, after one exact bounds check */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t nt = ndigits(tag), nv = ndigits(u);
    if (e->overflow || e->pos + nt + nv + 3 > e->cap) {
        e->overflow = 1;
        return;
    }
    char *p = e->buf + e->pos;
    p += utoa(p, tag);
    *p++ = '=';
    if (v < 0)
        *p++ = '-';
    p += utoa(p, u);
    *p++ = BRS__FIX_SOH;
    e->pos = (size_t)(p - e->buf);
}

void brs__fix_enc_char(brs__fix_enc *e, uint32_t tag, char c)
{
    if (e->overflow || e->pos + ndigits(tag) + 3 > e->cap) {
        e->overflow = 1;
        return;
    }
    char *p = e->buf + e->pos;
    p += utoa(p, tag);
    *p++ = '=';
    *p++ = c;
    *p++ = BRS__FIX_SOH;
    e->pos = (size_t)(p - e->buf);
}

void brs__fix_enc_decimal(brs__fix_enc *e, uint32_t tag, int64_t v, int decimals)
{
    char t[48];
    size_t n = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        t[n++] = '-';
        u = (uint64_t)0 - u;
    }
    uint64_t p = 1;
    for (int k = 0; k < decimals; k++)
        p *= 10;
    n += utoa(t + n, u / p);
    uint64_t frac = u % p;
    if (decimals > 0 && frac) {
        t[n++] = '.';
        char d[24];
        for (int k = decimals - 1; k >= 0; k--) {
            d[k] = (char)('0' + frac % 10);
            frac /= 10;
        }
        int last = decimals;
        while (last > 0 && d[last - 1] == '0')
            last--;
        memcpy(t + n, d, (size_t)last);
        n += (size_t)last;
    }
    brs__fix_enc_mem(e, tag, t, n);
}

void brs__fix_enc_time(brs__fix_enc *e, uint32_t tag, int64_t ns)
{
    char t[32];
    brs__fix_format_time(ns, t);
    brs__fix_enc_mem(e, tag, t, 21);
}

const char *brs__fix_enc_end(brs__fix_enc *e, const char *begin_string, size_t *len)
{
    if (e->overflow)
        return NULL;
    size_t body = e->pos - BRS__FIX_HEAD_RESERVE;
    char head[BRS__FIX_HEAD_RESERVE];
    size_t bl = strlen(begin_string);
    if (bl > 12)
        return NULL;
    size_t h = 0;
    memcpy(head, "8=", 2);
    h = 2;
    memcpy(head + h, begin_string, bl);
    h += bl;
    head[h++] = BRS__FIX_SOH;
    head[h++] = '9';
    head[h++] = '=';
    h += utoa(head + h, body);
    head[h++] = BRS__FIX_SOH;
    char *start = e->buf + BRS__FIX_HEAD_RESERVE - h;
    memcpy(start, head, h);
    if (e->pos + 7 > e->cap)
        return NULL;
    unsigned cs = brs__fix_checksum(start, h + body);
    char *t = e->buf + e->pos;
    t[0] = '1';
    t[1] = '0';
    t[2] = '=';
    t[3] = (char)('0' + cs / 100);
    t[4] = (char)('0' + cs / 10 % 10);
    t[5] = (char)('0' + cs % 10);
    t[6] = BRS__FIX_SOH;
    e->pos += 7;
    *len = h + body + 7;
    return start;
}
