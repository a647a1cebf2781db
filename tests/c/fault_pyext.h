/* The few CPython stable-ABI items a test extension module needs, declared by hand (no
 * CPython headers; wasm32: 32-bit Py_ssize_t and pointers), as in testext.c.
 * FAULT_MODULE(name, doc) defines PyInit_<name> for a module whose one function is
 * compute(x) -> fault_compute(x), which the including file defines. */
typedef long Py_ssize_t;
typedef struct _object {
    Py_ssize_t ob_refcnt;
    void *ob_type;
} PyObject;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);
typedef struct {
    const char *ml_name;
    PyCFunction ml_meth;
    int ml_flags;
    const char *ml_doc;
} PyMethodDef;
typedef struct {
    PyObject ob_base;
    PyObject *(*m_init)(void);
    Py_ssize_t m_index;
    PyObject *m_copy;
} PyModuleDef_Base;
typedef struct {
    PyModuleDef_Base m_base;
    const char *m_name;
    const char *m_doc;
    Py_ssize_t m_size;
    PyMethodDef *m_methods;
    void *m_slots;
    void *m_traverse;
    void *m_clear;
    void *m_free;
} PyModuleDef;

#define METH_O 0x0008

extern PyObject *PyModuleDef_Init(PyModuleDef *def);
extern PyObject *PyLong_FromLong(long value);
extern long PyLong_AsLong(PyObject *value);

static int fault_compute(int x);

static PyObject *compute(PyObject *self, PyObject *arg) {
    (void)self;
    return PyLong_FromLong(fault_compute((int)PyLong_AsLong(arg)));
}

static PyMethodDef methods[] = {
    {"compute", compute, METH_O, "compute(x)"},
    {0, 0, 0, 0},
};

#define FAULT_MODULE(name, doc)                                                              \
    static PyModuleDef module_def = {{{1, 0}, 0, 0, 0}, #name, doc, 0, methods, 0, 0, 0, 0}; \
    __attribute__((visibility("default"))) PyObject *PyInit_##name(void) {                   \
        return PyModuleDef_Init(&module_def);                                                \
    }
