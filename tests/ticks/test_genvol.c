/* test_genvol.c: `bourse gen --vol`: the mid diffuses at the volatility asked
 * for, the book follows it in L3 terms (never crossed, every EXECUTE names a
 * live order with no more than it holds, each followed by its TRADE), the file
 * verifies and replays, the same options give the same bytes, and option
 * errors exit 2. (Without --vol the bytes are unchanged: test_tickfile.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "test_util.h"
#include "core/core.h"
#include "ticks/tickfile.h"

/* What a replay of one generated single-symbol file shows. */
typedef struct walk {
    uint64_t messages, crossed, executes, trades;
    double var_per_min;    /* of 1-second mid changes, ticks^2 per minute */
    double mid0, range;    /* first mid and max - min of the mid, in ticks */
    double minutes;
} walk;

/* Replays path (one symbol, tick 100) with its own order table: checks every
 * event against it and samples the mid once a second. */
static walk replay(const char *path)
{
    walk w = {0};
    brs_tick_reader r;
    brs_error err = {0};
    assert_int_equal(brs__tick_open(&r, path, &err), 0);
    uint64_t cap = r.n_events + 2;
    int64_t *px = calloc(cap, sizeof *px), *qty = calloc(cap, sizeof *qty);
    uint8_t *side = calloc(cap, 1);
    assert_true(px && qty && side);
    uint64_t maxid = 0;
    const brs_market_event *e, *prev = NULL;
    int64_t t0 = 0, next_sample = 0;
    double last_mid = 0, lo = 1e300, hi = -1e300, sq = 0;
    while ((e = brs__tick_next(&r))) {
        uint64_t id = e->order_id;
        switch (e->kind) {
        case BRS_MEV_ADD:
            assert_true(id > 0 && id < cap && qty[id] == 0);
            px[id] = e->price, qty[id] = e->qty, side[id] = e->side;
            maxid = id > maxid ? id : maxid;
            break;
        case BRS_MEV_CANCEL:
        case BRS_MEV_EXECUTE:
            assert_true(id > 0 && id < cap && qty[id] >= e->qty && e->qty > 0);
            assert_int_equal(px[id], e->price);
            assert_int_equal(side[id], e->side);
            qty[id] -= e->qty;
            w.executes += e->kind == BRS_MEV_EXECUTE;
            break;
        case BRS_MEV_MODIFY:
            assert_true(id > 0 && id < cap && qty[id] > e->qty && e->qty > 0);
            qty[id] = e->qty;
            break;
        case BRS_MEV_TRADE: /* right after its execute, same price and size, other side */
            assert_non_null(prev);
            assert_int_equal(prev->kind, BRS_MEV_EXECUTE);
            assert_int_equal(prev->price, e->price);
            assert_int_equal(prev->qty, e->qty);
            assert_int_not_equal(prev->side, e->side);
            w.trades++;
            break;
        default:
            break;
        }
        prev = e;
        if (!(e->flags & BRS_MEVF_LAST))
            continue;
        w.messages++;
        int64_t bb = 0, ba = 0;
        for (uint64_t i = 1; i <= maxid; i++) {
            if (!qty[i])
                continue;
            if (side[i] == BRS_BUY && px[i] > bb)
                bb = px[i];
            if (side[i] == BRS_SELL && (!ba || px[i] < ba))
                ba = px[i];
        }
        if (!bb || !ba)
            continue;
        w.crossed += bb >= ba;
        double mid = (double)(bb + ba) / 200.0; /* ticks */
        if (!t0) {
            t0 = next_sample = e->ts_exchange;
            w.mid0 = last_mid = mid;
        }
        lo = mid < lo ? mid : lo;
        hi = mid > hi ? mid : hi;
        while (e->ts_exchange >= next_sample) { /* the mid as of each whole second */
            sq += (mid - last_mid) * (mid - last_mid);
            last_mid = mid;
            next_sample += 1000000000;
        }
        w.minutes = (double)(e->ts_exchange - t0) / 60e9;
    }
    w.range = hi - lo;
    w.var_per_min = w.minutes > 0 ? sq / w.minutes : 0;
    brs__tick_close(&r);
    free(px);
    free(qty);
    free(side);
    return w;
}

static void gen(const char *opts, const char *path)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s gen --seed 3 --events 30000 --rate 100 %s -o %s", BOURSE_BIN, opts, path);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc)
        fail_msg("%s: exit %d: %s", cmd, rc, out);
    free(out);
}

