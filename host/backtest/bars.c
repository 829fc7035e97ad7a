/* bars.c: the bars of a signal backtest, from a tick file (its BAR events) or
 * a Yahoo-style daily CSV read by the ticks importer's Yahoo parser. A file of
 * one instrument is decoded block by block on every core at once, each block
 * straight into its place in the final array (no copy, no per-bar malloc);
 * files of several instruments go through the read-ahead reader. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backtest.h"
#include "core/core.h"
#include "ticks/import.h"
#include "ticks/tickfile.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Frees one instrument's columns (ts_local may be ts). */
static void cols_free(brs_bar_columns *c)
{
    if (c->ts_local != c->ts)
        free((void *)c->ts_local);
    const int64_t *own[] = {c->ts, c->open, c->high, c->low, c->close, c->volume};
    for (int k = 0; k < 6; k++)
        free((void *)own[k]);
    memset(c, 0, sizeof *c);
}

void brs__bt_bars_free(brs__bt_bars *b)
{
    if (b->bars)
        for (uint32_t i = 0; i < b->n_instr; i++)
            free(b->bars[i]);
    if (b->cols)
        for (uint32_t i = 0; i < b->n_instr; i++)
            cols_free(&b->cols[i]);
    if (b->lazy) {
        free(b->lazy->payload);
        free(b->lazy->poff);
        free(b->lazy->plen);
        free(b->lazy->off);
        free(b->lazy->has_local);
        free(b->lazy);
    }
    free(b->cols);
    free(b->bars);
    free(b->n);
    free(b->instr);
    memset(b, 0, sizeof *b);
}

static int alloc_instr(brs__bt_bars *b, uint32_t n, brs_error *err)
{
    b->n_instr = n;
    b->instr = calloc(n ? n : 1, sizeof *b->instr);
    b->bars = calloc(n ? n : 1, sizeof *b->bars);
    b->n = calloc(n ? n : 1, sizeof *b->n);
    if (!b->instr || !b->bars || !b->n)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    return BRS_OK;
}

/* The file line of the nth row whose first field is date (1-based), 0 if none. */
static long line_of(const char *path, const char *date, int nth)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char buf[512];
    long line = 0, found = 0;
    size_t dl = strlen(date);
    int at_start = 1;
    while (!found && fgets(buf, sizeof buf, fp)) {
        if (at_start) {
            line++;
            if (!strncmp(buf, date, dl) && (buf[dl] == ',' || buf[dl] == ' ' || buf[dl] == 'T') &&
                --nth == 0)
                found = line;
        }
        at_start = strchr(buf, '\n') != NULL; /* a long line comes in several pieces */
    }
    fclose(fp);
    return found;
}

/* Rows out of date order: name the file lines of both rows (the bars are
 * stamped at the end of their UTC day; skipped null rows make the bar count
 * differ from the line count, so lines are looked up by date). */
static int order_error(const char *path, int64_t prev_ts, int64_t ts, size_t bar, brs_error *err)
{
    char d0[48], d1[48];
    brs__format_time(prev_ts - INT64_C(86400000000000), d0, sizeof d0);
    brs__format_time(ts - INT64_C(86400000000000), d1, sizeof d1);
    d0[10] = d1[10] = '\0'; /* YYYY-MM-DD */
    long l0 = line_of(path, d0, 1), l1 = line_of(path, d1, ts == prev_ts ? 2 : 1);
    if (ts < prev_ts && l1 && l0 && l1 < l0) /* the earlier date is written first: the later row is the odd one */
        l1 = line_of(path, d1, 2) ? line_of(path, d1, 2) : l1;
    if (l0 && l1)
        return brs__err(err, BRS_E_PARSE,
                        "%s:%ld: date %s is %s the date %s on line %ld (rows must be in date order, oldest first)",
                        path, l1, d1, ts == prev_ts ? "the same as" : "before", d0, l0);
    return brs__err(err, BRS_E_PARSE, "%s: row %zu (not counting the header and null rows) is not after the one before it (rows must be in date order)",
                    path, bar);
}

/* The Yahoo layout through the ticks importer (`bourse ticks import --format
 * yahoo`): same parser, same price scale, bars stamped at the end of their day. */
