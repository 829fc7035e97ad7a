/* session_log.c: per-session event and message log files (`log_dir`), see
 * session_log.h and docs/fix-gateway.md "Session log files". Event lines are
 * the host log's own lines (the tee of core/log.c), so nothing is worded or
 * formatted twice; message lines are built here from the loop turn's clock. */
#include "fix/session_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "fix/codec.h"

#define SLOG_BUF (64u << 10) /* bytes buffered per file between loop turns */

typedef struct slog_file {
    int fd;
    int failing;        /* a write failed: said once, until one succeeds */
    uint64_t size;      /* bytes in the file now */
    size_t len, cap;    /* buffered */
    char *buf;
    char path[600];
} slog_file;

typedef struct slog_sess {
    slog_file ev, msg;
    const char *target;
} slog_sess;

struct brs__fix_slog {
    brs__fix_slog_cfg cfg;
    uint32_t n;
    slog_sess *s;
    pthread_t owner;    /* the loop's thread: lines from others are not teed */
    int64_t sec;        /* the second secbuf holds */
    char secbuf[32];    /* "YYYY-MM-DDTHH:MM:SS." */
};

int brs__fix_slog_config(const brs_config *cfg, const struct cJSON *root, brs__fix_slog_cfg *out,
                         brs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *str;
    int64_t v;
    int rc;
    if ((rc = brs__config_string(cfg, root, "", "log_dir", "", &str, err)))
        return rc;
    if (strlen(str) >= sizeof out->dir)
        return brs__err(err, BRS_E_INVAL, "%s: log_dir is too long", cfg->source);
    snprintf(out->dir, sizeof out->dir, "%s", str);
    if ((rc = brs__config_int(cfg, root, "", "log_max_bytes", (int64_t)BRS__FIX_SLOG_DEFAULT_MAX, &v, err)))
        return rc;
    if (v < (int64_t)BRS__FIX_SLOG_MIN_MAX)
        return brs__err(err, BRS_E_RANGE, "%s: log_max_bytes must be >= %llu", cfg->source,
                        (unsigned long long)BRS__FIX_SLOG_MIN_MAX);
    out->max_bytes = (uint64_t)v;
    return BRS_OK;
}

static int file_open(slog_file *f, brs_error *err)
{
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (f->fd < 0)
        return brs__err(err, BRS_E_IO, "log_dir: cannot open %s: %s", f->path, strerror(errno));
    struct stat st;
    f->size = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return BRS_OK;
}

static void write_all(slog_file *f, const char *p, size_t n)
{
    while (n > 0 && f->fd >= 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!f->failing) /* no session= field: this line is not teed back here */
                BRS_LOG(BRS_LOG_ERROR, "fix", "session log file cannot be written; its lines are dropped",
                        BRS_KV_S("file", f->path), BRS_KV_S("reason", w < 0 ? strerror(errno) : "short write"));
            f->failing = 1;
            return;
        }
        f->failing = 0;
        f->size += (uint64_t)w;
        p += w;
        n -= (size_t)w;
    }
}

static void file_flush(slog_file *f)
{
    if (f->len) {
        write_all(f, f->buf, f->len);
        f->len = 0;
    }
}

/* log_max_bytes reached: NAME becomes NAME.1 (replacing the previous one) and
 * a new NAME starts, so a file never passes the bound and two files at most
 * are kept per log. */
static void rotate(brs__fix_slog *l, slog_file *f)
{
    file_flush(f);
    char old[620];
    snprintf(old, sizeof old, "%s.1", f->path);
    if (rename(f->path, old) != 0) {
        BRS_LOG(BRS_LOG_ERROR, "fix", "session log file cannot be rotated; it keeps growing",
                BRS_KV_S("file", f->path), BRS_KV_S("reason", strerror(errno)));
        return;
    }
    uint64_t was = f->size;
    close(f->fd);
    brs_error e = {0};
    if (file_open(f, &e) != BRS_OK)
        BRS_LOG(BRS_LOG_ERROR, "fix", "session log file cannot be reopened after rotation",
                BRS_KV_S("file", f->path), BRS_KV_S("reason", e.msg));
    BRS_LOG(BRS_LOG_WARN, "fix", "session log file reached log_max_bytes: rotated to .1",
            BRS_KV_S("file", f->path), BRS_KV_U("bytes", was), BRS_KV_U("log_max_bytes", l->cfg.max_bytes));
}

/* Room for a line of n bytes: the buffer and the file's bound. */
static void make_room(brs__fix_slog *l, slog_file *f, size_t n)
{
    if (f->len + n > f->cap)
        file_flush(f);
    if (f->size + f->len + n > l->cfg.max_bytes && f->size + f->len > 0)
        rotate(l, f);
}

