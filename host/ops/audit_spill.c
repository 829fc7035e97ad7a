/* audit_spill.c: `bourse audit` in bounded memory (--mem-limit). Past about
 * half the limit, the rows read so far and then every chunk the readers fill
 * are handed on here and go through external sorts (audit_runs.c: sorters
 * hold records, a row or a fact about one with its own strings, up to half
 * the limit together, write them sorted as runs to unnamed temporary files
 * and read them back merged k ways). The steps are brs__aud_build's, as
 * sort-merge joins:
 *
 *   W  WebSocket requests, by reading order: renamed once every report has
 *      been read (brs__aud_ws_names), then handed to A.
 *   A  rows by (session, ClOrdID), after the facts of that key: the first
 *      row (reading order) with an OrderID whose ClOrdID or OrigClOrdID is the
 *      key (link_orders), the first timed answer with that ClOrdID
 *      (time_requests). A row without an OrderID takes the first; a request
 *      takes the second's time. Rows still without an OrderID go to B by
 *      their OrigClOrdID, the rest to C; each key's first link fact to B.
 *   B  the same by OrigClOrdID (link_orders' second pass).
 *   C  rows in output order (brs__aud_cmp_rows), printed an order at a time
 *      (brs__aud_print_order).
 *
 * Every comparison ends with the reading order, so the output is the
 * in-memory path's byte for byte. Runs hold rows as they are in memory (the
 * event and file names are pointers that live as long as the process): they
 * are this process's scratch, never read by anything else. docs/operations.md,
 * "Audit". */
#include "ops/audit_runs.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"

#define N_STR 18 /* astr fields of an aev */

static const size_t str_off[N_STR] = {
    offsetof(aev, session), offsetof(aev, order_id), offsetof(aev, clordid), offsetof(aev, orig),
    offsetof(aev, side),    offsetof(aev, symbol),   offsetof(aev, qty),     offsetof(aev, price),
    offsetof(aev, last_qty), offsetof(aev, last_px), offsetof(aev, cum),     offsetof(aev, leaves),
    offsetof(aev, status),  offsetof(aev, exec_id),  offsetof(aev, venue),   offsetof(aev, parent),
    offsetof(aev, child),   offsetof(aev, reason)};

static astr *fld(aev *e, int i) { return (astr *)((char *)e + str_off[i]); }
static astr fget(const aev *e, int i)
{
    astr v;
    memcpy(&v, (const char *)e + str_off[i], sizeof v);
    return v;
}

enum { XW, XA, XB, XC, NX };

struct brs__aud_spill {
    audit *a;
    size_t limit;
    size_t chunk; /* the readers' rows, once spilling */
    int on;       /* the rows outgrew the in-memory path */
    brs__aud_runs rs; /* the sorters x (budget: half the limit) */
    xsort x[NX];
    /* WebSocket accounts (brs__aud_ws_names): the first report's session */
    uint32_t ws_top;
    char **ws_name;
    size_t ws_cap;
};

/* Row e's strings, from text. */
static void strs_of(const aev *e, const char *text, const char *out[N_STR])
{
    for (int i = 0; i < N_STR; i++)
        out[i] = text + fget(e, i);
}

/* Append row e with the strings str (its astr are not read) to x as a
 * record. A string several fields share (the same pointer) is kept once. */
static int put(brs__aud_spill *sp, xsort *x, uint32_t tag, const aev *e, const char *const str[N_STR])
{
    size_t len = sizeof(rec) + 1;
    int same[N_STR]; /* the first field with this string, or i */
    for (int i = 0; i < N_STR; i++) {
        same[i] = i;
        for (int j = 0; j < i && same[i] == i; j++)
            if (str[j] == str[i])
                same[i] = j;
        if (str[i][0] && same[i] == i)
            len += strlen(str[i]) + 1;
    }
    len = (len + 7) & ~(size_t)7;
    rec *r = brs__aud_runs_alloc(&sp->rs, x, len);
    if (!r)
        return -1;
    memset(r, 0, len);
    r->len = (uint32_t)len;
    r->tag = tag;
    r->e = *e;
    size_t k = 1;
    for (int i = 0; i < N_STR; i++) {
        astr out = 0;
        if (!str[i][0])
            out = 0;
        else if (same[i] != i)
            out = fget(&r->e, same[i]);
        else {
            size_t l = strlen(str[i]) + 1;
            memcpy(r->text + k, str[i], l);
            out = (astr)k;
            k += l;
        }
        memcpy(fld(&r->e, i), &out, sizeof out);
    }
    return 0;
}

