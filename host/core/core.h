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
/* The same, refusing (BRS_E_RANGE, naming the limit) past max bytes: for files
 * a config names, so /dev/zero or a huge file cannot take the memory. */
int brs__read_file_max(const char *path, size_t max, char **data, size_t *len, brs_error *err);
/* Limits for files read whole: configs, strategy scripts, secrets. */
#define BRS__CONFIG_FILE_MAX ((size_t)64 << 20)
#define BRS__SCRIPT_FILE_MAX ((size_t)16 << 20)
#define BRS__SECRET_FILE_MAX ((size_t)4096)

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
    int slot;   /* 1 + its slot in the interrupt registry, 0 for none */
} brs_atomic_file;
int brs__atomic_open(brs_atomic_file *af, const char *path, brs_error *err);
int brs__atomic_commit(brs_atomic_file *af, brs_error *err);
void brs__atomic_abort(brs_atomic_file *af);
int brs__atomic_write(const char *path, const void *data, size_t len, brs_error *err);
/* mkdir -p */
int brs__mkdirs(const char *path, brs_error *err);
/* Can a directory be written at path, now or by brs__mkdirs? Creates nothing:
 * the deepest existing ancestor must be a writable directory (and path, when it
 * exists, a writable directory). For commands to fail before they compute. */
int brs__check_out_dir(const char *path, brs_error *err);
/* The same for a file to be created or replaced at path. */
int brs__check_out_file(const char *path, brs_error *err);
/* An unnamed temporary file in dir, open for reading and writing, mode 0600:
 * O_TMPFILE (never has a name), or where the file system has none, mkstemp of
 * DIR/.PREFIX-XXXXXX unlinked at once. Gone when closed, even after a crash,
 * a signal or kill -9. -1 with errno set. */
int brs__temp_fd(const char *dir, const char *prefix);

/* ---- interrupts (interrupt.c) ---------------------------------------- */
/* SIGINT and SIGTERM: the temporaries of brs__atomic_open are removed
 * whatever ends the process. cooperate 0: the signal then ends the process as
 * by default; 1: the first one only sets the flag brs__interrupted() returns
 * (the command stops at its next safe point and exits brs__interrupt_exit_code(),
 * 130 for SIGINT, 143 for SIGTERM), a second one ends the process. */
void brs__interrupt_install(int cooperate);
int brs__interrupted(void);             /* the signal number, 0 if none */
int brs__interrupt_exit_code(void);     /* 128 + the signal number */
const char *brs__interrupt_name(void);  /* "SIGINT" ... */
/* Temporaries removed on a signal (at most 16 at once); -1 when not registered. */
int brs__tmp_register(const char *path);
void brs__tmp_unregister(int slot);
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

/* ---- did you mean (suggest.c) ----------------------------------------- */
typedef struct brs_suggest {
    const char *word, *best;
    int best_d;
} brs_suggest;
void brs__suggest_init(brs_suggest *s, const char *word);
void brs__suggest_add(brs_suggest *s, const char *candidate);
/* The closest candidate when it is a likely typo of word, else NULL. */
const char *brs__suggest_best(const brs_suggest *s);
/* The same over a NULL-terminated list. */
const char *brs__closest(const char *word, const char *const *candidates);

/* ---- one output style for figures (fmt.c) ------------------------------ */
#define BRS_FMT_MISSING "-" /* the one placeholder for a value that does not exist */
enum { BRS_FMT_RATIO = 0, BRS_FMT_PERCENT = 1, BRS_FMT_CURRENCY = 2, BRS_FMT_COUNT = 3 };
/* How a metric of this name is shown (summary.json names). */
int brs__fmt_kind(const char *metric);
/* "12.34%", "1.2345", "100.00", or "-" for NaN/inf. */
void brs__fmt_value(char *buf, size_t len, double v, int kind);
void brs__fmt_metric(char *buf, size_t len, const char *metric, double v);

#endif
