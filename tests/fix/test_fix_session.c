/* test_fix_session.c: the FIX session state machine driven with in-memory byte
 * streams: Logon (CompIDs, password, reset), TestRequest, gaps and
 * ResendRequest, resend from the store with GapFill, SequenceReset both modes,
 * Reject reason codes, garbled input, heartbeat timeout, restart persistence,
 * store compaction at a reset, fields over max_field_bytes; the MsgType
 * index the message counters use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "fix/recfile.h"
#include "fix/session.h"
#include "fixmsg.h"

#define T0 1700000000000000000LL
#define SEC 1000000000LL

typedef struct peer {
    char out[1 << 16];
    size_t len, read;
    int closed;
    int napp;
    char last_app[8];
} peer;

static brs__fix_session sess;
static peer P;
static brs__fix_msg got;

static int p_send(void *ctx, const char *p, size_t n)
{
    peer *x = ctx;
    assert_true(x->len + n <= sizeof x->out);
    memcpy(x->out + x->len, p, n);
    x->len += n;
    return BRS_OK;
}
static void p_close(void *ctx)
{
    ((peer *)ctx)->closed = 1;
}
static void on_app(void *app, brs__fix_session *s, const brs__fix_msg *m)
{
    (void)s;
    peer *x = app;
    x->napp++;
    snprintf(x->last_app, sizeof x->last_app, "%s", m->msgtype);
}

static void open_session(const char *store, const char *user, const char *pass)
{
    brs__fix_session_cfg cfg = {0};
    snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
    snprintf(cfg.target, sizeof cfg.target, "CLIENT1");
    if (user)
        snprintf(cfg.username, sizeof cfg.username, "%s", user);
    if (pass)
        snprintf(cfg.password, sizeof cfg.password, "%s", pass);
    cfg.max_msg = 8192;
    brs_error err = {0};
    assert_int_equal(brs__fix_session_open(&sess, &cfg, store, BRS__FIX_FSYNC_NEVER, &err), BRS_OK);
    sess.on_app = on_app;
    sess.app = &P;
    memset(&P, 0, sizeof P);
    brs__fix_session_io io = {&P, p_send, p_close};
    brs__fix_session_attach(&sess, &io, T0);
}

/* Send "body" (with '|') from the client; header fields are the caller's. */
static void feed(const char *body, int64_t now)
{
    char buf[16384];
    size_t n = brs_test_fixmsg(buf, sizeof buf, "FIX.4.4", body);
    assert_int_equal(brs__fix_session_input(&sess, buf, n, now), n);
}

/* Next message the session wrote, parsed into got; 0 when none is left. */
static int next(void)
{
    if (P.read >= P.len)
        return 0;
    size_t ml = 0;
    assert_int_equal(brs__fix_frame(P.out + P.read, P.len - P.read, 1 << 20, &ml), BRS__FIX_FRAME_OK);
    assert_int_equal(brs__fix_parse(&got, P.out + P.read, ml), BRS_OK);
    assert_int_equal(got.reject_reason, -1);
    P.read += ml;
    return 1;
}

static void expect(const char *msgtype, uint32_t seq)
{
    assert_true(next());
    assert_string_equal(got.msgtype, msgtype);
    if (seq)
        assert_int_equal(got.seq, seq);
}

#define HDR(seq) "49=CLIENT1|56=EXEC|34=" #seq "|52=20231114-22:13:20.000|"

static void logon(void)
{
    feed("35=A|" HDR(1) "98=0|108=30|", T0);
    expect("A", 1);
    assert_true(brs__fix_is(&got, 108, "30"));
    assert_int_equal(sess.state, BRS__FIX_ACTIVE);
}

static int setup(void **state)
{
    (void)state;
    brs__fix_msg_init(&got);
    return 0;
}

