/* paper.c: see paper.h. The venue's host services are plugin/venue_host.c's,
 * with the strategy's clock and reports going to it. With latencies set,
 * order actions reach the venue and its reports reach the strategy that much
 * later (a heap of pending items, carried out by brs__paper_poll as the live
 * clock passes their due time); without, at once. */
#include "record/paper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define PP(ctx) ((brs__paper *)(void *)(ctx))

static int64_t p_now(brs_ctx *ctx)
{
    brs__paper *p = PP(ctx);
    return p->sc ? p->sc->now : 0;
}

static void p_log(brs_ctx *ctx, int level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    brs__paper *p = PP(ctx);
    if (level < BRS_LOG_INFO || (p->quiet && level < BRS_LOG_WARN))
        return;
    fprintf(stderr, "bourse live: [paper %s] %s: %s\n", p->name, names[level & 3], msg ? msg : "");
}

enum { PAPER_SUBMIT = 1, PAPER_CANCEL, PAPER_REPLACE, PAPER_REPORT };

static int before(const brs__paper_item *a, const brs__paper_item *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int push(brs__paper *p, brs__paper_item *it)
{
    if (!p->pending || p->n_pending == BRS__PAPER_MAX_PENDING)
        return BRS_E_LIMIT;
    it->seq = p->seq++;
    uint32_t i = p->n_pending++;
    while (i > 0) {
        uint32_t up = (i - 1) / 2;
        if (!before(it, &p->pending[up]))
            break;
        p->pending[i] = p->pending[up];
        i = up;
    }
    p->pending[i] = *it;
    return BRS_OK;
}

static brs__paper_item pop(brs__paper *p)
{
    brs__paper_item top = p->pending[0], last = p->pending[--p->n_pending];
    uint32_t i = 0, n = p->n_pending;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&p->pending[c + 1], &p->pending[c]))
            c++;
        if (!before(&p->pending[c], &last))
            break;
        p->pending[i] = p->pending[c];
        i = c;
    }
    if (n)
        p->pending[i] = last;
    return top;
}

static int report(brs__paper *p, brs_order_event *e)
{
    if (e->kind == BRS_OEV_FILL) {
        p->n_fills++;
        p->fees += e->fee;
        if (e->instrument < p->vc.n_instr)
            p->fees_by_instr[e->instrument] += e->fee;
    }
    return brs__sctx_order_event(p->sc, e);
}

/* A fill, cancel or reject of ours: to the strategy, after response_ns. */
static int p_emit_order(brs_ctx *c, const brs_order_event *ev)
{
    brs__paper *p = PP(c);
    if (!ev)
        return BRS_E_INVAL;
    if (!p->sc)
        return BRS_E_STATE;
    brs_order_event e = *ev;
    if (!e.ts)
        e.ts = p->sc->now;
    if (p->response_ns > 0) {
        brs__paper_item it = {.due = p->sc->now + p->response_ns, .kind = PAPER_REPORT, .report = e};
        if (push(p, &it) == BRS_OK)
            return BRS_OK;
        /* the queue is full: late, but never lost */
    }
    return report(p, &e);
}

/* The venue's own view of the market: the strategy already has the feed's. */
static int p_emit_market(brs_ctx *c, const brs_market_event *ev)
{
    (void)c;
    return ev ? BRS_OK : BRS_E_INVAL;
}

int brs__paper_open(brs__paper *p, const char *plugin, const cJSON *params,
                    const brs_instrument *instr, uint32_t n_instr, int quiet, const char *where,
                    brs_error *err)
{
    memset(p, 0, sizeof *p);
    brs__venue_ctx_init(&p->vc, params, instr, n_instr, p_now, p_log, p_emit_order, p_emit_market);
    p->quiet = quiet;
    snprintf(p->name, sizeof p->name, "%s", plugin);
    p->fees_by_instr = calloc(n_instr ? n_instr : 1, sizeof *p->fees_by_instr);
    if (!p->fees_by_instr)
        return brs__err(err, BRS_E_NOMEM, "%s: out of memory", where);
    char path[4096];
    int rc = brs__plugin_find(plugin, NULL, path, sizeof path, err);
    if (!rc)
        rc = brs__plugin_load(&p->plugin, path, err);
    if (rc) {
        free(p->fees_by_instr);
        p->fees_by_instr = NULL;
        return brs__err_prefix(err, "%s", where);
    }
    if (!(p->vt = brs__plugin_venue(&p->plugin))) {
        rc = brs__err(err, BRS_E_BADKIND, "%s: %s is a %s plugin, not a venue", where, path,
                      brs__plugin_kind_name(p->plugin.desc->kind));
        brs__plugin_unload(&p->plugin);
        free(p->fees_by_instr);
        p->fees_by_instr = NULL;
        return rc;
    }
    if ((rc = brs__plugin_instance_open(&p->inst, &p->plugin, &p->vc.host, (brs_ctx *)(void *)p, err))) {
        brs__plugin_unload(&p->plugin);
        free(p->fees_by_instr);
        p->fees_by_instr = NULL;
        return brs__err_prefix(err, "%s", where);
    }
    return BRS_OK;
}

void brs__paper_attach(brs__paper *p, brs__sctx *sc) { p->sc = sc; }

