"""Comparing a wheel's emwheel manifest with what the wheel really holds (for `show`).

Cheap by design: sizes come from the zip directory and hashes from the wheel's RECORD, so
no module is decompressed for the check. A RECORD that disagrees with its files is for
installers to catch.
"""

from __future__ import annotations

from collections.abc import Sequence

from emwheel_loader.errors import EmwheelError
from emwheel_loader.manifest import MANIFEST_FILENAME, Manifest

from .package_source import READ_ERRORS, PackageSource
from .show_report import ManifestReport, ModuleReport
from .wheel_record import parse_record

__all__ = ["check_manifest"]


def check_manifest(source: PackageSource, modules: Sequence[ModuleReport]) -> list[ManifestReport]:
    """Check every manifest in the source (normally one, in ``<distribution>.libs/``)."""
    checks = []
    for file in source.files:
        parts = file.install_path.split("/")
        if len(parts) != 2 or parts[1] != MANIFEST_FILENAME:
            continue
        try:
            with source.open(file) as stream:
                text = stream.read()
            manifest = Manifest.from_json(text, file.install_path)
        except EmwheelError as e:
            checks.append(ManifestReport(file.install_path, None, (str(e),)))
            continue
        except READ_ERRORS as e:
            checks.append(ManifestReport(file.install_path, None, (f"cannot be read ({e})",)))
            continue
        problems = _compare(source, manifest, modules)
        checks.append(ManifestReport(file.install_path, manifest, tuple(problems)))
    return checks


def _record_hashes(source: PackageSource) -> dict[str, str]:
    for file in source.files:
        if file.archive_path.count("/") == 1 and file.archive_path.endswith(".dist-info/RECORD"):
            try:
                with source.open(file) as stream:
                    return parse_record(stream.read().decode("utf-8", "replace"))
            except READ_ERRORS:
                return {}
    return {}


def _compare(
    source: PackageSource, manifest: Manifest, modules: Sequence[ModuleReport]
) -> list[str]:
    problems: list[str] = []
    wasm = {m.path: m for m in modules if m.format == "wasm"}
    listed = {entry.path: entry for entry in manifest.modules}
    for path in sorted(set(wasm) - set(listed)):
        problems.append(f"{path} is in the wheel but not in the manifest")
    for path in sorted(set(listed) - set(wasm)):
        problems.append(f"the manifest lists {path}, which the wheel does not hold")
    record = _record_hashes(source)
    archive_paths = {f.install_path: f.archive_path for f in source.files}
    for path in sorted(set(wasm) & set(listed)):
        module, entry = wasm[path], listed[path]
        if module.kind != entry.kind:
            problems.append(f"{path}: the manifest says {entry.kind}, the module is {module.kind}")
        if module.size != entry.size:
            problems.append(f"{path}: size {module.size}, the manifest says {entry.size}")
        recorded = record.get(archive_paths.get(path, path))
        if recorded is not None and recorded != entry.sha256:
            problems.append(f"{path}: sha256 in RECORD differs from the manifest's")
        needed_names = [lib.name for lib in module.needed]
        if needed_names != [n.name for n in entry.needed]:
            problems.append(
                f"{path}: NEEDED is {needed_names}, the manifest says "
                f"{[n.name for n in entry.needed]}"
            )
            continue
        for lib, listed_needed in zip(module.needed, entry.needed, strict=True):
            if lib.path is not None and listed_needed.path not in (None, lib.path):
                problems.append(
                    f"{path}: {lib.name} resolves to {lib.path}, the manifest says "
                    f"{listed_needed.path}"
                )
    return problems
