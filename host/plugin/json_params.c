/* json_params.c: see json_params.h. */
#include "plugin/json_params.h"

#include <math.h>

#include <bourse/errors.h>

static const cJSON *get(const cJSON *params, const char *name)
{
    return params && name ? cJSON_GetObjectItemCaseSensitive(params, name) : NULL;
}

int brs__jparam_int(const cJSON *params, const char *name, int64_t *out)
{
    const cJSON *j = get(params, name);
    if (!j)
        return BRS_E_NOTFOUND;
    if (cJSON_IsBool(j)) {
        *out = cJSON_IsTrue(j);
        return BRS_OK;
    }
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || fabs(j->valuedouble) > 9e15)
        return BRS_E_INVAL;
    *out = (int64_t)j->valuedouble;
    return BRS_OK;
}

int brs__jparam_double(const cJSON *params, const char *name, double *out)
{
    const cJSON *j = get(params, name);
    if (!j)
        return BRS_E_NOTFOUND;
    if (!cJSON_IsNumber(j))
        return BRS_E_INVAL;
    *out = j->valuedouble;
    return BRS_OK;
}

int brs__jparam_string(const cJSON *params, const char *name, const char **out)
{
    const cJSON *j = get(params, name);
    if (!j)
        return BRS_E_NOTFOUND;
    if (!cJSON_IsString(j))
        return BRS_E_INVAL;
    *out = j->valuestring;
    return BRS_OK;
}
