/* test_import.c: importers and the book replay, run through the CLI: LOBSTER
 * round trip (import, cat, same rows) and the orderbook match on all rows of the
 * real AAPL sample, Yahoo bars with null rows and no final newline, the mapped
 * CSV importer, and error messages that name file, line and field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"
#include "ticks/tickfile.h"

#define LOB_DIR BOURSE_SHARED_DIR "/data/lobster/"
#define LOB_MSG LOB_DIR "AAPL_2012-06-21_34200000_57600000_message_10.first999.csv"
#define LOB_OB LOB_DIR "AAPL_2012-06-21_34200000_57600000_orderbook_10.first999.csv"
#define SPY BOURSE_SHARED_DIR "/data/yahoo/SPY.csv"

static int have(const char *path)
{
    if (access(path, R_OK) == 0)
        return 1;
    printf("skipping: %s is absent (../shared not available)\n", path);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Split a CSV line in place (no quoting in our outputs). */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

static void test_lobster_round_trip(void **state)
{
    (void)state;
    if (!have(LOB_MSG))
        skip();
    char out[512], cmd[2048], *txt;
    tmp_path(out, sizeof out, "lob.ticks.zst");
    snprintf(cmd, sizeof cmd, "%s ticks import --format lobster %s -o %s", BOURSE_BIN, LOB_MSG, out);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s ticks cat %s --csv", BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    FILE *m = fopen(LOB_MSG, "r");
    char mline[256];
    char *save = NULL, *line = strtok_r(txt, "\n", &save); /* header */
    assert_string_equal(line, "ts_exchange,ts_local,kind,symbol,side,flags,price,qty,order_id,aux,"
                              "bid_price,bid_qty,ask_price,ask_qty,open,high,low,close,volume");
    int rows = 0;
    while (fgets(mline, sizeof mline, m)) {
        char *mf[8] = {0};
        assert_int_equal(split(mline, mf, 8), 6);
        long type = atol(mf[1]);
        /* seconds after midnight New York (EDT, UTC-4) on 2012-06-21 */
        char *dot = strchr(mf[0], '.');
        long long secs = atoll(mf[0]), frac = 0;
        int digits = 0;
        for (char *p = dot ? dot + 1 : ""; *p >= '0' && *p <= '9'; p++, digits++)
            frac = frac * 10 + (*p - '0');
        for (; digits < 9; digits++)
            frac *= 10;
        long long ts = (1340236800LL + 4 * 3600 + secs) * 1000000000LL + frac;
        const char *kind = type == 1 ? "add" : type <= 3 ? "cancel" : type == 4 ? "execute" : "trade";
        const char *side = (atol(mf[5]) == 1) == (type != 5) ? "buy" : "sell";
        /* the message's first event carries its fields */
        line = strtok_r(NULL, "\n", &save);
        assert_non_null(line);
        char *f[20] = {0};
        assert_int_equal(split(line, f, 20), 19);
        assert_int_equal(atoll(f[0]), ts);
        assert_string_equal(f[2], kind);
        assert_string_equal(f[3], "AAPL");
        assert_string_equal(f[4], side);
        assert_int_equal(atoll(f[6]), atoll(mf[4]));
        assert_int_equal(atoll(f[7]), atoll(mf[3]));
        if (type == 5)
            assert_int_equal(atoll(f[9]), atoll(mf[2])); /* hidden: the id is in aux */
        else
            assert_int_equal(atoll(f[8]), atoll(mf[2]));
        if (type == 3)
            assert_non_null(strstr(f[5], "full"));
        if (type == 4) { /* execute, then the trade print with the aggressor's side */
            assert_null(strstr(f[5], "last"));
            line = strtok_r(NULL, "\n", &save);
            split(line, f, 20);
            assert_string_equal(f[2], "trade");
            assert_string_equal(f[4], atol(mf[5]) == 1 ? "sell" : "buy");
        }
        assert_non_null(strstr(f[5], "last"));
        rows++;
    }
    assert_int_equal(rows, 999);
    assert_null(strtok_r(NULL, "\n", &save));
    fclose(m);
    free(txt);
    unlink(out);
}

