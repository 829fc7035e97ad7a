/* test_barblock.c: the compact bar block (tick format version 2, TBAR): bars
 * written compactly read back bit-identical to the 64-byte records (negative
 * prices, huge gaps, extreme values, several instruments in one file, partial
 * blocks, blocks mixing bars and other events), the file stays version 1
 * without bar blocks, and a malformed payload, a damaged or cut file, or a bar
 * block in a version 1 file gives an error naming the file and the offset
 * without crashing (random corruptions of the payload too, under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <zstd.h>

#include "test_util.h"
#include "core/core.h"
#include "ticks/le.h"
#include "ticks/tickfile.h"
#include "reframe.h"
#include "support/rng.h"

#define NB 1000

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void) { return brs_test_rand(&rng); }

/* Bars of three instruments, interleaved, with every awkward value we can
 * think of: negative prices and deltas, gaps of years, times going back,
 * local times before the exchange's, INT64 extremes, highs below the body. */
static void make_bars(brs_market_event *ev, size_t n)
{
    int64_t ts = -5000000000ll, px[3] = {100000, -250, 7};
    for (size_t i = 0; i < n; i++) {
        brs_market_event *e = &ev[i];
        memset(e, 0, sizeof *e);
        uint32_t in = (uint32_t)(i % 3 == 2 ? 2 : (i / 5) % 2);
        ts += i % 97 == 0 ? 31536000000000000ll : i % 41 == 0 ? -1000 : 60000000000ll;
        e->ts_exchange = ts;
        e->ts_local = i % 13 == 0 ? ts - 777 : i % 17 == 0 ? 0 : ts + (int64_t)(i % 5);
        e->kind = BRS_MEV_BAR;
        e->side = (uint8_t)(i % 11 == 0);
        e->flags = (uint16_t)(i % 19 == 0 ? 0xffff : i % 3);
        e->instrument = in;
        int64_t step = (int64_t)(next_rand() % 201) - 100;
        e->bar.open = px[in];
        e->bar.close = px[in] + step;
        e->bar.high = (e->bar.open > e->bar.close ? e->bar.open : e->bar.close) + (int64_t)(next_rand() % 9);
        e->bar.low = (e->bar.open < e->bar.close ? e->bar.open : e->bar.close) - (int64_t)(next_rand() % 9);
        e->bar.volume = (int64_t)(next_rand() % 100000);
        px[in] = e->bar.close;
        if (i == 300) { /* the extremes, deltas that wrap */
            e->bar.open = INT64_MIN;
            e->bar.close = INT64_MAX;
            e->bar.high = INT64_MIN;
            e->bar.low = INT64_MAX;
            e->bar.volume = -1;
            e->ts_local = INT64_MAX;
        }
        if (i == 301)
            e->bar.high = e->bar.low - 5; /* a broken bar is still stored exactly */
        if (i == 302) {
            e->ts_exchange = INT64_MIN;
            e->bar.volume = INT64_MIN;
        }
    }
}