static int load_yahoo(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err)
{
    brs_import_sink sink;
    memset(&sink, 0, sizeof sink);
    brs_import_opts io = {.symbol = symbol};
    int rc = brs__import_yahoo(&sink, path, &io, err);
    if (rc)
        goto out;
    if (sink.n == 0 || sink.n_instr != 1) {
        rc = brs__err(err, BRS_E_PARSE, "%s: no bars", path);
        goto out;
    }
    if ((rc = alloc_instr(b, 1, err)))
        goto out;
    b->instr[0] = sink.instr[0];
    for (size_t i = 1; i < sink.n; i++)
        if (sink.ev[i].ts_exchange <= sink.ev[i - 1].ts_exchange) {
            rc = order_error(path, sink.ev[i - 1].ts_exchange, sink.ev[i].ts_exchange, i + 1, err);
            goto out;
        }
    for (size_t i = 0; i < sink.n; i++)
        b->local_late |= sink.ev[i].ts_local > sink.ev[i].ts_exchange;
    b->bars[0] = sink.ev; /* taken over */
    sink.ev = NULL;
    b->n[0] = b->total = sink.n;
out:
    free(sink.ev);
    free(sink.instr);
    if (rc)
        brs__bt_bars_free(b);
    return rc;
}

/* ---- one instrument: blocks decoded in parallel into their slots --------- */

#define MAX_LOADERS 4

typedef struct par_load {
    const brs_tick_reader *r;
    brs_market_event *dst;
    brs_barblock_cols cols; /* the columns path: dst NULL */
    brs__bt_lazy *lz;       /* the lazy path: payloads kept, nothing decoded */
    int64_t *first, *last;  /* lazy: each block's first and last ts */
    uint8_t *has_local;  /* columns: block i wrote ts_local */
    const uint64_t *off; /* slot of block i's first record */
    uint32_t *kept;      /* bars block i left at its slot */
    uint32_t next;       /* next block to claim (atomic) */
    uint32_t fail;       /* lowest failed block so far (atomic) */
    size_t page;
} par_load;

typedef struct loader {
    par_load *pl;
    brs_tick_decoder dec;
    uint32_t err_block; /* the lowest block this loader failed on */
    int late;           /* saw a bar with ts_local after ts_exchange */
    brs_error err;
    pthread_t th;
} loader;

/* Keep the block's BAR events (all of a compact block), check instrument and
 * time order inside the block. */
static int keep_bars(const brs_tick_reader *r, brs_market_event *p, uint32_t n, uint32_t *kept,
                     int *late, brs_error *err)
{
    uint32_t k = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (p[j].kind != BRS_MEV_BAR)
            continue;
        *late |= p[j].ts_local > p[j].ts_exchange;
        if (p[j].instrument >= r->n_instr)
            return brs__err(err, BRS_E_PARSE, "%s: bar for instrument %u, the file has %u", r->path,
                            p[j].instrument, r->n_instr);
        if (k && p[j].ts_exchange < p[k - 1].ts_exchange)
            return brs__err(err, BRS_E_PARSE, "%s: bars of %s go back in time", r->path,
                            r->instr[p[j].instrument].symbol);
        if (k != j)
            p[k] = p[j];
        k++;
    }
    *kept = k;
    return BRS_OK;
}

/* Fresh memory is most of the cost of loading: one call maps a block's pages
 * (~15 % cheaper than a fault per 4 KiB page). Advice only: an older kernel
 * refuses it and the writes fault as usual. */
static void populate(const void *p, size_t len, size_t page)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page - 1), z = (uintptr_t)p + len;
    (void)madvise((void *)a, z - a, MADV_POPULATE_WRITE);
#else
    (void)p, (void)len, (void)page;
#endif
}

/* Columns path: block i straight into its slots of every column. A block
 * that is not a compact bar block of plain bars (instrument, side, flags 0)
 * is an error code of its own, BRS_E_UNSUPPORTED, and the file is loaded as
 * records instead. */
