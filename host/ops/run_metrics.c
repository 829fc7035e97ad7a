/* run_metrics.c: the Prometheus series of a strategy run (run_metrics.h).
 * The hot path is the strategy runtime's: it counts order events in the
 * meter and times one callback in `every` (a countdown it keeps whether
 * metrics are on or off, so on costs nothing more per callback); everything
 * else (callbacks run, positions, PnL, inventory) is read from the runtime's
 * own books when the loop publishes, at most every 100 ms. */
#include "ops/run_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"
#include "ops/http.h"
#include "ops/metrics.h"

#define SYNC_EVERY_NS 100000000LL

typedef struct inst_series {
    brs__gauge *pos, *realized, *unrealized, *inventory;
} inst_series;

struct brs__run_metrics {
    brs__mreg *reg;
    int own_reg;      /* reg made here (and served by http); 0: a server's */
    brs__http *http;
    brs__sctx *sc;
    brs__sctx_meter meter;
    int64_t next_sync;
    brs__counter *orders, *accepted, *fills, *cancels, *rejects, *callbacks;
    brs__gauge *open_orders, *lag, *up;
    inst_series *is;
    int has_venue;
    int64_t lag_ns;  /* last event's, loop thread */
    int venue_up;
};

static void tick(void *ud, int64_t now_mono) { brs__run_metrics_sync(ud, now_mono, 0); }

static int reg_all(brs__run_metrics *m, const brs__run_metrics_opts *o, brs_error *err)
{
    brs__mreg *r = m->reg;
    brs__sctx *sc = m->sc;
    char lab[256];
    snprintf(lab, sizeof lab, "mode=%s,strategy=%s", o->mode, sc->name);
    m->orders = brs__mreg_counter(r, "bourse_orders_total", "Orders the strategy submitted.", lab);
    m->accepted = brs__mreg_counter(r, "bourse_order_acks_total", "Orders a venue accepted.", lab);
    m->fills = brs__mreg_counter(r, "bourse_fills_total", "Fills of the strategy's orders.", lab);
    m->cancels = brs__mreg_counter(r, "bourse_cancels_total", "The strategy's orders cancelled.", lab);
    m->callbacks = brs__mreg_counter(r, "bourse_strategy_callbacks_total", "Strategy callbacks run.", lab);
    m->open_orders = brs__mreg_gauge(r, "bourse_open_orders", "Orders open now.", lab);
    char rl[300];
    snprintf(rl, sizeof rl, "%s,reason=order", lab);
    m->rejects = brs__mreg_counter(r, "bourse_rejects_total", "Refusals by kind.", rl);
    m->meter.h_cb = brs__mreg_histogram(r, "bourse_strategy_callback_seconds",
                                        "Time in a strategy callback (one in `every` timed).", lab, NULL, 0);
    m->meter.h_route = brs__mreg_histogram(r, "bourse_router_decision_seconds",
                                           "Time the smart order router takes to place one order.", lab, NULL, 0);
    if (!m->orders || !m->accepted || !m->fills || !m->cancels || !m->callbacks || !m->open_orders || !m->rejects ||
        !m->meter.h_cb || !m->meter.h_route)
        return brs__err(err, BRS_E_INVAL, "metrics: registration failed (strategy name '%s' as a label?)", sc->name);
    m->is = calloc(sc->n_instr ? sc->n_instr : 1, sizeof *m->is);
    if (!m->is)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < sc->n_instr; i++) {
        char il[400];
        snprintf(il, sizeof il, "%s,instrument=%s", lab, sc->instr[i].def.symbol);
        inst_series *x = &m->is[i];
        x->pos = brs__mreg_gauge(r, "bourse_position", "Position, in quantity units (negative: short).", il);
        x->realized = brs__mreg_gauge(r, "bourse_realized_pnl", "Realized PnL (average cost), quote currency.", il);
        x->unrealized = brs__mreg_gauge(r, "bourse_unrealized_pnl",
                                        "Unrealized PnL at the strategy's mark (mid, else last price), quote currency.", il);
        x->inventory = brs__mreg_gauge(r, "bourse_inventory_value",
                                       "Position valued at the same mark, quote currency.", il);
        if (!x->pos || !x->realized || !x->unrealized || !x->inventory)
            return brs__err(err, BRS_E_INVAL, "metrics: instrument '%s' cannot be a label", sc->instr[i].def.symbol);
    }
    if (o->venue) {
        char vl[128];
        snprintf(vl, sizeof vl, "venue=%s", o->venue);
        m->lag = brs__mreg_gauge(r, "bourse_feed_lag_seconds",
                                 "Local receive time minus exchange time of the last market event.", vl);
        m->up = brs__mreg_gauge(r, "bourse_venue_up", "1 while the venue's feed is connected.", vl);
        if (!m->lag || !m->up)
            return brs__err(err, BRS_E_INVAL, "metrics: venue '%s' cannot be a label", o->venue);
        m->has_venue = 1;
    }
    return m->own_reg ? brs__mreg_add_process(r) : BRS_OK;
}

