/* rt_hosted.c: a config's "strategies" on a real-clock runtime (rt_hosted.h):
 * read and checked, loaded (.lua in the sandbox, anything else through the
 * plugin search path), each a hosted strategy of rt_strategy.c with its own
 * strategy context, optional recorder (run directory), metrics and hot reload. */
#include "rt_hosted.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"
#include "ops/run_metrics.h"
#include "plugin/loader.h"
#include "strategy/reload_watch.h"
#include "strategy/source.h"

typedef struct hosted {
    struct brs__rt_hosted *hs;
    uint32_t index;
    char *text;               /* a Lua strategy's script as running (the journal's START, RELOAD) */
    size_t text_len;
    brs__lua_opts lo;         /* how it was loaded and opened (reopen_text) */
    brs__sctx_opts so;
    brs__exec ex;
    char pw[64];
    brs__rt_strat *st;
    brs__strategy_src src;
    int src_loaded;
    brs__sctx sc;
    brs_an_recorder *rec;
    brs_an_instrument *ai;
    uint8_t *allowed;
    char name[64];
    char path[4096];
    const char *out;
    brs__reload_watch rw;
    int watching;
    brs__run_metrics *met;
    int failed_logged;
} hosted;

struct brs__rt_hosted {
    brs__rt *rt;
    brs_config *cfg;
    const char *mode;         /* "serve", "live": run directory titles, metrics */
    int log_level;            /* the strategies' own log lines from this level */
    int started;
    int (*jfn)(void *user, const void *rec, size_t len); /* brs__rt_hosted_set_journal */
    void *juser;
    brs__rt_strats *set;
    hosted *h;
    uint32_t n;
};

static const char *const k_entry[] = {BRS__RT_STRATEGY_KEYS, "name", "route", "instruments", "out",
                                      "initial_cash", "sample_every_ns", BRS__RELOAD_CONFIG_KEYS, NULL};

int brs__rt_strategy_cfg_read(brs_config *cfg, cJSON *st, const char *where,
                              brs__rt_strategy_cfg *c, brs_error *err)
{
    memset(c, 0, sizeof *c);
    int rc = brs__config_string(cfg, st, where, "file", NULL, &c->file, err);
    if (rc)
        return rc;
    if (!c->file)
        return brs__err(err, BRS_E_INVAL, "%s: missing key '%s.file'", cfg->source, where);
    struct { const char *key; int64_t *out; } bounds[] = {
        {"seed", &c->seed}, {"max_orders_per_run", &c->max_orders_run},
        {"max_callbacks_per_event", &c->max_cb_event}, {"max_callbacks_per_instant", &c->max_cb_instant},
        {"max_log_bytes_per_callback", &c->max_log_cb}, {"max_log_bytes", &c->max_log}};
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        if ((rc = brs__config_int(cfg, st, where, bounds[i].key, 0, bounds[i].out, err)))
            return rc;
        if (*bounds[i].out < 0 || (i >= 2 && i <= 3 && *bounds[i].out > UINT32_MAX))
            return brs__err(err, BRS_E_RANGE, "%s: %s.%s must be between 0 (the default) and %s",
                            cfg->source, where, bounds[i].key, i >= 2 && i <= 3 ? "4294967295" : "2^63");
    }
    c->params = cJSON_GetObjectItemCaseSensitive(st, "params");
    if (!c->params)
        c->params = cJSON_AddObjectToObject(st, "params");
    if (!cJSON_IsObject(c->params))
        return brs__err(err, BRS_E_INVAL, "%s: %s.params must be an object", cfg->source, where);
    return BRS_OK;
}

/* One entry's own keys, checked; route and instruments are checked against
 * the runtime when it opens. */
