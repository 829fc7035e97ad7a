/* signal_targets.c: the signal engine's precomputed targets (xSetTargets,
 * xSetTargetsAt, ABI 1.3): checked, then kept as one byte a bar coding at
 * most 255 distinct values (tcode/tval, an eighth of the memory the loop
 * scans), else as the doubles themselves. The loop reads them through
 * brs__bt_sig_target_at (signal_internal.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "core/core.h"
#include "signal_internal.h"

/* Targets as codes: distinct values (by bit pattern, so -0.0 stays -0.0) get
 * codes in order of appearance through a small open-addressing table.
 * Returns 1 when done, 0 when there are more than 255 values, <0 on error. */
static int encode_targets(const double *t, uint64_t n, uint8_t *code, double *val, uint32_t *n_val,
                          uint64_t *changes)
{
    uint64_t ch = 0;
    uint64_t key[512];
    uint8_t slot[512];
    memset(slot, TG_NONE, sizeof slot);
    uint64_t prev = 0;
    uint8_t prev_code = TG_NONE;
    uint32_t nv = 0;
    for (uint64_t i = 0; i < n; i++) {
        double v = t[i];
        if (isnan(v)) {
            code[i] = TG_NONE;
            continue;
        }
        if (!(v >= -1.0 && v <= 1.0))
            return BRS_E_INVAL;
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        if (prev_code != TG_NONE && bits == prev) {
            code[i] = prev_code;
            continue;
        }
        ch++;
        uint32_t h = (uint32_t)((bits * 0x9E3779B97F4A7C15ull) >> 55); /* 9 bits */
        while (slot[h] != TG_NONE && key[h] != bits)
            h = (h + 1) & 511;
        if (slot[h] == TG_NONE) {
            if (nv == 255)
                return 0;
            key[h] = bits;
            slot[h] = (uint8_t)nv;
            val[nv++] = v;
        }
        code[i] = prev_code = slot[h];
        prev = bits;
    }
    *n_val = nv;
    *changes = ch;
    return 1;
}

static uint32_t tg_hash(uint64_t bits) { return (uint32_t)((bits * 0x9E3779B97F4A7C15ull) >> 55); }

/* The code table of tval (for chunks added later by xSetTargetsAt). */
static void tg_table(sig_instr *in)
{
    memset(in->tg_slot, TG_NONE, sizeof in->tg_slot);
    for (uint32_t c = 0; c < in->n_tval; c++) {
        uint64_t bits;
        memcpy(&bits, &in->tval[c], sizeof bits);
        uint32_t h = tg_hash(bits);
        while (in->tg_slot[h] != TG_NONE)
            h = (h + 1) & 511;
        in->tg_key[h] = bits;
        in->tg_slot[h] = (uint8_t)c;
    }
    in->tg_ready = 1;
}

int brs__bt_sig_set_targets(void *self, brs__sctx *sc, uint32_t instrument, const double *t, uint64_t n)
{
    (void)sc;
    brs__bt_signal *s = self;
    sig_instr *in = &s->in[instrument];
    if (n != in->n)
        return BRS_E_RANGE;
    uint8_t *code = malloc(n ? n : 1);
    if (!code)
        return BRS_E_NOMEM;
    double val[255];
    uint32_t nv = 0;
    uint64_t changes = 0;
    int rc = encode_targets(t, n, code, val, &nv, &changes);
    if (rc < 0) {
        free(code);
        return rc;
    }
    free(in->tcode);
    free(in->targets);
    in->tcode = NULL;
    in->targets = NULL;
    in->quiet_ok = 0;
    in->tg_ready = 0;
    if (rc == 1) {
        in->tcode = code;
        memcpy(in->tval, val, nv * sizeof *val);
        in->n_tval = nv;
        in->tg_changes = changes;
        return BRS_OK;
    }
    free(code); /* many distinct values: keep them as they are */
    for (uint64_t i = 0; i < n; i++)
        if (!isnan(t[i]) && !(t[i] >= -1.0 && t[i] <= 1.0))
            return BRS_E_INVAL;
    if (!(in->targets = malloc((n ? n : 1) * sizeof *in->targets)))
        return BRS_E_NOMEM;
    memcpy(in->targets, t, n * sizeof *t);
    return BRS_OK;
}

