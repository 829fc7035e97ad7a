/* bench.h: `bourse bench NAME`: the benchmark table and what every benchmark
 * shares: robust statistics (median and percentiles) and allocation counting.
 * Timings are reported, never asserted: tests do not depend on them. */
#ifndef BRS_BENCH_H
#define BRS_BENCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct brs_bench {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the benchmark name */
} brs_bench;

extern const brs_bench brs__benches[];
extern const size_t brs__n_benches;

typedef struct brs_stats {
    size_t n;
    double min, max, mean;
    double p50, p90, p99, p999;
} brs_stats;

/* Sorts samples in place and fills out (nearest-rank percentiles). */
void brs__stats_compute(double *samples, size_t n, brs_stats *out);
double brs__median(double *samples, size_t n);

/* A paired comparison (ab.c): a figure measured off and on alternately, n
 * pairs; the per-pair ratios on / off by their median, quartiles and a
 * bootstrap 95% interval of the median; off and on: the medians of each side.
 * Pairs with a non-finite or non-positive figure are left out (n counts the rest). */
typedef struct brs_ab {
    size_t n;
    double median, q1, q3, lo95, hi95;
    double off, on;
} brs_ab;
void brs__ab_compute(const double *off, const double *on, size_t n, brs_ab *out);
/* {"pairs", "off", "on", "ratio", "ratio_q1", "ratio_q3", "ratio_lo95", "ratio_hi95"} */
struct cJSON *brs__ab_json(const brs_ab *s);

/* Allocations (malloc, calloc, realloc, aligned) made by this process so far,
 * or -1 when counting is unavailable (sanitizer builds own malloc). Read it
 * before and after a timed region: the difference is the region's count. */
int64_t brs__alloc_count(void);

/* --json-out FILE (any benchmark; taken out of argv by brs__cmd_bench): the
 * JSON object is written there too, from the same run the table shows. NULL
 * when not given. */
extern const char *brs__bench_json_out;
/* A benchmark's result: printed on stdout when to_stdout (--json), written to
 * --json-out when given; o is deleted. BRS_OK, or BRS_E_IO when the file could
 * not be written (said on stderr; `bourse bench` then exits 1). */
struct cJSON;
int brs__bench_json(struct cJSON *o, int to_stdout);
/* Whether a benchmark must build its JSON object at all. */
#define BRS__BENCH_WANTS_JSON(json) ((json) || brs__bench_json_out)

/* Keep the compiler from optimizing a value away. */
#define BRS__KEEP(x) __asm__ volatile("" : : "g"(x) : "memory")

/* Benchmark entry points (defined with their component). */
int brs__bench_selftest(int argc, char **argv);
int brs__bench_strategy(int argc, char **argv);
int brs__bench_lua_pattern(int argc, char **argv); /* host/strategy/bench_pattern.c */
int brs__bench_backtest(int argc, char **argv); /* host/backtest/bench_backtest.c */
int brs__bench_sweep(int argc, char **argv); /* host/backtest/bench_sweep.c */
int brs__bench_book(int argc, char **argv); /* host/book/bench_book.c */
int brs__bench_replay(int argc, char **argv); /* host/ticks/bench_replay.c */
int brs__bench_fix(int argc, char **argv);
int brs__bench_restart(int argc, char **argv); /* host/fix/bench_restart.c */
int brs__bench_analytics(int argc, char **argv); /* host/analytics/bench_analytics.c */
int brs__bench_sor(int argc, char **argv); /* host/sor/bench_sor.c */
int brs__bench_ws(int argc, char **argv); /* host/feeds/bench_ws.c */

#endif