static int load_block_columns(par_load *pl, loader *l, uint32_t i, brs_error *e)
{
    uint64_t o = pl->off[i];
    uint32_t cnt = pl->r->blocks[i].count;
    const brs_barblock_cols *c = &pl->cols;
    brs_barblock_cols at = {c->ts + o, c->ts_local + o, c->open + o, c->high + o, c->low + o,
                            c->close + o, c->volume + o};
    int64_t *fill[] = {at.ts, at.open, at.high, at.low, at.close, at.volume};
    for (int k = 0; k < 6; k++)
        populate(fill[k], cnt * sizeof *at.ts, pl->page);
    int rc = brs__tick_decode_block_columns(pl->r, &l->dec, i, &at, e);
    if (rc < 0)
        return rc;
    const brs_barblock_stats *st = &l->dec.stats;
    if (rc == 0 || !st->plain)
        return BRS_E_UNSUPPORTED; /* records hold it */
    if (!st->ordered)
        return brs__err(e, BRS_E_PARSE, "%s: bars of %s go back in time", pl->r->path,
                        pl->r->instr[0].symbol);
    pl->kept[i] = cnt;
    pl->has_local[i] = (uint8_t)st->has_local;
    l->late |= st->local_late;
    return BRS_OK;
}

/* Lazy path: block i's payload into its slot of the arena, checked (the same
 * checks as the columns path) but not decoded. */
static int load_block_lazy(par_load *pl, loader *l, uint32_t i, brs_error *e)
{
    brs__bt_lazy *lz = pl->lz;
    unsigned char *p = lz->payload + lz->poff[i];
    uint32_t cnt = pl->r->blocks[i].count;
    size_t usize = 0; /* the pages it writes are mapped in one call (reader.c) */
    int rc = brs__tick_inflate_bars(pl->r, &l->dec, i, p, &usize, e);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return BRS_E_UNSUPPORTED; /* records hold it */
    brs_barblock_view v;
    brs_barblock_stats st;
    const char *why = "";
    if (brs__barblock_view(p, usize, cnt, &v, &why))
        return brs__err(e, BRS_E_CORRUPT, "%s: block %u at offset %llu: bad compact bar block: %s",
                        pl->r->path, i, (unsigned long long)pl->r->blocks[i].offset, why);
    brs__barblock_scan(&v, &st, &pl->first[i], &pl->last[i]);
    if (!st.plain)
        return BRS_E_UNSUPPORTED;
    if (!st.ordered)
        return brs__err(e, BRS_E_PARSE, "%s: bars of %s go back in time", pl->r->path,
                        pl->r->instr[0].symbol);
    lz->plen[i] = (uint32_t)usize;
    lz->has_local[i] = (uint8_t)st.has_local;
    pl->kept[i] = cnt;
    l->late |= st.local_late;
    return BRS_OK;
}

static void *loader_main(void *arg)
{
    loader *l = arg;
    par_load *pl = l->pl;
    for (;;) {
        uint32_t i = __atomic_fetch_add(&pl->next, 1, __ATOMIC_RELAXED);
        if (i >= pl->r->n_blocks || i > __atomic_load_n(&pl->fail, __ATOMIC_RELAXED))
            break;
        brs_error e = {0};
        int rc;
        if (pl->lz) {
            rc = load_block_lazy(pl, l, i, &e);
            goto done;
        }
        if (!pl->dst) {
            rc = load_block_columns(pl, l, i, &e);
            goto done;
        }
        brs_market_event *p = pl->dst + pl->off[i];
        populate(p, (size_t)pl->r->blocks[i].count * sizeof *p, pl->page);
        rc = brs__tick_decode_block(pl->r, &l->dec, i, p, &e);
        const brs_barblock_stats *st = &l->dec.stats;
        if (!rc && l->dec.compact && st->ordered && st->max_instrument < pl->r->n_instr) {
            pl->kept[i] = pl->r->blocks[i].count; /* all bars, checked while decoding */
            l->late |= st->local_late;
        } else if (!rc) { /* records, or a compact block with something to report */
            rc = keep_bars(pl->r, p, pl->r->blocks[i].count, &pl->kept[i], &l->late, &e);
        }
    done:
        if (rc) {
            if (i < l->err_block) {
                l->err_block = i;
                l->err = e;
                l->err.code = rc;
            }
            uint32_t f = __atomic_load_n(&pl->fail, __ATOMIC_RELAXED);
            while (i < f && !__atomic_compare_exchange_n(&pl->fail, &f, i, 0, __ATOMIC_RELAXED,
                                                         __ATOMIC_RELAXED))
                ;
        }
    }
    return NULL;
}

