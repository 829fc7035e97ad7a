/* audit.c: `bourse audit STATE_DIR`: what happened to each order, rebuilt
 * from what `bourse serve` keeps anyway: the order journal (every order-entry
 * message as received, with the risk decision) and the session stores (every
 * message sent, so every ExecutionReport and OrderCancelReject). Both are read
 * without being changed (the gateway may be running) and only as far as the
 * last committed batch, exactly the cut a restart makes, so the audit after a
 * crash is the history the clients were told. docs/operations.md, "Audit".
 * This file links, orders, filters and prints the rows audit_read.c read;
 * audit_cmd.c is the command. */
#include "ops/audit_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "fix/codec.h"

/* ---- linking, ordering, filtering ------------------------------------------ */

/* Rows sorted by session, then a key field (ClOrdID or OrigClOrdID), then
 * reading order, for binary search: linking is O(n log n), so a day of
 * millions of orders is audited in seconds. */
typedef struct keyed {
    const aev *ev;
    size_t off; /* offset of the key field in aev */
} keyed;

static keyed g_key;        /* qsort has no context argument */
static const char *g_text; /* the rows' strings, for the comparisons */

#define S(x) (g_text + (x))

static const char *key_of(const aev *e, size_t off)
{
    astr k;
    memcpy(&k, (const char *)e + off, sizeof k);
    return S(k);
}

static int cmp_key(const void *pa, const void *pb)
{
    const aev *x = &g_key.ev[*(const size_t *)pa], *y = &g_key.ev[*(const size_t *)pb];
    int c = strcmp(S(x->session), S(y->session));
    if (!c)
        c = strcmp(key_of(x, g_key.off), key_of(y, g_key.off));
    if (!c)
        c = x->n < y->n ? -1 : x->n > y->n;
    return c;
}

/* The first row (reading order) of idx[0, n) with this session and key; NULL none. */
static const aev *find_key(const audit *a, const size_t *idx, size_t n, size_t off, const char *session,
                           const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const aev *x = &a->ev[idx[mid]];
        int c = strcmp(S(x->session), session);
        if (!c)
            c = strcmp(key_of(x, off), key);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n)
        return NULL;
    const aev *x = &a->ev[idx[lo]];
    return !strcmp(S(x->session), session) && !strcmp(key_of(x, off), key) ? x : NULL;
}

/* The rows for which sel holds, sorted by (session, field at off, reading order). */
static size_t *sorted_rows(const audit *a, size_t off, int (*sel)(const aev *), size_t *n)
{
    size_t *idx = malloc((a->n ? a->n : 1) * sizeof *idx);
    *n = 0;
    if (!idx)
        return NULL;
    for (size_t i = 0; i < a->n; i++)
        if (sel(&a->ev[i]) && key_of(&a->ev[i], off)[0])
            idx[(*n)++] = i;
    g_key.ev = a->ev;
    g_key.off = off;
    qsort(idx, *n, sizeof *idx, cmp_key);
    return idx;
}

static int has_order_id(const aev *e) { return e->order_id != 0; }
static int is_timed_answer(const aev *e) { return e->rank == 2 && e->t; }

/* Requests carry no OrderID: the answers with the same session and ClOrdID
 * (or the OrigClOrdID they name) do; the first such answer names it. */
static int link_orders(audit *a)
{
    size_t nc, no;
    size_t *byc = sorted_rows(a, offsetof(aev, clordid), has_order_id, &nc);
    size_t *byo = sorted_rows(a, offsetof(aev, orig), has_order_id, &no);
    if (!byc || !byo) {
        free(byc);
        free(byo);
        return BRS_E_NOMEM;
    }
    for (size_t i = 0; i < a->n; i++) {
        aev *e = &a->ev[i];
        if (e->order_id)
            continue;
        for (int pass = 0; pass < 2 && !e->order_id; pass++) {
            astr key = pass == 0 ? e->clordid : e->orig;
            if (!key)
                continue;
            const aev *x = find_key(a, byc, nc, offsetof(aev, clordid), S(e->session), S(key));
            const aev *y = find_key(a, byo, no, offsetof(aev, orig), S(e->session), S(key));
            if (y && (!x || y->n < x->n))
                x = y;
            if (x)
                e->order_id = x->order_id;
        }
    }
    free(byc);
    free(byo);
    return BRS_OK;
}

/* A request is timed by its answer (the first report or cancel reject with its
 * ClOrdID, sent in the same commit batch): the gateway's clock, so requests
 * and reports sort on one clock. */
static int time_requests(audit *a)
{
    size_t n;
    size_t *idx = sorted_rows(a, offsetof(aev, clordid), is_timed_answer, &n);
    if (!idx)
        return BRS_E_NOMEM;
    for (size_t i = 0; i < a->n; i++) {
        aev *e = &a->ev[i];
        if (e->rank > 1 || !e->clordid || e->ws_acct)
            continue; /* (a WebSocket request has the gateway's time already) */
        const aev *best = find_key(a, idx, n, offsetof(aev, clordid), S(e->session), S(e->clordid));
        if (best) {
            e->t = best->t;
            e->anchor = best->anchor;
        }
    }
    free(idx);
    return BRS_OK;
}

