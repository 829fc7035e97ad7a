/* audit.c: `bourse audit STATE_DIR`: what happened to each order, rebuilt
 * from what `bourse serve` keeps anyway: the order journal (every order-entry
 * message as received, with the risk decision) and the session stores (every
 * message sent, so every ExecutionReport and OrderCancelReject). Both are read
 * without being changed (the gateway may be running) and only as far as the
 * last committed batch, exactly the cut a restart makes, so the audit after a
 * crash is the history the clients were told. docs/operations.md, "Audit". */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "fix/codec.h"

/* The journal's record types (docs/fix-gateway.md, "Journal records"). */
#define J_COMMIT 0x7ffffffdu
#define J_FIRST_SPECIAL 0x7fffffe0u /* records that are not a session's message */
#define J_CHILD 0x7fffffe2u
#define CHILD_HDR 56u
#define J_RISK_REFUSED 0x80000000u
#define STORE_HDR 9

typedef struct aev {
    int64_t t;      /* ns since the epoch, the gateway's clock */
    int64_t client_t; /* requests: the client's SendingTime */
    int rank;       /* same time: requests before their answers */
    uint64_t n;     /* reading order, the last tie-break */
    uint64_t anchor; /* reports: n; requests: their answer's n (so a request sorts just before it) */
    char session[64];
    char order_id[24]; /* "" until linked */
    char clordid[48], orig[48];
    const char *event;
    char side[8], symbol[24], qty[24], price[24], last_qty[24], last_px[24], cum[24], leaves[24];
    char status[4], exec_id[24], venue[24], parent[72], child[24];
    char reason[160];
    const char *source; /* "journal" or the store's file name */
    uint32_t msg_seq;
} aev;

typedef struct audit {
    aev *ev;
    size_t n, cap;
    brs__fix_msg *msg;
    uint64_t committed; /* last committed batch; UINT64_MAX: the journal has no COMMIT (all counts) */
    uint64_t cut_journal, cut_store; /* bytes past the commit, left out */
    char **names; /* the files events came from (their source column) */
    size_t n_names, cap_names;
} audit;

static const char *keep_name(audit *a, const char *name)
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
    e->n = e->anchor = a->n++;
    return e;
}

static void fld(const brs__fix_msg *m, uint32_t tag, char *out, size_t cap)
{
    if (!brs__fix_str(m, tag, out, cap))
        out[0] = 0;
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

/* A file mapped read-only (len 0: empty, p NULL). */
typedef struct mapped {
    const unsigned char *p;
    size_t len;
} mapped;

static int map_file(const char *path, mapped *mf, brs_error *err)
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
    }
    close(fd);
    return BRS_OK;
}

