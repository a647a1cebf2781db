"""Telling files apart by their first bytes, not their names."""

from __future__ import annotations

__all__ = ["PREFIX_SIZE", "SHARED_LIBRARY_SUFFIXES", "detect_format", "looks_like_library"]

PREFIX_SIZE = 8

_MAGIC = (
    (b"\0asm", "wasm"),
    (b"\x7fELF", "elf"),
    (b"\xcf\xfa\xed\xfe", "mach-o"),
    (b"\xce\xfa\xed\xfe", "mach-o"),
    (b"\xca\xfe\xba\xbe", "mach-o"),
    (b"MZ", "pe"),
    (b"!<arch>\n", "static archive"),
)

SHARED_LIBRARY_SUFFIXES = (".so", ".wasm", ".dylib", ".dll", ".pyd")


def detect_format(prefix: bytes) -> str:
    for magic, name in _MAGIC:
        if prefix.startswith(magic):
            return name
    if not prefix:
        return "empty"
    try:
        prefix.decode("utf-8")
    except UnicodeDecodeError:
        return "data"
    return "text"


def looks_like_library(path: str) -> bool:
    """A name that suggests a shared library (``libfoo.so``, ``libfoo.so.1``, ``_ext.pyd``)."""
    base = path.rsplit("/", 1)[-1]
    return base.endswith(SHARED_LIBRARY_SUFFIXES) or ".so." in base
