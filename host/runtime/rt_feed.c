/* rt_feed.c: market data replayed into a runtime that runs on the real clock
 * (`bourse serve`'s market_data): one tick file, its instruments matched to the
 * runtime's by symbol, replayed at a multiple of real time (`speed`) or all at
 * once (`max`). The venues see each event through brs__rt_replay, as in a
 * book-mode run. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"
#include "rt_feed.h"
#include "rt_internal.h"
#include "rt_strategy.h"
#include "ticks/tickfile.h"

struct brs__rt_feed {
    brs_tick_reader rd;
    int open;
    uint32_t *map;       /* file instrument -> runtime instrument (UINT32_MAX: none) */
    double speed;        /* <= 0: max */
    int64_t t0_data, t0_wall;
    const brs_market_event *pending;
    uint64_t replayed;
    int done;
};

int brs__rt_feed_read_config(brs_config *cfg, cJSON *obj, brs__rt_feed_opts *o, brs_error *err)
{
    static const char *const keys[] = {"file", "speed", "stop_at_end", NULL};
    memset(o, 0, sizeof *o);
    cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "market_data");
    if (!md || (cJSON_IsString(md) && !strcmp(md->valuestring, "none")))
        return BRS_OK;
    if (!cJSON_IsObject(md))
        return brs__err(err, BRS_E_INVAL,
                        "%s: market_data must be \"none\" or {\"file\": TICKS, \"speed\": N or \"max\"}",
                        cfg->source);
    int rc = brs__config_check_keys(cfg, md, "market_data", keys, err);
    const char *file;
    if (rc || (rc = brs__config_string(cfg, md, "market_data", "file", NULL, &file, err)))
        return rc;
    if (!file)
        return brs__err(err, BRS_E_INVAL, "%s: market_data.file is missing (a .ticks.zst file)",
                        cfg->source);
    o->file = file;
    if ((rc = brs__config_bool(cfg, md, "market_data", "stop_at_end", 0, &o->stop_at_end, err)))
        return rc;
    cJSON *sp = cJSON_GetObjectItemCaseSensitive(md, "speed");
    if (!sp || (cJSON_IsString(sp) && !strcmp(sp->valuestring, "max"))) {
        o->speed = 0; /* max */
    } else if (cJSON_IsNumber(sp) && sp->valuedouble > 0 && sp->valuedouble <= 1e9) {
        o->speed = sp->valuedouble;
    } else {
        return brs__err(err, BRS_E_INVAL,
                        "%s: market_data.speed must be \"max\" or a multiple of real time in (0, 1e9]",
                        cfg->source);
    }
    return BRS_OK;
}

int brs__rt_feed_open(brs__rt_feed **out, const brs__rt_feed_opts *o, const brs_instrument *instr,
                      uint32_t n, brs_error *err)
{
    brs__rt_feed *f = calloc(1, sizeof *f);
    *out = f;
    if (!f)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int rc = brs__tick_open(&f->rd, o->file, err);
    if (rc)
        return brs__err_prefix(err, "market_data.file");
    f->open = 1;
    f->speed = o->speed;
    f->map = malloc((f->rd.n_instr ? f->rd.n_instr : 1) * sizeof *f->map);
    if (!f->map)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    uint32_t matched = 0;
    for (uint32_t i = 0; i < f->rd.n_instr; i++) {
        f->map[i] = UINT32_MAX;
        for (uint32_t k = 0; k < n; k++)
            if (!strcmp(f->rd.instr[i].symbol, instr[k].symbol)) {
                if (f->rd.instr[i].price_scale != instr[k].price_scale)
                    return brs__err(err, BRS_E_INVAL,
                                    "market_data.file %s: %s has price_scale %lld, the instrument %lld",
                                    o->file, instr[k].symbol, (long long)f->rd.instr[i].price_scale,
                                    (long long)instr[k].price_scale);
                f->map[i] = k;
                matched++;
            }
    }
    if (!matched)
        return brs__err(err, BRS_E_NOTFOUND, "market_data.file %s: none of its instruments is configured",
                        o->file);
    BRS_LOG(BRS_LOG_INFO, "runtime", "market data replay", BRS_KV_S("file", o->file),
            BRS_KV_U("events", f->rd.n_events), BRS_KV_U("instruments_matched", matched),
            BRS_KV_F("speed", f->speed > 0 ? f->speed : 0));
    return BRS_OK;
}

