/* sweep.h: the pieces of `bourse sweep` (docs/backtesting.md, docs/scale-out.md):
 * the grid and its combination order (sweep_grid.c, the --where evaluator in
 * sweep_where.c), the in-process runner with worker processes (sweep_exec.c),
 * the results table, manifest and merge (sweep_results.c), walk-forward
 * (sweep_wf.c) and Slurm (sweep_slurm.c). The command line is sweep_spec.c,
 * the command itself sweep.c. */
#ifndef BRS_SWEEP_H
#define BRS_SWEEP_H

#include <signal.h>
#include <stdio.h>
#include <stdint.h>

#include <bourse/errors.h>

#include "backtest.h"
#include "core/config.h"
#include "core/core.h"

#define BRS__SWEEP_MAX_AXES 16
#define BRS__SWEEP_MAX_VALUES 100000   /* per axis */
#define BRS__SWEEP_MAX_COMBOS 1000000  /* after --where, --samples and --shard */
#define BRS__SWEEP_MAX_GRID 100000000  /* the full product before --where */
#define BRS__SWEEP_ERR_MAX 200

/* ---- the grid ------------------------------------------------------------- */

typedef struct brs__sweep_axis {
    char key[256];   /* the config key (strategy.params.NAME for a bare name) */
    char name[128];  /* as given: columns, run names and --where */
    char **values;   /* as text, each applied with --set semantics */
    double *num;     /* the value as a number, NaN when it is not one */
    int n, cap;
} brs__sweep_axis;

typedef struct brs__sweep_grid {
    brs__sweep_axis ax[BRS__SWEEP_MAX_AXES];
    int n_ax;
    uint64_t total; /* the full product */
} brs__sweep_grid;

/* "NAME=V1,V2,..." or "NAME=START:STOP[:STEP]" (inclusive; STEP default 1;
 * several parts may be mixed: "fast=2:10:2,50"). */
int brs__sweep_axis_add(brs__sweep_grid *g, const char *spec, brs_error *err);
void brs__sweep_grid_free(brs__sweep_grid *g);
/* Combination id (0..total-1; the last axis varies fastest) to value indices. */
void brs__sweep_decode(const brs__sweep_grid *g, uint64_t id, int *idx);
/* "fast=5,slow=20" ('/', ' ', '"' and ',' inside values become '_'): the run's name. */
void brs__sweep_name(const brs__sweep_grid *g, uint64_t id, char *out, size_t cap);

/* --where: comparisons, + - * / %, and/or/not, parentheses, axis names and numbers. */
typedef struct brs__sweep_expr brs__sweep_expr;
int brs__sweep_where_parse(brs__sweep_expr **out, const char *text, const brs__sweep_grid *g,
                           brs_error *err);
int brs__sweep_where_eval(const brs__sweep_expr *e, const brs__sweep_grid *g, const int *idx);
void brs__sweep_where_free(brs__sweep_expr *e);

/* The combinations to run, in the deterministic order (ascending id): those
 * passing where (may be NULL), then `samples` of them drawn with seed (0: all),
 * then shard i of n (1-based; contiguous blocks; n 0: all). *ids is malloc'd. */
int brs__sweep_select(const brs__sweep_grid *g, const brs__sweep_expr *where, uint64_t samples,
                      uint64_t seed, int shard_i, int shard_n, uint64_t **ids, uint64_t *n,
                      brs_error *err);

/* ---- results -------------------------------------------------------------- */

extern const char *const brs__sweep_metrics[]; /* the table's metric columns, NULL-terminated */
#define BRS__SWEEP_N_METRICS 15

enum { BRS__SWEEP_NOT_RUN = 0, BRS__SWEEP_OK = 1, BRS__SWEEP_FAILED = 2 };

typedef struct brs__sweep_result {
    uint64_t id;
    int32_t state; /* BRS__SWEEP_*; written last by the worker */
    double metric[BRS__SWEEP_N_METRICS];
    char error[BRS__SWEEP_ERR_MAX];
} brs__sweep_result;

/* A CSV field, quoted when it holds a comma, a quote or a line break. */
void brs__sweep_csv_field(FILE *f, const char *s);
int brs__sweep_metric_index(const char *name);
int brs__sweep_metric_ascending(int m); /* max_drawdown, ann_volatility: lower is better */
/* Sort finished results best first by metric m (no value last, ties by id). */
void brs__sweep_sort(brs__sweep_result *r, uint64_t n, int m);
/* Write DIR/results.csv and DIR/results.json from the finished results (sorted). */
/* results.html from DIR/results.csv: again once the kept runs' directories
 * exist, so its links are exactly the runs that have a report. */
int brs__sweep_write_page(const char *dir, brs_error *err);
int brs__sweep_write_results(const char *dir, const brs__sweep_grid *g, const brs__sweep_result *r,
                             uint64_t n, brs_error *err);
/* Read DIR/results.csv back (rows of finished combinations; ids and metrics
 * exact). The grid gives the axis columns. *out is malloc'd. */
int brs__sweep_read_results(const char *dir, const brs__sweep_grid *g, brs__sweep_result **out,
                            uint64_t *n, brs_error *err);

