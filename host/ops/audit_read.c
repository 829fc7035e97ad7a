/* audit_read.c: `bourse audit`'s readers: the order journal (requests, risk
 * refusals, routed children, WebSocket requests and reports), the session
 * stores (every ExecutionReport and OrderCancelReject sent) and the archive of
 * compacted days, each only as far as the last committed batch. Rows go to
 * audit.c to be linked, sorted and printed. */
#include "ops/audit_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "core/core.h"
#include "fix/codec.h"
#include "fix/recfile.h"
#include <cjson/cJSON.h>

const char *brs__aud_keep_name(audit *a, const char *name)
{
    if (a->n_names == a->cap_names) {
        size_t c = a->cap_names ? 2 * a->cap_names : 16;
        char **q = realloc(a->names, c * sizeof *q);
        if (!q)
            return NULL;
        a->names = q;
        a->cap_names = c;
    }
    char *k = strdup(name);
    if (k)
        a->names[a->n_names++] = k;
    return k;
}

/* ---- the rows' strings ------------------------------------------------------ */

#define AUD_FIELD_MAX 255      /* longer values are cut (the old fixed fields cut at 24-160) */
#define AUD_INTERN_LEN 24      /* strings up to this long are stored once */
#define AUD_INTERN_MAX (1u << 22) /* slots at most (16 MB); past half full, new strings are not interned */

static uint32_t str_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static astr text_put(audit *a, const char *s, size_t len)
{
    if (a->text_len + len + 1 > a->text_cap) {
        size_t c = a->text_cap ? a->text_cap : 1 << 16;
        while (c < a->text_len + len + 1)
            c *= 2;
        if (c > (size_t)UINT32_MAX + 1) {
            if (a->text_len + len + 1 > (size_t)UINT32_MAX)
                return 0; /* past what an astr can name */
            c = (size_t)UINT32_MAX + 1;
        }
        char *t = realloc(a->text, c);
        if (!t)
            return 0;
        if (!a->text)
            t[0] = 0, a->text_len = 1;
        a->text = t;
        a->text_cap = c;
    }
    astr off = (astr)a->text_len;
    memcpy(a->text + off, s, len);
    a->text[off + len] = 0;
    a->text_len += len + 1;
    return off;
}

static int intern_grow(audit *a)
{
    size_t c = a->intern_cap ? a->intern_cap * 2 : 1 << 12;
    uint32_t *t = calloc(c, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < a->intern_cap; i++) {
        uint32_t off = a->intern[i];
        if (!off)
            continue;
        const char *v = a->text + off;
        size_t k = str_hash(v, strlen(v)) & (c - 1);
        while (t[k])
            k = (k + 1) & (c - 1);
        t[k] = off;
    }
    free(a->intern);
    a->intern = t;
    a->intern_cap = c;
    return 0;
}

void brs__aud_set(audit *a, astr *dst, const char *s, size_t len)
{
    if (len > AUD_FIELD_MAX)
        len = AUD_FIELD_MAX;
    const char *nul = memchr(s, 0, len);
    if (nul)
        len = (size_t)(nul - s);
    *dst = 0;
    if (!len)
        return;
    if (len > AUD_INTERN_LEN) {
        if (!(*dst = text_put(a, s, len)))
            a->oom = 1;
        return;
    }
    if (a->intern_n * 2 >= a->intern_cap && a->intern_cap < AUD_INTERN_MAX && intern_grow(a) < 0) {
        a->oom = 1;
        return;
    }
    size_t k = str_hash(s, len) & (a->intern_cap - 1);
    for (uint32_t off; (off = a->intern[k]); k = (k + 1) & (a->intern_cap - 1))
        if (!strncmp(a->text + off, s, len) && a->text[off + len] == 0) {
            *dst = off;
            return;
        }
    if (!(*dst = text_put(a, s, len))) {
        a->oom = 1;
        return;
    }
    if (a->intern_n * 2 < a->intern_cap) { /* else full: kept, not interned */
        a->intern[k] = *dst;
        a->intern_n++;
    }
}

