/* test_fix_app.c: the FIX application on the real matching engine, through an
 * in-memory session: pre-trade risk refusals (ExecutionReport 103=3), and the
 * order journal: a gateway reopened on the same journal has the same open
 * orders, OrderIDs and ExecIDs, and replays risk refusals as refusals. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "fix/app.h"
#include "fix/app_internal.h"
#include "fixmsg.h"

#define T0 1700000000000000000LL

static brs__fix_session *sess;
static brs__fix_gateway gw;
static brs__fix_msg got;
static char out[1 << 21];
static size_t outlen, outread;
static uint32_t cseq;

static int o_send(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    assert_true(outlen + n <= sizeof out);
    memcpy(out + outlen, p, n);
    outlen += n;
    return BRS_OK;
}
static void o_close(void *ctx)
{
    (void)ctx;
}

static void feed(const char *fmt, ...) BRS__PRINTF(1, 2);
static void feed(const char *fmt, ...)
{
    char fields[2048], body[4096], msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    const char *rest = strchr(fields, '|') + 1;
    snprintf(body, sizeof body, "%.*s49=CLIENT1|56=EXEC|34=%u|52=20231114-22:13:20|%s",
             (int)(rest - fields), fields, cseq++, rest);
    size_t n = brs_test_fixmsg(msg, sizeof msg, "FIX.4.4", body);
    assert_int_equal(brs__fix_session_input(sess, msg, n, T0), n);
}

static int next(void)
{
    if (outread >= outlen)
        return 0;
    size_t ml;
    assert_int_equal(brs__fix_frame(out + outread, outlen - outread, 1 << 20, &ml), BRS__FIX_FRAME_OK);
    assert_int_equal(brs__fix_parse(&got, out + outread, ml), BRS_OK);
    outread += ml;
    return 1;
}

static void expect_er(char exec_type, const char *clordid)
{
    assert_true(next());
    if (brs__fix_char(&got, 150) != exec_type || !brs__fix_is(&got, 11, clordid)) {
        char t[128] = "", c[64] = "";
        brs__fix_str(&got, 58, t, sizeof t);
        brs__fix_str(&got, 11, c, sizeof c);
        print_error("expected ExecType %c for %s, got %c for %s: %s\n", exec_type, clordid,
                    brs__fix_char(&got, 150), c, t);
    }
    assert_string_equal(got.msgtype, "8");
    assert_int_equal(brs__fix_char(&got, 150), exec_type);
    assert_true(brs__fix_is(&got, 11, clordid));
}

static uint32_t book_capacity = 4096; /* resting orders per book */

/* The hosted strategies' books hook (brs__fix_md_publish), counted: a test
 * sets books_hook_on so open_gw sets it before the replay. */
static int books_hook_on;
static unsigned long books_hook_calls;
static void count_books_hook(void *user)
{
    (void)user;
    books_hook_calls++;
}

/* Venue latencies (order entry, cancel) a test sets for its next open_gw,
 * replay included. */
static int64_t open_lat[2];

static void open_gw_limits(const char *journal, int with_risk, int64_t max_position)
{
    brs__fix_instr in[2] = {{"AAPL", 2, 1, 1}, {"MSFT", 2, 1, 1}};
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_open(&gw, in, 2, book_capacity, journal, 0, &err), BRS_OK);
    if (books_hook_on)
        gw.books_hook = count_books_hook;
    if (open_lat[0] | open_lat[1]) /* before the replay: as the run that wrote the journal */
        brs__rt_set_latency(gw.rt, open_lat[0], open_lat[1], 0);
    open_lat[0] = open_lat[1] = 0; /* for this open only */
    if (with_risk) {
        brs_risk_config rc;
        memset(&rc, 0, sizeof rc);
        rc.def.max_order_qty = 100;
        rc.def.max_position = max_position;
        brs__fix_gateway_set_risk(&gw, &rc);
    }
    sess = malloc(sizeof *sess);
    assert_non_null(sess);
    brs__fix_session_cfg cfg = {0};
    snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
    snprintf(cfg.target, sizeof cfg.target, "CLIENT1");
    assert_int_equal(brs__fix_session_open(sess, &cfg, NULL, 0, &err), BRS_OK);
    assert_int_equal(brs__fix_gateway_add_session(&gw, sess), BRS_OK);
    assert_int_equal(brs__fix_gateway_replay(&gw, &err), BRS_OK);
    brs__fix_session_io io = {NULL, o_send, o_close};
    brs__fix_session_attach(sess, &io, T0);
    outlen = outread = 0;
    cseq = 1;
    brs__fix_msg_init(&got);
    feed("35=A|98=0|108=30|141=Y|");
    assert_true(next());
    assert_string_equal(got.msgtype, "A");
}

static void open_gw(const char *journal, int with_risk)
{
    open_gw_limits(journal, with_risk, 0);
}

static void close_gw(void)
{
    brs__fix_gateway_close(&gw);
    brs__fix_session_close(sess);
    free(sess);
}

/* A journal path in a new temporary directory; journal_done removes both. */
typedef struct tmp_journal {
    char dir[64];
    char path[256];
} tmp_journal;

static void journal_new(tmp_journal *j)
{
    snprintf(j->dir, sizeof j->dir, "/tmp/brs_fix_app_XXXXXX");
    assert_non_null(mkdtemp(j->dir));
    snprintf(j->path, sizeof j->path, "%s/orders.journal", j->dir);
}

/* Files in DIR/archive (removed when rm is set); returns their count. */
static int archive_files(const char *dir, int rm)
{
    char a[300];
    snprintf(a, sizeof a, "%s/archive", dir);
    DIR *d = opendir(a);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        if (rm) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s", a, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    if (rm)
        rmdir(a);
    return n;
}

static void journal_done(tmp_journal *j)
{
    unlink(j->path);
    archive_files(j->dir, 1);
    rmdir(j->dir);
}

static void test_risk_and_journal_replay(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    const char *path = tj.path;

    open_gw(path, 1);
    feed("35=D|11=big|55=AAPL|54=1|60=20231114-22:13:20|38=200|40=2|44=10|");
    expect_er('8', "big");
    assert_true(brs__fix_is(&got, 103, "3"));
    assert_non_null(strstr(got.buf + brs__fix_get(&got, 58)->off, "max_order_qty"));
    feed("35=D|11=a1|55=AAPL|54=1|60=20231114-22:13:20|38=50|40=2|44=10.5|");
    expect_er('0', "a1");
    char oid[32];
    brs__fix_str(&got, 37, oid, sizeof oid);
    feed("35=D|11=s1|55=AAPL|54=2|60=20231114-22:13:20|38=20|40=2|44=10.5|");
    expect_er('0', "s1");
    expect_er('F', "a1");
    assert_true(brs__fix_is(&got, 151, "30"));
    assert_true(brs__fix_is(&got, 14, "20"));
    assert_true(brs__fix_is(&got, 6, "10.5"));
    expect_er('F', "s1");
    char last_exec[32];
    brs__fix_str(&got, 17, last_exec, sizeof last_exec);
    brs__fix_gateway_flush(&gw);
    close_gw();

    /* reopened without limits: the journal's decisions still hold */
    open_gw(path, 0);
    feed("35=F|41=a1|11=a2|55=AAPL|54=1|60=20231114-22:13:20|");
    expect_er('4', "a2");
    assert_true(brs__fix_is(&got, 37, oid));
    assert_true(brs__fix_is(&got, 41, "a1"));
    assert_true(brs__fix_is(&got, 14, "20"));
    assert_true(brs__fix_is(&got, 151, "0"));
    uint64_t e1 = 0, e0 = strtoull(last_exec, NULL, 10);
    assert_int_equal(brs__fix_uint(&got, 17, &e1), 1);
    assert_int_equal(e1, e0 + 1); /* ExecIDs continue, never repeat */
    /* "big" was refused live, so it is unknown now too */
    feed("35=F|41=big|11=b2|55=AAPL|54=1|60=20231114-22:13:20|");
    assert_true(next());
    assert_string_equal(got.msgtype, "9");
    assert_true(brs__fix_is(&got, 102, "1"));
    close_gw();
    journal_done(&tj);
}

static void test_market_order_and_ioc(void **state)
{
    (void)state;
    open_gw(NULL, 0);
    feed("35=D|11=m1|55=MSFT|54=1|60=20231114-22:13:20|38=5|40=1|");
    expect_er('0', "m1");
    expect_er('4', "m1"); /* nothing to trade with: the rest is cancelled */
    assert_true(brs__fix_is(&got, 39, "4"));
    feed("35=D|11=r1|55=MSFT|54=2|60=20231114-22:13:20|38=3|40=2|44=300|");
    expect_er('0', "r1");
    feed("35=D|11=i1|55=MSFT|54=1|60=20231114-22:13:20|38=5|40=2|44=300|59=3|");
    expect_er('0', "i1");
    expect_er('F', "r1");
    expect_er('F', "i1");
    assert_true(brs__fix_is(&got, 39, "1"));
    expect_er('4', "i1");
    assert_true(brs__fix_is(&got, 14, "3"));
    /* bad enum: session Reject 373=5 naming the tag */
    feed("35=D|11=x1|55=MSFT|54=7|60=20231114-22:13:20|38=5|40=2|44=300|");
    assert_true(next());
    assert_string_equal(got.msgtype, "3");
    assert_true(brs__fix_is(&got, 373, "5"));
    assert_true(brs__fix_is(&got, 371, "54"));
    close_gw();
}

/* AvgPx of the largest price and quantity validation lets through is the real
 * average, never a wrapped one (issue 15: 6=-435559803729.382922), and an
 * ordinary average keeps its four extra decimals. */
static void test_avgpx_no_overflow(void **state)
{
    (void)state;
    open_gw(NULL, 0);
    feed("35=D|11=s1|55=MSFT|54=2|60=20231114-22:13:20|38=99999999999999999|40=2|44=999999999999999.99|");
    expect_er('0', "s1");
    feed("35=D|11=b1|55=MSFT|54=1|60=20231114-22:13:20|38=99999999999999999|40=2|44=999999999999999.99|");
    expect_er('0', "b1");
    expect_er('F', "s1");
    char px[64];
    assert_true(brs__fix_str(&got, 6, px, sizeof px));
    assert_true(px[0] != '-');
    assert_true(strncmp(px, "999999999999999.99", 18) == 0);
    expect_er('F', "b1");
    assert_true(brs__fix_str(&got, 6, px, sizeof px));
    assert_true(strncmp(px, "999999999999999.99", 18) == 0);
    /* 1 @ 10.01 and 2 @ 10.02: 30.05 / 3 = 10.016666.. -> 10.016667 */
    feed("35=D|11=s2|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=10.01|");
    expect_er('0', "s2");
    feed("35=D|11=s3|55=AAPL|54=2|60=20231114-22:13:20|38=2|40=2|44=10.02|");
    expect_er('0', "s3");
    feed("35=D|11=b2|55=AAPL|54=1|60=20231114-22:13:20|38=3|40=2|44=10.02|");
    expect_er('0', "b2");
    expect_er('F', "s2");
    expect_er('F', "b2");
    expect_er('F', "s3");
    expect_er('F', "b2");
    assert_true(brs__fix_str(&got, 6, px, sizeof px));
    assert_string_equal(px, "10.016667");
    /* the order that would take a level past its limit is Rejected, never New
     * then Canceled (issue 15 point 11) */
    /* 92 x (10^17 - 1), the largest OrderQty, fit in a level (INT64_MAX is
     * 9.22e18); a 93rd does not */
    for (int i = 0; i < 92; i++) {
        feed("35=D|11=L%d|55=AAPL|54=1|60=20231114-22:13:20|38=99999999999999999|40=2|44=1|", i);
        char id[8];
        snprintf(id, sizeof id, "L%d", i);
        expect_er('0', id);
    }
    feed("35=D|11=L92|55=AAPL|54=1|60=20231114-22:13:20|38=99999999999999999|40=2|44=1|");
    expect_er('8', "L92");
    assert_true(brs__fix_is(&got, 39, "8"));
    assert_false(next());
    close_gw();
}

/* A replace goes through the same checks as a new order, as its new version:
 * refused, the order stays as it was (OrderCancelReject 102=2 naming the
 * check); the journal replays the refusal as a refusal. */
static void test_replace_risk(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    const char *path = tj.path;

    open_gw_limits(path, 1, 120);
    feed("35=D|11=a1|55=AAPL|54=1|60=20231114-22:13:20|38=50|40=2|44=10|");
    expect_er('0', "a1");
    /* 150 > max_order_qty 100 */
    feed("35=G|41=a1|11=a2|55=AAPL|54=1|60=20231114-22:13:20|38=150|40=2|44=10|");
    assert_true(next());
    assert_string_equal(got.msgtype, "9");
    assert_true(brs__fix_is(&got, 102, "2"));
    assert_true(brs__fix_is(&got, 434, "2"));
    assert_true(brs__fix_is(&got, 39, "0"));
    assert_non_null(strstr(got.buf + brs__fix_get(&got, 58)->off, "max_order_qty"));
    /* 100 alone is within max_position 120: the 50 it replaces no longer counts */
    feed("35=G|41=a1|11=a3|55=AAPL|54=1|60=20231114-22:13:20|38=100|40=2|44=10|");
    expect_er('5', "a3");
    assert_true(brs__fix_is(&got, 151, "100"));
    /* a second buy of 30 would reach 130 */
    feed("35=D|11=b1|55=AAPL|54=1|60=20231114-22:13:20|38=30|40=2|44=9|");
    expect_er('8', "b1");
    assert_non_null(strstr(got.buf + brs__fix_get(&got, 58)->off, "max_position"));
    feed("35=D|11=b2|55=AAPL|54=1|60=20231114-22:13:20|38=20|40=2|44=9|");
    expect_er('0', "b2");
    /* and so would growing b2 to 30 */
    feed("35=G|41=b2|11=b3|55=AAPL|54=1|60=20231114-22:13:20|38=30|40=2|44=9|");
    assert_true(next());
    assert_string_equal(got.msgtype, "9");
    assert_non_null(strstr(got.buf + brs__fix_get(&got, 58)->off, "max_position"));

    /* refused at session level (bad Side): changes nothing, so not journaled */
    feed("35=D|11=x1|55=AAPL|54=7|60=20231114-22:13:20|38=5|40=2|44=9|");
    assert_true(next());
    assert_string_equal(got.msgtype, "3");
    feed("35=q|11=x2|530=7|54=9|60=20231114-22:13:20|");
    assert_true(next());
    assert_string_equal(got.msgtype, "3");
    brs__fix_gateway_flush(&gw);
    close_gw();

    /* reopened without limits: the refused replaces stay refused, and the
     * replay sent nothing (no Reject repeated onto the session) */
    open_gw(path, 0);
    assert_int_equal(sess->rejects, 0);
    feed("35=F|41=b2|11=b4|55=AAPL|54=1|60=20231114-22:13:20|");
    expect_er('4', "b4");
    assert_true(brs__fix_is(&got, 38, "20"));
    feed("35=F|41=a3|11=a4|55=AAPL|54=1|60=20231114-22:13:20|");
    expect_er('4', "a4");
    assert_true(brs__fix_is(&got, 38, "100"));
    close_gw();
    journal_done(&tj);
}

