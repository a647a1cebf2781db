"""Reading a zip entry's bytes straight from the archive, compressed or inflated.

zipfile.ZipFile.open is the ordinary way, and it never yields more than an entry's declared
size. These functions serve the two places that read around it: copying an entry still
compressed (repair) and inflating an entry whole to hash it. Both hold to the same rule as
zipfile and stop at the declared size, so the size limits checked before reading
(archive_limits) hold whatever the compressed data says. Format: PKWARE APPNOTE.TXT.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO

from .errors import InvalidInput

__all__ = ["CHUNK", "BoundedInflater", "data_offset", "iter_inflated_entry", "iter_raw_entry"]

CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # ends with name length, extra field length
_LOCAL_SIGNATURE = b"PK\x03\x04"


def data_offset(archive: IO[bytes], info: zipfile.ZipInfo, label: str) -> int:
    """Where the entry's (compressed) data starts: after its local header, whose name and
    extra field lengths may differ from the central directory's."""
    # zipfile shifts every offset by where the archive seems to start (data prepended to a
    # zip), so a central directory that lies about its own offset gives negative ones.
    if info.header_offset < 0:
        raise InvalidInput(
            f"{label}!{info.filename}: local header offset {info.header_offset} "
            "lies before the start of the archive"
        )
    archive.seek(info.header_offset)
    header = archive.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or not header.startswith(_LOCAL_SIGNATURE):
        raise InvalidInput(f"{label}!{info.filename}: bad local file header")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[9:]
    return int(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)


def iter_raw_entry(archive: IO[bytes], info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    """The stored (compressed) bytes of an entry, in chunks."""
    if info.flag_bits & 0x1:
        raise InvalidInput(f"{label}!{info.filename}: encrypted entries are not supported")
    archive.seek(data_offset(archive, info, label))
    remaining = info.compress_size
    while remaining:
        chunk = archive.read(min(remaining, CHUNK))
        if not chunk:
            raise InvalidInput(f"{label}!{info.filename}: entry data is cut short")
        remaining -= len(chunk)
        yield chunk


class BoundedInflater:
    """Inflates an entry's compressed chunks in pieces of at most CHUNK bytes, never past
    its declared size: data that would go past it is an error, raised before more of it is
    decompressed. `finish` checks the size, the CRC and the deflate stream's end once every
    chunk was fed."""

    def __init__(self, info: zipfile.ZipInfo, label: str) -> None:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InvalidInput(f"{label}!{info.filename}: compression method {info.compress_type}")
        self.info = info
        self.where = f"{label}!{info.filename}"
        deflated = info.compress_type == zipfile.ZIP_DEFLATED
        self.inflater = zlib.decompressobj(-15) if deflated else None
        self.left = info.file_size
        self.crc = 0

    def feed(self, raw: bytes) -> Iterator[bytes]:
        pending = raw
        while pending:
            if self.inflater is None:
                data, pending = pending[:CHUNK], pending[CHUNK:]
            else:
                # One byte over what is left tells that the entry runs over.
                try:
                    data = self.inflater.decompress(pending, min(self.left + 1, CHUNK))
                except zlib.error as e:
                    raise InvalidInput(f"{self.where}: corrupt data ({e})") from None
                pending = self.inflater.unconsumed_tail
            if len(data) > self.left:
                raise InvalidInput(
                    f"{self.where}: inflates past its declared size of {self.info.file_size} bytes"
                )
            self.left -= len(data)
            self.crc = zlib.crc32(data, self.crc)
            yield data

    def finish(self) -> None:
        if self.left or self.crc != self.info.CRC:
            raise InvalidInput(f"{self.where}: CRC check failed (damaged entry)")
        # All the data, but no end-of-stream marker: zipfile refuses such an entry (EOFError)
        # and so does zlib.decompress, which content_hashes.read_content runs next.
        if self.inflater is not None and not self.inflater.eof:
            raise InvalidInput(f"{self.where}: deflate data ends without its last block")


def iter_inflated_entry(archive: IO[bytes], info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    """The content of an entry, in pieces of at most CHUNK bytes (see BoundedInflater)."""
    inflater = BoundedInflater(info, label)
    for raw in iter_raw_entry(archive, info, label):
        yield from inflater.feed(raw)
    inflater.finish()
