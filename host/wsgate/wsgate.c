/* wsgate.c: WebSocket order entry onto the runtime (wsgate.h,
 * docs/ws-order-entry.md): accounts and their tokens, connections and their
 * limits, requests translated to brs__rt_submit/cancel/replace, and each
 * account's order events and book updates written to its own connections. */
#include "wsgate/wsgate.h"

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

#include "core/core.h"
#include "core/log.h"
#include "feeds/binance.h"
#include "ws/ws_server.h"
#include "wsgate/msg.h"

#define MAX_BOOK_SUBS 8
#define BOOK_MIN_NS 50000000LL /* book updates: looked at (and sent if changed) at most every 50 ms */

enum { ST_PENDING = 0, ST_NEW, ST_PARTIAL, ST_FILLED, ST_CANCELLED, ST_REJECTED };
static const char *const st_names[] = {"pending_new", "new", "partially_filled", "filled", "cancelled", "rejected"};

typedef struct wsorder {
    char clid[64];
    uint32_t instr;
    uint8_t side, type, status, replace_pending;
    int64_t price, qty, cum, leaves;
    int64_t new_price, new_qty; /* asked by a replace, applied on REPLACED */
    __int128 notional;          /* sum of fill price x qty, for avg_px */
} wsorder;

typedef struct account {
    char name[64];
    char token[256];
    uint32_t client;
    brs__wsgate *g;
    uint32_t index;
    wsorder *orders;
    uint32_t n_orders;
    uint32_t *map; /* open addressing: clid hash -> order index + 1 */
    uint32_t map_cap;
} account;

typedef struct bsub {
    uint32_t instr, venue, depth;
    uint64_t last_hash;
    int64_t last_check; /* the book is looked at most once per BOOK_MIN_NS */
} bsub;

typedef struct wconn {
    brs__wss ws;
    brs__wsgate *g;
    int acct; /* -1 until logged in */
    uint32_t subs;
    bsub books[MAX_BOOK_SUBS];
    uint32_t n_books;
    double tokens;
    int64_t t_tokens, t_open, t_limit_log;
    uint64_t num;
    uint32_t ev_mask;
    char peer[64];
    int closed;
} wconn;

struct brs__wsgate {
    brs__rt *rt;
    const brs_instrument *instr;
    uint32_t n_instr;
    int *dec; /* decimals of each instrument's price_scale */
    int lfd, efd;
    account *acc;
    uint32_t n_acc;
    wconn **conns;
    uint32_t n_conns, cap_conns;
    /* limits (docs/ws-order-entry.md, "Limits") */
    brs__wss_limits wl;
    uint32_t max_connections, max_orders;
    double rate, burst;
    int64_t login_timeout_ns;
    uint64_t next_num;
    brs__wsgate_stats st;
    /* the order journal (brs__wsgate_set_journal): each order request before
     * it is carried out; replaying: requests from it, answered to no one */
    void (*jfn)(void *user, uint32_t acct, int64_t t, const char *text, size_t len);
    void *juser;
    int replaying;
    char buf[1 << 16];
};

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
static size_t jstr(char *out, size_t cap, size_t at, const char *s)
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

/* price units -> decimal text with the instrument's decimals */
static void fmt_px(const brs__wsgate *g, uint32_t instr, int64_t px, char *out, size_t cap)
{
    int d = g->dec[instr];
    int64_t p = brs__pow10(d);
    if (d <= 0 || p <= 0) {
        snprintf(out, cap, "%lld", (long long)px);
        return;
    }
    int neg = px < 0;
    uint64_t a = neg ? (uint64_t)0 - (uint64_t)px : (uint64_t)px;
    snprintf(out, cap, "%s%llu.%0*llu", neg ? "-" : "", (unsigned long long)(a / (uint64_t)p), d,
             (unsigned long long)(a % (uint64_t)p));
}

