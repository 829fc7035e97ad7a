/* test_fix_codec.c: FIX framing (BodyLength, zero padding, CheckSum, resync
 * after garbage), in-place parsing (required tags, groups, duplicates), decimal
 * and time values, the encoder, and real captured sessions from shared/data/fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "fixmsg.h"

static brs__fix_msg msg;

static void test_frame_ok_and_padded_length(void **state)
{
    (void)state;
    char buf[512];
    size_t n = brs_test_fixmsg(buf, sizeof buf, "FIX.4.4", "35=0|34=2|49=A|52=20240101-00:00:00|56=B|");
    size_t ml = 0;
    assert_int_equal(brs__fix_frame(buf, n, 4096, &ml), BRS__FIX_FRAME_OK);
    assert_int_equal(ml, n);
    /* every strict prefix asks for more */
    for (size_t k = 1; k < n; k++)
        assert_int_equal(brs__fix_frame(buf, k, 4096, &ml), BRS__FIX_FRAME_NEED_MORE);
    /* rewrite with a zero-padded BodyLength (9=0000NN) and a new checksum */
    const char *body = strstr(buf, "\00135=") + 1;
    size_t blen = (size_t)(strstr(buf, "\00110=") + 1 - body);
    char pad[512];
    int h = snprintf(pad, sizeof pad, "8=FIX.4.4\0019=%07zu\001", blen);
    memcpy(pad + h, body, blen);
    unsigned cs = brs__fix_checksum(pad, (size_t)h + blen);
    int t = snprintf(pad + h + blen, sizeof pad - (size_t)h - blen, "10=%03u\001", cs);
    size_t pn = (size_t)h + blen + (size_t)t;
    assert_non_null(strstr(pad, "9=00000"));
    assert_int_equal(brs__fix_frame(pad, pn, 4096, &ml), BRS__FIX_FRAME_OK);
    assert_int_equal(ml, pn);
    brs__fix_msg_init(&msg);
    assert_int_equal(brs__fix_parse(&msg, pad, pn), BRS_OK);
    assert_string_equal(msg.msgtype, "0");
    assert_int_equal(msg.seq, 2);
    assert_int_equal(msg.reject_reason, -1);
}

static void test_frame_bad_checksum_and_length(void **state)
{
    (void)state;
    char buf[512];
    size_t n = brs_test_fixmsg(buf, sizeof buf, "FIX.4.4", "35=0|34=2|49=A|52=20240101-00:00:00|56=B|");
    size_t ml = 0;
    char bad[512];
    memcpy(bad, buf, n);
    bad[n - 2] = bad[n - 2] == '9' ? '0' : (char)(bad[n - 2] + 1);
    assert_int_equal(brs__fix_frame(bad, n, 4096, &ml), BRS__FIX_FRAME_BAD_CHECKSUM);
    assert_int_equal(ml, n);
    /* BodyLength one too small: the trailer is not where it says */
    memcpy(bad, buf, n);
    char *nine = strstr(bad, "9=");
    nine[3] = (char)(nine[3] - 1);
    /* followed by a good message, to which the framer must resync */
    memcpy(bad + n, buf, n);
    assert_int_equal(brs__fix_frame(bad, 2 * n, 4096, &ml), BRS__FIX_FRAME_BAD_LENGTH);
    assert_int_equal(ml, n);
    assert_int_equal(brs__fix_frame(bad + ml, n, 4096, &ml), BRS__FIX_FRAME_OK);
    /* too big for the limit */
    assert_int_equal(brs__fix_frame(buf, n, 40, &ml), BRS__FIX_FRAME_TOO_BIG);
}

static void test_frame_garbage_resync(void **state)
{
    (void)state;
    char buf[1024];
    const char junk[] = "hello\001world 8=FI garbage\001";
    size_t j = sizeof junk - 1;
    memcpy(buf, junk, j);
    size_t n = brs_test_fixmsg(buf + j, sizeof buf - j, "FIX.4.4", "35=1|34=3|49=A|52=20240101-00:00:00|56=B|112=x|");
    size_t pos = 0, ml = 0;
    int rc;
    int guard = 0;
    while ((rc = brs__fix_frame(buf + pos, j + n - pos, 4096, &ml)) == BRS__FIX_FRAME_GARBLED) {
        assert_true(ml > 0);
        pos += ml;
        assert_true(++guard < 10);
    }
    assert_int_equal(rc, BRS__FIX_FRAME_OK);
    assert_int_equal(pos, j);
    assert_int_equal(ml, n);
}

