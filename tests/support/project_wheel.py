"""emwheel's own wheel, built from the working tree: what a notebook installs with micropip.

The build runs on a copy of the sources (pyproject.toml, setup.py, README.md, repair/,
loader/) so that setuptools' build/ and egg-info folders never appear in the shared working
tree, with EMWHEEL_PURE_PYTHON=1 (no compiled loops: the wheel is for Pyodide), and
without pip's build isolation when this Python has the build-system's requirements
(setuptools >= 69, from the test extra), so without network; with it otherwise (a venv
made before that may hold an older setuptools). Cached by a hash of those sources: a
rebuild only when they change.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tomllib
from fnmatch import fnmatch
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from .cache import cached_build, run_tool

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "repair", "loader")
IGNORED = ("__pycache__", "*.egg-info", "build", "*.so")  # *.so: an editable install's


def _source_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        if path.is_file():
            files.append(path)
            continue
        for file in sorted(path.rglob("*")):
            parts = file.relative_to(ROOT).parts
            ignored = any(fnmatch(part, pattern) for part in parts for pattern in IGNORED)
            if file.is_file() and not ignored:
                files.append(file)
    return files


def _sources_key() -> str:
    digest = hashlib.sha256()
    for file in _source_files():
        digest.update(str(file.relative_to(ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _build_requirements_installed() -> bool:
    """Whether this Python has what pyproject.toml's [build-system] requires."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for line in requires:
        requirement = Requirement(line)
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            return False
        if not requirement.specifier.contains(installed, prereleases=True):
            return False
    return True


def build_project_wheel() -> Path:
    """The path of emwheel-<version>-py3-none-any.whl for the working tree's sources."""

    def build(folder: Path) -> None:
        source = folder / "src"
        source.mkdir()
        for name in SOURCES:
            path = ROOT / name
            if path.is_file():
                shutil.copy(path, source / name)
            else:
                shutil.copytree(path, source / name, ignore=shutil.ignore_patterns(*IGNORED))
        command = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
        if _build_requirements_installed():
            command.append("--no-build-isolation")  # no download of setuptools
        command += ["--no-deps", "-w", str(folder / "wheel"), str(source)]
        run_tool(command, folder, env={"EMWHEEL_PURE_PYTHON": "1"})
        shutil.rmtree(source)

    out = cached_build("project-wheel", _sources_key(), (), build)
    (wheel,) = (out / "wheel").glob("emwheel-*-py3-none-any.whl")
    return wheel


if __name__ == "__main__":
    print(build_project_wheel())
