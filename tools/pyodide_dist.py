#!/usr/bin/env python3
"""Assemble a local Pyodide distribution that works offline.

The npm package ``pyodide`` holds the core runtime but no package wheels: its
``pyodide-lock.json`` points at a CDN that may not be reachable. This script
builds a distribution folder that pytest-pyodide (``pytest --dist-dir=DIR --rt
node``) and plain Node (``loadPyodide({indexURL: DIR})``) can use:

1. ``npm pack pyodide@<version>`` and unpack the package into the dist folder;
2. fetch pinned pure-Python wheels (micropip, packaging, pytest and its
   dependencies, tblib) with ``pip download`` into a wheel cache, checking each
   file's sha256 against the table below;
3. copy the wheels into the dist folder and rewrite their ``pyodide-lock.json``
   entries (file_name, version, sha256, depends), adding entries that are missing.

Usage::

    python tools/pyodide_dist.py --version 314.0.7 [--cache DIR]

Prints the absolute path of ``<cache>/pyodide/<version>/dist`` on stdout and
nothing else; progress goes to stderr. The cache defaults to
``$EMWHEEL_DEV_CACHE`` or ``~/.cache/emwheel-dev``. A finished folder holds a
marker file written last; a folder without a matching marker is rebuilt. The
folder is built under a temporary name and renamed into place at the end.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER_NAME = ".emwheel-dist.json"
MARKER_FORMAT = 1


@dataclass(frozen=True)
class WheelPin:
    """One pure-Python wheel to place in the distribution."""

    name: str  # project name as pip spells it
    version: str
    file_name: str
    sha256: str
    imports: tuple[str, ...]
    depends: tuple[str, ...] = ()

    @property
    def lock_key(self) -> str:
        """Key of the package in pyodide-lock.json (normalized, lower case)."""
        return canonical_name(self.name)


# Pinned wheels, checked on PyPI. micropip 0.11.1 needs Python >= 3.13, so this
# table serves Pyodide 0.29.x (Python 3.13) and 314.x (Python 3.14) alike.
# pytest's depends leave out what Pyodide's own lock lists but pytest does not
# need (atomicwrites has no wheel on PyPI; more-itertools, py, setuptools).
# packaging is kept: pytest 9 declares it and imports it lazily
# (importorskip(minversion=...), minversion, required_plugins).
COMMON_WHEELS: tuple[WheelPin, ...] = (
    WheelPin(
        "micropip",
        "0.11.1",
        "micropip-0.11.1-py3-none-any.whl",
        "768de165adb8e66906039d8fec4127a57f522dfdf8e6fbff877a4616941ecfd3",
        ("micropip",),
    ),
    WheelPin(
        "packaging",
        "26.1",
        "packaging-26.1-py3-none-any.whl",
        "5d9c0669c6285e491e0ced2eee587eaf67b670d94a19e94e3984a481aba6802f",
        ("packaging",),
    ),
    WheelPin(
        "pytest",
        "9.0.2",
        "pytest-9.0.2-py3-none-any.whl",
        "711ffd45bf766d5264d487b917733b453d917afd2b0ad65223959f59089f875b",
        ("_pytest", "pytest"),
        (
            "attrs",
            "pluggy",
            "six",
            "iniconfig",
            "exceptiongroup",
            "pygments",
            "packaging",
        ),
    ),
    WheelPin(
        "attrs",
        "26.1.0",
        "attrs-26.1.0-py3-none-any.whl",
        "c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309",
        ("attr", "attrs"),
    ),
    WheelPin(
        "pluggy",
        "1.6.0",
        "pluggy-1.6.0-py3-none-any.whl",
        "e920276dd6813095e9377c0bc5566d94c932c33b27a3e3945d8389c374dd4746",
        ("pluggy",),
    ),
    WheelPin(
        "six",
        "1.17.0",
        "six-1.17.0-py2.py3-none-any.whl",
        "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274",
        ("six",),
    ),
    WheelPin(
        "iniconfig",
        "2.3.0",
        "iniconfig-2.3.0-py3-none-any.whl",
        "f631c04d2c48c52b84d0d0549c99ff3859c98df65b3101406327ecc7d53fbf12",
        ("iniconfig",),
    ),
    WheelPin(
        "exceptiongroup",
        "1.3.1",
        "exceptiongroup-1.3.1-py3-none-any.whl",
        "a7a39a3bd276781e98394987d3a5701d0c4edffb633bb7a5144577f82c773598",
        ("exceptiongroup",),
    ),
    WheelPin(
        "Pygments",
        "2.20.0",
        "pygments-2.20.0-py3-none-any.whl",
        "81a9e26dd42fd28a23a2d169d86d7ac03b46e2f8b59ed4698fb4785f946d0176",
        ("pygments",),
    ),
    WheelPin(
        "tblib",
        "3.2.2",
        "tblib-3.2.2-py3-none-any.whl",
        "26bdccf339bcce6a88b2b5432c988b266ebbe63a4e593f6b578b1d2e723d2b76",
        ("tblib",),
    ),
)

# Pyodide versions known to work with a wheel table. Add a version here (with
# its own table if the common one does not fit) after checking it.
WHEELS_BY_VERSION: dict[str, tuple[WheelPin, ...]] = {
    "314.0.7": COMMON_WHEELS,
    "0.29.3": COMMON_WHEELS,
}


class DistError(Exception):
    """A failure with a one-line message for the user."""


def log(message: str) -> None:
    """Print a progress line on stderr."""
    print(f"pyodide_dist: {message}", file=sys.stderr, flush=True)


def canonical_name(name: str) -> str:
    """Normalize a project name the way PEP 503 does."""
    out = name.lower()
    for sep in ("_", "."):
        out = out.replace(sep, "-")
    while "--" in out:
        out = out.replace("--", "-")
    return out


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache() -> Path:
    """Return the cache root from $EMWHEEL_DEV_CACHE or ~/.cache/emwheel-dev."""
    env = os.environ.get("EMWHEEL_DEV_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "emwheel-dev"


def run(cmd: list[str], what: str, cwd: Path | None = None) -> None:
    """Run a command with its output on stderr; raise DistError if it fails."""
    log(f"running: {' '.join(cmd)}")
    try:
        result = subprocess.run(cmd, cwd=cwd, stdout=sys.stderr, stderr=sys.stderr, check=False)
    except FileNotFoundError as exc:
        raise DistError(f"{what} failed: {cmd[0]} not found") from exc
    if result.returncode != 0:
        raise DistError(f"{what} failed: `{' '.join(cmd)}` exited with {result.returncode}")


def marker_content(version: str, wheels: tuple[WheelPin, ...]) -> dict[str, Any]:
    """What the marker of a finished distribution holds."""
    return {
        "format": MARKER_FORMAT,
        "pyodide": version,
        "wheels": {w.file_name: w.sha256 for w in wheels},
    }


def is_complete(dist: Path, expected: dict[str, Any]) -> bool:
    """True if `dist` was finished by this script with the same wheel table."""
    try:
        return bool(json.loads((dist / MARKER_NAME).read_text()) == expected)
    except (OSError, ValueError):
        return False


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` so parallel runs do not build twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def fetch_npm_package(version: str, dest: Path, work: Path) -> None:
    """Put the files of npm's pyodide@<version> into `dest`."""
    run(
        ["npm", "pack", "--silent", "--pack-destination", str(work), f"pyodide@{version}"],
        "npm pack",
    )
    tarballs = sorted(work.glob("pyodide-*.tgz"))
    if len(tarballs) != 1:
        raise DistError(f"npm pack failed: expected one pyodide tarball, found {len(tarballs)}")
    unpacked = work / "npm"
    with tarfile.open(tarballs[0]) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
            tar.extractall(unpacked, filter="data")
        else:
            tar.extractall(unpacked)  # tarball from the npm registry
    package = unpacked / "package"
    meta = json.loads((package / "package.json").read_text())
    if meta.get("version") != version:
        raise DistError(f"npm pack failed: got pyodide {meta.get('version')}, wanted {version}")
    shutil.copytree(package, dest)


