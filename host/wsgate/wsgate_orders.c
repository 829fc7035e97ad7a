/* wsgate_orders.c: WebSocket order entry's requests and reports (docs/ws-
 * order-entry.md): login, place, cancel, replace, query and subscribe
 * translated to brs__rt_submit/cancel/replace, each account's order table,
 * and the runtime's order events written to the account's connections. */
#include "wsgate/wsgate_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/rt_books.h"
#include "core/core.h"
#include "core/log.h"

static const char *const st_names[] = {"pending_new", "new", "partially_filled", "filled", "cancelled", "rejected"};

/* ---- small helpers -------------------------------------------------------- */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int find_order(const account *a, const char *clid)
{
    uint32_t m = a->map_cap - 1;
    for (uint32_t i = hash_str(clid) & m;; i = (i + 1) & m) {
        uint32_t v = a->map[i];
        if (!v)
            return -1;
        if (!strcmp(a->orders[v - 1].clid, clid))
            return (int)(v - 1);
    }
}

static void map_put(account *a, const char *clid, uint32_t idx)
{
    uint32_t m = a->map_cap - 1;
    uint32_t i = hash_str(clid) & m;
    while (a->map[i])
        i = (i + 1) & m;
    a->map[i] = idx + 1;
}

static int token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned d = (unsigned)(la ^ lb);
    for (size_t i = 0; i < la; i++)
        d |= (unsigned)(a[i] ^ b[i < lb ? i : 0]);
    return d == 0;
}

/* Append s as a JSON string (quoted, escaped). */
size_t brs__wsg_jstr(char *out, size_t cap, size_t at, const char *s)
{
    if (at < cap)
        out[at] = '"';
    at++;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            if (at + 1 < cap)
                out[at] = '\\', out[at + 1] = (char)ch;
            at += 2;
        } else if (ch < 0x20) {
            if (at + 6 < cap)
                snprintf(out + at, 7, "\\u%04x", ch);
            at += 6;
        } else {
            if (at < cap)
                out[at] = (char)ch;
            at++;
        }
    }
    if (at < cap)
        out[at] = '"';
    return at + 1;
}

/* ---- JSON without snprintf: one report per order event, a sweep's 40,000
 * of them; snprintf was 88% of a report's 13,000 instructions. Each writes
 * at p (the caller leaves room) and returns the end. */
#define PUTL(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *put_s(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
    char t[20];
    int n = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *p++ = t[--n];
    return p;
}

static char *put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

/* price units -> decimal text with the instrument's decimals (at most 40 bytes) */
static char *put_px(const brs__wsgate *g, uint32_t instr, int64_t px, char *p)
{
    int d = g->dec[instr];
    int64_t sc = brs__pow10(d);
    if (d <= 0 || sc <= 0)
        return put_i64(p, px);
    uint64_t a = px < 0 ? (uint64_t)0 - (uint64_t)px : (uint64_t)px;
    if (px < 0)
        *p++ = '-';
    p = put_u64(p, a / (uint64_t)sc);
    *p++ = '.';
    uint64_t f = a % (uint64_t)sc;
    for (int i = d - 1; i >= 0; i--, f /= 10)
        p[i] = (char)('0' + f % 10);
    return p + d;
}

void brs__wsg_fmt_px(const brs__wsgate *g, uint32_t instr, int64_t px, char *out, size_t cap)
{
    char t[48];
    size_t n = (size_t)(put_px(g, instr, px, t) - t);
    if (cap) {
        n = n < cap ? n : cap - 1;
        memcpy(out, t, n);
        out[n] = '\0';
    }
}

void brs__wsg_send_text(wconn *c, const char *s, size_t n)
{
    if (!c || c->closed) /* no connection: a request replayed from the journal */
        return;
    int rc = brs__wss_send_text(&c->ws, s, n);
    if (rc == BRS_E_LIMIT) {
        c->g->st.closed_limit++;
        BRS_LOG(BRS_LOG_WARN, "ws", "connection closed: the client reads too slowly",
                BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
                BRS_KV_U("max_queued_bytes", c->ws.lim.max_queued),
                BRS_KV_U("max_backlog_bytes", c->ws.lim.max_backlog));
    } else if (rc == BRS_E_NOMEM) {
        BRS_LOG(BRS_LOG_ERROR, "ws", "connection closed: out of memory for its messages",
                BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer), BRS_KV_U("bytes", n));
    }
}

