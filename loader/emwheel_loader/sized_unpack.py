"""Unpacking a wheel without regrowing each file, noting each file's checked CRC-32:
`sized_unpacking()`.

Pyodide's installers unpack a wheel with ``shutil.unpack_archive``, which copies each zip
member with ``shutil.copyfileobj`` in 64 KiB chunks. Emscripten's in-memory file system
(MEMFS) grows a file's storage by an eighth whenever a write runs past it (files over
1 MiB), copying what it holds each time, so a 27 MB library is copied about nine times its
own size while it is written. Within ``sized_unpacking()``, a zip member is first given its
final size (``truncate``: MEMFS allocates that once), then copied as before; what is written
is the same, and the member's CRC is still checked as it is read. In Pyodide 314.0.7 under
Node, extracting grill-usd-core (108 MB of WebAssembly) took 330-410 ms this way against
540-730 ms, about 240 ms of which is decompressing.

zipfile computes the CRC-32 of every member as it reads it, and raises if it differs from
the zip entry's. Once a member was copied whole, that CRC is the CRC-32 of the file just
written: ``sized_unpacking()`` yields those, by the file's absolute path, and the loader
compares them with the manifest's (its integrity check, docs/loader.md), for free.

Pyodide's unpacking is synchronous, so nothing else runs while ``shutil.copyfileobj`` is
replaced.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any
from zipfile import ZipExtFile

__all__ = ["sized_unpacking"]


@contextmanager
def sized_unpacking() -> Iterator[dict[str, int]]:
    """Within it, zip members are unpacked sized; yields {absolute path: CRC-32 zipfile
    checked the file's content against}, filled as members are written."""
    original = shutil.copyfileobj
    checked_crcs: dict[str, int] = {}

    def copy_sized(source: IO[Any], target: IO[Any], length: int = 0) -> None:
        # The member's size from its zip entry (private, but there since Python 3.7); a
        # source or target of any other kind is copied as shutil would.
        size = getattr(source, "_orig_file_size", None) if isinstance(source, ZipExtFile) else None
        fresh = isinstance(size, int) and target.seekable() and target.tell() == 0
        if fresh and size:
            target.truncate(size)
        original(source, target, length)  # 0: shutil's default buffer size
        # The file holds exactly the member when this copy wrote all of it, from the start.
        crc = _checked_crc(source) if fresh and target.tell() == size else None
        name = getattr(target, "name", None)
        if crc is not None and isinstance(name, str):
            checked_crcs[os.path.abspath(name)] = crc

    shutil.copyfileobj = copy_sized  # type: ignore[assignment]
    try:
        yield checked_crcs
    finally:
        shutil.copyfileobj = original


def _checked_crc(source: IO[Any]) -> int | None:
    """The CRC-32 of everything read from a zip member, when it was read to its end and
    zipfile compared it with the entry's (private attributes, there since Python 3.2); None
    for anything else, whose files the loader checks by sha256."""
    if not isinstance(source, ZipExtFile) or getattr(source, "_eof", False) is not True:
        return None
    running = getattr(source, "_running_crc", None)
    expected = getattr(source, "_expected_crc", None)
    if not isinstance(expected, int) or running != expected:
        return None
    return expected
