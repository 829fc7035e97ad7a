/* multivenue.h: book mode over several venues (`book.routing: "sor"`): the
 * strategy's orders pass the pre-trade risk checks and the smart order router's
 * parent-order manager (host/sor), which sends child orders to the venue
 * plugins through the driver's latency model and turns their events back into
 * one parent order with one stream of fills. See docs/backtesting.md
 * ("Several venues") and docs/router.md section 6. */
#ifndef BRS_BACKTEST_MULTIVENUE_H
#define BRS_BACKTEST_MULTIVENUE_H

#include "analytics/analytics.h"
#include "book_mode.h"

typedef struct brs__mv brs__mv;

/* Check book.routing, book.sor, book.risk and book.venues[].data (defaults
 * written back); called from brs__book_read_config. */
int brs__mv_read_config(brs_config *cfg, cJSON *book, brs_error *err);
/* *out stays NULL when book.routing is "direct" (orders go to book.route). */
int brs__mv_create(brs__mv **out, brs__book_run *b, brs_config *cfg, brs_error *err);
void brs__mv_destroy(brs__mv *m);

/* The strategy's orders (from the driver's brs__exec). */
int brs__mv_submit(brs__mv *m, brs__sctx *sc, const brs_order *o);
int brs__mv_cancel(brs__mv *m, uint64_t id);
int brs__mv_replace(brs__mv *m, uint64_t id, int64_t price, int64_t qty);
/* A venue's event about a child order, as it reaches the host. */
void brs__mv_on_child_event(brs__mv *m, const brs_order_event *ev);
/* A venue's own market data (after the market-data latency): the router's
 * view of that venue's book; STATUS halt/resume events go to the manager. */
void brs__mv_on_venue_market(brs__mv *m, uint32_t venue, const brs_market_event *ev);
/* Does venue replay data file `file`? (book.venues[].data; default: every file) */
int brs__mv_venue_wants(const brs__mv *m, uint32_t venue, uint32_t file);
/* Add the run's inventory and execution figures to the summary. */
void brs__mv_summary(brs__mv *m, brs_an_recorder *rec);

/* ---- what book_mode.c offers multivenue.c ---------------------------------- */
int64_t brs__book_now(const brs__book_run *b);
const brs__sctx *brs__book_sctx(const brs__book_run *b);
/* A child order reaches venue after the order-entry latency; a cancel after the cancel latency. */
int brs__book_send(brs__book_run *b, uint32_t venue, const brs_order *o);
int brs__book_send_cancel(brs__book_run *b, uint32_t venue, uint64_t id);
/* An event about a strategy order, delivered now (accounting, recorder, strategy). */
void brs__book_deliver(brs__book_run *b, const brs_order_event *ev);
int64_t brs__book_order_latency(const brs__book_run *b);
uint32_t brs__book_venue_count(const brs__book_run *b);
const char *brs__book_venue_name(const brs__book_run *b, uint32_t i);

#endif
