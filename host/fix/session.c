/* session.c: the FIX 4.4 session state machine (acceptor). Follows the
 * session-level rules of the FIX 4.4 specification, volume 2 (and QuickFIX
 * where the spec leaves a choice): garbled messages are ignored without
 * consuming a sequence number; a gap triggers one ResendRequest (EndSeqNo 0);
 * a sequence number too low without PossDupFlag is fatal (Logout);
 * ResendRequests are answered from the store, runs of admin messages replaced
 * by one SequenceReset-GapFill; inbound messages are validated against the
 * FIX 4.4 dictionary (fix/dict.h). Configuration keys: session_cfg.c;
 * resending: session_resend.c. */
#include "fix/session.h"
#include "fix/access.h"
#include "fix/session_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"


int brs__fix_is_admin(const char *mt)
{
    return mt[1] == 0 && (mt[0] == '0' || mt[0] == '1' || mt[0] == '2' || mt[0] == '3' ||
                          mt[0] == '4' || mt[0] == '5' || mt[0] == 'A');
}

int brs__fix_session_open(brs__fix_session *s, const brs__fix_session_cfg *cfg,
                          const char *store_path, int fsync_policy, brs_error *err)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    if (s->cfg.max_msg == 0)
        s->cfg.max_msg = 65536;
    brs__fix_msg_init(&s->in);
    brs__fix_msg_init(&s->scratch);
    uint32_t nf = s->cfg.opts.max_msg_fields;
    if (nf > 65535)
        nf = s->cfg.opts.max_msg_fields = 65535;
    if (nf > BRS__FIX_MAX_FIELDS) {
        s->fields_in = malloc(nf * sizeof *s->fields_in);
        s->fields_scratch = malloc(nf * sizeof *s->fields_scratch);
        if (!s->fields_in || !s->fields_scratch) {
            free(s->fields_in);
            free(s->fields_scratch);
            s->fields_in = s->fields_scratch = NULL;
            return brs__err(err, BRS_E_NOMEM, "out of memory (max_msg_fields %u)", nf);
        }
        brs__fix_msg_fields(&s->in, s->fields_in, nf);
        brs__fix_msg_fields(&s->scratch, s->fields_scratch, nf);
    } else if (nf > 0) {
        s->in.max_fields = s->scratch.max_fields = nf;
    }
    if (s->cfg.opts.validate && !s->cfg.opts.valid.fields_have_values)
        s->in.flags |= BRS__FIX_PARSE_ALLOW_EMPTY;
    int rc = brs__fix_store_open(&s->store, store_path, fsync_policy, err);
    if (rc != BRS_OK) { /* as closed: nothing left to free */
        free(s->fields_in);
        free(s->fields_scratch);
        s->fields_in = s->fields_scratch = NULL;
    }
    return rc;
}

void brs__fix_session_close(brs__fix_session *s)
{
    brs__fix_store_close(&s->store);
    free(s->fields_in);
    free(s->fields_scratch);
    s->fields_in = s->fields_scratch = NULL;
}

void brs__fix_session_attach(brs__fix_session *s, const brs__fix_session_io *io, int64_t now)
{
    s->io = *io;
    s->state = BRS__FIX_AWAIT_LOGON;
    s->last_rx = s->last_tx = now;
    s->testreq_at = 0;
    s->logout_at = 0;
    s->resend_upto = 0;
    memset(&s->resend, 0, sizeof s->resend);
    s->now = now;
}

void brs__fix_session_detach(brs__fix_session *s)
{
    /* only a session that was logged on: a failed Logon attempt must not
     * reset the real session's numbers */
    if (s->cfg.opts.reset_on_disconnect && (s->state == BRS__FIX_ACTIVE ||
                                            s->state == BRS__FIX_LOGOUT_SENT))
        brs__fix_store_reset(&s->store);
    s->state = BRS__FIX_DISCONNECTED;
    memset(&s->resend, 0, sizeof s->resend);
    memset(&s->io, 0, sizeof s->io);
}

static void disconnect(brs__fix_session *s)
{
    brs__fix_store_flush(&s->store);
    if (s->io.disconnect)
        s->io.disconnect(s->io.ctx);
    brs__fix_session_detach(s);
}

void brs__fix_session_wire(brs__fix_session *s, const char *p, size_t n)
{
    if (s->state == BRS__FIX_DISCONNECTED || !s->io.send)
        return;
    s->last_tx = s->now;
    if (s->io.send(s->io.ctx, p, n) != BRS_OK)
        disconnect(s);
}

