/* book_mode.c: the book-mode driver, a configuration of the runtime
 * (host/runtime): tick files merged by exchange time are replayed into the
 * runtime's venues on a simulated clock that advances to the next of: a
 * replayed market event, an item of the runtime's latency queue (an order
 * reaching a venue, an answer or market data reaching the strategy), or a
 * strategy timer. The strategy is the runtime's one client; its orders take
 * the runtime's order path (a venue, or the router), and this file keeps its
 * book view, cash, positions and the recorder. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "book_mode.h"
#include "core/core.h"
#include "core/interrupt.h"
#include "runtime/exec_stats.h"
#include "runtime/runtime.h"
#include "ticks/tickfile.h"

struct brs__book_run {
    brs_config *cfg;
    /* data */
    brs_tick_reader *rd;
    uint32_t n_files;
    brs_tick_merge merge;
    brs_tick_reader **src;
    int merging;
    uint32_t n_map;
    uint32_t **map;           /* [file][file instrument] -> run instrument */
    brs_instrument *instr;
    uint32_t n_instr;
    uint64_t total_events;
    uint32_t replay_src;      /* data file of the pending replayed event */
    /* the runtime: clock, queue, venues, order path; the strategy is client 0 */
    brs__rt *rt;
    const int64_t *now;
    uint32_t client;
    int router;
    /* the strategy's view of L3 books, at its arrival time */
    brs_engine *view;
    brs_top *last_top;
    int want_l3, want_depth;
    /* run state */
    brs__sctx *sc;
    brs_an_recorder *rec;
    int64_t last_rec_ts;
    double cash;
    int64_t *pos;
    double *mark;             /* per instrument, currency */
    int64_t sample_every, next_sample;
    int flatten;
    int failed;
    int interrupted; /* stopped by SIGINT/SIGTERM at a safe point */
    brs_error err;
    uint64_t fills, orders, events;
};

#define NOW(b) (*(b)->now)

static void record_event(void *user, const brs_order_event *ev);

/* ---- the strategy's orders (brs__exec): client 0 of the runtime ----------- */

/* A strategy order as sent: counted, and in orders.csv (prices in currency). */
static void record_new_order(brs__book_run *b, const brs_order *o)
{
    b->orders++;
    if (b->rec) {
        double scale = b->instr[o->instrument].price_scale > 0 ? (double)b->instr[o->instrument].price_scale : 1;
        brs_an_order ao = {.id = o->id, .ts = NOW(b), .instrument = o->instrument, .side = o->side,
                           .type = o->type, .tif = o->tif,
                           .price = o->type == BRS_MARKET ? NAN : (double)o->price / scale,
                           .qty = o->qty};
        brs__an_order_new(b->rec, &ao);
    }
}

static int x_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    (void)sc;
    brs__book_run *b = self;
    if (!brs__rt_venues(b->rt))
        return BRS_E_UNSUPPORTED; /* no venue configured: the runtime rejects it */
    record_new_order(b, o);
    return brs__rt_submit(b->rt, b->client, o);
}

static int x_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    (void)sc;
    brs__book_run *b = self;
    return brs__rt_cancel(b->rt, b->client, id);
}

static int x_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    (void)sc;
    brs__book_run *b = self;
    return brs__rt_replace(b->rt, b->client, id, price, qty);
}

/* The strategy's mid (its own view, L2 or L3), for the router's execution figures. */
static double strategy_mid(void *user, uint32_t instrument)
{
    brs__book_run *b = user;
    const brs_top *t = b->sc ? &b->sc->instr[instrument].top : NULL;
    return t && t->bid_qty && t->ask_qty ? 0.5 * (double)(t->bid_price + t->ask_price) : NAN;
}

brs__exec brs__book_exec(brs__book_run *b)
{
    return (brs__exec){.self = b, .xSubmit = x_submit, .xCancel = x_cancel, .xReplace = x_replace};
}

