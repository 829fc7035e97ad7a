/* ticks.c: tick files for Python. read_ticks decodes the selected blocks of a
 * .ticks.zst file straight into one buffer (hugebuf.c) of 64-byte records, or
 * of the columns a DataFrame adopts (numpy views them, no copy and no Python
 * call per event), on up to four threads with the GIL released; write_ticks
 * hands records to the host's writer. Both use host/ticks (the reader and
 * writer the binary uses). */
#include "bourse_py.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"
#include "ticks/tickfile.h"

static PyObject *instruments_list(const brs_instrument *in, uint32_t n)
{
    PyObject *l = PyList_New(n);
    if (!l)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        PyObject *d = Py_BuildValue("{s:I,s:s,s:L,s:L,s:L,s:L}", "id", in[i].id, "symbol",
                                    in[i].symbol, "price_scale", (long long)in[i].price_scale,
                                    "tick_size", (long long)in[i].tick_size, "lot_size",
                                    (long long)in[i].lot_size, "min_qty", (long long)in[i].min_qty);
        if (!d) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, d);
    }
    return l;
}

/* ---- parallel block decoding ---------------------------------------------- */

typedef struct rd_job {
    brs_tick_reader *r;
    const uint32_t *blocks;  /* selected block indexes */
    const uint64_t *slot;    /* first record of each selected block in out */
    uint64_t *kept;          /* records kept per selected block */
    uint32_t n_sel;
    brs_market_event *out;   /* records mode: the records; NULL in columns mode */
    /* columns mode: 7 int64 rows (ts_exchange, ts_local, the 5 payload words)
     * of cap entries each, then instrument (u32), flags (u16), kind, side (u8),
     * and the symbol codes pandas' Categorical takes (int8, int16 or int32 by
     * the number of instruments, -1 for an id outside the table) */
    int64_t *i64;
    uint64_t cap;
    uint8_t *kind, *side;
    uint16_t *flags;
    uint32_t *instr;
    int8_t *sym8;
    int16_t *sym16;
    int32_t *sym32;
    uint32_t n_instr;
    atomic_ullong bad_sym;   /* kept records whose instrument is not in the table */
    atomic_ullong kinds_seen; /* bit k: a kept record of kind k (bit 63: kind >= 63) */
    atomic_uint side_max;    /* the largest side of a kept record */
    uint32_t kinds;          /* bit per kind; 0 = every kind */
    const uint8_t *imask;    /* per instrument, NULL = every instrument */
    uint32_t n_imask;
    int64_t start, end;      /* [start, end) on ts_exchange */
    atomic_uint next;
    pthread_mutex_t mu;
    uint32_t err_block;      /* lowest failing selected block, UINT32_MAX none */
    size_t page;             /* the page size, for rd_populate */
    brs_error err;
} rd_job;

static inline int rd_keep(const rd_job *j, const brs_market_event *ev)
{
    if (j->kinds && !(j->kinds & (1u << ev->kind)))
        return 0;
    if (j->imask && (ev->instrument >= j->n_imask || !j->imask[ev->instrument]))
        return 0;
    return ev->ts_exchange >= j->start && ev->ts_exchange < j->end;
}

/* Columns mode: the block's kept records scattered into the columns at its slot. */
static uint64_t rd_scatter(rd_job *j, uint64_t at, const brs_market_event *src, uint64_t n, int all)
{
    int64_t *r[7];
    for (int c = 0; c < 7; c++)
        r[c] = j->i64 + (uint64_t)c * j->cap + at;
    uint64_t w = 0, bad = 0, seen = 0;
    unsigned smax = 0;
    for (uint64_t i = 0; i < n; i++) {
        const brs_market_event *ev = &src[i];
        if (!all && !rd_keep(j, ev))
            continue;
        seen |= 1ull << (ev->kind < 63 ? ev->kind : 63);
        smax = ev->side > smax ? ev->side : smax;
        r[0][w] = ev->ts_exchange;
        r[1][w] = ev->ts_local;
        r[2][w] = ev->price;
        r[3][w] = ev->qty;
        r[4][w] = (int64_t)ev->order_id;
        r[5][w] = ev->aux;
        r[6][w] = ev->spare;
        j->kind[at + w] = ev->kind;
        j->side[at + w] = ev->side;
        j->flags[at + w] = ev->flags;
        j->instr[at + w] = ev->instrument;
        int32_t code = ev->instrument < j->n_instr ? (int32_t)ev->instrument : -1;
        bad += code < 0;
        if (j->sym8)
            j->sym8[at + w] = (int8_t)code;
        else if (j->sym16)
            j->sym16[at + w] = (int16_t)code;
        else
            j->sym32[at + w] = code;
        w++;
    }
    if (bad)
        atomic_fetch_add(&j->bad_sym, bad);
    atomic_fetch_or(&j->kinds_seen, seen);
    unsigned cur = atomic_load(&j->side_max);
    while (smax > cur && !atomic_compare_exchange_weak(&j->side_max, &cur, smax))
        ;
    return w;
}

