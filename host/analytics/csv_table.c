/* csv_table.c: a small CSV reader on libcsv for the analytics loaders
 * (`bourse report`, benchmark files, sweep results): one callback per record,
 * errors naming the file and line. */
#include "an_internal.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* ---- a small CSV table reader on libcsv -------------------------------------- */


const char *brs__an_table_field(const brs_an_table *t, size_t i)
{
    return t->buf + t->off[i];
}

static void on_field(void *s, size_t len, void *data)
{
    brs_an_table *t = data;
    if (t->rc)
        return;
    if (t->nf == t->cap_f) {
        size_t nc = t->cap_f ? t->cap_f * 2 : 16;
        size_t *p = realloc(t->off, nc * sizeof *p);
        if (!p) {
            t->rc = brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            return;
        }
        t->off = p;
        t->cap_f = nc;
    }
    if (t->len + len + 1 > t->cap) {
        size_t nc = t->cap ? t->cap : 256;
        while (nc < t->len + len + 1)
            nc *= 2;
        char *p = realloc(t->buf, nc);
        if (!p) {
            t->rc = brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
            return;
        }
        t->buf = p;
        t->cap = nc;
    }
    t->off[t->nf++] = t->len;
    if (len)
        memcpy(t->buf + t->len, s, len);
    t->len += len;
    t->buf[t->len++] = '\0';
}

static void on_record(int c, void *data)
{
    (void)c;
    brs_an_table *t = data;
    t->line++;
    if (!t->rc)
        t->rc = t->on_row(t);
    t->len = t->nf = 0;
}

int brs__an_table_read(brs_an_table *t)
{
    char *data;
    size_t n;
    int rc = brs__read_file(t->path, &data, &n, t->err);
    if (rc)
        return rc;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(data);
        return brs__err(t->err, BRS_E_NOMEM, "%s: out of memory", t->path);
    }
    if (csv_parse(&p, data, n, on_field, on_record, t) != n && !t->rc)
        t->rc = brs__err(t->err, BRS_E_PARSE, "%s:%ld: %s", t->path, t->line + 1,
                         csv_strerror(csv_error(&p)));
    if (!t->rc && csv_fini(&p, on_field, on_record, t) != 0 && !t->rc)
        t->rc = brs__err(t->err, BRS_E_PARSE, "%s:%ld: %s", t->path, t->line + 1,
                         csv_strerror(csv_error(&p)));
    csv_free(&p);
    free(data);
    free(t->buf);
    free(t->off);
    if (!t->rc && t->line == 0)
        t->rc = brs__err(t->err, BRS_E_PARSE, "%s: empty file (a header line is needed)", t->path);
    return t->rc;
}

int brs__an_table_column(const brs_an_table *t, const char *name)
{
    for (size_t i = 0; i < t->nf; i++)
        if (strcmp(brs__an_table_field(t, i), name) == 0)
            return (int)i;
    return -1;
}


int brs__an_table_num(brs_an_table *t, int col, const char *name, int allow_empty, double *out)
{
    const char *s = brs__an_table_field(t, (size_t)col);
    if (!*s && allow_empty) {
        *out = NAN;
        return BRS_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v))
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: column '%s': '%s' is not a number", t->path,
                        t->line, name, s);
    *out = v;
    return BRS_OK;
}

int brs__an_table_i64(brs_an_table *t, int col, const char *name, int64_t *out)
{
    const char *s = brs__an_table_field(t, (size_t)col);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE)
        return brs__err(t->err, BRS_E_PARSE, "%s:%ld: column '%s': '%s' is not an integer time in ns",
                        t->path, t->line, name, s);
    *out = v;
    return BRS_OK;
}