/* Every block of pl on up to MAX_LOADERS threads (this one included). ld[]
 * holds what each saw; returns the lowest failed block's loader, or NULL. */
static const loader *run_loaders(par_load *pl, loader *ld, int *n_ld, int *late)
{
    uint32_t nb = pl->r->n_blocks;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n = ncpu < 1 ? 1 : ncpu > MAX_LOADERS ? MAX_LOADERS : (int)ncpu;
    if ((uint32_t)n > nb)
        n = nb ? (int)nb : 1;
    memset(ld, 0, MAX_LOADERS * sizeof *ld);
    int started = 1;
    for (int t = 0; t < n; t++) {
        ld[t].pl = pl;
        ld[t].err_block = UINT32_MAX;
    }
    for (int t = 1; t < n; t++) {
        if (pthread_create(&ld[t].th, NULL, loader_main, &ld[t]) != 0)
            break; /* fewer helpers: the work gets done all the same */
        started++;
    }
    loader_main(&ld[0]);
    for (int t = 1; t < started; t++)
        pthread_join(ld[t].th, NULL);
    const loader *bad = NULL;
    for (int t = 0; t < n; t++) {
        if (ld[t].err_block != UINT32_MAX && (!bad || ld[t].err_block < bad->err_block))
            bad = &ld[t];
        *late |= ld[t].late;
        brs__tick_decoder_free(&ld[t].dec);
    }
    *n_ld = n;
    return bad;
}

static uint64_t *block_offsets(const brs_tick_reader *r)
{
    uint64_t *off = malloc((r->n_blocks + 1) * sizeof *off);
    if (off) {
        off[0] = 0;
        for (uint32_t i = 0; i < r->n_blocks; i++)
            off[i + 1] = off[i] + r->blocks[i].count;
    }
    return off;
}

static size_t page_size(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

static int load_one_records(brs__bt_bars *b, const brs_tick_reader *r, brs_error *err)
{
    uint32_t nb = r->n_blocks;
    uint64_t *off = block_offsets(r);
    uint32_t *kept = calloc(nb ? nb : 1, sizeof *kept);
    b->bars[0] = malloc((r->n_events ? r->n_events : 1) * sizeof **b->bars);
    int rc = BRS_OK;
    if (!off || !kept || !b->bars[0]) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    par_load pl = {.r = r, .dst = b->bars[0], .off = off, .kept = kept, .fail = UINT32_MAX,
                   .page = page_size()};
    loader ld[MAX_LOADERS];
    int n_ld;
    const loader *bad = run_loaders(&pl, ld, &n_ld, &b->local_late);
    /* in file order: close the gaps left by non-bar events, check order across
     * blocks, and stop at the first damaged block as a sequential read would */
    brs_market_event *d = b->bars[0];
    uint64_t pos = 0;
    for (uint32_t i = 0; i < nb; i++) {
        if (bad && i == bad->err_block) {
            rc = brs__err(err, bad->err.code, "%s", bad->err.msg);
            goto out;
        }
        if (!kept[i])
            continue;
        if (pos && d[off[i]].ts_exchange < d[pos - 1].ts_exchange) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bars of %s go back in time", r->path, r->instr[0].symbol);
            goto out;
        }
        if (off[i] != pos)
            memmove(d + pos, d + off[i], kept[i] * sizeof *d);
        pos += kept[i];
    }
    b->n[0] = b->total = pos;
out:
    free(off);
    free(kept);
    return rc;
}

/* A file of compact bar blocks straight into columns (no records): 1 when the
 * file is not that (some block holds records or other events, or bars with
 * side or flags set), and nothing is kept; else BRS_OK or an error. */
