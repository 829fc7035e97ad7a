/* app_internal.h: what the FIX application's files share (app.c: order entry,
 * reports, journal; app_md.c: market data). Not for use outside host/fix. */
#ifndef BRS_FIX_APP_INTERNAL_H
#define BRS_FIX_APP_INTERNAL_H

#include "fix/app.h"
#include "fix/codec.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One book (a venue's, or the consolidated one) of one instrument to the
 * deepest depth served, read once per change of the book whatever the number
 * of subscriptions on it. */
typedef struct brs__fix_md_view {
    uint32_t gen;   /* the book's change counter when read */
    uint32_t valid; /* read at least once */
    uint32_t n[2];
    brs_level lv[2][BRS__FIX_MD_DEPTH];
} brs__fix_md_view;

/* app.c */
brs__fix_session *brs__fix_session_of(brs__fix_gateway *g, uint32_t idx);
/* Memory ran out where a queue had to keep an item in order (a runtime event
 * or a report behind others, app_events.c and app_reports.c): taken at once
 * it would go out of order, and a replay, which has the memory, would queue
 * it. So the turn is not committed: g->fail_msg says why, the next
 * brs__fix_gateway_flush fails, and the server stops as on a storage failure
 * (nothing of the turn sent, every session logged out); a restart replays the
 * journal to its last commit. Logged once. */
void brs__fix_gateway_oom(brs__fix_gateway *g, const char *what, uint32_t session);
/* A price in ticks as the instrument's decimal. */
void brs__fix_enc_price(brs__fix_gateway *g, brs__fix_enc *e, uint32_t tag, uint32_t instr, int64_t px);

/* app_md.c */
/* Index of the instrument with this symbol, or -1. */
int brs__fix_find_instr(brs__fix_gateway *g, const char *s, size_t n);
/* A trade of the message being processed, for subscribers asking for trades. */
void brs__fix_md_keep_trade(brs__fix_gateway *g, uint32_t instrument, uint32_t venue, int64_t price, int64_t qty);
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


/* ---- the journal's records (app_journal.c, app_snapshot.c, app_replay.c) ---- */
/* Journal record that is not a message: an end of day (8-byte boundary in ns,
 * 1 byte mark_only). */
#define JOURNAL_END_OF_DAY 0x7ffffffeu
/* Journal record: commit of batch n (8 bytes): the records before it, and
 * every store record tagged with a batch up to n, are one applied whole. */
#define JOURNAL_COMMIT 0x7ffffffdu

/* End-of-day record modes (its 9th byte). */
#define EOD_EXPIRE 0 /* DAY orders expired (journals written before compaction) */
#define EOD_MARK 1   /* boundary recorded only */
#define EOD_FORGET 2 /* expired, then the closed orders left memory (no snapshot) */
#define EOD_STEPS 3  /* the day ends in steps (app_eod.c): EOD_SLICE records follow */
#define EOD_FORGOTTEN 4 /* the steps' end: the old day's closed orders left memory */
#define EOD_FORGET_KEEP 5 /* as EOD_FORGET, orders still on their way to a venue kept */
#define EOD_STEPS_V2 6 /* as EOD_STEPS, its old-day orders in flight expire too, in order (app_eod.c) */
#define EOD_STEPS_V3 7 /* as EOD_STEPS_V2, an old day's DAY order or replace still on the wire expires at
                        * the venue on arrival, never matching (brs__rt_day_over; app_eod.c) */
#define EOD_FORGET_WIRE 8 /* as EOD_FORGET_KEEP, and so there too (the one-turn end of day) */
#define EOD_EXPIRE_WIRE 9 /* EOD_FORGET_WIRE's expiry without its forgetting (out of memory) */
#define EOD_STEPS_LEN 17u /* an EOD_STEPS record: boundary, mode, u64 the old day's last OrderID */
/* Journal record: one loop turn's slice of a stepwise end of day's expiry
 * (8 bytes: u64 the OrderID it reached; UINT64_MAX the last). */
