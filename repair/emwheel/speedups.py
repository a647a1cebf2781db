"""Whether emwheel was built with its compiled loops (setup.py), and running without them.

Each loop is imported where it is used, with its Python twin as the fallback:
``wasm_features.compiled_scanner`` (_wasm_scan.c) and ``symbol_tables.compiled_loops``
(_wasm_names.c). `check` reads modules with threads only when both are there
(check_modules). ``turned_off()`` runs code as a pure-Python install would: the check
benchmark and the wasm fuzz target compare the two ways with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import symbol_tables, wasm_features

__all__ = ["built", "turned_off"]


def built() -> bool:
    """Whether both compiled loops are in use."""
    return wasm_features.compiled_scanner is not None and symbol_tables.compiled_loops is not None


@contextmanager
def turned_off() -> Iterator[None]:
    """Within: every reader uses its Python loop (not thread-safe: for tests and benchmarks)."""
    scanner, loops = wasm_features.compiled_scanner, symbol_tables.compiled_loops
    wasm_features.compiled_scanner = None  # type: ignore[assignment]
    symbol_tables.compiled_loops = None  # type: ignore[assignment]
    try:
        yield
    finally:
        wasm_features.compiled_scanner, symbol_tables.compiled_loops = scanner, loops
