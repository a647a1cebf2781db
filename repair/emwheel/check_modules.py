"""Read every WebAssembly module of a package for `emwheel check`: what it needs and gives.

Reading is the expensive part of a check: each module is decompressed whole, its code
scanned for features and its import and export sections walked (grill-usd-core: 108 MB of
wasm, 175,000 imports). The modules are independent of each other until their symbols are
matched, so a large package is read by one worker per core, each opening the package
itself (a worker must not share another's file offset), largest modules first so that no
core is left with the biggest one at the end.

The workers are threads where emwheel was built with its compiled loops (setup.py): then
most of reading a module runs without the GIL (zlib, hashlib, the code scanner), and the
names stay in this process. Without them, reading is mostly Python, which holds the GIL,
so the workers are processes, and each module's names are sent back through a pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from array import array
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from . import speedups
from .archive_limits import ArchiveLimits, active_limits, limits_in_force
from .check_symbols import group_sets
from .content_hashes import FileHashes, read_content
from .errors import WasmFormatError
from .file_formats import PREFIX_SIZE, detect_format
from .package_source import PackageFile, PackageSource, open_source
from .show import ModuleFacts, extension_init_names
from .symbol_tables import ImportTable, read_export_names, read_imports
from .wasm_features import detect_features
from .wasm_imports_exports import exports_contain, vector_count
from .wasm_module import HEADER_SIZE, SectionId, iter_section_headers, read_dylink

__all__ = ["ModuleReading", "ModuleSymbols", "read_modules"]

# Below this much wasm, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


@dataclass
class ModuleSymbols:
    file: PackageFile
    kind: str  # "extension" or "shared": whether it exports a PyInit_ symbol of any kind
    weak: set[tuple[bytes, bytes]]  # (module, name) of the weak imports
    imports: ImportTable
    export_names: list[bytes]  # in section order
    features: tuple[str, ...]
    hashes: FileHashes  # of the whole file, for RECORD and the manifest
    facts: ModuleFacts  # what `show` reports of it, so that it is not read again for that

    @cached_property
    def exports(self) -> set[bytes]:
        return set(self.export_names)

    @cached_property
    def import_sets(self) -> dict[int, tuple[int, set[bytes]]]:
        return group_sets(self.imports)

    @property
    def needed(self) -> tuple[str, ...]:
        return self.facts.dylink.needed if self.facts.dylink else ()

    @property
    def runtime_path(self) -> tuple[str, ...]:
        return self.facts.dylink.runtime_path if self.facts.dylink else ()

    @property
    def legacy_dylink(self) -> bool:
        return self.facts.dylink is not None and self.facts.dylink.is_legacy

    # A worker sends this back through a pipe: 175,000 import and 177,000 export names for
    # grill-usd-core, 70 MB. Pickled one by one they cost more than reading the modules
    # saves; joined into one byte string each they cost a copy and a split. Most imports of
    # a side module name its own exports (162,000 of grill-usd-core's, through GOT.mem and
    # GOT.func): those go as the export's position, and are the export's name object again
    # on arrival (one copy, hashed once).
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("exports", None)  # the sets, made again from the names
        state.pop("import_sets", None)
        table = self.imports
        exports = self.export_names
        where = dict(zip(exports, range(len(exports)), strict=True))
        positions = list(map(where.get, table.names))
        others = [name for name, at in zip(table.names, positions, strict=True) if at is None]
        refs = array("i", [-1 if at is None else at for at in positions])
        state["imports"] = (
            refs, _join(others), table.groups, table.kinds, table.other_modules, table.typed,
            table.end,
        )  # fmt: skip
        state["export_names"] = _join(exports)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        refs, others, *rest = state["imports"]
        exports = state["export_names"] = _split(state["export_names"])
        next_other = iter(_split(others)).__next__
        names = [exports[at] if at >= 0 else next_other() for at in refs]
        state["imports"] = ImportTable(names, *rest)
        self.__dict__.update(state)
        # The sets now, while the workers still read (this runs as each result comes in).
        _ = self.exports, self.import_sets


_SEPARATOR = b"\0"


def _join(names: list[bytes]) -> bytes | list[bytes]:
    joined = _SEPARATOR.join(names)
    if joined.count(_SEPARATOR) != max(len(names) - 1, 0) or names == [b""]:
        return names  # a name holds the separator (or is the only, empty one): as a list
    return joined


def _split(joined: bytes | list[bytes]) -> list[bytes]:
    if isinstance(joined, list):
        return joined
    return joined.split(_SEPARATOR) if joined else []


class ModuleReading:
    """Reading the package's wasm modules, started: in workers, the caller can do other work
    until ``result()``. ``algorithms``: RECORD's hash algorithm by archive path (each module
    is hashed as it is read, so that `check` never inflates a module twice)."""

    def __init__(
        self, source: PackageSource, jobs: int | None, algorithms: Mapping[str, str]
    ) -> None:
        self.source = source
        self.algorithms = dict(algorithms)
        self.files = [file for file in source.files if _is_wasm(source, file)]
        if jobs is None:
            large = sum(file.size for file in self.files) >= PARALLEL_MIN_BYTES
            jobs = _usable_cores() if large else 1
        jobs = min(jobs, len(self.files))
        self.pool: Executor | None = None
        self.futures: dict[str, Future[ModuleSymbols]] = {}
        self.thread_sources: list[PackageSource] = []  # each worker thread's, closed at the end
        if jobs > 1 and speedups.built():
            self._start_threads(jobs)
        elif jobs > 1 and _can_fork():
            self._start_processes(jobs)

    def _start_threads(self, jobs: int) -> None:
        own = threading.local()

        def read(file: PackageFile, algorithm: str | None) -> ModuleSymbols:
            source: PackageSource | None = getattr(own, "source", None)
            if source is None:
                source = own.source = open_source(self.source.path)
                self.thread_sources.append(source)
            return _read_module(source, file, algorithm)

        self.pool = ThreadPoolExecutor(jobs, thread_name_prefix="emwheel-read")
        self._submit(read)

    def _start_processes(self, jobs: int) -> None:
        self.pool = ProcessPoolExecutor(
            jobs,
            multiprocessing.get_context("fork"),
            initializer=_open_in_worker,
            initargs=(self.source.path, active_limits()),
        )
        self._submit(_read_in_worker)

    def _submit(self, read: Callable[[PackageFile, str | None], ModuleSymbols]) -> None:
        assert self.pool is not None
        for file in sorted(self.files, key=lambda f: f.size, reverse=True):  # largest first
            algorithm = self.algorithms.get(file.archive_path)
            self.futures[file.archive_path] = self.pool.submit(read, file, algorithm)

    def result(self) -> list[ModuleSymbols]:
        """The modules in archive order; the first error in archive order is raised."""
        if self.pool is None:
            return [
                _read_module(self.source, file, self.algorithms.get(file.archive_path))
                for file in self.files
            ]
        try:
            return [self.futures[file.archive_path].result() for file in self.files]
        finally:
            for future in self.futures.values():
                future.cancel()
            self.pool.shutdown()
            for source in self.thread_sources:
                source.close()


def read_modules(
    source: PackageSource, jobs: int | None = None, algorithms: Mapping[str, str] | None = None
) -> list[ModuleSymbols]:
    """The package's wasm modules in archive order. ``jobs``: workers (default: one per
    core for a large package, none for a small one; 1 reads in this thread)."""
    return ModuleReading(source, jobs, algorithms or {}).result()


def _is_wasm(source: PackageSource, file: PackageFile) -> bool:
    if file.size < PREFIX_SIZE:
        return False
    return detect_format(source.read_prefix(file, PREFIX_SIZE)) == "wasm"


def _can_fork() -> bool:
    """Workers are forked: they start at once, with emwheel already imported. Forking a
    process that runs other threads can deadlock, so such a process reads alone."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_worker_source: PackageSource | None = None


