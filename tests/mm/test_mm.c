/* test_mm.c: the two-venue market-making run and the router in book mode, end
 * to end through `bourse backtest` (subprocess) on the bundled data:
 *  - the shipped config keeps max_abs_inventory within inventory_limit, and its
 *    summary and report carry PnL, spread captured and the inventory chart;
 *  - with gamma = 0 (no inventory control) the inventory range is clearly wider;
 *  - the quotes widen with volatility: the bundled data has calm and volatile
 *    stretches (bourse gen --vol --regime) and the quotes the market maker
 *    is filled at lie further from the mid when trailing volatility is high;
 *  - the Lua market maker makes the same fills as its C twin;
 *  - the same parent orders cost less (bps against the arrival mid) routed over
 *    both venues than sent to either venue alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../support/subprocess.h"
#include "ticks/tickfile.h"
#include "support/files.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    if (chdir(BOURSE_SOURCE_DIR)) /* configs name data/ and strategies-lua/ relative to it */
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brs_mm_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    if (getenv("BRS_TEST_KEEP")) /* keep the run directories to look at */
        return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Run `bourse backtest ARGS... --out tmp/NAME --quiet` and return its parsed summary.json. */
static cJSON *backtest(const char *name, const char *const *extra)
{
    char out[512];
    snprintf(out, sizeof out, "%s/%s", tmpdir, name);
    const char *args[32] = {"backtest"};
    size_t n = 1;
    for (; *extra && n < 28; extra++)
        args[n++] = *extra;
    args[n++] = "--out";
    args[n++] = out;
    args[n] = NULL;
    run_result r = run(args);
    if (r.status != 0)
        fprintf(stderr, "bourse backtest failed (%d): %s\n", r.status, r.err);
    assert_int_equal(r.status, 0);
    run_free(&r);
    char path[600];
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *text = test_read_file(path, NULL);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(v))
        fail_msg("summary.json: '%s' missing or not a number", key);
    return v->valuedouble;
}

#define MM_CONFIG "data/configs/mm_two_venues.json"

/* A strategy parameter of the shipped config (the quote size the demo trades). */
static double shipped_param(const char *key)
{
    char *text = test_read_file(MM_CONFIG, NULL);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "strategy"), "params");
    double v = num(p, key);
    cJSON_Delete(j);
    return v;
}

static void test_shipped_run_within_limit(void **state)
{
    (void)state;
    const char *const a[] = {MM_CONFIG, NULL};
    cJSON *s = backtest("shipped", a);
    double inv = num(s, "max_abs_inventory"), lim = num(s, "inventory_limit");
    printf("shipped: max_abs_inventory %g, inventory_limit %g, spread_captured %g, net_pnl %g, "
           "exec_cost_bps %g, fills %g\n", inv, lim, num(s, "spread_captured"), num(s, "net_pnl"),
           num(s, "exec_cost_bps"), num(s, "n_fills"));
    assert_true(num(s, "n_fills") >= 10); /* it did make markets */
    assert_true(inv >= 1);
    assert_true(inv <= lim);
    assert_true(num(s, "spread_captured") > 0); /* passive fills earn against the mid */
    /* 100-lot quotes, filled on both venues, in sizes the PnL can be read at:
     * more than one quote's worth on each venue */
    double q = shipped_param("order_qty");
    assert_true(q >= 100);
    assert_true(num(s, "filled_qty_lit") > q && num(s, "filled_qty_alt") > q);
    assert_true(fabs(num(s, "net_pnl")) > 1.0);
    cJSON_Delete(s);
    /* the report: PnL, spread captured and the position (inventory) chart */
    char path[600];
    snprintf(path, sizeof path, "%s/shipped/report.html", tmpdir);
    char *html = test_read_file(path, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "spread_captured"));
    assert_non_null(strstr(html, "net_pnl"));
    assert_non_null(strstr(html, "max_abs_inventory"));
    assert_non_null(strstr(html, "Position"));
    free(html);
    /* requotes went through the router as replaces (cancel + new parent) and
     * some replaced quotes then filled: the strategy kept one order id */
    snprintf(path, sizeof path, "%s/shipped/orders.csv", tmpdir);
    char *csv = test_read_file(path, NULL);
    assert_non_null(csv);
    int replaced = 0, replaced_filled = 0;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        /* n_replaces is column 14, status column 15 */
        char *c = line + 1;
        for (int k = 1; k < 14 && c; k++)
            c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
        if (c && atoi(c) > 0) {
            replaced++;
            replaced_filled += strncmp(strchr(c, ',') + 1, "filled", 6) == 0;
        }
    }
    printf("orders replaced: %d, of which filled: %d\n", replaced, replaced_filled);
    assert_true(replaced > 0);
    assert_true(replaced_filled > 0);
    free(csv);
}

