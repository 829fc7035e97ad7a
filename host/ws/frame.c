/* frame.c: the frame header guard the WebSocket client and server share
 * (frame.h). */
#include "ws/frame.h"

#include <string.h>

void brs__ws_fguard_reset(brs__ws_fguard *g, uint64_t max_frame, int peer_masks)
{
    memset(g, 0, sizeof *g);
    g->max_frame = max_frame;
    g->peer_masks = peer_masks ? 1 : 0;
}

int brs__ws_fguard_check(brs__ws_fguard *g, const uint8_t *p, size_t n, const char **why)
{
    size_t i = 0;
    while (i < n) {
        if (g->left > 0) {
            size_t k = g->left < (uint64_t)(n - i) ? (size_t)g->left : n - i;
            g->left -= k;
            i += k;
            continue;
        }
        if (g->need == 0)
            g->need = 2;
        g->fh[g->have++] = p[i++];
        if (g->have == 2) {
            uint8_t l7 = g->fh[1] & 0x7f;
            g->need = (uint8_t)(2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((g->fh[1] & 0x80) ? 4 : 0));
        }
        if (g->have < g->need)
            continue;
        int fin = (g->fh[0] & 0x80) != 0, rsv = (g->fh[0] >> 4) & 7, op = g->fh[0] & 0xf;
        int masked = (g->fh[1] & 0x80) != 0;
        uint64_t len = g->fh[1] & 0x7f;
        if (len == 126)
            len = (uint64_t)g->fh[2] << 8 | g->fh[3];
        else if (len == 127) {
            len = 0;
            for (int k = 2; k < 10; k++)
                len = len << 8 | g->fh[k];
        }
        g->have = 0;
        g->need = 2;
        g->left = len;
        if (rsv) {
            *why = "protocol error: RSV bits set without an extension";
            return 1002;
        }
        if (masked != g->peer_masks) {
            *why = g->peer_masks ? "protocol error: unmasked frame from the client"
                                 : "protocol error: masked frame from the server";
            return 1002;
        }
        if ((op > 0x2 && op < 0x8) || op > 0xA) {
            *why = "protocol error: reserved opcode";
            return 1002;
        }
        if ((op & 0x8) && (!fin || len > 125)) {
            *why = "protocol error: fragmented or oversized control frame";
            return 1002;
        }
        if (op == 0x8 && len == 1) { /* RFC 6455 5.5.1: a close body is empty or starts with a 2-byte code */
            *why = "protocol error: close frame with a 1-byte body";
            return 1002;
        }
        if (len > g->max_frame) {
            *why = "frame too big";
            return 1009;
        }
    }
    return 0;
}
