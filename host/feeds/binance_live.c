/* binance_live.c: the live session loop: WebSocket messages go to the feed,
 * symbols that need a book get a REST snapshot, reconnects resubscribe and
 * resync every book. Everything is non-blocking and driven by step(). */
#include "binance_live.h"

#include <ctype.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lg(brs__bn_live *l, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lg(brs__bn_live *l, int level, const char *fmt, ...)
{
    if (!l->o.log)
        return;
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    l->o.log(l->o.ud, level, buf);
}

static int count_sink(void *ud, const brs_market_event *ev)
{
    brs__bn_live *l = ud;
    l->n_events++;
    return l->o.sink ? l->o.sink(l->o.ud, ev) : 0;
}

static void on_gap(void *ud, uint32_t instrument, const char *symbol, uint64_t last_u, uint64_t U,
                   uint64_t u, int64_t pu)
{
    brs__bn_live *l = ud;
    l->n_gaps++;
    if (instrument < BRS__BN_LIVE_MAX_SYMBOLS)
        l->sym[instrument].wait_since = brs__monotime_ns();
    lg(l, 2, "binance: %s: gap (last u %llu, got U %llu u %llu pu %lld): resyncing", symbol,
       (unsigned long long)last_u, (unsigned long long)U, (unsigned long long)u, (long long)pu);
}

int brs__bn_kline_interval_ok(const char *iv)
{
    static const char *const ok[] = {"", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h",
                                     "6h", "8h", "12h", "1d", "3d", "1w", "1M"};
    for (size_t i = 0; iv && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(iv, ok[i]) == 0)
            return 1;
    return 0;
}

static void subscribe(brs__bn_live *l, brs__ws *ws)
{
    size_t cap = 64 + (size_t)l->feed.nsym * (4 * BRS_SYMBOL_MAX + 96);
    char *m = malloc(cap);
    if (!m)
        return;
    size_t n = (size_t)snprintf(m, cap, "{\"method\":\"SUBSCRIBE\",\"params\":[");
    for (uint32_t i = 0; i < l->feed.nsym; i++) {
        char low[BRS_SYMBOL_MAX];
        const char *s = l->feed.sym[i].name;
        size_t k = 0;
        for (; s[k] && k + 1 < sizeof low; k++)
            low[k] = (char)tolower((unsigned char)s[k]);
        low[k] = '\0';
        n += (size_t)snprintf(m + n, cap - n, "%s\"%s%s\",\"%s@bookTicker\",\"%s@aggTrade\"",
                              i ? "," : "", low, l->depth_stream, low, low);
        if (l->kline_interval[0])
            n += (size_t)snprintf(m + n, cap - n, ",\"%s@kline_%s\"", low, l->kline_interval);
    }
    n += (size_t)snprintf(m + n, cap - n, "],\"id\":%d}", ++l->sub_id);
    brs__ws_send_text(ws, m, n);
    free(m);
}

static void ws_open(void *ud, brs__ws *ws)
{
    brs__bn_live *l = ud;
    int64_t now = brs__monotime_ns();
    lg(l, 1, "binance: connected to %s (connection %llu)", l->ws_url,
       (unsigned long long)ws->n_connects);
    /* whatever we held may have missed updates while we were away */
    for (uint32_t i = 0; i < l->feed.nsym; i++) {
        brs__bn_resync(&l->feed, i);
        if (l->sym[i].get_active) {
            brs__http_get_free(&l->sym[i].get);
            l->sym[i].get_active = 0;
        }
        l->sym[i].next_try = now;
        l->sym[i].wait_since = now;
    }
    if (l->o.subscribe)
        subscribe(l, ws);
}

static void ws_message(void *ud, brs__ws *ws, int binary, const char *data, size_t len,
                       int64_t recv_ns)
{
    (void)ws;
    brs__bn_live *l = ud;
    if (binary) {
        l->n_bad_messages++;
        return;
    }
    brs_error e = {0};
    int rc = brs__bn_feed_message(&l->feed, data, len, recv_ns, &e);
    if (rc) {
        l->n_bad_messages++;
        if (l->n_bad_messages <= 10 || l->n_bad_messages % 1000 == 0)
            lg(l, 2, "binance: message rejected (%llu so far): %s",
               (unsigned long long)l->n_bad_messages, e.msg);
    }
}

