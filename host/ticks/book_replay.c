/* book_replay.c: `bourse ticks book`: replays the L3 and L2 events of one
 * instrument into the matching engine's book as a passive market book
 * (brs__engine_insert/reduce/delete: replayed orders never match each other)
 * and prints, after every source message (the event flagged LAST), one row in
 * LOBSTER's orderbook layout: AskP,AskSz,BidP,BidSz per level, empty levels as
 * LOBSTER writes them (ask 9999999999,0; bid -9999999999,0). A snapshot
 * (SNAPSHOT_BEGIN..END) rebuilds the book and prints no row of its own. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ticks/import.h"
#include "book/book.h"
#include "ticks/tickfile.h"
#include "ticks/ticks_cli.h"

/* L2 levels rest as one pseudo-order per side and price (top bit set; the
 * importers never use such ids). */
static uint64_t l2_id(uint8_t side, int64_t price)
{
    return (1ull << 63) | ((uint64_t)(side & 1) << 62) | ((uint64_t)price & ((1ull << 62) - 1));
}

typedef struct replay {
    brs_engine *eng;  /* one book: the replayed instrument is instrument 0 */
    uint64_t unknown; /* events on orders the book does not hold */
} replay;

static int rp_insert(replay *r, uint64_t id, int side, int64_t price, int64_t qty)
{
    int rc = brs__engine_insert(r->eng, 0, id, side, price, qty);
    if (rc == BRS_E_EXISTS || rc == BRS_E_INVAL) {
        r->unknown++;
        return BRS_OK;
    }
    return rc;
}

static int rp_apply(replay *r, const brs_market_event *e)
{
    switch (e->kind) {
    case BRS_MEV_SNAPSHOT_BEGIN:
        brs__engine_reset(r->eng);
        return BRS_OK;
    case BRS_MEV_ADD:
        return rp_insert(r, e->order_id, e->side & 1, e->price, e->qty);
    case BRS_MEV_CANCEL:
    case BRS_MEV_EXECUTE:
        if (brs__engine_reduce(r->eng, e->order_id, e->qty) != BRS_OK)
            r->unknown++;
        return BRS_OK;
    case BRS_MEV_MODIFY: {
        brs_order_info o;
        if (brs__engine_order(r->eng, e->order_id, &o) != BRS_OK) {
            r->unknown++;
            return BRS_OK;
        }
        uint64_t id = e->aux ? (uint64_t)e->aux : e->order_id;
        if (id == e->order_id && o.price == e->price && e->qty > 0 && e->qty <= o.leaves) {
            if (e->qty < o.leaves) /* a size decrease keeps the queue place */
                brs__engine_reduce(r->eng, e->order_id, o.leaves - e->qty);
            return BRS_OK;
        }
        brs__engine_delete(r->eng, e->order_id);
        return e->qty > 0 ? rp_insert(r, id, o.side & 1, e->price, e->qty) : BRS_OK;
    }
    case BRS_MEV_LEVEL_SET:
    case BRS_MEV_LEVEL_DELETE: {
        uint64_t id = l2_id(e->side, e->price);
        brs__engine_delete(r->eng, id); /* absent is fine */
        if (e->kind == BRS_MEV_LEVEL_SET && e->qty > 0)
            return rp_insert(r, id, e->side & 1, e->price, e->qty);
        return BRS_OK;
    }
    default:
        return BRS_OK;
    }
}

static void print_row(FILE *out, replay *r, size_t levels, brs_level *lv[2])
{
    size_t n[2];
    for (int s = 0; s < 2; s++)
        n[s] = brs__engine_depth(r->eng, 0, s, lv[s], levels);
    for (size_t i = 0; i < levels; i++) {
        if (i < n[BRS_SELL])
            fprintf(out, "%s%" PRId64 ",%" PRId64, i ? "," : "", lv[BRS_SELL][i].price, lv[BRS_SELL][i].qty);
        else
            fprintf(out, "%s9999999999,0", i ? "," : "");
        if (i < n[BRS_BUY])
            fprintf(out, ",%" PRId64 ",%" PRId64, lv[BRS_BUY][i].price, lv[BRS_BUY][i].qty);
        else
            fputs(",-9999999999,0", out);
    }
    fputc('\n', out);
}