static int entry_read(brs_config *cfg, cJSON *it, const char *where, brs__rt_strategy_cfg *c,
                      brs_error *err)
{
    if (!cJSON_IsObject(it))
        return brs__err(err, BRS_E_INVAL, "%s: %s must be an object {\"file\": ..., \"params\": {...}}",
                        cfg->source, where);
    int rc = brs__config_check_keys(cfg, it, where, k_entry, err);
    if (rc || (rc = brs__rt_strategy_cfg_read(cfg, it, where, c, err)))
        return rc;
    const char *s;
    static const char *const strs[] = {"name", "route", "out"};
    for (size_t i = 0; i < 3; i++)
        if ((rc = brs__config_string(cfg, it, where, strs[i], "", &s, err)))
            return rc;
    if ((rc = brs__config_string(cfg, it, where, "name", "", &s, err)))
        return rc;
    if (strlen(s) >= 64)
        return brs__err(err, BRS_E_INVAL, "%s: %s.name is longer than 63 characters", cfg->source, where);
    double cash;
    int64_t every;
    if ((rc = brs__config_double(cfg, it, where, "initial_cash", 100000, &cash, err)) ||
        (rc = brs__config_int(cfg, it, where, "sample_every_ns", 0, &every, err)))
        return rc;
    if (!(cash > 0 && isfinite(cash)))
        return brs__err(err, BRS_E_RANGE, "%s: %s.initial_cash must be > 0", cfg->source, where);
    if (every < 0)
        return brs__err(err, BRS_E_RANGE, "%s: %s.sample_every_ns must be >= 0", cfg->source, where);
    cJSON *ins = cJSON_GetObjectItemCaseSensitive(it, "instruments");
    if (ins && !cJSON_IsArray(ins))
        return brs__err(err, BRS_E_INVAL, "%s: %s.instruments must be an array of symbols", cfg->source,
                        where);
    for (cJSON *x = ins ? ins->child : NULL; x; x = x->next)
        if (!cJSON_IsString(x))
            return brs__err(err, BRS_E_INVAL, "%s: %s.instruments must be an array of symbols",
                            cfg->source, where);
    int on;
    brs__reload_opts ro;
    return brs__reload_opts_read(cfg, it, where, &on, &ro, err);
}

int brs__rt_hosted_check(brs_config *cfg, brs_error *err)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg->root, "strategies");
    if (!arr)
        return BRS_OK;
    if (!cJSON_IsArray(arr))
        return brs__err(err, BRS_E_INVAL, "%s: strategies must be an array of strategy objects",
                        cfg->source);
    uint32_t i = 0;
    for (cJSON *it = arr->child; it; it = it->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "strategies[%u]", i);
        brs__rt_strategy_cfg c;
        int rc = entry_read(cfg, it, where, &c, err);
        if (rc)
            return rc;
    }
    return BRS_OK;
}

/* A .lua script as given; anything else through the plugin search path. */
static int resolve(const char *name, char *out, size_t cap, brs_error *err)
{
    size_t n = strlen(name);
    if (n >= 4 && !strcmp(name + n - 4, ".lua")) {
        snprintf(out, cap, "%s", name);
        return BRS_OK;
    }
    return brs__plugin_find(name, NULL, out, cap, err);
}

/* ---- the journal: the strategies' own steps (rt_hosted.h) ---------------------
 * Records (little endian): START  u8 1, i64 t, u32 n, n x (u32 len, the Lua
 * script's text; 0 for a C strategy); TIMER  u8 2, i64 t; RELOAD  u8 3, i64 t,
 * u32 strategy, the new text. */
enum { J_START = 1, J_TIMER = 2, J_RELOAD = 3 };

