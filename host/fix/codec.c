/* codec.c: FIX tag=value framing and in-place parsing (encoding: codec_enc.c).
 * The parser never allocates: a message is an array of (tag, offset, length)
 * triples over the receive buffer plus a generation-stamped tag index, so a
 * lookup is O(1) and nothing needs clearing between messages. */
#include "fix/codec.h"

#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bourse/errors.h>

#include "fix/dict.h"

unsigned brs__fix_checksum(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
#if defined(__SSE2__)
    /* psadbw sums 16 bytes at a time: the checksum is on every message's path */
    __m128i acc = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16)
        acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_loadu_si128((const __m128i *)(u + i)),
                                              _mm_setzero_si128()));
    s0 = (uint32_t)_mm_cvtsi128_si32(acc) + (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(acc, 8));
#endif
    for (; i + 4 <= n; i += 4) {
        s0 += u[i];
        s1 += u[i + 1];
        s2 += u[i + 2];
        s3 += u[i + 3];
    }
    for (; i < n; i++)
        s0 += u[i];
    return (s0 + s1 + s2 + s3) & 0xffu;
}

/* A message may start at buf[i]: not the tail of a tag like 58= or 108=. */
static inline int may_start(const char *buf, size_t i)
{
    return (unsigned)(buf[i - 1] - '0') >= 10u;
}

/* Offset of the next "8=FIX" after position 1 (a possible message start), or
 * the length minus a partial-prefix tail when there is none. Always >= 1. */
static size_t resync(const char *buf, size_t len)
{
    for (size_t i = 1; i + 5 <= len; i++)
        if (buf[i] == '8' && memcmp(buf + i, "8=FIX", 5) == 0 && may_start(buf, i))
            return i;
    /* keep a tail that could still start "8=FIX" */
    size_t keep = len < 5 ? len - (len > 0) : 4;
    for (size_t i = len - keep; i < len; i++)
        if (buf[i] == '8' && may_start(buf, i) && memcmp(buf + i, "8=FIX", len - i) == 0)
            return i;
    return len;
}

int brs__fix_frame(const char *buf, size_t len, size_t max_len, size_t *msglen)
{
    static const char start[] = "8=FIX";
    size_t n = len < 5 ? len : 5;
    if (memcmp(buf, start, n) != 0) {
        *msglen = resync(buf, len);
        if (*msglen == 0)
            *msglen = 1;
        return BRS__FIX_FRAME_GARBLED;
    }
    if (len < 5)
        return BRS__FIX_FRAME_NEED_MORE;
    /* BeginString value: at most 16 bytes */
    size_t i = 2;
    while (i < len && buf[i] != BRS__FIX_SOH && i < 20)
        i++;
    if (i >= len)
        return len >= 20 ? (*msglen = resync(buf, len), BRS__FIX_FRAME_GARBLED)
                         : BRS__FIX_FRAME_NEED_MORE;
    if (buf[i] != BRS__FIX_SOH) {
        *msglen = resync(buf, len);
        return BRS__FIX_FRAME_GARBLED;
    }
    i++;
    if (len < i + 2)
        return BRS__FIX_FRAME_NEED_MORE;
    if (buf[i] != '9' || buf[i + 1] != '=') {
        *msglen = resync(buf, len);
        return BRS__FIX_FRAME_GARBLED;
    }
    i += 2;
    uint64_t body = 0;
    size_t digits = 0;
    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
        body = body * 10 + (uint64_t)(buf[i] - '0');
        if (++digits > 10) /* 9=0000072 is legal, absurd padding is not */
            break;
        i++;
    }
    if (i >= len)
        return BRS__FIX_FRAME_NEED_MORE;
    if (digits == 0 || digits > 10 || buf[i] != BRS__FIX_SOH) {
        *msglen = resync(buf, len);
        return BRS__FIX_FRAME_GARBLED;
    }
    i++;
    uint64_t total = i + body + 7;
    if (total > max_len) {
        *msglen = resync(buf, len);
        return BRS__FIX_FRAME_TOO_BIG;
    }
    if (len < total) {
        /* The start of the next message inside what BodyLength claims means
         * the length is wrong: drop up to it now rather than wait for bytes
         * the peer may never send (it waits for our answer). */
        const char *nx = memmem(buf + i, len - i, "\0018=FIX", 6);
        if (nx) {
            *msglen = (size_t)(nx - buf) + 1;
            return BRS__FIX_FRAME_BAD_LENGTH;
        }
        return BRS__FIX_FRAME_NEED_MORE;
    }
    const char *t = buf + i + body;
    if (t[0] != '1' || t[1] != '0' || t[2] != '=' || t[6] != BRS__FIX_SOH ||
        (i + body > 0 && t[-1] != BRS__FIX_SOH) || t[3] < '0' || t[3] > '9' || t[4] < '0' ||
        t[4] > '9' || t[5] < '0' || t[5] > '9') {
        *msglen = resync(buf, len);
        if (*msglen == 0)
            *msglen = 1;
        return BRS__FIX_FRAME_BAD_LENGTH;
    }
    unsigned want = (unsigned)((t[3] - '0') * 100 + (t[4] - '0') * 10 + (t[5] - '0'));
    *msglen = (size_t)total;
    if (brs__fix_checksum(buf, i + body) != want)
        return BRS__FIX_FRAME_BAD_CHECKSUM;
    return BRS__FIX_FRAME_OK;
}

