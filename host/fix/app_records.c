/* app_records.c: journal records that are not a FIX message, written for
 * others beside the order flow: a routed child's step (CHILD, for the audit
 * trail), a WebSocket order request (WS) and report (WS_REPORT, for the
 * audit trail), the runtime's own time (CLOCK), the market data feed's steps
 * (FEED) and the hosted strategies' own (STRAT). Layouts in docs/fix-gateway.md,
 * "Journal records, byte by byte"; replay in app_journal.c. */
#include "fix/app.h"
#include "fix/app_internal.h"

#include <stdlib.h>
#include <string.h>

static void wr32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(char *p, uint64_t v) { memcpy(p, &v, 8); }

int brs__fix_journal_child(brs__fix_gateway *g, const brs__rt_child_note *n, const char *owner,
                           const char *order)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    char r[CHILD_HEADER_LEN + 3 * 255];
    memset(r, 0, CHILD_HEADER_LEN);
    uint8_t what = 0, side = 255, liq = 0, tif = 0;
    int64_t price = 0, qty = 0;
    int32_t reason = 0;
    uint32_t instr = UINT32_MAX;
    if (n->what == BRS__RT_CHILD_ROUTED && n->o) {
        instr = n->o->instrument;
        what = 1;
        side = n->o->side;
        tif = n->o->tif;
        price = n->o->price;
        qty = n->o->qty;
    } else if (n->what == BRS__RT_CHILD_CANCEL) {
        what = 2;
    } else if (n->what == BRS__RT_CHILD_EVENT && n->ev) {
        static const uint8_t by_kind[] = {[BRS_OEV_ACCEPTED] = 3, [BRS_OEV_FILL] = 4, [BRS_OEV_CANCELLED] = 5,
                                          [BRS_OEV_REJECTED] = 6, [BRS_OEV_REPLACED] = 7};
        what = n->ev->kind < sizeof by_kind ? by_kind[n->ev->kind] : 0;
        instr = n->ev->instrument;
        side = n->ev->side;
        liq = n->ev->liquidity;
        price = n->ev->price;
        qty = n->ev->qty;
        reason = n->ev->reason;
    }
    if (!what)
        return BRS_OK;
    const char *vn = brs__rt_venue_name(g->rt, n->venue);
    size_t la = strnlen(owner ? owner : "", 255), lb = strnlen(order ? order : "", 255),
           lc = strnlen(vn ? vn : "", 255);
    r[0] = (char)what;
    r[1] = (char)side;
    r[2] = (char)liq;
    r[3] = (char)la;
    wr32(r + 4, n->venue);
    wr64(r + 8, (uint64_t)n->now);
    wr64(r + 16, n->child);
    wr64(r + 24, (uint64_t)price);
    wr64(r + 32, (uint64_t)qty);
    wr64(r + 40, (uint64_t)n->cum);
    wr32(r + 48, (uint32_t)reason);
    r[52] = (char)lb;
    r[53] = (char)lc;
    r[54] = (char)tif;
    r[55] = (char)(instr < g->n_instr ? g->instr[instr].decimals : 0); /* prices are in ticks of 10^-decimals */
    memcpy(r + CHILD_HEADER_LEN, owner, la);
    memcpy(r + CHILD_HEADER_LEN + la, order, lb);
    memcpy(r + CHILD_HEADER_LEN + la + lb, vn, lc);
    return brs__fix_jrec(g, JOURNAL_CHILD, r,
                      (uint32_t)(CHILD_HEADER_LEN + la + lb + lc));
}

/* A record of a fixed header followed by text: the record's length covers both. */
static int text_record(brs__fix_gateway *g, uint32_t type, const char *h, uint32_t hl, const char *text,
                       size_t len)
{
    if (len > UINT32_MAX - hl)
        return BRS_E_RANGE;
    size_t at = g->jlen;
    int rc = brs__fix_buf_record(&g->jbuf, &g->jlen, &g->jcap, type, h, hl);
    if (rc != BRS_OK)
        return rc;
    if (g->jlen + len > g->jcap) {
        size_t c = g->jcap;
        while (c < g->jlen + len)
            c *= 2;
        char *p = realloc(g->jbuf, c);
        if (!p) {
            g->jlen = at;
            return BRS_E_NOMEM;
        }
        g->jbuf = p;
        g->jcap = c;
    }
    memcpy(g->jbuf + g->jlen, text, len);
    g->jlen += len;
    wr32(g->jbuf + at + 4, (uint32_t)(hl + len));
    if (g->jcrc && brs__fix_buf_seal(&g->jbuf, &g->jlen, &g->jcap, at) != BRS_OK) {
        g->jlen = at;
        return BRS_E_NOMEM;
    }
    return BRS_OK;
}

int brs__fix_journal_ws(brs__fix_gateway *g, uint32_t account, int64_t t, const char *text, size_t len)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    char h[12];
    wr32(h, account);
    wr64(h + 4, (uint64_t)t);
    return text_record(g, JOURNAL_WS, h, sizeof h, text, len);
}

int brs__fix_journal_ws_report(brs__fix_gateway *g, uint32_t account, const char *name, int64_t t,
                               const char *text, size_t len)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    char h[13 + 255];
    size_t ln = strnlen(name ? name : "", 255);
    wr32(h, account);
    wr64(h + 4, (uint64_t)t);
    h[12] = (char)ln;
    memcpy(h + 13, name, ln);
    return text_record(g, JOURNAL_WS_REPORT, h, (uint32_t)(13 + ln), text, len);
}

int brs__fix_journal_strat(brs__fix_gateway *g, const void *rec, size_t len)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    if (len > UINT32_MAX)
        return BRS_E_RANGE;
    return brs__fix_jrec(g, JOURNAL_STRAT, rec, (uint32_t)len);
}

int brs__fix_journal_clock(brs__fix_gateway *g, int64_t t)
{
    if (g->jfd < 0 || g->replaying || t == g->jclock_t)
        return BRS_OK;
    g->jclock_t = t;
    return brs__fix_jrec(g, JOURNAL_CLOCK, &t, 8);
}

int brs__fix_journal_clock_step(brs__fix_gateway *g, int64_t t)
{
    if (g->jfd < 0 || g->replaying)
        return BRS_OK;
    g->jclock_t = t;
    return brs__fix_jrec(g, JOURNAL_CLOCK, &t, 8);
}

int brs__fix_journal_feed(brs__fix_gateway *g, int64_t t, uint64_t n)
{
    if (g->replaying)
        return BRS_OK;
    g->feed_events += n;
    if (g->jfd < 0)
        return BRS_OK;
    char r[16];
    wr64(r, (uint64_t)t);
    wr64(r + 8, n);
    g->jclock_t = t;
    return brs__fix_jrec(g, JOURNAL_FEED, r, sizeof r);
}