/* The routed run is deterministic: two runs give byte-identical directories. */
static void test_deterministic(void **state)
{
    (void)state;
    const char *const a[] = {MM_CONFIG, NULL};
    cJSON_Delete(backtest("det1", a));
    cJSON_Delete(backtest("det2", a));
    static const char *const files[] = {"summary.json", "fills.csv", "orders.csv", "trades.csv",
                                        "equity.csv", "config.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p1[600], p2[600];
        snprintf(p1, sizeof p1, "%s/det1/%s", tmpdir, files[i]);
        snprintf(p2, sizeof p2, "%s/det2/%s", tmpdir, files[i]);
        char *t1 = test_read_file(p1, NULL), *t2 = test_read_file(p2, NULL);
        assert_non_null(t1);
        assert_non_null(t2);
        assert_string_equal(t1, t2);
        free(t1);
        free(t2);
    }
}

static void test_gamma_zero_wider(void **state)
{
    (void)state;
    const char *const a[] = {MM_CONFIG, NULL};
    const char *const b[] = {MM_CONFIG, "--set", "strategy.params.gamma=0", NULL};
    cJSON *s1 = backtest("gamma", a), *s0 = backtest("gamma0", b);
    double inv1 = num(s1, "max_abs_inventory"), inv0 = num(s0, "max_abs_inventory");
    printf("max_abs_inventory: gamma > 0 -> %g, gamma 0 -> %g\n", inv1, inv0);
    /* without the inventory term the position wanders at least three times as far */
    assert_true(inv0 >= 3 * (inv1 > 1 ? inv1 : 1));
    /* the limit holds to within one quote: below it the adding side still
     * quotes order_qty lots, which may fill whole (100 lots from 499 -> 599) */
    assert_true(inv0 >= num(s0, "inventory_limit"));
    assert_true(inv0 < num(s0, "inventory_limit") + shipped_param("order_qty"));
    cJSON_Delete(s1);
    cJSON_Delete(s0);
}

/* One maker fill: how volatile the mid was just before it, and how far from
 * the mid the quote it hit was. */
typedef struct vfill { double rv, dist; } vfill;

static int by_rv(const void *a, const void *b)
{
    double x = ((const vfill *)a)->rv, y = ((const vfill *)b)->rv;
    return (x > y) - (x < y);
}

/* Column index of name in a CSV header line, -1 when absent. */
static int csv_col(const char *header, const char *name)
{
    size_t n = strlen(name);
    int k = 0;
    for (const char *c = header; c && *c && *c != '\n'; k++) {
        if (strncmp(c, name, n) == 0 && (c[n] == ',' || c[n] == '\n' || !c[n]))
            return k;
        c = strchr(c, ',');
        c = c ? c + 1 : NULL;
    }
    return -1;
}

/* Field k of the CSV line at l (no quoting in these files). */
static const char *csv_field(const char *l, int k)
{
    for (; k > 0 && l; k--)
        l = (l = strchr(l, ',')) ? l + 1 : NULL;
    return l;
}

#define RV_WINDOW_NS INT64_C(10000000000) /* trailing window of the realized volatility */

/* From run directory NAME: for each maker fill, the realized variance of the
 * mid (equity.csv's price column, ticks^2 per second) over the 10 s before it
 * (over what there is after the first 2 s of the run)
 * and the distance in ticks of the fill price (the quote's price) from the
 * last mid sampled before it. Returns the count; *out is malloc'd. */
