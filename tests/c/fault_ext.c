/* _faultext: an abi3 extension module whose compute(x) is fault_value(x), from the library
 * it is linked against (libnodata.so or libtrap.so): a module that needs a faulty library. */
#include "fault_pyext.h"

extern int fault_value(int x);

static int fault_compute(int x) { return fault_value(x); }

FAULT_MODULE(_faultext, "needs a library that cannot be loaded")
