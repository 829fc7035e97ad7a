/* make_big_run.c: writes the run directory of a long synthetic run (the
 * analytics fixture: a random walk sampled every minute, trading every 997
 * samples) for the browser test: `make_big_run DIR N` records N samples in
 * book mode and writes DIR. Not a test itself: tests/browser/run.sh uses it to
 * check that a 5,000,000-sample report stays small and renders. */
#include <stdio.h>
#include <stdlib.h>

#include "analytics/run_fixture.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_big_run DIR N\n");
        return 2;
    }
    size_t n = (size_t)strtoull(argv[2], NULL, 10);
    brs_an_recorder *r = fixture_run(n, BRS_AN_BOOK);
    if (!r) {
        fprintf(stderr, "make_big_run: the fixture failed\n");
        return 1;
    }
    brs_error err = {0};
    brs_config cfg;
    int rc = brs__config_parse(&cfg, "{\"mode\": \"book\", \"note\": \"5M-sample fixture run\"}",
                               "big.json", &err);
    if (!rc)
        rc = brs__an_write_run(r, argv[1], &cfg, &err);
    if (rc)
        fprintf(stderr, "make_big_run: %s\n", err.msg);
    brs__config_free(&cfg);
    brs__an_destroy(r);
    return rc ? 1 : 0;
}
