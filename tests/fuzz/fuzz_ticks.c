/* fuzz_ticks.c: libFuzzer target for tick files (host/ticks). The first byte
 * picks what the rest of the input is:
 *   0: a compact bar block payload, decoded directly (the decoder must refuse
 *      what is malformed, never read or write out of bounds);
 *   1: 64-byte records, written through the writer (compact bar blocks where
 *      every record of a block is a BAR) and read back: the round trip must be
 *      bit-exact, whatever the field values;
 *   2: a whole file: opened, iterated, seeked and verified (every damage must
 *      end in an error, never a crash);
 *   3: a compact event block payload (TCOL), decoded directly, as 0.
 * Round trips write other blocks as compact event blocks unless the input's
 * second byte has bit 2 set (64-byte records).
 * Built with clang by `make fuzz-ticks`; tests/fuzz/CMakeLists.txt runs the seed
 * corpus (tests/fuzz/corpus-ticks) through it as an ordinary test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ticks/tickfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 512

static void die(const char *what, size_t i)
{
    fprintf(stderr, "fuzz_ticks: %s (record %zu)\n", what, i);
    abort();
}

static const char *scratch_path(void)
{
    static char path[128];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/brs_fuzz_ticks_%d.ticks.zst", (int)getpid());
    return path;
}

static int write_file(const uint8_t *p, size_t n)
{
    FILE *f = fopen(scratch_path(), "wb");
    if (!f)
        return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void decode_payload(const uint8_t *p, size_t n, int events)
{
    if (n < 2)
        return;
    uint32_t count = 1 + ((uint32_t)p[0] | (uint32_t)p[1] << 8) % MAX_RECORDS;
    p += 2, n -= 2;
    unsigned char *in = malloc(n + 8); /* the decoder may read 8 bytes past */
    brs_market_event *out = malloc(count * sizeof *out);
    if (!in || !out)
        abort();
    memcpy(in, p, n);
    memset(in + n, 0, 8);
    brs_barblock_stats st;
    const char *why = NULL;
    int rc = events ? brs__evblock_decode(in, n, count, out, &why)
                    : brs__barblock_decode(in, n, count, out, &st, &why);
    if (rc != BRS_OK && !why)
        die("decode refused without saying why", 0);
    free(in);
    free(out);
}

static void round_trip(const uint8_t *p, size_t n)
{
    if (n < 2)
        return;
    uint32_t n_instr = 1 + p[0] % 3;
    int plain_events = (p[0] >> 2) & 1;
    int bars = p[1] & 1, plain = (p[1] >> 1) & 1;
    uint32_t block = 1 + (p[1] >> 2); /* small blocks: several per input */
    p += 2, n -= 2;
    size_t nrec = n / sizeof(brs_market_event);
    if (nrec == 0 || nrec > MAX_RECORDS)
        return;
    brs_market_event *ev = malloc(nrec * sizeof *ev);
    if (!ev)
        abort();
    memcpy(ev, p, nrec * sizeof *ev);
    for (size_t i = 0; i < nrec; i++) {
        ev[i].instrument %= n_instr;
        if (bars)
            ev[i].kind = BRS_MEV_BAR;
    }
    brs_instrument in[3] = {{.id = 0, .symbol = "A", .price_scale = 100, .tick_size = 1, .lot_size = 1},
                            {.id = 1, .symbol = "B", .price_scale = 100, .tick_size = 1, .lot_size = 1},
                            {.id = 2, .symbol = "C", .price_scale = 100, .tick_size = 1, .lot_size = 1}};
    brs_tick_writer_opts o = {.block_records = block, .level = 1, .plain_bars = plain,
                              .plain_events = plain_events};
    brs_tick_writer *w;
    brs_error err = {0};
    if (brs__tick_writer_open(&w, scratch_path(), in, n_instr, &o, &err) != BRS_OK)
        die(err.msg, 0);
    for (size_t i = 0; i < nrec; i++)
        if (brs__tick_writer_add(w, &ev[i], &err) != BRS_OK)
            die(err.msg, i);
    if (brs__tick_writer_close(w, &err) != BRS_OK)
        die(err.msg, 0);
    brs_tick_reader r;
    if (brs__tick_open(&r, scratch_path(), &err) != BRS_OK)
        die(err.msg, 0);
    size_t i = 0;
    const brs_market_event *e;
    while ((e = brs__tick_next(&r))) {
        if (i >= nrec)
            die("more records read than written", i);
        if (memcmp(e, &ev[i], sizeof *e) != 0)
            die("record read back differs", i);
        i++;
    }
    if (r.iter_err.code != BRS_OK)
        die(r.iter_err.msg, i);
    if (i != nrec)
        die("fewer records read than written", i);
    brs__tick_close(&r);
    free(ev);
}

static void read_file(const uint8_t *p, size_t n)
{
    if (write_file(p, n) != 0)
        return;
    brs_tick_reader r;
    brs_error err = {0};
    if (brs__tick_open(&r, scratch_path(), &err) == BRS_OK) {
        uint64_t k = 0;
        int64_t last = 0;
        const brs_market_event *e;
        while ((e = brs__tick_next(&r)) && k < 100000)
            last = e->ts_exchange, k++;
        if (r.n_blocks && brs__tick_seek(&r, last, &err) == BRS_OK)
            while (brs__tick_next(&r) && k < 200000)
                k++;
        brs__tick_close(&r);
    } else if (!err.msg[0]) {
        die("open refused without a message", 0);
    }
    uint32_t ok = 0;
    uint64_t events = 0;
    brs_error verr = {0};
    if (brs__tick_verify(scratch_path(), &ok, &events, &verr) != BRS_OK && !verr.msg[0])
        die("verify refused without a message", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0: decode_payload(data + 1, size - 1, 0); break;
    case 1: round_trip(data + 1, size - 1); break;
    case 2: read_file(data + 1, size - 1); break;
    default: decode_payload(data + 1, size - 1, 1); break;
    }
    return 0;
}