static size_t vol_fills(const char *name, double tick, vfill **out)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/equity.csv", tmpdir, name);
    char *eq = test_read_file(path, NULL);
    assert_non_null(eq);
    int pc = csv_col(eq, "price_GEN000");
    assert_true(pc > 0);
    size_t n = 0, cap = 1024;
    int64_t *ts = malloc(cap * sizeof *ts);
    double *mid = malloc(cap * sizeof *mid), *cum = malloc(cap * sizeof *cum);
    for (char *l = strchr(eq, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        const char *f = csv_field(l + 1, pc);
        if (!f || *f == ',' || *f == '\n' || !*f) /* no price yet */
            continue;
        if (n == cap) {
            cap *= 2;
            ts = realloc(ts, cap * sizeof *ts);
            mid = realloc(mid, cap * sizeof *mid);
            cum = realloc(cum, cap * sizeof *cum);
        }
        ts[n] = atoll(l + 1);
        mid[n] = atof(f) / tick;
        cum[n] = n ? cum[n - 1] + (mid[n] - mid[n - 1]) * (mid[n] - mid[n - 1]) : 0;
        n++;
    }
    free(eq);
    assert_true(n > 100);
    snprintf(path, sizeof path, "%s/%s/fills.csv", tmpdir, name);
    char *fl = test_read_file(path, NULL);
    assert_non_null(fl);
    int tc = csv_col(fl, "ts"), xc = csv_col(fl, "price"), lc = csv_col(fl, "liquidity");
    assert_true(tc == 0 && xc > 0 && lc > 0);
    size_t nv = 0, vcap = 256;
    vfill *v = malloc(vcap * sizeof *v);
    for (char *l = strchr(fl, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        if (strncmp(csv_field(l + 1, lc), "maker", 5) != 0)
            continue;
        int64_t t = atoll(l + 1);
        size_t i = 0, j = 0; /* i: last sample before t; j: first inside the window */
        while (i < n && ts[i] < t)
            i++;
        if (i < 2)
            continue;
        i--;
        while (j < i && ts[j] < t - RV_WINDOW_NS)
            j++;
        /* at the start, the history there is (at least 2 s of it) */
        int64_t span = t - ts[0] < RV_WINDOW_NS ? t - ts[0] : RV_WINDOW_NS;
        if (span < INT64_C(2000000000))
            continue;
        if (nv == vcap)
            v = realloc(v, (vcap *= 2) * sizeof *v);
        v[nv].rv = (cum[i] - cum[j]) / ((double)span / 1e9);
        v[nv].dist = fabs(atof(csv_field(l + 1, xc)) / tick - mid[i]);
        nv++;
    }
    free(fl);
    free(ts);
    free(mid);
    free(cum);
    *out = v;
    return nv;
}

/* The quoted spread adapts to volatility (the Avellaneda-Stoikov half spread
 * grows with sigma^2): on the bundled data, the quotes hit in the most
 * volatile tenth of the fills (ranked by the mid's realized volatility over
 * the 10 s before each) lie clearly further from the mid than those hit in the
 * calmest tenth, and distance and volatility are positively correlated. */
static void test_spread_follows_volatility(void **state)
{
    (void)state;
    const char *const a[] = {MM_CONFIG, NULL};
    cJSON_Delete(backtest("vol", a));
    vfill *v;
    size_t n = vol_fills("vol", 0.01, &v); /* GEN000: tick 100 at price scale 10^4 */
    assert_true(n >= 50);
    qsort(v, n, sizeof *v, by_rv);
    size_t k = n / 10;
    double lo = 0, hi = 0, rlo = 0, rhi = 0, mr = 0, md = 0, sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < k; i++) {
        lo += v[i].dist / (double)k;
        hi += v[n - 1 - i].dist / (double)k;
        rlo += v[i].rv / (double)k;
        rhi += v[n - 1 - i].rv / (double)k;
    }
    for (size_t i = 0; i < n; i++) {
        mr += v[i].rv / (double)n;
        md += v[i].dist / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        sxy += (v[i].rv - mr) * (v[i].dist - md);
        sxx += (v[i].rv - mr) * (v[i].rv - mr);
        syy += (v[i].dist - md) * (v[i].dist - md);
    }
    double corr = sxy / sqrt(sxx * syy);
    printf("maker fills %zu: quote distance from the mid, calmest tenth %.2f ticks (mean trailing var %.2f "
           "ticks^2/s), most volatile tenth %.2f ticks (%.2f), ratio %.2f, correlation %.2f\n",
           n, lo, rlo, hi, rhi, hi / lo, corr);
    assert_true(rhi > 3 * rlo); /* the data does have calm and volatile stretches */
    assert_true(hi > 2.5 * lo);
    assert_true(corr > 0.3);
    free(v);
}