const brs_instrument *brs__book_instruments(brs__book_run *b, uint32_t *n)
{
    *n = b->n_instr;
    return b->instr;
}

/* ---- configuration ------------------------------------------------------------ */

int brs__book_read_config(brs_config *cfg, brs__book_opts *o, brs_error *err)
{
    static const char *const keys[] = {"venues", "route", "latency", "flatten_at_end",
                                       "queue_capacity", "router", NULL};
    cJSON *bk = cJSON_GetObjectItemCaseSensitive(cfg->root, "book");
    if (!bk)
        bk = cJSON_AddObjectToObject(cfg->root, "book");
    if (!cJSON_IsObject(bk))
        return brs__err(err, BRS_E_INVAL, "%s: book must be an object", cfg->source);
    int rc = brs__config_check_keys(cfg, bk, "book", keys, err);
    if (rc || (rc = brs__rt_read_config(cfg, bk, "book", &o->rt, err)))
        return rc;
    int flat;
    int had = cJSON_GetObjectItemCaseSensitive(bk, "flatten_at_end") != NULL;
    if ((rc = brs__config_bool(cfg, bk, "book", "flatten_at_end", 0, &flat, err)))
        return rc;
    if (!had)
        cJSON_AddBoolToObject(bk, "flatten_at_end", 0);
    o->flatten = flat;
    return BRS_OK;
}

/* ---- setup ---------------------------------------------------------------------- */

static int open_data(brs__book_run *b, brs_error *err)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(b->cfg->root, "data");
    uint32_t n = cJSON_IsArray(data) ? (uint32_t)cJSON_GetArraySize(data) : 1;
    if (n == 0 || n > 1024)
        return brs__err(err, BRS_E_INVAL, "%s: data: 1..1024 tick files", b->cfg->source);
    b->rd = calloc(n, sizeof *b->rd);
    b->map = calloc(n, sizeof *b->map);
    b->instr = calloc(1, sizeof *b->instr);
    if (!b->rd || !b->map || !b->instr)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    b->n_map = n;
    for (uint32_t f = 0; f < n; f++) {
        cJSON *item = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, (int)f) : data;
        if (!cJSON_IsString(item))
            return brs__err(err, BRS_E_INVAL, "%s: data[%u] must be a file name", b->cfg->source, f);
        int rc = brs__tick_open(&b->rd[f], item->valuestring, err);
        if (rc)
            return rc;
        b->n_files++;
        /* decompression on another core, ahead of the loop */
        if ((rc = brs__tick_readahead(&b->rd[f], err)))
            return rc;
        brs_tick_reader *r = &b->rd[f];
        b->total_events += r->n_events;
        b->map[f] = calloc(r->n_instr ? r->n_instr : 1, sizeof **b->map);
        if (!b->map[f])
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        /* one run instrument per symbol: the same symbol in two files is one instrument */
        for (uint32_t i = 0; i < r->n_instr; i++) {
            uint32_t k;
            for (k = 0; k < b->n_instr; k++)
                if (!strcmp(b->instr[k].symbol, r->instr[i].symbol))
                    break;
            if (k == b->n_instr) {
                brs_instrument *g = realloc(b->instr, (b->n_instr + 1) * sizeof *g);
                if (!g)
                    return brs__err(err, BRS_E_NOMEM, "out of memory");
                b->instr = g;
                b->instr[k] = r->instr[i];
                b->instr[k].id = k;
                b->n_instr++;
            }
            b->map[f][i] = k;
        }
    }
    if (n > 1) {
        b->src = malloc(n * sizeof *b->src);
        if (!b->src)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        for (uint32_t f = 0; f < n; f++)
            b->src[f] = &b->rd[f];
        int rc = brs__tick_merge_init(&b->merge, b->src, n, err);
        if (rc)
            return rc;
        b->merging = 1;
    }
    return BRS_OK;
}

