/* emwheel._wasm_scan: the compiled scanner of emwheel.wasm_features.
 *
 * wasm_features decodes a module's code section to find the WebAssembly features it uses.
 * Nearly every instruction shows no feature not already found ("ordinary" instructions);
 * this scanner skips runs of those, and whole function bodies made only of them, about ten
 * times faster than the regular expression that does the same in pure Python. Wherever it
 * stops (an instruction that is not ordinary, a malformed body, a function with an unusual
 * local), Python's decoder takes over, so features, evidence and errors are found by one
 * piece of code only.
 *
 * What is ordinary is not known here: wasm_opcodes.scanner_table() builds a table from the
 * opcode tables for the features found so far, and this file only follows it. Layout of the
 * table (the same constants are in wasm_opcodes.py):
 *   immediates of the one-byte opcodes, then of the 0xfc, 0xfd and 0xfe sub-opcodes:
 *     IMMEDIATES_WIDTH bytes each, one letter per immediate, NUL-padded (all NUL: none);
 *     '!': not ordinary. The letters are wasm_opcodes' (u LEB128, k block type, m memarg,
 *     x memory index 0, t table index, v br_table targets, s select's one type, h heap type,
 *     c try_table's catch clauses, 1/4/8/V raw bytes).
 *   256 bytes: 1 for each value type allowed, then 256 bytes: 1 for each one-byte heap type;
 *   one byte of FLAG_ bits.
 * Each reader below returns the position after what it read, or -1 when the bytes are not
 * there in the one form the regular expression accepts (then the instruction is left to
 * the decoder). No byte at or past `last` is read.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define IMMEDIATES_WIDTH 4
#define ONE_BYTE_OPCODES 256
#define FC_OPCODES 0x20
#define FD_OPCODES 0x114
#define FE_OPCODES 0x50
#define FC_AT (ONE_BYTE_OPCODES * IMMEDIATES_WIDTH)
#define FD_AT (FC_AT + FC_OPCODES * IMMEDIATES_WIDTH)
#define FE_AT (FD_AT + FD_OPCODES * IMMEDIATES_WIDTH)
#define VALUE_TYPES_AT (FE_AT + FE_OPCODES * IMMEDIATES_WIDTH)
#define HEAP_TYPES_AT (VALUE_TYPES_AT + 256)
#define FLAGS_AT (HEAP_TYPES_AT + 256)
#define TABLE_SIZE (FLAGS_AT + 1)

#define FLAG_TYPED_REFERENCES 1 /* (ref ht), (ref null ht) and type indices as heap types */
#define FLAG_TYPE_INDEX_BLOCKS 2 /* multi-value: a block's type given by a type index */
#define FLAG_TABLE_INDICES 4 /* call_indirect of a table other than 0 (reference types) */

/* The longest LEB128 read in a function's header (sizes, counts: 32-bit). Longer ones are
   left to the decoder, which says what is wrong with them. */
#define HEADER_LEB_MAX 5

typedef struct {
    const uint8_t *data;
    Py_ssize_t last; /* the end of what may be read */
    const uint8_t *table;
} Scan;

static Py_ssize_t leb(const Scan *s, Py_ssize_t i) {
    while (i < s->last) {
        if (s->data[i++] < 0x80) return i;
    }
    return -1;
}

/* A non-negative s33 in at most 5 bytes: a type index. */
static Py_ssize_t type_index(const Scan *s, Py_ssize_t i) {
    for (int n = 0; n < 5 && i < s->last; n++) {
        uint8_t byte = s->data[i++];
        if (byte < 0x40) return i;
        if (byte < 0x80) return -1; /* negative: an abstract type, not an index */
    }
    return -1;
}

static int flag(const Scan *s, int bit) { return (s->table[FLAGS_AT] & bit) != 0; }

static Py_ssize_t heap_type(const Scan *s, Py_ssize_t i) {
    if (i >= s->last) return -1;
    if (s->table[HEAP_TYPES_AT + s->data[i]]) return i + 1;
    return flag(s, FLAG_TYPED_REFERENCES) ? type_index(s, i) : -1;
}

static Py_ssize_t value_type(const Scan *s, Py_ssize_t i) {
    if (i >= s->last) return -1;
    uint8_t code = s->data[i];
    if (s->table[VALUE_TYPES_AT + code]) return i + 1;
    if ((code == 0x63 || code == 0x64) && flag(s, FLAG_TYPED_REFERENCES)) return heap_type(s, i + 1);
    return -1;
}

