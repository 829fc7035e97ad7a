/* sweep_slurm.c: `bourse sweep --slurm`: the sweep as a Slurm job array, one
 * shard per task. Writes DIR/slurm/job.sh (the same command line with
 * `--shard I/N --out DIR/shards/I`, I from SLURM_ARRAY_TASK_ID), submits it
 * with `sbatch --array=0-(N-1)` and any --sbatch flags, and waits until the
 * array has left the queue (squeue); sweep.c then merges the shards. Nothing
 * Slurm-specific runs inside the tasks: they are ordinary shard runs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sweep.h"

/* Single-quote s for sh. */
static void shq(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* Run argv, its stdout into out (NUL-terminated, may be NULL); exit status or -1. */
static int run_cmd(char *const *argv, char *out, size_t cap)
{
    int p[2];
    if (pipe(p))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "bourse sweep: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    char tmp[512];
    ssize_t r;
    while ((r = read(p[0], tmp, sizeof tmp)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (out && len + 1 < cap) {
            size_t k = (size_t)r < cap - 1 - len ? (size_t)r : cap - 1 - len;
            memcpy(out + len, tmp, k);
            len += k;
        }
    }
    close(p[0]);
    if (out)
        out[len] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int brs__sweep_slurm_run(const brs__sweep_slurm *s, char **argv, int argc, const char *dir,
                         brs_error *err)
{
    char adir[PATH_MAX], cwd[PATH_MAX], exe[PATH_MAX], path[PATH_MAX + 64];
    if (!realpath(dir, adir) || !getcwd(cwd, sizeof cwd))
        return brs__err(err, BRS_E_IO, "%s: %s", dir, strerror(errno));
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return brs__err(err, BRS_E_IO, "cannot find the bourse executable: %s", strerror(errno));
    exe[n] = 0;
    snprintf(path, sizeof path, "%s/slurm", adir);
    int rc = brs__mkdirs(path, err);
    snprintf(path, sizeof path, "%s/shards", adir);
    if (rc || (rc = brs__mkdirs(path, err)))
        return rc;
    snprintf(path, sizeof path, "%s/slurm/job.sh", adir);
    brs_atomic_file af;
    if ((rc = brs__atomic_open(&af, path, err)))
        return rc;
    FILE *f = af.fp;
    fprintf(f, "#!/bin/sh\n# written by bourse sweep --slurm: one shard of the sweep per array task\n");
    fprintf(f, "#SBATCH --job-name=bourse-sweep\n#SBATCH --array=0-%d\n", s->shards - 1);
    fprintf(f, "#SBATCH --output=%s/slurm/%%a.out\n", adir);
    fprintf(f, "cd ");
    shq(f, cwd);
    fprintf(f, " || exit 1\nI=$((SLURM_ARRAY_TASK_ID + 1))\nexec ");
    shq(f, exe);
    fprintf(f, " sweep");
    for (int i = 0; i < argc; i++) {
        fputc(' ', f);
        shq(f, argv[i]);
    }
    fprintf(f, " --quiet --keep-runs none --jobs \"${SLURM_CPUS_PER_TASK:-1}\" --shard \"$I/%d\" --out ",
            s->shards);
    shq(f, adir);
    fprintf(f, "\"/shards/$I\"\n");
    if ((rc = brs__atomic_commit(&af, err)))
        return rc;
    /* sbatch --parsable [flags] job.sh */
    char **av = calloc((size_t)s->n_sbatch_args + 8, sizeof *av);
    if (!av)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int a = 0;
    char array[64];
    snprintf(array, sizeof array, "--array=0-%d", s->shards - 1);
    av[a++] = (char *)"sbatch";
    av[a++] = (char *)"--parsable";
    av[a++] = array;
    for (int i = 0; i < s->n_sbatch_args; i++)
        av[a++] = s->sbatch_args[i];
    av[a++] = path;
    av[a] = NULL;
    char out[256];
    int st = run_cmd(av, out, sizeof out);
    free(av);
    if (st != 0)
        return brs__err(err, BRS_E_IO, "sbatch failed (exit %d); the job script is %s", st, path);
    out[strcspn(out, ";\r\n")] = 0;
    char *end;
    long job = strtol(out, &end, 10);
    if (job <= 0 || *end)
        return brs__err(err, BRS_E_IO, "sbatch printed '%s', not a job id", out);
    fprintf(stderr, "sweep: submitted Slurm job %ld (%d array tasks), script %s\n", job, s->shards, path);
    if (s->no_wait) {
        printf("slurm job %ld; when it is done: bourse sweep merge %s/shards/* --out %s\n", job, adir, adir);
        return BRS_OK;
    }
    char jid[32];
    snprintf(jid, sizeof jid, "%ld", job);
    char *q[] = {(char *)"squeue", (char *)"-h", (char *)"-j", jid, (char *)"-o", (char *)"%i %T", NULL};
    for (;;) {
        if (brs__sweep_interrupted) {
            char *c[] = {(char *)"scancel", jid, NULL};
            run_cmd(c, NULL, 0);
            return brs__err(err, BRS_E_IO, "interrupted: job %ld cancelled", job);
        }
        char buf[4096];
        int r = run_cmd(q, buf, sizeof buf);
        /* an id squeue no longer knows makes it fail or print nothing: the job is gone */
        if (r != 0 || !buf[strspn(buf, " \r\n")])
            break;
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return BRS_OK;
}
