/* server.c: the epoll loop of `bourse serve`. One thread; every socket is
 * non-blocking. Each loop turn: read what is ready and run it through the
 * sessions, then flush stores and journal (write-ahead), then write queued
 * output. A connection whose queue passes max_output is dropped: one slow
 * client can never hold the others back. */
#include "fix/server.h"

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

typedef struct brs__fix_server brs__fix_server_;
typedef struct conn {
    brs__fix_server_ *srv;
    int fd;
    brs__fix_session *sess; /* NULL until a Logon names one */
    char *in;
    size_t inlen, incap;
    char *out;
    size_t outoff, outlen, outcap;
    size_t durable;  /* out[0, durable): committed output (the rest waits for the commit) */
    int closing;     /* close once output is written (or cannot be) */
    int dirty;       /* in the dirty list */
    int paused;      /* reading paused by the rate limit */
    int64_t accepted_at;
    int64_t window_start;
    uint32_t window_msgs;
    uint32_t ev_mask; /* what epoll watches now: changed only when it must be */
    struct conn *next_dirty;
} conn;

struct brs__fix_server {
    brs__fix_server_cfg cfg;
    int lfd, efd;
    brs__fix_gateway gw;
    brs__fix_session **sessions;
    conn **conns;
    uint32_t n_conns, cap_conns;
    conn *dirty;
    int64_t last_timer;
};

/* ---- configuration ------------------------------------------------------------ */

/* The latest end of day at or before now (ns since the epoch). */
static int64_t day_boundary(int32_t day_end_s, int64_t now)
{
    const int64_t day = 86400LL * 1000000000LL;
    int64_t b = now - now % day + (int64_t)day_end_s * 1000000000LL;
    return b > now ? b - day : b;
}