static Py_ssize_t block_type(const Scan *s, Py_ssize_t i) {
    if (i >= s->last) return -1;
    if (s->data[i] == 0x40) return i + 1;
    Py_ssize_t after = value_type(s, i);
    if (after < 0 && flag(s, FLAG_TYPE_INDEX_BLOCKS)) return type_index(s, i);
    return after;
}

static Py_ssize_t memarg(const Scan *s, Py_ssize_t i) {
    if (i >= s->last || s->data[i] >= 0x40) return -1; /* 0x40: an explicit memory index */
    return leb(s, i + 1);
}

static Py_ssize_t zero_byte(const Scan *s, Py_ssize_t i) {
    return i < s->last && s->data[i] == 0 ? i + 1 : -1;
}

static Py_ssize_t br_table(const Scan *s, Py_ssize_t i) {
    if (i >= s->last || s->data[i] >= 0x80) return -1;
    for (int targets = s->data[i++] + 1; targets > 0 && i >= 0; targets--) i = leb(s, i);
    return i;
}

static Py_ssize_t catch_clauses(const Scan *s, Py_ssize_t i) {
    if (i >= s->last || s->data[i] > 3) return -1;
    for (int clauses = s->data[i++]; clauses > 0 && i >= 0; clauses--) {
        if (i >= s->last || s->data[i] > 3) return -1;
        uint8_t kind = s->data[i++];
        if (kind < 2) i = leb(s, i); /* the tag index of catch and catch_ref */
        if (i >= 0) i = leb(s, i); /* the label */
    }
    return i;
}

static Py_ssize_t immediates(const Scan *s, const uint8_t *letters, Py_ssize_t i) {
    for (int n = 0; n < IMMEDIATES_WIDTH && letters[n] && i >= 0; n++) {
        switch (letters[n]) {
        case 'u': i = leb(s, i); break;
        case 'k': i = block_type(s, i); break;
        case 'm': i = memarg(s, i); break;
        case 'x': i = zero_byte(s, i); break;
        case 't': i = flag(s, FLAG_TABLE_INDICES) ? leb(s, i) : zero_byte(s, i); break;
        case 'v': i = br_table(s, i); break;
        case 's': i = i < s->last && s->data[i] == 1 ? value_type(s, i + 1) : -1; break;
        case 'h': i = heap_type(s, i); break;
        case 'c': i = catch_clauses(s, i); break;
        case '1': i = i + 1 <= s->last ? i + 1 : -1; break;
        case '4': i = i + 4 <= s->last ? i + 4 : -1; break;
        case '8': i = i + 8 <= s->last ? i + 8 : -1; break;
        case 'V': i = i + 16 <= s->last ? i + 16 : -1; break;
        default: return -1; /* '!', or a letter this scanner does not read */
        }
    }
    return i;
}

/* The immediates entry of the instruction at i, and in *after where its immediates start;
   NULL when it is not in the table. Sub-opcodes: one byte, or two for 0x80-0x17f. */
static const uint8_t *opcode_entry(const Scan *s, Py_ssize_t i, Py_ssize_t *after) {
    uint8_t op = s->data[i];
    Py_ssize_t at, count;
    switch (op) {
    case 0xFC: at = FC_AT, count = FC_OPCODES; break;
    case 0xFD: at = FD_AT, count = FD_OPCODES; break;
    case 0xFE: at = FE_AT, count = FE_OPCODES; break;
    default: *after = i + 1; return s->table + op * IMMEDIATES_WIDTH;
    }
    if (i + 1 >= s->last) return NULL;
    Py_ssize_t sub = s->data[i + 1];
    *after = i + 2;
    if (sub >= 0x80) {
        if (i + 2 >= s->last || s->data[i + 2] == 0 || s->data[i + 2] > 2) return NULL;
        sub = (sub & 0x7F) | (s->data[i + 2] << 7);
        *after = i + 3;
    }
    return sub < count ? s->table + at + sub * IMMEDIATES_WIDTH : NULL;
}

/* The position of the first instruction from i that is not ordinary, or `last`. */
static Py_ssize_t skip_instructions(const Scan *s, Py_ssize_t i) {
    while (i < s->last) {
        Py_ssize_t after;
        const uint8_t *letters = opcode_entry(s, i, &after);
        if (letters == NULL) return i;
        after = immediates(s, letters, after);
        if (after < 0) return i;
        i = after;
    }
    return i;
}