static int load_one_columns(brs__bt_bars *b, const brs_tick_reader *r, brs_error *err)
{
    uint32_t nb = r->n_blocks;
    uint64_t nev = r->n_events ? r->n_events : 1;
    uint64_t *off = block_offsets(r);
    uint32_t *kept = calloc(nb ? nb : 1, sizeof *kept);
    uint8_t *has_local = calloc(nb ? nb : 1, 1);
    brs_barblock_cols c = {0};
    int64_t **all[] = {&c.ts, &c.ts_local, &c.open, &c.high, &c.low, &c.close, &c.volume};
    int ok = off && kept && has_local;
    for (int k = 0; k < 7; k++)
        ok &= (*all[k] = malloc(nev * sizeof(int64_t))) != NULL;
    int rc = BRS_OK, late = 0;
    if (!ok) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    par_load pl = {.r = r, .cols = c, .has_local = has_local, .off = off, .kept = kept,
                   .fail = UINT32_MAX, .page = page_size()};
    loader ld[MAX_LOADERS];
    int n_ld;
    const loader *bad = run_loaders(&pl, ld, &n_ld, &late);
    if (bad && bad->err.code == BRS_E_UNSUPPORTED) {
        rc = 1; /* the first block that matters is not plain compact bars */
        goto out;
    }
    if (bad) {
        rc = brs__err(err, bad->err.code, "%s", bad->err.msg);
        goto out;
    }
    int any_local = 0;
    for (uint32_t i = 0; i < nb; i++) {
        if (i && off[i] && kept[i] && c.ts[off[i]] < c.ts[off[i] - 1]) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bars of %s go back in time", r->path, r->instr[0].symbol);
            goto out;
        }
        any_local |= has_local[i];
    }
    if (any_local) { /* the blocks that stored no local time: it is ts */
        for (uint32_t i = 0; i < nb; i++)
            if (!has_local[i])
                memcpy(c.ts_local + off[i], c.ts + off[i], r->blocks[i].count * sizeof *c.ts);
    } else {
        free(c.ts_local); /* never written */
        c.ts_local = c.ts;
    }
    if (!(b->cols = calloc(1, sizeof *b->cols))) {
        if (c.ts_local == c.ts)
            c.ts_local = NULL;
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    b->cols[0] = (brs_bar_columns){.size = sizeof(brs_bar_columns), .n = off[nb], .ts = c.ts,
                                   .ts_local = c.ts_local, .open = c.open, .high = c.high,
                                   .low = c.low, .close = c.close, .volume = c.volume};
    memset(&c, 0, sizeof c); /* taken over */
    b->local_late = late;
    b->n[0] = b->total = off[nb];
out:
    for (int k = 0; k < 7; k++)
        if (k != 1 || c.ts_local != c.ts)
            free(*all[k]);
    free(off);
    free(kept);
    free(has_local);
    return rc;
}

/* A file of compact bar blocks kept as payloads (lazy): 1 when the file is
 * not that, or the arena cannot be had, and nothing is kept; else BRS_OK or
 * an error. The arena is sized for the widest payload a block may have;
 * only what is written is ever mapped. */