static void send_error(wconn *c, const brs__wsg_req *r, const char *field, const char *msg)
{
    if (!c)
        return;
    brs__wsgate *g = c->g;
    size_t at = 0, cap = sizeof g->buf;
    char *b = g->buf;
    at += (size_t)snprintf(b, cap, "{\"type\":\"error\"");
    if (r && r->has_id)
        at += (size_t)snprintf(b + at, cap - at, ",\"id\":%lld", (long long)r->id);
    if (field && field[0]) {
        at += (size_t)snprintf(b + at, cap - at, ",\"field\":");
        at = brs__wsg_jstr(b, cap, at, field);
    }
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, ",\"error\":");
    at = brs__wsg_jstr(b, cap, at, msg);
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "}");
    if (at < cap)
        brs__wsg_send_text(c, b, at);
    g->st.rejected_requests++;
    /* a refused order step is part of the order's history (the audit trail):
     * journaled as a `refused` event naming the order and the reason */
    if (g->rfn && !g->replaying && r && c->acct >= 0 && r->order[0] &&
        (r->op == BRS__WSG_PLACE || r->op == BRS__WSG_CANCEL || r->op == BRS__WSG_REPLACE)) {
        at = (size_t)snprintf(b, cap, "{\"type\":\"error\",\"event\":\"refused\",\"client_order_id\":");
        at = brs__wsg_jstr(b, cap, at, r->order);
        if (field && field[0]) {
            at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, ",\"field\":");
            at = brs__wsg_jstr(b, cap, at, field);
        }
        at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, ",\"reason\":");
        at = brs__wsg_jstr(b, cap, at, msg);
        at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "}");
        if (at < cap)
            g->rfn(g->juser, (uint32_t)c->acct, g->acc[c->acct].name, brs__rt_now(g->rt), b, at);
    }
}

static void send_simple(wconn *c, const brs__wsg_req *r, const char *type, const char *k, const char *v)
{
    brs__wsgate *g = c->g;
    size_t cap = sizeof g->buf;
    char *b = g->buf;
    size_t at = (size_t)snprintf(b, cap, "{\"type\":\"%s\"", type);
    if (r && r->has_id)
        at += (size_t)snprintf(b + at, cap - at, ",\"id\":%lld", (long long)r->id);
    if (k) {
        at += (size_t)snprintf(b + at, cap - at, ",\"%s\":", k);
        at = brs__wsg_jstr(b, cap, at, v);
    }
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "}");
    if (at < cap)
        brs__wsg_send_text(c, b, at);
}

/* One order as JSON fields (no braces) into b at `at`: at most
 * ORDER_FIELDS_MAX bytes (a client_order_id and a symbol of control
 * characters, escaped six to one), which the caller leaves room for. */
#define ORDER_FIELDS_MAX 1024
static size_t order_fields(const brs__wsgate *g, const wsorder *o, char *b, size_t cap, size_t at)
{
    at = brs__wsg_jstr(b, cap, (size_t)(PUTL(b + at, "\"client_order_id\":") - b), o->clid);
    at = brs__wsg_jstr(b, cap, (size_t)(PUTL(b + at, ",\"symbol\":") - b), g->instr[o->instr].symbol);
    char *p = PUTL(b + at, ",\"side\":\"");
    p = put_s(p, o->side == BRS_BUY ? "buy" : "sell");
    p = PUTL(p, "\",\"order_type\":\"");
    p = put_s(p, o->type == BRS_MARKET ? "market" : "limit");
    p = PUTL(p, "\",\"price\":\"");
    if (o->type != BRS_MARKET)
        p = put_px(g, o->instr, o->price, p);
    p = put_i64(PUTL(p, "\",\"qty\":"), o->qty);
    p = put_i64(PUTL(p, ",\"cum_qty\":"), o->cum);
    p = put_i64(PUTL(p, ",\"leaves_qty\":"), o->leaves);
    p = PUTL(p, ",\"avg_px\":\"");
    if (o->cum > 0)
        p = put_px(g, o->instr, (int64_t)(o->notional / o->cum), p);
    p = put_s(PUTL(p, "\",\"status\":\""), st_names[o->status]);
    *p++ = '"';
    return (size_t)(p - b);
}

/* ---- reports: runtime -> the account's connections ---------------------- */

