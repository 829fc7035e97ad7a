/* csvread.h: CSV input for the importers, through libcsv, one row at a time
 * with the file name and line number kept for error messages. */
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

/* Field helpers: errors name file, line and the field's name. */
int brs__csv_int(const brs_csv_row *row, size_t i, const char *name, int64_t *out, brs_error *err);
int brs__csv_dec(const brs_csv_row *row, size_t i, const char *name, int64_t scale, int64_t *out,
                 brs_error *err);

#endif
