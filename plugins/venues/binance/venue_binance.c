/* venue_binance.c: the Binance USD-M market-data venue plugin. It keeps one L2
 * book per symbol with Binance's snapshot-and-update rules, resyncs on gaps and
 * reconnects by itself, and emits normalized events through the host in xPoll.
 * Order entry is not wired to the exchange: strategies paper-trade against the
 * host's local book (xSubmit and friends answer BRS_E_UNSUPPORTED).
 *
 * Parameters (run config, all strings unless said):
 *   ws_url        wss://fstream.binance.com/stream            (required)
 *   rest_url      https://fapi.binance.com/fapi/v1/depth?symbol={SYMBOL}&limit=1000
 *   symbols       "SUSHIUSDT,CTKUSDT" (default: every instrument of the run)
 *   depth_stream  "@depth@100ms"
 *   kline_interval "1m", "1h", ...: also subscribe to klines; closed ones are BAR events
 *   qty_decimals  int, quantity decimals (default: inferred from the data)
 *   subscribe     int 0/1, send SUBSCRIBE on each connect (default 1)
 *   ping_ms, idle_timeout_ms, backoff_min_ms, backoff_max_ms, max_message  ints
 *   tls_verify    int 0/1 (default 1), ca_file  string */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bourse/plugin.h>
#include <bourse/venue.h>

#include "feeds/binance_live.h"

typedef struct bnv {
    const brs_host *host;
    brs_ctx *ctx;
    brs__bn_live live;
    int live_open;
    uint32_t host_id[BRS__BN_LIVE_MAX_SYMBOLS]; /* feed instrument -> host instrument */
    uint32_t n;
} bnv;

static int emit(void *ud, const brs_market_event *ev)
{
    bnv *v = ud;
    if (ev->instrument >= v->n)
        return 0;
    brs_market_event e = *ev;
    e.instrument = v->host_id[ev->instrument];
    v->host->xEmitMarketEvent(v->ctx, &e);
    return 0; /* a consumer's refusal must not stall the feed */
}

static void log_line(void *ud, int level, const char *msg)
{
    bnv *v = ud;
    v->host->xLog(v->ctx, level, msg);
}

static int perr(brs_error *err, int code, const char *fmt, const char *a)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof err->msg, fmt, a ? a : "");
    }
    return code;
}

static int64_t pint(bnv *v, const char *name, int64_t def)
{
    int64_t x;
    return v->host->xParamInt(v->ctx, name, &x) == BRS_OK ? x : def;
}

static const char *pstr(bnv *v, const char *name, const char *def)
{
    const char *s;
    return v->host->xParamString(v->ctx, name, &s) == BRS_OK ? s : def;
}

static int dec_of_scale(int64_t scale)
{
    int d = 0;
    while (scale > 1 && scale % 10 == 0) {
        scale /= 10;
        d++;
    }
    return scale == 1 ? d : -1;
}

static int bnv_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    bnv *v = self;
    v->host = host;
    v->ctx = ctx;
    const char *ws_url = pstr(v, "ws_url", NULL);
    const char *rest_url =
        pstr(v, "rest_url", "https://fapi.binance.com/fapi/v1/depth?symbol={SYMBOL}&limit=1000");
    if (!ws_url)
        return perr(err, BRS_E_INVAL, "binance: parameter ws_url is required%s", NULL);
    /* symbols: the parameter, or every instrument of the run */
    const char *names[BRS__BN_LIVE_MAX_SYMBOLS];
    char list[BRS__BN_LIVE_MAX_SYMBOLS * BRS_SYMBOL_MAX];
    const char *sp = pstr(v, "symbols", NULL);
    uint32_t n = 0;
    if (sp) {
        snprintf(list, sizeof list, "%s", sp);
        for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            if (n == BRS__BN_LIVE_MAX_SYMBOLS)
                return perr(err, BRS_E_LIMIT, "binance: too many symbols in '%s'", sp);
            names[n++] = t;
        }
    } else {
        uint32_t cnt = host->xInstrumentCount(ctx);
        brs_instrument in;
        size_t off = 0;
        for (uint32_t i = 0; i < cnt && n < BRS__BN_LIVE_MAX_SYMBOLS; i++)
            if (host->xInstrument(ctx, i, &in) == BRS_OK) {
                size_t l = strlen(in.symbol) + 1;
                if (off + l > sizeof list)
                    break;
                memcpy(list + off, in.symbol, l);
                names[n++] = list + off;
                off += l;
            }
    }
    if (n == 0)
        return perr(err, BRS_E_INVAL, "binance: no symbols (set 'symbols' or give the run instruments)%s", NULL);
    int pdec[BRS__BN_LIVE_MAX_SYMBOLS], qdec[BRS__BN_LIVE_MAX_SYMBOLS];
    int qd = (int)pint(v, "qty_decimals", -1);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id;
        if (host->xInstrumentFind(ctx, names[i], &id) != BRS_OK)
            return perr(err, BRS_E_NOTFOUND, "binance: symbol %s is not an instrument of this run", names[i]);
        brs_instrument in;
        pdec[i] = host->xInstrument(ctx, id, &in) == BRS_OK ? dec_of_scale(in.price_scale) : -1;
        qdec[i] = qd;
        v->host_id[i] = id;
    }
    v->n = n;
    const char *kl = pstr(v, "kline_interval", NULL);
    if (kl && !brs__bn_kline_interval_ok(kl))
        return perr(err, BRS_E_INVAL, "binance: parameter kline_interval: '%s' is not a Binance interval", kl);
    brs__bn_live_opts o = {.ws_url = ws_url,
                           .rest_url = rest_url,
                           .symbols = names,
                           .nsymbols = n,
                           .price_dec = pdec,
                           .qty_dec = qdec,
                           .subscribe = (int)pint(v, "subscribe", 1),
                           .depth_stream = pstr(v, "depth_stream", NULL),
                           .kline_interval = kl,
                           .sink = emit,
                           .ud = v,
                           .log = log_line};
    o.ws.ping_interval_ns = pint(v, "ping_ms", 0) * 1000000;
    o.ws.idle_timeout_ns = pint(v, "idle_timeout_ms", 0) * 1000000;
    o.ws.backoff_min_ns = pint(v, "backoff_min_ms", 0) * 1000000;
    o.ws.backoff_max_ns = pint(v, "backoff_max_ms", 0) * 1000000;
    o.ws.max_message = (size_t)pint(v, "max_message", 0);
    o.ws.tls.verify = (int)pint(v, "tls_verify", 1);
    o.ws.tls.ca_file = pstr(v, "ca_file", NULL);
    int rc = brs__bn_live_init(&v->live, &o, err);
    v->live_open = 1; /* free what init allocated, even on failure */
    return rc;
}