const char *const brs__fix_mt_names[BRS__FIX_MT_N] = {"0", "1", "2", "3", "4", "5", "A", "D", "F", "G", "H",
                                                      "V", "q", "8", "9", "W", "X", "Y", "j", "r", "other"};

/* Every counted MsgType is one character: its index + 1 by that character
 * (0: not counted), so counting a message is a table load, not a string
 * search (it runs for every message in and out). The entries follow
 * brs__fix_mt_names; test_fix_session checks the two agree. */
static const unsigned char mt_slot[128] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['A'] = 7,
    ['D'] = 8,  ['F'] = 9,  ['G'] = 10, ['H'] = 11, ['V'] = 12, ['q'] = 13, ['8'] = 14,
    ['9'] = 15, ['W'] = 16, ['X'] = 17, ['Y'] = 18, ['j'] = 19, ['r'] = 20,
};

int brs__fix_mt_index(const char *mt)
{
    unsigned char c = (unsigned char)mt[0];
    if (c < 128 && mt_slot[c] && mt[1] == 0)
        return mt_slot[c] - 1;
    return BRS__FIX_MT_N - 1;
}

brs__fix_enc *brs__fix_session_begin(brs__fix_session *s, const char *msgtype)
{
    s->out_mt = brs__fix_mt_index(msgtype);
    brs__fix_enc *e = &s->enc;
    brs__fix_enc_begin(e, s->out, sizeof s->out, msgtype);
    /* header fields in ascending tag order, as QuickFIX writes them: a peer
     * that keeps fields sorted then has nothing to reorder */
    brs__fix_enc_int(e, 34, s->store.next_out);
    brs__fix_enc_str(e, 49, s->cfg.sender);
    brs__fix_enc_time(e, 52, s->now ? s->now : brs__realtime_ns());
    brs__fix_enc_str(e, 56, s->cfg.target);
    return e;
}

/* An answer that does not fit the output buffer is never sent and uses no
 * MsgSeqNum. It cannot happen to an answer of a message within
 * max_field_bytes (every answer echoes few of its values); should one still
 * overflow, it is logged and, when it answers the inbound message being
 * processed, that message gets a Reject instead of silence. */
static void oversize_answer(brs__fix_session *s)
{
    s->oversize++;
    BRS_LOG(BRS_LOG_WARN, "fix", "answer larger than the output buffer: not sent",
            BRS_KV_S("session", s->cfg.target), BRS_KV_S("msg_type", brs__fix_mt_names[s->out_mt]),
            BRS_KV_U("max_bytes", BRS__FIX_OUT_MAX), BRS_KV_U("ref_seq", s->in_msg ? s->in.seq : 0));
    if (!s->in_msg || s->oversize_reject || s->state != BRS__FIX_ACTIVE)
        return;
    s->oversize_reject = 1;
    char t[128];
    snprintf(t, sizeof t, "the answer to this message exceeds %u bytes and cannot be sent",
             (unsigned)BRS__FIX_OUT_MAX);
    brs__fix_session_reject(s, BRS__FIX_RR_OTHER, 0, t);
    s->oversize_reject = 0;
}

int brs__fix_session_send(brs__fix_session *s)
{
    size_t n = 0;
    const char *m = brs__fix_enc_end(&s->enc, BEGIN_STRING, &n);
    if (!m) {
        oversize_answer(s);
        return BRS_E_RANGE;
    }
    int rc = brs__fix_store_out(&s->store, s->store.next_out, m, n);
    if (rc != BRS_OK)
        return rc;
    s->n_out[s->out_mt]++;
    s->sending_seq = s->store.next_out - 1; /* the server may leave it in the store for now */
    brs__fix_session_wire(s, m, n);
    s->sending_seq = 0;
    return BRS_OK;
}

void brs__fix_session_logout(brs__fix_session *s, const char *text)
{
    if (s->state == BRS__FIX_DISCONNECTED)
        return;
    snprintf(s->text, sizeof s->text, "%s", text ? text : "");
    brs__fix_enc *e = brs__fix_session_begin(s, "5");
    if (text && *text)
        brs__fix_enc_str(e, 58, text);
    brs__fix_session_send(s);
    disconnect(s);
}

