/* book_replay.c: `bourse ticks book`: replays the L3 and L2 events of one
 * instrument into a passive order book (replayed orders never match each other)
 * and prints, after every source message (the event flagged LAST), one row in
 * LOBSTER's orderbook layout: AskP,AskSz,BidP,BidSz per level, empty levels as
 * LOBSTER writes them (ask 9999999999,0; bid -9999999999,0). A snapshot
 * (SNAPSHOT_BEGIN..END) rebuilds the book and prints no row of its own. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ticks/import.h"
#include "ticks/lbook.h"
#include "ticks/tickfile.h"
#include "ticks/ticks_cli.h"

/* L2 levels rest as one pseudo-order per side and price (top bit set; the
 * importers never use such ids). */
static uint64_t l2_id(uint8_t side, int64_t price)
{
    return (1ull << 63) | ((uint64_t)(side & 1) << 62) | ((uint64_t)price & ((1ull << 62) - 1));
}

typedef struct replay {
    brs_lbook book;
    uint64_t unknown; /* events on orders the book does not hold */
} replay;

static void rp_reduce(replay *r, uint64_t id, int64_t qty)
{
    brs_lorder *o = brs__lb_find(&r->book, id);
    if (!o) {
        r->unknown++;
        return;
    }
    brs__lb_reduce(&r->book, o, qty < o->qty ? qty : o->qty);
}

static void rp_delete(replay *r, uint64_t id)
{
    brs_lorder *o = brs__lb_find(&r->book, id);
    if (o)
        brs__lb_reduce(&r->book, o, o->qty);
}

static int rp_apply(replay *r, const brs_market_event *e)
{
    switch (e->kind) {
    case BRS_MEV_SNAPSHOT_BEGIN:
        brs__lb_free(&r->book);
        memset(&r->book, 0, sizeof r->book);
        return BRS_OK;
    case BRS_MEV_ADD:
        if (e->qty <= 0 || brs__lb_find(&r->book, e->order_id)) {
            r->unknown++;
            return BRS_OK;
        }
        return brs__lb_add(&r->book, e->order_id, e->side & 1, e->price, e->qty);
    case BRS_MEV_CANCEL:
    case BRS_MEV_EXECUTE:
        rp_reduce(r, e->order_id, e->qty);
        return BRS_OK;
    case BRS_MEV_MODIFY: {
        brs_lorder *o = brs__lb_find(&r->book, e->order_id);
        if (!o) {
            r->unknown++;
            return BRS_OK;
        }
        uint64_t id = e->aux ? (uint64_t)e->aux : e->order_id;
        if (id == e->order_id && o->price == e->price && e->qty <= o->qty && e->qty > 0) {
            brs__lb_reduce(&r->book, o, o->qty - e->qty);
            return BRS_OK;
        }
        uint8_t side = o->side;
        brs__lb_reduce(&r->book, o, o->qty);
        return e->qty > 0 ? brs__lb_add(&r->book, id, side, e->price, e->qty) : BRS_OK;
    }
    case BRS_MEV_LEVEL_SET:
    case BRS_MEV_LEVEL_DELETE: {
        uint64_t id = l2_id(e->side, e->price);
        rp_delete(r, id);
        if (e->kind == BRS_MEV_LEVEL_SET && e->qty > 0)
            return brs__lb_add(&r->book, id, e->side & 1, e->price, e->qty);
        return BRS_OK;
    }
    default:
        return BRS_OK;
    }
}

static int cmp_lv(const void *a, const void *b)
{
    int64_t x = ((const brs_llevel *)a)->price, y = ((const brs_llevel *)b)->price;
    return x < y ? -1 : x > y;
}

static void print_row(FILE *out, replay *r, size_t levels, brs_llevel *scratch[2])
{
    size_t n[2];
    for (int s = 0; s < 2; s++) {
        n[s] = r->book.nlv[s];
        if (n[s]) { /* an empty side may have no arrays at all */
            memcpy(scratch[s], r->book.lv[s], n[s] * sizeof **scratch);
            qsort(scratch[s], n[s], sizeof **scratch, cmp_lv);
        }
    }
    for (size_t i = 0; i < levels; i++) {
        if (i < n[BRS_SELL])
            fprintf(out, "%s%" PRId64 ",%" PRId64, i ? "," : "", scratch[BRS_SELL][i].price,
                    scratch[BRS_SELL][i].qty);
        else
            fprintf(out, "%s9999999999,0", i ? "," : "");
        if (i < n[BRS_BUY])
            fprintf(out, ",%" PRId64 ",%" PRId64, scratch[BRS_BUY][n[BRS_BUY] - 1 - i].price,
                    scratch[BRS_BUY][n[BRS_BUY] - 1 - i].qty);
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
    brs_llevel *scratch[2] = {NULL, NULL};
    size_t scap = 0;
    int rc = BRS_OK;
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    const brs_market_event *e;
    while (!rc && (e = brs__tick_next(&rd))) {
        if (e->instrument != instr)
            continue;
        rc = rp_apply(&r, e);
        if (rc || !(e->flags & BRS_MEVF_LAST) || e->kind == BRS_MEV_SNAPSHOT_END)
            continue;
        size_t need = r.book.nlv[0] > r.book.nlv[1] ? r.book.nlv[0] : r.book.nlv[1];
        if (need > scap) {
            scap = need * 2;
            for (int s = 0; s < 2; s++) {
                brs_llevel *ns = realloc(scratch[s], scap * sizeof *ns);
                if (!ns) {
                    rc = BRS_E_NOMEM;
                    break;
                }
                scratch[s] = ns;
            }
            if (rc)
                break;
        }
        print_row(stdout, &r, (size_t)levels, scratch);
    }
    fflush(stdout);
    int code = BRS_EXIT_OK;
    if (rc)
        code = brs__fail("ticks book", "%s: replay failed: %s", path, brs_strerror(rc));
    else if (rd.iter_err.code)
        code = brs__fail("ticks book", "%s", rd.iter_err.msg);
    else if (rd.cut)
        code = BRS_EXIT_FAIL;
    if (r.unknown)
        fprintf(stderr, "bourse ticks book: %llu events referred to orders not in the book (ignored)\n",
                (unsigned long long)r.unknown);
    brs__lb_free(&r.book);
    free(scratch[0]);
    free(scratch[1]);
    brs__tick_close(&rd);
    return code;
}
