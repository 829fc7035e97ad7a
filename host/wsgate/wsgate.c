/* wsgate.c: WebSocket order entry onto the runtime (wsgate.h,
 * docs/ws-order-entry.md): accounts and their tokens from the config,
 * connections and their limits, book updates to subscribers, the journal
 * hooks. Requests and reports are in wsgate_orders.c. */
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
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "net/tls.h"
#include "net/tls_config.h"
#include "runtime/rt_books.h"

/* ---- connections ---------------------------------------------------------- */

static void conn_drop(brs__wsgate *g, uint32_t i)
{
    wconn *c = g->conns[i];
    if (!c->parked)
        epoll_ctl(g->efd, EPOLL_CTL_DEL, c->ws.fd, NULL);
    brs__wss_free(&c->ws);
    g->n_held -= brs__ws_msgq_bytes(&c->held) > 0;
    brs__ws_msgq_free(&c->held);
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
            if (!g->tls_ctx) { /* (TLS: closed without an answer, no handshake for a refusal) */
                ssize_t w = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
                (void)w;
            }
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
        brs__wss_cb cb = {.on_open = brs__wsg_on_open, .on_text = brs__wsg_on_text, .on_close = brs__wsg_on_close};
        if (!c || g->n_conns == g->cap_conns || brs__wss_init(&c->ws, fd, &g->wl, &cb, c, now)) {
            if (c)
                brs__wss_free(&c->ws);
            else
                close(fd);
            free(c);
            continue;
        }
        void *ssl = NULL;
        if (g->tls_ctx && !(ssl = brs__tls_new(g->tls_ctx, fd))) {
            char e[200];
            BRS_LOG(BRS_LOG_ERROR, "ws", "TLS: cannot start a connection", BRS_KV_S("peer", peer),
                    BRS_KV_S("reason", brs__tls_error(e, sizeof e)));
            brs__wss_free(&c->ws);
            free(c);
            continue;
        }
        brs__wss_set_tls(&c->ws, ssl);
        c->g = g;
        c->acct = -1;
        c->tokens = g->burst;
        c->t_tokens = c->t_open = now;
        c->num = ++g->next_num;
        snprintf(c->peer, sizeof c->peer, "%s", peer);
        c->ip = ntohl(sa.sin_addr.s_addr);
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
    if (g->input_waits) { /* frames sent behind the upgrade, left until its 101 was out; TLS: bytes OpenSSL holds */
        g->input_waits = 0;
        for (uint32_t i = 0; i < g->n_conns; i++)
            if (!g->conns[i]->closed && brs__wss_input_waits(&g->conns[i]->ws))
                brs__wss_on_readable(&g->conns[i]->ws, now);
    }
    struct epoll_event evs[64];
    int n = epoll_wait(g->efd, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        wconn *c = evs[i].data.ptr;
        if (!c) {
            on_accept(g, now);
            continue;
        }
        if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ||
            ((evs[i].events & EPOLLOUT) && brs__wss_tls_wants_write(&c->ws))) /* (a TLS read waited for it) */
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
        if (brs__rt_book_depth(g->rt, s->venue, s->instr, BRS_BUY, bl, s->depth, &nb) ||
            brs__rt_book_depth(g->rt, s->venue, s->instr, BRS_SELL, al, s->depth, &na))
            continue; /* (BRS__RT_ALL_VENUES: every venue's levels merged by price) */
        uint64_t h = book_hash(bl, nb, al, na);
        if (h == s->last_hash)
            continue;
        s->last_hash = h;
        size_t cap = sizeof g->buf, at;
        char *b = g->buf, px[48];
        at = (size_t)snprintf(b, cap, "{\"type\":\"book\",\"symbol\":");
        at = brs__wsg_jstr(b, cap, at, g->instr[s->instr].symbol);
        at += (size_t)snprintf(b + at, cap - at, ",\"venue\":");
        at = brs__wsg_jstr(b, cap, at, s->venue == BRS__RT_ALL_VENUES ? "*" : brs__rt_venue_name(g->rt, s->venue));
        for (int side = 0; side < 2; side++) {
            const brs_level *lv = side ? al : bl;
            uint32_t n = side ? na : nb;
            at += (size_t)snprintf(b + at, cap - at, side ? "],\"asks\":[" : ",\"bids\":[");
            for (uint32_t i = 0; i < n; i++) {
                brs__wsg_fmt_px(g, s->instr, lv[i].price, px, sizeof px);
                at += (size_t)snprintf(b + at, cap - at, "%s[\"%s\",%lld]", i ? "," : "", px, (long long)lv[i].qty);
            }
        }
        at += (size_t)snprintf(b + at, cap - at, "]}");
        if (at < cap)
            brs__wsg_send_text(c, b, at);
    }
}

