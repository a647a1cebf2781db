"""Rendering `emwheel show` reports: an aligned terminal table, or JSON (schema version 1).

The JSON layout is documented in docs/show.md and pinned by docs/schemas/show.schema.json.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .library_resolution import NeededLibrary, Resolution
from .show_report import Finding, ManifestReport, ModuleReport, SourceReport
from .terminal import BOLD, RED, YELLOW, paint

__all__ = ["SHOW_SCHEMA_VERSION", "finding_json", "render_json", "render_text"]

SHOW_SCHEMA_VERSION = 1


def render_json(reports: list[SourceReport]) -> dict[str, Any]:
    return {
        "schema": "emwheel-show",
        "schema_version": SHOW_SCHEMA_VERSION,
        "emwheel_version": __version__,
        "reports": [_report_json(r) for r in reports],
    }


def _report_json(report: SourceReport) -> dict[str, Any]:
    wheel = report.wheel
    return {
        "source": report.source,
        "source_kind": report.source_kind,
        "wheel": None
        if wheel is None
        else {
            "distribution": wheel.distribution,
            "version": wheel.version,
            "build": wheel.build,
            "tags": [str(tag) for tag in wheel.tags],
        },
        "targets": [
            {
                "abi": t.abi,
                "pyodide_versions": t.pyodide_versions,
                "python": t.python,
                "emscripten": t.emscripten,
            }
            for t in report.targets
        ],
        "summary": _summary(report),
        "modules": [_module_json(m) for m in report.modules],
        "manifests": [_manifest_json(m) for m in report.manifests],
        "findings": [finding_json(f) for f in report.findings],
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding as both `show --json` and `check --json` write it."""
    return {
        "severity": finding.severity,
        "code": finding.code,
        "message": finding.message,
        "path": finding.path,
    }


def _manifest_json(report: ManifestReport) -> dict[str, Any]:
    manifest = report.manifest
    return {
        "path": report.path,
        "readable": manifest is not None,
        "version": None if manifest is None else 1,
        "modules": None if manifest is None else len(manifest.modules),
        "load_order": None if manifest is None else list(manifest.load_order),
        "agrees_with_wheel": not report.problems,
    }


def _summary(report: SourceReport) -> dict[str, int]:
    wasm = report.wasm_modules
    return {
        "wasm_modules": len(wasm),
        "extensions": sum(m.kind == "extension" for m in wasm),
        "shared_libraries": sum(m.kind == "shared" for m in wasm),
        "errors": sum(f.severity == "error" for f in report.findings),
        "warnings": sum(f.severity == "warning" for f in report.findings),
    }


def _module_json(module: ModuleReport) -> dict[str, Any]:
    return {
        "path": module.path,
        "archive_path": module.archive_path,
        "size": module.size,
        "format": module.format,
        "kind": module.kind,
        "side_module": module.side_module,
        "dylink_section": module.dylink_section,
        "runtime_path": list(module.runtime_path),
        "needed": [_needed_json(lib) for lib in module.needed],
        "imports": module.import_count,
        "exports": module.export_count,
        "dylink_problems": list(module.dylink_problems),
    }


def _needed_json(lib: NeededLibrary) -> dict[str, Any]:
    return {
        "name": lib.name,
        "resolution": str(lib.resolution),
        "path": lib.path,
        "provider": lib.provider,
        "candidates": list(lib.candidates),
    }


# -- text -----------------------------------------------------------------------------------


def _format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _describe_needed(lib: NeededLibrary) -> tuple[str, bool]:
    """The text for one NEEDED entry, and whether it is a problem."""
    match lib.resolution:
        case Resolution.RUNTIME_PATH:
            return f"{lib.name} -> {lib.path} (RUNTIME_PATH)", False
        case Resolution.LIBRARY_PATH:
            return f"{lib.name} -> {lib.path} (site-packages)", False
        case Resolution.PYODIDE:
            return f"{lib.name} -> Pyodide package {lib.provider}", False
        case Resolution.NAME_ONLY:
            where = ", ".join(lib.candidates)
            return f"{lib.name} -> NOT ON PATH (in wheel: {where})", True
        case Resolution.MISSING:
            return f"{lib.name} -> MISSING", True
    raise AssertionError(lib.resolution)


