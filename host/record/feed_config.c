/* feed_config.c: strict parsing of the live-feed configuration shared by
 * `bourse record` and `bourse live`: unknown keys and wrong types are errors
 * naming the file and the key (host/core/config.h). */
#include "feed_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const char *const root_keys[] = {
    "ws_url",     "rest_url",    "symbols",    "depth_stream",  "subscribe",
    "ping_ms",    "idle_timeout_ms", "backoff_min_ms", "backoff_max_ms", "max_message",
    "tls_verify", "ca_file",     "duration_s", "max_events",    "block_records",
    "stop_on_server_close", "strategy", "paper", "kline_interval", "metrics", NULL};
static const char *const sym_keys[] = {"symbol", "price_decimals", "qty_decimals", NULL};

void brs__feed_cfg_free(brs__feed_cfg *fc)
{
    free(fc->names);
    free(fc->names_buf);
    free(fc->pdec);
    free(fc->qdec);
    free(fc->instr);
    memset(fc, 0, sizeof *fc);
}

int brs__feed_cfg_parse(brs__feed_cfg *fc, const brs_config *cfg, int allow_strategy,
                        brs_error *err)
{
    memset(fc, 0, sizeof *fc);
    const cJSON *root = cfg->root;
    const char *ws_url, *rest_url, *depth_stream, *ca_file, *kline_interval;
    int64_t ping_ms, idle_ms, bmin_ms, bmax_ms, max_msg;
    int subscribe, tls_verify, rc;
    const char *const *keys = root_keys;
    if ((rc = brs__config_check_keys(cfg, root, "", keys, err)))
        return rc;
    fc->strategy = cJSON_GetObjectItemCaseSensitive(root, "strategy");
    if (fc->strategy && !allow_strategy)
        return brs__err(err, BRS_E_INVAL, "%s: strategy: only `bourse live` runs a strategy",
                        cfg->source);
    if (fc->strategy && !cJSON_IsObject(fc->strategy))
        return brs__err(err, BRS_E_INVAL, "%s: strategy: expected an object", cfg->source);
    fc->metrics = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    if (fc->metrics && !allow_strategy)
        return brs__err(err, BRS_E_INVAL, "%s: metrics: only `bourse live` serves metrics", cfg->source);
    if (fc->metrics && !cJSON_IsObject(fc->metrics))
        return brs__err(err, BRS_E_INVAL, "%s: metrics: expected an object {\"listen\": \"127.0.0.1:9464\"}",
                        cfg->source);
    fc->paper = cJSON_GetObjectItemCaseSensitive(root, "paper");
    if (fc->paper && !allow_strategy)
        return brs__err(err, BRS_E_INVAL, "%s: paper: only `bourse live` paper-trades", cfg->source);
    if (fc->paper && !cJSON_IsObject(fc->paper))
        return brs__err(err, BRS_E_INVAL, "%s: paper: expected an object", cfg->source);
    if ((rc = brs__config_string(cfg, root, "", "ws_url", NULL, &ws_url, err)) ||
        (rc = brs__config_string(cfg, root, "", "rest_url",
                                 "https://fapi.binance.com/fapi/v1/depth?symbol={SYMBOL}&limit=1000",
                                 &rest_url, err)) ||
        (rc = brs__config_string(cfg, root, "", "depth_stream", "@depth@100ms", &depth_stream, err)) ||
        (rc = brs__config_string(cfg, root, "", "kline_interval", "", &kline_interval, err)) ||
        (rc = brs__config_string(cfg, root, "", "ca_file", NULL, &ca_file, err)) ||
        (rc = brs__config_int(cfg, root, "", "ping_ms", 0, &ping_ms, err)) ||
        (rc = brs__config_int(cfg, root, "", "idle_timeout_ms", 0, &idle_ms, err)) ||
        (rc = brs__config_int(cfg, root, "", "backoff_min_ms", 0, &bmin_ms, err)) ||
        (rc = brs__config_int(cfg, root, "", "backoff_max_ms", 0, &bmax_ms, err)) ||
        (rc = brs__config_int(cfg, root, "", "max_message", 0, &max_msg, err)) ||
        (rc = brs__config_int(cfg, root, "", "max_events", 0, &fc->max_events, err)) ||
        (rc = brs__config_int(cfg, root, "", "block_records", 4096, &fc->block_records, err)) ||
        (rc = brs__config_bool(cfg, root, "", "subscribe", 1, &subscribe, err)) ||
        (rc = brs__config_bool(cfg, root, "", "tls_verify", 1, &tls_verify, err)) ||
        (rc = brs__config_bool(cfg, root, "", "stop_on_server_close", 0, &fc->stop_on_close, err)) ||
        (rc = brs__config_double(cfg, root, "", "duration_s", 0, &fc->duration_s, err)))
        return rc;
    if (!ws_url)
        return brs__err(err, BRS_E_INVAL, "%s: ws_url is required", cfg->source);
    if (!brs__bn_kline_interval_ok(kline_interval))
        return brs__err(err, BRS_E_INVAL,
                        "%s: kline_interval: '%s' is not a Binance interval (1m 3m 5m 15m 30m 1h "
                        "2h 4h 6h 8h 12h 1d 3d 1w 1M)",
                        cfg->source, kline_interval);
    if (fc->block_records < 1 || fc->block_records > (1 << 20) || fc->max_events < 0 ||
        fc->duration_s < 0 || max_msg < 0 || ping_ms < 0 || idle_ms < 0 || bmin_ms < 0 || bmax_ms < 0)
        return brs__err(err, BRS_E_RANGE,
                        "%s: block_records must be 1..1048576; max_events, max_message, "
                        "duration_s and the times >= 0",
                        cfg->source);
    /* in nanoseconds below: bounded so the product fits (a day is plenty) */
    const struct {
        const char *key;
        int64_t ms;
    } times[] = {{"ping_ms", ping_ms}, {"idle_timeout_ms", idle_ms}, {"backoff_min_ms", bmin_ms}, {"backoff_max_ms", bmax_ms}};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++)
        if (times[i].ms > 86400000)
            return brs__err(err, BRS_E_RANGE, "%s: %s must be 0..86400000 (a day)", cfg->source, times[i].key);
    const cJSON *syms = cJSON_GetObjectItemCaseSensitive(root, "symbols");
    int ns = cJSON_IsArray(syms) ? cJSON_GetArraySize(syms) : 0;
    if (ns < 1 || ns > BRS__BN_LIVE_MAX_SYMBOLS)
        return brs__err(err, BRS_E_INVAL, "%s: symbols must be an array of 1..%d objects",
                        cfg->source, BRS__BN_LIVE_MAX_SYMBOLS);
    fc->names = calloc((size_t)ns, sizeof *fc->names);
    fc->names_buf = calloc((size_t)ns, BRS_SYMBOL_MAX);
    fc->pdec = calloc((size_t)ns, sizeof *fc->pdec);
    fc->qdec = calloc((size_t)ns, sizeof *fc->qdec);
    fc->instr = calloc((size_t)ns, sizeof *fc->instr);
    if (!fc->names || !fc->names_buf || !fc->pdec || !fc->qdec || !fc->instr)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (int i = 0; i < ns; i++) {
        const cJSON *s = cJSON_GetArrayItem(syms, i);
        char where[32];
        snprintf(where, sizeof where, "symbols[%d]", i);
        const char *name;
        int64_t pd, qd;
        if (!cJSON_IsObject(s))
            return brs__err(err, BRS_E_INVAL, "%s: %s must be an object", cfg->source, where);
        if ((rc = brs__config_check_keys(cfg, s, where, sym_keys, err)) ||
            (rc = brs__config_string(cfg, s, where, "symbol", NULL, &name, err)) ||
            (rc = brs__config_int(cfg, s, where, "price_decimals", -1, &pd, err)) ||
            (rc = brs__config_int(cfg, s, where, "qty_decimals", -1, &qd, err)))
            return rc;
        if (!name || !name[0] || strlen(name) >= BRS_SYMBOL_MAX || pd < 0 || pd > 18 || qd < 0 ||
            qd > 18)
            return brs__err(err, BRS_E_INVAL,
                            "%s: %s needs \"symbol\" (< %d chars), \"price_decimals\" and "
                            "\"qty_decimals\" (0..18): events store scaled integers",
                            cfg->source, where, BRS_SYMBOL_MAX);
        for (int k = 0; k < i; k++)
            if (strcmp(fc->names[k], name) == 0)
                return brs__err(err, BRS_E_EXISTS, "%s: %s: %s is listed twice", cfg->source,
                                where, name);
        char *nb = fc->names_buf + (size_t)i * BRS_SYMBOL_MAX;
        snprintf(nb, BRS_SYMBOL_MAX, "%s", name);
        fc->names[i] = nb;
        fc->pdec[i] = (int)pd;
        fc->qdec[i] = (int)qd;
        brs_instrument *in = &fc->instr[i];
        in->id = (uint32_t)i;
        snprintf(in->symbol, sizeof in->symbol, "%s", name);
        in->price_scale = 1;
        for (int k = 0; k < pd; k++)
            in->price_scale *= 10;
        in->tick_size = 1;
        in->lot_size = 1;
    }
    fc->n = (uint32_t)ns;
    brs__bn_live_opts *lo = &fc->live;
    lo->ws_url = ws_url;
    lo->rest_url = rest_url;
    lo->symbols = fc->names;
    lo->nsymbols = fc->n;
    lo->price_dec = fc->pdec;
    lo->qty_dec = fc->qdec;
    lo->subscribe = subscribe;
    lo->depth_stream = depth_stream;
    lo->kline_interval = kline_interval;
    lo->ws.ping_interval_ns = ping_ms * 1000000;
    lo->ws.idle_timeout_ns = idle_ms * 1000000;
    lo->ws.backoff_min_ns = bmin_ms * 1000000;
    lo->ws.backoff_max_ns = bmax_ms * 1000000;
    lo->ws.max_message = (size_t)max_msg;
    lo->ws.tls.verify = tls_verify;
    lo->ws.tls.ca_file = ca_file;
    return BRS_OK;
}
