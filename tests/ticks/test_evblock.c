/* test_evblock.c: the compact event block (tick format version 3, TCOL):
 * events of every kind written compactly read back bit-identical to the
 * 64-byte records (extreme and wrapping values, times going back, several
 * instruments, partial blocks, blocks with more than 256 kinds fall back to
 * records), old files keep reading, the golden file pins the bytes, and a
 * malformed payload, a damaged or cut file, or a compact event block in a
 * version 2 file gives an error naming the file and the offset without
 * crashing (random corruptions of the payload too, under ASan). */
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

#define NE 3000

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next_rand(void) { return brs_test_rand(&rng); }

/* L3-like flow over three instruments with awkward values mixed in: every
 * kind, times going back, local times before the exchange's, INT64 extremes,
 * random spare words, huge ids. */
static void make_events(brs_market_event *ev, size_t n)
{
    int64_t ts = 1700000000000000000ll, px[3] = {1000000, -250, 7};
    uint64_t id = 1;
    for (size_t i = 0; i < n; i++) {
        brs_market_event *e = &ev[i];
        memset(e, 0, sizeof *e);
        uint32_t in = (uint32_t)(i % 3 == 2 ? 2 : (i / 5) % 2);
        ts += i % 97 == 0 ? 31536000000000000ll : i % 41 == 0 ? -1000 : (int64_t)(next_rand() % 3000000);
        e->ts_exchange = ts;
        e->ts_local = i % 13 == 0 ? ts - 777 : ts + (int64_t)(next_rand() % 50000);
        e->kind = (uint8_t)(1 + next_rand() % 12);
        e->side = (uint8_t)(next_rand() & 1);
        e->flags = (uint16_t)(i % 19 == 0 ? 0xffff : next_rand() % 3);
        e->instrument = in;
        px[in] += (int64_t)(next_rand() % 21) - 10;
        e->price = px[in] * 100;
        e->qty = 100 * (int64_t)(1 + next_rand() % 50);
        e->order_id = e->kind == BRS_MEV_ADD ? id++ : id - next_rand() % (id + 1);
        e->aux = e->kind == BRS_MEV_MODIFY ? (int64_t)id : 0;
        if (i % 7 == 0)
            e->spare = (int64_t)next_rand();
        if (i == 300) { /* the extremes, deltas that wrap */
            e->price = INT64_MIN;
            e->qty = INT64_MAX;
            e->order_id = UINT64_MAX;
            e->aux = -1;
            e->ts_local = INT64_MAX;
            e->instrument = UINT32_MAX;
        }
        if (i == 302) {
            e->ts_exchange = INT64_MIN;
            e->spare = INT64_MIN;
        }
    }
}

static void write_events(const char *path, const brs_market_event *ev, size_t n, uint32_t block,
                         int plain)
{
    brs_instrument ins[3] = {{.symbol = "A", .price_scale = 100, .tick_size = 1, .lot_size = 1},
                             {.symbol = "B", .price_scale = 10000, .tick_size = 1, .lot_size = 1},
                             {.symbol = "C", .price_scale = 1, .tick_size = 1, .lot_size = 1}};
    brs_tick_writer_opts o = {.block_records = block, .plain_bars = plain, .plain_events = plain};
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
            fail_msg("%s: record %zu differs (ts %lld vs %lld, price %lld vs %lld, kind %d vs %d)", path,
                     i, (long long)e->ts_exchange, (long long)ev[i].ts_exchange, (long long)e->price,
                     (long long)ev[i].price, e->kind, ev[i].kind);
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
    brs_market_event *ev = malloc(NE * sizeof *ev);
    make_events(ev, NE);
    char compact[512], plain[512];
    tmp_path(compact, sizeof compact, "ev-compact.ticks.zst");
    tmp_path(plain, sizeof plain, "ev-plain.ticks.zst");
    uint32_t blocks[] = {1, 2, 37, 1000, 4096};
    for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
        write_events(compact, ev, NE, blocks[k], 0);
        write_events(plain, ev, NE, blocks[k], 1);
        expect_same(compact, ev, NE, 3, 0);
        expect_same(compact, ev, NE, 3, 1);
        expect_same(plain, ev, NE, 1, 0);
        if (blocks[k] >= 37 && file_size(compact) >= file_size(plain))
            fail_msg("compact %ld bytes, plain %ld", file_size(compact), file_size(plain));
    }
    /* bars go to TBAR blocks, the rest to TCOL, in one version 3 file */
    for (size_t i = 1000; i < 2000; i++) {
        ev[i].kind = BRS_MEV_BAR;
        ev[i].flags = 0;
        ev[i].side = 0;
    }
    write_events(compact, ev, NE, 500, 0);
    expect_same(compact, ev, NE, 3, 1);
    /* more than 256 distinct (kind, side, flags) in a block: that block is
     * written as records, the others compactly */
    for (size_t i = 0; i < 600; i++)
        ev[i].flags = (uint16_t)i;
    write_events(compact, ev, NE, 1000, 0);
    expect_same(compact, ev, NE, 3, 0);
    brs_tick_reader r;
    brs_error err = {0};
    assert_int_equal(brs__tick_open(&r, compact, &err), 0);
    unsigned char h[4];
    assert_int_equal(pread(r.fd, h, 4, (off_t)r.blocks[0].offset), 4);
    assert_int_equal(brs__get32(h), BRS_TICK_BLOCK_MAGIC);
    assert_int_equal(pread(r.fd, h, 4, (off_t)r.blocks[2].offset), 4);
    assert_int_equal(brs__get32(h), BRS_TICK_EVBLOCK_MAGIC);
    brs__tick_close(&r);
    /* no eligible block at all: the file stays version 1 */
    write_events(compact, ev, 600, 1000, 0);
    expect_same(compact, ev, 600, 1, 0);
    unlink(compact);
    unlink(plain);
    free(ev);
}