static void test_lobster_book_matches(void **state)
{
    (void)state;
    if (!have(LOB_MSG) || !have(LOB_OB))
        skip();
    char out[512], book[512], cmd[2048], *txt;
    tmp_path(out, sizeof out, "lobob.ticks.zst");
    tmp_path(book, sizeof book, "lob.book.csv");
    snprintf(cmd, sizeof cmd, "%s ticks import --format lobster %s --orderbook %s -o %s", BOURSE_BIN,
             LOB_MSG, LOB_OB, out);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s ticks verify %s", BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s ticks book %s --levels 10 --format lobster > %s", BOURSE_BIN, out, book);
    assert_int_equal(run_cmd(cmd, NULL), 0);
    FILE *a = fopen(book, "r"), *b = fopen(LOB_OB, "r");
    char la[4096], lb[4096];
    int rows = 0;
    while (fgets(lb, sizeof lb, b)) {
        assert_non_null(fgets(la, sizeof la, a));
        la[strcspn(la, "\r\n")] = 0;
        lb[strcspn(lb, "\r\n")] = 0;
        if (strcmp(la, lb) != 0)
            fail_msg("row %d differs:\n ours %s\n file %s", rows + 1, la, lb);
        rows++;
    }
    assert_null(fgets(la, sizeof la, a));
    assert_int_equal(rows, 999);
    fclose(a);
    fclose(b);
    /* fewer levels: the same rows cut to 5 levels */
    snprintf(cmd, sizeof cmd, "%s ticks book %s --levels 5 | head -1", BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    b = fopen(LOB_OB, "r");
    assert_non_null(fgets(lb, sizeof lb, b));
    fclose(b);
    char *p = lb;
    for (int k = 0; k < 20; k++)
        p = strchr(p, ',') + 1;
    p[-1] = 0;
    txt[strcspn(txt, "\n")] = 0;
    assert_string_equal(txt, lb);
    free(txt);
    /* an empty book prints LOBSTER's dummy levels */
    snprintf(cmd, sizeof cmd, "%s ticks book %s --levels 30 | head -1 | tr ',' '\\n' | tail -4 | tr '\\n' ' '",
             BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    assert_string_equal(txt, "9999999999 0 -9999999999 0 ");
    free(txt);
    unlink(out);
    unlink(book);
}

static void test_yahoo(void **state)
{
    (void)state;
    char in[512], out[512], cmd[2048], *txt;
    tmp_path(in, sizeof in, "QQQ.csv");
    tmp_path(out, sizeof out, "yahoo.ticks.zst");
    /* a null row in the middle, no newline at the end */
    write_text(in, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                   "2020-01-02,10.5,11.25,10.000001,11,10.9,1000\n"
                   "2020-01-03,null,null,null,null,null,null\n"
                   "2020-01-06,11,12,10.5,11.75,11.6,2500");
    snprintf(cmd, sizeof cmd, "%s ticks import --format yahoo %s -o %s --symbol QQQ", BOURSE_BIN, in, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    assert_non_null(strstr(txt, "2 events"));
    assert_non_null(strstr(txt, "skipped 1 null rows"));
    free(txt);
    snprintf(cmd, sizeof cmd, "%s ticks cat %s", BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    /* 2020-01-02 bar stamped at the end of its day; prices x 10^6 */
    assert_non_null(strstr(txt, "1578009600000000000,1578009600000000000,bar,QQQ,buy,last,,,,,,,,,"
                                "10500000,11250000,10000001,11000000,1000\n"));
    assert_non_null(strstr(txt, ",bar,QQQ,buy,last,,,,,,,,,11000000,12000000,10500000,11750000,2500\n"));
    free(txt);
    if (have(SPY)) {
        snprintf(cmd, sizeof cmd, "%s ticks import --format yahoo %s -o %s", BOURSE_BIN, SPY, out);
        assert_int_equal(run_cmd(cmd, &txt), 0);
        assert_non_null(strstr(txt, "5363 events")); /* every data line of SPY.csv */
        free(txt);
        snprintf(cmd, sizeof cmd, "%s ticks cat %s --json --kind bar | tail -1", BOURSE_BIN, out);
        assert_int_equal(run_cmd(cmd, &txt), 0);
        assert_non_null(strstr(txt, "\"symbol\":\"SPY\""));
        assert_non_null(strstr(txt, "\"volume\":51250000"));
        free(txt);
    }
    unlink(in);
    unlink(out);
}

static void test_csv_mapping(void **state)
{
    (void)state;
    char in[512], map[512], out[512], cmd[2048], *txt;
    tmp_path(in, sizeof in, "trades.csv");
    tmp_path(map, sizeof map, "map.json");
    tmp_path(out, sizeof out, "csv.ticks.zst");
    write_text(in, "id,when,px,amount,taker,pair\n"
                   "7,1700000000.5,42000.10,0.015,buy,BTCUSDT\n"
                   "8,1700000001,42000.2,1.5,sell,BTCUSDT\n"
                   "9,1700000001.25,2200.05,3,b,ETHUSDT\n");
    write_text(map, "{\"kind\": \"trade\", \"time_unit\": \"s\", \"price_scale\": 100, \"qty_scale\": 1000,\n"
                    " \"columns\": {\"time\": \"when\", \"price\": \"px\", \"qty\": \"amount\", \"side\": \"taker\",\n"
                    "             \"id\": \"id\", \"symbol\": \"pair\"}}\n");
    snprintf(cmd, sizeof cmd, "%s ticks import --format csv --mapping %s %s -o %s", BOURSE_BIN, map, in, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    assert_non_null(strstr(txt, "3 events, 2 instruments"));
    free(txt);
    snprintf(cmd, sizeof cmd, "%s ticks cat %s --symbol BTCUSDT", BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    assert_non_null(strstr(txt, "\n1700000000500000000,1700000000500000000,trade,BTCUSDT,buy,last,4200010,15,7,0,"));
    assert_non_null(strstr(txt, "\n1700000001000000000,1700000001000000000,trade,BTCUSDT,sell,last,4200020,1500,8,0,"));
    assert_null(strstr(txt, "ETHUSDT"));
    free(txt);
    /* quotes */
    write_text(in, "t,bp,bq,ap,aq\n2024-01-02T14:30:00.25Z,99.5,10,99.75,12\n");
    write_text(map, "{\"kind\": \"quote\", \"time_unit\": \"iso\", \"symbol\": \"XYZ\", \"price_scale\": 100,\n"
                    " \"columns\": {\"time\": \"t\", \"bid_price\": \"bp\", \"bid_qty\": \"bq\",\n"
                    "             \"ask_price\": \"ap\", \"ask_qty\": \"aq\"}}\n");
    assert_int_equal(run_cmd(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s ticks import --format csv --mapping %s %s -o %s && %s ticks cat %s --json",
             BOURSE_BIN, map, in, out, BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    assert_non_null(strstr(txt, "\"kind\":\"quote\",\"symbol\":\"XYZ\""));
    assert_non_null(strstr(txt, "\"bid_price\":9950,\"bid_qty\":10,\"ask_price\":9975,\"ask_qty\":12"));
    free(txt);
    unlink(in);
    unlink(map);
    unlink(out);
}

static void test_import_errors(void **state)
{
    (void)state;
    char in[512], map[512], out[512], cmd[2048];
    tmp_path(in, sizeof in, "BAD_2012-06-21_x_message_1.csv");
    tmp_path(map, sizeof map, "badmap.json");
    tmp_path(out, sizeof out, "bad.ticks.zst");
    unlink(out);
    write_text(in, "34200.1,1,5,100,5853300,1\n34200.2,9,6,100,5853300,1\n");
    snprintf(cmd, sizeof cmd, "%s ticks import --format lobster %s -o %s", BOURSE_BIN, in, out);
    expect_error(cmd, "BAD_2012-06-21_x_message_1.csv:2: field 2 (Type): 9 is not a LOBSTER event type");
    assert_int_equal(file_size(out), -1); /* nothing written */
    write_text(in, "34200.1,1,5,100,5853300,1\n34200.2,1,6,1x0,5853300,1\n");
    expect_error(cmd, ":2: field 4 (Size): '1x0' is not an integer");
    write_text(in, "34200.1,1,5,100,5853300,0\n");
    expect_error(cmd, ":1: field 6 (Direction): 0 is neither 1 (buy) nor -1 (sell)");
    write_text(in, "34200.1,1,5,100,5853300,1\n34200.1,1,5,100,5853300,1\n");
    expect_error(cmd, ":2: field 3 (OrderID): order 5 is already in the book");
    write_text(in, "34200.1,1,5,100\n");
    expect_error(cmd, ":1: 4 fields, a LOBSTER message has 6");
    snprintf(cmd, sizeof cmd, "%s ticks import --format lobster %s/nonexistent.csv -o %s", BOURSE_BIN,
             BOURSE_BINARY_DIR, out);
    expect_error(cmd, "cannot tell the trading day");

    tmp_path(in, sizeof in, "Y.csv");
    write_text(in, "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,2,4,1,3,3,6\n2020-01-03,1,abc,3,4,5,6\n");
    snprintf(cmd, sizeof cmd, "%s ticks import --format yahoo %s -o %s", BOURSE_BIN, in, out);
    expect_error(cmd, "Y.csv:3: field 3 (High): 'abc' is not a number");
    write_text(in, "Date,Open,High,Low,Close,Volume\n");
    expect_error(cmd, "Y.csv:1: field 6 of the header is 'Volume', expected 'Adj Close'");
    write_text(in, "Date,Open,High,Low,Close,Adj Close,Volume\n2020-13-02,1,2,3,4,5,6\n");
    expect_error(cmd, "Y.csv:2: field 1 (Date): '2020-13-02' is not a YYYY-MM-DD date");
    write_text(in, "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,\"1,2,3,4,5,6\n");
    expect_error(cmd, "Y.csv:");
    assert_int_equal(file_size(out), -1);

    write_text(in, "a,b\n1,2\n");
    write_text(map, "{\"kind\": \"trade\", \"colums\": {}}");
    snprintf(cmd, sizeof cmd, "%s ticks import --format csv --mapping %s --symbol X %s -o %s", BOURSE_BIN, map, in, out);
    expect_error(cmd, "colums");
    write_text(map, "{\"columns\": {\"time\": \"a\", \"price\": \"b\", \"qty\": \"c\"}}");
    expect_error(cmd, "Y.csv:1: the header has no column 'c' (mapped as columns.qty)");
    write_text(map, "{\"columns\": {\"time\": \"a\", \"price\": \"b\", \"qty\": \"b\"}, \"price_scale\": 100}");
    write_text(in, "a,b\n1,2.001\n");
    expect_error(cmd, "Y.csv:2: field 2 (b): '2.001' is out of range or has more decimals than scale 100 holds");
    assert_int_equal(file_size(out), -1);

    /* usage errors exit 2 */
    snprintf(cmd, sizeof cmd, "%s ticks import --format nasdaq x -o y", BOURSE_BIN);
    assert_int_equal(run_cmd(cmd, NULL), 2);
    snprintf(cmd, sizeof cmd, "%s ticks cat --bogus x", BOURSE_BIN);
    assert_int_equal(run_cmd(cmd, NULL), 2);
    unlink(in);
    unlink(map);
}

#define BN_DIR BOURSE_SHARED_DIR "/data/binance/"

/* A recorded Binance session with its REST snapshots: synced, no gaps. A
 * hand-made one with a broken pu chain: the gap is reported. */
static void test_binance(void **state)
{
    (void)state;
    char ws[512], http[512], out[512], cmd[4096], *txt;
    tmp_path(out, sizeof out, "bn.ticks.zst");
    if (have(BN_DIR "cryptofeed_BINANCE_FUTURES.ws.1.0")) {
        snprintf(cmd, sizeof cmd, "%s ticks import --format binance %s --snapshot %s -o %s", BOURSE_BIN,
                 BN_DIR "cryptofeed_BINANCE_FUTURES.ws.1.0", BN_DIR "cryptofeed_BINANCE_FUTURES.http.0.0", out);
        assert_int_equal(run_cmd(cmd, &txt), 0);
        assert_non_null(strstr(txt, " 0 gaps"));
        assert_non_null(strstr(txt, "4 instruments"));
        free(txt);
        snprintf(cmd, sizeof cmd, "%s ticks info %s --json", BOURSE_BIN, out);
        assert_int_equal(run_cmd(cmd, &txt), 0);
        assert_non_null(strstr(txt, "\"symbol\":\"SUSHIUSDT\",\"price_scale\":10000"));
        assert_non_null(strstr(txt, "\"snapshot_begin\":4"));
        free(txt);
        /* row 1 comes from a bookTicker frame received before the snapshot (empty
         * book); row 2, the first after it, has a sane, uncrossed top */
        snprintf(cmd, sizeof cmd, "%s ticks book %s --symbol SUSHIUSDT --levels 1 | sed -n 2p", BOURSE_BIN, out);
        assert_int_equal(run_cmd(cmd, &txt), 0);
        long long ap, asz, bp, bsz;
        assert_int_equal(sscanf(txt, "%lld,%lld,%lld,%lld", &ap, &asz, &bp, &bsz), 4);
        assert_true(bp > 70000 && bp < ap && ap < 80000 && asz > 0 && bsz > 0);
        free(txt);
    }
    tmp_path(ws, sizeof ws, "x.ws");
    tmp_path(http, sizeof http, "x.http");
    write_text(http, "https://fapi.binance.com/fapi/v1/depth?symbol=XUSDT&limit=1000 -> 1626992741.3: "
                     "{\"lastUpdateId\":100,\"E\":1626992741264,\"T\":1626992741261,"
                     "\"bids\":[[\"1.00\",\"5\"]],\"asks\":[[\"1.01\",\"7\"]]}\n");
#define DU(recv, U, u, pu, b, a)                                                                    \
    recv ": {\"stream\":\"xusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1626992741037,"      \
         "\"T\":1626992741024,\"s\":\"XUSDT\",\"U\":" U ",\"u\":" u ",\"pu\":" pu ",\"b\":" b ",\"a\":" a "}}\n"
    write_text(ws, "wss://fstream.binance.com/stream?streams=xusdt@depth@100ms <-> 1626992740.1\n"
                   DU("1626992741.1", "95", "102", "94", "[[\"1.00\",\"6\"]]", "[]")
                   DU("1626992741.4", "103", "105", "102", "[]", "[[\"1.01\",\"0\"],[\"1.02\",\"3\"]]")
                   DU("1626992741.5", "110", "112", "108", "[[\"0.99\",\"1\"]]", "[]"));
    snprintf(cmd, sizeof cmd, "%s ticks import --format binance %s --snapshot %s -o %s", BOURSE_BIN, ws, http, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    assert_non_null(strstr(txt, "gap in the XUSDT depth stream: last applied u 105, next update U 110 u 112 pu 108"));
    assert_non_null(strstr(txt, " 1 gaps, 1 symbols without a valid book"));
    free(txt);
    /* snapshot 1.00 x 5 / 1.01 x 7, then the bridging update (1.00 -> 6), then
     * 1.01 gone and 1.02 x 3; the update after the gap is not applied */
    snprintf(cmd, sizeof cmd, "%s ticks book %s --levels 1", BOURSE_BIN, out);
    assert_int_equal(run_cmd(cmd, &txt), 0);
    assert_string_equal(txt, "101,7,100,6\n102,3,100,6\n");
    free(txt);
    write_text(ws, "1626992741.1: {\"stream\":\"xusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":12,\"s\":\"XUSDT\",\"U\":\"x\"}}\n");
    snprintf(cmd, sizeof cmd, "%s ticks import --format binance %s -o %s", BOURSE_BIN, ws, out);
    expect_error(cmd, "x.ws:1:");
    unlink(ws);
    unlink(http);
    unlink(out);
}

/* The replay keeps L3 orders and L2 levels apart, applies modifies, and prints
 * a row only after events flagged LAST (snapshots print none). */
static void test_book_replay_kinds(void **state)
{
    (void)state;
    char path[512], cmd[2048], *out;
    tmp_path(path, sizeof path, "bookkinds.ticks.zst");
    brs_instrument ins[2] = {{.symbol = "A", .price_scale = 100, .tick_size = 1, .lot_size = 1},
                             {.symbol = "B", .price_scale = 100, .tick_size = 1, .lot_size = 1}};
    brs_tick_writer *w;
    brs_error err = {0};
    assert_int_equal(brs__tick_writer_open(&w, path, ins, 2, NULL, &err), 0);
    struct { uint8_t kind, side; uint16_t flags; uint32_t instr; int64_t price, qty; uint64_t id; int64_t aux; } ev[] = {
        {BRS_MEV_SNAPSHOT_BEGIN, 0, BRS_MEVF_SNAPSHOT, 0, 0, 0, 0, 0},
        {BRS_MEV_ADD, BRS_BUY, BRS_MEVF_SNAPSHOT, 0, 100, 5, 1, 0},
        {BRS_MEV_SNAPSHOT_END, 0, BRS_MEVF_SNAPSHOT | BRS_MEVF_LAST, 0, 0, 0, 0, 0},
        {BRS_MEV_ADD, BRS_SELL, BRS_MEVF_LAST, 0, 102, 7, 2, 0},           /* row 1 */
        {BRS_MEV_ADD, BRS_SELL, BRS_MEVF_LAST, 1, 500, 9, 3, 0},           /* other instrument */
        {BRS_MEV_LEVEL_SET, BRS_BUY, 0, 0, 99, 40, 0, 0},
        {BRS_MEV_LEVEL_SET, BRS_BUY, BRS_MEVF_LAST, 0, 100, 10, 0, 0},    /* row 2: 100 = 5 + 10 */
        {BRS_MEV_MODIFY, BRS_SELL, BRS_MEVF_LAST, 0, 102, 3, 2, 0},       /* row 3: size down */
        {BRS_MEV_MODIFY, BRS_SELL, BRS_MEVF_LAST, 0, 101, 4, 2, 0},       /* row 4: new price */
        {BRS_MEV_LEVEL_DELETE, BRS_BUY, 0, 0, 100, 0, 0, 0},
        {BRS_MEV_EXECUTE, BRS_BUY, 0, 0, 100, 2, 1, 0},
        {BRS_MEV_TRADE, BRS_SELL, BRS_MEVF_LAST, 0, 100, 2, 0, 0},        /* row 5 */
        {BRS_MEV_CANCEL, BRS_SELL, BRS_MEVF_LAST | BRS_MEVF_FULL, 0, 101, 4, 2, 0}, /* row 6 */
    };
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
        brs_market_event e;
        memset(&e, 0, sizeof e);
        e.ts_exchange = e.ts_local = 1000 + (int64_t)i;
        e.kind = ev[i].kind;
        e.side = ev[i].side;
        e.flags = ev[i].flags;
        e.instrument = ev[i].instr;
        e.price = ev[i].price;
        e.qty = ev[i].qty;
        e.order_id = ev[i].id;
        e.aux = ev[i].aux;
        assert_int_equal(brs__tick_writer_add(w, &e, &err), 0);
    }
    assert_int_equal(brs__tick_writer_close(w, &err), 0);
    snprintf(cmd, sizeof cmd, "%s ticks book %s --levels 2", BOURSE_BIN, path);
    assert_int_equal(run_cmd(cmd, &out), 0);
    assert_string_equal(out, "102,7,100,5,9999999999,0,-9999999999,0\n"
                             "102,7,100,15,9999999999,0,99,40\n"
                             "102,3,100,15,9999999999,0,99,40\n"
                             "101,4,100,15,9999999999,0,99,40\n"
                             "101,4,100,3,9999999999,0,99,40\n"
                             "9999999999,0,100,3,9999999999,0,99,40\n");
    free(out);
    snprintf(cmd, sizeof cmd, "%s ticks book %s --levels 1 --symbol B", BOURSE_BIN, path);
    assert_int_equal(run_cmd(cmd, &out), 0);
    assert_string_equal(out, "500,9,-9999999999,0\n");
    free(out);
    snprintf(cmd, sizeof cmd, "%s ticks book %s --format csv", BOURSE_BIN, path);
    assert_int_equal(run_cmd(cmd, NULL), 2);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lobster_round_trip), cmocka_unit_test(test_lobster_book_matches),
        cmocka_unit_test(test_yahoo),              cmocka_unit_test(test_csv_mapping),
        cmocka_unit_test(test_import_errors),      cmocka_unit_test(test_book_replay_kinds),
        cmocka_unit_test(test_binance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