static void send_text(wconn *c, const char *s, size_t n)
{
    if (!c || c->closed) /* no connection: a request replayed from the journal */
        return;
    if (brs__wss_send_text(&c->ws, s, n) == BRS_E_LIMIT) {
        c->g->st.closed_limit++;
        BRS_LOG(BRS_LOG_WARN, "ws", "connection closed: the client reads too slowly",
                BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
                BRS_KV_U("max_queued_bytes", c->ws.lim.max_queued));
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
        at = jstr(b, cap, at, field);
    }
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, ",\"error\":");
    at = jstr(b, cap, at, msg);
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "}");
    if (at < cap)
        send_text(c, b, at);
    g->st.rejected_requests++;
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
        at = jstr(b, cap, at, v);
    }
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "}");
    if (at < cap)
        send_text(c, b, at);
}

/* One order as JSON fields (no braces) into b at `at`. */
static size_t order_fields(const brs__wsgate *g, const wsorder *o, char *b, size_t cap, size_t at)
{
    char px[48], avg[48] = "";
    fmt_px(g, o->instr, o->price, px, sizeof px);
    if (o->cum > 0)
        fmt_px(g, o->instr, (int64_t)(o->notional / o->cum), avg, sizeof avg);
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "\"client_order_id\":");
    at = jstr(b, cap, at, o->clid);
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, ",\"symbol\":");
    at = jstr(b, cap, at, g->instr[o->instr].symbol);
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0,
                           ",\"side\":\"%s\",\"order_type\":\"%s\",\"price\":\"%s\",\"qty\":%lld,"
                           "\"cum_qty\":%lld,\"leaves_qty\":%lld,\"avg_px\":\"%s\",\"status\":\"%s\"",
                           o->side == BRS_BUY ? "buy" : "sell", o->type == BRS_MARKET ? "market" : "limit",
                           o->type == BRS_MARKET ? "" : px, (long long)o->qty, (long long)o->cum,
                           (long long)o->leaves, avg, st_names[o->status]);
    return at;
}

/* ---- reports: runtime -> the account's connections ---------------------- */

static void on_order(void *user, const brs_order_event *ev)
{
    account *a = user;
    brs__wsgate *g = a->g;
    if (ev->order_id == 0 || ev->order_id > a->n_orders)
        return;
    wsorder *o = &a->orders[ev->order_id - 1];
    const char *what = "accepted";
    switch (ev->kind) {
    case BRS_OEV_ACCEPTED:
        if (o->status == ST_PENDING)
            o->status = ST_NEW;
        break;
    case BRS_OEV_FILL:
        what = "fill";
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
    g->st.reports++;
    size_t cap = sizeof g->buf, at;
    char *b = g->buf;
    at = (size_t)snprintf(b, cap, "{\"type\":\"order\",\"event\":\"%s\",", what);
    at = order_fields(g, o, b, cap, at);
    if (ev->kind == BRS_OEV_FILL) {
        char px[48];
        fmt_px(g, o->instr, ev->price, px, sizeof px);
        at += (size_t)snprintf(b + at, at < cap ? cap - at : 0,
                               ",\"last_px\":\"%s\",\"last_qty\":%lld,\"fee\":%lld,\"liquidity\":\"%s\"", px,
                               (long long)ev->qty, (long long)ev->fee, ev->liquidity == BRS_LIQ_TAKER ? "taker" : ev->liquidity == BRS_LIQ_MAKER ? "maker" : "");
    }
    if (ev->kind == BRS_OEV_FILL || ev->kind == BRS_OEV_ACCEPTED) {
        const char *vn = brs__rt_venue_name(g->rt, ev->venue);
        at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, ",\"venue\":");
        at = jstr(b, cap, at, vn ? vn : "");
    }
    if (ev->kind == BRS_OEV_REJECTED || ev->kind == BRS_OEV_CANCELLED)
        at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, ",\"reason\":\"%s\"",
                               ev->reason ? brs_err_name(ev->reason) : "");
    at += (size_t)snprintf(b + at, at < cap ? cap - at : 0, "}");
    if (at >= cap)
        return;
    for (uint32_t i = 0; i < g->n_conns; i++) {
        wconn *c = g->conns[i];
        if (c->acct != (int)a->index || c->closed)
            continue;
        if ((c->subs & BRS__WSG_CH_ORDERS) || ((c->subs & BRS__WSG_CH_FILLS) && ev->kind == BRS_OEV_FILL))
            send_text(c, b, at);
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

static void do_login(wconn *c, const brs__wsg_req *r)
{
    brs__wsgate *g = c->g;
    if (c->acct >= 0) {
        send_error(c, r, "", "already logged in");
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
        return;
    }
    c->acct = k;
    c->subs = BRS__WSG_CH_ORDERS;
    g->st.logins++;
    BRS_LOG(BRS_LOG_INFO, "ws", "logged in", BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
            BRS_KV_S("account", g->acc[k].name));
    send_simple(c, r, "logged_in", "account", g->acc[k].name);
}

static void do_place(brs__wsgate *g, wconn *c, account *a, const brs__wsg_req *r, int64_t now)
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

static void do_cancel_replace(brs__wsgate *g, wconn *c, account *a, const brs__wsg_req *r)
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
        for (uint32_t i = 0; i < a->n_orders && at + 1024 < cap; i++) {
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
        send_text(c, b, at);
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
    int v = r->venue[0] ? brs__rt_venue_find(g->rt, r->venue) : (int)brs__rt_market_venue(g->rt);
    if (v < 0) {
        send_error(c, r, "venue", "unknown venue");
        return;
    }
    uint32_t k = 0;
    while (k < c->n_books && (c->books[k].instr != (uint32_t)ii || c->books[k].venue != (uint32_t)v))
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
        c->books[k] = (bsub){.instr = (uint32_t)ii, .venue = (uint32_t)v, .depth = r->depth};
    }
    send_simple(c, r, r->op == BRS__WSG_SUBSCRIBE ? "subscribed" : "unsubscribed", "channel", "book");
}

