/* test_book_ids.c: the engine's id index (host/book/idhash.h) must not change
 * what the engine does: the same random order flow is run through two engines,
 * one with dense ids (each owns its direct slot) and one whose ids all share a
 * few direct slots (nearly every id goes through the overflow hash), and every
 * return code, event and query must match once the ids are mapped back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book/book_impl.h"
#include "recorder.h"

#define SHIFT 24 /* colliding ids: k << SHIFT | (k & 3): 4 direct slots for all */

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static uint64_t wide(uint64_t k) { return k ? k << SHIFT | (k & 3) : 0; }
static uint64_t narrow(uint64_t id) { return id >> SHIFT; }

typedef struct side_by_side {
    brs_engine *a, *b; /* a: dense ids, b: colliding ids */
    recorder ra, rb;
} side_by_side;

static void same_events(side_by_side *s, int rca, int rcb, uint64_t step)
{
    if (rca != rcb)
        fail_msg("step %llu: rc %d (dense ids) vs %d (colliding ids)", (unsigned long long)step, rca, rcb);
    assert_false(s->ra.overflow || s->rb.overflow);
    assert_int_equal(s->ra.n, s->rb.n);
    for (int i = 0; i < s->ra.n; i++) {
        rec_event x = s->ra.ev[i], y = s->rb.ev[i];
        if (y.kind != EV_LEVEL && y.kind != EV_TOP) {
            y.id = y.kind == EV_REJECTED && y.id >> SHIFT == 0 ? y.id : narrow(y.id);
            y.id2 = narrow(y.id2);
        }
        if (memcmp(&x, &y, sizeof x) != 0)
            fail_msg("step %llu event %d: kind %d id %llu qty %lld vs kind %d id %llu qty %lld",
                     (unsigned long long)step, i, x.kind, (unsigned long long)x.id, (long long)x.qty,
                     y.kind, (unsigned long long)y.id, (long long)y.qty);
    }
}

static void test_colliding_ids_behave_as_dense_ids(void **state)
{
    (void)state;
    side_by_side *s = calloc(1, sizeof *s);
    assert_non_null(s);
    brs_book_listener la = rec_listener(&s->ra), lb = rec_listener(&s->rb);
    /* 2^16 direct slots: the ~28k dense ids never share one */
    brs_engine_config cfg = {.max_orders = 1u << 15, .max_instruments = 2, .window_ticks = 64};
    assert_int_equal(brs__engine_create(&s->a, &cfg, &la, NULL), BRS_OK);
    assert_int_equal(brs__engine_create(&s->b, &cfg, &lb, NULL), BRS_OK);
    uint64_t next = 1;
    uint32_t max_over = 0;
    for (uint64_t step = 0; step < 60000; step++) {
        rec_clear(&s->ra);
        rec_clear(&s->rb);
        int op = (int)(rnd() % 100), rca, rcb;
        uint64_t k = 1 + rnd() % (next + 3); /* sometimes an id not issued yet */
        if (op < 45) {
            brs_order o = {.id = next++, .instrument = (uint32_t)(rnd() & 1), .side = (uint8_t)(rnd() & 1),
                           .qty = 1 + (int64_t)(rnd() % 9), .type = BRS_LIMIT, .tif = BRS_GTC,
                           .account = 1 + (uint32_t)(rnd() % 3)};
            o.price = 1000 + (o.side == BRS_BUY ? -1 : 1) * ((int64_t)(rnd() % 12) - 3);
            int kind = (int)(rnd() % 20);
            if (kind == 0)
                o.tif = BRS_IOC;
            else if (kind == 1)
                o.tif = BRS_FOK;
            else if (kind == 2)
                o.tif = BRS_DAY;
            else if (kind == 3)
                o.stp = (uint8_t)(1 + rnd() % 3);
            else if (kind == 4)
                o.id = k, next--; /* maybe a live id: BRS_E_EXISTS */
            brs_order w = o;
            w.id = wide(o.id);
            rca = brs__engine_submit(s->a, &o);
            rcb = brs__engine_submit(s->b, &w);
        } else if (op < 70) {
            rca = brs__engine_cancel(s->a, k);
            rcb = brs__engine_cancel(s->b, wide(k));
        } else if (op < 88) {
            int64_t price = 1000 + (int64_t)(rnd() % 16) - 8, qty = 1 + (int64_t)(rnd() % 12);
            rca = brs__engine_replace(s->a, k, price, qty);
            rcb = brs__engine_replace(s->b, wide(k), price, qty);
        } else if (op < 93) {
            int64_t q = 1 + (int64_t)(rnd() % 6);
            rca = brs__engine_reduce(s->a, k, q);
            rcb = brs__engine_reduce(s->b, wide(k), q);
        } else if (op < 98) {
            rca = brs__engine_delete(s->a, k);
            rcb = brs__engine_delete(s->b, wide(k));
        } else if (op < 99) {
            brs__engine_end_of_day(s->a, BRS_BOOK_NO_INSTRUMENT);
            brs__engine_end_of_day(s->b, BRS_BOOK_NO_INSTRUMENT);
            rca = rcb = 0;
        } else {
            /* a passive insert (replayed exchange data) */
            uint64_t id = next++;
            int sd = (int)(rnd() & 1);
            int64_t p = 1000 + (sd == BRS_BUY ? -4 : 4);
            rca = brs__engine_insert(s->a, 1, id, sd, p, 3);
            rcb = brs__engine_insert(s->b, 1, wide(id), sd, p, 3);
        }
        same_events(s, rca, rcb, step);
        /* queries of a random id agree too */
        brs_order_info oa, ob;
        int qa = brs__engine_order(s->a, k, &oa), qb = brs__engine_order(s->b, wide(k), &ob);
        assert_int_equal(qa, qb);
        if (qa == BRS_OK) {
            assert_int_equal(narrow(ob.id), oa.id);
            assert_int_equal(oa.leaves, ob.leaves);
            int64_t aa, ab;
            assert_int_equal(brs__engine_queue_position(s->a, k, &aa), BRS_OK);
            assert_int_equal(brs__engine_queue_position(s->b, wide(k), &ab), BRS_OK);
            assert_int_equal(aa, ab);
        }
        assert_int_equal(brs__engine_live_orders(s->a), brs__engine_live_orders(s->b));
        max_over = s->b->over > max_over ? s->b->over : max_over;
        assert_int_equal(s->a->over, 0); /* dense ids never collide here */
        if (step % 20000 == 19999) {
            brs__engine_reset(s->a);
            brs__engine_reset(s->b);
            assert_int_equal(s->b->over, 0);
        }
    }
    /* the colliding engine really ran on the overflow hash */
    assert_true(max_over > 50);
    brs__engine_destroy(s->a);
    brs__engine_destroy(s->b);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colliding_ids_behave_as_dense_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
