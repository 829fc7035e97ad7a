/* corpus_main.c: run every file of the seed corpus through the fuzz target
 * once, as an ordinary test (gcc build, and under ASan/UBSan in `make check`). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(void)
{
    DIR *d = opendir(FUZZ_CORPUS_DIR);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", FUZZ_CORPUS_DIR);
        return 1;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", FUZZ_CORPUS_DIR, e->d_name);
        char *data = NULL;
        size_t len = 0;
        brs_error err = {0};
        if (brs__read_file(path, &data, &len, &err) != BRS_OK) {
            fprintf(stderr, "%s\n", err.msg);
            closedir(d);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        free(data);
        n++;
    }
    closedir(d);
    printf("%d corpus inputs ran\n", n);
    return n > 0 ? 0 : 1;
}
