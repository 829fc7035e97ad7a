/* pyctx.c: the `ctx` object a Python strategy's callbacks get (bourse.Context):
 * orders, positions, the book, timers, logs and parameters through the
 * brs_host table, as the Lua ctx offers them (docs/python.md). */
#include "pystrategy_internal.h"

#include <string.h>

#include "core/core.h"

static brs_py_strategy *live(ctx_object *c)
{
    if (!c->s || !c->s->host) {
        PyErr_SetString(PyExc_RuntimeError, "ctx is only valid inside a strategy callback");
        return NULL;
    }
    return c->s;
}

static int instrument_arg(brs_py_strategy *s, PyObject *o, uint32_t *out)
{
    if (!o || o == Py_None) {
        *out = s->cur_instrument;
        return 0;
    }
    if (PyUnicode_Check(o)) {
        if (s->host->xInstrumentFind(s->hctx, PyUnicode_AsUTF8(o), out) < 0) {
            PyErr_Format(PyExc_KeyError, "unknown instrument '%U'", o);
            return -1;
        }
        return 0;
    }
    unsigned long v = PyLong_AsUnsignedLong(o);
    if (v == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static PyObject *result(int rc)
{
    return Py_NewRef(rc < 0 ? Py_False : Py_True);
}

static PyObject *submit(ctx_object *c, PyObject *args, PyObject *kw, uint8_t side)
{
    static char *kwlist[] = {"qty", "price", "tif", "post_only", "reduce_only", "instrument", "type", NULL};
    brs_py_strategy *s = live(c);
    if (!s)
        return NULL;
    long long qty;
    PyObject *price = Py_None, *instr = Py_None;
    const char *tif = "gtc", *type = NULL;
    int post_only = 0, reduce_only = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "L|OsppOz", kwlist, &qty, &price, &tif, &post_only,
                                     &reduce_only, &instr, &type))
        return NULL;
    brs_order o = {.side = side, .type = BRS_MARKET, .tif = BRS_GTC, .qty = qty};
    if (price != Py_None) {
        o.price = PyLong_AsLongLong(price);
        if (o.price == -1 && PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "order price must be an integer number of ticks");
            return NULL;
        }
        o.type = BRS_LIMIT;
    }
    if (type) {
        if (!strcmp(type, "market"))
            o.type = BRS_MARKET;
        else if (!strcmp(type, "limit"))
            o.type = BRS_LIMIT;
        else
            return PyErr_Format(PyExc_ValueError, "order type must be 'limit' or 'market', not '%s'", type);
    }
    static const char *const tifs[] = {"gtc", "day", "ioc", "fok"};
    int t = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(tif, tifs[i]))
            t = i;
    if (t < 0)
        return PyErr_Format(PyExc_ValueError, "tif must be 'gtc', 'day', 'ioc' or 'fok', not '%s'", tif);
    o.tif = (uint8_t)t;
    if (post_only)
        o.flags |= BRS_OF_POST_ONLY;
    if (reduce_only)
        o.flags |= BRS_OF_REDUCE_ONLY;
    if (instrument_arg(s, instr, &o.instrument) < 0)
        return NULL;
    if (o.qty <= 0)
        return PyErr_Format(PyExc_ValueError, "order qty must be > 0 (got %lld)", qty);
    uint64_t id = 0;
    int rc = s->host->xSubmit(s->hctx, &o, &id);
    if (rc < 0)
        Py_RETURN_NONE; /* refused: a "rejected" order event follows */
    return PyLong_FromUnsignedLongLong(id);
}

static PyObject *c_buy(ctx_object *c, PyObject *a, PyObject *k) { return submit(c, a, k, BRS_BUY); }
static PyObject *c_sell(ctx_object *c, PyObject *a, PyObject *k) { return submit(c, a, k, BRS_SELL); }

static PyObject *c_cancel(ctx_object *c, PyObject *arg)
{
    brs_py_strategy *s = live(c);
    unsigned long long id = s ? PyLong_AsUnsignedLongLong(arg) : 0;
    if (!s || (id == (unsigned long long)-1 && PyErr_Occurred()))
        return NULL;
    return result(s->host->xCancel(s->hctx, id));
}

static PyObject *c_replace(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    unsigned long long id;
    long long price, qty;
    if (!s || !PyArg_ParseTuple(args, "KLL", &id, &price, &qty))
        return NULL;
    return result(s->host->xReplace(s->hctx, id, price, qty));
}

