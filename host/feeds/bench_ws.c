/* bench_ws.c: `bourse bench ws`: Binance depth-update messages per second
 * through JSON parse, sync checks and L2 book update on one core, on the real
 * recorded session when it is found (else on generated messages). Host-side
 * (uses the bench harness); the code measured is the bourse_feeds library the
 * venue plugin and the recorder run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/core.h"
#include "feeds/binance.h"

typedef struct msg {
    const char *j;
    size_t n;
} msg;

typedef struct load {
    char *ws, *http;   /* file contents (recorded) */
    char *gen;         /* generated text */
    msg *m;
    size_t nm, capm;
    char snap_sym[64][BRS_SYMBOL_MAX];
    msg snap[64];
    int nsnap;
    uint64_t levels;   /* levels in all depth messages */
} load;

static int add_msg(load *L, const char *j, size_t n)
{
    if (L->nm == L->capm) {
        size_t nc = L->capm ? L->capm * 2 : 1024;
        msg *nm = realloc(L->m, nc * sizeof *nm);
        if (!nm)
            return -1;
        L->m = nm;
        L->capm = nc;
    }
    L->m[L->nm++] = (msg){j, n};
    return 0;
}

static int load_recorded(load *L, const char *dir, brs_error *err)
{
    char p1[4096], p2[4096];
    size_t n1, n2;
    snprintf(p1, sizeof p1, "%s/cryptofeed_BINANCE_FUTURES.ws.1.0", dir);
    snprintf(p2, sizeof p2, "%s/cryptofeed_BINANCE_FUTURES.http.0.0", dir);
    if (brs__read_file(p1, &L->ws, &n1, err) || brs__read_file(p2, &L->http, &n2, err))
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        char *t = pass ? L->ws : L->http;
        for (char *line = t; *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            int kind;
            int64_t ns;
            const char *j;
            size_t jl;
            char sym[BRS_SYMBOL_MAX];
            if (brs__bn_split_record(line, len, &kind, &ns, &j, &jl, sym) == BRS_OK) {
                if (kind == 'H' && L->nsnap < 64) {
                    snprintf(L->snap_sym[L->nsnap], BRS_SYMBOL_MAX, "%s", sym);
                    L->snap[L->nsnap++] = (msg){j, jl};
                } else if (kind == 'W' && memmem(j, jl, "\"depthUpdate\"", 13)) {
                    if (add_msg(L, j, jl))
                        return -1;
                }
            }
            line = nl ? nl + 1 : line + len;
        }
    }
    return L->nm > 0 && L->nsnap > 0 ? 0 : -1;
}

/* A deterministic synthetic stream: one symbol, a random-walk mid, 10 levels
 * changed per message (some deletes), chained U/u/pu. */
