/* cmd_ticks.c: `bourse ticks SUBCOMMAND`: import, info, cat, verify, book.
 * Reading commands stream through the tick reader; every damaged or cut file is
 * reported with the byte offset and a non-zero exit. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "ticks/import.h"
#include "ticks/l3check.h"
#include "ticks/tickfile.h"
#include "ticks/ticks_cli.h"

static void flags_str(uint16_t f, char *buf, size_t len)
{
    static const char *const names[] = {"last", "full", "hidden", "snapshot"};
    buf[0] = 0;
    size_t n = 0;
    for (unsigned i = 0; i < 4; i++)
        if (f & (1u << i))
            n += (size_t)snprintf(buf + n, len > n ? len - n : 0, "%s%s", n ? "|" : "", names[i]);
}

static const char *side_str(const brs_market_event *e)
{
    return e->side == BRS_BUY ? "buy" : e->side == BRS_SELL ? "sell" : "?";
}

static const char *symbol_of(const brs_tick_reader *r, uint32_t i)
{
    return i < r->n_instr ? r->instr[i].symbol : "?";
}

#define CAT_CSV_HEADER                                                                           \
    "ts_exchange,ts_local,kind,symbol,side,flags,price,qty,order_id,aux,"                      \
    "bid_price,bid_qty,ask_price,ask_qty,open,high,low,close,volume\n"

static void print_csv(FILE *out, const brs_tick_reader *r, const brs_market_event *e)
{
    char fl[64];
    flags_str(e->flags, fl, sizeof fl);
    fprintf(out, "%" PRId64 ",%" PRId64 ",%s,%s,%s,%s,", e->ts_exchange, e->ts_local,
            brs__mev_kind_name(e->kind), symbol_of(r, e->instrument), side_str(e), fl);
    if (e->kind == BRS_MEV_QUOTE)
        fprintf(out, ",,,,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",,,,,\n", e->quote.bid_price,
                e->quote.bid_qty, e->quote.ask_price, e->quote.ask_qty);
    else if (e->kind == BRS_MEV_BAR)
        fprintf(out, ",,,,,,,,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "\n",
                e->bar.open, e->bar.high, e->bar.low, e->bar.close, e->bar.volume);
    else
        fprintf(out, "%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRId64 ",,,,,,,,,\n", e->price, e->qty,
                e->order_id, e->aux);
}

/* Symbols as JSON strings, escaped once per file rather than per event. */
static char **json_symbols(const brs_tick_reader *r)
{
    char **v = calloc(r->n_instr + 1, sizeof *v);
    for (uint32_t i = 0; v && i <= r->n_instr; i++) {
        cJSON *s = cJSON_CreateString(i < r->n_instr ? r->instr[i].symbol : "?");
        v[i] = s ? cJSON_PrintUnformatted(s) : NULL;
        cJSON_Delete(s);
    }
    return v;
}

static void free_symbols(char **v, const brs_tick_reader *r)
{
    for (uint32_t i = 0; v && i <= r->n_instr; i++)
        cJSON_free(v[i]);
    free(v);
}

static void print_json(FILE *out, const brs_tick_reader *r, char **jsym, const brs_market_event *e)
{
    char fl[64];
    flags_str(e->flags, fl, sizeof fl);
    fprintf(out, "{\"ts_exchange\":%" PRId64 ",\"ts_local\":%" PRId64 ",\"kind\":\"%s\",\"symbol\":",
            e->ts_exchange, e->ts_local, brs__mev_kind_name(e->kind));
    const char *js = jsym ? jsym[e->instrument < r->n_instr ? e->instrument : r->n_instr] : NULL;
    fputs(js ? js : "\"?\"", out);
    fprintf(out, ",\"side\":\"%s\",\"flags\":\"%s\",", side_str(e), fl);
    if (e->kind == BRS_MEV_QUOTE)
        fprintf(out, "\"bid_price\":%" PRId64 ",\"bid_qty\":%" PRId64 ",\"ask_price\":%" PRId64
                     ",\"ask_qty\":%" PRId64 "}\n",
                e->quote.bid_price, e->quote.bid_qty, e->quote.ask_price, e->quote.ask_qty);
    else if (e->kind == BRS_MEV_BAR)
        fprintf(out, "\"open\":%" PRId64 ",\"high\":%" PRId64 ",\"low\":%" PRId64 ",\"close\":%" PRId64
                     ",\"volume\":%" PRId64 "}\n",
                e->bar.open, e->bar.high, e->bar.low, e->bar.close, e->bar.volume);
    else
        fprintf(out, "\"price\":%" PRId64 ",\"qty\":%" PRId64 ",\"order_id\":%" PRIu64 ",\"aux\":%" PRId64 "}\n",
                e->price, e->qty, e->order_id, e->aux);
}