static void ws_retry(void *ud, brs__ws *ws, int64_t delay_ns, uint64_t attempt, const char *why)
{
    brs__bn_live *l = ud;
    (void)ws;
    if (l->o.on_retry) {
        l->o.on_retry(l->o.ud, attempt, delay_ns, why);
        return;
    }
    /* every attempt is logged: a dead endpoint shows up at once, and the
     * growing delay shows the backoff working (warn: data is not flowing) */
    lg(l, 2, "binance: %s: %s; reconnect attempt %llu in %lld ms", l->ws_url, why,
       (unsigned long long)attempt, (long long)(delay_ns / 1000000));
}

static void ws_close(void *ud, brs__ws *ws, int code, const char *reason)
{
    brs__bn_live *l = ud;
    lg(l, code == 1000 ? 1 : 2, "binance: connection closed (%d: %s)%s", code, reason,
       !ws->o.no_reconnect && !ws->stop_requested ? ", reconnecting" : "");
}

void brs__bn_live_free(brs__bn_live *l)
{
    for (uint32_t i = 0; i < BRS__BN_LIVE_MAX_SYMBOLS; i++)
        if (l->sym[i].get_active)
            brs__http_get_free(&l->sym[i].get);
    brs__ws_free(&l->ws);
    brs__bn_feed_free(&l->feed);
    free(l->ws_url);
    free(l->rest_url);
    free(l->depth_stream);
    free(l->kline_interval);
    memset(l, 0, sizeof *l);
}

int brs__bn_live_init(brs__bn_live *l, const brs__bn_live_opts *o, brs_error *err)
{
    memset(l, 0, sizeof *l);
    l->o = *o;
    brs__bn_feed_init(&l->feed, count_sink, l);
    l->feed.auto_add = 0; /* only what we subscribed to */
    l->feed.on_gap = on_gap;
    l->feed.gap_ud = l;
    if (!o->ws_url || !o->rest_url || o->nsymbols == 0 || o->nsymbols > BRS__BN_LIVE_MAX_SYMBOLS) {
        if (err) {
            err->code = BRS_E_INVAL;
            snprintf(err->msg, sizeof err->msg,
                     "binance: need ws_url, rest_url and 1..%d symbols", BRS__BN_LIVE_MAX_SYMBOLS);
        }
        return BRS_E_INVAL;
    }
    if (!strstr(o->rest_url, "{SYMBOL}")) {
        if (err) {
            err->code = BRS_E_INVAL;
            snprintf(err->msg, sizeof err->msg, "binance: rest_url '%s' lacks {SYMBOL}", o->rest_url);
        }
        return BRS_E_INVAL;
    }
    l->ws_url = strdup(o->ws_url);
    l->rest_url = strdup(o->rest_url);
    l->depth_stream = strdup(o->depth_stream ? o->depth_stream : "@depth@100ms");
    l->kline_interval = strdup(o->kline_interval ? o->kline_interval : "");
    if (!l->ws_url || !l->rest_url || !l->depth_stream || !l->kline_interval)
        return BRS_E_NOMEM;
    if (!l->o.snapshot_timeout_ns)
        l->o.snapshot_timeout_ns = 10 * 1000000000LL;
    if (!l->o.snapshot_retry_ns)
        l->o.snapshot_retry_ns = 1000000000LL;
    for (uint32_t i = 0; i < o->nsymbols; i++) {
        int pd = o->price_dec ? o->price_dec[i] : -1, qd = o->qty_dec ? o->qty_dec[i] : -1;
        int rc = brs__bn_add_symbol(&l->feed, o->symbols[i], pd, qd, NULL);
        if (rc) {
            if (err) {
                err->code = rc;
                snprintf(err->msg, sizeof err->msg, "binance: bad symbol '%s'", o->symbols[i]);
            }
            return rc;
        }
    }
    brs__ws_opts wo = o->ws;
    wo.url = l->ws_url;
    brs__ws_callbacks cb = {ws_open, ws_message, ws_close, ws_retry};
    return brs__ws_init(&l->ws, &wo, &cb, l, err);
}

static void start_snapshot(brs__bn_live *l, uint32_t i, int64_t now)
{
    brs__bn_live_sym *s = &l->sym[i];
    const char *name = l->feed.sym[i].name;
    char url[4096];
    const char *p = strstr(l->rest_url, "{SYMBOL}");
    snprintf(url, sizeof url, "%.*s%s%s", (int)(p - l->rest_url), l->rest_url, name, p + 8);
    brs_error e = {0};
    if (brs__http_get_start(&s->get, url, &l->o.ws.tls, 64u << 20, now + l->o.snapshot_timeout_ns,
                            &e)) {
        lg(l, 2, "binance: %s: snapshot request failed: %s", name, e.msg);
        brs__http_get_free(&s->get);
        l->n_snapshot_failures++;
        s->next_try = now + l->o.snapshot_retry_ns;
        return;
    }
    s->get_active = 1;
}

