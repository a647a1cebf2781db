"""Libraries linked into Pyodide's main module, which a wheel must not bring a copy of.

Pyodide's main module (pyodide.asm.wasm) holds libc, libc++abi, libunwind, libpython, zlib,
libffi and libbz2 and exports their symbols. A wheel's own ``libc.so`` or
``libpython3.14.so`` would be dlopened next to them: the main module's definitions are found
first, so the copy's exports go unused, while its own code keeps its own state (its heap,
its interpreter) and shares the one table of data addresses and function pointers with the
main module. Nothing good comes of it. The repairer refuses such a wheel, and the runtime
loader a manifest that lists such a file (load_plan); this module lives in the loader
package because the loader must not import the repairer.

The names below are those whose probe symbol the main module of every release emwheel
ships ABI data for provides (tests/test_hostile_wheels.py checks each against that data).
libc++ is not among them: the main module exports its operator new but none of its
``std::__1`` code, so C++ modules link their own libc++ (and may ship it as libc++.so).
"""

from __future__ import annotations

import posixpath
import re

__all__ = ["SYSTEM_LIBRARIES", "system_library_name"]

# Library stem (the file name before ".so") -> a symbol the main module exports for it.
SYSTEM_LIBRARIES: dict[str, str] = {
    "libc": "malloc",
    "libm": "sin",
    "libpthread": "pthread_create",
    "libdl": "dlopen",
    "librt": "clock_gettime",
    "libc++abi": "__cxa_throw",
    "libunwind": "_Unwind_RaiseException",
    "libpython3": "PyLong_FromLong",  # any libpython3.X, with or without an ABI flag
    "libz": "deflate",
    "libffi": "ffi_call",
    "libbz2": "BZ2_bzCompress",
}

_LIBRARY_FILE = re.compile(r"(?P<stem>.+?)\.so(?:\.[0-9.]+)?")
_LIBPYTHON = re.compile(r"libpython3(?:\.\d+)?[dmu]*")


def system_library_name(path: str) -> str | None:
    """The system library a file is named like (``libc.so.6`` -> ``libc``), or None."""
    match = _LIBRARY_FILE.fullmatch(posixpath.basename(path))
    if match is None:
        return None
    stem = match.group("stem")
    if _LIBPYTHON.fullmatch(stem):
        return "libpython3"
    return stem if stem in SYSTEM_LIBRARIES else None