static void put(slog_file *f, const char *p, size_t n)
{
    if (f->len + n > f->cap) { /* bigger than the buffer: straight to the file */
        file_flush(f);
        write_all(f, p, n);
        return;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
}

/* The host log's lines naming a session (session=TARGET) go to its event file. */
static void slog_tee(void *ctx, brs__log_level lvl, const char *component, const brs__kv *fields, const char *line,
                size_t len)
{
    (void)lvl;
    brs__fix_slog *l = ctx;
    if (!pthread_equal(pthread_self(), l->owner) || !component || strcmp(component, "fix") != 0)
        return;
    const char *name = NULL;
    for (const brs__kv *kv = fields; kv && kv->key; kv++)
        if (kv->type == 's' && strcmp(kv->key, "session") == 0) {
            name = kv->v.s;
            break;
        }
    if (!name || !*name)
        return;
    for (uint32_t i = 0; i < l->n; i++)
        if (strcmp(l->s[i].target, name) == 0) {
            make_room(l, &l->s[i].ev, len);
            put(&l->s[i].ev, line, len);
            return;
        }
}

int brs__fix_slog_open(brs__fix_slog **out, const brs__fix_slog_cfg *cfg, brs__fix_session *const *sessions,
                       uint32_t n, brs_error *err)
{
    *out = NULL;
    int rc = brs__mkdirs(cfg->dir, err);
    if (rc)
        return rc;
    brs__fix_slog *l = calloc(1, sizeof *l);
    if (!l || !(l->s = calloc(n, sizeof *l->s))) {
        free(l);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    l->cfg = *cfg;
    l->n = n;
    l->sec = -1;
    l->owner = pthread_self();
    size_t cap = cfg->max_bytes < SLOG_BUF ? (size_t)cfg->max_bytes : SLOG_BUF;
    for (uint32_t i = 0; i < n; i++)
        l->s[i].ev.fd = l->s[i].msg.fd = -1;
    for (uint32_t i = 0; i < n; i++) {
        slog_sess *s = &l->s[i];
        s->target = sessions[i]->cfg.target;
        snprintf(s->ev.path, sizeof s->ev.path, "%s/%s-%s.event.log", cfg->dir, sessions[i]->cfg.sender,
                 s->target);
        snprintf(s->msg.path, sizeof s->msg.path, "%s/%s-%s.messages.log", cfg->dir, sessions[i]->cfg.sender,
                 s->target);
        s->ev.cap = s->msg.cap = cap;
        s->ev.buf = malloc(cap);
        s->msg.buf = malloc(cap);
        if (!s->ev.buf || !s->msg.buf) {
            brs__fix_slog_close(l);
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        }
        if ((rc = file_open(&s->ev, err)) || (rc = file_open(&s->msg, err))) {
            brs__fix_slog_close(l);
            return rc;
        }
    }
    brs__log_set_tee(slog_tee, l, BRS_LOG_INFO);
    BRS_LOG(BRS_LOG_INFO, "fix", "session log files", BRS_KV_S("log_dir", cfg->dir), BRS_KV_U("sessions", n),
            BRS_KV_U("log_max_bytes", cfg->max_bytes));
    *out = l;
    return BRS_OK;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (27 bytes) for now; the date part is formatted
 * once a second. */
static void stamp(brs__fix_slog *l, int64_t now, char *out)
{
    int64_t sec = now / 1000000000LL;
    if (sec != l->sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(l->secbuf, sizeof l->secbuf, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        l->sec = sec;
    }
    memcpy(out, l->secbuf, 20);
    unsigned us = (unsigned)((now % 1000000000LL) / 1000);
    for (int k = 25; k >= 20; k--, us /= 10)
        out[k] = (char)('0' + us % 10);
    out[26] = 'Z';
}

/* The value of tag in a raw message ("" when absent), for the few admin
 * messages whose numbers the event log states. */
static void field(const char *msg, size_t len, const char *tag, char *out, size_t cap)
{
    size_t tl = strlen(tag);
    out[0] = 0;
    for (size_t i = 0; i + tl + 1 < len; i++)
        if ((i == 0 || msg[i - 1] == '\x01') && memcmp(msg + i, tag, tl) == 0 && msg[i + tl] == '=') {
            size_t j = i + tl + 1, k = 0;
            while (j < len && msg[j] != '\x01' && k + 1 < cap)
                out[k++] = msg[j++];
            out[k] = 0;
            return;
        }
}

/* Session-level events the host log does not state: sequence resets (gap
 * fills) both ways, resend requests we send, Rejects we receive. */
static void admin_event(brs__fix_slog *l, slog_sess *s, int out, const char *msg, size_t len)
{
    /* MsgType is the third field: "8=...\x019=...\x0135=X\x01" */
    const char *p = memmem(msg, len < 40 ? len : 40, "\x01" "35=", 4);
    if (!p || p + 5 >= msg + len || p[5] != '\x01')
        return;
    char t = p[4];
    if (t != '4' && !(t == '2' && out) && !(t == '3' && !out))
        return;
    char seq[16], a[24], b[24], txt[128];
    field(msg, len, "34", seq, sizeof seq);
    char line[512];
    size_t n = 0;
    const char *dir = out ? "out" : "in";
    if (t == '4') {
        field(msg, len, "123", a, sizeof a);
        field(msg, len, "36", b, sizeof b);
        n = brs__log_format_line(line, sizeof line, BRS_LOG_INFO, "fix",
                                 a[0] == 'Y' ? (out ? "gap fill sent" : "gap fill received")
                                             : (out ? "sequence reset sent" : "sequence reset received"),
                                 (const brs__kv[]){BRS_KV_S("session", s->target), BRS_KV_S("dir", dir),
                                                   BRS_KV_S("seq", seq), BRS_KV_S("new_seq", b), BRS_KV_END});
    } else if (t == '2') {
        field(msg, len, "7", a, sizeof a);
        field(msg, len, "16", b, sizeof b);
        n = brs__log_format_line(line, sizeof line, BRS_LOG_INFO, "fix", "ResendRequest sent",
                                 (const brs__kv[]){BRS_KV_S("session", s->target), BRS_KV_S("seq", seq),
                                                   BRS_KV_S("from", a), BRS_KV_S("to", b), BRS_KV_END});
    } else {
        field(msg, len, "45", a, sizeof a);
        field(msg, len, "373", b, sizeof b);
        field(msg, len, "58", txt, sizeof txt);
        n = brs__log_format_line(line, sizeof line, BRS_LOG_WARN, "fix", "Reject received",
                                 (const brs__kv[]){BRS_KV_S("session", s->target), BRS_KV_S("seq", seq),
                                                   BRS_KV_S("ref_seq", a), BRS_KV_S("reason", b),
                                                   BRS_KV_S("text", txt), BRS_KV_END});
    }
    make_room(l, &s->ev, n);
    put(&s->ev, line, n);
}

void brs__fix_slog_msg(brs__fix_slog *l, uint32_t i, int out, const char *msg, size_t len, int64_t now)
{
    if (!l || i >= l->n)
        return;
    slog_sess *s = &l->s[i];
    char head[32];
    stamp(l, now, head);
    memcpy(head + 27, out ? " out " : " in  ", 5);
    slog_file *f = &s->msg;
    make_room(l, f, 32 + len + 1);
    if (f->len + 32 + len + 1 <= f->cap) {
        memcpy(f->buf + f->len, head, 32);
        memcpy(f->buf + f->len + 32, msg, len);
        f->buf[f->len + 32 + len] = '\n';
        f->len += 32 + len + 1;
    } else { /* a message bigger than the buffer */
        put(f, head, 32);
        put(f, msg, len);
        put(f, "\n", 1);
    }
    admin_event(l, s, out, msg, len);
}

void brs__fix_slog_input(brs__fix_slog *l, uint32_t i, const char *buf, size_t len, size_t max_msg, int64_t now)
{
    size_t ml = 0;
    if (l && brs__fix_frame(buf, len, max_msg, &ml) == BRS__FIX_FRAME_OK && ml > 0)
        brs__fix_slog_msg(l, i, 0, buf, ml, now);
}

void brs__fix_slog_flush(brs__fix_slog *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++) {
        file_flush(&l->s[i].ev);
        file_flush(&l->s[i].msg);
    }
}

void brs__fix_slog_reopen(brs__fix_slog *l)
{
    if (!l)
        return;
    uint32_t failed = 0;
    for (uint32_t i = 0; i < l->n; i++) {
        slog_file *fs[2] = {&l->s[i].ev, &l->s[i].msg};
        for (int k = 0; k < 2; k++) {
            slog_file *f = fs[k];
            file_flush(f);
            int old = f->fd;
            brs_error e = {0};
            if (file_open(f, &e) != BRS_OK) {
                BRS_LOG(BRS_LOG_ERROR, "fix", "session log file cannot be reopened; still writing to the old one",
                        BRS_KV_S("file", f->path), BRS_KV_S("reason", e.msg));
                f->fd = old;
                failed++;
                continue;
            }
            f->failing = 0;
            if (old >= 0)
                close(old);
        }
    }
    BRS_LOG(BRS_LOG_INFO, "fix", "session log files reopened", BRS_KV_S("log_dir", l->cfg.dir),
            BRS_KV_U("files", 2 * l->n - failed));
}

void brs__fix_slog_close(brs__fix_slog *l)
{
    if (!l)
        return;
    brs__log_set_tee(NULL, NULL, BRS_LOG_OFF);
    for (uint32_t i = 0; i < l->n; i++) {
        slog_file *fs[2] = {&l->s[i].ev, &l->s[i].msg};
        for (int k = 0; k < 2; k++) {
            if (fs[k]->fd >= 0) {
                file_flush(fs[k]);
                close(fs[k]->fd);
            }
            free(fs[k]->buf);
        }
    }
    free(l->s);
    free(l);
}
