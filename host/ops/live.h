/* live.h: the live dashboard of a long-running command (`bourse serve`): its
 * sessions and their state, positions and PnL over time, open orders, each
 * venue's top of book, a fills tape and latency percentiles, on the metrics
 * listener at /live, pushed to the browser as server-sent events.
 *
 * Threading: the event loop is the only writer. It follows positions and the
 * fills tape as fills happen (brs__live_fill: a few stores, no allocation, no
 * string measured) and,
 * at its 100 ms tick, fills the back buffer of a triple buffer and publishes it
 * with one atomic exchange. The HTTP thread takes the newest published buffer
 * with another exchange and renders it; neither thread ever waits for the
 * other, and the loop never touches what the reader holds. Internal. */
#ifndef BRS_OPS_LIVE_H
#define BRS_OPS_LIVE_H

#include <stdint.h>

#include <bourse/errors.h>

#include "ops/http.h"
#include "ops/metrics.h"

#define BRS__LIVE_ACCOUNTS 64 /* sessions (or strategies) shown */
#define BRS__LIVE_INSTR 64
#define BRS__LIVE_BOOKS 64    /* venue x instrument tops */
#define BRS__LIVE_POS 256     /* account x instrument rows with fills */
#define BRS__LIVE_ORDERS 50   /* most recent open orders */
#define BRS__LIVE_TAPE 50     /* most recent fills */
#define BRS__LIVE_LAT 4       /* latency histograms */
#define BRS__LIVE_CLORDID 48  /* a fill's ClOrdID, NUL included (the FIX gateway's own size) */

typedef struct brs__live_account {
    char name[48];
    char state[16]; /* "logged on", "disconnected", ... */
    int up;
    uint64_t seq_in, seq_out; /* next MsgSeqNum expected / sent; 0 when not a FIX session */
} brs__live_account;

typedef struct brs__live_instr {
    char symbol[16];
    int decimals; /* prices are ticks x 10^-decimals */
    int64_t bid, bid_qty, ask, ask_qty; /* the market's top (marks when nothing traded); qty 0: none */
    int64_t last;                       /* last fill price, 0 none */
} brs__live_instr;

/* One venue's top of book for one instrument. */
typedef struct brs__live_book {
    char venue[24];
    uint32_t instr;
    int64_t bid, bid_qty, ask, ask_qty;
} brs__live_book;

typedef struct brs__live_pos {
    uint32_t account, instr;
    int64_t pos;
    double cost;     /* of the open position, signed, in ticks x lots */
    double realized; /* ticks x lots, average cost */
    uint64_t fills;
} brs__live_pos;

typedef struct brs__live_order {
    uint64_t id;
    uint32_t account, instr;
    char clordid[48];
    uint8_t side; /* enum brs_side */
    char status;  /* FIX OrdStatus */
    int64_t price, qty, leaves, cum;
} brs__live_order;

typedef struct brs__live_fillrec {
    int64_t t_ns;
    uint64_t order_id;
    uint32_t account, instr;
    uint8_t side;
    int64_t price, qty;
    char clordid[BRS__LIVE_CLORDID];
    char venue[24];
} brs__live_fillrec;

typedef struct brs__live_snap {
    uint64_t version;
    int64_t t_ns;
    uint32_t n_acc, n_instr, n_books, n_pos, n_orders, n_tape;
    uint64_t open_orders, fills_total;
    brs__live_account acc[BRS__LIVE_ACCOUNTS];
    brs__live_instr instr[BRS__LIVE_INSTR];
    brs__live_book books[BRS__LIVE_BOOKS];
    brs__live_pos pos[BRS__LIVE_POS];
    brs__live_order orders[BRS__LIVE_ORDERS]; /* newest first */
    brs__live_fillrec tape[BRS__LIVE_TAPE];      /* newest first */
} brs__live_snap;

typedef struct brs__live brs__live;

/* n_acc accounts and n_instr instruments (each capped at its BRS__LIVE_ limit).
 * kind names the accounts on the page ("session"). */
brs__live *brs__live_new(uint32_t n_acc, uint32_t n_instr, const char *title, const char *kind);
void brs__live_free(brs__live *l);

/* How the tape names a venue index: called when a snapshot is published (loop
 * thread), never per fill. Without one the tape's venues are empty. */
void brs__live_set_venue_names(brs__live *l, const char *(*name)(const void *ctx, uint32_t venue), const void *ctx);

/* ---- the writer (event loop) ---- */
/* A fill of the account's order. clordid: BRS__LIVE_CLORDID bytes, all
 * readable, NUL-terminated within (copied whole: no length is measured per
 * fill); venue: an index, named at the publication. replay: re-applied at a
 * restart (positions follow it, the tape does not). */
void brs__live_fill(brs__live *l, uint32_t account, uint32_t instr, uint8_t side, int64_t price, int64_t qty,
                    uint64_t order_id, const char clordid[BRS__LIVE_CLORDID], uint32_t venue, int64_t t_ns,
                    int replay);
/* The buffer to fill (accounts, instruments, books, orders and their counts,
 * t_ns, open_orders); publish copies positions and the tape in and hands it over. */
brs__live_snap *brs__live_begin(brs__live *l);
void brs__live_publish(brs__live *l);

/* ---- set-up and the reader ---- */
/* A latency histogram shown as percentiles (read with atomics when rendered). */
void brs__live_add_latency(brs__live *l, const char *name, const brs__histogram *h);
/* Routes /live (page, script, uPlot) and /live/events (the stream) on h, and
 * its tick (PnL history, one point a second, ten minutes kept). */
int brs__live_serve(brs__live *l, brs__http *h);

#endif
