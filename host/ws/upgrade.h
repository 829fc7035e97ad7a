/* upgrade.h: the RFC 6455 opening handshake checked on both ends, as pure
 * functions over the bytes received so far (no I/O): the server's reading of
 * a client's HTTP Upgrade request (ws_server.c) and the client's reading of
 * the server's 101 answer (ws.c), both over the shared HTTP head parser
 * (http_head.h). Fuzzed by tests/fuzz/fuzz_ws.c. Part of bourse_feeds. */
#ifndef BRS_WS_UPGRADE_H
#define BRS_WS_UPGRADE_H

#include <stddef.h>

#define BRS__WS_PATH_MAX 2048

/* base64(SHA1(key + GUID)) into out (29 bytes with the NUL). */
void brs__ws_accept_key(const char *key, char out[32]);

/* What the server read from an upgrade request. */
typedef struct brs__ws_upgrade {
    size_t head_len;                 /* the request's bytes: frames may follow right behind */
    char path[BRS__WS_PATH_MAX + 1]; /* the target, query included */
    char accept[32];                 /* the Sec-WebSocket-Accept to answer with */
    /* a refusal: the status line's code and text, header lines to add, why */
    const char *status, *extra, *why;
} brs__ws_upgrade;

/* The upgrade request at the start of buf[0..len). Returns 0 when it is not
 * complete yet, 1 when it is a valid upgrade (u->path, u->accept, u->head_len),
 * -1 when refused (u->status, u->extra, u->why; static strings):
 *   400 a malformed head (http_head.h), HTTP/1.0, no Host or two, a missing,
 *       repeated or malformed Sec-WebSocket-Key (base64 of 16 bytes)
 *   405 a method other than GET (with Allow: GET)
 *   414 a target over BRS__WS_PATH_MAX bytes
 *   426 no "websocket" in Upgrade or no "Upgrade" in Connection (token lists),
 *       or a Sec-WebSocket-Version other than 13 (with the headers to send)
 *   431 a head over max_head bytes or over 64 fields
 *   505 not HTTP/1.x */
int brs__ws_upgrade_request(const char *buf, size_t len, size_t max_head, brs__ws_upgrade *u);

/* The server's answer to our upgrade with key, at the start of buf[0..len).
 * Returns 0 (not complete), 1 (101 with Upgrade: websocket, Connection:
 * Upgrade and the exact Sec-WebSocket-Accept for key; *head_len: its bytes,
 * frames may follow), or -1 with *why: malformed or too long (max_head), a
 * status other than 101 (*status says which, 0 when there is no status
 * line), or the headers wrong. */
int brs__ws_upgrade_response(const char *buf, size_t len, size_t max_head, const char *key, size_t *head_len,
                             int *status, const char **why);

#endif
