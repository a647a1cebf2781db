"""Where a NEEDED library name resolves once a wheel is installed in Pyodide.

Emscripten's loader (``libdylink.js`` and ``_emscripten_find_dylib`` in ``dynlink.c``) takes
a name containing ``/`` as a path and searches nothing for it. Any other name is looked up
in each folder of LD_LIBRARY_PATH, which Pyodide sets to ``/usr/lib:<site-packages>``,
then in each entry of the needing module's own RUNTIME_PATH (never its parent's), with a
leading ``$ORIGIN`` replaced by the module's folder. ``/usr/lib`` holds the libraries of
Pyodide's shared-library packages once they are loaded. A library that is in the wheel but
on none of these paths is only found by a loader that knows where it is (emwheel's).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["LibraryIndex", "NeededLibrary", "Resolution", "resolve_needed"]

ORIGIN = "$ORIGIN"


class Resolution(StrEnum):
    RUNTIME_PATH = "runtime_path"  # in the wheel, on the module's RUNTIME_PATH
    LIBRARY_PATH = "library_path"  # in the wheel, at the top of site-packages
    PYODIDE = "pyodide"  # a shared-library package of the target Pyodide provides it
    NAME_ONLY = "name_only"  # in the wheel, but on no search path: fails on stock Pyodide
    MISSING = "missing"

    @property
    def loads_on_stock_pyodide(self) -> bool:
        return self in (Resolution.RUNTIME_PATH, Resolution.LIBRARY_PATH, Resolution.PYODIDE)


@dataclass(frozen=True)
class NeededLibrary:
    name: str
    resolution: Resolution
    path: str | None = None  # install path of the file in the wheel
    provider: str | None = None  # Pyodide package name, for Resolution.PYODIDE
    candidates: tuple[str, ...] = ()  # for NAME_ONLY: files in the wheel with that name


class LibraryIndex:
    """The files of one wheel, by install path and by file name."""

    def __init__(self, install_paths: Iterable[str]) -> None:
        self.paths = frozenset(install_paths)
        by_name: dict[str, list[str]] = {}
        for path in sorted(self.paths):
            by_name.setdefault(posixpath.basename(path), []).append(path)
        self.by_name = {name: tuple(paths) for name, paths in by_name.items()}


def expand_runtime_path(entry: str, module_path: str) -> str | None:
    """An install path (relative to site-packages) for a RUNTIME_PATH entry, if it has one.

    ``$ORIGIN`` is replaced only as a leading prefix, as Emscripten does. Entries that are
    absolute or leave site-packages cannot point into the wheel and give None.
    """
    if entry.startswith(ORIGIN):
        entry = posixpath.dirname(module_path) + entry[len(ORIGIN) :]
    if entry.startswith("/"):
        return None
    folder = posixpath.normpath(entry or ".")
    if folder == ".." or folder.startswith("../"):
        return None
    return folder


def resolve_needed(
    name: str,
    module_path: str,
    runtime_path: Iterable[str],
    index: LibraryIndex,
    pyodide_libraries: Mapping[str, str],
) -> NeededLibrary:
    if "/" in name:
        return _not_on_a_path(name, index)
    if name in pyodide_libraries:
        return NeededLibrary(name, Resolution.PYODIDE, provider=pyodide_libraries[name])
    if name in index.paths:
        return NeededLibrary(name, Resolution.LIBRARY_PATH, path=name)
    for entry in runtime_path:
        folder = expand_runtime_path(entry, module_path)
        if folder is None:
            continue
        candidate = posixpath.normpath(posixpath.join(folder, name))
        if candidate in index.paths:
            return NeededLibrary(name, Resolution.RUNTIME_PATH, path=candidate)
    return _not_on_a_path(name, index)


def _not_on_a_path(name: str, index: LibraryIndex) -> NeededLibrary:
    candidates = index.by_name.get(posixpath.basename(name), ())
    if candidates:
        return NeededLibrary(name, Resolution.NAME_ONLY, candidates=candidates)
    return NeededLibrary(name, Resolution.MISSING)
