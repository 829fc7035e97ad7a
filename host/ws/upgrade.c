/* upgrade.c: the RFC 6455 opening handshake's checks on both ends
 * (upgrade.h): what a server requires of an Upgrade request (4.2.1) and what
 * a client requires of the 101 answer (4.1), over http_head.c. */
#include "ws/upgrade.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ws/frame.h"
#include "ws/http_head.h"

void brs__ws_accept_key(const char *key, char out[32])
{
    char cat[128];
    unsigned char sha[SHA_DIGEST_LENGTH];
    snprintf(cat, sizeof cat, "%s%s", key, BRS__WS_GUID);
    SHA1((const unsigned char *)cat, strlen(cat), sha);
    EVP_EncodeBlock((unsigned char *)out, sha, SHA_DIGEST_LENGTH);
}

static int b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int refuse(brs__ws_upgrade *u, const char *status, const char *extra, const char *why)
{
    u->status = status;
    u->extra = extra;
    u->why = why;
    return -1;
}

int brs__ws_upgrade_request(const char *buf, size_t len, size_t max_head, brs__ws_upgrade *u)
{
    brs__http_head h;
    u->head_len = 0;
    u->path[0] = u->accept[0] = 0;
    u->status = u->extra = u->why = "";
    int st = brs__http_head_request(buf, len, max_head, BRS__WS_PATH_MAX, &h);
    switch (st) {
    case 0: return 0;
    case 1: break;
    case 414: return refuse(u, "414 URI Too Long", "", "request target too long");
    case 431: return refuse(u, "431 Request Header Fields Too Large", "", "upgrade request too long (ws.max_handshake_bytes)");
    case 505: return refuse(u, "505 HTTP Version Not Supported", "", "not HTTP/1.1");
    default: return refuse(u, "400 Bad Request", "", "malformed HTTP request");
    }
    if (h.method_len != 3 || memcmp(buf + h.method, "GET", 3) != 0)
        return refuse(u, "405 Method Not Allowed", "Allow: GET\r\n", "a WebSocket upgrade is a GET");
    if (h.minor < 1)
        return refuse(u, "400 Bad Request", "", "a WebSocket upgrade needs HTTP/1.1");
    if (brs__http_head_field(&h, buf, "Host", NULL, NULL) != 1)
        return refuse(u, "400 Bad Request", "", "exactly one Host header is required");
    if (!brs__http_head_has_token(&h, buf, "Upgrade", "websocket") ||
        !brs__http_head_has_token(&h, buf, "Connection", "upgrade"))
        return refuse(u, "426 Upgrade Required", "Upgrade: websocket\r\nConnection: Upgrade\r\n",
                      "a WebSocket upgrade is required");
    const char *v;
    size_t vl;
    if (brs__http_head_field(&h, buf, "Sec-WebSocket-Version", &v, &vl) != 1 || vl != 2 || memcmp(v, "13", 2) != 0)
        return refuse(u, "426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version must be 13");
    /* the key: base64 of 16 bytes, 22 characters and "==" */
    int ok = brs__http_head_field(&h, buf, "Sec-WebSocket-Key", &v, &vl) == 1 && vl == 24 && v[22] == '=' &&
             v[23] == '=';
    for (size_t i = 0; ok && i < 22; i++)
        ok = b64(v[i]);
    if (!ok)
        return refuse(u, "400 Bad Request", "", "missing or malformed Sec-WebSocket-Key");
    char key[25];
    memcpy(key, v, 24);
    key[24] = 0;
    brs__ws_accept_key(key, u->accept);
    memcpy(u->path, buf + h.target, h.target_len);
    u->path[h.target_len] = 0;
    u->head_len = h.len;
    return 1;
}

int brs__ws_upgrade_response(const char *buf, size_t len, size_t max_head, const char *key, size_t *head_len,
                             int *status, const char **why)
{
    brs__http_head h;
    *head_len = 0;
    *status = 0;
    int st = brs__http_head_response(buf, len, max_head, &h);
    if (st == 0)
        return 0;
    if (st < 0) {
        *why = len >= max_head ? "upgrade response too long" : "malformed HTTP response";
        return -1;
    }
    *status = h.status;
    if (h.status != 101) {
        *why = "upgrade refused";
        return -1;
    }
    char want[32];
    brs__ws_accept_key(key, want);
    const char *v;
    size_t vl;
    if (!brs__http_head_has_token(&h, buf, "Upgrade", "websocket") ||
        !brs__http_head_has_token(&h, buf, "Connection", "upgrade") ||
        brs__http_head_field(&h, buf, "Sec-WebSocket-Accept", &v, &vl) != 1 || vl != strlen(want) ||
        memcmp(v, want, vl) != 0) {
        *why = "upgrade response lacks the right Upgrade/Connection/Accept headers";
        return -1;
    }
    if (brs__http_head_field(&h, buf, "Sec-WebSocket-Extensions", NULL, NULL) ||
        brs__http_head_field(&h, buf, "Sec-WebSocket-Protocol", NULL, NULL)) { /* RFC 6455 4.1: we asked for none */
        *why = "upgrade response names an extension or subprotocol that was not asked for";
        return -1;
    }
    *head_len = h.len;
    return 1;
}
