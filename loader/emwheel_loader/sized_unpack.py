"""Unpacking a wheel without regrowing each file: `sized_unpacking()`.

Pyodide's installers unpack a wheel with ``shutil.unpack_archive``, which copies each zip
member with ``shutil.copyfileobj`` in 64 KiB chunks. Emscripten's in-memory file system
(MEMFS) grows a file's storage by an eighth whenever a write runs past it (files over
1 MiB), copying what it holds each time, so a 27 MB library is copied about nine times its
own size while it is written. Within ``sized_unpacking()``, a zip member is first given its
final size (``truncate``: MEMFS allocates that once), then copied as before; what is written
is the same, and the member's CRC is still checked as it is read. In Pyodide 314.0.7 under
Node, extracting grill-usd-core (108 MB of WebAssembly) took 330-410 ms this way against
540-730 ms, about 240 ms of which is decompressing.

Pyodide's unpacking is synchronous, so nothing else runs while ``shutil.copyfileobj`` is
replaced.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any
from zipfile import ZipExtFile

__all__ = ["sized_unpacking"]


@contextmanager
def sized_unpacking() -> Iterator[None]:
    original = shutil.copyfileobj

    def copy_sized(source: IO[Any], target: IO[Any], length: int = 0) -> None:
        # The member's size from its zip entry (private, but there since Python 3.7); a
        # source or target of any other kind is copied as shutil would.
        size = getattr(source, "_orig_file_size", None) if isinstance(source, ZipExtFile) else None
        if isinstance(size, int) and size > 0 and target.seekable() and target.tell() == 0:
            target.truncate(size)
        if length:
            original(source, target, length)
        else:
            original(source, target)

    shutil.copyfileobj = copy_sized  # type: ignore[assignment]
    try:
        yield
    finally:
        shutil.copyfileobj = original
