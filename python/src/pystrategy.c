/* pystrategy.c: a Python object as a Bourse strategy. Its methods (on_start,
 * on_stop, on_bar, on_top, on_trade, on_depth, on_fill, on_order, on_timer)
 * become a brs_strategy_vtable, so the engine drives it exactly as it drives a
 * C plugin or a Lua script (host/strategy/lua_strategy.c does the same for
 * Lua); `ctx` offers the services of the Lua ctx through the brs_host table.
 * Callbacks run on the engine's worker thread and take the GIL for each call:
 * this is for prototyping, slower than Lua (docs/python.md gives the cost). */
#include "pystrategy_internal.h"

#include <string.h>

#include "core/core.h"
#include "core/interrupt.h"

static const char *const cb_names[CB_N] = {"on_start", "on_stop",  "on_bar",   "on_top",  "on_trade",
                                           "on_depth", "on_fill", "on_order", "on_timer"};

static PyTypeObject bar_type, top_type, trade_type, order_type;
static PyObject *s_buy, *s_sell, *s_kinds[5], *s_liq[3];

/* ---- taking the GIL around a callback ---------------------------------- */

static inline void gil_take(brs_py_strategy *s)
{
    if (s->tstate && *s->tstate)
        PyEval_RestoreThread(*s->tstate);
}
static inline void gil_drop(brs_py_strategy *s)
{
    if (s->tstate && *s->tstate)
        *s->tstate = PyEval_SaveThread();
}

/* An event object could not be made: keep the exception, fail the strategy. */
static int no_event(brs_py_strategy *s)
{
    if (!s->err_type)
        PyErr_Fetch(&s->err_type, &s->err_value, &s->err_tb);
    else
        PyErr_Clear();
    return BRS_E_NOMEM;
}

/* Call cb with (ctx, args...) (steals args); an exception is kept for the
 * caller of the run and fails the strategy. */
static int call_cb(brs_py_strategy *s, int cb, PyObject *a1, PyObject *a2)
{
    if (!s->cb[cb]) {
        Py_XDECREF(a1);
        Py_XDECREF(a2);
        return BRS_OK;
    }
    PyObject *args[3] = {(PyObject *)s->ctx, a1, a2};
    size_t n = a2 ? 3 : a1 ? 2 : 1;
    PyObject *r = PyObject_Vectorcall(s->cb[cb], args, n, NULL);
    Py_XDECREF(a1);
    Py_XDECREF(a2);
    if (!r) {
        if (!s->err_type)
            PyErr_Fetch(&s->err_type, &s->err_value, &s->err_tb);
        else
            PyErr_Clear();
        return BRS_E_SCRIPT;
    }
    Py_DECREF(r);
    /* Ctrl-C: a Python strategy stops at its next callback, whatever the loop's polling rate */
    if (BRS__UNLIKELY(brs__interrupt_pending()))
        return BRS_E_STATE;
    return BRS_OK;
}

/* ---- events as struct sequences ----------------------------------------- */

static PyStructSequence_Field bar_fields[] = {
    {"ts", "bar end, ns since the epoch"}, {"ts_local", NULL}, {"instrument", NULL},
    {"open", "ticks"}, {"high", NULL}, {"low", NULL}, {"close", NULL}, {"volume", NULL}, {NULL, NULL}};
static PyStructSequence_Desc bar_desc = {"bourse.Bar", "An OHLCV bar (prices in ticks).", bar_fields, 8};
static PyStructSequence_Field top_fields[] = {
    {"ts", NULL}, {"instrument", NULL}, {"bid", NULL}, {"ask", NULL}, {"bid_qty", NULL},
    {"ask_qty", NULL}, {"mid", "float, None with an empty side"}, {NULL, NULL}};
static PyStructSequence_Desc top_desc = {"bourse.Top", "Best bid and offer (ticks, lots).", top_fields, 7};
static PyStructSequence_Field trade_fields[] = {
    {"ts", NULL}, {"ts_local", NULL}, {"instrument", NULL}, {"price", NULL}, {"qty", NULL},
    {"side", "the aggressor: 'buy' or 'sell'"}, {"id", NULL}, {NULL, NULL}};
