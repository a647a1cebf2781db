"""What a Pyodide release offers to side modules: the symbols their imports can resolve to.

Read offline from a Pyodide distribution folder (the npm package: pyodide.asm.wasm, the
JavaScript glue pyodide.asm.mjs or pyodide.asm.js, pyodide-lock.json, package.json), or
from the data files shipped in ``emwheel/data`` (written by tools/pyodide_abi.py, which is
a thin command line over :func:`abi_from_distribution` and :func:`abi_to_json`).

How Emscripten resolves a side module's imports (src/lib/libdylink.js, formerly
src/library_dylink.js, in emscripten-core/emscripten; checked against the compiled glue of
Pyodide 314.0.7 / Emscripten 5.0.3 and 0.29.3 / Emscripten 4.0.9):

- The main module is instantiated with ``env`` and ``wasi_snapshot_preview1`` both bound to
  the glue's ``wasmImports`` object: every JavaScript library function of the build (for
  MAIN_MODULE=1 builds that is the whole JS library, about 1,100 more functions than the
  main module itself imports). Then ``mergeLibSymbols(wasmExports, "main")`` adds every
  export of the main module to ``wasmImports`` unless a JS definition of that name exists.
- A side module's ``env`` and ``wasi_snapshot_preview1`` imports go through one proxy
  (``loadWebAssemblyModule``): ``__memory_base`` and ``__table_base`` are answered per
  module; a name in ``wasmImports`` (JS library, main exports, RTLD_GLOBAL libraries loaded
  before) is returned as is; any other name gets a lazy function stub that looks the name up
  on first call (globally, then the local scope of the dlopen, then the module's own
  exports) and throws "Dynamic linking error: cannot resolve symbol" if it is still missing.
  So a missing *function* only fails when called; a missing global, memory, table or tag
  fails the instantiation.
- ``GOT.mem`` and ``GOT.func`` imports become entries of one global offset table.
  ``updateGOT`` fills it from the exports of every module loaded so far (local ones too);
  ``reportUndefinedSymbols`` then resolves the rest against ``wasmImports`` after each load
  and fails the load for a missing non-weak symbol.
- Names in ``wasmImports`` whose value is marked ``.stub`` are placeholders for symbols the
  main module expects from a side module; the linker treats them as undefined.
- Glue built with JavaScript exception or longjmp support also creates ``invoke_*`` (and
  ``__cxa_find_matching_catch_*``) functions on demand; neither 0.29.3 nor 314.0.7 is built
  that way (no ``createInvokeFunction`` in their glue).
- The JS code of Pyodide can write extra names into ``wasmImports`` at start-up (both
  releases alias ``open64`` to ``open``); these are read from the glue as runtime aliases.

Shared-library packages (``package_type: shared_library`` in the lock file) are dlopened
without RTLD_GLOBAL, so their exports reach only modules that NEED them; they are recorded
per package, with the exports of each library when the package file is in the folder.
"""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from .errors import EmwheelError, InvalidInput
from .wasm_imports_exports import Export, ExternalKind
from .wasm_module import WasmModule, is_wasm, scan_module_stream

__all__ = [
    "DATA_FORMAT",
    "SPECIAL_SYMBOLS",
    "LibraryPackage",
    "PyodideAbi",
    "abi_from_distribution",
    "abi_from_json",
    "abi_to_json",
    "available_versions",
    "data_file_name",
    "load_shipped_abi",
    "newest_shipped",
    "read_abi_file",
    "write_abi_file",
]

DATA_FORMAT = 1
LOCK_FILE = "pyodide-lock.json"
MAIN_MODULE = "pyodide.asm.wasm"
JS_GLUE = ("pyodide.asm.mjs", "pyodide.asm.js")  # 314.x ships .mjs, 0.2x .js
ENV_MODULES = ("env", "wasi_snapshot_preview1")
KINDS = tuple(kind.name.lower() for kind in ExternalKind)

# Names a side module's env imports resolve to that are neither main exports nor in the
# glue's wasmImports: answered per module by loadWebAssemblyModule's proxy (libdylink.js).
SPECIAL_SYMBOLS: dict[str, str] = {
    "__memory_base": "start of the module's own data, allocated at load",
    "__table_base": "start of the module's own slots in the function table",
}