int brs__fix_server_config(brs__fix_server_cfg *sc, const brs_config *cfg, brs_error *err)
{
    memset(sc, 0, sizeof *sc);
    static const char *const top[] = {"listen", "state_dir", "fsync", "max_message_bytes",
                                      "max_output_bytes", "max_msgs_per_sec", "logon_timeout_ms",
                                      "sender_comp_id", "sessions", "instruments", "risk",
                                      "max_orders", "day_end", "reset_at_day_end",
                                      BRS__FIX_SESSION_OPT_KEYS, NULL};
    static const char *const listen_keys[] = {"host", "port", NULL};
    static const char *const sess_keys[] = {"target_comp_id", "username", "password",
                                            BRS__FIX_SESSION_OPT_KEYS, NULL};
    static const char *const instr_keys[] = {"symbol", "decimals", "tick_size", "lot_size", NULL};
    const cJSON *root = cfg->root;
    int rc = brs__config_check_keys(cfg, root, "", top, err);
    if (rc)
        return rc;
    const cJSON *listen = cJSON_GetObjectItemCaseSensitive(root, "listen");
    if ((rc = brs__config_check_keys(cfg, listen, "listen", listen_keys, err)))
        return rc;
    const char *str;
    int64_t v;
    if ((rc = brs__config_string(cfg, listen, "listen", "host", "127.0.0.1", &str, err)))
        return rc;
    snprintf(sc->host, sizeof sc->host, "%s", str);
    if ((rc = brs__config_int(cfg, listen, "listen", "port", 9876, &v, err)))
        return rc;
    const char *envp = getenv("BOURSE_FIX_PORT");
    if (envp && *envp) {
        char *end;
        long p = strtol(envp, &end, 10);
        if (*end || p < 0 || p > 65535)
            return brs__err(err, BRS_E_INVAL, "BOURSE_FIX_PORT: '%s' is not a port number", envp);
        v = p;
    }
    if (v < 0 || v > 65535)
        return brs__err(err, BRS_E_RANGE, "%s: listen.port: %lld is not a port", cfg->source,
                        (long long)v);
    sc->port = (int)v;
    if ((rc = brs__config_string(cfg, root, "", "state_dir", "", &str, err)))
        return rc;
    snprintf(sc->state_dir, sizeof sc->state_dir, "%s", str);
    if ((rc = brs__config_string(cfg, root, "", "fsync", "never", &str, err)))
        return rc;
    if (strcmp(str, "never") == 0)
        sc->fsync_policy = BRS__FIX_FSYNC_NEVER;
    else if (strcmp(str, "batch") == 0)
        sc->fsync_policy = BRS__FIX_FSYNC_BATCH;
    else
        return brs__err(err, BRS_E_INVAL, "%s: fsync: '%s' is not one of never, batch",
                        cfg->source, str);
    if ((rc = brs__config_int(cfg, root, "", "max_message_bytes", 65536, &v, err)))
        return rc;
    if (v < 256 || v > (1 << 24))
        return brs__err(err, BRS_E_RANGE, "%s: max_message_bytes must be 256..16777216", cfg->source);
    sc->max_msg = (size_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_output_bytes", 8 << 20, &v, err)))
        return rc;
    if (v < 65536)
        return brs__err(err, BRS_E_RANGE, "%s: max_output_bytes must be >= 65536", cfg->source);
    sc->max_output = (size_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_msgs_per_sec", 1000000, &v, err)))
        return rc;
    if (v < 1 || v > UINT32_MAX)
        return brs__err(err, BRS_E_RANGE, "%s: max_msgs_per_sec out of range", cfg->source);
    sc->max_msgs_per_sec = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_orders", 0, &v, err)))
        return rc;
    if (v < 0 || v > (1 << 26))
        return brs__err(err, BRS_E_RANGE, "%s: max_orders must be 0..67108864", cfg->source);
    sc->max_orders = (uint32_t)v;
    if ((rc = brs__config_string(cfg, root, "", "day_end", "", &str, err)))
        return rc;
    sc->day_end_s = -1;
    if (*str) {
        unsigned hh, mm, ss;
        int used = 0;
        if (sscanf(str, "%2u:%2u:%2u%n", &hh, &mm, &ss, &used) != 3 || str[used] || hh > 23 ||
            mm > 59 || ss > 59)
            return brs__err(err, BRS_E_INVAL, "%s: day_end: '%s' is not a UTC time HH:MM:SS",
                            cfg->source, str);
        sc->day_end_s = (int32_t)(hh * 3600 + mm * 60 + ss);
    }
    if ((rc = brs__config_bool(cfg, root, "", "reset_at_day_end", 0, &sc->reset_at_day_end, err)))
        return rc;
    if (sc->reset_at_day_end && sc->day_end_s < 0)
        return brs__err(err, BRS_E_INVAL, "%s: reset_at_day_end: needs day_end (when the day ends)",
                        cfg->source);
    if ((rc = brs__config_int(cfg, root, "", "logon_timeout_ms", 10000, &v, err)))
        return rc;
    sc->logon_timeout_ns = v * 1000000;
    if ((rc = brs__config_string(cfg, root, "", "sender_comp_id", "EXEC", &str, err)))
        return rc;
    if (!*str || strlen(str) >= BRS__FIX_COMPID_MAX)
        return brs__err(err, BRS_E_INVAL, "%s: sender_comp_id must be 1..63 characters", cfg->source);
    snprintf(sc->sender, sizeof sc->sender, "%s", str);

    brs__fix_session_opts opts; /* session options: the top level's are the defaults */
    brs__fix_session_opts_default(&opts);
    if ((rc = brs__fix_session_opts_read(cfg, root, "", &opts, err)))
        return rc;
    const cJSON *sessions = cJSON_GetObjectItemCaseSensitive(root, "sessions");
    if (!cJSON_IsArray(sessions) || cJSON_GetArraySize(sessions) == 0)
        return brs__err(err, BRS_E_INVAL, "%s: 'sessions' must be a non-empty array", cfg->source);
    sc->n_sessions = (uint32_t)cJSON_GetArraySize(sessions);
    sc->sessions = calloc(sc->n_sessions, sizeof *sc->sessions);
    const cJSON *instr = cJSON_GetObjectItemCaseSensitive(root, "instruments");
    if (!cJSON_IsArray(instr) || cJSON_GetArraySize(instr) == 0)
        return brs__err(err, BRS_E_INVAL, "%s: 'instruments' must be a non-empty array", cfg->source);
    sc->n_instr = (uint32_t)cJSON_GetArraySize(instr);
    sc->instr = calloc(sc->n_instr, sizeof *sc->instr);
    if (!sc->sessions || !sc->instr)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    uint32_t i = 0;
    for (const cJSON *it = sessions->child; it; it = it->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "sessions[%u]", i);
        if ((rc = brs__config_check_keys(cfg, it, where, sess_keys, err)))
            return rc;
        if ((rc = brs__config_string(cfg, it, where, "target_comp_id", "", &str, err)))
            return rc;
        if (!*str || strlen(str) >= BRS__FIX_COMPID_MAX)
            return brs__err(err, BRS_E_INVAL, "%s: %s.target_comp_id must be 1..63 characters",
                            cfg->source, where);
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(sc->sessions[k].target, str) == 0)
                return brs__err(err, BRS_E_EXISTS, "%s: %s.target_comp_id '%s' appears twice",
                                cfg->source, where, str);
        snprintf(sc->sessions[i].target, sizeof sc->sessions[i].target, "%s", str);
        if ((rc = brs__config_string(cfg, it, where, "username", "", &str, err)))
            return rc;
        snprintf(sc->sessions[i].username, sizeof sc->sessions[i].username, "%s", str);
        if ((rc = brs__config_string(cfg, it, where, "password", "", &str, err)))
            return rc;
        snprintf(sc->sessions[i].password, sizeof sc->sessions[i].password, "%s", str);
        sc->sessions[i].opts = opts;
        if ((rc = brs__fix_session_opts_read(cfg, it, where, &sc->sessions[i].opts, err)))
            return rc;
    }
    i = 0;
    for (const cJSON *it = instr->child; it; it = it->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "instruments[%u]", i);
        if ((rc = brs__config_check_keys(cfg, it, where, instr_keys, err)))
            return rc;
        if ((rc = brs__config_string(cfg, it, where, "symbol", "", &str, err)))
            return rc;
        if (!*str || strlen(str) >= BRS_SYMBOL_MAX)
            return brs__err(err, BRS_E_INVAL, "%s: %s.symbol must be 1..31 characters", cfg->source,
                            where);
        snprintf(sc->instr[i].symbol, sizeof sc->instr[i].symbol, "%s", str);
        if ((rc = brs__config_int(cfg, it, where, "decimals", 2, &v, err)))
            return rc;
        if (v < 0 || v > 8)
            return brs__err(err, BRS_E_RANGE, "%s: %s.decimals must be 0..8", cfg->source, where);
        sc->instr[i].decimals = (int)v;
        if ((rc = brs__config_int(cfg, it, where, "tick_size", 1, &v, err)))
            return rc;
        if (v < 1)
            return brs__err(err, BRS_E_RANGE, "%s: %s.tick_size must be >= 1", cfg->source, where);
        sc->instr[i].tick_size = v;
        if ((rc = brs__config_int(cfg, it, where, "lot_size", 1, &v, err)))
            return rc;
        if (v < 1)
            return brs__err(err, BRS_E_RANGE, "%s: %s.lot_size must be >= 1", cfg->source, where);
        sc->instr[i].lot_size = v;
    }
    const cJSON *risk = cJSON_GetObjectItemCaseSensitive(root, "risk");
    if (risk) {
        if (sc->n_instr > BRS_RISK_MAX_INSTRUMENTS)
            return brs__err(err, BRS_E_LIMIT, "%s: risk checks cover at most %d instruments",
                            cfg->source, BRS_RISK_MAX_INSTRUMENTS);
        brs_instrument bi[BRS_RISK_MAX_INSTRUMENTS];
        memset(bi, 0, sizeof bi);
        for (uint32_t k = 0; k < sc->n_instr; k++) {
            bi[k].id = k;
            snprintf(bi[k].symbol, sizeof bi[k].symbol, "%s", sc->instr[k].symbol);
            bi[k].tick_size = sc->instr[k].tick_size;
            bi[k].lot_size = sc->instr[k].lot_size;
            bi[k].price_scale = 1;
            for (int d = 0; d < sc->instr[k].decimals; d++)
                bi[k].price_scale *= 10;
        }
        if ((rc = brs__risk_config_read(cfg, risk, bi, sc->n_instr, &sc->risk, err)))
            return rc;
        sc->risk_on = 1;
    }
    return BRS_OK;
}

