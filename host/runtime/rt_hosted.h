/* rt_hosted.h: a config's strategies running on a real-clock runtime
 * (`bourse serve`'s "strategies" array, `bourse live`'s "strategy"): each entry a book-mode run's strategy
 * object (file, params, seed, runaway bounds; read by the one reader book mode
 * uses, brs__rt_strategy_cfg_read) plus name, route, instruments, out and hot
 * reload. Loaded, opened and started here, hosted by rt_strategy.c, driven by
 * the server's loop; Lua scripts reload in place (strategy/reload_watch.c);
 * with metrics, each strategy's series join the server's registry. */
#ifndef BRS_RUNTIME_RT_HOSTED_H
#define BRS_RUNTIME_RT_HOSTED_H

#include <stdint.h>

#include "core/config.h"
#include "rt_strategy.h"

/* A strategy object's keys shared with book mode's "strategy" (run.c). */
#define BRS__RT_STRATEGY_KEYS                                                                  \
    "file", "params", "seed", "max_orders_per_run", "max_callbacks_per_event",                 \
        "max_callbacks_per_instant", "max_log_bytes_per_callback", "max_log_bytes"

typedef struct brs__rt_strategy_cfg {
    const char *file;
    cJSON *params;            /* an object (added empty when missing) */
    int64_t seed, max_orders_run, max_cb_event, max_cb_instant, max_log_cb, max_log;
} brs__rt_strategy_cfg;

/* Read a strategy object's BRS__RT_STRATEGY_KEYS (the caller checks its key
 * list); `where` names it in messages ("strategy", "strategies[1]"). */
int brs__rt_strategy_cfg_read(brs_config *cfg, cJSON *obj, const char *where,
                              brs__rt_strategy_cfg *o, brs_error *err);

/* Check every entry of cfg's "strategies" (absent: none) without loading anything. */
int brs__rt_hosted_check(brs_config *cfg, brs_error *err);

typedef struct brs__rt_hosted brs__rt_hosted;
struct brs__mreg;

/* Load and open the strategies of cfg's "strategies" as clients of rt (added
 * now, in config order). Nothing runs until brs__rt_hosted_start. */
int brs__rt_hosted_open(brs__rt_hosted **out, brs__rt *rt, brs_config *cfg, brs_error *err);
/* One strategy object `obj` (a strategies[] entry's keys; `where` names it in
 * messages, "strategy") as the one strategy of a set: bourse live's. mode
 * ("live") titles its run directory; its own log lines from log_level. */
int brs__rt_hosted_open_one(brs__rt_hosted **out, brs__rt *rt, brs_config *cfg, cJSON *obj,
                            const char *where, const char *mode, int log_level, brs_error *err);
/* The i-th strategy's context and its runtime host (NULL past the end). */
brs__sctx *brs__rt_hosted_sctx(brs__rt_hosted *h, uint32_t i);
brs__rt_strat *brs__rt_hosted_strat(brs__rt_hosted *h, uint32_t i);
/* Each strategy's series (host/ops/run_metrics.c, mode "serve") into the
 * server's registry; their order counters count from now, positions and PnL
 * are read from the strategies themselves. */
int brs__rt_hosted_metrics(brs__rt_hosted *h, struct brs__mreg *reg, brs_error *err);
/* xStart of each, at the runtime's clock. */
int brs__rt_hosted_start(brs__rt_hosted *h, brs_error *err);
brs__rt_strats *brs__rt_hosted_set(brs__rt_hosted *h);
uint32_t brs__rt_hosted_count(const brs__rt_hosted *h);
/* The real clock's turn: timers due by the runtime's clock fire, changed
 * scripts reload (between events), metrics publish. mono: monotonic ns. */
void brs__rt_hosted_poll(brs__rt_hosted *h, int64_t mono);
/* xStop of each (their open orders cancelled through the order path). */
void brs__rt_hosted_stop(brs__rt_hosted *h);
/* Each strategy with "out": its run directory (fills.csv, orders.csv, ...). */
int brs__rt_hosted_write(brs__rt_hosted *h, brs_error *err);
/* The name of the strategy that is runtime client `client`, NULL when none is. */
const char *brs__rt_hosted_client_name(const brs__rt_hosted *h, uint32_t client);
/* Reloads done and refused, over every strategy. */
void brs__rt_hosted_reloads(const brs__rt_hosted *h, uint64_t *done, uint64_t *refused);
void brs__rt_hosted_close(brs__rt_hosted *h);

/* ---- the journal (bourse serve with state_dir) ---------------------------------
 * What the strategies do outside the runtime's steps, so a restart replays it
 * at the same points of the order flow (docs/fix-gateway.md, "Strategies
 * beside the clients"): their start (time and the Lua scripts they start
 * with), each loop turn at which timers fire (brs__rt_hosted_poll) and each
 * hot reload (the new text). fn gets each record (opaque bytes) to journal;
 * brs__rt_hosted_replay takes them back. Inside the runtime's own steps
 * (market data, order events) timers fire deterministically and need none. */
void brs__rt_hosted_set_journal(brs__rt_hosted *h, int (*fn)(void *user, const void *rec, size_t len),
                                void *user);
/* One record as journaled: the runtime advances to its time, then the start
 * (with the journal's script versions), the timers or the reload happen
 * again. BRS_E_CORRUPT when it does not fit the configured strategies. */
int brs__rt_hosted_replay(brs__rt_hosted *h, const char *rec, size_t len, brs_error *err);
/* brs__rt_hosted_start has run (live or replayed). */
int brs__rt_hosted_started(const brs__rt_hosted *h);
/* After a replay: a Lua script whose file differs from the version the
 * journal left running (edited while the server was down) is reloaded now,
 * journaled as any reload. */
void brs__rt_hosted_sync_files(brs__rt_hosted *h);

#endif