static void test_logon_testrequest_logout(void **state)
{
    (void)state;
    open_session(NULL, NULL, NULL);
    logon();
    feed("35=1|" HDR(2) "112=ping-1|", T0);
    expect("0", 2);
    assert_true(brs__fix_is(&got, 112, "ping-1"));
    assert_true(brs__fix_is(&got, 49, "EXEC"));
    assert_true(brs__fix_is(&got, 56, "CLIENT1"));
    feed("35=5|" HDR(3), T0);
    expect("5", 3);
    assert_true(P.closed);
    assert_int_equal(sess.state, BRS__FIX_DISCONNECTED);
    brs__fix_session_close(&sess);
}

static void test_logon_refusals(void **state)
{
    (void)state;
    open_session(NULL, NULL, NULL);
    feed("35=A|49=NOBODY|56=EXEC|34=1|52=20231114-22:13:20|98=0|108=30|", T0);
    expect("5", 0);
    assert_non_null(strstr(sess.text, "CompID"));
    assert_true(P.closed);
    brs__fix_session_close(&sess);

    open_session(NULL, "alice", "secret");
    feed("35=A|" HDR(1) "98=0|108=30|553=alice|554=wrong|", T0);
    expect("5", 0);
    assert_true(P.closed);
    brs__fix_session_close(&sess);

    open_session(NULL, "alice", "secret");
    feed("35=A|" HDR(1) "98=0|108=30|553=alice|554=secret|", T0);
    expect("A", 1);
    brs__fix_session_close(&sess);

    /* first message not a Logon: dropped without a word */
    open_session(NULL, NULL, NULL);
    feed("35=0|" HDR(1), T0);
    assert_int_equal(P.len, 0);
    assert_true(P.closed);
    brs__fix_session_close(&sess);

    /* wrong BeginString */
    open_session(NULL, NULL, NULL);
    logon();
    char buf[512];
    size_t n = brs_test_fixmsg(buf, sizeof buf, "FIX.4.2", "35=0|" HDR(2));
    brs__fix_session_input(&sess, buf, n, T0);
    expect("5", 2);
    assert_true(P.closed);
    brs__fix_session_close(&sess);
}

static void test_gap_and_resend_request(void **state)
{
    (void)state;
    open_session(NULL, NULL, NULL);
    logon();
    feed("35=D|" HDR(4) "11=a|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=1|", T0);
    expect("2", 2);
    assert_true(brs__fix_is(&got, 7, "2"));
    assert_true(brs__fix_is(&got, 16, "0"));
    assert_int_equal(P.napp, 0);
    /* a second too-high message does not ask again */
    feed("35=0|" HDR(5), T0);
    assert_false(next());
    /* the client gap-fills 2..3 and resends 4 and 5 */
    feed("35=4|" "49=CLIENT1|56=EXEC|34=2|52=20231114-22:13:20|43=Y|122=20231114-22:13:20|123=Y|36=4|", T0);
    feed("35=D|" "49=CLIENT1|56=EXEC|34=4|52=20231114-22:13:20|43=Y|122=20231114-22:13:20|"
         "11=a|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=1|", T0);
    feed("35=0|" "49=CLIENT1|56=EXEC|34=5|52=20231114-22:13:20|43=Y|122=20231114-22:13:20|", T0);
    assert_int_equal(P.napp, 1);
    assert_int_equal(sess.store.next_in, 6);
    /* a PossDup duplicate is ignored; one without 122 is rejected (reason 1) */
    feed("35=D|" "49=CLIENT1|56=EXEC|34=4|52=20231114-22:13:20|43=Y|122=20231114-22:13:20|"
         "11=a|55=AAPL|54=1|60=20231114-22:13:20|38=1|40=1|", T0);
    assert_int_equal(P.napp, 1);
    assert_false(next());
    feed("35=0|" "49=CLIENT1|56=EXEC|34=5|52=20231114-22:13:20|43=Y|", T0);
    expect("3", 3);
    assert_true(brs__fix_is(&got, 373, "1"));
    assert_true(brs__fix_is(&got, 371, "122"));
    /* too low without PossDupFlag: Logout */
    feed("35=0|" HDR(3), T0);
    expect("5", 4);
    assert_non_null(strstr(sess.text, "too low"));
    assert_true(P.closed);
    brs__fix_session_close(&sess);
}

