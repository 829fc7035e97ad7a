/* frame.h: the RFC 6455 pieces both ends of a WebSocket share: the frame-header
 * guard run over every received byte before wslay sees it (so each violation
 * gets its close code, whatever wslay's version does), the
 * Sec-WebSocket-Accept value, and header lookups in an HTTP head. Used by the
 * client (ws.c) and the server side (ws_server.c). Part of bourse_feeds. */
#ifndef BRS_WS_FRAME_H
#define BRS_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BRS__WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct brs__ws_fguard {
    uint8_t fh[14];
    uint8_t have, need;
    uint64_t left;      /* payload bytes of the current frame still to pass */
    uint64_t max_frame; /* a larger frame: 1009 */
    uint8_t peer_masks; /* 1: the peer is a client (frames must be masked); 0: a server (must not be) */
} brs__ws_fguard;

void brs__ws_fguard_reset(brs__ws_fguard *g, uint64_t max_frame, int peer_masks);
/* Check the frame headers in the next n received bytes. Returns 0, or the
 * close code (1002 protocol error, 1009 too big) with *why set: RSV bits
 * without an extension, wrong masking for the peer's role, a reserved opcode,
 * a fragmented or > 125-byte control frame, a close frame with a 1-byte body,
 * a frame over max_frame. */
int brs__ws_fguard_check(brs__ws_fguard *g, const uint8_t *p, size_t n, const char **why);

/* base64(SHA1(key + GUID)) into out (29 bytes with the NUL). */
void brs__ws_accept_key(const char *key, char out[32]);
/* Does header `name` (case-insensitive) in an HTTP head (lines ending CRLF)
 * contain `token` (case-insensitive)? */
int brs__ws_header_has(const char *head, const char *name, const char *token);
/* The first value of header `name`, trimmed, into out; 1 found, 0 not (or too long). */
int brs__ws_header_get(const char *head, const char *name, char *out, size_t cap);

#endif
