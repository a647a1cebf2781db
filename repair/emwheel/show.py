"""`emwheel show`: what every module of a wheel is, and what it needs.

The report is built from each module's first sections only (dylink, imports, exports),
read from the zip stream; code and data sections are never decompressed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from emwheel_loader.dylink import LEGACY_DYLINK_SECTION_NAME, DylinkSection

from .errors import InvalidInput, WasmFormatError
from .file_formats import PREFIX_SIZE, detect_format, looks_like_library
from .library_resolution import LibraryIndex, NeededLibrary, Resolution, resolve_needed
from .manifest_check import check_manifest
from .package_source import READ_ERRORS, PackageFile, PackageSource, WheelName, open_source
from .pyodide_targets import DEFAULT_TARGET, PyodideTarget, targets_for_tags
from .show_report import Finding, ModuleReport, SourceReport
from .wasm_module import ModuleSummary, scan_module_stream
from .wheel_integrity import integrity_findings, manifest_findings

__all__ = ["Finding", "ModuleFacts", "ModuleReport", "SourceReport", "module_reports", "show"]


def show(path: Path) -> SourceReport:
    """Inspect a wheel, a folder or a module file; raise InvalidInput if it is unreadable."""
    with open_source(path) as source:
        return _report(source)


def _report(source: PackageSource) -> SourceReport:
    targets = _targets_of(source.wheel_name)
    modules = module_reports(source)
    manifests = tuple(check_manifest(source, modules))
    findings = (
        _findings(source, modules, targets)
        + tuple(manifest_findings(manifests, "error"))
        + tuple(integrity_findings(source, modules))
    )
    return SourceReport(
        source.label, source.kind, source.wheel_name, targets, tuple(modules), findings, manifests
    )


@dataclass(frozen=True)
class ModuleFacts:
    """What the report of a WebAssembly module says of the module itself, however it was
    read: from its first sections (`show`), or by `check`, which reads every module whole
    and passes these in rather than have each module read a second time."""

    kind: str  # "extension" or "shared", as module_kind says
    dylink: DylinkSection | None
    import_count: int
    export_count: int

    @classmethod
    def of(cls, install_path: str, summary: ModuleSummary) -> ModuleFacts:
        kind = module_kind(install_path, summary)
        return cls(kind, summary.dylink, summary.import_count, summary.export_count)


def module_reports(
    source: PackageSource, read: Mapping[str, ModuleFacts] | None = None
) -> list[ModuleReport]:
    """Every WebAssembly module of the source, and every file named like a library, with
    NEEDED resolved against the first Pyodide the wheel's tags name. ``read``: the facts of
    modules read already, by archive path; any other module is scanned here."""
    read = read or {}
    targets = _targets_of(source.wheel_name)
    target = targets[0] if targets else DEFAULT_TARGET
    index = LibraryIndex(f.install_path for f in source.files)
    modules: list[ModuleReport] = []
    for file in source.files:
        if file.size == 0:
            continue
        facts = read.get(file.archive_path)
        fmt = "wasm" if facts else detect_format(source.read_prefix(file, PREFIX_SIZE))
        if fmt == "wasm":
            facts = facts or ModuleFacts.of(file.install_path, _scan(source, file))
            modules.append(_module_report(file, facts, index, target))
        elif looks_like_library(file.install_path):
            modules.append(ModuleReport(file.install_path, file.archive_path, file.size, fmt))
    return modules


def _targets_of(wheel: WheelName | None) -> tuple[PyodideTarget, ...]:
    return () if wheel is None else targets_for_tags(wheel.tags)


def _scan(source: PackageSource, file: PackageFile) -> ModuleSummary:
    try:
        with source.open(file) as stream:
            return scan_module_stream(stream, file.size)
    except WasmFormatError as e:
        raise WasmFormatError(f"{source.describe(file)}: {e}") from None
    except READ_ERRORS as e:  # a zip entry whose data is cut short or corrupt
        raise InvalidInput(f"{source.describe(file)}: cannot read entry ({e})") from None


def extension_init_names(install_path: str) -> tuple[str, ...]:
    """The PyInit_ symbols CPython would look for when importing this file as a module."""
    base = posixpath.basename(install_path).split(".", 1)[0]
    names = [f"PyInit_{base}"]
    if base == "__init__":  # a package implemented as an extension module
        parent = posixpath.basename(posixpath.dirname(install_path))
        if parent:
            names.insert(0, f"PyInit_{parent}")
    return tuple(names)


def module_kind(install_path: str, summary: ModuleSummary) -> str:
    """ "extension" if the module exports the PyInit_ function CPython looks for, else
    "shared" (a library)."""
    init_names = extension_init_names(install_path)
    return "extension" if any(summary.exports_function(n) for n in init_names) else "shared"


def _module_report(
    file: PackageFile, facts: ModuleFacts, index: LibraryIndex, target: PyodideTarget
) -> ModuleReport:
    dylink = facts.dylink
    needed: tuple[NeededLibrary, ...] = ()
    runtime_path: tuple[str, ...] = ()
    if dylink is not None:
        runtime_path = dylink.runtime_path
        needed = tuple(
            resolve_needed(name, file.install_path, runtime_path, index, target.shared_libraries)
            for name in dylink.needed
        )
    return ModuleReport(
        path=file.install_path,
        archive_path=file.archive_path,
        size=file.size,
        format="wasm",
        kind=facts.kind,
        side_module=dylink is not None,
        dylink_section=dylink.name if dylink is not None else None,
        needed=needed,
        runtime_path=runtime_path,
        import_count=facts.import_count,
        export_count=facts.export_count,
        dylink_problems=dylink.problems if dylink is not None else (),
    )


def _findings(
    source: PackageSource, modules: list[ModuleReport], targets: tuple[PyodideTarget, ...]
) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    wasm = [m for m in modules if m.format == "wasm"]
    wheel = source.wheel_name
    if wheel is not None and wasm:
        if any(tag.platform == "any" for tag in wheel.tags):
            findings.append(
                Finding(
                    "warning",
                    "wasm-in-pure-wheel",
                    "the wheel is tagged for any platform but holds WebAssembly modules: "
                    "installers elsewhere will take it, and no Pyodide ABI is promised",
                )
            )
        elif not targets:
            platforms = ", ".join(sorted({t.platform for t in wheel.tags}))
            findings.append(
                Finding(
                    "warning",
                    "unknown-platform",
                    f"no known Pyodide release matches the platform tag ({platforms})",
                )
            )
    for module in modules:
        if module.format != "wasm":
            findings.append(
                Finding(
                    "warning",
                    "not-wasm",
                    f"named like a library but is not WebAssembly ({module.format})",
                    module.path,
                )
            )
            continue
        if not module.side_module:
            findings.append(
                Finding(
                    "warning",
                    "not-a-side-module",
                    "no dylink.0 section: Pyodide cannot dlopen this module",
                    module.path,
                )
            )
        if module.dylink_section == LEGACY_DYLINK_SECTION_NAME:
            findings.append(
                Finding(
                    "error",
                    "legacy-dylink",
                    "legacy 'dylink' section: Emscripten >= 4.0.5 (Pyodide >= 0.28) "
                    "only loads modules with a 'dylink.0' section",
                    module.path,
                )
            )
        for problem in module.dylink_problems:
            findings.append(
                Finding("warning", "malformed-dylink", f"dylink.0 {problem}", module.path)
            )
        for lib in module.needed:
            if lib.resolution is Resolution.MISSING:
                findings.append(
                    Finding(
                        "error",
                        "missing-library",
                        f"needs {lib.name}, which is neither in the wheel nor in Pyodide",
                        module.path,
                    )
                )
            elif lib.resolution is Resolution.NAME_ONLY:
                findings.append(
                    Finding(
                        "error",
                        "library-not-on-path",
                        f"needs {lib.name}, which is in the wheel ({', '.join(lib.candidates)}) "
                        "but on no RUNTIME_PATH entry: stock Pyodide will not find it",
                        module.path,
                    )
                )
    return tuple(findings)