int brs__book_create(brs__book_run **out, brs_config *cfg, const brs__book_opts *o, brs_error *err)
{
    brs__book_run *b = calloc(1, sizeof *b);
    *out = b;
    if (!b)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    b->cfg = cfg;
    b->flatten = o->flatten;
    b->cash = o->initial_cash;
    b->router = o->rt.router;
    b->sample_every = o->sample_every_ns > 0 ? o->sample_every_ns : 1000000000LL;
    int rc = open_data(b, err);
    if (rc)
        return rc;
    b->pos = calloc(b->n_instr ? b->n_instr : 1, sizeof *b->pos);
    b->mark = calloc(b->n_instr ? b->n_instr : 1, sizeof *b->mark);
    b->last_top = calloc(b->n_instr ? b->n_instr : 1, sizeof *b->last_top);
    if (!b->pos || !b->mark || !b->last_top)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < b->n_instr; i++)
        b->mark[i] = NAN;
    /* the run's data file names, for venues[].data */
    const char *files[1024];
    cJSON *data = cJSON_GetObjectItemCaseSensitive(cfg->root, "data");
    for (uint32_t f = 0; f < b->n_files; f++) {
        cJSON *it = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, (int)f) : data;
        files[f] = cJSON_IsString(it) ? it->valuestring : NULL;
    }
    if ((rc = brs__rt_create(&b->rt, cfg, cJSON_GetObjectItemCaseSensitive(cfg->root, "book"), "book",
                             &o->rt, b->instr, b->n_instr, files, b->n_files, err)))
        return rc;
    b->now = brs__rt_clock(b->rt);
    b->view = brs__rt_market_view(b->rt);
    brs__rt_client_ops ops = {.user = b, .xOnOrder = record_event, .xMid = strategy_mid};
    return brs__rt_client_add(b->rt, &ops, brs__rt_default_route(b->rt), &b->client, err);
}

void brs__book_destroy(brs__book_run *b)
{
    if (!b)
        return;
    brs__rt_destroy(b->rt);
    if (b->merging)
        brs__tick_merge_free(&b->merge);
    for (uint32_t f = 0; f < b->n_files; f++)
        brs__tick_close(&b->rd[f]);
    for (uint32_t f = 0; b->map && f < b->n_map; f++)
        free(b->map[f]);
    free(b->src);
    free(b->map);
    free(b->rd);
    free(b->instr);
    free(b->pos);
    free(b->mark);
    free(b->last_top);
    free(b);
}

/* ---- the loop ---------------------------------------------------------------------- */

static double equity(const brs__book_run *b)
{
    double e = b->cash;
    for (uint32_t i = 0; i < b->n_instr; i++)
        if (b->pos[i] && !isnan(b->mark[i]))
            e += (double)b->pos[i] * b->mark[i];
    return e;
}

static void sample(brs__book_run *b)
{
    if (!b->rec)
        return;
    int64_t ts = NOW(b) > b->last_rec_ts ? NOW(b) : b->last_rec_ts;
    if (brs__an_sample(b->rec, ts, equity(b), b->cash, b->mark) && !b->failed)
        b->failed = brs__err(&b->err, BRS_E_INVAL, "recorder: %s", brs__an_last_error(b->rec));
    b->last_rec_ts = ts;
}

/* The runtime's market sink: the strategy learns about the market. L3 events
 * (already applied to the runtime's market view) become a QUOTE for xOnTop
 * when the top changed, and go raw to strategies that asked for L3. L2,
 * quotes, trades and bars go to the strategy runtime as they are. */
