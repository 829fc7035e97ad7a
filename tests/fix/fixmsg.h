/* fixmsg.h: test helper: turn "8=FIX.4.4|9=..|35=D|...|" written with '|'
 * into a real FIX message with SOH, a correct BodyLength and CheckSum. */
#ifndef BRS_TEST_FIXMSG_H
#define BRS_TEST_FIXMSG_H
#include <stdio.h>
#include <string.h>

#include "fix/codec.h"

/* body: "35=D|49=A|...|" (no 8, 9, 10). Returns the length written to out. */
static inline size_t brs_test_fixmsg(char *out, size_t cap, const char *begin, const char *body)
{
    char b[65536];
    size_t n = strlen(body);
    if (n >= sizeof b)
        return 0;
    for (size_t i = 0; i < n; i++)
        b[i] = body[i] == '|' ? '\001' : body[i];
    int h = snprintf(out, cap, "8=%s\0019=%zu\001", begin, n);
    if ((size_t)h + n + 8 > cap)
        return 0;
    memcpy(out + h, b, n);
    unsigned cs = brs__fix_checksum(out, (size_t)h + n);
    int t = snprintf(out + h + n, cap - (size_t)h - n, "10=%03u\001", cs);
    return (size_t)h + n + (size_t)t;
}
#endif