def cached_wheel_ok(path: Path, pin: WheelPin) -> bool:
    """True if `path` exists and has the pinned sha256."""
    return path.is_file() and sha256_of(path) == pin.sha256


def download_wheels(pins: list[WheelPin], wheel_cache: Path) -> None:
    """Download `pins` with pip into `wheel_cache`, checking names and hashes."""
    wheel_cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=wheel_cache, prefix=".download-") as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download",
            "--quiet", "--disable-pip-version-check", "--no-deps",
            "--only-binary=:all:", "--ignore-requires-python",
            "--dest", tmp,
            *(f"{pin.name}=={pin.version}" for pin in pins),
        ]  # fmt: skip
        run(cmd, "wheel download")
        for pin in pins:
            got = Path(tmp) / pin.file_name
            if not got.is_file():
                raise DistError(f"wheel download failed: pip did not fetch {pin.file_name}")
            actual = sha256_of(got)
            if actual != pin.sha256:
                raise DistError(
                    f"sha256 mismatch for {pin.file_name}: expected {pin.sha256}, got {actual}"
                )
            os.replace(got, wheel_cache / pin.file_name)


def ensure_wheels(wheels: tuple[WheelPin, ...], wheel_cache: Path) -> None:
    """Make sure every pinned wheel is in `wheel_cache` with the right hash."""
    missing = [pin for pin in wheels if not cached_wheel_ok(wheel_cache / pin.file_name, pin)]
    if missing:
        log(f"downloading {len(missing)} wheel(s) into {wheel_cache}")
        download_wheels(missing, wheel_cache)
    else:
        log(f"all {len(wheels)} wheels found in {wheel_cache}")