static void deliver_market(void *user, const brs_market_event *ev)
{
    brs__book_run *b = user;
    brs__sctx *sc = b->sc;
    uint32_t in = ev->instrument;
    int l3 = ev->kind >= BRS_MEV_ADD && ev->kind <= BRS_MEV_EXECUTE;
    if (NOW(b) > sc->now)
        brs__sctx_advance(sc, NOW(b));
    if (!l3) {
        brs__sctx_on_market(sc, ev);
        const brs_top *t = &sc->instr[in].top;
        if (t->bid_qty && t->ask_qty)
            b->mark[in] = (double)(t->bid_price + t->ask_price) * 0.5 /
                          (double)(b->instr[in].price_scale > 0 ? b->instr[in].price_scale : 1);
        return;
    }
    brs_top top;
    brs__engine_top(b->view, in, &top);
    brs_top *lt = &b->last_top[in];
    if (top.bid_price != lt->bid_price || top.bid_qty != lt->bid_qty ||
        top.ask_price != lt->ask_price || top.ask_qty != lt->ask_qty) {
        *lt = top;
        if (top.bid_qty && top.ask_qty) {
            b->mark[in] = (double)(top.bid_price + top.ask_price) * 0.5 /
                          (double)(b->instr[in].price_scale > 0 ? b->instr[in].price_scale : 1);
            /* the price band's reference: the mid the host sees */
            brs__rt_risk_ref(b->rt, in, (top.bid_price + top.ask_price) / 2);
        }
        brs_market_event q = {.ts_exchange = ev->ts_exchange, .ts_local = ev->ts_local,
                              .kind = BRS_MEV_QUOTE, .instrument = in, .flags = ev->flags};
        q.quote.bid_price = top.bid_price;
        q.quote.bid_qty = top.bid_qty;
        q.quote.ask_price = top.ask_price;
        q.quote.ask_qty = top.ask_qty;
        brs__sctx_on_market(sc, &q);
    }
    if (b->want_depth && (ev->flags & BRS_MEVF_LAST)) {
        brs_level lv[BRS__SCTX_DEPTH];
        size_t nb = brs__engine_depth(b->view, in, BRS_BUY, lv, BRS__SCTX_DEPTH);
        brs__sctx_set_depth(sc, in, BRS_BUY, lv, (uint32_t)nb);
        nb = brs__engine_depth(b->view, in, BRS_SELL, lv, BRS__SCTX_DEPTH);
        brs__sctx_set_depth(sc, in, BRS_SELL, lv, (uint32_t)nb);
    }
    if (b->want_l3)
        brs__sctx_on_market(sc, ev);
}

/* An order event reaches the strategy (the runtime's client callback):
 * position, cash, the recorder, then the strategy runtime (xOnOrder). */
static void record_event(void *user, const brs_order_event *ev)
{
    brs__book_run *b = user;
    if (ev->kind == BRS_OEV_FILL) {
        double scale = b->instr[ev->instrument].price_scale > 0 ? (double)b->instr[ev->instrument].price_scale : 1;
        int64_t sq = ev->side == BRS_BUY ? ev->qty : -ev->qty;
        b->pos[ev->instrument] += sq;
        b->cash -= (double)sq * (double)ev->price / scale + (double)ev->fee / scale;
        b->fills++;
    }
    if (b->rec) {
        brs_order_event rev = *ev;
        if (rev.ts < b->last_rec_ts)
            rev.ts = b->last_rec_ts;
        b->last_rec_ts = rev.ts;
        if (ev->kind != BRS_OEV_ACCEPTED && brs__an_order_event(b->rec, &rev) && !b->failed)
            b->failed = brs__err(&b->err, BRS_E_INVAL, "recorder: %s", brs__an_last_error(b->rec));
    }
    if (NOW(b) > b->sc->now)
        brs__sctx_advance(b->sc, NOW(b));
    brs__sctx_order_event(b->sc, ev);
    if (ev->kind == BRS_OEV_FILL)
        sample(b);
}

static const brs_market_event *next_replay_slow(brs__book_run *b, brs_market_event *tmp);

/* The next replayed event: one file's next record in place (no copy), or the
 * merge of several files' into tmp. */
