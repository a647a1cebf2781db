"""What loading a wheel by its manifest means, decided and checked before any dlopen.

Pure Python and independent of Pyodide, so it runs on the host too. Given a wheel's manifest
and the folder it was unpacked into, three steps (which the runtime loader times apart):
`check_files` checks every file (inside the install root, not named like a library of
Pyodide's main module, present, size as the manifest says, WebAssembly with a dylink.0
section, NEEDED as the manifest says), `check_crcs` and `check_hashes` check each file's
content (its CRC-32 as zipfile checked it while unpacking, else its sha256), and
`plan_loads` resolves every dependency (a file of the wheel, a Pyodide package, or a
library another wheel provides) and returns the modules in load order with how to load
each; `plan_wheel_load` does all three. A failed dlopen leaves
Emscripten's cache poisoned, so nothing is loaded unless everything checks out.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .dylink import read_dylink_prefix
from .errors import LoadError, WasmFormatError
from .manifest import Manifest, ModuleEntry, is_safe_relative_path
from .system_libraries import system_library_name

__all__ = [
    "ModuleLoad",
    "WheelLoadPlan",
    "check_crcs",
    "check_files",
    "check_hashes",
    "plan_loads",
    "plan_wheel_load",
]

HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModuleLoad:
    path: str  # absolute path in the Emscripten file system
    kind: str  # "extension" or "shared"
    library: str  # the manifest path, for messages
    global_: bool  # shared libraries are loaded with RTLD_GLOBAL
    size: int  # bytes, as checked against the manifest
    # Keys under which Emscripten will look this module's dependencies up, each mapped to
    # the absolute path of the library it must find (see `_lookup_keys`).
    aliases: dict[str, str] = field(default_factory=dict)
    pyodide_packages: tuple[str, ...] = ()  # to load before this module
    # Library names another wheel provides (excluded at repair time): all of them, which the
    # hook has loaded before this module; and those of them no wheel planned so far
    # provides, which make the hook wait for a wheel to announce them.
    from_other_wheels: tuple[str, ...] = ()
    wait_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class WheelLoadPlan:
    wheel: str
    modules: tuple[ModuleLoad, ...]  # in load order
    provides: dict[str, str]  # library file name -> absolute path, for other wheels


def plan_wheel_load(
    wheel: str,
    manifest: Manifest,
    install_root: Path,
    *,
    pyodide_packages: Collection[str],
    library_path: tuple[str, ...] = (),
    known_libraries: Callable[[str], str | None] = lambda name: None,
    verify_hashes: bool = True,
) -> WheelLoadPlan:
    """Check the wheel's files (and hashes) and dependencies, then plan the loads: the three
    steps below in one call. Raises LoadError naming what is wrong.

    ``pyodide_packages``: the packages of the running Pyodide's lock file.
    ``library_path``: LD_LIBRARY_PATH folders (Emscripten searches them before RUNTIME_PATH).
    ``known_libraries``: finds a library another wheel provides, by file name.
    """
    root = install_root.resolve()
    runtime_paths = check_files(wheel, manifest, root)
    if verify_hashes:
        check_hashes(wheel, manifest.modules, root)
    return plan_loads(
        wheel,
        manifest,
        root,
        runtime_paths,
        pyodide_packages=pyodide_packages,
        library_path=library_path,
        known_libraries=known_libraries,
    )


def check_files(wheel: str, manifest: Manifest, root: Path) -> dict[str, tuple[str, ...]]:
    """Check that every file is where the manifest says and is what it says (size, header,
    NEEDED list); return each module's RUNTIME_PATH. ``root``: the resolved install root."""
    return {entry.path: _check_file(wheel, entry, root) for entry in manifest.modules}


def check_crcs(
    wheel: str, manifest: Manifest, root: Path, checked_crcs: Mapping[str, int]
) -> list[ModuleEntry]:
    """Compare each file's CRC-32 with the manifest's; return the files this cannot check.

    ``checked_crcs``: by absolute path, the CRC-32 zipfile computed of each file it unpacked
    and compared with the zip entry's (sized_unpack). A file the manifest gives no crc32
    (version 1) or that is not among them is left to `check_hashes`.
    """
    unchecked = []
    for entry in manifest.modules:
        actual = checked_crcs.get(os.path.abspath(root / entry.path))
        if entry.crc32 is None or actual is None:
            unchecked.append(entry)
        elif actual != entry.crc32:
            raise LoadError(
                wheel,
                entry.path,
                f"crc32 mismatch: the file has {actual:08x}, the manifest says {entry.crc32:08x}",
            )
    return unchecked


def check_hashes(wheel: str, entries: Iterable[ModuleEntry], root: Path) -> int:
    """Check each file's sha256 against the manifest with hashlib; return the bytes hashed.

    The runtime loader hashes natively in JavaScript where it can (dlopen_hook.js); this is
    its fallback, and the host's way.
    """
    hashed = 0
    for entry in entries:
        _check_hash(wheel, entry, root)
        hashed += entry.size
    return hashed