static void expect_decode_error(const unsigned char *p, size_t len, uint32_t n, const char *want)
{
    unsigned char *copy = malloc(len + 8); /* exactly the slack the decoder may read */
    memcpy(copy, p, len);
    memset(copy + len, 0, 8);
    brs_market_event *out = malloc((n ? n : 1) * sizeof *out);
    const char *why = "";
    int rc = brs__evblock_decode(copy, len, n, out, &why);
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
    make_events(ev, N);
    size_t cap = BRS_EVBLOCK_HDR_SIZE + 4 * BRS_EVBLOCK_MAX_META + N * BRS_EVBLOCK_MAX_WIDTH + 8;
    unsigned char *buf = malloc(cap);
    size_t len = brs__evblock_encode(ev, N, buf);
    assert_true(len > BRS_EVBLOCK_HDR_SIZE);
    const char *why = "";
    memset(buf + len, 0, 8);
    assert_int_equal(brs__evblock_decode(buf, len, N, out, &why), 0);
    assert_memory_equal(out, ev, sizeof ev);
    /* one record, and a block of identical records (every width 0) */
    len = brs__evblock_encode(ev, 1, buf);
    memset(buf + len, 0, 8);
    assert_int_equal(brs__evblock_decode(buf, len, 1, out, &why), 0);
    assert_memory_equal(out, ev, sizeof *ev);
    brs_market_event same[50];
    for (int i = 0; i < 50; i++)
        same[i] = ev[5];
    len = brs__evblock_encode(same, 50, buf);
    assert_int_equal(len, BRS_EVBLOCK_HDR_SIZE + 4);
    memset(buf + len, 0, 8);
    assert_int_equal(brs__evblock_decode(buf, len, 50, out, &why), 0);
    assert_memory_equal(out, same, sizeof same);
    len = brs__evblock_encode(ev, N, buf);
    size_t n_tab = (size_t)buf[134] + 1;

    expect_decode_error(buf, BRS_EVBLOCK_HDR_SIZE - 1, N, "shorter than its header");
    expect_decode_error(buf, BRS_EVBLOCK_HDR_SIZE + 4 * n_tab - 1, N, "shorter than its kind table");
    expect_decode_error(buf, len - 1, N, "does not match");
    expect_decode_error(buf, len, N - 1, "does not match");
    unsigned char *m = malloc(len + 16);
    memcpy(m, buf, len);
    memset(m + len, 0, 16);
    expect_decode_error(m, len + 1, N, "does not match");
    m[120 + 5] = 9;
    expect_decode_error(m, len, N, "width above 8");
    memcpy(m, buf, len);
    m[135] = 1;
    expect_decode_error(m, len, N, "reserved");
    memcpy(m, buf, len);
    m[129 + 2] = 2;
    expect_decode_error(m, len, N, "unknown column mode");
    memcpy(m, buf, len);
    brs__put64(m + 48 + 8 * 3, n_tab); /* kind index base past the table */
    expect_decode_error(m, len, N, "out of range");
    memcpy(m, buf, len);
    brs__put64(m + 48 + 8 * 2, (uint64_t)1 << 33); /* instrument beyond 32 bits */
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
        size_t hot = BRS_EVBLOCK_HDR_SIZE + 4 * n_tab;
        for (int k = 0; k < flips && l; k++)
            f[next_rand() % (round % 3 ? (l < hot ? l : hot) : l)] ^= (unsigned char)(1 + next_rand() % 255);
        uint32_t n = round % 7 == 0 ? (uint32_t)(next_rand() % (N + 1)) : N;
        int rc = brs__evblock_decode(f, l, n, out, &why);
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
    make_events(ev, 120);
    char path[512], bad[512], want[160];
    tmp_path(path, sizeof path, "ev-dmg.ticks.zst");
    tmp_path(bad, sizeof bad, "ev-dmg-bad.ticks.zst");
    write_events(path, ev, 120, 200, 0); /* one block */
    brs_tick_reader r;
    brs_error err = {0};
    assert_int_equal(brs__tick_open(&r, path, &err), 0);
    uint64_t b0 = r.blocks[0].offset;
    brs__tick_close(&r);

    /* payload damage behind intact checksums: the decoder names it */
    snprintf(want, sizeof want, "block 0 at offset %llu: bad compact event block", (unsigned long long)b0);
    reframe_payload(path, bad, BRS_TICK_EVBLOCK_MAGIC, 120 + 3, 12);
    expect_fail(bad, "verify", want, "width above 8");
    expect_fail(bad, "cat", want, NULL);
    reframe_payload(path, bad, BRS_TICK_EVBLOCK_MAGIC, 135, 1);
    expect_fail(bad, "info", want, "reserved");
    /* and the same path with the payload untouched reads fine */
    reframe_payload(path, bad, BRS_TICK_EVBLOCK_MAGIC, 0, -1);
    expect_same(bad, ev, 120, 3, 0);

    /* a compact event block in a file that says version 2 (or 1) */
    size_t n;
    unsigned char *f = slurp(path, &n);
    uint32_t hsz = brs__get32(f + 12);
    for (uint32_t v = 1; v <= 2; v++) {
        brs__put32(f + 8, v);
        brs__put32(f + hsz - 8, brs__crc32c(0, f, hsz - 8));
        spill(bad, f, n);
        snprintf(want, sizeof want, "offset %llu", (unsigned long long)b0);
        expect_fail(bad, "verify", want, "block 0");
    }
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

/* Two files hold the same records. */
static void expect_same_files(const char *a, const char *b)
{
    brs_tick_reader ra, rb;
    brs_error err = {0};
    assert_int_equal(brs__tick_open(&ra, a, &err), 0);
    assert_int_equal(brs__tick_open(&rb, b, &err), 0);
    assert_int_equal(ra.n_events, rb.n_events);
    const brs_market_event *ea, *eb;
    while ((ea = brs__tick_next(&ra))) {
        assert_non_null(eb = brs__tick_next(&rb));
        assert_memory_equal(ea, eb, sizeof *ea);
    }
    assert_null(brs__tick_next(&rb));
    assert_int_equal(ra.iter_err.code, 0);
    brs__tick_close(&ra);
    brs__tick_close(&rb);
}

/* The golden file pins the format's bytes: `bourse gen` writes it again
 * byte for byte, and it holds the records of the same market written as
 * 64-byte records (--plain, version 1). The bundled demo file is version 1
 * and is what `gen --plain` writes; the default gen holds the same records. */
static void test_golden(void **state)
{
    (void)state;
    char a[512], b[512], golden[1024], demo[1024], cmd[4096], *out = NULL;
    tmp_path(a, sizeof a, "ev-gold-a.ticks.zst");
    tmp_path(b, sizeof b, "ev-gold-b.ticks.zst");
    snprintf(golden, sizeof golden, "%s/tests/ticks/golden/gen-s5-v3.ticks.zst", BOURSE_SOURCE_DIR);
    snprintf(demo, sizeof demo, "%s/data/demo.ticks.zst", BOURSE_SOURCE_DIR);
    snprintf(cmd, sizeof cmd, "%s gen --seed 5 --events 5000 --symbols 2 --block-records 2000 -o %s && cmp %s %s",
             BOURSE_BIN, a, a, golden);
    if (run_cmd(cmd, &out) != 0)
        fail_msg("%s: %s", cmd, out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s gen --seed 5 --events 5000 --symbols 2 --block-records 2000 --plain -o %s",
             BOURSE_BIN, b);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    expect_same_files(golden, b);
    snprintf(cmd, sizeof cmd, "%s ticks info %s && %s ticks verify %s", BOURSE_BIN, golden, BOURSE_BIN, golden);
    assert_int_equal(run_cmd(cmd, &out), 0);
    assert_non_null(strstr(out, "version 3"));
    free(out);
    /* the old format keeps reading: the demo file is version 1 */
    snprintf(cmd, sizeof cmd, "%s gen --seed 20240102 --events 20000 --symbols 2 --plain -o %s && cmp -s %s %s",
             BOURSE_BIN, b, b, demo);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s gen --seed 20240102 --events 20000 --symbols 2 -o %s", BOURSE_BIN, a);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    expect_same_files(a, demo);
    assert_true(file_size(a) < file_size(demo));
    /* into a pipe the header cannot be rewritten: version 1, the same events */
    snprintf(cmd, sizeof cmd,
             "%s gen --seed 5 --events 5000 --symbols 2 --block-records 2000 -o /dev/stdout | cat > %s"
             " && %s ticks info %s",
             BOURSE_BIN, b, BOURSE_BIN, b);
    assert_int_equal(run_cmd(cmd, &out), 0);
    assert_non_null(strstr(out, "version 1"));
    free(out);
    expect_same_files(golden, b);
    unlink(a);
    unlink(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_exact),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_file_damage),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
