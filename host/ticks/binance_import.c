/* binance_import.c: `ticks import --format binance`: a recorded Binance USD-M
 * futures session (cryptofeed layout: `<recv_ts>: <json>` per WebSocket frame)
 * plus its REST depth snapshots (`<url> -> <recv_ts>: <json>`), fed in receive
 * order through the feed module of host/feeds (message parsing and the
 * snapshot / U / u / pu sync rules live there, shared with the live venue).
 * Gaps in the update chain are reported on stderr and counted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/binance.h"
#include "ticks/import.h"

typedef struct snap {
    int64_t recv;
    char sym[BRS_SYMBOL_MAX];
    char *json;
    size_t len;
    uint64_t line;
} snap;

typedef struct bstate {
    brs_import_sink *s;
    brs_error *err;
    uint64_t gaps;
    const char *file;
    uint32_t late_base; /* the feed's symbol k is provisional id BRS_SINK_LATE + late_base + k */
} bstate;

/* The feed numbers symbols in its own order and the scales are known only at
 * the end of the file, when they enter the sink's table; events may have
 * spilled to disk by then, so they carry a provisional id the sink resolves. */
static int bn_sink(void *ud, const brs_market_event *ev)
{
    bstate *b = ud;
    brs_market_event e = *ev;
    e.instrument = BRS_SINK_LATE + b->late_base + ev->instrument;
    return brs__sink_add(b->s, &e, b->err);
}

static void bn_gap(void *ud, uint32_t instrument, const char *symbol, uint64_t last_u, uint64_t U,
                   uint64_t u, int64_t pu)
{
    bstate *b = ud;
    (void)instrument;
    b->gaps++;
    fprintf(stderr, "bourse ticks import: %s: gap in the %s depth stream: last applied u %llu, next update U %llu u %llu pu %lld; book stale until the next snapshot\n",
            b->file, symbol, (unsigned long long)last_u, (unsigned long long)U, (unsigned long long)u,
            (long long)pu);
}

