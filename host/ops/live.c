/* live.c: the live dashboard (live.h): positions and the fills tape followed
 * on the loop thread, a triple buffer handing snapshots to the HTTP thread, and
 * the page and its server-sent event stream (/live, /live/events). */
#include "ops/live.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

extern const char brs__live_html[];
extern const char brs__live_js[];
extern const char brs__an_uplot_js[];
extern const char brs__an_uplot_css[];

#define HIST_POINTS 600 /* PnL history: one point a second, ten minutes */
#define FRESH 4u

/* A fill on the writer's tape: the venue as its index, named when published. */
typedef struct tape_rec {
    int64_t t_ns;
    uint64_t order_id;
    int64_t price, qty;
    uint32_t account, instr, venue;
    uint8_t side;
    char clordid[BRS__LIVE_CLORDID];
} tape_rec;

struct brs__live {
    char title[96], kind[24];
    uint32_t n_acc, n_instr;
    /* writer state (loop thread) */
    brs__live_pos *pos; /* n_acc x n_instr */
    int64_t last[BRS__LIVE_INSTR];
    tape_rec tape[BRS__LIVE_TAPE];
    uint32_t tape_head, tape_n;
    const char *(*venue_name)(const void *ctx, uint32_t venue);
    const void *venue_ctx;
    uint64_t fills_total, wver;
    unsigned back;
    /* the handoff, on a cache line of its own: the reader's load of it never
     * takes the line the writer's per-fill state is on */
    _Alignas(64) _Atomic unsigned mid; /* index of the middle buffer, | FRESH when published and not taken */
    _Alignas(64) brs__live_snap buf[3];
    /* reader state (HTTP thread) */
    _Alignas(64) unsigned front;
    const char *lat_name[BRS__LIVE_LAT];
    const brs__histogram *lat[BRS__LIVE_LAT];
    int n_lat;
    char *json; /* the newest snapshot rendered as one SSE event */
    size_t json_len;
    uint64_t json_ver;
    int64_t hist_t[HIST_POINTS]; /* ms */
    double *hist_pnl;            /* HIST_POINTS x n_acc */
    uint32_t hist_n, hist_head;
    int64_t hist_mono_ms; /* when the last point was taken (monotonic) */
    uint64_t hist_ver;    /* of the snapshot it was taken from */
};

brs__live *brs__live_new(uint32_t n_acc, uint32_t n_instr, const char *title, const char *kind)
{
    brs__live *l = aligned_alloc(_Alignof(brs__live), sizeof *l); /* its handoff line is aligned */
    if (!l)
        return NULL;
    memset(l, 0, sizeof *l);
    l->n_acc = n_acc < BRS__LIVE_ACCOUNTS ? n_acc : BRS__LIVE_ACCOUNTS;
    l->n_instr = n_instr < BRS__LIVE_INSTR ? n_instr : BRS__LIVE_INSTR;
    snprintf(l->title, sizeof l->title, "%s", title);
    snprintf(l->kind, sizeof l->kind, "%s", kind);
    l->pos = calloc((size_t)(l->n_acc ? l->n_acc : 1) * (l->n_instr ? l->n_instr : 1), sizeof *l->pos);
    l->hist_pnl = calloc((size_t)HIST_POINTS * (l->n_acc ? l->n_acc : 1), sizeof *l->hist_pnl);
    if (!l->pos || !l->hist_pnl) {
        brs__live_free(l);
        return NULL;
    }
    for (uint32_t a = 0; a < l->n_acc; a++)
        for (uint32_t i = 0; i < l->n_instr; i++) {
            l->pos[a * l->n_instr + i].account = a;
            l->pos[a * l->n_instr + i].instr = i;
        }
    l->back = 0;
    atomic_init(&l->mid, 1u);
    l->front = 2;
    return l;
}

void brs__live_free(brs__live *l)
{
    if (!l)
        return;
    free(l->pos);
    free(l->hist_pnl);
    free(l->json);
    free(l);
}

/* ---- the writer ------------------------------------------------------------ */

