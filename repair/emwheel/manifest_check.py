"""Comparing a wheel's emwheel manifest with what the wheel really holds.

`check_manifest` (for `show`) is cheap by design: sizes and CRC-32s come from the zip
directory and hashes from the wheel's RECORD, so no module is decompressed.
`content_problems` compares the manifest with hashes taken from the files' content
(content_hashes), for `check` and `repair`, which read every file anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from emwheel_loader.errors import EmwheelError
from emwheel_loader.manifest import MANIFEST_FILENAME, Manifest

from .content_hashes import FileHashes
from .errors import InvalidInput
from .package_source import READ_ERRORS, PackageFile, PackageSource
from .record_check import read_record
from .show_report import ManifestReport, ModuleReport

__all__ = ["check_manifest", "content_problems", "find_manifests", "load_manifest"]


def find_manifests(source: PackageSource) -> list[PackageFile]:
    """The manifests of a source: ``<folder>/emwheel-manifest.json`` at the top of the
    install root (normally one, in ``<distribution>.libs/``)."""
    return [
        file
        for file in source.files
        if file.install_path.count("/") == 1 and file.install_path.endswith("/" + MANIFEST_FILENAME)
    ]


def load_manifest(source: PackageSource, file: PackageFile) -> Manifest:
    """Read and validate a manifest; InvalidInput (ManifestError) names the file."""
    try:
        with source.open(file) as stream:
            text = stream.read()
    except READ_ERRORS as e:
        raise InvalidInput(f"{source.describe(file)}: cannot read entry ({e})") from None
    return Manifest.from_json(text, source.describe(file))


def check_manifest(source: PackageSource, modules: Sequence[ModuleReport]) -> list[ManifestReport]:
    """Check every manifest in the source against the modules `show` found."""
    checks = []
    for file in find_manifests(source):
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


def content_problems(
    source: PackageSource, manifest: Manifest, hashes: Mapping[str, FileHashes]
) -> list[str]:
    """Every module the manifest lists that the wheel lacks, or whose size, sha256 or crc32
    (from ``hashes``, by archive path) is not the manifest's: what emwheel's loader checks."""
    archive_paths = {f.install_path: f.archive_path for f in source.files}
    problems = []
    for entry in manifest.modules:
        actual = hashes.get(archive_paths.get(entry.path, ""))
        if actual is None:
            problems.append(f"the manifest lists {entry.path}, which the wheel does not hold")
        elif actual.size != entry.size:
            problems.append(f"{entry.path}: size {actual.size}, the manifest says {entry.size}")
        elif actual.sha256 != entry.sha256:
            problems.append(f"{entry.path}: sha256 of the file differs from the manifest's")
        elif entry.crc32 is not None and actual.crc32 != entry.crc32:
            problems.append(f"{entry.path}: crc32 of the file differs from the manifest's")
    return problems


def _record_hashes(source: PackageSource) -> dict[str, str]:
    _, rows, _ = read_record(source)
    return {r.path: r.digest for r in rows if r.algorithm == "sha256" and r.digest is not None}


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
        zip_crc = source.zip_crc(archive_paths.get(path, path))
        if entry.crc32 is not None and zip_crc is not None and zip_crc != entry.crc32:
            problems.append(f"{path}: crc32 in the zip entry differs from the manifest's")
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