static int load_snapshots(const char *path, snap **out, size_t *n, brs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return brs__err(err, errno == ENOENT ? BRS_E_NOTFOUND : BRS_E_IO, "%s: cannot open: %s", path,
                        strerror(errno));
    char *line = NULL;
    size_t cap = 0, ns = 0, ncap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    snap *v = NULL;
    int rc = BRS_OK;
    while (!rc && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        int kind;
        int64_t recv;
        const char *json;
        size_t jl;
        char sym[BRS_SYMBOL_MAX] = "";
        if (brs__bn_split_record(line, (size_t)len, &kind, &recv, &json, &jl, sym) != BRS_OK) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: not '<url> -> <recv_ts>: <json>'", path,
                          (unsigned long long)lineno);
            break;
        }
        if (kind == 0)
            continue;
        if (kind != 'H' || !sym[0]) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: not a REST depth snapshot line (no symbol= in the url)",
                          path, (unsigned long long)lineno);
            break;
        }
        if (ns == ncap) {
            ncap = ncap ? ncap * 2 : 16;
            snap *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                rc = brs__err(err, BRS_E_NOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        snap *sp = &v[ns];
        sp->recv = recv;
        memcpy(sp->sym, sym, sizeof sp->sym);
        sp->json = malloc(jl + 1);
        if (!sp->json) {
            rc = brs__err(err, BRS_E_NOMEM, "out of memory");
            break;
        }
        memcpy(sp->json, json, jl);
        sp->json[jl] = 0;
        sp->len = jl;
        sp->line = lineno;
        ns++;
    }
    free(line);
    fclose(f);
    /* in receive order (stable: insertion sort, there are a handful) */
    for (size_t i = 1; i < ns; i++)
        for (size_t j = i; j > 0 && v[j - 1].recv > v[j].recv; j--) {
            snap t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *out = v;
    *n = ns;
    return rc;
}

int brs__import_binance(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err)
{
    snap *snaps = NULL;
    size_t nsnap = 0, next = 0;
    int rc = BRS_OK;
    if (o->snapshot)
        rc = load_snapshots(o->snapshot, &snaps, &nsnap, err);
    else
        fprintf(stderr, "bourse ticks import: %s: no --snapshot file: depth updates stay buffered until "
                        "a snapshot, so no L2 book comes out (quotes and trades do)\n", path);
    bstate b = {.s = s, .err = err, .file = path, .late_base = s->n_late};
    brs__bn_feed f;
    brs__bn_feed_init(&f, bn_sink, &b);
    f.on_gap = bn_gap;
    f.gap_ud = &b;
    FILE *in = rc ? NULL : fopen(path, "rb");
    if (!rc && !in)
        rc = brs__err(err, errno == ENOENT ? BRS_E_NOTFOUND : BRS_E_IO, "%s: cannot open: %s", path,
                      strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    while (!rc && (len = getline(&line, &cap, in)) > 0) {
        lineno++;
        s->bytes_done += (uint64_t)len;
        if (s->progress)
            brs__progress_update(s->progress, s->bytes_done);
        int kind;
        int64_t recv;
        const char *json;
        size_t jl;
        if (brs__bn_split_record(line, (size_t)len, &kind, &recv, &json, &jl, NULL) != BRS_OK) {
            rc = brs__err(err, BRS_E_PARSE, "%s:%llu: not '<recv_ts>: <json>'", path, (unsigned long long)lineno);
            break;
        }
        if (kind == 0)
            continue;
        /* snapshots received before this frame go first */
        while (!rc && next < nsnap && snaps[next].recv <= recv) {
            rc = brs__bn_feed_snapshot(&f, snaps[next].sym, snaps[next].json, snaps[next].len,
                                       snaps[next].recv, err);
            if (rc)
                brs__err_prefix(err, "%s:%llu", o->snapshot, (unsigned long long)snaps[next].line);
            next++;
        }
        if (!rc && (rc = brs__bn_feed_message(&f, json, jl, recv, err)) != BRS_OK)
            brs__err_prefix(err, "%s:%llu", path, (unsigned long long)lineno);
    }
    while (!rc && next < nsnap) {
        rc = brs__bn_feed_snapshot(&f, snaps[next].sym, snaps[next].json, snaps[next].len, snaps[next].recv, err);
        if (rc)
            brs__err_prefix(err, "%s:%llu", o->snapshot, (unsigned long long)snaps[next].line);
        next++;
    }
    /* the feed numbered its symbols 0, 1, ...: map them into the sink's table */
    for (uint32_t i = 0; !rc && i < f.nsym; i++) {
        const brs__bn_symbol *sy = &f.sym[i];
        uint32_t idx;
        rc = brs__sink_instrument(s, sy->name, sy->price_dec >= 0 ? brs__pow10(sy->price_dec) : 1, 1, 1,
                                  &idx, err);
        if (!rc)
            rc = brs__sink_late_set(s, b.late_base + (sy->instrument < f.nsym ? sy->instrument : i), idx, err);
    }
    /* reserve the ids even when nothing resolved them, so the next file starts after */
    if (!rc && s->n_late < b.late_base + f.nsym)
        s->n_late = b.late_base + f.nsym;
    if (!rc) {
        uint64_t stale = 0, bars = 0;
        for (uint32_t i = 0; i < f.nsym; i++) {
            stale += brs__bn_needs_snapshot(&f, f.sym[i].instrument) != 0;
            bars += f.sym[i].n_bars;
        }
        fprintf(stderr, "bourse ticks import: %s: %llu frames, %llu bars (closed klines), %llu ignored (klines still forming, unknown), %llu gaps, %llu symbols without a valid book at the end\n",
                path, (unsigned long long)f.n_messages, (unsigned long long)bars,
                (unsigned long long)f.n_ignored, (unsigned long long)b.gaps,
                (unsigned long long)stale);
    }
    brs__bn_feed_free(&f);
    free(line);
    if (in)
        fclose(in);
    for (size_t i = 0; i < nsnap; i++)
        free(snaps[i].json);
    free(snaps);
    return rc;
}
