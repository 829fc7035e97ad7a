/* risk.c: the pre-trade checks of risk.h. Each check is one small function in
 * a fixed order (kill switch, size, notional, band, position, rate) so the
 * reject names the first check that failed; the rate token is taken last, so a
 * refused order does not use up the budget. */
#include "risk/risk.h"

#include <limits.h>
#include <string.h>

#include "core/core.h"

typedef __int128 i128;

void brs__risk_init(brs_risk *r, const brs_risk_config *cfg)
{
    memset(r, 0, sizeof *r);
    if (cfg)
        r->cfg = *cfg;
    if (r->cfg.rate_per_sec > 0 && r->cfg.rate_burst <= 0)
        r->cfg.rate_burst = r->cfg.rate_per_sec;
    r->tokens_e9 = r->cfg.rate_burst * 1000000000LL;
    r->last_ns = INT64_MIN;
}

static int64_t pick(int64_t inst, int64_t def)
{
    return inst ? inst : def;
}

static brs_risk_limits limits_of(const brs_risk *r, uint32_t i)
{
    brs_risk_limits l = r->cfg.def;
    if (i < BRS_RISK_MAX_INSTRUMENTS) {
        const brs_risk_limits *o = &r->cfg.inst[i];
        l.max_order_qty = pick(o->max_order_qty, l.max_order_qty);
        l.max_order_notional = pick(o->max_order_notional, l.max_order_notional);
        l.max_position = pick(o->max_position, l.max_position);
        l.price_band_bps = pick(o->price_band_bps, l.price_band_bps);
    }
    return l;
}

static void refill(brs_risk *r, int64_t now)
{
    int64_t cap = r->cfg.rate_burst * 1000000000LL;
    if (r->last_ns == INT64_MIN || now < r->last_ns) {
        r->last_ns = now;
        return;
    }
    i128 add = (i128)(now - r->last_ns) * r->cfg.rate_per_sec;
    r->last_ns = now;
    i128 t = (i128)r->tokens_e9 + add;
    r->tokens_e9 = t > cap ? cap : (int64_t)t;
}

/* exposure: what this order may still add to the position if it fills;
 * replaced_leaves: the open quantity of the order it replaces (0 for a new one),
 * taken out of the side's open orders since the new version supersedes it. */
static int check(brs_risk *r, const brs_order *o, int64_t exposure, int64_t replaced_leaves,
                 int64_t now, brs_error *err)
{
    if (r->killed)
        return brs__err(err, BRS_E_RISK, "kill_switch: trading stopped (%s)", r->kill_reason);
    uint32_t i = o->instrument;
    if (i >= BRS_RISK_MAX_INSTRUMENTS)
        return brs__err(err, BRS_E_RISK, "instrument: id %u beyond the risk table (%d)", i,
                        BRS_RISK_MAX_INSTRUMENTS);
    if (o->qty <= 0 || o->side > BRS_SELL)
        return brs__err(err, BRS_E_RISK, "order: qty must be > 0 and side buy or sell");
    brs_risk_limits l = limits_of(r, i);
    int64_t ref = r->ref_price[i];
    int market = o->type == BRS_MARKET;
    if (l.max_order_qty && o->qty > l.max_order_qty)
        return brs__err(err, BRS_E_RISK, "max_order_qty: qty %lld > %lld", (long long)o->qty,
                        (long long)l.max_order_qty);
    if (l.max_order_notional) {
        int64_t p = market ? ref : o->price;
        if (p <= 0)
            return brs__err(err, BRS_E_RISK,
                            "max_order_notional: no reference price to value a market order");
        i128 n = (i128)p * o->qty;
        if (n > l.max_order_notional)
            return brs__err(err, BRS_E_RISK, "max_order_notional: %lld x %lld > %lld",
                            (long long)p, (long long)o->qty, (long long)l.max_order_notional);
    }
    if (l.price_band_bps && !market) {
        if (ref <= 0)
            return brs__err(err, BRS_E_RISK, "price_band: no reference price yet");
        i128 d = (i128)o->price - ref;
        if (d < 0)
            d = -d;
        if (d * 10000 > (i128)l.price_band_bps * ref)
            return brs__err(err, BRS_E_RISK, "price_band: price %lld is more than %lld bps from %lld",
                            (long long)o->price, (long long)l.price_band_bps, (long long)ref);
    }
    if (l.max_position) {
        /* Worst case: every open order of this side fills, then this one. */
        int64_t pos = r->position[i];
        i128 open = (i128)r->open_qty[i][o->side] - replaced_leaves;
        i128 worst = o->side == BRS_BUY ? (i128)pos + open + exposure : open + exposure - pos;
        if (worst > l.max_position)
            return brs__err(err, BRS_E_RISK,
                            "max_position: position %lld with open orders could reach %lld > %lld",
                            (long long)pos, (long long)(o->side == BRS_BUY ? worst : -worst),
                            (long long)l.max_position);
    }
    if (r->cfg.rate_per_sec > 0) {
        refill(r, now);
        if (r->tokens_e9 < 1000000000LL)
            return brs__err(err, BRS_E_RISK, "rate_limit: more than %lld orders/s (burst %lld)",
                            (long long)r->cfg.rate_per_sec, (long long)r->cfg.rate_burst);
        r->tokens_e9 -= 1000000000LL;
    }
    return BRS_OK;
}

int brs__risk_check(brs_risk *r, const brs_order *o, int64_t now, brs_error *err)
{
    return check(r, o, o->qty, 0, now, err);
}

