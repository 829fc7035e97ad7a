/* csvread.h: CSV input for the importers, through libcsv, one row at a time
 * (pushed to a callback, or pulled) with the file name and line number kept
 * for error messages. */
#ifndef BRS_TICKS_CSVREAD_H
#define BRS_TICKS_CSVREAD_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

#include "core/core.h"

typedef struct brs_csv_row {
    const char *file;
    uint64_t line; /* 1-based line where the row ends */
    size_t n;      /* fields */
    char **f;      /* NUL-terminated fields */
} brs_csv_row;

/* Return BRS_OK to go on, a negative code (with err filled) to stop. */
typedef int (*brs_csv_row_fn)(void *ud, const brs_csv_row *row, brs_error *err);

/* Calls fn for every row of path. A final line without newline is a row like
 * any other. Malformed CSV is an error naming file and line. pr (optional) is
 * advanced by the bytes read, starting from *done. */
int brs__csv_each(const char *path, brs_csv_row_fn fn, void *ud, brs_progress *pr, uint64_t *done,
                  brs_error *err);

/* Pull-style reading, with the same quoting rules and errors as brs__csv_each:
 * brs__csv_next gives the next row (valid until the next call or close) and
 * returns 1, or 0 at the end of the file, or a negative code with err filled.
 * Memory stays bounded by the longest row. */
typedef struct brs_csv_reader brs_csv_reader;
int brs__csv_open(brs_csv_reader **r, const char *path, brs_error *err);
int brs__csv_next(brs_csv_reader *r, const brs_csv_row **row, brs_error *err);
uint64_t brs__csv_bytes(const brs_csv_reader *r); /* bytes read so far */
void brs__csv_close(brs_csv_reader *r);

/* Field helpers: errors name file, line and the field's name. */
int brs__csv_int(const brs_csv_row *row, size_t i, const char *name, int64_t *out, brs_error *err);
int brs__csv_dec(const brs_csv_row *row, size_t i, const char *name, int64_t scale, int64_t *out,
                 brs_error *err);

#endif
