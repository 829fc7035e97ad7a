/* fuzz_fix.c: libFuzzer target for the FIX codec, session layer and
 * application. The input is framed and parsed as a byte stream, parsed whole,
 * and fed (after a valid Logon) to an in-memory acceptor session; every second
 * input the session's business messages go to the real application on the
 * matching engine (orders, cancels, replaces, market data, risk checks), so
 * framing, tag parsing, groups, decimals, times, sequence handling, resend,
 * reject and order paths all see it. Inputs of odd size stream their mass
 * cancels in slices, as the server does.
 * Built with clang by `make fuzz`; tests/fuzz/CMakeLists.txt also runs the seed
 * corpus through it as an ordinary test. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fix/app.h"
#include "fix/codec.h"
#include "fix/session.h"
#include "no_live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static brs__fix_msg msg;
static brs__fix_session sess;

static int discard(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return 0;
}
static void hangup(void *ctx)
{
    (void)ctx;
}
static void on_app(void *app, brs__fix_session *s, const brs__fix_msg *m)
{
    (void)app;
    /* what the application reads */
    int64_t v;
    uint64_t u;
    char buf[64];
    brs__fix_decimal(m, 44, 4, &v);
    brs__fix_decimal(m, 38, 0, &v);
    brs__fix_uint(m, 264, &u);
    brs__fix_str(m, 11, buf, sizeof buf);
    const brs__fix_field *f = brs__fix_get(m, 60);
    if (f)
        brs__fix_parse_time(brs__fix_val(m, f), f->len, &v);
    /* answer something so the store and resend paths get content */
    brs__fix_enc *e = brs__fix_session_begin(s, "8");
    brs__fix_enc_str(e, 11, buf);
    brs__fix_session_send(s);
}

