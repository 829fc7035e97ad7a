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
        /* quote the line, a caret under the column (tabs kept so it lines up) */
        const char *ls = at;
        while (ls > text && ls[-1] != '\n')
            ls--;
        size_t ll = strcspn(ls, "\r\n");
        int shown = ll > 160 ? 160 : (int)ll;
        char caret[200];
        int cn = 0;
        for (const char *p = ls; p < at && cn < (int)sizeof caret - 2 && p < ls + shown; p++)
            caret[cn++] = *p == '\t' ? '\t' : ' ';
        caret[cn++] = '^';
        caret[cn] = '\0';
        const char *hint = !*at ? " (the text ends early: a missing '}' or ']'?)"
                         : *at == '}' || *at == ']' ? " (a trailing comma before it?)"
                         : *at == '"' && at > text ? " (a missing comma before it?)" : "";
        int rc = brs__err(err, BRS_E_PARSE, "%s:%d:%d: invalid JSON%s\n  %.*s%s\n  %s",
                          cfg->source, line, col, hint, shown, ls, ll > 160 ? "..." : "", caret);
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
    int rc = brs__read_file_max(path, BRS__CONFIG_FILE_MAX, &text, NULL, err);
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
    for (size_t i = 0; i < cfg->n_ov; i++) {
        free(cfg->ov[i].path);
        free(cfg->ov[i].origin);
    }
    free(cfg->ov);
    cfg->ov = NULL;
    cfg->n_ov = 0;
    cfg->root = NULL;
    cfg->source = NULL;
}

const char *brs__config_origin(const brs_config *cfg, const char *path)
{
    for (size_t i = cfg->n_ov; path && i-- > 0;) {
        const char *o = cfg->ov[i].path;
        size_t n = strlen(o);
        /* the override is the value or an object around it */
        if (!strncmp(o, path, n) && (path[n] == '\0' || path[n] == '.' || path[n] == '['))
            return cfg->ov[i].origin;
    }
    return cfg->source ? cfg->source : "<config>";
}

static void note_origin(brs_config *cfg, const char *path, const char *origin)
{
    struct brs__config_origin *nv = realloc(cfg->ov, (cfg->n_ov + 1) * sizeof *nv);
    if (!nv)
        return; /* messages then name the file: worse, not wrong enough to fail for */
    cfg->ov = nv;
    nv[cfg->n_ov].path = strdup(path);
    nv[cfg->n_ov].origin = strdup(origin);
    if (nv[cfg->n_ov].path && nv[cfg->n_ov].origin)
        cfg->n_ov++;
    else {
        free(nv[cfg->n_ov].path);
        free(nv[cfg->n_ov].origin);
    }
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
    return brs__config_set_from(cfg, assignment, NULL, err);
}

int brs__config_set_from(brs_config *cfg, const char *assignment, const char *origin,
                         brs_error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return brs__err(err, BRS_E_INVAL, "--set '%s': expected key=value", assignment);
    size_t klen = (size_t)(eq - assignment);
    char *key = strndup(assignment, klen);
    if (!key)
        return BRS_E_NOMEM;
    {
        char dflt[1100];
        if (!origin) {
            snprintf(dflt, sizeof dflt, "--set '%s'", assignment);
            origin = dflt;
        }
        note_origin(cfg, key, origin);
    }
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
            const char *dym = brs__closest(it->string, allowed);
            if (dym)
                return brs__err(err, BRS_E_INVAL, "%s: unknown key '%s' (did you mean '%s'?)",
                                brs__config_origin(cfg, k), k, dym);
            return brs__err(err, BRS_E_INVAL, "%s: unknown key '%s'", brs__config_origin(cfg, k), k);
        }
    }
    return BRS_OK;
}

/* What a wrongly typed value is, for messages: " (got the text \"abc\")". */
static const char *got(const cJSON *v)
{
    static _Thread_local char buf[96];
    if (cJSON_IsString(v))
        snprintf(buf, sizeof buf, " (got the text \"%.60s\")", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, sizeof buf, " (got %g)", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(buf, sizeof buf, " (got %s)", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, sizeof buf, " (got null)");
    else if (cJSON_IsArray(v))
        snprintf(buf, sizeof buf, " (got an array)");
    else if (cJSON_IsObject(v))
        snprintf(buf, sizeof buf, " (got an object)");
    else
        buf[0] = '\0';
    return buf;
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
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be an integer%s", brs__config_origin(cfg, k), k, got(v));
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
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be a number%s", brs__config_origin(cfg, k), k, got(v));
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
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be true or false%s", brs__config_origin(cfg, k), k, got(v));
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
        return brs__err(err, BRS_E_INVAL, "%s: '%s' must be a string%s", brs__config_origin(cfg, k), k, got(v));
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
