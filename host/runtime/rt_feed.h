/* rt_feed.h: market data replayed into a real-clock runtime (`bourse serve`'s
 * "market_data" key): "none", or {"file": TICKS, "speed": N | "max"}. With
 * "max" the whole file is replayed when the server opens, before any client
 * and before the order journal, so a restart rebuilds the same books. */
#ifndef BRS_RUNTIME_RT_FEED_H
#define BRS_RUNTIME_RT_FEED_H

#include "runtime.h"

typedef struct brs__rt_feed_opts {
    const char *file;  /* NULL: none */
    double speed;      /* multiple of real time; 0: max */
    int stop_at_end;   /* market_data.stop_at_end: the server stops once the file
                        * is replayed and what it caused has played out */
} brs__rt_feed_opts;

typedef struct brs__rt_feed brs__rt_feed;

int brs__rt_feed_read_config(brs_config *cfg, cJSON *obj, brs__rt_feed_opts *o, brs_error *err);
int brs__rt_feed_open(brs__rt_feed **out, const brs__rt_feed_opts *o, const brs_instrument *instr,
                      uint32_t n, brs_error *err);
/* Replay what is due by wall-clock `now` (with max: everything), at most
 * max_events of it; returns the events replayed. */
uint64_t brs__rt_feed_run(brs__rt_feed *f, brs__rt *rt, int64_t now, uint64_t max_events);
/* Replay exactly n events (ignoring the pace), each followed by
 * brs__rt_advance(rt, now), as brs__rt_feed_run did when it replayed them
 * (a journal's record of it). Returns the events replayed (fewer only at the
 * end of the file). */
uint64_t brs__rt_feed_run_exact(brs__rt_feed *f, brs__rt *rt, int64_t now, uint64_t n);
/* The pace starts again from the next event at the next run (after a restart
 * replayed the events that ran before it). */
void brs__rt_feed_repace(brs__rt_feed *f);
/* `max` with hosted strategies: the whole file on a simulated clock, book
 * mode's step (rt_strategy.c: each replayed event at its exchange time, the
 * queue's items and the strategies' timers at theirs) until the data has
 * ended and the queue is empty. Returns the events replayed. */
struct brs__rt_strats;
uint64_t brs__rt_feed_run_sim(brs__rt_feed *f, brs__rt *rt, struct brs__rt_strats *s);
int brs__rt_feed_done(const brs__rt_feed *f);
/* The file's smallest exchange time (brs__tick_first_ts), INT64_MIN when none:
 * where hosted strategies start, as in book mode (brs__book_start). */
int64_t brs__rt_feed_first_time(brs__rt_feed *f);
/* Paced at a multiple of real time (the loop must come back soon). */
int brs__rt_feed_paced(const brs__rt_feed *f);
void brs__rt_feed_close(brs__rt_feed *f);

#endif
