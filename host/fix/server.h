/* server.h: the FIX acceptor: non-blocking sockets on one epoll loop, many
 * sessions, per-connection output buffers with a cap (a slow reader is cut off,
 * never waited for), message size and rate limits, and the write-ahead rule:
 * stores and journal are written before any reply reaches a socket. */
#ifndef BRS_FIX_SERVER_H
#define BRS_FIX_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "core/config.h"
#include "risk/risk.h"
#include "fix/access.h"
#include "fix/app.h"
#include "fix/session.h"
#include "runtime/rt_feed.h"
#include "fix/session_log.h"

typedef struct brs__fix_session_def {
    char target[BRS__FIX_COMPID_MAX];
    char username[64];
    char password[64];
    brs__fix_session_opts opts; /* session options (session_cfg.c) */
    brs__fix_access access;     /* allowed_hosts (access.c) */
    char route[80];             /* "sor", "venue:<name>"; "" the runtime's default */
} brs__fix_session_def;

typedef struct brs__fix_server_cfg {
    char host[64];
    int port;                 /* 0: any free port */
    brs__tls_cfg tls;     /* cert "" = plain TCP */
    char state_dir[512];      /* stores and journal; "" keeps everything in memory */
    int fsync_policy;
    size_t max_msg;           /* bytes per message */
    size_t max_output;        /* high-water mark of unsent output: reading pauses, new
                                 messages wait in the store (max_output_bytes) */
    size_t low_water;         /* reading resumes below it (output_low_water_bytes) */
    uint32_t max_cancels_per_turn; /* a mass cancel's slice per loop turn */
    uint32_t max_reports_per_turn; /* a session's reports per message, and per slice, before the rest stream */
    uint32_t max_events_per_turn;  /* runtime events a session takes of one step at once, and per slice */
    uint32_t max_forget_per_turn;  /* slots a checkpoint's forgetting visits per loop turn */
    int64_t slow_timeout_ns;  /* output pending and nothing taken this long: Logout */
    uint32_t max_msgs_per_sec;/* per connection; over it, reading pauses */
    uint32_t max_md_subs, max_md_subs_per_session, max_md_symbols; /* market data limits */
    char metrics_listen[128]; /* metrics.listen: Prometheus /metrics and /live; "" off */
    int max_dash;             /* metrics.max_dashboard_clients: live dashboard streams */
    int64_t logon_timeout_ns;
    char sender[BRS__FIX_COMPID_MAX];
    brs__fix_session_def *sessions;
    uint32_t n_sessions;
    brs__fix_instr *instr;
    uint32_t n_instr;
    uint32_t max_orders;      /* resting orders the engine holds (0: its default) */
    uint64_t checkpoint_bytes; /* journal_checkpoint_bytes: journal growth before a
                                  checkpoint (0: only at the end of day) */
    uint32_t archive_retention_days; /* archived history older than this is removed (0: kept) */
    int32_t day_end_s;        /* end of the trading day, seconds after 00:00 UTC; -1: none */
    int reset_at_day_end;     /* the sessions end with the day: Logout, sequences back to 1 */
    int risk_on;              /* a "risk" object was given */
    brs_risk_config risk;     /* per session (each session is one account) */
    /* the runtime the orders go through (host/runtime): venues, router, risk,
     * latency with a book-mode run's schema; without "venues", one sim venue */
    brs_config *rt_cfg;       /* the config (owned by the caller; defaults written in) */
    brs__rt_opts rt;
    int named_venues;         /* the config listed its venues: fills carry LastMkt */
    brs__rt_feed_opts md;     /* market_data: a tick file replayed into the venues */
    uint32_t n_strategies;    /* entries of "strategies" (host/runtime/rt_hosted.c) */
    int ws_on;                /* ws_listen: WebSocket order entry (host/wsgate) */
    brs__fix_slog_cfg slog;   /* log_dir, log_max_bytes: per-session log files */
} brs__fix_server_cfg;

/* Read the "serve" configuration (strict keys); BOURSE_FIX_PORT overrides the port.
 * cfg must outlive the server (the runtime reads its venues there). */
int brs__fix_server_config(brs__fix_server_cfg *sc, brs_config *cfg, brs_error *err);
void brs__fix_server_config_free(brs__fix_server_cfg *sc);

typedef struct brs__fix_server brs__fix_server;

/* Bind, open stores, replay the journal. The bound port is in *port. */
int brs__fix_server_open(brs__fix_server **srv, const brs__fix_server_cfg *sc, int *port,
                         brs_error *err);
/* Serve until *stop becomes non-zero; then every session is logged out
 * ("gateway shutting down") and its Logout committed and sent. BRS_E_IO when
 * the state could not be made durable (see brs__fix_gateway_flush). */
int brs__fix_server_run(brs__fix_server *srv, volatile sig_atomic_t *stop);
/* When *hup becomes non-zero the loop clears it and reopens the log file. */
void brs__fix_server_set_hup(brs__fix_server *srv, volatile sig_atomic_t *hup);
void brs__fix_server_close(brs__fix_server *srv);
/* The runtime the server's gateways put orders through (host/runtime/runtime.h):
 * use it from the server's loop thread only. */
brs__rt *brs__fix_server_runtime(brs__fix_server *srv);

#endif
