/* log.h: the one logging facility of the host. Every long-running command logs
 * its lifecycle through it: one line per event with a UTC timestamp
 * (microseconds), level, component, message and key=value fields, as text or
 * JSON (--log-format), filtered by --log-level, to stderr or --log-file
 * (reopened on SIGHUP, for logrotate). Internal (brs__ prefix).
 *
 *   BRS_LOG(BRS_LOG_INFO, "fix", "session logged on",
 *           BRS_KV_S("session", name), BRS_KV_S("peer", addr), BRS_KV_I("seq_in", n));
 *   BRS_LOG0(BRS_LOG_INFO, "serve", "listening");
 *
 * The level check comes first and costs one load and compare: a call whose
 * level is off formats nothing and evaluates no field. Not thread-safe for
 * configuration (brs__log_setup); writing a line is one write(2) of a line
 * built on the stack, so lines from several threads never interleave. */
#ifndef BRS_LOG_H
#define BRS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/host.h>

/* The levels are the plugin API's (enum brs_log_level in bourse/host.h:
 * DEBUG 0, INFO 1, WARN 2, ERROR 3), so host code may include both headers;
 * OFF silences everything. */
typedef enum brs_log_level brs__log_level;
#define BRS_LOG_OFF 4

typedef enum brs__log_format { BRS_LOG_TEXT = 0, BRS_LOG_JSON = 1 } brs__log_format;

/* One field: a key and a string, signed integer, unsigned integer or double. */
typedef struct brs__kv {
    const char *key; /* NULL ends the list */
    char type;       /* 's', 'i', 'u', 'f', 'b' */
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double f;
    } v;
} brs__kv;

#define BRS_KV_S(k, x) ((brs__kv){.key = (k), .type = 's', .v = {.s = (x)}})
#define BRS_KV_I(k, x) ((brs__kv){.key = (k), .type = 'i', .v = {.i = (int64_t)(x)}})
#define BRS_KV_U(k, x) ((brs__kv){.key = (k), .type = 'u', .v = {.u = (uint64_t)(x)}})
#define BRS_KV_F(k, x) ((brs__kv){.key = (k), .type = 'f', .v = {.f = (double)(x)}})
#define BRS_KV_B(k, x) ((brs__kv){.key = (k), .type = 'b', .v = {.i = (x) ? 1 : 0}})
#define BRS_KV_END ((brs__kv){.key = 0, .type = 0, .v = {.i = 0}})

extern int brs__log_min_level; /* read inline by BRS_LOG; set by brs__log_setup */

static inline bool brs__log_on(brs__log_level lvl) { return (int)lvl >= brs__log_min_level; }

/* Write one line (fields may be NULL). Use the macros. */
void brs__log_write(brs__log_level lvl, const char *component, const char *msg, const brs__kv *fields);

#define BRS_LOG(lvl, comp, msg, ...)                                                                \
    do {                                                                                            \
        if (brs__log_on(lvl))                                                                       \
            brs__log_write((lvl), (comp), (msg), (const brs__kv[]){__VA_ARGS__, BRS_KV_END});      \
    } while (0)
#define BRS_LOG0(lvl, comp, msg)                                                                    \
    do {                                                                                            \
        if (brs__log_on(lvl))                                                                       \
            brs__log_write((lvl), (comp), (msg), 0);                                                \
    } while (0)

/* A second sink for lines at or above min_level (whatever --log-level says):
 * fn gets each line as written (newline included) and its fields. One tee at a
 * time; fn NULL removes it. The FIX gateway's per-session event logs use it
 * (host/fix/session_log.c). Not thread-safe to set; fn is called from the
 * thread that logs. */
typedef void (*brs__log_tee_fn)(void *ctx, brs__log_level lvl, const char *component,
                                const brs__kv *fields, const char *line, size_t len);
void brs__log_set_tee(brs__log_tee_fn fn, void *ctx, brs__log_level min_level);
/* Format one line as brs__log_write would (timestamp now, --log-format, final
 * newline) into out; returns its length (cut at cap). Writes it nowhere. */
size_t brs__log_format_line(char *out, size_t cap, brs__log_level lvl, const char *component, const char *msg,
                       const brs__kv *fields);

/* Configure: level, format and file (NULL or "-" for stderr). A file is opened
 * for append and created 0640. Returns BRS_OK or an error naming the path. */
int brs__log_setup(brs__log_level lvl, brs__log_format fmt, const char *path, brs_error *err);
/* Reopen the log file (after logrotate moved it). Safe to call from the loop on
 * SIGHUP; a no-op on stderr. Logs a line saying it reopened. */
int brs__log_reopen(void);
/* Parse "debug|info|warn|error|off" and "text|json". BRS_E_INVAL on anything else. */
int brs__log_parse_level(const char *s, brs__log_level *out);
int brs__log_parse_format(const char *s, brs__log_format *out);
/* Take the global logging options (--log-level L, --log-format F, --log-file P,
 * also as --opt=value) out of argv wherever they appear, apply them, and compact
 * argv. BRS_LOG_LEVEL / BRS_LOG_FORMAT / BRS_LOG_FILE in the environment are the
 * defaults. On a bad value prints why to stderr and returns BRS_E_INVAL. */
int brs__log_take_args(int *argc, char **argv);
/* The usage text of those options, for --help. */
extern const char brs__log_usage[];

#endif
