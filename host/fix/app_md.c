/* app_md.c: the FIX application's market data: MarketDataRequest (V)
 * subscriptions with their limits, each on one venue's book (MDMkt) or on the
 * consolidated book of every venue; snapshots (W) and incremental updates (X)
 * of the books that changed (the runtime counts the changes, whoever made
 * them), trades as MDEntryType 2 (docs/fix-gateway.md, "Market data"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"
#include "fix/app_internal.h"
#include "runtime/rt_books.h"

/* Keep a trade for the subscribers that asked for trades (grows to the most
 * trades one message makes; a failed growth drops the trade, never the order). */
void brs__fix_md_keep_trade(brs__fix_gateway *g, uint32_t instrument, uint32_t venue, int64_t price, int64_t qty)
{
    if (g->n_trades == g->cap_trades) {
        uint32_t c = g->cap_trades ? g->cap_trades * 2 : 64;
        brs__fix_md_trade *p = realloc(g->trades, c * sizeof *p);
        if (!p)
            return;
        g->trades = p;
        g->cap_trades = c;
    }
    g->trades[g->n_trades++] = (brs__fix_md_trade){instrument, venue, price, qty};
}

/* ---- market data ------------------------------------------------------------ */

/* A trade shown to sub: its instrument, on its venue (any, consolidated). */
static int md_trade_of(const brs__fix_md_trade *tr, const brs__fix_md_sub *sub)
{
    return tr->instrument == sub->instrument && (sub->venue == BRS__RT_ALL_VENUES || tr->venue == sub->venue);
}

/* Trades of the last message in sub's instrument, when it asked for them. */
static uint32_t md_trades_for(const brs__fix_gateway *g, const brs__fix_md_sub *sub)
{
    uint32_t n = 0;
    if (sub->trades)
        for (uint32_t t = 0; t < g->n_trades; t++)
            n += md_trade_of(&g->trades[t], sub);
    return n;
}

/* MDMkt (275) of an entry: the venue of a per-venue subscription's entries;
 * in the consolidated book, a trade's venue when the config names venues
 * (its book levels are every venue's together and carry none). */
static void md_enc_mkt(brs__fix_gateway *g, brs__fix_enc *e, const brs__fix_md_sub *sub, uint32_t trade_venue)
{
    if (sub->venue != BRS__RT_ALL_VENUES)
        brs__fix_enc_str(e, 275, brs__rt_venue_name(g->rt, sub->venue));
    else if (trade_venue != BRS__RT_ALL_VENUES && g->last_mkt)
        brs__fix_enc_str(e, 275, brs__rt_venue_name(g->rt, trade_venue));
}

/* Trade entries in one X or W at most: a deep sweep's trades are split over
 * several messages, each within the output buffer (BRS__FIX_OUT_MAX). */
#define MD_TRADES_PER_X 96

/* An MDEntryType 2 entry per trade of sub's instrument (x: in an X, with
 * MDUpdateAction 0 and Symbol), from g->trades[*from] on, at most max of
 * them; *from moves past the last one written. */
static void md_enc_trades_from(brs__fix_gateway *g, brs__fix_enc *e, const brs__fix_md_sub *sub,
                               int x, uint32_t *from, uint32_t max)
{
    uint32_t done = 0;
    for (uint32_t t = *from; t < g->n_trades && done < max; t++) {
        const brs__fix_md_trade *tr = &g->trades[t];
        *from = t + 1;
        if (!md_trade_of(tr, sub))
            continue;
        done++;
        if (x)
            brs__fix_enc_char(e, 279, '0');
        brs__fix_enc_char(e, 269, '2');
        if (x)
            brs__fix_enc_str(e, 55, g->instr[sub->instrument].symbol);
        brs__fix_enc_price(g, e, 270, sub->instrument, tr->price);
        brs__fix_enc_int(e, 271, tr->qty);
        md_enc_mkt(g, e, sub, tr->venue);
    }
}

/* The book as sub last read it as a W; with trades, also the last message's
 * trades (full-refresh subscriptions that asked for them). A deep sweep's
 * trades go over several W, each with the book and at most MD_TRADES_PER_X
 * trades, so each fits the output buffer (BRS__FIX_OUT_MAX): a W replaces
 * the book, so the repeats are harmless, and the trades follow in order. */
