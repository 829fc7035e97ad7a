/* serve.c: `bourse serve CONFIG.json`: run the FIX 4.4 acceptor until SIGINT
 * or SIGTERM. --port-file lets scripts and tests bind port 0 and learn the port. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <bourse/version.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "fix/server.h"

static volatile sig_atomic_t g_stop;

static volatile sig_atomic_t g_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_hup = 1;
    else
        g_stop = sig; /* non-zero: stop; which one goes in the last log line */
}

/* The first 16 hex digits of the SHA-256 of the effective configuration (after
 * --set): two starts with the same digest ran the same configuration. */
static void config_digest(const brs_config *cfg, char out[17])
{
    snprintf(out, 17, "unknown");
    char *text = cJSON_PrintUnformatted(cfg->root);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (text && EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL) && n >= 8)
        for (int i = 0; i < 8; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    free(text);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse serve CONFIG.json [--set KEY=VALUE]... [--port-file PATH]\n\n"
            "Run the FIX 4.4 gateway (acceptor) described by CONFIG.json until SIGINT/SIGTERM.\n"
            "BOURSE_FIX_PORT overrides listen.port. See docs/fix-gateway.md.\n\n"
            "  --set KEY=VALUE   override a configuration value (e.g. listen.port=0)\n"
            "  --port-file PATH  write the bound port number to PATH once listening\n");
}

int brs__cmd_serve(int argc, char **argv)
{
    const char *path = NULL, *port_file = NULL;
    const char *sets[64];
    int nsets = 0;
    for (int i = 1; i < argc; i++) {
        if (brs__is_help(argv[i])) {
            usage(stdout);
            return BRS_EXIT_OK;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && nsets < 64) {
            sets[nsets++] = argv[++i];
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (argv[i][0] == '-') {
            return brs__usage_error("serve", "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return brs__usage_error("serve", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!path)
        return brs__usage_error("serve", "missing CONFIG.json");
    brs_config cfg;
    brs_error err = {0};
    if (brs__config_load(&cfg, path, &err) != BRS_OK)
        return brs__fail("serve", "%s", err.msg);
    for (int i = 0; i < nsets; i++)
        if (brs__config_set(&cfg, sets[i], &err) != BRS_OK) {
            brs__config_free(&cfg);
            return brs__usage_error("serve", "%s", err.msg);
        }
    char digest[17];
    config_digest(&cfg, digest);
    BRS_LOG(BRS_LOG_INFO, "fix", "starting bourse serve", BRS_KV_S("version", BRS_VERSION_STRING),
            BRS_KV_S("config", path), BRS_KV_S("config_sha256", digest), BRS_KV_I("overrides", nsets));
    brs__fix_server_cfg sc;
    int rc = brs__fix_server_config(&sc, &cfg, &err);
    if (rc != BRS_OK) {
        brs__fix_server_config_free(&sc);
        brs__config_free(&cfg);
        return brs__fail("serve", "%s", err.msg);
    }
    brs__fix_server *srv = NULL;
    int port = 0;
    rc = brs__fix_server_open(&srv, &sc, &port, &err);
    if (rc != BRS_OK) {
        brs__fix_server_close(srv);
        brs__fix_server_config_free(&sc);
        brs__config_free(&cfg);
        return brs__fail("serve", "%s", err.msg);
    }
    if (port_file) {
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d\n", port);
        if (brs__atomic_write(port_file, buf, (size_t)n, &err) != BRS_OK)
            fprintf(stderr, "bourse serve: %s\n", err.msg);
    }
    BRS_LOG(BRS_LOG_INFO, "fix", "FIX 4.4 acceptor listening", BRS_KV_S("sender", sc.sender),
            BRS_KV_S("host", sc.host), BRS_KV_I("port", port),
            BRS_KV_S("fsync", sc.fsync_policy == BRS__FIX_FSYNC_BATCH ? "batch" : "never"),
            BRS_KV_S("state_dir", sc.state_dir));
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    brs__fix_server_set_hup(srv, &g_hup);
    signal(SIGPIPE, SIG_IGN);
    rc = brs__fix_server_run(srv, &g_stop);
    BRS_LOG(BRS_LOG_INFO, "fix", rc == BRS_OK ? "stopped" : "stopped: state not durable",
            BRS_KV_S("signal", g_stop == SIGINT ? "SIGINT" : g_stop == SIGTERM ? "SIGTERM" : "none"),
            BRS_KV_I("exit", rc == BRS_OK ? 0 : 1));
    brs__fix_server_close(srv);
    brs__fix_server_config_free(&sc);
    brs__config_free(&cfg);
    return rc == BRS_OK ? BRS_EXIT_OK : BRS_EXIT_FAIL;
}
