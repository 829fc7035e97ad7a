/* app.h: the FIX application: order entry (NewOrderSingle, OrderCancelRequest,
 * OrderCancelReplaceRequest) through the runtime's order path (host/runtime:
 * each session a client, routed to a venue or the smart order router), ExecutionReports and
 * OrderCancelRejects back, and market data (snapshot, snapshot + incremental
 * updates). Order-entry messages are journaled before they are answered, so a
 * restarted gateway replays them into a fresh engine and gets its open orders,
 * order ids and exec ids back exactly; each end of day compacts memory and the
 * journal down to the open state (a snapshot the replay starts from). */
#ifndef BRS_FIX_APP_H
#define BRS_FIX_APP_H

#include <stdint.h>

#include "fix/clset.h"
#include "risk/risk.h"
#include "runtime/runtime.h"
#include "runtime/rt_evq.h"
#include "fix/session.h"
#include "ops/metrics.h"

#define BRS__FIX_CLORDID_MAX 48
#define BRS__FIX_MD_DEPTH 20
/* market data limits: defaults of the serve.json keys, and the hard ceiling of
 * symbols in one MarketDataRequest */
#define BRS__FIX_MD_DEFAULT_SUBS 4096
#define BRS__FIX_MD_DEFAULT_SUBS_PER_SESSION 64
#define BRS__FIX_MD_DEFAULT_SYMBOLS 64
#define BRS__FIX_MD_MAX_SYMBOLS 1024

typedef struct brs__fix_instr {
    char symbol[BRS_SYMBOL_MAX];
    int decimals;       /* price_scale = 10^decimals */
    int64_t tick_size;  /* in price units */
    int64_t lot_size;
} brs__fix_instr;

/* Laid out without padding (144 bytes; 160 with the fields in their old
 * order): the table holds every open order, so a restart with 2M of them
 * zeroes and fills 32 MB less. */
typedef struct brs__fix_order {
    __int128 notional; /* sum of price x qty over fills, for AvgPx */
    uint64_t id;
    int64_t price, qty, leaves, cum;
    int64_t entered_ns; /* when the NewOrderSingle arrived (metrics); 0 after a restart */
    int64_t cum0;       /* cum when it was rested from a snapshot: the venue counts from there */
    uint64_t prio;      /* queue priority at its level: lower is earlier (snapshots keep it) */
    uint32_t session;
    uint32_t instrument;
    uint8_t side, ord_type, tif, open;
    char status; /* OrdStatus */
    char clordid[BRS__FIX_CLORDID_MAX];
    /* 1: the end of day's cancel for its expiry was sent (app_eod.c): its
     * Canceled event is the expiry, whenever it comes (a cancel latency, an
     * event queue), reported ExecType C and no change of the new day */
    uint8_t expiry;
    /* during a stepwise end of day (app_eod.c): an order of the old day that
     * something other than its expiry changed after the boundary carries that
     * end of day's tag (g->eod_tag) and is kept as a new day's order */
    uint16_t eod_tag;
} brs__fix_order;

/* What the gateway did, counted by the loop thread and published as Prometheus
 * counters by host/fix/fix_metrics.c (never read on the hot path). */
typedef struct brs__fix_stats {
    uint64_t acks, fills, cancels, expiries, replaces, rejects, risk_refusals;
    uint64_t busy_refusals; /* order actions refused while the runtime queue was full */
    int64_t open; /* orders open now */
} brs__fix_stats;

typedef struct brs__fix_clmap_entry {
    uint64_t hash;  /* of (session, ClOrdID) */
    uint32_t order; /* slot + 1 in the order table; 0 empty */
    uint32_t key;   /* offset of (session, ClOrdID) in the key arena (app_table.c) */
} brs__fix_clmap_entry;

typedef struct brs__fix_md_sub {
    uint32_t session;
    uint32_t instrument;
    uint32_t venue;   /* MDMkt's venue, or BRS__RT_ALL_VENUES: the consolidated book */
    uint32_t gen;     /* the book's change counter when last read (runtime/rt_books.h) */
    uint32_t depth;
    int full_refresh; /* MDUpdateType 0: updates as W, else X */
    int trades;       /* MDEntryType 2 asked for: trades as entries of the updates */
    char reqid[64];
    uint32_t n[2];
    brs_level last[2][BRS__FIX_MD_DEPTH];
} brs__fix_md_sub;

