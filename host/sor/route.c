/* route.c: the pure routing decision (sor.h, docs/router.md). Objective, in
 * order: take the most quantity the visible books allow within the limit (in
 * whole lots, at least the minimum size per venue), then the least net cost
 * (price x qty x (1 + taker fee)). Uniform lots: a chunk greedy that is exact;
 * mixed lots: the LP optimum (a greedy with one fractional lot) then an exact
 * search in the window around it that proximity guarantees holds the optimum;
 * minimum sizes above a lot: an exact dynamic programme over quantity when
 * small, else the greedy (approximate, flagged in the plan). */
#include <string.h>

#include "sor/route_internal.h"

__int128 brs__sor_take_cost(const brs_level *lv, uint32_t n, int side, int64_t limit, int market,
                            int32_t fee_ppm, int64_t qty, int64_t *got)
{
    i128 c = 0;
    int64_t left = qty;
    for (uint32_t i = 0; i < n && left > 0; i++) {
        if (!market && (side == BRS_BUY ? lv[i].price > limit : lv[i].price < limit))
            break;
        int64_t q = lv[i].qty < left ? lv[i].qty : left;
        c += (i128)q * level_key(side, lv[i].price, fee_ppm);
        left -= q;
    }
    if (got)
        *got = qty - left;
    return c;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* A venue's greedy position before anything is taken: the first non-empty
 * level (the LP of the mixed-lot path moves it; a fallback starts again). */
static void greedy_start(vstate *s)
{
    s->x = 0;
    s->cost = 0;
    s->last_px = 0;
    s->idx = 0;
    s->left = s->lv[0].qty;
    if (s->left == 0)
        advance(s, 0);
    s->x = 0;
}

/* Our side's quantity at price px on a venue (the last level at that price),
 * cached in *q (-1: not looked up yet). */
static int64_t queued(const brs_sor_venue *v, int side, int64_t px, int64_t *q)
{
    if (*q < 0) {
        const brs_level *own = side == BRS_BUY ? v->bids : v->asks;
        uint32_t on = side == BRS_BUY ? v->n_bids : v->n_asks;
        int64_t x = 0;
        for (uint32_t j = 0; j < on && own; j++)
            if (own[j].price == px)
                x = own[j].qty;
        *q = x;
    }
    return *q;
}

/* Venue a before venue b at equal cost: lower latency, then lower index. */
static int tie_first(const brs_sor_venue *v, uint32_t a, uint32_t b)
{
    if (v[a].latency_ns != v[b].latency_ns)
        return v[a].latency_ns < v[b].latency_ns;
    return a < b;
}

static void greedy(vstate *st, const uint32_t *ids, uint32_t k, const brs_sor_venue *v, int side,
                   int64_t qty)
{
    /* Each venue's next chunk (size and cost) is cached; only the venue that
     * advanced is recomputed, so a step costs one scan of k cached entries. */
    i128 cc[BRS_SOR_MAX_VENUES];
    int64_t csz[BRS_SOR_MAX_VENUES];
    for (uint32_t j = 0; j < k; j++) {
        vstate *s = &st[ids[j]];
        csz[j] = s->min;
        cc[j] = chunk_cost(s, side, csz[j]);
    }
    int64_t rem = qty;
    for (;;) {
        int bj = -1;
        for (uint32_t j = 0; j < k; j++) {
            vstate *s = &st[ids[j]];
            int64_t c = csz[j];
            if (c > rem || s->x + c > s->avail)
                continue;
            if (bj < 0) {
                bj = (int)j;
                continue;
            }
            /* per-unit comparison: cc/c < best/bsz (sizes equal: no products) */
            i128 l = cc[j], r = cc[bj];
            if (c != csz[bj])
                l *= csz[bj], r *= c;
            if (l < r || (l == r && tie_first(v, ids[j], ids[bj])))
                bj = (int)j;
        }
        if (bj < 0)
            return;
        vstate *s = &st[ids[bj]];
        int64_t c = csz[bj];
        i128 cost = cc[bj];
        if (s->x && s->left >= c) {
            /* Whole lots inside one level all cost the same: take them together. */
            int64_t n, m, a;
            if (c == 1)
                n = s->left, m = rem, a = s->avail - s->x;
            else
                n = s->left / c, m = rem / c, a = (s->avail - s->x) / c;
            if (m < n)
                n = m;
            if (a < n)
                n = a;
            c *= n;
            cost *= n;
        }
        s->cost += cost;
        advance(s, c);
        rem -= c;
        csz[bj] = s->lot;
        if (s->x + s->lot <= s->avail)
            cc[bj] = chunk_cost(s, side, s->lot);
    }
}

/* Exact: most units, then least cost, over every whole-lot allocation. */
static void dp(vstate *st, const uint32_t *ids, uint32_t k, int side, int64_t qty, int64_t g)
{
    enum { U = BRS_SOR_DP_MAX_UNITS };
    static const i128 INF = ((i128)1) << 120;
    i128 best[U + 1], nb[U + 1];
    uint16_t pick[BRS_SOR_MAX_VENUES][U + 1]; /* lots taken at venue j for total t */
    int64_t umax = qty / g;
    for (int64_t t = 0; t <= umax; t++)
        best[t] = t ? INF : 0;
    for (uint32_t j = 0; j < k; j++) {
        vstate *s = &st[ids[j]];
        int64_t lu = s->lot / g;
        for (int64_t t = 0; t <= umax; t++)
            nb[t] = best[t], pick[j][t] = 0;
        /* cost of taking n lots, built up lot by lot */
        i128 cost = 0;
        int64_t x = 0;
        uint32_t li = 0;
        int64_t lleft = s->n ? s->lv[0].qty : 0;
        for (int64_t n = 1; n * s->lot <= s->avail && n * lu <= umax; n++) {
            int64_t need = s->lot;
            while (need > 0 && li < s->n) {
                int64_t q = lleft < need ? lleft : need;
                cost += (i128)q * level_key(side, s->lv[li].price, s->fee);
                need -= q;
                lleft -= q;
                if (lleft == 0 && ++li < s->n)
                    lleft = s->lv[li].qty;
            }
            x += s->lot;
            if (x < s->min)
                continue;
            int64_t u = n * lu;
            for (int64_t t = umax; t >= u; t--) {
                if (best[t - u] >= INF)
                    continue;
                i128 c = best[t - u] + cost;
                if (c < nb[t])
                    nb[t] = c, pick[j][t] = (uint16_t)n;
            }
        }
        memcpy(best, nb, (size_t)(umax + 1) * sizeof best[0]);
    }
    int64_t t = umax;
    while (t > 0 && best[t] >= INF)
        t--;
    for (uint32_t j = k; j-- > 0;) {
        vstate *s = &st[ids[j]];
        int64_t n = pick[j][t];
        s->x = n * s->lot;
        t -= n * (s->lot / g);
    }
}

int brs__sor_route(const brs_sor_parent *p, const brs_sor_venue *v, uint32_t nv, brs_sor_plan *out)
{
    out->n = 0;
    out->take_qty = out->post_qty = out->unrouted = 0;
    out->net_cost = 0;
    out->method = BRS_SOR_GREEDY_EXACT;
    if (!p || p->qty <= 0 || p->qty > QTY_MAX || p->side > BRS_SELL || nv > BRS_SOR_MAX_VENUES ||
        (p->type != BRS_LIMIT && p->type != BRS_MARKET) || (nv && !v))
        return BRS_E_INVAL;
    int side = p->side, market = p->type == BRS_MARKET;
    if (!market && (p->price <= 0 || p->price > PRICE_MAX))
        return BRS_E_INVAL;
    const int64_t slim = market ? INT64_MAX : side == BRS_BUY ? p->price : -p->price;
    vstate st[BRS_SOR_MAX_VENUES];
    uint32_t ids[BRS_SOR_MAX_VENUES], k = 0;
    int64_t lot0 = 0, g = 0;
    int uniform = 1, mins = 0;
    for (uint32_t i = 0; i < nv; i++) {
        const brs_sor_venue *x = &v[i];
        if (x->lot_size < 1 || x->lot_size > LOT_MAX || x->min_qty < 0 || x->min_qty > LOT_MAX ||
            x->taker_fee_ppm <= -BRS_SOR_FEE_SCALE ||
            x->taker_fee_ppm >= BRS_SOR_FEE_SCALE || x->maker_fee_ppm <= -BRS_SOR_FEE_SCALE ||
            x->maker_fee_ppm >= BRS_SOR_FEE_SCALE)
            return BRS_E_INVAL;
        vstate *s = &st[i]; /* the rest is set below for the venues taken from */
        s->lv = NULL;
        s->n = 0;
        s->lot = x->lot_size;
        int64_t mn = x->min_qty > x->lot_size ? x->min_qty : x->lot_size;
        /* divisions are slow next to the rest of a decision: none without a minimum */
        s->min = mn == s->lot ? mn : (mn + s->lot - 1) / s->lot * s->lot;
        s->fee = x->taker_fee_ppm;
        if (!x->up || x->no_take)
            continue;
        s->lv = side == BRS_BUY ? x->asks : x->bids;
        uint32_t n = side == BRS_BUY ? x->n_asks : x->n_bids;
        if (n && !s->lv)
            return BRS_E_INVAL;
        /* prices signed so that better is lower on both sides: a book is valid
         * when they rise strictly; levels past the limit are not usable */
        int64_t sum = 0, prev = INT64_MIN;
        uint32_t j = 0;
        for (; j < n; j++) {
            int64_t px = s->lv[j].price, q = s->lv[j].qty;
            if ((uint64_t)px - 1 >= (uint64_t)PRICE_MAX || (uint64_t)q > (uint64_t)QTY_MAX)
                return BRS_E_INVAL;
            int64_t sp = side == BRS_BUY ? px : -px;
            if (sp <= prev)
                return BRS_E_INVAL; /* books must be best first, strictly */
            if (sp > slim)
                break;
            prev = sp;
            sum += q;
        }
        s->n = j;
        s->m = div_lot(sum, s->lot);
        s->avail = s->m * s->lot;
        if (s->avail < s->min)
            continue;
        s->key0 = level_key(side, s->lv[0].price, s->fee);
        greedy_start(s);
        if (k == 0)
            lot0 = s->lot;
        if (s->lot != lot0 || s->min != s->lot)
            uniform = 0;
        if (s->min != s->lot)
            mins = 1;
        ids[k++] = i;
    }
    if (k) {
        if (!uniform)
            for (uint32_t j = 0; j < k && g != 1; j++)
                if (st[ids[j]].lot != g)
                    g = gcd64(g, st[ids[j]].lot);
        int done = 0;
        if (uniform) {
            greedy(st, ids, k, v, side, p->qty);
            done = 1;
        } else if (!mins) {
            out->method = BRS_SOR_WINDOW_EXACT;
            done = brs__sor_route_mixed(st, ids, k, side, p->qty, g);
            if (!done) /* lots too far apart: the full programme, from the start */
                for (uint32_t j = 0; j < k; j++)
                    greedy_start(&st[ids[j]]);
        }
        if (done) {
            /* decided above */
        } else if (p->qty / g <= BRS_SOR_DP_MAX_UNITS) {
            out->method = BRS_SOR_DP_EXACT;
            dp(st, ids, k, side, p->qty, g);
        } else {
            out->method = BRS_SOR_GREEDY_APPROX;
            greedy(st, ids, k, v, side, p->qty);
        }
    }
    /* Children: best first level, then latency, then venue index. */
    for (uint32_t j = 0; j < k; j++) {
        vstate *s = &st[ids[j]];
        if (!s->x)
            continue;
        i128 c = s->cost;
        int64_t px = s->last_px;
        if (out->method == BRS_SOR_DP_EXACT || out->method == BRS_SOR_WINDOW_EXACT) {
            /* the programmes keep no per-level trail: the cost of x from the
             * top, and the worst level touched (the child's limit), in one walk */
            int64_t left = s->x;
            uint32_t li = 0;
            c = 0;
            for (; li < s->n; li++) {
                int64_t q = s->lv[li].qty < left ? s->lv[li].qty : left;
                c += (i128)q * level_key(side, s->lv[li].price, s->fee);
                if ((left -= q) == 0)
                    break;
            }
            px = s->lv[li < s->n ? li : s->n - 1].price;
        }
        brs_sor_child ch = {.venue = ids[j], .kind = BRS_SOR_TAKE, .side = (uint8_t)side,
                            .price = px, .qty = s->x};
        uint32_t at = out->n;
        while (at > 0) {
            const brs_sor_child *o = &out->child[at - 1];
            int64_t ko = st[o->venue].key0;
            if (ko < s->key0 || (ko == s->key0 && tie_first(v, o->venue, ids[j])))
                break;
            out->child[at] = *o;
            at--;
        }
        out->child[at] = ch;
        out->n++;
        out->take_qty += s->x;
        out->net_cost += (double)c / BRS_SOR_FEE_SCALE;
    }
    int64_t rem = p->qty - out->take_qty;
    if (rem > 0 && p->post && !market) {
        /* Post: lowest maker fee, then least quantity queued at our price, then
         * latency, then index; the first venue, in that order, where the rest
         * makes a valid size (so the best of those where it does). */
        int64_t qq[BRS_SOR_MAX_VENUES]; /* queued at our price, looked up on a fee tie only */
        int best = -1;
        int64_t bqty = 0;
        for (uint32_t i = 0; i < nv; i++) {
            if (!v[i].up || v[i].no_post)
                continue;
            int64_t q = div_lot(rem, st[i].lot) * st[i].lot;
            if (q < st[i].min || q <= 0)
                continue;
            qq[i] = -1;
            if (best < 0 || v[i].maker_fee_ppm < v[best].maker_fee_ppm) {
                best = (int)i, bqty = q;
                continue;
            }
            if (v[i].maker_fee_ppm != v[best].maker_fee_ppm)
                continue;
            int64_t x = queued(&v[i], side, p->price, &qq[i]);
            int64_t bx = queued(&v[best], side, p->price, &qq[best]);
            if (x < bx || (x == bx && tie_first(v, i, (uint32_t)best)))
                best = (int)i, bqty = q;
        }
        if (best >= 0) {
            out->child[out->n++] = (brs_sor_child){.venue = (uint32_t)best, .kind = BRS_SOR_POST,
                                                   .side = (uint8_t)side, .price = p->price,
                                                   .qty = bqty};
            out->post_qty = bqty;
        }
    }
    out->unrouted = p->qty - out->take_qty - out->post_qty;
    return BRS_OK;
}