static void app_msg(const char *clordid)
{
    brs__fix_enc *e = brs__fix_session_begin(&sess, "8");
    brs__fix_enc_str(e, 37, "1");
    brs__fix_enc_str(e, 11, clordid);
    brs__fix_enc_str(e, 17, "E1");
    brs__fix_enc_char(e, 150, '0');
    brs__fix_enc_char(e, 39, '0');
    brs__fix_enc_str(e, 55, "AAPL");
    brs__fix_enc_char(e, 54, '1');
    brs__fix_enc_int(e, 151, 1);
    brs__fix_enc_int(e, 14, 0);
    brs__fix_enc_int(e, 6, 0);
    assert_int_equal(brs__fix_session_send(&sess), BRS_OK);
}

static void test_resend_from_store(void **state)
{
    (void)state;
    open_session(NULL, NULL, NULL);
    logon();          /* out 1: Logon */
    app_msg("o-2");   /* out 2 */
    expect("8", 2);
    feed("35=1|" HDR(2) "112=x|", T0);
    expect("0", 3);   /* out 3: Heartbeat */
    app_msg("o-4");   /* out 4 */
    expect("8", 4);
    feed("35=2|" HDR(3) "7=1|16=0|", T0 + SEC);
    expect("4", 1); /* Logon gap-filled */
    assert_true(brs__fix_is(&got, 123, "Y"));
    assert_true(brs__fix_is(&got, 36, "2"));
    assert_true(brs__fix_is(&got, 43, "Y"));
    expect("8", 2);
    assert_true(brs__fix_is(&got, 43, "Y"));
    assert_true(brs__fix_is(&got, 11, "o-2"));
    assert_non_null(brs__fix_get(&got, 122));
    assert_true(brs__fix_is(&got, 14, "0"));
    expect("4", 3);
    assert_true(brs__fix_is(&got, 36, "4"));
    expect("8", 4);
    assert_true(brs__fix_is(&got, 11, "o-4"));
    assert_false(next());
    /* a bounded range */
    feed("35=2|" HDR(4) "7=2|16=2|", T0 + SEC);
    expect("8", 2);
    assert_false(next());
    assert_int_equal(sess.store.next_out, 5);
    brs__fix_session_close(&sess);
}

/* A resend streamed a message at a time (resend_batch 1, as a server that
 * sends while its socket drains): admin runs still coalesce into one GapFill
 * across the calls, and the answer is the same as all at once. */
static void test_resend_streamed(void **state)
{
    (void)state;
    open_session(NULL, NULL, NULL);
    logon();                                 /* out 1 */
    feed("35=1|" HDR(2) "112=a|", T0);       /* out 2 */
    expect("0", 2);
    feed("35=1|" HDR(3) "112=b|", T0);       /* out 3 */
    expect("0", 3);
    app_msg("o-4");                          /* out 4 */
    expect("8", 4);
    feed("35=1|" HDR(4) "112=c|", T0);       /* out 5 */
    expect("0", 5);
    sess.resend_batch = 1;
    feed("35=2|" HDR(5) "7=1|16=0|", T0 + SEC);
    assert_false(next());                    /* message 1 looked at: a gap pending */
    assert_int_equal(brs__fix_session_resend_more(&sess, 1), 1);
    assert_int_equal(brs__fix_session_resend_more(&sess, 1), 1);
    assert_false(next());                    /* 2, 3: still the same gap */
    assert_int_equal(brs__fix_session_resend_more(&sess, 1), 1);
    expect("4", 1);                          /* one GapFill for 1..3 */
    assert_true(brs__fix_is(&got, 36, "4"));
    expect("8", 4);
    assert_true(brs__fix_is(&got, 43, "Y"));
    assert_int_equal(brs__fix_session_resend_more(&sess, 1), 0);
    expect("4", 5);                          /* the trailing run, at the end */
    assert_true(brs__fix_is(&got, 36, "6"));
    assert_false(next());
    assert_int_equal(sess.resend.next, 0);
    brs__fix_session_close(&sess);
}

