/* fuzz_audit.c: libFuzzer target for `bourse audit`'s readers (the order
 * journal: FIX requests, risk refusals, routed children, WebSocket requests
 * and reports; a session store: ExecutionReports, cancel rejects, batch
 * marks and resets) and what follows them: linking, ordering and printing.
 * A state directory may be damaged or hand-made: any bytes must give rows or a
 * clear error, never a crash. Input: a flags byte (bit 0: the store is an
 * archived one; bit 1: JSON output), the journal's length (4 bytes, little
 * endian, cut to what is there), the journal, then the store. Built with clang
 * by `make fuzz-audit`; tests/fuzz/CMakeLists.txt runs the seed corpus
 * (tests/fuzz/corpus-audit) through it as an ordinary test. The same input
 * is read again with the smallest memory limit (audit_spill.c: sorted runs in
 * temporary files under $TMPDIR or /tmp): its output must be the in-memory
 * output byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ops/audit_internal.h"
#include "state_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int ok)
{
    if (!ok)
        abort();
}

/* The audit of j and s through the spill path, as text in *out (NULL: it
 * was refused, as the in-memory path refuses). */
static void spilled(const mapped *j, const mapped *s, uint8_t flags, char **out, size_t *len)
{
    *out = NULL;
    audit a = {0};
    a.msg = malloc(sizeof *a.msg);
    need(a.msg != NULL);
    brs__fix_msg_init(a.msg);
    const char *tmp = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    brs__aud_spill *sp = brs__aud_spill_new(&a, 64u << 10, tmp);
    need(sp != NULL);
    brs_error err = {0};
    size_t end = 0;
    if (brs__aud_journal_commit(&a, j, "fuzz.journal", &end, &err) == BRS_OK &&
        brs__aud_read_journal(&a, j, end, &err) == BRS_OK) {
        brs__aud_read_store_bytes(&a, s, "fuzz.store", flags & 1);
        need(a.oom != 2); /* the spill itself never fails here */
        if (!a.oom && !a.damage[0]) {
            FILE *m = open_memstream(out, len);
            need(m != NULL);
            brs__aud_filter f = {.since = INT64_MIN, .until = INT64_MAX};
            if (brs__aud_spilled(sp))
                need(brs__aud_spill_print(sp, &f, flags & 2, m, &err) == 0);
            else
                need(brs__aud_build(&a) == BRS_OK && brs__aud_print(&a, &f, flags & 2, m) == 0);
            fclose(m);
        }
    }
    brs__aud_spill_free(sp);
    brs__aud_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    brs__log_min_level = BRS_LOG_WARN; /* the spill path's INFO lines */
    if (!sink && !(sink = fopen("/dev/null", "w")))
        return 0;
    state_input in;
    if (!state_input_split(data, size, &in))
        return 0;
    uint8_t flags = in.flags;
    size_t jl = in.journal_len, rest = in.journal_len + in.store_len;
    /* copies, so reading past either part is caught */
    unsigned char *jb = malloc(jl ? jl : 1), *sb = malloc(rest - jl ? rest - jl : 1);
    need(jb && sb);
    memcpy(jb, in.journal, jl);
    memcpy(sb, in.store, rest - jl);
    mapped j = {jl ? jb : NULL, jl, 0}, s = {rest - jl ? sb : NULL, rest - jl, 0};

    audit a = {0};
    a.msg = malloc(sizeof *a.msg);
    need(a.msg != NULL);
    brs__fix_msg_init(a.msg);
    brs_error err = {0};
    size_t end = 0;
    int rc = brs__aud_journal_commit(&a, &j, "fuzz.journal", &end, &err);
    need(rc == BRS_OK ? end <= jl && a.cut_journal == jl - end : rc == BRS_E_CORRUPT && err.msg[0] != 0);
    if (rc == BRS_OK)
        rc = brs__aud_read_journal(&a, &j, end, &err);
    need(rc == BRS_OK || err.msg[0]); /* a refusal says why */
    if (rc == BRS_OK) {
        brs__aud_read_store_bytes(&a, &s, "fuzz.store", flags & 1);
        if (!a.oom && !a.damage[0] && brs__aud_build(&a) == BRS_OK) {
            for (size_t i = 0; i < a.n; i++) { /* every string lies in the text */
                const aev *e = &a.ev[i];
                need(e->event != NULL && e->source != NULL);
                need(!e->session || e->session < a.text_len);
                need(!e->order_id || e->order_id < a.text_len);
                need(!e->reason || e->reason < a.text_len);
            }
            brs__aud_filter f = {.since = INT64_MIN, .until = INT64_MAX};
            need(brs__aud_print(&a, &f, flags & 2, sink) == 0);
            /* the same through the spill path: the same bytes */
            char *mem = NULL, *sp = NULL;
            size_t mem_len = 0, sp_len = 0;
            FILE *m = open_memstream(&mem, &mem_len);
            need(m != NULL && brs__aud_print(&a, &f, flags & 2, m) == 0);
            fclose(m);
            spilled(&j, &s, flags, &sp, &sp_len);
            need(sp != NULL && sp_len == mem_len && !memcmp(sp, mem, mem_len));
            free(mem);
            free(sp);
        }
    }
    brs__aud_free(&a);
    free(jb);
    free(sb);
    return 0;
}