static void put32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(char *p, int64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static int64_t get64(const char *p) { int64_t v; memcpy(&v, p, 8); return v; }

static void journal(brs__rt_hosted *hs, const char *rec, size_t len)
{
    if (hs->jfn && hs->jfn(hs->juser, rec, len) != BRS_OK)
        BRS_LOG(BRS_LOG_ERROR, "strategy", "journal: a strategies' step could not be recorded",
                BRS_KV_U("bytes", len));
}

/* A record of a header and a text; NULL when out of memory (logged). */
static char *text_rec(const char *h, size_t hl, const char *text, size_t len, size_t *out)
{
    char *r = malloc(hl + len + 1);
    if (!r) {
        BRS_LOG(BRS_LOG_ERROR, "strategy", "journal: out of memory for a strategies' step", BRS_KV_U("bytes", len));
        return NULL;
    }
    memcpy(r, h, hl);
    if (len)
        memcpy(r + hl, text, len);
    *out = hl + len;
    return r;
}

static int keep_text(hosted *h, const char *text, size_t len)
{
    char *t = malloc(len + 1);
    if (!t)
        return BRS_E_NOMEM;
    memcpy(t, text, len);
    t[len] = 0;
    free(h->text);
    h->text = t;
    h->text_len = len;
    return BRS_OK;
}

/* The reload watch loaded a new version: it is the running text, journaled. */
static void on_reloaded(void *user, const char *text, size_t len)
{
    hosted *h = user;
    if (keep_text(h, text, len) != BRS_OK)
        BRS_LOG(BRS_LOG_ERROR, "strategy", "out of memory keeping a reloaded script", BRS_KV_S("strategy", h->name));
    if (!h->hs->jfn)
        return;
    char hd[13];
    hd[0] = J_RELOAD;
    put64(hd + 1, brs__rt_now(h->hs->rt));
    put32(hd + 9, h->index);
    size_t n;
    char *r = text_rec(hd, sizeof hd, text, len, &n);
    if (r)
        journal(h->hs, r, n);
    free(r);
}

static int open_one(brs__rt_hosted *hs, hosted *h, cJSON *it, const char *where, uint32_t i,
                    brs_error *err)
{
    brs_config *cfg = hs->cfg;
    brs__rt_strategy_cfg c;
    int rc = entry_read(cfg, it, where, &c, err);
    if (rc)
        return rc;
    uint32_t n_instr;
    const brs_instrument *instr = brs__rt_instruments(hs->rt, &n_instr);
    /* its route: the router when the runtime has one, else the default venue */
    brs__rt_route route = brs__rt_default_route(hs->rt);
    cJSON *rj = cJSON_GetObjectItemCaseSensitive(it, "route");
    if (cJSON_IsString(rj) && rj->valuestring[0] &&
        (rc = brs__rt_route_parse(hs->rt, rj->valuestring, &route, err)))
        return brs__err_prefix(err, "%s: %s.route", cfg->source, where);
    cJSON *ins = cJSON_GetObjectItemCaseSensitive(it, "instruments");
    if (ins) {
        if (!(h->allowed = calloc(n_instr ? n_instr : 1, 1)))
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        for (cJSON *x = ins->child; x; x = x->next) {
            uint32_t k;
            for (k = 0; k < n_instr && strcmp(instr[k].symbol, x->valuestring); k++)
                ;
            if (k == n_instr)
                return brs__err(err, BRS_E_NOTFOUND, "%s: %s.instruments: '%s' is not one of the instruments",
                                cfg->source, where, x->valuestring);
            h->allowed[k] = 1;
        }
    }
    if ((rc = resolve(c.file, h->path, sizeof h->path, err)))
        return brs__err_prefix(err, "%s: %s.file", cfg->source, where);
    h->lo = (brs__lua_opts){.seed = (uint64_t)c.seed};
    size_t pl = strlen(h->path);
    if (pl >= 4 && !strcmp(h->path + pl - 4, ".lua")) { /* from its text, kept: the version running */
        if ((rc = brs__read_file_max(h->path, BRS__SCRIPT_FILE_MAX, &h->text, &h->text_len, err)) ||
            (rc = brs__strategy_src_load_text(&h->src, h->text, h->text_len, h->path, &h->lo, err)))
            return brs__err_prefix(err, "%s: %s", cfg->source, where);
    } else if ((rc = brs__strategy_src_load(&h->src, h->path, &h->lo, err))) {
        return brs__err_prefix(err, "%s: %s", cfg->source, where);
    }
    h->src_loaded = 1;
    h->hs = hs;
    h->index = i;
    const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
    snprintf(h->name, sizeof h->name, "%s", nm && *nm ? nm : h->src.name);
    for (uint32_t k = 0; k < i; k++)
        if (!strcmp(hs->h[k].name, h->name))
            return brs__err(err, BRS_E_EXISTS,
                            "%s: %s: a second strategy named '%s' (give each its own \"name\")",
                            cfg->source, where, h->name);
    const char *out = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "out"));
    h->out = out && *out ? out : NULL;
    double cash;
    int64_t every;
    brs__config_double(cfg, it, where, "initial_cash", 100000, &cash, err);
    brs__config_int(cfg, it, where, "sample_every_ns", 0, &every, err); /* checked by entry_read */
    if ((rc = brs__rt_strats_add(hs->set, route, cash, every, &h->st, err)))
        return rc;
    h->st->allowed = h->allowed;
    if (h->out) { /* its run directory: the book-mode recorder */
        if (!(h->ai = calloc(n_instr ? n_instr : 1, sizeof *h->ai)))
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        for (uint32_t k = 0; k < n_instr; k++) {
            snprintf(h->ai[k].symbol, sizeof h->ai[k].symbol, "%s", instr[k].symbol);
            h->ai[k].multiplier = 1;
            h->ai[k].price_scale = instr[k].price_scale;
        }
        char title[160];
        snprintf(title, sizeof title, "%s in bourse %s", h->name, hs->mode);
        brs_an_options ao = {.mode = BRS_AN_BOOK, .periods_per_year = 252, .trading_seconds_per_day = 23400,
                             .sample_every_ns = every, .title = title, .csv_max_rows = 1000000, .benchmark = "buy_and_hold",
                             .max_bars = 1000000};
        if ((rc = brs__an_create(&h->rec, &ao, h->ai, n_instr, err)))
            return rc;
    }
    snprintf(h->pw, sizeof h->pw, "%s.params", where);
    h->ex = brs__rt_strat_exec(h->st);
    brs__sctx_opts so = {.name = h->name, .instruments = instr, .n_instruments = n_instr,
                         .params = c.params, .params_where = h->pw, .exec = &h->ex,
                         .log_level = hs->log_level, .max_orders = 4096, .event_queue = 65536,
                         .max_orders_per_run = (uint64_t)c.max_orders_run,
                         .max_callbacks_per_event = (uint32_t)c.max_cb_event,
                         .max_callbacks_per_instant = (uint32_t)c.max_cb_instant,
                         .max_log_bytes_per_callback = (uint64_t)c.max_log_cb,
                         .max_log_bytes = (uint64_t)c.max_log};
    h->so = so; /* kept: the journal's START may open it again with another script version */
    if ((rc = brs__sctx_init(&h->sc, h->src.vt, &so, err)))
        return brs__err_prefix(err, "%s", cfg->source);
    if ((rc = brs__strategy_src_open(&h->src, &h->sc, err)))
        return brs__err_prefix(err, "%s: %s", cfg->source, where);
    brs__rt_strat_attach(h->st, &h->sc, h->rec);
    int on;
    brs__reload_opts ro;
    if ((rc = brs__reload_opts_read(cfg, it, where, &on, &ro, err)))
        return rc;
    if (h->src.is_lua && on) {
        if ((rc = brs__reload_watch_init(&h->rw, h->path, h->name, h->src.lua, &ro, err)))
            return rc;
        h->rw.on_reload = on_reloaded;
        h->rw.on_reload_user = h;
        h->watching = 1;
    }
    if (hs->log_level <= BRS_LOG_INFO) /* bourse live --quiet: warnings and errors only */
        BRS_LOG(BRS_LOG_INFO, "strategy", "strategy hosted", BRS_KV_S("strategy", h->name),
                BRS_KV_S("file", h->path), BRS_KV_S("kind", h->src.kind), BRS_KV_U("client", h->st->client),
                BRS_KV_S("route", route.kind == BRS__RT_ROUTE_SOR ? "sor" : brs__rt_venue_name(hs->rt, route.venue)),
                BRS_KV_B("hot_reload", h->watching), BRS_KV_S("out", h->out ? h->out : ""));
    return BRS_OK;
}

