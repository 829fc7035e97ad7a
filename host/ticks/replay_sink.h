/* replay_sink.h: a consumer of replayed events behind a function pointer. */
#ifndef BRS_TICKS_REPLAY_SINK_H
#define BRS_TICKS_REPLAY_SINK_H

#include <stdint.h>

#include <bourse/types.h>

typedef struct brs_replay_tally {
    uint64_t events;
    uint64_t checksum;
} brs_replay_tally;

typedef void (*brs_replay_fn)(void *user, const brs_market_event *ev);

void brs__replay_noop(void *user, const brs_market_event *ev);

#endif