void brs__fix_session_reject(brs__fix_session *s, int reason, uint32_t tag, const char *text)
{
    s->rejects++;
    snprintf(s->text, sizeof s->text, "%s", text ? text : "");
    brs__fix_enc *e = brs__fix_session_begin(s, "3");
    /* reverse routing: the Reject goes back the way the message came */
    static const uint32_t route[6][2] = {{115, 128}, {116, 129}, {144, 145},
                                         {128, 115}, {129, 116}, {145, 144}};
    for (int k = 0; k < 6; k++) {
        const brs__fix_field *f = brs__fix_get(&s->in, route[k][0]);
        if (f && f->len && (!s->cfg.opts.max_field_bytes || f->len <= s->cfg.opts.max_field_bytes))
            brs__fix_enc_mem(e, route[k][1], brs__fix_val(&s->in, f), f->len);
    }
    brs__fix_enc_int(e, 45, s->in.seq);
    if (tag)
        brs__fix_enc_int(e, 371, tag);
    if (s->in.msgtype[0])
        brs__fix_enc_str(e, 372, s->in.msgtype);
    brs__fix_enc_int(e, 373, reason);
    if (text && *text)
        brs__fix_enc_str(e, 58, text);
    brs__fix_session_send(s);
}

static const char *reason_text(int reason)
{
    switch (reason) {
    case BRS__FIX_RR_INVALID_TAG: return "Invalid tag number";
    case BRS__FIX_RR_REQUIRED_MISSING: return "Required tag missing";
    case BRS__FIX_RR_TAG_NOT_DEFINED: return "Tag not defined for this message type";
    case BRS__FIX_RR_UNDEFINED_TAG: return "Undefined tag";
    case BRS__FIX_RR_NO_VALUE: return "Tag specified without a value";
    case BRS__FIX_RR_BAD_VALUE: return "Value is incorrect (out of range) for this tag";
    case BRS__FIX_RR_BAD_FORMAT: return "Incorrect data format for value";
    case BRS__FIX_RR_COMPID: return "CompID problem";
    case BRS__FIX_RR_SENDING_TIME: return "SendingTime accuracy problem";
    case BRS__FIX_RR_INVALID_MSGTYPE: return "Invalid MsgType";
    case BRS__FIX_RR_DUPLICATE_TAG: return "Tag appears more than once";
    case BRS__FIX_RR_OUT_OF_ORDER: return "Tag specified out of required order";
    case BRS__FIX_RR_GROUP_ORDER: return "Repeating group fields out of order";
    case BRS__FIX_RR_GROUP_COUNT: return "Incorrect NumInGroup count for repeating group";
    default: return "Other";
    }
}

static void advance_in(brs__fix_session *s, uint32_t next)
{
    brs__fix_store_in(&s->store, next);
    if (s->resend_upto && next > s->resend_upto)
        s->resend_upto = 0; /* the gap is filled */
}

static void send_heartbeat(brs__fix_session *s, const brs__fix_field *testreq)
{
    brs__fix_enc *e = brs__fix_session_begin(s, "0");
    if (testreq)
        brs__fix_enc_mem(e, 112, brs__fix_val(&s->in, testreq), testreq->len);
    brs__fix_session_send(s);
}

static int compid_ok(brs__fix_session *s)
{
    return brs__fix_is(&s->in, 49, s->cfg.target) && brs__fix_is(&s->in, 56, s->cfg.sender);
}

/* SendingTime within max_latency_s of our clock? (1 also when not checked or
 * unreadable: a malformed SendingTime is the validation's Reject 6.) */
static int sending_time_ok(brs__fix_session *s)
{
    if (s->cfg.opts.max_latency_s <= 0)
        return 1;
    const brs__fix_field *f = brs__fix_get(&s->in, 52);
    int64_t t;
    if (!f || brs__fix_parse_time(brs__fix_val(&s->in, f), f->len, &t) != 0)
        return 1;
    int64_t d = s->now - t;
    if (d < 0)
        d = -d;
    return d <= s->cfg.opts.max_latency_s * 1000000000LL;
}

/* The first field of s->in longer than max_field_bytes (NULL: none). */
static const brs__fix_field *oversize_field(const brs__fix_session *s)
{
    uint32_t max = s->cfg.opts.max_field_bytes;
    if (!max)
        return NULL;
    for (uint32_t k = 0; k < s->in.nfields; k++)
        if (s->in.fields[k].len > max)
            return &s->in.fields[k];
    return NULL;
}