/* The set of n strategies over rt (none: nothing is made). */
static int hosted_new(brs__rt_hosted **out, brs__rt *rt, brs_config *cfg, uint32_t n,
                      const char *mode, int log_level, brs_error *err)
{
    brs__rt_hosted *hs = calloc(1, sizeof *hs);
    *out = hs;
    if (!hs)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    hs->rt = rt;
    hs->cfg = cfg;
    hs->mode = mode;
    hs->log_level = log_level;
    if (!n)
        return BRS_OK;
    int rc = brs__rt_strats_create(&hs->set, rt, err);
    if (rc)
        return rc;
    if (!(hs->h = calloc(n, sizeof *hs->h)))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    return BRS_OK;
}

int brs__rt_hosted_open(brs__rt_hosted **out, brs__rt *rt, brs_config *cfg, brs_error *err)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg->root, "strategies");
    uint32_t n = cJSON_IsArray(arr) ? (uint32_t)cJSON_GetArraySize(arr) : 0;
    int rc = hosted_new(out, rt, cfg, n, "serve", BRS_LOG_INFO, err);
    if (rc || !n)
        return rc;
    brs__rt_hosted *hs = *out;
    uint32_t i = 0;
    for (cJSON *it = arr->child; it; it = it->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "strategies[%u]", i);
        hs->n = i + 1; /* closed even when it fails half-way */
        if ((rc = open_one(hs, &hs->h[i], it, where, i, err)))
            return rc;
    }
    return BRS_OK;
}

