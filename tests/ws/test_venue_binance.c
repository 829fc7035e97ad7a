/* test_venue_binance.c: the binance venue plugin, loaded like any plugin (the
 * host's loader, a host-services table of our own), fed by the loopback replay
 * server: the connection drops mid-stream, the plugin reconnects and resyncs by
 * itself, and its xDepth/xTop end equal to the server's own final book. Also:
 * bad parameters fail xOpen with a clear message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "feeds/binance.h"
#include "plugin/loader.h"
#include "replay_server.h"

#define PLUGIN BOURSE_BINARY_DIR "/plugins/binance.so"

/* The run's instruments, deliberately not in the feed's order. */
static const struct {
    const char *sym;
    int64_t scale;
} instr[] = {{"CTKUSDT", 100000}, {"KEEPUSDT", 10000}, {"AKROUSDT", 100000}, {"SUSHIUSDT", 10000}};
#define NI 4

typedef struct fake {
    char ws_url[128], rest_url[192];
    const char *symbols;
    uint64_t events[NI], last_flags, bad_instrument, snapshots;
    int64_t last_local;
    int verbose;
} fake;
static fake F;

static int64_t f_now(brs_ctx *c) { (void)c; return brs__realtime_ns(); }
static void f_log(brs_ctx *c, int level, const char *msg)
{
    (void)c;
    if (F.verbose || level >= 3)
        printf("[plugin %d] %s\n", level, msg);
}
static int f_int(brs_ctx *c, const char *name, int64_t *out)
{
    (void)c;
    if (strcmp(name, "backoff_min_ms") == 0) {
        *out = 50;
        return BRS_OK;
    }
    if (strcmp(name, "qty_decimals") == 0) {
        *out = 0;
        return BRS_OK;
    }
    return BRS_E_NOTFOUND;
}
static int f_str(brs_ctx *c, const char *name, const char **out)
{
    (void)c;
    if (strcmp(name, "ws_url") == 0 && F.ws_url[0])
        *out = F.ws_url;
    else if (strcmp(name, "rest_url") == 0)
        *out = F.rest_url;
    else if (strcmp(name, "symbols") == 0 && F.symbols)
        *out = F.symbols;
    else
        return BRS_E_NOTFOUND;
    return BRS_OK;
}
static uint32_t f_count(brs_ctx *c) { (void)c; return NI; }
static int f_instr(brs_ctx *c, uint32_t id, brs_instrument *out)
{
    (void)c;
    if (id >= NI)
        return BRS_E_NOTFOUND;
    memset(out, 0, sizeof *out);
    out->id = id;
    snprintf(out->symbol, sizeof out->symbol, "%s", instr[id].sym);
    out->price_scale = instr[id].scale;
    out->tick_size = out->lot_size = 1;
    return BRS_OK;
}
static int f_find(brs_ctx *c, const char *sym, uint32_t *id)
{
    (void)c;
    for (uint32_t i = 0; i < NI; i++)
        if (strcmp(instr[i].sym, sym) == 0) {
            *id = i;
            return BRS_OK;
        }
    return BRS_E_NOTFOUND;
}
static int f_emit(brs_ctx *c, const brs_market_event *ev)
{
    (void)c;
    if (ev->instrument >= NI) {
        F.bad_instrument++;
        return BRS_OK;
    }
    F.events[ev->instrument]++;
    if (ev->flags & BRS_MEVF_LAST)
        F.last_flags++;
    if (ev->kind == BRS_MEV_SNAPSHOT_BEGIN)
        F.snapshots++;
    return BRS_OK;
}

static brs_host make_host(void)
{
    brs_host h;
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.abi_major = BRS_ABI_MAJOR;
    h.abi_minor = BRS_ABI_MINOR;
    h.xNow = f_now;
    h.xLog = f_log;
    h.xParamInt = f_int;
    h.xParamString = f_str;
    h.xInstrumentCount = f_count;
    h.xInstrument = f_instr;
    h.xInstrumentFind = f_find;
    h.xEmitMarketEvent = f_emit;
    return h;
}

static void test_bad_params(void **st)
{
    (void)st;
    brs_plugin p;
    brs_error e = {0};
    assert_int_equal(brs__plugin_load(&p, PLUGIN, &e), BRS_OK);
    brs_host h = make_host();
    brs_plugin_instance inst = {0};
    memset(&F, 0, sizeof F);
    /* no ws_url */
    assert_int_equal(brs__plugin_instance_open(&inst, &p, &h, NULL, &e), BRS_E_PLUGINOPEN);
    assert_non_null(strstr(e.msg, "ws_url"));
    /* a symbol the run does not have */
    snprintf(F.ws_url, sizeof F.ws_url, "ws://127.0.0.1:1/stream");
    snprintf(F.rest_url, sizeof F.rest_url, "http://127.0.0.1:1/depth?symbol={SYMBOL}");
    F.symbols = "SUSHIUSDT,NOPEUSDT";
    assert_int_equal(brs__plugin_instance_open(&inst, &p, &h, NULL, &e), BRS_E_PLUGINOPEN);
    assert_non_null(strstr(e.msg, "NOPEUSDT"));
    /* a REST url without {SYMBOL} */
    F.symbols = NULL;
    snprintf(F.rest_url, sizeof F.rest_url, "http://127.0.0.1:1/depth");
    assert_int_equal(brs__plugin_instance_open(&inst, &p, &h, NULL, &e), BRS_E_PLUGINOPEN);
    assert_non_null(strstr(e.msg, "{SYMBOL}"));
    /* good parameters, nothing listening: opens, polls without blocking, no book yet */
    snprintf(F.rest_url, sizeof F.rest_url, "http://127.0.0.1:1/depth?symbol={SYMBOL}");
    assert_int_equal(brs__plugin_instance_open(&inst, &p, &h, NULL, &e), BRS_OK);
    const brs_venue_vtable *vt = brs__plugin_venue(&p);
    for (int i = 0; i < 20; i++)
        assert_true(vt->xPoll(inst.self, 0) >= 0);
    brs_top top;
    assert_int_equal(vt->xTop(inst.self, 3, &top), BRS_E_AGAIN);
    assert_int_equal(vt->xTop(inst.self, 99, &top), BRS_E_NOTFOUND);
    brs_order o = {0};
    assert_int_equal(vt->xSubmit(inst.self, &o), BRS_E_UNSUPPORTED);
    brs__plugin_instance_close(&inst);
    brs__plugin_unload(&p);
}

