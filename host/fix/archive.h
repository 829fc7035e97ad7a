/* archive.h: history compacted away from the gateway's live files (a session
 * store emptied by a sequence reset, the order journal rewritten at the end of
 * day) is moved into STATE_DIR/archive/, never deleted, for the audit trail;
 * files older than archive_retention_days are pruned (docs/fix-gateway.md). */
#ifndef BRS_FIX_ARCHIVE_H
#define BRS_FIX_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

/* STATE_DIR/archive/NAME.YYYYMMDD-HHMMSS.NNNNNNNNN for the live file `path`
 * (STATE_DIR/NAME), stamped with `now_ns`; 0 or -1 (name too long). */
int brs__fix_archive_name(const char *path, int64_t now_ns, char *out, size_t cap);
/* Make the archive directory of the live file `path` (0 or -1, errno set). */
int brs__fix_archive_mkdir(const char *path);
/* Hard-link the live file `path` into the archive (its content stays there
 * when the live name is replaced by a rename). 0 or -1 with errno set. */
int brs__fix_archive_link(const char *path, int64_t now_ns, char *out, size_t cap);
/* Rename the live file `path` into the archive. 0 or -1 with errno set. */
int brs__fix_archive_move(const char *path, int64_t now_ns, char *out, size_t cap);
/* fsync the directory holding `path` (0 or -1). */
int brs__fix_sync_dir_of(const char *path);
/* Remove archived files of state_dir last modified more than `days` days
 * before now_ns (days 0: keep everything). Returns the number removed. */
int brs__fix_archive_prune(const char *state_dir, uint32_t days, int64_t now_ns);

#endif
