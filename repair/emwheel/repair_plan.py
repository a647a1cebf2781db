"""Deciding what `emwheel repair` does to a wheel, before anything is written.

Every NEEDED name of every module (and of every library it brings in) is resolved: in the
wheel (RUNTIME_PATH, top of site-packages, or by name), as external (``--exclude``, or a
shared-library package of the target Pyodide), or in a ``--libdir``, in which case the
library is vendored into ``<distribution>.libs/`` under a content-hashed name. The plan
records each module's new NEEDED and RUNTIME_PATH lists; nothing is changed on disk here.
Every missing library is collected before failing, so a user sees all of them at once.
"""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from emwheel_loader.dylink import DylinkSection
from emwheel_loader.manifest import (
    MANIFEST_FILENAME,
    DependencyCycleError,
    External,
    Manifest,
    compute_load_order,
)

from .errors import EmwheelError, InvalidInput
from .file_formats import PREFIX_SIZE, detect_format
from .library_resolution import LibraryIndex, Resolution, expand_runtime_path, resolve_needed
from .library_search import LibrarySearch
from .package_source import READ_ERRORS, PackageFile, WheelSource
from .pyodide_targets import DEFAULT_TARGET, PyodideTarget, targets_for_tags
from .show import module_kind
from .wasm_module import ModuleSummary, scan_module_stream

__all__ = [
    "MissingLibrariesError",
    "ModulePlan",
    "PlannedNeeded",
    "RepairConflictError",
    "RepairOptions",
    "RepairPlan",
    "plan_repair",
]


class RepairError(EmwheelError):
    """The wheel cannot be repaired as asked (exit code 1)."""


class MissingLibrariesError(RepairError):
    def __init__(self, label: str, missing: dict[str, list[str]], notes: list[str]) -> None:
        self.missing = missing
        noun = "library" if len(missing) == 1 else "libraries"
        lines = [f"{label}: {len(missing)} required {noun} not found"]
        for name in sorted(missing):
            lines.append(f"  {name}, needed by {', '.join(sorted(missing[name]))}")
        lines += [f"  (skipped {note})" for note in notes]
        super().__init__("\n".join(lines))


class RepairConflictError(RepairError):
    pass


@dataclass(frozen=True)
class RepairOptions:
    libdirs: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    mangle: bool = True
    lib_sdir: str = ".libs"
    runtime_path: bool = True  # False: leave RUNTIME_PATH alone (loads only with the loader)
    target: PyodideTarget | None = None  # default: the first Pyodide the wheel's tags name


@dataclass(frozen=True)
class PlannedNeeded:
    original: str  # the name in the input module
    name: str  # the name in the output module
    path: str | None = None  # install path of the file it resolves to
    external: External | None = None


@dataclass
class ModulePlan:
    path: str  # install path in the output
    summary: ModuleSummary
    kind: str
    file: PackageFile | None = None  # the input entry; None for a vendored library
    source: Path | None = None  # the library file to vendor
    vendored_from: str | None = None
    needed: list[PlannedNeeded] = field(default_factory=list)
    runtime_path: tuple[str, ...] = ()

    @property
    def dylink(self) -> DylinkSection | None:
        return self.summary.dylink

    def new_dylink(self) -> DylinkSection | None:
        """The edited dylink section, or None when nothing about it changes."""
        dylink = self.dylink
        if dylink is None:
            return None
        edited = dylink.with_needed([n.name for n in self.needed]).with_runtime_path(
            self.runtime_path
        )
        return None if edited is dylink else edited


@dataclass
class RepairPlan:
    source: WheelSource
    libs_dir: str  # install path of <distribution>.libs
    manifest_path: str
    target: PyodideTarget
    modules: dict[str, ModulePlan]
    load_order: tuple[str, ...]


def plan_repair(source: WheelSource, options: RepairOptions) -> RepairPlan:
    return _Planner(source, options).plan()


def _mangled_name(name: str, content_hash: str) -> str:
    base, dot, ext = name.partition(".")
    return f"{base}-{content_hash[:8]}{dot}{ext}"


def _runtime_path_entry(module_path: str, folder: str) -> str:
    relative = posixpath.relpath(folder or ".", posixpath.dirname(module_path) or ".")
    return "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"


