/* sweep_spec.c: `bourse sweep`'s command line into one spec, the same for a
 * fresh run, --resume, merge and every Slurm task (which re-read the command
 * line from the manifest, brs__sweep_spec_from_manifest). sweep.c runs it. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "sweep.h"

void brs__sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: bourse sweep CONFIG.json --grid NAME=VALUES [--grid ...] [options]\n"
            "       bourse sweep --mode signal --data FILE --strategy S [--param N=V ...] --grid ...\n"
            "       bourse sweep --resume DIR [--jobs N]\n"
            "       bourse sweep merge DIR... --out DIR [--keep-runs K]\n\n"
            "Run a backtest for every combination of the grid in worker processes that\n"
            "load the data once, and write DIR/results.csv and results.json, best first.\n\n"
            "  --grid NAME=VALUES  values V1,V2,... or a range START:STOP[:STEP]; NAME is a\n"
            "                      strategy parameter, or any config key when it has a dot\n"
            "  --where EXPR        keep combinations where EXPR holds, e.g. 'fast < slow'\n"
            "  --samples N         a random N of the combinations (with --seed S, default 1)\n"
            "  --list              print the combinations and stop\n"
            "  --jobs N            worker processes (default: the number of CPUs)\n"
            "  --sort METRIC       default sharpe; max_drawdown and ann_volatility sort\n"
            "                      ascending, the rest descending\n"
            "  --keep-runs K       all, top:K or none: which runs also get a run directory\n"
            "                      (default top:10; none with --shard)\n"
            "  --out DIR           default runs/sweep-<config name>\n"
            "  --set KEY=VALUE     passed to every run (also --mode, --data, --strategy, --param)\n"
            "  --resume            skip the combinations DIR/results.csv already holds\n"
            "  --walk-forward train=3y,test=1y,step=1y\n"
            "                      optimize on each training window, run the best on the\n"
            "                      test window after it (DIR/walk_forward.csv)\n"
            "  --shard I/N         run only shard I of N (merge the shards with `merge`)\n"
            "  --slurm             submit N shards (--shards N, default 4) as a Slurm job\n"
            "                      array, wait and merge; --sbatch ARG passes ARG to sbatch,\n"
            "                      --no-wait returns after submitting\n\n"
            "Ctrl-C/SIGTERM: the finished runs are written, marked incomplete in\n"
            "DIR/sweep.json; `bourse sweep --resume DIR` finishes them.\n"
            "Exit status: 0 every run succeeded, 1 a run failed or the sweep could not\n"
            "run, 2 usage, 130/143 interrupted.\n");
}


void brs__sweep_spec_free(brs__sweep_spec *s)
{
    if (s->have_cfg)
        brs__config_free(&s->cfg);
    brs__sweep_grid_free(&s->g);
    brs__sweep_where_free(s->where);
    free(s->sl.sbatch_args);
    free(s->pass);
    memset(s, 0, sizeof *s);
}

static int set_string(brs_config *cfg, const char *key, const char *value, brs_error *err)
{
    cJSON *s = cJSON_CreateString(value);
    char *js = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON_Delete(s);
    size_t n = strlen(key) + (js ? strlen(js) : 0) + 2;
    char *a = js ? malloc(n) : NULL;
    if (!a) {
        free(js);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    snprintf(a, n, "%s=%s", key, js);
    int rc = brs__config_set(cfg, a, err);
    free(a);
    free(js);
    return rc;
}

int brs__sweep_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Parse argv (argv[0] is "sweep") into s. Returns an exit code (0 ok). */
int brs__sweep_spec_parse(int argc, char **argv, brs__sweep_spec *s)
{
    memset(s, 0, sizeof *s);
    s->jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    s->sort = "sharpe";
    s->keep = 10;
    s->seed = 1;
    s->sl.shards = 4;
    const char **ok = calloc((size_t)argc + 1, sizeof *ok), **ov = calloc((size_t)argc + 1, sizeof *ov);
    s->pass = calloc((size_t)argc + 1, sizeof *s->pass);
    s->sl.sbatch_args = calloc((size_t)argc + 1, sizeof *s->sl.sbatch_args);
    int n_opt = 0, rc = 0;
    brs_error err = {0};
    if (!ok || !ov || !s->pass || !s->sl.sbatch_args) {
        rc = brs__fail("sweep", "out of memory");
        goto done;
    }
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        int has_v = i + 1 < argc;
        const char *v = has_v ? argv[i + 1] : NULL;
        long l = 0;
        int pass = 1; /* repeated by --resume and Slurm tasks */
        if (brs__is_help(a)) {
            brs__sweep_usage(stdout);
            rc = -1;
            break;
        } else if (!strcmp(a, "--list")) {
            s->list = 1;
            pass = 0;
        } else if (!strcmp(a, "--resume")) {
            s->resume = 1;
            pass = 0;
        } else if (!strcmp(a, "--quiet")) {
            s->quiet = 1;
        } else if (!strcmp(a, "--slurm")) {
            s->slurm = 1;
            pass = 0;
        } else if (!strcmp(a, "--no-wait")) {
            s->sl.no_wait = 1;
            pass = 0;
        } else if (a[0] == '-' && a[1] == '-' && !has_v) {
            rc = brs__usage_error("sweep", "unknown option or missing value '%s'", a);
        } else if (!strcmp(a, "--grid")) {
            if (brs__sweep_axis_add(&s->g, v, &err))
                rc = brs__usage_error("sweep", "%s", err.msg);
        } else if (!strcmp(a, "--where")) {
            s->where_text = v;
        } else if (!strcmp(a, "--samples")) {
            if (brs__sweep_parse_long(v, 1, BRS__SWEEP_MAX_COMBOS, &l))
                rc = brs__usage_error("sweep", "--samples '%s': expected 1..%d", v, BRS__SWEEP_MAX_COMBOS);
            s->samples = (uint64_t)l;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            s->seed = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-')
                rc = brs__usage_error("sweep", "--seed '%s': expected a non-negative integer", v);
        } else if (!strcmp(a, "--jobs")) {
            if (brs__sweep_parse_long(v, 1, 256, &l))
                rc = brs__usage_error("sweep", "--jobs '%s': expected 1..256", v);
            s->jobs = (int)l;
            pass = 0;
        } else if (!strcmp(a, "--sort")) {
            s->sort = v;
        } else if (!strcmp(a, "--keep-runs")) {
            s->keep_given = 1;
            if (!strcmp(v, "all"))
                s->keep = -1;
            else if (!strcmp(v, "none"))
                s->keep = 0;
            else if (strncmp(v, "top:", 4) || brs__sweep_parse_long(v + 4, 0, BRS__SWEEP_MAX_COMBOS, &s->keep))
                rc = brs__usage_error("sweep", "--keep-runs '%s': expected all, none or top:K", v);
        } else if (!strcmp(a, "--out")) {
            s->out = v;
            pass = 0;
        } else if (!strcmp(a, "--walk-forward")) {
            s->wf_text = v;
            if (brs__sweep_wf_parse(&s->wf, v, &err))
                rc = brs__usage_error("sweep", "%s", err.msg);
        } else if (!strcmp(a, "--shard")) {
            if (sscanf(v, "%d/%d", &s->shard_i, &s->shard_n) != 2 || s->shard_n < 1 ||
                s->shard_n > 100000 || s->shard_i < 1 || s->shard_i > s->shard_n)
                rc = brs__usage_error("sweep", "--shard '%s': expected I/N with 1 <= I <= N", v);
            pass = 0;
        } else if (!strcmp(a, "--shards")) {
            if (brs__sweep_parse_long(v, 1, 100000, &l))
                rc = brs__usage_error("sweep", "--shards '%s': expected 1..100000", v);
            s->sl.shards = (int)l;
            pass = 0;
        } else if (!strcmp(a, "--sbatch")) {
            s->sl.sbatch_args[s->sl.n_sbatch_args++] = argv[i + 1];
            pass = 0;
        } else if (!strcmp(a, "--set") || !strcmp(a, "--param") || !strcmp(a, "--mode") ||
                   !strcmp(a, "--data") || !strcmp(a, "--strategy")) {
            ok[n_opt] = a;
            ov[n_opt++] = v;
        } else if (a[0] == '-') {
            rc = brs__usage_error("sweep", "unknown option '%s'", a);
            break;
        } else if (!s->cfg_file) {
            s->cfg_file = a;
            s->pass[s->n_pass++] = argv[i];
            continue;
        } else {
            rc = brs__usage_error("sweep", "one CONFIG.json only ('%s')", a);
            break;
        }
        if (a[0] == '-' && a[1] == '-' && strcmp(a, "--list") && strcmp(a, "--resume") &&
            strcmp(a, "--quiet") && strcmp(a, "--slurm") && strcmp(a, "--no-wait")) {
            if (pass) {
                s->pass[s->n_pass++] = argv[i];
                s->pass[s->n_pass++] = argv[i + 1];
            }
            i++;
        } else if (pass) {
            s->pass[s->n_pass++] = argv[i];
        }
    }
    if (rc)
        goto done;
    if (s->resume && !s->g.n_ax && s->cfg_file && !n_opt) {
        rc = 3; /* `--resume DIR`: the caller re-reads the command from DIR/sweep.json */
        goto done;
    }
    if ((s->sort_m = brs__sweep_metric_index(s->sort)) < 0) {
        rc = brs__usage_error("sweep", "--sort '%s': not a metric (e.g. sharpe, total_return, max_drawdown)",
                              s->sort);
        goto done;
    }
    if (s->cfg_file) {
        if (brs__config_load(&s->cfg, s->cfg_file, &err)) {
            rc = brs__fail("sweep", "%s", err.msg);
            goto done;
        }
    } else {
        int m = 0, d = 0, st = 0;
        for (int k = 0; k < n_opt; k++) {
            m |= !strcmp(ok[k], "--mode");
            d |= !strcmp(ok[k], "--data");
            st |= !strcmp(ok[k], "--strategy");
        }
        if (!m || !d || !st) {
            rc = brs__usage_error("sweep", "give CONFIG.json, or --mode, --data and --strategy");
            goto done;
        }
        brs__config_empty(&s->cfg, "command line");
    }
    s->have_cfg = 1;
    for (int k = 0; k < n_opt && !rc; k++) {
        const char *key = ok[k], *v = ov[k];
        int e = 0;
        if (!strcmp(key, "--set")) {
            e = brs__config_set(&s->cfg, v, &err);
        } else if (!strcmp(key, "--param")) {
            if (!strchr(v, '=') || v[0] == '=') {
                rc = brs__usage_error("sweep", "--param '%s': expected NAME=VALUE", v);
                break;
            }
            char a[4096];
            snprintf(a, sizeof a, "strategy.params.%s", v);
            e = brs__config_set(&s->cfg, a, &err);
        } else {
            e = set_string(&s->cfg, !strcmp(key, "--mode") ? "mode" : !strcmp(key, "--data") ? "data"
                                                                                            : "strategy.file",
                           v, &err);
        }
        if (e)
            rc = brs__usage_error("sweep", "%s %s: %s", key, v, err.msg);
    }
    if (rc)
        goto done;
    if (!s->g.n_ax) {
        rc = brs__usage_error("sweep", "give at least one --grid NAME=V1,V2,... or NAME=START:STOP:STEP");
        goto done;
    }
    if (s->where_text && brs__sweep_where_parse(&s->where, s->where_text, &s->g, &err)) {
        rc = brs__usage_error("sweep", "%s", err.msg);
        goto done;
    }
    if (s->shard_n && !s->keep_given)
        s->keep = 0;
    if (s->slurm && (s->shard_n || s->wf_text)) {
        rc = brs__usage_error("sweep", "--slurm runs the shards itself: no --shard or --walk-forward with it");
        goto done;
    }
    if (!s->out) {
        const char *base = s->cfg_file ? strrchr(s->cfg_file, '/') : NULL;
        base = base ? base + 1 : s->cfg_file ? s->cfg_file : "cli";
        snprintf(s->out_buf, sizeof s->out_buf, "runs/sweep-%.*s", (int)strcspn(base, "."), base);
        s->out = s->out_buf;
    }
done:
    free(ok);
    free(ov);
    return rc;
}

/* Re-read DIR/sweep.json's command line (run in its directory) into s. */
int brs__sweep_spec_from_manifest(const char *dir, brs__sweep_spec *s, brs__sweep_manifest *m, char *old_cwd,
                              size_t cap)
{
    brs_error err = {0};
    memset(s, 0, sizeof *s);
    if (brs__sweep_manifest_read(dir, m, &err))
        return brs__fail("sweep", "%s", err.msg);
    if (!getcwd(old_cwd, cap) || (m->cwd[0] && chdir(m->cwd) != 0)) {
        brs__sweep_manifest_free(m);
        return brs__fail("sweep", "%s: cannot enter the sweep's directory '%s': %s", dir, m->cwd,
                         strerror(errno));
    }
    char **av = calloc((size_t)m->argc + 2, sizeof *av);
    if (!av)
        return brs__fail("sweep", "out of memory");
    av[0] = (char *)"sweep";
    for (int i = 0; i < m->argc; i++)
        av[i + 1] = m->argv[i];
    int rc = brs__sweep_spec_parse(m->argc + 1, av, s);
    free(av);
    return rc;
}
