/* lobster.c: LOBSTER message files to tick events. LOBSTER times are seconds
 * after midnight, New York time; prices are dollars x 10000. With the matching
 * orderbook file the importer also seeds the book that existed before the first
 * message and reconciles, after every message, the liquidity that the message
 * file cannot show (levels outside the requested range that come into view):
 * such changes become SNAPSHOT-flagged L3 events on synthetic orders, so that a
 * replay reproduces the orderbook file row for row (docs/tick-format.md). The
 * orderbook file is read in lockstep with the messages, one row held at a time. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ticks/csvread.h"
#include "ticks/import.h"
#include "ticks/lbook.h"

#define SYNTH_ID0 (1ull << 62) /* synthetic order ids start here; LOBSTER ids are 32-bit */
#define LOB_DUMMY 9999999999ll

/* ---- the importer ---------------------------------------------------- */

typedef struct lob {
    brs_import_sink *s;
    brs_lbook book;
    uint32_t instr;
    int64_t day_ns;    /* midnight local time, in UTC ns */
    brs_csv_reader *obr; /* the orderbook file, read in lockstep with the messages */
    int64_t *ob;       /* its current row (ob_cols values): the book after message ob_rows */
    size_t ob_rows, ob_cols; /* rows read so far */
    const char *ob_path;
    uint64_t next_synth;
    brs_market_event msg[256];
    int nmsg;
    brs_llevel *ours;  /* reconcile's copy of one side's levels, reused */
    size_t ours_cap;
    uint64_t row;      /* message rows done */
    int64_t ts;
    int64_t tick;      /* tick size: prices of types 1-4 are multiples of it */
    int64_t last_t;    /* the previous message's time (ns after midnight) */
    uint64_t last_line;
    uint64_t n_reconciled; /* messages after which the book had to be reconciled */
    uint64_t n_restored;   /* orders put back because a message named them */
    uint64_t n_priced, n_size_gt_price; /* type 1-4 rows; of them, Size > Price */
} lob;

static int push(lob *l, uint8_t kind, uint8_t side, uint16_t flags, int64_t price, int64_t qty,
                uint64_t id, int64_t aux, brs_error *err)
{
    if (l->nmsg == (int)BRS__ARRAY_LEN(l->msg)) { /* long reconciliations: flush early */
        for (int i = 0; i < l->nmsg; i++) {
            int rc = brs__sink_add(l->s, &l->msg[i], err);
            if (rc)
                return rc;
        }
        l->nmsg = 0;
    }
    brs_market_event *e = &l->msg[l->nmsg++];
    memset(e, 0, sizeof *e);
    e->ts_exchange = e->ts_local = l->ts;
    e->kind = kind;
    e->side = side;
    e->flags = flags;
    e->instrument = l->instr;
    e->price = price;
    e->qty = qty;
    e->order_id = id;
    e->aux = aux;
    if (flags & BRS_MEVF_SNAPSHOT)
        l->s->synthetic++;
    return BRS_OK;
}

static int flush_msg(lob *l, brs_error *err)
{
    if (l->nmsg == 0)
        return BRS_OK;
    l->msg[l->nmsg - 1].flags |= BRS_MEVF_LAST;
    for (int i = 0; i < l->nmsg; i++) {
        int rc = brs__sink_add(l->s, &l->msg[i], err);
        if (rc)
            return rc;
    }
    l->nmsg = 0;
    return BRS_OK;
}

/* Change the level side/price to hold target in total, with SNAPSHOT-flagged
 * events: a synthetic ADD to grow it; to shrink it, CANCELs of synthetic
 * orders first, then of the newest real orders there. */
