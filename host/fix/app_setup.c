/* app_setup.c: opening and closing the FIX application: its runtime and
 * instruments, risk, sessions attached to it and their routes. */
#include "fix/app.h"
#include "fix/archive.h"
#include "fix/app_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/log.h"
#include "ops/live.h"
#include "ops/metrics.h"
#include "fix/wal.h"

/* ---- lifecycle -------------------------------------------------------------- */

int brs__fix_rt_instruments(const brs__fix_instr *in, uint32_t n, brs_instrument **out)
{
    brs_instrument *ri = calloc(n ? n : 1, sizeof *ri);
    *out = ri;
    if (!ri)
        return BRS_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        ri[i].id = i;
        snprintf(ri[i].symbol, sizeof ri[i].symbol, "%s", in[i].symbol);
        ri[i].price_scale = 1;
        for (int d = 0; d < in[i].decimals; d++)
            ri[i].price_scale *= 10;
        ri[i].tick_size = in[i].tick_size;
        ri[i].lot_size = in[i].lot_size;
    }
    return BRS_OK;
}

int brs__fix_default_runtime(brs_config *cfg, brs__rt_opts *o, uint32_t max_orders, brs_error *err)
{
    char text[256];
    if (max_orders)
        snprintf(text, sizeof text,
                 "{\"venues\": [{\"name\": \"sim\", \"plugin\": \"sim\", \"params\": {\"max_orders\": %u}}]}",
                 max_orders < 1024 ? 1024 : max_orders);
    else
        snprintf(text, sizeof text, "{\"venues\": [{\"name\": \"sim\", \"plugin\": \"sim\"}]}");
    memset(o, 0, sizeof *o);
    int rc = brs__config_parse(cfg, text, "the FIX gateway's default venue", err);
    if (rc == BRS_OK)
        rc = brs__rt_read_config(cfg, cfg->root, "", o, err);
    o->books_from_venues = 1;
    return rc;
}

int brs__fix_gateway_open(brs__fix_gateway *g, const brs__fix_instr *instr, uint32_t n,
                          uint32_t max_orders, const char *journal_path, int fsync_policy,
                          brs_error *err)
{
    /* a runtime of its own: one in-process sim venue, no latency, no router */
    brs__fix_gateway tmp;
    memset(&tmp, 0, sizeof tmp);
    brs__rt_opts ro = {0};
    brs__rt *rt = NULL;
    int rc = brs__fix_default_runtime(&tmp.rt_cfg, &ro, max_orders, err);
    if (rc == BRS_OK && brs__fix_rt_instruments(instr, n, &tmp.rt_instr) != BRS_OK)
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
    if (rc == BRS_OK)
        rc = brs__rt_create(&rt, &tmp.rt_cfg, tmp.rt_cfg.root, "", &ro, tmp.rt_instr, n, NULL, 0, err);
    if (rc == BRS_OK)
        rc = brs__fix_gateway_open_rt(g, instr, n, rt, 0, journal_path, fsync_policy, err);
    else
        memset(g, 0, sizeof *g);
    /* the gateway owns them from here, even when it failed to open (close frees) */
    g->own_rt = 1;
    g->rt = rt;
    g->rt_cfg = tmp.rt_cfg;
    g->rt_instr = tmp.rt_instr;
    return rc;
}