int brs__rt_hosted_open_one(brs__rt_hosted **out, brs__rt *rt, brs_config *cfg, cJSON *obj,
                            const char *where, const char *mode, int log_level, brs_error *err)
{
    int rc = hosted_new(out, rt, cfg, 1, mode, log_level, err);
    if (rc)
        return rc;
    (*out)->n = 1;
    return open_one(*out, &(*out)->h[0], obj, where, 0, err);
}

brs__sctx *brs__rt_hosted_sctx(brs__rt_hosted *hs, uint32_t i)
{
    return hs && i < hs->n ? &hs->h[i].sc : NULL;
}

brs__rt_strat *brs__rt_hosted_strat(brs__rt_hosted *hs, uint32_t i)
{
    return hs && i < hs->n ? hs->h[i].st : NULL;
}

int brs__rt_hosted_metrics(brs__rt_hosted *hs, struct brs__mreg *reg, brs_error *err)
{
    for (uint32_t i = 0; hs && reg && i < hs->n; i++) {
        brs__run_metrics_opts mo = {.mode = "serve", .every = 64, .reg = reg};
        int rc = brs__run_metrics_start(&hs->h[i].met, &mo, &hs->h[i].sc, err);
        if (rc)
            return brs__err_prefix(err, "strategy %s", hs->h[i].name);
    }
    return BRS_OK;
}

int brs__rt_hosted_start(brs__rt_hosted *hs, brs_error *err)
{
    if (hs && hs->jfn && hs->n) { /* START: the time and the scripts they start with */
        size_t len = 13;
        for (uint32_t i = 0; i < hs->n; i++)
            len += 4 + hs->h[i].text_len;
        char *r = malloc(len);
        if (!r)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        r[0] = J_START;
        put64(r + 1, brs__rt_now(hs->rt));
        put32(r + 9, hs->n);
        size_t at = 13;
        for (uint32_t i = 0; i < hs->n; i++) {
            put32(r + at, (uint32_t)hs->h[i].text_len);
            if (hs->h[i].text_len)
                memcpy(r + at + 4, hs->h[i].text, hs->h[i].text_len);
            at += 4 + hs->h[i].text_len;
        }
        journal(hs, r, len);
        free(r);
    }
    if (hs)
        hs->started = 1;
    for (uint32_t i = 0; hs && i < hs->n; i++) {
        hosted *h = &hs->h[i];
        int64_t now = brs__rt_now(hs->rt);
        if (now > h->sc.now)
            brs__sctx_advance(&h->sc, now);
        int rc = brs__sctx_start(&h->sc, err);
        if (rc)
            return brs__err_prefix(err, "strategy %s", h->name);
    }
    return BRS_OK;
}