/* ---- parser ---------------------------------------------------------------- */

/* Required body tags of the message types the gateway reads and writes,
 * checked whatever `validate` says (the application relies on them; with
 * validation on the dictionary checks every message type fully). */
typedef struct required_spec {
    const char *msgtype;
    uint32_t tags[8];
} required_spec;

static const required_spec required[] = {
    {"A", {98, 108, 0}},
    {"1", {112, 0}},
    {"2", {7, 16, 0}},
    {"3", {45, 0}},
    {"4", {36, 0}},
    {"D", {11, 55, 54, 60, 38, 40, 0}},
    {"F", {41, 11, 55, 54, 60, 0}},
    {"G", {41, 11, 55, 54, 60, 38, 40, 0}},
    {"V", {262, 263, 264, 267, 146, 0}},
    {"H", {11, 55, 54, 0}},
    {"q", {11, 530, 60, 0}},
    {"8", {37, 17, 150, 39, 55, 54, 151, 14}},
    {"9", {37, 11, 41, 39, 434, 0}},
    {"W", {268, 0}},
    {"X", {268, 0}},
    {"Y", {262, 0}},
};

int brs__fix_msgtype_known(const char *mt)
{
    return brs__fix_dict_find(mt) >= 0;
}

void brs__fix_msg_init(brs__fix_msg *m)
{
    memset(m, 0, sizeof *m);
    m->fields = m->fields_inline;
    m->max_fields = BRS__FIX_MAX_FIELDS;
    m->dict = -1;
}

void brs__fix_msg_fields(brs__fix_msg *m, brs__fix_field *arr, uint32_t cap)
{
    if (cap > 65535)
        cap = 65535; /* tag_pos is 16 bits */
    m->fields = arr;
    m->max_fields = cap;
}

static void reject(brs__fix_msg *m, int reason, uint32_t tag)
{
    if (m->reject_reason < 0) {
        m->reject_reason = reason;
        m->reject_tag = tag;
    }
}

static int present(const brs__fix_msg *m, uint32_t tag)
{
    return brs__fix_get(m, tag) != NULL;
}

/* One open repeating group while parsing. */
typedef struct gframe {
    const brs__fix_dict_group *g;
    uint64_t count, seen;
} gframe;

static uint64_t group_count(brs__fix_msg *m, const char *v, size_t vlen, uint32_t tag, int *ok)
{
    uint64_t c = 0;
    *ok = vlen > 0 && vlen < 6;
    for (size_t k = 0; *ok && k < vlen; k++) {
        if ((unsigned)(v[k] - '0') >= 10u)
            *ok = 0;
        else
            c = c * 10 + (uint64_t)(v[k] - '0');
    }
    if (!*ok)
        reject(m, BRS__FIX_RR_BAD_FORMAT, tag);
    return c;
}

