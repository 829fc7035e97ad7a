/* test_import_spill.c: `ticks import` in bounded memory. The same input
 * imported with a tiny sink buffer (many spills to the temporary file) and with
 * the default gives byte-identical tick files, for the mapped CSV, Yahoo and
 * LOBSTER with its orderbook file; the spill leaves nothing behind; the CSV
 * pull reader agrees with the push one; the LOBSTER lockstep keeps its errors. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"
#include "ticks/csvread.h"
#include "ticks/import.h"

#define LOB_DIR BOURSE_SHARED_DIR "/data/lobster/"
#define LOB_MSG LOB_DIR "AAPL_2012-06-21_34200000_57600000_message_10.first999.csv"
#define LOB_OB LOB_DIR "AAPL_2012-06-21_34200000_57600000_orderbook_10.first999.csv"
#define SPY BOURSE_SHARED_DIR "/data/yahoo/SPY.csv"

typedef int (*importer)(brs_import_sink *, const char *, const brs_import_opts *, brs_error *);

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)*len + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return p;
}

/* Spill files are unlinked at once: none may ever be visible in dir after. */
static int spill_files_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, ".bourse-import-", 15) == 0;
    closedir(d);
    return n;
}

/* Import path (times times, as if given that often) with a buffer of buf_max
 * events (0 = the default) into out; returns the events that went through the
 * spill file. */
static int times = 1;

static uint64_t import_to(importer imp, const char *path, const brs_import_opts *o, size_t buf_max,
                          const char *out)
{
    brs_import_sink s;
    memset(&s, 0, sizeof s);
    s.buf_max = buf_max;
    s.spill_dir = BOURSE_BINARY_DIR;
    brs_error err = {0};
    int rc = BRS_OK;
    for (int i = 0; i < times && !rc; i++)
        rc = imp(&s, path, o, &err);
    if (!rc)
        rc = brs__sink_write(&s, out, &(brs_tick_writer_opts){.atomic = 1, .block_records = 1000}, &err);
    if (rc)
        fail_msg("import of %s (buffer %zu): %s", path, buf_max, err.msg);
    uint64_t spilled = s.spilled;
    assert_true(s.n <= (buf_max ? buf_max : BRS_IMPORT_BUF_DEFAULT));
    brs__sink_free(&s);
    return spilled;
}

/* Tiny buffers against the default: the tick files must be the same bytes. */
static void same_bytes(importer imp, const char *path, const brs_import_opts *o, uint64_t min_events)
{
    char a[512], b[512];
    tmp_path(a, sizeof a, "spill-mem.ticks.zst");
    tmp_path(b, sizeof b, "spill-disk.ticks.zst");
    assert_int_equal(import_to(imp, path, o, 0, a), 0);
    long la, lb;
    char *pa = slurp(a, &la);
    static const size_t bufs[] = {1, 7, 100, 4096};
    for (size_t i = 0; i < BRS__ARRAY_LEN(bufs); i++) {
        uint64_t spilled = import_to(imp, path, o, bufs[i], b);
        if (min_events > bufs[i])
            assert_true(spilled >= min_events - bufs[i]); /* it really spilled */
        char *pb = slurp(b, &lb);
        if (la != lb || memcmp(pa, pb, (size_t)la) != 0)
            fail_msg("%s: buffer %zu gives a different file (%ld vs %ld bytes)", path, bufs[i], lb, la);
        free(pb);
        assert_int_equal(spill_files_in(BOURSE_BINARY_DIR), 0);
    }
    free(pa);
    unlink(a);
    unlink(b);
}