/* Print the cut notice every reading command gives for a file without footer. */
static void report_cut(const char *cmd, const brs_tick_reader *r)
{
    if (r->cut)
        fprintf(stderr, "bourse %s: warning: %s was cut off: reading its %u complete blocks (%llu events) up to offset %llu (%s)\n",
                cmd, r->path, r->n_blocks, (unsigned long long)r->n_events,
                (unsigned long long)r->data_end, r->cut_msg);
}

static int cmd_cat(int argc, char **argv)
{
    const char *path = NULL, *symbol = NULL;
    int json = 0;
    int64_t from = INT64_MIN, to = INT64_MAX;
    uint32_t kinds = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (brs__is_help(a)) {
            printf("usage: bourse ticks cat FILE [--from T] [--to T] [--kind K[,K...]] [--symbol S] [--csv | --json]\n\n"
                   "Prints the records of FILE: CSV with a header (default) or one JSON object per line.\n"
                   "Times are ns since the epoch; T may be ns or ISO-8601 (2012-06-21T09:30:00Z).\n"
                   "Kinds: add cancel modify execute level_set level_delete trade quote bar status\n"
                   "snapshot_begin snapshot_end. Prices are integers in 1/price_scale units (see info).\n");
            return BRS_EXIT_OK;
        } else if (strcmp(a, "--csv") == 0)
            json = 0;
        else if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
            int64_t t;
            if (i + 1 >= argc || brs__parse_time(argv[i + 1], &t))
                return brs__usage_error("ticks cat", "%s needs a time (ns or ISO-8601)", a);
            *(strcmp(a, "--from") == 0 ? &from : &to) = t;
            i++;
        } else if (strcmp(a, "--kind") == 0) {
            if (i + 1 >= argc)
                return brs__usage_error("ticks cat", "--kind needs a kind");
            char *list = strdup(argv[++i]), *save = NULL;
            if (!list)
                return brs__fail("ticks cat", "out of memory");
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int k = brs__mev_kind_parse(t);
                if (k < 0) {
                    int code = brs__usage_error("ticks cat", "unknown kind '%s'", t);
                    free(list); /* t points into list */
                    return code;
                }
                kinds |= 1u << k;
            }
            free(list);
        } else if (strcmp(a, "--symbol") == 0) {
            if (i + 1 >= argc)
                return brs__usage_error("ticks cat", "--symbol needs a symbol");
            symbol = argv[++i];
        } else if (a[0] == '-' && a[1])
            return brs__usage_error("ticks cat", "unknown option '%s'", a);
        else if (path)
            return brs__usage_error("ticks cat", "one FILE only");
        else
            path = a;
    }
    if (!path)
        return brs__usage_error("ticks cat", "missing FILE");
    brs_tick_reader r;
    brs_error err = {0};
    if (brs__tick_open(&r, path, &err))
        return brs__fail("ticks cat", "%s", err.msg);
    report_cut("ticks cat", &r);
    int64_t want_instr = -1;
    if (symbol) {
        for (uint32_t i = 0; i < r.n_instr; i++)
            if (strcmp(r.instr[i].symbol, symbol) == 0)
                want_instr = i;
        if (want_instr < 0) {
            brs__tick_close(&r);
            return brs__fail("ticks cat", "%s: no instrument '%s' in the file", path, symbol);
        }
    }
    int rc = from != INT64_MIN ? brs__tick_seek(&r, from, &err) : 0;
    if (rc) {
        brs__tick_close(&r);
        return brs__fail("ticks cat", "%s", err.msg);
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (!json)
        fputs(CAT_CSV_HEADER, stdout);
    char **jsym = json ? json_symbols(&r) : NULL;
    const brs_market_event *e;
    while ((e = brs__tick_next(&r))) {
        if (e->ts_exchange < from || e->ts_exchange > to)
            continue;
        if (kinds && !(kinds & (1u << (e->kind < 32 ? e->kind : 0))))
            continue;
        if (want_instr >= 0 && e->instrument != (uint32_t)want_instr)
            continue;
        if (json)
            print_json(stdout, &r, jsym, e);
        else
            print_csv(stdout, &r, e);
    }
    fflush(stdout);
    free_symbols(jsym, &r);
    int code = BRS_EXIT_OK;
    if (r.iter_err.code)
        code = brs__fail("ticks cat", "%s", r.iter_err.msg);
    else if (r.cut)
        code = BRS_EXIT_FAIL; /* the data was printed, but the file is not whole */
    brs__tick_close(&r);
    return code;
}