void brs__fix_server_config_free(brs__fix_server_cfg *sc)
{
    free(sc->sessions);
    free(sc->instr);
    sc->sessions = NULL;
    sc->instr = NULL;
}

/* ---- connections --------------------------------------------------------------- */

static void mark_dirty(brs__fix_server *srv, conn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        c->next_dirty = srv->dirty;
        srv->dirty = c;
    }
}

static int conn_send(void *ctx, const char *p, size_t n);
static void conn_disconnect(void *ctx);

static int conn_send(void *ctx, const char *p, size_t n)
{
    conn *c = ctx;
    if (c->closing)
        return BRS_OK;
    size_t pending = c->outlen - c->outoff;
    if (pending + n > c->srv->cfg.max_output)
        return BRS_E_LIMIT; /* slow consumer: the session disconnects it */
    if (c->outlen + n > c->outcap) {
        if (c->outoff > 0) {
            memmove(c->out, c->out + c->outoff, pending);
            c->durable -= c->outoff;
            c->outlen = pending;
            c->outoff = 0;
        }
        if (c->outlen + n > c->outcap) {
            size_t cap = c->outcap ? c->outcap : 65536;
            while (cap < c->outlen + n)
                cap *= 2;
            char *q = realloc(c->out, cap);
            if (!q)
                return BRS_E_NOMEM;
            c->out = q;
            c->outcap = cap;
        }
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
    mark_dirty(c->srv, c);
    return BRS_OK;
}

static void conn_disconnect(void *ctx)
{
    conn *c = ctx;
    c->closing = 1;
    mark_dirty(c->srv, c);
}

static void conn_free(brs__fix_server *srv, conn *c)
{
    /* The session may already belong to a newer connection (it logged off here
     * and on again over another socket in the same loop turn): leave it be. */
    if (c->sess && (c->sess->io.ctx == c || c->sess->io.ctx == NULL)) {
        brs__fix_gateway_session_gone(&srv->gw, c->sess);
        if (c->sess->state != BRS__FIX_DISCONNECTED)
            brs__fix_session_detach(c->sess);
        brs__fix_store_flush(&c->sess->store);
    }
    epoll_ctl(srv->efd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    for (uint32_t i = 0; i < srv->n_conns; i++)
        if (srv->conns[i] == c) {
            srv->conns[i] = srv->conns[--srv->n_conns];
            break;
        }
    free(c->in);
    free(c->out);
    free(c);
}

static void set_events(brs__fix_server *srv, conn *c)
{
    uint32_t mask = (c->paused ? 0 : EPOLLIN) | (c->outlen > c->outoff ? EPOLLOUT : 0) | EPOLLRDHUP;
    if (mask == c->ev_mask)
        return; /* a syscall per loop turn saved: the mask rarely changes */
    struct epoll_event ev = {0};
    ev.events = mask;
    ev.data.ptr = c;
    if (epoll_ctl(srv->efd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->ev_mask = mask;
}

/* Write what is queued; returns -1 when the connection is to be freed. */
static int flush_out(brs__fix_server *srv, conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->outoff += (size_t)w;
    }
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = c->durable = 0;
    if (c->closing)
        return -1; /* best effort: what could be written is written */
    set_events(srv, c);
    return 0;
}

static brs__fix_session *find_session(brs__fix_server *srv, const brs__fix_msg *m)
{
    const brs__fix_field *f = brs__fix_get(m, 49);
    if (!f || !brs__fix_is(m, 56, srv->cfg.sender))
        return NULL;
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++) {
        const char *t = srv->cfg.sessions[i].target;
        if (strlen(t) == f->len && memcmp(t, brs__fix_val(m, f), f->len) == 0)
            return srv->sessions[i];
    }
    return NULL;
}

/* Before Logon: find the session the first message names. */
static int bind_session(brs__fix_server *srv, conn *c, int64_t now)
{
    size_t ml = 0;
    int rc = brs__fix_frame(c->in, c->inlen, srv->cfg.max_msg, &ml);
    if (rc == BRS__FIX_FRAME_NEED_MORE)
        return c->inlen >= srv->cfg.max_msg ? -1 : 0;
    if (rc != BRS__FIX_FRAME_OK)
        return -1;
    brs__fix_msg *m = &srv->sessions[0]->scratch;
    if (brs__fix_parse(m, c->in, ml) != BRS_OK || strcmp(m->msgtype, "A") != 0)
        return -1;
    brs__fix_session *s = find_session(srv, m);
    if (!s) {
        char who[64];
        brs__fix_str(m, 49, who, sizeof who);
        fprintf(stderr, "bourse serve: Logon from unknown CompID '%s' refused\n", who);
        return -1;
    }
    if (s->state != BRS__FIX_DISCONNECTED) {
        fprintf(stderr, "bourse serve: %s already connected; second Logon refused\n", s->cfg.target);
        return -1;
    }
    brs__fix_gateway_session_gone(&srv->gw, s); /* a new connection starts with no subscriptions */
    brs__fix_session_io io = {c, conn_send, conn_disconnect};
    brs__fix_session_attach(s, &io, now);
    c->sess = s;
    return 1;
}

static void on_readable(brs__fix_server *srv, conn *c, int64_t now)
{
    for (;;) {
        if (c->incap - c->inlen < 4096) {
            /* full of unconsumed bytes: the session will refuse it as too large */
            if (c->incap >= srv->cfg.max_msg + 65536)
                break;
            size_t cap = c->incap * 2;
            char *q = realloc(c->in, cap);
            if (!q) {
                c->closing = 1;
                return;
            }
            c->in = q;
            c->incap = cap;
        }
        ssize_t r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
        if (r == 0) {
            c->closing = 1;
            break;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->closing = 1;
            break;
        }
        c->inlen += (size_t)r;
        if (c->inlen == c->incap)
            continue; /* maybe more */
        break;
    }
    if (!c->sess && c->inlen) {
        int b = bind_session(srv, c, now);
        if (b < 0) {
            c->closing = 1;
            mark_dirty(srv, c);
            return;
        }
        if (b == 0)
            return;
    }
    if (!c->sess) { /* input that arrived with the peer's close is still run */
        mark_dirty(srv, c);
        return;
    }
    /* rate limit: a budget of messages per one-second window */
    if (now - c->window_start >= 1000000000LL) {
        c->window_start = now;
        c->window_msgs = 0;
    }
    size_t consumed = 0;
    while (consumed < c->inlen && c->sess && c->sess->state != BRS__FIX_DISCONNECTED) {
        if (c->window_msgs >= srv->cfg.max_msgs_per_sec) {
            c->paused = 1; /* TCP pushes back on the client until the next window */
            break;
        }
        /* one message at a time so the budget is exact; garbled bytes are
         * dropped in the same step, so input always moves on */
        int framed = 0;
        size_t used = brs__fix_session_step(c->sess, c->in + consumed, c->inlen - consumed, now,
                                            &framed);
        if (framed)
            c->window_msgs++;
        consumed += used;
        if (used == 0)
            break;
    }
    if (consumed) {
        memmove(c->in, c->in + consumed, c->inlen - consumed);
        c->inlen -= consumed;
    }
    mark_dirty(srv, c);
}

static void on_accept(brs__fix_server *srv, int64_t now)
{
    for (;;) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (srv->n_conns == srv->cap_conns) {
            uint32_t cap = srv->cap_conns ? srv->cap_conns * 2 : 64;
            conn **p = realloc(srv->conns, cap * sizeof *p);
            if (!p) { /* out of memory: refuse this one, keep serving the others */
                close(fd);
                continue;
            }
            srv->conns = p;
            srv->cap_conns = cap;
        }
        conn *c = calloc(1, sizeof *c);
        if (c)
            c->in = malloc(65536);
        if (!c || !c->in) {
            if (c)
                free(c->in);
            free(c);
            close(fd);
            continue;
        }
        c->incap = 65536;
        c->srv = srv;
        c->fd = fd;
        c->accepted_at = now;
        c->window_start = now;
        srv->conns[srv->n_conns++] = c;
        struct epoll_event ev = {0};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = c;
        epoll_ctl(srv->efd, EPOLL_CTL_ADD, fd, &ev);
        c->ev_mask = ev.events;
    }
}

/* ---- lifecycle -------------------------------------------------------------------- */

int brs__fix_server_open(brs__fix_server **out, const brs__fix_server_cfg *sc, int *port,
                         brs_error *err)
{
    brs__fix_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    srv->cfg = *sc;
    srv->lfd = srv->efd = -1;
    *out = srv;
    int rc;
    char path[1024];
    int persist = sc->state_dir[0] != 0;
    if (persist && (rc = brs__mkdirs(sc->state_dir, err)) != BRS_OK)
        return rc;
    if (persist)
        snprintf(path, sizeof path, "%s/orders.journal", sc->state_dir);
    rc = brs__fix_gateway_open(&srv->gw, sc->instr, sc->n_instr, sc->max_orders,
                               persist ? path : NULL,
                               sc->fsync_policy, err);
    if (rc)
        return rc;
    if (sc->risk_on)
        brs__fix_gateway_set_risk(&srv->gw, &sc->risk);
    srv->sessions = calloc(sc->n_sessions, sizeof *srv->sessions);
    if (!srv->sessions)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < sc->n_sessions; i++) {
        brs__fix_session_cfg cfg = {0};
        snprintf(cfg.sender, sizeof cfg.sender, "%s", sc->sender);
        snprintf(cfg.target, sizeof cfg.target, "%s", sc->sessions[i].target);
        snprintf(cfg.username, sizeof cfg.username, "%s", sc->sessions[i].username);
        snprintf(cfg.password, sizeof cfg.password, "%s", sc->sessions[i].password);
        cfg.max_msg = sc->max_msg;
        cfg.opts = sc->sessions[i].opts;
        srv->sessions[i] = malloc(sizeof(brs__fix_session));
        if (!srv->sessions[i])
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        if (persist)
            snprintf(path, sizeof path, "%s/%s-%s.store", sc->state_dir, sc->sender,
                     sc->sessions[i].target);
        rc = brs__fix_session_open(srv->sessions[i], &cfg, persist ? path : NULL, sc->fsync_policy,
                                   err);
        if (rc)
            return rc;
        brs__fix_gateway_add_session(&srv->gw, srv->sessions[i]);
    }
    if ((rc = brs__fix_gateway_replay(&srv->gw, err)) != BRS_OK)
        return rc;
    /* first start with an end of day: the orders found may be from today, so
     * the current day starts now and nothing expires until its end */
    if (sc->day_end_s >= 0 && srv->gw.day_boundary == 0)
        brs__fix_gateway_end_of_day(&srv->gw, day_boundary(sc->day_end_s, brs__realtime_ns()), 1,
                                    err);
    srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->lfd < 0)
        return brs__err(err, BRS_E_IO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)sc->port);
    if (inet_pton(AF_INET, sc->host, &a.sin_addr) != 1)
        return brs__err(err, BRS_E_INVAL, "listen.host: '%s' is not an IPv4 address", sc->host);
    if (bind(srv->lfd, (struct sockaddr *)&a, sizeof a) != 0)
        return brs__err(err, BRS_E_IO, "bind %s:%d: %s", sc->host, sc->port, strerror(errno));
    if (listen(srv->lfd, 128) != 0)
        return brs__err(err, BRS_E_IO, "listen: %s", strerror(errno));
    socklen_t al = sizeof a;
    getsockname(srv->lfd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    srv->efd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->efd < 0)
        return brs__err(err, BRS_E_IO, "epoll: %s", strerror(errno));
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->lfd, &ev);
    return BRS_OK;
}

