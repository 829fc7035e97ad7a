/* log.c: the host's one logging facility (see log.h): timestamped lines with
 * level, component, message and key=value fields, as text or JSON, to stderr
 * or a file that SIGHUP reopens. A line is built on the stack and written with
 * one write(2), so concurrent writers never interleave and nothing allocates. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

int brs__log_min_level = BRS_LOG_INFO; /* the lower of main_level and the tee's */
static int main_level = BRS_LOG_INFO;   /* what reaches stderr or --log-file */
static brs__log_tee_fn tee_fn;          /* a second sink (brs__log_set_tee) */
static void *tee_ctx;
static int tee_level = BRS_LOG_OFF;
static brs__log_format log_format = BRS_LOG_TEXT;
static int log_fd = 2;
static char log_path[1024];

const char brs__log_usage[] =
    "logging (any command): --log-level debug|info|warn|error|off (default info),\n"
    "  --log-format text|json (default text), --log-file PATH (default stderr;\n"
    "  reopened on SIGHUP); BRS_LOG_LEVEL, BRS_LOG_FORMAT, BRS_LOG_FILE set the defaults\n";

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};
static const char *const level_tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};

/* A bounded line builder: appends never overrun; a full line ends in "...". */
typedef struct line {
    char buf[4096];
    size_t n;
    bool full;
} line;

static void put(line *l, const char *s, size_t len)
{
    size_t cap = sizeof(l->buf) - 8; /* keep room for "...\n" */
    size_t room = l->n < cap ? cap - l->n : 0;
    if (len > room) {
        len = room;
        l->full = true;
    }
    memcpy(l->buf + l->n, s, len);
    l->n += len;
}
static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }
static void putc_(line *l, char c) { put(l, &c, 1); }

static bool text_needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
            return true;
    return false;
}

/* A string escaped for JSON (and for quoted text values: the same rules). */
static void put_escaped(line *l, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p && !l->full; p++) {
        char tmp[8];
        switch (*p) {
        case '"': puts_(l, "\\\""); break;
        case '\\': puts_(l, "\\\\"); break;
        case '\n': puts_(l, "\\n"); break;
        case '\r': puts_(l, "\\r"); break;
        case '\t': puts_(l, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(tmp, sizeof tmp, "\\u%04x", *p);
                puts_(l, tmp);
            } else {
                putc_(l, (char)*p);
            }
        }
    }
}

static void put_value(line *l, const brs__kv *kv, bool json)
{
    char tmp[64];
    switch (kv->type) {
    case 's': {
        const char *s = kv->v.s ? kv->v.s : "";
        if (json || text_needs_quotes(s)) {
            putc_(l, '"');
            put_escaped(l, s);
            putc_(l, '"');
        } else {
            puts_(l, s);
        }
        return;
    }
    case 'i': snprintf(tmp, sizeof tmp, "%" PRId64, kv->v.i); break;
    case 'u': snprintf(tmp, sizeof tmp, "%" PRIu64, kv->v.u); break;
    case 'b': snprintf(tmp, sizeof tmp, "%s", kv->v.i ? "true" : "false"); break;
    case 'f':
        if (isfinite(kv->v.f))
            snprintf(tmp, sizeof tmp, "%.9g", kv->v.f);
        else
            snprintf(tmp, sizeof tmp, json ? "null" : "%s", isnan(kv->v.f) ? "nan" : kv->v.f > 0 ? "inf" : "-inf");
        break;
    default: snprintf(tmp, sizeof tmp, json ? "null" : "?"); break;
    }
    puts_(l, tmp);
}

static void put_time(line *l, bool json)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    time_t sec = ts.tv_sec;
    gmtime_r(&sec, &tm);
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%s%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ%s", json ? "\"" : "", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000),
             json ? "\"" : "");
    puts_(l, tmp);
}

