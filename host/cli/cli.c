/* cli.c: messages and conventions shared by every subcommand. */
#include "cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
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

int brs__unknown_option(const char *cmd, const char *arg, void (*usage)(FILE *out))
{
    /* the options are the "--name" words of the command's own usage text, so
     * the suggestion can never offer one the command does not have */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = usage ? open_memstream(&text, &len) : NULL;
    brs_suggest sg;
    brs__suggest_init(&sg, arg);
    char opts[64][48];
    int n = 0;
    if (mem) {
        usage(mem);
        fclose(mem);
        for (const char *p = text; p && (p = strstr(p, "--")) && n < 64;) {
            size_t k = 2;
            while (isalnum((unsigned char)p[k]) || p[k] == '-' || p[k] == '_')
                k++;
            if (k > 3 && k < sizeof opts[0] && (p == text || !isalnum((unsigned char)p[-1]))) {
                memcpy(opts[n], p, k);
                opts[n][k] = '\0';
                brs__suggest_add(&sg, opts[n]);
                n++;
            }
            p += k;
        }
    }
    /* "--out=x" is "--out" misspelt for the suggestion */
    char head[64];
    snprintf(head, sizeof head, "%.*s", (int)strcspn(arg, "="), arg);
    if (!brs__suggest_best(&sg) && strcmp(head, arg)) {
        brs__suggest_init(&sg, head);
        for (int i = 0; i < n; i++)
            brs__suggest_add(&sg, opts[i]);
        if (!brs__suggest_best(&sg)) {
            for (int i = 0; i < n; i++)
                if (!strcmp(head, opts[i])) {
                    free(text);
                    return brs__usage_error(cmd, "unknown option '%s' (write '%s VALUE', without '=')",
                                            arg, head);
                }
        }
    }
    const char *best = brs__suggest_best(&sg);
    int rc = best ? brs__usage_error(cmd, "unknown option '%s' (did you mean '%s'?)", arg, best)
                  : brs__usage_error(cmd, "unknown option '%s'", arg);
    free(text);
    return rc;
}
