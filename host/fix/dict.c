/* dict.c: validation of inbound FIX messages against the compiled-in FIX 4.4
 * data dictionary (dict_fix44.c): the checks QuickFIX's DataDictionary makes,
 * with the SessionRejectReason the FIX 4.4 session protocol assigns to each.
 * One pass over the parsed fields plus the required lists; no allocation. */
#include "fix/dict.h"

#include <string.h>

#include "fix/codec.h"

const brs__fix_dict_group *brs__fix_dict_group_at(int msg, uint32_t count_tag)
{
    for (int pass = 0; pass < 2; pass++) {
        int mi = pass == 0 ? msg : BRS__FIX_DICT_HEADER;
        if (mi < 0 || !brs__fix_dict_has(mi, count_tag))
            continue;
        const brs__fix_dict_msg *d = &brs__fix_dict_msgs[mi];
        for (uint32_t k = 0; k < d->n; k++) {
            const brs__fix_dict_item *it = &brs__fix_dict_items[d->first + k];
            if (it->tag == count_tag && it->group >= 0)
                return &brs__fix_dict_groups[it->group];
        }
    }
    return NULL;
}

int brs__fix_dict_member(const brs__fix_dict_group *g, uint32_t tag,
                         const brs__fix_dict_group **nested)
{
    const brs__fix_dict_item *it = &brs__fix_dict_items[g->first];
    for (uint32_t k = 0; k < g->n; k++)
        if (it[k].tag == tag) {
            *nested = it[k].group >= 0 ? &brs__fix_dict_groups[it[k].group] : NULL;
            return 1;
        }
    return 0;
}

static int digits(const char *v, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t k = 0; k < n; k++)
        if ((unsigned)(v[k] - '0') >= 10u)
            return 0;
    return 1;
}

static int num2(const char *v, int lo, int hi)
{
    if (!digits(v, 2))
        return 0;
    int x = (v[0] - '0') * 10 + (v[1] - '0');
    return x >= lo && x <= hi;
}

/* HH:MM:SS[.fraction] */
static int time_ok(const char *v, size_t n)
{
    if (n < 8 || v[2] != ':' || v[5] != ':' || !num2(v, 0, 23) || !num2(v + 3, 0, 59) ||
        !num2(v + 6, 0, 60))
        return 0;
    if (n == 8)
        return 1;
    return v[8] == '.' && n <= 18 && digits(v + 9, n - 9);
}

/* YYYYMMDD */
static int date_ok(const char *v, size_t n)
{
    return n == 8 && digits(v, 4) && num2(v + 4, 1, 12) && num2(v + 6, 1, 31);
}

static int format_ok(int type, const char *v, size_t n)
{
    switch (type) {
    case BRS__FIX_DT_CHAR: return n == 1;
    case BRS__FIX_DT_BOOLEAN: return n == 1 && (v[0] == 'Y' || v[0] == 'N');
    case BRS__FIX_DT_INT:
        if (n && v[0] == '-')
            v++, n--;
        return n <= 18 && digits(v, n);
    case BRS__FIX_DT_UINT:
    case BRS__FIX_DT_NUMINGROUP: return n <= 18 && digits(v, n);
    case BRS__FIX_DT_DAYOFMONTH: return n <= 2 && digits(v, n) && (n == 1 ? v[0] != '0' : num2(v, 1, 31));
    case BRS__FIX_DT_FLOAT: {
        /* [-]digits[.digits]: no '+', no exponent, at least one digit */
        size_t k = 0, nd = 0;
        int dot = 0;
        if (n && v[0] == '-')
            k++;
        for (; k < n; k++) {
            if (v[k] == '.') {
                if (dot++)
                    return 0;
            } else if ((unsigned)(v[k] - '0') < 10u) {
                nd++;
            } else {
                return 0;
            }
        }
        return nd > 0;
    }
    case BRS__FIX_DT_UTCTIMESTAMP:
        return n >= 17 && date_ok(v, 8) && v[8] == '-' && time_ok(v + 9, n - 9);
    case BRS__FIX_DT_UTCTIMEONLY: return time_ok(v, n);
    case BRS__FIX_DT_DATE: return date_ok(v, n);
    case BRS__FIX_DT_MONTHYEAR:
        if (n < 6 || !digits(v, 4) || !num2(v + 4, 1, 12))
            return 0;
        if (n == 6)
            return 1;
        if (n == 8 && v[6] == 'w')
            return v[7] >= '1' && v[7] <= '5';
        return n == 8 && num2(v + 6, 1, 31);
    default: return 1; /* STRING, MULTI, DATA, CURRENCY, EXCHANGE, COUNTRY */
    }
}

static int enum_has(uint32_t tag, const char *v, size_t n)
{
    const char *const *e = &brs__fix_dict_enum[brs__fix_dict_enum_first[tag]];
    for (uint32_t k = 0; k < brs__fix_dict_enum_count[tag]; k++)
        if (e[k][0] == v[0] && strlen(e[k]) == n && memcmp(e[k], v, n) == 0)
            return 1;
    return 0;
}

