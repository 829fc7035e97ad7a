/* types.h: the plain data that crosses the plugin boundary.
 * Prices are int64 ticks, quantities int64 lots, times int64 nanoseconds since the
 * Unix epoch. No floating point in matching or accounting (docs/architecture.md). */
#ifndef BOURSE_TYPES_H
#define BOURSE_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* ---- Instruments ------------------------------------------------------- */

#define BRS_SYMBOL_MAX 32

/* A tradable instrument. Prices of this instrument are integers in units of
 * 1/price_scale of the quote currency (LOBSTER: price_scale 10000); valid prices
 * are multiples of tick_size, valid quantities multiples of lot_size. */
typedef struct brs_instrument {
    uint32_t id;                  /* index in the run's instrument table */
    uint32_t reserved;
    char symbol[BRS_SYMBOL_MAX];  /* NUL-terminated */
    int64_t price_scale;          /* price units per 1 quote currency unit */
    int64_t tick_size;            /* in price units, >= 1 */
    int64_t lot_size;             /* in quantity units, >= 1 */
    int64_t min_qty;              /* smallest order quantity, 0 = lot_size */
} brs_instrument;

/* ---- Orders ------------------------------------------------------------ */

enum brs_side { BRS_BUY = 0, BRS_SELL = 1 };

enum brs_order_type { BRS_LIMIT = 0, BRS_MARKET = 1 };

enum brs_tif {
    BRS_GTC = 0, /* good till cancelled */
    BRS_DAY = 1, /* cancelled at the end of the session */
    BRS_IOC = 2, /* immediate or cancel: the unfilled rest is cancelled */
    BRS_FOK = 3  /* fill or kill: all at once or nothing */
};

/* Order flags (bit set). */
enum brs_order_flag {
    BRS_OF_POST_ONLY = 1u << 0,    /* never take: rejected if it would cross */
    BRS_OF_POST_REPRICE = 1u << 1, /* never take: repriced one tick behind the touch */
    BRS_OF_REDUCE_ONLY = 1u << 2   /* may only reduce the position */
};

/* Self-trade prevention, per account. */
enum brs_stp {
    BRS_STP_NONE = 0,
    BRS_STP_CANCEL_NEWEST = 1, /* the incoming order is cancelled */
    BRS_STP_CANCEL_OLDEST = 2, /* the resting order is cancelled, matching goes on */
    BRS_STP_CANCEL_BOTH = 3
};

/* An order as submitted. For a market order price is ignored. */
typedef struct brs_order {
    uint64_t id;         /* unique per run; assigned by whoever submits (host or gateway) */
    uint32_t instrument;
    uint32_t account;    /* self-trade prevention applies within one account */
    int64_t price;       /* limit price in ticks */
    int64_t qty;         /* > 0 */
    uint8_t side;        /* enum brs_side */
    uint8_t type;        /* enum brs_order_type */
    uint8_t tif;         /* enum brs_tif */
    uint8_t stp;         /* enum brs_stp */
    uint32_t flags;      /* enum brs_order_flag */
    int64_t ts;          /* when it was submitted, ns */
} brs_order;

/* ---- Order events ------------------------------------------------------ */

enum brs_order_event_kind {
    BRS_OEV_ACCEPTED = 0,  /* resting or working; price may be repriced (post-only) */
    BRS_OEV_REJECTED = 1,  /* reason holds a BRS_E_ code */
    BRS_OEV_FILL = 2,      /* a partial or full fill */
    BRS_OEV_CANCELLED = 3, /* qty is the quantity removed; leaves is 0 */
    BRS_OEV_REPLACED = 4   /* price and qty are the new ones; leaves the new open qty */
};

enum brs_liquidity { BRS_LIQ_NONE = 0, BRS_LIQ_MAKER = 1, BRS_LIQ_TAKER = 2 };

/* What happened to one of our orders. */
typedef struct brs_order_event {
    uint8_t kind;        /* enum brs_order_event_kind */
    uint8_t side;
    uint8_t liquidity;   /* fills: enum brs_liquidity */
    uint8_t reserved;
    int32_t reason;      /* rejects and cancels: a BRS_E_ code, else 0 */
    uint32_t instrument;
    uint32_t venue;      /* index of the venue it happened on */
    uint64_t order_id;
    uint64_t contra_id;  /* fills: the other side's order id, 0 if unknown */
    int64_t ts;          /* when it happened at the venue, ns */
    int64_t price;       /* fills: execution price; accepted/replaced: order price */
    int64_t qty;         /* fills: executed qty; cancelled: qty removed */
    int64_t leaves;      /* open quantity after this event */
    int64_t cum_qty;     /* total filled so far */
    int64_t fee;         /* fills: fee in price units x qty units; negative is a rebate */
} brs_order_event;

/* ---- Market events ----------------------------------------------------- */

enum brs_market_event_kind {
    BRS_MEV_NONE = 0,
    BRS_MEV_ADD = 1,         /* L3: order_id rests price x qty on side */
    BRS_MEV_CANCEL = 2,      /* L3: qty removed from order_id (flag FULL when all) */
    BRS_MEV_MODIFY = 3,      /* L3: order_id now price x qty (aux: new id, or 0) */
    BRS_MEV_EXECUTE = 4,     /* L3: qty of resting order_id traded at price */
    BRS_MEV_LEVEL_SET = 5,   /* L2: the level side/price now holds qty in total */
    BRS_MEV_LEVEL_DELETE = 6,/* L2: the level side/price is empty */
    BRS_MEV_TRADE = 7,       /* a trade print; side is the aggressor's; order_id a trade id */
    BRS_MEV_QUOTE = 8,       /* best bid and offer: see quote */
    BRS_MEV_BAR = 9,         /* OHLCV bar ENDING at ts_exchange (a daily bar: the end of its day): see bar.
                                The bar view uses the whole payload; the bar length is not stored. */
    BRS_MEV_STATUS = 10,     /* trading status: aux is enum brs_status */
    BRS_MEV_SNAPSHOT_BEGIN = 11, /* the events up to SNAPSHOT_END rebuild the book from empty */
    BRS_MEV_SNAPSHOT_END = 12,
    BRS_MEV_KIND_COUNT_ = 13
};

