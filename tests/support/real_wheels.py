"""Real Emscripten wheels from PyPI, pinned by file name and sha256, cached on disk.

They are fetched with ``pip download`` (for the Emscripten platform tag of each), then
checked against the pinned name and hash. Run as a script to download them all ahead of
the tests: ``python tests/support/real_wheels.py``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from support.cache import cache_root
else:
    from .cache import cache_root


@dataclass(frozen=True)
class RealWheel:
    key: str
    requirement: str  # name==version, for pip
    filename: str
    sha256: str
    size: int
    shows: str  # what this wheel is in the test set for

    @property
    def pip_platform_args(self) -> list[str]:
        """pip download options that select this wheel's tags."""
        (tag,) = parse_wheel_filename(self.filename)[3]
        if tag.platform == "any":
            return []
        args = ["--platform", tag.platform, "--implementation", "cp", "--abi", tag.abi]
        if tag.interpreter.startswith("cp"):
            args += ["--python-version", f"{tag.interpreter[2]}.{tag.interpreter[3:]}"]
        return args


REAL_WHEELS = {
    w.key: w
    for w in (
        RealWheel(
            "awkward-cpp",
            "awkward-cpp==57",
            "awkward_cpp-57-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
            "e21c6f2ba1ba560a613c7acfe63e150736895fd4cf7bb48bc6dbff83a3435667",
            235559,
            "extension NEEDs a library inside the package ($ORIGIN)",
        ),
        RealWheel(
            "awkward-cpp-cp313",
            "awkward-cpp==57",
            "awkward_cpp-57-cp313-cp313-pyemscripten_2025_0_wasm32.whl",
            "0c5b66f8ac094a9f9e26b5558c28691a327c626fd6af73b3026aa146ee6e0289",
            234426,
            "the same for Pyodide 0.28/0.29 (Python 3.13)",
        ),
        RealWheel(
            "xtbloom",
            "xtbloom==0.2.3",
            "xtbloom-0.2.3-py3-none-pyemscripten_2026_0_wasm32.whl",
            "6ee49f9454c8590aa223213e7c5ba89b0ac28bf571b8c221b2498316eac7218f",
            3486310,
            "hash-renamed library in xtbloom.libs/; libraries loaded by ctypes",
        ),
        RealWheel(
            "grill-usd-core",
            "grill-usd-core==26.8",
            "grill_usd_core-26.8-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
            "278c8782601a5a6ca9e1ab663c3ac9075b97639a071cf1c9de0ea5ce0be2acd9",
            11790256,
            "29 extensions NEED a 27 MB library in .libs/; malformed IMPORT_INFO",
        ),
        RealWheel(
            "mypy",
            "mypy==2.4.1",
            "mypy-2.4.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
            "0e95ad0bec03ced9a73b42514208abd24c789e67f0e1eba476e276dd7a2dea3a",
            7898637,
            "233 extension modules, no libraries",
        ),
        RealWheel(
            "cadquery-ocp",
            "cadquery-ocp-novtk-ocp-wasm==8.0.1.1.post202609241841",
            "cadquery_ocp_novtk_ocp_wasm-8.0.1.1.post202609241841-cp314-cp314-"
            "pyemscripten_2026_0_wasm32.whl",
            "1bc957b6574c8a62a5fb33f03d054af41febbeb809a89bd08b045b17ec3e90d5",
            22714552,
            "one 152 MB module",
        ),
        RealWheel(
            "pyoqs-wasm",
            "pyoqs-wasm==0.15.0",
            "pyoqs_wasm-0.15.0-py3-none-any.whl",
            "0543f1cac5a36525c64c1f9ba610485f92274e4346a714e1a9047f68f849aab9",
            575998,
            "a wasm library inside a wheel tagged pure Python",
        ),
    )
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_real_wheel(key: str) -> Path:
    """The cached wheel file, downloaded and checked against its sha256 on first use."""
    return fetch_pinned_wheel(REAL_WHEELS[key])


def fetch_pinned_wheel(wheel: RealWheel) -> Path:
    """The same for a wheel pinned elsewhere (the benchmarks pin a few of their own)."""
    folder = cache_root() / "real-wheels" / wheel.sha256[:16]
    target = folder / wheel.filename
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--ignore-requires-python", "--dest", tmp,
            *wheel.pip_platform_args, wheel.requirement,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        downloaded = Path(tmp) / wheel.filename
        if result.returncode != 0 or not downloaded.is_file():
            raise RuntimeError(f"pip download of {wheel.filename} failed:\n{result.stderr}")
        actual = _sha256(downloaded)
        if actual != wheel.sha256:
            raise RuntimeError(f"{wheel.filename}: sha256 {actual} does not match {wheel.sha256}")
        downloaded.rename(target)
    return target


if __name__ == "__main__":
    for key in REAL_WHEELS:
        print(fetch_real_wheel(key))