static void test_csv_spill_same_bytes(void **state)
{
    (void)state;
    char in[512], map[512];
    tmp_path(in, sizeof in, "spill-trades.csv");
    tmp_path(map, sizeof map, "spill-map.json");
    FILE *f = fopen(in, "wb");
    assert_non_null(f);
    fprintf(f, "id,when,px,amount,taker,pair\n");
    /* symbols appear one after another while the buffer has already spilled */
    for (int i = 0; i < 20000; i++)
        fprintf(f, "%d,%d.%03d,%d.%02d,%d,%s,%s\n", i + 1, 1700000000 + i / 7, (i % 7) * 142, /* times rise */
                42000 + (i * 13) % 500, i % 100, 1 + i % 9, i % 3 ? "buy" : "sell",
                i < 5000 ? "BTCUSDT" : i % 4 == 0 ? "ETHUSDT" : i % 11 == 0 ? "SOLUSDT" : "BTCUSDT");
    fclose(f);
    write_text(map, "{\"kind\": \"trade\", \"time_unit\": \"s\", \"price_scale\": 100, \"qty_scale\": 1000,\n"
                    " \"columns\": {\"time\": \"when\", \"price\": \"px\", \"qty\": \"amount\", \"side\": \"taker\",\n"
                    "             \"id\": \"id\", \"symbol\": \"pair\"}}\n");
    brs_import_opts o = {.mapping = map};
    same_bytes(brs__import_csv, in, &o, 20000);
    unlink(in);
    unlink(map);
}

static void test_yahoo_spill_same_bytes(void **state)
{
    (void)state;
    char in[512];
    tmp_path(in, sizeof in, "QQQ.csv");
    FILE *f = fopen(in, "wb");
    assert_non_null(f);
    fprintf(f, "Date,Open,High,Low,Close,Adj Close,Volume\n");
    int n = 0;
    for (int y = 1990; y < 2020; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 28; d++, n++)
                if (n % 50 == 7)
                    fprintf(f, "%04d-%02d-%02d,null,null,null,null,null,null\n", y, m, d);
                else
                    fprintf(f, "%04d-%02d-%02d,%d.5,%d.25,%d,%d.75,%d.7,%d\n", y, m, d, 100 + n % 50,
                            102 + n % 50, 99 + n % 50, 101 + n % 50, 101 + n % 50, 1000 + n);
    fclose(f);
    brs_import_opts o = {0};
    same_bytes(brs__import_yahoo, in, &o, 9000);
    unlink(in);
    if (access(SPY, R_OK) == 0)
        same_bytes(brs__import_yahoo, SPY, &o, 5363);
    else
        printf("skipping SPY: %s is absent\n", SPY);
}

static void test_lobster_spill_same_bytes(void **state)
{
    (void)state;
    if (access(LOB_MSG, R_OK) != 0 || access(LOB_OB, R_OK) != 0) {
        printf("skipping: %s is absent (../shared not available)\n", LOB_MSG);
        skip();
    }
    brs_import_opts o = {.orderbook = LOB_OB};
    same_bytes(brs__import_lobster, LOB_MSG, &o, 999);
    brs_import_opts plain = {0};
    same_bytes(brs__import_lobster, LOB_MSG, &plain, 999);
}

#define BN_DIR BOURSE_SHARED_DIR "/data/binance/"

/* Binance learns its instruments at the end of each file: events that spilled
 * before must still get the right ids (two files: the ids of the second
 * session's symbols follow the first's). */
static void test_binance_spill_same_bytes(void **state)
{
    (void)state;
    const char *ws = BN_DIR "cryptofeed_BINANCE_FUTURES.ws.1.0";
    if (access(ws, R_OK) != 0) {
        printf("skipping: %s is absent (../shared not available)\n", ws);
        skip();
    }
    brs_import_opts o = {.snapshot = BN_DIR "cryptofeed_BINANCE_FUTURES.http.0.0"};
    same_bytes(brs__import_binance, ws, &o, 1000);
    times = 2;
    same_bytes(brs__import_binance, ws, &o, 2000);
    times = 1;
}