/* A trade of the message being processed, for market data (MDEntryType 2). */
typedef struct brs__fix_md_trade {
    uint32_t instrument;
    uint32_t venue;
    int64_t price, qty;
} brs__fix_md_trade;

/* A session's mass cancel in progress (app_masscancel.c). */
typedef struct brs__fix_mc {
    uint64_t after;  /* the orders up to this OrderID are done */
    int32_t instr;   /* -1: all instruments */
    char side;       /* 0, '1', '2' */
    uint8_t active;
} brs__fix_mc;

/* A session's queue of ExecutionReports waiting to be delivered
 * (app_reports.c); epoch/count: the reports of the message being processed
 * so far (max_reports_per_turn). */
typedef struct brs__fix_erq {
    brs__qchunk *head, *tail; /* records packed in chunks, oldest first */
    uint64_t n;                             /* records waiting */
    uint32_t count;
    uint64_t epoch;
} brs__fix_erq;

/* A session's runtime events waiting to be taken into its order state
 * (app_events.c): a deep sweep's events past max_events_per_turn; epoch /
 * count: the events it took at once in the current step; deferred, turns,
 * t0: since the queue last filled (its log lines). */
typedef struct brs__fix_evq {
    brs__rt_evq q; /* the events waiting, oldest first */
    uint32_t count;
    uint64_t epoch;
    uint64_t deferred, turns;
    int64_t t0;
} brs__fix_evq;

/* What the checkpoint's child writes with, allocated before the fork (the
 * child calls no malloc): the write buffer, (prio, slot) pairs for the sort
 * of the open orders by queue priority (two arrays of n), radix counts. */
typedef struct brs__fix_snap_scratch {
    char *buf;
    size_t cap;
    uint64_t *pairs;
    uint64_t n;
    uint64_t *count;
} brs__fix_snap_scratch;

/* Per instrument, the prices DAY limit orders rest at (app_eod.c): the
 * highest buy and the lowest sell of the day's, and of the old day's while
 * an end of day's expiry runs (INT64_MIN, INT64_MAX: none). Bounds, never
 * narrower than the orders: a new order that cannot reach the old day's
 * bound meets none of its DAY orders. */
typedef struct brs__fix_day_px {
    int64_t buy_max, sell_min, old_buy_max, old_sell_min;
} brs__fix_day_px;