int brs__fix_parse(brs__fix_msg *m, const char *buf, size_t len)
{
    if (len > UINT32_MAX || len < 7)
        return BRS_E_PARSE;
    m->buf = buf;
    m->len = (uint32_t)len;
    m->nfields = 0;
    m->msgtype[0] = 0;
    m->seq = 0;
    m->reject_reason = -1;
    m->reject_tag = 0;
    m->dict = -1;
    m->too_many = 0;
    if (++m->gen == 0) { /* wrapped: clear the stamps once every 4G messages */
        memset(m->tag_gen, 0, sizeof m->tag_gen);
        m->gen = 1;
    }
    const uint32_t gen = m->gen;
    const int allow_empty = (m->flags & BRS__FIX_PARSE_ALLOW_EMPTY) != 0;
    gframe gs[BRS__FIX_GROUP_DEPTH];
    int depth = 0;
    uint32_t nseen = 0, last_tag = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t tag = 0;
        size_t t0 = i;
        while (i < len && (unsigned)(buf[i] - '0') < 10u) {
            tag = tag * 10 + (uint32_t)(buf[i] - '0');
            i++;
        }
        if (i >= len || buf[i] != '=' || i - t0 > 8)
            return BRS_E_PARSE; /* no readable tag: garbled */
        if (i == t0 || tag == 0)
            reject(m, BRS__FIX_RR_INVALID_TAG, tag);
        size_t v0 = ++i;
#if defined(__SSE2__)
        /* find the SOH 16 bytes at a time while a whole block is inside the message */
        const __m128i soh = _mm_set1_epi8(BRS__FIX_SOH);
        for (;;) {
            if (i + 16 > len) {
                while (i < len && buf[i] != BRS__FIX_SOH)
                    i++;
                break;
            }
            unsigned mask = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(buf + i)), soh));
            if (mask) {
                i += (size_t)__builtin_ctz(mask);
                break;
            }
            i += 16;
        }
#else
        while (i < len && buf[i] != BRS__FIX_SOH)
            i++;