static inline const brs_market_event *next_replay(brs__book_run *b, brs_market_event *tmp)
{
    if (BRS__LIKELY(!b->merging)) {
        const brs_market_event *e = brs__tick_next(&b->rd[0]);
        if (BRS__LIKELY(e != NULL && e->instrument < b->rd[0].n_instr))
            return e;
        if (e) /* a record for no instrument: skipped */
            return next_replay_slow(b, tmp);
        if (b->rd[0].iter_err.code && !b->failed)
            b->failed = brs__err(&b->err, b->rd[0].iter_err.code, "%s", b->rd[0].iter_err.msg);
        return NULL;
    }
    return next_replay_slow(b, tmp);
}

static const brs_market_event *next_replay_slow(brs__book_run *b, brs_market_event *tmp)
{
    if (!b->merging) {
        const brs_market_event *e = brs__tick_next(&b->rd[0]);
        if (!e && b->rd[0].iter_err.code && !b->failed)
            b->failed = brs__err(&b->err, b->rd[0].iter_err.code, "%s", b->rd[0].iter_err.msg);
        if (e && BRS__UNLIKELY(e->instrument >= b->rd[0].n_instr))
            return next_replay(b, tmp); /* a record for no instrument: skipped */
        return e;
    }
    uint32_t src;
    const brs_market_event *e = brs__tick_merge_next(&b->merge, &src);
    if (!e) {
        if (b->merge.err.code && !b->failed)
            b->failed = brs__err(&b->err, b->merge.err.code, "%s", b->merge.err.msg);
        return NULL;
    }
    if (e->instrument >= b->rd[src].n_instr)
        return next_replay(b, tmp);
    b->replay_src = src;
    *tmp = *e;
    tmp->instrument = b->map[src][e->instrument];
    /* L3 order ids are unique per file only: file k's ids get k in their top
     * bits, so the books of several files never mix up two orders */
    if (src && tmp->kind >= BRS_MEV_ADD && tmp->kind <= BRS_MEV_EXECUTE) {
        tmp->order_id ^= (uint64_t)src << 52;
        if (tmp->kind == BRS_MEV_MODIFY && tmp->aux)
            tmp->aux ^= (int64_t)((uint64_t)src << 52);
    }
    return tmp;
}

static void step_until(brs__book_run *b, int with_data, brs_progress *pr, int progress)
{
    brs__sctx *sc = b->sc;
    brs__rt *rt = b->rt;
    brs_market_event tmp;
    const brs_market_event *e = with_data ? next_replay(b, &tmp) : NULL;
    for (;;) {
        if (BRS__UNLIKELY(b->failed || sc->failed))
            break;
        if (BRS__UNLIKELY(brs__rt_failed(rt, NULL))) {
            b->failed = brs__rt_failed(rt, &b->err);
            break;
        }
        int64_t te = e ? e->ts_exchange : INT64_MAX;
        int64_t tq = brs__rt_next_time(rt);
        int64_t tt = sc->n_timers ? brs__sctx_next_timer(sc) : INT64_MAX;
        if (!e && !brs__rt_queued(rt))
            break; /* timers do not outlive the data */
        if (te <= tq && te <= tt) {
            brs__rt_replay(rt, e, b->replay_src);
            b->events++;
            e = next_replay(b, &tmp);
            if (BRS__UNLIKELY((b->events & 65535) == 0)) {
                if (with_data && brs__interrupted()) { /* a safe point: between events */
                    b->interrupted = 1;
                    break;
                }
                if (progress)
                    brs__progress_update(pr, b->events);
            }
        } else if (tq <= tt) {
            brs__rt_step(rt);
        } else {
            brs__rt_set_now(rt, tt);
            brs__sctx_advance(sc, tt);
        }
        if (b->router)
            brs__rt_tick(rt); /* the router's ack timeouts */
        if (BRS__UNLIKELY(NOW(b) >= b->next_sample)) {
            sample(b);
            b->next_sample = NOW(b) - NOW(b) % b->sample_every + b->sample_every;
        }
    }
}