brs__rt_strats *brs__rt_hosted_set(brs__rt_hosted *hs) { return hs ? hs->set : NULL; }

uint32_t brs__rt_hosted_count(const brs__rt_hosted *hs) { return hs ? hs->n : 0; }

void brs__rt_hosted_poll(brs__rt_hosted *hs, int64_t mono)
{
    if (!hs || !hs->n)
        return;
    int64_t now = brs__rt_now(hs->rt);
    if (hs->jfn && brs__rt_strats_next_timer(hs->set) <= now) { /* TIMER: timers fire at this turn */
        char r[9];
        r[0] = J_TIMER;
        put64(r + 1, now);
        journal(hs, r, sizeof r);
    }
    brs__rt_strats_advance(hs->set, now);
    for (uint32_t i = 0; i < hs->n; i++) {
        hosted *h = &hs->h[i];
        if (h->watching && !h->sc.failed) /* between events: a changed script is loaded in place */
            brs__reload_watch_poll(&h->rw, mono);
        brs__run_metrics_sync(h->met, mono, 0);
        if (h->sc.failed && !h->failed_logged) {
            h->failed_logged = 1;
            BRS_LOG(BRS_LOG_ERROR, "strategy", "strategy failed and stopped; its orders are cancelled",
                    BRS_KV_S("strategy", h->name), BRS_KV_S("error", h->sc.error));
        }
    }
}

void brs__rt_hosted_stop(brs__rt_hosted *hs)
{
    for (uint32_t i = 0; hs && i < hs->n; i++) {
        hosted *h = &hs->h[i];
        brs_error e = {0};
        int64_t pos = 0;
        for (uint32_t k = 0; k < h->sc.n_instr; k++)
            pos += h->sc.instr[k].pos_qty < 0 ? -h->sc.instr[k].pos_qty : h->sc.instr[k].pos_qty;
        char vq[256] = "";
        size_t len = 0;
        for (uint32_t v = 0; v < brs__rt_venues(hs->rt) && v < 8 && len < sizeof vq; v++)
            len += (size_t)snprintf(vq + len, sizeof vq - len, "%s%s:%lld", v ? "," : "",
                                    brs__rt_venue_name(hs->rt, v), (long long)h->st->venue_qty[v]);
        if (hs->log_level <= BRS_LOG_INFO)
            BRS_LOG(BRS_LOG_INFO, "strategy", "strategy stopping", BRS_KV_S("strategy", h->name),
                    BRS_KV_U("fills", h->st->fills), BRS_KV_S("filled_by_venue", vq), BRS_KV_U("orders", h->st->orders),
                    BRS_KV_U("open_orders", h->sc.n_orders), BRS_KV_I("abs_position", pos),
                    BRS_KV_B("failed", h->sc.failed != 0));
        if (h->sc.started && !h->sc.failed && brs__sctx_stop(&h->sc, &e))
            BRS_LOG(BRS_LOG_WARN, "strategy", "strategy stop failed", BRS_KV_S("strategy", h->name),
                    BRS_KV_S("error", e.msg));
        brs__run_metrics_sync(h->met, brs__monotime_ns(), 1);
    }
}

int brs__rt_hosted_write(brs__rt_hosted *hs, brs_error *err)
{
    for (uint32_t i = 0; hs && i < hs->n; i++) {
        hosted *h = &hs->h[i];
        if (!h->rec || !h->out)
            continue;
        brs__rt_strat_sample(h->st);
        brs_an_metrics m;
        int rc = brs__an_compute(h->rec, &m, err);
        if (!rc)
            rc = brs__an_write_run(h->rec, h->out, hs->cfg, err);
        if (rc)
            return brs__err_prefix(err, "strategy %s: run directory %s", h->name, h->out);
        BRS_LOG(BRS_LOG_INFO, "strategy", "run directory written", BRS_KV_S("strategy", h->name),
                BRS_KV_S("dir", h->out), BRS_KV_U("fills", h->st->fills), BRS_KV_U("orders", h->st->orders));
    }
    return BRS_OK;
}