static void on_text(void *ud, brs__wss *ws, const char *data, size_t len)
{
    (void)ws;
    int64_t now = brs__realtime_ns();
    wconn *c = ud;
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
    case BRS__WSG_PLACE: do_place(g, c, a, &r, now); break;
    case BRS__WSG_CANCEL:
    case BRS__WSG_REPLACE: do_cancel_replace(g, c, a, &r); break;
    case BRS__WSG_QUERY: do_query(c, a, &r); break;
    case BRS__WSG_SUBSCRIBE:
    case BRS__WSG_UNSUBSCRIBE: do_subscribe(c, &r); break;
    default: break;
    }
    brs__rt_advance(g->rt, now); /* deliver what the request made due now */
}

static void on_open(void *ud, brs__wss *ws, const char *path)
{
    (void)ws;
    wconn *c = ud;
    BRS_LOG(BRS_LOG_INFO, "ws", "connection upgraded", BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
            BRS_KV_S("path", path));
}

static void on_close(void *ud, brs__wss *ws, int code, const char *reason)
{
    (void)ws;
    wconn *c = ud;
    c->closed = 1;
    if (code == 1009 || code == 1008 || code == 1002 || code == 1007 || code == 1003)
        c->g->st.closed_limit += code == 1009;
    BRS_LOG(code == 1000 || code == 1001 || code == 1005 ? BRS_LOG_INFO : BRS_LOG_WARN, "ws",
            "connection closed", BRS_KV_U("conn", c->num), BRS_KV_S("peer", c->peer),
            BRS_KV_S("account", c->acct >= 0 ? c->g->acc[c->acct].name : ""), BRS_KV_I("code", code),
            BRS_KV_S("reason", reason));
}

/* ---- connections ---------------------------------------------------------- */

static void conn_drop(brs__wsgate *g, uint32_t i)
{
    wconn *c = g->conns[i];
    epoll_ctl(g->efd, EPOLL_CTL_DEL, c->ws.fd, NULL);
    brs__wss_free(&c->ws);
    free(c);
    g->conns[i] = g->conns[--g->n_conns];
}