static void test_sequence_reset_and_rejects(void **state)
{
    (void)state;
    open_session(NULL, NULL, NULL);
    logon();
    /* Reset mode: MsgSeqNum ignored, NewSeqNo taken */
    feed("35=4|" HDR(99) "36=10|", T0);
    assert_int_equal(sess.store.next_in, 10);
    feed("35=4|" HDR(10) "36=5|123=N|", T0);
    expect("3", 2);
    assert_true(brs__fix_is(&got, 373, "5"));
    assert_true(brs__fix_is(&got, 371, "36"));
    /* GapFill that goes backwards: Reject 5 */
    feed("35=4|" HDR(10) "123=Y|36=3|", T0);
    expect("3", 3);
    assert_true(brs__fix_is(&got, 373, "5"));
    assert_int_equal(sess.store.next_in, 11);
    /* missing required tag: Reject 1 naming the tag; the seq is consumed */
    feed("35=D|" HDR(11) "55=AAPL|54=1|60=20231114-22:13:20|38=1|40=1|", T0);
    expect("3", 4);
    assert_true(brs__fix_is(&got, 373, "1"));
    assert_true(brs__fix_is(&got, 371, "11"));
    assert_true(brs__fix_is(&got, 45, "11"));
    assert_true(brs__fix_is(&got, 372, "D"));
    assert_int_equal(P.napp, 0);
    /* unknown MsgType: Reject 11 */
    feed("35=ZZ|" HDR(12), T0);
    expect("3", 5);
    assert_true(brs__fix_is(&got, 373, "11"));
    /* bad group count: Reject 16 */
    feed("35=V|" HDR(13) "262=r|263=0|264=1|267=3|269=0|269=1|146=1|55=AAPL|", T0);
    expect("3", 6);
    assert_true(brs__fix_is(&got, 373, "16"));
    /* garbled (bad checksum): ignored, no sequence number consumed */
    char buf[512];
    size_t n = brs_test_fixmsg(buf, sizeof buf, "FIX.4.4", "35=0|" HDR(14));
    buf[n - 3] = buf[n - 3] == '0' ? '1' : '0';
    brs__fix_session_input(&sess, buf, n, T0);
    assert_false(next());
    assert_int_equal(sess.garbled, 1);
    assert_int_equal(sess.store.next_in, 14);
    /* garbage bytes then a good message */
    const char junk[] = "GET / HTTP/1.1\r\n\r\n";
    brs__fix_session_input(&sess, junk, sizeof junk - 1, T0);
    feed("35=1|" HDR(14) "112=after|", T0);
    expect("0", 7);
    /* wrong CompID: Reject 9 then Logout */
    feed("35=0|49=OTHER|56=EXEC|34=15|52=20231114-22:13:20|", T0);
    expect("3", 8);
    assert_true(brs__fix_is(&got, 373, "9"));
    expect("5", 9);
    assert_true(P.closed);
    brs__fix_session_close(&sess);
}

static void test_too_big_and_timeouts(void **state)
{
    (void)state;
    open_session(NULL, NULL, NULL);
    logon();
    /* heartbeat on idle output */
    brs__fix_session_timer(&sess, T0 + 30 * SEC);
    expect("0", 2);
    /* silence: TestRequest after 1.2 HeartBtInt, Logout after 2.4 (QuickFIX's timing) */
    brs__fix_session_timer(&sess, T0 + 35 * SEC);
    assert_false(next());
    brs__fix_session_timer(&sess, T0 + 36 * SEC);
    expect("1", 3);
    assert_non_null(brs__fix_get(&got, 112));
    brs__fix_session_timer(&sess, T0 + 71 * SEC);
    assert_false(P.closed);
    brs__fix_session_timer(&sess, T0 + 72 * SEC);
    assert_true(P.closed);
    assert_non_null(strstr(sess.text, "heartbeat"));
    brs__fix_session_close(&sess);

    open_session(NULL, NULL, NULL);
    logon();
    /* a message announced at 1 MB: Logout at once */
    char big[128];
    int n = snprintf(big, sizeof big, "8=FIX.4.4\0019=1048576\00135=D\001");
    brs__fix_session_input(&sess, big, (size_t)n, T0);
    expect("5", 2);
    assert_non_null(strstr(sess.text, "too large"));
    assert_true(P.closed);
    brs__fix_session_close(&sess);
}