static int load_one_lazy(brs__bt_bars *b, const brs_tick_reader *r, brs_error *err)
{
    uint32_t nb = r->n_blocks;
    brs__bt_lazy *lz = calloc(1, sizeof *lz);
    uint64_t *off = block_offsets(r);
    uint32_t *kept = calloc(nb ? nb : 1, sizeof *kept);
    int64_t *first = calloc(nb ? nb : 1, sizeof *first), *last = calloc(nb ? nb : 1, sizeof *last);
    int rc = BRS_OK, late = 0;
    if (lz)
        lz->off = off; /* freed with lz unless taken over */
    else
        free(off);
    if (!lz || !off || !kept || !first || !last) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    lz->nb = nb;
    lz->poff = malloc((nb ? nb : 1) * sizeof *lz->poff);
    lz->plen = calloc(nb ? nb : 1, sizeof *lz->plen);
    lz->has_local = calloc(nb ? nb : 1, 1);
    if (!lz->poff || !lz->plen || !lz->has_local) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    uint64_t at = 0;
    for (uint32_t i = 0; i < nb; i++) {
        uint32_t cnt = r->blocks[i].count;
        lz->poff[i] = at;
        at += BRS_BARBLOCK_HDR_SIZE + (uint64_t)cnt * BRS_BARBLOCK_MAX_WIDTH + 8;
        at = (at + 63) & ~(uint64_t)63;
        lz->max_count = cnt > lz->max_count ? cnt : lz->max_count;
    }
    if (!(lz->payload = malloc(at ? at : 1))) {
        rc = 1; /* decoded columns need less than the bound: try them */
        goto out;
    }
    par_load pl = {.r = r, .lz = lz, .first = first, .last = last, .off = off, .kept = kept,
                   .fail = UINT32_MAX, .page = page_size()};
    loader ld[MAX_LOADERS];
    int n_ld;
    const loader *bad = run_loaders(&pl, ld, &n_ld, &late);
    if (bad && bad->err.code == BRS_E_UNSUPPORTED) {
        rc = 1;
        goto out;
    }
    if (bad) {
        rc = brs__err(err, bad->err.code, "%s", bad->err.msg);
        goto out;
    }
    for (uint32_t i = 0; i < nb; i++) {
        if (i && kept[i] && first[i] < last[i - 1]) {
            rc = brs__err(err, BRS_E_PARSE, "%s: bars of %s go back in time", r->path, r->instr[0].symbol);
            goto out;
        }
        lz->any_local |= lz->has_local[i];
    }
    if (!(b->cols = calloc(1, sizeof *b->cols))) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    b->cols[0] = (brs_bar_columns){.size = sizeof(brs_bar_columns), .n = off[nb]};
    b->lazy = lz;
    lz = NULL; /* taken over */
    b->local_late = late;
    b->n[0] = b->total = off[nb];
out:
    if (lz) {
        free(lz->payload);
        free(lz->poff);
        free(lz->plen);
        free(lz->has_local);
        free(lz->off);
        free(lz);
    }
    free(kept);
    free(first);
    free(last);
    return rc;
}

/* One instrument: columns when the file is all compact bar blocks (kept as
 * payloads when lazy), else records. */
static int load_one_instrument(brs__bt_bars *b, const brs_tick_reader *r, int lazy, brs_error *err)
{
    int rc = 1;
    if (r->version >= BRS_TICK_VERSION_BARS && lazy)
        rc = load_one_lazy(b, r, err);
    if (rc == 1 && r->version >= BRS_TICK_VERSION_BARS)
        rc = load_one_columns(b, r, err);
    return rc == 1 ? load_one_records(b, r, err) : rc;
}

/* ---- lazy bars: columns decoded when asked for ---------------------------- */

typedef struct fill_job {
    const brs__bt_lazy *lz;
    brs_barblock_cols dst; /* the whole columns; NULL: not decoded now */
    uint32_t next;         /* next block to claim (atomic) */
    size_t page;
} fill_job;

static void *fill_main(void *arg)
{
    fill_job *j = arg;
    const brs__bt_lazy *lz = j->lz;
    for (;;) {
        uint32_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= lz->nb)
            break;
        uint64_t o = lz->off[i];
        uint32_t cnt = (uint32_t)(lz->off[i + 1] - o);
        brs_barblock_cols at = {0};
        int64_t *const src[] = {j->dst.ts, j->dst.ts_local, j->dst.open, j->dst.high, j->dst.low,
                                j->dst.close, j->dst.volume};
        int64_t **to[] = {&at.ts, &at.ts_local, &at.open, &at.high, &at.low, &at.close, &at.volume};
        for (int k = 0; k < 7; k++)
            if (src[k]) {
                *to[k] = src[k] + o;
                populate(*to[k], cnt * sizeof(int64_t), j->page);
            }
        brs_barblock_view v;
        const char *why;
        /* checked at load: cannot fail now */
        if (brs__barblock_view(lz->payload + lz->poff[i], lz->plen[i], cnt, &v, &why))
            continue;
        brs__barblock_fill(&v, &at);
        if (at.ts_local && !v.has_local) /* a block without local time: it is ts */
            for (uint32_t t = 0; t < cnt; t++)
                at.ts_local[t] = at.ts ? at.ts[t] : 0;
    }
    return NULL;
}

