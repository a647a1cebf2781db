"""`emwheel check`: will this wheel load in that Pyodide? Answered offline.

For each wheel: its tags against the target's ABI and Python; every NEEDED library (as
`show` resolves it); every import of every module against what the target's main module
provides (shipped ABI data, see pyodide_abi), what the wheel's other modules export, and
what the Pyodide library packages it needs export; and the WebAssembly features each module
uses, with the oldest Chrome and Node that run them.

What Pyodide does with an unresolved import, seen in Pyodide 314.0.7: a GOT entry (data, or
a function whose address is taken) or a non-function ``env`` import makes the dlopen fail
("Dynamic linking error: undefined symbol"): an error here. An ``env`` function loads as a
stub, and the first call to it is a fatal error that stops Pyodide ("cannot resolve
symbol"): a warning here (an error with ``strict``), since real wheels carry references to
functions they never call. Weak imports are neither.
Symbols of the other modules of the wheel count whatever the NEEDED lists say: Pyodide
loads every library of a wheel at install time and binds symbols across them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from emwheel_loader.manifest import MANIFEST_FILENAME, Manifest

from .check_integrity import IntegrityCheck, hash_algorithms
from .check_modules import ModuleReading, ModuleSymbols, read_modules
from .check_symbols import SymbolSources, UnresolvedSymbol, resolve_imports
from .content_hashes import hash_files
from .errors import InvalidInput
from .library_resolution import LibraryIndex, Resolution, resolve_needed
from .package_source import READ_ERRORS, PackageFile, PackageSource, open_source
from .pyodide_abi import PyodideAbi
from .pyodide_targets import known_library_files
from .runtime_support import minimum_versions
from .show import module_reports
from .show_report import Finding
from .tag_check import TagVerdict, check_tags

__all__ = ["CheckReport", "ModuleCheck", "UnresolvedSymbol", "check_wheel"]


@dataclass(frozen=True)
class ModuleCheck:
    path: str
    kind: str  # "extension" or "shared"
    features: tuple[str, ...]
    imports: int
    resolved_by: dict[str, int]  # "pyodide" | "wheel" | "package <name>" -> count
    unresolved: tuple[UnresolvedSymbol, ...]
    unverified: tuple[str, ...] = ()  # imports left to libraries whose symbols are unknown
    weak_unresolved: int = 0
    pyodide_packages: tuple[str, ...] = ()  # that must be loaded before this module


@dataclass(frozen=True)
class CheckReport:
    source: str
    target: PyodideAbi
    tags: TagVerdict | None  # None for a folder or a module file
    modules: tuple[ModuleCheck, ...]
    findings: tuple[Finding, ...]
    chrome: int = 0
    node: str = "0.0.0"
    runtime_features: tuple[str, ...] = field(default=())  # the features that set them

    @property
    def loads(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def check_wheel(
    path: Path,
    target: PyodideAbi,
    strict: bool = False,
    loader: bool = False,
    jobs: int | None = None,
    integrity: bool = True,
) -> CheckReport:
    """Check a wheel (or folder, or module file) against a Pyodide release.

    ``strict``: an undefined function is an error too (by default a warning: the module
    loads, and only a call to it stops Pyodide; real wheels carry such references).
    ``loader``: assume emwheel's runtime loader is active, so a library of the wheel that
    its manifest lists is found by name, RUNTIME_PATH or not.
    ``jobs``: processes reading modules (default: one per core for a large wheel).
    ``integrity``: also check every file against RECORD and the manifest (check_integrity);
    off for a wheel emwheel has just written.
    """
    with open_source(path) as source:
        return _Checker(source, target, strict, loader, jobs, integrity).run()


def _pyodide_library_files(target: PyodideAbi) -> dict[str, str]:
    """Library file name -> package, from the target's lock file (and emwheel's table for
    packages whose files are not known)."""
    files: dict[str, str] = {}
    for name, package in target.library_packages.items():
        if package.libraries is not None:
            provided = [posixpath.basename(library) for library in package.libraries]
        else:
            provided = known_library_files(name)
        for so_name in provided:
            files.setdefault(so_name, name)
    return files


class _Checker:
    def __init__(
        self,
        source: PackageSource,
        target: PyodideAbi,
        strict: bool,
        loader: bool,
        jobs: int | None,
        integrity: bool,
    ) -> None:
        self.source = source
        self.jobs = jobs
        self.integrity = integrity
        self.target = target
        self.strict = strict
        self.loader = loader
        self.manifest_paths: set[str] = set()
        self.findings: list[Finding] = []
        self.library_files = _pyodide_library_files(target)

    def run(self) -> CheckReport:
        tags = None
        if self.source.wheel_name is not None:
            tags = check_tags(
                self.source.wheel_name.tags, self.target.abi, self.target.python_minor
            )
            for problem in tags.problems if not tags.fits else ():
                self.findings.append(
                    Finding("error", "wheel-tags", f"{problem} (target: Pyodide "
                            f"{self.target.pyodide_version}, ABI {self.target.abi}, "
                            f"Python {self.target.python_minor})")
                )  # fmt: skip
        modules = self._read_modules()
        self._modules_by_path = {m.file.install_path: m for m in modules}
        excluded = self._excluded_libraries()
        index = LibraryIndex(f.install_path for f in self.source.files)
        exports_by_path = {m.file.install_path: m.exports for m in modules}
        every_export = list(exports_by_path.values())
        checks = []
        # What a module's data imports can bind to when it loads: the exports of the modules
        # loaded before it, its own, and those of the libraries it NEEDs (loaded first).
        loaded: list[set[bytes]] = []
        for m in modules:  # in archive order: the order Pyodide dlopens them at install
            closure = self._closure_exports(m, index, exports_by_path)
            at_load = [m.exports, *closure, *loaded]
            wheel = [m.exports, *every_export]
            checks.append(self._check_module(m, index, wheel, at_load, excluded))
            if _loaded_at_install(m.file.install_path):
                loaded.append(m.exports)
        features = {f for m in checks for f in m.features}
        chrome, node, reasons = minimum_versions(features)
        return CheckReport(
            self.source.label, self.target, tags, tuple(checks), tuple(self.findings),
            chrome, node, tuple(reasons),
        )  # fmt: skip

    # -- reading -----------------------------------------------------------------------------

    def _read_modules(self) -> list[ModuleSymbols]:
        """Every wasm module, read (in worker processes for a large wheel) while this process
        hashes the other files; the integrity check takes the modules' hashes, and what
        `show` reports of them, from that one reading."""
        if not self.integrity:
            return read_modules(self.source, self.jobs)
        algorithms = hash_algorithms(self.source)
        reading = ModuleReading(self.source, self.jobs, algorithms)
        read = {file.archive_path for file in reading.files}
        hashes = hash_files(self.source, algorithms, skip=read)
        modules = reading.result()
        hashes |= {m.file.archive_path: m.hashes for m in modules}
        facts = {m.file.archive_path: m.facts for m in modules}
        integrity = IntegrityCheck(self.source, self.loader, module_reports(self.source, facts))
        self.findings += integrity.findings(hashes)
        return modules

    def _read(self, file: PackageFile) -> bytes:
        try:
            with self.source.open(file) as stream:
                return stream.read()
        except READ_ERRORS as e:
            raise InvalidInput(f"{self.source.describe(file)}: cannot read entry ({e})") from None

    def _excluded_libraries(self) -> set[str]:
        """Libraries the wheel's manifest leaves to other wheels (repair --exclude)."""
        excluded: set[str] = set()
        for file in self.source.files:
            parts = file.install_path.split("/")
            if len(parts) == 2 and parts[1] == MANIFEST_FILENAME:
                try:
                    manifest = Manifest.from_json(self._read(file), self.source.describe(file))
                except InvalidInput:
                    continue  # `emwheel show` reports a broken manifest
                for entry in manifest.modules:
                    self.manifest_paths.add(entry.path)
                    for needed in entry.needed:
                        if needed.external is not None and needed.external.kind == "excluded":
                            excluded.add(needed.name)
        return excluded

    # -- checking ----------------------------------------------------------------------------

    def _check_module(
        self,
        module: ModuleSymbols,
        index: LibraryIndex,
        wheel_exports: list[set[bytes]],
        at_load: list[set[bytes]],
        excluded: set[str],
    ) -> ModuleCheck:
        path = module.file.install_path
        if module.legacy_dylink:
            self.findings.append(Finding(
                "error", "legacy-dylink", "legacy 'dylink' section: Emscripten >= 4.0.5 only "
                "loads modules with a 'dylink.0' section", path,
            ))  # fmt: skip
        package_exports: set[bytes] = set()
        packages: list[str] = []
        unknown_sources: list[str] = []
        for name in module.needed:
            found = resolve_needed(name, path, module.runtime_path, index, self.library_files)
            if found.resolution is Resolution.PYODIDE and found.provider:
                packages.append(found.provider)
                package = self.target.library_packages.get(found.provider)
                library = self._package_library(found.provider, name)
                if package is None or library is None:
                    unknown_sources.append(f"Pyodide package {found.provider}")
                else:
                    package_exports |= {s.encode() for s in package.exported_symbols(library)}
            elif found.resolution is Resolution.MISSING and name in excluded:
                unknown_sources.append(f"{name} (from another wheel)")
            elif found.resolution is Resolution.MISSING:
                self.findings.append(Finding(
                    "error", "missing-library",
                    f"needs {name}, which is neither in the wheel nor in Pyodide "
                    f"{self.target.pyodide_version}", path,
                ))  # fmt: skip
            elif found.resolution is Resolution.NAME_ONLY and not (
                self.loader and set(found.candidates) & self.manifest_paths
            ):
                self.findings.append(Finding(
                    "error", "library-not-on-path",
                    f"needs {name}, which is in the wheel but on no RUNTIME_PATH entry: stock "
                    "Pyodide will not find it (emwheel repair adds the entry)", path,
                ))  # fmt: skip
        sources = SymbolSources(
            self.target.main_symbol_bytes, self.target.symbol_prefix_bytes, package_exports,
            wheel_exports, at_load, bool(unknown_sources),
        )  # fmt: skip
        verdict = resolve_imports(module.imports, module.import_sets, module.weak, sources)
        unresolved, late, unverified = verdict.unresolved, verdict.late, verdict.unverified
        if late:
            self.findings.append(Finding(
                "error", "defined-too-late",
                f"{_names([u for u in unresolved if u.name in late])} "
                f"{'is' if len(late) == 1 else 'are'} defined by a module of the wheel that "
                "Pyodide loads later (it loads a wheel's libraries in archive order): NEED "
                "that library, or repair the wheel and use emwheel's loader", path,
            ))  # fmt: skip
        failing = [u for u in unresolved if u.effect == "load fails"]
        if failing:
            self.findings.append(Finding(
                "error", "undefined-symbol",
                f"dlopen fails: {_count(failing, 'undefined symbol')}: {_names(failing)}", path,
            ))  # fmt: skip
        deferred = [u for u in unresolved if u.effect != "load fails"]
        if deferred:
            self.findings.append(Finding(
                "error" if self.strict else "warning", "undefined-function",
                f"loads, but a call to {_count(deferred, 'undefined function')} stops Pyodide "
                f"('cannot resolve symbol'): {_names(deferred)}", path,
            ))  # fmt: skip
        if unverified:
            self.findings.append(Finding(
                "warning", "unverified-symbols",
                f"{len(unverified)} symbols are left to {', '.join(unknown_sources)}, whose "
                "exports are not known offline", path,
            ))  # fmt: skip
        return ModuleCheck(
            path=path,
            kind=module.kind,
            features=module.features,
            imports=len(module.imports.names),
            resolved_by={k: v for k, v in verdict.counts.items() if v},
            unresolved=tuple(unresolved),
            unverified=tuple(unverified),
            weak_unresolved=verdict.weak_unresolved,
            pyodide_packages=tuple(dict.fromkeys(packages)),
        )

    def _closure_exports(
        self, module: ModuleSymbols, index: LibraryIndex, exports_by_path: dict[str, set[bytes]]
    ) -> list[set[bytes]]:
        """Exports of the wheel's libraries this module NEEDs, transitively: Emscripten
        loads them before the module itself. One set per library (a union would copy the
        largest library's exports once per module that NEEDs it)."""
        seen: set[str] = set()
        pending = [module]
        by_path = self._modules_by_path
        exports: list[set[bytes]] = []
        while pending:
            current = pending.pop()
            for name in current.needed:
                found = resolve_needed(
                    name, current.file.install_path, current.runtime_path, index, {}
                )
                path = found.path or (found.candidates[0] if found.candidates else None)
                if path is None or path in seen or path not in by_path:
                    continue
                seen.add(path)
                exports.append(exports_by_path[path])
                pending.append(by_path[path])
        return exports

    def _package_library(self, package_name: str, so_name: str) -> str | None:
        package = self.target.library_packages.get(package_name)
        if package is None or package.libraries is None:
            return None
        for library in package.libraries:
            if posixpath.basename(library) == so_name:
                return library
        return None


def _count(symbols: list[UnresolvedSymbol], noun: str) -> str:
    return f"{len(symbols)} {noun}{'s' if len(symbols) != 1 else ''}"


def _names(symbols: list[UnresolvedSymbol], limit: int = 10) -> str:
    shown = ", ".join(u.name for u in symbols[:limit])
    return shown + (f" and {len(symbols) - limit} more" if len(symbols) > limit else "")


def _loaded_at_install(path: str) -> bool:
    """Pyodide dlopens at install the files named like ``*.so`` or ``*.so.N``
    (``should_load_dynlib`` in pyodide._package_loader)."""
    base = posixpath.basename(path)
    return re.search(r"\.so(\.\d+)*$", base) is not None