static void on_accept(brs__wsgate *g, int64_t now)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(g->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        char peer[64];
        snprintf(peer, sizeof peer, "%s:%u", inet_ntoa(sa.sin_addr), (unsigned)ntohs(sa.sin_port));
        if (g->n_conns >= g->max_connections) {
            static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
            ssize_t w = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
            (void)w;
            close(fd);
            g->st.closed_limit++;
            BRS_LOG(BRS_LOG_WARN, "ws", "connection refused: ws.max_connections reached", BRS_KV_S("peer", peer),
                    BRS_KV_U("max_connections", g->max_connections));
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        wconn *c = calloc(1, sizeof *c);
        if (g->n_conns == g->cap_conns) {
            uint32_t nc = g->cap_conns ? 2 * g->cap_conns : 16;
            wconn **p = realloc(g->conns, nc * sizeof *p);
            if (p)
                g->conns = p, g->cap_conns = nc;
        }
        brs__wss_cb cb = {.on_open = on_open, .on_text = on_text, .on_close = on_close};
        if (!c || g->n_conns == g->cap_conns || brs__wss_init(&c->ws, fd, &g->wl, &cb, c, now)) {
            if (c)
                brs__wss_free(&c->ws);
            else
                close(fd);
            free(c);
            continue;
        }
        c->g = g;
        c->acct = -1;
        c->tokens = g->burst;
        c->t_tokens = c->t_open = now;
        c->num = ++g->next_num;
        snprintf(c->peer, sizeof c->peer, "%s", peer);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        c->ev_mask = EPOLLIN;
        epoll_ctl(g->efd, EPOLL_CTL_ADD, fd, &ev);
        g->conns[g->n_conns++] = c;
        g->st.connections++;
        BRS_LOG(BRS_LOG_INFO, "ws", "connection accepted", BRS_KV_U("conn", c->num), BRS_KV_S("peer", peer));
    }
}

void brs__wsgate_poll(brs__wsgate *g, int64_t now)
{
    struct epoll_event evs[64];
    int n = epoll_wait(g->efd, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        wconn *c = evs[i].data.ptr;
        if (!c) {
            on_accept(g, now);
            continue;
        }
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            brs__wss_on_readable(&c->ws, now);
    }
}

static uint64_t book_hash(const brs_level *b, uint32_t nb, const brs_level *a, uint32_t na)
{
    uint64_t h = 1469598103934665603ull ^ nb ^ ((uint64_t)na << 32);
    for (uint32_t i = 0; i < nb; i++)
        h = (h ^ (uint64_t)b[i].price ^ ((uint64_t)b[i].qty << 1)) * 1099511628211ull;
    for (uint32_t i = 0; i < na; i++)
        h = (h ^ (uint64_t)a[i].price ^ ((uint64_t)a[i].qty << 2)) * 1099511628211ull;
    return h | 1;
}

static void book_updates(brs__wsgate *g, wconn *c, int64_t now)
{
    for (uint32_t k = 0; k < c->n_books; k++) {
        bsub *s = &c->books[k];
        if (now - s->last_check < BOOK_MIN_NS)
            continue;
        s->last_check = now;
        brs_level bl[BRS__WSG_MAX_MSG_DEPTH], al[BRS__WSG_MAX_MSG_DEPTH];
        uint32_t nb = 0, na = 0;
        if (brs__rt_depth(g->rt, s->venue, s->instr, BRS_BUY, bl, s->depth, &nb) ||
            brs__rt_depth(g->rt, s->venue, s->instr, BRS_SELL, al, s->depth, &na))
            continue;
        uint64_t h = book_hash(bl, nb, al, na);
        if (h == s->last_hash)
            continue;
        s->last_hash = h;
        size_t cap = sizeof g->buf, at;
        char *b = g->buf, px[48];
        at = (size_t)snprintf(b, cap, "{\"type\":\"book\",\"symbol\":");
        at = jstr(b, cap, at, g->instr[s->instr].symbol);
        at += (size_t)snprintf(b + at, cap - at, ",\"venue\":");
        at = jstr(b, cap, at, brs__rt_venue_name(g->rt, s->venue));
        for (int side = 0; side < 2; side++) {
            const brs_level *lv = side ? al : bl;
            uint32_t n = side ? na : nb;
            at += (size_t)snprintf(b + at, cap - at, side ? "],\"asks\":[" : ",\"bids\":[");
            for (uint32_t i = 0; i < n; i++) {
                fmt_px(g, s->instr, lv[i].price, px, sizeof px);
                at += (size_t)snprintf(b + at, cap - at, "%s[\"%s\",%lld]", i ? "," : "", px, (long long)lv[i].qty);
            }
        }
        at += (size_t)snprintf(b + at, cap - at, "]}");
        if (at < cap)
            send_text(c, b, at);
    }
}

