/* book_mode.c: the book-mode driver (book_mode.h). Not built yet: every entry
 * says so, so `mode: book` fails with a clear message instead of a wrong run. */
#include "book_mode.h"
#include "core/core.h"

int brs__book_read_config(brs_config *cfg, brs__book_opts *o, brs_error *err)
{
    (void)o;
    return brs__err(err, BRS_E_UNSUPPORTED, "%s: mode book is not built yet (use mode signal)",
                    cfg->source);
}
int brs__book_create(brs__book_run **out, brs_config *cfg, const brs__book_opts *o, brs_error *err)
{
    (void)o;
    *out = NULL;
    return brs__err(err, BRS_E_UNSUPPORTED, "%s: mode book is not built yet", cfg->source);
}
const brs_instrument *brs__book_instruments(brs__book_run *b, uint32_t *n)
{
    (void)b;
    *n = 0;
    return NULL;
}
brs__exec brs__book_exec(brs__book_run *b)
{
    return (brs__exec){.self = b};
}
int brs__book_run_loop(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, int progress,
                       brs__bt_result *res, brs_error *err)
{
    (void)b, (void)sc, (void)rec, (void)progress, (void)res;
    return brs__err(err, BRS_E_UNSUPPORTED, "mode book is not built yet");
}
int brs__book_finish(brs__book_run *b, brs__sctx *sc, brs_an_recorder *rec, brs_error *err)
{
    (void)b, (void)sc, (void)rec, (void)err;
    return BRS_OK;
}
void brs__book_destroy(brs__book_run *b) { (void)b; }
