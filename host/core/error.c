/* error.c: filling caller-owned brs_error structs. */
#include "core.h"

#include <string.h>

int brs__verr(brs_error *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int brs__err(brs_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    brs__verr(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int brs__err_prefix(brs_error *err, const char *fmt, ...)
{
    if (!err)
        return BRS_E_INVAL;
    char prefix[256];
    char old[BRS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return err->code;
}