/* Write a finished line (with its newline). */
static void emit(line *l)
{
    size_t off = 0;
    while (off < l->n) {
        ssize_t w = write(log_fd, l->buf + off, l->n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to say it */
        off += (size_t)w;
    }
}

/* One line, without its final newline, into l. */
static void build(line *l, brs__log_level lvl, const char *component, const char *msg,
                  const brs__kv *fields)
{
    l->n = 0;
    l->full = false;
    if (log_format == BRS_LOG_JSON) {
        puts_(l, "{\"ts\":");
        put_time(l, true);
        puts_(l, ",\"level\":\"");
        puts_(l, level_names[lvl]);
        puts_(l, "\",\"component\":\"");
        put_escaped(l, component ? component : "");
        puts_(l, "\",\"msg\":\"");
        put_escaped(l, msg ? msg : "");
        putc_(l, '"');
        for (const brs__kv *kv = fields; kv && kv->key; kv++) {
            puts_(l, ",\"");
            put_escaped(l, kv->key);
            puts_(l, "\":");
            put_value(l, kv, true);
        }
        if (l->full) { /* too long: say so in a line that stays valid JSON, without the fields */
            l->n = 0;
            l->full = false;
            puts_(l, "{\"ts\":");
            put_time(l, true);
            puts_(l, ",\"level\":\"");
            puts_(l, level_names[lvl]);
            puts_(l, "\",\"component\":\"");
            put_escaped(l, component ? component : "");
            puts_(l, "\",\"msg\":\"");
            char cut[512]; /* escaped, at most 6x: always fits */
            snprintf(cut, sizeof cut, "%s", msg ? msg : "");
            put_escaped(l, cut);
            puts_(l, "\",\"cut\":true");
        }
        putc_(l, '}');
    } else {
        put_time(l, false);
        putc_(l, ' ');
        puts_(l, level_tags[lvl]);
        putc_(l, ' ');
        puts_(l, component ? component : "");
        puts_(l, ": ");
        puts_(l, msg ? msg : "");
        for (const brs__kv *kv = fields; kv && kv->key; kv++) {
            putc_(l, ' ');
            puts_(l, kv->key);
            putc_(l, '=');
            put_value(l, kv, false);
        }
    }
}

void brs__log_write(brs__log_level lvl, const char *component, const char *msg, const brs__kv *fields)
{
    if ((int)lvl < 0 || lvl >= BRS_LOG_OFF)
        lvl = BRS_LOG_ERROR;
    line l;
    build(&l, lvl, component, msg, fields);
    if (l.full)
        memcpy(l.buf + l.n, "...", 3), l.n += 3;
    l.buf[l.n++] = '\n';
    if ((int)lvl >= main_level && (int)lvl >= brs__log_min_level)
        emit(&l);
    if (tee_fn && (int)lvl >= tee_level)
        tee_fn(tee_ctx, lvl, component, fields, l.buf, l.n);
}

size_t brs__log_format_line(char *out, size_t cap, brs__log_level lvl, const char *component, const char *msg,
                       const brs__kv *fields)
{
    if ((int)lvl < 0 || lvl >= BRS_LOG_OFF)
        lvl = BRS_LOG_ERROR;
    line l;
    build(&l, lvl, component, msg, fields);
    if (l.full)
        memcpy(l.buf + l.n, "...", 3), l.n += 3;
    l.buf[l.n++] = '\n';
    size_t n = l.n < cap ? l.n : cap;
    memcpy(out, l.buf, n);
    return n;
}

static void set_min_level(void)
{
    brs__log_min_level = main_level;
    if (tee_fn && tee_level < brs__log_min_level)
        brs__log_min_level = tee_level;
}

void brs__log_set_tee(brs__log_tee_fn fn, void *ctx, brs__log_level min_level)
{
    tee_fn = fn;
    tee_ctx = ctx;
    tee_level = (int)min_level;
    set_min_level();
}

int brs__log_parse_level(const char *s, brs__log_level *out)
{
    for (int i = 0; i <= BRS_LOG_OFF; i++)
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (brs__log_level)i;
            return BRS_OK;
        }
    if (s && strcmp(s, "warning") == 0) {
        *out = BRS_LOG_WARN;
        return BRS_OK;
    }
    return BRS_E_INVAL;
}

