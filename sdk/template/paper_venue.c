/* paper_venue.c: a template venue. It fills every order in full at its limit
 * price the moment it arrives, which is all a paper-trading venue needs, and
 * shows how a venue reports back through the host services. */
#include <stdio.h>
#include <string.h>

#include <bourse/bourse.h>

typedef struct paper_venue {
    const brs_host *host; /* valid until xClose */
    brs_ctx *ctx;
} paper_venue;

static int pv_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    paper_venue *v = self; /* the host allocated it, zeroed */
    if (!BRS_HOST_HAS(host, xEmitOrderEvent)) {
        snprintf(err->msg, sizeof err->msg, "host cannot take order events");
        return BRS_E_UNSUPPORTED;
    }
    v->host = host;
    v->ctx = ctx;
    return BRS_OK;
}

static void pv_close(void *self)
{
    (void)self; /* nothing to free: the host frees the instance memory */
}

static int pv_emit(paper_venue *v, const brs_order *o, uint8_t kind, int64_t qty, int64_t leaves)
{
    brs_order_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.side = o->side;
    ev.instrument = o->instrument;
    ev.order_id = o->id;
    ev.ts = v->host->xNow(v->ctx);
    ev.price = o->price;
    ev.qty = qty;
    ev.leaves = leaves;
    ev.cum_qty = kind == BRS_OEV_FILL ? qty : 0;
    ev.liquidity = kind == BRS_OEV_FILL ? BRS_LIQ_TAKER : BRS_LIQ_NONE;
    return v->host->xEmitOrderEvent(v->ctx, &ev);
}

static int pv_submit(void *self, const brs_order *o)
{
    paper_venue *v = self;
    if (o->qty <= 0)
        return BRS_E_INVAL;
    int rc = pv_emit(v, o, BRS_OEV_ACCEPTED, 0, o->qty);
    return rc != BRS_OK ? rc : pv_emit(v, o, BRS_OEV_FILL, o->qty, 0);
}

/* Orders never rest here, so there is never anything to cancel or replace. */
static int pv_cancel(void *self, uint64_t id)
{
    (void)self;
    (void)id;
    return BRS_E_UNKNOWNORDER;
}

static int pv_replace(void *self, uint64_t id, int64_t price, int64_t qty)
{
    (void)self;
    (void)id;
    (void)price;
    (void)qty;
    return BRS_E_UNKNOWNORDER;
}

static const brs_venue_vtable pv_vtable = {
    .size = sizeof(brs_venue_vtable),
    .xOpen = pv_open,
    .xClose = pv_close,
    .xSubmit = pv_submit,
    .xCancel = pv_cancel,
    .xReplace = pv_replace,
};

BRS_PLUGIN(.kind = BRS_KIND_VENUE, .name = "paper_venue", .version = "1.0.0",
           .description = "template venue: fills every order at its limit price",
           .instance_size = sizeof(paper_venue), .vtable = &pv_vtable)
