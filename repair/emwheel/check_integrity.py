"""What `emwheel check` reports about a wheel's integrity, next to its loading verdict.

Everything `show` reports about the wheel's RECORD, manifest and library names, and what
only reading every file tells: RECORD's hashes, and the manifest's sizes and hashes against
the files themselves. Pyodide's installers check neither RECORD nor the manifest, so these
are warnings; the manifest's are errors with ``loader`` (emwheel's loader refuses a wheel
whose manifest disagrees with its files, before loading any of it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .content_hashes import FileHashes, hash_files
from .errors import InvalidInput
from .manifest_check import check_manifest, content_problems, find_manifests, load_manifest
from .package_source import PackageSource, open_source
from .record_check import record_algorithms
from .show import module_reports
from .show_report import Finding, ModuleReport
from .wheel_integrity import integrity_findings, manifest_findings

__all__ = ["IntegrityCheck", "check_integrity", "hash_algorithms"]


class IntegrityCheck:
    """Started on an open source and show's reports of its modules (read here when not
    given: `check` passes those it derives from its own reading); ``findings`` takes the
    hashes of every file, which `check` gathers while reading the modules."""

    def __init__(
        self,
        source: PackageSource,
        loader: bool = False,
        modules: Sequence[ModuleReport] | None = None,
    ) -> None:
        self.source = source
        self.severity = "error" if loader else "warning"
        self.modules = module_reports(source) if modules is None else modules

    def findings(self, hashes: Mapping[str, FileHashes]) -> list[Finding]:
        source = self.source
        findings = manifest_findings(check_manifest(source, self.modules), self.severity)
        findings += _manifest_content_findings(source, hashes, self.severity)
        findings += integrity_findings(source, self.modules, hashes)
        return list(dict.fromkeys(findings))  # a size both checks see wrong, once


def hash_algorithms(source: PackageSource) -> dict[str, str]:
    """RECORD's hash algorithm by archive path, for a wheel."""
    return record_algorithms(source) if source.kind == "wheel" else {}


def check_integrity(path: Path, loader: bool = False) -> list[Finding]:
    """Integrity findings for a wheel (or folder): reads and hashes every file once."""
    with open_source(path) as source:
        check = IntegrityCheck(source, loader)
        return check.findings(hash_files(source, hash_algorithms(source)))


def _manifest_content_findings(
    source: PackageSource, hashes: Mapping[str, FileHashes], severity: str
) -> list[Finding]:
    findings = []
    for file in find_manifests(source):
        try:
            manifest = load_manifest(source, file)
        except InvalidInput:
            continue  # reported as manifest-invalid
        findings += [
            Finding(severity, "manifest-mismatch", problem, file.install_path)
            for problem in content_problems(source, manifest, hashes)
        ]
    return findings