/* OrderStatusRequest answers from the order as it stands (ExecType I, ExecID
 * 0); OrderMassCancelRequest reports first, then cancels each order of the
 * session that matches; both survive a journal replay. */
static void test_status_and_mass_cancel(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    const char *path = tj.path;
    open_gw(path, 0);
    feed("35=D|11=a1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|");
    expect_er('0', "a1");
    char a1id[32];
    brs__fix_str(&got, 37, a1id, sizeof a1id);
    feed("35=D|11=a2|55=AAPL|54=2|60=20231114-22:13:20|38=5|40=2|44=12|");
    expect_er('0', "a2");
    char a2id[32];
    brs__fix_str(&got, 37, a2id, sizeof a2id);
    feed("35=D|11=m1|55=MSFT|54=1|60=20231114-22:13:20|38=3|40=2|44=300|");
    expect_er('0', "m1");

    feed("35=H|11=a1|790=req1|55=AAPL|54=1|");
    expect_er('I', "a1");
    assert_true(brs__fix_is(&got, 17, "0"));
    assert_true(brs__fix_is(&got, 39, "0"));
    assert_true(brs__fix_is(&got, 151, "10"));
    assert_true(brs__fix_is(&got, 790, "req1"));
    assert_true(brs__fix_is(&got, 37, a1id));
    /* by OrderID, whatever ClOrdID says */
    char h[128];
    snprintf(h, sizeof h, "35=H|37=%s|11=zz|55=AAPL|54=2|", a2id);
    feed("%s", h);
    expect_er('I', "a2");
    feed("35=H|11=nope|55=AAPL|54=1|");
    expect_er('I', "nope");
    assert_true(brs__fix_is(&got, 39, "8"));
    assert_true(brs__fix_is(&got, 103, "5"));
    assert_true(brs__fix_is(&got, 37, "NONE"));

    /* unsupported type and unknown security: refused, nothing cancelled */
    feed("35=q|11=q1|530=3|60=20231114-22:13:20|");
    assert_true(next());
    assert_string_equal(got.msgtype, "r");
    assert_true(brs__fix_is(&got, 531, "0"));
    assert_true(brs__fix_is(&got, 532, "0"));
    assert_true(brs__fix_is(&got, 530, "3"));
    feed("35=q|11=q2|530=1|55=ZZZ|60=20231114-22:13:20|");
    assert_true(next());
    assert_true(brs__fix_is(&got, 531, "0"));
    assert_true(brs__fix_is(&got, 532, "1"));
    assert_false(next());
    /* AAPL buys only: a1 */
    feed("35=q|11=q3|530=1|55=AAPL|54=1|60=20231114-22:13:20|");
    assert_true(next());
    assert_string_equal(got.msgtype, "r");
    assert_true(brs__fix_is(&got, 11, "q3"));
    assert_true(brs__fix_is(&got, 531, "1"));
    assert_true(brs__fix_is(&got, 533, "1"));
    expect_er('4', "a1");
    assert_true(brs__fix_is(&got, 39, "4"));
    assert_false(next());
    /* everything left: a2 and m1 */
    feed("35=q|11=q4|530=7|60=20231114-22:13:20|");
    assert_true(next());
    assert_true(brs__fix_is(&got, 531, "7"));
    assert_true(brs__fix_is(&got, 533, "2"));
    expect_er('4', "a2");
    expect_er('4', "m1");
    char last_exec[32];
    brs__fix_str(&got, 17, last_exec, sizeof last_exec);
    assert_false(next());
    feed("35=H|11=a1|55=AAPL|54=1|");
    expect_er('I', "a1");
    assert_true(brs__fix_is(&got, 39, "4"));
    assert_true(brs__fix_is(&got, 151, "0"));
    brs__fix_gateway_flush(&gw);
    close_gw();

    /* after a restart the cancels hold and ExecIDs continue */
    open_gw(path, 0);
    feed("35=H|11=m1|55=MSFT|54=1|");
    expect_er('I', "m1");
    assert_true(brs__fix_is(&got, 39, "4"));
    feed("35=D|11=n1|55=MSFT|54=1|60=20231114-22:13:20|38=1|40=2|44=300|");
    expect_er('0', "n1");
    uint64_t e1 = 0, e0 = strtoull(last_exec, NULL, 10);
    assert_int_equal(brs__fix_uint(&got, 17, &e1), 1);
    assert_int_equal(e1, e0 + 1);
    close_gw();
    journal_done(&tj);
}

/* End of day: DAY orders expire (150=C), GTC ones stay; a mark expires
 * nothing; a replay gives the same states and ExecIDs. */
static void test_end_of_day(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    const char *path = tj.path;
    open_gw(path, 0);
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL); /* first start: a mark only */
    assert_false(next());
    feed("35=D|11=d1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|59=0|");
    expect_er('0', "d1");
    feed("35=D|11=d2|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|");
    expect_er('0', "d2"); /* no TimeInForce: DAY */
    feed("35=D|11=g1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|59=1|");
    expect_er('0', "g1");
    brs__fix_gateway_end_of_day(&gw, T0, 0, NULL);
    assert_int_equal(gw.day_boundary, T0);
    expect_er('C', "d1");
    assert_true(brs__fix_is(&got, 39, "C"));
    assert_true(brs__fix_is(&got, 151, "0"));
    expect_er('C', "d2");
    char last_exec[32];
    brs__fix_str(&got, 17, last_exec, sizeof last_exec);
    assert_false(next());
    feed("35=F|41=d1|11=d3|55=AAPL|54=1|60=20231114-22:13:20|");
    assert_true(next());
    assert_string_equal(got.msgtype, "9"); /* expired yesterday: forgotten at the end of day */
    assert_true(brs__fix_is(&got, 102, "1"));
    brs__fix_gateway_flush(&gw);
    close_gw();

    open_gw(path, 0);
    assert_int_equal(gw.day_boundary, T0);
    feed("35=H|11=g1|55=AAPL|54=1|");
    expect_er('I', "g1");
    assert_true(brs__fix_is(&got, 39, "0"));
    feed("35=H|11=d2|55=AAPL|54=1|");
    expect_er('I', "d2");
    assert_true(brs__fix_is(&got, 39, "8")); /* unknown now */
    feed("35=D|11=n1|55=AAPL|54=2|60=20231114-22:13:20|38=10|40=2|44=10|");
    expect_er('0', "n1");
    uint64_t e1 = 0, e0 = strtoull(last_exec, NULL, 10);
    assert_int_equal(brs__fix_uint(&got, 17, &e1), 1);
    assert_int_equal(e1, e0 + 1);
    expect_er('F', "g1"); /* the GTC buy was still there to trade with */
    close_gw();
    journal_done(&tj);
}

/* ---- end of day compaction ------------------------------------------------ */

static brs__fix_session *sess2;
static uint32_t cseq2;

/* Like feed(), from CLIENT2 on sess2. */
static void feed2(const char *fmt, ...) BRS__PRINTF(1, 2);
static void feed2(const char *fmt, ...)
{
    char fields[2048], body[4096], msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    const char *rest = strchr(fields, '|') + 1;
    snprintf(body, sizeof body, "%.*s49=CLIENT2|56=EXEC|34=%u|52=20231114-22:13:20|%s",
             (int)(rest - fields), fields, cseq2++, rest);
    size_t n = brs_test_fixmsg(msg, sizeof msg, "FIX.4.4", body);
    assert_int_equal(brs__fix_session_input(sess2, msg, n, T0), n);
}

/* Two sessions (CLIENT1 on sess, CLIENT2 on sess2), with limits (when
 * with_risk): max_order_qty 100 and max_position 35 for each. */
static void open_gw2_risk(const char *journal, int with_risk)
{
    brs__fix_instr in[2] = {{"AAPL", 2, 1, 1}, {"MSFT", 2, 1, 1}};
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_open(&gw, in, 2, book_capacity, journal, 0, &err), BRS_OK);
    brs_risk_config rc;
    memset(&rc, 0, sizeof rc);
    rc.def.max_order_qty = 100;
    rc.def.max_position = 35;
    if (with_risk)
        brs__fix_gateway_set_risk(&gw, &rc);
    brs__fix_session **ss[2] = {&sess, &sess2};
    for (int i = 0; i < 2; i++) {
        *ss[i] = malloc(sizeof **ss[i]);
        assert_non_null(*ss[i]);
        brs__fix_session_cfg cfg = {0};
        snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
        snprintf(cfg.target, sizeof cfg.target, "CLIENT%d", i + 1);
        assert_int_equal(brs__fix_session_open(*ss[i], &cfg, NULL, 0, &err), BRS_OK);
        assert_int_equal(brs__fix_gateway_add_session(&gw, *ss[i]), BRS_OK);
    }
    assert_int_equal(brs__fix_gateway_replay(&gw, &err), BRS_OK);
    brs__fix_session_io io = {NULL, o_send, o_close};
    brs__fix_session_attach(sess, &io, T0);
    brs__fix_session_attach(sess2, &io, T0);
    outlen = outread = 0;
    cseq = cseq2 = 1;
    brs__fix_msg_init(&got);
    feed("35=A|98=0|108=30|141=Y|");
    assert_true(next());
    feed2("35=A|98=0|108=30|141=Y|");
    assert_true(next());
}

static void open_gw2(const char *journal)
{
    open_gw2_risk(journal, 1);
}

static void close_gw2(void)
{
    brs__fix_gateway_close(&gw);
    brs__fix_session_close(sess);
    brs__fix_session_close(sess2);
    free(sess);
    free(sess2);
}

/* Everything sent since the last read, business fields only (no sequence
 * numbers or times), one message a line. */
static void collect(char *dst, size_t cap)
{
    static const uint32_t tags[] = {56, 37, 11, 41, 17, 150, 39, 55, 54, 38, 44,
                                    31, 32, 151, 14, 6, 102, 103, 58};
    size_t n = 0;
    dst[0] = 0;
    while (next()) {
        n += (size_t)snprintf(dst + n, cap - n, "%s", got.msgtype);
        for (size_t k = 0; k < BRS__ARRAY_LEN(tags); k++) {
            char v[128];
            if (brs__fix_get(&got, tags[k])) {
                brs__fix_str(&got, tags[k], v, sizeof v);
                n += (size_t)snprintf(dst + n, cap - n, "|%u=%s", tags[k], v);
            }
        }
        n += (size_t)snprintf(dst + n, cap - n, "\n");
        assert_true(n < cap);
    }
}

/* The day after the compaction: status of every open order, a buy the
 * position limit refuses and one it takes, a ClOrdID of yesterday used again,
 * and a sell from CLIENT2 that sweeps the bids. */
static void next_day(char *dst, size_t cap)
{
    static const char *open_ids[] = {"b1", "b3r", "b2r", "b4", "b5", "s1", "s2", "s3"};
    for (size_t k = 0; k < BRS__ARRAY_LEN(open_ids); k++)
        feed("35=H|11=%s|55=AAPL|54=1|", open_ids[k]);
    feed("35=H|37=301|11=zz|55=AAPL|54=1|"); /* b1, by OrderID */
    feed("35=H|37=1|11=zz|55=AAPL|54=1|");   /* closed yesterday: unknown */
    /* CLIENT1 is long 7 with 22 bought in open orders: 7 more would pass 35 */
    feed("35=D|11=r1|55=AAPL|54=1|60=20231114-22:13:20|38=7|40=2|44=9|59=1|");
    feed("35=D|11=r2|55=AAPL|54=1|60=20231114-22:13:20|38=2|40=2|44=9|59=1|");
    feed("35=D|11=b2|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=11|59=1|");
    /* b3r shrinks again: it keeps its place, ahead of b2r */
    feed("35=G|41=b3r|11=b3s|55=AAPL|54=1|60=20231114-22:13:20|38=3|40=2|44=10|");
    feed2("35=D|11=x1|55=AAPL|54=2|60=20231114-22:13:20|38=25|40=2|44=9.99|59=3|");
    collect(dst, cap);
}

/* The ClOrdIDs of CLIENT1's fills in buf, in order, comma separated. */
static void fills_of(const char *buf, char *dst, size_t cap)
{
    size_t n = 0;
    dst[0] = 0;
    for (const char *l = buf; *l;) {
        const char *e = strchr(l, '\n');
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(e - l), l);
        char *c;
        if (strstr(line, "|56=CLIENT1|") && strstr(line, "|150=F|") && (c = strstr(line, "|11="))) {
            c += 4;
            n += (size_t)snprintf(dst + n, cap - n, "%.*s,", (int)strcspn(c, "|"), c);
        }
        l = e + 1;
    }
}

/* Whether one line of buf holds both a and b. */
static int line_with(const char *buf, const char *a, const char *b)
{
    for (const char *l = buf; *l;) {
        const char *e = strchr(l, '\n');
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(e - l), l);
        if (strstr(line, a) && strstr(line, b))
            return 1;
        l = e + 1;
    }
    return 0;
}

static char *grab(const char *path, size_t *len)
{
    char *d = NULL;
    brs_error err = {0};
    assert_int_equal(brs__read_file(path, &d, len, &err), BRS_OK);
    return d;
}

static void put(const char *path, const char *d, size_t len)
{
    brs_error err = {0};
    assert_int_equal(brs__atomic_write(path, d, len, &err), BRS_OK);
}

/* End of day with open GTC orders (partly filled, several per level, one moved
 * back in its queue by a replace) and many closed ones: only the open ones
 * stay in memory, the journal becomes their snapshot, and a gateway reopened
 * on it answers and trades exactly as the one that never stopped. */
