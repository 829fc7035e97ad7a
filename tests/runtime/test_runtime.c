/* test_runtime.c: the runtime's order path with several clients over two real
 * sim venues (lit, alt): direct routes match clients against each other and
 * every event goes back to the client that sent the order; a routed parent
 * larger than either venue's touch fills on both, each fill naming its venue,
 * cum/leaves the parent's; cancelling a partly filled posted parent ends it
 * with the rest; a venue that rejects everything makes the parent complete on
 * the other; a venue's refusal reaches the client as one REJECTED, whether
 * the venue reported it as an event or only returned its code; what
 * brs__rt_day_over marks on the wire expires at the venue on arrival. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/runtime.h"

#define MAXEV 64

typedef struct client {
    uint32_t id;
    brs_order_event ev[MAXEV];
    int n;
} client;

static void on_order(void *user, const brs_order_event *ev)
{
    client *c = user;
    assert_true(c->n < MAXEV);
    c->ev[c->n++] = *ev;
}

static const brs_instrument g_instr[1] = {{.id = 0, .symbol = "XYZ", .price_scale = 100, .tick_size = 1,
                                          .lot_size = 1}};

typedef struct world {
    brs_config cfg;
    brs__rt *rt;
} world;

static void open_world_books(world *w, const char *alt_params, int router, int from_venues)
{
    setenv("BOURSE_PLUGIN_PATH", BOURSE_PLUGIN_BUILD_DIR, 1);
    char text[2048];
    snprintf(text, sizeof text,
             "{\"venues\": [{\"name\": \"lit\", \"plugin\": \"sim\", \"params\": {\"taker_fee_bps\": 2}},"
             " {\"name\": \"alt\", \"plugin\": \"sim\", \"params\": {\"taker_fee_bps\": 1%s}}],"
             " \"router\": {\"enabled\": %s}}",
             alt_params, router ? "true" : "false");
    brs_error err = {0};
    assert_int_equal(brs__config_parse(&w->cfg, text, "test.json", &err), BRS_OK);
    brs__rt_opts o = {0};
    int rc = brs__rt_read_config(&w->cfg, w->cfg.root, "", &o, &err);
    if (rc)
        fail_msg("%s", err.msg);
    o.books_from_venues = from_venues;
    rc = brs__rt_create(&w->rt, &w->cfg, w->cfg.root, "", &o, g_instr, 1, NULL, 0, &err);
    if (rc)
        fail_msg("%s", err.msg);
    brs__rt_set_now(w->rt, 1000);
}

static void open_world(world *w, const char *alt_params, int router)
{
    open_world_books(w, alt_params, router, 1);
}

static void close_world(world *w)
{
    brs__rt_destroy(w->rt);
    brs__config_free(&w->cfg);
}

static void add(world *w, client *c, const char *route)
{
    brs_error err = {0};
    brs__rt_route r;
    assert_int_equal(brs__rt_route_parse(w->rt, route, &r, &err), BRS_OK);
    brs__rt_client_ops ops = {.user = c, .xOnOrder = on_order, .self_trade = 1};
    assert_int_equal(brs__rt_client_add(w->rt, &ops, r, &c->id, &err), BRS_OK);
}

static void order(world *w, client *c, uint64_t id, int side, int64_t px, int64_t qty, int tif)
{
    brs_order o = {.id = id, .instrument = 0, .side = (uint8_t)side, .type = BRS_LIMIT,
                   .tif = (uint8_t)tif, .price = px, .qty = qty};
    assert_int_equal(brs__rt_submit(w->rt, c->id, &o), BRS_OK);
    brs__rt_advance(w->rt, brs__rt_now(w->rt));
}

static int64_t filled(const client *c, uint64_t id, const char *venue, const brs__rt *rt)
{
    int64_t q = 0;
    for (int i = 0; i < c->n; i++)
        if (c->ev[i].kind == BRS_OEV_FILL && c->ev[i].order_id == id &&
            (!venue || !strcmp(brs__rt_venue_name(rt, c->ev[i].venue), venue)))
            q += c->ev[i].qty;
    return q;
}

static const brs_order_event *last_of(const client *c, uint64_t id, int kind)
{
    for (int i = c->n - 1; i >= 0; i--)
        if (c->ev[i].order_id == id && c->ev[i].kind == kind)
            return &c->ev[i];
    return NULL;
}

/* Two clients on one venue trade with each other; each hears its own order. */
static void test_direct_clients(void **state)
{
    (void)state;
    world w;
    open_world(&w, "", 0);
    client a = {0}, b = {0};
    add(&w, &a, "venue:lit");
    add(&w, &b, "venue:lit");
    order(&w, &a, 7, BRS_SELL, 100, 5, BRS_GTC);
    assert_non_null(last_of(&a, 7, BRS_OEV_ACCEPTED));
    order(&w, &b, 7, BRS_BUY, 100, 3, BRS_GTC); /* the same id in another client */
    assert_int_equal(filled(&a, 7, "lit", w.rt), 3);
    assert_int_equal(filled(&b, 7, "lit", w.rt), 3);
    assert_int_equal(last_of(&a, 7, BRS_OEV_FILL)->leaves, 2);
    /* a venue:alt route the other way does not see lit's book */
    assert_int_equal(brs__rt_cancel(w.rt, a.id, 7), BRS_OK);
    brs__rt_advance(w.rt, brs__rt_now(w.rt));
    assert_non_null(last_of(&a, 7, BRS_OEV_CANCELLED));
    assert_null(last_of(&b, 7, BRS_OEV_CANCELLED));
    close_world(&w);
}