# Symbols created on demand by glue built with JS exceptions / longjmp (libdylink.js
# resolveGlobalSymbol): marker in the glue -> name prefix.
_ON_DEMAND_PREFIXES = {
    "createInvokeFunction": "invoke_",
    'startsWith("__cxa_find_matching_catch_")': "__cxa_find_matching_catch_",
}

_WASM_IMPORTS = re.compile(r"\bvar wasmImports\s*=\s*\{([^{}]*)\}")
_ENTRY = re.compile(r"\s*([A-Za-z_$][\w$]*)\s*(?::\s*([A-Za-z_$][\w$.]*))?\s*")
_STUB = re.compile(r"\b([A-Za-z_$][\w$]*)\.stub\s*=\s*true\b")
_ALIAS = re.compile(r'\bwasmImports\["([^"]+)"\]\s*=\s*wasmImports\["([^"]+)"\]')
_VERSION = re.compile(r'\bversion\s*=\s*"([^"]+)"')
_DATA_FILE = re.compile(r"pyodide-abi-(.+)\.json\.gz")


@dataclass(frozen=True)
class LibraryPackage:
    """A shared-library package of the lock file (installed into /usr/lib)."""

    name: str
    version: str
    file_name: str
    # library path inside the package file -> its exports by kind; None when the package
    # file was not in the distribution folder (Pyodide's are on its CDN)
    libraries: Mapping[str, Mapping[str, frozenset[str]]] | None = None

    def exported_symbols(self, library: str) -> frozenset[str]:
        if self.libraries is None:
            return frozenset()
        return frozenset().union(*self.libraries[library].values())


@dataclass(frozen=True)
class PyodideAbi:
    pyodide_version: str
    python: str  # full version from the lock file, e.g. "3.14.2"
    abi: str  # platform tag without "_wasm32", e.g. "pyemscripten_2026_0"
    emscripten: str
    main_exports: Mapping[str, frozenset[str]]  # kind ("function", "global", ...) -> names
    js_symbols: frozenset[str]  # names of the glue's wasmImports (stubs left out)
    js_stubs: frozenset[str] = frozenset()
    runtime_aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> target
    special_symbols: frozenset[str] = frozenset(SPECIAL_SYMBOLS)
    symbol_prefixes: tuple[str, ...] = ()  # names made on demand, e.g. "invoke_"
    library_packages: Mapping[str, LibraryPackage] = field(default_factory=dict)

    @property
    def python_minor(self) -> str:
        return ".".join(self.python.split(".")[:2])

    @cached_property
    def main_symbols(self) -> frozenset[str]:
        """Every name a side module's ``env`` import can resolve to without other modules."""
        exported = frozenset().union(*self.main_exports.values())
        known = exported | self.js_symbols
        aliases = {alias for alias, target in self.runtime_aliases.items() if target in known}
        return known | aliases | self.special_symbols

    @cached_property
    def main_symbol_bytes(self) -> frozenset[bytes]:
        """main_symbols as the bytes an import section holds (no decoding per import)."""
        return frozenset(name.encode() for name in self.main_symbols)

    @cached_property
    def symbol_prefix_bytes(self) -> tuple[bytes, ...]:
        return tuple(prefix.encode() for prefix in self.symbol_prefixes)

    def provides(self, name: str) -> bool:
        return name in self.main_symbols or name.startswith(self.symbol_prefixes)


# --- reading a distribution folder ---------------------------------------------------------


