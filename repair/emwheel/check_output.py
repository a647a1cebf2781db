"""Rendering `emwheel check` reports: terminal text, or JSON (schema version 1).

The JSON layout is documented in docs/check.md and pinned by docs/schemas/check.schema.json.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .check import CheckReport, ModuleCheck
from .runtime_support import RUNTIME_SUPPORT
from .show_output import finding_json
from .terminal import BOLD, GREEN, RED, YELLOW, paint

__all__ = ["CHECK_SCHEMA_VERSION", "render_check_json", "render_check_text"]

CHECK_SCHEMA_VERSION = 1


def render_check_json(reports: list[CheckReport]) -> dict[str, Any]:
    return {
        "schema": "emwheel-check",
        "schema_version": CHECK_SCHEMA_VERSION,
        "emwheel_version": __version__,
        "reports": [_report_json(r) for r in reports],
    }


def _report_json(report: CheckReport) -> dict[str, Any]:
    target = report.target
    return {
        "source": report.source,
        "verdict": "loads" if report.loads else "will not load",
        "target": {
            "pyodide": target.pyodide_version,
            "python": target.python,
            "abi": target.abi,
            "emscripten": target.emscripten,
        },
        "tags": None
        if report.tags is None
        else {"fit": report.tags.fits, "problems": list(report.tags.problems)},
        "runtimes": {
            "chrome": report.chrome or None,
            "node": report.node if report.chrome else None,
            "set_by": [
                {
                    "feature": f,
                    "chrome": RUNTIME_SUPPORT[f].chrome,
                    "node": RUNTIME_SUPPORT[f].node,
                    "source": RUNTIME_SUPPORT[f].source,
                }
                for f in report.runtime_features
            ],
        },
        "modules": [_module_json(m) for m in report.modules],
        "findings": [finding_json(f) for f in report.findings],
    }


def _module_json(module: ModuleCheck) -> dict[str, Any]:
    return {
        "path": module.path,
        "kind": module.kind,
        "features": list(module.features),
        "imports": module.imports,
        "resolved_by": dict(sorted(module.resolved_by.items())),
        "unresolved": [
            {"name": u.name, "import_module": u.import_module, "effect": u.effect}
            for u in module.unresolved
        ],
        "unverified": list(module.unverified),
        "weak_unresolved": module.weak_unresolved,
        "pyodide_packages": list(module.pyodide_packages),
    }


def render_check_text(report: CheckReport, color: bool = False, verbose: bool = False) -> str:
    """The report as aligned columns; ``color``: ANSI colours (for a terminal); ``verbose``:
    also what resolved each module's imports."""
    target = report.target
    verdict = paint("loads", GREEN, color) if report.loads else paint("WILL NOT LOAD", RED, color)
    lines = [
        paint(report.source, BOLD, color),
        f"  verdict: {verdict} in Pyodide {target.pyodide_version} "
        f"(Python {target.python}, ABI {target.abi}, Emscripten {target.emscripten})",
    ]
    if report.tags is not None:
        lines.append(f"  tags:    {'fit' if report.tags.fits else 'DO NOT FIT'}")
    if report.chrome:
        lines.append(
            f"  needs:   Chrome >= {report.chrome}, Node >= {report.node} "
            f"(for {', '.join(report.runtime_features)})"
        )
    width = max((len(m.path) for m in report.modules), default=4)
    lines.append("")
    header = f"  {'MODULE'.ljust(width)}  {'IMPORTS':>7}  UNRESOLVED  FEATURES"
    lines.append(paint(header, BOLD, color))
    for m in report.modules:
        unresolved = str(len(m.unresolved)) if m.unresolved else "-"
        if m.unresolved:
            unresolved = paint(f"{unresolved:>10}", RED, color)
        features = ", ".join(m.features) or "-"
        lines.append(f"  {m.path.ljust(width)}  {m.imports:>7}  {unresolved:>10}  {features}")
        if verbose and m.resolved_by:
            by = ", ".join(f"{where} {count}" for where, count in sorted(m.resolved_by.items()))
            lines.append(f"  {''.ljust(width)}  resolved by: {by}")
    if report.findings:
        lines.append("")
        for f in report.findings:
            where = f"{f.path}: " if f.path else ""
            label = paint(f.severity.upper(), RED if f.severity == "error" else YELLOW, color)
            lines.append(f"  {label}: {where}{f.message}")
    return "\n".join(lines)