static PyStructSequence_Desc trade_desc = {"bourse.Trade", "A trade print.", trade_fields, 7};
static PyStructSequence_Field order_fields[] = {
    {"kind", "'accepted', 'rejected', 'fill', 'cancelled', 'replaced'"}, {"id", NULL}, {"side", NULL},
    {"price", NULL}, {"qty", NULL}, {"leaves", NULL}, {"cum_qty", NULL}, {"fee", NULL},
    {"liquidity", "'maker', 'taker' or None"}, {"ts", NULL}, {"instrument", NULL},
    {"reason", "text for rejects and cancels, else None"}, {"code", "e.g. 'BRS_E_NOLIQUIDITY', or None"},
    {NULL, NULL}};
static PyStructSequence_Desc order_desc = {"bourse.OrderEvent", "What happened to one of our orders.",
                                           order_fields, 13};

#define SET(o, i, v)                                                                                \
    do {                                                                                            \
        PyObject *v_ = (v);                                                                         \
        if (!v_) {                                                                                  \
            Py_DECREF(o);                                                                           \
            return NULL;                                                                            \
        }                                                                                           \
        PyStructSequence_SET_ITEM(o, i, v_);                                                        \
    } while (0)

static PyObject *make_bar(const brs_market_event *e)
{
    PyObject *o = PyStructSequence_New(&bar_type);
    if (!o)
        return NULL;
    SET(o, 0, PyLong_FromLongLong(e->ts_exchange));
    SET(o, 1, PyLong_FromLongLong(e->ts_local));
    SET(o, 2, PyLong_FromUnsignedLong(e->instrument));
    SET(o, 3, PyLong_FromLongLong(e->bar.open));
    SET(o, 4, PyLong_FromLongLong(e->bar.high));
    SET(o, 5, PyLong_FromLongLong(e->bar.low));
    SET(o, 6, PyLong_FromLongLong(e->bar.close));
    SET(o, 7, PyLong_FromLongLong(e->bar.volume));
    return o;
}

PyObject *brs__py_make_top(const brs_top *t)
{
    PyObject *o = PyStructSequence_New(&top_type);
    if (!o)
        return NULL;
    SET(o, 0, PyLong_FromLongLong(t->ts));
    SET(o, 1, PyLong_FromUnsignedLong(t->instrument));
    SET(o, 2, PyLong_FromLongLong(t->bid_price));
    SET(o, 3, PyLong_FromLongLong(t->ask_price));
    SET(o, 4, PyLong_FromLongLong(t->bid_qty));
    SET(o, 5, PyLong_FromLongLong(t->ask_qty));
    SET(o, 6, t->bid_qty > 0 && t->ask_qty > 0
                  ? PyFloat_FromDouble(((double)t->bid_price + (double)t->ask_price) / 2.0)
                  : Py_NewRef(Py_None));
    return o;
}

static PyObject *make_trade(const brs_market_event *e)
{
    PyObject *o = PyStructSequence_New(&trade_type);
    if (!o)
        return NULL;
    SET(o, 0, PyLong_FromLongLong(e->ts_exchange));
    SET(o, 1, PyLong_FromLongLong(e->ts_local));
    SET(o, 2, PyLong_FromUnsignedLong(e->instrument));
    SET(o, 3, PyLong_FromLongLong(e->price));
    SET(o, 4, PyLong_FromLongLong(e->qty));
    SET(o, 5, Py_NewRef(brs__py_side(e->side)));
    SET(o, 6, PyLong_FromUnsignedLongLong(e->order_id));
    return o;
}

static PyObject *make_order(const brs_order_event *e)
{
    PyObject *o = PyStructSequence_New(&order_type);
    if (!o)
        return NULL;
    SET(o, 0, Py_NewRef(e->kind < 5 ? s_kinds[e->kind] : Py_None));
    SET(o, 1, PyLong_FromUnsignedLongLong(e->order_id));
    SET(o, 2, Py_NewRef(brs__py_side(e->side)));
    SET(o, 3, PyLong_FromLongLong(e->price));
    SET(o, 4, PyLong_FromLongLong(e->qty));
    SET(o, 5, PyLong_FromLongLong(e->leaves));
    SET(o, 6, PyLong_FromLongLong(e->cum_qty));
    SET(o, 7, PyLong_FromLongLong(e->fee));
    SET(o, 8, Py_NewRef(e->liquidity > 0 && e->liquidity < 3 ? s_liq[e->liquidity] : Py_None));
    SET(o, 9, PyLong_FromLongLong(e->ts));
    SET(o, 10, PyLong_FromUnsignedLong(e->instrument));
    int why = e->reason && (e->kind == BRS_OEV_REJECTED || e->kind == BRS_OEV_CANCELLED);
    SET(o, 11, why ? PyUnicode_FromString(brs_strerror(e->reason)) : Py_NewRef(Py_None));
    SET(o, 12, why ? PyUnicode_FromString(brs_err_name(e->reason)) : Py_NewRef(Py_None));
    return o;
}