static PyObject *c_cancel_all(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    PyObject *o = Py_None;
    if (!s || !PyArg_ParseTuple(args, "|O", &o))
        return NULL;
    uint32_t in = BRS_ALL_INSTRUMENTS;
    if (o != Py_None && instrument_arg(s, o, &in) < 0)
        return NULL;
    return result(s->host->xCancelAll(s->hctx, in));
}

static int pos_of(ctx_object *c, PyObject *args, brs_position *p)
{
    brs_py_strategy *s = live(c);
    PyObject *o = Py_None;
    uint32_t in;
    if (!s || !PyArg_ParseTuple(args, "|O", &o) || instrument_arg(s, o, &in) < 0)
        return -1;
    if (s->host->xPosition(s->hctx, in, p) < 0) {
        PyErr_SetString(PyExc_KeyError, "no position for that instrument");
        return -1;
    }
    return 0;
}

static PyObject *c_position(ctx_object *c, PyObject *args)
{
    brs_position p;
    if (pos_of(c, args, &p) < 0)
        return NULL;
    if (!p.qty)
        return Py_BuildValue("(LO)", (long long)p.qty, Py_None);
    return Py_BuildValue("(Ld)", (long long)p.qty, (double)p.avg_price_x1e6 / 1e6);
}

static PyObject *c_pnl(ctx_object *c, PyObject *args)
{
    brs_position p;
    if (pos_of(c, args, &p) < 0)
        return NULL;
    return Py_BuildValue("(LLL)", (long long)p.realized_pnl, (long long)p.unrealized_pnl, (long long)p.fees);
}

static PyObject *c_orders(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    PyObject *o = Py_None;
    if (!s || !PyArg_ParseTuple(args, "|O", &o))
        return NULL;
    uint32_t in = BRS_ALL_INSTRUMENTS;
    if (o != Py_None && instrument_arg(s, o, &in) < 0)
        return NULL;
    brs_order_info buf[64];
    uint32_t n = 0;
    s->host->xOpenOrders(s->hctx, in, buf, 64, &n);
    PyObject *l = PyList_New(n);
    for (uint32_t i = 0; l && i < n; i++) {
        PyObject *d = Py_BuildValue("{s:K,s:O,s:L,s:L,s:L,s:L,s:I}", "id", (unsigned long long)buf[i].id,
                                    "side", brs__py_side(buf[i].side), "price",
                                    (long long)buf[i].price, "qty", (long long)buf[i].qty, "leaves",
                                    (long long)buf[i].leaves, "cum_qty", (long long)buf[i].cum_qty,
                                    "instrument", buf[i].instrument);
        if (!d) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, d);
    }
    return l;
}

static PyObject *c_top(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    PyObject *o = Py_None;
    uint32_t in;
    if (!s || !PyArg_ParseTuple(args, "|O", &o) || instrument_arg(s, o, &in) < 0)
        return NULL;
    brs_top t;
    if (s->host->xTop(s->hctx, in, &t) < 0)
        Py_RETURN_NONE;
    return brs__py_make_top(&t);
}

static PyObject *c_depth(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    const char *side;
    int cap = 10;
    PyObject *o = Py_None;
    uint32_t in;
    if (!s || !PyArg_ParseTuple(args, "s|iO", &side, &cap, &o) || instrument_arg(s, o, &in) < 0)
        return NULL;
    if (strcmp(side, "bid") && strcmp(side, "ask"))
        return PyErr_Format(PyExc_ValueError, "side must be 'bid' or 'ask', not '%s'", side);
    if (cap < 0 || cap > 32)
        cap = 32;
    brs_level lv[32];
    uint32_t n = 0;
    s->host->xDepth(s->hctx, in, side[0] == 'b' ? BRS_BUY : BRS_SELL, lv, (uint32_t)cap, &n);
    PyObject *l = PyList_New(n);
    for (uint32_t i = 0; l && i < n; i++)
        PyList_SET_ITEM(l, i, Py_BuildValue("(LL)", (long long)lv[i].price, (long long)lv[i].qty));
    return l;
}

static PyObject *c_now(ctx_object *c, PyObject *unused)
{
    (void)unused;
    brs_py_strategy *s = live(c);
    return s ? PyLong_FromLongLong(s->host->xNow(s->hctx)) : NULL;
}

