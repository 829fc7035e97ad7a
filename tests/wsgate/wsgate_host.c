/* wsgate_host.c: a small host for the WebSocket order-entry tests: a runtime
 * built from a config file (the serve schema: venues, router, latency, and
 * ws_listen / ws for the gateway) with one instrument XYZ (price_scale 100,
 * tick 1), the gateway on it, and the loop a serve loop runs: wait on the
 * gateway's fd, handle requests, advance the runtime, flush. Writes the bound
 * port to PORTFILE; stops on SIGTERM/SIGINT. Used by ws_order_entry.py with
 * a real WebSocket client (python3-websockets). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/config.h"
#include "core/core.h"
#include "runtime/runtime.h"
#include "wsgate/wsgate.h"

static volatile sig_atomic_t stop;
static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

static const brs_instrument instr[1] = {{.id = 0, .symbol = "XYZ", .price_scale = 100, .tick_size = 1, .lot_size = 1}};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: wsgate_host CONFIG.json PORTFILE\n");
        return 2;
    }
    brs_config cfg;
    brs_error err = {0};
    brs__rt_opts o = {0};
    brs__rt *rt = NULL;
    brs__wsgate *g = NULL;
    int port = 0;
    if (brs__config_load(&cfg, argv[1], &err) || brs__rt_read_config(&cfg, cfg.root, "", &o, &err)) {
        fprintf(stderr, "wsgate_host: %s\n", err.msg);
        return 1;
    }
    o.books_from_venues = 1;
    if (brs__rt_create(&rt, &cfg, cfg.root, "", &o, instr, 1, NULL, 0, &err) ||
        brs__wsgate_open(&g, rt, &cfg, instr, 1, &port, &err)) {
        fprintf(stderr, "wsgate_host: %s\n", err.msg);
        brs__rt_destroy(rt);
        brs__config_free(&cfg);
        return 1;
    }
    brs__rt_advance(rt, brs__realtime_ns());
    FILE *f = fopen(argv[2], "w");
    if (!f)
        return 1;
    fprintf(f, "%d\n", port);
    fclose(f);
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    signal(SIGPIPE, SIG_IGN);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, brs__wsgate_fd(g), &ev);
    while (!stop) {
        int64_t now = brs__realtime_ns(), due = brs__wsgate_next_time(g), rd = brs__rt_next_time(rt);
        if (rd < due)
            due = rd;
        int ms = 50;
        if (due != INT64_MAX)
            ms = due <= now ? 0 : (due - now) / 1000000 < 50 ? (int)((due - now) / 1000000) + 1 : 50;
        epoll_wait(ep, out, 4, ms);
        now = brs__realtime_ns();
        brs__wsgate_poll(g, now);
        brs__rt_advance(rt, now);
        brs__wsgate_flush(g, now);
    }
    brs__wsgate_close(g);
    close(ep);
    brs__rt_destroy(rt);
    brs__config_free(&cfg);
    return 0;
}
