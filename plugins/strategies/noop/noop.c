/* noop.c: the do-nothing strategy. It subscribes to top of book and only
 * counts updates, so benchmarks measure the host's dispatch cost, not the
 * strategy's; it is also the smallest complete example of a C strategy. */
#include <stdio.h>

#include <bourse/bourse.h>

typedef struct noop {
    const brs_host *host;
    brs_ctx *ctx;
    uint64_t tops; /* top-of-book updates seen */
} noop;

static int noop_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    (void)err;
    noop *s = self;
    s->host = host;
    s->ctx = ctx;
    return BRS_OK;
}

static void noop_close(void *self)
{
    (void)self;
}

static int noop_start(void *self)
{
    (void)self;
    return BRS_OK;
}

static int noop_stop(void *self)
{
    noop *s = self;
    if (BRS_HOST_HAS(s->host, xLog)) {
        char msg[64];
        snprintf(msg, sizeof msg, "noop saw %llu top-of-book updates",
                 (unsigned long long)s->tops);
        s->host->xLog(s->ctx, BRS_LOG_DEBUG, msg);
    }
    return BRS_OK;
}

static int noop_on_top(void *self, const brs_top *top)
{
    (void)top;
    ((noop *)self)->tops++;
    return BRS_OK;
}

static const brs_strategy_vtable noop_vtable = {
    .size = sizeof(brs_strategy_vtable),
    .subscriptions = BRS_SUB_TOP,
    .xOpen = noop_open,
    .xClose = noop_close,
    .xStart = noop_start,
    .xStop = noop_stop,
    .xOnTop = noop_on_top,
};

BRS_PLUGIN(.kind = BRS_KIND_STRATEGY, .name = "noop", .version = "1.0.0",
           .description = "subscribes to top of book and does nothing (benchmark baseline)",
           .instance_size = sizeof(noop), .vtable = &noop_vtable)