static void parse_body(const char *body, char *buf, size_t cap)
{
    size_t n = brs_test_fixmsg(buf, cap, "FIX.4.4", body);
    size_t ml = 0;
    assert_int_equal(brs__fix_frame(buf, n, 1 << 20, &ml), BRS__FIX_FRAME_OK);
    assert_int_equal(brs__fix_parse(&msg, buf, n), BRS_OK);
}

static void test_parse_new_order(void **state)
{
    (void)state;
    char buf[1024];
    brs__fix_msg_init(&msg);
    parse_body("35=D|34=7|49=CLIENT1|52=20240101-10:00:00.123|56=EXEC|11=ord-1|55=AAPL|54=1|"
               "60=20240101-10:00:00.123|38=100|40=2|44=150.25|59=0|453=2|448=P1|447=D|452=1|"
               "448=P2|447=D|452=3|",
               buf, sizeof buf);
    assert_int_equal(msg.reject_reason, -1);
    assert_string_equal(msg.msgtype, "D");
    assert_int_equal(msg.seq, 7);
    char s[32];
    assert_int_equal(brs__fix_str(&msg, 11, s, sizeof s), 1);
    assert_string_equal(s, "ord-1");
    int64_t px = 0;
    assert_int_equal(brs__fix_decimal(&msg, 44, 4, &px), 1);
    assert_int_equal(px, 1502500);
    uint64_t q = 0;
    assert_int_equal(brs__fix_uint(&msg, 38, &q), 1);
    assert_int_equal(q, 100);
    assert_int_equal(brs__fix_char(&msg, 54), '1');
    /* group members are not in the flat index; first 448 is in the group */
    int n448 = 0;
    for (uint32_t k = 0; k < msg.nfields; k++)
        if (msg.fields[k].tag == 448) {
            assert_int_equal(msg.fields[k].group, 453);
            n448++;
        }
    assert_int_equal(n448, 2);
}

/* The wedge inputs of issue 14: each garbled message followed by a good one.
 * Every framer outcome but NEED_MORE consumes bytes, and the good message is
 * found next, without needing bytes that never come. */
static void test_frame_wedges(void **state)
{
    (void)state;
    char good[256], bad[256], buf[600];
    size_t gn = brs_test_fixmsg(good, sizeof good, "FIX.4.4", "35=0|34=3|49=C|56=E|");
    size_t bn = brs_test_fixmsg(bad, sizeof bad, "FIX.4.4", "35=1|34=2|49=C|56=E|112=x|");
    for (int kind = 0; kind < 5; kind++) {
        char b[256];
        memcpy(b, bad, bn);
        size_t n = bn;
        char *cs = strstr(b, "\00110=") + 1;
        char *nine = strstr(b, "\0019=") + 3;
        switch (kind) {
        case 0: /* 10=0| */
            memcpy(cs, "10=0\001", 5);
            n = (size_t)(cs - b) + 5;
            break;
        case 1: /* BodyLength far past the next message */
            memcpy(nine, "99", 2);
            break;
        case 2: /* BodyLength one short */
            nine[1] = (char)(nine[1] - 1);
            break;
        case 3: /* wrong CheckSum digit */
            cs[5] = cs[5] == '0' ? '1' : '0';
            break;
        case 4: /* BodyLength not a number */
            nine[0] = 'x';
            break;
        }
        memcpy(buf, b, n);
        memcpy(buf + n, good, gn);
        size_t pos = 0, ml = 0;
        int rc, steps = 0;
        while ((rc = brs__fix_frame(buf + pos, n + gn - pos, 1 << 16, &ml)) != BRS__FIX_FRAME_OK) {
            assert_int_not_equal(rc, BRS__FIX_FRAME_NEED_MORE);
            assert_true(ml > 0 && ml <= n + gn - pos);
            pos += ml;
            assert_true(++steps < 100);
        }
        assert_int_equal(pos, n);
        assert_int_equal(ml, gn);
    }
}