static PyObject *c_timer(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    long long delay, every = 0;
    if (!s || !PyArg_ParseTuple(args, "L|L", &delay, &every))
        return NULL;
    if (delay < 0 || every < 0)
        return PyErr_Format(PyExc_ValueError, "timer delay and interval must be >= 0");
    uint64_t id;
    if (s->host->xTimerSet(s->hctx, s->host->xNow(s->hctx) + delay, every, &id) < 0)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong(id);
}

static PyObject *c_cancel_timer(ctx_object *c, PyObject *arg)
{
    brs_py_strategy *s = live(c);
    unsigned long long id = s ? PyLong_AsUnsignedLongLong(arg) : 0;
    if (!s || (id == (unsigned long long)-1 && PyErr_Occurred()))
        return NULL;
    return result(s->host->xTimerCancel(s->hctx, id));
}

static PyObject *c_instrument(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    PyObject *o = Py_None;
    uint32_t in;
    if (!s || !PyArg_ParseTuple(args, "|O", &o) || instrument_arg(s, o, &in) < 0)
        return NULL;
    brs_instrument d;
    if (s->host->xInstrument(s->hctx, in, &d) < 0)
        return PyErr_Format(PyExc_KeyError, "unknown instrument %u", in);
    return Py_BuildValue("{s:I,s:s,s:L,s:L,s:L}", "id", d.id, "symbol", d.symbol, "tick_size",
                         (long long)d.tick_size, "lot_size", (long long)d.lot_size, "price_scale",
                         (long long)d.price_scale);
}

static PyObject *log_at(ctx_object *c, PyObject *args, int level)
{
    brs_py_strategy *s = live(c);
    if (!s)
        return NULL;
    PyObject *sep = PyUnicode_FromString(" ");
    PyObject *strs = PyList_New(0);
    for (Py_ssize_t i = 0; sep && strs && i < PyTuple_GET_SIZE(args); i++) {
        PyObject *x = PyObject_Str(PyTuple_GET_ITEM(args, i));
        if (!x || PyList_Append(strs, x) < 0) {
            Py_XDECREF(x);
            Py_DECREF(strs);
            Py_DECREF(sep);
            return NULL;
        }
        Py_DECREF(x);
    }
    PyObject *msg = sep && strs ? PyUnicode_Join(sep, strs) : NULL;
    Py_XDECREF(sep);
    Py_XDECREF(strs);
    if (!msg)
        return NULL;
    s->host->xLog(s->hctx, level, PyUnicode_AsUTF8(msg));
    Py_DECREF(msg);
    Py_RETURN_NONE;
}
static PyObject *c_log(ctx_object *c, PyObject *a) { return log_at(c, a, BRS_LOG_INFO); }
static PyObject *c_warn(ctx_object *c, PyObject *a) { return log_at(c, a, BRS_LOG_WARN); }
static PyObject *c_debug(ctx_object *c, PyObject *a) { return log_at(c, a, BRS_LOG_DEBUG); }

static PyObject *c_target(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    double t;
    PyObject *o = Py_None;
    uint32_t in;
    if (!s || !PyArg_ParseTuple(args, "d|O", &t, &o) || instrument_arg(s, o, &in) < 0)
        return NULL;
    return result(s->host->xSetTarget(s->hctx, in, t));
}

/* ctx.bars(instrument=None) -> every bar of the run as a structured array of
 * bourse.RECORD_DTYPE (a copy), for vectorized strategies in signal mode. */
static PyObject *c_bars(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    PyObject *o = Py_None;
    uint32_t in;
    if (!s || !PyArg_ParseTuple(args, "|O", &o) || instrument_arg(s, o, &in) < 0)
        return NULL;
    const brs_market_event *bars;
    uint64_t n = 0;
    if (!BRS_HOST_HAS(s->host, xBars) || s->host->xBars(s->hctx, in, &bars, &n) < 0)
        Py_RETURN_NONE; /* not a signal backtest */
    PyObject *raw = PyByteArray_FromStringAndSize((const char *)bars, (Py_ssize_t)(n * sizeof *bars));
    if (!raw)
        return NULL;
    PyObject *ticks = PyImport_ImportModule("bourse._ticks");
    PyObject *arr = ticks ? PyObject_CallMethod(ticks, "_records", "O", raw) : NULL;
    Py_XDECREF(ticks);
    Py_DECREF(raw);
    return arr;
}

