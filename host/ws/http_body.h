/* http_body.h: the body of an HTTP/1.x response (RFC 9112 section 6), framed
 * and decoded as its bytes arrive: a Content-Length body, a chunked body
 * decoded in place, or a body that ends when the server closes. Pure functions,
 * no I/O and no allocation: the client's GET (net.c) feeds it what it reads,
 * tests/fuzz/fuzz_http.c feeds it arbitrary bytes split anywhere. Each byte is
 * looked at once however the response is split, so a slow or hostile server
 * costs linear time. Part of bourse_feeds (no host symbols). */
#ifndef BRS_WS_HTTP_BODY_H
#define BRS_WS_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "ws/http_head.h"

/* A chunk-size line, a chunk extension or a trailer field longer than this is refused. */
#define BRS__HTTP_BODY_LINE_MAX 4096
/* Trailer section after the last chunk: refused past this many bytes. */
#define BRS__HTTP_BODY_TRAILER_MAX 16384

enum {
    BRS__HTTP_BODY_LENGTH = 1,  /* Content-Length */
    BRS__HTTP_BODY_CHUNKED = 2, /* Transfer-Encoding: chunked */
    BRS__HTTP_BODY_CLOSE = 3,   /* until the server closes the connection */
    BRS__HTTP_BODY_NONE = 4,    /* 204, 304: no body whatever the fields say */
};

typedef struct brs__http_body {
    int mode;
    uint64_t length;  /* LENGTH: the declared size */
    size_t max_body;  /* the decoded body's limit */
    /* CHUNKED: bytes [0, wr) of the body area are decoded, [rd, have) not read yet */
    size_t wr, rd;
    uint64_t left;    /* bytes of the current chunk still to copy */
    int st;           /* the decoder's state (http_body.c) */
    uint32_t line;    /* bytes of the current size, extension or trailer line */
    uint32_t trailer; /* bytes of the trailer section so far */
} brs__http_body;

/* How the body of a complete response head is framed (h from
 * brs__http_head_response over buf). Returns 0, or -1 with *why: a
 * Content-Length that is not a decimal number, two that disagree, one past
 * max_body, a transfer coding other than chunked (none was asked for). */
int brs__http_body_init(brs__http_body *b, const brs__http_head *h, const char *buf, size_t max_body,
                        const char **why);

/* Take what has arrived: body[0, *have) are the bytes after the head (the
 * decoded part first, as this call left it). eof: the server has closed.
 * Chunked bodies are decoded in place and what is not decoded yet is moved
 * down behind the decoded part, so *have shrinks to what must be kept.
 * Returns 1 when the body is complete (its bytes are body[0, *len)), 0 when
 * more must be read, -1 malformed (chunk syntax, cut short by the close),
 * -2 larger than max_body; *why says which. */
int brs__http_body_step(brs__http_body *b, char *body, size_t *have, int eof, size_t *len, const char **why);

#endif
