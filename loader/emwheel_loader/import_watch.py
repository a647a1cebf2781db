"""Tell the dlopen hook when Python imports an extension module.

Such an import is a synchronous dlopen that Emscripten does without the hook (the hook sees
only the asynchronous dlopens of installers), and in lazy mode most of a wheel's extension
modules are loaded this way. Two costs of Emscripten's load grow with what is loaded
already, and the hook removes them around the import (see dlopen_hook.js, beginImport):
the copy of each NEEDed global library's exports into the new module's local scope, and the
walk over the whole GOT. A failed import is reported to it too, which takes back what the
failed load left in Emscripten's state; its ImportError is prefixed with the wheel and the
library when the module is one of a wheel the loader planned.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.machinery import ExtensionFileLoader, ModuleSpec
from types import ModuleType
from typing import Any

__all__ = ["ImportWatch"]


class ImportWatch:
    def __init__(
        self,
        begin: Callable[[str | None], Any],
        end: Callable[[bool], Any],
        describe: Callable[[str], str | None],
    ) -> None:
        self.begin = begin
        self.end = end  # called with whether the import failed
        self.describe = describe  # "<wheel>: <library>" of a planned module's path, or None
        self.original: Any = None

    def install(self) -> None:
        if self.original is not None:
            return
        original = self.original = ExtensionFileLoader.create_module
        begin, end, describe = self.begin, self.end, self.describe

        def create_module(loader: ExtensionFileLoader, spec: ModuleSpec) -> ModuleType:
            begin(spec.origin)
            failed = True
            try:
                module = original(loader, spec)
                failed = False
                return module
            except ImportError as e:
                where = describe(str(spec.origin)) if spec.origin else None
                if where is None:
                    raise
                raise ImportError(f"{where}: {e}", name=e.name, path=e.path) from e
            finally:
                end(failed)

        ExtensionFileLoader.create_module = create_module  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self.original is not None:
            ExtensionFileLoader.create_module = self.original  # type: ignore[method-assign]
            self.original = None
