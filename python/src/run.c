/* run.c: backtests for Python through the host's own run (host/backtest
 * brs__bt_run_given, what `bourse backtest` calls): a config as JSON text
 * with --set overrides, optionally a Python strategy object, or bars and
 * targets from NumPy arrays (a small C strategy hands the targets over with
 * xSetTargets at start, so no Python runs per bar). The run happens on a
 * worker thread with the GIL released; the run directory is written by the
 * host. Also: metrics() over any equity curve, and command() for the CLI's
 * file commands (importers, gen, report) in-process. */
#include "bourse_py.h"

#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analytics/analytics.h"
#include "backtest/backtest.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/core.h"
#include "strategy/source.h"

int brs_py_instruments(PyObject *list, brs_instrument **out, uint32_t *n);

/* ---- the targets strategy: arrays in, xSetTargets at start ------------------ */

typedef struct tg_strategy {
    const brs_host *host;
    brs_ctx *ctx;
    uint32_t n;
    const double **targets;
    const uint64_t *len;
} tg_strategy;

static int tg_open(void *self, const brs_host *host, brs_ctx *ctx, brs_error *err)
{
    (void)err;
    tg_strategy *t = self;
    t->host = host;
    t->ctx = ctx;
    return BRS_OK;
}
static void tg_close(void *self) { (void)self; }
static int tg_start(void *self)
{
    tg_strategy *t = self;
    for (uint32_t i = 0; i < t->n; i++) {
        int rc = t->host->xSetTargets(t->ctx, i, t->targets[i], t->len[i]);
        if (rc)
            return rc;
    }
    return BRS_OK;
}
static int tg_stop(void *self) { (void)self; return BRS_OK; }

static const brs_strategy_vtable tg_vtable = {
    .size = sizeof(brs_strategy_vtable), .xOpen = tg_open, .xClose = tg_close, .xStart = tg_start,
    .xStop = tg_stop,
};

/* ---- one run ------------------------------------------------------------- */

typedef struct run_job {
    brs_config cfg;
    const char *out_dir;
    brs__bt_given given;
    brs__bt_result res;
    brs_an_metrics m;
    brs_error err;
    int rc;
} run_job;

static int run_fn(void *p)
{
    run_job *j = p;
    j->rc = brs__bt_run_given(&j->cfg, &j->given, j->out_dir, 0, &j->res, &j->m, NULL, 0, &j->err);
    return j->rc;
}