/* The runtime's event: reported now while the account took fewer than
 * max_events_per_turn in this loop turn and none wait; else it waits in the
 * account's queue, behind the others, for brs__wsgate_step. A replay (the
 * budget is set after it) takes every event at once: the order table is the
 * same, nothing is sent or journaled. */
void brs__wsg_on_order(void *user, const brs_order_event *ev)
{
    account *a = user;
    brs__wsgate *g = a->g;
    if (g->per_turn && !g->replaying) {
        brs__wsg_turn_budget(g, a);
        if (a->q.n || a->taken >= g->per_turn) {
            if (brs__rt_evq_push(&a->q, ev) == BRS_OK) {
                if (a->q.n == 1) {
                    g->n_active++;
                    a->deferred = a->turns = 0;
                    a->t0 = brs__monotime_ns();
                }
                a->deferred++;
                return;
            }
            /* no memory to wait: what waits goes now, in order, then this one */
            BRS_LOG(BRS_LOG_ERROR, "ws", "out of memory for waiting order events: reported in this loop turn",
                    BRS_KV_S("account", a->name), BRS_KV_U("waiting", a->q.n));
            brs_order_event w;
            int was = a->q.n > 0;
            while (brs__rt_evq_pop(&a->q, &w))
                brs__wsg_report(g, a, &w);
            brs__rt_evq_clear(&a->q);
            g->n_active -= was;
        }
        a->taken++;
    }
    brs__wsg_report(g, a, ev);
}

void brs__wsg_report(brs__wsgate *g, account *a, const brs_order_event *ev)
{
    if (ev->order_id == 0 || ev->order_id > a->n_orders)
        return;
    wsorder *o = &a->orders[ev->order_id - 1];
    const char *what = "accepted";
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
        if (o->status == ST_PENDING)
            o->status = ST_NEW;
        if (g->h_ack && o->t_in && !g->replaying)
            brs__wsg_lat_note(g, &g->lat_ack, o->t_in);
        break;
    case BRS_OEV_FILL:
        what = "fill";
        g->st.fills += !g->replaying;
        if (g->h_fill && o->t_in && !g->replaying)
            brs__wsg_lat_note(g, &g->lat_fill, o->t_in);
        o->cum += ev->qty;
        o->notional += (__int128)ev->price * ev->qty;
        o->leaves = o->qty - o->cum > 0 ? o->qty - o->cum : 0;
        o->status = o->leaves ? ST_PARTIAL : ST_FILLED;
        break;
    case BRS_OEV_CANCELLED:
        what = "cancelled";
        o->leaves = 0;
        if (o->status != ST_FILLED)
            o->status = ST_CANCELLED;
        break;
    case BRS_OEV_REJECTED:
        what = "rejected";
        if (o->status == ST_PENDING) {
            o->status = ST_REJECTED;
            o->leaves = 0;
        }
        o->replace_pending = 0;
        break;
    case BRS_OEV_REPLACED:
        what = "replaced";
        if (o->replace_pending) { /* the new total as asked; what is open as the venue says */
            o->price = o->new_price;
            o->qty = o->new_qty;
            o->replace_pending = 0;
        }
        o->leaves = ev->leaves;
        break;
    default:
        return;
    }
    g->st.reports += !g->replaying;
    /* within g->buf (64 KB): the order's fields, then at most 100 bytes,
     * an escaped venue name (6 x 63 bytes) and an error's name */
    size_t cap = sizeof g->buf, at;
    char *b = g->buf;
    char *p = put_s(PUTL(b, "{\"type\":\"order\",\"event\":\""), what);
    p = PUTL(p, "\",");
    at = order_fields(g, o, b, cap, (size_t)(p - b));
    p = b + at;
    if (ev->kind == BRS_OEV_FILL) {
        p = put_px(g, o->instr, ev->price, PUTL(p, ",\"last_px\":\""));
        p = put_i64(PUTL(p, "\",\"last_qty\":"), ev->qty);
        p = put_i64(PUTL(p, ",\"fee\":"), ev->fee);
        p = put_s(PUTL(p, ",\"liquidity\":\""), ev->liquidity == BRS_LIQ_TAKER   ? "taker"
                                                   : ev->liquidity == BRS_LIQ_MAKER ? "maker"
                                                                                    : "");
        *p++ = '"';
    }
    at = (size_t)(p - b);
    if (ev->kind == BRS_OEV_FILL || ev->kind == BRS_OEV_ACCEPTED) {
        const char *vn = brs__rt_venue_name(g->rt, ev->venue);
        at = brs__wsg_jstr(b, cap, (size_t)(PUTL(b + at, ",\"venue\":") - b), vn ? vn : "");
    }
    if (ev->kind == BRS_OEV_REJECTED || ev->kind == BRS_OEV_CANCELLED)
        at += (size_t)snprintf(b + at, cap - at, ",\"reason\":\"%s\"", ev->reason ? brs_err_name(ev->reason) : "");
    b[at++] = '}';
    if (g->rfn && !g->replaying)
        g->rfn(g->juser, a->index, a->name, ev->ts, b, at);
    for (uint32_t i = 0; i < g->n_conns; i++) {
        wconn *c = g->conns[i];
        if (c->acct != (int)a->index || c->closed)
            continue;
        if ((c->subs & BRS__WSG_CH_ORDERS) || ((c->subs & BRS__WSG_CH_FILLS) && ev->kind == BRS_OEV_FILL))
            brs__wsg_send_text(c, b, at);
    }
}