static void write_events(const char *path, const brs_market_event *ev, size_t n, uint32_t block,
                         int plain)
{
    brs_instrument ins[3] = {{.symbol = "A", .price_scale = 100, .tick_size = 1, .lot_size = 1},
                             {.symbol = "B", .price_scale = 10000, .tick_size = 1, .lot_size = 1},
                             {.symbol = "C", .price_scale = 1, .tick_size = 1, .lot_size = 1}};
    /* other blocks as records: this file is about the bar block (test_evblock
     * has the compact event block) */
    brs_tick_writer_opts o = {.block_records = block, .plain_bars = plain, .plain_events = 1};
    brs_tick_writer *w;
    brs_error err = {0};
    assert_int_equal(brs__tick_writer_open(&w, path, ins, 3, &o, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(brs__tick_writer_add(w, &ev[i], &err), 0);
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
}

/* Read the whole file, with or without the read-ahead thread; compare. */
static void expect_same(const char *path, const brs_market_event *ev, size_t n, uint32_t version,
                        int ahead)
{
    brs_tick_reader r;
    brs_error err = {0};
    if (brs__tick_open(&r, path, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(r.version, version);
    assert_int_equal(r.n_events, n);
    if (ahead)
        assert_int_equal(brs__tick_readahead(&r, &err), 0);
    size_t i = 0;
    const brs_market_event *e;
    while ((e = brs__tick_next(&r))) {
        assert_true(i < n);
        if (memcmp(e, &ev[i], sizeof *e) != 0)
            fail_msg("%s: record %zu differs (ts %lld vs %lld, open %lld vs %lld)", path, i,
                     (long long)e->ts_exchange, (long long)ev[i].ts_exchange,
                     (long long)e->bar.open, (long long)ev[i].bar.open);
        i++;
    }
    assert_int_equal(r.iter_err.code, 0);
    assert_int_equal(i, n);
    brs__tick_close(&r);
    uint32_t ok;
    uint64_t cnt;
    if (brs__tick_verify(path, &ok, &cnt, &err))
        fail_msg("verify: %s", err.msg);
    assert_int_equal(cnt, n);
}

static void test_round_trip_exact(void **state)
{
    (void)state;
    brs_market_event *ev = malloc(NB * sizeof *ev);
    make_bars(ev, NB);
    char compact[512], plain[512];
    tmp_path(compact, sizeof compact, "bars-compact.ticks.zst");
    tmp_path(plain, sizeof plain, "bars-plain.ticks.zst");
    uint32_t blocks[] = {1, 2, 37, 1000, 4096};
    for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
        write_events(compact, ev, NB, blocks[k], 0);
        write_events(plain, ev, NB, blocks[k], 1);
        expect_same(compact, ev, NB, 2, 0);
        expect_same(compact, ev, NB, 2, 1);
        expect_same(plain, ev, NB, 1, 0);
        if (blocks[k] >= 37 && file_size(compact) >= file_size(plain))
            fail_msg("compact %ld bytes, plain %ld", file_size(compact), file_size(plain));
    }
    /* a block mixing bars and a trade stays records; bar-only blocks go
     * compact; a file without any bar block stays version 1 */
    ev[500].kind = BRS_MEV_TRADE;
    write_events(compact, ev, NB, 100, 0);
    expect_same(compact, ev, NB, 2, 0);
    for (size_t i = 0; i < NB; i++)
        ev[i].kind = BRS_MEV_QUOTE;
    write_events(compact, ev, NB, 100, 0);
    expect_same(compact, ev, NB, 1, 0);
    unlink(compact);
    unlink(plain);
    free(ev);
}

/* Seeking by time works in compact files as in record files. */
static void test_seek_compact(void **state)
{
    (void)state;
    brs_market_event ev[500];
    for (int i = 0; i < 500; i++) {
        memset(&ev[i], 0, sizeof ev[i]);
        ev[i].ts_exchange = ev[i].ts_local = 1000 + 10 * i;
        ev[i].kind = BRS_MEV_BAR;
        ev[i].bar.open = ev[i].bar.high = ev[i].bar.low = ev[i].bar.close = 50 + i;
    }
    char path[512];
    tmp_path(path, sizeof path, "bars-seek.ticks.zst");
    write_events(path, ev, 500, 64, 0);
    brs_tick_reader r;
    brs_error err = {0};
    assert_int_equal(brs__tick_open(&r, path, &err), 0);
    assert_int_equal(brs__tick_seek(&r, 1000 + 10 * 333 - 5, &err), 0);
    const brs_market_event *e = brs__tick_next(&r);
    assert_non_null(e);
    assert_int_equal(e->ts_exchange, 1000 + 10 * 333);
    assert_int_equal(e->bar.close, 50 + 333);
    brs__tick_close(&r);
    unlink(path);
}

static void expect_decode_error(const unsigned char *p, size_t len, uint32_t n, const char *want)
{
    unsigned char *copy = malloc(len + 8); /* exactly the slack the decoder may read */
    memcpy(copy, p, len);
    memset(copy + len, 0, 8);
    brs_market_event *out = malloc((n ? n : 1) * sizeof *out);
    const char *why = "";
    brs_barblock_stats st;
    int rc = brs__barblock_decode(copy, len, n, out, &st, &why);
    if (rc != BRS_E_CORRUPT || !strstr(why, want))
        fail_msg("decode gave %d '%s', wanted '%s'", rc, why, want);
    free(copy);
    free(out);
}

/* Malformed payloads straight into the decoder: each kind of damage has its
 * message; random corruption never crashes (ASan watches the 8-byte slack). */
static void test_decode_malformed(void **state)
{
    (void)state;
    enum { N = 200 };
    brs_market_event ev[N], out[N];
    make_bars(ev, N);
    unsigned char *buf = malloc(BRS_BARBLOCK_HDR_SIZE + N * BRS_BARBLOCK_MAX_WIDTH + 8);
    size_t len = brs__barblock_encode(ev, N, buf);
    const char *why = "";
    memset(buf + len, 0, 8);
    brs_barblock_stats st;
    assert_int_equal(brs__barblock_decode(buf, len, N, out, &st, &why), 0);
    assert_memory_equal(out, ev, sizeof ev);
    /* what decoding reports: the test bars go back in time (i % 41) and have
     * local times after the exchange's, over instruments 0..2 */
    assert_false(st.ordered);
    assert_true(st.local_late);
    assert_int_equal(st.max_instrument, 2);
    brs_market_event calm[3];
    memset(calm, 0, sizeof calm);
    for (int i = 0; i < 3; i++) {
        calm[i].kind = BRS_MEV_BAR;
        calm[i].ts_exchange = 100 + i;
        calm[i].ts_local = 50;
    }
    size_t cl = brs__barblock_encode(calm, 3, buf);
    memset(buf + cl, 0, 8);
    assert_int_equal(brs__barblock_decode(buf, cl, 3, out, &st, &why), 0);
    assert_true(st.ordered);
    assert_false(st.local_late);
    assert_int_equal(st.max_instrument, 0);
    len = brs__barblock_encode(ev, N, buf);

    expect_decode_error(buf, BRS_BARBLOCK_HDR_SIZE - 1, N, "shorter than its header");
    expect_decode_error(buf, len - 1, N, "does not match");
    expect_decode_error(buf, len, N - 1, "does not match");
    unsigned char *m = malloc(len + 16);
    memcpy(m, buf, len);
    memset(m + len, 0, 16);
    expect_decode_error(m, len + 1, N, "does not match");
    m[88 + 2] = 9;
    expect_decode_error(m, len, N, "width above 8");
    memcpy(m, buf, len);
    m[100] = 1;
    expect_decode_error(m, len, N, "reserved");
    memcpy(m, buf, len);
    brs__put64(m + 16 + 8 * 8, (uint64_t)1 << 40); /* side/flags base beyond 24 bits */
    expect_decode_error(m, len, N, "out of range");
    memcpy(m, buf, len);
    brs__put64(m + 16 + 8 * 7, (uint64_t)1 << 33); /* instrument beyond 32 bits */
    expect_decode_error(m, len, N, "out of range");

    /* fuzz-ish: random bytes changed, random lengths; only BRS_OK or CORRUPT */
    for (int round = 0; round < 3000; round++) {
        size_t l = round % 5 == 0 ? (size_t)(next_rand() % (len + 40)) : len;
        unsigned char *f = malloc(l + 8);
        memcpy(f, buf, l < len ? l : len);
        if (l > len)
            memset(f + len, 0xA5, l - len);
        memset(f + l, 0, 8);
        int flips = 1 + (int)(next_rand() % 4);
        for (int k = 0; k < flips && l; k++)
            f[next_rand() % (round % 3 ? (l < 104 ? l : 104) : l)] ^= (unsigned char)(1 + next_rand() % 255);
        uint32_t n = round % 7 == 0 ? (uint32_t)(next_rand() % (N + 1)) : N;
        int rc = brs__barblock_decode(f, l, n, out, &st, &why);
        assert_true(rc == BRS_OK || rc == BRS_E_CORRUPT);
        free(f);
    }
    free(m);
    free(buf);
}

static void test_file_damage(void **state)
{
    (void)state;
    brs_market_event ev[120];
    make_bars(ev, 120);
    char path[512], bad[512], want[160];
    tmp_path(path, sizeof path, "bars-dmg.ticks.zst");
    tmp_path(bad, sizeof bad, "bars-dmg-bad.ticks.zst");
    write_events(path, ev, 120, 200, 0); /* one block */
    brs_tick_reader r;
    brs_error err = {0};
    assert_int_equal(brs__tick_open(&r, path, &err), 0);
    uint64_t b0 = r.blocks[0].offset;
    brs__tick_close(&r);

    /* payload damage behind intact checksums: the decoder names it */
    snprintf(want, sizeof want, "block 0 at offset %llu: bad compact bar block", (unsigned long long)b0);
    reframe_payload(path, bad, BRS_TICK_BARBLOCK_MAGIC, 88 + 3, 12);
    expect_fail(bad, "verify", want, "width above 8");
    expect_fail(bad, "cat", want, NULL);
    reframe_payload(path, bad, BRS_TICK_BARBLOCK_MAGIC, 97, 1);
    expect_fail(bad, "info", want, "reserved");
    /* and the same path with the payload untouched reads fine */
    reframe_payload(path, bad, BRS_TICK_BARBLOCK_MAGIC, 0, -1);
    expect_same(bad, ev, 120, 2, 0);

    /* a bar block in a file that says version 1 */
    size_t n;
    unsigned char *f = slurp(path, &n);
    uint32_t hsz = brs__get32(f + 12);
    brs__put32(f + 8, 1);
    brs__put32(f + hsz - 8, brs__crc32c(0, f, hsz - 8));
    spill(bad, f, n);
    snprintf(want, sizeof want, "offset %llu", (unsigned long long)b0);
    expect_fail(bad, "verify", want, "block 0");
    /* an unknown version */
    brs__put32(f + 8, 4);
    brs__put32(f + hsz - 8, brs__crc32c(0, f, hsz - 8));
    spill(bad, f, n);
    expect_fail(bad, "verify", "unknown format version 4 at offset 8", NULL);
    /* cut inside the block: nothing readable, the cut is named */
    copy_file(path, bad);
    assert_int_equal(truncate(bad, (off_t)(b0 + 50)), 0);
    expect_fail(bad, "verify", "cut", NULL);
    free(f);

    /* every single bit flipped anywhere in a compact file is caught, and
     * reading never crashes */
    write_events(path, ev, 60, 25, 0);
    unsigned char *orig = slurp(path, &n);
    copy_file(path, bad);
    int fd = open(bad, O_WRONLY);
    assert_true(fd >= 0);
    uint32_t ok;
    uint64_t cnt;
    for (size_t off = 0; off < n; off++) {
        unsigned char c = orig[off] ^ 0x01;
        assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
        if (brs__tick_verify(bad, &ok, &cnt, &err) == 0)
            fail_msg("a flipped bit at offset %zu of %zu went unnoticed", off, n);
        if (brs__tick_open(&r, bad, &err) == 0) {
            uint64_t k = 0;
            while (brs__tick_next(&r))
                k++;
            assert_true(k <= 60);
            brs__tick_close(&r);
        }
        assert_int_equal(pwrite(fd, &orig[off], 1, (off_t)off), 1);
    }
    close(fd);
    free(orig);
    unlink(path);
    unlink(bad);
}

/* `bourse gen --bars` writes exactly N bars of K symbols, compactly, the same
 * bytes every time, readable by every command. */
static void test_gen_bars(void **state)
{
    (void)state;
    char a[512], b[512], cmd[2048], *out = NULL;
    tmp_path(a, sizeof a, "gen-bars-a.ticks.zst");
    tmp_path(b, sizeof b, "gen-bars-b.ticks.zst");
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s gen --bars --seed 3 --events 10001 --symbols 3 --block-records 1000 -o %s",
                 BOURSE_BIN, k ? b : a);
        assert_int_equal(run_cmd(cmd, NULL), 0);
    }
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    brs_tick_reader r;
    brs_error err = {0};
    assert_int_equal(brs__tick_open(&r, a, &err), 0);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.n_events, 10001);
    assert_int_equal(r.n_instr, 3);
    uint64_t per[3] = {0};
    int64_t last = INT64_MIN;
    const brs_market_event *e;
    while ((e = brs__tick_next(&r))) {
        assert_int_equal(e->kind, BRS_MEV_BAR);
        assert_true(e->ts_exchange >= last);
        assert_true(e->bar.low >= 1000 && e->bar.low <= e->bar.high);
        last = e->ts_exchange;
        per[e->instrument]++;
    }
    assert_int_equal(per[0], 3334);
    assert_int_equal(per[1], 3334);
    assert_int_equal(per[2], 3333);
    brs__tick_close(&r);
    snprintf(cmd, sizeof cmd, "%s ticks verify %s && %s ticks info %s", BOURSE_BIN, a, BOURSE_BIN, a);
    assert_int_equal(run_cmd(cmd, &out), 0);
    assert_non_null(strstr(out, "version 2"));
    assert_non_null(strstr(out, "bar             10001"));
    free(out);
    /* into a pipe the header cannot be rewritten: the file stays version 1 with
     * 64-byte bar records, and holds the same bars */
    snprintf(cmd, sizeof cmd,
             "%s gen --bars --seed 3 --events 10001 --symbols 3 --block-records 1000 -o /dev/stdout"
             " | cat > %s && %s ticks verify %s && %s ticks info %s",
             BOURSE_BIN, b, BOURSE_BIN, b, BOURSE_BIN, b);
    assert_int_equal(run_cmd(cmd, &out), 0);
    assert_non_null(strstr(out, "version 1"));
    assert_non_null(strstr(out, "bar             10001"));
    free(out);
    brs_tick_reader ra, rb;
    assert_int_equal(brs__tick_open(&ra, a, &err), 0);
    assert_int_equal(brs__tick_open(&rb, b, &err), 0);
    const brs_market_event *ea, *eb;
    while ((ea = brs__tick_next(&ra))) {
        assert_non_null(eb = brs__tick_next(&rb));
        assert_memory_equal(ea, eb, sizeof *ea);
    }
    assert_null(brs__tick_next(&rb));
    brs__tick_close(&ra);
    brs__tick_close(&rb);
    snprintf(cmd, sizeof cmd, "%s gen --bars --bogus -o %s", BOURSE_BIN, a);
    assert_int_equal(run_cmd(cmd, NULL), 2);
    unlink(a);
    unlink(b);
}

