/* ticks_cli.h: helpers shared by the tick commands (gen, ticks, bench replay). */
#ifndef BRS_TICKS_CLI_H
#define BRS_TICKS_CLI_H

#include <errno.h>
#include <stdint.h>

/* A decimal unsigned integer, whole string; BRS_E_PARSE otherwise. */
int brs__parse_u64(const char *s, uint64_t *out);

#endif