void brs__wsgate_flush(brs__wsgate *g, int64_t now)
{
    for (uint32_t i = 0; i < g->n_conns;) {
        wconn *c = g->conns[i];
        if (!c->closed && c->acct < 0 && c->ws.state == BRS__WSS_OPEN && now - c->t_open > g->login_timeout_ns &&
            !c->ws.close_code) {
            BRS_LOG(BRS_LOG_WARN, "ws", "no login in time (ws.login_timeout_ms)", BRS_KV_U("conn", c->num),
                    BRS_KV_S("peer", c->peer));
            brs__wss_close(&c->ws, 1008, "no login in time");
        }
        if (!c->closed && c->acct >= 0 && c->n_books)
            book_updates(g, c, now);
        brs__wss_flush(&c->ws, now);
        if (c->closed || c->ws.state == BRS__WSS_DONE) {
            conn_drop(g, i);
            continue;
        }
        uint32_t want = EPOLLIN | (brs__wss_want_write(&c->ws) ? EPOLLOUT : 0);
        if (want != c->ev_mask) {
            struct epoll_event ev = {.events = want, .data.ptr = c};
            if (epoll_ctl(g->efd, EPOLL_CTL_MOD, c->ws.fd, &ev) == 0)
                c->ev_mask = want;
        }
        i++;
    }
}

int64_t brs__wsgate_next_time(const brs__wsgate *g)
{
    int64_t t = INT64_MAX;
    for (uint32_t i = 0; i < g->n_conns; i++) {
        const wconn *c = g->conns[i];
        int64_t x = brs__wss_next_time(&c->ws);
        if (c->acct < 0 && !c->ws.close_code && c->t_open + g->login_timeout_ns < x)
            x = c->t_open + g->login_timeout_ns;
        for (uint32_t k = 0; c->acct >= 0 && k < c->n_books; k++)
            if (c->books[k].last_check + BOOK_MIN_NS < x)
                x = c->books[k].last_check + BOOK_MIN_NS; /* the next look at a subscribed book */
        if (x < t)
            t = x;
    }
    return t;
}

int brs__wsgate_fd(const brs__wsgate *g) { return g->efd; }

void brs__wsgate_set_journal(brs__wsgate *g, void (*fn)(void *user, uint32_t acct, int64_t t,
                                                         const char *text, size_t len),
                             void *user)
{
    g->jfn = fn;
    g->juser = user;
}

int brs__wsgate_replay(brs__wsgate *g, uint32_t acct, int64_t t, const char *text, size_t len)
{
    brs__wsg_req r;
    char field[64];
    brs_error e = {0};
    if (acct >= g->n_acc || brs__wsg_parse(text, len, &r, field, sizeof field, &e) != BRS_OK)
        return BRS_E_CORRUPT;
    account *a = &g->acc[acct];
    g->replaying = 1;
    brs__rt_advance(g->rt, t);
    if (r.op == BRS__WSG_PLACE)
        do_place(g, NULL, a, &r, t);
    else if (r.op == BRS__WSG_CANCEL || r.op == BRS__WSG_REPLACE)
        do_cancel_replace(g, NULL, a, &r);
    brs__rt_advance(g->rt, t);
    g->replaying = 0;
    return BRS_OK;
}

