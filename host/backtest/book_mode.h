/* book_mode.h: the book-mode driver (`mode: book`): tick files replayed in
 * time order into venue plugins through a latency model (a time-ordered event
 * queue), the strategy's orders routed to a venue's xSubmit/xCancel/xReplace,
 * timers, fees from the venue, optional flattening at the end. */
#ifndef BRS_BACKTEST_BOOK_MODE_H
#define BRS_BACKTEST_BOOK_MODE_H

#include "backtest.h"

typedef struct brs__book_opts {
    double initial_cash;
    int flatten;              /* close every position at the end with market orders */
    int md_from_file;         /* market data reaches the strategy at ts_local */
    int64_t md_ns;            /* else at ts_exchange + md_ns */
    int64_t order_ns;         /* submit and replace: strategy -> venue */
    int64_t cancel_ns;        /* cancel: strategy -> venue */
    int64_t response_ns;      /* order events: venue -> strategy */
    int64_t jitter_ns;        /* each delay gets + uniform [0, jitter_ns] (seeded) */
    uint64_t seed;
    uint32_t queue_capacity;  /* latency-queue items in flight (preallocated) */
    int64_t sample_every_ns;  /* equity samples at most this often (0: 1 s) */
    int router;               /* orders through the smart order router (host/sor) */
    int router_post;          /* limit parents may post what they cannot take */
    int64_t ack_timeout_ns;   /* router: a child unacknowledged this long is cancelled */
    int64_t max_reroutes;
} brs__book_opts;

typedef struct brs__book_run brs__book_run;

/* Read and check the "book" object of the configuration (defaults written back). */
int brs__book_read_config(brs_config *cfg, brs__book_opts *o, brs_error *err);
/* Open the data and the venues. */
int brs__book_create(brs__book_run **out, brs_config *cfg, const brs__book_opts *o, brs_error *err);
/* The run's instrument table (the merged files'). */
const brs_instrument *brs__book_instruments(brs__book_run *b, uint32_t *n);
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
