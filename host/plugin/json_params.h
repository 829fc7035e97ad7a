/* json_params.h: a plugin's parameters from a JSON object of a run's config
 * (book.venues[].params, a live run's paper.params), as the host services
 * xParamInt / xParamDouble / xParamString answer them. */
#ifndef BRS_PLUGIN_JSON_PARAMS_H
#define BRS_PLUGIN_JSON_PARAMS_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* BRS_OK, BRS_E_NOTFOUND (absent or no params) or BRS_E_INVAL (wrong type;
 * an int must be a whole number within +-9e15; true/false read as 1/0). */
int brs__jparam_int(const cJSON *params, const char *name, int64_t *out);
/* Any JSON number. */
int brs__jparam_double(const cJSON *params, const char *name, double *out);
/* A JSON string; *out points into params. */
int brs__jparam_string(const cJSON *params, const char *name, const char **out);

#endif
