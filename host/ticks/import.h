/* import.h: importers that turn market data people have (LOBSTER, Yahoo daily
 * bars, generic trades/quotes CSV) into tick files, and the `ticks book` replay.
 * Importers append to a sink (a bounded buffer that spills to an unlinked
 * temporary file); brs__sink_write writes it out atomically once the
 * instrument table is known. */
#ifndef BRS_TICKS_IMPORT_H
#define BRS_TICKS_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include <bourse/errors.h>
#include <bourse/types.h>

#include "core/core.h"
#include "ticks/tickfile.h"

int brs__cmd_ticks_import(int argc, char **argv);
int brs__cmd_ticks_book(int argc, char **argv);

/* "123.4500" times scale (a power of ten) exactly; more decimals than the scale
 * holds are BRS_E_RANGE unless they are zeros. */
int brs__parse_decimal(const char *s, int64_t scale, int64_t *out);

/* Events a sink holds in memory before it spills them to disk (64 MB). */
#define BRS_IMPORT_BUF_DEFAULT ((size_t)1 << 20)
/* Instrument ids at or above this are provisional: an importer that learns
 * its symbols only at the end of a file (Binance) resolves them then with
 * brs__sink_late_set; events already spilled are mapped on the way out. */
#define BRS_SINK_LATE 0x80000000u

typedef struct brs_import_sink {
    brs_market_event *ev; /* the events not spilled yet, in order: ev[0..n) */
    size_t n, cap;
    size_t buf_max;       /* events held before spilling; 0 = BRS_IMPORT_BUF_DEFAULT */
    uint64_t total;       /* events added, spilled or not */
    const char *spill_dir; /* where the spill file goes (the output's directory); NULL = "." */
    FILE *spill;          /* unlinked temporary, NULL until the buffer first fills */
    uint64_t spilled;     /* events in the spill file */
    uint32_t *late;       /* provisional id - BRS_SINK_LATE -> instrument index */
    uint32_t n_late, late_cap;
    brs_instrument *instr;
    uint32_t n_instr, instr_cap;
    uint64_t skipped;   /* rows skipped on purpose (Yahoo null rows) */
    uint64_t synthetic; /* events added to reconcile with a LOBSTER orderbook file */
    brs_progress *progress;
    uint64_t bytes_done;
    int adj_note;       /* the Yahoo importer said that Adj Close is ignored */
} brs_import_sink;

/* Append one event (copied); spills the buffer when it is full. */
int brs__sink_add(brs_import_sink *s, const brs_market_event *e, brs_error *err);
/* Resolve provisional instrument id BRS_SINK_LATE + k to index (and the
 * events still in memory with it). */
int brs__sink_late_set(brs_import_sink *s, uint32_t k, uint32_t index, brs_error *err);
/* Write every event to a tick file at out, in the order added: from memory,
 * or streamed back from the spill file; the result is the same bytes. */
int brs__sink_write(brs_import_sink *s, const char *out, const brs_tick_writer_opts *wo,
                    brs_error *err);
/* Free the buffer, the instrument table and the spill file. */
void brs__sink_free(brs_import_sink *s);
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
    int adjust;            /* --adjust (yahoo): back-adjust OHLC by Adj Close / Close */
} brs_import_opts;

int brs__import_lobster(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);
int brs__import_yahoo(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);
int brs__import_csv(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);
int brs__import_binance(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err);

#endif