static void test_compaction(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    const char *path = tj.path;
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.compact", path);
    static char live[1 << 16], again[1 << 16];

    open_gw2(path);
    /* a day of history: IOCs with nothing to trade with, cancelled at once */
    for (int i = 0; i < 300; i++) {
        feed("35=D|11=ioc%d|55=MSFT|54=1|60=20231114-22:13:20|38=1|40=2|44=5|59=3|", i);
        assert_true(next());
        assert_true(brs__fix_is(&got, 150, "0"));
        assert_true(next());
        assert_true(brs__fix_is(&got, 150, "4"));
    }
    feed("35=D|11=b1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|59=1|");
    feed("35=D|11=b2|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=9.98|59=1|");
    feed("35=D|11=b3|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=10|59=1|");
    feed("35=D|11=b4|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=9.99|59=1|");
    feed("35=D|11=b5|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=9.99|59=1|");
    feed("35=D|11=d1|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=9.99|59=0|");
    feed("35=D|11=s1|55=AAPL|54=2|60=20231114-22:13:20|38=5|40=2|44=10.05|59=1|");
    feed("35=D|11=s2|55=AAPL|54=2|60=20231114-22:13:20|38=6|40=2|44=10.05|59=1|");
    feed("35=D|11=s3|55=AAPL|54=2|60=20231114-22:13:20|38=7|40=2|44=10.06|59=1|");
    /* b2 moves up to 10: the back of that queue, behind b3 */
    feed("35=G|41=b2|11=b2r|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=10|");
    /* b3 shrinks: it keeps its place */
    feed("35=G|41=b3|11=b3r|55=AAPL|54=1|60=20231114-22:13:20|38=4|40=2|44=10|");
    /* CLIENT2 sells 7 into b1: CLIENT1 is long 7, b1 partly filled */
    feed2("35=D|11=c1|55=AAPL|54=2|60=20231114-22:13:20|38=7|40=2|44=10|59=3|");
    feed("35=D|11=f1|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=10.05|59=1|");
    feed("35=F|41=f1|11=f2|55=AAPL|54=2|60=20231114-22:13:20|");
    collect(live, sizeof live);
    assert_non_null(strstr(live, "|11=b1|17="));
    assert_int_equal(brs__fix_gateway_orders_held(&gw), 300 + 11);
    brs__fix_gateway_flush(&gw);
    size_t before = 0;
    free(grab(path, &before));

    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    expect_er('C', "d1");
    assert_false(next());
    /* memory: the eight open orders only */
    assert_int_equal(brs__fix_gateway_orders_held(&gw), 8);
    /* the journal: header, 8 orders, a risk record per session, end */
    size_t snap_len = 0;
    char *snap = grab(path, &snap_len);
    assert_int_equal(snap_len, 48 + 8 * 128 + 2 * (16 + 2 * 32) + 8 + 16); /* + COMMIT */
    assert_true(snap_len * 10 < before);
    assert_int_equal(archive_files(tj.dir, 0), 1); /* the day's history, archived */
    brs_risk risk_live[2];
    memcpy(risk_live, gw.risk, sizeof risk_live);

    /* the gateway that never stopped */
    next_day(live, sizeof live);
    /* the sweep takes b1 (front, 3 left), b3s, b2r at 10 (queue order, not
     * OrderID order), then b4, b5; the 4 left of the IOC are cancelled */
    char fills[256];
    fills_of(live, fills, sizeof fills);
    assert_string_equal(fills, "b1,b3s,b2r,b4,b5,");
    assert_true(line_with(live, "|11=x1|", "|150=4|"));
    assert_true(line_with(live, "|11=r1|", "max_position"));
    assert_true(line_with(live, "|11=r2|", "|150=0|"));
    assert_true(line_with(live, "|11=b2|", "|150=0|")); /* yesterday's ClOrdID is free again */
    assert_true(line_with(live, "|37=301|11=b1|", "|150=I|39=1|"));
    assert_true(line_with(live, "|37=NONE|11=zz|", "|150=I|39=8|"));
    close_gw2();

    /* the same day after a restart on the snapshot, with a stray temporary of
     * a compaction that crashed before its rename */
    put(path, snap, snap_len);
    put(tmp, "garbage", 7);
    open_gw2(path);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(brs__fix_gateway_orders_held(&gw), 8);
    assert_int_equal(gw.day_boundary, T0);
    assert_memory_equal(gw.risk[0].position, risk_live[0].position, sizeof risk_live[0].position);
    assert_memory_equal(gw.risk[0].open_qty, risk_live[0].open_qty, sizeof risk_live[0].open_qty);
    assert_memory_equal(gw.risk[1].position, risk_live[1].position, sizeof risk_live[1].position);
    assert_memory_equal(gw.risk[1].ref_price, risk_live[1].ref_price, sizeof risk_live[1].ref_price);
    next_day(again, sizeof again);
    assert_string_equal(again, live);
    close_gw2();

    /* new records append to the snapshot and replay after it */
    open_gw2(path);
    feed("35=H|11=b2|55=AAPL|54=2|");
    expect_er('I', "b2");
    assert_true(brs__fix_is(&got, 39, "0"));
    close_gw2();
    free(snap);
    journal_done(&tj);
}

/* A checkpoint within the day (issue 15, point 9): closed orders leave memory
 * and the journal (archived), the open ones stay, and every ClOrdID of the
 * day, closed or an earlier link of a replace chain, is still refused as a
 * duplicate, live and after a restart on the checkpoint. */
static void test_checkpoint(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_gw(tj.path, 0);
    for (int i = 0; i < 200; i++) {
        feed("35=D|11=ioc%d|55=MSFT|54=1|60=20231114-22:13:20|38=1|40=2|44=5|59=3|", i);
        assert_true(next());
        assert_true(brs__fix_is(&got, 150, "0"));
        assert_true(next());
        assert_true(brs__fix_is(&got, 150, "4"));
    }
    feed("35=D|11=g1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|59=1|");
    expect_er('0', "g1");
    feed("35=G|41=g1|11=g1r|55=AAPL|54=1|60=20231114-22:13:20|38=8|40=2|44=10|");
    expect_er('5', "g1r");
    feed("35=D|11=g2|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=9|59=1|");
    expect_er('0', "g2");
    feed("35=F|41=g2|11=g2c|55=AAPL|54=1|60=20231114-22:13:20|");
    expect_er('4', "g2c");
    assert_false(next());
    brs__fix_gateway_flush(&gw);
    assert_int_equal(brs__fix_gateway_orders_held(&gw), 202);
    size_t before = 0;
    free(grab(tj.path, &before));
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_checkpoint(&gw, &err), BRS_OK);
    assert_int_equal(brs__fix_gateway_orders_held(&gw), 1);
    assert_int_equal(gw.closed.used, 200 + 3); /* ioc*, g1, g2, g2c */
    size_t after = 0;
    free(grab(tj.path, &after));
    assert_true(after * 4 < before);
    assert_int_equal(archive_files(tj.dir, 0), 1);
    const char *dups[] = {"ioc5", "ioc199", "g1", "g2", "g2c", "g1r"};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < 6; k++) {
            feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=8|59=1|", dups[k]);
            expect_er('8', dups[k]);
            assert_true(brs__fix_is(&got, 103, "6"));
        }
        feed("35=H|11=g1r|55=AAPL|54=1|"); /* the open order is known as ever */
        expect_er('I', "g1r");
        assert_true(brs__fix_is(&got, 39, "0"));
        assert_true(brs__fix_is(&got, 151, "8"));
        feed("35=G|41=g1r|11=g1|55=AAPL|54=1|60=20231114-22:13:20|38=8|40=2|44=10|");
        assert_true(next()); /* a replace may not reuse a forgotten ClOrdID either */
        assert_string_equal(got.msgtype, "9");
        assert_true(brs__fix_is(&got, 102, "6"));
        feed("35=D|11=n%d|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=8|59=1|", pass);
        assert_true(next());
        assert_true(brs__fix_is(&got, 150, "0"));
        uint64_t exec = 0;
        assert_int_equal(brs__fix_uint(&got, 17, &exec), 1);
        static uint64_t last_exec;
        if (pass == 1) /* after the restart the ExecIDs go on where they were */
            assert_true(exec > last_exec);
        last_exec = exec;
        assert_false(next());
        brs__fix_gateway_flush(&gw);
        close_gw();
        if (pass == 0) {
            open_gw(tj.path, 0);
            assert_int_equal(brs__fix_gateway_orders_held(&gw), 2); /* g1r, n0 */
            assert_int_equal(gw.closed.used, 203);
        }
    }
    journal_done(&tj);
}

/* After a checkpoint the closed orders leave memory a few slots per step
 * (app_forget.c: the ClOrdID map's earlier links, then the table compacted
 * in place with a gap, then the map rebuilt), while orders keep coming,
 * cancelling and replacing between the steps. Against a model: every open
 * order is found by its ClOrdID and by its OrderID with its own quantity,
 * every ClOrdID of the day is refused again, during the forget, after it,
 * and after a restart on the snapshot and its tail. */
enum { FG_N = 600, FG_OPS = 400 };
static struct fg_model {
    char cl[16];    /* current ClOrdID */
    char prev[16];  /* an earlier link ("" none) */
    uint64_t id;
    int open, leaves;
} fgm[FG_N + FG_OPS];
static int fg_n;

static void fg_check(int k)
{
    struct fg_model *m = &fgm[k];
    if (m->open) {
        feed("35=H|11=%s|55=AAPL|54=1|", m->cl);
        expect_er('I', m->cl);
        uint64_t v = 0;
        assert_int_equal(brs__fix_uint(&got, 151, &v), 1);
        assert_int_equal(v, (uint64_t)m->leaves);
        assert_int_equal(brs__fix_uint(&got, 37, &v), 1);
        assert_int_equal(v, m->id);
        feed("35=H|11=zz|37=%llu|55=AAPL|54=1|", (unsigned long long)m->id);
        expect_er('I', m->cl);
    }
    const char *names[2] = {m->cl, m->prev};
    for (int j = 0; j < 2; j++) {
        if (!names[j][0])
            continue;
        feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=50|59=1|", names[j]);
        expect_er('8', names[j]);
        assert_true(brs__fix_is(&got, 103, "6"));
    }
    outlen = outread = 0;
}

static void fg_new(int k)
{
    struct fg_model *m = &fgm[k];
    snprintf(m->cl, sizeof m->cl, "s%d", k);
    m->prev[0] = 0;
    m->leaves = 2 + k % 3;
    feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=%d|40=2|44=%d|59=1|", m->cl, m->leaves,
         100 + k % 20);
    expect_er('0', m->cl);
    assert_int_equal(brs__fix_uint(&got, 37, &m->id), 1);
    m->open = 1;
    outlen = outread = 0;
}

static void fg_cancel(int k)
{
    struct fg_model *m = &fgm[k];
    char c[16];
    snprintf(c, sizeof c, "x%d", k);
    feed("35=F|11=%s|41=%s|55=AAPL|54=1|60=20231114-22:13:20|", c, m->cl);
    expect_er('4', c);
    memcpy(m->prev, m->cl, sizeof m->prev);
    memcpy(m->cl, c, sizeof m->cl);
    m->open = 0;
    outlen = outread = 0;
}

static void fg_replace(int k)
{
    struct fg_model *m = &fgm[k];
    static int nr;
    char r[16];
    snprintf(r, sizeof r, "r%d", nr++); /* a new ClOrdID each time */
    m->leaves += 1;
    feed("35=G|11=%s|41=%s|55=AAPL|54=1|60=20231114-22:13:20|38=%d|40=2|44=%d|", r, m->cl, m->leaves,
         100 + k % 20);
    expect_er('5', r);
    memcpy(m->prev, m->cl, sizeof m->prev);
    memcpy(m->cl, r, sizeof m->cl);
    outlen = outread = 0;
}

static void test_checkpoint_stepwise(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    book_capacity = 8192;
    open_gw(tj.path, 0);
    for (fg_n = 0; fg_n < FG_N; fg_n++)
        fg_new(fg_n);
    for (int k = 0; k < FG_N; k += 3)
        fg_cancel(k);
    for (int k = 1; k < FG_N; k += 5)
        if (fgm[k].open)
            fg_replace(k);
    brs__fix_gateway_flush(&gw);
    brs_error err = {0};
    gw.fg_per_turn = 13;
    assert_int_equal(brs__fix_gateway_checkpoint_start(&gw, &err), BRS_OK);
    int done = 0;
    while (!done) {
        assert_int_equal(brs__fix_gateway_checkpoint_poll(&gw, &done, &err), BRS_OK);
        if (!done)
            usleep(1000);
    }
    assert_true(brs__fix_gateway_forgetting(&gw));
    uint32_t seed = 7;
    int steps = 0, in_table = 0;
    while (brs__fix_gateway_forgetting(&gw)) {
        brs__fix_gateway_forget_step(&gw);
        steps++;
        in_table += gw.fg_phase == BRS__FIX_FG_TABLE && gw.fg_w < gw.fg_r;
        /* an op between steps: new, cancel, replace, or a look at one */
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % (uint32_t)fg_n), op = (int)((seed >> 4) % 4);
        if (op == 0 && fg_n < FG_N + FG_OPS)
            fg_new(fg_n++);
        else if (op == 1 && fgm[k].open)
            fg_cancel(k);
        else if (op == 2 && fgm[k].open)
            fg_replace(k);
        else
            fg_check(k);
        brs__fix_gateway_flush(&gw);
    }
    assert_true(steps > 50);
    assert_true(in_table > 10); /* the gap was there while orders came and went */
    int open = 0;
    for (int k = 0; k < fg_n; k++) {
        fg_check(k);
        open += fgm[k].open;
    }
    assert_int_equal(gw.st.open, open);
    assert_true(brs__fix_gateway_orders_held(&gw) < (uint64_t)open + 200);
    assert_int_equal(gw.map_tombs, 0);
    brs__fix_gateway_flush(&gw);
    close_gw();
    open_gw(tj.path, 0);
    for (int k = 0; k < fg_n; k++)
        fg_check(k);
    close_gw();
    book_capacity = 4096;
    journal_done(&tj);
}

