"""The manifest a repaired wheel carries in ``<distribution>.libs/emwheel-manifest.json``.

It lists every WebAssembly file of the wheel: its path relative to the install root
(site-packages), whether it is an extension module or a shared library, its size, sha256
and CRC-32, what each of its NEEDED names resolves to (a file of the wheel, or an external
provider), and an order in which every module comes after everything it needs.

The repairer writes it and the runtime loader reads it; this module is that one place, and
it is pure Python so that it runs inside Pyodide. Format: docs/manifest.md, schema:
docs/schemas/manifest.schema.json.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput

__all__ = [
    "MANIFEST_FILENAME",
    "MANIFEST_FORMAT",
    "MANIFEST_VERSION",
    "DependencyCycleError",
    "External",
    "Manifest",
    "ManifestError",
    "ModuleEntry",
    "NeededEntry",
    "compute_load_order",
    "manifest_path",
]

MANIFEST_FORMAT = "emwheel-manifest"
MANIFEST_VERSION = 2  # what emwheel writes; version 2 added each file's crc32
READABLE_VERSIONS = (1, 2)
MANIFEST_FILENAME = "emwheel-manifest.json"

KINDS = ("extension", "shared")
EXTERNAL_KINDS = ("pyodide", "excluded")


class ManifestError(InvalidInput):
    """A manifest that cannot be read, or that contradicts itself."""


class DependencyCycleError(ManifestError):
    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle))


@dataclass(frozen=True)
class External:
    """A library the wheel does not hold: a Pyodide package, or excluded at repair time
    (expected from another wheel)."""

    kind: str  # one of EXTERNAL_KINDS
    package: str | None = None  # the Pyodide package, for kind "pyodide"


@dataclass(frozen=True)
class NeededEntry:
    name: str  # as written in the module's NEEDED list
    path: str | None = None  # the file in the wheel it resolves to
    external: External | None = None


@dataclass(frozen=True)
class ModuleEntry:
    path: str  # relative to the install root
    kind: str  # one of KINDS
    sha256: str
    size: int
    needed: tuple[NeededEntry, ...] = ()
    side_module: bool = True  # False: WebAssembly without dylink.0, never dlopened
    vendored_from: str | None = None  # the file name the library had before repair
    # The content's CRC-32, which the wheel's zip entry also records and which zipfile
    # verifies as it unpacks: the loader's cheap check (docs/loader.md). Required from
    # manifest version 2; the files of a version-1 manifest are checked by sha256.
    crc32: int | None = None


@dataclass(frozen=True)
class Manifest:
    distribution: str
    version: str
    generator: str
    modules: tuple[ModuleEntry, ...]
    load_order: tuple[str, ...] = field(default=())

    def module(self, path: str) -> ModuleEntry | None:
        for entry in self.modules:
            if entry.path == path:
                return entry
        return None

    def to_json(self) -> str:
        """Deterministic JSON text: the same manifest always gives the same bytes."""
        return json.dumps(_manifest_to_dict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, source: str) -> Manifest:
        """Read and validate a manifest; errors name ``source``."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as e:
            raise ManifestError(f"{source}: not valid JSON ({e})") from None
        except RecursionError:  # the decoder recurses once per level of [ or {
            raise ManifestError(f"{source}: not valid JSON (nested too deeply)") from None
        try:
            manifest = _manifest_from_dict(data)
        except (KeyError, TypeError, ValueError) as e:
            raise ManifestError(f"{source}: {_describe(e)}") from None
        problems = manifest.problems()
        if problems:
            raise ManifestError(f"{source}: {problems[0]}")
        return manifest

    def problems(self) -> list[str]:
        """Every way the manifest contradicts itself (paths, references, order)."""
        problems = []
        paths = [m.path for m in self.modules]
        known = set(paths)
        if len(known) != len(paths):
            problems.append("a module is listed twice")
        for entry in self.modules:
            if not is_safe_relative_path(entry.path):
                problems.append(f"module path {entry.path!r} points outside the install root")
            for needed in entry.needed:
                if (needed.path is None) == (needed.external is None):
                    problems.append(
                        f"{entry.path}: NEEDED {needed.name} needs exactly one of path, external"
                    )
                elif needed.path is not None and needed.path not in known:
                    problems.append(
                        f"{entry.path}: NEEDED {needed.name} resolves to {needed.path}, "
                        "which the manifest does not list"
                    )
        if not problems and sorted(self.load_order) != sorted(paths):
            problems.append("load_order does not list every module exactly once")
        if not problems:
            position = {path: i for i, path in enumerate(self.load_order)}
            for entry in self.modules:
                for needed in entry.needed:
                    if needed.path is not None and position[needed.path] > position[entry.path]:
                        problems.append(f"load_order puts {entry.path} before {needed.path}")
        return problems


def manifest_path(distribution_dir_name: str, lib_suffix: str = ".libs") -> str:
    """Where the manifest of a distribution lives, relative to the install root.

    ``distribution_dir_name`` is the first field of the wheel file name (``grill_usd_core``).
    """
    return f"{distribution_dir_name}{lib_suffix}/{MANIFEST_FILENAME}"


def is_safe_relative_path(path: str) -> bool:
    if not path or path.startswith("/") or "\\" in path:
        return False
    normalized = posixpath.normpath(path)
    return normalized == path and normalized != ".." and not normalized.startswith("../")