int brs__risk_check_replace(brs_risk *r, const brs_order *o, int64_t old_leaves, int64_t cum,
                            int64_t now, brs_error *err)
{
    if (cum < 0 || old_leaves < 0 || cum >= o->qty)
        return brs__err(err, BRS_E_RISK, "order: new qty must exceed the filled qty");
    return check(r, o, o->qty - cum, old_leaves, now, err);
}

void brs__risk_set_ref(brs_risk *r, uint32_t i, int64_t price)
{
    if (i < BRS_RISK_MAX_INSTRUMENTS)
        r->ref_price[i] = price;
}

void brs__risk_on_open(brs_risk *r, uint32_t i, int side, int64_t qty)
{
    if (i < BRS_RISK_MAX_INSTRUMENTS && (side == BRS_BUY || side == BRS_SELL))
        r->open_qty[i][side] += qty;
}

void brs__risk_on_fill(brs_risk *r, uint32_t i, int side, int64_t qty)
{
    if (i >= BRS_RISK_MAX_INSTRUMENTS || (side != BRS_BUY && side != BRS_SELL))
        return;
    r->open_qty[i][side] -= qty;
    if (r->open_qty[i][side] < 0)
        r->open_qty[i][side] = 0;
    r->position[i] += side == BRS_BUY ? qty : -qty;
}

void brs__risk_on_close(brs_risk *r, uint32_t i, int side, int64_t leaves)
{
    if (i >= BRS_RISK_MAX_INSTRUMENTS || (side != BRS_BUY && side != BRS_SELL))
        return;
    r->open_qty[i][side] -= leaves;
    if (r->open_qty[i][side] < 0)
        r->open_qty[i][side] = 0;
}

void brs__risk_kill(brs_risk *r, const char *reason)
{
    r->killed = 1;
    snprintf(r->kill_reason, sizeof r->kill_reason, "%s", reason ? reason : "kill switch");
}

void brs__risk_rearm(brs_risk *r)
{
    r->killed = 0;
    r->kill_reason[0] = 0;
}

/* ---- config ------------------------------------------------------------ */

static int read_limits(const brs_config *cfg, const cJSON *o, const char *where,
                       brs_risk_limits *l, brs_error *err)
{
    static const char *const names[] = {"max_order_qty", "max_order_notional", "max_position",
                                        "price_band_bps"};
    int64_t *dst[] = {&l->max_order_qty, &l->max_order_notional, &l->max_position,
                      &l->price_band_bps};
    for (size_t k = 0; k < BRS__ARRAY_LEN(names); k++) {
        int rc = brs__config_int(cfg, o, where, names[k], 0, dst[k], err);
        if (rc)
            return rc;
        if (*dst[k] < 0)
            return brs__err(err, BRS_E_INVAL, "%s: %s%s%s must be >= 0 (0: no limit)", cfg->source,
                            where, *where ? "." : "", names[k]);
    }
    return BRS_OK;
}

int brs__risk_config_read(const brs_config *cfg, const cJSON *risk, const brs_instrument *insts,
                          uint32_t n_insts, brs_risk_config *out, brs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!risk)
        return BRS_OK;
    static const char *const keys[] = {"max_order_qty", "max_order_notional", "max_position",
                                       "price_band_bps", "rate_per_sec", "rate_burst",
                                       "instruments", NULL};
    int rc = brs__config_check_keys(cfg, risk, "risk", keys, err);
    if (rc)
        return rc;
    if ((rc = read_limits(cfg, risk, "risk", &out->def, err)))
        return rc;
    if ((rc = brs__config_int(cfg, risk, "risk", "rate_per_sec", 0, &out->rate_per_sec, err)) ||
        (rc = brs__config_int(cfg, risk, "risk", "rate_burst", 0, &out->rate_burst, err)))
        return rc;
    if (out->rate_per_sec < 0 || out->rate_burst < 0 || out->rate_burst > 1000000000LL ||
        out->rate_per_sec > 1000000000LL)
        return brs__err(err, BRS_E_INVAL, "%s: risk.rate_per_sec and risk.rate_burst must be in 0..1e9",
                        cfg->source);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(risk, "instruments");
    if (!per)
        return BRS_OK;
    if (!cJSON_IsObject(per))
        return brs__err(err, BRS_E_INVAL, "%s: risk.instruments must be an object of symbols",
                        cfg->source);
    static const char *const ikeys[] = {"max_order_qty", "max_order_notional", "max_position",
                                        "price_band_bps", NULL};
    for (const cJSON *it = per->child; it; it = it->next) {
        char where[96];
        snprintf(where, sizeof where, "risk.instruments.%s", it->string);
        uint32_t id = UINT32_MAX;
        for (uint32_t k = 0; k < n_insts; k++)
            if (strcmp(insts[k].symbol, it->string) == 0)
                id = insts[k].id;
        if (id == UINT32_MAX)
            return brs__err(err, BRS_E_INVAL, "%s: %s: unknown instrument", cfg->source, where);
        if (id >= BRS_RISK_MAX_INSTRUMENTS)
            return brs__err(err, BRS_E_INVAL, "%s: %s: instrument id %u beyond %d", cfg->source,
                            where, id, BRS_RISK_MAX_INSTRUMENTS);
        if ((rc = brs__config_check_keys(cfg, it, where, ikeys, err)) ||
            (rc = read_limits(cfg, it, where, &out->inst[id], err)))
            return rc;
    }
    return BRS_OK;
}