/* ---- the end of day in steps (app_eod.c) ----------------------------------
 * Orders of the old day (DAY and GTC, open, cancelled, replaced) meet an end
 * of day run a slice (7 expiries) and a forget step (13 slots) at a time;
 * between steps orders are entered (fresh ClOrdIDs and ClOrdIDs of the old
 * day), cancelled, replaced and looked at, and a model says what each answer
 * must be: an old day's order closed before the boundary or by its expiry is
 * unknown and its ClOrdIDs free, an open one (a DAY order not yet reached by
 * the slices too) known and its ClOrdID refused, an old day's order changed
 * since the boundary kept, earlier links made since the boundary refused.
 * The journal copied at points of the expiry and of the forget steps, and
 * the whole of it, replayed: the same answers there, and after the rest of
 * the steps. */
enum { EO_N = 600, EO_MAX = 2000 };
typedef struct eo_model {
    char cl[16], prev[16];
    uint64_t id;
    char status;
    uint8_t open, day, old, kept;
} eo_model;
static eo_model eom[EO_MAX];
static int eo_n, eo_names, eo_newday; /* eo_newday: past the boundary */
static char eo_hashed[2 * EO_MAX][16]; /* earlier links made since the boundary: refused */
static int eo_n_hashed, eo_nh_view = 1 << 30; /* eo_nh_view: the hashes a saved model knows */

static int eo_visible(const eo_model *m)
{
    return !m->old || m->open || m->kept;
}

static int eo_used(const eo_model *mm, int n, const char *name)
{
    for (int k = 0; k < n; k++)
        if (eo_visible(&mm[k]) && strcmp(mm[k].cl, name) == 0)
            return 1;
    for (int k = 0; k < eo_n_hashed && k < eo_nh_view; k++)
        if (strcmp(eo_hashed[k], name) == 0)
            return 1;
    return 0;
}

static void eo_new(const char *name, int day)
{
    eo_model *m = &eom[eo_n++];
    memset(m, 0, sizeof *m);
    snprintf(m->cl, sizeof m->cl, "%s", name);
    m->day = (uint8_t)day;
    feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=3|40=2|44=%d|59=%d|", name, 100 + eo_n % 20,
         day ? 0 : 1);
    expect_er('0', name);
    assert_int_equal(brs__fix_uint(&got, 37, &m->id), 1);
    m->open = 1;
    m->status = '0';
    outlen = outread = 0;
}

static void eo_cancel(eo_model *m)
{
    char c[16];
    snprintf(c, sizeof c, "x%d", eo_names++);
    feed("35=F|11=%s|41=%s|55=AAPL|54=1|60=20231114-22:13:20|", c, m->cl);
    expect_er('4', c);
    memcpy(m->prev, m->cl, sizeof m->prev);
    memcpy(m->cl, c, sizeof m->cl);
    if (eo_newday) /* a link made since the boundary: a hash (refused) */
        memcpy(eo_hashed[eo_n_hashed++], m->prev, 16);
    m->kept |= m->old;
    m->open = 0;
    m->status = '4';
    outlen = outread = 0;
}

static void eo_replace(eo_model *m)
{
    char r[16];
    snprintf(r, sizeof r, "r%d", eo_names++);
    feed("35=G|11=%s|41=%s|55=AAPL|54=1|60=20231114-22:13:20|38=4|40=2|44=%d|", r, m->cl, 100 + (int)(m->id % 20));
    expect_er('5', r);
    memcpy(m->prev, m->cl, sizeof m->prev);
    memcpy(m->cl, r, sizeof m->cl);
    if (eo_newday)
        memcpy(eo_hashed[eo_n_hashed++], m->prev, 16);
    m->kept |= m->old;
    outlen = outread = 0;
}

/* The end of day's expiry reports sent since the last call, into the model. */
static void eo_expiries(eo_model *mm, int n)
{
    while (next()) {
        if (strcmp(got.msgtype, "8") != 0 || brs__fix_char(&got, 150) != 'C')
            continue;
        char cl[32];
        brs__fix_str(&got, 11, cl, sizeof cl);
        int found = 0;
        for (int k = 0; k < n; k++)
            if (mm[k].old && mm[k].open && strcmp(mm[k].cl, cl) == 0) {
                assert_true(mm[k].day);
                mm[k].open = 0;
                mm[k].status = 'C';
                found++;
            }
        assert_int_equal(found, 1);
    }
    outlen = outread = 0;
}

/* The answers about order k: by ClOrdID, by OrderID, its earlier link; and
 * a NewOrderSingle with a ClOrdID in use refused (one not in use is not sent:
 * it would make an order). */
static void eo_check(const eo_model *mm, int n, int k)
{
    const eo_model *m = &mm[k], *by_cl = NULL;
    int vis = eo_visible(m);
    for (int j = 0; j < n; j++) /* the order its ClOrdID names now (it may be another's, reused) */
        if (eo_visible(&mm[j]) && strcmp(mm[j].cl, m->cl) == 0)
            by_cl = &mm[j];
    feed("35=H|11=%s|55=AAPL|54=1|", m->cl);
    assert_true(next());
    assert_int_equal(brs__fix_char(&got, 150), 'I');
    if (by_cl) {
        uint64_t id = 0;
        assert_true(brs__fix_is(&got, 11, m->cl));
        assert_int_equal(brs__fix_char(&got, 39), by_cl->status);
        assert_int_equal(brs__fix_uint(&got, 37, &id), 1);
        assert_int_equal(id, by_cl->id);
    } else {
        assert_int_equal(brs__fix_char(&got, 39), '8'); /* unknown */
    }
    feed("35=H|11=zz|37=%llu|55=AAPL|54=1|", (unsigned long long)m->id);
    assert_true(next());
    if (vis)
        assert_true(brs__fix_is(&got, 11, m->cl));
    else
        assert_int_equal(brs__fix_char(&got, 39), '8');
    const char *names[2] = {m->cl, m->prev};
    for (int j = 0; j < 2; j++)
        if (names[j][0] && eo_used(mm, n, names[j])) {
            feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=50|59=1|", names[j]);
            expect_er('8', names[j]);
            assert_true(brs__fix_is(&got, 103, "6"));
        }
    assert_false(next());
    outlen = outread = 0;
}

static void eo_step(eo_model *mm, int n)
{
    if (gw.eod_phase == BRS__FIX_EOD_EXPIRE)
        brs__fix_gateway_eod_step(&gw);
    else
        brs__fix_gateway_forget_step(&gw);
    eo_expiries(mm, n);
}

static int eo_running(void)
{
    return gw.eod_phase || brs__fix_gateway_forgetting(&gw);
}

static void eo_copy(const char *from, const char *to)
{
    size_t len;
    char *d = grab(from, &len);
    put(to, d, len);
    free(d);
}

static void test_eod_stepwise(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    book_capacity = 8192;
    open_gw(tj.path, 0);
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL); /* the day's start */
    eo_n = eo_names = eo_newday = eo_n_hashed = 0;
    for (int k = 0; k < EO_N; k++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", k);
        eo_new(name, k % 2 == 0);
    }
    for (int k = 0; k < EO_N; k += 3)
        eo_cancel(&eom[k]);
    for (int k = 1; k < EO_N; k += 5)
        if (eom[k].open)
            eo_replace(&eom[k]);
    for (int k = 0; k < eo_n; k++)
        eom[k].old = 1;
    eo_newday = 1;
    brs__fix_gateway_flush(&gw);
    gw.mc_per_turn = 7;
    gw.fg_per_turn = 61;
    gw.async_compact = 1; /* the compaction waits for a loop: the journal stays whole */
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    assert_int_equal(gw.eod_phase, BRS__FIX_EOD_EXPIRE);
    assert_false(next()); /* nothing expired yet */
    char cp[2][300];
    static eo_model saved[2][EO_MAX];
    int saved_n[2] = {0, 0}, saved_nh[2] = {0, 0}, ncp = 0;
    uint32_t seed = 11;
    int steps = 0, slices = 0, in_table = 0;
    while (eo_running()) {
        slices += gw.eod_phase == BRS__FIX_EOD_EXPIRE;
        eo_step(eom, eo_n);
        steps++;
        in_table += gw.fg_phase == BRS__FIX_FG_TABLE && gw.fg_w < gw.fg_r;
        {
            seed = seed * 1103515245u + 12345u;
            int k = (int)((seed >> 8) % (uint32_t)eo_n), what = (int)((seed >> 4) % 6);
            eo_model *m = &eom[k];
            if (what == 0 && eo_n < EO_MAX) {
                char name[16];
                snprintf(name, sizeof name, "n%d", eo_names++);
                eo_new(name, (seed >> 20) & 1);
            } else if (what == 1 && eo_n < EO_MAX) { /* a ClOrdID of this order, again */
                const char *name = (seed >> 21) & 1 && m->prev[0] ? m->prev : m->cl;
                char nm[16];
                snprintf(nm, sizeof nm, "%s", name);
                if (eo_used(eom, eo_n, nm)) {
                    feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=50|59=1|", nm);
                    expect_er('8', nm);
                    assert_true(brs__fix_is(&got, 103, "6"));
                    outlen = outread = 0;
                } else {
                    eo_new(nm, 0);
                }
            } else if (what == 2 && m->open) {
                eo_cancel(m);
            } else if (what == 3 && m->open) {
                eo_replace(m);
            } else {
                eo_check(eom, eo_n, k);
            }
        }
        brs__fix_gateway_flush(&gw);
        /* copies of the journal: in the expiry, and in the forget's table step */
        if (ncp < 2 && ((ncp == 0 && slices == 10) || (ncp == 1 && gw.fg_phase == BRS__FIX_FG_TABLE))) {
            snprintf(cp[ncp], sizeof cp[ncp], "%s/copy%d", tj.dir, ncp);
            eo_copy(tj.path, cp[ncp]);
            memcpy(saved[ncp], eom, sizeof eom);
            saved_n[ncp] = eo_n;
            saved_nh[ncp] = eo_n_hashed;
            ncp++;
        }
    }
    assert_int_equal(ncp, 2);
    assert_true(eo_n < EO_MAX - 5);
    assert_true(slices > 15);
    assert_true(steps > slices + 20);
    assert_true(in_table > 5);
    assert_true(gw.compact_due); /* the compaction comes next (a loop starts it) */
    int open = 0, held = 0;
    for (int k = 0; k < eo_n; k++) {
        eo_check(eom, eo_n, k);
        open += eom[k].open;
        held += eo_visible(&eom[k]);
    }
    assert_int_equal(gw.st.open, open);
    assert_int_equal(brs__fix_gateway_orders_held(&gw), (uint64_t)held);
    assert_int_equal(gw.fg_forgotten, (uint64_t)(eo_n - held));
    /* a ClOrdID of the old day's gone orders is free: taken again */
    int reused = 0;
    for (int k = 0; k < EO_N && reused < 5; k++)
        if (!eo_used(eom, eo_n, eom[k].cl) && eo_n < EO_MAX) {
            eo_new(eom[k].cl, 0);
            reused++;
        }
    assert_int_equal(reused, 5);
    brs__fix_gateway_flush(&gw);
    close_gw();
    /* the whole journal replayed: the same */
    open_gw(tj.path, 0);
    assert_int_equal(gw.eod_phase, 0);
    assert_int_equal(brs__fix_gateway_orders_held(&gw), (uint64_t)held + 5);
    for (int k = 0; k < eo_n; k++)
        eo_check(eom, eo_n, k);
    close_gw();
    /* the copies: the state they were taken in, then the rest of the steps */
    for (int c = 0; c < 2; c++) {
        open_gw(cp[c], 0);
        gw.mc_per_turn = 7;
        gw.fg_per_turn = 61;
        eo_nh_view = saved_nh[c];
        gw.async_compact = 1;
        assert_int_equal(gw.eod_phase, c == 0 ? BRS__FIX_EOD_EXPIRE : BRS__FIX_EOD_FORGET);
        for (int k = 0; k < saved_n[c]; k++)
            eo_check(saved[c], saved_n[c], k);
        while (eo_running())
            eo_step(saved[c], saved_n[c]);
        for (int k = 0; k < saved_n[c]; k++) {
            assert_false(saved[c][k].old && saved[c][k].day && saved[c][k].open);
            eo_check(saved[c], saved_n[c], k);
        }
        close_gw();
        unlink(cp[c]);
    }
    eo_nh_view = 1 << 30;
    book_capacity = 4096;
    journal_done(&tj);
}

/* The old day of the two tests below: the day's start, then 20 one-lot DAY
 * buys b0..b19 at 10 of AAPL. */
static void eod_old_day_buys(const char *journal)
{
    open_gw(journal, 0);
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL); /* the day's start */
    for (int k = 0; k < 20; k++) {
        char cl[16];
        snprintf(cl, sizeof cl, "b%d", k);
        feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=0|", cl);
        expect_er('0', cl);
    }
}

/* The end of day in steps of one expiry a slice begins, and its first slice
 * (b0) runs; the output so far is dropped. */
static void eod_steps_first_slice(void)
{
    brs__fix_gateway_flush(&gw);
    gw.mc_per_turn = 1;
    gw.fg_per_turn = 1024;
    gw.async_compact = 1;
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    assert_int_equal(gw.eod_phase, BRS__FIX_EOD_EXPIRE);
    brs__fix_gateway_eod_step(&gw); /* the first slice: b0 */
    outlen = outread = 0;
}

/* The rest of the end of day's steps: the expiry reports (ExecType C) they
 * send, and (*named) those of ClOrdID `name` among them. */
static int eod_steps_finish(const char *name, int *named)
{
    outlen = outread = 0;
    int expired = 0;
    while (eo_running()) {
        if (gw.eod_phase == BRS__FIX_EOD_EXPIRE)
            brs__fix_gateway_eod_step(&gw);
        else
            brs__fix_gateway_forget_step(&gw);
        while (next())
            if (strcmp(got.msgtype, "8") == 0 && brs__fix_char(&got, 150) == 'C') {
                expired++;
                if (name)
                    *named += brs__fix_is(&got, 11, name);
            }
    }
    return expired;
}

/* An old day's DAY order the expiry slices have not reached yet must not
 * trade in the new day: 20 DAY buys of the old day (reached first, one a
 * slice), then a DAY sell "ds" at 50 and a GTC sell "gs" at 50 behind it. In
 * the new day's first turn, before any slice, an IOC buy at 50 arrives: the
 * old DAY sell expires first (ExecType C) and the IOC fills the GTC sell;
 * "ds" never trades. The replay of the journal does the same. */