/* ---- requests ---------------------------------------------------------------- */

static int find_instr(const brs__wsgate *g, const char *sym)
{
    for (uint32_t i = 0; i < g->n_instr; i++)
        if (!strcmp(g->instr[i].symbol, sym))
            return (int)i;
    return -1;
}

/* decimal text -> price units, on the instrument's tick */
static int to_price(const brs__wsgate *g, uint32_t instr, const char *s, int64_t *out, const char **why)
{
    int d = g->dec[instr];
    if (brs__dec_parse(s, strlen(s), &d, out) || *out <= 0) {
        *why = "not a positive price with at most the instrument's decimals";
        return -1;
    }
    if (*out % g->instr[instr].tick_size) {
        *why = "not on the instrument's tick";
        return -1;
    }
    return 0;
}

/* A failed login (a wrong token, an unknown account, a TLS failure before
 * the login): counted for the address as a FIX Logon's (net/authlimit.h). */
static void auth_failed(wconn *c, int64_t now)
{
    uint32_t fails = 0;
    int64_t d = brs__auth_failed(&c->g->auth, c->ip, now, &fails);
    if (d)
        BRS_LOG(BRS_LOG_WARN, "ws", "repeated login failures: the address's next login waits",
                BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer), BRS_KV_U("failures", fails),
                BRS_KV_I("delay_ms", d / 1000000));
}

static void do_login(wconn *c, const brs__wsg_req *r)
{
    brs__wsgate *g = c->g;
    if (c->acct >= 0) {
        send_error(c, r, "", "already logged in");
        return;
    }
    int64_t now = brs__realtime_ns();
    int64_t until = brs__auth_delay(&g->auth, c->ip, now);
    if (until) {
        /* refused before the token is looked at: a guess from this address
         * waits as long as a FIX Logon would (the connection is closed rather
         * than kept, a client logs in again after the wait) */
        char msg[128];
        snprintf(msg, sizeof msg, "login refused: repeated failures from this address; retry in %lld ms",
                 (long long)((until - now) / 1000000 + 1));
        BRS_LOG(BRS_LOG_WARN, "ws", "login refused: repeated login failures from this address",
                BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer), BRS_KV_S("account", r->account),
                BRS_KV_I("wait_ms", (until - now) / 1000000 + 1));
        send_error(c, r, "token", msg);
        brs__wss_close(&c->ws, 1008, "login delayed after repeated failures");
        return;
    }
    int k = -1;
    for (uint32_t i = 0; i < g->n_acc; i++)
        if (!strcmp(g->acc[i].name, r->account))
            k = (int)i;
    /* the token is compared even for an unknown account, in constant time */
    int ok = token_eq(r->token, k >= 0 ? g->acc[k].token : "\x01") && k >= 0;
    if (!ok) {
        g->st.login_failures++;
        BRS_LOG(BRS_LOG_WARN, "ws", "login refused: unknown account or wrong token", BRS_KV_U("conn", c->num),
                BRS_KV_S("peer", c->peer), BRS_KV_S("account", r->account));
        send_error(c, r, "token", "login refused: unknown account or wrong token");
        brs__wss_close(&c->ws, 1008, "authentication failed");
        auth_failed(c, now);
        return;
    }
    brs__auth_ok(&g->auth, c->ip);
    c->acct = k;
    c->subs = BRS__WSG_CH_ORDERS;
    g->st.logins++;
    BRS_LOG(BRS_LOG_INFO, "ws", "logged in", BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
            BRS_KV_S("account", g->acc[k].name));
    send_simple(c, r, "logged_in", "account", g->acc[k].name);
}

