/* paper.h: `bourse live` paper trading through a venue plugin (the simulated
 * exchange, plugins/venues/sim, by default). Every live market event reaches
 * the venue before the strategy sees it, so the venue's book is the live book;
 * the strategy's orders go to the venue, which fills them as it does in a
 * book-mode backtest: walking the depth, partial fills, fees, and for resting
 * orders the queue position of its L2 queue model. */
#ifndef BRS_RECORD_PAPER_H
#define BRS_RECORD_PAPER_H

#include <stdint.h>

#include <bourse/bourse.h>
#include <cjson/cJSON.h>

#include "plugin/loader.h"
#include "strategy/runtime.h"

typedef struct brs__paper {
    brs_plugin plugin;
    brs_plugin_instance inst;
    const brs_venue_vtable *vt;
    brs_host host;
    char name[64];
    const cJSON *params;
    const brs_instrument *instr;
    uint32_t n_instr;
    brs__sctx *sc; /* set by brs__paper_attach */
    int quiet;
    uint64_t n_fills;
    int64_t fees; /* price units x qty units; negative: rebates */
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
void brs__paper_close(brs__paper *p);

#endif