int brs__aud_cmp_rows(const aev *a, const char *ta, const aev *b, const char *tb)
{
#define SA(x) (ta + (x))
#define SB(x) (tb + (x))
    int c = ta == tb && a->session == b->session ? 0 : strcmp(SA(a->session), SB(b->session));
    if (c)
        return c;
    /* by order (numerically), orders without an id last */
    size_t la = strlen(SA(a->order_id)), lb = strlen(SB(b->order_id));
    if (!la != !lb)
        return la ? -1 : 1;
    if (la != lb)
        return la < lb ? -1 : 1;
    if ((c = strcmp(SA(a->order_id), SB(b->order_id))))
        return c;
    if (!la && (c = strcmp(SA(a->clordid), SB(b->clordid))))
        return c;
#undef SA
#undef SB
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->anchor != b->anchor)
        return a->anchor < b->anchor ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

static int cmp_ev(const void *pa, const void *pb) { return brs__aud_cmp_rows(pa, g_text, pb, g_text); }

/* Does the order (the run of events [i, j) sharing session and id) match? */
static int order_matches(const audit *a, size_t i, size_t j, const brs__aud_filter *f)
{
    if (f->session && strcmp(brs__aud_s(a, a->ev[i].session), f->session))
        return 0;
    if (f->order && strcmp(brs__aud_s(a, a->ev[i].order_id), f->order))
        return 0;
    if (f->clordid) {
        int hit = 0;
        for (size_t k = i; k < j && !hit; k++)
            hit = !strcmp(brs__aud_s(a, a->ev[k].clordid), f->clordid) ||
                  !strcmp(brs__aud_s(a, a->ev[k].orig), f->clordid);
        if (!hit)
            return 0;
    }
    return 1;
}

/* (Interned strings compare by offset only when both were interned: compare text.) */
int brs__aud_same_order(const aev *x, const char *tx, const aev *y, const char *ty)
{
    if (strcmp(tx + x->session, ty + y->session) || strcmp(tx + x->order_id, ty + y->order_id))
        return 0;
    return x->order_id || !strcmp(tx + x->clordid, ty + y->clordid);
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
    if (e->msg_seq)
        snprintf(seq, 16, "%u", e->msg_seq);
    else
        seq[0] = 0; /* journal notes (children, WebSocket) have no FIX sequence number */
    const char *x[N_COLS] = {tbuf,          cbuf,           S(e->session), S(e->order_id), S(e->clordid),
                             S(e->orig),    e->event,       S(e->side),    S(e->symbol),   S(e->qty),
                             S(e->price),   S(e->last_qty), S(e->last_px), S(e->cum),      S(e->leaves),
                             S(e->status),  S(e->venue),    S(e->parent),  S(e->child),    S(e->exec_id),
                             S(e->reason),  e->source,      seq};
    memcpy(v, x, sizeof x);
}

/* ---- the whole audit --------------------------------------------------------- */

int brs__aud_build(audit *a)
{
    g_text = a->text ? a->text : "";
    brs__aud_ws_names(a);
    if (link_orders(a) != BRS_OK || time_requests(a) != BRS_OK)
        return BRS_E_NOMEM;
    if (a->n)
        qsort(a->ev, a->n, sizeof *a->ev, cmp_ev);
    return BRS_OK;
}

void brs__aud_print_head(int json, FILE *o)
{
    if (json)
        fputs("[", o);
    else
        for (size_t c = 0; c < N_COLS; c++)
            csv_field(o, cols[c], c + 1 == N_COLS);
}

int brs__aud_print_tail(int json, FILE *o)
{
    if (json)
        fputs("\n]\n", o);
    return fflush(o) == 0 && !ferror(o) ? 0 : -1;
}

void brs__aud_print_order(const audit *a, size_t i, size_t k, const brs__aud_filter *f, int json, FILE *o,
                          int *first_order)
{
    g_text = a->text ? a->text : "";
    if (!order_matches(a, i, k, f))
        return;
    int first_ev = 1;
    for (size_t m = i; m < k; m++) {
        const aev *e = &a->ev[m];
        if (e->t && (e->t < f->since || e->t > f->until))
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
            fprintf(o, "%s\n{\"session\":", *first_order ? "" : ",");
            json_str(o, S(e->session));
            fputs(",\"order_id\":", o);
            json_str(o, S(e->order_id));
            fputs(",\"events\":[", o);
            *first_order = 0;
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

int brs__aud_print(const audit *a, const brs__aud_filter *f, int json, FILE *o)
{
    const char *t = a->text ? a->text : "";
    brs__aud_print_head(json, o);
    int first_order = 1;
    for (size_t i = 0; i < a->n;) {
        size_t k = i + 1;
        while (k < a->n && brs__aud_same_order(&a->ev[i], t, &a->ev[k], t))
            k++;
        brs__aud_print_order(a, i, k, f, json, o, &first_order);
        i = k;
    }
    return brs__aud_print_tail(json, o);
}
