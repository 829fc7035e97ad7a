/* session_resend.c: resending, both ways, for the FIX session (session.c):
 * our ResendRequest when the peer's sequence jumps (one, EndSeqNo 0, widened
 * while it is answered), and our answer to the peer's: stored application
 * messages resent with PossDupFlag Y and OrigSendingTime, admin messages and
 * numbers the store lacks replaced by SequenceReset-GapFill, in batches of
 * resend_batch per loop turn so a long resend never stalls other sessions. */
#include "fix/session_internal.h"

#include <string.h>

#include "core/core.h"

void brs__fix_session_ask_resend(brs__fix_session *s, uint32_t upto)
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
        brs__fix_session_wire(s, m, n);
}

/* Re-send a stored application message, already parsed into m: same MsgSeqNum
 * and body, PossDupFlag Y, OrigSendingTime the original SendingTime, a fresh
 * SendingTime. Returns 1 when sent, -1 when it cannot be rebuilt. */
static int resend_one(brs__fix_session *s, const char *orig, brs__fix_msg *m)
{
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
    brs__fix_session_wire(s, out, n);
    return 1;
}

void brs__fix_session_resend_feed(brs__fix_session *s, uint32_t seq, const char *msg, size_t len)
{
    brs__fix_resend *r = &s->resend;
    brs__fix_msg *m = &s->scratch;
    /* an application message is resent, after the gap fill that leads to it;
     * an admin message (or a number the store lacks, or one that cannot be
     * read back) only extends the pending gap fill */
    if (len > 0 && brs__fix_parse(m, msg, len) == BRS_OK && m->msgtype[0] &&
        !brs__fix_is_admin(m->msgtype)) {
        if (r->gap) {
            send_gap_fill(s, r->gap, seq);
            r->gap = 0;
        }
        if (s->state != BRS__FIX_DISCONNECTED && resend_one(s, msg, m) > 0)
            return;
    }
    if (!r->gap)
        r->gap = seq;
}

int brs__fix_session_resend_more(brs__fix_session *s, uint32_t max)
{
    brs__fix_resend *r = &s->resend;
    uint32_t done = 0;
    while (r->next && r->next <= r->end && s->state != BRS__FIX_DISCONNECTED) {
        if (max && done++ >= max)
            return 1;
        uint32_t q = r->next++;
        long n = brs__fix_store_get(&s->store, q, s->tmp, sizeof s->tmp);
        brs__fix_session_resend_feed(s, q, s->tmp, n > 0 ? (size_t)n : 0);
    }
    if (r->gap && s->state != BRS__FIX_DISCONNECTED)
        send_gap_fill(s, r->gap, r->end + 1);
    memset(r, 0, sizeof *r);
    return 0;
}

void brs__fix_session_answer_resend(brs__fix_session *s)
{
    uint64_t begin = 0, end = 0;
    if (brs__fix_uint(&s->in, 7, &begin) != 1 || brs__fix_uint(&s->in, 16, &end) != 1 ||
        begin > UINT32_MAX || end > UINT32_MAX) {
        brs__fix_session_reject(s, BRS__FIX_RR_BAD_FORMAT, 7, "bad BeginSeqNo/EndSeqNo");
        return;
    }
    uint32_t last = s->store.next_out - 1;
    if (end == 0 || end > last)
        end = last;
    if (begin == 0)
        begin = 1;
    brs__fix_store_flush(&s->store);
    /* a resend still running is finished first (its gap fill included) */
    if (s->resend.next)
        brs__fix_session_resend_more(s, 0);
    if (begin > end)
        return;
    s->resend.next = (uint32_t)begin;
    s->resend.end = (uint32_t)end;
    s->resend.gap = 0;
    brs__fix_session_resend_more(s, s->resend_batch);
}