static void test_parse_rejects(void **state)
{
    (void)state;
    char buf[1024];
    brs__fix_msg_init(&msg);
    /* missing ClOrdID */
    parse_body("35=D|34=7|49=C|52=20240101-10:00:00|56=E|55=AAPL|54=1|60=20240101-10:00:00|38=1|40=1|",
               buf, sizeof buf);
    assert_int_equal(msg.reject_reason, BRS__FIX_RR_REQUIRED_MISSING);
    assert_int_equal(msg.reject_tag, 11);
    /* duplicate tag outside a group */
    parse_body("35=0|34=7|49=C|52=20240101-10:00:00|56=E|49=C|", buf, sizeof buf);
    assert_int_equal(msg.reject_reason, BRS__FIX_RR_DUPLICATE_TAG);
    assert_int_equal(msg.reject_tag, 49);
    /* group count says 2, only one instance */
    parse_body("35=V|34=7|49=C|52=20240101-10:00:00|56=E|262=r|263=0|264=1|267=2|269=0|146=1|55=AAPL|",
               buf, sizeof buf);
    assert_int_equal(msg.reject_reason, BRS__FIX_RR_GROUP_COUNT);
    assert_int_equal(msg.reject_tag, 267);
    /* a member before the delimiter */
    parse_body("35=V|34=7|49=C|52=20240101-10:00:00|56=E|262=r|263=0|264=1|267=1|269=0|146=1|65=x|55=AAPL|",
               buf, sizeof buf);
    assert_int_equal(msg.reject_reason, BRS__FIX_RR_GROUP_ORDER);
    /* empty value */
    parse_body("35=0|34=7|49=C|52=20240101-10:00:00|56=E|58=|", buf, sizeof buf);
    assert_int_equal(msg.reject_reason, BRS__FIX_RR_NO_VALUE);
    assert_int_equal(msg.reject_tag, 58);
    /* MsgType not third: garbled (the session drops it, no Reject) */
    char raw[256];
    size_t n0 = brs_test_fixmsg(raw, sizeof raw, "FIX.4.4", "34=7|35=0|49=C|52=20240101-10:00:00|56=E|");
    assert_int_equal(brs__fix_parse(&msg, raw, n0), BRS_E_PARSE);
    /* tag not numeric: unreadable */
    size_t n = brs_test_fixmsg(raw, sizeof raw, "FIX.4.4", "35=0|34=7|4x=1|");
    assert_int_equal(brs__fix_parse(&msg, raw, n), BRS_E_PARSE);
    assert_false(brs__fix_msgtype_known("ZZ"));
    assert_true(brs__fix_msgtype_known("D"));
}

static void test_decimal_and_time(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(brs__fix_parse_decimal("150", 3, 4, &v), 1);
    assert_int_equal(v, 1500000);
    assert_int_equal(brs__fix_parse_decimal("0.0001", 6, 4, &v), 1);
    assert_int_equal(v, 1);
    assert_int_equal(brs__fix_parse_decimal("1.23450", 7, 4, &v), 1);
    assert_int_equal(v, 12345);
    assert_int_equal(brs__fix_parse_decimal("1.23456", 7, 4, &v), -1);
    assert_int_equal(brs__fix_parse_decimal("1.2.3", 5, 4, &v), -1);
    assert_int_equal(brs__fix_parse_decimal("-2.5", 4, 1, &v), 1);
    assert_int_equal(v, -25);
    assert_int_equal(brs__fix_parse_decimal("", 0, 1, &v), -1);
    int64_t ns;
    assert_int_equal(brs__fix_parse_time("20121105-23:24:06", 17, &ns), 0);
    assert_int_equal(ns, 1352157846LL * 1000000000LL);
    char t[32];
    brs__fix_format_time(ns + 123000000, t);
    assert_string_equal(t, "20121105-23:24:06.123");
    assert_int_equal(brs__fix_parse_time("20121305-23:24:06", 17, &ns), -1);
    /* fractions of 1 to 9 digits, scaled to ns; 0 or 10 digits are refused */
    static const struct { const char *s; int64_t frac; } fr[] = {
        {"20121105-23:24:06.1", 100000000},         {"20121105-23:24:06.12", 120000000},
        {"20121105-23:24:06.123", 123000000},       {"20121105-23:24:06.000456", 456000},
        {"20121105-23:24:06.123456789", 123456789}, {"20121105-23:24:06.000000001", 1},
    };
    for (size_t k = 0; k < sizeof fr / sizeof fr[0]; k++) {
        assert_int_equal(brs__fix_parse_time(fr[k].s, strlen(fr[k].s), &ns), 0);
        assert_int_equal(ns, 1352157846LL * 1000000000LL + fr[k].frac);
    }
    assert_int_equal(brs__fix_parse_time("20121105-23:24:06.", 18, &ns), -1);
    assert_int_equal(brs__fix_parse_time("20121105-23:24:06.1234567890", 28, &ns), -1);
    assert_int_equal(brs__fix_parse_time("20121105-23:24:06.12a", 21, &ns), -1);
}