int brs__bt_bars_columns(brs__bt_bars *b, uint32_t i, unsigned want, brs_error *err)
{
    brs__bt_lazy *lz = i == 0 ? b->lazy : NULL;
    if (!lz)
        return BRS_OK;
    want &= BRS_BARCOL_ALL;
    if (!want)
        want = BRS_BARCOL_ALL;
    if (want & BRS_BARCOL_TS_LOCAL) /* ts_local is ts where no block stores one */
        want |= BRS_BARCOL_TS;
    unsigned need = want & ~lz->have;
    if (!need)
        return BRS_OK;
    brs_bar_columns *c = &b->cols[0];
    uint64_t n = c->n ? c->n : 1;
    fill_job j = {.lz = lz, .page = page_size()};
    int64_t **dst[] = {&j.dst.ts, &j.dst.ts_local, &j.dst.open, &j.dst.high, &j.dst.low,
                       &j.dst.close, &j.dst.volume};
    const int64_t **keep[] = {&c->ts, &c->ts_local, &c->open, &c->high, &c->low, &c->close,
                              &c->volume};
    static const unsigned bit[] = {BRS_BARCOL_TS, BRS_BARCOL_TS_LOCAL, BRS_BARCOL_OPEN,
                                   BRS_BARCOL_HIGH, BRS_BARCOL_LOW, BRS_BARCOL_CLOSE,
                                   BRS_BARCOL_VOLUME};
    int ok = 1;
    for (int k = 0; k < 7; k++) {
        if (!(need & bit[k]) || (bit[k] == BRS_BARCOL_TS_LOCAL && !lz->any_local))
            continue;
        ok &= (*dst[k] = malloc(n * sizeof(int64_t))) != NULL;
    }
    if (!ok) {
        for (int k = 0; k < 7; k++)
            free(*dst[k]);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    if (j.dst.ts_local && !j.dst.ts) /* filled from ts in the same pass */
        j.dst.ts = (int64_t *)c->ts;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = ncpu < 1 ? 1 : ncpu > MAX_LOADERS ? MAX_LOADERS : (int)ncpu, started = 1;
    if ((uint32_t)nt > lz->nb)
        nt = lz->nb ? (int)lz->nb : 1;
    pthread_t th[MAX_LOADERS];
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&th[t], NULL, fill_main, &j) != 0)
            break;
        started++;
    }
    fill_main(&j);
    for (int t = 1; t < started; t++)
        pthread_join(th[t], NULL);
    if (j.dst.ts == c->ts)
        j.dst.ts = NULL; /* already held */
    for (int k = 0; k < 7; k++)
        if (*dst[k])
            *keep[k] = *dst[k];
    if ((need & BRS_BARCOL_TS_LOCAL) && !lz->any_local)
        c->ts_local = c->ts;
    lz->have |= need;
    return BRS_OK;
}

void brs__bt_lazy_block(const brs__bt_lazy *lz, const brs_bar_columns *cols, uint32_t k,
                        int64_t *buf, const int64_t **ts, uint64_t *ts_first, uint64_t *ts_step,
                        const int64_t **open, const int64_t **close, brs_barblock_view *v)
{
    uint64_t o = lz->off[k];
    uint32_t cnt = (uint32_t)(lz->off[k + 1] - o);
    size_t mc = lz->max_count;
    const char *why;
    (void)brs__barblock_view(lz->payload + lz->poff[k], lz->plen[k], cnt, v, &why); /* checked at load */
    brs_barblock_cols at = {0};
    if (lz->have & BRS_BARCOL_TS)
        *ts = cols->ts + o;
    else if (brs__barblock_ts_regular(v, ts_first, ts_step))
        *ts = NULL;
    else
        *ts = at.ts = buf;
    *close = lz->have & BRS_BARCOL_CLOSE ? cols->close + o : (at.close = buf + 2 * mc);
    if (lz->have & BRS_BARCOL_OPEN)
        *open = cols->open + o;
    else if (lz->have & BRS_BARCOL_CLOSE)
        *open = NULL; /* made from the closes where a bar needs it */
    else
        *open = at.open = buf + mc;
    brs__barblock_fill(v, &at);
}