static PyObject *metrics_dict(const brs_an_metrics *m, int book)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    for (size_t i = 0; i < brs__an_n_metric_descs; i++) {
        const brs_an_metric_desc *md = &brs__an_metric_descs[i];
        if (md->book_only && !book)
            continue;
        const char *base = (const char *)m + md->offset;
        PyObject *v;
        if (md->is_int) {
            int64_t x;
            memcpy(&x, base, sizeof x);
            v = PyLong_FromLongLong(x);
        } else {
            double x;
            memcpy(&x, base, sizeof x);
            v = isfinite(x) ? PyFloat_FromDouble(x) : Py_NewRef(Py_None);
        }
        if (!v || PyDict_SetItemString(d, md->name, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

/* Bars from Python: (instruments, [records buffer per instrument]). */
static int take_bars(PyObject *bars_o, brs__bt_bars *b, Py_buffer *views, brs_error *err)
{
    PyObject *instr_o, *list_o;
    if (!PyArg_ParseTuple(bars_o, "OO", &instr_o, &list_o))
        return -1;
    if (brs_py_instruments(instr_o, &b->instr, &b->n_instr) < 0)
        return -1;
    if (!PyList_Check(list_o) || PyList_GET_SIZE(list_o) != (Py_ssize_t)b->n_instr) {
        PyErr_SetString(PyExc_ValueError, "bars: one records buffer per instrument");
        return -1;
    }
    b->bars = calloc(b->n_instr, sizeof *b->bars);
    b->n = calloc(b->n_instr, sizeof *b->n);
    if (!b->bars || !b->n) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t i = 0; i < b->n_instr; i++) {
        if (PyObject_GetBuffer(PyList_GET_ITEM(list_o, i), &views[i], PyBUF_SIMPLE) < 0)
            return -1;
        if (views[i].len % 64 || ((uintptr_t)views[i].buf & 7)) {
            PyErr_SetString(PyExc_ValueError, "bars: records must be whole, aligned 64-byte records");
            return -1;
        }
        const brs_market_event *ev = views[i].buf;
        uint64_t n = (uint64_t)views[i].len / 64;
        if (n == 0) {
            brs__err(err, BRS_E_INVAL, "bars of %s: no bars", b->instr[i].symbol);
            return 1;
        }
        for (uint64_t k = 0; k < n; k++) {
            if (ev[k].kind != BRS_MEV_BAR || ev[k].instrument != i) {
                brs__err(err, BRS_E_INVAL, "bars of %s: record %llu is not a bar of instrument %u",
                         b->instr[i].symbol, (unsigned long long)k, i);
                return 1;
            }
            if (k && ev[k].ts_exchange < ev[k - 1].ts_exchange) {
                brs__err(err, BRS_E_PARSE, "bars of %s go back in time at bar %llu",
                         b->instr[i].symbol, (unsigned long long)k);
                return 1;
            }
            b->local_late |= ev[k].ts_local > ev[k].ts_exchange;
        }
        b->bars[i] = (brs_market_event *)views[i].buf;
        b->n[i] = n;
        b->total += n;
    }
    return 0;
}

/* run(config_text, source, sets, out_dir, strategy=None, bars=None, targets=None,
 *     no_write=False) -> dict: metrics, events, fills, orders, seconds, strategy */
PyObject *brs_py_run(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"config", "source", "sets", "out_dir", "strategy", "bars", "targets",
                             "no_write", NULL};
    const char *text, *source;
    PyObject *sets_o, *out_o, *strat_o = Py_None, *bars_o = Py_None, *targets_o = Py_None;
    int no_write = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ssOO&|OOOp", kwlist, &text, &source, &sets_o,
                                     PyUnicode_FSConverter, &out_o, &strat_o, &bars_o, &targets_o,
                                     &no_write))
        return NULL;
    run_job *j = calloc(1, sizeof *j);
    brs__bt_bars bars = {0};
    Py_buffer *views = NULL, *tviews = NULL;
    const double **tptr = NULL;
    uint64_t *tlen = NULL;
    uint32_t n_views = 0, n_tviews = 0;
    brs_py_strategy *ps = NULL;
    PyThreadState *tstate = NULL;
    PyObject *result = NULL, *sets = NULL;
    brs__strategy_src src;
    memset(&src, 0, sizeof src);
    tg_strategy tg = {0};
    if (!j) {
        PyErr_NoMemory();
        goto out;
    }
    if (brs__config_parse(&j->cfg, text, source, &j->err)) {
        brs_py_raise(&j->err);
        goto out;
    }
    sets = PySequence_Fast(sets_o, "sets must be a list of 'key=value' strings");
    if (!sets)
        goto out;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sets); i++) {
        const char *a = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(sets, i));
        if (!a)
            goto out;
        if (brs__config_set(&j->cfg, a, &j->err)) {
            brs_py_raise(&j->err);
            goto out;
        }
    }
    j->out_dir = PyBytes_AS_STRING(out_o);
    j->given.no_write = no_write; /* metrics only, no run directory (sweeps) */
    if (bars_o != Py_None) {
        PyObject *l = PyTuple_Check(bars_o) && PyTuple_GET_SIZE(bars_o) == 2 ? PyTuple_GET_ITEM(bars_o, 1) : NULL;
        Py_ssize_t nb = l && PyList_Check(l) ? PyList_GET_SIZE(l) : 0;
        views = calloc(nb ? (size_t)nb : 1, sizeof *views);
        if (!views) {
            PyErr_NoMemory();
            goto out;
        }
        n_views = (uint32_t)nb;
        int r = take_bars(bars_o, &bars, views, &j->err);
        if (r < 0)
            goto out;
        if (r > 0) {
            brs_py_raise(&j->err);
            goto out;
        }
        j->given.bars = &bars;
    }
    if (targets_o != Py_None) {
        PyObject *tl = PySequence_Fast(targets_o, "targets must be a list of float64 buffers");
        if (!tl)
            goto out;
        Py_ssize_t nt = PySequence_Fast_GET_SIZE(tl);
        tviews = calloc(nt ? (size_t)nt : 1, sizeof *tviews);
        tptr = calloc(nt ? (size_t)nt : 1, sizeof *tptr);
        tlen = calloc(nt ? (size_t)nt : 1, sizeof *tlen);
        if (!tviews || !tptr || !tlen) {
            Py_DECREF(tl);
            PyErr_NoMemory();
            goto out;
        }
        for (Py_ssize_t i = 0; i < nt; i++) {
            if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(tl, i), &tviews[i], PyBUF_SIMPLE) < 0) {
                Py_DECREF(tl);
                goto out;
            }
            n_tviews++;
            if (tviews[i].len % 8 || ((uintptr_t)tviews[i].buf & 7)) {
                Py_DECREF(tl);
                PyErr_SetString(PyExc_ValueError, "targets must be aligned float64 arrays");
                goto out;
            }
            tptr[i] = tviews[i].buf;
            tlen[i] = (uint64_t)tviews[i].len / 8;
        }
        Py_DECREF(tl);
        tg.n = (uint32_t)nt;
        tg.targets = tptr;
        tg.len = tlen;
        src.vt = &tg_vtable;
        src.self = &tg;
        snprintf(src.name, sizeof src.name, "targets");
        snprintf(src.kind, sizeof src.kind, "arrays");
        j->given.strategy = &src;
    } else if (strat_o != Py_None) {
        ps = brs_py_strategy_new(strat_o);
        if (!ps)
            goto out;
        brs_py_strategy_set_tstate(ps, &tstate);
        src.vt = brs_py_strategy_vtable(ps);
        src.self = ps;
        snprintf(src.name, sizeof src.name, "%s", brs_py_strategy_name(ps));
        snprintf(src.kind, sizeof src.kind, "python");
        j->given.strategy = &src;
    }
    int rc = brs_py_run_worker(run_fn, j, ps != NULL, &tstate);
    if (rc == -1 && PyErr_Occurred())
        goto out; /* interrupted: KeyboardInterrupt is set */
    if (ps) {
        PyObject *et, *ev, *etb;
        if (brs_py_strategy_take_error(ps, &et, &ev, &etb)) {
            PyErr_Restore(et, ev, etb); /* the strategy's own exception, with its traceback */
            goto out;
        }
    }
    if (j->rc) {
        brs_py_raise(&j->err);
        goto out;
    }
    if (j->res.failed) {
        brs_py_raise_msg(BRS_E_SCRIPT, j->res.error);
        goto out;
    }
    PyObject *md = metrics_dict(&j->m, !strcmp(cJSON_GetObjectItemCaseSensitive(j->cfg.root, "mode")->valuestring, "book"));
    if (!md)
        goto out;
    result = Py_BuildValue("{s:N,s:K,s:K,s:K,s:d,s:d,s:s}", "metrics", md, "events",
                           (unsigned long long)j->res.events, "fills", (unsigned long long)j->res.fills,
                           "orders", (unsigned long long)j->res.orders, "seconds", j->res.seconds,
                           "total_seconds", j->res.total_seconds, "strategy", j->res.strategy);
