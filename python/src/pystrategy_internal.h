/* pystrategy_internal.h: what pystrategy.c (a Python object as a strategy:
 * the vtable and its events) and pyctx.c (the `ctx` object a callback gets)
 * share. Private to the Python package. */
#ifndef BRS_PYSTRATEGY_INTERNAL_H
#define BRS_PYSTRATEGY_INTERNAL_H

#include "bourse_py.h"

#include <bourse/host.h>

enum { CB_START, CB_STOP, CB_BAR, CB_TOP, CB_TRADE, CB_DEPTH, CB_FILL, CB_ORDER, CB_TIMER, CB_N };

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

/* The `bourse.Context` type (pyctx.c); readied by brs_py_strategy_types_init. */
extern PyTypeObject brs__py_ctx_type;

/* A bourse.Top for t (new reference, NULL with an exception set). */
PyObject *brs__py_make_top(const brs_top *t);
/* The interned "buy" or "sell" (borrowed). */
PyObject *brs__py_side(uint8_t side);

#endif
