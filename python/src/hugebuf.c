/* hugebuf.c: the memory read_ticks decodes into, handed to numpy without a
 * copy: one anonymous mapping aligned to 2 MiB with transparent huge pages
 * asked for (MADV_HUGEPAGE), exposed through the buffer protocol and unmapped
 * when the last view of it goes. Why not a bytearray (malloc): mapping 10M
 * events' 640 MB page by page cost more CPU than decoding them (docs/python.md). */
#include "bourse_py.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_ALIGN ((size_t)2 << 20)

typedef struct brs_py_hugebuf {
    PyObject_HEAD
    void *map;      /* the mapping (NULL for an empty buffer) */
    size_t map_len; /* its length, whole pages */
    Py_ssize_t len; /* bytes exposed, from map */
} brs_py_hugebuf;

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static void hb_dealloc(PyObject *o)
{
    brs_py_hugebuf *b = (brs_py_hugebuf *)o;
    if (b->map)
        munmap(b->map, b->map_len);
    Py_TYPE(o)->tp_free(o);
}

/* Where an empty buffer points: numpy and the column arithmetic of ticks.c
 * want an address, never NULL; nothing is ever written there. */
static _Alignas(64) char empty[64];

static int hb_getbuffer(PyObject *o, Py_buffer *view, int flags)
{
    brs_py_hugebuf *b = (brs_py_hugebuf *)o;
    return PyBuffer_FillInfo(view, o, b->map ? b->map : empty, b->map ? b->len : 0, 0, flags);
}

static PyObject *hb_len(PyObject *o, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(((brs_py_hugebuf *)o)->len);
}

static PyBufferProcs hb_as_buffer = {.bf_getbuffer = hb_getbuffer};
static PyGetSetDef hb_getset[] = {
    {"nbytes", hb_len, NULL, "bytes exposed", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject hb_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bourse._bourse.HugeBuffer",
    .tp_basicsize = sizeof(brs_py_hugebuf),
    .tp_dealloc = hb_dealloc,
    .tp_as_buffer = &hb_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memory a tick file was decoded into (a buffer for numpy.frombuffer).",
    .tp_getset = hb_getset,
};

int brs_py_hugebuf_type_init(PyObject *module)
{
    if (PyType_Ready(&hb_type) < 0)
        return -1;
    Py_INCREF(&hb_type);
    if (PyModule_AddObject(module, "HugeBuffer", (PyObject *)&hb_type) < 0) {
        Py_DECREF(&hb_type);
        return -1;
    }
    return 0;
}

PyObject *brs_py_hugebuf_new(size_t len, void **data)
{
    brs_py_hugebuf *b = PyObject_New(brs_py_hugebuf, &hb_type);
    if (!b)
        return NULL;
    b->map = NULL;
    b->map_len = 0;
    b->len = (Py_ssize_t)len;
    *data = empty;
    if (!len)
        return (PyObject *)b;
    size_t page = page_size();
    size_t want = (len + page - 1) & ~(page - 1);
    if (want < len) {
        Py_DECREF(b);
        return PyErr_NoMemory();
    }
    /* Large buffers start on a 2 MiB boundary so huge pages can back all of
     * them: map the slack too, then unmap what is outside. */
    size_t slack = want >= HUGE_ALIGN ? HUGE_ALIGN : 0;
    if (want + slack < want) {
        Py_DECREF(b);
        return PyErr_NoMemory();
    }
    char *p = mmap(NULL, want + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        Py_DECREF(b);
        return PyErr_NoMemory();
    }
    if (slack) {
        uintptr_t a = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
        size_t head = a - (uintptr_t)p, tail = slack - head;
        if (head)
            munmap(p, head);
        if (tail)
            munmap((char *)a + want, tail);
        p = (char *)a;
#ifdef MADV_HUGEPAGE
        (void)madvise(p, want, MADV_HUGEPAGE); /* advice: without THP, 4 KiB pages */
#endif
    }
    b->map = p;
    b->map_len = want;
    *data = p;
    return (PyObject *)b;
}

void brs_py_hugebuf_shrink(PyObject *o, size_t len)
{
    brs_py_hugebuf *b = (brs_py_hugebuf *)o;
    if (!b->map || len >= (size_t)b->len)
        return;
    b->len = (Py_ssize_t)len;
    size_t page = page_size();
    size_t keep = (len + page - 1) & ~(page - 1);
    if (!keep)
        keep = page; /* the mapping stays: an empty view still needs an address */
    if (keep < b->map_len && munmap((char *)b->map + keep, b->map_len - keep) == 0)
        b->map_len = keep;
}
