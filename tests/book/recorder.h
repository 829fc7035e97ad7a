/* recorder.h: a book listener for the tests that records every event, so tests
 * can assert on exactly what the engine reported. */
#ifndef BRS_TEST_RECORDER_H
#define BRS_TEST_RECORDER_H

#include <stdint.h>

#include "book/book.h"

enum { EV_ACCEPTED, EV_REJECTED, EV_FILL, EV_CANCELLED, EV_REPLACED, EV_LEVEL, EV_TOP };

typedef struct rec_event {
    int kind;
    uint32_t instrument;
    int side;
    int reason;
    uint64_t id, id2;      /* fills: maker, taker */
    int64_t price, qty;
    int64_t a, b;          /* fills: maker/taker leaves; replaced: leaves; level: orders */
} rec_event;

#define REC_MAX 4096
typedef struct recorder {
    rec_event ev[REC_MAX];
    int n;
    int overflow;
} recorder;

brs_book_listener rec_listener(recorder *r);
void rec_clear(recorder *r);
/* Index of the i-th event of kind (0-based), or -1. */
int rec_find(const recorder *r, int kind, int nth);
int rec_count(const recorder *r, int kind);

#endif