/* A streaming mass cancel's slices, as the server's loop runs them. */
static void mass_cancels(brs__fix_gateway *g)
{
    for (int k = 0; k < (1 << 16) && g->n_mc_active; k++)
        brs__fix_gateway_mc_step(g, 0);
    if (g->n_mc_active)
        __builtin_trap(); /* a mass cancel that never ends */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        brs__fix_msg_init(&msg);
        inited = 1;
    }
    const char *p = (const char *)data;
    /* 1. as a stream */
    size_t pos = 0;
    while (pos < size) {
        size_t ml = 0;
        int rc = brs__fix_frame(p + pos, size - pos, 1 << 16, &ml);
        if (rc == BRS__FIX_FRAME_NEED_MORE)
            break;
        if (rc == BRS__FIX_FRAME_OK)
            brs__fix_parse(&msg, p + pos, ml);
        if (ml == 0 || ml > size - pos)
            __builtin_trap(); /* the framer must always make progress inside the buffer */
        pos += ml;
    }
    /* 2. parsed whole, no framing */
    if (brs__fix_parse(&msg, p, size) == 0) {
        for (uint32_t t = 0; t < 1100; t += 37)
            brs__fix_get(&msg, t);
    }
    int64_t v;
    brs__fix_parse_decimal(p, size < 64 ? size : 64, 4, &v);
    brs__fix_parse_time(p, size < 32 ? size : 32, &v);
    /* 3. through a logged-on session */
    brs__fix_session_cfg cfg = {0};
    snprintf(cfg.sender, sizeof cfg.sender, "EXEC");
    snprintf(cfg.target, sizeof cfg.target, "CLIENT1");
    cfg.max_msg = 4096;
    /* session options from the first byte: dictionary validation and its
     * switches, the reset rules, a small field limit */
    unsigned o = size > 0 ? data[0] : 0;
    if (o & 4) {
        brs__fix_session_opts_default(&cfg.opts);
        cfg.opts.max_latency_s = 0; /* the inputs carry any SendingTime */
        cfg.opts.valid.fields_out_of_order = !(o & 8);
        cfg.opts.valid.allow_unknown_msg_fields = (o & 16) != 0;
        cfg.opts.max_msg_fields = o & 32 ? 64 : 2048;
    }
    cfg.opts.reset_on_logout = (o & 64) != 0;
    cfg.opts.reset_on_disconnect = (o & 128) != 0;
    if (brs__fix_session_open(&sess, &cfg, NULL, 0, NULL) != 0)
        return 0;
    sess.on_app = on_app;
    static brs__fix_gateway gw;
    int with_app = size > 0 && (data[0] & 1);
    if (with_app) {
        brs__fix_instr in[2] = {{"AAPL", 2, 1, 1}, {"MSFT", 2, 5, 10}};
        if (brs__fix_gateway_open(&gw, in, 2, 256, NULL, 0, NULL) != 0) {
            brs__fix_session_close(&sess);
            return 0;
        }
        brs_risk_config rc;
        memset(&rc, 0, sizeof rc);
        rc.def.max_order_qty = 1000;
        rc.def.max_position = 5000;
        brs__fix_gateway_set_risk(&gw, &rc);
        brs__fix_gateway_add_session(&gw, &sess);
        /* odd sizes: mass cancels stream in slices of 2, as under serve */
        gw.mc_per_turn = size & 1 ? 2 : 0;
    }
    brs__fix_session_io io = {NULL, discard, hangup};
    int64_t now = 1700000000000000000LL;
    brs__fix_session_attach(&sess, &io, now);
    static const char logon[] = "8=FIX.4.4\0019=70\00135=A\00149=CLIENT1\00156=EXEC\00134=1\001"
                                "52=20231114-22:13:20\00198=0\001108=30\00110=";
    char lbuf[160];
    size_t ln = sizeof logon - 1;
    memcpy(lbuf, logon, ln);
    /* fix up BodyLength and CheckSum so the Logon is valid */
    const char *body = strstr(lbuf, "35=A");
    size_t blen = ln - 3 - (size_t)(body - lbuf);
    char hdr[32];
    int h = snprintf(hdr, sizeof hdr, "8=FIX.4.4\0019=%zu\001", blen);
    char full[192];
    memcpy(full, hdr, (size_t)h);
    memcpy(full + h, body, blen);
    unsigned cs = brs__fix_checksum(full, (size_t)h + blen);
    int t = snprintf(full + h + blen, sizeof full - (size_t)h - blen, "10=%03u\001", cs);
    brs__fix_session_input(&sess, full, (size_t)h + blen + (size_t)t, now);
    size_t half = size / 2, used = 0;
    /* one framer outcome at a time, as the server feeds it: a step that
     * consumes nothing must be an incomplete message (the wedge of issue 14) */
    while (used < half && sess.state != BRS__FIX_DISCONNECTED) {
        int framed;
        size_t step = brs__fix_session_step(&sess, p + used, half - used, now, &framed);
        if (step == 0) {
            size_t ml = 0;
            if (sess.state != BRS__FIX_DISCONNECTED &&
                brs__fix_frame(p + used, half - used, cfg.max_msg, &ml) != BRS__FIX_FRAME_NEED_MORE)
                __builtin_trap();
            break;
        }
        if (step > half - used)
            __builtin_trap();
        used += step;
    }
    /* every other application input: an end of day between the halves, so the
     * second half runs on the compacted order table and ClOrdID map */
    if (with_app)
        mass_cancels(&gw);
    if (with_app && (data[0] & 2))
        brs__fix_gateway_end_of_day(&gw, now + 500, 0, NULL);
    if (used < half) { /* keep the unconsumed tail together with the rest */
        static char joined[1 << 17];
        size_t rest = size - used;
        if (rest <= sizeof joined) {
            memcpy(joined, p + used, rest);
            brs__fix_session_input(&sess, joined, rest, now + 1000);
        }
    } else {
        brs__fix_session_input(&sess, p + half, size - half, now + 1000);
    }
    if (with_app)
        mass_cancels(&gw);
    brs__fix_session_timer(&sess, now + 40000000000LL);
    brs__fix_session_timer(&sess, now + 80000000000LL);
    if (with_app)
        brs__fix_gateway_close(&gw);
    brs__fix_session_close(&sess);
    return 0;
}