int brs__log_parse_format(const char *s, brs__log_format *out)
{
    if (s && strcmp(s, "text") == 0)
        *out = BRS_LOG_TEXT;
    else if (s && strcmp(s, "json") == 0)
        *out = BRS_LOG_JSON;
    else
        return BRS_E_INVAL;
    return BRS_OK;
}

static int open_log(const char *path, brs_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return brs__err(err, BRS_E_IO, "cannot open log file %s: %s", path, strerror(errno));
    return fd;
}

int brs__log_setup(brs__log_level lvl, brs__log_format fmt, const char *path, brs_error *err)
{
    if (path && *path && strcmp(path, "-") != 0) {
        if (strlen(path) >= sizeof log_path)
            return brs__err(err, BRS_E_INVAL, "log file path too long: %.64s...", path);
        int fd = open_log(path, err);
        if (fd < 0)
            return fd;
        if (log_fd > 2)
            close(log_fd);
        log_fd = fd;
        snprintf(log_path, sizeof log_path, "%s", path);
    }
    main_level = (int)lvl;
    set_min_level();
    log_format = fmt;
    return BRS_OK;
}

int brs__log_reopen(void)
{
    if (!log_path[0])
        return BRS_OK;
    brs_error err = {0};
    int fd = open_log(log_path, &err);
    if (fd < 0) {
        BRS_LOG(BRS_LOG_ERROR, "log", "cannot reopen the log file; still writing to the old one",
                BRS_KV_S("path", log_path), BRS_KV_S("error", err.msg));
        return fd;
    }
    int old = log_fd;
    log_fd = fd;
    if (old > 2)
        close(old);
    BRS_LOG(BRS_LOG_INFO, "log", "log file reopened", BRS_KV_S("path", log_path));
    return BRS_OK;
}

/* "--name value" or "--name=value" at argv[i]: the value, and how many slots it used. */
static const char *opt_value(int argc, char **argv, int i, const char *name, int *used)
{
    size_t n = strlen(name);
    if (strncmp(argv[i], name, n) != 0)
        return NULL;
    if (argv[i][n] == '=') {
        *used = 1;
        return argv[i] + n + 1;
    }
    if (argv[i][n] == '\0') {
        *used = i + 1 < argc ? 2 : 1;
        return i + 1 < argc ? argv[i + 1] : "";
    }
    return NULL;
}

int brs__log_take_args(int *argc, char **argv)
{
    const char *level = getenv("BRS_LOG_LEVEL");
    const char *format = getenv("BRS_LOG_FORMAT");
    const char *file = getenv("BRS_LOG_FILE");
    const char *level_from = "BRS_LOG_LEVEL", *format_from = "BRS_LOG_FORMAT";
    int out = 1;
    for (int i = 1; i < *argc;) {
        int used = 0;
        const char *v;
        if (strcmp(argv[i], "--") == 0) { /* everything after belongs to the command */
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if ((v = opt_value(*argc, argv, i, "--log-level", &used))) {
            level = v;
            level_from = "--log-level";
        } else if ((v = opt_value(*argc, argv, i, "--log-format", &used))) {
            format = v;
            format_from = "--log-format";
        } else if ((v = opt_value(*argc, argv, i, "--log-file", &used))) {
            file = v;
        }
        if (used) {
            i += used;
            continue;
        }
        argv[out++] = argv[i++];
    }
    argv[out] = NULL;
    *argc = out;

    brs__log_level lvl = BRS_LOG_INFO;
    brs__log_format fmt = BRS_LOG_TEXT;
    if (level && *level && brs__log_parse_level(level, &lvl) != BRS_OK) {
        fprintf(stderr, "bourse: %s: unknown log level '%s' (debug, info, warn, error, off)\n", level_from, level);
        return BRS_E_INVAL;
    }
    if (format && *format && brs__log_parse_format(format, &fmt) != BRS_OK) {
        fprintf(stderr, "bourse: %s: unknown log format '%s' (text, json)\n", format_from, format);
        return BRS_E_INVAL;
    }
    brs_error err = {0};
    if (brs__log_setup(lvl, fmt, file, &err) != BRS_OK) {
        fprintf(stderr, "bourse: --log-file: %s\n", err.msg);
        return BRS_E_INVAL;
    }
    return BRS_OK;
}