void brs__aud_setf(audit *a, astr *dst, const char *fmt, ...)
{
    char b[AUD_FIELD_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    brs__aud_set(a, dst, b, n < 0 ? 0 : (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

void brs__aud_free(audit *a)
{
    free(a->ev);
    free(a->text);
    free(a->intern);
    free(a->msg);
    for (size_t i = 0; i < a->n_names; i++)
        free(a->names[i]);
    free(a->names);
}

/* ---- rows ------------------------------------------------------------------- */

static aev *add(audit *a)
{
    if (a->n == a->cap) {
        size_t c = a->cap ? a->cap * 2 : 1024;
        aev *p = realloc(a->ev, c * sizeof *p);
        if (!p)
            return NULL;
        a->ev = p;
        a->cap = c;
    }
    aev *e = &a->ev[a->n];
    memset(e, 0, sizeof *e);
    e->n = e->anchor = a->n0 + a->n++;
    return e;
}

static void fld(audit *a, const brs__fix_msg *m, uint32_t tag, astr *dst)
{
    const brs__fix_field *f = brs__fix_get(m, tag);
    if (f)
        brs__aud_set(a, dst, brs__fix_val(m, f), f->len);
    else
        *dst = 0;
}

static int64_t msg_time(const brs__fix_msg *m, uint32_t tag)
{
    const brs__fix_field *f = brs__fix_get(m, tag);
    int64_t ns = 0;
    if (f && brs__fix_parse_time(brs__fix_val(m, f), f->len, &ns) == 0)
        return ns;
    return 0;
}

static const char *side_name(char c) { return c == '1' ? "buy" : c == '2' ? "sell" : ""; }



int brs__aud_map_file(const char *path, mapped *mf, brs_error *err)
{
    mf->p = NULL;
    mf->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
    }
    if (sb.st_size > 0) {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return brs__err(err, BRS_E_IO, "%s: %s", path, strerror(errno));
        }
        mf->p = p;
        mf->len = (size_t)sb.st_size;
        mf->mm = 1;
    }
    close(fd);
    return BRS_OK;
}

void brs__aud_unmap_file(mapped *mf)
{
    if (mf->p)
        munmap((void *)mf->p, mf->len);
}

/* The readers go through a file once: every 4 MB, the mapped pages before
 * pos are dropped (a journal of gigabytes stays out of the resident set; the
 * pages are read again from the file if ever touched). */
static void drop_read(const mapped *m, size_t pos, size_t *dropped)
{
    const size_t step = (size_t)4 << 20;
    if (!m->mm || pos - *dropped < step)
        return;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), upto = pos & ~(pg - 1);
    if (upto > *dropped)
        madvise((void *)(m->p + *dropped), upto - *dropped, MADV_DONTNEED);
    *dropped = upto;
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int brs__aud_journal_commit(audit *a, const mapped *j, const char *name, size_t *endp, brs_error *err)
{
    int ver = brs__fix_jfmt_detect((const char *)j->p, j->len);
    if (ver == BRS__FMT_BAD)
        return brs__fix_damage_err(err, name, 0, "a format header that does not check");
    size_t start = ver == BRS__FMT_V2 ? BRS__JFMT_HDR : ver == BRS__FMT_EMPTY ? j->len : 0;
    size_t ov = ver == BRS__FMT_V1 ? 0 : BRS__REC_CRC;
    size_t pos = start, end = 0, dropped = 0, bad = SIZE_MAX;
    uint32_t stored = 0, computed = 0;
    int any = 0;
    a->j_start = start;
    a->j_ov = ov;
    while (pos + 8 <= j->len) {
        drop_read(j, pos, &dropped);
        uint32_t type = rd32(j->p + pos), n = rd32(j->p + pos + 4);
        if (pos + 8 + n + ov > j->len) {
            if (ov)
                bad = pos;
            break;
        }
        if (ov && (stored = brs__fix_rec_stored((const char *)j->p + pos + 8 + n)) !=
                      (computed = brs__fix_jrec_crc((const char *)j->p + pos, n))) {
            bad = pos;
            break;
        }
        pos += 8 + (size_t)n + ov;
        if (type == J_COMMIT && n == 8) {
            memcpy(&a->committed, j->p + pos - 8 - ov, 8);
            end = pos;
            any = 1;
        }
    }
    if (bad != SIZE_MAX) { /* the restart's rule (fix/recfile.h) */
        brs__fix_commit_scan cs = {0};
        brs__fix_scan_commits((const char *)j->p + bad + 1, j->len - bad - 1, bad + 1, &cs);
        uint64_t rend = bad + 8 + (uint64_t)rd32(j->p + bad + 4) + ov, from, to;
        brs__fix_tear_window(bad, rend, j->len, &from, &to);
        int past = rend > j->len;
        int tear = brs__fix_tear_like((const char *)j->p + from, bad, rend, j->len);
        if (brs__fix_journal_bad_rule(&cs, any, a->committed, j->len, tear) == BRS__JBAD_DAMAGE) {
            char what[160];
            if (past)
                snprintf(what, sizeof what, "a record whose length runs past the end of the file");
            else
                snprintf(what, sizeof what, "record checksum mismatch (stored 0x%08x, computed 0x%08x)", stored,
                         computed);
            return brs__fix_damage_err(err, name, bad, what);
        }
    }
    if (!any) {
        if (ov && j->len > start + 20)
            return brs__fix_damage_err(err, name, bad != SIZE_MAX ? bad : start,
                                       "no COMMIT record: the file was cut (its first write ends with one)");
        a->committed = ov ? 0 : UINT64_MAX; /* version 1: from before commits, all counts */
        end = ov ? start : pos;
    }
    a->cut_journal = j->len - end;
    *endp = end;
    return BRS_OK;
}

/* Integer ticks as a decimal with d decimals ("12.3400"). */
static void dec_text(int64_t v, int d, char *out, size_t cap)
{
    if (d <= 0 || d > 18) {
        snprintf(out, cap, "%lld", (long long)v);
        return;
    }
    uint64_t p = 1, a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    for (int i = 0; i < d; i++)
        p *= 10;
    snprintf(out, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(a / p), d,
             (unsigned long long)(a % p));
}

static const char *const child_events[] = {"", "child_routed", "child_cancel_requested", "child_acknowledged",
                                           "child_fill", "child_cancelled", "child_rejected", "child_replaced"};

/* A routed child's step (JOURNAL_CHILD, docs/fix-gateway.md): a row of its
 * parent's history, `parent` and `child` set. Returns 0, or -1 if malformed. */
static int child_record(audit *a, const unsigned char *p, uint32_t n)
{
    if (n < CHILD_HDR || p[0] == 0 || p[0] >= sizeof child_events / sizeof *child_events)
        return -1;
    size_t la = p[3], lb = p[52], lc = p[53];
    if (CHILD_HDR + la + lb + lc > n)
        return -1;
    aev *e = add(a);
    if (!e)
        return -2;
    int64_t t, px, qty, cum;
    uint64_t child;
    int32_t reason;
    memcpy(&t, p + 8, 8);
    memcpy(&child, p + 16, 8);
    memcpy(&px, p + 24, 8);
    memcpy(&qty, p + 32, 8);
    memcpy(&cum, p + 40, 8);
    memcpy(&reason, p + 48, 4);
    e->event = child_events[p[0]];
    e->source = "journal";
    e->rank = 3;
    e->t = t - t % 1000000; /* the reports' clock resolution (ms): same-ms rows keep reading order */
    e->anchor = UINT64_MAX / 2 + e->n; /* after the parent's rows of the same ms */
    brs__aud_set(a, &e->session, (const char *)p + CHILD_HDR, la);
    brs__aud_set(a, &e->order_id, (const char *)p + CHILD_HDR + la, lb);
    e->parent = e->order_id;
    brs__aud_set(a, &e->venue, (const char *)p + CHILD_HDR + la + lb, lc);
    brs__aud_setf(a, &e->child, "%llu", (unsigned long long)child);
    brs__aud_setf(a, &e->side, "%s", p[1] == 0 ? "buy" : p[1] == 1 ? "sell" : "");
    if (p[0] == 1) { /* routed: the child's quantity and limit (in ticks) */
        brs__aud_setf(a, &e->qty, "%lld", (long long)qty);
        char b[40];
        dec_text(px, p[55], b, sizeof b);
        brs__aud_set(a, &e->price, b, strlen(b));
    } else if (p[0] == 4) {
        brs__aud_setf(a, &e->last_qty, "%lld", (long long)qty);
        char b[40];
        dec_text(px, p[55], b, sizeof b);
        brs__aud_set(a, &e->last_px, b, strlen(b));
    }
    if (p[0] >= 3)
        brs__aud_setf(a, &e->cum, "%lld", (long long)cum);
    if (reason)
        brs__aud_setf(a, &e->reason, "%s", brs_err_name(reason));
    return 0;
}

/* A JSON member as text: a string as is, a number in decimal. */
static void jtext(audit *a, const cJSON *o, const char *k, astr *dst)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(v))
        brs__aud_set(a, dst, v->valuestring, strlen(v->valuestring));
    else if (cJSON_IsNumber(v))
        brs__aud_setf(a, dst, "%.0f", v->valuedouble);
    else
        *dst = 0;
}