static void test_eod_no_old_day_trade(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    eod_old_day_buys(tj.path);
    feed("35=D|11=ds|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=0|");
    expect_er('0', "ds");
    feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=1|");
    expect_er('0', "gs");
    eod_steps_first_slice();
    feed("35=D|11=t1|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=50|59=3|");
    int ds_expired = 0, ds_traded = 0, gs_filled = 0, t1_filled = 0;
    while (next()) {
        if (strcmp(got.msgtype, "8") != 0)
            continue;
        char et = brs__fix_char(&got, 150);
        ds_expired += brs__fix_is(&got, 11, "ds") && et == 'C';
        ds_traded += brs__fix_is(&got, 11, "ds") && et == 'F';
        gs_filled += brs__fix_is(&got, 11, "gs") && et == 'F';
        t1_filled += brs__fix_is(&got, 11, "t1") && et == 'F';
    }
    assert_int_equal(ds_traded, 0);
    assert_int_equal(ds_expired, 1);
    assert_int_equal(gs_filled, 1);
    assert_int_equal(t1_filled, 1);
    int ds_again = 0;
    int expired = eod_steps_finish("ds", &ds_again);
    assert_int_equal(ds_again, 0);   /* expired once */
    assert_int_equal(expired, 19);   /* b1..b19 (b0 in the first slice) */
    assert_int_equal(gw.eod_expired, 21);
    brs__fix_gateway_flush(&gw);
    close_gw();
    /* the journal replayed: the same trade (gs filled), ds gone */
    open_gw(tj.path, 0);
    feed("35=H|11=gs|55=AAPL|54=2|");
    expect_er('I', "gs");
    assert_true(brs__fix_is(&got, 39, "2"));
    feed("35=H|11=ds|55=AAPL|54=2|");
    assert_true(next());
    assert_true(brs__fix_is(&got, 39, "8")); /* unknown: expired on the old day */
    close_gw();
    journal_done(&tj);
}

/* A replace of an old day's DAY order the expiry slices have not reached:
 * the order expires (ExecType C) and the replace is refused (35=9), so it
 * does not go on into the new day. Replaced to a crossing price it would
 * have traded as the aggressor with the GTC sell "gs" before 2026-12-07. */
static void test_eod_replace_old_day(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    eod_old_day_buys(tj.path);
    feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=1|");
    expect_er('0', "gs");
    eod_steps_first_slice();
    feed("35=G|11=r19|41=b19|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=50|");
    int b19_expired = 0, traded = 0, rejected = 0;
    while (next()) {
        if (!strcmp(got.msgtype, "9"))
            rejected += brs__fix_is(&got, 11, "r19");
        if (strcmp(got.msgtype, "8") != 0)
            continue;
        char et = brs__fix_char(&got, 150);
        b19_expired += brs__fix_is(&got, 11, "b19") && et == 'C';
        traded += et == 'F';
    }
    assert_int_equal(traded, 0);
    assert_int_equal(b19_expired, 1);
    assert_int_equal(rejected, 1);
    int expired = eod_steps_finish(NULL, NULL);
    assert_int_equal(expired, 18); /* b1..b18: b19 once */
    assert_int_equal(gw.eod_expired, 20);
    brs__fix_gateway_flush(&gw);
    close_gw();
    /* the journal replayed: gs still open, nothing traded */
    open_gw(tj.path, 0);
    feed("35=H|11=gs|55=AAPL|54=2|");
    expect_er('I', "gs");
    assert_true(brs__fix_is(&got, 39, "0"));
    close_gw();
    journal_done(&tj);
}

/* An expiry's cancel that reaches the venue a latency after its slice is
 * still the expiry: FIX 4.4 ExecType and OrdStatus C (Expired), not a
 * cancel (4), and not a change of the new day (the order is gone after the
 * forget steps, unknown to a status request). */
static void test_eod_expiry_after_latency(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_gw(tj.path, 0);
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
    feed("35=D|11=d1|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=0|");
    expect_er('0', "d1");
    brs__fix_gateway_flush(&gw);
    gw.mc_per_turn = 7;
    gw.fg_per_turn = 13;
    gw.async_compact = 1;
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    brs__rt_set_latency(gw.rt, 1000000, 1000000, 0); /* 1 ms to the venue */
    outlen = outread = 0;
    brs__fix_gateway_eod_step(&gw);
    assert_false(next()); /* the expiry's cancel is on its way */
    brs__fix_pump(&gw, T0 + 2000000);
    expect_er('C', "d1");
    assert_int_equal(brs__fix_char(&got, 39), 'C');
    while (gw.eod_phase || brs__fix_gateway_forgetting(&gw))
        if (gw.eod_phase == BRS__FIX_EOD_EXPIRE)
            brs__fix_gateway_eod_step(&gw);
        else
            brs__fix_gateway_forget_step(&gw);
    outlen = outread = 0;
    feed("35=H|11=d1|55=AAPL|54=1|");
    assert_true(next());
    assert_int_equal(brs__fix_char(&got, 39), '8'); /* gone with the old day */
    brs__fix_gateway_flush(&gw);
    close_gw();
    journal_done(&tj);
}

/* The runtime's advances into the journal (CLOCK), as bourse serve's hook does. */
static void journal_clock_hook(void *user, int64_t now)
{
    brs__fix_journal_clock(user, now);
}

/* Counts of one pump's or message's ExecutionReports by ClOrdID and ExecType. */
static int count_er(const char *clordid, char exec_type)
{
    int n = 0;
    for (size_t at = 0; at < outlen;) {
        size_t ml;
        brs__fix_msg m;
        brs__fix_msg_init(&m);
        assert_int_equal(brs__fix_frame(out + at, outlen - at, 1 << 20, &ml), BRS__FIX_FRAME_OK);
        assert_int_equal(brs__fix_parse(&m, out + at, ml), BRS_OK);
        at += ml;
        n += strcmp(m.msgtype, "8") == 0 && brs__fix_is(&m, 11, clordid) && brs__fix_char(&m, 150) == exec_type;
    }
    return n;
}

/* An old day's DAY order still on its way to the venue (a 1 ms order-entry
 * latency) when the expiry slices pass it expires all the same: its
 * acknowledgement (New) is followed by its expiry (C), and an IOC of the new
 * day at its price does not meet it; the journal's replay does the same.
 * (Before 2026-12-07 14:00 it rested, open, until the next end of day, and
 * the IOC filled it.) A DAY sell "fs" on its way as well, which the slices
 * have not reached when a crossing buy "nb" of the new day comes, expires
 * before that buy reaches the venue. */
static void test_eod_expires_orders_in_flight(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_lat[0] = 1000000; /* 1 ms to the venue, the replay's too */
    open_gw(tj.path, 0);
    brs__rt_set_clock_hook(gw.rt, journal_clock_hook, &gw); /* as serve's loop: its advances journaled */
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
    for (int k = 0; k < 5; k++) /* resting DAY buys first: the slices reach "fs" late */
        feed("35=D|11=b%d|55=MSFT|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=0|", k);
    brs__fix_pump(&gw, T0 + 1000000);
    assert_int_equal(count_er("b4", '0'), 1);
    outlen = outread = 0;
    feed("35=D|11=d1|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=10|59=0|");
    feed("35=D|11=fs|55=MSFT|54=2|60=20231114-22:13:20|38=1|40=2|44=20|59=0|");
    assert_false(next()); /* on their way */
    brs__fix_gateway_flush(&gw);
    gw.mc_per_turn = 1;
    gw.fg_per_turn = 13;
    gw.async_compact = 1;
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    while (gw.eod_phase == BRS__FIX_EOD_EXPIRE && gw.eod_after < 6)
        brs__fix_gateway_eod_step(&gw); /* b0..b4, then d1 (AAPL), on its way */
    /* a buy of the new day at 20 crosses "fs" (its slice not reached yet) */
    feed("35=D|11=nb|55=MSFT|54=1|60=20231114-22:13:20|38=1|40=2|44=20|59=3|");
    while (gw.eod_phase || brs__fix_gateway_forgetting(&gw))
        if (gw.eod_phase == BRS__FIX_EOD_EXPIRE)
            brs__fix_gateway_eod_step(&gw);
        else
            brs__fix_gateway_forget_step(&gw);
    brs__fix_pump(&gw, T0 + 3000000); /* the venue has them */
    assert_int_equal(count_er("d1", '0'), 1);
    assert_int_equal(count_er("d1", 'C'), 1);
    assert_int_equal(count_er("fs", 'C'), 1);
    assert_int_equal(count_er("fs", 'F'), 0);
    assert_int_equal(count_er("nb", 'F'), 0);
    assert_int_equal(count_er("b4", 'C'), 1);
    outlen = outread = 0;
    feed("35=D|11=s1|55=AAPL|54=2|60=20231114-22:13:20|38=5|40=2|44=10|59=3|");
    brs__fix_pump(&gw, T0 + 5000000);
    assert_int_equal(count_er("s1", 'F'), 0);
    assert_int_equal(count_er("s1", '4'), 1);
    assert_int_equal(count_er("d1", 'F'), 0);
    outlen = outread = 0;
    feed("35=H|11=d1|55=AAPL|54=1|");
    expect_er('I', "d1");
    assert_int_equal(brs__fix_char(&got, 39), 'C'); /* acknowledged in the new day: kept, expired */
    brs__fix_gateway_flush(&gw);
    close_gw();
    /* the journal replayed: the same */
    open_lat[0] = 1000000;
    open_gw(tj.path, 0);
    feed("35=H|11=d1|55=AAPL|54=1|");
    expect_er('I', "d1");
    assert_int_equal(brs__fix_char(&got, 39), 'C');
    feed("35=H|11=s1|55=AAPL|54=2|");
    expect_er('I', "s1");
    assert_int_equal(brs__fix_char(&got, 39), '4'); /* the IOC met nothing */
    feed("35=H|11=fs|55=MSFT|54=2|");
    expect_er('I', "fs");
    assert_int_equal(brs__fix_char(&got, 39), 'C');
    close_gw();
    /* the same journal with its end of day of mode 3 (EOD_STEPS, as written
     * before these rules): replayed as that code ran it, d1 is not expired
     * and the IOC s1 fills it */
    FILE *f = fopen(tj.path, "r+b");
    assert_non_null(f);
    int patched = 0;
    for (;;) {
        uint32_t h[2];
        long at = ftell(f);
        if (fread(h, 4, 2, f) != 2)
            break;
        if (h[0] == JOURNAL_END_OF_DAY && h[1] == EOD_STEPS_LEN) {
            char mode;
            assert_int_equal(fseek(f, at + 16, SEEK_SET), 0);
            assert_int_equal(fread(&mode, 1, 1, f), 1);
            assert_int_equal(mode, EOD_STEPS_V3);
            mode = EOD_STEPS;
            assert_int_equal(fseek(f, at + 16, SEEK_SET), 0);
            assert_int_equal(fwrite(&mode, 1, 1, f), 1);
            patched++;
        }
        assert_int_equal(fseek(f, at + 8 + (long)h[1], SEEK_SET), 0);
    }
    fclose(f);
    assert_int_equal(patched, 1);
    open_lat[0] = 1000000;
    open_gw(tj.path, 0);
    feed("35=H|11=d1|55=AAPL|54=1|");
    expect_er('I', "d1");
    assert_int_equal(brs__fix_char(&got, 39), '2');
    close_gw();
    journal_done(&tj);
}

/* With a venue cancel latency (2 ms) longer than the order-entry one (1 ms),
 * the IOC buy of the new day that expires the old day's DAY sell "ds" first
 * reaches the venue after that expiry and fills the GTC sell "gs" behind
 * it; "ds" never trades. (Before 2026-12-07 14:00 the IOC got there first and
 * filled "ds".) The journal's replay does the same. */
static void test_eod_expiry_ahead_of_order(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_lat[0] = 1000000;
    open_lat[1] = 2000000;
    open_gw(tj.path, 0);
    brs__rt_set_clock_hook(gw.rt, journal_clock_hook, &gw);
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
    feed("35=D|11=b0|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=0|");
    feed("35=D|11=ds|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=0|");
    feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=1|");
    brs__fix_pump(&gw, T0 + 1000000);
    assert_int_equal(count_er("gs", '0'), 1);
    brs__fix_gateway_flush(&gw);
    gw.mc_per_turn = 1;
    gw.fg_per_turn = 1024;
    gw.async_compact = 1;
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    brs__fix_gateway_eod_step(&gw); /* b0 */
    outlen = outread = 0;
    feed("35=D|11=t1|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=50|59=3|");
    assert_false(next()); /* the expiry and the IOC on their way */
    brs__fix_pump(&gw, T0 + 4000000);
    assert_int_equal(count_er("ds", 'F'), 0);
    assert_int_equal(count_er("ds", 'C'), 1);
    assert_int_equal(count_er("gs", 'F'), 1);
    assert_int_equal(count_er("t1", 'F'), 1);
    while (gw.eod_phase || brs__fix_gateway_forgetting(&gw))
        if (gw.eod_phase == BRS__FIX_EOD_EXPIRE)
            brs__fix_gateway_eod_step(&gw);
        else
            brs__fix_gateway_forget_step(&gw);
    brs__fix_pump(&gw, T0 + 8000000);
    assert_int_equal(count_er("ds", 'C'), 1); /* once */
    brs__fix_gateway_flush(&gw);
    close_gw();
    open_lat[0] = 1000000;
    open_lat[1] = 2000000;
    open_gw(tj.path, 0);
    feed("35=H|11=gs|55=AAPL|54=2|");
    expect_er('I', "gs");
    assert_true(brs__fix_is(&got, 39, "2"));
    feed("35=H|11=t1|55=AAPL|54=1|");
    expect_er('I', "t1");
    assert_true(brs__fix_is(&got, 39, "2"));
    close_gw();
    journal_done(&tj);
}

/* A runtime client beside the sessions (as a hosted strategy is): when its
 * resting buy fills it answers, inside that runtime step, with an IOC buy of
 * AAPL at 50. */
static brs__rt *strat_rt;
static uint32_t strat_client;
static int strat_fills, strat_answer_fills;
static void strat_on_order(void *user, const brs_order_event *ev)
{
    (void)user;
    if (ev->kind != BRS_OEV_FILL)
        return;
    if (ev->order_id == 2) {
        strat_answer_fills++;
        return;
    }
    strat_fills++;
    brs_order o = {.id = 2, .instrument = 0, .price = 5000, .qty = 1, .side = BRS_BUY, .type = BRS_LIMIT,
                   .tif = BRS_IOC};
    assert_int_equal(brs__rt_submit(strat_rt, strat_client, &o), BRS_OK);
}

