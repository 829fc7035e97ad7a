/* import.h: importers that turn market data people have (LOBSTER, Yahoo daily
 * bars, generic trades/quotes CSV) into tick files, and the `ticks book` replay. */
#ifndef BRS_TICKS_IMPORT_H
#define BRS_TICKS_IMPORT_H

#include <stdint.h>

#include <bourse/errors.h>

int brs__cmd_ticks_import(int argc, char **argv);
int brs__cmd_ticks_book(int argc, char **argv);

/* "123.4500" times scale (a power of ten) exactly; more decimals than the scale
 * holds are an error unless they are zeros. */
int brs__parse_decimal(const char *s, int64_t scale, int64_t *out);

#endif
