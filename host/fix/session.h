/* session.h: the FIX 4.4 session layer for one counterparty (acceptor side):
 * Logon, Heartbeat, TestRequest, ResendRequest, SequenceReset, Reject, Logout,
 * sequence numbers and the persistent store. It does no I/O of its own: bytes
 * come in through brs__fix_session_input and leave through io.send, so tests
 * drive the state machine with in-memory byte streams. */
#ifndef BRS_FIX_SESSION_H
#define BRS_FIX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

#include "fix/codec.h"
#include "fix/store.h"

#define BRS__FIX_COMPID_MAX 64
#define BRS__FIX_OUT_MAX 16384 /* largest message the gateway writes */

enum brs__fix_state {
    BRS__FIX_DISCONNECTED = 0,
    BRS__FIX_AWAIT_LOGON = 1,
    BRS__FIX_ACTIVE = 2,
    BRS__FIX_LOGOUT_SENT = 3
};

typedef struct brs__fix_session brs__fix_session;

typedef struct brs__fix_session_io {
    void *ctx;
    /* Queue bytes for the peer. Returns BRS_OK or < 0 (then the server drops it). */
    int (*send)(void *ctx, const char *p, size_t n);
    /* Close the connection (after what was queued is written, when possible). */
    void (*disconnect)(void *ctx);
} brs__fix_session_io;

typedef struct brs__fix_session_cfg {
    char sender[BRS__FIX_COMPID_MAX]; /* ours, e.g. EXEC */
    char target[BRS__FIX_COMPID_MAX]; /* the client's, e.g. CLIENT1 */
    char username[64];                /* empty: not checked */
    char password[64];
    size_t max_msg;                   /* whole-message size limit */
} brs__fix_session_cfg;

/* The application: receives the session's business messages, in order. */
typedef void (*brs__fix_app_fn)(void *app, brs__fix_session *s, const brs__fix_msg *m);

struct brs__fix_session {
    brs__fix_session_cfg cfg;
    uint32_t index; /* position in the gateway's session table */
    int state;
    brs__fix_store store;
    brs__fix_session_io io;
    brs__fix_app_fn on_app;
    brs__fix_app_fn on_dup; /* a PossDup message below the expected MsgSeqNum (may be NULL) */
    void *app;
    int64_t hb_ns;        /* HeartBtInt */
    int64_t last_rx, last_tx;
    int64_t testreq_at;   /* 0: none outstanding */
    int64_t logout_at;
    uint32_t resend_upto; /* we asked for a resend up to this seq; 0 none */
    uint64_t garbled;     /* messages dropped as garbled */
    uint64_t rejects;     /* Reject messages sent */
    int reset_on_logon;
    int64_t now;          /* the time of the current input/timer call */
    brs__fix_msg in;      /* the message being processed */
    brs__fix_msg scratch; /* re-parsing stored messages for resend */
    brs__fix_enc enc;
    char out[BRS__FIX_OUT_MAX];
    char tmp[BRS__FIX_OUT_MAX];
    char text[256];       /* last Logout/Reject reason (tests, logs) */
};

/* Open a session (and its store at store_path, or in memory when NULL). */
int brs__fix_session_open(brs__fix_session *s, const brs__fix_session_cfg *cfg,
                          const char *store_path, int fsync_policy, brs_error *err);
void brs__fix_session_close(brs__fix_session *s);

/* A connection is attached: expect Logon. */
void brs__fix_session_attach(brs__fix_session *s, const brs__fix_session_io *io, int64_t now);
/* The connection is gone (peer closed, error): back to DISCONNECTED. */
void brs__fix_session_detach(brs__fix_session *s);

/* Feed received bytes; returns how many were consumed (the rest is an
 * incomplete message to keep). Stops early when the session disconnects. */
size_t brs__fix_session_input(brs__fix_session *s, const char *buf, size_t len, int64_t now);
/* Heartbeats, TestRequest and timeouts. */
void brs__fix_session_timer(brs__fix_session *s, int64_t now);

/* Build an outbound message: begin (writes the standard header), append the
 * body through brs__fix_enc_* on the returned encoder, then send: the message
 * gets the next sequence number, is stored, and goes to the peer when one is
 * connected (else it waits in the store for the peer's ResendRequest). */
brs__fix_enc *brs__fix_session_begin(brs__fix_session *s, const char *msgtype);
int brs__fix_session_send(brs__fix_session *s);

/* Send Logout with text and disconnect. */
void brs__fix_session_logout(brs__fix_session *s, const char *text);
/* Send a session-level Reject (35=3) for the message in s->in. */
void brs__fix_session_reject(brs__fix_session *s, int reason, uint32_t tag, const char *text);

/* Admin message type? (Gap-filled on resend.) */
int brs__fix_is_admin(const char *msgtype);

#endif
