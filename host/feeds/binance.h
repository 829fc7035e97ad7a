/* binance.h: Binance USD-M futures market data -> brs_market_event, with the
 * snapshot-and-update book sync. Pure code, no I/O: the live venue plugin and the
 * tick importer both feed it bytes and get the same normalized events.
 * Part of the bourse_feeds static library (PIC; no host symbols), see docs/websocket.md.
 *
 * USE
 *   brs__bn_feed f;  brs__bn_feed_init(&f, sink, ud);  // sink gets every event
 *   brs__bn_add_symbol(&f, "SUSHIUSDT", -1, -1, &id);   // decimals -1 = inferred
 *   brs__bn_feed_message(&f, json, len, recv_ns, &err); // one WebSocket frame
 *   brs__bn_feed_snapshot(&f, "SUSHIUSDT", json, len, recv_ns, &err); // REST depth
 *   brs__bn_feed_free(&f);
 *
 * MESSAGES  Raw ({"e":...}) or combined-stream ({"stream":..,"data":{...}}) frames:
 *   depthUpdate  -> LEVEL_SET (qty > 0) / LEVEL_DELETE (qty 0) per level, bids side
 *                   BRS_BUY, asks BRS_SELL; order_id = u, aux = T (ns).
 *   bookTicker   -> QUOTE (quote view).
 *   aggTrade     -> TRADE; side is the aggressor's (m true: buyer is maker -> SELL);
 *                   order_id = aggregate trade id a, aux = T (ns).
 *   kline        -> BAR when closed ("x":true): OHLC at the price scale, volume "v"
 *                   at the quantity scale, ts_exchange = the end of the bar (close
 *                   time T + 1 ms); a kline still forming is counted in n_ignored.
 *   Unknown event types are counted in n_ignored and produce nothing.
 *   REST snapshot -> SNAPSHOT_BEGIN, LEVEL_SET..., SNAPSHOT_END (all flagged
 *                   SNAPSHOT); order_id = lastUpdateId.
 *   The last event made from one message carries BRS_MEVF_LAST.
 *   ts_exchange = E (event time, ms -> ns); ts_local = the receive time passed in,
 *   except that depth updates buffered while waiting for a snapshot are stamped
 *   with the snapshot's receive time (when the local book actually took them), so
 *   ts_local never goes backwards in the output.
 *
 * NUMBERS  Decimal strings are parsed exactly into int64 (no floating point):
 *   value x 10^decimals. Each symbol has a price and a quantity scale; pass them
 *   (as decimals, 0..18) or let the first value that carries a '.' fix them
 *   (Binance prints every price of a symbol with the same number of decimals).
 *   A value with more non-zero decimals than the scale is BRS_E_RANGE.
 *
 * SYNC (per symbol; Binance USD-M rules, spot rules when "pu" is absent)
 *   WAIT_SNAPSHOT: depth updates are buffered (bounded; overflow drops the buffer).
 *   snapshot L arrives: book := snapshot, buffered updates replayed:
 *     u < L dropped; the first applied one must have U <= L <= u (spot: U <= L+1 <= u),
 *     or pu == L (it follows the snapshot exactly: snapshots taken between events);
 *     then each must have pu == previous u (spot: U == previous u + 1).
 *   Anything else is a gap: counted, reported through on_gap, the symbol goes back
 *   to WAIT_SNAPSHOT (brs__bn_needs_snapshot() says so) and its book is stale until
 *   the next snapshot, whose SNAPSHOT_BEGIN tells consumers to rebuild.
 *
 * ERRORS  Malformed JSON, a missing field, a bad number: negative BRS_E_ code and a
 *   message naming the field, and NOTHING is emitted for that message (it is
 *   fully parsed before any event goes out). The feed stays usable.
 *
 * Not thread-safe: one feed per thread. No allocation per message once the
 * scratch buffers and books have grown to the feed's size. */
#ifndef BRS_FEEDS_BINANCE_H
#define BRS_FEEDS_BINANCE_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

#include "l2book.h"

/* Receives each event; a non-zero return stops the message and is returned. */
typedef int (*brs__feed_sink)(void *ud, const brs_market_event *ev);
/* Told about a gap: the update U..u (with pu) did not follow last_u. */
typedef void (*brs__bn_gap_fn)(void *ud, uint32_t instrument, const char *symbol, uint64_t last_u,
                               uint64_t U, uint64_t u, int64_t pu);

enum brs__bn_state {
    BRS__BN_WAIT_SNAPSHOT = 0, /* no valid book; updates are buffered */
    BRS__BN_WAIT_BRIDGE = 1,   /* book from the snapshot; waiting for U <= L <= u */
    BRS__BN_LIVE = 2           /* chained: every update follows the previous one */
};