typedef struct brs__fix_gateway {
    brs__fix_instr *instr;
    uint32_t n_instr;
    brs__fix_day_px *day_px; /* per instrument */
    brs__fix_session **sessions;
    uint32_t n_sessions, cap_sessions;
    /* the runtime the orders go through: each session is a client with its
     * route; OrderIDs are the clients' order ids */
    brs__rt *rt;
    int own_rt;                 /* opened here (the default sim venue): destroyed here */
    brs_config rt_cfg;          /* the default runtime's config (own_rt) */
    brs_instrument *rt_instr;   /* the instruments as the runtime sees them */
    uint32_t *client;           /* per session: its runtime client id */
    brs__rt_route next_route;   /* the route of the next session added */
    int has_route;              /* next_route is set */
    int last_mkt;               /* fills carry LastMkt (30): the config named its venues */
    const char *fill_venue;     /* LastMkt of the fill being reported */
    int restoring;              /* snapshot orders being rested: venue events are no reports */
    int restore_kind;           /* the first event a rested order got */
    uint64_t prio_seq;
    /* the order table: slots in OrderID order holding the open orders and the
     * orders closed since the last end of day (compaction drops those). Slots
     * [dense_start, n_orders) hold consecutive OrderIDs from dense_first (the
     * orders entered since the last compaction: found by subtraction); slots
     * before dense_start are sorted (what compaction kept: binary search). */
    brs__fix_order *orders;
    uint64_t n_orders, cap_orders;
    uint64_t dense_start, dense_first;
    uint64_t last_order_id; /* OrderIDs are never reused */
    /* ClOrdID map, open addressing. It grows without a pause: the doubled
     * table takes new keys at once while the old one, left untouched (its
     * probe chains stay valid for lookups), is moved over a few slots per
     * insert (map_old_next), then freed. */
    brs__fix_clmap_entry *map;
    uint64_t map_cap, map_used;
    brs__fix_clmap_entry *map_old;
    uint64_t map_old_cap, map_old_next;
    char *keys; /* the map's keys, appended; offsets fit 32 bits */
    uint64_t keys_len, keys_cap;
    brs__fix_md_sub *subs;
    uint32_t n_subs, cap_subs;
    /* market data limits (serve.json: max_md_subscriptions, ..._per_session,
     * max_md_symbols_per_request); a refusal is an MDReqRej 281=2 and a log line */
    uint32_t max_md_subs, max_md_subs_per_session, max_md_symbols;
    int64_t md_limit_logged_ns;  /* rate limit of that log line */
    uint32_t md_limit_quiet;     /* refusals not logged since */
    struct brs__fix_md_view *md_view; /* per (venue, or consolidated) and instrument: the book as last read */
    brs__fix_md_trade *trades; /* since the last md_publish (kept only with trade subscribers) */
    uint32_t n_trades, cap_trades;
    uint32_t n_trade_subs;
    uint64_t next_exec_id;
    /* journal of order-entry messages (replayed at start) */
    int jfd;
    char *jpath;
    int fsync_policy;
    char *jbuf;
    size_t jlen, jcap;
    int replaying;
    /* commit batches (docs/fix-gateway.md, "One atomic step per inbound
     * message"): the stores tag what they write with `batch`; the journal's
     * COMMIT record for it makes it count. */
    uint64_t batch;
    char fail_msg[256];   /* why the last flush failed ("" none) */
    int no_journal;       /* the message being processed changes nothing */
    /* the request being processed, for the events it causes */
    const char *req_clordid;
    const char *req_orig;
    uint64_t req_order;
    uint64_t stat_orders, stat_events;
    brs__fix_stats st;
    /* the last order reject, for the session log (server.c observe) */
    uint32_t rej_session;
    char rej_clordid[BRS__FIX_CLORDID_MAX];
    char rej_text[96];
    struct brs__histogram *h_ack, *h_fill; /* order to acknowledgement / to fill; NULL: metrics off */
    /* arrival times of the orders acknowledged / filled in this loop turn:
     * observed into h_ack / h_fill with one clock read at the turn's end
     * (brs__fix_gateway_observe_latency), not one per report */
    brs__latq lat_ack, lat_fill; /* (ops/metrics.h) */
    struct brs__live *live; /* the live dashboard's positions and fills (host/ops/live.h); NULL: off */
    /* pre-trade risk (host/risk), one state per session when configured */
    int risk_on;
    brs_risk_config risk_cfg;
    brs_risk *risk;
    uint32_t jflags;      /* decisions of the message being processed (journaled) */
    uint32_t replay_flags;
    /* DAY orders: the day boundary (ns since the epoch) of the last expiry or
     * mark, 0 none yet; expiring: the cancels now are expiries (1: a slice's,
     * their events taken at once; 2: before an order that would meet them,
     * their events queued as any) */
    int64_t day_boundary;
    int expiring;
    /* checkpoints (brs__fix_gateway_checkpoint): the ClOrdIDs of the orders
     * they forgot today, the set a snapshot being built writes, the journal's
     * size and the size of the snapshot it starts with */
    brs__fix_clset closed;
    const brs__fix_clset *snap_closed;
    uint64_t jsize, snap_bytes;
    /* order entry of other gateways in the same journal (bourse serve's
     * WebSocket accounts): replay hands their records back */
    int (*replay_ws)(void *user, uint32_t account, int64_t t, const char *text, size_t len);
    /* the market data feed's steps (FEED records: n events at loop time t;
     * with n 0 nothing but the clock), and the start of a replay: has the
     * journal feed records, or is it a journal from before runtime time was
     * recorded (legacy: no CLOCK, FEED or WS record)? */
    int (*replay_feed)(void *user, int64_t t, uint64_t n);
    /* after each journaled step (a message, a mass cancel slice), live and in
     * the replay alike, before market data goes out: hosted strategies get
     * the venues' books (server.c; NULL: none) */
    void (*books_hook)(void *user);
    void (*replay_begin)(void *user, int has_feed, int legacy);
    /* the hosted strategies' own steps (STRAT records: runtime/rt_hosted.c's
     * bytes, opaque here): replay hands them back */
    int (*replay_strat)(void *user, const char *rec, size_t len);
    void *replay_user;
    /* runtime time in the journal (docs/fix-gateway.md): the last CLOCK
     * written or replayed, market data events replayed so far */
    int64_t jclock_t;
    uint64_t feed_events;
    /* replay: OrderIDs of the snapshot read so far and announced */
    uint64_t snap_read, snap_want;
    int in_snapshot;
    /* mass cancels streaming over loop turns: per session (n_mc), how many
     * run; mc_per_turn (max_cancels_per_turn) cancels per slice, 0: a mass
     * cancel runs whole inside its message (no loop: tests, bench) */
    brs__fix_mc *mc;
    uint32_t n_mc, n_mc_active, mc_per_turn;
    /* ExecutionReports streaming over loop turns (app_reports.c): per
     * session (n_erq) a queue, how many are not empty; erq_per_turn
     * (max_reports_per_turn) reports per session a message makes before the
     * rest queue, and per delivery slice, 0: never queued (no loop: tests,
     * bench); the message being processed: its epoch, budget (0: none, a
     * replay takes it from the journal), reports queued */
    brs__fix_erq *erq;
    uint32_t n_erq, n_erq_active, erq_per_turn;
    uint64_t erq_epoch;
    uint32_t erq_budget, erq_replay_budget;
    uint64_t erq_queued;
    int erq_bit; /* the message's budget bit: some report queued past it */
    /* runtime events a session takes over loop turns (app_events.c): per
     * session (n_evq) a queue, how many are not empty; evq_per_turn
     * (max_events_per_turn) events of one step a session takes at once, and
     * per slice of its queue, 0: all at once (no loop: tests, bench); the
     * step counter (evq_epoch: every journaled step ends one, live and
     * replayed alike); the budget a replay reads from EVQ_BUDGET records and
     * the last one written to this journal (set: one was); draining: a
     * slice's events are being taken (their reports queue) */
    brs__fix_evq *evq;
    uint32_t n_evq, n_evq_active, evq_per_turn;
    uint64_t evq_epoch;
    uint32_t evq_replay_budget, evq_journaled;
    int evq_journaled_set, evq_draining, evq_budget_due;
    /* closed orders leaving memory after a checkpoint, a bounded step per
     * loop turn (app_forget.c): fg_phase BRS__FIX_FG_*, 0 none; fg_per_turn
     * (max_forget_per_turn) slots of the map or the table per step; the
     * table is compacted in place, [0, fg_w) done, [fg_r, n_orders) not yet
     * (the slots between are a gap nothing reads); forgotten ClOrdIDs leave
     * tombstones in the map (map_tombs), rebuilt away at the end */
    uint8_t fg_phase;
    uint32_t fg_per_turn;
    uint64_t fg_pos, fg_r, fg_w, fg_held, fg_forgotten, fg_steps;
    int64_t fg_t0;
    uint64_t map_tombs;
    brs__fix_clmap_entry *fg_map; /* the rebuild's table, being touched */
    uint64_t fg_map_cap;
    void *fg_touch_ptr;           /* what prefault() touches, and how far */
    size_t fg_touched;
    int fg_touch_part;
    /* a checkpoint being written by a child process (app_checkpoint.c): its
     * pid (0 none), its unnamed file, the journal size at the fork, start
     * time, fork time */
    int ckpt_pid, ckpt_fd;
    uint64_t ckpt_off;
    int64_t ckpt_t0, ckpt_fork_ns;
    brs__fix_snap_scratch ckpt_scratch;
    /* the end of day's compaction waits for the loop (async_compact: bourse
     * serve, which starts it as a checkpoint once no order is in flight);
     * without a loop it is written at once, the same way */
    int async_compact, compact_due;
    /* the end of day in bounded journaled steps over loop turns (app_eod.c):
     * eod_phase BRS__FIX_EOD_*, 0 none; the old day's last OrderID, the
     * OrderID the expiry slices reached, this end of day's tag (orders of the
     * old day changed since the boundary carry it: kept); fg_newday: the
     * forget steps run in the new day's mode (no hashes kept) */
    uint8_t eod_phase;
    /* the rules of this end of day (its record's mode): 1 as written before
     * 2026-12-07 14:00 (EOD_STEPS), 2 (EOD_STEPS_V2) orders still on their
     * way to a venue expire too and the expiries reach it in order
     * (brs__rt_after_sent); 3 (EOD_STEPS_V3) an old day's DAY order or
     * replace still on the wire expires at the venue on arrival
     * (brs__rt_day_over); a replay applies the rules the journal ran with */
    uint8_t eod_v;
    uint8_t fg_newday, fg_rebuilt;
    uint16_t eod_tag;
    uint64_t eod_last_id, eod_after, eod_expired, eod_slices;
    uint32_t eod_crossed; /* expiries of the last expire() (app_eod.c) */
    /* a client's order going to the runtime now (on_new_order: the runtime's
     * submit hook leaves it alone); the expiries of the hook wait for the
     * runtime's step they are in (no pump) */
    uint8_t own_submit, eod_nopump;
    /* the order path's test: the expiry slices run, or (EOD_STEPS_V3) an
     * expiry of theirs is still on the wire (app_eod.c) */
    uint8_t eod_gate;
    int64_t eod_t0;
} brs__fix_gateway;

