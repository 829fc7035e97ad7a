/* authlimit.h: the slowing down of addresses whose logins keep failing,
 * shared by the FIX gateway (host/fix/server_conn.c) and the WebSocket order
 * entry gateway (host/wsgate). */
#ifndef BRS_NET_AUTHLIMIT_H
#define BRS_NET_AUTHLIMIT_H

#include <stdint.h>

/* Failed logins per address (a FIX Logon, a WebSocket login): each failure
 * after the first delays the next login from that address (1 s, 2 s, 4 s ... up to 30 s); a success, or 10
 * minutes without failure, forgets it. A small fixed table (the oldest entry
 * makes room). */
#define BRS__AUTHFAIL_SLOTS 256
typedef struct brs__authfail {
    uint32_t ip;
    uint32_t fails;
    int64_t last, until;
} brs__authfail;
typedef struct brs__authlimit {
    brs__authfail t[BRS__AUTHFAIL_SLOTS];
} brs__authlimit;
/* Until when a login from ip waits (0: not delayed). */
int64_t brs__auth_delay(brs__authlimit *l, uint32_t ip, int64_t now);
/* A failure: returns the delay (ns) the next login from ip will wait. */
int64_t brs__auth_failed(brs__authlimit *l, uint32_t ip, int64_t now, uint32_t *fails);
void brs__auth_ok(brs__authlimit *l, uint32_t ip);

#endif