static void unmap_file(mapped *mf)
{
    if (mf->p)
        munmap((void *)mf->p, mf->len);
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The last committed batch and where the committed part of the journal ends. */
static size_t journal_commit(audit *a, const mapped *j)
{
    size_t pos = 0, end = 0;
    int any = 0;
    while (pos + 8 <= j->len) {
        uint32_t type = rd32(j->p + pos), n = rd32(j->p + pos + 4);
        if (pos + 8 + n > j->len)
            break;
        pos += 8 + (size_t)n;
        if (type == J_COMMIT && n == 8) {
            memcpy(&a->committed, j->p + pos - 8, 8);
            end = pos;
            any = 1;
        }
    }
    if (!any) {
        a->committed = UINT64_MAX;
        end = pos;
    }
    a->cut_journal = j->len - end;
    return end;
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
    snprintf(e->session, sizeof e->session, "%.*s", (int)la, (const char *)p + CHILD_HDR);
    snprintf(e->order_id, sizeof e->order_id, "%.*s", (int)lb, (const char *)p + CHILD_HDR + la);
    snprintf(e->parent, sizeof e->parent, "%s", e->order_id);
    snprintf(e->venue, sizeof e->venue, "%.*s", (int)lc, (const char *)p + CHILD_HDR + la + lb);
    snprintf(e->child, sizeof e->child, "%llu", (unsigned long long)child);
    snprintf(e->side, sizeof e->side, "%s", p[1] == 0 ? "buy" : p[1] == 1 ? "sell" : "");
    if (p[0] == 1) { /* routed: the child's quantity and limit (in ticks) */
        snprintf(e->qty, sizeof e->qty, "%lld", (long long)qty);
        dec_text(px, p[55], e->price, sizeof e->price);
    } else if (p[0] == 4) {
        snprintf(e->last_qty, sizeof e->last_qty, "%lld", (long long)qty);
        dec_text(px, p[55], e->last_px, sizeof e->last_px);
    }
    if (p[0] >= 3)
        snprintf(e->cum, sizeof e->cum, "%lld", (long long)cum);
    if (reason)
        snprintf(e->reason, sizeof e->reason, "%s", brs_err_name(reason));
    return 0;
}

/* Inbound order-entry messages: received, cancel/replace/mass cancel asked, and
 * the risk checks' refusals. */
static int read_journal(audit *a, const mapped *j, size_t end, brs_error *err)
{
    size_t pos = 0;
    while (pos + 8 <= end) {
        uint32_t type = rd32(j->p + pos), n = rd32(j->p + pos + 4);
        const char *body = (const char *)j->p + pos + 8;
        pos += 8 + (size_t)n;
        if (type == J_CHILD) {
            int r = child_record(a, j->p + pos - n, n);
            if (r == -2)
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            if (r)
                return brs__err(err, BRS_E_PARSE, "journal: the child record at byte %zu is malformed",
                                pos - 8 - (size_t)n);
            continue;
        }
        if ((type & ~J_RISK_REFUSED) >= J_FIRST_SPECIAL && !(type & J_RISK_REFUSED))
            continue; /* commit, end of day, snapshot, clock records */
        if (brs__fix_parse(a->msg, body, n) != BRS_OK)
            return brs__err(err, BRS_E_PARSE, "journal: the record at byte %zu is not a FIX message",
                            pos - 8 - (size_t)n);
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
        fld(m, 49, e->session, sizeof e->session);
        fld(m, 11, e->clordid, sizeof e->clordid);
        fld(m, 41, e->orig, sizeof e->orig);
        fld(m, 55, e->symbol, sizeof e->symbol);
        fld(m, 38, e->qty, sizeof e->qty);
        fld(m, 44, e->price, sizeof e->price);
        snprintf(e->side, sizeof e->side, "%s", side_name(brs__fix_char(m, 54)));
        if (type & J_RISK_REFUSED) {
            aev *r = add(a);
            if (!r)
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            e = &a->ev[a->n - 2]; /* add may have moved it */
            *r = *e;
            r->n = r->anchor = a->n - 1;
            r->rank = 1;
            r->event = "risk_refused";
            snprintf(r->reason, sizeof r->reason, "refused by a pre-trade risk check (see the reject)");
        }
    }
    return BRS_OK;
}

/* Outbound ExecutionReports and OrderCancelRejects of one session store, up
 * to the committed batch. */
static int read_store(audit *a, const char *path, const char *name, int archived, brs_error *err)
{
    if (!name)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    mapped s;
    int rc = map_file(path, &s, err);
    if (rc)
        return rc;
    size_t pos = 0, end = s.len;
    if (archived) { /* what follows its last reset was copied into the next file: read it there */
        size_t z = 0;
        int has_z = 0;
        while (pos + STORE_HDR <= s.len) {
            uint32_t n = rd32(s.p + pos + 5);
            if (pos + STORE_HDR + n > s.len)
                break;
            if (s.p[pos] == 'Z') {
                z = pos;
                has_z = 1;
            }
            pos += STORE_HDR + n;
        }
        if (has_z)
            end = z;
        pos = 0;
    }
    while (pos + STORE_HDR <= end) {
        unsigned char kind = s.p[pos];
        uint32_t n = rd32(s.p + pos + 5);
        if (pos + STORE_HDR + n > s.len)
            break; /* torn: never sent */
        const char *body = (const char *)s.p + pos + STORE_HDR;
        if (kind == 'T' && n == 8) {
            uint64_t b;
            memcpy(&b, body, 8);
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
                    unmap_file(&s);
                    return brs__err(err, BRS_E_NOMEM, "out of memory");
                }
                e->event = what;
                e->source = name;
                e->rank = 2;
                e->t = msg_time(m, 60) ? msg_time(m, 60) : msg_time(m, 52);
                e->msg_seq = m->seq;
                fld(m, 56, e->session, sizeof e->session);
                fld(m, 37, e->order_id, sizeof e->order_id);
                if (!strcmp(e->order_id, "NONE"))
                    e->order_id[0] = 0;
                fld(m, 11, e->clordid, sizeof e->clordid);
                fld(m, 41, e->orig, sizeof e->orig);
                fld(m, 55, e->symbol, sizeof e->symbol);
                fld(m, 38, e->qty, sizeof e->qty);
                fld(m, 44, e->price, sizeof e->price);
                fld(m, 32, e->last_qty, sizeof e->last_qty);
                fld(m, 31, e->last_px, sizeof e->last_px);
                fld(m, 14, e->cum, sizeof e->cum);
                fld(m, 151, e->leaves, sizeof e->leaves);
                fld(m, 39, e->status, sizeof e->status);
                fld(m, 17, e->exec_id, sizeof e->exec_id);
                fld(m, 58, e->reason, sizeof e->reason);
                snprintf(e->side, sizeof e->side, "%s", side_name(brs__fix_char(m, 54)));
                /* LastMkt: the venue a fill happened on (when the config names its venues) */
                fld(m, 30, e->venue, sizeof e->venue);
            }
        }
        pos += STORE_HDR + n;
    }
    if (!archived)
        a->cut_store += s.len - pos;
    unmap_file(&s);
    return BRS_OK;
}