enum brs_status { BRS_STATUS_TRADING = 0, BRS_STATUS_HALT = 1, BRS_STATUS_RESUME = 2, BRS_STATUS_CLOSE = 3 };

enum brs_market_event_flag {
    BRS_MEVF_LAST = 1u << 0,    /* the last event produced from one source message */
    BRS_MEVF_FULL = 1u << 1,    /* CANCEL: the order is gone */
    BRS_MEVF_HIDDEN = 1u << 2,  /* EXECUTE/TRADE against hidden liquidity */
    BRS_MEVF_SNAPSHOT = 1u << 3 /* part of a snapshot */
};

/* One market event; also the record layout of .ticks.zst files (docs/tick-format.md).
 * 64 bytes, little-endian on disk. The payload is read through the view that
 * matches kind: the plain fields for L3/L2/trade/status, bar, or quote. */
typedef struct brs_market_event {
    int64_t ts_exchange; /* exchange time, ns since the epoch */
    int64_t ts_local;    /* local receive time, ns since the epoch */
    uint8_t kind;        /* enum brs_market_event_kind */
    uint8_t side;        /* enum brs_side */
    uint16_t flags;      /* enum brs_market_event_flag */
    uint32_t instrument; /* index in the file's / run's instrument table */
    union {
        struct {
            int64_t price;
            int64_t qty;
            uint64_t order_id;
            int64_t aux;   /* kind-specific, see above */
            int64_t spare; /* reserved, 0 */
        };
        struct { int64_t open, high, low, close, volume; } bar;
        struct { int64_t bid_price, bid_qty, ask_price, ask_qty, spare_; } quote;
    };
} brs_market_event;

_Static_assert(sizeof(brs_market_event) == 64, "brs_market_event is 64 bytes");

/* ---- Views handed to strategies --------------------------------------- */

/* A price level. */
typedef struct brs_level {
    int64_t price;
    int64_t qty;
    uint32_t orders; /* resting orders at the level, 0 if unknown (L2) */
    uint32_t reserved;
} brs_level;

/* Best bid and offer of one instrument; a side with no orders has qty 0. */
typedef struct brs_top {
    uint32_t instrument;
    uint32_t reserved;
    int64_t ts;
    int64_t bid_price, bid_qty;
    int64_t ask_price, ask_qty;
} brs_top;

/* A position in one instrument, in the instrument's price units. PnL values are
 * in price units x qty units (divide by price_scale for currency). */
typedef struct brs_position {
    uint32_t instrument;
    uint32_t reserved;
    int64_t qty;             /* signed: > 0 long, < 0 short */
    int64_t avg_price_x1e6;  /* average entry price in ticks x 10^6 (exact enough, integer) */
    int64_t realized_pnl;
    int64_t unrealized_pnl;  /* marked at the mid, 0 when there is no mid */
    int64_t fees;
} brs_position;

/* One of our open orders. */
typedef struct brs_order_info {
    uint64_t id;
    uint32_t instrument;
    uint8_t side, type, tif, reserved;
    int64_t price;
    int64_t qty;       /* original */
    int64_t leaves;
    int64_t cum_qty;
} brs_order_info;

/* ABI 1.2: one instrument's bars as columns (brs_host.xBarColumns), oldest
 * first: value t of each array is the field of bar t, the same numbers xBars
 * gives in its records (ts = ts_exchange, the bar's end; prices in ticks of
 * the instrument's price_scale). The caller sets `size` to sizeof what it
 * compiled; the host fills only the members that size covers, so members
 * appended later are left alone in an older plugin's struct. The arrays are
 * contiguous int64, read-only, valid until xClose. */
typedef struct brs_bar_columns {
    uint32_t size;     /* set by the caller: sizeof(brs_bar_columns) */
    uint32_t reserved; /* 0 */
    uint64_t n;        /* bars in each array */
    const int64_t *ts;
    const int64_t *ts_local;
    const int64_t *open;
    const int64_t *high;
    const int64_t *low;
    const int64_t *close;
    const int64_t *volume;
    /* Appended after ABI 1.2's first release (a struct whose size covers it;
     * older callers get every column): the columns the caller will read, a
     * mask of BRS_BARCOL_*, 0 for all. The host may then leave the other
     * pointers NULL and skip decoding them (in a signal backtest of a compact
     * bar file, a column not asked for is never decoded or mapped). A host
     * that predates the mask fills every column, which is also correct. */
    uint32_t want;
    uint32_t reserved2; /* 0 */
} brs_bar_columns;

/* brs_bar_columns.want bits. */
#define BRS_BARCOL_TS       0x01u
#define BRS_BARCOL_TS_LOCAL 0x02u
#define BRS_BARCOL_OPEN     0x04u
#define BRS_BARCOL_HIGH     0x08u
#define BRS_BARCOL_LOW      0x10u
#define BRS_BARCOL_CLOSE    0x20u
#define BRS_BARCOL_VOLUME   0x40u
#define BRS_BARCOL_ALL      0x7fu

#endif