/* A hosted strategy's order sent in answer to its own order event while the
 * expiry slices run (no client message: no crossing expiry of the session's
 * own) expires the old day's DAY sell "ds" it would meet first, through the
 * runtime's submit hook, and fills the GTC sell "gs" behind it. (Before
 * 2026-12-07 14:00 it filled "ds".) */
static void test_eod_strategy_order_no_old_day_trade(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_gw(tj.path, 0);
    brs_error err = {0};
    brs__rt_client_ops ops = {.xOnOrder = strat_on_order};
    assert_int_equal(brs__rt_client_add(gw.rt, &ops, brs__rt_default_route(gw.rt), &strat_client, &err), BRS_OK);
    strat_rt = gw.rt;
    strat_fills = strat_answer_fills = 0;
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
    feed("35=D|11=b0|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=1|59=0|");
    feed("35=D|11=ds|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=0|");
    feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=1|");
    brs_order rest = {.id = 1, .instrument = 0, .price = 500, .qty = 1, .side = BRS_BUY, .type = BRS_LIMIT,
                      .tif = BRS_GTC};
    assert_int_equal(brs__rt_submit(gw.rt, strat_client, &rest), BRS_OK);
    brs__fix_pump(&gw, T0);
    eod_steps_first_slice(); /* b0 */
    feed("35=D|11=t1|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=5|59=3|"); /* fills the strategy's buy */
    assert_int_equal(strat_fills, 1);
    assert_int_equal(strat_answer_fills, 1);
    assert_int_equal(count_er("t1", 'F'), 1);
    assert_int_equal(count_er("ds", 'F'), 0);
    assert_int_equal(count_er("ds", 'C'), 1);
    assert_int_equal(count_er("gs", 'F'), 1);
    brs__fix_gateway_flush(&gw);
    close_gw();
    journal_done(&tj);
}

/* The journal at path with its END_OF_DAY record of mode `from` turned into
 * mode `to` (the record of a one-turn end of day or of one in steps):
 * returns how many were. */
static int patch_eod_mode(const char *path, char from, char to)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    int patched = 0;
    for (;;) {
        uint32_t h[2];
        long at = ftell(f);
        if (fread(h, 4, 2, f) != 2)
            break;
        if (h[0] == JOURNAL_END_OF_DAY && (h[1] == EOD_STEPS_LEN || h[1] == 9)) {
            char mode;
            assert_int_equal(fseek(f, at + 16, SEEK_SET), 0);
            assert_int_equal(fread(&mode, 1, 1, f), 1);
            if (mode == from) {
                assert_int_equal(fseek(f, at + 16, SEEK_SET), 0);
                assert_int_equal(fwrite(&to, 1, 1, f), 1);
                patched++;
            }
        }
        assert_int_equal(fseek(f, at + 8 + (long)h[1], SEEK_SET), 0);
    }
    fclose(f);
    return patched;
}

static void run_eod_steps(void)
{
    while (gw.eod_phase || brs__fix_gateway_forgetting(&gw))
        if (gw.eod_phase == BRS__FIX_EOD_EXPIRE)
            brs__fix_gateway_eod_step(&gw);
        else
            brs__fix_gateway_forget_step(&gw);
}

/* The status (39) of ClOrdID cl (AAPL, side) as the gateway answers it now. */
static char status_of_cl(const char *cl, int side)
{
    outread = outlen; /* past what came before */
    feed("35=H|11=%s|55=AAPL|54=%d|", cl, side);
    expect_er('I', cl);
    return brs__fix_char(&got, 39);
}

/* (EOD_STEPS_V3, EOD_FORGET_WIRE) An old day's DAY buy "db" on the wire to
 * the venue (1 ms order entry) when the end of day begins, crossing the GTC
 * sell "gs" resting there, never trades: it expires at the venue on arrival,
 * New then C once, whether its slice passes before it arrives (how 0), it
 * arrives before its slice (how 1: 5 DAY buys ahead, one a slice), or the end
 * of day is the one-turn one (how 2: no loop). The GTC buy "gb" on the wire
 * behind it fills "gs". The journal replays to the same; with its record
 * turned into the mode before (EOD_STEPS_V2, EOD_FORGET_KEEP) it replays as
 * that code ran: "db" fills "gs" at its arrival, "gb" rests. (Before 2026-12-07 17:00,
 * "db" traded there in the new day.) */
static void test_eod_wire_order_expires_on_arrival(void **state)
{
    (void)state;
    for (int how = 0; how < 3; how++) {
        tmp_journal tj;
        journal_new(&tj);
        open_lat[0] = 1000000;
        open_gw(tj.path, 0);
        brs__rt_set_clock_hook(gw.rt, journal_clock_hook, &gw);
        brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
        for (int k = 0; k < 5; k++)
            feed("35=D|11=b%d|55=MSFT|54=1|60=20231114-22:13:20|38=1|40=2|44=1|59=0|", k);
        feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=10|59=1|");
        brs__fix_pump(&gw, T0 + 1000000);
        assert_int_equal(count_er("gs", '0'), 1);
        outlen = outread = 0;
        feed("35=D|11=db|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=0|");
        feed("35=D|11=gb|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=1|");
        assert_false(next()); /* on the wire */
        brs__fix_gateway_flush(&gw);
        gw.mc_per_turn = how == 2 ? 0 : how == 1 ? 1 : 1024;
        gw.fg_per_turn = how == 2 ? 0 : 1024;
        gw.async_compact = 1; /* the journal stays whole: replayed below */
        brs_error err = {0};
        assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
        if (how == 0)
            run_eod_steps(); /* every slice before the venue has them */
        brs__fix_pump(&gw, T0 + 3000000); /* the venue has them */
        if (how == 1) {
            assert_int_equal(gw.eod_phase, BRS__FIX_EOD_EXPIRE); /* they arrived before db's slice */
            run_eod_steps();
        }
        brs__fix_pump(&gw, T0 + 6000000);
        assert_int_equal(count_er("db", '0'), 1);
        assert_int_equal(count_er("db", 'C'), 1);
        assert_int_equal(count_er("db", 'F'), 0);
        assert_int_equal(count_er("gb", 'F'), 1);
        assert_int_equal(count_er("gs", 'F'), 1);
        if (how < 2)
            assert_int_equal(count_er("b4", 'C'), 1);
        assert_int_equal(status_of_cl("db", 1), 'C'); /* acknowledged in the new day: kept, expired */
        brs__fix_gateway_flush(&gw);
        close_gw();
        open_lat[0] = 1000000; /* the journal replayed: the same */
        open_gw(tj.path, 0);
        assert_int_equal(status_of_cl("db", 1), 'C');
        assert_int_equal(status_of_cl("gb", 1), '2');
        assert_int_equal(status_of_cl("gs", 2), '2');
        close_gw();
        /* the mode before: replayed as its code ran */
        assert_int_equal(patch_eod_mode(tj.path, how == 2 ? EOD_FORGET_WIRE : EOD_STEPS_V3,
                                        how == 2 ? EOD_FORGET_KEEP : EOD_STEPS_V2), 1);
        open_lat[0] = 1000000;
        open_gw(tj.path, 0);
        assert_int_equal(status_of_cl("gs", 2), '2'); /* db took it */
        assert_int_equal(status_of_cl("gb", 1), '0');
        close_gw();
        journal_done(&tj);
    }
}

/* (EOD_STEPS_V3, EOD_FORGET_WIRE) A replace of the old day's DAY buy "dr"
 * (at 5, resting) to 10, crossing the GTC sell "gs", on the wire when the end
 * of day begins: at the venue "dr" expires instead (C once, no fill, no
 * Replaced), "gs" rests on; in steps (how 0) and in one turn (how 1), and in
 * the journal's replay. (Before 2026-12-07 17:00 the replace reached the
 * venue ahead of the expiry and "dr" bought "gs" in the new day.) */
static void test_eod_wire_replace_expires(void **state)
{
    (void)state;
    for (int how = 0; how < 2; how++) {
        tmp_journal tj;
        journal_new(&tj);
        open_lat[0] = 1000000;
        open_gw(tj.path, 0);
        brs__rt_set_clock_hook(gw.rt, journal_clock_hook, &gw);
        brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
        feed("35=D|11=dr|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=5|59=0|");
        feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=10|59=1|");
        brs__fix_pump(&gw, T0 + 1000000);
        assert_int_equal(count_er("dr", '0'), 1);
        assert_int_equal(count_er("gs", '0'), 1);
        outlen = outread = 0;
        feed("35=G|11=dr2|41=dr|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|");
        assert_false(next()); /* on the wire */
        brs__fix_gateway_flush(&gw);
        gw.mc_per_turn = how ? 0 : 1024;
        gw.fg_per_turn = how ? 0 : 1024;
        gw.async_compact = 1;
        brs_error err = {0};
        assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
        run_eod_steps();
        brs__fix_pump(&gw, T0 + 6000000);
        assert_int_equal(count_er("dr", 'C') + count_er("dr2", 'C'), 1);
        assert_int_equal(count_er("dr", 'F') + count_er("dr2", 'F'), 0);
        assert_int_equal(count_er("dr2", '5'), 0);
        assert_int_equal(count_er("gs", 'F'), 0);
        assert_int_equal(status_of_cl("gs", 2), '0');
        brs__fix_gateway_flush(&gw);
        close_gw();
        open_lat[0] = 1000000;
        open_gw(tj.path, 0);
        assert_int_equal(status_of_cl("gs", 2), '0');
        close_gw();
        journal_done(&tj);
    }
}

/* (EOD_STEPS_V3) A hosted strategy's replace sent while the slices run (in
 * answer to its own fill) to a price crossing the old day's DAY sell "ds"
 * expires "ds" first, as its new orders do, and fills the GTC sell "gs"
 * behind it (brs__rt_replace_known, the runtime's replace hook; before
 * 2026-12-07 17:00 it bought "ds"). */
static int strat_replace_fills;
static void strat_replace_on_order(void *user, const brs_order_event *ev)
{
    (void)user;
    if (ev->kind != BRS_OEV_FILL)
        return;
    if (ev->order_id == 3) {
        strat_replace_fills++;
        return;
    }
    strat_fills++;
    brs_order o = {.id = 3, .instrument = 0, .price = 5000, .qty = 1, .side = BRS_BUY, .type = BRS_LIMIT,
                   .tif = BRS_GTC};
    assert_int_equal(brs__rt_replace_known(strat_rt, strat_client, &o), BRS_OK);
}

static void test_eod_strategy_replace_no_old_day_trade(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_gw(tj.path, 0);
    brs_error err = {0};
    brs__rt_client_ops ops = {.xOnOrder = strat_replace_on_order};
    assert_int_equal(brs__rt_client_add(gw.rt, &ops, brs__rt_default_route(gw.rt), &strat_client, &err), BRS_OK);
    strat_rt = gw.rt;
    strat_fills = strat_replace_fills = 0;
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
    feed("35=D|11=b0|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=1|59=0|");
    feed("35=D|11=ds|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=0|");
    feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=1|");
    brs_order rest = {.id = 1, .instrument = 0, .price = 500, .qty = 1, .side = BRS_BUY, .type = BRS_LIMIT,
                      .tif = BRS_GTC};
    assert_int_equal(brs__rt_submit(gw.rt, strat_client, &rest), BRS_OK);
    brs_order low = {.id = 3, .instrument = 0, .price = 100, .qty = 1, .side = BRS_BUY, .type = BRS_LIMIT,
                     .tif = BRS_GTC};
    assert_int_equal(brs__rt_submit(gw.rt, strat_client, &low), BRS_OK);
    brs__fix_pump(&gw, T0);
    eod_steps_first_slice(); /* b0 */
    feed("35=D|11=t1|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=5|59=3|"); /* fills the strategy's buy at 5 */
    assert_int_equal(strat_fills, 1);
    assert_int_equal(strat_replace_fills, 1);
    assert_int_equal(count_er("ds", 'F'), 0);
    assert_int_equal(count_er("ds", 'C'), 1);
    assert_int_equal(count_er("gs", 'F'), 1);
    brs__fix_gateway_flush(&gw);
    close_gw();
    journal_done(&tj);
}

/* (EOD_STEPS_V3) With a cancel latency (2 ms), the last slice's expiry of
 * the old day's DAY buy "d0" is still on the wire after the slices end: what
 * could meet it (the market data replay, the strategies' timers) still waits
 * (brs__fix_gateway_eod_holds) until the venue has it. (Before 2026-12-07
 * 17:00 it went on at the last slice: a print could fill "d0" meanwhile.) */
static void test_eod_holds_while_expiry_on_wire(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_lat[1] = 2000000;
    open_gw(tj.path, 0);
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
    feed("35=D|11=d0|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=0|");
    brs__fix_pump(&gw, T0);
    assert_int_equal(count_er("d0", '0'), 1);
    brs__fix_gateway_flush(&gw);
    gw.mc_per_turn = 1024;
    gw.fg_per_turn = 1024;
    gw.async_compact = 1;
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    assert_true(brs__fix_gateway_eod_holds(&gw));
    run_eod_steps();
    assert_int_equal(count_er("d0", 'C'), 0); /* its expiry on the wire */
    assert_true(brs__fix_gateway_eod_holds(&gw));
    brs__fix_pump(&gw, T0 + 1000000);
    assert_true(brs__fix_gateway_eod_holds(&gw));
    brs__fix_pump(&gw, T0 + 10000000);
    assert_int_equal(count_er("d0", 'C'), 1);
    assert_false(brs__fix_gateway_eod_holds(&gw));
    brs__fix_gateway_flush(&gw);
    close_gw();
    journal_done(&tj);
}

/* (EOD_STEPS_V3) With a cancel latency (2 ms) longer than the order-entry
 * one (1 ms): a slice expires the old day's DAY sell "ds" (its cancel on the
 * wire), then an IOC buy of the new day at its price, "t1", comes, while the
 * slices still run (how 0: DAY buys behind "ds") or just after the last one
 * (how 1): it reaches the venue after the expiry and fills the GTC sell "gs"
 * behind; "ds" never trades. (Before 2026-12-07 17:00 "t1" passed over
 * "ds", whose expiry was sent already, and reached the venue a cancel
 * latency early: it bought "ds".) */