static int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            printf("usage: bourse ticks info FILE [--json]\n\n"
                   "Instruments, counts per kind, time range, bytes and compression ratio of FILE.\n");
            return BRS_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return brs__usage_error("ticks info", "unknown option '%s'", argv[i]);
        else if (path)
            return brs__usage_error("ticks info", "one FILE only");
        else
            path = argv[i];
    }
    if (!path)
        return brs__usage_error("ticks info", "missing FILE");
    brs_tick_reader r;
    brs_error err = {0};
    if (brs__tick_open(&r, path, &err))
        return brs__fail("ticks info", "%s", err.msg);
    report_cut("ticks info", &r);
    uint64_t counts[BRS_MEV_KIND_COUNT_ + 1] = {0};
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (uint32_t b = 0; b < r.n_blocks; b++) {
        if (r.blocks[b].first_ts < tmin)
            tmin = r.blocks[b].first_ts;
        if (r.blocks[b].last_ts > tmax)
            tmax = r.blocks[b].last_ts;
    }
    const brs_market_event *e;
    while ((e = brs__tick_next(&r)))
        counts[e->kind < BRS_MEV_KIND_COUNT_ ? e->kind : BRS_MEV_KIND_COUNT_]++;
    uint64_t raw = r.n_events * BRS_TICK_RECORD_SIZE;
    double ratio = r.file_size ? (double)raw / (double)r.file_size : 0;
    char t0[40] = "-", t1[40] = "-";
    if (r.n_events) {
        brs__format_time(tmin, t0, sizeof t0);
        brs__format_time(tmax, t1, sizeof t1);
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddNumberToObject(o, "version", r.version);
        cJSON_AddBoolToObject(o, "cut", r.cut);
        cJSON_AddNumberToObject(o, "bytes", (double)r.file_size);
        cJSON_AddNumberToObject(o, "record_bytes", (double)raw);
        cJSON_AddNumberToObject(o, "compression_ratio", ratio);
        cJSON_AddNumberToObject(o, "blocks", r.n_blocks);
        cJSON_AddNumberToObject(o, "events", (double)r.n_events);
        cJSON_AddNumberToObject(o, "first_ts", r.n_events ? (double)tmin : 0);
        cJSON_AddNumberToObject(o, "last_ts", r.n_events ? (double)tmax : 0);
        cJSON *ins = cJSON_AddArrayToObject(o, "instruments");
        for (uint32_t i = 0; i < r.n_instr; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "symbol", r.instr[i].symbol);
            cJSON_AddNumberToObject(x, "price_scale", (double)r.instr[i].price_scale);
            cJSON_AddNumberToObject(x, "tick_size", (double)r.instr[i].tick_size);
            cJSON_AddNumberToObject(x, "lot_size", (double)r.instr[i].lot_size);
            cJSON_AddItemToArray(ins, x);
        }
        cJSON *k = cJSON_AddObjectToObject(o, "kinds");
        for (int i = 1; i <= BRS_MEV_KIND_COUNT_; i++)
            if (counts[i])
                cJSON_AddNumberToObject(k, brs__mev_kind_name(i), (double)counts[i]);
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(o);
    } else {
        printf("file:         %s%s\n", path, r.cut ? "  (CUT OFF: no index/footer)" : "");
        printf("format:       version %u, %u-byte records%s\n", r.version, BRS_TICK_RECORD_SIZE,
               r.version >= 3   ? " (blocks stored as compact columns)"
               : r.version == 2 ? " (blocks of bars stored compactly)"
                                : "");
        printf("events:       %llu in %u blocks\n", (unsigned long long)r.n_events, r.n_blocks);
        printf("time range:   %s .. %s\n", t0, t1);
        printf("bytes:        %llu on disk, %llu of records, compression ratio %.2f\n",
               (unsigned long long)r.file_size, (unsigned long long)raw, ratio);
        printf("instruments:  %u\n", r.n_instr);
        for (uint32_t i = 0; i < r.n_instr; i++)
            printf("  %-4u %-16s price_scale %lld  tick_size %lld  lot_size %lld\n", i, r.instr[i].symbol,
                   (long long)r.instr[i].price_scale, (long long)r.instr[i].tick_size,
                   (long long)r.instr[i].lot_size);
        printf("kinds:\n");
        for (int i = 1; i <= BRS_MEV_KIND_COUNT_; i++)
            if (counts[i])
                printf("  %-15s %llu\n", brs__mev_kind_name(i), (unsigned long long)counts[i]);
    }
    int code = BRS_EXIT_OK;
    if (r.iter_err.code)
        code = brs__fail("ticks info", "%s", r.iter_err.msg);
    brs__tick_close(&r);
    return code;
}

