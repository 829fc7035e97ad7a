/* indicators.c: bourse.indicators.SMA and EMA for Python strategies, the C
 * indicators of api/bourse/indicators.h (the ones Lua's ctx.indicators and C
 * plugins use), so a Python strategy computes bit-identical values. */
#include "bourse_py.h"

#include <math.h>
#include <stdlib.h>

#include <bourse/indicators.h>

typedef struct ind_object {
    PyObject_HEAD
    int kind;  /* 0 sma, 1 ema */
    brs_sma sma;
    brs_ema ema;
    double *buf;
} ind_object;

static int ind_init_common(ind_object *o, PyObject *args, int kind)
{
    unsigned int n;
    if (!PyArg_ParseTuple(args, "I", &n))
        return -1;
    if (n == 0 || n > 1u << 24) {
        PyErr_SetString(PyExc_ValueError, "period must be 1..16777216");
        return -1;
    }
    o->kind = kind;
    free(o->buf);
    o->buf = calloc(n, sizeof *o->buf);
    if (!o->buf) {
        PyErr_NoMemory();
        return -1;
    }
    if (kind == 0)
        brs_sma_init(&o->sma, o->buf, n);
    else
        brs_ema_init(&o->ema, n);
    return 0;
}
static int sma_init(ind_object *o, PyObject *a, PyObject *k) { (void)k; return ind_init_common(o, a, 0); }
static int ema_init(ind_object *o, PyObject *a, PyObject *k) { (void)k; return ind_init_common(o, a, 1); }

static PyObject *value(double v) { return isnan(v) ? Py_NewRef(Py_None) : PyFloat_FromDouble(v); }

static PyObject *ind_update(ind_object *o, PyObject *arg)
{
    double x = PyFloat_AsDouble(arg);
    if (x == -1.0 && PyErr_Occurred())
        return NULL;
    if (!o->buf)
        return PyErr_Format(PyExc_RuntimeError, "indicator not initialised");
    return value(o->kind == 0 ? brs_sma_update(&o->sma, x) : brs_ema_update(&o->ema, x));
}

static PyObject *ind_value(ind_object *o, PyObject *unused)
{
    (void)unused;
    if (!o->buf)
        Py_RETURN_NONE;
    return value(o->kind == 0 ? brs_sma_value(&o->sma) : brs_ema_value(&o->ema));
}

static void ind_dealloc(ind_object *o)
{
    free(o->buf);
    Py_TYPE(o)->tp_free((PyObject *)o);
}

static PyMethodDef ind_methods[] = {
    {"update", (PyCFunction)ind_update, METH_O, "update(x) -> value, None until warmed up"},
    {"value", (PyCFunction)ind_value, METH_NOARGS, "the current value (None until warmed up)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject sma_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bourse.SMA",
    .tp_basicsize = sizeof(ind_object),
    .tp_dealloc = (destructor)ind_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "SMA(n): simple moving average of the last n values (api/bourse/indicators.h).",
    .tp_methods = ind_methods,
    .tp_init = (initproc)sma_init,
    .tp_new = PyType_GenericNew,
};
static PyTypeObject ema_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bourse.EMA",
    .tp_basicsize = sizeof(ind_object),
    .tp_dealloc = (destructor)ind_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "EMA(n): alpha 2/(n+1), seeded with the SMA of the first n (api/bourse/indicators.h).",
    .tp_methods = ind_methods,
    .tp_init = (initproc)ema_init,
    .tp_new = PyType_GenericNew,
};

int brs_py_indicator_types_init(PyObject *m)
{
    if (PyType_Ready(&sma_type) < 0 || PyType_Ready(&ema_type) < 0)
        return -1;
    if (PyModule_AddObjectRef(m, "SMA", (PyObject *)&sma_type) < 0 ||
        PyModule_AddObjectRef(m, "EMA", (PyObject *)&ema_type) < 0)
        return -1;
    return 0;
}
