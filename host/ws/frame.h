/* frame.h: the RFC 6455 frame-header guard both ends of a WebSocket run over
 * every received byte before wslay sees it (so each violation gets its close
 * code, whatever wslay's version does). Used by the client (ws.c) and the
 * server side (ws_server.c); the opening handshake is upgrade.h. Part of
 * bourse_feeds. */
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

#endif
