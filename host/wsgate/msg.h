/* msg.h: the WebSocket order-entry messages (docs/ws-order-entry.md): one
 * JSON text in, one checked request out, or an error naming the field. Pure
 * (no gateway state, no allocation kept), so it is fuzzed alone
 * (tests/fuzz/fuzz_wsgate_msg.c). Prices stay decimal text here; the gateway
 * converts them with the instrument's decimals. */
#ifndef BRS_WSGATE_MSG_H
#define BRS_WSGATE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

enum brs__wsg_op {
    BRS__WSG_LOGIN = 1,
    BRS__WSG_PLACE,
    BRS__WSG_CANCEL,
    BRS__WSG_REPLACE,
    BRS__WSG_QUERY,
    BRS__WSG_SUBSCRIBE,
    BRS__WSG_UNSUBSCRIBE,
};

enum brs__wsg_channel { BRS__WSG_CH_ORDERS = 1, BRS__WSG_CH_FILLS = 2, BRS__WSG_CH_BOOK = 4 };

#define BRS__WSG_MAX_MSG_DEPTH 50 /* book subscriptions: levels per side */

typedef struct brs__wsg_req {
    int op;
    int has_id;
    int64_t id;            /* the request's "id", echoed in the answer */
    char account[64];      /* login */
    char token[256];       /* login */
    char order[64];        /* client_order_id: place, cancel, replace, query */
    char symbol[32];       /* place, book subscriptions */
    uint8_t side;          /* enum brs_side */
    uint8_t type;          /* BRS_LIMIT or BRS_MARKET */
    uint8_t tif;           /* enum brs_tif */
    uint8_t post_only;
    char price[40];        /* decimal text ("101.25"); empty when absent */
    int64_t qty;           /* 0 when absent (replace: keep) */
    int channel;           /* subscribe/unsubscribe: one enum brs__wsg_channel */
    uint32_t depth;        /* book: levels per side, 1..BRS__WSG_MAX_MSG_DEPTH (default 10) */
    char venue[32];        /* book: a venue name, empty = the default venue */
} brs__wsg_req;

/* Parse and check one message. On error: BRS_E_PARSE (not JSON, not an
 * object) or BRS_E_INVAL, err->msg says what, and `field` (may be NULL, cap
 * bytes) names the offending field ("" when it is the message itself);
 * r->id/has_id are still filled when the message had a usable id. */
int brs__wsg_parse(const char *text, size_t len, brs__wsg_req *r, char *field, size_t cap,
                   brs_error *err);

#endif