def abi_from_distribution(dist: Path) -> PyodideAbi:
    """Read the ABI of the Pyodide distribution (npm package folder) at ``dist``."""
    lock = _read_json(dist / LOCK_FILE)
    try:
        info = lock["info"]
        packages: dict[str, Any] = lock["packages"]
        abi = f"pyemscripten_{info['abi_version']}"
        python = str(info["python"])
        emscripten = str(info["platform"]).removeprefix("emscripten_").replace("_", ".")
    except (KeyError, TypeError) as e:
        raise InvalidInput(f"{dist / LOCK_FILE}: not a Pyodide lock file (no {e})") from None
    module = _read_main_module(dist / MAIN_MODULE)
    glue_path, glue = _read_glue(dist)
    js_symbols, stubs = _wasm_imports_names(glue, glue_path)
    imported = {i.name for i in module.imports if i.module in ENV_MODULES}
    if not imported <= js_symbols | stubs:
        missing = ", ".join(sorted(imported - js_symbols - stubs)[:5])
        raise InvalidInput(f"{glue_path}: wasmImports lacks imports of {MAIN_MODULE}: {missing}")
    return PyodideAbi(
        pyodide_version=_pyodide_version(dist),
        python=python,
        abi=abi,
        emscripten=emscripten,
        main_exports=_by_kind(module.exports),
        js_symbols=frozenset(js_symbols),
        js_stubs=frozenset(stubs),
        runtime_aliases=dict(_ALIAS.findall(glue)),
        symbol_prefixes=tuple(p for marker, p in _ON_DEMAND_PREFIXES.items() if marker in glue),
        library_packages={
            name: _library_package(dist, name, entry)
            for name, entry in sorted(packages.items())
            if isinstance(entry, dict) and entry.get("package_type") == "shared_library"
        },
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInput(f"{path}: cannot read JSON ({e})") from None


def _read_main_module(path: Path) -> WasmModule:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"{path}: cannot read the main module ({e.strerror})") from None
    try:
        return WasmModule.parse(data)
    except EmwheelError as e:
        raise InvalidInput(f"{path}: {e}") from None


def _read_glue(dist: Path) -> tuple[Path, str]:
    for name in JS_GLUE:
        path = dist / name
        if path.is_file():
            return path, path.read_text(encoding="utf-8")
    raise InvalidInput(f"{dist}: no Emscripten glue ({' or '.join(JS_GLUE)})")


def _wasm_imports_names(glue: str, where: Path) -> tuple[set[str], set[str]]:
    """The names of the glue's ``var wasmImports = {...}``, without and with a stub."""
    match = _WASM_IMPORTS.search(glue)
    if match is None:
        raise InvalidInput(f"{where}: no `var wasmImports = {{...}}` object")
    stub_values = set(_STUB.findall(glue))
    names: set[str] = set()
    stubs: set[str] = set()
    for entry in match.group(1).split(","):
        parsed = _ENTRY.fullmatch(entry)
        if parsed is None:
            raise InvalidInput(f"{where}: unexpected wasmImports entry {entry.strip()[:60]!r}")
        name, value = parsed.group(1), parsed.group(2) or parsed.group(1)
        (stubs if value in stub_values else names).add(name)
    return names, stubs


def _pyodide_version(dist: Path) -> str:
    package_json = dist / "package.json"
    if package_json.is_file():
        meta = _read_json(package_json)
        version = meta.get("version") if isinstance(meta, dict) else None
        if isinstance(version, str):
            return version
    try:
        found = _VERSION.search((dist / "pyodide.mjs").read_text(encoding="utf-8"))
    except OSError:
        found = None
    if found is None:
        raise InvalidInput(f"{dist}: no Pyodide version (package.json or pyodide.mjs)")
    return found.group(1)


def _by_kind(exports: Iterable[Export]) -> dict[str, frozenset[str]]:
    names: dict[str, set[str]] = {}
    for export in exports:
        names.setdefault(export.kind_name, set()).add(export.name)
    return {kind: frozenset(names[kind]) for kind in KINDS if kind in names}


def _library_package(dist: Path, name: str, entry: dict[str, Any]) -> LibraryPackage:
    file_name = str(entry.get("file_name", ""))
    version = str(entry.get("version", ""))
    archive = dist / file_name
    if not file_name or not archive.is_file():
        return LibraryPackage(name, version, file_name)
    libraries: dict[str, Mapping[str, frozenset[str]]] = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in sorted(zf.infolist(), key=lambda m: m.filename):
                if member.is_dir() or ".so" not in member.filename.rsplit("/", 1)[-1]:
                    continue
                with zf.open(member) as stream:
                    if not is_wasm(stream.read(4)):
                        continue
                with zf.open(member) as stream:
                    summary = scan_module_stream(stream, member.file_size)
                libraries[member.filename] = _by_kind(summary.exports)
    except (OSError, zipfile.BadZipFile) as e:
        raise InvalidInput(f"{archive}: cannot read package file ({e})") from None
    except EmwheelError as e:
        raise InvalidInput(f"{archive}: {e}") from None
    return LibraryPackage(name, version, file_name, libraries)


# --- the data file -------------------------------------------------------------------------