#define JOURNAL_EOD_SLICE 0x7fffffebu
/* Snapshot records (docs/fix-gateway.md, "Persistence and restart"): a
 * compacted journal starts with them. */
#define JOURNAL_SNAPSHOT 0x7ffffff0u
#define JOURNAL_SNAP_ORDER 0x7ffffff1u
#define JOURNAL_SNAP_RISK 0x7ffffff2u
#define JOURNAL_SNAP_END 0x7ffffff3u
#define JOURNAL_SNAP_CLOSED 0x7ffffff4u /* u64 hashes of ClOrdIDs forgotten today */
#define SNAP_CLOSED_PER_RECORD 4096u
#define SNAP_VERSION 1u
#define SNAP_HEADER_LEN 40u
#define SNAP_ORDER_LEN 120u

static inline void brs__put_u32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void brs__put_u64(char *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t brs__get_u32(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t brs__get_u64(const char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* app_journal.c */
int brs__fix_commit_record(char **buf, size_t *len, size_t *cap, uint64_t batch);
int brs__fix_flush_stores(brs__fix_gateway *g, int *any);
/* The end of day as recorded (mode EOD_*); replay calls it for its records. */
void brs__fix_end_of_day_apply(brs__fix_gateway *g, int64_t boundary, int mode);

/* app_snapshot.c, for app_checkpoint.c */
int brs__fix_snap_scratch_alloc(const brs__fix_gateway *g, brs__fix_snap_scratch *sc);
void brs__fix_snap_scratch_free(brs__fix_snap_scratch *sc);
int brs__fix_snapshot_write(brs__fix_gateway *g, brs__fix_snap_scratch *sc, uint64_t batch, int fd);
int brs__fix_journal_swap(brs__fix_gateway *g, int fd, const char *tmp, uint64_t snap_len, uint64_t len,
                          brs_error *err);

/* app_checkpoint.c */
int brs__fix_compact_after_day(brs__fix_gateway *g, brs_error *err);

/* An ExecutionReport's values (app.c encodes them; app_reports.c queues
 * them with their strings copied). */
typedef struct brs__fix_er {
    __int128 notional;
    uint64_t order_id, exec_id;
    int64_t cum, leaves, qty, price, last_px, last_qty, now, entered_ns;
    const char *clordid, *orig, *text, *venue; /* orig, text, venue: NULL none */
    uint32_t instrument;
    char exec_type, status;
    uint8_t side, ord_type;
} brs__fix_er;
/* app_er.c: the values of a report on order o as it stands now; encoded to
 * session s (status_req: the OrderStatusRequest answered, its 790 echoed);
 * the same from o directly; a report reaching its session now (counted, its
 * latency noted, encoded, stored). */
void brs__fix_er_of(brs__fix_gateway *g, const brs__fix_session *s, const brs__fix_order *o,
                    brs__fix_er *r, uint64_t exec_id, char exec_type, const char *clordid,
                    const char *orig, int64_t last_px, int64_t last_qty, const char *text);
void brs__fix_encode_er_v(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_er *r,
                          const brs__fix_msg *status_req);
void brs__fix_encode_er(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_order *o,
                        uint64_t exec_id, char exec_type, const char *clordid, const char *orig,
                        int64_t last_px, int64_t last_qty, const char *text,
                        const brs__fix_msg *status_req);
void brs__fix_er_deliver(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_er *r);

/* The report queues' chunks are the runtime's (brs__qchunk, runtime/rt_evq.h). */

/* app_reports.c: ExecutionReports streaming over loop turns (issue 15: a
 * deep sweep). Journal records: ERQ_BUDGET (u32 budget) right before a
 * message record whose reports were queued past that budget per session;
 * ERQ_DELIVERED (u32 session, u32 n): n queued reports of the session were
 * stored for sending. A replay rebuilds the queues from both. */
#define JOURNAL_ERQ_BUDGET 0x7fffffe7u
#define JOURNAL_ERQ_DELIVERED 0x7fffffe8u
/* Open (1) or close (0) a message's window: its reports are counted per
 * session against the budget (live: erq_per_turn; replay: the journal's). */
void brs__fix_erq_window(brs__fix_gateway *g, int open);
/* Should the next report to this session queue (its queue is not empty, or
 * the message passed its budget)? Counts it otherwise. */
int brs__fix_erq_wants(brs__fix_gateway *g, uint32_t session);
/* Queue the report (strings copied); out of memory: delivered now (live). */
void brs__fix_erq_push(brs__fix_gateway *g, uint32_t session, const brs__fix_er *r);
/* Live: the message queued reports: its ERQ_BUDGET record (before it). */
void brs__fix_erq_journal_budget(brs__fix_gateway *g);
/* Replay of the records. */
void brs__fix_erq_replay_budget(brs__fix_gateway *g, uint32_t budget);
void brs__fix_erq_replay_delivered(brs__fix_gateway *g, uint32_t session, uint32_t n);
void brs__fix_erq_free(brs__fix_gateway *g);

/* app_events.c: a session's runtime events taken over loop turns (issue 15:
 * a deep sweep's 80,000 events went through the order table in one loop
 * turn). Journal records: EVQ_BUDGET (u32 budget): from here on a session
 * takes at most `budget` events of one step at once, the rest wait (0:
 * none wait); EVQ_DELIVERED (u32 session, u32 n): a loop turn took the n
 * oldest waiting events of the session. A replay rebuilds the queues from
 * both and from the steps' ends (brs__fix_evq_step_end). */
#define JOURNAL_EVQ_BUDGET 0x7fffffe9u
#define JOURNAL_EVQ_DELIVERED 0x7fffffeau
/* Should this event of session's order wait (its queue is not empty, or the
 * session took its budget of the step already)? Queued then (copied);
 * returns 0 when it is to be taken now (also out of memory). */
int brs__fix_evq_defer(brs__fix_gateway *g, uint32_t session, const brs_order_event *ev);
/* The event taken into the order state now (app.c). */
void brs__fix_event_apply(brs__fix_gateway *g, const brs_order_event *ev);
/* A due EVQ_BUDGET record goes ahead of the batch's records (flush). */
void brs__fix_evq_flush_budget(brs__fix_gateway *g);
/* Replay of the records. */
void brs__fix_evq_replay_budget(brs__fix_gateway *g, uint32_t budget);
void brs__fix_evq_replay_delivered(brs__fix_gateway *g, uint32_t session, uint32_t n);
void brs__fix_evq_free(brs__fix_gateway *g);

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
/* Every order of the table into an empty map sized for them (app_table.c);
 * huge: its keys' arena in huge pages (a restart, before listening). */
int brs__fix_map_put_all(brs__fix_gateway *g, int huge);
int brs__fix_map_key_current(const brs__fix_gateway *g, const brs__fix_clmap_entry *e);
brs__fix_clmap_entry *brs__fix_map_alloc(uint64_t cap, int huge);
void brs__fix_map_free(brs__fix_gateway *g);
void brs__fix_advise_huge(void *p, size_t n);
brs__fix_order *brs__fix_order_by_id(brs__fix_gateway *g, uint64_t id);
void brs__fix_table_sorted(brs__fix_gateway *g);
int brs__fix_table_sort_by_id(brs__fix_gateway *g);
int brs__fix_add_slot(brs__fix_gateway *g, uint64_t id, brs__fix_order **out);
int brs__fix_forget_closed(brs__fix_gateway *g, int keep_in_flight);
int brs__fix_closed_dup(const brs__fix_gateway *g, uint32_t session, const char *s, size_t n);
int brs__fix_journal_append(brs__fix_gateway *g, uint32_t session, const char *m, uint32_t len);
void brs__fix_journal_temp_path(const brs__fix_gateway *g, char *out, size_t cap);
void brs__fix_on_event(void *ctx, const brs_order_event *ev);
void brs__fix_pump(brs__fix_gateway *g, int64_t now);
uint32_t brs__fix_client_of(const brs__fix_gateway *g, uint32_t session);
void brs__fix_on_dup(void *app, brs__fix_session *s, const brs__fix_msg *m);

/* app_eod.c: the end of day in bounded journaled steps (docs/fix-gateway.md,
 * "Compaction at the end of day"): the DAY orders of the old day expire a
 * slice per loop turn in OrderID order, then the old day's closed orders
 * leave memory through app_forget.c's steps in the new day's mode. */
/* Starts it (live: journals EOD_STEPS; replay: its record). */
void brs__fix_eod_begin(brs__fix_gateway *g, int64_t boundary, uint64_t last_id, int mode);
/* A DAY limit order rests at its price (accepted, replaced, restored): the
 * day's bounds, or the old day's for an old day's order while its expiry runs. */
void brs__fix_eod_note(brs__fix_gateway *g, const brs__fix_order *o);
/* While the expiry slices run: the old day's open DAY orders an order of
 * side at px (any price: market) would meet in instrument instr expire now,
 * before it reaches the venue (a replay does the same at the same message). */
/* Returns 1 when the order's own action is to follow them in order: the
 * caller sends it with brs__rt_after_sent on (then off). */
int brs__fix_eod_expire_crossed(brs__fix_gateway *g, uint32_t instr, uint8_t side, int market, int64_t px);
/* The runtime's submit hook (brs__rt_set_submit_hook): a hosted strategy's
 * order (anything but a client's) expires the old day's DAY orders it would
 * meet first, under the rules of EOD_STEPS_V2 (in the replay alike: the
 * runtime's steps are); under EOD_STEPS_V3 also its replace (the replace
 * hook, brs__rt_replace_known), and while an expiry is on the wire it goes
 * after it. */
int brs__fix_eod_submit_hook(void *user, uint32_t client, const brs_order *o);
/* While the expiry slices run: a client's replace of an old day's DAY order
 * the slices have not reached expires that order first (replaced, it would
 * go on in the new day, and trade as the aggressor at a crossing price); 1
 * when it did (the replace is then refused), 0 for any other order. */
int brs__fix_eod_expire_order(brs__fix_gateway *g, brs__fix_order *o);
void brs__fix_eod_replay_slice(brs__fix_gateway *g, uint64_t end);
/* (EOD_STEPS_V3, EOD_FORGET_WIRE) the sessions' DAY orders up to last_id
 * and replaces of them still on the wire expire at the venue on arrival
 * (brs__rt_day_over), flagged (their Canceled is the expiry): returns how
 * many. */
uint32_t brs__fix_eod_wire(brs__fix_gateway *g, uint64_t last_id);
void brs__fix_eod_replay_forgotten(brs__fix_gateway *g);
/* The forget steps of the new day ended (app_forget.c): journaled (live). */
void brs__fix_eod_forgotten(brs__fix_gateway *g);
/* After a replay: what a crash interrupted goes on in the loop. */
void brs__fix_eod_resume(brs__fix_gateway *g);
/* Without a loop (tests, bench): every step at once, journaled as under serve. */
void brs__fix_eod_run_all(brs__fix_gateway *g);
/* Is this order of the old day gone for lookups (closed before the boundary
 * or by its expiry, nothing since)? Only while eod_phase is set. */
static inline int brs__fix_eod_gone(const brs__fix_gateway *g, const brs__fix_order *o)
{
    return o->id <= g->eod_last_id && !o->open && o->status != '0' && o->eod_tag != g->eod_tag;
}
/* Something other than its expiry changed order o after the boundary: an
 * old day's order is then kept as a new day's. */
static inline void brs__fix_eod_touch(brs__fix_gateway *g, brs__fix_order *o)
{
    if (g->eod_phase && o->id <= g->eod_last_id && !g->expiring)
        o->eod_tag = g->eod_tag;
}

/* app_forget.c: closed orders leave memory a bounded step per loop turn
 * after a checkpoint (the phases in order; the table's gap exists in TABLE). */
#define BRS__FIX_FG_WAIT_MAP 1 /* a growth of the ClOrdID map finishes first */
#define BRS__FIX_FG_LINKS 2    /* earlier links of replace chains become hashes */
#define BRS__FIX_FG_TABLE 3    /* closed orders become hashes, open ones move down */
#define BRS__FIX_FG_REBUILD 4  /* the map is moved to a table without tombstones */
#define BRS__FIX_MAP_TOMB UINT32_MAX /* a map entry's order: forgotten */
void brs__fix_forget_start(brs__fix_gateway *g);
/* The same for the new day of a stepwise end of day: no hashes kept; the
 * old day's gone orders (brs__fix_eod_gone) and earlier links leave. */
void brs__fix_forget_start_newday(brs__fix_gateway *g);
/* A cancel or replace gave order o a new ClOrdID: during a forget the
 * earlier one (prev) becomes a hash at once (its entry could not follow o). */
void brs__fix_forget_link(brs__fix_gateway *g, const brs__fix_order *o, const char *prev);
/* app_masscancel.c: the open orders pick(o, ctx) accepts with OrderIDs in
 * (after, min(end, last)] cancelled through the runtime in OrderID order,
 * each cancel's events pumped: at most `per` cancels and per x 64 slots
 * passed over, and (stop_busy) none once the runtime's queue is full.
 * Returns the last OrderID passed over (`after` when none), or UINT64_MAX
 * when the table or `last` was passed; *n the cancels. A streamed mass
 * cancel's slices and the end of day's expiry slices, live (bounded) and
 * replayed (end = the OrderID the live slice reached). */
typedef int (*brs__fix_pick)(const brs__fix_order *o, const void *ctx);
/* Cancel one open order through the runtime (an expiry while g->expiring is
 * set): 1 when the cancel was sent, its events taken (brs__fix_pump). */
int brs__fix_cancel_one(brs__fix_gateway *g, brs__fix_order *o);
uint64_t brs__fix_cancel_slice(brs__fix_gateway *g, uint64_t after, uint64_t end, uint64_t last, uint32_t per,
                               int stop_busy, brs__fix_pick pick, const void *ctx, uint32_t *n);
/* app_table.c, for app_forget.c */
uint64_t brs__fix_slot_after(const brs__fix_gateway *g, uint64_t id);
uint64_t brs__fix_slot_next(const brs__fix_gateway *g, uint64_t k);
int brs__fix_map_forget(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t ref);
/* The entry of (session, s) pointing at slot ref becomes a tombstone (no hash). */
void brs__fix_map_tomb(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t ref);
void brs__fix_map_repoint(brs__fix_gateway *g, uint32_t session, const char *s, uint32_t from,
                          uint32_t to);
uint64_t brs__fix_map_retire_links(brs__fix_gateway *g, uint64_t from, uint64_t k);
/* New day's mode: entries gone for lookups become tombstones (no hash). */
uint64_t brs__fix_map_drop_gone(brs__fix_gateway *g, uint64_t from, uint64_t k);
int brs__fix_map_step(brs__fix_gateway *g, uint64_t slots);
/* The rebuild: a table of this many slots (zeroed, from brs__fix_map_alloc)
 * takes the live entries, moved over by brs__fix_map_step; BRS_E_LIMIT when
 * they no longer fit it (the caller frees it and makes a new one). */
uint64_t brs__fix_map_rebuild_cap(const brs__fix_gateway *g);
int brs__fix_map_rebuild_to(brs__fix_gateway *g, brs__fix_clmap_entry *m, uint64_t cap);

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

/* A per-session array (mass cancels, report queues, event queues) grown on
 * first use to the gateway's session count, the new entries zeroed: the array
 * (perhaps moved; *n updated), or NULL out of memory with *arr unchanged. */
static inline void *brs__fix_per_session_grow(void *arr, uint32_t *n, uint32_t want, size_t elem)
{
    char *p = realloc(arr, (size_t)want * elem);
    if (!p)
        return NULL;
    memset(p + (size_t)*n * elem, 0, (size_t)(want - *n) * elem);
    *n = want;
    return p;
}

#endif