#endif
        if (i >= len)
            return BRS_E_PARSE;
        size_t vlen = i - v0;
        i++;
        /* BeginString, BodyLength, MsgType first, in that order, or garbled */
        if (nseen < 3) {
            static const uint32_t hdr[3] = {8, 9, 35};
            if (tag != hdr[nseen])
                return BRS_E_PARSE;
            if (tag == 35) {
                if (vlen == 0)
                    return BRS_E_PARSE;
                if (vlen < sizeof m->msgtype) {
                    memcpy(m->msgtype, buf + v0, vlen);
                    m->msgtype[vlen] = 0;
                    m->dict = brs__fix_dict_find(m->msgtype);
                }
            }
        }
        nseen++;
        last_tag = tag;
        if (m->nfields >= m->max_fields) {
            /* read on to the trailer (the message stays framed), store nothing */
            m->too_many++;
            reject(m, BRS__FIX_RR_OTHER, 0);
            continue;
        }
        if (vlen == 0 && !allow_empty)
            reject(m, BRS__FIX_RR_NO_VALUE, tag);
        uint32_t idx = m->nfields;
        brs__fix_field *f = &m->fields[idx];
        f->tag = tag;
        f->off = (uint32_t)v0;
        f->len = (uint32_t)vlen;
        m->nfields++;
        /* repeating groups: a tag that is no member of the innermost open group
         * closes it (its count is then checked) and is tried one level up */
        const brs__fix_dict_group *nested = NULL;
        while (depth > 0) {
            gframe *gf = &gs[depth - 1];
            if (brs__fix_dict_member(gf->g, tag, &nested)) {
                if (tag == gf->g->delim)
                    gf->seen++;
                else if (gf->seen == 0)
                    reject(m, BRS__FIX_RR_GROUP_ORDER, tag);
                break;
            }
            if (gf->seen != gf->count)
                reject(m, BRS__FIX_RR_GROUP_COUNT, gf->g->count_tag);
            depth--;
            nested = NULL;
        }
        if (depth > 0) {
            f->group = gs[depth - 1].g->count_tag;
            f->depth = (uint16_t)depth;
        } else {
            f->group = 0;
            f->depth = 0;
            if (tag < BRS__FIX_TAG_INDEX) {
                if (m->tag_gen[tag] == gen) {
                    if (tag != 10) /* appears twice outside a group */
                        reject(m, BRS__FIX_RR_DUPLICATE_TAG, tag);
                } else {
                    m->tag_gen[tag] = gen;
                    m->tag_pos[tag] = (uint16_t)idx;
                }
            } else if (idx < 512) { /* bounded: a message of many high tags costs O(n) */
                for (uint32_t k = 0; k < idx; k++)
                    if (m->fields[k].tag == tag && m->fields[k].group == 0) {
                        reject(m, BRS__FIX_RR_DUPLICATE_TAG, tag);
                        break;
                    }
            }
            if (tag <= BRS__FIX_DICT_MAXTAG && brs__fix_dict_type[tag] == BRS__FIX_DT_NUMINGROUP)
                nested = brs__fix_dict_group_at(m->dict, tag);
            if (tag == 34) {
                uint64_t sq = 0;
                int ok = vlen > 0 && vlen < 10;
                for (size_t k = 0; ok && k < vlen; k++) {
                    char ch = buf[v0 + k];
                    if (ch < '0' || ch > '9')
                        ok = 0;
                    sq = sq * 10 + (uint64_t)(ch - '0');
                }
                if (ok)
                    m->seq = (uint32_t)sq;
                else
                    reject(m, BRS__FIX_RR_BAD_FORMAT, 34);
            }
        }
        if (nested) {
            int ok;
            uint64_t c = group_count(m, buf + v0, vlen, tag, &ok);
            if (ok && c > 0 && depth < BRS__FIX_GROUP_DEPTH) {
                gs[depth].g = nested;
                gs[depth].count = c;
                gs[depth].seen = 0;
                depth++;
            }
        }
    }
    while (depth > 0) {
        depth--;
        if (gs[depth].seen != gs[depth].count)
            reject(m, BRS__FIX_RR_GROUP_COUNT, gs[depth].g->count_tag);
    }
    if (nseen < 4 || last_tag != 10)
        return BRS_E_PARSE;
    if (m->msgtype[0] == 0) {
        reject(m, BRS__FIX_RR_INVALID_MSGTYPE, 35);
        return BRS_OK;
    }
    for (size_t r = 0; r < sizeof required / sizeof required[0]; r++) {
        if (required[r].msgtype[0] != m->msgtype[0] || strcmp(required[r].msgtype, m->msgtype) != 0)
            continue;
        for (int k = 0; k < 8 && required[r].tags[k]; k++)
            if (!present(m, required[r].tags[k])) {
                reject(m, BRS__FIX_RR_REQUIRED_MISSING, required[r].tags[k]);
                break;
            }
        break;
    }
    return BRS_OK;
}

const brs__fix_field *brs__fix_get(const brs__fix_msg *m, uint32_t tag)
{
    if (tag < BRS__FIX_TAG_INDEX) {
        if (m->tag_gen[tag] != m->gen)
            return NULL;
        return &m->fields[m->tag_pos[tag]];
    }
    for (uint32_t k = 0; k < m->nfields; k++)
        if (m->fields[k].tag == tag && m->fields[k].group == 0)
            return &m->fields[k];
    return NULL;
}

int brs__fix_str(const brs__fix_msg *m, uint32_t tag, char *out, size_t cap)
{
    const brs__fix_field *f = brs__fix_get(m, tag);
    if (!f) {
        if (cap)
            out[0] = 0;
        return 0;
    }
    size_t n = f->len < cap - 1 ? f->len : cap - 1;
    memcpy(out, m->buf + f->off, n);
    out[n] = 0;
    return 1;
}

int brs__fix_uint(const brs__fix_msg *m, uint32_t tag, uint64_t *out)
{
    const brs__fix_field *f = brs__fix_get(m, tag);
    if (!f)
        return 0;
    if (f->len == 0 || f->len > 19)
        return -1;
    uint64_t v = 0;
    for (uint32_t k = 0; k < f->len; k++) {
        char c = m->buf[f->off + k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return 1;
}

int brs__fix_parse_decimal(const char *s, size_t n, int decimals, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i++;
    }
    if (i >= n)
        return -1;
    int64_t v = 0;
    int digits = 0, frac = -1;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (frac >= 0)
                return -1;
            frac = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return -1;
        if (frac >= 0) {
            if (frac >= decimals) {
                if (c != '0') /* finer than the instrument allows */
                    return -1;
                continue;
            }
            frac++;
        }
        if (++digits > 17)
            return -1;
        v = v * 10 + (c - '0');
    }
    if (digits == 0)
        return -1;
    for (int k = frac < 0 ? 0 : frac; k < decimals; k++) {
        if (v > INT64_MAX / 10)
            return -1;
        v *= 10;
    }
    *out = neg ? -v : v;
    return 1;
}