void brs__wsg_do_place(brs__wsgate *g, wconn *c, account *a, const brs__wsg_req *r, int64_t now)
{
    int ii = find_instr(g, r->symbol);
    if (ii < 0) {
        send_error(c, r, "symbol", "unknown symbol");
        return;
    }
    if (find_order(a, r->order) >= 0) {
        send_error(c, r, "client_order_id", "client_order_id already used by this account");
        return;
    }
    if (a->n_orders >= g->max_orders) {
        if (!g->replaying)
            BRS_LOG(BRS_LOG_WARN, "ws", "order refused: the account has ws.max_orders_per_account orders",
                BRS_KV_S("account", a->name), BRS_KV_U("max", g->max_orders));
        send_error(c, r, "", "too many orders for this account (ws.max_orders_per_account)");
        return;
    }
    int64_t px = 0;
    const char *why;
    if (r->type == BRS_LIMIT && to_price(g, (uint32_t)ii, r->price, &px, &why)) {
        send_error(c, r, "price", why);
        return;
    }
    uint32_t idx = a->n_orders++;
    wsorder *o = &a->orders[idx];
    memset(o, 0, sizeof *o);
    snprintf(o->clid, sizeof o->clid, "%s", r->order);
    o->instr = (uint32_t)ii;
    o->side = r->side;
    o->type = r->type;
    o->price = px;
    o->qty = o->leaves = r->qty;
    o->t_in = g->replaying ? 0 : now;
    map_put(a, o->clid, idx);
    brs_order ord = {.id = idx + 1, .instrument = (uint32_t)ii, .side = r->side, .type = r->type,
                     .tif = r->tif, .price = px, .qty = r->qty, .ts = now};
    if (r->post_only)
        ord.flags |= BRS_OF_POST_ONLY;
    g->st.orders += !g->replaying;
    int rc = brs__rt_submit(g->rt, a->client, &ord);
    if (rc < 0) {
        o->status = ST_REJECTED;
        o->leaves = 0;
        send_error(c, r, "", brs_err_name(rc));
    }
}

void brs__wsg_do_cancel_replace(brs__wsgate *g, wconn *c, account *a, const brs__wsg_req *r)
{
    int k = find_order(a, r->order);
    if (k < 0) {
        send_error(c, r, "client_order_id", "no such order for this account");
        return;
    }
    wsorder *o = &a->orders[k];
    if (o->status == ST_FILLED || o->status == ST_CANCELLED || o->status == ST_REJECTED) {
        send_error(c, r, "client_order_id", "the order is not open");
        return;
    }
    int rc;
    if (r->op == BRS__WSG_CANCEL) {
        rc = brs__rt_cancel(g->rt, a->client, (uint64_t)k + 1);
    } else {
        if (o->type == BRS_MARKET) {
            send_error(c, r, "client_order_id", "a market order cannot be replaced");
            return;
        }
        int64_t px = o->price, q = r->qty ? r->qty : o->qty;
        const char *why;
        if (r->price[0] && to_price(g, o->instr, r->price, &px, &why)) {
            send_error(c, r, "price", why);
            return;
        }
        if (q <= o->cum) {
            send_error(c, r, "qty", "the new total quantity must be above what is filled");
            return;
        }
        o->new_price = px;
        o->new_qty = q;
        o->replace_pending = 1;
        rc = brs__rt_replace(g->rt, a->client, (uint64_t)k + 1, px, q);
        if (rc < 0)
            o->replace_pending = 0;
    }
    if (rc < 0)
        send_error(c, r, "", brs_err_name(rc));
}