static int load_ticks(brs__bt_bars *b, const char *path, int lazy, brs_error *err)
{
    brs_tick_reader r;
    int rc = brs__tick_open(&r, path, err);
    if (rc)
        return rc;
    if (r.n_instr == 1) {
        if (!(rc = alloc_instr(b, 1, err))) {
            b->instr[0] = r.instr[0];
            rc = load_one_instrument(b, &r, lazy, err);
        }
        if (!rc && !b->total)
            rc = brs__err(err, BRS_E_PARSE,
                          "%s: no BAR events (signal mode needs bars; book mode replays order flow)",
                          path);
        brs__tick_close(&r);
        if (rc)
            brs__bt_bars_free(b);
        return rc;
    }
    size_t *cap = NULL;
    if ((rc = alloc_instr(b, r.n_instr, err)))
        goto out;
    memcpy(b->instr, r.instr, r.n_instr * sizeof *b->instr);
    b->local_late = 1; /* not looked at: only one instrument's bars are ever skipped */
    cap = calloc(r.n_instr ? r.n_instr : 1, sizeof *cap);
    if (!cap) {
        rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        goto out;
    }
    /* decompression on a second thread while this one copies */
    if ((rc = brs__tick_readahead(&r, err)))
        goto out;
    while (r.cur < r.end || brs__tick_next_block_(&r) > 0) {
        /* a block of nothing but bars in order for one instrument: one memcpy */
        const brs_market_event *p = r.cur, *end = r.end;
        size_t cnt = (size_t)(end - p);
        uint32_t i0 = p->instrument;
        int plain = i0 < b->n_instr && b->n[i0] + cnt <= cap[i0];
        for (const brs_market_event *q = p; plain && q < end; q++)
            plain = q->kind == BRS_MEV_BAR && q->instrument == i0 &&
                    (q == p ? (!b->n[i0] || q->ts_exchange >= b->bars[i0][b->n[i0] - 1].ts_exchange)
                            : q->ts_exchange >= q[-1].ts_exchange);
        if (plain) {
            memcpy(b->bars[i0] + b->n[i0], p, cnt * sizeof *p);
            b->n[i0] += cnt;
            b->total += cnt;
            r.cur = end;
            continue;
        }
        for (; r.cur < r.end; r.cur++) {
            const brs_market_event *e = r.cur;
            if (e->kind != BRS_MEV_BAR)
                continue;
            uint32_t i = e->instrument;
            if (i >= b->n_instr) {
                rc = brs__err(err, BRS_E_PARSE, "%s: bar for instrument %u, the file has %u", path, i,
                              b->n_instr);
                goto out;
            }
            if (b->n[i] && e->ts_exchange < b->bars[i][b->n[i] - 1].ts_exchange) {
                rc = brs__err(err, BRS_E_PARSE, "%s: bars of %s go back in time", path,
                              b->instr[i].symbol);
                goto out;
            }
            if (b->n[i] == cap[i]) {
                size_t nc = cap[i] ? cap[i] * 2 : 1024;
                brs_market_event *g = realloc(b->bars[i], nc * sizeof *g);
                if (!g) {
                    rc = brs__err(err, BRS_E_NOMEM, "out of memory");
                    goto out;
                }
                b->bars[i] = g;
                cap[i] = nc;
            }
            b->bars[i][b->n[i]++] = *e;
            b->total++;
        }
    }
    if (r.iter_err.code) {
        rc = brs__err(err, r.iter_err.code, "%s", r.iter_err.msg);
        goto out;
    }
    if (!b->total)
        rc = brs__err(err, BRS_E_PARSE,
                      "%s: no BAR events (signal mode needs bars; book mode replays order flow)",
                      path);
out:
    free(cap);
    brs__tick_close(&r);
    if (rc)
        brs__bt_bars_free(b);
    return rc;
}

int brs__bt_bars_load(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err)
{
    memset(b, 0, sizeof *b);
    if (ends_with(path, ".csv") || ends_with(path, ".CSV"))
        return load_yahoo(b, path, symbol, err);
    return load_ticks(b, path, 0, err);
}

int brs__bt_bars_load_lazy(brs__bt_bars *b, const char *path, const char *symbol, brs_error *err)
{
    memset(b, 0, sizeof *b);
    if (ends_with(path, ".csv") || ends_with(path, ".CSV"))
        return load_yahoo(b, path, symbol, err);
    return load_ticks(b, path, 1, err);
}