/* s (NULL: "") into dst, cut to fit. */
static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strnlen(s, cap - 1) : 0;
    memcpy(dst, s ? s : "", n);
    dst[n] = 0;
}

void brs__live_set_venue_names(brs__live *l, const char *(*name)(const void *ctx, uint32_t venue), const void *ctx)
{
    if (l) {
        l->venue_name = name;
        l->venue_ctx = ctx;
    }
}

void brs__live_fill(brs__live *l, uint32_t account, uint32_t instr, uint8_t side, int64_t price, int64_t qty,
                    uint64_t order_id, const char clordid[BRS__LIVE_CLORDID], uint32_t venue, int64_t t_ns,
                    int replay)
{
    if (!l || account >= l->n_acc || instr >= l->n_instr || qty <= 0)
        return;
    brs__live_pos *p = &l->pos[account * l->n_instr + instr];
    int64_t d = side == 0 ? qty : -qty; /* BRS_BUY = 0 */
    p->fills++;
    l->last[instr] = price;
    if (p->pos == 0 || (p->pos > 0) == (d > 0)) {
        p->pos += d;
        p->cost += (double)d * (double)price;
    } else { /* reduces (and maybe flips) the position: average cost */
        int64_t sgn = p->pos > 0 ? 1 : -1;
        int64_t abs_pos = p->pos * sgn, abs_d = d < 0 ? -d : d;
        int64_t c = abs_d < abs_pos ? abs_d : abs_pos;
        double avg = p->cost / (double)p->pos;
        p->realized += (double)c * ((double)price - avg) * (double)sgn;
        p->pos -= sgn * c;
        p->cost = p->pos ? avg * (double)p->pos : 0.0;
        if (abs_d > c) {
            int64_t rest = (d > 0 ? 1 : -1) * (abs_d - c);
            p->pos = rest;
            p->cost = (double)rest * (double)price;
        }
    }
    if (replay)
        return;
    l->fills_total++;
    uint32_t h = l->tape_head;
    tape_rec *f = &l->tape[h];
    l->tape_head = h + 1 == BRS__LIVE_TAPE ? 0 : h + 1;
    l->tape_n += l->tape_n < BRS__LIVE_TAPE;
    f->t_ns = t_ns;
    f->order_id = order_id;
    f->price = price;
    f->qty = qty;
    f->account = account;
    f->instr = instr;
    f->venue = venue;
    f->side = side;
    memcpy(f->clordid, clordid, BRS__LIVE_CLORDID); /* a fixed size: a few moves, nothing measured */
    f->clordid[BRS__LIVE_CLORDID - 1] = 0;
}

brs__live_snap *brs__live_begin(brs__live *l) { return l ? &l->buf[l->back] : NULL; }

void brs__live_publish(brs__live *l)
{
    if (!l)
        return;
    brs__live_snap *s = &l->buf[l->back];
    s->version = ++l->wver;
    s->fills_total = l->fills_total;
    for (uint32_t i = 0; i < s->n_instr && i < l->n_instr; i++)
        s->instr[i].last = l->last[i];
    uint32_t n = 0;
    for (uint32_t k = 0; k < l->n_acc * l->n_instr && n < BRS__LIVE_POS; k++)
        if (l->pos[k].fills)
            s->pos[n++] = l->pos[k];
    s->n_pos = n;
    s->n_tape = l->tape_n;
    for (uint32_t i = 0; i < l->tape_n; i++) {
        const tape_rec *f = &l->tape[(l->tape_head + BRS__LIVE_TAPE - 1 - i) % BRS__LIVE_TAPE];
        brs__live_fillrec *d = &s->tape[i];
        d->t_ns = f->t_ns;
        d->order_id = f->order_id;
        d->account = f->account;
        d->instr = f->instr;
        d->side = f->side;
        d->price = f->price;
        d->qty = f->qty;
        memcpy(d->clordid, f->clordid, sizeof d->clordid);
        copy_str(d->venue, sizeof d->venue, l->venue_name ? l->venue_name(l->venue_ctx, f->venue) : NULL);
    }
    l->back = atomic_exchange_explicit(&l->mid, l->back | FRESH, memory_order_acq_rel) & 3u;
}

