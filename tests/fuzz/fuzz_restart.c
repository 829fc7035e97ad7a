/* fuzz_restart.c: libFuzzer target for the FIX gateway's recovery from its
 * state directory, the replay `bourse serve` runs at every start: the order
 * journal (requests, COMMIT marks, snapshots, end-of-day steps, mass cancel
 * slices, market data and strategy records) and a session store (sent
 * messages, batch marks, resets), as a crash, a full disk or a hand edit may
 * leave them. Any bytes must replay to a state or stop with an error that says
 * why, never crash or hang; after a replay the gateway must stay usable (its
 * mass cancels, waiting events and end-of-day steps finish, an end of day
 * runs on it, it closes cleanly).
 * Input: the same layout as fuzz_audit.c, so both share the seeds made from
 * real state directories (tests/fuzz/corpus-audit): a flags byte (bit 0: a
 * second session with its own store, the store part split in two; bit 1: an
 * end of day after the replay), the journal's length (4 bytes, little endian,
 * cut to what is there), the journal, then the store. Built with clang by
 * `make fuzz-restart`; tests/fuzz/CMakeLists.txt runs the seeds through it as
 * an ordinary test. The files live in a private directory under /tmp. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fix/app.h"
#include "fix/session.h"
#include "no_live.h"
#include "state_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static char dir[64], jpath[96], spath[2][96];

/* Empties dir (and its archive/, where an end of day moves the old journal),
 * so nothing accumulates over millions of inputs. */
static void clear(int remove_dirs)
{
    char sub[160], f[400];
    snprintf(sub, sizeof sub, "%s/archive", dir);
    const char *dirs[2] = {sub, dir};
    for (int k = 0; k < 2; k++) {
        DIR *d = opendir(dirs[k]);
        if (!d)
            continue;
        for (struct dirent *e; (e = readdir(d));)
            if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."))) {
                snprintf(f, sizeof f, "%s/%s", dirs[k], e->d_name);
                if (k || strcmp(e->d_name, "archive"))
                    unlink(f);
            }
        closedir(d);
        if (remove_dirs)
            rmdir(dirs[k]);
    }
}

static void cleanup(void) { clear(1); }

static void need(int ok)
{
    if (!ok)
        abort();
}

static void put(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    need(fd >= 0);
    while (n) {
        ssize_t w = write(fd, p, n);
        need(w > 0);
        p += w, n -= (size_t)w;
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/bourse_fuzz_restart_%ld", (long)getpid());
        need(mkdir(dir, 0700) == 0 || access(dir, W_OK) == 0);
        snprintf(jpath, sizeof jpath, "%s/orders.journal", dir);
        snprintf(spath[0], sizeof spath[0], "%s/EXEC-CLIENT1.store", dir);
        snprintf(spath[1], sizeof spath[1], "%s/EXEC-CLIENT2.store", dir);
        atexit(cleanup);
    }
    state_input st;
    if (!state_input_split(data, size, &st))
        return 0;
    clear(0);
    uint8_t flags = st.flags;
    size_t s0 = flags & 1 ? st.store_len / 2 : st.store_len;
    put(jpath, st.journal, st.journal_len);
    put(spath[0], st.store, s0);
    put(spath[1], st.store + s0, st.store_len - s0);

    static brs__fix_gateway g;
    static brs__fix_session s[2];
    brs_error err = {0};
    brs__fix_instr in[2] = {{"AAPL", 2, 1, 1}, {"MSFT", 2, 5, 10}};
    if (brs__fix_gateway_open(&g, in, 2, 256, jpath, BRS__FIX_FSYNC_NEVER, &err) != BRS_OK) {
        need(err.msg[0] != 0);
        return 0;
    }
    int nsess = 0, rc = BRS_OK;
    for (int i = 0; i < (flags & 1 ? 2 : 1) && rc == BRS_OK; i++) {
        brs__fix_session_cfg cfg = {0};
        snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
        snprintf(cfg.target, sizeof cfg.target, "%s", i ? "CLIENT2" : "CLIENT1");
        cfg.max_msg = 4096;
        rc = brs__fix_session_open(&s[i], &cfg, spath[i], BRS__FIX_FSYNC_NEVER | BRS__FIX_STORE_JOURNALED, &err);
        if (rc != BRS_OK) {
            need(err.msg[0] != 0); /* a store refused says why */
            break;
        }
        nsess = i + 1;
        rc = brs__fix_gateway_add_session(&g, &s[i]);
    }
    if (rc == BRS_OK) {
        rc = brs__fix_gateway_replay(&g, &err);
        need(rc == BRS_OK || err.msg[0] != 0); /* a refusal says why */
    }
    if (rc == BRS_OK) {
        /* the replayed state must work on, as serve's loop drives it: what a
         * replay leaves streaming (mass cancels, waiting events and reports,
         * an end of day's steps) finishes */
        int busy = 1;
        for (int k = 0; k < (1 << 16) && busy; k++) {
            busy = 0;
            for (int i = 0; i < nsess; i++) {
                if (brs__fix_gateway_mc_active(&g, (uint32_t)i)) {
                    brs__fix_gateway_mc_step(&g, (uint32_t)i);
                    busy = 1;
                }
                if (brs__fix_gateway_evq_active(&g, (uint32_t)i)) {
                    brs__fix_gateway_evq_step(&g, (uint32_t)i);
                    busy = 1;
                }
                if (brs__fix_gateway_erq_active(&g, (uint32_t)i)) {
                    brs__fix_gateway_erq_step(&g, (uint32_t)i);
                    busy = 1;
                }
            }
            if (g.eod_phase)
                busy |= brs__fix_gateway_eod_step(&g) != 0;
            else if (brs__fix_gateway_forgetting(&g))
                busy |= brs__fix_gateway_forget_step(&g) != 0;
        }
        need(!busy); /* nothing streams forever */
        (void)brs__fix_gateway_orders_held(&g);
        if (flags & 2) { /* an end of day on what was replayed: the snapshot is written */
            brs_error e2 = {0};
            if (brs__fix_gateway_end_of_day(&g, INT64_MAX / 2, 0, &e2) != BRS_OK)
                need(e2.msg[0] != 0);
        }
    }
    brs__fix_gateway_close(&g);
    for (int i = 0; i < nsess; i++)
        brs__fix_session_close(&s[i]);
    return 0;
}