/* ---- linking, ordering, filtering ------------------------------------------ */

/* Requests carry no OrderID: the answers with the same session and ClOrdID
 * (or the OrigClOrdID they name) do. */
static void link_orders(audit *a)
{
    for (size_t i = 0; i < a->n; i++) {
        aev *e = &a->ev[i];
        if (e->order_id[0])
            continue;
        for (int pass = 0; pass < 2 && !e->order_id[0]; pass++) {
            const char *key = pass == 0 ? e->clordid : e->orig;
            if (!key[0])
                continue;
            for (size_t k = 0; k < a->n; k++) {
                const aev *x = &a->ev[k];
                if (x->order_id[0] && !strcmp(x->session, e->session) &&
                    (!strcmp(x->clordid, key) || !strcmp(x->orig, key))) {
                    snprintf(e->order_id, sizeof e->order_id, "%s", x->order_id);
                    break;
                }
            }
        }
    }
}

/* A request is timed by its answer (the first report or cancel reject with its
 * ClOrdID, sent in the same commit batch): the gateway's clock, so requests
 * and reports sort on one clock. */
static void time_requests(audit *a)
{
    for (size_t i = 0; i < a->n; i++) {
        aev *e = &a->ev[i];
        if (e->rank > 1 || !e->clordid[0])
            continue;
        const aev *best = NULL;
        for (size_t k = 0; k < a->n; k++) {
            const aev *x = &a->ev[k];
            if (x->rank == 2 && x->t && !strcmp(x->session, e->session) && !strcmp(x->clordid, e->clordid) &&
                (!best || x->n < best->n))
                best = x;
        }
        if (best) {
            e->t = best->t;
            e->anchor = best->anchor;
        }
    }
}