void brs__wsgate_abort(brs__wsgate *g)
{
    while (g && g->n_conns)
        conn_drop(g, 0);
}

int brs__wsgate_order_name(const brs__wsgate *g, uint32_t client, uint64_t order, char *acct_out,
                           size_t acct_cap, char *clid, size_t clid_cap)
{
    for (uint32_t i = 0; g && i < g->n_acc; i++) {
        const account *a = &g->acc[i];
        if (a->client != client)
            continue;
        snprintf(acct_out, acct_cap, "%s", a->name);
        snprintf(clid, clid_cap, "%s", order >= 1 && order <= a->n_orders ? a->orders[order - 1].clid : "");
        return 1;
    }
    return 0;
}

void brs__wsgate_get_stats(const brs__wsgate *g, brs__wsgate_stats *s)
{
    *s = g->st;
    s->open_connections = g->n_conns;
}

/* ---- configuration -------------------------------------------------------- */

int brs__wsgate_configured(const brs_config *cfg)
{
    return cfg && cfg->root && cJSON_GetObjectItemCaseSensitive(cfg->root, "ws_listen") != NULL;
}

static const char *const ws_keys[] = {"accounts", "max_connections", "max_frame_bytes",
                                      "max_message_bytes", "max_handshake_bytes", "handshake_timeout_ms",
                                      "login_timeout_ms", "ping_interval_ms", "pong_timeout_ms",
                                      "max_queued_bytes", "max_messages_per_sec", "burst",
                                      "max_orders_per_account", NULL};
static const char *const acc_keys[] = {"name", "token", "route", NULL};

static int read_limit(const brs_config *cfg, const cJSON *o, const char *key, int64_t def, int64_t lo,
                      int64_t hi, int64_t *out, brs_error *err)
{
    if (brs__config_int(cfg, o, "ws", key, def, out, err))
        return BRS_E_INVAL;
    if (*out < lo || *out > hi)
        return brs__err(err, BRS_E_RANGE, "%s: ws.%s: %lld is not in %lld..%lld", cfg->source, key,
                        (long long)*out, (long long)lo, (long long)hi);
    return BRS_OK;
}

int brs__wsgate_open(brs__wsgate **out, brs__rt *rt, const brs_config *cfg, const brs_instrument *instr,
                     uint32_t n_instr, int *port, brs_error *err)
{
    *out = NULL;
    const cJSON *lis = cJSON_GetObjectItemCaseSensitive(cfg->root, "ws_listen");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(cfg->root, "ws");
    if (!lis || !cJSON_IsString(lis))
        return brs__err(err, BRS_E_INVAL, "%s: ws_listen: expected \"host:port\"", cfg->source);
    if (!ws || !cJSON_IsObject(ws))
        return brs__err(err, BRS_E_INVAL, "%s: ws: expected an object with \"accounts\"", cfg->source);
    if (brs__config_check_keys(cfg, ws, "ws", ws_keys, err))
        return BRS_E_INVAL;
    char host[64];
    int pt = -1;
    const char *colon = strrchr(lis->valuestring, ':');
    if (!colon || (size_t)(colon - lis->valuestring) >= sizeof host || sscanf(colon + 1, "%d", &pt) != 1 ||
        pt < 0 || pt > 65535)
        return brs__err(err, BRS_E_INVAL, "%s: ws_listen: '%s' is not host:port", cfg->source, lis->valuestring);
    memcpy(host, lis->valuestring, (size_t)(colon - lis->valuestring));
    host[colon - lis->valuestring] = '\0';
    struct in_addr ia;
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &ia) != 1)
        return brs__err(err, BRS_E_INVAL, "%s: ws_listen: '%s' is not an IPv4 address", cfg->source, host);

    brs__wsgate *g = calloc(1, sizeof *g);
    if (!g)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    g->rt = rt;
    g->instr = instr;
    g->n_instr = n_instr;
    g->lfd = g->efd = -1;
    int64_t v;
    int rc = BRS_OK;