int brs__fix_decimal(const brs__fix_msg *m, uint32_t tag, int decimals, int64_t *out)
{
    const brs__fix_field *f = brs__fix_get(m, tag);
    if (!f)
        return 0;
    return brs__fix_parse_decimal(m->buf + f->off, f->len, decimals, out);
}

char brs__fix_char(const brs__fix_msg *m, uint32_t tag)
{
    const brs__fix_field *f = brs__fix_get(m, tag);
    if (!f || f->len != 1)
        return 0;
    return m->buf[f->off];
}

int brs__fix_is(const brs__fix_msg *m, uint32_t tag, const char *value)
{
    const brs__fix_field *f = brs__fix_get(m, tag);
    size_t n = strlen(value);
    return f && f->len == n && memcmp(m->buf + f->off, value, n) == 0;
}

/* ---- time ---------------------------------------------------------------- */

void brs__fix_format_time(int64_t ns, char out[32])
{
    /* The date/time part changes once a second: cache it, for two seconds at
     * once (a report queued a while ago carries its TransactTime beside a
     * SendingTime of now: one slot would reformat both every message). */
    static _Thread_local int64_t cached_sec[2] = {-1, -1};
    static _Thread_local char cached[2][24];
    static _Thread_local int victim;
    int64_t sec = ns / 1000000000;
    int ms = (int)((ns / 1000000) % 1000);
    int k = sec == cached_sec[0] ? 0 : sec == cached_sec[1] ? 1 : -1;
    if (k < 0) {
        k = victim;
        victim ^= 1;
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(cached[k], sizeof cached[k], "%Y%m%d-%H:%M:%S", &tm);
        cached_sec[k] = sec;
    }
    memcpy(out, cached[k], 17);
    out[17] = '.';
    out[18] = (char)('0' + ms / 100);
    out[19] = (char)('0' + ms / 10 % 10);
    out[20] = (char)('0' + ms % 10);
    out[21] = 0;
}

int brs__fix_parse_time(const char *s, size_t n, int64_t *ns)
{
    if (n < 17 || s[8] != '-' || s[11] != ':' || s[14] != ':')
        return -1;
    /* YYYYMMDD-HH:MM:SS, two digits at a time (every inbound message's
     * SendingTime is read for the accuracy check) */
    static const int pos[7] = {0, 2, 4, 6, 9, 12, 15};
    int dd[7];
    unsigned bad = 0;
    for (int k = 0; k < 7; k++) {
        unsigned a = (unsigned char)s[pos[k]] - '0', b = (unsigned char)s[pos[k] + 1] - '0';
        bad |= (a > 9) | (b > 9);
        dd[k] = (int)(a * 10 + b);
    }
    if (bad)
        return -1;
    int v[6] = {dd[0] * 100 + dd[1], dd[2], dd[3], dd[4], dd[5], dd[6]};
    /* int64 nanoseconds reach 2262: refuse years it cannot hold */
    if (v[0] < 1970 || v[0] > 2200 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return -1;
    int64_t frac = 0;
    if (n > 17) {
        if (s[17] != '.' || n == 18 || n > 27)
            return -1;
        /* the digits as an integer, then scaled once (no division per digit) */
        static const int64_t scale[10] = {0, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
        for (size_t k = 18; k < n; k++) {
            if (s[k] < '0' || s[k] > '9')
                return -1;
            frac = frac * 10 + (s[k] - '0');
        }
        frac *= scale[n - 18];
    }
    /* days from civil (proleptic Gregorian) */
    int y = v[0], mo = v[1], d = v[2];
    y -= mo <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *ns = ((days * 86400 + v[3] * 3600 + v[4] * 60 + v[5]) * 1000000000LL) + frac;
    return 0;
}
