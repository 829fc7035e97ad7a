/* errors.h: every Bourse error code, from one X-macro list.
 * Functions return BRS_OK (0) or a negative BRS_E... code; the detail text goes
 * into a caller-owned brs_error, so nothing crossing the plugin boundary needs a free. */
#ifndef BOURSE_ERRORS_H
#define BOURSE_ERRORS_H

/* XX(NAME, value, message). Values are stable: append new codes, never renumber. */
#define BRS_ERRNO_MAP(XX)                                                      \
    XX(OK, 0, "success")                                                       \
    XX(INVAL, -1, "invalid argument")                                          \
    XX(NOMEM, -2, "out of memory")                                             \
    XX(IO, -3, "input/output error")                                           \
    XX(NOTFOUND, -4, "not found")                                              \
    XX(EXISTS, -5, "already exists")                                           \
    XX(RANGE, -6, "value out of range")                                        \
    XX(PARSE, -7, "malformed input")                                           \
    XX(CORRUPT, -8, "data is damaged")                                         \
    XX(TRUNCATED, -9, "data is cut short")                                     \
    XX(UNSUPPORTED, -10, "not supported")                                      \
    XX(STATE, -11, "operation not valid in the current state")                 \
    XX(LIMIT, -12, "limit exceeded")                                           \
    XX(TIMEOUT, -13, "timed out")                                              \
    XX(AGAIN, -14, "try again")                                                \
    XX(CLOSED, -15, "connection closed")                                       \
    XX(NOTPLUGIN, -20, "not a Bourse plugin")                                  \
    XX(BADMAGIC, -21, "plugin descriptor has a bad magic number")              \
    XX(ABIMAJOR, -22, "plugin ABI major version differs from the host's")      \
    XX(ABIMINOR, -23, "plugin ABI minor version is newer than the host's")     \
    XX(BADKIND, -24, "unknown plugin kind")                                    \
    XX(SHORTVTABLE, -25, "plugin vtable is smaller than the minimum")          \
    XX(PLUGINOPEN, -26, "plugin instance failed to open")                      \
    XX(BADDESC, -27, "plugin descriptor is malformed")                         \
    XX(REJECTED, -30, "order rejected")                                        \
    XX(UNKNOWNORDER, -31, "unknown order id")                                  \
    XX(WOULDTAKE, -32, "post-only order would take liquidity")                 \
    XX(NOLIQUIDITY, -33, "not enough liquidity")                               \
    XX(SELFTRADE, -34, "self-trade prevented")                                 \
    XX(RISK, -35, "refused by a pre-trade risk check")                         \
    XX(HALTED, -36, "instrument or venue is halted")                           \
    XX(SCRIPT, -40, "strategy script error")                                   \
    XX(SANDBOX, -41, "forbidden by the sandbox")                               \
    XX(PROTOCOL, -50, "protocol violation")

enum brs_errno {
#define BRS__ERR_ENUM(name, value, msg) BRS_E_##name = (value),
    BRS_ERRNO_MAP(BRS__ERR_ENUM)
#undef BRS__ERR_ENUM
    BRS_OK_ = 0
};
#define BRS_OK BRS_E_OK

/* The name of a code ("BRS_E_INVAL") or "BRS_E_UNKNOWN". Header-only, so plugins
 * can use it without linking against the host. */
static inline const char *brs_err_name(int code)
{
    switch (code) {
#define BRS__ERR_NAME(name, value, msg) case (value): return "BRS_E_" #name;
        BRS_ERRNO_MAP(BRS__ERR_NAME)
#undef BRS__ERR_NAME
    default: return "BRS_E_UNKNOWN";
    }
}

/* The message of a code ("invalid argument") or "unknown error". */
static inline const char *brs_strerror(int code)
{
    switch (code) {
#define BRS__ERR_MSG(name, value, msg) case (value): return msg;
        BRS_ERRNO_MAP(BRS__ERR_MSG)
#undef BRS__ERR_MSG
    default: return "unknown error";
    }
}

/* Caller-owned error detail. Filled by whoever fails; msg is always NUL-terminated. */
#define BRS_ERROR_MSG_MAX 512
typedef struct brs_error {
    int code;
    char msg[BRS_ERROR_MSG_MAX];
} brs_error;

#endif