static int cmp_ev(const void *pa, const void *pb)
{
    const aev *a = pa, *b = pb;
    int c = strcmp(a->session, b->session);
    if (c)
        return c;
    /* by order (numerically), orders without an id last */
    size_t la = strlen(a->order_id), lb = strlen(b->order_id);
    if (!la != !lb)
        return la ? -1 : 1;
    if (la != lb)
        return la < lb ? -1 : 1;
    if ((c = strcmp(a->order_id, b->order_id)))
        return c;
    if (!la && (c = strcmp(a->clordid, b->clordid)))
        return c;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->anchor != b->anchor)
        return a->anchor < b->anchor ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

typedef struct filt {
    const char *order, *clordid, *session;
    int64_t since, until;
} filt;

/* Does the order (the run of events [i, j) sharing session and id) match? */
static int order_matches(const audit *a, size_t i, size_t j, const filt *f)
{
    if (f->session && strcmp(a->ev[i].session, f->session))
        return 0;
    if (f->order && strcmp(a->ev[i].order_id, f->order))
        return 0;
    if (f->clordid) {
        int hit = 0;
        for (size_t k = i; k < j && !hit; k++)
            hit = !strcmp(a->ev[k].clordid, f->clordid) || !strcmp(a->ev[k].orig, f->clordid);
        if (!hit)
            return 0;
    }
    return 1;
}

static int same_order(const aev *x, const aev *y)
{
    if (strcmp(x->session, y->session) || strcmp(x->order_id, y->order_id))
        return 0;
    return x->order_id[0] || !strcmp(x->clordid, y->clordid);
}

static void iso(int64_t ns, char out[40])
{
    if (!ns) {
        out[0] = 0;
        return;
    }
    char t[32];
    brs__fix_format_time(ns, t); /* YYYYMMDD-HH:MM:SS.sss */
    snprintf(out, 40, "%.4s-%.2s-%.2sT%.12sZ", t, t + 4, t + 6, t + 9);
}

static void csv_field(FILE *o, const char *s, int last)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', o);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', o);
            fputc(*s, o);
        }
        fputc('"', o);
    } else {
        fputs(s, o);
    }
    fputc(last ? '\n' : ',', o);
}

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(o, "\\u%04x", c);
        else
            fputc(c, o);
    }
    fputc('"', o);
}

static const char *const cols[] = {"time", "client_time", "session", "order_id", "clordid", "orig_clordid", "event", "side",
                                   "symbol", "qty", "price", "last_qty", "last_px", "cum_qty", "leaves_qty",
                                   "status", "venue", "parent", "child", "exec_id", "reason", "source", "msg_seq"};
#define N_COLS (sizeof cols / sizeof cols[0])

static void values(const aev *e, const char *v[N_COLS], char tbuf[40], char cbuf[40], char seq[16])
{
    iso(e->t, tbuf);
    iso(e->client_t, cbuf);
    snprintf(seq, 16, "%u", e->msg_seq);
    const char *x[N_COLS] = {tbuf,     cbuf, e->session, e->order_id, e->clordid, e->orig,   e->event,  e->side,
                             e->symbol, e->qty,    e->price,    e->last_qty, e->last_px, e->cum,   e->leaves,
                             e->status, e->venue,  e->parent,   e->child,  e->exec_id, e->reason, e->source, seq};
    memcpy(v, x, sizeof x);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse audit STATE_DIR [--order ID] [--client-order ID] [--session NAME]\n"
            "                    [--since T] [--until T] [--format csv|json]\n\n"
            "What happened to each order `bourse serve` handled, from its state directory\n"
            "(the order journal and the session stores; read only, never changed): received,\n"
            "risk refusals, venue acknowledgement, fills, cancels, replaces, rejects, expiries,\n"
            "with times, session, venue and reason. Only what was committed counts (the cut\n"
            "a restart makes), so it is consistent after a crash.\n\n"
            "  --order ID          one order, by OrderID (37)\n"
            "  --client-order ID   the order any of whose ClOrdIDs (11, 41) is ID\n"
            "  --session NAME      the client's CompID\n"
            "  --since/--until T   events in [since, until]: 2026-12-06T14:00:00Z,\n"
            "                      20261206-14:00:00 or ns since the epoch\n"
            "  --format csv|json   csv (default): one row per event; json: one object per\n"
            "                      order with its events\n");
}

