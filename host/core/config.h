/* config.h: JSON run configuration (cJSON) with `--set key=value` overrides and
 * strict checking: unknown keys and wrong types are errors naming the file and
 * the key path, never silently ignored. */
#ifndef BRS_CONFIG_H
#define BRS_CONFIG_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include <bourse/errors.h>

typedef struct brs_config {
    cJSON *root;   /* always an object once loaded */
    char *source;  /* the file name, for messages */
    /* Where values that did not come from the file came from (--set, --param,
     * the environment): key path and origin text, in the order applied. */
    struct brs__config_origin {
        char *path, *origin;
    } *ov;
    size_t n_ov;
} brs_config;

/* Load a JSON object from a file; a syntax error names file, line and column
 * and quotes the line with a caret under the column. */
int brs__config_load(brs_config *cfg, const char *path, brs_error *err);
int brs__config_parse(brs_config *cfg, const char *text, const char *source, brs_error *err);
/* An empty configuration (for commands run without a config file). */
int brs__config_empty(brs_config *cfg, const char *source);
void brs__config_free(brs_config *cfg);

/* Apply "a.b.c=value". The value is taken as JSON when it parses as JSON
 * (numbers, true/false, null, arrays, objects, quoted strings), else as a string.
 * Intermediate objects are created. */
int brs__config_set(brs_config *cfg, const char *assignment, brs_error *err);
/* The same, with where the assignment came from for messages ("--param fast=x",
 * "environment BOURSE_X"); NULL: "--set 'assignment'". */
int brs__config_set_from(brs_config *cfg, const char *assignment, const char *origin,
                         brs_error *err);
/* Where the value at a key path ("signal.sizing.fraction", "book.venues[1].params")
 * came from: the last override of it or of an object containing it, else the
 * file name. For messages: "--set 'initial_cash=abc': 'initial_cash' must be a number". */
const char *brs__config_origin(const brs_config *cfg, const char *path);

/* Every key of obj must be one of `allowed` (NULL-terminated). `where` is the
 * key path of obj for messages ("" for the root, "venues[1]" ...). */
int brs__config_check_keys(const brs_config *cfg, const cJSON *obj, const char *where,
                           const char *const *allowed, brs_error *err);

/* Typed getters. A missing key yields def and BRS_OK; a present key of the wrong
 * type or out of range is an error naming file and key path. */
int brs__config_int(const brs_config *cfg, const cJSON *obj, const char *where, const char *key,
                    int64_t def, int64_t *out, brs_error *err);
int brs__config_double(const brs_config *cfg, const cJSON *obj, const char *where,
                       const char *key, double def, double *out, brs_error *err);
int brs__config_bool(const brs_config *cfg, const cJSON *obj, const char *where, const char *key,
                     int def, int *out, brs_error *err);
/* The returned string lives as long as cfg. */
int brs__config_string(const brs_config *cfg, const cJSON *obj, const char *where,
                       const char *key, const char *def, const char **out, brs_error *err);

/* Write the effective configuration as pretty JSON (atomically). */
int brs__config_write(const brs_config *cfg, const char *path, brs_error *err);

#endif
