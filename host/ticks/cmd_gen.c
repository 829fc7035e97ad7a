/* cmd_gen.c: `bourse gen`: writes a synthetic market to a tick file (demo data,
 * benchmark inputs). Options only; the same options give the same bytes. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "gen.h"
#include "ticks/ticks_cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse gen [--bars] [--seed S] [--events N] [--symbols K] [--rate M]\n"
            "                  [--vol V [--regime T] [--calm-vol C]] [--block-records R] [--level L] [--plain] -o FILE\n\n"
            "Writes a deterministic synthetic L3 market (.ticks.zst): Poisson arrivals, limit orders\n"
            "around a random-walk mid, cancels outnumbering trades, occasional marketable orders and\n"
            "sweeps (EXECUTE + TRADE). The same options give a byte-identical file everywhere.\n"
            "Without --vol the mid barely moves (one tick now and then, inside the spread); with\n"
            "--vol it diffuses at that volatility and the book follows: a mid moving through\n"
            "resting orders takes them (EXECUTE + TRADE), cancels prefer orders it left behind.\n"
            "With --bars: N one-minute OHLCV bars instead (a random walk per symbol from seed S,\n"
            "stored as compact bar blocks; `bench backtest` uses --bars --seed 7).\n\n"
            "  --seed S           PRNG seed (default 1)\n"
            "  --events N         number of records (default 100000)\n"
            "  --symbols K        instruments GEN000..GEN<K-1> (default 1, at most 1000)\n"
            "  --rate M           mean messages per second over the whole market (default 1000)\n"
            "  --vol V            mid volatility: standard deviation of its moves in basis points\n"
            "                     per sqrt(minute), e.g. 20 (x sqrt(60) per hour; decimals to 0.001;\n"
            "                     0 or absent: the quiet walk above, same bytes as before --vol)\n"
            "  --regime T         with --vol: alternate calm and volatile stretches of mean length\n"
            "                     T seconds (exponential lengths, starting calm); volatile at V\n"
            "  --calm-vol C       volatility of the calm stretches, bp per sqrt(minute) (default, or 0: V/4)\n"
            "  --block-records R  records per compressed block (default 16384)\n"
            "  --level L          zstd level (default 3)\n"
            "  --plain            64-byte records in every block (format version 1, what\n"
            "                     builds before compact blocks read); default: compact columns\n"
            "  -o, --output FILE  output file (written atomically)\n");
}

int brs__parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return BRS_E_PARSE;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return BRS_E_PARSE;
    *out = v;
    return BRS_OK;
}

/* A non-negative decimal with up to three decimals, in thousandths ("12.5" -> 12500). */
static int parse_milli(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    int frac = -1, any = 0;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || frac == 3)
            return BRS_E_PARSE;
        v = v * 10 + (uint64_t)(*s - '0');
        any = 1;
        if (frac >= 0)
            frac++;
        if (v > max * 1000)
            return BRS_E_RANGE;
    }
    for (int k = frac < 0 ? 0 : frac; k < 3; k++)
        v *= 10;
    if (!any || v > max * 1000)
        return any ? BRS_E_RANGE : BRS_E_PARSE;
    *out = v;
    return BRS_OK;
}

int brs__cmd_gen(int argc, char **argv)
{
    brs_gen_opts o = {.seed = 1, .events = 100000, .symbols = 1};
    const char *out = NULL;
    int bars = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (brs__is_help(a)) {
            usage(stdout);
            return BRS_EXIT_OK;
        }
        if (strcmp(a, "--bars") == 0) {
            bars = 1;
            continue;
        }
        if (strcmp(a, "--plain") == 0) {
            o.writer.plain_bars = o.writer.plain_events = 1;
            continue;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i >= argc)
                return brs__usage_error("gen", "%s needs a file", a);
            out = argv[i];
            continue;
        }
        if (strcmp(a, "--vol") == 0 || strcmp(a, "--calm-vol") == 0 || strcmp(a, "--regime") == 0) {
            /* bp per sqrt(minute) up to 10000; regime seconds up to one hour */
            uint64_t max = strcmp(a, "--regime") == 0 ? 3600 : 10000;
            if (i + 1 >= argc || parse_milli(argv[i + 1], max, &v))
                return brs__usage_error("gen", "%s needs a number 0..%llu (up to 3 decimals)", a,
                                        (unsigned long long)max);
            i++;
            if (strcmp(a, "--vol") == 0)
                o.vol = v;
            else if (strcmp(a, "--calm-vol") == 0)
                o.calm_vol = v;
            else
                o.regime_ns = v * 1000000; /* ms -> ns */
            continue;
        }
        if (strcmp(a, "--seed") && strcmp(a, "--events") && strcmp(a, "--symbols") && strcmp(a, "--rate") &&
            strcmp(a, "--block-records") && strcmp(a, "--level"))
            return brs__unknown_option("gen", a, usage);
        if (i + 1 >= argc || brs__parse_u64(argv[i + 1], &v))
            return brs__usage_error("gen", "%s needs a non-negative integer", a);
        i++;
        if (strcmp(a, "--seed") == 0)
            o.seed = v;
        else if (strcmp(a, "--events") == 0)
            o.events = v;
        else if (strcmp(a, "--rate") == 0) {
            if (v < 1 || v > 1000000000)
                return brs__usage_error("gen", "--rate must be 1..1000000000");
            o.rate = v;
        }
        else if (strcmp(a, "--symbols") == 0) {
            if (v < 1 || v > 1000)
                return brs__usage_error("gen", "--symbols must be 1..1000");
            o.symbols = (uint32_t)v;
        } else if (strcmp(a, "--block-records") == 0) {
            if (v < 1 || v > BRS_TICK_MAX_BLOCK_RECORDS)
                return brs__usage_error("gen", "--block-records must be 1..%u", BRS_TICK_MAX_BLOCK_RECORDS);
            o.writer.block_records = (uint32_t)v;
        } else {
            if (v < 1 || v > 22)
                return brs__usage_error("gen", "--level must be 1..22");
            o.writer.level = (int)v;
        }
    }
    if (!out)
        return brs__usage_error("gen", "missing -o FILE");
    if (bars && (o.vol || o.calm_vol || o.regime_ns))
        return brs__usage_error("gen", "--vol, --regime and --calm-vol are for L3 markets, not --bars");
    if (!o.vol && (o.calm_vol || o.regime_ns))
        return brs__usage_error("gen", "--regime and --calm-vol need --vol");
    o.writer.atomic = 1;
    brs_error err = {0};
    if (brs__check_out_file(out, &err)) /* before generating, not after */
        return brs__fail("gen", "%s", err.msg);
    if ((bars ? brs__gen_bars_file : brs__gen_file)(out, &o, &err))
        return brs__fail("gen", "%s", err.msg);
    /* say what was written, as `ticks import` does */
    struct stat st;
    uint32_t k = o.symbols ? o.symbols : 1;
    fprintf(stderr, "wrote %s: %llu %s, %u instrument%s", out, (unsigned long long)o.events,
            bars ? "bars" : "events", k, k == 1 ? "" : "s");
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
        fprintf(stderr, ", %lld bytes", (long long)st.st_size);
    fputc('\n', stderr);
    return BRS_EXIT_OK;
}
