/* book_mode.c: the book-mode driver, a configuration of the runtime
 * (host/runtime): tick files merged by exchange time are replayed into the
 * runtime's venues on a simulated clock that advances to the next of: a
 * replayed market event, an item of the runtime's latency queue (an order
 * reaching a venue, an answer or market data reaching the strategy), or a
 * strategy timer (the runtime's step, host/runtime/rt_strategy.c). The
 * strategy is the runtime's one hosted strategy (client 0): its orders take
 * the runtime's order path (a venue, or the router); its view of the book,
 * cash, positions and recorder are the runtime's strategy host's, as in
 * `bourse serve`. This file owns the data, the loop and flattening. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "book/book.h"
#include "book_mode.h"
#include "core/core.h"
#include "core/interrupt.h"
#include "runtime/exec_stats.h"
#include "runtime/runtime.h"
#include "runtime/rt_strategy.h"
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
    /* the runtime: clock, queue, venues, order path; the strategy is its one
     * hosted strategy (runtime/rt_strategy.c: its view, cash, positions, the
     * recorder), client 0 */
    brs__rt *rt;
    const int64_t *now;
    brs__rt_strats *strats;
    brs__rt_strat *st;
    /* run state */
    int flatten;
    int failed;
    int interrupted; /* stopped by SIGINT/SIGTERM at a safe point */
    brs_error err;
    uint64_t events;
};

#define NOW(b) (*(b)->now)

int64_t brs__book_start(brs__book_run *b)
{
    int64_t t = INT64_MAX;
    for (uint32_t f = 0; f < b->n_files; f++) {
        int64_t x = brs__tick_first_ts(&b->rd[f]);
        if (x != INT64_MIN && x < t)
            t = x;
    }
    if (t == INT64_MAX || t <= NOW(b))
        return NOW(b);
    brs__rt_set_now(b->rt, t);
    return t;
}

brs__exec brs__book_exec(brs__book_run *b) { return brs__rt_strat_exec(b->st); }

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
    int rc = open_data(b, err);
    if (rc)
        return rc;
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
    if ((rc = brs__rt_strats_create(&b->strats, b->rt, err)))
        return rc;
    return brs__rt_strats_add(b->strats, brs__rt_default_route(b->rt), o->initial_cash,
                              o->sample_every_ns, &b->st, err);
}

void brs__book_destroy(brs__book_run *b)
{
    if (!b)
        return;
    brs__rt_strats_destroy(b->strats);
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
    free(b);
}

/* ---- the loop ---------------------------------------------------------------------- */

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
    brs__sctx *sc = b->st->sc;
    brs__rt *rt = b->rt;
    brs_market_event tmp;
    const brs_market_event *e = with_data ? next_replay(b, &tmp) : NULL;
    int runs = !b->merging && brs__rt_strats_runs(b->strats);
    for (;;) {
        if (BRS__UNLIKELY(b->failed || sc->failed))
            break;
        if (BRS__UNLIKELY(b->st->failed)) {
            b->failed = brs__err(&b->err, b->st->failed, "%s", b->st->err.msg);
            break;
        }
        if (BRS__UNLIKELY(*b->strats->rt_failed)) {
            b->failed = brs__rt_failed(rt, &b->err);
            break;
        }
        /* the rest of the decoded block at once while nothing but the replay
         * would run (the interrupt and progress points stay every 65536 events) */
        size_t k = 0;
        if (runs && BRS__LIKELY(e != NULL)) {
            brs_tick_reader *rd = &b->rd[0];
            size_t left = (size_t)(rd->end - e), lim = 65536 - (b->events & 65535);
            k = brs__rt_strats_replay_run(b->strats, e, left < lim ? left : lim, 0, rd->n_instr);
            if (k) {
                b->events += k;
                rd->cur = e + k;
                e = next_replay(b, &tmp);
            }
        }
        if (!k) {
            int r = brs__rt_strats_step(b->strats, e, b->replay_src);
            if (r < 0)
                break;
            if (!r)
                continue;
            b->events++;
            e = next_replay(b, &tmp);
        }
        if (BRS__UNLIKELY((b->events & 65535) == 0)) {
            if (with_data && brs__interrupted()) { /* a safe point: between events */
                b->interrupted = 1;
                break;
            }
            if (progress)
                brs__progress_update(pr, b->events);
        }
    }
}

int brs__book_run_loop(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, int progress,
                       brs__bt_result *res, brs_error *err)
{
    brs__rt_strat_attach(b->st, sc, rec);
    if (sc->meter) /* metrics: the router's time per order */
        brs__rt_set_route_hist(b->rt, sc->meter->h_route);
    brs_progress pr;
    if (progress)
        brs__progress_start(&pr, "backtest", b->total_events);
    int timing = getenv("BOURSE_BT_TIMING") != NULL;
    struct timespec c0, c1;
    if (timing)
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int64_t t0 = brs__monotime_ns();
    step_until(b, 1, &pr, progress);
    res->seconds = (double)(brs__monotime_ns() - t0) * 1e-9;
    if (timing) { /* which thread bounds the run: the loop's CPU time against the decoder's, and who waited */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        fprintf(stderr, "timing: loop thread %.3f s CPU for %llu events (%.1f ns an event)\n",
                (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9,
                (unsigned long long)b->events,
                b->events ? ((double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec)) / (double)b->events : 0.0);
        for (uint32_t f = 0; f < b->n_files; f++) {
            brs_tick_ahead_stats a;
            if (brs__tick_ahead_stats(&b->rd[f], &a))
                fprintf(stderr, "timing: data[%u] read-ahead: %.3f s CPU decoding; %llu blocks, the loop waited for"
                        " one %llu times (%.3f s), the decoder for a free slot %llu times (%.3f s)\n", f,
                        (double)a.decoder_cpu_ns * 1e-9, (unsigned long long)a.blocks,
                        (unsigned long long)a.loop_waits, (double)a.loop_wait_ns * 1e-9,
                        (unsigned long long)a.decoder_waits, (double)a.decoder_wait_ns * 1e-9);
        }
    }
    if (progress)
        brs__progress_finish(&pr);
    res->events = b->events;
    res->total_events = b->total_events;
    if (b->interrupted) {
        res->interrupted = brs__interrupted();
        res->reached_ns = NOW(b);
    }
    if (!b->failed && b->st->failed)
        b->failed = brs__err(&b->err, b->st->failed, "%s", b->st->err.msg);
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
        const int64_t *pos = b->st->pos;
        for (uint32_t i = 0; i < b->n_instr; i++) {
            if (!pos[i])
                continue;
            brs_order o = {.id = sc->next_order_id++, .instrument = i, .qty = llabs(pos[i]),
                           .side = pos[i] > 0 ? BRS_SELL : BRS_BUY, .type = BRS_MARKET,
                           .tif = BRS_IOC, .ts = NOW(b)};
            brs__rt_strat_submit(b->st, &o);
        }
        step_until(b, 0, NULL, 0);
    }
    brs__rt_strat_sample(b->st);
    if (!b->failed && b->st->failed)
        b->failed = brs__err(&b->err, b->st->failed, "%s", b->st->err.msg);
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
        *orders = b->st->orders;
    return b->st->fills;
}
