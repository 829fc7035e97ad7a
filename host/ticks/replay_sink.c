/* replay_sink.c: the no-op consumer of `bourse bench replay`, in its own
 * translation unit so the compiler cannot inline the dispatch away: the bench
 * measures decode plus a real indirect call per event. */
#include "ticks/replay_sink.h"

void brs__replay_noop(void *user, const brs_market_event *ev)
{
    brs_replay_tally *t = user;
    t->events++;
    t->checksum += (uint64_t)ev->ts_exchange ^ ev->order_id;
}