static void log_oversize(const brs__fix_session *s, const brs__fix_field *f)
{
    BRS_LOG(BRS_LOG_WARN, "fix", "field over max_field_bytes rejected",
            BRS_KV_S("session", s->cfg.target), BRS_KV_U("seq", s->in.seq),
            BRS_KV_U("tag", f->tag), BRS_KV_U("bytes", f->len),
            BRS_KV_U("max_field_bytes", s->cfg.opts.max_field_bytes));
}

/* Dictionary validation of s->in (when on): -1 passes, else the reason. */
static int validate(brs__fix_session *s, uint32_t *tag)
{
    if (!s->cfg.opts.validate)
        return -1;
    return brs__fix_dict_validate(&s->in, &s->cfg.opts.valid, tag);
}

/* The store goes back to 1/1 (ResetSeqNumFlag, reset_on_*). */
static void reset_seqs(brs__fix_session *s)
{
    brs__fix_store_reset(&s->store);
    s->resend_upto = 0;
    memset(&s->resend, 0, sizeof s->resend);
}

static void send_logon(brs__fix_session *s, uint64_t hb, int reset)
{
    brs__fix_enc *e = brs__fix_session_begin(s, "A");
    brs__fix_enc_int(e, 98, 0);
    brs__fix_enc_int(e, 108, (int64_t)hb);
    if (reset)
        brs__fix_enc_char(e, 141, 'Y');
    brs__fix_session_send(s);
}

static void on_logon(brs__fix_session *s)
{
    brs__fix_msg *m = &s->in;
    if (!compid_ok(s)) {
        brs__fix_session_logout(s, "unknown CompID");
        return;
    }
    const brs__fix_field *big = oversize_field(s);
    if (big) {
        char t[128];
        snprintf(t, sizeof t, "bad Logon: tag %u has %u bytes, over max_field_bytes %u", big->tag,
                 big->len, s->cfg.opts.max_field_bytes);
        log_oversize(s, big);
        brs__fix_session_logout(s, t);
        return;
    }
    uint32_t vtag = m->reject_tag;
    int vr = m->reject_reason;
    if (vr < 0)
        vr = validate(s, &vtag);
    if (vr >= 0) {
        char t[128];
        snprintf(t, sizeof t, "bad Logon: %s (tag %u)", reason_text(vr), vtag);
        brs__fix_session_logout(s, t);
        return;
    }
    if (s->cfg.username[0] || s->cfg.password[0]) {
        const brs__fix_field *pw = brs__fix_get(m, 554); /* compared in constant time */
        int pw_ok = brs__fix_ct_equal(pw ? brs__fix_val(m, pw) : "", pw ? pw->len : 0,
                                      s->cfg.password, strlen(s->cfg.password));
        if ((s->cfg.username[0] && !brs__fix_is(m, 553, s->cfg.username)) || !pw_ok) {
            brs__fix_session_logout(s, "invalid Username or Password");
            return;
        }
    }
    if (!sending_time_ok(s)) {
        brs__fix_session_logout(s, "SendingTime accuracy problem: Logon refused");
        return;
    }
    uint64_t hb = 0;
    if (brs__fix_uint(m, 108, &hb) != 1 || hb > 3600 || !brs__fix_is(m, 98, "0")) {
        brs__fix_session_logout(s, "bad HeartBtInt or EncryptMethod");
        return;
    }
    if ((int64_t)hb < s->cfg.opts.min_heartbeat_s) {
        char t[128];
        snprintf(t, sizeof t, "HeartBtInt %u below the minimum %lld (min_heartbeat_s)",
                 (unsigned)hb, (long long)s->cfg.opts.min_heartbeat_s);
        BRS_LOG(BRS_LOG_WARN, "fix", "Logon refused: HeartBtInt below min_heartbeat_s",
                BRS_KV_S("session", s->cfg.target), BRS_KV_U("heart_bt_int", hb),
                BRS_KV_I("min_heartbeat_s", s->cfg.opts.min_heartbeat_s));
        brs__fix_session_logout(s, t);
        return;
    }
    s->hb_ns = (int64_t)hb * 1000000000LL;
    int asked = brs__fix_char(m, 141) == 'Y';
    if (asked && m->seq != 1) {
        brs__fix_session_logout(s, "ResetSeqNumFlag with MsgSeqNum not 1");
        return;
    }
    int reset = asked || s->cfg.opts.reset_on_logon;
    if (reset)
        reset_seqs(s);
    if (m->seq < s->store.next_in) {
        char t[128];
        snprintf(t, sizeof t, "MsgSeqNum too low, expecting %u but received %u",
                 s->store.next_in, m->seq);
        brs__fix_session_logout(s, t);
        return;
    }
    s->state = BRS__FIX_ACTIVE;
    send_logon(s, hb, reset);
    if (m->seq > s->store.next_in)
        brs__fix_session_ask_resend(s, m->seq);
    else
        advance_in(s, m->seq + 1);
}

