/* sweep.c: `bourse sweep`: a backtest over a grid of parameters. The command
 * line is one spec (sweep_spec.c); the combinations are selected
 * (sweep_grid.c), run in worker processes that load the data once
 * (sweep_exec.c), and the table written (sweep_results.c) with full run
 * directories only for the best --keep-runs; `sweep merge` combines shards.
 * Walk-forward and Slurm live in sweep_wf.c and sweep_slurm.c.
 * docs/backtesting.md, docs/scale-out.md. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dlfcn.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "plugin/loader.h"
#include "sweep.h"

/* FNV-1a over everything that decides the table: the effective base config,
 * the grid, --where, --samples, --seed and --sort. Shards, a resume and a
 * merge check it so that only tables of the same sweep are combined. */
static void hash_str(uint64_t *h, const char *s)
{
    for (; *s; s++) {
        *h ^= (unsigned char)*s;
        *h *= UINT64_C(1099511628211);
    }
    *h ^= 0xff;
    *h *= UINT64_C(1099511628211);
}

static void grid_hash(const brs__sweep_spec *s, char out[17])
{
    uint64_t h = UINT64_C(14695981039346656037);
    char *js = cJSON_PrintUnformatted(s->cfg.root);
    hash_str(&h, js ? js : "");
    free(js);
    for (int i = 0; i < s->g.n_ax; i++) {
        hash_str(&h, s->g.ax[i].key);
        hash_str(&h, s->g.ax[i].name);
        for (int v = 0; v < s->g.ax[i].n; v++)
            hash_str(&h, s->g.ax[i].values[v]);
    }
    char tail[128];
    snprintf(tail, sizeof tail, "%llu/%llu/%s", (unsigned long long)s->samples,
             (unsigned long long)s->seed, s->sort);
    hash_str(&h, s->where_text ? s->where_text : "");
    hash_str(&h, tail);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void print_table(const brs__sweep_spec *s, const brs__sweep_result *r, uint64_t n, const char *dir)
{
    const char *cols[4] = {s->sort, "total_return", "max_drawdown", "n_trades"};
    int nc = 4;
    if (!strcmp(s->sort, "total_return") || !strcmp(s->sort, "max_drawdown") ||
        !strcmp(s->sort, "n_trades")) {
        cols[0] = "sharpe";
        if (!strcmp(s->sort, "total_return"))
            cols[1] = s->sort, cols[0] = "sharpe";
    }
    printf("%-5s %-40s", "rank", "run");
    for (int c = 0; c < nc; c++)
        printf(" %13s", cols[c]);
    printf("\n");
    uint64_t show = n <= 20 ? n : 10;
    for (uint64_t k = 0; k < show; k++) {
        char name[2048];
        brs__sweep_name(&s->g, r[k].id, name, sizeof name);
        printf("%-5llu %-40s", (unsigned long long)(k + 1), name);
        if (r[k].state != BRS__SWEEP_OK) {
            printf(" failed: %s\n", r[k].error);
            continue;
        }
        for (int c = 0; c < nc; c++) {
            char v[64];
            /* the style every command shares (core/fmt.c), as `bourse backtest` prints */
            brs__fmt_metric(v, sizeof v, cols[c], r[k].metric[brs__sweep_metric_index(cols[c])]);
            printf(" %13s", v);
        }
        printf("\n");
    }
    if (show < n)
        printf("... %llu more in %s/results.csv\n", (unsigned long long)(n - show), dir);
}

/* The output folder exists and is writable before anything is computed. */
static int check_out(const char *dir, brs_error *err)
{
    int rc = brs__mkdirs(dir, err);
    if (rc)
        return rc;
    if (access(dir, W_OK) != 0)
        return brs__err(err, BRS_E_IO, "%s: not writable: %s", dir, strerror(errno));
    return BRS_OK;
}

static int write_manifest(const brs__sweep_spec *s, const char *dir, uint64_t total, uint64_t done,
                          uint64_t failed, int complete, brs_error *err)
{
    brs__sweep_manifest m = {.complete = complete, .combinations = total, .done = done,
                             .failed = failed, .shard_i = s->shard_i, .shard_n = s->shard_n,
                             .argv = s->pass, .argc = s->n_pass};
    grid_hash(s, m.grid_hash);
    snprintf(m.sort, sizeof m.sort, "%s", s->sort);
    if (!getcwd(m.cwd, sizeof m.cwd))
        m.cwd[0] = 0;
    return brs__sweep_manifest_write(dir, &m, err);
}

/* The best `keep` finished runs (all when -1) get their run directory:
 * deterministic, so running them again gives what the sweep measured. */
static int keep_runs(const brs__sweep_spec *s, const brs__sweep_job *base_job, const brs__sweep_result *sorted,
                     uint64_t n, const char *dir, brs_error *err)
{
    uint64_t k = 0, want = s->keep < 0 ? n : (uint64_t)s->keep;
    brs__sweep_result *r = calloc(want ? want : 1, sizeof *r);
    if (!r)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n && k < want; i++)
        if (sorted[i].state == BRS__SWEEP_OK)
            r[k++].id = sorted[i].id;
    brs__sweep_job job = *base_job;
    job.keep_dir = dir;
    job.progress = 0;
    int rc = brs__sweep_exec(&job, r, k, err);
    free(r);
    return rc;
}

