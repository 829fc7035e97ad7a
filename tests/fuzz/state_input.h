/* state_input.h: the input layout of the harnesses fed damaged state
 * directories (fuzz_audit.c, fuzz_restart.c), so both share the seeds in
 * tests/fuzz/corpus-audit: a flags byte, the journal's length (4 bytes, little
 * endian, cut to what is there), the journal, then the store. */
#ifndef BRS_FUZZ_STATE_INPUT_H
#define BRS_FUZZ_STATE_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct state_input {
    uint8_t flags;
    const uint8_t *journal, *store;
    size_t journal_len, store_len;
} state_input;

/* 0 when the input is too short to hold the header. */
static inline int state_input_split(const uint8_t *data, size_t size, state_input *in)
{
    if (size < 5)
        return 0;
    uint32_t jl;
    memcpy(&jl, data + 1, 4);
    size_t rest = size - 5;
    if (jl > rest)
        jl = (uint32_t)rest;
    in->flags = data[0];
    in->journal = data + 5;
    in->journal_len = jl;
    in->store = data + 5 + jl;
    in->store_len = rest - jl;
    return 1;
}

#endif