/* instruments are copied; journal_path NULL keeps no journal. The orders go
 * to a runtime of its own with one venue, the in-process sim venue named
 * "sim" (max_orders its resting-order capacity, 0: its default). */
int brs__fix_gateway_open(brs__fix_gateway *g, const brs__fix_instr *instr, uint32_t n,
                          uint32_t max_orders, const char *journal_path, int fsync_policy,
                          brs_error *err);
/* The same on a runtime the caller owns (bourse serve: venues, router, risk
 * and latency from its config); last_mkt: fills carry LastMkt (30). */
int brs__fix_gateway_open_rt(brs__fix_gateway *g, const brs__fix_instr *instr, uint32_t n,
                             brs__rt *rt, int last_mkt, const char *journal_path,
                             int fsync_policy, brs_error *err);
/* The runtime config of a gateway without venues: one in-process sim venue
 * named "sim" (max_orders its resting-order capacity, 0: its default). */
int brs__fix_default_runtime(brs_config *cfg, brs__rt_opts *o, uint32_t max_orders, brs_error *err);
/* The route of the next session added (default: the runtime's default route). */
void brs__fix_gateway_next_route(brs__fix_gateway *g, const brs__rt_route *route);
/* The runtime's instruments for a FIX instrument table (price_scale 10^decimals). */
int brs__fix_rt_instruments(const brs__fix_instr *in, uint32_t n, brs_instrument **out);
void brs__fix_gateway_close(brs__fix_gateway *g);
/* Check every NewOrderSingle against these limits, per session (before
 * sessions are added). A refusal is an ExecutionReport Rejected, 103=3. */