/* The Lua market maker against its C twin: the shipped run, gamma = 0 with a
 * small inventory limit (one-sided quoting at the limit), and a hard stop. */
static void test_lua_matches_c(void **state)
{
    (void)state;
    /* variant 0: the shipped 100-lot quotes; 1 and 2 check the limits to the
     * lot, so they quote 1 lot (a 100-lot fill would step over a limit of 3) */
    static const char *const variants[][8] = {
        {NULL},
        {"--set", "strategy.params.gamma=0", "--set", "strategy.params.inventory_limit=3",
         "--set", "strategy.params.order_qty=1", NULL},
        {"--set", "strategy.params.gamma=0", "--set", "strategy.params.hard_stop=3",
         "--set", "strategy.params.order_qty=1", NULL},
    };
    static const char *const keys[] = {"n_fills", "n_orders", "max_abs_inventory",
                                       "spread_captured", "net_pnl", "fees_paid"};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const char *a[16] = {MM_CONFIG, "--set", "strategy.params.inventory_limit=3"};
        const char *c[16] = {MM_CONFIG, "--set", "strategy.file=market_maker", "--set",
                             "strategy.params.inventory_limit=3"};
        size_t na = v ? 3 : 1, nc = v ? 5 : 3;
        for (size_t k = 0; variants[v][k]; k++)
            a[na++] = c[nc++] = variants[v][k];
        a[na] = c[nc] = NULL;
        char nl[32], ncn[32];
        snprintf(nl, sizeof nl, "lua%zu", v);
        snprintf(ncn, sizeof ncn, "c%zu", v);
        cJSON *sl = backtest(nl, a), *sc = backtest(ncn, c);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            printf("variant %zu %s: lua %.10g, C %.10g\n", v, keys[i], num(sl, keys[i]), num(sc, keys[i]));
            assert_true(fabs(num(sl, keys[i]) - num(sc, keys[i])) < 1e-9);
        }
        assert_true(num(sl, "n_fills") > 0);
        if (v == 1) /* at the limit only the reducing side is quoted */
            assert_true(num(sl, "max_abs_inventory") == 3);
        if (v == 2) /* the hard stop ends quoting early: few orders */
            assert_true(num(sl, "max_abs_inventory") == 3 && num(sl, "n_orders") < 20);
        cJSON_Delete(sl);
        cJSON_Delete(sc);
    }
}

/* The same parent orders (market orders of 10 lots every 2 s, alternating
 * sides, decided by the clock alone; 10, not more, so that each fills in full
 * even on "alt" alone right after the volatile mid has run through its thin
 * book) on the bundled file replayed by two
 * venues: "lit" deep and expensive to take from (2 bps), "alt" a quarter of
 * the liquidity, 1 bp to take, quoting three ticks higher on both sides (a price
 * dislocation between venues, as when one venue's book lags). */
