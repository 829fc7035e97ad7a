/* access.c: passwords from the environment or a file, allowed_hosts, and the
 * per-address slowing down of failed Logons (access.h). The `tls` keys are
 * read by host/net/tls_config.c. */
#include "fix/access.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int brs__fix_ct_equal(const char *a, size_t an, const char *b, size_t bn)
{
    /* every byte of the longer is looked at, whatever differs first */
    size_t n = an > bn ? an : bn;
    unsigned char d = (unsigned char)(an != bn);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < an ? (unsigned char)a[i] : 0;
        unsigned char y = i < bn ? (unsigned char)b[i] : 0;
        d |= (unsigned char)(x ^ y);
    }
    return d == 0;
}

static int parse_cidr(const char *s, brs__fix_cidr *out)
{
    char ip[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof ip)
        return -1;
    memcpy(ip, s, n);
    ip[n] = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) != 1)
        return -1;
    long bits = 32;
    if (slash) {
        char *end;
        bits = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || bits < 0 || bits > 32)
            return -1;
    }
    out->mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    out->net = ntohl(a.s_addr) & out->mask;
    return 0;
}

int brs__fix_access_allows(const brs__fix_access *acc, uint32_t ip)
{
    if (!acc->n_allowed)
        return 1;
    for (uint32_t i = 0; i < acc->n_allowed; i++)
        if ((ip & acc->allowed[i].mask) == acc->allowed[i].net)
            return 1;
    return 0;
}

int brs__fix_access_read(const brs_config *cfg, const cJSON *it, const char *where, char *pw,
                         size_t cap, brs__fix_access *acc, brs_error *err)
{
    const char *str;
    int rc;
    memset(acc, 0, sizeof *acc);
    const char *text = NULL, *env = NULL, *file = NULL;
    if ((rc = brs__config_string(cfg, it, where, "password", "", &text, err)) ||
        (rc = brs__config_string(cfg, it, where, "password_env", "", &env, err)) ||
        (rc = brs__config_string(cfg, it, where, "password_file", "", &file, err)))
        return rc;
    if ((*text != 0) + (*env != 0) + (*file != 0) > 1)
        return brs__err(err, BRS_E_INVAL, "%s: %s: give one of password, password_env, password_file",
                        cfg->source, where);
    pw[0] = 0;
    if (*text) {
        str = text;
    } else if (*env) {
        str = getenv(env);
        if (!str || !*str)
            return brs__err(err, BRS_E_INVAL, "%s: %s.password_env: %s is not set", cfg->source,
                            where, env);
    } else if (*file) {
        char *data = NULL;
        size_t len = 0;
        if ((rc = brs__read_file_max(file, BRS__SECRET_FILE_MAX, &data, &len, err)) != BRS_OK) {
            brs__err_prefix(err, "%s: %s.password_file", cfg->source, where);
            return rc;
        }
        while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
            len--; /* the file's last line end is not part of the password */
        if (len == 0 || len >= cap || memchr(data, 0, len)) {
            free(data);
            return brs__err(err, BRS_E_INVAL, "%s: %s.password_file: %s must hold 1..%zu bytes",
                            cfg->source, where, file, cap - 1);
        }
        memcpy(pw, data, len);
        pw[len] = 0;
        memset(data, 0, len);
        free(data);
        str = NULL;
    } else {
        str = "";
    }
    if (str) {
        if (strlen(str) >= cap)
            return brs__err(err, BRS_E_INVAL, "%s: %s: password longer than %zu bytes", cfg->source,
                            where, cap - 1);
        snprintf(pw, cap, "%s", str);
    }
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(it, "allowed_hosts");
    if (hosts) {
        if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) > BRS__FIX_ALLOWED_MAX)
            return brs__err(err, BRS_E_INVAL,
                            "%s: %s.allowed_hosts must be an array of at most %d addresses",
                            cfg->source, where, BRS__FIX_ALLOWED_MAX);
        for (const cJSON *h = hosts->child; h; h = h->next) {
            if (!cJSON_IsString(h) || parse_cidr(h->valuestring, &acc->allowed[acc->n_allowed]))
                return brs__err(err, BRS_E_INVAL,
                                "%s: %s.allowed_hosts: '%s' is not an IPv4 address or a.b.c.d/n",
                                cfg->source, where, cJSON_IsString(h) ? h->valuestring : "?");
            acc->n_allowed++;
        }
    }
    return BRS_OK;
}