/* WebSocket order entry (docs/ws-order-entry.md): a request as received (WS)
 * or an order event as reported (WS_REPORT). The session is "ws:ACCOUNT" and
 * the order is named by its client_order_id, as the child records name a
 * WebSocket parent; a request's account gets its name from a report (names
 * are fixed in by brs__aud_ws_names once everything is read). Returns 0, -1 if
 * malformed, -2 out of memory; a request op that is no order step is skipped. */
static int ws_record(audit *a, const unsigned char *p, uint32_t n, int report)
{
    size_t hl = report ? 13u + (n >= 13 ? p[12] : 0) : 12u;
    if (n < hl)
        return -1;
    uint32_t acct = rd32(p);
    int64_t t;
    memcpy(&t, p + 4, 8);
    cJSON *o = cJSON_ParseWithLength((const char *)p + hl, n - hl);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return -1;
    }
    char kind[24];
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(o, report ? "event" : "op");
    snprintf(kind, sizeof kind, "%s", cJSON_IsString(kv) ? kv->valuestring : "");
    static const char *const req[][2] = {{"place", "received"}, {"cancel", "cancel_requested"},
                                         {"replace", "replace_requested"}};
    static const char *const rep[][2] = {{"accepted", "acknowledged"}, {"fill", "fill"}, {"cancelled", "cancelled"},
                                         {"rejected", "rejected"},     {"replaced", "replaced"},
                                         {"refused", "refused"}};
    const char *what = NULL;
    for (size_t i = 0; !report && i < sizeof req / sizeof *req; i++)
        if (!strcmp(kind, req[i][0]))
            what = req[i][1];
    for (size_t i = 0; report && i < sizeof rep / sizeof *rep; i++)
        if (!strcmp(kind, rep[i][0]))
            what = rep[i][1];
    if (!what) {
        cJSON_Delete(o);
        return report ? -1 : 0; /* a report is always an order event; a request may be a query */
    }
    aev *e = add(a);
    if (!e) {
        cJSON_Delete(o);
        return -2;
    }
    e->event = what;
    e->source = "journal";
    e->rank = report ? 2 : 0;
    e->t = t;
    e->ws_acct = acct + 1;
    if (report)
        brs__aud_setf(a, &e->session, "ws:%.*s", (int)p[12], (const char *)p + 13);
    else
        brs__aud_setf(a, &e->session, "ws:#%u", acct);
    jtext(a, o, "client_order_id", &e->clordid);
    e->order_id = e->clordid;
    jtext(a, o, "symbol", &e->symbol);
    jtext(a, o, "side", &e->side);
    jtext(a, o, "qty", &e->qty);
    jtext(a, o, "price", &e->price);
    if (report) {
        jtext(a, o, "last_qty", &e->last_qty);
        jtext(a, o, "last_px", &e->last_px);
        jtext(a, o, "cum_qty", &e->cum);
        jtext(a, o, "leaves_qty", &e->leaves);
        jtext(a, o, "status", &e->status);
        jtext(a, o, "venue", &e->venue);
        jtext(a, o, "reason", &e->reason);
    }
    cJSON_Delete(o);
    return 0;
}