/* Map [p, p + bytes) before it is written: the result is fresh memory, and
 * one call per range costs less than a page fault per 4 KiB page (a quarter
 * of a read's CPU time on this VM). Advice only: where the kernel refuses it,
 * the writes fault as usual. */
static void rd_populate(const rd_job *j, void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = j->page;
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page - 1), z = (uintptr_t)p + bytes;
    if (bytes)
        (void)madvise((void *)a, z - a, MADV_POPULATE_WRITE);
#else
    (void)j, (void)p, (void)bytes;
#endif
}

static void *rd_thread(void *p)
{
    rd_job *j = p;
    brs_tick_decoder dec;
    memset(&dec, 0, sizeof dec);
    brs_market_event *scratch = NULL;
    size_t scratch_cap = 0;
    for (;;) {
        uint32_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->n_sel)
            break;
        uint32_t bi = j->blocks[k];
        uint64_t n = j->r->blocks[bi].count;
        brs_market_event *dst;
        if (j->out) {
            dst = j->out + j->slot[k];
            rd_populate(j, dst, n * sizeof *dst);
        } else {
            uint64_t at = j->slot[k];
            for (int c = 0; c < 7; c++)
                rd_populate(j, j->i64 + (uint64_t)c * j->cap + at, n * 8);
            rd_populate(j, j->instr + at, n * 4);
            rd_populate(j, j->flags + at, n * 2);
            rd_populate(j, j->kind + at, n);
            rd_populate(j, j->side + at, n);
            rd_populate(j, j->sym8 ? (void *)(j->sym8 + at) : j->sym16 ? (void *)(j->sym16 + at)
                                                                      : (void *)(j->sym32 + at),
                        n * (j->sym8 ? 1 : j->sym16 ? 2 : 4));
            if (scratch_cap < n) {
                free(scratch);
                scratch_cap = n;
                scratch = malloc(n * sizeof *scratch);
            }
            dst = scratch;
        }
        brs_error e = {0};
        int rc = dst ? brs__tick_decode_block(j->r, &dec, bi, dst, &e)
                     : brs__err(&e, BRS_E_NOMEM, "out of memory");
        if (rc) {
            pthread_mutex_lock(&j->mu);
            if (k < j->err_block) {
                j->err_block = k;
                j->err = e;
            }
            pthread_mutex_unlock(&j->mu);
            j->kept[k] = 0;
            continue;
        }
        const brs_tick_block_info *b = &j->r->blocks[bi];
        int all = !j->kinds && !j->imask && b->first_ts >= j->start && b->last_ts < j->end;
        if (!j->out) {
            j->kept[k] = rd_scatter(j, j->slot[k], dst, n, all);
            continue;
        }
        if (all) {
            j->kept[k] = n;
            continue;
        }
        uint64_t w = 0;
        for (uint64_t i = 0; i < n; i++) {
            const brs_market_event *ev = &dst[i];
            if (!rd_keep(j, ev))
                continue;
            if (w != i)
                dst[w] = *ev;
            w++;
        }
        j->kept[k] = w;
    }
    free(scratch);
    brs__tick_decoder_free(&dec);
    return NULL;
}

/* Close the gaps the filters left, in file order; returns the records kept. */
static uint64_t rd_compact(rd_job *j)
{
    uint64_t w = 0;
    for (uint32_t k = 0; k < j->n_sel && k < j->err_block; k++) {
        uint64_t from = j->slot[k], n = j->kept[k];
        if (w != from && n) {
            if (j->out) {
                memmove(j->out + w, j->out + from, n * sizeof *j->out);
            } else {
                for (int c = 0; c < 7; c++)
                    memmove(j->i64 + (uint64_t)c * j->cap + w, j->i64 + (uint64_t)c * j->cap + from, n * 8);
                memmove(j->kind + w, j->kind + from, n);
                memmove(j->side + w, j->side + from, n);
                memmove(j->flags + w, j->flags + from, n * 2);
                memmove(j->instr + w, j->instr + from, n * 4);
                if (j->sym8)
                    memmove(j->sym8 + w, j->sym8 + from, n);
                else if (j->sym16)
                    memmove(j->sym16 + w, j->sym16 + from, n * 2);
                else
                    memmove(j->sym32 + w, j->sym32 + from, n * 4);
            }
        }
        w += n;
    }
    return w;
}

