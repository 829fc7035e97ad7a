/* import.h: importers that turn market data people have (LOBSTER, Yahoo daily
 * bars, generic trades/quotes CSV) into tick files, and the `ticks book` replay.
 * Importers append to an in-memory sink; the command writes it out atomically
 * once the instrument table is known. */
#ifndef BRS_TICKS_IMPORT_H
#define BRS_TICKS_IMPORT_H

#include <stdint.h>

#include <bourse/errors.h>
#include <bourse/types.h>

#include "core/core.h"

int brs__cmd_ticks_import(int argc, char **argv);
int brs__cmd_ticks_book(int argc, char **argv);

/* "123.4500" times scale (a power of ten) exactly; more decimals than the scale
 * holds are BRS_E_RANGE unless they are zeros. */
int brs__parse_decimal(const char *s, int64_t scale, int64_t *out);

typedef struct brs_import_sink {
    brs_market_event *ev;
    size_t n, cap;
    brs_instrument *instr;
    uint32_t n_instr, instr_cap;
    uint64_t skipped;   /* rows skipped on purpose (Yahoo null rows) */
    uint64_t synthetic; /* events added to reconcile with a LOBSTER orderbook file */
    brs_progress *progress;
    uint64_t bytes_done;
} brs_import_sink;

/* Append one event (copied). */
int brs__sink_add(brs_import_sink *s, const brs_market_event *e, brs_error *err);
/* Index of the instrument named symbol, added with the given scales if new. */
int brs__sink_instrument(brs_import_sink *s, const char *symbol, int64_t price_scale,
                         int64_t tick_size, int64_t lot_size, uint32_t *index, brs_error *err);

typedef struct brs_import_opts {
    const char *symbol;    /* --symbol */
    const char *orderbook; /* --orderbook (lobster) */
    const char *date;      /* --date (lobster) */
    const char *mapping;   /* --mapping (csv) */
    const char *snapshot;  /* --snapshot (binance): the REST depth snapshots */
    int utc_offset_set;
    int64_t utc_offset_min; /* --utc-offset (lobster) */
    int64_t price_scale;   /* --price-scale (yahoo), 0 = default */
    int64_t tick_size, lot_size;
} brs_import_opts;

int brs__import_lobster(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);
int brs__import_yahoo(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);
int brs__import_csv(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);
int brs__import_binance(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);

#endif