int brs__fix_gateway_open_rt(brs__fix_gateway *g, const brs__fix_instr *instr, uint32_t n,
                             brs__rt *rt, int last_mkt, const char *journal_path,
                             int fsync_policy, brs_error *err)
{
    memset(g, 0, sizeof *g);
    g->rt = rt;
    g->last_mkt = last_mkt;
    g->jfd = -1;
    g->ckpt_fd = -1;
    g->batch = 1;
    g->fsync_policy = fsync_policy;
    g->instr = calloc(n ? n : 1, sizeof *instr);
    if (!g->instr)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    memcpy(g->instr, instr, n * sizeof *instr);
    g->n_instr = n;
    g->day_px = malloc((n ? n : 1) * sizeof *g->day_px);
    if (!g->day_px)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        g->day_px[i] = (brs__fix_day_px){INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX};
    g->max_md_subs = BRS__FIX_MD_DEFAULT_SUBS;
    g->max_md_subs_per_session = BRS__FIX_MD_DEFAULT_SUBS_PER_SESSION;
    g->max_md_symbols = BRS__FIX_MD_DEFAULT_SYMBOLS;
    g->md_view = calloc((size_t)(n ? n : 1) * (brs__rt_venues(rt) + 1), sizeof *g->md_view);
    if (!g->md_view)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    if (journal_path) {
        g->jpath = strdup(journal_path);
        if (!g->jpath)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        g->jfd = open(journal_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (g->jfd < 0)
            return brs__err(err, BRS_E_IO, "%s: %s", journal_path, strerror(errno));
        /* a compaction that crashed before its rename: the journal is the old one */
        char tmp[4096];
        brs__fix_journal_temp_path(g, tmp, sizeof tmp);
        unlink(tmp);
    }
    return BRS_OK;
}

void brs__fix_gateway_close(brs__fix_gateway *g)
{
    brs__fix_gateway_checkpoint_abort(g);
    brs__fix_gateway_flush(g);
    if (g->jfd >= 0)
        close(g->jfd);
    if (g->rt && !g->own_rt && g->eod_gate) {
        brs__rt_set_submit_hook(g->rt, NULL, NULL); /* the runtime outlives the gateway */
        brs__rt_set_replace_hook(g->rt, NULL, NULL);
    }
    if (g->own_rt) {
        brs__rt_destroy(g->rt);
        brs__config_free(&g->rt_cfg);
        free(g->rt_instr);
    }
    free(g->client);
    free(g->instr);
    free(g->day_px);
    free(g->sessions);
    free(g->orders);
    free(g->jpath);
    brs__fix_map_free(g);
    brs__fix_clset_free(&g->closed);
    free(g->subs);
    free(g->md_view);
    free(g->trades);
    free(g->risk);
    free(g->jbuf);
    free(g->mc);
    brs__fix_erq_free(g);
    brs__fix_evq_free(g);
    memset(g, 0, sizeof *g);
    g->jfd = -1;
}

void brs__fix_gateway_set_risk(brs__fix_gateway *g, const brs_risk_config *cfg)
{
    g->risk_on = 1;
    g->risk_cfg = *cfg;
}

int brs__fix_gateway_add_session(brs__fix_gateway *g, brs__fix_session *s)
{
    /* a risk state per session even without limits: it follows the positions */
    brs_risk *r = realloc(g->risk, (g->n_sessions + 1) * sizeof *r);
    if (!r)
        return BRS_E_NOMEM;
    g->risk = r;
    brs__risk_init(&g->risk[g->n_sessions], g->risk_on ? &g->risk_cfg : NULL);
    uint32_t *cl = realloc(g->client, (g->n_sessions + 1) * sizeof *cl);
    if (!cl)
        return BRS_E_NOMEM;
    g->client = cl;
    /* the session is a client of the runtime, on its route; its reports come
     * back through brs__fix_on_event under their OrderIDs */
    brs__rt_client_ops ops = {.user = g, .xOnOrder = brs__fix_on_event, .self_trade = 1, .passive = 1};
    brs_error cerr = {0};
    if (brs__rt_client_add(g->rt, &ops, g->has_route ? g->next_route : brs__rt_default_route(g->rt),
                           &g->client[g->n_sessions], &cerr) != BRS_OK) {
        BRS_LOG(BRS_LOG_ERROR, "fix", "session cannot be a runtime client", BRS_KV_S("error", cerr.msg));
        return BRS_E_LIMIT;
    }
    g->has_route = 0;
    if (g->n_sessions == g->cap_sessions) {
        uint32_t c = g->cap_sessions ? g->cap_sessions * 2 : 8;
        brs__fix_session **p = realloc(g->sessions, c * sizeof *p);
        if (!p)
            return BRS_E_NOMEM;
        g->sessions = p;
        g->cap_sessions = c;
    }
    s->index = g->n_sessions;
    s->store.batch = &g->batch;
    s->on_app = brs__fix_gateway_on_app;
    s->on_dup = brs__fix_on_dup;
    s->app = g;
    g->sessions[g->n_sessions++] = s;
    return BRS_OK;
}

void brs__fix_gateway_next_route(brs__fix_gateway *g, const brs__rt_route *route)
{
    g->next_route = *route;
    g->has_route = 1;
}

/* The end of the last COMMIT record of the journal's first `end` bytes and its
 * batch; 0 when there is none (a journal of before commits: all of it counts). */