/* Bytes per symbol code for n instruments: the width pandas' Categorical
 * keeps its codes in (int8 below 127 categories, int16 below 32767). */
static unsigned sym_width(uint32_t n)
{
    return n < 127 ? 1 : n < 32767 ? 2 : 4;
}

/* Point the columns into base for cap entries each (the layout read_ticks
 * documents below). */
static void rd_columns(rd_job *j, char *base, uint64_t cap)
{
    unsigned sw = sym_width(j->n_instr);
    j->cap = cap;
    j->i64 = (int64_t *)(void *)base;
    j->instr = (uint32_t *)(void *)(base + cap * 56);
    j->flags = (uint16_t *)(void *)(base + cap * 60);
    j->kind = (uint8_t *)(base + cap * 62);
    j->side = (uint8_t *)(base + cap * 63);
    j->sym8 = sw == 1 ? (int8_t *)(base + cap * 64) : NULL;
    j->sym16 = sw == 2 ? (int16_t *)(void *)(base + cap * 64) : NULL;
    j->sym32 = sw == 4 ? (int32_t *)(void *)(base + cap * 64) : NULL;
}

/* After filtering kept w < cap entries: the columns moved down to a capacity
 * of w, in offset order (each one lands at or below where it was and ends
 * before the next one's old start), so the tail can be given back. */
static void rd_relayout(rd_job *j, char *base, uint64_t w)
{
    static const unsigned off[] = {0, 8, 16, 24, 32, 40, 48, 56, 60, 62, 63, 64};
    static const unsigned width[] = {8, 8, 8, 8, 8, 8, 8, 4, 2, 1, 1, 0};
    uint64_t cap = j->cap;
    for (size_t c = 0; c < sizeof off / sizeof *off; c++) {
        unsigned wd = width[c] ? width[c] : sym_width(j->n_instr);
        if (w)
            memmove(base + off[c] * w, base + off[c] * cap, w * wd);
    }
    rd_columns(j, base, w);
}

/* read_ticks(path, kinds=0, instruments=None (bytes mask), start, end, threads=0,
 *            columns=False)
 * -> (buffer, list of instrument dicts, cut message or None, n, bad, kinds, side): n
 * records of 64 bytes, or with columns the columns of n entries each: 7 int64
 * rows (ts_exchange, ts_local, price, qty, order_id, aux, spare), then
 * instrument u32, flags u16, kind u8, side u8 and the symbol codes (int8,
 * int16 or int32: sym_width); bad counts the records whose instrument is not
 * in the file's table (their code is -1); with columns, kinds has bit k set
 * when a record of kind k was kept (bit 63: a kind >= 63) and side is the
 * largest side kept (0 without columns). */