static int count_of(const client *c, uint64_t id, int kind)
{
    int k = 0;
    for (int i = 0; i < c->n; i++)
        k += c->ev[i].order_id == id && c->ev[i].kind == kind;
    return k;
}

/* The sim venue reports a refusal as an event and returns its code too; the
 * runtime adds its own REJECTED only for a code with no event (the client
 * heard two for a post-only that would take before 2026-12-07, and the WebSocket
 * gateway sent both). */
static void test_refusal_one_reject(void **state)
{
    (void)state;
    {
        world w;
        open_world(&w, "", 0);
        client a = {0}, b = {0};
        add(&w, &a, "venue:alt");
        add(&w, &b, "venue:alt");
        order(&w, &a, 1, BRS_SELL, 100, 5, BRS_GTC);
        brs__rt_advance(w.rt, brs__rt_now(w.rt) + 1000000);
        assert_non_null(last_of(&a, 1, BRS_OEV_ACCEPTED));
        brs_order o = {.id = 2, .instrument = 0, .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_GTC,
                       .price = 100, .qty = 1, .flags = BRS_OF_POST_ONLY};
        assert_int_equal(brs__rt_submit(w.rt, b.id, &o), BRS_OK);
        brs__rt_advance(w.rt, brs__rt_now(w.rt) + 1000000);
        assert_int_equal(count_of(&b, 2, BRS_OEV_REJECTED), 1);
        assert_int_equal(last_of(&b, 2, BRS_OEV_REJECTED)->reason, BRS_E_WOULDTAKE);
        /* a refusal the venue makes only by its return code (a zero quantity) */
        brs_order z = {.id = 3, .instrument = 0, .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_GTC,
                       .price = 90, .qty = 0};
        int rc = brs__rt_submit(w.rt, b.id, &z);
        brs__rt_advance(w.rt, brs__rt_now(w.rt) + 1000000);
        assert_int_equal(count_of(&b, 3, BRS_OEV_REJECTED) + (rc < 0), 1);
        assert_int_equal(filled(&a, 1, NULL, w.rt), 0);
        close_world(&w);
    }
}

/* brs__rt_day_over's question: client b's order ids below 100 (those of "the
 * old day"). */
static uint32_t over_client;
static int over_asked;
static int over_old(void *user, uint32_t cl, uint64_t id, int replace)
{
    (void)user;
    (void)replace;
    over_asked++;
    return cl == over_client && id < 100;
}

/* What brs__rt_day_over marks on the wire (1 ms order entry) expires at the
 * venue on arrival: b's buy 1 crossing a's resting sell is acknowledged then
 * cancelled (its response latency after its arrival), never filled; b's
 * replace of its resting buy 2 to a crossing price cancels buy 2 there
 * instead; b's buy 100 (not marked) on the wire behind them fills the sell. */