static int load_generated(load *L, size_t nmsg)
{
    size_t cap = nmsg * 420 + 64 * 1024;
    L->gen = malloc(cap);
    if (!L->gen)
        return -1;
    uint64_t x = 42;
#define RND() (x = x * 6364136223846793005ULL + 1442695040888963407ULL, (uint32_t)(x >> 33))
    size_t off = 0;
    int64_t mid = 2000000; /* 200.0000 at 4 decimals */
    char *s0 = L->gen + off;
    off += (size_t)snprintf(L->gen + off, cap - off, "{\"lastUpdateId\":1000,\"bids\":[");
    for (int i = 0; i < 500; i++)
        off += (size_t)snprintf(L->gen + off, cap - off, "%s[\"%lld.%04lld\",\"%u\"]", i ? "," : "",
                                (long long)((mid - 1 - i) / 10000), (long long)((mid - 1 - i) % 10000),
                                1 + RND() % 500);
    off += (size_t)snprintf(L->gen + off, cap - off, "],\"asks\":[");
    for (int i = 0; i < 500; i++)
        off += (size_t)snprintf(L->gen + off, cap - off, "%s[\"%lld.%04lld\",\"%u\"]", i ? "," : "",
                                (long long)((mid + 1 + i) / 10000), (long long)((mid + 1 + i) % 10000),
                                1 + RND() % 500);
    off += (size_t)snprintf(L->gen + off, cap - off, "]}");
    snprintf(L->snap_sym[0], BRS_SYMBOL_MAX, "GENUSDT");
    L->snap[0] = (msg){s0, (size_t)(L->gen + off - s0)};
    L->nsnap = 1;
    uint64_t u = 1000;
    for (size_t k = 0; k < nmsg; k++) {
        mid += (int64_t)(RND() % 3) - 1;
        char *m0 = L->gen + off;
        uint64_t U = u + 1, nu = u + 1 + RND() % 50;
        off += (size_t)snprintf(L->gen + off, cap - off,
                                "{\"stream\":\"genusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\","
                                "\"E\":%llu,\"T\":%llu,\"s\":\"GENUSDT\",\"U\":%llu,\"u\":%llu,"
                                "\"pu\":%llu,\"b\":[",
                                1700000000000ULL + k, 1700000000000ULL + k, (unsigned long long)U,
                                (unsigned long long)nu, (unsigned long long)u);
        for (int side = 0; side < 2; side++) {
            for (int i = 0; i < 5; i++) {
                int64_t p = side == 0 ? mid - 1 - (int64_t)(RND() % 40) : mid + 1 + (int64_t)(RND() % 40);
                unsigned q = RND() % 4 == 0 ? 0 : 1 + RND() % 900;
                off += (size_t)snprintf(L->gen + off, cap - off, "%s[\"%lld.%04lld\",\"%u\"]",
                                        i ? "," : "", (long long)(p / 10000), (long long)(p % 10000), q);
            }
            off += (size_t)snprintf(L->gen + off, cap - off, side == 0 ? "],\"a\":[" : "]}}");
        }
        u = nu;
        if (add_msg(L, m0, (size_t)(L->gen + off - m0)))
            return -1;
    }
#undef RND
    return 0;
}

static int nop_sink(void *ud, const brs_market_event *ev)
{
    (*(uint64_t *)ud) += (uint64_t)ev->price;
    return 0;
}