/* Merge finished tables into out: check they are shards of one sweep, sort, write. */
static int do_merge(char **dirs, int n_dirs, const char *out, long keep, int keep_given, int quiet);

/* A C strategy is opened and closed for every combination: hold one reference
 * to its shared object for the whole sweep, so that is a reference count and
 * not a mapping and unmapping of the library each time. */
static void *hold_plugin(const brs_config *cfg)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(cfg->root, "strategy");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(st, "file");
    if (!cJSON_IsString(f))
        return NULL;
    size_t n = strlen(f->valuestring);
    if (n >= 4 && !strcmp(f->valuestring + n - 4, ".lua"))
        return NULL;
    char path[4096];
    brs_error err = {0};
    if (brs__plugin_find(f->valuestring, NULL, path, sizeof path, &err))
        return NULL; /* the runs will say what is wrong */
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static int run_spec(brs__sweep_spec *s)
{
    brs_error err = {0};
    uint64_t *ids = NULL, n = 0;
    brs__sweep_result *res = NULL;
    brs__bt_bars bars = {0};
    void *held = NULL;
    int rc = BRS_EXIT_OK;
    if (brs__sweep_select(&s->g, s->where, s->samples, s->seed, s->shard_i, s->shard_n, &ids, &n, &err)) {
        rc = brs__usage_error("sweep", "%s", err.msg);
        goto done;
    }
    if (s->list) {
        for (uint64_t k = 0; k < n; k++) {
            char name[2048];
            brs__sweep_name(&s->g, ids[k], name, sizeof name);
            printf("%llu %s\n", (unsigned long long)ids[k], name);
        }
        if (!s->quiet)
            fprintf(stderr, "%llu combinations (of %llu in the grid)\n", (unsigned long long)n,
                    (unsigned long long)s->g.total);
        goto done;
    }
    if (n == 0) {
        rc = brs__fail("sweep", "no combination passes --where '%s'", s->where_text ? s->where_text : "");
        goto done;
    }
    if (check_out(s->out, &err)) {
        rc = brs__fail("sweep", "--out %s", err.msg);
        goto done;
    }
    if (s->slurm) {
        char **argv = calloc((size_t)s->n_pass + 8, sizeof *argv);
        if (!argv) {
            rc = brs__fail("sweep", "out of memory");
            goto done;
        }
        for (int i = 0; i < s->n_pass; i++)
            argv[i] = s->pass[i];
        brs__sweep_signals_install(); /* Ctrl-C while waiting cancels the job */
        int e = brs__sweep_slurm_run(&s->sl, argv, s->n_pass, s->out, &err);
        brs__sweep_signals_restore();
        free(argv);
        if (e) {
            rc = brs__fail("sweep", "slurm: %s", err.msg);
            if (brs__sweep_interrupted)
                rc = 128 + brs__sweep_interrupted;
            goto done;
        }
        if (s->sl.no_wait)
            goto done;
        char **sd = calloc((size_t)s->sl.shards, sizeof *sd);
        int ok = sd != NULL;
        for (int i = 0; ok && i < s->sl.shards; i++) {
            sd[i] = malloc(strlen(s->out) + 32);
            if (!sd[i])
                ok = 0;
            else
                sprintf(sd[i], "%s/shards/%d", s->out, i + 1);
        }
        rc = ok ? do_merge(sd, s->sl.shards, s->out, s->keep, 1, s->quiet)
                : brs__fail("sweep", "out of memory");
        for (int i = 0; sd && i < s->sl.shards; i++)
            free(sd[i]);
        free(sd);
        goto done;
    }
    res = calloc(n, sizeof *res);
    if (!res) {
        rc = brs__fail("sweep", "out of memory");
        goto done;
    }
    for (uint64_t k = 0; k < n; k++)
        res[k].id = ids[k];
    int has_data_axis = 0;
    for (int i = 0; i < s->g.n_ax; i++)
        has_data_axis |= !strcmp(s->g.ax[i].key, "data") || !strcmp(s->g.ax[i].key, "symbol");
    if (!has_data_axis && brs__sweep_preload(&s->cfg, &bars, &err)) {
        rc = brs__fail("sweep", "%s", err.msg);
        goto done;
    }
    brs__sweep_job job = {.base = &s->cfg, .g = &s->g, .bars = bars.n_instr ? &bars : NULL,
                          .jobs = s->jobs, .progress = !s->quiet};
    held = hold_plugin(&s->cfg);
    if (s->wf_text) {
        brs__sweep_signals_install();
        int e = brs__sweep_walk_forward(&job, &s->wf, ids, n, s->sort_m, s->out, &err);
        brs__sweep_signals_restore();
        if (e == BRS__SWEEP_E_INTR) {
            fprintf(stderr, "bourse sweep: walk-forward interrupted; nothing written\n");
            rc = 128 + brs__sweep_interrupted;
        } else if (e) {
            rc = brs__fail("sweep", "walk-forward: %s", err.msg);
        } else if (!s->quiet) {
            printf("walk-forward: %s/walk_forward.csv, %s/walk_forward.json, %s/oos_equity.csv\n",
                   s->out, s->out, s->out);
        }
        goto done;
    }
    /* --resume: what DIR/results.csv holds is done */
    uint64_t pre = 0;
    if (s->resume) {
        brs__sweep_manifest m;
        char h[17];
        grid_hash(s, h);
        if (!brs__sweep_manifest_read(s->out, &m, &err)) {
            int same = !strcmp(m.grid_hash, h);
            brs__sweep_manifest_free(&m);
            if (!same) {
                rc = brs__fail("sweep", "--resume: %s holds a different sweep (config, grid, --where, "
                                        "--samples, --seed or --sort changed)", s->out);
                goto done;
            }
            brs__sweep_result *old = NULL;
            uint64_t n_old = 0;
            char rp[4200];
            snprintf(rp, sizeof rp, "%s/results.csv", s->out);
            if (access(rp, F_OK) == 0 && brs__sweep_read_results(s->out, &s->g, &old, &n_old, &err)) {
                rc = brs__fail("sweep", "--resume: %s", err.msg);
                goto done;
            }
            /* ids ascending in res: binary search each old row */
            for (uint64_t j = 0; j < n_old; j++) {
                uint64_t lo = 0, hi = n;
                while (lo < hi) {
                    uint64_t mid = (lo + hi) / 2;
                    if (res[mid].id < old[j].id)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                if (lo < n && res[lo].id == old[j].id && res[lo].state == BRS__SWEEP_NOT_RUN) {
                    res[lo] = old[j];
                    pre++;
                }
            }
            free(old);
        }
    }
    /* run what is left: gather the not-run ones, run, scatter back */
    uint64_t todo = n - pre;
    brs__sweep_result *run = calloc(todo ? todo : 1, sizeof *run);
    if (!run) {
        rc = brs__fail("sweep", "out of memory");
        goto done;
    }
    for (uint64_t k = 0, j = 0; k < n; k++)
        if (res[k].state == BRS__SWEEP_NOT_RUN)
            run[j++].id = res[k].id;
    if (s->keep < 0)
        job.keep_dir = s->out;
    if (!s->quiet && pre)
        fprintf(stderr, "sweep: resuming, %llu of %llu combinations already done\n",
                (unsigned long long)pre, (unsigned long long)n);
    brs__sweep_signals_install();
    int e = brs__sweep_exec(&job, run, todo, &err);
    for (uint64_t k = 0, j = 0; k < n; k++)
        if (res[k].state == BRS__SWEEP_NOT_RUN)
            res[k] = run[j++];
    free(run);
    if (e && e != BRS__SWEEP_E_INTR) {
        brs__sweep_signals_restore();
        rc = brs__fail("sweep", "%s", err.msg);
        goto done;
    }
    /* the table of what finished, best first */
    uint64_t done_n = 0, failed = 0;
    for (uint64_t k = 0; k < n; k++)
        if (res[k].state != BRS__SWEEP_NOT_RUN) {
            failed += res[k].state == BRS__SWEEP_FAILED;
            res[done_n++] = res[k];
        }
    brs__sweep_sort(res, done_n, s->sort_m);
    int complete = done_n == n;
    /* the manifest first says incomplete, so a table is never taken as whole too early */
    if (write_manifest(s, s->out, n, done_n, failed, 0, &err) ||
        brs__sweep_write_results(s->out, &s->g, res, done_n, &err)) {
        brs__sweep_signals_restore();
        rc = brs__fail("sweep", "%s", err.msg);
        goto done;
    }
    if (complete && s->keep && !brs__sweep_interrupted) {
        job.jobs = s->jobs;
        int k = s->keep < 0 ? BRS_OK : keep_runs(s, &job, res, done_n, s->out, &err);
        if (k == BRS__SWEEP_E_INTR)
            complete = 0; /* the table is whole, the best runs' directories are not all there */
        if (k && k != BRS__SWEEP_E_INTR) {
            brs__sweep_signals_restore();
            rc = brs__fail("sweep", "writing the best runs' directories: %s", err.msg);
            goto done;
        }
        if (!k && brs__sweep_write_page(s->out, &err)) { /* now linking exactly the kept runs */
            brs__sweep_signals_restore();
            rc = brs__fail("sweep", "%s", err.msg);
            goto done;
        }
    }
    if (complete && write_manifest(s, s->out, n, done_n, failed, 1, &err)) {
        brs__sweep_signals_restore();
        rc = brs__fail("sweep", "%s", err.msg);
        goto done;
    }
    int sig = brs__sweep_interrupted;
    brs__sweep_signals_restore();
    if (!complete && done_n == n) {
        fprintf(stderr,
                "bourse sweep: interrupted (%s) while writing the best runs' directories; every "
                "combination is in %s/results.csv; `bourse sweep --resume %s` writes the rest\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", s->out, s->out);
        rc = 128 + (sig ? sig : SIGINT);
        goto done;
    }
    if (!complete) {
        fprintf(stderr,
                "bourse sweep: interrupted (%s): %llu of %llu combinations finished, in %s/results.csv "
                "(marked incomplete in %s/sweep.json); `bourse sweep --resume %s` runs the rest\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", (unsigned long long)done_n,
                (unsigned long long)n, s->out, s->out, s->out);
        rc = 128 + (sig ? sig : SIGINT);
        goto done;
    }
    if (!s->quiet) {
        print_table(s, res, done_n, s->out);
        printf("results: %s/results.csv, %s/results.json\n", s->out, s->out);
    }
    if (failed)
        rc = brs__fail("sweep", "%llu of %llu runs failed", (unsigned long long)failed,
                       (unsigned long long)n);
done:
    if (held)
        dlclose(held);
    brs__bt_bars_free(&bars);
    free(ids);
    free(res);
    return rc;
}

static int do_merge(char **dirs, int n_dirs, const char *out, long keep, int keep_given, int quiet)
{
    char **abs = calloc((size_t)n_dirs, sizeof *abs);
    char out_abs[PATH_MAX], old_cwd[PATH_MAX];
    brs_error err = {0};
    if (!abs)
        return brs__fail("sweep merge", "out of memory");
    int rc = BRS_EXIT_OK;
    if (brs__mkdirs(out, &err) || !realpath(out, out_abs)) {
        free(abs);
        return brs__fail("sweep merge", "--out %s: %s", out, err.msg[0] ? err.msg : strerror(errno));
    }
    for (int i = 0; i < n_dirs; i++)
        if (!(abs[i] = realpath(dirs[i], NULL))) {
            rc = brs__fail("sweep merge", "%s: %s", dirs[i], strerror(errno));
            goto out;
        }
    brs__sweep_manifest first = {0}, m;
    int *seen = NULL;
    uint64_t total_rows = 0;
    brs__sweep_result *all = NULL;
    for (int i = 0; i < n_dirs && !rc; i++) {
        if (brs__sweep_manifest_read(abs[i], &m, &err)) {
            rc = brs__fail("sweep merge", "%s", err.msg);
            break;
        }
        if (!m.complete)
            rc = brs__fail("sweep merge", "%s is incomplete (%llu of %llu): `bourse sweep --resume %s` first",
                           dirs[i], (unsigned long long)m.done, (unsigned long long)m.combinations, dirs[i]);
        else if (i == 0)
            first = m;
        else if (strcmp(m.grid_hash, first.grid_hash))
            rc = brs__fail("sweep merge", "%s is a different sweep than %s (grid hash %s, not %s)", dirs[i],
                           dirs[0], m.grid_hash, first.grid_hash);
        else if (m.shard_n != first.shard_n)
            rc = brs__fail("sweep merge", "%s is shard %d/%d, %s is of %d shards", dirs[i], m.shard_i,
                           m.shard_n, dirs[0], first.shard_n);
        if (i > 0 || rc)
            brs__sweep_manifest_free(&m);
    }
    if (rc)
        goto out_m;
    int n_sh = first.shard_n ? first.shard_n : 1;
    seen = calloc((size_t)n_sh + 1, sizeof *seen);
    for (int i = 0; seen && i < n_dirs && !rc; i++) {
        if (brs__sweep_manifest_read(abs[i], &m, &err)) {
            rc = brs__fail("sweep merge", "%s", err.msg);
            break;
        }
        int si = m.shard_n ? m.shard_i : 1;
        if (seen[si]++)
            rc = brs__fail("sweep merge", "shard %d/%d given twice (%s)", si, n_sh, dirs[i]);
        brs__sweep_manifest_free(&m);
    }
    for (int si = 1; seen && si <= n_sh && !rc; si++)
        if (!seen[si])
            rc = brs__fail("sweep merge", "shard %d/%d is missing", si, n_sh);
    if (rc || !seen) {
        rc = rc ? rc : brs__fail("sweep merge", "out of memory");
        goto out_m;
    }
    /* the grid, from the first shard's command line, in its directory */
    brs__sweep_spec s;
    brs__sweep_manifest m0;
    rc = brs__sweep_spec_from_manifest(abs[0], &s, &m0, old_cwd, sizeof old_cwd);
    if (rc) {
        brs__sweep_manifest_free(&m0);
        brs__sweep_spec_free(&s);
        if (chdir(old_cwd) != 0)
            rc = BRS_EXIT_FAIL;
        goto out_m;
    }
    for (int i = 0; i < n_dirs && !rc; i++) {
        brs__sweep_result *r = NULL;
        uint64_t nr = 0;
        if (brs__sweep_read_results(abs[i], &s.g, &r, &nr, &err)) {
            rc = brs__fail("sweep merge", "%s", err.msg);
            break;
        }
        brs__sweep_result *na = realloc(all, (total_rows + nr + 1) * sizeof *na);
        if (!na) {
            free(r);
            rc = brs__fail("sweep merge", "out of memory");
            break;
        }
        all = na;
        memcpy(all + total_rows, r, nr * sizeof *r);
        total_rows += nr;
        free(r);
    }
    uint64_t *ids = NULL, n = 0;
    if (!rc && brs__sweep_select(&s.g, s.where, s.samples, s.seed, 0, 0, &ids, &n, &err))
        rc = brs__fail("sweep merge", "%s", err.msg);
    if (!rc && n != total_rows)
        rc = brs__fail("sweep merge", "the shards hold %llu rows, the sweep has %llu combinations",
                       (unsigned long long)total_rows, (unsigned long long)n);
    free(ids);
    if (!rc) {
        uint64_t failed = 0;
        for (uint64_t k = 0; k < total_rows; k++)
            failed += all[k].state != BRS__SWEEP_OK;
        brs__sweep_sort(all, total_rows, s.sort_m);
        s.shard_i = s.shard_n = 0;
        if (keep_given)
            s.keep = keep;
        else
            s.keep = 10;
        if (write_manifest(&s, out_abs, n, total_rows, failed, 0, &err) ||
            brs__sweep_write_results(out_abs, &s.g, all, total_rows, &err))
            rc = brs__fail("sweep merge", "%s", err.msg);
        brs__bt_bars bars = {0};
        if (!rc && s.keep && !brs__sweep_preload(&s.cfg, &bars, &err)) {
            brs__sweep_job job = {.base = &s.cfg, .g = &s.g, .bars = bars.n_instr ? &bars : NULL,
                                  .jobs = s.jobs};
            if (keep_runs(&s, &job, all, total_rows, out_abs, &err) || brs__sweep_write_page(out_abs, &err))
                rc = brs__fail("sweep merge", "writing the best runs' directories: %s", err.msg);
        }
        brs__bt_bars_free(&bars);
        if (!rc && write_manifest(&s, out_abs, n, total_rows, failed, 1, &err))
            rc = brs__fail("sweep merge", "%s", err.msg);
        if (!rc && !quiet) {
            print_table(&s, all, total_rows, out);
            printf("merged %d shard%s: %s/results.csv, %s/results.json\n", n_dirs, n_dirs == 1 ? "" : "s",
                   out, out);
        }
    }
    brs__sweep_spec_free(&s);
    brs__sweep_manifest_free(&m0); /* after the spec: it points into the manifest's argv */
    if (chdir(old_cwd) != 0 && !rc)
        rc = brs__fail("sweep merge", "cannot return to %s", old_cwd);
out_m:
    brs__sweep_manifest_free(&first);
    free(seen);
    free(all);
out:
    for (int i = 0; i < n_dirs; i++)
        free(abs[i]);
    free(abs);
    return rc;
}

static int cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    long keep = 10;
    int keep_given = 0, quiet = 0;
    char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    int nd = 0, rc = BRS_EXIT_OK;
    if (!dirs)
        return brs__fail("sweep merge", "out of memory");
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            brs__sweep_usage(stdout);
            free(dirs);
            return BRS_EXIT_OK;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (!strcmp(argv[i], "--keep-runs") && i + 1 < argc) {
            const char *v = argv[++i];
            keep_given = 1;
            if (!strcmp(v, "all"))
                keep = -1;
            else if (!strcmp(v, "none"))
                keep = 0;
            else if (strncmp(v, "top:", 4) || brs__sweep_parse_long(v + 4, 0, BRS__SWEEP_MAX_COMBOS, &keep))
                rc = brs__usage_error("sweep merge", "--keep-runs '%s': expected all, none or top:K", v);
        } else if (argv[i][0] == '-') {
            rc = brs__usage_error("sweep merge", "unknown option or missing value '%s'", argv[i]);
        } else {
            dirs[nd++] = argv[i];
        }
        if (rc)
            break;
    }
    if (!rc && !nd)
        rc = brs__usage_error("sweep merge", "give the shard directories to merge");
    if (!rc && !out)
        rc = brs__usage_error("sweep merge", "give --out DIR for the merged table");
    if (!rc)
        rc = do_merge(dirs, nd, out, keep, keep_given, quiet);
    free(dirs);
    return rc;
}

