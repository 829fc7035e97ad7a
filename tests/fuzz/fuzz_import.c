/* fuzz_import.c: libFuzzer target for the CSV importers (host/ticks: Yahoo
 * daily bars, LOBSTER message + orderbook files, generic trades/quotes with a
 * column mapping). The first byte picks the importer and, for the generic one,
 * the mapping; the rest is the file (for LOBSTER, the message file, then after
 * a line "@@" the orderbook file). An import either succeeds with events that
 * name known instruments (and write out, through the spill file past 2
 * events), or fails with a message that names the file. What was imported
 * passes `ticks verify` with the time-order check (importers refuse times
 * going backwards), and a LOBSTER import with its orderbook file has a
 * consistent L3 stream: no event names an order the book does not hold.
 * Built with clang by `make fuzz-import`; tests/fuzz/CMakeLists.txt runs the
 * seed corpus (tests/fuzz/corpus-import) through it as an ordinary test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "ticks/import.h"
#include "ticks/l3check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char msg_path[160], book_path[160], yahoo_path[160], csv_path[160], map_path[2][160];

static void put(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n)
        abort();
    fclose(f);
}

static void setup(void)
{
    if (dir[0])
        return;
    brs__log_min_level = BRS_LOG_OFF; /* warnings about odd files: not what is fuzzed */
    snprintf(dir, sizeof dir, "/tmp/brs_fuzz_import_%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(msg_path, sizeof msg_path, "%s/AAPL_2012-06-21_34200000_57600000_message_10.csv", dir);
    snprintf(book_path, sizeof book_path, "%s/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv", dir);
    snprintf(yahoo_path, sizeof yahoo_path, "%s/SPY.csv", dir);
    snprintf(csv_path, sizeof csv_path, "%s/data.csv", dir);
    snprintf(map_path[0], sizeof map_path[0], "%s/trades.json", dir);
    snprintf(map_path[1], sizeof map_path[1], "%s/quotes.json", dir);
    static const char trades[] =
        "{\"kind\": \"trade\", \"time_unit\": \"s\", \"price_scale\": 100, \"qty_scale\": 1000,"
        " \"columns\": {\"time\": \"when\", \"price\": \"px\", \"qty\": \"amount\", \"side\": \"taker\","
        " \"id\": \"id\", \"symbol\": \"pair\"}}";
    static const char quotes[] =
        "{\"kind\": \"quote\", \"time_unit\": \"iso\", \"symbol\": \"XYZ\", \"price_scale\": 100,"
        " \"columns\": {\"time\": \"t\", \"bid_price\": \"bp\", \"bid_qty\": \"bq\","
        " \"ask_price\": \"ap\", \"ask_qty\": \"aq\"}}";
    put(map_path[0], trades, sizeof trades - 1);
    put(map_path[1], quotes, sizeof quotes - 1);
}

/* path2: a second input file the refusal may name instead (LOBSTER's orderbook) */
static void check(const brs_import_sink *s, int rc, const brs_error *err, const char *path,
                  const char *path2)
{
    if (rc != BRS_OK) {
        const char *base = strrchr(path, '/') + 1, *base2 = path2 ? strrchr(path2, '/') + 1 : NULL;
        int named = strstr(err->msg, base) || (base2 && strstr(err->msg, base2));
        if (!err->msg[0] || (!named && rc != BRS_E_NOMEM)) {
            fprintf(stderr, "fuzz_import: refusal without the file name: '%s'\n", err->msg);
            abort(); /* a refusal names the file */
        }
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->ev[i].instrument >= s->n_instr || s->ev[i].kind >= BRS_MEV_KIND_COUNT_)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    setup();
    brs_import_sink s;
    memset(&s, 0, sizeof s);
    s.buf_max = 2; /* spill early: the temporary file path is fuzzed too */
    s.spill_dir = dir;
    brs_import_opts o;
    memset(&o, 0, sizeof o);
    brs_error err = {0};
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    int rc;
    const char *path;
    switch (data[0] % 4) {
    case 0:
        path = yahoo_path;
        put(path, body, n);
        rc = brs__import_yahoo(&s, path, &o, &err);
        break;
    case 1: {
        path = msg_path;
        const char *sep = NULL;
        for (size_t i = 0; i + 4 <= n && !sep; i++)
            if (memcmp(body + i, "\n@@\n", 4) == 0)
                sep = body + i;
        put(path, body, sep ? (size_t)(sep - body + 1) : n);
        if (sep) {
            put(book_path, sep + 4, n - (size_t)(sep + 4 - body));
            o.orderbook = book_path;
        }
        rc = brs__import_lobster(&s, path, &o, &err);
        break;
    }
    default:
        path = csv_path;
        put(path, body, n);
        o.mapping = map_path[data[0] % 4 - 2];
        rc = brs__import_csv(&s, path, &o, &err);
        break;
    }
    check(&s, rc, &err, path, path == msg_path ? book_path : NULL);
    if (rc == BRS_OK && s.total) { /* what was imported (spilled or not) writes out */
        char out[200];
        snprintf(out, sizeof out, "%s/out.ticks.zst", dir);
        if (brs__sink_write(&s, out, &(brs_tick_writer_opts){.atomic = 1}, &err) != BRS_OK) {
            fprintf(stderr, "fuzz_import: import succeeded but the write failed: '%s'\n", err.msg);
            abort();
        }
        uint32_t ok;
        uint64_t events;
        brs_l3check l3;
        memset(&l3, 0, sizeof l3);
        if (brs__tick_verify_full(out, &ok, &events, 1, &l3, &err) != BRS_OK) {
            fprintf(stderr, "fuzz_import: the imported file fails verify: '%s'\n", err.msg);
            abort();
        }
        if (o.orderbook && (l3.unknown || l3.duplicate || l3.overdrawn)) {
            fprintf(stderr, "fuzz_import: LOBSTER with orderbook: %llu events name unknown orders, %llu "
                            "duplicate adds, %llu overdrawn (first: event %llu)\n",
                    (unsigned long long)l3.unknown, (unsigned long long)l3.duplicate,
                    (unsigned long long)l3.overdrawn, (unsigned long long)l3.first_bad);
            abort();
        }
        brs__l3check_free(&l3);
    }
    brs__sink_free(&s);
    return 0;
}
