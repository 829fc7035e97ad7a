/* test_market_maker.c: the C market maker (plugins/strategies/market_maker)
 * through the loader with a recording host: symmetric quotes when flat, the
 * reservation price skews against inventory, gamma = 0 does not skew, the
 * inventory limit stops the growing side, the hard stop cancels everything,
 * requotes only on moves of requote_ticks, and stop cancels all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/loader.h"

typedef struct kv {
    const char *name;
    double v;
} kv;

typedef struct live {
    uint64_t id;
    int side;
    int64_t price;
} live;

struct brs_ctx {
    const kv *params;
    int64_t position;
    int64_t tick;
    uint64_t next_id;
    live orders[16];
    int n_orders;
    int submits, replaces, cancels, cancel_alls;
};

static int64_t h_now(brs_ctx *c) { (void)c; return 0; }
static void h_log(brs_ctx *c, int l, const char *m) { (void)c; (void)l; (void)m; }
static int h_int(brs_ctx *c, const char *n, int64_t *o)
{
    for (const kv *p = c->params; p && p->name; p++)
        if (strcmp(p->name, n) == 0) {
            *o = (int64_t)p->v;
            return BRS_OK;
        }
    return BRS_E_NOTFOUND;
}
static int h_dbl(brs_ctx *c, const char *n, double *o)
{
    for (const kv *p = c->params; p && p->name; p++)
        if (strcmp(p->name, n) == 0) {
            *o = p->v;
            return BRS_OK;
        }
    return BRS_E_NOTFOUND;
}
static int h_str(brs_ctx *c, const char *n, const char **o) { (void)c; (void)n; (void)o; return BRS_E_NOTFOUND; }
static uint32_t h_count(brs_ctx *c) { (void)c; return 1; }
static int h_inst(brs_ctx *c, uint32_t id, brs_instrument *o)
{
    memset(o, 0, sizeof *o);
    o->id = id;
    o->tick_size = c->tick;
    o->lot_size = 1;
    return BRS_OK;
}
static int h_find(brs_ctx *c, const char *s, uint32_t *id) { (void)c; (void)s; *id = 0; return BRS_OK; }
static live *find(brs_ctx *c, uint64_t id)
{
    for (int i = 0; i < c->n_orders; i++)
        if (c->orders[i].id == id)
            return &c->orders[i];
    return NULL;
}
static int h_submit(brs_ctx *c, const brs_order *o, uint64_t *id)
{
    assert_true(c->n_orders < 16);
    assert_true(o->flags & BRS_OF_POST_ONLY);
    *id = ++c->next_id;
    c->orders[c->n_orders++] = (live){*id, o->side, o->price};
    c->submits++;
    return BRS_OK;
}
static void drop(brs_ctx *c, live *l)
{
    *l = c->orders[--c->n_orders];
}
static int h_cancel(brs_ctx *c, uint64_t id)
{
    live *l = find(c, id);
    if (!l)
        return BRS_E_UNKNOWNORDER;
    drop(c, l);
    c->cancels++;
    return BRS_OK;
}
static int h_replace(brs_ctx *c, uint64_t id, int64_t p, int64_t q)
{
    (void)q;
    live *l = find(c, id);
    if (!l)
        return BRS_E_UNKNOWNORDER;
    l->price = p;
    c->replaces++;
    return BRS_OK;
}
static int h_cancel_all(brs_ctx *c, uint32_t i)
{
    (void)i;
    c->n_orders = 0;
    c->cancel_alls++;
    return BRS_OK;
}
static int h_position(brs_ctx *c, uint32_t i, brs_position *o)
{
    memset(o, 0, sizeof *o);
    o->instrument = i;
    o->qty = c->position;
    return BRS_OK;
}

static const brs_host test_host = {
    .size = sizeof(brs_host), .abi_major = BRS_ABI_MAJOR, .abi_minor = BRS_ABI_MINOR,
    .xNow = h_now, .xLog = h_log, .xParamInt = h_int, .xParamDouble = h_dbl,
    .xParamString = h_str, .xInstrumentCount = h_count, .xInstrument = h_inst,
    .xInstrumentFind = h_find, .xSubmit = h_submit, .xCancel = h_cancel, .xReplace = h_replace,
    .xCancelAll = h_cancel_all, .xPosition = h_position,
};

typedef struct fx {
    brs_plugin p;
    brs_plugin_instance inst;
    const brs_strategy_vtable *vt;
    brs_ctx ctx;
} fx;

static fx *open_mm(const kv *params, int64_t tick)
{
    fx *f = calloc(1, sizeof *f);
    brs_error err = {0};
    if (brs__plugin_load(&f->p, BOURSE_PLUGIN_BUILD_DIR "/market_maker.so", &err))
        fail_msg("load: %s", err.msg);
    f->vt = brs__plugin_strategy(&f->p);
    f->ctx.params = params;
    f->ctx.tick = tick;
    if (brs__plugin_instance_open(&f->inst, &f->p, &test_host, &f->ctx, &err))
        fail_msg("open: %s", err.msg);
    assert_int_equal(f->vt->xStart(f->inst.self), 0);
    return f;
}

static void close_mm(fx *f)
{
    brs__plugin_instance_close(&f->inst);
    brs__plugin_unload(&f->p);
    free(f);
}

static void top(fx *f, int64_t ts, int64_t bid, int64_t ask)
{
    brs_top t = {.ts = ts, .bid_price = bid, .bid_qty = 5, .ask_price = ask, .ask_qty = 5};
    assert_int_equal(f->vt->xOnTop(f->inst.self, &t), 0);
}

static int64_t quote_of(const fx *f, int side)
{
    for (int i = 0; i < f->ctx.n_orders; i++)
        if (f->ctx.orders[i].side == side)
            return f->ctx.orders[i].price;
    return 0;
}

static const kv base[] = {{"gamma", 0.5}, {"k", 0.5}, {"sigma_init", 1.0}, {"tau", 1.0},
                          {"inventory_limit", 3}, {"hard_stop", 6}, {"requote_ticks", 2}, {0}};

static void test_params_declared(void **st)
{
    (void)st;
    fx *f = open_mm(NULL, 1);
    assert_true(f->vt->n_params >= 8);
    for (uint32_t i = 0; i < f->vt->n_params; i++) {
        const brs_param_def *d = &f->vt->params[i];
        assert_non_null(d->name);
        assert_non_null(d->help);
        if (d->type != BRS_PARAM_STRING && d->min <= d->max)
            assert_true(d->def >= d->min && d->def <= d->max);
    }
    close_mm(f);
}

static void test_symmetric_then_skewed(void **st)
{
    (void)st;
    static const kv p[] = {{"gamma", 0.5}, {"k", 0.5}, {"sigma_init", 1.0}, {"tau", 1.0},
                           {"inventory_limit", 3}, {"requote_ticks", 1}, {0}};
    fx *f = open_mm(p, 5);
    top(f, 1, 1000, 1010); /* mid 201 ticks */
    int64_t b0 = quote_of(f, BRS_BUY), a0 = quote_of(f, BRS_SELL);
    assert_true(b0 > 0 && a0 > b0);
    assert_int_equal(b0 % 5, 0);
    assert_int_equal(a0 % 5, 0);
    assert_int_equal(1005 - b0, a0 - 1005); /* symmetric around the mid */
    /* long 2: the reservation price drops by q gamma sigma^2 tau = 1 tick per unit */
    f->ctx.position = 2;
    top(f, 1, 1000, 1010);
    int64_t b1 = quote_of(f, BRS_BUY), a1 = quote_of(f, BRS_SELL);
    assert_int_equal(b1, b0 - 5);
    assert_int_equal(a1, a0 - 5);
    close_mm(f);
}

