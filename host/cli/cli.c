/* cli.c: messages and conventions shared by every subcommand. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

int brs__usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bourse %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'bourse %s --help'.\n", cmd);
    va_end(ap);
    return BRS_EXIT_USAGE;
}

int brs__fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bourse %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return BRS_EXIT_FAIL;
}

int brs__is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