/* The connection's held messages, in order, while its account has no
 * events waiting (a message that makes some stops it: the rest wait on).
 * They were received before whatever ended the connection (a close from the
 * client, a protocol error, the end of its TCP stream, a limit), so they run
 * as they would have without the wait, answered to no one once it is
 * closing; only a connection the gateway closed for its kept messages (no
 * memory, max_backlog_bytes) has them dropped. */
static void run_held(brs__wsgate *g, wconn *c)
{
    const char *d;
    size_t n;
    /* the message is run from the queue's buffer, which nothing touches
     * meanwhile (messages are kept only while reading, never from here) */
    while (!c->drop_kept && !g->acc[c->acct].q.n && (d = brs__ws_msgq_front(&c->held, &n))) {
        brs__wsg_handle(c, d, n);
        brs__ws_msgq_pop(&c->held);
    }
    if (c->drop_kept)
        brs__ws_msgq_clear(&c->held);
    g->n_held -= !brs__ws_msgq_bytes(&c->held);
}

void brs__wsgate_set_events_per_turn(brs__wsgate *g, uint32_t n) { g->per_turn = n; }

int brs__wsgate_step(brs__wsgate *g)
{
    if (g->fault_stream_sleep_ns && g->n_active) {
        /* BRS_FAULT_WS_STREAM_SLEEP_MS (tests only: ws_sweep.py, case
         * keepalive): each loop turn an account's events stream in sleeps
         * that long first, as a loaded host's slow turn would take, so a
         * short stream outlasts the ping and pong timeouts */
        struct timespec ts = {.tv_sec = g->fault_stream_sleep_ns / 1000000000,
                              .tv_nsec = g->fault_stream_sleep_ns % 1000000000};
        nanosleep(&ts, NULL);
    }
    for (uint32_t i = 0; g->n_active && i < g->n_acc; i++) {
        account *a = &g->acc[i];
        if (!a->q.n)
            continue;
        brs__wsg_turn_budget(g, a);
        brs_order_event ev;
        while (a->taken < g->per_turn && brs__rt_evq_pop(&a->q, &ev)) {
            a->taken++;
            brs__wsg_report(g, a, &ev);
        }
        a->turns++;
        /* logged once a queue outlives a turn's slice (a pipelined burst of
         * requests spills a few events over one turn each: not worth a line) */
        if (a->q.n && a->turns == 1)
            BRS_LOG(BRS_LOG_INFO, "ws", "order events wait over loop turns (max_events_per_turn)",
                    BRS_KV_S("account", a->name), BRS_KV_U("waiting", a->q.n), BRS_KV_U("per_turn", g->per_turn));
        if (!a->q.n) { /* caught up: its memory goes back, its messages run */
            brs__rt_evq_clear(&a->q);
            g->n_active--;
            if (a->turns > 1)
                BRS_LOG(BRS_LOG_INFO, "ws", "order events caught up (max_events_per_turn)",
                        BRS_KV_S("account", a->name), BRS_KV_U("events", a->deferred),
                        BRS_KV_U("loop_turns", a->turns),
                        BRS_KV_F("ms", (double)(brs__monotime_ns() - a->t0) / 1e6));
        }
    }
    for (uint32_t i = 0; g->n_held && i < g->n_conns; i++) {
        wconn *c = g->conns[i];
        if (brs__ws_msgq_bytes(&c->held) && c->acct >= 0 && !g->acc[c->acct].q.n)
            run_held(g, c);
    }
    g->epoch++;
    return g->n_active || g->n_held;
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
        g->input_waits |= brs__wss_input_waits(&c->ws); /* read in the next turn's poll */
        if (c->closed || c->ws.state == BRS__WSS_DONE) {
            if (brs__ws_msgq_bytes(&c->held) && !c->drop_kept) {
                /* over, but its kept messages still run after its account's
                 * events (run_held): out of the poll set until then */
                if (!c->parked)
                    epoll_ctl(g->efd, EPOLL_CTL_DEL, c->ws.fd, NULL);
                c->parked = 1;
                i++;
                continue;
            }
            conn_drop(g, i);
            continue;
        }
        /* read also while its account's events stream: pings answered, pongs
         * and closes taken; its messages are kept behind the events
         * (brs__wsg_on_text), bounded by max_backlog_bytes */
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
    if (g->n_active || g->n_held || g->input_waits)
        return 0; /* events stream: the next slice in the next loop turn (or input waits for its poll) */
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

int brs__wsgate_input_waits(const brs__wsgate *g) { return g && g->input_waits; }

void brs__wsgate_set_journal(brs__wsgate *g, void (*fn)(void *user, uint32_t acct, int64_t t,
                                                         const char *text, size_t len),
                             void *user)
{
    g->jfn = fn;
    g->juser = user;
}

void brs__wsgate_set_report_journal(brs__wsgate *g,
                                    void (*fn)(void *user, uint32_t acct, const char *name, int64_t t,
                                               const char *text, size_t len))
{
    g->rfn = fn;
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
        brs__wsg_do_place(g, NULL, a, &r, t);
    else if (r.op == BRS__WSG_CANCEL || r.op == BRS__WSG_REPLACE)
        brs__wsg_do_cancel_replace(g, NULL, a, &r);
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
    s->open_connections = s->logged_in = s->closed_waiting = 0;
    s->events_waiting = s->kept_bytes = 0;
    for (uint32_t i = 0; i < g->n_conns; i++) {
        const wconn *c = g->conns[i];
        size_t kept = brs__ws_msgq_bytes(&c->held);
        /* a connection that is over stays in the table while its kept
         * messages wait for its account's events (parked, brs__wsgate_flush):
         * neither open nor logged in, counted apart */
        int over = c->closed || c->ws.state == BRS__WSS_DONE;
        s->open_connections += !over;
        s->logged_in += !over && c->acct >= 0;
        s->closed_waiting += over && kept && !c->drop_kept;
        s->kept_bytes += kept;
    }
    for (uint32_t i = 0; g->n_active && i < g->n_acc; i++)
        s->events_waiting += g->acc[i].q.n;
}

/* ---- configuration -------------------------------------------------------- */

int brs__wsgate_configured(const brs_config *cfg)
{
    return cfg && cfg->root && cJSON_GetObjectItemCaseSensitive(cfg->root, "ws_listen") != NULL;
}

static const char *const ws_keys[] = {"accounts", "max_connections", "max_frame_bytes",
                                      "max_message_bytes", "max_handshake_bytes", "handshake_timeout_ms",
                                      "login_timeout_ms", "ping_interval_ms", "pong_timeout_ms",
                                      "max_queued_bytes", "max_backlog_bytes", "max_messages_per_sec", "burst",
                                      "max_orders_per_account", "tls", NULL};
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
    const char *fs = getenv("BRS_FAULT_WS_STREAM_SLEEP_MS");
    if (fs && *fs)
        g->fault_stream_sleep_ns = strtoll(fs, NULL, 10) * 1000000;
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
    LIM("max_backlog_bytes", 64 << 20, 4096, (int64_t)1 << 32, g->wl.max_backlog, 1);
    LIM("max_messages_per_sec", 100, 1, 1000000, g->rate, 1);
    LIM("burst", 200, 1, 1000000, g->burst, 1);
    LIM("max_orders_per_account", 10000, 1, 1 << 22, g->max_orders, 1);
#undef LIM
    brs__tls_cfg tc;
    if (!rc && !(rc = brs__tls_config_read(cfg, ws, "ws.tls", &tc, err)) && tc.cert[0] &&
        !(g->tls_ctx = brs__tls_ctx_new(&tc, "ws.tls", err))) {
        brs__err_prefix(err, "%s", cfg->source);
        rc = BRS_E_IO;
    }
    if (rc) {
        free(g);
        return rc;
    }
    g->dec = calloc(n_instr ? n_instr : 1, sizeof *g->dec);
    if (!g->dec) {
        brs__tls_ctx_free(g->tls_ctx);
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
        brs__rt_client_ops ops = {.user = ac, .xOnOrder = brs__wsg_on_order, .self_trade = 1,
                                  .passive = 1}; /* never calls back into the runtime */
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
            BRS_KV_U("max_connections", g->max_connections), BRS_KV_S("tls", g->tls_ctx ? "on" : "off"));
    /* the FIX listener's rule (docs/fix-gateway.md, "Who may log on"): off
     * 127.x.x.x and without TLS, a warning; every account has a token, and
     * it would cross the network in plain text */
    if (!g->tls_ctx && !brs__tls_addr_loopback(host))
        BRS_LOG(BRS_LOG_WARN, "ws", "WebSocket order entry open to the network without TLS: tokens cross in plain text",
                BRS_KV_S("address", host[0] ? host : "0.0.0.0"), BRS_KV_I("port", ntohs(sa.sin_port)));
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
    brs__tls_ctx_free(g->tls_ctx);
    for (uint32_t i = 0; i < g->n_acc; i++) {
        brs__rt_evq_clear(&g->acc[i].q);
        free(g->acc[i].map);
        free(g->acc[i].orders);
    }
    free(g->acc);
    free(g->metrics);
    free(g->dec);
    free(g->conns);
    free(g);
}
