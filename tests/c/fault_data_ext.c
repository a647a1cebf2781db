/* _faultdata: an abi3 extension module that uses the address of data nobody defines. Data
 * addresses go through the GOT, which Emscripten fills when the module is instantiated:
 * loading it fails with "undefined symbol: fault_missing_data". */
#include "fault_pyext.h"

extern int fault_missing_data;

static int fault_compute(int x) { return x + *(&fault_missing_data); }

FAULT_MODULE(_faultdata, "uses data nobody defines")