static void test_encode_roundtrip(void **state)
{
    (void)state;
    char buf[512];
    brs__fix_enc e;
    brs__fix_enc_begin(&e, buf, sizeof buf, "8");
    brs__fix_enc_int(&e, 34, 12);
    brs__fix_enc_str(&e, 49, "EXEC");
    brs__fix_enc_str(&e, 56, "CLIENT1");
    brs__fix_enc_time(&e, 52, 1352157846LL * 1000000000LL);
    brs__fix_enc_decimal(&e, 6, 1502500, 4);
    brs__fix_enc_decimal(&e, 44, 1500000, 4);
    brs__fix_enc_decimal(&e, 31, -5, 2);
    brs__fix_enc_char(&e, 150, 'F');
    size_t n = 0;
    const char *m = brs__fix_enc_end(&e, "FIX.4.4", &n);
    assert_non_null(m);
    size_t ml;
    assert_int_equal(brs__fix_frame(m, n, 4096, &ml), BRS__FIX_FRAME_OK);
    assert_int_equal(ml, n);
    brs__fix_msg_init(&msg);
    assert_int_equal(brs__fix_parse(&msg, m, n), BRS_OK);
    assert_true(brs__fix_is(&msg, 6, "150.25"));
    assert_true(brs__fix_is(&msg, 44, "150"));
    assert_true(brs__fix_is(&msg, 31, "-0.05"));
    assert_true(brs__fix_is(&msg, 52, "20121105-23:24:06.000"));
    assert_int_equal(msg.seq, 12);
    /* a buffer too small is refused, not overrun */
    char small[48];
    brs__fix_enc_begin(&e, small, sizeof small, "8");
    brs__fix_enc_str(&e, 58, "a long text that does not fit in the small buffer at all");
    assert_null(brs__fix_enc_end(&e, "FIX.4.4", &n));
}

/* Frame a real captured session byte by byte in random chunks: every message
 * must frame with a correct BodyLength and CheckSum and parse. */
static void run_capture(const char *name, size_t expect_min)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/fix/%s", BOURSE_SHARED_DIR, name);
    char *data = NULL;
    size_t len = 0;
    brs_error err = {0};
    if (brs__read_file(path, &data, &len, &err) != BRS_OK) {
        printf("skip: %s not available (%s)\n", path, err.msg);
        skip();
    }
    size_t pos = 0, count = 0, avail = 0;
    unsigned seed = 7;
    brs__fix_msg_init(&msg);
    while (pos < len) {
        seed = seed * 1103515245u + 12345u;
        size_t grow = 1 + (seed >> 16) % 97;
        avail = avail + grow > len - pos ? len - pos : avail + grow;
        size_t ml = 0;
        int rc = brs__fix_frame(data + pos, avail, 1 << 20, &ml);
        if (rc == BRS__FIX_FRAME_NEED_MORE) {
            assert_true(avail < len - pos);
            continue;
        }
        if (rc != BRS__FIX_FRAME_OK && strspn(data + pos, "\r\n") == len - pos)
            break; /* the capture ends with a newline */
        if (rc != BRS__FIX_FRAME_OK)
            fail_msg("%s: frame error %d at offset %zu", name, rc, pos);
        assert_int_equal(brs__fix_parse(&msg, data + pos, ml), BRS_OK);
        assert_true(msg.msgtype[0] != 0);
        pos += ml;
        avail -= ml;
        count++;
    }
    printf("%s: %zu messages framed\n", name, count);
    assert_true(count >= expect_min);
    free(data);
}

static void test_capture_fix41(void **state)
{
    (void)state;
    run_capture("fix.4.1.set.1", 5);
}
static void test_capture_fix50_a(void **state)
{
    (void)state;
    run_capture("fix.5.0.set.1", 100);
}
static void test_capture_fix50_b(void **state)
{
    (void)state;
    run_capture("fix.5.0.set.2", 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_ok_and_padded_length),
        cmocka_unit_test(test_frame_bad_checksum_and_length),
        cmocka_unit_test(test_frame_garbage_resync),
        cmocka_unit_test(test_frame_wedges),
        cmocka_unit_test(test_parse_new_order),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_decimal_and_time),
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_capture_fix41),
        cmocka_unit_test(test_capture_fix50_a),
        cmocka_unit_test(test_capture_fix50_b),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