/* The spill goes to the output's directory; if it cannot, the error says where. */
static void test_spill_dir_error(void **state)
{
    (void)state;
    char in[512];
    tmp_path(in, sizeof in, "Z.csv");
    write_text(in, "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,1,2,1,2,2,5\n"
                   "2020-01-03,1,2,1,2,2,5\n2020-01-06,1,2,1,2,2,5\n");
    const char *old_tmp = getenv("TMPDIR");
    char *saved = old_tmp ? strdup(old_tmp) : NULL;
    /* the output's directory takes no file: the spill goes to $TMPDIR */
    setenv("TMPDIR", BOURSE_BINARY_DIR, 1);
    brs_import_sink s;
    memset(&s, 0, sizeof s);
    s.buf_max = 2;
    s.spill_dir = BOURSE_BINARY_DIR "/no-such-dir";
    brs_error err = {0};
    brs_import_opts o = {0};
    assert_int_equal(brs__import_yahoo(&s, in, &o, &err), BRS_OK);
    assert_true(s.spilled > 0);
    assert_string_equal(s.spill_dir, BOURSE_BINARY_DIR);
    brs__sink_free(&s);
    /* neither takes one: an error naming both */
    setenv("TMPDIR", BOURSE_BINARY_DIR "/no-such-tmp", 1);
    memset(&s, 0, sizeof s);
    s.buf_max = 2;
    s.spill_dir = BOURSE_BINARY_DIR "/no-such-dir";
    assert_int_equal(brs__import_yahoo(&s, in, &o, &err), BRS_E_IO);
    assert_non_null(strstr(err.msg, BOURSE_BINARY_DIR "/no-such-dir"));
    assert_non_null(strstr(err.msg, BOURSE_BINARY_DIR "/no-such-tmp"));
    assert_non_null(strstr(err.msg, "spill"));
    brs__sink_free(&s);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    unlink(in);
}

/* Pull and push reading give the same rows, lines and errors, including CR
 * row ends, quoted newlines and a last row without newline. */
typedef struct rows {
    char buf[4096];
    size_t len;
} rows;

static int collect(void *ud, const brs_csv_row *row, brs_error *err)
{
    (void)err;
    rows *r = ud;
    r->len += (size_t)snprintf(r->buf + r->len, sizeof r->buf - r->len, "%llu:", (unsigned long long)row->line);
    for (size_t i = 0; i < row->n; i++)
        r->len += (size_t)snprintf(r->buf + r->len, sizeof r->buf - r->len, "[%s]", row->f[i]);
    r->len += (size_t)snprintf(r->buf + r->len, sizeof r->buf - r->len, "\n");
    return BRS_OK;
}

static void test_csv_pull_matches_push(void **state)
{
    (void)state;
    char in[512];
    tmp_path(in, sizeof in, "pull.csv");
    static const char *const texts[] = {
        "a,b,c\n1,2,3\n",
        "a,\"b\nc\",d\r\ne,f\rg,h\n\n\"x\"\"y\",z",
        "h1,h2\n\"multi\nline\nfield\",2\n3,4",
        "a,b\n1,\"unterminated\n2,3\n",
        "a,b\n1,\"x\"y\n3,4\n",
        "",
    };
    for (size_t t = 0; t < BRS__ARRAY_LEN(texts); t++) {
        write_text(in, texts[t]);
        rows push = {{0}, 0}, pull = {{0}, 0};
        brs_error e1 = {0}, e2 = {0};
        uint64_t done = 0;
        int rc1 = brs__csv_each(in, collect, &push, NULL, &done, &e1);
        if (!rc1)
            assert_int_equal(done, strlen(texts[t])); /* progress saw every byte */
        brs_csv_reader *r;
        assert_int_equal(brs__csv_open(&r, in, &e2), BRS_OK);
        const brs_csv_row *row;
        int rc2;
        while ((rc2 = brs__csv_next(r, &row, &e2)) == 1)
            collect(&pull, row, &e2);
        if (!rc2)
            assert_int_equal(brs__csv_bytes(r), strlen(texts[t]));
        else
            assert_int_equal(brs__csv_bytes(r), done);
        brs__csv_close(r);
        assert_int_equal(rc1, rc2);
        assert_string_equal(push.buf, pull.buf);
        assert_string_equal(e1.msg, e2.msg);
        if (rc1)
            assert_non_null(strstr(e1.msg, "pull.csv:"));
    }
    unlink(in);
}