static void test_eod_order_after_expiry_on_wire(void **state)
{
    (void)state;
    for (int how = 0; how < 2; how++) {
        tmp_journal tj;
        journal_new(&tj);
        open_lat[0] = 1000000;
        open_lat[1] = 2000000;
        open_gw(tj.path, 0);
        brs__rt_set_clock_hook(gw.rt, journal_clock_hook, &gw);
        brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
        feed("35=D|11=ds|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=0|");
        feed("35=D|11=gs|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=50|59=1|");
        if (how == 0)
            for (int k = 0; k < 3; k++)
                feed("35=D|11=b%d|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=1|59=0|", k);
        brs__fix_pump(&gw, T0 + 1000000);
        assert_int_equal(count_er("gs", '0'), 1);
        brs__fix_gateway_flush(&gw);
        gw.mc_per_turn = how ? 1024 : 1;
        gw.fg_per_turn = 1024;
        gw.async_compact = 1;
        brs_error err = {0};
        assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
        brs__fix_gateway_eod_step(&gw); /* ds (how 0), or every one */
        assert_int_equal(gw.eod_phase, how ? BRS__FIX_EOD_FORGET : BRS__FIX_EOD_EXPIRE);
        outlen = outread = 0;
        feed("35=D|11=t1|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=50|59=3|");
        brs__fix_pump(&gw, T0 + 8000000);
        run_eod_steps();
        brs__fix_pump(&gw, T0 + 12000000);
        assert_int_equal(count_er("ds", 'F'), 0);
        assert_int_equal(count_er("ds", 'C'), 1);
        assert_int_equal(count_er("gs", 'F'), 1);
        assert_int_equal(count_er("t1", 'F'), 1);
        brs__fix_gateway_flush(&gw);
        close_gw();
        open_lat[0] = 1000000;
        open_lat[1] = 2000000;
        open_gw(tj.path, 0);
        assert_int_equal(status_of_cl("gs", 2), '2');
        assert_int_equal(status_of_cl("t1", 1), '2');
        close_gw();
        journal_done(&tj);
    }
}

/* An order still on its way to the venue (an order-entry latency) while
 * closed orders leave memory, after a checkpoint and at an end of day in
 * steps: it is not closed, so it stays, and its acknowledgement reaches the
 * client when the venue has it. (Taken for closed - not open - its slot was
 * dropped: the venue rested it, its reports were lost.) */
static void test_forget_keeps_orders_in_flight(void **state)
{
    (void)state;
    for (int eod = 0; eod < 2; eod++) {
        tmp_journal tj;
        journal_new(&tj);
        open_gw(tj.path, 0);
        brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
        for (int k = 0; k < 300; k++) { /* closed orders to forget */
            feed("35=D|11=c%d|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=3|", k);
            outlen = outread = 0;
        }
        brs__fix_gateway_flush(&gw);
        gw.mc_per_turn = 7;
        gw.fg_per_turn = 13;
        gw.async_compact = 1;
        brs_error err = {0};
        if (eod) {
            assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
        } else {
            assert_int_equal(brs__fix_gateway_checkpoint_start(&gw, &err), BRS_OK);
            int done = 0;
            while (!done) {
                assert_int_equal(brs__fix_gateway_checkpoint_poll(&gw, &done, &err), BRS_OK);
                if (!done)
                    usleep(1000);
            }
        }
        brs__rt_set_latency(gw.rt, 1000000, 0, 0); /* 1 ms to the venue */
        feed("35=D|11=f1|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=10|59=1|");
        assert_false(next()); /* on its way */
        int steps = 0;
        while (gw.eod_phase || brs__fix_gateway_forgetting(&gw)) {
            if (gw.eod_phase == BRS__FIX_EOD_EXPIRE)
                brs__fix_gateway_eod_step(&gw);
            else
                brs__fix_gateway_forget_step(&gw);
            steps++;
        }
        assert_true(steps > 10);
        outlen = outread = 0;
        brs__fix_pump(&gw, T0 + 2000000); /* the venue has it */
        expect_er('0', "f1");
        feed("35=H|11=f1|55=AAPL|54=1|");
        expect_er('I', "f1");
        assert_int_equal(brs__fix_char(&got, 39), '0');
        brs__fix_gateway_flush(&gw);
        close_gw();
        journal_done(&tj);
    }
}

/* The one-turn end of day (no mc_per_turn, fg_per_turn: tests, bench):
 * an order still on its way to the venue is kept (END_OF_DAY mode
 * EOD_FORGET_KEEP) and acknowledged when the venue has it (mode EOD_FORGET,
 * as before, dropped its slot: its reports were lost), and a replay of the
 * journal does the same. */
static void test_eod_at_once_keeps_orders_in_flight(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_gw(tj.path, 0);
    brs__fix_gateway_end_of_day(&gw, T0 - 1000, 1, NULL);
    feed("35=D|11=c1|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=10|59=3|");
    outlen = outread = 0;
    brs__rt_set_latency(gw.rt, 1000000, 0, 0); /* 1 ms to the venue */
    feed("35=D|11=f1|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=10|59=1|");
    assert_false(next()); /* on its way */
    gw.async_compact = 1; /* the journal stays whole: replayed below */
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_OK);
    assert_int_equal(gw.eod_phase, 0);
    assert_false(brs__fix_gateway_forgetting(&gw));
    brs__fix_pump(&gw, T0 + 2000000); /* the venue has it */
    expect_er('0', "f1");
    feed("35=H|11=f1|55=AAPL|54=1|");
    expect_er('I', "f1");
    assert_int_equal(brs__fix_char(&got, 39), '0');
    brs__fix_gateway_flush(&gw);
    close_gw();
    open_gw(tj.path, 0);
    feed("35=H|11=f1|55=AAPL|54=1|");
    expect_er('I', "f1");
    assert_int_equal(brs__fix_char(&got, 39), '0');
    feed("35=H|11=c1|55=AAPL|54=1|");
    assert_true(next());
    assert_int_equal(brs__fix_char(&got, 39), '8'); /* closed on the old day: forgotten */
    close_gw();
    journal_done(&tj);
}

/* A checkpoint of many open orders over several price levels: the snapshot
 * lists them in queue priority (level by level), a restart rests them in that
 * order and puts the table back in OrderID order (a radix sort and an
 * in-place permutation, app_table.c). Every order is then found by its
 * OrderID and by its ClOrdID, with its own state, and the queue order holds. */
static void test_checkpoint_many_levels(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_gw(tj.path, 0);
    enum { N = 700 };
    static uint64_t oid[N];
    for (int i = 0; i < N; i++) {
        feed("35=D|11=m%d|55=AAPL|54=1|60=20231114-22:13:20|38=%d|40=2|44=%d|59=1|", i, 1 + i % 5,
             10 + (i * 7) % 13);
        assert_true(next());
        assert_true(brs__fix_is(&got, 150, "0"));
        assert_int_equal(brs__fix_uint(&got, 37, &oid[i]), 1);
    }
    /* every third order moves to another price: it goes to the back of its
     * new level, so queue priority and OrderID order differ */
    for (int i = 0; i < N; i += 3) {
        feed("35=G|41=m%d|11=r%d|55=AAPL|54=1|60=20231114-22:13:20|38=%d|40=2|44=%d|", i, i, 1 + i % 5,
             10 + (i * 7 + 5) % 13);
        char r[16];
        snprintf(r, sizeof r, "r%d", i);
        expect_er('5', r);
    }
    assert_false(next());
    brs__fix_gateway_flush(&gw);
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_checkpoint(&gw, &err), BRS_OK);
    close_gw();
    open_gw(tj.path, 0);
    assert_int_equal(brs__fix_gateway_orders_held(&gw), N);
    for (int i = 0; i < N; i++) {
        char want[16], got_cl[16];
        snprintf(want, sizeof want, "%c%d", i % 3 ? 'm' : 'r', i);
        feed("35=H|11=zz|37=%llu|55=AAPL|54=1|", (unsigned long long)oid[i]);
        assert_true(next());
        assert_true(brs__fix_is(&got, 150, "I"));
        brs__fix_str(&got, 11, got_cl, sizeof got_cl);
        assert_string_equal(got_cl, want);
        uint64_t q = 0;
        assert_int_equal(brs__fix_uint(&got, 151, &q), 1);
        assert_int_equal(q, 1 + i % 5);
        feed("35=H|11=%s|55=AAPL|54=1|", want);
        assert_true(next());
        uint64_t id = 0;
        assert_int_equal(brs__fix_uint(&got, 37, &id), 1);
        assert_int_equal(id, oid[i]);
    }
    /* the best level (price 22) trades first: the orders that were there
     * from the start, in arrival order, before the ones replaced into it */
    feed("35=D|11=s1|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=22|59=3|");
    int first = -1;
    for (int i = 0; i < N && first < 0; i++)
        if (i % 3 && (i * 7) % 13 == 12)
            first = i;
    char want[16];
    snprintf(want, sizeof want, "m%d", first);
    int seen = 0;
    while (next())
        if (brs__fix_is(&got, 150, "F") && brs__fix_is(&got, 54, "1")) {
            assert_true(brs__fix_is(&got, 11, want));
            seen++;
        }
    assert_int_equal(seen, 1);
    close_gw();
    journal_done(&tj);
}

/* The snapshot cannot be written (its temporary path is a directory): the end
 * of day still forgets the closed orders, says why, and leaves the old journal
 * complete with a record that makes a replay forget the same orders. */
static void test_compaction_fallback(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    const char *path = tj.path;
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.compact", path);
    assert_int_equal(mkdir(tmp, 0755), 0);
    open_gw(path, 0);
    feed("35=D|11=g1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|59=1|");
    expect_er('0', "g1");
    feed("35=D|11=c1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=9|59=3|");
    expect_er('0', "c1");
    expect_er('4', "c1");
    brs_error err = {0};
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, &err), BRS_E_IO);
    assert_non_null(strstr(err.msg, ".compact"));
    assert_int_equal(brs__fix_gateway_orders_held(&gw), 1);
    feed("35=D|11=c1|55=AAPL|54=1|60=20231114-22:13:20|38=3|40=2|44=9|59=1|");
    expect_er('0', "c1"); /* a new day: c1 may be used again */
    char last_exec[32];
    brs__fix_str(&got, 17, last_exec, sizeof last_exec);
    brs__fix_gateway_flush(&gw);
    close_gw();
    uint32_t first = 0;
    size_t len = 0;
    char *j = grab(path, &len);
    memcpy(&first, j, 4);
    free(j);
    assert_int_not_equal(first, 0x7ffffff0u); /* still the full journal, no snapshot */

    open_gw(path, 0);
    assert_int_equal(brs__fix_gateway_orders_held(&gw), 2);
    assert_int_equal(gw.day_boundary, T0);
    feed("35=H|11=c1|55=AAPL|54=1|");
    expect_er('I', "c1");
    assert_true(brs__fix_is(&got, 39, "0"));
    assert_true(brs__fix_is(&got, 38, "3"));
    feed("35=D|11=n1|55=AAPL|54=2|60=20231114-22:13:20|38=1|40=2|44=11|59=1|");
    expect_er('0', "n1");
    uint64_t e1 = 0;
    assert_int_equal(brs__fix_uint(&got, 17, &e1), 1);
    assert_int_equal(e1, strtoull(last_exec, NULL, 10) + 1);
    close_gw();
    rmdir(tmp);
    journal_done(&tj);
}

/* Positions are followed and snapshotted with or without limits: a gateway
 * run without `risk` compacts at the end of day, restarts with max_position
 * 35, and CLIENT1's long 30 from before the snapshot counts (a buy of 10
 * more is refused). Before, such a snapshot held no positions and the limit
 * started from 0. */
static void test_positions_survive_without_risk(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    open_gw2_risk(tj.path, 0);
    feed("35=D|11=b1|55=AAPL|54=1|60=20231114-22:13:20|38=30|40=2|44=10|59=1|");
    expect_er('0', "b1");
    feed2("35=D|11=s1|55=AAPL|54=2|60=20231114-22:13:20|38=30|40=2|44=10|59=1|");
    outlen = outread = 0;
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, NULL), BRS_OK);
    close_gw2();
    open_gw2_risk(tj.path, 1);
    feed("35=D|11=b2|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=9|59=1|");
    expect_er('8', "b2");
    assert_true(brs__fix_is(&got, 103, "3"));
    assert_non_null(strstr(got.buf + brs__fix_get(&got, 58)->off, "max_position"));
    feed("35=D|11=b3|55=AAPL|54=1|60=20231114-22:13:20|38=5|40=2|44=9|59=1|");
    expect_er('0', "b3"); /* 30 + 5 is within 35 */
    close_gw2();
    journal_done(&tj);
}

/* A damaged snapshot stops the start with an error naming the record, and
 * changes nothing on disk. */
static void test_bad_snapshot(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    const char *path = tj.path;
    open_gw(path, 0);
    feed("35=D|11=g1|55=AAPL|54=1|60=20231114-22:13:20|38=10|40=2|44=10|59=1|");
    expect_er('0', "g1");
    assert_int_equal(brs__fix_gateway_end_of_day(&gw, T0, 0, NULL), BRS_OK);
    close_gw();
    size_t len = 0;
    char *good = grab(path, &len);
    /* header, one order, the session's positions (kept with or without risk
     * limits: 8 + 8 + 2 instruments x 32), end */
    assert_int_equal(len, 48 + 128 + 80 + 8 + 16); /* + COMMIT */
    struct {
        const char *what;
        size_t off, n; /* bytes replaced */
        const char *with;
        size_t cut; /* new length, 0: unchanged */
    } cases[] = {
        {"no end record", 0, 0, "", 48 + 128 + 80},
        {"order count", 8 + 32, 1, "\x02", 0},
        {"instrument", 48 + 8 + 12, 1, "\x09", 0},
        {"record size", 48 + 4, 1, "\x10", 0},
        {"version", 8, 1, "\x07", 0},
    };
    for (size_t k = 0; k < BRS__ARRAY_LEN(cases); k++) {
        char *bad = malloc(len);
        assert_non_null(bad);
        memcpy(bad, good, len);
        memcpy(bad + cases[k].off, cases[k].with, cases[k].n);
        size_t blen = cases[k].cut ? cases[k].cut : len;
        put(path, bad, blen);
        brs__fix_instr in[2] = {{"AAPL", 2, 1, 1}, {"MSFT", 2, 1, 1}};
        brs_error err = {0};
        assert_int_equal(brs__fix_gateway_open(&gw, in, 2, 4096, path, 0, &err), BRS_OK);
        brs__fix_session *s1 = malloc(sizeof *s1);
        assert_non_null(s1);
        brs__fix_session_cfg cfg = {0};
        snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
        snprintf(cfg.target, sizeof cfg.target, "CLIENT1");
        assert_int_equal(brs__fix_session_open(s1, &cfg, NULL, 0, &err), BRS_OK);
        assert_int_equal(brs__fix_gateway_add_session(&gw, s1), BRS_OK);
        int rc = brs__fix_gateway_replay(&gw, &err);
        if (rc == BRS_OK)
            print_error("%s: accepted\n", cases[k].what);
        assert_int_equal(rc, BRS_E_CORRUPT);
        assert_non_null(strstr(err.msg, "journal"));
        brs__fix_gateway_close(&gw);
        brs__fix_session_close(s1);
        free(s1);
        size_t after = 0;
        char *now = grab(path, &after);
        assert_int_equal(after, blen); /* nothing cut or rewritten */
        assert_memory_equal(now, bad, blen);
        free(now);
        free(bad);
    }
    free(good);
    journal_done(&tj);
}

