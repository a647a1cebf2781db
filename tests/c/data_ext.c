/* _dataext: an abi3 extension module that exports data and reads it through the GOT (its
 * symbols have default visibility, so clang addresses them through GOT.mem imports, which
 * Emscripten fills from the module's own exports once it has relocated them).
 * compute(i) returns dataext_table[i % 4] + dataext_offset: 1012 + 7 * (i % 4).
 * tests/runtime/test_immutable_globals.py: each exported datum is an immutable global. */
#include "fault_pyext.h"

int dataext_table[4] = {12, 19, 26, 33};
int dataext_offset = 1000;

static int fault_compute(int x) { return dataext_table[x & 3] + dataext_offset; }

FAULT_MODULE(_dataext, "exports data, read through the GOT")
