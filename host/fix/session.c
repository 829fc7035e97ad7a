/* session.c: the FIX 4.4 session state machine (acceptor). Follows the
 * session-level rules of the FIX 4.4 specification, volume 2: garbled
 * messages are ignored without consuming a sequence number; a gap triggers one
 * ResendRequest (EndSeqNo 0); a sequence number too low without PossDupFlag is
 * fatal (Logout); ResendRequests are answered from the store, admin messages
 * replaced by SequenceReset-GapFill. */
#include "fix/session.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define BEGIN_STRING "FIX.4.4"

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
    return brs__fix_store_open(&s->store, store_path, fsync_policy, err);
}

void brs__fix_session_close(brs__fix_session *s)
{
    brs__fix_store_close(&s->store);
}

void brs__fix_session_attach(brs__fix_session *s, const brs__fix_session_io *io, int64_t now)
{
    s->io = *io;
    s->state = BRS__FIX_AWAIT_LOGON;
    s->last_rx = s->last_tx = now;
    s->testreq_at = 0;
    s->logout_at = 0;
    s->resend_upto = 0;
    s->now = now;
}

void brs__fix_session_detach(brs__fix_session *s)
{
    s->state = BRS__FIX_DISCONNECTED;
    memset(&s->io, 0, sizeof s->io);
}

static void disconnect(brs__fix_session *s)
{
    brs__fix_store_flush(&s->store);
    if (s->io.disconnect)
        s->io.disconnect(s->io.ctx);
    brs__fix_session_detach(s);
}

static void wire(brs__fix_session *s, const char *p, size_t n)
{
    if (s->state == BRS__FIX_DISCONNECTED || !s->io.send)
        return;
    s->last_tx = s->now;
    if (s->io.send(s->io.ctx, p, n) != BRS_OK)
        disconnect(s);
}

