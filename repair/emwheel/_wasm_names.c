/* emwheel._wasm_names: the compiled loops of emwheel.symbol_tables.
 *
 * `emwheel check` reads every import and export name of every module (grill-usd-core:
 * 175,000 imports, 177,000 exports). symbol_tables' Python loops take about 0.35 s for those;
 * these functions do the same for the entries in the plainest form, several times faster,
 * and stop at the first other entry. The Python loop reads that one (and says what is wrong
 * with it, if anything) and calls them again, so every message and every unusual entry is
 * handled by one piece of code only.
 *
 * A plain import: module "env", "GOT.mem" or "GOT.func" (the length in one byte), a name
 * whose length takes one or two bytes, and a function (a type index) or a global of a
 * numeric type. A plain export: a name whose length takes one or two bytes, a kind from 0
 * to 4, an index. Nothing at or past the end of the payload is read.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* symbol_tables.ImportGroup */
#define ENV_FUNCTION 0
#define ENV_OTHER 1
#define GOT_MEM 2
#define GOT_FUNC 3

typedef struct {
    const uint8_t *data;
    Py_ssize_t end;
} Payload;

static int starts_with(const Payload *p, Py_ssize_t i, const char *prefix, Py_ssize_t length) {
    return length <= p->end - i && memcmp(p->data + i, prefix, length) == 0;
}

/* A name whose length takes one or two bytes: its start in *start, the position after it
   returned (-1: another form, or past the end). */
static Py_ssize_t short_name(const Payload *p, Py_ssize_t i, Py_ssize_t *start) {
    if (i >= p->end) return -1;
    Py_ssize_t length = p->data[i++];
    if (length >= 0x80) {
        if (i >= p->end || p->data[i] >= 0x80) return -1;
        length = (length & 0x7F) | (p->data[i++] << 7);
    }
    *start = i;
    return length <= p->end - i ? i + length : -1;
}

static Py_ssize_t skip_leb(const Payload *p, Py_ssize_t i) {
    while (i < p->end) {
        if (p->data[i++] < 0x80) return i;
    }
    return -1;
}

static int append_name(PyObject *names, const Payload *p, Py_ssize_t start, Py_ssize_t end) {
    PyObject *name = PyBytes_FromStringAndSize((const char *)p->data + start, end - start);
    if (name == NULL) return -1;
    int result = PyList_Append(names, name);
    Py_DECREF(name);
    return result;
}

static int append_byte(PyObject *bytes, int value) {
    Py_ssize_t size = PyByteArray_GET_SIZE(bytes);
    if (PyByteArray_Resize(bytes, size + 1) < 0) return -1;
    PyByteArray_AS_STRING(bytes)[size] = (char)value;
    return 0;
}

/* The position after the plain import at i, with its name, group and kind; -1 if it is not
   plain. */
static Py_ssize_t plain_import(const Payload *p, Py_ssize_t i, Py_ssize_t *name_start,
                               Py_ssize_t *name_end, int *group, int *kind) {
    if (starts_with(p, i, "\x03" "env", 4)) *group = ENV_FUNCTION, i += 4;
    else if (starts_with(p, i, "\x07" "GOT.mem", 8)) *group = GOT_MEM, i += 8;
    else if (starts_with(p, i, "\x08" "GOT.func", 9)) *group = GOT_FUNC, i += 9;
    else return -1;
    if ((i = short_name(p, i, name_start)) < 0 || i >= p->end) return -1;
    *name_end = i;
    *kind = p->data[i++];
    if (*kind == 0) return skip_leb(p, i); /* a function: its type index */
    if (*kind != 3 || p->end - i < 2) return -1;
    uint8_t type = p->data[i], mutability = p->data[i + 1];
    if (type < 0x7C || type > 0x7F || mutability > 1) return -1; /* not i32, i64, f32, f64 */
    if (*group == ENV_FUNCTION) *group = ENV_OTHER;
    return i + 2;
}

static int get_payload(Py_buffer *buffer, Py_ssize_t pos, Payload *p) {
    p->data = buffer->buf;
    p->end = buffer->len;
    if (0 <= pos && pos <= p->end) return 0;
    PyErr_Format(PyExc_ValueError, "position %zd outside %zd bytes", pos, p->end);
    return -1;
}

PyDoc_STRVAR(read_plain_imports_doc,
"read_plain_imports(payload, pos, count, names, groups, kinds) -> (pos, read)\n\n"
"Reads up to count import entries from pos while each is plain, appending each name to the\n"
"list names and its ImportGroup and kind to the bytearrays groups and kinds; returns where\n"
"the first other entry starts and how many were read.");

static PyObject *read_plain_imports(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer buffer;
    Py_ssize_t pos, count, read = 0;
    PyObject *names, *groups, *kinds;
    if (!PyArg_ParseTuple(args, "y*nnO!O!O!:read_plain_imports", &buffer, &pos, &count,
                          &PyList_Type, &names, &PyByteArray_Type, &groups,
                          &PyByteArray_Type, &kinds))
        return NULL;
    Payload p;
    int ok = get_payload(&buffer, pos, &p) == 0;
    for (; ok && read < count; read++) {
        Py_ssize_t name_start, name_end, after;
        int group, kind;
        if ((after = plain_import(&p, pos, &name_start, &name_end, &group, &kind)) < 0) break;
        ok = append_name(names, &p, name_start, name_end) == 0 && append_byte(groups, group) == 0
             && append_byte(kinds, kind) == 0;
        pos = after;
    }
    PyBuffer_Release(&buffer);
    return ok ? Py_BuildValue("nn", pos, read) : NULL;
}

PyDoc_STRVAR(read_plain_exports_doc,
"read_plain_exports(payload, pos, count, names) -> (pos, read)\n\n"
"Reads up to count export entries from pos while each is plain, appending each name to the\n"
"list names; returns where the first other entry starts and how many were read.");

static PyObject *read_plain_exports(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer buffer;
    Py_ssize_t pos, count, read = 0;
    PyObject *names;
    if (!PyArg_ParseTuple(args, "y*nnO!:read_plain_exports", &buffer, &pos, &count,
                          &PyList_Type, &names))
        return NULL;
    Payload p;
    int ok = get_payload(&buffer, pos, &p) == 0;
    for (; ok && read < count; read++) {
        Py_ssize_t name_start, after = short_name(&p, pos, &name_start);
        if (after < 0 || after >= p.end || p.data[after] > 4) break; /* kind: 0 to 4 */
        Py_ssize_t name_end = after;
        if ((after = skip_leb(&p, after + 1)) < 0) break; /* the index */
        ok = append_name(names, &p, name_start, name_end) == 0;
        pos = after;
    }
    PyBuffer_Release(&buffer);
    return ok ? Py_BuildValue("nn", pos, read) : NULL;
}

static PyMethodDef methods[] = {
    {"read_plain_imports", read_plain_imports, METH_VARARGS, read_plain_imports_doc},
    {"read_plain_exports", read_plain_exports, METH_VARARGS, read_plain_exports_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_wasm_names",
    "The compiled loops of emwheel.symbol_tables (see _wasm_names.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__wasm_names(void) { return PyModule_Create(&module_def); }
