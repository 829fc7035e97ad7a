/* tls_config.h: the `tls` object of a listener's config, the same keys for
 * every listener (FIX: top level `tls`; WebSocket order entry: `ws.tls`):
 * `cert`, `key`, `ca`, `require_client_cert` (net/tls.h). In bourse_core (it
 * reads the config). */
#ifndef BRS_NET_TLS_CONFIG_H
#define BRS_NET_TLS_CONFIG_H

#include <cjson/cJSON.h>

#include "core/config.h"
#include "net/tls.h"

/* parent's "tls" object into *t (absent: TLS off, cert ""). `where` is how
 * errors name the object ("tls", "ws.tls"). */
int brs__tls_config_read(const brs_config *cfg, const cJSON *parent, const char *where, brs__tls_cfg *t,
                         brs_error *err);
/* Is an IPv4 listening address ("a.b.c.d") loopback (127.x.x.x)? A listener
 * elsewhere without TLS logs a warning at start (FIX: per session without a
 * password; WebSocket: always, the tokens would cross in plain text). */
int brs__tls_addr_loopback(const char *host);

#endif