static int set_level(lob *l, uint8_t side, int64_t price, int64_t target, brs_error *err)
{
    int64_t cur = brs__lb_level_qty(&l->book, side, price);
    int rc = BRS_OK;
    if (target > cur) {
        uint64_t id = l->next_synth++;
        if (brs__lb_add(&l->book, id, side, price, target - cur))
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        return push(l, BRS_MEV_ADD, side, BRS_MEVF_SNAPSHOT, price, target - cur, id, 0, err);
    }
    while (cur > target && !rc) {
        brs_lorder *pick = NULL;
        for (size_t i = 0; i <= l->book.mask; i++) {
            brs_lorder *o = &l->book.slot[i];
            if (o->id && o->side == side && o->price == price &&
                (!pick || (o->id >= SYNTH_ID0) > (pick->id >= SYNTH_ID0) ||
                 ((o->id >= SYNTH_ID0) == (pick->id >= SYNTH_ID0) && o->id > pick->id)))
                pick = o;
        }
        if (!pick)
            break;
        int64_t q = pick->qty < cur - target ? pick->qty : cur - target;
        rc = push(l, BRS_MEV_CANCEL, side, BRS_MEVF_SNAPSHOT | (q == pick->qty ? BRS_MEVF_FULL : 0),
                  price, q, pick->id, 0, err);
        brs__lb_reduce(&l->book, pick, q);
        cur -= q;
    }
    return rc;
}

static int cmp_asc(const void *a, const void *b)
{
    int64_t x = ((const brs_llevel *)a)->price, y = ((const brs_llevel *)b)->price;
    return x < y ? -1 : x > y;
}

/* Make the visible part of the book equal orderbook row r. */
static int reconcile(lob *l, const int64_t *r, brs_error *err)
{
    size_t n = l->ob_cols / 4;
    for (int s = 0; s < 2; s++) {
        uint8_t side = s == 0 ? BRS_SELL : BRS_BUY;
        size_t off = s == 0 ? 0 : 2;
        brs_llevel tgt[256];
        size_t k = 0;
        for (size_t i = 0; i < n && k < BRS__ARRAY_LEN(tgt); i++) {
            int64_t p = r[4 * i + off], q = r[4 * i + off + 1];
            if (q > 0 && p != LOB_DUMMY && p != -LOB_DUMMY)
                tgt[k++] = (brs_llevel){p, q};
        }
        int full = k == n;
        int64_t worst = k ? tgt[k - 1].price : 0;
        /* levels we hold inside the visible range that the row does not show */
        size_t nl = l->book.nlv[side];
        if (nl > l->ours_cap) { /* grows to the most levels a side held: no malloc per message */
            size_t nc = l->ours_cap ? l->ours_cap : 64;
            while (nc < nl)
                nc *= 2;
            brs_llevel *no = realloc(l->ours, nc * sizeof *no);
            if (!no)
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            l->ours = no;
            l->ours_cap = nc;
        }
        brs_llevel *ours = l->ours;
        if (nl) {
            memcpy(ours, l->book.lv[side], nl * sizeof *ours);
            qsort(ours, nl, sizeof *ours, cmp_asc);
        }
        int rc = BRS_OK;
        for (size_t i = 0; i < nl && !rc; i++) {
            int64_t p = ours[i].price;
            int in_view = !full || (side == BRS_SELL ? p <= worst : p >= worst);
            int shown = 0;
            for (size_t j = 0; j < k; j++)
                shown |= tgt[j].price == p;
            if (in_view && !shown)
                rc = set_level(l, side, p, 0, err);
        }
        for (size_t j = 0; j < k && !rc; j++)
            rc = set_level(l, side, tgt[j].price, tgt[j].qty, err);
        if (rc)
            return rc;
    }
    return BRS_OK;
}

/* Read the next orderbook row into l->ob: 1, or 0 at the end of the file, or
 * a negative code. Only the current row is kept: row i is the book after
 * message i, so the two files are read side by side. */
