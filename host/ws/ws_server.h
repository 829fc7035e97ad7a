/* ws_server.h: the server side of RFC 6455 on libwslay, for one accepted,
 * non-blocking TCP connection, in plain TCP or over TLS (brs__wss_set_tls:
 * host/net/tls.h, the FIX listener's code): the TLS handshake and the HTTP
 * upgrade (bounded size and time, together), then text messages in and out.
 * Limits: frame and message size (1009), handshake bytes and time, bytes
 * queued and waiting for a slow reader, pings with a pong deadline.
 * Protocol violations close with their RFC code (shared frame guard,
 * frame.h); invalid UTF-8 closes 1007, binary messages 1003. No logging and
 * no host symbols (bourse_feeds): the owner learns everything through the
 * callbacks. Not thread-safe. */
#ifndef BRS_WS_SERVER_H
#define BRS_WS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "msgq.h"

typedef struct brs__wss_limits {
    size_t max_frame;            /* 0: 64 KiB */
    size_t max_message;          /* 0: 64 KiB (reassembled) */
    size_t max_handshake;        /* 0: 8 KiB of upgrade request */
    int64_t handshake_timeout_ns; /* 0: 5 s: TLS handshake and upgrade together; also how long our close waits for the answer */
    int64_t ping_interval_ns;    /* 0: no pings */
    int64_t pong_timeout_ns;     /* 0: 10 s after a ping */
    size_t max_queued;           /* bytes handed to wslay at once; more wait in the backlog; 0: 4 MiB */
    size_t max_backlog;          /* bytes waiting behind those: past it the reader is too slow; 0: 64 MiB */
} brs__wss_limits;

typedef struct brs__wss brs__wss;

typedef struct brs__wss_cb {
    void (*on_open)(void *ud, brs__wss *c, const char *path); /* upgrade accepted */
    void (*on_text)(void *ud, brs__wss *c, const char *data, size_t len);
    /* once, when the connection is over (close handshake done, or failed);
     * code: the close code sent or received, reason says which limit or error */
    void (*on_close)(void *ud, brs__wss *c, int code, const char *reason);
} brs__wss_cb;

enum { BRS__WSS_HANDSHAKE = 0, BRS__WSS_OPEN = 1, BRS__WSS_DONE = 2 };

struct brs__wss {
    int fd;
    int state;
    brs__wss_limits lim;
    brs__wss_cb cb;
    void *ud;
    void *ctx; /* wslay_event_context_ptr */
    brs__ws_fguard fg;
    char *hbuf;           /* the upgrade request, then leftover bytes for wslay */
    size_t hlen, hoff;
    char *raw;            /* a raw HTTP answer being written (101 or an error) */
    size_t rawlen, rawoff;
    int raw_then_close;   /* an error answer: close once it is written */
    int64_t t_start, t_ping, t_rx;
    int64_t t_close; /* when we started closing: unanswered after the handshake timeout, dropped */
    int close_code;
    char reason[124];
    int close_later; /* brs__wss_close: the close frame follows the queued messages */
    int io_failed;
    void *tls;      /* SSL* (net/tls.h) when the listener speaks TLS; NULL: plain TCP */
    int tls_rd_ww;  /* a TLS read needs the socket writable first (brs__wss_tls_wants_write) */
    /* messages waiting behind max_queued bytes, in order, not handed to
     * wslay yet */
    brs__ws_msgq bl;
    uint64_t n_in, n_out, bytes_in, bytes_out;
};

/* Takes ownership of fd (closed by brs__wss_free). */
int brs__wss_init(brs__wss *c, int fd, const brs__wss_limits *lim, const brs__wss_cb *cb, void *ud,
                  int64_t now);
/* Speak TLS on the connection (before any read): ssl from brs__tls_new on
 * its fd; owned from here (freed by brs__wss_free). A TLS failure (a plain
 * client, a failed handshake, a bad record) ends the connection with code
 * 1015 and OpenSSL's reason. */
void brs__wss_set_tls(brs__wss *c, void *ssl);
/* The fd is readable (or: call anyway, it reads until EAGAIN). */
/* Read and handle what arrived; what the callbacks queue is written by the
 * next brs__wss_flush, never here (a gateway commits its journal between). */
void brs__wss_on_readable(brs__wss *c, int64_t now);
/* Write what is queued; timeouts and pings. Never reads (a message read
 * here would run after the owner's commit and be answered before its own). */
void brs__wss_flush(brs__wss *c, int64_t now);
/* Do bytes that came with the upgrade request wait to be read although the
 * socket may have nothing (the 101 answer could not be written at once, so
 * brs__wss_on_readable left them)? Then the owner calls brs__wss_on_readable
 * again in its next read phase. */
int brs__wss_input_waits(const brs__wss *c);
/* TLS: did the last read stop because the socket must take bytes first (the
 * handshake's answer, a key update)? Then the owner calls
 * brs__wss_on_readable when the socket is writable (brs__wss_want_write
 * asks for it), in its read phase. */
int brs__wss_tls_wants_write(const brs__wss *c);
/* Does the owner need to wait for POLLOUT? */
int brs__wss_want_write(const brs__wss *c);
/* Queue a text message, in order behind every other. At most max_queued
 * bytes are handed to wslay at once; the rest wait in the connection's
 * backlog and follow as the reader drains (brs__wss_flush), so a burst (a
 * sweep's fills) reaches a client that reads. BRS_E_STATE when not open,
 * BRS_E_LIMIT when the reader is too slow (the backlog would pass
 * max_backlog bytes: the connection is closed 1008), BRS_E_NOMEM. */
int brs__wss_send_text(brs__wss *c, const char *data, size_t len);
/* Start the close handshake (code 1000..4999). */
void brs__wss_close(brs__wss *c, int code, const char *reason);
/* Earliest time brs__wss_flush has something to do (timeouts, pings). */
int64_t brs__wss_next_time(const brs__wss *c);
void brs__wss_free(brs__wss *c);

#endif
