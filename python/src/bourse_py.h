/* bourse_py.h: what the files of the `_bourse` CPython extension share: the
 * exception classes (one per BRS_E_ code), running the engine on a worker
 * thread with the GIL released and Ctrl-C turned into an engine interrupt,
 * and the Python strategy behind the strategy vtable. The extension links
 * bourse_core, the library the `bourse` binary is built from. */
#ifndef BRS_PY_H
#define BRS_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <bourse/errors.h>
#include <bourse/strategy.h>

/* Raise the bourse.Error subclass for err->code with err->msg; returns NULL. */
PyObject *brs_py_raise(const brs_error *err);
/* The same from a code and a message. */
PyObject *brs_py_raise_msg(int code, const char *msg);

/* Run fn(arg) on a worker thread while the calling thread waits with the GIL
 * released, checking for signals every 50 ms; a pending KeyboardInterrupt
 * (Ctrl-C) asks the engine to stop (core/interrupt.h), waits for the worker to
 * finish and leaves the exception set. Returns fn's result, or -1 with a
 * Python exception set when interrupted. When with_python is set the worker
 * holds a Python thread state (*tstate, GIL released) so callbacks can take
 * the GIL with PyEval_RestoreThread. */
int brs_py_run_worker(int (*fn)(void *), void *arg, int with_python, PyThreadState **tstate);

/* ---- Python strategies (pystrategy.c) ---------------------------------- */
typedef struct brs_py_strategy brs_py_strategy;
int brs_py_strategy_types_init(PyObject *module);
/* Wrap a Python strategy object: NULL with an exception on bad input. */
brs_py_strategy *brs_py_strategy_new(PyObject *obj);
void brs_py_strategy_free(brs_py_strategy *s);
const brs_strategy_vtable *brs_py_strategy_vtable(brs_py_strategy *s);
const char *brs_py_strategy_name(brs_py_strategy *s);
/* Where callbacks take the GIL from (the worker's thread state). */
void brs_py_strategy_set_tstate(brs_py_strategy *s, PyThreadState **tstate);
/* The exception a callback raised (new references, NULL when none); cleared. */
int brs_py_strategy_take_error(brs_py_strategy *s, PyObject **type, PyObject **value,
                               PyObject **tb);

/* ---- module functions by file ------------------------------------------- */
PyObject *brs_py_read_ticks(PyObject *self, PyObject *args, PyObject *kw);
PyObject *brs_py_write_ticks(PyObject *self, PyObject *args, PyObject *kw);
PyObject *brs_py_tick_info(PyObject *self, PyObject *args);
PyObject *brs_py_run(PyObject *self, PyObject *args, PyObject *kw);
PyObject *brs_py_metrics(PyObject *self, PyObject *args, PyObject *kw);
PyObject *brs_py_command(PyObject *self, PyObject *args);
int brs_py_indicator_types_init(PyObject *module);

/* ---- result memory (hugebuf.c) ------------------------------------------- */
int brs_py_hugebuf_type_init(PyObject *module);
/* A writable buffer object of len bytes (uninitialised, *data its start):
 * 2 MiB aligned, huge pages asked for; NULL with MemoryError. */
PyObject *brs_py_hugebuf_new(size_t len, void **data);
/* Expose only the first len bytes and give the whole pages after them back. */
void brs_py_hugebuf_shrink(PyObject *buf, size_t len);

#endif