static void do_query(wconn *c, account *a, const brs__wsg_req *r)
{
    brs__wsgate *g = c->g;
    size_t cap = sizeof g->buf;
    char *b = g->buf;
    size_t at = (size_t)snprintf(b, cap, "{\"type\":\"orders\"");
    if (r->has_id)
        at += (size_t)snprintf(b + at, cap - at, ",\"id\":%lld", (long long)r->id);
    at += (size_t)snprintf(b + at, cap - at, ",\"orders\":[");
    int n = 0;
    if (r->order[0]) {
        int k = find_order(a, r->order);
        if (k < 0) {
            send_error(c, r, "client_order_id", "no such order for this account");
            return;
        }
        b[at++] = '{';
        at = order_fields(g, &a->orders[k], b, cap, at);
        if (at < cap)
            b[at] = '}';
        at++;
        n = 1;
    } else {
        for (uint32_t i = 0; i < a->n_orders && at + ORDER_FIELDS_MAX + 16 < cap; i++) {
            const wsorder *o = &a->orders[i];
            if (o->status != ST_PENDING && o->status != ST_NEW && o->status != ST_PARTIAL)
                continue;
            if (n++)
                b[at++] = ',';
            b[at++] = '{';
            at = order_fields(g, o, b, cap, at);
            if (at < cap)
                b[at] = '}';
            at++;
        }
    }
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "]}");
    if (at < cap)
        brs__wsg_send_text(c, b, at);
    else
        send_error(c, r, "", "too many open orders for one answer: query them one by one");
}

static void do_subscribe(wconn *c, const brs__wsg_req *r)
{
    brs__wsgate *g = c->g;
    const char *names[] = {"", "orders", "fills", "", "book"};
    if (r->channel != BRS__WSG_CH_BOOK) {
        if (r->op == BRS__WSG_SUBSCRIBE)
            c->subs |= (uint32_t)r->channel;
        else
            c->subs &= ~(uint32_t)r->channel;
        send_simple(c, r, r->op == BRS__WSG_SUBSCRIBE ? "subscribed" : "unsubscribed", "channel",
                    names[r->channel]);
        return;
    }
    int ii = find_instr(g, r->symbol);
    if (ii < 0) {
        send_error(c, r, "symbol", "unknown symbol");
        return;
    }
    /* "*": the consolidated book, every venue's levels merged by price */
    int all = !strcmp(r->venue, "*");
    int v = all ? 0 : r->venue[0] ? brs__rt_venue_find(g->rt, r->venue) : (int)brs__rt_market_venue(g->rt);
    if (v < 0) {
        send_error(c, r, "venue", "unknown venue");
        return;
    }
    uint32_t vid = all ? BRS__RT_ALL_VENUES : (uint32_t)v;
    uint32_t k = 0;
    while (k < c->n_books && (c->books[k].instr != (uint32_t)ii || c->books[k].venue != vid))
        k++;
    if (r->op == BRS__WSG_UNSUBSCRIBE) {
        if (k == c->n_books) {
            send_error(c, r, "symbol", "not subscribed");
            return;
        }
        c->books[k] = c->books[--c->n_books];
    } else {
        if (k == c->n_books) {
            if (c->n_books == MAX_BOOK_SUBS) {
                send_error(c, r, "symbol", "at most 8 book subscriptions per connection");
                return;
            }
            c->n_books++;
        }
        c->books[k] = (bsub){.instr = (uint32_t)ii, .venue = vid, .depth = r->depth};
    }
    send_simple(c, r, r->op == BRS__WSG_SUBSCRIBE ? "subscribed" : "unsubscribed", "channel", "book");
}

/* A message of a logged-in connection whose account has events waiting (or
 * that holds messages already) waits behind them, so the account sees every
 * event of what it did before in order; brs__wsgate_step runs it once they
 * are reported. */
static void hold(wconn *c, const char *data, size_t len)
{
    brs__wsgate *g = c->g;
    size_t before = brs__ws_msgq_bytes(&c->held);
    if (before + 4 + len > g->wl.max_backlog) {
        BRS_LOG(BRS_LOG_WARN, "ws", "connection closed: too many messages wait behind its account's order events",
                BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer), BRS_KV_U("max_backlog_bytes", g->wl.max_backlog));
        brs__wss_close(&c->ws, 1008, "too many messages wait (ws.max_backlog_bytes)");
        c->drop_kept = 1;
        return;
    }
    if (brs__ws_msgq_push(&c->held, data, len) != BRS_OK) { /* a request dropped in silence: closed instead */
        BRS_LOG(BRS_LOG_ERROR, "ws", "connection closed: out of memory for its waiting messages",
                BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer), BRS_KV_U("bytes", len));
        brs__wss_close(&c->ws, 1011, "out of memory");
        c->drop_kept = 1;
        return;
    }
    g->n_held += !before;
}