PyObject *brs_py_read_ticks(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"path", "kinds", "instruments", "start", "end", "threads", "columns", NULL};
    PyObject *path_o;
    unsigned int kinds = 0;
    Py_buffer imask = {0};
    long long start = INT64_MIN, end = INT64_MAX;
    int threads = 0, columns = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|Iz*LLip", kwlist, PyUnicode_FSConverter, &path_o,
                                     &kinds, &imask, &start, &end, &threads, &columns))
        return NULL;
    const char *path = PyBytes_AS_STRING(path_o);
    brs_tick_reader r;
    memset(&r, 0, sizeof r);
    brs_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = brs__tick_open(&r, path, &err);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL, *buf = NULL, *instr = NULL;
    uint32_t *blocks = NULL;
    uint64_t *slot = NULL, *kept = NULL;
    if (rc) {
        brs_py_raise(&err);
        goto out;
    }
    blocks = malloc((r.n_blocks + 1) * sizeof *blocks);
    slot = malloc((r.n_blocks + 1) * sizeof *slot);
    kept = calloc(r.n_blocks + 1, sizeof *kept);
    if (!blocks || !slot || !kept) {
        PyErr_NoMemory();
        goto out;
    }
    uint32_t n_sel = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < r.n_blocks; i++) {
        const brs_tick_block_info *b = &r.blocks[i];
        if (b->last_ts < start || b->first_ts >= end)
            continue;
        blocks[n_sel] = i;
        slot[n_sel++] = total;
        total += b->count;
    }
    if (total > (uint64_t)PY_SSIZE_T_MAX / 72) {
        PyErr_SetString(PyExc_MemoryError, "bourse.read_ticks: file too large");
        goto out;
    }
    /* records: 64 bytes each; columns: 7 x 8 + 4 + 2 + 1 + 1 = 64, and the
     * symbol codes */
    rd_job j = {.r = &r, .blocks = blocks, .slot = slot, .kept = kept, .n_sel = n_sel,
                .kinds = kinds, .imask = imask.buf ? imask.buf : NULL, .n_imask = (uint32_t)imask.len,
                .start = start, .end = end, .err_block = UINT32_MAX, .n_instr = r.n_instr,
                .page = (size_t)sysconf(_SC_PAGESIZE)};
    void *mem;
    size_t row = columns ? 64 + sym_width(r.n_instr) : 64;
    buf = brs_py_hugebuf_new((size_t)total * row, &mem);
    if (!buf)
        goto out;
    char *base = mem;
    if (columns)
        rd_columns(&j, base, total);
    else
        j.out = (brs_market_event *)(void *)base;
    atomic_init(&j.bad_sym, 0);
    atomic_init(&j.kinds_seen, 0);
    atomic_init(&j.side_max, 0);
    atomic_init(&j.next, 0);
    pthread_mutex_init(&j.mu, NULL);
    if (threads <= 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        threads = nc > 4 ? 4 : nc < 1 ? 1 : (int)nc;
    }
    if ((uint32_t)threads > n_sel)
        threads = n_sel ? (int)n_sel : 1;
    uint64_t w = 0;
    Py_BEGIN_ALLOW_THREADS
    pthread_t th[16];
    int started = 0;
    for (int t = 1; t < threads && t < 16; t++)
        if (pthread_create(&th[started], NULL, rd_thread, &j) == 0)
            started++;
    rd_thread(&j);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    w = rd_compact(&j);
    if (columns && w < total)
        rd_relayout(&j, base, w);
    Py_END_ALLOW_THREADS
    pthread_mutex_destroy(&j.mu);
    if (j.err_block != UINT32_MAX) {
        brs_py_raise(&j.err);
        goto out;
    }
    brs_py_hugebuf_shrink(buf, w * row);
    instr = instruments_list(r.instr, r.n_instr);
    if (!instr)
        goto out;
    result = Py_BuildValue("(OOzKKKI)", buf, instr, r.cut ? r.cut_msg : NULL, (unsigned long long)w,
                           (unsigned long long)atomic_load(&j.bad_sym),
                           (unsigned long long)atomic_load(&j.kinds_seen), atomic_load(&j.side_max));
out:
    Py_XDECREF(buf);
    Py_XDECREF(instr);
    free(blocks);
    free(slot);
    free(kept);
    brs__tick_close(&r);
    if (imask.buf)
        PyBuffer_Release(&imask);
    Py_DECREF(path_o);
    return result;
}

/* ---- instruments from Python ---------------------------------------------- */

static int get_i64(PyObject *d, const char *key, int64_t def, int64_t *out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v) {
        *out = def;
        return 0;
    }
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

int brs_py_instruments(PyObject *list, brs_instrument **out, uint32_t *n);
int brs_py_instruments(PyObject *list, brs_instrument **out, uint32_t *n)
{
    PyObject *seq = PySequence_Fast(list, "instruments must be a list of dicts");
    if (!seq)
        return -1;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    brs_instrument *in = calloc(k ? (size_t)k : 1, sizeof *in);
    if (!in) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *d = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyDict_Check(d)) {
            PyErr_Format(PyExc_TypeError, "instruments[%zd] must be a dict", i);
            goto bad;
        }
        PyObject *sym = PyDict_GetItemString(d, "symbol");
        const char *s = sym ? PyUnicode_AsUTF8(sym) : NULL;
        if (!s) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "instruments[%zd]: 'symbol' is required", i);
            goto bad;
        }
        if (strlen(s) >= BRS_SYMBOL_MAX) {
            PyErr_Format(PyExc_ValueError, "instruments[%zd]: symbol '%s' is longer than %d bytes", i,
                         s, BRS_SYMBOL_MAX - 1);
            goto bad;
        }
        in[i].id = (uint32_t)i;
        snprintf(in[i].symbol, sizeof in[i].symbol, "%s", s);
        if (get_i64(d, "price_scale", 1000000, &in[i].price_scale) ||
            get_i64(d, "tick_size", 1, &in[i].tick_size) || get_i64(d, "lot_size", 1, &in[i].lot_size) ||
            get_i64(d, "min_qty", 0, &in[i].min_qty))
            goto bad;
        if (in[i].price_scale < 1 || in[i].tick_size < 1 || in[i].lot_size < 1 || in[i].min_qty < 0) {
            PyErr_Format(PyExc_ValueError,
                         "instruments[%zd] (%s): price_scale, tick_size and lot_size must be >= 1, "
                         "min_qty >= 0", i, s);
            goto bad;
        }
    }
    Py_DECREF(seq);
    *out = in;
    *n = (uint32_t)k;
    return 0;
