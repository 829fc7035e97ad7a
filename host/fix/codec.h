/* codec.h: FIX tag=value codec. The parser works in place on the receive
 * buffer (fields are offsets into it, nothing is allocated per message); the
 * encoder writes into a caller-owned preallocated buffer. */
#ifndef BRS_FIX_CODEC_H
#define BRS_FIX_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define BRS__FIX_SOH '\001'
#define BRS__FIX_MAX_FIELDS 1024 /* fields a brs__fix_msg holds inline (max_msg_fields: more) */
#define BRS__FIX_GROUP_DEPTH 8    /* nested repeating groups followed */
#define BRS__FIX_TAG_INDEX 1024 /* tags below this are found in O(1) */

/* What brs__fix_frame found at the start of a buffer. Every outcome but
 * NEED_MORE names a number of bytes (*msglen > 0) to consume: a message, or
 * garbled bytes to drop up to the next possible "8=FIX" start. */
enum brs__fix_frame_rc {
    BRS__FIX_FRAME_OK = 0,        /* a whole message of *msglen bytes */
    BRS__FIX_FRAME_NEED_MORE = 1, /* a valid prefix: read more bytes */
    BRS__FIX_FRAME_GARBLED = 2,   /* not a message start: skip *msglen bytes */
    BRS__FIX_FRAME_BAD_LENGTH = 3,/* BodyLength does not land on "10=": skip *msglen */
    BRS__FIX_FRAME_BAD_CHECKSUM = 4, /* framed, but CheckSum differs: skip *msglen */
    BRS__FIX_FRAME_TOO_BIG = 5    /* BodyLength above the limit */
};

/* Find one message at buf: "8=...|9=N|<N bytes>10=ddd|". BodyLength may be
 * zero-padded. On GARBLED/BAD_* *msglen says how many bytes to drop to reach the
 * next possible "8=" start; a BodyLength that runs past the start of the next
 * message ("|8=FIX" inside it) is BAD_LENGTH at once, without waiting for
 * bytes that may never come. max_len caps the whole message size. */
int brs__fix_frame(const char *buf, size_t len, size_t max_len, size_t *msglen);

/* Checksum: byte sum mod 256. */
unsigned brs__fix_checksum(const char *p, size_t n);

typedef struct brs__fix_field {
    uint32_t tag;
    uint32_t off; /* value offset in the message */
    uint32_t len; /* value length */
    uint16_t group; /* 0 outside a repeating group, else the innermost NumInGroup tag */
    uint16_t depth; /* group nesting depth (0 outside) */
} brs__fix_field;

/* Session-level problems found while parsing, as SessionRejectReason (373). */
enum brs__fix_reject_reason {
    BRS__FIX_RR_INVALID_TAG = 0,
    BRS__FIX_RR_REQUIRED_MISSING = 1,
    BRS__FIX_RR_TAG_NOT_DEFINED = 2,
    BRS__FIX_RR_UNDEFINED_TAG = 3,
    BRS__FIX_RR_NO_VALUE = 4,
    BRS__FIX_RR_BAD_VALUE = 5,
    BRS__FIX_RR_BAD_FORMAT = 6,
    BRS__FIX_RR_COMPID = 9,
    BRS__FIX_RR_SENDING_TIME = 10,
    BRS__FIX_RR_INVALID_MSGTYPE = 11,
    BRS__FIX_RR_DUPLICATE_TAG = 13,
    BRS__FIX_RR_OUT_OF_ORDER = 14,
    BRS__FIX_RR_GROUP_ORDER = 15,
    BRS__FIX_RR_GROUP_COUNT = 16,
    BRS__FIX_RR_OTHER = 99
};

/* A parsed message: views into the bytes it was parsed from. */
typedef struct brs__fix_msg {
    const char *buf;
    uint32_t len;
    uint32_t nfields;
    char msgtype[4];   /* 35, NUL-terminated ("" when longer than 3) */
    uint32_t seq;      /* 34, 0 when absent */
    /* First problem found (reason, tag), or reason -1. The message is still
     * returned so the session can answer with a Reject naming it. */
    int reject_reason;
    uint32_t reject_tag;
    int dict;          /* data dictionary message index (fix/dict.h), -1 unknown */
    uint32_t flags;    /* BRS__FIX_PARSE_* */
    uint32_t max_fields; /* capacity of fields */
    uint32_t too_many; /* fields beyond max_fields (not stored; Reject 99) */
    uint32_t gen;
    uint32_t tag_gen[BRS__FIX_TAG_INDEX]; /* tag_gen[t] == gen: t present */
    uint16_t tag_pos[BRS__FIX_TAG_INDEX]; /* its first (non-group) field index */
    brs__fix_field *fields; /* fields_inline, or a larger array (brs__fix_msg_fields) */
    brs__fix_field fields_inline[BRS__FIX_MAX_FIELDS];
} brs__fix_msg;