static void test_day_over_on_the_wire(void **state)
{
    (void)state;
    world w;
    open_world(&w, "", 0);
    client a = {0}, b = {0};
    add(&w, &a, "venue:lit");
    add(&w, &b, "venue:lit");
    order(&w, &a, 1, BRS_SELL, 100, 1, BRS_GTC);
    order(&w, &b, 2, BRS_BUY, 50, 1, BRS_DAY);
    assert_non_null(last_of(&b, 2, BRS_OEV_ACCEPTED));
    brs__rt_set_latency(w.rt, 1000000, 0, 500);
    brs_order o = {.id = 1, .instrument = 0, .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_DAY, .price = 100,
                   .qty = 1};
    assert_int_equal(brs__rt_submit(w.rt, b.id, &o), BRS_OK);
    assert_int_equal(brs__rt_replace(w.rt, b.id, 2, 100, 1), BRS_OK);
    o.id = 100;
    o.tif = BRS_GTC;
    assert_int_equal(brs__rt_submit(w.rt, b.id, &o), BRS_OK);
    over_client = b.id;
    over_asked = 0;
    int64_t last = 0, t0 = brs__rt_now(w.rt);
    assert_int_equal(brs__rt_day_over(w.rt, over_old, NULL, &last), 2);
    assert_int_equal(over_asked, 3);
    assert_int_equal(last, t0 + 1000000);
    brs__rt_advance(w.rt, t0 + 1000000); /* on arrival: nothing heard yet */
    assert_null(last_of(&b, 1, BRS_OEV_ACCEPTED));
    brs__rt_advance(w.rt, t0 + 2000000);
    assert_int_equal(count_of(&b, 1, BRS_OEV_ACCEPTED), 1);
    assert_int_equal(count_of(&b, 1, BRS_OEV_CANCELLED), 1);
    int acc = -1, can = -1;
    for (int i = 0; i < b.n; i++)
        if (b.ev[i].order_id == 1)
            *(b.ev[i].kind == BRS_OEV_ACCEPTED ? &acc : &can) = i;
    assert_true(acc < can); /* New, then the expiry */
    assert_int_equal(last_of(&b, 1, BRS_OEV_CANCELLED)->qty, 1);
    assert_int_equal(filled(&b, 1, NULL, w.rt), 0);
    assert_int_equal(count_of(&b, 2, BRS_OEV_CANCELLED), 1);
    assert_int_equal(count_of(&b, 2, BRS_OEV_REPLACED), 0);
    assert_int_equal(filled(&b, 2, NULL, w.rt), 0);
    assert_int_equal(filled(&b, 100, NULL, w.rt), 1);
    assert_int_equal(filled(&a, 1, NULL, w.rt), 1);
    assert_int_equal(brs__rt_day_over(w.rt, over_old, NULL, &last), 0); /* nothing on the wire */
    assert_int_equal(last, INT64_MIN);
    close_world(&w);
}

/* A parent larger than either venue's touch fills on both. */
static void test_parent_two_venues(void **state)
{
    (void)state;
    world w;
    open_world(&w, "", 1);
    client lit = {0}, alt = {0}, t = {0};
    add(&w, &lit, "venue:lit");
    add(&w, &alt, "venue:alt");
    add(&w, &t, "sor");
    order(&w, &lit, 1, BRS_SELL, 100, 4, BRS_GTC);
    order(&w, &alt, 1, BRS_SELL, 101, 3, BRS_GTC);
    order(&w, &t, 9, BRS_BUY, 101, 6, BRS_IOC);
    assert_int_equal(filled(&t, 9, "lit", w.rt), 4);
    assert_int_equal(filled(&t, 9, "alt", w.rt), 2);
    const brs_order_event *f = last_of(&t, 9, BRS_OEV_FILL);
    assert_int_equal(f->cum_qty, 6);
    assert_int_equal(f->leaves, 0);
    assert_int_equal(filled(&lit, 1, NULL, w.rt), 4);
    assert_int_equal(filled(&alt, 1, NULL, w.rt), 2);
    close_world(&w);
}

/* A posted parent partly filled, then cancelled: CANCELLED with the rest. */
static void test_parent_cancel(void **state)
{
    (void)state;
    world w;
    open_world(&w, "", 1);
    client lit = {0}, t = {0};
    add(&w, &lit, "venue:lit");
    add(&w, &t, "sor");
    order(&w, &lit, 1, BRS_SELL, 100, 2, BRS_GTC);
    order(&w, &t, 5, BRS_BUY, 100, 10, BRS_GTC);
    assert_int_equal(filled(&t, 5, NULL, w.rt), 2);
    assert_null(last_of(&t, 5, BRS_OEV_CANCELLED));
    assert_int_equal(brs__rt_cancel(w.rt, t.id, 5), BRS_OK);
    brs__rt_advance(w.rt, brs__rt_now(w.rt));
    const brs_order_event *c = last_of(&t, 5, BRS_OEV_CANCELLED);
    assert_non_null(c);
    assert_int_equal(c->qty, 8);
    assert_int_equal(c->cum_qty, 2);
    /* nothing of the parent rests anywhere: a seller at 100 on either venue rests */
    client s = {0};
    add(&w, &s, "venue:alt");
    order(&w, &s, 3, BRS_SELL, 100, 1, BRS_GTC);
    assert_int_equal(filled(&s, 3, NULL, w.rt), 0);
    close_world(&w);
}

/* Both venues replay one feed (ask 100 x 5); alt, cheaper by fee, rejects every
 * order: the router's child there is refused and the parent completes on lit. */
