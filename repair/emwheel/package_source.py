"""The files of what `emwheel` is asked to look at: a wheel, an unpacked folder, one module.

A wheel is read through an open ZipFile and never extracted. Every file gets the path it
will have once installed, relative to site-packages: what Emscripten's loader sees.
"""

from __future__ import annotations

import os
import posixpath
import stat
import zipfile
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from .archive_limits import ArchiveLimits, active_limits, check_archive_sizes
from .errors import InvalidInput
from .zip_reader import data_offset

__all__ = [
    "READ_ERRORS",
    "DirectorySource",
    "ModuleFileSource",
    "PackageFile",
    "PackageSource",
    "WheelName",
    "WheelSource",
    "open_source",
]


# What reading a damaged zip entry can raise (bad CRC, cut-short or corrupt deflate data).
# zipfile decodes a name flagged UTF-8 as UTF-8: bytes that are not raise UnicodeDecodeError.
READ_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    zipfile.BadZipFile,
    NotImplementedError,
    UnicodeDecodeError,
)


@dataclass(frozen=True)
class PackageFile:
    archive_path: str  # as stored in the wheel, or relative to the folder given
    install_path: str  # relative to site-packages once installed
    size: int


@dataclass(frozen=True)
class WheelName:
    distribution: str
    version: str
    build: str | None
    tags: tuple[Tag, ...]


def parse_wheel_name(path: Path) -> WheelName:
    try:
        name, version, build, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename as e:
        raise InvalidInput(f"{path}: not a valid wheel file name ({e})") from None
    build_text = f"{build[0]}{build[1]}" if build else None
    ordered = tuple(sorted(tags, key=lambda t: (t.interpreter, t.abi, t.platform)))
    return WheelName(str(name), str(version), build_text, ordered)


def install_path_of(archive_path: str) -> str:
    """Where a wheel entry is installed, relative to site-packages.

    ``<name>.data/purelib/`` and ``.../platlib/`` are unpacked into site-packages itself;
    other ``.data`` folders (scripts, headers, data) land outside it and keep their path.
    """
    parts = archive_path.split("/")
    if len(parts) > 2 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib"):
        return "/".join(parts[2:])
    return archive_path


def _path_problem(name: str) -> str | None:
    """What makes a path one an installer could write outside its target folder: absolute
    (also in Windows forms: ``\\x``, ``C:x``), or a ``..`` part (also between backslashes)."""
    if not name:
        return "has an empty name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "points outside the archive ('..')"
    return None


