"""Is a wheel what it says it is? Its RECORD, its manifest, the names of its libraries.

The archive itself (paths, links, duplicates, sizes) is checked when it is opened
(package_source, archive_limits); this is about its contents agreeing with each other.
`show` reports it cheaply (no file decompressed: RECORD against the zip's directory);
`check` also hashes every file (check_integrity); `repair` refuses a wheel that fails any of
it (`require_consistent`), since it rewrites RECORD and the manifest from what it reads.

None of these files is a signature: whoever can change a wheel can rewrite its RECORD and
its manifest to match. A disagreement means a damaged or carelessly edited wheel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from emwheel_loader.manifest import DependencyCycleError, compute_load_order

from .content_hashes import FileHashes, hash_files
from .errors import InvalidInput
from .file_formats import PREFIX_SIZE, detect_format
from .manifest_check import content_problems, find_manifests, load_manifest
from .package_source import PackageSource, WheelSource
from .record_check import record_algorithms, record_problems
from .show_report import Finding, ManifestReport, ModuleReport
from .system_libraries import system_library_name

__all__ = ["integrity_findings", "manifest_findings", "require_consistent"]


def integrity_findings(
    source: PackageSource,
    modules: Sequence[ModuleReport],
    hashes: Mapping[str, FileHashes] | None = None,
) -> list[Finding]:
    """RECORD (for a wheel), libraries named like the main module's, NEEDED cycles.

    ``hashes``: content hashes by archive path (content_hashes.hash_files); without them
    RECORD's hashes are not compared, only its names and sizes."""
    findings = []
    if source.kind == "wheel":
        findings += [
            Finding("warning", "record-mismatch", problem)
            for problem in record_problems(source, hashes)
        ]
    for module in modules:
        stem = system_library_name(module.path) if module.format == "wasm" else None
        if stem is not None:
            findings.append(
                Finding("warning", "system-library", _system_library(stem), module.path)
            )
    cycle = _needed_cycle(modules)
    if cycle is not None:
        findings.append(
            Finding(
                "warning",
                "dependency-cycle",
                f"NEEDED cycle {' -> '.join(cycle)}: no load order puts every library after "
                "those it needs (emwheel repair refuses it)",
                cycle[0],
            )
        )
    return findings


def manifest_findings(reports: Sequence[ManifestReport], severity: str) -> list[Finding]:
    findings = []
    for report in reports:
        code = "manifest-invalid" if report.manifest is None else "manifest-mismatch"
        findings += [Finding(severity, code, problem, report.path) for problem in report.problems]
    return findings


def _system_library(stem: str) -> str:
    return (
        f"named like {stem}, which Pyodide's main module already holds: the main module's "
        "symbols are found first, and a second copy's state can only interfere"
    )


def _needed_cycle(modules: Sequence[ModuleReport]) -> list[str] | None:
    wasm = {m.path for m in modules if m.format == "wasm"}
    dependencies = {
        m.path: [lib.path for lib in m.needed if lib.path in wasm]
        for m in modules
        if m.path in wasm
    }
    try:
        compute_load_order(dependencies)
    except DependencyCycleError as e:
        return e.cycle
    return None


def require_consistent(source: WheelSource) -> None:
    """Refuse (InvalidInput) a wheel whose RECORD or manifest disagrees with its files, or
    that holds a WebAssembly library named like one of the main module's. Reads every
    file: each is inflated and hashed once."""
    hashes = hash_files(source, record_algorithms(source))
    problems = record_problems(source, hashes)
    if problems:
        raise InvalidInput(f"{source.label}: RECORD disagrees with the wheel: {_first(problems)}")
    for file in find_manifests(source):
        problems = content_problems(source, load_manifest(source, file), hashes)
        if problems:
            raise InvalidInput(
                f"{source.describe(file)}: {_first(problems)} (the wheel changed after it was "
                "repaired; remove the manifest to repair it afresh)"
            )
    for file in source.files:
        stem = system_library_name(file.install_path)
        if stem is not None and detect_format(source.read_prefix(file, PREFIX_SIZE)) == "wasm":
            raise InvalidInput(f"{source.describe(file)}: {_system_library(stem)}")


def _first(problems: list[str]) -> str:
    more = len(problems) - 1
    return problems[0] + (f" (and {more} more)" if more else "")
