/* tls_config.c: a listener's `tls` object (tls_config.h), one reader for the
 * FIX gateway and WebSocket order entry. */
#include "net/tls_config.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"

int brs__tls_config_read(const brs_config *cfg, const cJSON *parent, const char *where, brs__tls_cfg *t,
                         brs_error *err)
{
    static const char *const keys[] = {"cert", "key", "ca", "require_client_cert", NULL};
    memset(t, 0, sizeof *t);
    const cJSON *tls = parent ? cJSON_GetObjectItemCaseSensitive(parent, "tls") : NULL;
    if (!tls)
        return BRS_OK;
    if (!cJSON_IsObject(tls))
        return brs__err(err, BRS_E_INVAL, "%s: %s: expected an object {\"cert\", \"key\"}", cfg->source, where);
    int rc = brs__config_check_keys(cfg, tls, where, keys, err);
    if (rc)
        return rc;
    const char *s;
    if ((rc = brs__config_string(cfg, tls, where, "cert", "", &s, err)))
        return rc;
    snprintf(t->cert, sizeof t->cert, "%s", s);
    if ((rc = brs__config_string(cfg, tls, where, "key", "", &s, err)))
        return rc;
    snprintf(t->key, sizeof t->key, "%s", s);
    if ((rc = brs__config_string(cfg, tls, where, "ca", "", &s, err)))
        return rc;
    snprintf(t->ca, sizeof t->ca, "%s", s);
    if ((rc = brs__config_bool(cfg, tls, where, "require_client_cert", 0, &t->require_client_cert, err)))
        return rc;
    if (!t->cert[0] || !t->key[0])
        return brs__err(err, BRS_E_INVAL, "%s: %s: cert and key are required", cfg->source, where);
    if (t->require_client_cert && !t->ca[0])
        return brs__err(err, BRS_E_INVAL, "%s: %s.require_client_cert needs %s.ca", cfg->source, where,
                        where);
    return BRS_OK;
}

int brs__tls_addr_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0;
}
