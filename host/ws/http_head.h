/* http_head.h: HTTP/1.x message heads (RFC 9112) parsed from the bytes received
 * so far: a request line or a status line, then header fields, up to the blank
 * line. Pure functions, no I/O and no allocation, shared by every HTTP reader
 * of the host: the operators' server (ops/http.c), the WebSocket upgrade on both
 * ends (ws_server.c, ws.c). Fuzzed by tests/fuzz/fuzz_http.c and fuzz_ws.c.
 * Part of bourse_feeds (no host symbols). */
#ifndef BRS_WS_HTTP_HEAD_H
#define BRS_WS_HTTP_HEAD_H

#include <stddef.h>
#include <stdint.h>

#define BRS__HTTP_MAX_FIELDS 64

/* Offsets into the parsed buffer (heads are far below 4 GiB: max_head bounds them). */
typedef struct brs__http_field {
    uint32_t name, name_len, value, value_len; /* value: optional whitespace trimmed */
} brs__http_field;

typedef struct brs__http_head {
    uint32_t len;                 /* the head's bytes, blank line included: a body starts here */
    uint32_t method, method_len;  /* request line */
    uint32_t target, target_len;
    int status;                   /* status line: 100..999 */
    uint32_t reason, reason_len;
    int minor;                    /* HTTP/1.minor */
    int n_fields;
    brs__http_field f[BRS__HTTP_MAX_FIELDS];
} brs__http_head;

/* A request head at the start of buf[0..len): request-line (one SP between
 * method, origin-form target and HTTP/1.x; empty lines before it skipped),
 * then fields (token name, ':' right after it, a value of visible bytes, SP,
 * HTAB or bytes >= 0x80), lines ending CRLF or LF. Returns 0 when the head is
 * not complete yet (and can still become valid), 1 when it is (h filled), or
 * the status that refuses it: 400 malformed (a CR alone, a control byte, a
 * folded line, a space before ':', a target not starting with '/'), 414 a
 * target longer than max_target, 431 a head longer than max_head or more than
 * BRS__HTTP_MAX_FIELDS fields, 505 a version other than HTTP/1.x. */
int brs__http_head_request(const char *buf, size_t len, size_t max_head, size_t max_target, brs__http_head *h);

/* A response head (the client side): HTTP/1.x SP 3DIGIT [SP reason], then
 * fields as above. Returns 0 (not complete), 1 (complete) or -1 (malformed,
 * or longer than max_head). */
int brs__http_head_response(const char *buf, size_t len, size_t max_head, brs__http_head *h);

/* How many fields are named `name` (case-insensitive); the first one's value
 * in *v / *vlen (not NUL-terminated) when there is one. */
int brs__http_head_field(const brs__http_head *h, const char *buf, const char *name, const char **v, size_t *vlen);

/* The first value of field `name` copied and NUL-terminated into out: 1, or 0
 * when there is no such field, or -1 when the value does not fit in cap. */
int brs__http_head_copy(const brs__http_head *h, const char *buf, const char *name, char *out, size_t cap);

/* Content-Length (RFC 9110 8.6): 1*DIGIT, as repeated fields or a list whose
 * values must all agree. Returns 0 when there is none, 1 with *n (a value
 * past 2^40 reads as 2^40 + 1, beyond any body limit), -1 when one is empty
 * or not a decimal number, -2 when two disagree. Shared by the server's
 * request parser (ops/http_req.c) and the client's response bodies
 * (http_body.c). */
int brs__http_head_content_length(const brs__http_head *h, const char *buf, uint64_t *n);

/* Does a field `name` list `token` as one of its comma-separated elements
 * (both case-insensitive, whitespace around elements ignored)? */
int brs__http_head_has_token(const brs__http_head *h, const char *buf, const char *name, const char *token);

#endif