/* The file's next event (the one held back by the pace first); at the end
 * the feed is done and says why it stopped. */
static const brs_market_event *feed_next(brs__rt_feed *f)
{
    const brs_market_event *e = f->pending ? f->pending : brs__tick_next(&f->rd);
    f->pending = NULL;
    if (!e) {
        f->done = 1;
        if (f->rd.iter_err.code)
            BRS_LOG(BRS_LOG_ERROR, "runtime", "market data replay stopped",
                    BRS_KV_S("error", f->rd.iter_err.msg));
        BRS_LOG(BRS_LOG_INFO, "runtime", "market data replay ended", BRS_KV_U("events", f->replayed));
    }
    return e;
}

static uint64_t feed_run(brs__rt_feed *f, brs__rt *rt, int64_t now, uint64_t max_events, int paced);

uint64_t brs__rt_feed_run(brs__rt_feed *f, brs__rt *rt, int64_t now, uint64_t max_events)
{
    return feed_run(f, rt, now, max_events, f->speed > 0);
}

uint64_t brs__rt_feed_run_exact(brs__rt_feed *f, brs__rt *rt, int64_t now, uint64_t n)
{
    return feed_run(f, rt, now, n, 0);
}

void brs__rt_feed_repace(brs__rt_feed *f)
{
    if (f)
        f->t0_wall = 0;
}

static uint64_t feed_run(brs__rt_feed *f, brs__rt *rt, int64_t now, uint64_t max_events, int paced)
{
    uint64_t n = 0;
    while (!f->done && n < max_events) {
        const brs_market_event *e = feed_next(f);
        if (!e)
            break;
        if (paced) {
            if (!f->t0_wall) {
                f->t0_wall = now;
                f->t0_data = e->ts_exchange;
            }
            double due = (double)(e->ts_exchange - f->t0_data) / f->speed;
            if ((double)(now - f->t0_wall) < due) {
                f->pending = e; /* not yet: valid until the next brs__tick_next */
                break;
            }
        }
        if (e->instrument >= f->rd.n_instr || f->map[e->instrument] == UINT32_MAX)
            continue;
        brs_market_event x = *e;
        x.instrument = f->map[e->instrument];
        brs__rt_replay(rt, &x, 0);
        brs__rt_advance(rt, now);
        f->replayed++;
        n++;
    }
    return n;
}

/* The next event for the runtime, its instrument mapped (NULL: the end). */
static const brs_market_event *next_mapped(brs__rt_feed *f, brs_market_event *tmp)
{
    for (;;) {
        const brs_market_event *e = feed_next(f);
        if (!e)
            return NULL;
        if (e->instrument >= f->rd.n_instr || f->map[e->instrument] == UINT32_MAX)
            continue;
        *tmp = *e;
        tmp->instrument = f->map[e->instrument];
        return tmp;
    }
}

uint64_t brs__rt_feed_run_sim(brs__rt_feed *f, brs__rt *rt, struct brs__rt_strats *s)
{
    brs_market_event tmp;
    const brs_market_event *e = f->done ? NULL : next_mapped(f, &tmp);
    uint64_t n = 0;
    for (;;) {
        if (BRS__UNLIKELY(rt->failed)) {
            BRS_LOG(BRS_LOG_ERROR, "runtime", "market data replay stopped", BRS_KV_S("error", rt->err.msg));
            break;
        }
        int r = brs__rt_strats_step(s, e, 0);
        if (r < 0)
            break;
        if (r) {
            f->replayed++;
            n++;
            e = next_mapped(f, &tmp);
        }
    }
    return n;
}

int64_t brs__rt_feed_first_time(brs__rt_feed *f) { return brs__tick_first_ts(&f->rd); }

int brs__rt_feed_done(const brs__rt_feed *f) { return !f || f->done; }

int brs__rt_feed_paced(const brs__rt_feed *f) { return f && f->speed > 0; }

void brs__rt_feed_close(brs__rt_feed *f)
{
    if (!f)
        return;
    if (f->open)
        brs__tick_close(&f->rd);
    free(f->map);
    free(f);
}
