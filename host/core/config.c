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

/* One step of a --set key path: "name" or "name[2]" or "name[2][0]". */
typedef struct set_step {
    char *name;
    long idx[8];
    int n_idx;
} set_step;

static int parse_step(char *part, set_step *st)
{
    st->name = part;
    st->n_idx = 0;
    char *br = strchr(part, '[');
    if (!br)
        return *part ? BRS_OK : BRS_E_INVAL;
    *br = '\0';
    if (!*part)
        return BRS_E_INVAL;
    char *p = br + 1;
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9' || st->n_idx == (int)BRS__ARRAY_LEN(st->idx))
            return BRS_E_INVAL;
        st->idx[st->n_idx++] = strtol(p, &end, 10);
        if (*end != ']')
            return BRS_E_INVAL;
        p = end + 1;
        if (!*p)
            return BRS_OK;
        if (*p != '[')
            return BRS_E_INVAL;
        p++;
    }
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
    /* JSON only when the whole value is JSON: "16:05:30" or "10abc" stay strings
     * (a lenient parse would read them as the numbers 16 and 10) */
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithOpts(val, &end, 1);
    if (!v)
        v = cJSON_CreateString(val);
    if (!v) {
        free(key);
        return BRS_E_NOMEM;
    }
    /* Walk the path: objects along it are created when missing; arrays must
     * exist and an index must be inside them (items are replaced, never added). */
    cJSON *cur = cfg->root;
    char *save = NULL;
    char *part = strtok_r(key, ".", &save);
    int rc = part ? BRS_OK : brs__err(err, BRS_E_INVAL, "--set '%s': empty key", assignment);
    while (part && rc == BRS_OK) {
        char *next = strtok_r(NULL, ".", &save);
        set_step st;
        if (parse_step(part, &st) != BRS_OK) {
            rc = brs__err(err, BRS_E_INVAL, "--set '%s': bad key part '%s' (name or name[index])",
                          assignment, part);
            break;
        }
        if (!cJSON_IsObject(cur)) {
            rc = brs__err(err, BRS_E_INVAL, "--set '%s': '%s' is inside something that is not an object",
                          assignment, st.name);
            break;
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, st.name);
        if (st.n_idx == 0) {
            if (!next) {
                if (child)
                    cJSON_ReplaceItemInObjectCaseSensitive(cur, st.name, v);
                else
                    cJSON_AddItemToObject(cur, st.name, v);
                v = NULL;
                break;
            }
            if (!child)
                child = cJSON_AddObjectToObject(cur, st.name);
            else if (!cJSON_IsObject(child)) {
                rc = brs__err(err, BRS_E_INVAL, "--set '%s': '%s' is not an object", assignment,
                              st.name);
                break;
            }
            cur = child;
        } else {
            for (int i = 0; i < st.n_idx && rc == BRS_OK; i++) {
                if (!cJSON_IsArray(child)) {
                    rc = brs__err(err, BRS_E_INVAL, "--set '%s': '%s' is not an array", assignment,
                                  st.name);
                    break;
                }
                int n = cJSON_GetArraySize(child);
                if (st.idx[i] >= n) {
                    rc = brs__err(err, BRS_E_RANGE, "--set '%s': index %ld is past the end of '%s' (%d items)",
                                  assignment, st.idx[i], st.name, n);
                    break;
                }
                if (!next && i == st.n_idx - 1) {
                    cJSON_ReplaceItemInArray(child, (int)st.idx[i], v);
                    v = NULL;
                    break;
                }
                child = cJSON_GetArrayItem(child, (int)st.idx[i]);
            }
            cur = child;
            if (!next)
                break;
        }
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
