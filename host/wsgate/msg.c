/* msg.c: parse and check WebSocket order-entry requests (msg.h). Strict:
 * every key must belong to the op, every value has one type and a range, and
 * the error names the field, so a client learns exactly what to fix. */
#include "wsgate/msg.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <bourse/types.h>

#include "core/core.h"

#define QTY_MAX (INT64_C(1) << 50)

/* A JSON number that is a whole number in [lo, hi] (range first: casting a
 * double outside int64 is undefined). */
static int whole(const cJSON *v, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return 0;
    *out = (int64_t)v->valuedouble;
    return (double)*out == v->valuedouble;
}

static int bad(char *field, size_t cap, const char *f, brs_error *err, int code, const char *fmt,
               const char *a)
{
    if (field && cap)
        snprintf(field, cap, "%s", f);
    return brs__err(err, code, fmt, a);
}

static const struct {
    const char *name;
    int op;
    const char *keys[12];
} ops[] = {
    {"login", BRS__WSG_LOGIN, {"op", "id", "account", "token", NULL}},
    {"place", BRS__WSG_PLACE,
     {"op", "id", "client_order_id", "symbol", "side", "type", "price", "qty", "tif", "post_only", NULL}},
    {"cancel", BRS__WSG_CANCEL, {"op", "id", "client_order_id", NULL}},
    {"replace", BRS__WSG_REPLACE, {"op", "id", "client_order_id", "price", "qty", NULL}},
    {"query", BRS__WSG_QUERY, {"op", "id", "client_order_id", NULL}},
    {"subscribe", BRS__WSG_SUBSCRIBE, {"op", "id", "channel", "symbol", "venue", "depth", NULL}},
    {"unsubscribe", BRS__WSG_UNSUBSCRIBE, {"op", "id", "channel", "symbol", "venue", NULL}},
};

/* A string field into out (1..cap-1 bytes, printable ASCII); absent: 0 and "" . */
static int str_field(const cJSON *o, const char *k, int required, char *out, size_t cap, char *field,
                     size_t fcap, brs_error *err)
{
    out[0] = '\0';
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v)
        return required ? bad(field, fcap, k, err, BRS_E_INVAL, "missing field '%s'", k) : BRS_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad(field, fcap, k, err, BRS_E_INVAL, "field '%s': expected a string", k);
    size_t n = strlen(v->valuestring);
    if (n == 0 || n >= cap)
        return bad(field, fcap, k, err, BRS_E_INVAL, "field '%s': empty or too long", k);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v->valuestring[i] < 0x21 || (unsigned char)v->valuestring[i] > 0x7e)
            return bad(field, fcap, k, err, BRS_E_INVAL,
                       "field '%s': only printable ASCII without spaces", k);
    memcpy(out, v->valuestring, n + 1);
    return BRS_OK;
}

/* A price: a decimal string or a JSON number, digits and at most one point. */
static int price_field(const cJSON *o, int required, char *out, size_t cap, char *field, size_t fcap,
                       brs_error *err)
{
    out[0] = '\0';
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "price");
    if (!v)
        return required ? bad(field, fcap, "price", err, BRS_E_INVAL, "missing field '%s'", "price") : BRS_OK;
    if (cJSON_IsNumber(v)) {
        if (!(v->valuedouble > 0) || v->valuedouble > 1e15)
            return bad(field, fcap, "price", err, BRS_E_INVAL, "field '%s': must be above 0 and below 1e15", "price");
        snprintf(out, cap, "%.10g", v->valuedouble);
        if (strchr(out, 'e') || strchr(out, 'E'))
            return bad(field, fcap, "price", err, BRS_E_INVAL,
                       "field '%s': give it as a decimal string (\"101.25\")", "price");
        return BRS_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad(field, fcap, "price", err, BRS_E_INVAL, "field '%s': expected a decimal string or a number", "price");
    const char *s = v->valuestring;
    size_t n = strlen(s);
    int dots = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.')
            dots++;
        else if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else
            return bad(field, fcap, "price", err, BRS_E_INVAL, "field '%s': only digits and one '.'", "price");
    }
    if (n >= cap || !digits || dots > 1)
        return bad(field, fcap, "price", err, BRS_E_INVAL, "field '%s': not a decimal number (or too long)", "price");
    memcpy(out, s, n + 1);
    return BRS_OK;
}

