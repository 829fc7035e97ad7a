/* http_body.c: an HTTP/1.x response body framed and decoded as it arrives
 * (http_body.h). The chunked decoder is a state machine over single bytes for
 * the size lines and trailers and one memmove per run of chunk data, so it
 * keeps its place between calls and never reads a byte twice. */
#include "ws/http_body.h"

#include <string.h>
#include <strings.h>

enum {
    S_SIZE0,   /* a chunk-size line starts: a hex digit must come */
    S_SIZE,    /* more hex digits, or the end of the size */
    S_EXT,     /* after the size: BWS, then ';' and an extension, to the line's end */
    S_EXT_ANY, /* inside the extension: any visible byte */
    S_SIZE_LF, /* CR seen at the end of the size line */
    S_DATA,    /* copying the chunk's bytes */
    S_DATA_END,/* CRLF (or LF) after the chunk's bytes */
    S_DATA_LF,
    S_TRAILER, /* at the start of a trailer line (or the final blank line) */
    S_TLINE,   /* inside a trailer field */
    S_TLINE_LF,
    S_END_LF,  /* CR of the final blank line seen */
    S_DONE,
};

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int vbyte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

int brs__http_body_init(brs__http_body *b, const brs__http_head *h, const char *buf, size_t max_body,
                        const char **why)
{
    memset(b, 0, sizeof *b);
    b->max_body = max_body;
    if (h->status == 204 || h->status == 304 || (h->status >= 100 && h->status < 200)) {
        b->mode = BRS__HTTP_BODY_NONE;
        return 0;
    }
    const char *v;
    size_t vl;
    int nte = brs__http_head_field(h, buf, "Transfer-Encoding", &v, &vl);
    if (nte) {
        /* We send no TE field, so chunked is the only coding a server may use
         * (RFC 9112 6.1); it takes precedence over any Content-Length. */
        if (nte != 1 || vl != 7 || strncasecmp(v, "chunked", 7) != 0) {
            *why = "unsupported Transfer-Encoding (only chunked)";
            return -1;
        }
        b->mode = BRS__HTTP_BODY_CHUNKED;
        return 0;
    }
    uint64_t cl = 0;
    int ncl = brs__http_head_content_length(h, buf, &cl);
    if (ncl < 0) {
        *why = ncl == -2 ? "two Content-Length fields disagree" : "Content-Length is empty or not a decimal number";
        return -1;
    }
    if (cl > (1ULL << 40)) {
        *why = "Content-Length too large";
        return -1;
    }
    if (ncl) {
        if (cl > max_body) {
            *why = "Content-Length exceeds the body limit";
            return -2;
        }
        b->mode = BRS__HTTP_BODY_LENGTH;
        b->length = cl;
        return 0;
    }
    b->mode = BRS__HTTP_BODY_CLOSE;
    return 0;
}

static int line_byte(brs__http_body *b, const char **why)
{
    if (++b->line > BRS__HTTP_BODY_LINE_MAX) {
        *why = "chunk line too long";
        return -1;
    }
    return 0;
}

