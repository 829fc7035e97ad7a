/* ws.h: an RFC 6455 WebSocket client for live market data: ws:// and wss://,
 * text and binary messages (fragmented or not), ping/pong keepalive, the close
 * handshake, UTF-8 validation of text, frame and message size limits, and
 * reconnection with exponential backoff (the owner resubscribes in on_open).
 * Framing is Debian's libwslay driven by our own non-blocking loop
 * (docs/websocket.md says why). Part of bourse_feeds: no host symbols.
 *
 * Drive it with brs__ws_step(ws, now) from any loop; it never blocks (except the
 * DNS lookup at connect). brs__ws_pollfd() gives the fd and events to sleep on.
 * Not thread-safe: one thread per client. */
#ifndef BRS_WS_WS_H
#define BRS_WS_WS_H

#include <stddef.h>
#include <stdint.h>

#include <bourse/errors.h>

#include "frame.h"
#include "net.h"

typedef struct brs__ws brs__ws;

typedef struct brs__ws_callbacks {
    /* The connection is open (also after every reconnect): subscribe here. */
    void (*on_open)(void *ud, brs__ws *ws);
    /* A complete message; data is valid during the call only. */
    void (*on_message)(void *ud, brs__ws *ws, int binary, const char *data, size_t len,
                       int64_t recv_ns);
    /* The connection ended: code is the close code we sent or received
     * (1006 when the TCP connection just dropped); reason says why. */
    void (*on_close)(void *ud, brs__ws *ws, int code, const char *reason);
    /* Optional: a (re)connect attempt is scheduled delay_ns from now (backoff);
     * attempt counts the attempts since data last flowed (1 = the first retry);
     * why is the last error. Lets the owner log every retry and its delay. */
    void (*on_retry)(void *ud, brs__ws *ws, int64_t delay_ns, uint64_t attempt, const char *why);
} brs__ws_callbacks;

typedef struct brs__ws_opts {
    const char *url;             /* ws://host:port/path or wss://... */
    size_t max_message;          /* bytes; larger -> close 1009 (default 16 MiB) */
    size_t max_frame;            /* bytes; larger -> close 1009 (default = max_message) */
    size_t step_bytes;           /* most bytes read per step, so one busy connection cannot
                                    starve the caller's loop (default 1 MiB) */
    int64_t ping_interval_ns;    /* send a ping when idle this long (0: 15 s; < 0 off) */
    int64_t idle_timeout_ns;     /* nothing received this long -> reconnect (default 60 s) */
    int64_t connect_timeout_ns;  /* TCP + TLS + upgrade (default 10 s) */
    int64_t close_timeout_ns;    /* wait for the peer's close frame (default 2 s) */
    int64_t backoff_min_ns;      /* first reconnect delay (default 100 ms) */
    int64_t backoff_max_ns;      /* cap (default 30 s); doubles each failure, +-25% jitter */
    int no_reconnect;            /* 0 (default): reconnect after any close; 1 stay closed */
    brs__tls_opts tls;
} brs__ws_opts;

enum brs__ws_state {
    BRS__WS_IDLE = 0,
    BRS__WS_CONNECTING = 1, /* TCP/TLS */
    BRS__WS_UPGRADE = 2,    /* HTTP upgrade request/response */
    BRS__WS_OPEN = 3,
    BRS__WS_CLOSING = 4,    /* close sent or received, finishing the handshake */
    BRS__WS_BACKOFF = 5,    /* waiting to reconnect */
    BRS__WS_CLOSED = 6      /* closed for good (reconnect off, or brs__ws_close) */
};

struct brs__ws {
    brs__ws_opts o;
    brs__url url;
    char *url_copy;
    brs__ws_callbacks cb;
    void *ud;
    int state;
    brs__conn conn;
    void *wslay; /* wslay_event_context_ptr */
    char key[32];
    char *hbuf; /* upgrade request / response bytes */
    size_t hlen, hoff, hcap;
    int up_recv; /* upgrade request sent, reading the response */
    char *pending; /* bytes read past the upgrade response, given to wslay first */
    size_t plen, poff;
    int64_t t_state, t_last_rx, t_last_ping, t_retry;
    int64_t backoff;
    uint64_t n_retries; /* retries scheduled since data last flowed (reset with backoff) */
    int close_code;       /* what we are closing with (sent), 0 none */
    char close_reason[124];
    int stop_requested;   /* brs__ws_close: no reconnect */
    int io_failed;        /* the socket failed (vs. a protocol error found by wslay) */
    /* frame-header guard run over every received byte before wslay sees it */
    brs__ws_fguard fg;
    int draining; /* our close frame is out: discard input until the peer closes */
    uint64_t rx_total;  /* bytes received on this connection */
    size_t rx_budget;   /* bytes one step may still read (fairness under a flood) */
    uint64_t rng;
    /* statistics */
    uint64_t n_connects, n_disconnects, n_messages, n_bytes, n_pings, n_pongs;
    int last_close_sent, last_close_received;
    char last_error[256];
};

/* Copies opts (and the url). Starts connecting on the first step. */
int brs__ws_init(brs__ws *ws, const brs__ws_opts *opts, const brs__ws_callbacks *cb, void *ud,
                 brs_error *err);
void brs__ws_free(brs__ws *ws);
/* Do all pending work without blocking. Returns BRS_OK (also while reconnecting;
 * see state and last_error) or BRS_E_CLOSED once closed for good. */
int brs__ws_step(brs__ws *ws, int64_t now_ns);
/* Queue a text message (sent by the next steps). BRS_E_STATE unless open. */
int brs__ws_send_text(brs__ws *ws, const char *data, size_t len);
/* Start the close handshake with code (1000 normally) and stop reconnecting. */
int brs__ws_close(brs__ws *ws, int code, const char *reason);
/* Drop the current connection as if the network failed (1006) and reconnect. */
void brs__ws_drop(brs__ws *ws, const char *why);
/* The fd and poll events to wait on (fd -1 when there is nothing to wait for),
 * and the latest time step should run again (timers). */
int brs__ws_pollfd(const brs__ws *ws, short *events, int64_t *wake_ns);

/* True if s[0..n) is valid UTF-8 (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
int brs__utf8_valid(const char *s, size_t n);

#endif