/* Scanning a block and the loop's random access (brs__barblock_scan's regular
 * times, brs__barblock_ts_regular, brs__barblock_row_open) give what full
 * decoding gives: regular times (the scan reads nothing), equal times, a
 * regular step that overflows int64 inside the block (out of order), a
 * negative step, and irregular times. */
static void test_scan_regular(void **state)
{
    (void)state;
    enum { N = 300 };
    static brs_market_event ev[N];
    static unsigned char buf[BRS_BARBLOCK_HDR_SIZE + N * BRS_BARBLOCK_MAX_WIDTH + 8];
    static int64_t ts[N], open[N], close[N];
    struct { int64_t first, step; int irregular; int ordered; } cases[] = {
        {1700000000000000000ll, 60000000000ll, 0, 1},
        {-5, 0, 0, 1},
        {INT64_MAX - 100 * 7, 7, 0, 0}, /* wraps at bar 101 */
        {1000, -3, 0, 0},
        {INT64_MIN, 1, 1, 1},
        {0, 60, 1, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        uint64_t t = (uint64_t)cases[c].first;
        int64_t px = 1000;
        for (uint32_t i = 0; i < N; i++) {
            memset(&ev[i], 0, sizeof ev[i]);
            ev[i].kind = BRS_MEV_BAR;
            ev[i].ts_exchange = ev[i].ts_local = (int64_t)t;
            t += (uint64_t)cases[c].step;
            if (cases[c].irregular) /* a gap now and then, or a step back */
                t += cases[c].ordered ? (i % 7 == 0) * 13u : (i == 150 ? (uint64_t)-1000 : 0);
            ev[i].bar.open = px + (int64_t)(next_rand() % 5) - 2;
            ev[i].bar.close = ev[i].bar.open + (int64_t)(next_rand() % 9) - 4;
            ev[i].bar.high = ev[i].bar.open + 10;
            ev[i].bar.low = ev[i].bar.close - 10;
            px = ev[i].bar.close;
        }
        memset(buf, 0, sizeof buf);
        size_t len = brs__barblock_encode(ev, N, buf);
        brs_barblock_view v;
        const char *why = NULL;
        assert_int_equal(brs__barblock_view(buf, len, N, &v, &why), 0);
        brs_barblock_stats st;
        int64_t first, last;
        brs__barblock_scan(&v, &st, &first, &last);
        assert_int_equal(st.ordered, cases[c].ordered);
        assert_true(first == ev[0].ts_exchange && last == ev[N - 1].ts_exchange);
        brs__barblock_fill(&v, &(brs_barblock_cols){.ts = ts, .open = open, .close = close});
        uint64_t f, step;
        int reg = brs__barblock_ts_regular(&v, &f, &step);
        assert_int_equal(reg, !cases[c].irregular);
        for (uint32_t i = 0; i < N; i++) {
            assert_true(ts[i] == ev[i].ts_exchange && open[i] == ev[i].bar.open &&
                        close[i] == ev[i].bar.close);
            if (reg)
                assert_true((int64_t)(f + i * step) == ts[i]);
            int64_t prev = i ? close[i - 1] : (int64_t)v.close0;
            assert_true(brs__barblock_row_open(&v, i, prev) == open[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_exact),
        cmocka_unit_test(test_seek_compact),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_file_damage),
        cmocka_unit_test(test_gen_bars),
        cmocka_unit_test(test_scan_regular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
