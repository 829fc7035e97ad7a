/* paper.h: `bourse live` paper trading through a venue plugin (the simulated
 * exchange, plugins/venues/sim, by default), on the runtime (host/runtime). Every live market event reaches
 * the venue before the strategy sees it, so the venue's book is the live book;
 * the strategy's orders go to the venue, which fills them as it does in a
 * book-mode backtest: walking the depth, partial fills, fees, and for resting
 * orders the queue position of its L2 queue model. */
#ifndef BRS_RECORD_PAPER_H
#define BRS_RECORD_PAPER_H

#include <stdint.h>

#include <bourse/bourse.h>
#include <cjson/cJSON.h>

#include "runtime/runtime.h"
#include "strategy/runtime.h"

typedef struct brs__paper {
    brs__rt *rt;       /* the runtime: the venue, the queue, the order path */
    brs_config cfg;    /* its config (the venue and its params) */
    int has_cfg;
    char name[64];
    brs__sctx *sc;     /* set by brs__paper_attach */
    int quiet;
    uint32_t n_instr;
    uint64_t n_fills;
    int64_t fees; /* price units x qty units; negative: rebates */
    int64_t *fees_by_instr; /* the same, per instrument (n_instr) */
    int delivering;    /* inside the runtime's delivery */
} brs__paper;

/* Load and open venue plugin `plugin` (a name on the plugin path or a .so
 * path) with `params` (JSON object or NULL) over the run's instruments.
 * `where` names the config key in errors. On failure nothing stays open. */
int brs__paper_open(brs__paper *p, const char *plugin, const cJSON *params,
                    const brs_instrument *instr, uint32_t n_instr, int quiet, const char *where,
                    brs_error *err);
/* The execution backend for the strategy runtime (orders to the venue, market
 * events to the venue first). Events go to sc once attached. */
brs__exec brs__paper_exec(brs__paper *p);
void brs__paper_attach(brs__paper *p, brs__sctx *sc);
/* Latencies as in a book-mode backtest's "latency" (order_entry_ns, cancel_ns,
 * response_ns); all 0 by default. BRS_E_NOMEM if the queue cannot be made. */
int brs__paper_set_latency(brs__paper *p, int64_t order_ns, int64_t cancel_ns, int64_t response_ns);
/* Carry out everything due at or before now (the strategy's clock is now):
 * call before each market event and when the loop wakes. */
void brs__paper_poll(brs__paper *p, int64_t now);
/* The next due time, INT64_MAX when nothing is on its way. */
int64_t brs__paper_next_due(const brs__paper *p);
void brs__paper_close(brs__paper *p);

#endif
