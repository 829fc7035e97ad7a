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


/* ---- shared between app.c, app_table.c, app_journal.c, app_setup.c ---- */
/* Journal record: session index (bit 31: refused by the risk checks, so replay
 * refuses it again without re-running time-dependent checks), length, bytes. */
#define JOURNAL_RISK_REFUSED 0x80000000u
/* Bits 30 and 29 of a session record (session indices stay below 2^29; the
 * record types from 0x7f000000 up are not session records): a mass cancel
 * that streams (the request: its slices follow as records of their own), and
 * one slice of it (8 bytes: the OrderID it reached, UINT64_MAX the last). */
#define JOURNAL_MC_SLICED 0x40000000u
#define JOURNAL_MC_SLICE 0x20000000u
#define JOURNAL_SESSION_RECORD_MAX 0x7f000000u

/* app_journal.c, for app_checkpoint.c */
int brs__fix_closed_hashes(brs__fix_gateway *g, brs__fix_clset *keep);
int brs__fix_snapshot_write(brs__fix_gateway *g, const brs__fix_clset *closed, uint64_t batch, int fd,
                            brs_error *err);
int brs__fix_journal_swap(brs__fix_gateway *g, int fd, const char *tmp, uint64_t snap_len, uint64_t len,
                          brs_error *err);

/* app_masscancel.c */
void brs__fix_on_mass_cancel(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m);
void brs__fix_mc_replay_slice(brs__fix_gateway *g, uint32_t session, uint64_t end);

/* Journal record: a routed child's step, for the audit trail (layout in
 * docs/fix-gateway.md, "Journal records"); replay skips it, since replaying
 * the parents makes the children again. */
#define JOURNAL_CHILD 0x7fffffe2u
#define CHILD_HEADER_LEN 56u

/* Runtime time (docs/fix-gateway.md, "Runtime time in the journal"): CLOCK,
 * i64 t: the runtime advanced to t here; FEED, i64 t + u64 n: the market data
 * feed replayed n events at t; SNAP_FEED (in a snapshot, before its orders):
 * i64 clock + u64 events replayed by then. */
#define JOURNAL_CLOCK 0x7fffffe1u
#define JOURNAL_FEED 0x7fffffe4u
#define JOURNAL_SNAP_FEED 0x7ffffff5u

/* Journal record: a hosted strategies' step (runtime/rt_hosted.c's bytes:
 * start, timers, hot reload; docs/fix-gateway.md "Strategies beside the
 * clients"). */
#define JOURNAL_STRAT 0x7fffffe6u

/* Journal record: a WebSocket order request (u32 account, i64 clock, JSON). */
#define JOURNAL_WS 0x7fffffe3u
/* Journal record: a WebSocket order report as sent, for the audit trail (u32
 * account, i64 venue time, u8 name length, the account's name, JSON); replay
 * skips it, since replaying the requests reports again. */
#define JOURNAL_WS_REPORT 0x7fffffe5u

/* Appends one record [type][len][bytes] to a growing buffer (app_journal.c). */
int brs__fix_buf_record(char **buf, size_t *len, size_t *cap, uint32_t type, const void *m, uint32_t n);

brs__fix_clmap_entry *brs__fix_map_find(brs__fix_gateway *g, uint32_t session, const char *s,
                                        size_t n);
int brs__fix_map_put(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t order);
int brs__fix_map_key_current(const brs__fix_gateway *g, const brs__fix_clmap_entry *e);
brs__fix_clmap_entry *brs__fix_map_alloc(uint64_t cap, int huge);
void brs__fix_map_free(brs__fix_gateway *g);
void brs__fix_advise_huge(void *p, size_t n);
brs__fix_order *brs__fix_order_by_id(brs__fix_gateway *g, uint64_t id);
void brs__fix_table_sorted(brs__fix_gateway *g);
int brs__fix_table_sort_by_id(brs__fix_gateway *g);
int brs__fix_add_slot(brs__fix_gateway *g, uint64_t id, brs__fix_order **out);
int brs__fix_forget_closed(brs__fix_gateway *g);
int brs__fix_closed_dup(const brs__fix_gateway *g, uint32_t session, const char *s, size_t n);
int brs__fix_journal_append(brs__fix_gateway *g, uint32_t session, const char *m, uint32_t len);
void brs__fix_journal_temp_path(const brs__fix_gateway *g, char *out, size_t cap);
void brs__fix_on_event(void *ctx, const brs_order_event *ev);
void brs__fix_pump(brs__fix_gateway *g, int64_t now);
uint32_t brs__fix_client_of(const brs__fix_gateway *g, uint32_t session);
void brs__fix_on_dup(void *app, brs__fix_session *s, const brs__fix_msg *m);

static inline uint32_t brs__fix_slot_ref(const brs__fix_gateway *g, const brs__fix_order *o)
{
    return (uint32_t)(o - g->orders + 1);
}

/* Every change of an order's open flag goes through here, so the count of open
 * orders (a metrics gauge) is always exact, replay included. */
static inline void brs__fix_set_open(brs__fix_gateway *g, brs__fix_order *o, uint8_t open)
{
    g->st.open += (int64_t)(open != 0) - (int64_t)(o->open != 0);
    o->open = open;
}

#endif