/* The ClOrdID map grows by moving its old table a few slots per insert: while
 * a move is under way every key must still be found, in whichever table it
 * is. 20,000 orders take the map through four growths; after each insert a
 * duplicate of an earlier ClOrdID (a pseudo-random one, the first, the last)
 * must be refused as a duplicate, and at the end every order can be
 * cancelled by its ClOrdID. */
static void test_clordid_map_growth(void **state)
{
    (void)state;
    tmp_journal tj;
    enum { N = 20000 };
    char id[32];
    journal_new(&tj);
    book_capacity = N;
    open_gw(tj.path, 0);
    for (int k = 0; k < N; k++) {
        snprintf(id, sizeof id, "g%d", k);
        feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=%d|", id, 100 + k % 50);
        expect_er('0', id);
        int probes[3] = {(int)(((uint64_t)k * 7919u) % (uint64_t)(k + 1)), 0, k};
        for (int p = 0; p < 3; p++) {
            snprintf(id, sizeof id, "g%d", probes[p]);
            feed("35=D|11=%s|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=100|", id);
            expect_er('8', id);
            assert_true(brs__fix_is(&got, 103, "6")); /* duplicate order */
        }
        outlen = outread = 0;
    }
    for (int k = 0; k < N; k++) {
        char cid[32];
        snprintf(id, sizeof id, "g%d", k);
        snprintf(cid, sizeof cid, "c%d", k);
        feed("35=F|11=%s|41=%s|55=AAPL|54=1|60=20231114-22:13:20|", cid, id);
        expect_er('4', cid);
        assert_true(brs__fix_is(&got, 41, id));
        outlen = outread = 0;
    }
    close_gw();
    book_capacity = 4096;
    journal_done(&tj);
}

/* MarketDataRequest with MDEntryType 2: trades come as entries of the
 * updates, here full refreshes (W): the book, then the trade that changed it,
 * once per trade (not once per side). Other entry types are refused. */
static void test_md_trades(void **state)
{
    (void)state;
    open_gw(NULL, 0);
    feed("35=V|262=m1|263=1|264=5|265=0|267=3|269=0|269=1|269=2|146=1|55=MSFT|");
    assert_true(next());
    assert_string_equal(got.msgtype, "W");
    assert_true(brs__fix_is(&got, 268, "0"));
    feed("35=D|11=b1|55=MSFT|54=1|60=20231114-22:13:20|38=10|40=2|44=300|");
    expect_er('0', "b1");
    assert_true(next());
    assert_string_equal(got.msgtype, "W");
    assert_true(brs__fix_is(&got, 268, "1")); /* the bid, no trade yet */
    feed("35=D|11=s1|55=MSFT|54=2|60=20231114-22:13:20|38=4|40=2|44=299|");
    expect_er('0', "s1");
    expect_er('F', "b1");
    expect_er('F', "s1");
    assert_true(next());
    assert_string_equal(got.msgtype, "W");
    assert_true(brs__fix_is(&got, 268, "2")); /* the bid left, and one trade */
    int trades = 0;
    for (uint32_t k = 0; k < got.nfields; k++)
        if (got.fields[k].tag == 269 && got.buf[got.fields[k].off] == '2') {
            trades++; /* then its price and size: 4 at the resting 300 */
            assert_true(k + 2 < got.nfields);
            assert_int_equal(got.fields[k + 1].tag, 270);
            assert_memory_equal(got.buf + got.fields[k + 1].off, "300", 3);
            assert_int_equal(got.fields[k + 1].len, 3);
            assert_int_equal(got.fields[k + 2].tag, 271);
            assert_memory_equal(got.buf + got.fields[k + 2].off, "4", 1);
            assert_int_equal(got.fields[k + 2].len, 1);
        }
    assert_int_equal(trades, 1);
    assert_false(next());
    feed("35=V|262=m2|263=0|264=5|267=1|269=5|146=1|55=MSFT|");
    assert_true(next());
    assert_string_equal(got.msgtype, "Y");
    assert_true(brs__fix_is(&got, 281, "8"));
    close_gw();
}

/* A buy sweeping 1,000 resting sells, seen by a full-refresh subscription
 * that asked for trades: its 1,000 trades come over several W, each within
 * the output buffer and each with the book (the bid left), in order. Before,
 * the one W holding every trade (~25 KB here) was too large to send (logged,
 * not sent): the subscriber lost the sweep. */
static void test_md_trades_sweep_full_refresh(void **state)
{
    (void)state;
    enum { N = 1000 };
    open_gw(NULL, 0);
    feed("35=D|11=bid|55=MSFT|54=1|60=20231114-22:13:20|38=5|40=2|44=200|");
    expect_er('0', "bid");
    for (int k = 0; k < N; k++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", k);
        feed("35=D|11=%s|55=MSFT|54=2|60=20231114-22:13:20|38=1|40=2|44=%d|", id, 300 + k % 7);
        expect_er('0', id);
    }
    outlen = outread = 0;
    feed("35=V|262=m1|263=1|264=20|265=0|267=3|269=0|269=1|269=2|146=1|55=MSFT|");
    assert_true(next());
    assert_string_equal(got.msgtype, "W");
    outlen = outread = 0;
    feed("35=D|11=sweep|55=MSFT|54=1|60=20231114-22:13:20|38=%d|40=2|44=400|", N);
    int ws = 0, trades = 0, fills = 0;
    int64_t last_px = 0;
    while (next()) {
        if (!strcmp(got.msgtype, "8")) {
            fills += brs__fix_is(&got, 150, "F");
            continue;
        }
        assert_string_equal(got.msgtype, "W");
        assert_true(got.len <= BRS__FIX_OUT_MAX);
        ws++;
        int bid = 0, asks = 0, here = 0;
        for (uint32_t k = 0; k < got.nfields; k++) {
            if (got.fields[k].tag != 269)
                continue;
            char t = got.buf[got.fields[k].off];
            bid += t == '0';
            asks += t == '1';
            if (t == '2') {
                here++;
                assert_int_equal(got.fields[k + 1].tag, 270);
                int64_t px = strtoll(got.buf + got.fields[k + 1].off, NULL, 10);
                assert_true(px >= last_px); /* price-time order: the cheapest first */
                last_px = px;
            }
        }
        assert_int_equal(bid, 1); /* the book in every W */
        assert_int_equal(asks, 0);
        assert_true(here > 0 && here <= 96);
        trades += here;
    }
    assert_int_equal(trades, N);
    assert_int_equal(fills, 2 * N); /* the taker's and each maker's: one session */
    assert_true(ws >= (N + 95) / 96);
    close_gw();
}

/* A mass cancel streamed in slices (mc_per_turn 7 over 50 orders): the
 * hosted strategies see the books after each slice live (the slice is a
 * journaled step, brs__fix_md_publish), and the replay must show them the
 * books at the same points, or a strategy acting on them would act
 * differently after a restart. The hook is counted live and on the replay
 * of the whole journal: the same number. (The replayed slice skipped it.) */
static void test_mc_slices_books_hook(void **state)
{
    (void)state;
    tmp_journal tj;
    journal_new(&tj);
    books_hook_on = 1;
    books_hook_calls = 0;
    open_gw(tj.path, 0);
    for (int k = 0; k < 50; k++) {
        feed("35=D|11=m%d|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=2|44=%d|", k, 100 + k);
        outlen = outread = 0;
    }
    gw.mc_per_turn = 7;
    feed("35=q|11=q1|530=7|60=20231114-22:13:20|");
    int slices = 0;
    while (brs__fix_gateway_mc_step(&gw, 0) > 0)
        slices++;
    brs__fix_gateway_flush(&gw);
    assert_int_equal(gw.st.open, 0);
    assert_true(slices >= 6);
    unsigned long live = books_hook_calls;
    close_gw();
    books_hook_calls = 0;
    open_gw(tj.path, 0);
    assert_int_equal(gw.st.open, 0);
    if (books_hook_calls != live)
        fail_msg("books hook: %lu calls live (%d slices), %lu on the replay", live, slices, books_hook_calls);
    close_gw();
    books_hook_on = 0;
    journal_done(&tj);
}

/* Market data limits (issue 15): a symbol listed twice is one subscription;
 * more symbols than max_md_symbols_per_request, or more subscriptions than
 * max_md_subscriptions_per_session / max_md_subscriptions, are refused with
 * 281=2 and a Text naming the key; two subscriptions of different depths on
 * one instrument each see their own depth (the book is read once per publish). */
static void test_md_limits(void **state)
{
    (void)state;
    open_gw(NULL, 0);
    gw.max_md_symbols = 2;
    gw.max_md_subs_per_session = 3;
    gw.max_md_subs = 100;
    char text[256];
    feed("35=V|262=a|263=1|264=1|265=0|267=1|269=0|146=2|55=MSFT|55=MSFT|");
    assert_true(next());
    assert_string_equal(got.msgtype, "W"); /* one snapshot: MSFT once */
    assert_false(next());
    assert_int_equal(gw.n_subs, 1);
    feed("35=V|262=b|263=1|264=1|265=0|267=1|269=0|146=3|55=MSFT|55=AAPL|55=MSFT|");
    assert_true(next());
    assert_string_equal(got.msgtype, "Y");
    assert_true(brs__fix_is(&got, 281, "2"));
    assert_true(brs__fix_str(&got, 58, text, sizeof text));
    assert_non_null(strstr(text, "max_md_symbols_per_request 2"));
    feed("35=V|262=c|263=1|264=5|265=0|267=1|269=0|146=2|55=MSFT|55=AAPL|");
    assert_true(next());
    assert_true(next()); /* two snapshots */
    assert_false(next());
    assert_int_equal(gw.n_subs, 3);
    feed("35=V|262=d|263=1|264=1|265=0|267=1|269=0|146=1|55=AAPL|");
    assert_true(next());
    assert_string_equal(got.msgtype, "Y");
    assert_true(brs__fix_str(&got, 58, text, sizeof text));
    assert_non_null(strstr(text, "max_md_subscriptions_per_session 3"));
    assert_int_equal(gw.n_subs, 3);
    /* a snapshot request (263=0) is not a subscription: still served */
    feed("35=V|262=e|263=0|264=1|267=1|269=0|146=1|55=AAPL|");
    assert_true(next());
    assert_string_equal(got.msgtype, "W");
    /* two bids on MSFT: depth 1 (a) sees one entry, depth 5 (c) sees two */
    feed("35=D|11=b1|55=MSFT|54=1|60=20231114-22:13:20|38=10|40=2|44=300|");
    feed("35=D|11=b2|55=MSFT|54=1|60=20231114-22:13:20|38=10|40=2|44=299|");
    int last_a = -1, last_c = -1, ers = 0;
    while (next()) {
        if (!strcmp(got.msgtype, "8")) {
            ers++;
            continue;
        }
        assert_string_equal(got.msgtype, "W");
        char id[8];
        brs__fix_str(&got, 262, id, sizeof id);
        char n[8];
        brs__fix_str(&got, 268, n, sizeof n);
        if (!strcmp(id, "a"))
            last_a = atoi(n);
        else if (!strcmp(id, "c"))
            last_c = atoi(n);
    }
    assert_int_equal(ers, 2);
    assert_int_equal(last_a, 1);
    assert_int_equal(last_c, 2);
    /* the venue-wide limit */
    gw.max_md_subs_per_session = 100;
    gw.max_md_subs = 4;
    feed("35=V|262=f|263=1|264=1|265=0|267=1|269=0|146=2|55=MSFT|55=AAPL|");
    assert_true(next());
    assert_string_equal(got.msgtype, "Y");
    assert_true(brs__fix_str(&got, 58, text, sizeof text));
    assert_non_null(strstr(text, "max_md_subscriptions 4"));
    close_gw();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md_limits),
        cmocka_unit_test(test_risk_and_journal_replay),
        cmocka_unit_test(test_replace_risk),
        cmocka_unit_test(test_status_and_mass_cancel),
        cmocka_unit_test(test_end_of_day),
        cmocka_unit_test(test_md_trades),
        cmocka_unit_test(test_md_trades_sweep_full_refresh),
        cmocka_unit_test(test_mc_slices_books_hook),
        cmocka_unit_test(test_clordid_map_growth),
        cmocka_unit_test(test_positions_survive_without_risk),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_compaction_fallback),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_checkpoint_many_levels),
        cmocka_unit_test(test_checkpoint_stepwise),
        cmocka_unit_test(test_eod_stepwise),
        cmocka_unit_test(test_eod_no_old_day_trade),
        cmocka_unit_test(test_eod_replace_old_day),
        cmocka_unit_test(test_eod_expiry_after_latency),
        cmocka_unit_test(test_eod_expires_orders_in_flight),
        cmocka_unit_test(test_eod_expiry_ahead_of_order),
        cmocka_unit_test(test_eod_strategy_order_no_old_day_trade),
        cmocka_unit_test(test_eod_wire_order_expires_on_arrival),
        cmocka_unit_test(test_eod_wire_replace_expires),
        cmocka_unit_test(test_eod_strategy_replace_no_old_day_trade),
        cmocka_unit_test(test_eod_holds_while_expiry_on_wire),
        cmocka_unit_test(test_eod_order_after_expiry_on_wire),
        cmocka_unit_test(test_eod_at_once_keeps_orders_in_flight),
        cmocka_unit_test(test_forget_keeps_orders_in_flight),
        cmocka_unit_test(test_bad_snapshot),
        cmocka_unit_test(test_market_order_and_ioc),
        cmocka_unit_test(test_avgpx_no_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