static void md_snapshot(brs__fix_gateway *g, brs__fix_session *s, brs__fix_md_sub *sub, int with_trades)
{
    uint32_t left = with_trades ? md_trades_for(g, sub) : 0, from = 0;
    do {
        uint32_t nt = left < MD_TRADES_PER_X ? left : MD_TRADES_PER_X;
        brs__fix_enc *e = brs__fix_session_begin(s, "W");
        brs__fix_enc_str(e, 262, sub->reqid);
        brs__fix_enc_str(e, 55, g->instr[sub->instrument].symbol);
        brs__fix_enc_int(e, 268, sub->n[0] + sub->n[1] + nt);
        for (int side = 0; side < 2; side++)
            for (uint32_t k = 0; k < sub->n[side]; k++) {
                brs__fix_enc_char(e, 269, side == 0 ? '0' : '1');
                brs__fix_enc_price(g, e, 270, sub->instrument, sub->last[side][k].price);
                brs__fix_enc_int(e, 271, sub->last[side][k].qty);
                md_enc_mkt(g, e, sub, BRS__RT_ALL_VENUES);
                brs__fix_enc_int(e, 290, k + 1);
            }
        if (nt)
            md_enc_trades_from(g, e, sub, 0, &from, nt);
        brs__fix_session_send(s);
        left -= nt;
    } while (left);
}

static void md_read(brs__fix_gateway *g, uint32_t venue, uint32_t instr, uint32_t depth,
                    brs_level out[2][BRS__FIX_MD_DEPTH], uint32_t n[2])
{
    for (uint8_t side = 0; side < 2; side++) {
        n[side] = 0;
        if (brs__rt_book_depth(g->rt, venue, instr, side, out[side], depth, &n[side]) != BRS_OK)
            n[side] = 0;
    }
}

/* The book a subscription shows, read once per change whatever the number of
 * subscriptions on it (NULL: no cache). */
static brs__fix_md_view *md_view_fresh(brs__fix_gateway *g, uint32_t venue, uint32_t instr, uint32_t gen)
{
    if (!g->md_view)
        return NULL;
    uint32_t nv = brs__rt_venues(g->rt);
    uint32_t slot = venue == BRS__RT_ALL_VENUES ? nv : venue;
    brs__fix_md_view *v = &g->md_view[(size_t)slot * g->n_instr + instr];
    if (!v->valid || v->gen != gen) {
        md_read(g, venue, instr, BRS__FIX_MD_DEPTH, v->lv, v->n);
        v->gen = gen;
        v->valid = 1;
    }
    return v;
}

typedef struct md_entry {
    char action, side;
    int64_t price, qty;
} md_entry;


/* Send the level changes since the subscription's last view as one X. */
static void md_update(brs__fix_gateway *g, brs__fix_md_sub *sub, uint32_t gen)
{
    brs__fix_session *s = brs__fix_session_of(g, sub->session);
    sub->gen = gen;
    if (!s || s->state != BRS__FIX_ACTIVE)
        return;
    brs_level now[2][BRS__FIX_MD_DEPTH];
    uint32_t n[2];
    brs__fix_md_view *v = md_view_fresh(g, sub->venue, sub->instrument, gen);
    if (v) {
        for (int side = 0; side < 2; side++) {
            n[side] = v->n[side] < sub->depth ? v->n[side] : sub->depth;
            memcpy(now[side], v->lv[side], n[side] * sizeof now[side][0]);
        }
    } else {
        md_read(g, sub->venue, sub->instrument, sub->depth, now, n);
    }
    /* entries: action, side, price, qty */
    md_entry ent[4 * BRS__FIX_MD_DEPTH];
    uint32_t ne = 0;
    for (int side = 0; side < 2; side++) {
        for (uint32_t i = 0; i < sub->n[side]; i++) {
            uint32_t j = 0;
            while (j < n[side] && now[side][j].price != sub->last[side][i].price)
                j++;
            if (j == n[side])
                ent[ne++] = (md_entry){'2', (char)('0' + side), sub->last[side][i].price, 0};
        }
        for (uint32_t j = 0; j < n[side]; j++) {
            uint32_t i = 0;
            while (i < sub->n[side] && sub->last[side][i].price != now[side][j].price)
                i++;
            if (i == sub->n[side])
                ent[ne++] = (md_entry){'0', (char)('0' + side), now[side][j].price, now[side][j].qty};
            else if (sub->last[side][i].qty != now[side][j].qty)
                ent[ne++] = (md_entry){'1', (char)('0' + side), now[side][j].price, now[side][j].qty};
        }
    }
    memcpy(sub->last, now, sizeof now);
    memcpy(sub->n, n, sizeof n);
    uint32_t nt = md_trades_for(g, sub);
    if (ne == 0 && nt == 0)
        return;
    if (sub->full_refresh) {
        md_snapshot(g, s, sub, 1);
        return;
    }
    /* the trades first, then the book they left: full X messages of trades
     * while more than fit in one are left */
    uint32_t from = 0;
    for (; nt > MD_TRADES_PER_X; nt -= MD_TRADES_PER_X) {
        brs__fix_enc *e = brs__fix_session_begin(s, "X");
        brs__fix_enc_str(e, 262, sub->reqid);
        brs__fix_enc_int(e, 268, MD_TRADES_PER_X);
        md_enc_trades_from(g, e, sub, 1, &from, MD_TRADES_PER_X);
        brs__fix_session_send(s);
    }
    brs__fix_enc *e = brs__fix_session_begin(s, "X");
    brs__fix_enc_str(e, 262, sub->reqid);
    brs__fix_enc_int(e, 268, ne + nt);
    md_enc_trades_from(g, e, sub, 1, &from, nt);
    for (uint32_t k = 0; k < ne; k++) {
        brs__fix_enc_char(e, 279, ent[k].action);
        brs__fix_enc_char(e, 269, ent[k].side);
        brs__fix_enc_str(e, 55, g->instr[sub->instrument].symbol);
        brs__fix_enc_price(g, e, 270, sub->instrument, ent[k].price);
        if (ent[k].action != '2')
            brs__fix_enc_int(e, 271, ent[k].qty);
        md_enc_mkt(g, e, sub, BRS__RT_ALL_VENUES);
    }
    brs__fix_session_send(s);
}

