/* module.c: the `bourse._bourse` extension module: its function table, the
 * exception classes generated from the host's X-macro list of error codes
 * (bourse.Error, and one subclass per BRS_E_ code), and the worker-thread
 * runner that keeps the GIL released while the engine runs and turns Ctrl-C
 * into an engine interrupt. */
#include "bourse_py.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <bourse/version.h>

#include "core/interrupt.h"

static PyObject *error_base;
static PyObject *error_table; /* dict: code -> class */

PyObject *brs_py_raise_msg(int code, const char *msg)
{
    PyObject *key = PyLong_FromLong(code);
    PyObject *cls = error_table && key ? PyDict_GetItem(error_table, key) : NULL;
    Py_XDECREF(key);
    if (!cls)
        cls = error_base;
    PyObject *args = Py_BuildValue("(s)", msg && *msg ? msg : brs_strerror(code));
    if (!args)
        return NULL;
    PyObject *exc = PyObject_Call(cls, args, NULL);
    Py_DECREF(args);
    if (!exc)
        return NULL;
    PyObject *c = PyLong_FromLong(code);
    PyObject_SetAttrString(exc, "code", c);
    Py_XDECREF(c);
    PyObject *n = PyUnicode_FromString(brs_err_name(code));
    PyObject_SetAttrString(exc, "name", n);
    Py_XDECREF(n);
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *brs_py_raise(const brs_error *err)
{
    return brs_py_raise_msg(err->code ? err->code : BRS_E_INVAL, err->msg);
}

/* "UNKNOWNORDER" -> "UnknownorderError" */
static void class_name(const char *code, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; code[i] && k + 6 < cap; i++)
        out[k++] = (char)(i == 0 ? toupper((unsigned char)code[i]) : tolower((unsigned char)code[i]));
    snprintf(out + k, cap - k, "Error");
}

static int add_errors(PyObject *m)
{
    error_base = PyErr_NewExceptionWithDoc(
        "bourse.Error",
        "An error reported by the Bourse host: .code is the BRS_E_ value, .name its name, "
        "str() the host's message.",
        NULL, NULL);
    if (!error_base || PyModule_AddObjectRef(m, "Error", error_base) < 0)
        return -1;
    error_table = PyDict_New();
    if (!error_table || PyModule_AddObjectRef(m, "errors_by_code", error_table) < 0)
        return -1;
#define BRS__PY_ERR(name, value, msg)                                                           \
    if ((value) != 0) {                                                                         \
        char cname[64], full[80];                                                               \
        class_name(#name, cname, sizeof cname);                                                 \
        snprintf(full, sizeof full, "bourse.%s", cname);                                        \
        PyObject *cls = PyErr_NewExceptionWithDoc(full, "BRS_E_" #name ": " msg, error_base, NULL); \
        if (!cls || PyModule_AddObjectRef(m, cname, cls) < 0)                                   \
            return -1;                                                                          \
        PyObject *key = PyLong_FromLong(value);                                                 \
        int bad = !key || PyDict_SetItem(error_table, key, cls) < 0;                            \
        Py_XDECREF(key);                                                                        \
        Py_DECREF(cls);                                                                         \
        if (bad)                                                                                \
            return -1;                                                                          \
    }
    BRS_ERRNO_MAP(BRS__PY_ERR)
#undef BRS__PY_ERR
    return 0;
}

/* ---- the worker thread ---------------------------------------------------- */

typedef struct worker {
    int (*fn)(void *);
    void *arg;
    int rc;
    int done;
    int with_python;
    PyThreadState **tstate;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} worker;

static pthread_mutex_t active_mu = PTHREAD_MUTEX_INITIALIZER;
static int active_runs;
/* One run at a time: the host keeps process-wide state (the log, the
 * interrupt request), so runs from several Python threads take turns. */
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t run_thread;
static int run_thread_set;

static void *worker_main(void *p)
{
    worker *w = p;
    pthread_mutex_lock(&active_mu);
    run_thread = pthread_self(); /* before any callback can run here */
    run_thread_set = 1;
    pthread_mutex_unlock(&active_mu);
    PyGILState_STATE g = PyGILState_UNLOCKED;
    if (w->with_python) {
        g = PyGILState_Ensure();
        *w->tstate = PyEval_SaveThread();
    }
    int rc = w->fn(w->arg);
    if (w->with_python) {
        PyEval_RestoreThread(*w->tstate);
        *w->tstate = NULL;
        PyGILState_Release(g);
    }
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int brs_py_run_worker(int (*fn)(void *), void *arg, int with_python, PyThreadState **tstate)
{
    pthread_mutex_lock(&active_mu);
    int inside = run_thread_set && pthread_equal(run_thread, pthread_self());
    pthread_mutex_unlock(&active_mu);
    if (inside) {
        PyErr_SetString(PyExc_RuntimeError, "bourse: a strategy callback cannot start another run");
        return -1;
    }
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&run_mu);
    Py_END_ALLOW_THREADS
    worker w = {.fn = fn, .arg = arg, .with_python = with_python, .tstate = tstate};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    pthread_mutex_lock(&active_mu);
    if (active_runs++ == 0)
        brs__interrupt_clear(); /* a request left over from an earlier run */
    pthread_mutex_unlock(&active_mu);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 16u << 20);
    pthread_t th;
    int e = pthread_create(&th, &attr, worker_main, &w);
    pthread_attr_destroy(&attr);
    if (e) {
        pthread_mutex_lock(&active_mu);
        active_runs--;
        pthread_mutex_unlock(&active_mu);
        pthread_mutex_unlock(&run_mu);
        PyErr_SetString(PyExc_RuntimeError, "bourse: cannot start the engine thread");
        return -1;
    }

    int interrupted = 0;
    for (;;) {
        int done;
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&w.mu);
        if (!w.done) {
            if (interrupted) {
                pthread_cond_wait(&w.cv, &w.mu);
            } else {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50 * 1000 * 1000;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&w.cv, &w.mu, &ts);
            }
        }
        done = w.done;
        pthread_mutex_unlock(&w.mu);
        Py_END_ALLOW_THREADS
        if (done)
            break;
        if (!interrupted && PyErr_CheckSignals() < 0) {
            interrupted = 1; /* the exception stays set; stop the engine and wait for it */
            brs__interrupt_request();
        }
    }
    pthread_join(th, NULL);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_lock(&active_mu);
    active_runs--;
    run_thread_set = 0;
    pthread_mutex_unlock(&active_mu);
    pthread_mutex_unlock(&run_mu);
    return interrupted ? -1 : w.rc;
}