def _check_entries(container: str, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse entries with such paths (as stored, or once installed: ``x.data/purelib/``
    is stripped), links, encrypted entries, and two entries for one installed path (which
    one wins would depend on the installer)."""
    seen: dict[str, str] = {}
    for info in infos:
        name = info.filename
        install_path = install_path_of(name)
        problem = _path_problem(name) or _path_problem(install_path)
        if problem is not None:
            raise InvalidInput(f"{container}: entry {name!r} {problem}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidInput(f"{container}: entry {name!r} is a symbolic link")
        if info.flag_bits & 0x1:  # zipfile would ask for a password
            raise InvalidInput(f"{container}: entry {name!r} is encrypted (not supported)")
        key = posixpath.normpath(install_path)
        if key in seen:
            first = seen[key]
            what = "appears twice" if first == name else f"installs where {first!r} does"
            raise InvalidInput(f"{container}: entry {name!r} {what}")
        seen[key] = name


class PackageSource(ABC):
    """A set of files to inspect; ``label`` names it in messages."""

    kind: str  # "wheel", "directory" or "module"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self.wheel_name: WheelName | None = None

    @property
    @abstractmethod
    def files(self) -> list[PackageFile]: ...

    @abstractmethod
    def open(self, file: PackageFile) -> IO[bytes]: ...

    def describe(self, file: PackageFile) -> str:
        """How a file is named in messages: ``wheel.whl!path/in/wheel.so``."""
        return f"{self.label}!{file.archive_path}"

    def zip_crc(self, archive_path: str) -> int | None:
        """The CRC-32 a zip directory records for an entry (which reading it checks); None
        where there is no zip, or no such entry."""
        return None

    def read_prefix(self, file: PackageFile, size: int) -> bytes:
        try:
            with self.open(file) as stream:
                return stream.read(size)
        except READ_ERRORS as e:
            raise InvalidInput(f"{self.describe(file)}: cannot read entry ({e})") from None

    def close(self) -> None:  # noqa: B027 - only sources holding a file handle override it
        pass

    def __enter__(self) -> PackageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WheelSource(PackageSource):
    """A wheel, read through an open ZipFile. Refused when opened: entries that point
    outside the install folder, links, two entries for one path, and sizes over ``limits``
    (default: those in force, see archive_limits)."""

    kind = "wheel"

    def __init__(self, path: Path, limits: ArchiveLimits | None = None) -> None:
        super().__init__(path)
        self.wheel_name = parse_wheel_name(path)
        try:
            self.zip = zipfile.ZipFile(path)
        except READ_ERRORS as e:
            raise InvalidInput(f"{path}: not a readable zip archive ({e})") from None
        # Not ZipInfo.is_dir: it fails on an empty name, which _check_entries refuses.
        infos = [info for info in self.zip.infolist() if not info.filename.endswith("/")]
        try:
            _check_entries(str(path), infos)
            check_archive_sizes(str(path), infos, limits or active_limits())
        except InvalidInput:
            self.zip.close()
            raise
        self._files = [
            PackageFile(info.filename, install_path_of(info.filename), info.file_size)
            for info in infos
        ]

    @property
    def files(self) -> list[PackageFile]:
        return self._files

    def read_prefix(self, file: PackageFile, size: int) -> bytes:
        """The first bytes of an entry, inflating only its first compressed block.

        Much cheaper than ZipFile.open for the thousands of entries of a large wheel, all
        of which are looked at to find WebAssembly by content.
        """
        info = self.zip.getinfo(file.archive_path)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or (
            info.flag_bits & 0x1
        ):
            return super().read_prefix(file, size)
        fp = self.zip.fp
        assert fp is not None
        fp.seek(data_offset(fp, info, self.label))
        raw = fp.read(min(info.compress_size, 256 + size))
        if info.compress_type == zipfile.ZIP_STORED:
            return raw[:size]
        try:
            return zlib.decompressobj(-15).decompress(raw, size)
        except zlib.error as e:
            raise InvalidInput(f"{self.describe(file)}: cannot read entry ({e})") from None

    def zip_crc(self, archive_path: str) -> int | None:
        try:
            return self.zip.getinfo(archive_path).CRC
        except KeyError:
            return None

    def open(self, file: PackageFile) -> IO[bytes]:
        try:
            return self.zip.open(file.archive_path)
        except READ_ERRORS as e:
            raise InvalidInput(f"{self.describe(file)}: cannot read entry ({e})") from None

    def close(self) -> None:
        self.zip.close()


class DirectorySource(PackageSource):
    """An unpacked wheel or a site-packages-like folder; paths are relative to it."""

    kind = "directory"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        files = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            for name in sorted(names):
                full = Path(root, name)
                if not full.is_file():
                    continue
                relative = full.relative_to(path).as_posix()
                files.append(PackageFile(relative, install_path_of(relative), full.stat().st_size))
        self._files = files

    @property
    def files(self) -> list[PackageFile]:
        return self._files

    def open(self, file: PackageFile) -> IO[bytes]:
        return open(self.path / file.archive_path, "rb")

    def describe(self, file: PackageFile) -> str:
        return str(self.path / file.archive_path)


class ModuleFileSource(PackageSource):
    """A single module file, looked at on its own (it is its own install root)."""

    kind = "module"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._files = [PackageFile(path.name, path.name, path.stat().st_size)]

    @property
    def files(self) -> list[PackageFile]:
        return self._files

    def open(self, file: PackageFile) -> IO[bytes]:
        return open(self.path, "rb")

    def describe(self, file: PackageFile) -> str:
        return str(self.path)


def open_source(path: Path) -> PackageSource:
    """Open a wheel (``*.whl``), a folder or a module file, by what the path is."""
    if path.is_dir():
        return DirectorySource(path)
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or directory")
    if path.suffix == ".whl":
        return WheelSource(path)
    return ModuleFileSource(path)