def abi_to_json(abi: PyodideAbi) -> str:
    """The data file's text: sorted keys and names, one name a line (deterministic)."""
    data = {
        "format": DATA_FORMAT,
        "pyodide": abi.pyodide_version,
        "python": abi.python,
        "abi": abi.abi,
        "emscripten": abi.emscripten,
        "main_exports": _kinds_to_json(abi.main_exports),
        "js_symbols": sorted(abi.js_symbols),
        "js_stubs": sorted(abi.js_stubs),
        "runtime_aliases": dict(abi.runtime_aliases),
        "special_symbols": sorted(abi.special_symbols),
        "symbol_prefixes": list(abi.symbol_prefixes),
        "library_packages": {
            name: {
                "version": package.version,
                "file_name": package.file_name,
                "libraries": None
                if package.libraries is None
                else {lib: _kinds_to_json(kinds) for lib, kinds in package.libraries.items()},
            }
            for name, package in abi.library_packages.items()
        },
    }
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _kinds_to_json(kinds: Mapping[str, frozenset[str]]) -> dict[str, list[str]]:
    return {kind: sorted(names) for kind, names in kinds.items()}


def abi_from_json(text: str, source: str = "<data>") -> PyodideAbi:
    try:
        data = json.loads(text)
        if data.get("format") != DATA_FORMAT:
            raise InvalidInput(f"{source}: data format {data.get('format')}, not {DATA_FORMAT}")
        return PyodideAbi(
            pyodide_version=data["pyodide"],
            python=data["python"],
            abi=data["abi"],
            emscripten=data["emscripten"],
            main_exports=_kinds_from_json(data["main_exports"]),
            js_symbols=frozenset(data["js_symbols"]),
            js_stubs=frozenset(data["js_stubs"]),
            runtime_aliases=dict(data["runtime_aliases"]),
            special_symbols=frozenset(data["special_symbols"]),
            symbol_prefixes=tuple(data["symbol_prefixes"]),
            library_packages={
                name: LibraryPackage(
                    name,
                    entry["version"],
                    entry["file_name"],
                    None
                    if entry["libraries"] is None
                    else {
                        lib: _kinds_from_json(kinds) for lib, kinds in entry["libraries"].items()
                    },
                )
                for name, entry in data["library_packages"].items()
            },
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InvalidInput(f"{source}: not a Pyodide ABI data file ({e!r})") from None


def _kinds_from_json(kinds: Mapping[str, list[str]]) -> dict[str, frozenset[str]]:
    return {kind: frozenset(names) for kind, names in kinds.items()}


def write_abi_file(abi: PyodideAbi, path: Path) -> None:
    """Write the data file; gzip-compressed (with a fixed header) if ``path`` ends in .gz."""
    path.write_bytes(_encode(abi_to_json(abi), path.name))


def read_abi_file(path: Path) -> PyodideAbi:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"{path}: cannot read ({e.strerror})") from None
    return abi_from_json(_decode(data, str(path)), str(path))


def _encode(text: str, name: str) -> bytes:
    data = text.encode("utf-8")
    return gzip.compress(data, compresslevel=9, mtime=0) if name.endswith(".gz") else data


def _decode(data: bytes, source: str) -> str:
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return data.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise InvalidInput(f"{source}: cannot decompress or decode ({e})") from None


# --- shipped data --------------------------------------------------------------------------


def data_file_name(version: str) -> str:
    """Name of the shipped data file for a Pyodide version (in ``emwheel/data``)."""
    return f"pyodide-abi-{version}.json.gz"


def available_versions() -> list[str]:
    """Pyodide versions with shipped data, oldest first."""
    data = resources.files("emwheel") / "data"
    if not data.is_dir():
        return []
    found = [m.group(1) for f in data.iterdir() if (m := _DATA_FILE.fullmatch(f.name))]
    return sorted(found, key=_version_key)


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def newest_shipped() -> PyodideAbi:
    versions = available_versions()
    if not versions:
        raise EmwheelError("no Pyodide ABI data is installed with emwheel")
    return load_shipped_abi(versions[-1])


def load_shipped_abi(version: str) -> PyodideAbi:
    name = data_file_name(version)
    resource = resources.files("emwheel") / "data" / name
    if not resource.is_file():
        known = ", ".join(available_versions()) or "none"
        raise InvalidInput(f"no ABI data for Pyodide {version} (shipped: {known})")
    return abi_from_json(_decode(resource.read_bytes(), name), name)