PyObject *brs__py_side(uint8_t side) { return side == BRS_BUY ? s_buy : s_sell; }

/* ---- the vtable ------------------------------------------------------------ */

static int px_open(void *self, const brs_host *host, brs_ctx *hctx, brs_error *err)
{
    brs_py_strategy *s = self;
    s->host = host;
    s->hctx = hctx;
    int rc = BRS_OK;
    gil_take(s);
    /* ctx.params: the declared parameters with the run's values */
    for (uint32_t i = 0; i < s->n_params && rc == BRS_OK; i++) {
        const brs_param_def *d = &s->params[i];
        PyObject *v = NULL;
        if (d->type == BRS_PARAM_INT || d->type == BRS_PARAM_BOOL) {
            int64_t x = (int64_t)d->def;
            host->xParamInt(hctx, d->name, &x);
            v = d->type == BRS_PARAM_BOOL ? PyBool_FromLong(x != 0) : PyLong_FromLongLong(x);
        } else if (d->type == BRS_PARAM_DOUBLE) {
            double x = d->def;
            host->xParamDouble(hctx, d->name, &x);
            v = PyFloat_FromDouble(x);
        } else {
            const char *x = d->def_string;
            host->xParamString(hctx, d->name, &x);
            v = PyUnicode_FromString(x ? x : "");
        }
        if (!v || PyDict_SetItemString(s->ctx->params, d->name, v) < 0) {
            PyErr_Clear();
            rc = brs__err(err, BRS_E_NOMEM, "out of memory");
        }
        Py_XDECREF(v);
    }
    gil_drop(s);
    return rc;
}

static void px_close(void *self) { (void)self; }

static int px_simple(brs_py_strategy *s, int cb)
{
    gil_take(s);
    int rc = call_cb(s, cb, NULL, NULL);
    gil_drop(s);
    return rc;
}
static int px_start(void *self) { return px_simple(self, CB_START); }
static int px_stop(void *self) { return px_simple(self, CB_STOP); }

static int px_on_bar(void *self, const brs_market_event *bar)
{
    brs_py_strategy *s = self;
    s->cur_instrument = bar->instrument;
    gil_take(s);
    PyObject *b = make_bar(bar);
    int rc = b ? call_cb(s, CB_BAR, b, NULL) : no_event(s);
    gil_drop(s);
    return rc;
}

static int px_on_top(void *self, const brs_top *top)
{
    brs_py_strategy *s = self;
    s->cur_instrument = top->instrument;
    gil_take(s);
    PyObject *t = brs__py_make_top(top);
    int rc = t ? call_cb(s, CB_TOP, t, NULL) : no_event(s);
    gil_drop(s);
    return rc;
}

static int px_on_trade(void *self, const brs_market_event *trade)
{
    brs_py_strategy *s = self;
    s->cur_instrument = trade->instrument;
    gil_take(s);
    PyObject *t = make_trade(trade);
    int rc = t ? call_cb(s, CB_TRADE, t, NULL) : no_event(s);
    gil_drop(s);
    return rc;
}

static int px_on_depth(void *self, uint32_t instrument)
{
    brs_py_strategy *s = self;
    s->cur_instrument = instrument;
    gil_take(s);
    PyObject *i = PyLong_FromUnsignedLong(instrument);
    int rc = i ? call_cb(s, CB_DEPTH, i, NULL) : no_event(s);
    gil_drop(s);
    return rc;
}