static int ob_next(lob *l, brs_error *err)
{
    const brs_csv_row *row;
    int rc = brs__csv_next(l->obr, &row, err);
    if (rc <= 0)
        return rc;
    if (l->ob_cols == 0) {
        if (row->n == 0 || row->n % 4)
            return brs__err(err, BRS_E_PARSE, "%s:%llu: %zu fields; an orderbook row has 4 per level",
                            row->file, (unsigned long long)row->line, row->n);
        l->ob = malloc(row->n * sizeof *l->ob);
        if (!l->ob)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        l->ob_cols = row->n;
    }
    if (row->n != l->ob_cols)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: %zu fields, the first row had %zu", row->file,
                        (unsigned long long)row->line, row->n, l->ob_cols);
    static const char *const names[4] = {"AskPrice", "AskSize", "BidPrice", "BidSize"};
    for (size_t i = 0; i < row->n; i++) {
        rc = brs__csv_int(row, i, names[i % 4], &l->ob[i], err);
        if (rc)
            return rc;
    }
    /* A row that cannot be a book: negative sizes, prices <= 0 on a level
     * that holds something, asks not rising or bids not falling level by
     * level, best bid at or above best ask (crossed). */
    const int64_t *r = l->ob;
    unsigned long long ln = (unsigned long long)row->line;
    int64_t prev_ask = 0, prev_bid = 0;
    int have_ask = 0, have_bid = 0;
    for (size_t i = 0; i < row->n / 4; i++) {
        for (int k = 0; k < 2; k++) {
            int64_t p = r[4 * i + 2 * k], q = r[4 * i + 2 * k + 1];
            size_t fp = 4 * i + 2 * k + 1; /* 1-based field of the price */
            if (q < 0)
                return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s, level %zu): %lld is negative",
                                row->file, ln, fp + 1, names[2 * k + 1], i + 1, (long long)q);
            if (q == 0 || p == (k ? -LOB_DUMMY : LOB_DUMMY))
                continue; /* an empty level */
            if (p <= 0)
                return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s, level %zu): %lld is not a price",
                                row->file, ln, fp, names[2 * k], i + 1, (long long)p);
            int64_t *prev = k ? &prev_bid : &prev_ask;
            int *have = k ? &have_bid : &have_ask;
            if (*have && (k ? p >= *prev : p <= *prev))
                return brs__err(err, BRS_E_PARSE, "%s:%llu: field %zu (%s, level %zu): %lld is not %s than level %zu's %lld",
                                row->file, ln, fp, names[2 * k], i + 1, (long long)p, k ? "lower" : "higher",
                                i, (long long)*prev);
            *prev = p;
            *have = 1;
        }
        if (i == 0 && have_ask && have_bid && prev_bid >= prev_ask)
            return brs__err(err, BRS_E_PARSE, "%s:%llu: crossed book: best bid %lld (field 3) >= best ask %lld (field 1); "
                            "columns swapped?", row->file, ln, (long long)prev_bid, (long long)prev_ask);
    }
    l->ob_rows++;
    return 1;
}

typedef struct lmsg {
    int64_t t;
    int64_t type, id, size, price, dir;
} lmsg;

/* Seconds after midnight with 9 decimals, for messages. */
static void fmt_secs(char *buf, size_t n, int64_t t)
{
    int64_t a = t < 0 ? -t : t;
    snprintf(buf, n, "%s%lld.%09lld", t < 0 ? "-" : "", (long long)(a / 1000000000), (long long)(a % 1000000000));
}

/* One message row, checked: 6 fields, a time of day, a known type and
 * direction, and values that can be right (sizes and prices > 0 for types
 * 1-6, prices of types 1-4 on the tick). */