#define LIM(key, def, lo, hi, dst, mul)                                                             \
    do {                                                                                            \
        if (!rc && !(rc = read_limit(cfg, ws, key, def, lo, hi, &v, err)))                         \
            dst = (mul) * v;                                                                        \
    } while (0)
    LIM("max_connections", 64, 1, 100000, g->max_connections, 1);
    LIM("max_frame_bytes", 65536, 125, 16 << 20, g->wl.max_frame, 1);
    LIM("max_message_bytes", 65536, 125, 16 << 20, g->wl.max_message, 1);
    LIM("max_handshake_bytes", 8192, 256, 1 << 20, g->wl.max_handshake, 1);
    LIM("handshake_timeout_ms", 5000, 10, 600000, g->wl.handshake_timeout_ns, 1000000);
    LIM("login_timeout_ms", 10000, 10, 600000, g->login_timeout_ns, 1000000);
    LIM("ping_interval_ms", 20000, 0, 3600000, g->wl.ping_interval_ns, 1000000);
    LIM("pong_timeout_ms", 10000, 10, 600000, g->wl.pong_timeout_ns, 1000000);
    LIM("max_queued_bytes", 4 << 20, 4096, 1 << 30, g->wl.max_queued, 1);
    LIM("max_messages_per_sec", 100, 1, 1000000, g->rate, 1);
    LIM("burst", 200, 1, 1000000, g->burst, 1);
    LIM("max_orders_per_account", 10000, 1, 1 << 22, g->max_orders, 1);