static void test_reset_and_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/brs_fix_sess_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/CLIENT1.store", dir);
    open_session(path, NULL, NULL);
    logon();
    app_msg("r-2");
    feed("35=0|" HDR(2), T0);
    feed("35=0|" HDR(3), T0);
    brs__fix_session_close(&sess);

    open_session(path, NULL, NULL);
    assert_int_equal(sess.store.next_in, 4);
    assert_int_equal(sess.store.next_out, 3);
    /* logon continuing the sequence; ask for the old app message back */
    feed("35=A|" HDR(4) "98=0|108=30|", T0);
    expect("A", 3);
    feed("35=2|" HDR(5) "7=2|16=2|", T0);
    expect("8", 2);
    assert_true(brs__fix_is(&got, 11, "r-2"));
    brs__fix_session_close(&sess);

    /* ResetSeqNumFlag: both sides back to 1 */
    open_session(path, NULL, NULL);
    feed("35=A|" HDR(1) "98=0|108=30|141=Y|", T0);
    expect("A", 1);
    assert_true(brs__fix_is(&got, 141, "Y"));
    assert_int_equal(sess.store.next_in, 2);
    /* committed (flushed): the store sheds what came before the reset into
     * the archive and keeps only the new session's records */
    brs__fix_store_flush(&sess.store);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    brs__fix_store_compact(&sess.store, T0);
    assert_int_equal(sess.store.compactions, 1);
    assert_int_equal(stat(path, &after), 0);
    assert_true(after.st_size < before.st_size);
    assert_true(after.st_size < 200); /* our Logon and the inbound number */
    char arch[512];
    snprintf(arch, sizeof arch, "%s/archive", dir);
    DIR *ad = opendir(arch);
    assert_non_null(ad);
    struct dirent *de;
    char archived[768] = "";
    while ((de = readdir(ad)))
        if (de->d_name[0] != '.')
            snprintf(archived, sizeof archived, "%s/%s", arch, de->d_name);
    closedir(ad);
    assert_true(strstr(archived, "CLIENT1.store.20231114-22:13:20") == NULL); /* no ':' */
    assert_non_null(strstr(archived, "CLIENT1.store.20231114-221320."));
    struct stat ast;
    assert_int_equal(stat(archived, &ast), 0);
    assert_int_equal(ast.st_size, before.st_size); /* the whole history, as it was */
    /* the resend index still finds the new session's message */
    char mbuf[512];
    long ml = brs__fix_store_get(&sess.store, 1, mbuf, sizeof mbuf - 1);
    assert_true(ml > 0);
    mbuf[ml] = 0;
    assert_non_null(strstr(mbuf, "35=A"));
    brs__fix_session_close(&sess);
    open_session(path, NULL, NULL);
    assert_int_equal(sess.store.next_in, 2);
    assert_int_equal(sess.store.next_out, 2);
    brs__fix_session_close(&sess);
    /* a compaction cut by a crash after the old file left: NAME.compact is
     * the store (rolled forward at open); with NAME still there it is dropped */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.compact", path);
    assert_int_equal(rename(path, tmp), 0);
    open_session(path, NULL, NULL);
    assert_int_equal(sess.store.next_out, 2);
    assert_int_equal(access(tmp, F_OK), -1);
    brs__fix_session_close(&sess);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("junk", f);
    fclose(f);
    open_session(path, NULL, NULL);
    assert_int_equal(sess.store.next_out, 2);
    assert_int_equal(access(tmp, F_OK), -1);
    brs__fix_session_close(&sess);
    unlink(path);
    unlink(archived);
    rmdir(arch);
    rmdir(dir);
}

/* A damaged store (a flipped bit, a hand edit) is refused at open with the
 * file and byte named, and left as it is; a torn tail (a crash mid-append,
 * or zeros past the last write) is still cut. Before: an outbound number
 * near 2^32 sized the resend index to tens of GB (2^31 and up never ended
 * its doubling), and an unknown record kind mid-file cut every message
 * after it without a word. */