static int px_on_order(void *self, const brs_order_event *ev)
{
    brs_py_strategy *s = self;
    s->cur_instrument = ev->instrument;
    gil_take(s);
    PyObject *o = make_order(ev);
    int rc = o ? BRS_OK : no_event(s);
    if (o && ev->kind == BRS_OEV_FILL && s->cb[CB_FILL]) {
        Py_INCREF(o);
        rc = call_cb(s, CB_FILL, o, NULL);
    }
    if (o && rc == BRS_OK)
        rc = call_cb(s, CB_ORDER, o, NULL);
    else
        Py_XDECREF(o);
    gil_drop(s);
    return rc;
}

static int px_on_timer(void *self, uint64_t id, int64_t now)
{
    brs_py_strategy *s = self;
    gil_take(s);
    PyObject *a = PyLong_FromUnsignedLongLong(id), *b = PyLong_FromLongLong(now);
    int rc;
    if (a && b) {
        rc = call_cb(s, CB_TIMER, a, b);
    } else {
        Py_XDECREF(a);
        Py_XDECREF(b);
        rc = no_event(s);
    }
    gil_drop(s);
    return rc;
}

/* ---- construction ----------------------------------------------------------- */

static int declare_params(brs_py_strategy *s)
{
    PyObject *decl = PyObject_GetAttrString(s->obj, "params");
    if (!decl) {
        PyErr_Clear();
        return 0;
    }
    if (decl == Py_None) {
        Py_DECREF(decl);
        return 0;
    }
    if (!PyDict_Check(decl)) {
        Py_DECREF(decl);
        PyErr_SetString(PyExc_TypeError, "strategy.params must be a dict of name: default value");
        return -1;
    }
    Py_ssize_t n = PyDict_Size(decl), pos = 0, i = 0;
    s->params = calloc(n ? (size_t)n : 1, sizeof *s->params);
    s->param_names = PyList_New(0);
    if (!s->params || !s->param_names) {
        Py_DECREF(decl);
        PyErr_NoMemory();
        return -1;
    }
    PyObject *k, *v;
    while (PyDict_Next(decl, &pos, &k, &v)) {
        brs_param_def *d = &s->params[i];
        if (!PyUnicode_Check(k) || PyList_Append(s->param_names, k) < 0) {
            Py_DECREF(decl);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "strategy.params: names must be strings");
            return -1;
        }
        d->name = PyUnicode_AsUTF8(k);
        d->min = 1;
        d->max = 0; /* unbounded */
        if (PyBool_Check(v)) {
            d->type = BRS_PARAM_BOOL;
            d->def = v == Py_True;
        } else if (PyLong_Check(v)) {
            d->type = BRS_PARAM_INT;
            d->def = PyLong_AsDouble(v);
        } else if (PyFloat_Check(v)) {
            d->type = BRS_PARAM_DOUBLE;
            d->def = PyFloat_AS_DOUBLE(v);
        } else if (PyUnicode_Check(v)) {
            d->type = BRS_PARAM_STRING;
            d->def_string = PyUnicode_AsUTF8(v);
            if (PyList_Append(s->param_names, v) < 0) {
                Py_DECREF(decl);
                return -1;
            }
        } else {
            Py_DECREF(decl);
            PyErr_Format(PyExc_TypeError, "strategy.params['%s']: default must be int, float, bool or str",
                         d->name);
            return -1;
        }
        i++;
    }
    Py_DECREF(decl);
    s->n_params = (uint32_t)i;
    return 0;
}