const char *brs__rt_hosted_client_name(const brs__rt_hosted *hs, uint32_t client)
{
    for (uint32_t i = 0; hs && i < hs->n; i++)
        if (hs->h[i].st && hs->h[i].st->client == client)
            return hs->h[i].name;
    return NULL;
}

void brs__rt_hosted_reloads(const brs__rt_hosted *hs, uint64_t *done, uint64_t *refused)
{
    *done = *refused = 0;
    for (uint32_t i = 0; hs && i < hs->n; i++) {
        *done += hs->h[i].rw.n_reloads;
        *refused += hs->h[i].rw.n_refused;
    }
}

void brs__rt_hosted_close(brs__rt_hosted *hs)
{
    if (!hs)
        return;
    for (uint32_t i = 0; i < hs->n; i++) {
        hosted *h = &hs->h[i];
        brs__reload_watch_free(&h->rw);
        brs__run_metrics_stop(h->met);
        if (h->st)
            brs__rt_strat_attach(h->st, NULL, NULL); /* nothing reaches it any more */
        brs__sctx_free(&h->sc);
        if (h->src_loaded)
            brs__strategy_src_free(&h->src);
        brs__an_destroy(h->rec);
        free(h->text);
        free(h->ai);
        free(h->allowed);
    }
    brs__rt_strats_destroy(hs->set);
    free(hs->h);
    free(hs);
}

/* ---- the journal ------------------------------------------------------------------- */

void brs__rt_hosted_set_journal(brs__rt_hosted *hs, int (*fn)(void *user, const void *rec, size_t len),
                                void *user)
{
    if (!hs)
        return;
    hs->jfn = fn;
    hs->juser = user;
}

int brs__rt_hosted_started(const brs__rt_hosted *hs) { return hs && hs->started; }

/* Strategy h reloads `text` in place, as the reload watch did (a replayed RELOAD). */
static int run_text(hosted *h, const char *text, size_t len, const char *why)
{
    if (!h->src.is_lua)
        return BRS_E_STATE;
    brs_error e = {0};
    int rc = brs__lua_strategy_reload(h->src.lua, text, len, &e);
    if (rc == BRS_OK)
        rc = keep_text(h, text, len);
    if (rc) {
        BRS_LOG(BRS_LOG_ERROR, "strategy", "journal: a script version in the journal does not load",
                BRS_KV_S("strategy", h->name), BRS_KV_S("step", why), BRS_KV_S("error", e.msg));
        return rc;
    }
    BRS_LOG(BRS_LOG_INFO, "strategy", "journal: the script version of the journal restored",
            BRS_KV_S("strategy", h->name), BRS_KV_S("step", why), BRS_KV_U("bytes", len));
    return BRS_OK;
}

/* Before the start: strategy h is opened again from the journal's `text`
 * (the version it started with; its file may hold a later one). */
static int reopen_text(hosted *h, const char *text, size_t len)
{
    if (!h->src.is_lua || (len == h->text_len && !memcmp(text, h->text, len)))
        return BRS_OK;
    brs_error e = {0};
    brs__strategy_src src;
    int rc = brs__strategy_src_load_text(&src, text, len, h->path, &h->lo, &e);
    if (rc == BRS_OK) {
        brs__rt_strat_attach(h->st, NULL, NULL);
        brs__sctx_free(&h->sc);
        brs__strategy_src_free(&h->src);
        h->src = src;
        if ((rc = brs__sctx_init(&h->sc, h->src.vt, &h->so, &e)) == BRS_OK)
            rc = brs__strategy_src_open(&h->src, &h->sc, &e);
        brs__rt_strat_attach(h->st, rc ? NULL : &h->sc, h->rec);
        h->rw.lua = h->src.lua;
        if (rc == BRS_OK)
            rc = keep_text(h, text, len);
    }
    if (rc) {
        BRS_LOG(BRS_LOG_ERROR, "strategy", "journal: the script version the strategy started with does not load",
                BRS_KV_S("strategy", h->name), BRS_KV_S("error", e.msg));
        return rc;
    }
    BRS_LOG(BRS_LOG_INFO, "strategy", "journal: the script version of the journal restored",
            BRS_KV_S("strategy", h->name), BRS_KV_S("step", "start"), BRS_KV_U("bytes", len));
    return BRS_OK;
}

