/* metrics.c: the metrics registry and the Prometheus text exposition (see
 * metrics.h). Families and series are allocated at registration and never
 * move, so the hot path holds plain pointers; a mutex guards only the registry's
 * shape (registering and rendering), never an update. */
#include "ops/metrics.h"

#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bourse/version.h>

#include "core/core.h"
#include "core/log.h"

enum { T_COUNTER = 'c', T_GAUGE = 'g', T_HIST = 'h' };

typedef struct series {
    char *labels; /* rendered: k1="v1",k2="v2" or "" */
    int kind;     /* T_COUNTER, T_GAUGE, T_HIST, or 'f' for a gauge function */
    union {
        brs__counter c;
        brs__gauge g;
        brs__histogram h;
    } *v;
    double (*fn)(void *);
    void *ctx;
    struct series *next;
} series;

typedef struct family {
    char *name, *help;
    int type;
    series *first, *last;
    struct family *next;
} family;

struct brs__mreg {
    pthread_mutex_t mu;
    family *first, *last;
};

double brs__gauge_get(const brs__gauge *g)
{
    union {
        double d;
        uint64_t u;
    } x = {.u = atomic_load_explicit(&((brs__gauge *)g)->bits, memory_order_relaxed)};
    return x.d;
}

brs__mreg *brs__mreg_new(void)
{
    brs__mreg *r = calloc(1, sizeof *r);
    if (r)
        pthread_mutex_init(&r->mu, NULL);
    return r;
}

void brs__mreg_free(brs__mreg *r)
{
    if (!r)
        return;
    for (family *f = r->first, *fn; f; f = fn) {
        fn = f->next;
        for (series *s = f->first, *sn; s; s = sn) {
            sn = s->next;
            free(s->labels);
            free(s->v);
            free(s);
        }
        free(f->name);
        free(f->help);
        free(f);
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static bool valid_name(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_' || *s == ':'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == ':'))
            return false;
    return true;
}

/* "k1=v1,k2=v2" -> k1="v1",k2="v2"; NULL on a bad label name or value. */
static char *render_labels(const char *in)
{
    if (!in || !*in)
        return strdup("");
    size_t cap = strlen(in) * 2 + 8;
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    const char *p = in;
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq)
            goto bad;
        const char *end = strchr(eq + 1, ',');
        if (!end)
            end = eq + strlen(eq);
        char key[64];
        size_t kl = (size_t)(eq - p);
        if (kl == 0 || kl >= sizeof key)
            goto bad;
        memcpy(key, p, kl);
        key[kl] = 0;
        if (!valid_name(key) || strchr(key, ':') || strncmp(key, "__", 2) == 0)
            goto bad;
        if (o != out)
            *o++ = ',';
        o += sprintf(o, "%s=\"", key);
        for (const char *v = eq + 1; v < end; v++) {
            if (*v == '"' || *v == '\\' || *v == '\n')
                goto bad;
            *o++ = *v;
        }
        *o++ = '"';
        p = *end ? end + 1 : end;
    }
    *o = 0;
    return out;
bad:
    free(out);
    return NULL;
}

static series *add_series(brs__mreg *r, const char *name, const char *help, const char *labels, int type, int kind)
{
    if (!r || !valid_name(name)) {
        BRS_LOG(BRS_LOG_ERROR, "metrics", "invalid metric name", BRS_KV_S("name", name ? name : "(null)"));
        return NULL;
    }
    char *lab = render_labels(labels);
    if (!lab) {
        BRS_LOG(BRS_LOG_ERROR, "metrics", "invalid metric labels", BRS_KV_S("name", name),
                BRS_KV_S("labels", labels));
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    family *f = r->first;
    while (f && strcmp(f->name, name) != 0)
        f = f->next;
    if (f && f->type != type) {
        pthread_mutex_unlock(&r->mu);
        BRS_LOG(BRS_LOG_ERROR, "metrics", "metric registered twice with different types", BRS_KV_S("name", name));
        free(lab);
        return NULL;
    }
    if (f)
        for (series *s = f->first; s; s = s->next)
            if (strcmp(s->labels, lab) == 0 && s->kind == kind && kind != 'f') { /* the same series again */
                pthread_mutex_unlock(&r->mu);
                free(lab);
                return s;
            }
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f || !(f->name = strdup(name)) || !(f->help = strdup(help ? help : ""))) {
            pthread_mutex_unlock(&r->mu);
            if (f)
                free(f->name), free(f);
            free(lab);
            return NULL;
        }
        f->type = type;
        if (r->last)
            r->last->next = f;
        else
            r->first = f;
        r->last = f;
    }
    series *s = calloc(1, sizeof *s);
    if (s)
        s->v = calloc(1, sizeof *s->v);
    if (!s || !s->v) {
        pthread_mutex_unlock(&r->mu);
        if (s)
            free(s);
        free(lab);
        return NULL;
    }
    s->labels = lab;
    s->kind = kind;
    if (f->last)
        f->last->next = s;
    else
        f->first = s;
    f->last = s;
    pthread_mutex_unlock(&r->mu);
    return s;
}