static int parse_when(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end) {
        *out = v;
        return 0;
    }
    /* 2026-12-06T14:00:00[.sss][Z] -> 20261206-14:00:00[.sss] */
    char b[40];
    size_t k = 0;
    for (const char *p = s; *p && k < sizeof b - 1; p++) {
        if (*p == '-' && (p - s == 4 || p - s == 7))
            continue;
        if (*p == 'T' || *p == ' ')
            b[k++] = '-';
        else if (*p != 'Z')
            b[k++] = *p;
    }
    b[k] = 0;
    int64_t ns;
    if (brs__fix_parse_time(b, k, &ns) != 0)
        return -1;
    *out = ns;
    return 0;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int cmp_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* Archived journals (each up to its own last COMMIT) and stores (each up to
 * its last reset), oldest first by the timestamp in their names
 * (NAME.YYYYMMDD-HHMMSS.NNNNNNNNN, docs/fix-gateway.md). */
static int read_archive(audit *a, const char *dir, brs_error *err)
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
            if ((rc = map_file(path, &j, err)))
                break;
            uint64_t cut = a->cut_journal;
            size_t end = journal_commit(a, &j);
            a->cut_journal = cut; /* archived after a commit: what follows it was never answered */
            if ((rc = read_journal(a, &j, end, err)))
                brs__err_prefix(err, "%s", path);
            unmap_file(&j);
        } else {
            char src[300];
            snprintf(src, sizeof src, "archive/%s", names[i]);
            a->committed = UINT64_MAX; /* archived once its batches were committed */
            rc = read_store(a, path, keep_name(a, src), 1, err);
        }
    }
    a->committed = 0; /* the live journal says */
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int brs__cmd_audit(int argc, char **argv)
{
    const char *dir = NULL, *format = "csv";
    filt f = {.since = INT64_MIN, .until = INT64_MAX};
    for (int i = 1; i < argc; i++) {
        const char *x = argv[i];
        if (brs__is_help(x)) {
            usage(stdout);
            return BRS_EXIT_OK;
        }
        if (!strcmp(x, "--order") || !strcmp(x, "--client-order") || !strcmp(x, "--session") ||
            !strcmp(x, "--since") || !strcmp(x, "--until") || !strcmp(x, "--format")) {
            if (i + 1 >= argc)
                return brs__usage_error("audit", "%s needs a value", x);
            const char *v = argv[++i];
            if (!strcmp(x, "--order"))
                f.order = v;
            else if (!strcmp(x, "--client-order"))
                f.clordid = v;
            else if (!strcmp(x, "--session"))
                f.session = v;
            else if (!strcmp(x, "--format")) {
                if (strcmp(v, "csv") && strcmp(v, "json"))
                    return brs__usage_error("audit", "--format: '%s', expected csv or json", v);
                format = v;
            } else if (parse_when(v, !strcmp(x, "--since") ? &f.since : &f.until) != 0)
                return brs__usage_error("audit", "%s: '%s' is not a time (2026-12-06T14:00:00Z or ns)", x, v);
        } else if (x[0] == '-' && x[1]) {
            return brs__unknown_option("audit", x, usage);
        } else if (!dir) {
            dir = x;
        } else {
            return brs__usage_error("audit", "unexpected argument '%s'", x);
        }
    }
    if (!dir)
        return brs__usage_error("audit", "missing STATE_DIR (serve.json's state_dir)");
    audit a = {0};
    brs_error err = {0};
    int code = BRS_EXIT_FAIL;
    char path[4096];
    mapped j = {0};
    DIR *d = NULL;
    a.msg = malloc(sizeof *a.msg);
    if (!a.msg) {
        brs__fail("audit", "out of memory");
        goto done;
    }
    brs__fix_msg_init(a.msg);
    /* history compacted away from the live files (STATE_DIR/archive/, issue 15:
     * whole old journals, old stores renamed at a sequence reset), oldest first */
    if (read_archive(&a, dir, &err) != BRS_OK) {
        brs__fail("audit", "%s", err.msg);
        goto done;
    }
    snprintf(path, sizeof path, "%s/orders.journal", dir);
    if (map_file(path, &j, &err) != BRS_OK) {
        brs__fail("audit", "%s (is %s a state_dir of bourse serve?)", err.msg, dir);
        goto done;
    }
    size_t jend = journal_commit(&a, &j);
    if (read_journal(&a, &j, jend, &err) != BRS_OK) {
        brs__fail("audit", "%s: %s", path, err.msg);
        goto done;
    }
    if (!(d = opendir(dir))) {
        brs__fail("audit", "%s: %s", dir, strerror(errno));
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!has_suffix(de->d_name, ".store"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (read_store(&a, path, keep_name(&a, de->d_name), 0, &err) != BRS_OK) {
            brs__fail("audit", "%s", err.msg);
            goto done;
        }
    }
    link_orders(&a);
    time_requests(&a);
    if (a.n)
        qsort(a.ev, a.n, sizeof *a.ev, cmp_ev);
    if (a.cut_journal || a.cut_store)
        fprintf(stderr, "audit: left out what was never committed: %llu journal bytes, %llu store bytes\n",
                (unsigned long long)a.cut_journal, (unsigned long long)a.cut_store);
    int json = !strcmp(format, "json");
    FILE *o = stdout;
    if (json)
        fputs("[", o);
    else
        for (size_t c = 0; c < N_COLS; c++)
            csv_field(o, cols[c], c + 1 == N_COLS);
    int first_order = 1;
    for (size_t i = 0; i < a.n;) {
        size_t k = i + 1;
        while (k < a.n && same_order(&a.ev[i], &a.ev[k]))
            k++;
        if (order_matches(&a, i, k, &f)) {
            int first_ev = 1;
            for (size_t m = i; m < k; m++) {
                const aev *e = &a.ev[m];
                if (e->t && (e->t < f.since || e->t > f.until))
                    continue;
                const char *v[N_COLS];
                char tbuf[40], cbuf[40], seq[16];
                values(e, v, tbuf, cbuf, seq);
                if (!json) {
                    for (size_t c = 0; c < N_COLS; c++)
                        csv_field(o, v[c], c + 1 == N_COLS);
                    continue;
                }
                if (first_ev) {
                    fprintf(o, "%s\n{\"session\":", first_order ? "" : ",");
                    json_str(o, e->session);
                    fputs(",\"order_id\":", o);
                    json_str(o, e->order_id);
                    fputs(",\"events\":[", o);
                    first_order = 0;
                }
                fputs(first_ev ? "\n  {" : ",\n  {", o);
                first_ev = 0;
                int sep = 0;
                for (size_t c = 0; c < N_COLS; c++) {
                    if (c == 2 || c == 3 || !v[c][0])
                        continue; /* session and order id are the order's */
                    fprintf(o, "%s\"%s\":", sep ? "," : "", cols[c]);
                    json_str(o, v[c]);
                    sep = 1;
                }
                fputs("}", o);
            }
            if (json && !first_ev)
                fputs("]}", o);
        }
        i = k;
    }
    if (json)
        fputs("\n]\n", o);
    code = fflush(o) == 0 ? BRS_EXIT_OK : BRS_EXIT_FAIL;
done:
    if (d)
        closedir(d);
    unmap_file(&j);
    free(a.ev);
    free(a.msg);
    for (size_t i = 0; i < a.n_names; i++)
        free(a.names[i]);
    free(a.names);
    return code;
}