int brs__book_run_loop(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, int progress,
                       brs__bt_result *res, brs_error *err)
{
    b->sc = sc;
    b->rec = rec;
    if (sc->meter) /* metrics: the router's time per order */
        brs__rt_set_route_hist(b->rt, sc->meter->h_route);
    uint32_t sub = sc->vt->subscriptions;
    b->want_l3 = (sub & BRS_SUB_L3) != 0;
    b->want_depth = (sub & BRS_SUB_DEPTH) != 0;
    brs__rt_set_market_sink(b->rt, deliver_market, b);
    brs_progress pr;
    if (progress)
        brs__progress_start(&pr, "backtest", b->total_events);
    int64_t t0 = brs__monotime_ns();
    b->next_sample = INT64_MIN;
    step_until(b, 1, &pr, progress);
    res->seconds = (double)(brs__monotime_ns() - t0) * 1e-9;
    if (progress)
        brs__progress_finish(&pr);
    res->events = b->events;
    res->total_events = b->total_events;
    if (b->interrupted) {
        res->interrupted = brs__interrupted();
        res->reached_ns = NOW(b);
    }
    if (b->failed)
        return brs__err(err, b->failed, "%s", b->err.msg);
    return BRS_OK;
}

/* The router's figures into summary.json (docs/backtesting.md "Execution figures"). */
static void xstats_summary(const brs__xstats *x, brs_an_recorder *rec, const char *const *venue_names,
                         uint32_t n_venues)
{
    brs__an_set_extra(rec, "max_abs_inventory", (double)x->max_abs);
    brs__an_set_extra(rec, "inventory_limit", x->inventory_limit);
    brs__an_set_extra(rec, "spread_captured", x->spread_captured);
    brs__an_set_extra(rec, "exec_cost_bps", x->cost_den > 0 ? x->cost_num / x->cost_den * 1e4 : NAN);
    brs__an_set_extra(rec, "parent_orders", (double)x->parents);
    brs__an_set_extra(rec, "parents_rejected", (double)x->rejected);
    for (uint32_t i = 0; i < n_venues && i < BRS__XS_MAX_VENUES; i++) {
        char k[96];
        snprintf(k, sizeof k, "filled_qty_%s", venue_names[i]);
        brs__an_set_extra(rec, k, (double)x->venue_qty[i]);
    }
}

int brs__book_finish(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, brs_error *err)
{
    (void)rec;
    /* the strategy stopped and cancelled its orders: let that play out, then flatten */
    step_until(b, 0, NULL, 0);
    if (b->flatten && brs__rt_venues(b->rt)) {
        for (uint32_t i = 0; i < b->n_instr; i++) {
            if (!b->pos[i])
                continue;
            brs_order o = {.id = sc->next_order_id++, .instrument = i, .qty = llabs(b->pos[i]),
                           .side = b->pos[i] > 0 ? BRS_SELL : BRS_BUY, .type = BRS_MARKET,
                           .tif = BRS_IOC, .ts = NOW(b)};
            x_submit(b, sc, &o);
        }
        step_until(b, 0, NULL, 0);
    }
    sample(b);
    brs__xstats *xs = brs__rt_xstats(b->rt);
    if (xs && rec) {
        const char *names[BRS__XS_MAX_VENUES];
        uint32_t nv = brs__rt_venues(b->rt);
        for (uint32_t i = 0; i < nv && i < BRS__XS_MAX_VENUES; i++)
            names[i] = brs__rt_venue_name(b->rt, i);
        xstats_summary(xs, rec, names, nv);
    }
    if (b->failed)
        return brs__err(err, b->failed, "%s", b->err.msg);
    return BRS_OK;
}

uint64_t brs__book_fills(const brs__book_run *b, uint64_t *orders)
{
    if (orders)
        *orders = b->orders;
    return b->fills;
}