int brs__cmd_sweep_argv(int argc, char **argv, int quiet)
{
    brs__sweep_spec s;
    int rc = brs__sweep_spec_parse(argc, argv, &s);
    if (rc == 3) {
        /* --resume DIR: the command line from DIR/sweep.json, run where it ran */
        char dir[PATH_MAX], old_cwd[PATH_MAX];
        int jobs = s.jobs;
        if (!realpath(s.cfg_file, dir)) {
            rc = brs__fail("sweep", "--resume %s: %s", s.cfg_file, strerror(errno));
            brs__sweep_spec_free(&s);
            return rc;
        }
        brs__sweep_spec_free(&s);
        brs__sweep_manifest m;
        rc = brs__sweep_spec_from_manifest(dir, &s, &m, old_cwd, sizeof old_cwd);
        if (rc) {
            brs__sweep_spec_free(&s);
            brs__sweep_manifest_free(&m);
            return rc < 0 ? BRS_EXIT_OK : rc;
        }
        /* --jobs of this command wins */
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], "--jobs"))
                s.jobs = jobs;
        s.out = dir;
        s.resume = 1;
        s.quiet |= quiet;
        rc = run_spec(&s);
        brs__sweep_spec_free(&s);
        brs__sweep_manifest_free(&m);
        if (chdir(old_cwd) != 0 && !rc)
            rc = BRS_EXIT_FAIL;
        return rc;
    }
    if (rc) {
        brs__sweep_spec_free(&s);
        return rc < 0 ? BRS_EXIT_OK : rc;
    }
    s.quiet |= quiet;
    rc = run_spec(&s);
    brs__sweep_spec_free(&s);
    return rc;
}

int brs__cmd_sweep(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "merge"))
        return cmd_merge(argc - 1, argv + 1);
    return brs__cmd_sweep_argv(argc, argv, 0);
}
