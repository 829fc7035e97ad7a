/* server_cfg.c: reading `bourse serve`'s configuration (docs/fix-gateway.md,
 * "Configuration"): listeners, limits, sessions, instruments, risk and the
 * runtime's venues, router and market data, each key checked and named. */
#include "fix/server.h"
#include "runtime/rt_hosted.h"
#include "wsgate/wsgate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/log.h"

int brs__fix_server_config(brs__fix_server_cfg *sc, brs_config *cfg, brs_error *err)
{
    memset(sc, 0, sizeof *sc);
    static const char *const top[] = {"listen", "state_dir", "fsync", "max_message_bytes",
                                      "max_output_bytes", "output_low_water_bytes",
                                      "slow_consumer_timeout_ms", "max_msgs_per_sec",
                                      "logon_timeout_ms", "max_cancels_per_turn", "max_forget_per_turn",
                                      "max_reports_per_turn", "max_events_per_turn",
                                      "sender_comp_id", "sessions", "instruments", "risk",
                                      "max_orders", "day_end", "reset_at_day_end", "tls",
                                      "max_md_subscriptions", "max_md_subscriptions_per_session",
                                      "max_md_symbols_per_request", "metrics",
                                      "journal_checkpoint_bytes", "archive_retention_days",
                                      "venues", "router", "latency", "queue_capacity", "market_data", "strategies",
                                      BRS__FIX_SESSION_OPT_KEYS, BRS__FIX_SLOG_KEYS, BRS__WSGATE_CONFIG_KEYS, NULL};
    static const char *const listen_keys[] = {"host", "port", NULL};
    static const char *const sess_keys[] = {"target_comp_id", "username", "password",
                                            "password_env", "password_file", "allowed_hosts",
                                            "route", BRS__FIX_SESSION_OPT_KEYS, NULL};
    static const char *const instr_keys[] = {"symbol", "decimals", "tick_size", "lot_size", NULL};
    const cJSON *root = cfg->root;
    int rc = brs__config_check_keys(cfg, root, "", top, err);
    if (rc)
        return rc;
    if ((rc = brs__tls_config_read(cfg, root, "tls", &sc->tls, err)))
        return rc;
    if ((rc = brs__fix_slog_config(cfg, root, &sc->slog, err)))
        return rc;
    const cJSON *listen = cJSON_GetObjectItemCaseSensitive(root, "listen");
    if ((rc = brs__config_check_keys(cfg, listen, "listen", listen_keys, err)))
        return rc;
    const char *str;
    int64_t v;
    if ((rc = brs__config_string(cfg, listen, "listen", "host", "127.0.0.1", &str, err)))
        return rc;
    snprintf(sc->host, sizeof sc->host, "%s", str);
    if ((rc = brs__config_int(cfg, listen, "listen", "port", 9876, &v, err)))
        return rc;
    const char *envp = getenv("BOURSE_FIX_PORT");
    if (envp && *envp) {
        char *end;
        long p = strtol(envp, &end, 10);
        if (*end || p < 0 || p > 65535)
            return brs__err(err, BRS_E_INVAL, "BOURSE_FIX_PORT: '%s' is not a port number", envp);
        v = p;
    }
    if (v < 0 || v > 65535)
        return brs__err(err, BRS_E_RANGE, "%s: listen.port: %lld is not a port", cfg->source,
                        (long long)v);
    sc->port = (int)v;
    if ((rc = brs__config_string(cfg, root, "", "state_dir", "", &str, err)))
        return rc;
    snprintf(sc->state_dir, sizeof sc->state_dir, "%s", str);
    /* WebSocket order entry (host/wsgate) shares the runtime and the order
     * journal (its requests are journaled beside the FIX messages) */
    sc->ws_on = brs__wsgate_configured(cfg);
    if ((rc = brs__config_string(cfg, root, "", "fsync", "never", &str, err)))
        return rc;
    if (strcmp(str, "never") == 0)
        sc->fsync_policy = BRS__FIX_FSYNC_NEVER;
    else if (strcmp(str, "batch") == 0)
        sc->fsync_policy = BRS__FIX_FSYNC_BATCH;
    else
        return brs__err(err, BRS_E_INVAL, "%s: fsync: '%s' is not one of never, batch",
                        cfg->source, str);
    if ((rc = brs__config_int(cfg, root, "", "journal_checkpoint_bytes", 64 << 20, &v, err)))
        return rc;
    if (v != 0 && (v < 4096 || v > ((int64_t)1 << 40)))
        return brs__err(err, BRS_E_RANGE,
                        "%s: journal_checkpoint_bytes must be 0 (off) or 4096..1099511627776",
                        cfg->source);
    sc->checkpoint_bytes = (uint64_t)v;
    if ((rc = brs__config_int(cfg, root, "", "archive_retention_days", 90, &v, err)))
        return rc;
    if (v < 0 || v > 36500)
        return brs__err(err, BRS_E_RANGE, "%s: archive_retention_days must be 0 (keep all) .. 36500",
                        cfg->source);
    sc->archive_retention_days = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_message_bytes", 65536, &v, err)))
        return rc;
    if (v < 256 || v > (1 << 24))
        return brs__err(err, BRS_E_RANGE, "%s: max_message_bytes must be 256..16777216", cfg->source);
    sc->max_msg = (size_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_output_bytes", 8 << 20, &v, err)))
        return rc;
    if (v < 65536)
        return brs__err(err, BRS_E_RANGE, "%s: max_output_bytes must be >= 65536", cfg->source);
    sc->max_output = (size_t)v;
    if ((rc = brs__config_int(cfg, root, "", "output_low_water_bytes", v / 4, &v, err)))
        return rc;
    if (v < 1 || (size_t)v >= sc->max_output)
        return brs__err(err, BRS_E_RANGE,
                        "%s: output_low_water_bytes must be 1..max_output_bytes-1", cfg->source);
    sc->low_water = (size_t)v;
    if ((rc = brs__config_int(cfg, root, "", "slow_consumer_timeout_ms", 30000, &v, err)))
        return rc;
    if (v < 1 || v > 86400000)
        return brs__err(err, BRS_E_RANGE, "%s: slow_consumer_timeout_ms must be 1..86400000",
                        cfg->source);
    sc->slow_timeout_ns = v * 1000000;
    if ((rc = brs__config_int(cfg, root, "", "max_cancels_per_turn", 1024, &v, err)))
        return rc;
    if (v < 1 || v > 1000000)
        return brs__err(err, BRS_E_RANGE, "%s: max_cancels_per_turn must be 1..1000000", cfg->source);
    sc->max_cancels_per_turn = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_reports_per_turn", 1024, &v, err)))
        return rc;
    if (v < 1 || v > 1000000000)
        return brs__err(err, BRS_E_RANGE, "%s: max_reports_per_turn must be 1..1000000000", cfg->source);
    sc->max_reports_per_turn = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_events_per_turn", 1024, &v, err)))
        return rc;
    if (v < 1 || v > 1000000000)
        return brs__err(err, BRS_E_RANGE, "%s: max_events_per_turn must be 1..1000000000", cfg->source);
    sc->max_events_per_turn = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_forget_per_turn", 16384, &v, err)))
        return rc;
    if (v < 1024 || v > 1000000000)
        return brs__err(err, BRS_E_RANGE, "%s: max_forget_per_turn must be 1024..1000000000", cfg->source);
    sc->max_forget_per_turn = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_msgs_per_sec", 1000000, &v, err)))
        return rc;
    if (v < 1 || v > UINT32_MAX)
        return brs__err(err, BRS_E_RANGE, "%s: max_msgs_per_sec out of range", cfg->source);
    sc->max_msgs_per_sec = (uint32_t)v;
    /* market data: what one client may make the loop do on every order */
    if ((rc = brs__config_int(cfg, root, "", "max_md_subscriptions", BRS__FIX_MD_DEFAULT_SUBS, &v, err)))
        return rc;
    if (v < 0 || v > 1000000)
        return brs__err(err, BRS_E_RANGE, "%s: max_md_subscriptions must be 0..1000000", cfg->source);
    sc->max_md_subs = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_md_subscriptions_per_session", BRS__FIX_MD_DEFAULT_SUBS_PER_SESSION,
                              &v, err)))
        return rc;
    if (v < 0 || v > 1000000)
        return brs__err(err, BRS_E_RANGE, "%s: max_md_subscriptions_per_session must be 0..1000000", cfg->source);
    sc->max_md_subs_per_session = (uint32_t)v;
    if ((rc = brs__config_int(cfg, root, "", "max_md_symbols_per_request", BRS__FIX_MD_DEFAULT_SYMBOLS, &v, err)))
        return rc;
    if (v < 1 || v > BRS__FIX_MD_MAX_SYMBOLS)
        return brs__err(err, BRS_E_RANGE, "%s: max_md_symbols_per_request must be 1..%d", cfg->source,
                        BRS__FIX_MD_MAX_SYMBOLS);
    sc->max_md_symbols = (uint32_t)v;
    /* metrics: {"listen": "127.0.0.1:9464"} serves Prometheus text at /metrics */
    const cJSON *met = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    if (met) {
        static const char *const met_keys[] = {"listen", "max_dashboard_clients", NULL};
        if (!cJSON_IsObject(met))
            return brs__err(err, BRS_E_INVAL, "%s: metrics must be an object", cfg->source);
        if ((rc = brs__config_check_keys(cfg, met, "metrics", met_keys, err)))
            return rc;
        if ((rc = brs__config_string(cfg, met, "metrics", "listen", "", &str, err)))
            return rc;
        if (strlen(str) >= sizeof sc->metrics_listen)
            return brs__err(err, BRS_E_INVAL, "%s: metrics.listen is too long", cfg->source);
        snprintf(sc->metrics_listen, sizeof sc->metrics_listen, "%s", str);
        if ((rc = brs__config_int(cfg, met, "metrics", "max_dashboard_clients", 8, &v, err)))
            return rc;
        if (v < 1 || v > 32)
            return brs__err(err, BRS_E_RANGE, "%s: metrics.max_dashboard_clients must be 1..32", cfg->source);
        sc->max_dash = (int)v;
    }
    if ((rc = brs__config_int(cfg, root, "", "max_orders", 0, &v, err)))
        return rc;
    if (v < 0 || v > (1 << 26))
        return brs__err(err, BRS_E_RANGE, "%s: max_orders must be 0..67108864", cfg->source);
    sc->max_orders = (uint32_t)v;
    if ((rc = brs__config_string(cfg, root, "", "day_end", "", &str, err)))
        return rc;
    sc->day_end_s = -1;
    if (*str) {
        unsigned hh, mm, ss;
        int used = 0;
        if (sscanf(str, "%2u:%2u:%2u%n", &hh, &mm, &ss, &used) != 3 || str[used] || hh > 23 ||
            mm > 59 || ss > 59)
            return brs__err(err, BRS_E_INVAL, "%s: day_end: '%s' is not a UTC time HH:MM:SS",
                            cfg->source, str);
        sc->day_end_s = (int32_t)(hh * 3600 + mm * 60 + ss);
    }
    if ((rc = brs__config_bool(cfg, root, "", "reset_at_day_end", 0, &sc->reset_at_day_end, err)))
        return rc;
    if (sc->reset_at_day_end && sc->day_end_s < 0)
        return brs__err(err, BRS_E_INVAL, "%s: reset_at_day_end: needs day_end (when the day ends)",
                        cfg->source);
    if ((rc = brs__config_int(cfg, root, "", "logon_timeout_ms", 10000, &v, err)))
        return rc;
    if (v < 1 || v > 3600000) /* was unchecked: a huge value overflowed into the past */
        return brs__err(err, BRS_E_RANGE, "%s: logon_timeout_ms must be 1..3600000", cfg->source);
    sc->logon_timeout_ns = v * 1000000;
    if ((rc = brs__config_string(cfg, root, "", "sender_comp_id", "EXEC", &str, err)))
        return rc;
    if (!*str || strlen(str) >= BRS__FIX_COMPID_MAX)
        return brs__err(err, BRS_E_INVAL, "%s: sender_comp_id must be 1..63 characters", cfg->source);
    snprintf(sc->sender, sizeof sc->sender, "%s", str);

    brs__fix_session_opts opts; /* session options: the top level's are the defaults */
    brs__fix_session_opts_default(&opts);
    if ((rc = brs__fix_session_opts_read(cfg, root, "", &opts, err)))
        return rc;
    const cJSON *sessions = cJSON_GetObjectItemCaseSensitive(root, "sessions");
    if (!cJSON_IsArray(sessions) || cJSON_GetArraySize(sessions) == 0)
        return brs__err(err, BRS_E_INVAL, "%s: 'sessions' must be a non-empty array", cfg->source);
    sc->n_sessions = (uint32_t)cJSON_GetArraySize(sessions);
    sc->sessions = calloc(sc->n_sessions, sizeof *sc->sessions);
    const cJSON *instr = cJSON_GetObjectItemCaseSensitive(root, "instruments");
    if (!cJSON_IsArray(instr) || cJSON_GetArraySize(instr) == 0)
        return brs__err(err, BRS_E_INVAL, "%s: 'instruments' must be a non-empty array", cfg->source);
    sc->n_instr = (uint32_t)cJSON_GetArraySize(instr);
    sc->instr = calloc(sc->n_instr, sizeof *sc->instr);
    if (!sc->sessions || !sc->instr)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    uint32_t i = 0;
    for (const cJSON *it = sessions->child; it; it = it->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "sessions[%u]", i);
        if ((rc = brs__config_check_keys(cfg, it, where, sess_keys, err)))
            return rc;
        if ((rc = brs__config_string(cfg, it, where, "target_comp_id", "", &str, err)))
            return rc;
        if (!*str || strlen(str) >= BRS__FIX_COMPID_MAX)
            return brs__err(err, BRS_E_INVAL, "%s: %s.target_comp_id must be 1..63 characters",
                            cfg->source, where);
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(sc->sessions[k].target, str) == 0)
                return brs__err(err, BRS_E_EXISTS, "%s: %s.target_comp_id '%s' appears twice",
                                cfg->source, where, str);
        snprintf(sc->sessions[i].target, sizeof sc->sessions[i].target, "%s", str);
        if ((rc = brs__config_string(cfg, it, where, "username", "", &str, err)))
            return rc;
        snprintf(sc->sessions[i].username, sizeof sc->sessions[i].username, "%s", str);
        if ((rc = brs__fix_access_read(cfg, it, where, sc->sessions[i].password,
                                       sizeof sc->sessions[i].password, &sc->sessions[i].access,
                                       err)))
            return rc;
        sc->sessions[i].opts = opts;
        if ((rc = brs__fix_session_opts_read(cfg, it, where, &sc->sessions[i].opts, err)))
            return rc;
        if ((rc = brs__config_string(cfg, it, where, "route", "", &str, err)))
            return rc; /* checked against the venues when the runtime opens */
        if (strlen(str) >= sizeof sc->sessions[i].route)
            return brs__err(err, BRS_E_INVAL, "%s: %s.route is too long", cfg->source, where);
        snprintf(sc->sessions[i].route, sizeof sc->sessions[i].route, "%s", str);
    }
    i = 0;
    for (const cJSON *it = instr->child; it; it = it->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "instruments[%u]", i);
        if ((rc = brs__config_check_keys(cfg, it, where, instr_keys, err)))
            return rc;
        if ((rc = brs__config_string(cfg, it, where, "symbol", "", &str, err)))
            return rc;
        if (!*str || strlen(str) >= BRS_SYMBOL_MAX)
            return brs__err(err, BRS_E_INVAL, "%s: %s.symbol must be 1..31 characters", cfg->source,
                            where);
        snprintf(sc->instr[i].symbol, sizeof sc->instr[i].symbol, "%s", str);
        if ((rc = brs__config_int(cfg, it, where, "decimals", 2, &v, err)))
            return rc;
        if (v < 0 || v > 8)
            return brs__err(err, BRS_E_RANGE, "%s: %s.decimals must be 0..8", cfg->source, where);
        sc->instr[i].decimals = (int)v;
        if ((rc = brs__config_int(cfg, it, where, "tick_size", 1, &v, err)))
            return rc;
        if (v < 1)
            return brs__err(err, BRS_E_RANGE, "%s: %s.tick_size must be >= 1", cfg->source, where);
        sc->instr[i].tick_size = v;
        if ((rc = brs__config_int(cfg, it, where, "lot_size", 1, &v, err)))
            return rc;
        if (v < 1)
            return brs__err(err, BRS_E_RANGE, "%s: %s.lot_size must be >= 1", cfg->source, where);
        sc->instr[i].lot_size = v;
    }
    const cJSON *risk = cJSON_GetObjectItemCaseSensitive(root, "risk");
    if (risk) {
        if (sc->n_instr > BRS_RISK_MAX_INSTRUMENTS)
            return brs__err(err, BRS_E_LIMIT, "%s: risk checks cover at most %d instruments",
                            cfg->source, BRS_RISK_MAX_INSTRUMENTS);
        brs_instrument bi[BRS_RISK_MAX_INSTRUMENTS];
        memset(bi, 0, sizeof bi);
        for (uint32_t k = 0; k < sc->n_instr; k++) {
            bi[k].id = k;
            snprintf(bi[k].symbol, sizeof bi[k].symbol, "%s", sc->instr[k].symbol);
            bi[k].tick_size = sc->instr[k].tick_size;
            bi[k].lot_size = sc->instr[k].lot_size;
            bi[k].price_scale = 1;
            for (int d = 0; d < sc->instr[k].decimals; d++)
                bi[k].price_scale *= 10;
        }
        if ((rc = brs__risk_config_read(cfg, risk, bi, sc->n_instr, &sc->risk, err)))
            return rc;
        sc->risk_on = 1;
    }
    /* the runtime's keys, as a book-mode run reads them; no venues: the sim */
    cJSON *venues = cJSON_GetObjectItemCaseSensitive(cfg->root, "venues");
    sc->named_venues = venues != NULL;
    if (!venues) {
        cJSON *vs = cJSON_AddArrayToObject(cfg->root, "venues");
        cJSON *sim = cJSON_CreateObject();
        if (!vs || !sim || !cJSON_AddStringToObject(sim, "name", "sim") ||
            !cJSON_AddStringToObject(sim, "plugin", "sim")) {
            cJSON_Delete(sim);
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        }
        cJSON_AddItemToArray(vs, sim);
        if (sc->max_orders) {
            cJSON *pp = cJSON_AddObjectToObject(sim, "params");
            if (!pp || !cJSON_AddNumberToObject(pp, "max_orders", sc->max_orders < 1024 ? 1024 : sc->max_orders))
                return brs__err(err, BRS_E_NOMEM, "out of memory");
        }
    }
    if ((rc = brs__rt_read_config(cfg, cfg->root, "", &sc->rt, err)))
        return rc;
    sc->rt.books_from_venues = 1; /* the venues are shared by every client: read their books */
    if ((rc = brs__rt_feed_read_config(cfg, cfg->root, &sc->md, err)))
        return rc;
    /* strategies beside the clients, with a book-mode run's strategy schema */
    if ((rc = brs__rt_hosted_check(cfg, err)))
        return rc;
    cJSON *strats = cJSON_GetObjectItemCaseSensitive(cfg->root, "strategies");
    sc->n_strategies = cJSON_IsArray(strats) ? (uint32_t)cJSON_GetArraySize(strats) : 0;
    sc->rt.market_view = sc->n_strategies > 0; /* their view of the market, as in book mode */
    if (sc->md.stop_at_end && !sc->md.file)
        return brs__err(err, BRS_E_INVAL, "%s: market_data.stop_at_end needs market_data.file", cfg->source);
    sc->rt_cfg = cfg;
    return BRS_OK;
}

void brs__fix_server_config_free(brs__fix_server_cfg *sc)
{
    free(sc->sessions);
    free(sc->instr);
    sc->sessions = NULL;
    sc->instr = NULL;
}
