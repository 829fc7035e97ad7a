/* core.h: small host-internal utilities shared by every component: error
 * formatting, atomic file output, the clock, and the terminal progress line.
 * Internal (brs__ prefix): never part of the plugin ABI. */
#ifndef BRS_CORE_H
#define BRS_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <bourse/errors.h>

#if defined(__GNUC__)
#define BRS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define BRS__LIKELY(x) __builtin_expect(!!(x), 1)
#define BRS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define BRS__PRINTF(a, b)
#define BRS__LIKELY(x) (x)
#define BRS__UNLIKELY(x) (x)
#endif

#define BRS__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Fill err (if not NULL) with code and a formatted message; returns code. */
int brs__err(brs_error *err, int code, const char *fmt, ...) BRS__PRINTF(3, 4);
int brs__verr(brs_error *err, int code, const char *fmt, va_list ap);
/* Prefix the message already in err with "prefix: ". Returns err->code. */
int brs__err_prefix(brs_error *err, const char *fmt, ...) BRS__PRINTF(2, 3);

/* ---- files ----------------------------------------------------------- */

/* Read a whole file into a NUL-terminated malloc'd buffer. */
int brs__read_file(const char *path, char **data, size_t *len, brs_error *err);

/* Atomic output: write to "<path>.tmp.<pid>", then fsync and rename over path,
 * so a reader never sees a half-written file. Abort removes the temporary.
 * A path that already exists and is not a regular file (/dev/null, a FIFO, a
 * terminal) is written straight through: renaming over it would replace the
 * device node with a plain file. A symlink is followed, so the file it points
 * to is replaced, not the link. */
typedef struct brs_atomic_file {
    FILE *fp;
    char *path; /* the file replaced: the symlink's target when path was a link */
    char *tmp;  /* NULL when writing straight through */
} brs_atomic_file;
int brs__atomic_open(brs_atomic_file *af, const char *path, brs_error *err);
int brs__atomic_commit(brs_atomic_file *af, brs_error *err);
void brs__atomic_abort(brs_atomic_file *af);
int brs__atomic_write(const char *path, const void *data, size_t len, brs_error *err);
/* mkdir -p */
int brs__mkdirs(const char *path, brs_error *err);
/* A file-name-safe form of name (a strategy's own `name`, say) for building a
 * path: letters, digits, '-', '_' and '.' kept, anything else (a '/', control
 * bytes) turned into '_', as is a '.' that leads or follows '.' or '_' (so no
 * ".."), never empty ("unnamed"), at most 128 bytes. Never a path: it cannot leave the directory it is
 * put in. */
void brs__file_safe_name(char *out, size_t cap, const char *name);

/* ---- clock ----------------------------------------------------------- */
int64_t brs__realtime_ns(void);  /* CLOCK_REALTIME, ns since the epoch */
int64_t brs__monotime_ns(void);  /* CLOCK_MONOTONIC */
/* Parse "2012-06-21T09:30:00.5Z", "2012-06-21", or an integer of ns. */
int brs__parse_time(const char *s, int64_t *ns);
/* Format ns since the epoch as ISO-8601 UTC with ns digits into buf (>= 32 bytes). */
void brs__format_time(int64_t ns, char *buf, size_t len);

/* ---- progress -------------------------------------------------------- */
/* A one-line progress display on stderr, shown only when stderr is a terminal
 * (and BOURSE_PROGRESS is not 0). Updates are rate-limited to ~10 per second. */
typedef struct brs_progress {
    const char *label;
    uint64_t total; /* 0 if unknown */
    int enabled;
    int64_t next_ns;
    int64_t start_ns;
} brs_progress;
void brs__progress_start(brs_progress *p, const char *label, uint64_t total);
void brs__progress_update(brs_progress *p, uint64_t done);
void brs__progress_finish(brs_progress *p);

#endif