def plan_loads(
    wheel: str,
    manifest: Manifest,
    root: Path,
    runtime_paths: dict[str, tuple[str, ...]],
    *,
    pyodide_packages: Collection[str],
    library_path: tuple[str, ...] = (),
    known_libraries: Callable[[str], str | None] = lambda name: None,
) -> WheelLoadPlan:
    """The modules to load, in load order, with how to load each; the files are checked
    (``runtime_paths`` comes from `check_files`). Raises LoadError for a dependency that
    nothing can satisfy."""
    absolute = {m.path: (root / m.path).as_posix() for m in manifest.modules}
    entries = {m.path: m for m in manifest.modules}
    loads = {
        entry.path: _module_load(
            wheel,
            entry,
            absolute,
            runtime_paths[entry.path],
            pyodide_packages,
            library_path,
            known_libraries,
        )
        for entry in manifest.modules
    }
    side_modules = tuple(
        loads[path] for path in manifest.load_order if path in entries and entries[path].side_module
    )
    provides = {
        posixpath.basename(m.path): absolute[m.path]
        for m in manifest.modules
        if m.kind == "shared" and m.side_module
    }
    return WheelLoadPlan(wheel, side_modules, provides)


def _check_file(wheel: str, entry: ModuleEntry, root: Path) -> tuple[str, ...]:
    """Check that the file is where the manifest says and is what it says; return its
    RUNTIME_PATH."""
    if not is_safe_relative_path(entry.path):
        raise LoadError(wheel, entry.path, "the manifest points outside the install folder")
    system = system_library_name(entry.path)
    if system is not None:
        # Loaded globally, it would be registered under names such as "libc.so" (see
        # system_libraries for why a second copy can only interfere).
        raise LoadError(
            wheel, entry.path, f"named like {system}, which Pyodide's main module already holds"
        )
    path = root / entry.path
    try:
        size = path.stat().st_size
    except OSError:
        raise LoadError(wheel, entry.path, "missing (the manifest lists it)") from None
    if size != entry.size:
        raise LoadError(wheel, entry.path, f"corrupt: {size} bytes, the manifest says {entry.size}")
    if not entry.side_module:
        return ()
    try:
        with open(path, "rb") as stream:
            dylink = read_dylink_prefix(stream)
    except WasmFormatError as e:
        raise LoadError(wheel, entry.path, f"corrupt: {e}") from None
    if dylink is None:
        raise LoadError(wheel, entry.path, "corrupt: no dylink.0 section")
    listed = tuple(n.name for n in entry.needed)
    if dylink.needed != listed:
        raise LoadError(
            wheel,
            entry.path,
            f"corrupt: NEEDED is {list(dylink.needed)}, the manifest says {list(listed)}",
        )
    return dylink.runtime_path


def _check_hash(wheel: str, entry: ModuleEntry, root: Path) -> None:
    digest = hashlib.sha256()
    with open(root / entry.path, "rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != entry.sha256:
        raise LoadError(
            wheel,
            entry.path,
            f"sha256 mismatch: the file has {digest.hexdigest()}, the manifest says {entry.sha256}",
        )


def _module_load(
    wheel: str,
    entry: ModuleEntry,
    absolute: dict[str, str],
    runtime_path: tuple[str, ...],
    pyodide_packages: Collection[str],
    library_path: tuple[str, ...],
    known_libraries: Callable[[str], str | None],
) -> ModuleLoad:
    own_path = absolute[entry.path]
    aliases: dict[str, str] = {}
    packages: list[str] = []
    from_other_wheels: list[str] = []
    wait_for: list[str] = []
    for needed in entry.needed:
        if needed.path is not None:
            target = absolute[needed.path]
            keys = _lookup_keys(needed.name, own_path, runtime_path, library_path, target)
            for key in keys:
                aliases.setdefault(key, target)
        elif needed.external is not None and needed.external.kind == "pyodide":
            package = needed.external.package or ""
            if package not in pyodide_packages:
                raise LoadError(
                    wheel,
                    entry.path,
                    f"needs {needed.name} from Pyodide package {package!r}, "
                    "which this Pyodide does not have",
                )
            packages.append(package)
        else:  # excluded at repair time: another wheel provides it
            from_other_wheels.append(needed.name)
            if known_libraries(needed.name) is None:
                wait_for.append(needed.name)
    return ModuleLoad(
        path=own_path,
        kind=entry.kind,
        library=entry.path,
        global_=entry.kind == "shared",
        size=entry.size,
        aliases=aliases,
        pyodide_packages=tuple(packages),
        from_other_wheels=tuple(from_other_wheels),
        wait_for=tuple(wait_for),
    )


def _lookup_keys(
    name: str,
    module_path: str,
    runtime_path: tuple[str, ...],
    library_path: tuple[str, ...],
    target: str,
) -> list[str]:
    """The names under which Emscripten will look this NEEDED library up in its cache.

    It takes the first existing ``folder/name`` over the LD_LIBRARY_PATH folders, then the
    RUNTIME_PATH entries (``$ORIGIN`` replaced by the module's folder), not normalized
    (Pyodide 314 normalizes it, 0.29 does not); with none, it keeps the bare name.
    Registering the loaded library under these keys makes every lookup find the one copy.
    """
    keys = [name]
    folders = list(library_path)
    for entry in runtime_path:
        if entry.startswith("$ORIGIN"):
            entry = posixpath.dirname(module_path) + entry[len("$ORIGIN") :]
        folders.append(entry)
    for folder in folders:
        joined = f"{folder}/{name}"
        if os.path.isfile(joined):
            if posixpath.normpath(joined) == target:
                keys += [joined, posixpath.normpath(joined)]
            break
    return list(dict.fromkeys(keys))