void brs__fix_gateway_set_risk(brs__fix_gateway *g, const brs_risk_config *cfg);
/* Attach a session (its index is its position, stable across restarts). */
int brs__fix_gateway_add_session(brs__fix_gateway *g, brs__fix_session *s);
/* Replay the journal into the engine (no messages are sent). */
int brs__fix_gateway_replay(brs__fix_gateway *g, brs_error *err);
/* The latencies of the acknowledgements and fills reported since the last
 * call go into h_ack / h_fill, all with one clock read: the end of the loop
 * turn that built them. Called by the server once per turn (metrics on). */
void brs__fix_gateway_observe_latency(brs__fix_gateway *g);

/* Commit: write every session store's pending records (fdatasync under the
 * batch policy), then the journal's records and a COMMIT record for the batch
 * (fdatasync). Only then may the batch's replies reach the wire. BRS_E_IO on a
 * write or sync failure (g->fail_msg says which file and why): nothing of the
 * batch may be sent, and a restart cuts the batch off. */
int brs__fix_gateway_flush(brs__fix_gateway *g);
/* End of the trading day at `boundary` (ns since the epoch): every open DAY
 * order expires (ExecutionReport ExecType C, OrdStatus C, to its session,
 * stored for resend if it is not connected). mark_only records the boundary
 * without expiring anything (the first start with an end of day configured:
 * the orders found there may be from today). Journaled, so a replay expires
 * the same orders; g->day_boundary holds the latest boundary.
 * Unless mark_only, the day's closed orders then leave the order table and
 * the ClOrdID map (which keeps the open orders' current ClOrdIDs only: FIX
 * ClOrdIDs are unique within a day), and the journal is rewritten as a
 * snapshot of the open state (temporary file, fsync, rename, fsync of the
 * directory). Returns BRS_OK, or the error of the snapshot (err): the old
 * journal then stays, with an end-of-day record appended, and is still
 * complete. With mc_per_turn and fg_per_turn set (bourse serve) the expiry
 * and the forgetting run in bounded journaled steps over the next loop turns
 * instead (app_eod.c: brs__fix_gateway_eod_step, then
 * brs__fix_gateway_forget_step), at once when there is no loop
 * (async_compact off); the compaction follows them. */