out:
    if (j)
        brs__config_free(&j->cfg);
    free(j);
    for (uint32_t i = 0; i < n_views; i++)
        if (views[i].obj)
            PyBuffer_Release(&views[i]);
    free(views);
    for (uint32_t i = 0; i < n_tviews; i++)
        PyBuffer_Release(&tviews[i]);
    free(tviews);
    free(tptr);
    free(tlen);
    free(bars.instr);
    free(bars.bars);
    free(bars.n);
    if (ps)
        brs_py_strategy_free(ps);
    Py_XDECREF(sets);
    Py_DECREF(out_o);
    return result;
}

/* ---- metrics of any equity curve ------------------------------------------ */

PyObject *brs_py_metrics(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"ts", "equity", "periods_per_year", "risk_free_rate",
                             "trading_seconds_per_day", NULL};
    Py_buffer ts, eq;
    double ppy = 252, rf = 0, tspd = 23400;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*y*|ddd", kwlist, &ts, &eq, &ppy, &rf, &tspd))
        return NULL;
    PyObject *result = NULL;
    brs_an_recorder *rec = NULL;
    brs_error err = {0};
    size_t n = (size_t)ts.len / 8;
    if ((size_t)eq.len / 8 != n || ts.len % 8 || eq.len % 8) {
        PyErr_SetString(PyExc_ValueError, "ts and equity must be int64 and float64 arrays of one length");
        goto out;
    }
    if (!(ppy > 0 && ppy <= 1e6)) {
        brs_py_raise_msg(BRS_E_RANGE, "periods_per_year must be > 0");
        goto out;
    }
    /* the range and message of the config key (host/backtest/run.c) */
    if (!(tspd > 0 && tspd <= 86400)) {
        char msg[160];
        snprintf(msg, sizeof msg, "trading_seconds_per_day must be in (0, 86400] (got %g; 23400 for a "
                 "6.5 h equity session, 86400 for a market open all day)", tspd);
        brs_py_raise_msg(BRS_E_RANGE, msg);
        goto out;
    }
    brs_an_instrument ai = {.symbol = "equity", .multiplier = 1, .price_scale = 1};
    brs_an_options ao = {.mode = BRS_AN_SIGNAL, .periods_per_year = ppy, .risk_free_rate = rf,
                          .trading_seconds_per_day = tspd};
    if (brs__an_create(&rec, &ao, &ai, 1, &err)) {
        brs_py_raise(&err);
        goto out;
    }
    const int64_t *t = ts.buf;
    const double *e = eq.buf;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(e[i])) {
            PyErr_Format(PyExc_ValueError, "equity[%zu] is not finite", i);
            goto out;
        }
        if (brs__an_sample(rec, t[i], e[i], e[i], NULL)) {
            brs_py_raise_msg(BRS_E_INVAL, brs__an_last_error(rec));
            goto out;
        }
    }
    brs_an_metrics m;
    if (brs__an_compute(rec, &m, &err)) {
        brs_py_raise(&err);
        goto out;
    }
    result = metrics_dict(&m, 0);