/* The same with the strings of a record, order_id (when not NULL) replacing its OrderID. */
static int put_rec(brs__aud_spill *sp, xsort *x, const rec *r, const aev *e, const char *order_id)
{
    const char *str[N_STR];
    strs_of(&r->e, r->text, str);
    if (order_id)
        str[1] = order_id;
    return put(sp, x, r->tag, e, str);
}


/* ---- the orders of the sorters ------------------------------------------------ */

#define T(r, x) ((r)->text + (x))

static uint64_t rec_n(const rec *r) { return r->tag == F_ROW ? r->e.n : FACT(r)->n; }
static const char *rec_session(const rec *r)
{
    return r->tag == F_ROW ? T(r, r->e.session) : FACT(r)->text + FACT(r)->session;
}
/* A row's key is its ClOrdID in A, its OrigClOrdID in B (by_orig). */
static const char *rec_key(const rec *r, int by_orig)
{
    if (r->tag != F_ROW)
        return FACT(r)->text + FACT(r)->key;
    return T(r, by_orig ? r->e.orig : r->e.clordid);
}

static int cmp_n(const rec *a, const rec *b)
{
    uint64_t na = rec_n(a), nb = rec_n(b);
    if (na != nb)
        return na < nb ? -1 : 1;
    return a->tag < b->tag ? -1 : a->tag > b->tag;
}

/* (session, key, facts first, reading order). */
static int cmp_key(const rec *a, const rec *b, int by_orig)
{
    int c = strcmp(rec_session(a), rec_session(b));
    if (c)
        return c;
    if ((c = strcmp(rec_key(a, by_orig), rec_key(b, by_orig))))
        return c;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return cmp_n(a, b);
}

static int cmp_a(const rec *a, const rec *b) { return cmp_key(a, b, 0); }
static int cmp_b(const rec *a, const rec *b) { return cmp_key(a, b, 1); }
static int cmp_c(const rec *a, const rec *b) { return brs__aud_cmp_rows(&a->e, a->text, &b->e, b->text); }

/* ---- the steps ---------------------------------------------------------------- */

/* A record of len bytes copied into x as it is. */
static int put_raw(brs__aud_spill *sp, xsort *x, const rec *r)
{
    rec *d = brs__aud_runs_alloc(&sp->rs, x, r->len);
    if (!d)
        return -1;
    memcpy(d, r, r->len);
    return 0;
}

/* A fact about row e (strings str) into A: its key (str[key]) and OrderID,
 * or its time and anchor. */
static int fact(brs__aud_spill *sp, uint32_t tag, const aev *e, const char *const str[N_STR], int key)
{
    const char *v[3] = {str[0], str[key], tag == F_LINK ? str[1] : ""};
    size_t l[3], len = sizeof(frec) + 1;
    for (int i = 0; i < 3; i++) {
        l[i] = strlen(v[i]);
        len += l[i] ? l[i] + 1 : 0;
    }
    len = (len + 7) & ~(size_t)7;
    frec *f = (frec *)(void *)brs__aud_runs_alloc(&sp->rs, &sp->x[XA], len);
    if (!f)
        return -1;
    memset(f, 0, len);
    f->len = (uint32_t)len;
    f->tag = tag;
    f->n = e->n;
    if (tag == F_TIME) {
        f->t = e->t;
        f->anchor = e->anchor;
    }
    astr *dst[3] = {&f->session, &f->key, &f->order_id};
    size_t k = 1;
    for (int i = 0; i < 3; i++) {
        if (!l[i])
            continue;
        memcpy(f->text + k, v[i], l[i] + 1);
        *dst[i] = (astr)k;
        k += l[i] + 1;
    }
    return 0;
}