int brs__rt_hosted_replay(brs__rt_hosted *hs, const char *rec, size_t len, brs_error *err)
{
    if (!hs || !hs->n || len < 9)
        return brs__err(err, BRS_E_CORRUPT, "a strategies' step without strategies, or cut short");
    int64_t t = get64(rec + 1);
    brs__rt_advance(hs->rt, t); /* as the live loop had before the step */
    switch (rec[0]) {
    case J_START: {
        if (hs->started || len < 13 || get32(rec + 9) != hs->n)
            return brs__err(err, BRS_E_CORRUPT, "START: %s", hs->started ? "the strategies started already"
                                                                         : "not as many strategies as configured");
        size_t at = 13;
        for (uint32_t i = 0; i < hs->n; i++) {
            uint32_t n = at + 4 <= len ? get32(rec + at) : UINT32_MAX;
            if (n > len - at - 4 || (n && !hs->h[i].src.is_lua))
                return brs__err(err, BRS_E_CORRUPT, "START: strategy %u's script", i);
            if (n && reopen_text(&hs->h[i], rec + at + 4, n))
                return brs__err(err, BRS_E_CORRUPT, "START: strategy %u's script does not load", i);
            at += 4 + n;
        }
        return brs__rt_hosted_start(hs, err);
    }
    case J_TIMER:
        brs__rt_strats_advance(hs->set, t);
        return BRS_OK;
    case J_RELOAD: {
        uint32_t i = len >= 13 ? get32(rec + 9) : UINT32_MAX;
        if (i >= hs->n || !hs->h[i].src.is_lua || run_text(&hs->h[i], rec + 13, len - 13, "reload"))
            return brs__err(err, BRS_E_CORRUPT, "RELOAD: strategy %u", i);
        if (hs->h[i].watching)
            hs->h[i].rw.n_reloads++;
        return BRS_OK;
    }
    default: return brs__err(err, BRS_E_CORRUPT, "unknown strategies' step %d", rec[0]);
    }
}

void brs__rt_hosted_sync_files(brs__rt_hosted *hs)
{
    for (uint32_t i = 0; hs && i < hs->n; i++) {
        hosted *h = &hs->h[i];
        if (!h->watching || h->sc.failed)
            continue;
        char *text = NULL;
        size_t len = 0;
        brs_error e = {0};
        if (brs__read_file_max(h->path, BRS__SCRIPT_FILE_MAX, &text, &len, &e) == BRS_OK &&
            (len != h->text_len || memcmp(text, h->text, len))) {
            int rc = brs__lua_strategy_reload(h->src.lua, text, len, &e);
            if (rc == BRS_OK) {
                h->rw.n_reloads++;
                BRS_LOG(BRS_LOG_INFO, "reload", "strategy reloaded: its file changed while the server was down",
                        BRS_KV_S("strategy", h->name), BRS_KV_S("file", h->path), BRS_KV_U("bytes", len));
                on_reloaded(h, text, len);
            } else {
                h->rw.n_refused++;
                BRS_LOG(BRS_LOG_WARN, "reload", "strategy reload refused; the running version stays",
                        BRS_KV_S("strategy", h->name), BRS_KV_S("file", h->path), BRS_KV_S("error", e.msg));
            }
        }
        free(text);
    }
}