def render_problems(report: SourceReport, color: bool = False) -> str:
    """Only what is wrong (``show --quiet``): each NEEDED library that will not be found,
    each finding and each manifest that disagrees; "" when nothing is."""
    lines: list[str] = []
    for module in report.modules:
        for text, bad in (_describe_needed(lib) for lib in module.needed):
            if bad:
                lines.append(f"  {module.path}: NEEDED {paint(text, RED, color)}")
    for m in report.manifests:
        if m.manifest is None or m.problems:
            lines.append(f"  manifest: {m.path} ({'; '.join(m.problems) or 'unreadable'})")
    for f in report.findings:
        where = f"{f.path}: " if f.path else ""
        label = paint(f.severity.upper(), RED if f.severity == "error" else YELLOW, color)
        lines.append(f"  {label}: {where}{f.message}")
    return "\n".join([paint(report.source, BOLD, color), *lines]) if lines else ""


def render_text(report: SourceReport, color: bool = False, verbose: bool = False) -> str:
    """The report as aligned columns; ``color``: ANSI colours (for a terminal); ``verbose``:
    under each module, its RUNTIME_PATH and its numbers of imports and exports."""
    lines = [paint(report.source, BOLD, color)]
    if report.wheel is not None:
        tags = ", ".join(str(t) for t in report.wheel.tags)
        lines.append(f"  tags:    {tags}")
        if report.targets:
            for t in report.targets:
                lines.append(
                    f"  target:  Pyodide {t.pyodide_versions} "
                    f"(Python {t.python}, Emscripten {t.emscripten}, ABI {t.abi})"
                )
        else:
            lines.append("  target:  no Pyodide release matches these tags")
    summary = _summary(report)
    libraries = summary["shared_libraries"]
    lines.append(
        f"  modules: {summary['wasm_modules']} WebAssembly ({summary['extensions']} extension, "
        f"{libraries} shared {'library' if libraries == 1 else 'libraries'})"
    )
    lines.append("")
    rows = [("PATH", "SIZE", "KIND", "NEEDED")]
    flagged_rows: set[int] = set()
    for module in report.modules:
        kind = module.kind if module.format == "wasm" else f"not wasm ({module.format})"
        needs = [_describe_needed(lib) for lib in module.needed] or [("-", False)]
        first = True
        for text, bad in needs:
            if bad:
                flagged_rows.add(len(rows))
            if first:
                rows.append((module.path, _format_size(module.size), kind or "", text))
                first = False
            else:
                rows.append(("", "", "", text))
        if verbose and module.format == "wasm":
            runtime_path = ":".join(module.runtime_path) or "-"
            rows.append(("", "", "", f"RUNTIME_PATH {runtime_path}"))
            rows.append(
                ("", "", "", f"{module.import_count} imports, {module.export_count} exports")
            )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for number, row in enumerate(rows):
        text = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
        needed = paint(row[3], RED, color) if number in flagged_rows else row[3]
        line = f"  {text}  {needed}".rstrip()
        lines.append(paint(line, BOLD, color) if number == 0 else line)
    for m in report.manifests:
        state = "agrees with the wheel" if not m.problems else "DISAGREES with the wheel"
        if m.manifest is None:
            state = "UNREADABLE"
        lines.append(f"  manifest: {m.path} ({state})")
    if report.findings:
        lines.append("")
        for f in report.findings:
            where = f"{f.path}: " if f.path else ""
            label = paint(f.severity.upper(), RED if f.severity == "error" else YELLOW, color)
            lines.append(f"  {label}: {where}{f.message}")
    return "\n".join(lines)