/* ---- the reader: rendering ------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 16384;
        while (c < b->n + n + 1)
            c *= 2;
        char *q = realloc(b->p, c);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, backslashes and control characters escaped (client
 * ClOrdIDs end up here). */
static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_put(b, e, 2);
        } else if (c < 0x20 || c == 0x7f || c == '<') {
            sb_printf(b, "\\u%04x", c);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static double scale_of(int decimals)
{
    double s = 1;
    for (int i = 0; i < decimals; i++)
        s *= 10;
    return s;
}

/* A price as an exact decimal string ("10.50"): ticks x 10^-decimals. */
static void sb_px(sbuf *b, int64_t ticks, int decimals)
{
    uint64_t sc = 1;
    for (int i = 0; i < decimals && i < 18; i++)
        sc *= 10;
    uint64_t a = ticks < 0 ? 0 - (uint64_t)ticks : (uint64_t)ticks;
    if (decimals > 0)
        sb_printf(b, "\"%s%llu.%0*llu\"", ticks < 0 ? "-" : "", (unsigned long long)(a / sc), decimals,
                  (unsigned long long)(a % sc));
    else
        sb_printf(b, "\"%lld\"", (long long)ticks);
}

/* A number that JSON can hold (NaN and infinities are not JSON). */
static void sb_num(sbuf *b, double v) { sb_printf(b, "%.6g", isfinite(v) ? v : 0.0); }

static int64_t mark_of(const brs__live_instr *in)
{
    if (in->last)
        return in->last;
    if (in->bid_qty && in->ask_qty)
        return (in->bid + in->ask) / 2;
    return 0;
}

static void pos_pnl(const brs__live_snap *s, const brs__live_pos *p, double *unreal, double *real)
{
    const brs__live_instr *in = &s->instr[p->instr];
    double sc = scale_of(in->decimals);
    int64_t mark = mark_of(in);
    *real = p->realized / sc;
    *unreal = p->pos && mark ? ((double)p->pos * (double)mark - p->cost) / sc : 0.0;
}

static double account_pnl(const brs__live_snap *s, uint32_t a)
{
    double t = 0;
    for (uint32_t k = 0; k < s->n_pos; k++)
        if (s->pos[k].account == a && s->pos[k].instr < s->n_instr) {
            double u, r;
            pos_pnl(s, &s->pos[k], &u, &r);
            t += u + r;
        }
    return t;
}

/* The upper bound (seconds) of the bucket holding quantile q; -1 when empty. */
static double hist_quantile(const brs__histogram *h, const uint64_t *b, uint64_t total, double q)
{
    if (!total)
        return -1;
    double want = q * (double)total;
    uint64_t cum = 0;
    for (int i = 0; i <= h->n; i++) {
        cum += b[i];
        if ((double)cum >= want)
            return (double)h->bound_ns[i < h->n ? i : h->n - 1] / 1e9;
    }
    return (double)h->bound_ns[h->n - 1] / 1e9;
}

static const char *side_name(uint8_t s) { return s == 0 ? "buy" : "sell"; }

static const char *acc_name(const brs__live_snap *s, uint32_t a) { return a < s->n_acc ? s->acc[a].name : "?"; }
static const char *sym_name(const brs__live_snap *s, uint32_t i) { return i < s->n_instr ? s->instr[i].symbol : "?"; }

static void render(brs__live *l, const brs__live_snap *s, sbuf *b)
{
    sb_printf(b, "event: snap\ndata: {\"v\":%llu,\"t\":%lld,\"title\":", (unsigned long long)s->version,
              (long long)(s->t_ns / 1000000));
    sb_str(b, l->title);
    sb_put(b, ",\"kind\":", 8);
    sb_str(b, l->kind);
    sb_printf(b, ",\"open_orders\":%llu,\"fills_total\":%llu,\"accounts\":[", (unsigned long long)s->open_orders,
              (unsigned long long)s->fills_total);
    for (uint32_t a = 0; a < s->n_acc; a++) {
        const brs__live_account *x = &s->acc[a];
        sb_put(b, a ? ",{\"name\":" : "{\"name\":", a ? 9 : 8);
        sb_str(b, x->name);
        sb_put(b, ",\"state\":", 9);
        sb_str(b, x->state);
        sb_printf(b, ",\"up\":%s,\"seq_in\":%llu,\"seq_out\":%llu,\"pnl\":", x->up ? "true" : "false",
                  (unsigned long long)x->seq_in, (unsigned long long)x->seq_out);
        sb_num(b, account_pnl(s, a));
        sb_put(b, "}", 1);
    }
    sb_put(b, "],\"books\":[", 11);
    for (uint32_t k = 0; k < s->n_books; k++) {
        const brs__live_book *bk = &s->books[k];
        if (bk->instr >= s->n_instr)
            continue;
        const brs__live_instr *in = &s->instr[bk->instr];
        sb_put(b, k ? ",{\"symbol\":" : "{\"symbol\":", k ? 11 : 10);
        sb_str(b, in->symbol);
        sb_put(b, ",\"venue\":", 9);
        sb_str(b, bk->venue);
        sb_put(b, ",\"bid\":", 7);
        if (bk->bid_qty)
            sb_px(b, bk->bid, in->decimals);
        else
            sb_put(b, "null", 4);
        sb_printf(b, ",\"bid_qty\":%lld,\"ask\":", (long long)bk->bid_qty);
        if (bk->ask_qty)
            sb_px(b, bk->ask, in->decimals);
        else
            sb_put(b, "null", 4);
        sb_printf(b, ",\"ask_qty\":%lld,\"last\":", (long long)bk->ask_qty);
        if (in->last)
            sb_px(b, in->last, in->decimals);
        else
            sb_put(b, "null", 4);
        sb_put(b, "}", 1);
    }
    sb_put(b, "],\"positions\":[", 15);
    for (uint32_t k = 0; k < s->n_pos; k++) {
        const brs__live_pos *p = &s->pos[k];
        double u, r;
        pos_pnl(s, p, &u, &r);
        int dec = p->instr < s->n_instr ? s->instr[p->instr].decimals : 0;
        sb_put(b, k ? ",{\"account\":" : "{\"account\":", k ? 12 : 11);
        sb_str(b, acc_name(s, p->account));
        sb_put(b, ",\"symbol\":", 10);
        sb_str(b, sym_name(s, p->instr));
        sb_printf(b, ",\"position\":%lld,\"avg_price\":", (long long)p->pos);
        sb_num(b, p->pos ? p->cost / (double)p->pos / scale_of(dec) : 0.0);
        sb_put(b, ",\"realized\":", 12);
        sb_num(b, r);
        sb_put(b, ",\"unrealized\":", 14);
        sb_num(b, u);
        sb_printf(b, ",\"fills\":%llu}", (unsigned long long)p->fills);
    }
    sb_put(b, "],\"orders\":[", 12);
    for (uint32_t k = 0; k < s->n_orders; k++) {
        const brs__live_order *o = &s->orders[k];
        int dec = o->instr < s->n_instr ? s->instr[o->instr].decimals : 0;
        sb_printf(b, "%s{\"id\":%llu,\"account\":", k ? "," : "", (unsigned long long)o->id);
        sb_str(b, acc_name(s, o->account));
        sb_put(b, ",\"clordid\":", 11);
        sb_str(b, o->clordid);
        sb_put(b, ",\"symbol\":", 10);
        sb_str(b, sym_name(s, o->instr));
        sb_printf(b, ",\"side\":\"%s\",\"status\":\"%c\",\"price\":", side_name(o->side),
                  o->status > ' ' && o->status < 0x7f && o->status != '"' && o->status != '\\' ? o->status : '?');
        sb_px(b, o->price, dec);
        sb_printf(b, ",\"qty\":%lld,\"leaves\":%lld,\"cum\":%lld}", (long long)o->qty, (long long)o->leaves,
                  (long long)o->cum);
    }
    sb_put(b, "],\"fills\":[", 11);
    for (uint32_t k = 0; k < s->n_tape; k++) {
        const brs__live_fillrec *f = &s->tape[k];
        int dec = f->instr < s->n_instr ? s->instr[f->instr].decimals : 0;
        sb_printf(b, "%s{\"t\":%lld,\"account\":", k ? "," : "", (long long)(f->t_ns / 1000000));
        sb_str(b, acc_name(s, f->account));
        sb_put(b, ",\"symbol\":", 10);
        sb_str(b, sym_name(s, f->instr));
        sb_printf(b, ",\"side\":\"%s\",\"price\":", side_name(f->side));
        sb_px(b, f->price, dec);
        sb_printf(b, ",\"qty\":%lld,\"order\":%llu,\"clordid\":", (long long)f->qty, (unsigned long long)f->order_id);
        sb_str(b, f->clordid);
        sb_put(b, ",\"venue\":", 9);
        sb_str(b, f->venue);
        sb_put(b, "}", 1);
    }
    sb_put(b, "],\"latency\":[", 13);
    for (int k = 0; k < l->n_lat; k++) {
        const brs__histogram *h = l->lat[k];
        uint64_t bk[BRS__HIST_MAX_BUCKETS + 1], total = 0;
        for (int i = 0; i <= h->n; i++)
            total += bk[i] = atomic_load_explicit(&((brs__histogram *)h)->bucket[i], memory_order_relaxed);
        sb_put(b, k ? ",{\"name\":" : "{\"name\":", k ? 9 : 8);
        sb_str(b, l->lat_name[k]);
        sb_printf(b, ",\"count\":%llu,\"p50\":", (unsigned long long)total);
        sb_num(b, hist_quantile(h, bk, total, 0.5));
        sb_put(b, ",\"p90\":", 7);
        sb_num(b, hist_quantile(h, bk, total, 0.9));
        sb_put(b, ",\"p99\":", 7);
        sb_num(b, hist_quantile(h, bk, total, 0.99));
        sb_put(b, "}", 1);
    }
    sb_put(b, "]}\n\n", 4);
}

/* Takes the newest published snapshot, if any, and samples the PnL history
 * once a second; with want_json (a stream asks), renders the snapshot once
 * for every stream if it is newer than the last rendering. The tick renders
 * nothing: with no dashboard open nothing is formatted. HTTP thread only. */
static void refresh(brs__live *l, int want_json)
{
    if (atomic_load_explicit(&l->mid, memory_order_acquire) & FRESH)
        l->front = atomic_exchange_explicit(&l->mid, l->front, memory_order_acq_rel) & 3u;
    const brs__live_snap *s = &l->buf[l->front];
    /* a second by this thread's clock (the tick comes every second when no
     * page is open, every 100 ms when one is), from a snapshot not yet taken */
    int64_t mono_ms = brs__monotime_ns() / 1000000;
    if (s->version && s->version != l->hist_ver && mono_ms - l->hist_mono_ms >= 1000) {
        l->hist_mono_ms = mono_ms;
        l->hist_ver = s->version;
        uint32_t k = l->hist_head;
        l->hist_t[k] = s->t_ns / 1000000;
        for (uint32_t a = 0; a < l->n_acc; a++)
            l->hist_pnl[(size_t)k * l->n_acc + a] = a < s->n_acc ? account_pnl(s, a) : 0.0;
        l->hist_head = (k + 1) % HIST_POINTS;
        if (l->hist_n < HIST_POINTS)
            l->hist_n++;
    }
    if (!want_json || !s->version || s->version == l->json_ver) /* version 0: nothing published yet */
        return;
    sbuf b = {0};
    render(l, s, &b);
    if (b.oom) {
        free(b.p);
        return;
    }
    free(l->json);
    l->json = b.p;
    l->json_len = b.n;
    l->json_ver = s->version;
}

static void tick(void *ctx) { refresh(ctx, 0); }

/* event: history {"t":[ms...],"pnl":{"NAME":[...]}} oldest first. */
static void render_history(brs__live *l, sbuf *b)
{
    const brs__live_snap *s = &l->buf[l->front];
    uint32_t first = (l->hist_head + HIST_POINTS - l->hist_n) % HIST_POINTS;
    sb_put(b, "event: history\ndata: {\"t\":[", 27);
    for (uint32_t i = 0; i < l->hist_n; i++)
        sb_printf(b, "%s%lld", i ? "," : "", (long long)l->hist_t[(first + i) % HIST_POINTS]);
    sb_put(b, "],\"pnl\":{", 9);
    for (uint32_t a = 0; a < l->n_acc && a < s->n_acc; a++) {
        if (a)
            sb_put(b, ",", 1);
        sb_str(b, s->acc[a].name);
        sb_put(b, ":[", 2);
        for (uint32_t i = 0; i < l->hist_n; i++) {
            if (i)
                sb_put(b, ",", 1);
            sb_num(b, l->hist_pnl[(size_t)((first + i) % HIST_POINTS) * l->n_acc + a]);
        }
        sb_put(b, "]", 1);
    }
    sb_put(b, "}}\n\n", 4);
}

static int pull(void *ctx, uint64_t *cursor, char **out, size_t *len)
{
    brs__live *l = ctx;
    refresh(l, 1);
    if (!l->json || *cursor >= l->json_ver)
        return 0;
    sbuf b = {0};
    if (*cursor == 0) {
        sb_put(&b, "retry: 1000\n\n", 13);
        render_history(l, &b);
    }
    sb_put(&b, l->json, l->json_len);
    if (b.oom) {
        free(b.p);
        return 0;
    }
    *cursor = l->json_ver;
    *out = b.p;
    *len = b.n;
    return 1;
}

/* ---- routes ----------------------------------------------------------------- */

static int text(brs__http_resp *r, int status, const char *ctype, const char *body)
{
    r->status = status;
    r->content_type = ctype;
    r->len = strlen(body);
    r->body = malloc(r->len + 1);
    if (!r->body)
        return BRS_E_NOMEM;
    memcpy(r->body, body, r->len + 1);
    return BRS_OK;
}

static int route(void *ctx, const brs__http_req *rq, brs__http_resp *r)
{
    brs__live *l = ctx;
    if (!brs__http_same_origin(rq)) {
        BRS_LOG(BRS_LOG_WARN, "live", "request from another origin refused", BRS_KV_S("peer", rq->peer),
                BRS_KV_S("host", rq->host), BRS_KV_S("origin", rq->origin));
        return text(r, 403, "text/plain; charset=utf-8", "requests must come from the dashboard's own page\n");
    }
    if (!strcmp(rq->method, "POST"))
        return text(r, 405, "text/plain; charset=utf-8", "GET only\n");
    if (!strcmp(rq->path, "/live") || !strcmp(rq->path, "/live/"))
        return text(r, 200, "text/html; charset=utf-8", brs__live_html);
    if (!strcmp(rq->path, "/live/live.js"))
        return text(r, 200, "text/javascript; charset=utf-8", brs__live_js);
    if (!strcmp(rq->path, "/live/uplot.js"))
        return text(r, 200, "text/javascript; charset=utf-8", brs__an_uplot_js);
    if (!strcmp(rq->path, "/live/uplot.css"))
        return text(r, 200, "text/css; charset=utf-8", brs__an_uplot_css);
    if (!strcmp(rq->path, "/live/events")) {
        r->pull = pull;
        r->pull_ctx = l;
        return BRS_OK;
    }
    return text(r, 404, "text/plain; charset=utf-8", "not found\n");
}

void brs__live_add_latency(brs__live *l, const char *name, const brs__histogram *h)
{
    if (l && h && l->n_lat < BRS__LIVE_LAT) {
        l->lat_name[l->n_lat] = name;
        l->lat[l->n_lat++] = h;
    }
}

int brs__live_serve(brs__live *l, brs__http *h)
{
    int rc = brs__http_route(h, "/live", route, l);
    if (rc)
        return rc;
    brs__http_set_tick(h, tick, l);
    return BRS_OK;
}
