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
#include "fix/dict.h"
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

/* Session options, per session with defaults in the top level of the
 * configuration (names as QuickFIX's, docs/fix-gateway.md). A zeroed struct
 * is "everything off" (unit tests); brs__fix_session_opts_default gives the
 * configuration defaults. */
typedef struct brs__fix_session_opts {
    int reset_on_logon;      /* every Logon resets both sequences (store emptied) */
    int reset_on_logout;     /* ... after a Logout exchange */
    int reset_on_disconnect; /* ... whenever the connection ends */
    int64_t max_latency_s;   /* SendingTime accuracy; 0: not checked */
    int validate;            /* check inbound messages against the FIX 4.4 dictionary */
    brs__fix_valid_opts valid;
    int64_t min_heartbeat_s; /* a Logon with a lower HeartBtInt is refused */
    uint32_t max_msg_fields; /* fields per inbound message (more: Reject) */
    uint32_t max_field_bytes; /* bytes per inbound field value (more: Reject 373=5) */
} brs__fix_session_opts;

/* The configuration keys of brs__fix_session_opts, for strict key lists. */
#define BRS__FIX_SESSION_OPT_KEYS                                                              \
    "reset_on_logon", "reset_on_logout", "reset_on_disconnect", "max_latency_s", "validate",    \
        "validate_fields_out_of_order", "validate_fields_have_values",                         \
        "validate_user_defined_fields", "allow_unknown_msg_fields", "min_heartbeat_s",         \
        "max_msg_fields", "max_field_bytes"

void brs__fix_session_opts_default(brs__fix_session_opts *o);
struct brs_config;
struct cJSON;
/* Read the option keys present in obj (where: its key path for messages) over
 * the values already in *o (the defaults, or the top level's). */
int brs__fix_session_opts_read(const struct brs_config *cfg, const struct cJSON *obj,
                               const char *where, brs__fix_session_opts *o, brs_error *err);

typedef struct brs__fix_session_cfg {
    char sender[BRS__FIX_COMPID_MAX]; /* ours, e.g. EXEC */
    char target[BRS__FIX_COMPID_MAX]; /* the client's, e.g. CLIENT1 */
    char username[64];                /* empty: not checked */
    char password[64];
    size_t max_msg;                   /* whole-message size limit */
    brs__fix_session_opts opts;
} brs__fix_session_cfg;

/* A ResendRequest being answered: the messages go out one at a time from the
 * store, runs of admin messages (and of numbers the store lacks) coalesced
 * into one SequenceReset-GapFill each (brs__fix_session_resend_more). */
typedef struct brs__fix_resend {
    uint32_t next;  /* next stored number to look at; 0: no resend running */
    uint32_t end;   /* last number to resend */
    uint32_t gap;   /* first number of a pending gap fill, 0 none */
} brs__fix_resend;

/* Message types counted per session (metrics): the index of a MsgType in
 * brs__fix_mt_names, the last slot for any other. */
#define BRS__FIX_MT_N 21
extern const char *const brs__fix_mt_names[BRS__FIX_MT_N];
int brs__fix_mt_index(const char *msgtype);

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
    uint64_t n_in[BRS__FIX_MT_N], n_out[BRS__FIX_MT_N]; /* messages by type (brs__fix_mt_index) */
    int out_mt;           /* the type of the message being built */
    int in_msg;           /* 1 while s->in is being processed (its answers are built) */
    int oversize_reject;  /* 1 while the Reject for an oversize answer is built */
    uint64_t oversize;    /* answers too large for the output buffer (never sent) */
    uint64_t rejects;     /* Reject messages sent */
    brs__fix_resend resend;
    uint32_t sending_seq;  /* MsgSeqNum of the stored message now at io.send; 0: a resend */
    uint32_t resend_batch; /* messages per resend_more call from the session; 0: all */
    int64_t now;          /* the time of the current input/timer call */
    brs__fix_field *fields_in, *fields_scratch; /* when max_msg_fields > inline */
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
/* One framer outcome only: a message processed, or garbled bytes dropped
 * (*framed says which: 1 message, 0 garbled or nothing). Returns the bytes
 * consumed: 0 only when buf holds an incomplete message (or the session is
 * disconnected). Servers that meter input per message call this in a loop. */
size_t brs__fix_session_step(brs__fix_session *s, const char *buf, size_t len, int64_t now,
                             int *framed);
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

/* Continue a running resend (s->resend) with at most max messages looked at
 * (0: to the end). Returns 1 while more is left. The pending gap fill is sent
 * before the next application message and at the end. */
int brs__fix_session_resend_more(brs__fix_session *s, uint32_t max);
/* One stored message of a resend (len 0: the store does not hold it): either
 * extends the pending gap fill (admin message, missing number) or flushes it
 * and resends the message. Used by resend_more; exposed for streaming. */
void brs__fix_session_resend_feed(brs__fix_session *s, uint32_t seq, const char *msg, size_t len);

/* Admin message type? (Gap-filled on resend.) */
int brs__fix_is_admin(const char *msgtype);

#endif