/* The end of the run of targets with bit pattern bits that goes on at i: the
 * first j >= i whose bits differ (n if none). Targets come in long runs (a
 * position held for many bars), so eight are compared at once. */
static uint64_t run_end(const double *t, uint64_t i, uint64_t n, uint64_t bits)
{
    for (; i + 8 <= n; i += 8) {
        uint64_t d = 0;
        for (int k = 0; k < 8; k++) {
            uint64_t a;
            memcpy(&a, t + i + k, sizeof a);
            d |= a ^ bits;
        }
        if (d)
            break;
    }
    for (; i < n; i++) {
        uint64_t a;
        memcpy(&a, t + i, sizeof a);
        if (a != bits)
            break;
    }
    return i;
}

static uint64_t dbits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

/* xSetTargetsAt (ABI 1.3): bars first .. first + n - 1, checked first
 * (nothing changes on an error), coded into the table the earlier calls
 * built; past 255 distinct values every target is kept as a double. */
int brs__bt_sig_set_targets_at(void *self, brs__sctx *sc, uint32_t instrument, uint64_t first,
                            const double *t, uint64_t n)
{
    (void)sc;
    brs__bt_signal *s = self;
    sig_instr *in = &s->in[instrument];
    if (first > in->n || n > in->n - first)
        return BRS_E_RANGE;
    /* checked run by run: a run's value once; the first runs' ends are kept
     * so the coding below need not find them again */
    enum { KEPT = 4096 };
    uint32_t ends[KEPT];
    size_t kept = 0;
    for (uint64_t i = 0; i < n;) {
        double v = t[i];
        if (!isnan(v) && !(v >= -1.0 && v <= 1.0))
            return BRS_E_INVAL;
        i = run_end(t, i + 1, n, dbits(v));
        if (kept < KEPT && n <= UINT32_MAX)
            ends[kept++] = (uint32_t)i;
    }
    in->quiet_ok = 0;
    if (!in->tcode && !in->targets) { /* the first call: no target anywhere else */
        if (!(in->tcode = malloc(in->n ? in->n : 1)))
            return BRS_E_NOMEM;
        memset(in->tcode, TG_NONE, first);
        memset(in->tcode + first + n, TG_NONE, in->n - first - n);
        in->n_tval = 0;
        in->tg_ready = 0;
    }
    if (in->tcode && !in->tg_ready)
        tg_table(in);
    uint64_t i = 0;
    if (in->tcode) {
        uint8_t *code = in->tcode + first;
        for (size_t r = 0; i < n; r++) { /* a run at a time: one code looked up, then filled */
            double v = t[i];
            uint64_t bits = dbits(v);
            uint64_t j = r < kept ? ends[r] : run_end(t, i + 1, n, bits); /* the same runs as above */
            uint8_t c = TG_NONE;
            if (!isnan(v)) {
                uint32_t h = tg_hash(bits);
                while (in->tg_slot[h] != TG_NONE && in->tg_key[h] != bits)
                    h = (h + 1) & 511;
                if (in->tg_slot[h] == TG_NONE) {
                    if (in->n_tval == 255)
                        break; /* one value too many: doubles from here on */
                    in->tg_key[h] = bits;
                    in->tg_slot[h] = (uint8_t)in->n_tval;
                    in->tval[in->n_tval++] = v;
                }
                c = in->tg_slot[h];
            }
            memset(code + i, c, j - i);
            in->tg_changes += c != TG_NONE;
            i = j;
        }
        if (i == n)
            return BRS_OK;
        double *all = malloc((in->n ? in->n : 1) * sizeof *all);
        if (!all)
            return BRS_E_NOMEM; /* the chunk's first i bars were set */
        for (uint64_t k = 0; k < in->n; k++)
            all[k] = in->tcode[k] == TG_NONE ? NAN : in->tval[in->tcode[k]];
        free(in->tcode);
        in->tcode = NULL;
        in->tg_ready = 0;
        in->targets = all;
    }
    memcpy(in->targets + first + i, t + i, (n - i) * sizeof *t);
    return BRS_OK;
}