def find_lock_key(packages: dict[str, Any], pin: WheelPin) -> str | None:
    """Find the lock entry for `pin`, matching keys and names loosely."""
    for key, entry in packages.items():
        if canonical_name(key) == pin.lock_key:
            return key
        if canonical_name(str(entry.get("name", ""))) == pin.lock_key:
            return key
    return None


def lock_entry(pin: WheelPin, old: dict[str, Any] | None) -> dict[str, Any]:
    """Build the lock entry for `pin`, keeping unrelated fields of `old`."""
    entry: dict[str, Any] = dict(old) if old else {
        "name": pin.name,
        "imports": list(pin.imports),
        "install_dir": "site",
        "package_type": "package",
        "unvendored_tests": False,
    }  # fmt: skip
    entry.update(
        version=pin.version,
        file_name=pin.file_name,
        sha256=pin.sha256,
        depends=list(pin.depends),
    )
    return entry


def rewrite_lock(lock_path: Path, wheels: tuple[WheelPin, ...]) -> None:
    """Point the lock entries of `wheels` at the local files."""
    lock = json.loads(lock_path.read_text())
    packages: dict[str, Any] = lock["packages"]
    for pin in wheels:
        key = find_lock_key(packages, pin)
        action = "updated" if key else "added"
        key = key or pin.lock_key
        packages[key] = lock_entry(pin, packages.get(key))
        log(f"lock: {action} {key} -> {pin.file_name}")
    lock_path.write_text(json.dumps(lock, indent=2, sort_keys=False) + "\n")


def build(version: str, wheels: tuple[WheelPin, ...], cache: Path, dist: Path) -> None:
    """Build the distribution under a temporary name, then rename it to `dist`."""
    ensure_wheels(wheels, cache / "wheels")
    with tempfile.TemporaryDirectory(dir=dist.parent, prefix=".build-") as tmp:
        work = Path(tmp)
        staged = work / "dist"
        fetch_npm_package(version, staged, work)
        for pin in wheels:
            shutil.copy2(cache / "wheels" / pin.file_name, staged / pin.file_name)
        rewrite_lock(staged / "pyodide-lock.json", wheels)
        marker = json.dumps(marker_content(version, wheels), indent=2) + "\n"
        (staged / MARKER_NAME).write_text(marker)
        if dist.exists():
            log(f"removing incomplete or outdated {dist}")
            shutil.rmtree(dist)
        os.rename(staged, dist)


def assemble(version: str, cache: Path) -> Path:
    """Return the path of a finished distribution, building it if needed."""
    wheels = WHEELS_BY_VERSION.get(version)
    if wheels is None:
        known = ", ".join(WHEELS_BY_VERSION)
        raise DistError(f"unsupported Pyodide version {version} (known: {known})")
    root = (cache / "pyodide" / version).absolute()
    dist = root / "dist"
    expected = marker_content(version, wheels)
    if is_complete(dist, expected):
        return dist
    with locked(root / ".lock"):
        if is_complete(dist, expected):  # another run finished while we waited
            return dist
        log(f"assembling Pyodide {version} in {dist}")
        build(version, wheels, cache.absolute(), dist)
    return dist


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", required=True, help="Pyodide version, e.g. 314.0.7")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="cache root (default: $EMWHEEL_DEV_CACHE or ~/.cache/emwheel-dev)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    cache: Path = args.cache or default_cache()
    try:
        dist = assemble(args.version, cache)
    except DistError as exc:
        print(f"pyodide_dist: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"pyodide_dist: error: {exc}", file=sys.stderr)
        return 1
    print(dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