#undef LIM
    if (rc) {
        free(g);
        return rc;
    }
    g->dec = calloc(n_instr ? n_instr : 1, sizeof *g->dec);
    if (!g->dec) {
        free(g);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n_instr; i++) {
        int d = 0;
        while (d < 18 && brs__pow10(d) < instr[i].price_scale)
            d++;
        g->dec[i] = brs__pow10(d) == instr[i].price_scale ? d : 0;
    }
    const cJSON *accs = cJSON_GetObjectItemCaseSensitive(ws, "accounts");
    int na = accs && cJSON_IsArray(accs) ? cJSON_GetArraySize(accs) : 0;
    if (na <= 0 || na > 10000) {
        brs__wsgate_close(g);
        return brs__err(err, BRS_E_INVAL, "%s: ws.accounts: expected 1..10000 accounts [{\"name\", \"token\"}]",
                        cfg->source);
    }
    g->acc = calloc((size_t)na, sizeof *g->acc);
    if (!g->acc) {
        brs__wsgate_close(g);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < na; i++) {
        const cJSON *a = cJSON_GetArrayItem(accs, i);
        char where[32];
        snprintf(where, sizeof where, "ws.accounts[%d]", i);
        const char *name = NULL, *tok = NULL, *route = NULL;
        if (!cJSON_IsObject(a) || brs__config_check_keys(cfg, a, where, acc_keys, err) ||
            brs__config_string(cfg, a, where, "name", NULL, &name, err) ||
            brs__config_string(cfg, a, where, "token", NULL, &tok, err) ||
            brs__config_string(cfg, a, where, "route", NULL, &route, err)) {
            if (!cJSON_IsObject(a))
                brs__err(err, BRS_E_INVAL, "%s: %s: expected an object", cfg->source, where);
            brs__wsgate_close(g);
            return BRS_E_INVAL;
        }
        if (!name || !tok || !name[0] || strlen(name) >= sizeof g->acc[i].name || strlen(tok) < 16 ||
            strlen(tok) >= sizeof g->acc[i].token) {
            brs__wsgate_close(g);
            return brs__err(err, BRS_E_INVAL,
                            "%s: %s: needs \"name\" (1..63 bytes) and \"token\" (16..255 bytes)", cfg->source, where);
        }
        for (uint32_t j = 0; j < g->n_acc; j++)
            if (!strcmp(g->acc[j].name, name)) {
                brs__wsgate_close(g);
                return brs__err(err, BRS_E_INVAL, "%s: %s: account '%s' is named twice", cfg->source, where, name);
            }
        account *ac = &g->acc[g->n_acc];
        snprintf(ac->name, sizeof ac->name, "%s", name);
        snprintf(ac->token, sizeof ac->token, "%s", tok);
        ac->g = g;
        ac->index = g->n_acc;
        ac->map_cap = 16;
        while (ac->map_cap < 2 * g->max_orders)
            ac->map_cap *= 2;
        ac->map = calloc(ac->map_cap, sizeof *ac->map);
        ac->orders = calloc(g->max_orders, sizeof *ac->orders);
        g->n_acc++;
        brs__rt_route rr = brs__rt_default_route(rt);
        brs_error e2 = {0};
        if (!ac->map || !ac->orders || (route && brs__rt_route_parse(rt, route, &rr, &e2))) {
            brs__wsgate_close(g);
            if (!ac->map || !ac->orders)
                return brs__err(err, BRS_E_NOMEM, "out of memory (ws.max_orders_per_account)");
            return brs__err(err, BRS_E_INVAL, "%s: %s.route: %s", cfg->source, where, e2.msg);
        }
        brs__rt_client_ops ops = {.user = ac, .xOnOrder = on_order, .self_trade = 1};
        if (brs__rt_client_add(rt, &ops, rr, &ac->client, err)) {
            brs__wsgate_close(g);
            return BRS_E_INVAL;
        }
    }
    g->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pt), .sin_addr = ia};
    if (g->lfd < 0 || setsockopt(g->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(g->lfd, (struct sockaddr *)&sa, sizeof sa) || listen(g->lfd, 64)) {
        int en = errno;
        brs__wsgate_close(g);
        return brs__err(err, BRS_E_IO, "%s: ws_listen %s: %s", cfg->source, lis->valuestring, strerror(en));
    }
    socklen_t sl = sizeof sa;
    getsockname(g->lfd, (struct sockaddr *)&sa, &sl);
    if (port)
        *port = ntohs(sa.sin_port);
    g->efd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (g->efd < 0 || epoll_ctl(g->efd, EPOLL_CTL_ADD, g->lfd, &ev)) {
        brs__wsgate_close(g);
        return brs__err(err, BRS_E_IO, "epoll: %s", strerror(errno));
    }
    BRS_LOG(BRS_LOG_INFO, "ws", "listening for WebSocket order entry", BRS_KV_S("address", host),
            BRS_KV_I("port", ntohs(sa.sin_port)), BRS_KV_U("accounts", g->n_acc),
            BRS_KV_U("max_connections", g->max_connections));
    *out = g;
    return BRS_OK;
}

void brs__wsgate_close(brs__wsgate *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; i < g->n_conns; i++) {
        brs__wss_close(&g->conns[i]->ws, 1001, "server shutting down");
        brs__wss_flush(&g->conns[i]->ws, brs__realtime_ns());
    }
    while (g->n_conns)
        conn_drop(g, 0);
    if (g->lfd >= 0) {
        BRS_LOG(BRS_LOG_INFO, "ws", "stopped", BRS_KV_U("connections", g->st.connections),
                BRS_KV_U("logins", g->st.logins), BRS_KV_U("login_failures", g->st.login_failures),
                BRS_KV_U("requests", g->st.requests), BRS_KV_U("orders", g->st.orders),
                BRS_KV_U("reports", g->st.reports), BRS_KV_U("rate_limited", g->st.rate_limited));
        close(g->lfd);
    }
    if (g->efd >= 0)
        close(g->efd);
    for (uint32_t i = 0; i < g->n_acc; i++) {
        free(g->acc[i].map);
        free(g->acc[i].orders);
    }
    free(g->acc);
    free(g->dec);
    free(g->conns);
    free(g);
}
