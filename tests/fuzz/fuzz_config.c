/* fuzz_config.c: libFuzzer target for the configuration files: any text
 * through the strict JSON loader (host/core/config.c), then the same object
 * through the validators of `bourse serve` (host/fix/server_cfg.c and the
 * runtime's keys it reads), of a book-mode backtest (book_mode.c's "book") and
 * of `bourse record` / `bourse live` (record/feed_config.c). No crash, and
 * every refusal names the file (the message starts with or holds its name).
 * Built with clang by `make fuzz-config`; tests/fuzz/CMakeLists.txt runs
 * tests/fuzz/corpus-config through it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/book_mode.h"
#include "core/config.h"
#include "fix/server.h"
#include "record/feed_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SOURCE "fuzz-cfg.json"

static void need(int ok, const char *what, const brs_error *e)
{
    if (!ok) {
        fprintf(stderr, "%s: '%s'\n", what, e ? e->msg : "");
        abort();
    }
}

/* A refusal names the file: the message holds its name. */
static void refused_well(int rc, const brs_error *e, const char *what)
{
    if (rc == 0)
        return;
    need(rc < 0 && e->msg[0], what, e);
    need(strstr(e->msg, SOURCE) != NULL, what, e);
}

static int load(brs_config *cfg, const char *text)
{
    brs_error e = {0};
    int rc = brs__config_parse(cfg, text, SOURCE, &e);
    refused_well(rc, &e, "config parse refusal without the file name");
    if (rc == 0)
        need(cJSON_IsObject(cfg->root), "root is not an object", NULL);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;

    brs_config cfg;
    brs_error e = {0};
    if (load(&cfg, text) == 0) {
        brs__fix_server_cfg sc;
        int rc = brs__fix_server_config(&sc, &cfg, &e);
        refused_well(rc, &e, "serve config refusal without the file name");
        brs__fix_server_config_free(&sc);
        brs__config_free(&cfg);
    }
    if (load(&cfg, text) == 0) {
        brs__book_opts bo;
        memset(&bo, 0, sizeof bo);
        e = (brs_error){0};
        int rc = brs__book_read_config(&cfg, &bo, &e);
        refused_well(rc, &e, "book config refusal without the file name");
        brs__config_free(&cfg);
    }
    for (int live = 0; live <= 1; live++) {
        if (load(&cfg, text) != 0)
            break;
        brs__feed_cfg fc;
        memset(&fc, 0, sizeof fc);
        e = (brs_error){0};
        int rc = brs__feed_cfg_parse(&fc, &cfg, live, &e);
        refused_well(rc, &e, "record/live config refusal without the file name");
        brs__feed_cfg_free(&fc); /* also what a refusal part way left */
        brs__config_free(&cfg);
    }
    free(text);
    return 0;
}
