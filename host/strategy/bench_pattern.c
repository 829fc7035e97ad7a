/* bench_pattern.c: `bourse bench lua-pattern`: ns per call of typical
 * find/match/gmatch/gsub uses, stock Lua's string library against the
 * sandbox's budget-charging matcher (lua_pattern.c), with and without a budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <lualib.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/core.h"
#include "lua_internal.h"

typedef struct pcase {
    const char *name;
    long iters;
    const char *src; /* a loop of N calls; the loop costs the same in every state */
} pcase;

static const pcase cases[] = {
    {"match %d+ (12 B)", 200000, "local s = 'price=12345;' for i = 1, N do local x = s:match('%d+') end"},
    {"match ^(%w+)=(%w+)$", 200000,
     "local s = 'key=value' for i = 1, N do local a, b = s:match('^(%w+)=(%w+)$') end"},
    {"find plain (1 KB)", 100000,
     "local s = string.rep('abcdefghij', 100) .. 'needle' for i = 1, N do local a = s:find('needle', 1, true) end"},
    {"gsub %s+ (1 KB)", 5000, "local s = string.rep('word  word\\t', 90) for i = 1, N do local a = s:gsub('%s+', ' ') end"},
    {"gmatch %a+ (1 KB)", 5000,
     "local s = string.rep('alpha beta, ', 85) for i = 1, N do for w in s:gmatch('%a+') do end end"},
    {"gsub function (1 KB)", 2000,
     "local s = string.rep('x=1;y=22;', 110) for i = 1, N do local a = s:gsub('(%a)=(%d+)', function(k, v) return v end) end"},
};

enum { V_STOCK, V_FREE, V_BUDGET, N_VARIANTS };
static const char *const variant_names[] = {"stock", "sandbox", "sandbox_budget"};

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One timed run of case c in a fresh state: ns per call, or -1. */
static double run_once(const pcase *c, long iters, int variant, brs_error *err)
{
    brs__lua_strategy st;
    memset(&st, 0, sizeof st);
    st.mem_limit = (size_t)64 << 20;
    /* with a budget: the default 10M, far above what one run needs */
    st.instr_limit = variant == V_BUDGET ? (uint64_t)iters * 100000 : UINT64_MAX;
    lua_State *L;
    if (variant == V_STOCK) {
        L = luaL_newstate();
        if (L)
            luaL_openlibs(L);
    } else {
        L = brs__lua_sandbox_new(&st);
    }
    if (!L) {
        brs__err(err, BRS_E_NOMEM, "cannot create a Lua state");
        return -1;
    }
    lua_pushinteger(L, iters);
    lua_setglobal(L, "N");
    double r = -1;
    if (luaL_loadstring(L, c->src) != LUA_OK) {
        brs__err(err, BRS_E_STATE, "%s: %s", c->name, lua_tostring(L, -1));
    } else {
        int64_t t0 = cpu_ns();
        int st_call = lua_pcall(L, 0, 0, 0);
        int64_t t1 = cpu_ns();
        if (st_call != LUA_OK)
            brs__err(err, BRS_E_STATE, "%s (%s): %s", c->name, variant_names[variant], lua_tostring(L, -1));
        else
            r = (double)(t1 - t0) / (double)iters;
    }
    lua_close(L);
    return r;
}

int brs__bench_lua_pattern(int argc, char **argv)
{
    int json = 0, runs = 5;
    long div = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench lua-pattern [--runs R] [--quick] [--json]\n\n"
                   "ns per call (thread CPU time, median of R runs) of typical string.find/match/\n"
                   "gmatch/gsub uses: stock Lua's string library, the sandbox's matcher with no\n"
                   "budget, and with an instruction budget being charged (that column includes\n"
                   "the count hook's cost on the Lua loop around the calls). --quick: 1/100 of\n"
                   "the calls (for tests).\n");
            return BRS_EXIT_OK;
        } else if (!strcmp(argv[i], "--quick")) {
            div = 100;
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = (int)strtol(argv[++i], NULL, 10);
            if (runs < 1 || runs > 1000)
                return brs__usage_error("bench lua-pattern", "--runs must be 1..1000");
        } else
            return brs__usage_error("bench lua-pattern", "unknown option '%s'", argv[i]);
    }
    size_t nc = sizeof cases / sizeof *cases;
    double *samples = calloc((size_t)runs, sizeof *samples);
    double(*med)[N_VARIANTS] = calloc(nc, sizeof *med);
    if (!samples || !med) {
        free(samples);
        free(med);
        return brs__fail("bench lua-pattern", "out of memory");
    }
    brs_error err = {0};
    int code = BRS_EXIT_OK;
    for (size_t c = 0; c < nc && code == BRS_EXIT_OK; c++)
        for (int v = 0; v < N_VARIANTS && code == BRS_EXIT_OK; v++) {
            for (int r = 0; r < runs; r++) {
                samples[r] = run_once(&cases[c], cases[c].iters / div, v, &err);
                if (samples[r] < 0) {
                    code = brs__fail("bench lua-pattern", "%s", err.msg);
                    break;
                }
            }
            med[c][v] = brs__median(samples, (size_t)runs);
        }
    if (code == BRS_EXIT_OK && BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(o, "cases");
        cJSON_AddNumberToObject(o, "runs", runs);
        for (size_t c = 0; c < nc; c++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", cases[c].name);
            for (int v = 0; v < N_VARIANTS; v++) {
                char key[48];
                snprintf(key, sizeof key, "%s_ns", variant_names[v]);
                cJSON_AddNumberToObject(e, key, med[c][v]);
            }
            cJSON_AddItemToArray(arr, e);
        }
        brs__bench_json(o, json);
    }
    if (code == BRS_EXIT_OK && !json) {
        printf("%-24s %12s %12s %8s %14s %8s\n", "case (ns/call)", "stock", "sandbox", "ratio",
               "with budget", "ratio");
        for (size_t c = 0; c < nc; c++)
            printf("%-24s %12.1f %12.1f %7.2fx %14.1f %7.2fx\n", cases[c].name, med[c][V_STOCK],
                   med[c][V_FREE], med[c][V_FREE] / med[c][V_STOCK], med[c][V_BUDGET],
                   med[c][V_BUDGET] / med[c][V_STOCK]);
        printf("(median of %d runs, thread CPU time)\n", runs);
    }
    free(samples);
    free(med);
    return code;
}