brs__fix_enc *brs__fix_session_begin(brs__fix_session *s, const char *msgtype)
{
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

int brs__fix_session_send(brs__fix_session *s)
{
    size_t n = 0;
    const char *m = brs__fix_enc_end(&s->enc, BEGIN_STRING, &n);
    if (!m)
        return BRS_E_RANGE;
    int rc = brs__fix_store_out(&s->store, s->store.next_out, m, n);
    if (rc != BRS_OK)
        return rc;
    wire(s, m, n);
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

static void send_resend_request(brs__fix_session *s, uint32_t upto)
{
    if (s->resend_upto) { /* already asked, with EndSeqNo 0: it covers this too */
        if (upto > s->resend_upto)
            s->resend_upto = upto;
        return;
    }
    s->resend_upto = upto;
    brs__fix_enc *e = brs__fix_session_begin(s, "2");
    brs__fix_enc_int(e, 7, s->store.next_in);
    brs__fix_enc_int(e, 16, 0);
    brs__fix_session_send(s);
}

/* SequenceReset-GapFill covering [from, to) sent with MsgSeqNum from. */
static void send_gap_fill(brs__fix_session *s, uint32_t from, uint32_t to)
{
    char g[512]; /* s->tmp may hold the stored message being resent */
    brs__fix_enc ge, *e = &ge;
    brs__fix_enc_begin(e, g, sizeof g, "4");
    brs__fix_enc_int(e, 34, from);
    brs__fix_enc_char(e, 43, 'Y');
    brs__fix_enc_str(e, 49, s->cfg.sender);
    brs__fix_enc_time(e, 52, s->now);
    brs__fix_enc_str(e, 56, s->cfg.target);
    brs__fix_enc_time(e, 122, s->now);
    brs__fix_enc_char(e, 123, 'Y');
    brs__fix_enc_int(e, 36, to);
    size_t n;
    const char *m = brs__fix_enc_end(e, BEGIN_STRING, &n);
    if (m)
        wire(s, m, n);
}

/* Re-send a stored application message: same MsgSeqNum and body, PossDupFlag
 * Y, OrigSendingTime the original SendingTime, a fresh SendingTime. */
static int resend_one(brs__fix_session *s, const char *orig, size_t len, brs__fix_msg *m)
{
    if (brs__fix_parse(m, orig, len) != BRS_OK)
        return -1;
    if (brs__fix_is_admin(m->msgtype))
        return 0;
    /* the body: from the first field after the standard header to CheckSum */
    uint32_t k = 0;
    for (; k < m->nfields; k++) {
        uint32_t t = m->fields[k].tag;
        if (t != 8 && t != 9 && t != 35 && t != 49 && t != 56 && t != 34 && t != 52 &&
            t != 43 && t != 97 && t != 122)
            break;
    }
    const brs__fix_field *last = &m->fields[m->nfields - 1]; /* 10= */
    size_t bstart = k > 0 ? m->fields[k - 1].off + m->fields[k - 1].len + 1 : 0;
    size_t bend = last->off - 3;
    char *dst = s->out; /* s->tmp holds orig */
    brs__fix_enc *e = &s->enc;
    brs__fix_enc_begin(e, dst, sizeof s->out, m->msgtype);
    brs__fix_enc_int(e, 34, m->seq);
    brs__fix_enc_char(e, 43, 'Y');
    brs__fix_enc_str(e, 49, s->cfg.sender);
    brs__fix_enc_time(e, 52, s->now);
    brs__fix_enc_str(e, 56, s->cfg.target);
    const brs__fix_field *st = brs__fix_get(m, 52);
    if (st)
        brs__fix_enc_mem(e, 122, orig + st->off, st->len);
    if (bend > bstart) {
        if (e->pos + (bend - bstart) > e->cap)
            return -1;
        memcpy(e->buf + e->pos, orig + bstart, bend - bstart);
        e->pos += bend - bstart;
    }
    size_t n;
    const char *out = brs__fix_enc_end(e, BEGIN_STRING, &n);
    if (!out)
        return -1;
    wire(s, out, n);
    return 1;
}

static void answer_resend(brs__fix_session *s)
{
    uint64_t begin = 0, end = 0;
    if (brs__fix_uint(&s->in, 7, &begin) != 1 || brs__fix_uint(&s->in, 16, &end) != 1) {
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_FORMAT, 7, "bad BeginSeqNo/EndSeqNo");
        return;
    }
    uint32_t last = s->store.next_out - 1;
    if (end == 0 || end > last)
        end = last;
    if (begin == 0)
        begin = 1;
    brs__fix_store_flush(&s->store);
    uint32_t gap = 0; /* first seq of a pending gap fill, 0 none */
    for (uint64_t q = begin; q <= end; q++) {
        long n = brs__fix_store_get(&s->store, (uint32_t)q, s->tmp, sizeof s->tmp);
        int sent = 0;
        if (n > 0) {
            if (gap) { /* the fill must go out before the message it leads to */
                send_gap_fill(s, gap, (uint32_t)q);
                gap = 0;
            }
            sent = resend_one(s, s->tmp, (size_t)n, &s->scratch) > 0;
        }
        if (!sent && !gap)
            gap = (uint32_t)q;
        if (s->state == BRS__FIX_DISCONNECTED)
            return;
    }
    if (gap)
        send_gap_fill(s, gap, (uint32_t)end + 1);
}

static int compid_ok(brs__fix_session *s)
{
    return brs__fix_is(&s->in, 49, s->cfg.target) && brs__fix_is(&s->in, 56, s->cfg.sender);
}

static void on_logon(brs__fix_session *s)
{
    brs__fix_msg *m = &s->in;
    if (!compid_ok(s)) {
        brs__fix_session_logout(s, "unknown CompID");
        return;
    }
    if (m->reject_reason >= 0) {
        char t[128];
        snprintf(t, sizeof t, "bad Logon: %s (tag %u)", reason_text(m->reject_reason),
                 m->reject_tag);
        brs__fix_session_logout(s, t);
        return;
    }
    if (s->cfg.username[0] || s->cfg.password[0]) {
        if (!brs__fix_is(m, 553, s->cfg.username) || !brs__fix_is(m, 554, s->cfg.password)) {
            brs__fix_session_logout(s, "invalid Username or Password");
            return;
        }
    }
    uint64_t hb = 0;
    if (brs__fix_uint(m, 108, &hb) != 1 || hb > 3600 || !brs__fix_is(m, 98, "0")) {
        brs__fix_session_logout(s, "bad HeartBtInt or EncryptMethod");
        return;
    }
    s->hb_ns = (int64_t)hb * 1000000000LL;
    int reset = brs__fix_char(m, 141) == 'Y';
    if (reset) {
        brs__fix_store_reset(&s->store);
        if (m->seq != 1) {
            brs__fix_session_logout(s, "ResetSeqNumFlag with MsgSeqNum not 1");
            return;
        }
    }
    if (m->seq < s->store.next_in) {
        char t[128];
        snprintf(t, sizeof t, "MsgSeqNum too low, expecting %u but received %u",
                 s->store.next_in, m->seq);
        brs__fix_session_logout(s, t);
        return;
    }
    s->state = BRS__FIX_ACTIVE;
    brs__fix_enc *e = brs__fix_session_begin(s, "A");
    brs__fix_enc_int(e, 98, 0);
    brs__fix_enc_int(e, 108, (int64_t)hb);
    if (reset)
        brs__fix_enc_char(e, 141, 'Y');
    brs__fix_session_send(s);
    if (m->seq > s->store.next_in)
        send_resend_request(s, m->seq);
    else
        advance_in(s, m->seq + 1);
}

/* One framed, parsed message at the session. */
static void on_message(brs__fix_session *s)
{
    brs__fix_msg *m = &s->in;
    const char *mt = m->msgtype;
    if (!brs__fix_is(m, 8, BEGIN_STRING)) {
        brs__fix_session_logout(s, "incorrect BeginString");
        return;
    }
    if (s->state == BRS__FIX_AWAIT_LOGON) {
        if (strcmp(mt, "A") != 0) {
            snprintf(s->text, sizeof s->text, "first message not a Logon");
            disconnect(s);
            return;
        }
        on_logon(s);
        return;
    }
    if (m->seq == 0) {
        brs__fix_session_logout(s, "MsgSeqNum missing or malformed");
        return;
    }
    if (!compid_ok(s)) {
        brs__fix_session_reject(s, BRS__FIX_RR_COMPID, brs__fix_is(m, 49, s->cfg.target) ? 56 : 49,
                                "CompID problem");
        brs__fix_session_logout(s, "CompID problem");
        return;
    }
    uint32_t expect = s->store.next_in;
    /* SequenceReset-Reset ignores MsgSeqNum */
    if (strcmp(mt, "4") == 0 && brs__fix_char(m, 123) != 'Y') {
        uint64_t ns = 0;
        if (brs__fix_uint(m, 36, &ns) != 1 || ns < expect) {
            brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 36, "NewSeqNo lower than expected");
            return;
        }
        advance_in(s, (uint32_t)ns);
        return;
    }
    if (m->seq > expect) {
        if (strcmp(mt, "2") == 0)
            answer_resend(s); /* answered at once so neither side waits on the other */
        if (strcmp(mt, "5") == 0) {
            brs__fix_session_logout(s, NULL);
            return;
        }
        send_resend_request(s, m->seq);
        return;
    }
    if (m->seq < expect) {
        if (brs__fix_char(m, 43) == 'Y') {
            if (!brs__fix_get(m, 122) && strcmp(mt, "4") != 0)
                brs__fix_session_reject(s, BRS__FIX_RR_REQUIRED_MISSING, 122,
                                        "OrigSendingTime missing on PossDup");
            else if (s->on_dup)
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
    if (m->reject_reason < 0) {
        if (!brs__fix_get(m, 52))
            m->reject_reason = BRS__FIX_RR_REQUIRED_MISSING, m->reject_tag = 52;
        else if (!brs__fix_msgtype_known(mt))
            m->reject_reason = BRS__FIX_RR_INVALID_MSGTYPE, m->reject_tag = 35;
    }
    if (m->reject_reason >= 0) {
        brs__fix_session_reject(s, m->reject_reason, m->reject_tag, reason_text(m->reject_reason));
        return;
    }
    if (mt[1] == 0) {
        switch (mt[0]) {
        case '0': {
            s->testreq_at = 0;
            return;
        }
        case '1': send_heartbeat(s, brs__fix_get(m, 112)); return;
        case '2': answer_resend(s); return;
        case '3': return;
        case '4': {
            uint64_t ns = 0;
            if (brs__fix_uint(m, 36, &ns) != 1 || ns <= m->seq) {
                brs__fix_session_reject(s, BRS__FIX_RR_BAD_VALUE, 36, "NewSeqNo not above MsgSeqNum");
                return;
            }
            advance_in(s, (uint32_t)ns);
            return;
        }
        case '5':
            if (s->state == BRS__FIX_LOGOUT_SENT) {
                disconnect(s);
            } else {
                brs__fix_session_logout(s, NULL);
            }
            return;
        case 'A':
            brs__fix_session_reject(s, BRS__FIX_RR_OTHER, 0, "already logged on");
            return;
        default: break;
        }
    }
    if (s->on_app)
        s->on_app(s->app, s, m);
}

size_t brs__fix_session_input(brs__fix_session *s, const char *buf, size_t len, int64_t now)
{
    size_t pos = 0;
    s->now = now;
    while (pos < len && s->state != BRS__FIX_DISCONNECTED) {
        size_t ml = 0;
        int rc = brs__fix_frame(buf + pos, len - pos, s->cfg.max_msg, &ml);
        if (rc == BRS__FIX_FRAME_NEED_MORE) {
            if (len - pos >= s->cfg.max_msg) { /* cannot become a message */
                brs__fix_session_logout(s, "message too large");
                return len;
            }
            break;
        }
        if (rc == BRS__FIX_FRAME_TOO_BIG) {
            brs__fix_session_logout(s, "message too large");
            return len;
        }
        if (rc != BRS__FIX_FRAME_OK) { /* garbled: ignore, no sequence number used */
            s->garbled++;
            pos += ml;
            continue;
        }
        s->last_rx = now;
        s->testreq_at = 0; /* any message proves the peer alive */
        if (brs__fix_parse(&s->in, buf + pos, ml) != BRS_OK) {
            s->garbled++;
        } else {
            on_message(s);
        }
        pos += ml;
    }
    return pos;
}

void brs__fix_session_timer(brs__fix_session *s, int64_t now)
{
    s->now = now;
    if (s->state == BRS__FIX_LOGOUT_SENT && now - s->logout_at > 2000000000LL) {
        disconnect(s);
        return;
    }
    if (s->state != BRS__FIX_ACTIVE || s->hb_ns <= 0)
        return;
    if (s->testreq_at && now - s->testreq_at > s->hb_ns) {
        brs__fix_session_logout(s, "heartbeat timeout");
        return;
    }
    if (!s->testreq_at && now - s->last_rx > s->hb_ns + s->hb_ns / 5) {
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