/* reset_at_day_end: the FIX sessions end with the trading day, as under a
 * daily session schedule. Each logged-on session gets a Logout and is
 * disconnected, and every session's sequence numbers go back to 1 with its
 * stored messages dropped, so tomorrow's Logon starts at MsgSeqNum 1 without
 * ResetSeqNumFlag. It runs before the day's DAY orders expire: their
 * ExecutionReports are the first messages of the new session, kept in the
 * store for the client's next Logon (it sees our MsgSeqNum ahead of 1 and asks
 * for them), so a client away at the end of day still gets them. */
static void end_sessions(brs__fix_server *srv)
{
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++) {
        brs__fix_session *s = srv->sessions[i];
        if (s->state != BRS__FIX_DISCONNECTED)
            brs__fix_session_logout(s, "end of session (day_end): sequence numbers reset to 1");
        /* written at once: the day's end is journaled next, and a restart after
         * that must find the sequences reset too */
        if (brs__fix_store_reset(&s->store) != BRS_OK || brs__fix_store_flush(&s->store) != BRS_OK)
            fprintf(stderr, "bourse serve: end of day: session %s: its store could not be "
                            "reset\n", s->cfg.target);
    }
}

static void timers(brs__fix_server *srv, int64_t now)
{
    if (srv->cfg.day_end_s >= 0 && day_boundary(srv->cfg.day_end_s, now) > srv->gw.day_boundary) {
        brs_error e = {0};
        if (srv->cfg.reset_at_day_end)
            end_sessions(srv);
        if (brs__fix_gateway_end_of_day(&srv->gw, day_boundary(srv->cfg.day_end_s, now), 0, &e))
            fprintf(stderr, "bourse serve: end of day: journal not compacted (%s); it stays "
                            "complete and grows until the next end of day\n", e.msg);
    }
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++)
        brs__fix_session_timer(srv->sessions[i], now);
    for (uint32_t i = 0; i < srv->n_conns; i++) {
        conn *c = srv->conns[i];
        if (!c->sess && now - c->accepted_at > srv->cfg.logon_timeout_ns) {
            c->closing = 1;
            mark_dirty(srv, c);
        }
        if (c->paused && now - c->window_start >= 1000000000LL) {
            c->paused = 0;
            c->window_start = now;
            c->window_msgs = 0;
            set_events(srv, c);
            if (c->inlen)
                on_readable(srv, c, now); /* bytes already buffered */
        }
    }
}