out:
    brs__an_destroy(rec);
    PyBuffer_Release(&ts);
    PyBuffer_Release(&eq);
    return result;
}

/* ---- the CLI's file commands in-process ------------------------------------- */

extern const brs_command brs__commands[];
extern const size_t brs__n_commands;

static PyObject *slurp(int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);
    lseek(fd, 0, SEEK_SET);
    PyObject *s = PyBytes_FromStringAndSize(NULL, len > 0 ? len : 0);
    if (!s)
        return NULL;
    ssize_t got = len > 0 ? read(fd, PyBytes_AS_STRING(s), (size_t)len) : 0;
    (void)got;
    PyObject *u = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s), "replace");
    Py_DECREF(s);
    return u;
}

/* command([name, args...]) -> (exit code, stdout, stderr). Only commands that
 * read and write files: ticks, gen, report, strategy, plugins. */
PyObject *brs_py_command(PyObject *self, PyObject *args)
{
    (void)self;
    static const char *const allowed[] = {"ticks", "gen", "report", "strategy", "plugins", NULL};
    PyObject *argv_o;
    if (!PyArg_ParseTuple(args, "O", &argv_o))
        return NULL;
    PyObject *seq = PySequence_Fast(argv_o, "argv must be a list of strings");
    if (!seq)
        return NULL;
    Py_ssize_t argc = PySequence_Fast_GET_SIZE(seq);
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    PyObject *result = NULL;
    if (!argv || argc < 1) {
        if (argv)
            PyErr_SetString(PyExc_ValueError, "command: argv is empty");
        else
            PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < argc; i++) {
        const char *a = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (!a || !(argv[i] = strdup(a))) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            goto out;
        }
    }
    int (*run)(int, char **) = NULL;
    for (int k = 0; allowed[k]; k++)
        if (!strcmp(argv[0], allowed[k]))
            for (size_t i = 0; i < brs__n_commands; i++)
                if (!strcmp(brs__commands[i].name, argv[0]))
                    run = brs__commands[i].run;
    if (!run) {
        PyErr_Format(PyExc_ValueError, "command: '%s' is not one of ticks, gen, report, strategy, plugins",
                     argv[0]);
        goto out;
    }
    FILE *fo = tmpfile(), *fe = tmpfile();
    if (!fo || !fe) {
        if (fo)
            fclose(fo);
        if (fe)
            fclose(fe);
        PyErr_SetFromErrno(PyExc_OSError);
        goto out;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    optind = 0; /* glibc: full getopt re-initialisation */
    rc = run((int)argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    Py_END_ALLOW_THREADS
    PyObject *o = slurp(fileno(fo)), *e = o ? slurp(fileno(fe)) : NULL;
    fclose(fo);
    fclose(fe);
    if (o && e)
        result = Py_BuildValue("(iOO)", rc, o, e);
    Py_XDECREF(o);
    Py_XDECREF(e);
out:
    if (argv)
        for (Py_ssize_t i = 0; i < argc; i++)
            free(argv[i]);
    free(argv);
    Py_DECREF(seq);
    return result;
}
