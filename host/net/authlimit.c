/* authlimit.c: failed logins per address, for every listener that takes
 * credentials (the FIX gateway's Logon, the WebSocket gateway's login). */
#include "net/authlimit.h"

#include <string.h>

static brs__authfail *slot(brs__authlimit *l, uint32_t ip, int make)
{
    for (int i = 0; i < BRS__AUTHFAIL_SLOTS; i++)
        if (l->t[i].fails && l->t[i].ip == ip)
            return &l->t[i];
    if (!make)
        return NULL;
    brs__authfail *pick = &l->t[0]; /* an empty slot, else the oldest */
    for (int i = 0; i < BRS__AUTHFAIL_SLOTS; i++) {
        if (!l->t[i].fails) {
            pick = &l->t[i];
            break;
        }
        if (l->t[i].last < pick->last)
            pick = &l->t[i];
    }
    memset(pick, 0, sizeof *pick);
    pick->ip = ip;
    return pick;
}

#define FORGET_NS (600LL * 1000000000LL)

int64_t brs__auth_delay(brs__authlimit *l, uint32_t ip, int64_t now)
{
    brs__authfail *f = slot(l, ip, 0);
    if (!f)
        return 0;
    if (now - f->last > FORGET_NS) {
        memset(f, 0, sizeof *f);
        return 0;
    }
    return f->until > now ? f->until : 0;
}

int64_t brs__auth_failed(brs__authlimit *l, uint32_t ip, int64_t now, uint32_t *fails)
{
    brs__authfail *f = slot(l, ip, 1);
    if (f->fails && now - f->last > FORGET_NS)
        f->fails = 0;
    f->fails++;
    f->last = now;
    int64_t d = 0;
    if (f->fails >= 2) {
        uint32_t k = f->fails - 2 > 5 ? 5 : f->fails - 2;
        d = 1000000000LL << k;
        if (d > 30000000000LL)
            d = 30000000000LL;
    }
    f->until = now + d;
    *fails = f->fails;
    return d;
}

void brs__auth_ok(brs__authlimit *l, uint32_t ip)
{
    brs__authfail *f = slot(l, ip, 0);
    if (f)
        memset(f, 0, sizeof *f);
}
