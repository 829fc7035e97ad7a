/* live_rt.h: `bourse live` as a configuration of the one runtime
 * (host/runtime): its "paper" object becomes the runtime's one venue (a venue
 * plugin, the simulated exchange by default, or the "touch" venue), on the
 * real clock, actions reaching the venue in the order sent. The live feed's
 * events are replayed into that venue; what it shows reaches the strategy
 * hosted on the runtime (rt_hosted.c), whose orders take the order path. */
#ifndef BRS_RECORD_LIVE_RT_H
#define BRS_RECORD_LIVE_RT_H

#include <stdint.h>

#include <bourse/bourse.h>
#include <cjson/cJSON.h>

#include "core/config.h"
#include "runtime/runtime.h"

typedef struct brs__live_rt {
    brs__rt *rt;       /* the runtime: the venue, the queue, the order path */
    brs_config cfg;    /* its config, made from "paper" (source "paper") */
    int has_cfg;
    int touch;         /* paper.fill "touch" */
} brs__live_rt;

/* Read `paper` (NULL: the defaults) of the live config `cfg` and open the
 * runtime over the run's instruments; errors name the key and cfg's file. On
 * failure nothing stays open. */
int brs__live_rt_open(brs__live_rt *l, const brs_config *cfg, const cJSON *paper,
                      const brs_instrument *instr, uint32_t n_instr, int quiet, brs_error *err);
/* One live market event at real time `now`: what is due by now first, then
 * the event into the venue, then what it caused at now. */
void brs__live_rt_market(brs__live_rt *l, const brs_market_event *ev, int64_t now);
/* The stop: everything still on its way is carried out, in order. */
void brs__live_rt_drain(brs__live_rt *l);
void brs__live_rt_close(brs__live_rt *l);

#endif
