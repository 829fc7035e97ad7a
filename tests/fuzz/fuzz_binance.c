/* fuzz_binance.c: libFuzzer target for the Binance feed (host/feeds/binance.c):
 * its hand-written JSON scanner, the exact decimal parser, the snapshot and
 * update sync and the L2 book. The input is a series of lines; each line's
 * first byte says what the rest is: 'S' a REST depth snapshot for the symbol
 * named by the next byte, 'R' a recorded line for brs__bn_split_record, anything
 * else a WebSocket frame. Every event the feed emits is checked for what its
 * consumers rely on (kinds, sides, instrument ids, bar order); every refusal
 * must carry a message.
 * Built with clang by `make fuzz-binance`; tests/fuzz/CMakeLists.txt runs the
 * seed corpus (tests/fuzz/corpus-binance) through it as an ordinary test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/binance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const symbols[] = {"SUSHIUSDT", "CTKUSDT"};

static int check(void *ud, const brs_market_event *ev)
{
    const brs__bn_feed *f = ud;
    if (ev->instrument >= f->nsym || ev->kind >= BRS_MEV_KIND_COUNT_ || ev->side > BRS_SELL)
        abort();
    if (ev->kind == BRS_MEV_BAR && (ev->bar.low > ev->bar.high || ev->bar.open < ev->bar.low ||
                                    ev->bar.open > ev->bar.high || ev->bar.close < ev->bar.low ||
                                    ev->bar.close > ev->bar.high))
        abort();
    if ((ev->kind == BRS_MEV_LEVEL_SET && ev->qty <= 0) || (ev->kind == BRS_MEV_LEVEL_DELETE && ev->qty))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    brs__bn_feed f;
    brs__bn_feed_init(&f, check, &f);
    f.max_pending = 64;
    brs__bn_add_symbol(&f, symbols[0], -1, -1, NULL);
    brs__bn_add_symbol(&f, symbols[1], 5, 0, NULL);
    const char *p = (const char *)data, *end = p + size;
    int64_t t = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        brs_error err = {0};
        int rc = BRS_OK;
        if (len >= 2 && p[0] == 'S')
            rc = brs__bn_feed_snapshot(&f, symbols[(unsigned char)p[1] & 1], p + 2, len - 2, t, &err);
        else if (len >= 1 && p[0] == 'R') {
            int kind;
            int64_t ns;
            const char *j;
            size_t jn;
            char sym[BRS_SYMBOL_MAX];
            rc = brs__bn_split_record(p + 1, len - 1, &kind, &ns, &j, &jn, sym);
            if (rc == BRS_OK && kind && (j < p + 1 || j + jn > p + len))
                abort(); /* the JSON it found must lie inside the line */
            rc = BRS_OK;
        } else
            rc = brs__bn_feed_message(&f, p, len, t, &err);
        if (rc != BRS_OK && !err.msg[0] && p[0] != 'R')
            abort(); /* a refusal says why */
        t += 1000;
        p += len + (nl != NULL);
    }
    brs__bn_feed_free(&f);
    return 0;
}