/* Requests name their account by index: the name comes from its reports. */
void brs__aud_ws_names(audit *a)
{
    uint32_t top = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->ev[i].ws_acct > top)
            top = a->ev[i].ws_acct;
    if (!top || top > (1u << 24))
        return; /* none, or an index no configured account has: the rows keep "ws:#N" */
    size_t *named = calloc(top + 1, sizeof *named); /* account + 1 -> a report's row + 1 */
    if (!named)
        return; /* the rows keep "ws:#N" */
    for (size_t i = 0; i < a->n; i++)
        if (a->ev[i].ws_acct && a->ev[i].rank == 2 && !named[a->ev[i].ws_acct])
            named[a->ev[i].ws_acct] = i + 1;
    for (size_t i = 0; i < a->n; i++) {
        aev *e = &a->ev[i];
        if (e->ws_acct && e->rank == 0 && named[e->ws_acct]) /* a report's row: never e itself */
            e->session = a->ev[named[e->ws_acct] - 1].session;
    }
    free(named);
}

/* Inbound order-entry messages: received, cancel/replace/mass cancel asked, and
 * the risk checks' refusals. */
int brs__aud_read_journal(audit *a, const mapped *j, size_t end, brs_error *err)
{
    size_t pos = a->j_start, dropped = 0, ov = a->j_ov;
    while (pos + 8 + ov <= end) {
        drop_read(j, pos, &dropped);
        if (brs__aud_room(a))
            return brs__err(err, BRS_E_IO, "%s", a->spill_msg);
        uint32_t type = rd32(j->p + pos), n = rd32(j->p + pos + 4);
        const char *body = (const char *)j->p + pos + 8;
        pos += 8 + (size_t)n + ov;
        if (type == J_CHILD) {
            int r = child_record(a, (const unsigned char *)body, n);
            if (r == -2)
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            if (r)
                return brs__err(err, BRS_E_PARSE, "journal: the child record at byte %zu is malformed",
                                pos - 8 - (size_t)n - ov);
            continue;
        }
        if (type == J_WS || type == J_WS_REPORT) {
            int r = ws_record(a, (const unsigned char *)body, n, type == J_WS_REPORT);
            if (r == -2)
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            if (r)
                return brs__err(err, BRS_E_PARSE, "journal: the WebSocket %s at byte %zu is malformed",
                                type == J_WS ? "request" : "report", pos - 8 - (size_t)n - ov);
            continue;
        }
        if ((type & ~J_RISK_REFUSED) >= J_FIRST_SPECIAL && !(type & J_RISK_REFUSED))
            continue; /* commit, end of day, snapshot, clock records */
        if (brs__fix_parse(a->msg, body, n) != BRS_OK)
            return brs__err(err, BRS_E_PARSE, "journal: the record at byte %zu is not a FIX message",
                            pos - 8 - (size_t)n - ov);
        const brs__fix_msg *m = a->msg;
        const char *what = !strcmp(m->msgtype, "D")   ? "received"
                           : !strcmp(m->msgtype, "F") ? "cancel_requested"
                           : !strcmp(m->msgtype, "G") ? "replace_requested"
                           : !strcmp(m->msgtype, "q") ? "mass_cancel_requested"
                                                      : NULL;
        if (!what)
            continue;
        aev *e = add(a);
        if (!e)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        e->event = what;
        e->source = "journal";
        e->rank = 0;
        e->client_t = msg_time(m, 52); /* the journal keeps the message as sent */
        e->t = e->client_t;            /* until its answer gives the gateway's time */
        e->msg_seq = m->seq;
        fld(a, m, 49, &e->session);
        fld(a, m, 11, &e->clordid);
        fld(a, m, 41, &e->orig);
        fld(a, m, 55, &e->symbol);
        fld(a, m, 38, &e->qty);
        fld(a, m, 44, &e->price);
        brs__aud_setf(a, &e->side, "%s", side_name(brs__fix_char(m, 54)));
        if (type & J_RISK_REFUSED) {
            aev *r = add(a);
            if (!r)
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            e = &a->ev[a->n - 2]; /* add may have moved it */
            *r = *e;
            r->n = r->anchor = a->n0 + a->n - 1;
            r->rank = 1;
            r->event = "risk_refused";
            brs__aud_setf(a, &r->reason, "refused by a pre-trade risk check (see the reject)");
        }
    }
    return BRS_OK;
}