/* A write or sync of the journal or a store failed: what this turn produced
 * is not durable, so none of it is sent. Every session gets a Logout saying
 * why (its MsgSeqNum is not durable either: the peer sees the number again
 * after a restart), the connections close and the gateway stops. */
static void storage_failed(brs__fix_server *srv)
{
    BRS_LOG(BRS_LOG_ERROR, "fix", "state cannot be made durable: nothing more is acknowledged; "
            "logging every session out and stopping", BRS_KV_S("reason", srv->gw.fail_msg));
    for (uint32_t i = 0; i < srv->n_conns; i++)
        srv->conns[i]->outlen = srv->conns[i]->durable; /* not committed: never sent */
    char text[300];
    snprintf(text, sizeof text, "gateway storage failure (%s); try again later", srv->gw.fail_msg);
    for (uint32_t i = 0; i < srv->cfg.n_sessions; i++) {
        brs__fix_session *s = srv->sessions[i];
        if (s->state == BRS__FIX_DISCONNECTED)
            continue;
        BRS_LOG(BRS_LOG_WARN, "fix", "session logged out: storage failure",
                BRS_KV_S("session", s->cfg.target), BRS_KV_S("sender", s->cfg.sender));
        brs__fix_session_logout(s, text);
    }
    for (uint32_t i = 0; i < srv->n_conns; i++) {
        conn *c = srv->conns[i];
        c->durable = c->outlen;
        c->closing = 1;
        while (c->outoff < c->outlen) { /* best effort, non-blocking */
            ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            c->outoff += (size_t)w;
        }
    }
    while (srv->n_conns)
        conn_free(srv, srv->conns[0]);
}