/* A Logon with ResetSeqNumFlag=Y on a running session: both sides start again
 * at 1 (the peer's Logon is its number 1, ours answers as our number 1). */
static void on_reset_logon(brs__fix_session *s)
{
    brs__fix_msg *m = &s->in;
    uint64_t hb = 0;
    if (m->seq != 1 || m->reject_reason >= 0 || brs__fix_uint(m, 108, &hb) != 1 || hb > 3600 ||
        (int64_t)hb < s->cfg.opts.min_heartbeat_s) {
        brs__fix_session_logout(s, "bad Logon with ResetSeqNumFlag (MsgSeqNum must be 1)");
        return;
    }
    s->hb_ns = (int64_t)hb * 1000000000LL;
    reset_seqs(s);
    advance_in(s, 2);
    send_logon(s, hb, 1);
}

/* SequenceReset-Reset (123 absent or N): MsgSeqNum is ignored, whatever it is. */
static void on_sequence_reset(brs__fix_session *s)
{
    uint64_t ns = 0;
    uint32_t expect = s->store.next_in;
    if (brs__fix_uint(&s->in, 36, &ns) != 1 || ns > UINT32_MAX) {
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_FORMAT, 36, "NewSeqNo missing or malformed");
        return;
    }
    if (ns < expect) {
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 36, "NewSeqNo lower than expected");
        return;
    }
    advance_in(s, (uint32_t)ns);
}

