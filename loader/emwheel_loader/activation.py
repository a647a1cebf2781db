"""`activate()` and `deactivate()`: the loader's patch on a running Pyodide.

Two hooks, both on functions Pyodide looks up at each call:

- ``pyodide._package_loader.unpack_buffer`` is wrapped: every archive is unpacked with each
  file sized before it is written (sized_unpack.py). After a wheel is unpacked, if it
  carries an emwheel manifest, its files and dependencies are checked (load_plan) and the
  list of libraries to dlopen is replaced by the manifest's: shared libraries first, each
  after what it needs, then extension modules. A wheel without a manifest is otherwise
  left alone.
- ``Module._emscripten_dlopen_promise`` is replaced by dlopen_hook.js, which loads those
  planned modules as the plan says (RTLD_GLOBAL for shared libraries, dependencies first,
  errors naming the wheel) and passes every other path through.

Each file's content is checked against the manifest before it is loaded: its CRC-32, which
zipfile computed and checked against the zip entry's as it unpacked the file, must be the
manifest's (free: nothing is read again). A file that check cannot cover (a version-1
manifest) is checked by sha256: in the hook with the platform's native digest while the
installer loads, each module waiting for its own file's digest; where that digest is
missing, with hashlib here, before anything is loaded. A last step in the wheel's list (its
path is the manifest's) waits for every digest, and for the compiles of modules Python will
import later. Each step's time is kept per wheel (`install_timings`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import LoadError
from .import_watch import ImportWatch
from .load_plan import (
    ModuleLoad,
    WheelLoadPlan,
    check_crcs,
    check_files,
    check_hashes,
    plan_loads,
)
from .manifest import MANIFEST_FILENAME, Manifest, ModuleEntry
from .pyodide_internals import PyodideInternals, require_internals
from .sized_unpack import sized_unpacking
from .timings import InstallTimings, measure

__all__ = ["activate", "deactivate", "install_timings", "is_active"]

_INSTALLED_BY_LOAD_PACKAGE = "pyodide.loadPackage"


# Chromium refuses to compile or instantiate a module over 8 MiB synchronously on a page's
# main thread, and Python's import of an extension is a synchronous dlopen: such modules
# are loaded at install time. Node and Web Workers have no such limit, but they get the
# same rule: one load plan everywhere, and in Node it is also the faster one (grill-usd-core,
# three modules over 8 MiB: install + first use 3.8 s this way, 4.4 s loading them on
# import; docs/benchmarks.md).
SYNC_LOAD_LIMIT = 8 * 1024 * 1024
# Modules at least this large are compiled ahead, off the JavaScript thread: those the
# install loads, from the moment the wheel is planned (overlapped with the hashing and the
# loads before theirs), and in lazy mode those loaded on import, during the install.
# Smaller ones compile in a few milliseconds at their load, and compiling them ahead would
# only cost those never imported.
PRECOMPILE_MIN = 256 * 1024


class _Loader:
    def __init__(self, internals: PyodideInternals, verify_hashes: bool, lazy: bool) -> None:
        from pyodide.code import run_js  # type: ignore[import-not-found]

        self.internals = internals
        self.verify_hashes = verify_hashes
        self.lazy = lazy
        # The package is always unpacked in Pyodide (micropip, or the npm package writing it
        # into site-packages): its files sit next to this one. importlib.resources would do
        # the same and leave eight more modules in the heap of every session.
        here = Path(__file__).parent
        hook = run_js((here / "dlopen_hook.js").read_text(encoding="utf-8"))
        immutable_globals = run_js((here / "immutable_globals.js").read_text(encoding="utf-8"))
        self.hook = hook(internals.module, internals.pyodide_js, immutable_globals)
        self.original_unpack = internals.package_loader.unpack_buffer
        self.timings: dict[str, InstallTimings] = {}  # by wheel, in install order
        self.import_watch = ImportWatch(
            self.hook.beginImport, self.hook.endImport, lambda path: self.hook.describe(path)
        )

    def install(self) -> None:
        self.internals.package_loader.unpack_buffer = self.unpack_buffer
        self.internals.module._emscripten_dlopen_promise = self.hook.dlopen
        self.import_watch.install()

    def uninstall(self) -> None:
        self.internals.package_loader.unpack_buffer = self.original_unpack
        self.internals.module._emscripten_dlopen_promise = self.hook.original
        self.import_watch.uninstall()

    def unpack_buffer(self, *args: Any, **kwargs: Any) -> Any:
        with sized_unpacking() as checked_crcs:  # the same files, each allocated once
            result = self.original_unpack(*args, **kwargs)
        filename = str(kwargs.get("filename") or "").rpartition("/")[-1]
        if not kwargs.get("calculate_dynlibs") or not filename.endswith(".whl"):
            return result
        timings = InstallTimings(filename)
        with measure(timings, "manifest"):
            root = Path(kwargs.get("extract_dir") or ".").resolve()
            manifest_file = _find_manifest(root, filename)
        if manifest_file is None:
            return result  # no manifest: exactly what stock Pyodide does
        self.timings.pop(filename, None)
        self.timings[filename] = timings
        installer = _installer(kwargs.get("metadata"))
        paths = self.prepare(filename, manifest_file, root, installer, timings, checked_crcs)
        from pyodide.ffi import to_js  # type: ignore[import-not-found]

        return to_js(paths)

    def prepare(
        self,
        wheel: str,
        manifest_file: Path,
        root: Path,
        installer: str,
        timings: InstallTimings,
        checked_crcs: dict[str, int],
    ) -> list[str]:
        """Check the wheel and plan its loads; the paths its installer must dlopen now."""
        with measure(timings, "manifest"):
            manifest = _read_manifest(wheel, manifest_file)
        timings.modules = len(manifest.modules)
        by_sha256: list[ModuleEntry] = []
        with measure(timings, "checks"):
            runtime_paths = check_files(wheel, manifest, root)
            if self.verify_hashes:
                by_sha256 = check_crcs(wheel, manifest, root, checked_crcs)
                timings.crc_checked = len(manifest.modules) - len(by_sha256)
        native = bool(self.hook.nativeDigest)
        by_webcrypto = by_sha256 if native else []
        timings.hash_method = _hash_method(
            self.verify_hashes, timings.crc_checked, len(by_sha256), native
        )
        if by_sha256 and not by_webcrypto:
            with measure(timings, "hashing"):
                timings.hashed_bytes = check_hashes(wheel, by_sha256, root)
            timings.hashing_wall_seconds = timings.hashing_seconds
        with measure(timings, "planning"):
            plan = self.plan(wheel, manifest, root, runtime_paths, installer)
            paths = [m.path for m in plan.modules if not self.lazy or load_now(m)]
            timings.loaded_at_install = len(paths)
            self.compile_for_install(wheel, plan, paths)
            if by_webcrypto:
                self.expect_hashes(wheel, by_webcrypto, root, paths)
            compiling = self.lazy and self.precompile(wheel, plan, set(paths))
            if by_webcrypto or compiling:  # a last step to wait for them in
                paths.append(manifest_file.as_posix())
                self.hook.checkStep(wheel, manifest_file.as_posix())
        return paths

    def compile_for_install(self, wheel: str, plan: WheelLoadPlan, load_now: list[str]) -> None:
        """Have the hook compile the modules loaded now, in load order, while the files are
        hashed and earlier ones load (small ones compile in a few milliseconds at their load)."""
        from pyodide.ffi import to_js

        large = {m.path for m in plan.modules if m.size >= PRECOMPILE_MIN}
        ahead = [path for path in load_now if path in large]
        if ahead:
            self.hook.compileForInstall(wheel, to_js(ahead))

    def precompile(self, wheel: str, plan: WheelLoadPlan, load_now: set[str]) -> bool:
        """Have the hook compile, during the install, the modules Python will import later
        (the install's check step must wait for them); whether there are any."""
        from pyodide.ffi import to_js

        later = [
            m.path for m in plan.modules if m.path not in load_now and m.size >= PRECOMPILE_MIN
        ]
        if later:
            self.hook.precompile(wheel, to_js(later))
        return bool(later)

    def plan(
        self,
        wheel: str,
        manifest: Manifest,
        root: Path,
        runtime_paths: dict[str, tuple[str, ...]],
        installer: str,
    ) -> WheelLoadPlan:
        plan = plan_loads(
            wheel,
            manifest,
            root,
            runtime_paths,
            pyodide_packages=set(self.internals.api.lockfile_packages.object_keys()),
            library_path=tuple(p for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p),
            known_libraries=lambda name: name if self.hook.knows(name) else None,
        )
        from pyodide.ffi import to_js

        self.hook.forget(wheel)
        for module in plan.modules:
            self.hook.plan(
                module.path,
                wheel,
                module.library,
                module.global_,
                to_js([list(item) for item in module.aliases.items()]),
                to_js(list(module.pyodide_packages)),
                to_js(list(module.from_other_wheels)),
                installer == _INSTALLED_BY_LOAD_PACKAGE,
            )
        for name, path in plan.provides.items():
            self.hook.provide(name, path, wheel)
        return plan  # not kept: the hook holds what it needs, Python's heap stays as stock's

    def expect_hashes(
        self, wheel: str, files: list[ModuleEntry], root: Path, load_now: list[str]
    ) -> None:
        """Have the hook start the digests of these files, those loaded now first, in load
        order (the check step waits for all of them)."""
        from pyodide.ffi import to_js

        order = {path: i for i, path in enumerate(load_now)}
        files = sorted(files, key=lambda m: order.get((root / m.path).as_posix(), len(order)))
        entries = [[(root / m.path).as_posix(), m.path, m.sha256] for m in files]
        self.hook.expectHashes(wheel, to_js(entries))

    def timings_of(self, timings: InstallTimings) -> InstallTimings:
        """A copy of ``timings`` completed with what the hook measured (in milliseconds)."""
        measured = self.hook.timingsOf(timings.wheel)
        result = replace(
            timings,
            hook_seconds=measured.hook / 1000,
            loading_seconds=measured.loading / 1000,
            got_listing_seconds=measured.walkListing / 1000,
            compiled_for_install=int(measured.compiledForInstall),
            compiled_ahead=int(measured.compiledAhead),
            compiled_ahead_used=int(measured.compiledUsed),
            compiling_wall_seconds=measured.compilingWall / 1000,
            compile_wait_seconds=measured.compileWait / 1000,
        )
        if timings.hash_method.endswith("webcrypto"):
            result.hashing_seconds = measured.hashing / 1000
            result.hashing_wall_seconds = measured.hashingWall / 1000
            result.hashed_bytes = int(measured.hashedBytes)
        return result


def load_now(module: ModuleLoad) -> bool:
    """In lazy mode: what must still be loaded at install time. Everything else is an
    extension module that Python's import loads when it is first imported."""
    if module.kind != "extension" or module.pyodide_packages or module.wait_for:
        return True  # libraries, and what needs an asynchronous step first
    return module.size > SYNC_LOAD_LIMIT


def _hash_method(verify: bool, crc_checked: int, by_sha256: int, native: bool) -> str:
    """How the files were checked (InstallTimings.hash_method)."""
    if not verify:
        return "off"
    methods = ["crc32"] if crc_checked else []
    if by_sha256:
        methods.append("webcrypto" if native else "hashlib")
    return "+".join(methods) or "crc32"


def _read_manifest(wheel: str, manifest_file: Path) -> Manifest:
    try:
        data = manifest_file.read_bytes()
    except OSError as e:
        raise LoadError(wheel, MANIFEST_FILENAME, f"cannot be read ({e})") from None
    return Manifest.from_json(data, f"{wheel}: {MANIFEST_FILENAME}")


def _installer(metadata: Any) -> str:
    if metadata is None:
        return ""
    try:
        value = metadata.get("INSTALLER")
    except AttributeError:
        return ""
    return str(value or "")


def _find_manifest(root: Path, wheel_filename: str) -> Path | None:
    """The manifest this wheel installed, found through its RECORD (any --lib-sdir)."""
    name, version = wheel_filename.split("-")[:2]
    record = root / f"{name}-{version}.dist-info" / "RECORD"
    try:
        lines = record.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        path = line.split(",", 1)[0]
        if path.count("/") == 1 and path.endswith("/" + MANIFEST_FILENAME):
            return root / path
    default = root / f"{name}.libs" / MANIFEST_FILENAME
    return default if default.is_file() else None


_loader: _Loader | None = None


def activate(
    *, verify_hashes: bool = True, provider_grace_seconds: float = 1.0, lazy: bool = True
) -> None:
    """Load every wheel installed from now on by its manifest, when it has one.

    ``verify_hashes``: check every file against the manifest, by the CRC-32 zipfile checked
    while unpacking it, or by sha256 for a version-1 manifest (none is loaded before its
    own check passed; docs/loader.md, "The integrity check").
    ``lazy``: load shared libraries (and modules over 8 MiB) at install time, and extension
    modules when Python first imports them; ``lazy=False`` loads everything at install.
    ``provider_grace_seconds``: how long a module whose library another wheel provides
    waits for that wheel to be unpacked (wheels of one micropip call arrive together).
    Activating again only updates these options.
    """
    global _loader
    if _loader is None:
        _loader = _Loader(require_internals(), verify_hashes, lazy)
        _loader.install()
    _loader.verify_hashes = verify_hashes
    _loader.lazy = lazy
    _loader.hook.providerGraceMs = int(provider_grace_seconds * 1000)


def deactivate() -> None:
    """Restore stock behaviour. Libraries already loaded stay loaded."""
    global _loader
    if _loader is not None:
        _loader.uninstall()
        _loader = None


def is_active() -> bool:
    return _loader is not None


def install_timings() -> list[InstallTimings]:
    """The loader's own work on each wheel installed with a manifest since activation, in
    install order (a wheel installed again: its last install). Empty when not active."""
    if _loader is None:
        return []
    return [_loader.timings_of(t) for t in _loader.timings.values()]