static int cmd_verify(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            printf("usage: bourse ticks verify FILE\n\n"
                   "Checks header, every block (header checksum, zstd frame and content checksum,\n"
                   "time range), the index and the footer, and that no instrument's events go back\n"
                   "in time on both clocks (ts_exchange and ts_local). Exit 0 only for an intact file; otherwise names the first damaged\n"
                   "block and its byte offset. Also follows the L3 orders and notes events that\n"
                   "name an order not in the book (a partial L3 stream, not damage).\n");
            return BRS_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1])
            return brs__usage_error("ticks verify", "unknown option '%s'", argv[i]);
        else if (path)
            return brs__usage_error("ticks verify", "one FILE only");
        else
            path = argv[i];
    }
    if (!path)
        return brs__usage_error("ticks verify", "missing FILE");
    uint32_t ok;
    uint64_t events;
    brs_error err = {0};
    brs_l3check l3 = {0};
    int rc = brs__tick_verify_full(path, &ok, &events, 1, &l3, &err);
    brs__l3check_free(&l3);
    if (rc)
        return brs__fail("ticks verify", "%s (%u intact blocks before it)", err.msg, ok);
    printf("%s: OK, %u blocks, %llu events\n", path, ok, (unsigned long long)events);
    if (l3.unknown || l3.duplicate || l3.overdrawn)
        printf("%s: note: the L3 stream is partial: %llu events name orders not in the book, %llu add "
               "an order already there, %llu take more than an order holds (first: event %llu)\n",
               path, (unsigned long long)l3.unknown, (unsigned long long)l3.duplicate,
               (unsigned long long)l3.overdrawn, (unsigned long long)l3.first_bad);
    return BRS_EXIT_OK;
}

static const struct {
    const char *name, *summary;
    int (*run)(int, char **);
} subs[] = {
    {"import", "convert LOBSTER, Yahoo, generic CSV or Binance recordings to a tick file", brs__cmd_ticks_import},
    {"info", "instruments, counts per kind, time range, size and compression", cmd_info},
    {"cat", "print records as CSV or JSON lines, filtered by time, kind, symbol", cmd_cat},
    {"verify", "check every block and the index; exit 0 only for an intact file", cmd_verify},
    {"book", "replay into the order book and print LOBSTER orderbook rows", brs__cmd_ticks_book},
};

int brs__cmd_ticks(int argc, char **argv)
{
    if (argc < 2 || brs__is_help(argv[1])) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: bourse ticks SUBCOMMAND [ARGS...]\n\nsubcommands:\n");
        for (size_t i = 0; i < BRS__ARRAY_LEN(subs); i++)
            fprintf(out, "  %-8s %s\n", subs[i].name, subs[i].summary);
        fprintf(out, "\nRun 'bourse ticks SUBCOMMAND --help' for its options.\n");
        return argc < 2 ? BRS_EXIT_USAGE : BRS_EXIT_OK;
    }
    for (size_t i = 0; i < BRS__ARRAY_LEN(subs); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return brs__usage_error("ticks", "unknown subcommand '%s'", argv[1]);
}