static void bnv_close(void *self)
{
    bnv *v = self;
    if (v->live_open)
        brs__bn_live_free(&v->live);
    v->live_open = 0;
}

static int bnv_submit(void *self, const brs_order *o)
{
    (void)self, (void)o;
    return BRS_E_UNSUPPORTED;
}
static int bnv_cancel(void *self, uint64_t id)
{
    (void)self, (void)id;
    return BRS_E_UNSUPPORTED;
}
static int bnv_replace(void *self, uint64_t id, int64_t p, int64_t q)
{
    (void)self, (void)id, (void)p, (void)q;
    return BRS_E_UNSUPPORTED;
}

static int bnv_poll(void *self, int64_t now)
{
    (void)now; /* the session keeps its own monotonic timers */
    bnv *v = self;
    int rc = brs__bn_live_step(&v->live, brs__monotime_ns());
    return rc == BRS_E_CLOSED ? 0 : rc;
}

static brs__bn_symbol *sym_of(bnv *v, uint32_t instrument)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (v->host_id[i] == instrument)
            return brs__bn_get(&v->live.feed, i);
    return NULL;
}

static int bnv_top(void *self, uint32_t instrument, brs_top *out)
{
    bnv *v = self;
    brs__bn_symbol *y = sym_of(v, instrument);
    if (!y)
        return BRS_E_NOTFOUND;
    memset(out, 0, sizeof *out);
    out->instrument = instrument;
    out->ts = y->last_recv;
    if (y->state == BRS__BN_WAIT_SNAPSHOT)
        return BRS_E_AGAIN; /* no valid book right now (resyncing) */
    brs__l2_best(&y->book, BRS_BUY, &out->bid_price, &out->bid_qty);
    brs__l2_best(&y->book, BRS_SELL, &out->ask_price, &out->ask_qty);
    return BRS_OK;
}

static int bnv_depth(void *self, uint32_t instrument, uint8_t side, brs_level *out, uint32_t cap,
                     uint32_t *n)
{
    bnv *v = self;
    brs__bn_symbol *y = sym_of(v, instrument);
    *n = 0;
    if (!y)
        return BRS_E_NOTFOUND;
    if (side > BRS_SELL)
        return BRS_E_INVAL;
    if (y->state == BRS__BN_WAIT_SNAPSHOT)
        return BRS_E_AGAIN;
    *n = brs__l2_depth(&y->book, side, out, cap);
    return BRS_OK;
}

static const brs_venue_vtable bnv_vtable = {
    .size = sizeof(brs_venue_vtable),
    .xOpen = bnv_open,
    .xClose = bnv_close,
    .xSubmit = bnv_submit,
    .xCancel = bnv_cancel,
    .xReplace = bnv_replace,
    .xPoll = bnv_poll,
    .xTop = bnv_top,
    .xDepth = bnv_depth,
};

BRS_PLUGIN(.kind = BRS_KIND_VENUE, .name = "binance", .version = "0.1.0",
           .description = "Binance USD-M futures market data (WebSocket + REST snapshots), L2 book",
           .instance_size = sizeof(bnv), .vtable = &bnv_vtable)
