/* config.c: loading, overriding and strictly reading JSON configuration. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static void where_key(char *buf, size_t n, const char *where, const char *key)
{
    if (where && *where)
        snprintf(buf, n, "%s.%s", where, key);
    else
        snprintf(buf, n, "%s", key);
}

int brs__config_parse(brs_config *cfg, const char *text, const char *source, brs_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->source = strdup(source ? source : "<config>");
    if (!cfg->source)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    const char *end = NULL;
    cfg->root = cJSON_ParseWithOpts(text, &end, 1);
    if (!cfg->root) {
        const char *at = end ? end : text;
        int line = 1, col = 1;
        for (const char *p = text; p < at && *p; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        int rc = brs__err(err, BRS_E_PARSE, "%s:%d:%d: invalid JSON", cfg->source, line, col);
        brs__config_free(cfg);
        return rc;
    }
    if (!cJSON_IsObject(cfg->root)) {
        int rc = brs__err(err, BRS_E_PARSE, "%s: the configuration must be a JSON object",
                          cfg->source);
        brs__config_free(cfg);
        return rc;
    }
    return BRS_OK;
}

int brs__config_load(brs_config *cfg, const char *path, brs_error *err)
{
    char *text;
    memset(cfg, 0, sizeof *cfg);
    int rc = brs__read_file(path, &text, NULL, err);
    if (rc)
        return rc;
    rc = brs__config_parse(cfg, text, path, err);
    free(text);
    return rc;
}

int brs__config_empty(brs_config *cfg, const char *source)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->root = cJSON_CreateObject();
    cfg->source = strdup(source ? source : "<command line>");
    if (!cfg->root || !cfg->source) {
        brs__config_free(cfg);
        return BRS_E_NOMEM;
    }
    return BRS_OK;
}

void brs__config_free(brs_config *cfg)
{
    if (cfg->root)
        cJSON_Delete(cfg->root);
    free(cfg->source);
    cfg->root = NULL;
    cfg->source = NULL;
}

int brs__config_set(brs_config *cfg, const char *assignment, brs_error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return brs__err(err, BRS_E_INVAL, "--set '%s': expected key=value", assignment);
    size_t klen = (size_t)(eq - assignment);
    char *key = strndup(assignment, klen);
    if (!key)
        return BRS_E_NOMEM;
    const char *val = eq + 1;
    cJSON *v = cJSON_Parse(val);
    if (!v)
        v = cJSON_CreateString(val);
    if (!v) {
        free(key);
        return BRS_E_NOMEM;
    }
    cJSON *obj = cfg->root;
    char *save = NULL;
    char *part = strtok_r(key, ".", &save);
    int rc = BRS_OK;
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            if (cJSON_GetObjectItemCaseSensitive(obj, part))
                cJSON_ReplaceItemInObjectCaseSensitive(obj, part, v);
            else
                cJSON_AddItemToObject(obj, part, v);
            v = NULL;
            break;
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(obj, part);
        if (!child) {
            child = cJSON_AddObjectToObject(obj, part);
        } else if (!cJSON_IsObject(child)) {
            rc = brs__err(err, BRS_E_INVAL, "--set '%s': '%s' is not an object", assignment, part);
            break;
        }
        obj = child;
        part = next;
    }
    if (v)
        cJSON_Delete(v);
    free(key);
    return rc;
}

int brs__config_check_keys(const brs_config *cfg, const cJSON *obj, const char *where,
                           const char *const *allowed, brs_error *err)
{
    if (!obj)
        return BRS_OK;
    if (!cJSON_IsObject(obj))
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be an object", cfg->source,
                        where && *where ? where : "(root)");
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, it->string) == 0) {
                ok = 1;
                break;
            }
        if (!ok) {
            char k[256];
            where_key(k, sizeof k, where, it->string);
            return brs__err(err, BRS_E_INVAL, "%s: unknown key '%s'", cfg->source, k);
        }
    }
    return BRS_OK;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

int brs__config_int(const brs_config *cfg, const cJSON *obj, const char *where, const char *key,
                    int64_t def, int64_t *out, brs_error *err)
{
    const cJSON *v = get(obj, key);
    if (!v) {
        *out = def;
        return BRS_OK;
    }
    char k[256];
    where_key(k, sizeof k, where, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        fabs(v->valuedouble) > 9.007199254740992e15)
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be an integer", cfg->source, k);
    *out = (int64_t)v->valuedouble;
    return BRS_OK;
}

int brs__config_double(const brs_config *cfg, const cJSON *obj, const char *where,
                       const char *key, double def, double *out, brs_error *err)
{
    const cJSON *v = get(obj, key);
    if (!v) {
        *out = def;
        return BRS_OK;
    }
    char k[256];
    where_key(k, sizeof k, where, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be a number", cfg->source, k);
    *out = v->valuedouble;
    return BRS_OK;
}

int brs__config_bool(const brs_config *cfg, const cJSON *obj, const char *where, const char *key,
                     int def, int *out, brs_error *err)
{
    const cJSON *v = get(obj, key);
    if (!v) {
        *out = def;
        return BRS_OK;
    }
    char k[256];
    where_key(k, sizeof k, where, key);
    if (!cJSON_IsBool(v))
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be true or false", cfg->source, k);
    *out = cJSON_IsTrue(v);
    return BRS_OK;
}

int brs__config_string(const brs_config *cfg, const cJSON *obj, const char *where,
                       const char *key, const char *def, const char **out, brs_error *err)
{
    const cJSON *v = get(obj, key);
    if (!v) {
        *out = def;
        return BRS_OK;
    }
    char k[256];
    where_key(k, sizeof k, where, key);
    if (!cJSON_IsString(v))
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be a string", cfg->source, k);
    *out = v->valuestring;
    return BRS_OK;
}

int brs__config_write(const brs_config *cfg, const char *path, brs_error *err)
{
    char *text = cJSON_Print(cfg->root);
    if (!text)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    size_t n = strlen(text);
    text[n] = '\0';
    char *buf = malloc(n + 2);
    if (!buf) {
        cJSON_free(text);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    memcpy(buf, text, n);
    buf[n] = '\n';
    cJSON_free(text);
    int rc = brs__atomic_write(path, buf, n + 1, err);
    free(buf);
    return rc;
}
