"""Tell the dlopen hook when Python imports an extension module.

Such an import is a synchronous dlopen that Emscripten does without the hook (the hook sees
only the asynchronous dlopens of installers), and in lazy mode most of a wheel's extension
modules are loaded this way. Two costs of Emscripten's load grow with what is loaded
already, and the hook removes them around the import (see dlopen_hook.js, beginImport):
the copy of each NEEDed global library's exports into the new module's local scope, and the
walk over the whole GOT.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.machinery import ExtensionFileLoader, ModuleSpec
from types import ModuleType
from typing import Any

__all__ = ["ImportWatch"]


class ImportWatch:
    def __init__(self, begin: Callable[[], Any], end: Callable[[], Any]) -> None:
        self.begin = begin
        self.end = end
        self.original: Any = None

    def install(self) -> None:
        if self.original is not None:
            return
        original = self.original = ExtensionFileLoader.create_module
        begin, end = self.begin, self.end

        def create_module(loader: ExtensionFileLoader, spec: ModuleSpec) -> ModuleType:
            begin()
            try:
                return original(loader, spec)
            finally:
                end()

        ExtensionFileLoader.create_module = create_module  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self.original is not None:
            ExtensionFileLoader.create_module = self.original  # type: ignore[method-assign]
            self.original = None
