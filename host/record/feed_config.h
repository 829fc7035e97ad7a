/* feed_config.h: the live-feed part of a `bourse record` / `bourse live`
 * configuration file (keys listed in `bourse record --help`), parsed strictly
 * into the options of a Binance live session and the run's instrument table. */
#ifndef BRS_RECORD_FEED_CONFIG_H
#define BRS_RECORD_FEED_CONFIG_H

#include <stdint.h>

#include <bourse/types.h>

#include "core/config.h"
#include "feeds/binance_live.h"

typedef struct brs__feed_cfg {
    brs__bn_live_opts live; /* sink/ud/log left for the caller */
    const char **names;
    char *names_buf;
    int *pdec, *qdec;
    brs_instrument *instr; /* id = index, price_scale = 10^price_decimals, tick/lot 1 */
    uint32_t n;
    double duration_s;
    int64_t max_events, block_records;
    int stop_on_close;
    const cJSON *strategy; /* the "strategy" object when allowed and present */
    const cJSON *paper;    /* the "paper" object (bourse live), when present */
    const cJSON *metrics;  /* the "metrics" object (bourse live), when present */
} brs__feed_cfg;

/* Parse cfg's root. allow_strategy: accept "strategy" and "paper" objects (bourse live). */
int brs__feed_cfg_parse(brs__feed_cfg *fc, const brs_config *cfg, int allow_strategy,
                        brs_error *err);
void brs__feed_cfg_free(brs__feed_cfg *fc);

/* Log lines of the feed session (feed_log.c): level as in core/log.h; quiet
 * keeps warnings and errors only. */
void brs__feed_log(const char *component, int quiet, int level, const char *msg);
/* One warning per reconnect attempt, with attempt, delay_ms and error fields. */
void brs__feed_log_retry(const char *component, uint64_t attempt, int64_t delay_ns, const char *why);

#endif