/* 1 when every instrument's xDepth equals the server's final book. */
static int books_match(const brs_venue_vtable *vt, void *self, cJSON *final, int report)
{
    static brs_level lv[4096];
    for (uint32_t i = 0; i < NI; i++) {
        cJSON *b = cJSON_GetObjectItemCaseSensitive(final, instr[i].sym);
        const char *keys[2] = {"bids", "asks"};
        int pdec = instr[i].scale == 10000 ? 4 : 5;
        for (int s = 0; s < 2; s++) {
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(b, keys[s]);
            uint32_t n = 0;
            if (vt->xDepth(self, i, (uint8_t)s, lv, 4096, &n) != BRS_OK) {
                if (report)
                    printf("%s: no book (resyncing)\n", instr[i].sym);
                return 0;
            }
            if (n != (uint32_t)cJSON_GetArraySize(arr)) {
                if (report)
                    printf("%s %s: %u levels, server %d\n", instr[i].sym, keys[s], n,
                           cJSON_GetArraySize(arr));
                return 0;
            }
            uint32_t k = 0;
            cJSON *it;
            cJSON_ArrayForEach(it, arr)
            {
                int pd = pdec, qd = 0;
                int64_t p, q;
                const char *ps = cJSON_GetArrayItem(it, 0)->valuestring;
                const char *qs = cJSON_GetArrayItem(it, 1)->valuestring;
                if (brs__dec_parse(ps, strlen(ps), &pd, &p) || brs__dec_parse(qs, strlen(qs), &qd, &q))
                    return 0;
                if (lv[k].price != p || lv[k].qty != q) {
                    if (report)
                        printf("%s %s level %u differs\n", instr[i].sym, keys[s], k);
                    return 0;
                }
                k++;
            }
        }
        brs_top top;
        if (vt->xTop(self, i, &top) != BRS_OK)
            return 0;
        vt->xDepth(self, i, BRS_BUY, lv, 1, &(uint32_t){0});
        if (top.bid_price != lv[0].price)
            return 0;
    }
    return 1;
}

static void test_live_replay_with_drop(void **st)
{
    (void)st;
    SKIP_WITHOUT_SERVER(1);
    server s = {0};
    assert_int_equal(server_start_ex(&s, 1, "300", "41", 1), 0);
    memset(&F, 0, sizeof F);
    F.verbose = getenv("BRS_TEST_VERBOSE") != NULL;
    snprintf(F.ws_url, sizeof F.ws_url, "ws://127.0.0.1:%d/stream", s.port);
    snprintf(F.rest_url, sizeof F.rest_url,
             "http://127.0.0.1:%d/fapi/v1/depth?symbol={SYMBOL}&limit=1000", s.port);
    brs_plugin p;
    brs_error e = {0};
    assert_int_equal(brs__plugin_load(&p, PLUGIN, &e), BRS_OK);
    brs_host h = make_host();
    brs_plugin_instance inst = {0};
    if (brs__plugin_instance_open(&inst, &p, &h, NULL, &e) != BRS_OK)
        fail_msg("open: %s", e.msg);
    const brs_venue_vtable *vt = brs__plugin_venue(&p);
    cJSON *final = get_json(s.port, "/final");
    int64_t end = brs__monotime_ns() + 60 * 1000000000LL, next_check = 0;
    int ok = 0;
    while (brs__monotime_ns() < end) {
        assert_true(vt->xPoll(inst.self, brs__realtime_ns()) >= 0);
        if (brs__monotime_ns() > next_check) {
            if (books_match(vt, inst.self, final, 0)) {
                ok = 1;
                break;
            }
            next_check = brs__monotime_ns() + 50000000;
        }
        usleep(500);
    }
    if (!ok)
        books_match(vt, inst.self, final, 1);
    assert_true(ok);
    assert_int_equal(F.bad_instrument, 0);
    assert_true(F.snapshots >= 8); /* 4 at start, 4 after the reconnect */
    for (int i = 0; i < NI; i++)
        assert_true(F.events[i] > 100);
    cJSON_Delete(final);
    brs__plugin_instance_close(&inst);
    brs__plugin_unload(&p);
    server_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_live_replay_with_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
