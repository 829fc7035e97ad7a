/* fix_live.h: the FIX gateway's view for the live dashboard (host/ops/live.h):
 * one account per session, each venue's top of book, the order table's
 * newest open orders. Published by the event loop with the metrics sync. */
#ifndef BRS_FIX_LIVE_H
#define BRS_FIX_LIVE_H

#include "fix/app.h"
#include "ops/live.h"

/* Sized for g's sessions and instruments (after they are added, before the
 * journal is replayed, so replayed fills rebuild the positions). */
brs__live *brs__fix_live_new(const brs__fix_gateway *g);
/* Fill and publish a snapshot (loop thread). */
void brs__fix_live_publish(brs__live *l, brs__fix_gateway *g, int64_t now_real_ns);

#endif