static int parse_msg(const lob *l, const brs_csv_row *row, lmsg *m, brs_error *err)
{
    int rc;
    if (row->n != 6)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: %zu fields, a LOBSTER message has 6 (Time,Type,OrderID,Size,Price,Direction)",
                        row->file, (unsigned long long)row->line, row->n);
    if ((rc = brs__csv_dec(row, 0, "Time", 1000000000, &m->t, err)) ||
        (rc = brs__csv_int(row, 1, "Type", &m->type, err)) ||
        (rc = brs__csv_int(row, 2, "OrderID", &m->id, err)) ||
        (rc = brs__csv_int(row, 3, "Size", &m->size, err)) ||
        (rc = brs__csv_int(row, 4, "Price", &m->price, err)) ||
        (rc = brs__csv_int(row, 5, "Direction", &m->dir, err)))
        return rc;
    const char *f = row->file;
    unsigned long long ln = (unsigned long long)row->line;
    if (m->t < 0 || m->t > 86400ll * 1000000000ll)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 1 (Time): %s is not a time of day (0 to 86400 seconds after midnight)",
                        f, ln, row->f[0]);
    if (m->type < 1 || m->type > 7)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 2 (Type): %lld is not a LOBSTER event type (1..7)",
                        f, ln, (long long)m->type);
    if (m->dir != 1 && m->dir != -1)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 6 (Direction): %lld is neither 1 (buy) nor -1 (sell)",
                        f, ln, (long long)m->dir);
    if (m->type != 7 && m->id < 0)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 3 (OrderID): %lld is negative", f, ln, (long long)m->id);
    if (m->type != 7 && (uint64_t)m->id >= SYNTH_ID0)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 3 (OrderID): %lld is too large (LOBSTER ids are below 2^62)",
                        f, ln, (long long)m->id);
    if (m->type <= 4 && m->id == 0)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 3 (OrderID): 0; a type %lld event names an order (id > 0)",
                        f, ln, (long long)m->type);
    if (m->type != 7 && m->size <= 0)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 4 (Size): %lld; a type %lld event needs a size > 0",
                        f, ln, (long long)m->size, (long long)m->type);
    if (m->type != 7 && m->price <= 0)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 5 (Price): %lld; a type %lld event needs a price > 0 (dollars x 10000)",
                        f, ln, (long long)m->price, (long long)m->type);
    if (m->type <= 4 && m->price % l->tick)
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 5 (Price): %lld is not a multiple of the tick size %lld "
                        "(visible orders of type 1-4 rest at tick prices; Size and Price swapped?)",
                        f, ln, (long long)m->price, (long long)l->tick);
    if (l->row > 0 && m->t < l->last_t) {
        char prev[32];
        fmt_secs(prev, sizeof prev, l->last_t);
        return brs__err(err, BRS_E_PARSE, "%s:%llu: field 1 (Time): %s is before %s on line %llu: times go backwards",
                        f, ln, row->f[0], prev, (unsigned long long)l->last_line);
    }
    return BRS_OK;
}

/* The book that existed before message 1: orderbook row 1 with message 1 undone. */
static int seed(lob *l, const lmsg *m, brs_error *err)
{
    brs_lbook pre = {0};
    size_t n = l->ob_cols / 4;
    int rc = BRS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        const int64_t *r = l->ob + 4 * i; /* row 1, read before message 1 */
        if (r[1] > 0 && r[0] != LOB_DUMMY)
            rc = brs__lb_level_add(&pre, BRS_SELL, r[0], r[1]);
        if (!rc && r[3] > 0 && r[2] != -LOB_DUMMY)
            rc = brs__lb_level_add(&pre, BRS_BUY, r[2], r[3]);
    }
    uint8_t side = m->dir == 1 ? BRS_BUY : BRS_SELL;
    if (!rc && m->type == 1)
        rc = brs__lb_level_add(&pre, side, m->price, -m->size);
    else if (!rc && m->type >= 2 && m->type <= 4)
        rc = brs__lb_level_add(&pre, side, m->price, m->size);
    if (rc) {
        brs__lb_free(&pre);
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    }
    l->ts = l->day_ns + m->t;
    rc = push(l, BRS_MEV_SNAPSHOT_BEGIN, 0, BRS_MEVF_SNAPSHOT, 0, 0, 0, 0, err);
    for (int s = 0; s < 2 && !rc; s++) {
        if (pre.nlv[s])
            qsort(pre.lv[s], pre.nlv[s], sizeof *pre.lv[s], cmp_asc);
        for (size_t i = 0; i < pre.nlv[s] && !rc; i++) {
            uint64_t id = l->next_synth++;
            if (brs__lb_add(&l->book, id, (uint8_t)s, pre.lv[s][i].price, pre.lv[s][i].qty))
                rc = brs__err(err, BRS_E_NOMEM, "out of memory");
            else
                rc = push(l, BRS_MEV_ADD, (uint8_t)s, BRS_MEVF_SNAPSHOT, pre.lv[s][i].price,
                          pre.lv[s][i].qty, id, 0, err);
        }
    }
    if (!rc)
        rc = push(l, BRS_MEV_SNAPSHOT_END, 0, BRS_MEVF_SNAPSHOT, 0, 0, 0, 0, err);
    if (!rc)
        rc = flush_msg(l, err);
    brs__lb_free(&pre);
    return rc;
}