/* Outbound ExecutionReports and OrderCancelRejects of one session store, up
 * to the committed batch. */
int brs__aud_read_store(audit *a, const char *path, const char *name, int archived, brs_error *err)
{
    if (!name)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    mapped s;
    int rc = brs__aud_map_file(path, &s, err);
    if (rc)
        return rc;
    brs__aud_read_store_bytes(a, &s, name, archived);
    brs__aud_unmap_file(&s);
    if (a->damage[0])
        return brs__err(err, BRS_E_CORRUPT, "%s", a->damage);
    if (a->oom == 2)
        return brs__err(err, BRS_E_IO, "%s", a->spill_msg);
    return a->oom ? brs__err(err, BRS_E_NOMEM, "out of memory") : BRS_OK;
}

/* A store record failing its check at pos: 1 when the restart would cut it
 * as a tear (fix/store.c, settle(): after a tag past the committed batch, or
 * holding a zero sector, or a tag cut by the end of the file, with no
 * committed tag after it), else 0 with the refusal in msg. */
static int store_torn(const mapped *s, size_t pos, unsigned char kind, uint64_t tag, uint64_t committed,
                      const char *name, int past, char *msg, size_t cap)
{
    if (tag > committed)
        return 1;
    int committed_after = 0;
    for (size_t q = pos + 1; q + STORE_HDR + BRS__REC_CRC <= s->len && !committed_after; q++) {
        const unsigned char *p = s->p + q;
        if (p[0] != 'T' || rd32(p + 5) != 8 || q + STORE_HDR + 8 + BRS__REC_CRC > s->len ||
            brs__fix_srec_crc((const char *)p, 8) != brs__fix_rec_stored((const char *)p + STORE_HDR + 8))
            continue;
        uint64_t b;
        memcpy(&b, p + STORE_HDR, 8);
        committed_after = b <= committed;
    }
    uint64_t rend = pos + STORE_HDR + (uint64_t)rd32(s->p + pos + 5) + BRS__REC_CRC, from, to;
    brs__fix_tear_window(pos, rend, s->len, &from, &to);
    int zeros = !past && brs__fix_tear_like((const char *)s->p + from, pos, rend, s->len);
    if ((zeros || (past && (kind == 'T' || kind == 0))) && !committed_after)
        return 1;
    if (past)
        snprintf(msg, cap, "%s: damaged at byte %zu: a record of kind 0x%02x whose length runs past the end of the file",
                 name, pos, kind);
    else
        snprintf(msg, cap, "%s: damaged at byte %zu: record checksum mismatch (stored 0x%08x, computed 0x%08x)",
                 name, pos, brs__fix_rec_stored((const char *)s->p + pos + STORE_HDR + rd32(s->p + pos + 5)),
                 brs__fix_srec_crc((const char *)s->p + pos, rd32(s->p + pos + 5)));
    return 0;
}