int brs__bench_ws(int argc, char **argv)
{
    int json = 0, gen = 0;
    const char *dir = NULL;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--generated") == 0)
            gen = 1;
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
            if (!(seconds > 0))
                return brs__usage_error("bench ws", "--seconds wants a positive number");
        } else if (brs__is_help(argv[i])) {
            printf("usage: bourse bench ws [--data DIR | --generated] [--seconds S] [--json]\n\n"
                   "Depth-update messages per second through parse, sync checks and L2 book\n"
                   "update on one core. DIR holds cryptofeed_BINANCE_FUTURES.{ws.1.0,http.0.0}\n"
                   "(default: $BOURSE_DATA_DIR/binance, then ../shared/data/binance); without\n"
                   "them, generated messages (10 levels each) are used.\n");
            return BRS_EXIT_OK;
        } else
            return brs__usage_error("bench ws", "unknown option '%s'", argv[i]);
    }
    load L;
    memset(&L, 0, sizeof L);
    brs_error e = {0};
    char dbuf[4096];
    if (!dir && getenv("BOURSE_DATA_DIR")) {
        snprintf(dbuf, sizeof dbuf, "%s/binance", getenv("BOURSE_DATA_DIR"));
        dir = dbuf;
    }
    if (!dir)
        dir = "../shared/data/binance";
    const char *source = "recorded";
    if (gen || load_recorded(&L, dir, &e) != 0) {
        if (!gen && !json)
            fprintf(stderr, "bench ws: no recorded session in %s: using generated messages\n", dir);
        free(L.ws);
        free(L.http);
        free(L.m);
        memset(&L, 0, sizeof L);
        if (load_generated(&L, 20000) != 0)
            return brs__fail("bench ws", "out of memory");
        source = "generated";
    }
    uint64_t acc = 0;
    brs__bn_feed f;
    brs__bn_feed_init(&f, nop_sink, &acc);
    /* count the levels once (and warm up: books and scratch reach their size) */
    /* Timed in chunks of up to 512 messages: on a shared machine a chunk that was
     * preempted is an outlier the median ignores, where one long pass would not. */
    enum { CHUNK = 512, MAXS = 1 << 16 };
    static double samples[MAXS];
    size_t ns = 0;
    int64_t total = 0, a0 = -1, a1 = -1;
    uint64_t applied0 = 0;
    int passes = 0;
    for (int pass = -1; ns < MAXS; pass++) {
        for (int k = 0; k < L.nsnap; k++)
            if (brs__bn_feed_snapshot(&f, L.snap_sym[k], L.snap[k].j, L.snap[k].n, 1, &e))
                return brs__fail("bench ws", "snapshot: %s", e.msg);
        if (pass == 0)
            a0 = brs__alloc_count();
        for (size_t c = 0; c < L.nm; c += CHUNK) {
            size_t end = c + CHUNK < L.nm ? c + CHUNK : L.nm;
            int64_t t0 = brs__monotime_ns();
            for (size_t i = c; i < end; i++)
                if (brs__bn_feed_message(&f, L.m[i].j, L.m[i].n, 2, &e) != BRS_OK)
                    return brs__fail("bench ws", "message %zu: %s", i, e.msg);
            int64_t dt = brs__monotime_ns() - t0;
            if (pass >= 0 && ns < MAXS) {
                samples[ns++] = (double)(end - c) * 1e9 / (double)(dt > 0 ? dt : 1);
                total += dt;
            }
        }
        if (pass < 0) { /* warm-up pass: books and scratch reach their size */
            for (uint32_t s = 0; s < f.nsym; s++)
                applied0 += f.sym[s].n_applied;
            continue;
        }
        passes++;
        if (total >= (int64_t)(seconds * 1e9) && passes >= 5)
            break;
    }
    a1 = brs__alloc_count();
    uint64_t gaps = 0;
    for (uint32_t s = 0; s < f.nsym; s++)
        gaps += f.sym[s].n_gaps;
    BRS__KEEP(acc);
    brs__bn_feed_free(&f);
    brs_stats st;
    brs__stats_compute(samples, ns, &st);
    int64_t allocs = a0 < 0 ? -1 : a1 - a0;
    double ns_per = 1e9 / st.p50;
    if (BRS__BENCH_WANTS_JSON(json)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "bench", "ws");
        cJSON_AddStringToObject(o, "source", source);
        cJSON_AddNumberToObject(o, "messages_per_pass", (double)L.nm);
        cJSON_AddNumberToObject(o, "applied_per_pass", (double)applied0);
        cJSON_AddNumberToObject(o, "passes", (double)passes);
        cJSON_AddNumberToObject(o, "samples", (double)ns);
        cJSON_AddNumberToObject(o, "msgs_per_sec", st.p50);
        cJSON_AddNumberToObject(o, "msgs_per_sec_min", st.min);
        cJSON_AddNumberToObject(o, "msgs_per_sec_max", st.max);
        cJSON_AddNumberToObject(o, "ns_per_msg", ns_per);
        cJSON_AddNumberToObject(o, "allocs_timed", (double)allocs);
        cJSON_AddNumberToObject(o, "gaps", (double)gaps);
        brs__bench_json(o, json);
    }
    if (!json) {
        printf("bench ws: depth updates through parse + sync + L2 book, one core\n");
        printf("  source             %s (%zu depth messages per pass, %llu applied, %d passes)\n",
               source, L.nm, (unsigned long long)applied0, passes);
        printf("  messages/s         %.0f median of %zu chunks (min %.0f, max %.0f)\n", st.p50, ns,
               st.min, st.max);
        printf("  ns per message     %.0f\n", ns_per);
        printf("  allocations timed  %lld\n", (long long)allocs);
    }
    free(L.ws);
    free(L.http);
    free(L.gen);
    free(L.m);
    return gaps ? brs__fail("bench ws", "unexpected gaps in the workload") : BRS_EXIT_OK;
}