static void test_gamma_zero_no_skew(void **st)
{
    (void)st;
    static const kv p[] = {{"gamma", 0}, {"k", 0.5}, {"inventory_limit", 3}, {0}};
    fx *f = open_mm(p, 1);
    top(f, 1, 100, 110);
    int64_t b0 = quote_of(f, BRS_BUY), a0 = quote_of(f, BRS_SELL);
    f->ctx.position = 2;
    top(f, 1, 100, 110);
    assert_int_equal(quote_of(f, BRS_BUY), b0);
    assert_int_equal(quote_of(f, BRS_SELL), a0);
    assert_int_equal(f->ctx.replaces, 0);
    close_mm(f);
}

static void test_inventory_limit_and_hard_stop(void **st)
{
    (void)st;
    fx *f = open_mm(base, 1);
    f->ctx.position = 3; /* at the limit: only the reducing (sell) side */
    top(f, 1, 100, 110);
    assert_int_equal(quote_of(f, BRS_BUY), 0);
    assert_true(quote_of(f, BRS_SELL) > 0);
    f->ctx.position = -3;
    top(f, 2, 100, 110);
    assert_true(quote_of(f, BRS_BUY) > 0);
    assert_int_equal(quote_of(f, BRS_SELL), 0);
    f->ctx.position = -6; /* hard stop */
    top(f, 3, 100, 110);
    assert_int_equal(f->ctx.n_orders, 0);
    assert_int_equal(f->ctx.cancel_alls, 1);
    int subs = f->ctx.submits;
    f->ctx.position = 0;
    top(f, 4, 100, 110); /* stays stopped */
    assert_int_equal(f->ctx.submits, subs);
    close_mm(f);
}

static void test_requote_threshold_and_stop(void **st)
{
    (void)st;
    static const kv p[] = {{"gamma", 0}, {"k", 0.5}, {"requote_ticks", 2}, {0}};
    fx *f = open_mm(p, 1);
    top(f, 1, 100, 110);
    int64_t b0 = quote_of(f, BRS_BUY);
    top(f, 2, 101, 111); /* desired moves 1 tick: keep the queue place */
    assert_int_equal(f->ctx.replaces, 0);
    assert_int_equal(quote_of(f, BRS_BUY), b0);
    top(f, 3, 102, 112); /* 2 ticks from the working quote: move */
    assert_int_equal(f->ctx.replaces, 2);
    assert_int_equal(quote_of(f, BRS_BUY), b0 + 2);
    assert_int_equal(f->vt->xStop(f->inst.self), 0);
    assert_int_equal(f->ctx.n_orders, 0);
    assert_true(f->ctx.cancel_alls >= 1);
    close_mm(f);
}

static void test_bad_param(void **st)
{
    (void)st;
    static const kv p[] = {{"k", -1}, {0}};
    brs_plugin pl = {0};
    brs_plugin_instance inst = {0};
    brs_error err = {0};
    brs_ctx ctx = {.params = p, .tick = 1};
    assert_int_equal(brs__plugin_load(&pl, BOURSE_PLUGIN_BUILD_DIR "/market_maker.so", &err), 0);
    assert_int_equal(brs__plugin_instance_open(&inst, &pl, &test_host, &ctx, &err), BRS_E_PLUGINOPEN);
    assert_non_null(strstr(err.msg, "bounds"));
    brs__plugin_unload(&pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_declared),
        cmocka_unit_test(test_symmetric_then_skewed),
        cmocka_unit_test(test_gamma_zero_no_skew),
        cmocka_unit_test(test_inventory_limit_and_hard_stop),
        cmocka_unit_test(test_requote_threshold_and_stop),
        cmocka_unit_test(test_bad_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
