"""A Pyodide target read from a local distribution folder (its pyodide-lock.json).

The lock file gives the ABI, the Python and Emscripten versions, and the shared-library
packages. When a package's file is in the folder, the libraries it provides are read from
it; otherwise they come from emwheel's table for known Pyodide packages.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from .errors import InvalidInput
from .pyodide_targets import PyodideTarget, known_library_files

__all__ = ["target_from_distribution"]

LOCK_FILE = "pyodide-lock.json"


def target_from_distribution(dist: Path) -> PyodideTarget:
    lock_path = dist / LOCK_FILE
    try:
        lock = json.loads(lock_path.read_text())
        info = lock["info"]
        packages = lock["packages"]
        abi = f"pyemscripten_{info['abi_version']}"
        python = ".".join(str(info["python"]).split(".")[:2])
        emscripten = str(info["platform"]).removeprefix("emscripten_").replace("_", ".")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidInput(f"{lock_path}: not a readable Pyodide lock file ({e})") from None
    libraries: dict[str, str] = {}
    for name, package in sorted(packages.items()):
        if package.get("package_type") != "shared_library":
            continue
        archive = dist / str(package.get("file_name", ""))
        if archive.is_file() and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                provided = [
                    n.rsplit("/", 1)[-1] for n in zf.namelist() if ".so" in n.rsplit("/", 1)[-1]
                ]
        else:
            provided = known_library_files(name)
        for so_name in provided:
            libraries.setdefault(so_name, name)
    return PyodideTarget(
        abi=abi,
        pyodide_versions=str(info.get("version") or f"distribution at {dist}"),
        python=python,
        emscripten=emscripten,
        platform_tags=(f"{abi}_wasm32",),
        shared_libraries=libraries,
    )
