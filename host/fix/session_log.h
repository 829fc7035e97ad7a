/* session_log.h: per-session event and message log files of `bourse serve`
 * (`log_dir`), as a desk's FIX engine keeps them: for each session an event
 * log (the host log's lines about it, plus sequence resets and resend
 * requests) and a message log (every message in and out, timestamped).
 * Buffered: one write per file per loop turn; reopened on SIGHUP; each file
 * bounded by `log_max_bytes` (rotated to NAME.1). */
#ifndef BRS_FIX_SESSION_LOG_H
#define BRS_FIX_SESSION_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "fix/session.h"

/* The configuration keys (top level of the serve config). */
#define BRS__FIX_SLOG_KEYS "log_dir", "log_max_bytes"
#define BRS__FIX_SLOG_DEFAULT_MAX (64ull << 20)
#define BRS__FIX_SLOG_MIN_MAX 4096ull

typedef struct brs__fix_slog_cfg {
    char dir[512];      /* "" : no session log files */
    uint64_t max_bytes; /* per file; over it the file is rotated to NAME.1 */
} brs__fix_slog_cfg;

typedef struct brs__fix_slog brs__fix_slog;

int brs__fix_slog_config(const brs_config *cfg, const struct cJSON *root, brs__fix_slog_cfg *out,
                         brs_error *err);
/* Create dir and open LOG_DIR/SENDER-TARGET.event.log and .messages.log for
 * each session; becomes the host log's tee (brs__log_set_tee) for lines of
 * component "fix" naming a session (session=TARGET), from this thread. */
int brs__fix_slog_open(brs__fix_slog **out, const brs__fix_slog_cfg *cfg, brs__fix_session *const *sessions,
                       uint32_t n, brs_error *err);
/* A message of session i, inbound (out 0) or outbound (out 1), at time now
 * (ns since the epoch). Copies it into the file's buffer: no allocation, no
 * system call unless the buffer is full. */
void brs__fix_slog_msg(brs__fix_slog *l, uint32_t i, int out, const char *msg, size_t len, int64_t now);
/* Input of session i about to be run: the message at its start, when the
 * framer finds a whole one there (CheckSum and BodyLength right), is logged as
 * inbound. Garbled bytes are not messages: the event log says they were dropped. */
void brs__fix_slog_input(brs__fix_slog *l, uint32_t i, const char *buf, size_t len, size_t max_msg, int64_t now);
/* Write what is buffered (once per loop turn). */
void brs__fix_slog_flush(brs__fix_slog *l);
/* SIGHUP: flush, close and reopen every file (after logrotate moved them). */
void brs__fix_slog_reopen(brs__fix_slog *l);
void brs__fix_slog_close(brs__fix_slog *l);

#endif
