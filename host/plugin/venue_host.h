/* venue_host.h: the host services a run gives a venue plugin it hosts
 * (book-mode backtests, `bourse live`'s paper venue): its parameters from the
 * config's JSON object, the run's instruments, and the strategy services
 * refused (a venue does not trade). The owner supplies what differs between
 * runs: the clock, the log and where the venue's reports go. */
#ifndef BRS_PLUGIN_VENUE_HOST_H
#define BRS_PLUGIN_VENUE_HOST_H

#include <stdint.h>

#include <bourse/bourse.h>
#include <cjson/cJSON.h>

/* Put first in the owner's struct: the brs_ctx * the plugin is given is the
 * owner (so the owner's own services cast it back), and these functions read
 * it as a brs__venue_ctx. */
#define BRS__VENUE_MAX_PARAMS 64 /* keys in a venue's "params" object */
#define BRS__VENUE_ASKED 32      /* parameter names remembered for "did you mean" */

typedef struct brs__venue_ctx {
    brs_host host;
    const cJSON *params;         /* the venue's "params" object, or NULL */
    const brs_instrument *instr; /* the run's instruments (must outlive the venue) */
    uint32_t n_instr;
    uint64_t read;               /* bit i: the plugin asked for params' i-th key */
    uint32_t n_asked;            /* names the plugin asked for, present or not */
    char asked[BRS__VENUE_ASKED][48];
} brs__venue_ctx;

/* Fill v: parameters and instruments answered from here, trading services
 * BRS_E_STATE (bars and targets BRS_E_UNSUPPORTED), the four given as is. */
void brs__venue_ctx_init(brs__venue_ctx *v, const cJSON *params, const brs_instrument *instr,
                         uint32_t n_instr, int64_t (*now)(brs_ctx *),
                         void (*log)(brs_ctx *, int, const char *),
                         int (*emit_order)(brs_ctx *, const brs_order_event *),
                         int (*emit_market)(brs_ctx *, const brs_market_event *));

/* After the plugin's open: every key of v->params must be one the plugin asked
 * for (a venue reads its parameters in open, docs/plugin-abi.md) or one of
 * host_keys (NULL-terminated: what the host itself reads, e.g. the router's
 * fees and lots). Otherwise BRS_E_INVAL naming where.params.KEY, the plugin,
 * and the closest name it asked for. More than BRS__VENUE_MAX_PARAMS keys is
 * refused too. */
int brs__venue_ctx_check_params(const brs__venue_ctx *v, const char *const *host_keys,
                                const char *where, const char *plugin, brs_error *err);

#endif
