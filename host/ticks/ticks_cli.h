/* ticks_cli.h: helpers shared by the tick commands (gen, ticks, bench replay). */
#ifndef BRS_TICKS_CLI_H
#define BRS_TICKS_CLI_H

#include <errno.h>
#include <stdint.h>

/* A decimal unsigned integer, whole string; BRS_E_PARSE otherwise. */
int brs__parse_u64(const char *s, uint64_t *out);

/* The references of `bench replay`, for other benches measuring against the
 * same file in the same run (bench_replay.c):
 * replay_time: open path, decode every event (read-ahead thread when ahead)
 * and hand it to a no-op consumer in another translation unit; *ns the time.
 * zstd_prepare: the file's records, raw, compressed by `zstd -3` into zst.
 * zstd_dc_ns: the time of `zstd -dc zst > /dev/null` (fork and exec
 * included), -1 when it failed. */
struct brs_error;
int brs__replay_time(const char *path, int ahead, uint64_t *events, int64_t *ns, struct brs_error *err);
int brs__replay_zstd_prepare(const char *path, const char *zst, struct brs_error *err);
int64_t brs__zstd_dc_ns(const char *zst);

#endif