/* One framed, parsed message at the session. */
static void on_message(brs__fix_session *s)
{
    brs__fix_msg *m = &s->in;
    const char *mt = m->msgtype;
    s->n_in[brs__fix_mt_index(mt)]++;
    if (s->state == BRS__FIX_AWAIT_LOGON) {
        /* before authentication nothing touches the session's numbers: a
         * wrong BeginString or another first message closes the connection */
        if (!brs__fix_is(m, 8, BEGIN_STRING)) {
            snprintf(s->text, sizeof s->text, "Logon with incorrect BeginString");
            disconnect(s);
            return;
        }
        if (strcmp(mt, "A") != 0) {
            snprintf(s->text, sizeof s->text, "first message not a Logon");
            disconnect(s);
            return;
        }
        on_logon(s);
        return;
    }
    if (!brs__fix_is(m, 8, BEGIN_STRING)) {
        brs__fix_session_logout(s, "incorrect BeginString");
        return;
    }
    /* CompIDs that are there and wrong; missing or empty ones are Rejects
     * (373=1 / 373=4) once the message's number is known to be right */
    const brs__fix_field *c49 = brs__fix_get(m, 49), *c56 = brs__fix_get(m, 56);
    if (c49 && c49->len && c56 && c56->len && !compid_ok(s)) {
        brs__fix_session_reject(s, BRS__FIX_RR_COMPID, brs__fix_is(m, 49, s->cfg.target) ? 56 : 49,
                                "CompID problem");
        brs__fix_session_logout(s, "CompID problem");
        return;
    }
    const int seqreset_reset = strcmp(mt, "4") == 0 && brs__fix_char(m, 123) != 'Y';
    if (seqreset_reset) {
        on_sequence_reset(s);
        return;
    }
    if (m->seq == 0) {
        brs__fix_session_logout(s, "MsgSeqNum missing or malformed");
        return;
    }
    uint32_t expect = s->store.next_in;
    if (!sending_time_ok(s)) {
        if (m->seq == expect)
            advance_in(s, expect + 1);
        brs__fix_session_reject(s, BRS__FIX_RR_SENDING_TIME, 52, "SendingTime accuracy problem");
        brs__fix_session_logout(s, "SendingTime accuracy problem");
        return;
    }
    if (strcmp(mt, "A") == 0 && brs__fix_char(m, 141) == 'Y') {
        on_reset_logon(s);
        return;
    }
    if (m->seq > expect) {
        if (strcmp(mt, "2") == 0)
            brs__fix_session_answer_resend(s); /* answered at once so neither side waits on the other */
        if (strcmp(mt, "5") == 0) {
            brs__fix_session_logout(s, NULL);
            return;
        }
        brs__fix_session_ask_resend(s, m->seq);
        return;
    }
    if (m->seq < expect) {
        if (brs__fix_char(m, 43) == 'Y') {
            const brs__fix_field *ost = brs__fix_get(m, 122), *st = brs__fix_get(m, 52);
            if (!ost && strcmp(mt, "4") != 0) {
                brs__fix_session_reject(s, BRS__FIX_RR_REQUIRED_MISSING, 122,
                                        "OrigSendingTime missing on PossDup");
                return;
            }
            int64_t to, ts;
            if (ost && st &&
                brs__fix_parse_time(brs__fix_val(m, ost), ost->len, &to) == 0 &&
                brs__fix_parse_time(brs__fix_val(m, st), st->len, &ts) == 0 && to > ts) {
                brs__fix_session_reject(s, BRS__FIX_RR_SENDING_TIME, 122,
                                        "OrigSendingTime after SendingTime");
                brs__fix_session_logout(s, "SendingTime accuracy problem");
                return;
            }
            if (s->on_dup)
                s->on_dup(s->app, s, m); /* processed already: the app may say how it stands */
            return; /* a duplicate of what we processed */
        }
        char t[128];
        snprintf(t, sizeof t, "MsgSeqNum too low, expecting %u but received %u", expect, m->seq);
        brs__fix_session_logout(s, t);
        return;
    }
    /* m->seq == expect */
    advance_in(s, expect + 1);
    const brs__fix_field *big = m->reject_reason < 0 ? oversize_field(s) : NULL;
    if (big) {
        /* every answer echoes some values of its message: one over the
         * limit could make an answer too large to send, so the message gets
         * a Reject naming the tag instead (issue 15, point 6) */
        char t[128];
        snprintf(t, sizeof t, "tag %u has %u bytes, over max_field_bytes %u", big->tag, big->len,
                 s->cfg.opts.max_field_bytes);
        log_oversize(s, big);
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, big->tag, t);
        if (strcmp(mt, "5") == 0)
            brs__fix_session_logout(s, NULL);
        return;
    }
    if (m->reject_reason < 0) {
        if (!c49)
            m->reject_reason = BRS__FIX_RR_REQUIRED_MISSING, m->reject_tag = 49;
        else if (!c56)
            m->reject_reason = BRS__FIX_RR_REQUIRED_MISSING, m->reject_tag = 56;
        else if (!brs__fix_get(m, 52))
            m->reject_reason = BRS__FIX_RR_REQUIRED_MISSING, m->reject_tag = 52;
        else if (!brs__fix_msgtype_known(mt))
            m->reject_reason = BRS__FIX_RR_INVALID_MSGTYPE, m->reject_tag = 35;
        else if (!c49->len || !c56->len)
            m->reject_reason = BRS__FIX_RR_NO_VALUE, m->reject_tag = c49->len ? 56 : 49;
        else {
            uint32_t t = 0;
            int r = validate(s, &t);
            if (r >= 0)
                m->reject_reason = r, m->reject_tag = t;
        }
    }
    if (m->reject_reason >= 0) {
        char t[160];
        if (m->too_many) {
            snprintf(t, sizeof t, "message has more than %u fields (max_msg_fields)",
                     m->max_fields);
            BRS_LOG(BRS_LOG_WARN, "fix", "message over max_msg_fields rejected",
                    BRS_KV_S("session", s->cfg.target), BRS_KV_U("seq", m->seq),
                    BRS_KV_U("fields", m->max_fields + m->too_many),
                    BRS_KV_U("max_msg_fields", m->max_fields));
        } else if (m->reject_tag && m->reject_tag <= BRS__FIX_DICT_MAXTAG &&
                   brs__fix_dict_name[m->reject_tag]) {
            snprintf(t, sizeof t, "%s (%s)", reason_text(m->reject_reason),
                     brs__fix_dict_name[m->reject_tag]);
        } else {
            snprintf(t, sizeof t, "%s", reason_text(m->reject_reason));
        }
        brs__fix_session_reject(s, m->reject_reason, m->reject_tag, t);
        if (strcmp(mt, "5") == 0) /* a Logout we could not read still ends the session */
            brs__fix_session_logout(s, NULL);
        return;
    }
    if (mt[1] == 0) {
        switch (mt[0]) {
        case '0': {
            s->testreq_at = 0;
            return;
        }
        case '1': send_heartbeat(s, brs__fix_get(m, 112)); return;
        case '2': brs__fix_session_answer_resend(s); return;
        case '3': return;
        case '4': {
            uint64_t ns = 0;
            if (brs__fix_uint(m, 36, &ns) != 1 || ns <= m->seq || ns > UINT32_MAX) {
                brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 36, "NewSeqNo not above MsgSeqNum");
                return;
            }
            advance_in(s, (uint32_t)ns);
            return;
        }
        case '5': {
            int reset = s->cfg.opts.reset_on_logout;
            if (s->state == BRS__FIX_LOGOUT_SENT)
                disconnect(s);
            else
                brs__fix_session_logout(s, NULL);
            if (reset)
                reset_seqs(s);
            return;
        }
        case 'A':
            brs__fix_session_reject(s, BRS__FIX_RR_OTHER, 0, "already logged on");
            return;
        default: break;
        }
    }
    if (s->on_app)
        s->on_app(s->app, s, m);
}

