/* access.h: who may log on to `bourse serve`: passwords read from the
 * environment or a file (password_env, password_file) and compared in
 * constant time, per-session allowed_hosts (addresses or CIDR blocks), the
 * listener's `tls` settings (host/net/tls_config.h). The slowing down of
 * addresses whose Logons keep failing is host/net/authlimit.h (the WebSocket
 * gateway's logins share it). */
#ifndef BRS_FIX_ACCESS_H
#define BRS_FIX_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "net/authlimit.h"
#include "net/tls_config.h"

#define BRS__FIX_ALLOWED_MAX 32

typedef struct brs__fix_cidr {
    uint32_t net, mask; /* host byte order */
} brs__fix_cidr;

typedef struct brs__fix_access {
    brs__fix_cidr allowed[BRS__FIX_ALLOWED_MAX];
    uint32_t n_allowed; /* 0: any address */
} brs__fix_access;

/* A session's password (password, password_env or password_file: at most one)
 * into pw[cap], and its allowed_hosts. */
int brs__fix_access_read(const brs_config *cfg, const cJSON *it, const char *where, char *pw,
                         size_t cap, brs__fix_access *acc, brs_error *err);
/* May an address (host byte order) log on to this session? */
int brs__fix_access_allows(const brs__fix_access *acc, uint32_t ip);
/* Equal, in time that depends on the lengths only. */
int brs__fix_ct_equal(const char *a, size_t an, const char *b, size_t bn);

#endif