void brs__wsg_on_text(void *ud, brs__wss *ws, const char *data, size_t len)
{
    (void)ws;
    wconn *c = ud;
    if (c->acct >= 0 && (brs__ws_msgq_bytes(&c->held) || c->g->acc[c->acct].q.n))
        hold(c, data, len);
    else
        brs__wsg_handle(c, data, len);
}

void brs__wsg_handle(wconn *c, const char *data, size_t len)
{
    int64_t now = brs__realtime_ns();
    brs__wsgate *g = c->g;
    g->st.requests++;
    /* token bucket on the real clock */
    c->tokens += (double)(now - c->t_tokens) * 1e-9 * g->rate;
    if (c->tokens > g->burst)
        c->tokens = g->burst;
    c->t_tokens = now;
    brs__wsg_req r;
    char field[64];
    brs_error e = {0};
    int rc = brs__wsg_parse(data, len, &r, field, sizeof field, &e);
    if (c->tokens < 1) {
        g->st.rate_limited++;
        if (now - c->t_limit_log > 1000000000LL) {
            c->t_limit_log = now;
            BRS_LOG(BRS_LOG_WARN, "ws", "request refused: ws.max_messages_per_sec",
                    BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer), BRS_KV_F("per_sec", g->rate),
                    BRS_KV_F("burst", g->burst));
        }
        send_error(c, rc ? NULL : &r, "", "rate limit: too many messages (ws.max_messages_per_sec)");
        return;
    }
    c->tokens -= 1;
    if (rc) {
        send_error(c, &r, field, e.msg);
        return;
    }
    if (r.op == BRS__WSG_LOGIN) {
        do_login(c, &r);
        return;
    }
    if (c->acct < 0) {
        send_error(c, &r, "op", "log in first");
        return;
    }
    account *a = &g->acc[c->acct];
    if (r.op == BRS__WSG_PLACE || r.op == BRS__WSG_CANCEL || r.op == BRS__WSG_REPLACE) {
        /* the runtime's clock is this request's: what was due goes first, as a
         * replay does; then the request reaches the journal before it is
         * carried out (its answers are written after the commit) */
        brs__rt_advance(g->rt, now);
        if (g->jfn)
            g->jfn(g->juser, a->index, now, data, len);
    }
    switch (r.op) {
    case BRS__WSG_PLACE: brs__wsg_do_place(g, c, a, &r, now); break;
    case BRS__WSG_CANCEL:
    case BRS__WSG_REPLACE: brs__wsg_do_cancel_replace(g, c, a, &r); break;
    case BRS__WSG_QUERY: do_query(c, a, &r); break;
    case BRS__WSG_SUBSCRIBE:
    case BRS__WSG_UNSUBSCRIBE: do_subscribe(c, &r); break;
    default: break;
    }
    brs__rt_advance(g->rt, now); /* deliver what the request made due now */
}

void brs__wsg_on_open(void *ud, brs__wss *ws, const char *path)
{
    (void)ws;
    wconn *c = ud;
    BRS_LOG(BRS_LOG_INFO, "ws", "connection upgraded", BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
            BRS_KV_S("path", path));
}

void brs__wsg_on_close(void *ud, brs__wss *ws, int code, const char *reason)
{
    (void)ws;
    wconn *c = ud;
    c->closed = 1;
    if (code == 1015) { /* the FIX listener's line for the same failure (ws.tls) */
        BRS_LOG(BRS_LOG_WARN, "ws", "TLS failure: connection refused", BRS_KV_U("conn", c->num),
                BRS_KV_S("peer", c->peer), BRS_KV_S("reason", reason));
        if (c->acct < 0)
            auth_failed(c, brs__realtime_ns());
    }
    if (code == 1009 || code == 1008 || code == 1002 || code == 1007 || code == 1003)
        c->g->st.closed_limit += code == 1009;
    BRS_LOG(code == 1000 || code == 1001 || code == 1005 ? BRS_LOG_INFO : BRS_LOG_WARN, "ws",
            "connection closed", BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
            BRS_KV_S("account", c->acct >= 0 ? c->g->acc[c->acct].name : ""), BRS_KV_I("code", code),
            BRS_KV_S("reason", reason));
}
