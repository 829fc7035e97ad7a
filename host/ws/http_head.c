/* http_head.c: HTTP/1.x request and response heads parsed from bytes as they
 * arrive (http_head.h). Strict where leniency lets two readers disagree
 * (RFC 9112: no space before ':', no folded lines, no control bytes), so the
 * servers and the fuzzer see one grammar. */
#include "ws/http_head.h"

#include <string.h>
#include <strings.h>

static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-value bytes: HTAB, SP, VCHAR, obs-text; never CR, LF, NUL, DEL or another control */
static int is_vbyte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

enum { MORE = 0, DONE = 1 };

/* The next line from pos: [*ls, *le) without its CR LF (or LF). Returns 1, or
 * 0 when its LF has not arrived. */
static int next_line(const char *buf, size_t len, size_t pos, size_t *ls, size_t *le, size_t *next)
{
    const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
    if (!nl)
        return 0;
    *ls = pos;
    *le = (size_t)(nl - buf);
    if (*le > pos && buf[*le - 1] == '\r')
        (*le)--;
    *next = *le + 1 + (buf[*le] == '\r');
    return 1;
}

/* "HTTP/" DIGIT "." DIGIT at p (n bytes available): 1 with the major and minor digits, else 0. */
static int version(const char *p, size_t n, int *major, int *minor)
{
    if (n < 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
        return 0;
    *major = p[5] - '0';
    *minor = p[7] - '0';
    return 1;
}

/* Fields from pos to the blank line; returns DONE, MORE or an error (err_malformed
 * for bad syntax, err_big for too many fields or a head past max_head). */
static int fields(const char *buf, size_t len, size_t pos, size_t max_head, brs__http_head *h, int err_malformed,
                  int err_big)
{
    for (;;) {
        size_t ls, le, next;
        if (!next_line(buf, len, pos, &ls, &le, &next))
            return len >= max_head ? err_big : MORE;
        if (next > max_head)
            return err_big;
        if (le == ls) { /* the blank line */
            h->len = (uint32_t)next;
            return DONE;
        }
        if (buf[ls] == ' ' || buf[ls] == '\t') /* obs-fold */
            return err_malformed;
        size_t p = ls;
        while (p < le && is_tchar((unsigned char)buf[p]))
            p++;
        if (p == ls || p == le || buf[p] != ':')
            return err_malformed;
        size_t v = p + 1, ve = le;
        for (size_t i = v; i < le; i++)
            if (!is_vbyte((unsigned char)buf[i]))
                return err_malformed;
        while (v < ve && (buf[v] == ' ' || buf[v] == '\t'))
            v++;
        while (ve > v && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
            ve--;
        if (h->n_fields >= BRS__HTTP_MAX_FIELDS)
            return err_big;
        h->f[h->n_fields++] = (brs__http_field){(uint32_t)ls, (uint32_t)(p - ls), (uint32_t)v, (uint32_t)(ve - v)};
        pos = next;
    }
}

int brs__http_head_request(const char *buf, size_t len, size_t max_head, size_t max_target, brs__http_head *h)
{
    memset(h, 0, offsetof(brs__http_head, f));
    if (max_head > UINT32_MAX / 2)
        max_head = UINT32_MAX / 2;
    size_t pos = 0, ls, le, next;
    for (;;) { /* RFC 9112 2.2: empty lines before the request-line are ignored */
        if (!next_line(buf, len, pos, &ls, &le, &next)) {
            if (len >= max_head)
                return 431;
            /* fail early on what can never become a request line */
            for (size_t i = pos; i < len; i++)
                if (buf[i] != '\r' && !is_vbyte((unsigned char)buf[i]))
                    return 400;
            return MORE;
        }
        if (next > max_head)
            return 431;
        if (le > ls)
            break;
        pos = next;
    }
    for (size_t i = ls; i < le; i++)
        if (!is_vbyte((unsigned char)buf[i]) || buf[i] == '\t')
            return 400;
    size_t p = ls;
    while (p < le && is_tchar((unsigned char)buf[p]))
        p++;
    if (p == ls || p == le || buf[p] != ' ')
        return 400;
    h->method = (uint32_t)ls;
    h->method_len = (uint32_t)(p - ls);
    size_t t = ++p;
    while (p < le && (unsigned char)buf[p] > 0x20 && (unsigned char)buf[p] < 0x7f)
        p++;
    if (p == t || p == le || buf[p] != ' ')
        return 400;
    if (buf[t] != '/') /* origin-form only: no absolute-form, authority-form or '*' */
        return 400;
    if (p - t > max_target)
        return 414;
    h->target = (uint32_t)t;
    h->target_len = (uint32_t)(p - t);
    int major, minor;
    if (!version(buf + p + 1, le - p - 1, &major, &minor) || le - p - 1 != 8)
        return 400;
    if (major != 1)
        return 505;
    h->minor = minor;
    return fields(buf, len, next, max_head, h, 400, 431);
}

int brs__http_head_response(const char *buf, size_t len, size_t max_head, brs__http_head *h)
{
    memset(h, 0, offsetof(brs__http_head, f));
    if (max_head > UINT32_MAX / 2)
        max_head = UINT32_MAX / 2;
    size_t ls, le, next;
    if (!next_line(buf, len, 0, &ls, &le, &next))
        return len >= max_head ? -1 : MORE;
    if (next > max_head)
        return -1;
    for (size_t i = ls; i < le; i++)
        if (!is_vbyte((unsigned char)buf[i]))
            return -1;
    int major, minor;
    if (!version(buf, le, &major, &minor) || major != 1 || le < 12 || buf[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
    if (buf[9] == '0' || (le > 12 && buf[12] != ' '))
        return -1;
    h->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    h->minor = minor;
    h->reason = le > 12 ? 13 : 12;
    h->reason_len = (uint32_t)(le - h->reason);
    return fields(buf, len, next, max_head, h, -1, -1);
}

int brs__http_head_field(const brs__http_head *h, const char *buf, const char *name, const char **v, size_t *vlen)
{
    size_t nl = strlen(name);
    int n = 0;
    for (int i = 0; i < h->n_fields; i++) {
        const brs__http_field *f = &h->f[i];
        if (f->name_len != nl || strncasecmp(buf + f->name, name, nl) != 0)
            continue;
        if (n++ == 0) {
            if (v)
                *v = buf + f->value;
            if (vlen)
                *vlen = f->value_len;
        }
    }
    return n;
}

int brs__http_head_copy(const brs__http_head *h, const char *buf, const char *name, char *out, size_t cap)
{
    const char *v = NULL;
    size_t vl = 0;
    if (cap)
        out[0] = 0;
    if (!brs__http_head_field(h, buf, name, &v, &vl))
        return 0;
    if (vl >= cap)
        return -1;
    memcpy(out, v, vl);
    out[vl] = 0;
    return 1;
}

int brs__http_head_has_token(const brs__http_head *h, const char *buf, const char *name, const char *token)
{
    size_t nl = strlen(name), tl = strlen(token);
    for (int i = 0; i < h->n_fields; i++) {
        const brs__http_field *f = &h->f[i];
        if (f->name_len != nl || strncasecmp(buf + f->name, name, nl) != 0)
            continue;
        const char *p = buf + f->value, *end = p + f->value_len;
        while (p < end) {
            const char *c = memchr(p, ',', (size_t)(end - p));
            const char *e = c ? c : end;
            const char *s = p;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            const char *t = e;
            while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
                t--;
            if ((size_t)(t - s) == tl && strncasecmp(s, token, tl) == 0)
                return 1;
            p = c ? c + 1 : end;
        }
    }
    return 0;
}

int brs__http_head_content_length(const brs__http_head *h, const char *buf, uint64_t *n)
{
    int has = 0;
    *n = 0;
    for (int i = 0; i < h->n_fields; i++) {
        const brs__http_field *f = &h->f[i];
        if (f->name_len != 14 || strncasecmp(buf + f->name, "Content-Length", 14) != 0)
            continue;
        const char *p = buf + f->value, *end = p + f->value_len;
        for (;;) {
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            uint64_t v = 0;
            int digits = 0;
            for (; p < end && *p >= '0' && *p <= '9'; p++, digits++)
                v = v > (1ULL << 40) ? (1ULL << 40) + 1 : v * 10 + (uint64_t)(*p - '0');
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (!digits || (p < end && *p != ','))
                return -1;
            if (has && v != *n)
                return -2;
            has = 1;
            *n = v;
            if (p == end)
                break;
            p++;
        }
    }
    return has;
}