static void test_vol_walk(void **state)
{
    (void)state;
    char quiet[512], v1[512], v2[512], v3[512], cmd[2048];
    tmp_path(quiet, sizeof quiet, "quiet.ticks.zst");
    tmp_path(v1, sizeof v1, "vol1.ticks.zst");
    tmp_path(v2, sizeof v2, "vol2.ticks.zst");
    tmp_path(v3, sizeof v3, "vol3.ticks.zst");
    gen("", quiet);
    gen("--vol 20", v1);
    gen("--vol 20", v2);
    gen("--vol 20.5", v3);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", v1, v2);
    assert_int_equal(run_cmd(cmd, NULL), 0); /* the same options, the same bytes */
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", v1, v3);
    assert_int_not_equal(run_cmd(cmd, NULL), 0);
    /* valid for the file checks and for replay into the matching engine */
    snprintf(cmd, sizeof cmd, "%s ticks verify %s && %s ticks book %s --levels 5 > /dev/null", BOURSE_BIN, v1,
             BOURSE_BIN, v1);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc)
        fail_msg("%s: exit %d: %s", cmd, rc, out);
    free(out);

    walk q = replay(quiet), w = replay(v1);
    /* the target: 20 bp per sqrt(minute) of the opening mid, in ticks (0.01) */
    double target = 20e-4 * w.mid0;
    printf("quiet: range %.1f ticks, sd %.2f ticks/sqrt(min); --vol 20: range %.1f, sd %.2f (target %.2f), "
           "%.2f min, %llu executes\n", q.range, sqrt(q.var_per_min), w.range, sqrt(w.var_per_min), target,
           w.minutes, (unsigned long long)w.executes);
    assert_int_equal(q.crossed, 0);
    assert_int_equal(w.crossed, 0);
    assert_int_equal(w.executes, w.trades);
    assert_true(w.messages > 1000);
    /* the realized volatility is the one asked for (sampling error and the
     * touch's own flicker allow a margin), and far above the quiet walk's */
    assert_true(sqrt(w.var_per_min) > 0.75 * target && sqrt(w.var_per_min) < 1.35 * target);
    assert_true(w.range > 20 && w.range > 4 * q.range);
    /* the mid moving through the book takes orders: many more executions */
    assert_true(w.executes > 2 * q.executes);
    unlink(quiet);
    unlink(v1);
    unlink(v2);
    unlink(v3);
}

/* Regimes: the volatile stretches move the mid much more than the calm ones;
 * over the file the variance lies between the two levels'. */
static void test_vol_regimes(void **state)
{
    (void)state;
    char calm[512], reg[512];
    tmp_path(calm, sizeof calm, "calm.ticks.zst");
    tmp_path(reg, sizeof reg, "regime.ticks.zst");
    gen("--vol 5", calm);
    gen("--vol 40 --regime 20 --calm-vol 5", reg);
    walk c = replay(calm), r = replay(reg);
    /* several symbols share the regimes and still replay into the engine */
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s gen --seed 9 --events 20000 --symbols 3 --vol 40 --regime 5 -o %s.multi && "
             "%s ticks verify %s.multi && %s ticks book %s.multi --levels 5 > /dev/null", BOURSE_BIN, reg,
             BOURSE_BIN, reg, BOURSE_BIN, reg);
    int rc = run_cmd(cmd, &out);
    if (rc)
        fail_msg("%s: exit %d: %s", cmd, rc, out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s.multi", reg);
    unlink(cmd);
    printf("calm 5: sd %.2f ticks/sqrt(min); regimes 5/40: sd %.2f (40 would be %.2f)\n", sqrt(c.var_per_min),
           sqrt(r.var_per_min), 40e-4 * r.mid0);
    assert_int_equal(r.crossed, 0);
    assert_true(r.var_per_min > 4 * c.var_per_min);
    assert_true(sqrt(r.var_per_min) < 40e-4 * r.mid0);
    unlink(calm);
    unlink(reg);
}

static void test_vol_usage(void **state)
{
    (void)state;
    char path[512], cmd[2048];
    tmp_path(path, sizeof path, "usage.ticks.zst");
    static const char *const bad[] = {
        "--vol", "--vol x", "--vol -1", "--vol 1.2345", "--vol 10001", "--regime 10",
        "--calm-vol 3", "--vol 10 --regime 3601", "--bars --vol 10",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s gen --events 100 %s -o %s", BOURSE_BIN, bad[i], path);
        assert_int_equal(run_cmd(cmd, NULL), 2);
    }
    assert_int_equal(file_size(path), -1); /* nothing written */
    snprintf(cmd, sizeof cmd, "%s gen --help | grep -q -- '--vol V'", BOURSE_BIN);
    assert_int_equal(run_cmd(cmd, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vol_walk),
        cmocka_unit_test(test_vol_regimes),
        cmocka_unit_test(test_vol_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