int brs__cmd_ticks_book(int argc, char **argv)
{
    const char *path = NULL, *symbol = NULL, *format = "lobster";
    uint64_t levels = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (brs__is_help(a)) {
            printf("usage: bourse ticks book FILE [--levels N] [--format lobster] [--symbol S]\n\n"
                   "Replays the L3/L2 events of one instrument (default: the first) into a passive\n"
                   "book and prints one LOBSTER orderbook row (AskP,AskSz,BidP,BidSz per level) after\n"
                   "each source message. Empty levels print as LOBSTER does: 9999999999,0 for asks,\n"
                   "-9999999999,0 for bids. Prices are in the file's price units.\n");
            return BRS_EXIT_OK;
        } else if (!strcmp(a, "--levels")) {
            if (i + 1 >= argc || brs__parse_u64(argv[i + 1], &levels) || levels < 1 || levels > 1000)
                return brs__usage_error("ticks book", "--levels needs a number 1..1000");
            i++;
        } else if (!strcmp(a, "--format")) {
            if (i + 1 >= argc)
                return brs__usage_error("ticks book", "--format needs a value");
            format = argv[++i];
        } else if (!strcmp(a, "--symbol")) {
            if (i + 1 >= argc)
                return brs__usage_error("ticks book", "--symbol needs a value");
            symbol = argv[++i];
        } else if (a[0] == '-' && a[1])
            return brs__usage_error("ticks book", "unknown option '%s'", a);
        else if (path)
            return brs__usage_error("ticks book", "one FILE only");
        else
            path = a;
    }
    if (strcmp(format, "lobster"))
        return brs__usage_error("ticks book", "unknown format '%s' (lobster)", format);
    if (!path)
        return brs__usage_error("ticks book", "missing FILE");
    brs_tick_reader rd;
    brs_error err = {0};
    if (brs__tick_open(&rd, path, &err))
        return brs__fail("ticks book", "%s", err.msg);
    uint32_t instr = 0;
    if (symbol) {
        instr = UINT32_MAX;
        for (uint32_t i = 0; i < rd.n_instr; i++)
            if (!strcmp(rd.instr[i].symbol, symbol))
                instr = i;
        if (instr == UINT32_MAX) {
            brs__tick_close(&rd);
            return brs__fail("ticks book", "%s: no instrument '%s'", path, symbol);
        }
    }
    if (rd.cut)
        fprintf(stderr, "bourse ticks book: warning: %s was cut off at offset %llu; replaying its complete blocks\n",
                path, (unsigned long long)rd.data_end);
    replay r = {0};
    brs_level *lv[2] = {calloc((size_t)levels, sizeof(brs_level)), calloc((size_t)levels, sizeof(brs_level))};
    brs_engine_config cfg = {.max_instruments = 1};
    int rc = lv[0] && lv[1] ? brs__engine_create(&r.eng, &cfg, NULL, &err) : BRS_E_NOMEM;
    if (rc) {
        free(lv[0]);
        free(lv[1]);
        brs__tick_close(&rd);
        return brs__fail("ticks book", "%s", rc == BRS_E_NOMEM ? "out of memory" : err.msg);
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    const brs_market_event *e;
    while (!rc && (e = brs__tick_next(&rd))) {
        if (e->instrument != instr)
            continue;
        rc = rp_apply(&r, e);
        if (rc || !(e->flags & BRS_MEVF_LAST) || e->kind == BRS_MEV_SNAPSHOT_END)
            continue;
        print_row(stdout, &r, (size_t)levels, lv);
    }
    fflush(stdout);
    int code = BRS_EXIT_OK;
    if (rc)
        code = brs__fail("ticks book", "%s: replay failed: %s%s", path, brs_strerror(rc),
                         rc == BRS_E_LIMIT ? " (more resting orders than the engine's pool)" : "");
    else if (rd.iter_err.code)
        code = brs__fail("ticks book", "%s", rd.iter_err.msg);
    else if (rd.cut)
        code = BRS_EXIT_FAIL;
    if (r.unknown)
        fprintf(stderr, "bourse ticks book: %llu events referred to orders not in the book (ignored)\n",
                (unsigned long long)r.unknown);
    brs__engine_destroy(r.eng);
    free(lv[0]);
    free(lv[1]);
    brs__tick_close(&rd);
    return code;
}