static int qty_field(const cJSON *o, int required, int64_t *out, char *field, size_t fcap, brs_error *err)
{
    *out = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "qty");
    if (!v)
        return required ? bad(field, fcap, "qty", err, BRS_E_INVAL, "missing field '%s'", "qty") : BRS_OK;
    if (!whole(v, 1, (double)QTY_MAX, out)) {
        *out = 0;
        return bad(field, fcap, "qty", err, BRS_E_INVAL, "field '%s': a whole number of units, 1..2^50", "qty");
    }
    return BRS_OK;
}

int brs__wsg_parse(const char *text, size_t len, brs__wsg_req *r, char *field, size_t cap,
                   brs_error *err)
{
    memset(r, 0, sizeof *r);
    if (field && cap)
        field[0] = '\0';
    cJSON *o = cJSON_ParseWithLength(text, len);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return brs__err(err, BRS_E_PARSE, "not a JSON object");
    }
    int rc = BRS_OK;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (id) {
        int64_t x;
        if (!whole(id, 0, 9007199254740991.0, &x)) {
            rc = bad(field, cap, "id", err, BRS_E_INVAL, "field '%s': a whole number 0..2^53-1", "id");
            goto out;
        }
        r->has_id = 1;
        r->id = x;
    }
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(o, "op");
    if (!op || !cJSON_IsString(op) || !op->valuestring) {
        rc = bad(field, cap, "op", err, BRS_E_INVAL, "missing field '%s' (a string)", "op");
        goto out;
    }
    int k = -1;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(op->valuestring, ops[i].name))
            k = (int)i;
    if (k < 0) {
        rc = bad(field, cap, "op", err, BRS_E_INVAL,
                 "field '%s': one of login, place, cancel, replace, query, subscribe, unsubscribe", "op");
        goto out;
    }
    r->op = ops[k].op;
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        int ok = 0;
        for (int j = 0; ops[k].keys[j]; j++)
            if (it->string && !strcmp(it->string, ops[k].keys[j]))
                ok = 1;
        if (!ok) {
            char f[64];
            snprintf(f, sizeof f, "%.60s", it->string ? it->string : "");
            if (field && cap)
                snprintf(field, cap, "%s", f);
            rc = brs__err(err, BRS_E_INVAL, "field '%s' is not part of '%s'", f, ops[k].name);
            goto out;
        }
    }
    switch (r->op) {
    case BRS__WSG_LOGIN:
        if ((rc = str_field(o, "account", 1, r->account, sizeof r->account, field, cap, err)) ||
            (rc = str_field(o, "token", 1, r->token, sizeof r->token, field, cap, err)))
            goto out;
        break;
    case BRS__WSG_PLACE: {
        char side[8], type[8], tif[8];
        if ((rc = str_field(o, "client_order_id", 1, r->order, sizeof r->order, field, cap, err)) ||
            (rc = str_field(o, "symbol", 1, r->symbol, sizeof r->symbol, field, cap, err)) ||
            (rc = str_field(o, "side", 1, side, sizeof side, field, cap, err)) ||
            (rc = str_field(o, "type", 0, type, sizeof type, field, cap, err)) ||
            (rc = str_field(o, "tif", 0, tif, sizeof tif, field, cap, err)) ||
            (rc = qty_field(o, 1, &r->qty, field, cap, err)))
            goto out;
        if (!strcmp(side, "buy"))
            r->side = BRS_BUY;
        else if (!strcmp(side, "sell"))
            r->side = BRS_SELL;
        else {
            rc = bad(field, cap, "side", err, BRS_E_INVAL, "field '%s': \"buy\" or \"sell\"", "side");
            goto out;
        }
        if (!type[0] || !strcmp(type, "limit"))
            r->type = BRS_LIMIT;
        else if (!strcmp(type, "market"))
            r->type = BRS_MARKET;
        else {
            rc = bad(field, cap, "type", err, BRS_E_INVAL, "field '%s': \"limit\" or \"market\"", "type");
            goto out;
        }
        if (!tif[0])
            r->tif = r->type == BRS_MARKET ? BRS_IOC : BRS_GTC;
        else if (!strcmp(tif, "gtc"))
            r->tif = BRS_GTC;
        else if (!strcmp(tif, "ioc"))
            r->tif = BRS_IOC;
        else if (!strcmp(tif, "fok"))
            r->tif = BRS_FOK;
        else {
            rc = bad(field, cap, "tif", err, BRS_E_INVAL, "field '%s': \"gtc\", \"ioc\" or \"fok\"", "tif");
            goto out;
        }
        const cJSON *po = cJSON_GetObjectItemCaseSensitive(o, "post_only");
        if (po && !cJSON_IsBool(po)) {
            rc = bad(field, cap, "post_only", err, BRS_E_INVAL, "field '%s': true or false", "post_only");
            goto out;
        }
        r->post_only = po && cJSON_IsTrue(po);
        if ((rc = price_field(o, r->type == BRS_LIMIT, r->price, sizeof r->price, field, cap, err)))
            goto out;
        if (r->type == BRS_MARKET && (r->price[0] || r->post_only || r->tif == BRS_GTC)) {
            rc = bad(field, cap, r->price[0] ? "price" : r->post_only ? "post_only" : "tif", err,
                     BRS_E_INVAL, "%s", "a market order has no price, is not post_only and is ioc or fok");
            goto out;
        }
        if (r->post_only && r->tif != BRS_GTC) {
            rc = bad(field, cap, "post_only", err, BRS_E_INVAL, "%s", "post_only goes with tif gtc");
            goto out;
        }
        break;
    }
    case BRS__WSG_CANCEL:
        if ((rc = str_field(o, "client_order_id", 1, r->order, sizeof r->order, field, cap, err)))
            goto out;
        break;
    case BRS__WSG_REPLACE:
        if ((rc = str_field(o, "client_order_id", 1, r->order, sizeof r->order, field, cap, err)) ||
            (rc = price_field(o, 0, r->price, sizeof r->price, field, cap, err)) ||
            (rc = qty_field(o, 0, &r->qty, field, cap, err)))
            goto out;
        if (!r->price[0] && !r->qty) {
            rc = bad(field, cap, "", err, BRS_E_INVAL, "%s", "replace: give a new price, a new qty, or both");
            goto out;
        }
        break;
    case BRS__WSG_QUERY:
        if ((rc = str_field(o, "client_order_id", 0, r->order, sizeof r->order, field, cap, err)))
            goto out;
        break;
    case BRS__WSG_SUBSCRIBE:
    case BRS__WSG_UNSUBSCRIBE: {
        char ch[16];
        if ((rc = str_field(o, "channel", 1, ch, sizeof ch, field, cap, err)))
            goto out;
        if (!strcmp(ch, "orders"))
            r->channel = BRS__WSG_CH_ORDERS;
        else if (!strcmp(ch, "fills"))
            r->channel = BRS__WSG_CH_FILLS;
        else if (!strcmp(ch, "book"))
            r->channel = BRS__WSG_CH_BOOK;
        else {
            rc = bad(field, cap, "channel", err, BRS_E_INVAL, "field '%s': \"orders\", \"fills\" or \"book\"", "channel");
            goto out;
        }
        if ((rc = str_field(o, "symbol", r->channel == BRS__WSG_CH_BOOK, r->symbol, sizeof r->symbol, field, cap, err)) ||
            (rc = str_field(o, "venue", 0, r->venue, sizeof r->venue, field, cap, err)))
            goto out;
        if (r->channel != BRS__WSG_CH_BOOK && (r->symbol[0] || r->venue[0])) {
            rc = bad(field, cap, r->symbol[0] ? "symbol" : "venue", err, BRS_E_INVAL, "%s",
                     "symbol and venue go with the book channel only");
            goto out;
        }
        r->depth = 10;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "depth");
        if (d) {
            int64_t x;
            if (r->channel != BRS__WSG_CH_BOOK || !whole(d, 1, BRS__WSG_MAX_MSG_DEPTH, &x)) {
                rc = bad(field, cap, "depth", err, BRS_E_INVAL, "field '%s': 1..50, book channel only", "depth");
                goto out;
            }
            r->depth = (uint32_t)x;
        }
        break;
    }
    default: break;
    }
out:
    cJSON_Delete(o);
    return rc;
}