/* Take size out of order id, or, when the order is older than the file, out of
 * the synthetic orders that stand for the level's earlier liquidity. */
static int take_out(lob *l, uint8_t kind, uint8_t side, int64_t price, int64_t size, uint64_t id,
                    int full_flag, brs_error *err)
{
    brs_lorder *o = brs__lb_find(&l->book, id);
    if (o) {
        int64_t q = size < o->qty ? size : o->qty;
        uint16_t f = (kind == BRS_MEV_CANCEL && q == o->qty) ? BRS_MEVF_FULL : 0;
        int rc = push(l, kind, o->side, f, o->price, q, id, 0, err);
        brs__lb_reduce(&l->book, o, q);
        return rc;
    }
    int64_t left = size;
    int rc = BRS_OK;
    while (left > 0 && !rc) {
        brs_lorder *pick = NULL;
        for (size_t i = 0; l->book.slot && i <= l->book.mask; i++) {
            brs_lorder *c = &l->book.slot[i];
            if (c->id >= SYNTH_ID0 && c->side == side && c->price == price && (!pick || c->id < pick->id))
                pick = c;
        }
        if (!pick)
            break;
        int64_t q = left < pick->qty ? left : pick->qty;
        uint16_t f = (kind == BRS_MEV_CANCEL && q == pick->qty) ? BRS_MEVF_FULL : 0;
        rc = push(l, kind, side, f, price, q, pick->id, (int64_t)id, err);
        brs__lb_reduce(&l->book, pick, q);
        left -= q;
    }
    if (rc || left != size)
        return rc;
    if (!l->obr) /* no orderbook file: orders older than the file are unknown; keep the message */
        return push(l, kind, side, full_flag ? BRS_MEVF_FULL : 0, price, size, id, 0, err);
    /* With the orderbook file every visible order is accounted for, so this
     * one was taken out by an earlier reconciliation that guessed the wrong
     * order (or is older than the file at a level with no synthetic liquidity
     * left). Put it back first (SNAPSHOT-flagged), so that no event ever names
     * an order the book does not hold; the reconciliation after this message
     * makes the level agree with the orderbook row again. */
    if (brs__lb_add(&l->book, id, side, price, size))
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    l->n_restored++;
    rc = push(l, BRS_MEV_ADD, side, BRS_MEVF_SNAPSHOT, price, size, id, 0, err);
    brs_lorder *r = brs__lb_find(&l->book, id);
    if (!rc && r) {
        rc = push(l, kind, side, kind == BRS_MEV_CANCEL ? BRS_MEVF_FULL : 0, price, size, id, 0, err);
        brs__lb_reduce(&l->book, r, size);
    }
    return rc;
}