#define BRS__FIX_PARSE_ALLOW_EMPTY 1u /* validate_fields_have_values off */

/* Initialise once (zeroes the tag index); reuse for every message. Never copy
 * an initialised message (fields may point into it). */
void brs__fix_msg_init(brs__fix_msg *m);
/* Use a caller-owned array of cap fields (at most 65535) instead of the inline one. */
void brs__fix_msg_fields(brs__fix_msg *m, brs__fix_field *arr, uint32_t cap);

/* Parse a framed message (as returned by brs__fix_frame) into m. Returns
 * BRS_OK, or BRS_E_PARSE when the message cannot be read at all (then no Reject
 * can be built: garbled, including 8, 9, 35 not first). Semantic problems are
 * reported in m->reject_reason. Checks duplicate tags, repeating groups (as the
 * FIX 4.4 dictionary defines them for the MsgType: nesting, NumInGroup counts)
 * and the required tags of the message types the gateway uses. More fields
 * than m->max_fields: read to the end, the rest not stored, reason 99. */
int brs__fix_parse(brs__fix_msg *m, const char *buf, size_t len);

/* Field access. get returns the field or NULL. */
const brs__fix_field *brs__fix_get(const brs__fix_msg *m, uint32_t tag);
static inline const char *brs__fix_val(const brs__fix_msg *m, const brs__fix_field *f)
{
    return m->buf + f->off;
}
/* Copy a value as a C string (truncated to cap-1); returns 1 if present. */
int brs__fix_str(const brs__fix_msg *m, uint32_t tag, char *out, size_t cap);
/* Unsigned integer value; returns 1 if present and well-formed, 0 absent, -1 bad. */
int brs__fix_uint(const brs__fix_msg *m, uint32_t tag, uint64_t *out);
/* Decimal value scaled by 10^decimals exactly ("12.5", 2 -> 1250); 1/0/-1 as above.
 * More significant decimals than allowed is bad (-1). */
int brs__fix_decimal(const brs__fix_msg *m, uint32_t tag, int decimals, int64_t *out);
int brs__fix_parse_decimal(const char *s, size_t n, int decimals, int64_t *out);
/* Single char value ('\0' when absent or longer than one char). */
char brs__fix_char(const brs__fix_msg *m, uint32_t tag);
int brs__fix_is(const brs__fix_msg *m, uint32_t tag, const char *value);

/* Known FIX 4.4 MsgType? (Reject 11 otherwise.) */
int brs__fix_msgtype_known(const char *mt);

/* ---- encoder ------------------------------------------------------------- */

#define BRS__FIX_HEAD_RESERVE 32 /* room for "8=FIX.4.4|9=nnnnnnn|" */

typedef struct brs__fix_enc {
    char *buf;   /* caller-owned */
    size_t cap;
    size_t pos;  /* write position (body) */
    int overflow;
} brs__fix_enc;

/* Start a message body at buf+HEAD_RESERVE with 35=msgtype. */
void brs__fix_enc_begin(brs__fix_enc *e, char *buf, size_t cap, const char *msgtype);
void brs__fix_enc_str(brs__fix_enc *e, uint32_t tag, const char *s);
void brs__fix_enc_mem(brs__fix_enc *e, uint32_t tag, const char *s, size_t n);
void brs__fix_enc_int(brs__fix_enc *e, uint32_t tag, int64_t v);
void brs__fix_enc_char(brs__fix_enc *e, uint32_t tag, char c);
/* value / 10^decimals, trailing zeros trimmed ("150.25", "150"). */
void brs__fix_enc_decimal(brs__fix_enc *e, uint32_t tag, int64_t v, int decimals);
/* UTCTimestamp with milliseconds: YYYYMMDD-HH:MM:SS.sss */
void brs__fix_enc_time(brs__fix_enc *e, uint32_t tag, int64_t ns);
/* Prepend BeginString and BodyLength, append CheckSum. Returns the message
 * start (inside buf) and its length, or NULL if the buffer was too small. */
const char *brs__fix_enc_end(brs__fix_enc *e, const char *begin_string, size_t *len);

/* Format a UTCTimestamp (21 chars + NUL) into out. */
void brs__fix_format_time(int64_t ns, char out[32]);
/* Parse YYYYMMDD-HH:MM:SS[.sss...] -> ns; returns 0 or -1. */
int brs__fix_parse_time(const char *s, size_t n, int64_t *ns);

#endif
