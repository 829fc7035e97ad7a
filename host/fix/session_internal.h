/* session_internal.h: what session.c (the FIX session state machine) and
 * session_resend.c (resending) share. Internal to host/fix. */
#ifndef BRS_FIX_SESSION_INTERNAL_H
#define BRS_FIX_SESSION_INTERNAL_H

#include "fix/session.h"

#define BEGIN_STRING "FIX.4.4"

/* Bytes to the peer (nothing once disconnected; a send failure disconnects). */
void brs__fix_session_wire(brs__fix_session *s, const char *p, size_t n);
/* Ask the peer to resend from our next expected number (EndSeqNo 0); one
 * request at a time, widened to upto while it runs. */
void brs__fix_session_ask_resend(brs__fix_session *s, uint32_t upto);
/* Answer the peer's ResendRequest in s->in. */
void brs__fix_session_answer_resend(brs__fix_session *s);

#endif