brs__counter *brs__mreg_counter(brs__mreg *r, const char *name, const char *help, const char *labels)
{
    series *s = add_series(r, name, help, labels, T_COUNTER, T_COUNTER);
    return s ? &s->v->c : NULL;
}

brs__gauge *brs__mreg_gauge(brs__mreg *r, const char *name, const char *help, const char *labels)
{
    series *s = add_series(r, name, help, labels, T_GAUGE, T_GAUGE);
    return s ? &s->v->g : NULL;
}

static const double default_bounds[] = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
                                        1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 10};

brs__histogram *brs__mreg_histogram(brs__mreg *r, const char *name, const char *help, const char *labels,
                                    const double *bounds, int n)
{
    if (!bounds) {
        bounds = default_bounds;
        n = (int)BRS__ARRAY_LEN(default_bounds);
    }
    if (n < 1 || n > BRS__HIST_MAX_BUCKETS)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(bounds[i] >= 0) || (i && bounds[i] <= bounds[i - 1]))
            return NULL;
    series *s = add_series(r, name, help, labels, T_HIST, T_HIST);
    if (!s)
        return NULL;
    brs__histogram *h = &s->v->h;
    if (h->n == 0) {
        for (int i = 0; i < n; i++)
            h->bound_ns[i] = (int64_t)llround(bounds[i] * 1e9);
        for (int k = 1, i = 0; k < 64; k++) { /* first[0] = 0: [0, 2) starts at the first bound */
            while (i < n && h->bound_ns[i] < (int64_t)1 << (k < 63 ? k : 62))
                i++;
            h->first[k] = (uint8_t)i;
        }
        h->n = n;
    }
    return h;
}

int brs__mreg_gauge_fn(brs__mreg *r, const char *name, const char *help, const char *labels,
                       double (*fn)(void *ctx), void *ctx)
{
    series *s = add_series(r, name, help, labels, T_GAUGE, 'f');
    if (!s)
        return BRS_E_INVAL;
    pthread_mutex_lock(&r->mu);
    s->fn = fn;
    s->ctx = ctx;
    pthread_mutex_unlock(&r->mu);
    return BRS_OK;
}

/* ---- process metrics ------------------------------------------------- */

static double proc_stat_field(int which) /* 0 cpu seconds, 1 rss bytes, 2 vsize bytes, 3 start time */
{
    char buf[1024];
    FILE *fp = fopen("/proc/self/stat", "r");
    if (!fp)
        return NAN;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return NAN;
    /* fields after ')': 3 state ... 14 utime 15 stime ... 22 starttime 23 vsize 24 rss */
    unsigned long long f[25] = {0};
    int i = 3;
    for (char *tok = strtok(p + 2, " "); tok && i <= 24; tok = strtok(NULL, " "), i++)
        f[i] = strtoull(tok, NULL, 10);
    double hz = (double)sysconf(_SC_CLK_TCK);
    switch (which) {
    case 0: return (double)(f[14] + f[15]) / hz;
    case 1: return (double)f[24] * (double)sysconf(_SC_PAGESIZE);
    case 2: return (double)f[23];
    default: {
        /* starttime is in ticks since boot: add the boot time from /proc/stat */
        FILE *s = fopen("/proc/stat", "r");
        double btime = NAN;
        if (s) {
            char line[256];
            while (fgets(line, sizeof line, s))
                if (strncmp(line, "btime ", 6) == 0)
                    btime = strtod(line + 6, NULL);
            fclose(s);
        }
        return btime + (double)f[22] / hz;
    }
    }
}

static double m_cpu(void *c) { (void)c; return proc_stat_field(0); }
static double m_rss(void *c) { (void)c; return proc_stat_field(1); }
static double m_vsize(void *c) { (void)c; return proc_stat_field(2); }
static double m_start(void *c) { (void)c; return proc_stat_field(3); }
static double m_fds(void *c)
{
    (void)c;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return NAN;
    double n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}
static double m_maxfds(void *c)
{
    (void)c;
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (double)rl.rlim_cur : NAN;
}
static double m_one(void *c) { (void)c; return 1; }

