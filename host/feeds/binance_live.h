/* binance_live.h: a live Binance USD-M market-data session: the WebSocket stream,
 * REST depth snapshots and the feed's sync rules, tied together. It (re)subscribes
 * on every connect, fetches a snapshot for each symbol that needs one (at start,
 * after a reconnect, after a gap) and hands normalized events to a sink.
 * Used by the venue plugin (plugins/venues/binance) and by `bourse record`.
 * Part of bourse_feeds: no host symbols. Non-blocking; not thread-safe. */
#ifndef BRS_FEEDS_BINANCE_LIVE_H
#define BRS_FEEDS_BINANCE_LIVE_H

#include <stdint.h>

#include "feeds/binance.h"
#include "ws/ws.h"

#define BRS__BN_LIVE_MAX_SYMBOLS 64

/* A Binance kline interval ("1m" .. "1M")? "" (none) counts as valid. */
int brs__bn_kline_interval_ok(const char *iv);

typedef struct brs__bn_live_opts {
    const char *ws_url;   /* e.g. wss://fstream.binance.com/stream */
    const char *rest_url; /* with {SYMBOL}: https://fapi.binance.com/fapi/v1/depth?symbol={SYMBOL}&limit=1000 */
    const char *const *symbols; /* upper case, as Binance spells them */
    uint32_t nsymbols;
    const int *price_dec, *qty_dec; /* per symbol, or NULL / -1 to infer */
    int subscribe;            /* send SUBSCRIBE (depth, bookTicker, aggTrade) on each open */
    const char *depth_stream; /* stream suffix, default "@depth@100ms" */
    const char *kline_interval; /* "1m", "1h", ...: also subscribe to closed bars; NULL/"" none */
    brs__ws_opts ws;          /* url is taken from ws_url */
    int64_t snapshot_timeout_ns; /* default 10 s */
    int64_t snapshot_retry_ns;   /* delay before retrying a failed snapshot, default 1 s */
    brs__feed_sink sink;
    void *ud;
    /* Optional log line (level: enum brs_log_level values 0 debug .. 3 error). */
    void (*log)(void *ud, int level, const char *msg);
    /* Optional: a reconnect attempt is scheduled in delay_ns (attempt counts
     * from 1 since data last flowed); why is the last error. Without it the
     * attempt goes to log as a warning line. */
    void (*on_retry)(void *ud, uint64_t attempt, int64_t delay_ns, const char *why);
} brs__bn_live_opts;

typedef struct brs__bn_live_sym {
    brs__http_get get;
    int get_active;
    int64_t next_try;   /* monotonic ns */
    int64_t wait_since; /* when the symbol started to need a snapshot */
} brs__bn_live_sym;

typedef struct brs__bn_live {
    brs__bn_live_opts o;
    char *ws_url, *rest_url, *depth_stream, *kline_interval;
    char (*names)[BRS_SYMBOL_MAX];
    brs__bn_feed feed;
    brs__ws ws;
    brs__bn_live_sym sym[BRS__BN_LIVE_MAX_SYMBOLS];
    uint64_t n_events, n_snapshots, n_snapshot_failures, n_bad_messages, n_gaps;
    int sub_id;
} brs__bn_live;

int brs__bn_live_init(brs__bn_live *l, const brs__bn_live_opts *o, brs_error *err);
void brs__bn_live_free(brs__bn_live *l);
/* Do pending I/O and processing without blocking; returns events emitted (>= 0)
 * or BRS_E_CLOSED once the session was closed for good. now: monotonic ns. */
int brs__bn_live_step(brs__bn_live *l, int64_t now_mono);
/* Sleep in poll() until a socket is ready or timeout_ms passes, then step. */
int brs__bn_live_wait(brs__bn_live *l, int timeout_ms);
/* Close the stream (close handshake, 1000) and stop reconnecting. */
void brs__bn_live_close(brs__bn_live *l);

#endif
