/* wal.h: the writes and syncs of the gateway's durable files (order journal,
 * session stores) go through here: errors are reported with errno kept, never
 * ignored, and a test can make the process die (or a call fail) at the Nth
 * write or sync, deterministically, to check crash consistency at every
 * boundary (BRS_FAULT_AFTER_WRITES, BRS_FAULT_FAIL_AT; docs/fix-gateway.md). */
#ifndef BRS_FIX_WAL_H
#define BRS_FIX_WAL_H

#include <stddef.h>

/* Write all n bytes at the file's position (retrying EINTR and short writes).
 * Returns 0 or -1 with errno set. One fault-injection step. */
int brs__fix_wal_write(int fd, const void *p, size_t n);
/* fdatasync (fsync when full is set). Returns 0 or -1 with errno set. One step. */
int brs__fix_wal_sync(int fd, int full);
/* Called in a forked child (the checkpoint's snapshot writer): its steps go
 * on counting from the parent's, but faults strike there only with
 * BRS_FAULT_IN_CHILD=1; otherwise the child never dies of one, so the
 * parent's steps after it (tail copy, sync, rename) are reachable too. */
void brs__fix_wal_forked(void);
/* Steps counted so far (the crash test learns a flow's length from it). */
unsigned long brs__fix_wal_steps(void);

#endif
