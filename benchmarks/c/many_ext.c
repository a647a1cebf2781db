/* One of the generated benchmark wheel's 200 extension modules, built once per module:
 *
 *   clang-19 ... -DMODULE_NAME=_m042 -DMODULE_INDEX=42 -c many_ext.c
 *
 * Module _mNNN has value() -> many_value(NNN) = 7 * NNN + 3, through libmany.so. As in
 * tests/c/testext.c, the few stable-ABI items used are declared here (wasm32: 32-bit
 * Py_ssize_t and pointers), so no CPython headers are needed.
 */
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

#define METH_NOARGS 0x0004
#define STR_(x) #x
#define STR(x) STR_(x)
#define INIT_(name) PyInit_##name
#define INIT(name) INIT_(name)

extern PyObject *PyModuleDef_Init(PyModuleDef *def);
extern PyObject *PyLong_FromLong(long value);
extern int many_value(int index);

static PyObject *value(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLong(many_value(MODULE_INDEX));
}

static PyMethodDef methods[] = {
    {"value", value, METH_NOARGS, "value() -> 7 * index + 3, through libmany"},
    {0, 0, 0, 0},
};

static PyModuleDef module_def = {
    {{1, 0}, 0, 0, 0},
    STR(MODULE_NAME),
    "emwheel benchmark extension",
    0,
    methods,
    0, 0, 0, 0,
};

__attribute__((visibility("default"))) PyObject *INIT(MODULE_NAME)(void) {
    return PyModuleDef_Init(&module_def);
}
