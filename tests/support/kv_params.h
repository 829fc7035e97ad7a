/* kv_params.h: a NULL-terminated list of named parameters, answered the way
 * the host's xParamInt/xParamDouble/xParamString answer a plugin (NOTFOUND when
 * unset, INVAL on a type mismatch). Test host tables for venue plugins share it. */
#ifndef BRS_TEST_KV_PARAMS_H
#define BRS_TEST_KV_PARAMS_H

#include <stdint.h>
#include <string.h>

#include <bourse/errors.h>

/* is_double: 0 an integer (i), 1 a double (d), KV_STRING a string written
 * into the name after '=': {"queue_model=prob", KV_STRING, 0, 0}. */
#define KV_STRING 2
typedef struct kv {
    const char *name;
    int is_double;
    int64_t i;
    double d;
} kv;

static inline const kv *kv_find(const kv *params, const char *name)
{
    size_t n = strlen(name);
    for (const kv *p = params; p && p->name; p++)
        if (strncmp(p->name, name, n) == 0 &&
            (p->is_double == KV_STRING ? p->name[n] == '=' : p->name[n] == 0))
            return p;
    return NULL;
}

static inline int kv_int(const kv *params, const char *name, int64_t *out)
{
    const kv *p = kv_find(params, name);
    if (!p)
        return BRS_E_NOTFOUND;
    if (p->is_double)
        return BRS_E_INVAL;
    *out = p->i;
    return BRS_OK;
}

static inline int kv_double(const kv *params, const char *name, double *out)
{
    const kv *p = kv_find(params, name);
    if (!p)
        return BRS_E_NOTFOUND;
    if (p->is_double == KV_STRING)
        return BRS_E_INVAL;
    *out = p->is_double ? p->d : (double)p->i;
    return BRS_OK;
}

static inline int kv_string(const kv *params, const char *name, const char **out)
{
    const kv *p = kv_find(params, name);
    if (!p)
        return BRS_E_NOTFOUND;
    if (p->is_double != KV_STRING)
        return BRS_E_INVAL;
    *out = p->name + strlen(name) + 1;
    return BRS_OK;
}

#endif