static int msg_row(void *ud, const brs_csv_row *row, brs_error *err)
{
    lob *l = ud;
    lmsg m;
    int rc = parse_msg(l, row, &m, err);
    if (rc)
        return rc;
    if (l->obr) { /* row 1 was read up front; rows 2.. arrive with their messages */
        if (l->row > 0) {
            rc = ob_next(l, err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return brs__err(err, BRS_E_PARSE, "%s:%llu: the orderbook file %s has only %zu rows",
                                row->file, (unsigned long long)row->line, l->ob_path, l->ob_rows);
        } else if ((rc = seed(l, &m, err))) {
            return rc;
        }
    }
    l->ts = l->day_ns + m.t;
    l->last_t = m.t;
    l->last_line = row->line;
    if (m.type <= 4) {
        l->n_priced++;
        l->n_size_gt_price += m.size > m.price;
    }
    uint8_t side = m.dir == 1 ? BRS_BUY : BRS_SELL, aggr = m.dir == 1 ? BRS_SELL : BRS_BUY;
    switch (m.type) {
    case 1:
        if (brs__lb_find(&l->book, (uint64_t)m.id))
            return brs__err(err, BRS_E_PARSE, "%s:%llu: field 3 (OrderID): order %lld is already in the book",
                            row->file, (unsigned long long)row->line, (long long)m.id);
        if (brs__lb_add(&l->book, (uint64_t)m.id, side, m.price, m.size))
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        rc = push(l, BRS_MEV_ADD, side, 0, m.price, m.size, (uint64_t)m.id, 0, err);
        break;
    case 2:
    case 3:
        rc = take_out(l, BRS_MEV_CANCEL, side, m.price, m.size, (uint64_t)m.id, m.type == 3, err);
        break;
    case 4:
        rc = take_out(l, BRS_MEV_EXECUTE, side, m.price, m.size, (uint64_t)m.id, 0, err);
        if (!rc)
            rc = push(l, BRS_MEV_TRADE, aggr, 0, m.price, m.size, 0, m.id, err);
        break;
    case 5: /* hidden liquidity: a print, the visible book is untouched */
        rc = push(l, BRS_MEV_TRADE, aggr, BRS_MEVF_HIDDEN, m.price, m.size, 0, m.id, err);
        break;
    case 6: /* cross (auction) trade */
        rc = push(l, BRS_MEV_TRADE, aggr, 0, m.price, m.size, 0, m.id, err);
        break;
    case 7:
        rc = push(l, BRS_MEV_STATUS, 0, 0, m.price, 0, 0,
                  m.price == 1 ? BRS_STATUS_RESUME : BRS_STATUS_HALT, err);
        break;
    }
    if (!rc && l->obr) {
        uint64_t before = l->s->synthetic;
        rc = reconcile(l, l->ob, err);
        l->n_reconciled += l->s->synthetic != before;
    }
    if (!rc)
        rc = flush_msg(l, err);
    l->row++;
    return rc;
}

/* New York's offset from UTC in minutes on day (00:00 UTC, ns): US daylight
 * saving time rules since 2007, and 1987..2006 before that. */
static int64_t ny_offset_min(int y, int64_t day_ns)
{
    int64_t days = day_ns / 86400000000000ll;
    /* days since the epoch of the DST start and end Sundays; 1970-01-01 was a
     * Thursday (weekday 4 with Sunday = 0) */
    int start_m = y >= 2007 ? 3 : 4, start_n = y >= 2007 ? 2 : 1;
    int end_m = y >= 2007 ? 11 : 10, end_n = y >= 2007 ? 1 : -1; /* -1: last Sunday */
    int64_t bounds[2];
    for (int k = 0; k < 2; k++) {
        int m = k ? end_m : start_m, n = k ? end_n : start_n;
        char buf[16];
        int64_t ns = 0;
        snprintf(buf, sizeof buf, "%04d-%02d-01", y, n < 0 ? m + 1 : m);
        brs__parse_time(buf, &ns);
        int64_t first = ns / 86400000000000ll;
        if (n < 0) {
            int64_t d = first - 1; /* last day of m */
            bounds[k] = d - ((d + 4) % 7);
        } else {
            bounds[k] = first + (7 - ((first + 4) % 7)) % 7 + 7 * (n - 1);
        }
    }
    return days >= bounds[0] && days < bounds[1] ? -240 : -300;
}

/* A file can pass every row check and still be wrong as a whole: columns
 * swapped, or an orderbook file of another day. Say so (a warning: the
 * numbers may be unusual but right). Thresholds: real files have Size below
 * Price in every row (a share price under $0.01 x Size is rare), and need a
 * reconciliation after a minority of messages (AAPL level 10: 1.4%, AMZN
 * level 1: 16.6%; its orderbook file with two columns swapped: 58%). */
static void warn_suspicious(const lob *l, const char *path)
{
    if (l->n_priced >= 20 && l->n_size_gt_price * 2 > l->n_priced)
        BRS_LOG(BRS_LOG_WARN, "import", "LOBSTER file looks like Size and Price are swapped: most orders are larger than their price",
                BRS_KV_S("file", path), BRS_KV_U("rows", l->n_priced), BRS_KV_U("size_above_price", l->n_size_gt_price));
    if (l->obr && l->row >= 100 && l->n_reconciled * 2 > l->row)
        BRS_LOG(BRS_LOG_WARN, "import", "the orderbook file disagrees with the messages after most of them; swapped columns, or files of different days or tickers?",
                BRS_KV_S("file", path), BRS_KV_S("orderbook", l->ob_path), BRS_KV_U("messages", l->row),
                BRS_KV_U("reconciled", l->n_reconciled));
    if (l->obr)
        BRS_LOG(BRS_LOG_DEBUG, "import", "LOBSTER reconciliation", BRS_KV_S("file", path),
                BRS_KV_U("messages", l->row), BRS_KV_U("reconciled", l->n_reconciled),
                BRS_KV_U("restored", l->n_restored));
    if (l->n_restored)
        BRS_LOG(BRS_LOG_INFO, "import", "orders named by a message after a reconciliation had taken them out were put back first",
                BRS_KV_S("file", path), BRS_KV_U("orders", l->n_restored));
}

int brs__import_lobster(brs_import_sink *s, const char *path, const brs_import_opts *o, brs_error *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char sym[BRS_SYMBOL_MAX], date[11] = "";
    size_t us = strcspn(base, "_");
    snprintf(sym, sizeof sym, "%s", o->symbol ? o->symbol : "");
    if (!o->symbol)
        snprintf(sym, sizeof sym, "%.*s", (int)(us < sizeof sym ? us : sizeof sym - 1), base);
    if (o->date)
        snprintf(date, sizeof date, "%s", o->date);
    else if (base[us] == '_' && strlen(base + us + 1) >= 10)
        snprintf(date, sizeof date, "%.10s", base + us + 1);
    int64_t day;
    int y, mo, d;
    if (!date[0] || brs__parse_time(date, &day) || strlen(date) != 10 ||
        sscanf(date, "%4d-%2d-%2d", &y, &mo, &d) != 3)
        return brs__err(err, BRS_E_INVAL,
                        "%s: cannot tell the trading day: name the file as LOBSTER does "
                        "(TICKER_YYYY-MM-DD_..._message_N.csv) or pass --date YYYY-MM-DD", path);
    int64_t off = o->utc_offset_set ? o->utc_offset_min : ny_offset_min(y, day);
    lob l;
    memset(&l, 0, sizeof l);
    l.s = s;
    l.day_ns = day - off * 60000000000ll;
    l.next_synth = SYNTH_ID0;
    l.ob_path = o->orderbook;
    l.tick = o->tick_size ? o->tick_size : 100;
    int rc = brs__sink_instrument(s, sym, 10000, o->tick_size ? o->tick_size : 100, o->lot_size, &l.instr, err);
    if (!rc && o->orderbook && !(rc = brs__csv_open(&l.obr, o->orderbook, err))) {
        rc = ob_next(&l, err);
        if (rc == 0)
            rc = brs__err(err, BRS_E_PARSE, "%s: the orderbook file is empty", o->orderbook);
        else if (rc == 1)
            rc = BRS_OK;
    }
    if (!rc)
        rc = brs__csv_each(path, msg_row, &l, s->progress, &s->bytes_done, err);
    if (!rc && l.obr) { /* rows left over: count (and check) them for the error */
        while ((rc = ob_next(&l, err)) == 1)
            ;
        if (!rc && l.row != l.ob_rows)
            rc = brs__err(err, BRS_E_PARSE, "%s: %llu messages but %zu orderbook rows in %s", path,
                          (unsigned long long)l.row, l.ob_rows, o->orderbook);
    }
    if (!rc)
        warn_suspicious(&l, path);
    brs__lb_free(&l.book);
    brs__csv_close(l.obr);
    free(l.ob);
    free(l.ours);
    return rc;
}