static int reopen(const char *path, brs_error *err)
{
    brs__fix_session_cfg cfg = {0};
    snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
    snprintf(cfg.target, sizeof cfg.target, "CLIENT1");
    cfg.max_msg = 8192;
    memset(err, 0, sizeof *err);
    int rc = brs__fix_session_open(&sess, &cfg, path, BRS__FIX_FSYNC_NEVER, err);
    if (rc != BRS_OK)
        brs__fix_session_close(&sess);
    return rc;
}

static void patch(const char *path, long at, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static void test_damaged_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/brs_fix_dmg_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], copy[300];
    snprintf(path, sizeof path, "%s/CLIENT1.store", dir);
    snprintf(copy, sizeof copy, "%s/copy", dir);
    open_session(path, NULL, NULL);
    logon();
    app_msg("r-2");
    app_msg("r-3");
    brs__fix_session_close(&sess);
    long len = file_size(path);
    char *orig = malloc((size_t)len);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(orig, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    /* the records (a store of version 2, fix/recfile.h: a header record,
     * a checksum after each record): find the second outbound message
     * ('O', seq 2) */
    assert_int_equal(orig[0], 'V');
    long o2 = -1, o2n = 0;
    for (long p = BRS__SFMT_HDR; p + 9 <= len;) {
        uint32_t a, n;
        memcpy(&a, orig + p + 1, 4);
        memcpy(&n, orig + p + 5, 4);
        if (orig[p] == 'O' && a == 2)
            o2 = p, o2n = n;
        p += 9 + (long)n + BRS__REC_CRC;
    }
    assert_true(o2 > 0);
    brs_error err;
    const uint32_t huge = 0xfffffff0u;
    const unsigned char kind = 'Q';
    for (int k = 0; k < 3; k++) {
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(orig, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        char rec[4096];
        memcpy(rec, orig + o2, (size_t)(9 + o2n));
        if (k == 0)
            memcpy(rec + 1, &huge, 4); /* its number */
        else if (k == 1)
            rec[0] = (char)kind; /* its kind */
        else
            rec[20] ^= 0x04; /* one bit of its bytes, the checksum as it was */
        patch(path, o2, rec, (size_t)(9 + o2n));
        if (k < 2) { /* a record whose checksum holds, and whose content no writer makes */
            uint32_t c = brs__fix_srec_crc(rec, (uint32_t)o2n);
            patch(path, o2 + 9 + o2n, &c, 4);
        }
        assert_int_equal(reopen(path, &err), BRS_E_CORRUPT);
        assert_non_null(strstr(err.msg, path));
        char at[64];
        snprintf(at, sizeof at, "damaged at byte %ld", o2);
        assert_non_null(strstr(err.msg, at));
        assert_non_null(strstr(err.msg, k == 2   ? "record checksum mismatch (stored 0x"
                                        : k == 1 ? "kind 0x51"
                                                 : "outbound message 4294967280 where 2 is next"));
        assert_int_equal(file_size(path), len); /* nothing cut */
    }
    /* a torn tail is a crash's, not damage: cut, and the session goes on.
     * A record's first 12 bytes, then zeros (never reached); zeros alone
     * (nothing sound after the failing record: a session store without a
     * journal is its own commit) */
    static const char zeros[64];
    for (int k = 0; k < 2; k++) {
        f = fopen(path, k ? "ab" : "wb");
        assert_non_null(f);
        if (!k) {
            assert_int_equal(fwrite(orig, 1, (size_t)len, f), (size_t)len);
            assert_int_equal(fwrite(orig + o2, 1, 12, f), 12);
        }
        assert_int_equal(fwrite(zeros, 1, sizeof zeros, f), sizeof zeros);
        fclose(f);
        assert_int_equal(reopen(path, &err), BRS_OK);
        assert_int_equal(sess.store.next_out, 4);
        brs__fix_session_close(&sess);
        assert_int_equal(file_size(path), len);
    }
    free(orig);
    unlink(path);
    unlink(copy);
    rmdir(dir);
}

/* Issue 15 point 6: a field over max_field_bytes gets a Reject naming its tag
 * (its number used, the session goes on); without the limit an answer too
 * large for the output buffer is a Reject 99, never silence. */
static void test_oversize_fields(void **state)
{
    (void)state;
    static char body[40000], buf[40100];
    open_session(NULL, NULL, NULL);
    sess.cfg.max_msg = 65536;
    sess.cfg.opts.max_field_bytes = 64;
    logon();
    int n = snprintf(body, sizeof body, "35=1|" HDR(2) "112=");
    memset(body + n, 'x', 100);
    snprintf(body + n + 100, sizeof body - n - 100, "|");
    size_t len = brs_test_fixmsg(buf, sizeof buf, "FIX.4.4", body);
    assert_int_equal(brs__fix_session_input(&sess, buf, len, T0), len);
    expect("3", 2);
    assert_true(brs__fix_is(&got, 373, "5"));
    assert_true(brs__fix_is(&got, 371, "112"));
    assert_true(brs__fix_is(&got, 45, "2"));
    feed("35=1|" HDR(3) "112=ok|", T0); /* the limit itself passes, the session goes on */
    expect("0", 3);
    assert_true(brs__fix_is(&got, 112, "ok"));
    /* no limit: a 20 KB TestReqID cannot be echoed in a 16 KB buffer */
    sess.cfg.opts.max_field_bytes = 0;
    n = snprintf(body, sizeof body, "35=1|" HDR(4) "112=");
    memset(body + n, 'y', 20000);
    snprintf(body + n + 20000, sizeof body - n - 20000, "|");
    len = brs_test_fixmsg(buf, sizeof buf, "FIX.4.4", body);
    assert_int_equal(brs__fix_session_input(&sess, buf, len, T0), len);
    expect("3", 4);
    assert_true(brs__fix_is(&got, 373, "99"));
    assert_true(brs__fix_is(&got, 45, "4"));
    assert_int_equal(sess.oversize, 1);
    assert_int_equal(next(), 0);
    feed("35=1|" HDR(5) "112=again|", T0);
    expect("0", 5);
    brs__fix_session_close(&sess);
}

/* The counters' MsgType index agrees with its names, and anything else
 * (longer types, unknown letters, bytes past ASCII) goes to "other". */
static void test_msgtype_index(void **state)
{
    (void)state;
    for (int i = 0; i < BRS__FIX_MT_N - 1; i++)
        assert_int_equal(brs__fix_mt_index(brs__fix_mt_names[i]), i);
    assert_string_equal(brs__fix_mt_names[BRS__FIX_MT_N - 1], "other");
    const char *others[] = {"", "B", "AE", "8x", "DD", "z", "\xc3\xa9", "other"};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
        assert_int_equal(brs__fix_mt_index(others[k]), BRS__FIX_MT_N - 1);
    char one[2] = {0, 0};
    int counted = 0;
    for (int c = 1; c < 256; c++) {
        one[0] = (char)c;
        int i = brs__fix_mt_index(one);
        if (i != BRS__FIX_MT_N - 1) {
            assert_string_equal(brs__fix_mt_names[i], one);
            counted++;
        }
    }
    assert_int_equal(counted, BRS__FIX_MT_N - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_logon_testrequest_logout, setup),
        cmocka_unit_test_setup(test_logon_refusals, setup),
        cmocka_unit_test_setup(test_gap_and_resend_request, setup),
        cmocka_unit_test_setup(test_resend_from_store, setup),
        cmocka_unit_test_setup(test_resend_streamed, setup),
        cmocka_unit_test_setup(test_sequence_reset_and_rejects, setup),
        cmocka_unit_test_setup(test_too_big_and_timeouts, setup),
        cmocka_unit_test_setup(test_reset_and_restart, setup),
        cmocka_unit_test_setup(test_damaged_store, setup),
        cmocka_unit_test_setup(test_oversize_fields, setup),
        cmocka_unit_test(test_msgtype_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