int brs__fix_gateway_end_of_day(brs__fix_gateway *g, int64_t boundary, int mark_only,
                                brs_error *err);
/* A checkpoint within the day: the journal is rewritten as a snapshot of the
 * open orders (as at the end of day, archived first) that also lists the
 * hashes of the day's ClOrdIDs no longer held, and the closed orders leave
 * memory. A ClOrdID of the day stays refused as a duplicate (OrdRejReason 6);
 * an order closed before the checkpoint is then unknown to status requests
 * and cancels. Call between batches (after brs__fix_gateway_flush). On error
 * nothing changes (err says why). */
int brs__fix_gateway_checkpoint(brs__fix_gateway *g, brs_error *err);
/* The session's ExecutionReports are still streaming (a deep sweep): its
 * later messages wait. */
int brs__fix_gateway_erq_active(const brs__fix_gateway *g, uint32_t session);
/* The next slice of the session's queued reports (up to erq_per_turn),
 * stored for sending and journaled; returns the reports delivered. */
uint32_t brs__fix_gateway_erq_step(brs__fix_gateway *g, uint32_t session);
/* The session has runtime events waiting (a deep sweep): its later messages
 * wait. */
int brs__fix_gateway_evq_active(const brs__fix_gateway *g, uint32_t session);
/* The next slice of the session's waiting events (up to evq_per_turn, an
 * eighth while a checkpoint's child writes) taken into its order state, their
 * reports queued, journaled; returns the events taken. */
uint32_t brs__fix_gateway_evq_step(brs__fix_gateway *g, uint32_t session);
/* The journal is to hold the budget this gateway defers events past (an
 * EVQ_BUDGET record, due when it is not known to hold it yet, or always with
 * `force`: a checkpoint's fork); it ends a step. Between loop turns only. */
void brs__fix_evq_journal_budget(brs__fix_gateway *g, int force);
/* A journaled step ended (live and replayed alike: a message, a mass cancel
 * slice, a slice of waiting events, a market data step, an EVQ_BUDGET record):
 * the events a session takes at once are counted anew. */
void brs__fix_evq_step_end(brs__fix_gateway *g);
/* The session's mass cancel is still streaming: its later messages wait. */
int brs__fix_gateway_mc_active(const brs__fix_gateway *g, uint32_t session);
/* The next slice of the session's mass cancel (up to mc_per_turn cancels, less
 * when the runtime's queue fills), journaled; returns the cancels done. */
uint32_t brs__fix_gateway_mc_step(brs__fix_gateway *g, uint32_t session);
/* The same checkpoint, its snapshot written by a child process so the loop
 * does not wait for it (bourse serve): start it right after a commit; poll
 * after each commit: *done when the child ended, BRS_OK when the journal was
 * replaced, else the error (nothing changed, the old journal is complete).
 * abort: the child is killed and its temporary removed (closing). */