brs_py_strategy *brs_py_strategy_new(PyObject *obj)
{
    brs_py_strategy *s = calloc(1, sizeof *s);
    if (!s)
        return (brs_py_strategy *)PyErr_NoMemory();
    s->obj = Py_NewRef(obj);
    for (int i = 0; i < CB_N; i++) {
        PyObject *m = PyObject_GetAttrString(obj, cb_names[i]);
        if (!m) {
            PyErr_Clear();
            continue;
        }
        if (m == Py_None || !PyCallable_Check(m)) {
            Py_DECREF(m);
            continue;
        }
        s->cb[i] = m;
    }
    s->ctx = PyObject_New(ctx_object, &brs__py_ctx_type);
    if (!s->ctx)
        goto bad;
    s->ctx->s = s;
    s->ctx->params = PyDict_New();
    if (!s->ctx->params || declare_params(s) < 0)
        goto bad;
    PyObject *nm = PyObject_GetAttrString(obj, "name");
    const char *name = nm && PyUnicode_Check(nm) ? PyUnicode_AsUTF8(nm) : NULL;
    if (!name) {
        PyErr_Clear();
        name = Py_TYPE(obj)->tp_name;
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    Py_XDECREF(nm);
    brs_strategy_vtable vt = {
        .size = sizeof(brs_strategy_vtable), .params = s->params, .n_params = s->n_params,
        .xOpen = px_open, .xClose = px_close, .xStart = px_start, .xStop = px_stop,
        .xOnBar = s->cb[CB_BAR] ? px_on_bar : NULL, .xOnTop = s->cb[CB_TOP] ? px_on_top : NULL,
        .xOnTrade = s->cb[CB_TRADE] ? px_on_trade : NULL,
        .xOnDepth = s->cb[CB_DEPTH] ? px_on_depth : NULL,
        .xOnOrder = s->cb[CB_ORDER] || s->cb[CB_FILL] ? px_on_order : NULL,
        .xOnTimer = s->cb[CB_TIMER] ? px_on_timer : NULL,
        .subscriptions = (s->cb[CB_BAR] ? BRS_SUB_BARS : 0) | (s->cb[CB_TOP] ? BRS_SUB_TOP : 0) |
                         (s->cb[CB_TRADE] ? BRS_SUB_TRADES : 0) | (s->cb[CB_DEPTH] ? BRS_SUB_DEPTH : 0),
    };
    s->vt = vt;
    return s;
bad:
    brs_py_strategy_free(s);
    return NULL;
}

void brs_py_strategy_free(brs_py_strategy *s)
{
    if (!s)
        return;
    for (int i = 0; i < CB_N; i++)
        Py_XDECREF(s->cb[i]);
    if (s->ctx) {
        s->ctx->s = NULL;
        Py_DECREF(s->ctx);
    }
    Py_XDECREF(s->param_names);
    Py_XDECREF(s->err_type);
    Py_XDECREF(s->err_value);
    Py_XDECREF(s->err_tb);
    Py_XDECREF(s->obj);
    free(s->params);
    free(s);
}

const brs_strategy_vtable *brs_py_strategy_vtable(brs_py_strategy *s) { return &s->vt; }
const char *brs_py_strategy_name(brs_py_strategy *s) { return s->name; }
void brs_py_strategy_set_tstate(brs_py_strategy *s, PyThreadState **tstate) { s->tstate = tstate; }

int brs_py_strategy_take_error(brs_py_strategy *s, PyObject **type, PyObject **value, PyObject **tb)
{
    if (!s->err_type)
        return 0;
    *type = s->err_type;
    *value = s->err_value;
    *tb = s->err_tb;
    s->err_type = s->err_value = s->err_tb = NULL;
    return 1;
}


int brs_py_strategy_types_init(PyObject *m)
{
    if (PyType_Ready(&brs__py_ctx_type) < 0 || PyStructSequence_InitType2(&bar_type, &bar_desc) < 0 ||
        PyStructSequence_InitType2(&top_type, &top_desc) < 0 ||
        PyStructSequence_InitType2(&trade_type, &trade_desc) < 0 ||
        PyStructSequence_InitType2(&order_type, &order_desc) < 0)
        return -1;
    static const char *const kinds[5] = {"accepted", "rejected", "fill", "cancelled", "replaced"};
    for (int i = 0; i < 5; i++)
        if (!(s_kinds[i] = PyUnicode_InternFromString(kinds[i])))
            return -1;
    if (!(s_buy = PyUnicode_InternFromString("buy")) || !(s_sell = PyUnicode_InternFromString("sell")) ||
        !(s_liq[1] = PyUnicode_InternFromString("maker")) || !(s_liq[2] = PyUnicode_InternFromString("taker")))
        return -1;
    if (PyModule_AddObjectRef(m, "Context", (PyObject *)&brs__py_ctx_type) < 0 ||
        PyModule_AddObjectRef(m, "Bar", (PyObject *)&bar_type) < 0 ||
        PyModule_AddObjectRef(m, "Top", (PyObject *)&top_type) < 0 ||
        PyModule_AddObjectRef(m, "Trade", (PyObject *)&trade_type) < 0 ||
        PyModule_AddObjectRef(m, "OrderEvent", (PyObject *)&order_type) < 0)
        return -1;
    return 0;
}
