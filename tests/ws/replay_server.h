/* replay_server.h: start/stop tests/ws/binance_replay.py (python3-websockets)
 * on a loopback port, fetch JSON from it, and compare a book with its /final
 * one. Header-only (static functions) for the tests in tests/ws; include after
 * <cmocka.h> and <cjson/cJSON.h>. */
#ifndef BRS_TEST_REPLAY_SERVER_H
#define BRS_TEST_REPLAY_SERVER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ws/net.h"

#define PY "/usr/bin/python3"
#define SERVER BOURSE_SOURCE_DIR "/tests/ws/binance_replay.py"
#define WSREC BOURSE_SHARED_DIR "/data/binance/cryptofeed_BINANCE_FUTURES.ws.1.0"
#define HTTPREC BOURSE_SHARED_DIR "/data/binance/cryptofeed_BINANCE_FUTURES.http.0.0"

typedef struct server {
    pid_t pid;
    int port;
    char pf[128];
} server;

static inline int have_python_websockets(void)
{
    return system(PY " -c 'import websockets' >/dev/null 2>&1") == 0;
}

static inline int have_recording(void) { return access(WSREC, R_OK) == 0 && access(HTTPREC, R_OK) == 0; }

/* Start the server on the given recording (ws_file/http_file, both or neither);
 * 0 on success. */
static inline int server_start_files(server *s, const char *ws_file, const char *http_file,
                                     const char *drop_after, const char *lose, int end_idle,
                                     const char *cert, const char *key)
{
    snprintf(s->pf, sizeof s->pf, "/tmp/brs_ws_port.%d.%ld", (int)getpid(), (long)random());
    unlink(s->pf);
    s->pid = fork();
    if (s->pid == 0) {
        const char *argv[24];
        int n = 0;
        argv[n++] = PY;
        argv[n++] = SERVER;
        argv[n++] = "--port-file";
        argv[n++] = s->pf;
        argv[n++] = "--timeout";
        argv[n++] = "60";
        if (ws_file) {
            argv[n++] = "--ws";
            argv[n++] = ws_file;
            argv[n++] = "--http";
            argv[n++] = http_file;
        }
        if (end_idle)
            argv[n++] = "--end-idle";
        if (cert) {
            argv[n++] = "--tls-cert";
            argv[n++] = cert;
            argv[n++] = "--tls-key";
            argv[n++] = key;
        }
        if (drop_after) {
            argv[n++] = "--drop-after";
            argv[n++] = drop_after;
            argv[n++] = "--lose";
            argv[n++] = lose;
        }
        argv[n] = NULL;
        execv(PY, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* up to 20 s on a loaded machine */
        FILE *f = fopen(s->pf, "r");
        if (f) {
            int ok = fscanf(f, "%d", &s->port) == 1;
            fclose(f);
            unlink(s->pf);
            if (ok)
                return 0;
        }
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid)
            return -1;
        usleep(100000);
    }
    return -1;
}

/* Start the server; 0 on success. with_data: replay the shared recording. */
static inline int server_start_tls(server *s, int with_data, const char *drop_after, const char *lose,
                                   int end_idle, const char *cert, const char *key)
{
    return server_start_files(s, with_data ? WSREC : NULL, with_data ? HTTPREC : NULL, drop_after,
                              lose, end_idle, cert, key);
}

static inline int server_start_ex(server *s, int with_data, const char *drop_after, const char *lose,
                                  int end_idle)
{
    return server_start_tls(s, with_data, drop_after, lose, end_idle, NULL, NULL);
}

static inline int server_start(server *s, int with_data, const char *drop_after, const char *lose)
{
    return server_start_ex(s, with_data, drop_after, lose, 0);
}

static inline void server_stop(server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        waitpid(s->pid, &st, 0);
        s->pid = 0;
    }
}

/* Blocking GET over our own non-blocking HTTP client; returns the parsed body. */
static inline cJSON *get_json(int port, const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    brs__http_get h;
    brs_error e = {0};
    int64_t t0 = brs__monotime_ns();
    int rc = brs__http_get_start(&h, url, NULL, 0, t0 + 10 * 1000000000LL, &e);
    while (rc == BRS_OK || rc == BRS_E_AGAIN) {
        rc = brs__http_get_step(&h, brs__monotime_ns(), &e);
        if (rc == BRS_OK)
            break;
        if (rc == BRS_E_AGAIN)
            usleep(1000);
    }
    if (rc != BRS_OK)
        fail_msg("GET %s: %s", url, e.msg);
    assert_int_equal(h.status, 200);
    cJSON *j = cJSON_ParseWithLength(h.body, h.body_len);
    brs__http_get_free(&h);
    assert_non_null(j);
    return j;
}


#define SKIP_WITHOUT_SERVER(need_data)                                                      \
    do {                                                                                     \
        if ((need_data) && !have_recording()) {                                              \
            printf("SKIP: %s not found (../shared absent)\n", WSREC);                        \
            skip();                                                                          \
        }                                                                                    \
        if (!have_python_websockets()) {                                                     \
            printf("SKIP: python3-websockets not installed\n");                             \
            skip();                                                                          \
        }                                                                                    \
    } while (0)

#endif
