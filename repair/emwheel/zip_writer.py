"""A small reproducible zip writer that can copy entries without recompressing them.

Python's zipfile always recompresses what it writes. Repairing a wheel changes a few
modules and leaves the rest alone, so the unchanged entries are copied as they are stored:
their compressed bytes, CRC and sizes go straight from the input to the output. Changed and
new entries are deflated as a stream, never held whole in memory.

Format: PKWARE APPNOTE.TXT (local file header, central directory, end of central directory).
No zip64: entries and archives of 4 GiB or more are refused with a clear error.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from .errors import InvalidInput

__all__ = ["WrittenEntry", "ZipEntryWriter"]

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_OF_CENTRAL_DIRECTORY = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION_NEEDED = 20  # 2.0: deflate
_VERSION_MADE_BY = (3 << 8) | 20  # unix, 2.0
_UTF8_FLAG = 0x800
_ZIP32_LIMIT = 0xFFFFFFFF
COMPRESS_LEVEL = 6


@dataclass(frozen=True)
class WrittenEntry:
    name: str
    sha256: str  # of the uncompressed content
    size: int


@dataclass(frozen=True)
class _Central:
    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    size: int
    external_attr: int
    offset: int


def _dos_date_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    year = max(year, 1980)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


class ZipEntryWriter:
    """Writes entries one by one into a seekable binary file, then the central directory."""

    def __init__(self, file: IO[bytes], label: str) -> None:
        self.file = file
        self.label = label
        self.entries: list[_Central] = []

    def _check_size(self, value: int) -> None:
        if value >= _ZIP32_LIMIT:
            raise InvalidInput(f"{self.label}: archives and entries of 4 GiB or more need zip64")

    def _write_local_header(
        self, name: bytes, flags: int, method: int, dos: tuple[int, int], crc: int, csize: int,
        size: int,
    ) -> None:  # fmt: skip
        self.file.write(
            _LOCAL_HEADER.pack(
                _LOCAL_SIG,
                _VERSION_NEEDED,
                flags,
                method,
                dos[0],
                dos[1],
                crc,
                csize,
                size,
                len(name),
                0,
            )
            + name
        )

    def add_raw(
        self,
        info: zipfile.ZipInfo,
        raw_chunks: Iterable[bytes],
        date_time: tuple[int, int, int, int, int, int],
    ) -> None:
        """Copy a stored entry's compressed bytes unchanged (CRC and sizes from ``info``)."""
        name = info.filename.encode("utf-8")
        flags = _UTF8_FLAG if not info.filename.isascii() else 0
        offset = self.file.tell()
        self._check_size(offset)
        self._check_size(info.compress_size)
        dos = _dos_date_time(date_time)
        self._write_local_header(
            name, flags, info.compress_type, dos, info.CRC, info.compress_size, info.file_size
        )
        for chunk in raw_chunks:
            self.file.write(chunk)
        self.entries.append(
            _Central(
                name,
                flags,
                info.compress_type,
                dos[0],
                dos[1],
                info.CRC,
                info.compress_size,
                info.file_size,
                info.external_attr,
                offset,
            )
        )

    def add_stream(
        self,
        filename: str,
        chunks: Iterable[bytes],
        date_time: tuple[int, int, int, int, int, int],
        external_attr: int = 0o100644 << 16,
    ) -> WrittenEntry:
        """Deflate ``chunks`` into a new entry; returns its sha256 and size."""
        name = filename.encode("utf-8")
        flags = _UTF8_FLAG if not filename.isascii() else 0
        offset = self.file.tell()
        self._check_size(offset)
        dos = _dos_date_time(date_time)
        self._write_local_header(name, flags, zipfile.ZIP_DEFLATED, dos, 0, 0, 0)
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        digest = hashlib.sha256()
        crc = 0
        size = 0
        compressed_size = 0
        for chunk in chunks:
            digest.update(chunk)
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out = compressor.compress(chunk)
            compressed_size += len(out)
            self.file.write(out)
        out = compressor.flush()
        compressed_size += len(out)
        self.file.write(out)
        self._check_size(size)
        self._check_size(compressed_size)
        end = self.file.tell()
        self.file.seek(offset)
        self._write_local_header(name, flags, zipfile.ZIP_DEFLATED, dos, crc, compressed_size, size)
        self.file.seek(end)
        self.entries.append(
            _Central(
                name,
                flags,
                zipfile.ZIP_DEFLATED,
                dos[0],
                dos[1],
                crc,
                compressed_size,
                size,
                external_attr,
                offset,
            )
        )
        return WrittenEntry(filename, digest.hexdigest(), size)

    def close(self) -> None:
        start = self.file.tell()
        for e in self.entries:
            self.file.write(
                _CENTRAL_HEADER.pack(
                    _CENTRAL_SIG,
                    _VERSION_MADE_BY,
                    _VERSION_NEEDED,
                    e.flags,
                    e.method,
                    e.dos_time,
                    e.dos_date,
                    e.crc,
                    e.compressed_size,
                    e.size,
                    len(e.name),
                    0,
                    0,
                    0,
                    0,
                    e.external_attr,
                    e.offset,
                )
                + e.name
            )
        size = self.file.tell() - start
        self._check_size(self.file.tell())
        count = len(self.entries)
        if count > 0xFFFF:
            raise InvalidInput(f"{self.label}: more than 65535 entries need zip64")
        self.file.write(
            _END_OF_CENTRAL_DIRECTORY.pack(_END_SIG, 0, 0, count, count, size, start, 0)
        )