typedef struct brs__bn_pending {
    uint64_t U, u;
    int64_t pu; /* -1 when absent */
    int64_t E, T, recv;
    uint32_t first, count; /* levels in the symbol's pending arena */
} brs__bn_pending;

typedef struct brs__bn_level {
    int64_t price, qty;
    uint8_t side;
} brs__bn_level;

typedef struct brs__bn_symbol {
    char name[BRS_SYMBOL_MAX];
    uint32_t instrument;
    int price_dec, qty_dec; /* -1 until known */
    int state;              /* enum brs__bn_state */
    uint64_t last_u;        /* last applied u (or the snapshot's lastUpdateId) */
    uint64_t snapshot_id;
    brs__l2_book book;
    /* buffered depth updates while waiting for a snapshot */
    brs__bn_pending *pend;
    uint32_t npend, cappend;
    brs__bn_level *plev;
    uint32_t nplev, capplev;
    /* statistics */
    uint64_t n_updates, n_applied, n_dropped, n_gaps, n_snapshots, n_quotes, n_trades, n_bars;
    int64_t last_E, last_recv;
} brs__bn_symbol;

typedef struct brs__bn_feed {
    brs__bn_symbol *sym;
    uint32_t nsym, capsym;
    int auto_add;          /* unknown symbols: 1 add them (default), 0 ignore */
    uint32_t max_pending;  /* buffered updates per symbol (default 4096) */
    uint32_t book_reserve; /* levels per side reserved per book (default 1024) */
    brs__feed_sink sink;
    void *ud;
    brs__bn_gap_fn on_gap;
    void *gap_ud;
    brs__bn_level *scratch; /* parsed levels of the message in hand */
    uint32_t cap_scratch;
    uint64_t n_messages, n_ignored, n_unknown_symbol, n_errors;
} brs__bn_feed;

void brs__bn_feed_init(brs__bn_feed *f, brs__feed_sink sink, void *ud);
void brs__bn_feed_free(brs__bn_feed *f);

/* Register a symbol (case-sensitive; Binance spells them upper case) with its
 * price and quantity decimals (< 0: infer from the data) and get its instrument
 * id (registration order: 0, 1, 2...). Adding a known symbol returns its id.
 * With auto_add (the default) symbols first seen in a message are added with
 * inferred decimals. */
int brs__bn_add_symbol(brs__bn_feed *f, const char *symbol, int price_dec, int qty_dec,
                       uint32_t *instrument);
/* The symbol with that name or instrument id, or NULL. */
brs__bn_symbol *brs__bn_find(brs__bn_feed *f, const char *symbol);
brs__bn_symbol *brs__bn_get(brs__bn_feed *f, uint32_t instrument);

/* One WebSocket text frame. recv_ns: local receive time. */
int brs__bn_feed_message(brs__bn_feed *f, const char *json, size_t len, int64_t recv_ns,
                         brs_error *err);
/* One REST depth snapshot (GET /fapi/v1/depth) of symbol. */
int brs__bn_feed_snapshot(brs__bn_feed *f, const char *symbol, const char *json, size_t len,
                          int64_t recv_ns, brs_error *err);
/* True when the symbol has no valid book and needs a REST snapshot. */
int brs__bn_needs_snapshot(const brs__bn_feed *f, uint32_t instrument);
/* Force a resync (for example after a reconnect): book stale, buffer from now on. */
void brs__bn_resync(brs__bn_feed *f, uint32_t instrument);

/* ---- helpers shared by the importer, the plugin and the tests ----------- */

/* Exact decimal string -> int64 at *dec decimals; *dec < 0 is set from s when s
 * has a '.' (otherwise the value is taken at 0 decimals and *dec stays < 0). */
int brs__dec_parse(const char *s, size_t len, int *dec, int64_t *out);
/* Power of ten for 0..18. */
int64_t brs__pow10(int d);
/* "1626992741.06217" (seconds with up to 9 decimals) -> ns. */
int brs__parse_epoch_s(const char *s, size_t len, int64_t *ns);

/* One line of a cryptofeed recording.
 *   ws file:   "<recv_s>: <json>"                         -> kind 'W'
 *   http file: "<url> -> <recv_s>: <json>"                -> kind 'H'; symbol from
 *              the url's symbol= parameter (upper-cased) into sym (BRS_SYMBOL_MAX)
 *   header:    "wss://... <-> <ts>" and empty lines        -> kind 0 (skip)
 * Returns BRS_OK or BRS_E_PARSE. json points into line. */
int brs__bn_split_record(const char *line, size_t len, int *kind, int64_t *recv_ns,
                         const char **json, size_t *json_len, char *sym);

#endif
