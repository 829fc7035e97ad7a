/* csvread.c: libcsv driven line by line, so every row knows its line number,
 * as a pull reader (brs__csv_next: the LOBSTER orderbook file is read in
 * lockstep with the messages) and push-style on top of it (brs__csv_each);
 * numbers are parsed exactly (decimal strings to scaled integers, no floats). */
#include "csvread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "ticks/import.h"

/* A pull reader: lines go through libcsv, and the rows it completes queue
 * here until asked for (a line can end several rows: CR is a row end too; a
 * quoted field can span lines and end none). Fields of the queued rows and of
 * the row in progress share one arena, compacted when the queue runs dry, so
 * memory is bounded by the longest row, not by the file. */
typedef struct qrow {
    size_t first, n; /* fields off[first .. first+n) */
    uint64_t line;
} qrow;

struct brs_csv_reader {
    FILE *f;
    struct csv_parser p;
    brs_csv_row row;
    char *arena;
    size_t used, cap;
    size_t *off;
    size_t nf, fcap, row_first; /* row_first: first field of the row in progress */
    qrow *q;
    size_t qhead, qn, qcap;
    char **ptrs;
    size_t pcap;
    char *line;
    size_t lcap;
    uint64_t line_no, bytes;
    int eof;
    int rc;         /* an error met while reading ahead, reported after the rows before it */
    brs_error perr;
};

static void on_field(void *s, size_t len, void *data)
{
    brs_csv_reader *r = data;
    if (r->rc)
        return;
    if (r->used + len + 1 > r->cap) {
        size_t nc = (r->cap + len + 1) * 2;
        char *na = realloc(r->arena, nc);
        if (!na) {
            r->rc = brs__err(&r->perr, BRS_E_NOMEM, "out of memory");
            return;
        }
        r->arena = na;
        r->cap = nc;
    }
    if (r->nf == r->fcap) {
        size_t nc = r->fcap ? r->fcap * 2 : 16;
        size_t *no = realloc(r->off, nc * sizeof *no);
        if (!no) {
            r->rc = brs__err(&r->perr, BRS_E_NOMEM, "out of memory");
            return;
        }
        r->off = no;
        r->fcap = nc;
    }
    r->off[r->nf++] = r->used;
    if (len)
        memcpy(r->arena + r->used, s, len);
    r->arena[r->used + len] = 0;
    r->used += len + 1;
}

static void on_row(int c, void *data)
{
    (void)c;
    brs_csv_reader *r = data;
    if (r->rc)
        return;
    if (r->qn == r->qcap) {
        size_t nc = r->qcap ? r->qcap * 2 : 8;
        qrow *nq = realloc(r->q, nc * sizeof *nq);
        if (!nq) {
            r->rc = brs__err(&r->perr, BRS_E_NOMEM, "out of memory");
            return;
        }
        r->q = nq;
        r->qcap = nc;
    }
    r->q[r->qn++] = (qrow){r->row_first, r->nf - r->row_first, r->line_no};
    r->row_first = r->nf;
}

int brs__csv_open(brs_csv_reader **out, const char *path, brs_error *err)
{
    *out = NULL;
    brs_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    r->f = fopen(path, "rb");
    if (!r->f) {
        int e = errno;
        free(r);
        return brs__err(err, e == ENOENT ? BRS_E_NOTFOUND : BRS_E_IO, "%s: cannot open: %s", path,
                        strerror(e));
    }
    if (csv_init(&r->p, CSV_STRICT | CSV_APPEND_NULL) != 0) {
        fclose(r->f);
        free(r);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    r->row.file = path;
    *out = r;
    return BRS_OK;
}

/* Drop the delivered rows' fields; keep the row in progress at the front. */
static void compact(brs_csv_reader *r)
{
    size_t base = r->row_first < r->nf ? r->off[r->row_first] : r->used;
    memmove(r->arena, r->arena + base, r->used - base);
    for (size_t i = r->row_first; i < r->nf; i++)
        r->off[i - r->row_first] = r->off[i] - base;
    r->nf -= r->row_first;
    r->used -= base;
    r->row_first = 0;
    r->qhead = r->qn = 0;
}

int brs__csv_next(brs_csv_reader *r, const brs_csv_row **row, brs_error *err)
{
    for (;;) {
        if (r->qhead < r->qn) {
            const qrow *q = &r->q[r->qhead++];
            if (r->pcap < q->n) {
                char **np = realloc(r->ptrs, q->n * sizeof *np);
                if (!np)
                    return brs__err(err, BRS_E_NOMEM, "out of memory");
                r->ptrs = np;
                r->pcap = q->n;
            }
            for (size_t i = 0; i < q->n; i++)
                r->ptrs[i] = r->arena + r->off[q->first + i];
            r->row.n = q->n;
            r->row.f = r->ptrs;
            r->row.line = q->line;
            *row = &r->row;
            return 1;
        }
        if (r->rc) {
            *err = r->perr;
            return r->rc;
        }
        if (r->eof)
            return 0;
        if (r->qn)
            compact(r);
        const char *path = r->row.file;
        ssize_t len = getline(&r->line, &r->lcap, r->f);
        if (len > 0) {
            r->line_no++;
            r->bytes += (uint64_t)len;
            if (csv_parse(&r->p, r->line, (size_t)len, on_field, on_row, r) != (size_t)len && !r->rc)
                r->rc = brs__err(&r->perr, BRS_E_PARSE, "%s:%llu: malformed CSV: %s", path,
                                 (unsigned long long)r->line_no, csv_strerror(csv_error(&r->p)));
        } else if (ferror(r->f)) {
            r->rc = brs__err(&r->perr, BRS_E_IO, "%s: read failed", path);
        } else {
            r->eof = 1; /* a last row without a newline comes out of csv_fini */
            if (csv_fini(&r->p, on_field, on_row, r) != 0 && !r->rc)
                r->rc = brs__err(&r->perr, BRS_E_PARSE, "%s:%llu: malformed CSV at end of file: %s", path,
                                 (unsigned long long)r->line_no, csv_strerror(csv_error(&r->p)));
        }
    }
}

uint64_t brs__csv_bytes(const brs_csv_reader *r)
{
    return r->bytes;
}

void brs__csv_close(brs_csv_reader *r)
{
    if (!r)
        return;
    csv_free(&r->p);
    fclose(r->f);
    free(r->line);
    free(r->arena);
    free(r->off);
    free(r->q);
    free(r->ptrs);
    free(r);
}

int brs__csv_each(const char *path, brs_csv_row_fn fn, void *ud, brs_progress *pr, uint64_t *done,
                  brs_error *err)
{
    brs_csv_reader *r;
    int rc = brs__csv_open(&r, path, err);
    if (rc)
        return rc;
    const brs_csv_row *row;
    uint64_t seen = 0;
    while ((rc = brs__csv_next(r, &row, err)) == 1) {
        if (done && r->bytes != seen) { /* progress by the bytes read so far */
            *done += r->bytes - seen;
            seen = r->bytes;
            if (pr)
                brs__progress_update(pr, *done);
        }
        if ((rc = fn(ud, row, err)) != BRS_OK)
            break;
    }
    if (done && r->bytes != seen) {
        *done += r->bytes - seen;
        if (pr)
            brs__progress_update(pr, *done);
    }
    brs__csv_close(r);
    return rc;
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