/* Every subscription whose book changed since it was last read (or that has
 * trades to show) gets its update. */
static void md_send(brs__fix_gateway *g)
{
    if (!g->replaying)
        for (uint32_t i = 0; i < g->n_subs; i++) {
            brs__fix_md_sub *sub = &g->subs[i];
            uint32_t gen = brs__rt_book_gen(g->rt, sub->venue, sub->instrument);
            if (gen != sub->gen || (g->n_trades && md_trades_for(g, sub)))
                md_update(g, sub, gen);
        }
    g->n_trades = 0;
}

/* After a journaled step: first the hosted strategies see the books it left
 * (their answers are part of the step, so a replay makes them again at the
 * same point), then the subscribers get what moved. */
void brs__fix_md_publish(brs__fix_gateway *g)
{
    if (g->books_hook)
        g->books_hook(g->replay_user);
    md_send(g);
}

void brs__fix_gateway_publish(brs__fix_gateway *g) { md_send(g); }

/* Subscriptions asking for trades, kept count of so trades are only kept then. */
void brs__fix_md_count_trade_subs(brs__fix_gateway *g)
{
    g->n_trade_subs = 0;
    for (uint32_t i = 0; i < g->n_subs; i++)
        g->n_trade_subs += g->subs[i].trades != 0;
}

static void md_reject(brs__fix_session *s, const brs__fix_msg *m, char reason, const char *text)
{
    brs__fix_enc *e = brs__fix_session_begin(s, "Y");
    const brs__fix_field *f = brs__fix_get(m, 262);
    if (f)
        brs__fix_enc_mem(e, 262, brs__fix_val(m, f), f->len);
    brs__fix_enc_char(e, 281, reason);
    brs__fix_enc_str(e, 58, text);
    brs__fix_session_send(s);
}

int brs__fix_find_instr(brs__fix_gateway *g, const char *s, size_t n)
{
    for (uint32_t i = 0; i < g->n_instr; i++)
        if (strlen(g->instr[i].symbol) == n && memcmp(g->instr[i].symbol, s, n) == 0)
            return (int)i;
    return -1;
}

/* A market data limit bit: the refusal, and a log line at most once a second
 * (with how many went unlogged), so a client cannot flood the log either. */
static void md_limit(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m, const char *key,
                     uint32_t limit, uint32_t asked, const char *text)
{
    char t[200];
    snprintf(t, sizeof t, "%s (%s %u, asked for %u)", text, key, limit, asked);
    md_reject(s, m, '2', t); /* 281=2: insufficient bandwidth */
    int64_t now = brs__monotime_ns();
    if (now - g->md_limit_logged_ns < 1000000000LL) {
        g->md_limit_quiet++;
        return;
    }
    BRS_LOG(BRS_LOG_WARN, "fix", "market data request refused: limit reached", BRS_KV_S("session", s->cfg.target),
            BRS_KV_S("limit", key), BRS_KV_U("value", limit), BRS_KV_U("asked", asked),
            BRS_KV_U("refused_unlogged", g->md_limit_quiet));
    g->md_limit_logged_ns = now;
    g->md_limit_quiet = 0;
}