/* ---- running ---------------------------------------------------------------- */

/* Set by SIGINT/SIGTERM while a sweep runs (the signal number). */
extern volatile sig_atomic_t brs__sweep_interrupted;
void brs__sweep_signals_install(void);
void brs__sweep_signals_restore(void);

typedef struct brs__sweep_job {
    const brs_config *base;   /* the configuration every combination starts from */
    const brs__sweep_grid *g;
    const brs__bt_bars *bars; /* preloaded bars of base's data (NULL: each run loads) */
    const char *keep_dir;     /* write each run's directory under it (NULL: metrics only) */
    int jobs;
    int progress;
    brs__bt_resolved *resolved; /* a worker's strategy resolution (NULL: none kept) */
} brs__sweep_job;

/* One combination in this process: base + the grid values, into *r. */
void brs__sweep_run_one(const brs__sweep_job *job, uint64_t id, brs__sweep_result *r);
/* Run r[0..n) (ids set, state NOT_RUN) on job->jobs worker processes. Returns
 * BRS_OK when all ran, BRS_E_INTR when interrupted (finished ones are filled
 * in), another code when the workers could not be started. */
#define BRS__SWEEP_E_INTR (-1000)
int brs__sweep_exec(const brs__sweep_job *job, brs__sweep_result *r, uint64_t n, brs_error *err);

/* Bars of the config's data and symbol, loaded once for every combination;
 * BRS_OK with b left empty when the mode is not signal. */
int brs__sweep_preload(const brs_config *base, brs__bt_bars *b, brs_error *err);

/* ---- walk-forward and Slurm -------------------------------------------------- */

typedef struct brs__sweep_wf {
    int64_t train_ns, test_ns, step_ns;
} brs__sweep_wf;
int brs__sweep_wf_parse(brs__sweep_wf *wf, const char *spec, brs_error *err);
/* Optimize on every training window by metric m, run the best on the window
 * after it; writes DIR/walk_forward.csv, .json and oos_equity.csv. */
int brs__sweep_walk_forward(const brs__sweep_job *job, const brs__sweep_wf *wf, const uint64_t *ids,
                            uint64_t n, int m, const char *dir, brs_error *err);

typedef struct brs__sweep_slurm {
    int shards;
    int no_wait;
    char **sbatch_args; /* passed through to sbatch */
    int n_sbatch_args;
} brs__sweep_slurm;
/* Write DIR/slurm/job.sh running `argv` + --shard per array task into
 * DIR/shards/I, submit it, wait and merge into DIR (unless no_wait). */
int brs__sweep_slurm_run(const brs__sweep_slurm *s, char **argv, int argc, const char *dir,
                         brs_error *err);

/* The manifest DIR/sweep.json: how the sweep was asked for and how far it got. */
typedef struct brs__sweep_manifest {
    int complete;
    uint64_t combinations, done, failed;
    int shard_i, shard_n;
    char grid_hash[17];
    char sort[64];
    char cwd[4096];
    char **argv;
    int argc;
} brs__sweep_manifest;
int brs__sweep_manifest_write(const char *dir, const brs__sweep_manifest *m, brs_error *err);
int brs__sweep_manifest_read(const char *dir, brs__sweep_manifest *m, brs_error *err);
void brs__sweep_manifest_free(brs__sweep_manifest *m);

/* ---- the command line (sweep_spec.c) -------------------------------------- */

/* Options parsed into one spec; sweep.c runs it. */
typedef struct brs__sweep_spec {
    brs_config cfg;
    int have_cfg;
    const char *cfg_file;
    brs__sweep_grid g;
    brs__sweep_expr *where;
    const char *where_text;
    uint64_t samples, seed;
    int shard_i, shard_n;
    int jobs;
    int sort_m;
    const char *sort;
    long keep; /* -1 all, else top K */
    int keep_given;
    const char *out;
    char out_buf[1024];
    int list, resume, quiet;
    const char *wf_text;
    brs__sweep_wf wf;
    int slurm;
    brs__sweep_slurm sl;
    char **pass;  /* the arguments a resume or a Slurm task repeats */
    int n_pass;
} brs__sweep_spec;
void brs__sweep_usage(FILE *out);
/* Parse argv (argv[0] is "sweep") into s. Returns an exit code (0 ok), 3 for
 * --resume DIR (s->cfg_file is DIR), negative after --help. */
int brs__sweep_spec_parse(int argc, char **argv, brs__sweep_spec *s);
void brs__sweep_spec_free(brs__sweep_spec *s);
/* Re-read DIR/sweep.json's command line into s and enter the directory it
 * ran in (old_cwd: where to return). */
int brs__sweep_spec_from_manifest(const char *dir, brs__sweep_spec *s, brs__sweep_manifest *m,
                                  char *old_cwd, size_t cap);
int brs__sweep_parse_long(const char *s, long lo, long hi, long *out);

/* The command's body after option parsing, for `bench sweep`: run the grid of
 * base into dir (keep_runs -1 all, else top K), jobs workers. */
int brs__cmd_sweep_argv(int argc, char **argv, int quiet);

#endif