int brs__fix_gateway_checkpoint_start(brs__fix_gateway *g, brs_error *err);
int brs__fix_gateway_checkpoint_poll(brs__fix_gateway *g, int *done, brs_error *err);
void brs__fix_gateway_checkpoint_abort(brs__fix_gateway *g);
/* Closed orders are leaving memory (after a checkpoint), a step a turn. */
int brs__fix_gateway_forgetting(const brs__fix_gateway *g);
/* The next step of it (fg_per_turn slots); returns nonzero while more remain. */
int brs__fix_gateway_forget_step(brs__fix_gateway *g);
/* The phases of a stepwise end of day (g->eod_phase, app_eod.c). */
#define BRS__FIX_EOD_EXPIRE 1 /* expiry slices */
#define BRS__FIX_EOD_FORGET 2 /* forget steps (live), or waiting for EOD_FORGOTTEN (replay) */
/* The next step of a stepwise end of day's expiry (app_eod.c: up to
 * mc_per_turn DAY orders of the old day, journaled); returns nonzero while
 * the end of day's steps (expiry, then forget) are not over. */
int brs__fix_gateway_eod_step(brs__fix_gateway *g);
/* While the expiry slices run and the old day may still have a DAY order
 * resting (brs__fix_day_px), or (EOD_STEPS_V3) an expiry is still on the
 * wire: nonzero. bourse serve then holds what it cannot first expire the old
 * day's orders for (the market data replay, the hosted strategies' timers
 * and book tops, WebSocket requests) until then, so no DAY order of the old
 * day trades in the new day. */
int brs__fix_gateway_eod_holds(const brs__fix_gateway *g);
/* Orders in the order table now (open ones and those closed since the last
 * end of day). */
uint64_t brs__fix_gateway_orders_held(const brs__fix_gateway *g);
/* Reports the runtime delivered outside a request went out: market data
 * subscribers get the changes of the books that moved (whatever moved them:
 * clients, strategies, replayed market data; the runtime counts them). */
void brs__fix_gateway_publish(brs__fix_gateway *g);
/* The session lost its connection: its market data subscriptions end. */
void brs__fix_gateway_session_gone(brs__fix_gateway *g, brs__fix_session *s);
/* A routed child's step (the runtime's child hook) as a journal record of the
 * batch being built, for `bourse audit`: owner is the parent's client as the
 * audit names it (a session's CompID, "ws:ACCOUNT"), order its order id as
 * text (OrderID, client_order_id). Nothing while replaying or without a journal. */
int brs__fix_journal_child(brs__fix_gateway *g, const brs__rt_child_note *n, const char *owner,
                           const char *order);
/* A WebSocket order request (account index, the runtime clock it ran at, the
 * JSON text) as a journal record of the batch being built; replay hands it to
 * g->replay_ws. Nothing while replaying or without a journal. */
int brs__fix_journal_ws(brs__fix_gateway *g, uint32_t account, int64_t t, const char *text, size_t len);
/* A WebSocket order report (the `order` JSON message as sent, the account's
 * index and name, the event's venue time) as a journal record, for `bourse
 * audit`. Nothing while replaying or without a journal. */
int brs__fix_journal_ws_report(brs__fix_gateway *g, uint32_t account, const char *name, int64_t t,
                               const char *text, size_t len);
/* The runtime's clock moved to t with an effect (its clock hook), or a
 * message is about to be journaled at t: a CLOCK record unless the last one
 * says t already. Replay advances the runtime to t there. */
int brs__fix_journal_clock(brs__fix_gateway *g, int64_t t);
/* The same, written even when the last one says t: the loop's own advance
 * did something no other record stands for (with several steps at the same
 * t, a replay advances there, not at the next record: the events of a deep
 * sweep then queue where they did live, app_events.c). */
int brs__fix_journal_clock_step(brs__fix_gateway *g, int64_t t);
/* The market data feed replayed n events at loop time t: a FEED record. */
int brs__fix_journal_feed(brs__fix_gateway *g, int64_t t, uint64_t n);
/* A hosted strategies' step outside the runtime's (their start, a timer turn,
 * a hot reload: runtime/rt_hosted.c's record, len bytes) as a STRAT record;
 * replay hands it to g->replay_strat. Nothing while replaying or without a
 * journal. */
int brs__fix_journal_strat(brs__fix_gateway *g, const void *rec, size_t len);
/* The session's business-message handler (brs__fix_app_fn). */
void brs__fix_gateway_on_app(void *app, brs__fix_session *s, const brs__fix_msg *m);

#endif
