/* ticks.c: tick files for Python. read_ticks decodes the selected blocks of a
 * .ticks.zst file straight into one bytearray of 64-byte records (numpy views
 * it with a structured dtype, no copy and no Python call per event), on up to
 * four threads with the GIL released; write_ticks hands records to the host's
 * writer. Both use host/ticks (the reader and writer the binary uses). */
#include "bourse_py.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
    brs_market_event *out;
    uint32_t kinds;          /* bit per kind; 0 = every kind */
    const uint8_t *imask;    /* per instrument, NULL = every instrument */
    uint32_t n_imask;
    int64_t start, end;      /* [start, end) on ts_exchange */
    atomic_uint next;
    pthread_mutex_t mu;
    uint32_t err_block;      /* lowest failing selected block, UINT32_MAX none */
    brs_error err;
} rd_job;

static void *rd_thread(void *p)
{
    rd_job *j = p;
    brs_tick_decoder dec;
    memset(&dec, 0, sizeof dec);
    for (;;) {
        uint32_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->n_sel)
            break;
        uint32_t bi = j->blocks[k];
        brs_market_event *dst = j->out + j->slot[k];
        brs_error e = {0};
        if (brs__tick_decode_block(j->r, &dec, bi, dst, &e)) {
            pthread_mutex_lock(&j->mu);
            if (k < j->err_block) {
                j->err_block = k;
                j->err = e;
            }
            pthread_mutex_unlock(&j->mu);
            j->kept[k] = 0;
            continue;
        }
        uint64_t n = j->r->blocks[bi].count;
        const brs_tick_block_info *b = &j->r->blocks[bi];
        int whole_time = b->first_ts >= j->start && b->last_ts < j->end;
        if (!j->kinds && !j->imask && whole_time) {
            j->kept[k] = n;
            continue;
        }
        uint64_t w = 0;
        for (uint64_t i = 0; i < n; i++) {
            const brs_market_event *ev = &dst[i];
            if (j->kinds && !(j->kinds & (1u << ev->kind)))
                continue;
            if (j->imask && (ev->instrument >= j->n_imask || !j->imask[ev->instrument]))
                continue;
            if (ev->ts_exchange < j->start || ev->ts_exchange >= j->end)
                continue;
            if (w != i)
                dst[w] = *ev;
            w++;
        }
        j->kept[k] = w;
    }
    brs__tick_decoder_free(&dec);
    return NULL;
}

/* read_ticks(path, kinds=0, instruments=None (bytes mask), start, end, threads=0)
 * -> (bytearray of records, list of instrument dicts, cut message or None) */
PyObject *brs_py_read_ticks(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"path", "kinds", "instruments", "start", "end", "threads", NULL};
    PyObject *path_o;
    unsigned int kinds = 0;
    Py_buffer imask = {0};
    long long start = INT64_MIN, end = INT64_MAX;
    int threads = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|Iz*LLi", kwlist, PyUnicode_FSConverter, &path_o,
                                     &kinds, &imask, &start, &end, &threads))
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
    if (total > (uint64_t)PY_SSIZE_T_MAX / 64) {
        PyErr_SetString(PyExc_MemoryError, "bourse.read_ticks: file too large");
        goto out;
    }
    buf = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(total * 64));
    if (!buf)
        goto out;
    rd_job j = {.r = &r, .blocks = blocks, .slot = slot, .kept = kept, .n_sel = n_sel,
                .out = (brs_market_event *)(void *)PyByteArray_AS_STRING(buf), .kinds = kinds,
                .imask = imask.buf ? imask.buf : NULL, .n_imask = (uint32_t)imask.len,
                .start = start, .end = end, .err_block = UINT32_MAX};
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
    /* close the gaps the filters left, block by block, in file order */
    brs_market_event *o = j.out;
    for (uint32_t k = 0; k < n_sel && k < j.err_block; k++) {
        if (w != slot[k] && kept[k])
            memmove(o + w, o + slot[k], kept[k] * sizeof *o);
        w += kept[k];
    }
    Py_END_ALLOW_THREADS
    pthread_mutex_destroy(&j.mu);
    if (j.err_block != UINT32_MAX) {
        brs_py_raise(&j.err);
        goto out;
    }
    if (PyByteArray_Resize(buf, (Py_ssize_t)(w * 64)) < 0)
        goto out;
    instr = instruments_list(r.instr, r.n_instr);
    if (!instr)
        goto out;
    if (r.cut)
        result = Py_BuildValue("(OOs)", buf, instr, r.cut_msg);
    else
        result = Py_BuildValue("(OOO)", buf, instr, Py_None);
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