void brs__aud_read_store_bytes(audit *a, const mapped *sm, const char *name, int archived)
{
    const mapped s = *sm;
    size_t pos = 0, end = s.len, dropped = 0;
    /* its version (fix/recfile.h): a header, and a checksum after each record */
    int ver = brs__fix_sfmt_detect((const char *)s.p, s.len);
    if (ver == BRS__FMT_BAD) {
        snprintf(a->damage, sizeof a->damage, "%s: damaged at byte 0: a format header that does not check", name);
        return;
    }
    size_t start = ver == BRS__FMT_V2 ? BRS__SFMT_HDR : ver == BRS__FMT_EMPTY ? s.len : 0;
    size_t ov = ver == BRS__FMT_V1 ? 0 : BRS__REC_CRC;
    pos = start;
    if (archived) { /* what follows its last reset was copied into the next file: read it there */
        size_t z = 0;
        int has_z = 0;
        while (pos + STORE_HDR <= s.len) {
            drop_read(&s, pos, &dropped);
            uint32_t n = rd32(s.p + pos + 5);
            if (pos + STORE_HDR + n + ov > s.len)
                break;
            if (s.p[pos] == 'Z') {
                z = pos;
                has_z = 1;
            }
            pos += STORE_HDR + n + ov;
        }
        if (has_z)
            end = z;
        pos = start;
        dropped = 0;
    }
    uint64_t tag = 0; /* the batch tag before the record */
    while (pos + STORE_HDR <= end) {
        drop_read(&s, pos, &dropped);
        if (brs__aud_room(a)) {
            a->oom = 2; /* the spill failed: a->spill_msg */
            return;
        }
        unsigned char kind = s.p[pos];
        uint32_t n = rd32(s.p + pos + 5);
        int past = pos + STORE_HDR + n + ov > s.len;
        if (past && !ov)
            break; /* torn: never sent */
        if (ov && (past || brs__fix_rec_stored((const char *)s.p + pos + STORE_HDR + n) !=
                               brs__fix_srec_crc((const char *)s.p + pos, n))) {
            if (!store_torn(&s, pos, kind, tag, a->committed, name, past, a->damage, sizeof a->damage))
                return; /* damage: a->damage says where */
            break; /* torn or never committed: never sent */
        }
        const char *body = (const char *)s.p + pos + STORE_HDR;
        if (kind == 'T' && n == 8) {
            uint64_t b;
            memcpy(&b, body, 8);
            tag = b;
            if (b > a->committed)
                break; /* a batch the journal never committed: never sent */
        } else if (kind == 'O' && brs__fix_parse(a->msg, body, n) == BRS_OK &&
                   (!strcmp(a->msg->msgtype, "8") || !strcmp(a->msg->msgtype, "9"))) {
            const brs__fix_msg *m = a->msg;
            char et = brs__fix_char(m, 150);
            const char *what = NULL;
            if (!strcmp(m->msgtype, "9"))
                what = "cancel_rejected";
            else
                switch (et) {
                case '0': what = "acknowledged"; break;
                case 'F': what = "fill"; break;
                case '4': what = "cancelled"; break;
                case '5': what = "replaced"; break;
                case '8': what = "rejected"; break;
                case 'C': what = "expired"; break;
                default: what = NULL; break; /* I: status reports change nothing */
                }
            if (what) {
                aev *e = add(a);
                if (!e) {
                    a->oom = 1;
                    return;
                }
                e->event = what;
                e->source = name;
                e->rank = 2;
                e->t = msg_time(m, 60) ? msg_time(m, 60) : msg_time(m, 52);
                e->msg_seq = m->seq;
                fld(a, m, 56, &e->session);
                fld(a, m, 37, &e->order_id);
                if (!strcmp(brs__aud_s(a, e->order_id), "NONE"))
                    e->order_id = 0;
                fld(a, m, 11, &e->clordid);
                fld(a, m, 41, &e->orig);
                fld(a, m, 55, &e->symbol);
                fld(a, m, 38, &e->qty);
                fld(a, m, 44, &e->price);
                fld(a, m, 32, &e->last_qty);
                fld(a, m, 31, &e->last_px);
                fld(a, m, 14, &e->cum);
                fld(a, m, 151, &e->leaves);
                fld(a, m, 39, &e->status);
                fld(a, m, 17, &e->exec_id);
                fld(a, m, 58, &e->reason);
                brs__aud_setf(a, &e->side, "%s", side_name(brs__fix_char(m, 54)));
                /* LastMkt: the venue a fill happened on (when the config names its venues) */
                fld(a, m, 30, &e->venue);
            }
        }
        pos += STORE_HDR + n + ov;
    }
    if (!archived)
        a->cut_store += s.len - pos;
}