size_t brs__fix_session_step(brs__fix_session *s, const char *buf, size_t len, int64_t now,
                             int *framed)
{
    *framed = 0;
    s->now = now;
    if (len == 0 || s->state == BRS__FIX_DISCONNECTED)
        return 0;
    size_t ml = 0;
    int rc = brs__fix_frame(buf, len, s->cfg.max_msg, &ml);
    if (rc == BRS__FIX_FRAME_NEED_MORE) {
        if (len >= s->cfg.max_msg) { /* cannot become a message */
            brs__fix_session_logout(s, "message too large");
            return len;
        }
        return 0;
    }
    if (rc == BRS__FIX_FRAME_TOO_BIG) {
        brs__fix_session_logout(s, "message too large");
        return len;
    }
    int garbled = rc != BRS__FIX_FRAME_OK;
    if (!garbled) {
        if (brs__fix_parse(&s->in, buf, ml) == BRS_OK) {
            s->last_rx = now;
            s->testreq_at = 0; /* any message proves the peer alive */
            *framed = 1;
            s->in_msg = 1;
            on_message(s);
            s->in_msg = 0;
        } else {
            garbled = 1;
        }
    }
    if (garbled) { /* ignored: no Reject, no sequence number used */
        s->garbled++;
        if (s->state == BRS__FIX_AWAIT_LOGON) { /* a garbled first message: silence */
            snprintf(s->text, sizeof s->text, "garbled first message");
            disconnect(s);
        }
    }
    return ml;
}

size_t brs__fix_session_input(brs__fix_session *s, const char *buf, size_t len, int64_t now)
{
    size_t pos = 0;
    int framed;
    while (pos < len) {
        size_t used = brs__fix_session_step(s, buf + pos, len - pos, now, &framed);
        if (used == 0)
            break;
        pos += used;
    }
    return pos;
}

/* Heartbeats and timeouts, as QuickFIX keeps them: our Heartbeat after
 * HeartBtInt without sending, a TestRequest after 1.2 x HeartBtInt without
 * hearing from the peer, Logout and disconnect after 2.4 x. */
void brs__fix_session_timer(brs__fix_session *s, int64_t now)
{
    s->now = now;
    if (s->state == BRS__FIX_LOGOUT_SENT && now - s->logout_at > 2000000000LL) {
        disconnect(s);
        return;
    }
    if (s->state != BRS__FIX_ACTIVE || s->hb_ns <= 0)
        return;
    int64_t silent = now - s->last_rx;
    if (silent >= s->hb_ns * 12 / 5) {
        brs__fix_session_logout(s, "heartbeat timeout");
        return;
    }
    if (!s->testreq_at && silent >= s->hb_ns * 6 / 5) {
        s->testreq_at = now;
        brs__fix_enc *e = brs__fix_session_begin(s, "1");
        char id[32];
        snprintf(id, sizeof id, "TEST-%lld", (long long)(now / 1000000));
        brs__fix_enc_str(e, 112, id);
        brs__fix_session_send(s);
        return;
    }
    if (now - s->last_tx >= s->hb_ns)
        send_heartbeat(s, NULL);
}