static void step_snapshot(brs__bn_live *l, uint32_t i, int64_t now)
{
    brs__bn_live_sym *s = &l->sym[i];
    brs_error e = {0};
    int rc = brs__http_get_step(&s->get, now, &e);
    if (rc == BRS_E_AGAIN)
        return;
    const char *name = l->feed.sym[i].name;
    if (rc == BRS_OK && s->get.status == 200) {
        rc = brs__bn_feed_snapshot(&l->feed, name, s->get.body, s->get.body_len, brs__realtime_ns(),
                                   &e);
        if (rc == BRS_OK) {
            l->n_snapshots++;
            lg(l, 0, "binance: %s: snapshot applied (lastUpdateId %llu)", name,
               (unsigned long long)l->feed.sym[i].snapshot_id);
        }
    } else if (rc == BRS_OK) {
        rc = BRS_E_PROTOCOL;
        snprintf(e.msg, sizeof e.msg, "HTTP status %d", s->get.status);
    }
    if (rc) {
        l->n_snapshot_failures++;
        lg(l, 2, "binance: %s: snapshot failed: %s", name, e.msg);
        s->next_try = now + l->o.snapshot_retry_ns;
    }
    brs__http_get_free(&s->get);
    s->get_active = 0;
}

/* When symbol i may start its snapshot (INT64_MAX: not now, e.g. the stream
 * is closed, or a request is in flight). The same rule step() applies. */
static int64_t snapshot_due(const brs__bn_live *l, uint32_t i)
{
    const brs__bn_live_sym *s = &l->sym[i];
    if (l->ws.state != BRS__WS_OPEN || s->get_active || !brs__bn_needs_snapshot(&l->feed, i))
        return INT64_MAX;
    /* Binance: buffer the stream first, then fetch the snapshot, so the
     * snapshot is not older than the first buffered update. Fall back to a
     * timer for quiet symbols. */
    int64_t t = s->next_try;
    if (l->feed.sym[i].npend == 0 && s->wait_since + l->o.snapshot_retry_ns + 1 > t)
        t = s->wait_since + l->o.snapshot_retry_ns + 1;
    return t;
}

int brs__bn_live_step(brs__bn_live *l, int64_t now)
{
    uint64_t before = l->n_events;
    int rc = brs__ws_step(&l->ws, now);
    for (uint32_t i = 0; i < l->feed.nsym; i++) {
        brs__bn_live_sym *s = &l->sym[i];
        if (s->get_active)
            step_snapshot(l, i, now);
        else if (now >= snapshot_due(l, i))
            start_snapshot(l, i, now);
    }
    if (rc == BRS_E_CLOSED)
        return BRS_E_CLOSED;
    uint64_t n = l->n_events - before;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int brs__bn_live_wait(brs__bn_live *l, int timeout_ms)
{
    struct pollfd pfd[1 + BRS__BN_LIVE_MAX_SYMBOLS];
    int n = 0;
    short ev;
    int64_t wake;
    int64_t now = brs__monotime_ns();
    int fd = brs__ws_pollfd(&l->ws, &ev, &wake);
    if (fd >= 0)
        pfd[n++] = (struct pollfd){fd, ev, 0};
    for (uint32_t i = 0; i < l->feed.nsym; i++) {
        const brs__bn_live_sym *s = &l->sym[i];
        int64_t due;
        if (s->get_active) {
            if (s->get.conn.fd >= 0)
                pfd[n++] = (struct pollfd){s->get.conn.fd, brs__conn_events(&s->get.conn), 0};
            due = s->get.conn.fd < 0 ? now : s->get.deadline ? s->get.deadline + 1 : INT64_MAX; /* its timeout */
            if (brs__conn_pending(&s->get.conn) > 0)
                due = now; /* TLS bytes poll() cannot see */
        } else {
            /* never "now" for a symbol that cannot start yet (stream closed,
             * waiting for updates): only when its snapshot is really due */
            due = snapshot_due(l, i);
        }
        if (due < wake)
            wake = due;
    }
    int64_t until = wake - now;
    int t = timeout_ms;
    if (until < (int64_t)t * 1000000)
        t = until <= 0 ? 0 : (int)(until / 1000000) + 1;
    if (n > 0 || t > 0)
        poll(pfd, (nfds_t)n, t);
    return brs__bn_live_step(l, brs__monotime_ns());
}

void brs__bn_live_close(brs__bn_live *l)
{
    brs__ws_close(&l->ws, 1000, "bye");
}