def _open_in_worker(path: Path, limits: ArchiveLimits) -> None:
    global _worker_source
    with limits_in_force(limits):
        _worker_source = open_source(path)


def _read_in_worker(file: PackageFile, algorithm: str | None) -> ModuleSymbols:
    assert _worker_source is not None
    return _read_module(_worker_source, file, algorithm)


def _read_module(source: PackageSource, file: PackageFile, algorithm: str | None) -> ModuleSymbols:
    data, hashes = read_content(source, file, algorithm)  # one copy of the module at the peak
    try:
        return _summarize(file, data, hashes)
    except WasmFormatError as e:
        raise WasmFormatError(f"{source.describe(file)}: {e}") from None


def _summarize(file: PackageFile, data: bytes | bytearray, hashes: FileHashes) -> ModuleSymbols:
    view = memoryview(data)
    dylink = None
    imports = None
    export_header = None
    export_payload = b""
    exports: list[bytes] = []
    # The dylink, import and export sections as `show` reads them (scan_module_stream), in
    # the module's order: a module wrong in one of them is refused with `show`'s message.
    for header in iter_section_headers(view):
        if header.offset == HEADER_SIZE:
            dylink = read_dylink(view, header)
        if header.id == SectionId.IMPORT and imports is None:
            imports = read_imports(view, header.payload_offset, header.end)
        elif header.id == SectionId.EXPORT and export_header is None:
            export_header = header
            export_payload = bytes(view[header.payload_offset : header.end])
            exports = read_export_names(export_payload)
    init_names = extension_init_names(file.install_path)
    # `show`'s kind: a PyInit_ function; `check` has always counted a PyInit_ of any kind.
    exported_inits = [name for name in init_names if name.encode() in exports]
    init_function = any(exports_contain(export_payload, name) for name in exported_inits)
    facts = ModuleFacts(
        "extension" if init_function else "shared",
        dylink,
        len(imports.names) if imports else 0,
        vector_count(export_payload),
    )
    weak = {(i.module.encode(), i.field.encode()) for i in dylink.import_info if i.is_weak} \
        if dylink else set()  # fmt: skip
    features = detect_features(data, imports).features
    return ModuleSymbols(
        file=file,
        kind="extension" if exported_inits else "shared",
        weak=weak,
        imports=imports if imports is not None else _NO_IMPORTS,
        export_names=exports,
        features=tuple(sorted(str(f) for f in features)),
        hashes=hashes,
        facts=facts,
    )


_NO_IMPORTS = ImportTable([], b"", b"", {}, [], 0)