/* Row e (strings str, the session final) and its facts into A. */
static int to_a(brs__aud_spill *sp, const aev *e, const char *const str[N_STR])
{
    int oid = str[1][0] != 0, cl = str[2][0] != 0, orig = str[3][0] != 0;
    if (oid && cl && fact(sp, F_LINK, e, str, 2))
        return -1;
    if (oid && orig && fact(sp, F_LINK, e, str, 3))
        return -1;
    if (e->rank == 2 && e->t && cl && fact(sp, F_TIME, e, str, 2))
        return -1;
    return put(sp, &sp->x[XA], F_ROW, e, str);
}

/* The readers' rows so far, handed on: WebSocket requests wait in W for their
 * account's name, the rest go to A. */
static int drain(audit *a)
{
    brs__aud_spill *sp = a->spill_ctx;
    if (a->oom) {
        brs__err(&sp->rs.err, BRS_E_NOMEM, "out of memory keeping the text of %zu rows", a->n);
        a->spill_msg = sp->rs.err.msg;
        return -1;
    }
    if (!sp->on) {
        sp->on = 1;
        BRS_LOG(BRS_LOG_INFO, "audit", "rows past the memory limit: sorting through temporary files",
                BRS_KV_U("rows", a->n0 + a->n), BRS_KV_U("held_bytes", brs__aud_held(a)),
                BRS_KV_U("mem_limit", sp->limit), BRS_KV_S("dir", sp->rs.dir));
    }
    const char *text = a->text ? a->text : "";
    for (size_t i = 0; i < a->n; i++) {
        const aev *e = &a->ev[i];
        if (e->ws_acct > sp->ws_top)
            sp->ws_top = e->ws_acct;
        if (e->ws_acct && e->rank == 2 && e->ws_acct <= (1u << 24)) {
            if (e->ws_acct >= sp->ws_cap) {
                size_t c = sp->ws_cap ? sp->ws_cap : 16;
                while (c <= e->ws_acct)
                    c *= 2;
                char **q = realloc(sp->ws_name, c * sizeof *q);
                if (!q)
                    goto nomem;
                memset(q + sp->ws_cap, 0, (c - sp->ws_cap) * sizeof *q);
                sp->ws_name = q;
                sp->ws_cap = c;
            }
            if (!sp->ws_name[e->ws_acct] && !(sp->ws_name[e->ws_acct] = strdup(text + e->session)))
                goto nomem;
        }
        const char *str[N_STR];
        strs_of(e, text, str);
        int rc = e->ws_acct && e->rank == 0 ? put(sp, &sp->x[XW], F_ROW, e, str) : to_a(sp, e, str);
        if (rc) {
            a->spill_msg = sp->rs.err.msg;
            return -1;
        }
    }
    a->n0 += a->n;
    /* start again small: the chunk, not the high-water mark, stays allocated */
    free(a->ev);
    free(a->text);
    free(a->intern);
    a->ev = NULL;
    a->text = NULL;
    a->intern = NULL;
    a->n = a->cap = a->text_len = a->text_cap = a->intern_cap = a->intern_n = 0;
    a->spill_at = sp->chunk;
    return 0;
nomem:
    brs__err(&sp->rs.err, BRS_E_NOMEM, "out of memory");
    a->spill_msg = sp->rs.err.msg;
    return -1;
}

/* The first facts of the (session, key) being read: a link (its OrderID), a time. */
typedef struct best {
    int has_link, has_time;
    char session[256], key[256], order_id[256];
    int64_t t;
    uint64_t anchor;
} best;

/* Is r of the (session, key) being read? If not, it starts the next one. */
static void best_at(best *b, int *any, const rec *r, int by_orig)
{
    const char *session = rec_session(r), *key = rec_key(r, by_orig);
    if (*any && !strcmp(b->session, session) && !strcmp(b->key, key))
        return;
    *any = 1;
    b->has_link = b->has_time = 0;
    snprintf(b->session, sizeof b->session, "%s", session);
    snprintf(b->key, sizeof b->key, "%s", key);
}