/* The venue a MDMkt (275) or SecurityExchange (207) field names into *out;
 * an unknown name is refused (281=0, the Text naming it and the venues):
 * nonzero then. */
static int md_venue_of(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m, const brs__fix_field *f,
                       uint32_t *out)
{
    char name[64];
    size_t n = f->len < sizeof name - 1 ? f->len : sizeof name - 1;
    memcpy(name, m->buf + f->off, n);
    name[n] = 0;
    int v = n == f->len ? brs__rt_venue_find(g->rt, name) : -1;
    if (v >= 0) {
        *out = (uint32_t)v;
        return 0;
    }
    char t[256], list[160] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < brs__rt_venues(g->rt) && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", brs__rt_venue_name(g->rt, i));
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?'; /* the Text stays one printable field */
    snprintf(t, sizeof t, "unknown venue '%s' in %s; venues: %s", name,
             f->tag == 275 ? "MDMkt (275)" : "SecurityExchange (207)", list);
    md_reject(s, m, '0', t);
    return 1;
}

void brs__fix_md_request(brs__fix_gateway *g, brs__fix_session *s, const brs__fix_msg *m)
{
    char reqid[64];
    brs__fix_str(m, 262, reqid, sizeof reqid);
    char type = brs__fix_char(m, 263);
    if (type == '2') { /* unsubscribe */
        for (uint32_t i = 0; i < g->n_subs;)
            if (g->subs[i].session == s->index && strcmp(g->subs[i].reqid, reqid) == 0)
                g->subs[i] = g->subs[--g->n_subs];
            else
                i++;
        brs__fix_md_count_trade_subs(g);
        return;
    }
    if (type != '0' && type != '1') {
        md_reject(s, m, '4', "unsupported SubscriptionRequestType");
        return;
    }
    if (brs__rt_track_books(g->rt) != BRS_OK) { /* the change counters updates follow */
        md_reject(s, m, '2', "out of memory for market data");
        return;
    }
    uint64_t depth = 0;
    if (brs__fix_uint(m, 264, &depth) != 1) {
        md_reject(s, m, '5', "unsupported MarketDepth");
        return;
    }
    if (depth == 0 || depth > BRS__FIX_MD_DEPTH)
        depth = BRS__FIX_MD_DEPTH;
    int full = 0;
    if (type == '1') {
        char ut = brs__fix_char(m, 265);
        if (ut != '0' && ut != '1') {
            md_reject(s, m, '6', "MDUpdateType 0 or 1 required for subscriptions");
            return;
        }
        full = ut == '0';
        for (uint32_t i = 0; i < g->n_subs; i++)
            if (g->subs[i].session == s->index && strcmp(g->subs[i].reqid, reqid) == 0) {
                md_reject(s, m, '1', "duplicate MDReqID");
                return;
            }
    }
    int instr[BRS__FIX_MD_MAX_SYMBOLS];
    uint32_t venue[BRS__FIX_MD_MAX_SYMBOLS];
    int ni = 0, want_trades = 0;
    uint32_t listed = 0;
    for (uint32_t k = 0; k < m->nfields; k++)
        listed += m->fields[k].group == 146 && m->fields[k].tag == 55;
    if (listed > g->max_md_symbols) {
        md_limit(g, s, m, "max_md_symbols_per_request", g->max_md_symbols, listed, "too many symbols in one request");
        return;
    }
    /* MDMkt (275) in the body: the venue of every entry that names none */
    uint32_t body_venue = BRS__RT_ALL_VENUES;
    const brs__fix_field *bm = brs__fix_get(m, 275);
    if (bm && md_venue_of(g, s, m, bm, &body_venue))
        return;
    int cur = -1;                        /* the NoRelatedSym entry being read */
    uint32_t cur_venue = BRS__RT_ALL_VENUES;
    int cur_named = 0;
    for (uint32_t k = 0; k <= m->nfields; k++) {
        const brs__fix_field *f = k < m->nfields ? &m->fields[k] : NULL;
        if (f && f->group == 267 && f->tag == 269) {
            if (!(f->len == 1 && m->buf[f->off] >= '0' && m->buf[f->off] <= '2')) {
                md_reject(s, m, '8', "only MDEntryType 0 (bid), 1 (offer) and 2 (trade) are served");
                return;
            }
            want_trades |= m->buf[f->off] == '2';
        }
        if (f && f->group == 146 && (f->tag == 275 || f->tag == 207) && cur >= 0) {
            uint32_t vx;
            if (md_venue_of(g, s, m, f, &vx))
                return;
            if (cur_named && vx != cur_venue) {
                md_reject(s, m, '0', "MDMkt (275) and SecurityExchange (207) name different venues");
                return;
            }
            cur_venue = vx;
            cur_named = 1;
        }
        /* an entry ends at the next Symbol or at the end: (symbol, venue) is
         * one subscription, listed twice still one */
        if (cur >= 0 && (!f || (f->group == 146 && f->tag == 55))) {
            uint32_t vx = cur_named ? cur_venue : body_venue;
            int dup = 0;
            for (int q = 0; q < ni; q++)
                dup |= instr[q] == cur && venue[q] == vx;
            if (!dup && ni < BRS__FIX_MD_MAX_SYMBOLS) {
                instr[ni] = cur;
                venue[ni++] = vx;
            }
            cur = -1;
        }
        if (f && f->group == 146 && f->tag == 55) {
            int in = brs__fix_find_instr(g, m->buf + f->off, f->len);
            if (in < 0) {
                md_reject(s, m, '0', "unknown symbol");
                return;
            }
            cur = in;
            cur_venue = BRS__RT_ALL_VENUES;
            cur_named = 0;
        }
    }
    if (ni == 0) {
        md_reject(s, m, '0', "no symbol");
        return;
    }
    if (type == '1') {
        uint32_t mine = 0;
        for (uint32_t i = 0; i < g->n_subs; i++)
            mine += g->subs[i].session == s->index;
        if (mine + (uint32_t)ni > g->max_md_subs_per_session) {
            md_limit(g, s, m, "max_md_subscriptions_per_session", g->max_md_subs_per_session, mine + (uint32_t)ni,
                     "too many market data subscriptions for this session");
            return;
        }
        if (g->n_subs + (uint32_t)ni > g->max_md_subs) {
            md_limit(g, s, m, "max_md_subscriptions", g->max_md_subs, g->n_subs + (uint32_t)ni,
                     "too many market data subscriptions on this venue");
            return;
        }
        /* room for every subscription of the request before any snapshot goes
         * out: out of memory refuses the whole request, never half of it */
        if (g->n_subs + (uint32_t)ni > g->cap_subs) {
            uint32_t c = g->cap_subs ? g->cap_subs : 16;
            while (c < g->n_subs + (uint32_t)ni)
                c *= 2;
            brs__fix_md_sub *p = realloc(g->subs, c * sizeof *p);
            if (!p) {
                BRS_LOG(BRS_LOG_ERROR, "fix", "MarketDataRequest refused: out of memory for its subscriptions",
                        BRS_KV_S("session", s->cfg.target), BRS_KV_U("subscriptions", g->n_subs + (uint32_t)ni));
                md_reject(s, m, '2', "out of memory for the subscriptions");
                return;
            }
            g->subs = p;
            g->cap_subs = c;
        }
    }
    for (int k = 0; k < ni; k++) {
        brs__fix_md_sub sub;
        memset(&sub, 0, sizeof sub);
        sub.session = s->index;
        sub.instrument = (uint32_t)instr[k];
        sub.venue = venue[k];
        sub.gen = brs__rt_book_gen(g->rt, sub.venue, sub.instrument);
        sub.depth = (uint32_t)depth;
        sub.full_refresh = full;
        sub.trades = want_trades;
        snprintf(sub.reqid, sizeof sub.reqid, "%s", reqid);
        md_read(g, sub.venue, sub.instrument, sub.depth, sub.last, sub.n);
        md_snapshot(g, s, &sub, 0);
        if (type == '1')
            g->subs[g->n_subs++] = sub; /* room reserved above */
    }
    brs__fix_md_count_trade_subs(g);
}

void brs__fix_gateway_session_gone(brs__fix_gateway *g, brs__fix_session *s)
{
    for (uint32_t i = 0; i < g->n_subs;)
        if (g->subs[i].session == s->index)
            g->subs[i] = g->subs[--g->n_subs];
        else
            i++;
    brs__fix_md_count_trade_subs(g);
}

