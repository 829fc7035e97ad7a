/* csvread.c: libcsv driven line by line, so every row knows its line number;
 * numbers are parsed exactly (decimal strings to scaled integers, no floats). */
#include "csvread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "ticks/import.h"

typedef struct csv_state {
    brs_csv_row row;
    char *arena;
    size_t used, cap;
    size_t *off;
    size_t nf, fcap;
    char **ptrs;
    size_t pcap;
    brs_csv_row_fn fn;
    void *ud;
    brs_error *err;
    int rc;
} csv_state;

static void on_field(void *s, size_t len, void *data)
{
    csv_state *st = data;
    if (st->rc)
        return;
    if (st->used + len + 1 > st->cap) {
        size_t nc = (st->cap + len + 1) * 2;
        char *na = realloc(st->arena, nc);
        if (!na) {
            st->rc = brs__err(st->err, BRS_E_NOMEM, "out of memory");
            return;
        }
        st->arena = na;
        st->cap = nc;
    }
    if (st->nf == st->fcap) {
        size_t nc = st->fcap ? st->fcap * 2 : 16;
        size_t *no = realloc(st->off, nc * sizeof *no);
        if (!no) {
            st->rc = brs__err(st->err, BRS_E_NOMEM, "out of memory");
            return;
        }
        st->off = no;
        st->fcap = nc;
    }
    st->off[st->nf++] = st->used;
    if (len)
        memcpy(st->arena + st->used, s, len);
    st->arena[st->used + len] = 0;
    st->used += len + 1;
}

static void on_row(int c, void *data)
{
    (void)c;
    csv_state *st = data;
    if (!st->rc) {
        if (st->pcap < st->nf) {
            char **np = realloc(st->ptrs, st->nf * sizeof *np);
            if (!np) {
                st->rc = brs__err(st->err, BRS_E_NOMEM, "out of memory");
                return;
            }
            st->ptrs = np;
            st->pcap = st->nf;
        }
        for (size_t i = 0; i < st->nf; i++)
            st->ptrs[i] = st->arena + st->off[i];
        st->row.n = st->nf;
        st->row.f = st->ptrs;
        st->rc = st->fn(st->ud, &st->row, st->err);
    }
    st->nf = 0;
    st->used = 0;
}

int brs__csv_each(const char *path, brs_csv_row_fn fn, void *ud, brs_progress *pr, uint64_t *done,
                  brs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return brs__err(err, errno == ENOENT ? BRS_E_NOTFOUND : BRS_E_IO, "%s: cannot open: %s", path,
                        strerror(errno));
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0) {
        fclose(f);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    csv_state st = {.row = {.file = path}, .fn = fn, .ud = ud, .err = err};
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while (!st.rc && (len = getline(&line, &lcap, f)) > 0) {
        st.row.line++;
        if (csv_parse(&p, line, (size_t)len, on_field, on_row, &st) != (size_t)len && !st.rc)
            st.rc = brs__err(err, BRS_E_PARSE, "%s:%llu: malformed CSV: %s", path,
                             (unsigned long long)st.row.line, csv_strerror(csv_error(&p)));
        if (done) {
            *done += (uint64_t)len;
            if (pr)
                brs__progress_update(pr, *done);
        }
    }
    if (!st.rc && ferror(f))
        st.rc = brs__err(err, BRS_E_IO, "%s: read failed", path);
    if (!st.rc && csv_fini(&p, on_field, on_row, &st) != 0 && !st.rc)
        st.rc = brs__err(err, BRS_E_PARSE, "%s:%llu: malformed CSV at end of file: %s", path,
                         (unsigned long long)st.row.line, csv_strerror(csv_error(&p)));
    csv_free(&p);
    free(line);
    free(st.arena);
    free(st.off);
    free(st.ptrs);
    fclose(f);
    return st.rc;
}

int brs__parse_decimal(const char *s, int64_t scale, int64_t *out)
{
    const char *p = s;
    int neg = 0;
    while (*p == ' ')
        p++;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
        return BRS_E_PARSE;
    __int128 v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > (__int128)INT64_MAX)
            return BRS_E_RANGE;
    }
    v *= scale;
    if (*p == '.') {
        p++;
        int64_t place = scale;
        while (*p >= '0' && *p <= '9') {
            int d = *p++ - '0';
            if (place % 10 == 0) {
                place /= 10;
                v += (__int128)d * place;
            } else if (d != 0) {
                return BRS_E_RANGE; /* more precision than the scale holds */
            }
        }
    }
    while (*p == ' ')
        p++;
    if (*p || v > (__int128)INT64_MAX)
        return *p ? BRS_E_PARSE : BRS_E_RANGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return BRS_OK;
}

int brs__csv_int(const brs_csv_row *row, size_t i, const char *name, int64_t *out, brs_error *err)
{
    if (i >= row->n)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s) is missing (row has %zu fields)",
                        row->file, (unsigned long long)row->line, i + 1, name, row->n);
    int rc = brs__parse_decimal(row->f[i], 1, out);
    if (rc)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s): '%s' is not an integer", row->file,
                        (unsigned long long)row->line, i + 1, name, row->f[i]);
    return BRS_OK;
}

int brs__csv_dec(const brs_csv_row *row, size_t i, const char *name, int64_t scale, int64_t *out,
                 brs_error *err)
{
    if (i >= row->n)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s) is missing (row has %zu fields)",
                        row->file, (unsigned long long)row->line, i + 1, name, row->n);
    int rc = brs__parse_decimal(row->f[i], scale, out);
    if (rc == BRS_E_RANGE)
        return brs__err(err, BRS_E_RANGE,
                        "%s:%llu: field %zu (%s): '%s' is out of range or has more decimals than scale %lld holds",
                        row->file, (unsigned long long)row->line, i + 1, name, row->f[i], (long long)scale);
    if (rc)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s): '%s' is not a number", row->file,
                        (unsigned long long)row->line, i + 1, name, row->f[i]);
    return BRS_OK;
}