static void write_routing_config(const char *path, const char *copy, const char *alt_extra)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* copy: the alt venue replays its own file, a copy of lit's (book.venues[].data) */
    char data[600], lit_data[64] = "", alt_data[600] = "";
    if (copy) {
        snprintf(data, sizeof data, "[\"data/mm.ticks.zst\", \"%s\"]", copy);
        snprintf(lit_data, sizeof lit_data, ", \"data\": \"data/mm.ticks.zst\"");
        snprintf(alt_data, sizeof alt_data, ", \"data\": \"%s\"", copy);
    } else {
        snprintf(data, sizeof data, "\"data/mm.ticks.zst\"");
    }
    if (alt_extra) /* more keys of the alt venue, e.g. its own latency */
        snprintf(alt_data + strlen(alt_data), sizeof alt_data - strlen(alt_data), ", %s", alt_extra);
    fprintf(f, "{\"mode\": \"book\", \"data\": %s,\n"
          " \"strategy\": {\"file\": \"tests/mm/fx_taker.lua\", \"params\": {\"qty\": 10, \"every_ms\": 2000}},\n"
          " \"sample_every_ns\": 1000000000,\n"
          " \"risk\": {\"max_order_qty\": 100, \"max_position\": 100},\n"
          " \"book\": {\"router\": {\"enabled\": true},\n"
          "   \"venues\": [\n"
          "     {\"name\": \"lit\", \"plugin\": \"sim\", \"params\": {\"venue_index\": 0, \"taker_fee_bps\": 2.0,\n"
          "      \"maker_fee_bps\": -0.2, \"tick_size\": 100}%s},\n"
          "     {\"name\": \"alt\", \"plugin\": \"sim\", \"params\": {\"venue_index\": 1, \"taker_fee_bps\": 1.0,\n"
          "      \"maker_fee_bps\": 0.5, \"tick_size\": 100, \"liquidity_scale\": 0.25, \"price_offset\": 300}%s}],\n"
          "   \"latency\": {\"market_data\": 50000, \"order_entry_ns\": 100000, \"cancel_ns\": 100000,\n"
          "                \"response_ns\": 50000}}}\n",
          data, lit_data, alt_data);
    fclose(f);
}

static void test_routing_beats_single_venue(void **state)
{
    (void)state;
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/routing.json", tmpdir);
    write_routing_config(cfg, NULL, NULL);
    const char *const r[] = {cfg, NULL};
    const char *const l[] = {cfg, "--set", "book.router.only_venue=lit", NULL};
    const char *const a[] = {cfg, "--set", "book.router.only_venue=alt", NULL};
    cJSON *sr = backtest("routed", r), *sl = backtest("lit_only", l), *sa = backtest("alt_only", a);
    double cr = num(sr, "exec_cost_bps"), cl = num(sl, "exec_cost_bps"), ca = num(sa, "exec_cost_bps");
    double qr = num(sr, "filled_qty_lit") + num(sr, "filled_qty_alt");
    double ql = num(sl, "filled_qty_lit") + num(sl, "filled_qty_alt");
    double qa = num(sa, "filled_qty_lit") + num(sa, "filled_qty_alt");
    printf("exec cost vs arrival mid (bps): routed %.4f (lit %g + alt %g), lit only %.4f, alt only %.4f\n",
           cr, num(sr, "filled_qty_lit"), num(sr, "filled_qty_alt"), cl, ca);
    /* a fair comparison: the same parents, every one filled in full each way */
    assert_true(num(sr, "parent_orders") == num(sl, "parent_orders"));
    assert_true(num(sr, "parent_orders") == num(sa, "parent_orders"));
    assert_true(num(sr, "parent_orders") >= 50);
    assert_true(qr == 10 * num(sr, "parent_orders"));
    assert_true(ql == qr && qa == qr);
    assert_true(num(sl, "filled_qty_alt") == 0 && num(sa, "filled_qty_lit") == 0);
    /* the router used both venues and beat each one by a clear margin */
    assert_true(num(sr, "filled_qty_lit") > 0 && num(sr, "filled_qty_alt") > 0);
    assert_true(cr < cl - 0.05);
    assert_true(cr < ca - 0.05);
    cJSON_Delete(sr);
    cJSON_Delete(sl);
    cJSON_Delete(sa);
}

/* Each venue replaying its own file (here a byte copy of the other's) gives
 * exactly the run where both share one file; a venue file that is not one of
 * the run's data files is refused by name. */
