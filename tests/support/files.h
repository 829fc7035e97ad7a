/* files.h: read a whole file in a test, NULL when it cannot be read. Wraps the
 * host's brs__read_file (tests link bourse_core), so tests do not each carry
 * their own copy. The buffer is NUL-terminated; free() it. */
#ifndef BRS_TEST_FILES_H
#define BRS_TEST_FILES_H

#include <stddef.h>

#include "core/core.h"

static inline char *test_read_file(const char *path, size_t *len)
{
    char *data;
    return brs__read_file(path, &data, len, NULL) == BRS_OK ? data : NULL;
}

#endif
