"""The error hierarchy shared by the runtime loader and the repairer.

It lives in the loader package because the loader runs inside Pyodide and must not import
anything from the repairer; the repairer (``emwheel``) builds on these classes.
"""

from __future__ import annotations

__all__ = [
    "EmwheelError",
    "InvalidInput",
    "LoadError",
    "UnsupportedPyodideError",
    "WasmFormatError",
]


class EmwheelError(Exception):
    """Base class of every error emwheel raises on purpose."""


class InvalidInput(EmwheelError, ValueError):
    """The input (a wheel, a module, a manifest) is not what it should be."""


class WasmFormatError(InvalidInput):
    """A WebAssembly module is truncated or malformed."""


class LoadError(EmwheelError):
    """A wheel's modules cannot be loaded: names the wheel, the library and what is wrong."""

    def __init__(self, wheel: str, library: str, problem: str) -> None:
        self.wheel = wheel
        self.library = library
        self.problem = problem
        super().__init__(f"{wheel}: {library}: {problem}")


class UnsupportedPyodideError(EmwheelError):
    """The running Pyodide lacks an internal the loader relies on."""