def compute_load_order(dependencies: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """Order modules so that each comes after everything it needs; ties sorted by path.

    ``dependencies`` maps each module to the modules (keys of the mapping) it needs.
    Raises DependencyCycleError naming one cycle.
    """
    needs = {path: sorted(set(deps)) for path, deps in dependencies.items()}
    order: list[str] = []
    state: dict[str, str] = {}  # "visiting" or "done"

    def visit(path: str, chain: list[str]) -> None:
        if state.get(path) == "done":
            return
        if state.get(path) == "visiting":
            raise DependencyCycleError([*chain[chain.index(path) :], path])
        state[path] = "visiting"
        for dep in needs[path]:
            visit(dep, [*chain, path])
        state[path] = "done"
        order.append(path)

    for path in sorted(needs):
        visit(path, [])
    return tuple(order)


# -- (de)serialization ------------------------------------------------------------------------


def _manifest_to_dict(manifest: Manifest) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "version": _format_version(manifest.modules),
        "generator": manifest.generator,
        "distribution": manifest.distribution,
        "distribution_version": manifest.version,
        "modules": [_module_to_dict(m) for m in manifest.modules],
        "load_order": list(manifest.load_order),
    }


def _format_version(modules: tuple[ModuleEntry, ...]) -> int:
    """Version 2 records every file's crc32; a manifest read from version 1 has none, and
    is written back as it was."""
    recorded = [entry.crc32 is not None for entry in modules]
    if all(recorded):
        return MANIFEST_VERSION
    if not any(recorded):
        return 1
    missing = next(entry.path for entry in modules if entry.crc32 is None)
    raise ValueError(f"{missing}: no crc32, which the manifest's other modules have")


def _module_to_dict(entry: ModuleEntry) -> dict[str, Any]:
    result: dict[str, Any] = {
        "path": entry.path,
        "kind": entry.kind,
        "side_module": entry.side_module,
        "size": entry.size,
        "sha256": entry.sha256,
    }
    if entry.crc32 is not None:
        result["crc32"] = f"{entry.crc32:08x}"
    result["needed"] = [_needed_to_dict(n) for n in entry.needed]
    if entry.vendored_from is not None:
        result["vendored_from"] = entry.vendored_from
    return result


def _needed_to_dict(needed: NeededEntry) -> dict[str, Any]:
    result: dict[str, Any] = {"name": needed.name}
    if needed.path is not None:
        result["path"] = needed.path
    if needed.external is not None:
        external: dict[str, Any] = {"kind": needed.external.kind}
        if needed.external.package is not None:
            external["package"] = needed.external.package
        result["external"] = external
    return result


def _manifest_from_dict(data: Any) -> Manifest:
    _expect(isinstance(data, dict), "the manifest is not a JSON object")
    _expect(data.get("format") == MANIFEST_FORMAT, f"'format' is not {MANIFEST_FORMAT!r}")
    version = data.get("version")
    _expect(
        type(version) is int and version in READABLE_VERSIONS,
        f"manifest version {version!r} is not supported (this emwheel reads "
        f"{', '.join(map(str, READABLE_VERSIONS))})",
    )
    return Manifest(
        distribution=_str(data, "distribution"),
        version=_str(data, "distribution_version"),
        generator=_str(data, "generator"),
        modules=tuple(_module_from_dict(m, version) for m in _list(data, "modules")),
        load_order=tuple(_expect_str(p, "load_order entry") for p in _list(data, "load_order")),
    )


def _module_from_dict(data: Any, manifest_version: int) -> ModuleEntry:
    _expect(isinstance(data, dict), "a module entry is not an object")
    kind = _str(data, "kind")
    _expect(kind in KINDS, f"unknown module kind {kind!r}")
    size = data["size"]
    _expect(isinstance(size, int) and size >= 0, "a module size is not a whole number")
    sha256 = _str(data, "sha256")
    _expect(_is_hex(sha256, 64), f"{sha256!r} is not a sha256")
    crc32 = None
    if manifest_version >= 2:
        crc32 = _str(data, "crc32")
        _expect(_is_hex(crc32, 8), f"{crc32!r} is not a CRC-32 (8 lowercase hex digits)")
    side_module = data.get("side_module", True)
    _expect(isinstance(side_module, bool), "'side_module' is not true or false")
    vendored_from = data.get("vendored_from")
    _expect(vendored_from is None or isinstance(vendored_from, str), "bad 'vendored_from'")
    return ModuleEntry(
        path=_str(data, "path"),
        kind=kind,
        sha256=sha256,
        size=size,
        needed=tuple(_needed_from_dict(n) for n in _list(data, "needed")),
        side_module=side_module,
        vendored_from=vendored_from,
        crc32=None if crc32 is None else int(crc32, 16),
    )


def _needed_from_dict(data: Any) -> NeededEntry:
    _expect(isinstance(data, dict), "a NEEDED entry is not an object")
    path = data.get("path")
    _expect(path is None or isinstance(path, str), "a NEEDED path is not a string")
    external = None
    if "external" in data:
        raw = data["external"]
        _expect(isinstance(raw, dict), "'external' is not an object")
        kind = _str(raw, "kind")
        _expect(kind in EXTERNAL_KINDS, f"unknown external kind {kind!r}")
        package = raw.get("package")
        _expect(package is None or isinstance(package, str), "bad external package")
        external = External(kind, package)
    return NeededEntry(_str(data, "name"), path, external)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdef" for c in text)


def _expect_str(value: Any, what: str) -> str:
    _expect(isinstance(value, str), f"{what} is not a string")
    return str(value)


def _str(data: dict[str, Any], key: str) -> str:
    return _expect_str(data[key], repr(key))


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data[key]
    _expect(isinstance(value, list), f"{key!r} is not a list")
    return list(value)


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    return str(error)
