/* clset.h: the ClOrdIDs of orders a journal checkpoint forgot during the
 * trading day, kept only as 64-bit hashes of (session, ClOrdID), so a reused
 * ClOrdID is still refused as a duplicate while memory stays 16 bytes per
 * closed order instead of a whole order and map entry (issue 15, point 9). */
#ifndef BRS_FIX_CLSET_H
#define BRS_FIX_CLSET_H

#include <stdint.h>

typedef struct brs__fix_clset {
    uint64_t *slot; /* open addressing, 0 empty (hashes are never 0) */
    uint64_t cap, used;
} brs__fix_clset;

/* Add hash h (non-zero); BRS_OK or BRS_E_NOMEM. Grows by a full rehash: only
 * checkpoints and restarts add, never the order path. */
int brs__fix_clset_add(brs__fix_clset *s, uint64_t h);
/* Room for n more hashes without a rehash (BRS_OK or BRS_E_NOMEM). */
int brs__fix_clset_reserve(brs__fix_clset *s, uint64_t n);
int brs__fix_clset_has(const brs__fix_clset *s, uint64_t h);
void brs__fix_clset_free(brs__fix_clset *s);

#endif