/* A: link by ClOrdID, time requests; on to B or C. */
static int step_a(brs__aud_spill *sp)
{
    reader rd;
    xsort *a = &sp->x[XA];
    if (brs__aud_runs_open(&sp->rs, a, &rd))
        return -1;
    best b = {0};
    int any = 0;
    const rec *r;
    while ((r = brs__aud_runs_next(&sp->rs, &rd))) {
        best_at(&b, &any, r, 0);
        if (r->tag == F_LINK) {
            if (!b.has_link) {
                b.has_link = 1;
                snprintf(b.order_id, sizeof b.order_id, "%s", FACT(r)->text + FACT(r)->order_id);
                /* the key's first link fact, for B (OrigClOrdID lookups) */
                if (put_raw(sp, &sp->x[XB], r))
                    return -1;
            }
            continue;
        }
        if (r->tag == F_TIME) {
            if (!b.has_time) {
                b.has_time = 1;
                b.t = FACT(r)->t;
                b.anchor = FACT(r)->anchor;
            }
            continue;
        }
        aev e = r->e;
        const char *oid = NULL;
        if (!e.order_id && e.clordid && b.has_link)
            oid = b.order_id;
        if (e.rank <= 1 && e.clordid && !e.ws_acct && b.has_time) {
            e.t = b.t;
            e.anchor = b.anchor;
        }
        int rc = !e.order_id && !oid && e.orig ? put_rec(sp, &sp->x[XB], r, &e, NULL)
                                               : put_rec(sp, &sp->x[XC], r, &e, oid);
        if (rc)
            return -1;
    }
    if (sp->rs.err.msg[0])
        return -1;
    brs__aud_runs_close(&sp->rs, a);
    return 0;
}

/* B: link by OrigClOrdID; on to C. */
static int step_b(brs__aud_spill *sp)
{
    reader rd;
    xsort *x = &sp->x[XB];
    if (brs__aud_runs_open(&sp->rs, x, &rd))
        return -1;
    best b = {0};
    int any = 0;
    const rec *r;
    while ((r = brs__aud_runs_next(&sp->rs, &rd))) {
        best_at(&b, &any, r, 1);
        if (r->tag == F_LINK) {
            if (!b.has_link) {
                b.has_link = 1;
                snprintf(b.order_id, sizeof b.order_id, "%s", FACT(r)->text + FACT(r)->order_id);
            }
            continue;
        }
        if (put_rec(sp, &sp->x[XC], r, &r->e, b.has_link ? b.order_id : NULL))
            return -1;
    }
    if (sp->rs.err.msg[0])
        return -1;
    brs__aud_runs_close(&sp->rs, x);
    return 0;
}

/* W: WebSocket requests get their account's name (brs__aud_ws_names), then A. */
static int step_w(brs__aud_spill *sp)
{
    reader rd;
    xsort *x = &sp->x[XW];
    if (brs__aud_runs_open(&sp->rs, x, &rd))
        return -1;
    const rec *r;
    while ((r = brs__aud_runs_next(&sp->rs, &rd))) {
        const char *name = sp->ws_top && sp->ws_top <= (1u << 24) && r->e.ws_acct < sp->ws_cap
                               ? sp->ws_name[r->e.ws_acct]
                               : NULL;
        const char *str[N_STR];
        strs_of(&r->e, r->text, str);
        if (name)
            str[0] = name;
        if (to_a(sp, &r->e, str))
            return -1;
    }
    if (sp->rs.err.msg[0])
        return -1;
    brs__aud_runs_close(&sp->rs, x);
    return 0;
}