static void test_failover(void **state)
{
    (void)state;
    world w;
    open_world_books(&w, ", \"reject_rate\": 1", 1, 0);
    client t = {0};
    add(&w, &t, "sor");
    brs_market_event ev = {.ts_exchange = 2000, .ts_local = 2000, .kind = BRS_MEV_LEVEL_SET,
                           .instrument = 0, .side = BRS_SELL, .price = 100, .qty = 5,
                           .flags = BRS_MEVF_LAST};
    brs__rt_replay(w.rt, &ev, 0);
    brs__rt_advance(w.rt, brs__rt_now(w.rt));
    order(&w, &t, 9, BRS_BUY, 100, 4, BRS_IOC);
    assert_int_equal(filled(&t, 9, "alt", w.rt), 0);
    assert_int_equal(filled(&t, 9, "lit", w.rt), 4);
    assert_int_equal(last_of(&t, 9, BRS_OEV_FILL)->cum_qty, 4);
    assert_null(last_of(&t, 9, BRS_OEV_REJECTED));
    close_world(&w);
}

/* queue_capacity bounds the client actions in flight: over it an action is
 * refused with BRS_E_AGAIN (not a failure that stops the runtime, as it once
 * was); what admitted actions cause (acks, every fill of a sweep) always finds
 * room; once the queue drains, actions are taken again. */
static void test_queue_full_recovers(void **state)
{
    (void)state;
    setenv("BOURSE_PLUGIN_PATH", BOURSE_PLUGIN_BUILD_DIR, 1);
    world w;
    brs_error err = {0};
    assert_int_equal(brs__config_parse(&w.cfg,
                                       "{\"venues\": [{\"name\": \"lit\", \"plugin\": \"sim\"}],"
                                       " \"queue_capacity\": 16,"
                                       " \"latency\": {\"order_entry_ns\": 1000, \"response_ns\": 1000}}",
                                       "test.json", &err),
                     BRS_OK);
    brs__rt_opts o = {0};
    assert_int_equal(brs__rt_read_config(&w.cfg, w.cfg.root, "", &o, &err), BRS_OK);
    o.books_from_venues = 1;
    if (brs__rt_create(&w.rt, &w.cfg, w.cfg.root, "", &o, g_instr, 1, NULL, 0, &err))
        fail_msg("%s", err.msg);
    brs__rt_set_now(w.rt, 1000);
    client a = {0}, b = {0};
    add(&w, &a, "venue:lit");
    add(&w, &b, "venue:lit");
    for (uint64_t id = 1; id <= 16; id++) { /* 16 resting sells in flight */
        brs_order x = {.id = id, .side = BRS_SELL, .type = BRS_LIMIT, .tif = BRS_GTC, .price = 100, .qty = 1};
        assert_int_equal(brs__rt_submit(w.rt, a.id, &x), BRS_OK);
    }
    assert_true(brs__rt_busy(w.rt));
    brs_order x = {.id = 17, .side = BRS_SELL, .type = BRS_LIMIT, .tif = BRS_GTC, .price = 100, .qty = 1};
    assert_int_equal(brs__rt_submit(w.rt, a.id, &x), BRS_E_AGAIN);
    assert_int_equal(brs__rt_cancel(w.rt, a.id, 1), BRS_E_AGAIN);
    assert_int_equal(brs__rt_replace(w.rt, a.id, 1, 101, 1), BRS_E_AGAIN);
    assert_int_equal(brs__rt_refused(w.rt), 3);
    assert_int_equal(brs__rt_failed(w.rt, NULL), 0);
    /* the 16 reach the venue and their acks come back, over the capacity */
    brs__rt_advance(w.rt, brs__rt_now(w.rt) + 10000);
    assert_int_equal(a.n, 16);
    assert_false(brs__rt_busy(w.rt));
    /* taken again; one buy sweeps all 16: 16 maker fills + 16 taker fills */
    brs_order t = {.id = 1, .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_IOC, .price = 100, .qty = 16};
    assert_int_equal(brs__rt_submit(w.rt, b.id, &t), BRS_OK);
    for (uint64_t id = 2; id <= 16; id++) { /* the queue full again behind it */
        brs_order y = {.id = id, .side = BRS_BUY, .type = BRS_LIMIT, .tif = BRS_GTC, .price = 1, .qty = 1};
        assert_int_equal(brs__rt_submit(w.rt, b.id, &y), BRS_OK);
    }
    assert_true(brs__rt_busy(w.rt));
    brs__rt_advance(w.rt, brs__rt_now(w.rt) + 10000);
    assert_int_equal(filled(&b, 1, "lit", w.rt), 16);
    for (uint64_t id = 1; id <= 16; id++)
        assert_int_equal(filled(&a, id, "lit", w.rt), 1);
    assert_int_equal(brs__rt_failed(w.rt, NULL), 0);
    close_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_clients),
        cmocka_unit_test(test_refusal_one_reject),
        cmocka_unit_test(test_parent_two_venues),
        cmocka_unit_test(test_parent_cancel),
        cmocka_unit_test(test_failover),
        cmocka_unit_test(test_queue_full_recovers),
        cmocka_unit_test(test_day_over_on_the_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
