/* pystrategy.c: a Python object as a Bourse strategy. Its methods (on_start,
 * on_stop, on_bar, on_top, on_trade, on_depth, on_fill, on_order, on_timer)
 * become a brs_strategy_vtable, so the engine drives it exactly as it drives a
 * C plugin or a Lua script (host/strategy/lua_strategy.c does the same for
 * Lua); `ctx` offers the services of the Lua ctx through the brs_host table.
 * Callbacks run on the engine's worker thread and take the GIL for each call:
 * this is for prototyping, slower than Lua (docs/python.md gives the cost). */
#include "bourse_py.h"

#include <string.h>

#include <bourse/host.h>

#include "core/core.h"
#include "core/interrupt.h"

enum { CB_START, CB_STOP, CB_BAR, CB_TOP, CB_TRADE, CB_DEPTH, CB_FILL, CB_ORDER, CB_TIMER, CB_N };
static const char *const cb_names[CB_N] = {"on_start", "on_stop",  "on_bar",   "on_top",  "on_trade",
                                           "on_depth", "on_fill", "on_order", "on_timer"};

typedef struct ctx_object {
    PyObject_HEAD
    brs_py_strategy *s;  /* NULL once the run is over */
    PyObject *params;    /* dict */
} ctx_object;

struct brs_py_strategy {
    PyObject *obj;
    PyObject *cb[CB_N];  /* bound methods or NULL */
    ctx_object *ctx;
    brs_strategy_vtable vt;
    brs_param_def *params;
    uint32_t n_params;
    PyObject *param_names; /* list keeping the UTF-8 names alive */
    char name[64];
    const brs_host *host;
    brs_ctx *hctx;
    PyThreadState **tstate;
    uint32_t cur_instrument;
    PyObject *err_type, *err_value, *err_tb;
};

static PyTypeObject ctx_type;
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

static PyObject *make_top(const brs_top *t)
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
    SET(o, 5, Py_NewRef(e->side == BRS_BUY ? s_buy : s_sell));
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
    SET(o, 2, Py_NewRef(e->side == BRS_BUY ? s_buy : s_sell));
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
    PyObject *t = make_top(top);
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
    s->ctx = PyObject_New(ctx_object, &ctx_type);
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

/* ---- ctx ---------------------------------------------------------------------- */

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
                                    "side", buf[i].side == BRS_BUY ? s_buy : s_sell, "price",
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
    return make_top(&t);
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

static PyTypeObject ctx_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bourse.Context",
    .tp_basicsize = sizeof(ctx_object),
    .tp_dealloc = (destructor)ctx_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The services a Python strategy gets, as the Lua ctx (docs/python.md).",
    .tp_methods = ctx_methods,
    .tp_getset = ctx_getset,
};

int brs_py_strategy_types_init(PyObject *m)
{
    if (PyType_Ready(&ctx_type) < 0 || PyStructSequence_InitType2(&bar_type, &bar_desc) < 0 ||
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
    if (PyModule_AddObjectRef(m, "Context", (PyObject *)&ctx_type) < 0 ||
        PyModule_AddObjectRef(m, "Bar", (PyObject *)&bar_type) < 0 ||
        PyModule_AddObjectRef(m, "Top", (PyObject *)&top_type) < 0 ||
        PyModule_AddObjectRef(m, "Trade", (PyObject *)&trade_type) < 0 ||
        PyModule_AddObjectRef(m, "OrderEvent", (PyObject *)&order_type) < 0)
        return -1;
    return 0;
}