/* ctx.set_targets(targets, instrument=None): one target per bar (NaN keeps the
 * previous one), any float64 buffer (a NumPy array). */
static PyObject *c_set_targets(ctx_object *c, PyObject *args)
{
    brs_py_strategy *s = live(c);
    PyObject *t_o, *o = Py_None;
    uint32_t in;
    if (!s || !PyArg_ParseTuple(args, "O|O", &t_o, &o) || instrument_arg(s, o, &in) < 0)
        return NULL;
    Py_buffer b;
    if (PyObject_GetBuffer(t_o, &b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (!b.format || strcmp(b.format, "d") || b.itemsize != 8) {
        PyBuffer_Release(&b);
        return PyErr_Format(PyExc_TypeError, "set_targets: a float64 array, e.g. numpy.asarray(t, float)");
    }
    int rc = BRS_HOST_HAS(s->host, xSetTargets)
                 ? s->host->xSetTargets(s->hctx, in, b.buf, (uint64_t)(b.len / 8))
                 : BRS_E_UNSUPPORTED;
    PyBuffer_Release(&b);
    return result(rc);
}

static PyObject *c_params(ctx_object *c, void *unused)
{
    (void)unused;
    return Py_NewRef(c->params);
}

static PyMethodDef ctx_methods[] = {
    {"buy", (PyCFunction)(void (*)(void))c_buy, METH_VARARGS | METH_KEYWORDS,
     "buy(qty, price=None, tif='gtc', post_only=False, reduce_only=False, instrument=None) -> id or None"},
    {"sell", (PyCFunction)(void (*)(void))c_sell, METH_VARARGS | METH_KEYWORDS, "like buy"},
    {"cancel", (PyCFunction)c_cancel, METH_O, "cancel(id) -> bool"},
    {"replace", (PyCFunction)c_replace, METH_VARARGS, "replace(id, price, qty) -> bool"},
    {"cancel_all", (PyCFunction)c_cancel_all, METH_VARARGS, "cancel_all(instrument=None) -> bool"},
    {"position", (PyCFunction)c_position, METH_VARARGS, "position(instrument=None) -> (qty, avg_price)"},
    {"pnl", (PyCFunction)c_pnl, METH_VARARGS, "pnl(instrument=None) -> (realized, unrealized, fees)"},
    {"orders", (PyCFunction)c_orders, METH_VARARGS, "orders(instrument=None) -> list of dicts"},
    {"top", (PyCFunction)c_top, METH_VARARGS, "top(instrument=None) -> Top or None"},
    {"depth", (PyCFunction)c_depth, METH_VARARGS, "depth(side, n=10, instrument=None) -> [(price, qty)]"},
    {"now", (PyCFunction)c_now, METH_NOARGS, "now() -> ns"},
    {"timer", (PyCFunction)c_timer, METH_VARARGS, "timer(delay_ns, interval_ns=0) -> id"},
    {"cancel_timer", (PyCFunction)c_cancel_timer, METH_O, "cancel_timer(id) -> bool"},
    {"instrument", (PyCFunction)c_instrument, METH_VARARGS, "instrument(symbol_or_id=None) -> dict"},
    {"log", (PyCFunction)c_log, METH_VARARGS, "log(*args)"},
    {"warn", (PyCFunction)c_warn, METH_VARARGS, "warn(*args)"},
    {"debug", (PyCFunction)c_debug, METH_VARARGS, "debug(*args)"},
    {"target", (PyCFunction)c_target, METH_VARARGS, "target(fraction, instrument=None) -> bool"},
    {"bars", (PyCFunction)c_bars, METH_VARARGS,
     "bars(instrument=None) -> every bar of a signal run (bourse.RECORD_DTYPE array), or None"},
    {"set_targets", (PyCFunction)c_set_targets, METH_VARARGS,
     "set_targets(float64 array, instrument=None) -> bool (signal runs: one target per bar)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef ctx_getset[] = {
    {"params", (getter)c_params, NULL, "the declared parameters with the run's values", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static void ctx_dealloc(ctx_object *c)
{
    Py_XDECREF(c->params);
    PyObject_Free(c);
}

PyTypeObject brs__py_ctx_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bourse.Context",
    .tp_basicsize = sizeof(ctx_object),
    .tp_dealloc = (destructor)ctx_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The services a Python strategy gets, as the Lua ctx (docs/python.md).",
    .tp_methods = ctx_methods,
    .tp_getset = ctx_getset,
};