int brs__aud_has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int cmp_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* Archived journals (each up to its own last COMMIT) and stores (each up to
 * its last reset), oldest first by the timestamp in their names
 * (NAME.YYYYMMDD-HHMMSS.NNNNNNNNN, docs/fix-gateway.md). */
int brs__aud_read_archive(audit *a, const char *dir, brs_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/archive", dir);
    DIR *d = opendir(path);
    if (!d)
        return BRS_OK; /* none yet */
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = BRS_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (strncmp(de->d_name, "orders.journal.", 15) && !strstr(de->d_name, ".store."))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **q = realloc(names, cap * sizeof *q);
            if (!q) {
                rc = brs__err(err, BRS_E_NOMEM, "out of memory");
                break;
            }
            names = q;
        }
        if (!(names[n] = strdup(de->d_name)))
            rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        else
            n++;
    }
    closedir(d);
    /* the timestamp follows the live name; journals and each session's
     * stores are each in time order */
    if (!rc && n)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(path, sizeof path, "%s/archive/%s", dir, names[i]);
        if (!strncmp(names[i], "orders.journal.", 15)) {
            mapped j;
            if ((rc = brs__aud_map_file(path, &j, err)))
                break;
            uint64_t cut = a->cut_journal;
            size_t end = 0;
            rc = brs__aud_journal_commit(a, &j, path, &end, err);
            a->cut_journal = cut; /* archived after a commit: what follows it was never answered */
            if (!rc && (rc = brs__aud_read_journal(a, &j, end, err)))
                brs__err_prefix(err, "%s", path);
            brs__aud_unmap_file(&j);
        } else {
            char src[300];
            snprintf(src, sizeof src, "archive/%s", names[i]);
            a->committed = UINT64_MAX; /* archived once its batches were committed */
            rc = brs__aud_read_store(a, path, brs__aud_keep_name(a, src), 1, err);
        }
    }
    a->committed = 0; /* the live journal says */
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