class _Planner:
    def __init__(self, source: WheelSource, options: RepairOptions) -> None:
        self.source = source
        self.options = options
        self.label = source.label
        dist_dir = source.path.name.split("-")[0]
        self.libs_dir = dist_dir + options.lib_sdir
        self.manifest_path = f"{self.libs_dir}/{MANIFEST_FILENAME}"
        assert source.wheel_name is not None
        targets = targets_for_tags(source.wheel_name.tags)
        self.target = options.target or (targets[0] if targets else DEFAULT_TARGET)
        self.search = LibrarySearch(options.libdirs)
        self.index = LibraryIndex(f.install_path for f in source.files)
        self.files_by_path = {f.install_path: f for f in source.files}
        self.modules: dict[str, ModulePlan] = {}
        self.vendored: dict[str, ModulePlan] = {}  # by the NEEDED name they were found for
        self.missing: dict[str, list[str]] = {}
        self.notes: list[str] = []
        self.previous = self._read_previous_manifest()

    # -- reading ---------------------------------------------------------------------------

    def _read_previous_manifest(self) -> Manifest | None:
        file = self.files_by_path.get(self.manifest_path)
        if file is None:
            return None
        try:
            with self.source.open(file) as stream:
                text = stream.read()
        except READ_ERRORS as e:
            raise InvalidInput(f"{self.source.describe(file)}: cannot read entry ({e})") from None
        return Manifest.from_json(text, self.source.describe(file))

    def _scan(self, file: PackageFile) -> ModuleSummary | None:
        if (
            file.size < PREFIX_SIZE
            or detect_format(self.source.read_prefix(file, PREFIX_SIZE)) != "wasm"
        ):
            return None
        try:
            with self.source.open(file) as stream:
                return scan_module_stream(stream, file.size)
        except EmwheelError as e:
            raise type(e)(f"{self.source.describe(file)}: {e}") from None
        except READ_ERRORS as e:
            raise InvalidInput(f"{self.source.describe(file)}: cannot read entry ({e})") from None

    # -- planning ----------------------------------------------------------------------------

    def plan(self) -> RepairPlan:
        queue: deque[ModulePlan] = deque()
        for file in self.source.files:
            summary = self._scan(file)
            if summary is None:
                continue
            kind = module_kind(file.install_path, summary)
            # The import and export sections were needed for the kind only: do not keep
            # them (tens of MB for a large C++ wheel).
            summary = replace(summary, import_payload=b"", export_payload=b"")
            module = ModulePlan(file.install_path, summary, kind, file)
            module.vendored_from = self._previous_vendored_from(file.install_path)
            self.modules[module.path] = module
            queue.append(module)
        while queue:
            self._resolve_module(queue.popleft(), queue)
        if self.missing:
            raise MissingLibrariesError(self.label, self.missing, self.notes)
        dependencies = {
            path: [n.path for n in m.needed if n.path is not None]
            for path, m in self.modules.items()
        }
        try:
            load_order = compute_load_order(dependencies)
        except DependencyCycleError as e:
            raise RepairConflictError(f"{self.label}: {e}") from None
        return RepairPlan(
            self.source,
            self.libs_dir,
            self.manifest_path,
            self.target,
            self.modules,
            load_order,
        )

    def _previous_vendored_from(self, path: str) -> str | None:
        if self.previous is None:
            return None
        entry = self.previous.module(path)
        return entry.vendored_from if entry is not None else None

    def _previously_excluded(self, name: str) -> bool:
        if self.previous is None:
            return False
        return any(
            n.name == name and n.external is not None and n.external.kind == "excluded"
            for m in self.previous.modules
            for n in m.needed
        )

    def _resolve_module(self, module: ModulePlan, queue: deque[ModulePlan]) -> None:
        dylink = module.dylink
        if dylink is None:
            return
        runtime_path = list(dylink.runtime_path)
        for name in dylink.needed:
            planned, folder = self._resolve(name, module, queue)
            if planned is None:
                self.missing.setdefault(name, []).append(module.path)
                continue
            module.needed.append(planned)
            if folder is not None and self.options.runtime_path:
                reachable = {expand_runtime_path(e, module.path) for e in runtime_path}
                if posixpath.normpath(folder or ".") not in reachable:
                    runtime_path.append(_runtime_path_entry(module.path, folder))
        module.runtime_path = tuple(runtime_path)

    def _resolve(
        self, name: str, module: ModulePlan, queue: deque[ModulePlan]
    ) -> tuple[PlannedNeeded | None, str | None]:
        """What ``name`` becomes, and the folder a RUNTIME_PATH entry must reach (if any)."""
        base = posixpath.basename(name)
        found = resolve_needed(
            name, module.path, module.dylink.runtime_path if module.dylink else (), self.index, {}
        )
        if found.resolution in (Resolution.RUNTIME_PATH, Resolution.LIBRARY_PATH):
            return PlannedNeeded(name, name, path=found.path), None
        if found.resolution is Resolution.NAME_ONLY:
            if len(found.candidates) > 1:
                raise RepairConflictError(
                    f"{self.label}: {module.path} needs {name}, and the wheel has several files "
                    f"of that name: {', '.join(found.candidates)}"
                )
            (path,) = found.candidates
            return PlannedNeeded(name, base, path=path), posixpath.dirname(path)
        if any(fnmatch.fnmatchcase(base, pattern) for pattern in self.options.exclude) or (
            self._previously_excluded(name)
        ):
            return PlannedNeeded(name, name, external=External("excluded")), None
        if base in self.target.shared_libraries:
            package = self.target.shared_libraries[base]
            return PlannedNeeded(name, base, external=External("pyodide", package)), None
        vendored = self.vendored.get(base) or self._vendor(base, queue)
        if vendored is None:
            return None, None
        new_name = posixpath.basename(vendored.path)
        return PlannedNeeded(name, new_name, path=vendored.path), self.libs_dir

    def _vendor(self, name: str, queue: deque[ModulePlan]) -> ModulePlan | None:
        result = self.search.find(name)
        self.notes.extend(n for n in result.rejected if n not in self.notes)
        if result.path is None:
            return None
        data_hash = _sha256_file(result.path)
        new_name = _mangled_name(name, data_hash) if self.options.mangle else name
        path = f"{self.libs_dir}/{new_name}"
        existing = self.files_by_path.get(path)
        if existing is not None or path in self.modules:
            raise RepairConflictError(
                f"{self.label}: cannot vendor {result.path} as {path}: the wheel already has a "
                "different file there"
            )
        with open(result.path, "rb") as stream:
            try:
                summary = scan_module_stream(stream)
            except EmwheelError as e:
                raise type(e)(f"{result.path}: {e}") from None
        kind = module_kind(path, summary)
        summary = replace(summary, import_payload=b"", export_payload=b"")
        module = ModulePlan(path, summary, kind, source=result.path, vendored_from=name)
        self.vendored[name] = module
        self.modules[path] = module
        queue.append(module)
        return module


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