bad:
    Py_DECREF(seq);
    free(in);
    return -1;
}

/* write_ticks(path, records (buffer of 64-byte records), instruments,
 *             block_records=0, level=0) -> count */
PyObject *brs_py_write_ticks(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"path", "records", "instruments", "block_records", "level", NULL};
    PyObject *path_o, *instr_o;
    Py_buffer rec;
    unsigned int block_records = 0;
    int level = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&y*O|Ii", kwlist, PyUnicode_FSConverter, &path_o,
                                     &rec, &instr_o, &block_records, &level))
        return NULL;
    PyObject *result = NULL;
    brs_instrument *in = NULL;
    uint32_t n_in = 0;
    if (rec.len % 64) {
        PyErr_SetString(PyExc_ValueError, "records must be whole 64-byte records");
        goto out;
    }
    if (brs_py_instruments(instr_o, &in, &n_in) < 0)
        goto out;
    brs_error err = {0};
    int rc;
    uint64_t n = (uint64_t)rec.len / 64;
    const char *path = PyBytes_AS_STRING(path_o);
    Py_BEGIN_ALLOW_THREADS
    brs_tick_writer *w = NULL;
    brs_tick_writer_opts wo = {.block_records = block_records, .level = level, .atomic = 1};
    rc = brs__tick_writer_open(&w, path, in, n_in, &wo, &err);
    const brs_market_event *ev = rec.buf;
    for (uint64_t i = 0; !rc && i < n; i++) {
        brs_market_event e;
        memcpy(&e, &ev[i], sizeof e); /* the buffer need not be aligned */
        if (e.instrument >= n_in)
            rc = brs__err(&err, BRS_E_RANGE, "%s: record %llu: instrument %u, the table has %u",
                          path, (unsigned long long)i, e.instrument, n_in);
        else
            rc = brs__tick_writer_add(w, &e, &err);
    }
    if (rc) {
        if (w)
            brs__tick_writer_abort(w);
    } else {
        rc = brs__tick_writer_close(w, &err);
    }
    Py_END_ALLOW_THREADS
    if (rc)
        brs_py_raise(&err);
    else
        result = PyLong_FromUnsignedLongLong(n);
out:
    free(in);
    PyBuffer_Release(&rec);
    Py_DECREF(path_o);
    return result;
}

/* tick_info(path) -> dict */
PyObject *brs_py_tick_info(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *path_o;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_o))
        return NULL;
    brs_tick_reader r;
    memset(&r, 0, sizeof r);
    brs_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = brs__tick_open(&r, PyBytes_AS_STRING(path_o), &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path_o);
    if (rc)
        return brs_py_raise(&err);
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (uint32_t i = 0; i < r.n_blocks; i++) {
        if (r.blocks[i].first_ts < first)
            first = r.blocks[i].first_ts;
        if (r.blocks[i].last_ts > last)
            last = r.blocks[i].last_ts;
    }
    PyObject *instr = instruments_list(r.instr, r.n_instr);
    PyObject *d = instr ? Py_BuildValue("{s:I,s:K,s:I,s:K,s:O,s:L,s:L,s:s}", "version", r.version,
                                        "events", (unsigned long long)r.n_events, "blocks",
                                        r.n_blocks, "file_size", (unsigned long long)r.file_size,
                                        "instruments", instr, "first_ts",
                                        (long long)(r.n_blocks ? first : 0), "last_ts",
                                        (long long)(r.n_blocks ? last : 0), "cut",
                                        r.cut ? r.cut_msg : "")
                        : NULL;
    Py_XDECREF(instr);
    brs__tick_close(&r);
    return d;
}