/* ---- the module ----------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"read_ticks", (PyCFunction)(void (*)(void))brs_py_read_ticks, METH_VARARGS | METH_KEYWORDS,
     "read_ticks(path, kinds, instruments, start, end, threads, columns) -> (buffer, instruments, cut, n, "
     "bad, kinds, side)"},
    {"write_ticks", (PyCFunction)(void (*)(void))brs_py_write_ticks, METH_VARARGS | METH_KEYWORDS,
     "write_ticks(path, records, instruments, block_records=0, level=0) -> count"},
    {"tick_info", brs_py_tick_info, METH_VARARGS, "tick_info(path) -> dict"},
    {"run", (PyCFunction)(void (*)(void))brs_py_run, METH_VARARGS | METH_KEYWORDS,
     "run(config, source, sets, out_dir, strategy=None, bars=None, targets=None) -> dict"},
    {"metrics", (PyCFunction)(void (*)(void))brs_py_metrics, METH_VARARGS | METH_KEYWORDS,
     "metrics(ts, equity, periods_per_year, risk_free_rate, trading_seconds_per_day) -> dict"},
    {"command", brs_py_command, METH_VARARGS, "command(argv) -> (exit code, stderr text)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "_bourse",
    "The Bourse host library (the engine the `bourse` binary runs), for bourse/__init__.py.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__bourse(void);
PyMODINIT_FUNC PyInit__bourse(void)
{
    PyObject *m = PyModule_Create(&moddef);
    if (!m)
        return NULL;
    if (add_errors(m) < 0 || brs_py_strategy_types_init(m) < 0 || brs_py_indicator_types_init(m) < 0 ||
        brs_py_hugebuf_type_init(m) < 0 ||
        PyModule_AddIntConstant(m, "ABI_MAJOR", BRS_ABI_MAJOR) < 0 ||
        PyModule_AddIntConstant(m, "ABI_MINOR", BRS_ABI_MINOR) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