static int enum_ok(int type, uint32_t tag, const char *v, size_t n)
{
    const uint64_t *cm = brs__fix_dict_cmask[tag];
    if (cm[0] | cm[1]) {
        unsigned char c = (unsigned char)v[0];
        return n == 1 && c < 128 && (cm[c >> 6] >> (c & 63) & 1u);
    }
    if (type != BRS__FIX_DT_MULTI)
        return enum_has(tag, v, n);
    size_t a = 0;
    for (size_t k = 0; k <= n; k++)
        if (k == n || v[k] == ' ') {
            if (k == a || !enum_has(tag, v + a, k - a))
                return 0;
            a = k + 1;
        }
    return 1;
}

/* The required members of one group instance starting at field k (its
 * delimiter, at nesting depth d): missing one gives its tag, else 0. */
static uint32_t instance_missing(const brs__fix_msg *m, uint32_t k, const brs__fix_dict_group *g,
                                 uint16_t d)
{
    uint32_t end = k + 1;
    while (end < m->nfields && m->fields[end].depth >= d &&
           !(m->fields[end].depth == d && m->fields[end].tag == g->delim))
        end++;
    const brs__fix_dict_item *it = &brs__fix_dict_items[g->first];
    for (uint32_t q = 0; q < g->n; q++) {
        if (!it[q].required)
            continue;
        uint32_t j = k;
        while (j < end && !(m->fields[j].depth == d && m->fields[j].tag == it[q].tag))
            j++;
        if (j == end)
            return it[q].tag;
    }
    return 0;
}

static int present(const brs__fix_msg *m, uint32_t tag)
{
    return brs__fix_get(m, tag) != NULL;
}

int brs__fix_dict_validate(const brs__fix_msg *m, const brs__fix_valid_opts *o, uint32_t *tag)
{
    const int msg = m->dict;
    *tag = 35;
    if (msg < 0)
        return BRS__FIX_RR_INVALID_MSGTYPE;
    const brs__fix_dict_group *stk[BRS__FIX_GROUP_DEPTH + 1] = {0};
    int phase = 0; /* 0 header, 1 body, 2 trailer */
    for (uint32_t k = 0; k < m->nfields; k++) {
        const brs__fix_field *f = &m->fields[k];
        const uint32_t t = f->tag;
        *tag = t;
        const int type = t <= BRS__FIX_DICT_MAXTAG ? brs__fix_dict_type[t] : BRS__FIX_DT_NONE;
        if (type == BRS__FIX_DT_NONE) {
            if (t >= 5000 ? o->user_defined_fields : !o->allow_unknown_msg_fields)
                return BRS__FIX_RR_INVALID_TAG;
            continue;
        }
        const char *v = m->buf + f->off;
        if (f->len == 0) {
            if (o->fields_have_values)
                return BRS__FIX_RR_NO_VALUE;
        } else {
            if (!format_ok(type, v, f->len))
                return BRS__FIX_RR_BAD_FORMAT;
            if (brs__fix_dict_enum_count[t] && t != 35 && !enum_ok(type, t, v, f->len))
                return BRS__FIX_RR_BAD_VALUE;
        }
        const uint16_t d = f->depth;
        if (d == 0) {
            int kind = brs__fix_dict_has(BRS__FIX_DICT_HEADER, t)    ? 0
                       : brs__fix_dict_has(BRS__FIX_DICT_TRAILER, t) ? 2
                                                                      : 1;
            if (kind < phase && o->fields_out_of_order)
                return BRS__FIX_RR_OUT_OF_ORDER;
            if (kind > phase)
                phase = kind;
            if (kind == 1 && !brs__fix_dict_has(msg, t) && !o->allow_unknown_msg_fields)
                return BRS__FIX_RR_TAG_NOT_DEFINED;
        } else if (d <= BRS__FIX_GROUP_DEPTH && stk[d - 1] && t == stk[d - 1]->delim) {
            uint32_t miss = instance_missing(m, k, stk[d - 1], d);
            if (miss) {
                *tag = miss;
                return BRS__FIX_RR_REQUIRED_MISSING;
            }
        }
        if (type == BRS__FIX_DT_NUMINGROUP && d < BRS__FIX_GROUP_DEPTH) {
            const brs__fix_dict_group *nested = NULL;
            if (d == 0)
                nested = brs__fix_dict_group_at(msg, t);
            else if (stk[d - 1])
                brs__fix_dict_member(stk[d - 1], t, &nested);
            stk[d] = nested;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        const brs__fix_dict_msg *dm = &brs__fix_dict_msgs[pass == 0 ? BRS__FIX_DICT_HEADER : msg];
        for (uint32_t k = 0; k < dm->req_n; k++) {
            uint32_t t = brs__fix_dict_req[dm->req_first + k];
            if (!present(m, t)) {
                *tag = t;
                return BRS__FIX_RR_REQUIRED_MISSING;
            }
        }
    }
    *tag = 0;
    return -1;
}
