/* book_mode.h: the book-mode driver (`mode: book`), a configuration of the
 * runtime (host/runtime): tick files replayed in time order into its venues on
 * a simulated clock, the strategy as its client (orders through the runtime's
 * order path), timers, fees from the venue, optional flattening at the end. */
#ifndef BRS_BACKTEST_BOOK_MODE_H
#define BRS_BACKTEST_BOOK_MODE_H

#include "backtest.h"
#include "runtime/runtime.h"

typedef struct brs__book_opts {
    brs__rt_opts rt;          /* latency, queue, venues, router: the runtime's keys under "book" */
    double initial_cash;
    int flatten;              /* close every position at the end with market orders */
    int64_t sample_every_ns;  /* equity samples at most this often (0: 1 s) */
} brs__book_opts;

typedef struct brs__book_run brs__book_run;

/* Read and check the "book" object of the configuration (defaults written back). */
int brs__book_read_config(brs_config *cfg, brs__book_opts *o, brs_error *err);
/* Open the data and the venues. */
int brs__book_create(brs__book_run **out, brs_config *cfg, const brs__book_opts *o, brs_error *err);
/* The run's instrument table (the merged files'). */
const brs_instrument *brs__book_instruments(brs__book_run *b, uint32_t *n);
/* The clock to the data's first instant (the smallest exchange time of its
 * files), returned: the strategy starts there, not at 0 (a repeating timer set
 * in on_start would otherwise step through every interval since 1970). */
int64_t brs__book_start(brs__book_run *b);
/* The execution interface for the strategy context. */
brs__exec brs__book_exec(brs__book_run *b);
/* The event loop until the data ends. */
int brs__book_run_loop(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, int progress,
                       brs__bt_result *res, brs_error *err);
/* After the strategy stopped: flatten if asked, drain the queue, last equity sample. */
int brs__book_finish(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, brs_error *err);
void brs__book_destroy(brs__book_run *b);
/* Fills received and orders sent so far. */
uint64_t brs__book_fills(const brs__book_run *b, uint64_t *orders);

#endif