static void test_venue_own_files(void **state)
{
    (void)state;
    char copy[512], cfg1[512], cfg2[512], cmd[1200];
    snprintf(copy, sizeof copy, "%s/copy.ticks.zst", tmpdir);
    snprintf(cmd, sizeof cmd, "cp data/mm.ticks.zst '%s'", copy);
    assert_int_equal(system(cmd), 0);
    snprintf(cfg1, sizeof cfg1, "%s/shared.json", tmpdir);
    snprintf(cfg2, sizeof cfg2, "%s/own.json", tmpdir);
    write_routing_config(cfg1, NULL, NULL);
    write_routing_config(cfg2, copy, NULL);
    const char *const a[] = {cfg1, NULL}, *const b[] = {cfg2, NULL};
    cJSON *s1 = backtest("shared", a), *s2 = backtest("own", b);
    assert_true(num(s2, "n_fills") > 0);
    static const char *const keys[] = {"n_fills", "exec_cost_bps", "filled_qty_lit", "filled_qty_alt", "net_pnl"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(num(s1, keys[i]) == num(s2, keys[i]));
    cJSON_Delete(s1);
    cJSON_Delete(s2);
    char path[600];
    snprintf(path, sizeof path, "%s/shared/fills.csv", tmpdir);
    char *f1 = test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/own/fills.csv", tmpdir);
    char *f2 = test_read_file(path, NULL);
    assert_non_null(f1);
    assert_non_null(f2);
    assert_string_equal(f1, f2);
    free(f1);
    free(f2);
    /* a venue file the run does not replay */
    char out[600];
    snprintf(out, sizeof out, "%s/bad", tmpdir);
    const char *const bad[] = {"backtest", cfg2, "--set", "data=data/mm.ticks.zst", "--out", out, NULL};
    run_result r = run(bad);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "book.venues[1].data"));
    run_free(&r);
}

/* Smallest delay from an order's submission (orders.csv) to its fills
 * (fills.csv, venue time), over every fill of run directory NAME. */