/* When an action sent now reaches the venue: after its latency, and never
 * before one sent earlier (one connection delivers in order, so a quick cancel
 * cannot overtake the slower new order it cancels; an action without latency
 * goes straight to the venue only when nothing is still on its way). */
static int64_t action_due(brs__paper *p, int64_t now, int64_t latency)
{
    int64_t due = now + latency;
    if (due < p->last_action_due)
        due = p->last_action_due;
    p->last_action_due = due;
    return due;
}

static int x_submit(void *self, brs__sctx *sc, const brs_order *o)
{
    brs__paper *p = self;
    brs_order c = *o;
    if (!c.stp)
        c.stp = BRS_STP_CANCEL_NEWEST; /* our own orders never trade with each other */
    if (p->order_ns <= 0 && p->last_action_due <= sc->now)
        return p->vt->xSubmit(p->inst.self, &c);
    brs__paper_item it = {.due = action_due(p, sc->now, p->order_ns), .kind = PAPER_SUBMIT, .order = c};
    return push(p, &it); /* BRS_E_LIMIT: the runtime rejects it */
}

static int x_cancel(void *self, brs__sctx *sc, uint64_t id)
{
    brs__paper *p = self;
    if (p->cancel_ns <= 0 && p->last_action_due <= sc->now)
        return p->vt->xCancel(p->inst.self, id);
    brs__paper_item it = {.due = action_due(p, sc->now, p->cancel_ns), .kind = PAPER_CANCEL, .id = id};
    return push(p, &it);
}

static int x_replace(void *self, brs__sctx *sc, uint64_t id, int64_t price, int64_t qty)
{
    brs__paper *p = self;
    if (p->cancel_ns <= 0 && p->last_action_due <= sc->now)
        return p->vt->xReplace(p->inst.self, id, price, qty);
    brs__paper_item it = {.due = action_due(p, sc->now, p->cancel_ns), .kind = PAPER_REPLACE,
                          .id = id, .price = price, .qty = qty};
    return push(p, &it);
}

int brs__paper_set_latency(brs__paper *p, int64_t order_ns, int64_t cancel_ns, int64_t response_ns)
{
    p->order_ns = order_ns;
    p->cancel_ns = cancel_ns;
    p->response_ns = response_ns;
    if ((order_ns > 0 || cancel_ns > 0 || response_ns > 0) && !p->pending) {
        p->pending = malloc(BRS__PAPER_MAX_PENDING * sizeof *p->pending);
        if (!p->pending)
            return BRS_E_NOMEM;
    }
    return BRS_OK;
}

int64_t brs__paper_next_due(const brs__paper *p)
{
    return p->n_pending ? p->pending[0].due : INT64_MAX;
}

/* An order the venue refuses outright is REJECTED to the strategy, after the
 * response latency, as in a book-mode backtest. A refused cancel or replace
 * says nothing: the order is gone already and its fill is on the way. */
static void refused(brs__paper *p, const brs__paper_item *it, int rc)
{
    if (it->kind != PAPER_SUBMIT)
        return;
    brs_order_event e = {.kind = BRS_OEV_REJECTED, .reason = rc, .ts = p->sc->now,
                         .order_id = it->order.id, .side = it->order.side,
                         .instrument = it->order.instrument, .price = it->order.price,
                         .qty = it->order.qty};
    p_emit_order((brs_ctx *)(void *)p, &e);
}

void brs__paper_poll(brs__paper *p, int64_t now)
{
    if (p->delivering || !p->sc)
        return; /* a report delivered below led the strategy to act: later */
    p->delivering = 1;
    while (p->n_pending && p->pending[0].due <= now) {
        brs__paper_item it = pop(p);
        int rc = BRS_OK;
        switch (it.kind) {
        case PAPER_SUBMIT: rc = p->vt->xSubmit(p->inst.self, &it.order); break;
        case PAPER_CANCEL: rc = p->vt->xCancel(p->inst.self, it.id); break;
        case PAPER_REPLACE: rc = p->vt->xReplace(p->inst.self, it.id, it.price, it.qty); break;
        default: report(p, &it.report); break;
        }
        if (rc != BRS_OK)
            refused(p, &it, rc);
    }
    p->delivering = 0;
}

static void x_market(void *self, brs__sctx *sc, const brs_market_event *ev)
{
    (void)sc;
    brs__paper *p = self;
    if (p->vt->xOnMarket)
        p->vt->xOnMarket(p->inst.self, ev);
}

brs__exec brs__paper_exec(brs__paper *p)
{
    brs__exec ex = {.self = p, .xSubmit = x_submit, .xCancel = x_cancel, .xReplace = x_replace,
                    .xOnMarket = x_market};
    return ex;
}

void brs__paper_close(brs__paper *p)
{
    p->sc = NULL; /* the strategy may be gone: nothing the venue says now reaches it */
    free(p->pending);
    p->pending = NULL;
    free(p->fees_by_instr);
    p->fees_by_instr = NULL;
    p->n_pending = 0;
    brs__plugin_instance_close(&p->inst);
    brs__plugin_unload(&p->plugin);
    p->vt = NULL;
    p->sc = NULL;
}
