/* app_internal.h: what the FIX application's files share (app.c: order entry,
 * reports, journal; app_md.c: market data). Not for use outside host/fix. */
#ifndef BRS_FIX_APP_INTERNAL_H
#define BRS_FIX_APP_INTERNAL_H

#include "fix/app.h"
#include "fix/codec.h"

/* One instrument's book to the deepest subscribed depth, read once per
 * md_publish whatever the number of subscriptions on it. */
typedef struct brs__fix_md_view {
    uint32_t gen; /* == the publish generation: read for this publish */
    uint32_t n[2];
    brs_level lv[2][BRS__FIX_MD_DEPTH];
} brs__fix_md_view;

/* app.c */
brs__fix_session *brs__fix_session_of(brs__fix_gateway *g, uint32_t idx);
/* A price in ticks as the instrument's decimal. */
void brs__fix_enc_price(brs__fix_gateway *g, brs__fix_enc *e, uint32_t tag, uint32_t instr, int64_t px);

/* app_md.c */
/* Index of the instrument with this symbol, or -1. */
int brs__fix_find_instr(brs__fix_gateway *g, const char *s, size_t n);
/* A trade of the message being processed, for subscribers asking for trades. */
void brs__fix_md_keep_trade(brs__fix_gateway *g, uint32_t instrument, int64_t price, int64_t qty);
/* The subscriptions on changed books get their updates (once per message). */
void brs__fix_md_publish(brs__fix_gateway *g);
void brs__fix_md_count_trade_subs(brs__fix_gateway *g);
/* MarketDataRequest (V). */
void brs__fix_md_request(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m);

#endif