static int64_t min_fill_delay(const char *name)
{
    char path[600];
    static int64_t sent[4096];
    memset(sent, 0, sizeof sent);
    snprintf(path, sizeof path, "%s/%s/orders.csv", tmpdir, name);
    char *o = test_read_file(path, NULL);
    assert_non_null(o);
    for (char *l = strchr(o, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        long long id = atoll(l + 1), ts = atoll(strchr(l + 1, ',') + 1);
        if (id > 0 && id < 4096)
            sent[id] = ts;
    }
    free(o);
    snprintf(path, sizeof path, "%s/%s/fills.csv", tmpdir, name);
    char *f = test_read_file(path, NULL);
    assert_non_null(f);
    int64_t best = INT64_MAX;
    for (char *l = strchr(f, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        long long ts = atoll(l + 1);
        char *c = strchr(strchr(l + 1, ',') + 1, ',') + 1; /* third column: order_id */
        long long id = atoll(c);
        assert_true(id > 0 && id < 4096 && sent[id]);
        if (ts - sent[id] < best)
            best = ts - sent[id];
    }
    free(f);
    return best;
}

/* book.venues[].latency: a venue's own order-entry latency delays its fills
 * and only its fills. */
static void test_venue_latency(void **state)
{
    (void)state;
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/slow_alt.json", tmpdir);
    write_routing_config(cfg, NULL, "\"latency\": {\"order_entry_ns\": 300000000}");
    const char *const l[] = {cfg, "--set", "book.router.only_venue=lit", NULL};
    const char *const a[] = {cfg, "--set", "book.router.only_venue=alt", NULL};
    cJSON *sl = backtest("slow_lit", l), *sa = backtest("slow_alt", a);
    assert_true(num(sl, "n_fills") > 0 && num(sa, "n_fills") > 0);
    int64_t dl = min_fill_delay("slow_lit"), da = min_fill_delay("slow_alt");
    printf("smallest submit-to-fill delay: lit %lld ns, alt %lld ns\n", (long long)dl, (long long)da);
    assert_true(dl == 100000);    /* book.latency.order_entry_ns */
    assert_true(da == 300000000); /* alt's own */
    cJSON_Delete(sl);
    cJSON_Delete(sa);
}

/* L2 data (LEVEL_SET records, as Binance imports give): the router sees each
 * venue's levels. Two venues share a book with 10 lots at 101 and 10 at 102;
 * a market buy of 15 takes 10 + 5 at 101 across the venues. */
static void test_router_l2(void **state)
{
    (void)state;
    char data[512], lua[512], cfg[512];
    snprintf(data, sizeof data, "%s/l2.ticks.zst", tmpdir);
    snprintf(lua, sizeof lua, "%s/buy15.lua", tmpdir);
    snprintf(cfg, sizeof cfg, "%s/l2.json", tmpdir);
    brs_instrument in = {.price_scale = 100, .tick_size = 1, .lot_size = 1};
    snprintf(in.symbol, sizeof in.symbol, "L2X");
    brs_tick_writer *w;
    brs_error err = {0};
    if (brs__tick_writer_open(&w, data, &in, 1, NULL, &err))
        fail_msg("%s", err.msg);
    const int64_t t0 = INT64_C(1704205800000000000);
    for (int s = 0; s < 10; s++) { /* the same book, set again every second */
        static const struct { int side; int64_t px; } lv[] = {
            {BRS_BUY, 100}, {BRS_BUY, 99}, {BRS_SELL, 101}, {BRS_SELL, 102}};
        for (int k = 0; k < 4; k++) {
            brs_market_event e;
            memset(&e, 0, sizeof e);
            e.ts_exchange = e.ts_local = t0 + s * INT64_C(1000000000) + k;
            e.kind = BRS_MEV_LEVEL_SET;
            e.side = (uint8_t)lv[k].side;
            e.price = lv[k].px;
            e.qty = 10;
            e.flags = k == 3 ? BRS_MEVF_LAST : 0;
            assert_int_equal(brs__tick_writer_add(w, &e, &err), 0);
        }
    }
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
    FILE *f = fopen(lua, "w");
    assert_non_null(f);
    fputs("local sent = false\n"
          "return { on_top = function(ctx, t)\n"
          "  if not sent and t.bid_qty > 0 and t.ask_qty > 0 then sent = true; ctx:buy(15) end\n"
          "end }\n", f);
    fclose(f);
    f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f, "{\"mode\": \"book\", \"data\": \"%s\", \"strategy\": {\"file\": \"%s\"},\n"
               " \"book\": {\"router\": {\"enabled\": true}, \"latency\": {\"order_entry_ns\": 1000},\n"
               "  \"venues\": [{\"name\": \"a\", \"plugin\": \"sim\", \"params\": {\"venue_index\": 0, \"taker_fee_bps\": 1}},\n"
               "               {\"name\": \"b\", \"plugin\": \"sim\", \"params\": {\"venue_index\": 1, \"taker_fee_bps\": 1}}]}}\n",
            data, lua);
    fclose(f);
    const char *const a[] = {cfg, NULL};
    cJSON *sm = backtest("l2", a);
    printf("L2: filled a %g, b %g, cost %g bps\n", num(sm, "filled_qty_a"), num(sm, "filled_qty_b"),
           num(sm, "exec_cost_bps"));
    assert_true(num(sm, "filled_qty_a") + num(sm, "filled_qty_b") == 15);
    assert_true(num(sm, "filled_qty_a") > 0 && num(sm, "filled_qty_b") > 0);
    /* every lot at 101 against the arrival mid 100.5, plus the fee (1 bp, rounded
     * by the venue to the price unit) */
    double fee_bps = num(sm, "fees_paid") / (100.5 * 15 / 100) * 1e4;
    assert_true(fee_bps >= 0 && fee_bps <= 1.5);
    assert_true(fabs(num(sm, "exec_cost_bps") - (0.5 / 100.5 * 1e4 + fee_bps)) < 1e-6);
    cJSON_Delete(sm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_run_within_limit),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_gamma_zero_wider),
        cmocka_unit_test(test_spread_follows_volatility),
        cmocka_unit_test(test_lua_matches_c),
        cmocka_unit_test(test_routing_beats_single_venue),
        cmocka_unit_test(test_venue_own_files),
        cmocka_unit_test(test_venue_latency),
        cmocka_unit_test(test_router_l2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
