"""The hashes of every file of a package, from its content: one pass, one file at a time.

What RECORD and the manifest say about a file is checked against these. For a wheel, each
entry is inflated by zip_reader (never past its declared size, CRC checked), so a damaged or
hostile entry is an error here rather than a wrong hash.

`read_content` also returns a file's whole content (what `check` parses), inflated once,
with a single copy of it in memory at the peak: ``ZipExtFile.read()`` grows its result
chunk by chunk, so reading a 152 MB module that way briefly holds it twice.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

from .errors import InvalidInput
from .package_source import READ_ERRORS, PackageFile, PackageSource, WheelSource
from .zip_reader import CHUNK, BoundedInflater, data_offset, iter_inflated_entry

__all__ = ["FileHashes", "hash_content", "hash_files", "read_content"]


@dataclass(frozen=True)
class FileHashes:
    size: int
    hexdigests: Mapping[str, str]  # algorithm -> hex digest; always has "sha256"
    crc32: int  # of the content; for a wheel's entry, its zip CRC, checked as it is inflated

    @property
    def sha256(self) -> str:
        return self.hexdigests["sha256"]


def hash_files(
    source: PackageSource,
    algorithms: Mapping[str, str] | None = None,
    skip: Collection[str] = (),
) -> dict[str, FileHashes]:
    """Archive path -> size and digests of every file (but those in ``skip``): sha256, and
    for a path in ``algorithms`` that algorithm too (RECORD may use another)."""
    algorithms = algorithms or {}
    return {
        file.archive_path: hash_content(
            _contents(source, file),
            algorithms.get(file.archive_path),
            source.zip_crc(file.archive_path),
        )
        for file in source.files
        if file.archive_path not in skip
    }


def hash_content(
    chunks: Iterable[bytes], algorithm: str | None = None, crc32: int | None = None
) -> FileHashes:
    """sha256 of the content, and ``algorithm``'s digest too when it is another; its CRC-32
    is computed unless given (``crc32``: one the content was checked against as it was read).
    """
    digests = {name: hashlib.new(name) for name in {"sha256", algorithm or "sha256"}}
    size = 0
    crc = 0
    for data in chunks:
        size += len(data)
        for digest in digests.values():
            digest.update(data)
        if crc32 is None:
            crc = zlib.crc32(data, crc)
    hexdigests = {name: d.hexdigest() for name, d in digests.items()}
    return FileHashes(size, hexdigests, crc if crc32 is None else crc32)


def _contents(source: PackageSource, file: PackageFile) -> Iterable[bytes]:
    if isinstance(source, WheelSource):
        archive = source.zip.fp  # read directly, as read_prefix does: no entry is open
        assert archive is not None
        info = source.zip.getinfo(file.archive_path)
        yield from iter_inflated_entry(archive, info, source.label)
        return
    try:
        with source.open(file) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    except READ_ERRORS as e:
        raise InvalidInput(f"{source.describe(file)}: cannot read ({e})") from None


def read_content(
    source: PackageSource, file: PackageFile, algorithm: str | None = None
) -> tuple[bytes | bytearray, FileHashes]:
    """A file's whole content and its hashes (sha256, and ``algorithm``'s as hash_files).

    For a deflated wheel entry, its compressed bytes are read at once and inflated once, in
    bounded pieces (never past the declared size, CRC checked), each hashed and copied into
    a buffer of exactly the declared size: at the peak, the compressed entry and one copy
    of the content. The buffer is a bytearray: bytes would take a second copy, or a second
    inflation (zlib's whole-buffer one: as long again as the first).
    """
    if not isinstance(source, WheelSource):
        try:
            with source.open(file) as stream:
                data = stream.read()
        except READ_ERRORS as e:
            raise InvalidInput(f"{source.describe(file)}: cannot read entry ({e})") from None
        return data, hash_content((data,), algorithm)
    archive = source.zip.fp  # read directly, as read_prefix does: no entry is open
    assert archive is not None
    info = source.zip.getinfo(file.archive_path)
    inflater = BoundedInflater(info, source.label)  # refuses unknown compression methods
    if info.flag_bits & 0x1:
        raise InvalidInput(f"{source.describe(file)}: encrypted entries are not supported")
    try:
        archive.seek(data_offset(archive, info, source.label))
        raw = archive.read(info.compress_size)
    except OSError as e:
        raise InvalidInput(f"{source.describe(file)}: cannot read entry ({e})") from None
    if len(raw) != info.compress_size:
        raise InvalidInput(f"{source.describe(file)}: entry data is cut short")
    stored = info.compress_type == zipfile.ZIP_STORED
    content = bytearray(0 if stored else info.file_size)
    pieces = (raw[at : at + CHUNK] for at in range(0, len(raw), CHUNK))
    copied = _copied(inflater, pieces, None if stored else content)
    hashes = hash_content(copied, algorithm, info.CRC)
    inflater.finish()  # all of the declared size was written: the buffer is full
    return (raw if stored else content), hashes


def _copied(
    inflater: BoundedInflater, pieces: Iterable[bytes], content: bytearray | None
) -> Iterator[bytes]:
    """The inflated pieces, each also copied into ``content`` as it comes (the inflater
    never gives more than the declared size, which is the buffer's)."""
    at = 0
    for piece in pieces:
        for data in inflater.feed(piece):
            if content is not None:
                content[at : at + len(data)] = data
                at += len(data)
            yield data