int brs__run_metrics_start(brs__run_metrics **out, const brs__run_metrics_opts *o, brs__sctx *sc, brs_error *err)
{
    *out = NULL;
    brs__run_metrics *m = calloc(1, sizeof *m);
    if (m)
        m->own_reg = !o->reg;
    if (!m || !(m->reg = o->reg ? o->reg : brs__mreg_new())) {
        free(m);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    m->sc = sc;
    m->meter.every = o->every ? o->every : 1;
    m->meter.tick = tick;
    m->meter.ud = m;
    int rc = reg_all(m, o, err);
    brs__http_opts ho = {.listen = o->listen, .metrics = m->reg};
    if (!rc && m->own_reg)
        rc = brs__http_start(&m->http, &ho, err);
    if (rc) {
        brs__err_prefix(err, "metrics.listen");
        if (m->own_reg)
            brs__mreg_free(m->reg);
        free(m->is);
        free(m);
        return rc;
    }
    brs__sctx_set_meter(sc, &m->meter);
    *out = m;
    return BRS_OK;
}

void brs__run_metrics_feed(brs__run_metrics *m, const brs_market_event *ev)
{
    if (m && ev->ts_exchange && ev->ts_local)
        m->lag_ns = ev->ts_local - ev->ts_exchange;
}

void brs__run_metrics_venue_up(brs__run_metrics *m, int up)
{
    if (m)
        m->venue_up = up;
}

void brs__run_metrics_sync(brs__run_metrics *m, int64_t now_mono, int force)
{
    if (!m || (!force && now_mono < m->next_sync))
        return;
    m->next_sync = now_mono + SYNC_EVERY_NS;
    const brs__sctx *sc = m->sc;
    const brs__sctx_meter *t = &m->meter;
    brs__counter_set(m->orders, sc->n_submitted);
    brs__counter_set(m->accepted, t->accepted);
    brs__counter_set(m->fills, t->fills);
    brs__counter_set(m->cancels, t->cancels);
    brs__counter_set(m->rejects, t->rejects);
    brs__counter_set(m->callbacks, brs__sctx_meter_callbacks(sc));
    brs__gauge_set(m->open_orders, sc->n_orders);
    for (uint32_t i = 0; i < sc->n_instr; i++) {
        const brs__sctx_instr *in = &sc->instr[i];
        double scale = in->def.price_scale > 0 ? (double)in->def.price_scale : 1.0;
        brs_position p; /* the runtime's own marks: what the strategy sees */
        brs__sctx_position(sc, i, &p);
        brs__gauge_set(m->is[i].pos, (double)p.qty);
        brs__gauge_set(m->is[i].realized, (double)p.realized_pnl / scale);
        brs__gauge_set(m->is[i].unrealized, (double)p.unrealized_pnl / scale);
        /* the position at the same mark: its cost plus what it gained */
        brs__gauge_set(m->is[i].inventory, ((double)in->pos_cost + (double)p.unrealized_pnl) / scale);
    }
    if (m->has_venue) {
        brs__gauge_set(m->lag, (double)m->lag_ns / 1e9);
        brs__gauge_set(m->up, m->venue_up);
    }
}

int brs__run_metrics_port(const brs__run_metrics *m) { return m ? brs__http_port(m->http) : 0; }

void brs__run_metrics_stop(brs__run_metrics *m)
{
    if (!m)
        return;
    if (m->sc->meter == &m->meter)
        brs__sctx_set_meter(m->sc, NULL);
    brs__http_stop(m->http);
    if (m->own_reg)
        brs__mreg_free(m->reg);
    free(m->is);
    free(m);
}