/* C: the rows in output order, an order at a time. */
static int step_c(brs__aud_spill *sp, const brs__aud_filter *f, int json, FILE *o)
{
    reader rd;
    xsort *x = &sp->x[XC];
    if (brs__aud_runs_open(&sp->rs, x, &rd))
        return -1;
    audit g = {0}; /* the order being gathered */
    int first_order = 1, rc = 0;
    brs__aud_print_head(json, o);
    const rec *r;
    for (;;) {
        r = brs__aud_runs_next(&sp->rs, &rd);
        const char *gt = g.text ? g.text : "";
        if (g.n && (!r || !brs__aud_same_order(&g.ev[0], gt, &r->e, r->text))) {
            brs__aud_print_order(&g, 0, g.n, f, json, o, &first_order);
            g.n = 0;
            g.text_len = g.text ? 1 : 0;
            if (g.intern)
                memset(g.intern, 0, g.intern_cap * sizeof *g.intern);
            g.intern_n = 0;
        }
        if (!r)
            break;
        if (g.n == g.cap) {
            size_t c = g.cap ? 2 * g.cap : 64;
            aev *p = realloc(g.ev, c * sizeof *p);
            if (!p) {
                rc = brs__aud_runs_fail(&sp->rs, "gathering an order's rows", ENOMEM);
                break;
            }
            g.ev = p;
            g.cap = c;
        }
        aev *e = &g.ev[g.n++];
        *e = r->e;
        for (int i = 0; i < N_STR; i++) {
            astr v = fget(&r->e, i);
            brs__aud_set(&g, fld(e, i), T(r, v), strlen(T(r, v)));
        }
        if (g.oom) {
            rc = brs__aud_runs_fail(&sp->rs, "gathering an order's rows", ENOMEM);
            break;
        }
    }
    if (sp->rs.err.msg[0])
        rc = -1;
    brs__aud_free(&g);
    brs__aud_runs_close(&sp->rs, x);
    if (rc)
        return -1;
    if (brs__aud_print_tail(json, o) != 0)
        return 1;
    return 0;
}

/* ---- the interface ------------------------------------------------------------ */

brs__aud_spill *brs__aud_spill_new(audit *a, size_t limit, const char *dir)
{
    brs__aud_spill *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->a = a;
    sp->limit = limit;
    sp->rs.budget = limit / 2;
    sp->rs.x = sp->x;
    sp->rs.nx = NX;
    sp->chunk = limit / 8;
    snprintf(sp->rs.dir, sizeof sp->rs.dir, "%s", dir);
    static const char *const names[NX] = {"websocket", "by_clordid", "by_orig_clordid", "output"};
    static const rec_cmp cmps[NX] = {cmp_n, cmp_a, cmp_b, cmp_c};
    for (int i = 0; i < NX; i++) {
        sp->x[i].name = names[i];
        sp->x[i].cmp = cmps[i];
    }
    a->spill = drain;
    a->spill_ctx = sp;
    a->spill_at = limit / 2;
    return sp;
}

int brs__aud_spilled(const brs__aud_spill *sp) { return sp && sp->on; }

int brs__aud_spill_print(brs__aud_spill *sp, const brs__aud_filter *f, int json, FILE *o, brs_error *err)
{
    int64_t t0 = brs__monotime_ns();
    if (sp->a->n && drain(sp->a)) {
        *err = sp->rs.err;
        return -1;
    }
    if (step_w(sp) || step_a(sp) || step_b(sp)) {
        *err = sp->rs.err;
        return -1;
    }
    int rc = step_c(sp, f, json, o);
    if (rc < 0) {
        *err = sp->rs.err;
        return -1;
    }
    BRS_LOG(BRS_LOG_INFO, "audit", "done through temporary files", BRS_KV_U("rows", sp->a->n0),
            BRS_KV_U("runs", sp->rs.runs), BRS_KV_U("spilled_bytes", sp->rs.bytes),
            BRS_KV_U("peak_disk_bytes", sp->rs.disk_peak), BRS_KV_S("dir", sp->rs.dir),
            BRS_KV_F("seconds", (double)(brs__monotime_ns() - t0) / 1e9));
    if (rc) {
        brs__err(err, BRS_E_IO, "the output could not be written");
        return -1;
    }
    return 0;
}

void brs__aud_spill_free(brs__aud_spill *sp)
{
    if (!sp)
        return;
    brs__aud_runs_free(&sp->rs);
    for (size_t i = 0; i < sp->ws_cap; i++)
        free(sp->ws_name[i]);
    free(sp->ws_name);
    free(sp);
}
