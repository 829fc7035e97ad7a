/* session_cfg.c: the session options of `bourse serve` (reset_on_*,
 * max_latency_s, validate*, min_heartbeat_s, max_msg_fields, max_field_bytes):
 * their defaults and how they are read, per session over the top level's
 * values. Kept apart from server.c so the session layer owns its keys. */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/core.h"
#include "fix/session.h"

void brs__fix_session_opts_default(brs__fix_session_opts *o)
{
    *o = (brs__fix_session_opts){0};
    o->max_latency_s = 120;
    o->validate = 1;
    o->valid.fields_out_of_order = 1;
    o->valid.fields_have_values = 1;
    o->valid.user_defined_fields = 1;
    o->valid.allow_unknown_msg_fields = 0;
    o->min_heartbeat_s = 1;
    o->max_msg_fields = 2048;
    o->max_field_bytes = 1024;
}

int brs__fix_session_opts_read(const brs_config *cfg, const cJSON *obj, const char *where,
                               brs__fix_session_opts *o, brs_error *err)
{
    int rc;
    int64_t v;
    struct {
        const char *key;
        int *out;
    } bools[] = {
        {"reset_on_logon", &o->reset_on_logon},
        {"reset_on_logout", &o->reset_on_logout},
        {"reset_on_disconnect", &o->reset_on_disconnect},
        {"validate", &o->validate},
        {"validate_fields_out_of_order", &o->valid.fields_out_of_order},
        {"validate_fields_have_values", &o->valid.fields_have_values},
        {"validate_user_defined_fields", &o->valid.user_defined_fields},
        {"allow_unknown_msg_fields", &o->valid.allow_unknown_msg_fields},
    };
    for (size_t k = 0; k < sizeof bools / sizeof bools[0]; k++)
        if ((rc = brs__config_bool(cfg, obj, where, bools[k].key, *bools[k].out, bools[k].out, err)))
            return rc;
    const char *w = where && *where ? where : "";
    const char *dot = *w ? "." : "";
    if ((rc = brs__config_int(cfg, obj, where, "max_latency_s", o->max_latency_s, &v, err)))
        return rc;
    if (v < 0 || v > 86400 * 365)
        return brs__err(err, BRS_E_RANGE, "%s: %s%smax_latency_s must be 0 (off) .. 31536000",
                        cfg->source, w, dot);
    o->max_latency_s = v;
    if ((rc = brs__config_int(cfg, obj, where, "min_heartbeat_s", o->min_heartbeat_s, &v, err)))
        return rc;
    if (v < 0 || v > 3600)
        return brs__err(err, BRS_E_RANGE, "%s: %s%smin_heartbeat_s must be 0..3600", cfg->source,
                        w, dot);
    o->min_heartbeat_s = v;
    if ((rc = brs__config_int(cfg, obj, where, "max_msg_fields", o->max_msg_fields, &v, err)))
        return rc;
    if (v < 64 || v > 65535)
        return brs__err(err, BRS_E_RANGE, "%s: %s%smax_msg_fields must be 64..65535", cfg->source,
                        w, dot);
    o->max_msg_fields = (uint32_t)v;
    /* at most 2048: an answer echoes at most six inbound values (a Reject's
     * reverse routing, an ExecutionReport's ClOrdID, Symbol, ...), so every
     * answer fits the BRS__FIX_OUT_MAX buffer whatever the peer sends */
    if ((rc = brs__config_int(cfg, obj, where, "max_field_bytes", o->max_field_bytes, &v, err)))
        return rc;
    if (v < 32 || v > 2048)
        return brs__err(err, BRS_E_RANGE, "%s: %s%smax_field_bytes must be 32..2048", cfg->source,
                        w, dot);
    o->max_field_bytes = (uint32_t)v;
    return BRS_OK;
}