/* The chunked decoder from b->rd to have; returns 1 done, 0 more, -1/-2 error. */
static int chunked(brs__http_body *b, char *body, size_t have, const char **why)
{
    size_t r = b->rd;
    while (r < have && b->st != S_DONE) {
        if (b->st == S_DATA) {
            size_t n = have - r;
            if ((uint64_t)n > b->left)
                n = (size_t)b->left;
            if (b->wr != r)
                memmove(body + b->wr, body + r, n);
            b->wr += n;
            r += n;
            b->left -= n;
            if (b->left == 0)
                b->st = S_DATA_END;
            continue;
        }
        unsigned char c = (unsigned char)body[r++];
        int hv;
        switch (b->st) {
        case S_SIZE0:
            if ((hv = hexval(c)) < 0) {
                *why = "bad chunk size";
                return -1;
            }
            b->left = (uint64_t)hv;
            b->line = 1;
            b->st = S_SIZE;
            break;
        case S_SIZE:
            if ((hv = hexval(c)) >= 0) {
                if (line_byte(b, why))
                    return -1;
                if (b->left > (UINT64_MAX >> 4)) {
                    *why = "chunk size too large";
                    return -2;
                }
                b->left = b->left << 4 | (uint64_t)hv;
                break;
            }
            if (b->left > b->max_body - b->wr) {
                *why = "chunked body exceeds the body limit";
                return -2;
            }
            b->st = S_EXT;
            /* c is the first byte after the digits */
            /* fall through */
        case S_EXT:
            if (c == ' ' || c == '\t') {
                if (line_byte(b, why))
                    return -1;
                break;
            }
            if (c == ';') {
                if (line_byte(b, why))
                    return -1;
                b->st = S_EXT_ANY;
                break;
            }
            goto size_end;
        case S_EXT_ANY:
            if (c != '\r' && c != '\n') {
                if (!vbyte(c)) {
                    *why = "control byte in a chunk extension";
                    return -1;
                }
                if (line_byte(b, why))
                    return -1;
                break;
            }
        size_end:
            if (c == '\r') {
                b->st = S_SIZE_LF;
                break;
            }
            if (c != '\n') {
                *why = "bad chunk size";
                return -1;
            }
            /* fall through */
        case S_SIZE_LF:
            if (c != '\n') {
                *why = "CR without LF after a chunk size";
                return -1;
            }
            b->line = 0;
            b->st = b->left ? S_DATA : S_TRAILER;
            break;
        case S_DATA_END:
            if (c == '\r') {
                b->st = S_DATA_LF;
                break;
            }
            /* fall through */
        case S_DATA_LF:
            if (c != '\n') {
                *why = "chunk data not followed by CRLF";
                return -1;
            }
            b->st = S_SIZE0;
            break;
        case S_TRAILER:
            if (c == '\r') {
                b->st = S_END_LF;
                break;
            }
            if (c == '\n') {
                b->st = S_DONE;
                break;
            }
            b->st = S_TLINE;
            /* fall through */
        case S_TLINE:
            if (++b->trailer > BRS__HTTP_BODY_TRAILER_MAX) {
                *why = "trailer section too long";
                return -1;
            }
            if (c == '\r')
                b->st = S_TLINE_LF;
            else if (c == '\n')
                b->st = S_TRAILER;
            else if (!vbyte(c)) {
                *why = "control byte in a trailer field";
                return -1;
            }
            break;
        case S_TLINE_LF:
        case S_END_LF:
            if (c != '\n') {
                *why = "CR without LF in the trailer section";
                return -1;
            }
            b->st = b->st == S_END_LF ? S_DONE : S_TRAILER;
            break;
        }
    }
    b->rd = r;
    return b->st == S_DONE;
}

int brs__http_body_step(brs__http_body *b, char *body, size_t *have, int eof, size_t *len, const char **why)
{
    switch (b->mode) {
    case BRS__HTTP_BODY_NONE:
        *len = 0;
        return 1;
    case BRS__HTTP_BODY_LENGTH:
        if (*have >= b->length) {
            *len = (size_t)b->length;
            return 1;
        }
        break;
    case BRS__HTTP_BODY_CLOSE:
        if (*have > b->max_body) {
            *why = "body exceeds the body limit";
            return -2;
        }
        if (eof) {
            *len = *have;
            return 1;
        }
        return 0;
    case BRS__HTTP_BODY_CHUNKED: {
        int rc = chunked(b, body, *have, why);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            *len = b->wr;
            return 1;
        }
        /* keep only what is decoded and what is not read yet */
        size_t rest = *have - b->rd;
        if (rest && b->rd != b->wr)
            memmove(body + b->wr, body + b->rd, rest);
        b->rd = b->wr;
        *have = b->wr + rest;
        break;
    }
    default:
        *why = "body framing not set up";
        return -1;
    }
    if (eof) {
        *why = "response cut short by the server's close";
        return -1;
    }
    return 0;
}