static Py_ssize_t header_leb(const Scan *s, Py_ssize_t i, Py_ssize_t *value) {
    uint64_t result = 0; /* 35 bits at most: wider than Py_ssize_t on 32-bit platforms */
    for (int n = 0; n < HEADER_LEB_MAX && i < s->last; n++) {
        uint8_t byte = s->data[i++];
        result |= (uint64_t)(byte & 0x7F) << (7 * n);
        if (byte < 0x80) {
            if (result > (uint64_t)PY_SSIZE_T_MAX) return -1;
            *value = (Py_ssize_t)result;
            return i;
        }
    }
    return -1;
}

/* Skips the body of the code entry at i if every part of it is ordinary: its size, its
   local declarations (value types the table allows) and its instructions up to the final
   end. Returns the position after it, or -1. s->last is the code section's end. */
static Py_ssize_t skip_function(const Scan *s, Py_ssize_t i) {
    Py_ssize_t size, groups, count;
    if ((i = header_leb(s, i, &size)) < 0 || size > s->last - i) return -1;
    Py_ssize_t body_end = i + size;
    Scan body = {s->data, body_end - 1, s->table}; /* everything before the final end */
    if (size == 0 || s->data[body.last] != 0x0B) return -1;
    if ((i = header_leb(&body, i, &groups)) < 0 || groups > size) return -1;
    for (; groups > 0; groups--) {
        if ((i = header_leb(&body, i, &count)) < 0 || (i = value_type(&body, i)) < 0) return -1;
    }
    return skip_instructions(&body, i) == body.last ? body_end : -1;
}

static int get_table(Py_buffer *table) {
    if (table->len == TABLE_SIZE) return 0;
    PyErr_Format(PyExc_ValueError, "scanner table of %zd bytes, expected %d", table->len, TABLE_SIZE);
    return -1;
}

static int check_range(Py_buffer *data, Py_ssize_t pos, Py_ssize_t end) {
    if (0 <= pos && pos <= end && end <= data->len) return 0;
    PyErr_Format(PyExc_ValueError, "range %zd-%zd outside %zd bytes", pos, end, data->len);
    return -1;
}

PyDoc_STRVAR(skip_ordinary_doc,
"skip_ordinary(data, pos, last, table) -> int\n\n"
"The position of the first instruction from pos that is not ordinary, or last.");

static PyObject *skip_ordinary(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer data, table;
    Py_ssize_t pos, last, result = -1;
    if (!PyArg_ParseTuple(args, "y*nny*:skip_ordinary", &data, &pos, &last, &table)) return NULL;
    if (get_table(&table) == 0 && check_range(&data, pos, last) == 0) {
        Scan s = {data.buf, last, table.buf};
        result = skip_instructions(&s, pos);
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&table);
    return result < 0 ? NULL : PyLong_FromSsize_t(result);
}

PyDoc_STRVAR(skip_functions_doc,
"skip_functions(data, pos, end, count, table) -> (pos, skipped)\n\n"
"Skips up to count code entries from pos (end: the code section's end) while each is\n"
"ordinary throughout; returns where the first other one starts and how many were skipped.");

static PyObject *skip_functions(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer data, table;
    Py_ssize_t pos, end, count, skipped = 0;
    if (!PyArg_ParseTuple(args, "y*nnny*:skip_functions", &data, &pos, &end, &count, &table))
        return NULL;
    int ok = get_table(&table) == 0 && check_range(&data, pos, end) == 0;
    if (ok) {
        Scan s = {data.buf, end, table.buf};
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t after; skipped < count && (after = skip_function(&s, pos)) >= 0; skipped++)
            pos = after;
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&table);
    return ok ? Py_BuildValue("nn", pos, skipped) : NULL;
}

static PyMethodDef methods[] = {
    {"skip_ordinary", skip_ordinary, METH_VARARGS, skip_ordinary_doc},
    {"skip_functions", skip_functions, METH_VARARGS, skip_functions_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_wasm_scan",
    "The compiled scanner of emwheel.wasm_features (see _wasm_scan.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__wasm_scan(void) {
    PyObject *module = PyModule_Create(&module_def);
    if (module != NULL && PyModule_AddIntConstant(module, "TABLE_SIZE", TABLE_SIZE) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
