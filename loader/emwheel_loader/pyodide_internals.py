"""The narrow slice of Pyodide's internals the loader depends on, checked once.

Pyodide (314.x and 0.29.x) installs a wheel, from micropip or pyodide.loadPackage, by
calling the Python function ``pyodide._package_loader.unpack_buffer`` and then
``Module._emscripten_dlopen_promise(path, flags)`` for each library it returns; both are
looked up at each call, which is what makes a patch possible. Everything used is listed
here; `require_internals` names what is missing, and the Pyodide version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import UnsupportedPyodideError

__all__ = ["PyodideInternals", "require_internals"]

_MODULE_MEMBERS = (
    "_emscripten_dlopen_promise",
    "promiseMap",
    "getPromise",
    "stringToNewUTF8",
    "_free",
    "_dlerror",
    "UTF8ToString",
    "LDSO",
    "PATH",
    "GOT",
    "GOTHandler",
)


@dataclass(frozen=True)
class PyodideInternals:
    version: str
    package_loader: Any  # the pyodide._package_loader module
    module: Any  # Emscripten's Module (pyodide_js._module)
    api: Any  # pyodide_js._api
    pyodide_js: Any  # the public JavaScript API object


def require_internals() -> PyodideInternals:
    try:
        import pyodide_js  # type: ignore[import-not-found]
        from pyodide import _package_loader  # type: ignore[import-not-found]
    except ImportError:
        raise UnsupportedPyodideError(
            "emwheel_loader runs inside Pyodide (pyodide_js is not importable here)"
        ) from None
    version = str(getattr(pyodide_js, "version", "unknown"))
    if not _is_supported_version(version):
        raise UnsupportedPyodideError(
            f"emwheel_loader does not support Pyodide {version} (supported: 314.x, 0.29.x, "
            "0.28.x; see docs/loader.md)"
        )
    missing = []
    if not callable(getattr(_package_loader, "unpack_buffer", None)):
        missing.append("pyodide._package_loader.unpack_buffer")
    module = getattr(pyodide_js, "_module", None)
    api = getattr(pyodide_js, "_api", None)
    if module is None:
        missing.append("pyodide_js._module")
    else:
        missing += [f"Module.{m}" for m in _MODULE_MEMBERS if not hasattr(module, m)]
        if hasattr(module, "LDSO") and not hasattr(module.LDSO, "loadedLibsByName"):
            missing.append("Module.LDSO.loadedLibsByName")
        if hasattr(module, "promiseMap") and not hasattr(module.promiseMap, "allocate"):
            missing.append("Module.promiseMap.allocate")
    if api is None or not hasattr(api, "lockfile_packages"):
        missing.append("pyodide_js._api.lockfile_packages")
    for name in ("loadPackage", "loadedPackages", "FS"):
        if not hasattr(pyodide_js, name):
            missing.append(f"pyodide.{name}")
    if missing:
        raise UnsupportedPyodideError(
            f"emwheel_loader does not support Pyodide {version}: it lacks {', '.join(missing)} "
            "(supported: Pyodide 314.x and 0.29.x)"
        )
    return PyodideInternals(version, _package_loader, module, api, pyodide_js)


def _is_supported_version(version: str) -> bool:
    """314.x and later, and 0.28/0.29 (which load libraries the same way); not 0.27 or older,
    whose installer bypasses the dlopen hook (docs/loader.md)."""
    parts = version.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        return False
    return major >= 314 or (major == 0 and minor in (28, 29))
