"""The hashes of every file of a package, from its content: one pass, one file at a time.

What RECORD and the manifest say about a file is checked against these. For a wheel, each
entry is inflated by zip_reader (never past its declared size, CRC checked), so a damaged or
hostile entry is an error here rather than a wrong hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import InvalidInput
from .package_source import READ_ERRORS, PackageFile, PackageSource, WheelSource
from .zip_reader import CHUNK, iter_inflated_entry

__all__ = ["FileHashes", "hash_files"]


@dataclass(frozen=True)
class FileHashes:
    size: int
    hexdigests: Mapping[str, str]  # algorithm -> hex digest; always has "sha256"

    @property
    def sha256(self) -> str:
        return self.hexdigests["sha256"]


def hash_files(
    source: PackageSource, algorithms: Mapping[str, str] | None = None
) -> dict[str, FileHashes]:
    """Archive path -> size and digests of every file: sha256, and for a path in
    ``algorithms`` that algorithm too (RECORD may use another)."""
    algorithms = algorithms or {}
    hashes = {}
    for file in source.files:
        names = {"sha256", algorithms.get(file.archive_path, "sha256")}
        digests = {name: hashlib.new(name) for name in names}
        size = 0
        for data in _contents(source, file):
            size += len(data)
            for digest in digests.values():
                digest.update(data)
        hashes[file.archive_path] = FileHashes(size, {n: d.hexdigest() for n, d in digests.items()})
    return hashes


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