int brs__fix_server_run(brs__fix_server *srv, volatile sig_atomic_t *stop)
{
    struct epoll_event evs[64];
    while (!*stop) {
        int n = epoll_wait(srv->efd, evs, 64, 50);
        int64_t now = brs__realtime_ns();
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                on_accept(srv, now);
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                on_readable(srv, c, now);
            if (evs[i].events & EPOLLOUT)
                mark_dirty(srv, c);
        }
        if (now - srv->last_timer >= 100000000LL) {
            srv->last_timer = now;
            timers(srv, now);
        }
        /* write-ahead: stores and journal reach the file (one commit) before
         * replies reach the wire */
        if (brs__fix_gateway_flush(&srv->gw) != BRS_OK) {
            storage_failed(srv);
            return BRS_E_IO;
        }
        conn *d = srv->dirty;
        srv->dirty = NULL;
        while (d) {
            conn *next = d->next_dirty;
            d->dirty = 0;
            d->durable = d->outlen;
            if (flush_out(srv, d) < 0)
                conn_free(srv, d);
            d = next;
        }
    }
    return BRS_OK;
}

void brs__fix_server_close(brs__fix_server *srv)
{
    if (!srv)
        return;
    while (srv->n_conns)
        conn_free(srv, srv->conns[0]);
    brs__fix_gateway_close(&srv->gw);
    if (srv->sessions)
        for (uint32_t i = 0; i < srv->cfg.n_sessions; i++)
            if (srv->sessions[i]) {
                brs__fix_session_close(srv->sessions[i]);
                free(srv->sessions[i]);
            }
    free(srv->sessions);
    free(srv->conns);
    if (srv->lfd >= 0)
        close(srv->lfd);
    if (srv->efd >= 0)
        close(srv->efd);
    free(srv);
}
