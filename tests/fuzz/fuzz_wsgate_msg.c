/* fuzz_wsgate_msg.c: libFuzzer target for the WebSocket order-entry message
 * parser (host/wsgate/msg.c): any bytes in, either a request whose fields hold
 * what the gateway relies on, or a refusal with a message. Built with clang by
 * `make fuzz-wsgate`; tests/fuzz/CMakeLists.txt runs the seed corpus
 * (tests/fuzz/corpus-wsgate) through it as an ordinary test. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bourse/types.h>

#include "wsgate/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    brs__wsg_req r;
    char field[64];
    brs_error e = {0};
    int rc = brs__wsg_parse((const char *)data, size, &r, field, sizeof field, &e);
    need(memchr(field, 0, sizeof field) != NULL);
    if (rc) {
        need(rc < 0 && e.msg[0]);
        return 0;
    }
    need(r.op >= BRS__WSG_LOGIN && r.op <= BRS__WSG_UNSUBSCRIBE);
    need(memchr(r.account, 0, sizeof r.account) && memchr(r.token, 0, sizeof r.token) &&
         memchr(r.order, 0, sizeof r.order) && memchr(r.symbol, 0, sizeof r.symbol) &&
         memchr(r.price, 0, sizeof r.price) && memchr(r.venue, 0, sizeof r.venue));
    switch (r.op) {
    case BRS__WSG_LOGIN: need(r.account[0] && r.token[0]); break;
    case BRS__WSG_PLACE:
        need(r.order[0] && r.symbol[0] && r.side <= BRS_SELL && r.qty >= 1 && r.qty <= (INT64_C(1) << 50));
        need(r.type == BRS_LIMIT ? r.price[0] != 0 : (r.price[0] == 0 && r.tif != BRS_GTC && !r.post_only));
        for (const char *p = r.price; *p; p++)
            need((*p >= '0' && *p <= '9') || *p == '.');
        break;
    case BRS__WSG_CANCEL: need(r.order[0]); break;
    case BRS__WSG_REPLACE: need(r.order[0] && (r.price[0] || r.qty)); break;
    case BRS__WSG_SUBSCRIBE:
    case BRS__WSG_UNSUBSCRIBE:
        need(r.channel == BRS__WSG_CH_ORDERS || r.channel == BRS__WSG_CH_FILLS || r.channel == BRS__WSG_CH_BOOK);
        need(r.channel != BRS__WSG_CH_BOOK || (r.symbol[0] && r.depth >= 1 && r.depth <= BRS__WSG_MAX_MSG_DEPTH));
        break;
    default: break;
    }
    return 0;
}