int brs__mreg_add_process(brs__mreg *r)
{
    char lab[96];
    snprintf(lab, sizeof lab, "version=%s", BRS_VERSION_STRING);
    /* process_cpu_seconds_total is a counter in Prometheus's own client libraries */
    series *s = add_series(r, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", NULL,
                           T_COUNTER, 'f');
    if (!s)
        return BRS_E_NOMEM;
    s->fn = m_cpu;
    int rc = BRS_OK;
    rc |= brs__mreg_gauge_fn(r, "process_resident_memory_bytes", "Resident memory size in bytes.", NULL, m_rss, NULL);
    rc |= brs__mreg_gauge_fn(r, "process_virtual_memory_bytes", "Virtual memory size in bytes.", NULL, m_vsize, NULL);
    rc |= brs__mreg_gauge_fn(r, "process_open_fds", "Number of open file descriptors.", NULL, m_fds, NULL);
    rc |= brs__mreg_gauge_fn(r, "process_max_fds", "Maximum number of open file descriptors.", NULL, m_maxfds, NULL);
    rc |= brs__mreg_gauge_fn(r, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                             NULL, m_start, NULL);
    rc |= brs__mreg_gauge_fn(r, "bourse_build_info", "The running bourse: version as a label, value 1.", lab, m_one,
                             NULL);
    return rc ? BRS_E_NOMEM : BRS_OK;
}

/* ---- rendering ------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) BRS__PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        if (b->oom)
            return;
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)w < b->cap - b->n) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = (b->cap + (size_t)w + 1) * 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static void sb_value(sbuf *b, double v)
{
    if (isnan(v))
        sb_printf(b, "NaN\n");
    else if (isinf(v))
        sb_printf(b, v > 0 ? "+Inf\n" : "-Inf\n");
    else if (v == floor(v) && fabs(v) < 1e15)
        sb_printf(b, "%.0f\n", v);
    else {
        char tmp[40]; /* the shortest of 15..17 digits that reads back exactly */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        sb_printf(b, "%s\n", tmp);
    }
}

static void sb_help(sbuf *b, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            sb_printf(b, "\\\\");
        else if (*p == '\n')
            sb_printf(b, "\\n");
        else
            sb_printf(b, "%c", *p);
    }
}

/* name{labels,extra} */
static void sb_series(sbuf *b, const char *name, const char *suffix, const char *labels, const char *extra)
{
    sb_printf(b, "%s%s", name, suffix);
    if (*labels || extra) {
        sb_printf(b, "{%s%s%s}", labels, *labels && extra ? "," : "", extra ? extra : "");
    }
    sb_printf(b, " ");
}

int brs__mreg_render(brs__mreg *r, char **out, size_t *len, brs_error *err)
{
    sbuf b = {.cap = 4096};
    b.p = malloc(b.cap);
    if (!b.p)
        return brs__err(err, BRS_E_NOMEM, "out of memory rendering metrics");
    b.p[0] = 0;
    pthread_mutex_lock(&r->mu);
    for (family *f = r->first; f; f = f->next) {
        sb_printf(&b, "# HELP %s ", f->name);
        sb_help(&b, f->help);
        sb_printf(&b, "\n# TYPE %s %s\n", f->name,
                  f->type == T_COUNTER ? "counter" : f->type == T_GAUGE ? "gauge" : "histogram");
        for (series *s = f->first; s; s = s->next) {
            if (s->kind == 'f') {
                sb_series(&b, f->name, "", s->labels, NULL);
                sb_value(&b, s->fn(s->ctx));
            } else if (s->kind == T_COUNTER) {
                sb_series(&b, f->name, "", s->labels, NULL);
                sb_printf(&b, "%" PRIu64 "\n", brs__counter_get(&s->v->c));
            } else if (s->kind == T_GAUGE) {
                sb_series(&b, f->name, "", s->labels, NULL);
                sb_value(&b, brs__gauge_get(&s->v->g));
            } else {
                brs__histogram *h = &s->v->h;
                uint64_t cum = 0;
                char le[48];
                for (int i = 0; i <= h->n; i++) {
                    cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
                    if (i < h->n)
                        snprintf(le, sizeof le, "le=\"%.9g\"", (double)h->bound_ns[i] / 1e9);
                    else
                        snprintf(le, sizeof le, "le=\"+Inf\"");
                    sb_series(&b, f->name, "_bucket", s->labels, le);
                    sb_printf(&b, "%" PRIu64 "\n", cum);
                }
                sb_series(&b, f->name, "_sum", s->labels, NULL);
                sb_value(&b, (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
                sb_series(&b, f->name, "_count", s->labels, NULL);
                sb_printf(&b, "%" PRIu64 "\n", cum);
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (b.oom) {
        free(b.p);
        return brs__err(err, BRS_E_NOMEM, "out of memory rendering metrics");
    }
    *out = b.p;
    *len = b.n;
    return BRS_OK;
}