/* Orderbook shorter, longer, malformed, empty: the lockstep reader still
 * says which file, which line and how many rows. */
static void test_lobster_lockstep_errors(void **state)
{
    (void)state;
    char msg[512], ob[512], out[512], cmd[2048];
    tmp_path(msg, sizeof msg, "LK_2012-06-21_x_message_1.csv");
    tmp_path(ob, sizeof ob, "LK_2012-06-21_x_orderbook_1.csv");
    tmp_path(out, sizeof out, "lk.ticks.zst");
    unlink(out);
    write_text(msg, "34200.1,1,5,100,5853300,1\n34200.2,1,6,50,5853400,-1\n34200.3,3,5,100,5853300,1\n");
    snprintf(cmd, sizeof cmd, "%s ticks import --format lobster %s --orderbook %s -o %s", BOURSE_BIN, msg,
             ob, out);
    /* the good case first: three rows for three messages */
    write_text(ob, "9999999999,0,5853300,100\n5853400,50,5853300,100\n5853400,50,-9999999999,0\n");
    assert_int_equal(run_cmd(cmd, NULL), 0);
    assert_true(file_size(out) > 0);
    unlink(out);
    write_text(ob, "9999999999,0,5853300,100\n5853400,50,5853300,100\n");
    expect_error(cmd, "LK_2012-06-21_x_message_1.csv:3: the orderbook file ");
    expect_error(cmd, "LK_2012-06-21_x_orderbook_1.csv has only 2 rows");
    assert_int_equal(file_size(out), -1);
    write_text(ob, "9999999999,0,5853300,100\n5853400,50,5853300,100\n5853400,50,-9999999999,0\n"
                   "5853400,50,-9999999999,0\n5853400,50,-9999999999,0\n");
    expect_error(cmd, "LK_2012-06-21_x_message_1.csv: 3 messages but 5 orderbook rows in ");
    assert_int_equal(file_size(out), -1);
    write_text(ob, "9999999999,0,5853300,100\n5853400,50,58533x0,100\n5853400,50,-9999999999,0\n");
    expect_error(cmd, "LK_2012-06-21_x_orderbook_1.csv:2: field 3 (BidPrice): '58533x0' is not an integer");
    write_text(ob, "9999999999,0,5853300,100\n5853400,50,5853300\n5853400,50,-9999999999,0\n");
    expect_error(cmd, "LK_2012-06-21_x_orderbook_1.csv:2: 3 fields, the first row had 4");
    /* a malformed row after the last message is still found */
    write_text(ob, "9999999999,0,5853300,100\n5853400,50,5853300,100\n5853400,50,-9999999999,0\n1,2,3\n");
    expect_error(cmd, "LK_2012-06-21_x_orderbook_1.csv:4: 3 fields, the first row had 4");
    write_text(ob, "9999999999,0,5853300\n");
    expect_error(cmd, "LK_2012-06-21_x_orderbook_1.csv:1: 3 fields; an orderbook row has 4 per level");
    write_text(ob, "");
    expect_error(cmd, "the orderbook file is empty");
    assert_int_equal(file_size(out), -1);
    unlink(msg);
    unlink(ob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_spill_same_bytes),    cmocka_unit_test(test_yahoo_spill_same_bytes),
        cmocka_unit_test(test_lobster_spill_same_bytes), cmocka_unit_test(test_binance_spill_same_bytes),
        cmocka_unit_test(test_spill_dir_error),
        cmocka_unit_test(test_csv_pull_matches_push),   cmocka_unit_test(test_lobster_lockstep_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
